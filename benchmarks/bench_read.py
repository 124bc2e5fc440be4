"""Benchmark: reading one large CSV file to raw text columns (``daanalysis.ingest.read.read_raw``)
with Arrow (``pd.read_csv(engine="pyarrow")``) against pandas' C parser, the baseline measured
in the same run.

The sample's ``referrals.csv`` is replicated to ``--rows`` rows (1M) as ``bench_records.py`` does,
saved in Windows-1252 (as many exports are) and in UTF-8. Each reader reads each file
``--repeat`` times (3), the two alternating so that a busy machine slows both alike; the median
is shown, with the ratio C parser / Arrow (above 1: Arrow faster). Both must give the same frame.

    python benchmarks/bench_read.py [--rows 1000000] [--repeat 3]

Writes ``benchmarks/results/read.csv`` (ignored by git).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_records import ROOT, make_extract  # noqa: E402 - the same extract as that benchmark

from daanalysis.ingest import read  # noqa: E402


def read_by_c(path: Path) -> pd.DataFrame:
    """``read_raw`` with every CSV file sent to pandas' C parser."""
    arrow = read._read_csv_arrow
    read._read_csv_arrow = lambda path: None
    try:
        return read.read_raw(path)
    finally:
        read._read_csv_arrow = arrow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cp1252 = make_extract(args.rows, Path(tmp) / "extract") / "referrals.csv"
        utf8 = Path(tmp) / "referrals-utf8.csv"
        utf8.write_text(cp1252.read_text(encoding="cp1252"), encoding="utf-8")
        for encoding, path in (("cp1252", cp1252), ("utf-8", utf8)):
            assert read._read_csv_arrow(path) is not None, "the file did not take Arrow's route"
            pd.testing.assert_frame_equal(read.read_raw(path), read_by_c(path))
            times: dict[str, list[float]] = {"arrow": [], "c": []}
            for _ in range(args.repeat):
                for name, reader in (("arrow", read.read_raw), ("c", read_by_c)):
                    started = time.perf_counter()
                    reader(path)
                    times[name].append(time.perf_counter() - started)
            arrow, c = (statistics.median(times[k]) for k in ("arrow", "c"))
            rows.append(
                {
                    "rows": args.rows,
                    "encoding": encoding,
                    "arrow_s": arrow,
                    "c_s": c,
                    "c_over_arrow": c / arrow,
                }
            )
            print(
                f"{encoding}: Arrow {arrow:.2f} s, C parser {c:.2f} s, C / Arrow {c / arrow:.2f}",
                flush=True,
            )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out / "read.csv", index=False)


if __name__ == "__main__":
    main()
