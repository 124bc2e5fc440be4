"""Refresh the stored output of each notebook's ``check`` cell (nbval's reference).

Run after an intended change to a headline figure: it executes every notebook on the bundled
sample with papermill and copies the check cell's fresh output into the committed notebook,
leaving every other cell clean. Review the diff before committing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import papermill as pm

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def record(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        pm.execute_notebook(
            str(path), str(out), kernel_name="daanalysis", cwd=str(NOTEBOOKS), progress_bar=False
        )
        executed = nbformat.read(out, as_version=4)
    fresh = {c.id: c.outputs for c in executed.cells if "check" in c.metadata.get("tags", [])}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "check" in cell.metadata.get("tags", []):
            cell.outputs = fresh[cell.id]
            cell.metadata["keep_output"] = True
            # nbval compares only a reference cell that has an execution count.
            cell.execution_count = 1
    nbformat.write(nb, path)
    print(f"recorded {path.name}")


if __name__ == "__main__":
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        record(notebook)
