"""Funnel-plot comparison of areas (daanalysis.metrics.comparison): limits worked out by hand,
planted outliers found, and calibration on simulated regions with a known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from daanalysis.metrics.comparison import BANDS, funnel, poisson_limit


def _cdf(r: int, mean: float) -> float:
    return sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(r + 1))


def test_poisson_limit_is_the_interpolated_quantile_worked_by_hand():
    # Mean 10: P(X <= 16) = 0.97296, P(X <= 17) = 0.98572, so the 97.5% point is 17 less
    # (0.98572 - 0.975) / (0.98572 - 0.97296) = 0.840 of a count.
    at, below = _cdf(17, 10), _cdf(16, 10)
    assert float(poisson_limit(10, 0.975)) == pytest.approx(17 - (at - 0.975) / (at - below))
    assert float(poisson_limit(10, 0.975)) == pytest.approx(16.16, abs=0.01)
    at, below = _cdf(4, 10), _cdf(3, 10)
    assert float(poisson_limit(10, 0.025)) == pytest.approx(4 - (at - 0.025) / (at - below))
    assert float(poisson_limit(0, 0.975)) == 0


def _areas(counts, sizes) -> pd.DataFrame:
    return pd.DataFrame(
        {"area": [f"Area {i:02d}" for i in range(len(counts))], "count": counts, "size": sizes}
    )


def test_areas_at_the_target_are_within_and_the_limits_narrow_with_size():
    sizes = np.array([50_000, 100_000, 200_000, 400_000], dtype=float)
    f = funnel(_areas(sizes * 0.012, sizes), "Referrals per 1,000 adults 16+", per=1000)
    assert f.target == pytest.approx(12.0)
    assert (f.areas["band"] == "within limits").all()
    assert f.areas["z"].abs().max() == pytest.approx(0, abs=1e-9)
    width = f.areas["upper_99.8"] - f.areas["lower_99.8"]
    assert width.is_monotonic_decreasing
    assert "chance only" in f.note and f.tau2 == 0  # 4 areas: too few to estimate the spread


def test_a_benchmark_target_is_the_centre_line():
    women = np.array([60_000, 90_000, 120_000], dtype=float)
    f = funnel(
        _areas([240, 300, 560], women),
        "MARAC cases per 10,000 women",
        per=10_000,
        target=40,
        target_source="SafeLives",
    )
    assert f.target == 40 and f.target_source == "SafeLives"
    # 300 cases for 90,000 women is 33.3 per 10,000; the 99.8% limit at 360 expected is about
    # 360 - 3.09 * sqrt(360) = 301 cases, so the area is just below the 99.8% limit.
    row = f.areas.set_index("area").loc["Area 01"]
    assert row["rate"] == pytest.approx(33.33, abs=0.01)
    assert row["lower_99.8"] == pytest.approx(
        10_000 * (360 - 3.09 * math.sqrt(360)) / 90_000, rel=0.01
    )
    assert row["band"] == "below 99.8% limit"


def test_a_planted_outlier_is_found_and_a_missing_count_is_not_a_zero():
    rng = np.random.default_rng(7)
    sizes = rng.integers(60_000, 300_000, 8).astype(float)
    counts = rng.poisson(sizes * 0.012).astype(float)
    counts[3] = round(sizes[3] * 0.024)  # twice the rate of the others
    counts[5] = np.nan  # not collected
    # The centre line given: a pooled one would be pulled up by the outlier itself.
    f = funnel(_areas(counts, sizes), "Referrals per 1,000 adults 16+", per=1000, target=12)
    bands = f.areas.set_index("area")["band"]
    assert bands["Area 03"] == "above 99.8% limit"
    assert bands["Area 05"] == "" and np.isnan(f.areas.loc[5, "rate"])
    assert set(bands.drop(["Area 03", "Area 05"])) <= {"within limits", BANDS[1], BANDS[3]}


@pytest.mark.parametrize("spread", [0.0, 0.15])
def test_limits_hold_their_level_on_simulated_regions(spread):
    """Known truth: 300 regions of 30 areas whose true rates differ by a lognormal ``spread``
    (0: chance alone; 0.15: councils that really differ). About 5% of areas should fall outside
    the 95% limits and 0.2% outside the 99.8% ones. Poisson limits alone would flag about half
    of the areas when they really differ (checked below), which is why the spread is estimated."""
    rng = np.random.default_rng(20261207 + int(100 * spread))
    outside95 = outside998 = poisson_only = total = 0
    for _ in range(300):
        sizes = rng.integers(40_000, 400_000, 30).astype(float)
        rates = 0.012 * np.exp(rng.normal(0, spread, 30) - spread**2 / 2)
        f = funnel(_areas(rng.poisson(sizes * rates), sizes), "rate", per=1000)
        band = f.areas["band"]
        outside95 += (band != "within limits").sum()
        outside998 += band.str.contains("99.8").sum()
        z = (f.areas["count"] - f.target / 1000 * sizes) / np.sqrt(f.target / 1000 * sizes)
        poisson_only += (z.abs() > 1.96).sum()
        total += 30
    share95, share998 = outside95 / total, outside998 / total
    assert 0.03 <= share95 <= 0.08, share95
    assert share998 <= 0.015, share998
    if spread:
        assert poisson_only / total > 0.3


@pytest.fixture(scope="module")
def three_areas(tmp_path_factory):
    from daanalysis.ingest.load import load_extract
    from daanalysis.panel import build_panel
    from daanalysis.synthetic import sample

    folder = tmp_path_factory.mktemp("three")
    sample.write_sample(folder, areas={"North East": 1.0, "St. Helens": 0.5, "Westbury": 2.0})
    extract = load_extract(folder)
    return extract, build_panel(extract)


def test_area_figures_match_the_area_pages(three_areas):
    from daanalysis.config import Config
    from daanalysis.metrics import demand, staffing
    from daanalysis.metrics.comparison import MEASURES, area_figures
    from daanalysis.panel import area_panel, common_quarters

    extract, panel = three_areas
    quarter = common_quarters(panel)[-1]
    figures = area_figures(panel, quarter)
    config = Config()
    for area in ("North East", "St. Helens", "Westbury"):
        mine = area_panel(panel, area)
        rate = demand.rates(mine, quarter, config)["value"].iloc[0]
        marac = demand.marac_benchmark(mine, quarter, config)["value"].iloc[0]
        caseload = staffing.quarter_end(staffing.caseload_per_fte(mine, config), quarter)
        expected = [rate, marac, caseload["per_fte"]]
        for (measure, *_), want, per in zip(MEASURES, expected, (1000, 10_000, 1), strict=True):
            row = figures[measure].set_index("area").loc[area]
            assert per * row["count"] / row["size"] == pytest.approx(want), (area, measure)
            assert row["why"] == ""


def test_a_month_not_collected_leaves_the_area_without_a_figure(three_areas):
    from daanalysis.metrics.comparison import area_figures
    from daanalysis.panel import common_quarters

    _, panel = three_areas
    quarter = common_quarters(panel)[-1]
    gap = panel.copy()
    hole = (gap["area"] == "Westbury") & (gap["month"] == quarter.asfreq("M", how="end") - 2)
    gap.loc[hole, "referrals"] = np.nan
    row = area_figures(gap, quarter)[MEASURES_REFERRALS].set_index("area").loc["Westbury"]
    assert np.isnan(row["count"]) and row["why"] == "not all 12 months collected"
    f = funnel(area_figures(gap, quarter)[MEASURES_REFERRALS], "r", per=1000)
    assert f.areas.set_index("area").loc["Westbury", "band"] == ""


MEASURES_REFERRALS = "Referrals per 1,000 adults 16+ (12 months)"


def test_the_funnel_chart_states_the_finding_and_carries_its_data():
    import matplotlib

    matplotlib.use("Agg")
    from daanalysis.present.comparison import finding, funnel_chart

    sizes = np.array([60_000, 90_000, 120_000, 150_000, 200_000], dtype=float)
    counts = sizes * 0.012
    counts[1] = 0.024 * sizes[1]
    counts[4] = np.nan
    f = funnel(_areas(counts, sizes), "MARAC cases per 10,000 women 16+", per=10_000, target=120)
    assert finding(f).startswith("Area 01 is above the 99.8% limits for MARAC cases")
    fig = funnel_chart(f, "12 months to September 2026", unit="women 16+")
    assert fig.da_title.startswith("Area 01 is above the 99.8% limits")
    assert "No figure for Area 04" in fig.da_alt
    assert list(fig.da_data["area"]) == ["Area 00", "Area 01", "Area 02", "Area 03"]
    assert "99.8% upper limit" in fig.da_data
    none = funnel(_areas(sizes * 0.012, sizes), "Referrals per 1,000 adults 16+", per=1000)
    assert finding(none).startswith("No area of 5 is outside the 99.8% limits for referrals")


# --- optional public benchmarks (benchmarks.csv) -----------------------------------------------


def test_benchmark_rows_are_read_through_the_contract(tmp_path):
    from daanalysis.ingest.load import load_extract
    from daanalysis.metrics.comparison import MEASURES, benchmarks
    from daanalysis.synthetic import sample

    sample.write_sample(tmp_path, areas={"North East": 1.0, "St. Helens": 0.5}, benchmarks=True)
    extract = load_extract(tmp_path)
    table = extract["benchmarks"]
    assert table["name"].tolist() == sample.benchmark_table()["name"].tolist()
    assert table["value"].tolist() == [10.0, 45.0, 55.0]
    assert table["source"].str.contains("not a published figure").all()
    ledger = extract.ledger[extract.ledger["table"] == "benchmarks"]
    assert (ledger["status"] == "used").sum() == 3
    marks = benchmarks(table)
    assert list(marks) == [m for m, *_ in MEASURES]
    assert [m.name for m in marks[MEASURES[1][0]]] == [
        "Synthetic national figure",
        "Synthetic force-area figure",
    ]
    assert marks[MEASURES[2][0]] == []


BAD_BENCHMARKS = [
    (
        ("marac_per_women", "Typo in the measure", 40.0, "2025", "SafeLives"),
        ["measure must be one of referrals_per_1000_adults, marac_cases_per_10000_women"],
    ),
    (
        ("marac_cases_per_10000_women", "A count", 5120, "2025", "SafeLives"),
        ["value:", "is not a rate from 0 to 1,000", "not a count"],
    ),
    (("referrals_per_1000_adults", "No source", 9.0, "2025", ""), ["source", "blank"]),
]


def _benchmarks_with(folder, bad_rows) -> None:
    from daanalysis.synthetic import sample

    sample.write_sample(folder, areas={"North East": 1.0, "St. Helens": 0.5})
    rows = sample.benchmark_table()
    bad = pd.DataFrame(bad_rows, columns=rows.columns)
    pd.concat([rows, bad]).to_csv(folder / "benchmarks.csv", index=False)


@pytest.mark.parametrize(("row", "said"), BAD_BENCHMARKS)
def test_a_bad_benchmark_row_is_listed_with_its_column_and_fix(tmp_path, row, said):
    """One slip in the short table: that row is excluded and ledgered (row 5: after the header
    and three good rows) with the column, the value and what to do; the good rows are used."""
    from daanalysis.ingest.load import load_extract

    _benchmarks_with(tmp_path, [row])
    extract = load_extract(tmp_path)
    assert len(extract["benchmarks"]) == 3
    ledger = extract.ledger[extract.ledger["table"] == "benchmarks"].set_index("row")
    assert ledger.loc[5, "status"] == "excluded"
    assert ledger.loc[5, "file"] == "benchmarks.csv"
    for words in said:
        assert words in ledger.loc[5, "reason"]


def test_three_bad_benchmark_rows_stop_the_run_with_a_clear_error(tmp_path):
    from daanalysis.ingest.extract import DataContractError
    from daanalysis.ingest.load import load_extract

    _benchmarks_with(tmp_path, [row for row, _ in BAD_BENCHMARKS])
    with pytest.raises(DataContractError) as err:
        load_extract(tmp_path)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "benchmarks.csv"))
    assert "row 5: measure must be one of referrals_per_1000_adults" in message


def test_no_benchmarks_file_gives_no_rows_and_no_note_of_a_fault(three_areas):
    from daanalysis.metrics.comparison import benchmarks

    extract, _ = three_areas
    assert len(extract["benchmarks"]) == 0
    assert not any("benchmarks" in note for note in extract.notes)
    assert all(marks == [] for marks in benchmarks(extract["benchmarks"]).values())


def test_a_benchmark_is_a_labelled_reference_line_in_the_chart_and_its_data():
    import matplotlib

    matplotlib.use("Agg")
    from daanalysis.metrics.comparison import Benchmark
    from daanalysis.present.comparison import benchmarks_table, funnel_chart

    sizes = np.array([60_000, 90_000, 120_000, 150_000], dtype=float)
    f = funnel(_areas(sizes * 0.004, sizes), "MARAC cases per 10,000 women 16+", per=10_000)
    mark = Benchmark(f.measure, "Synthetic national figure", 38.5, "2025/26", "made up")
    fig = funnel_chart(f, unit="women 16+", benchmarks=[mark])
    assert "Reference line: Synthetic national figure, 38.5 (2025/26; made up)." in fig.da_alt
    last = fig.da_data.iloc[-1]
    assert last["area"] == "Benchmark: Synthetic national figure"
    assert last[f.measure] == 38.5
    # The centre line stays the areas' own rate: the benchmark moves no limit.
    assert f.target == pytest.approx(40.0)
    table = benchmarks_table([mark], f.measure)
    assert table.columns.tolist() == ["Benchmark", f.measure, "Period", "Source"]


def test_the_comparison_page_says_when_no_benchmark_was_supplied(three_areas, tmp_path):
    """The notebook on three areas without benchmarks.csv: the page says none was supplied
    and runs through (imports from daanalysis.present only: tests/test_layers.py)."""
    import nbformat

    from daanalysis.pack.execute import run_notebook
    from daanalysis.pack.notebooks import NOTEBOOK_DIR
    from daanalysis.present.comparison import NO_BENCHMARKS

    extract, _ = three_areas
    target = tmp_path / "area_comparison.ipynb"
    run_notebook(
        NOTEBOOK_DIR / "area_comparison.ipynb",
        target,
        {"data_dir": str(extract.data_dir), "quarter": "latest", "today": "2026-12-01"},
    )
    nb = nbformat.read(target, as_version=4)
    text = "\n".join(
        str(out.get("data", {}).get("text/markdown", "")) + str(out.get("text", ""))
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )
    assert NO_BENCHMARKS in text
    assert "Public benchmarks" not in text
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert all(line.startswith(("from daanalysis.present", "from IPython")) for line in imports), (
        imports
    )


# --- the phone's rendering, and the verdicts worked out once (issue 22's per-area cost) --------


def test_the_funnel_chart_has_a_phone_rendering_with_text_of_11_px_or_more():
    """On a 390 px phone (a 358 px reading column) the chart's smallest text is at least 11 px:
    the narrow rendering is drawn at that width, not the laptop chart shrunk to half."""
    import base64
    import re

    import matplotlib

    matplotlib.use("Agg")
    from daanalysis.present import charts
    from daanalysis.present.comparison import funnel_chart

    charts.setup()
    sizes = np.array([60_000, 90_000, 120_000, 150_000, 200_000], dtype=float)
    counts = sizes * 0.012
    counts[1] = 0.024 * sizes[1]
    f = funnel(_areas(counts, sizes), "MARAC cases per 10,000 women 16+", per=10_000, target=120)
    wide, narrow = charts.split_narrow(charts.svg_text(funnel_chart(f, "12 months", unit="women")))
    assert narrow, "no phone rendering"
    small = base64.b64decode(narrow).decode("utf-8")

    def smallest_px(svg: str, shown_px: float) -> float:
        width_px = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1)) * 96 / 72
        sizes = [float(s) * 96 / 72 for s in re.findall(r"font-size: ?([\d.]+)px", svg)]
        return min(sizes) * min(1.0, shown_px / width_px)

    assert smallest_px(small, 358) >= 11
    assert smallest_px(wide, 358) < 11  # the laptop's chart, shrunk, would not do
    # The same words and figures on both.
    for words in ["Area 01", "99.8% limits", "95% limits"]:
        assert words in wide and words in small, words


def test_the_comparison_reads_the_verdicts_the_area_pages_recorded(three_areas, tmp_path):
    """In a quarterly run each area's demand page records its verdict; the comparison of areas
    reads those instead of fitting the models again, and they are the very verdicts it would
    work out itself (an area that recorded none is worked out as before)."""
    import dataclasses

    from daanalysis.metrics.comparison import area_verdicts
    from daanalysis.present import demand as demand_page
    from daanalysis.present import notebook

    extract, panel = three_areas
    prepared = notebook.save_prepared(extract, panel, tmp_path)
    args = (extract.data_dir, "latest", "", "2026-12-01")
    whole = notebook.prepare(*args, partnership=True, prepared=str(prepared))
    assert whole.run_dir == tmp_path
    worked_out = area_verdicts(whole.extract, whole.panel, whole.quarter)
    assert [v.area for v in worked_out] == ["North East", "St. Helens", "Westbury"]
    for area in ("North East", "Westbury"):  # St. Helens's page "failed": nothing recorded
        ctx = notebook.prepare(
            extract.data_dir, "latest", area, "2026-12-01", prepared=str(prepared)
        )
        demand_page.results(ctx)
    known = notebook.recorded_verdicts(whole, ["North East", "St. Helens", "Westbury"])
    assert sorted(known) == ["North East", "Westbury"]
    read = area_verdicts(whole.extract, whole.panel, whole.quarter, known)

    def same(a, b) -> bool:  # every field, data frames and NaN too (== cannot compare those)
        if dataclasses.is_dataclass(a):  # the fields a comparison reads (not working state)
            kept = [f.name for f in dataclasses.fields(a) if f.compare]
            return type(a) is type(b) and all(same(getattr(a, n), getattr(b, n)) for n in kept)
        if isinstance(a, pd.DataFrame | pd.Series):
            return type(a) is type(b) and a.equals(b) and list(a.index) == list(b.index)
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list | tuple):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, float) and math.isnan(a):
            return isinstance(b, float) and math.isnan(b)
        return a == b

    assert len(read) == len(worked_out) == 3
    assert all(same(a, b) for a, b in zip(read, worked_out, strict=True))
    assert read[0] is known["North East"] and read[2] is known["Westbury"]
    # A notebook on its own records nothing and reads nothing.
    alone = notebook.prepare(extract.data_dir, "latest", "Westbury", "2026-12-01")
    assert alone.run_dir is None and notebook.record_verdict(alone, read[2]) is None
    assert notebook.recorded_verdicts(alone, ["Westbury"]) == {}


def test_the_comparison_runs_after_the_area_pages_on_a_second_pool(tmp_path):
    """run_jobs: a page covering several areas (min_areas > 1) runs once every area page has
    finished, on the pool next_pool gives; without next_pool, everything on the one pool."""
    from daanalysis.pack.execute import run_jobs
    from daanalysis.pack.notebooks import NotebookSpec
    from daanalysis.pack.plan import Job

    def spec(name: str, scope: str, min_areas: int = 1) -> NotebookSpec:
        return NotebookSpec(
            name=name, path=tmp_path / f"{name}.ipynb", title=name, scope=scope, order=1,
            requires=(), parameters=("area",), min_areas=min_areas,
        )  # fmt: skip

    class Pool:
        def __init__(self, log: list) -> None:
            self.log, self.done = log, 0

        def run(self, tasks, after=None):
            self.log.append([job.stem for job, _, _ in tasks])
            self.done += len(tasks)
            return []

    jobs = [
        Job(spec("demand", "area"), "A", {"area": "A"}),
        Job(spec("demand", "area"), "B", {"area": "B"}),
        Job(spec("area_comparison", "partnership", 2), "", {"area": ""}),
        Job(spec("action_plan", "partnership"), "", {"area": ""}),
    ]
    log: list = []
    second = Pool(log)
    assert run_jobs(jobs, tmp_path, Pool(log), next_pool=lambda: second) == []
    assert log == [["a_demand", "b_demand", "action_plan"], ["area_comparison"]]
    assert second.done == 4  # the log counts on from the first pool
    log.clear()
    run_jobs(jobs, tmp_path, Pool(log))
    assert log == [["a_demand", "b_demand", "area_comparison", "action_plan"]]
