"""Reference values for ``daanalysis.metrics.its``: the fitted contrast, its standard error and
degrees of
freedom on fixed small series, against an independent computation (a hand-built design fitted
by iteratively reweighted least squares written out here in numpy, not statsmodels) and against
stored figures, so that a refactor cannot silently change the statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from daanalysis.metrics import its

MONTHS = pd.period_range("2021-04", periods=36, freq="M")
# 36 months of a control (about 200 a month) and a confidence stream (about 50) that steps up
# about 25% at Dec 2022 (month 20), drawn once (numpy seed 2026) and stored here as data.
CONTROL = [213, 211, 173, 224, 233, 209, 205, 203, 220, 226, 213, 211, 176, 216, 211, 243, 214,
           214, 207, 198, 251, 271, 215, 212, 207, 249, 211, 265, 226, 222, 210, 238, 238, 226,
           196, 233]  # fmt: skip
TREATED = [49, 47, 47, 57, 79, 45, 42, 49, 76, 69, 65, 57, 53, 56, 51, 40, 52, 59, 57, 46, 93,
           69, 84, 47, 65, 67, 54, 68, 77, 60, 80, 74, 79, 85, 69, 57]  # fmt: skip
# The same stream with a slow wobble of +-12 (a four-year cycle) added: serially correlated
# and over-dispersed, so the dispersion and AR(1) factor are exercised too.
WOBBLY = [v + round(12 * np.sin(i / 3)) for i, v in enumerate(TREATED)]
START = 20
CAMPAIGN = pd.DataFrame({"name": ["Campaign"], "start_date": [MONTHS[START].start_time]})


@pytest.fixture(autouse=True)
def _default_covariance(monkeypatch):
    monkeypatch.setattr(its, "COVARIANCE", "quasi-ar1")


def _irls(y: np.ndarray, x: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson regression with prior weights by IRLS: coefficients and (X'WX)^-1."""
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(y.mean())
    for _ in range(100):
        mu = np.exp(x @ beta)
        w = weights * mu
        z = x @ beta + (y - mu) / mu
        new = np.linalg.solve(x.T @ (w[:, None] * x), x.T @ (w * z))
        if np.max(np.abs(new - beta)) < 1e-12:
            beta = new
            break
        beta = new
    mu = np.exp(x @ beta)
    return beta, np.linalg.inv(x.T @ ((weights * mu)[:, None] * x))


def _white_noise_bias(x: np.ndarray) -> float:
    """Minus the mean lag-1 autocorrelation of least-squares residuals on ``x`` under white
    noise: sum of the hat matrix's first off-diagonal over (T - k), with the hat matrix formed
    explicitly (not by QR, as the library does)."""
    hat = x @ np.linalg.solve(x.T @ x, x.T)
    return float(np.trace(hat, offset=1) / (len(x) - x.shape[1]))


def _lag1(r: np.ndarray) -> float:
    r = r - r.mean()
    return float(r[1:] @ r[:-1] / (r @ r))


def _by_hand_two_streams(
    x: np.ndarray, counts: list[int], relative_terms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[float], float]:
    """The control's and the treated stream's counts (``counts``, in that order, T periods
    each) fitted on the design ``x`` as docs/methods.md says, from first principles: a Poisson
    fit; each stream's dispersion, its Pearson chi-square over its half of the residual degrees
    of freedom (at least 1); the refit weighted by them; the AR(1) rho of the difference of the
    two streams' relative residuals with the short-series and design biases added back.
    Returns the coefficients, their covariance, the two dispersions and rho."""
    y = np.array(counts, float)
    periods = len(y) // 2
    stream = np.repeat([0, 1], periods)
    beta, _ = _irls(y, x, np.ones(len(y)))
    mu = np.exp(x @ beta)
    pearson = (y - mu) / np.sqrt(mu)
    share = (len(y) - x.shape[1]) / 2
    phi = [max(pearson[stream == s] @ pearson[stream == s] / share, 1.0) for s in (0, 1)]
    beta, inv = _irls(y, x, 1 / np.array(phi)[stream])
    mu = np.exp(x @ beta)
    relative = y / mu - 1
    raw = _lag1(relative[periods:] - relative[:periods])
    bias = (1 + 3 * raw) / periods + _white_noise_bias(relative_terms)
    rho = min(max(raw + bias, 0.0), 0.9)
    return beta, inv, phi, rho


def _by_hand_controlled(treated: list[int]) -> dict[str, float]:
    """The controlled fit of docs/methods.md written out from first principles."""
    t = np.arange(36)
    month = np.asarray(MONTHS.month)
    step = (t >= START).astype(float)
    dummies = [(month == m).astype(float) for m in (5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    control_terms = np.column_stack([np.ones(36), t / 12, *dummies, step])  # April is the base
    angle = 2 * np.pi * month / 12
    fourier = [np.sin(angle), np.cos(angle), np.sin(2 * angle), np.cos(2 * angle)]
    relative_terms = np.column_stack([np.ones(36), t / 12, *fourier, step])
    k_c, k_r = control_terms.shape[1], relative_terms.shape[1]
    x = np.block([[control_terms, np.zeros((36, k_r))], [control_terms, relative_terms]])
    beta, inv, phi, rho = _by_hand_two_streams(x, CONTROL + treated, relative_terms)
    j = k_c + k_r - 1  # the relative step
    return {
        "log_ratio": beta[j],
        "se": np.sqrt(inv[j, j] * (1 + rho) / (1 - rho)),
        "df": 36 - int(np.ceil((k_c + k_r) / 2)),
        "phi_control": phi[0],
        "rho": rho,
    }


def _series(values: list[int]) -> pd.Series:
    return pd.Series(np.asarray(values, float), index=MONTHS)


@pytest.mark.parametrize("treated", [TREATED, WOBBLY], ids=["plain", "wobbly"])
def test_controlled_fit_matches_the_hand_built_computation(treated):
    fit = its.fit_controlled(_series(treated), _series(CONTROL), CAMPAIGN)
    result = fit.contrast(fit.campaign_weights("rel: "))
    hand = _by_hand_controlled(treated)
    assert np.log(result["rate_ratio"]) == pytest.approx(hand["log_ratio"], abs=1e-8)
    assert result["se_log"] == pytest.approx(hand["se"], rel=1e-6)
    assert fit.df == hand["df"] == 36 - 11
    assert fit.campaign_weights("rel: ") == {"rel: level: Campaign": 1.0}


@pytest.mark.parametrize("case", ["plain", "wobbly"])
def test_controlled_fit_stored_reference_values(case):
    # Worked out once by _by_hand_controlled and stored: a change to the model, the weights or
    # the interval shows here first.
    treated = TREATED if case == "plain" else WOBBLY
    fit = its.fit_controlled(_series(treated), _series(CONTROL), CAMPAIGN)
    r = fit.contrast(fit.campaign_weights("rel: "))
    reference = REFERENCE[case]
    for key in ("rate_ratio", "se_log", "ci_low", "ci_high"):
        assert r[key] == pytest.approx(reference[key], rel=1e-6), key
    assert fit.df == reference["df"]


def test_single_stream_fit_matches_the_hand_built_computation():
    t = np.arange(36)
    month = np.asarray(MONTHS.month)
    dummies = [(month == m).astype(float) for m in (5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    x = np.column_stack([np.ones(36), t / 12, *dummies, (t >= START).astype(float)])
    y = np.asarray(CONTROL, float)
    beta, _ = _irls(y, x, np.ones(36))
    mu = np.exp(x @ beta)
    phi = max(((y - mu) ** 2 / mu).sum() / (36 - 14), 1.0)
    beta, inv = _irls(y, x, np.full(36, 1 / phi))
    mu = np.exp(x @ beta)
    raw = _lag1((y - mu) / np.sqrt(mu / phi))
    rho = min(max(raw + (1 + 3 * raw) / 36 + _white_noise_bias(x), 0.0), 0.9)
    fit = its.fit_single(_series(CONTROL), CAMPAIGN)
    trend = fit.contrast({"trend": 1.0})
    assert np.log(trend["rate_ratio"]) == pytest.approx(beta[1], abs=1e-8)
    assert trend["se_log"] == pytest.approx(np.sqrt(inv[1, 1] * (1 + rho) / (1 - rho)), rel=1e-6)
    assert fit.df == 36 - 14


def test_interval_and_detectable_effect_follow_from_se_and_df():
    from scipy import stats

    fit = its.fit_controlled(_series(TREATED), _series(CONTROL), CAMPAIGN)
    r = fit.contrast(fit.campaign_weights("rel: "))
    est, se = np.log(r["rate_ratio"]), r["se_log"]
    t = stats.t.ppf(0.975, fit.df)
    assert r["ci_low"] == pytest.approx(np.exp(est - t * se))
    assert r["ci_high"] == pytest.approx(np.exp(est + t * se))
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(abs(est) / se, fit.df))
    assert r["mde_ratio"] == pytest.approx(np.exp((t + stats.t.ppf(0.8, fit.df)) * se))


def test_missing_months_are_left_out_never_read_as_zero():
    treated, control = _series(TREATED), _series(CONTROL)
    gaps = [MONTHS[5], MONTHS[6], MONTHS[30]]
    with_gaps = control.copy()
    with_gaps[gaps[:2]] = np.nan  # not collected in the control
    treated_gaps = treated.copy()
    treated_gaps[gaps[2]] = np.nan  # and one month in the confidence stream
    fit = its.fit_controlled(treated_gaps, with_gaps, CAMPAIGN)
    assert fit.left_out == gaps and fit.periods == 33
    keep = ~MONTHS.isin(gaps)
    dropped = its.fit_controlled(treated[keep], control[keep], CAMPAIGN)
    weights = fit.campaign_weights("rel: ")
    assert fit.contrast(weights) == pytest.approx(dropped.contrast(weights))
    zeros = its.fit_controlled(treated_gaps, with_gaps.fillna(0), CAMPAIGN)
    assert zeros.periods == 35  # read as 0 the months would change the fit
    single = its.fit_single(with_gaps, CAMPAIGN)
    assert single.left_out == gaps[:2] and single.periods == 34


REFERENCE = {
    "plain": {"rate_ratio": 1.17444831, "se_log": 0.123179158, "ci_low": 0.911290355,
              "ci_high": 1.51359973, "df": 25},
    "wobbly": {"rate_ratio": 1.78523634, "se_log": 0.164579983, "ci_low": 1.27200194,
               "ci_high": 2.50555341, "df": 25},
}  # fmt: skip


def test_residual_bias_worked_out_by_hand():
    # Level only: the hat matrix is 1/T everywhere, so its first off-diagonal sums to (T - 1)/T,
    # over T - 1 residual degrees of freedom: 1/T, the textbook bias of a demeaned series.
    assert its.residual_bias(np.ones((36, 1))) == pytest.approx(1 / 36)
    # Level and a term that alternates +1, -1: the hat matrix's off-diagonal is 1/T - 1/T = 0.
    alternating = np.column_stack([np.ones(36), (-1.0) ** np.arange(36)])
    assert its.residual_bias(alternating) == pytest.approx(0.0, abs=1e-12)
    # The verdict's relative design, against the explicit hat matrix.
    x = its.relative_season(its.design(MONTHS, CAMPAIGN)).to_numpy()
    assert its.residual_bias(x) == pytest.approx(_white_noise_bias(x), rel=1e-9)


def test_residual_bias_matches_white_noise_residuals():
    # Monte Carlo: the mean lag-1 autocorrelation of residuals of white noise on the design.
    x = its.relative_season(its.design(MONTHS, CAMPAIGN)).to_numpy()
    hat = x @ np.linalg.solve(x.T @ x, x.T)
    rng = np.random.default_rng(1)
    draws = [_lag1(e - hat @ e) for e in rng.normal(size=(4000, 36))]
    assert -np.mean(draws) == pytest.approx(its.residual_bias(x), abs=0.01)


def test_need_streams_combined_by_precision():
    # Each series weighted by mean / dispersion on the log scale: dispersion from a Poisson fit
    # on the stream's own terms (worked out here by IRLS), the sum rescaled to the raw total.
    police, wobbly = _series(CONTROL), _series(WOBBLY)
    combined, weights = its.combine({"police": police, "other": wobbly}, CAMPAIGN)
    x = its.design(MONTHS, CAMPAIGN).to_numpy()
    phi = {}
    for name, y in (("police", police), ("other", wobbly)):
        beta, _ = _irls(y.to_numpy(), x, np.ones(36))
        mu = np.exp(x @ beta)
        phi[name] = max(((y.to_numpy() - mu) ** 2 / mu).sum() / (36 - x.shape[1]), 1.0)
    assert its.dispersion(wobbly, CAMPAIGN) == pytest.approx(phi["other"], rel=1e-6)
    scaled = police / phi["police"] + wobbly / phi["other"]
    assert weights["police"] == pytest.approx((police / phi["police"]).sum() / scaled.sum())
    assert sum(weights.values()) == pytest.approx(1.0)
    assert combined.to_numpy() == pytest.approx(
        (scaled * (police.sum() + wobbly.sum()) / scaled.sum()).to_numpy()
    )


def test_whole_window_placebo_dates_keep_clear_of_the_campaign():
    months = pd.period_range("2020-04", "2026-09", freq="M")
    campaign = pd.DataFrame({"name": ["C"], "start_date": [pd.Timestamp("2022-10-01")]})
    dates = its.whole_window_dates(months, campaign)
    assert dates[0] == pd.Period("2021-04", "M")  # a year of data before
    assert dates[-1] == pd.Period("2026-04", "M")  # six months after
    # Nothing from 6 months before the campaign to 12 months after it.
    assert pd.Period("2022-03", "M") in dates and pd.Period("2023-10", "M") in dates
    gap = pd.period_range("2022-04", "2023-09", freq="M")
    assert not set(gap) & set(dates)
    assert len(dates) == len(pd.period_range("2021-04", "2026-04", freq="M")) - len(gap)


# --- two campaign shapes tested together (version 5) -------------------------------------------


def test_joint_level_worked_out_by_hand_and_by_simulation():
    from scipy import stats

    # Independent statistics: either of two passes with probability 1 - (1 - p)^2 for p each,
    # so p = 1 - sqrt(1 - 0.025) and the two-sided level of each is 2p.
    assert its.joint_alpha(0.05, 0.0) == pytest.approx(2 * (1 - np.sqrt(1 - 0.025)), rel=1e-6)
    assert its.joint_alpha(0.05, 1.0) == pytest.approx(0.05)  # the same test twice
    assert its.joint_alpha(0.05, -0.4) == its.joint_alpha(0.05, 0.0)  # never narrower
    # Correlated statistics (0.7): Monte Carlo, 400,000 pairs, error about 0.00025.
    rho = 0.7
    h = stats.norm.isf(its.joint_alpha(0.05, rho) / 2)
    z = np.random.default_rng(7).multivariate_normal([0, 0], [[1, rho], [rho, 1]], 400_000)
    assert (z.max(axis=1) > h).mean() == pytest.approx(0.025, abs=0.001)
    assert its.joint_alpha(0.05, 0.0) < its.joint_alpha(0.05, rho) < 0.05


def test_step_and_ramp_effects_correlate_as_repeated_draws_show():
    # The same data as a step and as a 12-month ramp: the stated correlation of the two
    # effects, from the fit's influence values, against their correlation over 300 Poisson
    # redraws (Monte Carlo error about 0.06 at this size).
    control, treated = _series(CONTROL), _series(TREATED)
    step = its.fit_controlled(treated, control, CAMPAIGN, ramp_months=0)
    ramp = its.fit_controlled(treated, control, CAMPAIGN, ramp_months=12)
    stated = its.effect_correlation(step, ramp)
    assert its.effect_correlation(step, step) == pytest.approx(1.0)
    assert 0.0 < stated < 0.95
    # Redraws around a plain truth: the control flat at 215, the treated stream at 55 with a
    # 25% step at the campaign.
    fitted = np.concatenate([np.full(36, 215.0), 55 * np.where(np.arange(36) >= START, 1.25, 1)])
    rng = np.random.default_rng(3)
    pairs = []
    for _ in range(300):
        y = rng.poisson(fitted)
        c, t = pd.Series(y[:36], MONTHS, dtype=float), pd.Series(y[36:], MONTHS, dtype=float)
        a = its.fit_controlled(t, c, CAMPAIGN, ramp_months=0)
        b = its.fit_controlled(t, c, CAMPAIGN, ramp_months=12)
        pairs.append(
            (
                a.params
                @ pd.Series(a.campaign_weights("rel: ")).reindex(a.params.index, fill_value=0),
                b.params
                @ pd.Series(b.campaign_weights("rel: ")).reindex(b.params.index, fill_value=0),
            )
        )
    assert np.corrcoef(np.array(pairs).T)[0, 1] == pytest.approx(stated, abs=0.1)


def test_a_ramp_is_read_where_it_is_held():
    # A 12-month ramp's level term is 1 once the rise is complete, so the average campaign
    # effect gives it weight 1 with one campaign, as a step's.
    fit = its.fit_controlled(_series(TREATED), _series(CONTROL), CAMPAIGN, ramp_months=12)
    assert fit.campaign_weights("rel: ") == {"rel: level: Campaign": 1.0}
    ramp = fit.design["level: Campaign"].to_numpy()
    assert ramp[START - 1] == 0 and ramp[START] == pytest.approx(1 / 12)
    assert ramp[START + 11] == 1 and ramp[-1] == 1


# --- a campaign starting inside a period (quarterly returns) -----------------------------------

QUARTERS = pd.period_range("2021-04", periods=36, freq="M").asfreq("Q-MAR").unique()
# The monthly series above summed to 12 quarters (Apr-Jun 2021 .. Jan-Mar 2024).
Q_CONTROL = [sum(CONTROL[3 * i : 3 * i + 3]) for i in range(12)]
Q_TREATED = [sum(TREATED[3 * i : 3 * i + 3]) for i in range(12)]
# 1 Dec 2022: the last month of the quarter Oct-Dec 2022 (the 7th), so 31 of its 92 days.
MID_QUARTER = pd.DataFrame({"name": ["Campaign"], "start_date": [pd.Timestamp("2022-12-01")]})
SHARE = 31 / 92


def _by_hand_quarterly(step: np.ndarray) -> dict[str, float]:
    """The controlled fit on quarters written out: each stream's level, trend (years), three
    quarter-of-year terms against April-June and the campaign ``step``; the treated stream's
    relative terms the same (quarterly series keep their quarter terms)."""
    t = np.arange(12)
    quarter = [(t % 4 == q).astype(float) for q in (1, 2, 3)]
    terms = np.column_stack([np.ones(12), t / 4, *quarter, step])
    k = terms.shape[1]
    x = np.block([[terms, np.zeros((12, k))], [terms, terms]])
    beta, inv, _, rho = _by_hand_two_streams(x, Q_CONTROL + Q_TREATED, terms)
    return {"log_ratio": beta[-1], "se": np.sqrt(inv[-1, -1] * (1 + rho) / (1 - rho)),
            "df": 12 - k}  # fmt: skip


def _quarterly(values: list[int]) -> pd.Series:
    return pd.Series(np.asarray(values, float), index=QUARTERS)


def test_a_campaign_inside_a_quarter_steps_its_share_of_that_quarter(monkeypatch):
    monkeypatch.setattr(its, "PARTIAL_FIRST_PERIOD", True)
    step = np.where(np.arange(12) >= 7, 1.0, 0.0)
    step[6] = SHARE  # the days of Oct-Dec 2022 on or after 1 Dec: 31 of 92
    design = its.design(QUARTERS, MID_QUARTER)
    assert design["level: Campaign"].to_numpy() == pytest.approx(step, abs=1e-15)
    fit = its.fit_controlled(_quarterly(Q_TREATED), _quarterly(Q_CONTROL), MID_QUARTER)
    result = fit.contrast(fit.campaign_weights("rel: "))
    hand = _by_hand_quarterly(step)
    assert np.log(result["rate_ratio"]) == pytest.approx(hand["log_ratio"], abs=1e-8)
    assert result["se_log"] == pytest.approx(hand["se"], rel=1e-6)
    assert fit.df == hand["df"] == 6
    # The partly stepped quarter counts as started: one campaign, its step, weight 1.
    assert fit.campaign_weights("rel: ") == {"rel: level: Campaign": 1.0}
    # Stored once from _by_hand_quarterly, so a change to the model shows here first.
    assert result["rate_ratio"] == pytest.approx(QUARTERLY_REFERENCE["partial"], rel=1e-6)
    # Counted whole (version 4), the quarter is stepped in full: a different, hand-built figure.
    monkeypatch.setattr(its, "PARTIAL_FIRST_PERIOD", False)
    whole = its.fit_controlled(_quarterly(Q_TREATED), _quarterly(Q_CONTROL), MID_QUARTER)
    whole_step = np.where(np.arange(12) >= 6, 1.0, 0.0)
    assert np.log(whole.contrast(whole.campaign_weights("rel: "))["rate_ratio"]) == pytest.approx(
        _by_hand_quarterly(whole_step)["log_ratio"], abs=1e-8
    )


def test_a_campaign_on_the_first_of_a_month_steps_whole_months(monkeypatch):
    # Monthly figures with a campaign starting on the 1st: the same 0/1 step either way, so
    # the stored monthly reference values hold under both settings.
    for partial in (False, True):
        monkeypatch.setattr(its, "PARTIAL_FIRST_PERIOD", partial)
        step = its.design(MONTHS, CAMPAIGN)["level: Campaign"].to_numpy()
        assert step.tolist() == [0.0] * START + [1.0] * (36 - START)
        fit = its.fit_controlled(_series(TREATED), _series(CONTROL), CAMPAIGN)
        r = fit.contrast(fit.campaign_weights("rel: "))
        assert r["rate_ratio"] == pytest.approx(REFERENCE["plain"]["rate_ratio"], rel=1e-9)
    # A campaign from the 16th of December 2022 steps 16 of December's 31 days.
    monkeypatch.setattr(its, "PARTIAL_FIRST_PERIOD", True)
    mid_month = pd.DataFrame({"name": ["Campaign"], "start_date": [pd.Timestamp("2022-12-16")]})
    step = its.design(MONTHS, mid_month)["level: Campaign"].to_numpy()
    assert step[START - 1] == 0 and step[START] == pytest.approx(16 / 31) and step[-1] == 1


QUARTERLY_REFERENCE = {"partial": 1.07465636, "ramp": 1.20056864}  # by _by_hand_quarterly


def test_a_noise_free_step_from_inside_a_quarter_is_recovered(monkeypatch):
    # Expected counts with no noise: 26 quarters, a control and a confidence stream sharing a
    # 1% a quarter trend and a season; the confidence stream 1.3 times higher from 1 December
    # 2022 (so a third of Oct-Dec 2022 is lifted: 150 x (1 + 0.3 x 31/92) there).
    quarters = pd.period_range("2020-04", "2026-09", freq="M").asfreq("Q-MAR").unique()
    t = np.arange(len(quarters))
    shared = 1.01**t * np.array([1.0, 1.1, 1.05, 1.12])[t % 4]
    lifted = np.where(t > 10, 1.3, 1.0)
    lifted[10] = 1 + 0.3 * 31 / 92  # Oct-Dec 2022
    assert quarters[10] == pd.Period("2022-12", "M").asfreq("Q-MAR")
    control = pd.Series(600 * shared, quarters)
    treated = pd.Series(150 * shared * lifted, quarters)
    campaign = pd.DataFrame({"name": ["C"], "start_date": [pd.Timestamp("2022-12-01")]})
    fit = its.fit_controlled(treated, control, campaign)
    assert fit.contrast(fit.campaign_weights("rel: "))["rate_ratio"] == pytest.approx(
        1.3, abs=0.002
    )
    # Counted whole, the two thirds of that quarter before the campaign pull the step down.
    monkeypatch.setattr(its, "PARTIAL_FIRST_PERIOD", False)
    whole = its.fit_controlled(treated, control, campaign)
    assert whole.contrast(whole.campaign_weights("rel: "))["rate_ratio"] < 1.26


def test_a_ramp_counts_the_start_s_period_by_its_share_as_the_step_does(monkeypatch):
    """A 12-month ramp (4 quarters) from 1 December 2022 on quarters: the level by each
    quarter's end is the time since the start, in quarters, over 4: 31/92 of a quarter by the
    end of Oct-Dec 2022, then one more quarter each; the fit against the hand-built IRLS with
    that column. Counted whole (version 5), Oct-Dec 2022 was a full quarter of the rise."""
    monkeypatch.setattr(its, "PARTIAL_FIRST_PERIOD", True)
    ramp = np.clip(np.where(np.arange(12) >= 6, np.arange(12) - 6 + SHARE, 0.0) / 4, 0, 1)
    assert ramp[6] == pytest.approx(SHARE / 4) and ramp[9] < 1 and ramp[10] == 1
    columns = its._design_columns(QUARTERS, MID_QUARTER, ramp_months=12)
    assert columns["level: Campaign"] == pytest.approx(ramp, abs=1e-15)
    fit = its.fit_controlled(
        _quarterly(Q_TREATED), _quarterly(Q_CONTROL), MID_QUARTER, ramp_months=12
    )
    assert fit.campaign_weights("rel: ") == {"rel: level: Campaign": 1.0}
    result = fit.contrast(fit.campaign_weights("rel: "))
    hand = _by_hand_quarterly(ramp)
    assert np.log(result["rate_ratio"]) == pytest.approx(hand["log_ratio"], abs=1e-8)
    assert result["se_log"] == pytest.approx(hand["se"], rel=1e-6)
    assert fit.df == hand["df"]
    # Stored once from _by_hand_quarterly, so a change to the model shows here first.
    assert result["rate_ratio"] == pytest.approx(QUARTERLY_REFERENCE["ramp"], rel=1e-6)
    # Counted whole: the start's quarter a full quarter of the rise.
    monkeypatch.setattr(its, "PARTIAL_FIRST_PERIOD", False)
    whole = its._design_columns(QUARTERS, MID_QUARTER, ramp_months=12)["level: Campaign"]
    assert whole == pytest.approx(np.clip((np.arange(12) - 5) / 4, 0, 1))


def test_a_monthly_ramp_from_the_first_of_a_month_is_unchanged_and_mid_month_takes_its_share():
    # From the 1st: (months since the start + 1) / 12, as version 5 built it, exactly.
    ramp = its._design_columns(MONTHS, CAMPAIGN, ramp_months=12)["level: Campaign"]
    after = np.arange(36) - START
    assert ramp.tolist() == np.where(after >= 0, np.clip((after + 1) / 12, 0, 1), 0.0).tolist()
    # From 16 December 2022: 16 of December's 31 days, then a month more each month.
    mid_month = pd.DataFrame({"name": ["Campaign"], "start_date": [pd.Timestamp("2022-12-16")]})
    ramp = its._design_columns(MONTHS, mid_month, ramp_months=12)["level: Campaign"]
    assert ramp[START - 1] == 0 and ramp[START] == pytest.approx(16 / 31 / 12)
    assert ramp[START + 1] == pytest.approx((1 + 16 / 31) / 12)
    assert ramp[START + 11] == pytest.approx((11 + 16 / 31) / 12) and ramp[START + 12] == 1
