"""Benchmark: a multi-area ``daanalysis report`` over 1, 20 and 100 synthetic areas.

Each area is the synthetic sample borough at volume scale 1
(``daanalysis.synthetic.sample.write_sample`` with ``areas={"Area 001": 1.0, ...}``, a new seed
per area, and the sample's hand-written action plan for the one partnership page), so every area
has the same work and a run that scales linearly costs the same per area at every size, less its
fixed costs. Data generation is not timed.

Each size is one ``daanalysis report`` command, as a scheduler starts it, in its own process
tree. Measured for each:

* ``wall_s``: start to exit; ``cpu_s``: user + system processor time of the whole tree (the
  command, its warm process and every kernel, from ``os.wait4``). On a shared machine the wall
  time depends on what else runs; the processor time much less, so both are reported, with the
  machine's load average over the run (``load_1m``, from ``/proc/loadavg``);
* ``peak_rss_mib``: the largest sum of resident memory over the process tree, sampled every
  0.2 s from ``/proc`` (pages a forked kernel shares with the process it was forked from are
  counted in each, so this overstates); ``peak_pss_mib``: the same with each shared page
  divided between the processes sharing it (``smaps_rollup``), which sums to what the run
  really holds; ``max_rss_mib``: the largest single process (``ru_maxrss``);
* from the run's ``run.log``: the load and checks (``load_s``), the notebooks (``notebooks_s``),
  the front page and spreadsheet (``front_s``), each notebook's mean time by notebook
  (``nb_<name>_s``), the comparison page (``nb_area_comparison_s``), the pages' export
  (``export_s``, summed), each page's worksheets made ready as it is exported
  (``prepare_sheets_s``, summed) and the kernels' start (``kernel_start_s``, summed).

Ratios, measured in the same run against its own baselines: per-area wall and processor time at
each size against one area (1.0 is linear, below it the fixed costs being shared), and 100 areas
against 20 (the target: at most 5, i.e. 100 / 20 areas in 5 times the time). No timing is
asserted anywhere.

    python benchmarks/bench_areas.py [--areas 1 20 100] [--workers 2]

About 20-40 minutes on 2 shared cores (most of it the 100-area run and its data). Prints a table
and the ratios and writes ``benchmarks/results/areas.csv`` (ignored by git).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

from daanalysis.synthetic.sample import write_sample

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SIZES = [1, 20, 100]
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ (.*)$")
DONE = re.compile(r"\] (\S+): done in ([\d.]+)s$")
NOTEBOOKS = sorted((p.stem for p in (ROOT / "notebooks").glob("*.ipynb")), key=len, reverse=True)


def make_areas(n: int, folder: Path) -> Path:
    """Sample data for ``n`` areas of the same size (the sample borough's volumes each)."""
    write_sample(folder, areas={f"Area {i:03d}": 1.0 for i in range(1, n + 1)})
    # The action plan is written by hand, not generated: the sample's, for the partnership page.
    shutil.copy2(SAMPLE / "action_plan.csv", folder / "action_plan.csv")
    return folder


def _tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _memory_kib(pid: int) -> tuple[int, int]:
    """Resident and proportional set size of one process, in KiB (0, 0 once it has gone)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeMemory(threading.Thread):
    """Samples the process tree's memory until stopped; keeps the peaks, in MiB."""

    def __init__(self, root: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.peak_rss = self.peak_pss = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            sizes = [_memory_kib(pid) for pid in _tree(self.root)]
            self.peak_rss = max(self.peak_rss, sum(r for r, _ in sizes) / 1024)
            self.peak_pss = max(self.peak_pss, sum(p for _, p in sizes) / 1024)
            self.done.wait(self.every)


def _load_average() -> float:
    with open("/proc/loadavg", encoding="ascii") as handle:
        return float(handle.read().split()[0])


def split_log(run_log: Path) -> dict[str, float]:
    """Stages of a run from its ``run.log`` (its ``timing:`` lines and each notebook's time)."""
    row: dict[str, float] = {}
    per_notebook: dict[str, list[float]] = {}
    for line in run_log.read_text(encoding="utf-8").splitlines():
        found = STAMP.match(line)
        if not found:
            continue
        message = found[2]
        if message.startswith("timing: "):
            stage, seconds = message.removeprefix("timing: ").rsplit(" ", 2)[:2]
            key = {
                "load, check and prepare the data once": "load_s",
                "alerts and officer lists": "alerts_s",
                "notebooks, each page exported when done": "notebooks_s",
                "front page, glossary and downloads": "front_s",
                "export page": "export_s",
                "prepare sheets": "prepare_sheets_s",
                "kernel start": "kernel_start_s",
            }.get(stage)
            if key in ("export_s", "prepare_sheets_s", "kernel_start_s"):
                row[key] = row.get(key, 0.0) + float(seconds)
            elif key:
                row[key] = float(seconds)
        done = DONE.search(message)
        if done:  # a page's name is its area's slug, "_", and its notebook's name
            name = next((nb for nb in NOTEBOOKS if done[1].endswith(nb)), done[1])
            per_notebook.setdefault(name, []).append(float(done[2]))
    for name, seconds in per_notebook.items():
        row[f"nb_{name}_s"] = sum(seconds) / len(seconds)
    return row


def one_size(n: int, data: Path, out: Path, workers: int) -> dict:
    """One ``daanalysis report`` over every area of ``data``: time, processor time, memory."""
    command = [
        sys.executable, "-m", "daanalysis", "report", "--data", str(data), "--out", str(out),
        "--quarter", "latest", "--workers", str(workers),
    ]  # fmt: skip
    load_before = _load_average()
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = TreeMemory(proc.pid)
    memory.start()
    # wait4: the exit status and the processor time of the command and every descendant it
    # (or they) waited for: the warm process and each kernel.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    memory.done.set()
    memory.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 3):  # 3: an alert fired, the pack was written
        raise RuntimeError(f"{n} areas: exit {proc.returncode}\n{errors[-2000:]}")
    row = {
        "areas": n,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": memory.peak_rss,
        "peak_pss_mib": memory.peak_pss,
        "max_rss_mib": usage.ru_maxrss / 1024,
        "load_1m": (load_before + _load_average()) / 2,
    }
    logs = sorted(out.glob("*/analysts/run.log"))
    if logs:
        row.update(split_log(logs[-1]))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, nargs="+", default=SIZES)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the generated data here (reused if there)")
    args = parser.parse_args()
    sizes = sorted(set(args.areas))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in sizes:
            folder = (args.keep or tmp) / f"data-{n}"
            if not (folder / "VINTAGE").exists():
                make_areas(n, folder)
            rows.append(one_size(n, folder, tmp / f"out-{n}", args.workers))
            row = rows[-1]
            print(
                f"{n:>4} area(s): {row['wall_s']:.1f}s wall, {row['cpu_s']:.1f}s CPU, "
                f"peak {row['peak_pss_mib']:.0f} MiB (PSS), load {row['load_1m']:.1f}",
                flush=True,
            )
    table = pd.DataFrame(rows).set_index("areas")
    base = sizes[0]
    for col in ("wall_s", "cpu_s"):
        per_area = table[col] / table.index
        table[f"{col[:-2]}_per_area_s"] = per_area
        table[f"{col[:-2]}_per_area_vs_{base}"] = per_area / per_area.loc[base]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    table.assign(measured=stamp, cores=os.cpu_count()).to_csv(out / "areas.csv")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(table.T.to_string(float_format=lambda x: f"{x:.2f}"))
    print(
        f"seconds and MiB; {os.cpu_count()} cores; load_1m: the machine's 1-minute load average "
        "over the run (above the number of cores: other work was competing)"
    )
    for top, low in ((100, 20), (sizes[-1], base)):
        if top in table.index and low in table.index and top != low:
            for col in ("wall_s", "cpu_s"):
                print(
                    f"{col[:-2]} {top} / {low} areas: {table.at[top, col] / table.at[low, col]:.2f}"
                    f" (linear: {top / low:g}; the target for 100 / 20 is at most 5)"
                )


if __name__ == "__main__":
    main()
