"""Reading LibreTranslate-style parameters from JSON bodies, urlencoded or multipart forms (clients use all three)."""

from __future__ import annotations

import json

from .errors import ApiError


def read(request) -> dict:
    """The request's parameters as a dict; a form's repeated keys (q=a&q=b) become lists."""
    ctype = (request.content_type or "").lower()
    if ctype == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ApiError("Invalid request: the body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ApiError("Invalid request: the JSON body must be an object.")
        return data
    source = request.POST if request.method == "POST" else request.GET
    data = {}
    for key in source:
        values = source.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    if request.method != "POST" and request.body and ctype == "application/x-www-form-urlencoded":
        # libretranslatepy sends GET /languages with a form body; Django only parses bodies of POSTs.
        from django.http import QueryDict

        for key, values in QueryDict(request.body).lists():
            data.setdefault(key, values if len(values) > 1 else values[0])
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
    except (TypeError, ValueError):
        raise ApiError(f"Invalid request: {name} must be an integer") from None


def options_param(data: dict) -> dict | None:
    """Our decoding options (nmt_options): a JSON object, or a JSON string of one in forms."""
    value = data.get("nmt_options")
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ApiError("Invalid request: nmt_options must be a JSON object") from None
    if not isinstance(value, dict):
        raise ApiError("Invalid request: nmt_options must be a JSON object")
    return value
