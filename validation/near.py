"""Where do the near misses of issue 18 go? One row per simulated council with the verdict's
internals, so that candidate rules can be compared offline on the same councils (tuning seeds
only, below ``simulate.REPORT_SEED``, unless ``--fresh`` says the seeds are a fresh check).

    python validation/near.py --seed 6001 --councils 100 \
        --scenarios reporting_quarterly null_quarterly --out /tmp/near.csv

Each row: the verdict and its cause; the primary contrast (log estimate, standard error after
any placebo widening, degrees of freedom, the 95% and 99% low ends); the corroboration (log
estimate, standard error, degrees of freedom, 90% low end); the placebo check (dates, window,
share significant, root mean square z, widening); the lag-1 correlation left in the difference
of the two streams' relative residuals as measured and as used for the AR(1) factor (with the
short-series and design-based biases added back), the factor itself and the stream
dispersions; and whether "need" was read. ``--set NAME=VALUE`` sets a module constant of
``daanalysis.metrics.its`` or ``daanalysis.metrics.demand`` in every worker (a candidate rule).

Session 10's runs (docs/methods.md, "The near misses"): tuning ``--seed 6001 --councils 100``
(five scenarios) and ``--seed 6101 --councils 200`` (the over-dispersed two), each quarterly
rule as ``--set PARTIAL_FIRST_PERIOD=false|true`` and ``SERIES_MEAN_BIAS=0``; fresh
``--fresh --seed 400001 --councils 200 --scenarios reporting_quarterly null_quarterly``.
"""

from __future__ import annotations

import argparse
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import optimize, stats

from daanalysis.metrics import demand, its
from daanalysis.synthetic import simulate


def _df(t: float, level: float) -> float:
    """The degrees of freedom whose t quantile at ``level`` is ``t`` (NaN if none)."""
    if not np.isfinite(t) or t <= stats.norm.ppf(level):
        return float("nan")
    return float(optimize.brentq(lambda d: stats.t.ppf(level, d) - t, 0.5, 1e6))


def _set(assignments: list[str]) -> None:
    for item in assignments:
        name, value = item.split("=", 1)
        module = its if hasattr(its, name) else demand
        if not hasattr(module, name):
            raise SystemExit(f"no constant {name} in its or demand")
        current = getattr(module, name)
        if isinstance(current, bool):
            setattr(module, name, value.lower() in ("1", "true", "yes"))
        else:
            setattr(module, name, type(current)(value))


def one(scenario: str, seed: int) -> dict[str, object]:
    planted = simulate.SCENARIOS[scenario]
    panel, campaigns, events = simulate.council(np.random.default_rng(seed), planted)
    quarter = panel["quarter"].iloc[-1]
    row: dict[str, object] = {"scenario": scenario, "seed": seed, "truth": planted.reporting}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = demand.verdict(panel, campaigns, events, quarter)
        row.update(verdict=v.verdict, cause=str(v.cause or ""))
        p, c = v.primary, v.corroboration
        if p:
            est, se = np.log(p["rate_ratio"]), p["se_log"]
            t95 = np.log(p["ci_high"] / p["rate_ratio"]) / se if se > 0 else np.nan
            row.update(
                est=est,
                se=se,
                df=_df(t95, 0.975),
                low95=np.log(p["ci_low"]),
                low99=np.log(v.strict["ci_low"]) if v.strict else np.nan,
                mde=p["mde_ratio"],
                detectable=v.detectable,
            )
        if c:
            cse = c["se_log"]
            t90 = np.log(c["ci_high"] / c["rate_ratio"]) / cse if cse > 0 else np.nan
            row.update(
                c_est=np.log(c["rate_ratio"]), c_se=cse, c_df=_df(t90, 0.95),
                c_low90=np.log(c["ci_low"]),
            )  # fmt: skip
        row.update(
            placebo_dates=v.placebo.get("dates", 0),
            placebo_window=v.placebo.get("window", ""),
            placebo_share=v.placebo.get("share", np.nan),
            z_rms=v.placebo.get("z_rms", np.nan),
            widen=v.widen,
            need_read=v.verdict in ("need", "both"),
            pre_periods=v.pre_periods,
        )
        # The primary fit again, for the AR(1) factor's parts (the verdict keeps the raw rho).
        treated, _ = demand.stream_series(panel, demand.PRIMARY_CONFIDENCE, quarter)
        control, _ = demand.stream_series(panel, "police_crimes", quarter)
        index = its.common_index(treated, control)
        used, _ = its.usable_campaigns(index, campaigns)
        if len(used):
            known = panel
            reference, _, _ = demand.need_control(
                panel, known, "police_crimes", control, used, events, quarter
            )
            fit = its.fit_controlled(treated, reference, used, events)
            raw = fit.resid_lag1["difference"]
            n = fit.periods
            bias = its.residual_bias(fit.design.to_numpy())
            rho = raw + (its.SERIES_MEAN_BIAS + 3 * raw) / n + its.RESIDUAL_BIAS * bias
            rho = float(np.clip(rho, 0, its.MAX_RHO))
            row.update(
                periods=n,
                rho_raw=raw,
                rho_bias=bias,
                rho_used=rho,
                ar1_factor=(1 + rho) / (1 - rho),
                terms=len(fit.params),
                fit_df=fit.df,
            )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=100)
    parser.add_argument("--seed", type=int, default=6001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", default=["reporting_quarterly", "null_quarterly"])
    parser.add_argument("--set", nargs="*", default=[], help="NAME=VALUE: a candidate rule")
    parser.add_argument(
        "--fresh", action="store_true", help="the seeds are a fresh check (above REPORT_SEED)"
    )
    parser.add_argument("--out", default="/tmp/near.csv")
    args = parser.parse_args()
    if not args.fresh and args.seed + args.councils > simulate.REPORT_SEED:
        parser.error("tuning seeds must stay below simulate.REPORT_SEED (or say --fresh)")
    jobs = [(s, args.seed + i) for s in args.scenarios for i in range(args.councils)]
    with ProcessPoolExecutor(args.workers, initializer=_set, initargs=(args.set,)) as pool:
        rows = list(pool.map(one, *zip(*jobs, strict=True), chunksize=4))
    pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
