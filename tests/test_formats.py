"""Each kind of transcript layout users bring, as a table with several instances per kind."""

import pytest

from coder.errors import IngestError
from coder.formats import read_text
from coder.formats.lines import classify
from coder.formats.subtitles import parse_subtitles
from coder.speakers import resolve


def turns(text, fmt="txt", known=frozenset()):
    parsed = read_text(text, fmt, known)
    return [(t.speaker, text[t.start : t.end]) for t in parsed.turns]


def timed(text, fmt="txt"):
    return [(t.speaker, t.start_time, text[t.start : t.end]) for t in read_text(text, fmt).turns]


# --- labels on the turn's first line -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "聞き手：調子はどうですか。\n本人：元気です。\n",
        "聞き手: 調子はどうですか。\n本人: 元気です。\n",
        "【聞き手】調子はどうですか。\n\n【本人】元気です。\n",
        "○聞き手　調子はどうですか。\n○本人　元気です。\n",
        "聞き手：調子はどうですか。\n\n\n本人：\n元気です。\n",
        "**聞き手**：調子はどうですか。\n**本人：** 元気です。\n",
    ],
)
def test_speaker_label_styles_give_the_same_turns(text):
    assert turns(text, "md") == [("聞き手", "調子はどうですか。"), ("本人", "元気です。")]


@pytest.mark.parametrize(
    "line, name, seconds, words",
    [
        ("[00:01:12] 聞き手：いまの職場は", "聞き手", 72.0, "いまの職場は"),
        ("00:01:12 聞き手：いまの職場は", "聞き手", 72.0, "いまの職場は"),
        ("聞き手（00:01:12）：いまの職場は", "聞き手", 72.0, "いまの職場は"),
        ("聞き手 [00:01:12]：いまの職場は", "聞き手", 72.0, "いまの職場は"),
        ("聞き手：[00:01:12] いまの職場は", "聞き手", 72.0, "いまの職場は"),
        ("(1:02:03.5) 本人: はい", "本人", 3723.5, "はい"),
        ("【本人】（00:14）はい", "本人", 14.0, "はい"),
        ("○本人　はい", "本人", None, "はい"),
        ("[SPEAKER_00]: はい", "SPEAKER_00", None, "はい"),
        ("[SPEAKER_01] はい", "SPEAKER_01", None, "はい"),
        ("SPEAKER_00: はい", "SPEAKER_00", None, "はい"),
        ("Speaker 1: はい", "Speaker 1", None, "はい"),
        ("Ｑ．いつからですか", "Q", None, "いつからですか"),
        ("Taro Ishii (Guest): はい", "Taro Ishii (Guest)", None, "はい"),
        ("Ishii, Taro: はい", "Ishii, Taro", None, "はい"),
        ("山田 花子（就労支援センター）：はい", "山田 花子(就労支援センター)", None, "はい"),
    ],
)
def test_a_time_code_before_or_after_the_label_is_the_turns_time_not_words(line, name, seconds, words):
    info = classify(line)
    assert (info.kind, info.name, info.time, line[info.content :]) == ("label", name, seconds, words)


@pytest.mark.parametrize(
    "line",
    [
        "10:30から始めます。",
        "午後2:00にも会います。",
        "（笑）",
        "(1) 障害者雇用の現状",
        "York Times. https://example.org",
        "第1条",
        "えっと、そうですね。",
    ],
)
def test_words_that_only_look_like_labels_are_words(line):
    assert classify(line).kind == "text"


def test_time_coded_transcript_keeps_times_on_turns_and_never_in_the_words():
    text = (
        "聞き手：今日はよろしくお願いします。\n本人：よろしくお願いします。\n[00:01:12] 聞き手：理由は。\n"
        "[00:01:20] 本人：先輩です。\n本人：支援員さんも。\n00:02:05 聞き手：相談は。\n00:02:11 本人：先輩にします。\n"
    )
    assert timed(text) == [
        ("聞き手", None, "今日はよろしくお願いします。"),
        ("本人", None, "よろしくお願いします。"),
        ("聞き手", 72.0, "理由は。"),
        ("本人", 80.0, "先輩です。"),
        ("本人", None, "支援員さんも。"),
        ("聞き手", 125.0, "相談は。"),
        ("本人", 131.0, "先輩にします。"),
    ]


def test_a_time_code_alone_on_a_line_times_the_next_turn_and_splits_a_long_one():
    text = "記録\n00:00:00\n石井: こんにちは。\n山本: どうも。\n続きです。\n00:05:00\nその後です。\n石井: はい。\n"
    assert timed(text) == [
        ("石井", 0.0, "こんにちは。"),
        ("山本", None, "どうも。\n続きです。"),
        ("山本", 300.0, "その後です。"),
        ("石井", None, "はい。"),
    ]


def test_unlabelled_lines_continue_the_previous_turn():
    text = "支援員：一行目です。\n二行目も同じ人です。\n\n三段落目です。\n聞き手：次に。\n"
    assert turns(text) == [("支援員", "一行目です。\n二行目も同じ人です。\n\n三段落目です。"), ("聞き手", "次に。")]


def test_header_lines_before_the_first_turn_are_front_matter_and_reported():
    text = "# 議事録\n日時：2024年6月1日\n場所：会議室\n\n○質問者　始めます。\n○店長　どうぞ。\n○質問者　では。\n"
    parsed = read_text(text, "md")
    assert [t.speaker for t in parsed.turns] == ["質問者", "店長", "質問者"]
    assert [(n.where, n.what) for n in parsed.notes] == [
        ("line 1", "left out (heading)"),
        ("lines 2–3", "left out (before the first turn)"),
    ]


def test_a_speaker_who_speaks_once_before_the_others_is_not_front_matter():
    assert [s for s, _ in turns("本人：最初に一言。\n支援員：はい。\n本人：以上です。\n支援員：どうも。\n")] == [
        "本人",
        "支援員",
        "本人",
        "支援員",
    ]


# --- header lines: a speaker and a time above the words ------------------------------------------


@pytest.mark.parametrize(
    "text, speakers, times",
    [
        (
            "支援会議メモ 1\n2026.03.12 Thu 10:02 ・ 12分 40秒\n参加者 1 参加者 2\n\n参加者 1 00:00\nそれでは始めます。\n先週の件です。\n\n"
            "参加者 2 00:14\nはい。\n\n参加者 1 00:41\n確認しましょう。\n",
            ["参加者 1", "参加者 2", "参加者 1"],
            [0.0, 14.0, 41.0],
        ),
        (
            "石井  00:00:03\nこんにちは。\n山本 理恵   00:00:09\nどうも。\n石井  00:01:02\n続けます。\n",
            ["石井", "山本 理恵", "石井"],
            [3.0, 9.0, 62.0],
        ),
        (
            "Transcript\n\nSpeaker 1  0:03\nはい。\n\nSpeaker 2  01:02:03\nええ。\n\nSpeaker 1  1:02:10\nでは。\n",
            ["Speaker 1", "Speaker 2", "Speaker 1"],
            [3.0, 3723.0, 3730.0],
        ),
        (
            "[石井 太郎] 10:02:03\nおはようございます。\n[山本 理恵] 10:02:09\nおはようございます。\n[石井 太郎] 10:03:00\nでは。\n",
            ["石井 太郎", "山本 理恵", "石井 太郎"],
            [36123.0, 36129.0, 36180.0],
        ),
    ],
)
def test_header_line_layout_reads_speaker_and_time_above_the_words(text, speakers, times):
    parsed = read_text(text)
    assert parsed.layout == "headers"
    assert [t.speaker for t in parsed.turns] == speakers and [t.start_time for t in parsed.turns] == times
    assert all(":" not in text[t.start : t.end] for t in parsed.turns)


def test_header_layout_front_matter_is_reported_with_line_numbers():
    text = "支援会議メモ 1\n2026.03.12 Thu 10:02\n\n参加者 1 00:00\nはい。\n参加者 2 00:14\nええ。\n参加者 1 00:20\nでは。\n"
    parsed = read_text(text)
    assert [(n.where, n.text) for n in parsed.notes] == [("lines 1–2", "支援会議メモ 1 / 2026.03.12 Thu 10:02")]


# --- published interviews and minutes -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, answers",
    [
        (
            "岡田さんに聞く\n\n岡田さんは十年、支援に携わってきた。\n\n――きっかけは何ですか。\n\n最初は福祉の仕事でした。\nそこで相談を受けました。\n\n"
            "――いま大事にしていることは。\n\n本人が決めることです。\n",
            ["最初は福祉の仕事でした。\nそこで相談を受けました。", "本人が決めることです。"],
        ),
        (
            "――きっかけは？\n福祉の仕事でした。\n――今は？\n本人が決めることです。\nそれが一番です。\n",
            ["福祉の仕事でした。", "本人が決めることです。\nそれが一番です。"],
        ),
    ],
)
def test_dash_questions_with_unlabelled_answers_are_two_speakers(text, answers):
    parsed = read_text(text)
    assert parsed.layout == "questions"
    assert [t.speaker for t in parsed.turns] == ["聞き手", "回答者", "聞き手", "回答者"]
    assert [text[t.start : t.end] for t in parsed.turns][1::2] == answers


@pytest.mark.parametrize("open_, close", [("(", ")"), ("（", "）"), ("【", "】")])
def test_a_bracketed_name_alone_on_a_line_starts_that_speakers_turn(open_, close):
    text = (
        f"記録\n\n{open_}岡田{close}\n今日はよろしくお願いします。\n\n{open_}佐々木{close}\nよろしくお願いします。\n（笑）\n\n"
        f"{open_}岡田{close}\n職場はどうですか。\n"
    )
    assert turns(text) == [
        ("岡田", "今日はよろしくお願いします。"),
        ("佐々木", "よろしくお願いします。\n（笑）"),
        ("岡田", "職場はどうですか。"),
    ]


MINUTES = """第10回 障害者雇用分科会 議事録

○日時 令和5年6月1日（木）10:00～12:00
○場所 中央合同庁舎
○出席者
【公益代表委員】
山田委員、佐藤委員
【事務局】
鈴木課長
○議題
(1) 障害者雇用の現状について
(2) その他

○山田分科会長　ただいまから第10回分科会を開催します。
○鈴木課長　資料1について説明します。
就労定着の状況です。
○佐藤委員　ありがとうございます。質問があります。
○山田分科会長　どうぞ。
○佐藤委員　定着率の推移を教えてください。
"""


@pytest.mark.parametrize("text", [MINUTES, MINUTES.replace("○", "◯").replace("　", " ")])
def test_council_minutes_attendees_and_agenda_are_front_matter(text):
    parsed = read_text(text)
    assert [t.speaker for t in parsed.turns] == ["山田分科会長", "鈴木課長", "佐藤委員", "山田分科会長", "佐藤委員"]
    assert parsed.notes[0].where == "lines 1–12" and parsed.notes[0].what == "left out (before the first turn)"


@pytest.mark.parametrize(
    "label",
    [
        "山田座長",
        "佐藤会長",
        "部会長",
        "分科会長",
        "鈴木委員長",
        "司会",
        "司会（佐藤）",
        "進行・田中",
        "聞き手",
        "聞き手（山田）",
        "インタビュアー",
        "Q",
        "問",
    ],
)
def test_chairs_and_moderators_are_interviewers_by_default(label):
    assert resolve(label, {}, {}) == "interviewer"


@pytest.mark.parametrize("label", ["佐藤委員", "本人", "社長", "支援員"])
def test_other_speakers_wait_for_a_perspective(label):
    assert resolve(label, {}, {}) == "unknown"


# --- documents: no consistent speaker pattern -------------------------------------------------------

PAPER = (
    "Abstract: Job coaches support employees.\n\n"
    + "Employment support has been studied widely. " * 250
    + "\n\nRQ1: How do coaches share information?\n\n"
    + "We interviewed twelve coaches. " * 250
    + "\n\nRQ1 is answered in section 4.\n\nRQ2: What do employers need?\n\nRQ2: see below.\n"
)


@pytest.mark.parametrize(
    "text, paragraphs",
    [
        ("ただの文章です。ラベルはありません。\n", 1),
        (
            "フィールドノート\n日時：6月1日\n場所：作業所\n\n朝の会で、利用者が今日の作業を選んでいた。\n\n支援員は見守っていた。\n",
            3,
        ),
        (PAPER, 7),
        (
            "第1条（目的）\nこの要綱は、就労支援の連携について定める。\n\n第2条（定義）\nこの要綱で支援機関とは、次のものをいう。\n",
            2,
        ),
    ],
)
def test_a_source_without_a_consistent_speaker_pattern_is_a_document_of_paragraphs(text, paragraphs):
    parsed = read_text(text)
    assert parsed.layout == "document" and {t.speaker for t in parsed.turns} == {"文書"}
    assert len(parsed.turns) == paragraphs
    assert "no consistent speaker pattern" in parsed.notes[0].what


def test_document_can_be_forced_on_a_labelled_text():
    parsed = read_text("聞き手：はい。\n本人：ええ。\n\n聞き手：では。\n", document=True)
    assert parsed.layout == "document" and len(parsed.turns) == 2


def test_a_single_labelled_speaker_the_user_mapped_is_a_transcript():
    assert read_text("支援員：はい。\n\n支援員：続けます。\n", known={"支援員"}).layout == "labels"


# --- subtitles ----------------------------------------------------------------------------------------

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
    text, turns_, _ = parse_subtitles(VTT, "a.vtt", "vtt")
    assert [(t.speaker, t.start_time, t.end_time) for t in turns_] == [("聞き手", 1.0, 4.5), ("本人", 5.0, 11.25)]
    assert text[turns_[1].start : turns_[1].end] == "最近は朝起きるのが\n楽になりました。通院も続けています。"


@pytest.mark.parametrize(
    "source, fmt, expected",
    [
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v 山本 理恵>S&amp;T物流さんで&lt;実習&gt;&nbsp;です。</v>\n",
            "vtt",
            [("山本 理恵", "S&T物流さんで<実習> です。")],
        ),
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000 align:start position:10%\n<v.loud 中村>はい。<c.yellow>確認</c>します。\n\n"
            "00:00:02.000 --> 00:00:03.000\n<v 中村><i>続けます</i>&lrm;。\n",
            "vtt",
            [("中村", "はい。確認します。\n続けます。")],
        ),
        (
            "WEBVTT\n\nNOTE 会議の記録\n\nabc-123/1-0\n00:00:01.000 --> 00:00:02.000\n<v 山本>一行目の\n二行目です。",
            "vtt",
            [("山本", "一行目の\n二行目です。")],
        ),
        (
            "\ufeff\n\n1\n00:00:01,000 --> 00:00:02,000\n聞き手：はじめます。\n\n2\n00:00:02,500 --> 00:00:04,000\n本人：はい、\n\n"
            '続きです。\n\n3\n00:00:04,000 --> 00:00:05,000\n<font color="#ffff00">{\\an8}本人：</font>以上です。',
            "srt",
            [("聞き手", "はじめます。"), ("本人", "はい、\n続きです。\n以上です。")],
        ),
        (
            "1\n00:00:01,000 --> 00:00:02,000\n[SPEAKER_00]: こんにちは。\n\n2\n00:00:02,000 --> 00:00:03,000\nSPEAKER_01: どうも。\n",
            "srt",
            [("SPEAKER_00", "こんにちは。"), ("SPEAKER_01", "どうも。")],
        ),
        (
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<v 本人><ruby>支援<rt>しえん</rt></ruby>員さん\n",
            "vtt",
            [("本人", "支援員さん")],
        ),
    ],
)
def test_subtitles_decode_references_and_drop_markup(source, fmt, expected):
    text, turns_, _ = parse_subtitles(source, f"a.{fmt}", fmt)
    assert [(t.speaker, text[t.start : t.end]) for t in turns_] == expected
    assert "<" not in text.replace("<実習>", "") and "&" not in text.replace("S&T", "")


@pytest.mark.parametrize(
    "bad, fmt, where",
    [
        ("こんにちは\n", "vtt", "no cues"),
        ("WEBVTT\n\nnot a cue\n\n00:00:01.000 --> 00:00:02.000\nはい\n", "vtt", "line 3: text before the first cue"),
        ("WEBVTT\n\n00:00:xx --> 00:00:01.000\nはい\n", "vtt", "line 3: cannot read the cue timing"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nはい\n\n2\n00:00:05,000 -> 00:00:06,000\nええ\n",
            "srt",
            "line 6: cannot read",
        ),
        ("1\n00:00:09,000 --> 00:00:02,000\nはい\n", "srt", "line 2: the cue ends before it starts"),
        ("はじめに\n1\n00:00:01,000 --> 00:00:02,000\nはい\n", "srt", "line 1: text before the first cue"),
    ],
)
def test_malformed_subtitles_are_refused_with_the_line_and_the_problem(bad, fmt, where):
    with pytest.raises(IngestError, match=f"bad.{fmt}: malformed {fmt.upper()} file: {where}"):
        parse_subtitles(bad, f"bad.{fmt}", fmt)


def test_subtitle_notes_and_empty_cues_are_reported():
    source = "WEBVTT\n\nNOTE 架空の会議\n\n00:00:01.000 --> 00:00:02.000\n<v 山本></v>\n\n00:00:02.000 --> 00:00:03.000\n<v 山本>はい。\n"
    _, _, notes = parse_subtitles(source, "a.vtt", "vtt")
    assert [(n.where, n.what) for n in notes] == [
        ("line 3", "NOTE block left out"),
        ("cue 1", "cue without text left out"),
    ]


def test_dash_lines_are_questions_beside_answer_labels_but_words_beside_interviewer_labels():
    published = "――きっかけは？\n岡田：福祉の仕事でした。\n――今は？\n岡田：本人が決めることです。\n"
    assert [s for s, _ in turns(published)] == ["聞き手", "岡田", "聞き手", "岡田"]
    labelled = (
        "聞き手：きっかけは？\n岡田：福祉の仕事でした。\n――そう、あのときです。\n聞き手：今は？\n岡田：本人です。\n"
    )
    assert turns(labelled)[1] == ("岡田", "福祉の仕事でした。\n――そう、あのときです。")


@pytest.mark.parametrize(
    "paragraphs, speakers",
    [
        (
            [
                "会議の記録",
                "2026年3月12日",
                "石井 太郎   0:03",
                "こんにちは。始めましょう。",
                "山本 理恵   0:10",
                "よろしくお願いします。",
                "石井 太郎   1:02",
                "では最初の議題です。",
            ],
            ["石井 太郎", "山本 理恵", "石井 太郎"],
        ),
        (
            [
                "Speaker 1  00:00:01\nはい、聞こえます。",
                "Speaker 2  00:00:05\n画面を共有します。",
                "Speaker 1  00:00:09\nどうぞ。",
            ],
            ["Speaker 1", "Speaker 2", "Speaker 1"],
        ),
    ],
)
def test_word_transcripts_of_teams_and_meet_read_header_lines(paragraphs, speakers):
    import io

    import docx

    from coder.formats import read

    document = docx.Document()
    for text in paragraphs:
        first, *rest = text.split("\n")
        run = document.add_paragraph().add_run(first)
        for line in rest:  # a soft line break inside the paragraph, as Meet writes it
            run.add_break()
            run.add_text(line)
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = read(buffer.getvalue(), "meeting.docx", "docx")
    assert parsed.layout == "headers" and [t.speaker for t in parsed.turns] == speakers
    assert all(":" not in parsed.text[t.start : t.end] for t in parsed.turns)


@pytest.mark.parametrize(
    "field",
    [
        "記録方法：ICレコーダーによる録音",
        "ファイル名：interview_0612.m4a",
        "2024/06/03 記録：評価チーム",
        "- 所属：みなと就労支援センター",
    ],
)
def test_field_lines_before_the_first_turn_are_front_matter_not_speakers(field):
    text = f"面談記録\n{field}\n\n聞き手：はじめます。\n本人：はい。\n聞き手：では。\n本人：どうぞ。\n"
    parsed = read_text(text, "md")
    assert [t.speaker for t in parsed.turns] == ["聞き手", "本人", "聞き手", "本人"]
    assert parsed.notes[0].what == "left out (before the first turn)" and field.lstrip("- ") in parsed.notes[0].text


@pytest.mark.parametrize(
    "text, speakers",
    [
        (
            "聞き手\t就職して何年ですか。\n本人\t三年目です。\n聞き手\t続けられそうですか。\n本人\t大丈夫です。\n",
            ["聞き手", "本人"] * 2,
        ),
        (
            "山田座長　始めます。\n事務局　資料1をご覧ください。\n佐藤委員　質問です。\n事務局　お答えします。\n佐藤委員　了解です。\n",
            ["山田座長", "事務局", "佐藤委員", "事務局", "佐藤委員"],
        ),
        (
            "問　きっかけは何ですか。\n答　紹介されました。\n問　よかったことは。\n答　生活リズムです。\n",
            ["問", "答", "問", "答"],
        ),
        (
            "Q1. きっかけは何ですか。\nA1. 紹介されました。\nQ2. よかったことは。\nA2. 生活リズムです。\n",
            ["Q", "A", "Q", "A"],
        ),
    ],
)
def test_tab_wide_space_and_numbered_labels_are_speakers(text, speakers):
    assert [s for s, _ in turns(text)] == speakers


def test_a_wide_space_after_a_word_in_the_words_is_not_a_label():
    text = "支援員：面談では　まず\n体調を聞きます。\nはい　そうです。\nはい　そうですね。\n聞き手：次に。\n支援員：どうぞ。\n"
    assert [s for s, _ in turns(text)] == ["支援員", "聞き手", "支援員"]


@pytest.mark.parametrize(
    "source",
    [
        "1\n00:00:00,000 --> 00:00:03,500\n[SPEAKER_00]: 今日はよろしくお願いします。\n\n2\n00:00:03,600 --> 00:00:08,200\n"
        "[SPEAKER_01]: よろしくお願いします。\n",
        "WEBVTT\n\n00:00.000 --> 00:03.500\n<v SPEAKER_00>今日はよろしくお願いします。\n\n00:03.600 --> 00:08.200\n"
        "<v SPEAKER_01>よろしくお願いします。\n",
    ],
)
def test_a_text_file_holding_subtitles_is_read_as_subtitles(source):
    from coder.formats import read

    parsed = read(source, "renamed.txt", "txt")
    assert parsed.layout == "cues" and [t.speaker for t in parsed.turns] == ["SPEAKER_00", "SPEAKER_01"]
    assert "-->" not in parsed.text and "read as" in parsed.notes[0].what


def test_teams_old_docx_transcript_names_stand_alone_on_the_cue_first_line():
    import io

    import docx

    from coder.formats import read

    document = docx.Document()
    for timing, name, words in [
        ("0:0:0.0 --> 0:0:3.720", "石井 太郎", "本日はよろしくお願いします。"),
        ("0:0:4.10 --> 0:0:9.0", "山本 理恵", "よろしくお願いします。"),
        ("0:0:9.500 --> 0:0:12.0", "石井 太郎", "では始めます。"),
    ]:
        run = document.add_paragraph().add_run(timing)
        for line in (name, words):
            run.add_break()
            run.add_text(line)
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = read(buffer.getvalue(), "teams.docx", "docx")
    assert [(t.speaker, parsed.text[t.start : t.end], t.start_time) for t in parsed.turns] == [
        ("石井 太郎", "本日はよろしくお願いします。", 0.0),
        ("山本 理恵", "よろしくお願いします。", 4.1),
        ("石井 太郎", "では始めます。", 9.5),
    ]


def test_clock_times_in_an_untimed_interview_stay_words():
    text = (
        "聞き手：一日の流れは。\n本人：12:00から休憩です。\n15:00\nそのあと面談です。\n聞き手：帰りは。\n"
        "本人：16:30 には退勤します。\n"
    )
    assert timed(text) == [
        ("聞き手", None, "一日の流れは。"),
        ("本人", None, "12:00から休憩です。\n15:00\nそのあと面談です。"),
        ("聞き手", None, "帰りは。"),
        ("本人", None, "16:30 には退勤します。"),
    ]


def test_a_word_and_a_time_inside_a_header_layout_turn_stay_words():
    text = (
        "石井  00:00:03\n一日の予定は。\n\n山本 理恵   0:12\nこんな感じです。\n朝礼 8:45\n作業 9:00\n退勤 16:30\n面談は月に一回です。\n\n"
        "石井  00:00:40\nありがとうございます。\n\n山本 理恵   0:52\nはい。\n"
    )
    parsed = read_text(text)
    assert [t.speaker for t in parsed.turns] == ["石井", "山本 理恵", "石井", "山本 理恵"]
    assert (
        text[parsed.turns[1].start : parsed.turns[1].end]
        == "こんな感じです。\n朝礼 8:45\n作業 9:00\n退勤 16:30\n面談は月に一回です。"
    )


@pytest.mark.parametrize("style", ["Heading 2", "Title"])
def test_a_word_heading_ends_the_turn_and_is_reported(style):
    import io

    import docx

    from coder.formats import read

    document = docx.Document()
    document.add_paragraph("聞き手：就職までの流れは。")
    document.add_paragraph("Bさん：移行支援に一年通いました。")
    document.add_paragraph("まとめ（調査者メモ）", style=style)
    document.add_paragraph("支援機関が三つ関わっていた。")
    document.add_paragraph("聞き手：いまは。")
    document.add_paragraph("Bさん：慣れました。")
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = read(buffer.getvalue(), "h.docx", "docx")
    words = [(t.speaker, parsed.text[t.start : t.end]) for t in parsed.turns]
    assert words == [
        ("聞き手", "就職までの流れは。"),
        ("Bさん", "移行支援に一年通いました。"),
        ("聞き手", "いまは。"),
        ("Bさん", "慣れました。"),
    ]
    assert [(n.where, n.what) for n in parsed.notes] == [
        ("paragraph 3", "left out (heading)"),
        ("paragraph 4", "left out (outside any turn)"),
    ]


def test_two_voice_spans_on_one_cue_line_are_two_turns():
    source = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v 支援員>今日はどうでしたか。</v>\n\n"
        "00:00:03.000 --> 00:00:06.000\n<v 本人>疲れました。</v><v 支援員>そうですか。</v>\n\n"
        "00:00:06.000 --> 00:00:08.000\n<v 本人>でも楽しかったです。\n"
    )
    text, turns_, _ = parse_subtitles(source, "a.vtt", "vtt")
    assert [(t.speaker, text[t.start : t.end]) for t in turns_] == [
        ("支援員", "今日はどうでしたか。"),
        ("本人", "疲れました。"),
        ("支援員", "そうですか。"),
        ("本人", "でも楽しかったです。"),
    ]
