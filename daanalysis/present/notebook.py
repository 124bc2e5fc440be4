"""What a notebook of the pack needs: its set-up (:func:`prepare`) and its headline figures
(:func:`write_kpis`).

A notebook opened in JupyterLab builds everything itself from its parameters. The quarterly run
loads, validates and cleans the extract and builds the panel once (:func:`save_prepared`), and
passes each notebook the file in its ``prepared`` parameter; :func:`prepare` then reads that
instead of loading again (an area's page reads its area's own file, written beside it). The
two give identical results (``tests/test_notebook.py``). How the runner finds a notebook and
reads its metadata is :mod:`daanalysis.pack.notebooks`.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from daanalysis.metrics.kpi import KPI, KPI_COLUMNS, KPI_FIELDS
from daanalysis.names import slug
from daanalysis.periods import quarter_label, quarter_slug
from daanalysis.selection import load as load_prepared
from daanalysis.selection import select

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from daanalysis.config import Config
    from daanalysis.ingest.extract import Extract
    from daanalysis.metrics.demand import Verdict

PARTNERSHIP_AREA = "All areas"  # the area of a partnership page and of its kpis.csv rows
PREPARED_FORMAT = 2


# --- set-up ---------------------------------------------------------------------------------------


@dataclass
class Context:
    """What every notebook needs: the extract, one area's panel, the quarter and the config."""

    extract: Extract
    panel: pd.DataFrame
    area: str
    quarter: pd.Period
    config: Config
    # The quarterly run's private folder (where its prepared file is), for what one notebook
    # records for another (:func:`record_verdict`); None in a notebook run on its own.
    run_dir: Path | None = None

    @property
    def label(self) -> str:
        return quarter_label(self.quarter)


def _input_files(data_dir: Path) -> list[Path]:
    """Every file of an extract folder (and its ``mappings/``), in a fixed order."""
    if not data_dir.is_dir():
        return []
    return sorted(p for p in [*data_dir.iterdir(), *data_dir.glob("mappings/*")] if p.is_file())


def input_checksums(data_dir: str | Path) -> dict[str, str]:
    """SHA-256 of every input file, by its path relative to ``data_dir``."""
    data_dir = Path(data_dir)
    sums = {}
    for path in _input_files(data_dir):
        with path.open("rb") as handle:
            sums[path.relative_to(data_dir).as_posix()] = hashlib.file_digest(
                handle, "sha256"
            ).hexdigest()
    return sums


def input_stats(data_dir: str | Path) -> dict[str, tuple[int, int]]:
    """Size and modification time (ns) of every input file, by its path relative to
    ``data_dir``: what each notebook checks (cheap); the runner checks the SHA-256 once, at the
    end (:func:`check_inputs`)."""
    data_dir = Path(data_dir)
    stats = {}
    for path in _input_files(data_dir):
        found = path.stat()
        stats[path.relative_to(data_dir).as_posix()] = (found.st_size, found.st_mtime_ns)
    return stats


def _changed(data_dir: str | Path, path: str | Path) -> ValueError:
    return ValueError(
        f"The files in {data_dir} changed while the run was using them (or {path} belongs "
        "to another folder). Run the report again once the extract has finished copying."
    )


def _key(sums: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sums, sort_keys=True).encode()).hexdigest()[:16]


def check_inputs(prepared: str | Path, data_dir: str | Path) -> None:
    """Raise if an input file's content is not what :func:`save_prepared` read (its SHA-256):
    run once by the runner after the notebooks, instead of by every notebook."""
    if Path(prepared).name != f"prepared-{_key(input_checksums(data_dir))}.pickle":
        raise _changed(data_dir, prepared)


def _area_key(area: str) -> str:
    return hashlib.sha256(area.encode()).hexdigest()[:16]  # any area name, a safe file name


def area_file(prepared: str | Path, area: str) -> Path:
    """The prepared file of one area beside the run's prepared file (:func:`save_prepared`)."""
    prepared = Path(prepared)
    return prepared.with_name(f"{prepared.stem}.area-{_area_key(area)}.pickle")


def _cut_by_area(frame: pd.DataFrame, loose: np.ndarray) -> Callable[[str], pd.DataFrame]:
    """``area -> its rows of frame``: the area's rows and the ``loose`` ones (a mask: rows every
    area counts), in their order and with their index, as a page filtering the whole frame sees
    them. The frame is grouped, and its loose rows found, once, not compared with each area:
    at 100 areas the ledger's 945,000 lines made that most of the time of this stage, which
    nothing else runs beside (issue 22)."""
    import numpy as np

    groups = frame.groupby("area", sort=False, observed=True, dropna=True).indices
    always = np.flatnonzero(loose)
    none = np.empty(0, dtype=np.intp)
    return lambda area: frame.iloc[np.union1d(always, groups.get(area, none))]


def _ledger_by_area(ledger: pd.DataFrame, everyone: list[str]) -> Callable[[str], pd.DataFrame]:
    """``area -> its ledger lines``, as :func:`daanalysis.ingest.ledger.area_rows` gives them:
    the area's lines and those that could not be assigned to one of ``everyone`` (no area, or
    one not in the extract: misspelt), in order and with their index; a ledger without an area
    column (built before it had one) whole."""
    if "area" not in ledger.columns:
        return lambda area: ledger
    return _cut_by_area(ledger, ~ledger["area"].isin(everyone).to_numpy())


def _area_extracts(
    extract: Extract, panel: pd.DataFrame, areas: list[str]
) -> Iterator[tuple[str, Extract, pd.DataFrame]]:
    """Each area's extract and panel, one area at a time (never a second copy of the whole
    extract in memory): every table with an area column cut to the area's rows (and those with
    no area), the panel to the area's months, and the ledger to the lines the area's page
    counts (:func:`daanalysis.ingest.ledger.area_rows`)."""
    import dataclasses

    def blank_area(frame: pd.DataFrame) -> Callable[[str], pd.DataFrame]:
        # Rows with no area (a campaign or an event for every area) go to every area.
        return _cut_by_area(frame, frame["area"].isna().to_numpy())

    # A table with no area column, or no row with an area, is every area's as it is.
    by_area = {
        name: blank_area(frame)
        for name, frame in extract.tables.items()
        if "area" in frame and frame["area"].notna().any()
    }
    # The whole extract's areas, not only the run's: a ledger row whose area is none of them
    # (misspelt) could not be assigned to one, and every area's page counts it.
    everyone = extract.areas()
    ledger_rows = _ledger_by_area(extract.ledger, everyone)
    panel_rows = blank_area(panel)
    for area in areas:
        tables = {
            name: by_area[name](area) if name in by_area else frame
            for name, frame in extract.tables.items()
        }
        part = dataclasses.replace(
            extract, tables=tables, ledger=ledger_rows(area), cut_from=tuple(everyone)
        )
        yield area, part, panel_rows(area)


def _dump(payload: dict, target: Path) -> None:
    with target.open("wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)


def save_prepared(
    extract: Extract, panel: pd.DataFrame, folder: str | Path, areas: list[str] | tuple = ()
) -> Path:
    """Write the loaded extract and its panel for the run's notebooks; returns the file.

    With ``areas``, each area also gets a file of its own rows (:func:`area_file`), which its
    pages read instead of the whole extract (:func:`prepare`): a page's set-up then costs the
    same at 100 areas as at one (reading the whole file took 0.26 s of processor time a page at
    100 areas, ``docs/running-the-pack.md``), with the lines of the row ledger that the
    area's data-quality section counts.

    The file is named by a digest of the input checksums, which the runner checks once after
    the notebooks (:func:`check_inputs`), and it records each input's size and time, which each
    notebook checks (:func:`read_prepared`). It
    holds row-level data: ``folder`` must be private to the run (the runner uses its 0700 kernel
    folder, removed when the run ends), never the published pack.
    """
    sums = input_checksums(extract.data_dir)
    target = Path(folder) / f"prepared-{_key(sums)}.pickle"
    head = {
        "format": PREPARED_FORMAT,
        "data_dir": str(Path(extract.data_dir).resolve()),
        "stats": input_stats(extract.data_dir),
    }
    _dump({**head, "extract": extract, "panel": panel}, target)
    for area, part, area_panel in _area_extracts(extract, panel, list(areas)):
        _dump({**head, "extract": part, "panel": area_panel}, area_file(target, area))
    return target


def _read(path: Path, data_dir: str | Path) -> dict:
    # The runner wrote this file in its private folder during this run: it is trusted input.
    with path.open("rb") as handle:
        payload = pickle.load(handle)  # noqa: S301
    if payload.get("format") != PREPARED_FORMAT:
        raise ValueError(f"{path} was written by another version of daanalysis; run again.")
    # Each file's size and time, not its SHA-256 (a read of every input file by every notebook:
    # 0.2 s of processor time a notebook at 100 areas); the runner compares the SHA-256 once,
    # after the notebooks (check_inputs).
    if payload["data_dir"] != str(Path(data_dir).resolve()) or payload["stats"] != input_stats(
        data_dir
    ):
        raise _changed(data_dir, path)
    return payload


def read_prepared(
    path: str | Path, data_dir: str | Path, area: str = ""
) -> tuple[Extract, pd.DataFrame]:
    """The extract and panel :func:`save_prepared` wrote, if they still match ``data_dir``:
    with ``area``, that area's own file when the run wrote one (its rows only)."""
    path = Path(path)
    own = area_file(path, area) if area else None
    payload = _read(own if own is not None and own.is_file() else path, data_dir)
    return payload["extract"], payload["panel"]


def prepare(
    data_dir: str | Path,
    quarter: str,
    area: str = "",
    today: str = "",
    partnership: bool = False,
    prepared: str = "",
) -> Context:
    """Load ``data_dir`` (or read the run's ``prepared`` file), pick the area, resolve the quarter.

    With ``partnership=True`` (pages about the whole partnership, such as the action plan) the
    panel keeps every area and the quarter is one that all areas cover.
    """
    from daanalysis.panel import area_panel

    # An area's page reads its area's own file where the run wrote one (its rows only).
    mine = "" if partnership else area
    loaded = read_prepared(prepared, data_dir, mine) if prepared else None
    scope = select(data_dir, today=today, prepared=loaded)
    if partnership:
        panel, name = scope.panel, PARTNERSHIP_AREA
        period = scope.quarter(quarter)
    else:
        panel = area_panel(scope.panel, area or None)
        name = panel["area"].iloc[0]
        period = scope.quarter(quarter, area=name)
    # A page is about the data as they stood at the quarter's end: an earlier quarter's pack
    # shows no later month in its charts and tables.
    panel = panel[panel["month"] <= period.asfreq("M", how="end")].reset_index(drop=True)
    run_dir = Path(prepared).parent if prepared else None
    return Context(scope.extract, panel, name, period, scope.extract.config, run_dir)


# --- what one page of a run records for another ----------------------------------------------


def _verdict_file(run_dir: Path, area: str, quarter: pd.Period) -> Path:
    return run_dir / f"verdict-{_area_key(area)}-{quarter_slug(quarter)}.pickle"


def record_verdict(ctx: Context, verdict: Verdict) -> Path | None:
    """Keep an area page's demand verdict in the run's private folder, so that the comparison
    of areas reads it instead of fitting the same models again (about 0.5 s of processor time
    an area, measured at 20 areas: ``docs/running-the-pack.md``). Nothing is kept outside a
    quarterly run (``ctx.run_dir`` None). Returns the file written."""
    if ctx.run_dir is None or not ctx.run_dir.is_dir():
        return None
    target = _verdict_file(ctx.run_dir, ctx.area, ctx.quarter)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(verdict, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(target)  # whole or not at all: a reader never sees half a file
    return target


def recorded_verdicts(ctx: Context, areas: list[str]) -> dict[str, Verdict]:
    """The demand verdicts the run's area pages recorded (:func:`record_verdict`) for
    ``areas`` at ``ctx.quarter``; an area whose page recorded none (it failed, or the notebook
    runs on its own) is not in the result."""
    found: dict[str, Verdict] = {}
    if ctx.run_dir is None:
        return found
    for area in areas:
        path = _verdict_file(ctx.run_dir, area, ctx.quarter)
        if path.is_file():
            # Written by this run's own pages in its private (0700) folder: trusted input.
            with path.open("rb") as handle:
                found[area] = pickle.load(handle)  # noqa: S301
    return found


COUNT_UNITS = {"referrals", "cases"}


def as_kpi(row: KPI | dict) -> KPI:
    """A :class:`~daanalysis.metrics.kpi.KPI` from a record or a dict (``kpi`` or ``label`` for
    the label; without a ``key``, one made from the label)."""
    if isinstance(row, KPI):
        return row
    data = {k: v for k, v in row.items() if k in KPI_FIELDS}
    data.setdefault("label", str(row.get("kpi", "")))
    data.setdefault("key", slug(data["label"]).replace("-", "_"))
    for bound in ("low", "high"):
        if data.get(bound) == "":
            data[bound] = None
    if data.get("value") == "":
        data["value"] = None
    return KPI(**data)


def write_kpis(rows: list[KPI | dict], path: str, ctx: Context, notebook: str = "") -> pd.DataFrame:
    """Headline figures of one notebook as rows of ``kpis.csv`` (written only if ``path``).

    ``rows`` are :class:`~daanalysis.metrics.kpi.KPI` records (dicts are read with
    :func:`as_kpi`). ``notebook`` names the notebook in the ``notebook`` column; the quarterly
    run sets that column to the notebook's file name whatever is given here.

    ``kpis.csv`` is published with the pack, so a count of people (unit ``referrals`` or
    ``cases``) below the suppression threshold, and a figure a metric marked ``hidden`` (it
    rests on such a count), are replaced by the disclosure marker, with their interval and
    status.
    """
    from daanalysis.present.disclosure import MARKER

    records = [as_kpi(r) for r in rows]
    frame = pd.DataFrame([r.row() for r in records], columns=KPI_COLUMNS[3:])
    small = frame["unit"].isin(COUNT_UNITS) & pd.to_numeric(
        frame["value"], errors="coerce"
    ).between(0, ctx.config.suppression_threshold, inclusive="neither")
    hide = small | pd.Series([r.hidden for r in records], index=frame.index, dtype=bool)
    frame["value"] = frame["value"].astype(object).where(~hide, MARKER)
    for col in ("low", "high", "rag"):
        frame[col] = frame[col].astype(object).where(~hide, "")
    frame.insert(0, "notebook", notebook)
    frame.insert(0, "quarter", quarter_slug(ctx.quarter))
    frame.insert(0, "area", ctx.area)
    frame = frame[KPI_COLUMNS]
    if path:
        frame.to_csv(path, index=False)
    return frame


__all__ = [
    "KPI_COLUMNS",
    "PARTNERSHIP_AREA",
    "Context",
    "area_file",
    "as_kpi",
    "check_inputs",
    "input_checksums",
    "input_stats",
    "load_prepared",
    "prepare",
    "read_prepared",
    "record_verdict",
    "recorded_verdicts",
    "save_prepared",
    "write_kpis",
]
