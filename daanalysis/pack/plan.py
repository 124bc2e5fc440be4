"""What a run will do: the quarter, and one job per notebook and area.

The data are loaded, checked and turned into the panel once here; each notebook's metadata
(:mod:`daanalysis.pack.notebooks`) says whether it makes a page per area or one for the
partnership, and which tables it needs rows in (a page whose table is empty is left out, with a
note saying what would enable it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from daanalysis.ingest.extract import DataContractError, Extract
from daanalysis.names import page_stem, slug
from daanalysis.pack.notebooks import NOTEBOOK_DIR, NotebookError, NotebookSpec, discover
from daanalysis.panel import complete_quarters
from daanalysis.periods import quarter_slug
from daanalysis.selection import select

log = logging.getLogger("daanalysis.pack.report")  # the run's one log (console and run.log)


@dataclass(frozen=True)
class Job:
    """One notebook to run, for one area (``area`` blank: a partnership page)."""

    spec: NotebookSpec
    area: str
    parameters: dict

    @property
    def notebook(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title + (f": {self.area}" if self.area else "")

    @property
    def stem(self) -> str:
        return page_stem(self.area, self.notebook)


def check_page_names(areas: list[str]) -> None:
    """Each area must give a distinct, non-empty page name, or one page would overwrite another."""
    seen: dict[str, str] = {}
    for area in areas:
        name = slug(area)
        if not name:
            raise DataContractError(
                f"Area {area!r} has no letters or digits to name its pages by. Rename it in the "
                "data (every table that has an area column)."
            )
        if name in seen:
            raise DataContractError(
                f"Areas {seen[name]!r} and {area!r} would both be written to pages named "
                f"{name!r}, so one would overwrite the other. If they are the same area, spell it "
                "the same way in every file; if not, rename one."
            )
        seen[name] = area


@dataclass
class Plan:
    """What a run will do: the quarter, the notebooks to run, and the data loaded once."""

    quarter: pd.Period
    jobs: list[Job]
    extract: Extract
    panel: pd.DataFrame
    skipped: list[str] = field(default_factory=list)
    # The same, for the front page: the page left out, what is missing and what would enable it.
    left_out: list[str] = field(default_factory=list)


def _has_rows(extract: Extract, table: str, area: str) -> bool:
    frame = extract[table]
    if area and "area" in frame:
        return bool((frame["area"] == area).any())
    return len(frame) > 0


def plan_jobs(
    data_dir: Path,
    quarter: str,
    areas: list[str],
    today: str,
    notebooks: list[NotebookSpec] | None = None,
    prepared: tuple[Extract, pd.DataFrame] | None = None,
    faults: bool = True,
) -> Plan:
    """Check the data once, resolve the quarter and list the notebooks to run.

    ``notebooks`` defaults to those in the pack's ``notebooks/`` folder; ``prepared`` is the
    loaded extract and panel, when the caller has them already; ``faults`` False plans areas
    whose own rows broke ``max_excluded_share`` too (a scheduler's plan, whose task for such an
    area then stops with the error: :func:`daanalysis.selection.choose_areas`).
    """
    specs = discover(NOTEBOOK_DIR) if notebooks is None else notebooks
    scope = select(data_dir, areas, today, prepared, faults)
    extract, panel, areas = scope.extract, scope.panel, scope.areas
    for spec in specs:
        unknown_tables = [t for t in spec.requires if t not in extract.tables]
        if unknown_tables:
            raise NotebookError(
                f"{spec.path}: metadata daanalysis.requires names {unknown_tables[0]!r}, which "
                f"is not a table of the data contract ({', '.join(sorted(extract.tables))})."
            )
    check_page_names(areas)
    # An area covering no complete quarter (often a misspelling carried by a handful of rows)
    # would leave no quarter common to all areas: name it rather than blame the whole extract.
    for area in areas:
        if not complete_quarters(panel[panel["area"] == area]):
            table = "referrals" if extract.basis == "records" else "returns"
            rows = int((extract[table]["area"] == area).sum())
            raise DataContractError(
                f"Area {area!r} ({rows} row(s) of {table}) covers no complete financial quarter. "
                "If it is a misspelling, correct the area in the data; to report other areas "
                "only, name them with --area."
            )
    chosen = scope.quarter(quarter)
    base = {
        "data_dir": str(Path(data_dir).resolve()),
        "quarter": quarter_slug(chosen),
        "today": today,
    }
    jobs, skipped, left_out = [], [], []
    # Each area's pages in notebook order, then the partnership's pages.
    runs = [(spec, area) for area in areas for spec in specs if spec.scope == "area"]
    runs += [(spec, "") for spec in specs if spec.scope == "partnership"]
    for spec, area in runs:
        if len(areas) < spec.min_areas:
            # Not a gap in the data: a one-council pack has no other area to compare with.
            skipped.append(
                f"The page {spec.title!r} needs {spec.min_areas} areas or more and this run "
                f"covers {len(areas)}, so it is left out"
            )
            continue
        # An optional table switches off only the pages that need it: an area without staffing
        # rows gets no staffing page instead of failing the whole pack.
        missing = [t for t in spec.requires if not _has_rows(extract, t, area)]
        if missing:
            where = f"{area}: no" if area else "No"
            skipped.append(
                f"{where} rows in {missing[0]} ({data_dir}), so the page {spec.title!r} is left out"
            )
            whose = f" for {area}" if area else ""
            left_out.append(
                f"{spec.title}{whose}: not produced, as {missing[0]}.csv has no rows{whose}. "
                f"Add {missing[0]}.csv (see the data contract) to produce it."
            )
            continue
        jobs.append(Job(spec, area, {**base, "area": area}))
    for note in skipped:
        log.warning("%s", note)
    return Plan(chosen, jobs, extract, panel, skipped, left_out)


__all__ = ["Job", "Plan", "check_page_names", "plan_jobs"]
