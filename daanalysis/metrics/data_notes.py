"""What the demand models checked in the data, or left out and why, as typed records.

The verdict (:func:`daanalysis.metrics.demand.verdict`: its ``checks`` and ``notes``) and the
per-stream fits (:func:`daanalysis.metrics.demand.fit_streams`) return these instead of
sentences; :func:`daanalysis.present.verdict.note_text` words them for the page, the command
line and the JSON of ``daanalysis verdict``, and code that acts on a note reads its ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# A stream (``subject`` is its label)...
NO_FIGURES = "no_figures"  # no figure up to the quarter
GAP = "gap"  # ``count`` periods missing between ``first`` and ``last``
ENDS_EARLY = "ends_early"  # figures end in ``last``, before the end of ``quarter``
PARTIAL_LAST = "partial_last"  # ``last`` (``count``) far below the median ``reference``
NEEDS_RECORDS = "needs_records"  # needs record-level referrals
NOT_IN_DATA = "not_in_data"
TOO_FEW = "too_few"  # ``count`` in all, too few to model
NOT_FITTED = "not_fitted"  # the model could not be fitted: ``detail`` is its own reason
CONTROL_INSTEAD = "control_instead"  # the first control is missing; ``scope`` is used instead
POOR_FIT = "poor_fit"  # ``count`` periods fitted badly, the first six in ``periods``
# ...or a campaign (``subject`` is its name; ``scope`` the stream's label, "" for the verdict).
TOO_EARLY = "too_early"  # less than a year of figures before it
TOO_RECENT = "too_recent"  # less than six months (after the transition) of figures after it
NEAR_EVENT = "near_event"  # starts during or soon after the temporary event ``scope``,
# which ended on ``last`` (a day)

KINDS = (
    NO_FIGURES, GAP, ENDS_EARLY, PARTIAL_LAST, NEEDS_RECORDS, NOT_IN_DATA, TOO_FEW, NOT_FITTED,
    CONTROL_INSTEAD, POOR_FIT, TOO_EARLY, TOO_RECENT, NEAR_EVENT,
)  # fmt: skip


@dataclass(frozen=True)
class DataNote:
    """One check or note: its kind (:data:`KINDS`), what it is about and the figures behind it."""

    kind: str
    subject: str = ""
    scope: str = ""
    count: float | None = None
    first: pd.Period | None = None
    last: pd.Period | pd.Timestamp | None = None
    quarter: pd.Period | None = None
    reference: float | None = None
    periods: tuple[pd.Period, ...] = ()
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown data note kind {self.kind!r}")
