"""Where uploaded and translated files live: NMT_DOC_DIR, under UUID names, never under a served directory."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings


def doc_dir() -> Path:
    path = Path(settings.NMT_DOC_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(stored_name: str) -> Path:
    # Names are generated here (uuid hex + known extension); refuse anything else so a row can never point
    # outside the directory.
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise ValueError(f"bad stored name {stored_name!r}")
    return doc_dir() / stored_name


def save(data: bytes, extension: str) -> str:
    name = f"{uuid.uuid4().hex}{extension}"
    path = path_of(name)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # a reader never sees half a file
    return name


def read(stored_name: str) -> bytes:
    return path_of(stored_name).read_bytes()


def delete(stored_name: str) -> None:
    if stored_name:
        path_of(stored_name).unlink(missing_ok=True)
