"""A table's header row: column names in the contract's form (snake case, invisible characters
removed), a column named twice refused, and the hints for a header that is not on row 1 or whose
columns are separated by ';' or tabs.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from daanalysis.ingest.clean import tidy
from daanalysis.ingest.extract import DataContractError
from daanalysis.ingest.schema import TableSpec


def snake(name: object) -> str:
    """A header as the contract names columns: tidied, lower case, spaces and hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", tidy(str(name)).lower())


def first_rows(path: Path, n: int = 30) -> list[list[str]]:
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
        return [row for _, row in zip(range(n), csv.reader(io.StringIO(text)), strict=False)]
    except Exception:  # noqa: BLE001 - only a hint for a message
        return []


def header_hint(path: Path, spec: TableSpec) -> str:
    """Where the header is, when it is not on row 1: title rows or a merged heading above it."""
    for i, row in enumerate(first_rows(path)[1:], start=2):
        names = {snake(cell) for cell in row}
        if set(spec.required) <= names:
            return (
                f" Row {i} holds the header ({', '.join(c for c in row if str(c).strip())}): "
                f"the {i - 1} row(s) above it (a title, a note or a merged heading) must go. "
                f"Delete {'row 1' if i == 2 else f'rows 1 to {i - 1}'} so that the header is "
                "on row 1, and save again."
            )
    return ""


def separator_hint(path: Path) -> str:
    """A fix for a header that is one column: the columns were separated by ';' or tabs."""
    rows = first_rows(path, 1)
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


def refuse_repeated_column(path: Path, header: list[object]) -> None:
    """Refuse a header naming one column twice (``month`` and ``Month``, or names that differ
    only in spacing or characters that do not print): which of the two holds the data cannot
    be told, and a table with a repeated column cannot be checked."""
    seen: dict[str, object] = {}
    for original in header:
        name = snake(original)
        if not name or name.startswith("unnamed:"):
            continue  # a blank header cell: pandas names it apart
        if name in seen:
            raise DataContractError(
                f"{path}, row 1 (header), column {name!r}: the header has it twice "
                f"({seen[name]!r} and {original!r}, which differ only in case, spacing or "
                "characters that do not print). Delete or rename one of them."
            )
        seen[name] = original


def tidy_header(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Column names with invisible characters removed and compatibility forms folded (a
    zero-width space or a non-breaking space in ``referral_id`` would hide the column).

    Two columns that become one name are an error naming both, not a frame with a repeated
    column. Names that need no tidying are left exactly as read.
    """
    names = [snake(c) for c in raw.columns]
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
