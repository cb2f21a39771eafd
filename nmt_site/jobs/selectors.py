"""Read-only queries: which translators exist, which jobs a session may see."""

from __future__ import annotations

from django.conf import settings

from nmt_site.core.engine_status import engine_states
from nmt_site.core.owner import Owner, get_owned, owner_from_request, owner_from_scope
from translator.registry import list_engines

from .errors import JobNotFound
from .models import TranslationJob

__all__ = [
    "Owner",
    "get_owned_job",
    "language_pairs",
    "owner_from_request",
    "owner_from_scope",
    "translators",
]


def translators() -> list[dict]:
    """All registered translators as plain dicts (name, family, pair, ...), listing never loads weights.
    ``status`` is what the workers of this site's queue report: "ready", "loading" (still warming up), "failed",
    or None (no worker reports it)."""
    states = engine_states(settings.NMT_QUEUE)
    return [{**info.as_dict(), "status": states.get(info.name)} for info in list_engines()]


def language_pairs() -> list[str]:
    return sorted({info.pair for info in list_engines()})


def get_owned_job(job_id, owner: Owner) -> TranslationJob:
    """The job if it exists and belongs to ``owner``; otherwise JobNotFound (same answer for both)."""
    return get_owned(TranslationJob, job_id, owner, JobNotFound, "That is not a job id.")
