"""Pushing a document job's state to the pages watching it (its own Channels group, same mechanism as jobs)."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from channels.layers import get_channel_layer

from nmt_site.core.group_send import group_send

log = logging.getLogger(__name__)


def group_name(job_id) -> str:
    return f"document.{job_id}"


def publish_document(payload: dict) -> None:
    """Send a document's public state (DocumentJob.as_dict plus queue position). Never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        group_send(group_name(payload["id"]), {"type": "document.update", "document": payload})
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        log.warning("could not publish state of document %s", payload.get("id"), exc_info=True)
