"""The larger real documents of tests/fixtures/real/manifest.json (not committed: `scripts/fetch-real-documents`
puts them in var/real-documents/). Each goes through the format pipeline (check, extract, rebuild, reopen) with a
stand-in translation instead of the engine, which would take minutes per book: the structure must come back
identical apart from the text. Skipped, with the reason, when the cache is absent."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from . import structure

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / "var" / "real-documents"
MANIFEST = json.loads((ROOT / "tests" / "fixtures" / "real" / "manifest.json").read_text())["documents"]
CACHED = [d for d in MANIFEST if not d["committed"]]


def _load(entry) -> bytes:
    path = CACHE / entry["file"]
    if not path.exists():
        pytest.skip(f"{path} is absent: run scripts/fetch-real-documents (downloads {entry['package']})")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        pytest.skip(f"{path} is not {entry['package']} {entry['version']} (sha256 differs): fetch it again")
    return data


def _stand_in(text: str) -> str:
    # Changes every word (so a text that was not put back shows), keeps the word count.
    return " ".join("x" + word for word in text.split())


@pytest.mark.parametrize("entry", CACHED, ids=[d["file"] for d in CACHED])
def test_real_document_round_trip(entry, settings):
    from nmt_site.documents.formats import handler_for

    data = _load(entry)
    name = entry["file"]
    handler = handler_for(name)
    handler.check(data)
    if entry["format"] == "pdf":
        # Paragraphs from the layout: many per page, none the size of a page. (Its first 40 pages: the layout
        # analysis of all 300 takes minutes on one core.)
        from nmt_site.documents.formats.pdf import read_pdf

        doc = read_pdf(data, page_numbers=range(40))
        paragraphs = [p for page in doc.pages for p in page]
        assert len(doc.pages) == 40 and len(paragraphs) > 5 * len(doc.pages)
        assert max(len(p.text) for p in paragraphs) < 3000
        assert sum(p.heading > 0 for p in paragraphs) > len(doc.pages) / 4
        return
    extracted = handler.extract(data)
    texts = [t for t in extracted.texts if t]
    assert texts and not extracted.warnings, extracted.warnings
    out = handler.rebuild(data, {i: _stand_in(t) for i, t in enumerate(extracted.texts) if t}, target_lang="pt")
    handler.check(out)
    again = [t for t in handler.extract(out).texts if t]
    assert again == [_stand_in(t) for t in texts]
    if entry["format"] in ("odt", "epub"):
        before, after = structure.zip_members(data), structure.zip_members(out)
        assert sorted(after) == sorted(before) and list(after)[0] == "mimetype"  # mimetype first, as EPUB wants
        for member, body in before.items():
            if member.endswith((".xml", ".xhtml", ".html", ".opf", ".ncx")) and body.strip():
                b, a = structure.parse_xml(body), structure.parse_xml(after[member])
                assert structure.xml_skeleton(a) == structure.xml_skeleton(b), member
            elif not body.strip() or not member.endswith((".xml", ".xhtml", ".html", ".opf", ".ncx")):
                assert after[member] == body, member
    elif entry["format"] == "html":
        assert structure.xml_skeleton(structure.parse_xml(out)) == structure.xml_skeleton(structure.parse_xml(data))
    elif entry["format"] == "md":
        assert structure.markdown_skeleton(out.decode()) == structure.markdown_skeleton(data.decode())
