"""The project's held-out evaluation material: English texts that no corpus may train on or test with.

The list lives outside the repository (``NMT_HELDOUT_DIR``, default ``../shared/heldout`` beside the checkout):
``normalize.py`` (how a text is normalized and hashed) and ``sources.sha256``. We load that module as it is, so
the check is byte-for-byte the one the list was made with. Where the folder is missing (a user's clone), no text
is held out and the manifest says the list was not checked.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class HeldOut:
    is_held_out: Callable[[str], bool]
    description: str


def default_dir() -> Path:
    return Path(os.environ.get("NMT_HELDOUT_DIR", REPO_ROOT.parent / "shared" / "heldout"))


def load(folder: Path | None = None) -> HeldOut:
    folder = default_dir() if folder is None else Path(folder)
    module_path = folder / "normalize.py"
    if not module_path.is_file() or not (folder / "sources.sha256").is_file():
        return HeldOut(lambda text: False, f"not checked: no held-out list at {folder}")
    spec = importlib.util.spec_from_file_location("heldout_normalize", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    count = len(module.held_out_hashes())
    return HeldOut(module.is_held_out, f"{count} hashes from {folder.name}/sources.sha256")
