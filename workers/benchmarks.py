"""The benchmark task. Thin: the work is in nmt_site.dashboard.services (failures: workers.lifecycle).

Benchmarks go to their own queue (settings.NMT_BENCH_QUEUE, default `bench`), consumed by one worker with
concurrency 1: two timing runs at once on a small machine would spoil each other's numbers. The claim in
services also refuses to start while another run is `running` (then this task retries later).
acks_late is off here: a benchmark is never re-measured after a crash (half-measured timings are not
comparable); the lifecycle fails a run whose worker died (Kind.resumable=False).
"""

import logging

from celery import shared_task
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
