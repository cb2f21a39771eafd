"""What every format handler shares: blocks of text slots, and putting a translation back into the slots.

A *block* is one structural unit (a paragraph, a heading, a table cell's paragraph, a subtitle cue...). It is a
list of *slots*: the pieces of text that carry their own formatting (a docx run, an HTML text node, an ODF
span). The block's source text is the concatenation of its slots; it is translated as one paragraph (split into
sentences for the engine), and the translation is then redistributed over the same slots, so every slot keeps
its formatting and no run/span/tag is ever dropped.

Redistribution: each slot gets a share of the translated words proportional to its share of the source
characters, cut at word boundaries. A bold word in the middle of a sentence therefore stays bold roughly where
it was, though word order can move the emphasis when languages differ. Slots that held only whitespace keep
it; each slot keeps its own leading/trailing whitespace. Fixed slots (inline code, URLs, markup markers) are
never sent to the engine and never changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_WS = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass
class Slot:
    text: str
    fixed: bool = False
    setter: Callable[[str], None] | None = field(default=None, repr=False)


Block = list  # list[Slot]


def block_source(block: list[Slot]) -> str:
    """The text the engine sees for a block: the translatable slots, whitespace collapsed. A fixed slot
    (inline code, a subtitle line break) between two translatable ones counts as a space, so words on
    either side never glue together."""
    pieces = []
    for slot in block:
        pieces.append(" " if slot.fixed else slot.text)
    return _WS.sub(" ", "".join(pieces)).strip()


def translatable(text: str) -> bool:
    # Numbers, punctuation and symbols stay as they are: only text with a letter goes to the engine.
    return bool(_LETTER.search(text))


def _split_ws(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core) :]


def distribute(translation: str, texts: list[str]) -> list[str]:
    """Spread ``translation`` over slots whose source texts are ``texts`` (see the module docstring)."""
    parts = [_split_ws(t) for t in texts]
    content = [i for i, (_, core, _) in enumerate(parts) if core]
    out = list(texts)
    if not content:
        return out
    words = translation.split()
    if len(content) == 1:
        i = content[0]
        lead, _, trail = parts[i]
        out[i] = lead + " ".join(words) + trail
        return out
    weights = [len(parts[i][1]) for i in content]
    total_w = sum(weights)
    total_chars = sum(len(w) + 1 for w in words)
    assigned: list[list[str]] = [[] for _ in content]
    k = 0
    cum_w = 0
    used = 0
    for slot_no, weight in enumerate(weights):
        cum_w += weight
        if slot_no == len(weights) - 1:
            assigned[slot_no] = words[k:]
            break
        boundary = total_chars * cum_w / total_w
        while k < len(words) and used + (len(words[k]) + 1) / 2 <= boundary:
            assigned[slot_no].append(words[k])
            used += len(words[k]) + 1
            k += 1
    pieces = []
    for slot_no, i in enumerate(content):
        lead, _, trail = parts[i]
        pieces.append([lead, " ".join(assigned[slot_no]), trail])
    # Two slots that touched without whitespace in the source (a word split across runs) must not glue two
    # translated words together: add a space where neither side has one.
    prev = None
    for piece in pieces:
        if not piece[1]:
            continue
        if prev is not None and not (prev[1] + prev[2]).endswith((" ", "\n", "\t")) and not piece[0]:
            prev[2] = prev[2] + " "
        prev = piece
    for slot_no, i in enumerate(content):
        lead, core, trail = pieces[slot_no]
        out[i] = (lead + core + trail) if core else (lead if lead.strip() == "" and not trail else lead + trail)
    return out


def apply_translation(block: list[Slot], translation: str) -> None:
    slots = [s for s in block if not s.fixed]
    for slot, text in zip(slots, distribute(translation, [s.text for s in slots]), strict=False):
        if slot.setter is not None and text != slot.text:
            slot.setter(text)


class FormatHandler:
    """One file format: walk it into blocks (with setters bound to a parsed copy), and serialise it."""

    name = ""
    extensions: tuple[str, ...] = ()
    output_extension = ""  # "" = same as the input
    notice = ""  # shown to the user for this format (e.g. why the output format differs)

    def check(self, data: bytes) -> None:
        """Magic bytes / structure check; raise DocumentError. Called on upload before parsing."""

    def open(self, data: bytes):
        """Parse the file; returns an opaque document object for blocks() and save()."""
        raise NotImplementedError

    def blocks(self, doc) -> list[list[Slot]]:
        raise NotImplementedError

    def save(self, doc) -> bytes:
        raise NotImplementedError

    def extract(self, data: bytes) -> list[str]:
        """The source text of every block, in walk order (empty string for blocks with nothing to translate)."""
        return [block_source(b) for b in self.blocks(self.open(data))]

    def rebuild(self, data: bytes, translations: dict[int, str]) -> bytes:
        """A copy of the file with block i's text replaced by translations[i]; other blocks are untouched."""
        doc = self.open(data)
        for i, block in enumerate(self.blocks(doc)):
            if i in translations:
                apply_translation(block, translations[i])
        return self.save(doc)
