"""The pack's spreadsheet against the Analysis Function's guidance on releasing statistics in
spreadsheets (analysisfunction.civilservice.gov.uk, "Releasing statistics in spreadsheets"),
point by point, on the sample pack and on hand-made tables."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.pack.downloads import (
    MAX_WIDTH,
    headline_frame,
    quarter_words,
    sheet_cover,
    write_spreadsheet,
)

MARKERS = {"[c]", "[x]", "[z]"}


@pytest.fixture(scope="module")
def book(sample_report):
    (path,) = (sample_report / "downloads").glob("*.xlsx")
    return openpyxl.load_workbook(path)


def _table(sheet) -> tuple[list[str], list[tuple]]:
    """The header row and data rows of a table sheet (the header is the row after the
    "Source"/scope lines: the first row with a value in every column of the table)."""
    rows = list(sheet.iter_rows(values_only=True))
    width = max(sum(v is not None for v in r) for r in rows)
    start = next(i for i, r in enumerate(rows) if sum(v is not None for v in r) == width)
    return [str(v) for v in rows[start] if v is not None], [r[:width] for r in rows[start + 1 :]]


def _tables(book):
    return [(n, *_table(book[n])) for n in book.sheetnames if n.split()[0] in {"Table", "Chart"}]


def test_units_are_words_not_not_applicable(book):
    # Before: every "%" unit became [z]; the guidance: [z] is for not applicable only.
    headers, rows = _table(book["Table 1"])
    units = [r[headers.index("Unit")] for r in rows]
    assert "per cent (%)" in units
    measure = headers.index("Measure")
    change = next(r for r in rows if "change on same quarter" in str(r[measure]))
    assert change[headers.index("Unit")] == "per cent (%)"


def test_numbers_stored_as_numbers_rounded_as_shown(book):
    long_decimals = []
    for name, _headers, rows in _tables(book):
        for row in rows:
            for value in row:
                if isinstance(value, float) and len(repr(value).split(".")[-1]) > 3:
                    long_decimals.append((name, value))
                # A number is never stored as text (other than a marker).
                if isinstance(value, str) and value not in MARKERS:
                    assert not re.fullmatch(r"-?[\d,]+(\.\d+)?", value), (name, value)
    assert not long_decimals, long_decimals[:5]


def test_rounding_follows_the_column_format(tmp_path):
    data = pd.DataFrame({"cost_gbp": [87500.00000000003], "share_pct": [33.333333], "n": [4]})
    path = tmp_path / "book.xlsx"
    write_spreadsheet(path, "Pack", [({"kind": "table", "title": "T"}, data)])
    headers, rows = _table(openpyxl.load_workbook(path)["Table 1"])
    assert rows[0] == (87500, 33.3, 4)
    assert isinstance(rows[0][0], int)


def test_estimate_and_interval_in_separate_numeric_columns(book):
    headers, rows = _table(book["Table 1"])
    value, low, high = (headers.index(h) for h in ("Value", "95% CI lower", "95% CI upper"))
    with_interval = [r for r in rows if isinstance(r[low], (int, float))]
    assert with_interval, "the sample's verdict figures have intervals"
    for row in with_interval:
        assert isinstance(row[value], (int, float)) and isinstance(row[high], (int, float))
        assert row[low] <= row[value] <= row[high]
    assert not any(isinstance(v, str) and "CI" in v for r in rows for v in r)
    # Nor anywhere else: the demand page's tables write "1.54 (95% CI 1.29 to 1.83)".
    for name, _headers, rows_ in _tables(book):
        for row in rows_:
            assert not any(isinstance(v, str) and "(95% CI" in v for v in row), (name, row)


def test_interval_text_split_into_numbers(tmp_path):
    data = pd.DataFrame(
        {
            "Measure": ["a", "b", "c"],
            "Value": ["1.54 (95% CI 1.29 to 1.83)", "1.28", "down 4.7% (95% CI -5.7% to -3.8%)"],
            "Smallest step": ["+38%", "[c]", "-2.5%"],
            "Campaign step, rate ratio (95% CI)": [
                "1.46 (95% CI 1.17 to 1.83)",
                "[c]",
                "1.10 (95% CI 0.64 to 1.90)",
            ],
        }
    )
    path = tmp_path / "book.xlsx"
    write_spreadsheet(path, "Pack", [({"kind": "table", "title": "T"}, data)])
    sheet = openpyxl.load_workbook(path)["Table 1"]
    headers, rows = _table(sheet)
    assert headers == [
        "Measure",
        "Value",
        "Value, 95% CI lower",
        "Value, 95% CI upper",
        "Value, unit",
        "Smallest step (%)",
        "Campaign step, rate ratio",
        "Campaign step, rate ratio, 95% CI lower",
        "Campaign step, rate ratio, 95% CI upper",
    ]
    assert rows[0] == ("a", 1.54, 1.29, 1.83, "number", 38, 1.46, 1.17, 1.83)
    assert rows[1] == ("b", 1.28, "[z]", "[z]", "number", "[c]", "[c]", "[z]", "[z]")
    assert rows[2] == ("c", -4.7, -5.7, -3.8, "per cent (%)", -2.5, 1.1, 0.64, 1.9)
    # Shown with the places the page gave them (1.10, not 1.1).
    ratio = next(c for c in sheet[sheet.max_row] if c.value == 1.1)
    assert ratio.number_format == "#,##0.00"


def test_headings_in_words(book):
    for name, headers, _ in _tables(book):
        for heading in headers:
            assert not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", heading), (name, heading)
            assert heading not in {"ci_low", "ci_high", "without_campaigns", "engaged_pct"}


def test_notes_sentence_only_where_a_sheet_has_notes(book):
    for name in book.sheetnames:
        if name.split()[0] not in {"Table", "Chart"}:
            continue
        lines = [str(r[0]) for r in book[name].iter_rows(max_col=1, values_only=True) if r[0]]
        title, says_notes = lines[0], any("refer to notes" in line for line in lines)
        assert says_notes == bool(re.search(r"\[note \d+\]", title)), (name, title)
        # A sheet with a marker references the note that explains it.
        cells = {v for r in book[name].iter_rows(values_only=True) for v in r}
        if cells & MARKERS:
            assert says_notes, name


def test_quarter_and_verdict_in_words(book):
    headers, rows = _table(book["Table 1"])
    quarters = {r[headers.index("Quarter")] for r in rows}
    assert quarters == {"2026/27 Q2"}
    values = [str(r[headers.index("Value")]) for r in rows]
    assert "both" not in values and any(v.startswith("Both:") for v in values)
    assert quarter_words("2026-27Q2") == "2026/27 Q2" and quarter_words("2026-27") == "2026-27"


def test_pounds_not_gbp(book):
    # Anywhere on any sheet: cells, titles and the source lines (a setting's source).
    for name in book.sheetnames:
        for row in book[name].iter_rows(values_only=True):
            assert not any(isinstance(v, str) and re.search(r"\bGBP\b", v) for v in row), name


def test_column_widths_sensible(book):
    for name in book.sheetnames:
        for _letter, dim in book[name].column_dimensions.items():
            # The cover is one column of paragraphs (gptables' width of 85, wrapped).
            if dim.width:
                assert dim.width <= (90 if name == "Cover" else MAX_WIDTH + 2), (name, dim.width)


def test_cover_contact_and_dates_from_config(book):
    text = "\n".join(str(r[0]) for r in book["Cover"].iter_rows(values_only=True) if r[0])
    assert "community.safety@sampleborough.example" in text  # the sample's config.csv
    assert "Your council's community safety team" not in text
    assert re.search(r"Published: \d{1,2} \w+ 20\d\d", text)
    assert "Next update: The pack for 2026/27 Q3 (Oct-Dec 2026)" in text


def test_cover_says_when_contact_not_set():
    cover = sheet_cover(Config(), pd.Period("2026Q3", freq="Q-DEC"), dt.date(2026, 12, 7))
    assert "publisher and contact_email" in cover.contact_lines()[0]
    assert cover.published == "7 December 2026"
    set_ = sheet_cover(Config(publisher="Team", contact_email="a@b.example"), None, dt.date.today())
    assert set_.contact_lines() == ["Team", "a@b.example"]


def test_headline_frame_hand_made():
    kpis = pd.DataFrame(
        [
            {
                "area": "A",
                "quarter": "2026-27Q2",
                "notebook": "n",
                "key": "demand_verdict",
                "kpi": "Demand verdict",
                "value": "both",
                "low": "",
                "high": "",
                "unit": "verdict",
                "period": "",
                "rag": "",
                "source": "",
            },
            {
                "area": "A",
                "quarter": "2026-27Q2",
                "notebook": "n",
                "key": "gap_cost",
                "kpi": "Cost",
                "value": "87500.00000000003",
                "low": "1.5",
                "high": "2",
                "unit": "GBP a year",
                "period": "",
                "rag": "red",
                "source": "",
            },
        ]
    )
    frame = headline_frame(kpis)
    assert list(frame["Quarter"]) == ["2026/27 Q2"] * 2
    assert frame["Value"][0].startswith("Both:")
    assert frame["Unit"][1] == "£ a year" and frame["Status"][1] == "Red"
    assert frame["95% CI lower"][1] == 1.5


def test_sheet_names_checked_as_xlsxwriter_does_without_a_pass_over_every_sheet(monkeypatch):
    """The workbook's sheet-name check (issue 22): the same refusals as xlsxwriter's (a name
    used before with case ignored, too long, a forbidden character), but against the names so
    far, not by a pass over every earlier sheet (n * n / 2 comparisons for n sheets); and
    gptables gets its own workbook back afterwards."""
    import gptables.core.api as api
    from xlsxwriter.exceptions import DuplicateWorksheetName, InvalidWorksheetName

    from daanalysis.pack.downloads import sheet_names_checked_once

    own = api.GPWorkbook
    with sheet_names_checked_once():
        workbook = api.GPWorkbook(None, options={"in_memory": True})
        assert isinstance(workbook, own) and type(workbook) is not own
        for n in range(1, 6):
            workbook.add_worksheet(f"Table {n}")
        # xlsxwriter's check passes over workbook.worksheets(): here it is given none.
        passed_over = []
        monkeypatch.setattr(
            type(workbook),
            "worksheets",
            lambda self: passed_over.append(len(self.worksheets_objs)) or self.worksheets_objs,
        )
        workbook.add_worksheet("Table 6")
        assert passed_over and set(passed_over) == {0}
        counted = workbook.sheetname_count
        with pytest.raises(DuplicateWorksheetName, match="already in use"):
            workbook.add_worksheet("table 3")
        assert workbook.sheetname_count == counted + 1  # as xlsxwriter counts a refused name
        with pytest.raises(InvalidWorksheetName):
            workbook.add_worksheet("x" * 32)
        with pytest.raises(InvalidWorksheetName):
            workbook.add_worksheet("Table [7]")
        assert [w.name for w in workbook.worksheets_objs] == [f"Table {n}" for n in range(1, 7)]
    assert api.GPWorkbook is own


def test_spreadsheet_with_many_sheets_written_in_memory(tmp_path):
    """A workbook of many small tables is written whole (in memory, no temporary file a
    sheet) and reads back with every sheet, in order."""
    items = [
        (
            {"kind": "table", "title": f"Counts {n}", "source": "s", "page": "p", "area": "A"},
            pd.DataFrame({"group": ["a", "b"], "count": [10 + n, 20 + n]}),
        )
        for n in range(1, 61)
    ]
    path = tmp_path / "many.xlsx"
    write_spreadsheet(path, "Many", items)
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert names[:3] == ["Cover", "Contents", "Notes"]
    assert names[3:] == [f"Table {n}" for n in range(1, 61)]


def _recorded_pages(folder, pages: int = 3) -> None:
    """``pages`` pages' recorded tables and charts, as notebooks leave them under
    ``analysts/notebooks/<page>.publish`` (a manifest and a CSV each)."""
    import json

    from daanalysis.present.page import EXECUTED

    for n in range(1, pages + 1):
        record = folder / EXECUTED / f"area-{n:03d}_page.publish"
        record.mkdir(parents=True)
        manifest = []
        for kind, name, data in (
            ("table", "counts", pd.DataFrame({"group": ["a", "b"], "count": [3, 40 + n]})),
            ("chart", "lines", pd.DataFrame({"month": ["2026-07", "2026-08"], "index": [99.5, n]})),
        ):
            name = f"area-{n:03d}_page_{name}"
            data.to_csv(record / f"{name}.csv", index=False)
            manifest.append(
                {"kind": kind, "name": name, "title": f"{kind} {n}", "source": "Source: s",
                 "notes": ["A note."] if n == 2 else [], "page": "Page", "area": f"Area {n}"}
            )  # fmt: skip
        (record / "manifest.json").write_text(json.dumps(manifest))


def test_pages_made_ready_as_exported_give_the_same_workbook(tmp_path):
    """The run makes each page's worksheets ready as the page is exported
    (``prepare_page``, issue 22); the spreadsheet made from them is the one made from the
    recorded files at the end, cell for cell, format for format, and so are the chart CSVs."""
    from daanalysis.pack.downloads import build_downloads, prepare_page
    from daanalysis.present.page import EXECUTED

    books = []
    for ready in (False, True):
        folder = tmp_path / f"ready-{ready}"
        _recorded_pages(folder)
        prepared = {}
        if ready:  # two of the three pages made ready, as if the third had not been exported
            for record in sorted((folder / EXECUTED).glob("*.publish"))[:2]:
                prepared[record.name] = prepare_page(record)
        path = build_downloads(folder, "Pack", None, ["A line."], None, prepared)
        book = openpyxl.load_workbook(path)
        books.append(
            [
                (s.title, [[(c.value, c.number_format) for c in row] for row in s.iter_rows()])
                for s in book
            ]
        )
        csvs = sorted(p.name for p in (folder / "downloads").glob("*.csv"))
        assert csvs == [f"area-{n:03d}_page_lines.csv" for n in (1, 2, 3)]
    assert books[0] == books[1]
    titles = [title for title, _ in books[1]]
    assert titles[3:] == ["Table 1", "Chart 2", "Table 3", "Chart 4", "Table 5", "Chart 6"]
    # The one page with a note refers to it; the note numbers follow the sheets' order.
    assert any("[note 1]" in str(v) for row in books[1][6][1] for v, _ in row)


def _kind_read_in_full(name: str, values: pd.Series) -> str:
    """infer_kind's decision as it was made before its shortcuts (issue 22): every cell made
    text to find the marker, the rest read as numbers. The reference for the test below."""
    from daanalysis.present.disclosure import MARKER

    lowered = re.sub(r"\b\d+% (ci|confidence interval)\b", r"\1", str(name).lower())
    if lowered in {"rag", "rag_before", "status"}:
        return "rag"
    if lowered in {"year", "financial year", "calendar year"}:
        return "text"
    unmarked = values.astype(str) != MARKER
    numbers = pd.to_numeric(values.where(unmarked), errors="coerce")
    present = values.notna() & unmarked
    if present.any() and numbers[present].isna().any():
        return "text"
    if not present.any():
        return "text" if values.dtype == object else "decimal"
    if "(%)" in lowered or lowered.endswith(("_pct", "%")):
        return "pct"
    if "gbp" in lowered or "cost" in lowered or "£" in lowered:
        return "gbp"
    if "pct" in lowered or "%" in lowered or "per cent" in lowered:
        return "pct"
    if "ratio" in lowered or lowered in {"ci_low", "ci_high"} or lowered.startswith("ci "):
        return "ratio"
    if "fte" in lowered or "per " in lowered or "rate" in lowered or "mean" in lowered:
        return "decimal"
    finite = numbers[present]
    return "count" if (finite == finite.round()).all() else "decimal"


def test_infer_kind_decides_as_reading_every_cell_would():
    """infer_kind's shortcuts (numbers left as they are; the first cell in words decides a
    column of text) give what reading every cell gives, on awkward cells too."""
    from daanalysis.present.tables import infer_kind

    cells = ["1_000", " 12", "nan", "", "inf", "1e3", "\u0663", None, "[c]", "1,000", "True",
             "x", "12.5", "-3", "[x]", float("nan"), 7, 2.5, True]  # fmt: skip
    columns = [pd.Series(pd.array([a, b, "5"], dtype=object)) for a in cells for b in cells] + [
        pd.Series([1, 2, 3]),
        pd.Series([1.5, None, 2.0]),
        pd.Series([True, False]),
        pd.Series([1, None], dtype="Int64"),
        pd.Series(["a", None], dtype="str"),
        pd.Series(["[c]", "4"], dtype="str"),
        pd.Series(["[c]", None], dtype="str"),
        pd.Series([], dtype="str"),
        pd.Series([], dtype=object),
        pd.Series(["3", "[c]"], dtype="category"),
    ]
    names = ["count", "Referrals per FTE", "share (%)", "Cost (GBP)", "rate_ratio", "status"]
    for values in columns:
        texts = values.astype(str) if values.dtype == object else values
        for name in names:
            for column in (values, texts):
                assert infer_kind(name, column) == _kind_read_in_full(name, column), (
                    name,
                    list(column),
                    column.dtype,
                )


def test_a_tables_text_is_worked_out_again_when_the_table_changes():
    """Table.text is kept for the table as it is: a new frame, kinds or precision give new
    text, and its notes follow what the cells show."""
    from daanalysis.present.tables import format_table

    table = format_table(pd.DataFrame({"referrals": [12, None], "rate": [1.234, 2.0]}))
    first = table.text()
    assert list(first.iloc[:, 0]) == ["12", "[x]"]
    first.iloc[0, 0] = "changed"  # a copy: the table's own text is not changed
    assert table.text().iloc[0, 0] == "12"
    assert any("not available" in note.lower() for note in table.all_notes())
    table.precision = 3
    assert table.text().iloc[0, 1] == "1.234"
    table.kinds["rate"] = "count"
    assert table.text().iloc[0, 1] == "1"
    table.frame = pd.DataFrame({"referrals": [5, 6], "rate": [1.0, 2.0]})
    assert list(table.text().iloc[:, 0]) == ["5", "6"] and table.all_notes() == []
    table.frame = pd.DataFrame({"referrals": ["[c]", 6], "rate": [1.0, 2.0]})
    assert table.all_notes() and "[c]" in list(table.text().iloc[:, 0])


_FORMAT_ORDER = """
import json
import pandas as pd
from daanalysis.pack.downloads import prepare_sheet
# Percentages shown with 0 to 4 decimal places: five number formats of their own, one a column.
data = pd.DataFrame({f"Share {p}": [f"{12.5:.{p}f}%", f"{3:.{p}f}%"] for p in (3, 0, 4, 1, 2)})
item = {"kind": "table", "title": "T", "source": "s", "notes": [], "page": "P", "area": "A"}
sheet = prepare_sheet(item, data)
print(json.dumps([(f["column"]["columns"], f["column"]["format"]) for f in sheet.formatting]))
"""


def test_a_sheets_number_formats_come_in_the_same_order_whatever_the_hash_seed():
    # The number formats a sheet takes from its columns (percentages shown with their own
    # decimal places) are listed, and so made in the workbook, in the order of the columns:
    # not in the order of a set of strings, which changes from one Python process to the next
    # (PYTHONHASHSEED), so that two runs on the same data write the same workbook.
    import json
    import os
    import subprocess
    import sys

    seen = []
    for seed in ("0", "1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", _FORMAT_ORDER],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        seen.append(json.loads(done.stdout))
    assert all(order == seen[0] for order in seen)
    assert seen[0] == [
        [[f"Share {p} (%)"], {"num_format": "#,##0" + ("." + "0" * p if p else "")}]
        for p in (3, 0, 4, 1, 2)
    ]


def _workbook_parts(path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as book:
        # docProps/core.xml holds the time the workbook was made.
        return {n: book.read(n) for n in book.namelist() if n != "docProps/core.xml"}


def test_the_pack_writes_its_tables_as_gptables_would_byte_for_byte(tmp_path, monkeypatch):
    """The pack's own writing of a plain table (issue 22: a format worked out once a column
    rather than a frame of them updated cell by cell) against gptables' writing of every table,
    on tables of every kind the pack publishes: the same workbook, byte for byte (cells,
    formats and their numbering, alignment, tables), but for the time it was made."""
    from daanalysis.pack import downloads

    frames = {
        "counts": pd.DataFrame({"Area": ["A", "B", "C"], "Referrals": [12, 7, 1200]}),
        "numbers first": pd.DataFrame({"Year": [2024, 2025], "Cases": [3, 4]}),
        "suppressed": pd.DataFrame(
            {"Area": ["A", "B"], "Cases": ["[c]", 14], "Rate": [1.5, "[x]"]}
        ),
        "all suppressed": pd.DataFrame({"Area": ["A", "B"], "Cases": ["[c]", "[c]"]}),
        "mixed text": pd.DataFrame(
            {"Area": ["A", "B"], "Status": ["Green", 3], "Money": [1e3, 2.5]}
        ),
        "intervals": pd.DataFrame(
            {"Area": ["A", "B"], "Rate ratio": ["1.54 (95% CI 1.29 to 1.83)", "[c]"]}
        ),
        "percentages": pd.DataFrame({"Area": ["A", "B"], "Share": ["+3.25%", "-1.5%"]}),
        "long text": pd.DataFrame({"Note": ["word " * 30, "short"], "Count": [1, 2]}),
        "empty": pd.DataFrame({"Area": []}),
    }
    items = []
    for number, (title, frame) in enumerate(frames.items()):
        kind = "chart" if number % 3 == 2 else "table"
        item = {"kind": kind, "title": title, "source": "s", "notes": ["A note."] * (number % 2),
                "page": "P", "area": "A", "kinds": {"Money": "gbp"}}  # fmt: skip
        items.append((item, frame))
    ours = tmp_path / "ours.xlsx"
    write_spreadsheet(ours, "Pack", items, ["Line"], None)
    written_by_us = []
    plain = downloads.plain_table
    monkeypatch.setattr(
        downloads, "plain_table", lambda *a: written_by_us.append(plain(*a)) or False
    )
    theirs = tmp_path / "theirs.xlsx"
    write_spreadsheet(theirs, "Pack", items, ["Line"], None)
    assert written_by_us.count(True) == len(items)  # every table here is one the pack writes
    assert _workbook_parts(ours) == _workbook_parts(theirs)


def test_a_table_the_pack_does_not_write_itself_goes_to_gptables():
    import gptables as gpt

    from daanalysis.pack.downloads import plain_table

    def table(frame: pd.DataFrame, **options) -> object:
        return gpt.GPTable(table=frame, table_name="t", title="T", scope="s", source="s",
                           instructions="i", **options)  # fmt: skip

    good = pd.DataFrame({"Area": ["A"], "Cases": [3]})
    assert plain_table(table(good), auto_width=False)
    assert not plain_table(table(good), auto_width=True)  # gptables sizes the columns
    refused = [
        pd.DataFrame({"Area": ["A"], "Cases": [" "]}),  # blank
        pd.DataFrame({"Area": ["A"], "Cases": ["%"]}),  # symbols only: gptables refuses it
        pd.DataFrame({"Area": ["A"], "Cases": [float("nan")]}),
        pd.DataFrame({"Area": ["A"], "Cases": [True]}),
        pd.DataFrame({"Area": ["A"], "Cases [note 1]": [3]}),  # shorthand in a heading
        pd.DataFrame({"Area": []}),
    ]
    for frame in refused:
        assert not plain_table(table(frame), auto_width=False), frame
    row_format = [{"row": {"rows": [1], "format": {"bold": True}}}]
    assert not plain_table(table(good, additional_formatting=row_format), auto_width=False)
