"""The data-quality section of a committee page, and the analyst's row ledger.

Committee pages show how many rows of each table were used or excluded, and why, as counts by
table and reason: no row numbers, no raw values (a rare label can identify someone), and counts
below the suppression threshold shown as the disclosure marker. The full row-by-row ledger, with
values, goes to ``analysts/ledger.csv`` in the run folder, for analysts only; no page links it.
In an extract of several areas, an area's page counts its own area's rows and those that could
not be assigned to an area (:func:`area_rows`), and says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from daanalysis.ingest.extract import Extract, reason_category
from daanalysis.ingest.ledger import area_rows
from daanalysis.panel import COUNTED_STREAMS
from daanalysis.present.disclosure import MARKER, secondary_mask, suppress

if TYPE_CHECKING:
    from daanalysis.present.page import Page

LEDGER_FILE = "ledger.csv"
STATUS_TEXT = {"excluded": "excluded", "noted": "used, with a note"}


def rows_by_table(ledger: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Rows read and excluded per table, small excluded counts suppressed.

    Rows read are shown (the size of each file discloses no one); the rows used are not, since
    read minus used would give back a suppressed excluded count. For the same reason there is no
    all-tables total.
    """
    counts = (
        pd.crosstab(ledger["table"], ledger["status"])
        .reindex(columns=["used", "excluded"], fill_value=0)
        .astype(int)
    )
    table = pd.DataFrame(
        {
            "table": counts.index,
            "rows read": counts.sum(axis=1).to_numpy(),
            "excluded": counts["excluded"].to_numpy(),
        }
    )
    table["excluded (%)"] = (100 * table["excluded"] / table["rows read"]).round(1)
    return suppress(table, ["excluded"], threshold, rate_columns={"excluded (%)": "excluded"})


def reasons_by_table(ledger: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Rows excluded, or used with a note, per table and reason (values and row numbers removed).

    Within a table the excluded counts add up to the excluded total shown by
    :func:`rows_by_table`, so a lone suppressed reason gets a partner (secondary suppression).
    """
    noted = ledger[ledger["reason"] != ""].assign(
        status=lambda d: d["status"].where(d["status"] == "excluded", "noted"),
        reason=lambda d: d["reason"].map(reason_category),
    )
    if noted.empty:
        return pd.DataFrame(columns=["table", "what happened", "reason", "rows"])
    counts = noted.groupby(["table", "status", "reason"]).size().rename("rows").reset_index()
    mask = pd.Series(False, index=counts.index)
    for _, group in counts.groupby(["table", "status"]):
        cells = group[["rows"]].astype(float)
        primary = (cells > 0) & (cells < threshold)
        mask[group.index] = secondary_mask(cells, primary, axes=(0,))["rows"]
    out = counts.assign(
        rows=counts["rows"].astype(object).where(~mask, MARKER),
        status=counts["status"].map(STATUS_TEXT),
    )
    return out.rename(columns={"status": "what happened"})[
        ["table", "what happened", "reason", "rows"]
    ]


def _unassigned_note(area: str, count: int, threshold: float) -> str:
    """Says plainly which rows an area's section counts; a small count of unassigned rows is
    not given (their excluded rows, counted on every page, would be small too)."""
    if count == 0:
        return f"The tables count the rows of {area} only: every row of these inputs has its area."
    many = f"{count:,} rows" if count >= threshold else f"fewer than {threshold:g} rows"
    return (
        f"The tables count the rows of {area}, and {many} that could not be assigned to an area "
        "(no area given, as for a campaign or event that applies to every area, or an area that "
        "is not one of this extract's): those rows are counted on every area's page."
    )


def write_ledger(extract: Extract, path: str) -> None:
    """The full row ledger (table, file, row, area, status, reason with values) for analysts."""
    from daanalysis.safe_csv import write_csv  # values that a spreadsheet would run made inert

    write_csv(extract.ledger, path)


def show(
    extract: Extract,
    tables: Iterable[str] | None = None,
    page: Page | None = None,
    area: str | None = None,
) -> None:
    """Display the data-quality section of a committee page (one call from each notebook).

    ``tables``: the inputs the page draws on (all of them if None), so that each page reports
    the rows behind its own figures rather than repeating the whole extract's. With ``page``
    the tables are published through it (:meth:`daanalysis.present.page.Page.table`: in the
    pack's spreadsheet too); without, only shown.

    ``area`` (by default the page's): in an extract of several areas, only that area's rows
    are counted, with the rows that could not be assigned to an area, said plainly
    (:func:`area_rows`), and the notes about other areas only are left out
    (:meth:`Extract.notes_for`). The page for all areas (partnership), and any page of a
    one-area extract, count every row and show every note.
    """
    from IPython.display import Markdown, display

    from daanalysis.present.tables import format_table
    from daanalysis.present.words import markdown_literal

    ledger = extract.ledger
    if tables is not None:
        ledger = ledger[ledger["table"].isin(list(tables))]
    threshold = extract.config.suppression_threshold
    if area is None and page is not None:
        area = page.ctx.area
    areas = (
        (list(extract.cut_from) or extract.areas()) if area and hasattr(extract, "areas") else []
    )
    unassigned = None
    if len(areas) > 1 and area in areas:
        ledger, unassigned = area_rows(ledger, area, areas)
    warning = extract.config.disclosure_warning
    if warning:
        display(Markdown(f"**{warning}**"))
    display(
        Markdown(
            "Every input row is either used or excluded with its reason. The tables count the "
            "rows of "
            + ("the inputs this page draws on" if tables is not None else "every input")
            + f", by table and reason; counts below {threshold:g} are shown as [c]. The row-by-row "
            f"list, with the values concerned, is in `analysts/{LEDGER_FILE}` in the run folder "
            "for analysts to correct the source data: it is not part of the committee pack."
        )
    )
    if unassigned is not None:
        display(Markdown(_unassigned_note(area, unassigned, threshold)))
    source = "the extract's files, checked against the pack's rules for each input file"

    def publish(frame: pd.DataFrame, title: str, not_counts=(), **options) -> None:
        if page is not None:
            page.table(frame, title, source, not_counts=not_counts, **options)
        else:
            display(format_table(frame, title, source, **options))

    # Rows read are the size of each file: they disclose no one (see rows_by_table).
    publish(
        rows_by_table(ledger, threshold),
        "Rows read and excluded, by table",
        not_counts=["rows read"],
        precision=0,
    )
    reasons = reasons_by_table(ledger, threshold)
    if len(reasons):
        publish(
            reasons,
            "Rows excluded, or used with a note, by table and reason",
            kinds={"rows": "count"},
            precision=0,
        )
    # In a multi-area pack an area's page leaves out the notes about other areas only.
    notes = extract.notes_for(area) if len(areas) > 1 and area in areas else extract.notes
    for note in notes:
        display(Markdown(f"*{markdown_literal(note)}*"))


# --- quarters the ingest flagged as probable copies of the year before -------------------------

# The ledger note the loader writes on every row of such a quarter (daanalysis.ingest.load): the
# rows
# stay in use, so a page must not compare the two quarters as if both were real.
_COPY = re.compile(r"(\d{4}/\d{2} Q[1-4]) is identical in every count to (\d{4}/\d{2} Q[1-4])")
# The panel columns each checked table feeds.
COPY_STREAMS = {
    "returns": tuple(COUNTED_STREAMS),
    "police": ("police_crimes", "police_incidents"),
    "marac": ("marac_cases",),
}


def copied_quarters(
    extract: Extract, area: str = ""
) -> dict[str, set[tuple[pd.Period, pd.Period]]]:
    """Quarters of ``returns``, ``police`` and ``marac`` that the loader noted as identical in
    every count to the same quarter a year before, by table, as (quarter, quarter a year
    before) pairs: which of the two is the copy cannot be told. Only ``area``'s rows when
    given."""
    from daanalysis.periods import parse_quarter

    ledger = extract.ledger
    out: dict[str, set[tuple[pd.Period, pd.Period]]] = {}
    for table in COPY_STREAMS:
        lines = ledger[
            (ledger["table"] == table)
            & ledger["reason"].str.contains("is identical in every count to", regex=False, na=False)
        ]
        frame = extract.tables.get(table)
        if lines.empty or frame is None:
            continue
        if area and "area" in frame and "source_row" in frame:
            rows = set(frame.loc[frame["area"] == area, "source_row"])
            lines = lines[lines["row"].isin(rows)]
        found = set()
        for reason in lines["reason"]:
            for pair in _COPY.findall(reason):
                found.add((parse_quarter(pair[0]), parse_quarter(pair[1])))
        if found:
            out[table] = found
    return out


def set_aside_copies(
    volumes: pd.DataFrame,
    copied: dict[str, set[tuple[pd.Period, pd.Period]]],
    quarter: pd.Period,
) -> tuple[pd.DataFrame, list[str]]:
    """``volumes`` (:func:`daanalysis.metrics.demand.volumes`) without a change on the year for a
    stream whose quarter is identical to the same quarter a year before, probably copied
    (:func:`copied_quarters`), and a sentence per table saying so for the page."""
    from daanalysis.periods import quarter_label
    from daanalysis.present.words import in_sentence

    out, notes = volumes.copy(), []
    for table, pairs in copied.items():
        if (quarter, quarter - 4) not in pairs:
            continue
        hit = out["stream"].isin(COPY_STREAMS[table])
        out.loc[hit, "change_pct"] = np.nan
        notes.append(
            f"{table}.csv: {quarter_label(quarter, with_months=False)} and "
            f"{quarter_label(quarter - 4, with_months=False)} are identical in every count, "
            "probably copied in the source, so the change on the year is not reported for "
            f"{', '.join(in_sentence(i) for i in out.loc[hit, 'indicator'])}. Check the source."
        )
    return out, notes
