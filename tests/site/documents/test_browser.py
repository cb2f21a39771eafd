"""The issue's "done when": in a real browser (headless Chromium), upload a multi-page .docx and an .srt,
watch the progress bars, and download both translated with their formatting intact."""

from __future__ import annotations

import io
import shutil
import urllib.request

import pytest

from ..daphne_server import serve_app
from . import builders

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def docs_live_url(celery_worker_process):
    """daphne serving the ASGI app on the test database, Redis and queue (like the worker fixture)."""
    with serve_app("daphne-documents") as url:
        yield url


@pytest.fixture
def docs_browser(docs_live_url, transactional_db):
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
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_upload_docx_and_srt_watch_progress_and_download(docs_browser, docs_live_url, tmp_path):
    import docx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    files = {"report.docx": builders.docx(), "movie.srt": builders.srt()}
    paths = []
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
        paths.append(str(tmp_path / name))

    b = docs_browser
    b.get(f"{docs_live_url}/documents/")
    # Bergamot en→pt is the fast engine of the suite; pairs are listed alphabetically, so choose it.
    Select(b.find_element(By.ID, "pair")).select_by_value("en-pt")
    assert b.find_element(By.ID, "translator").get_attribute("value").endswith("en-pt")
    b.find_element(By.ID, "files").send_keys("\n".join(paths))
    b.find_element(By.ID, "upload").click()

    def both_done(driver):
        rows = driver.find_elements(By.CSS_SELECTOR, "#documents tbody tr")
        links = driver.find_elements(By.CSS_SELECTOR, "#documents tbody tr a.button")
        return len(rows) == 2 and len(links) == 2

    try:
        WebDriverWait(b, 60).until(both_done)
    except Exception:
        pytest.fail(
            f"documents never finished on the page:\n{b.find_element(By.ID, 'documents').text}\n"
            f"error box: {b.find_element(By.ID, 'error').text}"
        )
    # One script call reads the table: the page re-renders it on every progress message, so elements
    # found first and read later can go stale.
    table = b.execute_script("""
        const t = document.getElementById('documents');
        return {text: t.innerText,
                bars: [...t.querySelectorAll('progress')].map(p => [p.value, p.max]),
                hrefs: [...t.querySelectorAll('tbody tr a.button')].map(a => a.href)};
    """)
    assert table["bars"] and all(value == maximum > 0 for value, maximum in table["bars"])
    assert "Done" in table["text"]

    cookie = "; ".join(f"{c['name']}={c['value']}" for c in b.get_cookies())
    downloads = {}
    for href in table["hrefs"]:
        req = urllib.request.Request(href, headers={"Cookie": cookie})
        with urllib.request.urlopen(req, timeout=10) as resp:
            name = resp.headers["Content-Disposition"].split("filename=")[1].strip('"')
            downloads[name] = resp.read()
    assert set(downloads) == {"report.pt.docx", "movie.pt.srt"}

    before, after = (
        docx.Document(io.BytesIO(files["report.docx"])),
        docx.Document(io.BytesIO(downloads["report.pt.docx"])),
    )
    assert [len(p.runs) for p in after.paragraphs] == [len(p.runs) for p in before.paragraphs]
    assert [(r.bold, r.italic) for r in after.paragraphs[1].runs] == [
        (r.bold, r.italic) for r in before.paragraphs[1].runs
    ]
    assert "gato" in after.paragraphs[1].text.lower() and len(after.tables[0].rows) == 2
    cues = downloads["movie.pt.srt"].decode().strip().split("\n\n")
    assert [c.split("\n")[:2] for c in cues] == [
        c.split("\n")[:2] for c in files["movie.srt"].decode().strip().split("\n\n")
    ]
    assert "café" in cues[1].lower()
    # Nobody else can download them.
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(table["hrefs"][0])
    assert exc.value.code == 404
