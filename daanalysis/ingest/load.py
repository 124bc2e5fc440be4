"""Readers for the data contract: CSV or XLSX in, parsed and validated tables plus a row ledger out.

Structural problems (no file, a missing column, most rows unreadable, dates that mix day-first
and month-first) raise :class:`DataContractError` naming the file, row, column and the fix.
Row-level problems exclude the row and list it in the ledger with its reason, so every input row
is either used or accounted for. Plausibility is part of the contract: nothing dated after the
extract, no FTE or count out of all proportion, no rows for an area the extract does not cover,
and no month whose total lost a row. A value is read one way only: ``1,5`` is refused, never
read as 15.

The path is column-wise throughout, so a million referrals load in seconds: CSV files are parsed
by Arrow (pandas' own parser reads any file Arrow cannot, so the result and any error are the same
either way), dates and labels are parsed once per distinct value, and each check hands its
excluded rows to the ledger as one array of rows and one of reasons (:class:`_Reasons`), joined
once at the end; nothing loops over rows in Python.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from daanalysis.config import Config, read_config
from daanalysis.ingest import clean
from daanalysis.ingest.clean import (
    distinct,
    keep_rows,
    on_uniques,
    reprs,
    same_as_first,
    tidy,
    tidy_column,
)
from daanalysis.ingest.extract import DataContractError, Extract, reason_category
from daanalysis.ingest.schema import (
    DATE_FORMATS,
    MONTH_FORMATS,
    MORE_DATE_FORMATS,
    MORE_MONTH_FORMATS,
    NOT_COLLECTED,
    SANCTUARY_MEDIAN_COST_CEILING,
    TABLES,
    TableSpec,
)
from daanalysis.periods import (
    MONTH_FREQ,
    QUARTER_FREQ,
    fy_start_year,
    parse_quarter,
    quarter_label,
    quarter_months,
)

LEDGER_COLUMNS = ["table", "file", "row", "status", "reason"]
CONTRACT_DOC = "docs/data-contract.md"
# Tables whose absence switches off sections of the pack, and what it switches off.
OPTIONAL_USES = {
    "staffing": "caseload per FTE and the staffing gap",
    "police": "police-recorded figures (the main need-sensitive control)",
    "marac": "MARAC volumes and the MARAC benchmark",
    "population": "rates per 1,000 adults and the MARAC benchmark",
}
# A whole number with thousands separators ("1,500" or "12,000,000"): the only comma accepted.
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
# What a count of an aggregate table that is no number is told: the way to say "not collected".
GAP_ADVICE = " (numbers only; if it was not collected, leave it blank or write 'not collected')"
# A number followed by a unit or a word ("32.00 Number", "12 cases"): group 0 is the number.
UNIT_SUFFIX = re.compile(r"^([+-]?[\d,]*\.?\d+)\s*[A-Za-z][A-Za-z .]*$")
# dd/mm/yyyy or mm/dd/yyyy (slash or dash), with an optional time: the forms that can be ambiguous.
DAY_MONTH = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})(\s|$)")
# Nothing in a DA service extract predates this: a year such as 1924 (for 2024) would otherwise
# stretch every series back a century. (IDVA services and MARACs date from the mid-2000s.)
EARLIEST = pd.Timestamp("2000-01-01")
# Every date and month form read, in the order tried; a month-first file swaps day and month.
READ_DATE_FORMATS = DATE_FORMATS + MORE_DATE_FORMATS
READ_MONTH_FORMATS = MONTH_FORMATS + MORE_MONTH_FORMATS


def _month_first(fmt: str) -> str:
    return fmt.replace("%d/%m", "%m/%d").replace("%d-%m", "%m-%d")


MONTH_FIRST_FORMATS = tuple(_month_first(f) for f in READ_DATE_FORMATS)
# Values that fail every format but whose slip can be named: an Excel date serial number
# (a date cell saved as General) and a two-digit year.
EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}(\s|$)")
UK_TIME = "Europe/London"


# What a table's file may be named (any case): ``referrals.csv`` or ``referrals.xlsx``.
TABLE_SUFFIXES = (".csv", ".xlsx")
# Files in a data folder that are no table but are read: the settings and the extract's date.
KNOWN_FILES = ("config.csv", "VINTAGE")
# Folders read: the analyst's own label mappings (see daanalysis.ingest.clean).
KNOWN_FOLDERS = ("mappings",)
# Suffixes of a file that holds rows: one named like a table (``referrals_part2.csv``,
# ``staffing.xls``) is a table that would not be read, which stops the run rather than leave the
# pack built on part of the rows.
DATA_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".tsv", ".txt", ".json")


def find_file(data_dir: Path, name: str) -> Path | None:
    """``name.csv`` or ``name.xlsx`` in ``data_dir``, in any case (``Staffing.CSV``); two at
    once (both suffixes, or two spellings of one name) is an error."""
    wanted = {f"{name}{s}" for s in TABLE_SUFFIXES}
    found = sorted(p for p in data_dir.iterdir() if p.name.lower() in wanted and not p.is_dir())
    if len(found) > 1:
        both = " and ".join(p.name for p in found)
        raise DataContractError(
            f"{data_dir}: both {both} are present, and they may differ. Keep "
            f"the one that is current and move the other out of the data folder."
        )
    return found[0] if found else None


def _table_like(name: str) -> str | None:
    """The table a file name starts with (``referrals_part2.csv``: ``referrals``), if any."""
    low = name.lower()
    return next((t for t in sorted(TABLES, key=len, reverse=True) if low.startswith(t)), None)


def check_files(data_dir: Path) -> list[str]:
    """Account for every file in ``data_dir``; one note per file or folder that is not read.

    Read: each table's file (any case: ``Staffing.CSV`` is the staffing table), ``config.csv``,
    ``VINTAGE`` and ``mappings/``; passed over in silence: hidden files, Excel's lock files
    (``~$...``) and readme files. A file named like a table that would not be read (a second
    file for one table, ``referrals_part2.csv``; an old ``.xls``) is a
    :class:`DataContractError` naming the file and the fix: the pack would otherwise be built on
    part of the rows, without a word. Any other file is listed as not read.
    """
    notes: list[str] = []
    present = {name: find_file(data_dir, name) for name in TABLES}
    for entry in sorted(data_dir.iterdir()):
        name, low = entry.name, entry.name.lower()
        if name.startswith((".", "~$")) or low.startswith("readme"):
            continue
        if entry.is_dir():
            if name not in KNOWN_FOLDERS:
                notes.append(
                    f"The folder {name} in the data folder is not part of the data contract: "
                    f"not read (label mappings go in a folder named mappings)."
                )
            continue
        if name in KNOWN_FILES:
            continue
        known = next((k for k in KNOWN_FILES if k.lower() == low), None)
        if known == "config.csv":
            raise DataContractError(
                f"{entry}: the settings file must be named config.csv (lower case), or its "
                "settings would be silently replaced by the defaults. Rename it to config.csv."
            )
        if known is not None:
            notes.append(f"{name} was not read: name it {known} for it to be used.")
            continue
        table = _table_like(name)
        suffix = Path(low).suffix
        stem = low[: len(low) - len(suffix)] if suffix else low
        if table is not None and stem == table and suffix in TABLE_SUFFIXES:
            continue  # the table's own file (any case)
        if table is not None and suffix in DATA_SUFFIXES:
            current = present[table]
            if current is not None:
                raise DataContractError(
                    f"{data_dir}: {name} looks like a second file for the {table} table beside "
                    f"{current.name}, and only {current.name} would be read, so the rows in "
                    f"{name} would be left out without a word. If both hold part of the "
                    f"extract, combine them into {current.name} (one header row, then every "
                    f"row); if {name} is not part of this extract, move it out of the data "
                    "folder."
                )
            raise DataContractError(
                f"{data_dir}: {name} looks like the {table} table, but only a file named "
                f"{table}.csv or {table}.xlsx is read, so it would be left out without a word. "
                f"Save it as {table}.csv or {table}.xlsx (in Excel: Save As), or move it out "
                "of the data folder if it is not part of this extract."
            )
        notes.append(
            f"{name} is not a file of the data contract, so it was not read (see "
            f"{CONTRACT_DOC} for the files read)."
        )
    return notes


class _Reasons:
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


def _pyarrow():
    """``(pyarrow, pyarrow.csv, pyarrow.compute)``, or None when pyarrow is not installed."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.csv
    except ImportError:
        return None
    return pyarrow, pyarrow.csv, pyarrow.compute


# Arrow reads columns named f0, f1, ... as bytes; the header is read as the first row, by the
# same rules as the data, and decoded with it.
_MAX_COLUMNS = 1000
_BLOCK = 1 << 23  # bytes Arrow parses at a time (a block per core, and few chunks per column)
_LONE_CR = re.compile(rb"\r(?!\n)")
# Bytes that may begin or end a value Python's str.strip() would change: ASCII whitespace
# (Python's, which includes \x1c-\x1f), the lead bytes of the UTF-8 whitespace characters
# (U+0085, U+00A0, U+1680, U+2000-U+3000) and, at the end, any continuation byte.
_EDGE_FIRST = np.zeros(256, dtype=bool)
_EDGE_FIRST[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0xC2, 0xE1, 0xE2, 0xE3]] = True
_EDGE_LAST = np.zeros(256, dtype=bool)
_EDGE_LAST[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_EDGE_LAST[0x80:0xC0] = True


def _release_arrow_memory() -> None:
    """Hand memory Arrow has freed back to the system (its allocator keeps it for itself)."""
    modules = _pyarrow()
    if modules is not None:
        modules[0].default_memory_pool().release_unused()


def _read_csv_arrow(path: Path) -> pd.DataFrame | None:
    """A CSV file read by Arrow exactly as :func:`_read_raw` reads it with pandas (values stripped,
    blank or ``nan`` as missing, names in snake case), or None when pyarrow is missing or the file
    needs pandas' reading.

    None (read it with pandas instead) for anything Arrow reads differently or not at all: rows of
    the wrong length (pandas pads short ones), whitespace-only lines, blank, repeated or clashing
    column names, a byte-order mark on a file that is not UTF-8, bytes that are neither UTF-8 nor
    Windows-1252, or a parse error (for which pandas gives the row-numbered message).
    """
    modules = _pyarrow()
    if modules is None:
        return None
    arrow, arrow_csv, compute = modules
    try:
        table = arrow_csv.read_csv(
            path,
            read_options=arrow_csv.ReadOptions(autogenerate_column_names=True, block_size=_BLOCK),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types={f"f{i}": arrow.large_binary() for i in range(_MAX_COLUMNS)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except arrow.ArrowException:
        return None
    finally:
        # Parsing needs about as much memory again as its result: give it back to the system
        # rather than keep it for Arrow alone.
        _release_arrow_memory()
    # One column: pandas skips lines of spaces that Arrow reads as values (and such a file
    # cannot meet the contract anyway).
    if not table.num_rows or not 1 < table.num_columns <= _MAX_COLUMNS:
        return None
    columns = table.columns
    del table
    if _pandas_reads_differently(path, columns[-1][-1].as_py()):
        return None
    try:
        # UTF-8 (a byte-order mark is skipped by Arrow, as by utf-8-sig), as pandas tries first;
        # the cast only checks the bytes.
        text = [column.cast(arrow.large_string()) for column in columns]
    except arrow.ArrowInvalid:
        with path.open("rb") as file:
            if file.read(3) == codecs.BOM_UTF8:
                return None
        text = [_cp1252(column, arrow, compute) for column in columns]
        if any(column is None for column in text):
            return None
    del columns
    header = [column[0].as_py() for column in text]
    names = [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in header]
    if "" in header or len(set(header)) < len(header) or len(set(names)) < len(names):
        return None
    dtype = pd.StringDtype(na_value=np.nan)  # what astype("str") gives: Arrow-backed
    frame = {}
    for name in names:
        column = text.pop(0).slice(1)
        chunks = [_tidy_chunk(chunk, arrow, compute) for chunk in column.chunks]
        frame[name] = pd.array(arrow.chunked_array(chunks, arrow.large_string()), dtype=dtype)
    return pd.DataFrame(frame, index=pd.RangeIndex(len(frame[names[0]])))


def _pandas_reads_differently(path: Path, last: bytes) -> bool:
    """Whether pandas may read the file differently from Arrow: a carriage return that does not
    end a line with a line feed (old Mac line ends, which pandas reads in its own way), or a
    quoted value still open at the end of the file (pandas refuses it, Arrow reads it).

    ``last`` is the last value Arrow read. A value whose quote is never closed runs to the end of
    the file, so it is that value; it holds a line break, or else its opening quote is on the
    file's last line. One pass over the file, a block at a time.
    """
    if b"\n" in last or b"\r" in last:
        return True
    last_line, carry = b"", b""
    with path.open("rb") as file:
        while block := file.read(1 << 24):
            chunk = carry + block
            carry = b"\r" if chunk.endswith(b"\r") else b""
            chunk = chunk[: len(chunk) - len(carry)]
            if b"\r" in chunk and _LONE_CR.search(chunk):
                return True
            cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            last_line = chunk[cut + 1 :] if cut >= 0 else last_line + chunk
    return bool(carry) or b'"' in last_line


def _tidy_chunk(chunk, arrow, compute):
    """A chunk of strings stripped as by ``str.strip()``, with blank and ``nan`` as missing.

    Worked on the chunk's own buffers: only values that may need stripping are stripped, and
    missing values are marked by a new validity bitmap over the same offsets and bytes.
    """
    n = len(chunk)
    if not n:
        return chunk
    starts, ends, data = _spans(chunk)
    length = ends - starts
    edge = np.zeros(n, dtype=bool)
    filled = np.flatnonzero(length > 0)
    edge[filled] = _EDGE_FIRST[data[starts[filled]]] | _EDGE_LAST[data[ends[filled] - 1]]
    if edge.any():
        mask = arrow.array(edge)
        stripped = compute.utf8_trim_whitespace(compute.filter(chunk, mask))
        chunk = compute.replace_with_mask(chunk, mask, stripped.cast(arrow.large_string()))
        starts, ends, data = _spans(chunk)
        length = ends - starts
    blank = length == 0
    three = np.flatnonzero(length == 3)
    at = starts[three]
    blank[three[(data[at] == 110) & (data[at + 1] == 97) & (data[at + 2] == 110)]] = True  # nan
    if not blank.any():
        return chunk
    offsets = np.concatenate([starts, ends[-1:]])
    return arrow.Array.from_buffers(
        arrow.large_string(),
        n,
        [
            arrow.py_buffer(np.packbits(~blank, bitorder="little")),
            arrow.py_buffer(offsets),
            chunk.buffers()[2] or arrow.py_buffer(b""),
        ],
        null_count=int(blank.sum()),
    )


def _spans(chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end byte of each value of a large-string chunk (no nulls), and the bytes."""
    _, offsets, data = chunk.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, np.uint8)
    return offsets[:-1], offsets[1:], data


def _cp1252(column, arrow, compute):
    """A column of bytes decoded as Windows-1252 (None if it cannot be): ASCII values as they are,
    the others decoded once per distinct value."""
    loose = compute.cast(
        column,
        options=compute.CastOptions(target_type=arrow.large_string(), allow_invalid_utf8=True),
    )
    other = compute.invert(compute.string_is_ascii(loose))
    if not compute.any(other).as_py():
        return loose
    encoded = compute.filter(column, other).combine_chunks().dictionary_encode()
    try:
        decoded = [value.decode("cp1252") for value in encoded.dictionary.to_pylist()]
    except UnicodeDecodeError:
        return None
    values = compute.take(arrow.array(decoded, arrow.large_string()), encoded.indices)
    merged = compute.replace_with_mask(loose.combine_chunks(), other.combine_chunks(), values)
    return arrow.chunked_array([merged])


def _utf16(path: Path) -> bool:
    """Whether the file starts with a UTF-16 byte-order mark (Excel's "Unicode Text")."""
    with path.open("rb") as file:
        return file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _read_csv_pandas(path: Path) -> pd.DataFrame:
    # Exports from Excel on Windows arrive as cp1252 or as UTF-8 with a byte-order mark, and
    # now and then as UTF-16 (which Arrow does not read).
    if _utf16(path):
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-16")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1252")


def _read_raw(path: Path) -> pd.DataFrame:
    """Every column as stripped strings, blank (or ``nan``) as missing, names in snake case."""
    if path.suffix.lower() == ".xlsx":
        try:
            sheets = pd.read_excel(path, dtype=str, keep_default_na=False, sheet_name=None)
        except Exception as err:  # noqa: BLE001 - openpyxl raises many types for a bad workbook
            raise ValueError(f"not a readable Excel workbook: {type(err).__name__}: {err}") from err
        # Nothing is read silently in part: a second sheet with data would otherwise be dropped.
        filled = {name: sheet for name, sheet in sheets.items() if not sheet.empty}
        if len(filled) > 1:
            hidden = _hidden_sheets(path)
            names = [f"{n!r} (hidden)" if n in hidden else repr(n) for n in filled]
            unhide = (
                " A hidden sheet counts too: unhide it (right-click a sheet tab, Unhide) to see it."
                if hidden & set(filled)
                else ""
            )
            raise ValueError(
                f"the workbook has {len(filled)} sheets with data ({', '.join(names)})"
                "; a table must be on one sheet. Move the rows onto one sheet, or save that "
                f"sheet as CSV.{unhide}"
            )
        frame = next(iter(filled.values()), next(iter(sheets.values())))
        frame.attrs["sheet"] = next(iter(filled), next(iter(sheets)))  # for read_table's note
        _repeated_column(path, list(frame.columns))
    else:
        arrow_frame = None if _utf16(path) else _read_csv_arrow(path)
        if arrow_frame is not None:
            return arrow_frame
        frame = _read_csv_pandas(path)
    frame.columns = [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in frame.columns]
    for col in frame.columns:
        frame[col] = frame[col].astype("str").str.strip().replace({"": pd.NA, "nan": pd.NA})
    return frame


def _hidden_sheets(path: Path) -> set[str]:
    """Names of the workbook's hidden sheets (none if it cannot be opened to tell)."""
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - only a hint for a message; the reading error comes first
        return set()
    try:
        return {sheet.title for sheet in book.worksheets if sheet.sheet_state != "visible"}
    finally:
        book.close()


# A formula element in a sheet's XML (``<f>``, ``<f t="shared" .../>``, or with a prefix).
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (True if it cannot tell)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as book:
            for name in book.namelist():
                if not name.startswith("xl/worksheets/") or not name.endswith(".xml"):
                    continue
                with book.open(name) as sheet:
                    tail = b""
                    while chunk := sheet.read(1 << 20):
                        if _FORMULA_TAG.search(tail + chunk):
                            return True
                        tail = chunk[-16:]  # a tag cut in two between chunks
    except (OSError, zipfile.BadZipFile):
        return True  # let openpyxl open it (and _read_raw report it)
    return False


def _uncalculated_formulas(path: Path) -> None:
    """Refuse a workbook with formulas whose values were never calculated and saved.

    A workbook stores a formula and, once Excel has calculated it, its value; one written by a
    script (openpyxl, a report tool) often holds the formula alone, and its cells read as blank:
    closed dates written ``=DATE(2024,5,1)`` made every case open. Such cells are a
    :class:`DataContractError` naming the sheet, the column and the cells, and how to fix it.
    The workbook is scanned for formulas first (openpyxl, read-only), and read a second time for
    their saved values only when it has any.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    if not _has_formulas(path):
        return  # the usual case, found from the sheets' XML in a fraction of openpyxl's time
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - a workbook that cannot be opened: _read_raw says so
        return
    found: dict[str, list[tuple[int, int]]] = {}
    try:
        for sheet in book.worksheets:
            for i, row in enumerate(sheet.iter_rows(min_row=1), start=1):
                found.setdefault(sheet.title, []).extend(
                    (i, j) for j, cell in enumerate(row, start=1) if cell.data_type == "f"
                )
    finally:
        book.close()
    if not any(found.values()):
        return
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            cells = set(found.get(sheet.title, []))
            if not cells:
                continue
            rows = list(sheet.iter_rows(min_row=1, values_only=True))
            blank = sorted(
                (j, i)
                for i, j in cells
                if i > len(rows) or j > len(rows[i - 1]) or rows[i - 1][j - 1] is None
            )
            if not blank:
                continue
            header = rows[0] if rows else ()
            columns = []
            for j in dict.fromkeys(j for j, _ in blank):
                mine = [f"{get_column_letter(j)}{i}" for jj, i in blank if jj == j]
                name = header[j - 1] if j <= len(header) and header[j - 1] is not None else ""
                more = f" and {len(mine) - 5} more" if len(mine) > 5 else ""
                label = (
                    f"{name} (column {get_column_letter(j)})"
                    if name
                    else (f"column {get_column_letter(j)}")
                )
                columns.append(f"{label}: {', '.join(mine[:5])}{more}")
            raise DataContractError(
                f"{path}, sheet {sheet.title!r}: {len(blank)} cell(s) hold a formula whose value "
                f"was never calculated and saved ({'; '.join(columns)}), so they would be read "
                "as blank. A workbook written by a script keeps formulas uncalculated. Open it in "
                "Excel (or LibreOffice) and save it, so that the values are stored; or copy the "
                "cells and paste them as values (Paste Special, Values)."
            )
    finally:
        book.close()


def _snake(name: object) -> str:
    """A header as the contract names columns: tidied, lower case, spaces and hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", tidy(str(name)).lower())


def _first_rows(path: Path, n: int = 30) -> list[list[str]]:
    """The first ``n`` rows of a file as lists of texts, read loosely (rows of any length), for
    finding a header that is not on row 1; empty if the file cannot be read so."""
    try:
        if path.suffix.lower() == ".xlsx":
            sheets = pd.read_excel(
                path, dtype=str, keep_default_na=False, header=None, nrows=n, sheet_name=None
            )
            frame = next((s for s in sheets.values() if not s.empty), None)
            return [] if frame is None else frame.astype("str").to_numpy().tolist()
        with path.open("rb") as file:  # the start only: an extract can be hundreds of MB
            data = file.read(1 << 20)
        if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            text = data.decode("utf-16", errors="replace")
        else:
            try:
                # Incremental, so a character cut in two at the end of the block is no error.
                text = codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=False)
            except UnicodeDecodeError:
                text = data.decode("cp1252", errors="replace")
        import csv

        return [row for _, row in zip(range(n), csv.reader(io.StringIO(text)), strict=False)]
    except Exception:  # noqa: BLE001 - only a hint for a message
        return []


def _header_hint(path: Path, spec: TableSpec) -> str:
    """Where the header is, when it is not on row 1: title rows or a merged heading above it."""
    for i, row in enumerate(_first_rows(path)[1:], start=2):
        names = {_snake(cell) for cell in row}
        if set(spec.required) <= names:
            return (
                f" Row {i} holds the header ({', '.join(c for c in row if str(c).strip())}): "
                f"the {i - 1} row(s) above it (a title, a note or a merged heading) must go. "
                f"Delete {'row 1' if i == 2 else f'rows 1 to {i - 1}'} so that the header is "
                "on row 1, and save again."
            )
    return ""


def _separator_hint(path: Path) -> str:
    """A fix for a header that is one column: the columns were separated by ';' or tabs."""
    rows = _first_rows(path, 1)
    line = rows[0][0] if rows and len(rows[0]) == 1 else ""
    if "\t" in line:
        return (
            "the columns are separated by tabs, not commas (Excel's 'Unicode Text' or 'Text "
            "(Tab delimited)'). Save the file as 'CSV UTF-8 (comma delimited)' or as XLSX."
        )
    if ";" in line:
        return (
            "the columns are separated by ';', not ','. Save the file as 'CSV UTF-8 (comma "
            "delimited)' or as XLSX."
        )
    return ""


def _parse_with_formats(
    values: pd.Series,
    formats: tuple[str, ...],
    factorised: tuple[np.ndarray, pd.Series] | None = None,
) -> pd.Series:
    """Dates read with the first of ``formats`` that fits, each distinct value once."""

    def parse(distinct: pd.Series) -> pd.Series:
        parsed = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[us]")
        for fmt in formats:
            todo = parsed.isna() & distinct.notna()
            if not todo.any():
                break
            if "%z" in fmt:
                # An instant with its UTC offset: its date and time in the UK, as a naive value.
                stamps = pd.to_datetime(distinct[todo], format=fmt, errors="coerce", utc=True)
                parsed[todo] = stamps.dt.tz_convert(UK_TIME).dt.tz_localize(None)
            else:
                parsed[todo] = pd.to_datetime(distinct[todo], format=fmt, errors="coerce")
        return parsed

    parsed = on_uniques(values, parse, factorised)
    return pd.Series(parsed, index=values.index, dtype="datetime64[us]")


def _parse_periods(values: pd.Series) -> pd.Series:
    """Financial quarters (``2024/25 Q1``) or months, as Period objects; None where neither.

    Each distinct value is read once.
    """

    def parse(distinct: pd.Series) -> pd.Series:
        out = pd.Series(None, index=distinct.index, dtype=object)
        text = distinct.dropna().astype("str")
        quarters = {}
        for value in text.tolist():
            # "latest" means a quarter only on the command line; in a data file it is no date.
            if value.strip().lower() == "latest":
                continue
            with contextlib.suppress(ValueError):
                quarters[value] = parse_quarter(_quarter_form(value))
        is_quarter = text.isin(list(quarters))
        out[text.index[is_quarter]] = text[is_quarter].map(quarters).to_numpy()
        months = _parse_with_formats(text[~is_quarter], READ_MONTH_FORMATS)
        found = months.notna()
        out[months.index[found]] = list(months[found].dt.to_period(MONTH_FREQ))
        return out

    return pd.Series(on_uniques(values, parse), index=values.index, dtype=object)


# Quarter labels as returns spreadsheets write them, put in the order parse_quarter reads:
# "Q1 2011/12", "Qtr 1 2011/12", "2011/12 Quarter 1", and a subtotal's "2011/12 Q1 total".
_TOTAL_WORD = re.compile(r"^\s*(?:sub\s*)?total\s+|\s+(?:sub\s*)?total\s*$", re.IGNORECASE)
_QUARTER_FIRST = re.compile(
    r"^\s*(?:q|qtr|quarter)\s*([1-4])\s*,?\s+(\d{4}\s*[-/]\s*\d{2,4})\s*$", re.IGNORECASE
)
_QUARTER_WORD = re.compile(r"^(\d{4}\s*[-/]\s*\d{2,4})\s+(?:qtr|quarter)\s*([1-4])$", re.IGNORECASE)
# A financial year's total row ("2011/12", "FY 2011/12", "2011/12 total", "Total 2011-12"):
# a slash, or a dash with a word beside it (a bare 2011-12 is December 2011).
_FY_TOTAL = re.compile(
    r"^\s*(?:(?:fy|year|total|annual)\s*)?(\d{4})\s*/\s*(\d{2}|\d{4})"
    r"(?:\s*(?:total|year|annual|fy))?\s*$"
    r"|^\s*(?:fy|year|total|annual)\s*(\d{4})\s*-\s*(\d{2}|\d{4})\s*$"
    r"|^\s*(\d{4})\s*-\s*(\d{2}|\d{4})\s*(?:total|year|annual)\s*$",
    re.IGNORECASE,
)
# Tables whose periods are counts by month or quarter, which monthly returns spreadsheets give
# with quarterly and annual subtotal rows among the months.
PERIOD_TOTALS = ("returns", "marac", "perpetrator_programme")
PERIOD_FORMS = (
    "write a month as yyyy-mm (2011-04) or Apr 2011, a financial quarter as 2011/12 Q1 "
    "(also 2011-12Q1, 2011/2012 Q1 or Q1 2011/12)"
)


def _quarter_form(value: str) -> str:
    """A quarter label in the form :func:`parse_quarter` reads (others unchanged)."""
    text = _TOTAL_WORD.sub("", value).strip()
    match = _QUARTER_FIRST.match(text)
    if match:
        return f"{match.group(2)} Q{match.group(1)}"
    match = _QUARTER_WORD.match(text)
    if match:
        return f"{match.group(1)} Q{match.group(2)}"
    return text


def _financial_year(value: object) -> int | None:
    """The start year of a financial-year total label (``2011/12`` -> 2011), else None."""
    match = _FY_TOTAL.match(str(value))
    if not match:
        return None
    start, end = (g for g in match.groups() if g is not None)
    first = int(start)
    last = int(end) if len(end) == 4 else (first // 100) * 100 + int(end)
    return first if last == first + 1 else None


def _flag_unparsed(
    raw: pd.Series, parsed: pd.Series, problem: str, reasons: _Reasons, kind: str = ""
) -> None:
    """A reason for every non-blank value that did not parse.

    For a date or month (``kind``), a value that is an Excel serial number or has a two-digit
    year says so, with its own fix, instead of ``problem``.
    """
    bad = (raw.notna() & parsed.isna()).to_numpy()
    if not bad.any():
        return
    values = raw[bad]
    texts = f"{raw.name}: " + reprs(values) + f" {problem}"
    if kind:
        text = values.astype("str")
        serial = text.str.match(EXCEL_SERIAL).to_numpy(dtype=bool)
        short = text.str.match(TWO_DIGIT_YEAR).to_numpy(dtype=bool)
        texts[serial] = (
            f"{raw.name}: "
            + reprs(values[serial])
            + f" is not a {kind} (an Excel date serial number: format the column as dates, "
            "dd/mm/yyyy, before saving)"
        )
        texts[short] = (
            f"{raw.name}: "
            + reprs(values[short])
            + f" is not a {kind} (a two-digit year: write the year in full, dd/mm/yyyy)"
        )
    reasons.add(np.flatnonzero(bad), texts)


def not_collected_marker(raw: pd.Series) -> np.ndarray:
    """Whether each value is a "not collected" marker (:data:`NOT_COLLECTED`: ``not
    collected``, ``NC``, ``..``, ``[x]`` ...), whatever its case and spacing."""
    keys = on_uniques(
        raw,
        lambda u: u.astype("str").str.casefold().str.replace(r"\s+", " ", regex=True).str.strip(),
    )
    return np.isin(np.asarray(keys, dtype=object), NOT_COLLECTED) & raw.notna().to_numpy()


def _parse_numbers(
    raw: pd.Series, decimals: bool, reasons: _Reasons, gap: bool = False
) -> pd.Series:
    """Numbers read one way only.

    A count accepts a comma only as a thousands separator (``1,500``) and must be whole. A
    fraction column (FTE) refuses every comma: ``1,5`` is a decimal comma (1.5 in much of
    Europe, or a slip for 15) and is reported, never guessed. In a ``gap`` column (a count of
    an aggregate table) a not-collected marker is read as blank: a gap, never a zero.
    """
    if gap:
        marker = not_collected_marker(raw)
        if marker.any():
            raw = raw.mask(marker)
    text = raw.astype("str")
    comma = raw.notna() & text.str.contains(",", regex=False)
    if decimals:
        bad_comma = comma
        cleaned = text
    else:
        bad_comma = comma & ~text.str.match(THOUSANDS)
        cleaned = text.str.replace(",", "", regex=False)
    parsed = pd.to_numeric(cleaned.where(raw.notna() & ~bad_comma), errors="coerce")
    fix = (
        "a decimal point (1.5) and no thousands separators"
        if decimals
        else ("digits only, or commas every three digits as thousands separators (1,500)")
    )
    rows = np.flatnonzero(bad_comma.to_numpy())
    reasons.add(
        rows,
        f"{raw.name}: "
        + reprs(raw.iloc[rows])
        + f" has a comma that could be read two ways; write it with {fix}",
    )
    rows = np.flatnonzero((raw.notna() & ~bad_comma & parsed.isna()).to_numpy())
    texts = f"{raw.name}: " + reprs(raw.iloc[rows]) + " is not a number"
    signs = text.iloc[rows].str.strip()
    percent = signs.str.endswith("%").to_numpy(dtype=bool)
    texts[percent] += (
        " (a percentage: write FTE as a fraction, 0.8 for 80%)"
        if decimals
        else " (a percentage: write the count itself)"
    )
    pounds = signs.str.contains(r"^[-+]?[£$€]|[£$€]$", regex=True).to_numpy(dtype=bool)
    texts[pounds] += " (write the amount without the currency sign: 153.38 for £153.38)"
    # "32.00 Number", "12 cases": a number with its unit or a word after it, as some returns
    # spreadsheets export a formatted cell.
    unit = signs.str.extract(UNIT_SUFFIX)[0]
    has_unit = (unit.notna() & ~percent & ~pounds).to_numpy(dtype=bool)
    texts[has_unit] += (
        " (numbers only: write "
        + reprs(unit[has_unit]).astype(object)
        + " without the unit or words after it)"
    )
    if gap:
        texts[~has_unit & ~percent & ~pounds] += GAP_ADVICE
    reasons.add(rows, texts)
    if not decimals:
        fraction = parsed.notna() & (parsed != parsed.round())
        rows = np.flatnonzero(fraction.to_numpy())
        reasons.add(rows, f"{raw.name}: " + reprs(raw.iloc[rows]) + " is not a whole number")
        parsed = parsed.where(~fraction)
    return parsed.astype("float64")


def _date_order(
    frame: pd.DataFrame,
    spec: TableSpec,
    path: Path,
    factorised: dict[str, tuple[np.ndarray, pd.Series]] | None = None,
) -> tuple[str, ...]:
    """The date formats of this file, judged across all its date columns.

    ``03/04/2024`` could be 3 April or 4 March. A file whose unambiguous dates are all day-first
    (or that has none) is read day-first, the UK default; one whose unambiguous dates are all
    month-first (``04/13/2024``) is read month-first; a file with both is refused, naming rows,
    because its ambiguous dates cannot be read safely either way.
    """
    # Each distinct value is judged once; only the first few examples are written out.
    day_first: list[str] = []
    month_first: list[str] = []
    n_month_first = 0

    def orders(distinct: pd.Series) -> pd.Series:
        """0 for neither, 1 for day-first only, 2 for month-first only."""
        parts = distinct.dropna().astype("str").str.extract(DAY_MONTH)
        first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
        kind = pd.Series(0, index=distinct.index, dtype="int8")
        kind[parts.index[((first > 12) & (second <= 12)).to_numpy()]] = 1
        kind[parts.index[((second > 12) & (first <= 12)).to_numpy()]] = 2
        return kind

    # Months may be given as any date in the month (dd/mm/yyyy), so they count too.
    for col in (*spec.dates, *spec.months):
        kind = on_uniques(frame[col], orders, (factorised or {}).get(col))
        for examples, code in ((day_first, 1), (month_first, 2)):
            rows = np.flatnonzero(kind == code)
            examples += [
                f"row {i + 2} {col} {value!r}"
                for i, value in zip(rows[:3], frame[col].iloc[rows[:3]].tolist(), strict=True)
            ]
        n_month_first += int((kind == 2).sum())
    if day_first and month_first:
        raise DataContractError(
            f"{path}: dates are written both day-first ({'; '.join(day_first[:3])}) and "
            f"month-first ({'; '.join(month_first[:3])}; {n_month_first} in all), so dates "
            "such as 03/04/2024 cannot be read safely either way. Export every date as "
            "dd/mm/yyyy (or yyyy-mm-dd) and load again."
        )
    return MONTH_FIRST_FORMATS if month_first else READ_DATE_FORMATS


def _parse_columns(
    frame: pd.DataFrame,
    spec: TableSpec,
    reasons: _Reasons,
    date_formats: tuple[str, ...] = READ_DATE_FORMATS,
    factorised: dict[str, tuple[np.ndarray, pd.Series]] | None = None,
) -> pd.DataFrame:
    factorised = factorised or {}
    out = frame.copy(deep=False)
    shown = "mm/dd/yyyy" if date_formats is MONTH_FIRST_FORMATS else "dd/mm/yyyy"
    for col in spec.dates:
        out[col] = _parse_with_formats(frame[col], date_formats, factorised.get(col))
        problem = f"is not a date; write it as {shown}"
        _flag_unparsed(frame[col], out[col], problem, reasons, "date")
    month_formats = READ_MONTH_FORMATS
    if date_formats is MONTH_FIRST_FORMATS:
        month_formats = tuple(_month_first(f) for f in READ_MONTH_FORMATS)
    for col in spec.months:
        parsed = _parse_with_formats(frame[col], month_formats, factorised.get(col))
        _flag_unparsed(frame[col], parsed, "is not a month; write it as yyyy-mm", reasons, "month")
        out[col] = parsed.dt.to_period(MONTH_FREQ)
    for col in spec.periods:
        parsed = _parse_periods(frame[col])
        raw = frame[col]
        if spec.name in PERIOD_TOTALS:
            raw = _flag_year_totals(raw, parsed, reasons)
        _flag_unparsed(
            raw,
            parsed,
            f"is neither a month nor a financial quarter; {PERIOD_FORMS}",
            reasons,
        )
        out[col] = parsed.astype(object)
    for col in spec.numbers:
        out[col] = _parse_numbers(frame[col], col in spec.decimals, reasons, col in spec.gaps)
    return out


def _flag_year_totals(raw: pd.Series, parsed: pd.Series, reasons: _Reasons) -> pd.Series:
    """Reasons for total rows whose period is no month or quarter, and ``raw`` without them.

    A financial year (``2011/12``) whose months or quarters are in the file is a subtotal row,
    set aside (the months are used); a year given alone cannot be spread over months, and its
    reason says what to give. A total that names no period (``Q1 total``) among month rows is
    set aside too.
    """
    unread = raw.notna() & parsed.isna()
    if not unread.any():
        return raw
    years = pd.Series(
        on_uniques(raw[unread], lambda u: u.map(_financial_year).astype(object)),
        index=raw.index[unread],
        dtype=object,
    ).dropna()
    covered = {fy_start_year(p) for p in parsed.dropna() if isinstance(p, pd.Period)}
    total = years.map(lambda y: y in covered).astype(bool)
    at = years.index[total]
    reasons.add(
        at,
        f"{SUBTOTAL}: "
        + reprs(raw[at]).astype(object)
        + " is a financial year's total; its months or quarters are used, so it is not "
        "counted again",
    )
    alone = years.index[~total]
    reasons.add(
        alone,
        f"{raw.name}: "
        + reprs(raw[alone]).astype(object)
        + " is a whole financial year, which cannot be spread over its months; give the "
        "year's months or quarters (2011/12 Q1 to Q4) instead",
    )
    raw = raw.mask(raw.index.isin(years.index))
    # "Q1 total", "Total", "Year to date": a total that names no period cannot be checked
    # against its months, but beside month rows it is no month of its own: set aside.
    unread = raw.notna() & parsed.isna()
    months = any(isinstance(p, pd.Period) and p.freqstr.startswith("M") for p in parsed.dropna())
    if not unread.any() or not months:
        return raw
    texts = raw[unread].astype("str")
    unnamed = texts.index[texts.str.fullmatch(_UNNAMED_TOTAL).to_numpy(dtype=bool)]
    reasons.add(
        unnamed,
        f"{SUBTOTAL}: "
        + reprs(raw[unnamed]).astype(object)
        + " is a total that names no period, so it cannot be checked against its months; "
        "it is set aside (the months are used)",
    )
    return raw.mask(raw.index.isin(unnamed))


# A total row's label that names no period ("Q1 total", "Total", "Year to date", "YTD").
_UNNAMED_TOTAL = re.compile(
    r"\s*(?:(?:q|qtr|quarter)\s*[1-4]\s*(?:sub\s*)?total|(?:sub\s*|grand\s*|year\s*|annual\s*)?"
    r"total|year\s*to\s*date|ytd)\s*",
    re.IGNORECASE,
)


# A date in VINTAGE and how it is written: ISO first, then UK day-first.
_VINTAGE_DATES = (
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    (r"\d{1,2}/\d{1,2}/\d{4}", "%d/%m/%Y"),
)
# A label saying that the date after it is the extract's: "extract_date: 2021-02-20",
# "Extract date 20/02/2021", "extract taken 20/02/2021", "extracted on 2021-02-20".
_EXTRACT_LABEL = r"\bextract(?:_date|\s+date|\s+taken(?:\s+on)?|ed(?:\s+on)?)\s*[:=]?\s*"


def _vintage_dates(text: str) -> list[pd.Timestamp]:
    """Every date written in ``text``, in order."""
    found = []
    for pattern, fmt in _VINTAGE_DATES:
        for match in re.finditer(rf"(?<![\d/-])({pattern})(?![\d/-])", text):
            stamp = pd.to_datetime(match.group(1), format=fmt, errors="coerce")
            if not pd.isna(stamp):
                found.append((match.start(), stamp))
    return [stamp for _, stamp in sorted(found, key=lambda f: f[0])]


def extract_date(config: Config, vintage: str) -> tuple[pd.Timestamp, str]:
    """The day the extract was taken, and where that came from.

    ``extract_date`` in config; else a date labelled as the extract's in VINTAGE
    (``extract_date: 2021-02-20``, ``extract date 20/02/2021``, ``extracted on ...``,
    ``extract taken ...``); else the one date in VINTAGE when it holds only one; else today,
    since nothing can have happened after the run. A VINTAGE naming several dates without
    saying which is the extract's (the data's first day, a download date) is not guessed.
    """
    if config.extract_timestamp is not None:
        return config.extract_timestamp, "config extract_date"
    for pattern, fmt in _VINTAGE_DATES:
        found = re.search(_EXTRACT_LABEL + rf"({pattern})(?![\d/-])", vintage, re.IGNORECASE)
        if found:
            stamp = pd.to_datetime(found.group(1), format=fmt, errors="coerce")
            if not pd.isna(stamp):
                return stamp, "the VINTAGE file"
    dates = _vintage_dates(vintage)
    if len(set(dates)) == 1:
        return dates[0], "the VINTAGE file"
    why = (
        f"VINTAGE names {len(set(dates))} dates without saying which is the extract's; write "
        "'extract_date: yyyy-mm-dd' there to set it"
        if dates
        else "there is no extract_date in config or date in VINTAGE"
    )
    return pd.Timestamp(date.today()), f"today, as {why}"


def _start(value: object) -> pd.Timestamp | None:
    """First day of a date, month or quarter value (None if blank)."""
    if value is None or (not isinstance(value, pd.Period) and pd.isna(value)):
        return None
    return value.start_time if isinstance(value, pd.Period) else pd.Timestamp(value)


def _starts(values: pd.Series) -> pd.Series:
    """:func:`_start` of each value, as ``datetime64[us]``: dates as they are, months by their
    first day, a column of mixed months and quarters once per distinct value."""
    if isinstance(values.dtype, pd.PeriodDtype):
        starts = values.dt.start_time
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        starts = values
    else:
        starts = pd.Series(
            on_uniques(values, lambda u: u.map(_start, na_action=None).astype(object)),
            index=values.index,
        )
    return starts.astype("datetime64[us]")


def _check_not_after(
    parsed: pd.DataFrame,
    spec: TableSpec,
    reasons: _Reasons,
    extract: tuple[pd.Timestamp, str] | None,
) -> None:
    """Exclude rows dated after the extract date: a typo (2030 for 2023) would otherwise stretch
    every series to that year and distort the models."""
    if extract is None:
        return
    when, source = extract

    def shown(value: object) -> str:
        return value.strftime("%d/%m/%Y") if isinstance(value, pd.Timestamp) else str(value)

    for col in spec.not_after_extract:
        starts = _starts(parsed[col])
        early = (starts.notna() & (starts < EARLIEST)).to_numpy()
        if early.any():
            days = on_uniques(
                starts[early], lambda u: u.map(lambda d: "" if pd.isna(d) else f"{d:%d/%m/%Y}")
            )
            reasons.add(
                np.flatnonzero(early),
                f"{col}: " + days.astype(object) + f" is before {EARLIEST:%Y}, earlier than any DA "
                "service extract this tool is for; check the year (1924 for 2024?)",
            )
        late = (starts.notna() & (starts > when)).to_numpy()
        if late.any():
            values = on_uniques(parsed[col][late], lambda u: u.map(shown).astype(object))
            reasons.add(
                np.flatnonzero(late),
                f"{col}: "
                + values.astype(object)
                + f" is after the extract date {when:%d/%m/%Y} (from {source}); "
                "correct the date in the source system",
            )


def _validate(
    frame: pd.DataFrame, spec: TableSpec, reasons: _Reasons, path: Path | None = None
) -> None:
    """The pandera schema's failures as reasons, column-wise.

    A check on the whole frame is reported once per row (pandera lists it per column); a blank
    required value is not reported again where the column already failed to parse; no row gets
    the same reason twice.
    """
    try:
        spec.schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        _add_failures(err.failure_cases, spec, reasons, path)


def _add_failures(
    cases: pd.DataFrame, spec: TableSpec, reasons: _Reasons, path: Path | None
) -> None:
    values = cases.to_numpy(dtype=object)  # the values a row-by-row reading would see
    case = {name: values[:, j] for j, name in enumerate(cases.columns)}
    structural = pd.isna(case["index"])
    if structural.any():
        k = int(np.flatnonzero(structural)[0])
        raise DataContractError(
            f"{path or spec.name}, column {case['column'][k]!r}: {case['check'][k]} "
            f"({case['failure_case'][k]}). Correct the file against the {spec.name} table "
            f"in {CONTRACT_DOC}."
        ) from None
    rows = case["index"].astype("int64")
    column = on_uniques(pd.Series(case["column"], dtype=object), lambda u: u.map(str))
    check = on_uniques(pd.Series(case["check"], dtype=object), lambda u: u.map(str))
    frame_checks = {str(c.error) for c in spec.checks} | {str(c.name) for c in spec.checks}
    is_frame = np.isin(check, list(frame_checks))
    is_null = ~is_frame & (check == "not_nullable")
    text = np.empty(len(rows), dtype=object)
    text[is_frame] = check[is_frame]
    text[is_null] = column[is_null] + ": is blank but is required"
    other = ~is_frame & ~is_null
    # Each (column, check) holds the values of one column, so their reprs are exact per value.
    pairs = pd.DataFrame({"column": column[other], "check": check[other]}, dtype=object)
    for col, name in pairs.drop_duplicates().itertuples(index=False):
        at = np.flatnonzero(other & (column == col) & (check == name))
        failure = pd.Series(case["failure_case"][at], dtype=object)
        text[at] = col + ": " + reprs(failure) + " " + name
    before = reasons.frame()
    order = np.arange(len(rows))
    keep = np.ones(len(rows), dtype=bool)
    # A blank required value already explained by a reason for its column (a parse error) is
    # not reported again: such a reason exists before this case if any text for the row,
    # earlier or from an earlier case, starts with "column:".
    for col in pd.unique(pd.Series(column[is_null], dtype=object)):
        prefix = f"{col}:"
        earlier = before["row"].to_numpy()[before["text"].str.startswith(prefix).to_numpy()]
        prefixed = pd.Series(text, dtype=object).str.startswith(prefix).to_numpy()
        first_case = pd.Series(order[prefixed]).groupby(rows[prefixed]).min()
        at = np.flatnonzero(is_null & (column == col))
        explained = np.isin(rows[at], earlier) | (
            first_case.reindex(rows[at]).to_numpy() < order[at]
        )
        keep[at[explained]] = False
    # No row gets the same reason twice (against reasons before and cases kept earlier).
    candidates = pd.DataFrame({"row": rows[keep], "text": text[keep]})
    seen = pd.concat([before, candidates], ignore_index=True)
    repeated = seen.duplicated(["row", "text"], keep="first").to_numpy()[len(before) :]
    kept = np.flatnonzero(keep)[~repeated]
    reasons.add(rows[kept], text[kept])


def _repeated_column(path: Path, header: list[object]) -> None:
    """Refuse a header naming one column twice (``month`` and ``Month``, or names that differ
    only in spacing or characters that do not print): which of the two holds the data cannot
    be told, and a table with a repeated column cannot be checked."""
    seen: dict[str, object] = {}
    for original in header:
        name = _snake(original)
        if not name or name.startswith("unnamed:"):
            continue  # a blank header cell: pandas names it apart
        if name in seen:
            raise DataContractError(
                f"{path}, row 1 (header), column {name!r}: the header has it twice "
                f"({seen[name]!r} and {original!r}, which differ only in case, spacing or "
                "characters that do not print). Delete or rename one of them."
            )
        seen[name] = original


def _tidy_header(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Column names with invisible characters removed and compatibility forms folded (a
    zero-width space or a non-breaking space in ``referral_id`` would hide the column).

    Two columns that become one name are an error naming both, not a frame with a repeated
    column. Names that need no tidying are left exactly as read.
    """
    names = [_snake(c) for c in raw.columns]
    if names == list(raw.columns):
        return raw
    seen: dict[str, object] = {}
    for original, name in zip(raw.columns, names, strict=True):
        if name in seen:
            raise DataContractError(
                f"{path}, row 1 (header), column {name!r}: the header has it twice "
                f"({seen[name]!r} and {original!r}, which differ only in characters that do not "
                "print). Delete or rename one of them."
            )
        seen.setdefault(name, original)
    raw = raw.copy(deep=False)
    raw.columns = names
    return raw


# Text columns tidied on reading (see clean.tidy): invisible characters, non-breaking and
# repeated spaces would otherwise make 'Sampleborough\u200b' an area of its own, or one role
# two. Referrals keep their texts as read (their labels are matched through clean.label_key,
# and the identifiers are the service's own), all but the area.
_TIDIED_REFERRAL_COLUMNS = ("area",)


def _tidy_texts(raw: pd.DataFrame, spec: TableSpec) -> None:
    """Tidy the free-text and label columns of ``raw`` (in place): every column that is not a
    date, month, period or number, except in ``referrals`` (its area only)."""
    parsed = {*spec.dates, *spec.months, *spec.periods, *spec.numbers}
    if spec.name == "referrals":
        columns = [c for c in _TIDIED_REFERRAL_COLUMNS if c in raw.columns]
    else:
        columns = [c for c in spec.columns if c in raw.columns and c not in parsed]
    for col in columns:
        raw[col] = tidy_column(raw[col])


def read_table(
    path: Path,
    spec: TableSpec,
    config: Config,
    extract: tuple[pd.Timestamp, str] | None = None,
    notes: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate one table. Returns (used rows, ledger of every input row).

    The used rows keep ``source_row``, the row number as a spreadsheet shows it (header = 1).
    ``extract`` is the extract date and its source; rows dated after it are excluded. Notes for
    the reader (such as dates read month-first) are appended to ``notes``.
    """
    if path.suffix.lower() == ".xlsx":
        _uncalculated_formulas(path)  # before reading: pandas reads such cells as blank
    try:
        raw = _read_raw(path)
    except (pd.errors.ParserError, ValueError) as err:
        raise DataContractError(
            f"{path}: cannot be read as a table ({err}). Save it as CSV (UTF-8) or XLSX with one "
            "header row."
        ) from err
    sheet = raw.attrs.get("sheet")
    if sheet is not None and notes is not None and sheet in _hidden_sheets(path):
        # The visible sheets are empty (a second sheet with data stops loading in _read_raw):
        # read, but said, since nobody opening the workbook sees these rows.
        notes.append(
            f"{path.name}: the rows were read from the hidden sheet {sheet!r}; the visible "
            "sheets are empty."
        )
    raw = _tidy_header(raw, path)
    missing = [c for c in spec.required if c not in raw.columns]
    separator = _separator_hint(path) if missing and len(raw.columns) == 1 else ""
    if separator:
        # Excel in many European locales saves "CSV" with semicolons; "Unicode Text" has tabs.
        raise DataContractError(f"{path}, row 1 (header): {separator}")
    if missing:
        raise DataContractError(
            f"{path}, row 1 (header), column {missing[0]!r}: required column missing "
            f"(all missing: {', '.join(missing)}; found: {', '.join(map(str, raw.columns))}). "
            f"Rename or add the column; the {spec.name} table is described in {CONTRACT_DOC}."
            + _header_hint(path, spec)
        )
    if spec.one_of and not set(spec.one_of) & set(raw.columns):
        raise DataContractError(
            f"{path}, row 1 (header): no count column: the {spec.name} table needs at least "
            f"one of {', '.join(spec.one_of)} (found: {', '.join(map(str, raw.columns))}). "
            f"Rename or add the column; the {spec.name} table is described in {CONTRACT_DOC}."
            + _header_hint(path, spec)
        )
    supplied = [c for c in spec.columns if c in raw.columns]
    for col in spec.optional:
        if col not in raw.columns:
            raw[col] = config.default_area if col == "area" and config.default_area else pd.NA
    _tidy_texts(raw, spec)
    # Campaigns and events with a blank area apply to every area.
    if "area" in spec.columns and spec.name not in ("campaigns", "events"):
        _need_area(raw, path, config)
        raw["area"] = raw["area"].fillna(config.default_area)
    if spec.name == "events":
        raw["kind"] = raw["kind"].str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    raw.index = pd.RangeIndex(len(raw))
    reasons = _Reasons()
    # Date and month columns are factorised once, for judging their order and for parsing.
    factorised = {col: distinct(raw[col]) for col in (*spec.dates, *spec.months)}
    formats = _date_order(raw, spec, path, factorised)
    if formats is MONTH_FIRST_FORMATS and notes is not None:
        notes.append(
            f"{path.name}: dates read month-first (mm/dd/yyyy), because every date that can "
            "only be read one way is month-first."
        )
    parsed = _parse_columns(raw[list(spec.columns)], spec, reasons, formats, factorised)
    _validate(parsed, spec, reasons, path)
    _check_not_after(parsed, spec, reasons, extract)
    if spec.name == "staffing":
        for col in spec.decimals:
            high = (parsed[col] > config.max_fte_per_row).to_numpy()
            fte = on_uniques(parsed[col][high], lambda u: u.map(lambda v: f"{v:g}"))
            reasons.add(
                np.flatnonzero(high),
                f"{col}: " + fte.astype(object) + f" FTE for one team and role is above the "
                f"plausible {config.max_fte_per_row:g} (config max_fte_per_row); check for "
                "a slip such as 15 for 1.5",
            )
    if spec.key:
        keys = parsed[list(spec.key)].astype("str")
        repeats = same_as_first([keys[col] for col in spec.key])
        dup = np.flatnonzero(repeats != np.arange(len(parsed)))
        reasons.add(
            dup,
            "duplicate of row "
            + pd.Series(repeats[dup] + 2).astype("str").to_numpy(dtype=object)
            + f" (same {', '.join(spec.key)})",
        )
    joined = reasons.joined()
    excluded = joined.index
    ledger = pd.DataFrame(
        {
            "table": spec.name,
            "file": path.name,
            "row": raw.index + 2,
            "status": "used",
            "reason": "",
        }
    )
    gaps = _not_collected(parsed, spec, supplied, excluded, path, notes)
    ledger.loc[gaps.index, "reason"] = gaps.to_numpy()
    ledger.loc[excluded, "status"] = "excluded"
    ledger.loc[excluded, "reason"] = joined.to_numpy()
    check_excluded_share(ledger, config, path)
    kept = np.ones(len(parsed), dtype=bool)
    kept[excluded] = False
    used = keep_rows(parsed, kept).assign(source_row=lambda d: d.index + 2)
    return used.reset_index(drop=True), ledger


def _need_area(raw: pd.DataFrame, path: Path, config: Config) -> None:
    """Stop when rows have no area and config names none: the pack would otherwise be titled
    with some other council's name."""
    if config.default_area.strip():
        return
    blank = np.flatnonzero(raw["area"].isna().to_numpy())
    if not len(blank):
        return
    where = (
        "has no area column"
        if len(blank) == len(raw)
        else f"has rows with a blank area (rows {', '.join(str(i + 2) for i in blank[:5])}"
        + (f" and {len(blank) - 5} more" if len(blank) > 5 else "")
        + ")"
    )
    raise DataContractError(
        f"{path}, column area: the file {where}, and config.csv names no default_area, so the "
        "area these figures are for is not known. Add a config.csv row "
        "'default_area,<your area's name>,name,' beside the data (or an area column, filled "
        "in on every row)."
    )


# How the reasons of rows set aside, not refused, begin or what they hold: a subtotal row of
# monthly returns, and a count so far below its series that it was probably not collected.
SUBTOTAL = "subtotal row"
LOW_COUNT = "probably not collected or partial"
# The note a not-collected count leaves on its row in the ledger (the row is used).
NOT_COLLECTED_NOTE = "not collected (blank or marked)"


def _not_collected(
    parsed: pd.DataFrame,
    spec: TableSpec,
    supplied: list[str],
    excluded: pd.Index,
    path: Path,
    notes: list[str] | None,
) -> pd.Series:
    """Ledger notes for rows with counts not collected (blank or a marker) in a ``gaps`` column
    the file has, by row index; and a note for the data-quality section naming the columns, how
    many periods each and which.

    The row is used: its not-collected counts are gaps (NaN) in the panel, never zeros, and its
    other counts are used as they are.
    """
    columns = [c for c in spec.gaps if c in supplied]
    if not columns or not len(parsed):
        return pd.Series(dtype=object)
    kept = np.ones(len(parsed), dtype=bool)
    kept[np.asarray(excluded, dtype="int64")] = False
    blank = parsed[columns].isna().to_numpy() & kept[:, None]
    rows = np.flatnonzero(blank.any(axis=1))
    if not len(rows):
        return pd.Series(dtype=object)
    names = np.array(columns, dtype=object)
    texts = [f"{NOT_COLLECTED_NOTE}: {', '.join(names[blank[i]])}; a gap, not a zero" for i in rows]
    if notes is not None:
        time_col = next((c for c in (*spec.periods, *spec.months) if c in parsed), None)
        counts = []
        for j, col in enumerate(columns):
            at = np.flatnonzero(blank[:, j])
            if not len(at):
                continue
            when = ""
            if time_col is not None:
                periods = parsed[time_col].iloc[at]
                shown = sorted({_period_text(p) for p in periods if p is not None})
                when = f" ({', '.join(shown[:6])}{', ...' if len(shown) > 6 else ''})"
            counts.append(f"{col} in {len(at)} row(s){when}")
        notes.append(
            f"{path.name}: not collected (blank or marked): {'; '.join(counts)}. These are "
            "gaps, left out of models, totals and comparisons, never read as 0."
        )
    return pd.Series(texts, index=pd.Index(rows, dtype="int64"), dtype=object)


def _period_text(period: object) -> str:
    """A month as ``2012-04``, a quarter as ``2012/13 Q1``."""
    if isinstance(period, pd.Period) and period.freqstr.startswith("Q"):
        return quarter_label(period, with_months=False)
    return str(period)


def check_excluded_share(ledger: pd.DataFrame, config: Config, path: Path | str) -> None:
    """Stop when too many rows of one file were excluded: the export is probably wrong.

    Run when a table is read and again after every later step (cross-table checks, duplicate
    removal), so that no step can push a file past the limit unnoticed. Three or more excluded
    rows are needed: one or two slips in a tiny file are listed, not fatal.
    """
    # Subtotal rows and counts set aside as probably not collected are not faults of the
    # export: they are listed, and do not count against the limit.
    reasons = ledger["reason"].astype("str")
    set_aside = reasons.str.startswith(SUBTOTAL) | reasons.str.contains(LOW_COUNT, regex=False)
    ledger = ledger[~set_aside.to_numpy()]
    excluded = ledger[ledger["status"] == "excluded"]
    if not len(ledger) or len(excluded) <= 2:
        return
    share = len(excluded) / len(ledger)
    if share <= config.max_excluded_share:
        return
    first = excluded.iloc[0]
    common = excluded["reason"].map(reason_category).value_counts().head(3)
    top = "; ".join(f"{n} x {reason}" for reason, n in common.items())
    raise DataContractError(
        f"{path}: {len(excluded)} of {len(ledger)} rows ({share:.0%}) break the data contract, "
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


def _empty(spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*spec.columns, "source_row"]})


def _exclude(
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


def _fold(area: object) -> str:
    """An area name reduced to its letters and digits, case folded: two names with one fold
    are one area spelt two ways (``North East``, ``north-east``, ``NORTH EAST``)."""
    return re.sub(r"[\W_]+", "", str(area).casefold())


def _check_area_spellings(frame: pd.DataFrame, source: str, paths: dict[str, Path]) -> None:
    """Stop when the areas of the referrals (or returns) include one area spelt two ways: each
    spelling would get its own page with part of the area's figures."""
    counts = frame["area"].value_counts()
    groups: dict[str, list[str]] = {}
    for area in counts.index:
        groups.setdefault(_fold(area), []).append(area)
    for names in groups.values():
        if len(names) < 2:
            continue
        rows = {
            n: frame.loc[frame["area"] == n, "source_row"].head(3).astype(int).tolist()
            for n in names
        }
        listed = "; ".join(
            f"{n!r}: {counts[n]} row(s), e.g. row(s) {', '.join(map(str, rows[n]))}" for n in names
        )
        raise DataContractError(
            f"{paths.get(source, source)}, column area: one area is spelt {len(names)} ways "
            f"({listed}), which would split its figures between {len(names)} pages. Correct the "
            "spelling so that every row of the area has the same name."
        )


def _check_population_areas(
    frame: pd.DataFrame, known: set[str], source: str, paths: dict[str, Path]
) -> None:
    """Stop when a main area of the referrals (or returns) is missing from population.csv:
    population.csv is then what needs correcting (usually the area spelt another way there),
    not the thousands of rows that would otherwise be excluded from the source.

    A main area has more than a twentieth of the source's rows; an area with a handful of rows
    that population.csv lacks is a misspelling in the source, excluded row by row.
    """
    counts = frame["area"].value_counts()
    folded = {_fold(a): a for a in known}
    for area, n in counts.items():
        if area in known or n <= max(2, len(frame) / 20):
            continue
        spelt = folded.get(_fold(area))
        hint = (
            f"; it is spelt {spelt!r} there"
            if spelt
            else f" (areas there: {', '.join(sorted(known))})"
        )
        raise DataContractError(
            f"{paths.get('population', 'population.csv')}, column area: no rows for {area!r}, "
            f"the area of {n:,} rows of {paths.get(source, source + '.csv')}{hint}. Correct the "
            f"area's name in population.csv to match {source} (or add the area's population), "
            "so that its rates and benchmarks can be worked out."
        )


def _check_areas(
    tables: dict[str, pd.DataFrame],
    ledger: pd.DataFrame,
    basis: str,
    paths: dict[str, Path] | None = None,
) -> pd.DataFrame:
    """Rows for an area the extract does not cover are excluded, not marked used and ignored.

    Every table with an area column is checked (staffing, police, MARAC, population, campaigns,
    events and any added later), so a new table cannot bring rows that count nowhere.

    The areas are those of the referrals (or returns). When population.csv is given, a referral
    row whose area is not in it is excluded too: usually a misspelling, which would otherwise
    become an area of its own with a handful of referrals.
    """
    source = "referrals" if basis == "records" else "returns"
    population = tables["population"]
    if len(population):
        known_pop = set(population["area"].dropna().unique().tolist())
        frame = tables[source]
        _check_population_areas(frame, known_pop, source, paths or {})
        odd = frame["area"].notna() & ~frame["area"].isin(known_pop)
        listed = ", ".join(sorted(known_pop))
        reasons = pd.Series(
            "area "
            + reprs(frame.loc[odd, "area"])
            + f" is not in population.csv (areas there: {listed}); correct "
            "the spelling, or add the area's population",
            index=frame.index[odd],
            dtype=object,
        )
        ledger = _exclude(tables, ledger, source, reasons)
    _check_area_spellings(tables[source], source, paths)
    known = set(tables[source]["area"].dropna().unique().tolist())
    folded = {_fold(a): a for a in known}
    for name, spec in TABLES.items():
        frame = tables[name]
        if name in ("referrals", "returns") or "area" not in spec.columns or not len(frame):
            continue
        # Campaigns and events with a blank area apply to every area.
        odd = frame["area"].notna() & ~frame["area"].isin(known)
        hints = (
            on_uniques(
                frame.loc[odd, "area"],
                lambda u: u.map(
                    lambda a: f" (spelt {folded[_fold(a)]!r} there)" if _fold(a) in folded else ""
                ).astype(object),
            )
            if odd.any()
            else np.array([], dtype=object)
        )
        reasons = pd.Series(
            "area "
            + reprs(frame.loc[odd, "area"])
            + f" has no rows in {source}"
            + hints
            + ", so this row is not used; correct "
            f"the area name if it should match one in {source}",
            index=frame.index[odd],
            dtype=object,
        )
        ledger = _exclude(tables, ledger, name, reasons)
    return ledger


def _check_subtotals(tables: dict[str, pd.DataFrame], ledger: pd.DataFrame) -> pd.DataFrame:
    """Quarter rows that are subtotals of month rows are set aside (ledgered, not counted).

    Monthly returns spreadsheets often carry a quarter's total below its three months. A
    quarter row whose three months are all given (same area, and programme) and which equals
    their sum in every count (a month not collected adds nothing, as a spreadsheet's SUM skips
    it) is a subtotal. A quarter that differs from its months is left in place, and the panel
    refuses it naming both rows, since which is right cannot be told.
    """
    for name in PERIOD_TOTALS:
        frame = tables[name]
        if not len(frame):
            continue
        spec = TABLES[name]
        keys = [k for k in spec.key if k != "period"]
        is_quarter = frame["period"].map(lambda p: p.freqstr.startswith("Q")).astype(bool)
        if not is_quarter.any() or is_quarter.all():
            continue
        counts = [c for c in spec.numbers if frame[c].notna().any()]
        # A blank programme is one key, not a NaN that matches nothing.
        keyed = frame[keys].astype(object).where(frame[keys].notna(), "")
        months = frame.loc[~is_quarter]
        by_key = {
            (*k, p): i
            for i, k, p in zip(
                months.index,
                keyed.loc[months.index].itertuples(index=False),
                months["period"],
                strict=True,
            )
        }
        reasons = {}
        for i in frame.index[is_quarter]:
            key = tuple(keyed.loc[i])
            inside = quarter_months(frame.at[i, "period"])
            rows = [by_key.get((*key, m)) for m in inside]
            if any(r is None for r in rows):
                continue
            sums = frame.loc[rows, counts].sum(min_count=1)
            value = frame.loc[i, counts]
            if all(
                pd.isna(value[c]) or (pd.notna(sums[c]) and abs(value[c] - sums[c]) < 0.5)
                for c in counts
            ):
                reasons[i] = (
                    f"{SUBTOTAL}: {quarter_label(frame.at[i, 'period'], with_months=False)} is "
                    f"the total of its months ({inside[0]} to {inside[-1]}), which are given on "
                    "their own rows; not counted twice"
                )
        ledger = _exclude(tables, ledger, name, pd.Series(reasons, dtype=object))
    return ledger


def _implausibly_low(values: pd.Series, expected: pd.Series) -> pd.Series:
    """Counts so far below what their series leads one to expect that they were probably not
    collected, or only in part: 0, or under a fifth of ``expected`` (the median of the
    series about a year either side, for the same length of period), and so far under it that
    chance would give such a count less than once in 10,000 periods (Poisson).

    The chance test keeps small series out: a MARAC month of 0 against a median of 2 is no
    sign of anything; a 0 against 140 referrals a month is.
    """
    from scipy.stats import poisson

    low = (values < expected / 5) & (expected > 0) & values.notna()
    chance = pd.Series(1.0, index=values.index)
    chance[low] = poisson.cdf(values[low], expected[low])
    return low & (chance < 1e-4)


def _series_tables(tables: dict[str, pd.DataFrame]):
    """Each table with count series (``TableSpec.series``) and rows, for the checks along a
    series: its name, spec, frame, time column, months per row (3 for a quarter, so counts
    compare a month) and its rows grouped by area in time order. Sorted by start date: a MARAC
    table may mix months and quarters, whose periods do not compare."""
    for name, spec in TABLES.items():
        frame = tables[name]
        if not spec.series or not len(frame):
            continue
        time_col = "month" if "month" in frame else "period"
        per_month = frame[time_col].map(lambda p: 3 if p.freqstr.startswith("Q") else 1)
        order = frame[time_col].map(_start).astype("datetime64[us]").sort_values().index
        yield name, spec, frame, time_col, per_month, frame.loc[order].groupby("area", sort=False)


def _check_series(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, config: Config
) -> pd.DataFrame:
    """Counts out of all proportion to their own series, or above the population, are excluded;
    so are counts implausibly low against it (probably not collected, or partial).

    Each count is compared with the median of its area's series over about a year either side
    (a quarterly figure counts as three months). More than ``max_count_jump`` times that median,
    or more than the area's adults, is a keying or unit error: 1e12 police crimes would
    otherwise become a trend of millions of per cent. A 0 or a count under a fifth of the median
    (see :func:`_implausibly_low`) is read as not collected: a gap, never a zero that would
    publish "100% fewer than a year earlier".
    """
    population = tables["population"]
    adults = (
        (population["females_16plus"] + population["males_16plus"])
        .groupby(population["area"])
        .max()
        if len(population)
        else pd.Series(dtype="float64")
    )
    for name, spec, frame, time_col, per_month, by_area in _series_tables(tables):
        reasons: dict[int, str] = {}
        for area, rows in by_area:
            for col in spec.series:
                values = rows[col] / per_month[rows.index]
                median = values.rolling(25, center=True, min_periods=1).median()
                high = (values > config.max_count_jump * median) & (median > 0)
                for i in rows.index[high]:
                    reasons.setdefault(
                        i,
                        f"{col}: {frame.at[i, col]:,.0f} is more than "
                        f"{config.max_count_jump:g} times the typical month of this series "
                        f"(median {median[i]:,.0f}; config max_count_jump); check the figure "
                        "and its units",
                    )
                low = _implausibly_low(rows[col], median * per_month[rows.index])
                for i in rows.index[low & ~high]:
                    reasons.setdefault(
                        i,
                        f"{col}: {frame.at[i, col]:,.0f} in {_period_text(frame.at[i, time_col])}"
                        f" is far below the typical month of this series (median "
                        f"{median[i]:,.0f}), so {LOW_COUNT}; the period is left out as a gap. "
                        "If it was not collected, leave the cell blank (or write "
                        "'not collected')",
                    )
                if area in adults.index:
                    above = rows[col] > adults[area]
                    for i in rows.index[above]:
                        reasons.setdefault(
                            i,
                            f"{col}: {frame.at[i, col]:,.0f} is more than the area's "
                            f"{adults[area]:,.0f} adults (population.csv); check the figure",
                        )
        ledger = _exclude(tables, ledger, name, pd.Series(reasons, dtype=object))
    return ledger


LEVEL_SHIFT = "level shift"
LEVEL_SHIFT_RATIO = 3.0  # the typical month after a month against before it, either way
LEVEL_SHIFT_MONTHS = 6  # at least this many months on each side (up to 12 compared)
LEVEL_SHIFT_MIN = 10.0  # the higher level at least this many a month (small series are noisy)


def _check_per_adult(tables: dict[str, pd.DataFrame], paths: dict[str, Path], basis: str) -> None:
    """Stop when a table's counts a year are more than its ``per_adult_ceiling`` share of the
    area's adults (population.csv): a whole file multiplied (police counts x5, referrals
    in the millions for a small area) passes every check against its own series.

    A year is the typical month (median, a quarter counting as three months) times 12 for a
    count column; for record-level referrals (``rows``), the most referrals in any calendar
    year. The adults are the area's largest estimate, so the check only ever errs towards
    letting a figure through.
    """
    population = tables["population"]
    if not len(population):
        return
    adults = (
        (population["females_16plus"] + population["males_16plus"])
        .groupby(population["area"])
        .max()
    )
    for name, spec in TABLES.items():
        frame = tables[name]
        if not spec.per_adult_ceiling or not len(frame) or name not in paths:
            continue
        if name == "returns" and basis == "records":
            continue
        for col, ceiling in spec.per_adult_ceiling.items():
            for area, rows in frame.groupby("area", sort=False):
                if area not in adults.index:
                    continue
                if col == "rows":
                    yearly = rows.groupby(rows["referral_date"].dt.year).size()
                    year = int(yearly.idxmax())
                    a_year, when = float(yearly.max()), f"in {year}"
                    what = "referrals"
                elif not spec.series:
                    # Counts of events (properties secured): the most in a calendar year, a
                    # blank count being one (one row per property).
                    time_col = "month" if "month" in rows else "period"
                    years = rows[time_col].map(_start).map(lambda t: t.year)
                    yearly = rows[col].fillna(1).groupby(years).sum()
                    year = int(yearly.idxmax())
                    a_year, when, what = float(yearly.max()), f"in {year}", col
                else:
                    time_col = "month" if "month" in rows else "period"
                    per_month = rows[time_col].map(lambda p: 3 if p.freqstr.startswith("Q") else 1)
                    monthly = (rows[col] / per_month).dropna()
                    if monthly.empty:
                        continue
                    a_year, when = 12 * float(monthly.median()), "a year (typical month x 12)"
                    what = col
                if a_year <= ceiling * adults[area]:
                    continue
                raise DataContractError(
                    f"{paths[name]}: {a_year:,.0f} {what} {when} for {area} is "
                    f"{a_year / adults[area]:.0%} of its {adults[area]:,.0f} adults "
                    f"(population.csv), above the plausible {ceiling:.0%} (see "
                    f"{CONTRACT_DOC}, {name}). Check the file's units or scale "
                    "(figures multiplied, or another area's data under this name) and the "
                    "area's population, then run again."
                )


def _check_partnership(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, paths: dict[str, Path]
) -> pd.DataFrame:
    """The partnership tables' plausibility across rows and tables (issue 20).

    Prevention rows naming a school not on the register are excluded (a misspelt school would
    otherwise count as engaged), and so are aggregate rows engaging more schools than the
    register has for their area and phase. Sanctuary costs whose median per property is above
    :data:`SANCTUARY_MEDIAN_COST_CEILING` (pence), and a programme with more completions than
    starts in all, stop the load naming the file and the fix.
    """
    from daanalysis.metrics.partnership import normalise_phase

    prevention, schools = tables["prevention"], tables["schools"]
    if len(prevention) and len(schools):
        register = {
            (a, _fold(s)): s for a, s in zip(schools["area"], schools["school"], strict=True)
        }
        named = prevention["school"].notna()
        folds = [
            (a, _fold(s)) if n else None
            for a, s, n in zip(prevention["area"], prevention["school"], named, strict=True)
        ]
        known = pd.Series([f is None or f in register for f in folds], index=prevention.index)
        # The register's spelling, so that one school is one school in every count.
        prevention.loc[named & known, "school"] = [
            register[f] for f, k, n in zip(folds, known, named, strict=True) if n and k
        ]
        reasons = {
            i: (
                f"school {prevention.at[i, 'school']!r} is not on the schools register "
                f"({paths.get('schools', 'schools.csv')}) for {prevention.at[i, 'area']}: an "
                "unknown school (a misspelling?), not counted as engaged. Correct the name to "
                "the register's spelling, or add the school to the register"
            )
            for i in prevention.index[~known]
        }
        on_register = schools.groupby([schools["area"], normalise_phase(schools["phase"])]).size()
        phases = normalise_phase(prevention["phase"])
        for i in prevention.index[~named & prevention["schools_engaged"].notna()]:
            n = on_register.get((prevention.at[i, "area"], phases[i]), 0)
            if prevention.at[i, "schools_engaged"] > n:
                reasons.setdefault(
                    i,
                    f"schools_engaged: {prevention.at[i, 'schools_engaged']:,.0f} "
                    f"{phases[i]} schools is more than the {n} on the register "
                    f"({paths.get('schools', 'schools.csv')}) for {prevention.at[i, 'area']} "
                    "(an engaged share above 100%); check the figure and the register",
                )
        ledger = _exclude(tables, ledger, "prevention", pd.Series(reasons, dtype=object))
    sanctuary = tables["sanctuary"]
    if len(sanctuary):
        single = sanctuary.loc[sanctuary["properties"].fillna(1) == 1, "cost"]
        median = single.median()
        if len(single) and median > SANCTUARY_MEDIAN_COST_CEILING:
            raise DataContractError(
                f"{paths['sanctuary']}, column cost: the median cost per property is "
                f"GBP {median:,.0f}, above the plausible GBP "
                f"{SANCTUARY_MEDIAN_COST_CEILING:,.0f} (home security measures cost about "
                "GBP 50 to 200, committee minutes). Are the costs in pence? Write them in "
                "pounds (153.38, not 15338), then run again."
            )
    programmes = tables["perpetrator_programme"]
    if len(programmes):
        keys = [programmes["area"], programmes["programme"].fillna("")]
        totals = programmes.groupby(keys)[["starts", "completions"]].sum()
        bad = totals[totals["completions"] > totals["starts"]]
        if len(bad):
            (area, programme), row = next(iter(bad.iterrows()))
            raise DataContractError(
                f"{paths['perpetrator_programme']}: {area}"
                f"{', ' + programme if programme else ''} has {row['completions']:,.0f} "
                f"completions against {row['starts']:,.0f} starts in all: more people cannot "
                "complete a programme than started it. Check that the starts and completions "
                "columns are not swapped and the figures are keyed right, then run again."
            )
    return ledger


def _check_level_shifts(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """Note a series whose typical month changes more than :data:`LEVEL_SHIFT_RATIO` times from
    one month on and stays there (the median of up to 12 months after against up to 12 before,
    at least :data:`LEVEL_SHIFT_MONTHS` each side): a change of counting, units or source. The
    rows are used as given (a real change cannot be told from a recording one); the first row of
    the new level carries the note in the ledger, and the data-quality notes say it.
    """
    for name, spec, frame, time_col, per_month, by_area in _series_tables(tables):
        noted: dict[int, str] = {}
        for area, rows in by_area:
            for col in spec.series:
                values = (rows[col] / per_month[rows.index]).dropna()
                months = per_month[values.index].cumsum().to_numpy()
                best = None
                for k in range(1, len(values)):
                    before = values.iloc[max(0, k - 12) : k]
                    after = values.iloc[k : k + 12]
                    if (
                        months[k - 1] < LEVEL_SHIFT_MONTHS
                        or months[-1] - months[k - 1] < LEVEL_SHIFT_MONTHS
                    ):
                        continue
                    low, high = sorted((before.median(), after.median()))
                    if high < LEVEL_SHIFT_MIN or high <= LEVEL_SHIFT_RATIO * low:
                        continue
                    # The step's month: where the mean log level either side differs most (a
                    # month of the new level on the old side pulls it back at once, which the
                    # medians hardly show).
                    ratio = abs(np.log1p(after).mean() - np.log1p(before).mean())
                    if best is None or ratio > best[0]:
                        best = (ratio, k, before.median(), after.median())
                if best is None:
                    continue
                _, k, before, after = best
                i = values.index[k]
                when = _period_text(frame.at[i, time_col])
                text = (
                    f"{LEVEL_SHIFT}: {col} moves from a typical {before:,.0f} a month to "
                    f"{after:,.0f} from {when} on and stays there; a change of counting, units "
                    "or source? Used as given: check it against the source"
                )
                noted[i] = f"{noted[i]}; {text}" if i in noted else text
                notes.append(f"{name}.csv, {area}: {text}.")
        if noted:
            ledger = _note(tables, ledger, name, pd.Series(noted, dtype=object))
    return ledger


COPY_NOTE = "probable copy"
COPY_MIN_TOTAL = 30  # a quarter's counts must add up to this for equal figures to mean a copy


def _check_copies(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """A quarter identical in every count to the same quarter a year before is noted as a
    probable copy (a row or a block of rows pasted forward), in the ledger and the notes.

    The rows stay in use: equal figures can be real, and which year is the copy cannot be
    told; the note asks for the source to be checked. Monthly rows compare as the quarter's
    three months; only counts the file holds, and only quarters whose counts add up to at least
    :data:`COPY_MIN_TOTAL` (small counts repeat by chance).
    """
    for name in ("returns", "police", "marac"):
        frame = tables[name]
        if not len(frame):
            continue
        spec = TABLES[name]
        time_col = "month" if "month" in spec.columns else "period"
        counts = [c for c in spec.numbers if frame[c].notna().any()]
        if not counts:
            continue
        quarter = frame[time_col].map(lambda p: p.asfreq(QUARTER_FREQ))
        position = frame[time_col].map(
            lambda p: (
                p.month - p.asfreq(QUARTER_FREQ).start_time.month
                if p.freqstr.startswith("M")
                else -1
            )
        )
        noted: dict[int, str] = {}
        copies = []
        for area, rows in frame.groupby("area", sort=False):
            blocks = {}
            for q, block in rows.groupby(quarter[rows.index], sort=False):
                # The quarter's figures in a fixed order: by month within it (or the one row).
                block = block.assign(_at=position[block.index]).sort_values("_at")
                if block["_at"].tolist() not in ([0, 1, 2], [-1]):
                    continue
                blocks[q] = (block.index, block[["_at", *counts]].to_numpy(dtype="float64"))
            for q, (index, values) in blocks.items():
                before = blocks.get(q - 4)
                if before is None or before[1].shape != values.shape:
                    continue
                figures = values[:, 1:]
                # Tiny counts repeat by chance (a MARAC of 1, 0, 2 two years running).
                if not np.nansum(figures) >= COPY_MIN_TOTAL:
                    continue
                same = np.array_equal(figures, before[1][:, 1:], equal_nan=True)
                if not same:
                    continue
                label = quarter_label(q, with_months=False)
                previous = quarter_label(q - 4, with_months=False)
                copies.append(f"{area} {label} (= {previous})")
                for i in index:
                    noted[i] = (
                        f"{COPY_NOTE}: {label} is identical in every count to {previous}; "
                        "check the source (a row pasted forward?)"
                    )
        if noted:
            ledger = _note(tables, ledger, name, pd.Series(noted, dtype=object))
            notes.append(
                f"{name}.csv: {len(copies)} quarter(s) identical in every count to the same "
                f"quarter a year before, probably copied: {', '.join(copies[:6])}"
                f"{', ...' if len(copies) > 6 else ''}. They are used as given; check them "
                "against the source."
            )
    return ledger


def _note(
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


def _check_staffing(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, config: Config, excluded_groups: set
) -> pd.DataFrame:
    """A team's month above ``max_fte_per_team`` is excluded; so is every remaining row of an
    area's month that lost a row, so that month shows no figure rather than a partial total."""
    frame = tables["staffing"]
    if not len(frame):
        return ledger
    # A subtotal row is set aside (its month is still whole: its rows are given on their own).
    ledger = _exclude(tables, ledger, "staffing", _staffing_subtotals(frame))
    frame = tables["staffing"]
    team_total = frame.groupby(["area", "month", "team"], dropna=False)["fte_in_post"].transform(
        "sum"
    )
    high = team_total > config.max_fte_per_team
    reasons = pd.Series(
        [
            f"team {t!r} has {v:g} FTE in post in {m}, above the plausible "
            f"{config.max_fte_per_team:g} (config max_fte_per_team); check the team's rows"
            for t, v, m in zip(
                frame.loc[high, "team"], team_total[high], frame.loc[high, "month"], strict=True
            )
        ],
        index=frame.index[high],
        dtype=object,
    )
    excluded_groups |= {
        (a, m) for a, m in zip(frame.loc[high, "area"], frame.loc[high, "month"], strict=True)
    }
    ledger = _exclude(tables, ledger, "staffing", reasons)
    frame = tables["staffing"]
    reasons = _fte_percentages(frame)
    excluded_groups |= {
        (a, m)
        for a, m in zip(
            frame.loc[reasons.index, "area"], frame.loc[reasons.index, "month"], strict=True
        )
    }
    ledger = _exclude(tables, ledger, "staffing", reasons)
    frame = tables["staffing"]
    reasons = _fte_out_of_line(frame)
    excluded_groups |= {
        (a, m)
        for a, m in zip(
            frame.loc[reasons.index, "area"], frame.loc[reasons.index, "month"], strict=True
        )
    }
    ledger = _exclude(tables, ledger, "staffing", reasons)
    frame = tables["staffing"]
    partial = pd.Series(
        [(a, m) in excluded_groups for a, m in zip(frame["area"], frame["month"], strict=True)],
        index=frame.index,
        dtype=bool,
    )
    reasons = frame.loc[partial, "month"].map(
        lambda m: (
            f"month {m} is incomplete: another staffing row of this area and month was "
            "excluded, so the month's FTE is left out rather than published as a partial total"
        )
    )
    return _exclude(tables, ledger, "staffing", reasons)


# A team or role named like this is a total of other rows, not staff of its own.
TOTAL_NAME = re.compile(
    r"^\s*(?:grand\s+)?totals?\b|\btotals?\s*$|\bsub[\s-]?totals?\b"
    r"|^\s*all(?:\s+(?:teams|staff|roles|services))?\s*$",
    re.I,
)
# A team and role's month this many times the median of its neighbouring months (or under its
# inverse), when those months are steady, is a keying slip (27.26 for 7.26, 0.73 for 7.3).
NEIGHBOUR_RATIO = 2.0
NEIGHBOUR_MONTHS = 6  # either side
NEIGHBOUR_MIN_FTE = 1.0  # and at least this far from it: one post's change in a small team
# Neighbouring months are steady when their interquartile ratio is at most this.
STEADY_RATIO = 1.5


def _staffing_subtotals(frame: pd.DataFrame) -> pd.Series:
    """Reasons for staffing rows that are subtotals of other rows, by index.

    A row whose team or role says Total, Subtotal or All; or a row equal, in FTE in post and
    funded, to the sum of its area's month's other rows (two or more, with FTE), when its team
    and role is no regular series: it appears in under half the area's months, or equals that
    sum in every month it appears. A real team's month that happens to equal the others' sum
    (5 = 4 + 1) is kept: it is a series of its own.
    """
    reasons: dict[int, str] = {}
    for col in ("team", "role"):
        named = frame[col].astype("string").fillna("").str.contains(TOTAL_NAME)
        for i in frame.index[named.to_numpy(dtype=bool)]:
            reasons.setdefault(
                i,
                f"{SUBTOTAL}: {col} {frame.at[i, col]!r} in {frame.at[i, 'month']} is a total "
                "of other rows, not staff of its own; not counted twice",
            )
    rest = frame.drop(index=list(reasons))
    if not len(rest):
        return pd.Series(reasons, dtype=object)
    group = rest.groupby(["area", "month"], dropna=False)
    equal = pd.Series(True, index=rest.index)
    for col in ("fte_in_post", "fte_funded"):
        others = group[col].transform("sum") - rest[col].fillna(0)
        equal &= rest[col].isna() | ((rest[col] - others).abs() < 0.005)
    with_fte = group["fte_in_post"].transform(lambda v: int((v > 0).sum())) - (
        rest["fte_in_post"] > 0
    )
    equal &= (with_fte >= 2) & (rest["fte_in_post"] > 0)
    if equal.any():
        series = ["area", "team", "role"]
        months = rest.groupby("area")["month"].transform("nunique")
        appears = rest.groupby(series, dropna=False)["month"].transform("nunique")
        always = equal.groupby([rest[c] for c in series], dropna=False).transform("all")
        for i in rest.index[(equal & ((appears < months / 2) | always)).to_numpy(dtype=bool)]:
            reasons[i] = (
                f"{SUBTOTAL}: {rest.at[i, 'team']} / {rest.at[i, 'role']} in "
                f"{rest.at[i, 'month']} ({rest.at[i, 'fte_in_post']:g} FTE) equals the sum of "
                "the month's other rows; not counted twice"
            )
    return pd.Series(reasons, dtype=object)


def _fte_out_of_line(frame: pd.DataFrame) -> pd.Series:
    """Reasons for staffing rows far out of line with their own team and role's neighbouring
    months, by index: more than :data:`NEIGHBOUR_RATIO` times the median of up to
    :data:`NEIGHBOUR_MONTHS` months either side (or under its inverse), and at least
    :data:`NEIGHBOUR_MIN_FTE` from it, when those months are steady (interquartile ratio at most
    :data:`STEADY_RATIO`) and at least four are given.

    Catches slips the percentage and per-row limits miss: 27.26 keyed for 7.26 (3.75 times),
    0.73 for 7.3. A real change of staffing moves the neighbours too (a step up leaves them
    unsteady around it), so it is not flagged; a month of a steady series that halves and
    recovers is, and the month then shows no figure.
    """
    reasons: dict[int, str] = {}
    order = frame["month"].map(_start).astype("datetime64[us]").sort_values().index
    for _, rows in frame.loc[order].groupby(["area", "team", "role"], dropna=False, sort=False):
        if len(rows) < 5:
            continue
        for col in ("fte_in_post", "fte_funded"):
            values = rows[col].to_numpy(dtype="float64")
            months = rows["month"].tolist()
            for k, i in enumerate(rows.index):
                value = values[k]
                if np.isnan(value):
                    continue
                around = np.concatenate(
                    [
                        values[max(0, k - NEIGHBOUR_MONTHS) : k],
                        values[k + 1 : k + 1 + NEIGHBOUR_MONTHS],
                    ]
                )
                around = around[~np.isnan(around)]
                if len(around) < 4:
                    continue
                median = float(np.median(around))
                q1, q3 = np.percentile(around, [25, 75])
                if median <= 0 or q1 <= 0 or q3 / q1 > STEADY_RATIO:
                    continue
                ratio = value / median
                if abs(value - median) < NEIGHBOUR_MIN_FTE or 1 / NEIGHBOUR_RATIO <= ratio <= (
                    NEIGHBOUR_RATIO
                ):
                    continue
                reasons.setdefault(
                    i,
                    f"{col}: {value:g} in {months[k]} is {ratio:.2g} times the median of this "
                    f"team and role's months around it ({median:g} FTE), which are steady; "
                    "probably a keying slip (a digit added or lost), so the month shows no "
                    "figure. Check the figure in the source",
                )
    return pd.Series(reasons, dtype=object)


# An FTE about a hundred times what it should be is a percentage (80 for 0.8 FTE): a value this
# many times its own series' median, or its row's other FTE, within these bounds.
PERCENT_RATIO = (100 / 3, 300)


def _fte_percentages(frame: pd.DataFrame) -> pd.Series:
    """Reasons for staffing rows whose FTE looks like a percentage (80 for 0.8), by index.

    Below ``max_fte_per_row`` such a value passes every other check: 30 for a 0.3 FTE post
    would add 30 caseworkers. Two signs, each about 100 times: the value against the median of
    its own team and role's series (about a year either side), and FTE in post against FTE
    funded on the same row.
    """
    low, high = PERCENT_RATIO
    reasons: dict[int, str] = {}
    order = frame["month"].map(_start).astype("datetime64[us]").sort_values().index
    ordered = frame.loc[order]
    for _, rows in ordered.groupby(["area", "team", "role"], dropna=False, sort=False):
        for col in ("fte_in_post", "fte_funded"):
            median = rows[col].rolling(25, center=True, min_periods=1).median()
            ratio = rows[col] / median
            for i in rows.index[((ratio >= low) & (ratio <= high) & (rows[col] >= 1)).to_numpy()]:
                reasons.setdefault(
                    i,
                    f"{col}: {frame.at[i, col]:g} looks like a percentage: this team and role's "
                    f"typical month is {median[i]:.3g} FTE (the median of its series); write "
                    "FTE as a fraction (0.8 for 80%)",
                )
    ratio = frame["fte_in_post"] / frame["fte_funded"]
    for i in frame.index[
        ((ratio >= low) & (ratio <= high)) | ((ratio <= 1 / low) & (ratio >= 1 / high))
    ]:
        reasons.setdefault(
            i,
            f"fte_in_post {frame.at[i, 'fte_in_post']:g} and fte_funded "
            f"{frame.at[i, 'fte_funded']:g} differ about a hundredfold: one looks like a "
            "percentage; write FTE as a fraction (0.8 for 80%)",
        )
    return pd.Series(reasons, dtype=object)


def _excluded_groups(ledger: pd.DataFrame, raw_groups: dict[int, tuple]) -> set:
    """(area, month) of staffing rows excluded on reading, other than as exact duplicates."""
    rows = ledger[(ledger["table"] == "staffing") & (ledger["status"] == "excluded")]
    return {
        raw_groups[r]
        for r, reason in zip(rows["row"], rows["reason"], strict=True)
        if r in raw_groups and not reason.startswith("duplicate of row")
    }


def _staffing_groups(path: Path, config: Config) -> dict[int, tuple]:
    """Row number to (area, month) for every staffing row whose month can be read."""
    raw = _tidy_header(_read_raw(path), path)
    area = (
        tidy_column(raw["area"]).fillna(config.default_area)
        if "area" in raw
        else config.default_area
    )
    months = _parse_with_formats(raw["month"], READ_MONTH_FORMATS).dt.to_period(MONTH_FREQ)
    frame = pd.DataFrame({"area": area, "month": months})
    return {
        i + 2: (a, m)
        for i, (a, m) in enumerate(zip(frame["area"], frame["month"], strict=True))
        if not pd.isna(m)
    }


def load_extract(
    data_dir: str | Path,
    config: Config | None = None,
    salt: bytes | None = None,
) -> Extract:
    """Load every table of the data contract from ``data_dir``.

    Needs ``referrals`` (record-level) or ``returns`` (aggregate); the other tables are optional
    and a missing or empty one only switches off the sections that use it, with a note. ``salt``
    keys the client pseudonyms; give the same salt to link clients across runs.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataContractError(
            f"{data_dir}: data folder not found. Point --data (or the notebook's data_dir "
            "parameter) at the folder holding referrals.csv or returns.csv."
        )
    config = config or read_config(data_dir / "config.csv")
    vintage, vintage_notes, vintage_text = _read_vintage(data_dir)
    extract = extract_date(config, vintage_text)
    no_basis = DataContractError(
        f"{data_dir}: neither referrals.csv/.xlsx (record-level) nor returns.csv/.xlsx "
        f"(aggregate) found, or both are empty. See {CONTRACT_DOC}."
    )
    if find_file(data_dir, "referrals") is None and find_file(data_dir, "returns") is None:
        raise no_basis  # before any other file's faults, which would hide the cause
    unread = check_files(data_dir)
    tables: dict[str, pd.DataFrame] = {}
    ledgers: list[pd.DataFrame] = [pd.DataFrame(columns=LEDGER_COLUMNS)]
    paths: dict[str, Path] = {}
    notes: list[str] = vintage_notes + list(unread)
    for name, spec in TABLES.items():
        path = find_file(data_dir, name)
        if path is not None and path.name not in (f"{name}{s}" for s in TABLE_SUFFIXES):
            canonical = f"{name}{path.suffix.lower()}"
            unread.append(f"{path.name} was read as the {name} table ({canonical}).")
            notes.append(unread[-1])
        if path is not None and path.stat().st_size == 0 and not spec.essential:
            notes.append(f"{path.name} is an empty file, so it was not used.")
            path = None
        if path is None:
            tables[name] = _empty(spec)
            if name in OPTIONAL_USES:
                notes.append(f"No {name}.csv: {OPTIONAL_USES[name]} are not available.")
            continue
        if path.suffix.lower() == ".csv":
            # The header alone, before the rows (an XLSX header is checked on reading).
            _repeated_column(path, next(iter(_first_rows(path, 1)), []))
        frame, ledger = read_table(path, spec, config, extract, notes)
        if not len(frame) and name in OPTIONAL_USES:
            notes.append(
                f"{path.name} has no usable rows: {OPTIONAL_USES[name]} are not available."
            )
        tables[name] = frame
        paths[name] = path
        ledgers.append(ledger)
    if len(tables["referrals"]):
        basis = "records"
    elif len(tables["returns"]):
        basis = "aggregates"
        notes.append(
            "Only aggregate returns were supplied: repeat rates, open caseload and response times "
            "need record-level referrals."
        )
    else:
        raise no_basis
    if basis == "records" and "returns" in paths:
        ledger_returns = ledgers[list(paths).index("returns") + 1]
        ledger_returns.loc[ledger_returns["status"] == "used", ["status", "reason"]] = [
            "excluded",
            "returns are not used when record-level referrals are supplied",
        ]
        tables["returns"] = _empty(TABLES["returns"])
    ledger = _join_ledgers(ledgers)
    gap_months: dict[str, list[str]] = {}
    groups = _staffing_groups(paths["staffing"], config) if "staffing" in paths else {}
    ledger = _check_subtotals(tables, ledger)
    ledger = _check_areas(tables, ledger, basis, paths)
    # A whole file out of scale first: its month-by-month faults would only hide the cause.
    _check_per_adult(tables, paths, basis)
    ledger = _check_series(tables, ledger, config)
    ledger = _check_copies(tables, ledger, notes)
    ledger = _check_partnership(tables, ledger, paths)
    ledger = _check_level_shifts(tables, ledger, notes)
    ledger = _check_staffing(tables, ledger, config, _excluded_groups(ledger, groups))
    if basis == "records":
        mapping_dir = data_dir / "mappings"
        _release_arrow_memory()  # what reading and checking freed, before cleaning needs more
        tables["referrals"], ledger = clean.clean_referrals(
            tables["referrals"], ledger, mapping_dir=mapping_dir, salt=salt
        )
        _check_empty_months(tables, config, paths["referrals"])
        ledger, gap_months = _check_low_record_months(tables, ledger, notes, paths["referrals"])
    if len(tables["action_plan"]):
        tables["action_plan"], ledger = clean.clean_action_plan(tables["action_plan"], ledger)
    notes += _population_notes(tables, basis)
    # The share limit again, after every step: duplicates removed in cleaning, rows for unknown
    # areas or implausible counts all count against it.
    table, names = pd.factorize(ledger["table"])
    for name, path in paths.items():
        if name == "returns" and basis == "records":
            continue  # not used at all (see above), which is not a fault of the file
        check_excluded_share(ledger[table == names.get_indexer([name])[0]], config, path)
    notes.append(
        f"Nothing dated after {extract[0]:%d/%m/%Y} (the extract date, from {extract[1]})."
    )
    _release_arrow_memory()
    return Extract(
        tables, ledger, config, data_dir, basis, vintage, notes, gap_months=gap_months, files=unread
    )


def _month_ranges(months: list[pd.Period]) -> str:
    """``2025-07 to 2025-09, 2026-01``: consecutive months as ranges."""
    runs: list[list[pd.Period]] = []
    for month in sorted(months):
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs)


def _check_empty_months(tables: dict[str, pd.DataFrame], config: Config, path: Path) -> None:
    """Stop when an area has no referrals at all in a month between its first and last, while
    its typical month has at least ``max_count_jump`` of them: the extract is missing months
    (an export cut into parts, a date filter), and a zero there would be a figure, not a gap.

    Months inside a ``temporary`` event in events.csv (for the area, or for every area) are
    allowed: a service closed for a lockdown is declared there.
    """
    referrals = tables["referrals"]
    # Month numbers from NumPy, not Period objects: this runs over every referral.
    months = referrals["referral_date"].to_numpy().astype("datetime64[M]")
    areas, names = pd.factorize(referrals["area"])
    events = tables["events"]
    temporary = events[(events["kind"] == "temporary") & events["end_date"].notna()]
    dated = ~np.isnat(months)
    for code, area in enumerate(names):
        mine = months[(areas == code) & dated]
        if not len(mine):
            continue
        seen, counts = np.unique(mine, return_counts=True)
        span = np.arange(seen[0], seen[-1] + 1)
        full = np.zeros(len(span), dtype="int64")
        full[np.searchsorted(span, seen)] = counts
        empty = {pd.Period(str(m), MONTH_FREQ) for m in span[full == 0]}
        typical = float(np.median(full))
        if not empty or typical < config.max_count_jump:
            continue
        for _, event in temporary.iterrows():
            if pd.isna(event["area"]) or event["area"] == area:
                empty -= set(
                    pd.period_range(
                        event["start_date"].to_period(MONTH_FREQ),
                        event["end_date"].to_period(MONTH_FREQ),
                        freq=MONTH_FREQ,
                    )
                )
        if empty:
            raise DataContractError(
                f"{path}, column referral_date: no referrals at all for {area} in "
                f"{_month_ranges(list(empty))}, though its typical month has {typical:.0f}: the "
                "extract is probably missing those months (an export in parts, or a date "
                "filter). Export them again. If the service really took no referrals then (it "
                "was closed), declare the closure in events.csv as a temporary event."
            )


def _check_low_record_months(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, notes: list[str], path: Path
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Months with implausibly few referrals against the area's own series (see
    :func:`_implausibly_low`): probably an export that lost part of the month.

    Their referrals stay in use (each is a real case, open until it closes), with a note in the
    ledger; the months are returned by area, for the panel to show their referral counts as
    gaps rather than as a fall. A month with none at all is :func:`_check_empty_months`'
    error; the last month, when partial, is the panel's ``complete`` flag.
    """
    referrals = tables["referrals"]
    months = referrals["referral_date"].to_numpy().astype("datetime64[M]")
    areas, names = pd.factorize(referrals["area"])
    dated = ~np.isnat(months)
    gaps: dict[str, list[str]] = {}
    flagged = np.zeros(len(referrals), dtype=bool)
    texts = np.empty(len(referrals), dtype=object)
    for code, area in enumerate(names):
        mine = (areas == code) & dated
        seen, counts = np.unique(months[mine], return_counts=True)
        if len(seen) < 3:
            continue
        span = np.arange(seen[0], seen[-1] + 1)
        full = np.zeros(len(span), dtype="int64")
        full[np.searchsorted(span, seen)] = counts
        series = pd.Series(full, dtype="float64")
        median = series.rolling(25, center=True, min_periods=1).median()
        low = _implausibly_low(series, median).to_numpy(copy=True)
        low[-1] = False  # a partial last month is the panel's to leave out
        for i in np.flatnonzero(low):
            month = str(span[i])[:7]
            gaps.setdefault(area, []).append(month)
            at = mine & (months == span[i])
            flagged |= at
            texts[at] = (
                f"referral_date: month {month} has {full[i]:,} referrals against a typical "
                f"{median[i]:,.0f} (the median of its series), so {LOW_COUNT}; its referral "
                "counts are left out as a gap (each referral is still counted as a case). "
                "Export the month again"
            )
    if not gaps:
        return ledger, gaps
    rows = pd.Series(texts[flagged], index=referrals.index[flagged], dtype=object)
    ledger = _note(tables, ledger, "referrals", rows)
    listed = "; ".join(f"{area}: {', '.join(m)}" for area, m in gaps.items())
    notes.append(
        f"{path.name}: months with far fewer referrals than the series around them, probably "
        f"exported in part ({listed}): their referral counts are gaps, left out of models and "
        "comparisons."
    )
    return ledger, gaps


def _population_notes(tables: dict[str, pd.DataFrame], basis: str) -> list[str]:
    """A note for each area whose population estimates end before its data do: its rates for
    the later years use the last estimate (the panel carries it forward)."""
    population = tables["population"]
    if not len(population):
        return []
    if basis == "records":
        source = tables["referrals"]
        last = source["referral_date"].groupby(source["area"]).max().dt.to_period(MONTH_FREQ)
    else:
        source = tables["returns"]
        ends = source["period"].map(lambda p: p.asfreq(MONTH_FREQ, how="end"))
        last = ends.groupby(source["area"]).max()
    notes = []
    latest = population.groupby("area")["year"].max()
    for area, month in last.items():
        if area not in latest.index:
            continue
        year = month.year if month.month >= 4 else month.year - 1  # the financial year's start
        if year > latest[area]:
            notes.append(
                f"population.csv has no estimate for {area} after {latest[area]:.0f}: rates "
                f"per adult for {latest[area] + 1:.0f}/{(latest[area] + 2) % 100:02.0f} "
                f"onwards use the {latest[area]:.0f} estimate. Add the latest mid-year "
                "estimate when ONS publishes it."
            )
    return notes


def _join_ledgers(ledgers: list[pd.DataFrame]) -> pd.DataFrame:
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


VINTAGE_LIMIT = 200  # characters of the VINTAGE line shown on the pages


def _read_vintage(data_dir: Path) -> tuple[str, list[str], str]:
    """The VINTAGE line (UTF-8, or Windows-1252 as Notepad may save it), notes about it, and the
    file's text, in which :func:`extract_date` looks for the extract date.

    It is printed on every page and the spreadsheet's cover, so it is read only from a regular
    file inside the data folder (a symlink leading out of it, a folder or a device is refused:
    the pack would publish whatever file it points at), must be text (no control characters),
    and is one line: the first non-blank line is used and a note says so when there are more
    (a description with an afterthought, or ``extract_date: ...`` on a line of its own, is no
    reason to stop a run; only the one line is shown), cut to ``VINTAGE_LIMIT`` characters with a
    note when longer. The extract date may be on any line.
    """
    import stat

    path = data_dir / "VINTAGE"
    if not path.is_symlink() and not path.exists():
        return "", [], ""
    fix = "Make VINTAGE a plain text file in the data folder holding one line that describes "
    target = path.resolve()
    if not target.is_relative_to(data_dir.resolve()):
        raise DataContractError(
            f"{path}: VINTAGE is a link to {target}, outside the data folder, so it was not read "
            f"(the pack would print that file on every page). {fix}the extract."
        )
    if not target.exists() or not stat.S_ISREG(target.stat().st_mode):
        what = "a broken link" if not target.exists() else "a folder or device"
        raise DataContractError(
            f"{path}: VINTAGE is not a regular file ({what}). {fix}the extract."
        )
    with target.open("rb") as handle:
        data = handle.read(64 * 1024)  # enough for any one line; a huge file is not read whole
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "", [], ""
    bad = re.search(r"[\x00-\x08\x0b-\x1f\x7f]", lines[0])
    if bad:
        raise DataContractError(
            f"{path}, line 1: VINTAGE holds the control character {bad.group(0)!r}, so it is not "
            f"plain text. {fix}the extract, e.g. 'extract taken 05/10/2026'."
        )
    line, notes = lines[0].replace("\t", " "), []
    if len(lines) > 1:
        notes.append(
            f"VINTAGE has {len(lines)} lines; only the first is shown. Keep it to one line."
        )
    if len(line) > VINTAGE_LIMIT:
        line = line[: VINTAGE_LIMIT - 1].rstrip() + "\u2026"
        notes.append(
            f"VINTAGE is longer than {VINTAGE_LIMIT} characters; it is shown cut short. "
            "Keep it to a short description of the extract."
        )
    return line, notes, "\n".join(lines)


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
