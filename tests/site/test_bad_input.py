"""Bad input over HTTP and the websocket: a clear message and a 4xx or an error frame, never a 500, no job left."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from nmt_site.asgi import application
from nmt_site.jobs.models import TranslationJob

from .conftest import ws_headers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client():
    c = Client()
    c.get("/")  # the page creates the session the jobs belong to
    return c


def post(client, payload, raw=None):
    body = raw if raw is not None else json.dumps(payload)
    return client.post("/api/jobs", data=body, content_type="application/json")


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"text": "", "source_lang": "en", "target_lang": "pt"}, "empty_text"),
        ({"text": "   \n\t ", "source_lang": "en", "target_lang": "pt"}, "empty_text"),
        ({"source_lang": "en", "target_lang": "pt"}, "empty_text"),
        ({"text": 42, "source_lang": "en", "target_lang": "pt"}, "bad_text"),
        ({"text": "Hello", "source_lang": "en", "target_lang": "xx"}, "unknown_pair"),
        ({"text": "Hello", "source_lang": "zz", "target_lang": "pt"}, "unknown_pair"),
        ({"text": "Hello", "translator": "no-such-model"}, "unknown_translator"),
        ({"text": "Hello", "source_lang": "pt", "target_lang": "en", "translator": "bergamot-en-pt"}, "pair_mismatch"),
        ({"text": "Hello"}, "missing_pair"),
        ({"text": "Hello", "source_lang": ["en"], "target_lang": "pt"}, "bad_source_lang"),
    ],
)
def test_bad_job_requests_get_400_with_a_message(client, payload, code):
    resp = post(client, payload)
    assert resp.status_code == 400, resp.content
    error = resp.json()["error"]
    assert error["code"] == code and error["message"]
    assert TranslationJob.objects.count() == 0


def test_text_over_the_limit_is_refused_with_the_numbers(client):
    text = "a" * (settings.NMT_MAX_CHARS + 1)
    resp = post(client, {"text": text, "source_lang": "en", "target_lang": "pt"})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "too_long"
    assert str(settings.NMT_MAX_CHARS + 1) in error["message"] and str(settings.NMT_MAX_CHARS) in error["message"]
    assert TranslationJob.objects.count() == 0


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "\xff\xfe"])
def test_malformed_json_body_gets_400(client, raw):
    resp = post(client, None, raw=raw.encode("latin-1"))
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "bad_json"


def test_wrong_methods_are_4xx(client):
    assert client.get("/api/jobs").status_code == 405
    assert client.post("/health").status_code == 405


def test_status_of_someone_elses_job_is_404(client):
    job = TranslationJob.objects.create(
        owner_session="someone-else", source_lang="en", target_lang="pt", translator="bergamot-en-pt", input_text="x"
    )
    resp = client.get(f"/api/jobs/{job.id}")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    assert client.post(f"/api/jobs/{job.id}/cancel").status_code == 404
    job.refresh_from_db()
    assert job.state == "queued"


@pytest.mark.parametrize("job_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_status_of_unknown_or_malformed_job_id_is_404(client, job_id):
    resp = client.get(f"/api/jobs/{job_id}")
    assert resp.status_code == 404 and resp.json()["error"]["message"]


def _ws_exchange(session_key, messages):
    """Send raw frames; collect one reply per frame; check the socket still answers a ping afterwards."""

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        replies = []
        for message in messages:
            if isinstance(message, bytes):
                await comm.send_to(bytes_data=message)
            else:
                await comm.send_to(text_data=message)
            replies.append(await comm.receive_json_from(timeout=10))
        await comm.send_json_to({"type": "ping"})
        pong = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return replies, pong

    return async_to_sync(scenario)()


def test_malformed_websocket_messages_get_error_frames_and_the_socket_survives(session_key):
    replies, pong = _ws_exchange(
        session_key,
        [
            "{oops",
            "[1,2]",
            "42",
            json.dumps({"type": "dance"}),
            json.dumps({"no": "type"}),
            b"\x00\x01",
            json.dumps({"type": "subscribe"}),
            json.dumps({"type": "subscribe", "job": {"a": 1}}),
        ],
    )
    assert [r["type"] for r in replies] == ["error"] * 8
    assert [r["code"] for r in replies] == [
        "bad_json",
        "bad_message",
        "bad_message",
        "unknown_type",
        "unknown_type",
        "bad_message",
        "not_found",
        "not_found",
    ]
    assert all(r["message"] for r in replies)
    assert pong == {"type": "pong"}


def test_websocket_bad_translate_requests_get_error_frames(session_key):
    too_long = "a" * (settings.NMT_MAX_CHARS + 1)
    replies, _ = _ws_exchange(
        session_key,
        [
            json.dumps({"type": "translate", "text": "", "source_lang": "en", "target_lang": "pt", "request_id": 7}),
            json.dumps({"type": "translate", "text": too_long, "source_lang": "en", "target_lang": "pt"}),
            json.dumps({"type": "translate", "text": "Hi", "source_lang": "en", "target_lang": "ja"}),
            json.dumps({"type": "translate", "text": "Hi", "translator": "nope"}),
        ],
    )
    assert [r["code"] for r in replies] == ["empty_text", "too_long", "unknown_pair", "unknown_translator"]
    assert replies[0]["request_id"] == 7
    assert TranslationJob.objects.count() == 0


def test_subscribing_to_another_sessions_job_is_refused(session_key):
    job = TranslationJob.objects.create(
        owner_session="someone-else",
        source_lang="en",
        target_lang="pt",
        translator="bergamot-en-pt",
        input_text="secret text",
        state="done",
        output_text="texto secreto",
    )
    replies, _ = _ws_exchange(session_key, [json.dumps({"type": "subscribe", "job": str(job.id)})])
    assert replies[0]["type"] == "error" and replies[0]["code"] == "not_found"
    assert "secreto" not in json.dumps(replies)


def test_websocket_without_session_cannot_submit(transactional_db):
    replies, _ = _ws_exchange(
        None, [json.dumps({"type": "translate", "text": "Hi", "source_lang": "en", "target_lang": "pt"})]
    )
    assert replies[0]["code"] == "no_session"


def test_websocket_from_a_foreign_origin_is_rejected(session_key):
    async def scenario():
        headers = [(b"origin", b"http://evil.example"), (b"cookie", f"sessionid={session_key}".encode())]
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=headers)
        connected, _ = await comm.connect()
        await comm.disconnect()
        return connected

    assert async_to_sync(scenario)() is False
