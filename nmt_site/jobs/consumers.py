"""The websocket a translate page keeps open: it submits jobs and receives their state as it changes.

Client → server (JSON objects):
    {"type": "subscribe", "job": "<id>"}             watch a job of this session; its current state comes back at once
    {"type": "unsubscribe", "job": "<id>"}
    {"type": "translate", "text": "...", "source_lang": "en", "target_lang": "pt", "translator": "...",
     "request_id": "anything"}                       create a job (same rules as the HTTP endpoint) and watch it
    {"type": "cancel", "job": "<id>"}
    {"type": "ping"}
A "translate" may carry "api_key" (or the socket's URL ?api_key=...): needed when the server requires keys; the
site's limits (nmt_site/core/admission.py) apply per key, else per client address, and a refused request
gets an error frame (code "rate_limited", "too_many_characters", "too_much_work", "key_required") and no job.
Server → client:
    {"type": "job", "job": {...}}                    a job's full public state (see TranslationJob.as_dict)
    {"type": "refinement", "job": "<id>", "step": {"line", "iteration", "text", "masked", "masked_positions"}}
                                                     one refinement iteration of a job created with "refine": true
                                                     (on subscribe, the steps stored so far are sent again)
    {"type": "accepted", "job": {...}, "request_id": ...}
    {"type": "error", "code": "...", "message": "...", "request_id": ...}
    {"type": "unsubscribed", "job": "<id>"}          no pushes for that job after this frame
    {"type": "pong"}
A malformed message gets an error frame; the connection stays open.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from nmt_site.core.admission import caller_from_scope

from . import services
from .notify import group_name
from .selectors import get_owned_job
from .watching_consumer import WatchingConsumer


def _create_job(scope, api_key, **request):
    # The caller (key, else address) is looked up per message: keys can be revoked while a page stays open.
    return services.create_job(caller=caller_from_scope(scope, api_key), **request)


class JobConsumer(WatchingConsumer):
    item = "job"

    def group_for(self, item_id: str) -> str:
        return group_name(item_id)

    def handlers(self) -> dict:
        return {
            **super().handlers(),
            "subscribe": self.on_subscribe,
            "translate": self.on_translate,
            "cancel": self.on_cancel,
        }

    async def on_subscribe(self, content):
        # Ownership is checked before joining the group (raises JobNotFound); the id is normalised so the
        # group name matches the one the worker publishes to, however the client spelled the UUID.
        job = await database_sync_to_async(get_owned_job)(content.get("job"), self.owner)
        await self.watch(str(job.id))

    async def on_translate(self, content):
        self.ensure_room()  # before the job exists: a refused request creates nothing
        job = await database_sync_to_async(_create_job)(
            self.scope,
            content.get("api_key"),
            owner=self.owner,
            text=content.get("text"),
            source_lang=content.get("source_lang"),
            target_lang=content.get("target_lang"),
            translator=content.get("translator"),
            options=content.get("options"),
            refine=bool(content.get("refine")),
        )
        await self.send_json({"type": "accepted", "job": job.as_dict(), "request_id": content.get("request_id")})
        await self.watch(str(job.id))

    async def on_cancel(self, content):
        job = await database_sync_to_async(services.cancel_job)(content.get("job"), self.owner)
        await self.send_json({"type": "job", "job": job.as_dict()})

    async def watch(self, job_id: str):
        await self.join(job_id)
        job = await database_sync_to_async(get_owned_job)(job_id, self.owner)
        for step in job.refinement:  # steps produced before we joined the group: the page dedups repeats
            await self.send_json({"type": "refinement", "job": job_id, "step": step})
        await self.send_json({"type": "job", "job": job.as_dict()})

    # --- group events ----------------------------------------------------------------------------------------

    async def job_update(self, event):
        await self.send_json({"type": "job", "job": event["job"]})

    async def job_refinement(self, event):
        await self.send_json({"type": "refinement", "job": event["job"], "step": event["step"]})
