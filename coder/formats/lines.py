"""One grammar for the lines of a transcript: what a line says about speakers and time.

Every plain-text, Markdown and Word source is read line by line with ``classify``; the
layouts (``layouts.py``) then decide per file which kind of line starts a turn. A line is

- ``label``: a speaker label followed by the words on the same line — ``話者：発言`` /
  ``話者: 発言`` (not ``10:30``), ``【話者】発言``, ``[SPEAKER_00] 発言``, ``○話者　発言`` (minutes),
  ``Q．発言`` / ``A．発言`` (also numbered, ``Q1.``), Markdown ``**話者**：``, and a name followed by a
  tab, a full-width space or two spaces (``山田座長　発言``, ``問　発言``; the name must hold a kanji or be a
  diarised id, so ``はい　そうです`` is words); a time code may stand before the label
  (``[00:01:12] 聞き手：``, ``00:01:12 聞き手：``), after it (``聞き手（00:01:12）：``,
  ``聞き手 [00:01:12]：``) or right after the colon; it is kept as the turn's time, never in the words;
- ``header``: only a speaker name and a time (``参加者 1 00:14``, ``石井  00:00:03``,
  ``Speaker 2  01:02:03``, ``[石井 太郎] 10:02:03``, ``00:00:03 石井``): the words follow on the next lines;
- ``name``: only a name in brackets (``(岡田)``, ``（岡田）``, ``【岡田】``, ``[SPEAKER_01]``), words below;
- ``question``: a published interview's question, ``―― 発言`` (two or more dashes);
- ``time``: only a time code; ``heading``: a Markdown ``#`` heading; ``blank``; ``text``: anything else.

Time codes are ``m:ss``, ``mm:ss`` or ``h:mm:ss`` with optional ``.mmm``/``,mmm``, bare or in
``[] () （） 【】``; seconds are returned as floats. Names are NFKC-normalised; brackets around a
name are not part of it (``[SPEAKER_00]`` → ``SPEAKER_00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..speakers import normalize_label

_SP = r"[ \t\u3000\u00a0]"
TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_OPEN, _CLOSE = r"[\[(（【]", r"[\])）】]"
# a time code, bare or bracketed; group "t" holds the time
_TIMECODE = rf"(?:{_OPEN}{_SP}*(?P<t>{TIME}){_SP}*{_CLOSE}|(?P<t2>{TIME})(?![\d:]))"
_NAME_CHARS = r"[^\s：:。、，,．「」『』!?！？\[\]【】()（）#*]"
# a name may hold single inner spaces: 山本 理恵, Speaker 2, 参加者 1
_NAME = rf"{_NAME_CHARS}(?:{_NAME_CHARS}|{_SP}(?={_NAME_CHARS})){{0,23}}?"
_BOLD = r"(?:\*\*|__)?"

_LEAD_TIME = re.compile(rf"{_SP}*{_TIMECODE}{_SP}+")
# Zoom and Teams write outside participants as "Taro Ishii (Guest)", "Ishii, Taro", "Hanako (iPhone)"
_LATIN_COMMA = r"(?:,[ ](?=[A-Za-z]))"
_COLON = re.compile(
    rf"{_BOLD}(?P<name>{_NAME}(?:{_LATIN_COMMA}{_NAME})?(?:{_SP}?[（(][^）)\n:：]{{1,16}}[）)])?){_SP}*(?:{_TIMECODE})?{_SP}*{_BOLD}"
    rf"(?:：|:(?!\d)){_BOLD}{_SP}*"
)
_BRACKET = re.compile(rf"【{_SP}*(?P<name>[^】\n]{{1,30}}?){_SP}*】{_SP}*(?:{_TIMECODE})?{_SP}*[：:]?{_SP}*")
_SQUARE = re.compile(rf"\[{_SP}*(?P<name>{_NAME}){_SP}*\]{_SP}*(?:{_TIMECODE})?{_SP}*(?:[：:]{_SP}*|{_SP}+|$)")
_MINUTES = re.compile(
    rf"[○〇◯◎●]{_SP}*(?P<name>[^\s：:（(]{{1,20}}?(?:[（(][^）)\n]{{1,12}}[）)])?)"
    rf"(?:{_TIMECODE})?{_SP}+"
)
_QA = re.compile(rf"(?P<name>[QAＱＡ])[0-9０-９]*(?:[.．)）]|{_SP}*[-－]){_SP}*")
# minutes and spreadsheet copies without a mark: a name, then a tab, a full-width space or two spaces
_SPACED = re.compile(rf"(?P<name>{_NAME_CHARS}{{1,12}}?)(?:\t+|\u3000+|  +){_SP}*(?=\S)")
_QUESTION = re.compile(rf"[―—─－]{{2,}}{_SP}*|[-‐]{{2}}(?!-){_SP}*")
# after the colon only a bracketed or h:mm:ss time is a time code: 本人：16:30 には退勤します is words
_AFTER_COLON_TIME = re.compile(
    rf"(?:{_OPEN}{_SP}*(?P<t>{TIME}){_SP}*{_CLOSE}|(?P<t2>\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,3}})?)(?![\d:])){_SP}+"
)
_HEADER = re.compile(
    rf"{_SP}*(?:{_OPEN}{_SP}*(?P<bname>{_NAME}){_SP}*{_CLOSE}|(?P<name>{_NAME})){_SP}*"
    rf"(?:{_SP}{_TIMECODE}|{_OPEN}{_SP}*(?P<t3>{TIME}){_SP}*{_CLOSE}){_SP}*$"
)
_HEADER_TIME_FIRST = re.compile(
    rf"{_SP}*{_TIMECODE}{_SP}+(?:\[{_SP}*(?P<bname>{_NAME}){_SP}*\]|(?P<name>{_NAME})){_SP}*$"
)
_NAME_LINE = re.compile(rf"{_SP}*[（(【\[]{_SP}*(?P<name>{_NAME}){_SP}*[）)】\]]{_SP}*$")
_TIME_LINE = re.compile(rf"{_SP}*{_TIMECODE}{_SP}*$")
_MD_ITEM = re.compile(rf"{_SP}*[-*+]{_SP}+")
# speaker ids of diarisation (WhisperX, pyannote, Otter, meeting-notes services): a name even alone on a line
_DIARISED = re.compile(
    rf"{_SP}*(?P<name>SPEAKER_\d+|Speaker{_SP}?\d+|(?:話者|発言者|参加者|スピーカー){_SP}?\d+)"
    rf"{_SP}*(?:{_TIMECODE})?{_SP}*$",
    re.IGNORECASE,
)

_NOT_A_NAME = re.compile(
    r"^[\d\s.,:/\-]+$|^https?$|\.\s|^第?[\d０-９一二三四五六七八九十]+[章節条項回部]?$", re.IGNORECASE
)
# bracketed stage directions and notes of transcripts, never speakers
NON_NAMES = {
    "笑",
    "笑い",
    "一同笑",
    "一同笑い",
    "拍手",
    "中略",
    "略",
    "前略",
    "後略",
    "以下略",
    "以上",
    "注",
    "編注",
    "註",
    "沈黙",
    "間",
    "不明",
    "聞き取れず",
    "聴取不能",
    "音声不明瞭",
    "不明瞭",
    "無音",
    "音楽",
    "咳",
    "ため息",
    "inaudible",
    "crosstalk",
    "laughter",
    "laughs",
    "music",
    "silence",
    "pause",
    "applause",
    "noise",
}


# a name before a tab or wide space holds a kanji (山田座長, 事務局, 問) or is a diarised id; words that open
# a sentence (はい　そうです) are never names
_SPACED_NAME = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|^(?:SPEAKER_\d+|Speaker \d+|[QA])$")
_INTERJECTIONS = {
    "はい",
    "ええ",
    "うん",
    "いえ",
    "いいえ",
    "そう",
    "あの",
    "えっと",
    "えー",
    "まあ",
    "なるほど",
    "では",
    "それでは",
    "本日",
    "今日",
    "最初",
    "次",
    "以上",
}


@dataclass(frozen=True)
class Line:
    """What one line says. ``content`` is the offset (within the line) where its words start."""

    kind: str  # label | header | name | question | time | heading | blank | text
    name: str | None = None
    time: float | None = None
    content: int = 0
    style: str = ""  # for labels: colon | bracket | square | minutes | qa | spaced


def seconds(stamp: str) -> float:
    """``'01:02:03.5'`` → 3723.5; ``'00:14'`` (mm:ss) → 14.0."""
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


def _time(m: re.Match) -> float | None:
    stamp = next((v for k, v in m.groupdict().items() if k in ("t", "t2", "t3") and v), None)
    return seconds(stamp) if stamp else None


def speaker_name(raw: str) -> str | None:
    """The normalised speaker name of a label, or None when it cannot be one (a number, a stage direction).
    Numbered questions and answers are one speaker each: ``Q1`` → ``Q``, ``A12`` → ``A``."""
    name = normalize_label(raw).strip("*_ ")
    if len(name) >= 2 and name[0] in "[【(（" and name[-1] in "]】)）":
        name = name[1:-1].strip()
    if not name or _NOT_A_NAME.search(name) or name.lower() in NON_NAMES:
        return None
    numbered = re.fullmatch(r"([QA])\d+", name)
    return numbered.group(1) if numbered else name


def classify(line: str, fmt: str = "txt") -> Line:
    """Classify one line (without its newline); see the module docstring. ``fmt``: txt, md or docx."""
    if not line.strip():
        return Line("blank")
    if fmt == "md" and line.lstrip().startswith("#"):
        return Line("heading", content=len(line))
    whole = _whole_line(line)
    if whole:
        return whole
    pos, time = 0, None
    lead = _LEAD_TIME.match(line)
    if lead:
        pos, time = lead.end(), _time(lead)
    elif fmt == "md":
        item = _MD_ITEM.match(line)
        pos = item.end() if item else 0
    else:
        pos = len(line) - len(line.lstrip(" \t\u3000"))
    for style, pattern in (
        ("bracket", _BRACKET),
        ("square", _SQUARE),
        ("minutes", _MINUTES),
        ("qa", _QA),
        ("colon", _COLON),
        ("spaced", _SPACED),
    ):
        m = pattern.match(line, pos)
        if not m:
            continue
        name = speaker_name(m.group("name"))
        if name is None or (style == "spaced" and not _SPACED_NAME.search(name)) or name in _INTERJECTIONS:
            continue
        end, after = m.end(), None
        if style == "colon":
            more = _AFTER_COLON_TIME.match(line, end)
            if more:
                end, after = more.end(), _time(more)
        return Line(
            "label", name, time if time is not None else _time(m) if _time(m) is not None else after, end, style
        )
    m = _QUESTION.match(line, pos)
    if m and m.end() < len(line):
        return Line("question", time=time, content=m.end())
    return Line("text", time=time, content=0)


def _whole_line(line: str) -> Line | None:
    """Lines that are only a marker: a time code, a name header, a bracketed name."""
    if _TIME_LINE.match(line):
        return Line("time", time=_time(_TIME_LINE.match(line)), content=len(line))
    for pattern in (_HEADER, _HEADER_TIME_FIRST):
        m = pattern.match(line)
        if m:
            name = speaker_name(m.group("bname") or m.group("name"))
            if name and re.search(r"[^\W\d_]", name):
                return Line("header", name, _time(m), len(line))
    m = _DIARISED.match(line)
    if m:
        return Line("header", speaker_name(m.group("name")), _time(m), len(line))
    m = _NAME_LINE.match(line)
    if m:
        name = speaker_name(m.group("name"))
        if name and re.search(r"[^\W\d_]", name):
            return Line("name", name, None, len(line))
    return None


TIMECODE_IN_WORDS = re.compile(rf"{_OPEN}{_SP}*{TIME}{_SP}*{_CLOSE}|(?<![\d:]){TIME}(?=\s|$)|\d{{1,2}}:\d{{2}}:\d{{2}}")
"""A time code left inside a turn's words (dry-run warning): bracketed, three-part or line-final."""
