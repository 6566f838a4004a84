"""Matrix build time for a large project, against reading its codings, measured in one run.

    .venv/bin/python benchmarks/matrix_speed.py [--segments 20000] [--coders 3] [--repeat 3]

Project: the simulated project of ``benchmarks/agreement_speed.py`` (40 transcripts, ``--segments``
interviewee segments, ``--coders`` analysts, 10 % flips, 5 % missing, suggestions for every
segment), with each segment's stored tokens made real: the six sample sentences are parsed with
GiNZA once and their tokens copied to the segments that use them, so quote ranking has content
words to work on.

Timed, best of ``--repeat`` (and the first run), a fresh connection per run: ``matrix.build`` by
perspective for the sources consensus (final codes: adjudicated or unanimous), all analysts, one
analyst and model; by case and by transcript for consensus. Baseline, same run: reading every
confirmed coding row (``layers.codings_for(db, "all")``); each figure is also a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agreement_speed import SUGGESTERS, TEXTS, build_project, simulate  # noqa: E402


def real_tokens(path: Path) -> None:
    """Give every segment the tokens GiNZA finds in its sentence (one parse per distinct text)."""
    from coder.db import open_db
    from coder.segment import load_nlp

    nlp = load_nlp()
    db = open_db(path)
    texts = [r["text"] for r in db.query("select distinct text from segments")]
    with db.atomic():
        for text in texts:
            tokens = [[t.idx, t.idx + len(t), t.lemma_, t.norm_, t.tag_] for t in nlp(text)]
            db.execute("update segments set tokens = ? where text = ?", [json.dumps(tokens, ensure_ascii=False), text])
    db.close()


def best(path: Path, call, repeat: int):
    from coder.db import open_db

    times = []
    for _ in range(repeat):
        db = open_db(path)
        start = time.perf_counter()
        result = call(db)
        times.append(time.perf_counter() - start)
        db.close()
    return min(times), times[0], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=20000)
    parser.add_argument("--coders", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from coder import layers, matrix
    from coder.codebook import load_codebook

    book = load_codebook()
    names = ["hanako", "taro", "jiro", "saburo", "shiro"][: args.coders]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "matrix.db"
        start = time.perf_counter()
        sim = simulate(args.segments, book.ids, args.coders, 0.10, 0.05, seed=7)
        counts = build_project(path, sim, book.ids, names, 40, book.version_tag)
        real_tokens(path)
        print(
            f"project: {args.segments:,} interviewee segments, {args.coders} analysts, {counts['codings']:,} codings, "
            f"{counts['suggestions']:,} suggestions ({len(TEXTS)} distinct sentences, suggester {SUGGESTERS}); "
            f"set-up {time.perf_counter() - start:.1f} s"
        )
        best(path, lambda db: matrix.build(db, book), 1)  # imports (scikit-learn, scipy) outside the timings
        base, _, rows = best(path, lambda db: layers.codings_for(db, "all"), args.repeat)
        print(f"\nbest of {args.repeat} (first run); ratio = best / baseline")
        print(f"{'baseline: read all confirmed codings':44} {base:7.3f} s            1.0   ({len(rows):,} rows)")
        cases = [
            ("by perspective, source consensus", dict(source="consensus")),
            ("by perspective, source all", dict(source="all")),
            ("by perspective, source hanako", dict(source="hanako")),
            ("by perspective, source model", dict(source="model")),
            ("by case, source consensus", dict(by="case", source="consensus")),
            ("by transcript, source consensus", dict(by="transcript", source="consensus")),
        ]
        headline = None
        for label, kw in cases:
            t, first, result = best(path, lambda db: matrix.build(db, book, **kw), args.repeat)
            headline = headline or (t, first, result)
            print(f"{label:44} {t:7.3f} s ({first:6.3f})  {t / base:6.1f}")
        t, first, result = headline
        cell = result["cells"]["person"][book.ids[0]]
        print(
            f"\nHEADLINE: matrix by perspective from the consensus of {args.segments:,} segments: {t:.3f} s best, "
            f"{first:.3f} s first run — {'under' if max(t, first) < 1 else 'OVER'} the 1 s target"
        )
        print(
            f"sanity: rows {result['rows']}, totals {result['totals']}; person × {book.ids[0]}: "
            f"{cell['segments']} segments, {cell['interviewees']} interviewees, quotes {[q['text'] for q in cell['quotes']]}"
        )


if __name__ == "__main__":
    main()
