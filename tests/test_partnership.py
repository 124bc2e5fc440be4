"""Partnership activity: hand-computed cases, the aggregate path, missing inputs, and the
patterns planted in the sample (daanalysis.synthetic.sample.PARTNERSHIP_PLANTED)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.load import load_extract
from daanalysis.metrics import partnership
from daanalysis.pack.downloads import write_officer_lists
from daanalysis.present import partnership as partnership_words
from daanalysis.present import partnership_tables
from daanalysis.present.notebook import write_kpis
from daanalysis.present.sources import partnership_warnings
from daanalysis.synthetic.sample import PARTNERSHIP_PLANTED
from tests.conftest import REFERRAL_HEADER

M = "M"
Q = "Q-MAR"


def _prevention(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["month", "school", "phase", "sessions", "pupils", "schools_engaged"]
    )
    frame["month"] = pd.PeriodIndex(frame["month"], freq=M)
    return frame.assign(area="A", programme="P")


SCHOOLS = pd.DataFrame(
    {
        "area": "A",
        "school": ["P1", "P2", "P3", "P4", "S1"],
        "phase": ["Primary", "primary", "PRIMARY", "Primary", "Secondary"],
    }
)


def test_school_terms_follow_the_academic_year():
    months = pd.Series(
        pd.PeriodIndex(["2024-09", "2024-12", "2025-01", "2025-04", "2025-08"], freq=M)
    )
    terms = partnership.school_term(months)
    assert terms["term_label"].tolist() == [
        "2024/25 autumn",
        "2024/25 autumn",
        "2024/25 spring",
        "2024/25 summer",
        "2024/25 summer",
    ]
    assert [str(p) for p in terms["term_end"]] == [
        "2024-12",
        "2024-12",
        "2025-03",
        "2025-08",
        "2025-08",
    ]
    assert terms["term_key"].is_monotonic_increasing


def test_prevention_by_term_counts_distinct_schools_and_change_on_year():
    frame = _prevention(
        [
            # 2023/24 autumn: one primary school, twice (two months).
            ("2023-09", "P1", "Primary", 1, 30, np.nan),
            ("2023-10", "P1", "Primary", 2, 50, np.nan),
            # 2024/25 autumn: three primary schools and a secondary.
            ("2024-09", "P1", "Primary", 1, 25, np.nan),
            ("2024-10", "P2", "Primary", 1, 25, np.nan),
            ("2024-11", "P3", "primary", 2, 40, np.nan),
            ("2024-11", "S1", "Secondary", 1, 90, np.nan),
        ]
    )
    table = partnership.prevention_by_term(frame, SCHOOLS, by_phase=False)
    assert table["term_label"].tolist() == ["2023/24 autumn", "2024/25 autumn"]
    last = table.iloc[-1]
    assert last["schools_engaged"] == 4
    assert last["schools_in_area"] == 5
    assert last["engaged_pct"] == pytest.approx(80.0)
    assert last["sessions"] == 5 and last["pupils"] == 180
    assert last["sessions_change"] == 5 - 3
    assert last["engaged_pct_change"] == pytest.approx(80.0 - 20.0)
    by_phase = partnership.prevention_by_term(frame, SCHOOLS)
    primary = by_phase[
        (by_phase["term_label"] == "2024/25 autumn") & (by_phase["phase"] == "primary")
    ]
    assert primary["schools_engaged"].item() == 3 and primary["schools_in_area"].item() == 4


def test_prevention_aggregate_rows_give_at_least_figures():
    frame = _prevention(
        [
            ("2024-09", None, "Primary", 4, 100, 3),
            ("2024-10", None, "Primary", 6, 150, 5),
        ]
    )
    table = partnership.prevention_by_term(frame, None, by_phase=False)
    row = table.iloc[0]
    assert row["schools_engaged"] == 5  # the largest month: schools may repeat across months
    assert bool(row["at_least"])
    assert np.isnan(row["engaged_pct"])  # no register to count out of


def test_complete_terms_drop_a_term_still_running():
    frame = _prevention(
        [("2024-06", "P1", "Primary", 1, 30, np.nan), ("2024-09", "P1", "Primary", 1, 30, np.nan)]
    )
    table = partnership.prevention_by_term(frame, SCHOOLS, by_phase=False)
    kept = partnership.complete_terms(table, pd.Period("2024-09", M).asfreq(Q))  # Jul-Sep 2024
    assert kept["term_label"].tolist() == ["2023/24 summer"]


def test_schools_never_engaged():
    frame = _prevention(
        [("2024-09", "P1", "Primary", 1, 30, np.nan), ("2024-09", "P2", "Primary", 0, 0, np.nan)]
    )
    never = partnership.schools_never_engaged(frame, SCHOOLS)
    assert never["school"].tolist() == ["P2", "P3", "P4", "S1"]


def _referrals(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "referral_date": pd.to_datetime([r[0] for r in rows]),
            "service": [r[1] for r in rows],
            "referral_source": [r[2] for r in rows],
            "risk_level": [r[3] for r in rows],
            "area": "A",
        }
    )


def test_perpetrator_summary_police_share_ratio_and_programme():
    referrals = _referrals(
        [
            ("2024-04-10", "perpetrator", "police", "standard"),
            ("2024-05-10", "perpetrator", "children_services", "standard"),
            ("2024-05-11", "perpetrator", "self", "medium"),
            ("2024-06-01", "perpetrator", "self", "medium"),
            ("2024-07-01", "perpetrator", "self", "medium"),
            ("2024-04-03", "victim", "police", "high"),
        ]
    )
    programme = pd.DataFrame(
        {
            "period": [
                pd.Period("2024-04", M),
                pd.Period("2024-05", M),
                pd.Period("2024-07", M).asfreq(Q),
            ],
            "starts": [1.0, 2.0, 3.0],
            "completions": [0.0, 1.0, 2.0],
            "referrals": np.nan,
            "police_referrals": np.nan,
        }
    )
    victims = pd.Series([40.0, 50.0], index=pd.PeriodIndex(["2025Q1", "2025Q2"], freq=Q))
    out = partnership.perpetrator_summary(referrals, programme, victims, Config())
    q1 = out[out["quarter"] == pd.Period("2025Q1", Q)].iloc[0]  # Apr-Jun 2024
    assert q1["perpetrator_referrals"] == 4 and q1["police_referrals"] == 1
    assert q1["police_share_pct"] == pytest.approx(25.0)
    assert q1["rag"] == "green"  # 25% meets the default 25% target
    assert q1["per_100_victim"] == pytest.approx(10.0)
    assert q1["starts"] == 3 and q1["completions"] == 1  # months summed into their quarter
    q2 = out[out["quarter"] == pd.Period("2025Q2", Q)].iloc[0]
    assert q2["police_share_pct"] == 0 and q2["rag"] == "red"
    assert q2["starts"] == 3 and q2["completions"] == 2


def test_perpetrator_summary_aggregate_path():
    programme = pd.DataFrame(
        {
            "period": [pd.Period("2025Q1", Q)],
            "starts": [2.0],
            "completions": [1.0],
            "referrals": [10.0],
            "police_referrals": [4.0],
        }
    )
    out = partnership.perpetrator_summary(None, programme, pd.Series(dtype=float), Config())
    row = out.iloc[0]
    assert row["perpetrator_referrals"] == 10 and row["police_share_pct"] == pytest.approx(40.0)
    assert np.isnan(row["per_100_victim"])


def _panel(incidents: list[float], marac: list[float]) -> pd.DataFrame:
    months = pd.period_range("2024-04", periods=len(incidents), freq=M)
    return pd.DataFrame(
        {
            "area": "A",
            "month": months,
            "quarter": months.asfreq(Q),
            "complete": True,
            "police_incidents": incidents,
            "marac_cases": marac,
        }
    )


def test_police_funnel_conversions():
    panel = _panel([100, 100, 100, 50, 50], [5, 5, 5, 1, 1])  # second quarter incomplete
    referrals = _referrals(
        [
            ("2024-04-02", "victim", "police", "high"),
            ("2024-04-03", "victim", "police", "standard"),
            ("2024-05-03", "victim", "police", "medium"),
            ("2024-06-03", "victim", "self", "high"),
            ("2024-06-04", "perpetrator", "police", "standard"),
        ]
    )
    funnel = partnership.police_funnel(panel, referrals)
    assert len(funnel) == 1
    row = funnel.iloc[0]
    assert row["incidents"] == 300 and row["police_referrals"] == 3
    assert row["referred_pct"] == pytest.approx(1.0)
    assert row["high_risk"] == 1 and row["high_risk_pct"] == pytest.approx(100 / 3)
    assert row["marac_cases"] == 15 and row["marac_per_100_incidents"] == pytest.approx(5.0)
    aggregate = partnership.police_funnel(panel, None)
    assert np.isnan(aggregate["referred_pct"].iloc[0])


def test_police_funnel_gives_no_figure_for_a_quarter_with_a_month_missing():
    """A police month not collected or set aside as implausible: no quarter of two months'
    incidents published as complete (it gave 16.0% referred against a true 10.3%)."""
    panel = _panel([100, np.nan, 100], [5, 5, 5])
    referrals = _referrals([("2024-04-02", "victim", "police", "high")])
    row = partnership.police_funnel(panel, referrals).iloc[0]
    assert np.isnan(row["incidents"]) and np.isnan(row["referred_pct"])
    assert row["marac_cases"] == 15


def test_trend_slope_per_year_and_change_on_year():
    quarters = pd.period_range("2023Q1", periods=6, freq=Q)
    table = pd.DataFrame({"quarter": quarters, "x": [1.0, 2, 3, 4, 5, 6]})
    out = partnership.trend(table, "x")
    assert out["per_year"] == pytest.approx(4.0)  # one a quarter
    assert out["latest"] == 6 and out["change_on_year"] == pytest.approx(4.0)


def test_sanctuary_by_quarter_costs_and_aggregate_rows():
    frame = pd.DataFrame(
        {
            "period": [pd.Period("2024-04", M)] * 4 + [pd.Period("2024-07", M).asfreq(Q)],
            "cost": [50.0, 100.0, 150.0, 400.0, 1000.0],
            "properties": [np.nan, 1, np.nan, np.nan, 5],
            "stayed_home": [1.0, 1, 0, 1, 3],
        }
    )
    out = partnership.sanctuary_by_quarter(frame, Config())
    q1 = out[out["quarter"] == pd.Period("2025Q1", Q)].iloc[0]
    assert q1["properties"] == 4 and q1["total_cost"] == 700
    assert q1["median_cost"] == pytest.approx(125.0)
    assert q1["cost_q1"] == pytest.approx(87.5) and q1["cost_q3"] == pytest.approx(212.5)
    assert q1["above_high"] == 1 and q1["above_high_pct"] == pytest.approx(25.0)
    assert q1["stayed_home_pct"] == pytest.approx(75.0)
    q2 = out[out["quarter"] == pd.Period("2025Q2", Q)].iloc[0]
    assert q2["properties"] == 5 and q2["total_cost"] == 1000
    assert np.isnan(q2["median_cost"])  # no one-property rows to take a median of


def test_availability_names_only_the_missing_sections():
    tables = {
        "referrals": _referrals([("2024-04-02", "victim", "police", "high")]),
        "perpetrator_programme": pd.DataFrame(),
        "police": pd.DataFrame({"area": ["A"]}),
        "prevention": pd.DataFrame(),
        "sanctuary": pd.DataFrame({"area": ["B"]}),
    }
    out = partnership.availability(tables, "A")
    assert out["funnel"] == ""
    assert "prevention" in out["prevention"] and "perpetrator" in out["perpetrators"]
    assert "sanctuary" in out["sanctuary"]  # rows for another area only


def test_optional_tables_load_with_ledger_and_clear_errors(tmp_path):
    lines = ["R1,C1,01/04/2024,Self,Standard,02/04/2024,,Victim"]
    (tmp_path / "referrals.csv").write_text("\n".join([REFERRAL_HEADER, *lines]) + "\n")
    (tmp_path / "sanctuary.csv").write_text(
        "period,cost,properties,stayed_home\n"
        "03/05/2024,120.50,,1\n"
        "2024/25 Q1,900,5,4\n"  # an aggregate row (stayed_home above properties is refused)
        "31/02/2024,80,,1\n"  # not a date: excluded with its reason
        '04/05/2024,"1,5",,1\n'  # a decimal comma: refused, never 15
    )
    (tmp_path / "config.csv").write_text(
        "key,value\nmax_excluded_share,0.5\ndefault_area,Sampleborough\n"
    )
    extract = load_extract(tmp_path)
    assert len(extract["sanctuary"]) == 2
    ledger = extract.ledger[extract.ledger["table"] == "sanctuary"]
    assert (ledger["status"] == "excluded").sum() == 2
    assert ledger["reason"].str.contains("period").any()
    (tmp_path / "prevention.csv").write_text("month,phase,sessions\n2024-05,Primary,2\n")
    with pytest.raises(ValueError, match="prevention.csv.*pupils"):
        load_extract(tmp_path)


# --- the planted patterns ------------------------------------------------------------------------


def test_sample_prevention_engagement_rises_after_the_launch(sample_extract):
    table = partnership.prevention_by_term(
        sample_extract["prevention"], sample_extract["schools"], by_phase=False
    )
    launch = PARTNERSHIP_PLANTED["prevention_launch"]
    before = table[table["term_end"] < launch]["engaged_pct"].mean()
    after = table[table["term_end"] > launch]["engaged_pct"].mean()
    schools = sum(PARTNERSHIP_PLANTED["schools"].values())
    reachable = 1 - PARTNERSHIP_PLANTED["never_engaged"] / schools
    assert before == pytest.approx(
        100 * PARTNERSHIP_PLANTED["engagement_before"] * reachable, abs=5
    )
    assert after == pytest.approx(100 * PARTNERSHIP_PLANTED["engagement_after"] * reachable, abs=5)
    never = partnership.schools_never_engaged(
        sample_extract["prevention"], sample_extract["schools"]
    )
    assert len(never) >= PARTNERSHIP_PLANTED["never_engaged"]


def test_sample_perpetrator_police_share_is_below_target(sample_extract, sample_panel):
    victims = sample_panel.groupby("quarter")["referrals"].sum()
    out = partnership.perpetrator_summary(
        sample_extract["referrals"], sample_extract["perpetrator_programme"], victims, Config()
    )
    n = out["perpetrator_referrals"].sum()
    total = out["police_referrals"].sum() / n
    # Within three binomial standard errors of the planted share, and below the target.
    planted = PARTNERSHIP_PLANTED["perpetrator_police_share"]
    assert total == pytest.approx(planted, abs=3 * (planted * (1 - planted) / n) ** 0.5)
    assert 0 < total < Config().perpetrator_police_share_target
    assert (out["rag"] == "red").mean() > 0.5
    started = out.dropna(subset=["starts"])
    assert started["quarter"].min() == PARTNERSHIP_PLANTED["programme_launch"]
    assert started["completions"].sum() <= started["starts"].sum()


def test_sample_sanctuary_costs_match_the_minutes(sample_extract):
    summary = partnership.cost_summary(sample_extract["sanctuary"], Config())
    low, high = PARTNERSHIP_PLANTED["sanctuary_basic_cost"]
    assert low <= summary["median"] <= high
    tail = 100 * PARTNERSHIP_PLANTED["sanctuary_tail_share"]
    assert summary["above_high_pct"] == pytest.approx(tail, abs=4)
    by_quarter = partnership.sanctuary_by_quarter(sample_extract["sanctuary"], Config())
    stayed = by_quarter["stayed_home"].sum() / by_quarter["properties"].sum()
    assert stayed == pytest.approx(PARTNERSHIP_PLANTED["sanctuary_stayed_home"], abs=0.06)


def test_sample_funnel_has_every_step(sample_extract, sample_panel):
    funnel = partnership.police_funnel(
        sample_panel[sample_panel["area"] == "Sampleborough"], sample_extract["referrals"]
    )
    assert len(funnel) >= 20
    assert funnel[["incidents", "police_referrals", "high_risk", "marac_cases"]].notna().all().all()
    assert (funnel["referred_pct"].between(1, 50)).all()


# --- what is published ---------------------------------------------------------------------------


def test_sanctuary_table_suppresses_small_counts_and_their_complements():
    by_quarter = pd.DataFrame(
        {
            "quarter": pd.PeriodIndex(["2025Q1", "2025Q2"], freq=Q),
            "properties": [3.0, 20.0],
            "total_cost": [300.0, 3000.0],
            "stayed_home": [3.0, 19.0],  # 20 - 19 = 1 did not: 19 would reveal it
            "median_cost": [100.0, 140.0],
            "cost_q1": [90.0, 100.0],
            "cost_q3": [110.0, 180.0],
            "above_high": [0.0, 10.0],
            "above_high_pct": [0.0, 50.0],
            "stayed_home_pct": [100.0, 95.0],
        }
    )
    out = partnership_tables.sanctuary_table(by_quarter, threshold=5)
    first, second = out.iloc[0], out.iloc[1]
    assert first["properties"] == "[c]" and first["median cost per property (GBP)"] == "[c]"
    assert first["middle half of costs"] == "[c]"
    assert second["properties"] == 20 and second["median cost per property (GBP)"] == 140
    assert second["middle half of costs"] == "£100 to £180"
    assert second["stayed in their own home (%)"] == "[c]"  # 1 of 20 did not
    assert second["above £200 (%)"] == 50


def test_perpetrator_table_and_kpis_publish_no_small_count():
    summary = pd.DataFrame(
        {
            "quarter": pd.PeriodIndex(["2025Q1", "2025Q2"], freq=Q),
            "perpetrator_referrals": [12.0, 3.0],
            "police_referrals": [10.0, 1.0],  # 12 - 10 = 2 not from the police
            "police_share_pct": [83.3, 33.3],
            "target_pct": 25.0,
            "rag": ["green", "green"],
            "victim_referrals": [100.0, 100.0],
            "per_100_victim": [12.0, 3.0],
            "starts": [6.0, np.nan],
            "completions": [2.0, np.nan],
        }
    )
    out = partnership_tables.perpetrator_table(summary, threshold=5)
    assert out.loc[0, "police_referrals"] == "[c]" and out.loc[0, "police_share_pct"] == "[c]"
    assert out.loc[0, "perpetrator_referrals"] == 12 and out.loc[0, "completions"] == "[c]"
    assert out.loc[1, "perpetrator_referrals"] == "[c]"
    assert out.loc[1, "per 100 victim referrals"] == "[c]"
    records = partnership.kpis(None, summary, None, None, Config())
    ctx = SimpleNamespace(area="A", quarter=pd.Period("2025Q1", Q), config=Config())
    rows = write_kpis(records, "", ctx).set_index("key")["value"]
    assert rows["perpetrator_referrals"] == "[c]"
    assert rows["perpetrator_police_share"] == "[c]"


def test_source_table_protects_the_total_row():
    referrals = _referrals(
        [("2024-04-10", "perpetrator", "police", "standard")]
        + [("2024-04-11", "perpetrator", "self", "standard")] * 9
        + [("2024-04-12", "perpetrator", "children_services", "standard")] * 7
    )
    out = partnership_tables.source_table(referrals, pd.Period("2025Q1", Q), threshold=5)
    assert out["source"].tolist() == ["children_services", "police", "self", "total"]
    # police (1) is suppressed, and so the next smallest (7), or the total would reveal it.
    assert out[out.columns[1]].tolist() == ["[c]", "[c]", 9, 17]


def test_write_officer_lists(tmp_path):
    prevention = _prevention([("2024-09", "P1", "Primary", 1, 30, np.nan)])
    paths = write_officer_lists({"schools": SCHOOLS, "prevention": prevention}, tmp_path)
    listed = pd.read_csv(paths[0])
    assert listed["school"].tolist() == ["P2", "P3", "P4", "S1"]
    assert write_officer_lists({"schools": SCHOOLS}, tmp_path / "x") == []


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(40, 50, 80.0), (49, 50, None), (3, 50, None), (0, 50, 0.0), (50, 50, 100.0), (0, 0, None)],
)
def test_safe_share(part, whole, expected):
    assert partnership.safe_share(part, whole, 5) == expected


def test_last_two_years_and_year_sentence():
    table = pd.DataFrame(
        {"quarter": pd.period_range("2023Q1", periods=8, freq=Q), "n": [5.0] * 4 + [6.0] * 4}
    )
    sums = partnership.last_two_years(table, ["n"])
    assert sums.loc["latest", "n"] == 24 and sums.loc["before", "n"] == 20
    text = partnership_words.year_sentence("Perpetrator referrals", 24, 20, 5)
    assert text == (
        "Perpetrator referrals: 24 in the last four quarters, up 20% on the four quarters "
        "before (20)."
    )
    assert partnership_words.year_sentence("X", 3, 20, 5) is None
    short = partnership.last_two_years(table.tail(5), ["n"])
    assert np.isnan(short.loc["before", "n"])
    assert partnership_words.year_sentence("X", 24, np.nan, 5).endswith("quarters.")


def test_stale_inputs_warn_per_section():
    q = pd.Period("2026-09", M).asfreq(Q)
    tables = {
        "prevention": pd.DataFrame({"month": pd.PeriodIndex(["2026-07"], freq=M)}),
        "sanctuary": pd.DataFrame({"period": [pd.Period("2025-06", M), pd.Period("2025Q1", Q)]}),
        "perpetrator_programme": pd.DataFrame({"period": pd.Series([], dtype=object)}),
    }
    out = partnership_warnings(tables, q)
    assert list(out) == ["sanctuary"]
    assert out["sanctuary"].startswith("Home security (sanctuary) data is out of date")


def test_perpetrator_counts_fall_back_to_the_programme_table():
    referrals = _referrals([("2024-04-10", "victim", "police", "high")])  # no perpetrator rows
    programme = pd.DataFrame(
        {
            "period": [pd.Period("2024-04", M).asfreq(Q)],
            "starts": [1.0],
            "completions": [0.0],
            "referrals": [8.0],
            "police_referrals": [2.0],
        }
    )
    out = partnership.perpetrator_summary(referrals, programme, pd.Series(dtype=float), Config())
    assert out["perpetrator_referrals"].tolist() == [8.0]
    assert out["police_share_pct"].tolist() == [25.0]


def test_headlines_answer_in_a_sentence_and_hide_small_counts():
    quarters = pd.period_range("2024Q1", periods=8, freq=Q)
    perpetrators = pd.DataFrame(
        {
            "quarter": quarters,
            "perpetrator_referrals": [10.0] * 4 + [12.0] * 4,
            "police_referrals": [2.0] * 4 + [3.0] * 4,
        }
    )
    said = partnership_words.perpetrator_headline(perpetrators, Config())
    assert said.startswith("Perpetrator referrals: 48 in the last four quarters, up 20%")
    assert said.endswith("25% came from the police, against a 25% target.")
    funnel = pd.DataFrame(
        {"quarter": quarters, "incidents": [100.0] * 8, "police_referrals": [10.0] * 8}
    )
    assert "400 domestic abuse incidents in A; 40 (**10.0%**)" in partnership_words.funnel_headline(
        funnel, "A", 5
    )
    assert partnership_words.funnel_headline(funnel.assign(police_referrals=np.nan), "A", 5) is None
    sanctuary = pd.DataFrame(
        {
            "period": [pd.Period("2025-04", M)] * 10,
            "cost": [60.0, 80, 100, 120, 140, 160, 180, 190, 300, 500],
            "properties": np.nan,
            "stayed_home": [1.0] * 9 + [0.0],  # one did not stay: the share would reveal it
        }
    )
    lines = partnership_words.sanctuary_headline(
        sanctuary, pd.Period("2025-06", M).asfreq(Q), Config()
    )
    assert len(lines) == 1
    assert "median cost per property **£150**" in lines[0]
    assert "more than £200" not in lines[0]  # only 2 properties above £200
