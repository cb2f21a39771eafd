"""Which translators exist, and loading them.

Two sources: pretrained engines that ship inside packages (Bergamot en<->pt), and our own
checkpoints — every folder under the checkpoints directory that holds an ``engine.json``.
``engine.json`` carries the :class:`EngineInfo` fields plus ``architecture``, which picks the model
file that knows how to load the folder. Listing never loads weights; loading is cached per process.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from .engine import Engine, EngineError, EngineInfo
from .engine_file import ENGINE_FILE, info_from_engine_file, read_engine_file
from .engines import bergamot
from .models.architectures import ARCHITECTURES

REPO_ROOT = Path(__file__).resolve().parent.parent
__all__ = ["ENGINE_FILE", "get_info", "info_from_engine_file", "list_engines", "load_engine", "load_folder"]

_cache: dict[tuple, Engine] = {}
_lock = threading.Lock()


def checkpoints_dir() -> Path:
    return Path(os.environ.get("NMT_CHECKPOINTS_DIR", REPO_ROOT / "checkpoints"))


def _checkpoint_folders() -> dict[str, Path]:
    """Engine name (from engine.json, else the folder name) -> folder."""
    folders = {}
    root = checkpoints_dir()
    if root.is_dir():
        for engine_file in sorted(root.glob(f"*/{ENGINE_FILE}")):
            try:
                name = json.loads(engine_file.read_text()).get("name") or engine_file.parent.name
            except (OSError, json.JSONDecodeError):
                name = engine_file.parent.name  # listed by folder name; loading will report the error
            folders[name] = engine_file.parent
    return folders


def list_engines() -> list[EngineInfo]:
    infos = [bergamot.info_for(d) for d in bergamot.available_directions()]
    for name, folder in _checkpoint_folders().items():
        try:
            infos.append(info_from_engine_file(read_engine_file(folder), name))
        except EngineError:
            continue  # a broken folder is reported when someone tries to load it, not at listing
    return infos


def get_info(name: str) -> EngineInfo:
    for info in list_engines():
        if info.name == name:
            return info
    raise EngineError(f"unknown translator {name!r}")


def load_folder(folder: Path, device: str | None = None, precision: str | None = None) -> Engine:
    """Load a checkpoint folder directly (used by the CLI on paths outside the registry).
    ``precision`` "int8" quantizes the weights for the CPU (see quantize); None keeps fp32/fp16."""
    data = read_engine_file(folder)
    architecture = ARCHITECTURES.get(str(data.get("architecture")))
    if architecture is None:
        raise EngineError(f"{Path(folder) / ENGINE_FILE}: unknown architecture {data.get('architecture')!r}")
    return architecture.load_engine(Path(folder), device=device, precision=precision)


def load_engine(name: str, device: str | None = None, precision: str | None = None) -> Engine:
    """The engine called ``name``, loaded once per process, device and precision."""
    key = (name, device, precision)
    with _lock:
        if key not in _cache:
            if name.startswith("bergamot-"):
                if precision:
                    raise EngineError(f"{name} runs its own int8 engine: it takes no precision option")
                _cache[key] = bergamot.load(name.removeprefix("bergamot-"), device=device)
            else:
                folder = _checkpoint_folders().get(name)
                if folder is None:
                    raise EngineError(f"unknown translator {name!r}")
                _cache[key] = load_folder(folder, device=device, precision=precision)
        return _cache[key]
