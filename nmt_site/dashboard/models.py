"""A benchmark run (settings → one trip through the `bench` queue → stored results) and its result rows.

Its lifecycle is nmt_site.core's, shared with text and document jobs, except that a run is never resumed:
a half-measured run is not comparable, so a dead attempt is failed with the reason (Kind.resumable=False).
"""

import uuid

from django.db import models

from nmt_site.core.models import ACTIVE_STATES, FINISHED_STATES, QueuedWork, WorkState

RunState = WorkState

__all__ = ["ACTIVE_STATES", "FINISHED_STATES", "BenchmarkResult", "BenchmarkRun", "RunState", "SegmentOutputs"]


class BenchmarkRun(QueuedWork):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    label = models.CharField(max_length=200, blank=True)
    # "default" = the shipped-models benchmark (seeded at setup), "user" = started from page/API/CLI.
    kind = models.CharField(max_length=16, default="user", db_index=True)
    # What was asked: {"systems": [{"translator", "options"}], "test_sets": [...], "limit", "threads",
    # "latency_sentences", "n_bootstrap", "prepare_data"}.
    settings = models.JSONField(default=dict)
    device = models.CharField(max_length=8, default="cpu")
    threads = models.PositiveSmallIntegerField(default=1)

    progress = models.FloatField(default=0.0)  # 0..1
    progress_message = models.CharField(max_length=300, blank=True)
    environment = models.JSONField(default=dict, blank=True)
    protocol = models.TextField(blank=True)
    baselines = models.JSONField(default=dict, blank=True)  # pair -> label of the baseline system

    queued_at = models.DateTimeField(auto_now_add=True, db_index=True)  # the run list is ordered by it

    class Meta:
        ordering = ["-queued_at"]

    def __str__(self):
        return f"{self.id} {self.label} {self.state}"

    def as_dict(self) -> dict:
        return {
            **self.lifecycle_dict(),
            "label": self.label,
            "kind": self.kind,
            "progress": round(self.progress, 4),
            "progress_message": self.progress_message,
            "settings": self.settings,
            "device": self.device,
            "threads": self.threads,
            "environment": self.environment,
            "baselines": self.baselines,
        }


class BenchmarkResult(models.Model):
    """One system on one test set: the numbers of translator.evaluate's report, flattened for tables and plots."""

    run = models.ForeignKey(BenchmarkRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField(default=0)  # order of systems as asked (baseline first per pair)
    system = models.CharField(max_length=300)  # label, e.g. "cmlm-en-de iterations=4"
    translator = models.CharField(max_length=128)
    family = models.CharField(max_length=8)  # AR / NAR
    architecture = models.CharField(max_length=128, blank=True)
    options = models.JSONField(default=dict)  # as asked
    decoding = models.JSONField(default=dict)  # effective (defaults + options): iterations, length beam, ...
    is_baseline = models.BooleanField(default=False)
    test_set = models.CharField(max_length=200)
    test_sha256 = models.CharField(max_length=64, blank=True)
    sentences = models.PositiveIntegerField(default=0)

    bleu = models.FloatField()
    bleu_ci_low = models.FloatField()
    bleu_ci_high = models.FloatField()
    bleu_p = models.FloatField(null=True)
    bleu_signature = models.CharField(max_length=300)
    chrf = models.FloatField()
    chrf_ci_low = models.FloatField()
    chrf_ci_high = models.FloatField()
    chrf_p = models.FloatField(null=True)
    chrf_signature = models.CharField(max_length=300)

    latency_p50_ms = models.FloatField()
    latency_p95_ms = models.FloatField()
    latency_mean_ms = models.FloatField()
    latency_sentences = models.PositiveIntegerField(default=0)
    throughput16_sps = models.FloatField()
    throughput16_wps = models.FloatField()
    throughput64_sps = models.FloatField()
    throughput64_wps = models.FloatField()
    repeated_token_rate = models.FloatField()
    peak_memory_mb = models.FloatField(null=True)
    parameters = models.BigIntegerField(null=True)
    model_size_mb = models.FloatField(null=True)
    speedups = models.JSONField(default=dict)  # AR label -> {latency_p50, throughput_16, throughput_64}
    length_buckets = models.JSONField(default=dict)  # bucket -> {sentences, bleu, latency_p50_ms}

    class Meta:
        ordering = ["run", "test_set", "position"]
        indexes = [models.Index(fields=["run", "test_set"])]


class SegmentOutputs(models.Model):
    """Sources, references and every system's outputs of one test set in one run, for the drill-down."""

    run = models.ForeignKey(BenchmarkRun, on_delete=models.CASCADE, related_name="segments")
    test_set = models.CharField(max_length=200)
    sources = models.JSONField(default=list)
    references = models.JSONField(default=list)
    outputs = models.JSONField(default=dict)  # system label -> list of outputs

    class Meta:
        unique_together = [("run", "test_set")]
