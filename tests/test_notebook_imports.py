"""Notebooks import only ``daanalysis.present`` (issue 19): the pages' words, tables, charts and
results come through the present layer, so a notebook's cells stay thin (parameters, a call, a
chart, a sentence) and the metrics underneath can change without touching a notebook.

Third-party imports a page needs to show its output (``IPython.display``, ``pandas``) are
allowed; any other ``daanalysis`` module is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def outside_present(source: str) -> list[str]:
    """The ``daanalysis`` modules imported in ``source`` (a notebook's code) that are not
    ``daanalysis.present`` or below it. IPython magics and shell lines are skipped."""
    code = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "daanalysis":  # from daanalysis import present, metrics
                names = [f"daanalysis.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            inside = name == "daanalysis.present" or name.startswith("daanalysis.present.")
            if (name == "daanalysis" or name.startswith("daanalysis.")) and not inside:
                found.append(name)
    return found


def offending(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [
        name
        for cell in nb.cells
        if cell.cell_type == "code"
        for name in outside_present(cell.source)
    ]


def test_the_rule_reads_every_form_of_import():
    source = (
        "import pandas as pd\nfrom IPython.display import Markdown\n%matplotlib inline\n"
        "from daanalysis.present import charts\nfrom daanalysis.present.page import Page\n"
        "from daanalysis.metrics import demand\nimport daanalysis.panel\n"
        "from daanalysis import config, present\nif True:\n    from daanalysis.periods import x\n"
    )
    assert outside_present(source) == [
        "daanalysis.metrics",
        "daanalysis.panel",
        "daanalysis.config",
        "daanalysis.periods",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_import_only_the_present_layer(path):
    assert NOTEBOOKS, "no notebooks found"
    assert offending(path) == [], f"{path.name} imports outside daanalysis.present"
