"""Benchmark: the demand verdict on the sample, against loading the extract alone.

``daanalysis verdict`` loads the extract, builds the panel and fits the controlled model with its
placebo check. The baseline, measured in the same run, is load + panel alone, so the ratio says
what the verdict adds on top of reading the data.

    python benchmarks/bench_verdict.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

from daanalysis.ingest.load import load_extract
from daanalysis.metrics import demand
from daanalysis.panel import area_panel, build_panel, complete_quarters

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def load_only() -> None:
    build_panel(load_extract(SAMPLE))


def load_and_verdict() -> str:
    extract = load_extract(SAMPLE)
    panel = area_panel(build_panel(extract), None)
    area = panel["area"].iloc[0]
    v = demand.verdict(
        panel,
        demand.campaigns_for(extract["campaigns"], area),
        demand.events_for(extract["events"], area),
        complete_quarters(panel)[-1],
    )
    return v.verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    load_and_verdict()  # imports and first-call costs out of the way
    times: dict[str, list[float]] = {"load + panel": [], "load + panel + verdict": []}
    jobs = (("load + panel", load_only), ("load + panel + verdict", load_and_verdict))
    for _ in range(args.repeat):
        for name, job in jobs:
            started = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - started)
    base = statistics.median(times["load + panel"])
    full = statistics.median(times["load + panel + verdict"])
    for name, values in times.items():
        print(f"{name:>24}: median {statistics.median(values):.2f}s over {args.repeat}")
    print(f"verdict / load alone: {full / base:.2f}x (the verdict adds {full - base:.2f}s)")


if __name__ == "__main__":
    main()
