"""``engine.json``: what the registry lists about a checkpoint folder without loading its weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .engine import EngineError, EngineInfo

ENGINE_FILE = "engine.json"


def read_engine_file(folder: Path) -> dict[str, Any]:
    path = Path(folder) / ENGINE_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise EngineError(f"{path} is missing: not a translator checkpoint folder") from None
    except json.JSONDecodeError as exc:
        raise EngineError(f"{path} is not valid JSON: {exc}") from None


def info_from_engine_file(data: dict[str, Any], default_name: str) -> EngineInfo:
    fields = {k: data[k] for k in EngineInfo.__dataclass_fields__ if k in data}
    fields.setdefault("name", default_name)
    try:
        return EngineInfo(**fields)
    except TypeError as exc:
        raise EngineError(f"engine.json of {default_name} lacks fields: {exc}") from None
