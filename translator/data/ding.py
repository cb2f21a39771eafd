"""Ding dictionary (``trans-de-en``) → full-sentence German/English pairs.

Each line is ``German :: English``. Top-level alternatives are separated by `` | `` and correspond
position by position on both sides; inside an alternative, synonyms are separated by ``;``. Annotations
in ``{…}`` (grammar) and ``[…]`` (register/region/domain) and ``/ABBR/`` abbreviation marks are stripped.
We keep only full sentences: both sides start with an upper-case letter (or an opening quote/¡/¿) and end
in ``.``, ``?`` or ``!`` (not an abbreviation like ``etw.``/``sth.``), with no ``…``/``/`` placeholders.
"""

from __future__ import annotations

import re
from pathlib import Path

from .text import clean, has_letters

ANNOT_RE = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]")
ABBR_RE = re.compile(r"(?:^|\s)/[^/\s][^/]*/(?=\s|$)")
END_RE = re.compile(r"[.?!][\"'“”’»«)]*$")
OPTIONAL_PART_RE = re.compile(r"\w\(|\)\w")
START_RE = re.compile(r"^[\"'“„‚»«¡¿(]*[^\W\d_]")
ABBREVIATIONS = (
    "etw.",
    "jdn.",
    "jdm.",
    "jds.",
    "sth.",
    "sb.",
    "sb.'s",
    "usw.",
    "etc.",
    "bzw.",
    "z.B.",
    "e.g.",
    "i.e.",
    "ca.",
    "Nr.",
    "No.",
    "vs.",
    "u.a.",
    "o.ä.",
    "Mr.",
    "Mrs.",
    "Dr.",
)


def strip_annotations(text: str) -> str:
    prev = None
    while prev != text:  # nested brackets
        prev, text = text, ANNOT_RE.sub(" ", text)
    return clean(ABBR_RE.sub(" ", text))


def is_sentence(text: str) -> bool:
    if not text or not has_letters(text) or "…" in text or "..." in text or " / " in text or "/" in text:
        return False
    if OPTIONAL_PART_RE.search(text):  # "Da(bei)", "deep(er)": optional-letter notation, not prose
        return False
    if not END_RE.search(text) or not START_RE.match(text) or not text[0:1].strip():
        return False
    first = re.sub(r"^[\"'“„‚»«¡¿(]+", "", text)[:1]
    if not first.isupper():
        return False
    last = text.split()[-1]
    return last not in ABBREVIATIONS and len(text.split()) >= 2


def _synonyms(alt: str) -> list[str]:
    return [strip_annotations(s) for s in alt.split(";")]


def parse_line(line: str) -> list[tuple[str, str]]:
    """Sentence pairs ``(german, english)`` from one dictionary line (empty for headwords/comments)."""
    line = line.rstrip("\n")
    if not line or line.startswith("#") or " :: " not in line:
        return []
    de, en = line.split(" :: ", 1)
    de_alts, en_alts = de.split(" | "), en.split(" | ")
    if len(de_alts) != len(en_alts):
        return []
    pairs: list[tuple[str, str]] = []
    for d_alt, e_alt in zip(de_alts, en_alts, strict=False):
        d_syn = [s for s in _synonyms(d_alt) if is_sentence(s)]
        e_syn = [s for s in _synonyms(e_alt) if is_sentence(s)]
        if not d_syn or not e_syn:
            continue
        if len(d_syn) == len(e_syn):
            pairs.extend(zip(d_syn, e_syn, strict=True))
        elif len(d_syn) == 1:
            pairs.extend((d_syn[0], e) for e in e_syn)
        elif len(e_syn) == 1:
            pairs.extend((d, e_syn[0]) for d in d_syn)
        else:  # unequal synonym lists: only the first ones are safely equivalent
            pairs.append((d_syn[0], e_syn[0]))
    return pairs


def dict_file(root: Path) -> Path:
    for cand in (root / "usr/share/trans/de-en", root / "de-en"):
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"no Ding de-en file under {root}")


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """All ``(german, english)`` sentence pairs in file order (duplicates kept; dedupe later)."""
    out: list[tuple[str, str]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            out.extend(parse_line(line))
    return out
