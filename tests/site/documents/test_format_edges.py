"""Format edge cases of real files that need no worker: parsed, rebuilt and reopened in process."""

from __future__ import annotations

from nmt_site.documents.errors import DocumentError
from nmt_site.documents.formats import handler_for

from . import builders


def test_xhtml_declaring_a_legacy_encoding_and_html_entities():
    # Well-formed XHTML in ISO-8859-1 stays XHTML; one using &nbsp; (an entity of the XHTML DTD, which is never
    # loaded) is read by the tolerant HTML parser instead of being refused.
    handler = handler_for("page.xhtml")
    head = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>'
    for body, xml in ((b"<p>The caf\xe9 is open.</p>", True), (b"<p>The caf\xe9&nbsp;is open.</p>", False)):
        data = head + body + b"</body></html>"
        handler.check(data)
        assert handler.extract(data).texts == ["The café is open."]
        out = handler.rebuild(data, {0: "O café está aberto."}, target_lang="pt")
        assert out.startswith(b"<?xml version='1.0' encoding='UTF-8'?>") is xml
        assert "O café está aberto." in out.decode("utf-8") and 'lang="pt"' in out.decode()


def test_entities_in_xhtml_are_still_refused():
    data = b'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x "y">]><html xmlns="http://www.w3.org/1999/xhtml"><body><p>&x;</p></body></html>'
    handler = handler_for("page.xhtml")
    try:
        handler.check(data)
        handler.extract(data)
    except DocumentError as exc:
        assert exc.code == "xml_entities"
    else:
        raise AssertionError("an entity declaration must be refused")


def test_markdown_escapes_what_the_translation_would_turn_into_markup():
    handler = handler_for("a.md")
    src = b"- The cat is sleeping.\n- The water is cold.\n"
    out = handler.rebuild(src, {0: "# 1. a *b* [c] <d>", 1: "- e"}).decode()
    assert out == "- \\# 1. a \\*b\\* \\[c\\] \\<d\\>\n- \\- e\n"


def test_distribution_leaves_no_subtitle_line_empty():
    handler = handler_for("a.srt")
    src = b"1\n00:00:01,000 --> 00:00:02,000\n<i>A very long first line of the cue</i>\nend.\n"
    out = handler.rebuild(src, {0: "Uma primeira linha muito longa da legenda acabou."}).decode()
    lines = out.split("\n")
    assert lines[2].startswith("<i>") and lines[2].endswith("</i>") and lines[3].strip() and lines[4] == ""


def test_epub_package_file_damaged_is_refused_with_its_name():
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(builders.epub_book()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info, b"<package><metadata>" if info.filename.endswith(".opf") else body)
    try:
        handler_for("b.epub").check(buf.getvalue())
    except DocumentError as exc:
        assert exc.code == "corrupt_file" and "OEBPS/content.opf" in exc.message
    else:
        raise AssertionError("a damaged package file must be refused")
