"""The checkpoint folder every family saves to and loads from (``save_pretrained`` style).

config.json        architecture + hyper-parameters (rebuilds the model)
model.safetensors  weights (fp16 for shipping, fp32 during training)
tokenizer.json     the shared subword vocabulary
engine.json        what the registry lists: name, family, languages, parameters, decoding defaults
model_card.json    data, training time, scores (also rendered to README.md)

An AR transformer's folder is also a standard Hugging Face Marian folder (translator/marian_folder.py): the
standard keys in config.json, the weights under MarianMTModel's names.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_model, save_model

from . import marian_folder
from .engine import EngineError
from .models.architectures import get_architecture
from .models.base import TranslationModel
from .tokenizer import SubwordTokenizer

CONFIG, WEIGHTS, ENGINE, CARD = "config.json", "model.safetensors", "engine.json", "model_card.json"


def model_class_for(architecture: object) -> type[TranslationModel]:
    """The model class of an architecture name (translator.models.architectures is the table)."""
    return get_architecture(architecture).model_class()


def save_folder(
    folder: str | Path,
    model,
    tokenizer: SubwordTokenizer,
    engine: dict,
    card: dict | None = None,
    half: bool = True,
) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marian = model.architecture == "transformer"
    config = marian_folder.standard_config(model.config) if marian else model.config
    (folder / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    copy = model
    if half:
        import copy as copy_module

        copy = copy_module.deepcopy(model).half()
    # The Marian model itself, not our wrapper: its weight names are the standard ones.
    save_model(copy.marian if marian else copy, str(folder / WEIGHTS), metadata={"format": "pt"})
    tokenizer.save(folder)
    engine = dict(
        engine,
        architecture=model.architecture,
        family=model.family,
        parameters=model.num_parameters(),
        decoding_defaults=model.decoding_defaults,
    )
    (folder / ENGINE).write_text(json.dumps(engine, indent=2, sort_keys=True) + "\n")
    if card is not None:
        (folder / CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return folder


def load_model_folder(folder: str | Path, device: torch.device | str = "cpu", dtype=torch.float32):
    """Rebuild the model and tokenizer from a folder; every failure names the file at fault."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EngineError(f"checkpoint folder {folder} does not exist")
    config_path = folder / CONFIG
    try:
        config = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise EngineError(f"{config_path} is missing") from None
    except json.JSONDecodeError as exc:
        raise EngineError(f"{config_path} is not valid JSON: {exc}") from None
    if config.get("model_type") == "marian" or config.get("architecture") == marian_folder.MARIAN_ARCHITECTURE:
        return marian_folder.load_model(folder, device, dtype)  # ours and a user's: one loader
    model = model_class_for(config.get("architecture"))(config)
    weights = folder / WEIGHTS
    if not weights.exists():
        raise EngineError(f"{weights} is missing")
    try:
        missing, unexpected = load_model(model, str(weights), strict=False, device="cpu")
    except Exception as exc:  # safetensors raises several types for truncated/corrupt files
        raise EngineError(f"{weights} could not be read: {exc}") from None
    if missing or unexpected:
        raise EngineError(f"{weights} does not match {config_path}: missing={missing[:5]} unexpected={unexpected[:5]}")
    try:
        tokenizer = SubwordTokenizer.load(folder)
    except (FileNotFoundError, ValueError) as exc:
        raise EngineError(str(exc)) from None
    model.to(device=device, dtype=dtype).eval()
    return model, tokenizer
