"""What ``notebooks/action_plan.ipynb`` works out, offered to the notebook through
``daanalysis.present`` (the only package notebooks import): the action plan's reviews and
ratings from :mod:`daanalysis.metrics.actionplan`."""

from __future__ import annotations

from daanalysis.metrics.actionplan import (
    changes_since_last_review,
    kpis,
    rag_by_priority,
    red_and_amber,
    reviews,
    up_to,
)

__all__ = [
    "changes_since_last_review",
    "kpis",
    "rag_by_priority",
    "red_and_amber",
    "reviews",
    "up_to",
]
