"""Analyst effort: the keys an analyst presses in the real coding page to turn suggestions into gold codes.

    .venv/bin/python benchmarks/analyst_effort.py ../shared/eval [--speaker 支援員=supporter --speaker 利用者=person]

``EVAL_DIR`` holds ``dev_statements.jsonl`` (gold codes per statement) and ``dev_transcripts/`` (the
same statements laid out as transcripts, with a manifest). Each statement is found as consecutive
segments of one turn (as ``benchmarks/eval_segments.py`` does) and each of its segments gets the
statement's codes as gold; segments outside every statement get none.

The transcripts are ingested into a temporary project, suggestions computed as ``make demo`` does,
and the project served on 127.0.0.1. Headless Debian chromium logs in as a new analyst and codes
every interviewee segment in reading order. For the current segment it reads the suggested codes
(dashed buttons) and presses the fewest keys that leave exactly the gold codes:

- digits of the gold codes, then ``Enter`` (unaccepted suggestions are rejected);
- ``a`` (accept the suggestions), the digits of the codes to remove or add, then ``Enter``;
- the digits of missing codes (twice for a wrong suggestion: confirm, then reject), then
  ``Space`` (accept the rest, confirm and next);
- ``d`` alone when the gold codes are those of the previous segment.

After each confirmation the page retrains in the background, as it does for a real analyst; the
script waits for the retraining to finish and the page to redraw before the next segment (an
analyst who works faster sees the previous suggestions a little longer). It checks that the stored
codings equal the gold codes, and prints keystrokes per segment and per coded segment (a segment
with at least one gold code) — a manual QDA tool needs 3–5 actions per coded segment — and the same
counts for the cold-start suggestions alone (computed from the suggestions stored before coding).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def keys_for(suggested: set[str], gold: set[str], digit, previous: set[str] | None = None) -> list[str]:
    """The shortest key sequence that leaves exactly ``gold`` confirmed, then moves on (``previous``:
    the codes of the segment before, in the same transcript)."""
    options = [["d"]] if previous is not None and previous == gold else []
    options += [
        [digit(c) for c in sorted(gold)] + ["ENTER"],
        ["a"] + [digit(c) for c in sorted(suggested ^ gold)] + ["ENTER"],
        [digit(c) for c in sorted(gold - suggested)]
        + [digit(c) for c in sorted(suggested - gold) for _ in (1, 2)]
        + ["SPACE"],
    ]
    return min(options, key=len)


def gold_by_segment(db, statements: list[dict]) -> dict[int, set[str]]:
    from collections import defaultdict

    from eval_segments import find_run

    from coder.db import iter_segments

    ids = {(r["transcript_id"], r["idx"]): r["id"] for r in db.query("select id, transcript_id, idx from segments")}
    turns = defaultdict(list)
    for s in iter_segments(db):
        turns[(s["transcript"], s["turn"])].append({**s, "id": ids[s["transcript"], s["index"]]})
    gold, missing = {}, []
    for st in statements:
        run = find_run(turns.values(), st["text"])
        if run is None:
            missing.append(st["id"])
            continue
        for s in run:
            gold[s["id"]] = set(st["codes"])
    if missing:
        print(f"  statements not found as segments (left out): {', '.join(missing)}", file=sys.stderr)
    return gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("--speaker", action="append", default=["支援員=supporter", "利用者=person"])
    args = parser.parse_args()

    from coder.access import set_blind
    from coder.codebook import load_codebook
    from coder.db import open_db
    from coder.ingest import ingest
    from coder.jsonl import read_lines
    from coder.suggest.service import suggest_project
    from coder.users import add_user

    book = load_codebook()
    statements = [json.loads(line) for _, line in read_lines(args.eval_dir / "dev_statements.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "effort.db"
        db = open_db(path)
        # one analyst coding on their own (after any agreement phase): blind mode off, so their
        # confirmations train the suggestions (in blind mode only a supervisor's consensus does)
        set_blind(db, False)
        ingest(
            db,
            sorted((args.eval_dir / "dev_transcripts").iterdir()),
            speaker_map=dict(s.split("=", 1) for s in args.speaker),
        )
        t0 = time.perf_counter()
        suggest_project(db, book)
        print(f"cold-start suggestions: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        gold = gold_by_segment(db, statements)
        segments = list(
            db.query("""select s.id, s.transcript_id from segments s join turns u on u.id = s.turn_id
                                    join speakers sp on sp.id = u.speaker_id where sp.perspective != 'interviewer'
                                    order by s.transcript_id, s.idx""")
        )
        cold = {}
        for r in db.query("select segment_id, code from suggestions where selected = 1"):
            cold.setdefault(r["segment_id"], set()).add(r["code"])
        add_user(db, "effort", "analyst", "effort-password")
        db.close()

        def digit(code):
            return str(book.ids.index(code) + 1)

        cold_keys = [
            len(keys_for(cold.get(s["id"], set()), gold.get(s["id"], set()), digit, _previous(segments, i, gold)))
            for i, s in enumerate(segments)
        ]
        pressed, exact, stored = drive(path, segments, gold, digit)
    coded = sum(bool(gold.get(s["id"])) for s in segments)
    print(f"{args.eval_dir}: {len(segments)} interviewee segments, {coded} with gold codes")
    print(f"{'':34}{'keys':>8}{'per segment':>14}{'per coded segment':>20}{'suggestions exact':>20}")
    cold_exact = sum(cold.get(s["id"], set()) == gold.get(s["id"], set()) for s in segments)
    for name, keys, ok in (
        ("cold-start suggestions only", sum(cold_keys), cold_exact),
        ("coding page, retraining as it goes", pressed, exact),
    ):
        print(f"{name:34}{keys:8}{keys / len(segments):14.2f}{keys / max(coded, 1):20.2f}{ok:>14}/{len(segments)}")
    wrong = sum(stored.get(s["id"], set()) != gold.get(s["id"], set()) for s in segments)
    print(f"stored codings different from gold: {wrong} segments (must be 0)")


def _previous(segments, i, gold):
    same = i and segments[i - 1]["transcript_id"] == segments[i]["transcript_id"]
    return gold.get(segments[i - 1]["id"], set()) if same else None


def drive(path, segments, gold, digit):
    """Code every segment in the browser; returns (keys pressed, segments whose suggestions were exact,
    the stored codings)."""
    import logging

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    from coder.db import open_db
    from web import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = create_app({"DATABASE": str(path), "RETRAIN": True, "SECRET_KEY": "effort"})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
    wait = WebDriverWait(driver, 120, poll_frequency=0.1)
    retrainer = app.extensions["coder_retrainer"]
    pressed = exact = 0
    try:
        driver.get(base + "/login")
        driver.find_element(By.NAME, "name").send_keys("effort")
        driver.find_element(By.NAME, "password").send_keys("effort-password")
        driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        wait.until(lambda d: d.current_url == base + "/")
        special = {"ENTER": Keys.ENTER, "SPACE": Keys.SPACE}
        for n, transcript in enumerate(sorted({s["transcript_id"] for s in segments})):
            driver.get(f"{base}/transcripts/{transcript}")
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "article.seg.current .chip"))
            mine = [s for s in segments if s["transcript_id"] == transcript]
            for i, seg in enumerate(mine):
                article = driver.find_element(By.CSS_SELECTOR, "article.seg.current")
                suggested = {
                    b.get_attribute("data-code") for b in article.find_elements(By.CSS_SELECTOR, ".chip.suggested")
                }
                keys = keys_for(
                    suggested, gold.get(seg["id"], set()), digit, gold.get(mine[i - 1]["id"], set()) if i else None
                )
                exact += suggested == gold.get(seg["id"], set())
                pressed += len(keys)
                for key in keys:
                    ActionChains(driver).send_keys(special.get(key, key)).perform()
                # the segment is finished and the next one selected; then the retraining has run and been drawn
                done = f"article.seg[data-id='{seg['id']}']"
                wait.until(
                    lambda d, done=done: "reviewed" in d.find_element(By.CSS_SELECTOR, done).get_attribute("class")
                )
                time.sleep(0.05)
                while retrainer.status()["running"] or retrainer.status()["queued"]:
                    time.sleep(0.1)
                if i + 1 < len(mine):
                    generation = retrainer.status()["generation"]
                    driver.get(f"{base}/transcripts/{transcript}")  # the redrawn page with the new suggestions
                    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "article.seg.current .chip"))
                    for _ in range(i + 1):
                        ActionChains(driver).send_keys("j").perform()
                    following = str(mine[i + 1]["id"])
                    wait.until(
                        lambda d, following=following: (
                            d.find_element(By.CSS_SELECTOR, "article.seg.current").get_attribute("data-id") == following
                        )
                    )
                    assert retrainer.status()["generation"] == generation
            print(f"  transcript {n + 1}: {len(mine)} segments coded", file=sys.stderr)
    finally:
        driver.quit()
        httpd.shutdown()
    db = open_db(path)
    stored = {}
    for r in db.query("select segment_id, code from codings where coder = 'effort' and status = 'confirmed'"):
        stored.setdefault(r["segment_id"], set()).add(r["code"])
    db.close()
    return pressed, exact, stored


if __name__ == "__main__":
    main()
