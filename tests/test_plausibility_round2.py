"""Plausibility, second round (issue 20): a setting that changes what a figure measures changes
its words, and slips that the 10x and 100x rules miss, each from a faulty extract made here
from the sample pack."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from daanalysis import cli
from daanalysis.config import Config, response_kpi_name, response_window
from daanalysis.ingest.load import DataContractError, load_extract
from daanalysis.metrics import staffing
from daanalysis.periods import QUARTER_FREQ
from daanalysis.present import charts
from daanalysis.present.main_points import _response_point
from tests.conftest import SAMPLE
from tests.test_pack_variants import visible_text


def _sample(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    return data


def _set_config(data: Path, key: str, value: str) -> None:
    config = pd.read_csv(data / "config.csv", dtype=str, keep_default_na=False)
    config.loc[config["key"] == key, "value"] = value
    config.to_csv(data / "config.csv", index=False)


# --- 1. a setting changes a figure and its words with it ---------------------------------------


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (1, "within one working day"),
        (2, "within two working days"),
        (1.5, "within 1.5 working days"),
        (0.5, "within 0.5 working days"),
        (15, "within 15 working days"),
    ],
)
def test_response_window_says_the_setting(days, words):
    assert response_window(days) == words


def test_two_working_days_setting_is_named_on_every_page_and_in_kpis(
    tmp_path, capsys, cli_shares_warm_process
):
    data, out = _sample(tmp_path), tmp_path / "out"
    _set_config(data, "response_working_days", "2")
    # And the safe level: the staffing page's words follow it too.
    _set_config(data, "safe_caseload_per_fte", "28")
    assert cli.main(["report", "--data", str(data), "--out", str(out)]) == 0, capsys.readouterr()
    (folder,) = [p for p in out.iterdir() if not p.name.startswith((".", "failed"))]
    kpis = pd.read_csv(folder / "kpis.csv")
    names = kpis["kpi"].astype(str)
    assert "Referrals contacted within two working days" in set(names)
    assert not names.str.contains("one working day").any()
    row = kpis[names == "Referrals contacted within two working days"].iloc[0]
    share = float(row["value"])
    # The two-day share of the sample's last quarter, computed here from the records.
    extract = load_extract(data)
    two = staffing.response_kpi(extract["referrals"], Config(response_working_days=2))
    one = staffing.response_kpi(extract["referrals"], Config(response_working_days=1))
    quarter = pd.Period("2026-09", "M").asfreq(QUARTER_FREQ)  # the pack's 2026/27 Q2
    assert share == pytest.approx(two.set_index("quarter").at[quarter, "within_kpi_pct"], abs=0.05)
    assert share > one.set_index("quarter").at[quarter, "within_kpi_pct"]
    pages = " ".join(visible_text(p.read_text(encoding="utf-8")) for p in folder.glob("*.html"))
    assert f"{share:.1f}% of referrals were contacted within two working days" in pages
    # The one place left is the source text of the setting in config.csv, the user's own words
    # (quoted in the assumptions table beside the value of 2 working days).
    source = pd.read_csv(data / "config.csv").set_index("key").at["response_working_days", "source"]
    assert "within one working day" not in pages.replace(source, "")
    assert "Safe staffing (28 per FTE)" in pages and "reaching 28 needs" in pages
    assert "Safe staffing (30" not in pages and "reaching 30" not in pages
    assert re.search(
        r"contacted within two working days.{0,40}(meeting|below) the 90% target", pages
    )


def test_response_sentence_and_chart_follow_the_kpi_name():
    cfg = Config(response_working_days=2)
    row = {"key": "response_within_window", "kpi": response_kpi_name(cfg), "value": 92.5}
    mine = pd.DataFrame([{**row, "unit": "%", "rag": "green"}])
    text = _response_point(mine, None, 90.0, response_window(cfg.response_working_days))
    assert text.startswith("92.5% of referrals were contacted within two working days, meeting")
    kpi = pd.DataFrame(
        {
            "quarter": pd.period_range("2026-06", periods=2, freq="M").asfreq(QUARTER_FREQ),
            "contacted": [100, 100],
            "within_kpi_pct": [91.0, 88.0],
            "target_pct": [90.0, 90.0],
        }
    )
    fig = charts.response_chart(kpi, working_days=2)
    assert "contacted within two working days (%)" in fig.da_data


# --- 2. FTE slips the 10x and 100x rules miss ---------------------------------------------------

SEPTEMBER = "Sampleborough,2026-09,IDVA team,IDVA,7.26,7.26"
AUGUST = "Sampleborough,2026-08,IDVA team,IDVA,7.26,7.26"


def _staffing_text(data: Path, old: str, new: str) -> None:
    path = data / "staffing.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _caseload(data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Caseload per FTE by month end, as the staffing page computes it, and the ledger."""
    from daanalysis.present.notebook import load_prepared

    extract, panel = load_prepared(data)
    caseload = staffing.caseload_per_fte(panel, extract.config).set_index("month")
    return caseload, extract.ledger


def _staffing_excluded(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger[(ledger["table"] == "staffing") & (ledger["status"] == "excluded")]


@pytest.fixture(scope="module")
def clean_caseload(tmp_path_factory) -> pd.DataFrame:
    return _caseload(_sample(tmp_path_factory.mktemp("clean")))[0]


@pytest.mark.parametrize(
    ("month", "slip"),
    [("2026-08", "27.26"), ("2026-08", "0.73"), ("2026-09", "27.26"), ("2026-09", "0.73")],
)
def test_fte_slip_against_its_neighbours_leaves_its_month_out(
    tmp_path, clean_caseload, month, slip
):
    data = _sample(tmp_path)
    line = f"Sampleborough,{month},IDVA team,IDVA,7.26,7.26"
    _staffing_text(data, line, line.replace("7.26,7.26", f"{slip},7.26"))
    caseload, ledger = _caseload(data)
    bad = _staffing_excluded(ledger)
    assert len(bad) == 3  # the slip and the rest of its month
    slipped = bad[bad["reason"].str.startswith(f"fte_in_post: {slip} in {month} is")]
    assert len(slipped) == 1
    assert "times the median of this team and role's months around it (7.26 FTE)" in (
        slipped["reason"].item()
    )
    assert bad["reason"].str.contains(f"month {month} is incomplete").sum() == 2
    period = pd.Period(month, "M")
    # The month shows no figure; every other month is as in the clean pack.
    assert pd.isna(caseload.at[period, "per_fte"])
    others = clean_caseload.index != period
    pd.testing.assert_series_equal(
        caseload.loc[others, "per_fte"], clean_caseload.loc[others, "per_fte"]
    )
    september = pd.Period("2026-09", "M")
    if month != "2026-09":
        assert caseload.at[september, "per_fte"] == pytest.approx(40.7, abs=0.05)


@pytest.mark.parametrize(
    "row",
    [
        "Sampleborough,2026-09,Total,IDVA,13.1,13.1",  # named a total
        "Sampleborough,2026-09,All teams subtotal,IDVA,13.1,13.1",
        "Sampleborough,2026-09,Whole service,IDVA,13.1,13.1",  # the sum of the month's rows
    ],
)
def test_subtotal_row_in_staffing_is_ledgered_not_counted(tmp_path, clean_caseload, row):
    data = _sample(tmp_path)
    _staffing_text(data, SEPTEMBER, SEPTEMBER + "\n" + row)
    caseload, ledger = _caseload(data)
    bad = _staffing_excluded(ledger)
    assert len(bad) == 1
    assert bad["reason"].item().startswith("subtotal row:")
    assert "not counted twice" in bad["reason"].item()
    september = pd.Period("2026-09", "M")
    assert caseload.at[september, "per_fte"] == pytest.approx(
        clean_caseload.at[september, "per_fte"]
    )
    assert caseload.at[september, "per_fte"] == pytest.approx(40.7, abs=0.05)


def test_real_staffing_changes_are_not_flagged(tmp_path, clean_caseload):
    """A team that grows in one step, a post lost for good, and a month that happens to equal
    the sum of the others (a regular series) are all used as given."""
    data = _sample(tmp_path)
    path = data / "staffing.csv"
    frame = pd.read_csv(path)
    idva = (frame["role"] == "IDVA") & (frame["month"] >= "2026-03")
    frame.loc[idva, ["fte_in_post", "fte_funded"]] = 15.0  # a step up, kept
    outreach = (frame["role"] == "Outreach worker") & (frame["month"] >= "2026-06")
    frame.loc[outreach, ["fte_in_post", "fte_funded"]] = 2.0  # two posts lost, kept
    path.write_text(frame.to_csv(index=False))
    _, ledger = _caseload(data)
    assert _staffing_excluded(ledger).empty


# --- 3. whole files out of scale, and a change of counting -----------------------------------


def _scale_police(data: Path, factor: int, start: str = "") -> None:
    police = pd.read_csv(data / "police.csv")
    rows = police["month"] >= start
    for col in ("da_incidents", "da_crimes"):
        police[col] = police[col].where(~rows, police[col] * factor)
    police.to_csv(data / "police.csv", index=False)


def test_police_counts_five_times_over_stop_the_load_naming_the_file(tmp_path):
    data = _sample(tmp_path)
    _scale_police(data, 5)
    with pytest.raises(DataContractError) as err:
        load_extract(data)
    message = str(err.value)
    assert "police.csv" in message and "for Sampleborough" in message
    assert "above the plausible 10%" in message
    assert "Check the file's units or scale" in message


def test_police_level_shift_from_one_month_is_noted_and_used(tmp_path):
    data = _sample(tmp_path)
    _scale_police(data, 4, start="2024-04")
    extract = load_extract(data)
    notes = [n for n in extract.notes if "level shift" in n]
    assert len(notes) == 2  # incidents and crimes
    assert all("from April 2024 on" in n or "from 2024-04 on" in n for n in notes), notes
    noted = extract.ledger[extract.ledger["reason"].str.contains("level shift", regex=False)]
    assert (noted["table"] == "police").all() and (noted["status"] == "used").all()
    assert len(extract["police"]) == len(pd.read_csv(data / "police.csv"))


def test_sample_has_no_level_shift_note():
    extract = load_extract(SAMPLE)
    assert not [n for n in extract.notes if "level shift" in n]


def test_referrals_far_above_the_area_population_stop_the_load(tmp_path):
    data = _sample(tmp_path)
    # About 1,300 referrals a year against 20,000 adults: 6.5%, above the 5% ceiling.
    population = pd.read_csv(data / "population.csv")
    population[["females_16plus", "males_16plus"]] = 10_000
    population.to_csv(data / "population.csv", index=False)
    with pytest.raises(DataContractError) as err:
        load_extract(data)
    message = str(err.value)
    assert "referrals.csv" in message and "referrals in 20" in message
    assert "of its 20,000 adults (population.csv), above the plausible 5%" in message


# --- 4. partnership tables ----------------------------------------------------------------------


def _rewrite(data: Path, name: str, change) -> None:
    frame = pd.read_csv(data / f"{name}.csv", dtype=str, keep_default_na=False)
    frame = change(frame)
    frame.to_csv(data / f"{name}.csv", index=False)


def _excluded(ledger: pd.DataFrame, table: str) -> pd.DataFrame:
    return ledger[(ledger["table"] == table) & (ledger["status"] == "excluded")]


def test_more_schools_engaged_than_on_the_register_is_excluded(tmp_path):
    data = _sample(tmp_path)
    primaries = (pd.read_csv(data / "schools.csv")["phase"].str.lower() == "primary").sum()
    rows = (
        "Sampleborough,2024-10,,Primary,Healthy relationships,4,90,5\n"
        f"Sampleborough,2024-11,,Primary,Healthy relationships,4,90,{primaries + 1}\n"
    )
    path = data / "prevention.csv"
    text = path.read_text().replace(
        "area,month,school,phase,programme,sessions,pupils\n",
        "area,month,school,phase,programme,sessions,pupils,schools_engaged\n",
    )
    path.write_text(text + rows)
    extract = load_extract(data)
    bad = _excluded(extract.ledger, "prevention")
    assert len(bad) == 1
    assert f"schools_engaged: {primaries + 1} primary schools is more than the {primaries}" in (
        bad["reason"].item()
    )
    assert "above 100%" in bad["reason"].item()
    assert (extract["prevention"]["schools_engaged"].dropna() == 5).all()


def test_misspelt_school_is_an_unknown_school_not_engaged(tmp_path):
    data = _sample(tmp_path)
    _rewrite(
        data,
        "prevention",
        lambda f: f.assign(
            school=f["school"].where(f.index != 0, "Sampleborogh Primary School 02")
        ).pipe(
            # Case and spacing differences are the same school, in the register's spelling.
            lambda g: g.assign(school=g["school"].where(g.index != 1, g.at[1, "school"].upper()))
        ),
    )
    extract = load_extract(data)
    bad = _excluded(extract.ledger, "prevention")
    assert len(bad) == 1 and bad["row"].item() == 2
    assert "school 'Sampleborogh Primary School 02' is not on the schools register" in (
        bad["reason"].item()
    )
    assert "not counted as engaged" in bad["reason"].item()
    schools = set(pd.read_csv(data / "schools.csv")["school"])
    assert set(extract["prevention"]["school"].dropna()) <= schools


def test_stayed_home_above_properties_is_excluded(tmp_path):
    data = _sample(tmp_path)
    _rewrite(
        data, "sanctuary", lambda f: f.assign(stayed_home=f["stayed_home"].where(f.index != 3, "3"))
    )
    extract = load_extract(data)
    bad = _excluded(extract.ledger, "sanctuary")
    assert bad["row"].tolist() == [5]
    assert "stayed_home is larger than properties" in bad["reason"].item()
    assert (extract["sanctuary"]["stayed_home"] <= 1).all()


def test_exact_duplicate_sanctuary_row_is_ledgered_not_counted(tmp_path):
    data = _sample(tmp_path)
    _rewrite(data, "sanctuary", lambda f: pd.concat([f, f.iloc[[7]]], ignore_index=True))
    clean = len(pd.read_csv(SAMPLE / "sanctuary.csv"))
    extract = load_extract(data)
    bad = _excluded(extract.ledger, "sanctuary")
    assert bad["row"].tolist() == [clean + 2]
    assert bad["reason"].item().startswith("duplicate of row 9")
    assert len(extract["sanctuary"]) == clean


def test_costs_in_pence_stop_the_load(tmp_path):
    data = _sample(tmp_path)
    _rewrite(
        data,
        "sanctuary",
        lambda f: f.assign(cost=(f["cost"].astype(float) * 100).round().astype(int)),
    )
    with pytest.raises(DataContractError) as err:
        load_extract(data)
    message = str(err.value)
    assert "sanctuary.csv, column cost: the median cost per property is GBP 1" in message
    assert "Are the costs in pence?" in message


def test_thousands_of_properties_a_year_stop_the_load(tmp_path):
    """Five aggregate rows of 900 properties in 2022: each plausible alone, 4,500 in a year
    for 146,000 adults is not."""
    data = _sample(tmp_path)

    def change(f):
        f["properties"] = ""
        f.loc[5:9, "properties"] = "900"
        f.loc[5:9, "stayed_home"] = ""
        return f

    _rewrite(data, "sanctuary", change)
    with pytest.raises(DataContractError) as err:
        load_extract(data)
    message = str(err.value)
    dates = pd.read_csv(SAMPLE / "sanctuary.csv")["period"]
    others = int(dates.str.endswith("2022").sum()) - 5  # one property each
    assert f"sanctuary.csv: {4_500 + others:,} properties in 2022 for Sampleborough" in message
    assert "above the plausible 1%" in message


def test_completions_above_starts_stop_the_load(tmp_path):
    data = _sample(tmp_path)
    _rewrite(
        data,
        "perpetrator_programme",
        lambda f: f.rename(columns={"starts": "completions", "completions": "starts"}),
    )
    with pytest.raises(DataContractError) as err:
        load_extract(data)
    message = str(err.value)
    assert "perpetrator_programme.csv: Sampleborough, Men and masculinities has" in message
    assert "completions against" in message and "swapped" in message


def test_returns_referrals_out_of_scale_for_the_population_stop_the_load(tmp_path):
    """Aggregate returns: 2 million referrals a month for 40,000 adults; and 3,000 a month,
    a whole file multiplied, which no check against its own series can see."""
    population = "area,year,females_16plus,males_16plus\nSmalltown,2024,20000,20000\n"
    (tmp_path / "population.csv").write_text(population)
    (tmp_path / "config.csv").write_text("key,value\ndefault_area,Smalltown\n")
    for monthly, shown in ((2_000_000, "24,000,000"), (3_000, "36,000")):
        (tmp_path / "returns.csv").write_text(
            "period,referrals\n" + "".join(f"2024-{m:02d},{monthly}\n" for m in range(1, 13))
        )
        with pytest.raises(DataContractError) as err:
            load_extract(tmp_path, config=Config(default_area="Smalltown"))
        message = str(err.value)
        assert (
            f"returns.csv: {shown} referrals a year (typical month x 12) for Smalltown" in message
        )
        assert "above the plausible 5%" in message
    # 100 a month (3% of adults a year) is plausible.
    (tmp_path / "returns.csv").write_text(
        "period,referrals\n" + "".join(f"2024-{m:02d},100\n" for m in range(1, 13))
    )
    assert len(load_extract(tmp_path, config=Config(default_area="Smalltown"))["returns"]) == 12


def test_a_hundred_thousand_properties_without_population_is_excluded(tmp_path):
    data = _sample(tmp_path)
    (data / "population.csv").unlink()

    def change(f):
        f["properties"] = ""
        f.loc[5, "properties"] = "100000"
        f.loc[5, "stayed_home"] = ""
        return f

    _rewrite(data, "sanctuary", change)
    extract = load_extract(data)
    bad = _excluded(extract.ledger, "sanctuary")
    assert bad["row"].tolist() == [7]
    assert "above the plausible 1,000 properties for one row" in bad["reason"].item()
    assert extract["sanctuary"]["properties"].fillna(1).max() == 1
