"""WebVTT and SubRip files → turns with cue times, read as real exports write them.

Tolerated: a byte-order mark, blank lines before the first cue, blank lines inside a cue (the words
after one stay in the cue), a missing final newline, cue settings after the timing, cue ids of any
text (Teams writes GUIDs), a ``.vtt`` without its ``WEBVTT`` line (reported). Refused, with the line
number and what is wrong there: a line with ``-->`` that is not a timing, a timing whose end comes
before its start, text before the first cue (SRT), and a file with no cue at all.

In a cue's text: the speaker is a voice span ``<v 話者>`` (also ``<v.class 話者>`` and when ``</v>`` is
missing; two voice spans on one line are two speakers), a name alone on the cue's first line when names recur that way in half the cues or more
(Teams' old .docx transcripts: ``0:0:0.0 --> 0:0:3.720`` / ``石井 太郎`` / words), or a label at the start of a line (``話者：``, ``[SPEAKER_00]:``, ``SPEAKER_00:``,
``Speaker 1:``, see ``lines.classify``); a line without one continues the previous speaker. Class,
italic, bold, underline, language, ruby (``<rt>`` readings dropped), karaoke time tags and SRT
``<font>`` / ``{\\an8}`` tags are removed, closed or not; then HTML character references are decoded
(``&amp;`` → ``&``, ``&nbsp;`` → space, ``&lrm;``/``&rlm;`` dropped). ``NOTE``, ``STYLE`` and ``REGION``
blocks are left out and reported.

Consecutive cues of one speaker form one turn; the stored text is a rendering ``話者：発言`` with
one line per cue, and every cue's (start, end, start time, end time) is kept on its turn.
"""

from __future__ import annotations

import html
import re
from collections import Counter

from ..errors import IngestError
from ..types import Note, Turn
from .lines import classify, seconds

UNKNOWN_SPEAKER = "話者不明"
_STAMP = r"(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?"  # also Teams' old 0:0:3.720
_TIMING = re.compile(rf"\s*(?P<a>{_STAMP})\s*-->\s*(?P<b>{_STAMP})(?:\s+.*)?\s*$")
# a line that tries to be a timing: a time stamp, then an arrow of some kind
_ALMOST = re.compile(rf"\s*{_STAMP}\s*(?:-+>|=+>|→|⇒|-{{1,3}}\s+\d|–+>|—+>)")
_CLOCK = re.compile(r"\s*\d{1,2}:\d")
_VOICE_START = re.compile(r"(?=<v[\s.])")  # two voices on one line: <v A>…</v><v B>…
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*?)\s*>")
_RUBY_TEXT = re.compile(r"<rt\b[^>]*>.*?(?:</rt>|$)", re.IGNORECASE)
_TAG = re.compile(
    r"</?(?:v|c|i|b|u|lang|ruby|rt|font|span)(?:[.\s][^>]*)?>|<\d{1,2}:\d{2}[:.\d]*>|\{\\[^}]*\}", re.IGNORECASE
)
_INVISIBLE = {"\u200e": "", "\u200f": "", "\u00a0": " "}


def _cue_text(raw: str) -> tuple[str | None, str]:
    """(voice, words) of one line of cue text."""
    voice = _VOICE.search(raw)
    text = _TAG.sub("", _RUBY_TEXT.sub("", raw))
    text = html.unescape(text)
    for ch, repl in _INVISIBLE.items():
        text = text.replace(ch, repl)
    return (voice.group(1).strip() or None) if voice else None, text.strip()


def parse_subtitles(text: str, source: str, fmt: str) -> tuple[str, list[Turn], list[Note]]:
    """Read a WebVTT (``fmt="vtt"``) or SRT (``"srt"``) text whose line ends are ``\\n``.

    Returns ``(rendered, turns, notes)``: the ``話者：発言`` rendering offsets point into, turns
    with ``start_time``/``end_time`` and ``cues`` in seconds, and what was left out. Raises
    IngestError naming ``source``, the line and the problem when the file is malformed.
    """
    lines = text.lstrip("\ufeff").split("\n")
    notes: list[Note] = []
    cues = _cues(lines, source, fmt, notes)
    out: list[str] = []
    turns: list[Turn] = []
    pos = 0
    speaker = UNKNOWN_SPEAKER
    named = _name_lines(cues)
    for number, start_s, end_s, body in cues:
        words_seen, named_here = False, None
        body = [piece for raw in body for piece in _VOICE_START.split(raw) if piece.strip()]  # one voice per piece
        for k, raw in enumerate(body):
            voice, words = _cue_text(raw)
            if k == 0 and words in named and len(body) > 1:  # Teams' old .docx: the name on its own line
                named_here = words
                continue
            label = voice or named_here
            if label is None:
                line = classify(words)
                if line.kind == "label":
                    label, words = line.name, words[line.content :].strip()
            if not words:
                continue
            words_seen = True
            if label and label != speaker or not turns:
                speaker = label or speaker
                head = ("\n" if turns else "") + f"{speaker}："
                out.append(head)
                pos += len(head)
                turns.append(Turn(speaker=speaker, start=pos, end=pos, start_time=start_s))
            elif out and not out[-1].endswith("："):
                out.append("\n")
                pos += 1
            turn = turns[-1]
            if turn.cues and turn.cues[-1][2:] == (start_s, end_s):  # another line of the same cue
                turn.cues[-1] = (turn.cues[-1][0], pos + len(words), start_s, end_s)
            else:
                turn.cues.append((pos, pos + len(words), start_s, end_s))
            out.append(words)
            turn.end, turn.end_time = pos + len(words), end_s
            pos += len(words)
        if not words_seen:
            notes.append(Note(f"cue {number}", "cue without text left out"))
    if not turns:
        raise IngestError(
            source,
            f"the {fmt.upper()} file has cues but no text",
            ja=f"{fmt.upper()} ファイルに字幕のキューはありますが、文字がありません",
        )
    return "".join(out) + "\n", turns, notes


def holds_cues(text: str) -> bool:
    """Whether a text or Word file is really subtitles: two cue timings (``00:00:01,000 --> …``) or more."""
    return sum(1 for line in text.split("\n") if _TIMING.match(line)) >= 2


def _name_lines(cues) -> set[str]:
    """Names standing alone on the first line of cues (Teams' old .docx transcripts): the first lines of
    cues with more lines that look like a name (30 characters at most, no sentence punctuation, not a
    label), provided the ones that recur open at least half of all cues. Empty otherwise."""
    firsts = Counter()
    for _, _, _, body in cues:
        if len(body) > 1:
            voice, words = _cue_text(body[0])
            if (
                voice is None
                and 0 < len(words) <= 30
                and not re.search(r"[。、，,．！？!?「」]", words)
                and classify(words).kind != "label"
            ):
                firsts[words] += 1
    recurring = sum(n for n in firsts.values() if n >= 2)
    return set(firsts) if recurring * 2 >= len(cues) else set()


def _cues(lines: list[str], source: str, fmt: str, notes: list[Note]) -> list[tuple[str, float, float, list[str]]]:
    """(cue number or id, start s, end s, text lines) of every cue; header and NOTE blocks skipped."""
    timings = [
        n
        for n, line in enumerate(lines)
        if "-->" in line
        or _ALMOST.match(line)
        or (
            fmt == "srt"
            and n > 0
            and lines[n - 1].strip().isdigit()
            and _CLOCK.match(line)
            and (n < 2 or not lines[n - 2].strip())
        )
    ]  # a cue number, then something like a time: a timing
    for n in timings:
        m = _TIMING.match(lines[n])
        if not m:
            raise IngestError(
                source,
                f"malformed {fmt.upper()} file: line {n + 1}: cannot read the cue timing "
                f"{lines[n].strip()[:60]!r} (expected e.g. 00:00:01,000 --> 00:00:04,000)",
                ja=f"{fmt.upper()} ファイルの {n + 1} 行目：字幕の時刻"
                f"「{lines[n].strip()[:60]}」を読めません（例：00:00:01,000 --> 00:00:04,000）",
            )
        if seconds(m["b"]) < seconds(m["a"]):
            raise IngestError(
                source,
                f"malformed {fmt.upper()} file: line {n + 1}: the cue ends before it starts ({m['a']} --> {m['b']})",
                ja=f"{fmt.upper()} ファイルの {n + 1} 行目：字幕の終わりの時刻が始まりより前です"
                f"（{m['a']} --> {m['b']}）",
            )
    if not timings:
        raise IngestError(
            source,
            f"malformed {fmt.upper()} file: no cues with valid timings found",
            ja=f"{fmt.upper()} ファイルとして読めません：正しい時刻の付いた字幕のキューがありません",
        )
    first = timings[0]
    # the cue id: the non-blank line right before a timing
    ids = {n - 1 for n in timings if n > 0 and lines[n - 1].strip()}
    head = [n for n in range(first) if lines[n].strip() and n not in ids]
    if fmt == "vtt":
        if not head or not lines[head[0]].lstrip().startswith("WEBVTT"):
            notes.append(Note("line 1", "no WEBVTT header line (read as WebVTT anyway)"))
        blocks = _blocks(lines, range(first))
        for start, end in blocks:
            word = lines[start].split(None, 1)[0] if lines[start].split() else ""
            if start == (head[0] if head else -1) and word.startswith("WEBVTT"):
                continue
            if word in ("NOTE", "STYLE", "REGION"):
                notes.append(Note(_where(start, end), f"{word} block left out", _short(lines, start, end)))
            elif not all(n in ids for n in range(start, end + 1)):
                raise IngestError(
                    source,
                    f"malformed VTT file: line {start + 1}: text before the first cue "
                    f"{lines[start].strip()[:40]!r} (only WEBVTT, NOTE, STYLE and REGION blocks "
                    "may come before it)",
                    ja=f"VTT ファイルの {start + 1} 行目：最初の字幕より前に文字"
                    f"「{lines[start].strip()[:40]}」があります"
                    "（その前に置けるのは WEBVTT・NOTE・STYLE・REGION のブロックだけです）",
                )
    elif head:
        raise IngestError(
            source,
            f"malformed SRT file: line {head[0] + 1}: text before the first cue "
            f"{lines[head[0]].strip()[:40]!r} (expected a cue number, then a timing line)",
            ja=f"SRT ファイルの {head[0] + 1} 行目：最初の字幕より前に文字"
            f"「{lines[head[0]].strip()[:40]}」があります（字幕の番号、次に時刻の行が来るはずです）",
        )
    cues = []
    for k, n in enumerate(timings):
        m = _TIMING.match(lines[n])
        stop = timings[k + 1] - (1 if timings[k + 1] - 1 in ids else 0) if k + 1 < len(timings) else len(lines)
        body = [line for line in lines[n + 1 : stop]]
        if fmt == "vtt":  # a NOTE block between cues is not cue text
            body = _without_notes(body, notes, n + 1)
        while body and not body[-1].strip():
            body.pop()
        number = lines[n - 1].strip() if n - 1 in ids and fmt == "srt" else str(k + 1)
        cues.append((number, seconds(m["a"]), seconds(m["b"]), [line for line in body if line.strip()]))
    return cues


def _blocks(lines: list[str], indices) -> list[tuple[int, int]]:
    """(first, last) line index of each run of non-blank lines among ``indices``."""
    out: list[tuple[int, int]] = []
    for n in indices:
        if not lines[n].strip():
            continue
        if out and out[-1][1] == n - 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def _without_notes(body: list[str], notes: list[Note], offset: int) -> list[str]:
    keep, skipping = [], False
    for i, line in enumerate(body):
        if not line.strip():
            skipping = False
        elif (i == 0 or not body[i - 1].strip()) and line.split(None, 1)[0] == "NOTE" and i > 0:
            skipping = True
            notes.append(Note(f"line {offset + i + 1}", "NOTE block left out", line.strip()[:60]))
        if not skipping:
            keep.append(line)
    return keep


def _where(start: int, end: int) -> str:
    return f"line {start + 1}" if start == end else f"lines {start + 1}–{end + 1}"


def _short(lines: list[str], start: int, end: int) -> str:
    words = " / ".join(line.strip() for line in lines[start : end + 1] if line.strip())
    return words if len(words) <= 60 else words[:59] + "…"
