"""Load a data folder: every table of the data contract read, checked across tables and cleaned,
to an :class:`~daanalysis.ingest.extract.Extract` (tables, row ledger, notes).

The steps, each in its own module: :mod:`~daanalysis.ingest.folder` (which files are read),
:mod:`~daanalysis.ingest.vintage` (VINTAGE and the extract date), :mod:`~daanalysis.ingest.table`
(one file to its used rows and ledger, through :mod:`~daanalysis.ingest.read`,
:mod:`~daanalysis.ingest.header` and :mod:`~daanalysis.ingest.parse`),
:mod:`daanalysis.ingest.checks` (plausibility across rows and tables) and
:mod:`~daanalysis.ingest.clean` (labels, duplicates, pseudonyms). Structural problems raise
:class:`DataContractError` naming the file, row, column and the fix; row-level problems exclude the
row and list it in the ledger (:mod:`~daanalysis.ingest.ledger`), so every input row is used or
accounted for.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from daanalysis.config import Config, read_config
from daanalysis.ingest import clean
from daanalysis.ingest.checks.areas import check_areas, check_listed_twice, population_notes
from daanalysis.ingest.checks.partnership import check_partnership
from daanalysis.ingest.checks.records import check_empty_months, check_low_record_months
from daanalysis.ingest.checks.series import (
    check_copies,
    check_level_shifts,
    check_per_adult,
    check_series,
    check_subtotals,
)
from daanalysis.ingest.checks.staffing import check_staffing, excluded_groups
from daanalysis.ingest.extract import (
    CONTRACT_DOC,
    DataContractError,
    Extract,
    add_note,
    reason_category,
)
from daanalysis.ingest.folder import TABLE_SUFFIXES, check_files, find_file
from daanalysis.ingest.header import first_rows, refuse_repeated_column, snake
from daanalysis.ingest.ledger import (
    LEDGER_COLUMNS,
    check_excluded_share,
    join_ledgers,
    ledger_problems,
    ledger_summary,
)
from daanalysis.ingest.read import release_arrow_memory
from daanalysis.ingest.schema import TABLES
from daanalysis.ingest.table import empty_table, read_table
from daanalysis.ingest.vintage import extract_date, read_vintage

# What callers import from here: the entry point, its error, and the ledger's views.
__all__ = [
    "OPTIONAL_USES",
    "DataContractError",
    "Extract",
    "ledger_problems",
    "ledger_summary",
    "load_extract",
    "read_table",
    "reason_category",
]

# Tables whose absence switches off sections of the pack, and what it switches off.
OPTIONAL_USES = {
    "staffing": "caseload per FTE and the staffing gap",
    "police": "police-recorded figures (the main need-sensitive control)",
    "marac": "MARAC volumes and the MARAC benchmark",
    "population": "rates per 1,000 adults and the MARAC benchmark",
}


def _tables_as_sheets(data_dir: Path) -> str:
    """What to do when the tables came as the sheets of one workbook (a 'Referrals' sheet and a
    'Police' sheet in 'DA extract.xlsx'): each table is read from a file of its own name."""
    found = []
    for path in sorted(data_dir.glob("*.xlsx")):
        if path.name.startswith(("~$", ".")) or path.stem.lower() in TABLES:
            continue
        try:
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            names = list(book.sheetnames)
            book.close()
        except Exception:  # noqa: BLE001 - only a hint for the message
            continue
        tables = [n for n in names if snake(n) in TABLES]
        if tables:
            found.append(
                f" {path.name} holds sheets named like tables ({', '.join(map(repr, tables))}):"
                " each table is read from a file of its own, so save each of those sheets as "
                f"its own workbook or CSV named after its table ({snake(tables[0])}.xlsx or "
                f"{snake(tables[0])}.csv, and so on) in the data folder."
            )
    return "".join(found)


def _refuse_mixed_basis(tables: dict[str, pd.DataFrame], returns_path: Path) -> None:
    """Stop when returns.csv holds areas that referrals.csv does not: an extract is read from
    record-level referrals when they are supplied, so those areas' figures would be lost."""
    returns, referrals = tables["returns"], tables["referrals"]
    only = sorted(set(returns["area"].dropna()) - set(referrals["area"].dropna()))
    if not only:
        return
    rows = returns.loc[returns["area"] == only[0], "source_row"].head(3).astype(int).tolist()
    raise DataContractError(
        f"{returns_path}, column area: {', '.join(map(repr, only))} "
        f"{'has' if len(only) == 1 else 'have'} aggregate returns but no record-level referrals "
        f"(e.g. row(s) {', '.join(map(str, rows))}). An extract is read from referrals.csv when "
        "it is supplied, so these areas' figures would not be used. Run them from a data "
        "folder of their own (returns.csv with their other files), or supply their referrals "
        "in referrals.csv."
    )


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
    vintage, vintage_notes, vintage_text = read_vintage(data_dir)
    extract = extract_date(config, vintage_text)
    no_basis = DataContractError(
        f"{data_dir}: neither referrals.csv/.xlsx (record-level) nor returns.csv/.xlsx "
        f"(aggregate) found, or both are empty. See {CONTRACT_DOC}." + _tables_as_sheets(data_dir)
    )
    if find_file(data_dir, "referrals") is None and find_file(data_dir, "returns") is None:
        raise no_basis  # before any other file's faults, which would hide the cause
    unread = check_files(data_dir)
    tables: dict[str, pd.DataFrame] = {}
    ledgers: list[pd.DataFrame] = [pd.DataFrame(columns=LEDGER_COLUMNS)]
    paths: dict[str, Path] = {}
    notes: list[str] = vintage_notes + list(unread)
    area_notes: dict[str, list[str]] = {}  # the notes about one area only (Extract.area_notes)
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
            tables[name] = empty_table(spec)
            if name in OPTIONAL_USES:
                notes.append(f"No {name}.csv: {OPTIONAL_USES[name]} are not available.")
            continue
        if path.suffix.lower() == ".csv":
            # The header alone, before the rows (an XLSX header is checked on reading).
            refuse_repeated_column(path, next(iter(first_rows(path, 1)), []))
        frame, ledger = read_table(path, spec, config, extract, notes, area_notes)
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
        # Returns may carry the open caseload at each period end (open_cases_end): then only
        # what needs each referral's dates is missing.
        has_caseload = (
            "open_cases_end" in tables["returns"]
            and tables["returns"]["open_cases_end"].notna().any()
        )
        missing = (
            "repeat rates and response times"
            if has_caseload
            else "repeat rates, open caseload and response times"
        )
        notes.append(
            f"Only aggregate returns were supplied: {missing} need record-level referrals."
        )
    else:
        raise no_basis
    if basis == "records" and "returns" in paths:
        _refuse_mixed_basis(tables, paths["returns"])
        ledger_returns = ledgers[list(paths).index("returns") + 1]
        ledger_returns.loc[ledger_returns["status"] == "used", ["status", "reason"]] = [
            "excluded",
            "returns are not used when record-level referrals are supplied",
        ]
        tables["returns"] = empty_table(TABLES["returns"])
    ledger = join_ledgers(ledgers)
    gap_months: dict[str, list[str]] = {}
    ledger = check_subtotals(tables, ledger)
    ledger = check_areas(tables, ledger, basis, paths, notes)
    ledger = check_listed_twice(tables, ledger)
    # A whole file out of scale first: its month-by-month faults would only hide the cause.
    check_per_adult(tables, paths, basis)
    ledger = check_series(tables, ledger, config)
    ledger = check_copies(tables, ledger, notes, area_notes)
    ledger = check_partnership(tables, ledger, paths)
    ledger = check_level_shifts(tables, ledger, notes, area_notes)
    ledger = check_staffing(
        tables, ledger, config, excluded_groups(ledger, paths.get("staffing"), config)
    )
    if basis == "records":
        mapping_dir = data_dir / "mappings"
        release_arrow_memory()  # what reading and checking freed, before cleaning needs more
        tables["referrals"], ledger = clean.clean_referrals(
            tables["referrals"], ledger, mapping_dir=mapping_dir, salt=salt
        )
        check_empty_months(tables, config, paths["referrals"])
        ledger, gap_months = check_low_record_months(
            tables, ledger, notes, paths["referrals"], area_notes
        )
    if len(tables["action_plan"]):
        tables["action_plan"], ledger = clean.clean_action_plan(tables["action_plan"], ledger)
    for area, text in population_notes(tables, basis):
        add_note(notes, area_notes, area, text)
    # The share limit again, after every step: duplicates removed in cleaning, rows for unknown
    # areas or implausible counts all count against it.
    table, names = pd.factorize(ledger["table"])
    # The areas each file's rows are judged by, one by one: the source's, and population.csv's,
    # which names an area even when every one of its source rows was excluded.
    source = tables["referrals" if basis == "records" else "returns"]
    areas = sorted({*source["area"].dropna(), *tables["population"]["area"].dropna()})
    area_faults: dict[str, str] = {}  # an area whose own rows broke the limit: Extract.area_faults
    for name, path in paths.items():
        if name == "returns" and basis == "records":
            continue  # not used at all (see above), which is not a fault of the file
        check_excluded_share(
            ledger[table == names.get_indexer([name])[0]], config, path, areas, area_faults
        )
    notes.append(
        f"Nothing dated after {extract[0]:%d/%m/%Y} (the extract date, from {extract[1]})."
    )
    release_arrow_memory()
    return Extract(
        tables,
        ledger,
        config,
        data_dir,
        basis,
        vintage,
        notes,
        gap_months=gap_months,
        files=unread,
        area_notes=area_notes,
        area_faults=area_faults,
    )
