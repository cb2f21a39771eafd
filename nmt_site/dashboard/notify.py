"""Pushing a run's state to the pages watching it: its own Channels group, and the overview's group."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from channels.layers import get_channel_layer

from nmt_site.core.group_send import group_send

log = logging.getLogger(__name__)

ALL_RUNS_GROUP = "bench.all"


def group_name(run_id) -> str:
    return f"bench.{run_id}"


def publish_run(run) -> None:
    """Never fails the caller: a page that missed a push re-reads the run over HTTP."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "run.update", "run": run.as_dict()}
    try:
        for group in (group_name(run.id), ALL_RUNS_GROUP):
            group_send(group, message)
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # Redis down: the measurement goes on
        log.warning("could not publish state of benchmark run %s", run.id, exc_info=True)
