"""UK financial-year periods: months and quarters running April to March.

Quarters are pandas ``Period`` objects with frequency ``Q-MAR``: ``Period("2024Q4", "Q-MAR")`` is
the third quarter of financial year 2024/25 (pandas names fiscal quarters by the year in which the
financial year *ends*). Everything user-facing goes through :func:`parse_quarter` and
:func:`quarter_label` so nobody has to remember that.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

QUARTER_FREQ = "Q-MAR"
MONTH_FREQ = "M"

_FY_QUARTER = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*Q([1-4])\s*$", re.IGNORECASE)


def fy_quarter(fy_start_year: int, q: int) -> pd.Period:
    """Quarter ``q`` (1-4) of the financial year starting 1 April ``fy_start_year``."""
    if q not in (1, 2, 3, 4):
        raise ValueError(f"Quarter must be 1 to 4, got {q}.")
    # Q-MAR periods are labelled by the calendar year in which the financial year ends.
    return pd.Period(year=fy_start_year + 1, quarter=q, freq=QUARTER_FREQ)


def fy_start_year(period: pd.Period | pd.Timestamp | dt.date) -> int:
    """Calendar year in which the financial year containing ``period`` starts (April)."""
    ts = period.start_time if isinstance(period, pd.Period) else pd.Timestamp(period)
    return ts.year if ts.month >= 4 else ts.year - 1


def fy_label(fy_start: int) -> str:
    """Financial-year label, e.g. ``2024/25``."""
    return f"{fy_start}/{str(fy_start + 1)[-2:]}"


def latest_complete_quarter(today: dt.date | pd.Timestamp | None = None) -> pd.Period:
    """The last financial quarter that ended before ``today`` (default: the real today)."""
    today = pd.Timestamp(today if today is not None else dt.date.today())
    return pd.Period(today, freq=QUARTER_FREQ) - 1


def parse_quarter(
    text: str | pd.Period,
    today: dt.date | pd.Timestamp | None = None,
) -> pd.Period:
    """Parse a financial quarter.

    Accepts ``2024-25Q2``, ``2024/25 Q2``, ``2024/2025 Q2`` or ``latest`` (the last complete quarter
    before ``today``). Returns a ``Q-MAR`` Period.
    """
    if isinstance(text, pd.Period):
        return text.asfreq(QUARTER_FREQ)
    raw = str(text).strip()
    if raw.lower() == "latest":
        return latest_complete_quarter(today)
    match = _FY_QUARTER.match(raw)
    if not match:
        raise ValueError(
            f"Cannot read quarter {raw!r}. Write it as '2024/25 Q2', '2024-25Q2' or 'latest'."
        )
    start, end, q = int(match.group(1)), match.group(2), int(match.group(3))
    end_year = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
    if end_year != start + 1:
        raise ValueError(
            f"Quarter {raw!r}: a financial year runs April to March, so the second year must be "
            f"{fy_label(start)}."
        )
    return fy_quarter(start, q)


def quarter_label(period: pd.Period, with_months: bool = True) -> str:
    """Committee label: ``2024/25 Q2 (Jul-Sep 2024)``; without months ``2024/25 Q2``."""
    period = period.asfreq(QUARTER_FREQ)
    start = fy_start_year(period)
    label = f"{fy_label(start)} Q{period.quarter}"
    if not with_months:
        return label
    first, last = period.start_time, period.end_time
    if first.year == last.year:
        months = f"{first:%b}-{last:%b %Y}"
    else:
        months = f"{first:%b %Y}-{last:%b %Y}"
    return f"{label} ({months})"


def quarter_slug(period: pd.Period) -> str:
    """File-system friendly label: ``2024-25Q2``."""
    period = period.asfreq(QUARTER_FREQ)
    start = fy_start_year(period)
    return f"{start}-{str(start + 1)[-2:]}Q{period.quarter}"


def quarter_months(period: pd.Period) -> pd.PeriodIndex:
    """The three months of a financial quarter."""
    period = period.asfreq(QUARTER_FREQ)
    return pd.period_range(period.start_time, period.end_time, freq=MONTH_FREQ)


def resolve_quarter(
    text: str | pd.Period,
    complete: pd.PeriodIndex | list[pd.Period],
    today: dt.date | pd.Timestamp | None = None,
) -> pd.Period:
    """The quarter to report, checked against the ``complete`` quarters the data cover.

    ``latest`` means the last complete quarter before today, or the data's last complete quarter
    if the data end earlier (a report is never produced for a quarter the data do not cover).
    """
    available = sorted(pd.PeriodIndex(complete, freq=QUARTER_FREQ))
    if not available:
        raise ValueError("The data do not cover a complete financial quarter.")
    wanted = parse_quarter(text, today)
    if str(text).strip().lower() == "latest":
        usable = [q for q in available if q <= wanted]
        if not usable:
            raise ValueError(
                f"The data start after {quarter_label(wanted)}, the last complete quarter."
            )
        return usable[-1]
    if wanted not in available:
        raise ValueError(
            f"{quarter_label(wanted)} is not a complete quarter in the data; the data cover "
            f"{quarter_label(available[0])} to {quarter_label(available[-1])}."
        )
    return wanted


def parse_today(today: str) -> pd.Timestamp | None:
    """``today`` (yyyy-mm-dd, or blank for the real today) as a timestamp, with a clear error."""
    if not today:
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(today))
    except ValueError:
        raise ValueError(
            f"--today {today!r} is not a date: write it as yyyy-mm-dd (for example "
            f"{dt.date.today():%Y-%m-%d}), or leave it out to judge 'latest' from today."
        ) from None
