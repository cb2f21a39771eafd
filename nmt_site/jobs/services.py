"""Everything that changes a text job. Views, consumers and Celery tasks only call these functions.

The lifecycle (submit, claim, heartbeat, finish, fail, cancel, recover, publish) is nmt_site.core.lifecycle's,
the same for documents and benchmark runs; this module adds what is particular to a text: validating the
request and translating it line by line in chunks, storing each chunk so a retry resumes after it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction

from nmt_site.core import admission, lifecycle
from nmt_site.core.admission import Caller
from nmt_site.core.jsontext import has_lone_surrogate
from nmt_site.core.lifecycle import worker_name
from nmt_site.core.owner import Owner
from nmt_site.core.translators import choose_translator, validate_options
from translator.engine import EngineError
from translator.registry import load_engine

from . import batching
from .errors import JobNotFound, JobRequestError
from .kind import KIND, TRANSLATE_TASK
from .models import JobState, TranslationJob
from .notify import publish_job, publish_refinement
from .selectors import get_owned_job

log = logging.getLogger(__name__)

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


def validate_text(text, limit: int | None = None) -> str:
    """A text to translate; ``limit`` characters at most (None: NMT_MAX_CHARS, 0: checked by the caller)."""
    if text is None:
        raise JobRequestError("empty_text", "Type some text to translate.")
    if not isinstance(text, str):
        raise JobRequestError("bad_text", "'text' must be a string.")
    if not text.strip():
        raise JobRequestError("empty_text", "Type some text to translate.")
    if has_lone_surrogate(text):
        raise JobRequestError("bad_text", "The text contains an unpaired UTF-16 surrogate, which is not a character.")
    limit = settings.NMT_MAX_CHARS if limit is None else limit
    if limit and len(text) > limit:
        raise JobRequestError("too_long", f"The text has {len(text)} characters; the limit is {limit}.")
    return text


def create_job(
    *,
    owner: Owner,
    text,
    source_lang=None,
    target_lang=None,
    translator=None,
    options=None,
    refine=False,
    caller: Caller | None = None,
    char_limit: int | None = None,
) -> TranslationJob:
    """Validate a request, store it as a queued job and enqueue it once the row is committed.

    ``refine`` asks the worker to publish every refinement iteration (mask-predict) as it is produced.
    ``caller`` (from a request) must pass the site's limits first; a refused request creates no job.
    ``char_limit`` overrides NMT_MAX_CHARS for a caller that counted the characters itself (the
    LibreTranslate API joins array items into one job's lines; its limit counts the items, not the joins).
    """
    if not owner.known:
        raise JobRequestError("no_session", "This page has no session; reload it and try again.")
    source_lang = _require_str(source_lang, "source_lang", required=False)
    target_lang = _require_str(target_lang, "target_lang", required=False)
    translator = _require_str(translator, "translator", required=False)
    text = validate_text(text, char_limit)
    info = choose_translator(source_lang, target_lang, translator)
    options = validate_options(info, options)
    admission.admit(caller, owner=owner, chars=len(text))
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
            queue=KIND.queue(),
        )
        # Only the id travels through the broker, once the row exists for the worker to read. A broker that is
        # down does not fail the request: the job is accepted and the sweeper sends it when the broker is back.
        lifecycle.submit(KIND, job)
    return job


def enqueue_job(job_id) -> bool:
    """Send a stored job to its queue (by task name: the web process never imports the worker code)."""
    return lifecycle.enqueue(KIND, job_id)


def cancel_job(job_id, owner: Owner) -> TranslationJob:
    job = get_owned_job(job_id, owner)
    return lifecycle.cancel(KIND, job.pk)


# --- running jobs (worker process) -------------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Translate line by line so the output keeps the input's line and paragraph structure."""
    return batching.split_lines(text)


def fail_job(job_id, reason: str) -> TranslationJob | None:
    """Mark a job failed if it is still queued or running (a no-op for finished jobs)."""
    return lifecycle.fail(KIND, job_id, None, reason)


def run_job(job_id, *, worker: str, load: Callable = load_engine) -> TranslationJob | None:
    """Run one delivery of the translate task. Safe to call any number of times for the same job.

    A small job is translated in one batch with the other small jobs waiting for the same engine (batching.py);
    a long one in chunks, serving the waiting small jobs between two chunks; a refinement job streams its steps."""
    claim = lifecycle.claim(KIND, job_id, worker)
    if not claim.ok:
        return claim.obj
    job, attempt = claim.obj, claim.attempt
    if batching.is_small(job):
        batching.run_small(job, attempt, worker, load)
        return TranslationJob.objects.filter(pk=job.pk).first()
    try:
        with lifecycle.heartbeat(KIND, job.pk, attempt):
            engine = batching.engine_for(job.translator, load)
            if job.refine:
                outcome = _translate_refining(job, attempt, engine)
            else:
                outcome = _translate_resumable(job, attempt, engine, serve=lambda: _serve(job, worker, load))
    except Exception as exc:  # the job must not stay running, whatever went wrong
        if not isinstance(exc, (EngineError, SoftTimeLimitExceeded)):
            log.exception("job %s failed", job.pk)
        return lifecycle.fail(KIND, job.pk, attempt, batching.failure_reason(exc))
    if outcome is None:
        log.info("job %s was cancelled or taken over while running", job.pk)
        return TranslationJob.objects.filter(pk=job.pk).first()
    output, model_seconds = outcome
    lifecycle.finish(KIND, job.pk, attempt, output_text=output, model_seconds=model_seconds)
    return TranslationJob.objects.filter(pk=job.pk).first()


def _serve(job: TranslationJob, worker: str, load: Callable) -> None:
    """Between two chunks of a long job: one batch of the small jobs waiting on its queue."""
    served = batching.serve_waiting(job.queue, worker, load)
    if served:
        log.info("job %s let %d small job(s) through between two chunks", job.pk, served)


def _translate_resumable(
    job: TranslationJob, attempt: int, engine, serve: Callable[[], None] = lambda: None
) -> tuple[str, float] | None:
    """Translate the job's lines in chunks, storing each chunk as it completes, and call ``serve`` between two.

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
        still_ours = lifecycle.still_ours(
            KIND,
            job.pk,
            attempt,
            progress_done=done,
            progress_total=len(lines),
            output_text="\n".join(outputs),
            model_seconds=model_seconds,
        )
        if not still_ours:
            return None
        now = time.monotonic()
        if done < len(lines) and now - last_publish >= PROGRESS_INTERVAL_SECONDS:
            last_publish = now
            job.refresh_from_db()
            publish_job(job)
        if done < len(lines):
            serve()
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
            if not lifecycle.still_ours(KIND, job.pk, attempt, refinement=steps):
                return None
            publish_refinement(job.pk, event)
        outputs.append(text)
        lifecycle.still_ours(KIND, job.pk, attempt, progress_done=number + 1, output_text="\n".join(outputs))
    return "\n".join(outputs), time.perf_counter() - start


__all__ = [
    "KIND",
    "TRANSLATE_TASK",
    "JobNotFound",
    "JobState",
    "Owner",
    "JobRequestError",
    "cancel_job",
    "choose_translator",
    "create_job",
    "enqueue_job",
    "fail_job",
    "run_job",
    "split_lines",
    "validate_options",
    "validate_text",
    "worker_name",
]
