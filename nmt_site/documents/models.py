"""A document job: one uploaded file, split into segments that are translated and stored one batch at a time.

Its lifecycle (states, attempts, heartbeat, recovery) is nmt_site.core's, shared with text jobs and benchmark
runs; a requeued document resumes after its stored segments.
"""

from django.db import models
from django.utils import timezone

from nmt_site.core.models import ACTIVE_STATES, FINISHED_STATES, OwnedWork, WorkState

JobState = WorkState

__all__ = ["ACTIVE_STATES", "FINISHED_STATES", "DocumentJob", "JobState", "Segment"]


class DocumentJob(OwnedWork):
    original_name = models.CharField(max_length=255)
    # UUID file names under NMT_DOC_DIR: never the uploaded name, never under a static root.
    stored_name = models.CharField(max_length=64)
    output_name = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=8)
    output_format = models.CharField(max_length=8)
    size_bytes = models.PositiveBigIntegerField(default=0)
    # Shown to the user, e.g. why a PDF comes back as .docx.
    notice = models.TextField(blank=True)

    source_lang = models.CharField(max_length=16)
    target_lang = models.CharField(max_length=16)
    translator = models.CharField(max_length=128)

    segments_total = models.PositiveIntegerField(default=0)
    segments_done = models.PositiveIntegerField(default=0)
    # Segments answered from the per-document cache (identical source text) instead of the engine.
    segments_cached = models.PositiveIntegerField(default=0)
    # segments_done when the current attempt started: the ETA uses only this attempt's rate.
    done_at_start = models.PositiveIntegerField(default=0)

    expires_at = models.DateTimeField(db_index=True)
    model_seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [models.Index(fields=["state", "worker"])]

    def __str__(self):
        return f"{self.id} {self.original_name} {self.state}"

    def eta_seconds(self, now=None) -> float | None:
        """Remaining time at this attempt's rate so far; None until there is a rate to go by."""
        if self.state != JobState.RUNNING or not self.started_at:
            return None
        done_now = self.segments_done - self.done_at_start
        if done_now <= 0:
            return None
        elapsed = ((now or timezone.now()) - self.started_at).total_seconds()
        if elapsed <= 0:
            return None
        return max(0.0, (self.segments_total - self.segments_done) * elapsed / done_now)

    def as_dict(self, queue_position: int | None = None) -> dict:
        return {
            **self.lifecycle_dict(),
            "kind": "document",
            "name": self.original_name,
            "format": self.format,
            "output_format": self.output_format,
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "translator": self.translator,
            "size_bytes": self.size_bytes,
            "notice": self.notice,
            "progress": {"done": self.segments_done, "total": self.segments_total, "cached": self.segments_cached},
            "eta_seconds": self.eta_seconds(),
            "queue_position": queue_position,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "model_seconds": self.model_seconds,
            "download_url": f"/api/documents/{self.id}/download" if self.state == JobState.DONE else None,
        }


class Segment(models.Model):
    """One sentence of the document. ``block`` is the structural unit (paragraph, cell, cue...) it belongs to,
    in the order the format's walker visits them; ``position`` orders segments across the document."""

    job = models.ForeignKey(DocumentJob, on_delete=models.CASCADE, related_name="segments")
    position = models.PositiveIntegerField()
    block = models.PositiveIntegerField()
    source = models.TextField()
    translation = models.TextField(null=True, blank=True)
    from_cache = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="segment_unique_position")]
        indexes = [models.Index(fields=["job", "translation"])]
