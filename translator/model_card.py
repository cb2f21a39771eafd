"""Model cards: ``model_card.json`` in each checkpoint folder, rendered to ``README.md`` for people.

``python -m translator card --checkpoint checkpoints/NAME --report reports/eval.json`` copies that
engine's test scores (every system of the report that is this engine, with its decoding options)
into the card, so the numbers in a card always come from an ``evaluate`` run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .checkpoint import CARD
from .report import EvaluationReport

README = "README.md"
SCORE_FIELDS = ("bleu", "bleu_ci95", "chrf", "bleu_signature", "chrf_signature", "repeated_token_rate")


def scores_from_report(report: EvaluationReport, engine_name: str) -> list[dict[str, Any]]:
    rows = []
    for system in report.systems:
        if system.name != engine_name:
            continue
        for test_id, result in system.results.items():
            rows.append(
                {
                    "system": system.label,
                    "decoding": system.decoding,
                    "test_set": test_id,
                    "sentences": report.test_sets[test_id].sentences,
                    **{k: getattr(result, k) for k in SCORE_FIELDS},
                    "latency_p50_ms": result.latency_ms.p50,
                    "throughput_64_sent_per_s": result.throughput["64"].sentences_per_s,
                }
            )
    return rows


def training_device(config: dict) -> str:
    """ "GPU" or "CPU": minutes on the two are not the same currency, so cards keep them apart."""
    return "GPU" if str(config.get("device") or "cpu").startswith("cuda") else "CPU"


def minutes_text(by_device: dict) -> str:
    return " + ".join(f"{minutes} {device}-minutes" for device, minutes in by_device.items()) or "no recorded minutes"


def earlier_minutes(earlier: dict) -> dict:
    # Cards written before GPU training existed carry CPU minutes only.
    return earlier.get("minutes_by_device") or {"CPU": earlier.get("training_minutes", 0)}


def render_markdown(card: dict) -> str:
    training = card.get("training", {})
    device = training_device(card.get("train_config") or {})
    lines = [
        f"# {card['name']}",
        "",
        f"- Architecture: {card['architecture']} ({card['parameters']:,} parameters), weights: {card.get('weights', '')}",
        f"- Training data: {card.get('training_data_description') or card.get('training_data')}",
        f"- Training: {training.get('steps')} steps, {training.get('epochs')} epochs, "
        f"{training.get('training_minutes')} {device}-minutes, median {training.get('median_target_tokens_per_s')} "
        "target tokens/s"
        + (
            f", {training['target_tokens']:,} target tokens seen ({training.get('epochs_seen')} epochs of its data)"
            if training.get("target_tokens")
            else ""
        ),
    ]
    continued = card.get("continued_from")
    if continued:
        total = dict(earlier_minutes(continued))
        total[device] = round(total.get(device, 0) + (training.get("training_minutes") or 0), 2)
        lines.append(
            f"- Continued from {continued['checkpoint']}: {continued['steps']} earlier steps, "
            f"{minutes_text(earlier_minutes(continued))} earlier ({minutes_text(total)} in all)"
        )
    source = card.get("warm_started_from")
    if source:
        lines.append(
            f"- Warm-started from {source['checkpoint']} ({source['architecture']}, {source['pair']}, vocabulary "
            f"{source['vocabulary']}), which had trained {source['steps']} steps in "
            f"{minutes_text(earlier_minutes(source))}"
        )
    chosen = card.get("weights_chosen_by")
    if chosen:
        kept = ", ".join(f"{label} {bleu}" for label, bleu in chosen["validation_bleu"].items())
        lines.append(f"- Weights kept: {chosen['kept']} (validation BLEU of the fp16 export: {kept})")
    for option, tuned in (card.get("decoding_tuned") or {}).items():
        sweep = ", ".join(f"{value}: {score['bleu']}" for value, score in tuned["validation_bleu_by_value"].items())
        lines.append(
            f"- Decoding default {option}={tuned['chosen']}, chosen on the {tuned['valid_set']} "
            f"(validation BLEU by value: {sweep})"
        )
    calm = card.get("calm_calibration")
    if calm:
        scan = ", ".join(f"{r['threshold']}: {r['risk']} / {r['average_layers']}" for r in calm["scan"])
        lines.append(
            f"- Exit threshold λ={calm['chosen_threshold']} ({calm['measure']} confidence), calibrated with "
            f"Learn-then-Test on the {calm['valid_set']}: {calm['risk']} risk ≤ {calm['delta']} with probability "
            f"≥ 1 − {calm['epsilon']} (λ: mean risk / decoder layers per token of {calm['decoder_layers']}: {scan})"
        )
    config = card.get("train_config") or {}
    if config.get("init_from") or config.get("autocast"):
        lines.append(
            f"- Warm start: {config.get('init_from') or 'none'}; mixed precision: {config.get('autocast') or 'none (fp32)'}"
        )
    curve = training.get("validation_curve") or []
    if curve:
        config = card.get("train_config") or {}
        decoding = ", ".join(f"{k}={v}" for k, v in (config.get("valid_decoding") or {}).items()) or "model defaults"
        lines.append(
            f"- Validation BLEU ({decoding}, {config.get('valid_sentences', 500)} sentences of {config.get('valid_src', 'valid')}) "
            "by training minute: " + ", ".join(f"{p['elapsed_min']:.1f} min {p['valid_bleu']}" for p in curve)
        )
    scores = card.get("test_scores") or []
    if scores:
        lines += [
            "",
            f"## Test scores ({card.get('scores_environment', '')})",
            "",
            "| system | test set | sentences | BLEU [95% CI] | chrF | p50 ms | sent/s @64 |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in scores:
            ci = row.get("bleu_ci95", ["", ""])
            lines.append(
                f"| {row['system']} | {row['test_set']} | {row['sentences']} | {row['bleu']} [{ci[0]}, {ci[1]}] | "
                f"{row['chrf']} | {row['latency_p50_ms']} | {row['throughput_64_sent_per_s']} |"
            )
        lines += ["", f"BLEU signature: `{scores[0].get('bleu_signature', '')}`"]
    if card.get("notes"):
        lines += ["", "## Notes", "", card["notes"]]
    return "\n".join(lines) + "\n"


def write_card(folder: Path, card: dict) -> None:
    (folder / CARD).write_text(json.dumps(card, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    (folder / README).write_text(render_markdown(card))


def card_in_sync(folder: Path) -> bool:
    card = json.loads((folder / CARD).read_text())
    readme = folder / README
    if readme.is_file() and readme.read_text() == render_markdown(card):
        return True
    print(f"{readme} is not the rendering of {folder / CARD}: run python -m translator card --checkpoint {folder}")
    return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m translator card")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--report", help="evaluate JSON whose scores for this engine go into the card")
    parser.add_argument("--data", help="human description of the training data")
    parser.add_argument("--notes", help="free text appended to the card")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check that README.md is the rendering of model_card.json (exit 1 if not)",
    )
    args = parser.parse_args(argv)
    folder = Path(args.checkpoint)
    if args.check:
        return 0 if card_in_sync(folder) else 1
    card = json.loads((folder / CARD).read_text())
    name = json.loads((folder / "engine.json").read_text())["name"]
    if args.report:
        report = EvaluationReport.load(args.report)
        card["test_scores"] = scores_from_report(report, name)
        env = report.environment
        card["scores_environment"] = f"{env.cpu}, {env.threads} thread(s), torch {env.torch}, commit {env.git_commit}"
    if args.data:
        card["training_data_description"] = args.data
    if args.notes:
        card["notes"] = args.notes
    write_card(folder, card)
    print(f"updated {folder / CARD} and {folder / README}")
    return 0
