"""What ``notebooks/partnership_activity.ipynb`` works out, offered to the notebook through
``daanalysis.present`` (the only package notebooks import): the partnership's activity figures
from :mod:`daanalysis.metrics.partnership` (its tables' layout is
:mod:`daanalysis.present.partnership_tables`).

The section headlines (:func:`funnel_headline`, :func:`perpetrator_headline`,
:func:`sanctuary_headline`) are still worded in the metrics module; moving them here is left to
a later change (issue 19 names the verdict's prose).
"""

from __future__ import annotations

from daanalysis.metrics.partnership import (
    OWN_TABLES,
    availability,
    complete_terms,
    funnel_headline,
    in_area,
    inputs_note,
    kpis,
    perpetrator_headline,
    perpetrator_summary,
    police_funnel,
    prevention_by_term,
    sanctuary_by_quarter,
    sanctuary_headline,
    schools_never_engaged,
    up_to,
)

__all__ = [
    "OWN_TABLES",
    "availability",
    "complete_terms",
    "funnel_headline",
    "in_area",
    "inputs_note",
    "kpis",
    "perpetrator_headline",
    "perpetrator_summary",
    "police_funnel",
    "prevention_by_term",
    "sanctuary_by_quarter",
    "sanctuary_headline",
    "schools_never_engaged",
    "up_to",
]
