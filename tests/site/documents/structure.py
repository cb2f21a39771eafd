"""What "the same structure" means per format, for the round-trip tests: everything but the translated text."""

from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

TAG = re.compile(r"<[^<>\n]*>|\{\\[^{}\n]*\}")
LANG_ATTRS = {"lang", "{http://www.w3.org/XML/1998/namespace}lang"}


def markdown_skeleton(text: str) -> list[tuple]:
    """Every token but the prose: types, markers, link/image targets, and the full content of code, front
    matter and raw HTML (byte for byte)."""
    from nmt_site.documents.formats.markdown import parser

    out: list[tuple] = []

    def walk(tokens) -> None:
        for tok in tokens:
            if tok.type in ("text", "text_special", "softbreak"):
                continue
            verbatim = tok.type in ("fence", "code_block", "code_inline", "front_matter", "html_block", "html_inline")
            attrs = {k: v for k, v in (tok.attrs or {}).items() if k in ("href", "src", "title")}
            if tok.type == "image":
                attrs.pop("title", None)
            info = tok.info.split()[0] if tok.type == "admonition_open" and tok.info.strip() else tok.info
            out.append(
                (tok.type, tok.tag, tok.markup, info, tuple(sorted(attrs.items())), tok.content if verbatim else "")
            )
            if tok.children:
                walk(tok.children)

    walk(parser().parse(text))
    return out


def xml_skeleton(root) -> list[tuple]:
    """Element tags and attributes in document order (the declared language aside)."""
    return [
        (el.tag, tuple(sorted((k, v) for k, v in el.attrib.items() if k not in LANG_ATTRS)))
        for el in root.iter()
        if isinstance(el.tag, str)
    ]


def srt_skeleton(text: str) -> list[tuple]:
    import srt

    return [
        (c.index, c.start, c.end, c.proprietary, tuple(TAG.findall(c.content)), c.content.count("\n"))
        for c in srt.parse(text)
    ]


def zip_members(data: bytes) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename: zf.read(i) for i in zf.infolist()}


def parse_xml(body: bytes):
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
