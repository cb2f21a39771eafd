"""Every error of an API path is JSON, whatever produced it: a view, Django itself (405 from the method
decorators, 400 for an oversized body or too many form fields, 403 from the CSRF check, 404 for an unknown
path) or an unhandled exception (500).

LibreTranslate's paths answer ``{"error": "<message>"}``; the site's own API under /api/ answers
``{"error": {"code", "message"}}`` as its views do. Pages keep Django's HTML errors.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse

LIBRETRANSLATE_PATHS = re.compile(
    r"^/(translate|translate_file|detect|languages|frontend/settings|download_file/.*|metrics|health)/?$"
)
SITE_API_PATHS = re.compile(r"^/api/")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


def _shape(path: str) -> str | None:
    if LIBRETRANSLATE_PATHS.match(path):
        return "libretranslate"
    if SITE_API_PATHS.match(path):
        return "site"
    return None


def error_response(path: str, status: int, message: str, headers: dict | None = None) -> JsonResponse | None:
    shape = _shape(path)
    if shape is None:
        return None
    if shape == "libretranslate":
        body: dict = {"error": message}
    else:
        body = {"error": {"code": CODES.get(status, f"http_{status}"), "message": message}}
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _message(request, response) -> str:
    status = response.status_code
    if status == 405:
        allowed = response.get("Allow", "")
        return f"Method {request.method} is not allowed here; use {allowed}." if allowed else "Method not allowed."
    if status == 403:
        return "Forbidden: a POST from a page needs its CSRF token (the csrftoken cookie in X-CSRFToken)."
    if status == 404:
        return "Not found."
    if status >= 500:
        return "Internal server error; it has been logged."
    return getattr(response, "reason_phrase", "") or f"HTTP {status}"


class JsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.method != "HEAD"
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else None
            json_response = error_response(request.path, response.status_code, _message(request, response), headers)
            if json_response is not None:
                return json_response
        return response

    def process_exception(self, request, exception):
        """Bodies Django refuses to read, raised while a view reads them: say which limit, not "Bad Request"."""
        if isinstance(exception, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return error_response(request.path, 413, f"The request body is larger than {limit} bytes.")
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            return error_response(request.path, 400, f"Too many fields in the request (at most {limit}).")
        return None
