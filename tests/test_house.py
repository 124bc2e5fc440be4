"""House rules: the command line answers to ``python -m`` and ``--version``, packaging metadata
is valid with the setuptools it names, and every ``__all__`` is true."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import tomllib

import pytest

import daanalysis
from tests.conftest import ROOT

MODULES = sorted(m.name for m in pkgutil.iter_modules(daanalysis.__path__) if m.name != "__main__")


def test_python_m_daanalysis_prints_the_version():
    done = subprocess.run(
        [sys.executable, "-m", "daanalysis", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"daanalysis {daanalysis.__version__}"


def test_python_m_daanalysis_is_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "daanalysis", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "report" in done.stdout and "verdict" in done.stdout


def test_packaging_metadata_valid_for_the_setuptools_it_names():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    requires = " ".join(pyproject["build-system"]["requires"])
    floor = re.search(r"setuptools>=(\d+)", requires)
    assert floor, requires
    if isinstance(project.get("license"), str):
        # PEP 639 SPDX expressions need setuptools 77+; older ones reject the string.
        assert int(floor.group(1)) >= 77
    # The version is written once, in the package.
    assert "version" not in project and "version" in project["dynamic"]
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "daanalysis.__version__"


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_only_names_that_exist(name):
    module = importlib.import_module(f"daanalysis.{name}")
    exported = getattr(module, "__all__", [])
    assert len(exported) == len(set(exported)), "listed twice"
    assert [n for n in exported if not hasattr(module, n)] == []


def test_panel_all_is_its_public_api():
    from daanalysis import panel

    defined = {
        n
        for n, v in vars(panel).items()
        if not n.startswith("_")
        and (inspect.isfunction(v) or inspect.isclass(v))
        and v.__module__ == panel.__name__
    }
    assert defined <= set(panel.__all__)
    assert {"REFERRAL_COLUMNS", "RECORDS_ONLY"} <= set(panel.__all__)
