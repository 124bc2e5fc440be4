"""Where does the verdict lose power? Candidate contrasts on the same simulated councils (tuning
seeds only), saved one row per council so that decision rules can be compared offline.

    python validation/explore.py --councils 80 --out /tmp/explore.csv

For each council: the current verdict, and the step contrast (also as a 12-month ramp, and with
a 3- or 6-month phase-in left to terms of its own) of the confidence stream against
police-recorded crimes (P), against the other need streams (O, the corroboration), against a
precision-weighted combination of all need streams (C), and the police against the other need
streams (D: do the need measures disagree at the campaign?).
"""

from __future__ import annotations

import argparse
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from daanalysis.metrics import demand, its
from daanalysis.present.verdict import sentence
from daanalysis.synthetic import simulate

SCENARIOS = (
    "null",
    "reporting_two_campaigns",
    "null_two_campaigns",
    "reporting",
    "reporting_overdispersed",
    "reporting_ramp",
    "reporting_quarterly",
    "null_quarterly",
    "police_recording_down",
    "police_recording_down_early",
    "police_recording_up",
    "need_step_police_less",
    "need_step",
    "heavy_overdispersion",
    "null_confidence_ar",
    "null_curved_confidence",
    "reporting_lifts_high_risk",
    "short_pre_period",
    "lockdown_undeclared",
    "ar1_shared",
)


def _dispersion(y: pd.Series, campaigns: pd.DataFrame, events: pd.DataFrame) -> float:
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    x = its.design(pd.PeriodIndex(y.index), campaigns, events)
    fit = GLM(y.to_numpy(float), x, family=Poisson()).fit()
    return max(float(fit.pearson_chi2 / max(fit.df_resid, 1)), 1.0)


def combined(parts: dict[str, pd.Series], campaigns, events) -> pd.Series:
    """Sum of the need streams, each divided by its dispersion: on the log scale, each stream
    weighted by its precision (mean over dispersion)."""
    frame = pd.concat(parts, axis=1, join="inner")
    return sum(frame[s] / _dispersion(frame[s], campaigns, events) for s in frame)


def _c(fit: its.Fit, weights: dict[str, float]) -> tuple[float, float, int]:
    w = pd.Series(weights, dtype=float).reindex(fit.params.index, fill_value=0.0)
    return float(w @ fit.params), float(np.sqrt(max(w @ fit.cov @ w, 0.0))), fit.df


def contrasts(panel, used, events, quarter) -> dict[str, float]:
    out: dict[str, float] = {}
    conf, _ = demand.stream_series(panel, demand.PRIMARY_CONFIDENCE, quarter)
    police, _ = demand.stream_series(panel, "police_crimes", quarter)
    others, _ = demand.corroborating_series(panel, "police_crimes", quarter)
    parts = {"police": police}
    for s in demand.CORROBORATING:
        y, _ = demand.stream_series(panel, s, quarter)
        parts[s] = y
    comb = combined(parts, used, events)
    pairs = {"P": (conf, police), "O": (conf, others), "C": (conf, comb), "D": (police, others)}
    for ramp, phase_in in ((0, 0), (12, 0), (0, 3), (0, 6)):
        its.RAMP_MONTHS = ramp
        its.TRANSITION_MONTHS = phase_in
        try:
            for name, (a, b) in pairs.items():
                if (ramp or phase_in) and name in "DP":
                    continue
                fit = its.fit_controlled(a, b, used, events)
                est, se, df = _c(fit, fit.campaign_weights("rel: "))
                key = f"{name}{ramp or ''}" + (f"t{phase_in}" if phase_in else "")
                out.update({f"{key}_est": est, f"{key}_se": se, f"{key}_df": df})
        except ValueError:
            pass
        finally:
            its.RAMP_MONTHS = 0
            its.TRANSITION_MONTHS = 0
    return out


def one(scenario: str, seed: int) -> dict[str, object]:
    planted = simulate.SCENARIOS[scenario]
    panel, campaigns, events = simulate.council(np.random.default_rng(seed), planted)
    quarter = panel["quarter"].iloc[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = demand.verdict(panel, campaigns, events, quarter)
        index = pd.PeriodIndex(
            demand.stream_series(panel, demand.PRIMARY_CONFIDENCE, quarter)[0].index
        )
        used, _ = its.usable_campaigns(index, campaigns)
        row = {
            "scenario": scenario,
            "seed": seed,
            "truth": planted.reporting,
            "verdict": v.verdict,
            "claims": v.verdict in ("reporting", "both"),
            "placebo_dates": v.placebo.get("dates", 0),
            "placebo_share": v.placebo.get("share", np.nan),
            "z_rms": v.placebo.get("z_rms", np.nan),
            "sentence": sentence(v)[:80],
        }
        if len(used):
            row.update(contrasts(panel, used, events, quarter))
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--councils", type=int, default=80)
    parser.add_argument("--seed", type=int, default=2001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--out", default="/tmp/explore.csv")
    args = parser.parse_args()
    assert args.seed + args.councils <= simulate.REPORT_SEED
    jobs = [(s, args.seed + i) for s in args.scenarios for i in range(args.councils)]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(one, *zip(*jobs, strict=True), chunksize=4))
    pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
