"""Existing LibreTranslate clients, unchanged, pointed at our server (daphne + the real worker).

libretranslatepy (PyPI, urllib) covers translate, detect and languages; libretranslate-aio (PyPI, httpx) also
covers translate_file, frontend/settings and health. A raw multipart request (as LibreTranslate's own web
client sends it) checks translate_file once more without any client library.
"""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from libretranslate_aio import LibreTranslate, LibreTranslateError
from libretranslatepy import LibreTranslateAPI

pytestmark = pytest.mark.worker


def test_libretranslatepy_translate_detect_languages(live_url, transactional_db):
    lt = LibreTranslateAPI(live_url)
    assert "casa" in lt.translate("The house is big.", "en", "pt", timeout=60).lower()
    assert "house" in lt.translate("A casa é grande.", "auto", "en", timeout=60).lower()
    assert lt.detect("Onde fica a estação de comboios?")[0]["language"] == "pt"
    codes = {lang["code"]: lang for lang in lt.languages()}
    assert {"en", "pt"} <= set(codes) and codes["en"]["name"] == "English"


def test_libretranslatepy_unknown_api_key_is_ignored_while_keys_are_optional(live_url, transactional_db):
    # As LibreTranslate does; with NMT_API_KEY_REQUIRED the same key is a 403 (tests/site/test_limits.py).
    out = LibreTranslateAPI(live_url, api_key="not-a-key").translate("The house is big.", "en", "pt", timeout=60)
    assert "casa" in out.lower()


def test_translate_file_as_a_multipart_client(live_url, transactional_db):
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (("source", "en"), ("target", "pt"))
    ]
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="letter.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + b"Good morning.\nThe house is big.\n"
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(
        f"{live_url}/translate_file", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        url = json.loads(resp.read())["translatedFileUrl"]
    assert url.startswith(live_url) and url.endswith("letter.pt.txt")
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    assert "casa" in text.lower() and text.count("\n") == 2


def test_libretranslate_aio_translate_file_settings_health(live_url, transactional_db, tmp_path):
    doc = tmp_path / "memo.txt"
    doc.write_text("Good morning.\n\nThe house is big.\n")
    with LibreTranslate(live_url, timeout=90) as lt:
        result = lt.translate(["Good morning.", "The cat sleeps."], "en", "pt")
        assert isinstance(result.translated_text, list) and len(result.translated_text) == 2
        auto = lt.translate("A casa é grande.", "auto", "en")
        assert auto.detected_language.language == "pt" and "house" in auto.translated_text.lower()
        assert lt.detect("Bom dia a todos.")[0].language == "pt"
        assert {"en", "pt"} <= {lang.code for lang in lt.languages()}
        settings = lt.frontend_settings()
        assert settings.char_limit > 0 and ".txt" in settings.supported_files_format
        assert lt.health() is True
        translated = lt.translate_file(doc, "en", "pt")
        assert translated.translated_file_url.endswith("memo.pt.txt")
        with urllib.request.urlopen(translated.translated_file_url, timeout=10) as resp:
            assert "casa" in resp.read().decode().lower()
        with pytest.raises(LibreTranslateError) as err:
            lt.translate("Hi", "en", "xx")
        assert err.value.status_code == 400
