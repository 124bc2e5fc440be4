"""Checks of the staffing table across rows: subtotal rows, a team above the plausible FTE, FTE
written as percentages or out of line with its own months, and a month that lost a row.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.ingest.checks.series import typical
from daanalysis.ingest.clean import tidy_column
from daanalysis.ingest.header import tidy_header
from daanalysis.ingest.ledger import SUBTOTAL, exclude_rows
from daanalysis.ingest.parse import READ_MONTH_FORMATS, parse_dates, starts_of
from daanalysis.ingest.read import read_raw
from daanalysis.ingest.schema import STAFFING
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
        [(a, m) in excluded_groups for a, m in zip(frame["area"], frame["month"], strict=True)]
        if excluded_groups
        else False,
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
    positive = rest["fte_in_post"] > 0
    with_fte = positive.groupby([rest["area"], rest["month"]], dropna=False).transform("sum") - (
        positive
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
    ordered, group = _series_in_time_order(frame)
    # Each row's series, and the rows of each series one after another in time order.
    order = np.argsort(group, kind="stable")
    group = group[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    size = np.diff(np.r_[starts, len(group)])
    first = np.repeat(starts, size)
    stop = first + np.repeat(size, size)
    index = ordered.index[order]
    months = ordered["month"].to_numpy()[order]
    reason = np.full(len(order), None, dtype=object)
    done = np.zeros(len(order), dtype=bool)  # a row's first reason stands
    offsets = np.r_[np.arange(-NEIGHBOUR_MONTHS, 0), np.arange(1, NEIGHBOUR_MONTHS + 1)]
    for col in ("fte_in_post", "fte_funded"):
        values = ordered[col].to_numpy(dtype="float64")[order]
        at = np.arange(len(values))[:, None] + offsets  # up to 6 months either side
        inside = (at >= first[:, None]) & (at < stop[:, None])
        around = np.where(inside, values[np.clip(at, 0, max(len(values) - 1, 0))], np.nan)
        # The neighbours that are given, first in each row (NaN sorts last).
        around = np.sort(around, axis=1)
        given = (~np.isnan(around)).sum(axis=1)
        candidate = (np.repeat(size, size) >= 5) & ~np.isnan(values) & (given >= 4)
        median, q1, q3 = (np.full(len(values), np.nan) for _ in range(3))
        for width in np.unique(given[candidate]):
            rows = np.flatnonzero(candidate & (given == width))
            window = around[rows, :width]
            median[rows] = np.median(window, axis=1)
            q1[rows], q3[rows] = np.percentile(window, [25, 75], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = values / median
            steady = (median > 0) & (q1 > 0) & (q3 / q1 <= STEADY_RATIO)
        off = (np.abs(values - median) >= NEIGHBOUR_MIN_FTE) & (
            (ratio < 1 / NEIGHBOUR_RATIO) | (ratio > NEIGHBOUR_RATIO)
        )
        for k in np.flatnonzero(candidate & steady & off & ~done):
            done[k] = True
            value, middle = values[k], float(median[k])
            reason[k] = (
                f"{col}: {value:g} in {months[k]} is {value / middle:.2g} times the median of "
                f"this team and role's months around it ({middle:g} FTE), which are steady; "
                "probably a keying slip (a digit added or lost), so the month shows no "
                "figure. Check the figure in the source"
            )
    flagged = np.flatnonzero(done)
    reasons = dict(zip(index[flagged], reason[flagged], strict=True))
    return pd.Series(reasons, dtype=object)


def _series_in_time_order(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The staffing rows in time order, and for each the number of its team and role's series
    (area, team, role; a blank is a key of its own), numbered in order of first appearance."""
    ordered = frame.loc[starts_of(frame["month"]).sort_values().index]
    keys = ["area", "team", "role"]
    group = ordered.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()
    return ordered, group


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
    ordered, group = _series_in_time_order(frame)
    reason = pd.Series(None, index=ordered.index, dtype=object)
    for col in ("fte_in_post", "fte_funded"):
        values = ordered[col]
        median = typical(values, group)
        ratio = values / median
        hit = ((ratio >= low) & (ratio <= high) & (values >= 1) & reason.isna()).to_numpy()
        reason[hit] = [
            f"{col}: {frame.at[i, col]:g} looks like a percentage: this team and role's "
            f"typical month is {median[i]:.3g} FTE (the median of its series); write "
            "FTE as a fraction (0.8 for 80%)"
            for i in reason.index[hit]
        ]
    reasons: dict[int, str] = reason.dropna().to_dict()
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


def excluded_groups(ledger: pd.DataFrame, path: Path | None, config: Config) -> set:
    """(area, month) of staffing rows excluded on reading, other than as repeats of a key (an
    exact duplicate, or a later row with another row's key, the first of which is used); the
    file (``path``) is read again for their area and month only when there are such rows."""
    rows = ledger[(ledger["table"] == "staffing") & (ledger["status"] == "excluded")]
    repeat = rows["reason"].str.match(r"duplicate of row |same .+ as row \d+ but a different ")
    rows = rows[~repeat.to_numpy(dtype=bool)]
    if path is None or not len(rows):
        return set()
    raw_groups = staffing_groups(path, config)
    return {raw_groups[r] for r in rows["row"] if r in raw_groups}


def staffing_groups(path: Path, config: Config) -> dict[int, tuple]:
    """Row number to (area, month) for every staffing row whose month can be read."""
    raw = tidy_header(read_raw(path, STAFFING.required, True), path)
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
