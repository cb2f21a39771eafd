"""The translate page in headless Chromium against daphne + the real worker: what a person does and sees."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.worker
WAIT = 60  # the first job of a torch engine loads it in the worker


def wait(driver, condition, timeout=WAIT):
    # Re-rendered elements can go stale between a find and a read: that is "not yet", not a failure.
    return WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    ).until(condition)


def open_page(browser, live_url, query=""):
    browser.get(f"{live_url}/{query}")
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "#translator option")))
    browser.find_element(By.ID, "live").click() if browser.find_element(By.ID, "live").is_selected() else None


def output_done(browser):
    out = browser.find_element(By.ID, "output")
    return out.get_attribute("data-state") == "done" and out.text.strip()


def test_translate_a_sentence(browser, live_url):
    open_page(browser, live_url)
    Select(browser.find_element(By.ID, "source")).select_by_value("en")
    Select(browser.find_element(By.ID, "target")).select_by_value("pt")
    browser.find_element(By.ID, "text").send_keys("The house is big.")
    assert browser.find_element(By.ID, "counter").text.startswith("17 /")
    browser.find_element(By.ID, "submit").click()
    wait(browser, output_done)
    assert "casa" in browser.find_element(By.ID, "output").text.lower()
    assert "total" in browser.find_element(By.ID, "latency").text
    assert browser.find_element(By.ID, "copy").is_enabled()
    # The state is in the URL, so the link can be shared.
    assert "q=The+house+is+big." in browser.current_url and "target=pt" in browser.current_url


def test_shared_url_auto_detect_live_translation_and_shortcuts(browser, live_url):
    # Live translation is on by default: a shared link translates on its own.
    browser.get(f"{live_url}/?source=auto&target=en&q=Eu+gosto+muito+de+caf%C3%A9.")
    wait(browser, output_done)
    detected = browser.find_element(By.ID, "detected").text
    assert "Portuguese" in detected and "%" in detected
    assert "coffee" in browser.find_element(By.ID, "output").text.lower()
    # Typing translates after a pause (debounced); Ctrl+Enter translates at once.
    text = browser.find_element(By.ID, "text")
    text.clear()
    text.send_keys("Bom dia, amigos.")
    wait(browser, lambda b: "friends" in b.find_element(By.ID, "output").text.lower() and output_done(b))
    text.send_keys(" Obrigado.")
    text.send_keys(Keys.CONTROL, Keys.ENTER)
    wait(browser, lambda b: "thank" in b.find_element(By.ID, "output").text.lower())
    # Alt+S swaps the languages (the translation becomes the input).
    Select(browser.find_element(By.ID, "source")).select_by_value("pt")
    wait(browser, output_done)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ALT, "s")
    assert Select(browser.find_element(By.ID, "source")).first_selected_option.get_attribute("value") == "en"
    assert Select(browser.find_element(By.ID, "target")).first_selected_option.get_attribute("value") == "pt"


def test_compare_mode_shows_every_translator_with_latency(browser, live_url, tiny_engines):
    open_page(browser, live_url, "?source=en&target=de")
    browser.find_element(By.ID, "compare-toggle").click()
    boxes = browser.find_elements(By.CSS_SELECTOR, "#compare-list input")
    # Every translator of the pair: the tiny engines and the AR transformer's CTranslate2 copy.
    expected = sorted([*tiny_engines, "tiny-ar-en-de-ct2"])
    assert sorted(b.get_attribute("value") for b in boxes) == expected
    assert all(b.is_selected() for b in boxes)
    browser.find_element(By.ID, "text").send_keys("t6 t7 t8 t9")
    browser.find_element(By.ID, "submit").click()
    done = "#compare-results .card[data-state=done]"
    wait(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, done)) == len(expected))
    for card in browser.find_elements(By.CSS_SELECTOR, "#compare-results .card"):
        assert card.find_element(By.CSS_SELECTOR, ".result").text.strip()
        assert "ms" in card.find_element(By.CSS_SELECTOR, ".lat").text


def test_compare_list_is_hidden_with_compare_off_and_ticked_after_a_pair_change(browser, live_url, tiny_engines):
    open_page(browser, live_url, "?source=en&target=de")
    compare_list = browser.find_element(By.ID, "compare-list")
    # The hidden attribute must win over the list's display:flex.
    assert not compare_list.is_displayed()
    browser.find_element(By.ID, "compare-toggle").click()
    assert compare_list.is_displayed()
    # A new target: the old pair's ticked translators are gone, the new pair's are ticked, not none.
    Select(browser.find_element(By.ID, "target")).select_by_value("pt")
    boxes = browser.find_elements(By.CSS_SELECTOR, "#compare-list input")
    assert boxes and all(b.is_selected() for b in boxes)
    assert all(not b.get_attribute("value").endswith("-en-de") for b in boxes)
    # Nothing ticked: the user is told, not left with a silent no-op.
    for box in boxes:
        box.click()
    browser.find_element(By.ID, "text").send_keys("The house is big.")
    browser.find_element(By.ID, "submit").click()
    error = wait(browser, EC.visibility_of_element_located((By.ID, "error")))
    assert "tick at least one" in error.text
    browser.find_element(By.ID, "compare-toggle").click()
    assert not compare_list.is_displayed()


def test_detected_language_without_translator_says_so_and_clears_the_old_result(browser, live_url):
    open_page(browser, live_url, "?source=en&target=pt")
    text = browser.find_element(By.ID, "text")
    text.send_keys("The house is big.")
    browser.find_element(By.ID, "submit").click()
    wait(browser, output_done)
    # Portuguese text, detected, into Portuguese: no translator for that pair.
    Select(browser.find_element(By.ID, "source")).select_by_value("auto")
    text.clear()
    text.send_keys("Eu gosto muito de café.")
    browser.find_element(By.ID, "submit").click()
    error = wait(browser, EC.visibility_of_element_located((By.ID, "error")))
    assert "Detected Portuguese" in error.text and "no translator goes from Portuguese to Portuguese" in error.text
    assert browser.find_element(By.ID, "output").text.strip() == ""
    assert browser.find_element(By.ID, "latency").text == ""


def test_refinement_steps_appear_for_cmlm(browser, live_url, tiny_engines):
    open_page(browser, live_url, "?source=en&target=de&translator=tiny-cmlm-en-de")
    refine = browser.find_element(By.ID, "refine-toggle")
    assert refine.is_enabled()
    refine.click()
    browser.find_element(By.ID, "text").send_keys("t6 t7 t8 t9 t10")
    browser.find_element(By.ID, "submit").click()
    wait(browser, output_done)
    steps = wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#refinement-steps li.step"))
    iterations = [int(s.get_attribute("data-iteration")) for s in steps]
    assert len(iterations) >= 2 and iterations == sorted(iterations)
    assert "re-predicted" in steps[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "#refinement-steps mark")  # first step: every word is new
    last_words = [e.text for e in steps[-1].find_elements(By.CSS_SELECTOR, "span:not(.muted), mark")]
    assert " ".join(last_words) == browser.find_element(By.ID, "output").text.strip()
    # An AR translator has no refinement to show: the toggle is off and disabled.
    Select(browser.find_element(By.ID, "translator")).select_by_value("tiny-ar-en-de")
    assert not browser.find_element(By.ID, "refine-toggle").is_enabled()


def test_dark_mode_errors_and_phone_width(browser, live_url):
    open_page(browser, live_url)
    html = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, "theme-toggle").click()
    assert html.get_attribute("data-theme") in ("dark", "light")
    first = html.get_attribute("data-theme")
    browser.find_element(By.ID, "theme-toggle").click()
    assert html.get_attribute("data-theme") != first
    bg = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    browser.find_element(By.ID, "theme-toggle").click()
    assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") != bg
    # Over the limit: the counter warns and Translate is disabled.
    limit = int(browser.find_element(By.ID, "counter").text.split("/")[1])
    browser.execute_script(
        "const t = document.getElementById('text'); t.value = 'x'.repeat(arguments[0]);"
        "t.dispatchEvent(new Event('input'));",
        limit + 1,
    )
    assert "over" in browser.find_element(By.ID, "counter").get_attribute("class")
    assert not browser.find_element(By.ID, "submit").is_enabled()
    # Every form control has an accessible name.
    unnamed = browser.execute_script("""
        return [...document.querySelectorAll('select, textarea, input, button')].filter(el => {
          const label = el.labels && el.labels.length && el.labels[0].textContent.trim();
          return !(label || el.getAttribute('aria-label') || el.textContent.trim());
        }).map(el => el.id);""")
    assert unnamed == []
    # Phone width: nothing overflows sideways.
    browser.set_window_size(390, 844)
    browser.get(f"{live_url}/")
    wait(browser, EC.presence_of_element_located((By.CSS_SELECTOR, "#translator option")))
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
