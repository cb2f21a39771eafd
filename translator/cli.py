"""``python -m translator <command> …``: each command lives in its own module with a ``main(argv)``."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "prepare-data": ("translator.data.prepare", "fetch and align the offline corpora, write splits"),
    "train-tokenizer": ("translator.tokenizer", "train a shared subword vocabulary for a pair"),
    "train": ("translator.train", "train an AR or NAR model from a config (resumable)"),
    "distill": ("translator.distill", "translate training sources with a teacher engine (resumable)"),
    "export": ("translator.export", "average a run's snapshots into a checkpoint folder"),
    "evaluate": ("translator.evaluate", "BLEU/chrF with CIs, latency and throughput, as JSON"),
    "evaluate-wlac": ("translator.wlac", "word-level autocompletion accuracy and latency with baselines, as JSON"),
    "tune-decoding": ("translator.tune_decoding", "choose a numeric decoding default on the validation set"),
    "calibrate-calm": ("translator.calibrate_calm", "choose a calm checkpoint's exit threshold with Learn-then-Test"),
    "card": ("translator.model_card", "put an evaluate report's scores into a checkpoint's model card"),
    "export-ct2": ("translator.ct2", "convert Marian checkpoints to CTranslate2 int8 (<name>-ct2 translators)"),
    "register-marian": ("translator.marian_folder:main_register", "register a Hugging Face Marian / OPUS-MT folder"),
    "hf-marian": (
        "translator.marian_folder:main_standardize",
        "make AR checkpoints standard Hugging Face Marian folders",
    ),
    "list": ("translator.list_cli", "list the registered translators"),
}


def usage() -> str:
    lines = ["usage: python -m translator <command> [options]", "", "commands:"]
    lines += [f"  {name:16} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, _, function = COMMANDS[command][0].partition(":")
    return getattr(importlib.import_module(module_name), function or "main")(rest) or 0
