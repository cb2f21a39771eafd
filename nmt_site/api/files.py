"""LibreTranslate's /translate_file on top of the documents app: the upload becomes a DocumentJob (every
format the documents app handles), the request waits for the worker to finish it, and /download_file serves
the stored result. The document's id in the URL is the capability, as in LibreTranslate's download URLs.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings

from nmt_site.core.errors import WorkRequestError as JobRequestError
from nmt_site.core.owner import Owner
from nmt_site.documents import services as doc_services
from nmt_site.documents.formats import ALLOWED_EXTENSIONS
from nmt_site.documents.models import DocumentJob

from .errors import ApiError
from .limits import Caller
from .services import wait_done


def formats() -> list[str]:
    return list(ALLOWED_EXTENSIONS)


def _detect_source(name: str, data: bytes, codes: list[str], detect) -> str | None:
    """source=auto: detect from the file's own text (the documents app's extraction, any hint language)."""
    prepared = doc_services.prepare_file(name, data, codes[0] if codes else "en")
    sample = "\n".join(text for _, text in prepared.segments[:200])[:5000]
    found = detect(sample)
    return found[0]["language"] if found else None


def translate_file(
    upload, source: str, target: str, translator: str | None, caller: Caller, detect, codes: list[str]
) -> str:
    """Translate the upload through the queue; returns "<id>/<file name>" for /download_file/."""
    if upload is None:
        raise ApiError("Invalid request: missing file parameter")
    if upload.size > settings.NMT_DOC_MAX_FILE_BYTES:
        raise ApiError(f"Invalid request: the file is larger than {settings.NMT_DOC_MAX_FILE_BYTES // 10**6} MB.", 413)
    name = upload.name or "file.txt"
    data = upload.read()
    owner = Owner(session_key=caller.owner_session)
    try:
        if source == "auto":
            source = _detect_source(name, data, codes, detect)
            if source is None:
                raise ApiError("Invalid request: could not detect the file's language; give source.")
        job = doc_services.create_documents(
            owner=owner, files=[(name, data)], source_lang=source, target_lang=target, translator=translator
        )[0]
    except JobRequestError as exc:
        raise ApiError(f"Invalid request: {exc.message}", exc.status if 400 <= exc.status < 500 else 400) from None
    # A file is bounded by the documents' own limits (NMT_DOC_MAX_FILE_BYTES, NMT_DOC_MAX_SEGMENTS,
    # NMT_DOC_MAX_BLOCK_CHARS, checked by create_documents), not by the character limit of a text request: as in
    # LibreTranslate, whose file endpoint has its own limit.
    job = wait_done(doc_services.KIND, job.pk, settings.NMT_API_TIMEOUT, "The file's translation", cancelled_status=400)
    return f"{job.pk}/{doc_services.download_name(job)}"


def download(job_id: str):
    """(path, file name) of a finished API document; ApiError 404 otherwise."""
    try:
        pk = uuid.UUID(job_id)
    except ValueError:
        raise ApiError("File not found", 404) from None
    job = DocumentJob.objects.filter(pk=pk, owner_session__startswith="api-").first()
    if job is None:
        raise ApiError("File not found", 404)
    try:
        found = doc_services.download(job.pk, Owner(session_key=job.owner_session))
    except JobRequestError as exc:
        raise ApiError(exc.message, 404 if exc.status == 404 else 409) from None
    return found.path, PurePath(found.filename).name
