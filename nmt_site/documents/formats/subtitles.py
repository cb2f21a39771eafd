"""SubRip subtitles (.srt) through the `srt` library: numbers, timings and position data come back as they were,
and so does every inline tag (<b>, <i>, <font color=...>) and ASS override ({\\an8}), as fixed slots. A cue's
text lines are translated together and spread back over the same lines; a line left without words is dropped
rather than written blank (a blank line would end the cue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import srt

from ..errors import DocumentError, UnsupportedFile
from ..safety import decode_text
from .base import FormatHandler, Slot, block_source, split_addresses, translatable

_TIMING = re.compile(r"^\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}")
_TAG = re.compile(r"<[^<>\n]*>|\{\\[^{}\n]*\}")
# A line's markup: tags, ASS overrides, and a leading dialogue dash ("- Where are you?").
_FIXED = re.compile(r"^\s*-\s*|" + _TAG.pattern)


@dataclass
class SrtDoc:
    cues: list
    newline: str
    ending: str  # the file's own trailing newlines


class _Cue:
    """A cue's content as pieces (tags, line breaks, text); setters write a piece and recompose the content."""

    def __init__(self, cue):
        self.cue = cue
        self.pieces: list[str] = []

    def slots(self) -> list[Slot]:
        block: list[Slot] = []
        for n, line in enumerate(self.cue.content.split("\n")):
            if n:
                self._add(block, "\n", fixed=True)
            pos = 0
            for m in _FIXED.finditer(line):
                if m.start() > pos:
                    self._text(block, line[pos : m.start()])
                if m.group(0):
                    self._add(block, m.group(0), fixed=True)
                pos = m.end()
            if pos < len(line):
                self._text(block, line[pos:])
        return block

    def _text(self, block: list[Slot], text: str) -> None:
        for piece, address in split_addresses(text):
            self._add(block, piece, fixed=address)

    def _add(self, block: list[Slot], text: str, fixed: bool = False) -> None:
        self.pieces.append(text)
        block.append(Slot(text, fixed=True) if fixed else Slot(text, setter=self._setter(len(self.pieces) - 1)))

    def _setter(self, k: int):
        def set_piece(value: str) -> None:
            self.pieces[k] = value
            lines = "".join(self.pieces).split("\n")
            # No blank line inside a cue, no glue space at a line's end.
            self.cue.content = "\n".join(line.rstrip() for line in lines if line.strip())

        return set_piece


class SrtHandler(FormatHandler):
    name = "srt"
    extensions = (".srt",)
    label = "SRT"

    def check(self, data: bytes) -> None:
        text = decode_text(data, self.label)
        if not any(_TIMING.match(line) for line in text.splitlines()[:50]):
            raise UnsupportedFile(
                "not_srt",
                "This is not an SRT subtitle file (no 00:00:01,000 --> 00:00:02,000 timing line near the start).",
            )
        self.open(data)

    def open(self, data: bytes) -> SrtDoc:
        text = decode_text(data, self.label)
        newline = "\r\n" if "\r\n" in text else "\n"
        try:
            cues = list(srt.parse(text.replace("\r\n", "\n")))
        except srt.SRTParseError as exc:
            line = text.count("\n", 0, exc.expected_start) + 1
            raise DocumentError(
                "corrupt_file", f"This SRT file is damaged near line {line}: a cue number and timing were expected."
            ) from None
        return SrtDoc(cues, newline, text[len(text.rstrip("\r\n")) :])

    def blocks(self, doc: SrtDoc) -> list[list[Slot]]:
        out = []
        for cue in doc.cues:
            block = _Cue(cue).slots()
            if translatable(block_source(block)):
                out.append(block)
        return out

    def save(self, doc: SrtDoc) -> bytes:
        text = srt.compose(doc.cues, reindex=False, strict=True, eol=doc.newline)
        return (text.rstrip("\r\n") + doc.ending).encode("utf-8")
