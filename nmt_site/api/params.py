"""Reading LibreTranslate-style parameters from JSON bodies, urlencoded or multipart forms (clients use all three)."""

from __future__ import annotations

from django.http import QueryDict

from nmt_site.core import jsontext

from .errors import ApiError


def _merge(data: dict, source) -> None:
    """Add a QueryDict's keys that ``data`` lacks; repeated keys (q=a&q=b) become lists."""
    for key, values in source.lists():
        if key not in data:
            data[key] = values if len(values) > 1 else values[0]


def read(request) -> dict:
    """The request's parameters as a dict, read as LibreTranslate reads them: a JSON body, or the form, and
    then the query string for whatever those lack (deep-translator POSTs everything in the query string)."""
    ctype = (request.content_type or "").lower()
    data: dict = {}
    if ctype == "application/json":
        try:
            body = jsontext.loads(request.body or b"{}")
        except jsontext.BadJson as exc:
            raise ApiError(f"Invalid request: {exc.message}") from None
        if not isinstance(body, dict):
            raise ApiError("Invalid request: the JSON body must be an object.")
        data.update(body)
    elif request.method == "POST":
        _merge(data, request.POST)
    elif request.body and ctype == "application/x-www-form-urlencoded":
        # libretranslatepy sends GET /languages with a form body; Django only parses bodies of POSTs.
        _merge(data, QueryDict(request.body))
    _merge(data, request.GET)
    return data


def text_param(data: dict, name: str, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(f"Invalid request: missing {name} parameter")
        return None
    if not isinstance(value, str):
        raise ApiError(f"Invalid request: {name} must be a string")
    return value.strip()


def q_param(data: dict) -> tuple[list[str], bool]:
    q = data.get("q")
    if q is None or q == "" or q == []:
        raise ApiError("Invalid request: missing q parameter")
    if isinstance(q, str):
        return [q], False
    if isinstance(q, list) and all(isinstance(t, str) for t in q):
        return q, True
    raise ApiError("Invalid request: q must be a string or an array of strings")


def int_param(data: dict, name: str, default: int = 0) -> int:
    value = data.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(f"Invalid request: {name} must be an integer") from None


def options_param(data: dict) -> dict | None:
    """Our decoding options (nmt_options): a JSON object, or a JSON string of one in forms."""
    value = data.get("nmt_options")
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = jsontext.loads(value)
        except jsontext.BadJson:
            raise ApiError("Invalid request: nmt_options must be a JSON object") from None
    if not isinstance(value, dict):
        raise ApiError("Invalid request: nmt_options must be a JSON object")
    return value
