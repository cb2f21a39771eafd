"""Resume after a killed worker (really killed, and simulated in-process to count engine calls), the
per-document cache of identical segments, time slices, and cancel."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.test import override_settings

from nmt_site.core import lifecycle
from nmt_site.core.owner import Owner
from nmt_site.documents import services
from nmt_site.documents.models import DocumentJob, JobState, Segment
from translator.registry import load_engine

from .conftest import wait_for_document


def _lines(n: int) -> bytes:
    return "\n".join(f"Line {i}: the cat sleeps on the green sofa near the open window." for i in range(n)).encode()


@pytest.mark.worker
def test_worker_killed_mid_document_resumes_without_losing_or_redoing(celery_worker_process, session_key):
    owner = Owner(session_key=session_key)
    job = services.create_documents(owner=owner, files=[("long.txt", _lines(400))], translator="bergamot-en-pt")[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state == JobState.RUNNING and job.segments_done >= 32:
            break
        assert job.state in (JobState.QUEUED, JobState.RUNNING), (job.state, job.error)
        time.sleep(0.01)
    else:
        pytest.fail(f"document never ran\n{celery_worker_process.log_tail()}")
    pid = int(job.worker.rsplit("/", 1)[1])
    assert pid != celery_worker_process.process.pid
    os.kill(pid, signal.SIGKILL)
    before = dict(Segment.objects.filter(job=job, translation__isnull=False).values_list("pk", "translation"))
    assert 32 <= len(before) < 400, "the document finished before it could be killed; make it longer"

    job = wait_for_document(job.id, timeout=120, worker=celery_worker_process)
    assert job.state == JobState.DONE, job.error
    assert job.attempts == 2, "the redelivered task must claim the document a second time"
    # Nothing lost, nothing stored twice: the counter moves only with stored rows.
    assert job.segments_done == job.segments_total == 400
    assert not Segment.objects.filter(job=job, translation__isnull=True).exists()
    after = dict(Segment.objects.filter(pk__in=before).values_list("pk", "translation"))
    assert after == before, "segments stored before the kill must not be translated again"
    out = services.storage.read(job.output_name).decode().split("\n")
    assert len(out) == 400 and all("gato" in line.lower() for line in out)


class Killed(BaseException):
    """Stands in for SIGKILL inside the process: nothing in run_document catches it."""


class SpyEngine:
    """The real Bergamot engine, recording every sentence it is asked to translate."""

    def __init__(self, engine, die_after_batches: int | None = None, on_batch=None):
        self.engine, self.seen, self.batches = engine, [], 0
        self.die_after_batches, self.on_batch = die_after_batches, on_batch

    def translate_batch(self, sentences):
        if self.die_after_batches is not None and self.batches >= self.die_after_batches:
            raise Killed()
        self.batches += 1
        self.seen.extend(sentences)
        if self.on_batch:
            self.on_batch(self.batches)
        return self.engine.translate_batch(sentences)


@pytest.fixture
def engine():
    return load_engine("bergamot-en-pt")


@pytest.fixture
def no_enqueue(parked):
    return parked  # [(task, id, kwargs, priority)] of every message sent (none reaches the broker)


def _create(session_key, name: str, body: bytes) -> DocumentJob:
    return services.create_documents(
        owner=Owner(session_key=session_key), files=[(name, body)], translator="bergamot-en-pt"
    )[0]


@override_settings(NMT_DOC_BATCH=4)
def test_resume_translates_each_sentence_once_and_caches_repeats(session_key, engine, no_enqueue):
    unique = [f"Sentence {i}: the dog runs in the park." for i in range(10)]
    text = "\n".join(unique + unique[:5] + ["The house is big."] * 3)
    job = _create(session_key, "repeats.txt", text.encode())
    assert job.segments_total == 18

    first = SpyEngine(engine, die_after_batches=2)
    with pytest.raises(Killed):  # a process of node "test" that is gone when the next delivery comes
        services.run_document(job.id, worker="test/999999999", load=lambda *a, **k: first)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.segments_done == 8 and job.attempts == 1

    second = SpyEngine(engine)
    job = services.run_document(job.id, worker="test/2", load=lambda *a, **k: second)
    assert job.state == JobState.DONE and job.attempts == 2
    seen = first.seen + second.seen
    # Every distinct sentence went to the engine exactly once, across the crash; repeats came from the cache.
    assert sorted(seen) == sorted(set(unique + ["The house is big."]))
    assert job.segments_done == 18 and job.segments_cached == 7
    assert Segment.objects.filter(job=job, from_cache=True).count() == 7
    by_source = {}
    for seg in Segment.objects.filter(job=job):
        by_source.setdefault(seg.source, set()).add(seg.translation)
    assert all(len(v) == 1 for v in by_source.values())


@override_settings(NMT_DOC_BATCH=4, NMT_DOC_SLICE_SECONDS=0)
def test_time_slices_hand_over_to_a_continuation_of_the_same_attempt(session_key, engine, no_enqueue):
    job = _create(session_key, "slices.txt", _lines(10))
    job = services.run_document(job.id, worker="test/1", load=lambda *a, **k: engine)
    assert job.state == JobState.RUNNING and job.segments_done == 4 and no_enqueue[-1][2] == {"continuation_of": 1}
    while job.state == JobState.RUNNING:
        job = services.run_document(job.id, worker="test/1", continuation_of=1, load=lambda *a, **k: engine)
    assert job.state == JobState.DONE and job.attempts == 1 and job.segments_done == 10


@override_settings(NMT_DOC_BATCH=4)
def test_cancel_while_running_stops_storing(session_key, engine, no_enqueue):
    job = _create(session_key, "cancel.txt", _lines(12))
    owner = Owner(session_key=session_key)
    spy = SpyEngine(engine, on_batch=lambda n: n == 2 and services.cancel_document(job.id, owner))
    result = services.run_document(job.id, worker="test/1", load=lambda *a, **k: spy)
    assert result.state == JobState.CANCELLED
    # The batch computed while the cancel landed is not stored; nothing after it runs.
    assert spy.batches == 2 and result.segments_done == 4
    assert Segment.objects.filter(job=job, translation__isnull=False).count() == 4
    # A redelivered task for the cancelled job changes nothing.
    assert services.run_document(job.id, worker="test/2", load=lambda *a, **k: engine).state == JobState.CANCELLED


def test_dead_workers_document_is_requeued_by_the_sweeper_keeping_its_segments(session_key, parked, settings):
    from datetime import timedelta

    from django.utils import timezone

    job = _create(session_key, "orphan.txt", b"The house is big. The water is cold.")
    Segment.objects.filter(job=job, position=0).update(translation="A casa é grande.")
    stale = timezone.now() - timedelta(seconds=settings.NMT_STALE_SECONDS + 5)
    DocumentJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=1, worker="node-a/123", heartbeat_at=stale, segments_done=1
    )
    assert lifecycle.sweep([settings.NMT_QUEUE], node="node-b") == {"requeued": 1, "failed": 0, "resent": 0}
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.segments_done == 1 and "died" in job.error
    # Sent after the creation's message, at the front of the queue.
    assert [priority for *_, priority in parked] == [lifecycle.NORMAL_PRIORITY, lifecycle.FRONT_PRIORITY]


def test_engine_failure_marks_the_document_failed(session_key, no_enqueue):
    from translator.engine import EngineError

    class Broken:
        def translate_batch(self, sentences):
            raise EngineError("model file is corrupt")

    job = _create(session_key, "broken.txt", b"The house is big.")
    job = services.run_document(job.id, worker="test/1", load=lambda *a, **k: Broken())
    assert job.state == JobState.FAILED and "corrupt" in job.error
