"""Real-browser fixtures: the web app on a local port, and headless Debian chromium driving it.

Selenium Manager is never used (no network at test time): the driver and browser are Debian's
``/usr/bin/chromedriver`` and ``/usr/bin/chromium``, which ``make test`` installs when missing.
"""

import os
import threading
from pathlib import Path

import pytest

from .pages import until

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


@pytest.fixture
def suggested_project(project, codebook, embedder):
    """The ``project`` fixture with the real suggester's suggestions stored (kaede's first segment:
    information_sharing)."""
    from coder.db import open_db
    from coder.suggest.service import suggest_project

    database = open_db(project)
    try:
        suggest_project(database, codebook)
    finally:
        database.close()
    return project


@pytest.fixture
def server(suggested_project):
    """The app served on 127.0.0.1 in a background thread; its base URL."""
    from werkzeug.serving import make_server

    from web import create_app

    app = create_app({"DATABASE": str(suggested_project), "RETRAIN": False, "SECRET_KEY": "test"})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)
    httpd.server_close()


@pytest.fixture
def browser(tmp_path, monkeypatch):
    """``browser()`` starts a fresh headless chromium (own profile, so no shared cookies); all quit at teardown."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(
            f"browser tests need {' and '.join(missing)}: run `apt-get install chromium chromium-driver` "
            "(`make test` does this when they are missing)",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager look for a driver online
    drivers = []

    def start():
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in CHROME_ARGS:
            options.add_argument(arg)
        options.add_argument(f"--user-data-dir={tmp_path / f'chromium-profile-{len(drivers)}'}")
        options.unhandled_prompt_behavior = "ignore"  # leave an alert() open so a test can see it
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.quit()


@pytest.fixture
def log_in(server):
    """``log_in(driver, "hanako")``: fill in and submit the login form; returns on the dashboard."""

    def _log_in(driver, name):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC

        driver.get(server + "/login")
        driver.find_element(By.NAME, "name").send_keys(name)
        driver.find_element(By.NAME, "password").send_keys(f"{name}-password")
        driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        until(driver, EC.url_to_be(server + "/"))
        return driver

    return _log_in
