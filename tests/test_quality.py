"""The committee's data-quality section: counts by table and reason, nothing row-level."""

from __future__ import annotations

import pandas as pd

from daanalysis.present import quality

LEDGER = pd.DataFrame(
    {
        "table": ["referrals"] * 12 + ["staffing"] * 3,
        "file": ["referrals.csv"] * 12 + ["staffing.csv"] * 3,
        "row": list(range(2, 14)) + [2, 3, 4],
        "status": ["used"] * 5 + ["excluded"] * 7 + ["used", "excluded", "excluded"],
        "reason": [""] * 4
        + ["gender 'Two-spirit' not in the mapping table, counted as unknown"]
        + ["referral_date: '31/02/2024' is not a date; write it as dd/mm/yyyy"] * 6
        + ["duplicate of row 3 (same referral_id)"]
        + ["", "fte_in_post: -1.0 must be zero or more", "month 2024-06 is incomplete: x"],
    }
)


def test_counts_by_table_hide_small_excluded_counts():
    table = quality.rows_by_table(LEDGER, 5).set_index("table")
    assert table.loc["referrals", "rows read"] == 12
    assert table.loc["referrals", "excluded"] == 7
    assert table.loc["staffing", "excluded"] == "[c]"
    assert table.loc["staffing", "excluded (%)"] == "[c]"
    assert "used" not in table.columns  # read - used would give back a suppressed count


def test_reasons_carry_no_values_or_row_numbers_and_small_counts_are_suppressed():
    reasons = quality.reasons_by_table(LEDGER, 5)
    text = reasons.to_string()
    for private in ("Two-spirit", "31/02/2024", "row 3", "-1.0", "2024-06"):
        assert private not in text
    rows = reasons.set_index(["table", "reason"])["rows"]
    assert rows["referrals", "referral_date: [value] is not a date"] == "[c]"  # 6 next to a 1
    assert rows["referrals", "duplicate of an earlier row (same referral_id)"] == "[c]"
    assert (reasons.loc[reasons["table"] == "staffing", "rows"] == "[c]").all()
    assert set(reasons["what happened"]) == {"excluded", "used, with a note"}


def test_no_problems_gives_an_empty_reasons_table():
    clean = LEDGER.assign(status="used", reason="")
    assert quality.reasons_by_table(clean, 5).empty


def test_a_page_shows_the_rows_of_its_own_inputs(monkeypatch):
    from types import SimpleNamespace

    import IPython.display

    from daanalysis.config import Config

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    extract = SimpleNamespace(ledger=LEDGER, config=Config(), notes=[])
    quality.show(extract, tables=("staffing",))
    frames = [item.frame for item in shown if hasattr(item, "frame")]
    assert frames and all(set(f["table"]) == {"staffing"} for f in frames)
    shown.clear()
    quality.show(extract)
    assert {"referrals", "staffing"} <= set(
        next(i.frame for i in shown if hasattr(i, "frame"))["table"]
    )


# --- an area's page counts its own area's rows (issue 22) -----------------------------------------


def _two_areas(folder):
    """A hand-built extract of two areas: Northby has two bad referrals (a date that does not
    exist, a service not in the mapping) and one unrecognised label; Southby has none. One
    referral names an area spelt 'Nothby' (in no other file, so it belongs to no area of the
    extract) and one campaign has no area (it applies to every area)."""
    folder.mkdir()
    rows = []
    for area, start in (("Northby", 0), ("Southby", 100)):
        for i in range(60):
            month = pd.Period("2023-04", "M") + i // 5
            rows.append(
                f"R{start + i},C{start + i},{area},{1 + i % 5:02d}/{month:%m/%Y},Police,Standard,"
                f",,Victim"
            )
    rows[3] = rows[3].replace("04/04/2023", "31/02/2023")  # Northby: no such date
    rows[7] = rows[7].replace("Victim", "Catering")  # Northby: no such service
    rows[9] = rows[9].replace("Police", "Carrier pigeon")  # Northby: used, with a note
    rows.append("R999,C999,Nothby,02/05/2023,Police,Standard,,,Victim")
    header = (
        "referral_id,client_id,area,referral_date,referral_source,risk_level,"
        "first_contact_date,closed_date,service"
    )
    (folder / "referrals.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    (folder / "population.csv").write_text(
        "area,year,females_16plus,males_16plus\n"
        "Northby,2023,50000,48000\nNorthby,2024,50100,48100\n"
        "Southby,2023,40000,39000\nSouthby,2024,40100,39100\n",
        encoding="utf-8",
    )
    (folder / "campaigns.csv").write_text(
        "name,start_date,end_date,area\nEveryone,01/09/2023,30/09/2023,\n"
        "South only,01/11/2023,30/11/2023,Southby\n",
        encoding="utf-8",
    )
    (folder / "VINTAGE").write_text("Extract taken 05/04/2024\n", encoding="utf-8")
    return folder


def test_the_ledger_gives_each_row_its_area(tmp_path):
    from daanalysis.ingest.load import load_extract

    ledger = load_extract(_two_areas(tmp_path / "data")).ledger
    referrals = ledger[ledger["table"] == "referrals"].set_index("row")["area"]
    assert (referrals.loc[2:61] == "Northby").all() and (referrals.loc[62:121] == "Southby").all()
    assert referrals[122] == "Nothby"
    campaigns = ledger[ledger["table"] == "campaigns"]
    assert campaigns["area"].tolist() == ["", "Southby"]
    assert set(ledger.loc[ledger["table"] == "population", "area"]) == {"Northby", "Southby"}
    excluded = ledger[ledger["status"] == "excluded"]
    assert sorted(excluded["area"]) == ["Northby", "Northby", "Nothby"]


def test_an_area_counts_its_own_rows_and_those_of_no_area(tmp_path):
    from daanalysis.ingest.load import load_extract

    extract = load_extract(_two_areas(tmp_path / "data"))
    areas = extract.areas()
    assert areas == ["Northby", "Southby"]
    north, north_unassigned = quality.area_rows(extract.ledger, "Northby", areas)
    south, south_unassigned = quality.area_rows(extract.ledger, "Southby", areas)
    # The 'Nothby' referral and the campaign for every area are on both pages.
    assert north_unassigned == south_unassigned == 2
    counts = quality.rows_by_table(south, 1).set_index("table")
    assert counts.loc["referrals", "rows read"] == 61  # 60 of Southby's, 1 of no area
    assert counts.loc["referrals", "excluded"] == 1  # the 'Nothby' referral only
    assert counts.loc["campaigns", "rows read"] == 2
    assert counts.loc["population", "rows read"] == 2
    counts = quality.rows_by_table(north, 1).set_index("table")
    assert counts.loc["referrals", "rows read"] == 61
    assert counts.loc["referrals", "excluded"] == 3
    assert counts.loc["campaigns", "rows read"] == 1
    south_reasons = set(quality.reasons_by_table(south, 1)["reason"])
    assert len(south_reasons) == 1 and "is not in population.csv" in south_reasons.pop()
    north_reasons = " | ".join(quality.reasons_by_table(north, 1)["reason"])
    for reason in ("is not a date", "service [value] not in the mapping", "referral_source"):
        assert reason in north_reasons


def _shown(monkeypatch, extract, **options):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    quality.show(extract, **options)
    texts = [item.data for item in shown if hasattr(item, "data") and isinstance(item.data, str)]
    frames = [item.frame for item in shown if hasattr(item, "frame")]
    return texts, frames


def test_an_area_page_says_which_rows_it_counts(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from daanalysis.ingest.load import load_extract

    extract = load_extract(_two_areas(tmp_path / "data"))
    texts, frames = _shown(monkeypatch, extract, tables=("referrals",), area="Southby")
    said = " ".join(texts)
    assert "count the rows of Southby, and fewer than 5 rows that could not be assigned" in said
    assert "counted on every area's page" in said
    assert frames[0].set_index("table").loc["referrals", "rows read"] == 61
    # Without ``area``, the page's own area (a page publishes its tables itself).
    published = []
    page = SimpleNamespace(
        ctx=SimpleNamespace(area="Southby"),
        table=lambda frame, *args, **options: published.append(frame),
    )
    page_texts, _ = _shown(monkeypatch, extract, tables=("referrals",), page=page)
    assert page_texts == texts
    pd.testing.assert_frame_equal(published[0], frames[0])
    # Inputs whose every row has an area: said so.
    texts, frames = _shown(monkeypatch, extract, tables=("population",), area="Southby")
    assert "count the rows of Southby only" in " ".join(texts)
    assert frames[0].set_index("table").loc["population", "rows read"] == 2
    # The page for all areas (partnership) counts every row, with no such sentence.
    texts, frames = _shown(monkeypatch, extract, tables=("referrals",), area="All areas")
    assert frames[0].set_index("table").loc["referrals", "rows read"] == 121
    assert not any("could not be assigned" in t for t in texts)


def test_a_one_area_extract_shows_the_same_section_as_before(sample_extract, monkeypatch):
    assert len(sample_extract.areas()) == 1
    whole = _shown(monkeypatch, sample_extract)
    mine = _shown(monkeypatch, sample_extract, area=sample_extract.areas()[0])
    assert mine[0] == whole[0]
    assert len(mine[1]) == len(whole[1])
    for a, b in zip(mine[1], whole[1], strict=True):
        pd.testing.assert_frame_equal(a, b)
