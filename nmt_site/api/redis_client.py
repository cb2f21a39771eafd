"""One Redis client per process for the API's rate limits and translation cache."""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def client() -> redis.Redis:
    # Keyed by URL so tests that change REDIS_URL get their own client.
    return _client(settings.REDIS_URL)
