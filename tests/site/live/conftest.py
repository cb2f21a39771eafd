"""Live-server fixtures: the real ASGI app under daphne (a subprocess on the test database, like the worker),
tiny torch translators registered through NMT_CHECKPOINTS_DIR, and headless Debian Chromium via Selenium.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..conftest import ROOT
from ..daphne_server import serve_app
from ..tiny_engines import saved_tiny_engines

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def live_url(celery_worker_process):
    """Base URL of daphne serving nmt_site.asgi on the test database and Redis."""
    with serve_app("daphne") as url:
        yield url


@pytest.fixture(scope="module")
def tiny_engines():
    """A tiny CMLM and a tiny AR transformer for en→de, registered for the module."""
    yield from saved_tiny_engines({"tiny-cmlm-en-de": "cmlm", "tiny-ar-en-de": "transformer"}, steps=120)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def browser(request, live_url, transactional_db):
    """Headless Debian Chromium through chromedriver; a screenshot and the page HTML land in test-artifacts/
    when the test fails."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("chromium and chromedriver are needed (apt-get install chromium chromium-driver; .ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = ARTIFACTS / request.node.name.replace("/", "_")
        driver.save_screenshot(f"{stem}.png")
        Path(f"{stem}.html").write_text(driver.page_source)
        try:
            logs = driver.get_log("browser")
            Path(f"{stem}.console.txt").write_text("\n".join(str(line) for line in logs))
        except Exception:
            pass
    driver.quit()
