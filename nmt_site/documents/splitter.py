"""Paragraph → sentences, with pysbd (rule-based, Golden Rules tested, handles abbreviations and numbers)."""
from __future__ import annotations

import re
from functools import lru_cache

import pysbd

# pysbd has no Portuguese rules; Spanish abbreviations and punctuation are the closest fit.
_PYSBD_LANG = {"pt": "es"}
# The engines translate sentences; a "sentence" longer than this (a list without punctuation, a table dumped
# as text) is cut at whitespace so no single engine input is absurdly long.
MAX_SENTENCE_CHARS = 600


@lru_cache(maxsize=16)
def _segmenter(lang: str) -> pysbd.Segmenter:
    lang = _PYSBD_LANG.get(lang, lang)
    try:
        return pysbd.Segmenter(language=lang, clean=False)
    except ValueError:  # a language pysbd does not know: English rules still split on . ? !
        return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str, lang: str) -> list[str]:
    sentences = [s.strip() for s in _segmenter(lang).segment(text) if s.strip()]
    out = []
    for sentence in sentences:
        out.extend(_cut_long(sentence))
    return out


def _cut_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    pieces, current = [], ""
    for word in re.split(r"\s+", sentence):
        if current and len(current) + 1 + len(word) > MAX_SENTENCE_CHARS:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    # A single "word" longer than the limit (no whitespace at all) is cut hard.
    return [p[i:i + MAX_SENTENCE_CHARS] for p in pieces for i in range(0, len(p), MAX_SENTENCE_CHARS)]
