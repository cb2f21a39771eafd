"""The site's limits (nmt_site/core/admission.py) on every path that creates work: a burst from one caller is
cut at the limit with 429 / an error frame, and a refused request creates no row. Real Redis (the limiter's
store), the real ASGI app; work is parked (never reaches a worker) so rows stay queued and countable."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from nmt_site.asgi import application
from nmt_site.core import admission
from nmt_site.dashboard.models import BenchmarkRun
from nmt_site.documents.models import DocumentJob
from nmt_site.jobs.models import TranslationJob

from .conftest import ROOT, ws_headers

pytestmark = pytest.mark.django_db(transaction=True)

JOB = {"text": "The house is big.", "source_lang": "en", "target_lang": "pt"}


@pytest.fixture
def limits(settings):
    """Fresh limiter keys for the test, and every limit off until the test sets the one it checks."""
    settings.NMT_API_REDIS_PREFIX = f"nmt:api:test:{uuid.uuid4().hex}"
    settings.NMT_API_REQUESTS_PER_MINUTE = 0
    settings.NMT_API_CHARS_PER_MINUTE = 0
    settings.NMT_MAX_ACTIVE_WORK = 0
    return settings


def page_client() -> Client:
    client = Client()
    client.get("/")
    return client


def post_job(client, body=JOB, **extra):
    return client.post("/api/jobs", json.dumps(body), content_type="application/json", **extra)


def ws_translate(session_key, messages: list[dict], path="/ws/jobs/") -> list[dict]:
    async def scenario():
        comm = WebsocketCommunicator(application, path, headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        replies = []
        for message in messages:
            await comm.send_json_to(message)
            while True:  # "accepted" is followed by the job's state; keep the first answer per message
                reply = await comm.receive_json_from(timeout=10)
                if reply["type"] in ("accepted", "error"):
                    replies.append(reply)
                    break
        await comm.disconnect()
        return replies

    return async_to_sync(scenario)()


def test_job_api_rate_holds_and_refusals_create_no_job(limits, parked):
    limits.NMT_API_REQUESTS_PER_MINUTE = 3
    client = page_client()
    codes = [post_job(client).status_code for _ in range(6)]
    assert codes == [201, 201, 201, 429, 429, 429]
    refused = post_job(client).json()["error"]
    assert refused["code"] == "rate_limited" and "3 per minute" in refused["message"]
    assert TranslationJob.objects.count() == 3
    # A new session from the same address is the same caller: sessions cost nothing to mint.
    assert post_job(page_client()).status_code == 429


def test_websocket_burst_is_cut_at_the_rate(limits, parked, session_key):
    limits.NMT_API_REQUESTS_PER_MINUTE = 4
    replies = ws_translate(session_key, [{**JOB, "type": "translate", "request_id": i} for i in range(10)])
    assert [r["type"] for r in replies] == ["accepted"] * 4 + ["error"] * 6
    assert {r["code"] for r in replies[4:]} == {"rate_limited"} and replies[5]["request_id"] == 5
    assert TranslationJob.objects.count() == 4


def test_active_work_cap_per_owner(limits, parked, session_key):
    limits.NMT_MAX_ACTIVE_WORK = 2
    replies = ws_translate(session_key, [{**JOB, "type": "translate"} for _ in range(3)])
    assert [r["type"] for r in replies] == ["accepted", "accepted", "error"]
    assert replies[2]["code"] == "too_much_work"
    assert TranslationJob.objects.count() == 2
    # Finished work frees its place.
    TranslationJob.objects.update(state="done")
    assert ws_translate(session_key, [{**JOB, "type": "translate"}])[0]["type"] == "accepted"


def test_characters_per_minute(limits, parked):
    limits.NMT_API_CHARS_PER_MINUTE = 40
    client = page_client()
    assert post_job(client).status_code == 201  # 17 characters
    assert post_job(client).status_code == 201  # 34
    refused = post_job(client)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_characters"
    assert TranslationJob.objects.count() == 2


def test_full_socket_refuses_before_creating_the_job(limits, parked, session_key, monkeypatch):
    from nmt_site.jobs.watching_consumer import WatchingConsumer

    monkeypatch.setattr(WatchingConsumer, "max_subscriptions", 2)
    replies = ws_translate(session_key, [{**JOB, "type": "translate"} for _ in range(4)])
    assert [r.get("code") for r in replies] == [None, None, "too_many_subscriptions", "too_many_subscriptions"]
    assert TranslationJob.objects.count() == 2  # the refused ones never became jobs that run for nobody


def test_documents_upload_counts_files_against_the_cap(limits, parked, session_key):
    limits.NMT_MAX_ACTIVE_WORK = 2
    client = Client()
    client.cookies["sessionid"] = session_key
    files = [SimpleUploadedFile(f"f{i}.txt", b"The house is big.") for i in range(3)]
    resp = client.post("/api/documents", {"file": files, "translator": "bergamot-en-pt"})
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "too_much_work"
    assert DocumentJob.objects.count() == 0
    limits.NMT_MAX_ACTIVE_WORK = 0
    limits.NMT_API_REQUESTS_PER_MINUTE = 1
    one = SimpleUploadedFile("a.txt", b"The house is big.")
    assert client.post("/api/documents", {"file": one, "translator": "bergamot-en-pt"}).status_code == 201
    two = SimpleUploadedFile("b.txt", b"The house is big.")
    assert client.post("/api/documents", {"file": two, "translator": "bergamot-en-pt"}).status_code == 429
    assert DocumentJob.objects.count() == 1


def test_benchmark_runs_have_a_site_wide_cap_and_the_rate(limits, parked):
    limits.NMT_BENCH_MAX_ACTIVE = 2
    body = json.dumps({"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny"], "limit": 2})
    client = Client()
    codes = [client.post("/api/benchmarks", body, content_type="application/json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert BenchmarkRun.objects.count() == 2


def test_libretranslate_api_rate_and_active_work(limits, parked):
    limits.NMT_API_REQUESTS_PER_MINUTE = 2
    limits.NMT_API_TIMEOUT = 0  # parked work never finishes: answer at once (503) rather than wait
    body = json.dumps({"q": "The cat sleeps.", "source": "en", "target": "pt"})
    codes = [Client().post("/translate", body, content_type="application/json").status_code for _ in range(4)]
    assert codes == [503, 503, 429, 429]
    assert TranslationJob.objects.count() == 2
    assert Client().post("/detect", {"q": "Olá"}).status_code == 429  # the same caller, the same budget


def test_rate_window_does_not_let_twice_the_limit_through_at_a_boundary(limits):
    """A fixed window lets `limit` through at the end of one window and `limit` more at the start of the next
    (the issue saw 120 in 2.4 s at 60/min). Here: one request opens a window, a burst near its end, a burst
    just after it; never more than the limit may pass within any window-length span. Two-second windows."""
    limits.NMT_RATE_WINDOW_SECONDS = 2
    limits.NMT_API_REQUESTS_PER_MINUTE = 10
    caller = admission.Caller(address=f"192.0.2.{uuid.uuid4().int % 250}")
    passed: list[float] = []

    def burst(n: int) -> None:
        for _ in range(n):
            try:
                admission.count_request(caller)
                passed.append(time.monotonic())
            except admission.LimitReached:
                pass

    burst(1)
    start = passed[0]  # the window opens with the first request (the first call also connects to Redis)
    time.sleep(max(0.0, start + 1.8 - time.monotonic()))
    burst(20)
    time.sleep(max(0.0, start + 2.05 - time.monotonic()))
    burst(20)
    most = max(sum(1 for t in passed if s <= t < s + 1.9) for s in passed)
    assert most <= 10, f"{most} requests passed within 1.9 s at 10 per 2 s"
    assert len(passed) >= 10  # and the limit is not stricter than configured


def test_key_required_holds_on_every_path(limits, parked, session_key):
    limits.NMT_API_KEY_REQUIRED = True
    out = io.StringIO()
    call_command("create_api_key", "site", stdout=out)
    key = out.getvalue().strip()
    client = Client()
    client.cookies["sessionid"] = session_key
    client.get("/")
    # Without a key: refused everywhere, nothing created.
    assert post_job(client).json()["error"]["code"] == "key_required"
    assert post_job(client, {**JOB, "api_key": "wrong"}).json()["error"]["code"] == "invalid_api_key"
    upload = SimpleUploadedFile("a.txt", b"The house is big.")
    assert client.post("/api/documents", {"file": upload, "translator": "bergamot-en-pt"}).status_code == 403
    bench = json.dumps({"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny"], "limit": 2})
    assert client.post("/api/benchmarks", bench, content_type="application/json").status_code == 403
    lt = json.dumps({"q": "Hi", "source": "en", "target": "pt"})
    assert Client().post("/translate", lt, content_type="application/json").status_code == 403
    assert Client().post("/detect", {"q": "Hi"}).status_code == 403
    f = io.BytesIO(b"Hi there.")
    f.name = "a.txt"
    assert Client().post("/translate_file", {"file": f, "source": "en", "target": "pt"}).status_code == 403
    assert ws_translate(session_key, [{**JOB, "type": "translate"}])[0]["code"] == "key_required"
    assert TranslationJob.objects.count() == DocumentJob.objects.count() == BenchmarkRun.objects.count() == 0
    # With the key (a Bearer header, the body's api_key, or the socket's ?api_key=): accepted.
    assert post_job(client, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 201
    assert post_job(client, {**JOB, "api_key": key}).status_code == 201
    assert ws_translate(session_key, [{**JOB, "type": "translate"}], path=f"/ws/jobs/?api_key={key}")[0]["type"] == (
        "accepted"
    )
    assert ws_translate(session_key, [{**JOB, "type": "translate", "api_key": key}])[0]["type"] == "accepted"
    upload = SimpleUploadedFile("b.txt", b"The house is big.")
    resp = client.post("/api/documents", {"file": upload, "translator": "bergamot-en-pt", "api_key": key})
    assert resp.status_code == 201
    assert TranslationJob.objects.count() == 4 and DocumentJob.objects.count() == 1


def test_per_key_char_limit_and_libretranslate_character_counting(limits, parked):
    limits.NMT_MAX_CHARS = 10  # the page's limit must not cut the API's own
    limits.NMT_API_CHAR_LIMIT = 10
    limits.NMT_API_TIMEOUT = 0
    client = Client()

    def translate(q, **extra):
        body = json.dumps({"q": q, "source": "en", "target": "pt", **extra})
        return client.post("/translate", body, content_type="application/json")

    # Items count as their characters, not the line breaks that join them into one job: 5 + 5 = 10.
    assert translate(["Hello", "World"]).status_code == 503  # admitted (parked: times out)
    refused = translate(["Hello", "World!"])
    assert refused.status_code == 400 and "11 characters" in refused.json()["error"]
    out = io.StringIO()
    call_command("create_api_key", "big", "--char-limit", "40", stdout=out)
    assert translate("The house is big and the cat sleeps.", api_key=out.getvalue().strip()).status_code == 503
    assert TranslationJob.objects.count() == 2


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "nmt_site.settings",
        "NMT_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": "x" * 30 + uuid.uuid4().hex + "Y-z_" * 5,
        "NMT_HTTPS": "true",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "ALLOWED_HOSTS": "translate.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://translate.example.org",
        "NMT_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
