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
        # Read in one script call: the page re-renders (and reloads itself when the pushed state turns done),
        # so an element found by one WebDriver call can be stale by the next.
        state = b.execute_script("const e = document.querySelector('#run-state .state'); return e && e.textContent")
        if state:
            seen.add(state.strip())
        # After the reload the results table is there.
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


def test_overview_opens_on_the_test_set_named_in_the_link(browser, live_url):
    """#ts=<test set> picks the plotted test set (the README screenshot uses it); clicking another updates it."""
    from tests.site.dashboard.reports import make_report, stored_run

    report = make_report()
    second = make_report(test_id="en-de/other")
    for system, other in zip(report["systems"], second["systems"], strict=False):
        system["results"].update(other["results"])
    report["test_sets"].update(second["test_sets"])
    run = stored_run("two test sets", report)

    def bold_link(b):
        links = b.find_elements(By.CSS_SELECTOR, "#testset-picker a")
        return [a.text for a in links if a.value_of_css_property("font-weight") == "700"]

    browser.get(f"{live_url}/dashboard/?run={run.id}#ts=en-de/other")
    WebDriverWait(browser, 30).until(lambda b: bold_link(b) == ["en-de/other"])
    browser.find_element(By.CSS_SELECTOR, '#testset-picker a[data-ts="en-de/toy"]').click()
    WebDriverWait(browser, 10).until(lambda b: bold_link(b) == ["en-de/toy"])
    assert browser.current_url.endswith("#ts=en-de%2Ftoy")


def test_shipped_run_opens_on_libreoffice_says_state_once_and_why_segments_have_no_outputs(browser, live_url):
    """The shipped en-de report: four test sets with the same systems; Bible comes first by name."""
    from pathlib import Path

    from nmt_site.dashboard import services
    from tests.site.dashboard.reports import stored_run

    shipped = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "en-de-models.json"
    run = services.import_report(shipped, label="shipped en-de")
    browser.get(f"{live_url}/dashboard/?run={run.id}")

    def bold_link(b):
        links = b.find_elements(By.CSS_SELECTOR, "#testset-picker a")
        return [a.text for a in links if a.value_of_css_property("font-weight") == "700"]

    WebDriverWait(browser, 30).until(lambda b: bold_link(b))
    assert bold_link(browser) == ["en-de/libreoffice"]
    # The drill-down of an imported run says why there are no outputs.
    browser.get(f"{live_url}/dashboard/runs/{run.id}/segments")
    note = browser.find_element(By.ID, "no-outputs").text
    assert "per-segment outputs" in note and "en-de-models.json" in note
    # A finished run's state is said once, not "done done".
    measured = stored_run("measured here")
    measured.progress_message = "done"
    measured.save()
    browser.get(f"{live_url}/dashboard/runs/{measured.id}/")
    state = browser.find_element(By.ID, "run-state").text
    assert "State: done" in state and "done done" not in state
