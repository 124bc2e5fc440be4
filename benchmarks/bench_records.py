"""Benchmark: the record-level path (files -> panel -> metrics) at 100k, 1M and 5M referrals.

The sample's ``referrals.csv`` is replicated with new referral and client ids to each size (the
other sample tables copied beside it) in a temporary folder. Each size runs twice, each run in its
own Python process so that its peak memory (``resource.getrusage`` max RSS) is its own:

- today's path: ``load_extract`` (read, validate, clean), ``build_panel`` and the headline metrics
  (volumes, rates, repeat rate, caseload per FTE, response KPI), timed stage by stage with the peak
  memory after each stage;
- version 1's path, the baseline measured in the same run: ``benchmarks/load_v1.py`` (a frozen
  copy of version 1's load and clean) and version 1's record-level panel
  (``benchmarks/panel_v1.py``) under the same ``build_panel`` and metrics.

Both runs write a fingerprint of their cleaned tables, ledger and panel, and the two must match:
the speed is not bought with a different answer. Today's run also times the two record-level
panels on its own extract, one after the other, after its peak memory has been read.

    python benchmarks/bench_records.py [--sizes 100000 1000000] [--big] [--no-v1] [--repeat 3]

``--big`` adds 5M rows: version 1 alone takes about 5 minutes and 4.7 GiB there (Nov 2026, 2
cores), today's path well under a minute. ``--no-v1`` skips version 1 (no ratios, no check).
Today's path runs ``--repeat`` times (3) per size and the run with the median total is shown;
version 1 runs once.
Prints a table, the linearity ratio (time at 5M / time at 1M; at most 6 wanted for 5 times the
rows) and ratios against version 1, and writes ``benchmarks/results/records.csv`` (ignored by git).
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
    """Run in a fresh process: time files -> panel -> metrics with today's path or version 1's."""
    import warnings

    warnings.simplefilter("ignore")
    import pandas as pd
    import panel_v1

    from daanalysis import panel
    from daanalysis.ingest.load import load_extract
    from daanalysis.metrics import demand, staffing

    if version == "v1":
        import load_v1

        load_extract = load_v1.load_extract  # noqa: F811 - version 1's, for the baseline
        panel.panel_from_records = panel_v1.panel_from_records_v1

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
        # Both record-level panels on the same extract, same process, after the peak was read.
        referrals = extract["referrals"]
        started = time.perf_counter()
        old = panel_v1.panel_from_records_v1(referrals)
        result["panel_records_v1_s"] = time.perf_counter() - started
        started = time.perf_counter()
        new = panel.panel_from_records(referrals)
        result["panel_records_s"] = time.perf_counter() - started
        pd.testing.assert_frame_equal(new, old)
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
    parser.add_argument("--no-v1", action="store_true", help="skip version 1's baseline")
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
            if not args.no_v1:
                old = _run(folder, "v1")
                row |= {f"v1_{k}": v for k, v in old.items() if k != "fingerprint"}
                row["identical_to_v1"] = old["fingerprint"] == row["fingerprint"]
            rows.append(row)
            shutil.rmtree(folder)
            print(f"{size:>10,} rows done: {row['total_s']:.1f}s", flush=True)
    table = pd.DataFrame(rows).drop(columns="fingerprint")
    table["panel_speedup_vs_v1"] = table["panel_records_v1_s"] / table["panel_records_s"]
    if not args.no_v1:
        table["speedup_vs_v1"] = table["v1_total_s"] / table["total_s"]
        table["memory_vs_v1"] = table["peak_mib"] / table["v1_peak_mib"]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "records.csv", index=False)
    _report(table, args.no_v1)


def _report(table, no_v1: bool) -> None:
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
    if not no_v1:
        shown["v1 load s"] = table["v1_load_s"]
        shown["v1 total s"] = table["v1_total_s"]
        shown["v1 peak MiB"] = table["v1_peak_mib"]
        shown["x faster"] = table["speedup_vs_v1"]
        shown["x memory"] = table["memory_vs_v1"]
        shown["same result"] = table["identical_to_v1"]
    shown["panel x faster"] = table["panel_speedup_vs_v1"]
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(
        "seconds: load (read, validate, clean), panel (build_panel), metrics; peak MiB: max RSS of "
        "the process (after load, and overall); v1: version 1's path (load_v1, panel_v1) on the "
        "same extract in its own process; x faster: v1 total / total; x memory: peak / v1 peak; "
        "same result: cleaned tables, ledger and panel hash equal; panel x faster: version 1's "
        "record-level panel against today's on the same extract, same process"
    )
    print("targets: 1M rows under 5 s and under 1 GiB; 5M / 1M time at most 6")
    by_size = table.set_index("size")
    if 1_000_000 in by_size.index and by_size.index.max() > 1_000_000:
        top = by_size.index.max()
        columns = ["total_s", "load_s", "panel_s", "panel_records_s"]
        if not no_v1:
            columns += ["v1_total_s"]
        for col in columns:
            ratio = by_size.at[top, col] / by_size.at[1_000_000, col]
            print(
                f"linearity {col.removesuffix('_s')}: {top // 1_000_000}M / 1M time = {ratio:.2f} "
                f"(rows x{top / 1_000_000:.0f}; at most 6 wanted)"
            )


if __name__ == "__main__":
    main()
