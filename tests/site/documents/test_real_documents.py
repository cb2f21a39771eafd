"""Real documents (shipped in public packages: tests/fixtures/real/manifest.json) and real-shaped ones (built
in builders.py) through the real queue, worker process and Bergamot en→pt engine. Input and output are reopened
with each format's parser: the structure must be identical apart from the translated text, and the text must be
Portuguese (lingua on the translated blocks)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from . import builders, structure
from .conftest import client_for, translate_file

pytestmark = pytest.mark.worker

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"


def real(name: str) -> bytes:
    return (REAL / name).read_bytes()


_DETECTOR = None


def portuguese_share(texts: list[str]) -> float:
    """Share of the texts that are prose (4+ words of letters: not package names or numbers) that lingua reads
    as Portuguese rather than English."""
    global _DETECTOR
    from lingua import Language, LanguageDetectorBuilder

    if _DETECTOR is None:
        _DETECTOR = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.PORTUGUESE).build()
    texts = [t for t in texts if len(re.findall(r"[^\W\d_]{2,}", t)) >= 4]
    assert texts, "no text to check"
    return sum(_DETECTOR.detect_language_of(t) == Language.PORTUGUESE for t in texts) / len(texts)


def blocks_of(name: str, data: bytes) -> list[str]:
    from nmt_site.documents.formats import handler_for

    return [t for t in handler_for(name).extract(data).texts if t]


def test_manifest_describes_every_committed_file():
    import hashlib

    manifest = json.loads((REAL / "manifest.json").read_text())["documents"]
    committed = {d["file"]: d for d in manifest if d["committed"]}
    assert set(committed) == {p.name for p in REAL.iterdir() if p.name != "manifest.json"}
    for name, entry in committed.items():
        assert hashlib.sha256(real(name)).hexdigest() == entry["sha256"], name
        assert entry["package"] and entry["version"] and entry["licence"] and entry["path"]


# --- ODT -------------------------------------------------------------------------------------------------------


def test_libreoffice_odt_with_empty_configuration_members(celery_worker_process, session_key):
    src = real("form_english_in.odt")
    assert structure.zip_members(src)["Configurations2/accelerator/current.xml"] == b""
    _, out, name = translate_file(client_for(session_key), "form.odt", src, celery_worker_process)
    assert name == "form.pt.odt"
    before, after = structure.zip_members(src), structure.zip_members(out)
    assert list(after) == list(before)  # same members, same order (mimetype first)
    for member, body in before.items():
        if member not in ("content.xml", "styles.xml", "meta.xml"):
            assert after[member] == body, member  # copied byte for byte
    for member in ("content.xml", "styles.xml"):
        assert structure.xml_skeleton(structure.parse_xml(after[member])) == structure.xml_skeleton(
            structure.parse_xml(before[member])
        )
    assert portuguese_share(blocks_of("x.odt", out)) >= 0.5


# --- HTML ------------------------------------------------------------------------------------------------------


def test_xhtml_with_an_encoding_declaration(celery_worker_process, session_key):
    src = real("namespaces.html")
    assert src.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    _, out, _ = translate_file(client_for(session_key), "namespaces.html", src, celery_worker_process)
    assert out.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE html PUBLIC")
    before, after = structure.parse_xml(src), structure.parse_xml(out)  # still well-formed XHTML
    assert structure.xml_skeleton(after) == structure.xml_skeleton(before)
    assert after.get("lang") == "pt"
    pre = "{http://www.w3.org/1999/xhtml}pre"
    assert [etree_text(p) for p in after.iter(pre)] == [etree_text(p) for p in before.iter(pre)]  # code kept
    assert portuguese_share(blocks_of("x.html", out)) >= 0.5


def etree_text(el) -> str:
    return "".join(el.itertext())


def test_html_fragment_comes_back_a_fragment_declared_utf8(celery_worker_process, session_key):
    import lxml.html

    src = builders.html_fragment()
    _, out, _ = translate_file(client_for(session_key), "part.html", src, celery_worker_process)
    assert out.startswith(b'<meta charset="utf-8">') and b"DOCTYPE" not in out.upper() and b"<html" not in out
    # A parser reading the bytes with the declared charset gets the same elements and the accents intact.
    before = lxml.html.fragments_fromstring(src.decode())
    after = [el for el in lxml.html.fragments_fromstring(out.decode()) if el.tag != "meta"]
    assert [el.tag for el in after] == [el.tag for el in before] == ["p", "p"]
    assert [len(el) for el in after] == [len(el) for el in before]  # the <b> is still there
    assert "Café" in after[0].text_content() and "Ã" not in out.decode()
    assert portuguese_share([el.text_content() for el in after]) >= 0.5


# --- EPUB ------------------------------------------------------------------------------------------------------


def test_epub_with_a_malformed_member_is_translated_and_says_so(celery_worker_process, session_key):
    src = builders.epub_book()
    status, out, _ = translate_file(client_for(session_key), "book.epub", src, celery_worker_process)
    assert "OEBPS/Text/colophon.xhtml" in status["notice"] and "untranslated" in status["notice"]
    before, after = structure.zip_members(src), structure.zip_members(out)
    assert list(after) == list(before) and list(after)[0] == "mimetype"
    for member in ("mimetype", "META-INF/container.xml", "OEBPS/style.css", "OEBPS/Text/colophon.xhtml"):
        assert after[member] == before[member], member
    opf = structure.parse_xml(after["OEBPS/content.opf"])
    assert [el.text for el in opf.iter("{http://purl.org/dc/elements/1.1/}language")] == ["pt"]
    assert structure.xml_skeleton(opf) == structure.xml_skeleton(structure.parse_xml(before["OEBPS/content.opf"]))
    texts = []
    for member in ("OEBPS/nav.xhtml", "OEBPS/toc.ncx", "OEBPS/Text/ch1.xhtml", "OEBPS/Text/ch2.xhtml"):
        b, a = structure.parse_xml(before[member]), structure.parse_xml(after[member])
        assert structure.xml_skeleton(a) == structure.xml_skeleton(b), member
        texts.append(etree_text(a))
        if member.endswith(".xhtml"):
            assert a.get("lang") == a.get("{http://www.w3.org/XML/1998/namespace}lang") == "pt"
    assert portuguese_share(texts) >= 0.75


# --- Markdown --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gaupol-README.md", "gnome-subtitles-README.md", "mkdocs.md"])
def test_markdown_structure_kept(celery_worker_process, session_key, name):
    src = builders.md_mkdocs() if name == "mkdocs.md" else real(name)
    _, out, _ = translate_file(client_for(session_key), name, src, celery_worker_process)
    text, source = out.decode(), src.decode()
    assert structure.markdown_skeleton(text) == structure.markdown_skeleton(source)
    assert text.count("\n") == source.count("\n")  # every line stays a line
    if name == "mkdocs.md":
        assert text.startswith(source[: source.index("---\n", 4) + 4])  # front matter byte for byte
        assert '!!! info "' in text and '    ```bash\n    echo "The house is big."\n    ```' in text
        assert "        indented code: The water is cold." in text
        link = re.search(r"\[([^\]]*)\]\(#garden \"Garden\"\)", text)
        assert link and link.group(1).strip() and "small garden" not in link.group(1)  # translated, inside
    assert portuguese_share(blocks_of(name, out)) >= 0.6


# --- SRT -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["subtitle.srt", "styles_colours.srt", "tags.srt"])
def test_srt_tags_timings_and_cues_kept(celery_worker_process, session_key, name):
    src = builders.srt_tags() if name == "tags.srt" else real(name)
    _, out, _ = translate_file(client_for(session_key), name, src, celery_worker_process)
    assert structure.srt_skeleton(out.decode()) == structure.srt_skeleton(src.decode())
    assert "\n\n\n" not in out.decode()
    if name == "tags.srt":
        text = out.decode()
        assert '{\\an8}<font color="#ffff00">' in text and "<b><i>" in text and "</i></b>\n<i>" in text
        assert "\n- " in text and "\n- " in text.split("\n\n")[2]  # dialogue dashes kept
    if name == "subtitle.srt":
        assert "submit@bugs.debian.org" in out.decode() and "https://www.debian.org/Bugs/Reporting" in out.decode()
    if name != "styles_colours.srt":  # that one is French
        assert portuguese_share(blocks_of(name, out)) >= 0.5


# --- PDF -------------------------------------------------------------------------------------------------------


def test_pdf_paragraphs_and_headings_from_layout(celery_worker_process, session_key):
    import docx

    status, out, name = translate_file(
        client_for(session_key), "paper.pdf", builders.pdf_layout(), celery_worker_process
    )
    assert name == "paper.pt.docx" and ".docx" in status["notice"]
    doc = docx.Document(io.BytesIO(out))
    paras = [(p.style.name, p.text) for p in doc.paragraphs if p.text.strip()]
    styles = [style for style, _ in paras]
    # Title, two paragraphs and the page number; a section heading, one paragraph and the page number.
    assert styles == ["Heading 1", "Normal", "Normal", "Normal", "Heading 2", "Normal", "Normal"], paras
    assert paras[3][1] == "1" and paras[6][1] == "2"
    assert status["progress"]["total"] == 9  # sentences: 1 + 3 + 2 + 1 + 2 (page numbers are not sent)
    assert not any("gar-" in text or "gar den" in text for _, text in paras)
    assert portuguese_share([t for s, t in paras if s == "Normal"]) >= 0.75
