"""Interrupted time series of monthly (or quarterly) counts, alone or against a control series.

The demand verdict rests on a *controlled* interrupted time series (Lopez Bernal, Cummins and
Gasparrini 2017; Lopez Bernal et al. 2018 on controls): a confidence-sensitive stream and a
need-sensitive control stream are fitted in one Poisson GLM. The control has its own level,
trend, month-of-year terms, events and the level (and slope) change at each campaign; the
treated stream has its difference from each of them (``rel: <term>``), with the difference in
season as two Fourier pairs, so the campaign terms of the confidence stream, written relative
to the control's, are a difference-in-differences contrast on the log scale. A rise in need
that starts at a campaign date, or a shock that hits both streams in the same month, moves both
streams and cancels.

Intervals (:data:`COVARIANCE` "quasi-ar1"): each stream's over-dispersion is estimated from its
Pearson residuals and the model refitted with it as a variance weight (quasi-Poisson, stream by
stream), and the covariance is multiplied by the AR(1) long-run factor (1 + rho) / (1 - rho)
sized to the month-to-month correlation left in the difference of the two streams' residuals,
bias-corrected for a short series. They use a t distribution with one degree of freedom per
period less the terms per stream. The Driscoll-Kraay sandwich of version 2 is kept as an option
("driscoll-kraay", one small-sample correction); on short series it ran narrow (docs/methods.md).

Impact model, fixed before seeing any data: at each campaign start a change in level and a
change in slope. The campaign *effect* is read 12 months after each start (level change plus a
year of slope change), summed over campaigns: the rate ratio a year on, against what the
pre-campaign pattern predicted.

Other interruptions come from ``events.csv``: a ``level_shift`` is a permanent step in every
stream from its start; a ``temporary`` event's periods each get their own value per stream, so
neither a dip nor its recovery informs the trend or a campaign step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from daanalysis.metrics import data_notes
from daanalysis.metrics.data_notes import DataNote

MIN_MONTHS_BEFORE = 12  # a campaign needs a year of data before it to know the season and trend
MIN_MONTHS_AFTER = 6  # and half a year after it to see a step
EFFECT_HORIZON_YEARS = 1.0  # campaign effects are read a year after each start
ALPHA = 0.05
POWER = 0.80
# The shape of a campaign's change in level: 0, a step at its start; n > 0, a rise spread evenly
# over its first n months, then held (docs/methods.md: chosen by measurement).
RAMP_MONTHS = 0
# Months after each campaign start that get a term of their own (a phase-in), so the step is
# read from the months after them: a campaign whose effect builds up over its first months is
# not averaged with its start (docs/methods.md: chosen by measurement).
TRANSITION_MONTHS = 0
# A campaign step's first period counts by the share of it on or after the start date (True),
# or whole (False, version 4). The same on monthly figures when campaigns start on the first of
# a month; on quarterly returns a campaign starting in a quarter's second or third month steps
# that quarter in part (docs/methods.md: measured on tuning and fresh seeds).
PARTIAL_FIRST_PERIOD = True


def periods_per_year(index: pd.PeriodIndex) -> int:
    return 4 if index.freqstr.startswith("Q") else 12


def _fraction_from(index: pd.PeriodIndex, start: pd.Timestamp) -> np.ndarray:
    """Share of each period on or after ``start`` (0 before, 1 after, a fraction in between)."""
    begin = index.start_time
    end = index.end_time.normalize() + pd.Timedelta(days=1)
    length = (end - begin).days.to_numpy(float)
    after = (end - start).days.to_numpy(float)
    return np.clip(after / length, 0.0, 1.0)


def common_index(a: pd.Series, b: pd.Series) -> pd.PeriodIndex:
    """The periods both series have, in order."""
    return pd.PeriodIndex(a.index).intersection(pd.PeriodIndex(b.index)).sort_values()


def usable_campaigns(
    index: pd.PeriodIndex, campaigns: pd.DataFrame, label: str = ""
) -> tuple[pd.DataFrame, list[DataNote]]:
    """Campaigns with at least a year of ``index`` before their start and six months after, and
    a note for each of the others (``label``: the stream they were checked for)."""
    per_year = periods_per_year(index)
    notes, keep = [], []
    for i, c in campaigns.iterrows():
        start = c["start_date"].to_period(index.freqstr)
        before = int((index < start).sum()) * 12 / per_year
        after = int((index >= start).sum()) * 12 / per_year
        if before < MIN_MONTHS_BEFORE:
            notes.append(DataNote(data_notes.TOO_EARLY, c["name"], label))
        elif after < MIN_MONTHS_AFTER + TRANSITION_MONTHS:
            notes.append(DataNote(data_notes.TOO_RECENT, c["name"], label))
        else:
            keep.append(i)
    return campaigns.loc[keep], notes


_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")  # fmt: skip


def _design_columns(
    index: pd.PeriodIndex,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    slope: bool = False,
    base: bool = True,
    ramp_months: int | None = None,
) -> dict[str, np.ndarray]:
    """The columns of :func:`design` as numpy arrays in order, before constant ones are left
    out; ``base`` False: the campaign terms alone (what :func:`placebo_check` adds for each
    placebo date to a design it builds once); ``ramp_months`` the shape of each campaign's change
    in level (None: :data:`RAMP_MONTHS`)."""
    per_year = periods_per_year(index)
    # Period ordinals: the number of periods between two periods of one frequency is the
    # difference of their ordinals (what ``(p - first).n`` gave, without a Python loop).
    ordinals = index.asi8
    cols: dict[str, np.ndarray] = {}
    if base:
        n = len(index)
        cols["const"] = np.ones(n)
        cols["trend"] = (ordinals - ordinals.min()).astype(float) / per_year
        if per_year == 4:
            numbers, names, base_number = np.asarray(index.quarter), None, 1
        else:
            numbers, names, base_number = np.asarray(index.month), _MONTH_ABBR, 4
        for number in dict.fromkeys(numbers.tolist()):
            if number != base_number:
                label = f"Q{number}" if names is None else names[number - 1]
                cols[f"season: {label}"] = (numbers == number).astype(float)
        for e in events.to_dict("records") if events is not None else []:
            if e["kind"] == "level_shift":
                cols[f"event: {e['name']}"] = _fraction_from(index, e["start_date"])
            else:
                start = e["start_date"].to_period(index.freqstr).ordinal
                end = e["end_date"].to_period(index.freqstr).ordinal
                for i in np.flatnonzero((ordinals >= start) & (ordinals <= end)):
                    cols[f"event: {e['name']} [{index[i]}]"] = (ordinals == ordinals[i]).astype(
                        float
                    )
    ramp = (RAMP_MONTHS if ramp_months is None else ramp_months) * per_year / 12
    phase_in = int(np.ceil(TRANSITION_MONTHS * per_year / 12))
    for name, start_date in zip(campaigns["name"], campaigns["start_date"], strict=True):
        start = start_date.to_period(index.freqstr)
        after = (ordinals - start.ordinal).astype(float)
        # A step, or (RAMP_MONTHS > 0) a rise spread evenly over that many months then held.
        if ramp:
            # The share of the rise done by each period's end, time counted from the start date:
            # the start's own period counts by its share on or after the start (as the step's
            # does, PARTIAL_FIRST_PERIOD), every later one whole. A campaign on the first of a
            # period: (after + 1) / ramp, as before, bit for bit.
            first = (
                _fraction_from(pd.PeriodIndex([start]), start_date)[0]
                if PARTIAL_FIRST_PERIOD
                else 1.0
            )
            elapsed = np.where(after >= 0, after + first, 0.0)
            cols[f"level: {name}"] = np.clip(elapsed / ramp, 0, 1)
        elif PARTIAL_FIRST_PERIOD:
            # The share of each period on or after the start, as for a level_shift event: a
            # campaign starting in the second month of a quarter steps two thirds of that
            # quarter, not all of it (counted whole, the partly untreated quarter pulled the
            # step towards 0: docs/methods.md).
            cols[f"level: {name}"] = _fraction_from(index, start_date)
        else:
            cols[f"level: {name}"] = (after >= 0).astype(float)
        if slope:
            cols[f"slope: {name}"] = np.clip(after, 0, None) / per_year
        for k in range(phase_in):
            if (after == k).any():
                cols[f"transition: {name} [{start + k}]"] = (after == k).astype(float)
    return cols


def _varying(cols: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """The names and matrix (one row per period) of the columns that vary, and ``const``."""
    names = [c for c, v in cols.items() if c == "const" or np.ptp(v) > 0]
    n = len(next(iter(cols.values()))) if cols else 0
    return names, np.column_stack([cols[c] for c in names]) if names else np.empty((n, 0))


def design(
    index: pd.PeriodIndex,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    slope: bool = False,
) -> pd.DataFrame:
    """Terms of one stream: ``const``, ``trend`` (years), ``season: <month>`` against April (or
    ``season: Q2..`` against Q1), events, and ``level: <campaign>`` / ``slope: <campaign>``.

    Terms that are constant over ``index`` (an event wholly before or after the data) are left
    out, since they cannot be told apart from the level.
    """
    names, x = _varying(_design_columns(index, campaigns, events, slope))
    return pd.DataFrame(x, index=index, columns=names)


class NotIdentifiable(ValueError):
    """The data cannot tell some terms apart (e.g. a campaign step inside an event's months)."""


def _require_identifiable(x: pd.DataFrame | np.ndarray, names: list[str] | None = None) -> None:
    """Refuse a design whose terms the data cannot tell apart, rather than fit an arbitrary split.

    This happens when every period after a campaign starts lies inside a temporary event (each
    of those periods has its own term), or when two campaigns start in the same period.
    """
    names = list(x.columns) if names is None else names
    if np.linalg.matrix_rank(np.asarray(x)) < x.shape[1]:
        campaigns = [c.removeprefix("level: ") for c in names if c.startswith("level: ")]
        raise NotIdentifiable(
            "the data cannot tell the campaign step"
            + (f" ({', '.join(campaigns)})" if campaigns else "")
            + " apart from the events or other campaigns around it: each period after it is "
            "covered by a temporary event, or two campaigns start in the same period."
        )


def _maxlags(periods: int) -> int:
    # Newey and West (1994) plug-in rule for the Bartlett kernel.
    return max(1, int(np.floor(4 * (periods / 100) ** (2 / 9))))


@dataclass
class Fit:
    """A fitted (controlled) interrupted time series."""

    params: pd.Series
    cov: pd.DataFrame
    df: int  # degrees of freedom for t intervals
    periods: int
    dispersion: float
    resid_lag1: dict[str, float]
    columns: list[str]
    campaigns: list[str]
    effect_weights: dict[str, float]
    outliers: list[pd.Period] = field(default_factory=list)
    # The treated stream's terms relative to the control (``rel: <term>``), indexed by period.
    design: pd.DataFrame | None = None
    left_out: list[pd.Period] = field(default_factory=list)  # periods missing (NaN), not fitted
    # A controlled fit's average campaign effect (:meth:`campaign_weights` of the relative
    # terms) as a linear function of the working response, one value per fitted row, and the
    # rows' working weights: what :func:`effect_correlation` needs to set two shapes' tests
    # together. None for a single stream.
    effect_influence: np.ndarray | None = field(default=None, repr=False)
    working_weights: np.ndarray | None = field(default=None, repr=False)

    def relative_path(self) -> pd.DataFrame:
        """A controlled fit's treated-to-control ratio by period: as fitted, and as the
        pre-campaign pattern would have it (every campaign term set to zero)."""
        rel = self.params[[f"rel: {c}" for c in self.design.columns]].to_numpy()
        x = self.design.to_numpy()
        campaign = np.array(
            [c.startswith(("level: ", "slope: ", "transition: ")) for c in self.design.columns]
        )
        return pd.DataFrame(
            {
                "fitted": np.exp(x @ rel),
                "without_campaigns": np.exp(x[:, ~campaign] @ rel[~campaign]),
            },
            index=self.design.index,
        )

    def contrast(self, weights: dict[str, float], alpha: float = ALPHA) -> dict[str, float]:
        """Estimate, (1 - ``alpha``) interval and p-value of a linear combination, as rate
        ratios; ``mde_ratio`` is the smallest effect detectable with 80% power at ``alpha``."""
        from scipy import stats

        # The weights as a vector over the terms (a term the fit lacks counts 0).
        position = {term: i for i, term in enumerate(self.params.index)}
        w = np.zeros(len(position))
        for term, value in weights.items():
            if term in position:
                w[position[term]] = float(value)
        est = float(w @ self.params.to_numpy())
        se = float(np.sqrt(max(w @ np.asarray(self.cov) @ w, 0.0)))
        t = stats.t.ppf(1 - alpha / 2, self.df)
        p = float(2 * stats.t.sf(abs(est) / se, self.df)) if se > 0 else float("nan")
        mde = (t + stats.t.ppf(POWER, self.df)) * se
        return {
            "rate_ratio": float(np.exp(est)),
            "ci_low": float(np.exp(est - t * se)),
            "ci_high": float(np.exp(est + t * se)),
            "p_value": p,
            "se_log": se,
            "mde_ratio": float(np.exp(mde)),
        }

    def campaign_weights(self, prefix: str = "") -> dict[str, float]:
        """Weights for the average campaign effect since the first campaign began.

        Each campaign term is weighted by its mean value over the periods from the first
        campaign's start to the end of the data, so the contrast is the mean modelled effect of
        the campaigns over that time: with one campaign and a level step, the step itself.
        """
        return {f"{prefix}{term}": w for term, w in self.effect_weights.items()}


def _effect_weights(names: list[str], x: np.ndarray) -> dict[str, float]:
    """Each campaign term's weight in the average campaign effect since the first campaign
    began: a level term counts in every period from its campaign's start (so a ramp's level is
    read where it is held, the change it rises to, as a step's is), a slope term by its mean."""
    terms = [i for i, c in enumerate(names) if c.startswith(("level: ", "slope: "))]
    if not terms:
        return {}
    levels = [i for i in terms if names[i].startswith("level: ")]
    started = x[:, levels].max(axis=1) > 0
    return {
        names[i]: float((x[started, i] > 0).mean() if i in levels else x[started, i].mean())
        for i in terms
    }


def _outliers(resid: np.ndarray, index: pd.PeriodIndex, limit: float = 4.0) -> list[pd.Period]:
    """Periods whose residual is more than ``limit`` robust standard deviations (MAD) out."""
    centre = np.median(resid)
    spread = 1.4826 * np.median(np.abs(resid - centre))
    if not spread > 0:
        return []
    return list(index[np.abs(resid - centre) > limit * spread])


def _lag1(resid: np.ndarray) -> float:
    r = resid - resid.mean()
    denom = float(r @ r)
    return float(r[1:] @ r[:-1] / denom) if denom > 0 and len(r) > 2 else float("nan")


# How intervals are computed (docs/methods.md, "Intervals", has the measurements behind the choice):
# "quasi-ar1", stream-specific quasi-Poisson dispersion and an AR(1) long-run factor sized to the
# residuals; "driscoll-kraay", the sandwich of version 2 with one small-sample correction.
COVARIANCE = "quasi-ar1"
RESIDUAL_BIAS = 1.0  # share of the residual bias (:func:`residual_bias`) added back
# The 1 in Kendall's (1 + 3 rho) / T: the bias that removing the series' mean puts into the
# lag-1 autocorrelation, which :func:`residual_bias` already counts for the constant term.
SERIES_MEAN_BIAS = 1.0
MAX_RHO = 0.9  # an AR(1) factor above (1 + 0.9) / (1 - 0.9) = 19 says the model does not fit


def residual_bias(x: np.ndarray) -> float:
    """How far below 0 the lag-1 autocorrelation of least-squares residuals on the columns of
    ``x`` falls on average when the errors are white noise: tr(H L) / (T - k), H the hat matrix
    of ``x`` (T rows, rank k) and L the lag-1 shift, since E[e'Le] = -sigma^2 tr(H L) and
    E[e'e] = sigma^2 (T - k).

    A smooth term (level, trend, a step) adds about 1 / T; a term that alternates from one
    period to the next adds less, down to -1 / T: quarter-of-year dummies with the level add
    about 0 together. So the bias is worked out from the design, not taken as k / T for k terms
    (which counted every term as smooth and, on 26 quarters, added about 0.2 to rho where the
    residuals showed none).
    """
    q, r = np.linalg.qr(np.asarray(x, float))
    keep = np.abs(np.diag(r)) > 1e-10 * np.abs(np.diag(r)).max()
    q = q[:, keep]
    n, k = q.shape
    trace = float(np.einsum("ij,ij->", q[1:], q[:-1]))  # sum over t of H[t, t - 1]
    return trace / max(n - k, 1)


def _ar1_factor(resid: np.ndarray, terms: float | np.ndarray) -> tuple[float, float]:
    """The long-run variance factor (1 + rho) / (1 - rho) for a slowly changing regressor (a
    step, a trend) under AR(1) errors, and rho, from the lag-1 autocorrelation of ``resid``.

    The sample value is biased towards 0 in short series, by about (1 + 3 rho) / T for a series
    (Kendall 1954; Marriott and Pope 1954) and a further :func:`residual_bias` for residuals
    from the fitted terms ``terms`` (their design, one row per period; a number k: k / T);
    both are added back. A negative rho is taken as 0 (no narrowing for it).
    """
    n = len(resid)
    raw = _lag1(resid)
    if not np.isfinite(raw):
        return 1.0, 0.0
    bias = terms / n if np.isscalar(terms) else residual_bias(terms)
    rho = raw + (SERIES_MEAN_BIAS + 3 * raw) / n + RESIDUAL_BIAS * bias
    rho = float(np.clip(rho, 0.0, MAX_RHO))
    return (1 + rho) / (1 - rho), rho


def _glm(
    y: np.ndarray,
    x: pd.DataFrame,
    time: np.ndarray,
    periods: int,
    streams: np.ndarray | None = None,
    relative_terms: int | np.ndarray | None = None,
):
    """Poisson GLM fit and the covariance of its terms.

    ``streams`` labels each row's stream (0 control, 1 treated; None: one stream). With
    :data:`COVARIANCE` "quasi-ar1" (the default): each stream's dispersion is its Pearson
    chi-square over its share of the residual degrees of freedom (at least 1: no narrowing
    below Poisson), the model is refitted with those as variance weights (so a noisy stream
    counts for less, as it should), and its covariance is multiplied by the AR(1) factor of
    :func:`_ar1_factor` from the residual series the contrasts rest on: the difference of the
    two streams' relative residuals (a shock both share cancels in it) or, for one stream, its
    Pearson residuals. ``relative_terms`` is the design that series is fitted with (one row
    per period; None: ``x``; a number k: k terms, each counted as smooth).

    "driscoll-kraay": statsmodels ``hac-groupsum`` with its ``use_correction="hac"`` (N / (N -
    K)) and nothing more. Until version 3 the project multiplied statsmodels' own cluster
    correction by a further T / (T - k), which doubled it.
    """
    # The GLM module alone: ``statsmodels.api`` would import every model (seconds per kernel).
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    if COVARIANCE == "driscoll-kraay":
        fit = GLM(y, np.asarray(x), family=Poisson()).fit(
            cov_type="hac-groupsum",
            cov_kwds={"time": time, "maxlags": _maxlags(periods), "use_correction": "hac"},
        )
        return fit, fit.cov_params()
    streams = np.zeros(len(y), int) if streams is None else streams
    # Fitted on the plain arrays: statsmodels' pandas handling costs more than the fit on
    # these small designs; the names go back on in :func:`_named`.
    x = np.asarray(x, float)
    first = GLM(y, x, family=Poisson()).fit()
    pearson = np.asarray(first.resid_pearson)
    per_stream_df = max((len(y) - x.shape[1]) / (streams.max() + 1), 1.0)
    dispersion = np.array(
        [max(float(pearson[streams == s] @ pearson[streams == s]) / per_stream_df, 1.0)
         for s in range(streams.max() + 1)]
    )  # fmt: skip
    fit = GLM(y, x, family=Poisson(), var_weights=1 / dispersion[streams]).fit()
    if streams.max() == 0:
        series = np.asarray(fit.resid_pearson)
    else:
        relative = y / np.asarray(fit.fittedvalues) - 1
        series = relative[streams == 1] - relative[streams == 0]
    terms = x if relative_terms is None else relative_terms
    factor, _ = _ar1_factor(series, terms)
    return fit, fit.cov_params() * factor


def _named(params: np.ndarray, cov: np.ndarray, names: list[str]) -> tuple[pd.Series, pd.DataFrame]:
    """A fit's coefficients and covariance labelled by term."""
    return pd.Series(params, index=names), pd.DataFrame(cov, index=names, columns=names)


def _result(
    fit,
    cov: np.ndarray,
    names: list[str],
    x: np.ndarray,
    all_names: list[str],
    campaigns: pd.DataFrame,
    terms: float,
    **extra,
) -> Fit:
    """A :class:`Fit` from a fitted GLM whose terms are ``all_names``, and the terms of one
    stream ``x`` (named ``names``); ``terms`` is the number of fitted terms per stream (all
    terms over the streams), for the t degrees of freedom: periods less terms."""
    periods = len(x)
    params, cov = _named(np.asarray(fit.params), np.asarray(cov), all_names)
    return Fit(
        params=params,
        cov=cov,
        df=max(periods - int(np.ceil(terms)), 1),
        periods=periods,
        dispersion=float(fit.pearson_chi2 / max(fit.df_resid, 1)),
        columns=list(names),
        campaigns=[c for c in campaigns["name"] if f"level: {c}" in names],
        effect_weights=_effect_weights(names, x),
        **extra,
    )


def _observed(y: pd.Series) -> tuple[pd.Series, list[pd.Period]]:
    """``y`` without its missing periods (NaN: not collected, never read as 0), and those
    periods."""
    y = y.astype(float)
    missing = y.isna()
    return y[~missing], list(pd.PeriodIndex(y.index[missing]))


HARMONICS = 2  # Fourier pairs for the relative season of monthly series


def relative_season(x: pd.DataFrame, harmonics: int = HARMONICS) -> pd.DataFrame:
    """``x`` with its month-of-year terms replaced by ``harmonics`` Fourier pairs
    (``season: sin 1``, ``season: cos 1``, ..., on the calendar month), for the treated stream's
    season *relative to* the control's.

    Streams that share a need trajectory share most of their season (Christmas and summer peaks
    show in police-recorded crime and in referrals alike); what differs between them is smooth,
    so 4 terms in place of 11 spend 7 fewer degrees of freedom on it (docs/methods.md, the
    measurements behind the choice). Quarterly series keep their 3 quarter terms.
    """
    index = pd.PeriodIndex(x.index)
    names, values = _relative_season(index, list(x.columns), x.to_numpy(float), harmonics)
    return pd.DataFrame(values, index=index, columns=names)


def _relative_season(
    index: pd.PeriodIndex, names: list[str], x: np.ndarray, harmonics: int = HARMONICS
) -> tuple[list[str], np.ndarray]:
    """:func:`relative_season` on a design's names and matrix."""
    if periods_per_year(index) != 12 or harmonics >= 6:
        return names, x
    keep = [i for i, c in enumerate(names) if not c.startswith("season: ")]
    out_names = [names[i] for i in keep]
    cols = [x[:, i] for i in keep]
    angle = 2 * np.pi * np.asarray(index.month, float) / 12
    at = out_names.index("trend") + 1 if "trend" in out_names else 1
    for h in range(1, harmonics + 1):
        for name, values in ((f"season: sin {h}", np.sin(h * angle)),
                             (f"season: cos {h}", np.cos(h * angle))):  # fmt: skip
            if np.ptp(values) > 0:
                out_names.insert(at, name)
                cols.insert(at, values)
                at += 1
    return out_names, np.column_stack(cols) if cols else np.empty((len(index), 0))


def fit_single(
    y: pd.Series,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    slope: bool = False,
) -> Fit:
    """One stream: level, trend, season, events and campaign terms; HAC intervals.

    Missing periods (NaN: not collected) are left out of the fit, never read as 0, and listed in
    :attr:`Fit.left_out`.
    """
    y, left_out = _observed(y)
    index = pd.PeriodIndex(y.index)
    names, x = _varying(_design_columns(index, campaigns, events, slope))
    if len(y) < x.shape[1] + 6:
        raise ValueError(f"{len(y)} periods are too few to fit a trend and seasonality.")
    _require_identifiable(x, names)
    fit, cov = _glm(y.to_numpy(float), x, np.arange(len(y)), len(y))
    return _result(
        fit,
        cov,
        names,
        x,
        names,
        campaigns,
        terms=x.shape[1],
        resid_lag1={"stream": _lag1(np.asarray(fit.resid_pearson))},
        left_out=left_out,
    )


@dataclass
class _Pair:
    """Two streams over the periods both have (missing ones left out), ready to fit."""

    index: pd.PeriodIndex
    control: np.ndarray
    treated: np.ndarray
    left_out: list[pd.Period]


def _pair(treated: pd.Series, control: pd.Series) -> _Pair:
    treated, gaps = _observed(treated)
    control, control_gaps = _observed(control)
    index = common_index(treated, control)
    return _Pair(
        index,
        control.reindex(index).to_numpy(float),
        treated.reindex(index).to_numpy(),
        sorted(set(gaps) | set(control_gaps)),
    )


def _fit_pair(pair: _Pair, names: list[str], x: np.ndarray, harmonics: int = HARMONICS):
    """The controlled GLM of :func:`fit_controlled` on a built design ``x`` (one stream's terms,
    named ``names``): the GLM fit, its covariance, every term's name, the treated stream's
    relative terms (names, matrix) and the terms per stream."""
    index = pair.index
    rel_names, rel = _relative_season(index, names, x, harmonics)
    periods = len(index)
    terms = (x.shape[1] + rel.shape[1]) / 2
    if periods < x.shape[1] + 6:
        raise ValueError(f"{periods} periods are too few to fit a trend and seasonality.")
    _require_identifiable(x, names)
    k = x.shape[1]
    # The control's rows carry its own terms and zero relative terms; the treated stream's rows
    # carry the same terms and its relative ones.
    stacked = np.zeros((2 * periods, k + rel.shape[1]))
    stacked[:periods, :k] = x
    stacked[periods:, :k] = x
    stacked[periods:, k:] = rel
    all_names = [*names, *(f"rel: {c}" for c in rel_names)]
    y = np.concatenate([pair.control, pair.treated])
    time = np.tile(np.arange(periods), 2)
    fit, cov = _glm(y, stacked, time, periods, np.repeat([0, 1], periods), rel)
    return fit, cov, all_names, rel_names, rel, terms


def fit_controlled(
    treated: pd.Series,
    control: pd.Series,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    slope: bool = False,
    harmonics: int = HARMONICS,
    ramp_months: int | None = None,
) -> Fit:
    """Confidence stream (``treated``) against a control stream in one GLM.

    The control has every term (level, trend, month-of-year, events, campaign terms); the
    treated stream has its difference from each (``rel: <term>``), with the month-of-year
    difference as ``harmonics`` Fourier pairs (:func:`relative_season`; 6 or more: the 11 month
    terms). So ``rel: level: <campaign>`` is the log of the ratio of the two streams' steps.
    Periods missing from either stream (absent, or NaN: not collected) are left out of both and
    listed in :attr:`Fit.left_out`. ``ramp_months``: each campaign's change in level spread
    evenly over that many months, then held (None: :data:`RAMP_MONTHS`; 0: a step).
    """
    pair = _pair(treated, control)
    index = pair.index
    names, x = _varying(_design_columns(index, campaigns, events, slope, ramp_months=ramp_months))
    fit, cov, all_names, rel_names, rel, terms = _fit_pair(pair, names, x, harmonics)
    periods = len(index)
    y = np.concatenate([pair.control, pair.treated])
    resid = np.asarray(fit.resid_pearson)
    # The contrast lives on the log scale: its residual is the difference of the two streams'
    # relative deviations (y / fitted - 1), in which a shock shared by both streams cancels.
    relative = y / np.asarray(fit.fittedvalues) - 1
    difference = relative[periods:] - relative[:periods]
    result = _result(
        fit,
        cov,
        names,
        x,
        all_names,
        campaigns,
        terms=terms,
        resid_lag1={
            "control": _lag1(resid[:periods]),
            "treated": _lag1(resid[periods:]),
            "difference": _lag1(difference),
        },
        outliers=_outliers(difference, index),
        design=pd.DataFrame(rel, index=index, columns=rel_names),
        left_out=pair.left_out,
    )
    # The effect's estimate is c'b with b = (X'WX)^-1 X'W z (z the working response at the
    # solution), so it is g'z with g = W X (X'WX)^-1 c, and its model-based variance g'W^-1 g.
    stacked = np.asarray(fit.model.exog)
    working = np.asarray(fit.fittedvalues) * np.asarray(fit.model.var_weights)
    c = pd.Series(result.campaign_weights("rel: "), dtype=float)
    c = c.reindex(all_names, fill_value=0.0).to_numpy()
    try:
        g = working * (stacked @ np.linalg.solve((stacked.T * working) @ stacked, c))
        result.effect_influence, result.working_weights = g, working
    except np.linalg.LinAlgError:
        pass
    return result


def effect_correlation(a: Fit, b: Fit) -> float:
    """The correlation of two controlled fits' average campaign effects on the same data (the
    same campaign as a step and as a ramp, say), from their influence on each row and ``a``'s
    working weights (variance proportional to 1 / weight); NaN if either lacks them. Used to
    set the two tests' levels together (:func:`joint_alpha`)."""
    if a.effect_influence is None or b.effect_influence is None:
        return float("nan")
    if len(a.effect_influence) != len(b.effect_influence):
        return float("nan")
    ga, gb, w = a.effect_influence, b.effect_influence, a.working_weights
    denom = np.sqrt(float(ga @ (ga / w)) * float(gb @ (gb / w)))
    return float(ga @ (gb / w) / denom) if denom > 0 else float("nan")


def joint_alpha(alpha: float, rho: float) -> float:
    """The two-sided level at which each of two one-sided tests with correlated (``rho``)
    normal statistics is read, so that either passing has probability ``alpha`` / 2 under no
    effect: the threshold h solves 1 - Phi2(h, h; rho) = alpha / 2, with Phi2(h, h; rho) =
    Phi(h) - 2 T(h, sqrt((1 - rho) / (1 + rho))) (Owen 1956, T his function). A negative or
    unknown ``rho`` is taken as 0 (Bonferroni-like, conservative); ``rho`` 1 gives ``alpha``.
    """
    from scipy import optimize, special, stats

    rho = float(np.clip(rho, 0.0, 1.0)) if np.isfinite(rho) else 0.0
    one = alpha / 2
    if rho >= 1.0 - 1e-9:
        return alpha
    a = np.sqrt((1 - rho) / (1 + rho))

    def excess(h: float) -> float:
        return float(stats.norm.sf(h) + 2 * special.owens_t(h, a)) - one

    h = optimize.brentq(excess, stats.norm.isf(one), stats.norm.isf(one / 2) + 1e-9)
    return float(2 * stats.norm.sf(h))


def dispersion(y: pd.Series, campaigns: pd.DataFrame, events: pd.DataFrame | None = None) -> float:
    """Extra-Poisson dispersion of one count series (Pearson chi-square over residual degrees of
    freedom of a Poisson GLM with level, trend, month-of-year, events and a step at each
    campaign; at least 1): its variance over its mean."""
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    y, _ = _observed(y)
    _, x = _varying(_design_columns(pd.PeriodIndex(y.index), campaigns, events))
    # Too short, or terms the data cannot tell apart (the verdict's own fit then says so):
    # counted as Poisson here rather than fitted arbitrarily.
    if len(y) <= x.shape[1] or np.linalg.matrix_rank(x) < x.shape[1]:
        return 1.0
    fit = GLM(y.to_numpy(float), x, family=Poisson()).fit()
    return max(float(fit.pearson_chi2 / max(fit.df_resid, 1)), 1.0)


def combine(
    series: dict[str, pd.Series], campaigns: pd.DataFrame, events: pd.DataFrame | None = None
) -> tuple[pd.Series, dict[str, float]]:
    """Several need-sensitive count series as one control, each weighted by its precision, over
    the periods all of them have; and each series' share of the weight.

    On the log scale a series with mean mu and dispersion phi (variance phi x mu) has variance
    about phi / mu a period, so the precision-weighted average of their log levels gives each a
    weight proportional to mu / phi. A sum of the series each divided by its dispersion has
    exactly those weights as its log-scale shares (d log sum = sum of share x d log series),
    and variance over mean 1 when the dispersions are right; it is rescaled to the total of the
    raw counts (dispersion then above 1, estimated in the fit, never read as Poisson). So the
    large police series counts most when the counts are Poisson-like, and the smaller service
    streams count more when every series is noisy on the log scale.
    """
    frame = pd.concat(series, axis=1, join="inner").dropna()
    scaled = {s: frame[s] / dispersion(frame[s], campaigns, events) for s in frame}
    total = sum(scaled.values())
    weight = {s: float(v.sum() / total.sum()) for s, v in scaled.items()}
    combined = total * float(frame.to_numpy().sum() / total.sum())
    return combined.rename("need combined"), weight


def placebo_dates(index: pd.PeriodIndex, first_campaign: pd.Timestamp | None) -> list[pd.Period]:
    """Dates with no campaign, in the data before the first campaign, that leave a year before
    and six months after (inside that pre-campaign stretch) for a step to be estimated."""
    pre = index[index < first_campaign.to_period(index.freqstr)] if first_campaign else index
    per_year = periods_per_year(index)
    before = int(np.ceil(MIN_MONTHS_BEFORE * per_year / 12))
    after = int(np.ceil(MIN_MONTHS_AFTER * per_year / 12))
    return list(pre[before : len(pre) - after + 1]) if len(pre) >= before + after else []


# The whole-window placebo keeps its dates this far from every campaign start: 6 months before
# (a campaign announced early) and 12 after (an effect still building up), so a placebo step is
# never the campaign's own.
CLEAR_BEFORE_MONTHS = 6
CLEAR_AFTER_MONTHS = 12


def whole_window_dates(index: pd.PeriodIndex, campaigns: pd.DataFrame) -> list[pd.Period]:
    """Dates with no campaign anywhere in the data, before or after the campaigns, with a year
    of data before and six months after, and at least :data:`CLEAR_BEFORE_MONTHS` before and
    :data:`CLEAR_AFTER_MONTHS` after every campaign start: the placebo check of a series too
    short before its first campaign (quarterly returns, a late start) for :func:`placebo_dates`.
    """
    per_year = periods_per_year(index)
    before = int(np.ceil(MIN_MONTHS_BEFORE * per_year / 12))
    after = int(np.ceil(MIN_MONTHS_AFTER * per_year / 12))
    clear_before = int(np.ceil(CLEAR_BEFORE_MONTHS * per_year / 12))
    clear_after = int(np.ceil(CLEAR_AFTER_MONTHS * per_year / 12))
    starts = [s.to_period(index.freqstr) for s in campaigns["start_date"]]
    return [
        p
        for p in index[before : len(index) - after + 1]
        if not any(-clear_before <= (p - s).n < clear_after for s in starts)
    ]


def placebo_check(
    treated: pd.Series,
    control: pd.Series,
    campaigns: pd.DataFrame,
    events: pd.DataFrame | None = None,
    slope: bool = False,
    window: str = "before",
) -> dict[str, object]:
    """In-time placebo: the primary contrast at each date with no campaign before the first one
    (``window`` "before"), or (``window`` "whole") at each date of
    :func:`whole_window_dates`, fitted on the whole series with the real campaigns in the model
    as well, so a step that is not at a campaign (a curve, a break, drift after the campaigns)
    shows too.

    Returns the number of dates tried, how many gave a significant (p < 0.05) effect in either
    direction, and their share. A well-calibrated model finds about 5%.
    """
    from scipy import stats

    index = common_index(treated, control)
    first = campaigns["start_date"].min() if len(campaigns) else None
    if window == "whole":
        span, dates, real = index, whole_window_dates(index, campaigns), campaigns
    else:
        pre = index[index < first.to_period(index.freqstr)] if first is not None else index
        span, dates, real = pre, placebo_dates(index, first), campaigns.iloc[:0]
    # The data and the design without the placebo are the same at every date: built once, and
    # each date adds its own terms, in the order (and with the same rule for constant terms)
    # that :func:`fit_controlled` would give the real campaigns plus the placebo.
    try:
        pair = _pair(treated.reindex(span), control.reindex(span))
        base = _design_columns(pair.index, real[["name", "start_date"]], events, slope)
    except ValueError:  # nothing to fit at any date (each would have been skipped)
        dates = []
    significant = 0
    tried = 0
    squares = []
    for date in dates:
        fake = pd.DataFrame({"name": ["placebo"], "start_date": [date.start_time]})
        cols = {**base, **_design_columns(pair.index, fake, slope=slope, base=False)}
        names, x = _varying(cols)
        try:
            glm, cov, all_names, _, _, terms = _fit_pair(pair, names, x)
        except ValueError:
            continue
        if "rel: level: placebo" not in all_names:
            continue
        tried += 1
        # The placebo step's estimate and standard error, as Fit.contrast gives them for this
        # one term (its coefficient and the square root of its variance), without labelling
        # the whole fit.
        j = all_names.index("rel: level: placebo")
        est = float(np.asarray(glm.params)[j])
        se = float(np.sqrt(max(np.asarray(cov)[j, j], 0.0)))
        df = max(len(x) - int(np.ceil(terms)), 1)
        p_value = float(2 * stats.t.sf(abs(est) / se, df)) if se > 0 else float("nan")
        significant += int(p_value < ALPHA)
        if se > 0:
            squares.append((np.log(float(np.exp(est))) / se) ** 2)
    return {
        "dates": tried,
        "significant": significant,
        "share": significant / tried if tried else float("nan"),
        # Root mean square of the placebo steps in standard errors: about 1 when the intervals
        # are right (no campaign at those dates), more when the series moves more than they say.
        "z_rms": round(float(np.sqrt(np.mean(squares))), 3) if squares else float("nan"),
        "window": window,
    }


__all__ = [
    "Fit",
    "HARMONICS",
    "NotIdentifiable",
    "common_index",
    "design",
    "effect_correlation",
    "fit_controlled",
    "joint_alpha",
    "fit_single",
    "placebo_check",
    "placebo_dates",
    "whole_window_dates",
    "relative_season",
    "usable_campaigns",
]
