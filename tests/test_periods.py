import datetime as dt

import pandas as pd
import pytest

from daanalysis.periods import (
    fy_quarter,
    fy_start_year,
    latest_complete_quarter,
    parse_quarter,
    quarter_label,
    quarter_months,
    quarter_slug,
)


@pytest.mark.parametrize("text", ["2024-25Q2", "2024/25 Q2", "2024/2025 Q2", " 2024/25 q2 "])
def test_parse_forms_agree(text):
    q = parse_quarter(text)
    assert q == fy_quarter(2024, 2)
    assert q.start_time == pd.Timestamp("2024-07-01")
    assert q.end_time.normalize() == pd.Timestamp("2024-09-30")


def test_label_crosses_calendar_year():
    assert quarter_label(parse_quarter("2024/25 Q2")) == "2024/25 Q2 (Jul-Sep 2024)"
    assert quarter_label(parse_quarter("2024/25 Q4")) == "2024/25 Q4 (Jan-Mar 2025)"
    assert quarter_label(parse_quarter("2024/25 Q3"), with_months=False) == "2024/25 Q3"
    assert quarter_slug(parse_quarter("2024/25 Q1")) == "2024-25Q1"


def test_q1_starts_in_april_and_q4_ends_in_march():
    assert list(quarter_months(fy_quarter(2023, 1)).astype(str)) == [
        "2023-04",
        "2023-05",
        "2023-06",
    ]
    assert list(quarter_months(fy_quarter(2023, 4)).astype(str)) == [
        "2024-01",
        "2024-02",
        "2024-03",
    ]
    assert fy_start_year(pd.Timestamp("2024-03-31")) == 2023
    assert fy_start_year(pd.Timestamp("2024-04-01")) == 2024


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 24), "2026/27 Q2"),  # Oct-Dec in progress: last complete is Jul-Sep
        (dt.date(2026, 10, 1), "2026/27 Q2"),
        (dt.date(2026, 9, 30), "2026/27 Q1"),  # the quarter ends today: not yet complete
        (dt.date(2026, 4, 2), "2025/26 Q4"),
    ],
)
def test_latest_is_last_complete_quarter(today, expected):
    assert quarter_label(latest_complete_quarter(today), with_months=False) == expected
    assert parse_quarter("latest", today=today) == latest_complete_quarter(today)


@pytest.mark.parametrize("bad", ["2024 Q2", "2024/26 Q1", "2024/25 Q5", "Q2", ""])
def test_bad_quarter_says_how_to_write_it(bad):
    with pytest.raises(ValueError, match="2024/25 Q2|second year"):
        parse_quarter(bad)
