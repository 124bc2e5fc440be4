"""What an XLSX workbook hides from a reader: hidden sheets, and formulas whose values were never
calculated and saved (read as blank).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from daanalysis.ingest.extract import DataContractError


def hidden_sheets(path: Path) -> set[str]:
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
        return True  # let openpyxl open it (and read_raw report it)
    return False


def refuse_uncalculated_formulas(path: Path) -> None:
    """Refuse a workbook with formulas whose values were never calculated and saved.

    A workbook stores a formula and, once Excel has calculated it, its value; one written by a
    script (openpyxl, a report tool) often holds the formula alone, and its cells read as blank:
    closed dates written ``=DATE(2024,5,1)`` made every case open. Such cells are a
    :class:`DataContractError` naming the sheet, the column and the cells, and how to fix it.
    The workbook is scanned for formulas first (openpyxl, read-only), and read a second time for
    their saved values only when it has any.
    """
    # openpyxl is imported when a workbook is read (it is slow to import, and CSV needs none).
    import openpyxl
    from openpyxl.utils import get_column_letter

    if not _has_formulas(path):
        return  # the usual case, found from the sheets' XML in a fraction of openpyxl's time
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - a workbook that cannot be opened: read_raw says so
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
