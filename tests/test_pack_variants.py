"""The whole pack on the extracts a council really holds (issue 17): each optional table left
out in turn, no campaign that can be tested, quarterly returns only, an early quarter and a
short history. Every run must succeed, publish every page its inputs allow, list any page it
left out, name on the page what is missing, show no error, and give the same demand verdict as
``daanalysis verdict``."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from daanalysis import cli
from daanalysis.ingest.load import load_extract
from daanalysis.metrics import staffing
from daanalysis.names import page_stem
from daanalysis.pack import notebooks, plan, report
from daanalysis.panel import area_panel
from daanalysis.periods import parse_quarter
from daanalysis.present.verdict import sentence as verdict_sentence
from daanalysis.present.words import VERDICT_FIGURES, VERDICTS
from daanalysis.synthetic.sample import PLANTED
from tests.conftest import SAMPLE, command_said, run_command, shared_once
from tests.pack_variants import VARIANTS, Variant

pytestmark = pytest.mark.slow


def visible_text(page: str) -> str:
    """What a reader sees: no style, script or SVG (the page's CSS names `.jp-ErrorIcon`)."""
    page = re.sub(r"(?s)<(style|script|svg)\b.*?</\1>", " ", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


@dataclass(frozen=True)
class Run:
    """One variant's pack, run through the command line."""

    data: Path
    code: int
    out: str  # what the command printed
    err: str
    packs: list[Path]  # the pack folders written (one, when the run succeeded)


@pytest.fixture(scope="module")
def run_variant(tmp_path_factory, warm_process):
    """Each variant's pack, run once for the session (a test that asks again, on this worker
    or another of pytest-xdist's, reads the same run: :func:`tests.conftest.shared_once`)."""

    def build(variant: Variant, folder: Path) -> Path:
        data, out = folder / "data", folder / "out"
        variant.build(data)
        argv = ["report", "--data", str(data), "--out", str(out), "--quarter", variant.quarter]
        run_command(folder, argv, warm_process)
        return folder

    def run(variant: Variant) -> Run:
        folder = shared_once(tmp_path_factory, variant.name, lambda f: build(variant, f))
        said = command_said(folder)
        out = folder / "out"
        found = out.iterdir() if out.exists() else []
        packs = [p for p in found if not p.name.startswith((".", "failed"))]
        return Run(folder / "data", said["code"], said["out"], said["err"], packs)

    return run


@pytest.mark.parametrize(
    "variant",
    [pytest.param(v, marks=() if v.quick else pytest.mark.full) for v in VARIANTS],
    ids=lambda v: v.name,
)
def test_pack_runs_and_says_what_is_missing(variant: Variant, run_variant):
    run = run_variant(variant)
    assert run.code == 0, run.err
    assert "Traceback" not in run.err + run.out
    data, (folder,) = run.data, run.packs

    # Every page the inputs allow is there; a page they do not allow is listed as left out.
    extract = load_extract(data)
    area = extract.areas()[0]
    index = visible_text((folder / "index.html").read_text(encoding="utf-8"))
    texts = {"index.html": index}
    for spec in notebooks.discover(report.NOTEBOOK_DIR):
        name = page_stem(area if spec.scope == "area" else "", spec.name) + ".html"
        if spec.min_areas > len(extract.areas()):  # a comparison of areas, in a one-area pack
            assert not (folder / name).exists(), name
            continue
        if all(
            plan._has_rows(extract, t, area if spec.scope == "area" else "") for t in spec.requires
        ):
            assert (folder / name).exists(), name
            texts[name] = visible_text((folder / name).read_text(encoding="utf-8"))
        else:
            assert not (folder / name).exists(), name
            assert f"{spec.title}" in index and "not produced" in index, spec.name
    # No error reaches a reader.
    for name, text in texts.items():
        assert "Traceback" not in text, name
        assert not re.search(r"\b\w*Error\b", text), (
            name,
            re.search(r".{80}\w*Error\b.{80}", text),
        )
        assert "nan%" not in text.lower() and " nan " not in text.lower(), name
        # Python's warnings (a notebook's stderr) and empty charts or tables are not for readers:
        # a section without what it needs says so in a line.
        assert not re.search(r"\b\w+Warning\b", text), name
        assert "(no data)" not in text, name
    for name in texts:
        if name != "index.html":
            assert "<tbody></tbody>" not in (folder / name).read_text(encoding="utf-8"), name
    # What the variant lacks is named on a page.
    everything = " ".join(texts.values())
    for words in variant.missing:
        assert words in everything, (variant.name, words)
    # The demand verdict reads the same on the page, the front page, kpis.csv and in
    # `daanalysis verdict` (inconclusive when no campaign can be tested).
    (expected,) = cli.verdicts(data, [area], variant.quarter)
    kpis = pd.read_csv(folder / "kpis.csv", dtype=str, keep_default_na=False)
    mine = kpis[(kpis["area"] == area) & (kpis["notebook"] == "demand_vs_reporting")]
    by_kpi = mine.set_index("kpi")["value"]
    assert by_kpi["Demand verdict"] == expected.verdict
    assert by_kpi["Demand verdict: reading"] == verdict_sentence(expected)
    assert VERDICTS[expected.verdict] in index
    demand_page = texts[page_stem(area, "demand_vs_reporting") + ".html"]
    assert VERDICT_FIGURES[expected.verdict] in index
    assert verdict_sentence(expected) in demand_page
    if not expected.primary:
        assert "Reporting effect: confidence relative to need" not in set(mine["kpi"])
        assert "can be tested" in demand_page or "could be estimated" in demand_page


def test_variants_cover_each_optional_table():
    # The contract's optional tables that the sample ships, each dropped in one variant.
    from tests.pack_variants import OPTIONAL_TABLES

    names = {v.name for v in VARIANTS}
    assert {f"no_{t}" for t in OPTIONAL_TABLES} <= names
    present = {p.stem for p in SAMPLE.glob("*.csv")} - {"referrals", "config"}
    assert present <= set(OPTIONAL_TABLES)


def test_pack_from_aggregate_returns_only(run_variant, sample_panel, sample_extract):
    # A council that receives only quarterly returns from its commissioned service: the
    # quarterly_returns variant's pack, run once for both tests.
    run = run_variant(next(v for v in VARIANTS if v.name == "quarterly_returns"))
    assert run.code == 0, run.err
    (final,) = run.packs
    demand_page = (final / "sampleborough_demand_vs_reporting.html").read_text()
    assert "Repeat referrals within 12 months: needs record-level referrals." in demand_page
    staffing_page = (final / "sampleborough_staffing_gap.html").read_text()
    assert "Response times need record-level referrals" in staffing_page
    assert "Little" in staffing_page and "needs record-level referrals" in staffing_page
    kpis = pd.read_csv(final / "kpis.csv").set_index("kpi")["value"]
    # Open cases at the quarter end come from the return, so the staffing answer still stands.
    records = staffing.quarter_end(
        staffing.caseload_per_fte(area_panel(sample_panel, None), sample_extract.config),
        parse_quarter("2026/27 Q2"),
    )
    assert float(kpis["Open cases per caseworker FTE"]) == pytest.approx(
        records["per_fte"], abs=0.1
    )
    # The verdict on quarters finds what the sample plants, as the monthly one does: a reporting
    # effect inside the two campaigns' combined uplift (diluted by repeats, which get none) and
    # the 5% a year rise in need; the placebo check runs over the whole window, and says so.
    (quarterly,) = cli.verdicts(run.data, ["Sampleborough"], "2026/27 Q2")
    assert quarterly.verdict == "both"
    uplift = PLANTED["campaign_uplift"]
    assert 1 < quarterly.primary["ci_low"] <= uplift["Know the signs"] * uplift["Open doors"]
    trend = quarterly.need_trend
    assert trend["ci_low"] <= 1 + PLANTED["need_growth_annual"] <= trend["ci_high"]
    assert quarterly.placebo["dates"] >= 5 and "dates after it too" in verdict_sentence(quarterly)
