"""Read-only queries: which translators exist, which jobs a session may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from translator.registry import list_engines

from .errors import JobNotFound
from .models import TranslationJob


@dataclass(frozen=True)
class Owner:
    """Who is asking: the browser session, and the user id when logged in."""

    session_key: str | None
    user_id: int | None = None

    @property
    def known(self) -> bool:
        return bool(self.session_key or self.user_id)


def owner_from_request(request) -> Owner:
    # A session must exist before a job can belong to it (the page view makes sure of that).
    if not request.session.session_key:
        request.session.save()
    user_id = request.user.pk if getattr(request, "user", None) and request.user.is_authenticated else None
    return Owner(session_key=request.session.session_key, user_id=user_id)


def owner_from_scope(scope) -> Owner:
    session = scope.get("session")
    user = scope.get("user")
    user_id = user.pk if user is not None and user.is_authenticated else None
    return Owner(session_key=session.session_key if session is not None else None, user_id=user_id)


def translators() -> list[dict]:
    """All registered translators as plain dicts (name, family, pair, ...), listing never loads weights."""
    return [info.as_dict() for info in list_engines()]


def language_pairs() -> list[str]:
    return sorted({info.pair for info in list_engines()})


def get_owned_job(job_id, owner: Owner) -> TranslationJob:
    """The job if it exists and belongs to ``owner``; otherwise JobNotFound (same answer for both)."""
    try:
        job_uuid = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except (ValueError, TypeError, AttributeError):
        raise JobNotFound("That is not a job id.") from None
    if not owner.known:
        raise JobNotFound()
    job = TranslationJob.objects.filter(pk=job_uuid).first()
    if job is None:
        raise JobNotFound()
    if owner.user_id is not None and job.owner_user_id == owner.user_id:
        return job
    if owner.session_key and job.owner_session == owner.session_key:
        return job
    raise JobNotFound()
