"""What guards the websocket routes before any consumer runs: the same-origin check, and an answer for paths
that have no socket.

Channels' AllowedHostsOriginValidator compares only the Origin's host name with ALLOWED_HOSTS, so a page on
any port or scheme of an allowed host (``http://127.0.0.1:9999``) could open our sockets with the visitor's
cookie. Here the Origin must be exactly the site's own origin — the scheme, host and port the browser
connected to (the Host header, checked against ALLOWED_HOSTS) — or one listed in CSRF_TRUSTED_ORIGINS, as
Django's CSRF check does for forms.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _request_scheme(scope) -> str:
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        name = header.removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = _header(scope, name)
        if value is not None:
            return "https" if value.split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") == "wss" else "http"


def origin_allowed(scope) -> bool:
    origin_header = _header(scope, b"origin")
    host = _header(scope, b"host")
    if not origin_header or origin_header == "null":
        return False
    try:
        parsed = urlsplit(origin_header)
    except ValueError:
        return False
    origin = _origin(parsed.scheme, parsed.netloc)
    if origin is None:
        return False
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        t = urlsplit(trusted)
        if "*" not in t.netloc and _origin(t.scheme, t.netloc) == origin:
            return True
    if not host:
        # Only non-browser clients omit Host (HTTP/1.1 requires it), and they can send any Origin anyway: the
        # check protects browsers. Then the Origin's host must at least be one of ours.
        return bool(validate_host(origin[1], settings.ALLOWED_HOSTS))
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == _origin(_request_scheme(scope), host)


class SameOriginValidator:
    """ASGI middleware: websocket handshakes from another origin are denied (HTTP 403), as Channels does."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any websocket path without a consumer: accepted, then closed with 4404 and the reason (URLRouter would
    raise, and the handshake would end in a 500)."""

    async def connect(self):
        await self.accept()
        await self.close(code=4404, reason="No websocket at this path.")
