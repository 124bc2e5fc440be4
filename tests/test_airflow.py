"""The shipped Airflow DAG (daanalysis.airflow, issue 22).

The first tests need no Airflow: the plan, the command line, the run of one area's command and the
roll-up are plain functions. The others run the DAG for real with ``airflow dags test``: on a
three-area synthetic extract, on two councils' extracts (one alerting, one broken) and on an area
stopped by a timeout; they need Apache Airflow 3 in this environment, which the quick suite's
``.venv`` does not have, so there they are skipped with that reason. CI runs them in
their own environment (``tools/airflow_test.sh``, from ``.ci/run``), with
``DAANALYSIS_REQUIRE_AIRFLOW=1``, under which a missing Airflow fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from daanalysis import airflow as da_airflow
from daanalysis.airflow import (
    ALERT,
    COMPARED,
    COMPARISON_DIR,
    COMPARISON_FAILED,
    COMPARISON_NOTE,
    FAILED,
    NOT_RUN,
    ROLL_UP_DIR,
    WRITTEN,
    area_command,
    compare_areas,
    pack_dag,
    plan_areas,
    roll_up_problems,
    run_area,
    summarise,
)
from daanalysis.ingest.extract import DataContractError
from daanalysis.synthetic.sample import write_sample
from tests.conftest import SAMPLE

TODAY = "2026-12-01"  # the sample's last complete quarter is then 2026/27 Q2 (Jul-Sep 2026)
THREE_AREAS = {"Northtown": 1.0, "St. Helens": 0.6, "East Vale": 0.4}


def test_clear_error_when_airflow_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "airflow", None)  # import airflow now raises ImportError
    monkeypatch.setitem(sys.modules, "airflow.sdk", None)
    with pytest.raises(ImportError, match=r"needs Apache Airflow 3 .*constraints file"):
        pack_dag(SAMPLE, "/tmp/unused")


def test_importing_the_module_needs_neither_airflow_nor_pandas():
    """Airflow parses DAG files every few seconds: the module's own import stays light."""
    code = (
        "import sys; import daanalysis.airflow; "
        "print(sorted(m for m in ('airflow', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_plan_of_one_extract_checks_it_and_lists_its_areas(tmp_path):
    jobs = plan_areas(SAMPLE, tmp_path / "out", quarter="latest", today=TODAY)
    assert jobs == [
        {
            "area": "Sampleborough",
            "data": str(SAMPLE.resolve()),
            "select": True,
            "quarter": "2026-27Q2",
            "out": str((tmp_path / "out" / "sampleborough").resolve()),
        }
    ]
    with pytest.raises(DataContractError, match="'Nowhere' is not in"):
        plan_areas(SAMPLE, tmp_path / "out", areas=["Nowhere"], today=TODAY)


def test_plan_of_one_extract_per_council_reads_no_extract(tmp_path):
    missing = tmp_path / "not-yet-landed"  # its own task reports it, not the plan
    jobs = plan_areas({"North East": SAMPLE, "St. Helens": missing}, tmp_path, today=TODAY)
    assert [(j["area"], j["select"], j["quarter"], Path(j["out"]).name) for j in jobs] == [
        ("North East", False, "2026-27Q2", "north-east"),
        ("St. Helens", False, "2026-27Q2", "st-helens"),
    ]
    # "latest" on 1 April is the quarter that ended the day before.
    assert plan_areas({"A": SAMPLE}, tmp_path, today="2027-04-01")[0]["quarter"] == "2026-27Q4"
    with pytest.raises(DataContractError, match="would both be written"):
        plan_areas({"St Helens": SAMPLE, "St. Helens": SAMPLE}, tmp_path, today=TODAY)


def test_area_command_is_the_single_run_command():
    job = {"area": "St. Helens", "data": "/d", "select": True, "quarter": "2026-27Q2", "out": "/o"}
    assert area_command(job, ["daanalysis"], True, TODAY, ["--pdf"]) == [
        *["daanalysis", "report", "--data", "/d", "--area", "St. Helens"],
        *["--quarter", "2026-27Q2", "--out", "/o", "--today", TODAY, "--fail-on-alert", "--pdf"],
    ]
    council = {**job, "select": False}
    assert "--area" not in area_command(council, ["daanalysis"])
    assert area_command(council)[:3] == [sys.executable, "-m", "daanalysis"]


def test_run_area_reads_the_commands_last_lines():
    script = (
        "import sys; print('report for 2026/27 Q2'); "
        "print('Report written to /p/2026-27Q2/index.html'); "
        "print('ALERT A: 40.7 open cases per FTE', file=sys.stderr); sys.exit(3)"
    )
    echoed: list[str] = []
    result = run_area([sys.executable, "-c", script], echo=echoed.append)
    assert result == {
        "exit_code": 3,
        "pack": "/p/2026-27Q2",
        "alerts": ["A: 40.7 open cases per FTE"],
    }
    assert echoed[0] == "report for 2026/27 Q2"  # the task log gets every line


def test_run_area_stopped_stops_the_command_and_keeps_its_last_words():
    """Airflow stopping the task (a timeout) reaches run_area as an exception: the command gets
    SIGTERM, as from a scheduler, and what it prints then still reaches the task log."""
    script = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    print('daanalysis report: stopped (SIGTERM)', flush=True)\n"
        "    sys.exit(143)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    echoed: list[str] = []

    def echo(line: str) -> None:
        echoed.append(line)
        if line == "started":
            raise TimeoutError("the task's execution_timeout")

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run_area([sys.executable, "-c", script], echo=echo)
    assert echoed == ["started", "daanalysis report: stopped (SIGTERM)"]
    assert time.monotonic() - started < 30  # stopped, not waited for


def _fake_pack(folder: Path, area: str, fired: bool) -> str:
    folder.mkdir(parents=True)
    pd.DataFrame({"area": [area, area], "kpi": ["Referrals", "MARAC"], "value": [451, 12]}).to_csv(
        folder / "kpis.csv", index=False
    )
    status = "fired" if fired else "clear"
    pd.DataFrame({"area": [area], "rule": ["caseload"], "status": [status]}).to_csv(
        folder / "alerts.csv", index=False
    )
    return str(folder)


@pytest.mark.slow
def test_roll_up_makes_the_comparison_page_from_the_region_extract(tmp_path):
    """The roll-up of a region in one extract holds the cross-area comparison page, its front
    page and spreadsheet, made by the command itself from the extract (no Airflow needed),
    with the public benchmarks supplied drawn on it."""
    region = tmp_path / "region"
    write_sample(region, areas=THREE_AREAS, benchmarks=True)
    jobs = plan_areas(region, tmp_path / "out", today=TODAY)
    echoed: list[str] = []

    def compare(work: Path) -> str:
        return compare_areas(jobs, work, today=TODAY, echo=echoed.append)

    folder = summarise(tmp_path / "out", jobs, {}, compare)
    said = (folder / COMPARISON_NOTE).read_text(encoding="utf-8")
    assert said.startswith(COMPARED), said + "\n".join(echoed[-20:])
    pack = folder / COMPARISON_DIR
    page = (pack / "area_comparison.html").read_text(encoding="utf-8")
    for area in THREE_AREAS:
        assert area in page
    assert "Synthetic national figure" in page and "Public benchmarks" in page
    assert (pack / "index.html").exists()
    assert len(list((pack / "downloads").glob("*.xlsx"))) == 1
    assert (pack / "analysts" / "run.log").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [COMPARISON_NOTE, COMPARISON_DIR, "summary.csv"]
    )
    # The areas themselves never ran here: those are the roll-up's only problems.
    problems = roll_up_problems(folder)
    assert len(problems) == 3 and not any("comparison" in p for p in problems)


def test_no_comparison_for_one_extract_per_council_or_one_area(tmp_path):
    never = ["/bin/false"]  # would fail if it were run
    councils = plan_areas({"A": tmp_path / "a", "B": tmp_path / "b"}, tmp_path, today=TODAY)
    assert compare_areas(councils, tmp_path, never).startswith(
        "not made: each council has its own extract"
    )
    one = plan_areas(SAMPLE, tmp_path, today=TODAY)
    assert compare_areas(one, tmp_path, never) == "not made: a comparison needs two areas or more"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_comparison_fails_the_roll_up_and_leaves_nothing_half_made(tmp_path):
    jobs = [
        {"area": a, "data": "/d", "select": True, "quarter": "2026-27Q2", "out": str(tmp_path / a)}
        for a in ("North", "South")
    ]
    results = {
        a: {"exit_code": 0, "pack": _fake_pack(tmp_path / a.lower(), a, False), "alerts": []}
        for a in ("North", "South")
    }
    broken = [sys.executable, "-c", "import sys; print('the extract is gone'); sys.exit(1)"]
    echoed: list[str] = []
    folder = summarise(
        tmp_path, jobs, results, lambda work: compare_areas(jobs, work, broken, echo=echoed.append)
    )
    assert echoed == ["the extract is gone"]
    said = (folder / COMPARISON_NOTE).read_text(encoding="utf-8")
    assert said.startswith(f"{COMPARISON_FAILED}: daanalysis report exited 1")
    assert roll_up_problems(folder) == [said.strip()]
    assert not (folder / COMPARISON_DIR).exists()
    assert not any(p.name.startswith(".") for p in folder.iterdir())


def test_roll_up_says_what_each_area_did(tmp_path):
    jobs = [
        {"area": a, "data": "/d", "select": True, "quarter": "2026-27Q2", "out": str(tmp_path / a)}
        for a in ("Clear", "Alerting", "Broken", "Unstarted")
    ]
    results = {
        "Clear": {"exit_code": 0, "pack": _fake_pack(tmp_path / "c", "Clear", False), "alerts": []},
        "Alerting": {
            "exit_code": 3,
            "pack": _fake_pack(tmp_path / "a", "Alerting", True),
            "alerts": ["Alerting: caseload"],
        },
        # A failed run prints no pack line; an old pack of its own must not be listed.
        "Broken": {"exit_code": 1, "pack": "", "alerts": []},
    }
    folder = summarise(tmp_path, jobs, results)
    assert folder == tmp_path / ROLL_UP_DIR / "2026-27Q2"
    summary = pd.read_csv(folder / "summary.csv", keep_default_na=False)
    assert summary[["area", "status", "exit_code", "alerts_fired"]].values.tolist() == [
        ["Clear", WRITTEN, "0", 0],  # text: the column holds "" for an area not run
        ["Alerting", ALERT, "3", 1],
        ["Broken", FAILED, "1", 0],
        ["Unstarted", NOT_RUN, "", 0],
    ]
    assert summary["pack"].tolist()[2:] == ["", ""]
    kpis = pd.read_csv(folder / "kpis.csv")
    assert kpis["area"].tolist() == ["Clear", "Clear", "Alerting", "Alerting"]
    assert pd.read_csv(folder / "alerts.csv")["status"].tolist() == ["clear", "fired"]
    assert roll_up_problems(folder) == ["Broken: failed (exit 1)", f"Unstarted: {NOT_RUN}"]
    assert roll_up_problems(folder, fail_on_alert=True)[-1] == "Alerting: 1 alert(s) fired"
    # A second roll-up of the same quarter replaces the first whole.
    again = summarise(tmp_path, jobs[:1], {"Clear": results["Clear"]})
    assert len(pd.read_csv(again / "summary.csv")) == 1
    assert sorted(p.name for p in (tmp_path / ROLL_UP_DIR).iterdir()) == ["2026-27Q2"]


# --- the DAG in Airflow ----------------------------------------------------------------------

HAVE_AIRFLOW = importlib.util.find_spec("airflow") is not None
if not HAVE_AIRFLOW and os.environ.get("DAANALYSIS_REQUIRE_AIRFLOW") == "1":
    raise RuntimeError("DAANALYSIS_REQUIRE_AIRFLOW=1 but Apache Airflow is not installed here")
needs_airflow = pytest.mark.skipif(
    not HAVE_AIRFLOW,
    reason="Apache Airflow 3 is not installed in this environment; CI runs these tests in "
    ".venv-airflow (tools/airflow_test.sh)",
)

DAG_FILE = """
from daanalysis.airflow import pack_dag

# Three areas of one regional extract, read from it.
region = pack_dag({data!r}, {out!r}, today="{today}", retries=0)
# One extract per council; the second one is broken, and alerts fail their task.
councils = pack_dag(
    {{"Sampleborough": {sample!r}, "Broken": {broken!r}}},
    {out2!r},
    dag_id="daanalysis_councils",
    today="{today}",
    fail_on_alert=True,
    retries=1,
    retry_delay=__import__("datetime").timedelta(0),
)
# No date given: "latest" is judged from the run's date. A timeout stops the area's run, in
# the middle of a notebook that takes a minute (so the stop never comes after the pack is done).
stopped = pack_dag(
    {{"Sampleborough": {sample!r}}},
    {out3!r},
    dag_id="daanalysis_stopped",
    retries=0,
    report_args=("--notebooks", {slow!r}),
    default_args={{"execution_timeout": __import__("datetime").timedelta(seconds=8)}},
)
"""


def _slow_notebooks(folder: Path) -> Path:
    """A folder with one pack notebook that sleeps for a minute."""
    import nbformat

    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('quarter = "latest"\ndata_dir = ""\narea = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Slow"), params]
    nb.cells.append(nbformat.v4.new_code_cell("import time\n\ntime.sleep(60)"))
    nb.metadata["kernelspec"] = {"name": "daanalysis", "display_name": "Python (daanalysis)"}
    nbformat.write(nb, folder / "slow.ipynb")
    return folder


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    """An Airflow home of its own (SQLite), a DAG folder with the file above, and the data."""
    root = tmp_path_factory.mktemp("airflow")
    write_sample(root / "region", areas=THREE_AREAS)
    broken = root / "broken"
    broken.mkdir()
    (broken / "referrals.csv").write_text("not,a,referrals,extract\n1,2,3,4\n", encoding="utf-8")
    dags = root / "dags"
    dags.mkdir()
    (dags / "packs.py").write_text(
        DAG_FILE.format(
            data=str(root / "region"),
            out=str(root / "out"),
            sample=str(SAMPLE),
            broken=str(broken),
            out2=str(root / "out2"),
            out3=str(root / "out3"),
            slow=str(_slow_notebooks(root / "slow")),
            today=TODAY,
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(root / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    return root, env, airflow


def _dags_test(
    airflow_home, dag_id: str, *when: str
) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """``airflow dags test DAG [DATE]`` and the states of its task instances."""
    root, env, airflow = airflow_home
    done = subprocess.run(
        [airflow, "dags", "test", dag_id, *when],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    (root / f"{dag_id}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    runs = subprocess.run(
        [airflow, "dags", "list-runs", dag_id, "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    run_id = _json(runs.stdout)[0]["run_id"]
    states = subprocess.run(
        [airflow, "tasks", "states-for-dag-run", dag_id, run_id, "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done, _json(states.stdout)


def _json(stdout: str) -> list[dict]:
    """The JSON table an ``airflow ... -o json`` command printed (warnings may come first)."""
    return json.loads([line for line in stdout.splitlines() if line.startswith("[")][-1])


@needs_airflow
@pytest.mark.slow
def test_dag_packs_three_areas_and_rolls_them_up(airflow_home):
    root = airflow_home[0]
    done, states = _dags_test(airflow_home, "daanalysis_packs")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    packs = {s["map_index"]: s["state"] for s in states if s["task_id"] == "pack"}
    assert sorted(packs.values()) == ["success"] * 3, states
    assert {s["task_id"]: s["state"] for s in states if s["task_id"] != "pack"} == {
        "plan": "success",
        "roll_up": "success",
    }
    for area in ("northtown", "st-helens", "east-vale"):
        pack = root / "out" / area / "2026-27Q2"
        assert (pack / "index.html").exists(), area
        assert (pack / "alerts.csv").exists() and (pack / "kpis.csv").exists()
        assert not any(p.name.startswith(".tmp-") for p in (root / "out" / area).iterdir())
    rolled = root / "out" / ROLL_UP_DIR / "2026-27Q2"
    # The roll-up's comparison of the three areas, from the region's extract.
    assert (rolled / COMPARISON_NOTE).read_text().startswith(COMPARED)
    assert (rolled / COMPARISON_DIR / "area_comparison.html").exists()
    assert len(list((rolled / COMPARISON_DIR / "downloads").glob("*.xlsx"))) == 1
    summary = pd.read_csv(rolled / "summary.csv", keep_default_na=False)
    assert sorted(summary["area"]) == sorted(THREE_AREAS)
    assert set(summary["status"]) <= {WRITTEN, ALERT} and set(summary["exit_code"]) == {0}
    kpis = pd.read_csv(rolled / "kpis.csv", keep_default_na=False)
    assert sorted(set(kpis["area"])) == sorted(THREE_AREAS)
    # The stacked tables are each area's own, row for row (nothing recomputed).
    for row in summary.itertuples():
        own = pd.read_csv(Path(row.pack) / "alerts.csv", keep_default_na=False)
        assert row.alerts_fired == (own["status"] == "fired").sum()
        mine = kpis[kpis["area"] == row.area].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            mine, pd.read_csv(Path(row.pack) / "kpis.csv", keep_default_na=False)
        )


@needs_airflow
@pytest.mark.slow
def test_dag_fails_an_alerting_area_and_a_broken_one_each_on_its_own(airflow_home):
    root = airflow_home[0]
    done, states = _dags_test(airflow_home, "daanalysis_councils")
    log = done.stdout + done.stderr
    by_task = {(s["task_id"], s["map_index"]): s["state"] for s in states}
    assert by_task[("plan", "")] == "success"
    assert sorted(v for (t, _), v in by_task.items() if t == "pack") == ["failed", "failed"]
    assert by_task[("roll_up", "")] == "failed"  # it ran (all_done) and marks the run failed
    # The alerting area's pack was written (exit 3) and it was not retried; the broken extract
    # failed with the run's own message and was retried once.
    assert (root / "out2" / "sampleborough" / "2026-27Q2" / "index.html").exists()
    assert not (root / "out2" / "broken" / "2026-27Q2").exists()
    assert log.count("--out " + str(root / "out2" / "sampleborough")) == 1, log[-3000:]
    assert log.count("--out " + str(root / "out2" / "broken")) == 2, log[-3000:]
    summary = pd.read_csv(
        root / "out2" / ROLL_UP_DIR / "2026-27Q2" / "summary.csv", keep_default_na=False
    )
    got = {r.area: (r.status, r.exit_code) for r in summary.itertuples()}
    assert got == {"Sampleborough": (ALERT, 3), "Broken": (FAILED, 1)}
    assert "staffing alert(s) fired" in log


def test_module_is_documented_in_scheduling_md():
    text = (Path(__file__).resolve().parents[1] / "docs" / "scheduling.md").read_text()
    assert "daanalysis.airflow" in text and "pack_dag(" in text
    assert "def slug(" not in text  # the one slug rule is daanalysis.names
    assert da_airflow.ROLL_UP_DIR in text


@needs_airflow
def test_the_dags_in_scheduling_md_build():
    """Every example in docs/scheduling.md that calls pack_dag builds a DAG with the three tasks
    (paths are read only when the DAG runs, so /secure/... need not exist)."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "scheduling.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "pack_dag(" in b]
    assert len(blocks) >= 3
    for block in blocks:
        names: dict = {}
        exec("from daanalysis.airflow import pack_dag\n" + block, names)  # noqa: S102
        assert sorted(names["dag"].task_ids) == ["pack", "plan", "roll_up"]


@needs_airflow
@pytest.mark.slow
def test_dag_judges_latest_from_the_runs_date_and_a_stopped_area_cleans_up(airflow_home):
    root = airflow_home[0]
    # On 1 August 2026 the last complete quarter is 2026/27 Q1 (today it is a later one).
    done, states = _dags_test(airflow_home, "daanalysis_stopped", "2026-08-01")
    by_task = {(s["task_id"], s["map_index"]): s["state"] for s in states}
    assert by_task == {("plan", ""): "success", ("pack", "0"): "failed", ("roll_up", ""): "failed"}
    summary = pd.read_csv(
        root / "out3" / ROLL_UP_DIR / "2026-27Q1" / "summary.csv", keep_default_na=False
    )
    assert summary[["area", "status", "exit_code"]].values.tolist() == [
        ["Sampleborough", da_airflow.STOPPED, 143]
    ]
    # The run was stopped by SIGTERM: no pack, and none of its files left behind.
    area = root / "out3" / "sampleborough"
    assert not (area / "2026-27Q1").exists()
    assert [p.name for p in area.iterdir() if p.name != ".daanalysis.lock"] == []
    assert "stopped (SIGTERM)" in done.stdout + done.stderr
