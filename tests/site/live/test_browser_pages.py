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

    def finished_bar(b):
        bars = b.find_elements(By.CSS_SELECTOR, "#documents progress")
        return bars and bars[0].get_attribute("value") == bars[0].get_attribute("max") and \
            b.find_elements(By.CSS_SELECTOR, "#documents .actions a")

    WebDriverWait(browser, 60, poll_frequency=0.1).until(finished_bar)
    row = browser.find_element(By.CSS_SELECTOR, "#documents tbody tr")
    assert "letter.txt" in row.text and "Done" in row.text
    bar = row.find_element(By.TAG_NAME, "progress")
    assert int(bar.get_attribute("value")) == int(bar.get_attribute("max")) > 0
    assert row.find_element(By.CSS_SELECTOR, ".actions a").text == "Download"


def test_open_the_dashboard(browser, live_url):
    browser.get(f"{live_url}/dashboard/")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.TAG_NAME, "h1"))
    assert "Quality vs speed" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.ID, "pareto-latency").is_displayed()
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe
