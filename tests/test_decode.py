import os
import random

import pytest

from coder.decode import decode, plausibility
from coder.errors import IngestError

TEXT = "支援員：就労パスポートで主治医と情報を共有しています。\n本人：はい、助かっています。\n"


@pytest.mark.parametrize(
    "encoding, detected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("cp932", "cp932"),
        ("shift_jis", "cp932"),
        ("euc_jp", "euc-jp"),
        ("iso2022_jp", "iso-2022-jp"),
    ],
)
def test_japanese_encodings_are_detected(encoding, detected):
    assert decode(TEXT.encode(encoding), "x.txt") == (TEXT, detected)


def test_cp932_only_characters_are_decoded():
    text = "①番の件は～ですね。髙橋さん㈱みどり物流\n"  # NEC and IBM extensions of CP932
    assert decode(text.encode("cp932"), "x.txt") == (text, "cp932")


@pytest.mark.parametrize(
    "data", [os.urandom(4000), b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, b"PK\x03\x04" + bytes(range(256)) * 8]
)
def test_binary_file_is_refused_with_its_name(data):
    with pytest.raises(IngestError, match="notes.txt"):
        decode(data, "notes.txt")


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n", "\ufeff".encode("utf-8"), "\ufeff".encode("utf-16")])
def test_empty_file_is_refused(data):
    with pytest.raises(IngestError, match="empty"):
        decode(data, "empty.txt")


# Short CP932 notes full of the symbols of Japanese business text: NEC specials (①, ㈱, №, ℡, Ⅲ, ≒, ∵),
# IBM extension kanji (髙, 﨑, 德), ～ (CP932's wave dash), full-width digits and half-width katakana.
# Before the plausibility score, charset-normalizer refused most of them or read them as UTF-16/EUC-JP.
SHORT_CP932 = [
    "①１０：００～ ㈱髙﨑ﾃﾞｰﾀ",
    "○担当：髙橋（㈱みどり）\n②ｱﾝｹｰﾄ回収～３月末\n",
    "㈲德永商店 ℡０３－１２３４－５６７８\n",
    "売上≒前年比 Ⅲ期 ∵在庫不足",
    "ｶﾌﾞｼｷｶﾞｲｼｬ ﾃﾞｰﾀ\n",
    "№１２ 山﨑様",
    "③ﾒｰﾙ送付済\n④ﾌｧｲﾙ共有～来週\n",
    "髙橋：はい。\n",
    "ｾｲｷｭｳｼｮ ﾁｪｯｸ",
    "ﾀﾅｶ ﾀﾛｳ ㈱ﾐﾄﾞﾘ",
    "Ⅱ ｻｰﾋﾞｽ～",
]


@pytest.mark.parametrize(
    "text",
    SHORT_CP932
    + [
        "ﾃﾞｰﾀ",  # valid EUC-JP too (two kanji): a tie, which goes to CP932
        "德永",  # ED 9E 89 is valid UTF-8 (a Hangul syllable)
    ],
)
def test_short_cp932_business_text_is_cp932(text):
    assert decode(text.encode("cp932"), "x.txt") == (text, "cp932")


@pytest.mark.parametrize(
    "text",
    [
        "担当：田中（みどり物流）\n回収は３月末まで\n",
        "売上≒前年比 ∵在庫不足",
        "№５の件、確認済み。",  # № is JIS X 0212 in EUC-JP (three bytes)
        "○支援員：はい\n●本人：いいえ",
        "本日の会議\n",
        "面談 ﾃﾞｰﾀ確認〜来週\n",
        "ｶﾌﾞｼｷｶﾞｲｼｬ ﾃﾞｰﾀ\n",  # also valid CP932 (湿漆… kanji): the shorter kanji run wins
        "ｼｽﾃﾑPDFｺﾋﾟｰ\n",
    ],
)
def test_short_euc_jp_text_is_euc_jp(text):
    assert decode(text.encode("euc_jp"), "x.txt") == (text, "euc-jp")


@pytest.mark.parametrize("encoding, detected", [("utf_16_le", "utf-16-le"), ("utf_16_be", "utf-16-be")])
@pytest.mark.parametrize(
    "text",
    SHORT_CP932
    + [
        "ﾃﾞｰﾀ",
        "支援員：就労パスポートで共有。\n",
        "報告営業",  # no NUL byte: reads as CP932 "1XJTｶUmi"
        "田中でした",  # all bytes ASCII: reads as UTF-8 "0u-Ng0W0_0"
    ],
)
def test_short_utf16_without_bom_is_detected(text, encoding, detected):
    assert decode(text.encode(encoding), "x.txt") == (text, detected)


@pytest.mark.parametrize("data", [b"12", b"2024", b"OK", b"a0b0", b")]", b"ID:A1B2C3"])
def test_short_ascii_stays_utf8(data):
    # two ASCII bytes are often one plausible UTF-16 character ("12" is ㈱ in UTF-16-LE)
    assert decode(data, "x.txt") == (data.decode(), "utf-8")


LINE_BREAK_CONTROLS = [
    "一行目\v二行目\v三行目\v四行目\n",  # VT: a line break in Word's plain-text export
    "１ページ\f２ページ\f３ページ\f４ページ\f",  # FF: page breaks
    "行一\x85行二\x85行三\x85行四",  # NEL
    "行一\u2028行二\u2028行三\u2028行四",  # LINE SEPARATOR
    "段落一\u2029段落二\u2029段落三\u2029段落四",  # PARAGRAPH SEPARATOR
    "混在\v\f\x85\u2028\u2029終わり\r\n",
]


@pytest.mark.parametrize("text", LINE_BREAK_CONTROLS)
def test_line_break_controls_are_text_in_utf8(text):
    assert decode(text.encode("utf-8"), "x.txt") == (text, "utf-8")


@pytest.mark.parametrize(
    "text",
    [t for t in LINE_BREAK_CONTROLS if "\x85" not in t and "\u2028" not in t and "\u2029" not in t]
    + ["㈱髙﨑\v①ﾃﾞｰﾀ\v②ﾒｰﾙ\v③ｱﾝｹｰﾄ\f"],
)
def test_line_break_controls_are_text_in_cp932(text):
    assert decode(text.encode("cp932"), "x.txt") == (text, "cp932")


@pytest.mark.parametrize("text", ["一行目\u2028二行目\u2029三行目\v四行目\f", "行一\x85行二\x85行三\n"])
def test_line_break_controls_are_text_in_utf16(text):
    assert decode(text.encode("utf_16_le"), "x.txt") == (text, "utf-16-le")


def _random(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _nul_heavy(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.getrandbits(8) if rng.random() < 0.3 else 0 for _ in range(n))


@pytest.mark.parametrize(
    "data",
    [
        _random(4000, 1),
        _random(1000, 2),
        _random(200, 3),
        _random(64, 4),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _random(500, 5),
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + _random(500, 6),
        b"PK\x03\x04" + bytes(range(256)) * 2,
        _nul_heavy(2048, 7),
        _nul_heavy(300, 8),
        b"\x00" * 500 + b"abc" + b"\x00" * 500,
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + _random(300, 9),
        b"\x1f\x8b\x08\x00" + _random(300, 10),  # gzip
    ],
)
def test_binary_data_is_refused_with_its_name(data):
    with pytest.raises(IngestError, match=r"notes\.txt.*binary"):
        decode(data, "notes.txt")


def test_plausibility_prefers_the_right_reading():
    assert plausibility("ﾃﾞｰﾀ ｶﾌﾞｼｷｶﾞｲｼｬ ﾁｪｯｸ ①㈱～") == 1.0
    assert plausibility("髙﨑") == pytest.approx(0.7)  # CP932 extension kanji: rare, but common in names
    assert plausibility("ﾞﾃｰﾀ") == 0.5  # a voiced mark on nothing counts -1
    euc = "支援員：就労パスポートで主治医と情報を共有しています。".encode("euc_jp")
    assert plausibility(euc.decode("cp932")) < 0.6 < plausibility(euc.decode("euc_jp")) == 1.0
    sjis = SHORT_CP932[2].encode("cp932")
    assert plausibility(sjis.decode("utf_16_le")) < 0.6
    assert plausibility(sjis.decode("cp932")) > 0.9
