"""Checks of the staffing table across rows: subtotal rows, a team above the plausible FTE, FTE
written as percentages or out of line with its own months, and a month that lost a row.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.ingest.clean import tidy_column
from daanalysis.ingest.header import tidy_header
from daanalysis.ingest.ledger import SUBTOTAL, exclude_rows
from daanalysis.ingest.parse import READ_MONTH_FORMATS, parse_dates, start_of
from daanalysis.ingest.read import read_raw
from daanalysis.periods import MONTH_FREQ


def _exclude_months(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, reasons: pd.Series, excluded_groups: set
) -> pd.DataFrame:
    """Exclude the staffing rows of ``reasons`` and note their (area, month) in
    ``excluded_groups``, whose other rows are then left out too."""
    frame = tables["staffing"]
    rows = frame.loc[reasons.index]
    excluded_groups |= set(zip(rows["area"], rows["month"], strict=True))
    return exclude_rows(tables, ledger, "staffing", reasons)


def check_staffing(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, config: Config, excluded_groups: set
) -> pd.DataFrame:
    """A team's month above ``max_fte_per_team`` is excluded; so is every remaining row of an
    area's month that lost a row, so that month shows no figure rather than a partial total."""
    frame = tables["staffing"]
    if not len(frame):
        return ledger
    # A subtotal row is set aside (its month is still whole: its rows are given on their own).
    ledger = exclude_rows(tables, ledger, "staffing", _staffing_subtotals(frame))
    frame = tables["staffing"]
    team_total = frame.groupby(["area", "month", "team"], dropna=False)["fte_in_post"].transform(
        "sum"
    )
    high = team_total > config.max_fte_per_team
    reasons = pd.Series(
        [
            f"team {t!r} has {v:g} FTE in post in {m}, above the plausible "
            f"{config.max_fte_per_team:g} (config max_fte_per_team); check the team's rows"
            for t, v, m in zip(
                frame.loc[high, "team"], team_total[high], frame.loc[high, "month"], strict=True
            )
        ],
        index=frame.index[high],
        dtype=object,
    )
    ledger = _exclude_months(tables, ledger, reasons, excluded_groups)
    for check in (_fte_percentages, _fte_out_of_line):
        ledger = _exclude_months(tables, ledger, check(tables["staffing"]), excluded_groups)
    frame = tables["staffing"]
    partial = pd.Series(
        [(a, m) in excluded_groups for a, m in zip(frame["area"], frame["month"], strict=True)],
        index=frame.index,
        dtype=bool,
    )
    reasons = frame.loc[partial, "month"].map(
        lambda m: (
            f"month {m} is incomplete: another staffing row of this area and month was "
            "excluded, so the month's FTE is left out rather than published as a partial total"
        )
    )
    return exclude_rows(tables, ledger, "staffing", reasons)


# A team or role named like this is a total of other rows, not staff of its own.
TOTAL_NAME = re.compile(
    r"^\s*(?:grand\s+)?totals?\b|\btotals?\s*$|\bsub[\s-]?totals?\b"
    r"|^\s*all(?:\s+(?:teams|staff|roles|services))?\s*$",
    re.I,
)
# A team and role's month this many times the median of its neighbouring months (or under its
# inverse), when those months are steady, is a keying slip (27.26 for 7.26, 0.73 for 7.3).
NEIGHBOUR_RATIO = 2.0
NEIGHBOUR_MONTHS = 6  # either side
NEIGHBOUR_MIN_FTE = 1.0  # and at least this far from it: one post's change in a small team
# Neighbouring months are steady when their interquartile ratio is at most this.
STEADY_RATIO = 1.5


def _staffing_subtotals(frame: pd.DataFrame) -> pd.Series:
    """Reasons for staffing rows that are subtotals of other rows, by index.

    A row whose team or role says Total, Subtotal or All; or a row equal, in FTE in post and
    funded, to the sum of its area's month's other rows (two or more, with FTE), when its team
    and role is no regular series: it appears in under half the area's months, or equals that
    sum in every month it appears. A real team's month that happens to equal the others' sum
    (5 = 4 + 1) is kept: it is a series of its own.
    """
    reasons: dict[int, str] = {}
    for col in ("team", "role"):
        named = frame[col].astype("string").fillna("").str.contains(TOTAL_NAME)
        for i in frame.index[named.to_numpy(dtype=bool)]:
            reasons.setdefault(
                i,
                f"{SUBTOTAL}: {col} {frame.at[i, col]!r} in {frame.at[i, 'month']} is a total "
                "of other rows, not staff of its own; not counted twice",
            )
    rest = frame.drop(index=list(reasons))
    if not len(rest):
        return pd.Series(reasons, dtype=object)
    group = rest.groupby(["area", "month"], dropna=False)
    equal = pd.Series(True, index=rest.index)
    for col in ("fte_in_post", "fte_funded"):
        others = group[col].transform("sum") - rest[col].fillna(0)
        equal &= rest[col].isna() | ((rest[col] - others).abs() < 0.005)
    with_fte = group["fte_in_post"].transform(lambda v: int((v > 0).sum())) - (
        rest["fte_in_post"] > 0
    )
    equal &= (with_fte >= 2) & (rest["fte_in_post"] > 0)
    if equal.any():
        series = ["area", "team", "role"]
        months = rest.groupby("area")["month"].transform("nunique")
        appears = rest.groupby(series, dropna=False)["month"].transform("nunique")
        always = equal.groupby([rest[c] for c in series], dropna=False).transform("all")
        for i in rest.index[(equal & ((appears < months / 2) | always)).to_numpy(dtype=bool)]:
            reasons[i] = (
                f"{SUBTOTAL}: {rest.at[i, 'team']} / {rest.at[i, 'role']} in "
                f"{rest.at[i, 'month']} ({rest.at[i, 'fte_in_post']:g} FTE) equals the sum of "
                "the month's other rows; not counted twice"
            )
    return pd.Series(reasons, dtype=object)


def _fte_out_of_line(frame: pd.DataFrame) -> pd.Series:
    """Reasons for staffing rows far out of line with their own team and role's neighbouring
    months, by index: more than :data:`NEIGHBOUR_RATIO` times the median of up to
    :data:`NEIGHBOUR_MONTHS` months either side (or under its inverse), and at least
    :data:`NEIGHBOUR_MIN_FTE` from it, when those months are steady (interquartile ratio at most
    :data:`STEADY_RATIO`) and at least four are given.

    Catches slips the percentage and per-row limits miss: 27.26 keyed for 7.26 (3.75 times),
    0.73 for 7.3. A real change of staffing moves the neighbours too (a step up leaves them
    unsteady around it), so it is not flagged; a month of a steady series that halves and
    recovers is, and the month then shows no figure.
    """
    reasons: dict[int, str] = {}
    order = frame["month"].map(start_of).astype("datetime64[us]").sort_values().index
    for _, rows in frame.loc[order].groupby(["area", "team", "role"], dropna=False, sort=False):
        if len(rows) < 5:
            continue
        for col in ("fte_in_post", "fte_funded"):
            values = rows[col].to_numpy(dtype="float64")
            months = rows["month"].tolist()
            for k, i in enumerate(rows.index):
                value = values[k]
                if np.isnan(value):
                    continue
                around = np.concatenate(
                    [
                        values[max(0, k - NEIGHBOUR_MONTHS) : k],
                        values[k + 1 : k + 1 + NEIGHBOUR_MONTHS],
                    ]
                )
                around = around[~np.isnan(around)]
                if len(around) < 4:
                    continue
                median = float(np.median(around))
                q1, q3 = np.percentile(around, [25, 75])
                if median <= 0 or q1 <= 0 or q3 / q1 > STEADY_RATIO:
                    continue
                ratio = value / median
                if abs(value - median) < NEIGHBOUR_MIN_FTE or 1 / NEIGHBOUR_RATIO <= ratio <= (
                    NEIGHBOUR_RATIO
                ):
                    continue
                reasons.setdefault(
                    i,
                    f"{col}: {value:g} in {months[k]} is {ratio:.2g} times the median of this "
                    f"team and role's months around it ({median:g} FTE), which are steady; "
                    "probably a keying slip (a digit added or lost), so the month shows no "
                    "figure. Check the figure in the source",
                )
    return pd.Series(reasons, dtype=object)


# An FTE about a hundred times what it should be is a percentage (80 for 0.8 FTE): a value this
# many times its own series' median, or its row's other FTE, within these bounds.
PERCENT_RATIO = (100 / 3, 300)


def _fte_percentages(frame: pd.DataFrame) -> pd.Series:
    """Reasons for staffing rows whose FTE looks like a percentage (80 for 0.8), by index.

    Below ``max_fte_per_row`` such a value passes every other check: 30 for a 0.3 FTE post
    would add 30 caseworkers. Two signs, each about 100 times: the value against the median of
    its own team and role's series (about a year either side), and FTE in post against FTE
    funded on the same row.
    """
    low, high = PERCENT_RATIO
    reasons: dict[int, str] = {}
    order = frame["month"].map(start_of).astype("datetime64[us]").sort_values().index
    ordered = frame.loc[order]
    for _, rows in ordered.groupby(["area", "team", "role"], dropna=False, sort=False):
        for col in ("fte_in_post", "fte_funded"):
            median = rows[col].rolling(25, center=True, min_periods=1).median()
            ratio = rows[col] / median
            for i in rows.index[((ratio >= low) & (ratio <= high) & (rows[col] >= 1)).to_numpy()]:
                reasons.setdefault(
                    i,
                    f"{col}: {frame.at[i, col]:g} looks like a percentage: this team and role's "
                    f"typical month is {median[i]:.3g} FTE (the median of its series); write "
                    "FTE as a fraction (0.8 for 80%)",
                )
    ratio = frame["fte_in_post"] / frame["fte_funded"]
    for i in frame.index[
        ((ratio >= low) & (ratio <= high)) | ((ratio <= 1 / low) & (ratio >= 1 / high))
    ]:
        reasons.setdefault(
            i,
            f"fte_in_post {frame.at[i, 'fte_in_post']:g} and fte_funded "
            f"{frame.at[i, 'fte_funded']:g} differ about a hundredfold: one looks like a "
            "percentage; write FTE as a fraction (0.8 for 80%)",
        )
    return pd.Series(reasons, dtype=object)


def excluded_groups(ledger: pd.DataFrame, raw_groups: dict[int, tuple]) -> set:
    """(area, month) of staffing rows excluded on reading, other than as exact duplicates."""
    rows = ledger[(ledger["table"] == "staffing") & (ledger["status"] == "excluded")]
    return {
        raw_groups[r]
        for r, reason in zip(rows["row"], rows["reason"], strict=True)
        if r in raw_groups and not reason.startswith("duplicate of row")
    }


def staffing_groups(path: Path, config: Config) -> dict[int, tuple]:
    """Row number to (area, month) for every staffing row whose month can be read."""
    raw = tidy_header(read_raw(path), path)
    area = (
        tidy_column(raw["area"]).fillna(config.default_area)
        if "area" in raw
        else config.default_area
    )
    months = parse_dates(raw["month"], READ_MONTH_FORMATS).dt.to_period(MONTH_FREQ)
    frame = pd.DataFrame({"area": area, "month": months})
    return {
        i + 2: (a, m)
        for i, (a, m) in enumerate(zip(frame["area"], frame["month"], strict=True))
        if not pd.isna(m)
    }
