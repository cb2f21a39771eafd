"""Odd and hostile input on every API path and socket: a JSON error (LibreTranslate's {"error": "..."} on its
paths, {"error": {"code", "message"}} under /api/) with a 4xx, or an error frame; never a 500, an HTML page, an
empty body or a dropped socket. Django's test client and Channels' communicator on the real ASGI app."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from nmt_site.asgi import application
from nmt_site.jobs.models import TranslationJob

from .conftest import ws_headers

pytestmark = pytest.mark.django_db(transaction=True)

SURROGATE_JSON = '"Hello \\ud800 world"'  # a JSON escape of a lone surrogate: valid JSON, not a character
NESTED = "[" * 100_000


@pytest.fixture
def page_client():
    c = Client(enforce_csrf_checks=False)
    c.get("/")
    return c


def lt_error(resp, status: int) -> str:
    assert resp.status_code == status, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"].startswith("application/json"), resp.content[:300]
    message = resp.json()["error"]
    assert isinstance(message, str) and message
    return message


def site_error(resp, status: int) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"].startswith("application/json"), resp.content[:300]
    error = resp.json()["error"]
    assert error["code"] and error["message"]
    return error


@pytest.mark.parametrize("path", ["/translate", "/detect"])
def test_lone_surrogates_and_deep_nesting_are_400_on_the_libretranslate_paths(path, parked):
    client = Client()
    body = '{"q": ' + SURROGATE_JSON + ', "source": "en", "target": "pt"}'
    assert "surrogate" in lt_error(client.post(path, body, content_type="application/json"), 400)
    assert "nested" in lt_error(client.post(path, NESTED, content_type="application/json"), 400)
    if path == "/translate":  # a form sends nmt_options as a JSON string: parsed with the same care
        nested_options = {"q": "Hi", "source": "en", "target": "pt", "nmt_options": NESTED}
        assert "nmt_options" in lt_error(client.post(path, nested_options), 400)
    assert TranslationJob.objects.count() == 0


def test_lone_surrogates_and_deep_nesting_are_400_on_the_job_api(page_client, parked):
    body = '{"text": ' + SURROGATE_JSON + ', "source_lang": "en", "target_lang": "pt"}'
    assert site_error(page_client.post("/api/jobs", body, content_type="application/json"), 400)["code"] == "bad_json"
    site_error(page_client.post("/api/jobs", NESTED, content_type="application/json"), 400)
    site_error(page_client.post("/api/benchmarks", NESTED, content_type="application/json"), 400)
    assert TranslationJob.objects.count() == 0


def test_huge_bodies_and_repeated_fields_are_json_errors(page_client, parked):
    big = json.dumps({"q": "a" * 3_000_000, "source": "en", "target": "pt"})
    assert "larger than" in lt_error(Client().post("/translate", big, content_type="application/json"), 413)
    many = "&".join(f"q=x{i}" for i in range(1001)) + "&source=en&target=pt"
    form = "application/x-www-form-urlencoded"
    assert "Too many fields" in lt_error(Client().post("/translate", many, content_type=form), 400)
    # Under /api/ too, and when the CSRF middleware is the one reading the form.
    site_error(page_client.post("/api/jobs", big, content_type="application/json"), 413)
    csrf = Client(enforce_csrf_checks=True)
    csrf.get("/")  # the CSRF cookie is set: the middleware then reads the form for the token
    site_error(csrf.post("/api/jobs", many, content_type=form), 400)
    assert TranslationJob.objects.count() == 0


def test_wrong_methods_unknown_paths_and_csrf_are_json(page_client):
    client = Client()
    for method, path in (("get", "/translate"), ("put", "/translate"), ("delete", "/languages"), ("get", "/detect")):
        resp = getattr(client, method)(path)
        assert "not allowed" in lt_error(resp, 405) and resp["Allow"]
    assert site_error(client.put("/api/jobs"), 405)["code"] == "method_not_allowed"
    assert site_error(client.get("/api/no-such-thing"), 404)["code"] == "not_found"
    lt_error(client.get("/download_file/x/y/z"), 404)
    csrf = Client(enforce_csrf_checks=True)
    csrf.get("/")
    resp = csrf.post("/api/jobs", json.dumps({"text": "Hi"}), content_type="application/json")
    assert "CSRF" in site_error(resp, 403)["message"]
    assert client.get("/no-such-page").status_code == 404  # pages keep Django's own answers
    assert not client.get("/no-such-page")["Content-Type"].startswith("application/json")


def test_query_string_parameters_are_read_as_libretranslate_reads_them():
    from django.test import RequestFactory

    from nmt_site.api import params

    rf = RequestFactory()
    # deep-translator: everything in the query string, no body
    data = params.read(rf.post("/translate?q=Hello&source=en&target=pt&api_key=k"))
    assert data == {"q": "Hello", "source": "en", "target": "pt", "api_key": "k"}
    # the form wins over the query string; repeated keys become lists
    data = params.read(rf.post("/translate?source=de&q=a&q=b", {"source": "en"}))
    assert data["source"] == "en" and data["q"] == ["a", "b"]
    data = params.read(rf.post("/translate?target=pt", json.dumps({"q": "x"}), content_type="application/json"))
    assert data == {"q": "x", "target": "pt"}


def test_languages_list_every_language_with_its_targets():
    from translator.registry import list_engines

    langs = {lang["code"]: lang for lang in Client().get("/languages").json()}
    for info in list_engines():
        assert info.target_lang in langs[info.source_lang]["targets"]
        assert info.target_lang in langs  # a language only translated into is listed too
    assert all(set(lang) == {"code", "name", "targets"} for lang in langs.values())


def test_untranslatable_text_comes_back_unchanged_without_a_job(parked):
    for q in ("😀🎉👍", "你好，世界", "مرحبا بالعالم", "12 345", ["🙂", "   ", "ありがとう"]):
        resp = Client().post(
            "/translate", json.dumps({"q": q, "source": "en", "target": "pt"}), content_type="application/json"
        )
        assert resp.status_code == 200, resp.content
        expected = [t if t.strip() else "" for t in q] if isinstance(q, list) else q
        assert resp.json()["translatedText"] == expected
    assert TranslationJob.objects.count() == 0 and parked == []


def test_auto_source_passes_items_already_in_the_target_language_through(parked):
    resp = Client().post(
        "/translate",
        json.dumps({"q": ["Muito obrigado pela ajuda.", "Bom dia a todos."], "source": "auto", "target": "pt"}),
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert [d["language"] for d in body["detectedLanguage"]] == ["pt", "pt"]
    assert body["translatedText"] == ["Muito obrigado pela ajuda.", "Bom dia a todos."]
    assert TranslationJob.objects.count() == 0


def _ws(path: str, frames: list, headers=None, session_key=None):
    """Send frames on one socket; collect one reply per frame (or the close), then whether a ping still works."""

    async def scenario():
        comm = WebsocketCommunicator(application, path, headers=headers or ws_headers(session_key))
        connected, _ = await comm.connect()
        assert connected
        replies = []
        for frame in frames:
            await comm.send_to(**({"bytes_data": frame} if isinstance(frame, bytes) else {"text_data": frame}))
            out = await comm.receive_output(timeout=10)
            replies.append(json.loads(out["text"]) if out["type"] == "websocket.send" else out)
        alive = None
        if not any(r.get("type") == "websocket.close" for r in replies):
            await comm.send_to(text_data=json.dumps({"type": "ping"}))
            alive = (await comm.receive_json_from(timeout=10)).get("type")
        await comm.disconnect()
        return replies, alive

    return async_to_sync(scenario)()


def test_jobs_socket_answers_hostile_frames_with_error_frames(session_key, parked):
    replies, alive = _ws(
        "/ws/jobs/",
        [
            json.dumps({"type": {"a": 1}}),
            json.dumps({"type": ["translate"]}),
            NESTED,
            '{"type": "translate", "text": ' + SURROGATE_JSON + ', "source_lang": "en", "target_lang": "pt"}',
            json.dumps({"type": "translate", "text": "Hi", "source_lang": {"x": 1}, "target_lang": "pt"}),
        ],
        session_key=session_key,
    )
    assert [r["code"] for r in replies] == ["unknown_type", "unknown_type", "bad_json", "bad_json", "bad_source_lang"]
    assert all(r["type"] == "error" and r["message"] for r in replies)
    assert alive == "pong" and TranslationJob.objects.count() == 0


def test_dashboard_socket_survives_malformed_frames(transactional_db):
    replies, alive = _ws("/ws/dashboard/", ["{{{", b"\x00", NESTED])
    assert [r["code"] for r in replies] == ["read_only"] * 3
    assert alive == "error"  # read-only: a ping is answered with the same error, the socket is still open


def test_oversized_frame_gets_an_error_frame_then_a_close(session_key, settings):
    settings.NMT_WS_MAX_MESSAGE_BYTES = 1000

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_to(text_data=json.dumps({"type": "ping", "pad": "é" * 600}))  # 1,200 bytes, 600 chars
        error = await comm.receive_json_from(timeout=10)
        closed = await comm.receive_output(timeout=10)
        await comm.disconnect()
        return error, closed

    error, closed = async_to_sync(scenario)()
    assert error["code"] == "too_big" and "1000 bytes" in error["message"]
    assert closed["type"] == "websocket.close" and closed["code"] == 4009 and "1000 bytes" in closed["reason"]


def test_unknown_socket_path_is_closed_with_4404_not_a_500(transactional_db):
    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/nothing-here/", headers=ws_headers(None))
        connected, _ = await comm.connect()
        closed = await comm.receive_output(timeout=5)
        await comm.disconnect()
        return connected, closed

    connected, closed = async_to_sync(scenario)()
    assert connected and closed["type"] == "websocket.close" and closed["code"] == 4404 and closed["reason"]


@pytest.mark.parametrize(
    "origin, host, trusted, allowed",
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", [], True),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", [], False),  # another port of an allowed host
        ("https://127.0.0.1:8000", "127.0.0.1:8000", [], False),  # another scheme
        ("http://localhost", "localhost:80", [], True),
        ("http://evil.example:8000", "evil.example:8000", [], False),  # host not in ALLOWED_HOSTS
        ("https://app.example.org", "127.0.0.1:8000", ["https://app.example.org"], True),
        ("null", "127.0.0.1:8000", [], False),
    ],
)
def test_websocket_origin_must_be_the_sites_own(origin, host, trusted, allowed, settings, transactional_db):
    settings.CSRF_TRUSTED_ORIGINS = trusted

    async def scenario():
        headers = [(b"origin", origin.encode()), (b"host", host.encode())]
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=headers)
        connected, _ = await comm.connect()
        await comm.disconnect()
        return connected

    assert async_to_sync(scenario)() is allowed


def test_websocket_origin_behind_a_tls_proxy(settings, transactional_db):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    async def connect(origin: str, proto: str) -> bool:
        headers = [(b"origin", origin.encode()), (b"host", b"localhost"), (b"x-forwarded-proto", proto.encode())]
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=headers)
        connected, _ = await comm.connect()
        await comm.disconnect()
        return connected

    assert async_to_sync(connect)("https://localhost", "https") is True
    assert async_to_sync(connect)("http://localhost", "https") is False
