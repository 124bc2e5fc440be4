"""The monthly panel: one tidy row per area and month, the narrow waist of the project.

Built from record-level referrals (:func:`panel_from_records`) or from aggregate returns
(:func:`panel_from_returns`); either way the context tables (police, MARAC, staffing, population)
are joined on by :func:`build_panel`. Everything downstream computes from the panel.

Counts are float64 so that a figure that is not available is NaN, never a misleading 0. The
``basis`` column says where the referral figures came from: ``records`` or ``aggregates``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from daanalysis.load import Extract
from daanalysis.periods import MONTH_FREQ, QUARTER_FREQ, quarter_months

REFERRAL_COLUMNS = [
    "referrals",
    "self_referrals",
    "first_time",
    "standard_medium_risk",
    "high_risk",
    "repeat_12m",
    "cases_closed",
    "open_caseload",
    "mean_days_open",
]
RECORDS_ONLY = ["repeat_12m", "cases_closed", "open_caseload", "mean_days_open"]


class NeedsRecordLevelData(ValueError):
    """A metric needs record-level referrals but the panel was built from aggregate returns."""


def require_records(panel: pd.DataFrame, metric: str) -> None:
    """Raise :class:`NeedsRecordLevelData` if ``panel`` came from aggregate returns."""
    if (panel["basis"] != "records").any():
        raise NeedsRecordLevelData(
            f"{metric} needs record-level referrals (referrals.csv with dates per referral); this "
            "data has aggregate returns only. Ask the commissioned service for a pseudonymised "
            "record-level extract, or report this metric as not available."
        )


def mark_repeats(referrals: pd.DataFrame, window_days: int = 365) -> pd.DataFrame:
    """Add ``first_time`` and ``repeat_12m`` flags per referral.

    A repeat is a referral of a client whose previous referral was within ``window_days``
    (SafeLives' definition: a further incident within 12 months of the last referral). First-time
    means no earlier referral in the extract, so the first year of an extract overstates it.
    Referrals with no client key are neither.
    """
    ref = referrals.sort_values(["referral_date", "source_row"]).copy()
    linked = ref["client_key"].notna()
    previous = ref.loc[linked].groupby("client_key")["referral_date"].shift()
    gap = ref.loc[linked, "referral_date"] - previous
    ref["first_time"] = False
    ref["repeat_12m"] = False
    ref.loc[linked, "first_time"] = previous.isna()
    ref.loc[linked, "repeat_12m"] = gap.le(pd.Timedelta(days=window_days)).fillna(False)
    return ref.sort_index()


def open_caseload(opened: pd.Series, closed: pd.Series, months: pd.PeriodIndex) -> pd.Series:
    """Cases open at each month end: opened up to the month end minus closed up to it.

    A case is open at the end of month m if it opened on or before the last day of m and has no
    closed date or closed after that day. Vectorised: monthly opens and closes, cumulated.
    """
    opens = opened.dt.to_period(MONTH_FREQ).value_counts()
    closes = closed.dropna().dt.to_period(MONTH_FREQ).value_counts()
    first = months.min()
    # Cases opened before the first month still count, so cumulate from the earliest date.
    start = min([first, *opens.index, *closes.index]) if len(opens) else first
    full = pd.period_range(start, months.max(), freq=MONTH_FREQ)
    cumulative = (
        opens.reindex(full, fill_value=0).cumsum() - closes.reindex(full, fill_value=0).cumsum()
    )
    return cumulative.reindex(months).astype("float64")


def panel_from_records(
    referrals: pd.DataFrame, services: tuple[str, ...] = ("victim",)
) -> pd.DataFrame:
    """Monthly referral streams per area from record-level referrals of ``services``."""
    # The extract runs to its last referral of any service, so cases stay counted open after
    # the last referral of the services analysed.
    last_month = referrals.groupby("area")["referral_date"].max().dt.to_period(MONTH_FREQ)
    # The last month is complete only if the extract holds a date (referral, contact or closure)
    # on or after its last day; an extract taken mid-month has a partial last month.
    last_seen = (
        referrals[["referral_date", "first_contact_date", "closed_date"]]
        .max(axis=1)
        .groupby(referrals["area"])
        .max()
    )
    ref = mark_repeats(referrals[referrals["service"].isin(services)])
    ref["month"] = ref["referral_date"].dt.to_period(MONTH_FREQ)
    ref["days_open"] = (ref["closed_date"] - ref["referral_date"]).dt.days
    frames = []
    for area, rows in ref.groupby("area"):
        months = pd.period_range(rows["month"].min(), last_month[area], freq=MONTH_FREQ)
        by_month = rows.groupby("month")
        streams = pd.DataFrame(
            {
                "referrals": by_month.size(),
                "self_referrals": by_month["referral_source"].agg(lambda s: (s == "self").sum()),
                "first_time": by_month["first_time"].sum(),
                "standard_medium_risk": by_month["risk_level"].agg(
                    lambda s: s.isin(["standard", "medium"]).sum()
                ),
                "high_risk": by_month["risk_level"].agg(lambda s: (s == "high").sum()),
                "repeat_12m": by_month["repeat_12m"].sum(),
            }
        ).reindex(months, fill_value=0)
        closed_month = rows["closed_date"].dt.to_period(MONTH_FREQ)
        streams["cases_closed"] = closed_month.value_counts().reindex(months, fill_value=0)
        streams["open_caseload"] = open_caseload(rows["referral_date"], rows["closed_date"], months)
        streams["mean_days_open"] = (
            rows.assign(closed_month=closed_month).groupby("closed_month")["days_open"].mean()
        ).reindex(months)
        streams = streams.astype("float64")
        streams["complete"] = (months < last_month[area]) | (
            last_seen[area] >= last_month[area].end_time.normalize()
        )
        frames.append(streams.rename_axis("month").reset_index().assign(area=area))
    panel = pd.concat(frames, ignore_index=True)
    panel["basis"] = "records"
    return panel


def _spread_periods(frame: pd.DataFrame, columns: list[str], snapshot: tuple[str, ...] = ()):
    """Monthly rows from a table whose ``period`` holds months or financial quarters.

    A quarterly count is split evenly over its three months, so quarterly sums stay exact; a
    snapshot column (e.g. open cases at period end) goes to the last month only.
    """
    rows = []
    for _, row in frame.iterrows():
        period = row["period"]
        if period.freqstr.startswith("M"):
            rows.append({"area": row["area"], "month": period, **{c: row[c] for c in columns}})
            continue
        months = quarter_months(period)
        for i, month in enumerate(months):
            values = {
                c: (row[c] if i == 2 else np.nan) if c in snapshot else row[c] / 3 for c in columns
            }
            rows.append({"area": row["area"], "month": month, **values})
    out = pd.DataFrame(rows, columns=["area", "month", *columns])
    out["month"] = pd.PeriodIndex(out["month"], freq=MONTH_FREQ)
    return out.groupby(["area", "month"], as_index=False).sum(min_count=1)


def panel_from_returns(returns: pd.DataFrame) -> pd.DataFrame:
    """Monthly referral streams per area from aggregate returns (months or quarters)."""
    source = returns.rename(columns={"open_cases_end": "open_caseload"})
    columns = [c for c in REFERRAL_COLUMNS if c in source.columns]
    panel = _spread_periods(source, columns, snapshot=("open_caseload",))
    for col in REFERRAL_COLUMNS:
        if col not in panel:
            panel[col] = np.nan
    panel["basis"] = "aggregates"
    panel["complete"] = True
    quarterly = source["period"].map(lambda p: p.freqstr.startswith("Q")).any()
    panel["returns_frequency"] = "quarterly" if quarterly else "monthly"
    return panel


def _population_by_month(population: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Adults 16+ for each panel month: the mid-year estimate for the financial year's start."""
    if population.empty:
        return pd.DataFrame(columns=["area", "month", "females_16plus", "adults_16plus"])
    pop = population.assign(
        year=population["year"].astype(int),
        adults_16plus=population["females_16plus"] + population["males_16plus"],
    )
    keys = panel[["area", "month"]].copy()
    keys["year"] = [m.year if m.month >= 4 else m.year - 1 for m in keys["month"]]
    out = []
    for area, rows in keys.groupby("area"):
        area_pop = pop[pop["area"] == area].set_index("year").sort_index()
        if area_pop.empty:
            continue
        years = range(
            min(area_pop.index.min(), rows["year"].min()),
            max(area_pop.index.max(), rows["year"].max()) + 1,
        )
        # Years outside the estimates take the nearest year's figures.
        filled = area_pop.reindex(years).ffill().bfill()
        out.append(
            rows.join(filled[["females_16plus", "adults_16plus"]], on="year").drop(columns="year")
        )
    return pd.concat(out, ignore_index=True)


def _staffing_by_month(staffing: pd.DataFrame, roles: list[str]) -> pd.DataFrame:
    caseworkers = staffing[staffing["role"].isin(roles)]
    return (
        caseworkers.groupby(["area", "month"], as_index=False)[["fte_in_post", "fte_funded"]]
        .sum(min_count=1)
        .rename(columns={"fte_in_post": "caseworker_fte", "fte_funded": "caseworker_fte_funded"})
    )


def build_panel(extract: Extract, services: tuple[str, ...] = ("victim",)) -> pd.DataFrame:
    """The monthly panel for every area in ``extract``.

    Columns: area, month, the referral streams (see ``REFERRAL_COLUMNS``), police_incidents,
    police_crimes, marac_cases, marac_repeats, caseworker_fte, caseworker_fte_funded,
    females_16plus, adults_16plus, basis, quarter, and complete (False for a partial last month,
    which quarterly figures and models leave out).
    """
    if extract.basis == "records":
        panel = panel_from_records(extract["referrals"], services)
    else:
        panel = panel_from_returns(extract["returns"])
    police = extract["police"].rename(
        columns={"da_incidents": "police_incidents", "da_crimes": "police_crimes"}
    )[["area", "month", "police_incidents", "police_crimes"]]
    marac = extract["marac"]
    marac_monthly = (
        _spread_periods(marac, ["cases_discussed", "repeat_cases"]).rename(
            columns={"cases_discussed": "marac_cases", "repeat_cases": "marac_repeats"}
        )
        if len(marac)
        else pd.DataFrame(columns=["area", "month", "marac_cases", "marac_repeats"])
    )
    staffing = _staffing_by_month(extract["staffing"], extract.config.roles)
    for table in (police, marac_monthly, staffing):
        if len(table):
            table["month"] = pd.PeriodIndex(table["month"], freq=MONTH_FREQ)
            panel = panel.merge(table, on=["area", "month"], how="left")
        else:
            for col in table.columns.difference(["area", "month"]):
                panel[col] = np.nan
    population = _population_by_month(extract["population"], panel)
    if len(population):
        panel = panel.merge(population, on=["area", "month"], how="left")
    else:
        panel[["females_16plus", "adults_16plus"]] = np.nan
    panel["quarter"] = panel["month"].dt.asfreq(QUARTER_FREQ)
    numeric = panel.columns.difference(
        ["area", "month", "quarter", "basis", "returns_frequency", "complete"]
    )
    panel[numeric] = panel[numeric].astype("float64")
    return panel.sort_values(["area", "month"], ignore_index=True)


def area_panel(panel: pd.DataFrame, area: str | None) -> pd.DataFrame:
    """The rows of one area (the only area when ``area`` is None or empty)."""
    areas = panel["area"].unique().tolist()
    if not area:
        if len(areas) != 1:
            raise ValueError(f"Several areas in the data ({', '.join(areas)}): name one.")
        area = areas[0]
    if area not in areas:
        raise ValueError(f"Area {area!r} is not in the data; areas found: {', '.join(areas)}.")
    return panel[panel["area"] == area].reset_index(drop=True)


def complete_months(panel: pd.DataFrame) -> pd.Series:
    """True for months the data cover in full (every month of a panel built by hand)."""
    if "complete" in panel:
        return panel["complete"].astype(bool)
    return pd.Series(True, index=panel.index)


def quarter_complete(panel: pd.DataFrame, by: list[str]) -> pd.Series:
    """For each group of ``by`` (ending in quarter): all three months present and complete."""
    grouped = panel.assign(_complete=complete_months(panel)).groupby(by)
    return (grouped.size() == 3) & grouped["_complete"].all()


def complete_quarters(panel: pd.DataFrame) -> list[pd.Period]:
    """Quarters of a one-area panel that the data cover in full."""
    flags = quarter_complete(panel, ["quarter"])
    return sorted(flags[flags].index)


def common_quarters(panel: pd.DataFrame, areas: list[str] | None = None) -> list[pd.Period]:
    """Quarters that every one of ``areas`` (default: all in the panel) covers in full."""
    areas = areas or panel["area"].unique().tolist()
    covered = [set(complete_quarters(panel[panel["area"] == a])) for a in areas]
    return sorted(set.intersection(*covered))


def quarterly(panel: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Quarterly sums of ``columns`` per area, complete quarters only."""
    sums = panel.groupby(["area", "quarter"])[columns].sum(min_count=1)
    return sums[quarter_complete(panel, ["area", "quarter"])].reset_index()
