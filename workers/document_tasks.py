"""The document task. Thin: everything happens in nmt_site.documents.services (failures: workers.lifecycle)."""

import logging

from celery import shared_task
from celery.signals import worker_ready

from nmt_site.documents import services

log = logging.getLogger(__name__)


@shared_task(name=services.DOCUMENT_TASK, bind=True)
def translate_document(self, job_id: str, continuation_of: int | None = None) -> None:
    # A killed process's document is taken back by the lifecycle; run_document resumes from the stored segments
    # and never stores one twice.
    services.run_document(job_id, worker=services.worker_name(self.request.hostname), continuation_of=continuation_of)


@worker_ready.connect
def expire_documents(sender=None, **_):
    from django.db import connections

    try:
        services.expire_documents()
    finally:
        connections.close_all()  # the pool's processes must not share this connection
