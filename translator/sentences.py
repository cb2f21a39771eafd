"""Paragraph → sentences, with pysbd (rule-based, Golden Rules tested, handles abbreviations and numbers).

Used by every engine (a multi-sentence input is translated sentence by sentence) and by the documents app.
"""

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
        return pysbd.Segmenter(language=lang, clean=False, char_span=True)
    except ValueError:  # a language pysbd does not know: English rules still split on . ? !
        return pysbd.Segmenter(language="en", clean=False, char_span=True)


# Abbreviations pysbd's rules for the language miss (Portuguese borrows the Spanish rules): a "sentence"
# ending in one of these is glued to the next one.
_EXTRA_ABBREVIATIONS = {
    "pt": {
        "p",
        "sr",
        "sra",
        "srta",
        "dr",
        "dra",
        "prof",
        "profa",
        "eng",
        "exmo",
        "exma",
        "av",
        "p. ex",
        "ex",
        "pág",
        "págs",
        "n.º",
        "nº",
        "etc",
        "cf",
        "vol",
        "cap",
        "fig",
        "tel",
        "lda",
        "ltda",
        "s.a",
        "v. ex",
        "v. exa",
    },
    "de": {"z. b", "bzw", "ca", "usw", "vgl", "nr", "hr", "fr", "dr", "prof", "s", "u. a", "d. h", "evtl", "ggf"},
}


def _ends_with_abbreviation(sentence: str, lang: str) -> bool:
    words = sentence.rstrip().rstrip(".").lower()
    abbreviations = _EXTRA_ABBREVIATIONS.get(lang, ())
    return sentence.rstrip().endswith(".") and any(
        words == a or words.endswith(" " + a) or words.endswith("(" + a) for a in abbreviations
    )


def _glue_abbreviations(spans: list[tuple[int, int]], text: str, lang: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and _ends_with_abbreviation(text[out[-1][0] : out[-1][1]], lang):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def split_sentences(text: str, lang: str) -> list[str]:
    # Character spans, not pysbd's returned strings: with clean=False it still occasionally edits whitespace
    # ("p. ex.," came back as "ex. ,"); slicing the original keeps the source text exactly.
    segments = _segmenter(lang).segment(text)
    spans = [(span.start, span.end) for span in segments]
    if not _covers(spans, text):
        # pysbd could not locate an edited sentence in the original: use its strings rather than lose text.
        return [piece for seg in segments if seg.sent.strip() for piece in _cut_long(seg.sent.strip())]
    spans = _glue_abbreviations(spans, text, lang)
    out = []
    for start, end in spans:
        sentence = text[start:end].strip()
        if sentence:
            out.extend(_cut_long(sentence))
    return out


def _covers(spans: list[tuple[int, int]], text: str) -> bool:
    """True when every non-whitespace character of ``text`` lies in some span."""
    pos = 0
    for start, end in sorted(spans):
        if text[pos:start].strip():
            return False
        pos = max(pos, end)
    return not text[pos:].strip()


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
    return [p[i : i + MAX_SENTENCE_CHARS] for p in pieces for i in range(0, len(p), MAX_SENTENCE_CHARS)]


# A cheap test before pysbd (milliseconds a call): could there be a sentence boundary inside the text at all?
_POSSIBLE_BOUNDARY = re.compile(r"[.!?…;:。！？][\"'”’»)\]]*\s+\S|\n\s*\S")


def segment(text: str, lang: str) -> list[tuple[str, str]]:
    """``text`` as (sentence, the whitespace that followed it in ``text``) pairs; joined, they give ``text`` back.

    A text with one sentence comes back whole, without calling pysbd.
    """
    if not _POSSIBLE_BOUNDARY.search(text.strip()):
        return [(text, "")]
    sentences = split_sentences(text, lang)
    out: list[tuple[str, str]] = []
    pos = 0
    for sentence in sentences:
        found = text.find(sentence, pos)
        if found < 0:  # pysbd edited the sentence or a long one was cut: a plain space is the best guess
            out.append((sentence, " "))
            continue
        end = found + len(sentence)
        gap = re.match(r"\s*", text[end:])
        pos = end + (len(gap.group(0)) if gap else 0)
        out.append((sentence, text[end:pos]))
    if out:
        out[-1] = (out[-1][0], "")
    return out or [(text, "")]
