"""Keep what a model cannot spell instead of letting it mangle it.

A subword vocabulary only holds the characters of its training text. Anything else comes out as
``<unk>`` (our models) or as noise (Bergamot writes ``Raphaël`` as ``Rapha'l``, ``©`` and ``日本語`` as
``-``). Before a sentence reaches the model, :func:`protect` plans it word by word:

- a character with a plain equivalent that the model knows (typographic quotes, dashes, ellipsis,
  odd spaces) is replaced by it: the model then writes the target language's own punctuation;
- a word whose letters only lack their accents (``Raphaël`` → ``Raphael``) is sent without them, and
  :meth:`Plan.assemble` puts the original back where that spelling comes out of the model;
- a word with characters that have no spellable form (``©``, ``™``, other scripts, emoji) is not sent at
  all: the text around it is translated in pieces and the word is kept in its place.

All-caps text is sent in sentence case and upper-cased back: training text has few all-caps sentences
and models misspell them (``BROWN FOX`` → ``BROEN FOX``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

# Plain equivalents, used only for characters the model cannot spell.
PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2039": "'",
    "\u203a": "'",
    "\u2033": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200b": "",
    "\u00ad": "",
}

WORD_OR_SPACE = re.compile(r"(\s+)")


def plain_form(ch: str, spellable: Callable[[str], bool]) -> str | None:
    """What to send for one character: itself, a plain equivalent, its letter without accents, or None."""
    if spellable(ch):
        return ch
    if ch in PLAIN and all(spellable(c) for c in PLAIN[ch]):
        return PLAIN[ch]
    bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if bare and bare != ch and all(spellable(c) for c in bare):
        return bare
    return None


@dataclass
class Plan:
    """A sentence cut into parts to translate and parts to keep, with the words to restore."""

    # (text, keep): keep=True parts are copied as they are; the others go to the model.
    parts: list[tuple[str, bool]] = field(default_factory=list)
    # For each part sent to the model: (spelling sent, original word) pairs to put back.
    restore: list[list[tuple[str, str]]] = field(default_factory=list)
    upper: list[bool] = field(default_factory=list)

    @classmethod
    def whole(cls, sentence: str) -> Plan:
        """The plan that sends the sentence as it is."""
        return cls(parts=[(sentence, False)], restore=[[]], upper=[False])

    def to_translate(self) -> list[str]:
        return [text for text, keep in self.parts if not keep]

    def assemble(self, translations: list[str]) -> str:
        """The sentence again, from the model's translations of :meth:`to_translate` (in order)."""
        out, k = [], 0
        for text, keep in self.parts:
            if keep:
                out.append(text)
                continue
            translated = translations[k]
            if self.upper[k]:
                translated = translated.upper()
            for sent, original in self.restore[k]:
                translated = put_back(translated, sent, original)
            out.append(translated)
            k += 1
        return "".join(out)


def put_back(text: str, sent: str, original: str) -> str:
    """Replace the first whole-word occurrence of ``sent`` in ``text`` by ``original`` (none: unchanged)."""
    match = re.search(rf"(?<!\w){re.escape(sent)}(?!\w)", text)
    if match is None:
        match = re.search(rf"(?<!\w){re.escape(sent)}(?!\w)", text, flags=re.IGNORECASE)
    if match is None:
        return text
    return text[: match.start()] + original + text[match.end() :]


def is_all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    return len(letters) >= 4 and len(words) >= 2 and not any(c.islower() for c in letters)


def sentence_case(text: str) -> str:
    lowered = text.lower()
    for i, ch in enumerate(lowered):
        if ch.isalpha():
            return lowered[:i] + ch.upper() + lowered[i + 1 :]
    return lowered


def core(word: str) -> str:
    """A word without the punctuation around it (the part a model may put back elsewhere)."""
    return re.sub(r"^\W+|\W+$", "", word)


def protect(sentence: str, spellable: Callable[[str], bool]) -> Plan:
    """Plan one sentence for a model that can spell the characters ``spellable`` accepts."""
    plan = Plan()
    buffer: list[str] = []  # words and spaces of the part being built for the model
    restore: list[tuple[str, str]] = []

    def keep(text: str) -> None:
        if plan.parts and plan.parts[-1][1]:
            plan.parts[-1] = (plan.parts[-1][0] + text, True)
        else:
            plan.parts.append((text, True))

    def flush() -> None:
        text = "".join(buffer)
        body = text.rstrip()
        if body:
            upper = is_all_caps(body)
            plan.parts.append((sentence_case(body) if upper else body, False))
            plan.restore.append(list(restore))
            plan.upper.append(upper)
        if text[len(body) :]:
            keep(text[len(body) :])
        buffer.clear()
        restore.clear()

    for token in WORD_OR_SPACE.split(sentence):
        if not token:
            continue
        if token.isspace():
            if buffer:
                buffer.append(token)
            else:
                keep(token)
            continue
        forms = [plain_form(ch, spellable) for ch in token]
        if any(form is None for form in forms):
            flush()
            keep(token)
            continue
        sent = "".join(form for form in forms if form is not None)
        if any(ch.isalpha() and not spellable(ch) for ch in token):
            restore.append((core(sent), core(token)))
        buffer.append(sent)
    flush()
    return plan


def spellable_from_vocabulary(pieces, normalize: Callable[[str], str] | None = None) -> Callable[[str], bool]:
    """A ``spellable`` test from a subword vocabulary's pieces (and its normalizer, which runs first)."""
    characters = set("".join(pieces)) - {"\u2581"}

    @functools.lru_cache(maxsize=8192)
    def spellable(ch: str) -> bool:
        if ch.isspace():
            return ch in " \t\n"
        text = normalize(ch) if normalize else ch
        return bool(text) and all(c in characters or c == " " for c in text)

    return spellable
