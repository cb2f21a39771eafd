"""What every JSON view of the site shares: the user-facing error type as a 4xx JSON body, and JSON bodies."""

from __future__ import annotations

import functools

from django.http import HttpRequest, JsonResponse

from nmt_site.core import jsontext

from .errors import JobRequestError


def error_response(exc: JobRequestError) -> JsonResponse:
    return JsonResponse({"error": exc.as_dict()}, status=exc.status)


def json_errors(view):
    """A JobRequestError (or subclass) raised by the view becomes ``{"error": {"code", "message"}}`` with its
    4xx status; anything else still propagates (a bug is a 500 and gets logged, not dressed up as bad input)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except JobRequestError as exc:
            return error_response(exc)

    return wrapper


def json_body(request: HttpRequest) -> dict:
    try:
        data = jsontext.loads(request.body or b"{}")
    except jsontext.BadJson as exc:
        raise JobRequestError("bad_json", exc.message) from None
    if not isinstance(data, dict):
        raise JobRequestError("bad_json", "The request body must be a JSON object.")
    return data
