"""Words that fit the inputs (issue 17): what a page says when a verdict has nothing to test,
sources from the tables actually used, no estimate stated as fact when its interval includes no
change, partnership sections that know the quarter, and a quarter noted as a copy of the year
before not compared with it. The whole pack on such inputs: ``tests/test_pack_variants.py``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.metrics import demand, partnership
from daanalysis.metrics.kpi import KPI
from daanalysis.panel import area_panel
from daanalysis.periods import QUARTER_FREQ, parse_quarter
from daanalysis.present import charts, quality
from daanalysis.present import partnership as partnership_words
from daanalysis.present import verdict as words
from daanalysis.present.sources import sources

Q = parse_quarter("2026/27 Q2")


def _campaigns(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [n for n, _ in rows],
            "start_date": pd.to_datetime([d for _, d in rows]),
            "end_date": pd.to_datetime([d for _, d in rows]),
            "area": [pd.NA] * len(rows),
        }
    )


def test_a_verdict_with_nothing_to_test_says_what_is_missing(sample_panel):
    panel = area_panel(sample_panel, None)
    none = demand.verdict(panel, _campaigns([]), None, Q, placebo=False)
    assert none.verdict == "inconclusive" and not none.primary
    line = words.untested_line(none, _campaigns([]))
    assert line.startswith("No campaign can be tested: campaigns.csv lists no awareness campaign")
    assert "Add campaign dates" in line

    late = _campaigns([("Late push", "2026-08-01")])
    v = demand.verdict(panel, late, None, Q, placebo=False)
    line = words.untested_line(v, late)
    assert "No campaign can be tested in 2026/27 Q2" in line and "Late push: too recent" in line

    early = parse_quarter("2022/23 Q2")
    both = _campaigns([("Know the signs", "2022-11-01"), ("Open doors", "2024-06-01")])
    v = demand.verdict(panel[panel["quarter"] <= early], both, None, early, placebo=False)
    line = words.untested_line(v, both)
    assert "starts after it (the first, Know the signs, on 01/11/2022)" in line

    # Before two years of the area's figures (the sample's start in Apr 2020) nothing can be
    # compared: the cause is the short history, and the line says when it can be tested.
    first = parse_quarter("2021/22 Q2")
    v = demand.verdict(panel[panel["quarter"] <= first], both, None, first, placebo=False)
    assert v.cause == demand.Cause.SHORT_HISTORY
    line = words.untested_line(v, both)
    assert line == (
        "No reporting effect can be tested: this area's figures start in Apr 2020, 18 months "
        "before the quarter's end, and the comparison needs 24 months (two years) of them, so a "
        "rise in reporting cannot yet be told apart from a rise in need. It can be tested from "
        "2021/22 Q4 (Jan-Mar 2022) on, or now if the area's earlier figures are added to the "
        "extract."
    )
    # A new case system: the area's referrals start in Jan 2025 although police figures go back
    # years. The panel spans the area's own figures, so the police series is cut to them: the
    # cause is still the short history, not a missing police series.
    recent = panel[panel["month"] >= pd.Period("2025-01", "M")]
    v = demand.verdict(recent, both, None, Q, placebo=False)
    assert v.cause == demand.Cause.SHORT_HISTORY
    assert words.untested_line(v, both).startswith(
        "No reporting effect can be tested: this area's figures start in Jan 2025, 21 months "
    )
    # Years of figures but no need-sensitive series: the line says what to add.
    blind = panel.assign(police_crimes=np.nan, marac_cases=np.nan, high_risk=np.nan)
    v = demand.verdict(blind, both, None, Q, placebo=False)
    assert v.cause == demand.Cause.NO_CONTROL
    line = words.untested_line(v, both)
    assert line.startswith("No reporting effect can be tested: there is no need-sensitive")
    assert "Add police.csv (police-recorded DA crimes a month) or marac.csv" in line

    tested = demand.verdict(panel, both, None, Q, placebo=False)
    assert tested.primary and words.untested_line(tested, both) == ""


def test_sources_name_only_the_tables_used(sample_extract):
    text = sources(sample_extract, "referrals", "police", "staffing", area="Sampleborough")
    assert text == (
        "Source: commissioned service case records (referrals.csv); police-recorded domestic "
        "abuse crimes and incidents (police.csv); the service's staffing returns (staffing.csv)."
    )
    # Campaigns with a blank area apply to every area.
    assert "campaigns.csv" in sources(sample_extract, "campaigns", area="Sampleborough")
    tables = dict(sample_extract.tables)
    tables["returns"] = pd.DataFrame({"area": ["Sampleborough"], "referrals": [1.0]})
    tables["police"] = tables["police"].iloc[:0]
    returns = dataclasses.replace(sample_extract, tables=tables, basis="aggregates")
    text = sources(returns, "referrals", "police", extra="Model: see the methods.")
    assert text == (
        "Source: commissioned service's aggregate monitoring returns (returns.csv). Model: see "
        "the methods."
    )
    assert "case records" not in text


def test_verdict_chart_says_no_clear_change_when_the_interval_spans_one():
    charts.setup()
    months = pd.period_range("2022-04", periods=24, freq="M")
    series = pd.DataFrame(
        {
            "period": months,
            "observed": np.linspace(20, 24, 24),
            "fitted": np.linspace(20, 24, 24),
            "without_campaigns": np.linspace(20, 25, 24),
            "control": "Police-recorded DA crimes",
        }
    )
    campaigns = _campaigns([("Campaign", "2023-04-01")])
    unclear = {"rate_ratio": 0.68, "ci_low": 0.40, "ci_high": 1.15}
    fig = charts.verdict_chart(series, campaigns, unclear, "Standard and medium risk")
    assert fig.da_title.startswith("No clear change in standard and medium risk referrals")
    assert "estimate -32%, 95% CI -60% to +15%" in fig.da_title and "ran" not in fig.da_title
    clear = {"rate_ratio": 1.53, "ci_low": 1.26, "ci_high": 1.85}
    fig = charts.verdict_chart(series, campaigns, clear, "Standard and medium risk")
    assert fig.da_title.startswith("Standard and medium risk referrals ran 53% above")


def test_trend_interval_and_the_funnel_title_that_follows_it():
    # Hand-computed: y = 0, 1, 1, 2 by quarter; slope 0.6 a quarter, residual variance 0.2 / 2,
    # standard error sqrt(0.1 / 5); t(0.975, 2) = 4.302653; per year x 4.
    quarters = pd.period_range("2024Q1", periods=4, freq=QUARTER_FREQ)
    table = pd.DataFrame({"quarter": quarters, "x": [0.0, 1, 1, 2]})
    out = partnership.trend(table, "x")
    half = 4.302653 * np.sqrt(0.1 / 5) * 4
    assert out["per_year"] == pytest.approx(2.4)
    assert out["low"] == pytest.approx(2.4 - half, abs=1e-4)
    assert out["high"] == pytest.approx(2.4 + half, abs=1e-4)
    charts.setup()
    funnel = pd.DataFrame(
        {"quarter": quarters, "referred_pct": [5.0, 6, 6, 7], "police_referrals": [50.0] * 4}
    )
    title = charts.funnel_chart(funnel).da_title
    assert "no clear trend (+2.4 points a year, 95% CI -0.0 to +4.8)" in title
    funnel["referred_pct"] = [5.0, 6, 7, 8]  # an exact line: the interval is the slope itself
    assert "rising (+4.0 points a year)" in charts.funnel_chart(funnel).da_title


def test_partnership_sections_know_the_quarter(sample_extract):
    tables = sample_extract.tables
    early = parse_quarter("2021/22 Q2")
    missing = partnership.availability(tables, "Sampleborough", early)
    # Prevention starts in September 2022 and sanctuary in April 2022: not yet in 2021/22 Q2.
    assert missing["prevention"].startswith("prevention.csv has no complete school term by the")
    assert missing["sanctuary"].startswith("sanctuary.csv has no measures by the end of 2021/22")
    assert missing["funnel"] == "" and missing["perpetrators"] == ""
    assert partnership.availability(tables, "Sampleborough", Q) == dict.fromkeys(missing, "")
    assert partnership_words.inputs_note(missing) == (
        "shown: perpetrator referrals, police incidents and MARAC"
    )
    assert partnership_words.inputs_note(dict.fromkeys(missing, "off")) == "none supplied"


def test_partnership_kpis_from_aggregates_show_what_the_page_shows():
    funnel = pd.DataFrame(
        {
            "quarter": [Q],
            "incidents": [1437.0],
            "police_referrals": [np.nan],
            "referred_pct": [np.nan],
            "marac_cases": [93.0],
            "marac_per_100_incidents": [100 * 93 / 1437],
        }
    )
    perpetrators = pd.DataFrame(
        {
            "quarter": [Q],
            "perpetrator_referrals": [np.nan],
            "police_referrals": [np.nan],
            "police_share_pct": [np.nan],
            "rag": ["grey"],
        }
    )
    rows = partnership.kpis(None, perpetrators, funnel, None, Config())
    assert rows == [
        KPI(
            "marac_per_100_incidents",
            "MARAC cases per 100 police DA incidents",
            6.5,
            "per 100 incidents",
        )
    ]  # no blank perpetrator figures, and no [c] for a figure that is missing, not hidden


def test_a_quarter_noted_as_a_copy_is_not_compared_with_the_year_before(sample_extract):
    police = sample_extract["police"]
    rows = police.loc[police["month"].isin(pd.period_range("2026-07", "2026-09", freq="M"))]
    reason = (
        "probable copy of the year before: 2026/27 Q2 is identical in every count to 2025/26 Q2; "
        "check the source (a row pasted forward?)"
    )
    noted = pd.DataFrame(
        {"table": "police", "row": rows["source_row"], "status": "noted", "reason": reason}
    )
    extract = dataclasses.replace(
        sample_extract, ledger=pd.concat([sample_extract.ledger, noted], ignore_index=True)
    )
    copied = quality.copied_quarters(extract, "Sampleborough")
    assert copied == {"police": {(Q, Q - 4)}}
    assert quality.copied_quarters(extract, "Elsewhere") == {}
    vols = pd.DataFrame(
        {
            "stream": ["referrals", "police_crimes", "police_incidents"],
            "indicator": ["All referrals", "Police-recorded DA crimes", "Police DA incidents"],
            "change_pct": [7.1, 6.9, 6.9],
        }
    )
    out, notes = quality.set_aside_copies(vols, copied, Q)
    assert out["change_pct"].tolist()[0] == 7.1 and out["change_pct"].iloc[1:].isna().all()
    assert len(notes) == 1 and "police.csv: 2026/27 Q2 and 2025/26 Q2 are identical" in notes[0]
    # Another quarter is compared as usual.
    same, none = quality.set_aside_copies(vols, copied, Q - 1)
    assert same.equals(vols) and none == []


def test_no_perpetrator_counts_is_not_a_zero():
    # Aggregate returns give programme starts but no perpetrator referral counts.
    quarters = pd.period_range("2025Q2", periods=6, freq=QUARTER_FREQ)
    table = pd.DataFrame(
        {
            "quarter": quarters,
            "perpetrator_referrals": [np.nan] * 6,
            "police_referrals": [np.nan] * 6,
        }
    )
    sums = partnership.last_two_years(table, ["perpetrator_referrals", "police_referrals"])
    assert sums.isna().all().all()
    assert partnership_words.perpetrator_headline(table, Config()) is None


def test_the_headline_does_not_compare_a_copied_quarter():
    vols = pd.DataFrame(
        {
            "stream": ["referrals"],
            "indicator": ["All referrals"],
            "count": [421.0],
            "same_quarter_last_year": [421.0],
            "change_pct": [0.0],
        }
    )
    copied = {"returns": {(Q, Q - 4)}}
    out, notes = quality.set_aside_copies(vols, copied, Q)
    v = demand.Verdict(
        area="A", quarter="", verdict="inconclusive", cause=demand.Cause.NO_CAMPAIGN_LISTED
    )
    text = words.headline(out, v, Q)
    assert "received 421 referrals (the same figure as a year earlier" in text
    assert "not compared" in text and "0% more" not in text
    assert notes == [
        "returns.csv: 2026/27 Q2 and 2025/26 Q2 are identical in every count, probably copied in "
        "the source, so the change on the year is not reported for all referrals. Check the "
        "source."
    ]


def test_staffing_says_what_is_missing_at_the_quarter_end(sample_panel, sample_extract):
    from daanalysis.metrics import staffing

    panel, cfg = area_panel(sample_panel, None), sample_extract.config
    assert staffing.unavailable(panel, cfg, Q) == ""
    no_open = panel.assign(open_caseload=np.nan)
    assert staffing.unavailable(no_open, cfg, Q).startswith(
        "Open caseload per FTE needs record-level referrals"
    )
    gap = panel.copy()
    gap.loc[gap["month"] == pd.Period("2026-09", "M"), "caseworker_fte"] = np.nan
    assert staffing.unavailable(gap, cfg, Q) == (
        "staffing.csv has no caseworker FTE in post for September 2026 (the end of 2026/27 Q2 "
        "(Jul-Sep 2026)): add that month's staffing to see caseload per FTE and the staffing gap."
    )
