"""Parallel text → token-budget batches for training (shared by every model family)."""

from __future__ import annotations

import random
from pathlib import Path

from .models.base import Batch, pad_sequences
from .tokenizer import SubwordTokenizer


def read_lines(path: str | Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle]


def read_parallel(src_path: str | Path, tgt_path: str | Path) -> tuple[list[str], list[str]]:
    src, tgt = read_lines(src_path), read_lines(tgt_path)
    if len(src) != len(tgt):
        raise ValueError(f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}")
    return src, tgt


def corpus_training_pairs(data_dir: str | Path, pair: str, corpora: list[str]) -> tuple[list[str], list[str]]:
    """Train splits of the named corpora of a pair (as written by prepare-data), concatenated.

    Any pair whose source sentence occurs in a valid or test split of *any* corpus of the pair is
    dropped, so choosing a subset of corpora can never leak evaluation sentences into training.
    """
    src_lang, tgt_lang = pair.split("-")
    root = Path(data_dir) / pair
    held_out = set()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for split in ("valid", "test"):
            path = folder / f"{split}.{src_lang}"
            if path.exists():
                held_out.update(read_lines(path))
    sources, targets = [], []
    for corpus in corpora:
        src, tgt = read_parallel(root / corpus / f"train.{src_lang}", root / corpus / f"train.{tgt_lang}")
        for s, t in zip(src, tgt, strict=False):
            if s not in held_out:
                sources.append(s)
                targets.append(t)
    return sources, targets


class ParallelCorpus:
    """Tokenized pairs (each side ends with EOS), with pairs that exceed ``max_tokens`` dropped."""

    def __init__(self, src: list[str], tgt: list[str], tokenizer: SubwordTokenizer, max_tokens: int = 200):
        eos = tokenizer.eos_id
        pairs = []
        for s, t in zip(tokenizer.encode(src), tokenizer.encode(tgt), strict=False):
            if s and t and len(s) < max_tokens and len(t) < max_tokens:
                pairs.append((s + [eos], t + [eos]))
        self.pairs = pairs
        self.pad_id = tokenizer.pad_id

    def __len__(self) -> int:
        return len(self.pairs)

    def target_tokens(self) -> int:
        return sum(len(t) for _, t in self.pairs)

    def batches(self, max_batch_tokens: int, epoch: int, seed: int) -> list[list[int]]:
        """Index lists of similar-length pairs whose padded size fits the budget, in shuffled order.

        Sorting by length keeps padding small; shuffling the batch order (seeded by epoch) keeps
        the run reproducible and resumable mid-epoch.
        """
        rng = random.Random(seed * 1000 + epoch)
        order = sorted(
            range(len(self.pairs)), key=lambda i: (len(self.pairs[i][1]), len(self.pairs[i][0]), rng.random())
        )
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0
        for i in order:
            size = max(len(self.pairs[i][0]), len(self.pairs[i][1]))
            if current and max(longest, size) * (len(current) + 1) > max_batch_tokens:
                batches.append(current)
                current, longest = [], 0
            current.append(i)
            longest = max(longest, size)
        if current:
            batches.append(current)
        rng.shuffle(batches)
        return batches

    def collate(self, indices: list[int]) -> Batch:
        src = [self.pairs[i][0] for i in indices]
        tgt = [self.pairs[i][1] for i in indices]
        return Batch(pad_sequences(src, self.pad_id), pad_sequences(tgt, self.pad_id), self.pad_id)
