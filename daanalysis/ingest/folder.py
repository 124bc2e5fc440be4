"""Which files of a data folder are read: each table's file found in any case, and every other
file accounted for (read, passed over, or an error when it looks like a table that would be left
out).
"""

from __future__ import annotations

from pathlib import Path

from daanalysis.ingest.extract import CONTRACT_DOC, DataContractError
from daanalysis.ingest.schema import TABLES

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
