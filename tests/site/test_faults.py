"""Faults on real parts: a redis-server of this test's own (restarted, stopped), real Celery worker processes
(pool process SIGKILLed, whole worker SIGKILLed), the test database. Text jobs, document jobs and benchmark runs
go through the one lifecycle (nmt_site.core.lifecycle); nothing here is mocked.

The workers run with a short heartbeat (NMT_STALE_SECONDS=10, sweeps every second) so a dead worker's work
comes back within seconds; production defaults are 30 s + 5 s (settings.py).
"""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import F
from django.test import Client

from nmt_site.core.owner import Owner
from nmt_site.dashboard.models import BenchmarkRun
from nmt_site.documents import services as doc_services
from nmt_site.documents.models import DocumentJob, Segment
from nmt_site.jobs import services
from nmt_site.jobs.models import TranslationJob
from translator.registry import load_engine

from .conftest import LOG_DIR, _database_url_for_worker
from .fault_rig import FaultRig

pytestmark = pytest.mark.worker

STALE_SECONDS = 10
SWEEP_SECONDS = 1
CHUNK_LINES = 4
FINISHED = ("done", "failed", "cancelled")


@pytest.fixture(scope="module")
def rig(django_db_setup, django_db_blocker):
    tag = uuid.uuid4().hex[:8]
    queues = [f"cpu-faults-{tag}", f"bench-faults-{tag}"]
    env = {
        "DJANGO_SETTINGS_MODULE": "nmt_site.settings",
        "DATABASE_URL": _database_url_for_worker(connection.settings_dict),
        "NMT_DEVICE": "cpu",
        "NMT_QUEUE": queues[0],
        "NMT_BENCH_QUEUE": queues[1],
        "NMT_DATA_DIR": str(django_settings.NMT_DATA_DIR),
        "NMT_DOC_DIR": str(django_settings.NMT_DOC_DIR),
        "NMT_WARM_ENGINES": "bergamot-en-pt",
        "NMT_CHUNK_LINES": str(CHUNK_LINES),
        "NMT_HEARTBEAT_SECONDS": "1",
        "NMT_STALE_SECONDS": str(STALE_SECONDS),
        "NMT_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "NMT_SWEEP_GRACE_SECONDS": "2",
    }
    rig = FaultRig(LOG_DIR / f"faults-{os.getpid()}-{tag}", env, queues)
    rig.start_redis()
    try:
        rig.worker = rig.start_worker(f"faults-a-{tag}@localhost", concurrency=3)
        yield rig
    finally:
        rig.close()


@pytest.fixture
def on_rig(rig, settings, session_key):
    """This test process submits to the rig's broker and queues (as the web process would)."""
    settings.CELERY_BROKER_URL = settings.REDIS_URL = rig.url
    settings.NMT_QUEUE, settings.NMT_BENCH_QUEUE = rig.queues
    return rig


def _client(session_key) -> Client:
    client = Client()
    client.cookies["sessionid"] = session_key
    return client


def _text(i: int, lines: int = 8) -> str:
    return "\n".join(
        f"Sentence {j} of text {i}: the cat sleeps on the green sofa near the window." for j in range(lines)
    )


def _reference(engine, text: str) -> str:
    """A fault-free translation, chunked exactly as the worker chunks it."""
    lines, out = text.split("\n"), []
    for start in range(0, len(lines), CHUNK_LINES):
        out.extend(t.replace("\n", " ") for t in engine.translate_batch(lines[start : start + CHUNK_LINES]).outputs)
    return "\n".join(out)


def _wait(model, ids, states=FINISHED, timeout=150.0, rig=None):
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        rows = list(model.objects.filter(pk__in=ids))
        if all(r.state in states for r in rows):
            return rows
        time.sleep(0.2)
    stuck = [(str(r.pk)[:8], r.state, r.attempts, r.worker, r.error) for r in rows if r.state not in states]
    pytest.fail(f"{model.__name__}: {len(stuck)} not {states}: {stuck[:5]}\n{rig.worker.log_tail() if rig else ''}")


def _kill_a_pool_process_mid_job(rig, spare) -> tuple[int, object] | None:
    """SIGKILL the pool process of a text job (not one in ``spare``) that has stored some of its lines, not all."""
    row = (
        TranslationJob.objects.filter(state="running", worker__startswith=f"{rig.worker.name}/", progress_done__gt=0)
        .exclude(progress_done=F("progress_total"))
        .exclude(pk__in=spare)
        .first()
    )
    return (rig.kill_pool(rig.worker, int(row.worker.rsplit("/", 1)[1])), row.pk) if row else None


def _doc_lines(n: int) -> bytes:
    return "\n".join(f"Line {i}: the children play in the garden after school." for i in range(n)).encode()


def test_pool_kills_and_a_redis_restart_lose_nothing(on_rig, session_key):
    """Text jobs, a document and a benchmark run while the pool process is SIGKILLed three times and Redis is
    restarted once (jobs submitted over HTTP during the outage are accepted): every text job and the document
    end done with the fault-free output, nothing twice, nothing left queued or running."""
    rig, owner = on_rig, Owner(session_key=session_key)
    texts = [_text(i, lines=12) for i in range(24)]
    doc = doc_services.create_documents(owner=owner, files=[("f.txt", _doc_lines(48))], translator="bergamot-en-pt")[0]
    run = Client().post(
        "/api/benchmarks",
        data=json.dumps({"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny"], "n_bootstrap": 20}),
        content_type="application/json",
    )
    assert run.status_code == 201, run.content
    run_id = run.json()["run"]["id"]
    jobs = [services.create_job(owner=owner, text=t, source_lang="en", target_lang="pt") for t in texts[:20]]

    kills, outage_done, last_kill = [], False, 0.0
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        done = TranslationJob.objects.filter(pk__in=[j.pk for j in jobs], state="done").count()
        if done == len(texts):
            break
        if len(kills) < 3 and done >= 2 and time.monotonic() - last_kill > 2:
            victim = _kill_a_pool_process_mid_job(rig, spare=[pk for _, pk in kills])
            if victim:
                kills.append(victim)
                last_kill = time.monotonic()
        if not outage_done and kills:
            rig.stop_redis()
            client = _client(session_key)
            for text in texts[20:]:  # the broker is down: accepted all the same, delivered when it is back
                resp = client.post(
                    "/api/jobs",
                    data=json.dumps({"text": text, "translator": "bergamot-en-pt"}),
                    content_type="application/json",
                )
                assert resp.status_code == 201, resp.content
                job = TranslationJob.objects.get(pk=resp.json()["job"]["id"])
                assert job.state == "queued" and job.enqueued_at is None
                jobs.append(job)
            time.sleep(2)
            rig.start_redis()
            outage_done = True
        if outage_done and len(kills) == 3:
            break
        time.sleep(0.2)
    assert outage_done and len(kills) == 3, kills

    finished = _wait(TranslationJob, [j.pk for j in jobs], rig=rig)
    _wait(DocumentJob, [doc.pk], rig=rig)
    _wait(BenchmarkRun, [run_id], rig=rig)
    engine = load_engine("bergamot-en-pt")
    by_text = {j.input_text: j for j in finished}
    assert len(finished) == len(texts) == len(by_text)  # one row per submission, none created twice
    for text in texts:
        job = by_text[text]
        assert job.state == "done", (job.state, job.error)
        assert job.output_text == _reference(engine, text)
        assert job.progress_done == job.progress_total == 12 and job.attempts <= django_settings.NMT_MAX_ATTEMPTS
    doc.refresh_from_db()
    assert doc.state == "done", doc.error
    assert doc.segments_done == doc.segments_total == Segment.objects.filter(job=doc, translation__isnull=False).count()
    out = doc_services.storage.read(doc.output_name).decode().split("\n")
    assert len(out) == 48 and all("crianças" in line.lower() for line in out)
    # A benchmark run is never resumed: done, or failed with the reason if a kill hit it; never stuck.
    run = BenchmarkRun.objects.get(pk=run_id)
    assert run.state == "done" or (run.state == "failed" and "died" in run.error), (run.state, run.error)
    for model in (TranslationJob, DocumentJob, BenchmarkRun):
        assert not model.objects.filter(queue__in=rig.queues, state__in=("queued", "running")).exists()
    retried = sum(1 for j in by_text.values() if j.attempts > 1)
    killed_jobs = TranslationJob.objects.filter(pk__in=[pk for _, pk in kills])
    assert all(j.attempts >= 2 for j in killed_jobs), "a job killed mid-run must have been claimed again"
    print(f"\nfaults: {len(texts)} jobs done, {retried} retried after a pool kill, kills {kills}")


def test_submissions_while_the_broker_is_down_are_delivered_when_it_returns(on_rig, session_key):
    """Design: a broker outage never fails a submission. The row is committed `queued`, the answer is 201,
    and the sweeper sends it once the broker answers again (text job, document upload, benchmark run)."""
    rig, client = on_rig, _client(session_key)
    rig.stop_redis()
    try:
        job = client.post(
            "/api/jobs",
            data=json.dumps({"text": "The house is big.", "translator": "bergamot-en-pt"}),
            content_type="application/json",
        )
        upload = client.post(
            "/api/documents",
            data={"file": [SimpleUploadedFile("d.txt", _doc_lines(12))], "translator": "bergamot-en-pt"},
        )
        run = client.post(
            "/api/benchmarks",
            data=json.dumps({"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny"], "n_bootstrap": 20}),
            content_type="application/json",
        )
    finally:
        time.sleep(1)
        rig.start_redis()
    assert (job.status_code, upload.status_code, run.status_code) == (201, 201, 201), (job.content, upload.content)
    rows = [
        (TranslationJob, job.json()["job"]["id"]),
        (DocumentJob, upload.json()["documents"][0]["id"]),
        (BenchmarkRun, run.json()["run"]["id"]),
    ]
    for model, pk in rows:
        row = model.objects.get(pk=pk)
        assert row.enqueued_at is None and row.queue in rig.queues  # the broker never took it
    started = time.monotonic()
    for model, pk in rows:
        (row,) = _wait(model, [pk], timeout=60, rig=rig)
        assert row.state == "done", (model.__name__, row.state, row.error)
        assert row.enqueued_at is not None and row.attempts == 1
    print(f"\nbroker outage: 3 submissions delivered {time.monotonic() - started:.1f} s after Redis came back")


def test_whole_worker_killed_a_differently_named_worker_takes_over(on_rig, session_key, transactional_db):
    """SIGKILL the only worker (main and pool processes) while a text job, a document and a benchmark run are
    running; a worker with another node name starts: the text job and the document resume where they were (no
    segment lost or stored twice) within the bound, the benchmark run is failed with the reason."""
    rig, owner = on_rig, Owner(session_key=session_key)
    lines = [f"Line {i}: the dog runs across the wide green field every morning." for i in range(120)]
    job = TranslationJob.objects.create(  # longer than the page's limit on purpose: created directly
        owner_session=session_key,
        source_lang="en",
        target_lang="pt",
        translator="bergamot-en-pt",
        input_text="\n".join(lines),
        progress_total=len(lines),
    )
    services.enqueue_job(job.id)
    doc = doc_services.create_documents(
        owner=owner, files=[("long.txt", _doc_lines(240))], translator="bergamot-en-pt"
    )[0]
    run = (
        Client()
        .post(
            "/api/benchmarks",
            data=json.dumps(
                {
                    "systems": ["bergamot-en-pt"],
                    "test_sets": ["en-pt/long"],
                    "n_bootstrap": 50,
                    "latency_sentences": 240,
                }
            ),
            content_type="application/json",
        )
        .json()["run"]
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        doc.refresh_from_db()
        bench = BenchmarkRun.objects.get(pk=run["id"])
        if job.progress_done >= 8 and doc.segments_done >= 32 and "on en-pt/long" in bench.progress_message:
            break
        assert job.state in ("queued", "running") and doc.state in ("queued", "running"), (job.error, doc.error)
        time.sleep(0.1)
    else:
        pytest.fail(f"not all running: {job.state} {doc.state} {bench.state}\n{rig.worker.log_tail()}")
    assert job.progress_done < len(lines) and doc.segments_done < 240, "finished before the kill; make them longer"
    old_node = rig.worker.name
    rig.kill_worker(rig.worker)
    killed_at = time.monotonic()
    before = dict(Segment.objects.filter(job=doc, translation__isnull=False).values_list("pk", "translation"))

    rig.worker = rig.start_worker(f"faults-b-{uuid.uuid4().hex[:6]}@localhost", concurrency=3)
    resumed = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(resumed) < 3:
        for label, row in (
            ("job", TranslationJob.objects.get(pk=job.pk)),
            ("document", DocumentJob.objects.get(pk=doc.pk)),
            ("run", BenchmarkRun.objects.get(pk=run["id"])),
        ):
            if label == "run":  # never resumed: failed with the reason
                taken_back = row.state in FINISHED
            else:  # claimed again by the new worker
                taken_back = row.attempts >= 2 and not row.worker.startswith(f"{old_node}/")
            if label not in resumed and taken_back:
                resumed[label] = time.monotonic() - killed_at
        time.sleep(0.1)
    bound = STALE_SECONDS + SWEEP_SECONDS + 30  # + the new worker's start-up on a loaded core
    assert set(resumed) == {"job", "document", "run"} and max(resumed.values()) <= bound, resumed

    (job,) = _wait(TranslationJob, [job.pk], timeout=120, rig=rig)
    (doc,) = _wait(DocumentJob, [doc.pk], timeout=120, rig=rig)
    (bench,) = _wait(BenchmarkRun, [run["id"]], timeout=30, rig=rig)
    assert job.state == "done" and job.attempts == 2, (job.state, job.error)
    out = job.output_text.split("\n")
    assert len(out) == len(lines) and all(o.strip() and o != i for o, i in zip(out, lines, strict=True))
    assert doc.state == "done" and doc.attempts == 2, doc.error
    assert doc.segments_done == doc.segments_total == 240
    after = dict(Segment.objects.filter(pk__in=before).values_list("pk", "translation"))
    assert after == before, "segments stored before the kill must not be translated again"
    assert bench.state == "failed" and "died" in bench.error and bench.results.count() == 0
    print(f"\nwhole worker killed: taken over after {', '.join(f'{k} {v:.1f} s' for k, v in resumed.items())}")
