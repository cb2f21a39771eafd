"""Dynamic batching through a real Celery worker (nmt_site/jobs/batching.py): concurrent small jobs for one engine
arrive in one call of the real engine (a spy in the worker records each call and can hold one: engine_spy.py), each
gets the output it gets alone, a bad line or a cancel touches only its own job, a pool process SIGKILLed mid-batch
leaves every job to finish exactly once, a long job lets small ones through between its chunks, and the gpu
worker's configuration (bigger batches) runs on the CPU.

The worker runs on a redis-server of this module's own (fault_rig.py) with the shipped CTC-GLAT en→de checkpoint
and Bergamot en→pt; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from nmt_site.core import lifecycle
from nmt_site.core.owner import Owner
from nmt_site.documents import services as doc_services
from nmt_site.documents.models import DocumentJob
from nmt_site.jobs import services
from nmt_site.jobs.models import TranslationJob
from tests.translator.test_shipped_checkpoints import SHIPPED_DIR
from translator.engine import WARM_UP_TEXT

from .conftest import LOG_DIR, _database_url_for_worker
from .engine_spy import Spy
from .fault_rig import FaultRig
from .tiny_engines import CHECKPOINTS

pytestmark = pytest.mark.worker

CTC = "ctc-glat-en-de"
BERGAMOT = "bergamot-en-pt"
CHUNK_LINES = 4
FINISHED = ("done", "failed", "cancelled")
SENTENCES = [
    "Open the file menu and choose Save as.",
    "Click the OK button to close the dialog.",
    "The document is printed on the default printer.",
    "Select the cells you want to format.",
    "You can change the default settings in the options dialog.",
    "This command inserts a new table into the current document.",
    "Press Enter to confirm the entry.",
    "The chart is updated automatically.",
]


@pytest.fixture(scope="module")
def rig(django_db_setup, django_db_blocker):
    CHECKPOINTS.mkdir(parents=True, exist_ok=True)
    link = CHECKPOINTS / CTC
    linked = not link.exists()
    if linked:
        link.symlink_to(SHIPPED_DIR / CTC, target_is_directory=True)
    tag = uuid.uuid4().hex[:8]
    queues = [f"cpu-batch-{tag}", f"bench-batch-{tag}"]
    rig = FaultRig(
        LOG_DIR / f"batching-{os.getpid()}-{tag}",
        {
            "DJANGO_SETTINGS_MODULE": "nmt_site.settings",
            "DATABASE_URL": _database_url_for_worker(connection.settings_dict),
            "NMT_CHECKPOINTS_DIR": str(CHECKPOINTS),
            "NMT_DOC_DIR": str(django_settings.NMT_DOC_DIR),
            "NMT_DEVICE": "cpu",
            "NMT_QUEUE": queues[0],
            "NMT_BENCH_QUEUE": queues[1],
            "NMT_WARM_ENGINES": f"{BERGAMOT},{CTC}",
            "NMT_CHUNK_LINES": str(CHUNK_LINES),
            "NMT_BATCH_JOB_CHARS": "8000",  # the bad-line test's 6,000-character line is a small job
            "NMT_HEARTBEAT_SECONDS": "1",
            "NMT_STALE_SECONDS": "10",
            "NMT_SWEEP_SECONDS": "1",
            "NMT_SWEEP_GRACE_SECONDS": "2",
            "NMT_SPY_KEY": f"spy-{tag}",
        },
        queues,
    )
    rig.start_redis()
    try:
        rig.worker = rig.start_worker(f"batch-a-{tag}@localhost", include=["tests.site.engine_spy"])
        rig.spy = Spy(rig.url, f"spy-{tag}")
        yield rig
    finally:
        rig.close()
        if linked:
            link.unlink()


@pytest.fixture
def on_rig(rig, settings, session_key):
    """This test process submits to the rig's broker and queue, as the web process would."""
    settings.CELERY_BROKER_URL = settings.REDIS_URL = rig.url
    settings.NMT_QUEUE, settings.NMT_BENCH_QUEUE = rig.queues
    settings.NMT_MAX_CHARS = 8000
    rig.owner = Owner(session_key=session_key)
    rig.calls_before = len(rig.spy.calls())  # this test's engine calls come after these
    return rig


def _submit(rig, text: str, translator: str = CTC) -> TranslationJob:
    return services.create_job(owner=rig.owner, text=text, translator=translator)


def _wait(ids, timeout: float = 90, rig=None, states=FINISHED) -> dict:
    deadline = time.monotonic() + timeout
    rows: list[TranslationJob] = []
    while time.monotonic() < deadline:
        rows = list(TranslationJob.objects.filter(pk__in=ids))
        if len(rows) == len(ids) and all(r.state in states for r in rows):
            return {r.pk: r for r in rows}
        time.sleep(0.05)
    stuck = [(str(r.pk)[:8], r.state, r.attempts, r.error) for r in rows if r.state not in states]
    pytest.fail(f"jobs not {states}: {stuck}\n{rig.worker.log_tail() if rig else ''}")


def _alone(rig, text: str, translator: str = CTC) -> str:
    """The worker's output for ``text`` submitted with nothing else queued."""
    job = _submit(rig, text, translator)
    row = _wait([job.pk], rig=rig)[job.pk]
    assert row.state == "done", row.error
    assert not row.batch, "a job alone is not batched"
    return row.output_text


def _batch_behind_a_held_job(rig, texts: list[str], translator: str = CTC, hold_in: int | None = None):
    """Queue ``texts`` while the worker is held inside an engine call, then let it go: they are all queued when the
    next task gathers its batch. With ``hold_in`` the batch's own call is held too (on that text's marker)."""
    blocker = f"Blocker {uuid.uuid4().hex[:6]}: the first job."
    rig.spy.hold(blocker)
    first = _submit(rig, blocker, translator)
    rig.spy.wait_for_call(blocker)
    markers = []
    if hold_in is not None:
        markers.append(f"Held {uuid.uuid4().hex[:6]}")
        texts = [f"{markers[0]} {t}" if i == hold_in else t for i, t in enumerate(texts)]
        rig.spy.hold(markers[0])
    jobs = [_submit(rig, text, translator) for text in texts]
    rig.spy.release(blocker)
    _wait([first.pk], rig=rig)
    return jobs, markers


def _calls_with(rig, jobs) -> list[dict]:
    """Engine calls of this test that translated any line of ``jobs``."""
    wanted = {line for job in jobs for line in job.input_text.split("\n")}
    return [call for call in rig.spy.calls()[rig.calls_before :] if wanted & set(call["lines"])]


def test_concurrent_small_jobs_share_one_engine_call_and_get_their_own_output(on_rig):
    rig = on_rig
    texts = [SENTENCES[i] if i % 3 else f"{SENTENCES[i]}\n{SENTENCES[i + 1]}" for i in range(6)]
    jobs, _ = _batch_behind_a_held_job(rig, texts)
    rows = _wait([j.pk for j in jobs], rig=rig)
    calls = _calls_with(rig, jobs)
    assert len(calls) == 1, f"the six jobs took {len(calls)} engine calls"
    assert calls[0]["lines"] == [line for t in texts for line in t.split("\n")]
    for job in jobs:
        row = rows[job.pk]
        assert row.state == "done", row.error
        assert row.batch["jobs"] == 6 and row.batch["lines"] == len(calls[0]["lines"])
        assert 0 < row.model_seconds < row.batch["model_seconds"]
        assert row.progress_done == row.progress_total == len(row.input_text.split("\n"))
    assert sum(rows[j.pk].model_seconds for j in jobs) == pytest.approx(rows[jobs[0].pk].batch["model_seconds"])
    # The messages of the jobs the batch took along were withdrawn from the queue, not delivered for nothing.
    log = rig.worker.log_tail(1_000_000)
    assert not [j for j in jobs if f"job {j.pk} is already done" in log]
    for job in jobs:  # identical to what the same worker answers for the text alone
        assert rows[job.pk].output_text == _alone(rig, job.input_text)


def test_a_bad_line_fails_only_its_own_job(on_rig):
    rig = on_rig
    good = SENTENCES[:3]
    bad = "a" * 6000  # one 6,000-character "sentence": Bergamot refuses inputs over 5,000 characters
    jobs, _ = _batch_behind_a_held_job(rig, [good[0], bad, good[1], good[2]], translator=BERGAMOT)
    rows = _wait([j.pk for j in jobs], rig=rig)
    calls = _calls_with(rig, jobs)
    assert len(calls[0]["lines"]) == 4, "the four jobs were tried in one call first"
    assert rows[jobs[1].pk].state == "failed"
    assert "exceeds 5000" in rows[jobs[1].pk].error and rows[jobs[1].pk].output_text == ""
    for job in (jobs[0], jobs[2], jobs[3]):
        assert rows[job.pk].state == "done", rows[job.pk].error
        assert rows[job.pk].output_text == _alone(rig, job.input_text, BERGAMOT)


def test_a_job_cancelled_mid_batch_stays_cancelled_and_the_others_finish(on_rig):
    rig = on_rig
    jobs, markers = _batch_behind_a_held_job(rig, SENTENCES[:5], hold_in=0)
    rig.spy.wait_for_call(markers[0])  # the batch is inside the engine call now
    victim = jobs[2]
    assert TranslationJob.objects.get(pk=victim.pk).state == "running"
    services.cancel_job(victim.pk, rig.owner)
    rig.spy.release(markers[0])
    rows = _wait([j.pk for j in jobs], rig=rig)
    assert len(_calls_with(rig, jobs)) == 1
    assert rows[victim.pk].state == "cancelled" and rows[victim.pk].output_text == ""
    for job in jobs:
        if job.pk != victim.pk:
            assert rows[job.pk].state == "done", rows[job.pk].error
            assert rows[job.pk].batch["jobs"] == 5


class StateLog:
    """Every state a job's lifecycle publishes (its Redis pub/sub channel), counted per job."""

    def __init__(self, url: str):
        self.pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe(lifecycle.channel_name(services.KIND, "*"))
        self.seen: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self.pubsub.get_message(timeout=0.1)
            if message:
                pk = message["channel"].decode().rsplit(":", 1)[1]
                self.seen[(pk, message["data"].decode())] += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.pubsub.close()


def test_a_batch_killed_mid_call_is_redelivered_and_every_job_finishes_exactly_once(on_rig):
    rig = on_rig
    states = StateLog(rig.url)
    try:
        jobs, markers = _batch_behind_a_held_job(rig, SENTENCES[:6], hold_in=0)
        rig.spy.wait_for_call(markers[0])
        running = TranslationJob.objects.filter(pk__in=[j.pk for j in jobs], state="running")
        assert running.count() == 6, "the whole batch is claimed and running"
        pid = int(running.first().worker.rsplit("/", 1)[1])
        rig.spy.release(markers[0])  # the next process must not be held again
        assert rig.kill_pool(rig.worker, pid) == pid
        rows = _wait([j.pk for j in jobs], timeout=120, rig=rig)
        time.sleep(1.5)  # any late duplicate delivery would publish within this
    finally:
        states.close()
    for job in jobs:
        row = rows[job.pk]
        assert row.state == "done", (row.state, row.error)
        assert row.attempts == 2, "claimed by the killed batch, then once more"
        assert row.output_text == _alone(rig, row.input_text), "the redelivered batch translated it right"
        assert states.seen[(str(job.pk), "done")] == 1, "finished exactly once"
    assert not TranslationJob.objects.filter(queue__in=rig.queues, state__in=("queued", "running")).exists()


def test_a_long_job_lets_small_jobs_through_between_its_chunks(on_rig):
    rig = on_rig
    marker = f"Long {uuid.uuid4().hex[:6]}"
    long_text = "\n".join(
        f"{marker} {SENTENCES[i % len(SENTENCES)]}" if i == 0 else SENTENCES[i % 8] for i in range(24)
    )
    rig.spy.hold(marker)
    long_job = _submit(rig, long_text)
    rig.spy.wait_for_call(marker)  # its first chunk is in the engine
    small = [_submit(rig, f"{s} ({i})") for i, s in enumerate(SENTENCES[:3])]
    rig.spy.release(marker)
    rows = _wait([long_job.pk, *[j.pk for j in small]], rig=rig)
    assert rows[long_job.pk].state == "done", rows[long_job.pk].error
    assert len(rows[long_job.pk].output_text.split("\n")) == 24
    for job in small:
        assert rows[job.pk].state == "done", rows[job.pk].error
        assert rows[job.pk].finished_at < rows[long_job.pk].finished_at, "a small job waited for the whole long one"
    # The small jobs went through right after the long job's first chunk, in one call of their own.
    lines = [line for job in small for line in job.input_text.split("\n")]
    calls = [call["lines"] for call in rig.spy.calls()[rig.calls_before :]]
    first_chunk = next(i for i, c in enumerate(calls) if any(marker in line for line in c))
    assert calls[first_chunk + 1] == lines


def test_a_document_lets_small_jobs_through_between_its_batches(on_rig):
    rig = on_rig
    marker = f"Doc{uuid.uuid4().hex[:6]}"
    lines = [f"{marker} the children play in the garden."]
    lines += [f"Line {i}: the children play in the garden after school." for i in range(1, 64)]
    rig.spy.hold(marker)
    doc = doc_services.create_documents(
        owner=rig.owner, files=[("f.txt", "\n".join(lines).encode())], translator=BERGAMOT
    )[0]
    rig.spy.wait_for_call(marker)  # its first batch is in the engine
    small = [_submit(rig, f"{s} [{i}]", BERGAMOT) for i, s in enumerate(SENTENCES[:3])]
    rig.spy.release(marker)
    rows = _wait([j.pk for j in small], rig=rig)
    deadline = time.monotonic() + 90
    while DocumentJob.objects.get(pk=doc.pk).state not in FINISHED and time.monotonic() < deadline:
        time.sleep(0.1)
    doc = DocumentJob.objects.get(pk=doc.pk)
    assert doc.state == "done", doc.error
    for job in small:
        assert rows[job.pk].state == "done", rows[job.pk].error
        assert rows[job.pk].finished_at < doc.finished_at, "a small job waited for the whole document"
    calls = [call["lines"] for call in rig.spy.calls()[rig.calls_before :]]
    first_batch = next(i for i, c in enumerate(calls) if any(marker in line for line in c))
    assert calls[first_batch + 1] == [job.input_text for job in small], "right after the document's first batch"


def _status(translator: str) -> str | None:
    translators = Client().get("/api/translators").json()["translators"]
    return next(t["status"] for t in translators if t["name"] == translator)


def _wait_for_status(translator: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _status(translator) != status:
        assert time.monotonic() < deadline, f"{translator} never became {status}"
        time.sleep(0.1)


def test_the_gpu_worker_configuration_batches_bigger_on_the_cpu_and_reports_its_warm_up(on_rig, settings):
    """NMT_DEVICE=gpu with NMT_ENGINE_DEVICE=cpu: the gpu queue's worker, its bigger batches (128 lines by default,
    32 on the cpu queue), engines on the CPU. While it warms CTC-GLAT up (held by the spy) the translators API and
    the translate page say it is loading, then ready; 40 one-line jobs go through in one engine call."""
    rig = on_rig
    queue = f"gpu-batch-{uuid.uuid4().hex[:8]}"
    settings.NMT_QUEUE = queue
    assert _status(CTC) is None, "no worker serves this queue yet"
    rig.spy.hold(WARM_UP_TEXT["en"])
    gpu = rig.start_worker(
        f"batch-gpu-{queue[-8:]}@localhost",
        queues=[queue],
        env={"NMT_DEVICE": "gpu", "NMT_QUEUE": queue, "NMT_ENGINE_DEVICE": "cpu", "NMT_WARM_ENGINES": CTC},
        include=["tests.site.engine_spy"],
    )
    try:
        _wait_for_status(CTC, "loading")
        page = Client().get("/").content.decode()
        data = json.loads(page.split('id="translators-data" type="application/json">')[1].split("</script>")[0])
        assert next(t["status"] for t in data if t["name"] == CTC) == "loading"
        assert 'id="translator-loading"' in page
        rig.spy.release(WARM_UP_TEXT["en"])
        _wait_for_status(CTC, "ready")
        texts = [f"{SENTENCES[i % 8]} ({i})" for i in range(40)]
        jobs, _ = _batch_behind_a_held_job(rig, texts)
        rows = _wait([j.pk for j in jobs], rig=rig)
        assert all(r.state == "done" for r in rows.values()), [r.error for r in rows.values()]
        calls = _calls_with(rig, jobs)
        assert [len(c["lines"]) for c in calls] == [40]
        assert {c["pid"] for c in calls} <= set(gpu.pool_pids())
        assert all(r.batch["jobs"] == 40 for r in rows.values())
    finally:
        rig.spy.release(WARM_UP_TEXT["en"])
        gpu.process.terminate()
        gpu.process.wait(timeout=30)
