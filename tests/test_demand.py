"""Demand versus reporting: hand-computed metrics, and recovery of the planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.load import load_extract
from daanalysis.metrics import demand
from daanalysis.panel import NeedsRecordLevelData, area_panel, build_panel
from daanalysis.periods import parse_quarter, quarter_label
from daanalysis.present import verdict as words
from daanalysis.present.verdict import note_text
from daanalysis.synthetic.sample import CAMPAIGNS, PLANTED
from tests.conftest import WITH_AREA

Q = parse_quarter("2025/26 Q1")


def _panel(counts: dict[str, list[float]], start="2023-04") -> pd.DataFrame:
    n = len(next(iter(counts.values())))
    months = pd.period_range(start, periods=n, freq="M")
    panel = pd.DataFrame({"area": "A", "month": months, **counts})
    panel["quarter"] = panel["month"].dt.asfreq("Q-MAR")
    panel["basis"] = "records"
    return panel


def test_volumes_by_hand():
    # 27 months from April 2023: referrals 10 a month in 2023/24, 12 in 2024/25, 15 in Q1 2025/26
    referrals = [10.0] * 12 + [12.0] * 12 + [15.0] * 3
    panel = _panel({"referrals": referrals, "self_referrals": [2.0] * 27})
    vols = demand.volumes(panel, Q).set_index("stream")
    assert vols.at["referrals", "count"] == 45
    assert vols.at["referrals", "same_quarter_last_year"] == 36
    assert vols.at["referrals", "change_pct"] == pytest.approx(25.0)
    assert vols.at["referrals", "rolling_12m"] == 12 * 9 + 45  # Jul 2024 to Jun 2025
    # the 12 months before: Jul 2023 to Jun 2024 = 9 x 10 + 3 x 12 = 126
    assert vols.at["referrals", "rolling_change_pct"] == pytest.approx(100 * (153 / 126 - 1))
    assert vols.at["self_referrals", "change_pct"] == 0


def test_incomplete_quarter_is_refused():
    panel = _panel({"referrals": [1.0] * 26})
    with pytest.raises(ValueError, match="not complete"):
        demand.volumes(panel, Q)


def test_rates_and_reach_by_hand():
    panel = _panel({"referrals": [100.0] * 27, "adults_16plus": [200000.0] * 27})
    config = Config(csew_prevalence=0.05)
    r = demand.rates(panel, Q, config).set_index("measure")["value"]
    assert r.iloc[0] == pytest.approx(1000 * 1200 / 200000)  # 6 per 1,000
    assert r.iloc[1] == pytest.approx(100 * 1200 / (0.05 * 200000))  # 12% reach


def test_marac_benchmark_by_hand():
    panel = _panel(
        {
            "marac_cases": [30.0] * 27,
            "marac_repeats": [9.0] * 27,
            "females_16plus": [80000.0] * 27,
        }
    )
    b = demand.marac_benchmark(panel, Q, Config()).set_index("measure")
    assert b["value"].iloc[0] == pytest.approx(10000 * 360 / 80000)  # 45 per 10,000
    assert b["benchmark"].iloc[0] == 40
    assert b["value"].iloc[1] == pytest.approx(30.0)
    assert b["benchmark"].iloc[1] == pytest.approx(31.0)


def test_a_month_not_collected_gives_no_12_month_rate_or_benchmark():
    """A gap inside the 12 months is not summed as if it were 0 (11 months read as a year)."""
    referrals = [100.0] * 27
    referrals[20] = np.nan  # Dec 2024, inside Jul 2024 - Jun 2025
    cases = [30.0] * 27
    cases[25] = np.nan
    panel = _panel(
        {
            "referrals": referrals,
            "adults_16plus": [200000.0] * 27,
            "marac_cases": cases,
            "marac_repeats": [9.0] * 27,
            "females_16plus": [80000.0] * 27,
        }
    )
    assert demand.rates(panel, Q, Config())["value"].isna().all()
    assert demand.marac_benchmark(panel, Q, Config())["value"].isna().all()


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_step_change_recovers_a_known_step_exactly():
    # Noise-free counts with a 50% step: the fitted rate ratio is the step itself.
    months = 48
    base = np.full(months, 40.0)
    base[24:] *= 1.5
    panel = _panel({"self_referrals": base}, start="2021-04")
    campaigns = pd.DataFrame(
        {"name": ["C"], "start_date": [pd.Timestamp("2023-04-01")], "area": [pd.NA]}
    )
    fit, notes = demand.step_change(panel, "self_referrals", campaigns)
    step = fit.set_index("term").loc["step: C"]
    assert step["rate_ratio"] == pytest.approx(1.5, rel=1e-6)
    assert fit.set_index("term").loc["trend (per year)", "rate_ratio"] == pytest.approx(1.0)
    assert notes == []


def test_no_campaign_gives_trend_only_and_says_so():
    rng = np.random.default_rng(1)
    counts = rng.poisson(30 * 1.1 ** (np.arange(48) / 12)).astype(float)
    panel = _panel({"self_referrals": counts, "referrals": counts}, start="2021-04")
    fits, _ = demand.fit_streams(
        panel, pd.DataFrame(columns=["name", "start_date", "area"]), streams=["self_referrals"]
    )
    assert [t for t in fits["term"] if not t.startswith("season: ")] == ["trend (per year)"]
    vols = demand.volumes(panel, parse_quarter("2024/25 Q4"))
    table = words.summary(fits, vols)
    assert table["campaign step, rate ratio (95% CI)"].item() == "n/a"


def test_recent_campaign_is_skipped_with_a_note():
    counts = np.random.default_rng(2).poisson(20, size=48).astype(float)
    panel = _panel({"self_referrals": counts}, start="2021-04")
    campaigns = pd.DataFrame(
        {"name": ["Late"], "start_date": [pd.Timestamp("2025-01-10")], "area": [pd.NA]}
    )
    fit, notes = demand.step_change(panel, "self_referrals", campaigns)
    assert "step: Late" not in set(fit["term"])
    assert [note_text(n) for n in notes] == [
        "Late: too recent to estimate a step for Self-referrals yet."
    ]


# --- recovery of what the sample generator planted -------------------------------------------


@pytest.fixture(scope="module")
def sample_fits(sample_extract, sample_panel):
    panel = area_panel(sample_panel, None)
    fits, _ = demand.fit_streams(
        panel,
        demand.campaigns_for(sample_extract["campaigns"], "x"),
        events=demand.events_for(sample_extract["events"], "x"),
    )
    return fits.set_index(["stream", "term"])


def test_sample_reporting_uplift_is_recovered(sample_fits):
    uplift = PLANTED["campaign_uplift"]
    total = np.prod(list(uplift.values()))
    # Every self-referral is in the planted confidence segment: its step is the planted one.
    both = sample_fits.loc[("self_referrals", "all campaigns")]
    assert both["ci_low"] <= total <= both["ci_high"]
    assert both["ci_low"] > 1
    for name in CAMPAIGNS["name"]:
        step = sample_fits.loc[("self_referrals", f"step: {name}")]
        assert step["ci_low"] <= uplift[name] <= step["ci_high"]
    # Standard/medium risk mixes in repeats (no uplift): diluted, but still clearly up.
    assert sample_fits.loc[("standard_medium_risk", "all campaigns"), "ci_low"] > 1


def _interval99(row: pd.Series) -> tuple[float, float]:
    """The 99% interval of a fitted rate ratio (the table holds 95%)."""
    centre = np.log(row["rate_ratio"])
    half = np.log(row["ci_high"] / row["ci_low"]) / 2 * 2.576 / 1.96
    return float(np.exp(centre - half)), float(np.exp(centre + half))


def test_sample_need_streams_follow_trend_without_step(sample_fits):
    # Four streams each with a 95% interval would miss the truth about one run in five by
    # chance alone, so each is held to its 99% interval.
    growth = 1 + PLANTED["need_growth_annual"]
    for stream in ("high_risk", "police_crimes", "marac_cases", "repeat_12m"):
        low, high = _interval99(sample_fits.loc[(stream, "all campaigns")])
        assert low <= 1 <= high, stream
        low, high = _interval99(sample_fits.loc[(stream, "trend (per year)")])
        assert low <= growth <= high, stream
    # The biggest need stream has the power to show the rise is real.
    assert sample_fits.loc[("police_crimes", "trend (per year)"), "ci_low"] > 1


def test_sample_verdict_is_both_as_planted(sample_extract, sample_panel):
    # The sample plants a reporting uplift at the campaigns and a 5% a year rise in need.
    panel = area_panel(sample_panel, None)
    quarter = parse_quarter("2026/27 Q2")
    v = demand.verdict(
        panel,
        demand.campaigns_for(sample_extract["campaigns"], "x"),
        demand.events_for(sample_extract["events"], "x"),
        quarter,
    )
    assert v.verdict == "both"
    assert v.control_stream == "police_crimes"
    assert v.primary["ci_low"] > 1
    # Standard/medium risk mixes repeats (no uplift) into the planted segment, so its relative
    # step is diluted but inside the planted combined uplift.
    assert v.primary["ci_low"] <= np.prod(list(PLANTED["campaign_uplift"].values()))
    growth = 1 + PLANTED["need_growth_annual"]
    assert v.need_trend["ci_low"] <= growth <= v.need_trend["ci_high"]
    assert v.need_step["ci_low"] <= 1 <= v.need_step["ci_high"]
    assert v.placebo["dates"] >= 5 and v.placebo["share"] <= demand.PLACEBO_MAX_SHARE
    vols = demand.volumes(panel, quarter)
    text = words.headline(vols, v, quarter)
    assert "2026/27 Q2 (Jul-Sep 2026)" in text and "not proof" in text
    assert text.count("Both:") == 1
    kpis = {r.key: r for r in words.kpis(vols, v)}
    assert kpis["demand_verdict"].value == "both"
    assert kpis["demand_reading"].value == words.sentence(v)
    effect = kpis["reporting_effect"]
    assert effect.value == round(v.primary["rate_ratio"], 2)
    # The interval travels as numbers in its own fields, not inside the unit's text.
    assert (effect.low, effect.high, effect.unit) == (
        round(v.primary["ci_low"], 2),
        round(v.primary["ci_high"], 2),
        "ratio",
    )


def test_sample_lockdown_is_not_credited_to_anything(sample_extract, sample_panel):
    # The planted lockdown dip is declared in events.csv: each of its months is absorbed.
    panel = area_panel(sample_panel, None)
    events = demand.events_for(sample_extract["events"], "x")
    assert events["kind"].tolist() == ["temporary"]
    fits, _ = demand.fit_streams(
        panel, demand.campaigns_for(sample_extract["campaigns"], "x"), ["high_risk"], events
    )
    trend = fits.set_index("term").loc["trend (per year)"]
    assert trend["ci_low"] <= 1 + PLANTED["need_growth_annual"] <= trend["ci_high"]


def test_aggregate_only_input_says_what_needs_records(tmp_path, sample_panel):
    # Build quarterly returns from the sample panel, as a commissioned service would send them.
    q = sample_panel.groupby("quarter")[
        ["referrals", "self_referrals", "high_risk", "standard_medium_risk"]
    ].sum()
    q = q[q.index <= parse_quarter("2026/27 Q2")]
    lines = ["period,referrals,self_referrals,high_risk,standard_medium_risk"] + [
        f"{quarter_label(p, with_months=False)},{int(r.referrals)},"
        f"{int(r.self_referrals)},{int(r.high_risk)},{int(r.standard_medium_risk)}"
        for p, r in q.iterrows()
    ]
    (tmp_path / "returns.csv").write_text("\n".join(lines) + "\n")
    extract = load_extract(tmp_path, config=WITH_AREA)
    panel = build_panel(extract)
    with pytest.raises(NeedsRecordLevelData, match="needs record-level referrals"):
        demand.repeat_rate(panel)
    fits, found = demand.fit_streams(
        panel,
        demand.campaigns_for(
            pd.DataFrame(
                {"name": CAMPAIGNS["name"], "start_date": CAMPAIGNS["start_date"], "area": pd.NA}
            ),
            "x",
        ),
    )
    notes = [note_text(n) for n in found]
    assert "First-time clients: needs record-level referrals." in notes
    assert "Repeat referrals within 12 months: needs record-level referrals." in notes
    # Quarterly returns are fitted on quarters, and still find the reporting step.
    step = fits.set_index(["stream", "term"]).loc[("self_referrals", "all campaigns")]
    assert step["periods"] == 26
    assert step["ci_low"] > 1
    vols = demand.volumes(panel, parse_quarter("2026/27 Q2")).set_index("stream")
    assert vols.at["referrals", "count"] == q["referrals"].iloc[-1]


def test_sample_christmas_and_summer_seasonality_is_recovered(sample_fits):
    # Police crimes are the largest counts: their month-of-year ratios (against April) should
    # bracket the planted Christmas/New Year and mid-summer peaks, and ordinary months sit at 1.
    for month_number, name in [(1, "Jan"), (7, "Jul"), (8, "Aug"), (12, "Dec")]:
        ratio = sample_fits.loc[("police_crimes", f"season: {name}")]
        assert ratio["ci_low"] <= PLANTED["seasonality"][month_number] <= ratio["ci_high"], name
        # Peaks of 12% or more are clear from six years of data; July's 10% need not be.
        assert ratio["ci_low"] > 1 or PLANTED["seasonality"][month_number] < 1.12, name
    for name in ("May", "Jun", "Oct"):
        ratio = sample_fits.loc[("police_crimes", f"season: {name}")]
        assert ratio["ci_low"] <= 1 <= ratio["ci_high"], name


def test_case_intensity_by_hand():
    closed = [10.0] * 12 + [20.0] * 12 + [0.0] * 3
    days = [90.0] * 12 + [120.0] * 12 + [np.nan] * 3
    panel = _panel({"cases_closed": closed, "mean_days_open": days})
    table = demand.case_intensity(panel, Q).set_index("period")
    # 12 months to June 2025: Jul 2024-Mar 2025 (9 x 20 closed at 120 days) + 3 months with none.
    assert table["cases_closed"].iloc[0] == 180
    assert table["mean_days_open"].iloc[0] == pytest.approx(120)
    # 12 months before: Jul 2023-Mar 2024 (9 x 10 at 90) and Apr-Jun 2024 (3 x 20 at 120).
    assert table["mean_days_open"].iloc[1] == pytest.approx((90 * 90 + 60 * 120) / 150)


def test_service_volumes_keep_perpetrator_and_children_in_view():
    ref = pd.DataFrame(
        {
            "area": "A",
            "referral_date": pd.to_datetime(
                ["2025-04-02", "2025-05-02", "2025-05-03", "2024-04-10", "2024-06-01"]
            ),
            "service": ["victim", "perpetrator", "victim", "victim", "children"],
        }
    )
    table = demand.service_volumes(ref, "A", Q).set_index("service")
    assert table.loc["victim", "count"] == 2
    assert table.loc["victim", "same_quarter_last_year"] == 1
    assert table.loc["victim", "change_pct"] == pytest.approx(100)
    assert table.loc["children", "count"] == 0
    assert table.loc["perpetrator", "same_quarter_last_year"] == 0
    assert np.isnan(table.loc["perpetrator", "change_pct"])


def test_tiny_streams_are_not_modelled():
    panel = _panel({"self_referrals": [1.0, 0.0] * 24, "high_risk": [0.0] * 48}, start="2021-04")
    fits, found = demand.fit_streams(
        panel, pd.DataFrame(columns=["name", "start_date", "area"]), ["self_referrals", "high_risk"]
    )
    assert fits.empty
    notes = [note_text(n) for n in found]
    assert "Self-referrals: too few (24 in all) to model." in notes
    assert "High risk (DASH): too few (0 in all) to model." in notes
    vols = demand.volumes(panel.assign(referrals=1.0), parse_quarter("2024/25 Q4"))
    assert words.summary(fits, vols).empty


def test_demographics_by_hand():
    ref = pd.DataFrame(
        {
            "area": "A",
            "service": "victim",
            "referral_date": pd.to_datetime(
                ["2025-06-30", "2024-07-01", "2025-01-15", "2024-06-30", "2023-07-01", "2023-06-30"]
            ),
            "gender": ["female", "female", None, "male", "female", "female"],
        }
    )
    table = demand.demographics(ref, "A", Q, "gender", threshold=1).set_index("gender")
    # Last 12 months: Jul 2024 to Jun 2025. Previous: Jul 2023 to Jun 2024 (Jun 2023 is out).
    assert table.loc["female", "last 12 months"] == 2
    assert table.loc["not recorded", "last 12 months"] == 1
    assert table.loc["male", "previous 12 months"] == 1
    assert table.loc["female", "previous 12 months"] == 1
    assert table.loc["total", "last 12 months"] == 3
    assert table.loc["female", "share last 12 months (%)"] == pytest.approx(200 / 3)


def test_partial_last_month_is_not_fitted():
    counts = np.random.default_rng(3).poisson(30, size=37).astype(float)
    counts[-1] = 4.0  # an extract taken on the 4th of the month
    panel = _panel({"self_referrals": counts}, start="2021-04")
    panel["complete"] = [True] * 36 + [False]
    fit, _ = demand.step_change(
        panel, "self_referrals", pd.DataFrame(columns=["name", "start_date"])
    )
    assert set(fit["periods"]) == {36}
    trend = fit.set_index("term").loc["trend (per year)"]
    assert trend["ci_low"] <= 1 <= trend["ci_high"]


@pytest.mark.parametrize("risk_only", [False, True])
def test_a_quarter_whose_referral_total_was_not_collected_is_said_so(risk_only):
    """A month of the quarter blank (or returns with risk-level counts only): the headline and
    kpis say the total is not available, never 0, nan or a KeyError."""
    referrals = [100.0] * 27
    referrals[25] = np.nan  # May 2025, inside 2025/26 Q1
    counts = {"referrals": referrals, "high_risk": [30.0] * 27}
    if risk_only:
        counts.pop("referrals")
    vols = demand.volumes(_panel(counts), Q)
    v = demand.Verdict(
        area="A",
        quarter="2025/26 Q1",
        verdict="inconclusive",
        cause=demand.Cause.NO_CAMPAIGN_LISTED,
    )
    text = words.headline(vols, v, Q)
    assert "not collected" in text and "nan" not in text and " 0 referrals" not in text
    figures = {r.key: r.value for r in words.kpis(vols, v)}
    assert figures["referrals_quarter"] is None and figures["referrals_12_months"] is None


def test_data_notes_are_typed_and_worded_in_present():
    # The models return what they checked as typed records; only present/ words them, and code
    # that acts on a note reads its kind, not its words.
    from daanalysis.metrics import data_notes as dn
    from daanalysis.metrics.data_notes import DataNote

    gap = DataNote(
        dn.GAP,
        "Police-recorded DA crimes",
        count=2,
        first=pd.Period("2024-03", "M"),
        last=pd.Period("2024-04", "M"),
    )
    assert note_text(gap) == (
        "Police-recorded DA crimes: 2 months missing between Mar 2024 and Apr 2024; they are "
        "left out of the model."
    )
    quarterly = DataNote(dn.ENDS_EARLY, "MARAC cases", last=pd.Period("2025Q4", "Q-MAR"),
                         quarter=pd.Period("2026Q1", "Q-MAR"))  # fmt: skip
    assert note_text(quarterly).startswith("MARAC cases: figures end in 2024/25 Q4, before the")
    partial = DataNote(dn.PARTIAL_LAST, "Self-referrals", count=12.0,
                       last=pd.Period("2026-09", "M"), reference=61.0)  # fmt: skip
    assert "Sep 2026 (12) is far below the median of the 12 before (61)" in note_text(partial)
    early = DataNote(dn.TOO_EARLY, "Spring", "Self-referrals")
    assert (
        note_text(early) == "Spring: too early in the data to estimate a step for Self-referrals."
    )
    with pytest.raises(ValueError, match="unknown data note kind"):
        DataNote("too recent")
    # Every kind has words.
    for kind in dn.KINDS:
        month = pd.Period("2024-01", "M")
        note = DataNote(kind, "X", "Y", count=3.0, first=month, last=month + 1,
                        quarter=pd.Period("2024Q4", "Q-MAR"), reference=9.0, periods=(month,),
                        detail="X: why.")  # fmt: skip
        assert note_text(note).strip(), kind
