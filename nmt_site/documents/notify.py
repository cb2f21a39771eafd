"""Pushing a document job's state to the pages watching it (its own Channels group, same mechanism as jobs)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from celery.exceptions import SoftTimeLimitExceeded
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def group_name(job_id) -> str:
    return f"document.{job_id}"


def publish_document(payload: dict) -> None:
    """Send a document's public state (DocumentJob.as_dict plus queue position). Never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(payload["id"]), {"type": "document.update", "document": payload})
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        log.warning("could not publish state of document %s", payload.get("id"), exc_info=True)
