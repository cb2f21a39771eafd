"""Job state machine: conditional updates, idempotent redelivery, crash recovery. run_job is called directly
(in this process, with the real Bergamot engine or a stand-in engine); no broker is involved here."""

from __future__ import annotations

import pytest
from django.test import override_settings

from nmt_site.jobs import services
from nmt_site.jobs.models import JobState, TranslationJob
from translator.engine import BatchResult, EngineError

pytestmark = pytest.mark.django_db


def make_job(text="The cat sleeps.", **fields) -> TranslationJob:
    defaults = dict(owner_session="s1", source_lang="en", target_lang="pt", translator="bergamot-en-pt")
    defaults.update(fields)
    return TranslationJob.objects.create(input_text=text, progress_total=len(text.split("\n")), **defaults)


class CountingEngine:
    """Stands in for an engine to count calls and to act during a translation."""

    def __init__(self, during=None, fail_with=None):
        self.calls = 0
        self.during = during
        self.fail_with = fail_with

    def translate_batch(self, sentences):
        self.calls += 1
        if self.during:
            self.during()
        if self.fail_with:
            raise self.fail_with
        return BatchResult(outputs=[f"<{s}>" if s.strip() else "" for s in sentences], model_seconds=0.001)


def loader(engine):
    return lambda name, device=None: engine


def test_queued_job_runs_to_done_with_timings():
    job = services.run_job(make_job("The cat sleeps.\n\nThe dog eats.").pk, worker="host/1")
    assert job.state == JobState.DONE
    assert job.attempts == 1 and job.worker == "host/1"
    out = job.output_text.split("\n")
    assert len(out) == 3 and out[1] == "" and "gato" in out[0].lower() and "cão" in out[2].lower()
    assert job.started_at >= job.queued_at and job.finished_at >= job.started_at
    assert job.model_seconds > 0 and job.progress_done == job.progress_total == 3


def test_redelivery_of_finished_job_does_nothing():
    job = services.run_job(make_job().pk, worker="host/1")
    before = TranslationJob.objects.values().get(pk=job.pk)
    engine = CountingEngine()
    again = services.run_job(job.pk, worker="host/2", load=loader(engine))
    assert engine.calls == 0, "a done job must never reach the engine again"
    assert TranslationJob.objects.values().get(pk=job.pk) == before
    assert again.state == JobState.DONE


@pytest.mark.parametrize("state", [JobState.FAILED, JobState.CANCELLED])
def test_redelivery_of_failed_or_cancelled_job_does_nothing(state):
    job = make_job(state=state, error="earlier")
    engine = CountingEngine()
    services.run_job(job.pk, worker="host/1", load=loader(engine))
    job.refresh_from_db()
    assert engine.calls == 0 and job.state == state and job.error == "earlier"


def test_redelivery_after_crash_claims_again_and_resumes():
    # A first attempt translated 2 of 4 lines, then its worker died (state left running).
    job = make_job(
        "a\nb\nc\nd",
        state=JobState.RUNNING,
        attempts=1,
        worker="host/9",
        progress_done=2,
        output_text="<a>\n<b>",
        model_seconds=0.5,
    )
    engine = CountingEngine()
    with override_settings(NMT_CHUNK_LINES=1):
        job = services.run_job(job.pk, worker="host/10", load=loader(engine))
    assert job.state == JobState.DONE and job.attempts == 2 and job.worker == "host/10"
    assert job.output_text == "<a>\n<b>\n<c>\n<d>"
    assert engine.calls == 2, "lines stored by the dead attempt are not translated again"


def test_gives_up_after_max_attempts():
    job = make_job(state=JobState.RUNNING, attempts=3)
    engine = CountingEngine()
    with override_settings(NMT_MAX_ATTEMPTS=3):
        job = services.run_job(job.pk, worker="host/1", load=loader(engine))
    assert engine.calls == 0
    assert job.state == JobState.FAILED and "Gave up after 3 attempts" in job.error and job.finished_at


def test_stale_attempt_cannot_finish_a_job_claimed_again():
    job = make_job("one\ntwo")

    def another_worker_claims_it():
        # While this attempt translates, the job is claimed by a newer attempt (a redelivery).
        TranslationJob.objects.filter(pk=job.pk).update(attempts=5)

    result = services.run_job(job.pk, worker="host/1", load=loader(CountingEngine(during=another_worker_claims_it)))
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.attempts == 5 and job.output_text == ""
    assert result.state == JobState.RUNNING


def test_cancel_while_running_stops_between_chunks():
    job = make_job("\n".join(f"line {i}" for i in range(10)))

    def user_cancels():
        TranslationJob.objects.filter(pk=job.pk).update(state=JobState.CANCELLED)

    engine = CountingEngine(during=user_cancels)
    with override_settings(NMT_CHUNK_LINES=2):
        services.run_job(job.pk, worker="host/1", load=loader(engine))
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and engine.calls == 1


def test_engine_error_fails_the_job_with_its_reason():
    job = make_job()
    services.run_job(job.pk, worker="host/1", load=loader(CountingEngine(fail_with=EngineError("input too long"))))
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "input too long" in job.error and job.finished_at


def test_unexpected_exception_fails_the_job_not_left_running():
    job = make_job()
    services.run_job(job.pk, worker="host/1", load=loader(CountingEngine(fail_with=RuntimeError("boom"))))
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "RuntimeError" in job.error


def test_soft_time_limit_fails_the_job():
    from celery.exceptions import SoftTimeLimitExceeded

    job = make_job()
    services.run_job(job.pk, worker="host/1", load=loader(CountingEngine(fail_with=SoftTimeLimitExceeded())))
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "limit" in job.error


def test_missing_job_is_ignored():
    import uuid

    assert services.run_job(uuid.uuid4(), worker="host/1") is None


def test_sweep_requeues_dead_workers_jobs_at_the_front_and_fails_exhausted_ones(parked, settings):
    """Any worker's sweeper takes back what a dead worker left running, whatever its node name: by a stale
    heartbeat, or at once when the process ran on the sweeper's own node and is gone."""
    import datetime

    from django.utils import timezone

    from nmt_site.core import lifecycle

    queue = settings.NMT_QUEUE
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.NMT_STALE_SECONDS + 1)
    common = dict(state=JobState.RUNNING, attempts=1, queue=queue, started_at=stale)
    other_node_dead = make_job(worker="cpu@other/55", heartbeat_at=stale, **common)
    other_node_alive = make_job(worker="cpu@other/56", heartbeat_at=now, **common)
    own_node_gone = make_job(worker="cpu@box/999999999", heartbeat_at=now, **common)
    exhausted = make_job(worker="cpu@gone/7", heartbeat_at=stale, **{**common, "attempts": 3})
    done = make_job(state=JobState.DONE, attempts=1, worker="cpu@box/120", queue=queue)
    with override_settings(NMT_MAX_ATTEMPTS=3):
        counts = lifecycle.sweep([queue], node="cpu@box")
    assert counts == {"requeued": 2, "failed": 1, "resent": 0}
    states = {j.pk: j.state for j in TranslationJob.objects.all()}
    assert states[other_node_dead.pk] == states[own_node_gone.pk] == JobState.QUEUED
    assert states[other_node_alive.pk] == JobState.RUNNING, "a fresh heartbeat may really be running"
    assert states[exhausted.pk] == JobState.FAILED and states[done.pk] == JobState.DONE
    assert "died" in TranslationJob.objects.get(pk=exhausted.pk).error
    assert sorted(pk for _, pk, _, _ in parked) == sorted([str(other_node_dead.pk), str(own_node_gone.pk)])
    assert {priority for *_, priority in parked} == {lifecycle.FRONT_PRIORITY}


def test_a_duplicate_delivery_never_takes_over_a_live_attempt():
    from django.utils import timezone

    job = make_job(state=JobState.RUNNING, attempts=1, worker="cpu@other/1", heartbeat_at=timezone.now())
    engine = CountingEngine()
    services.run_job(job.pk, worker="cpu@box/2", load=loader(engine))
    job.refresh_from_db()
    assert engine.calls == 0 and job.state == JobState.RUNNING and job.attempts == 1


def test_cancel_only_moves_active_jobs():
    owner = services.Owner(session_key="s1")
    queued = make_job()
    assert services.cancel_job(queued.pk, owner).state == JobState.CANCELLED
    done = make_job(state=JobState.DONE, output_text="x")
    assert services.cancel_job(done.pk, owner).state == JobState.DONE


def test_task_failure_signal_fails_the_job_after_a_hard_time_limit():
    """Celery acks the message when billiard kills a process at the hard limit; the signal handler
    (connected in workers.lifecycle) marks the job failed instead of leaving it running."""
    from celery.exceptions import TimeLimitExceeded
    from celery.signals import task_failure

    import workers.lifecycle  # noqa: F401  (connects the handler, as in a worker)
    from workers.tasks import translate_job

    job = make_job(state=JobState.RUNNING, attempts=1, worker="host/1")
    done = make_job(state=JobState.DONE, output_text="feito")
    for j in (job, done):
        task_failure.send(
            sender=translate_job,
            task_id="t",
            exception=TimeLimitExceeded(150),
            args=[str(j.pk)],
            kwargs={},
            traceback=None,
            einfo=None,
        )
    job.refresh_from_db()
    done.refresh_from_db()
    assert job.state == JobState.FAILED and "150 s hard time limit" in job.error
    assert done.state == JobState.DONE and done.error == ""
