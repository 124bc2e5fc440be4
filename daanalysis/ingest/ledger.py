"""The row ledger: every input row as used or excluded with its reason.

:class:`Reasons` gathers a table's reasons as arrays while it is read; :func:`exclude_rows` and
:func:`note_rows` change the ledger when a later check sets rows aside or notes them;
:func:`check_excluded_share` stops a run whose file lost too many rows; :func:`ledger_summary` and
:func:`ledger_problems` are what the pages show; :func:`area_rows` the lines an area's page counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.ingest.clean import keep_rows
from daanalysis.ingest.extract import CONTRACT_DOC, DataContractError, reason_category

# ``area``: the row's area as the file gives it (its tidied text, or config's default_area where
# the file has none), so that an area's page counts its own rows; blank for a row with no area (a
# campaign or event for every area, a table without an area column).
LEDGER_COLUMNS = ["table", "file", "row", "area", "status", "reason"]


class Reasons:
    """Why rows of one table are excluded, gathered check by check and joined once at the end.

    Each check adds the positions of its rows with one text for all of them or one per row, as
    arrays; nothing is held per row. A row's reasons keep the order they were added in.
    """

    def __init__(self) -> None:
        self._rows: list[np.ndarray] = []
        self._texts: list[np.ndarray] = []

    def add(self, rows: np.ndarray | pd.Index, texts: object) -> None:
        rows = np.asarray(rows, dtype="int64")
        if not len(rows):
            return
        if isinstance(texts, str):
            texts = np.full(len(rows), texts, dtype=object)
        self._rows.append(rows)
        self._texts.append(np.asarray(texts, dtype=object))

    def frame(self) -> pd.DataFrame:
        """Every (row, text) so far, by row and then in the order added."""
        if not self._rows:
            return pd.DataFrame({"row": np.array([], "int64"), "text": np.array([], object)})
        rows, texts = np.concatenate(self._rows), np.concatenate(self._texts)
        order = np.argsort(rows, kind="stable")
        return pd.DataFrame({"row": rows[order], "text": texts[order]})

    def joined(self) -> pd.Series:
        """One text per row that has reasons (``; ``-joined, in order), indexed by row."""
        pairs = self.frame()
        rows, texts = pairs["row"].to_numpy(), pairs["text"].to_numpy()
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else rows
        group = np.cumsum(np.r_[True, rows[1:] != rows[:-1]]) - 1 if len(rows) else rows
        rank = np.arange(len(rows)) - starts[group]
        out = texts[starts].copy()
        for k in range(1, int(rank.max(initial=0)) + 1):  # a handful of passes: reasons per row
            at = np.flatnonzero(rank == k)
            out[group[at]] = out[group[at]] + "; " + texts[at]
        return pd.Series(out, index=pd.Index(rows[starts], dtype="int64"), dtype=object)


# How the reasons of rows set aside, not refused, begin or what they hold: a subtotal row of
# monthly returns, and a count so far below its series that it was probably not collected.
SUBTOTAL = "subtotal row"
LOW_COUNT = "probably not collected or partial"
# A row for an area outside the extract in a file covering a wider area (a police force's file
# beside one council's referrals: daanalysis.ingest.checks.areas), out of scope, not a fault.
OUTSIDE_AREAS = "is not one of this extract's areas"
# The note a not-collected count leaves on its row in the ledger (the row is used).
NOT_COLLECTED_NOTE = "not collected (blank or marked)"
# A row that holds no data (the header pasted again, a row of empty cells): listed, and not a
# fault of the export's rows, so not counted against max_excluded_share.
NO_DATA = ", not data"
# A small count withheld in a published table ('<5', '*', '[c]'): a gap, named apart.
SUPPRESSED_NOTE = "suppressed small count"


def check_excluded_share(
    ledger: pd.DataFrame,
    config: Config,
    path: Path | str,
    areas: list[str] | None = None,
    faults: dict[str, str] | None = None,
) -> None:
    """Stop when too many rows of one file were excluded: the export is probably wrong.

    Run when a table is read and again after every later step (cross-table checks, duplicate
    removal), so that no step can push a file past the limit unnoticed. Three or more excluded
    rows are needed: one or two slips in a tiny file are listed, not fatal. Given the extract's
    ``areas`` (two or more), each area's rows of the file are held to the same limit too: in a
    regional file one council's broken export would otherwise stay under the file's limit and
    its pages be drawn from what was left. Such an area's fault is recorded in ``faults`` (area
    to message; the first for each area), for the run to stop when that area is reported (so in
    a region of tasks, that council's task fails, not every council's); without ``faults`` it
    stops here. Rows whose area is not one of ``areas`` (a misspelt area) are excluded for that
    reason and listed; they are judged with the file, not as an area of their own.
    """
    # Subtotal rows, counts set aside as probably not collected, rows for areas outside the
    # extract and rows of no data (a blank row, the header again) are not faults of the
    # export: they are listed, and do not count against the limit.
    reasons = ledger["reason"].astype("str")
    set_aside = (
        reasons.str.startswith(SUBTOTAL)
        | reasons.str.contains(LOW_COUNT, regex=False)
        | reasons.str.contains(OUTSIDE_AREAS, regex=False)
        | reasons.str.endswith(NO_DATA)
    )
    ledger = ledger[~set_aside.to_numpy()]
    message = _row_needed(ledger, path) or _too_many(ledger, config, f"{path}")
    if message:
        raise DataContractError(message)
    if areas is None or len(areas) < 2 or "area" not in ledger.columns:
        return
    excluded = (ledger["status"] == "excluded").to_numpy()
    known = ledger["area"].isin(areas).to_numpy()
    counts = pd.DataFrame({"area": ledger["area"].to_numpy()[known], "excluded": excluded[known]})
    by_area = counts.groupby("area", sort=True)["excluded"].agg(["sum", "size"])
    over = by_area[
        (by_area["sum"] > 2) & (by_area["sum"] / by_area["size"] > config.max_excluded_share)
    ]
    for area in over.index:
        mine = ledger[(ledger["area"] == area).to_numpy()]
        message = _too_many(mine, config, f"{path}, area {area!r}")
        if faults is None:
            raise DataContractError(message)
        faults.setdefault(str(area), message)


def _row_needed(ledger: pd.DataFrame, path: Path | str) -> str:
    """The error for an excluded row of a table each of whose rows shapes the model
    (``TableSpec.every_row``: campaigns, events), "" if none."""
    # Here, not at the top: the pages' kernels import this module for area_rows and must not
    # pull in the loader's pandera (tests/test_notebook.py).
    from daanalysis.ingest.schema import TABLES

    excluded = ledger[ledger["status"] == "excluded"]
    if not len(excluded):
        return ""
    spec = TABLES.get(str(excluded["table"].iloc[0]))
    if spec is None or not spec.every_row:
        return ""
    rows = "; ".join(
        f"row {row}: {reason}"
        for row, reason in zip(excluded["row"][:3], excluded["reason"][:3], strict=True)
    )
    more = f" (and {len(excluded) - 3} more)" if len(excluded) > 3 else ""
    return (
        f"{path}: {rows}{more}. Each row of {spec.name} is part of the model, so none is left "
        "out (the verdict would change without saying why). Correct the row, or delete it if "
        "it is not to be modelled, and load again."
    )


def _too_many(ledger: pd.DataFrame, config: Config, where: str) -> str:
    """The error for more excluded rows than ``max_excluded_share`` allows ("" if not)."""
    excluded = ledger[ledger["status"] == "excluded"]
    if not len(ledger) or len(excluded) <= 2:
        return ""
    share = len(excluded) / len(ledger)
    if share <= config.max_excluded_share:
        return ""
    first = excluded.iloc[0]
    common = excluded["reason"].map(reason_category).value_counts().head(3)
    top = "; ".join(f"{n} x {reason}" for reason, n in common.items())
    return (
        f"{where}: {len(excluded)} of {len(ledger)} rows ({share:.0%}) break the data contract, "
        f"more than the {config.max_excluded_share:.0%} allowed (config max_excluded_share). "
        f"First: row {first['row']}: {first['reason'].split('; ')[0]}. Most common: {top}. "
        + _advice(common.index.tolist())
    )


def _advice(reasons: list[str]) -> str:
    """The closing advice for many excluded rows, fitted to their most common reasons: the
    date format and header only when the reasons are about dates or periods."""
    text = " ".join(reasons)
    advice = []
    if re.search(r"is not a (date|month)|after the extract date|before \d{4}", text):
        advice.append(
            "check the export's date format (dd/mm/yyyy) and that the file has one header row"
        )
    if "financial quarter" in text or "financial year" in text:
        advice.append("write each period as a month (yyyy-mm) or a financial quarter (2011/12 Q1)")
    if "is not a number" in text or "not a whole number" in text:
        advice.append(
            "write counts as numbers only (no units, words or signs); leave a cell blank, or "
            "write 'not collected', where a figure was not collected"
        )
    if "duplicate of" in text:
        advice.append("check that the export was not run twice into one file")
    if not advice:
        return f"Correct the rows listed in the ledger against {CONTRACT_DOC}."
    return f"{'; '.join(advice).capitalize()} (see {CONTRACT_DOC})."


def exclude_rows(
    tables: dict[str, pd.DataFrame],
    ledger: pd.DataFrame,
    name: str,
    reasons: pd.Series,
) -> pd.DataFrame:
    """Exclude rows of table ``name``: ``reasons`` is indexed like the table, one text per row.

    The rows leave the table and their ledger lines become ``excluded`` with the reason added.
    """
    if reasons.empty:
        return ledger
    frame = tables[name]
    rows = frame.loc[reasons.index, "source_row"].to_numpy()
    by_row = pd.Series(reasons.to_numpy(dtype=object), index=rows)
    by_row = by_row[~by_row.index.duplicated(keep="last")]
    ledger = ledger.copy()
    where = (ledger["table"] == name) & ledger["row"].isin(rows)
    new = by_row.reindex(ledger.loc[where, "row"].to_numpy()).to_numpy()
    old = ledger.loc[where, "reason"].to_numpy(dtype=object)
    ledger.loc[where, "status"] = "excluded"
    # The rows were in use, so what they held was a note: the reason for excluding comes first.
    ledger.loc[where, "reason"] = np.where(old != "", new + "; " + old, new)
    tables[name] = keep_rows(frame, ~frame.index.isin(reasons.index)).reset_index(drop=True)
    return ledger


def note_rows(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, name: str, notes: pd.Series
) -> pd.DataFrame:
    """Add a note to the ledger lines of rows of table ``name`` that stay in use (``notes``
    is indexed like the table)."""
    rows = tables[name].loc[notes.index, "source_row"].to_numpy()
    by_row = pd.Series(notes.to_numpy(dtype=object), index=rows)
    ledger = ledger.copy()
    where = (ledger["table"] == name) & ledger["row"].isin(rows)
    new = by_row.reindex(ledger.loc[where, "row"].to_numpy()).to_numpy()
    old = ledger.loc[where, "reason"].to_numpy(dtype=object)
    ledger.loc[where, "reason"] = np.where(old != "", old + "; " + new, new)
    return ledger


def join_ledgers(ledgers: list[pd.DataFrame]) -> pd.DataFrame:
    """The tables' ledgers as one: text columns of Python strings (object), as pandas makes them
    when it joins them to an empty ledger, and ``row`` as int64.

    Built column by column from each column's few distinct texts: one string object per distinct
    text rather than one per row, and no column of Python integers on the way.
    """
    columns = {}
    for col in LEDGER_COLUMNS:
        parts = [frame[col] for frame in ledgers if len(frame)]
        if col == "row":
            columns[col] = pd.Series(
                np.concatenate([np.asarray(part, dtype="int64") for part in parts] or [[]]),
                dtype="int64",
            )
            continue
        texts = []
        for part in parts:
            codes, uniques = pd.factorize(part)  # -1: missing
            texts.append(np.append(uniques.to_numpy(dtype=object), np.nan)[codes])
        columns[col] = pd.Series(np.concatenate(texts or [[]]).astype(object), dtype=object)
    return pd.DataFrame(columns)


def ledger_summary(ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows read, used and excluded per file; used + excluded always equals rows read."""
    summary = (
        ledger.assign(n=1)
        .pivot_table(index=["table", "file"], columns="status", values="n", aggfunc="sum")
        .reindex(columns=["used", "excluded"])
        .fillna(0)
        .astype(int)
    )
    summary.insert(0, "rows_read", summary.sum(axis=1))
    summary.columns.name = None
    return summary.reset_index()


def ledger_problems(ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows excluded, or used with a note, listed by file and row with the reason."""
    noted = ledger[ledger["reason"] != ""]
    return noted.sort_values(["status", "table", "row"]).reset_index(drop=True)


def area_rows(ledger: pd.DataFrame, area: str, areas: list[str]) -> tuple[pd.DataFrame, int]:
    """The ledger lines of ``area``'s rows and of rows that could not be assigned to an area,
    and how many of the latter there are.

    A row cannot be assigned to an area when it has none (a campaign or event for every area, a
    table without an area column) or its area is not one of ``areas``, the extract's (a
    misspelt area, excluded for that reason): it may concern any area, so every area's page
    counts it. A ledger without an ``area`` column (built before it had one) is returned whole,
    every line counted as unassigned.
    """
    if "area" not in ledger.columns:
        return ledger, len(ledger)
    unassigned = ~ledger["area"].isin(areas).to_numpy()
    mine = unassigned | (ledger["area"] == area).to_numpy()
    return ledger[mine], int(unassigned.sum())
