"""Demand versus reporting: is a rise in referrals more people coming forward, or more need?

Volume is not need. Streams that move with *confidence to report* (self-referrals, first-time
clients, standard and medium risk) are set beside streams that move with *need* (high risk,
repeats within 12 months, police-recorded crimes, MARAC volume). Each stream gets a count model
with trend, month-of-year seasonality and a step at each campaign start. If the confidence streams
step up at campaigns while the need streams follow their trend, that is evidence of more reporting
rather than more abuse: evidence, with its uncertainty, never proof. This is the logic ONS applies
when police figures rise while the Crime Survey for England and Wales stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from daanalysis.config import Config
from daanalysis.panel import (
    RECORDS_ONLY,
    NeedsRecordLevelData,
    complete_months,
    quarterly,
    require_records,
)
from daanalysis.periods import QUARTER_FREQ, quarter_label


@dataclass(frozen=True)
class Stream:
    column: str
    label: str
    kind: str  # "confidence", "need" or "context"
    linked: bool = False  # needs client linkage: left-censored at the start of an extract


STREAMS: dict[str, Stream] = {
    s.column: s
    for s in (
        Stream("referrals", "All referrals", "context"),
        Stream("self_referrals", "Self-referrals", "confidence"),
        Stream("first_time", "First-time clients", "confidence", linked=True),
        Stream("standard_medium_risk", "Standard and medium risk", "confidence"),
        Stream("high_risk", "High risk (DASH)", "need"),
        Stream("repeat_12m", "Repeat referrals within 12 months", "need", linked=True),
        Stream("police_crimes", "Police-recorded DA crimes", "need"),
        Stream("marac_cases", "MARAC cases", "need"),
        Stream("police_incidents", "Police-recorded DA incidents", "context"),
    )
}
CONFIDENCE = [s.column for s in STREAMS.values() if s.kind == "confidence"]
NEED = [s.column for s in STREAMS.values() if s.kind == "need"]
MIN_MONTHS_AFTER_CAMPAIGN = 6
MIN_MODEL_COUNT = 50  # in the whole series: below this a trend and 11 seasonal terms overfit
MIN_MONTHS_BEFORE_CAMPAIGN = 12


def _quarter_sums(panel: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One area's complete-quarter sums, indexed by quarter."""
    return quarterly(panel, columns).set_index("quarter")[columns]


def _twelve_months(panel: pd.DataFrame, quarter: pd.Period, years_back: int = 0) -> pd.DataFrame:
    """The 12 monthly rows ending with ``quarter`` (``years_back`` years earlier), by month."""
    end = quarter.asfreq("M", how="end") - 12 * years_back
    return panel.set_index("month").loc[end - 11 : end]


def volumes(panel: pd.DataFrame, quarter: pd.Period) -> pd.DataFrame:
    """Each stream in ``quarter``: count, same quarter last year, change and rolling 12 months.

    ``panel`` is one area's monthly panel. Counts are referrals (or crimes, cases) in the quarter;
    ``change_pct`` is the percentage change on the same quarter a year earlier; ``rolling_12m``
    the 12 months to the quarter's end and ``rolling_change_pct`` its change on the 12 months
    before that.
    """
    columns = [c for c in STREAMS if c in panel and panel[c].notna().any()]
    q = _quarter_sums(panel, columns)
    if quarter not in q.index:
        raise ValueError(
            f"{quarter_label(quarter)} is not complete in the data (complete quarters: "
            f"{quarter_label(q.index.min())} to {quarter_label(q.index.max())})."
        )
    last12 = _twelve_months(panel, quarter)[columns]
    prev12 = _twelve_months(panel, quarter, years_back=1)[columns]
    rows = []
    for col in columns:
        now = q.at[quarter, col]
        before = q[col].get(quarter - 4, np.nan)
        r12 = last12[col].sum(min_count=12) if len(last12) == 12 else np.nan
        p12 = prev12[col].sum(min_count=12) if len(prev12) == 12 else np.nan
        rows.append(
            {
                "stream": col,
                "indicator": STREAMS[col].label,
                "kind": STREAMS[col].kind,
                "count": now,
                "same_quarter_last_year": before,
                "change_pct": 100 * (now / before - 1) if before else np.nan,
                "rolling_12m": r12,
                "rolling_change_pct": 100 * (r12 / p12 - 1) if p12 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def rates(panel: pd.DataFrame, quarter: pd.Period, config: Config) -> pd.DataFrame:
    """Rates for the 12 months to the end of ``quarter``.

    ``per_1000_adults``: referrals per 1,000 people aged 16+. ``reach_pct``: referrals as a
    percentage of the people expected to experience domestic abuse in a year (CSEW prevalence in
    config x adult population): a ceiling on how much of the need the service sees.
    """
    window = _twelve_months(panel, quarter)
    if len(window) < 12 or window["adults_16plus"].isna().all():
        raise ValueError("Rates need 12 months of referrals and the population table.")
    adults = window["adults_16plus"].iloc[-1]
    referrals = window["referrals"].sum()
    expected_victims = config.csew_prevalence * adults
    return pd.DataFrame(
        [
            {
                "measure": "Referrals per 1,000 adults 16+ (12 months)",
                "value": 1000 * referrals / adults,
                "benchmark": np.nan,
                "source": "ONS mid-year population estimates (population table)",
            },
            {
                "measure": "Reach: referrals as % of adults expected to experience DA (12 months)",
                "value": 100 * referrals / expected_victims,
                "benchmark": np.nan,
                "source": config.source("csew_prevalence"),
            },
        ]
    )


def marac_benchmark(panel: pd.DataFrame, quarter: pd.Period, config: Config) -> pd.DataFrame:
    """MARAC volume per 10,000 women 16+ and repeat rate, 12 months to ``quarter``, vs SafeLives."""
    window = _twelve_months(panel, quarter)
    if len(window) < 12 or window["marac_cases"].isna().all():
        raise ValueError("The MARAC benchmark needs 12 months of the marac table.")
    cases = window["marac_cases"].sum()
    repeats = window["marac_repeats"].sum(min_count=1)
    women = window["females_16plus"].iloc[-1]
    return pd.DataFrame(
        [
            {
                "measure": "MARAC cases per 10,000 women 16+ (12 months)",
                "value": 10000 * cases / women,
                "benchmark": config.marac_per_10k_women,
                "source": config.source("marac_per_10k_women"),
            },
            {
                "measure": "MARAC repeat rate (%)",
                "value": 100 * repeats / cases if cases else np.nan,
                "benchmark": 100 * config.marac_repeat_expected,
                "source": config.source("marac_repeat_expected"),
            },
        ]
    )


def repeat_rate(panel: pd.DataFrame) -> pd.DataFrame:
    """Share of referrals that are repeats within 12 months, by quarter (record-level only)."""
    require_records(panel, "The repeat referral rate")
    q = _quarter_sums(panel, ["referrals", "repeat_12m"])
    q["repeat_rate_pct"] = 100 * q["repeat_12m"] / q["referrals"]
    return q.reset_index()


def case_intensity(panel: pd.DataFrame, quarter: pd.Period) -> pd.DataFrame:
    """Mean days open of cases closed in the 12 months to ``quarter``, against the 12 before.

    A need-sensitive signal: longer cases suggest more complex need. Descriptive only: a case still
    open is not counted until it closes, so a recent rise in long cases shows late.
    """
    require_records(panel, "Case intensity (days open)")
    rows = []
    for label, window in (
        ("12 months to the quarter's end", _twelve_months(panel, quarter)),
        ("the 12 months before", _twelve_months(panel, quarter, years_back=1)),
    ):
        closed = window["cases_closed"].sum()
        days = (window["cases_closed"] * window["mean_days_open"].fillna(0)).sum()
        rows.append(
            {
                "period": label,
                "cases_closed": closed,
                "mean_days_open": days / closed if closed else np.nan,
            }
        )
    return pd.DataFrame(rows)


def service_volumes(referrals: pd.DataFrame, area: str, quarter: pd.Period) -> pd.DataFrame:
    """Referrals by service (victim, perpetrator, children) in ``quarter`` and a year earlier.

    The demand analysis uses victim-service referrals; this table keeps the other services in view
    (perpetrator referrals are a partnership priority).
    """
    ref = referrals[referrals["area"] == area]
    q = ref["referral_date"].dt.to_period(QUARTER_FREQ)
    now = ref[q == quarter]["service"].value_counts()
    before = ref[q == quarter - 4]["service"].value_counts()
    out = pd.DataFrame({"count": now, "same_quarter_last_year": before}).fillna(0).astype("int64")
    out["change_pct"] = 100 * (out["count"] / out["same_quarter_last_year"].replace(0, np.nan) - 1)
    out.index.name = "service"
    return out.reset_index()


def campaigns_for(campaigns: pd.DataFrame, area: str) -> pd.DataFrame:
    """Campaigns that ran in ``area`` (blank area means every area), by start date."""
    if campaigns.empty:
        return campaigns
    here = campaigns["area"].isna() | (campaigns["area"] == area)
    return campaigns[here].sort_values("start_date").reset_index(drop=True)


def _design(index: pd.PeriodIndex, campaigns: pd.DataFrame, quarterly: bool) -> pd.DataFrame:
    per_year = 4 if quarterly else 12
    x = pd.DataFrame(index=index)
    x["const"] = 1.0
    x["trend"] = np.arange(len(index)) / per_year  # years since the first period
    # Seasons are measured against the first of the financial year (April, or Q1).
    if quarterly:
        labels = pd.Index([f"Q{q}" for q in index.quarter])
    else:
        labels = pd.Index(index.strftime("%b"))
    first = labels[list(index.quarter if quarterly else index.month).index(1 if quarterly else 4)]
    for label in dict.fromkeys(labels):
        if label != first:
            x[f"season: {label}"] = (labels == label).astype(float)
    for _, c in campaigns.iterrows():
        start = c["start_date"].to_period(index.freqstr)
        x[f"step: {c['name']}"] = (index >= start).astype(float)
    return x


def step_change(
    panel: pd.DataFrame, stream: str, campaigns: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Fit one stream: log E[count] = trend + season + a step at each campaign start.

    A Poisson GLM with Pearson-scaled standard errors (quasi-Poisson), so over-dispersed counts
    get honest, wider intervals. Monthly data use month-of-year seasonality; aggregate returns
    that came quarterly are fitted on quarterly sums with quarter-of-year seasonality. Streams that
    need client linkage drop the first 12 months (a client referred before the extract began
    looks first-time). Campaigns too close to either end of the series to estimate are skipped.

    Returns rows of (stream, kind, term, rate_ratio, ci_low, ci_high, p_value) and notes.
    Terms: ``trend (per year)``, one ``step: <campaign>`` per campaign, ``all campaigns`` (the
    campaign steps together) and ``season: <month>`` against April (``season: Q2`` .. against Q1
    for quarterly data).
    """
    spec = STREAMS[stream]
    notes: list[str] = []
    # A partial last month would look like a fall in demand.
    data = panel.loc[complete_months(panel), ["month", stream]].dropna()
    if spec.linked and (panel["basis"] == "records").all():
        data = data[data["month"] >= data["month"].min() + 12]
    quarterly = panel.get("returns_frequency", pd.Series(["monthly"])).eq("quarterly").any()
    if quarterly:
        y = _quarter_sums(panel, [stream])[stream].dropna()
    else:
        y = data.set_index("month")[stream]
    index = pd.PeriodIndex(y.index)
    per_year = 4 if quarterly else 12
    usable = []
    for _, c in campaigns.iterrows():
        start = c["start_date"].to_period(index.freqstr)
        before = (index < start).sum()
        after = (index >= start).sum()
        if before * 12 / per_year < MIN_MONTHS_BEFORE_CAMPAIGN:
            notes.append(f"{c['name']}: too early in the data to estimate a step for {spec.label}.")
        elif after * 12 / per_year < MIN_MONTHS_AFTER_CAMPAIGN:
            notes.append(f"{c['name']}: too recent to estimate a step for {spec.label} yet.")
        else:
            usable.append(c)
    used = pd.DataFrame(usable, columns=campaigns.columns)
    x = _design(index, used, quarterly)
    if len(y) < x.shape[1] + 6:
        raise ValueError(
            f"{spec.label}: {len(y)} periods are too few to fit a trend and seasonality."
        )
    fit = sm.GLM(y.to_numpy(float), x, family=sm.families.Poisson()).fit(scale="X2")
    terms = ["trend", *[c for c in x.columns if c.startswith(("step: ", "season: "))]]
    rows = []
    for term in terms:
        est = fit.params[term]
        low, high = fit.conf_int().loc[term]
        rows.append(
            (term if term != "trend" else "trend (per year)", est, low, high, fit.pvalues[term])
        )
    steps = [c for c in x.columns if c.startswith("step: ")]
    if steps:
        contrast = np.array([[1.0 if c in steps else 0.0 for c in x.columns]])
        test = fit.t_test(contrast)
        low, high = np.asarray(test.conf_int())[0]
        rows.append(("all campaigns", float(test.effect[0]), low, high, float(test.pvalue)))
    out = pd.DataFrame(rows, columns=["term", "log_rr", "log_low", "log_high", "p_value"])
    out["rate_ratio"] = np.exp(out["log_rr"])
    out["ci_low"] = np.exp(out["log_low"])
    out["ci_high"] = np.exp(out["log_high"])
    out.insert(0, "kind", spec.kind)
    out.insert(0, "indicator", spec.label)
    out.insert(0, "stream", stream)
    out["periods"] = len(y)
    out["dispersion"] = fit.scale
    return out.drop(columns=["log_rr", "log_low", "log_high"]), notes


def fit_streams(
    panel: pd.DataFrame, campaigns: pd.DataFrame, streams: list[str] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """:func:`step_change` for every confidence and need stream the panel has.

    A stream that is absent, or too small to model (fewer than ``MIN_MODEL_COUNT`` in all), is
    left out with a note rather than given a misleading fit.
    """
    streams = streams or [*CONFIDENCE, *NEED]
    fits, notes = [], []
    for stream in streams:
        label = STREAMS[stream].label
        if stream not in panel or panel[stream].isna().all():
            reason = (
                "needs record-level referrals"
                if stream in RECORDS_ONLY or STREAMS[stream].linked
                else "not in the data"
            )
            notes.append(f"{label}: {reason}.")
            continue
        if panel[stream].sum() < MIN_MODEL_COUNT:
            notes.append(f"{label}: too few ({panel[stream].sum():.0f} in all) to model.")
            continue
        fit, fit_notes = step_change(panel, stream, campaigns)
        fits.append(fit)
        notes += fit_notes
    columns = [
        "stream",
        "indicator",
        "kind",
        "term",
        "p_value",
        "rate_ratio",
        "ci_low",
        "ci_high",
        "periods",
        "dispersion",
    ]
    return pd.concat([pd.DataFrame(columns=columns), *fits], ignore_index=True), sorted(set(notes))


def _confidence_word(p: float) -> str:
    if p < 0.01:
        return "high"
    if p < 0.05:
        return "moderate"
    return "low"


def _fmt_rr(row: pd.Series) -> str:
    return f"{row['rate_ratio']:.2f} ({row['ci_low']:.2f} to {row['ci_high']:.2f})"


SUMMARY_COLUMNS = [
    "indicator",
    "stream type",
    "direction",
    "change on last year (%)",
    "campaign step, rate ratio (95% CI)",
    "trend per year, rate ratio (95% CI)",
    "consistent with",
    "confidence",
]


def summary(fits: pd.DataFrame, vols: pd.DataFrame) -> pd.DataFrame:
    """Indicator, direction, campaign step, trend, what it is consistent with, and confidence.

    Direction is the change on the same quarter last year (up / down / flat within 2%). The
    reading is evidence, worded as such: a step at campaigns in a confidence stream is consistent
    with more reporting; a need stream that rises with its trend but shows no step is consistent
    with a real change in need.
    """
    rows = []
    for stream, fit in fits.groupby("stream", sort=False):
        spec = STREAMS[stream]
        vol = vols.set_index("stream")["change_pct"].get(stream, np.nan)
        direction = "flat" if abs(vol) < 2 else ("up" if vol > 0 else "down")
        trend = fit[fit["term"] == "trend (per year)"].iloc[0]
        step = fit[fit["term"] == "all campaigns"]
        step = step.iloc[0] if len(step) else None
        stepped = step is not None and step["ci_low"] > 1
        trend_up = trend["ci_low"] > 1
        trend_down = trend["ci_high"] < 1
        if spec.kind == "confidence":
            if stepped:
                reading = "more people coming forward after campaigns (reporting)"
                conf = _confidence_word(step["p_value"])
            elif step is None:
                reading = "no campaign to test against"
                conf = "low"
            else:
                reading = "no clear campaign effect on reporting"
                conf = "low"
        else:
            if stepped:
                reading = "campaigns may also have surfaced higher-need cases"
                conf = _confidence_word(step["p_value"])
            elif trend_up:
                reading = "an underlying rise in need, not linked to campaigns"
                conf = _confidence_word(trend["p_value"])
            elif trend_down:
                reading = "an underlying fall in need"
                conf = _confidence_word(trend["p_value"])
            else:
                reading = "no clear change in need"
                conf = "low"
        rows.append(
            {
                "indicator": spec.label,
                "stream type": spec.kind,
                "direction": direction,
                "change on last year (%)": round(vol, 1) if pd.notna(vol) else np.nan,
                "campaign step, rate ratio (95% CI)": _fmt_rr(step) if step is not None else "n/a",
                "trend per year, rate ratio (95% CI)": _fmt_rr(trend),
                "consistent with": reading,
                "confidence": conf,
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def headline(vols: pd.DataFrame, summary_table: pd.DataFrame, quarter: pd.Period) -> str:
    """The committee's answer in plain English, with the uncertainty stated."""
    total = vols.set_index("stream").loc["referrals"]
    change = total["change_pct"]
    opening = (
        f"In {quarter_label(quarter)} the service received {total['count']:,.0f} referrals, "
        f"{abs(change):.0f}% {'more' if change >= 0 else 'fewer'} than a year earlier."
    )
    conf = summary_table[summary_table["stream type"] == "confidence"]
    need = summary_table[summary_table["stream type"] == "need"]
    reporting = conf["consistent with"].str.startswith("more people").sum()
    need_rise = need["consistent with"].str.startswith("an underlying rise").sum()
    need_step = need["consistent with"].str.startswith("campaigns may").sum()
    if summary_table.empty:
        return opening + " No stream had enough referrals to model."
    parts = [opening]
    if reporting:
        parts.append(
            f"{reporting} of {len(conf)} confidence-sensitive streams stepped up after awareness "
            "campaigns, which is consistent with more people coming forward."
        )
    else:
        parts.append("The confidence-sensitive streams show no clear step at campaigns.")
    if need_step:
        parts.append(
            f"{need_step} of {len(need)} need-sensitive streams also stepped up at campaigns, so "
            "some of the rise may be more need being found."
        )
    elif need_rise:
        parts.append(
            f"{need_rise} of {len(need)} need-sensitive streams rise steadily with no campaign "
            "step, consistent with a slower real rise in need."
        )
    else:
        parts.append("The need-sensitive streams show no clear change.")
    parts.append("This is evidence from the pattern of the data, not proof of cause.")
    return " ".join(parts)


def source_breakdown(
    referrals: pd.DataFrame, area: str, quarter: pd.Period, services: tuple[str, ...] = ("victim",)
) -> pd.DataFrame:
    """Referrals in ``quarter`` by referral source (rows) and risk level (columns), with totals.

    Publish it through :func:`daanalysis.disclosure.suppress` with ``totals=True``: breakdowns
    are where small counts appear.
    """
    ref = referrals[
        (referrals["area"] == area)
        & referrals["service"].isin(services)
        & (referrals["referral_date"].dt.to_period(QUARTER_FREQ) == quarter)
    ]
    table = pd.crosstab(ref["referral_source"], ref["risk_level"])
    table = table.reindex(
        columns=[c for c in ("standard", "medium", "high", "unknown") if c in table.columns]
    )
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum()
    table.index.name = "referral source"
    table.columns.name = None
    return table.astype("int64")


DEMOGRAPHICS = ("gender", "age_band", "ethnicity", "disability")


def demographics(
    referrals: pd.DataFrame,
    area: str,
    quarter: pd.Period,
    field: str,
    services: tuple[str, ...] = ("victim",),
) -> pd.DataFrame:
    """Referrals by ``field`` (gender, age band, ethnicity, disability) in the 12 months to the
    end of ``quarter`` and the 12 months before, with each group's share, and a total row.

    For the action plan's aim of reaching under-represented groups. Publish it through
    :func:`daanalysis.disclosure.suppress` with ``totals="row"``; blank values are
    ``not recorded``.
    """
    ref = referrals[(referrals["area"] == area) & referrals["service"].isin(services)]
    month = ref["referral_date"].dt.to_period("M")
    end = quarter.asfreq("M", how="end")
    values = ref[field].fillna("not recorded").astype("str")
    table = (
        pd.DataFrame(
            {
                "previous 12 months": values[
                    (month > end - 24) & (month <= end - 12)
                ].value_counts(),
                "last 12 months": values[(month > end - 12) & (month <= end)].value_counts(),
            }
        )
        .fillna(0)
        .astype("int64")
    )
    # Age bands read in their own order; other groups largest first.
    table = (
        table.sort_index()
        if field == "age_band"
        else table.sort_values("last 12 months", ascending=False)
    )
    table.loc["total"] = table.sum()
    table["share last 12 months (%)"] = (
        100 * table["last 12 months"] / table.at["total", "last 12 months"]
    )
    table.index.name = field.replace("_", " ")
    return table.reset_index()


def kpis(vols: pd.DataFrame, fits: pd.DataFrame, summary_table: pd.DataFrame) -> list[dict]:
    """Headline figures for ``kpis.csv``."""
    v = vols.set_index("stream")
    rows = [
        {
            "kpi": "Referrals in quarter",
            "value": int(v.at["referrals", "count"]),
            "unit": "referrals",
        },
        {
            "kpi": "Referrals, change on same quarter last year",
            "value": round(v.at["referrals", "change_pct"], 1),
            "unit": "%",
        },
        {
            "kpi": "Referrals, rolling 12 months",
            "value": int(v.at["referrals", "rolling_12m"]),
            "unit": "referrals",
        },
    ]
    steps = fits[(fits["term"] == "all campaigns") & (fits["kind"] == "confidence")]
    for _, r in steps.iterrows():
        rows.append(
            {
                "kpi": f"{r['indicator']}: campaign step rate ratio",
                "value": round(r["rate_ratio"], 2),
                "unit": f"ratio (95% CI {r['ci_low']:.2f} to {r['ci_high']:.2f})",
            }
        )
    trends = fits[(fits["term"] == "trend (per year)") & (fits["kind"] == "need")]
    for _, r in trends.iterrows():
        rows.append(
            {
                "kpi": f"{r['indicator']}: underlying trend per year",
                "value": round(100 * (r["rate_ratio"] - 1), 1),
                "unit": f"% (95% CI {100 * (r['ci_low'] - 1):.1f} to "
                f"{100 * (r['ci_high'] - 1):.1f})",
            }
        )
    return rows


__all__ = [
    "CONFIDENCE",
    "NEED",
    "STREAMS",
    "NeedsRecordLevelData",
    "campaigns_for",
    "fit_streams",
    "headline",
    "marac_benchmark",
    "rates",
    "repeat_rate",
    "step_change",
    "summary",
    "volumes",
]
