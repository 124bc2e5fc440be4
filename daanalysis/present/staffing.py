"""What ``notebooks/staffing_gap.ipynb`` works out, offered to the notebook through
``daanalysis.present`` (the only package notebooks import): the caseload, staffing and
response-time figures of :mod:`daanalysis.metrics.staffing`, the response window's words
(:func:`daanalysis.config.response_window`) and :class:`NeedsRecordLevelData` for the
sections that need record-level referrals.

The one-line answer (:func:`one_line_answer`) and the KPIs are still worded in the metrics
module; moving them here is left to a later change (issue 19 names the verdict's prose).
"""

from __future__ import annotations

from daanalysis.config import response_window
from daanalysis.metrics.staffing import (
    breach_quarter,
    caseload_per_fte,
    growth_bid_scenario,
    kpis,
    littles_law,
    one_line_answer,
    project,
    quarter_end,
    required_staffing,
    response_kpi,
    unavailable,
)
from daanalysis.panel import NeedsRecordLevelData

__all__ = [
    "NeedsRecordLevelData",
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
    "unavailable",
]
