"""`python manage.py benchmark`: queue a benchmark run (the bench worker measures it), optionally wait for it.

    python manage.py benchmark                       # the default benchmark of the shipped models
    python manage.py benchmark --if-none             # setup seeding, only when no run exists yet: imports the
                                                     # measurement shipped with the models, else queues the default
    python manage.py benchmark --import report.json  # store a `python -m translator evaluate` report as a run
    python manage.py benchmark --system bergamot-en-pt --system cmlm-en-de:iterations=4 \
        --test-set en-pt/libreoffice --limit 200 --threads 1 --wait
    python manage.py benchmark --inline ...          # measure in this process instead of the queue
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from nmt_site.dashboard import services
from nmt_site.dashboard.errors import BenchmarkRequestError
from nmt_site.dashboard.models import FINISHED_STATES


class Command(BaseCommand):
    help = "Queue a benchmark run (default: the shipped models on their held-out test sets)."

    def add_arguments(self, parser):
        parser.add_argument("--system", action="append", help="name or name:key=value,... (first per pair = baseline)")
        parser.add_argument("--test-set", action="append", help="e.g. en-pt/libreoffice")
        parser.add_argument("--limit", type=int, help="first N sentences of each test set")
        parser.add_argument("--threads", type=int)
        parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
        parser.add_argument("--bootstrap", type=int, help="bootstrap resamples (default 1000)")
        parser.add_argument("--latency-sentences", type=int)
        parser.add_argument("--label", default="")
        parser.add_argument(
            "--if-none",
            action="store_true",
            help="seed: only when no (non-failed) run exists; imports NMT_SHIPPED_BENCHMARKS if present",
        )
        parser.add_argument(
            "--import",
            dest="import_report",
            metavar="REPORT_JSON",
            help="store an evaluate report as a finished run (its own environment kept)",
        )
        parser.add_argument("--wait", action="store_true", help="wait until the run finishes")
        parser.add_argument("--inline", action="store_true", help="measure here, without the queue")

    def handle(self, *args, **opts):
        try:
            if opts["import_report"]:
                run = services.import_report(opts["import_report"], label=opts["label"])
                self.stdout.write(f"run {run.id}: imported {run.results.count()} results: {run.label}")
                return
            if opts["if_none"] and not opts["system"]:
                run = services.seed_default_run(settings.NMT_SHIPPED_BENCHMARKS, enqueue=not opts["inline"])
                if run is None:
                    self.stdout.write("a benchmark run exists already: nothing queued")
                    return
                if run.state == "done":
                    self.stdout.write(f"run {run.id}: seeded from the shipped measurement: {run.label}")
                    return
            elif opts["system"]:
                run = services.create_run(
                    {
                        "systems": opts["system"],
                        "test_sets": opts["test_set"],
                        "limit": opts["limit"],
                        "threads": opts["threads"],
                        "device": opts["device"],
                        "n_bootstrap": opts["bootstrap"],
                        "latency_sentences": opts["latency_sentences"],
                        "label": opts["label"],
                    },
                    enqueue=not opts["inline"],
                )
            else:
                run = services.create_default_run(enqueue=not opts["inline"])
        except BenchmarkRequestError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"benchmark run {run.id} queued: {run.label}")
        if opts["inline"]:
            run = services.run_benchmark(run.id, worker=services.worker_label("inline"))
            if run == services.BUSY:
                raise CommandError("another benchmark run is measuring now; run again when it has finished")
        elif opts["wait"]:
            while True:
                run.refresh_from_db()
                if run.state in FINISHED_STATES:
                    break
                self.stdout.write(f"  {run.state} {run.progress:4.0%} {run.progress_message}")
                time.sleep(2)
        self.stdout.write(f"run {run.id}: {run.state} {run.error}".rstrip())
        if run.state == "failed":
            raise CommandError(run.error)
