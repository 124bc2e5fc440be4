"""The notebooks of the pack: how the runner finds them and what their metadata say.

Each notebook describes itself in its metadata under ``"daanalysis"``::

    {"title": "Staffing gap", "scope": "area", "order": 20, "requires": ["staffing"]}

``scope`` is ``"area"`` (one page per area) or ``"partnership"`` (one page for all areas);
``requires`` names tables that must have rows (for the area, when the table has an area column)
or the page is left out with a note; ``min_areas`` (default 1) is the number of areas a run must
cover for the page to be made (2 for a comparison of areas, which a one-council pack leaves out).
Adding a notebook is adding the file: see ``docs/adding-a-notebook.md``. What a notebook does
once it runs (its set-up, its headline figures) is :mod:`daanalysis.present.notebook`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
# Parameters the runner passes; a notebook declares the ones it uses in its parameters cell.
RUNNER_PARAMETERS = (
    "quarter", "data_dir", "area", "kpi_path", "record_dir", "today", "prepared"
)  # fmt: skip
REQUIRED_PARAMETERS = ("quarter", "data_dir")
SCOPES = ("area", "partnership")


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
    min_areas: int = 1  # the page is made only when the run covers this many areas


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
    try:
        min_areas = int(meta.get("min_areas", 1))
    except (TypeError, ValueError):
        min_areas = 0
    if min_areas < 1:
        raise NotebookError(
            f"{path}: metadata daanalysis.min_areas must be a whole number, 1 or more."
        )
    return NotebookSpec(
        name=path.stem,
        path=path,
        title=str(meta.get("title") or heading),
        scope=scope,
        order=order,
        requires=tuple(requires),
        parameters=tuple(p for p in RUNNER_PARAMETERS if p in declared),
        min_areas=min_areas,
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
    "NOTEBOOK_DIR",
    "REQUIRED_PARAMETERS",
    "RUNNER_PARAMETERS",
    "SCOPES",
    "NotebookError",
    "NotebookSpec",
    "discover",
    "read_spec",
]
