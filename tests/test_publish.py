"""The publication layer: house table formatter, main points, charts, spreadsheet, warnings."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import matplotlib
import openpyxl
import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.pack.downloads import build_downloads
from daanalysis.pack.site import PAGE_CSS, write_front_page, write_glossary
from daanalysis.periods import parse_quarter
from daanalysis.present import charts
from daanalysis.present.charts import svg_text
from daanalysis.present.disclosure import MARKER
from daanalysis.present.main_points import headline_table, main_points, main_points_html
from daanalysis.present.page import EXECUTED, Page
from daanalysis.present.sources import input_warnings, stale_warning
from daanalysis.present.tables import format_table, settings_table
from daanalysis.present.words import GLOSSARY, NOT_AVAILABLE, NOT_AVAILABLE_NOTE, rag_label

matplotlib.use("Agg")

CODE_NAME = re.compile(r"\b[a-z]+(_[a-z0-9]+)+\b")
FLOAT_COUNT = re.compile(r"^\d[\d,]*\.0+$")


# The keys the metrics give these figures (daanalysis.metrics.*.kpis): code reads them by key.
KEYS = {
    "Open cases per caseworker FTE": "caseload_per_fte",
    "Safe staffing": "safe_staffing_fte",
    "Staffing gap": "staffing_gap_fte",
    "Cost of the staffing gap": "staffing_gap_cost",
    "Open cases per FTE after the growth bid": "caseload_per_fte_after_bid",
    "Quarter the band is breached at safe staffing": "band_breach_quarter",
    "Referrals contacted within one working day": "response_within_window",
    "Referrals in quarter": "referrals_quarter",
    "Referrals, change on same quarter last year": "referrals_change_year",
    "Demand verdict": "demand_verdict",
    "Demand verdict: reading": "demand_reading",
    "Reporting effect: confidence relative to need": "reporting_effect",
    "Placebo dates with a significant step": "placebo_significant",
    "Actions red": "actions_red",
    "Actions amber": "actions_amber",
    "Actions green": "actions_green",
    "Actions worse since last review": "actions_worse",
    "Latest review": "latest_review",
}


def kpis_frame(rows: list[tuple], quarter: str = "2026-27Q2") -> pd.DataFrame:
    """A hand-made kpis.csv: rows of (area, notebook, kpi, value, unit, rag), or of
    (area, notebook, kpi, value, unit, rag, low, high) for a figure with an interval."""
    rows = [(*r, "", "")[:8] for r in rows]
    columns = ["area", "notebook", "kpi", "value", "unit", "rag", "low", "high"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.insert(1, "quarter", quarter)
    keys = [KEYS.get(k, "need_trend" if "underlying" in k else k) for k in frame["kpi"]]
    frame.insert(3, "key", keys)
    frame["period"] = ""
    frame["source"] = ""
    return frame


STAFFING = [
    (
        "Sampleborough",
        "staffing_gap",
        "Open cases per caseworker FTE",
        41.0,
        "cases per FTE",
        "red",
    ),
    ("Sampleborough", "staffing_gap", "Safe staffing", 16.1, "FTE", ""),
    ("Sampleborough", "staffing_gap", "Staffing gap", 4.3, "FTE", ""),
    ("Sampleborough", "staffing_gap", "Cost of the staffing gap", 162500, "GBP a year", ""),
    (
        "Sampleborough",
        "staffing_gap",
        "Open cases per FTE after the growth bid",
        35.1,
        "cases per FTE",
        "",
    ),
    (
        "Sampleborough",
        "staffing_gap",
        "Referrals contacted within one working day",
        89.5,
        "%",
        "red",
    ),
]
DEMAND = [
    ("Sampleborough", "demand_vs_reporting", "Referrals in quarter", 449, "referrals", ""),
    (
        "Sampleborough",
        "demand_vs_reporting",
        "Referrals, change on same quarter last year",
        7.4,
        "%",
        "",
    ),
]
VERDICT = [
    ("Sampleborough", "demand_vs_reporting", "Demand verdict", "reporting", "verdict", ""),
    (
        "Sampleborough",
        "demand_vs_reporting",
        "Demand verdict: reading",
        "Reporting: confidence-sensitive referrals rose relative to police-recorded crimes.",
        "text",
        "",
    ),
    (
        "Sampleborough",
        "demand_vs_reporting",
        "Reporting effect: confidence relative to need",
        1.26,
        "ratio",
        "",
        1.10,
        1.45,
    ),
]
PLAN = [
    ("All areas", "action_plan", "Actions red", 1, "actions", "red"),
    ("All areas", "action_plan", "Actions amber", 10, "actions", "amber"),
    ("All areas", "action_plan", "Actions green", 19, "actions", "green"),
    ("All areas", "action_plan", "Actions worse since last review", 1, "actions", ""),
    ("All areas", "action_plan", "Latest review", "31/03/2023", "date", ""),
]


# --- tables --------------------------------------------------------------------------------------


def test_house_formatter_formats_every_column_once():
    # charts.table used to lose every format but the last (two Styler.format calls).
    frame = pd.DataFrame(
        {
            "scenario": ["Today", "After the growth bid"],
            "FTE": [11.8, 13.8],
            "cases per FTE": [41.016949, 35.07],
            "cost of the shortfall (GBP a year)": [162500.0, 87500.0],
            "same_quarter_last_year": [1234.0, 5.0],
            "change_pct": [7.4321, -2.0],
        }
    )
    table = format_table(frame, "Staffing", source="Case records")
    text = table.text()
    assert list(text.columns) == [
        "Scenario",
        "FTE",
        "Cases per FTE",
        "Cost of the shortfall (£ a year)",
        "Same quarter last year",
        "Change on last year (%)",
    ]
    assert text.iloc[0].tolist() == ["Today", "11.8", "41.0", "£162,500", "1,234", "7.4"]
    html = table.html()
    assert "<caption>Staffing</caption>" in html and "Source: Case records" in html
    assert "41.016949" not in html and "11.800000" not in html


def test_a_share_of_costs_is_a_percentage_not_money():
    # The sanctuary table's "above £200 (%)" once showed 0% as "£0".
    frame = pd.DataFrame(
        {"median cost per property (GBP)": [141.0], "above £200 (%)": [0.0], "cost_pct": [12.5]}
    )
    text = format_table(frame, "Sanctuary", source="Scheme records").text()
    assert text.iloc[0].tolist() == ["£141", "0.0", "12.5"]


def test_suppressed_cells_keep_the_marker_and_get_a_note():
    frame = pd.DataFrame({"service": ["victim", "children_services"], "count": [412.0, MARKER]})
    table = charts.table(frame)  # the old entry point goes through the house formatter
    text = table.text()
    assert text["This quarter"].tolist() == ["412", MARKER]
    assert text["Service"].tolist() == ["Victim", "Children's services"]
    assert any(note.startswith(MARKER) for note in table.all_notes())
    assert not CODE_NAME.search(" ".join(text.columns) + " " + " ".join(text["Service"]))


def test_missing_values_are_marked_not_blank():
    table = format_table(pd.DataFrame({"referrals": [3.0, None]}))
    assert table.text()["Referrals"].tolist() == ["3", NOT_AVAILABLE]
    assert NOT_AVAILABLE_NOTE in table.all_notes()


def test_rag_is_shown_by_symbol_and_word():
    assert rag_label("red") == "✕ Red"
    assert rag_label("green") == "✓ Green"
    assert rag_label("amber") == "! Amber"
    assert rag_label("") == ""


# --- main points ---------------------------------------------------------------------------------


def test_main_points_without_the_verdict_rows_say_so():
    kpis = kpis_frame(DEMAND + STAFFING + PLAN)
    points = main_points(kpis, band=(27, 33), response_target=90)
    assert list(points) == ["Sampleborough"]
    bullets = points["Sampleborough"]
    assert 1 <= len(bullets) <= 6
    assert "demand verdict" in bullets[0] and "not available" in bullets[0]
    assert "449" in bullets[0]
    text = " ".join(bullets)
    assert (
        "Safe staffing is 16.1 caseworker FTE: 4.3 FTE more than in post, costing £162,500" in text
    )
    assert "41.0 open cases, above the safe band of 27 to 33 (✕ Red)" in text
    assert "89.5% of referrals were contacted within one working day, below the 90% target" in text
    assert "Action plan: 1 red, 10 amber, 19 green actions" in text


def test_main_points_lead_with_the_verdict_and_what_it_rests_on():
    kpis = kpis_frame(VERDICT + DEMAND + STAFFING + PLAN)
    first = main_points(kpis)["Sampleborough"][0]
    assert first.startswith("The rise in referrals is mainly more people coming forward")
    assert "rate ratio of 1.26 (95% confidence interval 1.10 to 1.45)" in first
    assert "Reporting: confidence" not in first  # the verdict word is not said twice


def test_main_points_carry_the_change_since_last_quarter():
    before = kpis_frame(
        [
            (
                "Sampleborough",
                "demand_vs_reporting",
                "Demand verdict",
                "inconclusive",
                "verdict",
                "",
            ),
            (
                "Sampleborough",
                "staffing_gap",
                "Open cases per caseworker FTE",
                39.2,
                "cases per FTE",
                "red",
            ),
            ("Sampleborough", "staffing_gap", "Staffing gap", 4.3, "FTE", ""),
        ],
        quarter="2026-27Q1",
    ).astype(str)
    kpis = kpis_frame(VERDICT + STAFFING + PLAN)
    text = " ".join(main_points(kpis, before)["Sampleborough"])
    assert "(last quarter: inconclusive)" in text
    assert "(up 1.8 from 39.2 last quarter)" in text
    assert "(unchanged since last quarter)" in text


def test_main_points_say_when_growth_breaches_the_band():
    breach = [
        (
            "Sampleborough",
            "staffing_gap",
            "Quarter the band is breached at safe staffing",
            "2027/28 Q4",
            "at 7% growth a year",
            "",
        ),
    ]
    kpis = kpis_frame(VERDICT + DEMAND + STAFFING + breach + PLAN)
    # The growth rate is config demand_growth_annual, passed as a number (not read from text).
    bullets = main_points(kpis, band=(27, 33), response_target=90, growth=0.07)["Sampleborough"]
    staffing = [b for b in bullets if b.startswith("Safe staffing is")][0]
    assert (
        "Even at safe staffing, demand growing at 7% a year would take caseloads above the band "
        "in 2027/28 Q4." in staffing
    )
    caseload = [b for b in bullets if b.startswith("Each caseworker FTE")][0]
    assert caseload.endswith("The growth bid would bring this to 35.1, still above the band.")
    assert len(bullets) <= 6
    none = [(*breach[0][:3], "none", *breach[0][4:])]
    text = " ".join(main_points(kpis_frame(STAFFING + none), growth=0.07)["Sampleborough"])
    assert "would not take caseloads above the band within the four years projected" in text


def test_perpetrator_status_is_hidden_with_a_hidden_share():
    from daanalysis.metrics import partnership
    from daanalysis.present import notebook, partnership_tables

    summary = pd.DataFrame(
        {
            "quarter": pd.PeriodIndex(["2025Q1", "2025Q2", "2025Q3"], freq="Q-MAR"),
            "perpetrator_referrals": [12.0, 12.0, 12.0],
            "police_referrals": [3.0, 0.0, 6.0],  # 3 of 12 would be green at a 25% target
            "police_share_pct": [25.0, 0.0, 50.0],
            "target_pct": 25.0,
            "rag": ["green", "red", "green"],
            "victim_referrals": [100.0] * 3,
            "per_100_victim": [12.0] * 3,
            "starts": [6.0] * 3,
            "completions": [6.0] * 3,
        }
    )
    out = partnership_tables.perpetrator_table(summary, threshold=5)
    # A status beside a hidden share would say whether the hidden count was above the target.
    assert out["police_share_pct"].tolist()[0] == MARKER and out["rag"].tolist()[0] == MARKER
    assert out["rag"].tolist()[1:] == ["red", "green"]
    shown = format_table(out).text()
    assert shown["Status"].tolist() == [MARKER, "✕ Red", "✓ Green"]
    ctx = SimpleNamespace(area="A", quarter=parse_quarter("2026/27 Q2"), config=Config())
    records = partnership.kpis(None, summary.iloc[:1], None, None, Config())
    police = records[[r.key for r in records].index("perpetrator_police_share")]
    assert police.hidden  # 3 of 12: the share gives away a small count
    # One quarter's share (its page also gives four quarters'): it says which quarter.
    assert re.fullmatch(r"\d{4}/\d{2} Q\d only", police.period), police.period
    written = notebook.write_kpis(records, "", ctx).set_index("key")
    assert written.at["perpetrator_police_share", "value"] == MARKER
    assert written.at["perpetrator_police_share", "rag"] == ""


def test_source_lines_read_as_sentences():
    table = format_table(
        pd.DataFrame({"measure": ["Rate"], "value": [1.0]}),
        "Rates",
        "Sources: ONS mid-year estimates.; SafeLives: GBP 50 - GBP 200 per property; "
        "below response_target_share.",
    )
    foot = table.html().split("</table>", 1)[1]
    assert "Source: ONS mid-year estimates; SafeLives: £50 - £200 per property" in foot
    assert "Sources:" not in foot and ".;" not in foot and "response KPI target" in foot


def test_program_names_inside_text_cells_become_words():
    frame = pd.DataFrame(
        {
            "reason": [
                "closed_date is before referral_date",
                "referral_source [value] not mapped (add it to mappings/referral_source.csv)",
            ],
            "rows": [3, 4],
        }
    )
    shown = format_table(frame).text()["Reason"].tolist()
    assert shown[0] == "closed date is before referral date"
    assert shown[1].startswith("referral source [value]")
    assert shown[1].endswith("mappings/referral_source.csv)")  # a file name an officer looks for


def test_confidence_bounds_have_the_estimates_decimals():
    frame = pd.DataFrame(
        {"rate ratio": [1.534], "95% CI lower": [1.261], "95% CI upper": [1.853], "share (%)": [9]}
    )
    assert format_table(frame).text().iloc[0].tolist() == ["1.53", "1.26", "1.85", "9.0"]


def test_quarters_in_tables_stay_on_one_line():
    table = format_table(pd.DataFrame({"quarter": ["2025/26 Q3"], "referrals": [12]}))
    assert 'class="txt nw" data-label="Quarter">2025/26 Q3</td>' in table.html()


def test_main_points_are_at_most_six_and_add_warnings_last():
    kpis = kpis_frame(VERDICT + DEMAND + STAFFING + PLAN)
    warnings = {"Sampleborough": ["Warning: police data is old.", "Warning: population is old."]}
    bullets = main_points(kpis, warnings_by_area=warnings)["Sampleborough"]
    assert len(bullets) == 6
    assert bullets[-1] == "Warning: police data is old."


def test_headline_table_formats_values_with_units():
    kpis = kpis_frame(VERDICT + DEMAND + STAFFING + PLAN)
    text = headline_table(kpis).text()
    figures = dict(zip(text["Measure"], text["Figure"], strict=True))
    assert figures["Referrals in quarter"] == "449 referrals"
    assert figures["Cost of the staffing gap"] == "£162,500 a year"
    assert figures["Referrals contacted within one working day"] == "89.5%"
    assert figures["Actions red"] == "1 action"
    # The verdict in words, not a bare code word a councillor has to look up.
    assert figures["Demand verdict"] == "Reporting: more people coming forward, not more need"
    assert "Demand verdict: reading" not in figures  # sentences belong in the main points
    assert set(text["Status"]) <= {"", "✕ Red", "! Amber", "✓ Green"}
    # A change says which way it went.
    assert figures["Referrals, change on same quarter last year"] == "up 7.4%"


def test_headline_figures_read_as_a_reader_says_them():
    rows = [
        (
            "Sampleborough",
            "demand_vs_reporting",
            "Placebo dates with a significant step",
            1,
            "of 14 dates",
            "",
        ),
        (
            "Sampleborough",
            "demand_vs_reporting",
            "Need: police-recorded DA crimes, underlying change a year",
            -4.7,
            "%",
            "",
            -5.4,
            -4.0,
        ),
        (
            "Sampleborough",
            "staffing_gap",
            "Quarter the band is breached at safe staffing",
            "none",
            "at 7% growth a year",
            "",
        ),
        ("Sampleborough", "demand_vs_reporting", "Demand verdict", "both", "verdict", ""),
    ]
    figures = dict(
        zip(
            *headline_table(kpis_frame(rows)).text()[["Measure", "Figure"]].T.values,
            strict=True,
        )
    )
    assert figures["Placebo dates with a significant step"] == "1 of 14 dates"
    assert figures[rows[1][2]] == "down 4.7% (95% CI -5.4 to -4.0)"
    assert figures[rows[2][2]].startswith("Not within the four years projected")
    assert figures["Demand verdict"] == "Both: more reporting and more need"


def test_a_headline_figure_the_data_cannot_give_says_not_available():
    """Referrals not collected in the quarter: the figure cell says so, not a blank."""
    rows = [
        ("Northminster", "demand_vs_reporting", "Referrals in quarter", "", "referrals", ""),
        (
            "Northminster",
            "demand_vs_reporting",
            "Referrals, change on same quarter last year",
            "",
            "%",
            "",
        ),
    ]
    text = headline_table(kpis_frame(rows)).text()
    assert list(text["Figure"]) == ["Not available", "Not available"]


def test_front_page_groups_the_headline_figures_by_page(tmp_path):
    folder = tmp_path / "2026-27Q2"
    folder.mkdir()
    pages = [
        ("sampleborough_demand_vs_reporting.html", "Demand versus reporting: Sampleborough"),
        ("sampleborough_staffing_gap.html", "Staffing gap: Sampleborough"),
        ("action_plan.html", "Action plan progress"),
    ]
    write_front_page(
        folder, pages, "Pack", "2026/27 Q2", kpis_frame(VERDICT + DEMAND + STAFFING + PLAN)
    )
    page = (folder / "index.html").read_text()
    headline = page.split('id="headline-figures"', 1)[1]
    assert re.findall(r"<h3[^>]*>(.*?)</h3>", headline)[:3] == [t for _, t in pages]
    # Each group is its own captioned table, with a link to the page behind it.
    assert headline.count("<caption>") == 3
    # Each group prints whole (the print styles keep a .da-headline section on one page).
    assert headline.count('<section class="da-headline"') == 3
    assert re.search(r"[,\s]\.da-headline\{break-inside:avoid", PAGE_CSS)
    assert 'href="sampleborough_staffing_gap.html">More on the Staffing gap' in headline
    staffing = headline.split("Staffing gap: Sampleborough</h3>", 1)[1].split("<h3", 1)[0]
    assert "Safe staffing" in staffing and "Referrals in quarter" not in staffing


def test_front_page_puts_main_points_before_any_table(tmp_path):
    folder = tmp_path / "2026-27Q2"
    folder.mkdir()
    kpis = kpis_frame(VERDICT + DEMAND + STAFFING + PLAN)
    written = write_front_page(
        folder, [("a.html", "Staffing gap")], "Pack", "2026/27 Q2", kpis, Config()
    )
    page = (folder / "index.html").read_text()
    assert page.index("Main points") < page.index("<table")
    assert 'href="glossary.html"' in page and (folder / "glossary.html").exists()
    assert written["spreadsheet"] is not None and written["spreadsheet"].exists()
    assert "No pack for last quarter" in page


# --- warnings ------------------------------------------------------------------------------------


def test_stale_inputs_are_flagged():
    q = parse_quarter("2026/27 Q2")  # ends September 2026
    assert stale_warning("Police data", pd.Period("2026-09", "M"), q) is None
    old = stale_warning("Action plan review", pd.Timestamp("2023-03-31"), q)
    assert old.startswith("Action plan review is out of date: the latest is 31/03/2023")
    assert "3 years and 6 months" in old
    assert stale_warning("Population data", 2026.0, q, months=24) is None
    assert "mid-2022" in stale_warning("Population data", 2022, q, months=24)


def test_input_warnings_on_the_sample(sample_extract):
    q = parse_quarter("2026/27 Q2")
    found = input_warnings(sample_extract, "Sampleborough", q)
    assert "action_plan" in found  # the sample plan was last reviewed in 2023
    assert "police" not in found and "staffing" not in found


# --- charts --------------------------------------------------------------------------------------


def test_charts_state_the_finding_and_carry_alt_text_and_data(sample_panel):
    charts.setup()
    from daanalysis.metrics import staffing

    config = Config()
    panel = sample_panel[sample_panel["area"] == sample_panel["area"].iloc[0]]
    caseload = staffing.caseload_per_fte(panel, config)
    fig = charts.caseload_chart(caseload, config, area="Sampleborough")
    assert re.search(r"is (above|within|below) the safe band", fig.da_title)
    assert fig.da_alt.startswith("Chart: Line chart") and re.search(
        r"ranges from [\d.]+ to", fig.da_alt
    )
    assert {"month", "open cases per FTE"} <= set(fig.da_data.columns)
    svg = svg_text(fig)
    assert svg.lstrip().startswith("<?xml") and "<text" in svg  # text kept as text
    assert "Sampleborough" in svg and "Source:" in svg


def test_response_chart_marks_suppressed_quarters():
    charts.setup()
    kpi = pd.DataFrame(
        {
            "quarter": pd.period_range("2025Q1", periods=3, freq="Q-MAR"),
            "contacted": [100, 3, 120],
            "within_kpi_pct": [91.0, 66.7, 85.0],
            "target_pct": 90.0,
        }
    )
    fig = charts.response_chart(kpi, threshold=5)
    assert MARKER in [t.get_text() for t in fig.axes[0].texts]
    assert fig.da_data["contacted within one working day (%)"].tolist()[1] == MARKER
    assert "below the 90% target" in fig.da_title


# --- downloads -----------------------------------------------------------------------------------


def _recording_page(ctx, folder, stem: str, title: str) -> Page:
    """A page as the quarterly run makes one: its kpis file and its record folder both given."""
    executed = folder / EXECUTED
    return Page(
        ctx, str(executed / f"{stem}.kpis.csv"), title, record_dir=str(executed / f"{stem}.publish")
    )


def test_a_page_without_a_record_folder_records_nothing(tmp_path, monkeypatch):
    """Opened alone (JupyterLab: both paths blank), or given only its kpis file, a page writes
    no file: the folder for the downloads is a parameter of its own, never inferred."""
    folder = tmp_path / "pack"
    (folder / EXECUTED).mkdir(parents=True)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    ctx = SimpleNamespace(area="A", label="2026/27 Q2", config=Config())
    for page in (Page(ctx, "", "X"), Page(ctx, str(folder / EXECUTED / "a_x.kpis.csv"), "X")):
        page.table(pd.DataFrame({"referrals": [12, 30]}), "Referrals")
        assert page.folder is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_spreadsheet_holds_every_recorded_table(tmp_path, monkeypatch):
    folder = tmp_path / "pack"
    (folder / EXECUTED).mkdir(parents=True)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    ctx = SimpleNamespace(area="Sampleborough", label="2026/27 Q2 (Jul-Sep 2026)", config=Config())
    page = _recording_page(ctx, folder, "x_staffing_gap", "Staffing")
    page.table(
        pd.DataFrame({"quarter": ["2026/27 Q1", "2026/27 Q2"], "referrals": [412, MARKER]}),
        "Referrals by quarter",
        source="Case records",
    )
    page.table(pd.DataFrame({"rag": ["red", ""], "action": ["1a", "1b"]}), "Actions")
    kpis = kpis_frame(STAFFING)
    path = build_downloads(folder, "Domestic abuse pack", kpis)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    titles = [book[name]["A1"].value for name in book.sheetnames[3:]]
    assert len(titles) == 3  # the headline figures and the two tables
    assert titles[0].startswith("Table 1: Headline figures")
    assert any("Referrals by quarter" in t for t in titles)
    cells = [c.value for row in book[book.sheetnames[4]].iter_rows() for c in row]
    assert MARKER in cells and 412 in cells  # numbers stay numbers, [c] stays
    notes = " ".join(str(c.value) for row in book["Notes"].iter_rows() for c in row)
    assert "[c] = confidential" in notes
    assert not list((folder / EXECUTED).glob("*.publish"))  # recorded files tidied


@pytest.mark.slow
def test_pack_spreadsheet_holds_every_published_table_and_chart(sample_report):
    books = list((sample_report / "downloads").glob("*.xlsx"))
    assert len(books) == 1
    book = openpyxl.load_workbook(books[0])
    assert book.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    titles = " | ".join(str(book[name]["A1"].value) for name in book.sheetnames[3:])
    for page in ["sampleborough_staffing_gap.html", "action_plan.html"]:
        text = (sample_report / page).read_text()
        for caption in re.findall(r"<caption>(.*?)</caption>", text):
            assert html.unescape(caption) in titles, caption
        for link in re.findall(r'href="(downloads/[^"]+\.csv)"', text):
            assert (sample_report / link).exists(), link
    charts = list((sample_report / "downloads").glob("*_chart*.csv"))
    assert len(charts) >= 4  # caseload, projection, response, action plan
    assert titles.count("Chart data") == len(charts)
    index = (sample_report / "index.html").read_text()
    assert f'href="downloads/{books[0].name}"' in index


def test_front_page_compares_with_last_quarters_pack(tmp_path):
    before = kpis_frame(STAFFING, quarter="2026-27Q1")
    before.loc[before["kpi"] == "Open cases per caseworker FTE", "value"] = 39.2
    (tmp_path / "2026-27Q1").mkdir()
    before.to_csv(tmp_path / "2026-27Q1" / "kpis.csv", index=False)
    folder = tmp_path / "2026-27Q2"
    folder.mkdir()
    write_front_page(folder, [], "Pack", "2026/27 Q2", kpis_frame(STAFFING), Config())
    page = html.unescape((folder / "index.html").read_text())
    assert "(up 1.8 from 39.2 last quarter)" in page
    assert "Changes are against last quarter's pack." in page
    assert "<th" in page and "Last quarter</th>" in page


def test_settings_table_reads_as_words(sample_extract):
    table = settings_table(sample_extract.config)
    values = dict(zip(table["Setting"], table["Value"], strict=True))
    assert values["Prevalence of domestic abuse (CSEW)"] == "4.8% of adults 16+ a year"
    assert values["Cost per caseworker FTE"] == "£37,500 a year"
    assert values["Response KPI (working days)"] == "1 working day"
    assert not any(CODE_NAME.fullmatch(str(s)) for s in table["Setting"])
    # Settings that steer loading, not a figure on the page, are left off a reader's page.
    assert "Largest share of rows that may be excluded" not in values
    assert not any(s.startswith("Max ") for s in values)
    sources = " ".join(table["Source"])
    assert "GBP" not in sources and not CODE_NAME.search(sources), sources


def test_each_page_lists_only_the_settings_its_figures_rest_on(sample_extract):
    table = settings_table(sample_extract.config, page="partnership_activity")
    assert list(table["Setting"]) == [
        "Target share of perpetrator referrals from the police",
        "Home security cost above which a property counts as costly",
        "Suppression threshold",
    ]
    assert "£200 per property" in list(table["Value"])
    staffing = settings_table(sample_extract.config, page="staffing_gap")
    assert "Safe band, upper limit" in set(staffing["Setting"])
    assert "Prevalence of domestic abuse (CSEW)" not in set(staffing["Setting"])


def test_glossary_page_and_doc_cover_the_terms(tmp_path):
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "glossary.md").read_text()
    for term, text in GLOSSARY.items():
        assert f"- **{term}**: {text}" in doc, term
    for needed in ["Rate ratio", "Confidence interval", "Caseload", "FTE", "IDVA", "MARAC"]:
        assert any(t.startswith(needed) for t in GLOSSARY), needed
    for needed in ["DASH risk levels", "Little's law", "Suppression"]:
        assert needed in GLOSSARY
    page = write_glossary(tmp_path, "Pack").read_text()
    assert 'href="index.html"' in page and "Content-Security-Policy" in page


def test_streams_chart_suppresses_small_counts(sample_panel):
    from daanalysis.metrics import demand

    charts.setup()
    panel = sample_panel[sample_panel["area"] == sample_panel["area"].iloc[0]]
    streams = {k: s for k, s in demand.STREAMS.items() if s.kind != "context"}
    campaigns = pd.DataFrame(columns=["name", "start_date", "end_date"])
    fig = charts.streams_chart(panel, streams, campaigns, area="Sampleborough")
    assert MARKER not in fig.da_data["index"].tolist()
    assert re.search(r"rose to index \d+ and need-sensitive ones (rose|fell) to \d+", fig.da_title)
    smallest = panel["self_referrals"].quantile(0.5)
    fig = charts.streams_chart(panel, streams, campaigns, threshold=smallest)
    assert MARKER in fig.da_data["index"].tolist()
    shown = " ".join(" ".join(t.get_text() for t in fig.texts).split())  # wrapped lines joined
    assert "small numbers suppressed [c]" in shown


def test_campaign_lines_are_named_not_coded(sample_panel):
    from daanalysis.metrics import demand

    charts.setup()
    panel = sample_panel[sample_panel["area"] == sample_panel["area"].iloc[0]]
    streams = {k: s for k, s in demand.STREAMS.items() if s.kind != "context"}
    campaigns = pd.DataFrame(
        {
            "name": ["Know the signs", ""],
            "start_date": pd.to_datetime(["2022-11-01", "2024-06-01"]),
            "end_date": pd.to_datetime(["2022-12-10", "2024-07-15"]),
        }
    )
    fig = charts.streams_chart(panel, streams, campaigns, area="Sampleborough")
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "Know the signs\nNov 2022" in labels and "Campaign 2\nJun 2024" in labels
    assert not any(re.fullmatch(r"C\d", t) for t in labels)  # a code the reader cannot look up
    assert "(Know the signs, Nov 2022; Campaign 2, Jun 2024)" in fig.da_alt


def test_main_points_link_jargon_to_the_glossary():
    kpis = kpis_frame(VERDICT + STAFFING)
    page = main_points_html(main_points(kpis, band=(27, 33)))
    assert 'href="glossary.html#rate-ratio">rate ratio</a>' in page
    assert 'href="glossary.html#fte-full-time-equivalent">FTE</a>' in page
    assert page.count('href="glossary.html#fte-full-time-equivalent"') == 1  # first use only


def test_years_are_not_counts_and_areas_get_their_own_points():
    table = format_table(pd.DataFrame({"year": [2025, 2026], "referrals": [1500, 1620]}))
    assert table.text().iloc[1].tolist() == ["2026", "1,620"]
    other = [("Otherton", *row[1:]) for row in STAFFING]
    points = main_points(kpis_frame(STAFFING + other + PLAN))
    assert list(points) == ["Sampleborough", "Otherton"]
    assert all(any(p.startswith("Action plan:") for p in b) for b in points.values())
    table = headline_table(kpis_frame(STAFFING + other)).text()
    assert set(table["Area"]) == {"Sampleborough", "Otherton"}


def test_spreadsheet_numbers_have_house_formats(tmp_path, monkeypatch):
    folder = tmp_path / "pack"
    (folder / EXECUTED).mkdir(parents=True)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    ctx = SimpleNamespace(area="A", label="2026/27 Q2", config=Config())
    page = _recording_page(ctx, folder, "a_x", "X")
    frame = pd.DataFrame({"referrals": [1234, 5678], "cost (GBP)": [162500.0, 1.0]})
    page.table(frame.assign(change_pct=[7.44, 1.0]), "Money and counts")
    book = openpyxl.load_workbook(build_downloads(folder, "Pack"))
    sheet = book[book.sheetnames[-1]]
    row = sheet[sheet.max_row]  # the last data row
    assert [c.number_format for c in row] == ["#,##0", "£#,##0", "0.0"]


def test_tables_reach_the_spreadsheet_through_the_page_they_are_published_on(tmp_path, monkeypatch):
    """No global: a table shown with charts.table is only shown; page.table publishes it (and
    records it in the page's own files for the spreadsheet)."""
    folder = tmp_path / "pack"
    (folder / EXECUTED).mkdir(parents=True)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    ctx = SimpleNamespace(area="A", label="2026/27 Q2", config=Config())
    page = _recording_page(ctx, folder, "a_x", "X")
    charts.table(pd.DataFrame({"x": [1]}), title="Shown only")
    page.table(pd.DataFrame({"table": ["Referrals"], "rows read": [10]}), "Rows read")
    book = openpyxl.load_workbook(build_downloads(folder, "Pack"))
    assert [book[n]["A1"].value for n in book.sheetnames[3:]] == ["Table 1: Rows read"]


def test_changes_read_in_the_right_units():
    before = kpis_frame(
        [
            (
                "Sampleborough",
                "staffing_gap",
                "Referrals contacted within one working day",
                89.0,
                "%",
                "",
            ),
            ("All areas", "action_plan", "Actions red", 1, "actions", "red"),
        ],
        quarter="2026-27Q1",
    ).astype(str)
    text = " ".join(main_points(kpis_frame(STAFFING + PLAN), before)["Sampleborough"])
    assert "(up 0.5 points from 89.0% last quarter)" in text
    assert "(red actions unchanged since last quarter)" in text


def test_front_page_finds_the_pages_of_an_area_whose_name_has_spaces_or_stops():
    """One slug rule (daanalysis.names): the front page's link to an area's page is the stem the
    runner gave that page, for "North East" and "St. Helens" as for "Sampleborough"."""
    from daanalysis.names import page_stem
    from daanalysis.present.main_points import _page_for

    for area in ("North East", "St. Helens", "Sampleborough"):
        pages = [
            (f"{page_stem(other, 'staffing_gap')}.html", f"Staffing gap: {other}")
            for other in ("North East", "St. Helens", "Sampleborough")
        ]
        assert _page_for("staffing_gap", area, pages) == (
            f"{page_stem(area, 'staffing_gap')}.html",
            f"Staffing gap: {area}",
        )
    assert page_stem("St. Helens", "demand_vs_reporting") == "st-helens_demand_vs_reporting"


# --- typed headline figures -----------------------------------------------------------------------


def test_intervals_are_read_from_their_columns_never_from_text():
    with_columns = kpis_frame(VERDICT + DEMAND)
    text = " ".join(main_points(with_columns)["Sampleborough"])
    assert "95% confidence interval 1.10 to 1.45" in text
    figures = headline_table(with_columns).text().set_index("Measure")["Figure"]
    assert figures["Reporting effect: confidence relative to need"] == "1.26 (95% CI 1.10 to 1.45)"
    # The old way, an interval written into the unit: no longer parsed back out of the text.
    in_text = with_columns.assign(low="", high="")
    in_text.loc[in_text["key"] == "reporting_effect", "unit"] = "ratio (95% CI 1.10 to 1.45)"
    assert "confidence interval" not in " ".join(main_points(in_text)["Sampleborough"])


def test_figures_are_found_by_key_not_by_label():
    kpis = kpis_frame(STAFFING + PLAN)
    kpis["kpi"] = [f"Renamed {i}" for i in range(len(kpis))]  # a label reworded
    text = " ".join(main_points(kpis, band=(27, 33), response_target=90)["Sampleborough"])
    assert "Safe staffing is 16.1 caseworker FTE" in text
    assert "Action plan: 1 red, 10 amber, 19 green actions" in text


@pytest.mark.slow
def test_pack_kpis_have_typed_columns_read_back_by_the_front_page(sample_report):
    from daanalysis.metrics.kpi import KPI_COLUMNS

    kpis = pd.read_csv(sample_report / "kpis.csv", keep_default_na=False)
    assert list(kpis.columns) == KPI_COLUMNS
    assert kpis["key"].is_unique or kpis.groupby("area")["key"].apply(lambda k: k.is_unique).all()
    effect = kpis.set_index("key").loc["reporting_effect"]
    assert effect["unit"] == "ratio" and "CI" not in " ".join(kpis["unit"].astype(str))
    low, high = float(effect["low"]), float(effect["high"])
    assert low < float(effect["value"]) < high
    index = (sample_report / "index.html").read_text(encoding="utf-8")
    assert f"{float(effect['value']):.2f} (95% CI {low:.2f} to {high:.2f})" in index
    points = re.sub(r"<[^>]+>", "", index.split('id="main-points"', 1)[1])  # glossary links off
    assert f"95% confidence interval {low:.2f} to {high:.2f}" in points


def test_the_two_answers_are_marked_as_their_first_sentence():
    """The demand verdict and the staffing gap open with their answer in bold (class
    da-answer): the first sentence only, never cut inside a number or a glossary link."""
    out = main_points_html(
        {
            "Northtown": [
                "Both more reporting and more need are behind the change in referrals. "
                "More people are coming forward (rate ratio 1.54).",
                "Safe staffing is 16.4 caseworker FTE: 4.3 FTE more than in post, costing "
                "£162,500 a year. Even at safe staffing, growth breaches the band in 2027/28 Q4.",
                "88.0% of referrals were contacted within one working day.",
            ]
        }
    )
    answers = re.findall(r'<strong class="da-answer">(.*?)</strong>', out)
    assert len(answers) == 2, out
    assert answers[0] == "Both more reporting and more need are behind the change in referrals."
    # The FTE link sits inside the sentence: the answer keeps it whole.
    text = re.sub(r"<[^>]+>", "", answers[1])
    assert text == (
        "Safe staffing is 16.4 caseworker FTE: 4.3 FTE more than in post, costing £162,500 a year."
    )
    assert answers[1].count("<a ") == answers[1].count("</a>") == 1
    # Other points are not answers.
    assert "88.0%" not in "".join(answers)


def test_headline_figures_say_their_period_when_it_is_not_the_quarter():
    kpis = pd.DataFrame(
        {
            "area": ["Northtown"] * 3,
            "quarter": ["2026-27Q2"] * 3,
            "notebook": ["partnership_activity"] * 3,
            "key": ["perpetrator_police_share", "schools_engaged", "perpetrator_referrals"],
            "kpi": [
                "Perpetrator referrals from the police",
                "Schools engaged in prevention (summer term)",
                "Perpetrator referrals",
            ],
            "value": ["0.0", "29.0", "12"],
            "low": [""] * 3,
            "high": [""] * 3,
            "unit": ["%", "% of schools", "referrals"],
            "period": ["2026/27 Q2 only", "summer term", ""],
            "rag": ["red", "", ""],
            "source": [""] * 3,
        }
    )
    measures = list(headline_table(kpis).frame["Measure"])
    assert measures == [
        "Perpetrator referrals from the police (2026/27 Q2 only)",
        "Schools engaged in prevention (summer term)",  # already in its label: said once
        "Perpetrator referrals",
    ]
