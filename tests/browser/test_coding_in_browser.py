"""The coding pages in a real browser (headless Debian chromium): what an analyst sees and does."""

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from coder import db as store

from .pages import EFFECTS, FIRST, PNG, SHARING, classes, codings, open_coding, press, segment, until

pytestmark = pytest.mark.browser


def test_keyboard_coding_is_saved_and_still_there_after_a_reload(browser, log_in, server, suggested_project):
    driver = open_coding(log_in(browser(), "hanako"), server)
    assert "suggested" in classes(driver, FIRST, SHARING) and "current" in classes(driver, FIRST)
    press(driver, "a")  # accept the suggestions
    until(driver, lambda d: "confirmed" in classes(d, FIRST, SHARING))
    press(driver, Keys.ENTER)  # confirm and next
    until(driver, lambda d: "reviewed" in classes(d, FIRST) and "current" not in classes(d, FIRST))
    assert "✓ 確定済み" in segment(driver, FIRST).text
    assert driver.find_element(By.ID, "progress-text").text == "1 / 3"

    driver.refresh()
    until(driver, lambda d: "confirmed" in classes(d, FIRST, SHARING))
    assert "reviewed" in classes(driver, FIRST) and "✓ 確定済み" in segment(driver, FIRST).text
    assert driver.find_element(By.ID, "progress-text").text == "1 / 3"
    assert codings(suggested_project) == [("hanako", FIRST, SHARING, "confirmed")]


def test_space_accepts_the_suggestions_and_confirms_in_one_key(browser, log_in, server, suggested_project):
    driver = open_coding(log_in(browser(), "hanako"), server)
    press(driver, Keys.SPACE)
    until(driver, lambda d: "reviewed" in classes(d, FIRST) and "current" not in classes(d, FIRST))
    assert "confirmed" in classes(driver, FIRST, SHARING)
    assert codings(suggested_project) == [("hanako", FIRST, SHARING, "confirmed")]


def test_d_gives_a_segment_the_previous_segments_codes_and_nothing_else(
    browser, log_in, server, suggested_project, codebook
):
    second = "主治医の意見も職場に伝えてもらいました。"
    driver = open_coding(log_in(browser(), "hanako"), server)
    press(driver, str(codebook.ids.index(EFFECTS) + 1))
    press(driver, Keys.ENTER)
    press(driver, "d")  # pressed at once, before the first segment's actions have come back
    until(driver, lambda d: "reviewed" in classes(d, second))
    stored = [(text, code, status) for _, text, code, status in codings(suggested_project)]
    assert (FIRST, EFFECTS, "confirmed") in stored and (second, EFFECTS, "confirmed") in stored
    assert [c for t, c, s in stored if t == second and s == "confirmed"] == [EFFECTS]


def test_second_analyst_codes_independently_and_sees_the_first_as_another_analyst(
    browser, log_in, server, suggested_project, codebook
):
    hanako = open_coding(log_in(browser(), "hanako"), server)
    press(hanako, "a")
    until(hanako, lambda d: "confirmed" in classes(d, FIRST, SHARING))

    taro = open_coding(log_in(browser(), "taro"), server)  # a second browser: no shared cookies
    others = until(taro, lambda d: segment(d, FIRST).find_element(By.CSS_SELECTOR, ".others").text)
    assert others == f"他の分析者：hanako（{codebook.code(SHARING).name}）"
    assert "confirmed" not in classes(taro, FIRST, SHARING) and "suggested" in classes(taro, FIRST, SHARING)
    press(taro, str(codebook.ids.index(EFFECTS) + 1))  # the digit key of "effects"
    until(taro, lambda d: "confirmed" in classes(d, FIRST, EFFECTS))
    assert "confirmed" not in classes(taro, FIRST, SHARING)

    open_coding(hanako, server)  # hanako's own coding is unchanged; taro's shows as his
    until(hanako, lambda d: "confirmed" in classes(d, FIRST, SHARING))
    assert "confirmed" not in classes(hanako, FIRST, EFFECTS)
    assert (
        segment(hanako, FIRST).find_element(By.CSS_SELECTOR, ".others").text
        == f"他の分析者：taro（{codebook.code(EFFECTS).name}）"
    )
    assert codings(suggested_project) == [
        ("hanako", FIRST, SHARING, "confirmed"),
        ("taro", FIRST, EFFECTS, "confirmed"),
    ]


def test_html_in_interview_text_is_shown_as_text_and_never_run(
    browser, log_in, server, suggested_project, nlp, tmp_path
):
    from coder.ingest import ingest

    source = tmp_path / '"><img src=x onerror=alert(3)>.txt'
    source.write_text('本人：<script>alert(1)</script>と"><img src=x onerror=alert(2)>です。\n', encoding="utf-8")
    database = store.open_db(suggested_project)
    ingest(database, [source], nlp=nlp, speaker_map={"本人": "person"})
    database.close()

    driver = log_in(browser(), "hanako")
    assert '"><img src=x onerror=alert(3)>' in driver.find_element(By.TAG_NAME, "body").text  # dashboard
    open_coding(driver, server, transcript=2)
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "<script>alert(1)</script>" in text and '"><img src=x onerror=alert(2)>' in text
    assert not driver.find_elements(By.CSS_SELECTOR, "main img, #segments script")


def test_screenshots_of_login_dashboard_coding_and_codebook_pages(browser, log_in, server, tmp_path):
    driver = browser()
    driver.get(server + "/login")
    shots = {"login": driver.get_screenshot_as_png()}
    log_in(driver, "hanako")
    shots["dashboard"] = driver.get_screenshot_as_png()
    open_coding(driver, server)
    shots["coding"] = driver.get_screenshot_as_png()
    driver.get(server + "/codebook")
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "section.code"))
    shots["codebook"] = driver.get_screenshot_as_png()
    for name, png in shots.items():
        (tmp_path / f"{name}.png").write_bytes(png)
        assert png.startswith(PNG) and len(png) > 5000, name
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "codebook.png",
        "coding.png",
        "dashboard.png",
        "login.png",
    ]


def test_enter_on_a_focused_button_does_not_also_confirm_a_segment(browser, log_in, server, suggested_project):
    driver = open_coding(log_in(browser(), "hanako"), server)
    driver.execute_script("document.querySelector('form.user button').focus()")
    press(driver, Keys.ENTER)  # the focused ログアウト button handles Enter: it logs out, nothing else
    until(driver, EC.url_contains("/login"))
    database = store.open_db(suggested_project)
    try:
        assert database["reviews"].count == 0 and codings(suggested_project) == []
    finally:
        database.close()


def test_keys_typed_faster_than_the_server_answers_apply_in_order(browser, log_in, server, suggested_project):
    driver = open_coding(log_in(browser(), "hanako"), server)
    ActionChains(driver).send_keys("a").send_keys(Keys.ENTER).perform()  # accept, then confirm at once
    until(driver, lambda d: "reviewed" in classes(d, FIRST))
    assert "confirmed" in classes(driver, FIRST, SHARING)
    assert ("hanako", FIRST, SHARING, "confirmed") in codings(suggested_project)


def test_two_analysts_disagree_and_the_supervisor_adjudicates_in_the_browser(
    browser, log_in, server, suggested_project, tmp_path
):
    for name, key in (("hanako", "a"), ("taro", "6")):  # hanako accepts the suggestion, taro codes effects
        driver = open_coding(log_in(browser(), name), server)
        press(driver, key)
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "article.current .chip.confirmed"))
        press(driver, Keys.ENTER)
        until(driver, lambda d: "reviewed" in classes(d, FIRST))
    driver = log_in(browser(), "sato")
    driver.get(server + "/agreement/")
    until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "table.agreement"))
    assert "裁定待ちの不一致 1 件" in driver.find_element(By.TAG_NAME, "body").text
    (tmp_path / "agreement.png").write_bytes(driver.get_screenshot_as_png())
    driver.get(server + "/agreement/adjudicate")
    form = until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "form.adjudicate"))
    form.find_element(By.CSS_SELECTOR, f"input[value='{SHARING}']").click()
    (tmp_path / "adjudicate.png").write_bytes(driver.get_screenshot_as_png())
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until(driver, lambda d: "裁定待ちの不一致はありません" in d.find_element(By.TAG_NAME, "body").text)
    assert ("consensus", FIRST, SHARING, "confirmed") in codings(suggested_project)
