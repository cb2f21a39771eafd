"""Reading JSON from clients (HTTP bodies, websocket frames) without letting odd input become a 500 later.

``json.loads`` accepts two things the rest of the stack cannot take: nesting deep enough to raise
RecursionError, and lone UTF-16 surrogates (``"\\ud800"``), which parse into Python strings that no UTF-8
encoder (cache keys, Redis, the broker, lingua) can write. Both are refused here, once, with a message.
"""

from __future__ import annotations

import json
from typing import Any

# Deeper than any request of ours needs; deep enough that no honest client notices.
MAX_DEPTH = 32


class BadJson(ValueError):
    """The text is not JSON we accept; ``message`` says why, for the client."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_value(value: Any) -> None:
    """Walk a parsed value (iteratively: no recursion to exhaust); BadJson for deep nesting or bad strings."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                raise BadJson(
                    "The text contains an unpaired UTF-16 surrogate (e.g. \\ud800), which is not a character."
                )
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise BadJson(f"The JSON is nested deeper than {MAX_DEPTH} levels.")
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if isinstance(key, str):
                    stack.append((key, depth + 1))
                stack.append((child, depth + 1))


def loads(raw: str | bytes) -> Any:
    """Parse client JSON; BadJson (a ValueError) for anything we will not handle."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadJson(f"The JSON is nested deeper than {MAX_DEPTH} levels.") from None
    except (ValueError, UnicodeDecodeError):
        raise BadJson("The body is not valid JSON.") from None
    check_value(value)
    return value
