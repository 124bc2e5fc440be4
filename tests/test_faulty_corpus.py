"""Faults found by feeding the pack the corpus of ``tools/faulty_corpus.py`` (extracts as UK
councils send them), one test each; every test failed before its fix.
"""

from __future__ import annotations

import codecs

import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.ledger import SUBTOTAL
from daanalysis.ingest.load import DataContractError, load_extract, read_table
from daanalysis.ingest.schema import MARAC, POLICE, REFERRALS
from tests.conftest import REFERRAL_HEADER, write_referrals

TODAY = Config(default_area="Sampleborough", extract_date="2026-10-05")
REGION = Config(extract_date="2026-10-05")
# 40 referrals over 2024, all unambiguous (day 13 or later).
REFERRALS_2024 = [
    f"R{i},C{i},{13 + i % 15:02d}/{1 + i % 12:02d}/2024,Police,High,,,Victim" for i in range(40)
]


def _marac(rows: dict[int, str], column: str = "repeat_cases") -> str:
    lines = [f"area,period,cases_discussed,{column}"]
    for m in range(1, 25):
        repeats = rows.get(m, str(5 + m % 4))
        month = f"{2023 + (m - 1) // 12}-{1 + (m - 1) % 12:02d}"
        lines.append(f"Sampleborough,{month},{30 + m % 5},{repeats}")
    return "\n".join(lines) + "\n"


# --- Windows-1252 behind a UTF-8 byte-order mark -----------------------------------------------


def test_windows_1252_bytes_behind_a_utf8_mark_keep_the_header(tmp_path):
    """An export tool that writes a UTF-8 mark and then Windows-1252 text (an en dash, £): the
    mark was read as the three characters 'ï»¿' glued to the first column's name, and the
    load stopped with 'required column missing: referral_id'."""
    path = write_referrals(tmp_path, REFERRALS_2024)
    text = path.read_text().replace("Police,High", "Police \u2013 TVP,High", 3)
    path.write_bytes(codecs.BOM_UTF8 + text.encode("cp1252"))
    frame, ledger = read_table(path, REFERRALS, TODAY)
    assert len(frame) == 40 and ledger["status"].eq("used").all()
    assert frame["referral_id"].iloc[0] == "R0"


# --- one area spelt two ways, with population.csv ----------------------------------------------


def test_an_area_spelt_two_ways_stops_the_run_even_with_population(tmp_path):
    """A few referrals in 'sampleborough' beside 'Sampleborough': with population.csv they were
    excluded row by row as 'not in population.csv' (2% of the referrals, under the 5% limit), so
    the area's figures were silently low; the contract says one area spelt two ways stops."""
    rows = [r.replace("Victim", "Victim,Sampleborough") for r in REFERRALS_2024]
    rows[5] = rows[5].replace(",Sampleborough", ",sampleborough")
    write_referrals(tmp_path, rows)
    path = tmp_path / "referrals.csv"
    path.write_text(path.read_text().replace(REFERRAL_HEADER, REFERRAL_HEADER + ",area", 1))
    (tmp_path / "population.csv").write_text(
        "area,year,females_16plus,males_16plus\nSampleborough,2024,75000,71000\n"
    )
    with pytest.raises(DataContractError, match=r"spelt 2 ways.*'sampleborough'"):
        load_extract(tmp_path, config=TODAY)


# --- suppressed small counts --------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["<5", "< 5", "*", "[c]", "[low]"])
def test_a_suppressed_count_is_a_gap_said_to_be_suppressed(tmp_path, marker):
    """A published table's suppressed cell ('<5', '*', '[c]') was 'not a number': its whole row
    was excluded (losing the cases discussed beside it), four of them in 78 rows stopped the
    load, and the advice was to leave the cell blank. It is a gap in that column only, named as
    suppressed, never 0 and never 4."""
    write_referrals(tmp_path, REFERRALS_2024)
    (tmp_path / "marac.csv").write_text(_marac({3: marker, 7: marker, 11: marker}))
    extract = load_extract(tmp_path, config=TODAY)
    marac = extract["marac"].set_index(extract["marac"]["period"].astype(str))
    assert len(marac) == 24
    assert marac.loc[["2023-03", "2023-07", "2023-11"], "repeat_cases"].isna().all()
    assert marac.loc["2023-03", "cases_discussed"] == 33  # the row's other count is used
    ledger = extract.ledger[extract.ledger["table"] == "marac"]
    assert ledger["status"].eq("used").all()
    reasons = ledger.loc[ledger["row"] == 4, "reason"].item()
    assert "suppressed" in reasons and "repeat_cases" in reasons
    note = next(n for n in extract.notes if n.startswith("marac.csv: suppressed"))
    assert "repeat_cases in 3 row(s)" in note and "never read as 0" in note


def test_suppressed_and_not_collected_in_one_row_are_both_named(tmp_path):
    frame, ledger = read_table(
        _write_marac(tmp_path, {2: "<5"}, cases={2: "not collected"}), MARAC, TODAY
    )
    reason = ledger.loc[ledger["row"] == 3, "reason"].item()
    assert "cases_discussed" in reason and "repeat_cases" in reason
    assert "suppressed" in reason and "not collected" in reason
    assert frame.loc[1, ["cases_discussed", "repeat_cases"]].isna().all()


def _write_marac(folder, repeats: dict[int, str], cases: dict[int, str]):
    text = _marac(repeats)
    lines = text.splitlines()
    for m, value in cases.items():
        parts = lines[m].split(",")
        parts[2] = value
        lines[m] = ",".join(parts)
    path = folder / "marac.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- columns the contract does not name ---------------------------------------------------------


def test_a_misspelt_optional_column_is_named_not_silently_dropped(tmp_path):
    """MARAC repeats headed 'Repeats' (not repeat_cases): the column was dropped without a
    word and the MARAC repeat rate vanished from the pages. The note names it and the column
    it probably is."""
    write_referrals(tmp_path, REFERRALS_2024)
    (tmp_path / "marac.csv").write_text(_marac({}, column="Repeats"))
    extract = load_extract(tmp_path, config=TODAY)
    note = next(n for n in extract.notes if n.startswith("marac.csv: column"))
    assert "'repeats'" in note and "repeat_cases" in note and "not read" in note


def test_unknown_columns_are_listed_and_blank_trailing_columns_are_not(tmp_path):
    rows = [r + ",XX1,," for r in REFERRALS_2024]
    path = write_referrals(tmp_path, rows)
    path.write_text(path.read_text().replace(REFERRAL_HEADER, REFERRAL_HEADER + ",Postcode,,", 1))
    notes: list[str] = []
    frame, _ = read_table(path, REFERRALS, TODAY, notes=notes)
    assert len(frame) == 40
    (note,) = [n for n in notes if "not read" in n]
    assert "'postcode'" in note and "unnamed" not in note


# --- workbooks as councils keep them ------------------------------------------------------------


def _book(path, sheets: dict[str, list[list[object]]], hidden: tuple[str, ...] = ()) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)


def _police_rows(area: str | None, base: int = 100) -> list[list[object]]:
    header = (["area"] if area else []) + ["month", "da_incidents", "da_crimes"]
    return [header] + [
        ([area] if area else []) + [f"2024-{m:02d}", base + m, base // 2 + m] for m in range(1, 13)
    ]


def test_a_notes_sheet_beside_the_table_is_passed_over_with_a_note(tmp_path):
    """A police workbook with a 'Notes' sheet (source, caveats) was refused as 'two sheets with
    data'; the sheet with the table's header is read, and the note names the one passed over."""
    write_referrals(tmp_path, REFERRALS_2024)
    _book(
        tmp_path / "police.xlsx",
        {
            "Notes": [["About these figures"], ["Provisional; from the force's crime system."]],
            "Police": _police_rows(None),
        },
    )
    extract = load_extract(tmp_path, config=TODAY)
    assert len(extract["police"]) == 12 and extract["police"]["da_incidents"].sum() == 1278
    assert any("'Notes' not read" in n and "'Police'" in n for n in extract.notes)


def test_a_wide_or_hidden_second_sheet_is_still_refused(tmp_path):
    path = tmp_path / "police.xlsx"
    _book(path, {"Police": _police_rows(None), "Lookup": [["code"], ["x"]]}, hidden=("Lookup",))
    with pytest.raises(DataContractError, match=r"'Lookup' \(hidden\)"):
        read_table(path, POLICE, TODAY)
    wide = [["Month", "Incidents", "Crimes", "Outcome"], ["2024-01", 1, 2, 3]]  # a table of its own
    _book(path, {"Police": _police_rows(None), "Outcomes": wide})
    with pytest.raises(DataContractError, match=r"2 sheets with data \('Police', 'Outcomes'\)"):
        read_table(path, POLICE, TODAY)


REGION_REFERRALS = [
    f"R{a}{i},C{a}{i},{13 + i % 15:02d}/{1 + i % 12:02d}/2024,Police,High,,,Victim,{area}"
    for a, area in enumerate(["Ayton", "Beeby"])
    for i in range(40)
]


def _region(tmp_path):
    path = write_referrals(tmp_path, REGION_REFERRALS)
    path.write_text(path.read_text().replace(REFERRAL_HEADER, REFERRAL_HEADER + ",area", 1))


@pytest.mark.parametrize("area_column", [True, False])
def test_a_workbook_with_a_sheet_per_area_is_read_as_one_table(tmp_path, area_column):
    """A region's police figures as one workbook with a sheet per council (with or without an
    area column) were refused as 'several sheets with data'. Read one under the other; without
    an area column each sheet's name is its rows' area; the ledger names each row's sheet."""
    _region(tmp_path)
    _book(
        tmp_path / "police.xlsx",
        {
            "Ayton": _police_rows("Ayton" if area_column else None, 100),
            "Beeby": _police_rows("Beeby" if area_column else None, 300),
        },
    )
    extract = load_extract(tmp_path, config=REGION)
    police = extract["police"]
    assert police.groupby("area")["da_incidents"].sum().to_dict() == {"Ayton": 1278, "Beeby": 3678}
    ledger = extract.ledger[extract.ledger["table"] == "police"]
    assert ledger["status"].eq("used").all() and len(ledger) == 24
    assert ledger["file"].iloc[-1] == "police.xlsx, sheet 'Beeby'"
    note = next(n for n in extract.notes if "2 sheets with one header" in n)
    assert "'Beeby' as rows 14-25" in note
    assert ("sheet's name" in note) is not area_column


def test_sheets_named_by_year_without_an_area_column_are_still_refused(tmp_path):
    path = tmp_path / "police.xlsx"
    rows = _police_rows(None)
    _book(path, {"2023": rows, "2024": rows})
    with pytest.raises(DataContractError, match=r"2 sheets with data \('2023', '2024'\).*named"):
        read_table(path, POLICE, TODAY)


# --- a region's rows with a blank area ---------------------------------------------------------


def test_a_regions_rows_with_a_blank_area_are_ledgered_not_given_a_default(tmp_path):
    """Two of a region's 80 referrals had no area: the load stopped and advised a config
    default_area, which would give those rows to one council. They are excluded and ledgered,
    asking for the area; the other rows are used."""
    rows = list(REGION_REFERRALS)
    rows[3] = rows[3].rsplit(",", 1)[0] + ","
    rows[50] = rows[50].rsplit(",", 1)[0] + ","
    path = write_referrals(tmp_path, rows)
    path.write_text(path.read_text().replace(REFERRAL_HEADER, REFERRAL_HEADER + ",area", 1))
    extract = load_extract(tmp_path, config=REGION)
    assert len(extract["referrals"]) == 78
    excluded = extract.ledger[extract.ledger["status"] == "excluded"]
    assert excluded["row"].tolist() == [5, 52]
    assert excluded["reason"].str.contains("area: is blank").all()
    assert not excluded["reason"].str.contains("default_area,").any()


def test_a_file_with_no_area_at_all_still_asks_for_one(tmp_path):
    write_referrals(tmp_path, REFERRALS_2024)
    with pytest.raises(DataContractError, match="has no area column"):
        load_extract(tmp_path, config=REGION)


# --- rows that are no data: a header pasted again, a blank line ---------------------------------


def test_a_header_pasted_again_and_a_blank_row_are_ledgered_as_such(tmp_path):
    """Two exports pasted into one file repeat the header; a spreadsheet keeps a row of empty
    cells. They were ledgered as "referral_date: 'referral_date' is not a date; ..." and
    "is blank but is required"; the ledger now says what they are, once."""
    rows = list(REFERRALS_2024)
    rows.insert(20, REFERRAL_HEADER.replace("referral_id", "Referral ID"))
    rows.insert(30, ",,,,,,,")
    frame, ledger = read_table(write_referrals(tmp_path, rows), REFERRALS, TODAY)
    assert len(frame) == 40
    excluded = ledger[ledger["status"] == "excluded"].set_index("row")["reason"]
    assert excluded.to_dict() == {
        22: "a repeated header row (exports pasted one under another?), not data",
        32: "a blank row (every cell empty), not data",
    }


def test_rows_of_empty_cells_do_not_count_against_the_excluded_share(tmp_path):
    """A sheet saved with formatted empty rows below the data: 5 blank rows in 45 (11%) stopped
    the load as 'more than 5% of rows break the data contract'. They are listed, not faults."""
    frame, ledger = read_table(
        write_referrals(tmp_path, [*REFERRALS_2024, *[",,,,,,,"] * 5]), REFERRALS, TODAY
    )
    assert len(frame) == 40 and (ledger["status"] == "excluded").sum() == 5


# --- quarters named by their months, ONS years ------------------------------------------------


@pytest.mark.parametrize(
    ("label", "quarter"),
    [
        ("Apr-Jun 2024", "2024/25 Q1"),
        ("Jul - Sep 2024", "2024/25 Q2"),
        ("October to December 2024", "2024/25 Q3"),
        ("Jan–Mar 2025", "2024/25 Q4"),
        ("Apr-Jun 2024 total", "2024/25 Q1"),
    ],
)
def test_a_quarter_named_by_its_months_is_that_financial_quarter(label, quarter):
    """Returns headed 'Apr-Jun 2024' were refused as 'neither a month nor a financial quarter'
    (every row, so the load stopped); the months name one financial quarter, read as such."""
    from daanalysis.ingest.parse import parse_periods
    from daanalysis.periods import parse_quarter

    assert parse_periods(pd.Series([label])).item() == parse_quarter(quarter)


@pytest.mark.parametrize("label", ["Feb-Apr 2024", "Apr-May 2024", "Apr-Jun 24"])
def test_months_that_are_no_financial_quarter_are_not_read_as_one(label):
    from daanalysis.ingest.parse import parse_periods

    assert pd.isna(parse_periods(pd.Series([label])).item())


def test_ons_mid_year_labels_are_read_as_the_year(tmp_path):
    """ONS labels its estimates 'Mid-2023'; population.csv copied from it was refused (every
    row 'not a number', with advice to write 'not collected')."""
    from daanalysis.ingest.schema import POPULATION

    path = tmp_path / "population.csv"
    path.write_text(
        "area,year,females_16plus,males_16plus\n"
        "Sampleborough,Mid-2023,75000,71000\nSampleborough,mid 2024,75500,71400\n"
    )
    frame, ledger = read_table(path, POPULATION, TODAY)
    assert frame["year"].tolist() == [2023, 2024] and ledger["status"].eq("used").all()


def test_one_workbook_with_a_sheet_a_table_says_to_save_each_sheet(tmp_path):
    """A council's whole extract as one workbook ('Referrals', 'Police' sheets): the error said
    only that no referrals.csv was found, not that the workbook holds them."""
    raw = [line.split(",") for line in [REFERRAL_HEADER, *REFERRALS_2024]]
    _book(tmp_path / "DA extract.xlsx", {"Referrals": raw, "Police": _police_rows(None)})
    with pytest.raises(DataContractError) as err:
        load_extract(tmp_path, config=TODAY)
    message = str(err.value)
    assert "DA extract.xlsx" in message and "'Referrals'" in message and "'Police'" in message
    assert "referrals.xlsx" in message


def test_a_percentage_outside_fte_is_not_told_to_write_fte(tmp_path):
    """A benchmark value '35%' was told 'write FTE as a fraction, 0.8 for 80%'."""
    from daanalysis.ingest.schema import BENCHMARKS

    path = tmp_path / "benchmarks.csv"
    path.write_text(
        "measure,name,value,period,source\n"
        "referrals_per_1000_adults,Regional,35%,2025/26,synthetic\n"
    )
    _, ledger = read_table(path, BENCHMARKS, TODAY)
    reason = ledger["reason"].item()
    assert "FTE" not in reason and "'35%' is not a number (a percentage" in reason


@pytest.mark.parametrize(
    "names", [("Apr 24", "May 24"), ("Ayton", "All areas"), ("Sheet1", "Sheet2")]
)
def test_sheets_not_named_after_areas_are_not_read_as_areas(tmp_path, names):
    """Without an area column, a sheet's name is its rows' area only when it can be one: a
    month's sheets, or a sheet of every area's totals, would become areas of their own."""
    path = tmp_path / "police.xlsx"
    _book(path, {name: _police_rows(None) for name in names})
    with pytest.raises(DataContractError, match=r"named after its area"):
        read_table(path, POLICE, REGION)


# --- a total row under police months ------------------------------------------------------------


def test_a_total_row_under_police_months_is_set_aside_as_a_subtotal(tmp_path):
    """Police figures pasted with their sum: a 'Total' row (and a '2023/24' row) in the month
    column was refused as 'not a month' and counted against max_excluded_share, as if figures
    had been lost; returns and MARAC set such rows aside as subtotals. Now police does too,
    and a label that is neither a month nor a total is still refused."""
    lines = ["area,month,da_incidents,da_crimes"]
    lines += [f"Sampleborough,2023-{m:02d},{300 + m},{200 + m}" for m in range(4, 13)]
    lines += [f"Sampleborough,2024-{m:02d},{300 + m},{200 + m}" for m in range(1, 4)]
    lines += ["Sampleborough,Total,3678,2478", "Sampleborough,2023/24,3678,2478"]
    lines += ["Sampleborough,Mrach 2024,301,201"]
    path = tmp_path / "police.csv"
    path.write_text("\n".join(lines) + "\n")
    frame, ledger = read_table(path, POLICE, TODAY)
    assert len(frame) == 12 and frame["da_incidents"].sum() == sum(300 + m for m in range(1, 13))
    reasons = ledger.set_index("row")["reason"]
    assert reasons[14].startswith("subtotal row") and "names no period" in reasons[14]
    assert reasons[15].startswith("subtotal row") and "financial year" in reasons[15]
    assert "not a month" in reasons[16]
    # Set aside, not refused: the subtotals do not count against max_excluded_share (the
    # ledger's reasons that begin "subtotal row"), the misspelt month does.
    refused = ledger[(ledger["status"] == "excluded") & ~ledger["reason"].str.startswith(SUBTOTAL)]
    assert list(refused["row"]) == [16]


def test_dates_written_with_dots_are_read_day_first(tmp_path):
    """Some case systems export 01.04.2024; every referral was refused as 'not a date'. A dotted
    date is day-first wherever it is written, so it is read one way, even in a file whose slashed
    dates are month-first."""
    rows = [line.replace("/", ".") for line in REFERRALS_2024]
    frame, ledger = read_table(write_referrals(tmp_path, rows), REFERRALS, TODAY)
    assert len(frame) == 40 and ledger["status"].eq("used").all()
    first = frame["referral_date"].iloc[0]
    assert (first.day, first.month, first.year) == (13, 1, 2024)
    # 03.04.2024 is 3 April, never 4 March; a two-digit year is still refused, not guessed.
    frame, _ = read_table(
        write_referrals(tmp_path, ["R1,C1,03.04.2024,Police,High,,,Victim"]), REFERRALS, TODAY
    )
    assert frame["referral_date"].iloc[0] == pd.Timestamp("2024-04-03")
    frame, ledger = read_table(
        write_referrals(tmp_path, ["R1,C1,03.04.24,Police,High,,,Victim"]), REFERRALS, TODAY
    )
    assert frame.empty and "two-digit year" in ledger["reason"].iloc[0]


# --- round three: quarters written after "FY" ---------------------------------------------------


@pytest.mark.parametrize(
    ("label", "quarter"),
    [
        ("FY20/21 Q1", "2020/21 Q1"),
        ("FY 2024/25 Q3", "2024/25 Q3"),
        ("Q2 FY24/25", "2024/25 Q2"),
        ("FY24-25 Quarter 4", "2024/25 Q4"),
    ],
)
def test_a_quarter_after_fy_is_that_financial_quarter(label, quarter):
    """Quarterly returns headed 'FY20/21 Q1' (a finance template's label) were refused, every
    row 'neither a month nor a financial quarter', so the load stopped."""
    from daanalysis.ingest.parse import parse_periods
    from daanalysis.periods import parse_quarter

    assert parse_periods(pd.Series([label])).item() == parse_quarter(quarter)


@pytest.mark.parametrize("label", ["FY24/26 Q1", "20/21 Q1"])
def test_two_digit_years_that_are_no_financial_year_are_not_read(label):
    from daanalysis.ingest.parse import parse_periods

    assert pd.isna(parse_periods(pd.Series([label])).item())


# --- a DOS end-of-file mark ---------------------------------------------------------------------


@pytest.mark.parametrize("lines", ["\r\n", "\n"])
def test_a_ctrl_z_after_the_last_line_is_no_row(tmp_path, lines):
    """An export with CRLF line ends and a Ctrl-Z byte after the last line (old DOS tools):
    the mark was read as a row whose area was the byte and whose month was blank, and excluded
    as 'month: is blank but is required' (counted against the excluded share), a fault no one
    could find in the file. It is an empty line, listed as such."""
    rows = ["area,month,da_incidents,da_crimes"]
    rows += [f"Sampleborough,2024-{m:02d},{100 + m},{60 + m}" for m in range(1, 13)]
    path = tmp_path / "police.csv"
    path.write_bytes(lines.join(rows).encode() + lines.encode() + b"\x1a")
    frame, ledger = read_table(path, POLICE, TODAY)
    assert len(frame) == 12 and frame["da_incidents"].sum() == 1278
    excluded = ledger[ledger["status"].eq("excluded")]
    assert excluded["reason"].tolist() == ["a blank row (every cell empty), not data"]


# --- campaigns and events: every row is part of the model ---------------------------------------


@pytest.mark.parametrize(
    ("table", "text", "said"),
    [
        (
            "campaigns",
            "name,start_date,end_date\nKnow the signs,01/11/2024,10/12/2024\n"
            "Open doors,01/06/2024,15/07/2023\n",
            r"campaigns.csv: row 3: end_date is before start_date",
        ),
        (
            "campaigns",
            "name,start_date,end_date\nKnow the signs,01/11/2024,10/12/2024\nOpen doors,,\n",
            r"campaigns.csv: row 3: start_date: is blank",
        ),
        (
            "events",
            "name,start_date,end_date,kind\nLockdown,06/01/2021,31/03/2021,lockdown\n",
            r"events.csv: row 2: kind: 'lockdown' is neither level_shift nor temporary",
        ),
    ],
)
def test_a_campaign_or_event_that_breaks_the_contract_stops_the_load(tmp_path, table, text, said):
    """A campaign whose end was typed before its start, or with no start, and an event of
    kind 'lockdown', were excluded and listed in the ledger, under the three rows a file needs
    to stop: the verdict was then drawn without that campaign (1.31 instead of 1.50 on the
    sample) or without the lockdown, and said nothing about it."""
    write_referrals(tmp_path, REFERRALS_2024)
    (tmp_path / f"{table}.csv").write_text(text)
    with pytest.raises(DataContractError, match=said + r".*part of the model"):
        load_extract(tmp_path, config=TODAY)


def test_a_whole_campaigns_file_still_loads(tmp_path):
    write_referrals(tmp_path, REFERRALS_2024)
    (tmp_path / "campaigns.csv").write_text(
        "name,start_date,end_date\nKnow the signs,01/11/2024,\n\nOpen doors,01/06/2024,15/07/2024\n"
    )
    extract = load_extract(tmp_path, config=TODAY)
    assert extract["campaigns"]["name"].tolist() == ["Know the signs", "Open doors"]


# --- amounts in pounds as finance systems export them ------------------------------------------


def test_costs_with_a_pound_sign_and_thousands_commas_are_read_one_way(tmp_path):
    """sanctuary.csv from a finance system ('£153.38', '£1,250.00'): every row was refused as
    'not a number' and the load stopped. A pound sign, and a thousands comma after one or
    before a decimal point, have one reading; '1,250' alone (1.25 with a decimal comma), '1,5'
    and a dollar sign are still refused, each on its own row."""
    from daanalysis.ingest.schema import SANCTUARY

    costs = ["£153.38", "£1,250.00", "1,250.50", "£1,250", "141.69"] * 4
    lines = ["area,period,cost,stayed_home,measures"]
    lines += [f'Sampleborough,{1 + i:02d}/04/2024,"{c}",1,Lock {i}' for i, c in enumerate(costs)]
    path = tmp_path / "sanctuary.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame, ledger = read_table(path, SANCTUARY, TODAY)
    assert frame["cost"].tolist() == [153.38, 1250.0, 1250.5, 1250.0, 141.69] * 4
    assert ledger["status"].eq("used").all()

    from daanalysis.ingest.ledger import Reasons
    from daanalysis.ingest.parse import parse_numbers

    reasons = Reasons()
    refused = pd.Series(["1,250", "1,5", "$12", "£ TBC", "£12,50"], name="cost")
    parsed = parse_numbers(refused, True, reasons, pounds=True)
    assert parsed.isna().all()
    assert sorted(reasons.frame()["row"].unique()) == [0, 1, 2, 3, 4]


# --- numbers whose slip can be named ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("75\u00a0000", "spaces between its digits"),  # a non-breaking space
        ("71\u2009000", "spaces between its digits"),  # a thin space
        ("'216", "a leading apostrophe"),
        ("(12)", "a negative number in brackets"),
    ],
)
def test_a_number_written_in_a_spreadsheets_own_way_is_refused_saying_what_it_is(value, said):
    """'75 000' with a non-breaking or thin space, "'216" (the apostrophe some tools write to
    keep Excel from reformatting) and '(12)' were refused as 'is not a number (numbers only;
    if it was not collected, leave it blank ...)': advice about gaps for a figure that is
    there. Each is still refused (a space may join two figures; a count cannot be negative),
    but the reason says what the cell holds."""
    from daanalysis.ingest.ledger import Reasons
    from daanalysis.ingest.parse import parse_numbers

    reasons = Reasons()
    parsed = parse_numbers(pd.Series([value], name="da_crimes"), False, reasons, gap=True)
    (text,) = reasons.frame()["text"]
    assert parsed.isna().all() and said in text and "not collected" not in text


# --- one referral ID on two different referrals -------------------------------------------------


def test_a_referral_id_on_two_different_referrals_is_not_called_a_duplicate(tmp_path):
    """A referral ID given to two different referrals (another date and source) was excluded as
    'duplicate of row 7 (same referral_id)', with advice to check that the export was not run
    twice: it was not a copy, and which row was kept was not said. An exact repeat is still a
    duplicate."""
    rows = list(REFERRALS_2024)
    rows.append(rows[5].replace("Police,High", "Self,High").replace("/2024", "/2023", 1))
    rows.append(rows[9])
    write_referrals(tmp_path, rows)
    _, ledger = read_table(tmp_path / "referrals.csv", REFERRALS, TODAY)
    reasons = ledger.loc[ledger["status"] == "excluded", "reason"].tolist()
    assert reasons == [
        "same referral_id as row 7 but a different referral_date, referral_source: only row 7 "
        "is used; give each row its own referral_id, or delete the wrong one",
        "duplicate of row 11 (same referral_id)",
    ]
