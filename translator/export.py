"""``python -m translator export``: a training run → a shippable checkpoint folder.

Averages the last N validation snapshots (a cheap, reliable gain for Transformers) or takes the
best one, and writes the ``save_pretrained``-style folder (fp16 by default) with engine.json and
a model card that records data, configuration, training time and speed from the run's log.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
import yaml

from .checkpoint import CARD, model_class_for, save_folder
from .model_card import earlier_minutes, training_device, write_card
from .tokenizer import SubwordTokenizer
from .vocab_transfer import same_vocabulary


def average_state_dicts(paths: list[Path]) -> dict:
    total: dict[str, torch.Tensor] | None = None
    for path in paths:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if total is None:
            total = {k: v.clone().double() if v.is_floating_point() else v.clone() for k, v in state.items()}
        else:
            for k, v in state.items():
                if v.is_floating_point():
                    total[k] += v.double()
    if total is None:
        raise ValueError("no snapshots to average")
    return {k: (v / len(paths)).float() if v.is_floating_point() else v for k, v in total.items()}


def training_summary(run_dir: Path) -> dict:
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    speeds = [r["tgt_tokens_per_s"] for r in records if "tgt_tokens_per_s" in r]
    curve = [
        {"step": r["step"], "elapsed_min": r["elapsed_min"], "valid_bleu": r["valid_bleu"]}
        for r in records
        if "valid_bleu" in r
    ]
    # The last record with a step: a run stopped from outside (killed, timed out) ends without its own summary.
    last: dict[str, Any] = next((r for r in reversed(records) if "step" in r), {})
    summary = {
        "steps": last.get("step"),
        "epochs": last.get("epoch"),
        "training_minutes": last.get("elapsed_min"),
        "median_target_tokens_per_s": sorted(speeds)[len(speeds) // 2] if speeds else None,
        "validation_curve": curve,
    }
    counted = next((r for r in reversed(records) if "target_tokens" in r), None)
    if counted is not None:
        summary["target_tokens"] = counted["target_tokens"]
        if counted.get("target_tokens_per_epoch"):
            summary["epochs_seen"] = round(counted["target_tokens"] / counted["target_tokens_per_epoch"], 2)
    return summary


def _pair(config: dict) -> tuple:
    return config.get("source_lang"), config.get("target_lang")


def _earlier_card(config: dict) -> dict | None:
    init_from = config.get("init_from")
    card_path = Path(init_from) / CARD if init_from else None
    return json.loads(card_path.read_text()) if card_path and card_path.exists() else None


def _total_training(init_from: str, card: dict) -> dict:
    training, before = card.get("training") or {}, card.get("continued_from") or {}
    by_device = dict(earlier_minutes(before)) if before else {}
    device = training_device(card.get("train_config") or {})
    by_device[device] = round(by_device.get(device, 0) + (training.get("training_minutes") or 0), 2)
    tokens = [training.get("target_tokens"), before.get("target_tokens") if before else 0]
    return {
        "checkpoint": init_from,
        "steps": (training.get("steps") or 0) + before.get("steps", 0),
        # None when a run in the chain did not count them (older cards): better unknown than under-counted
        "target_tokens": None if None in tokens else sum(tokens),
        "training_minutes": round(sum(by_device.values()), 2),
        "minutes_by_device": by_device,
    }


def earlier_training(config: dict, parameters: int) -> dict | None:
    """A run warm-started from a checkpoint of the same model (architecture, size and language pair)
    continues that checkpoint's training: its card carries the earlier steps and minutes (cumulative over
    continuations), so the card's training time is the model's, not only the last run's."""
    card = _earlier_card(config)
    if (
        card is None
        or card.get("architecture") != config["architecture"]
        or card.get("parameters") != parameters
        or _pair(card.get("train_config") or {}) != _pair(config)
    ):
        return None  # a teacher whose layers were copied (or another pair's model), not an earlier run of this model
    return _total_training(config["init_from"], card)


def warm_start_source(config: dict, tokenizer: SubwordTokenizer) -> dict | None:
    """A warm start that is not a continuation (a teacher's layers, another pair's model; the caller checks
    earlier_training first): which model, its pair and what its own training cost, so the card does not hide
    the compute the student started from."""
    card = _earlier_card(config)
    if card is None:
        return None
    source_config = card.get("train_config") or {}
    return {
        **_total_training(config["init_from"], card),
        "architecture": card.get("architecture"),
        "pair": "-".join(str(x) for x in _pair(source_config)),
        "vocabulary": "shared"
        if same_vocabulary(SubwordTokenizer.load(config["init_from"]), tokenizer)
        else "mapped piece by piece",
    }


def export(run_dir: Path, out: Path, average: int, name: str | None, description: str, half: bool = True) -> Path:
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    snapshots = sorted((run_dir / "snapshots").glob("step-*.pt"))
    if average > 0 and snapshots:
        chosen = snapshots[-average:]
        state = average_state_dicts(chosen)
        weights_from = f"average of {len(chosen)} snapshots: {[p.name for p in chosen]}"
    else:
        state = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=True)
        weights_from = "best validation snapshot"
    tokenizer = SubwordTokenizer.load(run_dir)
    model = model_class_for(config["architecture"])({**config["model"], "vocab_size": tokenizer.vocab_size})
    model.load_state_dict(state)
    engine = {
        "name": name or config["name"],
        "source_lang": config["source_lang"],
        "target_lang": config["target_lang"],
        "description": description,
        "max_input_tokens": int(model.config.get("max_source_tokens", 200)),
    }
    card = {
        "name": engine["name"],
        "architecture": config["architecture"],
        "parameters": model.num_parameters(),
        "weights": weights_from,
        "training_data": {
            "source": config["train_src"],
            "target": config["train_tgt"],
            **({"corpora": config["train_corpora"]} if config.get("train_corpora") else {}),
        },
        "training": training_summary(run_dir),
        "train_config": config,
    }
    continued = earlier_training(config, model.num_parameters())  # read before `out` may overwrite init_from
    if continued:
        card["continued_from"] = continued
    elif source := warm_start_source(config, tokenizer):
        card["warm_started_from"] = source
    folder = save_folder(out, model, tokenizer, engine, half=half)
    write_card(folder, card)
    return folder


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m translator export")
    parser.add_argument("--run", required=True, help="run folder, e.g. runs/ar-teacher-en-de")
    parser.add_argument("--out", required=True, help="checkpoint folder to write")
    parser.add_argument("--average", type=int, default=5, help="average the last N snapshots (0: best snapshot)")
    parser.add_argument("--name", help="engine name (default: the run name)")
    parser.add_argument("--description", default="")
    parser.add_argument("--fp32", action="store_true", help="keep fp32 weights instead of fp16")
    args = parser.parse_args(argv)
    folder = export(Path(args.run), Path(args.out), args.average, args.name, args.description, half=not args.fp32)
    print(f"wrote {folder}")
    return 0
