"""The runner's safeguards, without running notebooks: clear errors, one run per folder,
leftovers of killed runs, provenance and page names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

from daanalysis import cli
from daanalysis.ingest.load import DataContractError
from daanalysis.pack import kernels, plan, report, run
from daanalysis.pack.notebooks import discover
from tests.conftest import ROOT, SAMPLE


def test_bad_today_is_a_usage_error_not_a_traceback(capsys, cli_shares_warm_process):
    with pytest.raises(SystemExit) as stop:
        cli.main(["report", "--data", str(SAMPLE), "--today", "2026-13-01"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "'2026-13-01' is not a date: write it as yyyy-mm-dd" in err
    assert "Traceback" not in err
    with pytest.raises(ValueError, match="is not a date"):
        report.run_report(SAMPLE, "unused", today="28/11/2026")


def test_out_that_is_a_file_is_named(tmp_path, capsys, cli_shares_warm_process):
    target = tmp_path / "outputs"
    target.write_text("not a folder")
    assert cli.main(["report", "--data", str(SAMPLE), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"--out {target} is a file, not a folder" in err and "Traceback" not in err


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_out_is_named(tmp_path, capsys):
    target = tmp_path / "outputs"
    target.mkdir()
    target.chmod(0o500)
    try:
        assert cli.main(["report", "--data", str(SAMPLE), "--out", str(target)]) == 1
    finally:
        target.chmod(0o700)
    assert "cannot be written to" in capsys.readouterr().err


def test_second_run_into_the_same_out_stops_clearly(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(out / run.LOCK_FILE), pytest.raises(report.RunError) as err:
        report.run_report(SAMPLE, out)
    assert "Another daanalysis run is writing to" in str(err.value)
    assert sorted(p.name for p in out.iterdir()) == [run.LOCK_FILE]  # nothing mixed in


def test_data_error_gives_one_line_and_keeps_the_traceback_in_run_log(
    tmp_path, capsys, cli_shares_warm_process
):
    data = tmp_path / "data"
    data.mkdir()
    (data / "police.csv").write_text("month,da_incidents,da_crimes\n2024-01,1,1\n")
    out = tmp_path / "out"
    assert cli.main(["report", "--data", str(data), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "neither referrals.csv/.xlsx" in err and "Traceback" not in err
    kept = list((out / "failed").glob("run-*"))
    assert len(kept) == 1
    log = (kept[0] / "analysts" / "run.log").read_text()
    assert "Traceback" in log and "provenance: input police.csv: sha256" in log
    assert not list(out.glob(".tmp-*"))


def test_leftovers_of_a_killed_run_are_tidied(tmp_path):
    out = tmp_path / "out"
    (out / ".tmp-0123abcd").mkdir(parents=True)
    (out / ".tmp-0123abcd" / "run.log").write_text("interrupted")
    # Killed between setting last quarter's pack aside and moving the new one in.
    (out / ".old~2026-27Q1~beef").mkdir()
    (out / ".old~2026-27Q1~beef" / "index.html").write_text("last good pack")
    # Killed after the new pack was in place: the old copy is just litter.
    (out / "2026-27Q2").mkdir()
    (out / ".old~2026-27Q2~cafe").mkdir()
    notes = run.remove_leftovers(out)
    assert len(notes) == 3
    assert sorted(p.name for p in out.iterdir()) == ["2026-27Q1", "2026-27Q2"]
    assert (out / "2026-27Q1" / "index.html").read_text() == "last good pack"


def test_stale_kernel_folders_are_removed_live_ones_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    stale = tmp_path / f"{kernels.KERNEL_DIR_PREFIX}stale"
    stale.mkdir()
    (stale / kernels.OWNER_FILE).write_text(dead)
    (stale / "k1.json").write_text("{}")
    live = tmp_path / f"{kernels.KERNEL_DIR_PREFIX}live"
    live.mkdir()
    (live / kernels.OWNER_FILE).write_text(str(os.getppid()))
    foreign = tmp_path / f"{kernels.KERNEL_DIR_PREFIX}foreign"  # no owner file: not ours to judge
    foreign.mkdir()
    if os.name == "nt":
        pytest.skip("no liveness probe on Windows")
    assert kernels.remove_stale_kernel_dirs(tmp_path) == [stale]
    assert live.exists() and foreign.exists() and not stale.exists()


def test_kernel_settings_keep_files_in_the_private_folder(tmp_path):
    config = kernels.kernel_config(tmp_path, "k1")
    settings = config["KernelManager"]
    assert settings["connection_file"] == str(tmp_path / "k1.json")
    if os.name != "nt":
        assert settings["transport"] == "ipc"
    folder = kernels.make_kernel_dir()
    try:
        assert (folder.stat().st_mode & 0o777) == 0o700  # no other user can reach the sockets
        assert (folder / kernels.OWNER_FILE).read_text() == str(os.getpid())
    finally:
        shutil.rmtree(folder)


def test_provenance_names_versions_commit_and_input_checksums():
    lines = run.provenance(SAMPLE)
    text = "\n".join(lines)
    assert lines[0].startswith("daanalysis ")
    assert "git commit: " in text and "Python 3." in text and "pandas " in text
    assert "command line: " in text
    for name in ("referrals.csv", "config.csv", "VINTAGE"):
        assert f"input {name}: sha256 " in text


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        (["North East", "North-East"], "'North East' and 'North-East' would both be written"),
        (["***"], "has no letters or digits"),
    ],
)
def test_area_page_names_must_not_collide(areas, message):
    with pytest.raises(DataContractError, match=message):
        plan.check_page_names(areas)


def test_misspelt_area_is_named(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    (data / "population.csv").unlink()  # without population.csv any area in referrals counts
    text = (data / "referrals.csv").read_bytes().decode("cp1252").splitlines()
    last = text[1].replace("Sampleborough", "Sampleborogh")
    (data / "referrals.csv").write_bytes(
        "\n".join([*text, last.replace(",C0", ",C9", 1).replace("R0", "R9", 1)]).encode("cp1252")
    )
    with pytest.raises(DataContractError, match=r"Area 'Sampleborogh' \(1 row\(s\) of referrals\)"):
        plan.plan_jobs(data, "latest", [], "")


def test_header_only_staffing_leaves_out_only_the_staffing_page(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    header = (SAMPLE / "staffing.csv").read_text().splitlines()[0]
    (data / "staffing.csv").write_text(header + "\n")
    planned = plan.plan_jobs(data, "latest", [], "")
    every = {spec.name for spec in discover(report.NOTEBOOK_DIR) if spec.min_areas <= 1}
    assert {j.notebook for j in planned.jobs} == every - {"staffing_gap"}
    assert any("staffing gap are not available" in n for n in planned.extract.notes)
    assert planned.skipped == [
        f"Sampleborough: no rows in staffing ({data}), so the page 'Staffing gap' is left out",
        "The page 'Areas compared' needs 2 areas or more and this run covers 1, so it is left out",
    ]
    # Only the missing table is a gap in the data the front page names.
    assert [line.split(":")[0] for line in planned.left_out] == ["Staffing gap for Sampleborough"]


def test_lowered_suppression_is_announced_on_every_page(tmp_path, monkeypatch, warm_process):
    # The run's orchestration without notebooks: every page gets the run's subtitle.
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    settings = pd.read_csv(data / "config.csv", dtype=str, keep_default_na=False)
    changed = {"suppression_threshold": "3", "allow_low_suppression": "yes"}
    settings = settings[~settings["key"].isin(changed)]
    extra = pd.DataFrame({"key": list(changed), "value": list(changed.values())})
    pd.concat([settings, extra]).to_csv(data / "config.csv", index=False)
    subtitles = []
    monkeypatch.setattr(report, "run_jobs", lambda *a, **k: [])
    monkeypatch.setattr(
        report, "export_html", lambda nb, target, title, subtitle: subtitles.append(subtitle)
    )
    monkeypatch.setattr(
        report,
        "write_front_page",
        lambda folder, pages, heading, subtitle, kpis, *a, **k: (
            subtitles.append(subtitle),
            (folder / "index.html").write_text("<html><head></head><body></body></html>"),
        ),
    )
    final = report.run_report(data, tmp_path / "out", warm=warm_process)
    assert subtitles and all("suppression lowered to counts below 3" in s for s in subtitles)
    assert "Content-Security-Policy" in (final / "index.html").read_text()
    ledger = (final / "analysts" / "ledger.csv").read_text()
    assert ledger.startswith("table,file,row,area,status,reason")


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="process groups and SIGKILL are POSIX")
def test_a_killed_run_leaves_nothing_the_next_run_does_not_tidy(tmp_path):
    import signal
    import tempfile
    import time

    out = tmp_path / "out"
    command = [sys.executable, "-m", "daanalysis", "report", "--data", str(SAMPLE)]
    proc = subprocess.Popen(
        [*command, "--out", str(out), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its kernels share its process group, or (forked) exit with the warm process, which
        # exits when the killed runner stops writing to it.
        start_new_session=True,
    )
    mine = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        mine and list(out.glob(".tmp-*/analysts/notebooks/*"))
    ):
        time.sleep(0.2)
        mine = [
            d
            for d in Path(tempfile.gettempdir()).glob(f"{kernels.KERNEL_DIR_PREFIX}*")
            if (d / kernels.OWNER_FILE).exists()
            and (d / kernels.OWNER_FILE).read_text().strip() == str(proc.pid)
        ]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert mine, "the run never started a kernel"
    assert list(out.glob(".tmp-*"))  # the killed run's work folder is left behind...
    notes = run.remove_leftovers(out)
    removed = kernels.remove_stale_kernel_dirs()
    assert not list(out.glob(".tmp-*")) and notes  # ...and tidied, with a note, by the next run
    assert set(mine) <= set(removed) and not any(d.exists() for d in mine)


def test_the_test_command_leaves_the_study_and_full_tests_to_ci(monkeypatch):
    # `tasks.py test` stays quick by leaving out the small simulation study and the further whole
    # packs; they must then run in `tasks.py validate` and `tasks.py test -m full`, and CI must
    # run all three, so that no test runs nowhere.
    import tasks

    calls = []
    monkeypatch.setattr(tasks, "ensure_environment", lambda: None)
    monkeypatch.setattr(tasks, "run", lambda *args: calls.append(args))
    tasks.main(["test", "-q"])
    tasks.main(["test", "-m", "slow", "-n", "0"])
    tasks.main(["validate", "--check"])
    pytest_calls = [c for c in calls if c[1:3] == ("-m", "pytest")]
    assert pytest_calls[0][3:] == (
        "-n", "2", "--dist", "loadfile", "-m", "not study and not full", "-q"
    )  # fmt: skip
    # Markers and the number of workers chosen by the caller are kept.
    assert pytest_calls[1][3:] == ("-m", "slow", "-n", "0")
    assert pytest_calls[2][4:6] == ("-m", "study")
    # The test command checks lint and format before any test.
    ruff = [c[1:] for c in calls if c[0].endswith(("ruff", "ruff.exe"))]
    assert ruff[:2] == [("check", "."), ("format", "--check", ".")]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert 'python3 tasks.py validate --check --out "$results"' in ci
    assert "python3 tasks.py test" in ci
    assert "python3 tasks.py test -m full" in ci
    # The README's command closes CI's output: its summary is the last pytest summary printed.
    assert ci[-1] == "python3 tasks.py test"
    # The study tests exist and carry the marker (a marker on nothing would hide nothing).
    from tests import test_verdict

    marked = [
        name
        for name, fn in vars(test_verdict).items()
        if name.startswith("test_")
        and any(m.name == "study" for m in getattr(fn, "pytestmark", []))
    ]
    assert marked
    # The full tests exist too: every real-shaped variant but the quick ones carries the marker.
    from tests.pack_variants import VARIANTS

    assert any(v.quick for v in VARIANTS) and any(not v.quick for v in VARIANTS)


def test_a_shared_build_runs_once_and_a_failed_one_is_tried_afresh(tmp_path_factory):
    # tests/conftest.py's shared_once: how the session's packs are built once for every test.
    from tests.conftest import shared_once

    calls = []

    def build(folder: Path) -> Path:
        calls.append(folder)
        assert not list(folder.iterdir())  # a folder of its own, empty
        if len(calls) == 1:
            (folder / "half-built").write_text("x")
            raise RuntimeError("the first attempt fails")
        return folder

    name = f"probe-{os.getpid()}"
    with pytest.raises(RuntimeError, match="first attempt"):
        shared_once(tmp_path_factory, name, build)
    first = shared_once(tmp_path_factory, name, build)
    assert shared_once(tmp_path_factory, name, build) == first
    assert len(calls) == 2 and calls[1] == first != calls[0]
