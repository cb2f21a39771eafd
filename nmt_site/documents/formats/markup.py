"""HTML and EPUB (XHTML in a zip). Only text nodes are translated; every tag and attribute stays as it was.

A block is a block-level element's own text plus the text of its inline descendants (<b>, <a>, <em>...), so
"a <b>bold</b> word" is translated as one sentence and the words are spread back over the three text nodes.
Code, scripts and styles are never translated.
"""

from __future__ import annotations

import io
import re
import zipfile

import lxml.html
from lxml import etree

from ..errors import DocumentError, UnsupportedFile
from ..safety import check_zip, decode_text, read_member
from .base import FormatHandler, Slot, block_source, translatable

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


_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.I)


class HtmlHandler(FormatHandler):
    name = "html"
    extensions = (".html", ".htm")

    def check(self, data: bytes) -> None:
        text = decode_text(data, "HTML")
        if not re.search(r"<\s*(!doctype\s+html|html|head|body|p|div|h[1-6]|span|table|ul|ol)\b", text[:100_000], re.I):
            raise UnsupportedFile("not_html", "This is not an HTML file (no HTML tags found).")
        if "<!ENTITY" in text.upper():
            raise DocumentError("xml_entities", "This HTML file declares entities; refused for safety.")

    def open(self, data: bytes):
        text = decode_text(data, "HTML")
        try:
            # The HTML parser never loads DTDs or external entities.
            root = lxml.html.document_fromstring(text)
        except (etree.ParserError, ValueError):
            raise DocumentError("corrupt_file", "This HTML file cannot be parsed.") from None
        return root

    def blocks(self, doc) -> list[list[Slot]]:
        return markup_blocks(doc)

    def save(self, doc) -> bytes:
        # Written as UTF-8, so any declared charset must say so too; without a declaration browsers (and
        # parsers) would read the bytes as windows-1252.
        declared = False
        for meta in doc.iter("meta"):
            if meta.get("charset"):
                meta.set("charset", "utf-8")
                declared = True
            elif (meta.get("http-equiv") or "").lower() == "content-type":
                meta.set("content", "text/html; charset=utf-8")
                declared = True
        head = doc.find("head")
        if not declared and head is not None:
            meta = etree.Element("meta", charset="utf-8")
            meta.tail = head.text
            head.text = None
            head.insert(0, meta)
        tree = doc.getroottree()
        return etree.tostring(tree, method="html", encoding="utf-8", doctype=tree.docinfo.doctype or None)


def safe_xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class EpubHandler(FormatHandler):
    """EPUB: every XHTML content document inside the zip is translated like HTML; all other members (images,
    CSS, the package file) are copied unchanged, and the uncompressed `mimetype` member stays first."""

    name = "epub"
    extensions = (".epub",)

    def check(self, data: bytes) -> None:
        zf = check_zip(data, "EPUB", required=("mimetype", "META-INF/container.xml"))
        if read_member(zf, zf.getinfo("mimetype"), "EPUB").strip() != b"application/epub+zip":
            raise UnsupportedFile("not_epub", "This is not an EPUB file (wrong mimetype member).")

    def open(self, data: bytes):
        zf = zipfile.ZipFile(io.BytesIO(data))
        trees = {}
        for info in zf.infolist():
            if info.filename.lower().endswith((".xhtml", ".html", ".htm")):
                try:
                    trees[info.filename] = etree.fromstring(read_member(zf, info, "EPUB"), safe_xml_parser())
                except etree.XMLSyntaxError:
                    raise DocumentError(
                        "corrupt_file", f"This EPUB file is damaged ({info.filename} is not valid XHTML)."
                    ) from None
        return zf, trees

    def blocks(self, doc) -> list[list[Slot]]:
        _, trees = doc
        out = []
        for name in sorted(trees):
            out.extend(markup_blocks(trees[name]))
        return out

    def save(self, doc) -> bytes:
        zf, trees = doc
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as out:
            infos = sorted(zf.infolist(), key=lambda i: i.filename != "mimetype")
            for info in infos:
                if info.filename in trees:
                    body = etree.tostring(trees[info.filename], xml_declaration=True, encoding="utf-8")
                else:
                    body = zf.read(info)
                compress = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
                out.writestr(info.filename, body, compress_type=compress)
        return buf.getvalue()
