"""The translate page and the translators API, as a browser first sees them."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_translate_page_lists_registry_translators_and_limit():
    client = Client()
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="translators-data"' in html and "bergamot-en-pt" in html
    assert "translate.js" in html and "site.css" in html
    # The page gives the browser a session (job ownership) and a CSRF cookie (for the POST).
    assert client.session.session_key
    assert "csrftoken" in resp.cookies


def test_translators_api():
    data = Client().get("/api/translators").json()
    names = {t["name"]: t for t in data["translators"]}
    assert names["bergamot-en-pt"]["pair"] == "en-pt" and names["bergamot-pt-en"]["pair"] == "pt-en"
    assert data["max_chars"] > 0


def test_post_requires_csrf_token_from_the_page():
    client = Client(enforce_csrf_checks=True)
    payload = json.dumps({"text": "Hi", "source_lang": "en", "target_lang": "pt"})
    assert client.post("/api/jobs", data=payload, content_type="application/json").status_code == 403
    token = client.get("/").cookies["csrftoken"].value
    resp = client.post("/api/jobs", data=payload, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert resp.status_code == 201 and resp.json()["job"]["state"] == "queued"


def test_static_files_are_served_by_the_asgi_app():
    from asgiref.sync import async_to_sync
    from channels.testing import HttpCommunicator

    from nmt_site.asgi import application

    async def get(path):
        comm = HttpCommunicator(application, "GET", path)
        await comm.send_input({"type": "http.request", "body": b""})
        start = await comm.receive_output(10)
        body = b""
        while True:  # file responses stream; the last message may carry no body key
            chunk = await comm.receive_output(10)
            body += chunk.get("body", b"")
            if not chunk.get("more_body"):
                return start["status"], body

    status, body = async_to_sync(get)("/static/jobs/translate.js")
    assert status == 200 and b"WebSocket" in body
