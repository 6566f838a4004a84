"""Project agreement time for a large multi-coder project, against a bare ``krippendorff.alpha``
call on the same data, measured in one run.

    .venv/bin/python benchmarks/agreement_speed.py [--segments 20000] [--coders 3] [--repeat 3]
                                                  [--transcripts 40] [--reps 1000] [--profile]

Project: a temporary database (``coder.db.open_db``) filled directly with sqlite-utils (no GiNZA):
``--transcripts`` transcripts holding ``--segments`` interviewee segments in all (plus one
interviewer segment per interviewer turn, which agreement must leave out), one interviewee per
transcript, their perspectives (person, supporter, employer) taking turns across transcripts.
Codings are simulated: every segment has a latent true code set over the codebook's codes
(prevalence 10–30 % per code, evenly spread); each of ``--coders`` analysts sees every segment
except a random ``--missing`` share (no review, no codings: missing data), and on a segment they
see, flips each true code with probability ``--flip``; a seen segment gets a ``reviews`` row and a
``confirmed`` coding per code the analyst applied, plus a ``rejected`` coding for half of the
suggested codes they did not apply. Every segment has a stored suggestion per code
(rules.v1+embedding.v1, score noisy around the truth). Set-up time is printed apart.

Timed (best of ``--repeat`` and the first, cold run; a fresh connection for each run, opened
outside the timed region, so SQLite's page cache is cold for every run while the OS file cache is
warm; the one-off import of krippendorff / scikit-learn / statsmodels is done before and printed
apart):
- ``agreement.project_agreement(db, codebook, by="code")`` with ``--reps`` bootstrap draws —
  the headline figure, with the issue's target (under 1 s);
- the same by perspective and by transcript; ``agreement.disagreements``; ``agreement.model_report``;
- a breakdown on one connection: the segment list (``layers.resolve`` + ``layers.segments``),
  ``layers.tensor`` (loading from SQLite), the statistics on the loaded tensor (``summarise`` per
  code and pooled), split into α (krippendorff), ``alpha_ci`` (the bootstrap), percent agreement,
  Fleiss' κ and Cohen's κ (every pair).

Baseline, same run: one ``krippendorff.alpha(reliability_data=..., level_of_measurement="nominal")``
call on the pooled coders × (segments · codes) matrix; every figure is also printed as a ratio to
it. Also: ``select count(*) from codings`` and reading every codings row.

Sanity (fails loudly): overall and per-code α against the value the simulation implies
(1 − 2f(1−f) / 2q(1−q), q the share of 1s a coder gives), overall α equal to the baseline call,
segment counts, the disagreement list and the model's acceptance counts against the simulation.
``--profile`` prints where project_agreement(by="code") spends its time (cProfile); this is also
done when it takes over 1 s.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_S = 1.0
PERSPECTIVES = ("person", "supporter", "employer")
ANALYSTS = ("hanako", "taro", "jiro", "sachiko", "kenji", "yumi", "akira", "mari")
SUGGESTERS = "rules.v1+embedding.v1"
STAMP = "2024-01-01T00:00:00+00:00"
TEXTS = (
    "支援員さんと毎週面談して、困りごとを共有しています。",
    "職場の人間関係は少しずつ良くなりました。",
    "自分で決めたいという気持ちを大事にしてもらえました。",
    "引き継ぎの書類が足りなくて戸惑いました。",
    "最初は不安でしたが、今は仕事に慣れてきました。",
    "会社の方針と本人の希望をすり合わせました。",
)
INTERVIEWER_TEXT = "そのときはどう感じましたか。"
SEGMENTS_PER_TURN = 5


# --- the project ----------------------------------------------------------------------------------


def simulate(n: int, ids: list[str], coders: int, flip: float, missing: float, seed: int) -> dict:
    """Latent truth, each coder's values, who saw what, and the suggester's scores (numpy arrays)."""
    rng = np.random.default_rng(seed)
    k = len(ids)
    prevalence = np.linspace(0.10, 0.30, k)
    truth = rng.random((n, k)) < prevalence
    values = truth[None] ^ (rng.random((coders, n, k)) < flip)
    seen = rng.random((coders, n)) >= missing
    score = np.clip(0.3 + 0.35 * truth + rng.normal(0, 0.15, (n, k)), 0, 1)
    selected = score >= 0.5
    rejects = selected[None] & ~values & seen[:, :, None] & (rng.random((coders, n, k)) < 0.5)
    return {
        "prevalence": prevalence,
        "truth": truth,
        "values": values,
        "seen": seen,
        "score": score,
        "selected": selected,
        "rejects": rejects,
    }


def build_project(path: Path, sim: dict, ids: list[str], names: list[str], transcripts: int, version: str) -> dict:
    """Write transcripts, speakers, turns, segments, reviews, codings and suggestions; one transaction."""
    from coder.db import open_db

    n = sim["truth"].shape[0]
    per = [n // transcripts + (1 if t < n % transcripts else 0) for t in range(transcripts)]
    rows = {name: [] for name in ("transcripts", "speakers", "turns", "segments")}
    interviewee_ids = []  # segment id of each simulated unit, in reading order
    seg_id = turn_id = 0
    for t, count in enumerate(per):
        tid, text, pos, idx, turn_idx = t + 1, [], 0, 0, 0
        interviewer, interviewee = 2 * t + 1, 2 * t + 2
        rows["speakers"] += [
            {"id": interviewer, "transcript_id": tid, "name": "インタビュアー", "perspective": "interviewer"},
            {
                "id": interviewee,
                "transcript_id": tid,
                "name": f"話者{t + 1}",
                "perspective": PERSPECTIVES[t % len(PERSPECTIVES)],
            },
        ]
        done = 0
        while done < count:
            for speaker, m in ((interviewer, 1), (interviewee, min(SEGMENTS_PER_TURN, count - done))):
                turn_id += 1
                start = pos
                for j in range(m):
                    seg = INTERVIEWER_TEXT if speaker == interviewer else TEXTS[(done + j) % len(TEXTS)]
                    seg_id += 1
                    rows["segments"].append(
                        {
                            "id": seg_id,
                            "transcript_id": tid,
                            "turn_id": turn_id,
                            "idx": idx,
                            "start": pos,
                            "end": pos + len(seg),
                            "text": seg,
                            "tokens": "[]",
                        }
                    )
                    if speaker == interviewee:
                        interviewee_ids.append(seg_id)
                    text.append(seg)
                    pos += len(seg)
                    idx += 1
                rows["turns"].append(
                    {
                        "id": turn_id,
                        "transcript_id": tid,
                        "idx": turn_idx,
                        "speaker_id": speaker,
                        "start": start,
                        "end": pos,
                    }
                )
                turn_idx += 1
            done += m
        body = "".join(text)
        rows["transcripts"].append(
            {
                "id": tid,
                "name": f"interview{tid:03d}",
                "case_name": f"case{tid:03d}",
                "title": f"インタビュー{tid}",
                "source_file": f"interview{tid:03d}.txt",
                "sha256": hashlib.sha256(f"{tid}:{body}".encode()).hexdigest(),
                "encoding": "utf-8",
                "format": "txt",
                "original": body,
                "text": body,
                "imported_at": STAMP,
            }
        )
    sid = np.array(interviewee_ids)
    values, seen, rejects = sim["values"], sim["seen"], sim["rejects"]
    reviews, codings = [], []
    for c, name in enumerate(names):
        for i in np.flatnonzero(seen[c]):
            reviews.append({"segment_id": int(sid[i]), "coder": name, "reviewed_at": STAMP})
        for status, mask in (("confirmed", values[c] & seen[c][:, None]), ("rejected", rejects[c])):
            for i, k in zip(*np.nonzero(mask)):
                codings.append(
                    {
                        "segment_id": int(sid[i]),
                        "code": ids[k],
                        "coder": name,
                        "status": status,
                        "codebook_version": version,
                        "created_at": STAMP,
                        "updated_at": STAMP,
                    }
                )
    suggestions = [
        {
            "segment_id": int(sid[i]),
            "code": ids[k],
            "score": float(sim["score"][i, k]),
            "threshold": 0.5,
            "selected": int(sim["selected"][i, k]),
            "reasons": "[]",
            "suggesters": SUGGESTERS,
            "codebook_version": version,
            "created_at": STAMP,
        }
        for i in range(n)
        for k in range(len(ids))
    ]
    db = open_db(path)
    with db.atomic():
        for table in ("transcripts", "speakers", "turns", "segments"):
            db[table].insert_all(rows[table], batch_size=1000)
        db["reviews"].insert_all(reviews, batch_size=1000)
        db["codings"].insert_all(codings, batch_size=1000)
        db["suggestions"].insert_all(suggestions, batch_size=1000)
    db.close()
    return {
        "segment_ids": sid,
        "segments": len(rows["segments"]),
        "turns": len(rows["turns"]),
        "reviews": len(reviews),
        "codings": len(codings),
        "suggestions": len(suggestions),
    }


# --- timing ---------------------------------------------------------------------------------------


def timed(path: Path, call, repeat: int) -> tuple[float, float, object]:
    """(first run s, best of ``repeat`` s, last result): a fresh connection per run, opened untimed."""
    from coder.db import open_db

    times, result = [], None
    for _ in range(repeat):
        db = open_db(path, create=False)
        t0 = time.perf_counter()
        result = call(db)
        times.append(time.perf_counter() - t0)
        db.close()
    return times[0], min(times), result


def best_of(call, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
    return min(times), result


def breakdown(db, codebook, repeat: int, reps: int) -> dict:
    """Best-of-``repeat`` seconds of each stage of project_agreement(by="code"), on one connection."""
    from coder import agreement, layers

    out = {}
    out["segments"], (names, units) = best_of(lambda: (layers.resolve(db, None), layers.segments(db)), repeat)
    out["tensor"], values = best_of(lambda: layers.tensor(db, codebook.ids, names, units), repeat)
    matrices = [values[:, :, k] for k in range(len(codebook.ids))] + [values.reshape(len(names), -1)]
    out["statistics"], _ = best_of(lambda: [agreement.summarise(m, names, reps) for m in matrices], repeat)
    parts = {
        "alpha": lambda m: agreement.alpha(m),
        "alpha_ci": lambda m: agreement.alpha_ci(m, reps),
        "percent": lambda m: agreement.percent_agreement(m),
        "fleiss": lambda m: agreement.fleiss(m),
        "cohen": lambda m: [agreement.cohen(m[i], m[j]) for i in range(len(names)) for j in range(i + 1, len(names))],
    }
    for part, fn in parts.items():
        out[part], _ = best_of(lambda: [fn(m) for m in matrices], repeat)
    return out | {"names": names, "units": units, "values": values}


def profile(path: Path, codebook, reps: int) -> None:
    from coder import agreement
    from coder.db import open_db

    db = open_db(path, create=False)
    prof = cProfile.Profile()
    prof.enable()
    agreement.project_agreement(db, codebook, by="code", reps=reps)
    prof.disable()
    db.close()
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(key).print_stats(20)
        print(f"\nprofile of project_agreement(by='code') ({key} time, top 20):")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:5000])


# --- sanity ---------------------------------------------------------------------------------------


def expected_alpha(q: float | np.ndarray, flip: float):
    """Binary α two coders reach when each flips the truth with probability ``flip`` and gives 1s at rate q."""
    return 1 - 2 * flip * (1 - flip) / (2 * q * (1 - q))


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"SANITY CHECK FAILED: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=20000, help="interviewee segments in the project")
    parser.add_argument("--coders", type=int, default=3, help=f"analysts who coded (2–{len(ANALYSTS)})")
    parser.add_argument("--transcripts", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each kind (best is printed)")
    parser.add_argument("--reps", type=int, default=None, help="bootstrap draws (default: agreement.BOOTSTRAP)")
    parser.add_argument("--flip", type=float, default=0.10, help="chance a coder flips each true code")
    parser.add_argument("--missing", type=float, default=0.05, help="share of (segment, coder) pairs not seen")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="profile project_agreement(by='code')")
    args = parser.parse_args()
    if not 2 <= args.coders <= len(ANALYSTS):
        parser.error(f"--coders must be between 2 and {len(ANALYSTS)}")

    t0 = time.perf_counter()
    import krippendorff
    import sklearn.metrics  # noqa: F401  (imported lazily by coder.agreement; paid once per process)
    import statsmodels.stats.inter_rater  # noqa: F401

    from coder import agreement, layers
    from coder.codebook import load_codebook
    from coder.db import open_db

    imports = time.perf_counter() - t0
    reps = args.reps or agreement.BOOTSTRAP
    codebook = load_codebook()
    ids = codebook.ids
    names = sorted(ANALYSTS[: args.coders])  # layers.analysts lists coders in name order
    n, k = args.segments, len(ids)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agreement.db"
        t0 = time.perf_counter()
        sim = simulate(n, ids, len(names), args.flip, args.missing, args.seed)
        t_sim = time.perf_counter() - t0
        t0 = time.perf_counter()
        info = build_project(path, sim, ids, names, args.transcripts, codebook.version)
        t_build = time.perf_counter() - t0
        print(
            f"project: {args.transcripts} transcripts, {n:,} interviewee segments ({info['segments']:,} with the "
            f"interviewer's), {info['turns']:,} turns; {len(names)} analysts, {len(ids)} codes; "
            f"{info['reviews']:,} reviews, {info['codings']:,} codings, {info['suggestions']:,} suggestions; "
            f"{(~sim['seen']).sum():,} (segment, coder) pairs missing"
        )
        print(
            f"set-up (not timed below): simulate {t_sim:.2f} s, write the database {t_build:.2f} s "
            f"({path.stat().st_size / 2**20:.0f} MiB); import krippendorff + scikit-learn + statsmodels "
            f"{imports:.2f} s (once per process)"
        )

        # Headline, then the other entry points: a fresh connection per run.
        runs = {}
        runs["project_agreement by code"] = timed(
            path, lambda db: agreement.project_agreement(db, codebook, by="code", reps=reps), args.repeat
        )
        by_code = runs["project_agreement by code"][2]
        for by in ("perspective", "transcript"):
            runs[f"project_agreement by {by}"] = timed(
                path, lambda db, by=by: agreement.project_agreement(db, codebook, by=by, reps=reps), args.repeat
            )
        runs["disagreements"] = timed(path, lambda db: agreement.disagreements(db, codebook), args.repeat)
        runs["model_report"] = timed(path, lambda db: agreement.model_report(db, codebook), args.repeat)

        # Breakdown and baselines on one connection.
        db = open_db(path, create=False)
        parts = breakdown(db, codebook, args.repeat, reps)
        values = parts["values"]
        pooled = values.reshape(len(names), -1)
        t_kripp, kripp = best_of(
            lambda: krippendorff.alpha(reliability_data=pooled, level_of_measurement="nominal"), args.repeat
        )
        t_count, count = best_of(lambda: db.execute("select count(*) from codings").fetchone()[0], args.repeat)
        t_fetch, fetched = best_of(
            lambda: db.execute("select segment_id, code, coder, status from codings").fetchall(), args.repeat
        )
        t_dicts, _ = best_of(lambda: list(db.query("select segment_id, code, coder, status from codings")), args.repeat)
        db.close()

        head_first, head_best, _ = runs["project_agreement by code"]
        print(
            f"\nbootstrap {reps} draws; best of {args.repeat} runs (first = the first, cold run), a fresh "
            "connection per run for the entry points; ratio = best / baseline"
        )
        print(f"{'':44s} {'best s':>8s} {'first s':>8s} {'ratio':>8s}")
        print(
            f"{'baseline: krippendorff.alpha, pooled':44s} {t_kripp:8.3f} {'':8s} {1:8.1f}"
            f"   ({len(names)} x {pooled.shape[1]:,} matrix, one call)"
        )
        for name, (first, best, _) in runs.items():
            print(f"{name:44s} {best:8.3f} {first:8.3f} {best / t_kripp:8.1f}")
        print("breakdown of project_agreement by code (one connection, best of runs):")
        stats_rows = [
            ("  resolve + layers.segments (SQL)", parts["segments"]),
            ("  layers.tensor (SQL -> array)", parts["tensor"]),
            (f"  statistics: summarise x {k} codes + pooled", parts["statistics"]),
            ("    alpha (krippendorff), all 9", parts["alpha"]),
            ("    alpha_ci (bootstrap), all 9", parts["alpha_ci"]),
            ("    percent agreement, all 9", parts["percent"]),
            ("    fleiss kappa (statsmodels), all 9", parts["fleiss"]),
            (f"    cohen kappa x {len(names) * (len(names) - 1) // 2} pairs, all 9", parts["cohen"]),
        ]
        for name, t in stats_rows:
            print(f"{name:44s} {t:8.3f} {'':8s} {t / t_kripp:8.1f}")
        total = sum(parts[p] for p in ("alpha", "alpha_ci", "percent", "fleiss", "cohen"))
        print(f"{'    sum of these five (timed apart)':44s} {total:8.3f} {'':8s} {total / t_kripp:8.1f}")
        print(
            f"{'select count(*) from codings':44s} {t_count:8.4f} {'':8s} {t_count / t_kripp:8.2f}   ({count:,} rows)"
        )
        print(f"{'read every codings row (tuples)':44s} {t_fetch:8.3f} {'':8s} {t_fetch / t_kripp:8.1f}")
        print(f"{'read every codings row (db.query dicts)':44s} {t_dicts:8.3f} {'':8s} {t_dicts / t_kripp:8.1f}")
        verdict = "UNDER" if head_best < TARGET_S else "OVER"
        print(
            f"\nHEADLINE: project_agreement(by='code'), {n:,} segments x {len(names)} coders x {k} codes, "
            f"{reps} bootstrap draws: {head_best:.3f} s best, {head_first:.3f} s first run — {verdict} the "
            f"{TARGET_S:.0f} s target (first run {'under' if head_first < TARGET_S else 'over'})"
        )

        # Sanity against the simulation.
        seen, sv = sim["seen"], sim["values"]
        q = np.array([((sv[:, :, j] & seen).sum()) / seen.sum() for j in range(k)])
        overall = by_code["overall"]
        exp_overall = float(expected_alpha(q.mean(), args.flip))
        exp_codes = expected_alpha(q, args.flip)
        print(
            f"\nsanity: overall α {overall['alpha']:.4f} (simulation implies {exp_overall:.4f}), 95% CI "
            f"{overall['alpha_ci'][0]:.4f}–{overall['alpha_ci'][1]:.4f}, n_segments {overall['n_segments']:,}; "
            f"bare krippendorff {kripp:.4f}"
        )
        row = by_code["rows"][k // 2]
        print(
            f"        {row['key']} (prevalence {sim['prevalence'][k // 2]:.0%}): α {row['alpha']:.4f} (implied "
            f"{exp_codes[k // 2]:.4f}), CI {row['alpha_ci'][0]:.4f}–{row['alpha_ci'][1]:.4f}, "
            f"{row['n_segments']:,} segments, verdict {row['verdict']}"
        )
        print(
            "        per code α: "
            + ", ".join(f"{r['key']} {r['alpha']:.3f}" for r in by_code["rows"])
            + f"; range implied {exp_codes.min():.3f}–{exp_codes.max():.3f}"
        )
        check(by_code["coders"] == names, f"coders {by_code['coders']} != {names}")
        check([r["key"] for r in by_code["rows"]] == ids, "one row per code, in codebook order")
        check(abs(overall["alpha"] - kripp) < 1e-6, f"overall α {overall['alpha']} != krippendorff {kripp}")
        # Tolerance: the sampling error, read off the bootstrap CI (at least 0.02).
        tol = max(0.02, 1.5 * (overall["alpha_ci"][1] - overall["alpha_ci"][0]))
        check(abs(overall["alpha"] - exp_overall) < tol, f"overall α {overall['alpha']:.4f} far from {exp_overall:.4f}")
        pairable = int((seen.sum(axis=0) >= 2).sum())
        for j, r in enumerate(by_code["rows"]):
            check(r["alpha"] is not None and r["alpha_ci"] is not None, f"{r['key']}: α or its CI undefined")
            lo, hi = r["alpha_ci"]
            check(
                abs(r["alpha"] - exp_codes[j]) < max(0.02, 1.5 * (hi - lo)),
                f"{r['key']}: α {r['alpha']:.4f} far from {exp_codes[j]:.4f} (CI {lo:.4f}–{hi:.4f})",
            )
            check(lo <= r["alpha"] <= hi, f"{r['key']}: CI {lo}–{hi} does not contain α {r['alpha']}")
            check(r["n_segments"] == pairable, f"{r['key']}: {r['n_segments']} segments, expected {pairable}")
        # The pooled row counts segments (pairable units // codes) or, in older versions, (segment, code) units.
        check(
            overall["n_segments"] in (pairable, pairable * k),
            f"overall n_segments {overall['n_segments']}: neither {pairable} segments nor {pairable * k} units",
        )
        check(len(parts["units"]) == n, f"layers.segments lists {len(parts['units'])} units, expected {n}")
        check(count == info["codings"] == len(fetched), "codings rows stored")
        perspective_rows = runs["project_agreement by perspective"][2]["rows"]
        check(
            sorted(r["key"] for r in perspective_rows) == sorted(PERSPECTIVES[: args.transcripts]),
            f"perspective rows {[r['key'] for r in perspective_rows]}",
        )
        check(len(runs["project_agreement by transcript"][2]["rows"]) == args.transcripts, "one row per transcript")
        differ = np.zeros(n, dtype=bool)
        for i in range(n):
            who = np.flatnonzero(seen[:, i])
            differ[i] = len(who) >= 2 and (sv[who, i] != sv[who[0], i]).any()
        disputed = runs["disagreements"][2]
        check(len(disputed) == int(differ.sum()), f"{len(disputed)} disagreements, simulation has {differ.sum()}")
        report = runs["model_report"][2]
        seen_n = seen.sum(axis=0)
        for j, a in enumerate(report["acceptance"]):
            sel = sim["selected"][:, j]
            want = (int((sel * seen_n).sum()), int((sel[None] & sv[:, :, j] & seen).sum()))
            check((a["suggested"], a["accepted"]) == want, f"acceptance of {a['code']}: {a} vs {want}")
        check(
            report["model"] == f"{layers.MODEL}:{SUGGESTERS}" and len(report["versus"]) == len(names),
            f"model report {report['model']}, {len(report['versus'])} comparisons",
        )
        print(
            f"        {len(disputed):,} disagreements, model acceptance and segment counts match the simulation; "
            f"model vs analysts α " + ", ".join(f"{v['coder']} {v['alpha']:.3f}" for v in report["versus"])
        )

        if args.profile or head_best > TARGET_S:
            profile(path, codebook, reps)


if __name__ == "__main__":
    main()
