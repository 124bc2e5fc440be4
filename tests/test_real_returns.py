"""Issue 17 (ingest): any council's real returns load and run end to end.

A city council's monthly KPI returns 2008-2017 (``tests/city_returns.py``: months not collected,
months keyed as 0, a quarter copied forward, quarterly and annual subtotal rows) load, keep their
gaps as gaps and reach a verdict; and each way the old code misread such data is checked on its
own: not-collected counts, implausibly low counts, errors that blamed the wrong file or cause,
silent defaults from the sample, and returns that hold only risk-level counts.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from daanalysis import cli
from daanalysis.config import Config
from daanalysis.ingest.ledger import LOW_COUNT, NOT_COLLECTED_NOTE, SUBTOTAL
from daanalysis.ingest.load import DataContractError, load_extract, read_table
from daanalysis.ingest.schema import MARAC, POLICE, RETURNS
from daanalysis.ingest.vintage import extract_date
from daanalysis.metrics import data_notes, demand
from daanalysis.panel import build_panel, partial_quarters, quarterly
from daanalysis.present.verdict import note_text
from tests.city_returns import write_city_returns

TODAY = Config(default_area="Northminster", extract_date="2026-10-05")
LENIENT = Config(default_area="Northminster", extract_date="2026-10-05", max_excluded_share=0.5)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = tmp_path_factory.mktemp("city")
    truth = write_city_returns(folder)
    return folder, truth, load_extract(folder)


def _ledger(extract, table: str) -> pd.DataFrame:
    ledger = extract.ledger
    return ledger[ledger["table"] == table]


# --- the city's returns, end to end --------------------------------------------------------------


def test_city_returns_load_with_every_row_accounted_for(city):
    _, truth, extract = city
    assert extract.basis == "aggregates" and extract.areas() == ["Northminster"]
    returns = _ledger(extract, "returns")
    assert len(returns) == len(truth.months) + truth.quarter_rows + truth.year_rows
    subtotals = returns[returns["reason"].str.startswith(SUBTOTAL)]
    assert len(subtotals) == truth.quarter_rows + truth.year_rows
    assert (subtotals["status"] == "excluded").all()
    # The extract date is the labelled line, not the data's first day or the publication date.
    assert "Nothing dated after 02/05/2017" in " ".join(extract.notes)
    # The city's returns give no open caseload: the note says what record-level data would add.
    assert (
        "Only aggregate returns were supplied: repeat rates, open caseload and response times "
        "need record-level referrals." in extract.notes
    )


def test_returns_with_open_cases_do_not_call_the_caseload_missing(tmp_path):
    # Returns with open_cases_end give the caseload at each period end (the staffing page uses
    # it): the note names only what needs each referral's dates.
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [f"2024-{m:02d},{100 + m},{40 + m}" for m in range(1, 7)]
    (folder / "returns.csv").write_text("\n".join(["period,referrals,open_cases_end", *rows]))
    notes = load_extract(folder, config=TODAY).notes
    assert (
        "Only aggregate returns were supplied: repeat rates and response times need "
        "record-level referrals." in notes
    )


def test_city_not_collected_months_are_gaps_named_in_the_notes(city):
    _, truth, extract = city
    returns = _ledger(extract, "returns")
    noted = returns[returns["reason"].str.startswith(NOT_COLLECTED_NOTE)]
    assert len(noted) == len(truth.not_collected) and (noted["status"] == "used").all()
    note = next(n for n in extract.notes if n.startswith("returns.csv: not collected"))
    assert "referrals in 4 row(s) (2009-07, 2009-08, 2011-01, 2012-10)" in note
    panel = build_panel(extract).set_index("month")
    for month in truth.not_collected:
        assert np.isnan(panel.at[month, "referrals"]), month
        assert np.isnan(panel.at[month, "standard_medium_risk"]), month
    for month in truth.police_nc:
        assert np.isnan(panel.at[month, "police_crimes"]), month
    for month in truth.marac_nc:
        assert np.isnan(panel.at[month, "marac_cases"]), month


def test_city_zero_months_are_ledgered_gaps_never_zeros(city):
    _, truth, extract = city
    returns = _ledger(extract, "returns")
    low = returns[returns["reason"].str.contains(LOW_COUNT, regex=False)]
    assert len(low) == len(truth.zeros) and (low["status"] == "excluded").all()
    assert "leave the cell blank" in low["reason"].iloc[0]
    police = _ledger(extract, "police")
    assert police["reason"].str.contains(LOW_COUNT, regex=False).sum() == len(truth.police_zero)
    panel = build_panel(extract).set_index("month")
    # Every month from first to last has a row; none is 0; the zeros are gaps.
    assert panel.index.tolist() == truth.months
    assert not (panel[["referrals", "high_risk", "police_crimes"]] == 0).any().any()
    for month in truth.zeros:
        assert np.isnan(panel.at[month, "referrals"]), month
    for month in truth.police_zero:
        assert np.isnan(panel.at[month, "police_incidents"]), month


def test_city_copied_quarter_is_flagged(city):
    _, truth, extract = city
    copied, original = truth.copied
    returns = _ledger(extract, "returns")
    flagged = returns[returns["reason"].str.contains("probable copy", regex=False)]
    assert len(flagged) == 3 and (flagged["status"] == "used").all()
    assert f"{copied} is identical in every count to {original}" in flagged["reason"].iloc[0]
    assert any(f"{copied} (= {original})" in n for n in extract.notes)


def test_city_quarters_with_a_gap_have_no_total_and_no_change_on_a_year(city):
    _, _, extract = city
    panel = build_panel(extract)
    sums = quarterly(panel, ["referrals"]).set_index("quarter")["referrals"]
    # 2009/10 Q2 (Jul-Sep 2009) lost two months; 2014/15 Q1 and Q2 were keyed as zeros.
    for label in ("2010Q2", "2015Q1", "2015Q2"):
        assert np.isnan(sums[pd.Period(label, "Q-MAR")]), label
    partial = partial_quarters(panel, ["referrals"])
    assert pd.Period("2010Q2", "Q-MAR") in set(partial["quarter"])
    # A year after a gap: the change on last year cannot be worked out, so it is not.
    vols = demand.volumes(panel, pd.Period("2016Q1", "Q-MAR")).set_index("stream")
    assert np.isnan(vols.at["referrals", "same_quarter_last_year"])
    assert np.isnan(vols.at["referrals", "change_pct"])
    # Nor is a rolling 12 months that holds a gap.
    assert np.isnan(vols.at["referrals", "rolling_change_pct"])


def test_city_verdict_runs_and_says_why_without_a_traceback(city, capsys):
    folder, _, _ = city
    assert cli.main(["verdict", "--data", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    assert out.startswith("Northminster, 2016/17 Q4")
    verdict = out.splitlines()[0].rsplit(": ", 1)[1].lower()
    assert verdict in demand.VERDICTS
    # The gaps are named against the stream that has them, never as police months missing.
    assert "Standard and medium risk: 12 months missing" in out
    assert "Police-recorded DA crimes: 2 months missing" in out


# --- not collected --------------------------------------------------------------------------------


RETURNS_HEADER = "period,referrals,self_referrals,high_risk,standard_medium_risk\n"


def _months(n: int = 24, start: str = "2022-04") -> list[pd.Period]:
    return list(pd.period_range(start, periods=n, freq="M"))


def _returns(rows: dict[pd.Period, str], n: int = 24) -> str:
    lines = [rows.get(m, "140,30,40,95") for m in _months(n)]
    return RETURNS_HEADER + "".join(f"{m},{v}\n" for m, v in zip(_months(n), lines, strict=True))


def test_a_fully_blank_returns_month_is_a_gap_not_a_contract_break(tmp_path):
    path = tmp_path / "returns.csv"
    path.write_text(_returns({pd.Period("2023-01", "M"): ",,,"}))
    frame, ledger = read_table(path, RETURNS, TODAY)
    assert (ledger["status"] == "used").all()
    row = ledger[ledger["reason"] != ""]
    assert row["row"].tolist() == [11]
    assert "larger than referrals" not in row["reason"].item()
    assert row["reason"].item().startswith(NOT_COLLECTED_NOTE)
    assert frame.loc[frame["source_row"] == 11, "referrals"].isna().all()


@pytest.mark.parametrize("marker", ["not collected", "NC", "n/c", "..", ":", "[x]", "N/A"])
def test_not_collected_markers_are_gaps(tmp_path, marker):
    path = tmp_path / "police.csv"
    path.write_text(
        "month,da_incidents,da_crimes\n"
        + "".join(f"{m},400,220\n" for m in _months(23))
        + f"2024-03,{marker},{marker}\n"
    )
    frame, ledger = read_table(path, POLICE, TODAY)
    assert (ledger["status"] == "used").all()
    assert frame.iloc[-1][["da_incidents", "da_crimes"]].isna().all()


def test_a_dash_is_not_read_as_not_collected_nor_as_zero(tmp_path):
    path = tmp_path / "police.csv"
    path.write_text("month,da_incidents,da_crimes\n2024-01,-,200\n2024-02,400,200\n")
    _, ledger = read_table(path, POLICE, TODAY)
    assert ledger["status"].tolist() == ["excluded", "used"]
    assert "'-' is not a number" in ledger["reason"].iloc[0]


def test_blank_referrals_with_risk_counts_is_not_a_parts_error(tmp_path):
    path = tmp_path / "returns.csv"
    path.write_text(_returns({pd.Period("2023-01", "M"): ",30,40,95"}))
    _, ledger = read_table(path, RETURNS, TODAY)
    assert (ledger["status"] == "used").all()
    assert not ledger["reason"].str.contains("larger than referrals").any()
    # MARAC likewise: blank cases discussed with repeats given is a gap, not a break.
    marac = tmp_path / "marac.csv"
    marac.write_text("period,cases_discussed,repeat_cases\n2024-01,,4\n2024-02,30,5\n")
    _, ledger = read_table(marac, MARAC, TODAY)
    assert (ledger["status"] == "used").all()


def test_returns_with_only_risk_level_counts_are_accepted(tmp_path):
    (tmp_path / "returns.csv").write_text(
        "period,high_risk,standard_medium_risk\n" + "".join(f"{m},40,95\n" for m in _months())
    )
    extract = load_extract(tmp_path, config=TODAY)
    panel = build_panel(extract)
    assert panel["referrals"].isna().all() and (panel["standard_medium_risk"] == 95).all()


def test_returns_without_any_count_column_say_which_are_needed(tmp_path):
    (tmp_path / "returns.csv").write_text("period,open_cases_end\n2024-01,40\n")
    with pytest.raises(DataContractError, match="at least one of referrals, high_risk"):
        load_extract(tmp_path, config=TODAY)


def test_a_quarter_with_a_month_not_collected_is_partial_not_summed():
    months = pd.PeriodIndex(_months(6), freq="M")
    panel = pd.DataFrame(
        {
            "area": "A",
            "month": months,
            "quarter": months.asfreq("Q-MAR"),
            "referrals": [10.0, np.nan, 10.0, 10.0, 10.0, 10.0],
        }
    )
    sums = quarterly(panel, ["referrals"]).set_index("quarter")["referrals"]
    assert np.isnan(sums.iloc[0]) and sums.iloc[1] == 30
    partial = partial_quarters(panel, ["referrals"])
    assert partial[["column", "months"]].values.tolist() == [["referrals", 2]]


# --- implausibly low counts, copies, subtotals --------------------------------------------------


def test_a_police_month_keyed_as_zero_is_a_ledgered_gap(tmp_path):
    (tmp_path / "returns.csv").write_text(_returns({}))
    rows = {pd.Period("2023-02", "M"): "0,0", pd.Period("2023-05", "M"): "60,30"}
    (tmp_path / "police.csv").write_text(
        "month,da_incidents,da_crimes\n"
        + "".join(f"{m},{rows.get(m, '400,220')}\n" for m in _months())
    )
    extract = load_extract(tmp_path, config=TODAY)
    police = _ledger(extract, "police").set_index("row")
    assert police.at[12, "status"] == "excluded"  # 0
    assert police.at[15, "status"] == "excluded"  # under a fifth
    assert LOW_COUNT in police.at[12, "reason"] and "median 400" in police.at[12, "reason"]
    panel = build_panel(extract).set_index("month")
    assert np.isnan(panel.at[pd.Period("2023-02", "M"), "police_crimes"])


def test_a_small_series_zero_is_not_flagged(tmp_path):
    """A MARAC month of 0 against a typical 2 is chance, not a sign of anything."""
    (tmp_path / "returns.csv").write_text(_returns({}))
    values = [2, 3, 1, 2, 0, 2, 3, 2, 1, 2, 2, 3] * 2
    (tmp_path / "marac.csv").write_text(
        "period,cases_discussed,repeat_cases\n"
        + "".join(f"{m},{v},0\n" for m, v in zip(_months(), values, strict=True))
    )
    extract = load_extract(tmp_path, config=TODAY)
    assert (_ledger(extract, "marac")["status"] == "used").all()


def test_marac_with_cases_discussed_only_loads_without_repeats(tmp_path):
    """Many councils' MARAC returns give cases discussed and nothing else: repeat_cases is
    optional, its rate not shown, never refused as a missing column."""
    (tmp_path / "returns.csv").write_text(_returns({}))
    (tmp_path / "marac.csv").write_text(
        "period,cases_discussed\n" + "".join(f"{m},{20 + i % 5}\n" for i, m in enumerate(_months()))
    )
    extract = load_extract(tmp_path, config=TODAY)
    assert (_ledger(extract, "marac")["status"] == "used").all()
    panel = build_panel(extract)
    assert panel["marac_cases"].notna().all() and panel["marac_repeats"].isna().all()


def test_a_quarter_identical_to_the_year_before_is_flagged_and_used(tmp_path):
    rng = np.random.default_rng(3)
    rows = {m: f"{150 + rng.integers(0, 20)},30,40,95" for m in _months()}
    for m in _months(3, "2023-04"):
        rows[m] = rows[m - 12]
    (tmp_path / "returns.csv").write_text(_returns(rows))
    extract = load_extract(tmp_path, config=TODAY)
    returns = _ledger(extract, "returns")
    flagged = returns[returns["reason"].str.contains("probable copy", regex=False)]
    assert flagged["row"].tolist() == [14, 15, 16] and (flagged["status"] == "used").all()
    assert any("2023/24 Q1 (= 2022/23 Q1)" in note for note in extract.notes)


def test_a_year_total_alone_says_to_give_months_or_quarters(tmp_path):
    path = tmp_path / "returns.csv"
    path.write_text(RETURNS_HEADER + "2022/23,1600,300,500,1000\n2023-04,140,30,40,95\n")
    _, ledger = read_table(path, RETURNS, LENIENT)
    assert "is a whole financial year" in ledger["reason"].iloc[0]
    assert "2011/12 Q1 to Q4" in ledger["reason"].iloc[0]


@pytest.mark.parametrize("label", ["Q1 2023/24", "2023/24 Qtr 1", "2023/24 Q1 total"])
def test_quarter_labels_as_spreadsheets_write_them(tmp_path, label):
    path = tmp_path / "returns.csv"
    path.write_text(RETURNS_HEADER + f"{label},420,90,120,285\n")
    frame, _ = read_table(path, RETURNS, TODAY)
    assert frame["period"].tolist() == [pd.Period("2024Q1", "Q-MAR")]


# --- errors that point at the right file and cause ----------------------------------------------


def test_a_period_label_error_gives_the_accepted_forms(tmp_path):
    path = tmp_path / "returns.csv"
    path.write_text(RETURNS_HEADER + "Spring 2024,140,30,40,95\n2024-05,140,30,40,95\n")
    _, ledger = read_table(path, RETURNS, LENIENT)
    assert "2011/12 Q1" in ledger["reason"].iloc[0] and "yyyy-mm" in ledger["reason"].iloc[0]


def test_a_unit_suffix_says_numbers_only(tmp_path):
    path = tmp_path / "returns.csv"
    path.write_text(RETURNS_HEADER + "2024-04,32.00 Number,3,10,20\n2024-05,33,3,10,20\n")
    _, ledger = read_table(path, RETURNS, LENIENT)
    reason = ledger["reason"].iloc[0]
    assert "'32.00 Number' is not a number (numbers only: write '32.00'" in reason


def test_many_bad_numbers_get_number_advice_not_date_advice(tmp_path):
    path = tmp_path / "police.csv"
    path.write_text(
        "month,da_incidents,da_crimes\n" + "".join(f"{m},lots,200\n" for m in _months())
    )
    with pytest.raises(DataContractError) as err:
        read_table(path, POLICE, TODAY)
    message = str(err.value)
    assert "date format" not in message and "header row" not in message
    assert "numbers only" in message


def test_many_bad_dates_still_get_date_advice(tmp_path):
    path = tmp_path / "police.csv"
    path.write_text(
        "month,da_incidents,da_crimes\n" + "".join(f"13/13/20{y},400,200\n" for y in range(10, 30))
    )
    with pytest.raises(DataContractError, match="date format"):
        read_table(path, POLICE, TODAY)


def test_an_area_spelt_otherwise_in_population_is_reported_against_population(tmp_path):
    (tmp_path / "returns.csv").write_text(
        "area," + RETURNS_HEADER + "".join(f"York,{m},140,30,40,95\n" for m in _months())
    )
    (tmp_path / "police.csv").write_text(
        "area,month,da_incidents,da_crimes\n" + "".join(f"York,{m},400,220\n" for m in _months())
    )
    (tmp_path / "population.csv").write_text(
        "area,year,females_16plus,males_16plus\nYORK ,2022,90000,85000\n"
    )
    with pytest.raises(DataContractError) as err:
        load_extract(tmp_path, config=TODAY)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "population.csv"))
    assert "police.csv" not in message and "spelt 'YORK' there" in message


def test_a_gap_in_returns_is_not_reported_as_police_months_missing(tmp_path):
    rows = {m: ",,," for m in _months(3, "2023-01")}
    (tmp_path / "returns.csv").write_text(_returns(rows, 36))
    (tmp_path / "police.csv").write_text(
        "month,da_incidents,da_crimes\n" + "".join(f"{m},400,220\n" for m in _months(36))
    )
    panel = build_panel(load_extract(tmp_path, config=TODAY))
    _, police_checks = demand.stream_series(panel, "police_crimes")
    _, own_checks = demand.stream_series(panel, "standard_medium_risk")
    assert not any(c.kind == data_notes.GAP for c in police_checks)
    (gap,) = [c for c in own_checks if c.kind == data_notes.GAP]
    assert gap.count == 3 and note_text(gap).startswith("Standard and medium risk")
    assert "3 months missing between Jan 2023 and Mar 2023" in note_text(gap)


# --- no silent defaults from the sample -----------------------------------------------------------


def test_no_area_in_config_or_data_stops_and_asks_for_one(tmp_path):
    assert Config().default_area == ""
    (tmp_path / "returns.csv").write_text(_returns({}))
    with pytest.raises(DataContractError, match="names no default_area") as err:
        load_extract(tmp_path, config=Config(extract_date="2026-10-05"))
    assert "Sampleborough" not in str(err.value)


@pytest.mark.parametrize("command", ["report", "verdict", "alerts"])
def test_commands_require_data(command, capsys):
    with pytest.raises(SystemExit) as err:
        cli.main([command])
    assert err.value.code == 2
    assert "--data" in capsys.readouterr().err


def test_tasks_report_has_no_default_data_and_the_readme_passes_the_sample(monkeypatch):
    root = __import__("tests.conftest").conftest.ROOT
    sys.path.insert(0, str(root))
    import tasks

    calls = []
    monkeypatch.setattr(tasks, "ensure_environment", lambda: None)
    monkeypatch.setattr(tasks, "run", lambda *args: calls.append(args))
    tasks.main(["report"])
    tasks.main(["report", "--data", "/secure/extract"])
    assert calls[0][1:] == ("report",)  # daanalysis report then stops: --data is required
    assert calls[1][1:] == ("report", "--data", "/secure/extract")
    assert "python3 tasks.py report --data data/sample" in (root / "README.md").read_text()


@pytest.mark.parametrize(
    ("vintage", "day"),
    [
        ("DA KPIs from 01/04/2008, downloaded 20/02/2021\nextract_date: 2021-02-19", "2021-02-19"),
        ("Extract date 19/02/2021 (data from 2008-04-01)", "2021-02-19"),
        ("Synthetic sample, extract taken 05/10/2026", "2026-10-05"),
        ("Case system export 2026-10-05", "2026-10-05"),
    ],
)
def test_the_extract_date_is_the_labelled_or_only_date_in_vintage(vintage, day):
    when, source = extract_date(Config(), vintage)
    assert when == pd.Timestamp(day) and source == "the data's vintage line"


def test_several_unlabelled_vintage_dates_are_not_guessed():
    when, source = extract_date(Config(), "Data from 01/04/2008, downloaded 20/02/2021")
    assert when == pd.Timestamp.today().normalize()
    assert "without saying which is the extract's" in source


# --- docs/your-data.md: the worked example does what the page says ------------------------------


def _block_after(text: str, name: str) -> str:
    """The ```csv block that follows the line naming ``name`` on the page."""
    start = text.index(f"`{name}`\n\n```csv\n") + len(f"`{name}`\n\n```csv\n")
    return text[start : text.index("```", start)]


def test_the_worked_example_in_your_data_loads_as_the_page_says(tmp_path):
    from tests.conftest import ROOT

    page = (ROOT / "docs" / "your-data.md").read_text(encoding="utf-8")
    for name in ("returns.csv", "marac.csv"):
        (tmp_path / name).write_text(_block_after(page, name))
    extract = load_extract(tmp_path, config=TODAY)
    returns = _ledger(extract, "returns").set_index("row")["reason"]
    assert returns[5].startswith(SUBTOTAL) and returns[9].startswith(SUBTOTAL)  # quarters
    assert returns[10].startswith(SUBTOTAL)  # the year
    assert returns[3].startswith(NOT_COLLECTED_NOTE)  # May
    assert LOW_COUNT in returns[6]  # July's zeros
    panel = build_panel(extract).set_index("month")
    assert np.isnan(panel.at[pd.Period("2011-05", "M"), "referrals"])
    assert np.isnan(panel.at[pd.Period("2011-07", "M"), "referrals"])
    assert np.isnan(panel.at[pd.Period("2011-08", "M"), "marac_cases"])
    sums = quarterly(build_panel(extract), ["referrals", "marac_cases"]).set_index("quarter")
    # Both quarters of referrals have a gap (May, July); MARAC's first is whole, its second not.
    assert sums["referrals"].isna().all()
    assert sums["marac_cases"].iloc[0] == 72 and np.isnan(sums["marac_cases"].iloc[1])


# --- record-level referrals: a month exported in part ---------------------------------------------


def test_a_month_of_records_exported_in_part_is_a_gap_not_a_fall(tmp_path, sample_extract):
    from tests.conftest import write_referrals

    rows, n = [], 0
    for month in _months(24, "2023-01"):
        for day in range(1, 4 if month == pd.Period("2024-02", "M") else 41):
            n += 1
            date = f"{min(day, 28):02d}/{month.month:02d}/{month.year}"
            rows.append(f"R{n},C{n},{date},Police,High,{date},,Victim")
    write_referrals(tmp_path, rows)
    extract = load_extract(tmp_path, config=TODAY)
    assert extract.gap_months == {"Northminster": ["2024-02"]}
    noted = _ledger(extract, "referrals")
    noted = noted[noted["reason"].str.contains(LOW_COUNT, regex=False)]
    assert len(noted) == 3 and (noted["status"] == "used").all()
    assert "month 2024-02 has 3 referrals against a typical 40" in noted["reason"].iloc[0]
    panel = build_panel(extract).set_index("month")
    assert np.isnan(panel.at[pd.Period("2024-02", "M"), "referrals"])
    assert panel.at[pd.Period("2024-03", "M"), "referrals"] == 40
    # The three referrals are still cases: the month's open caseload counts them.
    assert panel.at[pd.Period("2024-02", "M"), "open_caseload"] > 0
    # The sample has no such month.
    assert sample_extract.gap_months == {}


@pytest.mark.parametrize("command", ["verdict", "alerts"])
def test_an_unexpected_failure_is_one_line_not_a_traceback(command, tmp_path, monkeypatch, capsys):
    from daanalysis import panel

    (tmp_path / "returns.csv").write_text(_returns({}))
    (tmp_path / "config.csv").write_text("key,value\ndefault_area,Northminster\n")

    def broken(*args, **kwargs):
        raise KeyError("rate_ratio")

    monkeypatch.setattr(panel, "build_panel", broken)
    monkeypatch.setattr("daanalysis.selection.build_panel", broken)
    assert cli.main([command, "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"daanalysis {command}: unexpected KeyError") and "Traceback" not in err


def test_the_quality_section_counts_not_collected_subtotals_and_low_counts(city):
    from daanalysis.present.quality import reasons_by_table

    _, truth, extract = city
    table = reasons_by_table(extract.ledger, threshold=1)
    returns = table[table["table"] == "returns"].set_index("reason")["rows"]
    collected = returns[returns.index.str.startswith(NOT_COLLECTED_NOTE)]
    assert collected.sum() == len(truth.not_collected)
    subtotal = returns[returns.index.str.startswith(SUBTOTAL)]
    assert subtotal.sum() == truth.quarter_rows + truth.year_rows
    assert returns[returns.index.str.contains(LOW_COUNT, regex=False)].sum() == len(truth.zeros)


def test_small_counts_repeating_a_year_later_are_not_called_copies(tmp_path):
    (tmp_path / "returns.csv").write_text(_returns({}))
    values = [1, 0, 2, 3, 1, 2, 2, 1, 0, 1, 3, 2]
    (tmp_path / "marac.csv").write_text(
        "period,cases_discussed,repeat_cases\n"
        + "".join(f"{m},{v},0\n" for m, v in zip(_months(), values * 2, strict=True))
    )
    extract = load_extract(tmp_path, config=TODAY)
    assert not _ledger(extract, "marac")["reason"].str.contains("probable copy").any()


@pytest.mark.parametrize("label", ["Q1 total", "Total", "Year to date", "YTD", "Grand total"])
def test_a_total_naming_no_period_among_months_is_set_aside(tmp_path, label):
    path = tmp_path / "returns.csv"
    path.write_text(_returns({}, 3) + f"{label},420,90,120,285\n")
    frame, ledger = read_table(path, RETURNS, TODAY)
    assert len(frame) == 3
    assert ledger["reason"].iloc[-1].startswith(f"{SUBTOTAL}: {label!r} is a total that names")
    # Alone, with no months beside it, it is no period at all.
    path.write_text(RETURNS_HEADER + f"{label},420,90,120,285\n2024/25 Q1,420,90,120,285\n")
    _, ledger = read_table(path, RETURNS, LENIENT)
    assert "is neither a month nor a financial quarter" in ledger["reason"].iloc[0]


def test_city_returns_as_a_workbook_load_as_the_csv_does(city, tmp_path):
    import shutil

    folder, _, extract = city
    for path in folder.iterdir():
        if path.name != "returns.csv":
            shutil.copy(path, tmp_path / path.name)
    frame = pd.read_csv(folder / "returns.csv", dtype=str, keep_default_na=False)
    # As an officer's workbook holds them: counts as numbers, markers as text.
    numeric = frame.copy()
    for col in numeric.columns[1:]:
        numeric[col] = [int(v) if v.isdigit() else v for v in frame[col]]
    numeric.to_excel(tmp_path / "returns.xlsx", index=False)
    workbook = load_extract(tmp_path)
    pd.testing.assert_frame_equal(build_panel(workbook), build_panel(extract))
    ledger = workbook.ledger.assign(file=workbook.ledger["file"].str.replace("xlsx", "csv"))
    pd.testing.assert_frame_equal(ledger, extract.ledger)
