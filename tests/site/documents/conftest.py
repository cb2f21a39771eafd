"""Helpers for the document tests: upload through the real view, wait for the real worker, download."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client


def client_for(session_key: str, **kwargs) -> Client:
    client = Client(**kwargs)
    client.cookies["sessionid"] = session_key
    return client


def upload(client: Client, files: list[tuple[str, bytes]], translator: str = "bergamot-en-pt", **fields):
    data = {"file": [SimpleUploadedFile(name, body) for name, body in files], **fields}
    if translator:
        data["translator"] = translator
    return client.post("/api/documents", data=data)


def wait_for_document(job_id, states=("done", "failed", "cancelled"), timeout: float = 60.0, worker=None):
    from nmt_site.documents.models import DocumentJob

    deadline = time.monotonic() + timeout
    job = None
    while time.monotonic() < deadline:
        job = DocumentJob.objects.get(pk=job_id)
        if job.state in states:
            return job
        time.sleep(0.05)
    pytest.fail(
        f"document stayed {job.state if job else '?'} for {timeout} s (wanted {states})\n"
        f"{worker.log_tail() if worker else ''}"
    )


def translate_file(client: Client, name: str, body: bytes, worker) -> tuple[dict, bytes, str]:
    """Upload one file, wait until the worker finished it, download the result: (status, bytes, file name)."""
    resp = upload(client, [(name, body)])
    assert resp.status_code == 201, resp.content
    doc = resp.json()["documents"][0]
    job = wait_for_document(doc["id"], worker=worker)
    assert job.state == "done", (job.state, job.error, worker.log_tail())
    status = client.get(f"/api/documents/{doc['id']}").json()["document"]
    download = client.get(f"/api/documents/{doc['id']}/download")
    assert download.status_code == 200, download.content
    body = b"".join(download.streaming_content)
    filename = download["Content-Disposition"].split("filename=")[1].strip('"')
    return status, body, filename
