"""Deterministic hash-based split assignment, leak removal and de-duplication of sentence pairs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SPLITS = ("train", "valid", "test")
SALT = "translator-prepare-data-v1"

Pair = tuple[str, str]


def bucket(key: str, salt: str = SALT, buckets: int = 10_000) -> int:
    """A stable bucket in [0, buckets) for ``key`` (SHA-256, independent of PYTHONHASHSEED)."""
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def assign(key: str, valid_frac: float, test_frac: float, salt: str = SALT) -> str:
    """Map ``key`` to train/valid/test: the first ``test_frac`` of the hash space is test, the next is valid."""
    b = bucket(key, salt) / 10_000
    if b < test_frac:
        return "test"
    if b < test_frac + valid_frac:
        return "valid"
    return "train"


def dedupe(pairs: Iterable[Pair]) -> list[Pair]:
    """Drop repeated (src, tgt) pairs, keeping the first occurrence and the input order."""
    seen: set[Pair] = set()
    out: list[Pair] = []
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    return out


def remove_leaks(train: Iterable[Pair], held_out_sources: Iterable[str]) -> list[Pair]:
    """Train pairs whose source sentence does not occur in any held-out (valid/test) split."""
    banned = set(held_out_sources)
    return [p for p in train if p[0] not in banned]


def finalize(splits: dict[str, list[Pair]]) -> dict[str, list[Pair]]:
    """Dedupe every split, then remove from train each pair whose source is in valid or test.

    Valid also loses every pair whose source is in test, so the three splits share no source sentence.
    """
    out = {name: dedupe(splits.get(name, [])) for name in SPLITS}
    out["valid"] = remove_leaks(out["valid"], (s for s, _ in out["test"]))
    held = [s for name in ("valid", "test") for s, _ in out[name]]
    out["train"] = remove_leaks(out["train"], held)
    return out
