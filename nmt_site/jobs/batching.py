"""Dynamic batching: concurrent small text jobs for the same engine and options go through one engine call.

An engine translates 32 sentences in one call several times faster than in 32 calls (a torch model runs one padded
batch; the AR teacher gains the most), so a worker that takes one job per task would leave most of that on the
table under load. The batcher lives in the task, on top of the one lifecycle (nmt_site.core.lifecycle):

- the task claims its own job as usual; if the job is small (``NMT_BATCH_JOB_CHARS`` characters and
  ``NMT_CHUNK_LINES`` lines at most, no refinement stream), it also claims queued small jobs of the same queue,
  engine and options, oldest first, up to ``NMT_BATCH_MAX_LINES`` lines, and when the batch is not full waits up to
  ``NMT_BATCH_WINDOW_MS`` for more to arrive. Each claim is the lifecycle's conditional claim, so every job still
  moves queued → running → done on its own and its page is told each time, exactly as when it runs alone;
- one engine call translates every line; each job gets its own lines back and a share of the call's time
  proportional to its characters (``model_seconds``; the whole call is in ``batch``), and is finished with its own
  conditional update: a job cancelled meanwhile stays cancelled and the others finish;
- if the call fails, each job is translated alone, so one job's bad line fails that job only;
- the task returns (and its message is acknowledged, acks_late) only after every job of the batch is stored. The
  messages of the jobs it took along stay in the broker: delivered later, they find the job done and do nothing; if
  the process dies mid-batch they wake a worker for a job the lifecycle has taken back (``recover_process``, the
  sweeper), so each job still finishes exactly once;
- a long job runs in chunks as before, and between two chunks the task serves one batch of the small jobs waiting
  on its queue (any engine), so one huge text never holds the small ones up for more than a chunk.

Why not celery-batches: it buffers messages in the worker's main process and needs a prefetch of at least the batch
size on the whole worker, which would take the long jobs and documents out of Redis's priority lists (work taken
back from a dead worker would no longer go first) and strand them behind a busy process while other workers idle;
its flush runs on a repeating timer rather than a window opened by the first job, batches by task name rather than
by engine and options, and a killed batch reaches the lifecycle's hook as one anonymous task instead of its jobs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models.functions import Length

from nmt_site.core import lifecycle
from nmt_site.core.engine_status import wait_until_warm
from nmt_site.core.models import WorkState
from nmt_site.core.translators import engine_device
from translator.engine import EngineError

from .kind import KIND
from .models import TranslationJob

log = logging.getLogger(__name__)


@dataclass
class Member:
    """A claimed job in a batch: its row, its attempt and its lines."""

    job: TranslationJob
    attempt: int
    lines: list[str]

    @classmethod
    def of(cls, job: TranslationJob, attempt: int) -> Member:
        return cls(job, attempt, split_lines(job.input_text))


def split_lines(text: str) -> list[str]:
    """Translate line by line so the output keeps the input's line and paragraph structure."""
    return text.split("\n")


def failure_reason(exc: BaseException) -> str:
    """What a user is told when the engine call for their text failed."""
    if isinstance(exc, EngineError):
        return f"The translator refused the input: {exc}"
    if isinstance(exc, SoftTimeLimitExceeded):
        return "The job ran past its time limit and was stopped; try a shorter text."
    return f"Internal error in the translator ({type(exc).__name__})."


def engine_for(name: str, load: Callable) -> object:
    """The engine, once this process's background warm-up of it (if any) has ended."""
    wait_until_warm(name)
    return load(name, device=engine_device())


def is_small(job: TranslationJob) -> bool:
    return (
        not job.refine
        and len(job.input_text) <= settings.NMT_BATCH_JOB_CHARS
        and len(split_lines(job.input_text)) <= max(1, settings.NMT_CHUNK_LINES)
    )


def _options_key(options) -> str:
    return json.dumps(options or {}, sort_keys=True)


def small_queued(queue: str, translator: str | None = None):
    """Queued small jobs of ``queue`` (of one translator when given), oldest first: what a batch may take."""
    jobs = (
        TranslationJob.objects.filter(
            state=WorkState.QUEUED, queue=queue, refine=False, progress_total__lte=max(1, settings.NMT_CHUNK_LINES)
        )
        .annotate(chars=Length("input_text"))
        .filter(chars__lte=settings.NMT_BATCH_JOB_CHARS)
    )
    if translator is not None:
        jobs = jobs.filter(translator=translator)
    return jobs.order_by("queued_at")


def gather(head: Member, members: list[Member], worker: str) -> None:
    """Claim queued small jobs with the head's queue, engine and options into ``members`` while lines fit."""
    room = settings.NMT_BATCH_MAX_LINES - sum(len(m.lines) for m in members)
    if room <= 0:
        return
    key = _options_key(head.job.options)
    taken = {m.job.pk for m in members}
    wanted = []
    for pk, options, lines in small_queued(head.job.queue, head.job.translator).values_list(
        "pk", "options", "progress_total"
    )[: settings.NMT_BATCH_MAX_LINES]:
        lines = max(1, lines)
        if pk in taken or _options_key(options) != key or lines > room:
            continue
        wanted.append(pk)
        room -= lines
        if room <= 0:
            break
    # One conditional UPDATE for all of them; a job cancelled or claimed elsewhere meanwhile is simply not taken.
    claims = lifecycle.claim_many(KIND, wanted, worker)
    lifecycle.withdraw(head.job.queue, [claim.obj.pk for claim in claims])
    members.extend(Member.of(claim.obj, claim.attempt) for claim in claims)


def run_small(job: TranslationJob, attempt: int, worker: str, load: Callable) -> None:
    """The task's own small job: gather a batch around it (waiting up to the window) and run it."""
    head = Member.of(job, attempt)
    members = [head]
    deadline = time.monotonic() + settings.NMT_BATCH_WINDOW_MS / 1000
    gather(head, members, worker)
    remaining = deadline - time.monotonic()
    if remaining > 0 and sum(len(m.lines) for m in members) < settings.NMT_BATCH_MAX_LINES:
        time.sleep(remaining)
        gather(head, members, worker)
    run_batch(members, load)


def serve_waiting(queue: str, worker: str, load: Callable) -> int:
    """Between two chunks of a long job: run one batch of the small jobs waiting on ``queue`` (the oldest one's
    engine and options). How many jobs it ran."""
    for candidate in small_queued(queue).only("pk")[:8]:
        claim = lifecycle.claim(KIND, candidate.pk, worker)
        if claim.ok:
            lifecycle.withdraw(queue, [candidate.pk])
            head = Member.of(claim.obj, claim.attempt)
            members = [head]
            gather(head, members, worker)
            run_batch(members, load)
            return len(members)
    return 0


def run_batch(members: list[Member], load: Callable) -> None:
    """Translate every member's lines in one engine call and finish each member on its own; if the call fails,
    translate each member alone so that only the one whose input is at fault fails."""
    head = members[0]
    attempts = {m.job.pk: m.attempt for m in members}
    lines = [line for m in members for line in m.lines]
    try:
        with lifecycle.heartbeat.many(KIND, attempts):
            engine = engine_for(head.job.translator, load)
            result = engine.translate_batch(lines, **head.job.options)
    except SoftTimeLimitExceeded as exc:
        for m in members:
            lifecycle.fail(KIND, m.job.pk, m.attempt, failure_reason(exc))
        return
    except Exception as exc:
        if len(members) == 1:
            if not isinstance(exc, EngineError):
                log.exception("job %s failed", head.job.pk)
            lifecycle.fail(KIND, head.job.pk, head.attempt, failure_reason(exc))
            return
        log.warning("a batch of %d jobs failed (%s); translating each alone", len(members), exc)
        for m in members:
            run_batch([m], load)
        return
    chars = [sum(len(line) for line in m.lines) or 1 for m in members]
    batch = {"jobs": len(members), "lines": len(lines), "model_seconds": result.model_seconds}
    finished, start = [], 0
    for m, weight in zip(members, chars, strict=True):
        outputs = result.outputs[start : start + len(m.lines)]
        start += len(m.lines)
        fields = {
            # One output line per input line, always: a stray newline would shift every later line.
            "output_text": "\n".join(text.replace("\n", " ") for text in outputs),
            "model_seconds": result.model_seconds * weight / sum(chars),
            "progress_done": len(m.lines),
            "progress_total": len(m.lines),
            "batch": batch if len(members) > 1 else {},
        }
        finished.append((m.job.pk, m.attempt, fields))
    lifecycle.finish_many(KIND, finished)  # one transaction; each job conditional on still being this attempt's
    if len(members) > 1:
        log.info(
            "batch of %d jobs (%d lines) on %s in %.1f ms",
            len(members),
            len(lines),
            head.job.translator,
            result.model_seconds * 1000,
        )
