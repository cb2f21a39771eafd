"""Who is calling (API key or client address) and whether they may: key checks, rate and character limits."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from .errors import ApiError
from .models import ApiKey
from .redis_client import client


@dataclass(frozen=True)
class Caller:
    key: ApiKey | None
    address: str

    @property
    def identity(self) -> str:
        return f"key:{self.key.pk}" if self.key else f"ip:{self.address}"

    @property
    def owner_session(self) -> str:
        # Jobs created through the API belong to a pseudo-session of the key or the address.
        return "api-" + hashlib.sha256(self.identity.encode()).hexdigest()[:32]

    @property
    def requests_per_minute(self) -> int:
        if self.key and self.key.requests_per_minute is not None:
            return self.key.requests_per_minute
        return settings.NMT_API_REQUESTS_PER_MINUTE

    @property
    def char_limit(self) -> int:
        if self.key and self.key.char_limit is not None:
            return self.key.char_limit
        return settings.NMT_API_CHAR_LIMIT


def client_address(request) -> str:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (we do not trust X-Forwarded-For blindly).
    return request.META.get("REMOTE_ADDR") or "unknown"


def identify(api_key: str | None, request) -> Caller:
    """The caller; ApiError 403 for a wrong key, or a missing one when keys are required."""
    key = None
    if api_key:
        key = ApiKey.objects.filter(key=api_key, active=True).first()
        if key is None:
            raise ApiError("Invalid API key", 403)
    elif settings.NMT_API_KEY_REQUIRED:
        raise ApiError("Invalid API key: this server requires an api_key (ask its operator for one).", 403)
    return Caller(key=key, address=client_address(request))


def check_rate(caller: Caller) -> None:
    """A fixed one-minute window per caller in Redis (0 = unlimited). Over the limit: ApiError 429."""
    limit = caller.requests_per_minute
    if limit <= 0:
        return
    window = int(time.time() // 60)
    name = f"{settings.NMT_API_REDIS_PREFIX}:rate:{caller.identity}:{window}"
    try:
        pipe = client().pipeline()
        pipe.incr(name)
        pipe.expire(name, 120)
        count = pipe.execute()[0]
    except redis.RedisError:
        raise ApiError("The rate limiter is unavailable (Redis); try again shortly.", 503) from None
    if count > limit:
        raise ApiError(f"Too many requests: the limit is {limit} per minute.", 429)


def check_chars(caller: Caller, chars: int) -> None:
    limit = caller.char_limit
    if limit > 0 and chars > limit:
        raise ApiError(f"Invalid request: the text has {chars} characters; the limit is {limit}.", 400)
