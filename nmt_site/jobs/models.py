"""A translation job: one text, one translator, one trip through the queue.

Its lifecycle (states, attempts, heartbeat, recovery) is nmt_site.core's, shared with document jobs and
benchmark runs; see nmt_site/core/models.py for the state machine.
"""

from django.db import models

from nmt_site.core.models import ACTIVE_STATES, FINISHED_STATES, OwnedWork, WorkState

JobState = WorkState

__all__ = ["ACTIVE_STATES", "FINISHED_STATES", "JobState", "TranslationJob"]


class TranslationJob(OwnedWork):
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

    output_text = models.TextField(blank=True)
    # Lines translated so far / in total, for progress display.
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # The job's share of its engine call's time: the whole call when it ran alone (see jobs/batching.py).
    model_seconds = models.FloatField(null=True, blank=True)
    # The engine call it was translated in, when batched with other jobs: {"jobs", "lines", "model_seconds"}.
    batch = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [models.Index(fields=["state", "worker"])]

    def __str__(self):
        return f"{self.id} {self.translator} {self.state}"

    def as_dict(self) -> dict:
        """The public view of a job, as sent to the page over HTTP and the websocket."""
        return {
            **self.lifecycle_dict(),
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "translator": self.translator,
            "options": self.options,
            "refine": self.refine,
            "input_chars": len(self.input_text),
            "output": self.output_text,
            "progress": {"done": self.progress_done, "total": self.progress_total},
            "queue_seconds": self.queue_seconds,
            "model_seconds": self.model_seconds,
            "batch": self.batch,
            "total_seconds": self.total_seconds,
        }
