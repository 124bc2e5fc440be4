"""What a notebook of the pack needs: its set-up (:func:`prepare`), its headline figures
(:func:`write_kpis`), and how the runner finds it (:func:`discover`).

A notebook opened in JupyterLab builds everything itself from its parameters. The quarterly run
loads, validates and cleans the extract and builds the panel once (:func:`save_prepared`), and
passes each notebook the file in its ``prepared`` parameter; :func:`prepare` then reads that
instead of loading again. The two give identical results (``tests/test_notebook.py``).

Each notebook describes itself in its metadata under ``"daanalysis"``::

    {"title": "Staffing gap", "scope": "area", "order": 20, "requires": ["staffing"]}

``scope`` is ``"area"`` (one page per area) or ``"partnership"`` (one page for all areas);
``requires`` names tables that must have rows (for the area, when the table has an area column)
or the page is left out with a note. Adding a notebook is adding the file:
see ``docs/adding-a-notebook.md``.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from daanalysis.periods import parse_today, quarter_label, quarter_slug, resolve_quarter

if TYPE_CHECKING:
    from daanalysis.config import Config
    from daanalysis.ingest.extract import Extract

KPI_COLUMNS = ["area", "quarter", "notebook", "kpi", "value", "unit", "rag", "source"]
# Parameters the runner passes; a notebook declares the ones it uses in its parameters cell.
RUNNER_PARAMETERS = ("quarter", "data_dir", "area", "kpi_path", "today", "prepared")
REQUIRED_PARAMETERS = ("quarter", "data_dir")
SCOPES = ("area", "partnership")
PARTNERSHIP_AREA = "All areas"  # the area of a partnership page and of its kpis.csv rows
PREPARED_FORMAT = 1


# --- set-up ---------------------------------------------------------------------------------------


@dataclass
class Context:
    """What every notebook needs: the extract, one area's panel, the quarter and the config."""

    extract: Extract
    panel: pd.DataFrame
    area: str
    quarter: pd.Period
    config: Config

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


def save_prepared(extract: Extract, panel: pd.DataFrame, folder: str | Path) -> Path:
    """Write the loaded extract and its panel for the run's notebooks; returns the file.

    The file is named by a digest of the input checksums, so a changed input can never be
    mistaken for this one, and it records the checksums so :func:`prepare` can check them. It
    holds row-level data: ``folder`` must be private to the run (the runner uses its 0700 kernel
    folder, removed when the run ends), never the published pack.
    """
    sums = input_checksums(extract.data_dir)
    key = hashlib.sha256(json.dumps(sums, sort_keys=True).encode()).hexdigest()[:16]
    target = Path(folder) / f"prepared-{key}.pickle"
    payload = {
        "format": PREPARED_FORMAT,
        "data_dir": str(Path(extract.data_dir).resolve()),
        "checksums": sums,
        "extract": extract,
        "panel": panel,
    }
    with target.open("wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return target


def read_prepared(path: str | Path, data_dir: str | Path) -> tuple[Extract, pd.DataFrame]:
    """The extract and panel :func:`save_prepared` wrote, if they still match ``data_dir``."""
    # The runner wrote this file in its private folder during this run: it is trusted input.
    with Path(path).open("rb") as handle:
        payload = pickle.load(handle)  # noqa: S301
    if payload.get("format") != PREPARED_FORMAT:
        raise ValueError(f"{path} was written by another version of daanalysis; run again.")
    if payload["data_dir"] != str(Path(data_dir).resolve()) or payload[
        "checksums"
    ] != input_checksums(data_dir):
        raise ValueError(
            f"The files in {data_dir} changed while the run was using them (or {path} belongs "
            "to another folder). Run the report again once the extract has finished copying."
        )
    return payload["extract"], payload["panel"]


def choose_areas(extract: Extract, areas: list[str], data_dir: str | Path) -> list[str]:
    """The areas to report: those named (``[]`` or ``["all"]``: every area in the extract), each
    checked to be in the extract, with a clear error naming the ones it has."""
    from daanalysis.ingest.extract import DataContractError

    available = extract.areas()
    if not areas or list(areas) == ["all"]:
        return available
    unknown = [a for a in areas if a not in available]
    if unknown:
        raise DataContractError(
            f"Area {unknown[0]!r} is not in {data_dir}; areas found: {', '.join(available)}."
        )
    return list(areas)


def load_prepared(data_dir: str | Path) -> tuple[Extract, pd.DataFrame]:
    """Load, validate and clean ``data_dir`` and build its panel: what the runner does once."""
    from daanalysis.ingest.load import load_extract
    from daanalysis.panel import build_panel

    extract = load_extract(data_dir)
    return extract, build_panel(extract)


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
    from daanalysis.panel import area_panel, common_quarters, complete_quarters

    if prepared:
        extract, panel = read_prepared(prepared, data_dir)
    else:
        extract, panel = load_prepared(data_dir)
    if partnership:
        quarters, name = common_quarters(panel), PARTNERSHIP_AREA
    else:
        panel = area_panel(panel, area or None)
        quarters, name = complete_quarters(panel), panel["area"].iloc[0]
    chosen = resolve_quarter(quarter, quarters, parse_today(today))
    # A page is about the data as they stood at the quarter's end: an earlier quarter's pack
    # shows no later month in its charts and tables.
    panel = panel[panel["month"] <= chosen.asfreq("M", how="end")].reset_index(drop=True)
    return Context(extract, panel, name, chosen, extract.config)


COUNT_UNITS = {"referrals", "cases"}


def write_kpis(rows: list[dict], path: str, ctx: Context, notebook: str = "") -> pd.DataFrame:
    """Headline figures of one notebook as rows of ``kpis.csv`` (written only if ``path``).

    ``notebook`` names the notebook in the ``notebook`` column; the quarterly run sets that
    column to the notebook's file name whatever is given here.

    ``kpis.csv`` is published with the pack, so a count of people (unit ``referrals`` or
    ``cases``) below the suppression threshold is replaced by the disclosure marker.
    """
    from daanalysis.present.disclosure import MARKER

    frame = pd.DataFrame(rows)
    small = frame["unit"].isin(COUNT_UNITS) & pd.to_numeric(
        frame["value"], errors="coerce"
    ).between(0, ctx.config.suppression_threshold, inclusive="neither")
    frame["value"] = frame["value"].astype(object).where(~small, MARKER)
    frame.insert(0, "notebook", notebook)
    frame.insert(0, "quarter", quarter_slug(ctx.quarter))
    frame.insert(0, "area", ctx.area)
    for col in KPI_COLUMNS:
        if col not in frame:
            frame[col] = ""
    frame = frame[KPI_COLUMNS]
    if path:
        frame.to_csv(path, index=False)
    return frame


# --- the notebooks of a folder ----------------------------------------------------------------


class NotebookError(ValueError):
    """A notebook cannot be run by the pack; the message names the file and the fix."""


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the pack, as its metadata describes it."""

    name: str  # the file name without .ipynb; pages are named after it
    path: Path
    title: str
    scope: str  # "area" or "partnership"
    order: int
    requires: tuple[str, ...]
    parameters: tuple[str, ...]  # the runner's parameters this notebook declares


def _parameter_names(source: str) -> tuple[str, ...]:
    return tuple(re.findall(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=", source, flags=re.MULTILINE))


def read_spec(path: Path) -> NotebookSpec:
    """The :class:`NotebookSpec` of one notebook file, or :class:`NotebookError` saying why not."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise NotebookError(f"{path}: not a readable notebook ({err}).") from err
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(params) != 1:
        raise NotebookError(
            f"{path}: needs exactly one cell tagged 'parameters' (found {len(params)}), declaring "
            f"at least {' and '.join(REQUIRED_PARAMETERS)}. See docs/adding-a-notebook.md."
        )
    declared = _parameter_names(params[0].source)
    missing = [p for p in REQUIRED_PARAMETERS if p not in declared]
    if missing:
        raise NotebookError(
            f"{path}: its parameters cell does not declare {', '.join(missing)}. Copy the "
            "parameters cell of an existing notebook (see docs/adding-a-notebook.md)."
        )
    meta = dict(nb.metadata.get("daanalysis", {}))
    heading = next(
        (
            line[2:].strip()
            for cell in nb.cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
            if line.startswith("# ")
        ),
        path.stem.replace("_", " ").capitalize(),
    )
    scope = meta.get("scope", "area")
    if scope not in SCOPES:
        raise NotebookError(
            f"{path}: metadata daanalysis.scope is {scope!r}; use 'area' (a page per area) or "
            "'partnership' (one page for all areas)."
        )
    requires = meta.get("requires", [])
    if isinstance(requires, str) or not all(isinstance(r, str) for r in requires):
        raise NotebookError(f"{path}: metadata daanalysis.requires must be a list of table names.")
    try:
        order = int(meta.get("order", 1000))
    except (TypeError, ValueError):
        raise NotebookError(f"{path}: metadata daanalysis.order must be a whole number.") from None
    return NotebookSpec(
        name=path.stem,
        path=path,
        title=str(meta.get("title") or heading),
        scope=scope,
        order=order,
        requires=tuple(requires),
        parameters=tuple(p for p in RUNNER_PARAMETERS if p in declared),
    )


def discover(folder: str | Path) -> list[NotebookSpec]:
    """Every notebook in ``folder`` (not its subfolders), in page order (``order``, then name).

    Checkpoints and files starting with ``.`` or ``_`` are skipped, so a scratch notebook can
    sit beside the pack as ``_scratch.ipynb``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotebookError(f"--notebooks {folder} is not a folder of notebooks.")
    specs = [read_spec(p) for p in sorted(folder.glob("*.ipynb")) if p.name[0] not in "._"]
    if not specs:
        raise NotebookError(f"{folder} holds no notebooks (*.ipynb) to run.")
    return sorted(specs, key=lambda s: (s.order, s.name))


__all__ = [
    "KPI_COLUMNS",
    "PARTNERSHIP_AREA",
    "RUNNER_PARAMETERS",
    "SCOPES",
    "Context",
    "NotebookError",
    "choose_areas",
    "NotebookSpec",
    "discover",
    "input_checksums",
    "load_prepared",
    "prepare",
    "read_prepared",
    "read_spec",
    "save_prepared",
    "write_kpis",
]
