"""The quarterly run end to end: papermill, HTML export, kpis.csv, failure handling."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pandas as pd
import pytest

from daanalysis import cli
from daanalysis.metrics import staffing
from daanalysis.pack import kernels, notebooks, report
from daanalysis.panel import area_panel
from daanalysis.periods import parse_quarter
from daanalysis.present import notebook
from tests.conftest import ROOT, SAMPLE, command_said

pytestmark = pytest.mark.slow


def test_pack_has_every_part(sample_report):
    assert sample_report.name == "2026-27Q2"
    names = {p.name for p in sample_report.iterdir()}
    # One page per notebook found in notebooks/ (for the sample's one area, or the partnership).
    # A page comparing areas (min_areas 2) is left out of a one-area pack, with a note.
    stems = {
        f"sampleborough_{s.name}" if s.scope == "area" else s.name
        for s in notebooks.discover(report.NOTEBOOK_DIR)
        if s.min_areas <= 1
    }
    assert "area_comparison.html" not in names
    pages = {f"{s}.html" for s in stems}
    assert {"index.html", "kpis.csv", "analysts", *pages} <= names
    # What is for analysts only sits apart from what may be published, with a note saying so.
    analysts = {p.name for p in (sample_report / "analysts").iterdir()}
    assert {"run.log", "ledger.csv", "notebooks", "README.txt"} <= analysts
    assert not {"run.log", "ledger.csv", "notebooks", "schools_not_engaged.csv"} & names
    assert "not for publication" in (sample_report / "analysts" / "README.txt").read_text()
    executed = {p.name for p in (sample_report / "analysts" / "notebooks").iterdir()}
    assert executed == {f"{s}.ipynb" for s in stems}
    index = (sample_report / "index.html").read_text()
    for page in [*(f"{s}.html" for s in stems), "kpis.csv"]:
        assert f'href="{page}"' in index
    assert "Headline figures" in index and "Open cases per caseworker FTE" in index
    log = (sample_report / "analysts" / "run.log").read_text()
    assert "all notebooks succeeded" in log
    assert not list(sample_report.parent.glob(".tmp-*"))
    # Provenance: versions, commit, command line and a checksum of each input file.
    assert "provenance: daanalysis " in log and "provenance: git commit: " in log
    assert "provenance: command line: " in log and "pandas " in log
    assert re.search(r"input referrals\.csv: sha256 [0-9a-f]{64}", log)
    # The row ledger is for analysts: in their folder, never linked from the index.
    assert "ledger.csv" not in index and "analysts/" not in index
    # Kernel folders made by this process (and only those: other processes may run kernels at
    # the same time) were removed with their kernels.
    mine = [
        d
        for d in Path(tempfile.gettempdir()).glob(f"{kernels.KERNEL_DIR_PREFIX}*")
        if (d / kernels.OWNER_FILE).exists()
        and (d / kernels.OWNER_FILE).read_text().strip() == str(os.getpid())
    ]
    assert not mine


def test_html_hides_code_and_carries_header(sample_report):
    for page in sample_report.glob("*_*.html"):
        text = page.read_text()
        assert "notebook.prepare(" not in text and "import pandas" not in text, page.name
        assert 'class="jp-CodeMirrorEditor' not in text and "hl-ipython3" not in text, page.name
        assert "NBVAL_CHECK_OUTPUT" not in text, page.name  # check cells are removed
        assert "Generated " in text and "Synthetic sample data, extract taken" in text, page.name
        assert "Contents" in text and 'href="#Sources"' in text, page.name
        assert 'alt="Chart: ' in text, page.name
        # Every table-of-contents link lands on a heading.
        contents = text.split("Contents", 1)[1].split("</ul>", 1)[0]
        for anchor in re.findall(r'href="#([^"]+)"', contents):
            # Browsers percent-decode a fragment before matching it to an id.
            assert f'id="{unquote(anchor)}"' in text, (page.name, anchor)


def test_no_client_identifier_reaches_any_report(sample_report):
    referrals = pd.read_csv(SAMPLE / "referrals.csv", dtype=str, encoding="cp1252")
    pages = "".join(p.read_text() for p in sample_report.glob("*.html"))
    pages += (sample_report / "kpis.csv").read_text()
    found = set(re.findall(r"\b[CR]\d{6}\b", pages))
    assert not found & set(referrals["client_id"].dropna())
    assert not found & set(referrals["referral_id"].dropna())


def test_kpis_match_the_library(sample_report, sample_extract, sample_panel):
    kpis = pd.read_csv(sample_report / "kpis.csv")
    assert {"demand_vs_reporting", "staffing_gap", "action_plan"} <= set(kpis["notebook"])
    assert set(kpis["quarter"]) == {"2026-27Q2"}
    panel = area_panel(sample_panel, None)
    cl = staffing.caseload_per_fte(panel, sample_extract.config)
    row = staffing.quarter_end(cl, parse_quarter("2026/27 Q2"))
    by_kpi = kpis.set_index("kpi")["value"]
    assert float(by_kpi["Open cases per caseworker FTE"]) == round(row["per_fte"], 1)
    referrals = panel[panel["quarter"] == parse_quarter("2026/27 Q2")]["referrals"].sum()
    assert float(by_kpi["Referrals in quarter"]) == referrals


def test_small_counts_in_kpis_are_suppressed(sample_extract, sample_panel):
    ctx = notebook.Context(
        sample_extract, sample_panel, "Tinyton", parse_quarter("2025/26 Q1"), sample_extract.config
    )
    frame = notebook.write_kpis(
        [
            {"kpi": "Referrals in quarter", "value": 3, "unit": "referrals"},
            {"kpi": "Referrals, change", "value": 3.0, "unit": "%"},
            {"kpi": "Referrals, rolling 12 months", "value": 0, "unit": "referrals"},
        ],
        "",
        ctx,
        "demand_vs_reporting",
    )
    assert frame["value"].tolist() == ["[c]", 3.0, 0]


def test_several_areas_non_default_parameters_and_relative_paths(region_pack):
    # As the README runs it, from the project folder with relative --data and --out; with two
    # areas named, an earlier quarter and one notebook at a time (tests/conftest.py).
    said = command_said(region_pack)
    assert said["code"] == 0, said["err"]
    assert "Report written to" in said["out"]
    data = region_pack / "data"
    final = region_pack / "outputs" / "2025-26Q4"
    kpis = pd.read_csv(final / "kpis.csv")
    assert set(kpis["area"]) == {"Northfield", "St. Easton", "All areas"}
    assert set(kpis["quarter"]) == {"2025-26Q4"}
    # One slug rule: "St. Easton" is st-easton in its pages' names and the front page's links.
    easton = (final / "st-easton_staffing_gap.html").read_text()
    assert "St. Easton, 2025/26 Q4 (Jan-Mar 2026)" in easton
    # Each area's data-quality section counts its own rows (read from the area's prepared file,
    # which still knows the extract's other areas), and says so.
    assert "The tables count the rows of St. Easton" in easton
    # ... and shows the notes about its own figures, not the other area's (conftest plants
    # population estimates for St. Easton that end a year early).
    early = "population.csv has no estimate for St. Easton after"
    assert early in easton
    assert early not in (final / "northfield_staffing_gap.html").read_text()
    assert 'href="st-easton_staffing_gap.html"' in (final / "index.html").read_text()
    executed = nbformat.read(
        final / "analysts" / "notebooks" / "northfield_demand_vs_reporting.ipynb", 4
    )
    injected = next(
        c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert 'quarter = "2025-26Q4"' in injected.source
    assert 'area = "Northfield"' in injected.source
    assert f'data_dir = "{data}"' in injected.source  # made absolute: notebooks run elsewhere
    per_area = kpis[kpis["kpi"] == "Referrals in quarter"].set_index("area")["value"]
    assert per_area["St. Easton"] < per_area["Northfield"]
    # With two areas the pack compares them: funnel plots, a table per measure, every verdict.
    compared = (final / "area_comparison.html").read_text()
    assert 'href="area_comparison.html"' in (final / "index.html").read_text()
    assert "Referrals per 1,000 adults 16+ by area" in compared
    assert "Demand verdict by area" in compared
    assert compared.count('<img alt="Chart: Funnel plot') == 3 and "99.8% limits" in compared
    assert "Northfield" in compared and "St. Easton" in compared
    outside = kpis[kpis["key"].str.startswith("areas_outside_", na=False)]
    assert len(outside) == 3 and set(outside["area"]) == {"All areas"}


def _broken_notebooks(tmp_path, source: str):
    """A notebook folder holding only the staffing page's notebook, with ``source`` run early
    in it: the point of these tests is the runner, which a run of one notebook shows as well as
    a run of every page (and in a fraction of the time)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.read(ROOT / "notebooks" / "staffing_gap.ipynb", 4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, folder / "staffing_gap.ipynb")
    return folder


def test_failure_keeps_last_quarter_and_the_failed_notebook(tmp_path, capsys, warm_process):
    out = tmp_path / "out"
    previous = out / "2026-27Q2"
    previous.mkdir(parents=True)
    (previous / "index.html").write_text("last good pack")
    notebooks = _broken_notebooks(tmp_path, 'raise RuntimeError("caseload table is empty")')
    with pytest.raises(RuntimeError, match="sampleborough_staffing_gap") as err:
        report.run_report(SAMPLE, out, notebook_dir=notebooks, warm=warm_process)
    assert "was not changed" in str(err.value)
    assert (previous / "index.html").read_text() == "last good pack"
    failed = list((out / "failed").glob("2026-27Q2-*"))
    assert len(failed) == 1
    kept = nbformat.read(
        failed[0] / "analysts" / "notebooks" / "sampleborough_staffing_gap.ipynb", 4
    )
    errors = [o for c in kept.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and "caseload table is empty" in errors[0]["evalue"]
    assert "FAILED" in (failed[0] / "analysts" / "run.log").read_text()
    assert not list(out.glob(".tmp-*"))


def test_export_failure_also_keeps_last_quarter(tmp_path, monkeypatch, warm_process):
    from tests.test_kernels import _tiny_notebooks

    out = tmp_path / "out"
    (out / "2026-27Q2").mkdir(parents=True)
    (out / "2026-27Q2" / "index.html").write_text("last good pack")

    def broken_export(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(report, "export_html", broken_export)
    # Notebooks that print one line: the export, not what the pages hold, is the point here.
    notebooks = _tiny_notebooks(tmp_path / "nb")
    with pytest.raises(RuntimeError, match="OSError: No space left on device"):
        report.run_report(SAMPLE, out, notebook_dir=notebooks, warm=warm_process)
    assert (out / "2026-27Q2" / "index.html").read_text() == "last good pack"
    assert len(list((out / "failed").glob("2026-27Q2-*"))) == 1
    assert not list(out.glob(".tmp-*"))


def test_cell_timeout_fails_the_run(tmp_path, warm_process):
    notebooks = _broken_notebooks(tmp_path, "import time\ntime.sleep(60)")
    with pytest.raises(RuntimeError, match="failed") as err:
        report.run_report(
            SAMPLE, tmp_path / "out", notebook_dir=notebooks, execution_timeout=3, warm=warm_process
        )
    assert "sampleborough_staffing_gap (A cell timed out" in str(err.value)
    assert not (tmp_path / "out" / "2026-27Q2").exists()
    # The notebook as far as it got is kept, for the analyst to see where it stopped.
    (failed,) = (tmp_path / "out" / "failed").glob("2026-27Q2-*")
    kept = nbformat.read(failed / "analysts" / "notebooks" / "sampleborough_staffing_gap.ipynb", 4)
    sources = [c.source for c in kept.cells]
    stopped = next(i for i, s in enumerate(sources) if "time.sleep(60)" in s)
    assert kept.cells[stopped - 1].execution_count  # the cells before it ran


def test_command_line_reports_bad_data_clearly(tmp_path, capsys, cli_shares_warm_process):
    code = cli.main(["report", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)])
    assert code == 1
    assert "data folder not found" in capsys.readouterr().err
    code = cli.main(
        ["report", "--data", str(SAMPLE), "--quarter", "2030/31 Q1", "--out", str(tmp_path)]
    )
    assert code == 1
    assert "not a complete quarter in the data" in capsys.readouterr().err


def test_data_quality_sections_show_counts_not_rows(sample_report):
    ledger = pd.read_csv(
        sample_report / "analysts" / "ledger.csv", dtype=str, keep_default_na=False
    )
    assert "Neighbour" in ledger["reason"].str.cat()  # the analyst's file keeps the detail
    pages = [
        sample_report / f"{s.name}.html"
        for s in notebooks.discover(report.NOTEBOOK_DIR)
        if s.min_areas <= 1
    ]
    pages = [p if p.exists() else p.with_name(f"sampleborough_{p.name}") for p in pages]
    for page in pages:
        text = page.read_text()
        section = text.split('id="Data-quality"', 1)[1].split('id="Sources"', 1)[0]
        assert "ledger.csv" in section, page.name
        # No raw values and no row numbers: those identify records.
        for private in ("Neighbour", "31/02/2024", "R0"):
            assert private not in section, (page.name, private)
        assert not re.search(r"\brows? \d", section), page.name
        assert "[c]" in section  # the handful of excluded referrals are suppressed


def test_each_page_is_titled_with_its_area_and_quarter(sample_report):
    page = (sample_report / "sampleborough_staffing_gap.html").read_text(encoding="utf-8")
    (heading,) = re.findall(r"<h1[^>]*>(.*?)</h1>", page, flags=re.S)
    text = re.sub(r"<[^>]+>", "", heading)
    assert text.startswith("Staffing gap: Sampleborough, 2026/27 Q2 (Jul-Sep 2026)")


def test_a_page_exported_twice_from_the_same_notebook_is_the_same(tmp_path):
    """The cells a run adds (the page's frame, papermill's parameters) have fixed ids, so two
    runs on the same data give the same page: nbformat gave them random ids, which the HTML
    carries (``cell-id=...``)."""
    from daanalysis.pack.export import export_html

    pages = []
    for run in (1, 2):
        parameters = nbformat.v4.new_code_cell('area = ""', id="params")
        parameters.metadata["tags"] = ["parameters"]
        # As papermill injects the run's parameters: a new cell, so a new random id each run.
        injected = nbformat.v4.new_code_cell('area = "Ayton"')
        injected.metadata["tags"] = ["injected-parameters"]
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# A page", id="title"), parameters, injected]
        executed = tmp_path / f"run{run}.ipynb"
        nbformat.write(nb, executed)
        export_html(executed, tmp_path / f"run{run}.html", "A page", "2026/27 Q2")
        pages.append((tmp_path / f"run{run}.html").read_text(encoding="utf-8"))
    ids = re.findall(r"cell-id=([\w-]+)", pages[0])
    assert ids == ["da-page-nav", "title", "da-page-subtitle", "params", "injected-parameters"]
    assert pages[0] == pages[1]
