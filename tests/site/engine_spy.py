"""A spy on the real engines, for a test's Celery worker (``celery worker --include tests.site.engine_spy``).

With NMT_SPY_KEY set it wraps ``Engine.translate_batch`` (every engine's entry point): each call's engine and lines
are appended to the Redis list ``<key>:calls`` before the real method runs, and a call any of whose lines contains
a marker in the set ``<key>:hold`` waits (up to a minute) until the test removes the marker. The engine itself is
untouched: the call goes on to the real model with the same arguments.
"""

from __future__ import annotations

import json
import os
import time

import redis

from translator.engine import Engine

KEY = os.environ.get("NMT_SPY_KEY", "")
HOLD_LIMIT_SECONDS = 60
_real_translate_batch = Engine.translate_batch
_clients: dict[int, redis.Redis] = {}  # per process: a pool process must not share its parent's connection


def _client() -> redis.Redis:
    pid = os.getpid()
    if pid not in _clients:
        _clients[pid] = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _clients[pid]


def _spied_translate_batch(self, sentences, **options):
    sentences = list(sentences)
    client = _client()
    client.rpush(f"{KEY}:calls", json.dumps({"pid": os.getpid(), "engine": self.info.name, "lines": sentences}))
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while time.monotonic() < deadline:
        held = {marker.decode() for marker in client.smembers(f"{KEY}:hold")}
        if not any(marker in line for marker in held for line in sentences):
            break
        time.sleep(0.02)
    return _real_translate_batch(self, sentences, **options)


if KEY:
    Engine.translate_batch = _spied_translate_batch  # type: ignore[method-assign]


class Spy:
    """The test's side: read the calls, hold and release markers."""

    def __init__(self, url: str, key: str):
        self.client, self.key = redis.Redis.from_url(url), key

    def calls(self, engine: str | None = None) -> list[dict]:
        calls = [json.loads(raw) for raw in self.client.lrange(f"{self.key}:calls", 0, -1)]
        return [call for call in calls if engine is None or call["engine"] == engine]

    def hold(self, marker: str) -> None:
        self.client.sadd(f"{self.key}:hold", marker)

    def release(self, marker: str) -> None:
        self.client.srem(f"{self.key}:hold", marker)

    def wait_for_call(self, containing: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.calls():
                if any(containing in line for line in call["lines"]):
                    return call
            time.sleep(0.02)
        raise AssertionError(f"no engine call with {containing!r} within {timeout} s")
