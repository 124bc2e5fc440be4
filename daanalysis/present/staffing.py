"""What ``notebooks/staffing_gap.ipynb`` works out, offered to the notebook through
``daanalysis.present`` (the only package notebooks import): the caseload, staffing and
response-time figures of :mod:`daanalysis.metrics.staffing`, the response window's words
(:func:`daanalysis.config.response_window`) and :class:`NeedsRecordLevelData` for the
sections that need record-level referrals.

:func:`results` works out the page's answer in one call. The one-line answer
(:func:`one_line_answer`) is worded here from the figures the metrics module works out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from daanalysis.config import response_window
from daanalysis.metrics.staffing import (
    breach_quarter,
    caseload_per_fte,
    growth_bid_scenario,
    kpis,
    littles_law,
    project,
    quarter_end,
    required_staffing,
    response_kpi,
    unavailable,
)
from daanalysis.panel import NeedsRecordLevelData
from daanalysis.present.notebook import Context


def one_line_answer(req: dict[str, float]) -> str:
    """The committee's open question in one line."""
    gap = req["gap_fte"]
    if gap <= 0:
        return (
            f"Safe staffing is {req['required_fte']:.1f} FTE: today's {req['fte_in_post']:.1f} FTE "
            f"is enough, with {-gap:.1f} FTE to spare."
        )
    return (
        f"Safe staffing is {req['required_fte']:.1f} FTE, {gap:.1f} more than today, costing "
        f"£{req['gap_cost']:,.0f} a year."
    )


@dataclass
class StaffingResults:
    """The staffing page's answer for one area and quarter. With ``missing`` (what is missing,
    in one line) there is no caseload per FTE at the quarter's end and the rest is empty."""

    missing: str
    caseload: pd.DataFrame | None = None  # caseload per FTE by month
    now: pd.Series | None = None  # the quarter's last month
    need: dict = field(default_factory=dict)  # required staffing (required_staffing)
    bid: dict = field(default_factory=dict)  # the growth bid (growth_bid_scenario)
    # Caseload per FTE projected at today's staffing, after the bid and at safe staffing,
    # each named with its FTE.
    projections: dict[str, pd.DataFrame] = field(default_factory=dict)
    breach: pd.Period | None = None  # when growth takes safe staffing above the band


def results(ctx: Context) -> StaffingResults:
    """The staffing page's answer for ``ctx`` (:func:`daanalysis.present.notebook.prepare`):
    caseload per FTE now, the staff needed, the growth bid and the projections under demand
    growth (config ``demand_growth_annual``)."""
    panel, cfg, q = ctx.panel, ctx.config, ctx.quarter
    missing = unavailable(panel, cfg, q)
    if missing:
        return StaffingResults(missing)
    caseload = caseload_per_fte(panel, cfg)
    now = quarter_end(caseload, q)
    need = required_staffing(now["open_caseload"], now["caseworker_fte"], cfg)
    bid = growth_bid_scenario(now["open_caseload"], now["caseworker_fte"], cfg)
    growth = cfg.demand_growth_annual
    projections = {
        f"Today's staffing ({need['fte_in_post']:.1f} FTE)": project(
            now["open_caseload"], need["fte_in_post"], q, growth, cfg
        ),
        f"After the growth bid ({bid['fte_after']:.1f} FTE)": project(
            now["open_caseload"], bid["fte_after"], q, growth, cfg
        ),
        f"Safe staffing ({need['required_fte']:.1f} FTE)": project(
            now["open_caseload"], need["required_fte"], q, growth, cfg
        ),
    }
    breach = breach_quarter(list(projections.values())[-1])
    return StaffingResults("", caseload, now, need, bid, projections, breach)


__all__ = [
    "NeedsRecordLevelData",
    "StaffingResults",
    "breach_quarter",
    "caseload_per_fte",
    "growth_bid_scenario",
    "kpis",
    "littles_law",
    "one_line_answer",
    "project",
    "quarter_end",
    "required_staffing",
    "response_kpi",
    "response_window",
    "results",
    "unavailable",
]
