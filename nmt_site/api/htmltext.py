"""format=html: translate the text between tags, keep the tags (and entities) as they are."""

from __future__ import annotations

import html
import re

# Tags, comments and doctype are kept verbatim; script/style bodies are never translated.
_TOKEN = re.compile(r"(<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>)", re.S | re.I)


def split(markup: str) -> tuple[list[str], list[int]]:
    """The markup's pieces and the indexes of the pieces that are translatable text."""
    pieces = _TOKEN.split(markup)
    texts = [i for i, p in enumerate(pieces) if p and not _TOKEN.fullmatch(p) and p.strip()]
    return pieces, texts


def texts_of(pieces: list[str], indexes: list[int]) -> list[str]:
    # One line per piece: the queue translates line by line, so a piece's own newlines become spaces.
    return [" ".join(html.unescape(pieces[i]).split()) for i in indexes]


def join(pieces: list[str], indexes: list[int], translations: list[str]) -> str:
    out = list(pieces)
    for i, text in zip(indexes, translations, strict=False):
        original = pieces[i]
        lead = original[: len(original) - len(original.lstrip())]
        trail = original[len(original.rstrip()) :]
        out[i] = lead + html.escape(text, quote=False) + trail
    return "".join(out)
