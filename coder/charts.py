"""Charts as files: the matrix as a heatmap or per-code bars, and the code co-occurrence network.

Formats: ``png`` (DPI dots per inch, about 1,200 px wide: a page width of an A4 report) and ``svg``
(text drawn as paths, so the file looks the same on machines without a Japanese font; the same
input gives a byte-identical file: fixed ``svg.hashsalt``, no date in the metadata).

Japanese text is drawn with IPAexGothic, the font file shipped inside the ``matplotlib-fontja``
package, registered from that file (no system CJK font and no download needed). Figures are built
with matplotlib's object API (``matplotlib.figure.Figure`` on an Agg canvas, never pyplot), so
there is no global figure state and the web server's threads can draw at the same time; matplotlib
is imported on first use, so ``coder --help`` and the web app start fast.

The network follows KH Coder's co-occurrence network: nodes are codes (area ∝ frequency at the
level, colour = community by greedy modularity), edges the EDGES (60, KH Coder's default) pairs
with the highest Jaccard coefficient among those co-occurring at least once, width ∝ Jaccard (the
strongest drawn edge is the widest; up to LABELLED_EDGES edges are labelled with their coefficient);
layout: networkx ``spring_layout`` with a fixed seed (deterministic).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

from .errors import CoderError, NotFound
from .speakers import PERSPECTIVES

FORMATS = ("png", "svg")
MEASURES = ("segments", "share")
DPI = 150
WIDTH = 8.0  # inches: 1,200 px at DPI
EDGES = 60
LABELLED_EDGES = 20  # up to this many edges carry their Jaccard coefficient as a label
SEED = 7
FONT = "IPAexGothic"
EMPTY = "コーディングされたセグメントはまだありません"
_LOCK = threading.Lock()
_READY: list[bool] = []  # set once the font and output settings are registered


def font_path() -> Path:
    """The IPAexGothic file inside the installed ``matplotlib_fontja`` package (not imported: its
    import would restyle every matplotlib figure of the process). ``CoderError`` if missing."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf" if spec else None
    if path is None or not path.is_file():
        raise CoderError("charts need the Japanese font of matplotlib-fontja: pip install 'matplotlib-fontja>=1.0'")
    return path


def _setup():
    """Register the font and the output settings, once per process (under a lock)."""
    with _LOCK:
        if not _READY:
            import matplotlib
            from matplotlib import font_manager

            font_manager.fontManager.addfont(str(font_path()))
            # DejaVu Sans (shipped with matplotlib) only for the odd symbol IPAexGothic lacks
            matplotlib.rcParams.update(
                {
                    "font.family": [FONT, "DejaVu Sans"],
                    "svg.fonttype": "path",
                    "svg.hashsalt": "coder",
                    "axes.unicode_minus": False,
                }
            )
            _READY.append(True)


def _figure(width: float, height: float):
    _setup()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, out, fmt: str):
    """Write ``fig`` to a path (returned as a ``Path``) or a binary file-like (returned as is)."""
    metadata = {"Date": None} if fmt == "svg" else {}
    target = out if hasattr(out, "write") else Path(out)
    fig.savefig(target, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")
    return target


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise CoderError(f"chart format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _wrap(text: str, width: int = 12, lines: int = 2) -> str:
    """Japanese has no spaces to break at: cut every ``width`` characters, at most ``lines`` lines,
    the last one ending in … when the name is longer."""
    parts = [text[i : i + width] for i in range(0, len(text), width)] or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1] + "…"
    return "\n".join(parts)


def _title(noun: str, data: dict, narrow: bool = False) -> str:
    """The chart's title: what it shows, its source (on a line of its own in a narrow figure), the
    attribute filter and, for the model's suggestions, the unconfirmed warning."""
    title = f"{noun}\n出典：{data['source_label']}" if narrow else f"{noun}（出典：{data['source_label']}）"
    if data.get("where"):
        title += "\n対象：" + "、".join(f"{k}={v}" for k, v in data["where"].items())
    if data.get("unconfirmed"):
        title += "\n※提案のみ・未確認（分析者による確認を経ていません）"
    return title


def _empty(fmt: str, out, title: str):
    fig = _figure(WIDTH, 3.0)
    fig.suptitle(title, fontsize=12)
    fig.text(0.5, 0.45, EMPTY, ha="center", va="center", fontsize=14, color="#555555")
    return _save(fig, out, fmt)


def _row_label(matrix: dict, key: str) -> str:
    return PERSPECTIVES.get(key, key) if matrix["by"] == "perspective" else key


def _coded(matrix: dict) -> bool:
    return any(c["segments"] for row in matrix["cells"].values() for c in row.values())


def heatmap(matrix: dict, codebook, out, fmt: str = "png", measure: str = "segments"):
    """The matrix (``coder.matrix.build``) as a heatmap: one image row per code, one column per
    matrix row; colour = ``measure`` (``segments`` or ``share``, the share of the row's segments),
    each cell annotated "segments（interviewees人）". Writes ``out`` (a path or a binary file-like)
    and returns it; ``CoderError`` for a bad ``fmt`` or ``measure``. A matrix without codings
    draws a message instead."""
    from .matrix import row_noun

    _check(fmt)
    if measure not in MEASURES:
        raise CoderError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    title = _title(f"{row_noun(matrix['by'])} × コード", matrix)
    if not _coded(matrix):
        return _empty(fmt, out, title)
    import numpy as np
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    rows, codes = matrix["rows"], matrix["codes"]
    cells = [[matrix["cells"][k][c] for k in rows] for c in codes]
    values = np.array([[cell[measure] for cell in line] for line in cells], dtype=float)
    fig = _figure(min(max(WIDTH, 2.6 + 1.3 * len(rows)), 16.0), 1.8 + 0.5 * len(codes))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=values.max() or 1, aspect="auto")
    for i, line in enumerate(cells):
        for j, cell in enumerate(line):
            text = f"{cell['segments']}（{cell['interviewees']}人）"
            if measure == "share":
                text += f"\n{cell['share']:.0%}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if values[i, j] > 0.6 * (values.max() or 1) else "black",
            )
    ax.set_xticks(
        range(len(rows)), [f"{_wrap(_row_label(matrix, k), 8)}\n（{matrix['totals'][k]}）" for k in rows], fontsize=9
    )
    ax.set_yticks(range(len(codes)), [_wrap(codebook.code(c).name, 14) for c in codes], fontsize=9)
    ax.tick_params(top=False, bottom=False, left=False)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("セグメント数" if measure == "segments" else "割合")
    if measure == "segments":
        bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(f"{row_noun(matrix['by'])}（括弧内はその行のセグメント数）　セル：セグメント数（話者数）", fontsize=8)
    return _save(fig, out, fmt)


def bars(matrix: dict, codebook, out, fmt: str = "png", code: str | None = None):
    """Per-code bars: for each matrix row, its coded segments and interviewees side by side. With
    ``code`` one chart for that code, else small multiples of every code (two columns). Writes
    ``out`` (a path or a binary file-like) and returns it; ``NotFound`` for a code the matrix does
    not have, ``CoderError`` for a bad ``fmt``. A matrix without codings draws a message instead."""
    from matplotlib.ticker import MaxNLocator

    from .matrix import row_noun

    _check(fmt)
    if code is not None and code not in matrix["codes"]:
        raise NotFound(f"no code {code!r} in the codebook (have: {', '.join(matrix['codes'])})")
    codes = [code] if code else matrix["codes"]
    noun = row_noun(matrix["by"])
    title = (
        _title(f"コード別 {noun}ごとのセグメント数と話者数", matrix)
        if not code
        else _title(f"{_wrap(codebook.code(code).name, 24)}\n{noun}ごとのセグメント数と話者数", matrix, narrow=True)
    )
    if not _coded(matrix):
        return _empty(fmt, out, title)
    rows, columns = matrix["rows"], 1 if code else 2
    lines = -(-len(codes) // columns)
    fig = _figure(WIDTH if columns == 2 else 6.5, 1.2 + (3.6 if code else 2.5) * lines)
    axes = fig.subplots(lines, columns, squeeze=False, sharey=not code)
    top = max(max(row[c]["segments"], row[c]["interviewees"]) for row in matrix["cells"].values() for c in codes)
    labels = [_wrap(_row_label(matrix, k), 6) for k in rows]
    for n, ax in enumerate(axes.flat):
        if n >= len(codes):
            ax.set_visible(False)
            continue
        cells = [matrix["cells"][k][codes[n]] for k in rows]
        at = range(len(rows))
        for shift, key, label, colour in (
            (-0.2, "segments", "セグメント数", "#3b75af"),
            (0.2, "interviewees", "話者数", "#f0a04b"),
        ):
            heights = [c[key] for c in cells]
            drawn = ax.bar([x + shift for x in at], heights, width=0.4, label=label, color=colour)
            ax.bar_label(drawn, fontsize=7, padding=1)
        ax.set_xticks(list(at), labels, fontsize=8)
        ax.set_ylim(0, top * 1.2 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if not code:  # the figure's title names a single code already
            ax.set_title(_wrap(codebook.code(codes[n]).name, 20), fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    return _save(fig, out, fmt)


def network(co: dict, codebook, out, fmt: str = "png", level: str = "segment", min_count: int = 1):
    """The co-occurrence network (``coder.cooccurrence.compute``) at ``level`` (``segment`` or
    ``interview``): codes with at least ``min_count`` segments (interviews) as nodes, area ∝ that
    frequency; the EDGES pairs with the highest Jaccard coefficient among those co-occurring at
    that level, width ∝ Jaccard. Writes ``out`` (a path or a binary file-like) and returns it;
    ``CoderError`` for a bad ``fmt`` or ``level``. No codings: a message instead."""
    from .cooccurrence import LEVEL_LABELS, LEVELS

    _check(fmt)
    if level not in LEVELS:
        raise CoderError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    frequency = co["frequency"][level]
    nodes = [c for c in co["codes"] if frequency.get(c, 0) >= max(min_count, 1)]
    count, ratio = ("segments", "jaccard_segment") if level == "segment" else ("interviews", "jaccard_interview")
    edges = sorted(
        (p for p in co["pairs"] if p[count] and p["a"] in nodes and p["b"] in nodes), key=lambda p: -p[ratio]
    )[:EDGES]
    title = _title(f"コードの共起ネットワーク（{LEVEL_LABELS[level]}単位）", co)
    if not nodes:
        return _empty(fmt, out, title)
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_weighted_edges_from((p["a"], p["b"], p[ratio]) for p in edges)
    where = nx.spring_layout(graph, seed=SEED, weight="weight", k=1.6 / max(len(nodes), 1) ** 0.5)
    group = {
        c: i
        for i, members in enumerate(nx.community.greedy_modularity_communities(graph, weight="weight"))
        for c in members
    }
    fig = _figure(WIDTH, 7.0)
    ax = fig.add_subplot()
    strongest = max((p[ratio] for p in edges), default=1)
    for p in edges:
        (x1, y1), (x2, y2) = where[p["a"]], where[p["b"]]
        ax.plot(
            [x1, x2],
            [y1, y2],
            color="#8a8a8a",
            linewidth=0.5 + 5 * p[ratio] / strongest,
            zorder=1,
            solid_capstyle="round",
        )
        if len(edges) <= LABELLED_EDGES:
            ax.text(
                (x1 + x2) / 2,
                (y1 + y2) / 2,
                f"{p[ratio]:.2f}",
                fontsize=6,
                color="#555555",
                ha="center",
                va="center",
                zorder=2,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"},
            )
    top = max(frequency[c] for c in nodes)
    colours = ["#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#fccde5", "#d9d9d9"]
    ax.scatter(
        [where[c][0] for c in nodes],
        [where[c][1] for c in nodes],
        zorder=3,
        edgecolors="#555555",
        s=[max(2800 * frequency[c] / top, 60) for c in nodes],
        c=[colours[group[c] % len(colours)] for c in nodes],
    )
    for c in nodes:
        ax.text(
            *where[c],
            f"{_wrap(codebook.code(c).name, 8)}\n（{frequency[c]}）",
            fontsize=8,
            ha="center",
            va="center",
            zorder=4,
        )
    ax.margins(0.18)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    fig.text(
        0.5,
        0.01,
        f"円の大きさ＝出現数、線の太さ＝Jaccard 係数（上位 {EDGES} 本まで、{len(edges)} 本を表示）",
        ha="center",
        fontsize=8,
        color="#555555",
    )
    return _save(fig, out, fmt)
