"""Who may create work, and how much: the one gate that every path creating work goes through.

The LibreTranslate API, the job API, the translate page's websocket, document uploads and benchmark runs all
ask ``admit`` before any row exists, so a refused request creates nothing. A caller is an API key when one is
given (and known), else the client address: sessions cost nothing to mint, addresses do. Per caller:

- requests per minute (``NMT_API_REQUESTS_PER_MINUTE``, or the key's own ``requests_per_minute``),
- characters per minute (``NMT_API_CHARS_PER_MINUTE``),
- work queued or running at once, per owner (``NMT_MAX_ACTIVE_WORK``): text jobs and documents of the
  session or API pseudo-session; benchmark runs have a site-wide cap (``NMT_BENCH_MAX_ACTIVE``).

Rates use the `limits` library in Redis: an exact moving window for requests (never more than the limit in any
minute, where a fixed window lets twice the limit through across a minute boundary) and the sliding-window
counter for characters (two counters per caller, weighted: costs in the thousands need no timestamp each).
Work created by the site itself (management commands, benchmarks, tests calling services) passes no caller and
is not limited.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

from .errors import WorkRequestError

if TYPE_CHECKING:
    from nmt_site.api.models import ApiKey

    from .owner import Owner


class AccessRefused(WorkRequestError):
    """A wrong API key when keys are required, or none."""

    status = 403


class LimitReached(WorkRequestError):
    """Over a rate, character or active-work limit: try again later."""

    status = 429


class LimiterUnavailable(WorkRequestError):
    status = 503


@dataclass(frozen=True)
class Caller:
    address: str
    key: ApiKey | None = None

    @property
    def identity(self) -> str:
        return f"key:{self.key.pk}" if self.key else f"ip:{self.address}"

    @property
    def owner_session(self) -> str:
        """The pseudo-session that owns work created through the LibreTranslate API for this caller."""
        return "api-" + hashlib.sha256(self.identity.encode()).hexdigest()[:32]

    @property
    def requests_per_minute(self) -> int:
        if self.key and self.key.requests_per_minute is not None:
            return self.key.requests_per_minute
        return settings.NMT_API_REQUESTS_PER_MINUTE

    @property
    def char_limit(self) -> int:
        """Characters of one request (LibreTranslate's char limit); 0 = unlimited."""
        if self.key and self.key.char_limit is not None:
            return self.key.char_limit
        return settings.NMT_API_CHAR_LIMIT


def identify(api_key, address: str | None) -> Caller:
    """The caller of a request. A key that is not ours is refused only when keys are required (as
    LibreTranslate does for optional keys, and clients such as deep-translator always send one)."""
    from nmt_site.api.models import ApiKey

    key = None
    if isinstance(api_key, str) and api_key.strip():
        key = ApiKey.objects.filter(key=api_key.strip(), active=True).first()
        if key is None and settings.NMT_API_KEY_REQUIRED:
            raise AccessRefused("invalid_api_key", "Invalid API key")
    if key is None and settings.NMT_API_KEY_REQUIRED:
        raise AccessRefused(
            "key_required", "Invalid API key: this server requires an api_key (ask its operator for one)."
        )
    return Caller(address=address or "unknown", key=key)


def key_from_request(request, given=None):
    """An API key sent as ``Authorization: Bearer <key>``, else the ``api_key`` parameter given."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return given


def caller_from_request(request, api_key=None) -> Caller:
    from .owner import client_address

    return identify(key_from_request(request, api_key), client_address(request))


def caller_from_scope(scope, api_key=None) -> Caller:
    """A websocket's caller: the key of the message, else of the URL's query string (``?api_key=``)."""
    from urllib.parse import parse_qs

    from .owner import scope_address

    if not api_key:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        api_key = (query.get("api_key") or [None])[0]
    return identify(api_key, scope_address(scope))


def check_length(caller: Caller, chars: int) -> None:
    """LibreTranslate's per-request character limit (the key's own, else the site's)."""
    limit = caller.char_limit
    if limit > 0 and chars > limit:
        raise WorkRequestError("too_long", f"Invalid request: the text has {chars} characters; the limit is {limit}.")


@lru_cache(maxsize=4)
def _storage(url: str):
    from limits.storage import storage_from_string

    return storage_from_string(url, socket_connect_timeout=2, socket_timeout=2)


def _hit(name: str, caller: Caller, limit: int, cost: int = 1) -> bool:
    from limits import RateLimitItemPerSecond
    from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

    storage = _storage(settings.REDIS_URL)
    # Requests: an exact moving window (one timestamp per request, at most `limit` of them per caller).
    # Characters: costs in the thousands would be thousands of timestamps, so the two-counter sliding window.
    limiter = MovingWindowRateLimiter(storage) if cost == 1 else SlidingWindowCounterRateLimiter(storage)
    item = RateLimitItemPerSecond(limit, settings.NMT_RATE_WINDOW_SECONDS)
    try:
        return limiter.hit(item, settings.NMT_API_REDIS_PREFIX, name, caller.identity, cost=cost)
    except Exception:  # redis errors arrive wrapped or not depending on the storage: either way, no limiter
        raise LimiterUnavailable(
            "limiter_unavailable", "The rate limiter is unavailable (Redis); try again shortly."
        ) from None


def count_request(caller: Caller) -> None:
    """One request against the caller's requests-per-minute limit (0 = unlimited)."""
    limit = caller.requests_per_minute
    if limit > 0 and not _hit("requests", caller, limit):
        raise LimitReached("rate_limited", f"Too many requests: the limit is {limit} per minute.")


def count_chars(caller: Caller, chars: int) -> None:
    limit = settings.NMT_API_CHARS_PER_MINUTE
    if limit > 0 and chars > 0 and not _hit("chars", caller, limit, cost=min(chars, limit + 1)):
        raise LimitReached(
            "too_many_characters", f"Too many characters: the limit is {limit} per minute; try again shortly."
        )


def active_work(owner: Owner) -> int:
    """Text jobs and documents of ``owner`` that are queued or running (every registered kind that has owners)."""
    from django.db.models import Q

    from . import lifecycle
    from .models import ACTIVE_STATES, OwnedWork

    if not owner.known:
        return 0
    mine = Q()
    if owner.session_key:
        mine |= Q(owner_session=owner.session_key)
    if owner.user_id is not None:
        mine |= Q(owner_user_id=owner.user_id)
    total = 0
    for kind in lifecycle.kinds():
        if issubclass(kind.model, OwnedWork):
            total += kind.model.objects.filter(mine, state__in=ACTIVE_STATES).count()
    return total


def check_active(owner: Owner, new: int = 1) -> None:
    limit = settings.NMT_MAX_ACTIVE_WORK
    if limit > 0 and active_work(owner) + new > limit:
        raise LimitReached(
            "too_much_work",
            f"You have {limit} translations queued or running, the most at once; wait for one to finish.",
        )


def check_site_active(model, limit: int, what: str) -> None:
    """A cap on one kind of work queued or running site-wide (benchmark runs have no owner)."""
    from .models import ACTIVE_STATES

    if limit > 0 and model.objects.filter(state__in=ACTIVE_STATES).count() >= limit:
        raise LimitReached("too_much_work", f"{limit} {what} are already queued or running; try again later.")


def admit(
    caller: Caller | None, *, owner: Owner | None = None, chars: int = 0, work: int = 1, per_request: bool = False
) -> None:
    """Everything a request that creates ``work`` items for ``owner`` must pass. The request is counted first,
    refused or not (a flood of refused requests is still a flood); ``per_request`` also applies the caller's
    characters-per-request limit (LibreTranslate's char limit). ``caller`` None: the site's own work
    (commands, services called in-process), not limited."""
    if caller is None:
        return
    count_request(caller)
    if per_request:
        check_length(caller, chars)
    if owner is not None and work:
        check_active(owner, work)
    count_chars(caller, chars)
