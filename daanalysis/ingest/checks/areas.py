"""Checks of the areas across tables: one area spelt two ways, rows for an area the extract does
not cover, main areas missing from population.csv, and population estimates that end early.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.ingest.clean import on_uniques, reprs
from daanalysis.ingest.extract import DataContractError
from daanalysis.ingest.ledger import OUTSIDE_AREAS, exclude_rows
from daanalysis.ingest.schema import TABLES
from daanalysis.periods import MONTH_FREQ


def fold_area(area: object) -> str:
    """An area name reduced to its letters and digits, case folded: two names with one fold
    are one area spelt two ways (``North East``, ``north-east``, ``NORTH EAST``)."""
    return re.sub(r"[\W_]+", "", str(area).casefold())


def _check_area_spellings(frame: pd.DataFrame, source: str, paths: dict[str, Path]) -> None:
    """Stop when the areas of the referrals (or returns) include one area spelt two ways: each
    spelling would get its own page with part of the area's figures."""
    counts = frame["area"].value_counts()
    groups: dict[str, list[str]] = {}
    for area in counts.index:
        groups.setdefault(fold_area(area), []).append(area)
    for names in groups.values():
        if len(names) < 2:
            continue
        rows = {
            n: frame.loc[frame["area"] == n, "source_row"].head(3).astype(int).tolist()
            for n in names
        }
        listed = "; ".join(
            f"{n!r}: {counts[n]} row(s), e.g. row(s) {', '.join(map(str, rows[n]))}" for n in names
        )
        raise DataContractError(
            f"{paths.get(source, source)}, column area: one area is spelt {len(names)} ways "
            f"({listed}), which would split its figures between {len(names)} pages. Correct the "
            "spelling so that every row of the area has the same name."
        )


# An ONS (GSS) area code, as police and ONS files often name areas: E06000001, W06000015.
ONS_CODE = re.compile(r"^[EWSNK]\d{8}$")


def _hint(area: str, folded: dict[str, str]) -> str:
    """What an area missing from the source probably is: another spelling of one there, or an
    ONS code where the source has names."""
    if fold_area(area) in folded:
        return f" (spelt {folded[fold_area(area)]!r} there)"
    if ONS_CODE.match(str(area)):
        return " (an ONS area code: name the area as the referrals or returns do)"
    return ""


def _some(names: list[str], shown: int = 10) -> str:
    """Up to ``shown`` names, then how many more (a region's list stays readable)."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def _check_population_areas(
    frame: pd.DataFrame, known: set[str], source: str, paths: dict[str, Path]
) -> None:
    """Stop when a main area of the referrals (or returns) is missing from population.csv:
    population.csv is then what needs correcting (usually the area spelt another way there),
    not the thousands of rows that would otherwise be excluded from the source.

    A main area has more than a twentieth of an average area's rows (of a one-area extract's,
    a twentieth of the source): in a region every council is one, however many there are; an
    area with a handful of rows that population.csv lacks is a misspelling in the source,
    excluded row by row.
    """
    counts = frame["area"].value_counts()
    folded = {fold_area(a): a for a in known}
    average = len(frame) / max(1, int((counts > 2).sum()))
    for area, n in counts.items():
        if area in known or n <= max(2, average / 20):
            continue
        spelt = folded.get(fold_area(area))
        hint = (
            f"; it is spelt {spelt!r} there" if spelt else f" (areas there: {_some(sorted(known))})"
        )
        raise DataContractError(
            f"{paths.get('population', 'population.csv')}, column area: no rows for {area!r}, "
            f"the area of {n:,} rows of {paths.get(source, source + '.csv')}{hint}. Correct the "
            f"area's name in population.csv to match {source} (or add the area's population), "
            "so that its rates and benchmarks can be worked out."
        )


def check_areas(
    tables: dict[str, pd.DataFrame],
    ledger: pd.DataFrame,
    basis: str,
    paths: dict[str, Path] | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Rows for an area the extract does not cover are excluded, not marked used and ignored.

    Every table with an area column is checked (staffing, police, MARAC, population, campaigns,
    events and any added later), so a new table cannot bring rows that count nowhere.

    The areas are those of the referrals (or returns). When population.csv is given, a referral
    row whose area is not in it is excluded too: usually a misspelling, which would otherwise
    become an area of its own with a handful of referrals.

    A file that covers the extract's areas and others too (a police force's figures for every
    council in it) has its other areas' rows excluded as out of scope (:data:`OUTSIDE_AREAS`),
    with a note in ``notes``: they do not count against ``max_excluded_share``. Rows for an area
    that is one of the extract's spelt another way, or a file with no row for any of the
    extract's areas, are faults and count.
    """
    source = "referrals" if basis == "records" else "returns"
    # Before rows missing from population.csv are excluded: a few rows of an area spelt another
    # way would otherwise be excluded row by row, under the file's limit, and the area's
    # figures be low with no error.
    _check_area_spellings(tables[source], source, paths or {})
    population = tables["population"]
    if len(population):
        known_pop = set(population["area"].dropna().unique().tolist())
        frame = tables[source]
        _check_population_areas(frame, known_pop, source, paths or {})
        odd = frame["area"].notna() & ~frame["area"].isin(known_pop)
        listed = _some(sorted(known_pop))
        reasons = pd.Series(
            "area "
            + reprs(frame.loc[odd, "area"])
            + f" is not in population.csv (areas there: {listed}); correct "
            "the spelling, or add the area's population",
            index=frame.index[odd],
            dtype=object,
        )
        ledger = exclude_rows(tables, ledger, source, reasons)
    known = set(tables[source]["area"].dropna().unique().tolist())
    folded = {fold_area(a): a for a in known}
    for name, spec in TABLES.items():
        frame = tables[name]
        if name in ("referrals", "returns") or "area" not in spec.columns or not len(frame):
            continue
        # Campaigns and events with a blank area apply to every area.
        odd = frame["area"].notna() & ~frame["area"].isin(known)
        hints = (
            on_uniques(frame.loc[odd, "area"], lambda u: u.map(lambda a: _hint(a, folded)))
            if odd.any()
            else np.array([], dtype=object)
        )
        fault = pd.Series(
            "area "
            + reprs(frame.loc[odd, "area"])
            + f" has no rows in {source}"
            + hints
            + ", so this row is not used; correct "
            f"the area name if it should match one in {source}",
            index=frame.index[odd],
            dtype=object,
        )
        # A wider file: rows for the extract's areas too, and this area not a respelling of one.
        wider = bool(frame["area"].isin(known).any())
        outside = pd.Series(wider & (np.asarray(hints) == ""), index=fault.index, dtype=bool)
        out_of_scope = (
            "area "
            + reprs(frame.loc[odd, "area"])
            + f" {OUTSIDE_AREAS} (the areas of {source}): the file covers a wider area, so "
            "this row is not used"
        )
        reasons = fault.where(~outside, pd.Series(out_of_scope, index=fault.index))
        ledger = exclude_rows(tables, ledger, name, reasons)
        if outside.any() and notes is not None:
            others = sorted(frame.loc[outside[outside].index, "area"].unique().tolist())
            path = (paths or {}).get(name)
            notes.append(
                f"{path.name if path else name + '.csv'}: {int(outside.sum()):,} row(s) for "
                f"areas outside this extract ({_some(others)}) were not used: the file covers a "
                f"wider area than {source}.csv."
            )
    return ledger


def check_listed_twice(tables: dict[str, pd.DataFrame], ledger: pd.DataFrame) -> pd.DataFrame:
    """A campaign or event listed for every area (blank area) and again for one area: the
    area's row is excluded, since the two rows would put two steps for one campaign in that
    area's model. List it either for every area or area by area."""
    for name in ("campaigns", "events"):
        frame = tables[name]
        if not len(frame) or "area" not in frame:
            continue
        everywhere = frame.loc[frame["area"].isna()]
        first = dict(zip(everywhere["name"], everywhere["source_row"], strict=True))
        twice = frame["area"].notna() & frame["name"].isin(list(first))
        if not twice.any():
            continue
        reasons = pd.Series(
            [
                f"name: {n!r} is also listed for every area (blank area, row {first[n]}); list "
                "it either for every area or once for each area it ran in"
                for n in frame.loc[twice, "name"]
            ],
            index=frame.index[twice],
            dtype=object,
        )
        ledger = exclude_rows(tables, ledger, name, reasons)
    return ledger


def population_notes(tables: dict[str, pd.DataFrame], basis: str) -> list[tuple[str, str]]:
    """A note for each area whose population estimates end before its data do, as (area, note):
    its rates for the later years use the last estimate (the panel carries it forward)."""
    population = tables["population"]
    if not len(population):
        return []
    if basis == "records":
        source = tables["referrals"]
        last = source["referral_date"].groupby(source["area"]).max().dt.to_period(MONTH_FREQ)
    else:
        source = tables["returns"]
        ends = source["period"].map(lambda p: p.asfreq(MONTH_FREQ, how="end"))
        last = ends.groupby(source["area"]).max()
    notes = []
    latest = population.groupby("area")["year"].max()
    for area, month in last.items():
        if area not in latest.index:
            continue
        year = month.year if month.month >= 4 else month.year - 1  # the financial year's start
        if year > latest[area]:
            notes.append(
                (
                    str(area),
                    f"population.csv has no estimate for {area} after {latest[area]:.0f}: rates "
                    f"per adult for {latest[area] + 1:.0f}/{(latest[area] + 2) % 100:02.0f} "
                    f"onwards use the {latest[area]:.0f} estimate. Add the latest mid-year "
                    "estimate when ONS publishes it.",
                )
            )
    return notes
