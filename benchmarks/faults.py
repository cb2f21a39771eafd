"""Text jobs and documents through the real queue while things break (run on demand; not part of the suite):
the worker's pool process is SIGKILLed every ``--kill-every`` finished jobs, Redis (a redis-server of this
script's own) is restarted once with submissions during the outage, and the whole worker is SIGKILLed once and
replaced by a worker with another node name. Production reliability settings (heartbeat 5 s, stale after 30 s,
sweep every 5 s) unless overridden in the environment. Writes JSON:

    .venv/bin/python benchmarks/faults.py --jobs 200 --documents 1 --sentences 400 [--out faults.json]

submitted / done / failed / stuck (still queued or running at the end) / lost (a submission without a row, or
answered with an error) / duplicated (more than one row for one submission, or a document segment counted twice)
and recovery times: a killed pool process's job claimed again, the dead worker's jobs claimed by the new worker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="nmt-faults-"))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'db.sqlite3'}"
os.environ["NMT_DOC_DIR"] = str(SCRATCH / "documents")
os.environ["NMT_VAR_DIR"] = str(SCRATCH)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmt_site.settings")
os.environ["NMT_QUEUE"] = f"cpu-faults-{os.getpid()}"
os.environ["NMT_BENCH_QUEUE"] = f"bench-faults-{os.getpid()}"
os.environ["ALLOWED_HOSTS"] = "testserver,localhost"

from tests.site.fault_rig import FaultRig  # noqa: E402  (needs nothing of Django)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=4, help="lines per text job")
    parser.add_argument("--documents", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=400, help="sentences per document")
    parser.add_argument("--kill-every", type=int, default=100, help="SIGKILL the pool process every N finished jobs")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    rig = FaultRig(
        SCRATCH / "rig",
        {
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "NMT_DOC_DIR": os.environ["NMT_DOC_DIR"],
            "NMT_QUEUE": os.environ["NMT_QUEUE"],
            "NMT_BENCH_QUEUE": os.environ["NMT_BENCH_QUEUE"],
            "NMT_WARM_ENGINES": "bergamot-en-pt",
        },
        [os.environ["NMT_QUEUE"], os.environ["NMT_BENCH_QUEUE"]],
    )
    rig.start_redis()
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = rig.url

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.test import Client

    from nmt_site.core.owner import Owner
    from nmt_site.documents import services as doc_services
    from nmt_site.documents.models import DocumentJob, Segment
    from nmt_site.jobs.models import TranslationJob

    def text(i: int) -> str:
        return "\n".join(f"Sentence {j} of job {i}: the cat sleeps on the green sofa." for j in range(args.lines))

    client = Client()
    answers: dict[int, int] = {}  # submission -> HTTP status
    outage_started = outage_seconds = None
    events: dict = {"pool_kills": [], "worker_kill": None}
    started = time.monotonic()
    rig.worker = rig.start_worker("faults-a@localhost", concurrency=1)
    docs = []

    def submit_documents() -> None:
        files = [
            (
                f"doc{d}.txt",
                "\n".join(
                    f"Line {i} of document {d}: the children play in the garden." for i in range(args.sentences)
                ).encode(),
            )
            for d in range(args.documents)
        ]
        docs.extend(
            doc_services.create_documents(owner=Owner("faults-bench"), files=files, translator="bergamot-en-pt")
        )

    def submit(i: int) -> None:
        resp = client.post(
            "/api/jobs",
            data=json.dumps({"text": text(i), "translator": "bergamot-en-pt"}),
            content_type="application/json",
        )
        answers[i] = resp.status_code

    def done_jobs() -> int:
        return TranslationJob.objects.filter(state="done").count()

    submitted = 0
    outage_at, worker_kill_at = args.jobs // 3, (2 * args.jobs) // 3
    next_kill = args.kill_every
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if submitted < args.jobs:  # trickle in, so faults overlap a live backlog
            for _ in range(min(20, args.jobs - submitted)):
                submit(submitted)
                submitted += 1
            if not docs and submitted >= min(args.jobs, 40):  # documents join a live backlog
                submit_documents()
        done = done_jobs()
        if done >= next_kill and done < args.jobs:
            victim = DocumentJob.objects.filter(state="running").exclude(worker="").first()
            victim = victim or TranslationJob.objects.filter(state="running").first()
            if victim is not None:
                pid = rig.kill_pool(rig.worker, int(victim.worker.rsplit("/", 1)[1]))
                events["pool_kills"].append({"job": str(victim.pk), "pid": pid, "at": time.monotonic()})
                next_kill += args.kill_every
        if outage_started is None and done >= outage_at:
            outage_started = time.monotonic()
            rig.stop_redis()
            for _ in range(10):  # submissions while the broker is down
                if submitted < args.jobs:
                    submit(submitted)
                    submitted += 1
            time.sleep(max(0.0, 4 - (time.monotonic() - outage_started)))
            rig.start_redis()
            outage_seconds = time.monotonic() - outage_started
        if events["worker_kill"] is None and done >= worker_kill_at:
            rig.kill_worker(rig.worker)
            killed_at = time.monotonic()
            running = list(TranslationJob.objects.filter(state="running").values_list("pk", flat=True))
            running += list(DocumentJob.objects.filter(state="running").values_list("pk", flat=True))
            events["worker_kill"] = {"at": killed_at, "running": [str(pk) for pk in running]}
            rig.worker = rig.start_worker("faults-b@localhost", concurrency=1)
        active = TranslationJob.objects.filter(state__in=("queued", "running")).count()
        active += DocumentJob.objects.filter(state__in=("queued", "running")).count()
        if submitted >= args.jobs and active == 0:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started

    def claimed_again(pk, after: float) -> float | None:
        """Seconds from the fault to the job's next claim (its started_at), from the rows."""
        row = TranslationJob.objects.filter(pk=pk).first() or DocumentJob.objects.filter(pk=pk).first()
        if row is None or row.attempts < 2 or row.started_at is None:
            return None
        wall_at_fault = time.time() - (time.monotonic() - after)
        return round(row.started_at.timestamp() - wall_at_fault, 2)

    jobs = list(TranslationJob.objects.all())
    by_text: dict[str, int] = {}
    for job in jobs:
        by_text[job.input_text] = by_text.get(job.input_text, 0) + 1
    doc_rows = list(DocumentJob.objects.filter(pk__in=[d.pk for d in docs]))
    doc_duplicated = sum(
        1
        for d in doc_rows
        if d.segments_done != Segment.objects.filter(job=d, translation__isnull=False).count()
        or d.segments_done > d.segments_total
    )
    report = {
        "setup": {
            "jobs": args.jobs,
            "lines_per_job": args.lines,
            "documents": args.documents,
            "sentences_per_document": args.sentences,
            "kill_every": args.kill_every,
            "stale_seconds": float(os.environ.get("NMT_STALE_SECONDS", "30")),
            "sweep_seconds": float(os.environ.get("NMT_SWEEP_SECONDS", "5")),
            "worker_concurrency": 1,
            "cpu_affinity": sorted(os.sched_getaffinity(0)),
        },
        "elapsed_seconds": round(elapsed, 1),
        "text_jobs": {
            "submitted": submitted,
            "answered": {
                str(k): v for k, v in sorted({s: list(answers.values()).count(s) for s in answers.values()}.items())
            },
            "done": sum(1 for j in jobs if j.state == "done"),
            "failed": sum(1 for j in jobs if j.state == "failed"),
            "stuck": sum(1 for j in jobs if j.state in ("queued", "running")),
            "lost": sum(1 for i in range(submitted) if text(i) not in by_text or answers.get(i) != 201),
            "duplicated": sum(n - 1 for n in by_text.values() if n > 1),
            "retried": sum(1 for j in jobs if j.attempts > 1),
            "max_attempts": max((j.attempts for j in jobs), default=0),
        },
        "documents": {
            "submitted": len(docs),
            "done": sum(1 for d in doc_rows if d.state == "done"),
            "failed": sum(1 for d in doc_rows if d.state == "failed"),
            "stuck": sum(1 for d in doc_rows if d.state in ("queued", "running")),
            "segments_lost": sum(d.segments_total - d.segments_done for d in doc_rows if d.state == "done"),
            "duplicated": doc_duplicated,
            "attempts": [d.attempts for d in doc_rows],
        },
        "faults": {
            "pool_kills": len(events["pool_kills"]),
            "redis_outage_seconds": round(outage_seconds, 1) if outage_seconds else None,
            "whole_worker_kills": 1 if events["worker_kill"] else 0,
        },
        "recovery_seconds": {
            "pool_kill_to_reclaim": [claimed_again(k["job"], k["at"]) for k in events["pool_kills"]],
            "worker_kill_to_reclaim": [
                claimed_again(pk, events["worker_kill"]["at"]) for pk in events["worker_kill"]["running"]
            ]
            if events["worker_kill"]
            else [],
        },
    }
    rig.close()
    out = json.dumps(report, indent=2)
    print(out)
    if args.out:
        Path(args.out).write_text(out + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
