"""``python -m translator calibrate-calm``: choose a CALM checkpoint's exit threshold λ with Learn-then-Test.

Learn-then-Test (Angelopoulos et al. 2021), as CALM uses it (Schuster et al. 2022): the user states a tolerance
δ on a risk and a confidence ε, and gets the lowest λ (the most early exits) for which, with probability at
least 1 − ε over the draw of the validation set, the expected risk on new inputs of the same distribution is at
most δ. Per validation sentence the risk is in [0, 1]:

- ``consistency`` (default; no references needed): 1 − sentence BLEU / 100 of the early-exit output against the
  same model's full-depth output — textual consistency with the full model;
- ``bleu-drop``: max(0, sentence BLEU of the full-depth output − that of the early-exit output) / 100, both
  against the reference.

Each candidate λ is a hypothesis H_λ: "risk(λ) > δ", with the Hoeffding p-value exp(−2n·max(0, δ − mean risk)²).
Fixed-sequence testing scans λ from high (few exits, safe) to low and stops at the first λ whose p-value exceeds
ε; the last λ before it is the answer (λ = 1.0, full depth, if none passes — its consistency risk is zero).
Testing in a fixed order at level ε each controls the family-wise error at ε without a multiplicity correction,
which is why the order must be fixed before seeing the data (high to low: risk grows with earlier exits).

The chosen λ and measure become the checkpoint's decoding defaults (engine.json) and the whole scan goes into
the model card. Only validation files are read: test sets stay held-out for ``evaluate``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from .checkpoint import CARD
from .corpus import read_parallel
from .engine import EngineError
from .model_card import write_card
from .tune_decoding import set_default

RISKS = ("consistency", "bleu-drop")
DEFAULT_THRESHOLDS = "1.0,0.99,0.98,0.95,0.9,0.85,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1,0.0"


def hoeffding_p_value(mean_risk: float, n: int, delta: float) -> float:
    """p-value of H0 "expected risk > δ" for n i.i.d. risks in [0, 1] with this mean (Hoeffding's inequality)."""
    return math.exp(-2 * n * max(0.0, delta - mean_risk) ** 2)


def learn_then_test(risks: dict[float, list[float]], delta: float, epsilon: float) -> tuple[float, list[dict]]:
    """The chosen λ and the scan: one row per λ, from high to low, with its mean risk, p-value and outcome.

    The scan covers every λ given (for the card); the choice stops at the first failure."""
    chosen, testing, scan = 1.0, True, []
    for threshold in sorted(risks, reverse=True):
        values = risks[threshold]
        mean = sum(values) / len(values)
        p = hoeffding_p_value(mean, len(values), delta)
        passed = p <= epsilon
        if testing and passed:
            chosen = threshold
        testing = testing and passed
        scan.append({"threshold": threshold, "risk": round(mean, 5), "p_value": round(p, 6), "passed": passed})
    return chosen, scan


def sentence_risks(kind: str, early: list[str], full: list[str], references: list[str]) -> list[float]:
    from sacrebleu.metrics import BLEU

    bleu = BLEU(effective_order=True)

    def score(hyp: str, ref: str) -> float:
        if hyp == ref:
            return 100.0  # also for two empty strings, which sentence BLEU scores 0
        return bleu.sentence_score(hyp, [ref]).score

    if kind == "consistency":
        return [1 - score(e, f) / 100 for e, f in zip(early, full, strict=True)]
    return [max(0.0, score(f, r) - score(e, r)) / 100 for e, f, r in zip(early, full, references, strict=True)]


def main(argv) -> int:
    from .models.torch_engine import TorchEngine
    from .registry import load_folder

    parser = argparse.ArgumentParser(prog="python -m translator calibrate-calm")
    parser.add_argument("--checkpoint", required=True, type=Path, help="a calm checkpoint folder")
    parser.add_argument("--valid-src", required=True)
    parser.add_argument("--valid-tgt", required=True, help="references (read by --risk bleu-drop only)")
    parser.add_argument("--delta", type=float, default=0.1, help="tolerated expected risk δ")
    parser.add_argument("--epsilon", type=float, default=0.05, help="allowed probability ε that the risk exceeds δ")
    parser.add_argument("--risk", choices=RISKS, default="consistency")
    parser.add_argument("--measure", default="softmax", help="confidence measure: softmax, saturation, classifier")
    parser.add_argument("--thresholds", default=DEFAULT_THRESHOLDS, help="comma-separated candidates λ in [0, 1]")
    parser.add_argument("--sentences", type=int, default=1000, help="first N validation sentences")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    try:
        thresholds = sorted({float(v) for v in args.thresholds.split(",")}, reverse=True)
    except ValueError:
        parser.error(f"--thresholds must be numbers separated by commas, not {args.thresholds!r}")
    if not all(0 <= t <= 1 for t in thresholds):
        parser.error("--thresholds must lie in [0, 1]")
    engine = load_folder(args.checkpoint, args.device)
    if engine.info.architecture != "calm":
        raise EngineError(f"{engine.info.name} is a {engine.info.architecture!r} checkpoint, not calm")
    assert isinstance(engine, TorchEngine)  # calm checkpoints load with torch_engine.load (architectures table)
    sources, references = read_parallel(args.valid_src, args.valid_tgt)
    sources, references = sources[: args.sentences], references[: args.sentences]

    full = engine.translate_batch(sources, threshold=1.0, measure=args.measure).outputs
    risks, layers = {}, {}
    for threshold in thresholds:
        result = engine.translate_batch(sources, threshold=threshold, measure=args.measure)
        risks[threshold] = sentence_risks(args.risk, result.outputs, full, references)
        spent = [d["average_layers"] for d in result.details if "average_layers" in d]
        layers[threshold] = round(sum(spent) / max(len(spent), 1), 3)
    chosen, scan = learn_then_test(risks, args.delta, args.epsilon)
    for row in scan:
        row["average_layers"] = layers[row["threshold"]]

    set_default(args.checkpoint, "threshold", chosen)
    set_default(args.checkpoint, "measure", args.measure)
    card = json.loads((args.checkpoint / CARD).read_text())
    card["calm_calibration"] = {
        "method": "Learn-then-Test, Hoeffding p-values, fixed-sequence testing from high to low threshold",
        "measure": args.measure,
        "risk": args.risk,
        "delta": args.delta,
        "epsilon": args.epsilon,
        "chosen_threshold": chosen,
        "decoder_layers": engine.model.config["decoder_layers"],
        "valid_set": f"first {len(sources)} sentences of {args.valid_src}",
        "scan": scan,
    }
    write_card(args.checkpoint, card)
    print(json.dumps({"checkpoint": str(args.checkpoint), "chosen_threshold": chosen, "scan": scan}))
    return 0
