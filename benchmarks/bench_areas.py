"""Benchmark: the full quarterly pack over 1, 5 and 20 areas of generated data.

Each area is the synthetic sample borough at volume scale 1
(``daanalysis.synthetic.sample.write_sample``
with ``areas={"Area 01": 1.0, ...}``, a new seed per area, and the sample's hand-written action
plan for the one partnership page), so every area has the same work and a pack that scales with
areas costs N times the one-area pack, less its fixed costs. Each size runs the whole pack
through ``daanalysis.pack.report.run_report`` (papermill on the project kernel, a pool of two, HTML
export, index, the move into place); data generation is not timed.

The run is split from outside, without touching the runner:

* ``plan_s``: ``daanalysis.pack.report.plan_jobs`` in this process (the runner's one load, checks
  and panel over every area); ``prepare_one_s``: the notebooks' ``prepare`` for one area, as a
  notebook opened on its own runs it (load every area, build the panel, keep its own area); and,
  when the runner caches the prepared inputs, ``prepared_one_s``: the same from that cache;
* from the pack's ``run.log`` timestamps: ``before_s`` (start to the first notebook: plan,
  ledger, alerts, officer lists, kernel check), ``notebooks_s`` (first notebook started to last
  finished, two at a time), ``mean_notebook_s`` (the runner's "done in" per notebook) and
  ``after_s`` (last notebook to the end: HTML export of every page, kpis.csv, front page, CSP).

Ratios, measured in one run: wall(20) / wall(1) against the ideal 20, wall(20) / wall(5)
against 4, the marginal cost of an area between 5 and 20 against between 1 and 5, and the mean
notebook at 20 areas against 1 area (ideal 1.0: an area's page should not cost more because
other areas are in the extract).

    python benchmarks/bench_areas.py [--areas 1 5 20] [--repeat 1]

About 6 minutes on 2 cores (Nov 2026, runner loading once; 12 before), most of it the 20-area
pack. Prints a table and the ratios and writes ``benchmarks/results/areas.csv`` (ignored by
git). No timing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from daanalysis.pack import report
from daanalysis.pack.report import run_report
from daanalysis.synthetic.sample import write_sample

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SIZES = [1, 5, 20]
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (.*)$")


def make_areas(n: int, folder: Path) -> Path:
    """Sample data for ``n`` areas of the same size (the sample borough's volumes each)."""
    write_sample(folder, areas={f"Area {i:02d}": 1.0 for i in range(1, n + 1)})
    # The action plan is written by hand, not generated: the sample's, for the partnership page.
    shutil.copy2(SAMPLE / "action_plan.csv", folder / "action_plan.csv")
    return folder


def timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def split_log(run_log: Path) -> dict[str, float]:
    """Phases of a run from its ``run.log`` timestamps (blank if the runner's lines change)."""
    events = []
    for line in run_log.read_text(encoding="utf-8").splitlines():
        found = STAMP.match(line)
        if found:
            when = dt.datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f")
            events.append((when, found[2]))
    if not events:
        return {}
    start, end = events[0][0], events[-1][0]
    running = [t for t, msg in events if msg.endswith(": running")]
    done = [(t, msg) for t, msg in events if " done in " in msg]
    if not running or not done:
        return {}
    seconds = [float(re.search(r"done in ([\d.]+)s", msg)[1]) for _, msg in done]
    last = max(t for t, _ in done)
    return {
        "before_s": (min(running) - start).total_seconds(),
        "notebooks_s": (last - min(running)).total_seconds(),
        "mean_notebook_s": sum(seconds) / len(seconds),
        "after_s": (end - last).total_seconds(),
    }


def setup_module():
    """Where the notebooks' set-up (``prepare``) lives: ``daanalysis.present.notebook`` or the
    report."""
    for name in ("daanalysis.present.notebook", "daanalysis.pack.report"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "prepare"):
            return module
    return None


def one_size(n: int, data: Path, out: Path) -> dict:
    """Time the runner's load and one notebook's set-up in this process, then the whole pack."""
    first = "Area 01"
    plan = getattr(report, "plan_jobs", None)
    setup = setup_module()
    row: dict = {"areas": n}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if plan is not None:
            planned = plan(data, "latest", [], "")
            # plan_jobs returns (quarter, jobs, extract) or a Plan with those fields.
            jobs = planned.jobs if hasattr(planned, "jobs") else planned[1]
            extract = planned.extract if hasattr(planned, "extract") else planned[2]
            row["referrals"] = len(extract["referrals"])
            row["notebooks"] = len(jobs)
            row["plan_s"] = timed(plan, data, "latest", [], "")
        if setup is not None:
            row["prepare_one_s"] = timed(setup.prepare, data, "latest", first, "")
            # With the runner's cache of the prepared inputs, when there is one.
            takes = inspect.signature(setup.prepare).parameters
            if "prepared" in takes and hasattr(setup, "save_prepared") and plan is not None:
                panel = getattr(planned, "panel", None)
                if panel is not None:
                    folder = out.parent / f"cache-{n}"
                    folder.mkdir(exist_ok=True)
                    cache = setup.save_prepared(extract, panel, folder)
                    row["prepared_one_s"] = timed(
                        setup.prepare, data, "latest", first, "", prepared=str(cache)
                    )
    started = time.perf_counter()
    pack = run_report(data, out, quarter="latest")
    row["wall_s"] = time.perf_counter() - started
    row["per_area_s"] = row["wall_s"] / n
    if (pack / "analysts" / "run.log").exists():
        row.update(split_log(pack / "analysts" / "run.log"))
    return row


def ratio(medians: pd.DataFrame, col: str, top: int, base: int) -> float:
    return medians.at[top, col] / medians.at[base, col]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, nargs="+", default=SIZES)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    sizes = sorted(set(args.areas))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = {n: make_areas(n, tmp / f"data-{n}") for n in sizes}
        for i in range(args.repeat):
            # Alternate the order so that warm caches favour no size.
            for n in sizes if i % 2 == 0 else sizes[::-1]:
                rows.append({"run": i, **one_size(n, data[n], tmp / f"out-{n}")})
                print(f"{n:>3} area(s): {rows[-1]['wall_s']:.1f}s", flush=True)
    results = pd.DataFrame(rows)
    medians = results.drop(columns="run").groupby("areas").median()
    lo, hi = min(sizes), max(sizes)
    results["wall_vs_fewest"] = results["areas"].map(medians["wall_s"] / medians.at[lo, "wall_s"])
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "areas.csv", index=False)
    print(medians.to_string(float_format=lambda x: f"{x:.2f}"))
    print(
        "seconds; plan_s: the runner's one load and checks (plan_jobs); prepare_one_s: one "
        "notebook's set-up for one area from data_dir (prepared_one_s: from the runner's cache); "
        f"before/notebooks/after: phases of the run from run.log; median of {args.repeat} run(s)"
    )
    if hi == lo:
        return
    pairs = [(hi, lo)] + ([(hi, 5)] if 5 in medians.index and lo < 5 < hi else [])
    for top, base in pairs:
        print(
            f"wall {top} / {base} areas: {ratio(medians, 'wall_s', top, base):.2f} "
            f"(ideal {top / base:.0f}; above it is super-linear)"
        )
    mids = [n for n in sizes if lo < n < hi]
    if mids:
        mid = mids[-1]
        early = (medians.at[mid, "wall_s"] - medians.at[lo, "wall_s"]) / (mid - lo)
        late = (medians.at[hi, "wall_s"] - medians.at[mid, "wall_s"]) / (hi - mid)
        print(
            f"marginal cost of an area: {early:.1f}s from {lo} to {mid} areas, {late:.1f}s from "
            f"{mid} to {hi} ({late / early:.2f}x; 1.0 is linear)"
        )
    for col, what, ideal in (
        ("mean_notebook_s", "one notebook", 1),
        ("prepare_one_s", "one notebook's set-up", 1),
        ("prepared_one_s", "one notebook's set-up from the runner's cache", 1),
        ("plan_s", "the runner's load", hi / lo),
        ("after_s", "export and front page", hi / lo),
    ):
        if col in medians:
            print(
                f"{what} ({col}) at {hi} / {lo} areas: {ratio(medians, col, hi, lo):.2f} "
                f"(ideal {ideal:g})"
            )


if __name__ == "__main__":
    main()
