"""The websocket the documents page keeps open: it watches the session's document jobs.

Client → server: {"type": "subscribe", "document": "<id>"}, {"type": "unsubscribe", "document": "<id>"},
{"type": "cancel", "document": "<id>"}, {"type": "ping"}.
Server → client: {"type": "document", "document": {...}} (DocumentJob.as_dict with queue position),
{"type": "unsubscribed", "document": id}, {"type": "error", "code", "message"}, {"type": "pong"}.
Only documents of the page's own session (or signed-in user) can be watched: the same ownership rule as jobs.
"""
from __future__ import annotations

import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import services
from .errors import JobRequestError
from .notify import group_name
from .selectors import get_owned_document, owner_from_scope, payload

log = logging.getLogger(__name__)
MAX_SUBSCRIPTIONS = 200


def _owned_payload(job_id, owner) -> dict:
    return payload(get_owned_document(job_id, owner))


class DocumentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.owner = owner_from_scope(self.scope)
        self.subscribed: set[str] = set()
        await self.accept()

    async def disconnect(self, code):
        for job_id in list(self.subscribed):
            await self.channel_layer.group_discard(group_name(job_id), self.channel_name)
        self.subscribed.clear()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self.send_error("bad_message", "Send JSON objects with a 'type'.")
            return
        handler = {"subscribe": self.on_subscribe, "unsubscribe": self.on_unsubscribe,
                   "cancel": self.on_cancel, "ping": self.on_ping}.get(content.get("type"))
        if handler is None:
            await self.send_error("unknown_type", f"Unknown message type {content.get('type')!r}.")
            return
        try:
            await handler(content)
        except JobRequestError as exc:
            await self.send_error(exc.code, exc.message)
        except Exception:
            log.exception("document websocket message failed")
            await self.send_error("internal", "Something went wrong on the server.")

    async def on_subscribe(self, content):
        # Ownership first (raises DocumentNotFound), then join, then replay the stored state.
        data = await database_sync_to_async(_owned_payload)(content.get("document"), self.owner)
        job_id = data["id"]
        if job_id not in self.subscribed:
            if len(self.subscribed) >= MAX_SUBSCRIPTIONS:
                raise JobRequestError("too_many_subscriptions", "This page watches too many documents; reload it.")
            await self.channel_layer.group_add(group_name(job_id), self.channel_name)
            self.subscribed.add(job_id)
        data = await database_sync_to_async(_owned_payload)(job_id, self.owner)
        await self.send_json({"type": "document", "document": data})

    async def on_unsubscribe(self, content):
        job_id = str(content.get("document")).lower()
        if job_id in self.subscribed:
            self.subscribed.discard(job_id)
            await self.channel_layer.group_discard(group_name(job_id), self.channel_name)
        await self.send_json({"type": "unsubscribed", "document": job_id})

    async def on_cancel(self, content):
        job = await database_sync_to_async(services.cancel_document)(content.get("document"), self.owner)
        await self.send_json({"type": "document", "document": await database_sync_to_async(payload)(job)})

    async def on_ping(self, content):
        await self.send_json({"type": "pong"})

    async def send_error(self, code: str, message: str):
        await self.send_json({"type": "error", "code": code, "message": message})

    async def document_update(self, event):
        await self.send_json({"type": "document", "document": event["document"]})
