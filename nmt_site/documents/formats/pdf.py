"""PDF: the text layer is read with pypdf and the translation comes back as a .docx.

Why not a translated PDF: writing translated text back into a PDF's text layer, in its fonts and positions,
needs a PDF rewriting engine. The one that does it well (PyMuPDF) is AGPL-licensed, which a self-hosted
studio that others may deploy cannot take on lightly; pypdf (BSD) reads text but cannot re-typeset it.
"""

from __future__ import annotations

import io
import re

import docx
from docx.enum.text import WD_BREAK
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..errors import DocumentError, UnsupportedFile
from .base import FormatHandler, Slot, block_source, translatable

NOTICE = (
    "PDF files come back as a translated .docx (one page per PDF page, paragraphs kept): rewriting the "
    "PDF's own text layer would need PyMuPDF, whose AGPL licence this project does not take on; the "
    "permissively licensed pypdf reads the text but cannot re-typeset it."
)


class PdfDoc:
    def __init__(self, pages: list[list[str]]):
        self.pages = pages  # paragraphs per page; setters replace them in place


def _setter(page: list[str], i: int):
    def set_text(value: str) -> None:
        page[i] = value

    return set_text


class PdfHandler(FormatHandler):
    name = "pdf"
    extensions = (".pdf",)
    output_extension = ".docx"
    notice = NOTICE

    def check(self, data: bytes) -> None:
        if not data[:1024].lstrip().startswith(b"%PDF-"):
            raise UnsupportedFile("not_pdf", "This is not a PDF file (it does not start with %PDF-).")
        self.open(data)

    def open(self, data: bytes) -> PdfDoc:
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise DocumentError("encrypted_pdf", "This PDF is encrypted; remove the password and upload it again.")
            pages = []
            for page in reader.pages:
                text = page.extract_text() or ""
                # Lines of a paragraph are joined (the PDF wrapped them); blank lines separate paragraphs.
                paras = [re.sub(r"\s*\n\s*", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
                pages.append([p for p in paras if p])
        except DocumentError:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
            raise DocumentError("corrupt_file", "This PDF is damaged or truncated; its text cannot be read.") from None
        return PdfDoc(pages)

    def blocks(self, doc: PdfDoc) -> list[list[Slot]]:
        out = []
        for page in doc.pages:
            for i, text in enumerate(page):
                block = [Slot(text, setter=_setter(page, i))]
                if translatable(block_source(block)):
                    out.append(block)
        return out

    def save(self, doc: PdfDoc) -> bytes:
        out = docx.Document()
        for n, page in enumerate(doc.pages):
            for text in page:
                out.add_paragraph(text)
            if n < len(doc.pages) - 1:
                out.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()
