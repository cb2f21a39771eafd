"""Queued work: what text jobs, document jobs and benchmark runs share (the rows; the moves are in lifecycle.py).

State machine (every move is a conditional UPDATE in lifecycle.py, never read-modify-write):

    queued ──► running ──► done
      │          │  ╰────► failed     (an error, the time limit, or out of attempts)
      │          ╰───────► queued     (its worker died: requeued at the front by any living worker)
      ╰──────────┴───────► cancelled

A running row carries ``worker`` ("<celery node>/<pid>") and a ``heartbeat_at`` the running process refreshes;
a row whose heartbeat is stale, or whose process is gone, is dead and any worker takes it back.
"""

import uuid

from django.conf import settings
from django.db import models


class WorkState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATES = (WorkState.DONE, WorkState.FAILED, WorkState.CANCELLED)
ACTIVE_STATES = (WorkState.QUEUED, WorkState.RUNNING)


class QueuedWork(models.Model):
    state = models.CharField(max_length=16, choices=WorkState.choices, default=WorkState.QUEUED, db_index=True)
    error = models.TextField(blank=True)

    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # How many times a worker claimed it; each claim bumps it, and only that claim may move it on.
    attempts = models.PositiveIntegerField(default=0)
    # "<celery node>/<pid>" of the process running it; empty between two deliveries of one attempt.
    worker = models.CharField(max_length=255, blank=True)
    # Refreshed by the running process (lifecycle.heartbeat); stale = its process is gone.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery queue it goes to, and when a message for it last reached the broker (None: not yet).
    queue = models.CharField(max_length=64, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def queue_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.started_at - self.queued_at).total_seconds()

    @property
    def total_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.queued_at).total_seconds()

    def lifecycle_dict(self) -> dict:
        """The lifecycle part of every kind's public view."""
        return {
            "id": str(self.pk),
            "state": self.state,
            "error": self.error,
            "attempts": self.attempts,
            "queued_at": self.queued_at.isoformat() if self.queued_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class OwnedWork(QueuedWork):
    """Queued work that belongs to a browser session (or API pseudo-session), and to a user when logged in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_session = models.CharField(max_length=64, blank=True, db_index=True)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        abstract = True
