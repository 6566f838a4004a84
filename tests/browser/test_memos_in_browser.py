"""Memos in a real browser: key m in the coding view, and markup in a memo shown as text."""

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from coder import db as store
from coder.access import Policy
from coder.memos import visible

from .pages import FIRST, open_coding, press, segment, until

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def test_m_writes_a_memo_on_the_selected_segment_shown_as_text(browser, log_in, server, suggested_project):
    driver = open_coding(log_in(browser(), "hanako"), server)
    press(driver, "m")
    area = until(driver, lambda d: segment(d, FIRST).find_element(By.CSS_SELECTOR, "form.memo-edit textarea"))
    area.send_keys(XSS)
    area.send_keys(Keys.CONTROL, Keys.ENTER)
    until(
        driver, lambda d: "メモ 1" in segment(d, FIRST).text and not d.find_elements(By.CSS_SELECTOR, "form.memo-edit")
    )
    assert f"メモ（hanako）：{XSS}" in segment(driver, FIRST).text
    driver.refresh()
    until(driver, lambda d: f"メモ（hanako）：{XSS}" in segment(d, FIRST).text)
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert
    assert not driver.find_elements(By.CSS_SELECTOR, "#segments img, #segments .why script")
    database = store.open_db(suggested_project)
    assert [(m["author"], m["text"]) for m in visible(database, Policy.owner())] == [("hanako", XSS)]
    database.close()
