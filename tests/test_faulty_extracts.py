"""Faulty extracts as councils really send them, one test per fault found getting through.

Each test failed before its fix: the fault was read as a wrong figure, a confusing error, or not
at all. The standard: bad input gets a clear error (file, row, column, fix) or a ledgered
exclusion, never a figure read the wrong way.
"""

from __future__ import annotations

import codecs

import openpyxl
import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.load import DataContractError, load_extract, read_table
from daanalysis.ingest.schema import ACTION_PLAN, POLICE, REFERRALS
from tests.conftest import REFERRAL_HEADER, write_referrals

TODAY = Config(default_area="Sampleborough", extract_date="2026-10-05")
# 40 referrals over 2024, all unambiguous (day 13 or later).
REFERRALS_2024 = [
    f"R{i},C{i},{13 + i % 15:02d}/{1 + i % 12:02d}/2024,Police,High,,,Victim" for i in range(40)
]
POLICE_2024 = "month,da_incidents,da_crimes\n" + "".join(
    f"2024-{m:02d},{100 + m},{50 + m}\n" for m in range(1, 13)
)


def _excluded(ledger: pd.DataFrame, table: str) -> pd.DataFrame:
    return ledger[(ledger["table"] == table) & (ledger["status"] == "excluded")]


# --- labels and names that print the same are the same -----------------------------------------


def test_labels_match_whatever_their_case_spacing_hyphens_or_invisible_characters(tmp_path):
    variants = [
        ("SELF\u00a0REFERRAL", "\u200bHigh", "self", "high"),
        ("self_referral", "High\u00a0", "self", "high"),
        ("Self-Referral", "STANDARD\u200b", "self", "standard"),
        ("Children\u2019s Services", "medium", "children_services", "medium"),
        ("CHILDRENS  SERVICES", "H", "children_services", "high"),
    ]
    rows = [
        f"R{100 + i},C{100 + i},14/03/2024,{source},{risk},,,Victim\u200b"
        for i, (source, risk, _, _) in enumerate(variants)
    ]
    write_referrals(tmp_path, [*REFERRALS_2024, *rows])
    extract = load_extract(tmp_path, config=TODAY)
    mine = extract["referrals"].set_index("referral_id").loc[[f"R{100 + i}" for i in range(5)]]
    assert mine["referral_source"].tolist() == [v[2] for v in variants]
    assert mine["risk_level"].tolist() == [v[3] for v in variants]
    assert (mine["service"] == "victim").all()
    assert not extract.ledger["reason"].str.contains("not in the mapping table").any()


def test_rag_spellings_of_amber_green_are_amber_green(tmp_path):
    path = tmp_path / "action_plan.csv"
    path.write_text(
        "priority,action_id,action,lead,review_date,rag\n"
        "1,1a,x,y,01/04/2024,Amber-Green\n1,1b,x,y,01/04/2024,A / G\n"
        "1,1c,x,y,01/04/2024,amber green\n1,1d,x,y,01/04/2024,GREEN\u00a0\n"
    )
    write_referrals(tmp_path, REFERRALS_2024)
    extract = load_extract(tmp_path, config=TODAY)
    assert extract["action_plan"]["rag"].tolist() == ["amber/green"] * 3 + ["green"]
    assert read_table(path, ACTION_PLAN, TODAY)[1]["status"].eq("used").all()


def test_area_with_an_invisible_character_is_not_a_second_area(tmp_path):
    rows = [r + ",Sampleborough" for r in REFERRALS_2024]
    rows[3] = rows[3].replace(",Sampleborough", ",Sampleborough\u200b")
    rows[4] = rows[4].replace(",Sampleborough", ", Sampleborough\u00a0")
    path = write_referrals(tmp_path, rows)
    path.write_text(path.read_text().replace(REFERRAL_HEADER, REFERRAL_HEADER + ",area"))
    police = "area," + POLICE_2024.replace("\n2024", "\nSampleborough\u200b,2024")
    (tmp_path / "police.csv").write_text(police)
    extract = load_extract(tmp_path, config=TODAY)
    assert extract.areas() == ["Sampleborough"]
    assert len(extract["referrals"]) == 40
    assert len(extract["police"]) == 12 and set(extract["police"]["area"]) == {"Sampleborough"}


def test_header_with_an_invisible_character_is_found(tmp_path):
    path = write_referrals(tmp_path, REFERRALS_2024)
    path.write_text(path.read_text().replace("referral_id", "\ufeffReferral\u200b ID", 1))
    frame, ledger = read_table(path, REFERRALS, TODAY)
    assert len(frame) == 40 and ledger["status"].eq("used").all()


# --- dates as exports write them ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-03-31T23:30:00Z", "2024-04-01"),  # UTC, 00:30 in the UK (BST): April
        ("2024-04-01T00:30:00+01:00", "2024-04-01"),
        ("2024-04-01T00:30:00.000Z", "2024-04-01"),
        ("2024-01-15T09:00:00", "2024-01-15"),
        ("15/01/2024 09:00:00", "2024-01-15"),
        ("15-Jan-2024", "2024-01-15"),
        ("15 January 2024", "2024-01-15"),
    ],
)
def test_timestamps_and_dates_in_words_are_read_as_their_uk_day(tmp_path, text, day):
    path = write_referrals(tmp_path, [*REFERRALS_2024, f"R99,C99,{text},Police,High,,,Victim"])
    frame, ledger = read_table(path, REFERRALS, TODAY)
    assert ledger["status"].eq("used").all(), ledger["reason"].str.cat()
    assert frame.loc[frame["referral_id"] == "R99", "referral_date"].item().normalize() == (
        pd.Timestamp(day)
    )


def test_first_contact_on_the_day_of_a_timed_referral_is_not_before_it(tmp_path):
    rows = [*REFERRALS_2024, "R99,C99,14/03/2024 10:30,Police,High,14/03/2024,,Victim"]
    frame, ledger = read_table(write_referrals(tmp_path, rows), REFERRALS, TODAY)
    assert ledger["status"].eq("used").all(), ledger["reason"].str.cat()
    assert "R99" in set(frame["referral_id"])


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("45366", "an Excel date serial number: format the column as dates"),
        ("14/03/24", "a two-digit year: write the year in full"),
    ],
)
def test_excel_serial_numbers_and_two_digit_years_say_so(tmp_path, value, hint):
    path = write_referrals(tmp_path, [*REFERRALS_2024, f"R99,C99,{value},Police,High,,,Victim"])
    _, ledger = read_table(path, REFERRALS, TODAY)
    reason = ledger.loc[ledger["status"] == "excluded", "reason"].item()
    assert reason.startswith(f"referral_date: '{value}' is not a date (")
    assert hint in reason


# --- files as Excel saves them -------------------------------------------------------------------


def test_utf16_file_is_read(tmp_path):
    path = tmp_path / "police.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + POLICE_2024.replace("\n", "\r\n").encode("utf-16-le"))
    frame, ledger = read_table(path, POLICE, TODAY)
    assert len(frame) == 12 and ledger["status"].eq("used").all()
    assert frame["da_incidents"].sum() == sum(100 + m for m in range(1, 13))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_tab_separated_file_is_named_with_the_fix(tmp_path, encoding):
    path = tmp_path / "police.csv"
    path.write_text(POLICE_2024.replace(",", "\t"), encoding=encoding)
    with pytest.raises(
        DataContractError, match=r"police.csv, row 1 \(header\): .*separated by tabs"
    ):
        read_table(path, POLICE, TODAY)


def _workbook(path, rows, hidden: list | None = None) -> None:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if hidden:
        sheet = book.create_sheet("Lookup")
        for row in hidden:
            sheet.append(row)
        sheet.sheet_state = "hidden"
    book.save(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_title_rows_above_the_header_are_named_with_the_fix(tmp_path, suffix):
    rows = [
        ["Police recorded domestic abuse, exported 05/10/2026"],
        [],
        *[line.split(",") for line in POLICE_2024.splitlines()],
    ]
    path = tmp_path / f"police{suffix}"
    if suffix == ".xlsx":
        _workbook(path, rows)
    else:
        path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    with pytest.raises(DataContractError) as err:
        read_table(path, POLICE, TODAY)
    message = str(err.value)
    assert "required column missing" in message
    assert "Row 3 holds the header (month, da_incidents, da_crimes)" in message
    assert "Delete rows 1 to 2 so that the header is on row 1" in message


def test_hidden_sheet_with_data_is_named_as_hidden(tmp_path):
    path = tmp_path / "police.xlsx"
    _workbook(path, [line.split(",") for line in POLICE_2024.splitlines()], [["code"], ["x"]])
    with pytest.raises(DataContractError, match=r"'Lookup' \(hidden\).*unhide it"):
        read_table(path, POLICE, TODAY)


# --- figures that were counted twice, or not at all ---------------------------------------------


def _marac(extra: str) -> str:
    return (
        "period,cases_discussed,repeat_cases\n"
        + "".join(f"2024-{m:02d},30,9\n" for m in range(1, 13))
        + extra
    )


@pytest.mark.parametrize("table", ["marac", "returns"])
def test_a_quarter_given_as_well_as_its_months_is_an_error_not_a_double_count(tmp_path, table):
    from daanalysis.panel import build_panel

    if table == "marac":
        write_referrals(tmp_path, REFERRALS_2024)
        (tmp_path / "marac.csv").write_text(_marac("2024/25 Q1,95,27\n"))  # not their sum
    else:
        (tmp_path / "returns.csv").write_text(
            "period,referrals,self_referrals,high_risk,standard_medium_risk\n"
            + "".join(f"2024-{m:02d},100,20,30,70\n" for m in range(1, 13))
            + "2024/25 Q1,310,60,90,210\n"  # not the sum of its months
        )
    extract = load_extract(tmp_path, config=TODAY)
    with pytest.raises(DataContractError) as err:
        build_panel(extract)
    message = str(err.value)
    assert f"{table}.csv, row 14, column period: the quarter 2024/25 Q1 (Apr-Jun 2024)" in message
    assert "its months 2024-04, 2024-05, 2024-06 (rows 5, 6, 7)" in message
    assert "counted twice" in message


def test_a_programme_quarter_given_as_well_as_its_month_is_an_error(tmp_path):
    from daanalysis.panel import build_panel

    write_referrals(tmp_path, REFERRALS_2024)
    (tmp_path / "perpetrator_programme.csv").write_text(
        "period,programme,starts,completions\n"
        "2024/25 Q1,Men and masculinities,5,1\n"
        "2024-05,Men and masculinities,2,0\n"
        "2024-05,Another programme,3,0\n"  # another programme's month: no overlap
    )
    with pytest.raises(DataContractError) as err:
        build_panel(load_extract(tmp_path, config=TODAY))
    message = str(err.value)
    assert "perpetrator_programme.csv, row 2, column period: the quarter 2024/25 Q1" in message
    assert "Men and masculinities is given as well as its month 2024-05 (row 3)" in message


def test_quarters_alone_or_months_alone_are_spread_as_before(tmp_path):
    from daanalysis.panel import build_panel

    write_referrals(tmp_path, REFERRALS_2024)
    (tmp_path / "marac.csv").write_text(
        "period,cases_discussed,repeat_cases\n2023/24 Q4,90,27\n2024/25 Q1,60,30\n"
    )
    panel = build_panel(load_extract(tmp_path, config=TODAY))
    april = panel.loc[panel["month"] == pd.Period("2024-04", "M"), "marac_cases"].item()
    assert april == 20


def _staffing_file(tmp_path, rows: str) -> None:
    (tmp_path / "staffing.csv").write_text("month,team,role,fte_in_post,fte_funded\n" + rows)


def test_caseload_role_in_another_case_still_counts_as_caseworker_fte(tmp_path):
    from daanalysis.panel import build_panel

    write_referrals(tmp_path, REFERRALS_2024)
    _staffing_file(
        tmp_path,
        "".join(
            f"2024-{m:02d},IDVA team,{'idva' if m == 12 else 'IDVA'},6.0,6.0\n"
            f"2024-{m:02d},Outreach,OUTREACH\u00a0WORKER,4.0,4.0\n"
            for m in range(1, 13)
        ),
    )
    panel = build_panel(load_extract(tmp_path, config=TODAY))
    assert panel.loc[panel["month"].dt.year == 2024, "caseworker_fte"].eq(10.0).all()


def test_fte_written_as_a_percentage_is_excluded_with_its_month(tmp_path):
    write_referrals(tmp_path, REFERRALS_2024)
    rows = "".join(
        f"2024-{m:02d},IDVA team,IDVA,6.0,6.0\n"
        f"2024-{m:02d},Management,Service manager,{'30' if m == 6 else '0.3'},0.3\n"
        f"2024-{m:02d},Outreach,Outreach worker,{'20' if m == 9 else '0.2'},"
        f"{'20' if m == 9 else '0.2'}\n"
        for m in range(1, 13)
    )
    rows += "2025-01,IDVA team,IDVA,6.0,0.06\n"  # in post vs funded: one is a percentage
    _staffing_file(tmp_path, rows)
    extract = load_extract(
        tmp_path,
        config=Config(
            default_area="Sampleborough", extract_date="2026-10-05", max_excluded_share=0.5
        ),
    )
    reasons = _excluded(extract.ledger, "staffing").set_index("row")["reason"]
    assert "fte_in_post: 30 looks like a percentage" in reasons[18]
    assert "fte_in_post: 20 looks like a percentage" in reasons[28]
    assert "differ about a hundredfold" in reasons[38]
    months = set(extract["staffing"]["month"].astype(str))
    assert not {"2024-06", "2024-09", "2025-01"} & months
    assert extract["staffing"]["fte_in_post"].max() == 6.0


@pytest.mark.parametrize(
    ("value", "hint"),
    [("80%", "(a percentage: write FTE as a fraction, 0.8 for 80%)"), ("£6", "currency sign")],
)
def test_percent_and_pound_signs_say_how_to_write_the_number(tmp_path, value, hint):
    write_referrals(tmp_path, REFERRALS_2024)
    _staffing_file(tmp_path, f"2024-01,IDVA team,IDVA,{value},6\n")
    extract = load_extract(tmp_path, config=TODAY)
    reason = _excluded(extract.ledger, "staffing")["reason"].item()
    assert reason.startswith(f"fte_in_post: '{value}' is not a number") and hint in reason


def test_one_area_spelt_two_ways_in_the_referrals_is_an_error(tmp_path):
    rows = [
        r + (",SAMPLEBOROUGH" if i in (3, 9) else ",Sampleborough")
        for i, r in enumerate(REFERRALS_2024)
    ]
    path = write_referrals(tmp_path, rows)
    path.write_text(path.read_text().replace(REFERRAL_HEADER, REFERRAL_HEADER + ",area"))
    with pytest.raises(DataContractError) as err:
        load_extract(tmp_path, config=TODAY)
    message = str(err.value)
    assert "referrals.csv, column area: one area is spelt 2 ways" in message
    assert "'SAMPLEBOROUGH': 2 row(s), e.g. row(s) 5, 11" in message


def test_area_spelt_otherwise_in_another_table_names_the_spelling(tmp_path):
    write_referrals(tmp_path, REFERRALS_2024)
    police = "area," + POLICE_2024.replace("\n2024", "\nSAMPLE-BOROUGH,2024")
    (tmp_path / "police.csv").write_text(police)
    with pytest.raises(DataContractError, match=r"spelt 'Sampleborough' there"):
        load_extract(tmp_path, config=TODAY)


def _referrals_by_month(months: list[str], per_month: int = 12) -> list[str]:
    return [
        f"R{m}-{i},C{m}-{i},{14 + i % 14:02d}/{month[5:]}/{month[:4]},Police,High,,,Victim"
        for m, month in enumerate(months)
        for i in range(per_month)
    ]


def test_months_without_any_referral_inside_the_extract_are_an_error(tmp_path):
    months = [f"2024-{m:02d}" for m in range(1, 13) if m not in (7, 8, 9)]
    write_referrals(tmp_path, _referrals_by_month(months))
    with pytest.raises(DataContractError) as err:
        load_extract(tmp_path, config=TODAY)
    message = str(err.value)
    assert "no referrals at all for Sampleborough in 2024-07 to 2024-09" in message
    assert "typical month has 12" in message and "events.csv" in message


def test_a_declared_closure_allows_months_without_referrals(tmp_path):
    months = [f"2024-{m:02d}" for m in range(1, 13) if m not in (7, 8, 9)]
    write_referrals(tmp_path, _referrals_by_month(months))
    (tmp_path / "events.csv").write_text(
        "name,start_date,end_date,kind\nService closed,01/07/2024,30/09/2024,temporary\n"
    )
    assert len(load_extract(tmp_path, config=TODAY)["referrals"]) == 9 * 12


def test_population_ending_before_the_data_is_noted(tmp_path):
    write_referrals(tmp_path, REFERRALS_2024)
    (tmp_path / "population.csv").write_text(
        "area,year,females_16plus,males_16plus\nSampleborough,2022,70000,68000\n"
    )
    notes = load_extract(tmp_path, config=TODAY).notes
    assert any(
        "no estimate for Sampleborough after 2022: rates per adult for 2023/24 onwards use the "
        "2022 estimate" in n
        for n in notes
    )


def test_utf16_config_and_mapping_files_are_read(tmp_path):
    write_referrals(tmp_path, [*REFERRALS_2024, "R99,C99,14/03/2024,Neighbour,High,,,Victim"])
    (tmp_path / "config.csv").write_text(
        'key,value,unit,source\ncost_per_fte,40000,GBP,"Contract, 2026"\n'
        "default_area,Sampleborough,name,\n",
        encoding="utf-16",
    )
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "referral_source.csv").write_text(
        "raw,canonical\nNeighbour,family_friend\n", encoding="utf-16"
    )
    extract = load_extract(tmp_path, config=None)
    assert extract.config.cost_per_fte == 40000
    ref = extract["referrals"]
    assert ref.loc[ref["referral_id"] == "R99", "referral_source"].item() == "family_friend"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_column_named_twice_is_an_error_not_a_traceback(tmp_path, suffix):
    write_referrals(tmp_path, REFERRALS_2024)
    rows = [["month", "Month", "da_incidents", "da_crimes"], ["2024-01", "2024-01", "1", "2"]]
    path = tmp_path / f"police{suffix}"
    if suffix == ".xlsx":
        _workbook(path, rows)
    else:
        path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    with pytest.raises(DataContractError, match=r"column 'month': the header has it twice"):
        load_extract(tmp_path, config=TODAY)


def test_times_of_day_do_not_decide_a_repeat():
    import pandas as pd

    from daanalysis.panel import mark_repeats

    # Exactly 365 days apart by date; the later one at a later hour (365.25 days by the clock).
    referrals = pd.DataFrame(
        {
            "client_key": ["a", "a"],
            "referral_date": pd.to_datetime(["2024-01-01 09:00", "2024-12-31 15:00"]),
            "service": ["victim", "victim"],
            "source_row": [2, 3],
        }
    )
    marked = mark_repeats(referrals)
    assert marked["repeat_12m"].tolist() == [False, True]
