"""The notebooks' set-up: one load per run gives what each notebook would build itself, and a
folder of notebooks (an analyst's own included) is found from the notebooks' own metadata."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from daanalysis import cli
from daanalysis.pack import execute, kernels, notebooks, plan, report
from daanalysis.pack.notebooks import NotebookError, discover, read_spec
from daanalysis.present import notebook
from daanalysis.present.notebook import prepare, save_prepared
from tests.conftest import ROOT, SAMPLE

# The pages of a one-area pack (the sample): a page comparing areas needs two.
ONE_AREA_SPECS = [s for s in discover(report.NOTEBOOK_DIR) if s.min_areas <= 1]


def _assert_same_context(a: notebook.Context, b: notebook.Context) -> None:
    assert (a.area, a.quarter, a.config) == (b.area, b.quarter, b.config)
    pd.testing.assert_frame_equal(a.panel, b.panel)
    pd.testing.assert_frame_equal(a.extract.ledger, b.extract.ledger)
    assert a.extract.tables.keys() == b.extract.tables.keys()
    for name in a.extract.tables:
        left, right = a.extract[name], b.extract[name]
        if "client_key" in left:
            # Pseudonyms are keyed by a salt drawn afresh for each load: what must agree is which
            # referrals share a client, not the keys themselves.
            assert (
                pd.factorize(left["client_key"])[0] == pd.factorize(right["client_key"])[0]
            ).all()
            left, right = left.drop(columns="client_key"), right.drop(columns="client_key")
        pd.testing.assert_frame_equal(left, right, obj=name)
    assert (a.extract.basis, a.extract.vintage, a.extract.notes) == (
        b.extract.basis,
        b.extract.vintage,
        b.extract.notes,
    )


@pytest.fixture(scope="module")
def prepared_file(tmp_path_factory):
    extract, panel = notebook.load_prepared(SAMPLE)
    return save_prepared(extract, panel, tmp_path_factory.mktemp("private"))


@pytest.mark.parametrize("spec", ONE_AREA_SPECS, ids=lambda s: s.name)
def test_prepared_data_give_what_each_notebook_builds_itself(spec, prepared_file):
    partnership = spec.scope == "partnership"
    itself = prepare(SAMPLE, "latest", "", "2026-11-28", partnership=partnership)
    handed = prepare(
        SAMPLE, "latest", "", "2026-11-28", partnership=partnership, prepared=str(prepared_file)
    )
    _assert_same_context(itself, handed)


def test_prepared_data_are_refused_once_an_input_changes(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    extract, panel = notebook.load_prepared(data)
    saved = save_prepared(extract, panel, tmp_path)
    assert saved.name.startswith("prepared-")
    prepare(data, "latest", prepared=str(saved))  # unchanged: accepted
    with (data / "staffing.csv").open("a") as handle:
        handle.write("\n")
    with pytest.raises(ValueError, match="changed while the run was using them"):
        prepare(data, "latest", prepared=str(saved))


def test_the_pack_never_publishes_the_prepared_data(sample_report):
    assert not list(sample_report.rglob("*.pickle"))
    assert (
        "load, check and prepare the data once"
        in (sample_report / "analysts" / "run.log").read_text()
    )
    # Each notebook was handed the run's prepared data, not left to load the extract again.
    for path in (sample_report / "analysts" / "notebooks").glob("*.ipynb"):
        params = nbformat.read(path, as_version=4).metadata["papermill"]["parameters"]
        assert Path(params["prepared"]).name.startswith("prepared-"), path.name


# --- finding the notebooks of a folder ----------------------------------------------------------


def _write_notebook(path: Path, params: str, *cells: str, metadata: dict | None = None) -> Path:
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "daanalysis", "display_name": "Python (daanalysis)"}}
    )
    if metadata is not None:
        nb.metadata["daanalysis"] = metadata
    nb.cells.append(nbformat.v4.new_markdown_cell("# Waiting times\n\nAn analyst's own page."))
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nb.cells.extend(nbformat.v4.new_code_cell(c) for c in cells)
    nbformat.write(nb, path)
    return path


PARAMS = 'quarter = "latest"\ndata_dir = "../data/sample"\narea = ""\ntoday = ""\nkpi_path = ""'


def test_the_pack_notebooks_describe_themselves():
    specs = {s.name: s for s in discover(report.NOTEBOOK_DIR)}
    assert set(specs) == {p.stem for p in report.NOTEBOOK_DIR.glob("*.ipynb")}
    for spec in specs.values():
        assert spec.title and spec.scope in notebooks.SCOPES
        # Every pack notebook takes every parameter the runner passes, the prepared data and
        # the folder for its tables included.
        wanted = set(notebooks.RUNNER_PARAMETERS)
        assert set(spec.parameters) == wanted, spec.name
    assert specs["staffing_gap"].requires == ("staffing",)
    assert specs["action_plan"].scope == "partnership"
    assert specs["area_comparison"].min_areas == 2 and specs["area_comparison"].scope == (
        "partnership"
    )
    assert {s.min_areas for n, s in specs.items() if n != "area_comparison"} == {1}


def test_a_notebook_without_metadata_gets_defaults(tmp_path):
    spec = read_spec(_write_notebook(tmp_path / "waiting_times.ipynb", PARAMS))
    assert (spec.title, spec.scope, spec.order, spec.requires) == (
        "Waiting times",
        "area",
        1000,
        (),
    )
    assert "prepared" not in spec.parameters and "kpi_path" in spec.parameters


@pytest.mark.parametrize(
    ("params", "metadata", "message"),
    [
        ('area = ""', None, "does not declare quarter, data_dir"),
        (PARAMS, {"scope": "region"}, "scope is 'region'"),
        (PARAMS, {"requires": "staffing"}, "must be a list of table names"),
        (PARAMS, {"order": "first"}, "order must be a whole number"),
    ],
)
def test_a_notebook_the_pack_cannot_run_is_named_with_the_fix(tmp_path, params, metadata, message):
    path = _write_notebook(tmp_path / "mine.ipynb", params, metadata=metadata)
    with pytest.raises(NotebookError, match=message) as err:
        read_spec(path)
    assert str(path) in str(err.value)


def test_a_notebook_without_a_parameters_cell_is_named(tmp_path):
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)
    with pytest.raises(NotebookError, match="exactly one cell tagged 'parameters'"):
        discover(tmp_path)


def test_scratch_notebooks_and_empty_folders(tmp_path):
    _write_notebook(tmp_path / "_scratch.ipynb", "x = 1")
    with pytest.raises(NotebookError, match="holds no notebooks"):
        discover(tmp_path)
    with pytest.raises(NotebookError, match="is not a folder"):
        discover(tmp_path / "missing")


def test_a_required_table_the_contract_does_not_know_is_named(tmp_path):
    path = _write_notebook(tmp_path / "mine.ipynb", PARAMS, metadata={"requires": ["staff"]})
    with pytest.raises(NotebookError, match="'staff', which is not a table"):
        plan.plan_jobs(SAMPLE, "latest", [], "", [read_spec(path)])


@pytest.mark.slow
def test_report_runs_an_analysts_own_folder_of_notebooks(tmp_path, capsys, cli_shares_warm_process):
    folder = tmp_path / "mine"
    folder.mkdir()
    _write_notebook(
        folder / "waiting_times.ipynb",
        PARAMS,  # no `prepared`: this notebook loads the data itself, and still runs
        "from daanalysis.present import notebook\n"
        "ctx = notebook.prepare(data_dir, quarter, area, today)\n"
        "rows = [{'kpi': 'Weeks waited', 'value': 3.5, 'unit': 'weeks'}]\n"
        "notebook.write_kpis(rows, kpi_path, ctx, 'waiting_times')",
        metadata={"title": "Waiting times", "order": 5},
    )
    _write_notebook(
        folder / "summary.ipynb",
        PARAMS + '\nprepared = ""',
        "from daanalysis.present import notebook\n"
        "ctx = notebook.prepare(data_dir, quarter, area, today, True, prepared)\n"
        "print(ctx.area)",
        metadata={"title": "Partnership summary", "scope": "partnership"},
    )
    out = tmp_path / "out"
    args = ["report", "--data", str(SAMPLE), "--out", str(out), "--notebooks", str(folder)]
    assert cli.main([*args, "--today", "2026-11-28"]) == 0, capsys.readouterr().err
    pack = out / "2026-27Q2"
    assert {p.name for p in pack.glob("*.html")} >= {
        "sampleborough_waiting_times.html",
        "summary.html",
        "index.html",
    }
    index = (pack / "index.html").read_text()
    assert "Waiting times: Sampleborough" in index and "Partnership summary" in index
    kpis = pd.read_csv(pack / "kpis.csv")
    assert kpis.loc[kpis["notebook"] == "waiting_times", "value"].tolist() == [3.5]
    executed = nbformat.read(
        pack / "analysts" / "notebooks" / "sampleborough_waiting_times.ipynb", 4
    )
    assert "prepared" not in executed.metadata["papermill"]["parameters"]
    assert json.dumps(executed.metadata["papermill"]["parameters"]).count("Sampleborough") == 1


@pytest.mark.slow
@pytest.mark.parametrize("spec", ONE_AREA_SPECS, ids=lambda s: s.name)
def test_a_notebook_loading_for_itself_publishes_what_the_pack_did(
    spec, sample_report, tmp_path, warm_process
):
    executed = sample_report / "analysts" / "notebooks"
    stem = f"sampleborough_{spec.name}" if spec.scope == "area" else spec.name
    params = nbformat.read(executed / f"{stem}.ipynb", 4).metadata["papermill"]["parameters"]
    # Its own figures and tables only: the pack's record_dir was inside the run's folder.
    alone = {**params, "prepared": "", "kpi_path": str(tmp_path / "kpis.csv"), "record_dir": ""}
    # Its kernel forked from the session's warm process, as the pack's were (the notebook
    # still loads the data itself: "prepared" is blank).
    kernel_dir = kernels.make_kernel_dir()  # short: socket paths have a length limit
    try:
        km = kernels.start_kernel(kernel_dir, spec.path.parent, warm=warm_process)
        execute.run_notebook(
            spec.path, tmp_path / f"{stem}.ipynb", alone, kernel_dir=kernel_dir, km=km
        )
    finally:
        shutil.rmtree(kernel_dir, ignore_errors=True)
    published = pd.read_csv(sample_report / "kpis.csv", dtype=str, keep_default_na=False)
    mine = published[(published["notebook"] == spec.name)].reset_index(drop=True)
    if spec.scope == "area":
        mine = mine[mine["area"] == "Sampleborough"].reset_index(drop=True)
    own = pd.read_csv(tmp_path / "kpis.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(own, mine)


@pytest.mark.slow
def test_record_checks_stores_the_check_output_through_the_runner(tmp_path):
    from tools.record_checks import record

    path = _write_notebook(tmp_path / "mine.ipynb", PARAMS, "x = 6 * 7")
    nb = nbformat.read(path, as_version=4)
    check = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(x)")
    check.metadata["tags"] = ["check"]
    nb.cells.append(check)
    nbformat.write(nb, path)
    record(path)
    stored = nbformat.read(path, as_version=4).cells[-1]
    assert stored.outputs[0]["text"] == "42\n" and stored.execution_count == 1
    assert all(not c.get("outputs") for c in nbformat.read(path, as_version=4).cells[:-1])


def test_a_notebook_handed_the_prepared_data_imports_no_loader_or_model(prepared_file):
    # Lean kernels: what every notebook's set-up imports, with the run's prepared data, pulls in
    # neither pandera (the loader's), nor statsmodels (until a model is fitted), nor seaborn.
    code = (
        "import sys\n"
        "from daanalysis.metrics import actionplan, demand, partnership, staffing\n"
        "from daanalysis.present import charts, disclosure, notebook, page, quality, sources\n"
        "from daanalysis.present import main_points, partnership_tables, tables, words\n"
        f"ctx = notebook.prepare({str(SAMPLE)!r}, 'latest', prepared={str(prepared_file)!r})\n"
        "heavy = ('pandera', 'statsmodels', 'seaborn', 'scipy.stats', 'daanalysis.ingest.load')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
