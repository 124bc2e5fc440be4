"""Issue 20: every file of the data folder accounted for, Excel read as Excel, a run that stops
cleanly. Each test builds its faulty extract from a copy of ``data/sample``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from daanalysis.ingest.load import DataContractError, load_extract
from daanalysis.pack import kernels, report

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of the sample extract to spoil."""
    target = tmp_path / "data"
    shutil.copytree(SAMPLE, target)
    return target


# --- every file in the data folder accounted for --------------------------------------------


def test_a_file_the_contract_does_not_know_is_listed_as_not_read(folder, sample_extract):
    (folder / "notes.txt").write_text("called the police liaison on Tuesday\n")
    (folder / "old").mkdir()
    (folder / "old" / "referrals.csv").write_text("referral_id\n")
    extract = load_extract(folder)
    for name in ("notes.txt", "The folder old"):
        said = [line for line in extract.files if line.startswith(name)]
        assert len(said) == 1, extract.files
        assert "not read" in said[0]
        assert said[0] in extract.notes  # the data-quality section prints every note
    # Nothing else changes.
    assert len(extract["referrals"]) == len(sample_extract["referrals"])


def test_known_files_hidden_files_and_readmes_are_not_listed(folder):
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "~$staffing.xlsx").write_bytes(b"\0")  # Excel's lock file while a book is open
    (folder / "mappings").mkdir()
    (folder / "README.txt").write_text("where this extract came from\n")
    extract = load_extract(folder)
    assert extract.files == []


def test_a_second_file_for_a_table_stops_the_run_naming_both_and_the_fix(folder):
    lines = (folder / "referrals.csv").read_bytes().splitlines(keepends=True)
    cut = 1 + int((len(lines) - 1) * 0.7)
    (folder / "referrals.csv").write_bytes(b"".join(lines[:cut]))
    (folder / "referrals_part2.csv").write_bytes(b"".join([lines[0], *lines[cut:]]))
    with pytest.raises(DataContractError) as caught:
        load_extract(folder)
    message = str(caught.value)
    assert "referrals_part2.csv" in message and "referrals.csv beside" not in message
    assert "beside referrals.csv" in message
    assert "combine them into referrals.csv" in message


def test_a_file_named_like_a_table_that_would_not_be_read_stops_the_run(folder):
    (folder / "staffing.csv").rename(folder / "staffing 2026.csv")
    with pytest.raises(DataContractError, match=r"staffing 2026\.csv looks like the staffing"):
        load_extract(folder)


def test_a_table_named_in_another_case_is_read_as_that_table(folder, sample_extract):
    (folder / "staffing.csv").rename(folder / "Staffing.CSV")
    extract = load_extract(folder)
    assert len(extract["staffing"]) == len(sample_extract["staffing"]) > 0
    assert not any("No staffing.csv" in note for note in extract.notes)
    assert "Staffing.CSV was read as the staffing table (staffing.csv)." in extract.files
    assert "Staffing.CSV" in set(extract.ledger["file"])


def test_one_table_in_two_cases_is_an_error(folder):
    shutil.copy(folder / "police.csv", folder / "POLICE.csv")
    with pytest.raises(DataContractError, match=r"both POLICE\.csv and police\.csv are present"):
        load_extract(folder)


def test_settings_named_in_another_case_stop_the_run(folder):
    (folder / "config.csv").rename(folder / "Config.csv")
    with pytest.raises(DataContractError, match="Rename it to config.csv"):
        load_extract(folder)


# --- Excel read as Excel ----------------------------------------------------------------------

# The workbook tests are about reading Excel, not about the figures: every eighth referral of
# the sample (still every month of it) keeps openpyxl's writing and reading to a few seconds.
EVERY = 8


def _thin_referrals(folder: Path) -> None:
    lines = (folder / "referrals.csv").read_bytes().splitlines(keepends=True)
    (folder / "referrals.csv").write_bytes(b"".join([lines[0], *lines[1::EVERY]]))


@pytest.fixture
def thin(tmp_path) -> Path:
    """A copy of the sample extract with every eighth referral, to write as a workbook."""
    target = tmp_path / "thin"
    shutil.copytree(SAMPLE, target)
    _thin_referrals(target)
    return target


@pytest.fixture(scope="module")
def thin_extract(tmp_path_factory):
    """The thinned extract read from its CSV: what the workbook must load as."""
    target = tmp_path_factory.mktemp("thin") / "data"
    shutil.copytree(SAMPLE, target)
    _thin_referrals(target)
    return load_extract(target)


def _referrals_workbook(folder: Path, formula_rows: int) -> Path:
    """The sample's referrals as a workbook written by a script: ``closed_date`` of the first
    ``formula_rows`` cases is a ``=DATE(...)`` formula with no saved value."""
    import csv

    import openpyxl

    with (folder / "referrals.csv").open(encoding="cp1252", newline="") as file:
        rows = list(csv.reader(file))
    header = rows[0]
    closed = header.index("closed_date")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Referrals"
    sheet.append(header)
    for i, row in enumerate(rows[1:]):
        if i < formula_rows:
            row[closed] = "=DATE(2024,5,1)"  # openpyxl saves it as a formula, never calculated
        sheet.append(row)
    (folder / "referrals.csv").unlink()
    path = folder / "referrals.xlsx"
    book.save(path)
    return path


def test_formulas_never_calculated_stop_loading_naming_sheet_and_cells(thin):
    import openpyxl
    from openpyxl.utils import get_column_letter

    folder = thin
    path = _referrals_workbook(folder, 7)
    header = next(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    letter = get_column_letter(header.index("closed_date") + 1)
    with pytest.raises(DataContractError) as caught:
        load_extract(folder)
    message = str(caught.value)
    assert "sheet 'Referrals'" in message
    assert "7 cell(s) hold a formula" in message
    assert f"closed_date (column {letter}): {letter}2, {letter}3, {letter}4, {letter}5, " in message
    assert "and 2 more" in message
    assert "save it" in message and "paste them as values" in message


def test_a_workbook_without_formulas_loads_as_its_csv(thin, thin_extract):
    _referrals_workbook(thin, 0)
    extract = load_extract(thin)
    assert len(extract["referrals"]) == len(thin_extract["referrals"]) > 1000
    assert extract["referrals"]["closed_date"].isna().sum() == (
        thin_extract["referrals"]["closed_date"].isna().sum()
    )


# --- stopping cleanly -------------------------------------------------------------------------

posix = pytest.mark.skipif(os.name == "nt", reason="signals sent with os.kill are POSIX")


def _own_kernel_dirs(pid: int) -> list[Path]:
    return [
        d
        for d in Path(tempfile.gettempdir()).glob(f"{kernels.KERNEL_DIR_PREFIX}*")
        if (d / kernels.OWNER_FILE).exists()
        and (d / kernels.OWNER_FILE).read_text().strip() == str(pid)
    ]


def _stop_a_run(tmp_path: Path, signum: int, when: str) -> tuple[int, str, Path, float]:
    """Start ``daanalysis report`` on the sample, send ``signum`` at ``when`` ("start": during
    the start-up imports; "notebooks": once a notebook is running), and return its status,
    stderr, the out folder and the seconds it took to stop."""
    out = tmp_path / "out"
    previous = out / "2025-26Q4"  # last quarter's pack, which must stay as it was
    previous.mkdir(parents=True)
    (previous / "index.html").write_text("last quarter\n")
    command = [sys.executable, "-m", "daanalysis", "report", "--data", str(SAMPLE)]
    proc = subprocess.Popen(
        [*command, "--out", str(out), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a signal sent to it alone, as a scheduler sends it
    )
    deadline = time.monotonic() + 180
    if when == "start":
        time.sleep(0.5)
    else:
        while time.monotonic() < deadline and not (
            list(out.glob(".tmp-*/analysts/notebooks/*.ipynb")) and _own_kernel_dirs(proc.pid)
        ):
            time.sleep(0.1)
        assert list(out.glob(".tmp-*/analysts/notebooks/*.ipynb")), "no notebook ever ran"
        assert list(_own_kernel_dirs(proc.pid)[0].glob("prepared-*.pickle"))
    pid = proc.pid
    sent = time.monotonic()
    os.kill(pid, signum)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(pid, signal.SIGKILL)
    took = time.monotonic() - sent
    assert (previous / "index.html").read_text() == "last quarter\n"
    assert not _own_kernel_dirs(pid), "the prepared data (row-level) were left on disk"
    assert not list(out.glob(".tmp-*")), "executed notebooks were left on disk"
    assert not list(out.glob("failed/**/*.ipynb"))
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["2025-26Q4"]
    return proc.returncode, err, out, took


@posix
@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_notebooks_run_stops_at_once_and_leaves_nothing(tmp_path, signum, status):
    code, err, _, took = _stop_a_run(tmp_path, signum, "notebooks")
    assert code == status, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"stopped ({signal.Signals(signum).name})" in lines[0]
    assert "no pack was written" in lines[0]
    # The queued notebooks never start: far less than the run would take (a minute or more).
    assert took < 15, took


@posix
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_the_start_up_imports_gives_one_line(tmp_path, signum, status):
    code, err, _, _ = _stop_a_run(tmp_path, signum, "start")
    assert code == status, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert f"stopped ({signal.Signals(signum).name})" in err


@pytest.mark.skipif(not kernels.available(), reason="kernels are forked on Linux only")
def test_a_dead_warm_process_falls_back_to_kernels_started_the_usual_way(tmp_path):
    from tests.test_kernels import _tiny_notebooks

    class DiesAfterFirstFork(kernels.WarmProcess):
        """Killed (as by the OOM killer or an operator) once it has forked one kernel, which
        exits with it."""

        def fork(self, argv, cwd, env):
            pid = super().fork(argv, cwd, env)
            self.process.kill()
            self.process.wait()
            return pid

    with DiesAfterFirstFork() as warm:
        final = report.run_report(
            SAMPLE, tmp_path / "out", notebook_dir=_tiny_notebooks(tmp_path / "nb"), warm=warm
        )
    pages = {p.name for p in final.glob("*_one.html")} | {
        p.name for p in final.glob("*_three.html")
    }
    assert len(pages) >= 2
    log_text = (final / "analysts" / "run.log").read_text()
    assert "the warm process exited" in log_text
    assert "FAILED" not in log_text


# --- a missing quarter-end caseload names the file and the fix --------------------------------


def test_no_caseload_per_fte_at_the_quarter_end_names_the_file_and_the_fix(sample_panel):
    from daanalysis.config import Config
    from daanalysis.metrics import staffing
    from daanalysis.periods import parse_quarter

    config = Config()
    area = sample_panel["area"].iloc[0]
    panel = sample_panel[sample_panel["area"] == area].copy()
    quarter = parse_quarter("2025/26 Q2")
    month = quarter.asfreq("M", how="end")
    assert staffing.quarter_end(staffing.caseload_per_fte(panel, config), quarter)["per_fte"] > 0

    no_staff = panel.copy()
    no_staff.loc[no_staff["month"] == month, "caseworker_fte"] = float("nan")
    with pytest.raises(ValueError) as caught:
        staffing.quarter_end(staffing.caseload_per_fte(no_staff, config), quarter)
    message = str(caught.value)
    assert message.startswith("No caseload per FTE for September 2025 (the end of 2025/26 Q2")
    assert "staffing.csv" in message and "month 2025-09" in message
    assert "Add that month's rows to staffing.csv" in message

    no_open = panel.copy()
    no_open.loc[no_open["month"] == month, "open_caseload"] = float("nan")
    with pytest.raises(ValueError, match="open_cases_end column of returns.csv"):
        staffing.quarter_end(staffing.caseload_per_fte(no_open, config), quarter)

    with pytest.raises(ValueError, match="not a complete month of the data"):
        staffing.quarter_end(staffing.caseload_per_fte(panel, config), parse_quarter("2030/31 Q1"))


def test_a_file_not_read_is_said_in_the_runs_output_and_run_log(
    folder, tmp_path, caplog, warm_process
):
    import logging

    from tests.test_kernels import _tiny_notebooks

    (folder / "notes.txt").write_text("called the police liaison on Tuesday\n")
    with caplog.at_level(logging.WARNING, logger="daanalysis.pack.report"):
        final = report.run_report(
            folder,
            tmp_path / "out",
            notebook_dir=_tiny_notebooks(tmp_path / "nb"),
            warm=warm_process,
        )
    said = "notes.txt is not a file of the data contract, so it was not read"
    assert any(said in r.getMessage() for r in caplog.records)
    assert said in (final / "analysts" / "run.log").read_text()


def test_rows_on_a_hidden_sheet_are_read_and_said(thin, thin_extract):
    import openpyxl

    folder = thin
    path = _referrals_workbook(folder, 0)
    book = openpyxl.load_workbook(path)
    book.active.sheet_state = "hidden"
    book.create_sheet("Cover", 0)  # visible and empty, as a template's front sheet
    book.active = 0
    book.save(path)
    extract = load_extract(folder)
    assert len(extract["referrals"]) == len(thin_extract["referrals"]) > 1000
    assert (
        "referrals.xlsx: the rows were read from the hidden sheet 'Referrals'; the visible sheets "
        "are empty." in extract.notes
    )


def test_a_stop_swallowed_on_the_way_still_stops_the_run(tmp_path):
    """A stop whose exception some code swallowed (Python's "Exception ignored in" a finaliser,
    or a bare except in an import) is still noted, and the run stops at its next stage: nothing
    moved into place, no run folder left."""
    from daanalysis.stopping import StopFlag, Stopped

    out = tmp_path / "out"
    flag = StopFlag()
    flag.note(signal.SIGTERM)
    with pytest.raises(Stopped) as caught:
        report.run_report(SAMPLE, out, stop=flag)
    assert caught.value.signum == signal.SIGTERM
    assert not list(out.glob(".tmp-*"))
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []


def test_the_command_reports_a_swallowed_stop_as_a_stop(monkeypatch, capsys):
    """If the command returns normally although a stop arrived, it still exits as stopped (143
    for SIGTERM), naming the pack if one was written."""
    from daanalysis import cli

    def swallowed(args, warm, written, flag):
        flag.note(signal.SIGTERM)  # as the handler does before its exception is swallowed
        written.append(Path("out/2026-27Q2"))
        return 0

    monkeypatch.setattr(cli, "_report", swallowed)
    monkeypatch.setattr(cli, "_warm_process", lambda argv: None)
    assert cli.main(["report", "--data", str(SAMPLE)]) == 143
    err = capsys.readouterr().err
    assert "stopped (SIGTERM)" in err and "the pack had been written to out/2026-27Q2" in err
