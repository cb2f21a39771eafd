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
# Never prose, whatever the format: web addresses and e-mail addresses.
ADDRESS = re.compile(
    r"(?:https?|ftp)://[^\s<>()\[\]{}\"']+[^\s<>()\[\]{}\"'.,;:!?]|www\.[\w-]+\.[^\s<>()\[\]{}\"']*[\w/]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)


def split_addresses(text: str) -> list[tuple[str, bool]]:
    """``text`` as pieces (piece, is_address) in order: URLs and e-mail addresses are kept out of the engine."""
    out, pos = [], 0
    for m in ADDRESS.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text) or not out:
        out.append((text[pos:], False))
    return out


_LETTER = re.compile(r"[^\W\d_]")
_SPACE_PUNCT = re.compile(r" ([,.;:!?)])")


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
    text = _WS.sub(" ", "".join(pieces)).strip()
    # "with `code`, and" reads "with , and" once the code is out: no space before the punctuation.
    return _SPACE_PUNCT.sub(r"\1", text)


def translatable(text: str) -> bool:
    # Numbers, punctuation and symbols stay as they are: only text with a letter goes to the engine.
    return bool(_LETTER.search(text))


def _split_ws(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core) :]


def distribute(translation: str, texts: list[str], touching: list[bool] | None = None) -> list[str]:
    """Spread ``translation`` over slots whose source texts are ``texts`` (see the module docstring).
    ``touching[i]``: slot i follows slot i-1 directly (no fixed slot between them); default: all do."""
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
    _no_empty_slot(assigned)
    pieces = []
    for slot_no, i in enumerate(content):
        lead, _, trail = parts[i]
        pieces.append([lead, " ".join(assigned[slot_no]), trail])
    # Two slots that touched without whitespace in the source (a word split across runs) must not glue two
    # translated words together: add a space where neither side has one.
    prev, prev_no = None, 0
    for slot_no, piece in enumerate(pieces):
        if not piece[1]:
            continue
        glued = touching is None or all(touching[j] for j in range(content[prev_no] + 1, content[slot_no] + 1))
        if prev is not None and glued and not (prev[1] + prev[2]).endswith((" ", "\n", "\t")) and not piece[0]:
            prev[2] = prev[2] + " "
        prev, prev_no = piece, slot_no
    for slot_no, i in enumerate(content):
        lead, core, trail = pieces[slot_no]
        # A slot that began with punctuation stuck to what came before ("`code`, and") and now begins with a
        # word must not glue that word to it.
        if not lead and core and core[0].isalnum() and not parts[i][1][0].isalnum() and slot_no and i > 0:
            lead = " "
        out[i] = (lead + core + trail) if core else (lead if lead.strip() == "" and not trail else lead + trail)
    return out


def _no_empty_slot(assigned: list[list[str]]) -> None:
    """While there are words enough, no slot that held text is left empty: an emptied subtitle or Markdown line
    would become a blank line (a new cue, a new paragraph), an emptied bold run would lose its emphasis. A word
    moves over from the nearest neighbour that can spare one, keeping the order."""
    if sum(len(a) for a in assigned) < len(assigned):
        return
    for i, words in enumerate(assigned):
        if words:
            continue
        for j in sorted(range(len(assigned)), key=lambda j: (abs(j - i), j)):
            if len(assigned[j]) > 1:
                step = 1 if j < i else -1
                # Shift one word along the slots between j and i, so the words keep their order.
                k = j
                while k != i:
                    if step == 1:
                        assigned[k + 1].insert(0, assigned[k].pop())
                    else:
                        assigned[k - 1].append(assigned[k].pop(0))
                    k += step
                break


def apply_translation(block: list[Slot], translation: str) -> None:
    slots, touching = [], []
    after_fixed = False
    for s in block:
        if s.fixed:
            after_fixed = True
            continue
        slots.append(s)
        touching.append(not after_fixed)
        after_fixed = False
    for slot, text in zip(slots, distribute(translation, [s.text for s in slots], touching), strict=False):
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

    def warnings(self, doc) -> list[str]:
        """What the user should know about this file although it can be translated (a damaged member left as it
        was...). Shown with the document."""
        return list(getattr(doc, "warnings", ()))

    def set_language(self, doc, lang: str) -> None:
        """Declare the output's language where the format has a place for it (EPUB dc:language, HTML lang...)."""

    def extract(self, data: bytes) -> Extracted:
        """The source text of every block, in walk order, and the warnings about the file."""
        doc = self.open(data)
        return Extracted([block_source(b) for b in self.blocks(doc)], self.warnings(doc))

    def rebuild(self, data: bytes, translations: dict[int, str], target_lang: str | None = None) -> bytes:
        """A copy of the file with block i's text replaced by translations[i]; other blocks are untouched."""
        doc = self.open(data)
        for i, block in enumerate(self.blocks(doc)):
            if i in translations:
                apply_translation(block, translations[i])
        if target_lang:
            self.set_language(doc, target_lang)
        return self.save(doc)


@dataclass
class Extracted:
    texts: list[str]  # one per block, in walk order
    warnings: list[str] = field(default_factory=list)
