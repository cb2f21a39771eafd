"""Small text-cleaning helpers shared by the corpus readers."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


def clean(text: str) -> str:
    """NFC-normalise, turn every whitespace run (tabs, newlines, NBSP…) into one space, strip the ends."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return _WS.sub(" ", text).strip()


def has_letters(text: str) -> bool:
    return bool(_LETTER.search(text))


def word_count(text: str) -> int:
    return len(text.split())
