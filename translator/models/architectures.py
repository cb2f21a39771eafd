"""The one table of model architectures: the name written in ``config.json``/``engine.json`` → the model class
→ the engine loader. Training, export, checkpoint loading and the registry all look architectures up here.

Nothing is imported until it is used, so listing translators or loading one family never imports torch or the
other families.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import EngineError

if TYPE_CHECKING:
    from ..engine import Engine
    from .base import TranslationModel


@dataclass(frozen=True)
class Architecture:
    name: str  # as written in config.json and engine.json
    model: str  # "module:Class" under translator.models
    loader: str = "torch_engine:load"  # "module:function" under translator.models: (folder, device, precision)

    @staticmethod
    def _resolve(ref: str) -> Any:
        module, _, attr = ref.partition(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), attr)

    def model_class(self) -> type[TranslationModel]:
        return self._resolve(self.model)

    def load_engine(self, folder: Path, device: str | None = None, precision: str | None = None) -> Engine:
        return self._resolve(self.loader)(Path(folder), device=device, precision=precision)


ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture("transformer", "ar_transformer:ARTransformer"),
        # A user's Hugging Face Marian folder (OPUS-MT …): the same model class, loaded by translator/marian_folder.py.
        Architecture("marian", "ar_transformer:HFMarian"),
        Architecture("calm", "calm:CALM"),
        Architecture("cmlm", "cmlm:CMLM"),
        Architecture("ctc-glat", "ctc_glat:CTCGlat"),
        Architecture("diffusion", "diffusion:Diffusion"),
        Architecture("diffusion-lm", "diffusion_lm:DiffusionLM"),
        Architecture("inarig", "inarig:INarIG"),
    )
}


def get_architecture(name: object) -> Architecture:
    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise EngineError(f"unknown architecture {name!r} (known: {', '.join(ARCHITECTURES)})")
    return ARCHITECTURES[name]
