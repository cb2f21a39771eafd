"""Zip containers (ODT, EPUB): parse the members a handler translates, copy every other member byte for byte."""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from ..errors import DocumentError
from ..safety import check_xml, read_member


def safe_xml_parser() -> etree.XMLParser:
    # Entities are never expanded and nothing is fetched; check_xml (defusedxml) has already refused entity
    # declarations and external references before lxml sees the bytes.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_member(zf: zipfile.ZipFile, name: str, label: str):
    """A member as an lxml tree, after the defusedxml check; DocumentError (with the member's name) otherwise."""
    body = read_member(zf, zf.getinfo(name), label)
    check_xml(body, label, name)
    try:
        return etree.fromstring(body, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentError("corrupt_file", f"This {label} file is damaged ({name}: {exc}).") from None


def serialise(root) -> bytes:
    """The whole document (its DOCTYPE included), declared and encoded as UTF-8."""
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def rewrite_zip(zf: zipfile.ZipFile, replaced: dict[str, bytes]) -> bytes:
    """A copy of the container with ``replaced`` members swapped in; every other member is copied as it was
    (bytes, order, compression, dates). `mimetype` comes first and uncompressed, as ODF and EPUB require."""
    buf = io.BytesIO()
    infos = sorted(zf.infolist(), key=lambda i: i.filename != "mimetype")
    with zipfile.ZipFile(buf, "w") as out:
        for info in infos:
            body = replaced[info.filename] if info.filename in replaced else zf.read(info)
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.external_attr = info.external_attr
            copy.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else info.compress_type
            out.writestr(copy, body)
    return buf.getvalue()
