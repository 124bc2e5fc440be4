"""Issue 20: every file of the data folder accounted for, Excel read as Excel, a run that stops
cleanly. Each test builds its faulty extract from a copy of ``data/sample``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from daanalysis.load import DataContractError, load_extract

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


def test_formulas_never_calculated_stop_loading_naming_sheet_and_cells(folder):
    import openpyxl
    from openpyxl.utils import get_column_letter

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


def test_a_workbook_without_formulas_loads_as_its_csv(folder, sample_extract):
    _referrals_workbook(folder, 0)
    extract = load_extract(folder)
    assert len(extract["referrals"]) == len(sample_extract["referrals"])
    assert extract["referrals"]["closed_date"].isna().sum() == (
        sample_extract["referrals"]["closed_date"].isna().sum()
    )
