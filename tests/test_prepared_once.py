"""The run's inputs checked once (issue 22's per-area cost): each notebook compares the input
files' sizes and times with those the runner recorded; the runner compares their SHA-256 once,
after the notebooks, instead of every notebook reading every input file again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from daanalysis.present import notebook, quality

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_a_change_of_content_alone_is_caught_once_by_the_runner(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    extract, panel = notebook.load_prepared(data)
    saved = notebook.save_prepared(extract, panel, tmp_path)
    notebook.check_inputs(saved, data)  # unchanged: accepted
    # The same size and modification time, another content: what only a checksum sees.
    target = data / "staffing.csv"
    before = target.stat()
    text = target.read_text()
    changed = text.replace("1", "2", 1)
    assert changed != text and len(changed) == len(text)
    target.write_text(changed)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    notebook.prepare(data, "latest", prepared=str(saved))  # a notebook's cheap check passes
    with pytest.raises(ValueError, match="changed while the run was using them"):
        notebook.check_inputs(saved, data)


def test_a_file_added_or_grown_is_refused_by_each_notebook(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    extract, panel = notebook.load_prepared(data)
    saved = notebook.save_prepared(extract, panel, tmp_path)
    (data / "notes.txt").write_text("a file copied in while the run went on\n")
    with pytest.raises(ValueError, match="changed while the run was using them"):
        notebook.prepare(data, "latest", prepared=str(saved))
    with pytest.raises(ValueError, match="changed while the run was using them"):
        notebook.check_inputs(saved, data)


def test_an_area_page_reads_its_own_rows_and_sees_what_it_saw_in_the_whole(tmp_path):
    """Each area's pages read a prepared file of that area's rows (issue 22: a page's set-up
    costs the same at 100 areas as at one); what a page gets from it is what it got from the
    whole extract: the same panel and quarter, each table's rows of its area and those with no
    area (a campaign for every area), and the ledger rows its data-quality section counts."""
    from daanalysis.synthetic import sample

    data = tmp_path / "data"
    areas = ["North", "South", "West"]
    sample.write_sample(data, areas={"North": 0.5, "South": 0.3, "West": 0.4})
    extract, panel = notebook.load_prepared(data)
    # A campaign of one area beside those for every area (no area), which each area keeps.
    campaigns = extract["campaigns"]
    assert campaigns["area"].isna().all() and len(campaigns) > 1
    campaigns.loc[campaigns.index[0], "area"] = "North"
    (tmp_path / "run").mkdir()
    (tmp_path / "whole").mkdir()
    saved = notebook.save_prepared(extract, panel, tmp_path / "run", areas)
    # The same file without area files beside it: what each page read before.
    whole = shutil.copy(saved, tmp_path / "whole" / saved.name)
    for area in areas:
        own_file = notebook.area_file(saved, area)
        assert own_file.stat().st_size < saved.stat().st_size / 2
        own = notebook.prepare(data, "latest", area, "2026-12-01", prepared=str(saved))
        before = notebook.prepare(data, "latest", area, "2026-12-01", prepared=str(whole))
        assert own.area == before.area == area and own.quarter == before.quarter
        pd.testing.assert_frame_equal(own.panel, before.panel)
        for name, frame in before.extract.tables.items():
            got = own.extract[name]
            if "area" in frame:
                expected = frame[frame["area"].isna() | (frame["area"] == area)]
                assert set(got["area"].dropna()) <= {area}, name
            else:
                expected = frame
            pd.testing.assert_frame_equal(got, expected, obj=name)
        assert len(own.extract["campaigns"]) == len(campaigns) - (area != "North")
        assert len(own.extract["referrals"]) and len(own.extract["referrals"]) < len(
            before.extract["referrals"]
        )
        # The data-quality section counts the same rows (the area's, and those that could not
        # be assigned to an area) and knows the areas of the whole extract.
        assert own.extract.cut_from == tuple(areas)
        mine, unassigned = quality.area_rows(own.extract.ledger, area, areas)
        wanted, unassigned_before = quality.area_rows(before.extract.ledger, area, areas)
        pd.testing.assert_frame_equal(mine, wanted)
        assert unassigned == unassigned_before
    # The partnership's pages read the whole extract.
    every = notebook.prepare(data, "latest", "", "2026-12-01", True, prepared=str(saved))
    assert sorted(every.panel["area"].unique()) == areas
    # An area's file is checked against the inputs as the whole one is.
    (data / "notes.txt").write_text("a file copied in while the run went on\n")
    with pytest.raises(ValueError, match="changed while the run was using them"):
        notebook.prepare(data, "latest", "South", "2026-12-01", prepared=str(saved))


def test_a_ledger_with_an_area_column_is_split_by_area(tmp_path):
    """The ledger says each row's area: each area's file carries its own rows of it and those
    that could not be assigned to an area (none given, or one not in the extract: every area's
    page counts them), and no whole ledger is written beside them."""
    from daanalysis.synthetic import sample

    data = tmp_path / "data"
    sample.write_sample(data, areas={"North": 0.3, "South": 0.3})
    extract, panel = notebook.load_prepared(data)
    ledger = extract.ledger
    by_file = {"North": ledger.index[::2], "South": ledger.index[1::2]}
    extract.ledger = ledger.assign(area=None)
    for area, rows in by_file.items():
        extract.ledger.loc[rows[1:], "area"] = area  # each area's first row: no area
    extract.ledger.loc[by_file["North"][1], "area"] = "Nrth"  # misspelt: in no area
    saved = notebook.save_prepared(extract, panel, tmp_path, ["North", "South"])
    assert not list(tmp_path.glob("*.ledger.pickle"))
    for area in ("North", "South"):
        got = notebook.prepare(data, "latest", area, "2026-12-01", prepared=str(saved))
        whole = extract.ledger
        expected = whole[whole["area"].isna() | whole["area"].isin([area, "Nrth"])]
        pd.testing.assert_frame_equal(got.extract.ledger, expected)
        assert got.extract.cut_from == ("North", "South")


def test_the_ledger_grouped_once_gives_each_area_the_lines_area_rows_gives():
    """Each area's ledger lines, from the ledger grouped once (issue 22), are
    ``ledger.area_rows``'s: its own, those with no area and those with an area not in the
    extract, in order and with their index; a ledger without an area column whole."""
    from daanalysis.ingest.ledger import area_rows

    ledger = pd.DataFrame(
        {
            "table": ["referrals"] * 8,
            "row": range(8),
            "area": ["North", None, "South", "Nrth", "North", float("nan"), "South", "West"],
            "status": ["used"] * 8,
        },
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    everyone = ["North", "South", "East"]  # East: no line of its own; West: not an area
    split = notebook._ledger_by_area(ledger, everyone)
    for area in everyone:
        pd.testing.assert_frame_equal(split(area), area_rows(ledger, area, everyone)[0])
    assert list(split("North").index) == [10, 11, 13, 14, 15, 17]
    no_area = ledger.drop(columns="area")
    pd.testing.assert_frame_equal(notebook._ledger_by_area(no_area, everyone)("North"), no_area)
