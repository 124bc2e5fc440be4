"""One table's file to its used rows and its ledger: read, header checked, values parsed, the
schema's checks and the rows dated after the extract excluded, counts not collected noted.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from daanalysis.config import Config
from daanalysis.ingest.clean import (
    distinct,
    keep_rows,
    on_uniques,
    reprs,
    same_as_first,
    tidy_column,
)
from daanalysis.ingest.extract import CONTRACT_DOC, DataContractError, add_note
from daanalysis.ingest.header import header_hint, separator_hint, snake, tidy_header
from daanalysis.ingest.ledger import (
    NO_DATA,
    NOT_COLLECTED_NOTE,
    SUPPRESSED_NOTE,
    Reasons,
    check_excluded_share,
)
from daanalysis.ingest.parse import (
    MONTH_FIRST_FORMATS,
    date_order,
    parse_columns,
    period_text,
    starts_of,
    suppressed_marker,
)
from daanalysis.ingest.read import read_raw
from daanalysis.ingest.schema import TableSpec
from daanalysis.ingest.workbook import hidden_sheets, refuse_uncalculated_formulas

# Nothing in a DA service extract predates this: a year such as 1924 (for 2024) would otherwise
# stretch every series back a century. (IDVA services and MARACs date from the mid-2000s.)
EARLIEST = pd.Timestamp("2000-01-01")


def check_not_after(
    parsed: pd.DataFrame,
    spec: TableSpec,
    reasons: Reasons,
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
        starts = starts_of(parsed[col])
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


def validate(
    frame: pd.DataFrame, spec: TableSpec, reasons: Reasons, path: Path | None = None
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
    cases: pd.DataFrame, spec: TableSpec, reasons: Reasons, path: Path | None
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


# Text columns tidied on reading (see clean.tidy): invisible characters, non-breaking and
# repeated spaces would otherwise make 'Sampleborough\u200b' an area of its own, or one role
# two. Referrals keep their texts as read (their labels are matched through clean.label_key,
# and the identifiers are the service's own), all but the area.
_TIDIED_REFERRAL_COLUMNS = ("area",)


def tidy_texts(raw: pd.DataFrame, spec: TableSpec) -> None:
    """Tidy the free-text and label columns of ``raw`` (in place): every column that is not a
    date, month, period or number, except in ``referrals`` (its area only)."""
    parsed = {*spec.dates, *spec.months, *spec.periods, *spec.numbers}
    if spec.name == "referrals":
        columns = [c for c in _TIDIED_REFERRAL_COLUMNS if c in raw.columns]
    else:
        columns = [c for c in spec.columns if c in raw.columns and c not in parsed]
    for col in columns:
        raw[col] = tidy_column(raw[col])


def _differing_columns(
    raw: pd.DataFrame, columns: list[str], rows: np.ndarray, firsts: np.ndarray
) -> np.ndarray:
    """For each of ``rows``, the columns (as written) in which it differs from its first row
    with the same key (``firsts``, indexed by row), joined ("" where it differs in none)."""
    out = np.full(len(rows), "", dtype=object)
    for col in columns:
        # Only the repeated rows and their firsts: a column of a million referrals is not copied.
        mine = raw[col].iloc[rows].to_numpy(dtype=object)
        theirs = raw[col].iloc[firsts[rows]].to_numpy(dtype=object)
        same = (mine == theirs) | (pd.isna(mine) & pd.isna(theirs))
        out[~same] = np.where(out[~same] == "", col, out[~same] + ", " + col)
    return out


def read_table(
    path: Path,
    spec: TableSpec,
    config: Config,
    extract: tuple[pd.Timestamp, str] | None = None,
    notes: list[str] | None = None,
    area_notes: dict[str, list[str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate one table. Returns (used rows, ledger of every input row).

    The used rows keep ``source_row``, the row number as a spreadsheet shows it (header = 1).
    ``extract`` is the extract date and its source; rows dated after it are excluded. Notes for
    the reader (such as dates read month-first) are appended to ``notes``; those about one
    area's rows only are also listed under it in ``area_notes``.
    """
    if path.suffix.lower() == ".xlsx":
        refuse_uncalculated_formulas(path)  # before reading: pandas reads such cells as blank
    try:
        raw = read_raw(path, spec.required, "area" in spec.columns)
    except (pd.errors.ParserError, ValueError) as err:
        raise DataContractError(
            f"{path}: cannot be read as a table ({err}). Save it as CSV (UTF-8) or XLSX with one "
            "header row."
        ) from err
    sheet = raw.attrs.get("sheet")
    if sheet is not None and notes is not None and sheet in hidden_sheets(path):
        # The visible sheets are empty (a second sheet with data stops loading in read_raw):
        # read, but said, since nobody opening the workbook sees these rows.
        notes.append(
            f"{path.name}: the rows were read from the hidden sheet {sheet!r}; the visible "
            "sheets are empty."
        )
    sheets = raw.attrs.get("sheets", [])
    if notes is not None:
        sheet_notes(raw, path, notes)
    raw = tidy_header(raw, path)
    missing = [c for c in spec.required if c not in raw.columns]
    separator = separator_hint(path) if missing and len(raw.columns) == 1 else ""
    if separator:
        # Excel in many European locales saves "CSV" with semicolons; "Unicode Text" has tabs.
        raise DataContractError(f"{path}, row 1 (header): {separator}")
    if missing:
        raise DataContractError(
            f"{path}, row 1 (header), column {missing[0]!r}: required column missing "
            f"(all missing: {', '.join(missing)}; found: {', '.join(map(str, raw.columns))}). "
            f"Rename or add the column; the {spec.name} table is described in {CONTRACT_DOC}."
            + header_hint(path, spec)
        )
    if spec.one_of and not set(spec.one_of) & set(raw.columns):
        raise DataContractError(
            f"{path}, row 1 (header): no count column: the {spec.name} table needs at least "
            f"one of {', '.join(spec.one_of)} (found: {', '.join(map(str, raw.columns))}). "
            f"Rename or add the column; the {spec.name} table is described in {CONTRACT_DOC}."
            + header_hint(path, spec)
        )
    supplied = [c for c in spec.columns if c in raw.columns]
    blank_rows = raw[supplied].isna().all(axis=1).to_numpy()  # before defaults fill the area
    if notes is not None:
        unread_note(raw, spec, path, notes)
    for col in spec.optional:
        if col not in raw.columns:
            raw[col] = config.default_area if col == "area" and config.default_area else pd.NA
            if col == "area":
                raw.attrs["no_area_column"] = True
    tidy_texts(raw, spec)
    no_area = np.zeros(len(raw), dtype=bool)
    # Campaigns and events with a blank area apply to every area.
    if "area" in spec.columns and spec.name not in ("campaigns", "events"):
        need_area(raw, path, config)
        no_area = raw["area"].isna().to_numpy() & (not config.default_area.strip())
        raw["area"] = raw["area"].fillna(config.default_area)
    if spec.name == "events":
        raw["kind"] = raw["kind"].str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    raw.index = pd.RangeIndex(len(raw))
    reasons = Reasons()
    if no_area.any():
        # A file of areas with some rows' area left blank: no default would be right for them
        # (in a region it would hand them to one council).
        reasons.add(
            np.flatnonzero(no_area),
            "area: is blank, and config.csv names no default_area; fill in the row's area",
        )
    # Date and month columns are factorised once, for judging their order and for parsing.
    factorised = {col: distinct(raw[col]) for col in (*spec.dates, *spec.months)}
    formats = date_order(raw, spec, path, factorised)
    if formats is MONTH_FIRST_FORMATS and notes is not None:
        notes.append(
            f"{path.name}: dates read month-first (mm/dd/yyyy), because every date that can "
            "only be read one way is month-first."
        )
    parsed = parse_columns(raw[list(spec.columns)], spec, reasons, formats, factorised)
    validate(parsed, spec, reasons, path)
    check_not_after(parsed, spec, reasons, extract)
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
        first = pd.Series(repeats[dup] + 2).astype("str").to_numpy(dtype=object)
        differ = _differing_columns(raw, [c for c in spec.columns if c in supplied], dup, repeats)
        exact = differ == ""
        key = ", ".join(spec.key)
        reasons.add(dup[exact], "duplicate of row " + first[exact] + f" (same {key})")
        # The same key on a row that differs is no copy of the export: two records given one
        # reference, of which only the first is used; the reason says which columns differ.
        reasons.add(
            dup[~exact],
            f"same {key} as row "
            + first[~exact]
            + " but a different "
            + differ[~exact]
            + ": only row "
            + first[~exact]
            + f" is used; give each row its own {key}, or delete the wrong one",
        )
    joined = reasons.joined()
    junk = rows_of_no_data(raw, supplied, blank_rows, joined.index)
    if len(junk):
        # What such a row is, said once, rather than every column's failure to parse.
        joined = pd.concat([joined.drop(junk.index, errors="ignore"), junk]).sort_index()
    excluded = joined.index
    ledger = pd.DataFrame(
        {
            "table": spec.name,
            "file": sheet_of_rows(path, sheets, len(raw)),
            "row": raw.index + 2,
            "area": raw["area"].fillna("") if "area" in raw.columns else "",
            "status": "used",
            "reason": "",
        }
    )
    suppressed = {c: suppressed_marker(raw[c]) for c in spec.gaps if c in supplied}
    gaps = not_collected(parsed, spec, supplied, excluded, path, notes, area_notes, suppressed)
    ledger.loc[gaps.index, "reason"] = gaps.to_numpy()
    ledger.loc[excluded, "status"] = "excluded"
    ledger.loc[excluded, "reason"] = joined.to_numpy()
    check_excluded_share(ledger, config, path)
    kept = np.ones(len(parsed), dtype=bool)
    kept[excluded] = False
    used = keep_rows(parsed, kept).assign(source_row=lambda d: d.index + 2)
    return used.reset_index(drop=True), ledger


def rows_of_no_data(
    raw: pd.DataFrame, columns: list[str], blank: np.ndarray, failed: pd.Index
) -> pd.Series:
    """Reasons for rows that hold no data, by row position: rows whose ``columns`` (the
    table's, as the file has them) were all empty (``blank``), and the header repeated (two
    exports pasted one under another: most of its cells hold their column's name), looked for
    among the rows that ``failed`` a check (a header's texts fail every date and number, and
    the rest need not be looked at: an extract can have millions of rows)."""
    texts = np.full(len(raw), "", dtype=object)
    candidates = np.asarray(failed, dtype="int64")
    if columns and len(candidates):
        cells = raw[columns].iloc[candidates].to_numpy(dtype=object)
        named = np.array(
            [
                sum(snake(v) == c for v, c in zip(row, columns, strict=True) if isinstance(v, str))
                for row in cells
            ],
            dtype="int64",
        )
        header = candidates[named >= max(2, (len(columns) + 1) // 2)]
        texts[header] = f"a repeated header row (exports pasted one under another?){NO_DATA}"
    texts[blank] = f"a blank row (every cell empty){NO_DATA}"
    at = np.flatnonzero(texts != "")
    return pd.Series(texts[at], index=pd.Index(at, dtype="int64"), dtype=object)


def sheet_of_rows(path: Path, sheets: list[tuple[str, int]], n: int) -> object:
    """The ledger's file for each row: the file's name, and for a workbook read from several
    sheets, the sheet each row came from."""
    if len(sheets) < 2:
        return path.name
    return np.repeat(
        [f"{path.name}, sheet {name!r}" for name, _ in sheets], [k for _, k in sheets]
    )[:n]


def sheet_notes(raw: pd.DataFrame, path: Path, notes: list[str]) -> None:
    """Notes for a workbook read from some of its sheets, or from several: which were passed
    over, how the rows of several sheets are numbered, and areas taken from sheet names."""
    passed = raw.attrs.get("passed_over", [])
    if passed:
        notes.append(
            f"{path.name}: sheet(s) {', '.join(map(repr, passed))} not read: they do not hold "
            f"the table's header (notes or a cover); the rows were read from sheet "
            f"{raw.attrs.get('sheet')!r}."
        )
    sheets = raw.attrs.get("sheets", [])
    if len(sheets) < 2:
        return
    ranges, first = [], 2
    for name, k in sheets:
        ranges.append(f"{name!r} as rows {first}-{first + k - 1}")
        first += k
    area = (
        " Each row's area is its sheet's name, as the sheets have no area column."
        if raw.attrs.get("area_from_sheet")
        else ""
    )
    notes.append(
        f"{path.name}: {len(sheets)} sheets with one header read as one table, numbered as if "
        f"stacked under one header ({', '.join(ranges)}); the ledger names each row's sheet." + area
    )


def unread_note(raw: pd.DataFrame, spec: TableSpec, path: Path, notes: list[str]) -> None:
    """A note naming the file's columns the table does not have, which are not read: a
    misspelt optional column (``Repeats`` for ``repeat_cases``) would otherwise vanish with the
    figures it holds, unsaid. Each gets the table's missing column it is probably meant to be,
    if one is close. A column with no header and no values (an export's trailing commas) is
    passed over."""
    missing = [c for c in spec.columns if c not in raw.columns]
    unread = []
    for col in raw.columns:
        if col in spec.columns or (str(col).startswith("unnamed:") and raw[col].isna().all()):
            continue
        if str(col).startswith("unnamed:"):
            place = str(col).rsplit("_", 1)[-1]
            where = f"column {int(place) + 1}" if place.isdigit() else str(col)
            unread.append(f"a column with no header ({where}) that holds values")
            continue
        close = difflib.get_close_matches(str(col), missing, n=1, cutoff=0.6)
        hint = f" (is it {close[0]}? rename it to be read)" if close else ""
        unread.append(f"{col!r}{hint}")
    if unread:
        notes.append(
            f"{path.name}: column(s) not in the {spec.name} table, so not read: "
            f"{', '.join(unread)}."
        )


def need_area(raw: pd.DataFrame, path: Path, config: Config) -> None:
    """Stop when rows have no area and config names none: the pack would otherwise be titled
    with some other council's name."""
    if config.default_area.strip():
        return
    blank = np.flatnonzero(raw["area"].isna().to_numpy())
    if not len(blank) or len(blank) < len(raw):
        return  # some rows blank: each is excluded, asking for its area (read_table)
    where = "has no area column" if raw.attrs.get("no_area_column") else "has no area filled in"
    raise DataContractError(
        f"{path}, column area: the file {where}, and config.csv names no default_area, so the "
        "area these figures are for is not known. Add a config.csv row "
        "'default_area,<your area's name>,name,' beside the data (or an area column, filled "
        "in on every row)."
    )


def not_collected(
    parsed: pd.DataFrame,
    spec: TableSpec,
    supplied: list[str],
    excluded: pd.Index,
    path: Path,
    notes: list[str] | None,
    area_notes: dict[str, list[str]] | None = None,
    suppressed: dict[str, np.ndarray] | None = None,
) -> pd.Series:
    """Ledger notes for rows with counts not collected (blank or a marker) or suppressed
    (``<5``, ``*``: ``suppressed`` holds, by column, which raw cells were so marked) in a
    ``gaps`` column the file has, by row index; and a note for the data-quality section naming
    the columns, how many periods each and which: one for each area with such rows (named in
    the note when the file holds several areas; listed under it in ``area_notes``), so an
    area's page shows its own gaps and not another area's. Suppressed cells get a note of their
    own, as they are small counts withheld, not figures never collected.

    The row is used: its gaps are NaN in the panel, never zeros, and its other counts are used
    as they are.
    """
    columns = [c for c in spec.gaps if c in supplied]
    if not columns or not len(parsed):
        return pd.Series(dtype=object)
    kept = np.ones(len(parsed), dtype=bool)
    kept[np.asarray(excluded, dtype="int64")] = False
    gap = parsed[columns].isna().to_numpy() & kept[:, None]
    hidden = np.zeros_like(gap)
    for j, col in enumerate(columns):
        if suppressed and col in suppressed:
            hidden[:, j] = suppressed[col] & gap[:, j]
    blank = gap & ~hidden
    rows = np.flatnonzero(gap.any(axis=1))
    if not len(rows):
        return pd.Series(dtype=object)
    names = np.array(columns, dtype=object)
    texts = []
    for i in rows:
        parts = []
        if blank[i].any():
            parts.append(f"{NOT_COLLECTED_NOTE}: {', '.join(names[blank[i]])}")
        if hidden[i].any():
            parts.append(f"{SUPPRESSED_NOTE}: {', '.join(names[hidden[i]])}")
        texts.append(f"{'; '.join(parts)}; a gap, not a zero")
    if notes is not None:
        _gap_notes(parsed, spec, columns, blank, kept, path, notes, area_notes, "not collected")
        _gap_notes(parsed, spec, columns, hidden, kept, path, notes, area_notes, "suppressed")
    return pd.Series(texts, index=pd.Index(rows, dtype="int64"), dtype=object)


def _gap_notes(
    parsed: pd.DataFrame,
    spec: TableSpec,
    columns: list[str],
    blank: np.ndarray,
    kept: np.ndarray,
    path: Path,
    notes: list[str],
    area_notes: dict[str, list[str]] | None,
    kind: str,
) -> None:
    """The data-quality notes for one kind of gap (``not collected`` or ``suppressed``), one
    an area."""
    rows = np.flatnonzero(blank.any(axis=1))
    if not len(rows):
        return
    time_col = next((c for c in (*spec.periods, *spec.months) if c in parsed), None)
    area = (
        parsed["area"].fillna("").astype(str).to_numpy()
        if "area" in parsed
        else np.full(len(parsed), "", dtype=object)
    )
    several = len(set(area[kept])) > 1
    for name in pd.unique(area[rows]):  # in the order the file first shows each
        mine = area == name
        counts = []
        for j, col in enumerate(columns):
            at = np.flatnonzero(blank[:, j] & mine)
            if not len(at):
                continue
            when = ""
            if time_col is not None:
                periods = parsed[time_col].iloc[at]
                shown = sorted({period_text(p) for p in periods if p is not None})
                when = f" ({', '.join(shown[:6])}{', ...' if len(shown) > 6 else ''})"
            counts.append(f"{col} in {len(at)} row(s){when}")
        where = f"{path.name}, {name}" if several and name else path.name
        if kind == "suppressed":
            text = (
                f"{where}: suppressed small counts ('<5', an asterisk or '[c]'): "
                f"{'; '.join(counts)}. These are gaps, left out of models, totals and "
                "comparisons, never read as 0 nor as the threshold; a series with many is "
                "read from its larger months only."
            )
        else:
            text = (
                f"{where}: not collected (blank or marked): {'; '.join(counts)}. These are "
                "gaps, left out of models, totals and comparisons, never read as 0."
            )
        add_note(notes, area_notes if name else None, name, text)


def empty_table(spec: TableSpec) -> pd.DataFrame:
    """A table with no rows: the spec's columns and ``source_row``, all ``object``."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*spec.columns, "source_row"]})
