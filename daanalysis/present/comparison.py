"""Areas compared: the funnel plot, its finding and the tables (daanalysis.metrics.comparison),
and the page's sections as one call each (``notebooks/area_comparison.ipynb`` imports only
this layer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from daanalysis.metrics import comparison
from daanalysis.metrics.comparison import (
    BANDS,
    COUNT_NAMES,
    MEASURES,
    SIZE_NAMES,
    Benchmark,
    Funnel,
)
from daanalysis.metrics.demand import Verdict
from daanalysis.metrics.kpi import KPI
from daanalysis.present import charts, notebook
from daanalysis.present.words import VERDICT_FIGURES, capitalised, in_sentence

if TYPE_CHECKING:
    from daanalysis.present.notebook import Context
    from daanalysis.present.page import Page

BENCHMARK_COLOUR = "#6F2C91"  # purple: apart from the points' blue and orange (3:1 on white)

LIMIT_COLOUR = "#595959"
LABEL_ALL_UP_TO = 8  # more areas than this: only those outside the 95% limits are labelled


def finding(f: Funnel) -> str:
    """One sentence: which areas lie outside the limits, and what that can mean."""
    shown = f.areas[f.areas["band"] != ""]
    above = shown.loc[shown["band"] == BANDS[4], "area"].tolist()
    below = shown.loc[shown["band"] == BANDS[0], "area"].tolist()
    if not above and not below:
        return (
            f"No area of {len(shown)} is outside the 99.8% limits for "
            f"{in_sentence(f.measure)}: the differences are within what chance and area size "
            "explain."
        )
    parts = []
    if above:
        parts.append(f"{_names(above)} {'is' if len(above) == 1 else 'are'} above")
    if below:
        parts.append(f"{_names(below)} {'is' if len(below) == 1 else 'are'} below")
    return (
        f"{' and '.join(parts)} the 99.8% limits for {in_sentence(f.measure)}: "
        "a difference chance is very unlikely to explain, worth asking about (recording, "
        "services or need) before reading it as performance."
    )


def _names(areas: list[str]) -> str:
    return areas[0] if len(areas) == 1 else ", ".join(areas[:-1]) + " and " + areas[-1]


@charts.two_widths
def funnel_chart(
    f: Funnel,
    period: str = "",
    source: str = "",
    unit: str = "",
    threshold: float = 0,
    benchmarks: Sequence[Benchmark] = (),
) -> Figure:
    """Each area's rate against its size, with the 95% and 99.8% control limits and the target.

    ``unit``: the size's name on the x axis (for example "adults 16+"). Areas without a figure
    are left off and named in the alt text, as are areas whose count is below ``threshold`` (the
    suppression threshold: a point's position and the area's size would give the count away).
    ``benchmarks``: public figures for the measure (``benchmarks.csv``), each a dotted
    reference line labelled with its name, also in the alt text and the chart's data.
    """
    small = f.areas["count"] < threshold
    data = f.areas[(f.areas["band"] != "") & ~small].sort_values("size")
    # A phone's rendering too (charts.two_widths): drawn at its width, not the laptop's shrunk.
    fig, ax = plt.subplots(figsize=charts.figure_size(charts.FIGSIZE, 3.4))
    lo = max(data["size"].min() * 0.5, 1e-9)
    hi = data["size"].max() * 1.1
    grid = np.linspace(lo, hi, 200)
    lim = f.limits(grid)
    ax.axhline(f.target, color="#000000", linewidth=1)
    # The 99.8% label at the upper end and the 95% at the lower, where they do not collide.
    for level, style, side_label in (("95", "--", "lower"), ("99.8", "-", "upper")):
        for side in ("lower", "upper"):
            ax.plot(grid, lim[f"{side}_{level}"], color=LIMIT_COLOUR, linestyle=style, linewidth=1)
        ax.annotate(
            f"{level}% limits",
            (grid[-1], lim[f"{side_label}_{level}"].iloc[-1]),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=charts.TEXT_PT,
            color=LIMIT_COLOUR,
            annotation_clip=False,
        )
    for mark in benchmarks:
        ax.axhline(mark.value, color=BENCHMARK_COLOUR, linestyle=":", linewidth=1.5)
        ax.annotate(
            f"{mark.name}: {mark.value:,.1f}",
            (lo, mark.value),
            xytext=(2, 3),
            textcoords="offset points",
            fontsize=charts.TEXT_PT,
            color=BENCHMARK_COLOUR,
        )
    outside = data["band"] != BANDS[2]
    ax.scatter(
        data.loc[~outside, "size"],
        data.loc[~outside, "rate"],
        color="#0072B2",
        s=22,
        zorder=3,
        label="within limits",
    )
    ax.scatter(
        data.loc[outside, "size"],
        data.loc[outside, "rate"],
        color="#D55E00",
        marker="D",
        s=28,
        zorder=3,
        label="outside 95% limits",
    )
    label = data if len(data) <= LABEL_ALL_UP_TO else data[outside]
    for _, row in label.iterrows():
        ax.annotate(
            str(row["area"]),
            (row["size"], row["rate"]),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=charts.TEXT_PT,
        )
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if charts.narrow():  # sizes such as 250,000 side by side need the width of a laptop
        ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.set_xlabel(f"Size of area ({unit})" if unit else "Size of area")
    charts._ylabel(ax, f.measure)
    charts.plain_numbers(ax, decimals=1 if f.target < 100 else 0)
    missing = f.areas.loc[f.areas["band"] == "", "area"].tolist()
    alt = (
        f"Chart: Funnel plot of {in_sentence(f.measure)} against the size of each of {len(data)} "
        f"areas, with the target of {f.target:,.1f} and 95% and 99.8% control limits that "
        f"narrow as areas grow. Rates range from {data['rate'].min():,.1f} to "
        f"{data['rate'].max():,.1f}. {finding(f)}"
        + (f" No figure for {_names(missing)}." if missing else "")
        + (
            f" {int(small.sum())} area(s) with fewer than {threshold:g} are not shown."
            if small.any()
            else ""
        )
        + "".join(
            f" Reference line: {m.name}, {m.value:,.1f} ({m.period}; {m.source})."
            for m in benchmarks
        )
    )
    out = data[
        [
            "area",
            "count",
            "size",
            "rate",
            "lower_95",
            "upper_95",
            "lower_99.8",
            "upper_99.8",
            "band",
        ]
    ].rename(
        columns={
            "rate": f.measure,
            "lower_95": "95% lower limit",
            "upper_95": "95% upper limit",
            "lower_99.8": "99.8% lower limit",
            "upper_99.8": "99.8% upper limit",
            "band": "position",
        }
    )
    if benchmarks:  # the reference lines in the chart's data, after the areas
        marks = pd.DataFrame({"area": [f"Benchmark: {m.name}" for m in benchmarks]})
        out = pd.concat([out, marks.assign(**{f.measure: [m.value for m in benchmarks]})])
    title = finding(f).split(":")[0]
    subtitle = f"Areas compared{', ' + period if period else ''}; target: {f.target_source}"
    # Room on the right for the limits' labels (wider, as a share, on a phone).
    right = 0.74 if charts.narrow() else 0.86
    return charts._finish(fig, title, subtitle, source, alt, out.round(2), right=right)


def rates_table(f: Funnel, size_column: str, count_column: str) -> pd.DataFrame:
    """One row per area: its size, count, rate and where it lies against the limits; areas
    without a figure say so. Publish with ``rates={rate: count}`` so a rate resting on a small
    count is hidden with it."""
    areas = f.areas
    return pd.DataFrame(
        {
            "Area": areas["area"],
            capitalised(SIZE_NAMES[size_column]): areas["size"].round(1),
            COUNT_NAMES[count_column]: areas["count"],
            f.measure: areas["rate"].round(1),
            "Against the limits": areas["band"].replace("", "no figure"),
        }
    )


def verdicts_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """The demand verdict of every area in one table: the verdict in words and the primary
    contrast (the relative change in confidence-sensitive referrals) with its interval, at the
    level the verdicts state (95%)."""
    levels = {v.primary.get("level", 0.95) for v in verdicts if v.primary}
    level = f"{100 * (levels.pop() if len(levels) == 1 else 0.95):.0f}% CI"
    rows = []
    for v in verdicts:
        primary = v.primary or {}
        rows.append(
            {
                "Area": v.area,
                "Verdict": VERDICT_FIGURES.get(v.verdict, v.verdict),
                "Relative change in reporting (ratio)": primary.get("rate_ratio"),
                f"{level} lower": primary.get("ci_low"),
                f"{level} upper": primary.get("ci_high"),
            }
        )
    frame = pd.DataFrame(rows)
    numeric = frame.columns[2:]
    frame[numeric] = frame[numeric].astype(float).round(2)
    return frame


def benchmarks_table(marks: Sequence[Benchmark], measure: str) -> pd.DataFrame:
    """The public benchmarks of one measure as a table: name, figure, period and source."""
    return pd.DataFrame(
        {
            "Benchmark": [m.name for m in marks],
            measure: [round(m.value, 1) for m in marks],
            "Period": [m.period for m in marks],
            "Source": [m.source for m in marks],
        }
    )


# --- the page's sections -------------------------------------------------------------------------

# Each measure's source line and the period its figures cover (a 12-month sum or a month end).
SOURCES = {
    MEASURES[0][
        0
    ]: "Source: referrals (case records or returns); ONS mid-year population estimates.",
    MEASURES[1][0]: "Source: MARAC returns; ONS mid-year population estimates.",
    MEASURES[2][0]: (
        "Source: referrals (open cases at the month end); staffing (caseworker FTE in post)."
    ),
}
TWELVE_MONTHS = {MEASURES[0][0], MEASURES[1][0]}
VERDICTS_SOURCE = (
    "Source: each area's referrals, need-sensitive figures (police-recorded crimes, MARAC cases, "
    "high-risk and repeat referrals) and campaigns."
)
NO_BENCHMARKS = (
    "No public benchmark was supplied (benchmarks.csv in the data folder), so none is shown: "
    "each centre line is the areas' own combined rate."
)


def compare(ctx: Context) -> dict[str, Funnel | str]:
    """Every measure's funnel of the areas of ``ctx`` (a partnership page's context) at its
    quarter, or why it cannot be drawn: :func:`daanalysis.metrics.comparison.compare`."""
    return comparison.compare(ctx.panel, ctx.quarter)


def public_benchmarks(ctx: Context) -> dict[str, list[Benchmark]]:
    """The rows of the optional ``benchmarks.csv`` by measure (none for each when absent)."""
    return comparison.benchmarks(ctx.extract["benchmarks"])


def summary_lines(
    ctx: Context, results: dict[str, Funnel | str], marks: dict[str, list[Benchmark]]
) -> list[str]:
    """The page's opening: how many areas, then each measure's finding, then whether public
    benchmarks were supplied."""
    areas = ctx.panel["area"].nunique()
    lines = [f"**{areas} areas, {ctx.label}**"]
    lines += [f"- {finding(r) if isinstance(r, Funnel) else r}" for r in results.values()]
    given = sum(len(m) for m in marks.values())
    lines.append(
        f"- {given} public benchmark{'' if given == 1 else 's'} from benchmarks.csv shown as "
        "reference lines (their sources are listed under each table)."
        if given
        else f"- {NO_BENCHMARKS}"
    )
    return lines


def is_funnel(result: Funnel | str) -> bool:
    """Whether a measure was compared (a :class:`Funnel`) rather than left out with a reason."""
    return isinstance(result, Funnel)


def show_measure(
    page: Page,
    ctx: Context,
    results: dict[str, Funnel | str],
    marks: dict[str, list[Benchmark]],
    measure: str,
) -> None:
    """One measure's section (``measure``: its label in :data:`MEASURES` or its key in
    ``benchmarks.csv``): the funnel plot with any public benchmarks as reference lines, the note
    on its limits, the table of areas (a rate on a small count hidden with it) and the
    benchmarks' own table; or the reason it was not compared."""
    from IPython.display import Markdown, display

    measure = {k: m for m, k in comparison.MEASURE_KEYS.items()}.get(measure, measure)
    result = results[measure]
    if not isinstance(result, Funnel):
        display(Markdown(f"*{result}*"))
        return
    _, count, size, _ = next(m for m in MEASURES if m[0] == measure)
    source = SOURCES[measure]
    period = (
        f"12 months to the end of {ctx.label}"
        if measure in TWELVE_MONTHS
        else f"at the end of {ctx.label}"
    )
    chart = funnel_chart(
        result,
        period,
        source,
        unit=SIZE_NAMES[size],
        threshold=page.threshold,
        benchmarks=marks.get(measure, ()),
    )
    page.chart(chart, source=source)
    display(Markdown(f"*{result.note}*"))
    table = rates_table(result, size, count)
    title = measure.split(" (")[0]
    page.table(
        table,
        f"{title} by area, {period}",
        source,
        rates={measure: table.columns[2]},
        not_counts=[table.columns[1]],  # a population or FTE, not a count of people
    )
    if marks.get(measure):
        page.table(
            benchmarks_table(marks[measure], measure),
            f"Public benchmarks: {in_sentence(title)}",
            "Source: benchmarks.csv in the data folder (each row's source is given).",
            not_counts=True,  # published rates, no counts of people
        )


def show_verdicts(page: Page, ctx: Context) -> list[Verdict]:
    """The demand verdict of every area in one table (the same call as each area's own page:
    in a quarterly run, the verdicts the area pages recorded, worked out once); returns the
    verdicts."""
    areas = sorted(ctx.panel["area"].unique())
    known = notebook.recorded_verdicts(ctx, areas)
    verdicts = comparison.area_verdicts(ctx.extract, ctx.panel, ctx.quarter, known)
    page.table(
        verdicts_table(verdicts),
        f"Demand verdict by area, {ctx.label}",
        VERDICTS_SOURCE,
        not_counts=True,  # verdicts and ratios, no counts of people
    )
    return verdicts


def check_lines(results: dict[str, Funnel | str], verdicts: list[Verdict]) -> list[str]:
    """The headline figures the notebook's check cell prints (nbval compares them)."""
    lines = [
        f"{measure} {r.areas['band'].value_counts().to_dict()}"
        if isinstance(r, Funnel)
        else f"{measure} {r}"
        for measure, r in results.items()
    ]
    return [*lines, str([(v.area, v.verdict) for v in verdicts])]


def outside_kpis(results: dict[str, Funnel | str]) -> list[KPI]:
    """The page's headline figures: how many areas lie outside the 99.8% limits, by measure."""
    return [
        KPI(
            key=f"areas_outside_{i}",
            label=f"Areas outside the 99.8% limits: {measure}",
            value=int(result.areas["band"].str.contains("99.8").sum()),
            unit="areas",
        )
        for i, (measure, result) in enumerate(results.items())
        if isinstance(result, Funnel)
    ]
