"""Headline figures as typed records (:class:`KPI`): what a metric returns for ``kpis.csv`` and
what the front page, the spreadsheet and the main points read back, by :attr:`KPI.key`.

A figure travels as a number with its interval in their own fields (``value``, ``low``,
``high``), never inside text: nothing downstream parses a figure out of a sentence or finds it
by its display label. The runner adds ``area``, ``quarter`` and ``notebook`` when it collects
the rows (:func:`daanalysis.present.notebook.write_kpis`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

# The columns of kpis.csv, in order. ``kpi`` is the label a reader sees (its name is kept so
# that last quarter's file still reads); ``key`` is what code looks a figure up by.
KPI_COLUMNS = [
    "area",
    "quarter",
    "notebook",
    "key",
    "kpi",
    "value",
    "low",
    "high",
    "unit",
    "period",
    "rag",
    "source",
]


@dataclass(frozen=True)
class KPI:
    """One headline figure.

    ``key``: a stable name code looks the figure up by (``referrals_quarter``); ``label``: what
    a reader sees (``Referrals in quarter``); ``value``: the figure (a number, or text such as a
    verdict or a quarter; ``None`` when the data cannot give it); ``low`` / ``high``: its 95%
    confidence interval, in the value's unit, when it has one; ``unit``: its unit in words
    (``referrals``, ``%``, ``ratio``, ``GBP a year``, ``FTE``; ``text`` for a sentence shown
    with the figures but not in the headline table; ``warning`` for a data warning);
    ``period``: what the figure covers when that is not the quarter (``12 months to the
    quarter's end``); ``rag``: red, amber or green against a threshold, blank when none;
    ``source``: where its threshold or benchmark comes from. ``hidden``: the figure rests on a
    count below the suppression threshold (the page publishes the disclosure marker instead);
    not a column of ``kpis.csv``.
    """

    key: str
    label: str
    value: float | int | str | None
    unit: str = ""
    low: float | None = None
    high: float | None = None
    period: str = ""
    rag: str = ""
    source: str = ""
    hidden: bool = False

    def row(self) -> dict[str, object]:
        """The record as a ``kpis.csv`` row (without area, quarter and notebook)."""
        out = asdict(self)
        out["kpi"] = out.pop("label")
        out.pop("hidden")
        out["value"] = "" if self.value is None else self.value
        out["low"] = "" if self.low is None else self.low
        out["high"] = "" if self.high is None else self.high
        return out


KPI_FIELDS = tuple(f.name for f in fields(KPI))


def as_number(value: object) -> float | None:
    """A ``kpis.csv`` value as a number (``1,234`` as written by the pack is 1234); None for
    text, a marker such as ``[c]`` or a blank."""
    try:
        number = float(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


__all__ = ["KPI", "KPI_COLUMNS", "KPI_FIELDS", "as_number"]
