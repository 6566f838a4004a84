import io
import re
import struct
import warnings
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from coder import charts, cooccurrence, matrix
from coder.cli import cli
from coder.db import open_db
from coder.errors import CoderError, NotFound

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def coded(two_analysts, project):
    """The kaede project coded by hanako and taro (see conftest.two_analysts), open."""
    database = open_db(project)
    yield database
    database.close()


def draw(kind, data, codebook, fmt="svg", **options):
    out = io.BytesIO()
    getattr(charts, kind)(data, codebook, out, fmt, **options)
    return out.getvalue()


def texts(svg: bytes) -> list[str]:
    """The chart's lines of text: with text drawn as paths, matplotlib keeps each as an XML comment."""
    return re.findall(r"<!-- (.*?) -->", svg.decode("utf-8"), flags=re.S)


def shows(svg: bytes, *lines: str) -> bool:
    """Whether the chart draws these lines one after the other (a wrapped label, say)."""
    return "\n".join(lines) in "\n".join(texts(svg))


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("kind", ["heatmap", "bars"])
def test_png_has_the_signature_and_a_report_sized_width(coded, codebook, kind):
    data = draw(kind, matrix.build(coded, codebook, source="hanako", quotes=0), codebook, "png")
    width, height = png_size(data)
    assert data.startswith(PNG) and 900 <= width <= 1800 and 300 <= height <= 2400


def test_heatmap_names_codes_in_japanese_and_annotates_segments_and_interviewees(coded, codebook):
    svg = draw("heatmap", matrix.build(coded, codebook, source="hanako", quotes=0), codebook)
    ElementTree.fromstring(svg)  # parses as XML
    assert shows(svg, "当事者", "（3）") and shows(svg, "関係者間の情報共有") and "2（1人）" in texts(svg)
    assert not any("未確認" in t for t in texts(svg))


def test_japanese_text_is_drawn_with_the_bundled_ipaex_font_and_no_glyph_is_missing(coded, codebook):
    from matplotlib import font_manager, rcParams

    m = matrix.build(coded, codebook, source="hanako", quotes=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = draw("heatmap", m, codebook) + draw("bars", m, codebook, "png")
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []
    resolved = font_manager.findfont(
        font_manager.FontProperties(family=rcParams["font.family"]), fallback_to_default=False
    )
    assert resolved == str(charts.font_path()) and b'id="IPAexGothic-' in svg


@pytest.mark.parametrize("kind", ["heatmap", "bars", "network"])
def test_same_input_gives_byte_identical_svg(coded, codebook, kind):
    data = (
        cooccurrence.compute(coded, codebook, source="hanako")
        if kind == "network"
        else matrix.build(coded, codebook, source="hanako", quotes=0)
    )
    assert draw(kind, data, codebook) == draw(kind, data, codebook)


@pytest.mark.parametrize("kind", ["heatmap", "bars", "network"])
def test_nothing_coded_draws_the_message_instead_of_failing(db, codebook, kind):
    data = cooccurrence.compute(db, codebook) if kind == "network" else matrix.build(db, codebook, quotes=0)
    assert charts.EMPTY in texts(draw(kind, data, codebook))


def test_suggestions_only_chart_says_so_in_its_title(coded, codebook):
    sid = coded.execute("select min(id) from segments where text like '%共有%'").fetchone()[0]
    coded["suggestions"].insert(
        {
            "segment_id": sid,
            "code": "handover",
            "score": 0.9,
            "threshold": 0.6,
            "selected": 1,
            "reasons": "[]",
            "suggesters": "rules.v1",
            "codebook_version": "x",
            "created_at": "t",
        }
    )
    m = matrix.build(coded, codebook, source="model", quotes=0)
    assert m["unconfirmed"] and any("提案のみ・未確認" in t for t in texts(draw("heatmap", m, codebook)))


def test_bars_for_one_code_and_small_multiples_of_every_code(coded, codebook):
    m = matrix.build(coded, codebook, source="hanako", quotes=0)
    one, every = texts(draw("bars", m, codebook, code="information_sharing")), texts(draw("bars", m, codebook))
    assert "関係者間の情報共有\n立場ごとのセグメント数と話者数" in "\n".join(one) and "円滑な引き継ぎ" not in one
    assert {"関係者間の情報共有", "円滑な引き継ぎ", "セグメント数", "話者数"} <= set(every)
    with pytest.raises(NotFound, match="nobody"):
        draw("bars", m, codebook, code="nobody")


def test_long_code_names_are_wrapped(coded, codebook):
    svg = draw("heatmap", matrix.build(coded, codebook, source="hanako", quotes=0), codebook)
    assert shows(svg, "関係機関間での支援の考え方の", "すり合わせ")  # 19 characters on two lines


def test_network_draws_codes_sized_by_frequency_and_edges_by_jaccard(coded, codebook):
    co = cooccurrence.compute(coded, codebook, source="all")  # taro's value_alignment shares b with sharing
    svg = draw("network", co, codebook)
    assert shows(svg, "関係者間の情報共", "有", "（2）") and "0.50" in texts(svg)  # Jaccard of {b} in {a, b}


@pytest.mark.parametrize(
    "call",
    [
        lambda m, book: draw("heatmap", m, book, "pdf"),
        lambda m, book: draw("heatmap", m, book, measure="nobody"),
    ],
)
def test_bad_format_or_measure_is_a_clear_error(coded, codebook, call):
    with pytest.raises(CoderError, match="must be one of"):
        call(matrix.build(coded, codebook, source="hanako", quotes=0), codebook)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_web_images_for_an_analyst_with_a_download_name(login, two_analysts, fmt):
    client = login("hanako")
    shown = client.get(f"/charts/heatmap.{fmt}?source=hanako&measure=share")
    saved = client.get(f"/charts/bars.{fmt}?source=consensus&code=information_sharing&download=1")
    assert shown.status_code == saved.status_code == 200
    assert shown.mimetype == {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    assert saved.headers["Content-Disposition"] == f"attachment; filename=bars.{fmt}"
    assert shown.data.startswith(PNG) if fmt == "png" else ElementTree.fromstring(shown.data) is not None


def test_web_cooccurrence_page_lists_pairs_and_shows_the_network(login, two_analysts):
    page = login("hanako").get("/charts/cooccurrence?source=all&level=interview").get_data(as_text=True)
    assert "関係者間の情報共有" in page and "関係機関間での支援の考え方のすり合わせ" in page and "0.500" in page
    assert 'src="/charts/cooccurrence.png?source=all&amp;level=interview"' in page
    assert login("hanako").get("/charts/cooccurrence.svg?source=all").mimetype == "image/svg+xml"


def test_matrix_page_links_to_its_charts_with_the_current_parameters(login, two_analysts):
    page = login("hanako").get("/matrix/?source=hanako&by=case").get_data(as_text=True)
    links = re.findall(r'href="(/charts/[^"]+)"', page)
    assert any(u.startswith("/charts/heatmap.svg?") and "by=case" in u and "source=hanako" in u for u in links)
    assert 'href="/charts/cooccurrence?source=hanako"' in page


@pytest.mark.parametrize(
    "url",
    [
        "/charts/heatmap.png?source=hanako",
        "/charts/bars.svg?source=all",
        "/charts/cooccurrence?source=consensus",
        "/charts/cooccurrence.png?source=hanako",
    ],
)
def test_blind_analyst_cannot_draw_another_analysts_codes(project, two_analysts, login, url):
    from coder.access import set_blind

    database = open_db(project)
    set_blind(database, True)
    database.close()
    taro = login("taro")
    assert taro.get(url).status_code == 403
    own = re.sub(r"source=\w+", "source=taro", url)
    assert taro.get(own).status_code == 200


@pytest.mark.parametrize(
    "url, status",
    [("/charts/heatmap.png?source=nobody", 404), ("/charts/bars.png?code=nobody", 404), ("/charts/heatmap.pdf", 404)],
)
def test_web_unknown_source_code_or_format_is_a_404(login, two_analysts, url, status):
    assert login("sato").get(url).status_code == status


@pytest.mark.parametrize("kind, fmt", [("heatmap", "png"), ("bars", "svg")])
def test_cli_writes_charts(two_analysts, project, tmp_path, kind, fmt):
    out = tmp_path / f"chart.{fmt}"
    result = CliRunner().invoke(
        cli, ["chart", kind, "--source", "hanako", "--format", fmt, "-o", str(out), "--db", str(project)]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(PNG) if fmt == "png" else "関係者間の情報共有" in texts(data)
