"""Areas compared with each other on a funnel plot: a rate per head against control limits that
narrow as the area grows, so a small area is not flagged for chance variation.

The standard way English public health compares areas of different size (Spiegelhalter 2005,
"Funnel plots for comparing institutional performance", *Statistics in Medicine* 24:1185; used by
OHID's Fingertips). The count of each area is read as Poisson around a target rate times its
size; the 95% and 99.8% limits are the exact Poisson quantiles with Spiegelhalter's
interpolation, so they are smooth in size. When the areas vary more than Poisson allows (they
usually do: councils differ in services and recording), the limits are widened by an additive
between-area variance estimated from winsorised z-scores (Spiegelhalter et al. 2012,
"Statistical methods for healthcare regulation", *JRSS A* 175:1), once there are enough areas to
estimate it; with fewer, the limits are Poisson and the result says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from daanalysis.ingest.extract import Extract
from daanalysis.ingest.schema import BENCHMARK_MEASURES
from daanalysis.metrics import demand
from daanalysis.metrics.demand import Verdict
from daanalysis.panel import area_panel, complete_quarters

LEVELS = (0.95, 0.998)  # two- sided: 2 and 3 standard deviations, as the funnel-plot convention
MIN_AREAS_FOR_DISPERSION = 10  # fewer areas cannot estimate a between-area variance
WINSOR = 0.10  # share of z-scores pulled in at each end before estimating over-dispersion

BANDS = (
    "below 99.8% limit",
    "below 95% limit",
    "within limits",
    "above 95% limit",
    "above 99.8% limit",
)


def poisson_limit(expected: float | np.ndarray, p: float) -> np.ndarray:
    """The ``p`` quantile of a Poisson count with mean ``expected``, interpolated between whole
    counts (Spiegelhalter 2005, appendix), as a count. 0 when ``expected`` is 0."""
    e = np.asarray(expected, dtype=float)
    r = stats.poisson.ppf(p, e)
    at = stats.poisson.cdf(r, e)
    below = stats.poisson.cdf(r - 1, e)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(at > below, (at - p) / (at - below), 0.0)
    return np.where(e > 0, r - alpha, 0.0)


@dataclass(frozen=True)
class Funnel:
    """Areas on one funnel plot.

    ``areas``: one row per area with ``count``, ``size`` (the denominator: adults, women, FTE),
    ``rate`` (per ``per`` of size), ``z`` (its distance from the target in standard errors,
    between-area variance included) and ``band`` (one of :data:`BANDS`; blank when the area has
    no count or size). ``target``: the centre line, per ``per``. ``tau2``: the between-area
    variance added to every area's (0 when none was found or too few areas to estimate it);
    ``dispersion``: the mean squared winsorised z-score (about 1 when areas differ only by
    chance); ``note``: what the limits could and could not take into account.
    """

    measure: str
    per: float
    target: float
    target_source: str
    areas: pd.DataFrame
    tau2: float
    dispersion: float
    note: str

    def limits(self, sizes: np.ndarray | pd.Series) -> pd.DataFrame:
        """The control limits at each of ``sizes`` (for drawing the funnel), per ``per``."""
        return _limits(np.asarray(sizes, dtype=float), self.target / self.per, self.tau2, self.per)


def _limits(size: np.ndarray, theta: float, tau2: float, per: float) -> pd.DataFrame:
    out = pd.DataFrame({"size": size})
    for level in LEVELS:
        name = f"{100 * level:g}"
        lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
        if tau2 > 0:
            se = np.sqrt(theta / size + tau2)
            z = stats.norm.ppf(hi_p)
            lower, upper = theta - z * se, theta + z * se
        else:
            expected = theta * size
            lower = poisson_limit(expected, lo_p) / size
            upper = poisson_limit(expected, hi_p) / size
        out[f"lower_{name}"] = np.maximum(lower, 0) * per
        out[f"upper_{name}"] = upper * per
    return out


def _winsorised_variance_of_normal(share: float) -> float:
    """E[Z^2] of a standard normal pulled in to its ``share`` and ``1 - share`` quantiles: the
    factor that makes the winsorised mean square consistent (0.679 at 10%)."""
    if share <= 0:
        return 1.0
    c = stats.norm.ppf(1 - share)
    inside = 1 - 2 * share - 2 * c * stats.norm.pdf(c)
    return float(inside + 2 * share * c**2)


def _tau2(z: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Between-area variance from winsorised z-scores (additive random effects, Spiegelhalter
    et al. 2012) and the dispersion ratio it is based on; 0 unless the dispersion is beyond
    what chance gives 19 times in 20 (n times it above the 95% point of chi-square, n - 1 df).

    Winsorising keeps one extreme area from widening every area's limits (and so hiding
    itself); it also shrinks the mean square of well-behaved z-scores (to 0.68 of it at 10%),
    which is divided back out: without that, 11% of areas fell outside the 95% limits on
    simulated regions whose areas truly differed (tests/test_comparison.py)."""
    lo, hi = np.quantile(z, [WINSOR, 1 - WINSOR])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2)) / _winsorised_variance_of_normal(WINSOR)
    n = len(z)
    if n * phi <= stats.chi2.ppf(0.95, n - 1):  # no clear sign of more than chance
        return 0.0, phi
    tau2 = (n * phi - (n - 1)) / (weights.sum() - (weights**2).sum() / weights.sum())
    return float(tau2), phi


def funnel(
    frame: pd.DataFrame,
    measure: str,
    per: float,
    target: float | None = None,
    target_source: str = "",
) -> Funnel:
    """Compare areas' rates: ``frame`` has ``area``, ``count`` and ``size`` (NaN where not known).

    ``per``: the rate's unit (1,000 adults, 10,000 women, 1 FTE). ``target``: the centre line per
    ``per`` (a benchmark such as SafeLives' 40 MARAC cases per 10,000 women); by default the
    pooled rate of the areas with both figures, which ``target_source`` then says.
    """
    areas = frame[["area", "count", "size"]].copy()
    known = areas["count"].notna() & areas["size"].gt(0)
    used = areas[known]
    if target is None:
        if used.empty:
            raise ValueError(f"{measure}: no area has both a count and a size to compare.")
        theta = float(used["count"].sum() / used["size"].sum())
        target_source = f"The rate of the {len(used)} areas together."
    else:
        theta = target / per
    areas["rate"] = per * areas["count"] / areas["size"].where(areas["size"] > 0)
    se = np.sqrt(theta / used["size"].to_numpy(float))
    z_poisson = (used["count"].to_numpy(float) / used["size"].to_numpy(float) - theta) / se
    if len(used) >= MIN_AREAS_FOR_DISPERSION:
        tau2, phi = _tau2(z_poisson, 1 / se**2)
        if tau2 > 0:
            note = (
                f"The {len(used)} areas differ more than chance alone would make them "
                f"(dispersion {phi:.1f}, about 1 by chance), so the limits allow for the "
                "difference between areas as well as chance."
            )
        else:
            note = f"The {len(used)} areas differ no more than chance would make them."
    else:
        tau2, phi = 0.0, float(np.mean(z_poisson**2)) if len(used) else float("nan")
        note = (
            f"With {len(used)} areas (fewer than {MIN_AREAS_FOR_DISPERSION}) the difference "
            "between areas cannot be estimated: the limits allow for chance only, so an area "
            "outside them may still be within the usual range of councils."
        )
    z = np.full(len(areas), np.nan)
    z[known.to_numpy()] = z_poisson * se / np.sqrt(se**2 + tau2)
    areas["z"] = z
    lim = _limits(areas["size"].where(known).to_numpy(float), theta, tau2, per)
    band = np.full(len(areas), "", dtype=object)
    rate = areas["rate"].to_numpy(float)
    band[known.to_numpy()] = BANDS[2]
    for side, sign in (("upper", 1), ("lower", -1)):
        for level, index in (("95", 3), ("99.8", 4)):
            beyond = known.to_numpy() & (sign * (rate - lim[f"{side}_{level}"].to_numpy()) > 0)
            band[beyond] = BANDS[index] if sign > 0 else BANDS[4 - index]
    areas["band"] = band
    for column in lim.columns.drop("size"):
        areas[column] = lim[column].to_numpy()
    return Funnel(
        measure, per, theta * per, target_source, areas.reset_index(drop=True), tau2, phi, note
    )


COUNT_NAMES = {  # what a measure's count counts, for a table heading
    "referrals": "Referrals",
    "marac_cases": "MARAC cases",
    "open_caseload": "Open cases",
}
SIZE_NAMES = {  # what a measure's size counts, for an axis or a table heading
    "adults_16plus": "adults 16+",
    "females_16plus": "women 16+",
    "caseworker_fte": "caseworker FTE in post",
}
# (measure, count column, size column, per): the centre line is the areas' combined rate.
MEASURES = (
    ("Referrals per 1,000 adults 16+ (12 months)", "referrals", "adults_16plus", 1000),
    ("MARAC cases per 10,000 women 16+ (12 months)", "marac_cases", "females_16plus", 10_000),
    ("Open cases per caseworker FTE (quarter end)", "open_caseload", "caseworker_fte", 1),
)
# Each measure's key in benchmarks.csv (daanalysis.ingest.schema.BENCHMARK_MEASURES).
MEASURE_KEYS = dict(zip((m for m, *_ in MEASURES), BENCHMARK_MEASURES, strict=True))


@dataclass(frozen=True)
class Benchmark:
    """A figure published elsewhere for one measure (a row of ``benchmarks.csv``), in the
    measure's unit (per ``per`` of size), with what it is, its period and its source."""

    measure: str
    name: str
    value: float
    period: str
    source: str


def benchmarks(table: pd.DataFrame) -> dict[str, list[Benchmark]]:
    """The rows of the optional ``benchmarks`` table by measure (the labels of
    :data:`MEASURES`), in file order; every measure is a key, with none when none was given.
    The loader has already excluded, and ledgered, a row with an unknown measure or no value."""
    by_key = {key: measure for measure, key in MEASURE_KEYS.items()}
    out: dict[str, list[Benchmark]] = {measure: [] for measure in MEASURE_KEYS}
    for row in table.sort_values("source_row").itertuples() if len(table) else ():
        measure = by_key[row.measure]
        out[measure].append(
            Benchmark(measure, str(row.name), float(row.value), str(row.period), str(row.source))
        )
    return out


def area_figures(panel: pd.DataFrame, quarter: pd.Period) -> dict[str, pd.DataFrame]:
    """Each measure's ``area``, ``count`` and ``size`` for every area of ``panel`` (all areas'
    monthly panel) at ``quarter``, with ``why`` saying why an area has none.

    12-month measures need all 12 months to the quarter's end (a month not collected leaves the
    count blank, never a sum of 11); the caseload is the last month end of the quarter.
    """
    end = quarter.asfreq("M", how="end")
    months = pd.period_range(end - 11, end, freq="M")
    rows: dict[str, list[dict]] = {measure: [] for measure, *_ in MEASURES}
    for area, frame in panel.groupby("area", sort=True):
        frame = frame.set_index("month")
        window = frame.reindex(months)
        for measure, count_col, size_col, _ in MEASURES:
            count = size = np.nan
            if count_col not in frame or frame[count_col].isna().all():
                why = "not supplied"
            elif count_col == "open_caseload":
                if end in frame.index:
                    count = frame.at[end, count_col]
                    size = frame.at[end, size_col] if size_col in frame else np.nan
                why = "" if pd.notna(count) and size > 0 else f"no figure for {end:%B %Y}"
            else:
                count = window[count_col].sum(min_count=12)
                size = window[size_col].iloc[-1] if size_col in window else np.nan
                why = "" if pd.notna(count) and size > 0 else "not all 12 months collected"
            rows[measure].append({"area": area, "count": count, "size": size, "why": why})
    columns = ["area", "count", "size", "why"]
    return {measure: pd.DataFrame(found, columns=columns) for measure, found in rows.items()}


def compare(panel: pd.DataFrame, quarter: pd.Period) -> dict[str, Funnel | str]:
    """Each measure of :data:`MEASURES` as a :class:`Funnel` of every area of ``panel`` at
    ``quarter``, or the reason it cannot be drawn (fewer than two areas with the figure)."""
    out: dict[str, Funnel | str] = {}
    figures = area_figures(panel, quarter)
    for measure, _, _, per in MEASURES:
        frame = figures[measure]
        usable = int(frame["why"].eq("").sum())
        if usable < 2:
            out[measure] = (
                f"Not compared: {usable} area{'' if usable == 1 else 's'} of {len(frame)} "
                "had the figure, and a comparison needs two or more."
            )
        else:
            out[measure] = funnel(frame, measure, per)
    return out


def area_verdicts(
    extract: Extract,
    panel: pd.DataFrame,
    quarter: pd.Period,
    known: Mapping[str, Verdict] | None = None,
) -> list[Verdict]:
    """The demand verdict (:func:`daanalysis.metrics.demand.verdict`) of every area of ``panel``
    at ``quarter``, the same call as each area's own page; an area whose data do not cover the
    quarter gets none. ``known``: verdicts already worked out for this quarter by area (the
    area pages' own, in a quarterly run), used as they are instead of fitting again."""
    out = []
    known = known or {}
    for area in sorted(panel["area"].unique()):
        one = area_panel(panel, area)
        if quarter not in complete_quarters(one):
            continue
        if area in known:
            out.append(known[area])
            continue
        out.append(
            demand.verdict(
                one,
                demand.campaigns_for(extract["campaigns"], area),
                demand.events_for(extract["events"], area),
                quarter,
            )
        )
    return out
