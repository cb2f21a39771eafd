"""Translation cache in Redis, keyed by engine + decoding options + text (identical requests skip the queue)."""

from __future__ import annotations

import hashlib
import json
import logging

import redis
from django.conf import settings

from .redis_client import client

log = logging.getLogger(__name__)


def cache_key(engine: str, options: dict, text: str) -> str:
    payload = json.dumps([engine, options, text], sort_keys=True, ensure_ascii=False)
    return f"{settings.NMT_API_REDIS_PREFIX}:cache:" + hashlib.sha256(payload.encode()).hexdigest()


def get_many(engine: str, options: dict, texts: list[str]) -> list[str | None]:
    if settings.NMT_API_CACHE_SECONDS <= 0 or not texts:
        return [None] * len(texts)
    try:
        values = client().mget([cache_key(engine, options, t) for t in texts])
    except redis.RedisError:
        log.warning("translation cache unavailable", exc_info=True)  # a cache miss, not an error
        return [None] * len(texts)
    return [v.decode() if v is not None else None for v in values]


def put_many(engine: str, options: dict, pairs: list[tuple[str, str]]) -> None:
    if settings.NMT_API_CACHE_SECONDS <= 0 or not pairs:
        return
    try:
        pipe = client().pipeline()
        for text, translation in pairs:
            pipe.set(cache_key(engine, options, text), translation, ex=settings.NMT_API_CACHE_SECONDS)
        pipe.execute()
    except redis.RedisError:
        log.warning("translation cache unavailable", exc_info=True)
