"""Training speed per model family on the real en-de corpus: target tokens/s over N optimizer steps.

Run on demand: ``.venv/bin/python benchmarks/training_speed.py --steps 15 --out benchmarks/results/training_speed.json``.
Uses the same batching and loss as ``translator train`` (after 2 warm-up steps), one thread by default.
"""

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from translator.checkpoint import model_class_for
from translator.corpus import ParallelCorpus, corpus_training_pairs
from translator.evaluate import environment
from translator.tokenizer import SubwordTokenizer

FAMILIES = {
    "transformer 6-3 (AR teacher)": ("transformer", {}),
    "transformer 6-1 (fast AR)": ("transformer", {"decoder_layers": 1}),
    "cmlm 6-3": ("cmlm", {}),
    "ctc-glat 6-3 x3": ("ctc-glat", {}),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", required=True, help="folder with tokenizer.json")
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--batch-tokens", type=int, default=6000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/training_speed.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tokenizer = SubwordTokenizer.load(args.tokenizer)
    corpus = ParallelCorpus(*corpus_training_pairs("data", "en-de", ["libreoffice", "ding"]), tokenizer)
    batches = corpus.batches(args.batch_tokens, epoch=0, seed=1)
    results = {}
    for label, (architecture, overrides) in FAMILIES.items():
        torch.manual_seed(0)
        model = model_class_for(architecture)({"vocab_size": tokenizer.vocab_size, **overrides}).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        tokens, seconds = 0, 0.0
        for step in range(args.steps + 2):
            batch = corpus.collate(batches[step])
            started = time.perf_counter()
            loss, stats = model.loss(batch, step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step >= 2:  # the first steps pay for lazy initialisation
                seconds += time.perf_counter() - started
                tokens += stats["tokens"]
        results[label] = {
            "parameters": model.num_parameters(),
            "target_tokens_per_s": round(tokens / seconds),
            "steps": args.steps,
        }
        print(label, results[label], flush=True)
    report = {
        "environment": dataclasses.asdict(environment(args.threads)),
        "batch_tokens": args.batch_tokens,
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
