"""Simulated councils with a known truth, for validating the demand verdict.

Each council is a monthly panel shaped like the sample borough (about 50 new standard or medium
risk referrals a month, 11 high-risk, 210 police-recorded DA crimes), scaled by a random council
size, with a need trend drawn per council, Christmas and summer seasonality, and extra-Poisson
noise that is serially correlated within each stream. The scenarios plant what the verdict must
tell apart (:data:`SCENARIOS`). ``validation/run.py`` runs the study; the test suite runs a
small version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from daanalysis.periods import QUARTER_FREQ

SEASON = {1: 1.15, 7: 1.10, 8: 1.12, 12: 1.12}
BASE = {"new_standard_medium": 50.0, "high": 11.0, "repeat": 9.0, "police": 210.0, "marac": 24.0}
SELF_SHARE = 0.4  # of new standard/medium clients who refer themselves
REPEAT_MEDIUM_SHARE = 0.45


@dataclass(frozen=True)
class Scenario:
    """What is planted: ``reporting`` multiplies the confidence streams from the first campaign,
    ``need_step`` every stream (police too); ``shared_rho``/``shared_sd`` add a month-to-month
    shock common to every stream; ``lockdown`` a COVID-19-like dip and recovery (declared in
    events) with the first campaign in the recovery."""

    name: str
    description: str
    reporting: float = 1.0
    need_step: float = 1.0
    shared_rho: float = 0.0
    shared_sd: float = 0.0
    lockdown: bool = False
    declare_events: bool = True
    campaigns: int = 1
    quarterly: bool = False  # aggregate returns that come quarterly, fitted on quarters

    @property
    def reporting_effect(self) -> bool:
        return self.reporting != 1.0


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("null", "No campaign effect; need grows 0-8% a year"),
        Scenario("reporting", "Confidence streams step up 1.3x at the first campaign", 1.3),
        Scenario(
            "need_step",
            "A real +20% need step in every stream, police too, at the first campaign",
            need_step=1.2,
        ),
        Scenario(
            "ar1_shared",
            "No campaign effect; a shared AR(1) shock (rho 0.6, sd 0.10) in every stream",
            shared_rho=0.6,
            shared_sd=0.10,
        ),
        Scenario(
            "lockdown",
            "No campaign effect; a lockdown dip and recovery, declared in events.csv, with a "
            "campaign in the recovery",
            lockdown=True,
        ),
        # Harder variants, reported beside the five above.
        Scenario(
            "reporting_two_campaigns",
            "Two campaigns; confidence streams step up 1.3x at the first, not at the second",
            1.3,
            campaigns=2,
        ),
        Scenario("null_two_campaigns", "Two campaigns; no campaign effect", campaigns=2),
        Scenario(
            "null_quarterly",
            "No campaign effect; quarterly aggregate returns",
            quarterly=True,
        ),
        Scenario(
            "reporting_quarterly",
            "Confidence streams step up 1.3x; quarterly aggregate returns",
            1.3,
            quarterly=True,
        ),
        Scenario(
            "lockdown_undeclared",
            "As lockdown, but events.csv left out: what an analyst who forgets it would see",
            lockdown=True,
            declare_events=False,
        ),
    )
}
MAIN_SCENARIOS = ("null", "reporting", "need_step", "ar1_shared", "lockdown")

LOCKDOWN = pd.DataFrame(
    {
        "name": ["COVID-19 lockdown"],
        "start_date": [pd.Timestamp("2020-03-23")],
        "end_date": [pd.Timestamp("2020-09-30")],
        "kind": ["temporary"],
        "area": [pd.NA],
    }
)
# Referral streams fall in lockdown and recover; police-recorded crimes rise a little.
LOCKDOWN_REFERRALS = {"2020-04": 0.6, "2020-05": 0.6, "2020-06": 0.65, "2020-07": 0.75,
                      "2020-08": 0.85, "2020-09": 0.93}  # fmt: skip
LOCKDOWN_POLICE = {"2020-04": 1.1, "2020-05": 1.12, "2020-06": 1.08, "2020-07": 1.04}


def _ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series with lag-1 correlation ``rho`` and marginal sd ``sd``."""
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    innovation = sd * np.sqrt(1 - rho**2)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + rng.normal(0, innovation)
    return out


def council(
    rng: np.random.Generator, scenario: Scenario, area: str = "Simulated"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One simulated council: (monthly panel, campaigns, events)."""
    first = pd.Period("2018-04" if scenario.lockdown else "2020-04", "M")
    months = pd.period_range(first, "2026-09", freq="M")
    n = len(months)
    if scenario.lockdown:
        start1 = pd.Timestamp("2020-08-01")
    else:
        start1 = pd.Timestamp("2022-08-01") + pd.DateOffset(months=int(rng.integers(0, 7)))
    start2 = start1 + pd.DateOffset(months=19)
    campaigns = pd.DataFrame(
        {
            "name": ["Campaign 1", "Campaign 2"],
            "start_date": [start1, start2],
            "end_date": [start1 + pd.Timedelta(days=40), start2 + pd.Timedelta(days=40)],
            "area": [pd.NA, pd.NA],
        }
    ).iloc[: scenario.campaigns]
    size = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    growth = rng.uniform(0.0, 0.08)
    years = np.arange(n) / 12
    season = np.array([SEASON.get(m, 1.0) for m in months.month])
    after1 = (months >= start1.to_period("M")).astype(float)
    need = size * (1 + growth) ** years * season * scenario.need_step**after1
    shared = _ar1(rng, n, scenario.shared_rho, scenario.shared_sd) if scenario.shared_sd else 0.0
    referral_dip = np.ones(n)
    police_dip = np.ones(n)
    if scenario.lockdown:
        for month, factor in LOCKDOWN_REFERRALS.items():
            referral_dip[months == pd.Period(month, "M")] = factor
        for month, factor in LOCKDOWN_POLICE.items():
            police_dip[months == pd.Period(month, "M")] = factor

    def noisy(mean: np.ndarray) -> np.ndarray:
        # Each stream has its own serially correlated extra-Poisson noise.
        own = _ar1(rng, n, rng.uniform(0.0, 0.4), 0.05)
        return rng.poisson(mean * np.exp(own + shared))

    confidence = need * referral_dip * scenario.reporting**after1
    new_sm = noisy(BASE["new_standard_medium"] * confidence)
    self_referrals = rng.binomial(new_sm, SELF_SHARE)
    repeats = noisy(BASE["repeat"] * need * referral_dip)
    repeat_medium = rng.binomial(repeats, REPEAT_MEDIUM_SHARE)
    high = noisy(BASE["high"] * need * referral_dip) + repeats - repeat_medium
    panel = pd.DataFrame(
        {
            "area": area,
            "month": months,
            "self_referrals": self_referrals,
            "standard_medium_risk": new_sm + repeat_medium,
            "high_risk": high,
            "police_crimes": noisy(BASE["police"] * need * police_dip),
            "marac_cases": noisy(BASE["marac"] * need),
        }
    ).astype({c: "float64" for c in ("self_referrals", "standard_medium_risk", "high_risk")})
    panel["referrals"] = panel["standard_medium_risk"] + panel["high_risk"]
    panel[["police_crimes", "marac_cases"]] = panel[["police_crimes", "marac_cases"]].astype(float)
    panel["quarter"] = panel["month"].dt.asfreq(QUARTER_FREQ)
    panel["basis"] = "aggregates"
    panel["complete"] = True
    if scenario.quarterly:
        panel["returns_frequency"] = "quarterly"
    events = LOCKDOWN if scenario.lockdown and scenario.declare_events else LOCKDOWN.iloc[:0]
    return panel, campaigns, events


def one_council(scenario: str, seed: int) -> dict[str, object]:
    """The verdict on one simulated council, with what the truth was."""
    import warnings

    from daanalysis.demand import verdict

    planted = SCENARIOS[scenario]
    panel, campaigns, events = council(np.random.default_rng(seed), planted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on extreme draws; result kept
        v = verdict(panel, campaigns, events, quarter=panel["quarter"].iloc[-1])
    p = v.primary
    return {
        "scenario": scenario,
        "seed": seed,
        "verdict": v.verdict,
        "claims_reporting": v.verdict in ("reporting", "both"),
        "truth_reporting": planted.reporting_effect,
        "rate_ratio": p.get("rate_ratio", np.nan),
        "ci_low": p.get("ci_low", np.nan),
        "ci_high": p.get("ci_high", np.nan),
        "covered": bool(p) and p["ci_low"] <= planted.reporting <= p["ci_high"],
        "mde_ratio": p.get("mde_ratio", np.nan),
        "placebo_share": v.placebo.get("share", np.nan),
    }


def study(
    councils: int, scenarios: tuple[str, ...] = MAIN_SCENARIOS, seed: int = 1, workers: int = 1
) -> pd.DataFrame:
    """One row per simulated council and scenario (seeds ``seed`` .. ``seed + councils - 1``)."""
    jobs = [(s, seed + i) for s in scenarios for i in range(councils)]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(one_council, *zip(*jobs, strict=True), chunksize=8))
    else:
        rows = [one_council(s, i) for s, i in jobs]
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: false "reporting" claims (or power), coverage, inconclusive share, each
    with its Monte Carlo standard error (binomial: sqrt(p(1-p)/n))."""

    def rate(flags: pd.Series) -> tuple[float, float]:
        p = float(flags.mean())
        return p, float(np.sqrt(p * (1 - p) / len(flags)))

    rows = []
    for name, group in results.groupby("scenario", sort=False):
        claims, claims_se = rate(group["claims_reporting"])
        fitted = group[group["ci_low"].notna()]
        cover, cover_se = rate(fitted["covered"]) if len(fitted) else (np.nan, np.nan)
        inconclusive, inconclusive_se = rate(group["verdict"] == "inconclusive")
        rows.append(
            {
                "scenario": name,
                "truth": SCENARIOS[name].description,
                "councils": len(group),
                "measure": "power" if SCENARIOS[name].reporting_effect else "false claim rate",
                "reporting claimed": claims,
                "mc_se": claims_se,
                "interval coverage": cover,
                "coverage_mc_se": cover_se,
                "inconclusive": inconclusive,
                "inconclusive_mc_se": inconclusive_se,
                "median detectable ratio": float(group["mde_ratio"].median()),
                "verdicts": ", ".join(
                    f"{k} {v}" for k, v in group["verdict"].value_counts().items()
                ),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "MAIN_SCENARIOS",
    "SCENARIOS",
    "Scenario",
    "council",
    "one_council",
    "study",
    "summarise",
]
