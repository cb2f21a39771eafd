"""The part every "watch my jobs over one socket" page shares (translate page, documents page).

A bad frame gets an error frame and the connection stays open (the base class would drop it); messages
are dispatched by their "type"; subscriptions are Channels groups, bounded per connection, and left
on disconnect. Subclasses say which groups to join and add their own message types.
"""

from __future__ import annotations

import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from nmt_site.core import jsontext

from .errors import JobRequestError
from .selectors import owner_from_scope

log = logging.getLogger(__name__)


# Close code for a message over the limit: 1009 ("message too big") is reserved to the protocol layer (autobahn,
# under daphne, refuses to send it from an application), so the application range's 4000 + 1009.
TOO_BIG_CLOSE_CODE = 4009


async def close_if_too_big(consumer, text_data: str) -> bool:
    """An error frame saying why, then close (4009) for a message over NMT_WS_MAX_MESSAGE_BYTES; True when it did."""
    limit = settings.NMT_WS_MAX_MESSAGE_BYTES
    if len(text_data) <= limit // 4 or len(text_data.encode("utf-8", "surrogatepass")) <= limit:
        return False
    message = f"Messages are limited to {limit} bytes; this one was closed unread."
    await consumer.send_json({"type": "error", "code": "too_big", "message": message, "request_id": None})
    await consumer.close(code=TOO_BIG_CLOSE_CODE, reason=f"message larger than {limit} bytes")
    return True


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
        if await close_if_too_big(self, text_data):
            return
        try:
            content = jsontext.loads(text_data)
        except jsontext.BadJson as exc:
            await self.send_error("bad_json", exc.message.replace("The body", "The message"))
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_error("bad_message", "Send a JSON object with a 'type'.")
            return
        request_id = content.get("request_id")
        kind = content.get("type")
        # Only a string can name a handler (a dict or list here is unhashable: it must not reach the lookup).
        handler = self.handlers().get(kind) if isinstance(kind, str) else None
        if handler is None:
            shown = kind if isinstance(kind, str | int | float | bool | None) else type(kind).__name__
            await self.send_error("unknown_type", f"Unknown message type {shown!r}."[:200], request_id)
            return
        try:
            await handler(content)
        except JobRequestError as exc:
            await self.send_error(exc.code, exc.message, request_id)
        except Exception:  # never let one message kill the page's socket
            log.exception("websocket message failed: %r", content.get("type"))
            await self.send_error("internal", "Something went wrong on the server.", request_id)

    def ensure_room(self) -> None:
        """Before creating work this socket will watch: refuse while it watches the most it may (the work
        would otherwise be created and run for nobody)."""
        if len(self.subscribed) >= self.max_subscriptions:
            raise JobRequestError("too_many_subscriptions", f"This page watches too many {self.item}s; reload it.")

    async def join(self, item_id: str) -> None:
        """Join the item's group (ownership must be checked before). Join first, then read the state:
        an update landing in between arrives twice, never zero times."""
        if item_id in self.subscribed:
            return
        self.ensure_room()
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
