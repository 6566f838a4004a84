"""Full-text search over segments, shown as KWIC (keyword in context) rows.

Two ways to match:

- **surface** (default): the query as a substring, after NFKC normalisation and case folding on
  both sides, so ＡＢＣ finds abc, ｶﾞ finds ガ, and a line break inside a sentence (PDF-style) is
  skipped. The text is normalised one user-perceived character at a time (a character with its
  combining or half-width sound marks), so every match maps back to exact code-point offsets in
  ``transcripts.text``; a match that starts or ends inside a character NFKC expands (㍻ → 平成)
  covers that whole character.
- **lemma**: the query's Sudachi normalised forms (split mode C, as the stored GiNZA tokens in
  ``segments.tokens``) matched against consecutive tokens. A verb also stands for its
  連用形 noun, so 引き継ぐ finds 引き継いだ, 引継ぎ and 引き継ぎ (Sudachi normalises 引継ぎ to 引き継ぎ).

Filters narrow the segments searched: perspective, case, speaker, transcript, a code confirmed in
the coding layers the caller may see (``coder.access.Policy``: in blind mode an analyst's own),
a coder, segments without any confirmed code in those layers, and an attribute ``NAME=VALUE`` of
the transcript or its case. Only interviewee segments are searched unless ``all_turns``.

Each hit is a row (see ``FIELDS``): ``start``/``end`` are code-point offsets of the match in the
transcript's text (``text[start:end] == match``); ``left``/``right`` are up to ``CONTEXT``
characters of the transcript around it, line breaks shown as spaces. A hit also carries ``turn``,
the position of the segment's turn in its transcript from 1 (not one of ``FIELDS``, the CSV columns).
"""

from __future__ import annotations

import json
import unicodedata

from . import attributes, layers
from . import db as store
from .access import Policy
from .errors import CoderError
from .segment import grapheme_boundary

CONTEXT = 30  # characters of context on each side of a hit
FIELDS = [
    "segment_id",
    "transcript",
    "transcript_id",
    "index",
    "speaker",
    "perspective",
    "case",
    "start",
    "end",
    "left",
    "match",
    "right",
]
_SKIP = "\n\r"  # line breaks inside a segment are layout, not text: a query matches across them
# 五段 verbs: the last kana of the dictionary form → that of the 連用形 (引き継ぐ → 引き継ぎ)
_ENDINGS = ("助動詞", "助詞", "補助記号")  # Sudachi POS dropped from the end of a lemma query
_RENYOU = str.maketrans("うくぐすつぬぶむる", "いきぎしちにびみり")


def fold(text: str) -> str:
    """``text`` as surface search compares it: NFKC, case-folded, NFKC again (Unicode's caseless
    identifier matching), without line breaks."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in folded if c not in _SKIP)


def _folded_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """``fold(text)`` built character by character, with, for each folded character, the start and
    end (code points in ``text``) of the original character it came from."""
    if fold(text) == text:  # most Japanese text: nothing to map
        return text, list(range(len(text))), list(range(1, len(text) + 1))
    out, starts, ends, i = [], [], [], 0
    while i < len(text):
        j = i + 1
        while not grapheme_boundary(text, j):
            j += 1
        piece = fold(text[i:j])
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(out), starts, ends


def surface_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) code-point spans in ``text`` where ``query`` occurs, compared
    after ``fold`` on both sides."""
    needle = fold(query)
    if not needle:
        return []
    folded, starts, ends = _folded_with_map(text)
    spans, k = [], folded.find(needle)
    while k >= 0:
        spans.append((starts[k], ends[k + len(needle) - 1]))
        k = folded.find(needle, k + len(needle))
    return spans


def _keys(norm: str, tag: str) -> frozenset[str]:
    """What a token matches on: its normalised form, and for a verb the 連用形 it is also used as a
    noun in (五段: last kana to the i-row; 一段: without る; both tried, as the stored tags do not
    say which)."""
    keys = {norm}
    if tag.startswith("動詞") and norm:
        keys.add(norm[:-1] + norm[-1].translate(_RENYOU))
        if norm.endswith("る") and len(norm) > 1:
            keys.add(norm[:-1])
    return frozenset(keys)


def query_keys(query: str) -> list[frozenset[str]]:
    """The query as a sequence of token keys (Sudachi split mode C, like the stored tokens)."""
    from .suggest.text import _morphemes, _sudachi

    _, mode = _sudachi()
    tokens = [
        (m.normalized_form(), m.part_of_speech()[0])
        for _, m in _morphemes(query.strip(), mode.C)
        if not m.surface().isspace()
    ]
    # an inflected query (引き継いだ, 共有します) searches for its word, not for that one inflection:
    # trailing auxiliaries, particles and a light verb する go, as long as a word is left
    while len(tokens) > 1 and (tokens[-1][1] in _ENDINGS or tokens[-1][0] == "為る"):  # 共有します → 共有
        tokens.pop()
    return [_keys(norm, tag) for norm, tag in tokens]


def lemma_spans(tokens: list[list], keys: list[frozenset[str]]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of consecutive ``tokens`` (``[start, end, lemma, norm,
    tag]`` as stored by ``coder.segment``) whose keys meet the query's ``keys`` one by one."""
    if not keys:
        return []
    token_keys = [_keys(t[3], t[4]) for t in tokens]
    spans, i, n = [], 0, len(keys)
    while i + n <= len(tokens):
        if all(token_keys[i + k] & keys[k] for k in range(n)):
            spans.append((tokens[i][0], tokens[i + n - 1][1]))
            i += n
        else:
            i += 1
    return spans


def _coded(db, policy: Policy, coder: str | None) -> dict[int, set[str]]:
    """Segment id → confirmed codes in the layers the code/uncoded filters read: ``coder``'s (checked
    by the policy), else every layer the policy shows."""
    if coder:
        source = policy.check_source(db, coder)  # NotFound / Forbidden
        if source == layers.MODEL:
            raise CoderError("the model's suggestions are not confirmed codes; name an analyst")
        sources = [source]
    else:
        sources = [name for name in layers.all_layers(db) if policy.may_see(name)]
    coded: dict[int, set[str]] = {}
    for source in sources:
        for r in layers.codings_for(db, source):
            coded.setdefault(r["segment_id"], set()).add(r["code"])
    return coded


def _segments(db, perspective, case, speaker, transcript, all_turns, lemma) -> list[dict]:
    """The segments the filters select, in reading order: the interviewees' (``db``'s view
    ``interviewee_segments``), or with ``all_turns`` every segment (``segment_details``)."""
    where, params = [], []
    for column, value in (("perspective", perspective), ("case_name", case), ("speaker", speaker)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if transcript:
        where.append("transcript_id = ?")
        params.append(store.find_transcript(db, transcript)["id"])  # NotFound listing the transcripts
    return list(
        db.query(
            f"""
        select id, transcript_id, transcript, case_name, speaker, perspective, idx, turn_idx + 1 as turn, start,
               text{", tokens" if lemma else ""}
        from {"segment_details" if all_turns else "interviewee_segments"}
        {"where " + " and ".join(where) if where else ""} order by transcript_id, idx""",
            params,
        )
    )


def search(
    db,
    query: str,
    *,
    lemma: bool = False,
    policy: Policy | None = None,
    perspective: str | None = None,
    case: str | None = None,
    speaker: str | None = None,
    transcript: str | int | None = None,
    code: str | None = None,
    coder: str | None = None,
    uncoded: bool = False,
    attribute: str | None = None,
    all_turns: bool = False,
    context: int = CONTEXT,
) -> list[dict]:
    """KWIC rows (``FIELDS``, and ``turn``) for every match of ``query`` in the segments the filters select, in
    reading order; see the module docstring. ``policy`` (default: the project owner) decides whose
    codes ``code``, ``coder`` and ``uncoded`` may read: a closed coder raises ``Forbidden``, an
    unknown one or an unknown transcript ``NotFound``."""
    if not query or not query.strip():
        raise CoderError("empty search query")
    policy = policy or Policy.owner()
    rows = _segments(db, perspective, case, speaker, transcript, all_turns, lemma)
    if code and uncoded:
        raise CoderError("a code filter and 'uncoded only' exclude each other")
    if code or coder or uncoded:
        coded = _coded(db, policy, coder)
        if code:
            rows = [r for r in rows if code in coded.get(r["id"], ())]
        else:  # uncoded: no confirmed code in those layers; a coder alone: some confirmed code of theirs
            rows = [r for r in rows if bool(coded.get(r["id"])) != uncoded]
    if attribute:
        keep = attributes.transcripts_where(db, attributes.parse_filters(attribute))  # NotFound: no such name
        rows = [r for r in rows if r["transcript_id"] in keep]
    keys = query_keys(query) if lemma else None
    texts, hits = {}, []
    for r in rows:
        if lemma:
            spans = lemma_spans(json.loads(r["tokens"] or "[]"), keys)
        else:
            spans = [(r["start"] + s, r["start"] + e) for s, e in surface_spans(r["text"], query)]
        for start, end in spans:
            if r["transcript_id"] not in texts:
                texts[r["transcript_id"]] = store.find_transcript(db, r["transcript_id"])["text"]
            text = texts[r["transcript_id"]]
            hits.append(
                {
                    "segment_id": r["id"],
                    "transcript": r["transcript"],
                    "transcript_id": r["transcript_id"],
                    "index": r["idx"],
                    "speaker": r["speaker"],
                    "perspective": r["perspective"],
                    "case": r["case_name"],
                    "start": start,
                    "end": end,
                    "left": _flat(text[max(0, start - context) : start]),
                    "match": text[start:end],
                    "right": _flat(text[end : end + context]),
                    "turn": r["turn"],
                }
            )
    return hits


def _flat(text: str) -> str:
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def to_markdown(hits: list[dict]) -> str:
    """A KWIC table in Markdown: left context, **match**, right context, transcript, speaker,
    perspective, offsets (``|`` and line breaks in the text escaped)."""

    def cell(value) -> str:
        text = _flat(str("" if value is None else value))
        return "".join("\\" + c if c in "\\|*_`[]<>" else c for c in text)

    lines = [
        "| left | match | right | transcript | speaker | perspective | start–end |",
        "|--:|:-:|:--|---|---|---|---|",
    ]
    for h in hits:
        lines.append(
            f"| {cell(h['left'])} | **{cell(h['match'])}** | {cell(h['right'])} | {cell(h['transcript'])} "
            f"| {cell(h['speaker'])} | {cell(h['perspective'])} | {h['start']}–{h['end']} |"
        )
    return "\n".join(lines) + "\n"


def code_hits(db, segment_ids: list[int], coder: str, codebook, code: str) -> int:
    """Confirm ``code`` for ``coder`` on each segment (``coder.coding.apply``, which logs every change);
    returns how many segments were coded. Unknown or interviewer segments raise ``NotFound``."""
    from .coding import apply

    if code not in codebook.ids:
        raise CoderError(f"unknown code {code!r} (codebook {codebook.version_tag})")
    for segment_id in dict.fromkeys(segment_ids):
        apply(db, segment_id, coder, "confirm", codebook, code)
    return len(dict.fromkeys(segment_ids))
