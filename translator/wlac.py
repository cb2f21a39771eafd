"""Word-level autocompletion (WLAC, the WMT22 shared task): examples, baselines and ``evaluate-wlac``.

A WLAC example: a source sentence, the target context a translator has written (left and/or right of a
gap), the first characters typed for the word in the gap, and that word. Examples are cut from parallel
pairs: one target word is picked, with one of the shared task's four context types (none, left, right,
both) and a typed prefix of random length (at least one character, shorter than the word).

- Training examples are drawn on the fly from the training pairs by the INarIG model itself
  (translator/models/inarig.py, ``loss``), with :func:`choose_gap`: a new gap for every pair and epoch.
- The test set comes from a held-out test split only (:func:`heldout_examples` refuses any other file),
  deterministically: the same files and seed always give the same examples.

``python -m translator evaluate-wlac`` measures an INarIG checkpoint on such a test set: accuracy@1 by
context type and by typed-prefix length, latency per suggestion at batch 1, and in the same run two
baselines: the most frequent training-target word with the typed prefix, and (given a CMLM checkpoint)
the CMLM filling the gap under the same prefix constraint.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import random
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

from .corpus import read_lines, read_parallel

CONTEXT_TYPES = ("none", "left", "right", "both")
# Words are letters, optionally joined by hyphens ("E-Mail"): what a person completes while typing.
# Numbers and punctuation-bearing tokens ("Haus.") are never a gap.
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
TYPED_LENGTH_BUCKETS = ("1", "2", "3", "4+")


def is_word(token: str) -> bool:
    """A completable word: letters (inner hyphens allowed), at least two characters (one typed, one to go)."""
    return len(token) >= 2 and WORD.fullmatch(token) is not None


def target_words(target: str) -> list[str]:
    """The target's words as the model spells them: NFKC (the tokenizer's normaliser), split at whitespace."""
    return unicodedata.normalize("NFKC", target).split()


def choose_gap(
    rng: random.Random, words: Sequence[str | None], context: str | None = None
) -> tuple[int, str, int] | None:
    """(word index, context type, typed characters) for one example, or None when no word qualifies.

    ``words[i]`` None marks a word that cannot be a gap (the model passes that for words with unknown
    pieces). A context type needs its side(s) to exist: "left" a word before the gap, "right" one after,
    "both" both. ``context`` asks for a type; if no word allows it, the type is drawn among those possible.
    """
    last = len(words) - 1
    feasible = {
        kind: [
            i
            for i, w in enumerate(words)
            if w is not None
            and is_word(w)
            and (kind not in ("left", "both") or i > 0)
            and (kind not in ("right", "both") or i < last)
        ]
        for kind in CONTEXT_TYPES
    }
    possible = [kind for kind in CONTEXT_TYPES if feasible[kind]]
    if not possible:
        return None
    kind = context if context in possible else rng.choice(possible)
    index = rng.choice(feasible[kind])
    word = words[index]
    assert word is not None  # feasible indices are words
    typed = rng.randint(1, len(word) - 1)
    return index, kind, typed


@dataclass(frozen=True)
class WLACExample:
    source: str
    left: str
    right: str
    typed: str
    word: str
    context: str  # none | left | right | both

    @property
    def typed_bucket(self) -> str:
        return str(len(self.typed)) if len(self.typed) < 4 else "4+"


def example_from_pair(source: str, target: str, rng: random.Random, context: str | None = None) -> WLACExample | None:
    words = target_words(target)
    gap = choose_gap(rng, words, context)
    if gap is None or not source.strip():
        return None
    index, kind, typed = gap
    left = " ".join(words[:index]) if kind in ("left", "both") else ""
    right = " ".join(words[index + 1 :]) if kind in ("right", "both") else ""
    word = words[index]
    return WLACExample(source.strip(), left, right, word[:typed], word, kind)


def wlac_examples(
    sources: list[str], targets: list[str], seed: int = 1, balanced: bool = True
) -> Iterator[WLACExample]:
    """At most one example per pair; pair i has its own generator (seed, i), so the examples of a pair never
    depend on the others. ``balanced`` cycles the context types over the pairs (equal groups to report)."""
    for i, (source, target) in enumerate(zip(sources, targets, strict=False)):
        rng = random.Random(seed * 1_000_003 + i)
        example = example_from_pair(source, target, rng, CONTEXT_TYPES[i % 4] if balanced else None)
        if example is not None:
            yield example


TEST_SPLIT = re.compile(r"test\.[A-Za-z_-]+")


def heldout_examples(
    src_path: str | Path, tgt_path: str | Path, seed: int = 1, training_targets: Iterable[str] = ()
) -> tuple[list[WLACExample], dict]:
    """The WLAC test set of a held-out test split (files named ``test.<lang>``, as prepare-data writes them).

    Any other file is refused: a test set cut from training (or validation) pairs would measure memory.
    Pairs whose target sentence also occurs in ``training_targets`` are dropped and counted, for corpora
    with repeated segments. Returns the examples and a description of the set (paths, counts, sha256).
    """
    for path in (src_path, tgt_path):
        if not TEST_SPLIT.fullmatch(Path(path).name):
            raise ValueError(f"{path}: a WLAC test set is generated from a held-out test split (test.<lang>) only")
    sources, targets = read_parallel(src_path, tgt_path)
    pairs = len(targets)
    seen = set(training_targets)
    keep = [i for i, t in enumerate(targets) if t not in seen]
    sources, targets = [sources[i] for i in keep], [targets[i] for i in keep]
    examples = list(wlac_examples(sources, targets, seed))
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps(asdict(e), ensure_ascii=False).encode() + b"\n")
    return examples, {
        "source": str(src_path),
        "target": str(tgt_path),
        "seed": seed,
        "pairs": pairs,
        "pairs_dropped_as_training_targets": pairs - len(keep),
        "examples": len(examples),
        "sha256": digest.hexdigest(),
    }


# --------------------------------------------------------------------------------------------- baselines
class FrequencyBaseline:
    """The most frequent training-target word that starts with the typed characters (context ignored)."""

    def __init__(self, targets: Iterable[str]):
        counts = Counter(w for t in targets for w in target_words(t) if is_word(w))
        self.words = sorted(counts)
        self.counts = counts

    @classmethod
    def from_files(cls, paths: list[str | Path]) -> FrequencyBaseline:
        return cls(line for path in paths for line in read_lines(path))

    def complete(self, typed: str) -> str:
        typed = unicodedata.normalize("NFKC", typed)
        lo = bisect.bisect_left(self.words, typed)
        hi = bisect.bisect_left(self.words, typed + "\U0010ffff")
        # max keeps the first of equal counts: ties go to the alphabetically first word.
        return max(self.words[lo:hi], key=self.counts.__getitem__, default="")


class CMLMGapFill:
    """A CMLM (translator/models/cmlm.py) filling the gap under the same prefix constraint as INarIG.

    The target is left context + n [MASK] + right context; the masks are filled left to right, each with
    the best piece the typed prefix allows (the first a word-initial piece, the others continuations, the
    last one completing the typed text). Every n in 1 … ``max_subwords`` is tried; the fill with the best
    mean log-probability wins (the CMLM has no end-of-word token: the gap length is its only way to end).
    """

    def __init__(self, model, tokenizer, max_subwords: int = 4):
        from .models.inarig import PieceTable

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.pieces = PieceTable(tokenizer)
        self.max_subwords = max_subwords
        self.max_source_tokens = int(model.config.get("max_source_tokens", 200))

    def complete(self, source: str, left: str, right: str, typed: str) -> str:
        import torch

        from .models.base import pad_sequences
        from .tokenizer import MASK, PAD, SPECIAL_TOKENS

        typed = unicodedata.normalize("NFKC", typed)
        tok = self.tokenizer
        src_ids = tok.encode([source])[0][: self.max_source_tokens - 1] + [tok.eos_id]
        left_ids = tok.encode([left])[0] if left.strip() else []
        right_ids = tok.encode([right])[0] if right.strip() else []
        with torch.inference_mode():
            src = pad_sequences([src_ids], PAD)
            memory, src_mask, _ = self.model._encode(src)
            best, best_score = "", float("-inf")
            for n in range(1, self.max_subwords + 1):
                decoded: list[int] = []
                text, total = "", 0.0
                for j in range(n):
                    allowed = self.pieces.allowed(typed, text, first=j == 0)
                    if j == n - 1:  # the last piece must complete the typed text
                        need = len(typed) - len(text)
                        long_enough = [len(cast(str, self.pieces.text[int(i)])) >= need for i in allowed]
                        allowed = allowed[torch.tensor(long_enough, dtype=torch.bool)]
                    if allowed.numel() == 0:
                        break
                    tokens = torch.tensor([left_ids + decoded + [MASK] * (n - j) + right_ids])
                    states = self.model._decode_states(tokens, src, memory, src_mask)[0, len(left_ids) + j]
                    logits = self.model.backbone.project(states).float()
                    logits[: len(SPECIAL_TOKENS)] = float("-inf")
                    logp = logits.log_softmax(-1)[allowed]
                    k = int(logp.argmax())
                    decoded.append(int(allowed[k]))
                    text += cast(str, self.pieces.text[decoded[-1]])  # allowed pieces all have a text
                    total += float(logp[k])
                else:
                    if total / n > best_score:
                        best, best_score = text, total / n
        return best


# ------------------------------------------------------------------------------------------- evaluation
def _percentile(values: list[float], q: float) -> float | None:
    from .evaluate import percentile

    return round(percentile(values, q), 2) if values else None


def _accuracy_table(examples: list[WLACExample], predictions: list[str]) -> dict:
    def group(indices: list[int]) -> dict:
        hits = sum(predictions[i] == examples[i].word for i in indices)
        return {"examples": len(indices), "accuracy": round(100 * hits / len(indices), 2) if indices else None}

    everything = list(range(len(examples)))
    return {
        **group(everything),
        "by_context": {c: group([i for i in everything if examples[i].context == c]) for c in CONTEXT_TYPES},
        "by_typed_length": {
            b: group([i for i in everything if examples[i].typed_bucket == b]) for b in TYPED_LENGTH_BUCKETS
        },
    }


def evaluate_wlac(
    engine, examples: list[WLACExample], frequency: FrequencyBaseline, cmlm: CMLMGapFill | None = None, progress=print
) -> dict:
    """Every system on every example at batch 1; accuracy tables, latency (ms per suggestion), predictions."""
    empty: Counter[str] = Counter()  # why INarIG gave no suggestion (the reason's first words)

    def inarig(e: WLACExample) -> str:
        got = engine.complete_word(e.source, e.left, e.right, e.typed)
        if not got.word:
            empty[got.reason.split(":")[0][:60]] += 1
        return got.word

    systems = {"inarig": inarig, "frequency": lambda e: frequency.complete(e.typed)}
    if cmlm is not None:
        systems["cmlm"] = lambda e: cmlm.complete(e.source, e.left, e.right, e.typed)
    engine.warm_up()
    results = {}
    for name, suggest in systems.items():
        predictions, latencies = [], []
        for k, e in enumerate(examples):
            start = time.perf_counter()
            predictions.append(suggest(e))
            latencies.append((time.perf_counter() - start) * 1000)
            if progress and (k + 1) % 500 == 0:
                progress(f"{name}: {k + 1}/{len(examples)}")
        results[name] = {
            **_accuracy_table(examples, predictions),
            "latency_ms": {
                "p50": _percentile(latencies, 0.5),
                "p95": _percentile(latencies, 0.95),
                "mean": round(statistics.fmean(latencies), 3),
                "suggestions": len(latencies),
            },
            "prefix_violations": sum(
                not p.startswith(e.typed) for p, e in zip(predictions, examples, strict=False) if p
            ),
            "predictions": predictions,
        }
    results["inarig"]["empty_suggestions"] = dict(empty)
    return results


def bars(results: dict) -> dict:
    """The issue's bars: INarIG ≥ frequency + 15 points and ≥ constrained CMLM, overall and per context type."""
    out = {}
    for scope in ("overall", *CONTEXT_TYPES):

        def acc(name: str, scope=scope) -> float | None:
            table = results.get(name)
            if table is None:
                return None
            return table["accuracy"] if scope == "overall" else table["by_context"][scope]["accuracy"]

        inarig, frequency, cmlm = acc("inarig"), acc("frequency"), acc("cmlm")
        if inarig is None:
            continue
        out[scope] = {
            "inarig_ge_frequency_plus_15": frequency is not None and inarig >= frequency + 15,
            "inarig_ge_cmlm": None if cmlm is None else inarig >= cmlm,
        }
    return out


def main(argv):
    from .checkpoint import load_model_folder
    from .evaluate import environment
    from .registry import load_folder

    parser = argparse.ArgumentParser(prog="python -m translator evaluate-wlac")
    parser.add_argument("--checkpoint", required=True, help="INarIG checkpoint folder")
    parser.add_argument("--pairs-src", required=True, help="held-out test split, source side (test.<lang>)")
    parser.add_argument("--pairs-tgt", required=True, help="held-out test split, target side (test.<lang>)")
    parser.add_argument(
        "--train-tgt", action="append", required=True, help="training target file(s): the frequency baseline's counts"
    )
    parser.add_argument("--cmlm", help="CMLM checkpoint folder for the constrained gap-fill baseline (optional)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, help="only the first N examples")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    train_targets = [line for path in args.train_tgt for line in read_lines(path)]
    examples, test_set = heldout_examples(args.pairs_src, args.pairs_tgt, args.seed, train_targets)
    if args.limit:
        examples = examples[: args.limit]
        test_set["examples_used"] = len(examples)
    if not examples:
        raise SystemExit(f"{args.pairs_tgt}: no completable word in the test pairs")
    engine = load_folder(Path(args.checkpoint), "cpu")
    if not hasattr(engine, "complete_word"):
        raise SystemExit(f"{args.checkpoint} is a {engine.info.architecture} translator, not a word-completion model")
    cmlm = None
    if args.cmlm:
        model, tokenizer = load_model_folder(args.cmlm)
        if model.architecture != "cmlm":
            raise SystemExit(f"--cmlm {args.cmlm} is a {model.architecture} checkpoint, not a CMLM")
        cmlm = CMLMGapFill(model, tokenizer)
    results = evaluate_wlac(engine, examples, FrequencyBaseline(train_targets), cmlm)
    report = {
        "protocol": "WLAC accuracy@1 (exact word match) on examples cut from a held-out test split "
        "(translator/wlac.py); every suggestion at batch 1, latency = wall clock of one suggestion "
        "(tokenization included) after a warm-up.",
        "environment": asdict(environment(args.threads)),  # a dataclass since the typed reports
        "checkpoint": str(args.checkpoint),
        "cmlm_checkpoint": args.cmlm,
        "frequency_counts_from": args.train_tgt,
        "test_set": test_set,
        "systems": results,
        "bars": bars(results),
        "examples": [asdict(e) for e in examples],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    for name, r in results.items():
        by_context = " ".join(f"{c}={r['by_context'][c]['accuracy']}" for c in CONTEXT_TYPES)
        print(
            f"{name:10} acc@1 {r['accuracy']} ({by_context}) p50 {r['latency_ms']['p50']} ms p95 {r['latency_ms']['p95']} ms"
        )
    return 0
