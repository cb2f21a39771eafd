"""Everything that changes a document job. Views, consumers, tasks and commands only call these functions.

The lifecycle (submit, claim, heartbeat, finish, fail, cancel, recover, publish) is nmt_site.core.lifecycle's,
the same for text jobs and benchmark runs: a cancelled job, a redelivered task or a second worker never
overwrites work that is not theirs. Each batch of segment translations is stored in the
same transaction as the progress counter, and only while the job is still running under this attempt, so a
worker killed at any moment loses at most the batch it was computing and never stores one twice.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from nmt_site.core import admission, lifecycle
from nmt_site.core.lifecycle import worker_name
from nmt_site.core.translators import choose_translator, engine_device
from nmt_site.jobs.batching import serve_waiting
from translator.engine import EngineError
from translator.registry import load_engine
from translator.sentences import split_sentences

from . import storage
from .errors import DocumentError, FileTooLarge, JobRequestError, NotReady
from .formats import by_name, handler_for
from .formats.base import FormatHandler
from .models import FINISHED_STATES, DocumentJob, JobState, Segment
from .notify import publish_document
from .safety import language_hint
from .selectors import Owner, get_owned_document, payload

log = logging.getLogger(__name__)

DOCUMENT_TASK = "workers.document_tasks.translate_document"
PROGRESS_INTERVAL_SECONDS = 0.25


def _notify(job: DocumentJob) -> None:
    publish_document(payload(job))


KIND = lifecycle.register(
    lifecycle.Kind(
        label="document",
        model=DocumentJob,
        task=DOCUMENT_TASK,
        queue=lambda: settings.NMT_QUEUE,
        notify=_notify,
        doing="translating this document",
    )
)

__all__ = [
    "DOCUMENT_TASK",
    "KIND",
    "cancel_document",
    "create_documents",
    "upload_documents",
    "download",
    "expire_documents",
    "prepare_file",
    "run_document",
    "worker_name",
]


# --- upload (web process) ----------------------------------------------------------------------------------


@dataclass
class PreparedFile:
    name: str
    data: bytes
    handler: FormatHandler
    segments: list[tuple[int, str]]  # (block index, sentence)
    warnings: list[str] = field(default_factory=list)

    @property
    def notice(self) -> str:
        return " ".join([self.handler.notice, *self.warnings]).strip()


@dataclass
class Upload:
    jobs: list[DocumentJob]
    refused: list[dict]  # {"name", "code", "message", "status"} per file that was not accepted


def clean_name(name: str) -> str:
    """The uploaded file's base name, for display and the download name only (never a storage path)."""
    base = PurePath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return (base or "document")[-200:]


def prepare_file(name: str, data: bytes, source_lang: str) -> PreparedFile:
    """Validate one uploaded file and split it into segments; a DocumentError with a clear message otherwise."""
    name = clean_name(name)
    handler = handler_for(name)  # extension allowlist
    if not data:
        raise DocumentError("empty_file", f"'{name}' is empty.")
    if len(data) > settings.NMT_DOC_MAX_FILE_BYTES:
        raise FileTooLarge(
            "file_too_large",
            f"'{name}' is more than the limit of {settings.NMT_DOC_MAX_FILE_BYTES / 1e6:.0f} MB per file.",
        )
    try:
        with language_hint(source_lang):
            handler.check(data)  # magic bytes, zip bombs, XML entities, encodings
            extracted = handler.extract(data)
    except DocumentError as exc:
        exc.message = f"'{name}': {exc.message}"
        raise
    except (RecursionError, MemoryError, Exception) as exc:  # parsers raise anything on hostile input
        log.info("could not parse %s: %r", name, exc)
        raise DocumentError(
            "corrupt_file", f"'{name}' is damaged or not a real {handler.name} file; it cannot be read."
        ) from None
    segments: list[tuple[int, str]] = []
    limit = settings.NMT_DOC_MAX_BLOCK_CHARS
    for index, text in enumerate(extracted.texts):
        if not text:
            continue
        if len(text) > limit:
            raise DocumentError(
                "paragraph_too_long",
                f"'{name}': a paragraph (or line) has {len(text):,} characters; "
                f"the limit is {limit:,}. Is this really a text document?",
            )
        segments.extend((index, sentence) for sentence in split_sentences(text, source_lang))
        if len(segments) > settings.NMT_DOC_MAX_SEGMENTS:
            raise FileTooLarge(
                "too_many_segments",
                f"'{name}' has more than {settings.NMT_DOC_MAX_SEGMENTS:,} sentences; split it into smaller files.",
            )
    if not segments:
        raise DocumentError(
            "no_text",
            f"'{name}' has no text to translate"
            + (" (a scanned PDF without a text layer? Run OCR first)." if handler.name == "pdf" else ".")
            + "".join(f" {w}" for w in extracted.warnings),
        )
    return PreparedFile(name=name, data=data, handler=handler, segments=segments, warnings=extracted.warnings)


class UploadRefused(DocumentError):
    """No file of a multi-file upload could be accepted: every file's reason, in the message and as a list."""

    def __init__(self, refused: list[dict]):
        statuses = {r["status"] for r in refused}
        self.status = statuses.pop() if len(statuses) == 1 else 422
        lines = "; ".join(r["message"] for r in refused)
        super().__init__("files_refused", f"No file could be translated: {lines}")
        self.refused = refused

    def as_dict(self) -> dict:
        return {**super().as_dict(), "refused": self.refused}


def create_documents(**kwargs) -> list[DocumentJob]:
    """upload_documents() for callers that send one file: its jobs, or the file's own error."""
    return upload_documents(**kwargs).jobs


def upload_documents(
    *,
    owner: Owner,
    files: list[tuple[str, bytes]],
    source_lang=None,
    target_lang=None,
    translator=None,
    caller: admission.Caller | None = None,
) -> Upload:
    """Validate every file; store each good one as a queued job with its segments (enqueued after commit) and
    list each refused one with its reason. One bad file never refuses the others; when none is accepted, the
    upload fails with every reason (a single file's own error when there was one file). ``caller`` (an upload
    from a request) must pass the site's limits (nmt_site/core/admission.py) before anything is stored."""
    if not owner.known:
        raise JobRequestError("no_session", "This page has no session; reload it and try again.")
    if not files:
        raise DocumentError("no_file", "Choose at least one file to translate.")
    if len(files) > settings.NMT_DOC_MAX_FILES:
        raise FileTooLarge(
            "too_many_files",
            f"You sent {len(files)} files; at most {settings.NMT_DOC_MAX_FILES} can be uploaded at once.",
        )
    for value, name in ((source_lang, "source_lang"), (target_lang, "target_lang"), (translator, "translator")):
        if value is not None and not isinstance(value, str):
            raise JobRequestError(f"bad_{name}", f"'{name}' must be a string.")
    info = choose_translator(source_lang or None, target_lang or None, translator or None)
    prepared, refused = [], []
    for name, data in files:
        try:
            prepared.append(prepare_file(name, data, info.source_lang))
        except DocumentError as exc:
            if len(files) == 1:
                raise
            refused.append({"name": clean_name(name), "code": exc.code, "message": exc.message, "status": exc.status})
    if not prepared:
        raise UploadRefused(refused)
    chars = sum(len(text) for item in prepared for _, text in item.segments)
    admission.admit(caller, owner=owner, chars=chars, work=len(prepared))
    expire_documents()  # the periodic check rides on uploads: no extra scheduler to run
    jobs = []
    for item in prepared:
        stored = storage.save(item.data, PurePath(item.name).suffix.lower())
        try:
            with transaction.atomic():
                job = DocumentJob.objects.create(
                    owner_session=owner.session_key or "",
                    owner_user_id=owner.user_id,
                    original_name=item.name,
                    stored_name=stored,
                    format=item.handler.name,
                    output_format=(item.handler.output_extension or PurePath(item.name).suffix.lower()).lstrip("."),
                    size_bytes=len(item.data),
                    notice=item.notice,
                    source_lang=info.source_lang,
                    target_lang=info.target_lang,
                    translator=info.name,
                    segments_total=len(item.segments),
                    expires_at=timezone.now() + timedelta(hours=settings.NMT_DOC_TTL_HOURS),
                    queue=KIND.queue(),
                )
                Segment.objects.bulk_create(
                    [
                        Segment(job=job, position=i, block=block, source=text)
                        for i, (block, text) in enumerate(item.segments)
                    ],
                    batch_size=500,
                )
                lifecycle.submit(KIND, job)  # sent after commit; a broker that is down: sent by the sweeper
        except Exception:
            storage.delete(stored)
            raise
        jobs.append(job)
    return Upload(jobs=jobs, refused=refused)


def cancel_document(job_id, owner: Owner) -> DocumentJob:
    job = get_owned_document(job_id, owner)
    return lifecycle.cancel(KIND, job.pk)


@dataclass
class Download:
    path: object
    filename: str


def download(job_id, owner: Owner) -> Download:
    job = get_owned_document(job_id, owner)
    if job.state != JobState.DONE or not job.output_name:
        raise NotReady("not_ready", f"'{job.original_name}' is {job.state}; there is nothing to download yet.")
    path = storage.path_of(job.output_name)
    if not path.exists():
        raise NotReady("expired", f"The translation of '{job.original_name}' has expired; upload it again.")
    return Download(path=path, filename=download_name(job))


def download_name(job: DocumentJob) -> str:
    """report.docx → report.pt.docx (report.pdf → report.pt.docx)."""
    stem = PurePath(job.original_name).stem or "document"
    return f"{stem}.{job.target_lang}.{job.output_format}"


# --- running (worker process) ------------------------------------------------------------------------------


def _publish(job_id) -> None:
    job = DocumentJob.objects.filter(pk=job_id).first()
    if job is not None:
        publish_document(payload(job))


def fail_document(job_id, reason: str) -> DocumentJob | None:
    return lifecycle.fail(KIND, job_id, None, reason) or DocumentJob.objects.filter(pk=job_id).first()


class _LostJob(Exception):
    """The job stopped being ours (cancelled, or claimed by a later attempt) while we translated a batch."""


def run_document(
    job_id, *, worker: str, continuation_of: int | None = None, load: Callable = load_engine
) -> DocumentJob | None:
    """Run one delivery of the document task. Safe to call any number of times for the same job."""
    if continuation_of is not None:
        # The same attempt goes on after a time slice: no new claim, the ETA keeps its rate.
        job, attempt = lifecycle.resume_delivery(KIND, job_id, continuation_of, worker), continuation_of
        if job is None:  # cancelled, or taken back after its process died: a later claim resumes it
            return DocumentJob.objects.filter(pk=job_id).first()
    else:
        claim = lifecycle.claim(KIND, job_id, worker, fields={"done_at_start": F("segments_done")})
        if not claim.ok:
            return claim.obj
        job, attempt = claim.obj, claim.attempt

    try:
        with lifecycle.heartbeat(KIND, job.pk, attempt):
            engine = load(job.translator, device=engine_device())
            # Between two batches the small text jobs waiting on the queue go through: a document never holds them
            # up for more than one batch (nmt_site/jobs/batching.py).
            finished = _translate_segments(job, attempt, engine, serve=lambda: serve_waiting(job.queue, worker, load))
            if not finished:
                return DocumentJob.objects.filter(pk=job.pk).first()  # sliced (continued elsewhere) or lost
            return _finish(job, attempt)
    except _LostJob:
        log.info("document %s was cancelled or taken over while running", job.pk)
        return DocumentJob.objects.filter(pk=job.pk).first()
    except EngineError as exc:
        return _failed(job.pk, attempt, f"The translator refused the input: {exc}")
    except SoftTimeLimitExceeded:
        return _failed(job.pk, attempt, "The document ran past its time limit and was stopped.")
    except Exception as exc:  # a bug or a broken model: the job must not stay running
        log.exception("document %s failed", job.pk)
        return _failed(job.pk, attempt, f"Internal error while translating the document ({type(exc).__name__}).")


def _failed(job_id, attempt: int, reason: str) -> DocumentJob | None:
    lifecycle.fail(KIND, job_id, attempt, reason)
    return DocumentJob.objects.filter(pk=job_id).first()


def _next_group(pending: list[Segment], cache: dict[str, str], batch: int) -> tuple[list[Segment], list[str]]:
    """The next run of pending segments (in document order) whose not-yet-known sources fill one engine batch;
    segments whose source is already translated in this document come along for free."""
    group, new = [], []
    seen = set()
    for seg in pending:
        if seg.source not in cache and seg.source not in seen:
            if len(new) >= batch:
                break
            new.append(seg.source)
            seen.add(seg.source)
        group.append(seg)
    return group, new


def _translate_segments(job: DocumentJob, attempt: int, engine, serve: Callable[[], object] = lambda: None) -> bool:
    """Translate the stored segments that have no translation yet, one batch per transaction, and call ``serve``
    between two batches.

    Returns True when all are translated; False after handing the rest to a continuation task (time slice).
    Raises _LostJob when the job is no longer ours.
    """
    # The per-document cache: identical source text on the same engine is translated once. It is rebuilt from
    # the stored rows, so a resumed job reuses what the earlier attempt translated.
    cache = dict(Segment.objects.filter(job=job, translation__isnull=False).values_list("source", "translation"))
    batch = max(1, settings.NMT_DOC_BATCH)
    deadline = time.monotonic() + settings.NMT_DOC_SLICE_SECONDS
    last_publish = 0.0
    while True:
        pending = list(Segment.objects.filter(job=job, translation__isnull=True).order_by("position")[: batch * 8])
        if not pending:
            return True
        group, new = _next_group(pending, cache, batch)
        model_seconds = 0.0
        if new:
            result = engine.translate_batch(new)
            model_seconds = result.model_seconds
            fresh = dict(zip(new, (out.replace("\n", " ").strip() for out in result.outputs), strict=False))
        else:
            fresh = {}
        for seg in group:
            if seg.source in fresh:
                seg.translation, seg.from_cache = fresh.pop(seg.source), False
                cache[seg.source] = seg.translation
            else:
                seg.translation, seg.from_cache = cache[seg.source], True
        cached = sum(1 for seg in group if seg.from_cache)
        with transaction.atomic():
            still_ours = lifecycle.still_ours(
                KIND,
                job.pk,
                attempt,
                segments_done=F("segments_done") + len(group),
                segments_cached=F("segments_cached") + cached,
                model_seconds=F("model_seconds") + model_seconds,
            )
            if not still_ours:
                raise _LostJob()
            # Only rows still untranslated: a stale duplicate run can never overwrite or double-count.
            for seg in group:
                Segment.objects.filter(pk=seg.pk, translation__isnull=True).update(
                    translation=seg.translation, from_cache=seg.from_cache
                )
        now = time.monotonic()
        if now - last_publish >= PROGRESS_INTERVAL_SECONDS:
            last_publish = now
            _publish(job.pk)
        if now > deadline and len(pending) > len(group):
            if not lifecycle.hand_over(KIND, job.pk, attempt, continuation_of=attempt):
                raise _LostJob()
            return False
        serve()


def _finish(job: DocumentJob, attempt: int) -> DocumentJob | None:
    """Put the stored translations back into the original file and mark the job done."""
    handler = by_name(job.format)
    per_block: dict[int, list[str]] = {}
    for block, text in Segment.objects.filter(job=job).order_by("position").values_list("block", "translation"):
        per_block.setdefault(block, []).append(text or "")
    translations = {block: " ".join(t for t in texts if t) for block, texts in per_block.items()}
    try:
        with language_hint(job.source_lang):  # decode exactly as the upload was decoded
            data = handler.rebuild(storage.read(job.stored_name), translations, target_lang=job.target_lang)
    except FileNotFoundError:
        return _failed(job.pk, attempt, "The uploaded file has expired or was removed; upload it again.")
    ext = "." + job.output_format
    output_name = storage.save(data, ext)
    done = lifecycle.finish(
        KIND,
        job.pk,
        attempt,
        output_name=output_name,
        expires_at=timezone.now() + timedelta(hours=settings.NMT_DOC_TTL_HOURS),
    )
    if done is None:
        storage.delete(output_name)
        return DocumentJob.objects.filter(pk=job.pk).first()
    return done


def expire_documents(now=None) -> int:
    """Delete the files and rows of finished document jobs past their expiry time; returns how many."""
    now = now or timezone.now()
    count = 0
    for job in DocumentJob.objects.filter(expires_at__lt=now, state__in=FINISHED_STATES):
        storage.delete(job.stored_name)
        storage.delete(job.output_name)
        job.delete()
        count += 1
    # An active job past its expiry is left alone: it expires TTL after it finishes.
    return count
