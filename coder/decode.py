"""Bytes → text: detect the encoding of a transcript file.

Order:

1. a byte-order mark (UTF-32, UTF-8, UTF-16) decides;
2. ISO-2022-JP when the data holds its escape sequences (they are 7-bit, so this precedes UTF-8);
3. strict UTF-8: valid UTF-8 with a few non-ASCII characters is practically never anything else
   (``_doubtful_utf8`` says when it must still compete with step 4);
4. otherwise each candidate without a signature — CP932 (Shift_JIS with the NEC/IBM extensions),
   EUC-JP, UTF-16-LE and UTF-16-BE — is decoded strictly, and among the decodings that succeed the one
   that reads most like Japanese text wins (``plausibility``; ties: ``_longest_kanji_run``, then CP932
   first). ``_utf16_line`` catches a line of BOM-less UTF-16 whose bytes happen to read as ASCII.

Step 4 replaces charset-normalizer, whose statistics need more text than a short note has: on one- or
two-line files full of ①～㈱髙﨑 and half-width katakana it picked UTF-16 or gave up (in a self-check
on generated business lines it got 70% of CP932 and 74% of EUC-JP right; step 4 gets 100% and 99.8%).

A file is binary when no candidate decodes it, when every decoding holds control characters (other
than tab, CR, LF and the line-break controls editors write: VT, FF, NEL; U+2028 and U+2029 are not
controls at all), or when even the best decoding is mostly characters Japanese text does not use.
Line breaks are returned as they are; the caller normalises them.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from .errors import IngestError

_BOMS = [  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
# Candidates without a signature, in the order that breaks a tie of plausibility: CP932 first, as the
# encoding Windows (and so most Japanese offices) writes; BOM-less UTF-16 last, as the rarest.
_LEGACY = ["cp932", "euc_jp", "utf_16_le", "utf_16_be"]
_ORDER = ["iso2022_jp", "utf-8", *_LEGACY]
_NAMES = {"euc_jp": "euc-jp", "iso2022_jp": "iso-2022-jp", "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}
_TRIED = "UTF-8, UTF-16, CP932/Shift_JIS, EUC-JP, ISO-2022-JP"
EMPTY_JA = "ファイルが空です（文字が入っていません）"
BINARY_JA = (
    "テキストファイルではないようです（画像・PDF・Excel などは取り込めません）。"
    "文字起こしはテキスト（.txt）、Word（.docx）、字幕（.vtt/.srt）で保存してください"
)

# Control characters that mark binary data: C0 and C1 controls and DEL, except tab, LF, CR and the
# line-break controls editors put in text (VT, FF, NEL).
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_TEXT_CONTROLS = frozenset("\t\n\r\v\f\x85\u2028\u2029")

# Half-width katakana where the kana spelling rules allow none: a voiced mark ﾞ after a kana that takes
# none; a semi-voiced mark ﾟ after anything but ﾊ-ﾎ; a small ｬｭｮ after anything but an i-row kana, ﾃ, ﾌ or
# a voicing mark (ｷｬ, ｼﾞｮ, ﾃｭ); a small ｧｨｩｪｫ after anything but ｲｳｸｼｽﾁﾂﾃﾄﾌ or a voicing mark (ﾌｧ,
# ﾁｪ, ﾃﾞｨ); ｯ or ｰ after no kana (ｰ may follow a digit: people type it for a hyphen in phone numbers);
# ﾝ after no kana (no word starts with it). Real half-width text hardly ever breaks them; EUC-JP read
# as CP932 turns into half-width katakana that breaks them all the time.
_MISPLACED_HALFWIDTH = re.compile(  # each branch starts with its kana, which lets the scan skip fast
    "ﾞ(?<![ｦｳｶ-ﾄﾊ-ﾎﾜ]ﾞ)"
    "|ﾟ(?<![ﾊ-ﾎ]ﾟ)"
    "|[ｬｭｮ](?<![ｷｼﾁﾆﾋﾐﾘﾃﾌﾞﾟ][ｬｭｮ])"
    "|[ｧｨｩｪｫ](?<![ｲｳｸｼｽﾁﾂﾃﾄﾌﾞﾟ][ｧｨｩｪｫ])"
    "|ｯ(?<![ｦ-ｮｱ-ﾜﾞﾟ]ｯ)"
    "|ｰ(?<![ｦ-ﾟ0-9]ｰ)"
    "|ﾝ(?<![ｦ-ﾟ]ﾝ)"
)
_KANJI_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Below this plausibility the best non-UTF-8 decoding is taken for binary data. Measured on generated
# Japanese business lines (kanji, kana, ①㈱～, half-width katakana, ASCII), 99% score 0.94 or more and
# none below 0.8; the best decoding of random bytes scores 0.69 or less for 99% of 32-byte and 0.36 or
# less for all 64-byte samples. (Random data of a dozen bytes cannot be told from text.)
MIN_PLAUSIBILITY = 0.6
# A line of mostly ASCII without a space is taken for BOM-less UTF-16 when that reading scores at least
# this (see _utf16_line): ASCII words and numbers read as UTF-16 are mostly rare ideographs and symbols
# (0.1-0.5), a Japanese line in UTF-16 is kana and common kanji (0.9 and more).
UTF16_OVER_ASCII = 0.9


@dataclass
class _Reading:
    text: str
    encoding: str  # Python codec name
    controls: int  # binary control characters in text

    @functools.cached_property
    def score(self) -> float:
        return plausibility(self.text)


def decode(data: bytes, source: str) -> tuple[str, str]:
    """Decode the bytes of a text file.

    Returns ``(text, encoding)``: the text as decoded (BOM removed, line breaks untouched) and the
    encoding's name: "utf-8", "utf-8-sig", "utf-16", "utf-32" (with a BOM), "iso-2022-jp", "cp932",
    "euc-jp", "utf-16-le" or "utf-16-be" (without a BOM).

    Raises IngestError naming ``source`` when the file is empty (or only whitespace), when a BOM is
    followed by bytes invalid in its encoding, when no candidate encoding decodes the bytes ("cannot
    detect the text encoding"), or when every decoding looks binary ("looks like a binary file").
    """
    if not data.strip(b" \t\r\n\x00") or data in {bom for bom, _ in _BOMS}:
        raise IngestError(source, "the file is empty", ja=EMPTY_JA)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise IngestError(
                    source,
                    f"starts with a {encoding} byte-order mark but is not valid {encoding}: {exc}",
                    ja=f"先頭に {encoding} の印（BOM）がありますが、{encoding} として読めない"
                    "部分があります。テキストエディタで UTF-8 として保存し直してください",
                )
            return _accepted(_read(text.lstrip("\ufeff"), encoding), source)
    readings: list[_Reading | None] = []
    if b"\x1b$" in data or b"\x1b(" in data:  # ISO-2022-JP escapes are valid ASCII, so test before UTF-8
        reading = _strict(data, "iso2022_jp")
        if reading and _clean(reading):
            return _accepted(reading, source)
        readings.append(reading)
    if b"\x00" not in data:  # NULs: UTF-16 (or binary), whose ASCII half would pass for UTF-8
        reading = _strict(data, "utf-8")
        if reading and _clean(reading) and not _doubtful_utf8(reading):
            if data.isascii() and not re.search(rb"[ \t]", data):  # all ASCII: maybe a line of UTF-16
                reading = _utf16_line(reading, _utf16(data)) or reading
            return _accepted(reading, source)
        readings.append(reading)  # invalid, binary, or to be weighed against the others
    utf16 = _utf16(data)
    readings += [_strict(data, encoding) for encoding in _LEGACY if not encoding.startswith("utf_16")]
    found = [r for r in readings if r is not None] + utf16
    if not found:
        raise IngestError(
            source,
            f"cannot detect the text encoding (tried {_TRIED}); is it a binary file? "
            "Save it as UTF-8 text and try again",
            ja=f"文字コードを判別できません（試したもの：{_TRIED}）。テキストファイルでないか、"
            "文字化けしている可能性があります。UTF-8 のテキストとして保存し直してください",
        )
    clean = sorted((r for r in found if _clean(r)), key=lambda r: _ORDER.index(r.encoding))
    if not clean:
        fewest = min(found, key=lambda r: r.controls)
        raise IngestError(
            source,
            f"looks like a binary file, not text ({fewest.controls} control characters "
            f"when read as {_NAMES.get(fewest.encoding, fewest.encoding)})",
            ja=BINARY_JA,
        )
    best = max(clean, key=lambda r: r.score)
    tied = [r for r in clean if r.score == best.score]
    best = min(tied, key=lambda r: _longest_kanji_run(r.text))  # min() keeps the first of equals: by _ORDER
    best = _utf16_line(best, utf16) or best
    if best.score < MIN_PLAUSIBILITY and best.encoding != "utf-8":
        raise IngestError(
            source,
            f"looks like a binary file, not text (read as {_NAMES.get(best.encoding, best.encoding)}"
            f" it is mostly characters Japanese text does not use; plausibility {best.score:.2f})",
            ja=BINARY_JA,
        )
    return _accepted(best, source)


def _longest_kanji_run(text: str) -> int:
    """Return the length of the longest run of kanji in ``text`` (0 if none); it breaks a tie of plausibility.

    Ties come from text of kanji, half-width katakana and ASCII alone, which is valid both as CP932 and
    as EUC-JP: a run of half-width katakana in one reading is a run of kanji in the other (EUC-JP
    ｼｽﾃﾑ is CP932 湿漆偲紗, CP932 ﾃﾞｰﾀ is EUC-JP 偲酌鴫実...). Japanese strings kanji between kana and
    punctuation, rarely in long runs, so of two equally plausible readings the one with the shorter
    longest run wins; with equal runs, the earlier in _ORDER (CP932).
    """
    return max(map(len, _KANJI_RUN.findall(text)), default=0)


def _utf16(data: bytes) -> list[_Reading]:
    """Return the BOM-less UTF-16 readings of ``data`` (little-endian first) that decode and hold few controls."""
    if len(data) % 2:
        return []
    readings = [_strict(data, encoding) for encoding in ("utf_16_le", "utf_16_be")]
    return [r for r in readings if r and _clean(r)]


def _doubtful_utf8(reading: _Reading) -> bool:
    """Return whether a valid UTF-8 reading must compete with the legacy ones instead of being taken outright.

    Valid UTF-8 is conclusive once it holds a few multi-byte characters: other data passes the strict
    decoder only by chance, a fraction for each sequence. But a short CP932 text can pass: 德 is ED 9E,
    which with the lead byte of the next kana or kanji is a valid UTF-8 Hangul syllable ("德永" reads
    as "힉i"). So a reading with fewer than 4 non-ASCII characters, one of them a letter or code point
    that Japanese text hardly uses (weight 0.2 or less: Hangul, Yi, unassigned…; symbols such as — or
    ▶ are common in UTF-8 text and do not count), is only a candidate; and should it win, it is text.
    """
    rest = [ch for ch in reading.text if not ch.isascii()]
    return len(rest) < 4 and any(_weight(ch) < 0 or (_weight(ch) <= 0.2 and ch.isalpha()) for ch in rest)


def _utf16_line(single: _Reading, utf16: list[_Reading]) -> _Reading | None:
    """Return the UTF-16 reading (of ``utf16``) to take instead of the single-byte reading ``single``, or None.

    BOM-less UTF-16 text holds no NUL when it has no ASCII character (not even a line break), and its
    bytes then often read as ASCII soup: "報告営業" in UTF-16-LE reads as CP932 "1XJTｶUmi", fully
    plausible. A single-byte reading that is mostly ASCII while the UTF-16 one is Japanese (at least
    UTF16_OVER_ASCII, no ASCII) is taken for such soup. When the data is all ASCII ("田中です" is
    "0u-Ng0Y0"), the UTF-16 reading must also be 5 characters or more and the ASCII hold no space or
    tab: two ASCII bytes often make one plausible character ("12" is ㈱ in UTF-16-LE), but in the
    self-check none of 29,450 ASCII lines and words made 5.
    """
    if not utf16 or single.encoding.startswith("utf_16"):
        return None
    best = max(utf16, key=lambda r: r.score)  # a tie goes to little-endian
    if best.score < UTF16_OVER_ASCII or len(best.text) < 3 or best.text.encode("ascii", "ignore"):
        return None
    if len(single.text.encode("ascii", "ignore")) * 2 < len(single.text):
        return None  # not mostly ASCII
    if single.text.isascii() and (len(best.text) < 5 or " " in single.text or "\t" in single.text):
        return None
    return best


def plausibility(text: str) -> float:
    """Return how much ``text`` reads like Japanese (or ASCII) text: the mean character weight, -1.0 to 1.0.

    Weights: 1.0 for ASCII printable, tab and line breaks (VT, FF, NEL, U+2028/9 included), kana,
    JIS level-1 kanji, and every other character CP932 can encode (CJK and full-width punctuation,
    full-width digits, ①, ㈱, №, ℡, Ⅲ, ≒, ∵, Greek, box drawing…); half-width katakana 1.0, but -1.0
    when misplaced (ﾞ after a kana that takes no voicing, a small kana with no kana before it…) and
    0.5 for half-width punctuation ｡｢｣､･; kanji 0.5 for JIS level 2, 0.7 for the NEC/IBM extension
    kanji of CP932 (髙, 﨑, 德: rare but used in names), 0.3 for JIS X 0212, 0.1 for others; 0.5 for
    other characters EUC-JP can encode and for Latin letters with diacritics (é, ō); 0.2 for any other
    assigned character (Hangul, Yi, symbols outside CP932 such as — or ▶); -1.0 for binary controls,
    private-use, unassigned and surrogate code points.

    Why: a wrong decoding of Japanese bytes lands on rare kanji, on Hangul, Yi and private-use code
    points (UTF-16 read from single/double-byte data), on control characters (NULs of UTF-16 read as
    CP932), or on streams of half-width katakana broken by misplaced marks and ､･｡ (EUC-JP read as
    CP932), while the right one is kana, common kanji and the symbols of the JIS/CP932 tables. JIS
    level 1 holds the 2,965 common kanji, level 2 the rarer ones, so level 2 weighs half. Empty text
    scores 0.0.
    """
    if not text:
        return 0.0
    total = sum(_weight(ch) * n for ch, n in Counter(text).items())
    total -= 2.0 * len(_MISPLACED_HALFWIDTH.findall(text))
    return total / len(text)


@functools.lru_cache(maxsize=65536)
def _weight(ch: str) -> float:
    if " " <= ch <= "~" or ch in _TEXT_CONTROLS:
        return 1.0
    if _BINARY_CONTROLS.match(ch) or unicodedata.category(ch) in ("Co", "Cn", "Cs"):
        return -1.0
    cp = ord(ch)
    if 0xFF61 <= cp <= 0xFF65:  # half-width ｡｢｣､･
        return 0.5
    if 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF:
        euc = _encoded(ch, "euc_jp")
        if euc and len(euc) == 2:
            return 1.0 if euc[0] - 0xA0 <= 47 else 0.5  # JIS X 0208 rows 16-47 are level 1
        if _encoded(ch, "cp932"):
            return 0.7
        return 0.3 if euc else 0.1
    if _encoded(ch, "cp932"):
        return 1.0
    if _encoded(ch, "euc_jp") or (cp < 0x250 and ch.isalpha()):
        return 0.5
    return 0.2


def _encoded(ch: str, encoding: str) -> bytes | None:
    try:
        return ch.encode(encoding)
    except UnicodeEncodeError:
        return None


def _strict(data: bytes, encoding: str) -> _Reading | None:
    try:
        return _read(data.decode(encoding), encoding)
    except UnicodeDecodeError:
        return None


def _read(text: str, encoding: str) -> _Reading:
    return _Reading(text, encoding, len(_BINARY_CONTROLS.findall(text)))


def _clean(reading: _Reading) -> bool:
    # A couple of stray controls (a DOS end-of-file ^Z, a NUL an editor left) are tolerated: at most
    # 2, or 1% of the characters in a long file.
    return reading.controls <= max(2, len(reading.text) // 100)


def _accepted(reading: _Reading, source: str) -> tuple[str, str]:
    encoding = _NAMES.get(reading.encoding, reading.encoding)
    if not _clean(reading):
        raise IngestError(
            source,
            f"looks like a binary file, not text ({reading.controls} control characters when read as {encoding})",
            ja=BINARY_JA,
        )
    if not reading.text.strip():
        raise IngestError(source, "the file is empty", ja=EMPTY_JA)
    return reading.text, encoding
