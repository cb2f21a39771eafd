"""HTML and XHTML (and the XHTML inside EPUB, epub.py). Only text nodes are translated; every tag and attribute
stays as it was.

A block is a block-level element's own text plus the text of its inline descendants (<b>, <a>, <em>...), so
"a <b>bold</b> word" is translated as one sentence and the words are spread back over the three text nodes.
Code, scripts and styles are never translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from ..errors import DocumentError, UnsupportedFile
from ..safety import check_xml, decode_text
from .base import FormatHandler, Slot, block_source, translatable
from .zipped import safe_xml_parser

INLINE = {
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "br",
    "cite",
    "data",
    "dfn",
    "em",
    "font",
    "i",
    "img",
    "kbd",
    "label",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
    "var",
    "wbr",
    "ins",
    "del",
    "big",
    "tt",
}
SKIP = {"script", "style", "pre", "code", "noscript", "template", "svg", "math", "textarea"}


def _local(tag) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _setter(el, attr: str):
    def set_text(value: str) -> None:
        setattr(el, attr, value)

    return set_text


def markup_blocks(root) -> list[list[Slot]]:
    """The translatable blocks of an (X)HTML tree, in document order of their block elements."""
    out: list[list[Slot]] = []

    def visit(el) -> None:
        block: list[Slot] = []
        children: list = []
        collect(el, block, children)
        if translatable(block_source(block)):
            out.append(block)
        for child in children:
            visit(child)

    def collect(el, block: list[Slot], children: list) -> None:
        if el.text:
            block.append(Slot(el.text, setter=_setter(el, "text")))
        for child in el:
            name = _local(child.tag)
            if name in INLINE:
                collect(child, block, children)
            elif name and name not in SKIP:
                children.append(child)
                # The block element breaks the text: its tail starts after it, not glued to what came before.
                block.append(Slot(" ", fixed=True))
            elif name in SKIP:
                block.append(Slot(" ", fixed=True))
            if child.tail:
                block.append(Slot(child.tail, setter=_setter(child, "tail")))

    visit(root)
    return out


XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def set_root_language(root, lang: str, add: bool = False) -> None:
    """The document's declared language (html lang / xml:lang) becomes the target; ``add`` declares it when the
    document did not."""
    for attr in ("lang", XML_LANG):
        if root.get(attr) is not None:
            root.set(attr, lang)
            add = False
    if add:
        root.set("lang", lang)


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_DOCUMENT_TAGS = re.compile(r"<\s*(!doctype|html|head|body)\b", re.I)


@dataclass
class HtmlDoc:
    root: object
    xml: bool  # parsed as XHTML (well-formed XML): written back as XML
    fragment: bool  # no <html>, <head>, <body> or doctype in the file: written back as a fragment
    doctype: str = ""
    warnings: list = field(default_factory=list)


def _as_xhtml(text: str):
    """The tree of a well-formed XHTML file, or None (then the HTML parser reads it). The declaration's encoding
    is dropped: the text is already decoded (lxml refuses a str that still declares one)."""
    if not _XML_DECL.match(text) and "xmlns=" not in text[:2000]:
        return None
    body = _XML_DECL.sub("", text, count=1).lstrip().encode("utf-8")
    try:
        check_xml(body, "HTML")  # entity declarations refused, as in every XML file
        root = etree.fromstring(body, safe_xml_parser())
    except DocumentError as exc:
        if exc.code == "xml_entities":
            raise
        return None  # not well-formed (e.g. &nbsp; from the XHTML DTD): the HTML parser is tolerant
    except etree.XMLSyntaxError:
        return None
    return root if _local(root.tag) == "html" else None


class HtmlHandler(FormatHandler):
    name = "html"
    extensions = (".html", ".htm", ".xhtml")

    def check(self, data: bytes) -> None:
        text = decode_text(data, "HTML")
        if not re.search(r"<\s*(!doctype\s+html|html|head|body|p|div|h[1-6]|span|table|ul|ol)\b", text[:100_000], re.I):
            raise UnsupportedFile("not_html", "This is not an HTML file (no HTML tags found).")
        if "<!ENTITY" in text.upper():
            raise DocumentError("xml_entities", "This HTML file declares entities; refused for safety.")

    def open(self, data: bytes) -> HtmlDoc:
        text = decode_text(data, "HTML")
        root = _as_xhtml(text)
        if root is not None:
            return HtmlDoc(root, xml=True, fragment=False)
        try:
            # Bytes with the encoding given: lxml refuses a str with an encoding declaration, and a <meta charset>
            # naming the file's old encoding must not override the decoding already done. The HTML parser never
            # loads DTDs or external entities.
            parser = lxml.html.HTMLParser(encoding="utf-8")
            root = lxml.html.document_fromstring(_XML_DECL.sub("", text, count=1).encode("utf-8"), parser=parser)
        except (etree.ParserError, ValueError):
            raise DocumentError("corrupt_file", "This HTML file cannot be parsed.") from None
        doctype = re.match(r"\s*(<!doctype[^>]*>)", text, re.I)
        fragment = not _DOCUMENT_TAGS.search(text[:100_000])
        return HtmlDoc(root, xml=False, fragment=fragment, doctype=doctype.group(1) if doctype else "")

    def blocks(self, doc: HtmlDoc) -> list[list[Slot]]:
        return markup_blocks(doc.root)

    def set_language(self, doc: HtmlDoc, lang: str) -> None:
        if not doc.fragment:
            set_root_language(doc.root, lang, add=True)

    def save(self, doc: HtmlDoc) -> bytes:
        if doc.xml:
            return etree.tostring(doc.root.getroottree(), xml_declaration=True, encoding="UTF-8")
        # Written as UTF-8, so the file must say so: without a declaration browsers (and parsers) read the bytes
        # as windows-1252.
        if doc.fragment:
            return _fragment(doc.root)
        _declare_utf8(doc.root)
        # The file's own doctype, or none: never the HTML 4 one libxml2 would invent.
        body = etree.tostring(doc.root, method="html", encoding="utf-8")
        return (doc.doctype.encode("utf-8") + b"\n" if doc.doctype else b"") + body


def _declare_utf8_metas(root) -> bool:
    """Every charset declaration now says UTF-8; False when there was none."""
    declared = False
    for meta in root.iter("meta"):
        if meta.get("charset"):
            meta.set("charset", "utf-8")
            declared = True
        elif (meta.get("http-equiv") or "").lower() == "content-type":
            meta.set("content", "text/html; charset=utf-8")
            declared = True
    return declared


def _declare_utf8(root) -> None:
    declared = _declare_utf8_metas(root)
    head = root.find("head")
    if not declared and head is None:
        head = etree.Element("head")
        root.insert(0, head)
    if not declared:
        meta = etree.Element("meta", charset="utf-8")
        meta.tail = head.text
        head.text = None
        head.insert(0, meta)


def _fragment(root) -> bytes:
    """A fragment comes back as a fragment (no <html>/<body> wrapper, no doctype), led by a UTF-8 declaration
    unless it has one: an HTML parser puts a leading <meta charset> in the head, so the structure is the same."""
    parts: list[bytes] = []
    if not _declare_utf8_metas(root):
        parts.append(b'<meta charset="utf-8">\n')
    for section in root:
        if section.text and _local(section.tag) == "body":
            parts.append(section.text.encode("utf-8"))
        for child in section:
            parts.append(etree.tostring(child, method="html", encoding="utf-8"))
    return b"".join(parts)
