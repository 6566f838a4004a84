import io

import pytest

from coder.errors import IngestError
from coder.formats import docx_text, parse_labelled, parse_subtitles


def speakers_and_words(text, fmt="txt"):
    return [(t.speaker, text[t.start:t.end]) for t in parse_labelled(text, "x", fmt)]


@pytest.mark.parametrize("text", [
    "聞き手：調子はどうですか。\n本人：元気です。\n",
    "聞き手: 調子はどうですか。\n本人: 元気です。\n",
    "【聞き手】調子はどうですか。\n\n【本人】元気です。\n",
    "○聞き手　調子はどうですか。\n○本人　元気です。\n",
    "聞き手：調子はどうですか。\n\n\n本人：\n元気です。\n",
])
def test_speaker_label_styles_give_the_same_turns(text):
    assert speakers_and_words(text) == [("聞き手", "調子はどうですか。"), ("本人", "元気です。")]


def test_q_and_a_labels_are_turns():
    assert speakers_and_words("Q：いつからですか。\nA：去年からです。\nＱ：今は？\n") == [
        ("Q", "いつからですか。"), ("A", "去年からです。"), ("Q", "今は？")]


def test_unlabelled_lines_continue_the_previous_turn():
    text = "支援員：一行目です。\n二行目も同じ人です。\n\n三段落目です。\n聞き手：次に。\n"
    assert speakers_and_words(text) == [("支援員", "一行目です。\n二行目も同じ人です。\n\n三段落目です。"),
                                        ("聞き手", "次に。")]


def test_header_lines_before_the_first_turn_are_not_speakers():
    text = "# 議事録\n日時：2024年6月1日\n場所：会議室\n\n○質問者　始めます。\n○店長　どうぞ。\n○質問者　では。\n"
    assert [s for s, _ in speakers_and_words(text, "md")] == ["質問者", "店長", "質問者"]


def test_clock_times_are_not_taken_for_speakers():
    text = "支援員：面談は\n10:30から始めます。\n午後2:00にも会います。\n聞き手：はい。\n支援員：以上です。\n"
    assert speakers_and_words(text)[0] == ("支援員", "面談は\n10:30から始めます。\n午後2:00にも会います。")


def test_text_without_any_label_fails_clearly():
    with pytest.raises(IngestError, match="no speaker turns"):
        parse_labelled("ただの文章です。ラベルはありません。\n", "plain.txt")


VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.500
<v 聞き手>最近の調子を教えてください。

2
00:00:05.000 --> 00:00:08.000
<v 本人>最近は朝起きるのが

3
00:00:08.000 --> 00:00:11.250
<v 本人>楽になりました。通院も続けています。
"""


def test_vtt_cues_of_one_speaker_form_one_turn_with_times():
    text, turns = parse_subtitles(VTT, "a.vtt", "vtt")
    assert [(t.speaker, t.start_time, t.end_time) for t in turns] == [("聞き手", 1.0, 4.5), ("本人", 5.0, 11.25)]
    assert text[turns[1].start:turns[1].end] == "最近は朝起きるのが\n楽になりました。通院も続けています。"


def test_srt_speaker_prefixes_are_read():
    srt = "1\n00:00:01,000 --> 00:00:02,000\n聞き手：はじめます。\n\n2\n00:00:02,500 --> 00:00:04,000\nAさん：はい。\n"
    text, turns = parse_subtitles(srt, "a.srt", "srt")
    assert [(t.speaker, text[t.start:t.end], t.start_time) for t in turns] == [
        ("聞き手", "はじめます。", 1.0), ("Aさん", "はい。", 2.5)]


@pytest.mark.parametrize("bad", ["こんにちは\n", "WEBVTT\n\nnot a cue\n", "WEBVTT\n\n00:00:xx --> 00:00:01.000\nはい\n"])
def test_malformed_vtt_fails_clearly(bad):
    with pytest.raises(IngestError, match="bad.vtt: malformed VTT"):
        parse_subtitles(bad, "bad.vtt", "vtt")


def make_docx(paragraphs, table=None):
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=0, cols=2)
        for a, b in table:
            cells = t.add_row().cells
            cells[0].text, cells[1].text = a, b
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_and_tables_become_turns():
    text = docx_text(make_docx(["聞き手：よろしくお願いします。", "", "本人：はい。"], [("聞き手", "表の質問です。")]), "a.docx")
    assert speakers_and_words(text) == [("聞き手", "よろしくお願いします。"), ("本人", "はい。"), ("聞き手", "表の質問です。")]


def test_truncated_docx_fails_clearly():
    data = make_docx(["聞き手：よろしくお願いします。"])
    with pytest.raises(IngestError, match="cut.docx: not a readable .docx"):
        docx_text(data[: len(data) // 2], "cut.docx")
