"""``python -m translator tune-decoding``: choose one numeric decoding default on the validation set.

Some decoding settings are properties of a trained model rather than of the method: a CTC model that
has not converged over-predicts blanks, and how much to penalise the blank (``blank_penalty``) depends
on how far its training got. This command decodes the validation sentences once per candidate value,
keeps the best BLEU (ties: the value listed first), and writes it as the checkpoint's default
(``engine.json``; ``config.json`` too where the model reads its default from there), with the whole
sweep in the model card. Test sets are never read: the scores of an ``evaluate`` run stay held-out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .checkpoint import CARD, CONFIG, ENGINE
from .corpus import read_parallel
from .engine import EngineError
from .model_card import write_card


def sweep(engine, option: str, values: list[float], sources: list[str], references: list[str]) -> dict:
    """Validation BLEU and output/reference length ratio for each value of ``option``."""
    import sacrebleu

    scores = {}
    for value in values:
        outputs = engine.translate_batch(sources, **{option: value}).outputs
        bleu = sacrebleu.corpus_bleu(outputs, [references])
        scores[str(value)] = {
            "bleu": round(bleu.score, 2),
            "length_ratio": round(bleu.sys_len / max(1, bleu.ref_len), 3),
        }
    return scores


def set_default(folder: Path, option: str, value) -> None:
    """Make ``value`` the checkpoint's default for ``option`` (engine.json, and config.json if it holds it)."""
    engine_path = folder / ENGINE
    engine = json.loads(engine_path.read_text())
    engine["decoding_defaults"][option] = value
    engine_path.write_text(json.dumps(engine, indent=2, sort_keys=True) + "\n")
    config_path = folder / CONFIG
    config = json.loads(config_path.read_text())
    if option in config:
        config[option] = value
        config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def main(argv) -> int:
    from .registry import load_folder

    parser = argparse.ArgumentParser(prog="python -m translator tune-decoding")
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument(
        "--option", required=True, help="a numeric decoding option the engine declares, e.g. blank_penalty"
    )
    parser.add_argument("--values", required=True, help="comma-separated candidates, e.g. 0,1,2,3")
    parser.add_argument("--valid-src", required=True)
    parser.add_argument("--valid-tgt", required=True)
    parser.add_argument("--sentences", type=int, default=500, help="first N validation sentences")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    try:
        values = [float(v) if "." in v else int(v) for v in args.values.split(",")]
    except ValueError:
        parser.error(f"--values must be numbers separated by commas, not {args.values!r}")
    engine = load_folder(args.checkpoint, args.device)
    if args.option not in engine.info.decoding_defaults:
        raise EngineError(
            f"{engine.info.name} has no decoding option {args.option!r}; it has {sorted(engine.info.decoding_defaults)}"
        )
    sources, references = read_parallel(args.valid_src, args.valid_tgt)
    sources, references = sources[: args.sentences], references[: args.sentences]
    scores = sweep(engine, args.option, values, sources, references)
    best = max(values, key=lambda v: (scores[str(v)]["bleu"], -values.index(v)))
    set_default(args.checkpoint, args.option, best)
    card = json.loads((args.checkpoint / CARD).read_text())
    card.setdefault("decoding_tuned", {})[args.option] = {
        "chosen": best,
        "validation_bleu_by_value": scores,
        "valid_set": f"first {len(sources)} sentences of {args.valid_src}",
        "precision": "default",
    }
    write_card(args.checkpoint, card)
    print(json.dumps({"checkpoint": str(args.checkpoint), "option": args.option, "chosen": best, "scores": scores}))
    return 0
