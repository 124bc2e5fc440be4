"""The data contract: each kind of bad input, the ledger, encodings and formats."""

from __future__ import annotations

import pandas as pd
import pytest

from daanalysis.ingest.load import DataContractError, ledger_summary, load_extract, read_table
from daanalysis.ingest.schema import POLICE, REFERRALS
from tests.conftest import REFERRAL_HEADER, SAMPLE, WITH_AREA, write_referrals

GOOD = [
    "R1,C1,01/04/2024,Self referral,Standard,01/04/2024,,Victim",
    "R2,C2,03/04/2024,Police,High,04/04/2024,30/06/2024,Victim",
    "R3,C1,05/05/2024,GP,Medium,,,Victim",
]


def _read(path, config=None):
    return read_table(path, REFERRALS, config or WITH_AREA)


def test_good_rows_are_all_used(tmp_path):
    frame, ledger = _read(write_referrals(tmp_path, GOOD))
    assert len(frame) == 3
    assert (ledger["status"] == "used").all()
    # 03/04/2024 is 3 April: UK day-first, never the US reading.
    assert frame.loc[1, "referral_date"] == pd.Timestamp("2024-04-03")
    assert list(frame["source_row"]) == [2, 3, 4]


def test_missing_folder_names_it(tmp_path):
    with pytest.raises(DataContractError, match="data folder not found"):
        load_extract(tmp_path / "nowhere")


def test_folder_without_referrals_or_returns(tmp_path):
    with pytest.raises(DataContractError, match="neither referrals"):
        load_extract(tmp_path)


def test_missing_column_names_file_row_column_and_fix(tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text(
        REFERRAL_HEADER.replace(",risk_level", "") + "\nR1,C1,01/04/2024,Self,,,Victim\n"
    )
    with pytest.raises(DataContractError) as err:
        _read(path)
    message = str(err.value)
    assert "referrals.csv" in message
    assert "row 1" in message
    assert "'risk_level'" in message
    assert "Rename or add the column" in message


def test_bad_date_excludes_the_row_with_row_and_column(tmp_path):
    rows = [*GOOD, *[f"R{i},C{i},0{i % 9 + 1}/05/2024,Police,High,,,Victim" for i in range(10, 80)]]
    rows.append("R99,C99,2024/31/12,Police,High,,,Victim")
    frame, ledger = _read(write_referrals(tmp_path, rows))
    bad = ledger[ledger["status"] == "excluded"]
    assert len(bad) == 1
    assert bad["row"].item() == len(rows) + 1
    assert "referral_date: '2024/31/12' is not a date" in bad["reason"].item()
    assert "R99" not in set(frame["referral_id"])


def test_closed_before_referral_is_excluded(tmp_path):
    rows = [f"R{i},C{i},01/05/2024,Police,High,,,Victim" for i in range(40)]
    rows.append("R99,C99,10/05/2024,Police,High,,01/05/2024,Victim")
    _, ledger = _read(write_referrals(tmp_path, rows))
    reason = ledger.loc[ledger["status"] == "excluded", "reason"].item()
    assert reason.startswith("closed_date is before referral_date")


def test_blank_required_value_is_excluded(tmp_path):
    rows = [*[f"R{i},C{i},01/05/2024,Police,High,,,Victim" for i in range(40)]]
    rows.append(",C99,10/05/2024,Police,High,,,Victim")
    _, ledger = _read(write_referrals(tmp_path, rows))
    assert ledger.loc[ledger["status"] == "excluded", "reason"].item() == (
        "referral_id: is blank but is required"
    )


def test_duplicate_referral_id_points_at_the_first(tmp_path):
    rows = [*[f"R{i},C{i},01/05/2024,Police,High,,,Victim" for i in range(40)]]
    rows.append("R3,C3,01/05/2024,Police,High,,,Victim")
    _, ledger = _read(write_referrals(tmp_path, rows))
    excluded = ledger[ledger["status"] == "excluded"]
    assert excluded["row"].item() == 42
    assert excluded["reason"].item() == "duplicate of row 5 (same referral_id)"


def test_too_many_bad_rows_stop_with_the_first_problem(tmp_path):
    rows = [f"R{i},C{i},2024-13-45,Police,High,,,Victim" for i in range(10)]
    with pytest.raises(DataContractError, match=r"10 of 10 rows .* First: row 2: referral_date"):
        _read(write_referrals(tmp_path, rows))


def _police_with(tmp_path, last_line: str):
    """40 good months of police figures (2020-01 onwards) and one more line."""
    lines = ["month,da_incidents,da_crimes"]
    lines += [f"{2020 + i // 12}-{i % 12 + 1:02d},100,50" for i in range(40)]
    path = tmp_path / "police.csv"
    path.write_text("\n".join([*lines, last_line]) + "\n")
    return read_table(path, POLICE, WITH_AREA)


def test_bad_number_in_police_table(tmp_path):
    frame, ledger = _police_with(tmp_path, "2024-06,lots,50")
    bad = ledger[ledger["status"] == "excluded"]
    assert "da_incidents: 'lots' is not a number" in bad["reason"].item()
    assert len(frame) == 40


def test_negative_count_is_excluded(tmp_path):
    _, ledger = _police_with(tmp_path, "2024-06,-3,50")
    assert "da_incidents: -3.0 must be zero or more" in ledger["reason"].str.cat()


def test_cp1252_and_bom_are_tolerated(tmp_path):
    text = "\n".join([REFERRAL_HEADER + ",ethnicity", GOOD[0] + ",White – other"]) + "\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "referrals.csv").write_bytes(text.encode("cp1252"))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "referrals.csv").write_bytes(text.encode("utf-8-sig"))
    for folder in ("a", "b"):
        frame, _ = _read(tmp_path / folder / "referrals.csv")
        assert frame.loc[0, "ethnicity"] == "White – other"
        assert frame.loc[0, "referral_id"] == "R1"  # no BOM glued to the first header


def test_xlsx_reads_like_csv(tmp_path):
    csv_path = write_referrals(tmp_path / "csv", GOOD)
    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    raw["referral_date"] = pd.to_datetime(raw["referral_date"], format="%d/%m/%Y")
    xlsx = tmp_path / "referrals.xlsx"
    raw.to_excel(xlsx, index=False)
    from_csv, _ = _read(csv_path)
    from_xlsx, _ = _read(xlsx)
    pd.testing.assert_series_equal(from_csv["referral_date"], from_xlsx["referral_date"])


def test_unknown_label_is_counted_and_noted(tmp_path):
    write_referrals(tmp_path, [*GOOD, "R4,C4,06/05/2024,Neighbour,High,,,Victim"])
    extract = load_extract(tmp_path, config=WITH_AREA)
    ref = extract["referrals"]
    assert ref.loc[ref["referral_id"] == "R4", "referral_source"].item() == "unknown"
    row = extract.ledger[extract.ledger["row"] == 5]
    assert row["status"].item() == "used"
    assert "'Neighbour' not in the mapping table" in row["reason"].item()


def test_analyst_mapping_extends_the_packaged_one(tmp_path):
    write_referrals(tmp_path, [*GOOD, "R4,C4,06/05/2024,Neighbour,High,,,Victim"])
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "referral_source.csv").write_text(
        "raw,canonical\nneighbour,family_friend\n"
    )
    ref = load_extract(tmp_path, config=WITH_AREA)["referrals"]
    assert ref.loc[ref["referral_id"] == "R4", "referral_source"].item() == "family_friend"
    assert ref.loc[ref["referral_id"] == "R1", "referral_source"].item() == "self"


def test_probable_duplicate_is_excluded_and_client_id_never_kept(tmp_path):
    write_referrals(tmp_path, [*GOOD, "R9,C2,03/04/2024,Police,High,04/04/2024,30/06/2024,Victim"])
    extract = load_extract(tmp_path, config=WITH_AREA, salt=b"k")
    assert "client_id" not in extract["referrals"].columns
    assert not extract["referrals"]["client_key"].isin(["C1", "C2"]).any()
    row = extract.ledger[extract.ledger["row"] == 5]
    assert row["status"].item() == "excluded"
    assert row["reason"].item() == "probable duplicate of row 3 (same client, service and date)"
    # The same client keeps one key, so repeats can be found without the identifier.
    keys = extract["referrals"].set_index("referral_id")["client_key"]
    assert keys["R1"] == keys["R3"] != keys["R2"]


def test_ledger_accounts_for_every_row_of_the_sample(sample_extract):
    summary = ledger_summary(sample_extract.ledger)
    for table, frame in sample_extract.tables.items():
        if table not in set(summary["table"]):
            continue
        text = (SAMPLE / f"{table}.csv").read_text(encoding="cp1252")
        lines = len(text.splitlines()) - 1
        row = summary[summary["table"] == table].iloc[0]
        assert row["rows_read"] == lines == row["used"] + row["excluded"]
        assert row["used"] == len(frame)


def test_sample_planted_data_quality_problems_are_all_listed(sample_extract):
    ledger = sample_extract.ledger
    excluded = ledger[ledger["status"] == "excluded"]["reason"]
    assert excluded.str.contains("same referral_id").sum() == 1
    assert excluded.str.contains("probable duplicate").sum() == 1
    assert excluded.str.contains("'31/02/2024' is not a date").sum() == 1
    assert excluded.str.contains("closed_date is before referral_date").sum() == 1
    noted = ledger[(ledger["status"] == "used") & (ledger["reason"] != "")]["reason"]
    assert noted.str.contains("'Neighbour'").sum() == 2
    assert noted.str.contains("client_id blank").sum() == 1


def test_latest_in_a_month_column_is_no_month(tmp_path):
    # "latest" is a quarter only on the command line; in a data file it must not be read as
    # whatever quarter today makes it.
    frame, ledger = _police_with(tmp_path, "latest,12,5")
    bad = ledger[ledger["status"] == "excluded"]
    assert "'latest'" in bad["reason"].item() and "month" in bad["reason"].item()
    assert len(frame) == 40


def test_xlsx_with_two_sheets_of_data_is_refused_not_read_in_part(tmp_path):
    raw = pd.read_csv(write_referrals(tmp_path / "csv", GOOD), dtype=str, keep_default_na=False)
    xlsx = tmp_path / "referrals.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        raw.iloc[:2].to_excel(writer, sheet_name="2024", index=False)
        raw.iloc[2:].to_excel(writer, sheet_name="2025", index=False)
        pd.DataFrame().to_excel(writer, sheet_name="Notes", index=False)
    with pytest.raises(
        (DataContractError, ValueError), match=r"2 sheets with data \('2024', '2025'\)"
    ):
        _read(xlsx)
    with pd.ExcelWriter(xlsx) as writer:  # one sheet of data beside an empty one: read
        pd.DataFrame().to_excel(writer, sheet_name="Cover", index=False)
        raw.to_excel(writer, sheet_name="Data", index=False)
    assert len(_read(xlsx)[0]) == 3
