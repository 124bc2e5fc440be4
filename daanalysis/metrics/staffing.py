"""Staffing gap: open caseload per caseworker FTE against the safe band, and what closing it costs.

The safe level is 30 open cases per caseworker FTE with a band of 27 to 33 (SafeLives best
practice, as officers told the committee; values and sources in config). Required FTE = open
caseload / 30; gap = required - in post; cost of the gap = gap x cost per FTE.
"""

from __future__ import annotations

import holidays
import numpy as np
import pandas as pd

from daanalysis.config import Config, response_kpi_name
from daanalysis.metrics.kpi import KPI
from daanalysis.panel import NeedsRecordLevelData, complete_months, require_records
from daanalysis.periods import QUARTER_FREQ, quarter_label

DAYS_PER_MONTH = 365.25 / 12


def band_status(per_fte: pd.Series, config: Config) -> pd.Series:
    """``above band`` (red), ``within band`` (green) or ``below band`` (amber) per value."""
    status = np.where(
        per_fte > config.safe_band_upper,
        "above band",
        np.where(per_fte < config.safe_band_lower, "below band", "within band"),
    )
    return pd.Series(status, index=per_fte.index).where(per_fte.notna(), "no data")


RAG = {"above band": "red", "within band": "green", "below band": "amber", "no data": "grey"}


def caseload_per_fte(panel: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Open caseload at each month end per caseworker FTE in post, against the safe band.

    From records every month end has a caseload; from aggregate returns only the period ends
    that report ``open_cases_end`` do.

    Columns: month, quarter, open_caseload (cases), caseworker_fte (FTE in post),
    caseworker_fte_funded (FTE funded), vacant_fte (funded minus in post), per_fte (cases per FTE
    in post), safe_level, band_lower, band_upper, status, rag.
    """
    if panel["open_caseload"].isna().all():
        raise NeedsRecordLevelData(
            "Open caseload per FTE needs record-level referrals (open and closed dates), or "
            "open_cases_end in the aggregate returns."
        )
    # A partial last month's "month end" has not happened yet: leave it out.
    out = panel.loc[
        complete_months(panel),
        ["month", "quarter", "open_caseload", "caseworker_fte", "caseworker_fte_funded"],
    ].copy()
    out["vacant_fte"] = (out["caseworker_fte_funded"] - out["caseworker_fte"]).clip(lower=0)
    out["per_fte"] = out["open_caseload"] / out["caseworker_fte"].where(out["caseworker_fte"] > 0)
    out["safe_level"] = config.safe_caseload_per_fte
    out["band_lower"] = config.safe_band_lower
    out["band_upper"] = config.safe_band_upper
    out["status"] = band_status(out["per_fte"], config)
    out["rag"] = out["status"].map(RAG)
    return out


def unavailable(panel: pd.DataFrame, config: Config, quarter: pd.Period) -> str:
    """Why caseload per FTE cannot be given at the end of ``quarter``, in one line saying what
    is missing and what would enable it; ``""`` when it can (:func:`quarter_end` will work)."""
    month = quarter.asfreq("M", how="end")
    if panel["open_caseload"].isna().all():
        return (
            "Open caseload per FTE needs record-level referrals (open and closed dates) or "
            "open_cases_end in the aggregate returns: add open_cases_end to returns.csv to see "
            "the staffing gap."
        )
    caseload = caseload_per_fte(panel, config)
    rows = caseload[caseload["month"] == month]
    if not rows.empty and rows["per_fte"].notna().any():
        return ""
    label = f"{month.strftime('%B %Y')} (the end of {quarter_label(quarter)})"
    if rows.empty or rows["caseworker_fte"].isna().all() or not (rows["caseworker_fte"] > 0).any():
        return (
            f"staffing.csv has no caseworker FTE in post for {label}: add that month's staffing "
            "to see caseload per FTE and the staffing gap."
        )
    return (
        f"No open caseload for {label}: the month-end figure is missing, so caseload per FTE and "
        "the staffing gap are not shown for this quarter."
    )


def quarter_end(caseload: pd.DataFrame, quarter: pd.Period) -> pd.Series:
    """The caseload row for the last month of ``quarter``; a ``ValueError`` saying which file
    lacks what for that month, and how to fix it, if it has no caseload per FTE."""
    month = quarter.asfreq("M", how="end")
    rows = caseload[caseload["month"] == month]
    if not rows.empty and rows["per_fte"].notna().any():
        return rows[rows["per_fte"].notna()].iloc[0]
    label = f"{month.strftime('%B %Y')} (the end of {quarter_label(quarter)})"
    if rows.empty:
        why = (
            f"{month.strftime('%B %Y')} is not a complete month of the data (referrals.csv or "
            "returns.csv end before it). Supply data to the end of that month, or choose an "
            "earlier quarter (--quarter)."
        )
    elif rows["open_caseload"].isna().all():
        why = (
            "the open caseload at that month end is missing: it comes from referrals.csv "
            "(referral and closed dates) or the open_cases_end column of returns.csv. Add that "
            "month's open_cases_end to returns.csv (or supply record-level referrals), or choose "
            "an earlier quarter (--quarter)."
        )
    else:
        why = (
            f"staffing.csv has no FTE in post (fte_in_post above 0) in a caseworker role (config "
            f"caseload_roles) for month {month.strftime('%Y-%m')}. Add that month's rows to "
            "staffing.csv (month, team, role, fte_in_post, fte_funded), or choose an earlier "
            "quarter (--quarter)."
        )
    raise ValueError(f"No caseload per FTE for {label}: {why}")


def required_staffing(open_cases: float, fte_in_post: float, config: Config) -> dict[str, float]:
    """Safe staffing for ``open_cases``: required FTE, gap FTE and its cost (GBP a year).

    required_fte = open_cases / safe level (30); gap_fte = required_fte - fte_in_post (negative
    means spare capacity); gap_cost = gap_fte x cost per FTE.
    """
    required = open_cases / config.safe_caseload_per_fte
    gap = required - fte_in_post
    return {
        "open_cases": open_cases,
        "fte_in_post": fte_in_post,
        "per_fte": open_cases / fte_in_post if fte_in_post else np.nan,
        "required_fte": required,
        "gap_fte": gap,
        "gap_cost": gap * config.cost_per_fte,
    }


def growth_bid_scenario(open_cases: float, fte_in_post: float, config: Config) -> dict[str, float]:
    """What the growth bid buys: FTE = bid / cost per FTE, and the caseload per FTE after it."""
    bought = config.growth_bid / config.cost_per_fte
    after = fte_in_post + bought
    per_fte = open_cases / after
    still_needed = max(0.0, open_cases / config.safe_caseload_per_fte - after)
    return {
        "growth_bid": config.growth_bid,
        "fte_bought": bought,
        "fte_after": after,
        "per_fte_before": open_cases / fte_in_post if fte_in_post else np.nan,
        "per_fte_after": per_fte,
        "within_band_after": config.safe_band_lower <= per_fte <= config.safe_band_upper,
        "further_fte_for_safe_level": still_needed,
        "further_cost_for_safe_level": still_needed * config.cost_per_fte,
    }


def project(
    open_cases: float,
    fte: float,
    start: pd.Period,
    annual_growth: float,
    config: Config,
    quarters: int = 16,
) -> pd.DataFrame:
    """Caseload per FTE each quarter after ``start`` if demand grows by ``annual_growth`` a year.

    Caseload compounds quarterly, (1 + g) ** (k / 4), with staffing held at ``fte``.
    """
    k = np.arange(quarters + 1)
    cases = open_cases * (1 + annual_growth) ** (k / 4)
    out = pd.DataFrame(
        {
            "quarter": [start.asfreq(QUARTER_FREQ) + int(i) for i in k],
            "open_cases": cases,
            "fte": fte,
            "per_fte": cases / fte,
        }
    )
    out["status"] = band_status(out["per_fte"], config)
    return out


def breach_quarter(projection: pd.DataFrame) -> pd.Period | None:
    """First quarter of a projection above the band, or None within its horizon."""
    above = projection[projection["status"] == "above band"]
    return None if above.empty else above["quarter"].iloc[0]


def littles_law(panel: pd.DataFrame, months: int = 12) -> dict[str, float]:
    """Cross-check: open caseload ~ new cases a month x mean months open (Little's law).

    Over the last ``months`` months: mean monthly referrals, the mean time open of cases that
    closed (days / 30.44) and the mean month-end caseload. A ratio well above 1 means open cases
    are being held longer than closed ones suggest (long cases, or cases not closed on the system).
    """
    require_records(panel, "Little's law check")
    window = panel[complete_months(panel)].tail(months)
    arrivals = window["referrals"].mean()
    closed = window["cases_closed"].sum()
    mean_days = (window["mean_days_open"] * window["cases_closed"]).sum() / closed
    expected = arrivals * mean_days / DAYS_PER_MONTH
    observed = window["open_caseload"].mean()
    return {
        "new_cases_per_month": arrivals,
        "mean_months_open": mean_days / DAYS_PER_MONTH,
        "expected_open_cases": expected,
        "observed_open_cases": observed,
        "ratio": observed / expected,
    }


def england_holidays(years: range) -> np.ndarray:
    """England and Wales bank holidays (``holidays`` package) as numpy dates."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=years)
    return np.array(sorted(days), dtype="datetime64[D]")


def working_days_to_contact(referrals: pd.DataFrame) -> pd.Series:
    """Working days from referral to first contact (NaN if no contact recorded).

    Counts the working days from the referral date up to, not including, the contact date,
    skipping weekends and England bank holidays: contact the same day or the next working day is
    0 or 1; a Friday referral contacted on Monday is 1; a weekend referral counts from Monday.
    """
    contacted = referrals["first_contact_date"].notna()
    out = pd.Series(np.nan, index=referrals.index)
    if not contacted.any():
        return out
    start = referrals.loc[contacted, "referral_date"].to_numpy().astype("datetime64[D]")
    end = referrals.loc[contacted, "first_contact_date"].to_numpy().astype("datetime64[D]")
    years = range(int(start.min().astype(object).year), int(end.max().astype(object).year) + 1)
    out[contacted] = np.busday_count(start, end, holidays=england_holidays(years))
    return out


def response_kpi(
    referrals: pd.DataFrame, config: Config, services: tuple[str, ...] = ("victim",)
) -> pd.DataFrame:
    """Share of referrals first contacted within the KPI (``response_working_days``, one
    working day by default), and the median.

    By financial quarter of referral. ``within_kpi_pct`` is over referrals with a recorded first
    contact; ``no_contact_recorded`` is listed beside it, not hidden.
    """
    ref = referrals[referrals["service"].isin(services)].copy()
    ref["working_days"] = working_days_to_contact(ref)
    ref["quarter"] = ref["referral_date"].dt.to_period(QUARTER_FREQ)
    ref["within"] = ref["working_days"] <= config.response_working_days
    grouped = ref.groupby("quarter")
    out = pd.DataFrame(
        {
            "referrals": grouped.size(),
            "contacted": grouped["working_days"].count(),
            "within_kpi": grouped["within"].sum(),
            "median_working_days": grouped["working_days"].median(),
        }
    )
    out["no_contact_recorded"] = out["referrals"] - out["contacted"]
    out["within_kpi_pct"] = 100 * out["within_kpi"] / out["contacted"]
    out["target_pct"] = 100 * config.response_target_share
    out["rag"] = np.where(out["within_kpi_pct"] >= out["target_pct"], "green", "red")
    return out.reset_index()


def kpis(
    req: dict[str, float],
    bid: dict[str, float],
    breach: pd.Period | None,
    kpi_quarter: pd.Series | None,
    config: Config,
) -> list[KPI]:
    """Headline figures for ``kpis.csv``. The breach quarter's unit names the growth rate it
    assumes (``config.demand_growth_annual``)."""
    status = band_status(pd.Series([req["per_fte"]]), config).iloc[0]
    rows = [
        KPI(
            "caseload_per_fte",
            "Open cases per caseworker FTE",
            round(req["per_fte"], 1),
            "cases per FTE",
            rag=RAG[status],
            source=config.source("safe_band_upper"),
        ),
        KPI(
            "safe_staffing_fte",
            "Safe staffing",
            round(req["required_fte"], 1),
            "FTE",
            source=config.source("safe_caseload_per_fte"),
        ),
        KPI("staffing_gap_fte", "Staffing gap", round(req["gap_fte"], 1), "FTE"),
        KPI(
            "staffing_gap_cost",
            "Cost of the staffing gap",
            # Spare staff (a negative gap) cost nothing extra: not a negative cost.
            round(max(req["gap_cost"], 0.0)),
            "GBP a year",
            source=config.source("cost_per_fte"),
        ),
        KPI(
            "caseload_per_fte_after_bid",
            "Open cases per FTE after the growth bid",
            round(bid["per_fte_after"], 1),
            "cases per FTE",
            source=config.source("growth_bid"),
        ),
        KPI(
            "band_breach_quarter",
            "Quarter the band is breached at safe staffing",
            quarter_label(breach, with_months=False) if breach is not None else "none",
            f"at {100 * config.demand_growth_annual:.0f}% growth a year",
        ),
    ]
    if kpi_quarter is not None:
        rows.append(
            KPI(
                "response_within_window",
                response_kpi_name(config),
                round(kpi_quarter["within_kpi_pct"], 1),
                "%",
                rag=kpi_quarter["rag"],
                source=config.source("response_working_days"),
            )
        )
    return rows
