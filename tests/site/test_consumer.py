"""The websocket consumer's own behaviour, with the real Redis channel layer (no worker needed)."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from nmt_site.asgi import application
from nmt_site.jobs.models import JobState, TranslationJob
from nmt_site.jobs.notify import publish_job

from .conftest import ws_headers

pytestmark = pytest.mark.django_db(transaction=True)


def make_job(session_key, **fields):
    return TranslationJob.objects.create(
        owner_session=session_key,
        source_lang="en",
        target_lang="pt",
        translator="bergamot-en-pt",
        input_text="The cat sleeps.",
        **fields,
    )


def test_subscribe_replays_state_then_receives_pushes_whatever_the_id_case(session_key):
    job = make_job(session_key)

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "subscribe", "job": str(job.id).upper()})
        replay = await comm.receive_json_from(timeout=10)
        # What a worker does when it moves the job on: update the row, publish to the job's group.
        await sync_to_async(TranslationJob.objects.filter(pk=job.pk).update)(state=JobState.RUNNING)
        await sync_to_async(lambda: publish_job(TranslationJob.objects.get(pk=job.pk)))()
        pushed = await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "unsubscribe", "job": str(job.id)})
        assert await comm.receive_json_from(timeout=10) == {"type": "unsubscribed", "job": str(job.id)}
        await sync_to_async(lambda: publish_job(TranslationJob.objects.get(pk=job.pk)))()
        nothing = await comm.receive_nothing(timeout=0.5)
        await comm.disconnect()
        return replay, pushed, nothing

    replay, pushed, nothing = async_to_sync(scenario)()
    assert replay == {"type": "job", "job": replay["job"]} and replay["job"]["state"] == "queued"
    assert pushed["type"] == "job" and pushed["job"]["state"] == "running" and pushed["job"]["id"] == str(job.id)
    assert nothing, "after unsubscribe no more pushes arrive"


def test_cancel_over_the_socket(session_key):
    job = make_job(session_key)

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/jobs/", headers=ws_headers(session_key))
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "cancel", "job": str(job.id)})
        reply = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return reply

    reply = async_to_sync(scenario)()
    assert reply["job"]["state"] == "cancelled"
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.finished_at is not None
