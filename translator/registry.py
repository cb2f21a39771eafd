"""Which translators exist, and loading them.

Sources: pretrained engines that ship inside packages (Bergamot en<->pt); our own checkpoints — every folder
under the checkpoints directory that holds an ``engine.json``; and Hugging Face Marian folders (OPUS-MT …)
registered with ``python -m translator register-marian`` or dropped into that directory (translator/marian_folder.py).
``engine.json`` carries the :class:`EngineInfo` fields plus ``architecture``, which picks the model
file that knows how to load the folder. Every Marian folder (our AR transformers and the users') is also listed
as ``<name>-ct2``: the same model in CTranslate2 int8 (translator/ct2.py), converted at first use.
Listing never loads weights; loading is cached per process.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from . import ct2, marian_folder
from .engine import Engine, EngineError, EngineInfo
from .engine_file import ENGINE_FILE, info_from_engine_file, read_engine_file
from .engines import bergamot
from .models.architectures import ARCHITECTURES

REPO_ROOT = Path(__file__).resolve().parent.parent
__all__ = [
    "ENGINE_FILE",
    "checkpoint_folders",
    "fixed_precision",
    "get_info",
    "info_from_engine_file",
    "list_engines",
    "load_engine",
    "load_folder",
]

_cache: dict[tuple, Engine] = {}
_lock = threading.Lock()


def checkpoints_dir() -> Path:
    return Path(os.environ.get("NMT_CHECKPOINTS_DIR", REPO_ROOT / "checkpoints"))


def checkpoint_folders() -> dict[str, Path]:
    """Engine name (from engine.json, else the folder name) -> folder; a Marian folder needs no engine.json."""
    folders = {}
    root = checkpoints_dir()
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            engine_file = folder / ENGINE_FILE
            if engine_file.is_file():
                try:
                    name = json.loads(engine_file.read_text()).get("name") or folder.name
                except (OSError, json.JSONDecodeError):
                    name = folder.name  # listed by folder name; loading will report the error
                folders[name] = folder
            elif marian_folder.is_marian_folder(folder):
                folders[folder.name] = folder
    return folders


def folder_info(folder: Path, name: str) -> EngineInfo:
    """engine.json, or for a Marian folder without one what can be read from the folder."""
    return marian_folder.engine_info(folder, name)


def _ct2_sources() -> dict[str, tuple[EngineInfo, Path]]:
    """``<name>-ct2`` -> (the source folder's info, folder), for every convertible folder when ctranslate2 is there."""
    if not ct2.available():
        return {}
    from .engines import ctranslate2_engine

    out = {}
    for name, folder in checkpoint_folders().items():
        if ct2.convertible(folder):
            try:
                info = folder_info(folder, name)
            except EngineError:
                continue
            if info.family == "AR":
                out[name + ct2.SUFFIX] = (ctranslate2_engine.info_for(info), folder)
    return out


def list_engines() -> list[EngineInfo]:
    infos = [bergamot.info_for(d) for d in bergamot.available_directions()]
    for name, folder in checkpoint_folders().items():
        try:
            infos.append(folder_info(folder, name))
        except EngineError:
            continue  # a broken folder is reported when someone tries to load it, not at listing
    taken = {info.name for info in infos}
    infos += [info for name, (info, _) in _ct2_sources().items() if name not in taken]
    return infos


def fixed_precision(name: str) -> str | None:
    """Why an engine takes no precision option (it runs its own int8 engine), or None if it takes one."""
    if name.startswith("bergamot-"):
        return f"{name} runs its own int8 engine"
    if name.endswith(ct2.SUFFIX) and name not in checkpoint_folders():
        return f"{name} runs CTranslate2 with {ct2.QUANTIZATION} weights"
    return None


def get_info(name: str) -> EngineInfo:
    for info in list_engines():
        if info.name == name:
            return info
    raise EngineError(f"unknown translator {name!r}")


def load_folder(folder: Path, device: str | None = None, precision: str | None = None) -> Engine:
    """Load a checkpoint folder directly (used by the CLI on paths outside the registry).
    ``precision`` "int8" quantizes the weights for the CPU (see quantize); None keeps fp32/fp16."""
    if (Path(folder) / ENGINE_FILE).is_file():
        name = read_engine_file(folder).get("architecture")
    elif marian_folder.is_marian_folder(folder):
        name = marian_folder.MARIAN_ARCHITECTURE  # a Hugging Face Marian folder without our engine.json
    else:
        read_engine_file(folder)  # raises: the folder is not a checkpoint
        name = None
    architecture = ARCHITECTURES.get(str(name))
    if architecture is None:
        raise EngineError(f"{Path(folder) / ENGINE_FILE}: unknown architecture {name!r}")
    return architecture.load_engine(Path(folder), device=device, precision=precision)


def load_engine(name: str, device: str | None = None, precision: str | None = None) -> Engine:
    """The engine called ``name``, loaded once per process, device and precision."""
    key = (name, device, precision)
    with _lock:
        if key not in _cache:
            fixed = fixed_precision(name)
            if fixed and precision:
                raise EngineError(f"{fixed}: it takes no precision option")
            folder = checkpoint_folders().get(name)
            if name.startswith("bergamot-"):
                _cache[key] = bergamot.load(name.removeprefix("bergamot-"), device=device)
            elif folder is not None:
                _cache[key] = load_folder(folder, device=device, precision=precision)
            elif name in (sources := _ct2_sources()):
                from .engines import ctranslate2_engine

                info, source = sources[name]
                _cache[key] = ctranslate2_engine.load(info, source, device=device)
            else:
                raise EngineError(f"unknown translator {name!r}")
        return _cache[key]
