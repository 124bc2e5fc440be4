"""CSV cells that no spreadsheet will run: the one writer and reader of every CSV the pack
publishes or keeps for analysts (downloads, ``kpis.csv``, ``alerts.csv``, the ledger, officer
lists).

Layer 0 (beside ``config``), so that every layer may write a CSV the same safe way.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

# --- cells that a spreadsheet would run ----------------------------------------------------------

# OWASP "CSV Injection": a cell starting with one of these is read by Excel, LibreOffice or Google
# Sheets as a formula (tab and carriage return as well, which some of them skip before one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that a spreadsheet reads as a plain number (-4.7, +3, -12%, 1e-3): no formula, kept as is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def inert(value: object) -> object:
    """``value`` safe to put in a spreadsheet or CSV cell: text that would start a formula gets
    a leading single quote, as OWASP's CSV-injection guidance advises, so that
    ``=HYPERLINK(...)`` or ``+cmd`` is shown as the text it is. Numbers, and text that is only a
    number (``-4.7``), are returned unchanged. Applies once: ``'=x`` is left alone."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column label passed through :func:`inert`."""
    out = frame.map(inert) if len(frame.columns) else frame.copy()
    out.columns = [inert(c) for c in frame.columns]
    return out


def read_csv_back(path: str | Path, **options) -> pd.DataFrame:
    """A CSV this package wrote with :func:`write_csv`, with the quote :func:`inert` added taken
    off again, so that a page shows the text as the data spell it (and last quarter's area
    names match this quarter's). Text that itself began with a quote before a formula
    character (``'=x``) cannot be told from one made inert and loses its quote."""

    def restore(value: object) -> object:
        if isinstance(value, str) and value.startswith("'") and inert(value[1:]) == value:
            return value[1:]
        return value

    frame = pd.read_csv(path, **options)
    frame = frame.map(restore) if len(frame.columns) else frame
    frame.columns = [restore(c) for c in frame.columns]
    return frame


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """``frame`` as a CSV without its index, every text cell made inert (:func:`inert`): the one
    writer of every CSV a reader may open in a spreadsheet (downloads, kpis, alerts, ledger)."""
    inert_frame(frame).to_csv(path, index=False)
    return Path(path)


__all__ = ["FORMULA_STARTS", "inert", "inert_frame", "read_csv_back", "write_csv"]
