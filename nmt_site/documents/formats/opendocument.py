"""OpenDocument text (.odt), read and written with lxml: only content.xml, styles.xml (page headers and
footers) and meta.xml (the language) are parsed and rewritten; every other member is copied byte for byte.

Each text:p / text:h is a block; its text nodes and those of its spans and links are the slots. Spaces, tabs
and line breaks (text:s, text:tab, text:line-break), fields (page numbers, dates) and note citations stay as
they are; the paragraphs inside notes, frames and text boxes are blocks of their own.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from ..errors import UnsupportedFile
from ..safety import check_zip, read_member
from .base import FormatHandler, Slot, block_source, translatable
from .zipped import parse_member, rewrite_zip, serialise

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
DC = "http://purl.org/dc/elements/1.1/"
PARAGRAPHS = {f"{{{TEXT}}}p", f"{{{TEXT}}}h"}
# Inline elements whose text is the paragraph's own prose.
INLINE = {f"{{{TEXT}}}{n}" for n in ("span", "a", "meta", "ruby", "ruby-base", "hidden-text")}
# Characters written as elements: a word gap in the engine's text, never changed.
GAPS = {f"{{{TEXT}}}{n}" for n in ("s", "tab", "line-break")}
# Never translated (deleted text of tracked changes).
SKIP = {f"{{{TEXT}}}tracked-changes"}

# The members odfpy and LibreOffice parse for a text document (and each embedded object's): checked with
# defusedxml. The rest (Configurations2/, thumbnails, pictures) is copied as bytes and never parsed.
_PARSED = ("content.xml", "styles.xml", "meta.xml", "settings.xml")


def _reads(name: str) -> bool:
    if name == "META-INF/manifest.xml":
        return True
    folder, _, base = name.rpartition("/")
    return base in _PARSED and (folder == "" or (folder.startswith("Object ") and "/" not in folder))


def _setter(el, attr: str):
    def set_text(value: str) -> None:
        setattr(el, attr, value)

    return set_text


def odf_blocks(root) -> list[list[Slot]]:
    out: list[list[Slot]] = []

    def walk(el) -> None:
        for child in el:
            if not isinstance(child.tag, str) or child.tag in SKIP:
                continue
            if child.tag in PARAGRAPHS:
                paragraph(child)
            else:
                walk(child)

    def paragraph(p) -> None:
        block: list[Slot] = []
        nested: list = []
        collect(p, block, nested)
        if translatable(block_source(block)):
            out.append(block)
        for el in nested:
            walk(el)

    def collect(el, block: list[Slot], nested: list) -> None:
        if el.text:
            block.append(Slot(el.text, setter=_setter(el, "text")))
        for child in el:
            if isinstance(child.tag, str):
                if child.tag in INLINE:
                    collect(child, block, nested)
                else:
                    # A gap, a field, a note, a frame: fixed; paragraphs inside (note bodies, text boxes) are
                    # walked as blocks of their own.
                    block.append(Slot(" ", fixed=True))
                    if child.tag not in GAPS:
                        nested.append(child)
            if child.tail:
                block.append(Slot(child.tail, setter=_setter(child, "tail")))

    walk(root)
    return out


@dataclass
class OdtDoc:
    zf: zipfile.ZipFile
    trees: dict = field(default_factory=dict)  # member name → lxml root, for the members we rewrite
    target_lang: str | None = None


class OdtHandler(FormatHandler):
    name = "odt"
    extensions = (".odt",)

    def check(self, data: bytes) -> None:
        zf = check_zip(data, "ODT", required=("mimetype", "content.xml"), reads=_reads)
        if read_member(zf, zf.getinfo("mimetype"), "ODT").strip() != b"application/vnd.oasis.opendocument.text":
            raise UnsupportedFile("not_odt", "This is not an OpenDocument text file (wrong mimetype member).")

    def open(self, data: bytes) -> OdtDoc:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        doc = OdtDoc(zf)
        for name in ("content.xml", "styles.xml", "meta.xml"):
            if name in names and read_member(zf, zf.getinfo(name), "ODT").strip():
                doc.trees[name] = parse_member(zf, name, "ODT")
        return doc

    def blocks(self, doc: OdtDoc) -> list[list[Slot]]:
        out = []
        body = doc.trees["content.xml"].find(f"{{{OFFICE}}}body")
        if body is not None:
            out.extend(odf_blocks(body))
        styles = doc.trees.get("styles.xml")
        masters = styles.find(f"{{{OFFICE}}}master-styles") if styles is not None else None
        if masters is not None:
            out.extend(odf_blocks(masters))  # page headers and footers
        return out

    def set_language(self, doc: OdtDoc, lang: str) -> None:
        meta = doc.trees.get("meta.xml")
        if meta is not None:
            for el in meta.iter(f"{{{DC}}}language"):
                el.text = lang

    def save(self, doc: OdtDoc) -> bytes:
        return rewrite_zip(doc.zf, {name: serialise(root) for name, root in doc.trees.items()})
