"""Checks run on every upload before any parser sees the bytes: zip bombs, XML entities, text encodings."""

from __future__ import annotations

import contextvars
import io
import zipfile
from collections.abc import Callable

import defusedxml.ElementTree as SafeET
from charset_normalizer import from_bytes
from defusedxml import DefusedXmlException
from django.conf import settings

from .errors import DocumentError, FileTooLarge, UnsupportedFile

ZIP_MAGIC = b"PK\x03\x04"


XML_SUFFIXES = (".xml", ".rels", ".xhtml", ".htm", ".html", ".opf", ".ncx")


def check_zip(
    data: bytes, label: str, required: tuple[str, ...] = (), reads: Callable[[str], bool] | None = None
) -> zipfile.ZipFile:
    """Open a zip-based document, refusing decompression bombs: member count, per-member and total sizes,
    compression ratio. Every XML member the handler will parse (``reads``; default: every XML member) is parsed
    once with entities and DTDs refused (defusedxml). Members that are never parsed are copied as bytes, so
    they are not checked; an empty member (LibreOffice writes an empty Configurations2/accelerator/current.xml
    into every file) holds nothing to parse and is not damage."""
    if not data.startswith(ZIP_MAGIC):
        raise UnsupportedFile(
            "not_" + label.lower(), f"This file is not a valid {label} file (it is not a zip container)."
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise DocumentError(
            "corrupt_file", f"This {label} file is damaged or truncated (the zip cannot be read)."
        ) from None
    if len(infos) > settings.NMT_DOC_ZIP_MAX_MEMBERS:
        raise DocumentError(
            "zip_bomb",
            f"This {label} file has {len(infos)} parts; at most {settings.NMT_DOC_ZIP_MAX_MEMBERS} are accepted.",
        )
    total = 0
    for info in infos:
        # file_size is what the header claims; the reads below are capped too, so a lying header gains nothing.
        if info.file_size > settings.NMT_DOC_ZIP_MAX_MEMBER_BYTES:
            raise DocumentError(
                "zip_bomb",
                f"A part of this {label} file unpacks to {info.file_size} bytes; "
                f"the limit is {settings.NMT_DOC_ZIP_MAX_MEMBER_BYTES}.",
            )
        if (
            info.compress_size
            and info.file_size / info.compress_size > settings.NMT_DOC_ZIP_MAX_RATIO
            and info.file_size > 1_000_000
        ):
            raise DocumentError(
                "zip_bomb",
                f"This {label} file is compressed suspiciously well (a decompression bomb?); it was refused.",
            )
        total += info.file_size
    if total > settings.NMT_DOC_ZIP_MAX_TOTAL_BYTES:
        raise DocumentError(
            "zip_bomb",
            f"This {label} file unpacks to {total} bytes; the limit is {settings.NMT_DOC_ZIP_MAX_TOTAL_BYTES}.",
        )
    names = {i.filename for i in infos}
    for name in required:
        if name not in names:
            raise UnsupportedFile("not_" + label.lower(), f"This file is not a valid {label} file ({name} is missing).")
    for info in infos:
        if info.filename.lower().endswith(XML_SUFFIXES) and (reads is None or reads(info.filename)):
            body = read_member(zf, info, label)
            if not body.strip():
                continue
            if info.filename.lower().endswith((".htm", ".html")) and not body.lstrip().startswith(b"<?xml"):
                if b"<!ENTITY" in body.upper():
                    raise DocumentError("xml_entities", f"This {label} file declares XML entities; refused for safety.")
                continue
            check_xml(body, label, info.filename)
    return zf


def read_member(zf: zipfile.ZipFile, info, label: str) -> bytes:
    limit = settings.NMT_DOC_ZIP_MAX_MEMBER_BYTES
    try:
        with zf.open(info) as fh:
            body = fh.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError):
        raise DocumentError(
            "corrupt_file", f"This {label} file is damaged or truncated ({info.filename} cannot be read)."
        ) from None
    if len(body) > limit:
        raise DocumentError("zip_bomb", f"A part of this {label} file unpacks beyond {limit} bytes.")
    return body


def check_xml(body: bytes, label: str, member: str = "") -> None:
    """Parse with entity declarations, external references and DTD tricks refused (billion laughs, XXE)."""
    try:
        SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise DocumentError("xml_entities", f"This {label} file declares XML entities; refused for safety.") from None
    except SafeET.ParseError as exc:
        where = f"{member} is not well-formed XML: {exc}" if member else "its XML cannot be parsed"
        raise DocumentError("corrupt_file", f"This {label} file is damaged ({where}).") from None


# Legacy 8-bit encodings are ambiguous on short texts (Portuguese in cp1252 also "fits" cp1250); the
# document's source language breaks the tie. Set by the service around parsing (see language_hint).
_PREFERRED = contextvars.ContextVar("preferred_encodings", default=())
_WESTERN = {"en", "pt", "de", "es", "fr", "it", "nl", "da", "sv", "no", "nb", "fi", "is", "ca", "gl", "eu"}


class language_hint:
    """``with language_hint("pt"): handler.extract(data)`` prefers the usual legacy encodings of that language."""

    def __init__(self, lang: str | None):
        self.prefer = ("cp1252", "latin_1") if lang in _WESTERN else ()

    def __enter__(self):
        self.token = _PREFERRED.set(self.prefer)

    def __exit__(self, *exc):
        _PREFERRED.reset(self.token)


def decode_text(data: bytes, label: str) -> str:
    """Bytes of a text format → str. UTF-8 (with or without BOM) first; otherwise detect the encoding, and
    refuse with a clear message when no encoding explains the bytes (binary data renamed to .txt)."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedFile("binary_file", f"This {label} file contains binary data, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data[:1_000_000])
    for encoding in _PREFERRED.get():
        if any(encoding in m.could_be_from_charset for m in matches):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                pass
    best = matches.best()
    if best is None or best.encoding is None:
        raise DocumentError(
            "unknown_encoding",
            f"The text encoding of this {label} file could not be recognised; save it as UTF-8 and upload it again.",
        )
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        raise DocumentError(
            "unknown_encoding",
            f"This {label} file is not valid {best.encoding} text; save it as UTF-8 and upload it again.",
        ) from None


def check_size(size: int, name: str) -> None:
    if size > settings.NMT_DOC_MAX_FILE_BYTES:
        raise FileTooLarge(
            "file_too_large",
            f"'{name}' is {size / 1e6:.1f} MB; the limit per file is {settings.NMT_DOC_MAX_FILE_BYTES / 1e6:.0f} MB.",
        )
