"""Staffing gap: hand-computed caseload, working-day KPI, scenario arithmetic, projection."""

from __future__ import annotations

import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.load import load_extract
from daanalysis.metrics import staffing as st
from daanalysis.panel import NeedsRecordLevelData, area_panel, build_panel
from daanalysis.periods import parse_quarter, quarter_label
from daanalysis.present import staffing as staffing_words
from daanalysis.synthetic.sample import PLANTED
from tests.conftest import WITH_AREA, write_referrals

CONFIG = Config()


def test_caseload_per_fte_by_hand_across_quarter_ends(tmp_path):
    # Quarter 2024/25 Q1 ends 30 June, Q2 ends 30 September.
    write_referrals(
        tmp_path,
        [
            "R1,C1,10/04/2024,Police,High,10/04/2024,15/07/2024,Victim",  # open at end Jun only
            "R2,C2,20/06/2024,Self,Medium,21/06/2024,,Victim",  # still open: Jun..Sep
            "R3,C3,30/06/2024,Self,Medium,01/07/2024,30/09/2024,Victim",  # end Jun, Jul, Aug
            "R4,C4,05/05/2024,GP,Standard,06/05/2024,31/05/2024,Victim",  # closed in May
            "R5,C5,01/09/2024,GP,Standard,02/09/2024,,Perpetrator",  # not a victim case
        ],
    )
    months = [f"2024-{m:02d}" for m in range(4, 10)]
    staffing = ["month,team,role,fte_in_post,fte_funded"]
    staffing += [f"{m},IDVA team,IDVA,0.1,0.1" for m in months]
    staffing += [f"{m},Management,Service manager,1.0,1.0" for m in months]  # carries no cases
    (tmp_path / "staffing.csv").write_text("\n".join(staffing) + "\n")
    panel = build_panel(load_extract(tmp_path, config=WITH_AREA))
    cl = st.caseload_per_fte(panel, CONFIG).set_index(panel["month"].astype(str))
    assert cl["open_caseload"].tolist() == [1, 1, 3, 2, 2, 1]  # Apr..Sep month ends
    assert cl["caseworker_fte"].tolist() == [0.1] * 6
    assert cl.loc["2024-06", "per_fte"] == pytest.approx(30.0)
    assert cl.loc["2024-06", "status"] == "within band"
    assert cl.loc["2024-04", "status"] == "below band"
    end_q2 = st.quarter_end(cl.reset_index(drop=True), parse_quarter("2024/25 Q2"))
    assert end_q2["open_caseload"] == 1  # only R2, still open


def test_band_status_edges():
    per_fte = pd.Series([26.9, 27.0, 33.0, 33.1, float("nan")])
    assert st.band_status(per_fte, CONFIG).tolist() == [
        "below band",
        "within band",
        "within band",
        "above band",
        "no data",
    ]


def test_required_staffing_arithmetic():
    req = st.required_staffing(420, 12.0, Config(cost_per_fte=40000))
    assert req["required_fte"] == pytest.approx(14.0)  # 420 / 30
    assert req["gap_fte"] == pytest.approx(2.0)
    assert req["gap_cost"] == pytest.approx(80000)
    assert req["per_fte"] == pytest.approx(35.0)
    assert staffing_words.one_line_answer(req) == (
        "Safe staffing is 14.0 FTE, 2.0 more than today, costing £80,000 a year."
    )
    spare = st.required_staffing(270, 10.0, CONFIG)
    assert staffing_words.one_line_answer(spare).endswith("is enough, with 1.0 FTE to spare.")


def test_growth_bid_arithmetic():
    s = st.growth_bid_scenario(420, 10.0, Config(growth_bid=75000, cost_per_fte=37500))
    assert s["fte_bought"] == pytest.approx(2.0)
    assert s["per_fte_before"] == pytest.approx(42.0)
    assert s["per_fte_after"] == pytest.approx(35.0)
    assert not s["within_band_after"]
    assert s["further_fte_for_safe_level"] == pytest.approx(2.0)  # 14 needed, 12 after bid
    assert s["further_cost_for_safe_level"] == pytest.approx(75000)


def test_projection_breach_quarter():
    # At the safe level of 30 with 7% a year growth: 30 x 1.07^(k/4) passes 33 first at k = 6
    # (1.07^1.25 = 1.088, 1.07^1.5 = 1.107).
    start = parse_quarter("2026/27 Q2")
    proj = st.project(300, 10.0, start, 0.07, CONFIG, quarters=12)
    assert proj["per_fte"].iloc[0] == pytest.approx(30.0)
    assert proj["per_fte"].iloc[4] == pytest.approx(32.1)
    assert quarter_label(st.breach_quarter(proj), with_months=False) == "2027/28 Q4"
    # No growth: never breached within the horizon. Already above: breached now.
    assert st.breach_quarter(st.project(300, 10.0, start, 0.0, CONFIG)) is None
    assert st.breach_quarter(st.project(350, 10.0, start, 0.0, CONFIG)) == start


def _kpi_rows(pairs):
    return pd.DataFrame(
        {
            "referral_date": pd.to_datetime([a for a, _ in pairs], format="%d/%m/%Y"),
            "first_contact_date": pd.to_datetime([b for _, b in pairs], format="%d/%m/%Y"),
            "service": "victim",
        }
    )


def test_working_days_across_bank_holiday_weekend():
    # Easter 2025: Good Friday 18 April and Easter Monday 21 April are bank holidays in England.
    ref = _kpi_rows(
        [
            ("17/04/2025", "22/04/2025"),  # Thu -> Tue: one working day (Thu itself)
            ("17/04/2025", "23/04/2025"),  # Thu -> Wed: two working days
            ("18/04/2025", "22/04/2025"),  # Good Friday -> Tue: counts from Tue, so 0
            ("19/04/2025", "22/04/2025"),  # Saturday -> Tue: 0
            ("04/04/2025", "07/04/2025"),  # ordinary Fri -> Mon: 1
            ("04/04/2025", "08/04/2025"),  # ordinary Fri -> Tue: 2
            ("07/04/2025", "07/04/2025"),  # same day: 0
            ("24/12/2024", "27/12/2024"),  # Christmas Eve -> 27 Dec: 1 (25 and 26 are holidays)
        ]
    )
    assert st.working_days_to_contact(ref).tolist() == [1, 2, 0, 0, 1, 2, 0, 1]
    kpi = st.response_kpi(ref, CONFIG)
    assert kpi["within_kpi"].sum() == 6
    ref.loc[0, "first_contact_date"] = pd.NaT
    kpi = st.response_kpi(ref, CONFIG)
    q = kpi.set_index("quarter").loc[parse_quarter("2025/26 Q1")]
    assert q["no_contact_recorded"] == 1
    assert q["within_kpi_pct"] == pytest.approx(100 * 4 / 6)


def test_littles_law_on_a_steady_state():
    panel = pd.DataFrame(
        {
            "referrals": [100.0] * 12,
            "cases_closed": [100.0] * 12,
            "mean_days_open": [st.DAYS_PER_MONTH * 3] * 12,
            "open_caseload": [300.0] * 12,
            "basis": "records",
        }
    )
    check = st.littles_law(panel)
    assert check["expected_open_cases"] == pytest.approx(300)
    assert check["ratio"] == pytest.approx(1.0)


def test_aggregate_panel_without_open_cases_says_what_is_needed():
    panel = pd.DataFrame(
        {
            "basis": ["aggregates"],
            "month": [pd.Period("2024-04", "M")],
            "quarter": [pd.Period("2025Q1", "Q-MAR")],
            "open_caseload": [float("nan")],
            "caseworker_fte": [10.0],
            "caseworker_fte_funded": [10.0],
        }
    )
    with pytest.raises(NeedsRecordLevelData, match="or open_cases_end in the aggregate returns"):
        st.caseload_per_fte(panel, CONFIG)
    with pytest.raises(NeedsRecordLevelData, match="Little's law check needs record-level"):
        st.littles_law(panel)


def test_sample_reproduces_the_minutes(sample_extract, sample_panel):
    panel = area_panel(sample_panel, None)
    cl = st.caseload_per_fte(panel, sample_extract.config)
    row = st.quarter_end(cl, parse_quarter("2026/27 Q2"))
    bid = st.growth_bid_scenario(row["open_caseload"], row["caseworker_fte"], sample_extract.config)
    # "this would bring case work per member of staff to approximately 35"
    assert bid["per_fte_after"] == pytest.approx(PLANTED["caseload_per_fte_after_bid"], abs=0.5)
    assert row["status"] == "above band"
    # Little's law holds on the sample's steady recent months.
    assert st.littles_law(panel)["ratio"] == pytest.approx(1.0, abs=0.1)
    kpi = st.response_kpi(sample_extract["referrals"], sample_extract.config)
    overall = kpi["within_kpi"].sum() / kpi["contacted"].sum()
    assert overall == pytest.approx(PLANTED["response_within_one_working_day"], abs=0.02)


def test_vacancies_are_funded_minus_in_post():
    panel = pd.DataFrame(
        {
            "month": pd.period_range("2024-04", periods=2, freq="M"),
            "quarter": pd.Period("2025Q1", "Q-MAR"),
            "open_caseload": [60.0, 60.0],
            "caseworker_fte": [2.0, 2.0],
            "caseworker_fte_funded": [2.5, 1.5],
            "basis": "records",
        }
    )
    cl = st.caseload_per_fte(panel, CONFIG)
    assert cl["vacant_fte"].tolist() == [0.5, 0.0]  # over-establishment is not a negative vacancy
