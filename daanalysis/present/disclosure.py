"""Small-number suppression for every published table.

Counts from 1 to ``threshold - 1`` are replaced by a marker. Where a table has totals, one
suppressed cell in a row or column could be worked out by subtraction, so the smallest other
non-zero cell in that row or column is suppressed too (secondary suppression), repeated until no
suppressed cell can be recovered. Rates and percentages computed from a suppressed count are
suppressed with it. Zero is shown: it discloses nothing about an individual.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from daanalysis.metrics.small_counts import OTHER, is_small, rare_labels

MARKER = "[c]"  # ONS convention: "confidential"


def primary_mask(counts: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """True where a count is small enough to identify someone (0 < count < threshold)."""
    return (counts > 0) & (counts < threshold)


def secondary_mask(
    counts: pd.DataFrame, mask: pd.DataFrame, axes: tuple[int, ...] = (1, 0)
) -> pd.DataFrame:
    """Extend ``mask`` so that no row (axis 1) or column (axis 0) that sums to a published total
    has exactly one suppressed cell."""
    mask = mask.copy()
    values = counts.to_numpy(dtype=float)
    m = mask.to_numpy(copy=True)
    changed = True
    while changed:
        changed = False
        for axis in axes:
            lines = m if axis == 1 else m.T
            vals = values if axis == 1 else values.T
            for i in range(lines.shape[0]):
                if lines[i].sum() == 1:
                    candidates = np.where(~lines[i] & (vals[i] > 0), vals[i], np.inf)
                    if np.isfinite(candidates).any():
                        lines[i, int(np.argmin(candidates))] = True
                        changed = True
    return pd.DataFrame(m, index=mask.index, columns=mask.columns)


def suppress(
    table: pd.DataFrame,
    count_columns: list[str],
    threshold: float = 5,
    rate_columns: dict[str, str | list[str]] | None = None,
    totals: bool | str = False,
    marker: str = MARKER,
) -> pd.DataFrame:
    """A publishable copy of ``table`` with small counts replaced by ``marker``.

    ``count_columns`` hold counts; with ``totals=True`` the last of them is the row total and
    the table's last row is the column total, and secondary suppression is applied to the cells
    inside them (a suppressed total needs no partner). With ``totals="row"`` only the last row
    is a total (each column is, say, a different year), so protection runs down the columns.
    ``rate_columns`` maps a derived column to the count (or counts) it was computed from. The
    result has object columns where anything was suppressed; other values are unchanged.
    """
    counts = table[count_columns].astype(float)
    return _hide(table, counts, primary_mask(counts, threshold), totals, rate_columns, marker)


def _hide(
    table: pd.DataFrame,
    counts: pd.DataFrame,
    mask: pd.DataFrame,
    totals: bool | str,
    rate_columns: dict[str, str | list[str]] | None,
    marker: str,
) -> pd.DataFrame:
    """``table`` with the cells of ``mask`` (and their secondary partners, and the rates made
    from them) replaced by ``marker``."""
    if totals == "row":
        mask.iloc[:-1] = secondary_mask(counts.iloc[:-1], mask.iloc[:-1], axes=(0,)).to_numpy()
    elif totals:
        inner = counts.iloc[:-1, :-1]
        mask.iloc[:-1, :-1] = secondary_mask(inner, mask.iloc[:-1, :-1]).to_numpy()
    out = table.copy()
    for col in counts.columns:
        if mask[col].any():
            out[col] = out[col].astype(object).where(~mask[col], marker)
    for rate, sources in (rate_columns or {}).items():
        hit = mask[[sources] if isinstance(sources, str) else list(sources)].any(axis=1)
        if hit.any():
            out[rate] = out[rate].astype(object).where(~hit, marker)
    return out


def suppressed_cells(table: pd.DataFrame, marker: str = MARKER) -> int:
    """How many cells of a published table carry the marker."""
    return int((table.astype(str) == marker).to_numpy().sum())


def _total_label(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in {"total", "all", "all sources"}


def totals_of(table: pd.DataFrame, count_columns: list[str]) -> bool | str:
    """How ``table`` carries totals, for :func:`protect`: ``True`` when its last count column is
    a ``total`` column and its last row is a total row (labelled ``Total`` in a text column),
    ``"row"`` when only the last row is a total, ``False`` otherwise."""
    if len(table) < 2 or not count_columns:
        return False
    labels = [c for c in table.columns if c not in count_columns]
    last_row = any(_total_label(table[c].iloc[-1]) for c in labels)
    last_col = str(count_columns[-1]).strip().lower() == "total"
    if last_row and last_col:
        return True
    return "row" if last_row else False


def protect(
    table: pd.DataFrame,
    count_columns: list[str],
    threshold: float,
    rate_columns: dict[str, str | list[str]] | None = None,
    totals: bool | str | None = None,
    marker: str = MARKER,
) -> pd.DataFrame:
    """:func:`suppress` for a table that may already carry markers (a notebook suppressed it
    itself): cells already hidden count as suppressed, so secondary suppression protects them
    too, and applying it twice changes nothing. ``totals=None`` reads the table's totals from
    its labels (:func:`totals_of`). What :meth:`daanalysis.present.page.Page.table` applies to
    every published table."""
    if not count_columns:
        return table
    if totals is None:
        totals = totals_of(table, count_columns)
    hidden = table[count_columns].astype(str) == marker
    counts = table[count_columns].apply(pd.to_numeric, errors="coerce").astype(float)
    mask = primary_mask(counts, threshold) | hidden
    return _hide(table, counts, mask, totals, rate_columns, marker)


__all__ = [
    "MARKER",
    "OTHER",
    "is_small",
    "primary_mask",
    "protect",
    "rare_labels",
    "secondary_mask",
    "suppress",
    "suppressed_cells",
    "totals_of",
]
