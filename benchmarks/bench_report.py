"""Benchmark: the full quarterly pack against the same notebooks emptied, run the same way.

Both packs go through ``daanalysis.pack.report.run_report`` (the one load, the warm process that
kernels are forked from, papermill, HTML export, the front page, the move into place), so the
ratio isolates what the analysis itself costs over the fixed cost of a pack: the "empty floor".
Each is then run again through the command line, which a scheduled run uses and which also
pays its own start. Each run's own ``run.log`` times its stages, so the warm process's imports,
kernel start-up and the notebooks are reported separately. Timings
on a shared machine vary; the ratio, measured in one process in one session, is what to compare
between versions. Target (issue 11): at most 2.0x the floor, aiming for 1.3x.

    python benchmarks/bench_report.py [--repeat 3]

Writes ``benchmarks/results/report.csv`` (ignored by git) and prints a table and the ratio.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

from daanalysis.pack.report import NOTEBOOK_DIR, run_report

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
TIMING = re.compile(r"timing: (.+) ([\d.]+) s$")


def empty_notebooks(folder: Path) -> Path:
    """Notebooks with the same names, metadata and parameters cell as the real ones, and nothing
    else: the pack's fixed cost (kernels, papermill, export, front page) without the analysis."""
    for source in NOTEBOOK_DIR.glob("*.ipynb"):
        real = nbformat.read(source, as_version=4)
        params = next(c for c in real.cells if "parameters" in c.metadata.get("tags", []))
        nb = nbformat.v4.new_notebook(cells=[params], metadata=real.metadata)
        nbformat.write(nb, folder / source.name)
    return folder


def stages(run_log: Path) -> dict[str, float]:
    """Seconds per stage from a run's ``run.log`` (kernel starts and page exports summed; the
    exports overlap the notebooks that are still running)."""
    found: dict[str, float] = {"kernels started": 0}
    for line in run_log.read_text().splitlines():
        match = TIMING.search(line)
        if match:
            name, seconds = match.group(1), float(match.group(2))
            found[name] = found.get(name, 0.0) + seconds
            found["kernels started"] += name == "kernel start"
    return found


def timed(notebooks: Path, out: Path) -> dict[str, float]:
    """One pack through ``run_report`` in this process, then through the command line (which
    also pays its own start and imports, overlapped with the warm process's)."""
    started = time.perf_counter()
    final = run_report(SAMPLE, out, quarter="latest", notebook_dir=notebooks)
    total = time.perf_counter() - started
    command = [sys.executable, "-m", "daanalysis", "report", "--data", str(SAMPLE)]
    command += ["--out", str(out), "--notebooks", str(notebooks)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    line = time.perf_counter() - started
    return {"total": total, "command line": line, **stages(final / "analysts" / "run.log")}


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
                rows.append({"run": i, "pack": name, **timed(folder, tmp / f"out-{name}")})
    results = pd.DataFrame(rows)
    medians = results.drop(columns="run").groupby("pack").median().T
    medians["full / empty"] = medians["full"] / medians["empty"]
    ratio = medians.loc["total", "full / empty"]
    line_ratio = medians.loc["command line", "full / empty"]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    results.assign(ratio_full_to_empty=ratio).to_csv(out / "report.csv", index=False)
    print(f"Seconds per stage, median of {args.repeat} runs of each pack (kernel start: summed)")
    print(medians.round(2).to_string())
    print(f"full pack / empty notebooks: {ratio:.2f}x (target at most 2.0x, aim 1.3x)")
    print(f"the same through the command line: {line_ratio:.2f}x")


if __name__ == "__main__":
    main()
