"""Through real parts: Redis, a real Celery worker process, the ASGI app with its websocket consumer."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from nmt_site.asgi import application
from nmt_site.jobs import services
from nmt_site.jobs.models import JobState, TranslationJob

from .conftest import wait_for_state, ws_headers

pytestmark = pytest.mark.worker


async def _receive_until_finished(comm, job_id: str, timeout: float = 60.0, worker=None) -> list[dict]:
    """Collect the job frames pushed for ``job_id`` until it finishes."""
    frames = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = await comm.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            log = worker.log_tail() if worker else ""
            raise AssertionError(f"no frame within {timeout} s; got {frames}\n--- worker log ---\n{log}") from None
        if msg["type"] in ("job", "accepted") and msg["job"]["id"] == job_id:
            frames.append(msg["job"])
            if msg["job"]["state"] in ("done", "failed", "cancelled"):
                return frames
        elif msg["type"] == "error":
            raise AssertionError(f"error frame: {msg}")
    raise AssertionError(f"no final state within {timeout} s; got {frames}")


def test_translate_over_websocket_pushes_portuguese(celery_worker_process, session_key):
    text = "The cat is sleeping on the sofa.\n\nI drink coffee every morning. The water is cold."

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        connected, _ = await comm.connect()
        assert connected
        await comm.send_json_to(
            {"type": "translate", "text": text, "source_lang": "en", "target_lang": "pt", "request_id": "r1"}
        )
        accepted = await comm.receive_json_from(timeout=10)
        assert accepted["type"] == "accepted" and accepted["request_id"] == "r1"
        assert accepted["job"]["state"] == "queued"
        frames = await _receive_until_finished(comm, accepted["job"]["id"], worker=celery_worker_process)
        await comm.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    final = frames[-1]
    assert final["state"] == "done", final
    lines = final["output"].split("\n")
    # One output line per input line, the empty paragraph line kept.
    assert len(lines) == 3 and lines[1] == ""
    assert "gato" in lines[0].lower() and "sofá" in lines[0].lower()
    assert "café" in lines[2].lower() and "água" in lines[2].lower()
    # Frames never go back in the state machine (a fast worker may finish before the page joins the group,
    # so which intermediate states show up varies), and the timings add up.
    rank = {"queued": 0, "running": 1, "done": 2}
    ranks = [rank[f["state"]] for f in frames]
    assert ranks == sorted(ranks), [f["state"] for f in frames]
    assert final["queue_seconds"] >= 0 and final["model_seconds"] > 0
    assert final["total_seconds"] >= final["queue_seconds"]
    print(
        f"\nend-to-end one request: queue wait {final['queue_seconds'] * 1000:.0f} ms, "
        f"model {final['model_seconds'] * 1000:.0f} ms, total {final['total_seconds'] * 1000:.0f} ms"
    )


def test_http_submit_then_websocket_subscribe_and_status(celery_worker_process, session_key):
    client = Client()
    client.cookies["sessionid"] = session_key
    resp = client.post(
        "/api/jobs",
        data=json.dumps({"text": "O cachorro come pão na cozinha.", "translator": "bergamot-pt-en"}),
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    job_id = resp.json()["job"]["id"]

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        # Subscribing replays the current state from the database first (the job may already be done).
        await comm.send_json_to({"type": "subscribe", "job": job_id})
        frames = await _receive_until_finished(comm, job_id, worker=celery_worker_process)
        await comm.disconnect()
        return frames

    final = async_to_sync(scenario)()[-1]
    assert final["state"] == "done"
    assert "dog" in final["output"].lower() and "bread" in final["output"].lower()
    # The fallback status fetch the page uses after a reconnect gives the same final state.
    status = client.get(f"/api/jobs/{job_id}")
    assert status.status_code == 200 and status.json()["job"]["output"] == final["output"]


def test_resubscribe_after_reconnect_replays_finished_job(celery_worker_process, session_key):
    job = services.create_job(
        owner=services.Owner(session_key=session_key), text="The house is big.", source_lang="en", target_lang="pt"
    )
    wait_for_state(job.id, ("done",), worker=celery_worker_process)

    async def scenario():
        # A page that lost its socket while the job ran: a new connection, then subscribe.
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "subscribe", "job": str(job.id)})
        msg = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return msg

    msg = async_to_sync(scenario)()
    assert msg["type"] == "job" and msg["job"]["state"] == "done" and "casa" in msg["job"]["output"].lower()


def test_health_reports_database_redis_and_worker(celery_worker_process, transactional_db):
    resp = Client().get("/health")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "redis", "worker"}
    assert celery_worker_process.name in body["checks"]["worker"]["workers"]


def test_worker_killed_mid_job_is_retried_and_finishes(celery_worker_process, transactional_db):
    """kill -9 the pool process while it translates: the message is requeued and the job ends done."""
    lines = [f"Line {i}: the cat sleeps on the green sofa near the open window." for i in range(240)]
    # Created directly (not through create_job) because this input is longer than the page's limit on purpose.
    job = TranslationJob.objects.create(
        owner_session="kill-test",
        source_lang="en",
        target_lang="pt",
        translator="bergamot-en-pt",
        input_text="\n".join(lines),
        progress_total=len(lines),
    )
    services.enqueue_job(job.id)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state == JobState.RUNNING and job.progress_done >= 4:
            break
        assert job.state in (JobState.QUEUED, JobState.RUNNING), (job.state, job.error)
        time.sleep(0.01)
    else:
        pytest.fail(f"job never ran\n{celery_worker_process.log_tail()}")
    assert job.progress_done < len(lines), "the job finished before it could be killed; make the input longer"
    pid = int(job.worker.rsplit("/", 1)[1])
    assert pid != celery_worker_process.process.pid, "the task must run in a pool process, not the main one"
    os.kill(pid, signal.SIGKILL)
    done_before_kill = job.progress_done

    job = wait_for_state(job.id, ("done", "failed"), timeout=120, worker=celery_worker_process)
    assert job.state == JobState.DONE, job.error
    assert job.attempts == 2, "the redelivered task must claim the job a second time"
    out_lines = job.output_text.split("\n")
    assert len(out_lines) == len(lines)
    assert all("gato" in line.lower() for line in out_lines)
    assert done_before_kill > 0 and int(job.worker.rsplit("/", 1)[1]) != pid


def test_time_limit_marks_the_job_failed_with_the_reason(celery_worker_process, transactional_db):
    """A job that runs past its (soft) time limit ends failed with the reason, not running, and the worker
    goes on serving."""
    from nmt_site.celery import app

    lines = [f"Sentence {i}: the dog runs across the wide green field every morning." for i in range(400)]
    job = TranslationJob.objects.create(
        owner_session="limit-test",
        source_lang="en",
        target_lang="pt",
        translator="bergamot-en-pt",
        input_text="\n".join(lines),
        progress_total=len(lines),
    )
    # Only this message gets a 1 s limit; the input takes several seconds.
    app.send_task(
        services.TRANSLATE_TASK, args=[str(job.id)], queue=settings.NMT_QUEUE, soft_time_limit=1, time_limit=30
    )
    job = wait_for_state(job.id, ("done", "failed"), timeout=60, worker=celery_worker_process)
    assert job.state == JobState.FAILED, "the input must take longer than 1 s for this test to mean anything"
    assert "time limit" in job.error and job.finished_at is not None
    assert 0 < job.progress_done < len(lines)

    after = services.create_job(
        owner=services.Owner(session_key="limit-test"), text="Good morning.", source_lang="en", target_lang="pt"
    )
    assert wait_for_state(after.id, ("done",), worker=celery_worker_process).output_text
