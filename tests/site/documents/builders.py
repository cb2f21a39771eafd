"""Small documents built in the tests, one per format, with the structure the round-trip checks look at."""

from __future__ import annotations

import io
import zipfile

SENTENCES = [
    "The cat is sleeping on the sofa.",
    "I drink coffee every morning.",
    "The water is cold.",
    "The house is big.",
    "My brother reads a book in the garden.",
    "The children play in the park.",
]


def txt() -> bytes:
    return (
        b"The cat is sleeping on the sofa. I drink coffee every morning.\n\n"
        b"The water is cold.\n  The house is big.\n2024\n"
    )


def md() -> bytes:
    return (
        b"# The house is big\n\n"
        b"The cat is sleeping on the sofa. See [the garden](https://example.com/garden_path) now.\n\n"
        b"```python\nprint('The water is cold.')\n```\n\n"
        b"- I drink coffee every morning with `sugar()` in it.\n"
        b"- Visit https://example.org/water_cold for the water.\n"
    )


def srt() -> bytes:
    return (
        b"1\n00:00:01,000 --> 00:00:03,500\nThe cat is sleeping\non the sofa.\n\n"
        b"2\n00:00:04,000 --> 00:00:06,250\nI drink coffee every morning.\n\n"
        b"3\n00:00:07,100 --> 00:00:09,900\nThe water is cold.\n"
    )


def html() -> bytes:
    return (
        b"<!DOCTYPE html><html><head><title>The house is big</title><style>p{color:red}</style></head><body>"
        b"<h1>The children play in the park.</h1>"
        b'<p>The cat is <b>sleeping</b> on the <a href="https://example.com/sofa">sofa</a>. I drink coffee every morning.</p>'
        b"<ul><li>The water is cold.</li><li>My brother reads a <em>book</em> in the garden.</li></ul>"
        b"<pre>The water is cold.</pre><script>var x = 'The house is big.';</script>"
        b"</body></html>"
    )


def docx() -> bytes:
    import docx as python_docx

    doc = python_docx.Document()
    doc.add_heading("The house is big", level=1)
    p = doc.add_paragraph("The cat is ")
    p.add_run("sleeping").bold = True
    p.add_run(" on the ")
    p.add_run("sofa").italic = True
    p.add_run(". I drink coffee every morning.")
    doc.add_paragraph("The water is cold.")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "My brother reads a book in the garden."
    table.cell(0, 1).text = "The children play in the park."
    table.cell(1, 0).text = "The water is cold."
    table.cell(1, 1).text = "42"
    section = doc.sections[0]
    section.header.paragraphs[0].text = "The house is big."
    section.footer.paragraphs[0].text = "The children play in the park."
    doc.add_page_break()
    last = doc.add_paragraph("My brother reads a book in the garden. ")
    _add_hyperlink(last, "https://example.com/park", "The children play in the park.")
    buf = io.BytesIO()
    doc.save(buf)
    return _add_footnote(buf.getvalue())


def _add_hyperlink(paragraph, url: str, text: str) -> None:
    """python-docx reads hyperlinks but has no API to add one: build the w:hyperlink element."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    rpr.append(underline)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W_NS}">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:id="1"><w:p><w:r><w:t xml:space="preserve">The water is cold.</w:t></w:r></w:p></w:footnote>'
    "</w:footnotes>"
).encode()


def _add_footnote(data: bytes) -> bytes:
    """Add a footnotes part (python-docx cannot write one): the part, its relationship and content type."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out_buf = io.BytesIO()
    with zipfile.ZipFile(out_buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>',
                )
            elif info.filename == "word/_rels/document.xml.rels":
                body = body.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdFoot1" Type="http://schemas.openxml'
                    b'formats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>'
                    b"</Relationships>",
                )
            out.writestr(info.filename, body)
        out.writestr("word/footnotes.xml", FOOTNOTES)
    return out_buf.getvalue()


def pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "The house is big"
    body = slide.placeholders[1].text_frame
    body.text = "The cat is sleeping on the sofa."
    para = body.add_paragraph()
    run = para.add_run()
    run.text = "I drink coffee "
    run2 = para.add_run()
    run2.text = "every morning."
    run2.font.bold = True
    slide.notes_slide.notes_text_frame.text = "The water is cold."
    slide2 = prs.slides.add_slide(prs.slide_layouts[5])
    slide2.shapes.title.text = "The children play in the park."
    table = slide2.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    table.cell(0, 0).text = "My brother reads a book in the garden."
    table.cell(0, 1).text = "The water is cold."
    table.cell(1, 0).text = "The house is big."
    table.cell(1, 1).text = "7"
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def odt() -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.style import Footer, Header, MasterPage, PageLayout, Style, TextProperties
    from odf.text import H, P, Span

    doc = OpenDocumentText()
    layout = PageLayout(name="Layout")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    header.addElement(P(text="The house is big."))
    master.addElement(header)
    footer = Footer()
    footer.addElement(P(text="The children play in the park."))
    master.addElement(footer)
    doc.masterstyles.addElement(master)
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    doc.text.addElement(H(outlinelevel=1, text="The house is big"))
    p = P(text="The cat is ")
    p.addElement(Span(stylename=bold, text="sleeping"))
    p.addText(" on the sofa. I drink coffee every morning.")
    doc.text.addElement(p)
    doc.text.addElement(P(text="The water is cold."))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def epub() -> bytes:
    chapter = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>The house is big</title></head>'
        "<body><h1>The children play in the park.</h1><p>The cat is <i>sleeping</i> on the sofa.</p>"
        "<p>I drink coffee every morning.</p></body></html>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        zf.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
            "<dc:title>T</dc:title><dc:language>en</dc:language></metadata>"
            '<manifest><item id="c1" href="chapter1.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>',
        )
        zf.writestr("OEBPS/chapter1.xhtml", chapter)
        zf.writestr("OEBPS/style.css", "p { margin: 0 }")
    return buf.getvalue()


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(pages: list[list[str]] | None = None) -> bytes:
    """A minimal valid PDF with a real text layer (Helvetica, one paragraph per text object)."""
    pages = pages or [["The cat is sleeping on the sofa.", "I drink coffee every morning."], ["The water is cold."]]
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, paras in enumerate(pages):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        ops = []
        y = 720
        for para in paras:
            ops.append(f"BT /F1 12 Tf 72 {y} Td ({_pdf_escape(para)}) Tj ET")
            y -= 60
        stream = "\n".join(ops).encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf_file(objects)


BUILDERS = {
    "txt": txt,
    "md": md,
    "srt": srt,
    "html": html,
    "docx": docx,
    "pptx": pptx,
    "odt": odt,
    "epub": epub,
    "pdf": pdf,
}


# --- real-shaped documents for the cases of real files (tests/site/documents/test_real_documents.py) ----------

MKDOCS_MD = """---
title: The house is big
hide:
  - navigation
---

# The children play in the park {#top}

The cat is sleeping on the sofa. See [the small garden](#garden "Garden") for the
differences, and `sugar()` for coffee.

!!! info "The water is cold"
    My brother reads a book in the garden.

1. I drink coffee every morning:

    ```bash
    echo "The house is big."
    ```

   The children play in the park.

- The cat is *sleeping* on the sofa.

        indented code: The water is cold.

| The house | The water |
|-----------|-----------|
| The cat is sleeping. | 42 |

[garden]: https://example.com/garden "The garden"
"""


def md_mkdocs() -> bytes:
    return MKDOCS_MD.encode()


def srt_tags() -> bytes:
    return (
        b"1\n00:00:01,000 --> 00:00:03,500\n<b><i>The cat is sleeping</i></b>\n<i>on the sofa.</i>\n\n"
        b'2\n00:00:04,000 --> 00:00:06,250\n{\\an8}<font color="#ffff00">I drink coffee every morning.</font>\n\n'
        b"3\n00:00:07,100 --> 00:00:09,900\n- Where is the house?\n- The house is big.\n"
    )


def html_fragment() -> bytes:
    return "<p>The cat is <b>sleeping</b> on the sofa. Café.</p>\n<p>The water is cold.</p>\n".encode()


XHTML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head><title>{title}</title></head>
<body>{body}</body>
</html>
"""


def epub_book() -> bytes:
    """An EPUB 3 shaped like real ones: package file, nav document, NCX, two chapters in reading order, a
    stylesheet, and a colophon that is not well-formed XML (an unescaped <name@host>, as in real books)."""
    nav = XHTML.format(
        title="Contents",
        body='<nav epub:type="toc"><ol><li><a href="ch1.xhtml">The house is big</a></li>'
        '<li><a href="ch2.xhtml">The water is cold</a></li></ol></nav>',
    )
    ch1 = XHTML.format(
        title="The house is big",
        body='<h1 id="c1">The house is big</h1><p>The cat is <i>sleeping</i> on the sofa.</p>'
        "<p>I drink coffee <b>every morning</b>.</p>",
    )
    ch2 = XHTML.format(
        title="The water is cold",
        body='<h1>The water is cold</h1><p>My brother reads a book in the <a href="ch1.xhtml#c1">garden</a>.</p>',
    )
    colophon = XHTML.format(title="Colophon", body="<p>Written by The Author <author@example.com>.</p>")
    ncx = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
        "<head/><docTitle><text>The children play in the park</text></docTitle><navMap>"
        '<navPoint id="n1" playOrder="1"><navLabel><text>The house is big</text></navLabel><content src="ch1.xhtml"/></navPoint>'
        "</navMap></ncx>"
    )
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:identifier id="id">urn:uuid:1</dc:identifier><dc:title>The children play in the park</dc:title>'
        "<dc:language>en</dc:language></metadata><manifest>"
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
        '<item id="ch1" href="Text/ch1.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="ch2" href="Text/ch2.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="col" href="Text/colophon.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="css" href="style.css" media-type="text/css"/></manifest>'
        '<spine toc="ncx"><itemref idref="ch1"/><itemref idref="ch2"/><itemref idref="col"/></spine></package>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        zf.writestr("OEBPS/content.opf", opf)
        zf.writestr("OEBPS/nav.xhtml", nav)
        zf.writestr("OEBPS/toc.ncx", ncx)
        zf.writestr("OEBPS/Text/ch1.xhtml", ch1)
        zf.writestr("OEBPS/Text/ch2.xhtml", ch2)
        zf.writestr("OEBPS/Text/colophon.xhtml", colophon)
        zf.writestr("OEBPS/style.css", "p { margin: 0 }")
    return buf.getvalue()


def pdf_layout() -> bytes:
    """A two-page PDF laid out like a real one: an 18 pt title, paragraphs of 11 pt text wrapped over several
    lines (one word hyphenated at a line end), a 14 pt section heading on page 2, a page number."""
    title = [("The house is big", 18, 72, 720)]
    para1 = [
        ("The cat is sleeping on the sofa. I drink coffee every", 11, 72, 690),
        ("morning in the garden. My brother reads a book in the gar-", 11, 72, 676),
        ("den while the children play in the park.", 11, 72, 662),
    ]
    para2 = [
        ("The water is cold. The house is big and the cat is", 11, 72, 630),
        ("sleeping on the sofa.", 11, 72, 616),
    ]
    page1 = title + para1 + para2 + [("1", 9, 300, 40)]
    page2 = [
        ("The water is cold", 14, 72, 720),
        ("My brother reads a book in the garden. The children play", 11, 72, 696),
        ("in the park.", 11, 72, 682),
        ("2", 9, 300, 40),
    ]
    return _pdf_pages([page1, page2])


def _pdf_pages(pages: list[list[tuple[str, int, int, int]]]) -> bytes:
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        ops = [f"BT /F1 {size} Tf {x} {y} Td ({_pdf_escape(text)}) Tj ET" for text, size, x, y in lines]
        stream = "\n".join(ops).encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf_file(objects)


def _pdf_file(objects: list[bytes]) -> bytes:
    """A PDF 1.4 file of numbered objects (1 = catalog) with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
