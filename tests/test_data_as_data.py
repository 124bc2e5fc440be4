"""Downloads and pages carry data as data (issue 20).

A faulty extract made from the sample carries hostile text in every free-text field a pack
publishes: an area name that is a spreadsheet formula and Markdown, a team name starting with
``+``, a VINTAGE with bare URLs, one referral's free-text ethnicity naming a person, and a label
with both quote kinds that the loader rejects. The pack is built through the real runner and its
spreadsheet, CSVs and pages are read back.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from daanalysis.pack import report
from daanalysis.safe_csv import FORMULA_STARTS, inert, inert_frame
from tests.conftest import SAMPLE, notebook_with_outputs

AREA = '=HYPERLINK("http://x","click") ![x](http://evil/x.png) [click](javascript:alert(1))'
TEAM = "+cmd"  # a staffing team and an action-plan lead (published in the action plan table)
VINTAGE = "Synthetic extract taken 05/10/2026, see https://evil.example/x or www.evil.example"
ETHNICITY = "Zorblaxian (name: Jane Doe)"
QUOTED = 'Jane "JD" O\'Neil-Smithers'  # both quote kinds: repr() escapes one of them
SECOND_LINE = "SECOND LINE SECRET"  # VINTAGE's second line, never shown


def _rewrite(path: Path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1252")
    change(frame)
    frame.to_csv(path, index=False, encoding="cp1252", lineterminator="\n")


def make_hostile_extract(folder: Path) -> Path:
    """The sample with hostile text in its free-text fields (see the module docstring)."""
    data = folder / "data"
    shutil.copytree(SAMPLE, data)
    for path in data.glob("*.csv"):
        if path.name == "config.csv":
            continue

        def area(frame: pd.DataFrame) -> None:
            if "area" in frame:
                frame["area"] = frame["area"].replace("Sampleborough", AREA)

        _rewrite(path, area)
    _rewrite(
        data / "config.csv",
        lambda f: f.__setitem__("value", f["value"].replace("Sampleborough", AREA)),
    )
    _rewrite(
        data / "staffing.csv", lambda f: f.__setitem__("team", f["team"].replace("IDVA team", TEAM))
    )

    _rewrite(
        data / "action_plan.csv",
        lambda f: f.__setitem__("lead", f["lead"].replace("WBC DA coordinator", TEAM)),
    )

    def referrals(frame: pd.DataFrame) -> None:
        in_quarter = frame.index[frame["referral_date"].str.endswith("/08/2026")]
        frame.loc[in_quarter[0], "ethnicity"] = ETHNICITY
        frame.loc[in_quarter[1], "risk_level"] = QUOTED

    _rewrite(data / "referrals.csv", referrals)
    # A second line too: only the first is ever shown (a test of its own below, on this pack).
    (data / "VINTAGE").write_text(VINTAGE + "\n" + SECOND_LINE + "\n")
    return data


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, warm_process) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    data = make_hostile_extract(folder)
    return data, report.run_report(data, folder / "out", workers=2, warm=warm_process)


# --- 1. no formula in a download ----------------------------------------------------------------


def test_inert_prefixes_formula_text_and_keeps_numbers(tmp_path):
    for text in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "-", "- bullet"):
        assert inert(text) == "'" + text
    for value in (-4.7, 3, "-4.7", "+3", "-12%", "1,234", "text", "'=already", "", None):
        assert inert(value) == value
    frame = inert_frame(pd.DataFrame({"=h": ["=x", "a"], "n": [-1.5, 2.0]}))
    assert list(frame.columns) == ["'=h", "n"]
    assert frame["'=h"].tolist() == ["'=x", "a"]
    assert frame["n"].tolist() == [-1.5, 2.0] and frame["n"].dtype == float
    # gptables' own markup in data ([text](url) a link, $$ref$$ a note) is broken invisibly.
    from daanalysis.pack.downloads import sheet_text
    from daanalysis.safe_csv import read_csv_back, write_csv

    # Read back by the pack itself (front page alerts, last quarter's kpis): the text as written.
    frame = pd.DataFrame({"area": ["=x", "-4.7", "plain"], "value": [-1.5, 2, 3]})
    back = read_csv_back(write_csv(frame, tmp_path / "f.csv"), dtype=str, keep_default_na=False)
    assert (tmp_path / "f.csv").read_text().splitlines()[1] == "'=x,-1.5"
    assert back["area"].tolist() == ["=x", "-4.7", "plain"]
    assert sheet_text("=[a](http://x) $$n$$") == "'=[a]\u2060(http://x) $\u2060$n$\u2060$"


@pytest.mark.slow
def test_spreadsheet_has_no_formula_and_keeps_numbers(hostile):
    from openpyxl import load_workbook

    _, out = hostile
    (book,) = sorted((out / "downloads").glob("*.xlsx"))
    wb = load_workbook(book)
    hostile_cells, negatives, numbers = [], 0, 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}: {cell.value}"
                if isinstance(cell.value, (int, float)):
                    numbers += 1
                    negatives += cell.value < 0
                if isinstance(cell.value, str) and cell.hyperlink is not None:
                    assert cell.hyperlink.target is None or "evil" not in cell.hyperlink.target
                if isinstance(cell.value, str) and (
                    "HYPERLINK" in cell.value or TEAM in cell.value
                ):
                    hostile_cells.append(cell)
    assert hostile_cells, "the hostile area and team names should be in the spreadsheet"
    for cell in hostile_cells:
        if cell.value.lstrip("'").startswith(FORMULA_STARTS):
            assert cell.data_type == "s" and cell.value.startswith("'"), cell.value
    assert any(c.value.startswith("'=HYPERLINK") for c in hostile_cells)
    assert any(c.value == "'" + TEAM for c in hostile_cells), "the team name, made inert"
    assert numbers > 100 and negatives > 0  # genuine (negative) numbers stay numbers


@pytest.mark.slow
def test_csvs_have_no_formula(hostile):
    _, out = hostile
    files = [*out.glob("*.csv"), *(out / "downloads").glob("*.csv")]
    files += (out / "analysts").glob("*.csv")  # the ledger and officer lists, opened in Excel
    assert {"kpis.csv", "alerts.csv", "ledger.csv"} <= {f.name for f in files}
    seen = 0
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for field in row:
                    if field.startswith(FORMULA_STARTS):
                        assert inert(field) == field, f"{path.name}: {field!r}"
                    seen += field.startswith("'=HYPERLINK")
    assert seen > 0


# --- 2. Markdown and URLs in data are text on the pages -----------------------------------------

# Any link or image a page may carry points inside the pack (or is an inlined data: image).
OUTSIDE_LINK = re.compile(r"""<a\b[^>]*\bhref=["']?\s*([a-z][a-z0-9+.-]*:|//)""", re.IGNORECASE)
OUTSIDE_IMG = re.compile(r"""<img\b(?![^>]*\bsrc=["']?data:image/)[^>]*>""", re.IGNORECASE)


def test_markdown_outputs_keep_links_and_images_inside():

    from daanalysis.pack import export

    text = f"**{AREA}** see https://evil.example/y, [data](downloads/x.csv)"
    nb = notebook_with_outputs({"text/markdown": text})
    out, _ = export.output_sanitizer().preprocess(nb, {})
    page = out.cells[0].outputs[0]["data"]["text/html"]
    assert not OUTSIDE_LINK.search(page) and not OUTSIDE_IMG.search(page), page
    assert '<a href="downloads/x.csv">data</a>' in page  # our own link to a download stays
    assert "https://evil.example/y" in page and "[image: x]" in page  # shown as text
    assert "<strong>" in page
    rendered = export.markdown_text(VINTAGE)
    assert "://" not in rendered and "https&#58;//evil.example/x" in rendered


@pytest.mark.slow
def test_pages_carry_no_outside_link_or_image(hostile):
    _, out = hostile
    pages = sorted(out.glob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not OUTSIDE_LINK.search(text), (page.name, OUTSIDE_LINK.search(text))
        assert not OUTSIDE_IMG.search(text), (page.name, OUTSIDE_IMG.search(text))
    # The VINTAGE line and the area's name are still shown, as text.
    front = (out / "index.html").read_text(encoding="utf-8")
    assert "https://evil.example/x" in front or "https&#58;//evil.example/x" in front
    # The front page reads alerts.csv back: the area as the data spell it, no added quote.
    import html

    assert "'=HYPERLINK" not in html.unescape(front) and "=HYPERLINK" in html.unescape(front)
    action = (out / "action_plan.html").read_text(encoding="utf-8")
    assert "evil.example/x" in action


# --- 3. VINTAGE: one line of plain text from a regular file in the data folder ------------------


def _vintage(tmp_path: Path, write) -> tuple[str, list[str]]:
    from daanalysis.ingest.vintage import read_vintage

    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    write(data / "VINTAGE")
    return read_vintage(data)[:2]


def test_vintage_link_outside_the_data_folder_is_refused(tmp_path):
    from daanalysis.ingest.extract import DataContractError
    from daanalysis.ingest.load import load_extract

    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    (data / "VINTAGE").unlink()
    (data / "VINTAGE").symlink_to(secret)
    with pytest.raises(DataContractError) as err:
        load_extract(data)
    message = str(err.value)
    assert str(data / "VINTAGE") in message and "outside the data folder" in message
    assert "Make VINTAGE a plain text file" in message and "root:x" not in message
    # A link that stays inside the folder is read.
    (data / "VINTAGE").unlink()
    (data / "extract-note.txt").write_text("extract taken 05/10/2026\n")
    (data / "VINTAGE").symlink_to(data / "extract-note.txt")
    assert load_extract(data).vintage == "extract taken 05/10/2026"


def test_vintage_not_a_file_or_not_text_is_refused(tmp_path):
    from daanalysis.ingest.extract import DataContractError

    with pytest.raises(DataContractError, match="not a regular file"):
        _vintage(tmp_path, lambda p: p.mkdir())
    with pytest.raises(DataContractError, match="not a regular file"):
        _vintage(tmp_path / "b", lambda p: p.symlink_to(p.parent / "missing"))
    with pytest.raises(DataContractError, match="line 1: VINTAGE holds the control character"):
        _vintage(tmp_path / "c", lambda p: p.write_bytes(b"\x7fELF\x02\x01\x00\x00binary"))


def test_vintage_is_one_line_of_limited_length(tmp_path):
    from daanalysis.ingest.vintage import VINTAGE_LIMIT

    assert _vintage(tmp_path / "a", lambda p: p.write_text("\n  one line  \r\n")) == (
        "one line",
        [],
    )
    line, notes = _vintage(
        tmp_path / "b", lambda p: p.write_text("extract taken 05/10/2026\nJane Doe's file\n")
    )
    assert line == "extract taken 05/10/2026" and "Jane" not in " ".join(notes)
    assert notes == ["VINTAGE has 2 lines; only the first is shown. Keep it to one line."]
    # The extract date may be labelled on a line of its own: it is still the extract date.
    from daanalysis.config import Config
    from daanalysis.ingest.vintage import extract_date, read_vintage

    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "VINTAGE").write_text(
        "KPIs, published 20/02/2018\nextract_date: 2017-05-02\n"
    )
    shown, _, text = read_vintage(tmp_path / "e")
    assert shown == "KPIs, published 20/02/2018"
    assert extract_date(Config(), text)[0] == pd.Timestamp("2017-05-02")
    line, notes = _vintage(tmp_path / "c", lambda p: p.write_text("x" * 500))
    assert len(line) == VINTAGE_LIMIT and line.endswith("\u2026")
    assert "longer than 200 characters" in notes[0]
    assert (
        _vintage(tmp_path / "d", lambda p: p.write_bytes(b"caf\xe9 extract"))[0]
        == "caf\u00e9 extract"
    )


@pytest.mark.slow
def test_multiline_vintage_shows_one_line_on_every_page(hostile):
    data, out = hostile
    assert (data / "VINTAGE").read_text().splitlines() == [VINTAGE, SECOND_LINE]
    pages = sorted(out.glob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        assert SECOND_LINE not in page.read_text(encoding="utf-8"), page.name
    # The first line is shown (its links made inert: tested above).
    assert "Synthetic extract taken 05/10/2026, see" in (out / "index.html").read_text("utf-8")
    quality = [p for p in pages if "demand" in p.name][0].read_text("utf-8")
    assert "VINTAGE has 2 lines; only the first is shown" in quality


# --- 4. free-text categories with small counts are grouped as Other -----------------------------


def test_rare_free_text_groups_are_counted_as_other():
    from daanalysis.metrics import demand
    from daanalysis.present.disclosure import OTHER

    q = pd.Period("2025Q2", freq="Q-DEC")
    dates = ["2025-05-01"] * 9 + ["2024-05-01"] * 6
    ethnicity = (
        ["White British"] * 6
        + [ETHNICITY]  # one person's free text: never a row label
        + ["Other"]  # a recorded "Other" joins the grouped ones
        + [None]  # blank stays "not recorded", though small
        + ["White British"] * 2
        + ["Polish"] * 4  # 4 in the previous year only: below 5 in both periods
    )
    ref = pd.DataFrame(
        {
            "area": "A",
            "service": "victim",
            "referral_date": pd.to_datetime(dates),
            "ethnicity": ethnicity,
        }
    )
    table = demand.demographics(ref, "A", q, "ethnicity", threshold=5).set_index("ethnicity")
    assert list(table.index) == ["White British", "not recorded", OTHER, "total"]
    assert table.loc[OTHER, "last 12 months"] == 2  # the free text and the recorded Other
    assert table.loc[OTHER, "previous 12 months"] == 4  # Polish
    assert table.loc["total", "last 12 months"] == 9
    assert table.loc["White British", "previous 12 months"] == 2  # kept: 6 last year
    # A group at the threshold in one period keeps its name.
    kept = demand.demographics(ref, "A", q, "ethnicity", threshold=4).set_index("ethnicity")
    assert "Polish" in kept.index and ETHNICITY not in kept.index


@pytest.mark.slow
def test_one_records_free_text_is_never_published(hostile):
    data, out = hostile
    assert ETHNICITY in (data / "referrals.csv").read_text(encoding="cp1252")
    texts = [p.read_text(encoding="utf-8") for p in out.glob("*.html")]
    texts += [p.read_text(encoding="utf-8") for p in out.glob("*.csv")]
    texts += [p.read_text(encoding="utf-8") for p in (out / "downloads").glob("*.csv")]
    for text in texts:
        assert "Zorblaxian" not in text and "Jane Doe" not in text
    from openpyxl import load_workbook

    (book,) = (out / "downloads").glob("*.xlsx")
    cells = [
        str(c.value) for ws in load_workbook(book).worksheets for r in ws.iter_rows() for c in r
    ]
    assert not any("Zorblaxian" in c for c in cells)
    assert any(c == "Other" for c in cells)  # the group it is counted in is published


# --- 5. no value in the committee data-quality table --------------------------------------------


def test_reason_categories_carry_no_value_whatever_its_quotes():
    from daanalysis.ingest.extract import reason_category
    from daanalysis.present.quality import reasons_by_table

    semi = "a; b O'x"
    reasons = [
        f"risk_level {QUOTED!r} not in the mapping table, counted as unknown",
        f"risk_level {QUOTED!r} not in the mapping table; referral_date: {semi!r} bad",
        f"area {semi!r}: no rows",
        "ethnicity \"Jane O'Neil",  # a quote left open: the rest is not shown
    ]
    for reason in reasons:
        shown = reason_category(reason)
        assert not re.search(r"Jane|JD|Neil|Smithers|O'x|b O", shown), (reason, shown)
        assert "[value]" in shown
    assert reason_category(reasons[0]) == (
        "risk_level [value] not in the mapping table, counted as unknown"
    )
    # An apostrophe in the tool's own words is not taken for a value.
    assert reason_category("after the extract's date: '2030-01-01'") == (
        "after the extract's date: [value]"
    )
    ledger = pd.DataFrame(
        {
            "table": "referrals",
            "file": "referrals.csv",
            "row": range(2, 2 + 3 * len(reasons)),
            "status": "used",
            "reason": reasons * 3,
        }
    )
    shown = reasons_by_table(ledger, 5).to_string()
    assert not re.search(r"Jane|JD|Neil|Smithers|O'x", shown), shown


@pytest.mark.slow
def test_quoted_label_stays_in_the_analysts_ledger(hostile):
    _, out = hostile
    ledger = (out / "analysts" / "ledger.csv").read_text(encoding="utf-8")
    assert "Neil-Smithers" in ledger  # the analyst sees the value to correct it
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "Neil-Smithers" not in text and "JD&quot;" not in text, page.name


@pytest.mark.slow
def test_area_name_in_sentences_reads_as_written(hostile):
    # The area's Markdown is escaped where it appears in a sentence, so the reader sees the name
    # exactly as the extract spells it, not an image's alt text or a link's words.
    import html

    _, out = hostile
    pages = [p for p in out.glob("*.html") if p.name.startswith("hyperlink")]
    assert len(pages) >= 3
    shown = html.escape(AREA, quote=False)
    for page in pages:
        text = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
        assert shown in text, page.name
        assert "[image: x]" not in text, page.name
