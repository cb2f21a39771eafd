"""Dashboard pages, exports and the benchmark API: thin adapters to services and selectors."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from nmt_site.core.admission import caller_from_request
from nmt_site.jobs.http import json_body, json_errors

from . import exports, selectors, services
from .errors import BenchmarkRequestError
from .protocol import protocol_html


def _error_page(request, exc: BenchmarkRequestError):
    return render(request, "dashboard/error.html", {"error": exc}, status=exc.status)


def _common(run) -> dict:
    results = selectors.results_of(run) if run else []
    return {
        "run": run,
        "results": results,
        "table": selectors.results_table(results),
        "pareto": selectors.pareto_data(results),
        "buckets": selectors.bucket_data(results),
        "sweeps": selectors.iteration_sweeps(results),
        "protocol": protocol_html(),
    }


@require_safe
@ensure_csrf_cookie
def overview(request: HttpRequest):
    try:
        run = selectors.featured_run(request.GET.get("run"))
    except BenchmarkRequestError as exc:
        return _error_page(request, exc)
    context = _common(run)
    context.update(
        {
            "runs": selectors.recent_runs(),
            "active": selectors.active_runs(),
            "choices": selectors.form_choices(),
            "bench_queue": settings.NMT_BENCH_QUEUE,
        }
    )
    return render(request, "dashboard/overview.html", context)


@require_safe
@ensure_csrf_cookie  # the page's cancel button posts with the CSRF cookie
def run_page(request: HttpRequest, run_id):
    try:
        run = services.get_run(run_id)
    except BenchmarkRequestError as exc:
        return _error_page(request, exc)
    context = _common(run)
    context["environment"] = selectors.environment_table(run)
    context["speedups"] = selectors.speedups_table(context["results"])
    context["runs"] = selectors.recent_runs()
    return render(request, "dashboard/run.html", context)


@require_safe
def segments_page(request: HttpRequest, run_id):
    try:
        run = services.get_run(run_id)
    except BenchmarkRequestError as exc:
        return _error_page(request, exc)
    data = selectors.segment_page(run, request.GET.get("test_set"), request.GET.get("page") or 1)
    return render(request, "dashboard/segments.html", {"run": run, **data})


def _two_runs(request):
    a, b = request.GET.get("a"), request.GET.get("b")
    if not a or not b:
        raise BenchmarkRequestError("missing_runs", "Choose two runs to compare (?a=<run id>&b=<run id>).")
    return services.get_run(a), services.get_run(b)


@require_safe
def compare_page(request: HttpRequest):
    try:
        a, b = _two_runs(request)
    except BenchmarkRequestError as exc:
        return _error_page(request, exc)
    return render(request, "dashboard/compare.html", {"a": a, "b": b, "table": selectors.compare_table(a, b)})


# --- exports ---------------------------------------------------------------------------------------------------


@require_safe
@json_errors
def export_run_table(request: HttpRequest, run_id, table: str, fmt: str):
    run = services.get_run(run_id)
    return exports.table_response(selectors.run_table(run, table), f"run-{str(run.id)[:8]}-{table}", fmt)


@require_safe
@json_errors
def export_compare(request: HttpRequest, fmt: str):
    a, b = _two_runs(request)
    return exports.table_response(selectors.compare_table(a, b), "compare", fmt)


@require_safe
@json_errors
def export_runs(request: HttpRequest, fmt: str):
    return exports.table_response(selectors.runs_table(selectors.recent_runs()), "runs", fmt)


# --- API -------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@json_errors
def runs_api(request: HttpRequest):
    if request.method == "GET":
        return JsonResponse({"runs": [r.as_dict() for r in selectors.recent_runs()], **selectors.form_choices()})
    data = json_body(request)
    run = services.create_run(data, caller=caller_from_request(request, data.pop("api_key", None)))
    waiting = len(selectors.active_runs()) - 1
    return JsonResponse({"run": run.as_dict(), "runs_ahead": max(0, waiting)}, status=201)


@require_safe
@json_errors
def run_api(request: HttpRequest, run_id):
    run = services.get_run(run_id)
    return JsonResponse({"run": run.as_dict(), "results": selectors.results_table(selectors.results_of(run))})


@require_POST
@json_errors
def cancel_api(request: HttpRequest, run_id):
    run = services.cancel_run(run_id)
    return JsonResponse({"run": run.as_dict()})
