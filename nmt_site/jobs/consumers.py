"""The websocket a translate page keeps open: it submits jobs and receives their state as it changes.

Client → server (JSON objects):
    {"type": "subscribe", "job": "<id>"}             watch a job of this session; its current state comes back at once
    {"type": "unsubscribe", "job": "<id>"}
    {"type": "translate", "text": "...", "source_lang": "en", "target_lang": "pt", "translator": "...",
     "request_id": "anything"}                       create a job (same rules as the HTTP endpoint) and watch it
    {"type": "cancel", "job": "<id>"}
    {"type": "ping"}
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

import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import services
from .errors import JobRequestError
from .notify import group_name
from .selectors import get_owned_job, owner_from_scope

log = logging.getLogger(__name__)

# One page watches a handful of jobs; this bounds what a misbehaving client can make us hold.
MAX_SUBSCRIPTIONS = 200


class JobConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.owner = owner_from_scope(self.scope)
        self.subscribed: set[str] = set()
        await self.accept()

    async def disconnect(self, code):
        for job_id in list(self.subscribed):
            await self.channel_layer.group_discard(group_name(job_id), self.channel_name)
        self.subscribed.clear()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The base class would raise on bad JSON and drop the connection; answer with an error frame instead.
        if text_data is None:
            await self.send_error("bad_message", "Send JSON text frames, not binary.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("bad_json", "The message is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_error("bad_message", "Send a JSON object with a 'type'.")
            return
        request_id = content.get("request_id")
        handler = {
            "subscribe": self.on_subscribe,
            "unsubscribe": self.on_unsubscribe,
            "translate": self.on_translate,
            "cancel": self.on_cancel,
            "ping": self.on_ping,
        }.get(content.get("type"))
        if handler is None:
            await self.send_error(
                "unknown_type", f"Unknown message type {content.get('type')!r}.", request_id=request_id
            )
            return
        try:
            await handler(content)
        except JobRequestError as exc:
            await self.send_error(exc.code, exc.message, request_id=request_id)
        except Exception:  # never let one message kill the page's socket
            log.exception("websocket message failed: %r", content.get("type"))
            await self.send_error("internal", "Something went wrong on the server.", request_id=request_id)

    # --- handlers --------------------------------------------------------------------------------------------

    async def on_subscribe(self, content):
        # Ownership is checked before joining the group (raises JobNotFound); the id is normalised so the
        # group name matches the one the worker publishes to, however the client spelled the UUID.
        job = await database_sync_to_async(get_owned_job)(content.get("job"), self.owner)
        await self.watch(str(job.id))

    async def on_unsubscribe(self, content):
        job_id = str(content.get("job")).lower()
        if job_id in self.subscribed:
            self.subscribed.discard(job_id)
            await self.channel_layer.group_discard(group_name(job_id), self.channel_name)
        await self.send_json({"type": "unsubscribed", "job": job_id})

    async def on_translate(self, content):
        job = await database_sync_to_async(services.create_job)(
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

    async def on_ping(self, content):
        await self.send_json({"type": "pong"})

    async def watch(self, job_id: str):
        if job_id not in self.subscribed:
            if len(self.subscribed) >= MAX_SUBSCRIPTIONS:
                raise JobRequestError("too_many_subscriptions", "This page watches too many jobs; reload it.")
            # Join first, then read: an update landing in between arrives twice, never zero times.
            await self.channel_layer.group_add(group_name(job_id), self.channel_name)
            self.subscribed.add(job_id)
        job = await database_sync_to_async(get_owned_job)(job_id, self.owner)
        for step in job.refinement:  # steps produced before we joined the group: the page dedups repeats
            await self.send_json({"type": "refinement", "job": job_id, "step": step})
        await self.send_json({"type": "job", "job": job.as_dict()})

    async def send_error(self, code: str, message: str, request_id=None):
        await self.send_json({"type": "error", "code": code, "message": message, "request_id": request_id})

    # --- group events ----------------------------------------------------------------------------------------

    async def job_update(self, event):
        await self.send_json({"type": "job", "job": event["job"]})

    async def job_refinement(self, event):
        await self.send_json({"type": "refinement", "job": event["job"], "step": event["step"]})
