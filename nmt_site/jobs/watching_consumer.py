"""The part every "watch my jobs over one socket" page shares (translate page, documents page).

A bad frame gets an error frame and the connection stays open (the base class would drop it); messages
are dispatched by their "type"; subscriptions are Channels groups, bounded per connection, and left
on disconnect. Subclasses say which groups to join and add their own message types.
"""

from __future__ import annotations

import json
import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .errors import JobRequestError
from .selectors import owner_from_scope

log = logging.getLogger(__name__)


class WatchingConsumer(AsyncJsonWebsocketConsumer):
    item = "job"  # the message key that names the watched object ("job", "document")
    # One page watches a handful of jobs; this bounds what a misbehaving client can make us hold.
    max_subscriptions = 200

    def group_for(self, item_id: str) -> str:
        raise NotImplementedError

    def handlers(self) -> dict:
        """Message type → coroutine taking the message; subclasses extend this."""
        return {"unsubscribe": self.on_unsubscribe, "ping": self.on_ping}

    async def connect(self):
        self.owner = owner_from_scope(self.scope)
        self.subscribed: set[str] = set()
        await self.accept()

    async def disconnect(self, code):
        for item_id in list(self.subscribed):
            await self.channel_layer.group_discard(self.group_for(item_id), self.channel_name)
        self.subscribed.clear()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
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
        handler = self.handlers().get(content.get("type"))
        if handler is None:
            await self.send_error("unknown_type", f"Unknown message type {content.get('type')!r}.", request_id)
            return
        try:
            await handler(content)
        except JobRequestError as exc:
            await self.send_error(exc.code, exc.message, request_id)
        except Exception:  # never let one message kill the page's socket
            log.exception("websocket message failed: %r", content.get("type"))
            await self.send_error("internal", "Something went wrong on the server.", request_id)

    async def join(self, item_id: str) -> None:
        """Join the item's group (ownership must be checked before). Join first, then read the state:
        an update landing in between arrives twice, never zero times."""
        if item_id in self.subscribed:
            return
        if len(self.subscribed) >= self.max_subscriptions:
            raise JobRequestError("too_many_subscriptions", f"This page watches too many {self.item}s; reload it.")
        await self.channel_layer.group_add(self.group_for(item_id), self.channel_name)
        self.subscribed.add(item_id)

    async def on_unsubscribe(self, content):
        item_id = str(content.get(self.item)).lower()
        if item_id in self.subscribed:
            self.subscribed.discard(item_id)
            await self.channel_layer.group_discard(self.group_for(item_id), self.channel_name)
        await self.send_json({"type": "unsubscribed", self.item: item_id})

    async def on_ping(self, content):
        await self.send_json({"type": "pong"})

    async def send_error(self, code: str, message: str, request_id=None):
        await self.send_json({"type": "error", "code": code, "message": message, "request_id": request_id})
