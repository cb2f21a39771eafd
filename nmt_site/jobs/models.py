"""A translation job: one text, one translator, one trip through the queue.

State machine (all moves are conditional UPDATEs in services.py, never read-modify-write):

    queued ──► running ──► done
      │          │  ╰────► failed
      │          ╰───────► queued   (worker died: requeued by the startup sweep)
      ╰──────────┴───────► cancelled
"""

import uuid

from django.conf import settings
from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATES = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


class TranslationJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Ownership: the browser session that created the job, and the user when someone is logged in.
    owner_session = models.CharField(max_length=64, blank=True, db_index=True)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)

    source_lang = models.CharField(max_length=16)
    target_lang = models.CharField(max_length=16)
    translator = models.CharField(max_length=128)
    input_text = models.TextField()
    # Decoding options passed to the engine (checked against its decoding_defaults when the job is created).
    options = models.JSONField(default=dict, blank=True)
    # Refinement jobs run the engine's refinement_steps and publish every intermediate hypothesis.
    refine = models.BooleanField(default=False)
    # The intermediate hypotheses so far: a page that subscribes late still sees every step.
    refinement = models.JSONField(default=list, blank=True)

    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    output_text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # Lines translated so far / in total, for progress display.
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)

    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    model_seconds = models.FloatField(null=True, blank=True)
    # How many times a worker claimed the job; each claim bumps it, and only that claim may finish it.
    attempts = models.PositiveIntegerField(default=0)
    # "<celery hostname>/<pid>" of the process running it, so a restarted worker can find its orphans.
    worker = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [models.Index(fields=["state", "worker"])]

    def __str__(self):
        return f"{self.id} {self.translator} {self.state}"

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

    def as_dict(self) -> dict:
        """The public view of a job, as sent to the page over HTTP and the websocket."""
        return {
            "id": str(self.id),
            "state": self.state,
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "translator": self.translator,
            "options": self.options,
            "refine": self.refine,
            "input_chars": len(self.input_text),
            "output": self.output_text,
            "error": self.error,
            "progress": {"done": self.progress_done, "total": self.progress_total},
            "attempts": self.attempts,
            "queued_at": self.queued_at.isoformat() if self.queued_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "queue_seconds": self.queue_seconds,
            "model_seconds": self.model_seconds,
            "total_seconds": self.total_seconds,
        }
