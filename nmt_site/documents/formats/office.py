"""Office Open XML documents: .docx (python-docx), .pptx (python-pptx). (.odt: opendocument.py.)

Each paragraph is a block and each text run's text element is a slot: the paragraph is translated as a whole
and the translation is spread back over its runs (see base.py), so bold/italic/links/styles of every run stay.
"""

from __future__ import annotations

import io
import re

import docx
import pptx
from docx.opc.part import XmlPart
from docx.oxml.ns import qn as wqn
from lxml import etree
from pptx.oxml.ns import qn as aqn

from ..errors import DocumentError
from ..safety import check_zip
from .base import FormatHandler, Slot, block_source, translatable

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _xml_text_setter(t):
    def set_text(value: str) -> None:
        t.text = value
        if value != value.strip():
            t.set(_XML_SPACE, "preserve")  # Word drops edge spaces of a run otherwise

    return set_text


def _paragraph_blocks(element, p_tag: str, t_tags: tuple[str, ...], allowed_parent=None) -> list[list[Slot]]:
    """Blocks for every paragraph under ``element``; text elements of a paragraph nested inside another
    (a text box inside a run) belong to the inner paragraph only."""
    out = []
    for p in element.iter(p_tag):
        block = []
        for t in p.iter(*t_tags):
            if next(t.iterancestors(p_tag), None) is not p:
                continue
            if allowed_parent is not None and t.getparent().tag != allowed_parent:
                continue
            block.append(Slot(t.text or "", setter=_xml_text_setter(t)))
        if translatable(block_source(block)):
            out.append(block)
    return out


def _open_failed(label: str):
    return DocumentError(
        "corrupt_file", f"This {label} file is damaged or not a real {label} file; it cannot be opened."
    )


# Word parts with text a reader sees: the body, headers, footers, footnotes, endnotes, comments.
_DOCX_PARTS = re.compile(r"^/word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml$")


class DocxHandler(FormatHandler):
    name = "docx"
    extensions = (".docx",)

    def check(self, data: bytes) -> None:
        check_zip(data, "DOCX", required=("[Content_Types].xml", "word/document.xml"))

    def open(self, data: bytes):
        try:
            return docx.Document(io.BytesIO(data))
        except Exception:  # python-docx raises a variety (KeyError, ValueError, lxml errors) for broken packages
            raise _open_failed("DOCX") from None

    def blocks(self, doc) -> list[list[Slot]]:
        parts = [p for p in doc.part.package.iter_parts() if _DOCX_PARTS.match(str(p.partname))]
        out = []
        # python-docx loads footnotes and endnotes as opaque blobs: parse those here (entities and network
        # off) and write them back in save().
        doc._nmt_blob_parts = []
        for part in sorted(parts, key=lambda p: str(p.partname)):
            if isinstance(part, XmlPart):
                element = part.element
            else:
                element = etree.fromstring(part.blob, etree.XMLParser(resolve_entities=False, no_network=True))
                doc._nmt_blob_parts.append((part, element))
            # w:t only: field codes (w:instrText) and deleted text (w:delText) are not reader-visible prose.
            out.extend(_paragraph_blocks(element, wqn("w:p"), (wqn("w:t"),)))
        return out

    def save(self, doc) -> bytes:
        for part, element in getattr(doc, "_nmt_blob_parts", ()):
            part._blob = etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()


class PptxHandler(FormatHandler):
    name = "pptx"
    extensions = (".pptx",)

    def check(self, data: bytes) -> None:
        check_zip(data, "PPTX", required=("[Content_Types].xml", "ppt/presentation.xml"))

    def open(self, data: bytes):
        try:
            return pptx.Presentation(io.BytesIO(data))
        except Exception:
            raise _open_failed("PPTX") from None

    def blocks(self, doc) -> list[list[Slot]]:
        out = []
        for slide in doc.slides:
            elements = [slide.element]
            if slide.has_notes_slide:
                elements.append(slide.notes_slide.element)
            for element in elements:
                # Text frames, table cells and grouped shapes all keep their text in a:p/a:r/a:t. Field
                # runs (a:fld: slide numbers, dates) are left alone.
                out.extend(_paragraph_blocks(element, aqn("a:p"), (aqn("a:t"),), allowed_parent=aqn("a:r")))
        return out

    def save(self, doc) -> bytes:
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
