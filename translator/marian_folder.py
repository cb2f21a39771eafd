"""A Hugging Face Marian folder: the one layout, and the one loader, for our AR checkpoints and a user's own
Marian model (e.g. OPUS-MT).

    config.json        ``model_type: marian`` and the MarianConfig keys (ours also carry their own keys:
                       ``architecture``, ``heads``, ``ffn_dim`` …, which describe the same model)
    model.safetensors  weights under MarianMTModel's names (or pytorch_model.bin)
    tokenizer          ours: tokenizer.json (translator/tokenizer.py); OPUS-MT: source.spm, target.spm, vocab.json
    engine.json        optional: name, languages, description for the registry; without it (a folder dropped
                       into the checkpoints folder) the name is the folder's and the languages come from
                       tokenizer_config.json or a ``…-en-de`` folder name

So ``AutoModelForSeq2SeqLM.from_pretrained(folder)`` loads ours as it loads anyone's. Older exports of ours kept
the weights under a ``marian.`` prefix (the attribute of our wrapper module); the loader maps those names, and
``python -m translator hf-marian`` rewrites such a file under the standard names (the same tensors).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import struct
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import AR, AR_DECODING_DEFAULTS, EngineError, EngineInfo
from .engine_file import ENGINE_FILE, info_from_engine_file

if TYPE_CHECKING:
    import torch

CONFIG = "config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
SPM_FILES = ("source.spm", "target.spm", "vocab.json")
OUR_TOKENIZER = "tokenizer.json"
# Weight names of our older exports: the Marian model sat under our wrapper's ``marian`` attribute.
LEGACY_PREFIX = "marian."
MARIAN_ARCHITECTURE = "marian"  # engine.json architecture of a user's folder (translator.models.architectures)
# Keys of a config.json that only describe how transformers was called, not the model.
_NOT_MODEL_KEYS = ("transformers_version", "_name_or_path")


def read_config(folder: Path) -> dict[str, Any]:
    path = Path(folder) / CONFIG
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise EngineError(f"{path} is missing: not a Hugging Face Marian folder") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise EngineError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EngineError(f"{path} is not a JSON object")
    return data


def is_marian_folder(folder: Path) -> bool:
    """A folder whose config.json says ``model_type: marian`` (complete or not: check_folder says what is missing)."""
    try:
        return read_config(folder).get("model_type") == "marian"
    except EngineError:
        return False


def weights_file(folder: Path) -> Path | None:
    return next((Path(folder) / name for name in WEIGHT_FILES if (Path(folder) / name).is_file()), None)


def check_folder(folder: Path) -> dict[str, Any]:
    """The folder's config, or an EngineError that names every missing file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EngineError(f"{folder} is not a folder")
    config = read_config(folder)
    if config.get("model_type") != "marian":
        raise EngineError(
            f"{folder / CONFIG}: model_type is {config.get('model_type')!r}, not 'marian' (only Marian models are supported)"
        )
    missing = []
    if weights_file(folder) is None:
        missing.append(" or ".join(WEIGHT_FILES))
    if not (folder / OUR_TOKENIZER).is_file():
        missing += [name for name in SPM_FILES if not (folder / name).is_file()]
    if missing:
        raise EngineError(f"{folder} is not a complete Hugging Face Marian folder: missing {', '.join(missing)}")
    return config


# --- config.json ---------------------------------------------------------------------------------------------


def standard_config(ours: dict[str, Any]) -> dict[str, Any]:
    """Our AR config plus the standard Marian keys (transformers' MarianConfig of the same model), so the folder
    is a Hugging Face Marian folder. Our keys win where both name the same thing (they agree)."""
    from .models.ar_transformer import marian_config

    standard = marian_config({**_our_defaults(), **ours}).to_diff_dict()
    for key in _NOT_MODEL_KEYS:
        standard.pop(key, None)
    standard["architectures"] = ["MarianMTModel"]
    return {**standard, **ours}


def _our_defaults() -> dict[str, Any]:
    from .models.ar_transformer import DEFAULTS

    return dict(DEFAULTS)


def our_config(config: dict[str, Any]) -> dict[str, Any]:
    """The ARTransformer config of a Marian folder: ours as written, or derived from a user's MarianConfig."""
    if config.get("architecture") == "transformer":
        defaults = _our_defaults()
        standard = set(standard_config({})) - set(defaults)
        return {k: v for k, v in config.items() if k not in standard or k == "architecture"}
    positions = int(config.get("max_position_embeddings", 512))
    return {
        "vocab_size": int(config["vocab_size"]),
        "d_model": int(config["d_model"]),
        "encoder_layers": int(config["encoder_layers"]),
        "decoder_layers": int(config["decoder_layers"]),
        "heads": int(config["encoder_attention_heads"]),
        "ffn_dim": int(config["encoder_ffn_dim"]),
        "dropout": 0.0,
        "max_positions": positions,
        "max_source_tokens": positions,
    }


# --- loading -------------------------------------------------------------------------------------------------


def load_model(folder: Path, device: Any = "cpu", dtype: torch.dtype | None = None):
    """(ARTransformer around transformers' MarianMTModel, tokenizer) of a Marian folder, ours or a user's."""
    import torch
    from transformers import MarianMTModel

    from .models.ar_transformer import ARTransformer, HFMarian

    folder = Path(folder)
    config = check_folder(folder)
    try:
        loaded: Any = MarianMTModel.from_pretrained(
            str(folder),
            key_mapping={f"^{re.escape(LEGACY_PREFIX)}": ""},
            output_loading_info=True,
            dtype=torch.float32,
        )
        marian, loading = loaded  # (model, loading info): output_loading_info=True
    except Exception as exc:  # safetensors and torch raise several types for truncated or corrupt files
        raise EngineError(f"{weights_file(folder)} could not be read as a Marian model: {exc}") from None
    missing = sorted(set(loading.get("missing_keys") or ()) - _tied_names(marian))
    mismatched = loading.get("mismatched_keys") or []
    if missing or mismatched:
        raise EngineError(
            f"{weights_file(folder)} does not match {folder / CONFIG}: missing {missing[:5]} mismatched {mismatched[:5]}"
        )
    tokenizer = load_tokenizer(folder)
    if tokenizer.vocab_size > marian.config.vocab_size:
        raise EngineError(
            f"{folder}: the tokenizer has {tokenizer.vocab_size} tokens, the model only {marian.config.vocab_size}"
        )
    model_class = ARTransformer if config.get("architecture") == "transformer" else HFMarian
    model = model_class(our_config(config), marian=marian)
    model.to(device=device, dtype=dtype or torch.float32).eval()
    return model, tokenizer


def _tied_names(marian) -> set[str]:
    """Weights that are the shared embedding matrix under another name: never stored twice."""
    return {"model.shared.weight", "model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"} | (
        {"lm_head.weight"} if marian.config.tie_word_embeddings else set()
    )


class MarianVocab:
    """An OPUS-MT style vocabulary (source.spm, target.spm, vocab.json) behind the interface of our
    SubwordTokenizer that the engines use: ids without EOS in, ids out, special ids."""

    def __init__(self, folder: Path):
        from transformers import MarianTokenizer

        try:
            self._tok = MarianTokenizer.from_pretrained(str(folder))
        except (OSError, ValueError, RuntimeError) as exc:
            raise EngineError(f"{folder}: the Marian tokenizer could not be loaded: {exc}") from None
        self.pad_id = int(self._tok.pad_token_id)
        self.eos_id = int(self._tok.eos_token_id)
        self.unk_id = int(self._tok.unk_token_id)

    @property
    def vocab_size(self) -> int:
        return len(self._tok.get_vocab())

    def encode(self, texts: list[str]) -> list[list[int]]:
        return self._tok(texts, add_special_tokens=False)["input_ids"]

    def decode(self, ids_batch: list[list[int]]) -> list[str]:
        return self._tok.batch_decode(ids_batch, skip_special_tokens=True)

    def vocabulary(self) -> dict[str, int]:
        return self._tok.get_vocab()

    def id_to_token(self, i: int) -> str:
        return self._tok.convert_ids_to_tokens(i)

    @property
    def special_tokens(self) -> set[str]:
        return {self._tok.eos_token, self._tok.unk_token, self._tok.pad_token}

    def normalize(self, text: str) -> str:
        return unicodedata.normalize("NFKC", text)  # sentencepiece's default normalization (nmt_nfkc)


def load_tokenizer(folder: Path):
    """A user's sentencepiece vocabulary when the folder has one, else ours (tokenizer.json)."""
    from .tokenizer import SubwordTokenizer

    folder = Path(folder)
    if all((folder / name).is_file() for name in SPM_FILES):
        return MarianVocab(folder)
    try:
        return SubwordTokenizer.load(folder)
    except (FileNotFoundError, ValueError) as exc:
        raise EngineError(str(exc)) from None


def spellable(tokenizer):
    """The engine's ``spellable`` test (translator/spelling.py) from either kind of tokenizer: the characters of
    its ordinary pieces (our vocabularies keep specials at ids 0-5, OPUS-MT's name theirs)."""
    from .spelling import spellable_from_vocabulary

    specials = getattr(tokenizer, "special_tokens", None) or {tokenizer.id_to_token(i) for i in range(6)}
    pieces = [piece for piece in tokenizer.vocabulary() if piece not in specials]
    return spellable_from_vocabulary(pieces, tokenizer.normalize)


def token_list(tokenizer) -> list[str]:
    """The vocabulary in id order (what CTranslate2 stores), with no gaps."""
    by_id = {i: token for token, i in tokenizer.vocabulary().items()}
    if sorted(by_id) != list(range(len(by_id))):
        raise EngineError("the vocabulary's ids are not 0..N-1")
    return [by_id[i] for i in range(len(by_id))]


# --- what the registry lists -------------------------------------------------------------------------------


def infer_languages(folder: Path) -> tuple[str, str] | None:
    """tokenizer_config.json's source_lang/target_lang (OPUS-MT writes them), else a ``…-xx-yy`` folder name."""
    folder = Path(folder)
    try:
        data = json.loads((folder / "tokenizer_config.json").read_text())
        source, target = data.get("source_lang"), data.get("target_lang")
        if isinstance(source, str) and isinstance(target, str) and source and target:
            return source.split("_")[0].lower(), target.split("_")[0].lower()
    except (OSError, json.JSONDecodeError, AttributeError):
        pass
    match = re.search(r"(?:^|[-_])([a-z]{2,3})-([a-z]{2,3})$", folder.name)
    return (match.group(1), match.group(2)) if match else None


def count_parameters(folder: Path) -> int | None:
    """Parameters from the safetensors header (shapes only: the weights are not read); shared tensors count once."""
    path = Path(folder) / WEIGHT_FILES[0]
    try:
        with path.open("rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    except (OSError, ValueError, struct.error):
        return None
    total = 0
    for name, entry in header.items():
        if name != "__metadata__":
            count = 1
            for dim in entry.get("shape", []):
                count *= int(dim)
            total += count
    return total


def decoding_defaults() -> dict[str, Any]:
    return dict(AR_DECODING_DEFAULTS)


def engine_info(folder: Path, name: str | None = None) -> EngineInfo:
    """What the registry lists for a Marian folder: its engine.json, or what can be read without loading."""
    from .engine_file import read_engine_file

    folder = Path(folder)
    name = name or folder.name
    if (folder / ENGINE_FILE).is_file() or not is_marian_folder(folder):
        return info_from_engine_file(read_engine_file(folder), name)  # raises when there is no engine.json
    languages = infer_languages(folder)
    if languages is None:
        raise EngineError(
            f"{folder}: cannot tell its languages (no source_lang/target_lang in tokenizer_config.json, and the "
            f"folder name does not end in -xx-yy): register it with python -m translator register-marian "
            f"{folder} --source XX --target YY"
        )
    config = read_config(folder)
    return EngineInfo(
        name=name,
        family=AR,
        architecture=MARIAN_ARCHITECTURE,
        source_lang=languages[0],
        target_lang=languages[1],
        parameters=count_parameters(folder),
        description=f"Hugging Face Marian model from the folder {folder.name}.",
        max_input_tokens=int(config.get("max_position_embeddings", 512)),
        decoding_defaults=decoding_defaults(),
    )


# --- commands ------------------------------------------------------------------------------------------------


def register(
    folder: Path, checkpoints: Path, name: str | None, source: str | None, target: str | None, link: bool = False
) -> Path:
    """Copy (or link) a user's Marian folder into the checkpoints folder with an engine.json: the site, the API,
    the dashboard and evaluate then list it. Checks the folder first (a clear error names what is missing)."""
    folder = Path(folder).resolve()
    config = check_folder(folder)
    name = name or folder.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise EngineError(f"translator name {name!r}: use letters, digits, '.', '_' and '-'")
    languages = (source, target) if source and target else infer_languages(folder)
    if languages is None or not all(languages):
        raise EngineError(f"{folder}: give --source and --target (the languages cannot be read from the folder)")
    out = Path(checkpoints) / name
    if out.exists():
        raise EngineError(f"{out} exists already: choose another --name or remove it")
    load_model(folder)  # loads once: a folder that would fail at the first request fails now
    out.mkdir(parents=True)
    for item in folder.iterdir():
        if item.is_file() and item.name != ENGINE_FILE:
            if link:
                (out / item.name).symlink_to(item)
            else:
                shutil.copy2(item, out / item.name)
    engine = {
        "name": name,
        "architecture": MARIAN_ARCHITECTURE,
        "family": AR,
        "source_lang": languages[0],
        "target_lang": languages[1],
        "parameters": count_parameters(out),
        "max_input_tokens": int(config.get("max_position_embeddings", 512)),
        "decoding_defaults": decoding_defaults(),
        "description": f"Hugging Face Marian model registered from {folder.name}.",
    }
    (out / ENGINE_FILE).write_text(json.dumps(engine, indent=2, sort_keys=True) + "\n")
    return out


def standardize(folder: Path, weights: bool = True) -> list[str]:
    """Make one of our AR checkpoint folders a standard Hugging Face Marian folder: the standard keys in
    config.json and (``weights``) the weights under MarianMTModel's names. Returns what changed."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    folder = Path(folder)
    config = read_config(folder)
    if config.get("architecture") != "transformer":
        raise EngineError(f"{folder}: only our AR transformer folders (architecture 'transformer') are converted")
    changed = []
    wanted = standard_config(our_config(config))
    if wanted != config:
        (folder / CONFIG).write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n")
        changed.append(CONFIG)
    path = folder / WEIGHT_FILES[0]
    if weights and path.is_file():
        with safe_open(str(path), framework="pt") as f:
            names = list(f.keys())
            if any(n.startswith(LEGACY_PREFIX) for n in names):
                tensors: dict[str, torch.Tensor] = {n.removeprefix(LEGACY_PREFIX): f.get_tensor(n) for n in names}
                tmp = path.with_suffix(".tmp")
                save_file(tensors, str(tmp), metadata={"format": "pt"})
                tmp.replace(path)
                changed.append(path.name)
    return changed


def main_register(argv: list[str]) -> int:
    from .registry import checkpoints_dir

    parser = argparse.ArgumentParser(
        prog="python -m translator register-marian",
        description="Register a Hugging Face Marian folder (config.json with model_type marian, weights, "
        "source.spm/target.spm/vocab.json, e.g. an OPUS-MT model) as a translator of the site, the API and the "
        "dashboard. Dropping the folder into the checkpoints folder works too when its languages can be read "
        "from it.",
    )
    parser.add_argument("folder")
    parser.add_argument("--name", help="translator name (default: the folder's name)")
    parser.add_argument("--source", help="source language code (default: from the folder)")
    parser.add_argument("--target", help="target language code (default: from the folder)")
    parser.add_argument("--link", action="store_true", help="symlink the files instead of copying them")
    parser.add_argument("--ct2", action="store_true", help="also convert it to CTranslate2 int8 now (<name>-ct2)")
    args = parser.parse_args(argv)
    try:
        out = register(Path(args.folder), checkpoints_dir(), args.name, args.source, args.target, args.link)
    except EngineError as exc:
        parser.error(str(exc))
    print(f"registered {out.name} ({out})")
    if args.ct2:
        from .ct2 import convert_checkpoint

        print(f"converted to CTranslate2: {convert_checkpoint(out)}")
    return 0


def main_standardize(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m translator hf-marian",
        description="Make our AR checkpoint folders standard Hugging Face Marian folders (config.json keys; "
        "weights under MarianMTModel's names, the same tensors), loadable with AutoModelForSeq2SeqLM.",
    )
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--config-only", action="store_true", help="only add the standard keys to config.json")
    args = parser.parse_args(argv)
    for folder in args.folders:
        try:
            changed = standardize(Path(folder), weights=not args.config_only)
        except EngineError as exc:
            parser.error(str(exc))
        print(f"{folder}: {', '.join(changed) if changed else 'already standard'}")
    return 0
