"""Open the produced HTML in headless Chromium: charts load and no code is shown."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from daanalysis import cli
from daanalysis.pack.export import HIDDEN_TAGS
from daanalysis.pack.notebooks import NOTEBOOK_DIR, discover
from tests.conftest import SAMPLE, notebook_with_outputs

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
]
PROBE = """
<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  document.body.dataset.images = imgs.length;
  document.body.dataset.loaded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.code = document.querySelectorAll(
    ".jp-CodeMirrorEditor, .jp-Editor, .highlight, .input_area").length;
  // Every resource the page fetched that is not inlined (data:) or the page itself.
  document.body.dataset.external = performance.getEntriesByType("resource").filter(
    e => !e.name.startsWith("data:") && e.name !== location.href).length;
});
</script>
"""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium); CI runs this test")
    return CHROMIUM


def _render(browser, page, tmp_path):
    probe = tmp_path / page.name
    # The pages forbid every script (Content-Security-Policy); the probe is the test's own script,
    # so it runs on a copy without the policy.
    text = re.sub(r'<meta[^>]*http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text())
    probe.write_text(text.replace("</body>", PROBE + "</body>"))
    dom = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    return {
        k: int(v) for k, v in re.findall(r'data-(images|loaded|code|external)="(\d+)"', body)
    }, dom


# The sample has one area: a page comparing areas (min_areas 2) is checked on a two-area pack
# in tests/test_report.py.
SPECS = [s for s in discover(NOTEBOOK_DIR) if s.min_areas <= 1]


def page_name(spec) -> str:
    """The page the sample pack has for a notebook (the sample's one area, or the partnership)."""
    return f"sampleborough_{spec.name}.html" if spec.scope == "area" else f"{spec.name}.html"


def charts_in(executed: Path) -> int:
    """Charts a reader should see: image outputs of cells the page does not hide."""
    nb = nbformat.read(executed, as_version=4)
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code" and not set(cell.metadata.get("tags", [])) & HIDDEN_TAGS
        for output in cell.get("outputs", [])
        if {"image/svg+xml", "image/png"} & set(output.get("data", {}))
    )


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_charts_render_and_code_is_hidden(browser, sample_report, tmp_path, spec):
    page = page_name(spec)
    charts = charts_in(sample_report / "analysts" / "notebooks" / page.replace(".html", ".ipynb"))
    assert charts >= 1, "every page of the pack shows at least one chart"
    found, dom = _render(browser, sample_report / page, tmp_path)
    assert found["images"] == charts
    assert found["loaded"] == charts  # every chart decoded to a real image
    assert found["code"] == 0
    assert found["external"] == 0  # self-contained: no request leaves the page
    assert "notebook.prepare" not in dom
    # Charts are SVG with alt text that says what they show (the finding and the range).
    for tag in re.findall(r"<img [^>]*>", dom):
        assert 'src="data:image/svg+xml;base64,' in tag, tag[:80]
        alt = html.unescape(re.search(r'alt="([^"]*)"', tag).group(1))
        assert alt.startswith("Chart: ") and len(alt) > 80 and re.search(r"\d", alt), alt
    # Every page links back to the index and to the glossary; its title has area and quarter.
    assert 'href="index.html"' in dom and 'href="glossary.html"' in dom
    title = re.search(r"<title>([^<]*)</title>", dom).group(1)
    assert "2026/27 Q2" in title, title
    if spec.scope == "area":
        assert "Sampleborough" in title, title


CODE_NAME = re.compile(r"[a-z]+(?:_[a-z0-9]+)+")
FLOAT = re.compile(r"^-?\d[\d,]*\.\d+$")
# Columns whose values are measured, not counted: one decimal place is right even when it is .0.
MEASURES = ("%", "per ", "FTE", "days", "ratio", "rate", "CI", "index", "Value")


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts (the header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _tables(text: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(text)
    return [t for t in parser.tables if t]


@pytest.mark.parametrize("page", ["index.html", *map(page_name, SPECS)])
def test_tables_are_fit_to_publish(sample_report, page):
    text = (sample_report / page).read_text()
    tables = _tables(text)
    assert tables
    for rows in tables:
        header, body = rows[0], rows[1:]
        # Readable names: no program names as headers or as whole cells.
        named = [c for row in rows for c in row if CODE_NAME.fullmatch(c)]
        named += [h for h in header if CODE_NAME.search(h)]
        assert not named, (page, named[:5])
        assert not any(re.fullmatch(r"-?\d+\.\d{3,}", c) for row in body for c in row)
        # Counts are whole numbers: no column of whole values printed with a decimal point.
        for i, name in enumerate(header):
            values = [row[i] for row in body if i < len(row) and FLOAT.match(row[i])]
            if values and all(v.endswith(".0") for v in values) and len(values) == len(body):
                assert any(m in name for m in MEASURES), (page, name, values[:3])
    # Every house table has a caption above and a source line under it.
    for figure in re.findall(r'<figure class="da-table">.*?</figure>', text, flags=re.DOTALL):
        assert "<caption>" in figure and 'class="da-source"' in figure


def test_front_page_leads_with_main_points(browser, sample_report, tmp_path):
    found, dom = _render(browser, sample_report / "index.html", tmp_path)
    assert found["external"] == 0
    main = dom.split("<main>", 1)[1]
    # Only an urgent warning (staffing alerts) may come before the main points.
    rest = re.sub(r'<section class="da-warning".*?</section>', "", main, flags=re.DOTALL)
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", rest)
    assert headings[0] == "Main points"
    assert main.index("Main points") < main.index("<table")
    points = re.search(r'<section class="da-main-points".*?</section>', main, flags=re.DOTALL)
    for items in re.findall(r"<ul>(.*?)</ul>", points.group(0), flags=re.DOTALL):
        bullets = re.findall(r"<li>(.*?)</li>", items, flags=re.DOTALL)
        assert 3 <= len(bullets) <= 6
    text = html.unescape(re.sub(r"<[^>]+>", "", points.group(0)))
    assert "Safe staffing is" in text and "£" in text and "safe band of 27 to 33" in text
    assert "within one working day" in text and "Action plan:" in text
    # RAG by symbol and word, not colour alone.
    assert re.search(r"[✕!✓] (Red|Amber|Green)", html.unescape(main))


def test_screenshot_of_the_index(browser, sample_report, tmp_path):
    shot = tmp_path / "index.png"
    subprocess.run(
        [
            browser,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1000,700",
            (sample_report / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 5000


class _Text(HTMLParser):
    """What a reader sees of a page: the text outside style, script and hidden elements."""

    SKIP = {"style", "script"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    BLOCKS = {"td", "th", "li", "p", "tr", "div", "caption", "dt", "dd", "h1", "h2", "h3", "br"}

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag in self.SKIP or "anchor-link" in classes:
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if self._skip and (tag in self.SKIP or tag == "a"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _visible(text: str) -> str:
    parser = _Text()
    parser.feed(text)
    return re.sub(r"\s+", " ", "".join(parser.parts))


# A program name in a sentence; file names an officer has to find (ledger.csv) are allowed.
CODE_WORD = re.compile(r"(?<![/\w.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b(?!\.\w)")


@pytest.mark.parametrize(
    "page", ["index.html", "glossary.html", "about.html", *map(page_name, SPECS)]
)
def test_pages_read_as_prose_not_program_output(sample_report, page):
    seen = _visible((sample_report / page).read_text())
    assert not CODE_WORD.findall(seen), (page, CODE_WORD.findall(seen)[:5])
    for habit in ["(s)", "GBP", "Sources: Sources", ".;", "alert_", "config (", "¶"]:
        assert habit not in seen, (page, habit)
    words = set(seen.split())
    assert not words & {"nan", "NaN", "None", "True", "False", "NaT", "<NA>"}, page
    assert not re.search(r"\d\.\d{4,}", seen), page  # float noise such as 0.30000000004
    # The Sources section lists the settings the page's figures rest on, not the loader's.
    for setting in ["Max fte per row", "Allow low suppression", "Area name when the extract"]:
        assert setting not in seen, (page, setting)


def test_front_page_alone_answers_the_committee(sample_report):
    seen = _visible((sample_report / "index.html").read_text())
    points = seen.split("Main points", 1)[1].split("Headline figures", 1)[0]
    # (1) reporting or need, with the figures it rests on.
    # The figure is the verdict's own (daanalysis verdict), not one written into the test.
    primary = cli.verdicts(SAMPLE, [])[0].primary
    assert "Both more reporting and more need" in points
    assert f"rate ratio of {primary['rate_ratio']:.2f}" in points
    # (2) safe staffing, the gap, its cost, what the bid buys and when growth breaches the band.
    assert re.search(
        r"Safe staffing is [\d.]+ caseworker FTE: [\d.]+ FTE more than in post", points
    )
    assert "costing £" in points and "still above the band" in points
    assert re.search(r"would take caseloads above the band in \d{4}/\d{2} Q\d", points)
    # The rest of the committee's questions, each under its own heading with a link to its page.
    figures = seen.split("Headline figures", 1)[1]
    for heading in ["Demand versus reporting", "Staffing gap", "Action plan progress",
                    "Partnership activity"]:  # fmt: skip
        assert f"More on the {heading}" in figures, heading
    for measure in ["Schools engaged in prevention", "Perpetrator referrals from the police",
                    "Police DA incidents referred to the service", "Median cost per property",
                    "Actions red"]:  # fmt: skip
        assert measure in figures, measure
    assert "Demand verdict Both: more reporting and more need" in figures
    assert "Placebo dates with a significant step 0 of 14 dates" in figures


def test_a_stacked_tables_labels_and_roles_survive_the_sanitiser():
    """Each cell carries its column's heading (data-label) and the table its roles, through the
    page's allow-list; a role or data-label anywhere else is still removed."""
    import pandas as pd

    from daanalysis.pack import export
    from daanalysis.present.tables import format_table

    table = format_table(pd.DataFrame({"quarter": ["2025/26 Q3"], "referrals": [1200]}), "T", "S")
    hostile = '<div role="button" data-label="x">a</div><td role="button">b</td>'
    nb = notebook_with_outputs({"text/html": table.html() + hostile})
    out, _ = export.output_sanitizer().preprocess(nb, {})
    page = out.cells[0].outputs[0]["data"]["text/html"]
    for wanted in [
        'data-label="Quarter"',
        'data-label="Referrals"',
        'role="table"',
        'role="rowgroup"',
        'role="row"',
        'role="columnheader"',
        'role="cell"',
    ]:
        assert wanted in page, (wanted, page)
    assert 'role="button"' not in page and 'data-label="x"' not in page, page
    # Every body cell is labelled with its own column's heading, in order.
    headings = re.findall(r"<th [^>]*>([^<]*)</th>", page)
    labels = re.findall(r'<td [^>]*data-label="([^"]*)"', page)
    assert labels == headings, (labels, headings)


def test_a_line_only_repeating_the_title_is_left_out():
    from daanalysis.pack import export

    title = "Staffing gap: Sampleborough, 2026/27 Q2 (Jul-Sep 2026)"
    nb = notebook_with_outputs(
        {"text/markdown": "**Sampleborough, 2026/27 Q2 (Jul-Sep 2026)**"},
        {"text/markdown": "**All areas, 2026/27 Q2 (Jul-Sep 2026). Latest review 31/03/2023**"},
        {"text/markdown": "**Sampleborough, 2026/27 Q2 (Jul-Sep 2026)**\n\nMore to say."},
        {"text/markdown": "Q2 (Jul-Sep 2026)"},  # a fragment of the title, not all of a part
    )
    export._drop_repeated_title(nb, title)
    kept = [o["data"]["text/markdown"] for o in nb.cells[0].outputs]
    assert len(kept) == 3 and not any(
        k.startswith("**Sampleborough") and k.endswith("**") for k in kept
    ), kept
