"""Line-based text formats: .txt, .md, .srt. Files are decoded (UTF-8 or detected) and written back as UTF-8."""

from __future__ import annotations

import re

from ..errors import DocumentError, UnsupportedFile
from ..safety import decode_text
from .base import FormatHandler, Slot, block_source, translatable


class Lines:
    """A text file as a list of lines, remembering its newline style."""

    def __init__(self, text: str):
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.lines = text.replace("\r\n", "\n").split("\n")

    def setter(self, i: int, prefix: str = "", suffix: str = ""):
        def set_line(value: str) -> None:
            self.lines[i] = prefix + value + suffix

        return set_line

    def text(self) -> str:
        return self.newline.join(self.lines)


class TextHandler(FormatHandler):
    """Plain text: every line is a block, so the line and paragraph layout of the file stays as it was."""

    name = "txt"
    extensions = (".txt",)
    label = "text"

    def check(self, data: bytes) -> None:
        decode_text(data, self.label)

    def open(self, data: bytes) -> Lines:
        return Lines(decode_text(data, self.label))

    def blocks(self, doc: Lines) -> list[list[Slot]]:
        out = []
        for i, line in enumerate(doc.lines):
            block = [Slot(line, setter=doc.setter(i))]
            if translatable(block_source(block)):
                out.append(block)
        return out

    def save(self, doc: Lines) -> bytes:
        return doc.text().encode("utf-8")


# Markdown pieces that must come out byte for byte: inline code, link/image targets, autolinks and bare URLs,
# emphasis and table markers. Everything else on a line is prose.
_MD_PROTECTED = re.compile(
    r"`+[^`\n]*?`+"  # inline code
    r"|!?\[(?=[^\]\n]*\]\()"  # opening bracket of a link or image
    r"|\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"  # ](target "title")
    r"|<https?://[^>\s]+>"  # autolink
    r"|https?://[^\s)>\]]+"  # bare URL
    r"|\*\*|~~|\*(?=\S)|(?<=\S)\*"  # emphasis markers
    r"|\|"  # table cell separators
)
_MD_PREFIX = re.compile(r"^(\s*(?:#{1,6}\s+|>\s*|[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)*)")
_MD_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_MD_REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s")


class MarkdownHandler(TextHandler):
    """Markdown, line by line: fenced and indented code blocks, inline code, URLs and link targets, reference
    definitions and raw HTML lines are never sent to the engine; heading/list/quote markers stay in place."""

    name = "md"
    extensions = (".md", ".markdown")
    label = "Markdown"

    def blocks(self, doc: Lines) -> list[list[Slot]]:
        out = []
        fence = None
        prev_blank = True
        for i, line in enumerate(doc.lines):
            m = _MD_FENCE.match(line)
            if fence:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                    fence = None
                prev_blank = False
                continue
            if m:
                fence = m.group(1)
                continue
            blank = not line.strip()
            indented_code = prev_blank and (line.startswith("    ") or line.startswith("\t"))
            if indented_code:
                continue  # prev_blank stays True: the next indented line is code too
            prev_blank = blank
            if blank or line.lstrip().startswith("<") or _MD_REFDEF.match(line):
                continue
            prefix = _MD_PREFIX.match(line).group(1)
            block = self._line_block(doc, i, line, prefix)
            if translatable(block_source(block)):
                out.append(block)
        return out

    @staticmethod
    def _line_block(doc: Lines, i: int, line: str, prefix: str) -> list[Slot]:
        # Pieces of the line; setters write into `parts` and reassemble the line, so fixed pieces stay.
        parts: list[str] = [prefix]
        block: list[Slot] = [Slot(prefix, fixed=True)]
        rest = line[len(prefix) :]
        pos = 0

        def make_setter(k: int):
            def set_part(value: str) -> None:
                parts[k] = value
                doc.lines[i] = "".join(parts)

            return set_part

        for m in _MD_PROTECTED.finditer(rest):
            if m.start() > pos:
                parts.append(rest[pos : m.start()])
                block.append(Slot(parts[-1], setter=make_setter(len(parts) - 1)))
            parts.append(m.group(0))
            block.append(Slot(m.group(0), fixed=True))
            pos = m.end()
        if pos < len(rest):
            parts.append(rest[pos:])
            block.append(Slot(parts[-1], setter=make_setter(len(parts) - 1)))
        return block


_SRT_TIMING = re.compile(r"^\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}")


class SrtHandler(TextHandler):
    """SubRip subtitles: cue numbers and timing lines are never touched; a cue's text lines form one block
    (translated as one sentence group) and the translation is spread back over the same number of lines."""

    name = "srt"
    extensions = (".srt",)
    label = "SRT"

    def check(self, data: bytes) -> None:
        text = decode_text(data, self.label)
        if not any(_SRT_TIMING.match(line) for line in text.splitlines()[:50]):
            raise UnsupportedFile(
                "not_srt",
                "This is not an SRT subtitle file (no 00:00:01,000 --> 00:00:02,000 timing line near the start).",
            )

    def blocks(self, doc: Lines) -> list[list[Slot]]:
        out = []
        lines = doc.lines
        i = 0
        while i < len(lines):
            if _SRT_TIMING.match(lines[i]):
                j = i + 1
                block: list[Slot] = []
                while j < len(lines) and lines[j].strip():
                    if block:
                        block.append(Slot("\n", fixed=True))
                    # The line's own trailing whitespace is dropped on write: the glue space that keeps two
                    # lines' words apart must not end up at the end of a subtitle line.
                    block.append(Slot(lines[j], setter=_strip_setter(doc, j)))
                    j += 1
                if translatable(block_source(block)):
                    out.append(block)
                i = j
            else:
                i += 1
        return out


def _strip_setter(doc: Lines, i: int):
    def set_line(value: str) -> None:
        doc.lines[i] = value.rstrip()

    return set_line


__all__ = ["DocumentError", "MarkdownHandler", "SrtHandler", "TextHandler"]
