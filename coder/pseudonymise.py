"""Pseudonymised exports: personal and organisation names replaced by stable placeholders
(人物A, 事業所B, 地域C), for sharing results without 要配慮個人情報 (APPI) naming anyone.

The project's name list is the table ``pseudonym_names`` (this module owns its writes). Names come
from GiNZA's named entities (``scan``), from speaker labels that look like personal names
(``speaker_names``) and from a supervisor (``add_name``). **Every name whose status is not ``keep`` is
replaced**, reviewed or not: a candidate costs at worst a word, a name left out would leak.
``keep`` names are still matched, so the text they cover is left whole (a kept 山田線 shields its 山田).

Placeholders are stable: a name's letter is its rank, by row id, among all names of its kind (kept
ones included), so the same name gets the same placeholder in every export of the project. Names
are matched in the text as written (no width folding), longest first (山田太郎 before 山田), with
optional spaces between characters (山田 太郎); a Latin name only as a whole word. Honorifics are not
part of a name (山田さん → 人物Aさん).

Offsets: ``Pseudonymiser.apply`` returns the new text and an ``OffsetMap`` from code-point offsets
of the original to offsets of the new text. Exports map every range through it, so their offsets
refer to the pseudonymised text. The stored text is never changed.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import os
import re
import unicodedata
from pathlib import Path

from . import db as store
from .errors import CoderError

KINDS = {"person": "人物", "organisation": "事業所", "place": "地域"}  # kind -> placeholder stem
KIND_LABELS = {"person": "人名", "organisation": "組織名", "place": "地名"}  # Japanese, for pages
STATUSES = ("candidate", "replace", "keep")
HONORIFICS = ("さん", "さま", "様", "氏", "先生", "くん", "君", "ちゃん", "殿")
# GiNZA (Sekine's extended named entities) label -> kind; N_Person is a count of people, not a name
NER_KINDS = {
    "Person": "person",
    **dict.fromkeys(
        (
            "Company",
            "Company_Group",
            "Corporation_Other",
            "Organization_Other",
            "Public_Institution",
            "School",
            "Research_Institute",
        ),
        "organisation",
    ),
    "City": "place",
    "County": "place",
}
# Speaker labels and words that name a role, not a person (speakers.py adds the interviewer labels)
ROLE_WORDS = {
    "当事者",
    "本人",
    "支援者",
    "支援員",
    "雇用者",
    "利用者",
    "相談員",
    "相談支援専門員",
    "担当者",
    "担当",
    "職員",
    "スタッフ",
    "上司",
    "同僚",
    "社長",
    "事業主",
    "店長",
    "人事",
    "人事担当",
    "家族",
    "母",
    "父",
    "母親",
    "父親",
    "妻",
    "夫",
    "回答者",
    "話し手",
    "参加者",
    "出席者",
    "委員",
    "事務局",
    "医師",
    "主治医",
    "看護師",
    "ジョブコーチ",
    "支援機関",
    "企業",
    "文書",
    "発言者",
    "話者",
    "全員",
    "一同",
    "不明",
    "その他",
    "管理者",
    "サービス管理責任者",
    "作業療法士",
    "精神保健福祉士",
    "社会福祉士",
    "保健師",
    "カウンセラー",
    "コーディネーター",
    "インタビュイー",
    "記録",
    "通訳",
    "Speaker",
    "Participant",
    "Respondent",
    "Interviewee",
    "Unknown",
}
SCANNED = "pseudonym_scan"  # setting: JSON list of the sha256 of transcripts the NER scan has read
MAX_CHUNK = 1500  # characters per NER input (Sudachi refuses inputs over 49,149 bytes)
_LATIN = re.compile(r"[A-Za-z0-9]")
_NAME_CHARS = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f々〆ヵヶA-Za-z・ ]+$")


def _roles() -> set[str]:
    from .speakers import ALIASES, CHAIR_ROLES, INTERVIEWER_LABELS, PERSPECTIVES

    return ROLE_WORDS | INTERVIEWER_LABELS | set(CHAIR_ROLES) | set(PERSPECTIVES.values()) | set(ALIASES)


MAX_NAME = 60  # characters: longer than any person or organisation name in practice


def clean_name(name: str) -> str:
    """A name as the list keeps it: trimmed, without a trailing honorific (山田さん → 山田).
    CoderError if nothing is left."""
    name = (name or "").strip().strip("\u3000")
    for suffix in sorted(HONORIFICS, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)].rstrip(" \u3000")
            break
    if not name or name in HONORIFICS:
        raise CoderError(f"{name!r} is not a name")
    if len(name) > MAX_NAME or any(unicodedata.category(c)[0] == "C" for c in name):
        raise CoderError(
            f"{name[:20]!r}: a name is at most {MAX_NAME} characters, on one line, without control characters"
        )
    if not any(unicodedata.category(c)[0] in "LN" for c in name):  # "(" alone would replace every bracket
        raise CoderError(f"{name!r} is not a name (it has no letter or digit)")
    return name


def letters(n: int) -> str:
    """0 → A, 25 → Z, 26 → AA … (as spreadsheet columns)."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def list_names(db, status: str | None = None) -> list[dict]:
    """The name list, by kind then row id: dicts of the table's columns plus ``placeholder`` (人物A …)
    and ``replaced`` (True unless the status is ``keep``)."""
    rows, seen = [], {}
    for r in db.query("select * from pseudonym_names order by kind, id"):
        n = seen[r["kind"]] = seen.get(r["kind"], -1) + 1
        rows.append(
            {**r, "placeholder": KINDS.get(r["kind"], r["kind"]) + letters(n), "replaced": r["status"] != "keep"}
        )
    return [r for r in rows if status is None or r["status"] == status]


def add_name(
    db, name: str, kind: str = "person", by: str | None = None, origin: str = "manual", status: str = "replace"
) -> dict:
    """Put ``name`` on the list (or, if it is there, set its kind and status): return its row.
    A supervisor's entry (``origin`` manual) is replaced in exports. CoderError for an unknown kind."""
    if kind not in KINDS:
        raise CoderError(f"unknown kind {kind!r} (choose one of: {', '.join(KINDS)})")
    name, now = clean_name(name), store.now()
    with store.immediate(db):
        if db.execute("select 1 from pseudonym_names where name = ?", [name]).fetchone():
            db.execute(
                "update pseudonym_names set kind = ?, status = ?, reviewed_by = ?, updated_at = ? where name = ?",
                [kind, status, by, now, name],
            )
        else:
            db["pseudonym_names"].insert(
                {
                    "name": name,
                    "kind": kind,
                    "origin": origin,
                    "status": status,
                    "reviewed_by": by,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return next(r for r in list_names(db) if r["name"] == name)


def add_candidates(db, found: dict[str, str], origin: str) -> int:
    """Add names {name: kind} not yet on the list as unreviewed candidates; return how many were new."""
    now, added = store.now(), 0
    with store.immediate(db):
        for name, kind in found.items():
            added += db.execute(
                "insert or ignore into pseudonym_names (name, kind, origin, status, created_at, "
                "updated_at) values (?, ?, ?, 'candidate', ?, ?)",
                [name, kind, origin, now, now],
            ).rowcount
    return added


def review(db, name: str, status: str, by: str | None = None) -> dict:
    """Mark a listed name ``replace`` or ``keep``; return its row. CoderError if it is not listed."""
    if status not in ("replace", "keep"):
        raise CoderError(f"status must be replace or keep, not {status!r}")
    with store.immediate(db):
        changed = db.execute(
            "update pseudonym_names set status = ?, reviewed_by = ?, updated_at = ? where name = ?",
            [status, by, store.now(), name],
        ).rowcount
    if not changed:
        raise CoderError(f"{name!r} is not on the name list (see `coder names list`)")
    return next(r for r in list_names(db) if r["name"] == name)


def _strip(part: str, roles: set[str]) -> str:
    """``part`` without honorifics and role words around it: 山田座長 → 山田, 支援員 山田 → 山田."""
    affixes = sorted((r for r in roles if len(r) > 1), key=len, reverse=True)  # never strip 母 from 母里
    part, before = part.strip(), None
    while part != before:
        before = part
        for word in (*HONORIFICS, *affixes):
            if part != word and part.endswith(word):
                part = part[: -len(word)].strip()
            elif part != word and part.startswith(word) and word not in HONORIFICS:
                part = part[len(word) :].strip()
    return part


def _personal(part: str, roles: set[str]) -> bool:
    """Whether a speaker label (stripped) is a personal name: Sudachi reads a 人名 in it and no common
    noun (佐藤, 鈴木 花子 — not 就労, 支援ワーカー); a Latin label of three letters or more that is no role."""
    from .suggest.text import analysis

    compact = part.replace(" ", "")
    if len(compact) < 2 or part.lower() in {r.lower() for r in roles} or not _NAME_CHARS.match(part):
        return False
    if compact.isascii():
        return len(compact) >= 3
    pos = [m.pos for m in analysis(part).morphs if m.pos[0] != "空白"]
    return any(p[1:3] == ("固有名詞", "人名") for p in pos) and not any(p[1] == "普通名詞" for p in pos)


def speaker_names(labels) -> list[str]:
    """The personal names in speaker labels: 佐藤 in 佐藤, 佐藤さん, 司会(佐藤), 山田座長 or 支援員・山田;
    nothing for role labels (インタビュアー, 司会, 当事者, 支援者, 支援ワーカー, Q, A), numbered ids
    (SPEAKER_00, 参加者1) or 文書."""
    roles, out = _roles(), []
    for label in labels:
        for part in re.split(r"[()（）【】\[\]・/、,]+", label or ""):
            part = _strip(part, roles)
            if _personal(part, roles):
                out.append(part)
    return list(dict.fromkeys(out))


def _pieces(text: str):
    """``text`` in NER-sized pieces: lines, long lines cut after a sentence mark or comma."""
    for line in text.splitlines():
        while len(line) > MAX_CHUNK:
            cut = max(line.rfind(mark, 0, MAX_CHUNK) for mark in "。！？、 ") + 1 or MAX_CHUNK
            yield line[:cut]
            line = line[cut:]
        if line.strip():
            yield line


def entities(nlp, texts, progress=None) -> dict[str, str]:
    """Names GiNZA's NER finds in ``texts``: {name: kind} (kinds from ``NER_KINDS``; honorifics and
    role words around a name dropped; role words and Latin "names" under three letters, such as the
    A of Aさん, left out). ``progress(n)`` is called with the number of
    characters read after each piece. ``nlp`` must have the ``ner`` pipe (``segment.load_ner()``)."""
    if "ner" not in nlp.pipe_names:
        raise CoderError("this GiNZA pipeline has no named-entity recogniser (load it with segment.load_ner())")
    from .segment import GINZA

    roles, found = _roles(), {}
    with GINZA:  # GiNZA's tokenizer is not thread-safe (see segment.GINZA)
        for doc in nlp.pipe((p for t in texts for p in _pieces(t)), batch_size=32):
            for ent in doc.ents:
                kind, name = NER_KINDS.get(ent.label_), _strip(ent.text, roles)  # 港町東店 店長 → 港町東店
                if kind and name and name not in roles and not (name.isascii() and len(name) < 3):
                    found.setdefault(name, kind)
            if progress:
                progress(len(doc.text) + 1)
    return found


def scan(db, nlp=None, again: bool = False, progress=None) -> dict:
    """Add candidates from speaker labels and, if ``nlp`` is given, from GiNZA's NER over the text
    of every transcript not scanned before (all of them with ``again``): the whole stored text, not
    only the interviewees' turns, because a REFI-QDA export carries all of it (front matter such as
    an attendee list too). Returns {"speakers": new names, "ner": new names, "transcripts": read}.
    ``progress(done, total)`` is called with characters read so far and to read in all."""
    labels = [r["name"] for r in db.query("select distinct name from speakers")]
    out = {
        "speakers": add_candidates(db, dict.fromkeys(speaker_names(labels), "person"), "speaker"),
        "ner": 0,
        "transcripts": 0,
    }
    if nlp is None:
        return out
    done = set() if again else set(json.loads(store.get_setting(db, SCANNED) or "[]"))
    todo = [r for r in db.query("select sha256, text from transcripts order by id") if r["sha256"] not in done]
    total, read = sum(len(r["text"]) for r in todo), 0

    def step(n):
        nonlocal read
        read = min(read + n, total)
        if progress:
            progress(read, total)

    out["ner"] = add_candidates(db, entities(nlp, [r["text"] for r in todo], step), "ner")
    out["transcripts"] = len(todo)
    store.put_setting(db, SCANNED, json.dumps(sorted(done | {r["sha256"] for r in todo})))
    return out


class OffsetMap:
    """Code-point offsets of an original text → offsets of its pseudonymised text. An offset inside
    a replaced name maps to the placeholder's start (``side="start"``) or end (``side="end"``)."""

    def __init__(self, spans: list[tuple[int, int, int, int]]):
        self.spans = spans  # (old start, old end, new start, new end), in order
        self._ends = [s[1] for s in spans]

    def position(self, i: int, side: str = "start") -> int:
        k = bisect.bisect_right(self._ends, i)  # spans [0, k) end at or before i
        if k < len(self.spans) and self.spans[k][0] < i:  # i falls inside span k
            return self.spans[k][2] if side == "start" else self.spans[k][3]
        return i if not k else i - self._ends[k - 1] + self.spans[k - 1][3]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A (start, end) range of the original (end exclusive) in the new text."""
        return self.position(start, "start"), self.position(end, "end")


class Pseudonymiser:
    """Replaces the listed names (all but ``keep``) in any text; remembers which it used (``used``)."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        self.replacement = {r["name"]: (r["placeholder"] if r["replaced"] else None) for r in rows}
        self.used: dict[str, dict] = {}  # placeholder -> row, for the key table
        self._by_placeholder = {r["placeholder"]: r for r in rows}
        self._texts: dict[int, tuple[str, OffsetMap]] = {}
        # names by their first character, longest first: only positions holding such a character are tried
        self._first: dict[str, list[tuple[re.Pattern, str]]] = {}
        for name in sorted(self.replacement, key=lambda n: (-len("".join(n.split())), n)):
            self._first.setdefault("".join(name.split())[0], []).append((re.compile(_pattern(name)), name))
        self._starts = re.compile(f"[{''.join(map(re.escape, self._first))}]") if self._first else None

    @classmethod
    def from_db(cls, db) -> Pseudonymiser:
        return cls(list_names(db))

    def _matches(self, text: str):
        """(start, end, name) of every listed name in ``text``, left to right, longest first, no overlaps."""
        at = 0
        while self._starts is not None and (m := self._starts.search(text, at)):
            at = m.start()
            hit = next(((h, name) for pattern, name in self._first[text[at]] if (h := pattern.match(text, at))), None)
            if hit is None:
                at += 1
                continue
            yield hit[0].start(), hit[0].end(), hit[1]
            at = hit[0].end()

    def apply(self, text: str) -> tuple[str, OffsetMap]:
        """``text`` with every listed name replaced, and the map of its offsets."""
        parts, spans, at, shift = [], [], 0, 0
        for start, end, name in self._matches(text or ""):
            new = self.replacement[name]
            if new is None:  # a kept name: left as written
                continue
            self.used[new] = self._by_placeholder[new]
            parts += [text[at:start], new]
            spans.append((start, end, start + shift, start + shift + len(new)))
            shift += len(new) - (end - start)
            at = end
        return "".join(parts) + text[at:] if parts else text, OffsetMap(spans)

    def text(self, value):
        """A string with the names replaced (anything else as it is)."""
        return self.apply(value)[0] if isinstance(value, str) else value

    def transcript(self, db, transcript_id: int) -> tuple[str, OffsetMap]:
        """A stored transcript's pseudonymised text and offset map (computed once)."""
        if transcript_id not in self._texts:
            row = db.execute("select text from transcripts where id = ?", [transcript_id]).fetchone()
            self._texts[transcript_id] = self.apply(row[0])
        return self._texts[transcript_id]

    def quote(self, db, q: dict, fields=("transcript", "case_name", "case", "title", "speaker")) -> dict:
        """A quote row (``text``, ``start``, ``end``, ``transcript_id`` and names) of the new text."""
        text, offsets = self.transcript(db, q["transcript_id"])
        start, end = offsets.span(q["start"], q["end"])
        return {
            **q,
            **{f: self.text(q[f]) for f in fields if f in q},
            "text": text[start:end],
            "start": start,
            "end": end,
        }

    def matrix(self, db, m: dict) -> dict:
        """``coder.matrix.build()``'s dict with its quotes and its rows (cases, transcripts) pseudonymised."""
        key = (lambda k: k) if m["by"] == "perspective" else self.text
        cells = {
            key(k): {c: {**cell, "quotes": [self.quote(db, q) for q in cell["quotes"]]} for c, cell in row.items()}
            for k, row in m["cells"].items()
        }
        tests = {
            c: {**t, "residuals": {key(k): r for k, r in t.get("residuals", {}).items()}} for c, t in m["tests"].items()
        }
        return {
            **m,
            "rows": [key(k) for k in m["rows"]],
            "totals": {key(k): v for k, v in m["totals"].items()},
            "cells": cells,
            "tests": tests,
        }

    def sources(self, db, transcripts: list[dict], segments: dict[int, dict]) -> tuple[list[dict], dict[int, dict]]:
        """Transcript rows (name, case_name, title, text) pseudonymised, and segment rows by id whose
        ``start``/``end`` are remapped into their transcript's new text (for the REFI-QDA export)."""
        texts = {t["id"]: self.transcript(db, t["id"]) for t in transcripts}
        out = [
            {**t, **{f: self.text(t[f]) for f in ("name", "case_name", "title")}, "text": texts[t["id"]][0]}
            for t in transcripts
        ]
        moved = {}
        for i, s in segments.items():
            if s["transcript_id"] in texts:
                start, end = texts[s["transcript_id"]][1].span(s["start"], s["end"])
                s = {**s, "start": start, "end": end}
            moved[i] = s
        return out, moved

    def codes(self, rows: list[dict]) -> list[dict]:
        """User codes (``db.user_codes``) with names replaced in their names and descriptions."""
        return [{**r, "name": self.text(r["name"]), "description": self.text(r["description"])} for r in rows]

    def notes(self) -> list[str]:
        """What the person exporting should know: an empty list, candidates nobody has reviewed."""
        if not self.rows:
            return [
                "the name list is empty, so no name was replaced: run `coder names scan` or add names "
                "(`coder names add`, web page 名前)"
            ]
        waiting = sum(r["status"] == "candidate" for r in self.rows)
        return (
            [
                f"{waiting} candidate name(s) not reviewed yet were replaced to be safe "
                "(see `coder names list --status candidate`)"
            ]
            if waiting
            else []
        )

    def key(self, used_only: bool = False) -> list[dict]:
        """The key table: {placeholder, name, kind, status, origin} of every replaced name (or only
        those this pseudonymiser has put in a text)."""
        return [
            {k: r[k] for k in ("placeholder", "name", "kind", "status", "origin")}
            for r in self.rows
            if r["replaced"] and (not used_only or r["placeholder"] in self.used)
        ]


def _pattern(name: str) -> str:
    chars = [re.escape(c) for c in name if not c.isspace()]
    body = "[ \u3000]*".join(chars)
    before = "(?<![A-Za-z0-9])" if _LATIN.match(name[0]) else ""
    after = "(?![A-Za-z0-9])" if _LATIN.match(name[-1]) else ""
    return before + body + after


def key_csv(rows: list[dict]) -> str:
    """The key table as CSV text (placeholder, name, kind, status, origin); text cells are quoted
    against formula injection (``coder.export.cells``)."""
    from .export.cells import spreadsheet_row

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["placeholder", "name", "kind", "status", "origin"])
    writer.writeheader()
    writer.writerows(spreadsheet_row(r) for r in rows)
    return buffer.getvalue()


def write_key(path: str | Path, rows: list[dict]) -> Path:
    """Write the key table to ``path`` (UTF-8 with BOM), readable by its owner only (mode 0600)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # a file that was there keeps its mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
        f.write(key_csv(rows))
    return path
