"""Checks along each series of counts: quarter subtotals of month rows, counts out of all
proportion to their series or the population, level shifts, and quarters copied from a year
before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.typing import DataFrameGroupBy

from daanalysis.config import Config
from daanalysis.ingest.extract import CONTRACT_DOC, DataContractError
from daanalysis.ingest.ledger import LOW_COUNT, SUBTOTAL, exclude_rows, note_rows
from daanalysis.ingest.parse import PERIOD_TOTALS, period_text, start_of
from daanalysis.ingest.schema import TABLES, TableSpec
from daanalysis.periods import QUARTER_FREQ, quarter_label, quarter_months


def check_subtotals(tables: dict[str, pd.DataFrame], ledger: pd.DataFrame) -> pd.DataFrame:
    """Quarter rows that are subtotals of month rows are set aside (ledgered, not counted).

    Monthly returns spreadsheets often carry a quarter's total below its three months. A
    quarter row whose three months are all given (same area, and programme) and which equals
    their sum in every count (a month not collected adds nothing, as a spreadsheet's SUM skips
    it) is a subtotal. A quarter that differs from its months is left in place, and the panel
    refuses it naming both rows, since which is right cannot be told.
    """
    for name in PERIOD_TOTALS:
        frame = tables[name]
        if not len(frame):
            continue
        spec = TABLES[name]
        keys = [k for k in spec.key if k != "period"]
        is_quarter = frame["period"].map(lambda p: p.freqstr.startswith("Q")).astype(bool)
        if not is_quarter.any() or is_quarter.all():
            continue
        counts = [c for c in spec.numbers if frame[c].notna().any()]
        # A blank programme is one key, not a NaN that matches nothing.
        keyed = frame[keys].astype(object).where(frame[keys].notna(), "")
        months = frame.loc[~is_quarter]
        by_key = {
            (*k, p): i
            for i, k, p in zip(
                months.index,
                keyed.loc[months.index].itertuples(index=False),
                months["period"],
                strict=True,
            )
        }
        reasons = {}
        for i in frame.index[is_quarter]:
            key = tuple(keyed.loc[i])
            inside = quarter_months(frame.at[i, "period"])
            rows = [by_key.get((*key, m)) for m in inside]
            if any(r is None for r in rows):
                continue
            sums = frame.loc[rows, counts].sum(min_count=1)
            value = frame.loc[i, counts]
            if all(
                pd.isna(value[c]) or (pd.notna(sums[c]) and abs(value[c] - sums[c]) < 0.5)
                for c in counts
            ):
                reasons[i] = (
                    f"{SUBTOTAL}: {quarter_label(frame.at[i, 'period'], with_months=False)} is "
                    f"the total of its months ({inside[0]} to {inside[-1]}), which are given on "
                    "their own rows; not counted twice"
                )
        ledger = exclude_rows(tables, ledger, name, pd.Series(reasons, dtype=object))
    return ledger


def implausibly_low(values: pd.Series, expected: pd.Series) -> pd.Series:
    """Counts so far below what their series leads one to expect that they were probably not
    collected, or only in part: 0, or under a fifth of ``expected`` (the median of the
    series about a year either side, for the same length of period), and so far under it that
    chance would give such a count less than once in 10,000 periods (Poisson).

    The chance test keeps small series out: a MARAC month of 0 against a median of 2 is no
    sign of anything; a 0 against 140 referrals a month is.
    """
    from scipy.stats import poisson

    low = (values < expected / 5) & (expected > 0) & values.notna()
    chance = pd.Series(1.0, index=values.index)
    chance[low] = poisson.cdf(values[low], expected[low])
    return low & (chance < 1e-4)


def series_tables(
    tables: dict[str, pd.DataFrame],
) -> Iterator[tuple[str, TableSpec, pd.DataFrame, str, pd.Series, DataFrameGroupBy]]:
    """Each table with count series (``TableSpec.series``) and rows, for the checks along a
    series: its name, spec, frame, time column, months per row (3 for a quarter, so counts
    compare a month) and its rows grouped by area in time order. Sorted by start date: a MARAC
    table may mix months and quarters, whose periods do not compare."""
    for name, spec in TABLES.items():
        frame = tables[name]
        if not spec.series or not len(frame):
            continue
        time_col = "month" if "month" in frame else "period"
        per_month = frame[time_col].map(lambda p: 3 if p.freqstr.startswith("Q") else 1)
        order = frame[time_col].map(start_of).astype("datetime64[us]").sort_values().index
        yield name, spec, frame, time_col, per_month, frame.loc[order].groupby("area", sort=False)


def check_series(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, config: Config
) -> pd.DataFrame:
    """Counts out of all proportion to their own series, or above the population, are excluded;
    so are counts implausibly low against it (probably not collected, or partial).

    Each count is compared with the median of its area's series over about a year either side
    (a quarterly figure counts as three months). More than ``max_count_jump`` times that median,
    or more than the area's adults, is a keying or unit error: 1e12 police crimes would
    otherwise become a trend of millions of per cent. A 0 or a count under a fifth of the median
    (see :func:`implausibly_low`) is read as not collected: a gap, never a zero that would
    publish "100% fewer than a year earlier".
    """
    population = tables["population"]
    adults = (
        (population["females_16plus"] + population["males_16plus"])
        .groupby(population["area"])
        .max()
        if len(population)
        else pd.Series(dtype="float64")
    )
    for name, spec, frame, time_col, per_month, by_area in series_tables(tables):
        reasons: dict[int, str] = {}
        for area, rows in by_area:
            for col in spec.series:
                values = rows[col] / per_month[rows.index]
                median = values.rolling(25, center=True, min_periods=1).median()
                high = (values > config.max_count_jump * median) & (median > 0)
                for i in rows.index[high]:
                    reasons.setdefault(
                        i,
                        f"{col}: {frame.at[i, col]:,.0f} is more than "
                        f"{config.max_count_jump:g} times the typical month of this series "
                        f"(median {median[i]:,.0f}; config max_count_jump); check the figure "
                        "and its units",
                    )
                low = implausibly_low(rows[col], median * per_month[rows.index])
                for i in rows.index[low & ~high]:
                    reasons.setdefault(
                        i,
                        f"{col}: {frame.at[i, col]:,.0f} in {period_text(frame.at[i, time_col])}"
                        f" is far below the typical month of this series (median "
                        f"{median[i]:,.0f}), so {LOW_COUNT}; the period is left out as a gap. "
                        "If it was not collected, leave the cell blank (or write "
                        "'not collected')",
                    )
                if area in adults.index:
                    above = rows[col] > adults[area]
                    for i in rows.index[above]:
                        reasons.setdefault(
                            i,
                            f"{col}: {frame.at[i, col]:,.0f} is more than the area's "
                            f"{adults[area]:,.0f} adults (population.csv); check the figure",
                        )
        ledger = exclude_rows(tables, ledger, name, pd.Series(reasons, dtype=object))
    return ledger


LEVEL_SHIFT = "level shift"
LEVEL_SHIFT_RATIO = 3.0  # the typical month after a month against before it, either way
LEVEL_SHIFT_MONTHS = 6  # at least this many months on each side (up to 12 compared)
LEVEL_SHIFT_MIN = 10.0  # the higher level at least this many a month (small series are noisy)


def check_per_adult(tables: dict[str, pd.DataFrame], paths: dict[str, Path], basis: str) -> None:
    """Stop when a table's counts a year are more than its ``per_adult_ceiling`` share of the
    area's adults (population.csv): a whole file multiplied (police counts x5, referrals
    in the millions for a small area) passes every check against its own series.

    A year is the typical month (median, a quarter counting as three months) times 12 for a
    count column; for record-level referrals (``rows``), the most referrals in any calendar
    year. The adults are the area's largest estimate, so the check only ever errs towards
    letting a figure through.
    """
    population = tables["population"]
    if not len(population):
        return
    adults = (
        (population["females_16plus"] + population["males_16plus"])
        .groupby(population["area"])
        .max()
    )
    for name, spec in TABLES.items():
        frame = tables[name]
        if not spec.per_adult_ceiling or not len(frame) or name not in paths:
            continue
        if name == "returns" and basis == "records":
            continue
        for col, ceiling in spec.per_adult_ceiling.items():
            for area, rows in frame.groupby("area", sort=False):
                if area not in adults.index:
                    continue
                if col == "rows":
                    yearly = rows.groupby(rows["referral_date"].dt.year).size()
                    year = int(yearly.idxmax())
                    a_year, when = float(yearly.max()), f"in {year}"
                    what = "referrals"
                elif not spec.series:
                    # Counts of events (properties secured): the most in a calendar year, a
                    # blank count being one (one row per property).
                    time_col = "month" if "month" in rows else "period"
                    years = rows[time_col].map(start_of).map(lambda t: t.year)
                    yearly = rows[col].fillna(1).groupby(years).sum()
                    year = int(yearly.idxmax())
                    a_year, when, what = float(yearly.max()), f"in {year}", col
                else:
                    time_col = "month" if "month" in rows else "period"
                    per_month = rows[time_col].map(lambda p: 3 if p.freqstr.startswith("Q") else 1)
                    monthly = (rows[col] / per_month).dropna()
                    if monthly.empty:
                        continue
                    a_year, when = 12 * float(monthly.median()), "a year (typical month x 12)"
                    what = col
                if a_year <= ceiling * adults[area]:
                    continue
                raise DataContractError(
                    f"{paths[name]}: {a_year:,.0f} {what} {when} for {area} is "
                    f"{a_year / adults[area]:.0%} of its {adults[area]:,.0f} adults "
                    f"(population.csv), above the plausible {ceiling:.0%} (see "
                    f"{CONTRACT_DOC}, {name}). Check the file's units or scale "
                    "(figures multiplied, or another area's data under this name) and the "
                    "area's population, then run again."
                )


def check_level_shifts(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """Note a series whose typical month changes more than :data:`LEVEL_SHIFT_RATIO` times from
    one month on and stays there (the median of up to 12 months after against up to 12 before,
    at least :data:`LEVEL_SHIFT_MONTHS` each side): a change of counting, units or source. The
    rows are used as given (a real change cannot be told from a recording one); the first row of
    the new level carries the note in the ledger, and the data-quality notes say it.
    """
    for name, spec, frame, time_col, per_month, by_area in series_tables(tables):
        noted: dict[int, str] = {}
        for area, rows in by_area:
            for col in spec.series:
                values = (rows[col] / per_month[rows.index]).dropna()
                months = per_month[values.index].cumsum().to_numpy()
                best = None
                for k in range(1, len(values)):
                    before = values.iloc[max(0, k - 12) : k]
                    after = values.iloc[k : k + 12]
                    if (
                        months[k - 1] < LEVEL_SHIFT_MONTHS
                        or months[-1] - months[k - 1] < LEVEL_SHIFT_MONTHS
                    ):
                        continue
                    low, high = sorted((before.median(), after.median()))
                    if high < LEVEL_SHIFT_MIN or high <= LEVEL_SHIFT_RATIO * low:
                        continue
                    # The step's month: where the mean log level either side differs most (a
                    # month of the new level on the old side pulls it back at once, which the
                    # medians hardly show).
                    ratio = abs(np.log1p(after).mean() - np.log1p(before).mean())
                    if best is None or ratio > best[0]:
                        best = (ratio, k, before.median(), after.median())
                if best is None:
                    continue
                _, k, before, after = best
                i = values.index[k]
                when = period_text(frame.at[i, time_col])
                text = (
                    f"{LEVEL_SHIFT}: {col} moves from a typical {before:,.0f} a month to "
                    f"{after:,.0f} from {when} on and stays there; a change of counting, units "
                    "or source? Used as given: check it against the source"
                )
                noted[i] = f"{noted[i]}; {text}" if i in noted else text
                notes.append(f"{name}.csv, {area}: {text}.")
        if noted:
            ledger = note_rows(tables, ledger, name, pd.Series(noted, dtype=object))
    return ledger


COPY_NOTE = "probable copy"
COPY_MIN_TOTAL = 30  # a quarter's counts must add up to this for equal figures to mean a copy


def check_copies(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """A quarter identical in every count to the same quarter a year before is noted as a
    probable copy (a row or a block of rows pasted forward), in the ledger and the notes.

    The rows stay in use: equal figures can be real, and which year is the copy cannot be
    told; the note asks for the source to be checked. Monthly rows compare as the quarter's
    three months; only counts the file holds, and only quarters whose counts add up to at least
    :data:`COPY_MIN_TOTAL` (small counts repeat by chance).
    """
    for name in ("returns", "police", "marac"):
        frame = tables[name]
        if not len(frame):
            continue
        spec = TABLES[name]
        time_col = "month" if "month" in spec.columns else "period"
        counts = [c for c in spec.numbers if frame[c].notna().any()]
        if not counts:
            continue
        quarter = frame[time_col].map(lambda p: p.asfreq(QUARTER_FREQ))
        position = frame[time_col].map(
            lambda p: (
                p.month - p.asfreq(QUARTER_FREQ).start_time.month
                if p.freqstr.startswith("M")
                else -1
            )
        )
        noted: dict[int, str] = {}
        copies = []
        for area, rows in frame.groupby("area", sort=False):
            blocks = {}
            for q, block in rows.groupby(quarter[rows.index], sort=False):
                # The quarter's figures in a fixed order: by month within it (or the one row).
                block = block.assign(_at=position[block.index]).sort_values("_at")
                if block["_at"].tolist() not in ([0, 1, 2], [-1]):
                    continue
                blocks[q] = (block.index, block[["_at", *counts]].to_numpy(dtype="float64"))
            for q, (index, values) in blocks.items():
                before = blocks.get(q - 4)
                if before is None or before[1].shape != values.shape:
                    continue
                figures = values[:, 1:]
                # Tiny counts repeat by chance (a MARAC of 1, 0, 2 two years running).
                if not np.nansum(figures) >= COPY_MIN_TOTAL:
                    continue
                same = np.array_equal(figures, before[1][:, 1:], equal_nan=True)
                if not same:
                    continue
                label = quarter_label(q, with_months=False)
                previous = quarter_label(q - 4, with_months=False)
                copies.append(f"{area} {label} (= {previous})")
                for i in index:
                    noted[i] = (
                        f"{COPY_NOTE}: {label} is identical in every count to {previous}; "
                        "check the source (a row pasted forward?)"
                    )
        if noted:
            ledger = note_rows(tables, ledger, name, pd.Series(noted, dtype=object))
            notes.append(
                f"{name}.csv: {len(copies)} quarter(s) identical in every count to the same "
                f"quarter a year before, probably copied: {', '.join(copies[:6])}"
                f"{', ...' if len(copies) > 6 else ''}. They are used as given; check them "
                "against the source."
            )
    return ledger
