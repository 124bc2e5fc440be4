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
    events) with the first campaign in the recovery.

    Coincident changes a real council could face, none of them declared in events.csv:
    ``ramp_months`` spreads the reporting effect evenly over that many months instead of a step;
    ``police_need_step`` (when set) is the need step police-recorded crimes see in place of
    ``need_step`` (a real rise in need that reaches the police less, or more, than the service);
    ``police_recording`` multiplies police-recorded crimes alone from ``police_recording_lag``
    months after the first campaign (a recording-practice or counting-rule change);
    ``need_slope`` adds that much growth a year to need in every stream after the first campaign.
    ``size`` is the range of council sizes (times the sample borough, log-uniform) and
    ``noise_sd`` each stream's extra-Poisson noise (sd on the log scale)."""

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
    ramp_months: int = 0
    police_need_step: float | None = None
    police_recording: float = 1.0
    police_recording_lag: int = 0
    need_slope: float = 0.0
    size: tuple[float, float] = (0.5, 2.0)
    noise_sd: float = 0.05
    first_month: str | None = None  # data start, if not the default Apr 2020 (Apr 2018 lockdown)
    campaign_month: int | None = None  # calendar month of the first campaign (else Aug-Feb)
    # A family wider than the model (none of these is a term the verdict fits):
    # ``kink``: need growth changes by a random -6..+6% a year at a random month (piecewise);
    # ``curvature``: the confidence stream alone gets a curved log trend, +-this much a year
    # squared (random sign), centred on the data;
    # ``own_rho``: the confidence stream's own noise has this lag-1 correlation (others 0-0.4);
    # ``high_risk_lift``: the campaign also lifts high-risk referrals (confidence reaching them);
    # ``season_drift``: each stream's seasonal peaks grow or shrink by up to this share a year.
    kink: bool = False
    curvature: float = 0.0
    own_rho: float | None = None
    high_risk_lift: float = 1.0
    season_drift: float = 0.0
    # ``service_recording`` multiplies high-risk referrals and MARAC cases from the first
    # campaign (a change in DASH practice or the MARAC threshold): the service's own need
    # streams, which the primary contrast's combined control now includes, break instead of the
    # police series.
    service_recording: float = 1.0
    # ``confidence_trend``: the confidence stream alone grows by a random -this..+this a year
    # (councils whose relative trends differ; the verdict fits each council's own).
    confidence_trend: float = 0.0

    @property
    def reporting_effect(self) -> bool:
        return self.reporting != 1.0

    @property
    def stream_step(self) -> float:
        """The step the primary contrast's confidence stream (standard and medium risk
        referrals) takes in expectation: new standard and medium risk clients carry the
        ``reporting`` effect, the repeat referrals counted with them (a share
        :data:`REPEAT_MEDIUM_SHARE` of the repeats) do not, so a 1.3x effect steps the stream
        (50 x 1.3 + 0.45 x 9) / (50 + 0.45 x 9) = 1.2775 times. The true value of the primary
        contrast where the need streams do not move."""
        repeat = REPEAT_MEDIUM_SHARE * BASE["repeat"]
        new = BASE["new_standard_medium"]
        return (new * self.reporting + repeat) / (new + repeat)


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
        # Coincident changes nobody declared, and councils unlike the sample borough.
        Scenario(
            "reporting_ramp",
            "Confidence streams rise to 1.3x evenly over the 12 months after the first "
            "campaign (no step)",
            1.3,
            ramp_months=12,
        ),
        Scenario(
            "need_step_police_less",
            "A real need step at the first campaign, +20% in every service stream but +10% in "
            "police-recorded crimes; no campaign effect",
            need_step=1.2,
            police_need_step=1.1,
        ),
        Scenario(
            "police_recording_down",
            "No campaign effect; police-recorded crimes step down 12% at the first campaign (a "
            "recording or counting-rule change not in events.csv)",
            police_recording=0.88,
        ),
        Scenario(
            "police_recording_down_early",
            "As police_recording_down, but the change comes 3 months before the campaign",
            police_recording=0.88,
            police_recording_lag=-3,
        ),
        Scenario(
            "police_recording_up",
            "No campaign effect; police-recorded crimes step up 15% at the first campaign (a "
            "recording audit not in events.csv)",
            police_recording=1.15,
        ),
        Scenario(
            "short_pre_period",
            "No campaign effect; figures start Aug 2021, 12-18 months before the campaign",
            first_month="2021-08",
        ),
        Scenario(
            "small_councils",
            "No campaign effect; councils 0.1-0.25x the sample borough (5-13 standard and "
            "medium risk referrals a month)",
            size=(0.1, 0.25),
        ),
        Scenario(
            "large_councils",
            "No campaign effect; councils 5-10x the sample borough",
            size=(5.0, 10.0),
        ),
        Scenario(
            "heavy_overdispersion",
            "No campaign effect; extra-Poisson noise sd 0.15 in every stream (3x the others)",
            noise_sd=0.15,
        ),
        # A family wider than the model, added in version 3 (none of it is a term the verdict
        # fits; thresholds were not chosen on these).
        Scenario(
            "reporting_overdispersed",
            "Confidence streams step up 1.3x; extra-Poisson noise sd 0.15 in every stream",
            1.3,
            noise_sd=0.15,
        ),
        Scenario(
            "null_piecewise_need",
            "No campaign effect; need growth changes by up to 6% a year at a random month "
            "(shared by every stream)",
            kink=True,
        ),
        Scenario(
            "null_curved_confidence",
            "No campaign effect; the confidence stream alone has a gently curved trend "
            "(+-1% a year squared)",
            curvature=0.01,
        ),
        Scenario(
            "null_confidence_ar",
            "No campaign effect; the confidence stream's own noise is strongly serially "
            "correlated (rho 0.7, sd 0.10)",
            own_rho=0.7,
            noise_sd=0.10,
        ),
        Scenario(
            "null_drifting_season",
            "No campaign effect; each stream's seasonal peaks drift by up to 10% a year",
            season_drift=0.10,
        ),
        Scenario(
            "service_need_down",
            "No campaign effect; high-risk referrals and MARAC cases step down 12% at the first "
            "campaign (a DASH-practice or MARAC-threshold change not in events.csv)",
            service_recording=0.88,
        ),
        Scenario(
            "reporting_lifts_high_risk",
            "Confidence streams step up 1.3x and the campaign lifts high-risk referrals 1.1x",
            1.3,
            high_risk_lift=1.1,
        ),
    )
}
WIDER_SCENARIOS = (
    "reporting_overdispersed",
    "null_piecewise_need",
    "null_curved_confidence",
    "null_confidence_ar",
    "null_drifting_season",
    "reporting_lifts_high_risk",
)
# Seeds: the thresholds and corrections were chosen on seeds below REPORT_SEED (development
# runs used 1..300); the study reports on seeds from REPORT_SEED, never used while choosing.
REPORT_SEED = 100_001
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
    rng: np.random.Generator,
    scenario: Scenario,
    area: str = "Simulated",
    regional: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One simulated council: (monthly panel, campaigns, events). ``regional``: a shock on the
    log scale, one value a month, that every stream of every council in a region shares (a
    region's need moving together), added to the council's own."""
    first = pd.Period(scenario.first_month or ("2018-04" if scenario.lockdown else "2020-04"), "M")
    months = pd.period_range(first, "2026-09", freq="M")
    n = len(months)
    if scenario.lockdown:
        start1 = pd.Timestamp("2020-08-01")
    else:
        start1 = pd.Timestamp("2022-08-01") + pd.DateOffset(months=int(rng.integers(0, 7)))
        if scenario.campaign_month is not None:
            year = 2022 if scenario.campaign_month >= 8 else 2023
            start1 = pd.Timestamp(year=year, month=scenario.campaign_month, day=1)
    start2 = start1 + pd.DateOffset(months=19)
    campaigns = pd.DataFrame(
        {
            "name": ["Campaign 1", "Campaign 2"],
            "start_date": [start1, start2],
            "end_date": [start1 + pd.Timedelta(days=40), start2 + pd.Timedelta(days=40)],
            "area": [pd.NA, pd.NA],
        }
    ).iloc[: scenario.campaigns]
    size = float(np.exp(rng.uniform(*np.log(scenario.size))))
    growth = rng.uniform(0.0, 0.08)
    years = np.arange(n) / 12
    season = np.array([SEASON.get(m, 1.0) for m in months.month])
    since1 = np.asarray([(m - start1.to_period("M")).n for m in months], float)
    after1 = (since1 >= 0).astype(float)
    # The need every stream shares, before any step at the campaign.
    common = (
        size
        * (1 + growth) ** years
        * season
        * (1 + scenario.need_slope) ** (np.clip(since1, 0, None) / 12)
    )
    if scenario.kink:
        at = int(rng.integers(12, n - 12))
        common = common * (1 + rng.uniform(-0.06, 0.06)) ** (
            np.clip(np.arange(n) - at, 0, None) / 12
        )

    def drifting(values: np.ndarray) -> np.ndarray:
        # Seasonal peaks that grow or shrink by up to season_drift a year in this stream.
        if not scenario.season_drift:
            return values
        rate = rng.uniform(-scenario.season_drift, scenario.season_drift)
        return values * (1 + (season - 1) * rate * (years - years.mean()))

    need = common * scenario.need_step**after1
    police_step = (
        scenario.need_step if scenario.police_need_step is None else scenario.police_need_step
    )
    recording = np.where(since1 >= scenario.police_recording_lag, scenario.police_recording, 1.0)
    police_need = common * police_step**after1 * recording
    # The share of the reporting effect reached: a step, or a linear ramp over ramp_months.
    reached = np.clip((since1 + 1) / scenario.ramp_months, 0, 1) if scenario.ramp_months else after1
    shared = _ar1(rng, n, scenario.shared_rho, scenario.shared_sd) if scenario.shared_sd else 0.0
    if regional is not None:
        shared = shared + regional[:n]
    referral_dip = np.ones(n)
    police_dip = np.ones(n)
    if scenario.lockdown:
        for month, factor in LOCKDOWN_REFERRALS.items():
            referral_dip[months == pd.Period(month, "M")] = factor
        for month, factor in LOCKDOWN_POLICE.items():
            police_dip[months == pd.Period(month, "M")] = factor

    def noisy(mean: np.ndarray, rho: float | None = None) -> np.ndarray:
        # Each stream has its own serially correlated extra-Poisson noise.
        own = _ar1(rng, n, rng.uniform(0.0, 0.4) if rho is None else rho, scenario.noise_sd)
        return rng.poisson(np.clip(drifting(mean), 0, None) * np.exp(own + shared))

    confidence = need * referral_dip * scenario.reporting**reached
    if scenario.confidence_trend:
        own_growth = rng.uniform(-scenario.confidence_trend, scenario.confidence_trend)
        confidence = confidence * (1 + own_growth) ** years
    if scenario.curvature:
        centred = years - years.mean()
        confidence = confidence * np.exp(rng.choice([-1, 1]) * scenario.curvature * centred**2)
    new_sm = noisy(BASE["new_standard_medium"] * confidence, scenario.own_rho)
    self_referrals = rng.binomial(new_sm, SELF_SHARE)
    repeats = noisy(BASE["repeat"] * need * referral_dip)
    repeat_medium = rng.binomial(repeats, REPEAT_MEDIUM_SHARE)
    lift = scenario.high_risk_lift**reached
    service = np.where(after1 > 0, scenario.service_recording, 1.0)
    high = noisy(BASE["high"] * need * referral_dip * lift * service) + repeats - repeat_medium
    panel = pd.DataFrame(
        {
            "area": area,
            "month": months,
            "self_referrals": self_referrals,
            "standard_medium_risk": new_sm + repeat_medium,
            "high_risk": high,
            "police_crimes": noisy(BASE["police"] * police_need * police_dip),
            "marac_cases": noisy(BASE["marac"] * need * service),
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


# The two oracles of the study's yardstick (issue 18, session 11): both know the true model
# apart from what the label says; ``shared`` every stream's need trend, ``own trend`` the
# confidence stream's own linear trend besides it (the freedom the verdict takes).
ORACLES = {"shared": "oracle", "own trend": "oracle_trend"}


def oracle(panel: pd.DataFrame, campaigns: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """The efficiency yardstick: fits that know the true model, on the periods the verdict sees
    (months; quarters for quarterly returns, each the sum of its months). Every stream shares
    one need trend, season and step at the first campaign (police-recorded crimes get their own
    step too, for the recording scenarios), and the confidence stream alone carries the effect
    in its true shape (a step, or the ramp; on quarters, each month's share weighted by its
    days, so a campaign's first quarter steps by its share of days, as the verdict's
    ``its.PARTIAL_FIRST_PERIOD``). Two fits, :data:`ORACLES`:

    - ``oracle``, the **shared-trend** oracle: the true model, every stream on the one need
      trend;
    - ``oracle_trend``, the **own-trend** oracle: the same fit plus the confidence stream's own
      linear trend, the freedom the verdict takes because on real series the streams' trends
      differ (everything else still known).

    Fitted on the counts of all four streams with the verdict's interval rule (quasi-Poisson
    stream by stream, the AR(1) factor of the confidence stream's relative residuals against
    the police series', counting 1 smooth relative term, 2 with the own trend; a t with the
    periods less the terms per stream). For each: ``_mde_ratio``, the smallest effect
    detectable with 80% power at 5% two-sided, (t(0.975) + t(0.80)) x standard error, as a
    ratio; ``_claims``, whether its own test claims the effect (the effect's 95% interval above
    1: the oracle's power, or its false claims where nothing was planted); ``_rate_ratio``, its
    estimate. NaN (claims False) for lockdown councils (the dip is a different shape in every
    stream) and where a fit fails."""
    from scipy import stats

    from daanalysis.metrics import its

    empty = {}
    for key in ORACLES.values():
        empty.update({f"{key}_mde_ratio": np.nan, f"{key}_claims": False,
                      f"{key}_rate_ratio": np.nan})  # fmt: skip
    if scenario.lockdown:
        return empty
    months = pd.PeriodIndex(panel["month"])
    start = campaigns["start_date"].iloc[0].to_period("M")
    since = np.asarray([(m - start).n for m in months], float)
    after = (since >= 0).astype(float)
    shape = np.clip((since + 1) / scenario.ramp_months, 0, 1) if scenario.ramp_months else after
    order = ("police_crimes", "standard_medium_risk", "high_risk", "marac_cases")
    per_month = pd.DataFrame({"after": after, "shape": shape}, index=months)
    counts = panel.set_index(months)[list(order)].astype(float)
    if scenario.quarterly:
        # The verdict fits quarterly returns on quarters: the oracle sees what it sees.
        quarters = months.asfreq(QUARTER_FREQ)
        days = pd.Series(months.days_in_month.astype(float), index=months)
        per_month = (
            per_month.mul(days, axis=0).groupby(quarters).sum()
            .div(days.groupby(quarters).sum(), axis=0)
        )  # fmt: skip
        counts = counts.groupby(quarters).sum()
        periods = per_month.index
        per_year, season = 4, {q: periods.quarter == q for q in (2, 3, 4)}
    else:
        periods = months
        per_year, season = 12, {m: months.month == m for m in range(1, 13) if m != 4}
    n = len(periods)
    shared = pd.DataFrame({"trend": np.arange(n) / per_year,
                           "need step": per_month["after"].to_numpy()})  # fmt: skip
    for key, flags in season.items():
        shared[f"season {key}"] = np.asarray(flags, float)
    y = np.concatenate([counts[s].to_numpy(float) for s in order])
    out = dict(empty)
    for key, own_trend in (("oracle", False), ("oracle_trend", True)):
        blocks = []
        for i in range(len(order)):
            block = shared.copy()
            for j in range(len(order)):
                block[f"const {j}"] = float(i == j)
            block["police step"] = block["need step"] * (i == 0)
            if own_trend:
                block["own trend"] = block["trend"] * (i == 1)
            block["effect"] = per_month["shape"].to_numpy() * (i == 1)  # the last term
            blocks.append(block)
        x = pd.concat(blocks, ignore_index=True)
        try:
            fit, cov = its._glm(
                y, x, np.tile(np.arange(n), 4), n, np.repeat(np.arange(4), n),
                relative_terms=2 if own_trend else 1,
            )  # fmt: skip
        except (ValueError, np.linalg.LinAlgError):
            continue
        df = n - int(np.ceil(x.shape[1] / 4))
        estimate = float(np.asarray(fit.params)[-1])
        se = float(np.sqrt(np.asarray(cov)[-1, -1]))
        t = stats.t.ppf(0.975, df)
        out[f"{key}_mde_ratio"] = float(np.exp((t + stats.t.ppf(0.8, df)) * se))
        out[f"{key}_claims"] = bool(estimate - t * se > 0)
        out[f"{key}_rate_ratio"] = float(np.exp(estimate))
    return out


def one_council(scenario: str, seed: int) -> dict[str, object]:
    """The verdict on one simulated council, with what the truth was."""
    import warnings

    from daanalysis.metrics.demand import verdict

    planted = SCENARIOS[scenario]
    panel, campaigns, events = council(np.random.default_rng(seed), planted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on extreme draws; result kept
        v = verdict(panel, campaigns, events, quarter=panel["quarter"].iloc[-1])
        yardstick = oracle(panel, campaigns, planted)
    p = v.primary
    return {
        "scenario": scenario,
        "seed": seed,
        "verdict": v.verdict,
        "claims_reporting": v.verdict in ("reporting", "both"),
        "claims_need": v.verdict in ("need", "both"),
        "truth_reporting": planted.reporting_effect,
        "rate_ratio": p.get("rate_ratio", np.nan),
        "ci_low": p.get("ci_low", np.nan),
        "ci_high": p.get("ci_high", np.nan),
        # Coverage of the planted step; a ramp has no single true value of the step contrast.
        "covered": bool(p) and p["ci_low"] <= planted.reporting <= p["ci_high"],
        # Coverage of the step the confidence stream itself takes (Scenario.stream_step).
        "covered_stream": bool(p) and p["ci_low"] <= planted.stream_step <= p["ci_high"],
        "mde_ratio": p.get("mde_ratio", np.nan),
        # The two oracles' detectable effects, claims and estimates (:func:`oracle`).
        **yardstick,
        "placebo_share": v.placebo.get("share", np.nan),
        "placebo_ran": v.placebo.get("dates", 0) >= 5,
    }


@dataclass(frozen=True)
class Region:
    """Several councils in one extract (a police-force region): ``areas`` councils whose need
    shares a regional AR(1) shock (``regional_rho``, ``regional_sd`` on the log scale, in every
    stream of every council) besides each council's own noise and trend, and one campaign run in
    the first ``campaign_areas`` of them only, on the same date, with a ``reporting`` effect
    in the first ``effect_areas`` of those (None: every one); the other councils list no
    campaign.

    Changes nobody declared in events.csv (council numbers from 0), added in session 9 so that
    a pooled contrast can be fooled: ``curved_areas``, the confidence stream alone curved (+-1%
    a year squared, as ``null_curved_confidence``); ``police_drop_areas``, police-recorded
    crimes times ``police_drop`` from the campaign date (a force-wide recording change when
    every council is listed); ``confidence_trend``, each council's confidence stream its own
    trend, a random -this..+this a year; ``regional_confidence``, every council's confidence
    streams (campaign or not) step by this at the campaign date (a regional event the campaign
    coincided with: a rise in reporting that is not the campaign's)."""

    name: str
    description: str
    reporting: float = 1.0
    areas: int = 5
    campaign_areas: int = 2
    regional_rho: float = 0.6
    regional_sd: float = 0.08
    effect_areas: int | None = None
    curved_areas: tuple[int, ...] = ()
    police_drop_areas: tuple[int, ...] = ()
    police_drop: float = 0.88
    confidence_trend: float = 0.0
    regional_confidence: float = 1.0

    def effect(self, i: int) -> float:
        """The campaign's reporting effect in council ``i`` (1: none)."""
        effect_areas = self.campaign_areas if self.effect_areas is None else self.effect_areas
        return self.reporting if i < min(effect_areas, self.campaign_areas) else 1.0


REGIONS: dict[str, Region] = {
    r.name: r
    for r in (
        Region(
            "region_null",
            "5 councils in one extract sharing regional need shocks (AR(1), rho 0.6, sd 0.08); "
            "a campaign in 2 of them, no effect",
        ),
        Region(
            "region_reporting",
            "As region_null, the campaign lifting the confidence streams 1.3x in its 2 councils",
            reporting=1.3,
        ),
        # Session 9 (issue 18, pooling): scenarios where a pooled contrast could be fooled.
        Region(
            "region_reporting_one",
            "As region_reporting, but only council 1 gets the 1.3x effect; council 2 ran the "
            "same campaign with no effect",
            reporting=1.3,
            effect_areas=1,
        ),
        Region(
            "region_reporting_one_police",
            "As region_reporting_one, and council 2 (no effect) has its police-recorded crimes "
            "down 12% at the campaign (undeclared)",
            reporting=1.3,
            effect_areas=1,
            police_drop_areas=(1,),
        ),
        Region(
            "region_null_mixed",
            "No effect; council 1's confidence stream curved (+-1% a year squared), council 2's "
            "police-recorded crimes down 12% at the campaign (undeclared), every council's "
            "confidence stream its own trend (+-3% a year)",
            curved_areas=(0,),
            police_drop_areas=(1,),
            confidence_trend=0.03,
        ),
        Region(
            "region_police_down",
            "No effect; a force-wide police recording change (undeclared): police-recorded "
            "crimes down 12% at the campaign date in all 5 councils",
            police_drop_areas=(0, 1, 2, 3, 4),
        ),
        Region(
            "region_confidence_shock",
            "No campaign effect, but every council's confidence streams, with or without the "
            "campaign, step up 1.15x at its date (a regional event it coincided with)",
            regional_confidence=1.15,
        ),
    )
}
# The kinds with no campaign effect in any council (region_reporting_one's council 2 is one
# more such council); region_confidence_shock is apart: reporting did rise relative to need in
# the campaign councils, so a single-area verdict that says so is not wrong about the pattern,
# only about its cause.
REGION_NULLS = ("region_null", "region_null_mixed", "region_police_down")


def region(
    rng: np.random.Generator, planted: Region
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One simulated region as one extract: (panel of every council, campaigns with the council
    each ran in, events)."""
    month = int(rng.choice([8, 9, 10, 11, 12, 1, 2]))  # the region's campaign month
    months = pd.period_range("2020-04", "2026-09", freq="M")
    shock = _ar1(rng, len(months), planted.regional_rho, planted.regional_sd)
    panels, campaigns = [], []
    for i in range(planted.areas):
        area = f"Council {i + 1}"
        treated = i < planted.campaign_areas
        scenario = Scenario(
            planted.name,
            planted.description,
            reporting=planted.effect(i) * planted.regional_confidence,
            campaign_month=month,
            curvature=0.01 if i in planted.curved_areas else 0.0,
            police_recording=planted.police_drop if i in planted.police_drop_areas else 1.0,
            confidence_trend=planted.confidence_trend,
        )
        panel, campaign, events = council(rng, scenario, area, regional=shock)
        panels.append(panel)
        if treated:
            campaigns.append(campaign.assign(area=area))
    return pd.concat(panels, ignore_index=True), pd.concat(campaigns, ignore_index=True), events


def one_region(name: str, seed: int) -> list[dict[str, object]]:
    """The verdict on each council of one simulated region that ran the campaign, each read
    from the region's one extract as ``daanalysis verdict`` reads an area, beside the pooled
    readings of :func:`daanalysis.metrics.demand.pooled_contrasts` (the campaign councils
    together, and the councils without the campaign at its date)."""
    import warnings

    from daanalysis.metrics.demand import pooled_contrasts

    planted = REGIONS[name]
    panel, campaigns, events = region(np.random.default_rng(seed), planted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = pooled_contrasts(panel, campaigns, events, quarter=panel["quarter"].iloc[-1])
    group = pooled[0] if pooled else None
    effects = {f"Council {i + 1}": planted.effect(i) for i in range(planted.campaign_areas)}
    # The pooled contrast's truth: one value when every campaign council has the same effect.
    steps = {e * planted.regional_confidence for e in effects.values()}
    common = next(iter(steps)) if len(steps) == 1 else np.nan
    rows = []
    for area, effect in effects.items():
        v = group.verdicts[area] if group is not None and area in group.verdicts else None
        p = v.primary if v is not None else {}
        row = {
            "scenario": name,
            "seed": seed,
            "area": area,
            "verdict": v.verdict if v is not None else "",
            "claims_reporting": v is not None and v.verdict in ("reporting", "both"),
            "truth_reporting": effect != 1.0,
            "effect": effect,
            "rate_ratio": p.get("rate_ratio", np.nan),
            # The step planted in its confidence stream (the campaign's and any regional one).
            "covered": bool(p)
            and p["ci_low"] <= effect * planted.regional_confidence <= p["ci_high"],
            "fitted": bool(p),
            "mde_ratio": p.get("mde_ratio", np.nan),
        }
        if group is not None:
            pp, others, diff = group.primary, group.others, group.difference
            row.update(
                claims_pooled=group.gated.get(area, False),
                claims_pooled_placebo=group.credited.get(area, False),
                claims_relaxed=group.credited_relaxed.get(area, False),
                claims_relaxed_placebo=group.credited_relaxed.get(area, False)
                and not group.others_up,
                pooled_passes=group.passes,
                pooled_rr=pp.get("rate_ratio", np.nan),
                pooled_low=pp.get("ci_low", np.nan),
                pooled_high=pp.get("ci_high", np.nan),
                pooled_covered=(
                    bool(pp) and pp["ci_low"] <= common <= pp["ci_high"]
                    if np.isfinite(common)
                    else np.nan
                ),
                pooled_mde=pp.get("mde_ratio", np.nan),
                pooled_correlation=group.correlation,
                others_rr=others.get("rate_ratio", np.nan),
                others_low=others.get("ci_low", np.nan),
                others_up=group.others_up,
                difference_rr=diff.get("rate_ratio", np.nan),
                difference_low=diff.get("ci_low", np.nan),
                own90_low=group.own.get(area, {}).get("ci_low", np.nan),
            )
        rows.append(row)
    return rows


def _each(job, args: list[tuple], workers: int, chunksize: int) -> list:
    """``job(*a)`` for every ``a`` in ``args``, in order; over ``workers`` processes when more
    than one (councils and regions are independent simulations)."""
    if workers <= 1:
        return [job(*a) for a in args]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(job, *zip(*args, strict=True), chunksize=chunksize))


def region_study(
    regions: int, names: tuple[str, ...] = tuple(REGIONS), seed: int = REPORT_SEED, workers: int = 1
) -> pd.DataFrame:
    """One row per campaign council of ``regions`` simulated regions of each kind."""
    jobs = [(r, seed + i) for r in names for i in range(regions)]
    out = _each(one_region, jobs, workers, chunksize=4)
    return pd.DataFrame([row for rows in out for row in rows])


def _clustered(flags: pd.Series, seeds: pd.Series) -> tuple[float, float]:
    """A share and its Monte Carlo standard error with the region as the unit: the standard
    deviation of the regions' shares over the square root of the number of regions."""
    if not len(flags):
        return float("nan"), float("nan")
    by_region = flags.astype(float).groupby(seeds.to_numpy()).mean()
    return float(flags.astype(float).mean()), float(by_region.std(ddof=1) / np.sqrt(len(by_region)))


# The per-council readings compared in the region study: the single-area verdict, the pooled
# gate (docs/methods.md, "Pooling across areas") and the gate with the placebo at the campaign
# date in the councils without the campaign.
REGION_RULES = {
    "verdict": "claims_reporting",
    "pooled gate": "claims_pooled",
    "pooled gate + others' placebo": "claims_pooled_placebo",
    "relaxed gate": "claims_relaxed",
    "relaxed gate + others' placebo": "claims_relaxed_placebo",
}


def summarise_regions(results: pd.DataFrame) -> pd.DataFrame:
    """Per kind of region and per kind of campaign council (with the effect, or without it): the
    share given a "reporting" claim by each rule of :data:`REGION_RULES` present (false claims
    where no effect was planted, power where it was), the difference of each pooled rule from
    the verdict on the same councils, the verdict's coverage, inconclusive share and median
    detectable ratio, and the pooled contrast's pass rate, coverage and median detectable
    ratio. Monte Carlo standard errors treat the region as the unit (:func:`_clustered`): the
    councils of a region share its shocks and its pooled contrast."""
    rows = []
    for (name, truth), group in results.groupby(["scenario", "truth_reporting"], sort=False):
        seeds = group["seed"]
        fitted = group[group["fitted"]]
        row = {
            "scenario": name,
            "truth": REGIONS[name].description,
            "councils_with_effect": bool(truth),
            "regions": seeds.nunique(),
            "councils": len(group),
            "measure": "power" if truth else "false claim rate",
        }
        for label, column in REGION_RULES.items():
            if column not in group:
                continue
            row[label], row[f"{label} mc_se"] = _clustered(group[column], seeds)
            if column != "claims_reporting":
                diff = group[column].astype(float) - group["claims_reporting"].astype(float)
                row[f"{label} - verdict"], row[f"{label} - verdict mc_se"] = _clustered(diff, seeds)
        # Kept under the names regions_markdown and the first table used.
        row["reporting claimed"], row["mc_se"] = row["verdict"], row["verdict mc_se"]
        row["every campaign council claimed"] = float(
            group.groupby("seed")["claims_reporting"].all().mean()
        )
        row["interval coverage"], row["coverage_mc_se"] = _clustered(
            fitted["covered"], fitted["seed"]
        )
        row["inconclusive"], row["inconclusive_mc_se"] = _clustered(
            group["verdict"] == "inconclusive", seeds
        )
        row["median detectable ratio"] = float(group["mde_ratio"].median())
        if "pooled_passes" in group:
            one = group.drop_duplicates("seed")  # the pooled contrast is one per region
            row["pooled passes"], row["pooled passes mc_se"] = _clustered(
                one["pooled_passes"].astype(bool), one["seed"]
            )
            known = one[one["pooled_covered"].notna()]
            row["pooled coverage"], row["pooled coverage mc_se"] = _clustered(
                known["pooled_covered"].astype(bool), known["seed"]
            )
            row["pooled median detectable ratio"] = float(one["pooled_mde"].median())
            row["others up"], row["others up mc_se"] = _clustered(
                one["others_up"].astype(bool), one["seed"]
            )
        rows.append(row)
    return pd.DataFrame(rows)


def study(
    councils: int,
    scenarios: tuple[str, ...] = MAIN_SCENARIOS,
    seed: int = REPORT_SEED,
    workers: int = 1,
) -> pd.DataFrame:
    """One row per simulated council and scenario (seeds ``seed`` .. ``seed + councils - 1``)."""
    jobs = [(s, seed + i) for s in scenarios for i in range(councils)]
    return pd.DataFrame(_each(one_council, jobs, workers, chunksize=8))


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: false "reporting" claims (or power), interval coverage, inconclusive share
    and "need" (or "both") verdicts, each with its Monte Carlo standard error (binomial:
    sqrt(p(1-p)/n)); the verdict's and both oracles' median detectable ratios, and the oracles'
    claims (:func:`oracle`: power, or false claims where nothing was planted).

    ``interval coverage`` is of what the primary contrast estimates: the step the confidence
    stream takes, :attr:`Scenario.stream_step` (the planted step where no repeat referrals
    dilute it, 1 with no effect); for a ramp, which has no single true value of a step
    contrast, of the level the ramp reaches (``reporting``), as before. ``planted coverage``
    is of the planted ``reporting`` effect in every scenario (the table's figure until
    session 11). ``primary passes``: the share whose primary contrast alone passes its part of
    the reporting rule (95% interval above 1, estimate at least
    :data:`~daanalysis.metrics.demand.MIN_REPORTING_EFFECT`), before the corroboration and the
    other safeguards: set beside the oracles, it says where the verdict's power goes."""
    from daanalysis.metrics.demand import MIN_REPORTING_EFFECT

    def rate(flags: pd.Series) -> tuple[float, float]:
        p = float(flags.mean())
        return p, float(np.sqrt(p * (1 - p) / len(flags)))

    rows = []
    for name, group in results.groupby("scenario", sort=False):
        planted = SCENARIOS[name]
        claims, claims_se = rate(group["claims_reporting"])
        fitted = group[group["ci_low"].notna()]
        planted_cover, planted_se = (
            rate(fitted["covered"].astype(bool)) if len(fitted) else (np.nan, np.nan)
        )
        stream, stream_se = (
            rate(fitted["covered_stream"].astype(bool)) if len(fitted) else (np.nan, np.nan)
        )
        ramp = bool(planted.ramp_months)
        cover, cover_se = (planted_cover, planted_se) if ramp else (stream, stream_se)
        inconclusive, inconclusive_se = rate(group["verdict"] == "inconclusive")
        need, need_se = rate(group["claims_need"])
        primary, primary_se = rate(
            (group["ci_low"] > 1) & (group["rate_ratio"] >= MIN_REPORTING_EFFECT)
        )
        row = {
            "scenario": name,
            "truth": planted.description,
            "councils": len(group),
            "measure": "power" if planted.reporting_effect else "false claim rate",
            "reporting claimed": claims,
            "mc_se": claims_se,
            "interval coverage": cover,
            "coverage_mc_se": cover_se,
            "planted coverage": planted_cover,
            "planted_coverage_mc_se": planted_se,
            "stream step coverage": stream,
            "stream_coverage_mc_se": stream_se,
            "inconclusive": inconclusive,
            "inconclusive_mc_se": inconclusive_se,
            "need claimed": need,
            "need_mc_se": need_se,
            "primary passes": primary,
            "primary_mc_se": primary_se,
            "median detectable ratio": float(group["mde_ratio"].median()),
            "median oracle detectable ratio": float(group["oracle_mde_ratio"].median()),
            "median own-trend oracle detectable ratio": float(
                group["oracle_trend_mde_ratio"].median()
            ),
            "verdicts": ", ".join(f"{k} {v}" for k, v in group["verdict"].value_counts().items()),
        }
        for label, key in ORACLES.items():
            known = group[group[f"{key}_mde_ratio"].notna()]  # no oracle for lockdown councils
            row[f"{label} oracle claimed"], row[f"{label} oracle mc_se"] = (
                rate(known[f"{key}_claims"].astype(bool)) if len(known) else (np.nan, np.nan)
            )
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "MAIN_SCENARIOS",
    "REGIONS",
    "REGION_NULLS",
    "REGION_RULES",
    "Region",
    "REPORT_SEED",
    "WIDER_SCENARIOS",
    "SCENARIOS",
    "Scenario",
    "council",
    "one_council",
    "one_region",
    "region",
    "region_study",
    "summarise_regions",
    "ORACLES",
    "oracle",
    "study",
    "summarise",
]
