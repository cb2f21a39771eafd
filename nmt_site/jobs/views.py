"""HTTP views: thin adapters from requests to services and selectors, JSON errors with 4xx codes."""
from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST, require_safe

from . import selectors, services
from .errors import JobRequestError
from .health import run_checks


def error_response(exc: JobRequestError) -> JsonResponse:
    return JsonResponse({"error": exc.as_dict()}, status=exc.status)


@require_safe
@ensure_csrf_cookie
def translate_page(request: HttpRequest):
    selectors.owner_from_request(request)  # creates the session the page's jobs will belong to
    return render(
        request,
        "jobs/translate.html",
        {"translators": selectors.translators(), "max_chars": settings.NMT_MAX_CHARS},
    )


@require_GET
def translators_api(request: HttpRequest):
    return JsonResponse({"translators": selectors.translators(), "max_chars": settings.NMT_MAX_CHARS})


def _json_body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise JobRequestError("bad_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise JobRequestError("bad_json", "The request body must be a JSON object.")
    return data


@require_POST
def create_job_api(request: HttpRequest):
    try:
        data = _json_body(request)
        job = services.create_job(
            owner=selectors.owner_from_request(request),
            text=data.get("text"),
            source_lang=data.get("source_lang"),
            target_lang=data.get("target_lang"),
            translator=data.get("translator"),
            options=data.get("options"),
            refine=bool(data.get("refine")),
        )
    except JobRequestError as exc:
        return error_response(exc)
    return JsonResponse({"job": job.as_dict()}, status=201)


@require_GET
def job_status_api(request: HttpRequest, job_id: str):
    try:
        job = selectors.get_owned_job(job_id, selectors.owner_from_request(request))
    except JobRequestError as exc:
        return error_response(exc)
    return JsonResponse({"job": job.as_dict()})


@require_GET
def job_result_api(request: HttpRequest, job_id: str):
    """Just the translation of a finished job; 409 while it is still queued or running."""
    try:
        job = selectors.get_owned_job(job_id, selectors.owner_from_request(request))
    except JobRequestError as exc:
        return error_response(exc)
    if job.state != "done":
        exc = JobRequestError("not_done", f"The job is {job.state}; the result exists once it is done.")
        exc.status = 409
        return error_response(exc)
    return JsonResponse({"id": str(job.id), "translator": job.translator, "output": job.output_text})


@require_POST
def cancel_job_api(request: HttpRequest, job_id: str):
    try:
        job = services.cancel_job(job_id, selectors.owner_from_request(request))
    except JobRequestError as exc:
        return error_response(exc)
    return JsonResponse({"job": job.as_dict()})


@require_safe  # GET or HEAD: load balancers probe with either
def health(request: HttpRequest):
    # ?worker=0 checks only this process's own dependencies (the web container's healthcheck uses it).
    report = run_checks(include_worker=request.GET.get("worker", "1") != "0")
    return JsonResponse(report, status=200 if report["ok"] else 503)
