"""Lexical shortlists: which target tokens a sentence can need, so the output projection scores only those.

Bergamot's trick: the projection over the whole vocabulary is a large share of a small model's time, and a
sentence only ever uses a few hundred target tokens. For each source token we keep the ``per_source`` target
tokens most associated with it in the training pairs (Dice coefficient of sentence co-occurrence), plus the
``frequent`` most frequent target tokens; a batch is scored over the union for its source tokens. A token
outside the union can no longer be produced, so outputs may change: evaluate reports the BLEU of both.

The table is a build output (``var/shortlists/<name>.npz``), made from the checkpoint's own training pairs (its
model card names them) at first use, or ahead of time; it depends only on the vocabulary and the data.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np

from .build_outputs import var_dir
from .engine import EngineError

log = logging.getLogger(__name__)

PER_SOURCE = 32
FREQUENT = 256
MAX_PAIRS = 200_000  # enough co-occurrence statistics; bounds the build time


def shortlist_root() -> Path:
    return var_dir() / "shortlists"


def build(tokenizer, sources: list[str], targets: list[str], per_source: int = PER_SOURCE, frequent: int = FREQUENT):
    """(table (V, per_source) int32 padded with -1, frequent (F,) int32) from parallel sentences."""
    vocab = tokenizer.vocab_size
    src_count: Counter[int] = Counter()
    tgt_count: Counter[int] = Counter()
    pair_count: Counter[tuple[int, int]] = Counter()
    for src_ids, tgt_ids in zip(tokenizer.encode(sources), tokenizer.encode(targets), strict=True):
        s, t = set(src_ids), set(tgt_ids)
        src_count.update(s)
        tgt_count.update(t)
        pair_count.update((a, b) for a in s for b in t)
    best: dict[int, list[tuple[float, int]]] = {}
    for (a, b), n in pair_count.items():
        best.setdefault(a, []).append((2 * n / (src_count[a] + tgt_count[b]), b))
    table = np.full((vocab, per_source), -1, dtype=np.int32)
    for a, scored in best.items():
        top = [b for _, b in sorted(scored, reverse=True)[:per_source]]
        table[a, : len(top)] = top
    common = np.array([b for b, _ in tgt_count.most_common(frequent)], dtype=np.int32)
    return table, common


def training_pairs(folder: Path, source_lang: str, target_lang: str) -> tuple[Path, Path]:
    """The checkpoint's own training pairs (its model card names them; distilled students': the teacher's
    outputs, closest to what the student produces), else the pair's prepared training split."""
    from .registry import REPO_ROOT

    data_dir = Path(os.environ.get("NMT_DATA_DIR", REPO_ROOT / "data"))
    tried = []
    try:
        data = json.loads((Path(folder) / "model_card.json").read_text())["training_data"]
        tried.append((REPO_ROOT / data["source"], REPO_ROOT / data["target"]))
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        pass
    pair = data_dir / f"{source_lang}-{target_lang}"
    tried.append((pair / f"train.{source_lang}", pair / f"train.{target_lang}"))
    for src, tgt in tried:
        if src.is_file() and tgt.is_file():
            return src, tgt
    raise EngineError(
        f"{folder}: a shortlist is built from training pairs, and none were found ({', '.join(str(s) for s, _ in tried)}):"
        " run python -m translator prepare-data first"
    )


def load_or_build(folder: Path, info, tokenizer) -> tuple[np.ndarray, np.ndarray]:
    name = info.name
    path = shortlist_root() / f"{name}.npz"
    src, tgt = training_pairs(folder, info.source_lang, info.target_lang)
    stamp = f"{src}:{src.stat().st_size}:{tgt}:{tgt.stat().st_size}:{tokenizer.vocab_size}:{PER_SOURCE}:{FREQUENT}"
    if path.is_file():
        stored = np.load(path)
        if str(stored["stamp"]) == stamp:
            return stored["table"], stored["frequent"]
    log.warning("building the lexical shortlist of %s from %s in %s (first use)", name, src, path)
    with src.open() as fs, tgt.open() as ft:
        lines = itertools.islice(zip(fs, ft, strict=True), MAX_PAIRS)
        pairs = [(s.rstrip("\n"), t.rstrip("\n")) for s, t in lines]
    table, common = build(tokenizer, [s for s, _ in pairs], [t for _, t in pairs])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, table=table, frequent=common, stamp=np.array(stamp))
    tmp.replace(path)
    return table, common


def candidates(table: np.ndarray, frequent: np.ndarray, src_ids: np.ndarray, always: list[int]) -> np.ndarray:
    """Sorted target ids a batch with these source ids may produce: their shortlists, the frequent tokens, and
    ``always`` (e.g. the CTC blank)."""
    rows = table[np.unique(src_ids)].ravel()
    return np.unique(np.concatenate([rows[rows >= 0], frequent, np.asarray(always, dtype=np.int32)])).astype(np.int64)
