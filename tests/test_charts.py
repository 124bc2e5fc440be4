"""The pack's charts as a reader sees them: every chart on every page of the sample pack,
read from the SVG the page embeds. Text at least 12 px when the chart is shown at its own
width (which fits a laptop's reading column), text at least 4.5:1 and lines at least 3:1
against white (WCAG 2.2, 1.4.3 and 1.4.11)."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest

from daanalysis.present import charts

PX_PER_PT = 96 / 72


def _svgs(pack):
    for page in sorted(pack.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        for data in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", text):
            svg = base64.b64decode(data).decode("utf-8")
            if "<text" in svg and re.search(r'<svg[^>]*width="[\d.]+pt"', svg):
                yield page.name, svg


@pytest.fixture(autouse=True)
def _close_figures():
    """Each test's figures closed after it: pyplot keeps every figure it made until closed."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def svgs(sample_report):
    found = list(_svgs(sample_report))
    assert len(found) >= 8  # the sample pack's charts
    return found


def test_text_at_least_12_px_at_the_charts_own_width(svgs):
    for page, svg in svgs:
        width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))
        # Shown at its own width (at most 7.5 inches = 720 px: inside a laptop's column).
        assert width_pt * PX_PER_PT <= 740, (page, width_pt)
        sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
        assert sizes and min(sizes) * PX_PER_PT >= 12, (page, min(sizes))


def test_text_and_lines_have_contrast_on_white(svgs):
    for page, svg in svgs:
        for style in re.findall(r'<text[^>]*style="([^"]*)"', svg):
            fill = re.search(r"fill: (#[0-9a-fA-F]{6})", style)
            if fill:
                assert charts.contrast(fill.group(1)) >= 4.5, (page, fill.group(1))
        for style in re.findall(r'<path[^>]*style="([^"]*)"', svg):
            stroke = re.search(r"stroke: (#[0-9a-fA-F]{6})", style)
            width = re.search(r"stroke-width: ([\d.]+)", style)
            # Data lines (1.5 pt and over); grid lines and bar outlines are thinner.
            if "fill: none" in style and stroke and width and float(width.group(1)) >= 1.5:
                assert charts.contrast(stroke.group(1)) >= 3, (page, stroke.group(1))


def test_palette_and_text_colour():
    assert all(charts.contrast(c) >= 3 for c in charts.OKABE_ITO)
    assert all(charts.contrast(charts.text_colour(c)) >= 4.5 for c in charts.OKABE_ITO)
    assert charts.text_colour("#0072B2").lower() == "#0072b2"  # already 5.2:1: unchanged
    assert round(charts.contrast("#777777"), 1) == 4.5  # WCAG's own example, 4.48:1


def _response_kpi() -> pd.DataFrame:
    """Four quarters of the response KPI, two of them below the 90% target."""
    return pd.DataFrame(
        {
            "quarter": pd.period_range("2025Q3", periods=4, freq="Q-MAR"),
            "within_kpi_pct": [95.0, 89.5, 91.0, 70.0],
            "target_pct": [90.0] * 4,
            "contacted": [100] * 4,
        }
    )


def test_below_target_bar_is_red_and_label_clear_of_target(tmp_path):
    charts.setup()
    kpi = _response_kpi()
    fig = charts.response_chart(kpi)
    ax = fig.axes[0]
    from matplotlib.colors import to_hex

    colours = [to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert colours == ["#0072b2", "#d55e00", "#0072b2", "#d55e00"]
    assert charts.RAG_COLOURS["red"].lower() == "#d55e00"
    labels = {t.get_text(): t.get_position()[1] for t in ax.texts}
    assert labels["89.5%"] > 90  # above the 90% target line, not across it
    assert labels["70.0%"] == 71.0


def test_streams_are_small_multiples(sample_panel):
    from daanalysis.metrics import demand

    charts.setup()
    panel = sample_panel[sample_panel["area"] == sample_panel["area"].iloc[0]]
    streams = {k: s for k, s in demand.STREAMS.items() if s.kind != "context"}
    campaigns = pd.DataFrame(columns=["name", "start_date", "end_date"])
    fig = charts.streams_chart(panel, streams, campaigns, area="Sampleborough")
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(shown) == fig.da_data["indicator"].nunique()
    assert all(len(ax.get_lines()) <= 3 for ax in shown)  # one stream, the 100 line, campaigns
    assert set(fig.da_data.columns) >= {"month", "index", "indicator"}


def test_forest_plot_title_states_a_finding():
    fits = pd.DataFrame(
        {
            "indicator": ["Self-referrals", "High risk", "Self-referrals", "High risk"],
            "term": ["all campaigns", "all campaigns", "trend (per year)", "trend (per year)"],
            "kind": ["confidence", "need", "confidence", "need"],
            "rate_ratio": [1.30, 1.02, 1.05, 1.04],
            "ci_low": [1.10, 0.90, 1.00, 1.00],
            "ci_high": [1.50, 1.15, 1.10, 1.08],
        }
    )
    charts.setup()
    title = charts.rate_ratio_chart(fits).da_title
    assert title.startswith("After the campaigns, confidence-sensitive streams stepped up 30%")
    assert "need-sensitive streams showed no clear step" in title


def test_every_chart_has_a_phone_rendering(sample_report):
    """Each chart on a page is offered to narrow screens in its own rendering (<picture>),
    no wider than a 390 px phone, so its text is never shrunk below 11 px there (the smallest,
    the 9.5 pt source line, is 12.7 px at the rendering's own width)."""
    for page in sorted(sample_report.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        charts_on_page = re.findall(r'<img class="da-chart" src="data:image/svg', text)
        narrow = re.findall(
            r'<picture><source media="screen and \(max-width: 640px\)" '
            r'srcset="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)">',
            text,
        )
        assert len(narrow) == len(charts_on_page), page.name
        for data in narrow:
            svg = base64.b64decode(data).decode("utf-8")
            width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))
            assert width_pt * PX_PER_PT <= 390, (page.name, width_pt)
            assert charts.NARROW_MARK not in svg


def test_svg_carries_the_phone_rendering_and_gives_it_back():
    charts.setup()
    kpi = _response_kpi()
    fig = charts.response_chart(kpi)
    whole = charts.svg_text(fig)
    wide, narrow = charts.split_narrow(whole)
    assert narrow and charts.NARROW_MARK not in wide and wide.rstrip().endswith("</svg>")
    small = base64.b64decode(narrow).decode("utf-8")
    assert re.search(r'<svg[^>]*width="([\d.]+)pt"', small).group(1) != re.search(
        r'<svg[^>]*width="([\d.]+)pt"', wide
    ).group(1)
    # The phone's chart has the same words and figures as the laptop's.
    for words in ["70.0%", "95.0%", "Target 90%", "below the 90% target"]:
        assert words in wide and words in small, words
    # A figure drawn once (a notebook's own chart) is plain SVG, nothing carried.
    import matplotlib.pyplot as plt

    plain = plt.figure()
    assert charts.split_narrow(charts.svg_text(plain)) == (charts.svg_text(plain), "")
    plt.close(plain)


# --- one draw per rendering (issue 22): the same charts as matplotlib's own tight SVG ---------

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _savefig_svg(fig) -> str:
    """matplotlib's own tight SVG of ``fig`` (``savefig(bbox_inches="tight")``: two draws),
    which :func:`charts._svg` replaces."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "daanalysis"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def _shape_and_numbers(svg: str) -> tuple[str, list[float]]:
    """An SVG as its text with every number taken out, and the numbers. Clip paths' ids are
    hashes of their coordinates, so they are numbered in order of appearance instead."""
    ids: dict[str, str] = {}
    for found in re.finditer(r'(?:id="|#)(p[0-9a-f]{10})', svg):
        ids.setdefault(found.group(1), f"clip-{len(ids)}")
    for old, new in ids.items():
        svg = svg.replace(old, new)
    return _NUMBER.sub("#", svg), [float(x) for x in _NUMBER.findall(svg)]


def _assert_same_picture(ours: str, theirs: str) -> None:
    """The same elements, text, styles and size, every coordinate within 2 millionths of a
    point (the sixth decimal matplotlib writes)."""
    shape, numbers = _shape_and_numbers(ours)
    their_shape, their_numbers = _shape_and_numbers(theirs)
    assert shape == their_shape
    assert len(numbers) == len(their_numbers)
    worst = max((abs(a - b) for a, b in zip(numbers, their_numbers, strict=True)), default=0)
    assert worst <= 2e-6, worst
    size = r'<svg[^>]* width="([^"]*)" height="([^"]*)" viewBox="([^"]*)"'
    assert re.search(size, ours).groups() == re.search(size, theirs).groups()


def _chart_pairs(sample_panel):
    """Each chart drawn twice (two figures alike), its laptop and its phone rendering."""
    from daanalysis.metrics import demand

    panel = sample_panel[sample_panel["area"] == sample_panel["area"].iloc[0]]
    streams = {k: s for k, s in demand.STREAMS.items() if s.kind != "context"}
    campaigns = pd.DataFrame(
        {"name": ["Know the signs"], "start_date": [pd.Timestamp("2023-11-01")]}
    )
    counts = pd.DataFrame(
        {"red": [2, 0], "amber": [1, 3], "green": [4, 1]}, index=["Prevention", "Safety"]
    )
    draws = [
        lambda: charts.response_chart(_response_kpi()),  # hatched bars, a target line
        lambda: charts.streams_chart(panel, streams, campaigns, area="Sampleborough"),
        lambda: charts.rag_chart(counts),  # a legend, hatches, labelled segments
    ]
    for draw in draws:
        first, second = draw(), draw()
        yield first, second
        yield first.da_narrow, second.da_narrow


def test_each_chart_is_the_picture_savefig_would_write(sample_panel):
    """:func:`charts._svg` measures the tight box itself and draws once; the SVG is the one
    ``savefig(bbox_inches="tight")`` writes, to the sixth decimal, at both widths."""
    charts.setup()
    for ours, theirs in _chart_pairs(sample_panel):
        _assert_same_picture(charts._svg(ours), _savefig_svg(theirs))


def test_a_chart_is_drawn_once_for_its_svg(monkeypatch):
    """Each rendering is drawn once to write it (savefig's tight box took two draws)."""
    from matplotlib.figure import Figure

    charts.setup()
    fig = charts.response_chart(_response_kpi())
    draws = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, r: draws.append(self) or original(self, r))
    whole = charts.svg_text(fig)
    assert len(draws) == 2 and set(draws) == {fig, fig.da_narrow}
    assert charts.split_narrow(whole)[1]


def test_figures_of_a_notebooks_own_are_written_as_before():
    """A figure that did not go through the house layout (a notebook's own), and one with a
    layout engine of its own (saved by savefig itself), are the pictures savefig writes."""
    import matplotlib.pyplot as plt

    charts.setup()

    def plain():
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot([1, 2, 3], [3, 1, 2], label="a line")
        ax.set_title("A notebook's own chart")
        ax.legend(loc="best")
        return fig

    def constrained():
        fig, axes = plt.subplots(1, 2, figsize=(5, 3), layout="constrained")
        for ax in axes:
            ax.bar(["one", "two"], [1, 2], hatch="//")
            ax.set_ylabel("count")
        return fig

    for draw in (plain, constrained):
        ours, theirs = draw(), draw()
        _assert_same_picture(charts._svg(ours), _savefig_svg(theirs))
        plt.close(ours)
        plt.close(theirs)


def test_tight_layout_measures_each_axes_once_and_lays_out_as_matplotlib(monkeypatch):
    """:func:`charts.tight_layout` gives the subplot parameters ``fig.tight_layout`` gives,
    measuring each axes once (matplotlib's measures each twice for a ``rect``), and leaves
    nothing of its own on the axes."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    def figure():
        fig, axes = plt.subplots(2, 2, figsize=(6, 4), sharex=True)
        for i, ax in enumerate(axes.flat):
            ax.plot(range(10), [v * (i + 1) for v in range(10)])
            ax.set_title(f"Panel {i + 1}\nwith two lines")
            ax.set_ylabel("referrals per 1,000")
        return fig

    rect = (0, 0.12, 0.9, 0.8)
    theirs, ours = figure(), figure()
    theirs.tight_layout(rect=rect)
    measured = []
    original = Axes.get_tightbbox

    def measure(self, *args, **kwargs):
        measured.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "get_tightbbox", measure)
    charts.tight_layout(ours, rect)
    assert sorted(map(id, measured)) == sorted(map(id, ours.axes))  # once each
    for key in ("left", "right", "bottom", "top", "wspace", "hspace"):
        assert getattr(ours.subplotpars, key) == getattr(theirs.subplotpars, key), key
    assert all("get_tightbbox" not in vars(ax) for ax in ours.axes)
    plt.close(theirs)
    plt.close(ours)


def test_phone_rendering_is_sized_for_a_phone_and_svgs_are_self_contained():
    """The phone's SVG travels inside the laptop's, each laid out for its own width, and
    neither refers to anything outside itself (a page embeds them as data: URLs)."""
    charts.setup()
    fig = charts.response_chart(_response_kpi())
    wide, narrow = charts.split_narrow(charts.svg_text(fig))
    small = base64.b64decode(narrow).decode("utf-8")
    width = lambda svg: float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))  # noqa: E731
    # Each is its figure's width give or take the tight box's margins (0.1 inch a side).
    assert abs(width(small) - charts.NARROW_WIDTH * 72) < 0.5 * 72
    assert abs(width(wide) - charts.FIGSIZE[0] * 72) < 0.5 * 72
    assert width(small) * PX_PER_PT <= 390
    for svg in (wide, small):
        assert "<image" not in svg and "@import" not in svg
        assert not re.search(r'href="(?!#)', svg)  # links only to its own clip paths, marks
        assert not re.search(r"url\((?!#)", svg)
        assert svg.count("<svg") == 1 and svg.rstrip().endswith("</svg>")


def test_text_is_measured_once_a_process_and_the_charts_are_the_same(monkeypatch):
    """:func:`charts.remember_text_sizes` (installed by setup) keeps each string's size for
    the process: the same chart drawn again measures nothing, a changed font setting measures
    afresh, and the SVG is the same to the byte as with matplotlib's per-renderer sizes."""
    import matplotlib.pyplot as plt
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    charts.setup()
    remembered = mtext._get_text_metrics_with_cache
    assert getattr(remembered, "da_remembered", False)  # matplotlib still has the hook
    charts.setup()
    assert mtext._get_text_metrics_with_cache is remembered  # installed once, not twice
    measured = []
    for renderer in (RendererAgg, RendererSVG):
        original = renderer.get_text_width_height_descent

        def counting(self, s, prop, ismath, _original=original):
            measured.append(s)
            return _original(self, s, prop, ismath)

        monkeypatch.setattr(renderer, "get_text_width_height_descent", counting)

    def draw() -> str:
        fig = charts.response_chart(_response_kpi())
        svg = charts.svg_text(fig)
        plt.close(fig)
        return svg

    once = draw()
    measured.clear()
    assert draw() == once and measured == []  # every string's size remembered
    with plt.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        draw()
    assert "Target 90%" in measured  # another font setting: measured again
    monkeypatch.setattr(mtext, "_get_text_metrics_with_cache", remembered.da_measure)
    assert draw() == once  # matplotlib's own sizes: the same chart
