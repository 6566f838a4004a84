"""Inter-rater agreement: Krippendorff's α, Cohen's κ, Fleiss' κ and percent agreement.

Point estimates come from well-kept implementations (``krippendorff``, statsmodels'
``cohens_kappa`` and ``fleiss_kappa``). Data are a *reliability matrix*: one row
per coder, one column per unit, ``nan`` where a coder did not rate a unit (missing, not absent).

In a project (``project_agreement``) a unit is a segment and, per code, a coder's value is 1 if
they confirmed the code there and 0 if they finished the segment (or coded it) without it; a
segment a coder never saw is missing for them. Pooled figures (overall, per perspective, per
transcript) treat every (segment, code) pair as a unit.

The bootstrap CI of a binary α resamples units. Units fall into few types (how many coders rated
the unit, how many of them said 1), so a resample is a multinomial draw over the types — exact,
and fast enough for 20,000 segments. ``binary_alpha`` (the same formula, Krippendorff 2011
§3–4) equals ``krippendorff.alpha`` on such data (tested).
"""

from __future__ import annotations

import csv
import math
from itertools import combinations
from pathlib import Path

import numpy as np

from . import db as store
from .columns import table
from .errors import CoderError

METRICS = ("alpha-nominal", "alpha-ordinal", "alpha-interval", "alpha-ratio", "cohen", "fleiss", "percent")
BOOTSTRAP = 1000
RELIABLE, TENTATIVE = 0.800, 0.667  # Krippendorff's usual thresholds for α


# --- generic data: unit,coder,value -------------------------------------------------------------


def read_ratings(path: str | Path) -> tuple[list[str], list[str], np.ndarray]:
    """``(coders, units, matrix)`` from a long CSV with columns unit,coder,value (one row per rating).

    Values are numbers if every value is numeric, else categories (coded 0, 1, … in sorted order).
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CoderError(f"{path}: cannot read ratings: {exc}") from exc
    if not rows or not {"unit", "coder", "value"} <= set(rows[0]):
        raise CoderError(f"{path}: expected a CSV header with columns unit,coder,value")
    values = [r["value"].strip() for r in rows]
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        categories = sorted(set(values))
        numbers = [float(categories.index(v)) for v in values]
    units = list(dict.fromkeys(r["unit"] for r in rows))
    coders = list(dict.fromkeys(r["coder"] for r in rows))
    matrix = np.full((len(coders), len(units)), np.nan)
    ui, ci = {u: i for i, u in enumerate(units)}, {c: i for i, c in enumerate(coders)}
    for line, (r, v) in enumerate(zip(rows, numbers), 2):
        cell = (ci[r["coder"]], ui[r["unit"]])
        if not math.isnan(matrix[cell]) and matrix[cell] != v:
            raise CoderError(f"{path}, line {line}: coder {r['coder']!r} rated unit {r['unit']!r} twice, differently")
        matrix[cell] = v
    return coders, units, matrix


def compute(metric: str, matrix: np.ndarray) -> dict:
    """``{"metric", "value", "n_units", "n_coders"}`` for a reliability matrix (coders × units).

    n_units counts the units the metric rests on: pairable units (≥ 2 ratings) for α and percent,
    units rated by both coders for Cohen's κ, units rated by every coder for Fleiss' κ.
    """
    if metric not in METRICS:
        raise CoderError(f"unknown metric {metric!r} ({', '.join(METRICS)})")
    rated = ~np.isnan(matrix)
    pairable = rated.sum(axis=0) >= 2
    if metric.startswith("alpha-"):
        value, n = alpha(matrix, metric.split("-")[1]), int(pairable.sum())
    elif metric == "percent":
        value, n = percent_agreement(matrix), int(pairable.sum())
    elif metric == "cohen":
        if matrix.shape[0] != 2:
            raise CoderError(f"Cohen's kappa needs exactly two coders, the data has {matrix.shape[0]}")
        value, n = cohen(matrix[0], matrix[1]), int(rated.all(axis=0).sum())
    else:
        value, n = fleiss(matrix), int(rated.all(axis=0).sum())
    return {"metric": metric, "value": value, "n_units": n, "n_coders": int(matrix.shape[0])}


def alpha(matrix: np.ndarray, level: str = "nominal") -> float | None:
    """Krippendorff's α (Krippendorff 2011; the ``krippendorff`` package) at ``level`` (nominal, ordinal,
    interval or ratio) over the pairable units (≥ 2 ratings); None when there are none or all their
    values are the same (α undefined)."""
    import krippendorff

    usable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    if usable.shape[1] == 0 or len(np.unique(usable[~np.isnan(usable)])) < 2:
        return None  # no pairable units, or no variation: α is undefined
    return float(krippendorff.alpha(reliability_data=usable, level_of_measurement=level))


def percent_agreement(matrix: np.ndarray) -> float | None:
    """Mean over pairable units of the share of coder pairs that agree."""
    rated = ~np.isnan(matrix)
    m = rated.sum(axis=0)
    keep = m >= 2
    if not keep.any():
        return None
    same = sum(n * (n - 1) for n in ((matrix == v).sum(axis=0) for v in np.unique(matrix[rated])))
    return float(np.mean(same[keep] / (m[keep] * (m[keep] - 1))))


def cohen(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's κ of two coders over the units both rated (statsmodels, from their contingency table)."""
    from statsmodels.stats.inter_rater import cohens_kappa

    both = ~np.isnan(a) & ~np.isnan(b)
    x, y = a[both], b[both]
    labels = np.unique(np.concatenate([x, y]))
    if len(labels) < 2:
        return None
    n = len(labels)
    table = np.bincount(np.searchsorted(labels, x) * n + np.searchsorted(labels, y), minlength=n * n).reshape(n, n)
    return float(cohens_kappa(table, return_results=False))


def fleiss(matrix: np.ndarray) -> float | None:
    """Fleiss' κ (Fleiss 1971; statsmodels' ``fleiss_kappa``) over the units rated by every coder, values
    truncated to integer categories; None when no unit was rated by every coder or those ratings hold one value."""
    from statsmodels.stats.inter_rater import fleiss_kappa

    complete = matrix[:, (~np.isnan(matrix)).all(axis=0)]
    if complete.shape[1] == 0 or len(np.unique(complete)) < 2:
        return None
    complete = complete.astype(int)  # as before (aggregate_raters got complete.T.astype(int))
    table = np.stack([(complete == c).sum(axis=0) for c in np.unique(complete)], axis=1)
    return float(fleiss_kappa(table, method="fleiss"))


# --- binary α with a fast bootstrap ---------------------------------------------------------------


def unit_types(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairable units of a 0/1 matrix grouped by (ratings m, ones k): arrays m, k and counts."""
    rated = ~np.isnan(matrix)
    m = rated.sum(axis=0)
    k = np.where(rated, matrix, 0).sum(axis=0)
    keep = m >= 2
    base = matrix.shape[0] + 1
    counts = np.bincount(m[keep] * base + np.rint(k[keep]).astype(np.int64), minlength=1)
    key = np.flatnonzero(counts)
    return (key // base).astype(float), (key % base).astype(float), counts[key].astype(float)


def binary_alpha(m: np.ndarray, k: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Krippendorff's nominal α of 0/1 data from unit types (m ratings, k ones) with weights ``w``
    (one row of weights per estimate): 1 − (n − 1) · Σ 2k(m−k)/(m−1) / (2 n₁ n₀)."""
    w = np.atleast_2d(w)
    n = w @ m
    n1 = w @ k
    n0 = n - n1
    observed = w @ (2 * k * (m - k) / (m - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n0 * n1 > 0, 1 - (n - 1) * observed / (2 * n1 * n0), np.nan)


def alpha_ci(matrix: np.ndarray, reps: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float] | None:
    """95% bootstrap interval (percentile, units resampled) of binary nominal α."""
    m, k, counts = unit_types(matrix)
    total = int(counts.sum())
    if total < 2:
        return None
    draws = np.random.default_rng(seed).multinomial(total, counts / total, size=reps)
    values = binary_alpha(m, k, draws)
    values = values[~np.isnan(values)]
    if len(values) < reps / 2:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def summarise(matrix: np.ndarray, coders: list[str], reps: int = BOOTSTRAP) -> dict:
    """Every figure for one binary reliability matrix (one code, or pooled codes)."""
    rated = ~np.isnan(matrix)
    out = {
        "n_segments": int((rated.sum(axis=0) >= 2).sum()),
        "alpha": alpha(matrix),
        "alpha_ci": alpha_ci(matrix, reps) if matrix.shape[1] else None,
        "percent": percent_agreement(matrix) if matrix.shape[1] else None,
        "fleiss": fleiss(matrix) if matrix.shape[0] >= 2 else None,
        "n_complete": int(rated.all(axis=0).sum()),
        "cohen": {f"{a}|{b}": cohen(matrix[i], matrix[j]) for (i, a), (j, b) in combinations(enumerate(coders), 2)},
        "present": {c: int(np.nansum(matrix[i] == 1)) for i, c in enumerate(coders)},
    }
    out["verdict"] = verdict(out["alpha"])
    return out


def verdict(value: float | None) -> str:
    """``reliable`` (α ≥ ``RELIABLE``, 0.800), ``tentative`` (≥ ``TENTATIVE``, 0.667), ``unreliable``, or
    ``undefined`` for None: Krippendorff's thresholds (Krippendorff 2004: rely on α ≥ .800, draw only
    tentative conclusions from .667 ≤ α < .800)."""
    if value is None:
        return "undefined"
    return "reliable" if value >= RELIABLE else "tentative" if value >= TENTATIVE else "unreliable"


def to_text(result: dict) -> str:
    """What ``coder agreement`` prints (no final newline). For ``compute``'s result one line: the
    metric, its value (three decimals, ``-`` if undefined), units and coders. For
    ``project_agreement``'s: the coders, then a table of one line per row and ``overall`` — key, n
    segments, α, its 95% CI, % agreement, Fleiss' κ, Cohen's κ per pair — padded by display width,
    so Japanese keys (transcripts, attribute values) line up."""
    if "metric" in result:
        return f"{result['metric']}: {_fmt(result['value'])} ({result['n_units']} units, {result['n_coders']} coders)"
    rows = []
    for row in [*result["rows"], {"key": "overall", **result["overall"]}]:
        ci = row["alpha_ci"]
        rows.append(
            [
                row["key"],
                row["n_segments"],
                _fmt(row["alpha"]),
                ("[" + _fmt(ci[0]) + ", " + _fmt(ci[1]) + "]") if ci else "-",
                _fmt(row["percent"]),
                _fmt(row["fleiss"]),
                "  ".join(f"{k} {_fmt(v)}" for k, v in row["cohen"].items()),
            ]
        )
    header = [result["by"], "n", "alpha", "95% CI", "%agree", "fleiss", "cohen per pair"]
    return "\n".join(
        [f"coders: {', '.join(result['coders'])}", *table("{:22} {:>6} {:>6} {:>15} {:>7} {:>7}  {}", rows, header)]
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# --- a project's codings ----------------------------------------------------------------------

BY = ("code", "perspective", "transcript")


def project_agreement(db, codebook, coders: list[str] | None = None, by: str = "code", reps: int = BOOTSTRAP) -> dict:
    """Agreement among ``coders`` (default: every analyst) per code, perspective, transcript or
    attribute value (``attr:NAME``; ``―`` for segments without one), plus the overall figure (every (segment, code) pair a unit)."""
    return project_agreements(db, codebook, coders, (by,), reps)[by]


def project_agreements(
    db, codebook, coders: list[str] | None = None, bys: tuple[str, ...] = BY, reps: int = BOOTSTRAP
) -> dict[str, dict]:
    """``project_agreement`` for several groupings, loading the codings and computing the overall
    figure once."""
    from . import attributes, layers

    for by in bys:
        if by not in BY and not by.startswith(attributes.PREFIX):
            raise CoderError(f"--by must be one of {', '.join(BY)} or attr:NAME, not {by!r}")
    names = layers.resolve(db, coders)
    if len(names) < 2:
        raise CoderError(
            f"agreement needs at least two coders; this project has {', '.join(names) or 'none'}"
            " (each analyst codes in the web UI under their own name)"
        )
    units = layers.segments(db, text=False)
    for by in (b for b in bys if b not in BY):  # attr:NAME: the value of each segment's transcript (or case)
        attributes.check_name(db, by)
        attributes.label_units(db, units, by)
    values = layers.tensor(db, codebook.ids, names, units)
    overall = _per_segment(summarise(values.reshape(len(names), -1), names, reps), values)
    out = {}
    for by in bys:
        rows = []
        if by == "code":
            for k, code in enumerate(codebook.ids):
                rows.append({"key": code, "label": codebook.code(code).name, **summarise(values[:, :, k], names, reps)})
        else:
            for key in dict.fromkeys(u[by] for u in units):  # a unit's perspective, transcript or attribute
                mask = np.array([u[by] == key for u in units])
                rows.append(
                    {
                        "key": key or attributes.NONE,
                        "label": key or attributes.NONE,
                        **_per_segment(summarise(values[:, mask, :].reshape(len(names), -1), names, reps), values),
                    }
                )
        out[by] = {"coders": names, "by": by, "rows": rows, "overall": overall}
    return out


def _per_segment(row: dict, values: np.ndarray) -> dict:
    """Pooled figures count (segment, code) units; report segments (a layer sees all codes of a segment)."""
    k = values.shape[2]
    return {**row, "n_segments": row["n_segments"] // k, "n_complete": row["n_complete"] // k}


def disagreements(db, codebook, coders: list[str] | None = None, code: str | None = None) -> list[dict]:
    """Segments seen by two or more of ``coders`` whose confirmed codes differ (on ``code`` if given),
    with each coder's codes and the consensus (None until adjudicated)."""
    from . import layers

    names = layers.resolve(db, coders)
    units = layers.segments(db)
    values = layers.tensor(db, codebook.ids, names + [layers.CONSENSUS], units)
    people, consensus = values[:-1], values[-1]
    ids = codebook.ids
    ks = [ids.index(code)] if code else list(range(len(ids)))
    seen = ~np.isnan(people[:, :, 0])  # layer x segment
    sub = people[:, :, ks]
    ones = np.where(seen[:, :, None], sub == 1, False).sum(axis=0)  # segment x code: how many said 1
    differ = (seen.sum(axis=0) >= 2) & ((ones > 0) & (ones < seen.sum(axis=0)[:, None])).any(axis=1)
    out = []
    for i in np.flatnonzero(differ):
        who = np.flatnonzero(seen[:, i])
        out.append(
            {
                **units[i],
                "codes": {names[j]: [ids[k] for k in np.flatnonzero(people[j, i] == 1)] for j in who},
                "consensus": None if np.isnan(consensus[i, 0]) else [ids[k] for k in np.flatnonzero(consensus[i] == 1)],
            }
        )
    return out


def model_report(db, codebook, reps: int = 200) -> dict:
    """The suggester as a coder: pooled α with each analyst and with the consensus, and how often
    analysts accepted its suggestions, per code."""
    from . import layers

    model = layers.model_layer(db)
    if not model:
        return {"model": None, "versus": [], "acceptance": []}
    units = layers.segments(db, text=False)
    versus = []
    others = layers.analysts(db) + ([layers.CONSENSUS] if layers.CONSENSUS in layers.all_layers(db) else [])
    loaded = layers.tensor(db, codebook.ids, [model, *others], units).reshape(len(others) + 1, -1)
    for i, other in enumerate(others, 1):
        values = loaded[[0, i]]
        versus.append(
            {
                "coder": other,
                "alpha": alpha(values),
                "alpha_ci": alpha_ci(values, reps),
                "n_segments": int((~np.isnan(values)).all(axis=0).sum() // len(codebook.ids)),
            }
        )
    rows = db.query("""
        select s.code, count(*) as suggested, sum(c.status = 'confirmed') as accepted
        from suggestions s
        join (select segment_id, coder from reviews union select segment_id, coder from codings) seen
          on seen.segment_id = s.segment_id
        left join codings c on c.segment_id = s.segment_id and c.code = s.code and c.coder = seen.coder
        where s.selected = 1 and seen.coder != 'consensus' and instr(seen.coder, ':') = 0
        group by s.code""")
    by_code = {r["code"]: r for r in rows}
    acceptance = [
        {
            "code": c,
            "suggested": by_code.get(c, {}).get("suggested", 0) or 0,
            "accepted": by_code.get(c, {}).get("accepted", 0) or 0,
        }
        for c in codebook.ids
    ]
    for a in acceptance:
        a["rate"] = a["accepted"] / a["suggested"] if a["suggested"] else None
    return {"model": model, "versus": versus, "acceptance": acceptance}


def draw_recode_sample(db, coder: str, size: int = 20, min_age_days: float = 14, seed: int | None = None) -> int:
    """Draw up to ``size`` segments ``coder`` last coded at least ``min_age_days`` ago for a blind
    re-coding (stored as ``coder:recode``); returns how many are now in their sample."""
    import random
    from datetime import datetime, timedelta, timezone

    from .layers import is_analyst

    if not is_analyst(coder):
        raise CoderError(f"{coder!r} is not an analyst: only analysts re-code their own segments")
    if not (isinstance(size, int) and 0 < size <= 10_000):
        raise CoderError(f"sample size {size!r}: a whole number from 1 to 10000")
    if not (isinstance(min_age_days, (int, float)) and 0 <= min_age_days <= 3650):
        raise CoderError(f"minimum age {min_age_days!r} days: a number from 0 to 3650")
    cutoff = (datetime.now(timezone.utc) - timedelta(days=min_age_days)).isoformat(timespec="seconds")
    eligible = [
        r["segment_id"]
        for r in db.query(
            """select segment_id from (select segment_id, reviewed_at as at from reviews where coder = ?
                                   union all select segment_id, updated_at from codings where coder = ?)
           where segment_id not in (select segment_id from recode_samples where coder = ?)
           group by segment_id having max(at) <= ? order by segment_id""",
            [coder, coder, coder, cutoff],
        )
    ]
    chosen = random.Random(seed).sample(eligible, min(size, len(eligible)))
    with store.immediate(db):
        db["recode_samples"].insert_all([{"coder": coder, "segment_id": s, "drawn_at": store.now()} for s in chosen])
    return db.execute("select count(*) from recode_samples where coder = ?", [coder]).fetchone()[0]


def intra_coder(db, codebook, reps: int = 200) -> list[dict]:
    """α of each analyst with their own blind re-coding, over the re-coded sample (pooled codes)."""
    from . import layers

    units = layers.segments(db, text=False)
    out = []
    for name in layers.analysts(db):
        again = name + layers.RECODE
        if again not in layers.all_layers(db):
            continue
        values = layers.tensor(db, codebook.ids, [name, again], units).reshape(2, -1)
        out.append(
            {
                "coder": name,
                "alpha": alpha(values),
                "alpha_ci": alpha_ci(values, reps),
                "n_segments": int((~np.isnan(values)).all(axis=0).sum() // len(codebook.ids)),
                "sample": db.execute("select count(*) from recode_samples where coder = ?", [name]).fetchone()[0],
            }
        )
    return out


# --- the supervisor's pages: overview and adjudication queue --------------------------------------


def preselected(row: dict, codebook) -> list[str]:
    """The codes pre-ticked when a supervisor adjudicates a disagreement (a row of ``disagreements``):
    the consensus if one was given already, else every code more than half of the coders who saw the
    segment confirmed (a tie ticks nothing), in codebook order."""
    if row["consensus"] is not None:
        return row["consensus"]
    votes = [c for codes in row["codes"].values() for c in codes]
    return [c for c in codebook.ids if votes.count(c) * 2 > len(row["codes"])]


def adjudication_queue(db, codebook, show_all: bool = False) -> tuple[list[dict], int]:
    """The adjudication page: the disagreements among the analysts not adjudicated yet (with
    ``show_all``, every one), each a ``disagreements`` row with ``preselected`` codes; and how many
    disagreements there are in all."""
    rows = disagreements(db, codebook)
    return [{**r, "preselected": preselected(r, codebook)} for r in rows if show_all or r["consensus"] is None], len(
        rows
    )


def overview(db, codebook) -> dict:
    """What the supervisor's agreement page shows beside the agreement tables: ``choices`` (the layers
    one may compare: every coding layer, then the model's if it has suggestions), ``analysts``,
    ``model`` (``model_report``), ``intra`` (``intra_coder``) and ``open_disputes`` (how many
    disagreements wait for adjudication, as ``adjudication_queue`` lists them)."""
    from . import layers

    model = layers.model_layer(db)
    return {
        "choices": layers.all_layers(db) + ([model] if model else []),
        "analysts": layers.analysts(db),
        "model": model_report(db, codebook),
        "intra": intra_coder(db, codebook),
        "open_disputes": len(adjudication_queue(db, codebook)[0]),
    }
