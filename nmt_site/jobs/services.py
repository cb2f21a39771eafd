"""Everything that changes a job. Views, consumers and Celery tasks only call these functions.

Every state move is a conditional UPDATE (``.filter(state=..., attempts=...).update(...)``): whoever loses a
race, or a task that a broker redelivers after the job finished, changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from nmt_site.celery import app as celery_app
from translator.engine import EngineError, EngineInfo
from translator.registry import list_engines, load_engine

from .errors import JobNotFound, JobRequestError
from .models import ACTIVE_STATES, FINISHED_STATES, JobState, TranslationJob
from .notify import publish_job, publish_refinement
from .selectors import Owner, get_owned_job

log = logging.getLogger(__name__)

TRANSLATE_TASK = "workers.tasks.translate_job"
# Progress is pushed to the page at most this often, however small the chunks are.
PROGRESS_INTERVAL_SECONDS = 0.25


# --- creating jobs (web process) ---------------------------------------------------------------------------


def _require_str(value, field: str, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise JobRequestError(f"missing_{field}", f"'{field}' is required.")
        return None
    if not isinstance(value, str):
        raise JobRequestError(f"bad_{field}", f"'{field}' must be a string.")
    return value


def choose_translator(source_lang: str | None, target_lang: str | None, translator: str | None) -> EngineInfo:
    """The translator to use, checked against the registry; a clear JobRequestError otherwise."""
    infos = list_engines()
    if translator:
        info = next((i for i in infos if i.name == translator), None)
        if info is None:
            names = ", ".join(i.name for i in infos) or "none"
            raise JobRequestError("unknown_translator", f"Unknown translator '{translator}'. Available: {names}.")
        if (source_lang and source_lang != info.source_lang) or (target_lang and target_lang != info.target_lang):
            raise JobRequestError(
                "pair_mismatch",
                f"Translator '{translator}' translates {info.source_lang}→{info.target_lang}, "
                f"not {source_lang}→{target_lang}.",
            )
        return info
    if not (source_lang and target_lang):
        raise JobRequestError("missing_pair", "Choose a language pair (source_lang and target_lang) or a translator.")
    for info in infos:
        if info.source_lang == source_lang and info.target_lang == target_lang:
            return info
    pairs = ", ".join(sorted({i.pair for i in infos})) or "none"
    raise JobRequestError("unknown_pair", f"No translator for {source_lang}→{target_lang}. Available pairs: {pairs}.")


def validate_text(text) -> str:
    if text is None:
        raise JobRequestError("empty_text", "Type some text to translate.")
    if not isinstance(text, str):
        raise JobRequestError("bad_text", "'text' must be a string.")
    if not text.strip():
        raise JobRequestError("empty_text", "Type some text to translate.")
    limit = settings.NMT_MAX_CHARS
    if len(text) > limit:
        raise JobRequestError("too_long", f"The text has {len(text)} characters; the limit is {limit}.")
    return text


def validate_options(info: EngineInfo, options) -> dict:
    """Decoding options must be ones the engine declares, with plain scalar values."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise JobRequestError("bad_options", "'options' must be a JSON object of decoding settings.")
    unknown = sorted(set(options) - set(info.decoding_defaults))
    if unknown:
        accepted = ", ".join(sorted(info.decoding_defaults)) or "none"
        raise JobRequestError(
            "bad_options", f"Translator '{info.name}' does not accept option(s) {unknown}; it accepts: {accepted}."
        )
    for key, value in options.items():
        default = info.decoding_defaults[key]
        # bool is an int subclass: compare the exact kinds so "beam": true is refused.
        if isinstance(default, bool) != isinstance(value, bool) or not isinstance(value, (int, float, bool)):
            raise JobRequestError("bad_options", f"Option '{key}' must be like {default!r}.")
        if not isinstance(value, bool) and not (0 <= value <= 1000):
            raise JobRequestError("bad_options", f"Option '{key}' is out of range (0..1000).")
    return dict(options)


def create_job(
    *, owner: Owner, text, source_lang=None, target_lang=None, translator=None, options=None, refine=False
) -> TranslationJob:
    """Validate a request, store it as a queued job and enqueue it once the row is committed.

    ``refine`` asks the worker to publish every refinement iteration (mask-predict) as it is produced.
    """
    if not owner.known:
        raise JobRequestError("no_session", "This page has no session; reload it and try again.")
    source_lang = _require_str(source_lang, "source_lang", required=False)
    target_lang = _require_str(target_lang, "target_lang", required=False)
    translator = _require_str(translator, "translator", required=False)
    text = validate_text(text)
    info = choose_translator(source_lang, target_lang, translator)
    options = validate_options(info, options)
    with transaction.atomic():
        job = TranslationJob.objects.create(
            owner_session=owner.session_key or "",
            owner_user_id=owner.user_id,
            source_lang=info.source_lang,
            target_lang=info.target_lang,
            translator=info.name,
            input_text=text,
            options=options,
            refine=bool(refine),
            progress_total=len(split_lines(text)),
        )
        # Only the id travels through the broker, and only once the row exists for the worker to read.
        transaction.on_commit(lambda: enqueue_job(job.id))
    return job


def enqueue_job(job_id) -> None:
    # By task name, so the web process never imports the worker code (and its engines).
    celery_app.send_task(TRANSLATE_TASK, args=[str(job_id)], queue=settings.NMT_QUEUE)


def cancel_job(job_id, owner: Owner) -> TranslationJob:
    job = get_owned_job(job_id, owner)
    changed = TranslationJob.objects.filter(pk=job.pk, state__in=ACTIVE_STATES).update(
        state=JobState.CANCELLED, finished_at=timezone.now(), error="Cancelled."
    )
    job.refresh_from_db()
    if changed:
        publish_job(job)
    return job


# --- running jobs (worker process) -------------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Translate line by line so the output keeps the input's line and paragraph structure."""
    return text.split("\n")


def worker_name(hostname: str | None = None) -> str:
    return f"{hostname or socket.gethostname()}/{os.getpid()}"


def engine_device() -> str:
    # The registry speaks torch device names; the site speaks queue names.
    return "cuda" if settings.NMT_DEVICE == "gpu" else "cpu"


def _fail(job_id, attempt: int | None, reason: str) -> TranslationJob | None:
    qs = TranslationJob.objects.filter(pk=job_id)
    qs = qs.filter(state=JobState.RUNNING, attempts=attempt) if attempt else qs.filter(state__in=ACTIVE_STATES)
    if qs.update(state=JobState.FAILED, error=reason, finished_at=timezone.now()):
        job = TranslationJob.objects.get(pk=job_id)
        publish_job(job)
        return job
    return None


def fail_job(job_id, reason: str) -> TranslationJob | None:
    """Mark a job failed if it is still queued or running (a no-op for finished jobs)."""
    return _fail(job_id, None, reason)


def run_job(job_id, *, worker: str, load: Callable = load_engine) -> TranslationJob | None:
    """Run one delivery of the translate task. Safe to call any number of times for the same job."""
    job = TranslationJob.objects.filter(pk=job_id).first()
    if job is None:
        log.warning("job %s does not exist (deleted, or another database): nothing to do", job_id)
        return None
    if job.state in FINISHED_STATES:
        log.info("job %s is already %s: redelivery ignored", job_id, job.state)
        return job
    if job.attempts >= settings.NMT_MAX_ATTEMPTS:
        return _fail(
            job.pk,
            None,
            f"Gave up after {job.attempts} attempts: the worker running this job stopped each time "
            "(crash, out of memory or time limit).",
        )
    attempt = job.attempts + 1
    # Claim: queued, or running under an earlier attempt whose worker died (the broker only redelivers then).
    claimed = TranslationJob.objects.filter(pk=job.pk, state__in=ACTIVE_STATES, attempts=job.attempts).update(
        state=JobState.RUNNING, attempts=attempt, started_at=timezone.now(), worker=worker, error=""
    )
    if not claimed:
        log.info("job %s changed under us (cancelled or claimed elsewhere): skipping", job_id)
        return TranslationJob.objects.filter(pk=job.pk).first()
    job.refresh_from_db()
    publish_job(job)

    try:
        engine = load(job.translator, device=engine_device())
        run = _translate_refining if job.refine else _translate_resumable
        outcome = run(job, attempt, engine)
    except EngineError as exc:
        return _fail(job.pk, attempt, f"The translator refused the input: {exc}")
    except SoftTimeLimitExceeded:
        return _fail(job.pk, attempt, "The job ran past its time limit and was stopped; try a shorter text.")
    except Exception as exc:  # a bug or a broken model: the job must not stay running
        log.exception("job %s failed", job.pk)
        return _fail(job.pk, attempt, f"Internal error in the translator ({type(exc).__name__}).")
    if outcome is None:
        log.info("job %s was cancelled while running", job.pk)
        return TranslationJob.objects.filter(pk=job.pk).first()
    output, model_seconds = outcome
    TranslationJob.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=attempt).update(
        state=JobState.DONE,
        output_text=output,
        model_seconds=model_seconds,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    publish_job(job)
    return job


def _translate_resumable(job: TranslationJob, attempt: int, engine) -> tuple[str, float] | None:
    """Translate the job's lines in chunks, storing each chunk as it completes.

    A retry after a crash resumes after the last stored chunk. Returns None if the job stopped being ours
    (cancelled) between chunks.
    """
    lines = split_lines(job.input_text)
    done = min(job.progress_done, len(lines))
    outputs = job.output_text.split("\n")[:done] if done else []
    model_seconds = job.model_seconds or 0.0
    chunk = max(1, settings.NMT_CHUNK_LINES)
    last_publish = 0.0
    while done < len(lines):
        batch = lines[done : done + chunk]
        result = engine.translate_batch(batch, **job.options)
        # One output line per input line, always: a stray newline would shift every later line.
        outputs.extend(text.replace("\n", " ") for text in result.outputs)
        done += len(batch)
        model_seconds += result.model_seconds
        still_ours = TranslationJob.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=attempt).update(
            progress_done=done, progress_total=len(lines), output_text="\n".join(outputs), model_seconds=model_seconds
        )
        if not still_ours:
            return None
        now = time.monotonic()
        if done < len(lines) and now - last_publish >= PROGRESS_INTERVAL_SECONDS:
            last_publish = now
            job.refresh_from_db()
            publish_job(job)
    return "\n".join(outputs), model_seconds


def _translate_refining(job: TranslationJob, attempt: int, engine) -> tuple[str, float] | None:
    """Translate line by line through ``engine.refinement_steps``, publishing every iteration as it comes.

    Each step is stored on the row too, so a page that subscribes after the worker started still sees all
    of them. A retry starts over (refinement jobs are one short text, there is little to resume).
    """
    lines = split_lines(job.input_text)
    outputs: list[str] = []
    steps: list[dict] = []
    start = time.perf_counter()
    for number, line in enumerate(lines):
        if not line.strip():
            outputs.append("")
            continue
        text = ""
        for step in engine.refinement_steps(line.strip(), **job.options):
            text = step.text.replace("\n", " ")
            event = {
                "line": number,
                "iteration": step.iteration,
                "text": text,
                "masked": len(step.masked_positions),
                "masked_positions": list(step.masked_positions),
            }
            steps.append(event)
            still_ours = TranslationJob.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=attempt).update(
                refinement=steps
            )
            if not still_ours:
                return None
            publish_refinement(job.pk, event)
        outputs.append(text)
        TranslationJob.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=attempt).update(
            progress_done=number + 1, output_text="\n".join(outputs)
        )
    return "\n".join(outputs), time.perf_counter() - start


def recover_orphaned_jobs(hostname: str) -> list[str]:
    """At worker start: jobs left `running` by an earlier process of this worker node cannot still be running.

    Requeue them (the conditional claim in run_job makes a later broker redelivery harmless), or fail them
    once they used up their attempts. Returns the ids touched.
    """
    touched = []
    stale = TranslationJob.objects.filter(state=JobState.RUNNING, worker__startswith=f"{hostname}/")
    for job in stale:
        if job.attempts >= settings.NMT_MAX_ATTEMPTS:
            if _fail(job.pk, job.attempts, f"The worker stopped while running this job, {job.attempts} times."):
                touched.append(str(job.pk))
            continue
        requeued = TranslationJob.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(
            state=JobState.QUEUED, error="The worker stopped while running this job; it was queued again."
        )
        if requeued:
            touched.append(str(job.pk))
            publish_job(TranslationJob.objects.get(pk=job.pk))
            enqueue_job(job.pk)
    return touched


__all__ = [
    "JobNotFound",
    "JobRequestError",
    "cancel_job",
    "choose_translator",
    "create_job",
    "enqueue_job",
    "fail_job",
    "recover_orphaned_jobs",
    "run_job",
    "split_lines",
    "validate_options",
    "validate_text",
    "worker_name",
]
