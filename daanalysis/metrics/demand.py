"""Demand versus reporting: is a rise in referrals more people coming forward, or more need?

Volume is not need. Streams that move with *confidence to report* (self-referrals, first-time
clients, standard and medium risk) are set beside streams that move with *need* (high risk,
repeats within 12 months, police-recorded crimes, MARAC volume). The one verdict per area
(:func:`verdict`) compares them in a controlled interrupted time series: a campaign counts as
"reporting" only when a confidence stream rises *relative to* a need stream, so a real rise in
need, or a shock that hits every stream, cancels. Each stream on its own (:func:`fit_streams`)
is supporting evidence. This is the logic ONS applies when police figures rise while the Crime
Survey for England and Wales stays flat: evidence, with its uncertainty, never proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.metrics import data_notes as dn
from daanalysis.metrics import its
from daanalysis.metrics.data_notes import DataNote
from daanalysis.metrics.kpi import KPI
from daanalysis.metrics.small_counts import OTHER, rare_labels
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
MIN_MODEL_COUNT = 50  # in the whole series: below this a trend and 11 seasonal terms overfit


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
    # A month not collected leaves the 12 months incomplete: no rate, never a sum of 11 read as 12.
    referrals = window["referrals"].sum(min_count=12)
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
    cases = window["marac_cases"].sum(min_count=12)
    repeats = window["marac_repeats"].sum(min_count=12)
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


def events_for(events: pd.DataFrame, area: str) -> pd.DataFrame:
    """Events (``events.csv``) that apply in ``area`` (blank area means every area)."""
    return campaigns_for(events, area)


# --- the demand verdict: a controlled interrupted time series ----------------------------------

# Pre-specified in code, not in config, so that the contrast cannot be chosen after seeing the
# data. Standard and medium risk referrals are the largest confidence-sensitive stream that both
# record-level extracts and aggregate returns carry (see docs/methods.md for the power figures).
PRIMARY_CONFIDENCE = "standard_medium_risk"
# Police-recorded crimes first (independent of the service's own referral routes); the others
# only when the police table is missing, in this order.
CONTROLS = ("police_crimes", "marac_cases", "high_risk")
# The need-sensitive streams the primary contrast is measured against, combined into one control
# weighted by their precision (its.combine): the police series and the service's own need
# streams, those with two years of figures covering most of the control's periods.
NEED_COMBINED = ("police_crimes", "marac_cases", "high_risk", "repeat_12m")
MIN_SHARED_SPAN = 0.9  # a need stream joins the combination if it covers 90% of the control's
# The need streams (summed, other than the control) that a reporting claim must also hold
# against, and that must show a rise too for a "need" reading. They come from the service and
# the MARAC, not the police, so a change in how police record crime at the campaign date (which
# the control alone would read as reporting, or as need) does not move them, while a rise in
# need that reaches the service more than the police does.
CORROBORATING = ("high_risk", "marac_cases")
# The corroboration's interval (two-sided level 1 - this: 90%, so one-sided 5%) must lie above 1
# for a claim (docs/methods.md: chosen by measurement on tuning seeds).
CORROBORATION_ALPHA = 0.10
# The primary interval is widened by the placebo steps' root mean square (in standard errors)
# when it is above this: a clear excess. In simulated councils with no campaign its 90th
# percentile was 1.3-1.6 (the intervals are on the wide side there); on a real series with an
# undeclared lockdown, 2-3.5 (docs/methods.md).
PLACEBO_WIDEN_ABOVE = 1.5
PLACEBO_MAX_SHARE = 0.3  # above this share of placebo dates significant, the model is not trusted
MIN_PLACEBO_DATES = 5  # fewer: the placebo check is reported as not possible
MAX_DETECTABLE_RATIO = 1.5  # a "neither" needs the power to see a 50% reporting effect
MIN_RESIDUAL_DF = 15  # fewer periods left over after the control's terms: too short to trust
# With no placebo check possible, a reporting claim needs its interval at this level above 1
# (99%, not 95%): the stricter interval stands in for the safeguard that could not run.
NO_PLACEBO_ALPHA = 0.01
# A gradual effect (tried as version 5, not adopted): with n > 0, besides the step a claim may
# rest on a rise spread evenly over n months after each campaign start and then held, each
# shape's tests read at a level set from the correlation of the two shapes' estimates
# (its.joint_alpha), so a claim by either keeps the one-sided level of one test. Measured with
# n = 12 in the full study (docs/methods.md, "What was tried in version 5"): power for a 12-month
# ramp 26.5% -> 51.5%, its coverage 62.5% -> 97.0%, but a 1.3x step 83.0% -> 74.0% and false
# claims 6.0% when an undeclared lockdown's recovery meets a campaign (the recovery reads as a
# ramp). 0: the step alone (version 4, the default).
RAMP_ALTERNATIVE_MONTHS = 0
DRIFT_RHO = 0.5  # month-to-month correlation left in the difference: the streams drift apart
# Smallest effects worth a committee's attention: in very large series a 1% shift can be
# "significant" and still mean nothing for services.
MIN_REPORTING_EFFECT = 1.05  # a reporting effect needs its estimate at least 5% up
MIN_NEED_TREND = 1.02  # need rising: at least 2% a year (or a 5% step at the campaigns)
PARTIAL_LAST_SHARE = 0.7  # a last value this far below the year before is probably partial
VERDICTS = ("reporting", "need", "both", "neither", "inconclusive")
PATH_COLUMNS = ["period", "observed", "fitted", "without_campaigns", "control"]


def _is_quarterly(panel: pd.DataFrame) -> bool:
    return bool(panel.get("returns_frequency", pd.Series(["monthly"])).eq("quarterly").any())


def stream_series(
    panel: pd.DataFrame, stream: str, quarter: pd.Period | None = None
) -> tuple[pd.Series, list[DataNote]]:
    """One stream as a count series for modelling, and what was checked about it.

    Months after ``quarter``, partial months and months with no figure are left out; a stream
    that needs client linkage drops its first 12 months (a client referred before the extract
    began looks first-time). The checks name data that end before ``quarter``, gaps, and a last
    value so far below the year before that the month is probably partial (left out).
    Quarterly returns give quarterly sums of complete quarters.
    """
    spec = STREAMS[stream]
    checks: list[DataNote] = []
    if _is_quarterly(panel):
        data = _quarter_sums(panel, [stream])[stream]
        last = quarter
    else:
        data = panel.loc[complete_months(panel)].set_index("month")[stream]
        last = quarter.asfreq("M", how="end") if quarter is not None else None
    if last is not None:
        data = data[data.index <= last]
    observed = data.dropna()
    if observed.empty:
        return observed, [DataNote(dn.NO_FIGURES, spec.label)]
    freq = observed.index.freqstr
    span = pd.period_range(observed.index.min(), observed.index.max(), freq=freq)
    missing = span.difference(observed.index)
    if len(missing):
        checks.append(
            DataNote(
                dn.GAP, spec.label, count=len(missing), first=missing.min(), last=missing.max()
            )
        )
    if quarter is not None:
        last_needed = quarter.asfreq(freq, how="end")
        if observed.index.max() < last_needed:
            checks.append(
                DataNote(dn.ENDS_EARLY, spec.label, last=observed.index.max(), quarter=quarter)
            )
    before = observed.iloc[-13:-1]
    # Below 70% of the median of the 12 before, and further below it than Poisson noise
    # plausibly takes a count (4 standard deviations), so small streams are not flagged by chance.
    median = before.median() if len(before) == 12 else np.nan
    partial = median >= 30 and observed.iloc[-1] < min(
        PARTIAL_LAST_SHARE * median, median - 4 * np.sqrt(median)
    )
    if partial:
        checks.append(
            DataNote(
                dn.PARTIAL_LAST,
                spec.label,
                count=float(observed.iloc[-1]),
                last=observed.index[-1],
                reference=float(median),
            )
        )
        observed = observed.iloc[:-1]
    if spec.linked and (panel["basis"] == "records").all():
        observed = observed[observed.index >= observed.index.min() + (4 if freq[0] == "Q" else 12)]
    return observed, checks


CONTROL_MIN_PERIODS = 24  # two years of monthly figures for a control


def control_stream(panel: pd.DataFrame) -> str:
    """The first of :data:`CONTROLS` with two years of figures in ``panel`` ("" if none)."""
    return next(
        (c for c in CONTROLS if c in panel and panel[c].notna().sum() >= CONTROL_MIN_PERIODS), ""
    )


def corroborating_series(
    panel: pd.DataFrame, control: str, quarter: pd.Period | None = None
) -> tuple[pd.Series, list[DataNote]]:
    """The need streams in :data:`CORROBORATING` other than ``control``, summed over the periods
    they all have (counts a period), and their names; empty if none has two years of figures
    and at least :data:`MIN_MODEL_COUNT` in all."""
    streams, parts = [], []
    for stream in CORROBORATING:
        if stream == control or stream not in panel or panel[stream].notna().sum() < 24:
            continue
        y, _ = stream_series(panel, stream, quarter)
        if y.sum() >= MIN_MODEL_COUNT:
            streams.append(stream)
            parts.append(y)
    if not parts:
        return pd.Series(dtype=float), []
    total = pd.concat(parts, axis=1, join="inner").sum(axis=1)
    return total, streams


COMBINED_LABEL = "Need-sensitive figures combined"


def need_control(
    panel: pd.DataFrame,
    known: pd.DataFrame,
    control_name: str,
    control: pd.Series,
    campaigns: pd.DataFrame,
    events: pd.DataFrame,
    quarter: pd.Period | None = None,
) -> tuple[pd.Series, dict[str, float], list[DataNote]]:
    """The control of the primary contrast: ``control`` (the first of :data:`CONTROLS`) and the
    other need streams of :data:`NEED_COMBINED` with two years of figures in ``known``, at least
    :data:`MIN_MODEL_COUNT` in all and figures in :data:`MIN_SHARED_SPAN` of the control's
    periods, combined by precision (:func:`daanalysis.its.combine`); each stream's share of the
    weight; and what was checked about the added streams. ``control`` alone (share 1) when no
    other stream qualifies."""
    parts, checks = {control_name: control}, []
    for stream in NEED_COMBINED:
        if stream == control_name or stream not in known or known[stream].notna().sum() < 24:
            continue
        y, stream_checks = stream_series(panel, stream, quarter)
        shared = len(pd.PeriodIndex(y.index).intersection(pd.PeriodIndex(control.index)))
        if y.sum() >= MIN_MODEL_COUNT and shared >= MIN_SHARED_SPAN * len(control):
            parts[stream] = y
            checks += stream_checks
    if len(parts) == 1:
        return control, {control_name: 1.0}, []
    combined, weights = its.combine(parts, campaigns, events)
    return combined, weights, checks


class Cause(StrEnum):
    """Why a verdict is inconclusive. The figures behind it are in :attr:`Verdict.cause_figures`
    (named per cause below) or in the verdict's own fields; ``daanalysis.present.verdict`` says
    it in words."""

    NO_CONTROL = "no_control"  # no need-sensitive series with two years of figures
    # The area's figures themselves span under two years to the quarter (a new case system, a
    # new area): figures months, first (the first month), minimum.
    SHORT_HISTORY = "short_history"
    TOO_FEW_COUNTS = "too_few_counts"  # figures: treated_total, control_total, minimum
    NO_CAMPAIGN_LISTED = "no_campaign_listed"  # campaigns.csv lists none for the area
    NO_USABLE_CAMPAIGN = "no_usable_campaign"  # none with a year before and six months after
    NOT_IDENTIFIABLE = "not_identifiable"  # figures: detail (the model's own explanation)
    TOO_SHORT = "too_short"  # figures: periods, left, minimum
    PLACEBO_FAILED = "placebo_failed"  # Verdict.placebo: significant of dates, share
    NEED_MEASURES_DISAGREE = "need_measures_disagree"  # primary above 1, corroboration not
    LOW_POWER = "low_power"  # neither effect seen; Verdict.detectable and Verdict.power_limit


class Point(StrEnum):
    """A finding the verdict rests on, in the order it was established (the page's reasons).
    Figures that are not already fields of :class:`Verdict` are in :attr:`Finding.figures`."""

    CONTRAST = "contrast"  # Verdict.primary, against the control (combined or one stream)
    WEIGHTS = "weights"  # Verdict.control_weights, when the control combines streams
    NEED = "need"  # Verdict.need_trend and need_step of Verdict.control_stream
    PLACEBO = "placebo"  # Verdict.placebo, Verdict.widen
    NO_PLACEBO = "no_placebo"  # figures: strict_low, strict_high (the 99% interval)
    NO_SECOND_NEED_STREAM = "no_second_need_stream"  # corroboration not possible
    CORROBORATION_TOO_SHORT = "corroboration_too_short"  # figures: streams
    CORROBORATION = "corroboration"  # Verdict.corroboration against corroborating_streams
    CORROBORATION_NEED = "corroboration_need"  # Verdict.corroboration_need_trend and _step
    NEED_NOT_CONFIRMED = "need_not_confirmed"  # the control rose, the other need streams not
    CLEAR_BUT_SMALL = "clear_but_small"  # figures: rate_ratio, below_minimum (else: not at 99%)
    # The campaign shapes tested (step and ramp): figures shape (the one reported),
    # ramp_months, level (the two-sided level each shape's claim is read at), correlation.
    SHAPES = "shapes"


class PowerLimit(StrEnum):
    """Why a reporting effect of :data:`MAX_DETECTABLE_RATIO` could not be seen."""

    DRIFT = "drift"  # figures: rho (lag-1 correlation left in the difference)
    DIVERGE = "diverge"  # figures: rate_ratio, ci_low, ci_high (relative trend a year)
    FEW_A_PERIOD = "few_a_period"  # figures: per_period, unit ("month" or "quarter")
    FEW = "few"  # no figure beyond the detectable effect


def _plain(value: object) -> object:
    """``value`` in plain types for JSON and papermill: coded findings and notes as dicts, codes
    as text, a date as ``yyyy-mm-dd``, a period as its text, numpy numbers as Python's (floats
    to 4 places, NaN as None)."""
    if isinstance(value, Finding):
        return {"code": str(value.code), **_plain(value.figures)}
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, DataNote):
        return {
            f.name: str(v) if isinstance(v, (pd.Period, pd.Timestamp)) else _plain(v)
            for f in fields(value)
            if (v := getattr(value, f.name)) not in ("", None, ())
        }
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass(frozen=True)
class Finding:
    """One coded finding (a :class:`Point`, :class:`Cause` or :class:`PowerLimit`) and the
    figures behind it that the verdict's fields do not already hold."""

    code: StrEnum
    figures: dict = field(default_factory=dict)


@dataclass
class Verdict:
    """The one demand verdict for an area and quarter, as data: the reading, why, and the
    figures behind it. ``daanalysis.present.verdict`` turns it into the sentence, the reasons
    and the table."""

    area: str
    quarter: str
    verdict: str  # one of VERDICTS
    cause: Cause | None = None  # why it is inconclusive (None otherwise)
    cause_figures: dict = field(default_factory=dict)
    # What the verdict rests on, in the order it was established (the page's reasons).
    findings: list[Finding] = field(default_factory=list)
    confidence_stream: str = ""
    control_stream: str = ""
    # The streams the primary contrast's control combines, with their shares of the weight
    # (one stream, share 1, when only one is supplied): need_trend and need_step are of
    # control_stream alone.
    control_weights: dict = field(default_factory=dict)
    primary: dict = field(default_factory=dict)  # rate_ratio, ci_low, ci_high, p_value, mde_ratio
    # The primary contrast at 99%: what a claim needs when no placebo check was possible.
    strict: dict = field(default_factory=dict)
    need_trend: dict = field(default_factory=dict)  # the control's trend per year
    need_step: dict = field(default_factory=dict)  # the control's own change at the campaigns
    # Which of the two shows need rising: "trend" or "step" ("" when neither is tested).
    need_evidence: str = ""
    # The confidence stream relative to the other need streams (CORROBORATING): a reporting
    # claim needs this interval above 1 too. Empty when there is no other need stream.
    corroboration: dict = field(default_factory=dict)
    corroborating_streams: list[str] = field(default_factory=list)
    # Their own trend a year and change at the campaigns: a "need" reading needs one of them
    # to rise too (when the control's does).
    corroboration_need_trend: dict = field(default_factory=dict)
    corroboration_need_step: dict = field(default_factory=dict)
    placebo: dict = field(default_factory=dict)  # dates, significant, share
    widen: float = 1.0  # the factor the primary interval was widened by (placebo calibration)
    pre_periods: int = 0  # periods before the first campaign
    period_unit: str = ""  # "months" or "quarters"
    detectable: float = float("nan")  # smallest reporting effect (ratio) both contrasts could see
    power_limit: Finding | None = None  # why a larger one could not be seen (low power)
    resid_lag1: dict = field(default_factory=dict)
    campaigns: list[str] = field(default_factory=list)
    # What was checked about the data and what was left out (campaigns that cannot be
    # tested): typed records, worded by daanalysis.present.verdict.note_text.
    checks: list[DataNote] = field(default_factory=list)
    notes: list[DataNote] = field(default_factory=list)
    # The primary contrast by period: confidence referrals per 100 of the control, as observed,
    # as fitted and as the pre-campaign pattern predicts (no campaigns). The gap between the
    # last two after the campaigns is the reporting effect the verdict tests.
    path: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=PATH_COLUMNS), repr=False
    )

    # The fit pooling across areas reads (:class:`_AreaFit`), where the verdict made one: set
    # by :func:`verdict`. Working state, not a reading: left out of the JSON, the page, repr
    # and any comparison of verdicts.
    area_fit: _AreaFit | None = field(default=None, repr=False, compare=False)

    @property
    def placebo_ran(self) -> bool:
        """The placebo check had its :data:`MIN_PLACEBO_DATES` dates."""
        return self.placebo.get("dates", 0) >= MIN_PLACEBO_DATES

    def found(self, code: Point) -> Finding | None:
        """The finding with ``code``, if the verdict has one."""
        return next((f for f in self.findings if f.code == code), None)

    def as_dict(self) -> dict:
        """Plain types only, for JSON and for papermill."""
        kept = (f.name for f in fields(self) if f.name not in ("path", "area_fit"))
        return _plain({name: getattr(self, name) for name in kept})


def _campaigns_near_temporary_events(
    campaigns: pd.DataFrame, events: pd.DataFrame
) -> list[DataNote]:
    """Campaigns that start during a temporary event or within six months of its end."""
    out = []
    if "kind" not in events:
        return out
    for _, e in events[events["kind"] == "temporary"].iterrows():
        for _, c in campaigns.iterrows():
            if e["start_date"] <= c["start_date"] <= e["end_date"] + pd.DateOffset(months=6):
                out.append(DataNote(dn.NEAR_EVENT, c["name"], e["name"], last=e["end_date"]))
    return out


def _corroboration(
    treated: pd.Series,
    other: pd.Series,
    streams: list[str],
    campaigns: pd.DataFrame,
    events: pd.DataFrame,
    ramp_months: int = 0,
) -> its.Fit | None:
    """The primary reporting contrast's model against the other need streams (``other``, the
    sum of ``streams``: :func:`corroborating_series`), in the campaign shape ``ramp_months``
    (0: a step); None if there is none or too few periods in common."""
    if not streams:
        return None
    try:
        return its.fit_controlled(treated, other, campaigns, events, ramp_months=ramp_months)
    except ValueError:  # too short, or not identifiable over the periods the streams share
        return None


def _corroborate(fit: its.Fit | None, alpha: float) -> tuple[dict, bool | None]:
    """The corroboration's contrast at the two-sided level 1 - ``alpha`` (stored with its
    "level", so the page's interval and the rule cannot disagree) and whether its interval is
    above 1 (None: no corroboration)."""
    if fit is None:
        return {}, None
    result = {**fit.contrast(fit.campaign_weights("rel: "), alpha=alpha), "level": 1 - alpha}
    return result, bool(result["ci_low"] > 1)


def _need_rises(trend: dict, step: dict) -> bool:
    """The need rule on one need series: its trend at least :data:`MIN_NEED_TREND` a year, or
    its own change at the campaigns at least :data:`MIN_REPORTING_EFFECT`, interval above 1."""
    return (trend["ci_low"] > 1 and trend["rate_ratio"] >= MIN_NEED_TREND) or (
        step["ci_low"] > 1 and step["rate_ratio"] >= MIN_REPORTING_EFFECT
    )


def _corroborate_need(
    base: dict,
    other: pd.Series,
    streams: list[str],
    campaigns: pd.DataFrame,
    events: pd.DataFrame,
    findings: list[Finding],
) -> bool | None:
    """The need rule repeated on the other need streams (:func:`corroborating_series`) on
    their own: their trend, and their change at the campaigns. True if they show the rise too,
    None if there is none to check or too few periods, and False if they do not. Stores both
    figures in ``base``."""
    if not streams:
        return None
    try:
        trend = its.fit_single(other, campaigns.iloc[:0], events).contrast({"trend": 1.0})
        stepped = its.fit_single(other, campaigns, events)
        step = stepped.contrast(stepped.campaign_weights())
    except ValueError:  # too short, or not identifiable
        return None
    base.update(corroboration_need_trend=trend, corroboration_need_step=step)
    findings.append(Finding(Point.CORROBORATION_NEED))
    if _need_rises(trend, step):
        return True
    findings.append(Finding(Point.NEED_NOT_CONFIRMED))
    return False


def _inconclusive(
    base: dict,
    cause: Cause,
    figures: dict | None = None,
    findings: list[Finding] | None = None,
) -> Verdict:
    return Verdict(
        **base,
        verdict="inconclusive",
        cause=cause,
        cause_figures=figures or {},
        findings=findings or [],
    )


@dataclass
class _Primary:
    """An area's primary contrast, prepared and fitted as :func:`verdict` does before any other
    check: what the verdict has found so far (``base``, its fields; ``checks``, the list in
    it), the streams, the control chosen and the combined one (``reference``), the campaigns
    that can be tested, the step fitted against ``reference`` and (``own``) against the
    control alone. One place for these rules: the verdict and pooling across areas
    (:func:`_area_fit`) both prepare an area's contrast here."""

    base: dict
    checks: list[DataNote]
    treated: pd.Series
    control_name: str
    control: pd.Series
    index: pd.PeriodIndex
    used: pd.DataFrame
    reference: pd.Series
    fit: its.Fit
    own: its.Fit | None


def _primary(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    events: pd.DataFrame,
    quarter: pd.Period | None,
    with_own: bool = True,
) -> _Primary | Verdict:
    """One area's primary contrast as :func:`verdict` builds it (:class:`_Primary`), or the
    inconclusive verdict when there is none: no control, too short a history, too few counts,
    no campaign listed or none that can be tested, terms the data cannot tell apart.
    ``with_own`` False: the contrast against the control alone is not fitted (pooling does not
    read the need step) unless it is the primary one. A design too short to fit raises
    ``ValueError``, as :func:`daanalysis.metrics.its.fit_controlled` does."""
    area = str(panel["area"].iloc[0]) if len(panel) else ""
    base = {"area": area, "quarter": quarter_label(quarter) if quarter is not None else ""}
    treated, checks = stream_series(panel, PRIMARY_CONFIDENCE, quarter)
    base["confidence_stream"] = PRIMARY_CONFIDENCE
    # The control is judged on the figures up to the quarter, as the streams are: a series with
    # two years only after it is no control for it (and the page, which shows the data as they
    # stood at the quarter's end, reads the same verdict as `daanalysis verdict`).
    known = panel if quarter is None else panel[panel["month"] <= quarter.asfreq("M", how="end")]
    control_name = control_stream(known)
    if not control_name:
        # The panel spans the area's own figures: when they start under two years before the
        # quarter's end, a need stream supplied for longer is cut to them too, and the cause
        # is the short history, not a missing need stream.
        months = int(known["month"].nunique()) if len(known) else 0
        supplied = any(c in known and known[c].notna().any() for c in CONTROLS)
        if supplied and months < CONTROL_MIN_PERIODS:
            return _inconclusive(
                {**base, "checks": checks},
                Cause.SHORT_HISTORY,
                {"months": months, "first": known["month"].min(), "minimum": CONTROL_MIN_PERIODS},
            )
        return _inconclusive({**base, "checks": checks}, Cause.NO_CONTROL)
    control, control_checks = stream_series(panel, control_name, quarter)
    checks += control_checks
    base.update(control_stream=control_name, checks=checks)
    if control_name != CONTROLS[0]:
        checks.append(
            DataNote(dn.CONTROL_INSTEAD, STREAMS[CONTROLS[0]].label, STREAMS[control_name].label)
        )
    if treated.sum() < MIN_MODEL_COUNT or control.sum() < MIN_MODEL_COUNT:
        return _inconclusive(
            base,
            Cause.TOO_FEW_COUNTS,
            {
                "treated_total": float(treated.sum()),
                "control_total": float(control.sum()),
                "minimum": MIN_MODEL_COUNT,
            },
        )
    index = its.common_index(treated, control)
    used, notes = its.usable_campaigns(index, campaigns)
    base["notes"] = notes
    base["campaigns"] = used["name"].tolist()
    if campaigns is None or campaigns.empty:
        # Said as it is: no campaign listed is not the same as campaigns that cannot be tested.
        return _inconclusive(base, Cause.NO_CAMPAIGN_LISTED)
    if used.empty:
        return _inconclusive(base, Cause.NO_USABLE_CAMPAIGN)
    checks += _campaigns_near_temporary_events(used, events)
    # The primary contrast's control: every need-sensitive stream supplied, combined by precision
    # (one noisy stream no longer decides alone); the need readings stay on control_name.
    reference, weights, need_checks = need_control(
        panel, known, control_name, control, used, events, quarter
    )
    checks += need_checks
    base["control_weights"] = weights
    combined = len(weights) > 1
    own = None
    try:
        if with_own or not combined:
            own = its.fit_controlled(treated, control, used, events, ramp_months=0)
        fit = (
            its.fit_controlled(treated, reference, used, events, ramp_months=0) if combined else own
        )
    except its.NotIdentifiable as err:
        return _inconclusive(base, Cause.NOT_IDENTIFIABLE, {"detail": f"{err}"})
    return _Primary(base, checks, treated, control_name, control, index, used, reference, fit, own)


def verdict(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    quarter: pd.Period | None = None,
    placebo: bool = True,
) -> Verdict:
    """Reporting, need, both, neither or inconclusive, for one area's panel up to ``quarter``.

    The primary contrast is :data:`PRIMARY_CONFIDENCE` against the need streams supplied,
    combined by precision (:func:`need_control`; the first of :data:`CONTROLS` leads it), in one
    controlled interrupted time series (:func:`daanalysis.metrics.its.fit_controlled`): the
    average step in the confidence stream *relative to* that control since the first campaign.
    "Reporting" needs its 95% interval above 1, and the same contrast against the other need
    streams (:data:`CORROBORATING`, when supplied) above 1 at the level
    :data:`CORROBORATION_ALPHA` sets (90%), or the verdict is inconclusive: the need measures
    disagree; "need" needs the control's
    trend or its own change at the campaigns to have an interval above 1, and the other need
    streams' trend or change too (when supplied). The verdict is
    inconclusive when steps at placebo dates (no campaign) come out significant in more than
    :data:`PLACEBO_MAX_SHARE` of at least :data:`MIN_PLACEBO_DATES` dates, when no campaign can
    be tested, or when neither effect is seen and even a 50% reporting effect could have been
    missed. With too few placebo dates before the first campaign the check runs over the whole
    window (:func:`daanalysis.metrics.its.whole_window_dates`); when neither can run (fewer
    than :data:`MIN_PLACEBO_DATES` dates), a reporting claim needs the primary contrast's 99%
    interval above 1;
    when the placebo steps are clearly larger than the intervals allow (root mean square in
    standard errors above :data:`PLACEBO_WIDEN_ABOVE`), the primary interval is widened by that
    factor. A "need" verdict carries the same power limit (:attr:`Verdict.power_limit`) as an
    inconclusive one, and an inconclusive one its :class:`Cause` with the figure behind it.
    Evidence from the pattern of the data, not proof of cause. The result is data:
    :mod:`daanalysis.present.verdict` says it in words.
    """
    events = events if events is not None else pd.DataFrame(columns=["name", "start_date"])
    p = _primary(panel, campaigns, events, quarter)
    if isinstance(p, Verdict):
        return p
    base, checks, treated, control, used = p.base, p.checks, p.treated, p.control, p.used
    control_name, index, reference, fit, own = p.control_name, p.index, p.reference, p.fit, p.own
    combined = len(base["control_weights"]) > 1
    ref_label = COMBINED_LABEL if combined else STREAMS[control_name].label
    left = fit.periods - len(fit.columns)
    if left < MIN_RESIDUAL_DF:
        base["path"] = _contrast_path(fit, treated, reference, ref_label)
        return _inconclusive(
            base,
            Cause.TOO_SHORT,
            {"periods": fit.periods, "left": left, "minimum": MIN_RESIDUAL_DF},
        )
    if fit.outliers:
        checks.append(
            DataNote(dn.POOR_FIT, count=len(fit.outliers), periods=tuple(fit.outliers[:6]))
        )
    need_step = own.contrast(own.campaign_weights())
    trend_fit = its.fit_single(control, used.iloc[:0], events)
    need_trend = trend_fit.contrast({"trend": 1.0})
    check = (
        its.placebo_check(treated, reference, used, events)
        if placebo
        else {"dates": 0, "significant": 0, "share": float("nan"), "z_rms": float("nan")}
    )
    if placebo and check["dates"] < MIN_PLACEBO_DATES:
        # Too little before the first campaign (quarterly returns, a late start): the check runs
        # over the whole window instead, the campaigns in the model, at dates clear of them.
        check = its.placebo_check(treated, reference, used, events, window="whole")
    # Calibration from the placebo dates: when steps at dates with no campaign come out clearly
    # larger, in standard errors, than the intervals allow (root mean square above
    # PLACEBO_WIDEN_ABOVE), the primary interval is widened by that factor, so a series that
    # moves more than the model says cannot pass with a too-narrow interval. Never narrowed.
    placebo_ran = check["dates"] >= MIN_PLACEBO_DATES
    widen = check["z_rms"] if placebo_ran and check["z_rms"] > PLACEBO_WIDEN_ABOVE else 1.0
    # The campaign shapes a claim may rest on (pre-specified): the step, and a rise over
    # RAMP_ALTERNATIVE_MONTHS then held; each fitted against the combined control and the other
    # need streams, the ramp only where the data can tell it apart from the rest.
    other, streams = corroborating_series(panel, control_name, quarter)
    shapes = {"step": (fit, _corroboration(treated, other, streams, used, events))}
    if RAMP_ALTERNATIVE_MONTHS:
        try:
            ramp_fit = its.fit_controlled(
                treated, reference, used, events, ramp_months=RAMP_ALTERNATIVE_MONTHS
            )
            ramp_other = _corroboration(
                treated, other, streams, used, events, RAMP_ALTERNATIVE_MONTHS
            )
            if (ramp_other is None) == (shapes["step"][1] is None):
                shapes["ramp"] = (ramp_fit, ramp_other)
        except ValueError:
            pass
    # Each shape's levels set together from the correlation of its two estimates, so that a
    # claim by either shape keeps the one-sided level of one test (its.joint_alpha).
    if len(shapes) > 1:
        (s_fit, s_other), (r_fit, r_other) = shapes["step"], shapes["ramp"]
        rho = its.effect_correlation(s_fit, r_fit)
        rho_other = its.effect_correlation(s_other, r_other) if s_other is not None else 1.0
        claim_alpha = its.joint_alpha(its.ALPHA, rho)
        strict_alpha = its.joint_alpha(NO_PLACEBO_ALPHA, rho)
        corroboration_alpha = its.joint_alpha(CORROBORATION_ALPHA, rho_other)
    else:
        claim_alpha, strict_alpha = its.ALPHA, NO_PLACEBO_ALPHA
        corroboration_alpha = CORROBORATION_ALPHA
    tested = {}
    for shape, (shape_fit, shape_other) in shapes.items():
        shape_fit.cov = shape_fit.cov * widen**2
        weights = shape_fit.campaign_weights("rel: ")
        shown = shape_fit.contrast(weights)
        claim = shape_fit.contrast(weights, alpha=claim_alpha)
        strict = {**shape_fit.contrast(weights, alpha=strict_alpha), "level": 1 - strict_alpha}
        # With no placebo check, the stricter interval stands in for it.
        low = claim["ci_low"] if placebo_ran else strict["ci_low"]
        passes = low > 1 and shown["rate_ratio"] >= MIN_REPORTING_EFFECT
        corroboration, corroborated = _corroborate(shape_other, corroboration_alpha)
        t = np.log(shown["rate_ratio"]) / shown["se_log"] if shown["se_log"] > 0 else 0.0
        tested[shape] = {
            "fit": shape_fit,
            # With two shapes, the primary contrast says which it is, the level a claim reads
            # when the placebo check ran, and the interval's low end there; with the step alone
            # it keeps version 4's fields (the claim reads its 95% interval).
            "primary": {
                **shown,
                **(
                    {"shape": shape, "claim_level": 1 - claim_alpha, "claim_low": claim["ci_low"]}
                    if len(shapes) > 1
                    else {}
                ),
            },
            "claim_level": 1 - claim_alpha,
            "claim_low": claim["ci_low"],
            "strict": strict,
            "claim_mde": claim["mde_ratio"],
            "passes": passes,
            "corroboration": corroboration,
            "corroborated": corroborated,
            "t": t,
        }
    # What pooling across areas reads of this area: the step against the combined control, its
    # interval widened as the verdict's, and its corroboration (not fitted again there).
    pooled_fit = _AreaFit(shapes["step"][0], treated, reference, shapes["step"][1], other)
    # The shape reported: one whose claim holds against both controls, else one whose primary
    # contrast passes (the need measures then disagree), else the one that fits the rise best
    # (largest t); the step first among equals.
    ranked = sorted(tested, key=lambda k: -tested[k]["t"])
    full = [k for k in ranked if tested[k]["passes"] and tested[k]["corroborated"] is not False]
    passing = [k for k in ranked if tested[k]["passes"]]
    chosen = tested[(full or passing or ranked)[0]]
    fit = chosen["fit"]
    primary = chosen["primary"]
    base["path"] = _contrast_path(fit, treated, reference, ref_label)
    base.update(
        primary=primary,
        need_trend=need_trend,
        need_step=need_step,
        placebo=check,
        widen=float(widen),
        # The step's: the power statement (_low_power_cause) reads the step fit too.
        resid_lag1=tested["step"]["fit"].resid_lag1,
        pre_periods=int((index < used["start_date"].min().to_period(index.freqstr)).sum()),
        period_unit="quarters" if index.freqstr.startswith("Q") else "months",
    )
    findings = [
        Finding(Point.CONTRAST),
        *([Finding(Point.WEIGHTS)] if combined else []),
        Finding(Point.NEED),
    ]
    if len(shapes) > 1:
        findings.append(
            Finding(
                Point.SHAPES,
                {
                    "shape": primary["shape"],
                    "ramp_months": RAMP_ALTERNATIVE_MONTHS,
                    "level": chosen["claim_level"],
                    "correlation": float(rho),
                },
            )
        )
    if placebo_ran:
        findings.append(Finding(Point.PLACEBO))
        if check["share"] > PLACEBO_MAX_SHARE:
            return _with_fit(
                _inconclusive(base, Cause.PLACEBO_FAILED, findings=findings), pooled_fit
            )
    base["strict"] = chosen["strict"]
    if not placebo_ran:
        findings.append(Finding(Point.NO_PLACEBO))
    reporting = chosen["passes"]
    # The primary contrast cannot tell a reporting effect from a change at the campaign date in
    # the control alone (a police recording-practice or counting-rule change, or need that rose
    # less in police-recorded crime than in the service): a claim must hold against the
    # service's own need streams as well (an intersection-union test, so false claims stay at
    # the 2.5% one-sided level whichever of the two controls is wrong).
    corroborated = chosen["corroborated"]
    if not streams:
        findings.append(Finding(Point.NO_SECOND_NEED_STREAM))
    elif corroborated is None:
        findings.append(Finding(Point.CORROBORATION_TOO_SHORT, {"streams": streams}))
    else:
        base.update(corroboration=chosen["corroboration"], corroborating_streams=streams)
        findings.append(Finding(Point.CORROBORATION))
    # A "neither" needs the power to see a 50% effect in both contrasts a claim rests on, at
    # the level the claim is read at (the step's: the shape the detectable effect describes).
    step = tested["step"]
    primary["mde_ratio"] = step["claim_mde"]
    detectable = max(step["claim_mde"], step["corroboration"].get("mde_ratio", 0.0))
    base["detectable"] = detectable
    if reporting and corroborated is False:
        return _with_fit(
            _inconclusive(base, Cause.NEED_MEASURES_DISAGREE, findings=findings), pooled_fit
        )
    need_up = _need_rises(need_trend, need_step)
    base["need_evidence"] = (
        "trend"
        if need_trend["ci_low"] > 1 and need_trend["rate_ratio"] >= MIN_NEED_TREND
        else "step"
    )
    if need_up:
        # The same logic the other way: a step up in police-recorded crime at the campaign (a
        # recording audit nobody declared) would otherwise be read as more need.
        confirmed = _corroborate_need(base, other, streams, used, events, findings)
        need_up = confirmed is not False
    if chosen["claim_low"] > 1 and not reporting:
        findings.append(
            Finding(
                Point.CLEAR_BUT_SMALL,
                {
                    "rate_ratio": primary["rate_ratio"],
                    "below_minimum": bool(primary["rate_ratio"] < MIN_REPORTING_EFFECT),
                },
            )
        )
    if detectable > MAX_DETECTABLE_RATIO and not reporting:
        # The same power statement for "need" as for "neither": a reporting effect the data
        # could not see is never told as "did not rise".
        base["power_limit"] = _low_power_cause(step["fit"], treated)
    if reporting and need_up:
        word = "both"
    elif reporting:
        word = "reporting"
    elif need_up:
        word = "need"
    elif detectable > MAX_DETECTABLE_RATIO:
        return _with_fit(_inconclusive(base, Cause.LOW_POWER, findings=findings), pooled_fit)
    else:
        word = "neither"
    return _with_fit(Verdict(**base, verdict=word, findings=findings), pooled_fit)


# --- pooling across areas (issue 18, session 9; measured in docs/methods.md) -------------------

POOLED_ALPHA = 0.05  # the pooled primary contrast's two-sided level (its corroboration: 90%)
# A council's own primary contrast, read at this two-sided level (one-sided 5%) when the pooled
# contrast of the councils that ran the same campaign passes: the gate that lets pooling add
# power without crediting a council on the others' evidence alone.
POOLED_OWN_ALPHA = 0.10
# The second variant measured (``credited_relaxed``): under a passing pooled contrast (whose
# pooled corroboration passed at 90%), a council's own corroboration read at 80% (one-sided
# 10%) as well.
POOLED_OWN_CORROBORATION_ALPHA = 0.20
MIN_POOLED_AREAS = 2
# Verdicts whose contrast may enter a pooled one: a failed placebo check, too short a series or
# terms the data cannot tell apart keep an area out, as they keep its own verdict from a claim.
_POOLABLE = (None, Cause.LOW_POWER, Cause.NEED_MEASURES_DISAGREE)


@dataclass
class PooledContrast:
    """One campaign run in several areas of one extract, read together (issue 18's pooling).

    ``primary``: the areas' primary contrasts (each as its verdict fits it, widened by its own
    placebo factor) combined by generalised least squares with their correlation (the
    correlation of the areas' relative residual series: a shock that moves one stream in every
    area does not cancel across areas), at 95%, as rate ratios with ``se_log``, ``df``,
    ``mde_ratio``; ``corroboration`` the same for the areas' corroborations, at 90%;
    ``passes``: the pooled primary's interval above 1, its estimate at least
    :data:`MIN_REPORTING_EFFECT`, and the pooled corroboration's interval above 1 (when there
    is one). ``gated``: each area that ran it, whether a reporting claim holds for it on its
    own evidence: its own verdict's, or, when the pooled contrast passes, its own primary
    contrast at 90% (:data:`POOLED_OWN_ALPHA`) and its own corroboration at 90%, never the
    pooled figure alone. ``others``: the areas that ran no campaign, their primary contrast
    stepped at the campaign's date, pooled the same way (a placebo at the real date: about 1
    unless something region-wide moved the confidence streams then, or the need streams'
    recording changed force-wide); ``others_up`` when its 95% interval is above 1.
    ``credited``, the reading adopted (docs/methods.md, "Pooling across areas"): ``gated``,
    and the others' placebo not up. ``credited_relaxed`` (measured, not adopted): as ``gated``
    with the council's own corroboration at 80% (:data:`POOLED_OWN_CORROBORATION_ALPHA`).
    ``difference``: the pooled campaign areas' contrast over the others' (a difference in
    differences across areas), shown, not a rule. Empty dicts where there was nothing to pool."""

    campaign: str
    start_date: pd.Timestamp
    areas: list[str]
    pooled_areas: list[str]
    primary: dict
    corroboration: dict
    correlation: float
    passes: bool
    own: dict[str, dict]
    gated: dict[str, bool]
    credited: dict[str, bool]
    credited_relaxed: dict[str, bool]
    others_areas: list[str]
    others: dict
    others_up: bool
    difference: dict
    verdicts: dict[str, Verdict] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        """Plain types only, for JSON (the areas' own verdicts are left out: each area's
        verdict is reported on its own)."""
        return _plain({f.name: getattr(self, f.name) for f in fields(self) if f.name != "verdicts"})


@dataclass
class _AreaFit:
    """An area's primary contrast as its verdict fits it (a step against the combined control,
    its covariance widened by the verdict's placebo factor) and its corroboration (None if
    none), with the series they were fitted to: their relative residuals by period are worked
    out only when pooled (:func:`_relative_residual`)."""

    fit: its.Fit
    treated: pd.Series
    reference: pd.Series
    corroboration: its.Fit | None
    other: pd.Series

    @cached_property
    def residual(self) -> pd.Series:
        return _relative_residual(self.fit, self.treated, self.reference)

    @cached_property
    def corroboration_residual(self) -> pd.Series | None:
        if self.corroboration is None:
            return None
        return _relative_residual(self.corroboration, self.treated, self.other)


def _with_fit(v: Verdict, area_fit: _AreaFit) -> Verdict:
    v.area_fit = area_fit
    return v


def _relative_residual(fit: its.Fit, treated: pd.Series, control: pd.Series) -> pd.Series:
    """A controlled fit's residual on the log scale by period: the observed log ratio of the
    two streams less the fitted one (the difference of their log residuals)."""
    index = fit.design.index
    observed = np.log(
        np.clip(treated.reindex(index).to_numpy(float), 0.5, None)
        / np.clip(control.reindex(index).to_numpy(float), 0.5, None)
    )
    return pd.Series(observed - np.log(fit.relative_path()["fitted"].to_numpy()), index=index)


def _area_fit(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    events: pd.DataFrame,
    quarter: pd.Period | None,
    widen: float = 1.0,
) -> _AreaFit | None:
    """The primary contrast and corroboration of one area's panel, prepared by the verdict's
    own rules (:func:`_primary`), the primary's covariance widened by ``widen`` (the verdict's
    placebo factor); None where the verdict would have none, or the design is too short to
    fit. Pooling reads a verdict's own fit instead when it has one (:attr:`Verdict.area_fit`):
    this is for the areas without the campaign, stepped at its date, and for verdicts given
    without their fit."""
    try:
        p = _primary(panel, campaigns, events, quarter, with_own=False)
    except ValueError:  # too short to fit a trend and seasonality
        return None
    if isinstance(p, Verdict):
        return None
    p.fit.cov = p.fit.cov * widen**2
    other, streams = corroborating_series(panel, p.control_name, quarter)
    corroboration = _corroboration(p.treated, other, streams, p.used, events)
    return _AreaFit(p.fit, p.treated, p.reference, corroboration, other)


def _residual_correlation(residuals: list[pd.Series]) -> np.ndarray:
    """The areas' residual series' correlations over the periods each pair shares, negative
    ones taken as 0 (never narrowing the pooled interval for them)."""
    frame = pd.concat(residuals, axis=1)
    r = np.nan_to_num(frame.corr(min_periods=12).to_numpy(), nan=0.0)
    r = np.clip(r, 0.0, 1.0)
    np.fill_diagonal(r, 1.0)
    return r


def pool_estimates(
    estimates: np.ndarray,
    se: np.ndarray,
    correlation: np.ndarray,
    df: int,
    alpha: float = POOLED_ALPHA,
    treated: np.ndarray | None = None,
) -> dict[str, float]:
    """Several estimates on the log scale (standard errors ``se``, correlation matrix
    ``correlation``) combined by generalised least squares (statsmodels GLS, the covariance
    of the estimates fixed, scale 1): their efficient common value or, with ``treated`` (True
    for some estimates), the difference of the treated ones' common value from the others'.
    As :meth:`its.Fit.contrast` gives one contrast: rate ratio, 1 - ``alpha`` interval from a
    t distribution with ``df`` degrees of freedom, p-value, ``se_log`` and ``mde_ratio``."""
    from scipy import stats
    from statsmodels.regression.linear_model import GLS

    estimates = np.asarray(estimates, float)
    se = np.asarray(se, float)
    sigma = np.asarray(correlation, float) * np.outer(se, se)
    x = np.ones((len(estimates), 1))
    if treated is not None:
        x = np.column_stack([x, np.asarray(treated, float)])
    result = GLS(estimates, x, sigma=sigma).fit(cov_type="fixed scale")
    b = float(result.params[-1])
    s = float(np.sqrt(np.asarray(result.cov_params())[-1, -1]))
    t = stats.t.ppf(1 - alpha / 2, df)
    return {
        "rate_ratio": float(np.exp(b)),
        "ci_low": float(np.exp(b - t * s)),
        "ci_high": float(np.exp(b + t * s)),
        "p_value": float(2 * stats.t.sf(abs(b) / s, df)) if s > 0 else float("nan"),
        "se_log": s,
        "mde_ratio": float(np.exp((t + stats.t.ppf(its.POWER, df)) * s)),
        "df": int(df),
        "level": 1 - alpha,
    }


def _pooled(
    fits: list[its.Fit],
    residuals: list[pd.Series],
    alpha: float,
    treated: list[bool] | None = None,
) -> tuple[dict, float]:
    """:func:`pool_estimates` of the fits' average campaign effects, correlated as their
    residual series are (:func:`_residual_correlation`), ``df`` the smallest of the fits'; and
    the mean correlation between areas."""
    effects = [f.contrast(f.campaign_weights("rel: ")) for f in fits]
    r = _residual_correlation(residuals)
    pooled = pool_estimates(
        np.log([e["rate_ratio"] for e in effects]),
        np.array([e["se_log"] for e in effects]),
        r,
        min(f.df for f in fits),
        alpha,
        None if treated is None else np.asarray(treated),
    )
    off = r[~np.eye(len(r), dtype=bool)]
    return pooled, float(off.mean()) if len(off) else float("nan")


def pooled_contrasts(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    quarter: pd.Period | None = None,
    verdicts: dict[str, Verdict] | None = None,
) -> list[PooledContrast]:
    """Each campaign that several areas of one extract ran (the same name and start date, in
    ``campaigns``' area column), read across them: :class:`PooledContrast`. Each area's own
    verdict (:func:`verdict`, from its own rows as ``daanalysis verdict`` reads it; or taken
    from ``verdicts``, by area, when the caller has them for the same ``quarter``) is kept in
    it; nothing here changes a single area's verdict. An area's contrast in the pooled one is
    its verdict's own fit (:attr:`Verdict.area_fit`: so ``verdicts`` must come from the same
    rows, campaigns and events), fitted again only for a verdict given without it (e.g. one
    pickled by an older version). A campaign listed for every area (blank area) or for one area
    has nothing to pool and gives none."""
    events = events if events is not None else pd.DataFrame(columns=["name", "start_date"])
    if campaigns is None or campaigns.empty or "area" not in campaigns:
        return []
    areas = list(dict.fromkeys(panel["area"].astype(str)))
    named = campaigns[campaigns["area"].notna()]
    listed = set(named["area"].astype(str))
    everywhere = bool(campaigns["area"].isna().any())
    out = []
    for (name, start), group in named.groupby(["name", "start_date"], sort=True):
        ran = [a for a in areas if a in set(group["area"].astype(str))]
        if len(ran) < MIN_POOLED_AREAS:
            continue
        found, fits = {}, {}
        for area in ran:
            own = panel[panel["area"].astype(str) == area].reset_index(drop=True)
            here, ev = campaigns_for(campaigns, area), events_for(events, area)
            known = (verdicts or {}).get(area)
            v = known if known is not None else verdict(own, here, ev, quarter=quarter)
            found[area] = v
            if v.cause in _POOLABLE and v.primary:
                area_fit = v.area_fit
                if area_fit is None:  # a verdict given without its fit
                    area_fit = _area_fit(own, here, ev, quarter, widen=v.widen)
                if area_fit is not None:
                    fits[area] = area_fit
        primary, corroboration, correlation, passes = {}, {}, float("nan"), False
        if len(fits) >= MIN_POOLED_AREAS:
            primary, correlation = _pooled(
                [f.fit for f in fits.values()], [f.residual for f in fits.values()], POOLED_ALPHA
            )
            with_other = [f for f in fits.values() if f.corroboration is not None]
            if len(with_other) == len(fits):
                corroboration, _ = _pooled(
                    [f.corroboration for f in with_other],
                    [f.corroboration_residual for f in with_other],
                    CORROBORATION_ALPHA,
                )
            passes = (
                primary["ci_low"] > 1
                and primary["rate_ratio"] >= MIN_REPORTING_EFFECT
                and (not corroboration or corroboration["ci_low"] > 1)
                # Some areas with a corroboration and some without: not pooled, no gate.
                and (len(with_other) in (0, len(fits)))
            )
        own_at, gated, relaxed = {}, {}, {}
        for area, v in found.items():
            claimed = v.verdict in ("reporting", "both")
            gate = gate_relaxed = False
            if passes and area in fits and v.placebo_ran:
                f = fits[area].fit
                own_at[area] = f.contrast(f.campaign_weights("rel: "), alpha=POOLED_OWN_ALPHA)
                own = own_at[area]["ci_low"] > 1
                own = own and own_at[area]["rate_ratio"] >= MIN_REPORTING_EFFECT
                other_fit = fits[area].corroboration
                # The verdict's own corroboration (90%), and the same at 80%.
                corroborated = not v.corroboration or v.corroboration["ci_low"] > 1
                loose = other_fit is None or (
                    other_fit.contrast(
                        other_fit.campaign_weights("rel: "), alpha=POOLED_OWN_CORROBORATION_ALPHA
                    )["ci_low"]
                    > 1
                )
                open_verdict = v.verdict in ("need", "neither") or v.cause == Cause.LOW_POWER
                gate = own and corroborated and open_verdict
                gate_relaxed = (
                    own and loose and (open_verdict or v.cause == Cause.NEED_MEASURES_DISAGREE)
                )
            gated[area] = bool(claimed or gate)
            relaxed[area] = bool(claimed or gate or gate_relaxed)
        # The areas with no campaign listed, stepped at this campaign's date: a placebo there.
        others, other_fits = [], []
        if not everywhere:
            fake = pd.DataFrame({"name": [str(name)], "start_date": [start]})
            for area in areas:
                if area in listed:
                    continue
                own = panel[panel["area"].astype(str) == area].reset_index(drop=True)
                area_fit = _area_fit(own, fake, events_for(events, area), quarter)
                if area_fit is not None:
                    others.append(area)
                    other_fits.append(area_fit)
        other, difference, up = {}, {}, False
        if other_fits:
            other, _ = _pooled(
                [f.fit for f in other_fits], [f.residual for f in other_fits], POOLED_ALPHA
            )
            up = bool(other["ci_low"] > 1)
            if len(fits) >= 1:
                both = [*fits.values(), *other_fits]
                difference, _ = _pooled(
                    [f.fit for f in both],
                    [f.residual for f in both],
                    POOLED_ALPHA,
                    [True] * len(fits) + [False] * len(other_fits),
                )
        out.append(
            PooledContrast(
                campaign=str(name),
                start_date=pd.Timestamp(start),
                areas=ran,
                pooled_areas=list(fits),
                primary=primary,
                corroboration=corroboration,
                correlation=correlation,
                passes=bool(passes),
                own=own_at,
                gated=gated,
                # The reading adopted: no claim while the councils without the campaign rose too.
                credited={area: g and not up for area, g in gated.items()},
                credited_relaxed=relaxed,
                others_areas=others,
                others=other,
                others_up=up,
                difference=difference,
                verdicts=found,
            )
        )
    return out


def _low_power_cause(fit: its.Fit, treated: pd.Series) -> Finding:
    """Why a reporting effect of :data:`MAX_DETECTABLE_RATIO` could not be seen, with the
    figure behind it: the streams drifting apart (month-to-month correlation left in their
    difference), a difference in their trends before the campaign, too few counts, or else
    the detectable effect alone. The detectable effect is never blamed for a divergence."""
    rho = fit.resid_lag1.get("difference", float("nan"))
    drift = fit.contrast({"rel: trend": 1.0}) if "rel: trend" in fit.params else None
    if np.isfinite(rho) and rho >= DRIFT_RHO:
        return Finding(PowerLimit.DRIFT, {"rho": float(rho)})
    if drift is not None and (drift["ci_low"] > 1.1 or drift["ci_high"] < 1 / 1.1):
        return Finding(
            PowerLimit.DIVERGE,
            {k: float(drift[k]) for k in ("rate_ratio", "ci_low", "ci_high")},
        )
    per_period = float(treated.mean())
    unit = "quarter" if pd.PeriodIndex(treated.index).freqstr.startswith("Q") else "month"
    if per_period < 30:
        return Finding(PowerLimit.FEW_A_PERIOD, {"per_period": per_period, "unit": unit})
    return Finding(PowerLimit.FEW)


def contrast_series(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    quarter: pd.Period | None = None,
) -> pd.DataFrame:
    """The primary contrast as a picture (:attr:`Verdict.path`), for a panel whose verdict has
    not been worked out already; empty if the verdict's model cannot be fitted."""
    return verdict(panel, campaigns, events, quarter, placebo=False).path


def _contrast_path(
    fit: its.Fit, treated: pd.Series, control: pd.Series, label: str
) -> pd.DataFrame:
    path = 100 * fit.relative_path()
    path.insert(0, "observed", 100 * treated.reindex(path.index) / control.reindex(path.index))
    path["control"] = label
    return path.rename_axis("period").reset_index()[PATH_COLUMNS]


# --- supporting evidence: each stream on its own, and other contrasts ---------------------------


def step_change(
    panel: pd.DataFrame,
    stream: str,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    quarter: pd.Period | None = None,
    slope: bool = False,
) -> tuple[pd.DataFrame, list[DataNote]]:
    """Fit one stream on its own: trend, season, events and a step at each campaign.

    Supporting evidence only: a stream on its own cannot tell a reporting effect from a need
    change that starts at the same time (the verdict's controlled comparison can). Intervals
    are quasi-Poisson with an AR(1) factor sized to the residuals, so over-dispersion and serial
    correlation widen them.

    Returns rows of (stream, indicator, kind, term, rate_ratio, ci_low, ci_high, p_value,
    mde_ratio, periods, dispersion, resid_lag1) and notes. Terms: ``trend (per year)``,
    ``step: <campaign>``, ``all campaigns`` (the average campaign effect since the first
    campaign, as in the verdict) and ``season: <month>`` against April (``season: Q2``..
    against Q1 for quarterly returns).
    """
    spec = STREAMS[stream]
    y, checks = stream_series(panel, stream, quarter)
    used, notes = its.usable_campaigns(pd.PeriodIndex(y.index), campaigns, spec.label)
    try:
        fit = its.fit_single(y, used, events, slope=slope)
    except ValueError as err:
        raise ValueError(f"{spec.label}: {err}") from None
    terms = {"trend (per year)": {"trend": 1.0}}
    for name in fit.campaigns:
        terms[f"step: {name}"] = {f"level: {name}": 1.0}
    if fit.campaigns:
        terms["all campaigns"] = fit.campaign_weights()
    terms.update({c: {c: 1.0} for c in fit.columns if c.startswith("season: ")})
    rows = [{"term": term, **fit.contrast(w)} for term, w in terms.items()]
    out = pd.DataFrame(rows).drop(columns="se_log")
    out.insert(0, "kind", spec.kind)
    out.insert(0, "indicator", spec.label)
    out.insert(0, "stream", stream)
    out["periods"] = fit.periods
    out["dispersion"] = fit.dispersion
    out["resid_lag1"] = fit.resid_lag1["stream"]
    return out, notes + checks


FIT_COLUMNS = [
    "stream",
    "indicator",
    "kind",
    "term",
    "p_value",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "mde_ratio",
    "periods",
    "dispersion",
    "resid_lag1",
]


def fit_streams(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    streams: list[str] | None = None,
    events: pd.DataFrame | None = None,
    quarter: pd.Period | None = None,
) -> tuple[pd.DataFrame, list[DataNote]]:
    """:func:`step_change` for every confidence and need stream the panel has.

    A stream that is absent, or too small to model (fewer than ``MIN_MODEL_COUNT`` in all), is
    left out with a note rather than given a misleading fit.
    """
    streams = streams or [*CONFIDENCE, *NEED]
    fits, left = [], []
    for stream in streams:
        label = STREAMS[stream].label
        if stream not in panel or panel[stream].isna().all():
            reason = (
                dn.NEEDS_RECORDS
                if stream in RECORDS_ONLY or STREAMS[stream].linked
                else dn.NOT_IN_DATA
            )
            left.append(DataNote(reason, label))
            continue
        if panel[stream].sum() < MIN_MODEL_COUNT:
            left.append(DataNote(dn.TOO_FEW, label, count=float(panel[stream].sum())))
            continue
        try:
            fit, fit_notes = step_change(panel, stream, campaigns, events, quarter)
        except ValueError as err:  # too short, or terms the data cannot tell apart
            left.append(DataNote(dn.NOT_FITTED, label, detail=str(err)))
            continue
        fits.append(fit)
        left += fit_notes
    # Exact repeats once (each note names its stream, so repeats are rare); the page sorts
    # the notes' words.
    return pd.concat([pd.DataFrame(columns=FIT_COLUMNS), *fits], ignore_index=True), list(
        dict.fromkeys(left)
    )


def supporting_contrasts(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    quarter: pd.Period | None = None,
    slope_too: bool = True,
) -> pd.DataFrame:
    """Every confidence stream against every need stream, as supporting evidence.

    The same controlled model as the verdict; the primary pair is marked. With ``slope_too``, the
    primary pair is also fitted with a change in slope at each campaign as well as a step (a
    sensitivity check on the pre-specified step model). Not used for the verdict: many pairs
    would inflate false claims, and the streams overlap.
    """
    rows = []
    series = {}
    for stream in [*CONFIDENCE, *NEED]:
        if stream in panel and panel[stream].notna().sum() >= 24:
            y, _ = stream_series(panel, stream, quarter)
            if y.sum() >= MIN_MODEL_COUNT:
                series[stream] = y
    pairs = [(c, n) for c in CONFIDENCE for n in NEED if c in series and n in series]
    if slope_too and (PRIMARY_CONFIDENCE, CONTROLS[0]) in pairs:
        pairs.append((PRIMARY_CONFIDENCE, CONTROLS[0], "slope"))
    for pair in pairs:
        conf, need = pair[:2]
        slope = len(pair) == 3
        index = its.common_index(series[conf], series[need])
        used, _ = its.usable_campaigns(index, campaigns)
        if used.empty:
            continue
        try:
            fit = its.fit_controlled(series[conf], series[need], used, events, slope=slope)
        except ValueError:  # too short, or not identifiable: the verdict says why
            continue
        result = fit.contrast(fit.campaign_weights("rel: "))
        primary = conf == PRIMARY_CONFIDENCE and need == CONTROLS[0] and not slope
        rows.append(
            {
                "confidence stream": STREAMS[conf].label,
                "need stream": STREAMS[need].label,
                "model": "step and slope change" if slope else "step",
                "primary contrast": "yes" if primary else "no",
                "rate ratio": result["rate_ratio"],
                "95% CI lower": result["ci_low"],
                "95% CI upper": result["ci_high"],
                "smallest detectable ratio": result["mde_ratio"],
            }
        )
    columns = ["confidence stream", "need stream", "model", "primary contrast", "rate ratio",
               "95% CI lower", "95% CI upper", "smallest detectable ratio"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def referral_total(vols: pd.DataFrame) -> pd.Series:
    """The all-referrals row of :func:`volumes`; NaN figures when the total was not collected
    (returns that hold only risk-level counts, or a month of the quarter left blank)."""
    vol = vols.set_index("stream")
    if "referrals" in vol.index:
        return vol.loc["referrals"]
    return pd.Series(np.nan, index=["count", "same_quarter_last_year", "change_pct", "rolling_12m"])


def source_breakdown(
    referrals: pd.DataFrame, area: str, quarter: pd.Period, services: tuple[str, ...] = ("victim",)
) -> pd.DataFrame:
    """Referrals in ``quarter`` by referral source (rows) and risk level (columns), with totals.

    Publish it through :func:`daanalysis.present.disclosure.suppress` with ``totals=True``:
    breakdowns
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
    threshold: float = Config.suppression_threshold,
) -> pd.DataFrame:
    """Referrals by ``field`` (gender, age band, ethnicity, disability) in the 12 months to the
    end of ``quarter`` and the 12 months before, with each group's share, and a total row.

    For the action plan's aim of reaching under-represented groups. Publish it through
    :func:`daanalysis.present.disclosure.suppress` with ``totals="row"``; blank values are
    ``not recorded``. Values are recorded as free text, so a group with fewer than
    ``threshold`` referrals in both periods (the suppression threshold) is counted in
    ``Other`` (:func:`daanalysis.metrics.small_counts.rare_labels`): its name would identify someone
    even with its count suppressed.
    """
    ref = referrals[(referrals["area"] == area) & referrals["service"].isin(services)]
    month = ref["referral_date"].dt.to_period("M")
    end = quarter.asfreq("M", how="end")
    values = ref[field].fillna("not recorded").astype("str")
    previous, last = (month > end - 24) & (month <= end - 12), (month > end - 12) & (month <= end)

    def count(values: pd.Series) -> pd.DataFrame:
        return (
            pd.DataFrame(
                {
                    "previous 12 months": values[previous].value_counts(),
                    "last 12 months": values[last].value_counts(),
                }
            )
            .fillna(0)
            .astype("int64")
        )

    rare = rare_labels(count(values), threshold, keep=("not recorded",))
    table = count(values.where(~values.isin(rare), OTHER))
    # Age bands read in their own order; other groups largest first; Other last.
    table = (
        table.sort_index()
        if field == "age_band"
        else table.sort_values("last 12 months", ascending=False)
    )
    table = table.loc[
        [*(i for i in table.index if i != OTHER), *(i for i in table.index if i == OTHER)]
    ]
    table.loc["total"] = table.sum()
    table["share last 12 months (%)"] = (
        100 * table["last 12 months"] / table.at["total", "last 12 months"]
    )
    table.index.name = field.replace("_", " ")
    return table.reset_index()


def kpis(vols: pd.DataFrame, v: Verdict) -> list[KPI]:
    """Headline figures for ``kpis.csv``: referrals and the one demand verdict behind them.

    The verdict's reading in words (``demand_reading``) is added by
    :func:`daanalysis.present.verdict.kpis`, which the page calls.

    The reporting effect (a rate ratio) and the need trend (% a year) carry their 95%
    confidence intervals in ``low`` and ``high``; the placebo check is the number of placebo
    dates with a significant step, out of the dates tried (its unit)."""
    total = referral_total(vols)
    change = total["change_pct"]
    rows = [
        KPI(
            "referrals_quarter",
            "Referrals in quarter",
            int(total["count"]) if pd.notna(total["count"]) else None,
            "referrals",
        ),
        KPI(
            "referrals_change_year",
            "Referrals, change on same quarter last year",
            round(change, 1) if pd.notna(change) else None,
            "%",
        ),
        KPI(
            "referrals_12_months",
            "Referrals, rolling 12 months",
            int(total["rolling_12m"]) if pd.notna(total["rolling_12m"]) else None,
            "referrals",
            period="12 months to the quarter's end",
        ),
        KPI("demand_verdict", "Demand verdict", v.verdict, "verdict"),
    ]
    if v.primary:
        p = v.primary
        rows.append(
            KPI(
                "reporting_effect",
                "Reporting effect: confidence relative to need",
                round(p["rate_ratio"], 2),
                "ratio",
                low=round(p["ci_low"], 2),
                high=round(p["ci_high"], 2),
            )
        )
        t = v.need_trend
        rows.append(
            KPI(
                "need_trend",
                f"Need: {STREAMS[v.control_stream].label}, underlying change a year",
                round(100 * (t["rate_ratio"] - 1), 1),
                "%",
                low=round(100 * (t["ci_low"] - 1), 1),
                high=round(100 * (t["ci_high"] - 1), 1),
                period="a year",
            )
        )
    if v.placebo.get("dates", 0):
        rows.append(
            KPI(
                "placebo_significant",
                "Placebo dates with a significant step",
                int(v.placebo["significant"]),
                f"of {v.placebo['dates']} dates",
            )
        )
    return rows


__all__ = [
    "CONFIDENCE",
    "CONTROLS",
    "DEMOGRAPHICS",
    "NEED",
    "PRIMARY_CONFIDENCE",
    "STREAMS",
    "VERDICTS",
    "Cause",
    "Finding",
    "NeedsRecordLevelData",
    "POOLED_ALPHA",
    "POOLED_OWN_ALPHA",
    "PooledContrast",
    "Point",
    "PowerLimit",
    "Verdict",
    "campaigns_for",
    "case_intensity",
    "contrast_series",
    "control_stream",
    "demographics",
    "events_for",
    "fit_streams",
    "kpis",
    "marac_benchmark",
    "pool_estimates",
    "pooled_contrasts",
    "rates",
    "referral_total",
    "repeat_rate",
    "service_volumes",
    "source_breakdown",
    "step_change",
    "stream_series",
    "supporting_contrasts",
    "verdict",
    "volumes",
]
