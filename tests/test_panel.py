"""The monthly panel against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from daanalysis.ingest.load import load_extract
from daanalysis.panel import (
    NeedsRecordLevelData,
    build_panel,
    mark_repeats,
    open_caseload,
    quarterly,
    require_records,
)
from daanalysis.synthetic.sample import FIRST_MONTH, LAST_MONTH
from tests.conftest import WITH_AREA, write_referrals


def _dates(*values):
    return pd.Series(pd.to_datetime(list(values), format="%d/%m/%Y"))


def test_open_caseload_by_hand():
    # A: opens 15 Jan, closes 10 Feb        -> open at end Jan only
    # B: opens 31 Jan, closes 31 Jan        -> never open at a month end
    # C: opens 20 Feb, still open           -> open end Feb, Mar, Apr
    # D: opens 28 Dec (before the panel), closes 01 Apr -> open end Jan, Feb, Mar
    # E: opens 31 Mar, closes 30 Apr        -> open end Mar (open through the month end)
    opened = _dates("15/01/2024", "31/01/2024", "20/02/2024", "28/12/2023", "31/03/2024")
    closed = _dates("10/02/2024", "31/01/2024", None, "01/04/2024", "30/04/2024")
    months = pd.period_range("2024-01", "2024-04", freq="M")
    result = open_caseload(opened, closed, months)
    assert result.tolist() == [2.0, 2.0, 3.0, 1.0]


def test_repeats_within_twelve_months():
    ref = pd.DataFrame(
        {
            "client_key": ["a", "a", "a", "b", "b", None],
            "referral_date": _dates(
                "01/01/2023", "31/12/2023", "01/06/2025", "01/02/2023", "01/02/2023", "01/03/2023"
            ),
            "source_row": [2, 3, 4, 5, 6, 7],
        }
    )
    flags = mark_repeats(ref)
    # a: first; 364 days later (repeat); 17 months later (not a repeat, not first-time)
    # b: twice the same day (a second referral within 12 months is a repeat)
    # no key: cannot be linked, so neither first-time nor repeat
    assert flags["first_time"].tolist() == [True, False, False, True, False, False]
    assert flags["repeat_12m"].tolist() == [False, True, False, False, True, False]


def test_panel_from_records_by_hand(tmp_path):
    write_referrals(
        tmp_path,
        [
            "R1,C1,01/04/2024,Self referral,Standard,01/04/2024,15/05/2024,Victim",
            "R2,C2,03/04/2024,Police,High,04/04/2024,,Victim",
            "R3,C1,20/05/2024,GP,Medium,21/05/2024,,Victim",
            "R4,C3,21/05/2024,Self,High,,,Perpetrator",
            "R5,C4,02/06/2024,Self,medium,,10/06/2024,Victim",
        ],
    )
    panel = build_panel(load_extract(tmp_path, config=WITH_AREA)).set_index("month")
    assert panel.index.astype(str).tolist() == ["2024-04", "2024-05", "2024-06"]
    assert panel["referrals"].tolist() == [2, 1, 1]  # perpetrator referral not in victim panel
    assert panel["self_referrals"].tolist() == [1, 0, 1]
    assert panel["first_time"].tolist() == [2, 0, 1]
    assert panel["repeat_12m"].tolist() == [0, 1, 0]
    assert panel["high_risk"].tolist() == [1, 0, 0]
    assert panel["standard_medium_risk"].tolist() == [1, 1, 1]
    assert panel["cases_closed"].tolist() == [0, 1, 1]
    assert panel["open_caseload"].tolist() == [2, 2, 2]
    assert panel["mean_days_open"].iloc[1] == 44  # 1 April to 15 May
    assert panel["quarter"].astype(str).unique().tolist() == ["2025Q1"]
    # Context tables absent: NaN, never 0.
    assert panel["police_crimes"].isna().all()
    assert (panel["basis"] == "records").all()


def _write_returns(folder, lines):
    folder.mkdir(parents=True, exist_ok=True)
    header = "area,period,referrals,self_referrals,high_risk,standard_medium_risk,open_cases_end"
    (folder / "returns.csv").write_text("\n".join([header, *lines]) + "\n")


def test_panel_from_quarterly_returns(tmp_path):
    _write_returns(
        tmp_path,
        ["Westshire,2024/25 Q1,90,30,15,75,120", "Westshire,2024/25 Q2,99,33,18,81,130"],
    )
    extract = load_extract(tmp_path, config=WITH_AREA)
    assert extract.basis == "aggregates"
    panel = build_panel(extract)
    assert len(panel) == 6
    assert panel["referrals"].tolist() == [30, 30, 30, 33, 33, 33]
    # Open cases are a snapshot at quarter end, not something to split.
    assert panel["open_caseload"].isna().tolist() == [True, True, False, True, True, False]
    assert panel["open_caseload"].dropna().tolist() == [120, 130]
    assert panel["repeat_12m"].isna().all()
    q = quarterly(panel, ["referrals", "self_referrals"])
    assert q["referrals"].tolist() == [90, 99]
    with pytest.raises(NeedsRecordLevelData, match="record-level"):
        require_records(panel, "Repeat rate")


def test_panel_from_monthly_returns_and_bad_period(tmp_path):
    lines = [f"Westshire,2024-{m:02d},{m},1,1,{m - 1}," for m in range(4, 12)] * 1
    lines += [f"Westshire,2023-{m:02d},{m},1,1,{m - 1}," for m in range(1, 13)]
    lines += [f"Westshire,2022-{m:02d},{m},1,1,{m - 1}," for m in range(1, 13)]
    lines.append("Westshire,Spring 2024,5,1,1,4,")
    _write_returns(tmp_path, lines)
    extract = load_extract(tmp_path, config=WITH_AREA)
    excluded = extract.ledger[extract.ledger["status"] == "excluded"]
    reason = excluded["reason"].item()
    assert "neither a month nor a financial quarter; write a month as yyyy-mm" in reason
    panel = build_panel(extract)
    assert panel.loc[panel["month"] == pd.Period("2024-05", "M"), "referrals"].item() == 5


def test_sample_panel_shape(sample_panel):
    assert sample_panel["area"].unique().tolist() == ["Sampleborough"]
    assert sample_panel["month"].min() == FIRST_MONTH
    assert sample_panel["month"].max() == LAST_MONTH
    assert not sample_panel["month"].duplicated().any()
    # Streams add up: every referral is standard/medium, high or unknown risk.
    assert (
        sample_panel["standard_medium_risk"] + sample_panel["high_risk"]
        <= sample_panel["referrals"]
    ).all()
    assert np.isfinite(sample_panel[["police_crimes", "marac_cases", "caseworker_fte"]]).all().all()


def test_sample_caseload_matches_records(sample_extract, sample_panel):
    ref = sample_extract["referrals"]
    ref = ref[ref["service"] == "victim"]
    end = pd.Timestamp("2025-03-31")
    by_hand = ((ref["referral_date"] <= end) & ~(ref["closed_date"] <= end)).sum()
    row = sample_panel[sample_panel["month"] == pd.Period("2025-03", "M")]
    assert row["open_caseload"].item() == by_hand


def test_partial_last_month_is_flagged_and_left_out_of_quarters(tmp_path):
    from daanalysis.panel import complete_quarters

    rows = [
        "R1,C1,02/04/2024,Self,Standard,02/04/2024,,Victim",
        "R2,C2,10/05/2024,Police,High,10/05/2024,,Victim",
        "R3,C3,15/06/2024,Police,High,15/06/2024,,Victim",  # extract taken mid-June
    ]
    write_referrals(tmp_path / "partial", rows)
    panel = build_panel(load_extract(tmp_path / "partial", config=WITH_AREA))
    assert panel["complete"].tolist() == [True, True, False]
    assert complete_quarters(panel) == []
    assert quarterly(panel, ["referrals"]).empty
    # A closure dated after the month's end shows the extract was taken later: June is whole.
    write_referrals(
        tmp_path / "whole", [*rows, "R4,C4,20/06/2024,GP,Medium,20/06/2024,01/07/2024,Victim"]
    )
    panel = build_panel(load_extract(tmp_path / "whole", config=WITH_AREA))
    assert panel["complete"].all()
    assert [str(q) for q in complete_quarters(panel)] == ["2025Q1"]


def test_sample_months_are_all_complete(sample_panel):
    assert sample_panel["complete"].all()
