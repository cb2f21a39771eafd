"""The documents page, the websocket progress pushes, ownership of status/cancel/download, and expiry."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from nmt_site.asgi import application
from nmt_site.documents import services, storage
from nmt_site.documents.models import DocumentJob, Segment

from ..conftest import ws_headers
from .conftest import client_for, upload


def test_page_renders_with_form_and_limits(session_key):
    resp = client_for(session_key).get("/documents/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="upload-form"' in html and "csrfmiddlewaretoken" in html and ".docx" in html
    assert "documents/documents.js" in html


@pytest.mark.worker
def test_progress_pushed_over_websocket_then_download(celery_worker_process, session_key):
    client = client_for(session_key)
    lines = "\n".join(f"Line {i}: the children play in the park near the house." for i in range(120))
    resp = upload(client, [("progress.txt", lines.encode())])
    assert resp.status_code == 201, resp.content
    doc = resp.json()["documents"][0]
    assert doc["state"] == "queued" and doc["queue_position"] >= 1 and doc["progress"]["total"] == 120

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/documents/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "subscribe", "document": doc["id"]})
        frames = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                msg = await comm.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            assert msg["type"] == "document", msg
            frames.append(msg["document"])
            if msg["document"]["state"] in ("done", "failed", "cancelled"):
                break
        await comm.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert frames and frames[-1]["state"] == "done", (frames[-1:], celery_worker_process.log_tail())
    done = [f["progress"]["done"] for f in frames]
    assert done == sorted(done) and done[-1] == 120
    running = [f for f in frames if f["state"] == "running" and 0 < f["progress"]["done"] < 120]
    if running:  # a slow machine shows intermediate progress with an ETA
        assert any(f["eta_seconds"] is not None for f in running)
    assert frames[-1]["download_url"]
    body = b"".join(client.get(frames[-1]["download_url"]).streaming_content).decode()
    assert len(body.split("\n")) == 120 and "crianças" in body.lower()


def test_websocket_refuses_other_sessions_documents(session_key, parked):
    job = services.create_documents(
        owner=services.Owner(session_key="someone-else"),
        files=[("x.txt", b"The house is big.")],
        translator="bergamot-en-pt",
    )[0]

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/documents/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "subscribe", "document": str(job.id)})
        first = await comm.receive_json_from(timeout=10)
        await comm.send_to(text_data="not json")
        second = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    assert first["type"] == "error" and first["code"] == "not_found"
    assert second["type"] == "error" and second["code"] == "bad_json"


def test_status_cancel_download_only_for_the_owner(session_key, parked):
    owner = client_for(session_key)
    doc = upload(owner, [("mine.txt", b"The house is big.")]).json()["documents"][0]
    stranger = client_for("another-session-key")
    for url in (f"/api/documents/{doc['id']}", f"/api/documents/{doc['id']}/download"):
        assert stranger.get(url).status_code == 404
    assert stranger.post(f"/api/documents/{doc['id']}/cancel").status_code == 404
    assert owner.get("/api/documents/not-a-uuid").status_code == 404
    # Not translated yet: nothing to download.
    resp = owner.get(f"/api/documents/{doc['id']}/download")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "not_ready"
    resp = owner.post(f"/api/documents/{doc['id']}/cancel")
    assert resp.status_code == 200 and resp.json()["document"]["state"] == "cancelled"
    assert [d["id"] for d in owner.get("/api/documents/list").json()["documents"]] == [doc["id"]]


def test_stored_files_use_uuid_names_outside_static(session_key, settings, parked):
    doc = upload(client_for(session_key), [("../../etc/evil name.txt", b"The house is big.")]).json()["documents"][0]
    job = DocumentJob.objects.get(pk=doc["id"])
    assert job.original_name == "evil name.txt"
    assert job.stored_name.endswith(".txt") and len(job.stored_name) == 36
    path = storage.path_of(job.stored_name)
    assert path.exists() and path.parent == settings.NMT_DOC_DIR
    assert not str(path).startswith(str(settings.STATIC_ROOT)) and "static" not in path.parts


@override_settings(NMT_DOC_TTL_HOURS=1)
def test_expiry_deletes_files_and_rows(session_key, parked):
    owner = services.Owner(session_key=session_key)
    old, fresh = services.create_documents(
        owner=owner,
        files=[("old.txt", b"The house is big."), ("new.txt", b"The water is cold.")],
        translator="bergamot-en-pt",
    )
    output = storage.save("A casa é grande.".encode(), ".txt")
    DocumentJob.objects.filter(pk=old.pk).update(
        state="done", output_name=output, expires_at=timezone.now() - timedelta(minutes=1)
    )
    call_command("expire_documents")
    assert not DocumentJob.objects.filter(pk=old.pk).exists()
    assert not Segment.objects.filter(job_id=old.pk).exists()
    assert not storage.path_of(old.stored_name).exists() and not storage.path_of(output).exists()
    assert DocumentJob.objects.filter(pk=fresh.pk).exists() and storage.path_of(fresh.stored_name).exists()
