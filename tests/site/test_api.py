"""The public API through real parts: Django's test client, the real Redis (DB 13) and a real Celery worker."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.test import Client

from nmt_site.api.models import ApiKey
from nmt_site.jobs.models import TranslationJob

pytestmark = pytest.mark.worker


@pytest.fixture
def api(transactional_db, celery_worker_process, settings):
    # Own Redis key prefix per test: cache hits and rate counters of other tests (or runs) never leak in.
    settings.NMT_API_REDIS_PREFIX = f"nmt:api:test:{uuid.uuid4().hex}"
    return Client()


def post_json(client, path, data, **extra):
    return client.post(path, data=json.dumps(data), content_type="application/json", **extra)


def test_translate_string_json_and_form(api):
    resp = post_json(api, "/translate", {"q": "Hello world.", "source": "en", "target": "pt"})
    assert resp.status_code == 200, resp.content
    text = resp.json()["translatedText"]
    assert isinstance(text, str) and "mundo" in text.lower()
    assert "detectedLanguage" not in resp.json()
    form = api.post("/translate", {"q": "Good morning.", "source": "en", "target": "pt"})
    assert form.status_code == 200 and form.json()["translatedText"].strip()
    # It went through the queue: a job exists for the API caller and the worker finished it.
    assert TranslationJob.objects.filter(owner_session__startswith="api-", state="done").count() >= 2


def test_translate_array_keeps_order_and_lines(api):
    q = ["Good morning.", "The house is big.\nThe cat sleeps.", "Thank you."]
    resp = post_json(api, "/translate", {"q": q, "source": "en", "target": "pt", "alternatives": 3})
    assert resp.status_code == 200, resp.content
    out = resp.json()["translatedText"]
    assert isinstance(out, list) and len(out) == 3
    assert out[1].count("\n") == 1 and "casa" in out[1].lower()
    assert resp.json()["alternatives"] == [[], [], []]


def test_translate_auto_detects_language_per_item(api):
    resp = post_json(api, "/translate", {"q": "Eu gosto muito de café com leite.", "source": "auto", "target": "en"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["detectedLanguage"]["language"] == "pt" and body["detectedLanguage"]["confidence"] > 50
    assert "coffee" in body["translatedText"].lower()
    many = post_json(
        api, "/translate", {"q": ["Bom dia, tudo bem?", "Muito obrigado."], "source": "auto", "target": "en"}
    ).json()
    assert [d["language"] for d in many["detectedLanguage"]] == ["pt", "pt"]


def test_translate_html_keeps_markup(api):
    html = '<p class="x">Hello <b>world</b>.</p>'
    resp = post_json(api, "/translate", {"q": html, "source": "en", "target": "pt", "format": "html"})
    assert resp.status_code == 200, resp.content
    out = resp.json()["translatedText"]
    assert out.startswith('<p class="x">') and "<b>" in out and out.endswith("</p>")
    assert "Hello" not in out


def test_cache_answers_repeat_without_a_new_job(api):
    body = {"q": "The weather is nice today.", "source": "en", "target": "pt"}
    first = post_json(api, "/translate", body).json()["translatedText"]
    jobs = TranslationJob.objects.count()
    assert post_json(api, "/translate", body).json()["translatedText"] == first
    assert TranslationJob.objects.count() == jobs
    # Different decoding options are a different cache entry (bergamot declares none, so they are refused).
    bad = post_json(api, "/translate", {**body, "nmt_options": {"beam": 4}})
    assert bad.status_code == 400 and "does not accept" in bad.json()["error"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"source": "en", "target": "pt"}, "missing q"),
        ({"q": "", "source": "en", "target": "pt"}, "missing q"),
        ({"q": 5, "source": "en", "target": "pt"}, "q must be"),
        ({"q": ["a", 1], "source": "en", "target": "pt"}, "q must be"),
        ({"q": "Hi", "target": "pt"}, "missing source"),
        ({"q": "Hi", "source": "en"}, "missing target"),
        ({"q": "Hi", "source": "en", "target": "xx"}, "No translator"),
        ({"q": "Hi", "source": "en", "target": "pt", "format": "pdf"}, "format"),
        ({"q": "Hi", "source": "en", "target": "pt", "nmt_translator": "nope"}, "Unknown translator"),
        ({"q": "Hi", "source": "en", "target": "pt", "nmt_options": "[1]"}, "nmt_options"),
        ({"q": "Hi", "source": "en", "target": "pt", "alternatives": "many"}, "alternatives"),
    ],
)
def test_translate_bad_input_is_400_with_error(api, body, message):
    resp = post_json(api, "/translate", body)
    assert resp.status_code == 400, resp.content
    assert message in resp.json()["error"]


def test_bad_json_wrong_method_and_char_limit(api, settings):
    resp = api.post("/translate", data="{not json", content_type="application/json")
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]
    assert api.get("/translate").status_code == 405
    settings.NMT_API_CHAR_LIMIT = 10
    resp = post_json(api, "/translate", {"q": "This is longer than ten.", "source": "en", "target": "pt"})
    assert resp.status_code == 400 and "limit is 10" in resp.json()["error"]


def test_languages_detect_and_frontend_settings(api):
    langs = {lang["code"]: lang for lang in api.get("/languages").json()}
    assert langs["en"]["name"] == "English" and "pt" in langs["en"]["targets"]
    assert "en" in langs["pt"]["targets"]
    resp = api.post("/detect", {"q": "Ich habe heute keine Zeit, leider."})
    candidates = resp.json()
    assert resp.status_code == 200 and candidates[0]["language"] in langs
    pt = post_json(api, "/detect", {"q": "Onde fica a estação de comboios?"}).json()
    assert pt[0]["language"] == "pt" and pt[0]["confidence"] > 50
    assert post_json(api, "/detect", {}).status_code == 400
    fs = api.get("/frontend/settings").json()
    assert fs["charLimit"] > 0 and fs["language"]["source"]["code"] == "auto" and ".txt" in fs["supportedFilesFormat"]
    assert api.get("/health").status_code == 200


def test_api_keys_required_invalid_and_per_key_limits(api, settings):
    out = io.StringIO()
    call_command("create_api_key", "tester", "--requests-per-minute", "2", "--char-limit", "20", stdout=out)
    key = out.getvalue().strip()
    assert ApiKey.objects.get(key=key).name == "tester"
    # Keys optional: an unknown key is ignored, as LibreTranslate does (deep-translator always sends one).
    ignored = post_json(api, "/translate", {"q": "Hi", "source": "en", "target": "pt", "api_key": "wrong"})
    assert ignored.status_code == 200, ignored.content
    settings.NMT_API_KEY_REQUIRED = True
    bad = post_json(api, "/translate", {"q": "Hi", "source": "en", "target": "pt", "api_key": "wrong"})
    assert bad.status_code == 403 and bad.json()["error"] == "Invalid API key"
    assert post_json(api, "/translate", {"q": "Hi", "source": "en", "target": "pt"}).status_code == 403
    assert api.post("/detect", {"q": "Hello"}).status_code == 403
    too_long = post_json(api, "/translate", {"q": "x" * 21, "source": "en", "target": "pt", "api_key": key})
    assert too_long.status_code == 400 and "limit is 20" in too_long.json()["error"]
    ok = post_json(api, "/translate", {"q": "Hi there.", "source": "en", "target": "pt", "api_key": key})
    assert ok.status_code == 200, ok.content
    limited = post_json(api, "/translate", {"q": "Hi there.", "source": "en", "target": "pt", "api_key": key})
    assert limited.status_code == 429 and "2 per minute" in limited.json()["error"]


def test_rate_limit_by_address_without_key(api, settings):
    settings.NMT_API_REQUESTS_PER_MINUTE = 3
    codes = [api.post("/detect", {"q": "Hello there"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert api.get("/languages").status_code == 200  # listing is not limited


def test_translate_file_and_download(api):
    upload = io.BytesIO(b"Good morning.\n\nThe house is big.\n")
    upload.name = "notes.txt"
    resp = api.post("/translate_file", {"file": upload, "source": "en", "target": "pt"})
    assert resp.status_code == 200, resp.content
    url = resp.json()["translatedFileUrl"]
    assert url.startswith("http://testserver/download_file/") and url.endswith("notes.pt.txt")
    got = api.get(url.removeprefix("http://testserver"))
    assert got.status_code == 200 and "attachment" in got["Content-Disposition"]
    text = b"".join(got.streaming_content).decode()
    assert "casa" in text.lower() and "\n\n" in text  # paragraphs kept
    # It is a document job of the documents app, owned by the API caller.
    from nmt_site.documents.models import DocumentJob

    assert DocumentJob.objects.get(original_name="notes.txt").owner_session.startswith("api-")
    assert api.get(f"/download_file/{uuid.uuid4()}/x.txt").status_code == 404
    assert api.get("/download_file/not-a-uuid/x.txt").status_code == 404


def test_translate_file_other_formats_and_auto(api):
    html = io.BytesIO("<html><body><p>Eu gosto muito de café com leite.</p></body></html>".encode())
    html.name = "page.html"
    resp = api.post("/translate_file", {"file": html, "source": "auto", "target": "en"})
    assert resp.status_code == 200, resp.content
    got = api.get(resp.json()["translatedFileUrl"].removeprefix("http://testserver"))
    body = b"".join(got.streaming_content).decode()
    assert "<p>" in body and "coffee" in body.lower()


def test_translate_file_bad_input(api, settings):
    assert api.post("/translate_file", {"source": "en", "target": "pt"}).json()["error"].endswith("file parameter")
    exe = io.BytesIO(b"MZ\x90\x00")
    exe.name = "a.exe"
    resp = api.post("/translate_file", {"file": exe, "source": "en", "target": "pt"})
    assert 400 <= resp.status_code < 500 and "error" in resp.json()
    empty = io.BytesIO(b"")
    empty.name = "a.txt"
    resp = api.post("/translate_file", {"file": empty, "source": "en", "target": "pt"})
    assert 400 <= resp.status_code < 500 and resp.json()["error"]
    settings.NMT_DOC_MAX_SEGMENTS = 2
    long = io.BytesIO(b"The house is big. The cat sleeps. The water is cold.")
    long.name = "a.txt"
    resp = api.post("/translate_file", {"file": long, "source": "en", "target": "pt"})
    assert resp.status_code == 413 and "more than 2 sentences" in resp.json()["error"]


def test_translate_file_is_not_held_to_the_text_character_limit(api, settings):
    # LibreTranslate's file endpoint has its own limit; here the documents' NMT_DOC_MAX_* apply, not charLimit.
    settings.NMT_API_CHAR_LIMIT = 10
    upload = io.BytesIO(b"The house is big.\n\nThe water is cold.\n")
    upload.name = "notes.txt"
    resp = api.post("/translate_file", {"file": upload, "source": "en", "target": "pt"})
    assert resp.status_code == 200, resp.content


def test_cors_headers_on_api_only(api):
    resp = api.get("/languages", HTTP_ORIGIN="https://elsewhere.example")
    assert resp["Access-Control-Allow-Origin"] == "*"
    pre = api.options("/translate", HTTP_ORIGIN="https://elsewhere.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert pre.status_code == 200 and "POST" in pre["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in api.get("/", HTTP_ORIGIN="https://elsewhere.example")


def test_metrics_and_token(api, settings):
    post_json(api, "/translate", {"q": "Hello.", "source": "en", "target": "pt"})
    body = api.get("/metrics").content.decode()
    assert 'nmt_http_requests_total{method="POST",route="translate",status="200"}' in body
    assert "nmt_http_request_seconds_bucket" in body
    assert f'nmt_queue_depth{{queue="{settings.NMT_QUEUE}"}}' in body
    assert 'nmt_jobs{state="done"}' in body and 'nmt_model_seconds_total{engine="bergamot-en-pt"}' in body
    assert "# TYPE nmt_document_jobs gauge" in body and "# TYPE nmt_benchmark_runs gauge" in body
    settings.NMT_METRICS_TOKEN = "s3cret"
    refused = api.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in refused.json()["error"]
    # Only the Bearer header: not the query string (access logs), not a bare Authorization value.
    assert api.get("/metrics?token=s3cret").status_code == 401
    assert api.get("/metrics", HTTP_AUTHORIZATION="s3cret").status_code == 401
    assert api.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert api.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_openapi_document_is_valid_and_covers_the_routes(api):
    import re

    from openapi_spec_validator import validate

    from nmt_site.api import urls as api_urls
    from nmt_site.jobs import urls as job_urls

    doc = api.get("/api/openapi.json").json()
    validate(doc)
    documented = set(doc["paths"])
    for pattern in api_urls.urlpatterns + job_urls.urlpatterns:
        route = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        if route != "/":  # the page, not an API
            assert route in documented, route


def test_job_api_result_endpoint(api):
    client = Client()
    client.get("/")
    job = post_json(client, "/api/jobs", {"text": "Hello.", "source_lang": "en", "target_lang": "pt"}).json()["job"]
    from .conftest import wait_for_state

    wait_for_state(job["id"], ["done"])
    result = client.get(f"/api/jobs/{job['id']}/result").json()
    assert result["output"].strip() and result["translator"] == "bergamot-en-pt"
    assert Client().get(f"/api/jobs/{job['id']}/result").status_code == 404  # another session


def test_timeout_answers_503_and_cancels_the_job(api, settings):
    settings.NMT_API_TIMEOUT = 0
    resp = post_json(api, "/translate", {"q": "A sentence nobody waits for.", "source": "en", "target": "pt"})
    assert resp.status_code == 503 and "did not finish" in resp.json()["error"]
    job = TranslationJob.objects.get(input_text="A sentence nobody waits for.")
    assert job.state in ("cancelled", "done")  # done only if the worker won the race within 0 s


def test_job_api_options_are_checked_against_the_translator(api):
    client = Client()
    client.get("/")
    resp = post_json(
        client, "/api/jobs", {"text": "Hi", "source_lang": "en", "target_lang": "pt", "options": {"beam": 5}}
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "bad_options"
    resp = post_json(client, "/api/jobs", {"text": "Hi", "source_lang": "en", "target_lang": "pt", "options": [1]})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "bad_options"


def test_html_without_text_and_empty_items(api):
    resp = post_json(api, "/translate", {"q": "<br/><img src='x'>", "source": "en", "target": "pt", "format": "html"})
    assert resp.status_code == 200 and resp.json()["translatedText"] == "<br/><img src='x'>"
    resp = post_json(api, "/translate", {"q": ["", "Thank you."], "source": "en", "target": "pt"})
    assert resp.status_code == 200 and resp.json()["translatedText"][0] == ""
    blank = post_json(api, "/translate", {"q": "   ", "source": "en", "target": "pt"})
    assert blank.status_code == 200 and blank.json()["translatedText"] == ""  # nothing to translate, no job
