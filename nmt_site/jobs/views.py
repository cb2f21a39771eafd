"""HTTP views: thin adapters from requests to services and selectors, JSON errors with 4xx codes."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST, require_safe

from nmt_site.core.admission import caller_from_request

from . import selectors, services
from .errors import JobRequestError
from .health import run_checks
from .http import json_body, json_errors


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


@require_POST
@json_errors
def create_job_api(request: HttpRequest):
    data = json_body(request)
    caller = caller_from_request(request, data.get("api_key"))  # 403 here when keys are required
    job = services.create_job(
        caller=caller,
        owner=selectors.owner_from_request(request),
        text=data.get("text"),
        source_lang=data.get("source_lang"),
        target_lang=data.get("target_lang"),
        translator=data.get("translator"),
        options=data.get("options"),
        refine=bool(data.get("refine")),
    )
    return JsonResponse({"job": job.as_dict()}, status=201)


@require_GET
@json_errors
def job_status_api(request: HttpRequest, job_id: str):
    job = selectors.get_owned_job(job_id, selectors.owner_from_request(request))
    return JsonResponse({"job": job.as_dict()})


@require_GET
@json_errors
def job_result_api(request: HttpRequest, job_id: str):
    """Just the translation of a finished job; 409 while it is still queued or running."""
    job = selectors.get_owned_job(job_id, selectors.owner_from_request(request))
    if job.state != "done":
        exc = JobRequestError("not_done", f"The job is {job.state}; the result exists once it is done.")
        exc.status = 409
        raise exc
    return JsonResponse({"id": str(job.id), "translator": job.translator, "output": job.output_text})


@require_POST
@json_errors
def cancel_job_api(request: HttpRequest, job_id: str):
    job = services.cancel_job(job_id, selectors.owner_from_request(request))
    return JsonResponse({"job": job.as_dict()})


@require_safe  # GET or HEAD: load balancers probe with either
def health(request: HttpRequest):
    # ?worker=0 checks only this process's own dependencies (the web container's healthcheck uses it).
    report = run_checks(include_worker=request.GET.get("worker", "1") != "0")
    return JsonResponse(report, status=200 if report["ok"] else 503)
