"""Refresh the stored output of each notebook's ``check`` cell (nbval's reference).

Run after an intended change to a headline figure: it executes every notebook of the pack on the
bundled sample through the runner's own executor (:func:`daanalysis.pack.report.run_notebook`: the
project kernel, private sockets, the same timeouts) with the notebook's own parameters, as nbval
runs it, and copies the check cell's fresh output into the committed notebook, leaving every
other cell clean. Review the diff before committing.

    python tools/record_checks.py [notebook.ipynb ...]   # default: every notebook the pack finds
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat

from daanalysis.pack.report import NOTEBOOK_DIR, ensure_kernel, run_notebook
from daanalysis.present.notebook import discover, read_spec


def record(path: Path) -> None:
    """Execute ``path`` and store its check cells' outputs in it."""
    ensure_kernel()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        # No parameters: the defaults in the notebook, which is what nbval runs.
        run_notebook(path, out, {})
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


def main(argv: list[str]) -> None:
    specs = [read_spec(Path(a).resolve()) for a in argv] or discover(NOTEBOOK_DIR)
    for spec in specs:
        record(spec.path)


if __name__ == "__main__":
    main(sys.argv[1:])
