"""Checks along each series of counts: quarter subtotals of month rows, counts out of all
proportion to their series or the population, level shifts, and quarters copied from a year
before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.ingest.clean import on_uniques
from daanalysis.ingest.extract import CONTRACT_DOC, DataContractError, add_note
from daanalysis.ingest.ledger import LOW_COUNT, SUBTOTAL, exclude_rows, note_rows
from daanalysis.ingest.parse import PERIOD_TOTALS, period_text, starts_of
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


TYPICAL_WINDOW = 25  # periods: a value is judged against the median of about two years around it


def typical(values: pd.Series, group: pd.Series | np.ndarray) -> pd.Series:
    """Each value's typical period: the centred rolling median of ``TYPICAL_WINDOW`` periods
    within its group's series (``values`` in time order within each group), every group at once;
    indexed as ``values``."""
    return (
        values.groupby(group, sort=False)
        .rolling(TYPICAL_WINDOW, center=True, min_periods=1)
        .median()
        .droplevel(0)
        .reindex(values.index)
    )


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


def months_per_row(periods: pd.Series) -> pd.Series:
    """3 for a quarter's row, 1 for a month's, once per distinct period."""
    return pd.Series(
        on_uniques(
            periods,
            lambda u: u.map(lambda p: 3 if p.freqstr.startswith("Q") else 1, na_action="ignore"),
        ).astype("int64"),
        index=periods.index,
    )


def series_tables(
    tables: dict[str, pd.DataFrame],
) -> Iterator[tuple[str, TableSpec, pd.DataFrame, str, pd.Series, pd.DataFrame]]:
    """Each table with count series (``TableSpec.series``) and rows, for the checks along a
    series: its name, spec, frame, time column, months per row (3 for a quarter, so counts
    compare a month) and its rows in time order. Sorted by start date: a MARAC
    table may mix months and quarters, whose periods do not compare."""
    for name, spec in TABLES.items():
        frame = tables[name]
        if not spec.series or not len(frame):
            continue
        time_col = "month" if "month" in frame else "period"
        per_month = months_per_row(frame[time_col])
        order = starts_of(frame[time_col]).sort_values().index
        yield name, spec, frame, time_col, per_month, frame.loc[order]


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
    for name, spec, frame, time_col, per_month, ordered in series_tables(tables):
        # Every area at once, in time order: rolling medians within each area's series.
        rows = ordered[ordered["area"].notna()]
        area = rows["area"]
        limit = area.map(adults).astype("float64") if len(adults) else np.nan
        reason = pd.Series(None, index=rows.index, dtype=object)  # the first reason of a row
        for col in spec.series:
            values = rows[col] / per_month[rows.index]
            median = typical(values, area)
            high = (values > config.max_count_jump * median) & (median > 0)
            low = implausibly_low(rows[col], median * per_month[rows.index]) & ~high
            above = rows[col] > limit
            for flagged, text in (
                (high, _too_high(frame, col, median, config)),
                (low, _too_low(frame, col, median, time_col)),
                (above, _above_adults(frame, col, adults, area)),
            ):
                new = reason.index[(flagged & reason.isna()).to_numpy(dtype=bool)]
                reason[new] = [text(i) for i in new]
        reasons = reason.dropna().to_dict()
        ledger = exclude_rows(tables, ledger, name, pd.Series(reasons, dtype=object))
    return ledger


def _too_high(frame: pd.DataFrame, col: str, median: pd.Series, config: Config):
    return lambda i: (
        f"{col}: {frame.at[i, col]:,.0f} is more than "
        f"{config.max_count_jump:g} times the typical month of this series "
        f"(median {median[i]:,.0f}; config max_count_jump); check the figure "
        "and its units"
    )


def _too_low(frame: pd.DataFrame, col: str, median: pd.Series, time_col: str):
    return lambda i: (
        f"{col}: {frame.at[i, col]:,.0f} in {period_text(frame.at[i, time_col])}"
        f" is far below the typical month of this series (median "
        f"{median[i]:,.0f}), so {LOW_COUNT}; the period is left out as a gap. "
        "If it was not collected, leave the cell blank (or write "
        "'not collected')"
    )


def _above_adults(frame: pd.DataFrame, col: str, adults: pd.Series, area: pd.Series):
    return lambda i: (
        f"{col}: {frame.at[i, col]:,.0f} is more than the area's "
        f"{adults[area[i]]:,.0f} adults (population.csv); check the figure"
    )


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
            for area, a_year, when, what in _a_year(frame, spec, col):
                if area not in adults.index:
                    continue
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


def _a_year(
    frame: pd.DataFrame, spec: TableSpec, col: str
) -> Iterator[tuple[str, float, str, str]]:
    """Each area's count of ``col`` a year for :func:`check_per_adult` (``rows``: referrals),
    with when and what it counts, in the order the areas first appear in ``frame``; every area
    worked out at once."""
    area = frame["area"]
    if col == "rows" or not spec.series:
        if col == "rows":
            # The most referrals in a calendar year.
            counted, years = pd.Series(1, index=frame.index), frame["referral_date"]
            what = "referrals"
        else:
            # Counts of events (properties secured): the most in a calendar year, a blank count
            # being one (one row per property).
            time_col = "month" if "month" in frame else "period"
            counted, years, what = frame[col].fillna(1), starts_of(frame[time_col]), col
        yearly = counted.groupby([area, years.dt.year]).sum()
        most = yearly.groupby(level=0).max()
        # The first (earliest) year with the most.
        year = yearly[yearly == most.reindex(yearly.index, level=0)].groupby(level=0).head(1)
        year = pd.Series(year.index.get_level_values(1), index=year.index.get_level_values(0))
        figures = {a: (float(most[a]), f"in {int(year[a])}", what) for a in most.index}
    else:
        time_col = "month" if "month" in frame else "period"
        median = (frame[col] / months_per_row(frame[time_col])).groupby(area).median().dropna()
        figures = {
            a: (12 * float(m), "a year (typical month x 12)", col) for a, m in median.items()
        }
    for name in area.dropna().unique():
        if name in figures:
            yield (name, *figures[name])


def check_level_shifts(
    tables: dict[str, pd.DataFrame],
    ledger: pd.DataFrame,
    notes: list[str],
    area_notes: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Note a series whose typical month changes more than :data:`LEVEL_SHIFT_RATIO` times from
    one month on and stays there (the median of up to 12 months after against up to 12 before,
    at least :data:`LEVEL_SHIFT_MONTHS` each side): a change of counting, units or source. The
    rows are used as given (a real change cannot be told from a recording one); the first row of
    the new level carries the note in the ledger, and the data-quality notes say it.
    """
    for name, spec, frame, time_col, per_month, ordered in series_tables(tables):
        noted: dict[int, str] = {}
        ordered = ordered[ordered["area"].notna()]
        codes, areas = pd.factorize(ordered["area"])  # in the order areas first appear
        found = {
            col: _shift_candidates_by_area(ordered, col, per_month, codes) for col in spec.series
        }
        # Only the areas with a candidate month are looked into, one by one.
        for code in sorted({c for ks in found.values() for c in ks}):
            area, rows = areas[code], ordered[codes == code]
            for col in spec.series:
                values = (rows[col] / per_month[rows.index]).dropna()
                best = None
                for k in found[col].get(code, []):
                    before = values.iloc[max(0, k - 12) : k]
                    after = values.iloc[k : k + 12]
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
                add_note(notes, area_notes, str(area), f"{name}.csv, {area}: {text}.")
        if noted:
            ledger = note_rows(tables, ledger, name, pd.Series(noted, dtype=object))
    return ledger


def window_medians(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The median of each ``values[start:stop]`` (NaN where empty), computed for all windows of
    one length at once: NumPy's median of each row, the same figure as the window's own median
    (the middle value, or the mean of the two middle values)."""
    out = np.full(len(starts), np.nan)
    lengths = stops - starts
    for width in np.unique(lengths[lengths > 0]):
        at = np.flatnonzero(lengths == width)
        out[at] = np.median(values[starts[at, None] + np.arange(width)], axis=1)
    return out


def _level_shift_candidates(
    values: np.ndarray, months: np.ndarray, first: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """Positions ``k`` in series laid one after another (the series of position ``k`` runs from
    ``first[k]`` to before ``stop[k]``; ``months``: months per row cumulated within it) where
    the median of up to 12 values from ``k`` on and that of up to 12 before it, within the
    series, differ more than :data:`LEVEL_SHIFT_RATIO` times, the higher at least
    :data:`LEVEL_SHIFT_MIN`, with at least :data:`LEVEL_SHIFT_MONTHS` months each side (see
    :func:`check_level_shifts`); every series at once."""
    k = np.arange(len(values))
    k = k[k > first[k]]
    if not len(k):
        return k
    before, after = months[k - 1], months[stop[k] - 1] - months[k - 1]
    k = k[(before >= LEVEL_SHIFT_MONTHS) & (after >= LEVEL_SHIFT_MONTHS)]
    if not len(k):
        return k
    before = window_medians(values, np.maximum(first[k], k - 12), k)
    after = window_medians(values, k, np.minimum(stop[k], k + 12))
    low, high = np.minimum(before, after), np.maximum(before, after)
    return k[~((high < LEVEL_SHIFT_MIN) | (high <= LEVEL_SHIFT_RATIO * low))]


def _shift_candidates_by_area(
    rows: pd.DataFrame, col: str, per_month: pd.Series, area: np.ndarray
) -> dict[int, np.ndarray]:
    """:func:`_level_shift_candidates` of ``col`` in each area's series (``rows`` in time order,
    ``area`` their area codes), as positions within the area's given values, by area code."""
    values = (rows[col] / per_month[rows.index]).to_numpy(dtype="float64")
    given = np.flatnonzero(~np.isnan(values))
    given = given[np.argsort(area[given], kind="stable")]  # by area, in time order within
    code = area[given]
    if not len(code):
        return {}
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    sizes = np.diff(np.r_[starts, len(code)])
    first = np.repeat(starts, sizes)
    months = pd.Series(per_month[rows.index].to_numpy()[given]).groupby(code).cumsum()
    found = _level_shift_candidates(
        values[given], months.to_numpy(), first, first + np.repeat(sizes, sizes)
    )
    return {
        int(c): found[code[found] == c] - first[found[code[found] == c]]
        for c in np.unique(code[found])
    }


COPY_NOTE = "probable copy"
COPY_MIN_TOTAL = 30  # a quarter's counts must add up to this for equal figures to mean a copy


def check_copies(
    tables: dict[str, pd.DataFrame],
    ledger: pd.DataFrame,
    notes: list[str],
    area_notes: dict[str, list[str]] | None = None,
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
        noted: dict[int, str] = {}
        copies: dict[str, list[str]] = {}  # by area, in the order areas first show a copy
        for index, q in _copied_blocks(frame, time_col, counts):
            label = quarter_label(q, with_months=False)
            previous = quarter_label(q - 4, with_months=False)
            area = str(frame.at[index[0], "area"])
            copies.setdefault(area, []).append(f"{area} {label} (= {previous})")
            for i in index:
                noted[i] = (
                    f"{COPY_NOTE}: {label} is identical in every count to {previous}; "
                    "check the source (a row pasted forward?)"
                )
        if noted:
            ledger = note_rows(tables, ledger, name, pd.Series(noted, dtype=object))
            for area, found in copies.items():  # one note an area: each page shows its own
                add_note(
                    notes,
                    area_notes,
                    area,
                    f"{name}.csv: {len(found)} quarter(s) identical in every count to the same "
                    f"quarter a year before, probably copied: {', '.join(found[:6])}"
                    f"{', ...' if len(found) > 6 else ''}. They are used as given; check them "
                    "against the source.",
                )
    return ledger


def _quarter_and_position(periods: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's financial quarter (its ordinal) and its month's position in that quarter
    (0 to 2; -1 for a quarter row), worked out once per distinct period."""
    quarter = on_uniques(
        periods,
        lambda u: u.map(lambda p: p.asfreq(QUARTER_FREQ).ordinal, na_action="ignore"),
    )
    position = on_uniques(
        periods,
        lambda u: u.map(
            lambda p: (
                p.month - p.asfreq(QUARTER_FREQ).start_time.month
                if p.freqstr.startswith("M")
                else -1
            ),
            na_action="ignore",
        ),
    )
    return quarter.astype("int64"), position.astype("int64")


def _copied_blocks(
    frame: pd.DataFrame, time_col: str, counts: list[str]
) -> list[tuple[pd.Index, pd.Period]]:
    """The quarters of each area identical in every count to the same quarter a year before
    (see :func:`check_copies`), as (rows of the quarter in month order, quarter), in the order
    the areas and then their quarters first appear in ``frame``.

    A quarter is compared when its rows are its three months, one each, or one quarter row; only
    with a year-earlier quarter given the same way. Every area and quarter at once: rows sorted
    by area, quarter and month, and the blocks compared as rows of one array.
    """
    area, _ = pd.factorize(frame["area"])  # in order of first appearance; -1: no area
    quarter, position = _quarter_and_position(frame[time_col])
    present = np.flatnonzero(area >= 0)
    # Rows by area, quarter and position in it; the first row of each (area, quarter) run.
    order = present[np.lexsort((position[present], quarter[present], area[present]))]
    a, q, at = area[order], quarter[order], position[order]
    starts = np.flatnonzero(np.r_[True, (a[1:] != a[:-1]) | (q[1:] != q[:-1])])
    sizes = np.diff(np.r_[starts, len(order)])
    first = np.minimum.reduceat(order, starts) if len(order) else order  # first row, frame order
    values = frame[counts].to_numpy(dtype="float64")
    found = []
    for rows_per_block, positions in ((3, (0, 1, 2)), (1, (-1,))):
        blocks = starts[sizes == rows_per_block]
        good = np.ones(len(blocks), dtype=bool)
        for k, p in enumerate(positions):
            good &= at[blocks + k] == p
        blocks = blocks[good]
        if not len(blocks):
            continue
        # Each block's figures in one row: its months' counts one after another.
        rows = order[blocks[:, None] + np.arange(rows_per_block)]  # (blocks, rows) of frame
        figures = values[rows].reshape(len(blocks), -1)
        key = pd.MultiIndex.from_arrays([a[blocks], q[blocks]])
        earlier = key.get_indexer(pd.MultiIndex.from_arrays([a[blocks], q[blocks] - 4]))
        has = np.flatnonzero(earlier >= 0)
        mine, theirs = figures[has], figures[earlier[has]]
        same = ((mine == theirs) | (np.isnan(mine) & np.isnan(theirs))).all(axis=1)
        # Tiny counts repeat by chance (a MARAC of 1, 0, 2 two years running).
        big = np.nansum(mine, axis=1) >= COPY_MIN_TOTAL
        for j in has[same & big]:
            found.append(
                (
                    (a[blocks[j]], first[np.searchsorted(starts, blocks[j])]),
                    frame.index[rows[j]],
                    pd.Period(ordinal=int(q[blocks[j]]), freq=QUARTER_FREQ),
                )
            )
    found.sort(key=lambda item: item[0])
    return [(rows, quarter) for _, rows, quarter in found]
