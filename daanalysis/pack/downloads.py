"""The run's downloads: one accessible spreadsheet of every table the pages published and
the data behind every chart (:func:`build_downloads`, through ``gptables``), a CSV per chart,
and the officer-only lists kept with the analysts' files (:func:`write_officer_lists`).

The pages record what they publish as files (:class:`daanalysis.present.page.Page`, under
``analysts/notebooks/*.publish``); this module reads them back, so nothing passes through a
global.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
import re
import shutil
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from daanalysis.metrics.kpi import as_number as _number
from daanalysis.metrics.partnership import schools_never_engaged
from daanalysis.periods import parse_quarter, quarter_label
from daanalysis.present.disclosure import MARKER
from daanalysis.present.page import DOWNLOADS, EXECUTED
from daanalysis.present.tables import infer_kind
from daanalysis.present.words import (
    NOT_APPLICABLE,
    NOT_APPLICABLE_NOTE,
    NOT_AVAILABLE,
    NOT_AVAILABLE_NOTE,
    SUPPRESSION_NOTE,
    VERDICT_FIGURES,
    column_label,
    rag_label,
    safe_name,
    value_label,
)
from daanalysis.safe_csv import inert, write_csv

# The headline figures' own columns, as the spreadsheet names them (not global labels: a
# "high" column elsewhere is high risk).
KPI_HEADERS = {"low": "95% CI lower", "high": "95% CI upper", "period": "Period"}


# gptables reads "[text](url)" in any cell, title or subtitle as a live link and "$$ref$$" as a
# note reference. In data they are text: a word joiner (U+2060, invisible) between the marks
# breaks both patterns and leaves the text as the reader sees it.
_GPTABLES_MARKUP = re.compile(r"(?<=\])(?=\()|(?<=\$)(?=\$)")


def sheet_text(value: object) -> object:
    """``value`` for a cell of the published workbook: :func:`inert`, and gptables' link and
    note markup in text shown as text (see ``_GPTABLES_MARKUP``)."""
    value = inert(value)
    return _GPTABLES_MARKUP.sub("\u2060", value) if isinstance(value, str) else value


def collect_page(record: Path) -> list[tuple[dict, pd.DataFrame]]:
    """The tables and charts one page recorded (its ``*.publish`` folder), in its order."""
    items = []
    for item in json.loads((record / "manifest.json").read_text()):
        data = pd.read_csv(record / f"{item['name']}.csv", keep_default_na=False)
        items.append((item, data.map(_numeric_or_text)))
    return items


def collect(folder: Path) -> list[tuple[dict, pd.DataFrame]]:
    """Every table and chart recorded by the notebooks of a run
    (``analysts/notebooks/*.publish``), page by page in the order of their folders' names."""
    return [
        entry
        for manifest in sorted(folder.glob(f"{EXECUTED}/*.publish/manifest.json"))
        for entry in collect_page(manifest.parent)
    ]


PreparedPage = list[tuple[dict, pd.DataFrame, "Sheet"]]


def prepare_page(record: Path) -> PreparedPage:
    """One page's recorded tables and charts (:func:`collect_page`), each with its worksheet
    made ready (:func:`prepare_sheet`): the run does this as each page is exported, while other
    notebooks still run, and hands the result to :func:`build_downloads` (by the folder's name),
    which then only numbers the sheets and writes the workbook."""
    return [(item, data, prepare_sheet(item, data)) for item, data in collect_page(record)]


def _numeric_or_text(value: object) -> object:
    if isinstance(value, str):
        number = _number(value)
        if number is not None and value.strip() and not re.search(r"[A-Za-z£%/]", value):
            return int(number) if number == int(number) else number
    return value


HEADLINE_ITEM = {
    "kind": "table",
    "title": "Headline figures",
    "source": "kpis.csv of this pack",
    "notes": [],
    "page": "Front page",
    "area": "",
}

# A quarter as the pack's files name it (``2026-27Q2``), anywhere a reader would see it.
_QUARTER_SLUG = re.compile(r"^\d{4}-\d{2}Q[1-4]$")


def quarter_words(value: object) -> object:
    """``2026-27Q2`` as a reader names it (``2026/27 Q2``); anything else unchanged."""
    if isinstance(value, str) and _QUARTER_SLUG.match(value.strip()):
        return quarter_label(parse_quarter(value.strip()), with_months=False)
    return value


# Units written as a symbol alone: gptables (after the guidance) refuses a cell of symbols only,
# and the unit is not "not applicable" ([z]), so it is written in words.
SYMBOL_WORDS = {"%": "per cent (%)", "£": "pounds (£)", "pp": "percentage points"}


def unit_words(unit: object) -> object:
    """A unit as a reader writes it: ``GBP a year`` as ``£ a year``, ``%`` as ``per cent (%)``."""
    if not isinstance(unit, str):
        return unit
    return SYMBOL_WORDS.get(unit.strip(), re.sub(r"\bGBP\b", "£", unit))


def pounds(text: str) -> str:
    """``GBP 75k``, ``GBP a year`` (settings' units and sources) as a reader writes them:
    ``£75k``, ``£ a year``."""
    return re.sub(r"\bGBP\b", "£", re.sub(r"\bGBP\s*(?=\d)", "£", text))


def headline_frame(kpis: pd.DataFrame) -> pd.DataFrame:
    """The headline figures (``kpis.csv``) as the spreadsheet shows them: no program keys or
    notebook names; the estimate and its 95% interval bounds as numbers in their own columns;
    the quarter, the verdict and the status in words; units with ``£`` rather than ``GBP``.
    Data warnings (unit ``warning``) are kept as text rows."""
    frame = kpis.drop(columns=["notebook"], errors="ignore").fillna("").astype(str)
    frame = frame.map(_numeric_or_text)
    if "key" in frame:
        # The verdict is stored as its code (``both``): the sheet gives it in words.
        words = [
            VERDICT_FIGURES.get(v, v) if "verdict" in str(k) and isinstance(v, str) else v
            for k, v in zip(frame["key"], frame["value"], strict=True)
        ]
        frame = frame.assign(value=pd.Series(words, index=frame.index, dtype=object))
        frame = frame.drop(columns="key")
    if "quarter" in frame:
        frame["quarter"] = frame["quarter"].map(quarter_words)
    if "unit" in frame:
        frame["unit"] = frame["unit"].map(unit_words)
    if "rag" in frame:
        frame["rag"] = [rag_label(r).split(" ", 1)[-1] if r else "" for r in frame["rag"]]
    frame.columns = [KPI_HEADERS.get(c) or column_label(c) for c in frame.columns]
    return frame


def build_downloads(
    folder: Path,
    heading: str,
    kpis: pd.DataFrame | None = None,
    cover_lines: Iterable[str] = (),
    cover: SheetCover | None = None,
    prepared: Mapping[str, PreparedPage] | None = None,
) -> Path | None:
    """One spreadsheet of every published table and chart's data, and a CSV per chart.

    Written to ``folder/downloads/``; the recorded files under ``analysts/notebooks/*.publish`` are
    removed afterwards. The spreadsheet follows the Analysis Function guidance through
    ``gptables``: a cover sheet, a contents sheet, a notes sheet, one table per sheet with a title,
    a source and ``[c]`` / ``[x]`` markers explained. Returns the spreadsheet path (None when
    nothing was recorded). ``prepared``: pages already read and made ready
    (:func:`prepare_page`), by the name of their ``*.publish`` folder; the others are read here.
    """
    prepared = prepared or {}
    entries: list[tuple[dict, pd.DataFrame, Sheet | None]] = []
    for manifest in sorted(folder.glob(f"{EXECUTED}/*.publish/manifest.json")):
        page = prepared.get(manifest.parent.name)
        if page is None:
            page = [(item, data, None) for item, data in collect_page(manifest.parent)]
        entries += page
    out = folder / DOWNLOADS
    out.mkdir(exist_ok=True)
    for item, data, _ in entries:
        if item["kind"] == "chart":
            write_csv(data, out / f"{item['name']}.csv")
    items: list[tuple[dict, pd.DataFrame] | Sheet] = [
        (item, data) if sheet is None else sheet for item, data, sheet in entries
    ]
    if kpis is not None and len(kpis):
        items.insert(0, (HEADLINE_ITEM, headline_frame(kpis)))
    recorded = list(folder.glob(f"{EXECUTED}/*.publish"))
    # Read now, so removed beside the spreadsheet, which need not wait for it: removing the
    # files just written waits on the disk, not the processor (0.8 s of wall time and 0.02 s of
    # processor time at 5 areas on the loaded 2-core machine; issue 22).
    remover = threading.Thread(
        target=lambda: [shutil.rmtree(r, ignore_errors=True) for r in recorded],
        name="remove-recorded",
    )
    remover.start()
    try:
        if not items:
            return None
        path = out / f"{safe_name(heading)}.xlsx"
        write_spreadsheet(path, heading, items, cover_lines, cover)
        return path
    finally:
        remover.join()


# Excel number formats per column kind: thousands separators, pounds, one decimal place.
NUMBER_FORMATS = {
    "count": "#,##0",
    "gbp": "£#,##0",
    "pct": "0.0",
    "decimal": "#,##0.0",
    "ratio": "0.00",
}
# Decimal places a value is stored with, per column kind: as the format shows it (the guidance:
# no false precision such as 87500.00000000003). Other columns keep three places.
DECIMALS = {"count": 0, "gbp": 0, "pct": 1, "decimal": 1, "ratio": 2}
OTHER_DECIMALS = 3
# Column widths in characters: wide enough for a short column's longest entry, and text longer
# than the widest column wraps instead of making a column 200 characters wide.
MIN_WIDTH, MAX_WIDTH = 10, 60


@dataclass(frozen=True)
class SheetCover:
    """What the spreadsheet's cover says about the pack (the guidance: who publishes it, how to
    contact them, when it was published and when it will next be updated).

    ``publisher`` and ``contact_email`` come from the settings of the same names
    (:data:`daanalysis.config.DEFAULTS`); ``published`` is the date the pack was written and
    ``next_update`` a sentence on when the next quarter's pack is due.
    """

    publisher: str = ""
    contact_email: str = ""
    published: str = ""
    next_update: str = ""

    def contact_lines(self) -> list[str]:
        lines = [line for line in [self.publisher, self.contact_email] if line.strip()]
        return lines or [
            "Not set for this pack: the settings publisher and contact_email in config.csv give it."
        ]


def sheet_cover(config: object | None, quarter: pd.Period | None, today: dt.date) -> SheetCover:
    """The cover's contact and dates from the run's settings (``publisher``, ``contact_email``)
    and quarter: published ``today``; next update, the following quarter's pack, due once that
    quarter has ended."""
    next_update = ""
    if quarter is not None:
        following = quarter + 1
        due = (following.end_time + pd.Timedelta(days=1)).strftime("%B %Y")
        next_update = (
            f"The pack for {quarter_label(following)}, after that quarter ends (from {due})."
        )
    return SheetCover(
        publisher=str(getattr(config, "publisher", "") or ""),
        contact_email=str(getattr(config, "contact_email", "") or ""),
        published=f"{today:%d %B %Y}".lstrip("0"),
        next_update=next_update,
    )


# "1.54 (95% CI 1.29 to 1.83)", "up 4.7% (95% CI +3.8% to +5.7%)": an estimate and its interval
# as a page shows them in one cell. The guidance: the estimate and each bound in its own column,
# as numbers.
_INTERVAL = re.compile(
    r"^(?:(?P<word>up|down)\s+)?(?P<est>[+-]?[\d,]*\.?\d+)(?P<pct>%?)\s*"
    r"\(95% CI (?P<low>[+-]?[\d,]*\.?\d+)%? to (?P<high>[+-]?[\d,]*\.?\d+)%?\)$",
    re.IGNORECASE,
)
_PERCENT_TEXT = re.compile(r"^[+-]?[\d,]*\.?\d+%$")
_MARKS = {MARKER, NOT_AVAILABLE, NOT_APPLICABLE}
# Columns the spreadsheet made from text: stored as the page showed them (no number format).
AS_SHOWN = "as shown"


def _to_number(text: str) -> float | int:
    number = float(text.replace(",", ""))
    return int(number) if number.is_integer() and "." not in text else number


def numbers_from_text(data: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """``data`` with figures a page writes as text stored as numbers: a column of estimates
    with their 95% intervals (``1.54 (95% CI 1.29 to 1.83)``) becomes three columns (the
    estimate, ``95% CI lower``, ``95% CI upper``; "up"/"down" give the sign), and a column of
    percentages written with ``%`` (``+38%``) becomes numbers with ``(%)`` in its heading.
    Cells that are not of that form (a marker, a plain number) stay as they are; a bound that
    does not apply is blank (``[z]`` in the sheet). Returns the frame and the kind of each new
    column (:data:`AS_SHOWN`: the numbers have the places the page gave them)."""
    out: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    for col in data.columns:
        values = data[col]
        # Most columns hold no estimate with its interval: looked for cell by cell first, so
        # that only a column that has one is taken apart through pandas (issue 22).
        if any(isinstance(v, str) and _INTERVAL.match(v.strip()) for v in values):
            texts = values.where(values.map(lambda v: isinstance(v, str)), None)
            matches = texts.map(
                lambda v: _INTERVAL.match(v.strip()) if isinstance(v, str) else None
            )
        else:
            matches = None
        if matches is not None and matches.notna().any():
            name = re.sub(r"\s*\(95% CI\)", "", str(col)).strip()
            found = list(matches.dropna())
            pct = [bool(m.group("pct")) for m in found]
            heading = f"{name} (%)" if all(pct) and "%" not in name else name

            def part(m: re.Match | None, value: object, key: str) -> object:
                if m is None:
                    return _numeric_or_text(value) if key == "est" else ""
                number = _to_number(m.group(key))
                down = key == "est" and (m.group("word") or "").lower() == "down"
                return -number if down else number

            out[heading] = pd.Series(
                [part(m, v, "est") for m, v in zip(matches, values, strict=True)], index=data.index
            )
            for key, label in (("low", "95% CI lower"), ("high", "95% CI upper")):
                out[f"{name}, {label}"] = pd.Series(
                    [part(m, v, key) for m, v in zip(matches, values, strict=True)],
                    index=data.index,
                )
            if any(pct) and not all(pct):
                # Percentages and other figures in one column: each row says which it is.
                out[f"{name}, unit"] = pd.Series(
                    [
                        "per cent (%)" if m is not None and m.group("pct") else "number"
                        for m in matches
                    ],
                    index=data.index,
                )
            places = max(
                len(m.group(k).partition(".")[2]) for m in found for k in ("est", "low", "high")
            )
            for heading_ in (heading, f"{name}, 95% CI lower", f"{name}, 95% CI upper"):
                kinds[heading_] = f"{AS_SHOWN} {places}"
            continue
        present = [v for v in values if isinstance(v, str) and v.strip() and v not in _MARKS]
        if present and all(_PERCENT_TEXT.match(v.strip()) for v in present):
            heading = f"{col} (%)"
            out[heading] = values.map(
                lambda v: (
                    _to_number(v.strip().rstrip("%"))
                    if isinstance(v, str) and _PERCENT_TEXT.match(v.strip())
                    else v
                )
            )
            places = max(len(v.strip().rstrip("%").partition(".")[2]) for v in present)
            kinds[heading] = f"{AS_SHOWN} {places}"
            continue
        out[col] = values
    return pd.DataFrame(out, index=data.index), kinds


def _rounded(value: object, kind: str) -> object:
    if isinstance(value, float) and math.isfinite(value):
        places = DECIMALS.get(kind, OTHER_DECIMALS)
        value = round(value, places)
        return int(value) if places == 0 else value
    return value


def _width(values: Iterable[object], heading: str) -> int:
    longest = max((len(str(v)) for v in values), default=0)
    # A heading wraps at its spaces: its longest word must fit.
    word = max((len(w) for w in heading.split()), default=0)
    return int(min(MAX_WIDTH, max(MIN_WIDTH, longest, word, min(len(heading), 24)) + 2))


def _cell(value: object) -> object:
    """A value for a cell of the workbook. The guidance: no empty cells; [x] = not available,
    [z] = not applicable (a blank or a dash). A unit such as "%" or "£" is text, not a missing
    value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NOT_AVAILABLE
    if isinstance(value, str) and re.fullmatch(r"[\s\-–—]*", value):
        return NOT_APPLICABLE
    if isinstance(value, str) and not re.search(r"[0-9A-Za-z]", value):
        return unit_words(value)  # "%" as words; other symbols pass (gptables says so)
    return pounds(value) if isinstance(value, str) else value


_MARKER_NOTES = {
    MARKER: SUPPRESSION_NOTE,
    NOT_AVAILABLE: NOT_AVAILABLE_NOTE,
    NOT_APPLICABLE: NOT_APPLICABLE_NOTE,
}


@dataclass
class Sheet:
    """One published table or chart's data made ready for its worksheet
    (:func:`prepare_sheet`): all but what depends on its place in the workbook (its number and
    its notes' numbers, given by :func:`write_spreadsheet`)."""

    chart: bool
    kind: str  # "Table" or "Chart data", as the sheet's title opens
    title: str
    frame: pd.DataFrame
    formatting: list[dict]
    widths: list[int]
    notes: list[str]  # the sheet's notes, in order: the item's own, then the markers it shows
    subtitles: list[str]
    source: str


def prepare_sheet(item: dict, data: pd.DataFrame) -> Sheet:
    """A recorded table or chart's data (``item``: its manifest entry) as its worksheet shows
    it: numbers written as text stored as numbers (:func:`numbers_from_text`), rounded as
    shown, headings and code values in words, column formats and widths, and the notes it
    needs."""
    chart = item["kind"] == "chart"
    data, made = numbers_from_text(data)
    kinds = {
        c: made.get(c) or item.get("kinds", {}).get(c) or infer_kind(c, data[c])
        for c in data.columns
    }
    frame = data.copy()
    for col, kind in kinds.items():
        frame[col] = frame[col].map(lambda v, k=kind: _rounded(quarter_words(v), k))
        if chart:  # code values a chart's data carries (need-sensitive) as words
            frame[col] = frame[col].map(value_label)
    frame = frame.map(_cell).map(sheet_text)
    headings = [
        str(sheet_text(column_label(c) if chart else c)).replace("\n", " ") for c in frame.columns
    ]
    frame.columns = headings
    # Numbers the spreadsheet took from text keep the decimal places the page showed. In the
    # order of the columns (not of a set, which changes with PYTHONHASHSEED): the order the
    # workbook's formats are listed and made in is the same from one run to the next.
    shown_formats = {
        k: "#,##0" + ("." + "0" * int(k.split()[-1]) if int(k.split()[-1]) else "")
        for k in dict.fromkeys(kinds.values())
        if k.startswith(AS_SHOWN)
    }
    formats = NUMBER_FORMATS | shown_formats
    formatting = [
        {
            "column": {
                "columns": [
                    h for c, h in zip(data.columns, headings, strict=True) if kinds[c] == kind
                ],
                "format": {"num_format": formats[kind]},
            }
        }
        for kind in formats
        if kind in kinds.values()
    ]
    col_widths = [_width(frame[h], h) for h in headings]
    wrapped = [h for h, w in zip(headings, col_widths, strict=True) if w >= MAX_WIDTH]
    if wrapped:
        formatting.append({"column": {"columns": wrapped, "format": {"text_wrap": True}}})
    texts = {str(v) for v in frame.to_numpy().ravel()}
    sheet_notes = [n for n in item.get("notes", []) if n]
    sheet_notes += [note for marker, note in _MARKER_NOTES.items() if marker in texts]
    subtitles = [sheet_text(s) for s in [item.get("page", ""), item.get("area", "")] if s]
    if frame.empty:
        # Its columns' formats go with its columns (a format for a column not there is an
        # error in gptables).
        frame = pd.DataFrame({"Note": ["No rows for this quarter."]})
        col_widths = [_width(frame["Note"], "Note")]
        formatting = []
    source = str(item.get("source") or "daanalysis quarterly pack")
    return Sheet(
        chart=chart,
        kind="Chart data" if chart else "Table",
        title=sheet_text(pounds(str(item["title"]))),
        frame=frame,
        formatting=formatting,
        widths=col_widths,
        notes=sheet_notes,
        subtitles=subtitles,
        source="Source: "
        + sheet_text(pounds(re.sub(r"^source:\s*", "", source, flags=re.IGNORECASE))),
    )


def write_spreadsheet(
    path: Path,
    heading: str,
    items: list[tuple[dict, pd.DataFrame] | Sheet],
    cover_lines: Iterable[str] = (),
    cover: SheetCover | None = None,
) -> None:
    """An accessible workbook (``gptables``): cover, contents, notes and one sheet per table,
    to the Analysis Function's guidance on releasing statistics in spreadsheets: numbers stored
    as numbers rounded as shown, headings in words, markers explained and referenced from the
    title of each sheet that has them, notes mentioned only where a sheet has notes, sensible
    column widths (long text wraps), and a cover with contact and dates (``cover``)."""
    import gptables as gpt

    cover = cover or SheetCover()
    notes: dict[str, str] = {}

    def note_ref(text: str) -> str:
        if text not in notes:
            notes[text] = f"[note {len(notes) + 1}]"
        return notes[text]

    markers = _MARKER_NOTES
    sheets, widths = {}, {}
    for number, entry in enumerate(items, start=1):
        sheet = entry if isinstance(entry, Sheet) else prepare_sheet(*entry)
        refs = " ".join(dict.fromkeys(note_ref(n) for n in sheet.notes))
        label = f"{'Chart' if sheet.chart else 'Table'} {number}"
        widths[label] = sheet.widths
        sheets[label] = gpt.GPTable(
            table=sheet.frame,
            table_name=f"table_{number}",
            title=f"{sheet.kind} {number}: {sheet.title} {refs}".strip(),
            subtitles=sheet.subtitles,
            instructions="This worksheet contains one table."
            + (
                " Some cells refer to notes which can be found on the notes worksheet."
                if refs
                else ""
            ),
            source=sheet.source,
            scope="Domestic abuse services",
            additional_formatting=sheet.formatting,
        )
    for note in markers.values():
        notes.setdefault(note, f"[note {len(notes) + 1}]")
    notes_table = pd.DataFrame(
        {"Note number": list(notes.values()), "Note text": list(notes.keys())}
    )
    cover_sheet = gpt.Cover(
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
            *([f"Published: {cover.published}"] if cover.published else []),
            *([f"Next update: {cover.next_update}"] if cover.next_update else []),
        ],
        contact=[sheet_text(line) for line in cover.contact_lines()],
    )
    with warnings.catch_warnings(), sheet_names_checked_once():
        warnings.simplefilter("ignore")  # gptables warns about table names like cell names
        workbook = gpt.produce_workbook(
            filename=str(path),
            sheets=sheets,
            cover=cover_sheet,
            contentsheet_label="Contents",
            contentsheet_options={"title": "Table of contents"},
            notes_table=notes_table,
            notesheet_label="Notes",
            notesheet_options={"title": "Notes"},
            # gptables sizes each table's columns to its longest cell, which the loop below sets
            # again anyway: only the contents and notes sheets keep its sizing (measured at 20
            # areas, 756 sheets: about 5% of the spreadsheet's time saved).
            auto_width={label: False for label in widths},
            # Text stays text: xlsxwriter would otherwise turn a string starting with "=" into
            # a formula and one looking like a URL into a live link. in_memory: each sheet's
            # XML is put together in memory, not in a temporary file of its own that is
            # written, read back into the zip and removed (3 files a sheet, 11,000 at 100
            # areas: 7.6 s of waiting on the disk at 20 areas on the loaded 2-core machine,
            # cProfile; issue 22). The file written is the same.
            workbook_options={
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "in_memory": True,
            },
        )
        # gptables sizes a column to its longest cell (200+ characters for a sentence): the
        # widths are set again, capped, with long text wrapped (above).
        for label, col_widths in widths.items():
            sheet = workbook.get_worksheet_by_name(label)
            for i, width in enumerate(col_widths):
                sheet.set_column(i, i, width)
        # The contents and notes sheets' texts (each sheet's finding) run to 150 characters: capped,
        # the text runs on into the empty columns to its right.
        for label in ("Contents", "Notes"):
            workbook.get_worksheet_by_name(label).set_column(1, 1, MAX_WIDTH)
        workbook.close()


@contextlib.contextmanager
def sheet_names_checked_once() -> Iterator[None]:
    """While it lasts, ``gptables.produce_workbook`` makes its workbook with
    :class:`_OnceCheckedWorkbook`: each new sheet's name is checked as xlsxwriter checks it
    (length, characters, apostrophes, not already used, case ignored), but "not already used"
    against a set of the names so far rather than by a pass over every earlier sheet.

    xlsxwriter's pass (``Workbook._check_sheetname``) makes adding n sheets cost n * n / 2
    comparisons: the one part of the spreadsheet whose cost grew faster than the areas (38
    sheets an area: 0.4 s of processor time at 20 areas, 3.6 s at 60, about 10 s at 100;
    measured by replaying the front page of a 20- and a 60-area run, issue 22)."""
    import gptables.core.api as api

    made_with = api.GPWorkbook
    api.GPWorkbook = _once_checked_workbook()
    try:
        yield
    finally:
        api.GPWorkbook = made_with


@functools.cache
def _once_checked_workbook() -> type:
    """:class:`gptables.core.wrappers.GPWorkbook` with the sheet-name check of
    :func:`sheet_names_checked_once`."""
    from gptables.core.wrappers import GPWorkbook

    class _OnceCheckedWorkbook(GPWorkbook):
        def _check_sheetname(self, sheetname, is_chartsheet=False):
            # The library's own checks, against no earlier sheet; then the names so far.
            earlier, self.worksheets_objs = self.worksheets_objs, []
            try:
                name = super()._check_sheetname(sheetname, is_chartsheet)
            finally:
                self.worksheets_objs = earlier
            seen = self.__dict__.get("_da_sheet_names")
            if seen is None:
                seen = self._da_sheet_names = {w.name.lower() for w in earlier}
            if name.lower() in seen:
                # Used before: the library's own pass over every sheet says so, in its words
                # (its count of sheets, for default names, counted once as before).
                if is_chartsheet:
                    self.chartname_count -= 1
                else:
                    self.sheetname_count -= 1
                return super()._check_sheetname(sheetname, is_chartsheet)
            seen.add(name.lower())
            return name

        def add_worksheet(self, name=None, gridlines="hide_all"):
            # gptables' own, with the worksheet of _table_worksheet(): the same settings.
            worksheet = super(GPWorkbook, self).add_worksheet(name, _table_worksheet())
            worksheet.theme = self.theme
            worksheet._workbook = self
            worksheet.hide_gridlines({"show_all": 0, "hide_printed": 1, "hide_all": 2}[gridlines])
            return worksheet

    return _OnceCheckedWorkbook


# gptables' checks and rules, as it writes them (gptables 2.0, core/wrappers.py), for
# _table_worksheet: a blank cell (whitespace only), a cell of symbols only (refused), a
# shorthand or note marker such as [c] (left out when a column's alignment is worked out).
_BLANK = re.compile(r"^\s*$")
_SYMBOLS_ONLY = re.compile(r"^[^a-zA-Z0-9]*$")
_SHORTHAND = re.compile(r"\[[\w\s]+\]")


def plain_table(gptable, auto_width: bool) -> bool:
    """Whether :func:`_table_worksheet` writes ``gptable``'s table itself: what the pack's
    sheets are (no index columns, unique text headings with no shorthand in them, cells of
    text and numbers, none blank or of symbols only, formats by column). Anything else is left
    to gptables, which writes it (or refuses it) as it always did."""
    table = gptable.table
    columns = list(table.columns)
    if auto_width or gptable.index_columns or not len(table) or not columns:
        return False
    if len(set(columns)) != len(columns) or not all(isinstance(c, str) for c in columns):
        return False
    if any(_SHORTHAND.search(c) for c in columns):
        return False
    for item in gptable.additional_formatting or []:
        if list(item) != ["column"] or set(item["column"]) != {"columns", "format"}:
            return False
        if not all(isinstance(c, str) and c in table.columns for c in item["column"]["columns"]):
            return False
    for col in columns:
        for value in table[col].tolist():
            if isinstance(value, str):
                refused = _BLANK.search(value) or _SYMBOLS_ONLY.search(value)
            else:  # a number, not a blank (NaN: gptables warns and writes a blank)
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                refused = not number or math.isnan(value)
            if refused:
                return False
    return True


def _right_aligned(values: list) -> bool:
    """gptables' alignment of a column (``_apply_column_alignments``, which asks pandas whether
    the column is numeric once its shorthand cells, ``[c]`` or ``[note 1]``, are blanked): right
    when what is left is numbers, at least one; a column of shorthand only is text, left."""
    left = [v for v in values if not (isinstance(v, str) and _SHORTHAND.search(v))]
    return bool(left) and not any(isinstance(v, str) for v in left)


@functools.cache
def _table_worksheet() -> type:
    """:class:`gptables.core.wrappers.GPWorksheet`, writing a plain table (:func:`plain_table`)
    itself: the same cells, formats and table as gptables' ``_write_table_elements``, worked out
    once a column instead of through a frame of format dictionaries updated cell by cell with
    pandas (most of the time of the spreadsheet of a many-area run: 20 of 25 s of a 20-area
    pack's front page under cProfile, issue 22). Every other table goes to gptables."""
    from gptables.core.wrappers import GPWorksheet

    class _TableWorksheet(GPWorksheet):
        def _write_table_elements(self, pos, gptable, auto_width):
            if not plain_table(gptable, auto_width):
                return super()._write_table_elements(pos, gptable, auto_width)
            theme, workbook = self.theme, self._workbook
            table = gptable.table
            columns = list(table.columns)
            # As gptables builds each cell's format: the theme's heading or data format, the
            # column's alignment (the first column's always left), then the sheet's own
            # formats by column, in their order, on the heading and the data alike.
            headings, data = [], []
            for number, col in enumerate(columns):
                right = number > 0 and _right_aligned(table[col].tolist())
                align = {"align": "right" if right else "left"}
                heading = {**theme.column_heading_format, **align}
                cell = {**theme.data_format, **align}
                for item in gptable.additional_formatting or []:
                    if col in item["column"]["columns"]:
                        heading.update(item["column"]["format"])
                        cell.update(item["column"]["format"])
                headings.append(heading)
                data.append(cell)
            # Written row by row from the table's first row, headings first, each value as its
            # column holds it, as gptables writes them (so the formats are made, and numbered,
            # in the same order).
            row = gptable.data_range[0]
            heading_formats = [workbook.add_format(f) for f in headings]
            for col, (name, fmt) in enumerate(zip(columns, heading_formats, strict=True)):
                self.write(row, col, name, fmt)
            data_formats = [workbook.add_format(f) for f in data]
            values = [table[c].tolist() for c in columns]
            for offset in range(len(table)):
                for col, fmt in enumerate(data_formats):
                    self.write(row + 1 + offset, col, values[col][offset], fmt)
            self.add_table(
                *gptable.data_range,
                {
                    "header_row": True,
                    "autofilter": False,
                    "columns": [
                        {"header": h, "header_format": f}
                        for h, f in zip(columns, heading_formats, strict=True)
                    ],
                    "style": None,
                    "name": gptable.table_name,
                },
            )
            return [row + len(table) + 1, 0]

    return _TableWorksheet


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
    "SheetCover",
    "build_downloads",
    "headline_frame",
    "quarter_words",
    "sheet_cover",
    "sheet_names_checked_once",
    "Sheet",
    "collect",
    "collect_page",
    "prepare_page",
    "prepare_sheet",
    "sheet_text",
    "write_officer_lists",
    "write_spreadsheet",
]
