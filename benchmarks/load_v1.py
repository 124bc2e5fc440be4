"""A frozen copy of version 1's loading and cleaning (``daanalysis.ingest.load`` and
``daanalysis.ingest.clean``).

Kept as the reference that the current record-level path must match exactly (see
``tests/test_records_path.py``) and as the baseline that ``bench_records.py`` times in the same run.
Do not edit: it is what the project computed before the record-level path was made linear (per-row
reason dicts, per-row hashing, pandas' C CSV engine). Cleaning lives in this one file so that it can
be imported both as ``benchmarks.load_v1`` and, from the benchmark script, as ``load_v1``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from importlib import resources
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from daanalysis.config import Config, read_config
from daanalysis.ingest.schema import DATE_FORMATS, MONTH_FORMATS, TABLES, TableSpec
from daanalysis.periods import MONTH_FREQ, parse_quarter

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
# dd/mm/yyyy or mm/dd/yyyy (slash or dash), with an optional time: the forms that can be ambiguous.
DAY_MONTH = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})(\s|$)")
# Nothing in a DA service extract predates this: a year such as 1924 (for 2024) would otherwise
# stretch every series back a century. (IDVA services and MARACs date from the mid-2000s.)
EARLIEST = pd.Timestamp("2000-01-01")
MONTH_FIRST_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M")


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
    notes: list[str] = dataclass_field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def areas(self) -> list[str]:
        source = self.tables["referrals" if self.basis == "records" else "returns"]
        return sorted(source["area"].dropna().unique().tolist())


def find_file(data_dir: Path, name: str) -> Path | None:
    """``name.csv`` or ``name.xlsx`` in ``data_dir``; both at once is an error."""
    found = [
        data_dir / f"{name}{s}" for s in (".csv", ".xlsx") if (data_dir / f"{name}{s}").exists()
    ]
    if len(found) > 1:
        raise DataContractError(
            f"{data_dir}: both {name}.csv and {name}.xlsx are present, and they may differ. Keep "
            f"the one that is current and move the other out of the data folder."
        )
    return found[0] if found else None


def _read_raw(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".xlsx":
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        except Exception as err:  # noqa: BLE001 - openpyxl raises many types for a bad workbook
            raise ValueError(f"not a readable Excel workbook: {type(err).__name__}: {err}") from err
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


def _parse_periods(values: pd.Series) -> pd.Series:
    """Financial quarters (``2024/25 Q1``) or months, as Period objects; None where neither.

    Quarters are read once per distinct value and months in one pass over the column: a
    value-by-value parse cost seconds on a few hundred rows.
    """
    out = pd.Series(None, index=values.index, dtype=object)
    text = values.dropna().astype("str")
    quarters = {}
    for value in text.unique():
        with contextlib.suppress(ValueError):
            quarters[value] = parse_quarter(value)
    is_quarter = text.isin(list(quarters))
    out[text.index[is_quarter]] = text[is_quarter].map(quarters).to_numpy()
    months = _parse_with_formats(text[~is_quarter], MONTH_FORMATS)
    found = months.notna()
    out[months.index[found]] = list(months[found].dt.to_period(MONTH_FREQ))
    return out


def _add_reason(reasons: dict[int, list[str]], index: pd.Index, text: str) -> None:
    for i in index:
        reasons.setdefault(int(i), []).append(text)


def _flag_unparsed(
    raw: pd.Series, parsed: pd.Series, problem: str, reasons: dict[int, list[str]]
) -> None:
    """A reason for every non-blank value that did not parse."""
    for i in raw.index[raw.notna() & parsed.isna()]:
        _add_reason(reasons, [i], f"{raw.name}: {raw.at[i]!r} {problem}")


def _parse_numbers(raw: pd.Series, decimals: bool, reasons: dict[int, list[str]]) -> pd.Series:
    """Numbers read one way only.

    A count accepts a comma only as a thousands separator (``1,500``) and must be whole. A
    fraction column (FTE) refuses every comma: ``1,5`` is a decimal comma (1.5 in much of
    Europe, or a slip for 15) and is reported, never guessed.
    """
    text = raw.astype("str")
    comma = raw.notna() & text.str.contains(",", regex=False)
    if decimals:
        bad_comma = comma
        cleaned = text
    else:
        bad_comma = comma & ~text.str.match(THOUSANDS)
        cleaned = text.str.replace(",", "", regex=False)
    parsed = pd.to_numeric(cleaned.where(raw.notna() & ~bad_comma), errors="coerce")
    for i in raw.index[bad_comma]:
        fix = (
            "a decimal point (1.5) and no thousands separators"
            if decimals
            else ("digits only, or commas every three digits as thousands separators (1,500)")
        )
        _add_reason(
            reasons,
            [i],
            f"{raw.name}: {raw.at[i]!r} has a comma that could be read two ways; "
            f"write it with {fix}",
        )
    unparsed = raw.notna() & ~bad_comma & parsed.isna()
    for i in raw.index[unparsed]:
        _add_reason(reasons, [i], f"{raw.name}: {raw.at[i]!r} is not a number")
    if not decimals:
        fraction = parsed.notna() & (parsed != parsed.round())
        for i in raw.index[fraction]:
            _add_reason(reasons, [i], f"{raw.name}: {raw.at[i]!r} is not a whole number")
        parsed = parsed.where(~fraction)
    return parsed.astype("float64")


def _date_order(frame: pd.DataFrame, spec: TableSpec, path: Path) -> tuple[str, ...]:
    """The date formats of this file, judged across all its date columns.

    ``03/04/2024`` could be 3 April or 4 March. A file whose unambiguous dates are all day-first
    (or that has none) is read day-first, the UK default; one whose unambiguous dates are all
    month-first (``04/13/2024``) is read month-first; a file with both is refused, naming rows,
    because its ambiguous dates cannot be read safely either way.
    """
    # Counted with masks; only the first few examples are written out (one string per row
    # made loading a million-row extract several times slower).
    day_first: list[str] = []
    month_first: list[str] = []
    n_month_first = 0
    # Months may be given as any date in the month (dd/mm/yyyy), so they count too.
    for col in (*spec.dates, *spec.months):
        parts = frame[col].dropna().astype("str").str.extract(DAY_MONTH)
        first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
        for examples, mask in (
            (day_first, (first > 12) & (second <= 12)),
            (month_first, (second > 12) & (first <= 12)),
        ):
            examples += [f"row {i + 2} {col} {frame.at[i, col]!r}" for i in parts.index[mask][:3]]
        n_month_first += int(((second > 12) & (first <= 12)).sum())
    if day_first and month_first:
        raise DataContractError(
            f"{path}: dates are written both day-first ({'; '.join(day_first[:3])}) and "
            f"month-first ({'; '.join(month_first[:3])}; {n_month_first} in all), so dates "
            "such as 03/04/2024 cannot be read safely either way. Export every date as "
            "dd/mm/yyyy (or yyyy-mm-dd) and load again."
        )
    return MONTH_FIRST_FORMATS if month_first else DATE_FORMATS


def _parse_columns(
    frame: pd.DataFrame,
    spec: TableSpec,
    reasons: dict[int, list[str]],
    date_formats: tuple[str, ...] = DATE_FORMATS,
) -> pd.DataFrame:
    out = frame.copy()
    shown = "mm/dd/yyyy" if date_formats is MONTH_FIRST_FORMATS else "dd/mm/yyyy"
    for col in spec.dates:
        out[col] = _parse_with_formats(frame[col], date_formats)
        _flag_unparsed(frame[col], out[col], f"is not a date; write it as {shown}", reasons)
    month_formats = MONTH_FORMATS
    if date_formats is MONTH_FIRST_FORMATS:
        month_formats = tuple("%m/%d/%Y" if f == "%d/%m/%Y" else f for f in MONTH_FORMATS)
    for col in spec.months:
        parsed = _parse_with_formats(frame[col], month_formats)
        _flag_unparsed(frame[col], parsed, "is not a month; write it as yyyy-mm", reasons)
        out[col] = parsed.dt.to_period(MONTH_FREQ)
    for col in spec.periods:
        parsed = _parse_periods(frame[col])
        _flag_unparsed(
            frame[col],
            parsed,
            "is neither a month (yyyy-mm) nor a financial quarter (2024/25 Q1)",
            reasons,
        )
        out[col] = parsed.astype(object)
    for col in spec.numbers:
        out[col] = _parse_numbers(frame[col], col in spec.decimals, reasons)
    return out


def extract_date(config: Config, vintage: str) -> tuple[pd.Timestamp, str]:
    """The day the extract was taken, and where that came from.

    ``extract_date`` in config; else an ISO date (yyyy-mm-dd), or failing that a dd/mm/yyyy
    date, in the VINTAGE line; else today, since nothing can have happened after the run.
    """
    if config.extract_timestamp is not None:
        return config.extract_timestamp, "config extract_date"
    for pattern, fmt in (
        (r"\b(\d{4}-\d{2}-\d{2})\b", "%Y-%m-%d"),
        (r"\b(\d{2}/\d{2}/\d{4})\b", "%d/%m/%Y"),
    ):
        found = re.search(pattern, vintage)
        if found:
            stamp = pd.to_datetime(found.group(1), format=fmt, errors="coerce")
            if not pd.isna(stamp):
                return stamp, "the VINTAGE file"
    return pd.Timestamp(date.today()), "today (no extract_date in config or date in VINTAGE)"


def _start(value: object) -> pd.Timestamp | None:
    """First day of a date, month or quarter value (None if blank)."""
    if value is None or (not isinstance(value, pd.Period) and pd.isna(value)):
        return None
    return value.start_time if isinstance(value, pd.Period) else pd.Timestamp(value)


def _check_not_after(
    parsed: pd.DataFrame,
    spec: TableSpec,
    reasons: dict[int, list[str]],
    extract: tuple[pd.Timestamp, str] | None,
) -> None:
    """Exclude rows dated after the extract date: a typo (2030 for 2023) would otherwise stretch
    every series to that year and distort the models."""
    if extract is None:
        return
    when, source = extract
    for col in spec.not_after_extract:
        starts = parsed[col].map(_start).astype("datetime64[us]")
        early = starts.notna() & (starts < EARLIEST)
        for i in parsed.index[early]:
            _add_reason(
                reasons,
                [i],
                f"{col}: {starts[i]:%d/%m/%Y} is before {EARLIEST:%Y}, earlier than any DA "
                "service extract this tool is for; check the year (1924 for 2024?)",
            )
        late = starts.notna() & (starts > when)
        for i in parsed.index[late]:
            value = parsed.at[i, col]
            shown = value.strftime("%d/%m/%Y") if isinstance(value, pd.Timestamp) else str(value)
            _add_reason(
                reasons,
                [i],
                f"{col}: {shown} is after the extract date {when:%d/%m/%Y} (from {source}); "
                "correct the date in the source system",
            )


def _validate(
    frame: pd.DataFrame, spec: TableSpec, reasons: dict[int, list[str]], path: Path | None = None
) -> None:
    try:
        spec.schema().validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        frame_checks = {str(c.error) for c in spec.checks} | {str(c.name) for c in spec.checks}
        for _, case in cases.iterrows():
            if pd.isna(case["index"]):
                raise DataContractError(
                    f"{path or spec.name}, column {case['column']!r}: {case['check']} "
                    f"({case['failure_case']}). Correct the file against the {spec.name} table "
                    f"in {CONTRACT_DOC}."
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
    try:
        raw = _read_raw(path)
    except (pd.errors.ParserError, ValueError) as err:
        raise DataContractError(
            f"{path}: cannot be read as a table ({err}). Save it as CSV (UTF-8) or XLSX with one "
            "header row."
        ) from err
    missing = [c for c in spec.required if c not in raw.columns]
    if missing and len(raw.columns) == 1 and ";" in str(raw.columns[0]):
        # Excel in many European locales saves "CSV" with semicolons.
        raise DataContractError(
            f"{path}, row 1 (header): the columns are separated by ';', not ','. Save the file "
            "as 'CSV UTF-8 (comma delimited)' or as XLSX."
        )
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
    formats = _date_order(raw, spec, path)
    if formats is MONTH_FIRST_FORMATS and notes is not None:
        notes.append(
            f"{path.name}: dates read month-first (mm/dd/yyyy), because every date that can "
            "only be read one way is month-first."
        )
    parsed = _parse_columns(raw[list(spec.columns)], spec, reasons, formats)
    _validate(parsed, spec, reasons, path)
    _check_not_after(parsed, spec, reasons, extract)
    if spec.name == "staffing":
        for col in spec.decimals:
            high = parsed[col] > config.max_fte_per_row
            for i in parsed.index[high]:
                _add_reason(
                    reasons,
                    [i],
                    f"{col}: {parsed.at[i, col]:g} FTE for one team and role is above the "
                    f"plausible {config.max_fte_per_row:g} (config max_fte_per_row); check for "
                    "a slip such as 15 for 1.5",
                )
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
    check_excluded_share(ledger, config, path)
    used = parsed.drop(index=excluded).assign(source_row=lambda d: d.index + 2)
    return used.reset_index(drop=True), ledger


def check_excluded_share(ledger: pd.DataFrame, config: Config, path: Path | str) -> None:
    """Stop when too many rows of one file were excluded: the export is probably wrong.

    Run when a table is read and again after every later step (cross-table checks, duplicate
    removal), so that no step can push a file past the limit unnoticed. Three or more excluded
    rows are needed: one or two slips in a tiny file are listed, not fatal.
    """
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
        f"Check the export settings (date format dd/mm/yyyy, one header row) against "
        f"{CONTRACT_DOC}."
    )


def reason_category(reason: str) -> str:
    """A reason without the values and row numbers in it, for counting and for committee pages.

    ``referral_date: '2030-01-01' is after ...`` becomes ``referral_date: [value] is after ...``;
    several reasons for one row become the first one.
    """
    first = reason.split("; ")[0]
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "[value]", first)
    text = re.sub(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}(-\d{2})?\b", "[date]", text)
    text = re.sub(r"(?<![\w.])[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?(?![\w])", "[n]", text)
    return text.replace("of row [n]", "of an earlier row")


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
    rows = frame.loc[reasons.index, "source_row"]
    ledger = ledger.copy()
    by_row = dict(zip(rows, reasons, strict=True))
    where = (ledger["table"] == name) & ledger["row"].isin(by_row)
    ledger.loc[where, "status"] = "excluded"
    ledger.loc[where, "reason"] = [
        f"{old}; {by_row[r]}" if old else by_row[r]
        for old, r in zip(ledger.loc[where, "reason"], ledger.loc[where, "row"], strict=True)
    ]
    tables[name] = frame.drop(index=reasons.index).reset_index(drop=True)
    return ledger


def _check_areas(tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, basis: str) -> pd.DataFrame:
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
        known_pop = set(population["area"].dropna())
        frame = tables[source]
        odd = frame["area"].notna() & ~frame["area"].isin(known_pop)
        listed = ", ".join(sorted(known_pop))
        reasons = frame.loc[odd, "area"].map(
            lambda a: (
                f"area {a!r} is not in population.csv (areas there: {listed}); correct "
                "the spelling, or add the area's population"
            )
        )
        ledger = _exclude(tables, ledger, source, reasons)
    known = set(tables[source]["area"].dropna())
    for name, spec in TABLES.items():
        frame = tables[name]
        if name in ("referrals", "returns") or "area" not in spec.columns or not len(frame):
            continue
        # Campaigns and events with a blank area apply to every area.
        odd = frame["area"].notna() & ~frame["area"].isin(known)
        reasons = frame.loc[odd, "area"].map(
            lambda a: (
                f"area {a!r} has no rows in {source}, so this row is not used; correct "
                f"the area name if it should match one in {source}"
            )
        )
        ledger = _exclude(tables, ledger, name, reasons)
    return ledger


def _check_series(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, config: Config
) -> pd.DataFrame:
    """Counts out of all proportion to their own series, or above the population, are excluded.

    Each count is compared with the median of its area's series over about a year either side
    (a quarterly figure counts as three months). More than ``max_count_jump`` times that median,
    or more than the area's adults, is a keying or unit error: 1e12 police crimes would
    otherwise become a trend of millions of per cent.
    """
    population = tables["population"]
    adults = (
        (population["females_16plus"] + population["males_16plus"])
        .groupby(population["area"])
        .max()
        if len(population)
        else pd.Series(dtype="float64")
    )
    for name, spec in TABLES.items():
        frame = tables[name]
        if not spec.series or not len(frame):
            continue
        time_col = "month" if "month" in frame else "period"
        per_month = frame[time_col].map(lambda p: 3 if p.freqstr.startswith("Q") else 1)
        reasons: dict[int, str] = {}
        # Sort by start date: a MARAC table may mix months and quarters, which do not compare.
        order = frame[time_col].map(_start).astype("datetime64[us]").sort_values().index
        for area, rows in frame.loc[order].groupby("area", sort=False):
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


def _check_staffing(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, config: Config, excluded_groups: set
) -> pd.DataFrame:
    """A team's month above ``max_fte_per_team`` is excluded; so is every remaining row of an
    area's month that lost a row, so that month shows no figure rather than a partial total."""
    frame = tables["staffing"]
    if not len(frame):
        return ledger
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
    raw = _read_raw(path)
    area = raw["area"].fillna(config.default_area) if "area" in raw else config.default_area
    months = _parse_with_formats(raw["month"], MONTH_FORMATS).dt.to_period(MONTH_FREQ)
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
    vintage_file = data_dir / "VINTAGE"
    vintage = _read_vintage(vintage_file) if vintage_file.exists() else ""
    extract = extract_date(config, vintage)
    tables: dict[str, pd.DataFrame] = {}
    ledgers: list[pd.DataFrame] = [pd.DataFrame(columns=LEDGER_COLUMNS)]
    paths: dict[str, Path] = {}
    notes: list[str] = []
    for name, spec in TABLES.items():
        path = find_file(data_dir, name)
        if path is not None and path.stat().st_size == 0 and not spec.essential:
            notes.append(f"{path.name} is an empty file, so it was not used.")
            path = None
        if path is None:
            tables[name] = _empty(spec)
            if name in OPTIONAL_USES:
                notes.append(f"No {name}.csv: {OPTIONAL_USES[name]} are not available.")
            continue
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
        raise DataContractError(
            f"{data_dir}: neither referrals.csv/.xlsx (record-level) nor returns.csv/.xlsx "
            f"(aggregate) found, or both are empty. See {CONTRACT_DOC}."
        )
    if basis == "records" and "returns" in paths:
        ledger_returns = ledgers[list(paths).index("returns") + 1]
        ledger_returns.loc[ledger_returns["status"] == "used", ["status", "reason"]] = [
            "excluded",
            "returns are not used when record-level referrals are supplied",
        ]
        tables["returns"] = _empty(TABLES["returns"])
    ledger = pd.concat(ledgers, ignore_index=True)[LEDGER_COLUMNS]
    ledger["row"] = ledger["row"].astype("int64")
    groups = _staffing_groups(paths["staffing"], config) if "staffing" in paths else {}
    ledger = _check_areas(tables, ledger, basis)
    ledger = _check_series(tables, ledger, config)
    ledger = _check_staffing(tables, ledger, config, _excluded_groups(ledger, groups))
    if basis == "records":
        mapping_dir = data_dir / "mappings"
        tables["referrals"], ledger = clean_referrals(
            tables["referrals"], ledger, mapping_dir=mapping_dir, salt=salt
        )
    if len(tables["action_plan"]):
        tables["action_plan"], ledger = clean_action_plan(tables["action_plan"], ledger)
    # The share limit again, after every step: duplicates removed in cleaning, rows for unknown
    # areas or implausible counts all count against it.
    for name, path in paths.items():
        if name == "returns" and basis == "records":
            continue  # not used at all (see above), which is not a fault of the file
        check_excluded_share(ledger[ledger["table"] == name], config, path)
    notes.append(
        f"Nothing dated after {extract[0]:%d/%m/%Y} (the extract date, from {extract[1]})."
    )
    return Extract(tables, ledger, config, data_dir, basis, vintage, notes)


def _read_vintage(path: Path) -> str:
    """The VINTAGE line (UTF-8, or Windows-1252 as Notepad may save it)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return data.decode("cp1252").strip()


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


# --- version 1's daanalysis.ingest.clean ---

MAPPED_FIELDS = ("referral_source", "risk_level", "service", "gender")
# What case systems write for "no client reference". Read as an identifier, "N/A" would make
# every such referral the same client and remove them all as probable duplicates.
NO_ID = {"n/a", "na", "n.a.", "none", "null", "nil", "unknown", "not known", "-", "--", "?", "0"}


class MappingError(ValueError):
    """An analyst's mapping file cannot be used; the message names the file and the fix."""


def read_mapping(field: str, mapping_dir: Path | None = None) -> dict[str, str]:
    """Raw label (lower case, trimmed) to canonical label for ``field``."""
    text = resources.files("daanalysis").joinpath("mappings", f"{field}.csv").read_text("utf-8")
    tables = [pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)]
    if mapping_dir is not None and (mapping_dir / f"{field}.csv").exists():
        tables.append(_read_mapping_file(mapping_dir / f"{field}.csv"))
    mapping: dict[str, str] = {}
    for table in tables:
        mapping.update(
            zip(table["raw"].str.strip().str.lower(), table["canonical"].str.strip(), strict=True)
        )
    return mapping


def _read_mapping_file(path: Path) -> pd.DataFrame:
    """An analyst's mapping file, with clear errors for the usual slips."""
    table = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.EmptyDataError, pd.errors.ParserError) as err:
            raise MappingError(
                f"{path}: cannot be read as a table ({err}). It needs a header row 'raw,canonical' "
                "and one row per label."
            ) from None
    if table is None:
        raise MappingError(f"{path}: cannot be decoded as UTF-8 or Windows-1252; save it as CSV.")
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("raw", "canonical") if c not in table.columns]
    if missing:
        raise MappingError(
            f"{path}, row 1 (header), column {missing[0]!r}: a mapping file needs the columns "
            f"raw, canonical (found: {', '.join(table.columns)}). Rename the header."
        )
    blank = table["canonical"].str.strip() == ""
    if blank.any():
        row = int(blank.idxmax()) + 2
        raise MappingError(
            f"{path}, row {row}, column 'canonical': blank. Give every raw label a canonical one."
        )
    return table


def map_labels(values: pd.Series, mapping: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Canonical labels and a boolean Series marking non-blank values that were not recognised."""
    key = values.astype("str").str.strip().str.lower()
    mapped = key.map(mapping)
    unmapped = values.notna() & mapped.isna()
    return mapped.fillna("unknown").astype("str"), unmapped


def pseudonymise(ids: pd.Series, salt: bytes) -> pd.Series:
    """Keyed hash (BLAKE2b, 8 bytes) of each identifier; blank stays blank."""

    def one(value: object) -> object:
        if pd.isna(value):
            return pd.NA
        return hashlib.blake2b(str(value).encode(), key=salt, digest_size=8).hexdigest()

    return ids.map(one).astype("str")


def _note(ledger: pd.DataFrame, table: str, rows: pd.Series, text: pd.Series | str) -> None:
    where = (ledger["table"] == table) & ledger["row"].isin(rows)
    texts = pd.Series(text, index=rows.index) if isinstance(text, str) else text
    by_row = dict(zip(rows, texts, strict=True))
    ledger.loc[where, "reason"] = [
        (f"{old}; {by_row[r]}" if old else by_row[r])
        for old, r in zip(ledger.loc[where, "reason"], ledger.loc[where, "row"], strict=True)
    ]


def _clean_exclude(ledger: pd.DataFrame, table: str, rows: pd.Series, text: pd.Series) -> None:
    where = (ledger["table"] == table) & ledger["row"].isin(rows)
    ledger.loc[where, "status"] = "excluded"
    _note(ledger, table, rows, text)


def clean_referrals(
    referrals: pd.DataFrame,
    ledger: pd.DataFrame,
    mapping_dir: Path | None = None,
    salt: bytes | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical labels, probable duplicates removed, client_id replaced by ``client_key``.

    A probable duplicate is a second referral for the same client, service and date under a new
    referral_id (a double entry); the first is kept. Returns (referrals, updated ledger).
    """
    ledger = ledger.copy()
    out = referrals.copy()
    placeholder = out["client_id"].astype("str").str.strip().str.lower().isin(NO_ID)
    out["client_id"] = out["client_id"].where(~placeholder)
    unknown_service = pd.Series(False, index=out.index)
    for field in MAPPED_FIELDS:
        mapping = read_mapping(field, mapping_dir)
        out[field], unmapped = map_labels(out[field], mapping)
        blank = referrals[field].isna()
        if field == "service":
            # Every figure is for a service: a referral with an unrecognised service would
            # silently fall out of all of them, so it is excluded and listed instead.
            unknown_service = unmapped
            continue
        # Required labels only: an optional column (gender) is often absent or unrecorded.
        if blank.any() and field in ("referral_source", "risk_level"):
            _note(
                ledger,
                "referrals",
                out.loc[blank, "source_row"],
                f"{field} blank: counted as unknown",
            )
        if unmapped.any():
            _note(
                ledger,
                "referrals",
                out.loc[unmapped, "source_row"],
                f"{field} "
                + referrals.loc[unmapped, field].map(repr)
                + f" not in the mapping table, counted as unknown (add it to "
                f"mappings/{field}.csv)",
            )
    if unknown_service.any():
        _clean_exclude(
            ledger,
            "referrals",
            out.loc[unknown_service, "source_row"],
            "service "
            + referrals.loc[unknown_service, "service"].map(repr)
            + " not in the mapping table, so the referral belongs to no service's figures "
            "(add it to mappings/service.csv)",
        )
        out = out[~unknown_service]
    no_client = out["client_id"].isna()
    if no_client.any():
        _note(
            ledger,
            "referrals",
            out.loc[no_client, "source_row"],
            "client_id blank: counted, but cannot be linked to earlier referrals",
        )
    keys = ["client_id", "service", "referral_date"]
    dup = out.duplicated(subset=keys, keep="first") & ~no_client
    if dup.any():
        first = out[~out.duplicated(subset=keys, keep="first")].set_index(keys)["source_row"]
        first_rows = [first.loc[tuple(k)] for k in out.loc[dup, keys].itertuples(index=False)]
        _clean_exclude(
            ledger,
            "referrals",
            out.loc[dup, "source_row"],
            pd.Series(
                [
                    f"probable duplicate of row {r} (same client, service and date)"
                    for r in first_rows
                ],
                index=out.index[dup],
            ),
        )
        out = out[~dup]
    out["client_key"] = pseudonymise(out["client_id"], salt or secrets.token_bytes(16))
    out = out.drop(columns=["client_id"])
    return out.reset_index(drop=True), ledger


def clean_action_plan(
    plan: pd.DataFrame, ledger: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """RAG labels to red / amber / amber/green / green / not rated."""
    ledger = ledger.copy()
    out = plan.copy()
    out["rag"], unmapped = map_labels(out["rag"], read_mapping("rag"))
    out.loc[plan["rag"].isna(), "rag"] = "not rated"
    if unmapped.any():
        _note(
            ledger,
            "action_plan",
            out.loc[unmapped, "source_row"],
            "rag " + plan.loc[unmapped, "rag"].map(repr) + " not recognised, shown as unknown",
        )
    return out, ledger
