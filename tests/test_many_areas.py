"""Many areas in one extract: the verdict command spreads areas over processes and gives the
same verdicts, in the same order, as one process."""

from __future__ import annotations

import pytest

from daanalysis import cli
from daanalysis.synthetic.sample import write_sample

pytestmark = pytest.mark.slow


def test_verdicts_over_processes_equal_one_process(tmp_path, monkeypatch):
    # Three areas through the process path (the threshold lowered to them) test the same
    # splitting and ordering as the eight that reach it in use, with a third of the fits.
    monkeypatch.setattr(cli, "PARALLEL_FROM", 3)
    areas = {f"Area {i:02d}": 0.3 + 0.2 * i for i in range(3)}
    write_sample(tmp_path, areas=areas)
    together = cli.verdicts(tmp_path, [])
    monkeypatch.setattr(cli, "PARALLEL_FROM", 10**6)
    alone = cli.verdicts(tmp_path, [])
    assert [v.area for v in together] == sorted(areas)
    assert cli.as_json(together) == cli.as_json(alone)


def test_page_export_checks_the_notebook_once_and_still_refuses_an_invalid_one(
    tmp_path, monkeypatch
):
    """Each page's export checks the notebook against its schema once, after the last
    preprocessor, not after each (issue 22: a fifth of a page's export); a notebook that is
    not valid still stops the export."""
    import nbformat
    from nbconvert.exporters.exporter import Exporter

    from daanalysis.pack.export import export_html, page_exporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A page"),
        nbformat.v4.new_code_cell(
            "print(1)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")]
        ),
    ]
    executed = tmp_path / "page.ipynb"
    nbformat.write(nb, executed)
    checks = []
    check = Exporter._validate_preprocessor
    monkeypatch.setattr(
        Exporter, "_validate_preprocessor", lambda self, *a: checks.append(1) or check(self, *a)
    )
    exporter = page_exporter()
    assert len(exporter._preprocessors) > 1
    export_html(executed, tmp_path / "page.html", "A page", "Q2", exporter=exporter)
    assert checks == [1]
    assert "A page" in (tmp_path / "page.html").read_text(encoding="utf-8")

    # A preprocessor that leaves the notebook invalid: the export stops.
    def breaks(notebook, resources):
        code = next(c for c in notebook.cells if c.cell_type == "code")
        code.outputs[0]["output_type"] = "not an output type"
        return notebook, resources

    exporter.register_preprocessor(breaks, enabled=True)
    with pytest.raises(nbformat.ValidationError):
        export_html(executed, tmp_path / "broken.html", "A page", "Q2", exporter=exporter)


def test_a_run_switches_threads_every_millisecond_and_then_as_before(tmp_path, monkeypatch):
    """While a run lasts, a thread waiting for Python's lock (one handling a kernel's
    messages) gets it within 1 ms, not Python's 5 ms (issue 22); afterwards, as before."""
    import sys

    from daanalysis.pack import report

    seen = []
    monkeypatch.setattr(
        report, "_run_locked", lambda *args: seen.append(sys.getswitchinterval()) or tmp_path
    )
    before = sys.getswitchinterval()
    report.run_report(tmp_path / "data", tmp_path / "out")
    assert seen == [pytest.approx(report.THREAD_SWITCH_S)] and before > report.THREAD_SWITCH_S
    assert sys.getswitchinterval() == before
