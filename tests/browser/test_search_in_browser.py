"""The search page in a real browser: a lemma search, its KWIC rows, and coding the ticked hits."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from coder import db as store

from .pages import classes, codings, segment, shoot, until

pytestmark = pytest.mark.browser
HANDED = "支援員さんが記録を引き継いでくれました。"  # 引き継ぐ, as a verb
HANDOVER = "引継ぎの面談も助かりました。"  # 引き継ぐ, as a noun in another spelling


def test_lemma_search_codes_two_ticked_hits_and_the_hit_link_shows_the_code(
    browser, log_in, server, suggested_project, nlp, tmp_path
):
    from coder.ingest import ingest

    source = tmp_path / "hikitsugi.txt"
    source.write_text(f"聞き手：前の職場からは。\n本人：{HANDED}{HANDOVER}\n", encoding="utf-8")
    database = store.open_db(suggested_project)
    ingest(database, [source], nlp=nlp, speaker_map={"本人": "person"})
    database.close()
    driver = log_in(browser(), "hanako")
    driver.get(server + "/search/")
    driver.find_element(By.NAME, "q").send_keys("引き継ぐ")
    driver.find_element(By.CSS_SELECTOR, "input[name=mode][value=lemma]").click()
    driver.find_element(By.CSS_SELECTOR, "form.search-form button[type=submit]").click()
    rows = until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "table.kwic tr:has(td)"))
    shoot(driver, "search_lemma_results")
    assert "2 件" in driver.find_element(By.CSS_SELECTOR, "p.hint").text
    assert [r.find_element(By.CSS_SELECTOR, "td.match mark").text for r in rows] == ["引き継い", "引継ぎ"]
    assert rows[1].find_element(By.CSS_SELECTOR, "td.right").text.startswith("の面談も")
    for row in rows:
        row.find_element(By.CSS_SELECTOR, "input[name=segment]").click()
    Select(driver.find_element(By.CSS_SELECTOR, "form[method=post] select[name=code]")).select_by_value("handover")
    driver.find_element(By.XPATH, "//button[.='選択した結果にコードを付ける']").click()
    flash = until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "p.flash"))
    shoot(driver, "search_coded")
    assert flash.text == "2 件のセグメントに「円滑な引き継ぎ」を付けました。"
    driver.find_element(By.CSS_SELECTOR, "table.kwic td.match a").click()  # still the same query's results
    until(driver, lambda d: "confirmed" in classes(d, HANDED, "handover"))
    shoot(driver, "search_hit_in_coding_view")
    assert "current" in classes(driver, HANDED) and "confirmed" in classes(driver, HANDOVER, "handover")
    assert segment(driver, HANDED).find_element(By.CSS_SELECTOR, ".chip.confirmed").text == "5 円滑な引き継ぎ"
    assert {(t, c, s) for w, t, c, s in codings(suggested_project) if w == "hanako"} == {
        (HANDED, "handover", "confirmed"),
        (HANDOVER, "handover", "confirmed"),
    }
