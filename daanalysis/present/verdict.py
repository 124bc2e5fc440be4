"""The demand verdict in words: its sentence, its reasons, the page's answer and tables.

:func:`daanalysis.metrics.demand.verdict` returns the decision as data (a reading, a
:class:`~daanalysis.metrics.demand.Cause` when inconclusive, coded findings and the figures
behind them); this module is the only place that says it in English, so the page, ``kpis.csv``,
the front page and ``daanalysis verdict`` say the same thing. Percentages follow one rule
across the pack (:func:`pct_digits`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from daanalysis.metrics import data_notes as dn
from daanalysis.metrics.data_notes import DataNote
from daanalysis.metrics.demand import (
    COMBINED_LABEL,
    MIN_PLACEBO_DATES,
    MIN_REPORTING_EFFECT,
    NO_PLACEBO_ALPHA,
    PLACEBO_MAX_SHARE,
    PRIMARY_CONFIDENCE,
    STREAMS,
    Cause,
    Finding,
    Point,
    PowerLimit,
    Verdict,
    referral_total,
)
from daanalysis.metrics.demand import (
    kpis as figure_kpis,
)
from daanalysis.metrics.kpi import KPI
from daanalysis.periods import QUARTER_FREQ, parse_quarter, quarter_label
from daanalysis.present.words import capitalised, in_sentence

EVIDENCE_NOT_PROOF = "This is evidence from the pattern of the data, not proof of cause."

# --- figures in words ------------------------------------------------------------------------


def ratio_text(r: dict | pd.Series) -> str:
    """A rate ratio with its interval at the level it was made: ``1.23 (95% CI 1.10 to 1.38)``."""
    level = f"{100 * r.get('level', 0.95):.0f}% CI"
    return f"{r['rate_ratio']:.2f} ({level} {r['ci_low']:.2f} to {r['ci_high']:.2f})"


def pct_digits(pct: float) -> int:
    """Places a percentage change is stated to, the same everywhere in the pack: one below 10%
    (4.7%), none above (35%)."""
    return 1 if abs(pct) < 9.95 else 0


def pct_text(ratio: float) -> str:
    """A rate ratio as a signed percentage change: 1.047 -> ``+4.7%``, 1.35 -> ``+35%``."""
    pct = 100 * (ratio - 1)
    return f"{pct:+.{pct_digits(pct)}f}%"


def change_words(ratio: float) -> str:
    """A rate ratio as words: 1.35 -> 'up 35%', 1.047 -> 'up 4.7%', 0.9 -> 'down 10%'."""
    pct = 100 * (ratio - 1)
    return f"{'up' if pct >= 0 else 'down'} {abs(pct):.{pct_digits(pct)}f}%"


def pct_interval_text(r: dict) -> str:
    """A rate ratio as a percentage change in words with its interval: ``up 4.7% (95% CI +2.1%
    to +7.3%)``. Words first, so the cell does not start with a sign (a spreadsheet cell starting
    with ``+`` is neutralised as a possible formula, which would show a stray quote)."""

    def pct(ratio: float) -> str:
        return f"{100 * (ratio - 1):+.1f}%"

    change = 100 * (r["rate_ratio"] - 1)
    word = "up" if change > 0 else "down" if change < 0 else "no change,"
    return f"{word} {abs(change):.1f}% (95% CI {pct(r['ci_low'])} to {pct(r['ci_high'])})"


def reads(r: dict | pd.Series, above: str, below: str, unclear: str) -> str:
    """What an interval says, in words: above 1, below 1, or not clearly either."""
    if r["ci_low"] > 1:
        return above
    if r["ci_high"] < 1:
        return below
    return unclear


def streams_text(streams: list[str]) -> str:
    """Stream columns as words in a sentence: ``high risk (DASH) and MARAC cases``."""
    return " and ".join(in_sentence(STREAMS[s].label) for s in streams)


def weights_text(weights: dict[str, float]) -> str:
    """Each stream's share of the combined control: ``police-recorded DA crimes 60%, ...``."""
    return ", ".join(f"{in_sentence(STREAMS[s].label)} {w:.0%}" for s, w in weights.items())


# --- the verdict's parts --------------------------------------------------------------------


def _the_campaigns(v: Verdict) -> str:
    return "the campaign" if len(v.campaigns) == 1 else "the campaigns"


def _conf(v: Verdict) -> str:
    return in_sentence(STREAMS[v.confidence_stream or PRIMARY_CONFIDENCE].label)


def _ref_label(v: Verdict) -> str:
    """The primary contrast's control as named: the combination, or the one stream."""
    return COMBINED_LABEL if len(v.control_weights) > 1 else STREAMS[v.control_stream].label


def _ramp_months(v: Verdict) -> int:
    """The months a gradual rise was spread over, when the verdict reads the primary contrast as
    one (0: a step)."""
    shapes = v.found(Point.SHAPES)
    if shapes is None or v.primary.get("shape") != "ramp":
        return 0
    return int(shapes.figures["ramp_months"])


def _level(level: float) -> str:
    """A two-sided level as a percentage: 0.9712 -> ``97.1%``, 0.95 -> ``95%``."""
    pct = 100 * level
    return f"{pct:.0f}%" if abs(pct - round(pct)) < 0.05 else f"{pct:.1f}%"


def _strict_level(v: Verdict) -> str:
    """The level a claim without a placebo check needs (the stricter interval's)."""
    return _level(v.strict.get("level", 1 - NO_PLACEBO_ALPHA))


def _mde(v: Verdict) -> str:
    return pct_text(v.detectable).lstrip("+")


def _need_words(v: Verdict) -> str:
    ctrl = in_sentence(STREAMS[v.control_stream].label)
    if v.need_evidence == "trend":
        return f"{ctrl} {change_words(v.need_trend['rate_ratio'])} a year"
    return f"{ctrl} {change_words(v.need_step['rate_ratio'])} when {_the_campaigns(v)} began"


def _need_unconfirmed(v: Verdict) -> str:
    """Words for the sentence when the control rose but the other need streams did not."""
    if v.found(Point.NEED_NOT_CONFIRMED) is None:
        return ""
    ctrl = in_sentence(STREAMS[v.control_stream].label)
    return f"{ctrl} rose, but {streams_text(v.corroborating_streams)} do not show it"


def _placebo_suffix(v: Verdict) -> str:
    """What the sentence adds when the placebo check ran over the whole window, or not at all."""
    pre, unit = v.pre_periods, v.period_unit
    if v.placebo_ran and v.placebo.get("window") == "whole":
        return (
            f" The placebo check could not use dates before the campaign alone ({pre} {unit}), "
            "so it used dates after it too."
        )
    if not v.placebo_ran:
        return (
            f" No placebo check was possible ({pre} {unit} before the first campaign: it needs "
            f"{MIN_PLACEBO_DATES} test dates, each with a year before and six months after), so "
            f"a reporting claim needed its {_strict_level(v)} interval above "
            "1, not its 95% interval."
        )
    return ""


def power_text(v: Verdict) -> str:
    """Why a reporting effect of the detectable size could not be seen, with its figure."""
    limit = v.power_limit or Finding(PowerLimit.FEW)
    mde, f = _mde(v), limit.figures
    if limit.code == PowerLimit.DRIFT:
        return (
            f"the two series drift apart from month to month (a correlation of {f['rho']:.2f} "
            f"between one month's gap and the next, once trend and season are allowed for), "
            f"so their ratio wanders too much for a reporting effect smaller than {mde} to be "
            "told apart from the drift."
        )
    if limit.code == PowerLimit.DIVERGE:
        return (
            f"the two series diverge: relative to {in_sentence(_ref_label(v))} the confidence "
            f"stream changes {pct_text(f['rate_ratio'])} a year (95% CI {pct_text(f['ci_low'])} "
            f"to {pct_text(f['ci_high'])}), a break one of them does not share, which leaves "
            f"a reporting effect smaller than {mde} unseen."
        )
    if limit.code == PowerLimit.FEW_A_PERIOD:
        return (
            f"the figures are too few ({f['per_period']:.0f} a {f['unit']} in the confidence "
            f"stream) to see a reporting effect smaller than {mde}."
        )
    return f"the figures are too few to see a reporting effect smaller than {mde}."


def cause_text(v: Verdict) -> str:
    """Why the verdict is inconclusive, with the figure behind it (``""`` if it is not)."""
    f = v.cause_figures
    if v.cause == Cause.NO_CONTROL:
        return (
            "there is no need-sensitive series (police-recorded DA crimes, MARAC cases or high "
            "risk referrals) with two years of figures to compare with, so a rise in reporting "
            "cannot be told apart from a rise in need."
        )
    if v.cause == Cause.SHORT_HISTORY:
        return (
            f"this area's figures start in {period_text(f['first'])}, {f['months']} months "
            f"before the quarter's end, and the comparison needs {f['minimum']} months (two "
            "years) of them, so a rise in reporting cannot yet be told apart from a rise in need."
        )
    if v.cause == Cause.TOO_FEW_COUNTS:
        return (
            f"too few referrals to model: {f['treated_total']:,.0f} {_conf(v)} referrals and "
            f"{f['control_total']:,.0f} {in_sentence(STREAMS[v.control_stream].label)} in all "
            f"(at least {f['minimum']} of each are needed)."
        )
    if v.cause == Cause.NO_CAMPAIGN_LISTED:
        return (
            "no awareness campaign is listed for this area, so there is nothing to test a "
            "reporting effect against."
        )
    if v.cause == Cause.NO_USABLE_CAMPAIGN:
        return (
            "no campaign has a year of figures before it and six months after it, so there "
            "is nothing to test a reporting effect against."
        )
    if v.cause == Cause.NOT_IDENTIFIABLE:
        return str(f["detail"])
    if v.cause == Cause.TOO_SHORT:
        return (
            f"the series are too short: {f['periods']} periods leave only {f['left']} once the "
            "trend, season, events and campaigns are estimated, too few to tell a campaign "
            f"step from the season (at least {f['minimum']} are needed)."
        )
    if v.cause == Cause.PLACEBO_FAILED:
        return (
            f"the data cannot separate reporting from need here: steps at "
            f"{v.placebo['significant']} of {v.placebo['dates']} dates with no campaign came out "
            "significant, so the series moves too much from month to month (or has an "
            "interruption not in events.csv) for a campaign step to be told apart from noise."
        )
    if v.cause == Cause.NEED_MEASURES_DISAGREE:
        ctrl = in_sentence(STREAMS[v.control_stream].label)
        return (
            f"{_conf(v)} referrals rose {pct_text(v.primary['rate_ratio']).lstrip('+')} "
            f"relative to {in_sentence(_ref_label(v))} after {_the_campaigns(v)}, but not "
            f"clearly relative to {streams_text(v.corroborating_streams)} (ratio "
            f"{ratio_text(v.corroboration)}). The need measures disagree at the campaign "
            f"date, so the rise cannot be told apart from a change in {ctrl} alone (a "
            "recording-practice or counting-rule change: declare it in events.csv) or "
            "a rise in need that reached the service more than the police."
        )
    if v.cause == Cause.LOW_POWER:
        return (
            "neither a reporting effect nor a rise in need is seen, but "
            + power_text(v)
            + _placebo_suffix(v)
        )
    return ""


def sentence(v: Verdict) -> str:
    """The verdict in one or two sentences: the reading, the figure behind it and its limits."""
    if v.verdict == "inconclusive":
        return f"Inconclusive: {cause_text(v)}"
    conf, ref = _conf(v), in_sentence(_ref_label(v))
    the_campaigns, unconfirmed = _the_campaigns(v), _need_unconfirmed(v)
    if v.verdict == "both":
        said = (
            f"Both: more people are coming forward after {the_campaigns} ({conf} referrals "
            f"{change_words(v.primary['rate_ratio'])} relative to {ref}), and need is rising "
            f"too ({_need_words(v)})."
        )
    elif v.verdict == "reporting":
        ramp = _ramp_months(v)
        said = (
            f"More people coming forward: after {the_campaigns}, {conf} referrals rose "
            f"{pct_text(v.primary['rate_ratio']).lstrip('+')} relative to {ref}"
            + (f", gradually over {ramp} months" if ramp else "")
            + ", while the "
            "need-sensitive signals show no clear rise"
            + (f" ({unconfirmed})." if unconfirmed else ".")
        )
    elif v.verdict == "need":
        # The same power statement as "neither": a reporting effect the data could not see is
        # never told as "did not rise".
        said = f"More need: {_need_words(v)}. " + (
            f"Whether more people are also coming forward cannot be told: {power_text(v)}"
            if v.power_limit is not None
            else f"No reporting effect larger than {_mde(v)} was seen in {conf} referrals "
            f"relative to them after {the_campaigns}; a smaller one could be missed."
        )
    else:
        ctrl = in_sentence(STREAMS[v.control_stream].label)
        said = f"Neither: no reporting effect larger than {_mde(v)} and no clear change in " + (
            f"need ({unconfirmed})."
            if unconfirmed
            else f"need ({ctrl} {change_words(v.need_trend['rate_ratio'])} a year, not "
            "significant)."
        )
    return said + _placebo_suffix(v)


def finding_text(v: Verdict, finding: Finding) -> str:
    """One finding the verdict rests on, as a sentence."""
    code, f = finding.code, finding.figures
    the_campaigns = _the_campaigns(v)
    ctrl_label = STREAMS[v.control_stream].label if v.control_stream else ""
    if code == Point.CONTRAST:
        ramp = _ramp_months(v)
        return (
            f"Since {the_campaigns} began, {_conf(v)} referrals ran at "
            f"{ratio_text(v.primary)} times their level relative to "
            f"{in_sentence(_ref_label(v))}, against the pre-campaign pattern"
            + (f", once a rise spread over the first {ramp} months was complete." if ramp else ".")
        )
    if code == Point.SHAPES:
        fitted = (
            f"a rise spread over the first {f['ramp_months']} months"
            if f["shape"] == "ramp"
            else "a step"
        )
        return (
            "Two shapes of reporting effect were tested, set before seeing the data: a step "
            f"when {the_campaigns} began, and a rise spread evenly over the first "
            f"{f['ramp_months']} months, then held. Here {fitted} fits the rise better. With "
            f"two tests, a claim by either needs its {_level(f['level'])} interval above 1 "
            f"(not 95%; the two estimates correlate {f['correlation']:.2f}), so the chance of "
            "a false claim stays that of one test."
        )
    if code == Point.WEIGHTS:
        return (
            f"{_ref_label(v)}: {weights_text(v.control_weights)} of the weight (each stream "
            "weighted by its precision: its size over its extra-Poisson noise)."
        )
    if code == Point.NEED:
        t = v.need_trend
        return (
            f"{ctrl_label}: underlying change {pct_text(t['rate_ratio'])} a year (95% CI "
            f"{pct_text(t['ci_low'])} to {pct_text(t['ci_high'])}); change at "
            f"{the_campaigns} {ratio_text(v.need_step)}."
        )
    if code == Point.PLACEBO:
        p, whole = v.placebo, v.placebo.get("window") == "whole"
        return (
            f"Placebo check: {p['significant']} of {p['dates']} dates with no campaign "
            + (
                f"(before and after the campaigns: {v.pre_periods} {v.period_unit} before the "
                "first are too few for dates before it alone) "
                if whole
                else ""
            )
            + f"gave a significant step ({p['share']:.0%}; about 5% expected)"
            + (
                f"; their steps were {v.widen:.2f} times as large as the intervals allow, so "
                "the primary interval is widened by that factor."
                if v.widen > 1
                else "."
            )
        )
    if code == Point.NO_PLACEBO:
        return (
            f"Placebo check not possible: fewer than {MIN_PLACEBO_DATES} usable dates before "
            f"the first campaign ({v.pre_periods} {v.period_unit}). In its place a reporting "
            f"claim needs the primary contrast's {_strict_level(v)} "
            "interval above 1 (here "
            f"{v.strict['ci_low']:.2f} to {v.strict['ci_high']:.2f})."
        )
    if code == Point.NO_SECOND_NEED_STREAM:
        return (
            "A reporting effect could not be checked against a second need-sensitive stream "
            "(high-risk referrals or MARAC cases): a change in the control alone would look the "
            "same."
        )
    if code == Point.CORROBORATION_TOO_SHORT:
        return (
            f"A reporting effect could not be checked against {streams_text(f['streams'])}: too "
            "few periods in common."
        )
    if code == Point.CORROBORATION:
        return (
            f"Relative to {streams_text(v.corroborating_streams)}, "
            f"{in_sentence(STREAMS[PRIMARY_CONFIDENCE].label)} referrals ran at "
            f"{ratio_text(v.corroboration)} times the pre-campaign pattern (a reporting verdict "
            "needs this above 1 too)."
        )
    if code == Point.CORROBORATION_NEED:
        t, s = v.corroboration_need_trend, v.corroboration_need_step
        return (
            f"{capitalised(streams_text(v.corroborating_streams))} together: underlying change "
            f"{pct_text(t['rate_ratio'])} a year (95% CI {pct_text(t['ci_low'])} to "
            f"{pct_text(t['ci_high'])}); change at the campaigns {ratio_text(s)}."
        )
    if code == Point.NEED_NOT_CONFIRMED:
        return (
            f"{capitalised(in_sentence(ctrl_label))} rose, but "
            f"{streams_text(v.corroborating_streams)} do not show a clear rise, so the rise is "
            "not counted as need: it may be a change in how the police record crime (declare it "
            "in events.csv if so)."
        )
    if code == Point.CLEAR_BUT_SMALL:
        level = _level(v.primary.get("claim_level", 0.95))
        return f"The relative rise ({pct_text(f['rate_ratio'])}) is clear at {level} but " + (
            f"smaller than the {pct_text(MIN_REPORTING_EFFECT)} the verdict counts as a "
            "reporting effect."
            if f["below_minimum"]
            else f"not at {_strict_level(v)}, which a claim without a placebo check needs."
        )
    raise ValueError(f"No words for the finding {code!r}.")


def reasons(v: Verdict) -> list[str]:
    """What the verdict rests on, one sentence each, in the order it was established; an
    inconclusive verdict reached before any contrast was fitted gives its cause alone."""
    if not v.findings:
        return [cause_text(v)] if v.cause is not None else []
    return [finding_text(v, f) for f in v.findings]


def period_text(period: pd.Period) -> str:
    """A period as the data-quality checks name it: a quarter's label, or ``Mar 2025``."""
    if period.freqstr[0] == "Q":
        return quarter_label(period, with_months=False)
    return period.strftime("%b %Y")


def note_text(n: DataNote) -> str:
    """One of the demand models' checks or notes (:mod:`daanalysis.metrics.data_notes`) in words."""
    for_stream = f" for {n.scope}" if n.scope else ""
    match n.kind:
        case dn.NO_FIGURES:
            return f"{n.subject}: no figures."
        case dn.GAP:
            unit = "quarter" if n.first.freqstr[0] == "Q" else "month"
            if n.count == 1:
                return (
                    f"{n.subject}: 1 {unit} missing ({period_text(n.first)}); it is left out of "
                    "the model."
                )
            return (
                f"{n.subject}: {n.count:.0f} {unit}s missing between {period_text(n.first)} and "
                f"{period_text(n.last)}; they are left out of the model."
            )
        case dn.ENDS_EARLY:
            return (
                f"{n.subject}: figures end in {period_text(n.last)}, before the end of "
                f"{quarter_label(n.quarter)}; the comparison uses the months both cover."
            )
        case dn.PARTIAL_LAST:
            return (
                f"{n.subject}: {period_text(n.last)} ({n.count:,.0f}) is far below the median of "
                f"the 12 before ({n.reference:,.0f}), so probably a partial figure; it is left out."
            )
        case dn.NEEDS_RECORDS:
            return f"{n.subject}: needs record-level referrals."
        case dn.NOT_IN_DATA:
            return f"{n.subject}: not in the data."
        case dn.TOO_FEW:
            return f"{n.subject}: too few ({n.count:.0f} in all) to model."
        case dn.NOT_FITTED:
            return n.detail
        case dn.CONTROL_INSTEAD:
            return (
                f"{n.subject}: not supplied; {n.scope} is the control instead, a weaker one "
                "because campaigns may move it too."
            )
        case dn.POOR_FIT:
            shown = ", ".join(period_text(p) for p in n.periods)
            return (
                f"The model fits {n.count:.0f} period(s) badly ({shown}): an interruption such "
                "as a lockdown or a recording change that is not in events.csv? Declare it there "
                "if so."
            )
        case dn.TOO_EARLY:
            return f"{n.subject}: too early in the data to estimate a step{for_stream}."
        case dn.TOO_RECENT:
            return f"{n.subject}: too recent to estimate a step{for_stream} yet."
        case dn.NEAR_EVENT:
            return (
                f"{n.subject} starts during or soon after {n.scope}: if the series had not "
                f"recovered by {n.last:%d/%m/%Y}, move the event's end date in events.csv, or "
                "the recovery will be read as a campaign effect."
            )
    raise ValueError(f"no words for data note kind {n.kind!r}")


def record(v: Verdict) -> dict:
    """The verdict as ``daanalysis verdict`` prints it in JSON: plain types, with its sentence
    and reasons in words after the reading, and without the coded findings they are made
    from (the words say them)."""
    d = v.as_dict()
    out = {"area": d["area"], "quarter": d["quarter"], "verdict": d["verdict"]}
    out.update(sentence=sentence(v), reasons=reasons(v))
    coded = {
        "cause", "cause_figures", "findings", "strict", "need_evidence", "widen", "pre_periods",
        "period_unit", "detectable", "power_limit",
    }  # fmt: skip
    out.update({k: value for k, value in d.items() if k not in out and k not in coded})
    out["checks"] = [note_text(n) for n in v.checks]
    out["notes"] = [note_text(n) for n in v.notes]
    return out


# --- the page's answer and tables -----------------------------------------------------------


def headline(vols: pd.DataFrame, v: Verdict, quarter: pd.Period) -> str:
    """The committee's answer in plain English: the change in referrals, then the verdict."""
    total = referral_total(vols)
    change = total["change_pct"]
    if pd.isna(total["count"]):
        # Not collected (or only in part) is said as such: never a 0 and never a partial count.
        opening = (
            f"The service's referral total for {quarter_label(quarter)} was not collected, or "
            "not for every month of it, so it is not given."
        )
        return f"{opening} {sentence(v)} {EVIDENCE_NOT_PROOF}"
    opening = f"In {quarter_label(quarter)} the service received {total['count']:,.0f} referrals"
    if pd.notna(change):
        opening += f", {abs(change):.0f}% {'more' if change >= 0 else 'fewer'} than a year earlier."
    elif total["same_quarter_last_year"] == total["count"]:
        # Set aside by daanalysis.present.quality.set_aside_copies: the same figures a year apart.
        opening += (
            " (the same figure as a year earlier, in a quarter probably copied in the source: "
            "not compared)."
        )
    else:
        opening += " (no figure for the same quarter a year earlier)."
    return f"{opening} {sentence(v)} {EVIDENCE_NOT_PROOF}"


def untested_line(v: Verdict, campaigns: pd.DataFrame) -> str:
    """One line for a page whose verdict rests on no fitted contrast (nothing could be tested):
    what is missing and what would enable it. ``""`` when the verdict has its primary contrast.

    ``campaigns`` are the area's campaigns as given to the verdict. The verdict itself stays
    "inconclusive", as in ``daanalysis verdict``; this only words it.
    """
    if v.primary:
        return ""
    said = reasons(v)
    why = said[0] if said else sentence(v)
    if v.cause == Cause.SHORT_HISTORY:
        first = v.cause_figures["first"]
        ready = quarter_label((first + v.cause_figures["minimum"] - 1).asfreq(QUARTER_FREQ))
        return (
            f"No reporting effect can be tested: {why} It can be tested from {ready} on, or "
            "now if the area's earlier figures are added to the extract."
        )
    if not v.control_stream:
        return (
            f"No reporting effect can be tested: {why} Add police.csv (police-recorded DA crimes "
            "a month) or marac.csv to enable it, or, where they are supplied, report a quarter "
            "with two years of their figures behind it."
        )
    if not v.campaigns and campaigns.empty:
        return (
            "No campaign can be tested: campaigns.csv lists no awareness campaign for this area. "
            "Add campaign dates (name, start_date, end_date) to campaigns.csv to test whether one "
            "changed reporting."
        )
    if not v.campaigns and v.notes and v.quarter:
        end = parse_quarter(v.quarter.split(" (")[0]).end_time  # the label carries its months
        if (campaigns["start_date"] > end).all():
            return (
                f"No campaign can be tested in {v.quarter}: every campaign in campaigns.csv "
                f"starts after it (the first, {campaigns.sort_values('start_date')['name'].iloc[0]}"
                f", on {campaigns['start_date'].min():%d/%m/%Y}). Choose a quarter at least six "
                "months after a campaign to test it."
            )
        advice = []
        if any(n.kind == dn.TOO_RECENT for n in v.notes):
            advice.append("a campaign can be tested once six months of figures follow it")
        if any(n.kind == dn.TOO_EARLY for n in v.notes):
            advice.append("a campaign needs a year of figures before it: supply earlier months")
        said_advice = "; ".join(advice) or "add campaign dates to campaigns.csv to test one"
        return (
            f"No campaign can be tested in {v.quarter}: campaigns.csv has none with a year of "
            "figures before it and six months after it ("
            + "; ".join(note_text(n).rstrip(".") for n in v.notes)
            + f"). {capitalised(said_advice)}."
        )
    return f"No reporting effect could be estimated: {why}"


def table(v: Verdict) -> pd.DataFrame:
    """The figures the verdict rests on, one row each, for the page and the spreadsheet.

    The last column says what each figure shows here, from its interval, not what it would mean
    if it were above 1."""
    rows = []
    if v.primary:
        conf, ctrl = STREAMS[v.confidence_stream].label, STREAMS[v.control_stream].label
        reference = (
            f"{in_sentence(COMBINED_LABEL)} ({weights_text(v.control_weights)})"
            if len(v.control_weights) > 1
            else in_sentence(ctrl)
        )
        rows += [
            {
                "measure": f"Reporting effect: {conf} relative to {reference} (primary contrast)",
                "value": ratio_text(v.primary),
                "what it means": reads(
                    v.primary,
                    "above 1: more people coming forward than need explains",
                    "below 1: fewer coming forward, relative to need",
                    "not clearly above or below 1: no clear reporting effect",
                ),
            },
            {
                "measure": "Smallest reporting effect the data could detect (80% power)",
                "value": f"{v.primary['mde_ratio']:.2f}",
                "what it means": "a smaller effect could be missed",
            },
            {
                "measure": f"Need: {ctrl}, underlying change a year",
                "value": pct_interval_text(v.need_trend),
                "what it means": reads(
                    v.need_trend,
                    "need rising",
                    "need falling",
                    "no clear change in need",
                ),
            },
            {
                "measure": f"Need: {ctrl}, change when the campaigns began (rate ratio)",
                "value": ratio_text(v.need_step),
                "what it means": reads(
                    v.need_step,
                    "need rose when the campaigns began",
                    "need fell when the campaigns began",
                    "no clear change when the campaigns began",
                ),
            },
        ]
    if v.corroboration:
        others = streams_text(v.corroborating_streams)
        rows.append(
            {
                "measure": f"Reporting effect: {STREAMS[v.confidence_stream].label} relative to "
                f"{others} (corroboration)",
                "value": ratio_text(v.corroboration),
                "what it means": reads(
                    v.corroboration,
                    "above 1 too: the effect holds against the service's own need streams, so a "
                    "change in the control alone (such as how police record crime) cannot "
                    "explain it",
                    "below 1: a reporting verdict needs this above 1 as well",
                    "not clearly above 1: a reporting verdict needs this above 1 as well",
                ),
            }
        )
    if v.placebo.get("dates", 0) >= MIN_PLACEBO_DATES:
        rows.append(
            {
                "measure": "Placebo check: dates with no campaign that gave a significant step",
                "value": f"{v.placebo['significant']} of {v.placebo['dates']} "
                f"({v.placebo['share']:.0%})",
                "what it means": f"about 5% expected; above {PLACEBO_MAX_SHARE:.0%} the verdict "
                "is inconclusive",
            }
        )
    if v.resid_lag1:
        step = "Quarter-to-quarter" if v.period_unit == "quarters" else "Month-to-month"
        rows.append(
            {
                "measure": f"{step} correlation left in the model (lag-1, difference)",
                "value": f"{v.resid_lag1.get('difference', np.nan):.2f}",
                "what it means": "allowed for in the intervals (an AR(1) widening sized to it)",
            }
        )
    return pd.DataFrame(rows, columns=["measure", "value", "what it means"])


def direction(change: float) -> str:
    """A change on last year (%) as a direction: up, down, flat within 2%, or n/a."""
    if pd.isna(change):
        return "n/a"
    return "flat" if abs(change) < 2 else ("up" if change > 0 else "down")


SUMMARY_COLUMNS = [
    "indicator",
    "stream type",
    "direction",
    "change on last year (%)",
    "campaign step, rate ratio (95% CI)",
    "trend per year, rate ratio (95% CI)",
    "smallest step it could detect",
    "reading",
]


def _step_reading(step: pd.Series | None) -> str:
    if step is None:
        return "no campaign to test against"
    return reads(
        step,
        "stepped up after the campaigns",
        "stepped down after the campaigns",
        f"no clear step: one of {pct_text(step['mde_ratio'])} or more would probably have "
        "shown, a smaller one could be missed",
    )


def summary(fits: pd.DataFrame, vols: pd.DataFrame) -> pd.DataFrame:
    """Each stream: direction on last year, its own campaign step, trend and detectable step.

    ``fits`` from :func:`daanalysis.metrics.demand.fit_streams`, ``vols`` from
    :func:`~daanalysis.metrics.demand.volumes`. Direction is the change on the same quarter last
    year (up / down / flat within 2%; n/a without a figure a year earlier). Supporting evidence:
    the verdict is the controlled comparison, not a count of streams that stepped.
    """
    rows = []
    change = vols.set_index("stream")["change_pct"]
    for stream, fit in fits.groupby("stream", sort=False):
        spec = STREAMS[stream]
        vol = change.get(stream, np.nan)
        terms = fit.set_index("term")
        trend = terms.loc["trend (per year)"]
        step = terms.loc["all campaigns"] if "all campaigns" in terms.index else None
        rows.append(
            {
                "indicator": spec.label,
                "stream type": spec.kind,
                "direction": direction(vol),
                "change on last year (%)": round(vol, 1) if pd.notna(vol) else np.nan,
                "campaign step, rate ratio (95% CI)": ratio_text(step)
                if step is not None
                else "n/a",
                "trend per year, rate ratio (95% CI)": ratio_text(trend),
                "smallest step it could detect": (
                    f"{pct_text(step['mde_ratio'])}" if step is not None else "n/a"
                ),
                "reading": _step_reading(step),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def kpis(vols: pd.DataFrame, v: Verdict) -> list[KPI]:
    """The demand page's headline figures for ``kpis.csv``
    (:func:`daanalysis.metrics.demand.kpis`) with the verdict's reading in words
    (``demand_reading``) after the verdict itself."""
    rows = figure_kpis(vols, v)
    at = next(i for i, k in enumerate(rows) if k.key == "demand_verdict") + 1
    reading = KPI("demand_reading", "Demand verdict: reading", sentence(v), "text")
    return [*rows[:at], reading, *rows[at:]]


__all__ = [
    "EVIDENCE_NOT_PROOF",
    "SUMMARY_COLUMNS",
    "cause_text",
    "direction",
    "change_words",
    "finding_text",
    "headline",
    "kpis",
    "pct_digits",
    "pct_interval_text",
    "pct_text",
    "power_text",
    "ratio_text",
    "reads",
    "reasons",
    "record",
    "sentence",
    "streams_text",
    "summary",
    "table",
    "untested_line",
    "weights_text",
]
