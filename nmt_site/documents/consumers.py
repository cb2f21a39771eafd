"""The websocket the documents page keeps open: it watches the session's document jobs.

Client → server: {"type": "subscribe", "document": "<id>"}, {"type": "unsubscribe", "document": "<id>"},
{"type": "cancel", "document": "<id>"}, {"type": "ping"}.
Server → client: {"type": "document", "document": {...}} (DocumentJob.as_dict with queue position),
{"type": "unsubscribed", "document": id}, {"type": "error", "code", "message", "request_id"}, {"type": "pong"}.
Only documents of the page's own session (or signed-in user) can be watched: the same ownership rule as jobs.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from nmt_site.jobs.watching_consumer import WatchingConsumer

from . import services
from .notify import group_name
from .selectors import get_owned_document, payload


def _owned_payload(job_id, owner) -> dict:
    return payload(get_owned_document(job_id, owner))


class DocumentConsumer(WatchingConsumer):
    item = "document"

    def group_for(self, item_id: str) -> str:
        return group_name(item_id)

    def handlers(self) -> dict:
        return {**super().handlers(), "subscribe": self.on_subscribe, "cancel": self.on_cancel}

    async def on_subscribe(self, content):
        # Ownership first (raises DocumentNotFound), then join, then replay the stored state.
        data = await database_sync_to_async(_owned_payload)(content.get("document"), self.owner)
        await self.join(data["id"])
        data = await database_sync_to_async(_owned_payload)(data["id"], self.owner)
        await self.send_json({"type": "document", "document": data})

    async def on_cancel(self, content):
        job = await database_sync_to_async(services.cancel_document)(content.get("document"), self.owner)
        await self.send_json({"type": "document", "document": await database_sync_to_async(payload)(job)})

    async def document_update(self, event):
        await self.send_json({"type": "document", "document": event["document"]})
