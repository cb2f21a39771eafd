"""Celery tasks. They receive ids only and call services; state lives in the database."""

from celery import shared_task

from nmt_site.jobs import services


@shared_task(name=services.TRANSLATE_TASK, bind=True)
def translate_job(self, job_id: str) -> None:
    # acks_late (settings) + the lifecycle's recovery make a crash rerun this; run_job is idempotent.
    services.run_job(job_id, worker=services.worker_name(self.request.hostname))
