"""Every format through the real queue, the real worker process and the real Bergamot en→pt engine; the
output is reopened with the same library and must have the same structure with Portuguese text."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from lxml import etree

from . import builders
from .conftest import client_for, translate_file

pytestmark = pytest.mark.worker

PT_WORDS = ("gato", "café", "água", "casa", "crianças", "livro", "irmão", "parque", "jardim", "fria")


def portuguese(text: str) -> bool:
    low = text.lower()
    return any(w in low for w in PT_WORDS)


def test_txt(celery_worker_process, session_key):
    src = builders.txt()
    status, out, name = translate_file(client_for(session_key), "notes.txt", src, celery_worker_process)
    assert name == "notes.pt.txt"
    assert status["progress"]["done"] == status["progress"]["total"] == 4  # 2 + 1 + 1 sentences
    lines, src_lines = out.decode().split("\n"), src.decode().split("\n")
    assert len(lines) == len(src_lines)
    assert lines[1] == "" and lines[4] == "2024" and lines[3].startswith("  ")  # blank, number, indent kept
    assert "gato" in lines[0].lower() and "café" in lines[0].lower() and "água" in lines[2].lower()


def test_markdown_keeps_code_urls_and_markers(celery_worker_process, session_key):
    src = builders.md()
    _, out, name = translate_file(client_for(session_key), "readme.md", src, celery_worker_process)
    assert name == "readme.pt.md"
    text = out.decode()
    assert "```python\nprint('The water is cold.')\n```" in text  # code block byte for byte
    assert "](https://example.com/garden_path)" in text and "https://example.org/water_cold" in text
    assert "`sugar()`" in text
    lines, src_lines = text.split("\n"), src.decode().split("\n")
    assert len(lines) == len(src_lines)
    assert lines[0].startswith("# ") and "casa" in lines[0].lower()
    assert lines[8].startswith("- ") and lines[9].startswith("- ")
    assert "gato" in lines[2].lower() and "café" in lines[8].lower()


def test_srt_keeps_numbers_and_timings(celery_worker_process, session_key):
    src = builders.srt()
    _, out, name = translate_file(client_for(session_key), "movie.srt", src, celery_worker_process)
    assert name == "movie.pt.srt"
    cues = [c.split("\n") for c in out.decode().strip().split("\n\n")]
    src_cues = [c.split("\n") for c in src.decode().strip().split("\n\n")]
    assert len(cues) == len(src_cues) == 3
    for cue, src_cue in zip(cues, src_cues, strict=False):
        assert cue[0] == src_cue[0] and cue[1] == src_cue[1]  # number and timing untouched
        assert len(cue) == len(src_cue)  # same number of text lines
    assert "gato" in " ".join(cues[0][2:]).lower() and "café" in cues[1][2].lower() and "água" in cues[2][2].lower()


def _tags(root) -> list[str]:
    return [el.tag for el in root.iter() if isinstance(el.tag, str)]


def test_html_translates_text_nodes_only(celery_worker_process, session_key):
    import lxml.html

    src = builders.html()
    _, out, name = translate_file(client_for(session_key), "page.html", src, celery_worker_process)
    assert name == "page.pt.html"
    before, after = lxml.html.document_fromstring(src), lxml.html.document_fromstring(out)
    # Same elements in the same order (inline markup kept), plus the UTF-8 declaration the output needs.
    assert [t for t in _tags(after) if t != "meta"] == _tags(before)
    assert after.find(".//meta").get("charset") == "utf-8"
    assert after.find(".//a").get("href") == "https://example.com/sofa"
    assert after.find(".//pre").text == "The water is cold."
    assert "The house is big." in after.find(".//script").text
    p = after.find(".//p").text_content().lower()
    assert "gato" in p and "café" in p
    assert after.find(".//b").text and after.find(".//a").text  # inline elements still hold text
    assert "casa" in after.find(".//title").text.lower()
    assert "água" in after.findall(".//li")[0].text_content().lower()


def test_docx_keeps_runs_tables_headers(celery_worker_process, session_key):
    import docx

    src = builders.docx()
    _, out, name = translate_file(client_for(session_key), "report.docx", src, celery_worker_process)
    assert name == "report.pt.docx"
    before, after = docx.Document(io.BytesIO(src)), docx.Document(io.BytesIO(out))
    assert len(after.paragraphs) == len(before.paragraphs)
    for pb, pa in zip(before.paragraphs, after.paragraphs, strict=False):
        assert pa.style.name == pb.style.name
        assert len(pa.runs) == len(pb.runs)
        assert [(r.bold, r.italic) for r in pa.runs] == [(r.bold, r.italic) for r in pb.runs]
    assert after.paragraphs[0].style.name.startswith("Heading") and "casa" in after.paragraphs[0].text.lower()
    body = after.paragraphs[1]
    assert "gato" in body.text.lower() and "café" in body.text.lower()
    assert body.runs[1].bold and body.runs[1].text.strip(), "the bold run must keep some text"
    table = after.tables[0]
    assert len(table.rows) == 2 and len(table.columns) == 2
    assert "irmão" in table.cell(0, 0).text.lower() and table.cell(1, 1).text == "42"
    section = after.sections[0]
    assert "casa" in section.header.paragraphs[0].text.lower()
    assert "crianças" in section.footer.paragraphs[0].text.lower()
    last = after.paragraphs[-1]
    assert "livro" in last.text.lower()
    links = last.hyperlinks
    assert len(links) == 1 and links[0].address == "https://example.com/park"
    assert "crianças" in links[0].text.lower() or "parque" in links[0].text.lower()
    footnotes = zipfile.ZipFile(io.BytesIO(out)).read("word/footnotes.xml").decode()
    assert "água" in footnotes.lower() and "w:separator" in footnotes


def test_pptx_keeps_frames_tables_notes(celery_worker_process, session_key):
    from pptx import Presentation

    src = builders.pptx()
    _, out, name = translate_file(client_for(session_key), "deck.pptx", src, celery_worker_process)
    assert name == "deck.pt.pptx"
    before, after = Presentation(io.BytesIO(src)), Presentation(io.BytesIO(out))
    assert len(after.slides) == len(before.slides) == 2
    for sb, sa in zip(before.slides, after.slides, strict=False):
        assert [s.shape_type for s in sa.shapes] == [s.shape_type for s in sb.shapes]
        for shb, sha in zip(sb.shapes, sa.shapes, strict=False):
            if shb.has_text_frame:
                assert [len(p.runs) for p in sha.text_frame.paragraphs] == [
                    len(p.runs) for p in shb.text_frame.paragraphs
                ]
    s1 = after.slides[0]
    assert "casa" in s1.shapes.title.text.lower()
    paras = s1.placeholders[1].text_frame.paragraphs
    assert "gato" in paras[0].text.lower() and "café" in paras[1].text.lower()
    assert paras[1].runs[1].font.bold and not paras[1].runs[0].font.bold
    assert "água" in s1.notes_slide.notes_text_frame.text.lower()
    table = next(s for s in after.slides[1].shapes if s.has_table).table
    assert "irmão" in table.cell(0, 0).text.lower() and table.cell(1, 1).text == "7"


def test_odt_keeps_headings_and_spans(celery_worker_process, session_key):
    from odf import opendocument, teletype
    from odf.text import H, P, Span

    src = builders.odt()
    _, out, name = translate_file(client_for(session_key), "letter.odt", src, celery_worker_process)
    assert name == "letter.pt.odt"
    before, after = opendocument.load(io.BytesIO(src)), opendocument.load(io.BytesIO(out))
    for kind in (H, P, Span):
        assert len(after.getElementsByType(kind)) == len(before.getElementsByType(kind))
    heading = teletype.extractText(after.getElementsByType(H)[0])
    paras = [teletype.extractText(p) for p in after.getElementsByType(P)]
    assert "casa" in heading.lower()
    assert "gato" in paras[0].lower() and "café" in paras[0].lower() and "água" in paras[1].lower()
    # Page header and footer (in the master page styles) are translated too.
    from odf.style import Footer, Header

    assert "casa" in teletype.extractText(after.getElementsByType(Header)[0]).lower()
    assert "crianças" in teletype.extractText(after.getElementsByType(Footer)[0]).lower()
    span = after.getElementsByType(Span)[0]
    assert span.getAttribute("stylename") == "Bold" and teletype.extractText(span).strip()


def test_epub_translates_xhtml_and_copies_the_rest(celery_worker_process, session_key):
    src = builders.epub()
    _, out, name = translate_file(client_for(session_key), "book.epub", src, celery_worker_process)
    assert name == "book.pt.epub"
    zin, zout = zipfile.ZipFile(io.BytesIO(src)), zipfile.ZipFile(io.BytesIO(out))
    assert zout.namelist()[0] == "mimetype" and zout.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
    assert sorted(zout.namelist()) == sorted(zin.namelist())
    for member in ("OEBPS/style.css", "META-INF/container.xml"):
        assert zout.read(member) == zin.read(member)
    opf = zout.read("OEBPS/content.opf")
    assert b"<dc:language>pt</dc:language>" in opf  # the only change to the package file
    opf_before = etree.fromstring(zin.read("OEBPS/content.opf"))
    assert [(e.tag, dict(e.attrib)) for e in etree.fromstring(opf).iter()] == [
        (e.tag, dict(e.attrib)) for e in opf_before.iter()
    ]
    before = etree.fromstring(zin.read("OEBPS/chapter1.xhtml"))
    after = etree.fromstring(zout.read("OEBPS/chapter1.xhtml"))
    assert _tags(after) == _tags(before)
    text = " ".join(after.itertext()).lower()
    assert "gato" in text and "café" in text and "crianças" in text


def test_pdf_comes_back_as_docx_with_the_reason(celery_worker_process, session_key):
    import docx

    src = builders.pdf()
    status, out, name = translate_file(client_for(session_key), "scan.pdf", src, celery_worker_process)
    assert name == "scan.pt.docx" and status["output_format"] == "docx"
    assert ".docx" in status["notice"]
    doc = docx.Document(io.BytesIO(out))
    texts = [p.text for p in doc.paragraphs if p.text.strip()]
    assert len(texts) == 3  # one paragraph per PDF paragraph (two on page 1, one on page 2)
    assert "gato" in texts[0].lower() and "café" in texts[1].lower() and "água" in texts[2].lower()
    breaks = [p for p in doc.paragraphs if re.search(r'w:br [^>]*w:type="page"', p._p.xml)]
    assert len(breaks) == 1  # two PDF pages


def test_several_files_in_one_upload(celery_worker_process, session_key):
    from .conftest import upload, wait_for_document

    client = client_for(session_key)
    resp = upload(client, [("a.txt", b"The house is big."), ("b.srt", builders.srt())])
    assert resp.status_code == 201, resp.content
    docs = resp.json()["documents"]
    assert [d["name"] for d in docs] == ["a.txt", "b.srt"]
    for d in docs:
        assert wait_for_document(d["id"], worker=celery_worker_process).state == "done"
