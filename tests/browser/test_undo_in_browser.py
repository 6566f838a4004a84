"""Undo in a real browser: `z` takes back the analyst's last coding actions, one by one."""

import pytest
from selenium.webdriver.common.by import By

from .pages import EFFECTS, FIRST, classes, codings, open_coding, press, shoot, until

pytestmark = pytest.mark.browser
SECOND = "主治医の意見も職場に伝えてもらいました。"
AUTONOMY = "autonomy"


def key_of(codebook, code):
    return str(codebook.ids.index(code) + 1)


def test_z_takes_back_a_code_just_applied_with_a_number_key(browser, log_in, server, suggested_project, codebook):
    driver = open_coding(log_in(browser(), "hanako"), server)
    press(driver, key_of(codebook, EFFECTS))
    until(driver, lambda d: "confirmed" in classes(d, FIRST, EFFECTS))
    shoot(driver, "undo_code_applied")
    press(driver, "z")
    until(driver, lambda d: "confirmed" not in classes(d, FIRST, EFFECTS))
    shoot(driver, "undo_code_gone")
    chip = driver.find_element(By.CSS_SELECTOR, f"article.current .chip[data-code={EFFECTS}]")
    assert chip.get_attribute("aria-pressed") == "false" and "current" in classes(driver, FIRST)
    assert codings(suggested_project) == []


def test_z_twice_walks_back_two_actions_on_two_segments(browser, log_in, server, suggested_project, codebook):
    driver = open_coding(log_in(browser(), "hanako"), server)
    press(driver, key_of(codebook, EFFECTS))  # on the first segment
    until(driver, lambda d: "confirmed" in classes(d, FIRST, EFFECTS))
    press(driver, "j")
    press(driver, key_of(codebook, AUTONOMY))  # on the second
    until(driver, lambda d: "confirmed" in classes(d, SECOND, AUTONOMY))
    press(driver, "z")  # the second segment's code goes; the first keeps its code
    until(driver, lambda d: "confirmed" not in classes(d, SECOND, AUTONOMY))
    assert "confirmed" in classes(driver, FIRST, EFFECTS) and "current" in classes(driver, SECOND)
    shoot(driver, "undo_first_of_two")
    press(driver, "z")  # then the first's, and the first segment is selected again
    until(driver, lambda d: "confirmed" not in classes(d, FIRST, EFFECTS))
    assert "current" in classes(driver, FIRST)
    shoot(driver, "undo_second_of_two")
    assert codings(suggested_project) == []
    press(driver, "z")  # nothing left to take back
    until(driver, lambda d: d.find_element(By.ID, "message").text == "元に戻せる操作はありません。")
    assert "current" in classes(driver, FIRST) and "confirmed" not in classes(driver, SECOND, AUTONOMY)
