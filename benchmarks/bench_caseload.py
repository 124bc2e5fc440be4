"""Benchmark: open caseload at month ends, vectorised (opens minus closes, cumulated) against the
obvious per-month scan of every case, on a large synthetic extract.

    python benchmarks/bench_caseload.py [--cases 200000] [--repeat 5]

Prints the median time of each and their ratio, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from daanalysis.panel import open_caseload


def extract(cases: int, seed: int = 1) -> tuple[pd.Series, pd.Series, pd.PeriodIndex]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-04-01")
    opened = start + pd.to_timedelta(rng.integers(0, 10 * 365, cases), unit="D")
    length = pd.to_timedelta(rng.gamma(2.0, 53.0, cases).astype(int), unit="D")
    closed = pd.Series(opened + length).where(rng.random(cases) > 0.05)
    months = pd.period_range("2015-04", "2025-03", freq="M")
    return pd.Series(opened), closed, months


def scan(opened: pd.Series, closed: pd.Series, months: pd.PeriodIndex) -> pd.Series:
    """Baseline: for each month end, count the cases open then."""
    out = []
    for month in months:
        end = month.end_time.normalize()
        out.append(float(((opened <= end) & ~(closed <= end)).sum()))
    return pd.Series(out, index=months)


def best_of(func, repeat: int, *args) -> tuple[float, pd.Series]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    opened, closed, months = extract(args.cases)
    t_scan, expected = best_of(scan, args.repeat, opened, closed, months)
    t_vec, got = best_of(open_caseload, args.repeat, opened, closed, months)
    pd.testing.assert_series_equal(got, expected, check_names=False, check_freq=False)
    print(f"{args.cases:,} cases, {len(months)} month ends")
    print(f"per-month scan: {t_scan * 1000:.1f} ms   vectorised: {t_vec * 1000:.1f} ms")
    print(
        f"vectorised is {t_scan / t_vec:.1f}x faster than the scan (same run, median of "
        f"{args.repeat})"
    )


if __name__ == "__main__":
    main()
