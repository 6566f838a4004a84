"""Lines → turns: which layout a plain-text, Markdown or Word source uses, decided per file.

Layouts (each a kind of line from ``lines.classify`` that starts a turn):

- ``labels``: the speaker's label on the first line of each turn (``話者：発言``, ``【話者】``,
  ``○話者　``, ``Q．``, ``[SPEAKER_00]``; ``―― 質問`` lines count as turns of ``聞き手`` unless a
  label already names the interviewer);
- ``headers``: a line with only a speaker and a time (``参加者 1 00:14``), the words below;
- ``names``: a bracketed name alone on a line (``（岡田）``, ``【岡田】``), the words below;
- ``questions``: a published interview — ``―― 質問`` paragraphs (speaker ``聞き手``) and unlabelled
  answers (speaker ``回答者``; name the interviewee with ``--speaker 回答者=person``);
- ``document``: no consistent speaker pattern — one turn per paragraph of the speaker ``文書``.

The layout whose turns by *established* speakers are most wins (ties: the order above). A speaker
is established when it starts two or more turns, or is mapped, known to the project, an
interviewer label (``聞き手``, ``司会`` …) or ``Q``/``A``/``回答者``. Before the first turn of an
established speaker, the marker of another speaker starts a turn only if it is a label of the
file's main style whose words end a sentence (``。？」`` …); so fields such as ``記録方法：ICレコーダー``
or ``2024/06/03 記録：評価チーム``, attendee lists (``【委員】…`` in ○-minutes), titles, dates and
agendas are front matter. After it, any marker starts a turn, except a header field name (``日時``,
``出席者`` …) used once; a name before a wide space must recur, and in a file whose established header
or name lines mostly open a block (a blank line before), a one-off one must open a block too (``朝礼 8:45`` inside a block is words). A file without any established speaker takes every marker that is not a
header field. Unmarked lines continue the current turn; a line with only a time code starts a new
turn of the same speaker at that time (times never stay in the words); a Markdown heading (or a Word
paragraph in a heading style) ends the
turn. (A time code alone on a line is words in a file with no other time code.) Every non-blank
line outside the turns is reported (``Reading.left_out``).

A source is a transcript when every speaker is mapped or known to the project; when half of its non-blank lines or more start a turn and there is a turn
per ``CHARS_PER_TURN`` non-space characters (a short labelled text, even of one turn); or when it has at least two turns of established
speakers, turns of at least two speakers (or three of one, or any of one the user, the project or
the defaults know), and at least one turn of an established speaker per ``CHARS_PER_TURN``
non-space characters. Otherwise it is a document.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..speakers import is_interviewer
from ..types import Turn
from .lines import Line, classify

QUESTION_SPEAKER, ANSWER_SPEAKER, DOCUMENT_SPEAKER = "聞き手", "回答者", "文書"
ANSWER_LABELS = {"A", "回答者", "答"}
# Field names of a transcript's header or a minutes' front matter: never speakers unless used twice or mapped
HEADER_FIELDS = {
    "日時",
    "日付",
    "実施日",
    "時間",
    "所要時間",
    "場所",
    "会場",
    "方法",
    "形式",
    "参加者",
    "出席者",
    "出席委員",
    "欠席者",
    "欠席委員",
    "陪席",
    "対象",
    "対象者",
    "件名",
    "題名",
    "タイトル",
    "目的",
    "記録",
    "記録者",
    "作成者",
    "作成日",
    "備考",
    "注",
    "URL",
    "議題",
    "議事",
    "次第",
    "配布資料",
    "資料",
    "開会",
    "閉会",
    "委員",
    "事務局",
    "オブザーバー",
    "説明者",
    "傍聴",
}
# A transcript has a turn of an established speaker at least every CHARS_PER_TURN non-space characters on
# average. Interviews and minutes run about 50–1,500 characters per turn; a paper whose prose holds a few
# "RQ1:"-like labels runs tens of thousands per label.
CHARS_PER_TURN = 4000
_SENTENCE_END = tuple("。！？!?」』")
_MARKER = {"labels": "label", "headers": "header", "names": "name", "questions": "question"}


@dataclass
class Reading:
    """Turns of one source and what was left out of them: ``(start, end, why)`` offsets into the text."""

    layout: str
    turns: list[Turn]
    left_out: list[tuple[int, int, str]] = field(default_factory=list)
    reason: str = ""
    markers: int = 0  # lines that started a turn


def line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, without its ``\\n``."""
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def read_turns(
    text: str, fmt: str = "txt", known: set[str] = frozenset(), document: bool = False, headings: set[int] = frozenset()
) -> Reading:
    """Decide the layout of ``text`` (line ends ``\\n``) and read its turns; see the module docstring.

    ``known``: speaker names mapped by the user or known to the project. ``document=True`` reads
    the text as a document whatever its labels. ``headings``: start offsets of heading lines. Never raises: a text without any speaker pattern is
    a document; an empty text gives no turns.
    """
    spans = line_spans(text)
    infos = [Line("heading", content=e - s) if s in headings and e > s else classify(text[s:e], fmt) for s, e in spans]
    if not document:
        readings = [_build(layout, text, spans, infos, set(known)) for layout in _MARKER]
        best = max(readings, key=lambda r: r[1])  # max keeps the first of equals
        reading, why_not = best[0], _inconsistent(best[0], text, infos, set(known))
        if not why_not:
            return reading
        return _document(text, spans, infos, f"no consistent speaker pattern ({why_not}): read as a document")
    return _document(text, spans, infos, "read as a document (--document)")


def _trusted(names: Counter, known: set[str]) -> set[str]:
    return {n for n, c in names.items() if c >= 2 or _vouched(n, known)}


def _build(layout: str, text: str, spans, infos: list[Line], known: set[str]) -> tuple[Reading, int]:
    marker = _MARKER[layout]
    # ―― lines are the interviewer's questions in a labelled file only if no label names the interviewer
    asks = layout == "labels" and not any(i.kind == "label" and is_interviewer(i.name) for i in infos)
    kinds = {marker, "question"} if asks else {marker}
    names = Counter(QUESTION_SPEAKER if i.kind == "question" else i.name for i in infos if i.kind in kinds)
    trusted = _trusted(names, known)
    styles = Counter(i.style for i in infos if i.kind == "label" and i.name in trusted)
    main_style = styles.most_common(1)[0][0] if styles else "colon"
    first = next(
        (
            n
            for n, i in enumerate(infos)
            if i.kind in kinds and (QUESTION_SPEAKER if i.kind == "question" else i.name) in trusted
        ),
        None,
    )
    # a line of only a time code is a marker in a timed file; in an untimed one it is words (15:00 ...)
    timed = sum(1 for i in infos if i.kind == "time") >= 2 or any(i.time is not None for i in infos if i.kind in kinds)
    filled = [n for n, i in enumerate(infos) if i.kind != "blank"]
    blank_separated = bool(filled) and any(infos[n].kind == "blank" for n in range(filled[0], filled[-1]))
    # a file of blocks: most established header or name lines open a block (a blank line before them)
    opening = [
        n == 0 or infos[n - 1].kind == "blank"
        for n, i in enumerate(infos)
        if i.kind in ("header", "name") and i.kind in kinds and i.name in trusted
    ]
    blocks = bool(opening) and sum(opening) * 2 > len(opening)

    def starts_turn(n: int, info: Line) -> bool:
        if info.kind not in kinds:
            return False
        name = QUESTION_SPEAKER if info.kind == "question" else info.name
        if name in trusted:
            return True
        if name in HEADER_FIELDS or info.style == "spaced":  # a name before a wide space must recur to count
            return False
        if info.kind in ("header", "name") and blocks and n > 0 and infos[n - 1].kind != "blank":
            return False  # in a file of blocks, a one-off 朝礼 8:45 inside a block is words, not a header
        if first is None or n > first:
            return True
        # before the first established turn: a speaker's sentence, not a field such as 記録方法：ICレコーダー
        s, e = spans[n]
        return info.style == main_style and text[s + info.content : e].rstrip().endswith(_SENTENCE_END)

    turns: list[Turn] = []
    current: Turn | None = None
    pending: float | None = None
    in_question = False
    used: set[int] = set()  # marker lines that started a turn or set a time
    for n, ((s, e), info) in enumerate(zip(spans, infos)):
        if starts_turn(n, info):
            used.add(n)
            speaker = QUESTION_SPEAKER if info.kind == "question" else info.name
            start = s + info.content if info.kind in ("label", "question") else e + 1
            current = Turn(
                speaker=speaker,
                start=start,
                end=max(start, e),
                start_time=info.time if info.time is not None else pending,
            )
            turns.append(current)
            pending, in_question = None, info.kind == "question"
        elif info.kind == "time" and timed and current is not None:
            used.add(n)
            pending = info.time
            current = Turn(speaker=current.speaker, start=e + 1, end=e + 1, start_time=info.time)
            turns.append(current)
        elif info.kind == "time" and timed:
            used.add(n)
            pending = info.time
        elif info.kind == "heading":
            current, in_question = None, False
        elif info.kind == "blank":
            in_question = in_question and not blank_separated
        elif (
            layout == "questions"
            and current is not None
            and current.speaker == QUESTION_SPEAKER
            and not (in_question and blank_separated)
        ):
            current = Turn(speaker=ANSWER_SPEAKER, start=s, end=e)
            turns.append(current)
            pending, in_question = None, False
        elif current is not None:
            current.end, pending = e, None
    turns = _trimmed(text, turns)
    score = sum(1 for t in turns if t.speaker in trusted or _vouched(t.speaker, known))
    markers = sum(1 for n in used if infos[n].kind != "time")
    return Reading(layout, turns, _left_out(text, spans, infos, turns, used), markers=markers), score


def _trimmed(text: str, turns: list[Turn]) -> list[Turn]:
    for t in turns:
        t.end = max(t.end, t.start)
        while t.start < t.end and text[t.start].isspace():
            t.start += 1
        while t.end > t.start and text[t.end - 1].isspace():
            t.end -= 1
    return [t for t in turns if t.end > t.start]


def _left_out(text: str, spans, infos: list[Line], turns: list[Turn], used: set[int]) -> list[tuple[int, int, str]]:
    """Non-blank lines that are neither a turn's words nor a marker that started a turn, merged into runs."""
    first = turns[0].start if turns else len(text) + 1
    out: list[tuple[int, int, str]] = []
    k = 0
    for n, ((s, e), info) in enumerate(zip(spans, infos)):
        while k < len(turns) and turns[k].end < s:
            k += 1
        if info.kind == "blank" or n in used or (k < len(turns) and turns[k].start <= e and s <= turns[k].end):
            continue
        why = "heading" if info.kind == "heading" else "before the first turn" if s < first else "outside any turn"
        if out and out[-1][2] == why and not text[out[-1][1] : s].strip():
            out[-1] = (out[-1][0], e, why)
        else:
            out.append((s, e, why))
    return out


def _inconsistent(reading: Reading, text: str, infos: list[Line], known: set[str]) -> str:
    """Why ``reading`` is not a transcript, or "" if it is one (see the module docstring)."""
    counts = Counter(t.speaker for t in reading.turns)
    established = {n for n, c in counts.items() if c >= 2 or _vouched(n, known)}
    turns = sum(counts[n] for n in established)
    if counts and set(counts) <= set(known):
        return ""  # every speaker is one the user mapped or the project knows
    lines = sum(1 for i in infos if i.kind != "blank")
    chars = sum(1 for ch in text if not ch.isspace())
    if reading.turns and reading.markers * 2 >= lines and len(reading.turns) * CHARS_PER_TURN >= chars:
        return ""  # labels on half the lines or more: a short transcript
    if turns < 2:
        return "fewer than two turns of a recurring speaker"
    only = next(iter(counts))
    if len(counts) < 2 and counts[only] < 3 and not _vouched(only, known):
        return f"one speaker only, {only}"
    if turns * CHARS_PER_TURN < chars:
        return f"{turns} turns of recurring speakers in {chars:,} characters"
    return ""


def _vouched(name: str, known: set[str]) -> bool:
    return name in known or name in ANSWER_LABELS or name == QUESTION_SPEAKER or is_interviewer(name)


def _document(text: str, spans, infos: list[Line], reason: str) -> Reading:
    """One turn of ``文書`` per paragraph (lines between blank lines)."""
    turns: list[Turn] = []
    open_paragraph = False
    for (s, e), info in zip(spans, infos):
        if info.kind == "blank":
            open_paragraph = False
        elif open_paragraph:
            turns[-1].end = e
        else:
            turns.append(Turn(speaker=DOCUMENT_SPEAKER, start=s, end=e))
            open_paragraph = True
    return Reading("document", _trimmed(text, turns), [], reason)
