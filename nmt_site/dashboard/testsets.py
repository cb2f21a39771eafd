"""Held-out test sets on disk: data/<pair>/<corpus>/test.{src,tgt}, usable in both directions.

A test-set id is "<source>-<target>/<corpus>", e.g. "pt-en/libreoffice" reads data/en-pt/libreoffice/test.pt
as sources and test.en as references. The data directory is settings.NMT_DATA_DIR (tests point it at a fixture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from translator.corpus import read_parallel
from translator.evaluate import TestSet

ID_RE = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})/([A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class TestSetFiles:
    id: str
    source_lang: str
    target_lang: str
    corpus: str
    source_path: Path
    reference_path: Path

    @property
    def pair(self) -> str:
        return f"{self.source_lang}-{self.target_lang}"


def data_dir() -> Path:
    return Path(settings.NMT_DATA_DIR)


def available() -> dict[str, TestSetFiles]:
    """Every test set found on disk, in both directions, keyed by id (cheap: lists files, reads none)."""
    found: dict[str, TestSetFiles] = {}
    root = data_dir()
    if not root.is_dir():
        return found
    for pair_dir in sorted(p for p in root.iterdir() if p.is_dir() and "-" in p.name):
        a, _, b = pair_dir.name.partition("-")
        for corpus_dir in sorted(p for p in pair_dir.iterdir() if p.is_dir()):
            path_a, path_b = corpus_dir / f"test.{a}", corpus_dir / f"test.{b}"
            if not (path_a.is_file() and path_b.is_file()):
                continue
            for src, tgt, sp, tp in ((a, b, path_a, path_b), (b, a, path_b, path_a)):
                test_id = f"{src}-{tgt}/{corpus_dir.name}"
                found[test_id] = TestSetFiles(test_id, src, tgt, corpus_dir.name, sp, tp)
    return found


def load(files: TestSetFiles, limit: int | None) -> TestSet:
    sources, references = read_parallel(files.source_path, files.reference_path)
    if limit:
        sources, references = sources[:limit], references[:limit]
    return TestSet(files.id, sources, references)
