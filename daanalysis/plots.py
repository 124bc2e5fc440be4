"""One house style for charts, sized for a committee paper (A4 portrait, 16 cm wide).

seaborn 0.13.2 on pandas 3 / matplotlib 3.11 warns about deprecated arguments it passes itself;
those warnings are filtered here, in one place, and nowhere else. Hue columns are cast to ``str``
and periods to timestamps before plotting, because pyarrow-backed or Period columns break
``lineplot``.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from daanalysis.config import Config
from daanalysis.periods import quarter_label

FIGSIZE = (8.0, 3.6)
PALETTE = {"confidence": "#1b7837", "need": "#762a83", "context": "#4d4d4d"}
RAG_COLOURS = {
    "red": "#c0392b",
    "amber": "#e69f00",
    "amber/green": "#b5c334",
    "green": "#2e8b57",
    "not rated": "#999999",
    "unknown": "#cccccc",
}


def setup() -> None:
    """Apply the house style and silence seaborn's known pandas 3 / matplotlib 3.11 warnings."""
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="seaborn")
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module="seaborn")
    warnings.filterwarnings("ignore", category=FutureWarning, module="seaborn")
    warnings.filterwarnings("ignore", message=".*vert.*", category=UserWarning)
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def _months(values: pd.Series) -> pd.Series:
    return values.dt.to_timestamp() if isinstance(values.dtype, pd.PeriodDtype) else values


def _campaign_lines(ax, campaigns: pd.DataFrame) -> None:
    for _, c in campaigns.iterrows():
        ax.axvline(c["start_date"], color="#e66101", linestyle="--", linewidth=1)
        ax.annotate(
            c["name"],
            (c["start_date"], 1),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="#e66101",
        )


def streams_chart(panel: pd.DataFrame, streams: dict, campaigns: pd.DataFrame) -> Figure:
    """Confidence and need streams, 3-month rolling, indexed to their first 12 months = 100."""
    long = []
    for col, spec in streams.items():
        if col not in panel or panel[col].isna().all():
            continue
        series = panel.set_index("month")[col].rolling(3).mean()
        base = panel[col].head(12).mean()
        long.append(
            pd.DataFrame(
                {
                    "month": _months(pd.Series(series.index)),
                    "index": (100 * series / base).to_numpy(),
                    "indicator": spec.label,
                    "type": f"{spec.kind}-sensitive",
                }
            )
        )
    data = pd.concat(long, ignore_index=True).dropna()
    fig, axes = plt.subplots(1, 2, figsize=(FIGSIZE[0], FIGSIZE[1] * 1.1), sharey=True)
    for ax, kind in zip(axes, ["confidence-sensitive", "need-sensitive"], strict=True):
        part = data[data["type"] == kind]
        sns.lineplot(data=part, x="month", y="index", hue="indicator", ax=ax, linewidth=1.4)
        _campaign_lines(ax, campaigns)
        ax.axhline(100, color="black", linewidth=0.6)
        ax.set_title(kind.capitalize())
        ax.set_xlabel("")
        ax.set_ylabel("Index (first year = 100), 3-month average")
        ax.legend(fontsize=7, loc="upper left", title=None)
    fig.tight_layout()
    return fig


def rate_ratio_chart(fits: pd.DataFrame) -> Figure:
    """Forest plot: the campaign step and the trend per year for each stream, with 95% CIs."""
    terms = fits[fits["term"].isin(["all campaigns", "trend (per year)"])].copy()
    terms["label"] = (
        terms["indicator"] + " - " + terms["term"].str.replace("all campaigns", "campaign step")
    )
    terms = terms.iloc[::-1]
    fig, ax = plt.subplots(figsize=(FIGSIZE[0], 0.32 * len(terms) + 1))
    colours = terms["kind"].map(PALETTE)
    ax.errorbar(
        terms["rate_ratio"],
        range(len(terms)),
        xerr=[terms["rate_ratio"] - terms["ci_low"], terms["ci_high"] - terms["rate_ratio"]],
        fmt="none",
        ecolor=list(colours),
        elinewidth=1.5,
    )
    ax.scatter(terms["rate_ratio"], range(len(terms)), c=list(colours), zorder=3)
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_yticks(range(len(terms)), terms["label"], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("Rate ratio with 95% interval (1 = no change; log scale)")
    ax.set_title("Campaign steps and underlying trends")
    fig.tight_layout()
    return fig


def _safe_band(ax, config: Config, level: bool = True) -> None:
    ax.axhspan(
        config.safe_band_lower,
        config.safe_band_upper,
        color="#2e8b57",
        alpha=0.15,
        label=f"Safe band {config.safe_band_lower:.0f}-{config.safe_band_upper:.0f}",
    )
    if level:
        ax.axhline(
            config.safe_caseload_per_fte,
            color="#2e8b57",
            linewidth=1,
            label=f"Safe level {config.safe_caseload_per_fte:.0f}",
        )


def caseload_chart(caseload: pd.DataFrame, config: Config, months: int = 36) -> Figure:
    """Open cases per caseworker FTE at each month end against the safe band."""
    data = caseload.dropna(subset=["per_fte"]).tail(months)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    x = _months(data["month"])
    _safe_band(ax, config)
    ax.plot(
        x,
        data["per_fte"],
        color="#333333",
        marker="o",
        markersize=3,
        label="Open cases per caseworker FTE",
    )
    ax.set_ylabel("Open cases per FTE (month end)")
    ax.set_ylim(0, max(config.safe_band_upper, data["per_fte"].max()) * 1.15)
    ax.set_title("Caseload per caseworker against the safe band")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def projection_chart(projections: dict[str, pd.DataFrame], config: Config) -> Figure:
    """Projected caseload per FTE under each staffing scenario, against the safe band."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    _safe_band(ax, config, level=False)
    for name, proj in projections.items():
        labels = [quarter_label(q, with_months=False) for q in proj["quarter"]]
        ax.plot(labels, proj["per_fte"], marker="o", markersize=3, label=name)
    ax.set_ylabel("Open cases per FTE")
    ax.set_title("Projected caseload per FTE if demand keeps growing")
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def response_chart(kpi: pd.DataFrame, quarters: int = 8) -> Figure:
    """Share first contacted within the KPI, by quarter, against the target."""
    data = kpi.tail(quarters)
    labels = [quarter_label(q, with_months=False) for q in data["quarter"]]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.bar(labels, data["within_kpi_pct"], color=[RAG_COLOURS[r] for r in data["rag"]])
    ax.axhline(data["target_pct"].iloc[-1], color="black", linestyle="--", label="Target")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% contacted within one working day")
    ax.set_title("Response time KPI")
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def rag_chart(counts: pd.DataFrame) -> Figure:
    """Actions by priority, stacked by RAG status (``counts``: priority x RAG)."""
    order = [c for c in RAG_COLOURS if c in counts.columns]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    counts[order].plot.barh(stacked=True, ax=ax, color=[RAG_COLOURS[c] for c in order])
    ax.invert_yaxis()
    ax.set_xlabel("Actions")
    ax.set_ylabel("")
    ax.set_title("Action plan progress at the latest review")
    ax.legend(fontsize=8, title=None, loc="lower right")
    fig.tight_layout()
    return fig


def table(frame: pd.DataFrame, precision: int = 1, formats: dict | None = None) -> Styler:
    """A table in the house style: no index, text left-aligned, numbers to ``precision``.

    Missing values show as ``-``; the disclosure marker ``[c]`` passes through unchanged.
    """
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    frame = frame.reset_index(drop=True)  # the index is hidden; Styler needs it unique
    styler = frame.style.hide(axis="index").format(precision=precision, na_rep="-")
    if formats:
        styler = styler.format(formats, na_rep="-")
    return styler.set_properties(subset=text, **{"text-align": "left"}).set_table_styles(
        [{"selector": "th", "props": [("text-align", "left")]}]
    )
