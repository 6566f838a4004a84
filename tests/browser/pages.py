"""What the browser tests share: waiting for the page's JavaScript, finding segments and code buttons,
pressing keys, and reading back what was stored. (The ``log_in`` fixture lives in conftest.py.)"""

from pathlib import Path

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from coder import db as store

FIRST = "支援員さんと情報を共有しています。"  # kaede's first interviewee segment; suggested: information_sharing
SHARING, EFFECTS = "information_sharing", "effects"
PNG = b"\x89PNG\r\n\x1a\n"
WAIT = 15  # seconds an explicit wait may take before the test fails


def until(driver, condition):
    """Wait for ``condition(driver)`` while the page's JavaScript (re)draws the segments."""
    wait = WebDriverWait(
        driver, WAIT, poll_frequency=0.1, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )
    return wait.until(condition)


def segment(driver, text):
    return driver.find_element(By.XPATH, f"//article[contains(@class, 'seg')][p[contains(., '{text}')]]")


def classes(driver, text, code=None):
    """The class list of a segment, or of one of its code buttons."""
    element = segment(driver, text)
    if code:
        element = element.find_element(By.CSS_SELECTOR, f".chip[data-code='{code}']")
    return element.get_attribute("class").split()


def open_coding(driver, base, transcript=1):
    """Open a transcript's coding view and wait until the buttons are drawn and the first segment has focus."""
    driver.get(f"{base}/transcripts/{transcript}")
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "article.seg.current .chip"))
    return driver


def press(driver, key):
    ActionChains(driver).send_keys(key).perform()


def codings(project):
    database = store.open_db(project)
    try:
        return sorted(
            (r["coder"], r["text"], r["code"], r["status"])
            for r in database.query(
                "select c.coder, s.text, c.code, c.status from codings c join segments s on s.id = c.segment_id"
            )
        )
    finally:
        database.close()


SHOTS = Path("/tmp/shots")  # screenshots a test takes for a person to look at (not compared)


def shoot(driver, name):
    """Save a screenshot of the page as ``/tmp/shots/NAME.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
