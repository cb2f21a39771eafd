"""HTTP views for documents: thin adapters to services/selectors; JSON errors with 4xx codes."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.http import FileResponse, HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST, require_safe

from nmt_site.core.admission import caller_from_request
from nmt_site.jobs.http import json_errors
from nmt_site.jobs.selectors import translators

from . import selectors, services
from .errors import FileTooLarge
from .formats import ALLOWED_EXTENSIONS


def _limits() -> dict:
    return {
        "max_file_bytes": settings.NMT_DOC_MAX_FILE_BYTES,
        "max_request_bytes": settings.NMT_DOC_MAX_REQUEST_BYTES,
        "max_files": settings.NMT_DOC_MAX_FILES,
        "extensions": list(ALLOWED_EXTENSIONS),
        "ttl_hours": settings.NMT_DOC_TTL_HOURS,
    }


@require_safe
@ensure_csrf_cookie
def upload_page(request: HttpRequest):
    owner = selectors.owner_from_request(request)
    return render(
        request,
        "documents/upload.html",
        {
            "translators": translators(),
            "limits": _limits(),
            "documents": [selectors.payload(job) for job in selectors.owned_documents(owner)],
        },
    )


@require_POST  # CSRF-checked by the middleware like every POST
@json_errors
def upload_api(request: HttpRequest):
    # Checked before Django reads the body: an oversized request is refused without being stored.
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.NMT_DOC_MAX_REQUEST_BYTES:
        raise FileTooLarge(
            "request_too_large",
            f"The upload is {length / 1e6:.1f} MB; the limit per request "
            f"is {settings.NMT_DOC_MAX_REQUEST_BYTES / 1e6:.0f} MB.",
        )
    uploads = request.FILES.getlist("file")
    # A file over the limit is refused on its own (the others go on); reading one byte past the limit says so.
    limit = settings.NMT_DOC_MAX_FILE_BYTES
    result = services.upload_documents(
        caller=caller_from_request(request, request.POST.get("api_key")),
        owner=selectors.owner_from_request(request),
        files=[(upload.name, upload.read(limit + 1)) for upload in uploads],
        source_lang=request.POST.get("source_lang"),
        target_lang=request.POST.get("target_lang"),
        translator=request.POST.get("translator"),
    )
    return JsonResponse(
        {"documents": [selectors.payload(job) for job in result.jobs], "refused": result.refused}, status=201
    )


@require_GET
def list_api(request: HttpRequest):
    owner = selectors.owner_from_request(request)
    return JsonResponse(
        {"documents": [selectors.payload(job) for job in selectors.owned_documents(owner)], "limits": _limits()}
    )


@require_GET
@json_errors
def status_api(request: HttpRequest, job_id: str):
    job = selectors.get_owned_document(job_id, selectors.owner_from_request(request))
    return JsonResponse({"document": selectors.payload(job)})


@require_POST
@json_errors
def cancel_api(request: HttpRequest, job_id: str):
    job = services.cancel_document(job_id, selectors.owner_from_request(request))
    return JsonResponse({"document": selectors.payload(job)})


@require_GET
@json_errors
def download_api(request: HttpRequest, job_id: str):
    result = services.download(job_id, selectors.owner_from_request(request))
    response = FileResponse(open(result.path, "rb"), as_attachment=True, filename=result.filename)
    text_type = TEXT_TYPES.get(PurePath(result.filename).suffix.lower())
    if text_type:  # every text format is written as UTF-8: say so, or a browser guesses windows-1252
        response["Content-Type"] = f"{text_type}; charset=utf-8"
    return response


TEXT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".srt": "application/x-subrip",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
}
