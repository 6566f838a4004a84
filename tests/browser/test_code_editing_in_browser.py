"""The codebook editor in a real browser: a supervisor adds a sub-code, an analyst finds it with `/`."""

import time

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from .pages import (
    FIRST,
    SHARING,
    classes,
    codings,
    open_coding,
    press,
    segment,
    shoot,
    until,
)

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"


def add_code(driver, server, code_id, name, parent=None):
    """As a supervisor on コードブック, fill in and send the add-a-code form; returns the new code's section."""
    driver.get(server + "/codebook")
    form = driver.find_element(By.CSS_SELECTOR, "form.add-code")
    form.find_element(By.NAME, "id").send_keys(code_id)
    form.find_element(By.NAME, "name").send_keys(name)
    if parent:
        Select(form.find_element(By.NAME, "parent")).select_by_value(parent)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until(driver, lambda d: "コードを追加しました" in d.find_element(By.CSS_SELECTOR, "p.flash").text)
    return driver.find_element(By.ID, code_id)


def code_by_name(driver, typed):
    """In the coding view: press `/` and type part of a code's name; returns the filter box."""
    press(driver, "/")
    box = until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#code-filter input"))
    box.send_keys(typed)
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#code-filter li.chosen"))
    return box


def chip_of(driver, code):
    """The text and class of a code's button on the first segment."""
    chip = segment(driver, FIRST).find_element(By.CSS_SELECTOR, f".chip[data-code={code}]")
    return chip.text, chip.get_attribute("class")


def test_supervisor_adds_a_sub_code_and_the_analyst_applies_it_with_slash(browser, log_in, server, suggested_project):
    sato = log_in(browser(), "sato")
    section = add_code(sato, server, "job_coach", "ジョブコーチとの連携", parent="handover")
    shoot(sato, "codebook_sub_code_added")
    assert section.find_element(By.TAG_NAME, "h2").text.startswith("ジョブコーチとの連携")
    assert section.find_element(By.CSS_SELECTOR, "p.parent").text == "上位コード：円滑な引き継ぎ"
    assert section.find_element(By.CSS_SELECTOR, "p.parent a").get_attribute("href").endswith("#handover")
    driver = open_coding(log_in(browser(), "hanako"), server)
    assert "ほか 1 コード" in driver.find_element(By.CSS_SELECTOR, "ol.legend li.more").text
    box = code_by_name(driver, "ジョブ")
    assert [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#code-filter li")] == ["ジョブコーチとの連携"]
    shoot(driver, "coding_slash_filter")
    box.send_keys(Keys.ENTER)
    until(driver, lambda d: "confirmed" in classes(d, FIRST, "job_coach"))
    shoot(driver, "coding_sub_code_applied")
    chip = until(driver, lambda d: chip_of(d, "job_coach"))
    assert chip == ("ジョブコーチとの連携", "chip extra confirmed")
    assert not driver.find_elements(By.ID, "code-filter")
    assert ("hanako", FIRST, "job_coach", "confirmed") in codings(suggested_project)


def test_markup_in_a_code_name_shows_as_text_and_never_runs(browser, log_in, server, suggested_project):
    sato = log_in(browser(), "sato")
    section = add_code(sato, server, "xss_code", XSS)
    shoot(sato, "codebook_markup_name")
    assert section.find_element(By.TAG_NAME, "h2").text.startswith(XSS)
    driver = open_coding(log_in(browser(), "hanako"), server)
    code_by_name(driver, "onerror").send_keys(Keys.ENTER)
    until(driver, lambda d: "confirmed" in classes(d, FIRST, "xss_code"))
    shoot(driver, "coding_markup_name")
    assert until(driver, lambda d: chip_of(d, "xss_code")) == (XSS, "chip extra confirmed")
    for page in (sato, driver):
        with pytest.raises(NoAlertPresentException):
            page.switch_to.alert
        assert not page.find_elements(By.CSS_SELECTOR, "main img")


def test_enter_in_the_slash_box_only_toggles_the_code_and_leaves_the_segment_open(
    browser, log_in, server, suggested_project
):
    driver = open_coding(log_in(browser(), "hanako"), server)
    code_by_name(driver, "円滑").send_keys(Keys.ENTER)  # 円滑な引き継ぎ (handover)
    until(driver, lambda d: "confirmed" in classes(d, FIRST, "handover"))
    time.sleep(1)  # room for any further action the key sent
    shoot(driver, "coding_slash_enter_bug")
    assert "current" in classes(driver, FIRST) and "reviewed" not in classes(driver, FIRST)
    assert "rejected" not in classes(driver, FIRST, SHARING) and "✓ 確定済み" not in segment(driver, FIRST).text
    assert codings(suggested_project) == [("hanako", FIRST, "handover", "confirmed")]
