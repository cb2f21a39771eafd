"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers.

The websocket routes accept only the site's own origin (scheme, host and port; nmt_site/core/websocket_security.py)
and carry the session and user, which the consumers use to decide which jobs a page may see. A path without a
socket is closed with 4404.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmt_site.settings")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from nmt_site.core.daphne_tuning import tune_daphne  # noqa: E402
from nmt_site.core.threads import apply_torch_threads  # noqa: E402
from nmt_site.core.websocket_security import NoSuchSocket, SameOriginValidator  # noqa: E402
from nmt_site.dashboard.routing import websocket_urlpatterns as _dashboard_ws  # noqa: E402
from nmt_site.documents.routing import websocket_urlpatterns as document_websocket_urlpatterns  # noqa: E402
from nmt_site.jobs.routing import websocket_urlpatterns  # noqa: E402

# The web process imports torch (the registry) but translates nothing: its thread count is set all the same, so no
# process of the site runs torch with torch's one-thread-per-core default.
apply_torch_threads()

websocket_urlpatterns = websocket_urlpatterns + _dashboard_ws  # the dashboard's read-only pushes of run state
_no_such_socket = [re_path(r"", NoSuchSocket.as_asgi())]  # last: only paths nothing else matched

tune_daphne()  # under daphne: a close frame for oversized messages, Django's answer for malformed bodies

http_app = django_asgi_app
if settings.NMT_SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    http_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + document_websocket_urlpatterns + _no_such_socket))
        ),
    }
)
