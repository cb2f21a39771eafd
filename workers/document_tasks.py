"""The document task and its worker hooks. Thin: everything happens in nmt_site.documents.services."""

import logging

from celery import shared_task
from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure, worker_ready

from nmt_site.documents import services

log = logging.getLogger(__name__)


@shared_task(name=services.DOCUMENT_TASK, bind=True)
def translate_document(self, job_id: str, continuation_of: int | None = None) -> None:
    # acks_late + reject_on_worker_lost (settings): a killed process redelivers this; run_document resumes
    # from the stored segments and never stores one twice.
    services.run_document(job_id, worker=services.worker_name(self.request.hostname), continuation_of=continuation_of)


@worker_ready.connect
def recover_documents(sender=None, **_):
    from django.db import connections

    hostname = getattr(sender, "hostname", None)
    if not hostname:
        return
    try:
        touched = services.recover_orphaned_documents(hostname)
        services.expire_documents()
    finally:
        connections.close_all()  # the pool's processes must not share this connection
    if touched:
        log.warning("recovered %d document job(s) left running on %s: %s", len(touched), hostname, touched)


@task_failure.connect
def fail_document_when_task_dies(sender=None, exception=None, args=None, **_):
    """The hard time limit (or an error outside run_document) ended the task: the job must not stay running."""
    if getattr(sender, "name", None) != services.DOCUMENT_TASK or not args:
        return
    if isinstance(exception, TimeLimitExceeded):
        reason = "The document task took longer than its hard time limit and was stopped."
    else:
        reason = f"The worker failed while translating this document ({type(exception).__name__})."
    try:
        services.fail_document(args[0], reason)
    except Exception:
        log.exception("could not mark document %s failed", args[0])
