import io
import zipfile

import pytest

from coder.errors import IngestError
from coder.formats.word import read_word
from coder.types import Note

NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
REVIEW = 'w:author="確認者" w:date="2026-03-01T10:00:00Z"'


def r(text):
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def p(*content, mark=""):
    return f"<w:p>{'<w:pPr><w:rPr>' + mark + '</w:rPr></w:pPr>' if mark else ''}{''.join(content)}</w:p>"


def ins(text, i=2):
    return f'<w:ins w:id="{i}" {REVIEW}>{r(text)}</w:ins>'


def dele(text, i=1):
    return f'<w:del w:id="{i}" {REVIEW}><w:r><w:delText xml:space="preserve">{text}</w:delText></w:r></w:del>'


DELETED_MARK = f'<w:del w:id="9" {REVIEW}/>'


def make_docx(body, parts=(), sect=""):
    """A real .docx: python-docx's blank document with our body and extra parts (name, rel type, content type, xml)."""
    import docx

    blank = io.BytesIO()
    docx.Document().save(blank)
    out = io.BytesIO()
    with zipfile.ZipFile(blank) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item).decode() if item.filename.endswith((".xml", ".rels")) else src.read(item)
            if item.filename == "word/document.xml":
                data = f"<w:document {NS}><w:body>{body}<w:sectPr>{sect}</w:sectPr></w:body></w:document>"
            elif item.filename == "word/_rels/document.xml.rels":
                rels = "".join(
                    f'<Relationship Id="rIdT{i}" Type="{REL}{kind}" Target="{name}"/>'
                    for i, (name, kind, _, _) in enumerate(parts)
                )
                data = data.replace("</Relationships>", rels + "</Relationships>")
            elif item.filename == "[Content_Types].xml":
                types = "".join(
                    f'<Override PartName="/word/{name}" ContentType="{WML}{ctype}+xml"/>' for name, _, ctype, _ in parts
                )
                data = data.replace("</Types>", types + "</Types>")
            dst.writestr(item, data)
        for name, _, _, xml in parts:
            dst.writestr(f"word/{name}", xml)
    return out.getvalue()


def read(body, **kwargs):
    return read_word(make_docx(body, **kwargs), "review.docx")


def test_tracked_insertions_are_kept_and_deletions_left_out_and_reported():
    answer = p(r("本人：支援員さんが"), dele("いくつか"), ins("三つの会社を"), r("紹介してくれて、"))
    inserted_answer = p(ins("本人：通勤の時間が短いことです。", 3), mark=f'<w:ins w:id="4" {REVIEW}/>')
    word = read(p(r("聞き手：どう決まりましたか。")) + answer + p(r("聞き手：大事にしたことは？")) + inserted_answer)
    assert word.text == (
        "聞き手：どう決まりましたか。\n\n本人：支援員さんが三つの会社を紹介してくれて、\n\n"
        "聞き手：大事にしたことは？\n\n本人：通勤の時間が短いことです。\n"
    )
    assert word.notes == [
        Note("", "tracked changes read as accepted (Word's final view): 2 insertion(s) kept, 1 deletion(s) left out"),
        Note("paragraph 2", "deleted text left out (tracked change)", "いくつか"),
    ]


@pytest.mark.parametrize(
    "body, where",
    [
        (p(r("一")) + p(dele("消した段落"), mark=DELETED_MARK) + p(r("二")), "paragraph 2"),
        (p(r("一")) + p(dele("消した段落"), mark=DELETED_MARK), "after paragraph 1"),
    ],
)
def test_a_deleted_paragraph_is_reported_at_the_next_paragraph_or_after_the_last(body, where):
    word = read(body)
    assert "消した段落" not in word.text
    assert Note(where, "deleted text left out (tracked change)", "消した段落") in word.notes


def test_a_moved_paragraph_appears_once_at_its_new_place():
    def moved(kind):
        return p(f'<w:{kind} w:id="5" {REVIEW}>{r("本人：はい。")}</w:{kind}>', mark=f'<w:{kind} w:id="6" {REVIEW}/>')

    moved_away, moved_here = moved("moveFrom"), moved("moveTo")
    word = read(moved_away + p(r("聞き手：質問です。")) + moved_here)
    assert word.text == "聞き手：質問です。\n\n本人：はい。\n"
    assert Note("paragraph 1", "moved text left out at its old place (tracked move)", "本人：はい。") in word.notes


def test_a_deleted_paragraph_mark_joins_two_paragraphs():
    word = read(p(r("本人：自分で"), mark=DELETED_MARK) + p(r("選びました。")))
    assert word.text == "本人：自分で選びました。\n"
    assert word.paragraphs == [0]
    assert word.notes[1].where == "paragraph 1" and "paragraph mark" in word.notes[1].what


@pytest.mark.parametrize(
    "field",
    [
        (
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:instrText xml:space="preserve"> DATE \\@ "yyyy/M/d" </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            + r("2026/3/1")
            + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        ),
        '<w:fldSimple w:instr=" DATE \\@ &quot;yyyy/M/d&quot; ">' + r("2026/3/1") + "</w:fldSimple>",
    ],
)
def test_field_codes_are_left_out_and_field_results_kept(field):
    assert read(p(r("日時："), field)).text == "日時：2026/3/1\n"


def test_alternate_content_is_read_once():
    alternate = (
        f'<mc:AlternateContent><mc:Choice Requires="w14">{r("本人：はい。")}</mc:Choice>'
        f"<mc:Fallback>{r('本人：はい。')}</mc:Fallback></mc:AlternateContent>"
    )
    assert read(p(alternate)).text == "本人：はい。\n"


def test_a_text_box_is_left_out_and_reported_once():
    box = f"<w:txbxContent>{p(r('枠内のメモ'))}</w:txbxContent>"
    drawing = (
        f'<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
        f"<wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
        f"</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>"
        f"</mc:Fallback></mc:AlternateContent></w:r>"
    )
    word = read(p(r("聞き手：")) + p(r("本人：はい。"), drawing))
    assert word.text == "聞き手：\n\n本人：はい。\n"
    assert word.notes == [Note("paragraph 2", "text box left out", "枠内のメモ")]


def test_comments_are_left_out_and_reported_at_their_paragraph():
    comments = (
        f'<w:comments {NS}><w:comment w:id="0" w:author="確認者">{p(r("聞き取りにくい箇所"))}</w:comment>'
        f'<w:comment w:id="1">{p(r("要確認"))}</w:comment></w:comments>'
    )
    answer = p(
        '<w:commentRangeStart w:id="0"/>',
        r("本人：はい。"),
        '<w:commentRangeEnd w:id="0"/>',
        '<w:r><w:commentReference w:id="0"/></w:r>',
        '<w:r><w:commentReference w:id="1"/></w:r>',
    )
    body = p(r("聞き手：質問です。")) + answer
    word = read(body, parts=[("comments.xml", "comments", "comments", comments)])
    assert word.text == "聞き手：質問です。\n\n本人：はい。\n"
    assert word.notes == [
        Note("paragraph 2", "comment left out (確認者)", "聞き取りにくい箇所"),
        Note("paragraph 2", "comment left out", "要確認"),
    ]


def test_headers_footers_and_footnotes_are_left_out_and_reported():
    header = f"<w:hdr {NS}>{p(r('インタビュー記録　社外秘'))}</w:hdr>"
    footer = f"<w:ftr {NS}>{p(r('1'))}</w:ftr>"
    footnotes = (
        f'<w:footnotes {NS}><w:footnote w:type="separator" w:id="-1">{p("<w:r><w:separator/></w:r>")}'
        f'</w:footnote><w:footnote w:id="1">{p(r("地域の就労支援事業所。"))}</w:footnote></w:footnotes>'
    )
    sect = (
        '<w:headerReference w:type="default" r:id="rIdT0"/><w:headerReference w:type="first" r:id="rIdT0"/>'
        '<w:footerReference w:type="default" r:id="rIdT1"/>'
    )
    reference = '<w:r><w:footnoteReference w:id="1"/></w:r>'
    body = p(r("聞き手：質問です。")) + p(r("本人：事業所で"), reference, r("働きます。"))
    word = read(
        body,
        sect=sect,
        parts=[
            ("header1.xml", "header", "header", header),
            ("footer1.xml", "footer", "footer", footer),
            ("footnotes.xml", "footnotes", "footnotes", footnotes),
        ],
    )
    assert word.text == "聞き手：質問です。\n\n本人：事業所で働きます。\n"
    assert word.notes == [
        Note("paragraph 2", "footnote left out", "地域の就労支援事業所。"),
        Note("header", "header left out", "インタビュー記録 社外秘"),
        Note("footer", "footer left out", "1"),
    ]


LONG = "二〇二六年三月一日に市内の事業所で行った第一回目のインタビュー"  # more than 24 characters: not a speaker


def table(*rows):
    return (
        "<w:tbl>"
        + "".join("<w:tr>" + "".join(f"<w:tc>{p(r(c)) if c else p()}</w:tc>" for c in row) + "</w:tr>" for row in rows)
        + "</w:tbl>"
    )


@pytest.mark.parametrize(
    "row, block",
    [
        (("聞き手", "質問"), "聞き手：質問"),
        (("本人", "はい。", "そうです。"), "本人：はい。 そうです。"),
        (("", "本人", "はい。"), "本人：はい。"),
        ((LONG, "記録"), LONG + "\n記録"),
        (("メモのみ", ""), "メモのみ"),
    ],
)
def test_a_table_row_with_a_short_first_cell_reads_as_a_speaker_label(row, block):
    assert read(table(row)).text == block + "\n"


def test_a_nested_table_and_an_inserted_cell_text_are_read():
    inner = table(("本人", "はい。"))
    word = read(f"<w:tbl><w:tr><w:tc>{p(r('聞き手'))}</w:tc><w:tc>{p(ins('質問'))}{inner}{p()}</w:tc></w:tr></w:tbl>")
    assert word.text == "聞き手：質問\n本人：はい。\n"


@pytest.mark.parametrize(
    "content, text",
    [
        (r("本人：はい。") + "<w:r><w:br/></w:r>" + r("続けます。"), "本人：はい。\n続けます。"),
        (r("本人：はい。") + "<w:r><w:br/><w:br/><w:cr/></w:r>" + r("続けます。"), "本人：はい。\n続けます。"),
        (
            "<w:r><w:t>聞き手</w:t><w:tab/><w:t>Wi</w:t><w:softHyphen/><w:t>Fi</w:t><w:noBreakHyphen/><w:t>6</w:t></w:r>",
            "聞き手\tWiFi-6",
        ),
        (
            (
                f'<w:hyperlink r:id="rIdX">{ins("リンク")}</w:hyperlink><w:smartTag w:element="x">{r("タグ")}</w:smartTag>'
                f"<w:sdt><w:sdtPr/><w:sdtContent>{r('入力欄')}</w:sdtContent></w:sdt>"
                f'<w:customXml w:element="y">{r("独自")}</w:customXml>'
            ),
            "リンクタグ入力欄独自",
        ),
    ],
)
def test_run_content_reads_as_word_shows_it(content, text):
    assert read(p(content)).text == text + "\n"


def test_ruby_reads_as_its_base_and_the_reading_is_reported():
    ruby = (
        "<w:r><w:ruby><w:rubyPr/><w:rt><w:r><w:t>しえんいん</w:t></w:r></w:rt>"
        "<w:rubyBase><w:r><w:t>支援員</w:t></w:r></w:rubyBase></w:ruby></w:r>"
    )
    word = read(p(r("本人："), ruby, r("さんが")))
    assert word.text == "本人：支援員さんが\n"
    assert word.notes == [Note("paragraph 1", "ruby reading (furigana) left out", "支援員（しえんいん）")]


def test_paragraph_offsets_point_to_each_block_start():
    blocks = ["聞き手：𠮷野家ですか？", "本人：ｈａｌｆ　and full width。\n二行目", "聞き手：質問", "終わり"]
    two_lines = p(r("本人：ｈａｌｆ　and full width。"), "<w:r><w:br/></w:r>", r("二行目"))
    body = (
        p(r("　聞き手：𠮷野家ですか？ "))
        + p()
        + two_lines
        + table(("聞き手", "質問"))
        + f"<w:sdt><w:sdtContent>{p(r('終わり'))}</w:sdtContent></w:sdt>"
    )
    word = read(body)
    assert word.text == "\n\n".join(blocks) + "\n"
    assert len(word.paragraphs) == len(blocks)
    assert all(word.text[start:].startswith(block) for start, block in zip(word.paragraphs, blocks, strict=True))


@pytest.mark.parametrize("data", [b"PK\x03\x04 not a zip", b"", "truncated"])
def test_an_unreadable_file_fails_clearly(data):
    if data == "truncated":
        whole = make_docx(p(r("聞き手：よろしくお願いします。")))
        data = whole[: len(whole) // 2]
    with pytest.raises(IngestError, match="cut.docx: not a readable .docx file"):
        read_word(data, "cut.docx")


@pytest.mark.parametrize("body", ["", p() + p(r("　")), p(dele("全部消した"), mark=DELETED_MARK)])
def test_a_file_without_text_fails_clearly(body):
    with pytest.raises(IngestError, match="empty.docx: the .docx file has no text"):
        read_word(make_docx(body), "empty.docx")
