"""One file to a raw frame: every column as stripped text, blank (or ``nan``) as missing, names in
snake case. CSV in UTF-8, UTF-8 with a byte-order mark (even before Windows-1252 text),
Windows-1252 or UTF-16; XLSX from its sheet with the table (notes sheets passed over), or from a
sheet an area.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from daanalysis.ingest.header import refuse_repeated_column, snake
from daanalysis.ingest.workbook import hidden_sheets

# A carriage return that does not end a line with a line feed (old Mac line ends).
_LONE_CR = re.compile(rb"\r(?!\n)")
# Column names pandas gives a blank or repeated header cell ("Unnamed: 3", "month.1").
_MADE_UP_NAME = re.compile(r"^Unnamed: \d+$|\.\d+$")
# Every value as the text written: nothing ("NA", "null", "nan") read as missing by the parser.
_TEXT = {"dtype": str, "keep_default_na": False}


def release_arrow_memory() -> None:
    """Hand memory Arrow has freed back to the system (its allocator keeps it for itself)."""
    pa.default_memory_pool().release_unused()


def is_utf16(path: Path) -> bool:
    """Whether the file starts with a UTF-16 byte-order mark (Excel's "Unicode Text")."""
    with path.open("rb") as file:
        return file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _read_csv_arrow(path: Path) -> pd.DataFrame | None:
    """The file read by ``pd.read_csv(engine="pyarrow")`` as text, or None when pandas' C parser
    must read it, because Arrow cannot or may read it differently.

    None for: any of :func:`_survey`'s faults (a line break in a quoted value, a quote left open,
    a lone carriage return), looked for before Arrow parses; a byte-order mark on a file that is
    not UTF-8; a parse error of any kind (rows of the wrong length, which the C parser pads or
    reports by row; bytes that are not Windows-1252 either); no rows; one column (pandas skips
    lines of spaces that Arrow reads as values); a blank or repeated column name. The two parsers
    are held to the same result on awkward files by ``tests/test_records_path.py``.
    """
    differs, utf8 = _survey(path)
    if differs:
        return None
    frame = None
    try:
        for encoding in ("utf-8", "cp1252") if utf8 else ("cp1252",):
            try:
                frame = pd.read_csv(path, engine="pyarrow", encoding=encoding, **_TEXT)
                break
            except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
                if encoding != "utf-8" or "invalid UTF8" not in str(err):
                    return None
                utf8 = False  # bytes past the block judged that are not UTF-8
    finally:
        # Parsing needs about as much memory again as its result: give it back to the system
        # rather than keep it for Arrow alone.
        release_arrow_memory()
    if not utf8:
        with path.open("rb") as file:
            if file.read(3) == codecs.BOM_UTF8:
                return None  # a UTF-8 mark on bytes that are not UTF-8: the C parser's reading
    if frame is None or not len(frame) or len(frame.columns) < 2:
        return None
    if any(_MADE_UP_NAME.search(str(name)) for name in frame.columns):
        return None
    return frame


def _survey(path: Path) -> tuple[bool, bool]:
    """Whether pandas' C parser may read the file differently from Arrow as pandas calls it, and
    whether the file looks like UTF-8 (its first block with bytes beyond ASCII is UTF-8; Arrow's
    reading checks the rest), in one pass a block at a time.

    The C parser may read it differently when it has a line break inside a quoted value (Arrow
    reads those right only with an option pandas does not pass, and may split such a row in two
    without an error), a quote still open at the end of the file (the C parser refuses it, Arrow
    reads it), or a carriage return that does not end a line with a line feed (old Mac line ends,
    which the C parser reads in its own way). A byte is inside quotes where the number of quote
    characters before it is odd (a quote in a quoted value is written twice); a stray quote in an
    unquoted value (``5"``) flips the count as well, which only sends the file to the C parser.
    Blocks without quotes are not looked into for those.
    """
    quoted, carry, utf8, judged = False, b"", True, False
    with path.open("rb") as file:
        while block := file.read(1 << 24):
            chunk = carry + block
            carry = b"\r" if chunk.endswith(b"\r") else b""
            chunk = chunk[: len(chunk) - len(carry)]
            if b"\r" in chunk and _LONE_CR.search(chunk):
                return True, utf8
            if not judged and not chunk.isascii():
                # Incremental: a character cut in two at the end of the block is no error.
                try:
                    codecs.getincrementaldecoder("utf-8")().decode(chunk, final=False)
                except UnicodeDecodeError:
                    utf8 = False
                judged = True
            if b'"' not in chunk:
                if quoted and (b"\n" in chunk or b"\r" in chunk):
                    return True, utf8
                continue
            data = np.frombuffer(chunk, dtype=np.uint8)
            quotes = np.flatnonzero(data == ord('"'))
            breaks = np.flatnonzero((data == ord("\n")) | (data == ord("\r")))
            before = np.searchsorted(quotes, breaks) + quoted  # quotes before each line break
            if (before % 2).any():
                return True, utf8
            quoted = (len(quotes) + quoted) % 2 == 1
    return quoted or bool(carry), utf8


def _read_csv_c(path: Path) -> pd.DataFrame:
    """The file read by pandas' C parser as text: UTF-16 when it starts with that byte-order
    mark, else UTF-8 (a byte-order mark skipped) and, failing that, Windows-1252 (exports from
    Excel on Windows arrive in any of these)."""
    if is_utf16(path):
        return pd.read_csv(path, encoding="utf-16", **_TEXT)
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **_TEXT)
    except UnicodeDecodeError:
        with path.open("rb") as file:
            # Some export tools write a UTF-8 mark before Windows-1252 text: read as cp1252, the
            # mark would be three letters ("ï»¿") glued to the first column's name.
            if file.read(3) != codecs.BOM_UTF8:
                file.seek(0)
            return pd.read_csv(file, encoding="cp1252", **_TEXT)


# Sheet names that say nothing about the rows' area: Excel's defaults, and years or periods (a
# workbook with a sheet a year, whose rows would otherwise be read as areas named '2024').
_NOT_AN_AREA = re.compile(
    r"^(sheet\s*\d*|data|table\s*\d*|\d{4}(\s*[-/]\s*\d{2,4})?.*|.*\bq[1-4]\b.*"
    # a month ("Apr 24", "April-2024"), or a sheet of every area's figures together
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[\s\-_'.]*\d{2,4}"
    r"|.*\b(total|totals|summary|all|combined|overall)\b.*)$",
    re.I,
)


def _width(sheet: pd.DataFrame) -> int:
    """How many columns of a sheet hold anything (a header or a value)."""
    return sum(
        1
        for c in sheet.columns
        if not str(c).startswith("Unnamed:") or sheet[c].astype("str").str.strip().ne("").any()
    )


def _refuse_sheets(path: Path, filled: dict[str, pd.DataFrame], why: str = "") -> None:
    hidden = hidden_sheets(path)
    names = [f"{n!r} (hidden)" if n in hidden else repr(n) for n in filled]
    unhide = (
        " A hidden sheet counts too: unhide it (right-click a sheet tab, Unhide) to see it."
        if hidden & set(filled)
        else ""
    )
    raise ValueError(
        f"the workbook has {len(filled)} sheets with data ({', '.join(names)})"
        f"; a table must be on one sheet{why}. Move the rows onto one sheet, or save that "
        f"sheet as CSV.{unhide}"
    )


def _read_xlsx(path: Path, required: tuple[str, ...] = (), area: bool = False) -> pd.DataFrame:
    """The workbook's sheet with data, as text (the sheet's name in ``attrs["sheet"]``).

    With ``required`` (the table's required columns), a workbook of several sheets is read
    when what it holds can be told: the one sheet whose header has those columns, beside visible
    sheets too narrow to be the table (notes, a cover; their names in ``attrs["passed_over"]``);
    or several sheets with one header (a sheet per area of a region, or per year), read one
    under the other (``attrs["sheets"]``: each sheet's name and rows), when the rows name
    their area, or the table has an area column (``area``) and the sheets' names are areas
    (``attrs["area_from_sheet"]``). Anything else with a second sheet of data is refused:
    nothing is read silently in part.
    """
    try:
        sheets = pd.read_excel(path, dtype=str, keep_default_na=False, sheet_name=None)
    except Exception as err:  # noqa: BLE001 - openpyxl raises many types for a bad workbook
        raise ValueError(f"not a readable Excel workbook: {type(err).__name__}: {err}") from err
    filled = {name: sheet for name, sheet in sheets.items() if not sheet.empty}
    if len(filled) > 1 and required:
        return _several_sheets(path, filled, required, area)
    if len(filled) > 1:
        _refuse_sheets(path, filled)
    frame = next(iter(filled.values()), next(iter(sheets.values())))
    frame.attrs["sheet"] = next(iter(filled), next(iter(sheets)))  # for read_table's note
    refuse_repeated_column(path, list(frame.columns))
    return frame


def _several_sheets(
    path: Path, filled: dict[str, pd.DataFrame], required: tuple[str, ...], area: bool
) -> pd.DataFrame:
    """:func:`_read_xlsx` for a workbook with more than one sheet of data."""
    hidden = hidden_sheets(path)
    tables = {n: s for n, s in filled.items() if set(required) <= {snake(c) for c in s.columns}}
    others = {n: s for n, s in filled.items() if n not in tables}
    # A sheet passed over must be seen (not hidden) and too narrow to hold the table's rows.
    if not tables or any(n in hidden or _width(s) >= len(required) for n, s in others.items()):
        _refuse_sheets(path, filled)
    headers = {tuple(snake(c) for c in s.columns) for s in tables.values()}
    if len(tables) > 1 and len(headers) > 1:
        _refuse_sheets(path, filled, " (these sheets' headers differ)")
    names = list(tables)
    named = area and not any(_NOT_AN_AREA.match(n.strip()) for n in names)
    if len(tables) > 1 and "area" not in next(iter(headers)) and not named:
        _refuse_sheets(
            path,
            filled,
            " (a sheet an area is read when each sheet has an area column, or is named "
            "after its area)",
        )
    for name in names:
        refuse_repeated_column(path, list(tables[name].columns))
    frames = []
    for name in names:
        sheet = tables[name]
        sheet.columns = [snake(c) for c in sheet.columns]
        if "area" not in sheet.columns and len(tables) > 1:
            sheet = sheet.assign(area=name.strip())
        frames.append(sheet)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame.attrs["sheet"] = names[0]
    frame.attrs["sheets"] = [(n, len(tables[n])) for n in names]
    frame.attrs["passed_over"] = list(others)
    frame.attrs["area_from_sheet"] = len(tables) > 1 and "area" not in next(iter(headers))
    return frame


def read_raw(path: Path, required: tuple[str, ...] = (), area: bool = False) -> pd.DataFrame:
    """Every column of a CSV or XLSX file as stripped text (pandas' ``str``), blank (or ``nan``,
    or a DOS end-of-file mark, Ctrl-Z) as missing, names in snake case.

    CSV is read by Arrow through ``pd.read_csv(engine="pyarrow")`` where it reads the file as
    pandas' C parser does (see :func:`_read_csv_arrow`), else by the C parser; its errors (a row
    too long, bytes in no encoding read) are pandas', naming the row. A workbook of several
    sheets is read by the table's ``required`` columns and whether it has an ``area`` column
    (:func:`_read_xlsx`).
    """
    if path.suffix.lower() == ".xlsx":
        frame = _read_xlsx(path, required, area)
    else:
        frame = None if is_utf16(path) else _read_csv_arrow(path)
        if frame is None:
            frame = _read_csv_c(path)
    frame.columns = [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in frame.columns]
    for col in frame.columns:
        text = frame[col].astype("str").str.strip()
        # Ctrl-Z (0x1A) is the end-of-file mark old DOS tools still write after the last line:
        # a line of it alone is no row (blank, as an empty line is), never a row missing values.
        frame[col] = text.mask(text.isin(["", "nan", "\x1a"]))
    return frame
