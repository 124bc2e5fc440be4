"""Readers for the data contract: CSV or XLSX in, parsed and validated tables plus a row ledger out.

Structural problems (no file, a missing column, most rows unreadable) raise
:class:`DataContractError` naming the file, row, column and the fix. Row-level problems exclude the
row and list it in the ledger with its reason, so every input row is either used or accounted for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from daanalysis import clean
from daanalysis.config import Config, read_config
from daanalysis.periods import MONTH_FREQ, parse_quarter
from daanalysis.schema import DATE_FORMATS, MONTH_FORMATS, TABLES, TableSpec

LEDGER_COLUMNS = ["table", "file", "row", "status", "reason"]
CONTRACT_DOC = "docs/data-contract.md"


class DataContractError(ValueError):
    """An input file does not meet the data contract; the message says where and how to fix it."""


@dataclass
class Extract:
    """Everything loaded from one data folder: tables, row ledger and config."""

    tables: dict[str, pd.DataFrame]
    ledger: pd.DataFrame
    config: Config
    data_dir: Path
    basis: str  # "records" (referrals.csv) or "aggregates" (returns.csv)
    vintage: str = ""
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def areas(self) -> list[str]:
        source = self.tables["referrals" if self.basis == "records" else "returns"]
        return sorted(source["area"].dropna().unique().tolist())


def find_file(data_dir: Path, name: str) -> Path | None:
    """``name.csv`` or ``name.xlsx`` in ``data_dir`` (CSV first)."""
    for suffix in (".csv", ".xlsx"):
        path = data_dir / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def _read_raw(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".xlsx":
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        # Exports from Excel on Windows arrive as cp1252 or as UTF-8 with a byte-order mark.
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1252")
    frame.columns = [re.sub(r"[\s\-]+", "_", str(c).strip().lower()) for c in frame.columns]
    for col in frame.columns:
        frame[col] = frame[col].astype("str").str.strip().replace({"": pd.NA, "nan": pd.NA})
    return frame


def _parse_with_formats(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = parsed.isna() & values.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce")
    return parsed


def _parse_period(value: object) -> pd.Period | None:
    if pd.isna(value):
        return None
    text = str(value)
    try:
        return parse_quarter(text)
    except ValueError:
        pass
    stamp = _parse_with_formats(pd.Series([text]), MONTH_FORMATS).iloc[0]
    return None if pd.isna(stamp) else stamp.to_period(MONTH_FREQ)


def _add_reason(reasons: dict[int, list[str]], index: pd.Index, text: str) -> None:
    for i in index:
        reasons.setdefault(int(i), []).append(text)


def _flag_unparsed(
    raw: pd.Series, parsed: pd.Series, problem: str, reasons: dict[int, list[str]]
) -> None:
    """A reason for every non-blank value that did not parse."""
    for i in raw.index[raw.notna() & parsed.isna()]:
        _add_reason(reasons, [i], f"{raw.name}: {raw.at[i]!r} {problem}")


def _parse_columns(
    frame: pd.DataFrame, spec: TableSpec, reasons: dict[int, list[str]]
) -> pd.DataFrame:
    out = frame.copy()
    for col in spec.dates:
        out[col] = _parse_with_formats(frame[col], DATE_FORMATS)
        _flag_unparsed(frame[col], out[col], "is not a date; write it as dd/mm/yyyy", reasons)
    for col in spec.months:
        parsed = _parse_with_formats(frame[col], MONTH_FORMATS)
        _flag_unparsed(frame[col], parsed, "is not a month; write it as yyyy-mm", reasons)
        out[col] = parsed.dt.to_period(MONTH_FREQ)
    for col in spec.periods:
        parsed = frame[col].map(_parse_period)
        _flag_unparsed(
            frame[col],
            parsed,
            "is neither a month (yyyy-mm) nor a financial quarter (2024/25 Q1)",
            reasons,
        )
        out[col] = parsed.astype(object)
    for col in spec.numbers:
        text = frame[col].astype("str").str.replace(",", "", regex=False)
        parsed = pd.to_numeric(text.where(frame[col].notna()), errors="coerce")
        _flag_unparsed(frame[col], parsed, "is not a number", reasons)
        out[col] = parsed.astype("float64")
    return out


def _validate(frame: pd.DataFrame, spec: TableSpec, reasons: dict[int, list[str]]) -> None:
    try:
        spec.schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        frame_checks = {str(c.error) for c in spec.checks} | {str(c.name) for c in spec.checks}
        for _, case in cases.iterrows():
            if pd.isna(case["index"]):
                raise DataContractError(
                    f"{spec.name}: {case['check']} ({case['failure_case']}). See {CONTRACT_DOC}."
                ) from None
            row_reasons = reasons.setdefault(int(case["index"]), [])
            column = str(case["column"])
            check = str(case["check"])
            if check in frame_checks:
                text = check
            elif check == "not_nullable":
                if any(r.startswith(f"{column}:") for r in row_reasons):
                    continue  # already explained by the parse error for this column
                text = f"{column}: is blank but is required"
            else:
                text = f"{column}: {case['failure_case']!r} {check}"
            if text not in row_reasons:
                row_reasons.append(text)


def read_table(path: Path, spec: TableSpec, config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate one table. Returns (used rows, ledger of every input row).

    The used rows keep ``source_row``, the row number as a spreadsheet shows it (header = 1).
    """
    try:
        raw = _read_raw(path)
    except (pd.errors.ParserError, ValueError) as err:
        raise DataContractError(
            f"{path}: cannot be read as a table ({err}). Save it as CSV (UTF-8) or XLSX with one "
            "header row."
        ) from err
    missing = [c for c in spec.required if c not in raw.columns]
    if missing:
        raise DataContractError(
            f"{path}, row 1 (header), column {missing[0]!r}: required column missing "
            f"(all missing: {', '.join(missing)}; found: {', '.join(raw.columns)}). "
            f"Rename or add the column; the {spec.name} table is described in {CONTRACT_DOC}."
        )
    for col in spec.optional:
        if col not in raw.columns:
            raw[col] = config.default_area if col == "area" else pd.NA
    # Campaigns and events with a blank area apply to every area.
    if "area" in spec.columns and spec.name not in ("campaigns", "events"):
        raw["area"] = raw["area"].fillna(config.default_area)
    if spec.name == "events":
        raw["kind"] = raw["kind"].str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    raw.index = pd.RangeIndex(len(raw))
    reasons: dict[int, list[str]] = {}
    parsed = _parse_columns(raw[list(spec.columns)], spec, reasons)
    _validate(parsed, spec, reasons)
    if spec.key:
        keys = parsed[list(spec.key)].astype("str")
        dup = keys.duplicated(keep="first")
        first_row = {tuple(k): i for i, k in zip(keys.index[::-1], keys.values[::-1], strict=True)}
        for i in keys.index[dup]:
            _add_reason(
                reasons,
                [i],
                f"duplicate of row {first_row[tuple(keys.loc[i])] + 2} "
                f"(same {', '.join(spec.key)})",
            )
    excluded = pd.Index(sorted(reasons), dtype="int64")
    ledger = pd.DataFrame(
        {
            "table": spec.name,
            "file": path.name,
            "row": raw.index + 2,
            "status": "used",
            "reason": "",
        }
    )
    ledger.loc[excluded, "status"] = "excluded"
    ledger.loc[excluded, "reason"] = ["; ".join(reasons[i]) for i in excluded]
    # Three or more bad rows: one or two slips in a tiny file are listed, not fatal.
    if len(raw) and len(excluded) / len(raw) > config.max_excluded_share and len(excluded) > 2:
        first = excluded[0]
        raise DataContractError(
            f"{path}: {len(excluded)} of {len(raw)} rows ({len(excluded) / len(raw):.0%}) break "
            f"the data contract, more than the {config.max_excluded_share:.0%} allowed. First: row "
            f"{first + 2}: {reasons[first][0]}. Check the export settings (date format dd/mm/yyyy, "
            f"one header row) against {CONTRACT_DOC}."
        )
    used = parsed.drop(index=excluded).assign(source_row=lambda d: d.index + 2)
    return used.reset_index(drop=True), ledger


def _empty(spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*spec.columns, "source_row"]})


def load_extract(
    data_dir: str | Path,
    config: Config | None = None,
    salt: bytes | None = None,
) -> Extract:
    """Load every table of the data contract from ``data_dir``.

    Needs ``referrals`` (record-level) or ``returns`` (aggregate); the other tables are optional
    but the metrics that use them say so when they are missing. ``salt`` keys the client
    pseudonyms; give the same salt to link clients across runs.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataContractError(
            f"{data_dir}: data folder not found. Point --data (or the notebook's data_dir "
            "parameter) at the folder holding referrals.csv or returns.csv."
        )
    config = config or read_config(data_dir / "config.csv")
    tables: dict[str, pd.DataFrame] = {}
    ledgers: list[pd.DataFrame] = []
    notes: list[str] = []
    for name, spec in TABLES.items():
        path = find_file(data_dir, name)
        if path is None:
            tables[name] = _empty(spec)
            continue
        frame, ledger = read_table(path, spec, config)
        tables[name] = frame
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
        raise DataContractError(
            f"{data_dir}: neither referrals.csv/.xlsx (record-level) nor returns.csv/.xlsx "
            f"(aggregate) found, or both are empty. See {CONTRACT_DOC}."
        )
    ledger = pd.concat(ledgers, ignore_index=True)[LEDGER_COLUMNS]
    if basis == "records":
        mapping_dir = data_dir / "mappings"
        tables["referrals"], ledger = clean.clean_referrals(
            tables["referrals"], ledger, mapping_dir=mapping_dir, salt=salt
        )
    if len(tables["action_plan"]):
        tables["action_plan"], ledger = clean.clean_action_plan(tables["action_plan"], ledger)
    vintage_file = data_dir / "VINTAGE"
    vintage = vintage_file.read_text().strip() if vintage_file.exists() else ""
    return Extract(tables, ledger, config, data_dir, basis, vintage, notes)


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
