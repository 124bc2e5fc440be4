"""Benchmark: the record-level path (files -> panel -> metrics) at 100k, 1M and 5M referrals.

The sample's ``referrals.csv`` is replicated with new referral and client ids to each size (the
other sample tables copied beside it) in a temporary folder. Each size runs in its own Python
process, so its peak memory (``resource.getrusage`` max RSS, read before anything else runs) is its
own. The stages timed are ``load_extract`` (read, validate, clean), ``build_panel`` and the
headline metrics (volumes, rates, repeat rate, caseload per FTE, response KPI).

The baseline, measured in the same run and the same process on the same loaded extract, is
version 1's record-level panel (``benchmarks/panel_v1.py``, a frozen copy), timed after the peak
memory has been read; the two panels are checked equal at every size.

    python benchmarks/bench_records.py [--sizes 100000 1000000] [--big]

``--big`` adds 5M rows: about 5 minutes and 4.6 GiB peak on 2 cores (Nov 2026, nearly all of it
in ``load_extract``), on top of about 1 minute for the default sizes.
Prints a table, the linearity ratio (time at the largest size / time at 1M, per row count
ratio) and writes ``benchmarks/results/records.csv`` (ignored by git).
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


def worker(data_dir: Path) -> dict:
    """Run in a fresh process: time files -> panel -> metrics, then version 1's panel."""
    import resource
    import warnings

    warnings.simplefilter("ignore")
    import pandas as pd
    import panel_v1

    from daanalysis import demand, staffing
    from daanalysis.load import load_extract
    from daanalysis.panel import area_panel, build_panel, complete_quarters, panel_from_records

    times = {}
    started = time.perf_counter()
    extract = load_extract(data_dir)
    times["load"] = time.perf_counter() - started
    started = time.perf_counter()
    panel = build_panel(extract)
    times["panel"] = time.perf_counter() - started
    started = time.perf_counter()
    one = area_panel(panel, None)
    quarter = complete_quarters(one)[-1]
    demand.volumes(one, quarter)
    demand.rates(one, quarter, extract.config)
    demand.repeat_rate(one)
    staffing.caseload_per_fte(one, extract.config)
    staffing.response_kpi(extract["referrals"], extract.config)
    times["metrics"] = time.perf_counter() - started
    times["total"] = times["load"] + times["panel"] + times["metrics"]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    referrals = extract["referrals"]
    # The baseline: version 1's record-level panel on the same extract, after the peak was read.
    started = time.perf_counter()
    old = panel_v1.panel_from_records_v1(referrals)
    times["panel_records_v1"] = time.perf_counter() - started
    started = time.perf_counter()
    new = panel_from_records(referrals)
    times["panel_records"] = time.perf_counter() - started
    pd.testing.assert_frame_equal(new, old)
    return {"rows": len(referrals), **times, "peak_mib": peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--big", action="store_true", help=f"add {BIG:,} rows (minutes)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    import pandas as pd

    sizes = sorted(set(args.sizes + ([BIG] if args.big else [])))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            folder = make_extract(size, Path(tmp) / str(size))
            done = subprocess.run(
                [sys.executable, __file__, "--worker", str(folder)],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                sys.exit(f"{size:,} rows failed:\n{done.stderr}")
            rows.append({"size": size, **json.loads(done.stdout.splitlines()[-1])})
            shutil.rmtree(folder)
            print(f"{size:>10,} rows done: {rows[-1]['total']:.1f}s", flush=True)
    table = pd.DataFrame(rows)
    table["panel_speedup_vs_v1"] = table["panel_records_v1"] / table["panel_records"]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "records.csv", index=False)
    shown = table.drop(columns="size").rename(columns={"rows": "referrals kept"})
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(
        "seconds: load (read, validate, clean), panel (build_panel), metrics; peak_mib: max RSS of "
        "the process; panel_records_v1 / panel_records: version 1's record-level panel against "
        "today's on the same extract, same process"
    )
    by_size = table.set_index("size")
    if 1_000_000 in by_size.index and len(by_size) > 1 and by_size.index.max() > 1_000_000:
        top = by_size.index.max()
        for col in ("total", "panel_records", "panel_records_v1"):
            ratio = by_size.at[top, col] / by_size.at[1_000_000, col]
            print(
                f"linearity {col}: {top // 1_000_000}M / 1M time = {ratio:.2f} "
                f"(rows x{top / 1_000_000:.0f}; at most 6 wanted)"
            )


if __name__ == "__main__":
    main()
