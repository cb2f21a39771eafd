"""Fixtures for the site tests: one real Celery worker process per session, sessions, websocket clients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "var" / "test-logs"
ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")  # what a browser on http://localhost sends with that Origin


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"


def _database_url_for_worker(settings_dict: dict) -> str:
    """The URL of the database the tests really use (the test database, not the configured one)."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    if engine.endswith("postgresql"):
        user = settings_dict.get("USER") or "postgres"
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgresql://{user}{password}@{host}:{port}/{settings_dict['NAME']}"
    raise RuntimeError(f"no worker database URL for {engine}")


def forget_queue(name: str, url: str | None = None) -> None:
    """Delete a per-run queue (each priority's list) and kombu's bookkeeping keys for it from the test Redis."""
    from nmt_site.core.lifecycle import queue_keys

    redis.Redis.from_url(url or settings.REDIS_URL).delete(
        *queue_keys(name), f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}"
    )


@pytest.fixture
def parked(monkeypatch, settings):
    """Work created in this test goes to a queue no worker consumes and never reaches the broker, so the
    session worker (and its sweeper) never takes it. Yields the sends: [(task, id, kwargs, priority)]."""
    from nmt_site.core import lifecycle

    sent = []
    settings.NMT_QUEUE = settings.NMT_BENCH_QUEUE = f"parked-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(
        lifecycle,
        "_send",
        lambda kind, pk, queue, priority, kwargs: sent.append((kind.task, str(pk), kwargs, priority)),
    )
    return sent


def _wait_for_ping(name: str, process: subprocess.Popen, timeout: float) -> None:
    from nmt_site.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}")
        if app.control.ping(destination=[name], timeout=0.5):
            return
    raise RuntimeError(f"worker {name} did not answer a ping within {timeout} s")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` subprocess (prefork, one pool process) on the test Redis and test database."""
    from django.db import connection

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_path = LOG_DIR / f"worker-{os.getpid()}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nmt_site.settings",
        "DATABASE_URL": _database_url_for_worker(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "NMT_DEVICE": "cpu",
        "NMT_QUEUE": settings.NMT_QUEUE,
        "NMT_BENCH_QUEUE": settings.NMT_BENCH_QUEUE,
        "NMT_DATA_DIR": str(settings.NMT_DATA_DIR),
        "NMT_WARM_ENGINES": "bergamot-en-pt",
        "NMT_CHUNK_LINES": "4",
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
                f"{settings.NMT_QUEUE},{settings.NMT_BENCH_QUEUE}",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "-n",
                name,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(name=name, process=process, log_path=log_path)
    try:
        _wait_for_ping(name, process, timeout=120)
    except Exception as exc:
        process.kill()
        pytest.fail(f"the Celery worker did not start: {exc}\n--- worker log ---\n{worker.log_tail()}")
    yield worker
    forget_queue(settings.NMT_QUEUE)  # nothing of this run is left behind in the test Redis
    forget_queue(settings.NMT_BENCH_QUEUE)
    process.send_signal(signal.SIGTERM)  # warm shutdown
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def session_key(transactional_db):
    """A real, stored Django session, as the translate page creates for a browser."""
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store.create()
    return store.session_key


def ws_headers(session_key: str | None) -> list[tuple[bytes, bytes]]:
    headers = [ORIGIN, HOST]
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    return headers


def wait_for_state(job_id, states, timeout: float = 60.0, worker: WorkerProcess | None = None):
    """Poll the database until the job reaches one of ``states``; fail with the worker log otherwise."""
    from nmt_site.jobs.models import TranslationJob

    deadline = time.monotonic() + timeout
    job = None
    while time.monotonic() < deadline:
        job = TranslationJob.objects.get(pk=job_id)
        if job.state in states:
            return job
        time.sleep(0.05)
    log = worker.log_tail() if worker else ""
    pytest.fail(f"job stayed {job.state if job else '?'} for {timeout} s (wanted {states})\n{log}")
