"""Every kind of bad upload gets a 4xx with a clear message (never a 500, never a job)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import override_settings

from nmt_site.documents.models import DocumentJob

from . import builders
from .conftest import client_for, upload


@pytest.fixture(autouse=True)
def no_enqueue(parked):
    # The uploads these tests accept are not for the worker: keep them out of the queue.
    return parked


@pytest.fixture
def client(session_key):
    return client_for(session_key)


def _error(resp, status: int, code: str) -> str:
    assert resp.status_code == status, (resp.status_code, resp.content)
    body = resp.json()["error"]
    assert body["code"] == code, body
    assert body["message"]
    return body["message"]


def _rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, (replace or {}).get(info.filename, src.read(info)))
        for name, body in (add or {}).items():
            out.writestr(name, body)
    return buf.getvalue()


def test_extension_not_allowed(client):
    msg = _error(upload(client, [("tool.exe", b"MZ\x90\x00")]), 415, "unsupported_format")
    assert ".exe" in msg and ".docx" in msg


def test_magic_bytes_checked_not_the_name(client):
    _error(upload(client, [("fake.docx", b"The house is big. " * 10)]), 415, "not_docx")
    _error(upload(client, [("fake.pdf", b"The house is big.")]), 415, "not_pdf")
    # A real zip that is not a Word document.
    _error(upload(client, [("other.docx", builders.epub())]), 415, "not_docx")
    _error(upload(client, [("fake.srt", b"The house is big.\n")]), 415, "not_srt")
    _error(upload(client, [("fake.html", b"just words, no markup")]), 415, "not_html")


def test_content_type_is_ignored(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f = SimpleUploadedFile("x.pdf", b"not a pdf", content_type="application/pdf")
    _error(client.post("/api/documents", {"file": f, "translator": "bergamot-en-pt"}), 415, "not_pdf")


@override_settings(NMT_DOC_MAX_FILE_BYTES=1000)
def test_file_size_limit(client):
    _error(upload(client, [("big.txt", b"The house is big. " * 100)]), 413, "file_too_large")


@override_settings(NMT_DOC_MAX_REQUEST_BYTES=3000)
def test_request_size_limit(client):
    files = [(f"f{i}.txt", b"The house is big. " * 60) for i in range(3)]
    _error(upload(client, files), 413, "request_too_large")


@override_settings(NMT_DOC_MAX_FILES=2)
def test_too_many_files(client):
    msg = _error(upload(client, [(f"f{i}.txt", b"The house is big.") for i in range(3)]), 413, "too_many_files")
    assert "3 files" in msg and "at most 2" in msg


@override_settings(NMT_DOC_ZIP_MAX_MEMBER_BYTES=1_000_000)
def test_zip_bomb_member_size(client):
    bomb = _rezip(builders.docx(), add={"word/media/bomb.bin": b"\0" * 2_000_000})
    assert len(bomb) < 100_000
    _error(upload(client, [("bomb.docx", bomb)]), 422, "zip_bomb")


@override_settings(NMT_DOC_ZIP_MAX_TOTAL_BYTES=500_000)
def test_zip_bomb_total_size(client):
    bomb = _rezip(builders.pptx(), add={f"ppt/media/p{i}.bin": b"\0" * 200_000 for i in range(5)})
    _error(upload(client, [("bomb.pptx", bomb)]), 422, "zip_bomb")


@override_settings(NMT_DOC_ZIP_MAX_MEMBERS=30)
def test_zip_bomb_member_count(client):
    bomb = _rezip(builders.odt(), add={f"junk/{i}.txt": b"x" for i in range(40)})
    _error(upload(client, [("many.odt", bomb)]), 422, "zip_bomb")


def test_zip_bomb_compression_ratio(client):
    bomb = _rezip(builders.epub(), add={"OEBPS/bomb.bin": b"\0" * 30_000_000})
    _error(upload(client, [("ratio.epub", bomb)]), 422, "zip_bomb")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&xxe;</p></body></html>'
)


def test_xml_entities_refused(client):
    docx_bomb = _rezip(builders.docx(), replace={"word/document.xml": BILLION_LAUGHS})
    _error(upload(client, [("laughs.docx", docx_bomb)]), 422, "xml_entities")
    epub_xxe = _rezip(builders.epub(), replace={"OEBPS/chapter1.xhtml": XXE})
    _error(upload(client, [("xxe.epub", epub_xxe)]), 422, "xml_entities")
    html = b'<!DOCTYPE html [<!ENTITY x "The house">]><html><body><p>&x;</p></body></html>'
    _error(upload(client, [("ent.html", html)]), 422, "xml_entities")


@pytest.mark.parametrize("ext", ["docx", "pptx", "odt", "epub", "pdf"])
def test_truncated_files(client, ext):
    data = builders.BUILDERS[ext]()
    resp = upload(client, [(f"cut.{ext}", data[: len(data) // 2])])
    assert resp.status_code in (415, 422), resp.content
    assert resp.json()["error"]["code"] in ("corrupt_file", f"not_{ext}", "no_text")


def test_corrupt_xml_inside_a_valid_zip(client):
    broken = _rezip(builders.docx(), replace={"word/document.xml": b"<w:document><w:body><w:p>"})
    _error(upload(client, [("broken.docx", broken)]), 422, "corrupt_file")


def test_binary_renamed_to_txt(client):
    _error(upload(client, [("photo.txt", bytes(range(256)) * 20)]), 415, "binary_file")


def test_legacy_encoding_is_detected(client, session_key):
    text = "O cachorro come pão na cozinha. A água está fria e o café é bom. Ação, coração, informação."
    resp = upload(client, [("latin1.txt", text.encode("latin-1"))], translator="bergamot-pt-en")
    assert resp.status_code == 201, resp.content
    job = DocumentJob.objects.get(pk=resp.json()["documents"][0]["id"])
    assert "pão" in " ".join(job.segments.values_list("source", flat=True))


def test_empty_file(client):
    assert "empty" in _error(upload(client, [("empty.txt", b"")]), 422, "empty_file")


def test_no_translatable_text(client):
    _error(upload(client, [("numbers.txt", b"123\n\n456 789\n---\n")]), 422, "no_text")
    import docx

    doc = docx.Document()
    doc.add_paragraph("")
    doc.add_paragraph("2024")
    buf = io.BytesIO()
    doc.save(buf)
    _error(upload(client, [("blank.docx", buf.getvalue())]), 422, "no_text")
    msg = _error(upload(client, [("scan.pdf", builders.pdf([["12"], []]))]), 422, "no_text")
    assert "OCR" in msg


def test_ten_megabyte_single_line(client):
    line = b"the house is big " * (10 * 1024 * 1024 // 17)
    msg = _error(upload(client, [("line.txt", line)]), 422, "paragraph_too_long")
    assert "characters" in msg


def test_unknown_translator_and_pair(client):
    _error(upload(client, [("a.txt", b"The house is big.")], translator="nope"), 400, "unknown_translator")
    _error(
        upload(client, [("a.txt", b"The house is big.")], translator="", source_lang="xx", target_lang="yy"),
        400,
        "unknown_pair",
    )


def test_no_file(client):
    _error(client.post("/api/documents", {"translator": "bergamot-en-pt"}), 422, "no_file")


def test_upload_needs_csrf_token(session_key):
    strict = client_for(session_key, enforce_csrf_checks=True)
    resp = upload(strict, [("a.txt", b"The house is big.")])
    assert resp.status_code == 403
    page = strict.get("/documents/")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    from django.core.files.uploadedfile import SimpleUploadedFile

    ok = strict.post(
        "/api/documents",
        {"file": SimpleUploadedFile("a.txt", b"The house is big."), "translator": "bergamot-en-pt"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert ok.status_code == 201, ok.content


def test_one_bad_file_refuses_only_itself(client):
    before = DocumentJob.objects.count()
    resp = upload(client, [("ok.txt", b"The house is big."), ("bad.exe", b"x"), ("cut.docx", b"PK\x03\x04junk")])
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert [d["name"] for d in body["documents"]] == ["ok.txt"]
    refused = {r["name"]: r for r in body["refused"]}
    assert set(refused) == {"bad.exe", "cut.docx"}
    assert refused["bad.exe"]["code"] == "unsupported_format" and refused["bad.exe"]["status"] == 415
    assert refused["cut.docx"]["message"].startswith("'cut.docx':")
    assert DocumentJob.objects.count() == before + 1  # nothing stored for the refused files


def test_every_file_refused_lists_each_reason(client):
    before = DocumentJob.objects.count()
    resp = upload(client, [("a.exe", b"x"), ("b.txt", b"")])
    assert resp.status_code == 422, resp.content
    error = resp.json()["error"]
    assert error["code"] == "files_refused" and "'a.exe'" in error["message"] and "'b.txt'" in error["message"]
    assert [r["code"] for r in error["refused"]] == ["unsupported_format", "empty_file"]
    assert DocumentJob.objects.count() == before


@override_settings(NMT_DOC_MAX_FILE_BYTES=100)
def test_an_oversized_file_is_refused_alone(client):
    resp = upload(client, [("big.txt", b"The house is big. " * 20), ("small.txt", b"The house is big.")])
    assert resp.status_code == 201, resp.content
    assert [d["name"] for d in resp.json()["documents"]] == ["small.txt"]
    assert resp.json()["refused"][0]["code"] == "file_too_large"
