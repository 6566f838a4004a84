"""Check segmentation against the adjudicated evaluation transcripts.

    .venv/bin/python benchmarks/eval_segments.py ../shared/eval

Ingests ``EVAL/dev_transcripts/*`` (speakers 支援員=supporter, 利用者=person) into a
temporary project and prints, for the statements in ``EVAL/dev_statements.jsonl``:
how many are found as whole consecutive segments of one answer turn, how many split into exactly one segment per
sentence (sentences counted by 。！？ outside 「」), the offset invariant, the VTT
timestamps and the interviewer perspective.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path


def sentence_count(text: str) -> int:
    depth, n = 0, 0
    for i, ch in enumerate(text):
        depth += ch in "「『"
        depth -= ch in "」』" and depth > 0
        if ch in "。！？" and depth == 0 and (i + 1 == len(text) or text[i + 1] not in "」』"):
            n += 1
    return n + (not re.search(r"[。！？」』]\s*$", text))


def find_run(turns, text: str):
    """The consecutive segments of one turn whose texts (line breaks removed) make up ``text``."""
    for segs in turns:
        for i in range(len(segs)):
            joined = ""
            for j in range(i, len(segs)):
                joined += segs[j]["text"].replace("\n", "")
                if joined == text:
                    return segs[i : j + 1]
                if not text.startswith(joined):
                    break
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", type=Path)
    args = parser.parse_args()
    from coder.db import iter_segments, open_db
    from coder.ingest import ingest
    from coder.jsonl import read_lines

    statements = [json.loads(line) for _, line in read_lines(args.eval_dir / "dev_statements.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "eval.db")
        ingest(
            db,
            sorted((args.eval_dir / "dev_transcripts").iterdir()),
            speaker_map={"支援員": "supporter", "利用者": "person"},
        )
        segs = list(iter_segments(db))
        texts = {t["id"]: t["text"] for t in db["transcripts"].rows}
    turns = defaultdict(list)
    for s in segs:
        turns[(s["transcript"], s["turn"])].append(s)
    found = exact = 0
    for st in statements:
        run = find_run(turns.values(), st["text"])
        if run is None:
            print(f"  not found as consecutive segments of one turn: {st['id']} {st['text'][:40]}…")
            continue
        found += 1
        if len(run) == sentence_count(st["text"]):
            exact += 1
        else:
            print(
                f"  {st['id']}: {len(run)} segments for {sentence_count(st['text'])} sentences: "
                + " | ".join(s["text"][:25] for s in run)
            )
    offsets = sum(texts[s["transcript"]][s["start"] : s["end"]] == s["text"] for s in segs)
    vtt = [s for s in segs if s["transcript_name"].endswith("member")]
    interviewer = [s for s in segs if s["speaker"] == "インタビュアー"]
    print(
        f"statements: {len(statements)}; found as whole segments of one turn: {found}; "
        f"one segment per sentence: {exact}"
    )
    print(f"segments: {len(segs)}; offset invariant holds: {offsets}/{len(segs)}")
    print(f"VTT segments with times: {sum(bool(s['start_time']) for s in vtt)}/{len(vtt)}")
    print(
        f"interviewer segments marked interviewer: "
        f"{sum(s['perspective'] == 'interviewer' for s in interviewer)}/{len(interviewer)}"
    )


if __name__ == "__main__":
    main()
