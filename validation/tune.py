"""Choices made by measurement, on the tuning seeds only (below ``simulate.REPORT_SEED``).

    python validation/tune.py --councils 60 --ramp 0 6    # the campaign step's shape
    python validation/tune.py --corroboration 0.05 0.10  # the corroboration's interval
    python validation/tune.py --alternative 0 12         # the ramp a claim may rest on too

Each option is run on the same councils (seeds ``--seed`` ..), and the claim rate, coverage
and inconclusive share per scenario printed with Monte Carlo errors. The study that is reported
(``validation/run.py``) uses fresh seeds from ``simulate.REPORT_SEED``.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from daanalysis.metrics import demand, its
from daanalysis.synthetic import simulate

SCENARIOS = (
    "null",
    "reporting",
    "reporting_ramp",
    "reporting_quarterly",
    "reporting_overdispersed",
    "need_step",
    "police_recording_down",
    "short_pre_period",
    "service_need_down",
    "null_quarterly",
)


def _set(
    ramp: int, corroboration: float, bias: float, calibrate: float, phase_in: int, alternative: int
) -> None:
    demand.RAMP_ALTERNATIVE_MONTHS = alternative
    its.RAMP_MONTHS = ramp
    its.TRANSITION_MONTHS = phase_in
    its.RESIDUAL_BIAS = bias
    demand.CORROBORATION_ALPHA = corroboration
    demand.PLACEBO_WIDEN_ABOVE = calibrate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--ramp", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--corroboration", type=float, nargs="+", default=[demand.CORROBORATION_ALPHA]
    )
    parser.add_argument("--bias", type=float, nargs="+", default=[its.RESIDUAL_BIAS])
    parser.add_argument("--calibrate", type=float, nargs="+", default=[demand.PLACEBO_WIDEN_ABOVE])
    parser.add_argument("--transition", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--alternative", type=int, nargs="+", default=[demand.RAMP_ALTERNATIVE_MONTHS]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    args = parser.parse_args(argv)
    if args.seed + args.councils > simulate.REPORT_SEED:
        parser.error("tuning seeds must stay below simulate.REPORT_SEED")
    jobs = [(s, args.seed + i) for s in args.scenarios for i in range(args.councils)]
    options = [
        (r, c, b, k, t, a)
        for r in args.ramp
        for c in args.corroboration
        for b in args.bias
        for k in args.calibrate
        for t in args.transition
        for a in args.alternative
    ]
    for option in options:
        with ProcessPoolExecutor(args.workers, initializer=_set, initargs=option) as pool:
            rows = list(pool.map(simulate.one_council, *zip(*jobs, strict=True), chunksize=8))
        table = simulate.summarise(pd.DataFrame(rows))
        print(
            "\nRAMP_MONTHS, CORROBORATION_ALPHA, RESIDUAL_BIAS, PLACEBO_WIDEN_ABOVE, "
            f"TRANSITION_MONTHS, RAMP_ALTERNATIVE_MONTHS = {option}",
            flush=True,
        )
        print(
            table[
                [
                    "scenario",
                    "reporting claimed",
                    "mc_se",
                    "interval coverage",
                    "inconclusive",
                    "median detectable ratio",
                    "median oracle detectable ratio",
                ]
            ]
            .round(3)
            .to_string(index=False)  # fmt: skip
        )


if __name__ == "__main__":
    main()
