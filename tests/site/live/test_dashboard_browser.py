"""The dashboard in headless Chromium: queue a run from the form, watch the run page until it is done."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.worker


def test_start_a_run_from_the_browser_and_watch_it_finish(browser, live_url):
    browser.get(f"{live_url}/dashboard/")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "run-form"))
    browser.find_element(By.CSS_SELECTOR, 'input[name=translator][value="bergamot-en-pt"]').click()
    browser.find_element(By.CSS_SELECTOR, 'input[name=test_set][value="en-pt/tiny"]').click()
    browser.find_element(By.NAME, "label").send_keys("from the browser")
    browser.find_element(By.CSS_SELECTOR, "#run-form button[type=submit]").click()

    WebDriverWait(browser, 30).until(lambda b: "/dashboard/runs/" in b.current_url)
    seen = set()

    def done(b):
        states = b.find_elements(By.CSS_SELECTOR, "#run-state .state")
        if states:
            seen.add(states[0].text)
        # The page reloads itself when the pushed state turns done: then the results table is there.
        return b.find_elements(By.CSS_SELECTOR, "table.results tbody tr.fam-AR")

    WebDriverWait(browser, 90, poll_frequency=0.1).until(done)
    assert browser.find_element(By.TAG_NAME, "h1").text == "from the browser"
    assert browser.find_element(By.CSS_SELECTOR, "#run-state .state").text == "done", seen
    row = browser.find_element(By.CSS_SELECTOR, "table.results tbody tr.fam-AR")
    assert "bergamot-en-pt" in row.text and "baseline" in row.text
    assert browser.find_element(By.ID, "pareto-latency").is_displayed()
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe


def test_bad_form_input_shows_the_message(browser, live_url):
    browser.get(f"{live_url}/dashboard/")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "run-form"))
    browser.find_element(By.CSS_SELECTOR, "#run-form button[type=submit]").click()  # nothing chosen
    WebDriverWait(browser, 10).until(lambda b: "translator" in b.find_element(By.ID, "form-message").text)
    assert "/dashboard/runs/" not in browser.current_url
