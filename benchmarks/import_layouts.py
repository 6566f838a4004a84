"""How many transcripts of a labelled folder import as their speakers said them.

    .venv/bin/python benchmarks/import_layouts.py FOLDER [--verbose]

``FOLDER/expected.json`` lists ``{"file", "kind", "layout", "speakers": [speaker of each turn],
"first_words": [first characters of each turn], "times": [start seconds or null],
"left_out_contains": [strings no turn may contain]}``. Each file is read as ``coder ingest`` reads it
(no segmentation) and compared on five counts: the layout, the speakers in order, the first words,
the times, and that nothing listed as left out is inside a turn. Consecutive turns of one speaker are
merged on both sides before comparing speakers and first words of subtitle files (coder joins the
cues of one speaker into one turn). For documents only the layout is compared.
"""

from __future__ import annotations

import argparse
import json
from itertools import groupby
from pathlib import Path


def merged(speakers: list[str], firsts: list[str], times: list) -> tuple[list, list, list]:
    out = [(s, f, t) for s, grp in groupby(zip(speakers, firsts, times), key=lambda x: x[0]) for _, f, t in [next(grp)]]
    return [s for s, _, _ in out], [f for _, f, _ in out], [t for _, _, t in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    from coder.errors import CoderError
    from coder.ingest import read_transcript

    expected = json.loads((args.folder / "expected.json").read_text(encoding="utf-8"))
    checks = {"layout": 0, "speakers": 0, "first words": 0, "times": 0, "left out": 0}
    files_ok = 0
    for item in expected:
        path = args.folder / item["file"]
        try:
            t = read_transcript(path, path.stem)
        except CoderError as exc:
            print(f"{item['file']:40} REFUSED {exc}")
            continue
        words = [t.text[turn.start : turn.end] for turn in t.turns]
        got_speakers = [turn.speaker for turn in t.turns]
        got_firsts = [w[: len(f)] for w, f in zip(words, item["first_words"])] + words[len(item["first_words"]) :]
        got_times = [turn.start_time for turn in t.turns]
        want = (item["speakers"], item["first_words"], item["times"])
        if t.layout == "cues":
            want = merged(*want)
            got_speakers, got_firsts, got_times = merged(got_speakers, got_firsts, got_times)
        document = item["layout"] == "document"
        results = {
            "layout": t.layout == item["layout"],
            "speakers": document or got_speakers == want[0],
            "first words": document or [f[:8] for f in got_firsts] == [f[:8] for f in want[1]],
            "times": document
            or [None if x is None else round(x, 2) for x in got_times]
            == [None if x is None else round(x, 2) for x in want[2]],
            "left out": document or not any(s in w for s in item.get("left_out_contains", []) for w in words),
        }
        for k, ok in results.items():
            checks[k] += ok
        files_ok += all(results.values())
        status = "ok" if all(results.values()) else "FAIL " + ", ".join(k for k, ok in results.items() if not ok)
        print(f"{item['file']:40} {t.layout:9} {status}")
        if args.verbose and not all(results.values()):
            print(f"    want {list(zip(*want))[:8]}")
            print(f"    got  {list(zip(got_speakers, [f[:8] for f in got_firsts], got_times))[:8]}")
    n = len(expected)
    print(f"\n{files_ok}/{n} files right in every respect; " + ", ".join(f"{k} {v}/{n}" for k, v in checks.items()))


if __name__ == "__main__":
    main()
