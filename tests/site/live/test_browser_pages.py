"""The documents page and the dashboard (built by other parts of the site) in the same headless Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.worker


def test_upload_a_document_and_see_progress_reach_100(browser, live_url, tmp_path):
    doc = tmp_path / "letter.txt"
    doc.write_text("Good morning.\n\nThe house is big. The cat sleeps on the sofa.\n\nThank you very much.\n")
    browser.get(f"{live_url}/documents/")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#pair option"))
    Select(browser.find_element(By.ID, "pair")).select_by_value("en-pt")
    browser.find_element(By.ID, "files").send_keys(str(doc))
    browser.find_element(By.ID, "upload").click()

    # The page re-renders the job table on every progress message, so read the row in one script call
    # (a WebElement found first and read later can be replaced in between: a stale reference).
    read_row = """
        const row = document.querySelector('#documents tbody tr');
        if (!row) return null;
        const bar = row.querySelector('progress');
        const link = row.querySelector('.actions a');
        return {text: row.innerText, value: bar && bar.value, max: bar && bar.max, link: link && link.textContent};
    """

    def finished_row(b):
        row = b.execute_script(read_row)
        return row if row and row["max"] and row["value"] == row["max"] and row["link"] else False

    row = WebDriverWait(browser, 60, poll_frequency=0.1).until(finished_row)
    assert "letter.txt" in row["text"] and "Done" in row["text"]
    assert int(row["value"]) == int(row["max"]) > 0
    assert row["link"].strip() == "Download"


def test_open_the_dashboard(browser, live_url):
    browser.get(f"{live_url}/dashboard/")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.TAG_NAME, "h1"))
    assert "Quality vs speed" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.ID, "pareto-latency").is_displayed()
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
