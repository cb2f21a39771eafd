"""Plain text (.txt): decoded (UTF-8 or detected) and written back as UTF-8, line by line."""

from __future__ import annotations

from ..errors import DocumentError
from ..safety import decode_text
from .base import FormatHandler, Slot, block_source, split_addresses, translatable


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
            block = _line_block(doc, i, line)
            if translatable(block_source(block)):
                out.append(block)
        return out

    def save(self, doc: Lines) -> bytes:
        return doc.text().encode("utf-8")


__all__ = ["DocumentError", "TextHandler"]


def _line_block(doc: Lines, i: int, line: str) -> list[Slot]:
    """A line's slots: its prose, with web and e-mail addresses as fixed slots."""
    pieces = split_addresses(line)
    if len(pieces) == 1:
        return [Slot(line, setter=doc.setter(i))]
    parts = [piece for piece, _ in pieces]

    def setter(k: int):
        def set_part(value: str) -> None:
            parts[k] = value
            doc.lines[i] = "".join(parts)

        return set_part

    return [Slot(p, fixed=True) if fixed else Slot(p, setter=setter(k)) for k, (p, fixed) in enumerate(pieces)]
