"""Benchmark: the demand verdict on the sample, against loading the extract alone.

``daanalysis verdict`` loads the extract, builds the panel and fits the controlled model with its
placebo check. The baseline, measured in the same run, is load + panel alone, so the ratio says
what the verdict adds on top of reading the data.

    python benchmarks/bench_verdict.py [--repeat 5]
    python benchmarks/bench_verdict.py --areas 300 [--data DIR] [--compare-tree DIR]

``--areas N`` (issue 22: 300 areas in under 60 s on a quiet 2-core machine) times the command
itself, ``daanalysis verdict --format json``, on an extract of N generated areas (the sample
generator, a new seed per area; written to ``benchmarks/results/verdict-areas-N`` once, or read
from ``--data``), in a process of its own as a user runs it: wall time and processor time (its
worker processes included). The baseline, in the same run, is the same extract loaded and
checked alone (``daanalysis.selection.select``, what the command does before any verdict), so
the ratio and the difference are what the verdicts add. ``--compare-tree DIR`` also times the
load alone and the command from another copy of the package (e.g. ``git archive <commit>``
unpacked in DIR), for before/after ratios in the same run. The load average at the start and
the end is printed: on a shared machine the wall time says little, the processor time more.
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


LOAD_ONLY = (
    "import sys, warnings; warnings.simplefilter('ignore'); from pathlib import Path; "
    "from daanalysis.selection import select; select(Path(sys.argv[1]), [], '')"
)
VERDICT = (
    "import sys; from daanalysis.cli import main; "
    "sys.exit(main(['verdict', '--data', sys.argv[1], '--format', 'json']))"
)


def timed(code: str, data: Path, tree: Path | None = None) -> tuple[float, float]:
    """Wall and processor seconds (children included) of ``python -c code data``."""
    import os
    import resource
    import subprocess
    import sys

    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Run in the tree's folder: ``python -c`` puts the working folder first on sys.path, so a
    # daanalysis/ there would be imported whatever PYTHONPATH says.
    subprocess.run(
        [sys.executable, "-c", code, str(data)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=tree if tree is not None else ROOT,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def many_areas(args: argparse.Namespace) -> None:
    import os

    data = args.data or ROOT / "benchmarks" / "results" / f"verdict-areas-{args.areas}"
    if not (data / "referrals.csv").exists():
        from daanalysis.synthetic.sample import write_sample

        write_sample(data, areas={f"Area {i:03d}": 1.0 for i in range(1, args.areas + 1)})
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    runs = [("load and checks alone", LOAD_ONLY, None), ("daanalysis verdict", VERDICT, None)]
    if args.compare_tree:
        runs.append(
            (f"load and checks alone from {args.compare_tree}", LOAD_ONLY, args.compare_tree)
        )
        runs.append((f"daanalysis verdict from {args.compare_tree}", VERDICT, args.compare_tree))
    results = {}
    for name, code, tree in runs:  # each said as it finishes: a long run stopped keeps them
        results[name] = wall, cpu = timed(code, data, tree)
        line = f"{name:>50}: wall {wall:6.1f}s, processor {cpu:6.1f}s ({args.areas} areas)"
        print(line, flush=True)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    load_wall, load_cpu = results["load and checks alone"]
    wall, cpu = results["daanalysis verdict"]
    print(
        f"verdict / load alone: wall {wall / load_wall:.2f}x, processor {cpu / load_cpu:.2f}x; "
        f"the verdicts add {cpu - load_cpu:.1f}s of processor time, "
        f"{(cpu - load_cpu) / args.areas:.3f}s an area"
    )
    if args.compare_tree:
        old_load_wall, old_load_cpu = results[f"load and checks alone from {args.compare_tree}"]
        print(
            f"other tree / this one, load and checks alone: wall {old_load_wall / load_wall:.2f}x, "
            f"processor {old_load_cpu / load_cpu:.2f}x"
        )
        old_wall, old_cpu = results[f"daanalysis verdict from {args.compare_tree}"]
        print(
            f"other tree / this one: wall {old_wall / wall:.2f}x, processor {old_cpu / cpu:.2f}x; "
            f"verdicts alone (less each tree's load) "
            f"{(old_cpu - old_load_cpu) / (cpu - load_cpu):.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--areas", type=int, default=0, help="time the command on N areas")
    parser.add_argument("--data", type=Path, help="an extract of --areas areas to reuse")
    parser.add_argument("--compare-tree", type=Path, help="another copy of the package")
    args = parser.parse_args()
    if args.areas:
        many_areas(args)
        return
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
