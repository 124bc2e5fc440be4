"""Nothing wrong gets through: hand-made faulty extracts, one per kind of fault.

Each fault must end as an error naming file, row, column and fix, or as a ledgered exclusion
with its reason, never as a number read the wrong way or a row that silently disappears.
"""

from __future__ import annotations

import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.clean import MappingError
from daanalysis.ingest.load import DataContractError, load_extract, read_table, reason_category
from daanalysis.ingest.schema import POLICE, REFERRALS, STAFFING
from tests.conftest import REFERRAL_HEADER, WITH_AREA, write_referrals

# 40 referrals over 2024, all unambiguous (day 13 or later) and well before any extract date.
REFERRALS_2024 = [
    f"R{i},C{i},{13 + i % 15:02d}/{1 + i % 12:02d}/2024,Police,High,,,Victim" for i in range(40)
]
TODAY = Config(default_area="Sampleborough", extract_date="2026-10-05")
# For extracts that are mostly faults on purpose: the share limit is tested on its own.
LENIENT = Config(default_area="Sampleborough", extract_date="2026-10-05", max_excluded_share=0.5)


def _excluded(ledger: pd.DataFrame, table: str) -> pd.DataFrame:
    return ledger[(ledger["table"] == table) & (ledger["status"] == "excluded")]


def _folder(tmp_path, referrals=REFERRALS_2024, **files: str):
    write_referrals(tmp_path, referrals)
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    return tmp_path


# --- numbers are read one way only -------------------------------------------------------------


def test_decimal_comma_in_fte_is_refused_not_read_as_15(tmp_path):
    path = tmp_path / "staffing.csv"
    path.write_text(
        "month,team,role,fte_in_post,fte_funded\n"
        + "".join(f"2024-{m:02d},IDVA team,IDVA,6.0,6.0\n" for m in range(1, 13))
        + '2025-01,IDVA team,IDVA,"1,5",6.0\n'
    )
    frame, ledger = read_table(path, STAFFING, TODAY)
    bad = ledger[ledger["status"] == "excluded"]
    assert bad["row"].tolist() == [14]
    assert "fte_in_post: '1,5' has a comma that could be read two ways" in bad["reason"].item()
    assert "a decimal point (1.5)" in bad["reason"].item()
    assert 15.0 not in frame["fte_in_post"].tolist()


@pytest.mark.parametrize(
    ("value", "read", "reason"),
    [
        ('"1,500"', 1500.0, None),
        ('"1,5"', None, "has a comma that could be read two ways"),
        ("12.5", None, "'12.5' is not a whole number"),
        ("1e12", None, None),  # read, then refused by the series check in load_extract
    ],
)
def test_counts_take_thousands_separators_only(tmp_path, value, read, reason):
    path = tmp_path / "police.csv"
    path.write_text(f"month,da_incidents,da_crimes\n2024-01,{value},50\n")
    frame, ledger = read_table(path, POLICE, TODAY)
    if reason:
        assert reason in ledger["reason"].item()
        assert frame.empty
    elif read is not None:
        assert frame["da_incidents"].item() == read


# --- dates: after the extract, and day/month order ------------------------------------------


def test_referral_after_the_extract_date_is_excluded(tmp_path):
    folder = _folder(tmp_path, [*REFERRALS_2024, "R99,C99,14/03/2030,Police,High,,,Victim"])
    (folder / "VINTAGE").write_text("Case system export, extract taken 2026-10-05\n")
    extract = load_extract(folder, config=WITH_AREA)
    bad = _excluded(extract.ledger, "referrals")
    assert bad["row"].tolist() == [42]
    assert "referral_date: 14/03/2030 is after the extract date 05/10/2026" in bad["reason"].item()
    assert "(from the data's vintage line)" in bad["reason"].item()
    assert extract["referrals"]["referral_date"].max() < pd.Timestamp("2025-01-01")


def test_extract_date_from_config_wins_and_months_are_checked(tmp_path):
    folder = _folder(
        tmp_path,
        police="month,da_incidents,da_crimes\n"
        + "".join(f"2024-{m:02d},100,50\n" for m in range(1, 13))
        + "2024-12-01,100,50\n2025-02,100,50\n",
    )
    (folder / "config.csv").write_text(
        "key,value,unit,source\nextract_date,31/01/2025,date,x\ndefault_area,Sampleborough,,\n"
    )
    extract = load_extract(folder)
    bad = _excluded(extract.ledger, "police")
    assert any("month: 2025-02 is after the extract date 31/01/2025" in r for r in bad["reason"])
    assert any("(from config extract_date)" in r for r in bad["reason"])


def test_month_first_file_is_read_month_first_with_a_note(tmp_path):
    rows = [
        "R1,C1,04/13/2024,Police,High,,,Victim",
        "R2,C2,03/04/2024,Police,High,,,Victim",  # 4 March in this file, not 3 April
        "R3,C3,12/25/2024,Police,High,,,Victim",
    ]
    notes: list[str] = []
    frame, _ = read_table(write_referrals(tmp_path, rows), REFERRALS, TODAY, notes=notes)
    assert frame["referral_date"].tolist() == [
        pd.Timestamp("2024-04-13"),
        pd.Timestamp("2024-03-04"),
        pd.Timestamp("2024-12-25"),
    ]
    assert "dates read month-first (mm/dd/yyyy)" in notes[0]


def test_file_mixing_day_first_and_month_first_is_refused_naming_rows(tmp_path):
    rows = [*REFERRALS_2024, "R98,C98,04/13/2024,Police,High,,,Victim"]
    with pytest.raises(DataContractError) as err:
        read_table(write_referrals(tmp_path, rows), REFERRALS, TODAY)
    message = str(err.value)
    assert "referrals.csv" in message and "both day-first" in message
    assert "row 42 referral_date '04/13/2024'" in message
    assert "Export every date as dd/mm/yyyy" in message


# --- FTE and counts out of all proportion ----------------------------------------------------


def _staffing(months: int = 12, extra: str = "") -> str:
    rows = "".join(
        f"2024-{m:02d},IDVA team,IDVA,6.0,6.0\n2024-{m:02d},Outreach,Outreach worker,4.0,4.0\n"
        for m in range(1, months + 1)
    )
    return "month,team,role,fte_in_post,fte_funded\n" + rows + extra


def test_negative_fte_excludes_the_whole_month_not_a_partial_total(tmp_path):
    text = _staffing().replace(
        "2024-06,Outreach,Outreach worker,4.0", "2024-06,Outreach,Outreach worker,-4.0"
    )
    extract = load_extract(_folder(tmp_path, staffing=text), config=TODAY)
    bad = _excluded(extract.ledger, "staffing")
    assert len(bad) == 2  # the negative row and the rest of its month
    assert any("must be zero or more" in r for r in bad["reason"])
    assert any("month 2024-06 is incomplete" in r for r in bad["reason"])
    assert pd.Period("2024-06", "M") not in set(extract["staffing"]["month"])


def test_fte_above_the_plausible_maximum_per_row_and_per_team(tmp_path):
    text = _staffing(extra="2025-01,IDVA team,IDVA,60,6\n")
    text = text.replace("2024-03,IDVA team,IDVA,6.0", "2024-03,IDVA team,IDVA,39")
    text += "2024-03,IDVA team,Senior IDVA,39,1\n2024-03,IDVA team,Manager,39,1\n"
    extract = load_extract(_folder(tmp_path, staffing=text), config=LENIENT)
    reasons = _excluded(extract.ledger, "staffing")["reason"]
    assert reasons.str.contains("60 FTE for one team and role is above the plausible 40").any()
    assert reasons.str.contains("team 'IDVA team' has 117 FTE in post in 2024-03").any()
    assert not extract["staffing"]["month"].isin([pd.Period("2024-03", "M")]).any()


def test_count_far_above_its_series_or_the_population_is_excluded(tmp_path):
    police = "month,da_incidents,da_crimes\n" + "".join(
        f"{2023 + i // 12}-{i % 12 + 1:02d},{100 + i % 7},{50 + i % 5}\n" for i in range(24)
    )
    police = police.replace("2023-06,105,50", "2023-06,1e12,50")
    population = "area,year,females_16plus,males_16plus\nSampleborough,2023,20000,20000\n"
    extract = load_extract(_folder(tmp_path, police=police, population=population), config=TODAY)
    reasons = _excluded(extract.ledger, "police")["reason"].tolist()
    assert len(reasons) == 1
    assert "times the typical month of this series" in reasons[0]
    assert extract["police"]["da_incidents"].max() < 1000
    # A series whose every month is near or above the area's adults is out of scale as a whole
    # (issue 20): the load stops naming the file, rather than excluding month by month.
    population = "area,year,females_16plus,males_16plus\nSampleborough,2023,2000,2000\n"
    (tmp_path / "population.csv").write_text(population)
    with pytest.raises(DataContractError, match="police.csv: 1,2.. da_incidents a year"):
        load_extract(tmp_path, config=TODAY)


# --- no silent drop ---------------------------------------------------------------------------


def test_blank_or_unknown_service_and_short_rows_are_ledgered(tmp_path):
    rows = [
        *REFERRALS_2024,
        "R90,C90,14/03/2024,Police,High,,,",  # blank service
        "R91,C91,14/03/2024,Police,High,,,Victm",  # misspelt service
        "R92,C92,14/03/2024",  # a short row: pandas pads it with blanks
    ]
    extract = load_extract(_folder(tmp_path, rows), config=LENIENT)
    bad = _excluded(extract.ledger, "referrals").set_index("row")["reason"]
    assert "service: is blank but is required" in bad[42]
    assert "service 'Victm' not in the mapping table" in bad[43]
    assert "service: is blank but is required" in bad[44]
    assert len(extract["referrals"]) == 40
    assert (extract["referrals"]["service"] != "unknown").all()


def test_rows_for_areas_the_extract_does_not_cover_are_excluded(tmp_path):
    staffing = _staffing(2).replace("\n2024-02,Outreach", "\nNorthfield,2024-02,Outreach")
    staffing = "area," + staffing.replace("\n2024", "\nSampleborough,2024")
    police = "area,month,da_incidents,da_crimes\nNorth field,2024-01,100,50\n"
    population = (
        "area,year,females_16plus,males_16plus\nSampleborough,2024,70000,68000\n"
        "Elsewhere,2024,1000,1000\n"
    )
    rows = [*REFERRALS_2024, "R95,C95,14/03/2024,Police,High,,,Victim,Sampleborogh"]
    rows = [r + ",Sampleborough" if r.count(",") == 7 else r for r in rows]
    write_referrals(tmp_path, rows)
    path = tmp_path / "referrals.csv"
    path.write_text(path.read_text().replace(REFERRAL_HEADER, REFERRAL_HEADER + ",area"))
    for name, text in {"staffing": staffing, "police": police, "population": population}.items():
        (tmp_path / f"{name}.csv").write_text(text)
    extract = load_extract(tmp_path, config=TODAY)
    ledger = extract.ledger
    misspelt = _excluded(ledger, "referrals")["reason"].item()
    assert "area 'Sampleborogh' is not in population.csv" in misspelt
    assert (
        _excluded(ledger, "police")["reason"]
        .item()
        .startswith("area 'North field' has no rows in referrals")
    )
    # Files that cover the extract's area and others (a wider population or staffing file):
    # the other areas' rows are out of scope, excluded and listed but not faults.
    outside = "is not one of this extract's areas (the areas of referrals)"
    assert f"area 'Elsewhere' {outside}" in _excluded(ledger, "population")["reason"].item()
    assert f"area 'Northfield' {outside}" in _excluded(ledger, "staffing")["reason"].item()
    assert extract.areas() == ["Sampleborough"]


def test_placeholder_client_ids_are_blank_not_one_client(tmp_path):
    rows = [r.replace(f",C{i},", ",N/A,") for i, r in enumerate(REFERRALS_2024)]
    rows = [r.replace(r.split(",")[2], "14/03/2024") for r in rows]  # same day, same service
    extract = load_extract(_folder(tmp_path, rows), config=TODAY)
    assert len(extract["referrals"]) == 40  # none removed as a "probable duplicate"
    assert extract.ledger["reason"].str.contains("client_id blank").sum() == 40


def test_share_limit_applies_after_duplicate_removal(tmp_path):
    rows = [r.replace(f",C{i},", ",C1,") for i, r in enumerate(REFERRALS_2024)]
    rows = [r.replace(r.split(",")[2], "14/03/2024") for r in rows]
    with pytest.raises(DataContractError, match=r"39 of 40 rows .* probable duplicate"):
        load_extract(_folder(tmp_path, rows), config=TODAY)


def test_returns_beside_referrals_are_ledgered_as_not_used(tmp_path):
    returns = "period,referrals,self_referrals,high_risk,standard_medium_risk\n2024-01,10,2,3,7\n"
    extract = load_extract(_folder(tmp_path, returns=returns), config=TODAY)
    row = extract.ledger[extract.ledger["table"] == "returns"]
    assert row["status"].item() == "excluded" and "not used" in row["reason"].item()


# --- clear errors --------------------------------------------------------------------------------


def test_csv_and_xlsx_of_one_table_is_an_error(tmp_path):
    folder = _folder(tmp_path)
    pd.DataFrame({"month": ["2024-01"], "da_incidents": [1], "da_crimes": [1]}).to_excel(
        folder / "police.xlsx", index=False
    )
    (folder / "police.csv").write_text("month,da_incidents,da_crimes\n2024-01,1,1\n")
    with pytest.raises(DataContractError, match="both police.csv and police.xlsx are present"):
        load_extract(folder, config=TODAY)


def test_mapping_file_with_the_wrong_header_is_named(tmp_path):
    folder = _folder(tmp_path)
    (folder / "mappings").mkdir()
    (folder / "mappings" / "referral_source.csv").write_text("label,means\nneighbour,family\n")
    with pytest.raises(MappingError, match=r"referral_source.csv, row 1 \(header\), column 'raw'"):
        load_extract(folder, config=TODAY)


def test_broken_xlsx_is_a_contract_error(tmp_path):
    folder = _folder(tmp_path)
    (folder / "police.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(DataContractError, match="police.xlsx: cannot be read as a table"):
        load_extract(folder, config=TODAY)


@pytest.mark.parametrize("content", ["", "month,team,role,fte_in_post,fte_funded\n"])
def test_missing_or_empty_optional_table_only_notes_what_it_switches_off(tmp_path, content):
    folder = _folder(tmp_path, staffing=content)
    extract = load_extract(folder, config=TODAY)
    assert any(
        "caseload per FTE and the staffing gap are not available" in n for n in extract.notes
    )
    assert extract["staffing"].empty and len(extract["referrals"]) == 40


def test_reason_categories_carry_no_values_or_row_numbers():
    assert (
        reason_category("referral_date: '31/02/2024' is not a date; write it as dd/mm/yyyy")
        == "referral_date: [value] is not a date"
    )
    assert reason_category("duplicate of row 102 (same referral_id)") == (
        "duplicate of an earlier row (same referral_id)"
    )
    assert (
        reason_category("gender 'Two-spirit' not in the mapping table, counted as unknown")
        == "gender [value] not in the mapping table, counted as unknown"
    )
    assert "1,000,000" not in reason_category("da_crimes: 1,000,000 is more than 10 times")
    assert reason_category("month: 2025-02 is after the extract date 31/01/2025 (x)") == (
        "month: [date] is after the extract date [date] (x)"
    )


def test_year_typo_before_2000_is_excluded(tmp_path):
    folder = _folder(tmp_path, [*REFERRALS_2024, "R97,C97,14/03/1924,Police,High,,,Victim"])
    extract = load_extract(folder, config=TODAY)
    reason = _excluded(extract.ledger, "referrals")["reason"].item()
    assert reason.startswith("referral_date: 14/03/1924 is before 2000")


def test_returns_parts_above_their_total_are_excluded(tmp_path):
    (tmp_path / "returns.csv").write_text(
        "period,referrals,self_referrals,high_risk,standard_medium_risk\n"
        + "".join(f"2024-{m:02d},100,20,30,60\n" for m in range(1, 13))
        + "2025-01,100,120,30,60\n2025-02,100,20,60,60\n"
    )
    extract = load_extract(tmp_path, config=LENIENT)
    reasons = _excluded(extract.ledger, "returns").set_index("row")["reason"]
    assert "self_referrals is larger than referrals" in reasons[14]
    assert "high_risk + standard_medium_risk is larger than referrals" in reasons[15]


def test_months_written_as_month_first_dates_are_read_month_first(tmp_path):
    path = tmp_path / "police.csv"
    path.write_text("month,da_incidents,da_crimes\n01/31/2024,100,50\n02/01/2024,100,50\n")
    notes: list[str] = []
    frame, _ = read_table(path, POLICE, TODAY, notes=notes)
    assert [str(m) for m in frame["month"]] == ["2024-01", "2024-02"]  # not 2 January
    assert notes and "month-first" in notes[0]


def test_semicolon_separated_file_is_named(tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text(REFERRAL_HEADER.replace(",", ";") + "\nR1;C1;14/03/2024;Police;High;;;Victim\n")
    with pytest.raises(DataContractError, match="separated by ';', not ','"):
        read_table(path, REFERRALS, TODAY)
