"""Prometheus metrics: request counts and latency (this process), plus queue, job and model figures read
from Redis and the database at scrape time (so every web process reports the same, whichever is scraped).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import Count, Sum
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REGISTRY = CollectorRegistry()
REQUESTS = Counter("nmt_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "nmt_http_request_seconds",
    "HTTP request latency",
    ["route"],
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def _model(path: str):
    from django.apps import apps

    try:
        return apps.get_model(path)
    except LookupError:
        return None


class StateCollector:
    """Queue depth per Celery queue, jobs by state, model time per engine."""

    def collect(self):
        from nmt_site.core.lifecycle import queue_keys
        from nmt_site.jobs.models import TranslationJob

        from .redis_client import client

        depth = GaugeMetricFamily("nmt_queue_depth", "Messages waiting in each Celery queue", labels=["queue"])
        try:
            redis_client = client()
            for queue in settings.CELERY_TASK_QUEUES:
                depth.add_metric([queue.name], sum(redis_client.llen(key) for key in queue_keys(queue.name)))
        except Exception:  # Redis down: the scrape still answers; the missing series tells the story
            pass
        yield depth
        jobs = GaugeMetricFamily("nmt_jobs", "Translation jobs by state", labels=["state"])
        for row in TranslationJob.objects.values("state").annotate(n=Count("pk")):
            jobs.add_metric([row["state"]], row["n"])
        yield jobs
        # Documents and benchmark runs are jobs too, in their own apps (absent apps are simply not reported).
        for metric, model_path, text in (
            ("nmt_document_jobs", "documents.DocumentJob", "Document jobs by state"),
            ("nmt_benchmark_runs", "dashboard.BenchmarkRun", "Benchmark runs by state"),
        ):
            model = _model(model_path)
            if model is None:
                continue
            family = GaugeMetricFamily(metric, text, labels=["state"])
            for row in model.objects.values("state").annotate(n=Count("pk")):
                family.add_metric([row["state"]], row["n"])
            yield family
        model = GaugeMetricFamily(
            "nmt_model_seconds_total", "Model time spent per engine (finished jobs)", labels=["engine"]
        )
        model_jobs = GaugeMetricFamily("nmt_engine_jobs_total", "Finished jobs per engine", labels=["engine"])
        rows = (
            TranslationJob.objects.filter(model_seconds__isnull=False)
            .values("translator")
            .annotate(s=Sum("model_seconds"), n=Count("pk"))
        )
        for row in rows:
            model.add_metric([row["translator"]], row["s"] or 0.0)
            model_jobs.add_metric([row["translator"]], row["n"])
        yield model
        yield model_jobs


REGISTRY.register(StateCollector())


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every request by its URL pattern (not the raw path: job ids would explode the label set)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - start)
        return response
