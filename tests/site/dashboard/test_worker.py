"""Benchmarks through real parts: the API, Redis, the real Celery worker process (bench queue), Bergamot,
translator.evaluate, the database, and the websocket pushes of run state."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from nmt_site.asgi import application
from nmt_site.dashboard import services
from nmt_site.dashboard.models import BenchmarkRun, RunState

from ..conftest import ORIGIN

pytestmark = pytest.mark.worker
FINISHED = ("done", "failed", "cancelled")


def wait_run(run_id, states, timeout=90.0, worker=None, until=None) -> BenchmarkRun:
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        run = BenchmarkRun.objects.get(pk=run_id)
        if run.state in states and (until is None or until(run)):
            return run
        time.sleep(0.05)
    pytest.fail(
        f"run stayed {run.state if run else '?'} ({run.progress_message if run else ''}); wanted {states}\n"
        f"{worker.log_tail() if worker else ''}"
    )


def post_run(body) -> dict:
    resp = Client().post("/api/benchmarks", data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 201, resp.content
    return resp.json()["run"]


def test_small_benchmark_through_the_queue_streams_progress_and_stores_results(celery_worker_process, transactional_db):
    body = {
        "systems": ["bergamot-en-pt", "bergamot-pt-en"],
        "test_sets": ["en-pt/tiny", "pt-en/tiny"],
        "n_bootstrap": 50,
        "latency_sentences": 6,
        "label": "tiny both directions",
    }

    async def scenario():
        run = await asyncio.to_thread(post_run, body)  # the socket joins before the worker can finish
        comm = WebsocketCommunicator(application, f"/ws/dashboard/{run['id']}/", headers=[ORIGIN])
        connected, _ = await comm.connect()
        assert connected
        frames = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            msg = await comm.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
            frames.append(msg["run"])
            if msg["run"]["state"] in FINISHED:
                break
        await comm.disconnect()
        return run, frames

    run, frames = async_to_sync(scenario)()
    assert frames[-1]["state"] == "done", (frames[-1], celery_worker_process.log_tail())
    assert any(f["state"] == "running" and 0 <= f["progress"] < 1 for f in frames), "no progress was pushed"
    run = BenchmarkRun.objects.get(pk=run["id"])
    assert run.attempts == 1 and run.environment["threads"] == 1 and run.environment["cpu"]
    assert run.environment["test_sets"]["en-pt/tiny"]["sentences"] == 6
    assert run.baselines == {"en-pt": "bergamot-en-pt", "pt-en": "bergamot-pt-en"}
    rows = {(r.system, r.test_set): r for r in run.results.all()}
    assert set(rows) == {("bergamot-en-pt", "en-pt/tiny"), ("bergamot-pt-en", "pt-en/tiny")}
    for r in rows.values():
        assert r.is_baseline and r.family == "AR" and r.sentences == 6
        assert r.bleu_signature.startswith("nrefs:1|bs:50|") and "nc:6" in r.chrf_signature
        assert r.bleu_ci_low <= r.bleu <= r.bleu_ci_high and r.chrf_ci_low <= r.chrf <= r.chrf_ci_high
        assert r.bleu > 30 and r.bleu_p is None  # Bergamot is good on these; the baseline has no p-value
        assert r.latency_p50_ms > 0 and r.latency_p95_ms >= r.latency_p50_ms and r.throughput64_sps > 0
        assert r.peak_memory_mb > 0 and r.parameters and sum(b["sentences"] for b in r.length_buckets.values()) == 6
    seg = run.segments.get(test_set="en-pt/tiny")
    assert seg.sources[0] == "Open the file." and "arquivo" in seg.outputs["bergamot-en-pt"][0]

    page = Client().get(f"/dashboard/runs/{run.id}/").content.decode()
    assert "bergamot-pt-en" in page and '"pareto-data"' in page
    exported = Client().get(f"/dashboard/runs/{run.id}/export/results.json").json()["rows"]
    assert {(e["system"], e["bleu"]) for e in exported} == {(r.system, r.bleu) for r in rows.values()}


def test_runs_are_measured_one_at_a_time_and_cancel_midway(celery_worker_process, transactional_db):
    """Two runs queued at once: the second waits queued while the first measures; cancelling the first midway
    stops it (no results), and the second then runs to the end."""
    long_run = post_run(
        {"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/long"], "n_bootstrap": 50, "latency_sentences": 240}
    )
    second = post_run({"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny"], "n_bootstrap": 50})
    running = wait_run(
        long_run["id"],
        ("running",),
        worker=celery_worker_process,
        until=lambda r: "on en-pt/long" in r.progress_message,
    )
    assert BenchmarkRun.objects.get(pk=second["id"]).state == "queued"
    cancelled = services.cancel_run(running.id)
    assert cancelled.state == "cancelled"
    done = wait_run(second["id"], FINISHED, worker=celery_worker_process)
    assert done.state == "done", done.error
    first = BenchmarkRun.objects.get(pk=long_run["id"])
    assert first.state == "cancelled" and first.results.count() == 0
    assert first.finished_at <= done.started_at, "the second run measured while the first still held the machine"


def test_worker_crash_midway_leaves_the_run_failed_not_stuck(celery_worker_process, transactional_db):
    run = post_run(
        {"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/long"], "n_bootstrap": 50, "latency_sentences": 240}
    )
    running = wait_run(
        run["id"], ("running",), worker=celery_worker_process, until=lambda r: "on en-pt/long" in r.progress_message
    )
    pid = int(running.worker.rsplit("/", 1)[1])
    assert pid != celery_worker_process.process.pid
    os.kill(pid, signal.SIGKILL)
    failed = wait_run(run["id"], FINISHED, worker=celery_worker_process)
    assert failed.state == "failed" and "died" in failed.error, failed.error
    assert failed.results.count() == 0
    resp = Client().get(f"/api/benchmarks/{failed.id}")
    assert resp.json()["run"]["state"] == "failed" and resp.json()["run"]["error"]


def test_sweep_fails_runs_left_running_by_a_dead_worker(transactional_db, settings):
    """A run is never resumed: the sweeper fails a dead worker's run (stale heartbeat, any node name)."""
    import datetime

    from django.utils import timezone

    from nmt_site.core import lifecycle

    queue = f"bench-sweep-{os.getpid()}"
    stale = timezone.now() - datetime.timedelta(seconds=settings.NMT_STALE_SECONDS + 1)
    common = dict(state=RunState.RUNNING, attempts=1, queue=queue, started_at=stale)
    orphan = BenchmarkRun.objects.create(label="orphan", worker="node-x/123", heartbeat_at=stale, **common)
    alive = BenchmarkRun.objects.create(label="alive", worker="node-y/9", heartbeat_at=timezone.now(), **common)
    assert lifecycle.sweep([queue], node="node-z") == {"requeued": 0, "failed": 1, "resent": 0}
    orphan.refresh_from_db()
    alive.refresh_from_db()
    assert orphan.state == "failed" and "died" in orphan.error and "not resumed" in orphan.error
    assert alive.state == "running"


def test_a_run_whose_worker_died_does_not_block_the_line(transactional_db, settings, parked):
    """Claiming the next run: one `running` with a fresh heartbeat holds the machine (busy); one whose
    heartbeat is stale does not, and a redelivery of it fails it rather than measuring it again."""
    import datetime

    from django.utils import timezone

    stale = timezone.now() - datetime.timedelta(seconds=settings.NMT_STALE_SECONDS + 1)
    stuck = BenchmarkRun.objects.create(
        label="stuck", state=RunState.RUNNING, attempts=1, worker="gone/1", started_at=stale, heartbeat_at=stale
    )
    busy = BenchmarkRun.objects.create(
        label="busy", state=RunState.RUNNING, attempts=1, worker="alive/2", heartbeat_at=timezone.now()
    )
    waiting = BenchmarkRun.objects.create(label="next", state=RunState.QUEUED)
    assert services.run_benchmark(waiting.id, worker="w/3") == services.BUSY  # the live one holds the machine
    BenchmarkRun.objects.filter(pk=busy.pk).update(state=RunState.DONE)
    assert services._no_other_run_measuring(waiting) is True, "a dead run must not block the line"
    again = services.run_benchmark(stuck.id, worker="w/4")
    assert again.state == "failed" and "died" in again.error


def test_ar_and_nar_systems_with_an_iteration_sweep_through_the_queue(
    celery_worker_process, transactional_db, tiny_bench_engines
):
    """Real torch AR and CMLM models: NAR rows with iterations, p-values and speed-ups against the AR baseline,
    and the sweep plot's data on the run page."""
    run = post_run(
        {
            "systems": ["bench-ar-en-de:beam=1", "bench-cmlm-en-de:iterations=1", "bench-cmlm-en-de:iterations=4"],
            "test_sets": ["en-de/synth"],
            "n_bootstrap": 50,
            "latency_sentences": 8,
        }
    )
    run = wait_run(run["id"], FINISHED, timeout=120, worker=celery_worker_process)
    assert run.state == "done", run.error
    rows = {r.system: r for r in run.results.all()}
    ar, nar1, nar4 = (
        rows["bench-ar-en-de beam=1"],
        rows["bench-cmlm-en-de iterations=1"],
        rows["bench-cmlm-en-de iterations=4"],
    )
    assert ar.is_baseline and ar.family == "AR" and ar.bleu_p is None
    for nar, iterations in ((nar1, 1), (nar4, 4)):
        assert nar.family == "NAR" and not nar.is_baseline
        assert nar.decoding["iterations"] == iterations and "length_beam" in nar.decoding  # effective options
        assert nar.bleu_p is not None and 0 < nar.bleu_p <= 1
        assert (
            set(nar.speedups) == {"bench-ar-en-de beam=1"} and nar.speedups["bench-ar-en-de beam=1"]["latency_p50"] > 0
        )
        assert nar.parameters > 0 and nar.model_size_mb > 0 and 0 <= nar.repeated_token_rate <= 1
    html = Client().get(f"/dashboard/runs/{run.id}/").content.decode()
    assert "Mask-predict iteration sweep" in html
    sweep = json.loads(html.split('<script id="sweep-data" type="application/json">')[1].split("</script>")[0])
    (points,) = sweep.values()
    assert [p["iterations"] for p in points] == [1, 4] and points[1]["bleu"] == nar4.bleu
