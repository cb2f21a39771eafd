"""The benchmark task and its worker hooks. Thin: the work is in nmt_site.dashboard.services.

Benchmarks go to their own queue (settings.NMT_BENCH_QUEUE, default `bench`), consumed by one worker with
concurrency 1: two timing runs at once on a small machine would spoil each other's numbers. The claim in
services also refuses to start while another run is `running` (then this task retries later).
acks_late is off here: a benchmark is never re-measured after a crash (half-measured timings are not
comparable); a lost pool process fires task_failure below, a lost worker is swept at its next start.
"""

import logging

from celery import shared_task
from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure, worker_ready
from django.conf import settings

from nmt_site.dashboard import services

log = logging.getLogger(__name__)
BUSY_RETRY_SECONDS = 5


@shared_task(
    name=services.BENCH_TASK,
    bind=True,
    acks_late=False,
    max_retries=None,
    soft_time_limit=settings.NMT_BENCH_SOFT_LIMIT,
    time_limit=settings.NMT_BENCH_SOFT_LIMIT + 30,
)
def run_benchmark(self, run_id: str) -> None:
    if services.run_benchmark(run_id, worker=services.worker_label(self.request.hostname)) == services.BUSY:
        raise self.retry(countdown=BUSY_RETRY_SECONDS)


@worker_ready.connect
def fail_orphaned_runs(sender=None, **_):
    from django.db import connections

    hostname = getattr(sender, "hostname", None)
    if not hostname:
        return
    try:
        touched = services.recover_orphaned_runs(hostname)
    finally:
        connections.close_all()
    if touched:
        log.warning(
            "marked %d benchmark run(s) failed that an earlier process of %s left running", len(touched), hostname
        )


@task_failure.connect
def fail_run_when_task_dies(sender=None, exception=None, args=None, **_):
    if getattr(sender, "name", None) != services.BENCH_TASK or not args:
        return
    if isinstance(exception, TimeLimitExceeded):
        reason = "The run took longer than its hard time limit and was stopped."
    else:
        reason = f"The worker process died while measuring this run ({type(exception).__name__}); start it again."
    try:
        services.fail_run(args[0], reason)
    except Exception:
        log.exception("could not mark benchmark run %s failed", args[0])
