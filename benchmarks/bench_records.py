"""Benchmark: the record-level path (files -> panel -> metrics) at 100k, 1M and 5M referrals.

The sample's ``referrals.csv`` is replicated with new referral and client ids to each size (the
other sample tables copied beside it) in a temporary folder. Each size runs twice, each run in its
own Python process so that its peak memory (``resource.getrusage`` max RSS) is its own:

- today's path: ``load_extract`` (read, validate, clean), ``build_panel`` and the headline metrics
  (volumes, rates, repeat rate, caseload per FTE, response KPI), timed stage by stage with the peak
  memory after each stage;
- the baseline measured in the same run: the same path with pandas' C parser reading the CSV
  files instead of Arrow (``pd.read_csv(engine="pyarrow")``), as for a file Arrow cannot read.

Both runs write a fingerprint of their cleaned tables, ledger and panel, and the two must match:
the speed is not bought with a different answer. (Version 1's path, the baseline until December
2026, took 22.8 s for 1M rows against 3.8 s; its frozen copy was replaced by stored reference
results, ``tests/golden.py``.)

    python benchmarks/bench_records.py [--sizes 100000 1000000] [--big] [--no-c] [--repeat 3]

``--big`` adds 5M rows. ``--no-c`` skips the C parser's run (no ratios, no check). Today's path
runs ``--repeat`` times (3) per size and the run with the median total is shown; the C parser's
once. Prints a table, the linearity ratio (time at 5M / time at 1M; at most 6 wanted for 5 times
the rows) and ratios against the C parser's run, and writes ``benchmarks/results/records.csv``
(ignored by git).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SIZES = [100_000, 1_000_000]
BIG = 5_000_000
SALT = b"bench-records"


def make_extract(rows: int, folder: Path) -> Path:
    """The sample with its referrals replicated to ``rows`` rows under new ids."""
    import numpy as np
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    for path in SAMPLE.iterdir():
        if path.is_file() and path.name != "referrals.csv":
            shutil.copy2(path, folder / path.name)
    # The sample is cp1252, as many Windows exports are: the copies keep that (and its cost).
    raw = pd.read_csv(SAMPLE / "referrals.csv", dtype=str, keep_default_na=False, encoding="cp1252")
    copies = math.ceil(rows / len(raw))
    big = pd.concat([raw] * copies, ignore_index=True).iloc[:rows]
    copy = pd.Series(np.repeat(np.arange(copies), len(raw))[:rows]).astype(str)
    big["referral_id"] = "R" + pd.Series(np.arange(1, rows + 1)).astype(str).str.zfill(9)
    # Each copy is a new set of clients, so repeats and duplicates stay what the sample has.
    big["client_id"] = big["client_id"].where(big["client_id"] == "", big["client_id"] + "-" + copy)
    big.to_csv(folder / "referrals.csv", index=False, encoding="cp1252")
    # The area is as many times larger as there are copies, so that referrals per adult stay the
    # sample's (the loader refuses an extract with more referrals a year than 5% of the adults).
    population = pd.read_csv(SAMPLE / "population.csv")
    for col in ("females_16plus", "males_16plus"):
        population[col] = population[col] * copies
    population.to_csv(folder / "population.csv", index=False)
    return folder


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fingerprint(extract, panel) -> str:
    """A hash of every cleaned table, the ledger and the panel (values, columns and dtypes)."""
    import hashlib

    import pandas as pd

    digest = hashlib.sha256()
    frames = [*(extract.tables[name] for name in sorted(extract.tables)), extract.ledger, panel]
    for frame in frames:
        digest.update(repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode())
        hashed = pd.util.hash_pandas_object(frame.astype(object), index=True)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()


def worker(data_dir: Path, version: str) -> dict:
    """Run in a fresh process: time files -> panel -> metrics, with CSV files read by Arrow
    (``version`` "new") or by pandas' C parser ("c")."""
    import warnings

    warnings.simplefilter("ignore")

    from daanalysis import panel
    from daanalysis.ingest import read
    from daanalysis.ingest.load import load_extract
    from daanalysis.metrics import demand, staffing

    if version == "c":
        read._read_csv_arrow = lambda path: None  # every file to the C parser: the baseline

    times, peaks = {}, {}
    started = time.perf_counter()
    extract = load_extract(data_dir, salt=SALT)
    times["load"], peaks["load"] = time.perf_counter() - started, _peak_mib()
    started = time.perf_counter()
    built = panel.build_panel(extract)
    times["panel"], peaks["panel"] = time.perf_counter() - started, _peak_mib()
    started = time.perf_counter()
    one = panel.area_panel(built, None)
    quarter = panel.complete_quarters(one)[-1]
    demand.volumes(one, quarter)
    demand.rates(one, quarter, extract.config)
    demand.repeat_rate(one)
    staffing.caseload_per_fte(one, extract.config)
    staffing.response_kpi(extract["referrals"], extract.config)
    times["metrics"], peaks["metrics"] = time.perf_counter() - started, _peak_mib()
    times["total"] = times["load"] + times["panel"] + times["metrics"]
    result = {
        "rows_kept": len(extract["referrals"]),
        **{f"{k}_s": v for k, v in times.items()},
        **{f"peak_after_{k}_mib": v for k, v in peaks.items()},
        "peak_mib": _peak_mib(),
        "fingerprint": fingerprint(extract, built),
    }
    if version == "new":
        # The record-level panel alone, after the peak was read (for its linearity).
        started = time.perf_counter()
        panel.panel_from_records(extract["referrals"])
        result["panel_records_s"] = time.perf_counter() - started
    return result


def _total(result: dict) -> float:
    return result["total_s"]


def _run(folder: Path, version: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(folder), "--version", version],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"{folder.name} rows, {version}, failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--big", action="store_true", help=f"add {BIG:,} rows (minutes)")
    parser.add_argument("--no-c", action="store_true", help="skip the C parser's baseline")
    parser.add_argument("--repeat", type=int, default=3, help="runs of today's path (median)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--version", default="new", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.version)))
        return
    import pandas as pd

    sizes = sorted(set(args.sizes + ([BIG] if args.big else [])))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            folder = make_extract(size, Path(tmp) / str(size))
            # Today's path is quick: the median of a few runs, which a busy machine moves less.
            runs = sorted((_run(folder, "new") for _ in range(args.repeat)), key=_total)
            row = {"size": size, **runs[len(runs) // 2], "runs": args.repeat}
            if not args.no_c:
                old = _run(folder, "c")
                row |= {f"c_{k}": v for k, v in old.items() if k != "fingerprint"}
                row["identical_to_c"] = old["fingerprint"] == row["fingerprint"]
            rows.append(row)
            shutil.rmtree(folder)
            print(f"{size:>10,} rows done: {row['total_s']:.1f}s", flush=True)
    table = pd.DataFrame(rows).drop(columns="fingerprint")
    if not args.no_c:
        table["load_speedup_vs_c"] = table["c_load_s"] / table["load_s"]
        table["memory_vs_c"] = table["peak_mib"] / table["c_peak_mib"]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "records.csv", index=False)
    _report(table, args.no_c)


def _report(table, no_c: bool) -> None:
    import pandas as pd

    shown = pd.DataFrame(
        {
            "rows": table["size"].map("{:,}".format),
            "load s": table["load_s"],
            "panel s": table["panel_s"],
            "metrics s": table["metrics_s"],
            "total s": table["total_s"],
            "peak MiB (load)": table["peak_after_load_mib"],
            "peak MiB": table["peak_mib"],
        }
    )
    if not no_c:
        shown["C load s"] = table["c_load_s"]
        shown["C peak MiB"] = table["c_peak_mib"]
        shown["load x faster"] = table["load_speedup_vs_c"]
        shown["x memory"] = table["memory_vs_c"]
        shown["same result"] = table["identical_to_c"]
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(
        "seconds: load (read, validate, clean), panel (build_panel), metrics; peak MiB: max RSS of "
        "the process (after load, and overall); C: the same path with pandas' C parser reading "
        "the CSV files, in its own process on the same extract; load x faster: C load / load; x "
        "memory: peak / C peak; same result: cleaned tables, ledger and panel hash equal"
    )
    print("targets: 1M rows under 5 s and under 1 GiB; 5M / 1M time at most 6")
    by_size = table.set_index("size")
    if 1_000_000 in by_size.index and by_size.index.max() > 1_000_000:
        top = by_size.index.max()
        columns = ["total_s", "load_s", "panel_s", "panel_records_s"]
        if not no_c:
            columns += ["c_total_s"]
        for col in columns:
            ratio = by_size.at[top, col] / by_size.at[1_000_000, col]
            print(
                f"linearity {col.removesuffix('_s')}: {top // 1_000_000}M / 1M time = {ratio:.2f} "
                f"(rows x{top / 1_000_000:.0f}; at most 6 wanted)"
            )


if __name__ == "__main__":
    main()
