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
