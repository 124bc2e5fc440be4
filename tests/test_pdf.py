"""PDFs a clerk can file (``--pdf``): printed from the sample pack with the system's Chromium,
checked for A4 pages, relative links that resolve inside the pack, the footer's title and page
numbers, the schools table's last column on paper, and a clear error without Chromium."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from daanalysis.pack.pdf import PdfError, check_printer, find_chromium, layout, relative_target


@pytest.fixture(scope="module")
def printed(sample_report, tmp_path_factory):
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium); CI runs this test")
    from daanalysis.pack.pdf import print_pdfs

    # A copy: the pack in a folder the test then moves, as a clerk files it.
    pack = tmp_path_factory.mktemp("pack") / "2026-27Q2"
    shutil.copytree(sample_report, pack)
    pdfs = print_pdfs(pack)
    filed = pack.parent / "filed"
    pack.rename(filed)
    return filed, [filed / "pdf" / p.name for p in pdfs]


def _links(reader) -> list[str]:
    return [
        str(a.get_object()["/A"]["/URI"])
        for page in reader.pages
        for a in page.get("/Annots") or []
        if "/A" in a.get_object() and "/URI" in a.get_object()["/A"]
    ]


def test_links_are_relative_and_resolve_inside_the_pack(printed):
    from pypdf import PdfReader

    filed, pdfs = printed
    # A PDF of every page of the pack, the methods page (about.html) included.
    assert {p.stem for p in pdfs} == {p.stem for p in filed.glob("*.html")}
    assert {"index", "glossary", "about"} <= {p.stem for p in pdfs}
    checked = 0
    for pdf in pdfs:
        for uri in _links(PdfReader(pdf)):
            assert not uri.startswith("file:") and ".tmp-" not in uri and "/tmp" not in uri, uri
            if re.match(r"https?:", uri):
                continue
            target = (pdf.parent / uri.split("#")[0]).resolve()
            assert target.exists(), (pdf.name, uri)
            checked += 1
    assert checked >= 10


def test_footer_has_title_and_page_numbers_and_pages_are_a4(printed):
    from pypdf import PdfReader

    _, pdfs = printed
    for pdf in pdfs:
        reader = PdfReader(pdf)
        count = len(reader.pages)
        assert 1 <= count <= 11, (pdf.name, count)  # the demand page, the longest, prints 9
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text()
            assert f"Page {number} of {count}" in text, (pdf.name, number)
            assert "Domestic abuse quarterly pack: 2026/27 Q2" in text
            short, long = sorted([float(page.mediabox.width), float(page.mediabox.height)])
            assert abs(short - 595) < 2 and abs(long - 842) < 2


def _filled(page) -> float:
    """How far down the page its text reaches, as a share of the printable height (the
    footer, in the bottom margin, left out)."""
    height, margin = float(page.mediabox.height), 45.0
    lowest = []

    def visit(text, cm, tm, font, size):
        y = tm[5] * cm[3] + cm[5] if cm else tm[5]
        if text.strip() and y > margin:
            lowest.append(y)

    page.extract_text(visitor_text=visit)
    return 1 - (min(lowest) - margin) / (height - 2 * margin) if lowest else 0.0


APPENDIX = "Appendix: supporting evidence"
# The demand page's main part (the answer, the verdict with its chart and table, this quarter's
# referrals, the streams chart) printed to 3 A4 pages on the sample when this was written; the
# bound leaves a page for the page template's changes, not for a longer main part.
MAIN_PART_PAGES = 4


def test_no_half_empty_page_but_the_last(printed):
    from pypdf import PdfReader

    _, pdfs = printed
    for pdf in pdfs:
        pages = PdfReader(pdf).pages
        # No forced break anywhere (the appendix follows on): only the last page may be short.
        fills = [round(_filled(p), 2) for p in pages[:-1]]
        assert all(f >= 0.5 for f in fills), (pdf.name, fills)


def test_demand_page_answer_is_a_few_sheets_and_the_appendix_follows(printed):
    """On paper the demand page's main part is a few A4 sheets; its supporting evidence (each
    stream on its own, other comparisons, rates, breakdowns, data quality) follows in an
    appendix, without a forced page break (which would leave a part-filled page)."""
    from pypdf import PdfReader

    _, pdfs = printed
    (pdf,) = [p for p in pdfs if p.stem.endswith("demand_vs_reporting")]
    texts = [p.extract_text() for p in PdfReader(pdf).pages]
    starts = [i for i, t in enumerate(texts) if APPENDIX in t]
    assert len(starts) == 1, starts  # one heading (the folded contents list is not printed)
    (first,) = starts
    assert 1 <= first < MAIN_PART_PAGES, (first, len(texts))
    main = " ".join(texts[:first]) + texts[first].split(APPENDIX)[0]
    answer = (
        "The answer",
        "The verdict and what it rests on",
        "Reporting effect:",
        "Referrals this quarter",
        "Confidence-sensitive and need-sensitive streams",
    )
    for part in answer:
        assert part in main, part
    assert "Supporting evidence: each stream on its own" not in main
    appendix = texts[first].split(APPENDIX)[1] + " ".join(texts[first + 1 :])
    for part in ("Supporting evidence: each stream on its own", "Rates and benchmarks"):
        assert part in appendix, part


def test_wide_table_not_cut(printed):
    from pypdf import PdfReader

    _, pdfs = printed
    (pdf,) = [p for p in pdfs if "partnership" in p.name]
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert re.search(r"Pupils\s+reached", text)  # the schools table's last column


def test_layout_rules():
    assert layout(1.0) == (False, 1.0)
    assert layout(1.11) == (False, 0.9)
    landscape, scale = layout(1.4)
    assert landscape and scale == 1.0
    assert layout(3.0)[0] and layout(3.0)[1] == 0.8


def test_relative_target(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    uri = (pack / "demand.html").as_uri()
    assert relative_target(uri + "#verdict", pack) == "demand.pdf"
    assert (
        relative_target((pack / "downloads" / "a b.csv").as_uri(), pack) == "../downloads/a b.csv"
    )
    assert relative_target("https://www.gov.uk/", pack) is None
    assert relative_target(Path("/srv/secret/x.csv").as_uri(), pack) == "x.csv"


def test_no_chromium_is_a_clear_error_and_exit_1(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(PdfError, match="needs headless Chromium"):
        check_printer()
    from daanalysis.cli import main

    code = main(["report", "--data", "data/sample", "--out", str(tmp_path), "--pdf"])
    assert code == 1
    assert "needs headless Chromium" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # stopped before anything was written
