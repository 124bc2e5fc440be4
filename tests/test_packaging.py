"""Project hygiene: dependency lists in step, the data contract documented, notebooks clean."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest

from daanalysis.ingest.schema import TABLES
from tests.conftest import ROOT


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted |= set(extra)
    env = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    items = [m.group(1).strip() for m in re.finditer(r"^\s*-\s+(.+)$", env, re.MULTILINE)]
    listed = {s for s in items if not s.startswith(("python", "pip", "-e "))}
    assert listed == wanted


def test_data_contract_document_lists_every_column():
    doc = (ROOT / "docs" / "data-contract.md").read_text()
    for name, spec in TABLES.items():
        assert f"`{name}`" in doc, name
        for column in spec.columns:
            assert f"`{column}`" in doc, f"{name}.{column}"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_clean(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "daanalysis"
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert sum("parameters" in t for t in tags) == 1
    for cell, cell_tags in zip(nb.cells, tags, strict=True):
        if cell.cell_type != "code":
            continue
        if "check" in cell_tags:
            # The only stored output: nbval's reference for the headline figures.
            assert cell.source.startswith("# NBVAL_CHECK_OUTPUT")
            assert cell.outputs and cell.metadata.get("keep_output")
        else:
            assert cell.outputs == [] and cell.execution_count is None


def test_readme_has_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "python3 tasks.py report" in readme and "python3 tasks.py test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 tasks.py test" in ci
