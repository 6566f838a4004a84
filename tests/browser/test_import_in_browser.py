"""The import page in a real browser: upload, read the preview, change a setting, confirm."""

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from coder import db as store

from .pages import until

pytestmark = pytest.mark.browser

FIELD = Path(__file__).parent.parent / "data" / "field"


def test_upload_preview_change_settings_and_confirm(server, browser, suggested_project):
    driver = browser()
    driver.get(server + "/login")
    driver.find_element(By.NAME, "name").send_keys("hanako")
    driver.find_element(By.NAME, "password").send_keys("hanako-password")
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    until(driver, EC.url_to_be(server + "/"))
    driver.get(server + "/import")
    driver.find_element(By.NAME, "files").send_keys(str(FIELD / "clova_note_export.txt"))
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    until(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "読み取り結果の確認"))
    page = driver.find_element(By.TAG_NAME, "main").text
    assert "話者と時刻の行の下に発言" in page and "参加者 1" in page and "支援会議メモ 1" in page
    speakers = driver.find_element(By.NAME, "speakers")
    speakers.clear()
    speakers.send_keys("参加者 1=supporter\n参加者 2=supporter")
    driver.find_element(By.CSS_SELECTOR, "button[value=preview]").click()
    until(driver, lambda d: "支援者" in d.find_element(By.CSS_SELECTOR, "table.speakers").text)
    driver.find_element(By.CSS_SELECTOR, "button[value=import]").click()
    until(driver, EC.url_to_be(server + "/"))
    assert "clova_note_export.txt を「clova_note_export」として取り込みました" in driver.page_source
    database = store.open_db(suggested_project)
    try:
        rows = store.list_speakers(database, "clova_note_export")
    finally:
        database.close()
    assert {(r["speaker"], r["perspective"], r["turns"]) for r in rows} == {
        ("参加者 1", "supporter", 2),
        ("参加者 2", "supporter", 2),
    }
