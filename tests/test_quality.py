"""The committee's data-quality section: counts by table and reason, nothing row-level."""

from __future__ import annotations

import pandas as pd

from daanalysis.present import quality

LEDGER = pd.DataFrame(
    {
        "table": ["referrals"] * 12 + ["staffing"] * 3,
        "file": ["referrals.csv"] * 12 + ["staffing.csv"] * 3,
        "row": list(range(2, 14)) + [2, 3, 4],
        "status": ["used"] * 5 + ["excluded"] * 7 + ["used", "excluded", "excluded"],
        "reason": [""] * 4
        + ["gender 'Two-spirit' not in the mapping table, counted as unknown"]
        + ["referral_date: '31/02/2024' is not a date; write it as dd/mm/yyyy"] * 6
        + ["duplicate of row 3 (same referral_id)"]
        + ["", "fte_in_post: -1.0 must be zero or more", "month 2024-06 is incomplete: x"],
    }
)


def test_counts_by_table_hide_small_excluded_counts():
    table = quality.rows_by_table(LEDGER, 5).set_index("table")
    assert table.loc["referrals", "rows read"] == 12
    assert table.loc["referrals", "excluded"] == 7
    assert table.loc["staffing", "excluded"] == "[c]"
    assert table.loc["staffing", "excluded (%)"] == "[c]"
    assert "used" not in table.columns  # read - used would give back a suppressed count


def test_reasons_carry_no_values_or_row_numbers_and_small_counts_are_suppressed():
    reasons = quality.reasons_by_table(LEDGER, 5)
    text = reasons.to_string()
    for private in ("Two-spirit", "31/02/2024", "row 3", "-1.0", "2024-06"):
        assert private not in text
    rows = reasons.set_index(["table", "reason"])["rows"]
    assert rows["referrals", "referral_date: [value] is not a date"] == "[c]"  # 6 next to a 1
    assert rows["referrals", "duplicate of an earlier row (same referral_id)"] == "[c]"
    assert (reasons.loc[reasons["table"] == "staffing", "rows"] == "[c]").all()
    assert set(reasons["what happened"]) == {"excluded", "used, with a note"}


def test_no_problems_gives_an_empty_reasons_table():
    clean = LEDGER.assign(status="used", reason="")
    assert quality.reasons_by_table(clean, 5).empty


def test_a_page_shows_the_rows_of_its_own_inputs(monkeypatch):
    from types import SimpleNamespace

    import IPython.display

    from daanalysis.config import Config

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    extract = SimpleNamespace(ledger=LEDGER, config=Config(), notes=[])
    quality.show(extract, tables=("staffing",))
    frames = [item.frame for item in shown if hasattr(item, "frame")]
    assert frames and all(set(f["table"]) == {"staffing"} for f in frames)
    shown.clear()
    quality.show(extract)
    assert {"referrals", "staffing"} <= set(
        next(i.frame for i in shown if hasattr(i, "frame"))["table"]
    )
