"""Health checks for /health: the database, Redis, and that a Celery worker answers a ping."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection

from nmt_site.celery import app as celery_app


def _timed(check) -> dict:
    start = time.perf_counter()
    try:
        detail = check()
        result = {"ok": True, **(detail or {})}
    except Exception as exc:  # every failure is reported, none is raised: this is a status page
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def check_redis() -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def check_workers(timeout: float = 1.0) -> dict:
    replies = celery_app.control.ping(timeout=timeout)
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        raise RuntimeError(f"no Celery worker answered a ping within {timeout} s")
    return {"workers": workers}


def run_checks(include_worker: bool = True) -> dict:
    checks = {"database": _timed(check_database), "redis": _timed(check_redis)}
    if include_worker:
        checks["worker"] = _timed(check_workers)
    ok = all(c["ok"] for c in checks.values())
    # "status" is LibreTranslate's /health field, so its clients' health checks read this endpoint too.
    return {"ok": ok, "status": "ok" if ok else "error", "checks": checks}
