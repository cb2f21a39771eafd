"""GIMP user manual (Debian ``gimp-help-*``) → paragraph-aligned sentence pairs.

Each package ships one DocBook-generated XHTML page per topic under ``usr/share/gimp/2.0/help/<lang>/``,
with the same file names in every language. Unlike the LibreOffice help, element ids are generated per
build (``idm28714``) and do not match across languages, so we align text blocks by their ORDER within a
page, and only where the two pages have the same block structure:

* ``exact``: same number of blocks and the same (signature, anchor) sequence → pair block i with i, where
  the signature is tag + first class and the anchor is the last hand-written id before the block (below);
* ``partial``: otherwise, split both pages into sections at the hand-written anchors that DO survive
  translation (``<a id="glossary-alpha">``, ``gimp-layer-delete`` — not the generated ``idm123``), pair
  sections by anchor (the glossary is sorted per language, so its entries move), and inside each section
  pair blocks as in ``exact`` or, failing that, match the signature sequences with difflib and keep the
  equal runs, trimmed at edges where a neighbouring unmatched block has the same signature (there the
  position of the missing block inside a run of e.g. ``p`` is unknown, so the whole stretch may be shifted).

Pairs are then filtered (untranslated, no letters, extreme length ratio) and every drop is counted.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

from .text import clean, has_letters

# Our language code → Debian package, and → its help folder (= gimp-help language code).
PACKAGES = {"en": "gimp-help-en", "de": "gimp-help-de", "pt": "gimp-help-pt-br"}
LANGS = {"en": "en", "de": "de", "pt": "pt_BR"}

# Elements whose own (inline) text is one translatable unit. ``div`` is included so that stray text
# directly inside a container still forms its own block instead of gluing onto a neighbour.
BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "li", "td", "th", "caption", "blockquote"}
BLOCK_TAGS |= {"div", "body", "table", "tr", "ul", "ol", "dl"}
# Never text: <head> (its <title> repeats the page heading); <pre> code listings are mostly untranslated
# and clean() would flatten their line structure.
SKIP_TAGS = {"head", "script", "style", "noscript", "template", "pre"}
# Navigation (repeats other pages' titles), tables of contents (duplicate headings of other pages and
# would leak across splits) and the index (sorted alphabetically per language, so order means nothing).
SKIP_CLASSES = {"navheader", "navfooter", "toc", "index", "indexterm", "list-of-figures", "list-of-tables"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# "7.9.1. " / "A.2. " — generated section numbers, identical in both languages and not part of the text.
SECTION_NUMBER = re.compile(r"^(?:[A-Z]\.)?\d+(?:\.\d+)*\.\s+|^[A-Z]\.\s+")

# Generated ids ("idm28714", "ientry-idm51076", "ftn.idm123") differ per language build.
GENERATED_ID = re.compile(r"(?:^|[.-])(?:idm?|d\d+e)\d+$")

# Untranslated paragraphs are not byte-identical to the English: DocBook localises the generated parts,
# i.e. quote marks (“…” → „…“), caption labels ("Figure 3.4." → "Abbildung 3.4.") and cross-reference
# texts ("Section 2, “Common Features”" → "Abschnitt 2, „Gemeinsame Funktionsmerkmale“"). These are
# removed from both sides, and only the words are compared (whitespace before punctuation, hyphenation
# and case differ too in otherwise untranslated bibliography entries and labels).
QUOTES = "\"'“”„‟‘’‚‛«»‹›"
_Q = re.escape(QUOTES)
GENERATED_TEXT = re.compile(
    r"^\w+ (?:[A-Z]\.)?\d+(?:\.\d+)*\.\s+"  # caption label at the start
    rf"|\b\w+ (?:[A-Z]\.)?\d+(?:\.\d+)*, [{_Q}][^{_Q}]*[{_Q}]"  # cross-reference with its quoted title
)
_WORD = re.compile(r"\w+")

MIN_CHARS = 15  # length floor for the ratio test: short labels ("Mode" / "Modus") vary a lot in ratio
MAX_RATIO = 3.0


@dataclass(frozen=True)
class Block:
    sig: str  # structural signature, e.g. "p", "h3.title", "dt" — compared across languages
    text: str
    anchor: str = ""  # last stable (hand-written) id seen before the block ends; "" before the first


@dataclass
class AlignResult:
    pairs: dict[str, list[tuple[str, str]]]
    stats: Counter = field(default_factory=Counter)


# ---------------------------------------------------------------------------------------------- reading


def help_dir(root: Path, lang: str) -> Path:
    """``<root>/usr/share/gimp/2.0/help/<lang>`` if it exists, else ``<root>/<lang>``."""
    for cand in (root / "usr/share/gimp/2.0/help" / lang, root / lang):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"no GIMP help folder for {lang!r} under {root}")


def _classes(el) -> list[str]:
    return (el.get("class") or "").split()


def _skipped(el) -> bool:
    # Comments and processing instructions have a non-string tag; their .tail is still text.
    return not isinstance(el.tag, str) or el.tag in SKIP_TAGS or any(c in SKIP_CLASSES for c in _classes(el))


def _signature(el) -> str:
    cls = _classes(el)
    return f"{el.tag}.{cls[0]}" if cls else el.tag


def _stable_id(el) -> str | None:
    eid = el.get("id") or el.get("name")
    return eid if eid and not GENERATED_ID.search(eid) else None


class _Walker:
    """Collects blocks in document order, remembering the latest stable anchor id."""

    def __init__(self) -> None:
        self.out: list[Block | None] = []
        self.anchor = ""

    def block(self, el) -> None:
        """Append el as a block (if it has own text) followed by its nested blocks, in document order."""
        self._see(el)
        slot = len(self.out)
        self.out.append(None)  # reserve the position so the parent's text precedes its nested blocks
        buf: list[str] = []
        self._inline_children(el, buf)
        text = clean("".join(buf))
        if el.tag in HEADINGS:
            text = SECTION_NUMBER.sub("", text)
        if text:
            self.out[slot] = Block(_signature(el), text, self.anchor)

    def _see(self, el) -> None:
        eid = _stable_id(el)
        if eid:
            self.anchor = eid

    def _inline_children(self, el, buf: list[str]) -> None:
        """Append el's inline text to ``buf``; nested block elements become their own blocks."""
        if el.text:
            buf.append(el.text)
        for child in el:
            if not _skipped(child):
                if child.tag == "br":
                    buf.append(" ")
                elif child.tag in BLOCK_TAGS:
                    self.block(child)
                else:
                    self._see(child)
                    self._inline_children(child, buf)
            if child.tail:
                buf.append(child.tail)


def extract_blocks(page: bytes | str) -> list[Block]:
    """Translatable text blocks of one XHTML page, in document order (empty blocks dropped)."""
    root = lxml.html.fromstring(page)
    body = root.find("body")
    walker = _Walker()
    walker.block(body if body is not None else root)
    return [b for b in walker.out if b is not None]


def read_pages(folder: Path) -> dict[str, list[Block]]:
    """``{relative path: [Block, …]}`` for every .html page under ``folder`` (sorted)."""
    pages: dict[str, list[Block]] = {}
    for path in sorted(folder.rglob("*.html")):
        if path.is_file():
            # bytes, so lxml honours the XML declaration / meta charset instead of guessing
            pages[path.relative_to(folder).as_posix()] = extract_blocks(path.read_bytes())
    return pages


# ---------------------------------------------------------------------------------------------- aligning


def _trim_run(i: int, j: int, n: int, sigs: list[str], before: set[str], after: set[str]) -> tuple[int, int, int]:
    """Shrink an equal run ``sigs[i:i+n]`` so no edge stretch shares a signature with the adjacent gap."""
    while n and sigs[i] in before:
        i, j, n = i + 1, j + 1, n - 1
    while n and sigs[i + n - 1] in after:
        n -= 1
    return i, j, n


def _match_seq(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Index pairs between two signature sequences: all of them if equal, else trimmed difflib runs."""
    if a == b:
        return [(k, k) for k in range(len(a))]
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    matched: list[tuple[int, int]] = []
    for k, (tag, i1, i2, j1, _) in enumerate(ops):
        if tag != "equal":
            continue
        before = _gap_sigs(ops[k - 1], a, b) if k > 0 else set()
        after = _gap_sigs(ops[k + 1], a, b) if k + 1 < len(ops) else set()
        i, j, n = _trim_run(i1, j1, i2 - i1, a, before, after)
        matched.extend((i + d, j + d) for d in range(n))
    return matched


def _gap_sigs(op: tuple, a: list[str], b: list[str]) -> set[str]:
    _, i1, i2, j1, j2 = op
    return set(a[i1:i2]) | set(b[j1:j2])


def _sections(blocks: list[Block]) -> dict[str, list[int]]:
    """Block indices per anchor, in document order."""
    out: dict[str, list[int]] = {}
    for k, block in enumerate(blocks):
        out.setdefault(block.anchor, []).append(k)
    return out


def match_blocks(en: list[Block], tgt: list[Block]) -> tuple[str, list[tuple[int, int]]]:
    """(rule, [(en index, tgt index), …] in English order) — rule is ``exact``, ``partial`` or ``none``."""
    # Anchors take part in the test: the same structure with entries in another order (a list sorted
    # per language) must not be paired by position.
    if [(x.sig, x.anchor) for x in en] == [(x.sig, x.anchor) for x in tgt]:
        return "exact", [(k, k) for k in range(len(en))]
    en_sec, tgt_sec = _sections(en), _sections(tgt)
    matched: list[tuple[int, int]] = []
    for anchor in en_sec.keys() & tgt_sec.keys():
        ei, ti = en_sec[anchor], tgt_sec[anchor]
        pairs = _match_seq([en[k].sig for k in ei], [tgt[k].sig for k in ti])
        matched.extend((ei[i], ti[j]) for i, j in pairs)
    return ("partial" if matched else "none"), sorted(matched)


def comparable(text: str) -> str:
    """The words of ``text`` without the parts DocBook generates per language, case-folded."""
    return " ".join(_WORD.findall(GENERATED_TEXT.sub(" ", text).casefold()))


def drop_reason(en: str, tgt: str) -> str | None:
    """Why a pair is unusable, or None to keep it."""
    if not has_letters(en):
        return "no_letters"
    if not has_letters(tgt) or comparable(tgt) == comparable(en):
        return "untranslated"
    long, short = max(len(en), len(tgt)), min(len(en), len(tgt))
    if long / max(short, MIN_CHARS) > MAX_RATIO:
        return "length_ratio"
    return None


def align(en_pages: dict[str, list[Block]], tgt_pages: dict[str, list[Block]]) -> AlignResult:
    """Pairs per page present in both languages (sorted pages, document order) and drop/rule counts.

    stats keys: ``pages_<rule>`` and ``pairs_<rule>`` (kept pairs) per rule, ``pages_missing`` (page in
    only one language), ``unmatched`` (blocks not aligned, either side), and one key per drop reason.
    """
    result = AlignResult({})
    st = result.stats
    st["pages_missing"] = len(en_pages.keys() ^ tgt_pages.keys())
    for rel in sorted(en_pages.keys() & tgt_pages.keys()):
        en, tgt = en_pages[rel], tgt_pages[rel]
        rule, matched = match_blocks(en, tgt)
        st[f"pages_{rule}"] += 1
        st["unmatched"] += len(en) + len(tgt) - 2 * len(matched)
        pairs = []
        for i, j in matched:
            reason = drop_reason(en[i].text, tgt[j].text)
            if reason:
                st[reason] += 1
            else:
                pairs.append((en[i].text, tgt[j].text))
        st[f"pairs_{rule}"] += len(pairs)
        if pairs:
            result.pairs[rel] = pairs
    return result


def read_corpus(en_root: Path, tgt_root: Path, tgt: str) -> AlignResult:
    """Aligned English → ``tgt`` (our code: "de", "pt") pairs from two unpacked gimp-help packages."""
    return align(read_pages(help_dir(en_root, LANGS["en"])), read_pages(help_dir(tgt_root, LANGS[tgt])))
