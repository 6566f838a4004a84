import pytest

from coder.formats import read_text
from coder.segment import MAX_CHUNK, chunks, segment_transcripts
from coder.types import Transcript

SPEAKERS = {"支援員", "本人", "聞き手"}  # the tests' labels: known, so a one-turn excerpt is a transcript


def segmented(nlp, text):
    t = Transcript(
        name="t",
        source_file="t.txt",
        sha256="",
        encoding="utf-8",
        format="txt",
        original=text,
        text=text,
        turns=read_text(text, known=SPEAKERS).turns,
    )
    segment_transcripts(nlp, [t])
    return t


def test_offsets_point_at_the_segment_text_with_astral_and_half_width_characters(nlp):
    text = (
        "聞き手：𠮷野さんの職場について教えてください。\n"
        "本人：𠮷野です。ｱﾙﾊﾞｲﾄから始めて、ＡＢＣ物流で３年目です。𠮷田さんと2人でﾋﾟｯｷﾝｸﾞをしています。\n"
    )
    t = segmented(nlp, text)
    assert [s.text for s in t.segments] == [
        "𠮷野さんの職場について教えてください。",
        "𠮷野です。",
        "ｱﾙﾊﾞｲﾄから始めて、ＡＢＣ物流で３年目です。",
        "𠮷田さんと2人でﾋﾟｯｷﾝｸﾞをしています。",
    ]
    for s in t.segments:
        assert text[s.start : s.end] == s.text
        for start, end, *_ in s.tokens:
            assert s.start <= start < end <= s.end


def test_one_segment_per_sentence_and_turns_keep_their_speaker(nlp):
    t = segmented(nlp, "聞き手：最初に伺います。\n支援員：週に一度訪問します。電話でも話します。\n")
    assert [(t.turns[s.turn].speaker, s.text) for s in t.segments] == [
        ("聞き手", "最初に伺います。"),
        ("支援員", "週に一度訪問します。"),
        ("支援員", "電話でも話します。"),
    ]
    assert [s.index for s in t.segments] == [0, 1, 2]


def test_line_break_inside_a_sentence_is_joined_but_offsets_stay_exact(nlp):
    text = (
        "支援員：主治医の意見書と本人の振り返りシートを\n合わせて読み、職場に伝える配慮を決めます。次に面談します。\n"
    )
    t = segmented(nlp, text)
    assert [s.text for s in t.segments] == [
        "主治医の意見書と本人の振り返りシートを\n合わせて読み、職場に伝える配慮を決めます。",
        "次に面談します。",
    ]
    assert any(tok[3] == "合わせる" or tok[2] == "合わせる" for tok in t.segments[0].tokens)


def test_quoted_speech_stays_in_its_sentence(nlp):
    t = segmented(nlp, "本人：店長に「大丈夫です。無理はしません。」と伝えました。それから帰りました。\n")
    assert [s.text for s in t.segments] == [
        "店長に「大丈夫です。無理はしません。」と伝えました。",
        "それから帰りました。",
    ]


def test_parser_breaks_without_a_full_stop_are_undone_in_punctuated_text(nlp):
    sentence = (
        "人によって得意なことや苦手なこと、物事の受け止め方が違っており、それが職場で困難として出やすい場面・"
        "そうでない場面があるということを、支援の中で何度も確かめている。"
    )
    assert len(list(nlp(sentence).sents)) > 1  # the raw parser splits it
    t = segmented(nlp, f"支援員：{sentence}次の話です。\n")
    assert [s.text for s in t.segments] == [sentence, "次の話です。"]


def test_unpunctuated_captions_keep_the_parser_breaks(nlp):
    t = segmented(nlp, "本人：はい去年の春から働いています週に四日です\n")
    assert [s.text for s in t.segments] == ["はい去年の春から働いています", "週に四日です"]


def test_blank_lines_and_bullets_are_paragraph_breaks(nlp):
    t = segmented(nlp, "支援員：確認したのは次の点です\n・通勤の時間\n・服薬の時間\n\n以上を共有しました\n")
    assert [s.text for s in t.segments] == [
        "確認したのは次の点です",
        "・通勤の時間",
        "・服薬の時間",
        "以上を共有しました",
    ]


def test_very_long_turn_without_a_full_stop_is_segmented_with_exact_offsets(nlp):
    clause = "職場の皆さんに配慮をお願いして、"
    text = "本人：" + clause * (12000 // len(clause)) + "終わりです。\n"
    assert len(chunks(text, 3, len(text) - 1)) > 1
    t = segmented(nlp, text)
    assert t.segments and all(len(s.text) <= MAX_CHUNK for s in t.segments)
    assert "".join(s.text for s in t.segments) == text[3:-1]
    assert all(text[s.start : s.end] == s.text for s in t.segments)


def test_no_segment_boundary_splits_an_emoji_sequence_or_a_variation_selector(nlp):
    from coder.types import Turn

    def turns(*words):  # one turn per line, without labels (the segmenter's input alone)
        text, out = "", []
        for w in words:
            out.append(Turn(speaker="本人", start=len(text), end=len(text) + len(w)))
            text += w + "\n"
        t = Transcript(
            name="t",
            source_file="t.txt",
            sha256="",
            encoding="utf-8",
            format="txt",
            original=text,
            text=text,
            turns=out,
        )
        segment_transcripts(nlp, [t])
        assert all(text[s.start : s.end] == s.text for s in t.segments)
        return t

    # without a full stop the parser's breaks are kept, but GiNZA breaks between 👍 and its skin tone
    t = turns("いいね👍🏽と言われてうれしかった", "すみません🙇‍♀️と頭を下げた")
    assert all(s.text[0] not in "\U0001f3fd\u200d" for s in t.segments)
    assert any("👍🏽" in s.text for s in t.segments) and any("🙇‍♀️" in s.text for s in t.segments)
    # a turn cut by length (no 。、 or space) is cut beside a ZWJ sequence or an ideographic variant, not in it
    filler = "就労支援の現場では本人の希望を聞きながら職場と相談して進めていく"
    turn = (filler * 60)[: MAX_CHUNK - 2] + "👨‍👩‍👧" + (filler * 60)[: MAX_CHUNK - 1] + "葛󠄀" + filler
    pieces = chunks(turn, 0, len(turn))
    assert len(pieces) == 3 and all("👨‍👩‍👧" in p.text or "👨" not in p.text for p in pieces)
    assert all("葛󠄀" in p.text or "葛" not in p.text for p in pieces)
    t = turns(turn)
    assert "".join(s.text for s in t.segments) == turn
    assert any("👨‍👩‍👧" in s.text for s in t.segments) and any("葛󠄀" in s.text for s in t.segments)


@pytest.mark.parametrize("n_process", [2])
def test_parallel_segmentation_gives_the_same_segments(nlp, n_process):
    text = "聞き手：伺います。\n支援員：週に一度訪問します。電話でも話します。\n本人：助かっています。\n"
    one = [(s.start, s.end) for s in segmented(nlp, text).segments]
    t = Transcript(
        name="t",
        source_file="t",
        sha256="",
        encoding="",
        format="txt",
        original=text,
        text=text,
        turns=read_text(text, known=SPEAKERS).turns,
    )
    segment_transcripts(nlp, [t], n_process=n_process)
    assert [(s.start, s.end) for s in t.segments] == one


@pytest.mark.parametrize(
    "words", ["……(1)まず通勤です。", "？1. 通勤 2. 昼休み、ですかね。", "。1. 項目です", "!・ 項目です"]
)
def test_punctuation_before_a_numbered_item_joins_it_without_error(nlp, words):
    t = segmented(nlp, f"聞き手：はい。\n本人：{words}\n")
    assert "".join(s.text for s in t.segments[1:]).replace("\n", "").replace(" ", "") == words.replace(" ", "")
