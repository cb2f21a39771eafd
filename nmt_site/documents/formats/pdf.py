"""PDF: paragraphs and headings are rebuilt from the text layer's layout with pdfminer.six, and the translation
comes back as a .docx (headings as Word headings, one page per PDF page).

Why pdfminer.six: it gives each text box's lines with their positions, fonts and character sizes, which is what
paragraphs and headings are recovered from, and it puts spaces between words from the gaps between characters
(text layers often have none: "Thisdocumentmaybeused..."). It is MIT-licensed; pdfplumber adds table tools on top
of it that this does not need, and PyMuPDF (which could rewrite the PDF itself) is AGPL.

Layout → blocks: pdfminer groups lines into text boxes (LAParams); a box is split further where the font size
changes (a title set in the same box as its text) or the gap between two lines is much larger than the line
spacing. A line that ends in a hyphen before a lower-case word is joined without the hyphen. A block whose text is
larger than the page's body text is a heading.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

import docx
from docx.enum.text import WD_BREAK
from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTChar, LTTextBox, LTTextLine
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFParser, PDFSyntaxError
from pdfminer.psparser import PSException

from ..errors import DocumentError, UnsupportedFile
from .base import FormatHandler, Slot, block_source, translatable

NOTICE = "PDFs come back as a translated .docx: paragraphs and headings are kept, the page layout is not."

# Larger than body text by this factor: a heading.
HEADING_RATIO = 1.15
# A gap between two lines of a box larger than this many line heights starts a new paragraph.
PARAGRAPH_GAP = 1.0


@dataclass
class Para:
    text: str
    size: float  # median character size
    heading: int = 0  # 0 = body text, 1.. = heading level


@dataclass
class PdfDoc:
    pages: list[list[Para]] = field(default_factory=list)


def _line_text_and_size(line: LTTextLine) -> tuple[str, float]:
    sizes = [round(ch.size, 1) for ch in line if isinstance(ch, LTChar) and ch.get_text().strip()]
    return line.get_text().strip(), (statistics.median(sizes) if sizes else 0.0)


def _join(lines: list[str]) -> str:
    """Lines of one paragraph as one text: a hyphen that split a word at the line's end is removed."""
    out = ""
    for line in lines:
        if not out:
            out = line
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].islower():
            out = out[:-1] + line
        else:
            out = out + " " + line
    return out


def _box_paragraphs(box: LTTextBox) -> list[Para]:
    lines = [(ln, *_line_text_and_size(ln)) for ln in box if isinstance(ln, LTTextLine)]
    lines = [item for item in lines if item[1]]
    paras: list[Para] = []
    current: list[str] = []
    size = 0.0
    prev = None
    for line, text, line_size in lines:
        new = prev is None
        if prev is not None:
            gap = prev.y0 - line.y1
            height = max(prev.height, line.height, 1.0)
            if abs(line_size - size) > 0.5 or gap > PARAGRAPH_GAP * height:
                new = True
        if new and current:
            paras.append(Para(_join(current), size))
            current = []
        if new:
            size = line_size
        current.append(text)
        prev = line
    if current:
        paras.append(Para(_join(current), size))
    return paras


def _continue_paragraphs(paras: list[Para]) -> list[Para]:
    """Boxes that continue the previous one's sentence (a list item's wrapped line, a paragraph split by an
    indent) are joined to it: same size, no sentence end before, a lower-case word after."""
    out: list[Para] = []
    for para in paras:
        prev = out[-1] if out else None
        if (
            prev is not None
            and abs(prev.size - para.size) <= 0.5
            and not prev.text.endswith((".", ":", "!", "?", ";"))
            and para.text[:1].islower()
        ):
            prev.text = _join([prev.text, para.text])
        else:
            out.append(para)
    return out


def _mark_headings(pages: list[list[Para]]) -> None:
    """Body size = the size that most characters have; larger sizes are headings, the largest level 1."""
    weights: Counter = Counter()
    for page in pages:
        for para in page:
            weights[para.size] += len(para.text)
    if not weights:
        return
    body = weights.most_common(1)[0][0]
    larger = sorted({p.size for page in pages for p in page if p.size > body * HEADING_RATIO}, reverse=True)
    level = {size: min(i + 1, 3) for i, size in enumerate(larger)}
    for page in pages:
        for para in page:
            para.heading = level.get(para.size, 0)


def _setter(para: Para):
    def set_text(value: str) -> None:
        para.text = value

    return set_text


def read_pdf(data: bytes, page_numbers=None) -> PdfDoc:
    """The paragraphs of every page (or of ``page_numbers``, counted from 0), headings marked."""
    doc = PdfDoc()
    with _read_errors():
        for page in extract_pages(io.BytesIO(data), laparams=LAParams(), page_numbers=page_numbers):
            paras: list[Para] = []
            for element in page:
                if isinstance(element, LTTextBox):
                    paras.extend(_box_paragraphs(element))
            doc.pages.append(_continue_paragraphs(paras))
    _mark_headings(doc.pages)
    return doc


@contextmanager
def _read_errors():
    try:
        yield
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise DocumentError(
            "encrypted_pdf", "This PDF is encrypted; remove the password and upload it again."
        ) from None
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
        raise DocumentError("corrupt_file", "This PDF is damaged or truncated; its text cannot be read.") from None


class PdfHandler(FormatHandler):
    name = "pdf"
    extensions = (".pdf",)
    output_extension = ".docx"
    notice = NOTICE

    def check(self, data: bytes) -> None:
        if not data[:1024].lstrip().startswith(b"%PDF-"):
            raise UnsupportedFile("not_pdf", "This is not a PDF file (it does not start with %PDF-).")
        # The cheap part of opening (structure, encryption); the layout is analysed once, by extract().
        with _read_errors():
            PDFDocument(PDFParser(io.BytesIO(data)))

    def open(self, data: bytes) -> PdfDoc:
        return read_pdf(data)

    def blocks(self, doc: PdfDoc) -> list[list[Slot]]:
        out = []
        for page in doc.pages:
            for para in page:
                block = [Slot(para.text, setter=_setter(para))]
                if translatable(block_source(block)):
                    out.append(block)
        return out

    def save(self, doc: PdfDoc) -> bytes:
        out = docx.Document()
        for n, page in enumerate(doc.pages):
            for para in page:
                if para.heading:
                    out.add_heading(para.text, level=para.heading)
                else:
                    out.add_paragraph(para.text)
            if n < len(doc.pages) - 1:
                out.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()
