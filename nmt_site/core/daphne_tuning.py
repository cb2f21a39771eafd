"""Two defaults of the libraries under daphne that daphne does not expose, changed so that bad input gets an
answer instead of a dropped or blank one. Applied from nmt_site.asgi, which daphne imports before it builds its
factories; each is a no-op under other ASGI servers (the libraries are then not imported).

- autobahn's ``failByDrop`` (True): a client that breaks the websocket protocol — a message over daphne's size
  limit (1 MiB) among others — has its TCP connection dropped without a word. Off, it gets a close frame
  with 1009 and the reason.
- Twisted's ``parsePOSTFormSubmission`` (True): every POST body is parsed into ``request.args`` — which daphne
  never reads, since it hands the raw body to Django — and a malformed multipart body is answered by Twisted
  itself with a bare 400 and no body, before Django (and its JSON errors) ever sees the request. Off, Django
  parses the body once and answers in the API's shape; large uploads are not parsed twice in memory either.
"""

from __future__ import annotations

import sys

_MARK = "_nmt_tuned"


def _wrap(cls, name: str, wrapper_for) -> None:
    original = getattr(cls, name)
    if getattr(original, _MARK, False):
        return
    wrapper = wrapper_for(original)
    setattr(wrapper, _MARK, True)
    setattr(cls, name, wrapper)


def tune_daphne() -> None:
    if "daphne" not in sys.modules:
        return
    from autobahn.twisted.websocket import WebSocketServerFactory
    from daphne.http_protocol import WebRequest

    def options_wrapper(original):
        def set_protocol_options(self, *args, **options):
            options.setdefault("failByDrop", False)
            return original(self, *args, **options)

        return set_protocol_options

    def init_wrapper(original):
        def init(self, *args, **kwargs):
            original(self, *args, **kwargs)
            self._parsePOSTFormSubmission = False

        return init

    _wrap(WebSocketServerFactory, "setProtocolOptions", options_wrapper)
    _wrap(WebRequest, "__init__", init_wrapper)
