"""The run's downloads: one accessible spreadsheet of every table the pages published and
the data behind every chart (:func:`build_downloads`, through ``gptables``), a CSV per chart,
and the officer-only lists kept with the analysts' files (:func:`write_officer_lists`).

The pages record what they publish as files (:class:`daanalysis.present.page.Page`, under
``analysts/notebooks/*.publish``); this module reads them back, so nothing passes through a
global.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from daanalysis.metrics.partnership import schools_never_engaged
from daanalysis.present.disclosure import MARKER
from daanalysis.present.page import DOWNLOADS, EXECUTED
from daanalysis.present.tables import infer_kind
from daanalysis.present.words import (
    NOT_APPLICABLE,
    NOT_APPLICABLE_NOTE,
    NOT_AVAILABLE,
    NOT_AVAILABLE_NOTE,
    SUPPRESSION_NOTE,
    column_label,
    rag_label,
    safe_name,
)
from daanalysis.safe_csv import inert, write_csv

# The headline figures' own columns, as the spreadsheet names them (not global labels: a
# "high" column elsewhere is high risk).
KPI_HEADERS = {"low": "95% CI lower", "high": "95% CI upper", "period": "Period"}


def _number(value: object) -> float | None:
    try:
        number = float(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


# gptables reads "[text](url)" in any cell, title or subtitle as a live link and "$$ref$$" as a
# note reference. In data they are text: a word joiner (U+2060, invisible) between the marks
# breaks both patterns and leaves the text as the reader sees it.
_GPTABLES_MARKUP = re.compile(r"(?<=\])(?=\()|(?<=\$)(?=\$)")


def sheet_text(value: object) -> object:
    """``value`` for a cell of the published workbook: :func:`inert`, and gptables' link and
    note markup in text shown as text (see ``_GPTABLES_MARKUP``)."""
    value = inert(value)
    return _GPTABLES_MARKUP.sub("\u2060", value) if isinstance(value, str) else value


def collect(folder: Path) -> list[tuple[dict, pd.DataFrame]]:
    """Every table and chart recorded by the notebooks of a run
    (``analysts/notebooks/*.publish``)."""
    items = []
    for manifest in sorted(folder.glob(f"{EXECUTED}/*.publish/manifest.json")):
        for item in json.loads(manifest.read_text()):
            data = pd.read_csv(manifest.parent / f"{item['name']}.csv", keep_default_na=False)
            items.append((item, data.map(_numeric_or_text)))
    return items


def _numeric_or_text(value: object) -> object:
    if isinstance(value, str):
        number = _number(value)
        if number is not None and value.strip() and not re.search(r"[A-Za-z£%/]", value):
            return int(number) if number == int(number) else number
    return value


def build_downloads(
    folder: Path,
    heading: str,
    kpis: pd.DataFrame | None = None,
    cover_lines: Iterable[str] = (),
) -> Path | None:
    """One spreadsheet of every published table and chart's data, and a CSV per chart.

    Written to ``folder/downloads/``; the recorded files under ``analysts/notebooks/*.publish`` are
    removed afterwards. The spreadsheet follows the Analysis Function guidance through
    ``gptables``: a cover sheet, a contents sheet, a notes sheet, one table per sheet with a title,
    a source and ``[c]`` / ``[x]`` markers explained. Returns the spreadsheet path (None when
    nothing was recorded).
    """
    items = collect(folder)
    out = folder / DOWNLOADS
    out.mkdir(exist_ok=True)
    for item, data in items:
        if item["kind"] == "chart":
            write_csv(data, out / f"{item['name']}.csv")
    if kpis is not None and len(kpis):
        # The headline figures as a reader reads them: no program keys or notebook names.
        frame = kpis.drop(columns=["notebook", "key"], errors="ignore")
        frame = frame.fillna("").astype(str).map(_numeric_or_text)
        frame["rag"] = [rag_label(r).split(" ", 1)[-1] if r else "" for r in frame["rag"]]
        frame.columns = [KPI_HEADERS.get(c) or column_label(c) for c in frame.columns]
        items.insert(
            0,
            (
                {
                    "kind": "table",
                    "title": "Headline figures",
                    "source": "kpis.csv of this pack",
                    "notes": [],
                    "page": "Front page",
                    "area": "",
                },
                frame,
            ),
        )
    for recorded in folder.glob(f"{EXECUTED}/*.publish"):
        shutil.rmtree(recorded, ignore_errors=True)
    if not items:
        return None
    path = out / f"{safe_name(heading)}.xlsx"
    write_spreadsheet(path, heading, items, cover_lines)
    return path


# Excel number formats per column kind: thousands separators, pounds, one decimal place.
NUMBER_FORMATS = {
    "count": "#,##0",
    "gbp": "£#,##0",
    "pct": "0.0",
    "decimal": "#,##0.0",
    "ratio": "0.00",
}


def write_spreadsheet(
    path: Path,
    heading: str,
    items: list[tuple[dict, pd.DataFrame]],
    cover_lines: Iterable[str] = (),
) -> None:
    """An accessible workbook (``gptables``): cover, contents, notes and one sheet per table."""
    import gptables as gpt

    notes: dict[str, str] = {}

    def note_ref(text: str) -> str:
        if text not in notes:
            notes[text] = f"[note {len(notes) + 1}]"
        return notes[text]

    def cell(value: object) -> object:
        # The guidance: no empty cells and no cells of symbols only; [z] = not applicable.
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return NOT_AVAILABLE
        if isinstance(value, str) and not re.search(r"[0-9A-Za-z]", value):
            return NOT_APPLICABLE
        return value

    sheets = {}
    for number, (item, data) in enumerate(items, start=1):
        kinds = {c: item.get("kinds", {}).get(c) or infer_kind(c, data[c]) for c in data.columns}
        formatting = [
            {"column": {"columns": cols, "format": {"num_format": NUMBER_FORMATS[kind]}}}
            for kind in NUMBER_FORMATS
            if (cols := [c for c, k in kinds.items() if k == kind])
        ]
        frame = data.map(cell).map(sheet_text)
        frame.columns = [str(sheet_text(c)).replace("\n", " ") for c in frame.columns]
        kind = "Chart data" if item["kind"] == "chart" else "Table"
        refs = "".join(note_ref(n) for n in item.get("notes", []) if n)
        subtitles = [sheet_text(s) for s in [item.get("page", ""), item.get("area", "")] if s]
        if frame.empty:
            frame = pd.DataFrame({"Note": ["No rows for this quarter."]})
        sheets[f"{'Chart' if item['kind'] == 'chart' else 'Table'} {number}"] = gpt.GPTable(
            table=frame,
            table_name=f"table_{number}",
            title=f"{kind} {number}: {sheet_text(item['title'])} {refs}".strip(),
            subtitles=subtitles,
            instructions="This worksheet contains one table. Some cells refer to notes which "
            "can be found on the notes worksheet.",
            source="Source: "
            + sheet_text(
                re.sub(
                    r"^source:\s*",
                    "",
                    str(item.get("source") or "daanalysis quarterly pack"),
                    flags=re.IGNORECASE,
                )
            ),
            scope="Domestic abuse services",
            additional_formatting=formatting,
        )
    notes.setdefault(SUPPRESSION_NOTE, f"[note {len(notes) + 1}]")
    notes.setdefault(NOT_AVAILABLE_NOTE, f"[note {len(notes) + 1}]")
    notes.setdefault(NOT_APPLICABLE_NOTE, f"[note {len(notes) + 1}]")
    notes_table = pd.DataFrame(
        {"Note number": list(notes.values()), "Note text": list(notes.keys())}
    )
    cover = gpt.Cover(
        cover_label="Cover",
        title=heading,
        intro=[
            "Every table published in this quarter's pack and the data behind every chart, one "
            "table per worksheet. The contents worksheet lists them.",
            *(sheet_text(line) for line in cover_lines),
        ],
        about=[
            f"{MARKER} marks a suppressed figure (small numbers hidden so that no one can be "
            f"identified). {NOT_AVAILABLE} marks a figure that is not available and "
            f"{NOT_APPLICABLE} one that does not apply. Notes are on the "
            "notes worksheet.",
        ],
        contact=["Your council's community safety team"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gptables warns about table names like cell names
        gpt.write_workbook(
            filename=str(path),
            sheets=sheets,
            cover=cover,
            contentsheet_label="Contents",
            contentsheet_options={"title": "Table of contents"},
            notes_table=notes_table,
            notesheet_label="Notes",
            notesheet_options={"title": "Notes"},
            auto_width=True,
            # Text stays text: xlsxwriter would otherwise turn a string starting with "=" into
            # a formula and one looking like a URL into a live link.
            workbook_options={"strings_to_formulas": False, "strings_to_urls": False},
        )


def write_officer_lists(tables: dict[str, pd.DataFrame], folder: str | Path) -> list[Path]:
    """Officer-only files in the run's analysts folder (not linked from any page, like
    ``ledger.csv``): ``schools_not_engaged.csv``, the schools never engaged in prevention, when
    both the school register and prevention rows exist. Returns the paths written."""
    schools, prevention = tables.get("schools"), tables.get("prevention")
    if schools is None or prevention is None or not len(schools) or not len(prevention):
        return []
    path = Path(folder) / "schools_not_engaged.csv"
    # A school name a spreadsheet would run is made inert (write_csv).
    write_csv(schools_never_engaged(prevention, schools), path)
    return [path]


__all__ = [
    "NUMBER_FORMATS",
    "build_downloads",
    "collect",
    "sheet_text",
    "write_officer_lists",
    "write_spreadsheet",
]
