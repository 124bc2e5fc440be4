"""The whole pack on the extracts a council really holds (issue 17): each optional table left
out in turn, no campaign that can be tested, quarterly returns only, an early quarter and a
short history. Every run must succeed, publish every page its inputs allow, list any page it
left out, name on the page what is missing, show no error, and give the same demand verdict as
``daanalysis verdict``."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from daanalysis import cli, verdict_command
from daanalysis.ingest.load import load_extract
from daanalysis.pack import report
from daanalysis.present import notebook, publish
from tests.conftest import SAMPLE
from tests.pack_variants import VARIANTS, Variant

pytestmark = pytest.mark.slow


def visible_text(page: str) -> str:
    """What a reader sees: no style, script or SVG (the page's CSS names `.jp-ErrorIcon`)."""
    page = re.sub(r"(?s)<(style|script|svg)\b.*?</\1>", " ", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_pack_runs_and_says_what_is_missing(variant: Variant, tmp_path: Path, capsys):
    data, out = tmp_path / "data", tmp_path / "out"
    variant.build(data)
    code = cli.main(
        ["report", "--data", str(data), "--out", str(out), "--quarter", variant.quarter]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err + captured.out
    (folder,) = [p for p in out.iterdir() if not p.name.startswith((".", "failed"))]

    # Every page the inputs allow is there; a page they do not allow is listed as left out.
    extract = load_extract(data)
    area = extract.areas()[0]
    slug = re.sub(r"[^a-z0-9]+", "_", area.lower()).strip("_")
    index = visible_text((folder / "index.html").read_text(encoding="utf-8"))
    texts = {"index.html": index}
    for spec in notebook.discover(report.NOTEBOOK_DIR):
        name = f"{slug}_{spec.name}.html" if spec.scope == "area" else f"{spec.name}.html"
        if all(
            report._has_rows(extract, t, area if spec.scope == "area" else "")
            for t in spec.requires
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
    (expected,) = verdict_command.verdicts(data, [area], variant.quarter)
    kpis = pd.read_csv(folder / "kpis.csv", dtype=str, keep_default_na=False)
    mine = kpis[(kpis["area"] == area) & (kpis["notebook"] == "demand_vs_reporting")]
    by_kpi = mine.set_index("kpi")["value"]
    assert by_kpi["Demand verdict"] == expected.verdict
    assert by_kpi["Demand verdict: reading"] == expected.sentence
    assert publish.VERDICTS[expected.verdict] in index
    demand_page = texts[f"{slug}_demand_vs_reporting.html"]
    assert publish.VERDICT_FIGURES[expected.verdict] in index
    assert expected.sentence in demand_page
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
