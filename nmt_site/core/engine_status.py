"""Warming the engines a worker serves, in the background, and telling the pages which are still loading.

Each pool process starts a ``Warmer`` thread that loads and warms every engine of ``NMT_WARM_ENGINES`` ("all": every
registered one) one after the other, so the worker takes jobs at once and no user pays an engine's first load. A job
for an engine that is being warmed waits for that warm-up to end (an engine is never used half-initialised); a job
for one not warmed yet loads it itself (the registry loads each engine once per process, under its lock).

Each process publishes its engines' states to Redis (``nmt:engines:<queue>:<node>/<pid>``, a hash that expires unless
the process refreshes it), so a dead process's report disappears with it. ``engine_states(queue)`` merges the live
reports: an engine is "ready" when some process serving the queue has warmed it, "loading" while one is warming it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from django.conf import settings

from translator.registry import list_engines, load_engine

from .lifecycle import _redis
from .translators import engine_device

log = logging.getLogger(__name__)

READY, LOADING, FAILED = "ready", "loading", "failed"
# A report lives this long unless refreshed; the warmer refreshes it every third of that.
REPORT_TTL_SECONDS = 60
_warming: dict[str, threading.Event] = {}  # engine -> set once its warm-up in this process has ended
_warming_lock = threading.Lock()


def _report_key(queue: str, process: str) -> str:
    return f"nmt:engines:{queue}:{process}"


def engines_to_warm() -> list[str]:
    """The registered engines named by NMT_WARM_ENGINES, in its order ("all": every registered one)."""
    available = [info.name for info in list_engines()]
    wanted = settings.NMT_WARM_ENGINES
    if wanted == ["all"]:
        return available
    for name in wanted:
        if name not in available:
            log.warning("engine %s is not installed; not warming it", name)
    return [name for name in wanted if name in available]


class Warmer:
    """Loads and warms ``names`` in a daemon thread of this process and keeps its report in Redis fresh."""

    def __init__(self, names: list[str], queues: list[str], process: str, load: Callable = load_engine):
        self.names, self.queues, self.process, self.load = list(names), list(queues), process, load
        self.states = {name: LOADING for name in self.names}
        with _warming_lock:
            for name in self.names:
                _warming.setdefault(name, threading.Event())
        self._thread = threading.Thread(target=self._run, name="nmt-engine-warmer", daemon=True)

    def start(self) -> Warmer:
        self._publish()
        self._thread.start()
        return self

    def _run(self) -> None:
        for name in self.names:
            start = time.perf_counter()
            try:
                self.load(name, device=engine_device()).warm_up()
                self.states[name] = READY
                log.info("engine %s loaded and warmed up in %.1f s", name, time.perf_counter() - start)
            except Exception as exc:  # a broken model folder must not stop the others from warming
                self.states[name] = FAILED
                log.error("engine %s failed to load: %s", name, exc)
            finally:
                _warming[name].set()
            self._publish()
        while True:  # keep the report alive as long as this process lives
            time.sleep(REPORT_TTL_SECONDS / 3)
            self._publish()

    def _publish(self) -> None:
        try:
            pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
            for queue in self.queues:
                key = _report_key(queue, self.process)
                pipe.hset(key, mapping=self.states)
                pipe.expire(key, REPORT_TTL_SECONDS)
            pipe.execute()
        except redis.RedisError as exc:  # the page then just shows no loading note; jobs are unaffected
            log.info("could not publish engine states (%s)", exc)


def wait_until_warm(name: str, timeout: float | None = None) -> None:
    """Block while this process's warmer is warming ``name`` (returns at once for an engine it does not warm)."""
    event = _warming.get(name)
    if event is not None and not event.is_set():
        event.wait(timeout)


def engine_states(queue: str) -> dict[str, str]:
    """{engine: "ready" | "loading" | "failed"} over the live processes serving ``queue``; {} when none reports
    (no worker, or Redis down)."""
    merged: dict[str, str] = {}
    rank = {FAILED: 0, LOADING: 1, READY: 2}
    try:
        client = _redis(settings.REDIS_URL)
        keys = list(client.scan_iter(match=_report_key(queue, "*"), count=100))
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        reports = pipe.execute()
    except redis.RedisError:
        return {}
    for report in reports:
        for raw_name, raw_state in report.items():
            name, state = raw_name.decode(), raw_state.decode()
            if rank.get(state, -1) > rank.get(merged.get(name, ""), -1):
                merged[name] = state
    return merged
