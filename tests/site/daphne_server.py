"""The real ASGI app under daphne, as a subprocess on the test database, Redis and queue (like the worker)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings

from .conftest import LOG_DIR, ROOT, _database_url_for_worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(log_name: str, extra_env: dict[str, str] | None = None):
    """Start daphne, wait until /health answers, yield its base URL, stop it. ``extra_env``: settings of this
    server only."""
    from django.db import connection

    port = free_port()
    log_path = LOG_DIR / f"{log_name}-{os.getpid()}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nmt_site.settings",
        "DATABASE_URL": _database_url_for_worker(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "NMT_QUEUE": settings.NMT_QUEUE,
        "NMT_DEVICE": "cpu",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        **(extra_env or {}),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "nmt_site.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health?worker=0", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"daphne did not start\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
