"""Real parts to break on purpose: a redis-server of our own (restartable, AOF on) and Celery worker processes
on it (SIGKILL the pool process, or the whole worker). Used by tests/site/test_faults.py and benchmarks/faults.py.
Never touches any other Redis: the server is started here on a free port and stopped here.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nmt_site.local_redis import _free_port, answers, start_embedded

from .conftest import WorkerProcess

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != b"Z":
            found.append(int(entry))
    return found


@dataclass
class Worker(WorkerProcess):
    def pool_pids(self) -> list[int]:
        return children(self.process.pid)


class FaultRig:
    def __init__(self, workdir: Path, env: dict, queues: list[str]):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.env = env
        self.queues = queues
        self.redis: subprocess.Popen | None = None
        self.workers: list[Worker] = []

    # --- redis ------------------------------------------------------------------------------------------

    def start_redis(self) -> None:
        _, self.redis = start_embedded(self.workdir / "redis", port=self.port)

    def stop_redis(self) -> None:
        """SIGTERM: redis-server flushes its AOF and exits, as a restart by an operator would."""
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=30)
        deadline = time.monotonic() + 10
        while answers(self.url, timeout=0.2) and time.monotonic() < deadline:
            time.sleep(0.05)

    # --- workers ----------------------------------------------------------------------------------------

    def start_worker(
        self,
        name: str,
        concurrency: int = 1,
        wait: bool = True,
        queues: list[str] | None = None,
        env: dict | None = None,
        include: list[str] | None = None,
    ) -> Worker:
        """A worker on the rig's Redis (``queues``, else the rig's; ``env`` on top of the rig's; ``include``: more
        modules the worker imports, e.g. tests.site.engine_spy)."""
        log_path = self.workdir / f"worker-{name.split('@')[0]}.log"
        env = {
            **os.environ,
            **self.env,
            **(env or {}),
            "REDIS_URL": self.url,
            "CELERY_BROKER_URL": self.url,
            "C_FORCE_ROOT": "1",
        }
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "nmt_site",
                    "worker",
                    "-Q",
                    ",".join(queues or self.queues),
                    "--pool",
                    "prefork",
                    "--concurrency",
                    str(concurrency),
                    "-n",
                    name,
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    *(["--include", ",".join(include)] if include else []),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(name=name, process=process, log_path=log_path)
        self.workers.append(worker)
        if wait:
            self.wait_ready(worker)
        return worker

    def wait_ready(self, worker: Worker, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker {worker.name} exited\n{worker.log_tail()}")
            if " ready." in worker.log_tail(200_000) and "sweeper started" in worker.log_tail(200_000):
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker {worker.name} not ready within {timeout} s\n{worker.log_tail()}")

    def kill_pool(self, worker: Worker, pid: int | None = None) -> int | None:
        """SIGKILL one pool process of ``worker`` (``pid`` if it is one of them, else any)."""
        pids = worker.pool_pids()
        if not pids:
            return None
        victim = pid if pid in pids else random.choice(pids)
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill_worker(self, worker: Worker) -> None:
        """SIGKILL the whole worker: the main process and its pool processes, nothing left to clean up."""
        pids = worker.pool_pids()
        worker.process.send_signal(signal.SIGKILL)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        worker.process.wait()

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_worker(worker)
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=30)
