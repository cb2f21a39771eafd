"""Load through the real stack: daphne (ASGI) + a redis-server of this script's own + a real Celery worker
(prefork, concurrency 1, production settings) + SQLite, as ``scripts/run`` starts them. Run on demand:

    .venv/bin/python benchmarks/load.py [--engines bergamot-en-pt,ctc-glat-en-de,ar-teacher-en-de]
        [--clients 1,50] [--protocols websocket,http] [--seconds 15] [--out benchmarks/results/load.json]

For each engine, protocol (the translate page's websocket, and ``POST /translate``) and number of concurrent clients
(bounded client threads, each sending one sentence, waiting for its translation, then sending the next, for
``--seconds``): end-to-end latency measured by the client (p50/p95/p99), the job's model time (its share of the engine
call it was batched in) and queue wait (from the job row), overhead = end-to-end − model time, jobs/s, the mean batch.
Before the stack starts, this process measures the evaluate routine's batch-1 latency
(``translator.evaluate.measure_latency``) of each engine on the same sentences with the same thread count as the
worker, so the ratio "site model time at 1 client ÷ evaluate batch-1 p50" compares like with like. The API's
translation cache is off (``NMT_API_CACHE_SECONDS=0``): every request reaches the worker; the per-address admission
limits are raised (all clients share 127.0.0.1) but still checked.

Sentences: the first ``--sentences`` of ``<data-dir>/<pair>/<corpus>/test.<source>`` (``python -m translator
prepare-data`` builds them), each request the next one.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="nmt-load-"))
QUEUE = f"cpu-load-{os.getpid()}"
STACK_ENV = {
    "DJANGO_SETTINGS_MODULE": "nmt_site.settings",
    "DATABASE_URL": f"sqlite:///{SCRATCH / 'db.sqlite3'}",
    "NMT_VAR_DIR": str(SCRATCH),
    "NMT_DEVICE": "cpu",
    "NMT_QUEUE": QUEUE,
    "NMT_BENCH_QUEUE": f"bench-load-{os.getpid()}",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "NMT_API_CACHE_SECONDS": "0",
    # Every client comes from 127.0.0.1, one caller for the per-address limits: raised so they never refuse a
    # request, but still checked on each one (their cost is part of the measurement).
    "NMT_API_REQUESTS_PER_MINUTE": "1000000",
    "NMT_API_CHARS_PER_MINUTE": "100000000",
    "NMT_MAX_ACTIVE_WORK": "1000",
}
os.environ.update(STACK_ENV)

from tests.site.fault_rig import FaultRig  # noqa: E402  (needs nothing of Django)

FINISHED = ("done", "failed", "cancelled")
DEFAULT_ENGINES = "bergamot-en-pt,ctc-glat-en-de,ar-teacher-en-de"


def read_sentences(data_dir: Path, pair: str, corpus: str, n: int, max_chars: int) -> list[str]:
    source = pair.split("-")[0]
    path = data_dir / pair / corpus / f"test.{source}"
    if not path.exists():
        raise SystemExit(f"{path} is missing: build the test sets with `python -m translator prepare-data`")
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and len(line) <= max_chars][:n]


def stats_ms(values: list[float]) -> dict:
    from translator.evaluate import percentile

    if not values:
        return {}
    ms = [v * 1000 for v in values]
    return {
        "p50": round(percentile(ms, 0.5), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "p99": round(percentile(ms, 0.99), 1),
        "mean": round(statistics.fmean(ms), 1),
    }


# --- the stack ------------------------------------------------------------------------------------------------


def start_daphne(port: int, env: dict) -> subprocess.Popen:
    log = open(SCRATCH / "daphne.log", "w")  # noqa: SIM115  (lives as long as the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "nmt_site.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health?worker=0", timeout=2) as resp:
                if resp.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
        if process.poll() is not None:
            break
    process.kill()
    raise SystemExit(f"daphne did not start:\n{(SCRATCH / 'daphne.log').read_text()[-3000:]}")


def wait_for_warm_engines(base: str, engines: list[str], timeout: float = 600) -> None:
    """Until the worker reports every engine warm (GET /api/translators, its background warm-up)."""
    deadline = time.monotonic() + timeout
    states: dict = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/translators", timeout=5) as resp:
            states = {t["name"]: t["status"] for t in json.load(resp)["translators"]}
        if all(states.get(e) == "ready" for e in engines):
            return
        time.sleep(0.5)
    raise SystemExit(f"engines not warm after {timeout} s: {states}")


# --- clients -------------------------------------------------------------------------------------------------


class Level:
    """One run: ``clients`` threads of one protocol against one engine for ``seconds``."""

    def __init__(self, base: str, engine: str, pair: str, texts: list[str], clients: int, seconds: float):
        self.base, self.engine, self.texts, self.clients, self.seconds = base, engine, texts, clients, seconds
        self.source, self.target = pair.split("-")
        self.records: list[dict] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._next = 0
        # The last client to arrive starts the clock, before any of them is released.
        self.barrier = threading.Barrier(clients + 1, action=self._start_clock)
        self.start = self.stop_at = 0.0

    def _start_clock(self) -> None:
        self.start_wall, self.start = time.time(), time.perf_counter()
        self.stop_at = self.start + self.seconds

    def next_text(self) -> str:
        with self._lock:
            text = self.texts[self._next % len(self.texts)]
            self._next += 1
            return text

    def record(self, **row) -> None:
        with self._lock:
            self.records.append(row)

    def run(self, client) -> dict:
        threads = [threading.Thread(target=self._client, args=(client,), daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        try:
            self.barrier.wait(timeout=300)  # every client connected and warm
        except threading.BrokenBarrierError:
            raise SystemExit(f"{self.engine}: clients failed to start: {self.errors[:3]}") from None
        for thread in threads:
            thread.join(timeout=self.seconds + 300)
        elapsed = max(r["done"] for r in self.records) - self.start if self.records else self.seconds
        return {"start_wall": self.start_wall, "end_wall": time.time(), "elapsed": elapsed}

    def _client(self, client) -> None:
        try:
            client(self)
        except Exception as exc:  # one broken client must not hang the run
            with self._lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            try:
                self.barrier.abort()
            except threading.BrokenBarrierError:
                pass


def websocket_client(level: Level) -> None:
    import httpx
    import websocket

    with httpx.Client(base_url=level.base, timeout=30) as http:
        http.get("/")  # the page's session: the socket's jobs belong to it
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    ws = websocket.create_connection(
        level.base.replace("http://", "ws://") + "/ws/jobs/",
        header=[f"Cookie: {cookie}"],
        origin=level.base,
        timeout=300,
    )

    def one(text: str) -> dict:
        sent = time.perf_counter()
        ws.send(json.dumps({"type": "translate", "text": text, "translator": level.engine, "request_id": 1}))
        job_id = None
        while True:
            message = json.loads(ws.recv())
            if message["type"] == "accepted":
                job_id = message["job"]["id"]
            elif message["type"] == "error":
                raise RuntimeError(message["message"])
            elif message["type"] == "job" and message["job"]["id"] == job_id and message["job"]["state"] in FINISHED:
                done = time.perf_counter()
                ws.send(json.dumps({"type": "unsubscribe", "job": job_id}))
                return {"sent": sent, "done": done, "done_wall": time.time(), "job": message["job"]}

    try:
        one(level.next_text())  # warm: connection, session, first frames
        level.barrier.wait(timeout=300)
        while time.perf_counter() < level.stop_at:
            got = one(level.next_text())
            job = got["job"]
            level.record(
                sent=got["sent"],
                done=got["done"],
                state=job["state"],
                error=job["error"],
                model=job["model_seconds"],
                queue=job["queue_seconds"],
                batch=(job.get("batch") or {}).get("jobs", 1),
                stamps=[got["done_wall"] - (got["done"] - got["sent"]), *_stamps(job), got["done_wall"]],
            )
    finally:
        ws.close()


def _stamps(job) -> list[float]:
    """queued_at, started_at, finished_at of a job (its public dict or its row) as Unix times."""
    if isinstance(job, dict):
        return [datetime.datetime.fromisoformat(job[k]).timestamp() for k in ("queued_at", "started_at", "finished_at")]
    return [job.queued_at.timestamp(), job.started_at.timestamp(), job.finished_at.timestamp()]


def http_client(level: Level) -> None:
    import httpx

    def one(http, text: str) -> dict:
        sent, sent_wall = time.perf_counter(), time.time()
        resp = http.post(
            "/translate",
            json={"q": text, "source": level.source, "target": level.target, "nmt_translator": level.engine},
        )
        done, done_wall = time.perf_counter(), time.time()
        ok = resp.status_code == 200 and "translatedText" in resp.json()
        return {
            "sent": sent,
            "sent_wall": sent_wall,
            "done": done,
            "done_wall": done_wall,
            "text": text,
            "ok": ok,
            "status": resp.status_code,
        }

    with httpx.Client(base_url=level.base, timeout=300) as http:
        one(http, level.next_text())
        level.barrier.wait(timeout=300)
        while time.perf_counter() < level.stop_at:
            level.record(**one(http, level.next_text()))


def attach_job_rows(level: Level, window: dict) -> None:
    """POST /translate answers with the text only: take each request's model time, queue wait and batch from its
    job row, paired by text in submission order (a text is never in flight twice at once here)."""
    from nmt_site.jobs.models import TranslationJob

    since = datetime.datetime.fromtimestamp(window["start_wall"] - 30, tz=datetime.UTC)
    rows = TranslationJob.objects.filter(translator=level.engine, queued_at__gte=since).order_by("queued_at")
    by_text: dict[str, deque] = defaultdict(deque)
    for row in rows:
        by_text[row.input_text].append(row)
    for record in sorted(level.records, key=lambda r: r["sent"]):
        queue = by_text.get(record["text"])
        while queue and queue[0].queued_at.timestamp() < record["sent_wall"] - 1:
            queue.popleft()  # a job of the client's warm-up request or of an earlier run
        row = queue.popleft() if queue else None
        record.update(
            state=row.state if row else "missing",
            error=row.error if row else "no job row",
            model=row.model_seconds if row else None,
            queue=row.queue_seconds if row else None,
            batch=(row.batch or {}).get("jobs", 1) if row else None,
        )
        if row is not None and row.state == "done":
            record["stamps"] = [record["sent_wall"], *_stamps(row), record["done_wall"]]
        if not record.pop("ok"):
            record["state"] = f"http {record['status']}"


def summarise(level: Level, window: dict, protocol: str) -> dict:
    good = [r for r in level.records if r.get("state") == "done" and r.get("model") is not None]
    e2e = [r["done"] - r["sent"] for r in good]
    model = [r["model"] for r in good]
    return {
        "protocol": protocol,
        "clients": level.clients,
        "seconds": round(window["elapsed"], 2),
        "jobs": len(level.records),
        "failed": len(level.records) - len(good) + len(level.errors),
        "errors": sorted(
            {r.get("error") or r.get("state") for r in level.records if r not in good} | set(level.errors)
        )[:5],
        "jobs_per_s": round(len(good) / window["elapsed"], 2) if window["elapsed"] else None,
        "e2e_ms": stats_ms(e2e),
        "model_ms": stats_ms(model),
        "queue_ms": stats_ms([r["queue"] for r in good]),
        "overhead_ms": stats_ms([r["done"] - r["sent"] - r["model"] for r in good]),
        "batch_jobs_mean": round(statistics.fmean(r["batch"] for r in good), 2) if good else None,
        # Where the time goes (wall clocks of the client and the job row): sent → queued (the web process stores the
        # job), queued → started (queue wait), started → finished (the worker: batching window, claims, model,
        # storing), finished → answered (publish, channel layer, web process, client).
        "breakdown_ms": {
            part: stats_ms([r["stamps"][i + 1] - r["stamps"][i] for r in good if "stamps" in r])
            for i, part in enumerate(("submit", "queue", "run", "answer"))
        },
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return 0.0


def stack_pids(rig, daphne) -> dict[str, list[int]]:
    worker = rig.workers[0]
    return {
        "web (daphne)": [daphne.pid],
        "worker main process": [worker.process.pid],
        "worker pool process": worker.pool_pids(),
        "redis": [rig.redis.pid],
        "load clients (this process)": [os.getpid()],
    }


# --- the run ---------------------------------------------------------------------------------------------------


def evaluate_batch1(engines: dict[str, list[str]], threads: int) -> dict:
    """The evaluate routine's batch-1 latency of each engine on its sentences, ``threads`` threads, in this process."""
    import torch

    from translator.evaluate import System, measure_latency, percentile
    from translator.registry import load_engine

    torch.set_num_threads(threads)
    out = {}
    for name, sentences in engines.items():
        engine = load_engine(name, device="cpu")
        engine.warm_up()
        ms = measure_latency(System(name, engine), sentences)
        out[name] = {"p50": round(percentile(ms, 0.5), 1), "p95": round(percentile(ms, 0.95), 1)}
        print(f"evaluate batch-1 {name}: p50 {out[name]['p50']} ms, p95 {out[name]['p95']} ms", flush=True)
    return out


def bars(report: dict) -> dict:
    """The issue's bars, checked on this run's medians and p95s."""
    checks = {}
    for name, entry in report["engines"].items():
        runs = {(r["protocol"], r["clients"]): r for r in entry["runs"]}
        one = runs.get(("websocket", 1))
        if one and one["model_ms"]:
            ratio = one["model_ms"]["p50"] / entry["evaluate_batch1_ms"]["p50"]
            checks[f"{name}: site model p50 at 1 client ≤ 1.3× evaluate batch-1 p50"] = {
                "value": round(ratio, 2),
                "ok": ratio <= 1.3,
            }
        for protocol in ("websocket", "http"):
            one, many = runs.get((protocol, 1)), runs.get((protocol, max(c for _, c in runs)))
            if one and one["overhead_ms"]:
                checks[f"{name} {protocol}: overhead p95 at 1 client ≤ 50 ms"] = {
                    "value": one["overhead_ms"]["p95"],
                    "ok": one["overhead_ms"]["p95"] <= 50,
                }
            if name.startswith("ctc-glat") and one and many and many is not one and one["jobs_per_s"]:
                speedup = many["jobs_per_s"] / one["jobs_per_s"]
                checks[f"{name} {protocol}: {many['clients']} clients ≥ 5× the jobs/s of 1"] = {
                    "value": round(speedup, 2),
                    "ok": speedup >= 5,
                }
                checks[f"{name} {protocol}: {many['clients']} clients e2e p95 ≤ 1 s"] = {
                    "value": many["e2e_ms"]["p95"],
                    "ok": many["e2e_ms"]["p95"] <= 1000,
                }
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default=DEFAULT_ENGINES)
    parser.add_argument("--clients", default="1,50", help="comma-separated numbers of concurrent clients")
    parser.add_argument("--protocols", default="websocket,http")
    parser.add_argument("--seconds", type=float, default=15, help="measured time of each run")
    parser.add_argument("--sentences", type=int, default=100, help="sentences per engine (and evaluate's latency)")
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--corpus", default="libreoffice")
    parser.add_argument("--threads", type=int, default=0, help="torch threads of the worker and evaluate (0: auto)")
    parser.add_argument("--note", default="", help="environment note stored in the JSON (e.g. what else ran)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "load.json"))
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    from django.conf import settings
    from django.core.management import call_command

    from nmt_site.core.threads import torch_threads, usable_cores
    from translator.evaluate import environment
    from translator.registry import get_info

    engines = [e for e in args.engines.split(",") if e]
    levels = [int(c) for c in args.clients.split(",")]
    protocols = [p for p in args.protocols.split(",") if p]
    threads = args.threads or torch_threads(pool_processes=1)
    pairs = {name: get_info(name).pair for name in engines}
    texts = {
        name: read_sentences(Path(args.data_dir), pair, args.corpus, args.sentences, settings.NMT_BATCH_JOB_CHARS)
        for name, pair in pairs.items()
    }
    report: dict = {
        "benchmark": "load",
        "environment": {
            **dataclasses.asdict(environment(threads)),
            "cores": usable_cores(),
            "note": args.note,
            "stack": "daphne (1 process) + redis-server (own) + celery worker (prefork, concurrency 1) + SQLite",
        },
        "config": {
            "seconds_per_run": args.seconds,
            "clients": levels,
            "protocols": protocols,
            "sentences": {name: f"{pairs[name]}/{args.corpus}: first {len(t)}" for name, t in texts.items()},
            "batch_window_ms": settings.NMT_BATCH_WINDOW_MS,
            "batch_max_lines": settings.NMT_BATCH_MAX_LINES,
            "torch_threads": threads,
            "api_cache": "off",
            "admission_limits": "raised (one client address for all clients), still checked on every request",
        },
        "engines": {},
    }
    evaluated = evaluate_batch1(texts, threads)

    rig = FaultRig(SCRATCH / "rig", {**STACK_ENV, "NMT_WARM_ENGINES": ",".join(engines)}, [QUEUE])
    rig.start_redis()
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = rig.url
    settings.REDIS_URL = settings.CELERY_BROKER_URL = rig.url
    call_command("migrate", verbosity=0)
    stack_env = {
        **os.environ,
        **STACK_ENV,
        "REDIS_URL": rig.url,
        "CELERY_BROKER_URL": rig.url,
        "NMT_TORCH_THREADS": str(threads),
    }
    daphne = None
    try:
        rig.start_worker(f"load-{os.getpid()}@localhost", env={"NMT_TORCH_THREADS": str(threads)})
        from nmt_site.local_redis import _free_port

        port = _free_port()
        daphne = start_daphne(port, stack_env)
        base = f"http://127.0.0.1:{port}"
        wait_for_warm_engines(base, engines)
        clients = {"websocket": websocket_client, "http": http_client}
        for name in engines:
            entry = {"pair": pairs[name], "evaluate_batch1_ms": evaluated[name], "runs": []}
            for protocol in protocols:
                for n in levels:
                    level = Level(base, name, pairs[name], texts[name], n, args.seconds)
                    pids = stack_pids(rig, daphne)
                    cpu_before = {part: sum(map(cpu_seconds, ps)) for part, ps in pids.items()}
                    window = level.run(clients[protocol])
                    cpu = {part: sum(map(cpu_seconds, ps)) - cpu_before[part] for part, ps in pids.items()}
                    if protocol == "http":
                        attach_job_rows(level, window)
                    result = summarise(level, window, protocol)
                    # CPU time each process spent per job (warm-up requests included): what load costs where.
                    jobs = max(1, len(level.records) + n)
                    result["cpu_ms_per_job"] = {part: round(sec * 1000 / jobs, 2) for part, sec in cpu.items()}
                    if result["model_ms"]:
                        result["model_p50_vs_evaluate_p50"] = round(
                            result["model_ms"]["p50"] / evaluated[name]["p50"], 2
                        )
                    entry["runs"].append(result)
                    print(
                        f"{name} {protocol} {n:>3} clients: {result['jobs_per_s']} jobs/s, "
                        f"e2e p50/p95 {result['e2e_ms'].get('p50')}/{result['e2e_ms'].get('p95')} ms, "
                        f"model p50 {result['model_ms'].get('p50')} ms, overhead p95 "
                        f"{result['overhead_ms'].get('p95')} ms, batch {result['batch_jobs_mean']}, "
                        f"failed {result['failed']}",
                        flush=True,
                    )
            report["engines"][name] = entry
    finally:
        if daphne is not None:
            daphne.send_signal(signal.SIGTERM)
            try:
                daphne.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daphne.kill()
        rig.close()
    report["bars"] = bars(report)
    for check, value in report["bars"].items():
        print(f"{'ok  ' if value['ok'] else 'MISS'} {check}: {value['value']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
