import pandas as pd

from daanalysis.present.disclosure import MARKER, suppress, suppressed_cells


def test_primary_suppression_keeps_zero_and_large_counts():
    table = pd.DataFrame({"group": list("abcd"), "n": [0, 3, 4, 5], "pct": [0.0, 10.0, 20.0, 30.0]})
    out = suppress(table, ["n"], threshold=5, rate_columns={"pct": "n"})
    assert out["n"].tolist() == [0, MARKER, MARKER, 5]
    assert out["pct"].tolist() == [0.0, MARKER, MARKER, 30.0]
    assert suppressed_cells(out) == 4


def test_secondary_suppression_protects_against_subtraction():
    # Rows: sources; columns: risk levels and a total; last row is the total.
    table = pd.DataFrame(
        {
            "source": ["self", "police", "other", "total"],
            "standard": [2, 20, 30, 52],
            "high": [10, 15, 40, 65],
            "total": [12, 35, 70, 117],
        }
    )
    out = suppress(table, ["standard", "high", "total"], threshold=5, totals=True)
    # 'self, standard' = 2 is primary; alone in its row and column it could be recovered from the
    # totals, so the smallest other cell in its row (10) and column (20) go too, and then one more
    # cell so that no row or column is left with a single suppressed cell.
    inner = out.iloc[:-1][["standard", "high"]]
    assert inner.at[0, "standard"] == MARKER
    assert inner.at[0, "high"] == MARKER
    assert inner.at[1, "standard"] == MARKER
    for i in range(len(inner)):
        assert (inner.iloc[i] == MARKER).sum() != 1
    for col in inner.columns:
        assert (inner[col] == MARKER).sum() != 1
    # Totals are large, so they stay; the table stays publishable.
    assert out["total"].tolist() == [12, 35, 70, 117]


def test_nothing_small_nothing_changed():
    table = pd.DataFrame({"n": [10, 20]})
    out = suppress(table, ["n"], threshold=5)
    pd.testing.assert_frame_equal(out, table)


def test_total_row_only_protects_down_the_columns():
    # Two years side by side with a total row: a lone small cell in a year could be recovered
    # from that year's total, so the next smallest cell of the same year goes too. Rows are not
    # summed, so nothing is forced along them.
    table = pd.DataFrame(
        {
            "group": ["a", "b", "c", "total"],
            "year 1": [3, 40, 12, 55],
            "year 2": [30, 41, 50, 121],
        }
    )
    out = suppress(table, ["year 1", "year 2"], threshold=5, totals="row")
    assert out["year 1"].tolist() == [MARKER, 40, MARKER, 55]
    assert out["year 2"].tolist() == [30, 41, 50, 121]


# --- disclosure by default: what a page publishes ------------------------------------------------
# The defect (issue 19): a new notebook's page.table published a "Marac x Medium = 2" cell on its
# page and in the spreadsheet, while the demand page, which suppressed the table itself, hid it.


def _new_page(tmp_path, monkeypatch, threshold=5):
    """A page as a new notebook makes one: Page(ctx, kpi_path, title, record_dir=record_dir),
    nothing else."""
    from types import SimpleNamespace

    from daanalysis.config import Config
    from daanalysis.present.page import EXECUTED, Page

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: shown.append(obj))
    folder = tmp_path / "pack"
    (folder / EXECUTED).mkdir(parents=True)
    ctx = SimpleNamespace(
        area="A", label="2026/27 Q2", config=Config(suppression_threshold=threshold)
    )
    executed = folder / EXECUTED
    page = Page(
        ctx,
        str(executed / "a_new_page.kpis.csv"),
        "New page",
        record_dir=str(executed / "a_new_page.publish"),
    )
    return page, folder, shown


BREAKDOWN = pd.DataFrame(
    {
        "source": ["Marac", "Police", "Self", "Total"],
        "standard": [14, 30, 25, 69],
        "medium": [2, 18, 12, 32],
        "high": [9, 11, 7, 27],
        "total": [25, 59, 44, 128],
    }
)


def _cells(table) -> list[str]:
    return [str(v) for v in table.frame.to_numpy().ravel()]


def test_a_new_pages_table_is_suppressed_with_no_extra_code(tmp_path, monkeypatch):
    import openpyxl

    from daanalysis.pack.downloads import build_downloads

    page, folder, shown = _new_page(tmp_path, monkeypatch)
    page.table(BREAKDOWN, "Referrals by source and risk level", "Source: case records.")
    (table,) = shown
    marac = table.frame.iloc[0]
    assert marac["medium"] == MARKER  # the 2: on the page
    # The totals would give it back: a second cell in its row and in its column goes too, as
    # on the demand page (disclosure.suppress with totals=True).
    expected = suppress(BREAKDOWN, ["standard", "medium", "high", "total"], 5, totals=True)
    assert table.frame.astype(str).equals(expected.astype(str))
    assert any(note.startswith(MARKER) for note in table.all_notes())
    book = openpyxl.load_workbook(build_downloads(folder, "Pack"))  # and in the spreadsheet
    sheet = book[book.sheetnames[-1]]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    marac_row = next(r for r in rows if r and r[0] == "Marac")
    assert marac_row[2] == MARKER and 2 not in marac_row


def test_suppressing_twice_changes_nothing(tmp_path, monkeypatch):
    """A table the notebook already suppressed (the demand page's) is published as it was."""
    page, _, shown = _new_page(tmp_path, monkeypatch)
    done = suppress(BREAKDOWN, ["standard", "medium", "high", "total"], 5, totals=True)
    page.table(done, "Already suppressed", "Source: case records.")
    assert shown[0].frame.astype(str).equals(done.astype(str))


def test_rates_go_with_their_counts_and_non_counts_are_declared(tmp_path, monkeypatch):
    page, _, shown = _new_page(tmp_path, monkeypatch)
    frame = pd.DataFrame(
        {
            "quarter": ["2026/27 Q1", "2026/27 Q2"],
            "referrals": [40, 3],
            "repeat rate (%)": [20.0, 33.3],
            "sessions held": [2, 12],
        }
    )
    page.table(
        frame,
        "Referrals and sessions",
        "Source: x.",
        rates={"repeat rate (%)": "referrals"},
        not_counts=["sessions held"],  # sessions, not people
    )
    out = shown[0].frame
    assert out["referrals"].tolist() == [40, MARKER]
    assert out["repeat rate (%)"].tolist() == [20.0, MARKER]
    assert out["sessions held"].tolist() == [2, 12]
    page.table(frame, "Actions", "Source: x.", not_counts=True)  # the table counts no people
    assert shown[1].frame["referrals"].tolist() == [40, 3]


def test_the_threshold_comes_from_the_config(tmp_path, monkeypatch):
    page, _, shown = _new_page(tmp_path, monkeypatch, threshold=10)
    page.table(pd.DataFrame({"team": ["a", "b"], "clients": [7, 30]}), "Clients", "Source: x.")
    assert shown[0].frame["clients"].tolist() == [MARKER, 30]
