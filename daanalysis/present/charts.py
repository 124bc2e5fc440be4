"""One house style for charts, to the Government Analysis Function's chart guidance.

Every chart has a title that states the finding, a subtitle with the area and period, a source
note, direct labels instead of legends where possible, horizontal text, plain-number axes and the
Okabe-Ito colour-blind-safe palette; RAG is shown by pattern and label as well as colour. Each
chart function returns a matplotlib ``Figure`` carrying ``da_title``, ``da_alt`` (alternative
text with the finding and the range) and ``da_data`` (the data behind it, for the CSV download):
:meth:`daanalysis.present.page.Page.chart` shows it as SVG with that alt text. Each chart function
also draws the chart for a phone (``fig.da_narrow``, 3.75 inches wide, laid out for that width:
:func:`two_widths`), which the page shows on narrow screens instead of shrinking the laptop's.

The style is matplotlib settings only. Version 1 took its base from seaborn's ``whitegrid``
theme, which was all it used seaborn for; those settings are written out below (``BASE_STYLE``),
so charts are unchanged while each notebook's kernel no longer imports seaborn and, through it,
``scipy.stats`` (about 1.5 s a kernel: ``benchmarks/bench_report.py``). Periods are converted
to timestamps before plotting, because pyarrow-backed or Period columns break plotting.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import io
from collections.abc import Callable

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.ticker import FuncFormatter

from daanalysis.config import Config, response_window
from daanalysis.periods import quarter_label

# Inches. A chart is shown at its own size (96 px an inch) or smaller: at 7 inches (672 px) it
# fits a laptop's reading column unscaled, so text of TEXT_PT points is TEXT_PT * 96 / 72 px
# (10 pt = 13.3 px; the issue asks for at least 12 px at 1280 px wide).
FIGSIZE = (7.0, 4.6)
TITLE_PT, SUBTITLE_PT, TEXT_PT, SOURCE_PT = 13.0, 10.5, 10.0, 9.5
# A phone's rendering of each chart (issue 21): 3.75 inches is 360 px, the reading column of a
# 390 px phone, so the same point sizes reach the reader unscaled (10 pt = 13.3 px, the 9.5 pt
# source line 12.7 px) instead of the laptop chart shrunk to about half (7 px). The title is a
# little smaller there, so that a long finding takes fewer lines of a narrow screen.
NARROW_WIDTH = 3.75
NARROW_TITLE_PT = 11.5
# Set while a chart function draws its narrow rendering (see :func:`two_widths`).
_NARROW = contextvars.ContextVar("daanalysis_narrow_chart", default=False)
# How the narrow rendering travels inside the laptop chart's SVG (an XML comment holding it in
# base64, which has no "--"), from the notebook to the page, where daanalysis.pack.export
# takes it out and the template offers it to narrow screens through <picture>.
NARROW_MARK = "da-narrow:"
# Okabe-Ito, distinguishable under the common colour-vision deficiencies, with its orange
# (#E69F00, 2.2:1 on white) and sky blue (#56B4E9, 2.3:1) darkened to 4.2:1 and 3.7:1, so
# every line is at least 3:1 against white (WCAG 2.2, 1.4.11 non-text contrast). Text in a
# line's colour is darkened further to 4.5:1 (:func:`text_colour`).
OKABE_ITO = ["#0072B2", "#B36B00", "#009E73", "#D55E00", "#3C8DBF", "#CC79A7", "#000000"]
PALETTE = {"confidence": "#0072B2", "need": "#D55E00", "context": "#595959"}
MARKERS = {"confidence": "o", "need": "s", "context": "D"}
BAND_COLOUR = "#009E73"
CAMPAIGN_COLOUR = "#595959"
RAG_COLOURS = {
    "red": "#D55E00",
    "amber": "#E69F00",
    "amber/green": "#F0E442",
    "green": "#009E73",
    "not rated": "#BBBBBB",
    "unknown": "#DDDDDD",
}
# RAG also by pattern, so that it survives greyscale print and colour-vision deficiency.
RAG_HATCHES = {
    "red": "xx",
    "amber": "//",
    "amber/green": "..",
    "green": "",
    "not rated": "--",
    "unknown": "",
}
# seaborn 0.13.2's ``set_theme(context="notebook", style="whitegrid", font_scale=0.9)``, the
# base of the house style (grey spines and grid, no tick marks, type sized for a 8-inch figure).
BASE_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": ".8",
    "axes.labelcolor": ".15",
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.linewidth": 1.25,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "grid.linewidth": 1,
    "text.color": ".15",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.top": False,
    "ytick.right": False,
    "xtick.bottom": False,
    "ytick.left": False,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1,
    "ytick.minor.width": 1,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "xtick.minor.size": 4,
    "ytick.minor.size": 4,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "patch.linewidth": 1,
    "image.cmap": "viridis",
    "font.size": 10.8,
    "axes.labelsize": 10.8,
    "axes.titlesize": 10.8,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10.8,
}
DEFAULT_SOURCE = "Source: commissioned service case records; analysis by daanalysis."
# The action plan's chart is of the plan's reviews, not of case records.
ACTION_PLAN_SOURCE = (
    "Source: action plan review meetings of the partnership; analysis by daanalysis."
)


def contrast(colour: str, background: str = "white") -> float:
    """WCAG 2.2 contrast ratio of ``colour`` against ``background`` (1 to 21)."""
    from matplotlib.colors import to_rgb

    def luminance(c: str) -> float:
        channels = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in to_rgb(c)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    lighter, darker = sorted([luminance(colour), luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour(colour: str, ratio: float = 4.5) -> str:
    """``colour`` darkened (mixed with black) until text in it has ``ratio`` contrast on white
    (WCAG 2.2, 1.4.3: 4.5:1 for text); unchanged if it already has."""
    from matplotlib.colors import to_hex, to_rgb

    rgb = to_rgb(colour)
    for step in range(21):
        mixed = to_hex([c * (1 - step / 20) for c in rgb])
        if contrast(mixed) >= ratio:
            return mixed
    return "#000000"


def narrow() -> bool:
    """Whether the chart being drawn is the narrow (phone) rendering."""
    return _NARROW.get()


def figure_size(
    wide: tuple[float, float], narrow_height: float | None = None
) -> tuple[float, float]:
    """A figure's size: ``wide`` for the laptop chart; for the phone's, :data:`NARROW_WIDTH` by
    ``narrow_height`` (the plot's own height, inches: :func:`_finish` adds the room its title,
    subtitle and source take at that width)."""
    if not narrow():
        return wide
    return (NARROW_WIDTH, wide[1] * 0.62 if narrow_height is None else narrow_height)


def two_widths(draw: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw the chart twice: at the laptop's width (the figure returned) and at a phone's
    (``fig.da_narrow``, laid out for :data:`NARROW_WIDTH`), which :func:`svg_text` carries
    along for the page to show on narrow screens. The narrow figure is closed in pyplot at
    once, so a notebook never displays it as a chart of its own.

    A chart function anywhere gets its phone rendering with this decorator: it sizes its
    figure with :func:`figure_size`, and :func:`narrow` tells it which rendering it draws, for
    what a phone needs laid out differently (a key instead of labels beside the plot, bars
    across). A chart function without it has one rendering, shrunk on a phone (the funnel plots
    of ``present/comparison.py`` have theirs since issue 22)."""

    @functools.wraps(draw)
    def both(*args, **kwargs):
        fig = draw(*args, **kwargs)
        token = _NARROW.set(True)
        try:
            small = draw(*args, **kwargs)
        finally:
            _NARROW.reset(token)
        plt.close(small)
        fig.da_narrow = small
        return fig

    return both


def setup() -> None:
    """Apply the house style to matplotlib (``BASE_STYLE``, then the house's own settings)."""
    plt.rcParams.update(BASE_STYLE)
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.bbox": "tight",
            "font.family": "sans-serif",
            "font.sans-serif": ["Arial", "Liberation Sans", "DejaVu Sans", "sans-serif"],
            "axes.titleweight": "bold",
            "axes.titlesize": TEXT_PT,
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": plt.cycler(color=OKABE_ITO),
            "grid.color": "#E5E5E5",
            "svg.fonttype": "none",
            "svg.hashsalt": "daanalysis",
        }
    )
    # Charts a notebook shows itself (not through Page.chart) are SVG with their alt text too.
    register_svg_formatter()
    remember_text_sizes()


# What a string's measured size depends on besides the string, its font properties and the
# renderer's kind and dpi: how a font family resolves to a file, and the hinting.
_TEXT_SIZE_SETTINGS = (
    "font.family",
    "font.sans-serif",
    "font.serif",
    "font.monospace",
    "font.cursive",
    "font.fantasy",
    "text.hinting",
    "text.hinting_factor",
    "text.kerning_factor",
)


def remember_text_sizes() -> None:
    """Measure each string once a process, not once a renderer (installed by :func:`setup`).

    matplotlib keeps each string's width, height and descent for as long as the renderer
    that measured it (``matplotlib.text._get_text_metrics_with_cache``), and a chart has three:
    its layout's (Agg), its tight box's and its SVG's; the phone's rendering three more, and so
    on for every chart a notebook draws. Laying a string out through FreeType takes 0.1 to 1 ms
    (matplotlib 3.11), so the same tick labels, titles and source lines were measured again and
    again: about a tenth of a chart's processor time. Here the answer is kept for the process,
    keyed by everything it depends on (the string, the font properties, the renderer's kind and
    dpi, the font and hinting settings), for the two kinds of renderer the pack draws with (Agg
    and SVG) and plain text; anything else is measured as before. The sizes, and so the
    charts, are the same to the byte (``tests/test_charts.py``)."""
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    measure = getattr(mtext, "_get_text_metrics_with_cache", None)
    if measure is None or getattr(measure, "da_remembered", False):
        return
    sizes: dict[tuple, tuple[float, float, float]] = {}
    read = functools.partial(dict.get, plt.rcParams)

    def remembered(renderer, text, fontprop, ismath, dpi):
        inner = renderer._renderer if isinstance(renderer, MixedModeRenderer) else renderer
        kind = type(inner)
        if ismath or kind not in (RendererAgg, RendererSVG):
            return measure(renderer, text, fontprop, ismath, dpi)
        # dict.get: the settings as stored, without RcParams' own checks on each read.
        rc = tuple(tuple(v) if type(v) is list else v for v in map(read, _TEXT_SIZE_SETTINGS))
        key = (kind, text, fontprop.copy(), dpi, rc)
        found = sizes.get(key)
        if found is None:
            if len(sizes) > 50_000:  # a long-lived process drawing many different charts
                sizes.clear()
            found = sizes[key] = measure(renderer, text, fontprop, ismath, dpi)
        return found

    remembered.da_remembered = True
    remembered.da_measure = measure
    mtext._get_text_metrics_with_cache = remembered


def _months(values: pd.Series) -> pd.Series:
    return values.dt.to_timestamp() if isinstance(values.dtype, pd.PeriodDtype) else values


def _month_text(value) -> str:
    return f"{pd.Timestamp(value):%b %Y}"


def _span(values: pd.Series) -> str:
    values = _months(pd.Series(values)).dropna()
    return f"{_month_text(values.min())} to {_month_text(values.max())}" if len(values) else ""


def plain_numbers(ax, axis: str = "y", decimals: int = 0, suffix: str = "") -> None:
    """Plain-number ticks (``1,200``, ``35%``): no offsets or scientific notation."""
    fmt = FuncFormatter(lambda v, _: f"{v:,.{decimals}f}{suffix}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _finish(
    fig: Figure,
    title: str,
    subtitle: str,
    source: str,
    alt: str,
    data: pd.DataFrame,
    right: float = 1.0,
) -> Figure:
    """Title (the finding), subtitle (area and period) and source note, left-aligned.

    The title is wrapped to the figure's width and the plot area shrunk to leave room, so a long
    finding never runs over the subtitle.
    """
    import textwrap

    width_in, height_in = fig.get_size_inches()
    title_pt = NARROW_TITLE_PT if narrow() else TITLE_PT
    # Characters a line holds: about 72 / (0.7 * size) an inch in bold, 72 / (0.62 * size) in
    # regular type (DejaVu Sans, wider than Arial, where Arial is not installed).
    title_lines = textwrap.wrap(title, width=int(width_in * 72 / (0.7 * title_pt))) or [""]
    sub_lines = textwrap.wrap(subtitle, width=int(width_in * 72 / (0.62 * SUBTITLE_PT))) or [""]
    source_lines = textwrap.wrap(source or DEFAULT_SOURCE, int(width_in * 72 / (0.62 * SOURCE_PT)))
    if narrow():
        # The phone's figure was made as tall as its plot: add the lines of text above and
        # below, which a narrow width wraps onto more lines than the laptop's.
        text_pt = 1.3 * (len(title_lines) * title_pt + len(sub_lines) * SUBTITLE_PT)
        text_pt += 1.3 * (0.8 * SUBTITLE_PT + (len(source_lines) + 1.2) * SOURCE_PT)
        text_pt += 1.3 * TEXT_PT * getattr(fig, "da_label_lines", 0)
        height_in = height_in + text_pt / 72 + 0.02 * height_in
        fig.set_size_inches(width_in, height_in)
    line = lambda pt: 1.3 * pt / 72 / height_in  # noqa: E731 - a line's height, figure fraction
    top = 0.99
    sub_top = top - len(title_lines) * line(title_pt) - 0.2 * line(SUBTITLE_PT)
    plot_top = sub_top - len(sub_lines) * line(SUBTITLE_PT) - 0.6 * line(SUBTITLE_PT)
    if narrow():  # the y-axis label above the plot (_ylabel), left out of the layout there
        plot_top -= getattr(fig, "da_label_lines", 0) * line(TEXT_PT)
    bottom = (len(source_lines) + 1.2) * line(SOURCE_PT)
    tight_layout(fig, rect=(0, bottom, right, plot_top))
    fig.text(
        0.01,
        top,
        "\n".join(title_lines),
        ha="left",
        va="top",
        fontsize=title_pt,
        fontweight="bold",
        linespacing=1.15,
    )
    fig.text(
        0.01,
        sub_top,
        "\n".join(sub_lines),
        ha="left",
        va="top",
        fontsize=SUBTITLE_PT,
        color="#333333",
    )
    fig.text(
        0.01,
        0.01,
        "\n".join(source_lines),
        ha="left",
        va="bottom",
        fontsize=SOURCE_PT,
        color="#505a5f",
    )
    # After the first figure the inline backend has loaded and set its own formats: the charts
    # are shown as SVG with their alt text all the same.
    register_svg_formatter()
    fig.da_title = title
    fig.da_name = _caller_name()
    fig.da_alt = alt
    fig.da_data = data.reset_index(drop=True)
    return fig


def _ylabel(ax, text: str) -> None:
    """The y-axis label written horizontally above the axis, not rotated up its side (on
    lines a phone's chart holds)."""
    import textwrap

    if narrow():
        text = textwrap.fill(text, 40)
        # Room above the plot for it (see _finish): wider than a phone's plot, it would
        # otherwise squeeze the plot sideways when the layout makes room for it.
        lines = text.count("\n") + 1
        ax.figure.da_label_lines = max(getattr(ax.figure, "da_label_lines", 0), lines)
    ax.set_ylabel("")
    label = ax.annotate(
        text,
        (0, 1),
        xycoords="axes fraction",
        xytext=(-4, 8),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=TEXT_PT,
        color="#333333",
    )
    label.set_in_layout(not narrow())


class _Remembered:
    """A date locator that works its ticks out once for each view of its axis.

    Laying a chart out and writing it (:func:`tight_layout`, the tight box, the SVG's draw:
    several passes over every axis) asks an axis for its ticks hundreds of times, and a date locator
    answers each time by stepping through a ``dateutil`` rule: about a fifth of the processor
    time of the streams chart (measured with cProfile, issue 22). Its ticks depend only on the
    axis's view limits (and the locator's own settings), so the answer for the same limits is
    kept: the chart is the same to the byte."""

    def __call__(self):
        view = tuple(self.axis.get_view_interval())
        seen = self.__dict__.setdefault("_da_ticks", {})
        if view not in seen:
            seen[view] = super().__call__()
        return seen[view]


class _YearLocator(_Remembered, mdates.YearLocator):
    pass


class _AutoDateLocator(_Remembered, mdates.AutoDateLocator):
    pass


def _month_axis(ax) -> None:
    """Month axes as ``Sep 2024``, horizontal, a handful of ticks."""
    import matplotlib.dates as mdates

    if narrow():
        # Years only on a phone (every other year over a long span): month names side by
        # side would run into each other.
        low, high = ax.get_xlim()
        years = (high - low) / 365.25
        if years >= 2:
            ax.xaxis.set_major_locator(_YearLocator(2 if years > 4.5 else 1))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
            ax.tick_params(axis="x", labelrotation=0, labelsize=TEXT_PT)
            return
    locator = _AutoDateLocator(minticks=2 if narrow() else 3, maxticks=4 if narrow() else 7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.tick_params(axis="x", labelrotation=0, labelsize=TEXT_PT)


def _caller_name() -> str:
    """The chart function's name (``caseload_chart`` -> ``caseload``), for download file names."""
    import inspect

    frame = inspect.currentframe()
    name = (
        frame.f_back.f_back.f_code.co_name if frame and frame.f_back and frame.f_back.f_back else ""
    )
    return name.removesuffix("_chart")


def _subtitle(area: str, what: str, period: str) -> str:
    return ", ".join(p for p in [area, what, period] if p)


def _label_line_ends(ax, ends: list[tuple[object, float, str, str]], gap: float) -> None:
    """Direct labels at the right-hand end of lines, nudged apart so they do not overlap; on a
    phone a key under the plot instead (the labels beside it would leave the plot no width),
    each line drawn as it is in the plot."""
    if narrow():
        from matplotlib.colors import to_hex

        # Each label's line: the one drawn in its colour, or the one carrying its name.
        lines = {to_hex(line.get_color()): line for line in ax.get_lines()}
        lines |= {line.get_label(): line for line in ax.get_lines()}
        keyed = [(lines.get(to_hex(c), lines.get(t)), t) for _, _, t, c in ends]
        keyed = [(line, t) for line, t in keyed if line is not None]
        ax.legend(
            [line for line, _ in keyed],
            [text for _, text in keyed],
            loc="upper left",
            bbox_to_anchor=(-0.12, -0.1),
            fontsize=TEXT_PT,
            frameon=False,
            handlelength=2.5,
        )
        return
    ends = sorted(ends, key=lambda e: e[1])
    # At least a line of text apart: TEXT_PT * 1.2 points in data units, the axes taking about
    # 40% of the figure's height once the titles and source are placed (a low guess: it can
    # only space the labels wider).
    low, high = ax.get_ylim()
    height_pt = 72 * ax.figure.get_size_inches()[1] * 0.4
    gap = max(gap, (high - low) * TEXT_PT * 1.2 / height_pt)
    placed: list[float] = []
    for _, y, _, _ in ends:
        placed.append(max(y, placed[-1] + gap) if placed else y)
    for (x, _, text, colour), y_text in zip(ends, placed, strict=True):
        ax.annotate(
            text,
            (x, y_text),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=TEXT_PT,
            color=text_colour(colour),
            annotation_clip=False,
        )


def campaign_label(campaign: pd.Series, number: int = 1) -> str:
    """A campaign as a reader knows it: its name and the month it started (``Know the signs,
    Nov 2022``); ``Campaign 2`` when it has no name, a long name cut at a word."""
    import textwrap

    name = str(campaign.get("name", "") or "").strip() or f"Campaign {number}"
    name = textwrap.shorten(name, width=22, placeholder="…")
    start = pd.Timestamp(campaign["start_date"])
    return f"{name}, {start:%b %Y}"


def _campaigns_text(campaigns: pd.DataFrame) -> str:
    labels = [campaign_label(c, i) for i, (_, c) in enumerate(campaigns.iterrows(), start=1)]
    return "; ".join(labels)


def _campaign_lines(ax, campaigns: pd.DataFrame, top: bool = True) -> None:
    """Campaign starts as grey dotted lines, labelled horizontally with the campaign's name and
    start month (two short lines), not a code a reader has to look up. A label whose campaign
    starts close to the one before goes below that one's label, so the two never overlap."""
    import matplotlib.dates as mdates

    low, high = ax.get_xlim() if top else (0.0, 1.0)
    placed: list[tuple[float, int]] = []  # (axes fraction, level) of the labels so far
    for i, (_, c) in enumerate(campaigns.iterrows(), start=1):
        ax.axvline(c["start_date"], color=CAMPAIGN_COLOUR, linestyle=":", linewidth=1)
        if top:
            where = (mdates.date2num(pd.Timestamp(c["start_date"])) - low) / (high - low or 1)
            near = [level for x, level in placed if abs(where - x) < 0.3]
            level = max(near) + 1 if near else 0
            placed.append((where, level))
            ax.annotate(
                campaign_label(c, i).replace(", ", "\n", 1),
                (c["start_date"], 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2 - 2.6 * TEXT_PT * level),
                textcoords="offset points",
                va="top",
                ha="left",
                fontsize=TEXT_PT,
                color=CAMPAIGN_COLOUR,
                bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
            )


@two_widths
def streams_chart(
    panel: pd.DataFrame,
    streams: dict,
    campaigns: pd.DataFrame,
    area: str = "",
    source: str = "",
    threshold: float = 0,
) -> Figure:
    """Confidence and need streams, 3-month rolling, indexed to their first 12 months = 100:
    small multiples, one panel a stream (confidence-sensitive left, need-sensitive right).

    A 3-month window holding a monthly count from 1 to ``threshold - 1`` is suppressed: a gap
    in the line, ``[c]`` in the chart's data and a note in the subtitle.
    """
    long = []
    for col, spec in streams.items():
        if col not in panel or panel[col].isna().all():
            continue
        counts = panel.set_index("month")[col]
        series = counts.rolling(3).mean()
        small = counts.between(0, threshold, inclusive="neither").astype(float).rolling(3).max()
        base = panel[col].head(12).mean()
        long.append(
            pd.DataFrame(
                {
                    "month": _months(pd.Series(series.index)),
                    "index": (100 * series / base).where(small.fillna(0) == 0).to_numpy(),
                    "suppressed": (small.fillna(0) > 0).to_numpy(),
                    "indicator": spec.label,
                    "type": f"{spec.kind}-sensitive",
                }
            )
        )
    data = pd.concat(long, ignore_index=True)
    data = data[data["index"].notna() | data["suppressed"]]
    # Small multiples: one panel a stream, confidence-sensitive on the left and need-sensitive
    # on the right, on shared axes, rather than four tangled lines with colliding labels (one
    # line a panel reads in greyscale too).
    kinds = ["confidence-sensitive", "need-sensitive"]
    names = {k: list(dict.fromkeys(data.loc[data["type"] == k, "indicator"])) for k in kinds}
    rows = max(1, *(len(v) for v in names.values()))
    # On a phone the panels stand in one column, the confidence-sensitive ones first.
    stacked = narrow()
    panels = [(column, row) for column, k in enumerate(kinds) for row in range(len(names[k]))]
    fig, axes = plt.subplots(
        max(1, len(panels)) if stacked else rows,
        1 if stacked else 2,
        figsize=figure_size((FIGSIZE[0], 1.35 * rows + 1.9), 1.25 * max(1, len(panels)) + 0.3),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    if stacked:
        where = {panel: i for i, panel in enumerate(panels)}
        axes = [
            [axes[where[(c, r)]][0] if (c, r) in where else None for c in (0, 1)]
            for r in range(rows)
        ]
    latest: dict[str, float] = {}
    import matplotlib.dates as mdates

    for column, kind in enumerate(kinds):
        part = data[data["type"] == kind]
        colour = PALETTE[kind.split("-")[0]]
        if len(part):
            last = part[part["month"] == part["month"].max()]
            latest[kind] = float(last["index"].mean())
        for row in range(rows):
            ax = axes[row][column]
            if ax is None:  # stacked: no empty panel is drawn
                continue
            if row >= len(names[kind]):
                ax.set_axis_off()
                axes[row - 1][column].xaxis.set_tick_params(labelbottom=True)
                continue
            name = names[kind][row]
            line = part[part["indicator"] == name]
            ax.plot(line["month"], line["index"], color=colour, linewidth=1.8)
            # Named once, in the first panel; the other panels share its time axis.
            _campaign_lines(ax, campaigns, top=row == 0 and column == 0)
            ax.axhline(100, color="black", linewidth=0.6)
            shown = line.dropna(subset=["index"])
            end = f", latest {shown['index'].iloc[-1]:,.0f}" if len(shown) else ""
            heading = f"{kind.capitalize()}\n" if row == 0 else ""
            ax.set_title(
                f"{heading}{name}{end}",
                fontsize=TEXT_PT,
                fontweight="normal",
                color=text_colour(colour),
                loc="left",
            )
            ax.set_xlabel("")
            plain_numbers(ax)
            ax.xaxis.set_major_locator(_YearLocator(2))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
            ax.tick_params(axis="both", labelsize=TEXT_PT)
    conf, need = latest.get("confidence-sensitive"), latest.get("need-sensitive")
    if conf is not None and need is not None:
        moved = lambda v: "rose" if v >= 100 else "fell"  # noqa: E731
        title = (
            f"Confidence-sensitive referrals {moved(conf)} to index {conf:,.0f} and "
            f"need-sensitive ones {moved(need)} to {need:,.0f} (first year = 100)"
        )
    else:
        title = "Confidence-sensitive and need-sensitive referral streams"
    period = _span(data["month"])
    alt = (
        f"Chart: Two line charts of referral streams as an index (first year = 100, 3-month "
        f"average), {period}. {title}. "
        + (
            f"Dotted lines mark the campaign starts ({_campaigns_text(campaigns)}). "
            if len(campaigns)
            else "No campaign dates were supplied. "
        )
        + f"Index values range from {data['index'].min():,.0f} to {data['index'].max():,.0f}."
        if len(data)
        else "Chart: referral streams (no data)."
    )
    hidden = bool(data["suppressed"].any())
    data = data.assign(
        month=data["month"].dt.strftime("%Y-%m"),
        index=data["index"].round(1).astype(object).where(~data["suppressed"], "[c]"),
    ).drop(columns="suppressed")
    return _finish(
        fig,
        title,
        _subtitle(
            area,
            "index (first year = 100), 3-month average, one panel a stream"
            + (
                f"; dotted lines: campaigns ({_campaigns_text(campaigns)})"
                if len(campaigns)
                else ""
            )
            + ("; gaps: small numbers suppressed [c]" if hidden else ""),
            period,
        ),
        source,
        alt,
        data,
    )


@two_widths
def verdict_chart(
    series: pd.DataFrame,
    campaigns: pd.DataFrame,
    rate_ratio: float | dict,
    confidence_label: str,
    area: str = "",
    source: str = "",
) -> Figure:
    """The primary contrast: confidence referrals per 100 of the control, as observed, as the
    model fits them, and as the pre-campaign pattern would have them without the campaigns.

    ``series`` comes from :func:`daanalysis.metrics.demand.contrast_series`; ``rate_ratio`` is the
    verdict's primary contrast (the average gap between the two lines since the first campaign):
    :attr:`daanalysis.metrics.demand.Verdict.primary`, or the ratio alone. Given its 95% interval, a
    title whose interval includes 1 says "no clear change" rather than stating the estimate as
    a fact.
    """
    interval = rate_ratio if isinstance(rate_ratio, dict) else {}
    rate_ratio = float(interval["rate_ratio"]) if interval else float(rate_ratio)
    # Taller than the others: its finding, campaign labels and long source take three lines each.
    fig, ax = plt.subplots(figsize=figure_size((FIGSIZE[0], FIGSIZE[1] + 0.8), 4.0))
    if series.empty:
        ax.set_axis_off()
        return _finish(fig, "No controlled comparison", area, source, "Chart: none.", series)
    months = series["period"].dt.to_timestamp()
    from daanalysis.present.words import in_sentence

    control = in_sentence(str(series["control"].iloc[0]))
    ax.plot(
        months,
        series["observed"],
        color="#8c8c8c",
        linewidth=0.9,
        marker=".",
        markersize=3,
        label="recorded",
    )
    ax.plot(months, series["fitted"], color=OKABE_ITO[0], linewidth=2)
    ax.plot(months, series["without_campaigns"], color=OKABE_ITO[3], linewidth=2, linestyle="--")
    last = months.iloc[-1]
    span = float(series[["observed", "fitted"]].max().max() - series["observed"].min())
    _label_line_ends(
        ax,
        [
            (last, float(series["fitted"].iloc[-1]), "model", OKABE_ITO[0]),
            (last, float(series["without_campaigns"].iloc[-1]), "without campaigns", OKABE_ITO[3]),
            (last, float(series["observed"].iloc[-1]), "recorded", "#595959"),
        ],  # fmt: skip
        gap=max(span, 1) * 0.07,
    )
    _campaign_lines(ax, campaigns)
    _ylabel(ax, f"{confidence_label} referrals per 100 {control}")
    plain_numbers(ax)
    _month_axis(ax)
    change = 100 * (rate_ratio - 1)
    if interval and interval["ci_low"] <= 1 <= interval["ci_high"]:
        low, high = (100 * (interval[k] - 1) for k in ("ci_low", "ci_high"))
        title = (
            f"No clear change in {confidence_label.lower()} referrals against the pre-campaign "
            f"pattern, relative to {control} (estimate {change:+.0f}%, 95% CI {low:+.0f}% to "
            f"{high:+.0f}%)"
        )
    else:
        title = (
            f"{confidence_label} referrals ran {abs(change):.0f}% "
            f"{'above' if change >= 0 else 'below'} the pre-campaign pattern, relative to "
            f"{control}"
        )
    period = _span(series["period"])
    alt = (
        f"Chart: line chart of {confidence_label.lower()} referrals per 100 {control}, "
        f"{period}: as recorded (from {series['observed'].min():,.0f} to "
        f"{series['observed'].max():,.0f}), as modelled, and as expected without the campaigns. "
        f"{title}. Dotted lines mark the start of each campaign ({_campaigns_text(campaigns)})."
    )
    data = series.assign(period=series["period"].astype(str)).round(2)
    return _finish(
        fig,
        title,
        _subtitle(area, "the verdict's comparison; dotted lines: campaigns", period),
        source,
        alt,
        data,
        right=1.0 if narrow() else 0.8,
    )


def _steps_finding(terms: pd.DataFrame) -> str:
    """The forest plot's finding: how far each kind of stream stepped after the campaigns, as a
    range of per cent changes, and that these are supporting evidence (each stream on its own:
    counting streams that stepped would count overlapping streams as separate evidence)."""
    steps = terms[terms["term"] == "all campaigns"]
    parts = []
    for kind in ("confidence", "need"):
        part = steps[steps["kind"] == kind]
        if not len(part):
            continue
        low, high = (100 * (part["rate_ratio"].agg(f) - 1) for f in ("min", "max"))
        clear = ((part["ci_low"] > 1) | (part["ci_high"] < 1)).any()
        if not clear:
            moved = "showed no clear step"
        elif low >= 0:
            moved = (
                f"stepped up {low:.0f}% to {high:.0f}%"
                if len(part) > 1
                else f"stepped up {low:.0f}%"
            )
        elif high <= 0:
            moved = f"stepped down {-high:.0f}% to {-low:.0f}%"
        else:
            moved = f"moved {low:+.0f}% to {high:+.0f}%"
        parts.append(f"{kind}-sensitive streams {moved}")
    if not parts:
        return "Each stream on its own: supporting evidence beside the controlled comparison"
    text = " and ".join(parts)
    return f"After the campaigns, {text} (each stream on its own, supporting the verdict)"


@two_widths
def rate_ratio_chart(
    fits: pd.DataFrame, area: str = "", period: str = "", source: str = ""
) -> Figure:
    """Forest plot: the campaign step and the trend per year for each stream, with 95% CIs."""
    terms = fits[fits["term"].isin(["all campaigns", "trend (per year)"])].copy()
    terms["label"] = (
        terms["indicator"] + ": " + terms["term"].str.replace("all campaigns", "campaign step")
    )
    terms = terms.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(
        figsize=figure_size((FIGSIZE[0], 0.48 * len(terms) + 2.4), 0.6 * len(terms) + 1.9)
    )
    for kind, part in terms.groupby("kind"):
        colour, marker = PALETTE.get(kind, "#333333"), MARKERS.get(kind, "o")
        ax.errorbar(
            part["rate_ratio"],
            part.index,
            xerr=[part["rate_ratio"] - part["ci_low"], part["ci_high"] - part["rate_ratio"]],
            fmt=marker,
            color=colour,
            ecolor=colour,
            elinewidth=1.5,
            markersize=5,
            label=f"{kind}-sensitive",
        )
    ax.axvline(1, color="black", linewidth=0.8)
    ax.annotate(
        "1 = no change",
        (1, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, 2),
        textcoords="offset points",
        fontsize=TEXT_PT,
        va="bottom",
    )
    import textwrap

    # Two short lines a row, so the names do not push the plot (and the image) wide.
    labels = [textwrap.fill(text, 22 if narrow() else 26) for text in terms["label"]]
    ax.set_yticks(range(len(terms)), labels, fontsize=TEXT_PT)
    # On two lines on a phone: centred under a narrow plot, one line would run off its edge.
    ax.set_xlabel(f"Rate ratio with 95%{chr(10) if narrow() else ' '}confidence interval")
    from matplotlib.ticker import MultipleLocator

    ax.xaxis.set_major_locator(MultipleLocator(0.25))
    plain_numbers(ax, "x", 2)
    if narrow():  # below the plot: beside it would leave the plot no width on a phone
        from matplotlib.transforms import blended_transform_factory

        ax.legend(
            fontsize=TEXT_PT,
            loc="upper left",
            bbox_to_anchor=(0.01, -0.1),  # the figure's left edge, under the plot
            bbox_transform=blended_transform_factory(fig.transFigure, ax.transAxes),
            frameon=False,
        )
    else:
        ax.legend(fontsize=TEXT_PT, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    # Counting streams that stepped would treat overlapping streams as separate evidence, so
    # the title says what the chart is for instead: the verdict is the controlled comparison.
    title = _steps_finding(terms)
    alt = (
        f"Chart: Forest plot of {len(terms)} rate ratios with 95% confidence intervals, "
        f"campaign steps and yearly trends per stream. {title}. Rate ratios range from "
        f"{terms['rate_ratio'].min():.2f} to {terms['rate_ratio'].max():.2f}; 1 means no change."
        if len(terms)
        else "Chart: rate ratios (no data)."
    )
    data = terms[["indicator", "term", "kind", "rate_ratio", "ci_low", "ci_high"]].iloc[::-1]
    return _finish(
        fig,
        title,
        _subtitle(area, "rate ratios from the stream models", period),
        source,
        alt,
        data.round(3),
        right=1.0 if narrow() else 0.83,
    )


def _safe_band(ax, config: Config, level: bool = True) -> None:
    ax.axhspan(
        config.safe_band_lower,
        config.safe_band_upper,
        color=BAND_COLOUR,
        alpha=0.15,
        hatch="",
        linewidth=0,
    )
    if level:
        ax.axhline(config.safe_caseload_per_fte, color=BAND_COLOUR, linewidth=1)
    ax.annotate(
        f"Safe band {config.safe_band_lower:.0f} to {config.safe_band_upper:.0f}",
        (0.005, config.safe_band_lower),
        xycoords=("axes fraction", "data"),
        xytext=(2, 3),
        textcoords="offset points",
        fontsize=TEXT_PT,
        color="#00543c",
    )


def _right_of_plot(ax, text: str, y: float) -> None:
    """``text`` just right of the plot area, level with ``y`` (data units): a label that must not
    sit on the bars or lines it names."""
    ax.annotate(
        text,
        (1.0, y),
        xycoords=("axes fraction", "data"),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        fontsize=TEXT_PT,
        annotation_clip=False,
    )


def _band_word(value: float, config: Config) -> str:
    if value > config.safe_band_upper:
        return "above"
    return "below" if value < config.safe_band_lower else "within"


@two_widths
def caseload_chart(
    caseload: pd.DataFrame, config: Config, months: int = 36, area: str = "", source: str = ""
) -> Figure:
    """Open cases per caseworker FTE at each month end against the safe band."""
    data = caseload.dropna(subset=["per_fte"]).tail(months)
    fig, ax = plt.subplots(figsize=figure_size(FIGSIZE))
    x = _months(data["month"])
    _safe_band(ax, config)
    ax.plot(x, data["per_fte"], color="#0072B2", marker="o", markersize=3, linewidth=1.5)
    last = data.iloc[-1]
    ax.annotate(
        f"{last['per_fte']:.1f}{chr(10) if narrow() else ' in '}{_month_text(x.iloc[-1])}",
        (x.iloc[-1], last["per_fte"]),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        fontsize=TEXT_PT,
        color="#0072B2",
        annotation_clip=False,
    )
    _ylabel(ax, "Open cases per FTE (month end)")
    _month_axis(ax)
    ax.set_ylim(0, max(config.safe_band_upper, data["per_fte"].max()) * 1.15)
    plain_numbers(ax)
    word = _band_word(last["per_fte"], config)
    title = (
        f"Caseload per caseworker is {word} the safe band: {last['per_fte']:.1f} open cases "
        f"per FTE in {_month_text(x.iloc[-1])}"
    )
    period = _span(data["month"])
    alt = (
        f"Chart: Line chart of open cases per caseworker FTE at each month end, {period}, "
        f"against the safe band of {config.safe_band_lower:.0f} to "
        f"{config.safe_band_upper:.0f}. It ranges from {data['per_fte'].min():.1f} to "
        f"{data['per_fte'].max():.1f}; the latest, {last['per_fte']:.1f}, is {word} the band."
    )
    out = pd.DataFrame(
        {
            "month": x.dt.strftime("%Y-%m").to_numpy(),
            "open cases": data["open_caseload"].round(0).to_numpy(),
            "caseworker FTE in post": data["caseworker_fte"].round(2).to_numpy(),
            "open cases per FTE": data["per_fte"].round(1).to_numpy(),
            "safe band lower": config.safe_band_lower,
            "safe band upper": config.safe_band_upper,
        }
    )
    subtitle = _subtitle(area, "month ends", period)
    return _finish(fig, title, subtitle, source, alt, out, right=0.8 if narrow() else 0.88)


@two_widths
def projection_chart(
    projections: dict[str, pd.DataFrame], config: Config, area: str = "", source: str = ""
) -> Figure:
    """Projected caseload per FTE under each staffing scenario, against the safe band."""
    fig, ax = plt.subplots(figsize=figure_size(FIGSIZE, 3.6))
    _safe_band(ax, config, level=False)
    styles = ["-", "--", "-."]
    rows, ends = [], []
    breach_text = ""
    for i, (name, proj) in enumerate(projections.items()):
        x = (
            proj["quarter"].dt.end_time
            if isinstance(proj["quarter"].dtype, pd.PeriodDtype)
            else [q.end_time for q in proj["quarter"]]
        )
        x = pd.Series(pd.to_datetime(list(x))).dt.normalize()
        colour = OKABE_ITO[i % 6]
        ax.plot(
            x,
            proj["per_fte"],
            color=colour,
            linestyle=styles[i % 3],
            marker="o",
            markersize=2.5,
            linewidth=1.5,
        )
        ends.append((x.iloc[-1], proj["per_fte"].iloc[-1], name, colour))
        above = proj[proj["per_fte"] > config.safe_band_upper]
        if i == len(projections) - 1:
            breach_text = (
                f"at safe staffing, growing demand takes caseloads above the band in "
                f"{quarter_label(above['quarter'].iloc[0], with_months=False)}"
                if len(above)
                else "at safe staffing, caseloads stay within the band for four years"
            )
        for q, v in zip(proj["quarter"], proj["per_fte"], strict=True):
            rows.append(
                {
                    "scenario": name,
                    "quarter": quarter_label(q, with_months=False),
                    "open cases per FTE": round(float(v), 1),
                }
            )
    values = pd.concat([p["per_fte"] for p in projections.values()])
    _label_line_ends(ax, ends, gap=max(values.max() - values.min(), 1) * 0.08)
    _ylabel(ax, "Open cases per FTE")
    _month_axis(ax)
    ax.set_ylim(0, max(config.safe_band_upper, values.max()) * 1.12)
    plain_numbers(ax)
    first = next(iter(projections.values()))["quarter"]
    period = (
        f"{quarter_label(first.iloc[0], with_months=False)} to "
        f"{quarter_label(first.iloc[-1], with_months=False)}"
    )
    title = breach_text[:1].upper() + breach_text[1:] if breach_text else "Projected caseload"
    alt = (
        f"Chart: Line chart of projected open cases per FTE each quarter, {period}, under "
        f"{len(projections)} staffing scenarios ({'; '.join(projections)}), against the safe band "
        f"of {config.safe_band_lower:.0f} to {config.safe_band_upper:.0f}. {title}. Values range "
        f"from {values.min():.1f} to {values.max():.1f}."
    )
    return _finish(
        fig,
        title,
        _subtitle(area, "if demand keeps growing at the assumed rate", period),
        source,
        alt,
        pd.DataFrame(rows),
        right=1.0 if narrow() else 0.74,
    )


# A value label's height on the response chart's 0-109% axis, in axis units (about 10 pt).
LABEL_HEIGHT = 6.0


@two_widths
def response_chart(
    kpi: pd.DataFrame,
    quarters: int = 8,
    area: str = "",
    source: str = "",
    threshold: float = 0,
    working_days: float = 1.0,
) -> Figure:
    """Share first contacted within the KPI (``working_days``, config response_working_days),
    by quarter, against the target.

    Quarters below target are hatched and labelled, not only coloured; a quarter whose count
    of contacted referrals is below ``threshold`` is not drawn and is marked ``[c]``.
    """
    data = kpi.tail(quarters).reset_index(drop=True)
    labels = [quarter_label(q, with_months=False).replace(" ", "\n", 1) for q in data["quarter"]]
    target = float(data["target_pct"].iloc[-1])
    fig, ax = plt.subplots(figsize=figure_size(FIGSIZE, 0.42 * len(data) + 0.6))
    suppressed = data["contacted"] < threshold if "contacted" in data else pd.Series(False)
    window = response_window(working_days)
    if narrow():
        _response_bars_across(ax, data, target, suppressed, window)
    for i, row in data.iterrows():
        if narrow():
            break
        if bool(suppressed.iloc[i]) if len(suppressed) > i else False:
            ax.text(i, 2, "[c]", ha="center", va="bottom", fontsize=TEXT_PT)
            continue
        met = row["within_kpi_pct"] >= target
        # Below target is red, as the table's status word says, and hatched for greyscale.
        ax.bar(
            i,
            row["within_kpi_pct"],
            color="#0072B2" if met else RAG_COLOURS["red"],
            hatch="" if met else "//",
            edgecolor="white" if met else "#5c2800",
            linewidth=0.5,
        )
        # The value sits above its bar, or above the target line when the line would run
        # through it.
        value = float(row["within_kpi_pct"])
        label_y = value + 1
        if value - 1 <= target <= value + 1 + LABEL_HEIGHT:
            label_y = max(label_y, target + 1.5)
        ax.text(
            i,
            label_y,
            f"{value:.1f}%",
            ha="center",
            va="bottom",
            fontsize=TEXT_PT,
        )
    if not narrow():
        ax.axhline(target, color="black", linestyle="--", linewidth=1)
        _right_of_plot(ax, f"Target {target:.0f}%", target)
        ax.set_xticks(range(len(labels)), labels, fontsize=TEXT_PT)
        ax.set_ylim(0, 109)
        _ylabel(ax, f"% contacted {window}")
        plain_numbers(ax, suffix="%")
    last = data.iloc[-1]
    below = int((data["within_kpi_pct"] < target).sum())
    title = (
        f"{last['within_kpi_pct']:.1f}% of referrals were contacted {window} in "
        f"{quarter_label(last['quarter'], with_months=False)}, "
        f"{'meeting' if last['within_kpi_pct'] >= target else 'below'} the {target:.0f}% target"
    )
    period = (
        f"{quarter_label(data['quarter'].iloc[0], with_months=False)} to "
        f"{quarter_label(last['quarter'], with_months=False)}"
    )
    alt = (
        f"Chart: Bar chart of the share of referrals contacted {window}, by "
        f"quarter, {period}, against a {target:.0f}% target (dashed line). {title}. Shares range "
        f"from {data['within_kpi_pct'].min():.1f}% to {data['within_kpi_pct'].max():.1f}%; "
        f"{below} of {len(data)} quarters were below target (hatched bars)."
    )
    out = pd.DataFrame(
        {
            "quarter": [quarter_label(q, with_months=False) for q in data["quarter"]],
            f"contacted {window} (%)": data["within_kpi_pct"].round(1),
            "target (%)": data["target_pct"],
        }
    )
    if suppressed.any():
        col = f"contacted {window} (%)"
        out[col] = out[col].astype(object).where(~suppressed.to_numpy(), "[c]")
    return _finish(
        fig,
        title,
        _subtitle(area, "victim service, by quarter of referral", period),
        source,
        alt,
        out,
        right=0.84 if narrow() else 1.0,
    )


def _response_bars_across(
    ax, data: pd.DataFrame, target: float, suppressed: pd.Series, window: str
) -> None:
    """The response chart on a phone: one bar across a quarter, earliest at the top, the
    quarters' names readable at the left and the values in a column at the right, clear of
    the target line (eight upright bars would leave each label a third of the room it needs)."""
    for i, row in data.iterrows():
        if bool(suppressed.iloc[i]) if len(suppressed) > i else False:
            ax.text(2, i, "[c]", ha="left", va="center", fontsize=TEXT_PT)
            continue
        value = float(row["within_kpi_pct"])
        met = value >= target
        ax.barh(
            i,
            value,
            color="#0072B2" if met else RAG_COLOURS["red"],
            hatch="" if met else "//",
            edgecolor="white" if met else "#5c2800",
            linewidth=0.5,
        )
        _right_of_plot(ax, f"{value:.1f}%", i)
    ax.set_yticks(range(len(data)), [quarter_label(q, with_months=False) for q in data["quarter"]])
    ax.tick_params(axis="both", labelsize=TEXT_PT)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.axvline(target, color="black", linestyle="--", linewidth=1)
    ax.annotate(
        f"Target {target:.0f}%",
        (target, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=TEXT_PT,
        annotation_clip=False,
    )
    ax.grid(axis="y", visible=False)
    plain_numbers(ax, "x", suffix="%")
    ax.set_xlabel(f"% contacted {window}", fontsize=TEXT_PT)


@two_widths
def rag_chart(counts: pd.DataFrame, subtitle: str = "", source: str = "") -> Figure:
    """Actions by priority, stacked by RAG status (``counts``: priority x RAG).

    Each RAG has its own pattern as well as colour, and each segment is labelled with its count.
    """
    order = [c for c in RAG_COLOURS if c in counts.columns]
    import textwrap

    fig, ax = plt.subplots(
        figsize=figure_size((FIGSIZE[0], 0.6 * len(counts) + 2.0), 0.95 * len(counts) + 1.0)
    )
    left = np.zeros(len(counts))
    # Long priority names on two lines, so the bars (and the legend above them) keep the width.
    names = [textwrap.fill(str(p), 32) for p in counts.index]
    # On a phone each priority's name stands above its bar, so the bars have the full width.
    rows = list(range(len(counts))) if narrow() else names
    for rag in order:
        values = counts[rag].to_numpy(dtype=float)
        bars = ax.barh(
            rows,
            values,
            height=0.45 if narrow() else 0.8,
            left=left,
            color=RAG_COLOURS[rag],
            hatch=RAG_HATCHES[rag],
            edgecolor="#333333",
            linewidth=0.4,
            label=rag.capitalize(),
        )
        for bar, v in zip(bars, values, strict=True):
            if v > 0:
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    f"{int(v)}",
                    ha="center",
                    va="center",
                    fontsize=TEXT_PT,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
                )
        left += values
    if narrow():
        for i, name in enumerate(counts.index):
            ax.text(
                0,
                i - 0.27,
                textwrap.fill(str(name), 44),
                va="bottom",
                ha="left",
                fontsize=TEXT_PT,
                linespacing=1.1,
            )
        ax.set_yticks([])
        ax.set_ylim(-1.1, len(counts) - 0.6)
        ax.grid(axis="y", visible=False)
    ax.invert_yaxis()
    ax.set_xlabel("Actions")
    ax.set_ylabel("")
    plain_numbers(ax, "x")
    ax.tick_params(axis="y", labelsize=TEXT_PT)
    ax.legend(
        fontsize=TEXT_PT,
        title=None,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=len(order) if not narrow() or len(order) <= 3 else 2,
        frameon=False,
    )
    totals = counts[order].sum()
    red, amber = int(totals.get("red", 0)), int(totals.get("amber", 0))
    title = (
        f"{red} action{'s are' if red != 1 else ' is'} red and {amber} amber at the latest review"
    )
    alt = (
        f"Chart: Stacked bar chart of action plan actions by priority and RAG status. {title}; "
        + ", ".join(f"{int(totals[r])} {r}" for r in order)
        + f" of {int(totals.sum())} actions in {len(counts)} priorities."
    )
    data = counts[order].reset_index()
    source = source or ACTION_PLAN_SOURCE
    return _finish(fig, title, subtitle or "Action plan, all areas", source, alt, data)


# --- the partnership page ----------------------------------------------------------------------


def _quarters_text(quarters: pd.Series) -> list[str]:
    return [quarter_label(q, with_months=False) for q in quarters]


@two_widths
def engagement_chart(by_term: pd.DataFrame, area: str = "", source: str = ""):
    """Share of schools engaged each term (bars), with the latest term in the title."""
    data = by_term[["term_label", "schools_engaged", "schools_in_area", "engaged_pct"]]
    fig, ax = plt.subplots(figsize=figure_size(FIGSIZE, 0.4 * len(data) + 0.6))
    labels = [t.replace(" ", "\n", 1) for t in data["term_label"]]
    top = max(100.0, float(data["engaged_pct"].max()) + 8)
    if narrow():
        # On a phone one bar across a term, earliest at the top: upright bars would leave
        # each term's name a third of the room it needs.
        ax.barh(range(len(data)), data["engaged_pct"], color=OKABE_ITO[0])
        for i, v in enumerate(data["engaged_pct"]):
            ax.text(v + 1, i, f"{v:.0f}%", ha="left", va="center", fontsize=TEXT_PT)
        ax.set_yticks(range(len(data)), list(data["term_label"]), fontsize=TEXT_PT)
        ax.invert_yaxis()
        ax.set_xlim(0, top + 8)
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="x", labelsize=TEXT_PT)
        ax.set_xlabel("% of the area's schools\nwith a session", fontsize=TEXT_PT)
        plain_numbers(ax, "x", suffix="%")
    else:
        ax.bar(range(len(data)), data["engaged_pct"], color=OKABE_ITO[0])
        for i, v in enumerate(data["engaged_pct"]):
            ax.text(i, v + 1, f"{v:.0f}%", ha="center", va="bottom", fontsize=TEXT_PT)
        ax.set_xticks(range(len(labels)), labels, fontsize=TEXT_PT)
        ax.set_ylim(0, top)
        _ylabel(ax, "% of the area's schools with at least one session")
        plain_numbers(ax, suffix="%")
    last = data.iloc[-1]
    title = (
        f"{last['engaged_pct']:.0f}% of schools ({last['schools_engaged']:.0f} of "
        f"{last['schools_in_area']:.0f}) took part in prevention sessions in the "
        f"{last['term_label']} term"
    )
    period = f"{data['term_label'].iloc[0]} to {last['term_label']}"
    alt = (
        f"Chart: Bar chart of the share of schools engaged in prevention each term, {period}. "
        f"{title}. Shares range from {data['engaged_pct'].min():.0f}% to "
        f"{data['engaged_pct'].max():.0f}%."
    )
    return _finish(
        fig,
        title,
        _subtitle(area, "schools engaged by term", period),
        source,
        alt,
        data.round(1),
    )


@two_widths
def funnel_chart(
    funnel: pd.DataFrame,
    area: str = "",
    source: str = "",
    quarters: int = 12,
    threshold: float = 0,
):
    """Police DA incidents referred to the service (% of incidents) by quarter; a quarter with
    fewer than ``threshold`` police referrals is left out (small-number suppression)."""
    small = funnel["police_referrals"].between(0, threshold, inclusive="neither")
    data = funnel[~small].dropna(subset=["referred_pct"]).tail(quarters)
    labels = [t.replace(" ", "\n", 1) for t in _quarters_text(data["quarter"])]
    fig, ax = plt.subplots(figsize=figure_size(FIGSIZE))
    ax.plot(range(len(data)), data["referred_pct"], marker="o", color=OKABE_ITO[0])
    # On a phone every third quarter is named (twelve names would overlap); the points stay.
    step = -(-len(labels) // 4) if narrow() else 1
    ticks = list(range(len(labels)))[::-1][::step][::-1]
    ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=TEXT_PT)
    ax.set_ylim(0, float(data["referred_pct"].max()) * 1.25)
    _ylabel(ax, "police referrals to the service, % of police DA incidents")
    plain_numbers(ax, decimals=0, suffix="%")
    from daanalysis.metrics.partnership import trend

    direction = trend(data, "referred_pct", quarters=8)
    change, low, high = direction["per_year"], direction["low"], direction["high"]
    # A direction is stated only when the slope's 95% interval excludes no change.
    if low > 0 or high < 0:
        moved = f"{'rising' if change > 0 else 'falling'} ({change:+.1f} points a year)"
    elif pd.notna(low):
        moved = f"no clear trend ({change:+.1f} points a year, 95% CI {low:+.1f} to {high:+.1f})"
    else:
        moved = "too few quarters for a trend"
    last = data.iloc[-1]
    title = (
        f"{last['referred_pct']:.1f}% of police DA incidents led to a police referral to the "
        f"service in {_quarters_text(data['quarter'].tail(1))[0]}, {moved}"
    )
    texts = _quarters_text(data["quarter"])
    period = f"{texts[0]} to {texts[-1]}"
    alt = (
        f"Chart: Line chart of police referrals to the service as a share of police-recorded DA "
        f"incidents, by quarter, {period}. {title}. Values range from "
        f"{data['referred_pct'].min():.1f}% to {data['referred_pct'].max():.1f}%."
    )
    out = pd.DataFrame(
        {"quarter": _quarters_text(data["quarter"]), "referred_pct": data["referred_pct"].round(1)}
    )
    return _finish(
        fig,
        title,
        _subtitle(area, "police-to-service conversion", period),
        source,
        alt,
        out,
    )


# --- SVG output -----------------------------------------------------------------------------------


def _figure_svg(fig) -> tuple[str, dict]:
    """IPython display formatter: a figure as SVG, with its alt text as display metadata."""
    return svg_text(fig), {"alt": getattr(fig, "da_alt", "") or "Chart"}


def register_svg_formatter() -> None:
    """Show every matplotlib figure in a notebook as SVG carrying its ``da_alt`` text, so a
    chart a notebook shows itself (not through :meth:`Page.chart`) is accessible too."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    formatters["image/png"].pop(Figure, None)
    formatters["image/svg+xml"].for_type(Figure, _figure_svg)


def tight_layout(fig: Figure, rect: tuple[float, float, float, float]) -> None:
    """``fig.tight_layout(rect=rect)``, with each axes measured once rather than twice.

    Given a ``rect``, matplotlib's tight layout measures every axes (its tick labels, title and
    labels: a pass over each axis) twice, the second time to fit the first answer into the
    rectangle, with the axes where they were: the same boxes (``matplotlib/_tight_layout.py``,
    ``get_tight_layout_figure``). Each axes' box is kept for that second pass, keyed by the
    renderer and the axes' place, so the layout is the same to the byte at half the cost
    (about a sixth of a chart's processor time, issue 22)."""
    measured: dict[tuple, object] = {}

    def once(ax, measure):
        def get_tightbbox(renderer=None, *args, **kwargs):
            if args or set(kwargs) - {"for_layout_only"}:
                return measure(renderer, *args, **kwargs)
            where = (ax.get_position(original=True).bounds, ax.get_position().bounds)
            key = (id(ax), id(renderer), kwargs.get("for_layout_only", False), where)
            if key not in measured:
                measured[key] = measure(renderer, **kwargs)
            box = measured[key]
            return None if box is None else box.frozen()

        return get_tightbbox

    axes = list(fig.axes)
    for ax in axes:
        ax.get_tightbbox = once(ax, ax.get_tightbbox)
    try:
        fig.tight_layout(rect=rect)
    finally:
        for ax in axes:
            ax.__dict__.pop("get_tightbbox", None)


def _svg(fig) -> str:
    """``fig`` as SVG, cut to the box round what it draws (``bbox_inches="tight"``), drawn once.

    ``savefig(bbox_inches="tight")`` draws a figure twice: a draw that renders nothing, which
    places everything, then the SVG, with the tight box measured in between. A chart laid out
    by :func:`tight_layout` has nothing left to place: its tight box is measured here as
    ``savefig`` measures it (an SVG renderer at 72 dpi, padded by ``savefig.pad_inches``) and
    given to ``savefig``, which then draws once: about a fifth of a chart's processor time
    (issue 22). The box is the same to the last bit (38 renderings of the pack's charts);
    the SVG differs from ``savefig``'s own at most in the sixth decimal of a coordinate here and
    there (``savefig`` scales the figure's box by 72 / 110 and back) and so in the clip paths'
    ids, which hash their coordinates: the same picture, pixel for pixel in Chromium. A figure
    with a layout engine of its own (constrained layout) is saved the usual way."""
    from matplotlib.backends.backend_svg import RendererSVG

    buffer = io.StringIO()
    engine = fig.get_layout_engine()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "daanalysis"}):
        pad = plt.rcParams["savefig.pad_inches"]
        laid_out = engine is None or isinstance(engine, PlaceHolderLayoutEngine)
        if not laid_out or not isinstance(pad, (int, float)):
            fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
            return buffer.getvalue()
        dpi = fig.dpi
        fig.dpi = 72  # the SVG writer's
        try:
            width, height = fig.get_size_inches()
            renderer = RendererSVG(width * 72, height * 72, io.StringIO())
            box = fig.get_tightbbox(renderer).padded(pad)
        finally:
            fig.dpi = dpi
        fig.set_layout_engine(None)  # laid out already: no draw to place things again
        try:
            fig.savefig(buffer, format="svg", bbox_inches=box, metadata={"Date": None})
        finally:
            fig.set_layout_engine(engine)
    return buffer.getvalue()


def svg_text(fig) -> str:
    """The figure as SVG text (text kept as text, so it can be read and searched).

    A chart drawn at two widths (:func:`two_widths`) carries its phone rendering inside, as a
    comment before the closing tag (:data:`NARROW_MARK`): the SVG is the laptop chart to any
    viewer, and :func:`split_narrow` takes the phone's out for the page."""
    wide = _svg(fig)
    small = getattr(fig, "da_narrow", None)
    if small is None:
        return wide
    if getattr(fig, "da_narrow_svg", None) is None:
        fig.da_narrow_svg = _svg(small)
    packed = base64.b64encode(fig.da_narrow_svg.encode("utf-8")).decode("ascii")
    head, end, tail = wide.rpartition("</svg>")
    return f"{head}<!-- {NARROW_MARK}{packed} -->\n{end}{tail}"


def split_narrow(svg: str) -> tuple[str, str]:
    """``(laptop SVG, phone SVG in base64)`` from :func:`svg_text`'s output; the phone's is
    ``""`` for a chart drawn at one width."""
    import re

    found = re.search(rf"<!-- {NARROW_MARK}([A-Za-z0-9+/=]+) -->\n?", svg)
    if found is None:
        return svg, ""
    return svg[: found.start()] + svg[found.end() :], found.group(1)


def table(
    frame: pd.DataFrame,
    precision: int | None = None,
    formats: dict | None = None,
    title: str = "",
    source: str = "",
    notes: tuple[str, ...] | list[str] = (),
    **options,
):
    """A table through the house formatter (:func:`daanalysis.present.tables.format_table`).

    Give every published table a ``title`` (its caption) and a ``source`` (the line under it).
    ``formats`` is accepted for compatibility and ignored: formats follow from each column's
    kind, decided once per column (``options`` such as ``kinds`` or ``index`` pass through).
    Shown only: a page publishes a table (suppressed and recorded for the spreadsheet) with
    :meth:`daanalysis.present.page.Page.table`.
    """
    from daanalysis.present.tables import format_table

    return format_table(frame, title, source, notes, precision=precision, **options)
