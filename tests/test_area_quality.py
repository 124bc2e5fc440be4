"""An area's data quality in a multi-area extract (issue 22): its page shows the notes about
its own series and the extract's general notes, not other areas' faults; and one area's broken
export stops the run even when the whole file stays under ``max_excluded_share``."""

from __future__ import annotations

import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.extract import DataContractError, Extract
from daanalysis.ingest.load import load_extract
from daanalysis.panel import build_panel
from daanalysis.synthetic.sample import write_sample

AREAS = {"Ayton": 1.0, "Beeby": 0.5, "Ceeford": 1.5}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The three areas' extract, generated once for the module; tests change copies of it."""
    folder = tmp_path_factory.mktemp("generated") / "data"
    write_sample(folder, seed=11, areas=AREAS)
    return folder


def copy_of(generated, folder):
    import shutil

    shutil.copytree(generated, folder)
    return folder


def test_notes_for_an_area_keeps_its_own_and_the_general_ones():
    extract = Extract(
        tables={},
        ledger=pd.DataFrame(),
        config=Config(),
        data_dir=".",
        basis="records",
        notes=["general one", "about A", "about B", "general two", "about A and B"],
        area_notes={"A": ["about A", "about A and B"], "B": ["about B", "about A and B"]},
    )
    assert extract.notes_for("A") == ["general one", "about A", "general two", "about A and B"]
    assert extract.notes_for("B") == ["general one", "about B", "general two", "about A and B"]
    assert extract.notes_for("C") == ["general one", "general two"]
    assert extract.notes_for("") == extract.notes
    assert extract.notes_for() == extract.notes


@pytest.fixture(scope="module")
def faulty_region(tmp_path_factory, generated):
    """Three areas; Ayton's police crimes move to four times their level from Oct 2023 on, a
    Beeby police quarter is pasted forward a year, and Ceeford's population estimates stop a
    year early."""
    folder = copy_of(generated, tmp_path_factory.mktemp("region") / "data")
    police = pd.read_csv(folder / "police.csv")
    ayton, beeby = (police["area"] == a for a in ("Ayton", "Beeby"))
    months = police["month"]
    police.loc[ayton & (months >= "2023-10"), "da_crimes"] *= 4
    for src, dst in (("2022-04", "2023-04"), ("2022-05", "2023-05"), ("2022-06", "2023-06")):
        police.loc[beeby & (months == dst), ["da_incidents", "da_crimes"]] = police.loc[
            beeby & (months == src), ["da_incidents", "da_crimes"]
        ].to_numpy()
    police.to_csv(folder / "police.csv", index=False)
    population = pd.read_csv(folder / "population.csv")
    late = (population["area"] == "Ceeford") & (population["year"] == population["year"].max())
    population[~late].to_csv(folder / "population.csv", index=False)
    marac = pd.read_csv(folder / "marac.csv")
    gap = (marac["area"] == "Ayton") & marac["period"].astype(str).str.startswith("2024")
    marac.loc[gap, "cases_discussed"] = None  # not collected in 2024
    marac.to_csv(folder / "marac.csv", index=False)
    return load_extract(folder, salt=b"test-salt")


def test_each_area_sees_its_own_notes_and_not_the_others(faulty_region):
    extract = faulty_region
    shift = [n for n in extract.notes if "level shift" in n]
    copy = [n for n in extract.notes if "probably copied" in n]
    population = [n for n in extract.notes if n.startswith("population.csv has no estimate")]
    assert len(shift) == 1 and "Ayton" in shift[0]
    assert len(copy) == 1 and "Beeby 2023/24 Q1 (= 2022/23 Q1)" in copy[0]
    assert len(population) == 1 and "Ceeford" in population[0]
    gaps = [n for n in extract.notes if "not collected" in n]
    assert gaps == [
        "marac.csv, Ayton: not collected (blank or marked): cases_discussed in 12 row(s) "
        "(2024-01, 2024-02, 2024-03, 2024-04, 2024-05, 2024-06, ...). These are gaps, left out "
        "of models, totals and comparisons, never read as 0."
    ]
    general = [n for n in extract.notes if n not in shift + copy + population + gaps]
    assert general, "the extract date note at least is general"
    mine = general + shift + gaps
    assert extract.notes_for("Ayton") == [n for n in extract.notes if n in mine]
    assert extract.notes_for("Beeby") == [n for n in extract.notes if n in general + copy]
    assert extract.notes_for("Ceeford") == [n for n in extract.notes if n in general + population]
    assert extract.notes_for("") == extract.notes


def test_an_area_page_shows_its_own_notes_only(faulty_region, monkeypatch):
    from daanalysis.present import quality

    shown: list[str] = []
    monkeypatch.setattr(
        "IPython.display.display", lambda obj, *a, **k: shown.append(str(getattr(obj, "data", obj)))
    )
    quality.show(faulty_region, area="Beeby")
    text = " ".join(shown)
    assert "probably copied" in text
    assert "level shift" not in text and "population.csv has no estimate" not in text
    shown.clear()
    quality.show(faulty_region)  # the whole extract: every note
    text = " ".join(shown)
    assert "probably copied" in text and "level shift" in text


def _break_dates(folder, area: str, every: int) -> tuple[int, float]:
    """Write "not a date" in every ``every``-th referral date of ``area``: how many, and their
    share of the file's rows."""
    referrals = pd.read_csv(folder / "referrals.csv", dtype=str, encoding="cp1252")
    rows = referrals.index[referrals["area"] == area][::every]
    referrals.loc[rows, "referral_date"] = "not a date"
    referrals.to_csv(folder / "referrals.csv", index=False, encoding="cp1252")
    return len(rows), len(rows) / len(referrals)


def test_one_area_broken_export_stops_though_the_file_is_under_the_limit(tmp_path, generated):
    from daanalysis.selection import select

    folder = copy_of(generated, tmp_path / "data")
    _, file_share = _break_dates(folder, "Beeby", every=5)  # a fifth of Beeby's rows
    assert file_share < Config().max_excluded_share  # the whole file would pass
    extract = load_extract(folder, salt=b"test-salt")
    message = extract.area_faults["Beeby"]
    assert set(extract.area_faults) == {"Beeby"}
    assert message.startswith(f"{folder / 'referrals.csv'}, area 'Beeby': ")
    assert "(20%) break the data contract" in message
    assert "referral_date" in message and "max_excluded_share" in message
    prepared = (extract, build_panel(extract))
    # Reporting Beeby, or every area, stops with it; the other areas can still be reported
    # (in a region of tasks, Beeby's task fails and the others run).
    for areas in (["Beeby"], [], ["Ayton", "Beeby"]):
        with pytest.raises(DataContractError, match="area 'Beeby'"):
            select(folder, areas, prepared=prepared)
    assert select(folder, ["Ayton", "Ceeford"], prepared=prepared).areas == ["Ayton", "Ceeford"]
    assert select(folder, [], prepared=prepared, faults=False).areas == list(AREAS)
    # A scheduler's plan has a task for Beeby too, which fails on its own when it runs.
    from daanalysis.airflow import plan_areas

    planned = plan_areas(folder, tmp_path / "out", today="2026-11-01")
    assert [job["area"] for job in planned] == list(AREAS)


def test_a_few_slips_in_one_area_are_listed_not_fatal(tmp_path, generated):
    folder = copy_of(generated, tmp_path / "data")
    broken, _ = _break_dates(folder, "Beeby", every=50)  # 2% of Beeby's rows
    extract = load_extract(folder, salt=b"test-salt")
    ledger = extract.ledger
    listed = ledger[
        (ledger["status"] == "excluded")
        & (ledger["area"] == "Beeby")
        & ledger["reason"].str.startswith("referral_date: 'not a date' is not a date")
    ]
    assert len(listed) == broken > 2


def _one_council_of_three(generated, folder):
    """Three areas' files, but referrals for Ayton only: the police, MARAC, population and
    partnership files cover the wider area (a police force's figures for every council in it)."""
    copy_of(generated, folder)
    referrals = pd.read_csv(folder / "referrals.csv", dtype=str, encoding="cp1252")
    referrals[referrals["area"] == "Ayton"].to_csv(
        folder / "referrals.csv", index=False, encoding="cp1252"
    )
    return folder


def test_a_file_covering_a_wider_area_is_used_for_the_extracts_areas(tmp_path, generated):
    extract = load_extract(_one_council_of_three(generated, tmp_path / "data"), salt=b"test-salt")
    assert extract.areas() == ["Ayton"]
    police = extract.ledger[extract.ledger["table"] == "police"]
    outside = police[police["reason"].str.contains("is not one of this extract's areas")]
    assert set(outside["area"]) == {"Beeby", "Ceeford"}
    assert (outside["status"] == "excluded").all()
    assert (police.loc[police["area"] == "Ayton", "status"] == "used").all()
    assert any(
        n.startswith(f"police.csv: {len(outside):,} row(s) for areas outside this extract")
        and "(Beeby, Ceeford)" in n
        for n in extract.notes
    )
    assert set(extract["police"]["area"]) == {"Ayton"}


def test_a_file_with_none_of_the_extracts_areas_still_stops(tmp_path, generated):
    # Every police row under a name the referrals do not have: a misspelling or the wrong file,
    # not a wider area, so the rows count against max_excluded_share.
    folder = _one_council_of_three(generated, tmp_path / "data")
    police = pd.read_csv(folder / "police.csv")
    police["area"] = police["area"].replace({"Ayton": "Ayton Borough"})
    police.to_csv(folder / "police.csv", index=False)
    with pytest.raises(DataContractError, match=r"police\.csv: \d+ of \d+ rows \(100%\) break"):
        load_extract(folder, salt=b"test-salt")


def test_areas_with_returns_only_beside_referrals_stop_naming_them(tmp_path, generated):
    folder = _one_council_of_three(generated, tmp_path / "data")
    returns = "area,period,referrals\n" + "".join(
        f"Beeby,2024/25 Q{q},{100 + q}\n" for q in range(1, 5)
    )
    (folder / "returns.csv").write_text(returns)
    with pytest.raises(DataContractError) as raised:
        load_extract(folder, salt=b"test-salt")
    assert str(raised.value).startswith(
        f"{folder / 'returns.csv'}, column area: 'Beeby' has aggregate returns but no "
        "record-level referrals (e.g. row(s) 2, 3, 4)."
    )
    assert "Run them from a data folder of their own" in str(raised.value)


def test_an_area_named_in_another_case_gets_the_datas_spelling(faulty_region):
    from daanalysis.selection import choose_areas

    assert choose_areas(faulty_region, ["Beeby"], "data") == ["Beeby"]
    with pytest.raises(DataContractError) as raised:
        choose_areas(faulty_region, ["beeby"], "data")
    assert str(raised.value) == (
        "Area 'beeby' is not in data; areas found: Ayton, Beeby, Ceeford. Did you mean 'Beeby'? "
        "Names must match the data exactly."
    )
    with pytest.raises(DataContractError, match=r"Ceeford\.$"):
        choose_areas(faulty_region, ["Zeeford"], "data")


def test_an_area_missing_from_population_in_a_region_stops_naming_population(tmp_path):
    # In a region every council is a main area, however many there are: one missing from
    # population.csv stops the run there. With 21 areas each held under a twentieth of the
    # rows, it used to lose that council's rows one by one, each file under its 5%.
    areas = [f"Area {i:02d}" for i in range(1, 22)]
    quarters = [f"{y}/{(y + 1) % 100:02d} Q{q}" for y in range(2020, 2026) for q in range(1, 5)]
    returns = ["area,period,referrals"]
    returns += [f"{a},{q},{100 + i}" for a in areas for i, q in enumerate(quarters)]
    (tmp_path / "returns.csv").write_text("\n".join(returns) + "\n")
    population = ["area,year,females_16plus,males_16plus"]
    population += [f"{a},{y},40000,38000" for a in areas if a != "Area 07" for y in (2020, 2025)]
    (tmp_path / "population.csv").write_text("\n".join(population) + "\n")
    with pytest.raises(DataContractError) as raised:
        load_extract(tmp_path, config=Config(extract_date="2026-10-05"))
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'population.csv'}, column area: no rows for 'Area 07'")
    assert "(areas there: Area 01, Area 02, " in message and ", Area 11 and 10 more)" in message


def test_a_file_naming_areas_by_ons_code_says_so(tmp_path, generated):
    folder = _one_council_of_three(generated, tmp_path / "data")
    police = pd.read_csv(folder / "police.csv")
    codes = {"Ayton": "E06000001", "Beeby": "E06000002", "Ceeford": "E06000003"}
    police["area"] = police["area"].map(codes)
    police.to_csv(folder / "police.csv", index=False)
    with pytest.raises(DataContractError) as raised:
        load_extract(folder, salt=b"test-salt")
    assert "(an ONS area code: name the area as the referrals or returns do)" in str(raised.value)
