"""Screenshot of the dashboard overview for the README (docs/dashboard.png), taken with headless Chromium.

    .venv/bin/python scripts/screenshot_dashboard.py [--report benchmarks/results/en-de-models.json] [--out docs/dashboard.png]

A scratch SQLite database gets the report imported exactly as a fresh install's setup seeding does
(`manage.py benchmark --if-none` with NMT_SHIPPED_BENCHMARKS=REPORT); daphne serves the real ASGI app; Chromium
opens /dashboard/ and saves the window once the charts have drawn. Needs Redis at REDIS_URL (the pages use the
channel layer) and Debian's chromium + chromium-driver.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "results" / "en-de-models.json"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "dashboard.png"))
    ap.add_argument("--height", type=int, default=1500)
    ap.add_argument("--test-set", default="en-de/libreoffice", help="the test set the plots show")
    args = ap.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="nmt-shot-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nmt_site.settings",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "NMT_SHIPPED_BENCHMARKS": str(Path(args.report).resolve()),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "benchmark", "--if-none"], cwd=ROOT, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "nmt_site.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/dashboard/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("daphne did not start") from None
                time.sleep(0.3)
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            f"--window-size=1280,{args.height}",
            "--hide-scrollbars",
        ):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        try:
            driver.get(f"{url}/dashboard/#ts={args.test_set}")
            time.sleep(3)  # Chart.js animates the first draw
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(args.out)
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
