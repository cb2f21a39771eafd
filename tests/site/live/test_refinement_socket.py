"""The refinement protocol over the websocket (no browser): a tiny real CMLM on the real worker."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from nmt_site.asgi import application
from nmt_site.jobs.models import TranslationJob

from ..conftest import ws_headers

pytestmark = pytest.mark.worker


def test_refinement_steps_stream_in_order_and_end_on_the_translation(celery_worker_process, session_key, tiny_engines):
    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_json_to(
            {
                "type": "translate",
                "text": "t6 t7 t8\nt9 t10",
                "translator": "tiny-cmlm-en-de",
                "refine": True,
                "options": {"iterations": 4},
                "request_id": "r",
            }
        )
        steps, job = [], None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                msg = await comm.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            assert msg["type"] != "error", msg
            if msg["type"] == "refinement":
                steps.append(msg["step"])
            elif msg["type"] in ("job", "accepted") and msg["job"]["state"] in ("done", "failed", "cancelled"):
                job = msg["job"]
                break
        await comm.disconnect()
        return steps, job

    steps, job = async_to_sync(scenario)()
    assert job is not None and job["state"] == "done", (job, celery_worker_process.log_tail())
    assert job["refine"] is True and job["options"] == {"iterations": 4}
    # Steps may arrive twice (stored ones are replayed on subscribe): the distinct ones are all iterations of
    # both lines, in order, and each line's last step is that line of the output.
    distinct = {(s["line"], s["iteration"]): s for s in steps}
    assert sorted(distinct) == [(0, i) for i in range(1, 5)] + [(1, i) for i in range(1, 5)]
    assert [distinct[(n, 4)]["text"] for n in (0, 1)] == job["output"].split("\n")
    assert distinct[(0, 1)]["masked"] == len(distinct[(0, 1)]["masked_positions"]) > 0
    assert TranslationJob.objects.get(pk=job["id"]).refinement[-1]["iteration"] == 4


def test_refine_with_unknown_option_is_refused(session_key, tiny_engines):
    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_json_to(
            {"type": "translate", "text": "t6", "translator": "tiny-cmlm-en-de", "refine": True, "options": {"beam": 3}}
        )
        msg = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return msg

    msg = async_to_sync(scenario)()
    assert msg["type"] == "error" and msg["code"] == "bad_options" and "iterations" in msg["message"]
