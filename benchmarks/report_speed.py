"""Time to write the findings report (``coder report``) of a large project, against building its matrix
alone, measured in one run.

    .venv/bin/python benchmarks/report_speed.py [--segments 20000] [--coders 3] [--repeat 3] [--profile]

Project: the simulated project of ``benchmarks/agreement_speed.py`` (40 transcripts, ``--segments``
interviewee segments, ``--coders`` analysts, 10 % flips, 5 % missing, a suggestion per segment and
code), written directly with sqlite-utils (no GiNZA), plus a supervisor's adjudication of the first
200 disputed segments (``consensus`` codings and reviews, and an ``adjudicated`` event each) and a
summary for every core code in every perspective, each linked to two segments.

Timed (best of ``--repeat`` and the first run; a fresh connection per run, opened untimed; the
one-off imports of scikit-learn, scipy, krippendorff, statsmodels, matplotlib and python-docx are
paid before the timings and printed apart):
- baseline: ``matrix.build(db, codebook)`` (by perspective, consensus), what the report starts from;
- ``report.build`` (the matrix, agreement with the bootstrap of ``coder agreement``, methods, themes);
- ``report.write(..., "docx")`` on that result (nine PNG charts, tables, quotes), and the same for md
  and html;
- the headline: ``report.build`` + ``write(docx)``, with the issue's target (under 10 s).
Every figure is also printed as a ratio to the baseline. ``--profile`` prints where the headline
spends its time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agreement_speed import ANALYSTS, STAMP, build_project, simulate  # noqa: E402
from matrix_speed import best as timed  # noqa: E402

TARGET_S = 10.0
ADJUDICATED = 200


def settle_and_summarise(path: Path, codebook, names: list[str]) -> dict:
    """A supervisor's adjudications of the first ADJUDICATED disputed segments and one summary per
    (perspective, core code), written directly (set-up, not timed)."""
    import json

    import numpy as np

    from coder import agreement, layers
    from coder.db import open_db

    db = open_db(path)
    disputed = agreement.disagreements(db, codebook, names)[:ADJUDICATED]
    units = {u["id"]: u for u in layers.segments(db, text=False)}
    rng = np.random.default_rng(1)
    codings, reviews, events = [], [], []
    for d in disputed:
        chosen = sorted(d["codes"][names[0]] if d["codes"].get(names[0]) is not None else [])
        reviews.append({"segment_id": d["id"], "coder": layers.CONSENSUS, "reviewed_at": STAMP})
        codings += [
            {
                "segment_id": d["id"],
                "code": c,
                "coder": layers.CONSENSUS,
                "status": "confirmed",
                "codebook_version": codebook.version_tag,
                "created_at": STAMP,
                "updated_at": STAMP,
            }
            for c in chosen
        ]
        events.append(
            {
                "at": STAMP,
                "user": "sato",
                "action": "adjudicated",
                "segment_id": d["id"],
                "code": None,
                "detail": json.dumps({"layer": layers.CONSENSUS, "codes": chosen, "coders": d["codes"]}),
            }
        )
    summaries = []
    for perspective in ("person", "supporter", "employer"):
        pool = [i for i, u in units.items() if u["perspective"] == perspective]
        for code in (c for c in codebook.codes if c.group == "core"):
            linked = sorted(int(i) for i in rng.choice(pool, 2, replace=False))
            summaries.append(
                {
                    "grouping": "perspective",
                    "row": perspective,
                    "code": code.id,
                    "text": f"{code.name}について、この立場の語りに共通するのは支援の継続である。",
                    "segments": json.dumps(linked),
                    "author": names[0],
                    "created_at": STAMP,
                    "updated_at": STAMP,
                }
            )
    with db.atomic():
        db["reviews"].insert_all(reviews, batch_size=1000)
        db["codings"].insert_all(codings, batch_size=1000)
        db["events"].insert_all(events, batch_size=1000)
        db["summaries"].insert_all(summaries, batch_size=1000)
    db.close()
    return {"adjudicated": len(disputed), "summaries": len(summaries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=20000)
    parser.add_argument("--coders", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile report.build + write(docx)")
    args = parser.parse_args()
    if not 2 <= args.coders <= len(ANALYSTS):
        parser.error(f"--coders must be between 2 and {len(ANALYSTS)}")

    start = time.perf_counter()
    import docx  # noqa: F401
    import krippendorff  # noqa: F401
    import matplotlib  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401
    import statsmodels.stats.inter_rater  # noqa: F401

    from coder import matrix, report
    from coder.codebook import load_codebook

    imports = time.perf_counter() - start

    book = load_codebook()
    names = sorted(ANALYSTS[: args.coders])
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "report.db", Path(tmp) / "out"
        out.mkdir()
        start = time.perf_counter()
        sim = simulate(args.segments, book.ids, len(names), 0.10, 0.05, seed=7)
        counts = build_project(path, sim, book.ids, names, 40, book.version_tag)
        extra = settle_and_summarise(path, book, names)
        print(
            f"project: {args.segments:,} interviewee segments, {len(names)} analysts ({', '.join(names)}), "
            f"{counts['codings']:,} codings, {counts['suggestions']:,} suggestions, {extra['adjudicated']} "
            f"adjudicated segments, {extra['summaries']} summaries; set-up {time.perf_counter() - start:.1f} s; "
            f"imports {imports:.1f} s (once per process, not timed below)"
        )
        timed(path, lambda db: report.write(report.build(db, book), out / "warm.docx", "docx", book), 1)  # fonts etc.

        base, base_first, _ = timed(path, lambda db: matrix.build(db, book), args.repeat)
        built, built_first, result = timed(path, lambda db: report.build(db, book), args.repeat)
        rows = [
            ("baseline: matrix.build (perspective, consensus)", base, base_first),
            ("report.build (matrix, agreement, methods, themes)", built, built_first),
        ]
        for fmt in report.FORMATS:
            best, first, _ = timed(
                path, lambda db, fmt=fmt: report.write(result, out / f"r.{fmt}", fmt, book), args.repeat
            )
            rows.append((f"report.write {fmt} (9 charts)", best, first))
        head, head_first, path_out = timed(
            path, lambda db: report.write(report.build(db, book), out / "headline.docx", "docx", book), args.repeat
        )
        rows.append(("HEADLINE report.build + write docx", head, head_first))
        print(f"\nbest of {args.repeat} (first run); ratio = best / baseline")
        for label, best, first in rows:
            print(f"{label:52} {best:7.3f} s ({first:6.3f})  {best / base:6.1f}")
        verdict = "UNDER" if max(head, head_first) < TARGET_S else "OVER"
        print(
            f"\nHEADLINE: the report of {args.segments:,} segments × {len(names)} analysts as Word with charts: "
            f"{head:.2f} s best, {head_first:.2f} s first run ({head / base:.1f} × the matrix alone) — {verdict} "
            f"the {TARGET_S:.0f} s target"
        )
        overall = result["methods"]["agreement"]["overall"]
        shown = sum(r["summary"] is not None for c in result["codes"] for r in c["rows"])
        print(
            f"sanity: {len(result['codes'])} codes, rows {result['matrix']['rows']}, overall α "
            f"{overall['alpha']:.3f} (95% CI {overall['alpha_ci'][0]:.3f}–{overall['alpha_ci'][1]:.3f}), "
            f"adjudicated {result['methods']['adjudicated']}, {shown} summaries shown; docx "
            f"{path_out.stat().st_size / 2**10:.0f} KiB"
        )
        if args.profile:
            from coder.db import open_db

            db = open_db(path, create=False)
            prof = cProfile.Profile()
            prof.enable()
            report.write(report.build(db, book), out / "profiled.docx", "docx", book)
            prof.disable()
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(25)
            print("\n" + "\n".join(line for line in text.getvalue().splitlines() if line.strip()))


if __name__ == "__main__":
    main()
