"""The demand verdict in words (``daanalysis.present.verdict``): the fit returns the decision as
data, and every coded reading, cause and finding has its words here, worked out by hand.

The statistics are tested in ``test_verdict.py``; this file tests the words alone, on verdicts
built by hand, so each sentence is checked against figures chosen for it.
"""

from __future__ import annotations

import json
from dataclasses import fields

import pandas as pd
import pytest

from daanalysis.metrics import demand
from daanalysis.metrics.demand import Cause, Finding, Point, PowerLimit, Verdict
from daanalysis.present import verdict as words


def r(est: float, low: float, high: float, mde: float = 1.2) -> dict:
    return {"rate_ratio": est, "ci_low": low, "ci_high": high, "mde_ratio": mde}


def fitted(**kw) -> Verdict:
    """A verdict with its primary contrast fitted: one campaign, police crimes the control."""
    base = dict(
        area="A",
        quarter="2026/27 Q2 (Jul-Sep 2026)",
        verdict="neither",
        confidence_stream="standard_medium_risk",
        control_stream="police_crimes",
        control_weights={"police_crimes": 1.0},
        primary=r(1.02, 0.95, 1.10),
        need_trend=r(1.01, 0.99, 1.03),
        need_step=r(0.97, 0.90, 1.05),
        need_evidence="step",
        placebo={"dates": 20, "significant": 1, "share": 0.05, "z_rms": 1.0},
        pre_periods=30,
        period_unit="months",
        detectable=1.3,
        campaigns=["Know the signs"],
    )
    return Verdict(**{**base, **kw})


def test_the_fit_carries_no_sentence():
    """The verdict is data: no field holds prose for a page (issue 19)."""
    names = {f.name for f in fields(Verdict)}
    assert not names & {"sentence", "reasons"}
    assert not hasattr(demand, "headline") and not hasattr(demand, "verdict_table")


def test_neither_reading_by_hand():
    v = fitted()
    # The detectable effect 1.3 is +30%; police crimes changed +1.0% a year (1.01).
    assert words.sentence(v) == (
        "Neither: no reporting effect larger than 30% and no clear change in need "
        "(police-recorded DA crimes up 1.0% a year, not significant)."
    )


def test_reporting_reading_names_the_combined_control_and_its_weights():
    v = fitted(
        verdict="reporting",
        primary=r(1.35, 1.2, 1.5),
        control_weights={"police_crimes": 0.6, "marac_cases": 0.4},
        campaigns=["One", "Two"],
        findings=[Finding(Point.CONTRAST), Finding(Point.WEIGHTS), Finding(Point.NEED)],
    )
    assert words.sentence(v) == (
        "More people coming forward: after the campaigns, standard and medium risk referrals "
        "rose 35% relative to need-sensitive figures combined, while the need-sensitive signals "
        "show no clear rise."
    )
    said = words.reasons(v)
    assert said[0] == (
        "Since the campaigns began, standard and medium risk referrals ran at 1.35 (95% CI 1.20 "
        "to 1.50) times their level relative to need-sensitive figures combined, against the "
        "pre-campaign pattern."
    )
    assert said[1].startswith(
        "Need-sensitive figures combined: police-recorded DA crimes 60%, MARAC cases 40% of the "
        "weight"
    )
    assert said[2] == (
        "Police-recorded DA crimes: underlying change +1.0% a year (95% CI -1.0% to +3.0%); "
        "change at the campaigns 0.97 (95% CI 0.90 to 1.05)."
    )


def test_need_reading_with_too_little_power_says_why_never_did_not_rise():
    v = fitted(
        verdict="need",
        need_trend=r(1.10, 1.05, 1.15),
        need_evidence="trend",
        detectable=1.8,
        power_limit=Finding(PowerLimit.FEW_A_PERIOD, {"per_period": 9.4, "unit": "month"}),
    )
    assert words.sentence(v) == (
        "More need: police-recorded DA crimes up 10% a year. Whether more people are also coming "
        "forward cannot be told: the figures are too few (9 a month in the confidence stream) to "
        "see a reporting effect smaller than 80%."
    )


def test_no_placebo_check_is_said_in_the_sentence_and_the_reasons():
    v = fitted(
        placebo={"dates": 2, "significant": 0, "share": 0.0},
        pre_periods=14,
        strict=r(1.02, 0.91, 1.14),
        findings=[Finding(Point.NO_PLACEBO)],
    )
    assert words.sentence(v).endswith(
        " No placebo check was possible (14 months before the first campaign: it needs 5 test "
        "dates, each with a year before and six months after), so a reporting claim needed its "
        "99% interval above 1, not its 95% interval."
    )
    assert words.reasons(v) == [
        "Placebo check not possible: fewer than 5 usable dates before the first campaign (14 "
        "months). In its place a reporting claim needs the primary contrast's 99% interval above "
        "1 (here 0.91 to 1.14)."
    ]


def test_every_cause_has_its_words_with_its_figure():
    figures = {
        Cause.TOO_FEW_COUNTS: {"treated_total": 1234.0, "control_total": 40.0, "minimum": 50},
        Cause.NOT_IDENTIFIABLE: {"detail": "the data cannot tell the campaign step apart."},
        Cause.TOO_SHORT: {"periods": 24, "left": 9, "minimum": 15},
        Cause.SHORT_HISTORY: {"months": 21, "first": pd.Period("2025-01", "M"), "minimum": 24},
    }
    for cause in Cause:
        v = fitted(
            verdict="inconclusive",
            cause=cause,
            cause_figures=figures.get(cause, {}),
            corroboration={**r(1.01, 0.9, 1.1), "level": 0.9},
            corroborating_streams=["high_risk", "marac_cases"],
            primary=r(1.3, 1.1, 1.5),
            power_limit=Finding(PowerLimit.DRIFT, {"rho": 0.71}),
        )
        text = words.sentence(v)
        assert text.startswith("Inconclusive: ") and len(text) > 40, cause
        assert "{" not in text and "nan" not in text, cause
    few = figures[Cause.TOO_FEW_COUNTS]
    too_few = fitted(verdict="inconclusive", cause=Cause.TOO_FEW_COUNTS, cause_figures=few)
    assert "1,234 standard and medium risk referrals and 40 police-recorded DA crimes" in (
        words.sentence(too_few)
    )
    short = fitted(
        verdict="inconclusive",
        cause=Cause.SHORT_HISTORY,
        cause_figures=figures[Cause.SHORT_HISTORY],
    )
    assert words.sentence(short) == (
        "Inconclusive: this area's figures start in Jan 2025, 21 months before the quarter's "
        "end, and the comparison needs 24 months (two years) of them, so a rise in reporting "
        "cannot yet be told apart from a rise in need."
    )
    drift = fitted(
        verdict="inconclusive",
        cause=Cause.LOW_POWER,
        power_limit=Finding(PowerLimit.DRIFT, {"rho": 0.71}),
    )
    assert "(a correlation of 0.71 between one month's gap and the next" in words.sentence(drift)


@pytest.mark.parametrize("point", list(Point))
def test_every_finding_has_its_words(point):
    v = fitted(
        strict=r(1.02, 0.91, 1.14),
        corroboration={**r(1.2, 1.05, 1.3), "level": 0.9},
        corroborating_streams=["high_risk"],
        corroboration_need_trend=r(1.0, 0.97, 1.03),
        corroboration_need_step=r(1.0, 0.9, 1.1),
    )
    figures = {
        Point.CORROBORATION_TOO_SHORT: {"streams": ["high_risk"]},
        Point.CLEAR_BUT_SMALL: {"rate_ratio": 1.03, "below_minimum": True},
        Point.SHAPES: {"shape": "ramp", "ramp_months": 12, "level": 0.971, "correlation": 0.67},
    }
    text = words.finding_text(v, Finding(point, figures.get(point, {})))
    assert text and text[0].isupper() and text.endswith(".") and "{" not in text


def test_the_command_s_json_keeps_its_fields_and_their_order():
    """`daanalysis verdict --format json` says what it said when the fit made the words: the
    sentence and reasons after the reading, the coded findings left to the words."""
    v = fitted(findings=[Finding(Point.CONTRAST), Finding(Point.NEED)])
    record = words.record(v)
    assert list(record) == [
        "area", "quarter", "verdict", "sentence", "reasons", "confidence_stream",
        "control_stream", "control_weights", "primary", "need_trend", "need_step",
        "corroboration", "corroborating_streams", "corroboration_need_trend",
        "corroboration_need_step", "placebo", "resid_lag1", "campaigns", "checks", "notes",
    ]  # fmt: skip
    assert record["sentence"] == words.sentence(v) and len(record["reasons"]) == 2
    json.dumps(record)  # plain types only
    # The typed record itself is plain too (papermill, JSON): codes as their values.
    plain = v.as_dict()
    assert plain["findings"][0] == {"code": "contrast"} and plain["cause"] is None


def test_kpis_add_the_reading_after_the_verdict():
    vols = pd.DataFrame(
        {
            "stream": ["referrals"],
            "count": [400.0],
            "same_quarter_last_year": [380.0],
            "change_pct": [100 * (400 / 380 - 1)],
            "rolling_12m": [1500.0],
        }
    )
    v = fitted()
    keys = [k.key for k in words.kpis(vols, v)]
    assert keys[keys.index("demand_verdict") + 1] == "demand_reading"
    assert "demand_reading" not in [k.key for k in demand.kpis(vols, v)]
    assert {k.key: k.value for k in words.kpis(vols, v)}["demand_reading"] == words.sentence(v)


def test_a_gap_of_one_period_is_named_once():
    from daanalysis.metrics import data_notes as dn

    one = dn.DataNote(
        dn.GAP,
        "Self-referrals",
        count=1,
        first=pd.Period("2023-12", "M").asfreq("Q-MAR"),
        last=pd.Period("2023-12", "M").asfreq("Q-MAR"),
    )
    assert words.note_text(one) == (
        "Self-referrals: 1 quarter missing (2023/24 Q3); it is left out of the model."
    )
    three = dn.DataNote(
        dn.GAP,
        "Police-recorded DA crimes",
        count=3,
        first=pd.Period("2022-01", "M"),
        last=pd.Period("2022-03", "M"),
    )
    assert words.note_text(three) == (
        "Police-recorded DA crimes: 3 months missing between Jan 2022 and Mar 2022; they are "
        "left out of the model."
    )


def test_quarterly_models_name_their_correlation_by_quarter():
    table = words.table(fitted(period_unit="quarters", resid_lag1={"difference": 0.1}))
    assert "Quarter-to-quarter correlation left in the model (lag-1, difference)" in set(
        table["measure"]
    )
    table = words.table(fitted(resid_lag1={"difference": 0.1}))
    assert "Month-to-month correlation left in the model (lag-1, difference)" in set(
        table["measure"]
    )
