"""Coding layers: who said which code applies where — for agreement, and as the source that the
matrix and exports read from.

Layers (``codings.coder`` values):
- an analyst's user name — their own codings;
- ``consensus`` — the final codes a supervisor chose when adjudicating a segment;
- ``model:<suggesters>`` — the stored suggestions (above threshold), a pseudo-coder that saw every
  segment it scored; it lives in the ``suggestions`` table, not in ``codings``;
- ``NAME:recode`` — NAME's re-coding of a sample without their earlier codes or the suggestions
  (intra-coder agreement).

A layer "saw" a segment if it finished it (``reviews``) or coded it; on a seen segment a code is
1 if confirmed, else 0; on an unseen segment it is missing.
"""

from __future__ import annotations

import numpy as np

from . import db as store
from .errors import NotFound
from .types import CodedRow, CodingRow

CONSENSUS = "consensus"
MODEL = "model"
RECODE = ":recode"
SOURCES_HELP = "consensus, all (every analyst), an analyst's name, or model"
SOURCE_LABELS = {
    CONSENSUS: "合意（裁定済み・全員一致のコード）",
    "all": "全分析者（和集合）",
    MODEL: "提案のみ（未確認）",
}


def source_label(source: str) -> str:
    """How pages and reports name a coding source, in Japanese."""
    return SOURCE_LABELS.get(source, f"分析者 {source}")


def is_analyst(name: str) -> bool:
    """Whether layer ``name`` is an analyst's own: not ``consensus``, not ``model…`` and without ``:``
    (so not ``NAME:recode``)."""
    return name != CONSENSUS and ":" not in name and not name.startswith(MODEL)


def all_layers(db) -> list[str]:
    """Every layer name in ``codings`` or ``reviews`` (analysts, ``consensus``, ``NAME:recode``), sorted; the
    model layer lives in ``suggestions`` and is not among them (see ``model_layer``)."""
    return [
        name
        for (name,) in db.execute(
            "select distinct coder from codings union select distinct coder from reviews order by 1"
        ).fetchall()
    ]


def analysts(db) -> list[str]:
    """The analysts' layers among ``all_layers`` (see ``is_analyst``), sorted."""
    return [c for c in all_layers(db) if is_analyst(c)]


def model_layer(db) -> str | None:
    """``model:<suggester versions>`` named after the newest stored suggestions, if any. The layer is
    every stored suggestion (one current set per segment), whichever run stored it."""
    rows = list(db.query("select suggesters from suggestions order by created_at desc limit 1"))
    return f"{MODEL}:{rows[0]['suggesters']}" if rows else None


def resolve(db, names: list[str] | None) -> list[str]:
    """Layer names, checked; ``model`` stands for the model layer; default: every analyst."""
    if not names:
        return analysts(db)
    known, model, out = set(all_layers(db)), model_layer(db), []
    for name in names:
        if name in (MODEL, model) and model:
            out.append(model)
        elif name in known:
            out.append(name)
        else:
            raise NotFound(
                f"no coder {name!r} in this project (have: {', '.join(sorted(known)) or 'none'}"
                f"{', model' if model else ''})",
                ja=f"「{name}」というコーダーはこのプロジェクトにありません。",
            )
    return out


def segments(db, transcript_id: int | None = None, text: bool = True) -> list[dict]:
    """Interviewee segments (the units of coding, ``db``'s view ``interviewee_segments``) in reading
    order: id, transcript_id, transcript (name), case_name, speaker, perspective, idx (the segment's
    position, from 0), start, end (code points), start_time (seconds), chars (length in code points),
    turn (the position of its turn in the transcript, from 1) and, with ``text``, the text."""
    where, params = ("where transcript_id = ?", [transcript_id]) if transcript_id is not None else ("", [])
    return list(
        db.query(
            f"""
        select id, transcript_id, transcript, case_name, speaker, perspective, idx, start, [end], start_time,
               length(text) as chars, turn_idx + 1 as turn{", text" if text else ""}
        from interviewee_segments {where} order by transcript_id, idx""",
            params,
        )
    )


def tensor(db, codes: list[str], names: list[str], units: list[dict]) -> np.ndarray:
    """values[layer, segment, code]: 1 confirmed, 0 seen without it, nan not seen."""
    ids = np.fromiter((u["id"] for u in units), dtype=np.int64, count=len(units))
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]

    def rows_of(seg: np.ndarray):
        """Positions in ``units`` of the given segment ids, and which ids were units at all."""
        if not len(sorted_ids):
            return np.zeros(0, dtype=np.int64), np.zeros(len(seg), dtype=bool)
        pos = np.minimum(np.searchsorted(sorted_ids, seg), len(sorted_ids) - 1)
        hit = sorted_ids[pos] == seg
        return order[pos[hit]], hit

    # a code's column computed in SQL (-1: not in ``codes``), so rows come back as plain integers
    column = "case code " + " ".join(f"when ? then {k}" for k in range(len(codes))) + " else -1 end"
    values = np.full((len(names), len(units), len(codes)), np.nan, dtype=np.float32)
    for li, name in enumerate(names):
        if name.startswith(MODEL + ":"):
            rows = np.array(
                db.execute(f"select segment_id, {column}, selected from suggestions", codes).fetchall(), dtype=np.int64
            ).reshape(-1, 3)
            at, hit = rows_of(rows[:, 0])
            k, selected = rows[hit, 1], rows[hit, 2]
            values[li, at[k >= 0], k[k >= 0]] = selected[k >= 0]
            continue
        if len(codes) <= 62:  # one row per seen segment: its confirmed codes as a bit mask
            rows = np.array(
                db.execute(
                    f"""
                select segment_id, sum(bit) from (
                  select segment_id, 0 as bit from reviews where coder = ?
                  union all
                  select segment_id, case when status = 'confirmed' and k >= 0 then 1 << k else 0 end
                  from (select segment_id, status, {column} as k from codings where coder = ?))
                group by segment_id""",
                    [name, *codes, name],
                ).fetchall(),
                dtype=np.int64,
            ).reshape(-1, 2)
            at, hit = rows_of(rows[:, 0])
            values[li, at, :] = (rows[hit, 1:2] >> np.arange(len(codes))) & 1
            continue
        seen = np.array(
            db.execute(
                "select segment_id from reviews where coder = ? union select segment_id from codings where coder = ?",
                [name, name],
            ).fetchall(),
            dtype=np.int64,
        ).reshape(-1)
        values[li, rows_of(seen)[0], :] = 0
        rows = np.array(
            db.execute(
                f"select segment_id, {column} from codings where coder = ? and status = 'confirmed'", [*codes, name]
            ).fetchall(),
            dtype=np.int64,
        ).reshape(-1, 2)
        at, hit = rows_of(rows[:, 0])
        k = rows[hit, 1]
        values[li, at[k >= 0], k[k >= 0]] = 1
    return values


def final_codes(values: np.ndarray) -> np.ndarray:
    """segment × code booleans from a tensor of [analysts..., consensus]: the consensus where a
    supervisor settled the segment, else the codes every analyst who saw it confirmed."""
    people, settled = values[:-1], values[-1]
    seen = ~np.isnan(people[:, :, 0])
    ones = np.where(seen[:, :, None], people == 1, False).sum(axis=0)
    unanimous = (seen.sum(axis=0)[:, None] == ones) & (ones > 0)
    return np.where(~np.isnan(settled[:, :1]), settled == 1, unanimous)


def consensus_codes(db, codes: list[str]) -> list[tuple[int, str]]:
    """The final codes (see ``final_codes``) as (segment id, code) pairs. Codes the analysts split on
    and nobody has adjudicated yet are left out (pending, see ``agreement.disagreements``)."""
    units = segments(db, text=False)
    final = final_codes(tensor(db, codes, analysts(db) + [CONSENSUS], units))
    return [(units[i]["id"], codes[k]) for i, k in zip(*np.nonzero(final))]


def codings_for(db, source: str = CONSENSUS, codes: list[str] | None = None) -> list[CodingRow]:
    """Confirmed codes from one source as rows {segment_id, code, coder}: ``consensus`` (the final
    codes, see ``consensus_codes``), ``all`` (every analyst, one row per analyst), an analyst's
    name, or ``model`` (suggestions above threshold: unconfirmed)."""
    if source == MODEL:
        name = model_layer(db)
        return [
            {"segment_id": r["segment_id"], "code": r["code"], "coder": name}
            for r in db.query("select segment_id, code from suggestions where selected = 1 order by segment_id")
        ]
    if source == CONSENSUS:
        if codes is None:
            codes = sorted({r["code"] for r in db.query("select distinct code from codings")})
        return [{"segment_id": s, "code": c, "coder": CONSENSUS} for s, c in consensus_codes(db, codes)]
    if source == "all":
        names = analysts(db)
    else:  # a layer name; whether it exists, and whether the user may read it, is coder.access's question
        names = [source]
    rows = db.execute(
        f"""select segment_id, code, coder from codings
                          where status = 'confirmed' and coder in ({store.marks(names)})
                          order by segment_id, code, coder""",
        names,
    ).fetchall()
    return [{"segment_id": s, "code": c, "coder": who} for s, c, who in rows]


def coded_rows(db, source: str = CONSENSUS, codes: list[str] | None = None) -> list[CodedRow]:
    """``codings_for`` joined with what a quote needs: transcript, case, speaker, perspective, position
    (``idx`` from 0, ``turn`` from 1), offsets, times, text, and the suggestion score of the code there
    (None if never scored); codings on interviewer segments are left out (see ``CodedRow``)."""
    rows = codings_for(db, source, codes)
    if codes is not None:
        rows = [r for r in rows if r["code"] in codes]
    ids = sorted({r["segment_id"] for r in rows})
    meta, scores = {}, {}
    for part in store.chunked(ids):
        marks = store.marks(part)
        for m in db.query(
            f"""
                select id, transcript_id, transcript, case_name, title, speaker, perspective, idx, turn_idx + 1 as turn,
                       start, [end], start_time, end_time, text
                from interviewee_segments where id in ({marks})""",
            part,
        ):
            meta[m["id"]] = m
        for sid, code, score in db.execute(
            f"select segment_id, code, score from suggestions where segment_id in ({marks})", part
        ).fetchall():
            scores[(sid, code)] = score
    out = []
    for r in rows:
        m = meta.get(r["segment_id"])
        if m is None:  # an interviewer's segment: not a unit of coding
            continue
        out.append(
            {
                **{k: v for k, v in m.items() if k != "id"},
                "segment_id": r["segment_id"],
                "code": r["code"],
                "coder": r["coder"],
                "score": scores.get((r["segment_id"], r["code"])),
            }
        )
    return out


def confirmed_by(db, coder: str, segment_ids: list[int]) -> dict[int, list[str]]:
    """The codes layer ``coder`` (an analyst's name, ``consensus`` or ``NAME:recode``) confirmed on each of
    ``segment_ids`` that has any: {segment id: codes sorted by id}. Any number of ids (one statement).
    Whether the caller may read the layer is ``coder.access``'s question."""
    out: dict[int, list[str]] = {}
    for sid, code in db.execute(
        "select segment_id, code from codings where coder = ? and status = 'confirmed' "
        "and segment_id in (select value from json_each(?)) order by code",
        [coder, store.json_ids(segment_ids)],
    ).fetchall():
        out.setdefault(sid, []).append(code)
    return out
