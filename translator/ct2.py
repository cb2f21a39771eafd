"""CTranslate2 int8 copies of Marian folders (ours and a user's): the optimized AR that self-hosters deploy.

``python -m translator export-ct2 NAME|FOLDER …`` converts ahead of time; otherwise a ``<name>-ct2`` translator
converts its folder at first use. Converted models are build outputs under ``var/ct2/<name>/`` (``NMT_CT2_DIR``),
never committed; a stamp records the source weights' digest, so a retrained checkpoint is converted again.

The conversion is CTranslate2's own Marian loader (``ctranslate2.converters.transformers``) with two changes for
our vocabularies, which keep <pad> at id 0 rather than last: the pad row stays in the vocabulary, and the decoder
starts from the start token's own embedding (Marian's decoder start is the pad token, whose embedding our
training did not keep at zero, unlike Marian's converter assumes). Bergamot's models cannot be converted: their
decoder is an SSRU (simpler simple recurrent unit), which CTranslate2's Transformer decoder does not have.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from . import marian_folder
from .build_outputs import file_digest, locked, var_dir
from .engine import EngineError

log = logging.getLogger(__name__)

QUANTIZATION = "int8"
STAMP = "nmt_source.json"  # what the converted folder was made from
SUFFIX = "-ct2"


def ct2_root() -> Path:
    return Path(os.environ.get("NMT_CT2_DIR", var_dir() / "ct2"))


def available() -> bool:
    """Whether the ctranslate2 package is installed (found, not imported: listing translators stays light)."""
    import importlib.util

    return importlib.util.find_spec("ctranslate2") is not None


def _stamp(folder: Path, quantization: str = QUANTIZATION) -> dict[str, Any]:
    import ctranslate2

    weights = marian_folder.weights_file(folder)
    if weights is None:
        marian_folder.check_folder(folder)  # raises with the missing files named
        raise EngineError(f"{folder}: no weights")
    return {
        "source": str(Path(folder).resolve()),
        "weights_sha256": file_digest(weights),
        "config_sha256": file_digest(Path(folder) / marian_folder.CONFIG),
        "quantization": quantization,
        "ctranslate2": ctranslate2.__version__,
    }


def is_current(folder: Path, out: Path, quantization: str = QUANTIZATION) -> bool:
    try:
        return json.loads((out / STAMP).read_text()) == _stamp(folder, quantization) and (out / "model.bin").is_file()
    except (OSError, json.JSONDecodeError):
        return False


def _loader_class():
    from ctranslate2.converters.transformers import BartLoader, MarianMTLoader

    class FolderMarianLoader(MarianMTLoader):
        """MarianMTLoader for any Marian folder: the vocabulary comes from the folder's own tokenizer, pad keeps
        its row wherever it is, and decoding starts from the real start-token embedding."""

        def get_model_spec(self, model):
            model.config.normalize_before = False
            model.config.normalize_embedding = False
            return BartLoader.get_model_spec(self, model)  # without MarianMTLoader's removal of a last pad row

        def set_config(self, config, model, tokenizer):
            config.eos_token = tokenizer.eos_token
            config.unk_token = tokenizer.unk_token
            config.decoder_start_token = tokenizer.start_token

        def set_decoder(self, spec, decoder):
            BartLoader.set_decoder(self, spec, decoder)  # start_from_zero_embedding stays off

        def get_vocabulary(self, model, tokenizer):
            return tokenizer.tokens

    return FolderMarianLoader


class _Vocabulary:
    """What the CTranslate2 loader asks of a tokenizer."""

    def __init__(self, tokens: list[str], pad: int, eos: int, unk: int, start: int):
        self.tokens = tokens
        self.eos_token, self.unk_token, self.start_token, self.pad_token = (
            tokens[eos],
            tokens[unk],
            tokens[start],
            tokens[pad],
        )


def convert_folder(folder: Path, out: Path, quantization: str = QUANTIZATION) -> Path:
    """Convert one Marian folder to CTranslate2 in ``out`` (atomically replaced; one converter at a time).
    ``quantization``: int8 for serving; float32 keeps the weights as they are (the tests check the conversion
    itself with it: the same outputs as the torch model)."""
    import ctranslate2
    import torch

    folder, out = Path(folder), Path(out)
    with locked(out):  # two worker processes warming up at once convert once
        if is_current(folder, out, quantization):
            return out
        stamp = _stamp(folder, quantization)
        model, tokenizer = marian_folder.load_model(folder)
        marian = model.marian
        tokens = marian_folder.token_list(tokenizer)
        if len(tokens) != marian.config.vocab_size:
            raise EngineError(
                f"{folder}: {len(tokens)} tokens in the vocabulary, {marian.config.vocab_size} in the model"
            )
        config = marian.config
        start = config.decoder_start_token_id if config.decoder_start_token_id is not None else config.pad_token_id
        vocabulary = _Vocabulary(tokens, config.pad_token_id, config.eos_token_id, tokenizer.unk_id, start)

        class Converter(ctranslate2.converters.Converter):
            def _load(self):
                with torch.no_grad():
                    return _loader_class()()(marian, vocabulary)

        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        Converter().convert(str(tmp), quantization=quantization, force=True)
        (tmp / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        # Special ids the engine needs (our pad is 0, OPUS-MT's is last).
        (tmp / "nmt_tokens.json").write_text(
            json.dumps({"pad": vocabulary.pad_token, "eos": vocabulary.eos_token, "start": vocabulary.start_token})
            + "\n"
        )
        shutil.rmtree(out, ignore_errors=True)
        tmp.replace(out)
    return out


def converted_folder(name: str) -> Path:
    return ct2_root() / name


def convert_checkpoint(folder: Path, name: str | None = None) -> Path:
    """The converted copy of a checkpoint folder, converting it now if it is missing or stale."""
    folder = Path(folder)
    out = converted_folder(name or folder.name)
    if not is_current(folder, out):
        log.warning(
            "converting %s to CTranslate2 %s in %s (first use, or its weights changed; "
            "python -m translator export-ct2 does this ahead of time)",
            folder,
            QUANTIZATION,
            out,
        )
        convert_folder(folder, out)
    return out


def convertible(folder: Path) -> bool:
    """A Marian folder (ours or a user's): what gets a ``-ct2`` translator."""
    return marian_folder.is_marian_folder(folder)


def main(argv: list[str]) -> int:
    from .registry import checkpoint_folders

    parser = argparse.ArgumentParser(
        prog="python -m translator export-ct2",
        description="Convert Marian checkpoints (ours or a registered Hugging Face Marian folder) to CTranslate2 "
        f"int8 under {ct2_root()} (NMT_CT2_DIR); each is then the translator <name>{SUFFIX}. Without this, a "
        f"{SUFFIX} translator converts at first use. Bergamot cannot be converted (its decoder is an SSRU).",
    )
    parser.add_argument("names", nargs="*", help="translator names or checkpoint folders (default: every Marian one)")
    args = parser.parse_args(argv)
    if not available():
        parser.error("the ctranslate2 package is not installed (pip install ctranslate2)")
    folders = checkpoint_folders()
    targets: list[tuple[str, Path]] = []
    for item in args.names or [n for n, f in folders.items() if convertible(f)]:
        if item.startswith("bergamot-"):
            parser.error(f"{item}: Bergamot's decoder is an SSRU, which CTranslate2 cannot run")
        name = item.removesuffix(SUFFIX)
        if name in folders:
            folder = folders[name]
        elif Path(item).is_dir():
            folder = Path(item)
            name = folder.name
        else:
            parser.error(f"{item}: unknown translator (known: {', '.join(folders) or 'none'}) and not a folder")
        if not convertible(folder):
            parser.error(f"{item}: not a Marian model (only the AR transformers and Marian folders convert)")
        targets.append((name, folder))
    for name, folder in targets:
        try:
            out = convert_checkpoint(folder, name)
        except EngineError as exc:
            parser.error(str(exc))
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
        print(f"{name}{SUFFIX}: {out} ({size:.1f} MB, {QUANTIZATION})")
    return 0
