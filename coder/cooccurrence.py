"""Code co-occurrence: which codes one coding layer puts together, on one segment or in one interview.

The layer is read like the matrix reads it (``coder.layers.codings_for``: ``consensus`` = the final
codes, ``all`` = every analyst's confirmed codes together, an analyst's own, ``model`` = the
unconfirmed suggestions), through the user's ``coder.access.Policy``, over interviewee segments
only (``coder.layers.segments``), optionally limited to transcripts with given attribute values.

Two levels: ``segment`` (two codes on the same segment) and ``interview`` (two codes anywhere in
the same transcript). The strength of a pair is the Jaccard coefficient, |A ∩ B| / |A ∪ B| over
the segments (resp. interviews) carrying code A and code B — the measure KH Coder's co-occurrence
network draws.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from . import attributes, layers
from .access import Policy

LEVELS = ("segment", "interview")
LEVEL_LABELS = {"segment": "セグメント", "interview": "インタビュー"}


def compute(
    db, codebook, source: str = layers.CONSENSUS, policy: Policy | None = None, where: dict[str, str] | None = None
) -> dict:
    """Co-occurrence of the codebook's codes in one source.

    Returns ``{"source", "source_label", "unconfirmed" (True for the model's suggestions), "where",
    "codes": [ids with ≥ 1 coding, codebook order], "frequency": {"segment": {code: segments},
    "interview": {code: interviews}}, "pairs": [{"a", "b", "segments", "interviews",
    "jaccard_segment", "jaccard_interview"}], "n_segments", "n_interviews"}``. ``pairs`` holds every
    pair (``a`` before ``b`` in codebook order) that co-occurs at least once at either level, by
    ``jaccard_segment`` then ``jaccard_interview`` descending; ``n_segments``/``n_interviews`` count
    the segments and interviews carrying at least one code.

    ``policy`` (default ``Policy.owner()``) raises ``NotFound``/``Forbidden`` for a source it does
    not allow; ``where`` ({attribute: value}) keeps only transcripts with those values
    (``NotFound`` for an attribute no value has)."""
    policy = policy or Policy.owner()
    source = policy.check_source(db, source)
    codes = codebook.ids
    units = layers.segments(db, text=False)
    if where:
        keep = attributes.transcripts_where(db, where)
        units = [u for u in units if u["transcript_id"] in keep]
    transcript_of = {u["id"]: u["transcript_id"] for u in units}
    carriers = {level: defaultdict(set) for level in LEVELS}  # level -> code -> segment / transcript ids
    for row in layers.codings_for(db, source, codes):
        tid = transcript_of.get(row["segment_id"])
        if tid is not None and row["code"] in codes:
            carriers["segment"][row["code"]].add(row["segment_id"])
            carriers["interview"][row["code"]].add(tid)
    present = [c for c in codes if carriers["segment"][c]]
    pairs = []
    for a, b in combinations(present, 2):
        pair = {"a": a, "b": b}
        for level, count, ratio in (
            ("segment", "segments", "jaccard_segment"),
            ("interview", "interviews", "jaccard_interview"),
        ):
            both = len(carriers[level][a] & carriers[level][b])
            pair[count], pair[ratio] = both, both / len(carriers[level][a] | carriers[level][b])
        if pair["segments"] or pair["interviews"]:
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p["jaccard_segment"], -p["jaccard_interview"]))  # stable: codebook order on ties
    return {
        "source": source,
        "source_label": layers.source_label(source),
        "unconfirmed": source == layers.MODEL,
        "where": dict(where or {}),
        "codes": present,
        "frequency": {level: {c: len(carriers[level][c]) for c in present} for level in LEVELS},
        "pairs": pairs,
        "n_segments": len(set().union(*carriers["segment"].values())),
        "n_interviews": len(set().union(*carriers["interview"].values())),
    }


def to_markdown(co: dict, codebook) -> str:
    """A report: what was counted, then one table row per pair (code A, code B, segments, Jaccard,
    interviews, Jaccard)."""
    lines = [f"# コードの共起（出典：{co['source_label']}）\n"]
    if co.get("where"):
        lines.append("対象：" + "、".join(f"属性 {k}={v}" for k, v in co["where"].items()) + " のインタビュー\n")
    if co["unconfirmed"]:
        lines.append("> 注意：提案のみに基づく集計です。分析者による確認を経ていません。\n")
    lines.append(
        f"コードのあるセグメント {co['n_segments']} 件、インタビュー {co['n_interviews']} 件。"
        "Jaccard 係数は、2つのコードのどちらかがあるセグメント（インタビュー）のうち、"
        "両方があるものの割合です。\n"
    )
    if not co["pairs"]:
        lines.append("同じセグメントやインタビューに現れるコードの組はまだありません。")
        return "\n".join(lines) + "\n"
    lines.append("| コードA | コードB | セグメント | Jaccard | インタビュー | Jaccard |")
    lines.append("|---|---|---|---|---|---|")
    for p in co["pairs"]:
        lines.append(
            f"| {codebook.code(p['a']).name} | {codebook.code(p['b']).name} | {p['segments']} | "
            f"{p['jaccard_segment']:.3f} | {p['interviews']} | {p['jaccard_interview']:.3f} |"
        )
    return "\n".join(lines) + "\n"
