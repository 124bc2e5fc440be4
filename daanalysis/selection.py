"""What a command or a page is about: the extract, its areas and its quarter, chosen one way.

The quarterly run, ``daanalysis verdict``, ``daanalysis alerts`` and each notebook's set-up all
load an extract, pick the areas and resolve the quarter; :func:`select` does the first two once
for all of them, and :meth:`Selection.quarter` the third, so "latest", an area that is not in the
data and a bad ``--today`` mean the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from daanalysis.ingest.extract import DataContractError, Extract
from daanalysis.panel import (
    area_panel,
    build_panel,
    common_quarters,
    complete_months,
    complete_quarters,
)
from daanalysis.periods import QUARTER_FREQ, parse_today, resolve_quarter


@dataclass
class Selection:
    """An extract, its monthly panel, the areas chosen and the date ``latest`` is judged from."""

    extract: Extract
    panel: pd.DataFrame
    areas: list[str]
    today: pd.Timestamp | None = None

    def quarter(self, asked: str, area: str | None = None) -> pd.Period:
        """``asked`` ('latest', '2024/25 Q2', '2024-25Q2') checked against the quarters the data
        cover in full: those of ``area`` alone, or by default those every chosen area covers."""
        if area is None:
            quarters = common_quarters(self.panel, self.areas)
        else:
            quarters = complete_quarters(area_panel(self.panel, area))
        return resolve_quarter(asked, quarters, self.today)

    def current_quarter(self) -> pd.Period:
        """The quarter of the latest complete month of the chosen areas (which may still be
        running: what ``--quarter now`` asks for)."""
        mine = self.panel[self.panel["area"].isin(self.areas) & complete_months(self.panel)]
        return mine["month"].max().asfreq(QUARTER_FREQ)


def choose_areas(
    extract: Extract, areas: list[str], data_dir: str | Path, faults: bool = True
) -> list[str]:
    """The areas to report: those named (``[]`` or ``["all"]``: every area in the extract), each
    checked to be in the extract, with a clear error naming the ones it has; and, unless
    ``faults`` is False (planning a task per area, each of which checks its own), none with a
    fault of its own rows (:attr:`Extract.area_faults`: the error says which file and area)."""
    available = extract.areas()
    if not areas or list(areas) == ["all"]:
        return _without_faults(extract, available, faults)
    unknown = [a for a in areas if a not in available]
    if unknown:
        from daanalysis.ingest.checks.areas import fold_area

        same = [a for a in available if fold_area(a) == fold_area(unknown[0])]
        hint = f" Did you mean {same[0]!r}? Names must match the data exactly." if same else ""
        raise DataContractError(
            f"Area {unknown[0]!r} is not in {data_dir}; areas found: {', '.join(available)}." + hint
        )
    return _without_faults(extract, list(areas), faults)


def _without_faults(extract: Extract, areas: list[str], faults: bool) -> list[str]:
    broken = [a for a in areas if a in extract.area_faults]
    if faults and broken:
        more = f" ({len(broken) - 1} other area(s) too: see the ledger)" if len(broken) > 1 else ""
        raise DataContractError(extract.area_faults[broken[0]] + more)
    return areas


def load(data_dir: str | Path) -> tuple[Extract, pd.DataFrame]:
    """Load, validate and clean ``data_dir`` and build its panel."""
    from daanalysis.ingest.load import load_extract

    extract = load_extract(data_dir)
    return extract, build_panel(extract)


def select(
    data_dir: str | Path,
    areas: list[str] | tuple[str, ...] = (),
    today: str = "",
    prepared: tuple[Extract, pd.DataFrame] | None = None,
    faults: bool = True,
) -> Selection:
    """Load ``data_dir`` (or take the ``prepared`` extract and panel, already loaded from it),
    choose ``areas`` (none or ``["all"]``: every area; ``faults``: see :func:`choose_areas`)
    and parse ``today`` (yyyy-mm-dd, blank for the real today)."""
    when = parse_today(today)
    extract, panel = prepared if prepared is not None else load(data_dir)
    chosen = choose_areas(extract, list(areas), data_dir, faults)
    return Selection(extract, panel, chosen, when)


__all__ = ["Selection", "choose_areas", "load", "select"]
