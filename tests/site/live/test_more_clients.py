"""Two more existing LibreTranslate clients, unchanged, against the live server (daphne + the real worker):
deep-translator (PyPI; POSTs its parameters in the query string and always sends an api_key) and the npm
`libretranslate` package run by node (checks both codes against /languages first, then POSTs JSON). Plus the
websocket limits that only a real server shows: a frame over the size limit is closed with a reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile

import pytest
import websocket  # websocket-client (a selenium dependency): a plain synchronous client
from deep_translator import LibreTranslator

from ..conftest import ROOT

pytestmark = pytest.mark.worker

NPM_PACKAGE = "libretranslate@1.0.1"


def test_deep_translator_translate_batch_and_file(live_url, transactional_db, tmp_path):
    lt = LibreTranslator(source="en", target="pt", custom_url=f"{live_url}/", api_key="not-a-key-of-ours")
    assert "casa" in lt.translate("The house is big.").lower()
    batch = lt.translate_batch(["Good morning.", "The cat sleeps."])
    assert len(batch) == 2 and all(isinstance(t, str) and t.strip() for t in batch)
    doc = tmp_path / "note.txt"
    doc.write_text("Thank you very much.")
    assert lt.translate_file(str(doc)).strip()
    back = LibreTranslator(source="pt", target="en", custom_url=f"{live_url}/", api_key="x")
    assert "house" in back.translate("A casa é grande.").lower()


@pytest.fixture(scope="module")
def npm_libretranslate():
    """The npm package's own file, fetched with npm (`npm pack`, no install scripts, no dependencies needed
    at run time) into var/; node runs it unchanged."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.fail("node and npm are needed for the npm client test (Debian: apt-get install nodejs npm)")
    folder = ROOT / "var" / "npm-clients"
    script = folder / "package" / "dist" / "translate.js"
    if not script.exists():
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent"], cwd=folder, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        with tarfile.open(folder / done.stdout.strip().splitlines()[-1]) as tar:
            tar.extractall(folder, filter="data")
    return node, script


def run_npm_client(npm_libretranslate, live_url: str, **request) -> dict:
    node, script = npm_libretranslate
    code = (
        f"const {{ translate }} = require({json.dumps(str(script))});"
        f"translate({{ ...{json.dumps(request)}, apiurl: {json.dumps(live_url)} }})"
        ".then(r => console.log(JSON.stringify({ ok: r })), e => console.log(JSON.stringify({ error: String(e) })));"
    )
    done = subprocess.run([node, "-e", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_npm_libretranslate_client(npm_libretranslate, live_url, transactional_db, tiny_engines):
    out = run_npm_client(npm_libretranslate, live_url, query="The house is big.", source="en", target="pt")
    assert "casa" in out.get("ok", "").lower(), out
    # en→de: the client looks "de" up in /languages before translating (a target-only language there)
    out = run_npm_client(npm_libretranslate, live_url, query="t6 t7 t8", source="en", target="de")
    assert isinstance(out.get("ok"), str) and out["ok"].strip(), out
    out = run_npm_client(npm_libretranslate, live_url, query="Hi", source="en", target="xx")
    assert "not found" in out.get("error", ""), out


def _socket(live_url: str):
    ws_url = live_url.replace("http://", "ws://") + "/ws/jobs/"
    return websocket.create_connection(ws_url, origin=live_url, timeout=30)


def test_big_frames_are_closed_with_a_reason_on_the_real_server(live_url, transactional_db):
    from django.conf import settings

    limit = settings.NMT_WS_MAX_MESSAGE_BYTES
    for size in (limit + 1, 2 * 1024 * 1024):  # over our limit; over daphne's own 1 MiB default too
        ws = _socket(live_url)
        ws.send(json.dumps({"type": "ping", "pad": "x" * size}))
        frames = []
        try:
            while True:
                opcode, data = ws.recv_data(control_frame=True)
                frames.append((opcode, data))
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
        except websocket.WebSocketConnectionClosedException:
            pass
        close = [data for opcode, data in frames if opcode == websocket.ABNF.OPCODE_CLOSE]
        assert close, f"{size} bytes: no close frame, the socket was dropped ({frames})"
        code, reason = int.from_bytes(close[0][:2], "big"), close[0][2:].decode()
        texts = [json.loads(data) for opcode, data in frames if opcode == websocket.ABNF.OPCODE_TEXT]
        if size <= 1024 * 1024:  # ours to refuse: an error frame that says why, then our close code
            assert texts and texts[0]["code"] == "too_big" and str(limit) in texts[0]["message"], frames
            assert code == 4009, (size, close[0])
        else:  # refused by daphne's own limit before it reaches us: the protocol's close, with its reason
            assert code == 1009 and "payload limit" in reason, (size, close[0])
        ws.close()
    ws = _socket(live_url)  # the server goes on answering
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv()) == {"type": "pong"}
    ws.close()
