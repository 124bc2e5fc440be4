"""The pack as a committee member reads it on a laptop and a phone (issue 21), in headless
Chromium driven by Playwright: both answers on the first screen, tables that fit, and axe-core
(the accessibility engine GOV.UK's own checks use) finding no serious or critical problem.

Needs Debian's ``chromium`` (Playwright drives it; its own browser download is not used) and
the dev dependencies ``playwright`` and ``axe-playwright-python`` (which ships axe-core).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from daanalysis.pack.notebooks import discover
from daanalysis.pack.report import NOTEBOOK_DIR

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A common laptop (1366x768 less the browser's bars) and a common phone, portrait.
LAPTOP, PHONE = (1366, 657), (390, 844)
# A tablet held upright (768px), and the narrowest screen on which tables keep their columns
# (861px: up to 860px they are stacked, as on a phone): the widest tables must fit there too.
TABLETS = [(768, 1024), (861, 1000)]
# The sample has one area: a page comparing areas (min_areas 2) is not in its pack.
SPECS = {spec.name: spec for spec in discover(NOTEBOOK_DIR) if spec.min_areas <= 1}


def page_name(name: str) -> str:
    """The sample pack's page for a notebook (the sample's one area, or the partnership)."""
    spec = SPECS[name]
    return f"sampleborough_{name}.html" if spec.scope == "area" else f"{name}.html"


# The answers on each page: the front page marks its two (class da-answer); a notebook page
# gives its answer in the first paragraph after its "The answer" heading.
ANSWERS_JS = """() => {
  const found = [...document.querySelectorAll('.da-answer')];
  const heading = document.getElementById('The-answer');
  if (heading) {
    const after = [...document.querySelectorAll('main p')].find(
      p => heading.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING);
    if (after) found.push(after);
  }
  return found.map(e => {
    const box = e.getBoundingClientRect();
    return {text: e.textContent.trim(), top: box.top, bottom: box.bottom};
  });
}"""
# Sideways scrolling: the page itself, and each table's own scrolling box.
WIDTH_JS = """() => ({
  page: document.documentElement.scrollWidth - window.innerWidth,
  tables: [...document.querySelectorAll('.da-table-wrap')]
    .filter(w => w.scrollWidth > w.clientWidth + 1)
    .map(w => w.getAttribute('aria-label')),
  captions: [...document.querySelectorAll('table caption')]
    .filter(c => c.getBoundingClientRect().right > window.innerWidth + 1)
    .map(c => c.textContent.slice(0, 60)),
})"""


# Each chart's smallest text as the reader sees it: the font size written in the SVG the
# browser chose (a phone gets the narrow rendering through <picture>), times the scale at which
# the image is drawn (its width on the page over the SVG's own width). SVG sizes are in pt.
CHART_TEXT_JS = """() => [...document.querySelectorAll('img.da-chart')].map(img => {
  const src = img.currentSrc || img.src;
  const svg = atob(src.split(',', 2)[1]);
  const width = parseFloat(svg.match(/<svg[^>]*width="([\\d.]+)pt"/)[1]) * 96 / 72;
  const sizes = [...svg.matchAll(/font-size: ?([\\d.]+)px/g)].map(m => parseFloat(m[1]) * 96 / 72);
  return {alt: img.alt.slice(0, 60), narrow: src !== img.src,
          px: Math.min(...sizes) * img.getBoundingClientRect().width / width};
})"""


@pytest.fixture(scope="module")
def browser(chromium_browser):
    """The session's Chromium (tests/conftest.py): launched once, a fresh context per page."""
    return chromium_browser


def _open(browser, path, size):
    width, height = size
    # The pages forbid every script (Content-Security-Policy); the test's measuring scripts
    # are its own, so the policy is bypassed for them only. Any request leaving the machine
    # is refused and counted.
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(("file:", "data:")), refuse)
    page = context.new_page()
    page.goto(path.as_uri())
    assert not outside, outside
    return context, page


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop-1366x657", "phone-390x844"])
@pytest.mark.parametrize(
    "page, expected",
    [
        ("index.html", ["Both more reporting and more need", "Safe staffing is"]),
        (page_name("demand_vs_reporting"), ["more people are coming forward"]),
        (page_name("staffing_gap"), ["Safe staffing is"]),
    ],
)
def test_answers_are_on_the_first_screen(browser, sample_report, page, expected, size):
    context, tab = _open(browser, sample_report / page, size)
    try:
        answers = tab.evaluate(ANSWERS_JS)
    finally:
        context.close()
    assert len(answers) == len(expected), answers
    for answer, words in zip(answers, expected, strict=True):
        assert words in answer["text"], (answer["text"], words)
        # Wholly on the first screen, without scrolling.
        assert answer["top"] > 0 and answer["bottom"] <= size[1], (page, size, answer)
        # One or two sentences, not a paragraph of evidence.
        assert len(answer["text"]) <= 400, answer["text"]


PAGES = ["index.html", "glossary.html", "about.html", *map(page_name, SPECS)]


@pytest.mark.parametrize(
    "size",
    [LAPTOP, (1280, 800), *TABLETS, PHONE],
    ids=["laptop-1366x657", "1280x800", "tablet-768x1024", "tablet-861x1000", "phone-390x844"],
)
@pytest.mark.parametrize("page", PAGES)
def test_pages_fit_and_pass_axe(browser, sample_report, page, size):
    from axe_playwright_python.sync_playwright import Axe

    context, tab = _open(browser, sample_report / page, size)
    try:
        width = tab.evaluate(WIDTH_JS)
        result = Axe().run(tab)
        # Every scrolling table is a named region the keyboard reaches.
        unreachable = tab.evaluate(
            """() => [...document.querySelectorAll('.da-table-wrap')].filter(w =>
                 w.getAttribute('tabindex') !== '0' || w.getAttribute('role') !== 'region'
                 || !w.getAttribute('aria-label')).length"""
        )
    finally:
        context.close()
    assert width["page"] <= 0, (page, size, width)
    # No table scrolls sideways: a laptop has the room, and a phone or a tablet stacks each row.
    assert not width["tables"], (page, size, width["tables"])
    assert unreachable == 0, page
    assert not width["captions"], (page, size, width["captions"])  # no caption cut off
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, (page, size, serious)


@pytest.fixture(scope="module")
def region_report(region_pack) -> Path:
    """The two-area pack with benchmarks (``tests/conftest.py``: ``region_pack``)."""
    return region_pack / "outputs" / "2025-26Q4"


@pytest.mark.parametrize(
    "size, smallest", [((1280, 800), 12), (PHONE, 11)], ids=["1280x800", "phone-390x844"]
)
def test_the_comparison_of_areas_fits_reads_and_passes_axe(browser, region_report, size, smallest):
    """The page comparing areas (only in packs of two areas or more) keeps the same rules as
    every other page: nothing scrolls sideways, chart text readable (its funnel plots have a
    phone rendering), no serious or critical axe violation."""
    from axe_playwright_python.sync_playwright import Axe

    context, tab = _open(browser, region_report / "area_comparison.html", size)
    try:
        width = tab.evaluate(WIDTH_JS)
        charts = tab.evaluate(CHART_TEXT_JS)
        result = Axe().run(tab)
    finally:
        context.close()
    assert width["page"] <= 0 and not width["tables"] and not width["captions"], (size, width)
    assert len(charts) == 3, charts  # a funnel plot per measure
    for chart in charts:
        assert chart["narrow"] == (size[0] <= 640) and chart["px"] >= smallest, (size, chart)
    serious = [
        v["id"] for v in result.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not serious, (size, serious)


def test_every_page_shares_the_house_style(sample_report):
    """One design: each page carries pack.css (16 px Arial, the same header bar) and no page
    carries JupyterLab's theme."""
    from daanalysis.pack.site import PAGE_CSS

    for page in PAGES:
        text = (sample_report / page).read_text(encoding="utf-8")
        assert "nav.da-nav{" in text and 'class="da-nav"' in text, page
        assert "--jp-ui-font-size1" not in text and "jp-RenderedHTMLCommon{" not in text, page
        assert PAGE_CSS.strip().splitlines()[2] in text, page


def test_every_page_links_the_plain_english_methods(sample_report):
    """The pack explains its methods on a page of its own (about.html), linked from every
    page's header, with this pack's settings; no page sends the reader to a methods page that
    is not there, or names a file, a seed or an estimator instead."""
    about = " ".join((sample_report / "about.html").read_text(encoding="utf-8").split())
    assert "How these figures are worked out" in about
    assert "30 open cases per FTE" in about and "27 to 33" in about  # the sample's settings
    for page in PAGES:
        text = (sample_report / page).read_text(encoding="utf-8")
        nav = text.split('class="da-nav"', 1)[1].split("</nav>", 1)[0]
        assert 'href="about.html"' in nav, page
        for words in ["see the methods", "docs/data-contract.md", "Newey", "rag chart",
                      "streams chart", "seed 2026", "VINTAGE file"]:  # fmt: skip
            assert words not in text, (page, words)


@pytest.mark.parametrize(
    "size, smallest", [((1280, 800), 12), (PHONE, 11)], ids=["1280x800", "phone-390x844"]
)
@pytest.mark.parametrize("page", [page_name(name) for name in SPECS])
def test_chart_text_is_readable_on_screen(browser, sample_report, page, size, smallest):
    """Every chart's smallest text, as drawn in Chromium, is at least 12 px on a laptop and
    11 px on a phone (which is shown each chart's narrow rendering, not the laptop's shrunk)."""
    context, tab = _open(browser, sample_report / page, size)
    try:
        charts = tab.evaluate(CHART_TEXT_JS)
    finally:
        context.close()
    assert charts, page
    for chart in charts:
        assert chart["narrow"] == (size[0] <= 640), (page, size, chart)
        assert chart["px"] >= smallest, (page, size, chart)


def test_a_stacked_table_still_reads_as_a_table(browser, sample_report):
    """On a phone a table's rows are blocks with each value beside its column's heading, and
    Chromium's accessibility tree still has a table of rows, column headers and cells, whose
    names are the values alone (the headings shown beside them are not read twice)."""
    context, tab = _open(browser, sample_report / page_name("staffing_gap"), PHONE)
    try:
        shown = tab.evaluate(
            """() => { const t = document.querySelector('table.da');
              const cell = t.querySelector('tbody td');
              return {display: getComputedStyle(t.querySelector('tr')).display,
                      before: getComputedStyle(cell, '::before').content,
                      heading: t.querySelector('thead th').textContent}; }"""
        )
        tree = tab.locator("table.da").first.aria_snapshot()
    finally:
        context.close()
    assert shown["display"] == "block", shown
    assert shown["heading"] in shown["before"], shown  # the first column's heading beside it
    assert tree.startswith("- table ") and "- columnheader " in tree and "- cell " in tree, tree
    first_cell = re.search(r'- cell "([^"]*)"', tree).group(1)
    assert not first_cell.startswith(shown["heading"]), tree


def test_a_stacked_table_shows_no_heading_without_a_value(browser, sample_report):
    """On a phone the front page's figures table stacks each measure; a measure with no RAG
    status has a blank Status cell, which must not leave the heading "Status" alone on a line.
    On a laptop the blank cell keeps its column."""
    shown = {}
    for size in (PHONE, LAPTOP):
        context, tab = _open(browser, sample_report / "index.html", size)
        try:
            shown[size] = tab.evaluate(
                """() => [...document.querySelectorAll('table.da td')]
                     .filter(td => td.textContent.trim() === '')
                     .map(td => td.getBoundingClientRect().height)"""
            )
        finally:
            context.close()
    assert shown[PHONE], "the sample's front page has measures without a RAG status"
    assert all(height == 0 for height in shown[PHONE]), shown[PHONE]
    assert all(height > 0 for height in shown[LAPTOP]), shown[LAPTOP]
