"""EPUB: the content documents the package file lists (XHTML, in reading order) are translated like HTML, the
NCX table of contents too; the package file gets the target language (dc:language). Every other member
(images, CSS, fonts) is copied byte for byte, and the uncompressed `mimetype` member stays first.

Tolerance: a content document that is not well-formed XML (readers open such books anyway) is left exactly as
it was, untranslated, and the document says which member and why; the rest of the book is translated. A
member that declares XML entities is refused outright (billion laughs, XXE), and so is a damaged package file:
without it there is no book.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from urllib.parse import unquote

from lxml import etree

from ..errors import DocumentError, UnsupportedFile
from ..safety import check_xml, check_zip, read_member
from .base import FormatHandler, Slot, translatable
from .markup import markup_blocks, set_root_language
from .zipped import parse_member, rewrite_zip, safe_xml_parser, serialise

CONTAINER = "META-INF/container.xml"
OPF = "http://www.idpf.org/2007/opf"
DC = "http://purl.org/dc/elements/1.1/"
NCX = "http://www.daisy.org/z3986/2005/ncx/"
CONTENT_TYPES = {"application/xhtml+xml", "text/html"}
NCX_TYPE = "application/x-dtbncx+xml"


def _package_path(zf: zipfile.ZipFile) -> str:
    container = parse_member(zf, CONTAINER, "EPUB")
    for rootfile in container.iter("{urn:oasis:names:tc:opendocument:xmlns:container}rootfile"):
        path = rootfile.get("full-path")
        if path and path in zf.NameToInfo:
            return path
    raise UnsupportedFile("not_epub", "This EPUB file names no package file (.opf) that it contains.")


@dataclass
class EpubDoc:
    zf: zipfile.ZipFile
    opf_name: str
    opf: object
    trees: dict = field(default_factory=dict)  # member → lxml root of the documents translated
    order: list = field(default_factory=list)  # members in reading order (spine, then the rest)
    warnings: list = field(default_factory=list)


class EpubHandler(FormatHandler):
    name = "epub"
    extensions = (".epub",)

    def check(self, data: bytes) -> None:
        zf = check_zip(data, "EPUB", required=("mimetype", CONTAINER), reads=lambda name: name == CONTAINER)
        if read_member(zf, zf.getinfo("mimetype"), "EPUB").strip() != b"application/epub+zip":
            raise UnsupportedFile("not_epub", "This is not an EPUB file (wrong mimetype member).")
        name = _package_path(zf)
        check_xml(read_member(zf, zf.getinfo(name), "EPUB"), "EPUB", name)

    def open(self, data: bytes) -> EpubDoc:
        zf = zipfile.ZipFile(io.BytesIO(data))
        opf_name = _package_path(zf)
        doc = EpubDoc(zf, opf_name, parse_member(zf, opf_name, "EPUB"))
        base = posixpath.dirname(opf_name)
        items = {}
        for item in doc.opf.iter(f"{{{OPF}}}item"):
            href, media = item.get("href"), (item.get("media-type") or "").lower()
            if href and (media in CONTENT_TYPES or media == NCX_TYPE):
                items[item.get("id")] = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
        spine = [items[ref.get("idref")] for ref in doc.opf.iter(f"{{{OPF}}}itemref") if ref.get("idref") in items]
        for name in dict.fromkeys(spine + list(items.values())):
            if name not in zf.NameToInfo:
                continue
            tree = self._content(zf, name, doc)
            if tree is not None:
                doc.trees[name] = tree
                doc.order.append(name)
        return doc

    @staticmethod
    def _content(zf: zipfile.ZipFile, name: str, doc: EpubDoc):
        body = read_member(zf, zf.getinfo(name), "EPUB")
        if not body.strip():
            return None
        try:
            check_xml(body, "EPUB", name)  # entity declarations refused before lxml sees the bytes
            return etree.fromstring(body, safe_xml_parser())
        except DocumentError as exc:
            if exc.code == "xml_entities":
                raise
        except etree.XMLSyntaxError:
            pass
        try:  # only for libxml2's own words on where the XML breaks
            etree.fromstring(body, safe_xml_parser())
            reason = "not well-formed XML"
        except etree.XMLSyntaxError as exc:
            reason = f"not well-formed XML ({exc})"
        # Readers open such a member anyway; rewriting a tree guessed from broken XML could damage what they
        # show, so it stays byte for byte as it was.
        doc.warnings.append(f"{name} is {reason}; it was left as it was, untranslated.")
        return None

    def blocks(self, doc: EpubDoc) -> list[list[Slot]]:
        out: list[list[Slot]] = []
        for name in doc.order:
            root = doc.trees[name]
            if etree.QName(root).namespace == NCX:
                out.extend(_ncx_blocks(root))
            else:
                out.extend(markup_blocks(root))
        return out

    def set_language(self, doc: EpubDoc, lang: str) -> None:
        metadata = doc.opf.find(f"{{{OPF}}}metadata")
        found = list(doc.opf.iter(f"{{{DC}}}language"))
        for el in found:
            el.text = lang
        if not found and metadata is not None:
            el = etree.SubElement(metadata, f"{{{DC}}}language")
            el.text = lang
        for root in doc.trees.values():
            if etree.QName(root).namespace != NCX:
                set_root_language(root, lang)

    def save(self, doc: EpubDoc) -> bytes:
        replaced = {name: serialise(root) for name, root in doc.trees.items()}
        replaced[doc.opf_name] = serialise(doc.opf)
        return rewrite_zip(doc.zf, replaced)


def _ncx_blocks(root) -> list[list[Slot]]:
    out = []
    for el in root.iter(f"{{{NCX}}}text"):
        if el.text and translatable(el.text):
            out.append([Slot(el.text, setter=lambda value, el=el: setattr(el, "text", value))])
    return out
