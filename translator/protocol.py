"""The measurement protocol: one text, ``docs/protocol.md``, stored in every evaluate report and shown by the
dashboard as written."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROTOCOL_FILE = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


@cache
def protocol_text() -> str:
    return PROTOCOL_FILE.read_text(encoding="utf-8")
