"""Pushing job state to the pages that watch it, through the Channels group of that job."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from channels.layers import get_channel_layer

from nmt_site.core.group_send import group_send

log = logging.getLogger(__name__)


def group_name(job_id) -> str:
    # Channels group names allow ASCII letters, digits, hyphens and periods: a UUID fits.
    return f"job.{job_id}"


def publish_job(job) -> None:
    """Send the job's current public state to its group. Never fails the caller: the page can re-read the DB."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        group_send(group_name(job.id), {"type": "job.update", "job": job.as_dict()})
    except SoftTimeLimitExceeded:
        raise  # the task's time limit, not a publishing problem: the job must stop
    except Exception:  # Redis down or slow: the job itself must go on; pages fall back to fetching state
        log.warning("could not publish state of job %s", job.id, exc_info=True)


def publish_refinement(job_id, step: dict) -> None:
    """One intermediate hypothesis of a refinement job; best effort like publish_job (steps are also stored)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        group_send(group_name(job_id), {"type": "job.refinement", "job": str(job_id), "step": step})
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        log.warning("could not publish a refinement step of job %s", job_id, exc_info=True)
