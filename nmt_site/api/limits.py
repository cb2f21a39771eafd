"""Who is calling the LibreTranslate API (API key or client address) and whether they may: the site-wide gate
(nmt_site.core.admission) seen from an HTTP request, its refusals as ApiError."""

from __future__ import annotations

from nmt_site.core import admission
from nmt_site.core.admission import Caller
from nmt_site.core.errors import WorkRequestError
from nmt_site.core.owner import Owner, client_address

from .errors import ApiError

__all__ = ["Caller", "admit", "check_chars", "client_address", "identify"]


def _api_error(exc: WorkRequestError) -> ApiError:
    return ApiError(exc.message, exc.status)


def identify(api_key: str | None, request) -> Caller:
    """The caller; ApiError 403 for a wrong key or a missing one, only when keys are required."""
    try:
        return admission.identify(api_key, client_address(request))
    except WorkRequestError as exc:
        raise _api_error(exc) from None


def admit(caller: Caller, *, chars: int = 0, work: bool = True) -> None:
    """One request: its rate, its length, (for requests that queue work) the caller's active work, characters."""
    try:
        owner = Owner(session_key=caller.owner_session) if work else None
        admission.admit(caller, owner=owner, chars=chars, per_request=True)
    except WorkRequestError as exc:
        raise _api_error(exc) from None


def check_chars(caller: Caller, chars: int) -> None:
    """The per-request character limit alone (files count their extracted text after upload)."""
    try:
        admission.check_length(caller, chars)
    except WorkRequestError as exc:
        raise _api_error(exc) from None
