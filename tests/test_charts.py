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
