"""The partnership-activity notebook off the happy path: inputs missing (each section says so in
one line, the others still run) and a council with aggregate returns only."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from daanalysis.pack import report
from tests.conftest import ROOT, SAMPLE

NOTEBOOK = ROOT / "notebooks" / "partnership_activity.ipynb"


def _run(data: Path, tmp_path: Path) -> tuple[str, str]:
    """Execute the notebook on ``data``; return (the check cell's text, every Markdown output)."""
    report.ensure_kernel()
    target = tmp_path / "out.ipynb"
    report.run_notebook(NOTEBOOK, target, {"data_dir": str(data), "quarter": "2026/27 Q2"})
    nb = nbformat.read(target, as_version=4)
    check = [c for c in nb.cells if "check" in c.metadata.get("tags", [])][0]
    texts = [
        "".join(o.get("data", {}).get("text/markdown", ""))
        for c in nb.cells
        for o in c.get("outputs", [])
    ]
    return "".join(o.get("text", "") for o in check.outputs), "\n".join(texts)


@pytest.mark.slow
def test_missing_inputs_switch_off_only_their_sections(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("referrals.csv", "config.csv", "VINTAGE", "population.csv", "sanctuary.csv"):
        shutil.copy(SAMPLE / name, data / name)
    check, shown = _run(data, tmp_path)
    assert "prevention: not shown" in check and "funnel: not shown" in check
    assert "sanctuary: shown" in check and "perpetrators: shown" in check
    assert "No prevention.csv: prevention in schools is not shown." in shown
    assert "No police.csv" in shown


@pytest.mark.slow
def test_aggregate_returns_only(tmp_path, sample_panel):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("config.csv", "VINTAGE", "police.csv", "marac.csv"):
        shutil.copy(SAMPLE / name, data / name)
    panel = sample_panel[sample_panel["area"] == "Sampleborough"]
    returns = panel[["area", "month", "referrals", "self_referrals", "high_risk"]].assign(
        standard_medium_risk=panel["standard_medium_risk"], period=panel["month"].astype(str)
    )
    returns.drop(columns="month").to_csv(data / "returns.csv", index=False)
    (data / "perpetrator_programme.csv").write_text(
        "period,starts,completions,referrals,police_referrals\n"
        "2026/27 Q1,3,1,12,2\n"
        "2026/27 Q2,4,2,10,3\n"
    )
    (data / "sanctuary.csv").write_text(
        "period,cost,properties,stayed_home\n2026/27 Q1,2400,14,12\n2026/27 Q2,2100,12,10\n"
    )
    (data / "prevention.csv").write_text(
        "month,phase,sessions,pupils,schools_engaged\n"
        "2026-04,Primary,12,300,8\n"
        "2026-05,Primary,10,250,9\n"
    )
    check, shown = _run(data, tmp_path)
    assert "schools engaged 2025/26 summer: 9 (nan%)" in check  # at least 9; no register
    assert "police share of perpetrator referrals, all quarters: 22.7%" in check
    assert "properties secured this quarter: 12" in check
    assert "incidents referred this quarter: nan%" in check  # needs record-level referrals
    assert "Police referrals to the service need record-level referrals" in shown
