"""Benchmark: the full quarterly pack against the same number of empty notebooks run the same way.

Both runs go through ``daanalysis.report.run_report`` (papermill on the project kernel, a pool
of two, HTML export, the move into place), so the ratio isolates what the analysis itself
costs over the fixed cost of starting kernels and exporting. Timings on a shared machine vary;
the ratio, measured in one process in one session, is what to compare between versions.

    python benchmarks/bench_report.py [--repeat 3]

Writes ``benchmarks/results/report.csv`` (ignored by git) and prints the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

from daanalysis.report import NOTEBOOK_DIR, run_report

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def empty_notebooks(folder: Path) -> Path:
    """Notebooks with the same names and parameters cell as the real ones, and nothing else."""
    for source in NOTEBOOK_DIR.glob("*.ipynb"):
        real = nbformat.read(source, as_version=4)
        params = next(c for c in real.cells if "parameters" in c.metadata.get("tags", []))
        nb = nbformat.v4.new_notebook(cells=[params], metadata=real.metadata)
        nbformat.write(nb, folder / source.name)
    return folder


def timed(notebooks: Path, out: Path) -> float:
    started = time.perf_counter()
    run_report(SAMPLE, out, quarter="latest", notebook_dir=notebooks)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "empty").mkdir()
        empty = empty_notebooks(tmp / "empty")
        for i in range(args.repeat):
            # Alternate the order so that warm caches favour neither run.
            order = [("empty", empty), ("full", NOTEBOOK_DIR)]
            for name, folder in order if i % 2 == 0 else order[::-1]:
                rows.append({"run": i, "pack": name, "seconds": timed(folder, tmp / f"out-{name}")})
    results = pd.DataFrame(rows)
    medians = results.groupby("pack")["seconds"].median()
    ratio = medians["full"] / medians["empty"]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    results.assign(ratio_full_to_empty=ratio).to_csv(out / "report.csv", index=False)
    print(results.to_string(index=False))
    print(
        f"full pack / empty notebooks (median of {args.repeat}): {ratio:.2f}x "
        f"(spread full {statistics.pstdev(results[results.pack == 'full'].seconds):.2f}s)"
    )


if __name__ == "__main__":
    main()
