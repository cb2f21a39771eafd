"""Where CTC-GLAT's inference time goes, at batch 1 and batch 64: each stage of one decode timed on its own.

Stages: tokenize + pad, encoder, decoder input (upsampled embeddings), decoder layers, output projection
(states × vocabulary), blank penalty + argmax, CTC collapse in Python, detokenize; shares are of their sum. The
engine's whole translate_batch (sentence segmentation, sorting), reported next to them. Medians over the
sentences (batch 1) or batches (64) of the test set, one thread. Writes benchmarks/results/nar-profile.json.

    .venv/bin/python benchmarks/nar_profile.py --test-set en-de/libreoffice --limit 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = (
    "tokenize",
    "encoder",
    "decoder_input",
    "decoder_layers",
    "output_projection",
    "argmax",
    "collapse",
    "detokenize",
)


def profile_batch(engine, sentences: list[str], options: dict) -> dict[str, float]:
    """Seconds per stage for one batch, running the model's own parts in the order generate() does."""
    import torch

    from translator.models.base import pad_sequences
    from translator.models.ctc_glat import BLANK, NUM_SPECIALS, ctc_collapse

    model, tok = engine.model, engine.tokenizer
    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[stage] = now - clock
        clock = now

    with torch.inference_mode():
        ids, _ = engine._encode(sentences)
        src = pad_sequences(ids, tok.pad_id)
        lap("tokenize")
        src_mask = src.ne(tok.pad_id)
        memory = model.backbone.encode(src, src_mask)
        lap("encoder")
        x, slot_mask = model._decoder_input(src)
        lap("decoder_input")
        states = model.backbone.decode_states(x, slot_mask, memory, src_mask)
        lap("decoder_layers")
        logits = model.backbone.project(states).float()
        lap("output_projection")
        logits[..., :NUM_SPECIALS] = logits[..., :NUM_SPECIALS].masked_fill(
            torch.arange(NUM_SPECIALS) != BLANK, float("-inf")
        )
        logits[..., BLANK] -= float(options.get("blank_penalty", model.config["blank_penalty"]))
        frames = logits.argmax(-1)
        lap("argmax")
        outputs = [ctc_collapse(frames[b, : int(slot_mask[b].sum())].tolist()) for b in range(src.size(0))]
        lap("collapse")
        tok.decode(outputs)
        lap("detokenize")
    return times


def profile(engine, sources: list[str], batch: int, options: dict) -> dict:
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    batches = [[sources[i] for i in order[k : k + batch]] for k in range(0, len(order), batch)]
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    totals = []
    for chunk in batches:
        for stage, seconds in profile_batch(engine, chunk, options).items():
            per_stage[stage].append(seconds)
        start = time.perf_counter()
        engine.translate_batch(chunk, **options)
        totals.append(time.perf_counter() - start)
    stage_ms = {s: round(statistics.median(v) * 1000, 3) for s, v in per_stage.items()}
    return {
        "batch": batch,
        "batches": len(batches),
        # The engine's own call (it also splits inputs into sentences, so its batches can differ slightly).
        "engine_median_ms_per_batch": round(statistics.median(totals) * 1000, 3),
        "stages_ms": stage_ms,
        "share": shares(stage_ms),
    }


def shares(stage_ms: dict[str, float]) -> dict[str, float]:
    """Each stage's share of the decode (the sum of the stages)."""
    total = sum(stage_ms.values())
    return {s: round(ms / total, 3) for s, ms in stage_ms.items()}


def main() -> int:
    import torch

    from translator.evaluate import environment, load_test_set
    from translator.registry import load_engine

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="ctc-glat-en-de")
    parser.add_argument("--test-set", default="en-de/libreoffice")
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "nar-profile.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    test = load_test_set(args.test_set, args.data_dir, args.limit)
    report = {"environment": environment(args.threads).__dict__, "test_set": test.id, "sentences": len(test.sources)}
    rows = []
    for precision in ("fp32", "int8"):
        engine = load_engine(args.engine, precision=precision)
        engine.warm_up()
        for batch in (1, 64):
            row = {"engine": args.engine, "precision": precision, **profile(engine, test.sources, batch, {})}
            rows.append(row)
            listed = ", ".join(f"{s} {v:.0%}" for s, v in row["share"].items())
            print(
                f"{args.engine} {precision} batch {batch}: {row['engine_median_ms_per_batch']:.2f} ms/batch; {listed}"
            )
    report["rows"] = rows
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
