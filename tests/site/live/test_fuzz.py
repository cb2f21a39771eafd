"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis, against a live
daphne on the real worker) and of the websocket protocol (hypothesis, on the real ASGI app): whatever arrives,
no 500, and every error is JSON in the shape of its API. Bounded in examples so it runs in CI.
"""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
import schemathesis
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from nmt_site.asgi import application

from ..conftest import ws_headers
from ..daphne_server import serve_app

pytestmark = pytest.mark.worker

EXAMPLES = 12  # per operation: about 300 requests in all


@pytest.fixture(scope="module")
def fuzz_url(celery_worker_process):
    # Its own server: a short wait for queued work (fuzzed text that happens to be translatable must not hold
    # the run for a minute); the site's limits stay off as in the rest of the suite (tests/settings.py).
    with serve_app("daphne-fuzz", {"NMT_API_TIMEOUT": "5"}) as url:
        yield url


def errors_are_json(ctx, response, case):
    """Every 4xx/5xx answer is JSON with an "error": a string on LibreTranslate's paths, {"code", "message"}
    under /api/."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return None
    content_type = next((v[0] for k, v in response.headers.items() if k.lower() == "content-type"), "")
    assert content_type.startswith("application/json"), (
        f"{response.status_code} {case.path}: not JSON: {response.content[:200]!r}"
    )
    error = json.loads(response.content)["error"]
    if case.path.startswith("/api/"):
        assert isinstance(error, dict) and error["code"] and error["message"], error
    else:
        assert isinstance(error, str) and error, error
    return None


def test_api_fuzz_no_500_and_json_errors(fuzz_url, transactional_db):
    """Every operation of /api/openapi.json, with valid and invalid data that schemathesis derives from it.
    (Driven through hypothesis directly: schemathesis' own pytest plugin does not run under pytest 9.)"""
    schema = schemathesis.openapi.from_url(f"{fuzz_url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    fuzzed = set()
    for operation in operations:
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def check(case):
                case.call_and_validate(base_url=fuzz_url, checks=[not_a_server_error, errors_are_json], timeout=30)

            try:
                check()
            except Unsatisfiable:
                # No invalid request exists for an operation without parameters or body (GET /languages).
                assert mode is GenerationMode.NEGATIVE, operation.label
                continue
            fuzzed.add(operation.label)
    assert len(fuzzed) == len(operations)


# --- the websocket protocol ----------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
MESSAGE_TYPES = st.sampled_from(["translate", "subscribe", "unsubscribe", "cancel", "ping", "refine", ""])
MESSAGES = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.fixed_dictionaries(
        {"type": MESSAGE_TYPES | JSON_VALUES},
        optional={
            "text": JSON_VALUES,
            "job": JSON_VALUES,
            "document": JSON_VALUES,
            "source_lang": st.sampled_from(["en", "pt", "de"]) | JSON_VALUES,
            "target_lang": st.sampled_from(["en", "pt", "de"]) | JSON_VALUES,
            "translator": JSON_VALUES,
            "options": JSON_VALUES,
            "refine": JSON_VALUES,
            "request_id": JSON_VALUES,
        },
    ).map(json.dumps),
    st.text(min_size=1, max_size=60),  # not JSON at all (lone surrogates arrive JSON-escaped above)
    st.binary(min_size=1, max_size=60),
)
REPLY_TYPES = {"error", "accepted", "job", "pong", "unsubscribed", "document", "refinement"}


@pytest.mark.parametrize("path", ["/ws/jobs/", "/ws/documents/"])
def test_websocket_fuzz_every_frame_is_answered_and_the_socket_survives(path, session_key, parked):
    @given(frames=st.lists(MESSAGES, min_size=1, max_size=6))
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def check(frames):
        async def scenario():
            comm = WebsocketCommunicator(application, path, headers=ws_headers(session_key))
            assert (await comm.connect())[0]
            for frame in frames:
                if isinstance(frame, bytes):
                    await comm.send_to(bytes_data=frame)
                else:
                    await comm.send_to(text_data=frame.encode("utf-8", "replace").decode() if frame else frame)
            await comm.send_json_to({"type": "ping"})
            while True:  # everything up to the pong: well-formed frames, never a close
                out = await comm.receive_output(timeout=20)
                assert out["type"] == "websocket.send", (frames, out)
                reply = json.loads(out["text"])
                assert reply["type"] in REPLY_TYPES, reply
                if reply["type"] == "error":
                    assert reply["code"] != "internal" and reply["message"], (frames, reply)
                if reply["type"] == "pong":
                    break
            await comm.disconnect()

        async_to_sync(scenario)()

    check()
