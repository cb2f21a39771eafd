"""The supported formats: extension allowlist → handler. Detection never trusts the Content-Type header."""

from __future__ import annotations

from pathlib import PurePath

from ..errors import UnsupportedFile
from .base import FormatHandler
from .epub import EpubHandler
from .markdown import MarkdownHandler
from .markup import HtmlHandler
from .office import DocxHandler, PptxHandler
from .opendocument import OdtHandler
from .pdf import PdfHandler
from .plaintext import TextHandler
from .subtitles import SrtHandler

HANDLERS: dict[str, FormatHandler] = {}
for _handler in (
    TextHandler(),
    MarkdownHandler(),
    SrtHandler(),
    HtmlHandler(),
    DocxHandler(),
    OdtHandler(),
    PptxHandler(),
    EpubHandler(),
    PdfHandler(),
):
    for _ext in _handler.extensions:
        HANDLERS[_ext] = _handler

ALLOWED_EXTENSIONS = tuple(sorted(HANDLERS))


def handler_for(filename: str) -> FormatHandler:
    """The handler for a file name's extension (the allowlist); the content check is the handler's check()."""
    ext = PurePath(filename).suffix.lower()
    handler = HANDLERS.get(ext)
    if handler is None:
        raise UnsupportedFile(
            "unsupported_format",
            f"'{filename}': {ext or 'files without an extension'} cannot be translated. "
            f"Supported: {', '.join(ALLOWED_EXTENSIONS)}.",
        )
    return handler


def by_name(name: str) -> FormatHandler:
    return next(h for h in HANDLERS.values() if h.name == name)


__all__ = ["ALLOWED_EXTENSIONS", "HANDLERS", "by_name", "handler_for"]
