"""Areas compared: the funnel plot, its finding and the tables (daanalysis.metrics.comparison)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from daanalysis.metrics.comparison import BANDS, COUNT_NAMES, SIZE_NAMES, Funnel
from daanalysis.metrics.demand import Verdict
from daanalysis.present import charts
from daanalysis.present.words import VERDICT_FIGURES, in_sentence

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


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _names(areas: list[str]) -> str:
    return areas[0] if len(areas) == 1 else ", ".join(areas[:-1]) + " and " + areas[-1]


def funnel_chart(
    f: Funnel, period: str = "", source: str = "", unit: str = "", threshold: float = 0
) -> Figure:
    """Each area's rate against its size, with the 95% and 99.8% control limits and the target.

    ``unit``: the size's name on the x axis (for example "adults 16+"). Areas without a figure
    are left off and named in the alt text, as are areas whose count is below ``threshold`` (the
    suppression threshold: a point's position and the area's size would give the count away).
    """
    small = f.areas["count"] < threshold
    data = f.areas[(f.areas["band"] != "") & ~small].sort_values("size")
    fig, ax = plt.subplots(figsize=charts.FIGSIZE)
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
    title = finding(f).split(":")[0]
    subtitle = f"Areas compared{', ' + period if period else ''}; target: {f.target_source}"
    return charts._finish(fig, title, subtitle, source, alt, out.round(2), right=0.86)


def rates_table(f: Funnel, size_column: str, count_column: str) -> pd.DataFrame:
    """One row per area: its size, count, rate and where it lies against the limits; areas
    without a figure say so. Publish with ``rates={rate: count}`` so a rate resting on a small
    count is hidden with it."""
    areas = f.areas
    return pd.DataFrame(
        {
            "Area": areas["area"],
            _first_upper(SIZE_NAMES[size_column]): areas["size"].round(1),
            COUNT_NAMES[count_column]: areas["count"],
            f.measure: areas["rate"].round(1),
            "Against the limits": areas["band"].replace("", "no figure"),
        }
    )


def verdicts_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """The demand verdict of every area in one table: the verdict in words and the primary
    contrast (the relative change in confidence-sensitive referrals) with its 95% interval."""
    rows = []
    for v in verdicts:
        primary = v.primary or {}
        rows.append(
            {
                "Area": v.area,
                "Verdict": VERDICT_FIGURES.get(v.verdict, v.verdict),
                "Relative change in reporting (ratio)": primary.get("rate_ratio"),
                "95% CI lower": primary.get("ci_low"),
                "95% CI upper": primary.get("ci_high"),
            }
        )
    frame = pd.DataFrame(rows)
    numeric = frame.columns[2:]
    frame[numeric] = frame[numeric].astype(float).round(2)
    return frame
