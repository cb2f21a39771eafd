"""Files the translators derive from a checkpoint at first use (CTranslate2 copies, ONNX graphs, shortlists):
build outputs under ``var/`` (``NMT_VAR_DIR``), never committed, rebuilt when their source changes."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path


def var_dir() -> Path:
    return Path(os.environ.get("NMT_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One builder at a time for ``path`` (several worker processes may warm the same engine at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
