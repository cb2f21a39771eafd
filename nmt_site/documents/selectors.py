"""Read-only queries: which document jobs a session may see, and where a job stands in the queue."""

from __future__ import annotations

from nmt_site.core.owner import Owner, get_owned, owner_from_request, owner_from_scope

from .errors import DocumentNotFound
from .models import DocumentJob, JobState

__all__ = ["Owner", "get_owned_document", "owned_documents", "owner_from_request", "owner_from_scope", "payload"]


def get_owned_document(job_id, owner: Owner) -> DocumentJob:
    """The document job if it exists and belongs to ``owner``; DocumentNotFound otherwise (same answer)."""
    return get_owned(DocumentJob, job_id, owner, DocumentNotFound, "That is not a document id.")


def owned_documents(owner: Owner, limit: int = 50) -> list[DocumentJob]:
    if not owner.known:
        return []
    qs = DocumentJob.objects.all()
    qs = qs.filter(owner_user_id=owner.user_id) if owner.user_id else qs.filter(owner_session=owner.session_key)
    return list(qs[:limit])


def queue_position(job: DocumentJob) -> int | None:
    """1 = next to run. Counts document jobs queued before this one (and those running now)."""
    if job.state != JobState.QUEUED:
        return None
    ahead = DocumentJob.objects.filter(state=JobState.QUEUED, queued_at__lt=job.queued_at).count()
    running = DocumentJob.objects.filter(state=JobState.RUNNING).count()
    return ahead + running + 1


def payload(job: DocumentJob) -> dict:
    return job.as_dict(queue_position=queue_position(job))
