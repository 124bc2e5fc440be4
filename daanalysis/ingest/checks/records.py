"""Checks of record-level referrals month by month: months with none at all (an error) and months
with implausibly few (a gap, noted).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.ingest.checks.series import implausibly_low, typical
from daanalysis.ingest.extract import DataContractError, add_note
from daanalysis.ingest.ledger import LOW_COUNT, note_rows
from daanalysis.periods import MONTH_FREQ


def _month_ranges(months: list[pd.Period]) -> str:
    """``2025-07 to 2025-09, 2026-01``: consecutive months as ranges."""
    runs: list[list[pd.Period]] = []
    for month in sorted(months):
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs)


def _counts_by_area(
    referrals: pd.DataFrame,
) -> tuple[np.ndarray, np.ndarray, pd.Index, list[tuple[np.ndarray, np.ndarray]]]:
    """Referrals a month for each area, counted once for all areas (not a pass over every
    referral per area): each row's month (``datetime64[M]``), each row's area code and the
    areas' names (in order of first appearance; -1: no area), and for each area its months with
    referrals (ascending) and their counts."""
    # Month numbers from NumPy, not Period objects: this runs over every referral.
    months = referrals["referral_date"].to_numpy().astype("datetime64[M]")
    areas, names = pd.factorize(referrals["area"])
    number = months.view("int64")
    counted = (areas >= 0) & ~np.isnat(months)
    lowest = number[counted].min() if counted.any() else 0
    width = (number[counted].max() - lowest + 1) if counted.any() else 1
    key = areas[counted].astype("int64") * width + (number[counted] - lowest)
    keys, counts = np.unique(key, return_counts=True)
    bounds = np.searchsorted(keys // width, np.arange(len(names) + 1))
    per_area = [
        (
            (keys[bounds[c] : bounds[c + 1]] % width + lowest).astype("datetime64[M]"),
            counts[bounds[c] : bounds[c + 1]],
        )
        for c in range(len(names))
    ]
    return months, areas, names, per_area


def check_empty_months(tables: dict[str, pd.DataFrame], config: Config, path: Path) -> None:
    """Stop when an area has no referrals at all in a month between its first and last, while
    its typical month has at least ``max_count_jump`` of them: the extract is missing months
    (an export cut into parts, a date filter), and a zero there would be a figure, not a gap.

    Months inside a ``temporary`` event in events.csv (for the area, or for every area) are
    allowed: a service closed for a lockdown is declared there.
    """
    _, _, names, per_area = _counts_by_area(tables["referrals"])
    events = tables["events"]
    temporary = events[(events["kind"] == "temporary") & events["end_date"].notna()]
    for area, (seen, counts) in zip(names, per_area, strict=True):
        if not len(seen):
            continue
        span = np.arange(seen[0], seen[-1] + 1)
        full = np.zeros(len(span), dtype="int64")
        full[np.searchsorted(span, seen)] = counts
        empty = {pd.Period(str(m), MONTH_FREQ) for m in span[full == 0]}
        typical = float(np.median(full))
        if not empty or typical < config.max_count_jump:
            continue
        for _, event in temporary.iterrows():
            if pd.isna(event["area"]) or event["area"] == area:
                empty -= set(
                    pd.period_range(
                        event["start_date"].to_period(MONTH_FREQ),
                        event["end_date"].to_period(MONTH_FREQ),
                        freq=MONTH_FREQ,
                    )
                )
        if empty:
            raise DataContractError(
                f"{path}, column referral_date: no referrals at all for {area} in "
                f"{_month_ranges(list(empty))}, though its typical month has {typical:.0f}: the "
                "extract is probably missing those months (an export in parts, or a date "
                "filter). Export them again. If the service really took no referrals then (it "
                "was closed), declare the closure in events.csv as a temporary event."
            )


def check_low_record_months(
    tables: dict[str, pd.DataFrame],
    ledger: pd.DataFrame,
    notes: list[str],
    path: Path,
    area_notes: dict[str, list[str]] | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Months with implausibly few referrals against the area's own series (see
    :func:`implausibly_low`): probably an export that lost part of the month.

    Their referrals stay in use (each is a real case, open until it closes), with a note in the
    ledger; the months are returned by area, for the panel to show their referral counts as
    gaps rather than as a fall. A month with none at all is :func:`check_empty_months`'
    error; the last month, when partial, is the panel's ``complete`` flag.
    """
    referrals = tables["referrals"]
    months, areas, names, per_area = _counts_by_area(referrals)
    gaps: dict[str, list[str]] = {}
    flagged = np.zeros(len(referrals), dtype=bool)
    texts = np.empty(len(referrals), dtype=object)
    # Each area's series of months (from its first to its last), one after another, with the
    # median of about a year either side within the area: every area at once.
    codes, spans, fulls = [], [], []
    for code, (seen, counts) in enumerate(per_area):
        if len(seen) < 3:
            continue
        span = np.arange(seen[0], seen[-1] + 1)
        full = np.zeros(len(span), dtype="int64")
        full[np.searchsorted(span, seen)] = counts
        codes.append(np.full(len(span), code))
        spans.append(span)
        fulls.append(full)
    if not codes:
        return ledger, gaps
    code_of = np.concatenate(codes)
    span, full = np.concatenate(spans), np.concatenate(fulls)
    series = pd.Series(full, dtype="float64")
    median = typical(series, code_of)
    low = implausibly_low(series, median).to_numpy(copy=True)
    low[np.r_[code_of[1:] != code_of[:-1], True]] = False  # a partial last month: the panel's
    for i in np.flatnonzero(low):
        code, area = code_of[i], names[code_of[i]]
        month = str(span[i])[:7]
        gaps.setdefault(area, []).append(month)
        at = (areas == code) & (months == span[i])
        flagged |= at
        texts[at] = (
            f"referral_date: month {month} has {full[i]:,} referrals against a typical "
            f"{median[i]:,.0f} (the median of its series), so {LOW_COUNT}; its referral "
            "counts are left out as a gap (each referral is still counted as a case). "
            "Export the month again"
        )
    if not gaps:
        return ledger, gaps
    rows = pd.Series(texts[flagged], index=referrals.index[flagged], dtype=object)
    ledger = note_rows(tables, ledger, "referrals", rows)
    for area, found in gaps.items():  # one note an area: each page shows its own
        add_note(
            notes,
            area_notes,
            area,
            f"{path.name}: months with far fewer referrals than the series around them, "
            f"probably exported in part ({area}: {', '.join(found)}): their referral counts are "
            "gaps, left out of models and comparisons.",
        )
    return ledger, gaps
