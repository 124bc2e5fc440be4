"""Small counts, as statistics see them: whether a figure rests on a count of people small
enough to identify someone, and which category labels no published count would show.

The rules that decide *what* a metric returns; hiding cells and the disclosure marker are
presentation (:mod:`daanalysis.present.disclosure`, which re-exports these).
"""

from __future__ import annotations

import pandas as pd

# The row label of the categories too small to name: a free-text value recorded for one or two
# people (an ethnicity written as a name) must never become a published row label.
OTHER = "Other"


def is_small(count: float | None, threshold: float) -> bool:
    """Whether ``count`` is a count of people small enough to identify someone
    (0 < count < threshold): a figure resting on it is published hidden."""
    return count is not None and not pd.isna(count) and 0 < count < threshold


def rare_labels(counts: pd.DataFrame, threshold: float, keep: tuple[str, ...] = ()) -> list[object]:
    """Row labels of ``counts`` (labels by published count columns) that no published count
    shows at ``threshold`` or more: to be grouped as :data:`OTHER` before publication, since
    suppressing the count would still publish the label. Labels in ``keep`` (fixed wording
    such as ``not recorded``) stay."""
    small = counts.max(axis=1) < threshold
    return [label for label in counts.index[small] if label not in keep]


__all__ = ["OTHER", "is_small", "rare_labels"]
