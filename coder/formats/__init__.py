"""Decoded text → speaker turns, one parser per source format.

Every parser returns ``(text, turns)``: ``text`` is what offsets point into and
each ``Turn`` covers its words (label excluded) as ``text[turn.start:turn.end]``.

Speaker conventions (plain text, Markdown and Word): ``話者：発言`` / ``話者: 発言``,
``【話者】発言``, ``Q：`` / ``A：``, minutes style ``○話者　発言``. Unlabelled lines
continue the previous turn; lines before the first turn (title, date) belong to
no turn. A colon or ○ label counts as a speaker unless it is a header field name
(``日時：``, ``場所：`` … see HEADER_FIELDS) used once; a label used twice or more,
or given in the speaker map, always counts.
"""

from __future__ import annotations

import io
import re
from collections import Counter

from ..errors import IngestError
from ..speakers import INTERVIEWER_LABELS, normalize_label
from ..types import Turn

_BRACKET = re.compile(r"[ \t\u3000]*【([^】\n]{1,30})】[ \t\u3000]*")
_MINUTES = re.compile(r"[ \t\u3000]*[○〇◯◎●][ \t\u3000]*([^\s：:]{1,20}?)[ \t\u3000]+")
_COLON = re.compile(r"[ \t\u3000]*([^\s：:。、，,．「」『』!?！？#*\-][^：:。、，,「」『』!?！？\n]{0,23}?)[ \t\u3000]*(?:：|:(?!\d))[ \t\u3000]*")
_NOT_A_NAME = re.compile(r"^[\d\s.,:/\-]+$|^https?$", re.IGNORECASE)
_ANSWER_LABELS = {"A", "回答者"}
UNKNOWN_SPEAKER = "話者不明"
# Field names of a transcript's header, never speakers unless used as labels twice or mapped
HEADER_FIELDS = {"日時", "日付", "実施日", "時間", "所要時間", "場所", "会場", "方法", "形式", "参加者", "出席者", "対象",
                 "対象者", "件名", "題名", "タイトル", "目的", "記録", "記録者", "作成者", "作成日", "備考", "注", "URL"}


def _lines(text: str):
    """Yield (start, end) of each line's content (without the newline)."""
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line)
        pos += len(line) + 1


def _label(text: str, start: int, end: int, fmt: str):
    """Return (kind, speaker, content_start) if the line opens with a speaker label."""
    line = text[start:end]
    if fmt == "md" and line.lstrip().startswith("#"):
        return "heading", None, end
    for kind, pattern in (("bracket", _BRACKET), ("minutes", _MINUTES), ("colon", _COLON)):
        m = pattern.match(line)
        if m and not _NOT_A_NAME.match(m.group(1)):
            return kind, normalize_label(m.group(1)), start + m.end()
    return None, None, start


def parse_labelled(text: str, source: str, fmt: str = "txt", known: set[str] = frozenset()) -> list[Turn]:
    """Turns of a plain-text, Markdown or rendered Word transcript."""
    lines = [(s, e, *_label(text, s, e, fmt)) for s, e in _lines(text)]
    counts = Counter(spk for _, _, kind, spk, _ in lines if kind in ("colon", "minutes"))
    trusted = set(known) | INTERVIEWER_LABELS | _ANSWER_LABELS | {s for s, n in counts.items() if n >= 2}
    turns: list[Turn] = []
    current: Turn | None = None
    for start, end, kind, speaker, content in lines:
        if kind == "heading":
            current = None  # a Markdown heading ends the turn and belongs to none
        elif kind == "bracket" or (kind and (speaker in trusted or speaker not in HEADER_FIELDS)):
            current = Turn(speaker=speaker, start=content, end=end)
            turns.append(current)
        elif current is not None and text[start:end].strip():
            current.end = end
    for turn in turns:
        while turn.start < turn.end and text[turn.start].isspace():
            turn.start += 1
        while turn.end > turn.start and text[turn.end - 1].isspace():
            turn.end -= 1
    turns = [t for t in turns if t.end > t.start]
    if not turns:
        raise IngestError(source, "no speaker turns found: label each turn as 話者：発言, 【話者】発言 or ○話者　発言 "
                                  "(see README, 'Transcript formats')")
    return turns


def paragraph_turns(text: str, speaker: str = UNKNOWN_SPEAKER) -> list[Turn]:
    """One turn of ``speaker`` per paragraph (blocks between blank lines): for text without speaker labels."""
    turns, start = [], None
    for s, e in [*_lines(text), (len(text) + 1, len(text) + 1)]:
        blank = not text[s:e].strip()
        if start is None and not blank:
            start = s
        elif start is not None and blank:
            turns.append(Turn(speaker=speaker, start=start, end=s - 1))
            start = None
    for turn in turns:
        while text[turn.end - 1].isspace():
            turn.end -= 1
        while text[turn.start].isspace():
            turn.start += 1
    return turns


def docx_text(data: bytes, source: str) -> str:
    """Paragraphs (and table rows as ``cell：cell``) of a .docx, one paragraph per block."""
    import docx  # python-docx; imported here so the CLI starts fast

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = []
        for item in document.iter_inner_content():
            if isinstance(item, docx.table.Table):
                for row in item.rows:
                    cells = [c.text.strip() for c in row.cells if c.text.strip()]
                    if len(cells) >= 2 and len(cells[0]) <= 24:
                        blocks.append(f"{cells[0]}：{' '.join(cells[1:])}")
                    elif cells:
                        blocks.append("\n".join(cells))
            elif item.text.strip():
                blocks.append(item.text.strip())
    except Exception as exc:  # zipfile, lxml and python-docx raise many kinds
        raise IngestError(source, f"not a readable .docx file (corrupt or truncated?): {exc}") from exc
    if not blocks:
        raise IngestError(source, "the .docx file has no text")
    return "\n\n".join(blocks) + "\n"


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.replace(",", ".").split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def parse_subtitles(text: str, source: str, fmt: str) -> tuple[str, list[Turn]]:
    """WebVTT or SRT → a rendered ``話者：発言`` text and turns with cue timestamps.

    The speaker is a ``<v 話者>`` voice tag or a ``話者：`` prefix; a cue without
    one continues the previous speaker. Consecutive cues of one speaker form one
    turn, one line per cue, so a sentence split across cues is joined for
    segmentation.
    """
    import webvtt  # webvtt-py

    try:
        buffer = io.StringIO(text)
        captions = webvtt.WebVTT.from_buffer(buffer, format="srt" if fmt == "srt" else "vtt").captions
    except Exception as exc:
        raise IngestError(source, f"malformed {fmt.upper()} file: {exc}") from exc
    if not captions:
        raise IngestError(source, f"malformed {fmt.upper()} file: no cues with valid timings found")
    out: list[str] = []
    turns: list[Turn] = []
    pos = 0
    speaker = UNKNOWN_SPEAKER
    for cap in captions:
        body = cap.text.strip()
        label = normalize_label(cap.voice) if getattr(cap, "voice", None) else None
        if label is None:
            m = _COLON.match(body)
            if m and not _NOT_A_NAME.match(m.group(1)):
                label, body = normalize_label(m.group(1)), body[m.end():].strip()
        if not body:
            continue
        start_s, end_s = _seconds(cap.start), _seconds(cap.end)
        if (label or speaker) != speaker or not turns:
            speaker = label or speaker
            head = ("\n" if turns else "") + f"{speaker}："
            out.append(head)
            pos += len(head)
            turns.append(Turn(speaker=speaker, start=pos, end=pos, start_time=start_s))
        turn = turns[-1]
        turn.cues.append((pos, pos + len(body), start_s, end_s))
        out.append(body + "\n")
        turn.end, turn.end_time = pos + len(body), end_s
        pos += len(body) + 1
    if not turns:
        raise IngestError(source, f"the {fmt.upper()} file has cues but no text")
    return "".join(out), turns
