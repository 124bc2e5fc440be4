"""Values read one way only: dates (day-first unless the file is month-first throughout), months,
financial quarters and years, and numbers (``1,5`` refused, never read as 15), each distinct
value once; every value that does not parse gets a reason naming its column and the fix.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.ingest.clean import on_uniques, reprs
from daanalysis.ingest.extract import DataContractError
from daanalysis.ingest.ledger import SUBTOTAL, Reasons
from daanalysis.ingest.schema import (
    DATE_FORMATS,
    MONTH_FORMATS,
    MORE_DATE_FORMATS,
    MORE_MONTH_FORMATS,
    NOT_COLLECTED,
    SUPPRESSED,
    TableSpec,
)
from daanalysis.periods import MONTH_FREQ, fy_start_year, parse_quarter, quarter_label

# A whole number with thousands separators ("1,500" or "12,000,000"): the only comma accepted.
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
# What a count of an aggregate table that is no number is told: the way to say "not collected".
GAP_ADVICE = " (numbers only; if it was not collected, leave it blank or write 'not collected')"
# A number followed by a unit or a word ("32.00 Number", "12 cases"): group 0 is the number.
UNIT_SUFFIX = re.compile(r"^([+-]?[\d,]*\.?\d+)\s*[A-Za-z][A-Za-z .]*$")
# dd/mm/yyyy or mm/dd/yyyy (slash or dash), with an optional time: the forms that can be ambiguous.
DAY_MONTH = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})(\s|$)")
# Every date and month form read, in the order tried; a month-first file swaps day and month.
READ_DATE_FORMATS = DATE_FORMATS + MORE_DATE_FORMATS
READ_MONTH_FORMATS = MONTH_FORMATS + MORE_MONTH_FORMATS


def month_first_format(fmt: str) -> str:
    """A day-first date format read month-first (``%d/%m/%Y`` -> ``%m/%d/%Y``)."""
    return fmt.replace("%d/%m", "%m/%d").replace("%d-%m", "%m-%d")


MONTH_FIRST_FORMATS = tuple(month_first_format(f) for f in READ_DATE_FORMATS)
# Values that fail every format but whose slip can be named: an Excel date serial number
# (a date cell saved as General) and a two-digit year.
EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}(\s|$)")
UK_TIME = "Europe/London"


def parse_dates(
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


def parse_periods(values: pd.Series) -> pd.Series:
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
                quarters[value] = parse_quarter(quarter_form(value))
        is_quarter = text.isin(list(quarters))
        out[text.index[is_quarter]] = text[is_quarter].map(quarters).to_numpy()
        months = parse_dates(text[~is_quarter], READ_MONTH_FORMATS)
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
# A quarter named by its months ("Apr-Jun 2024", "October to December 2024", "Jan–Mar 2025"),
# the year the months' own: read only when the months are one financial quarter's.
_MONTH_RANGE = re.compile(
    r"^\s*([a-z]{3,9})\.?\s*(?:-|\u2013|\u2014|to)\s*([a-z]{3,9})\.?\s*(\d{4})\s*$", re.IGNORECASE
)
_QUARTER_OF_MONTHS = {("apr", "jun"): 1, ("jul", "sep"): 2, ("oct", "dec"): 3, ("jan", "mar"): 4}
_MONTH_NAMES = tuple(pd.date_range("2000-01-01", periods=12, freq="MS").month_name().str.lower())
# "Mid-2023", "mid 2023": ONS's label for a mid-year estimate, the word before the year.
_MID_YEAR = re.compile(r"^\s*mid[\s-]*(?=\d{4}\s*$)", re.IGNORECASE)
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
    "(also 2011-12Q1, 2011/2012 Q1, Q1 2011/12, FY11/12 Q1 or Apr-Jun 2011)"
)


# A financial year after "FY" ("FY24/25", "FY 2024-25"), as finance and returns templates write
# it: with the "FY" the two-digit form is a financial year and nothing else, read when its two
# years follow one another (FY24/25 is 2024/25; "FY24/26" is left unread).
_FY_PREFIX = re.compile(r"\bfy\s*(\d{2}|\d{4})\s*([-/])\s*(\d{2}|\d{4})\b", re.IGNORECASE)


def _fy_in_full(match: re.Match) -> str:
    start, sep, end = match.group(1), match.group(2), match.group(3)
    first = int(start) if len(start) == 4 else 2000 + int(start)
    if int(end) % (10 ** len(end)) != (first + 1) % (10 ** len(end)):
        return match.group(0)
    return f"{first}{sep}{(first + 1) % 100:02d}"


def quarter_form(value: str) -> str:
    """A quarter label in the form :func:`parse_quarter` reads (others unchanged)."""
    text = _TOTAL_WORD.sub("", value).strip()
    text = _FY_PREFIX.sub(_fy_in_full, text)
    match = _QUARTER_FIRST.match(text)
    if match:
        return f"{match.group(2)} Q{match.group(1)}"
    match = _QUARTER_WORD.match(text)
    if match:
        return f"{match.group(1)} Q{match.group(2)}"
    match = _MONTH_RANGE.match(text)
    if match:
        first, last = match.group(1).lower(), match.group(2).lower()
        q = _QUARTER_OF_MONTHS.get((first[:3], last[:3]))
        months = all(any(m.startswith(n) for m in _MONTH_NAMES) for n in (first, last))
        if q is not None and months:
            start = int(match.group(3)) - (1 if q == 4 else 0)
            return f"{start}/{(start + 1) % 100:02d} Q{q}"
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
    raw: pd.Series, parsed: pd.Series, problem: str, reasons: Reasons, kind: str = ""
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


def suppressed_marker(raw: pd.Series) -> np.ndarray:
    """Whether each value is a suppressed small count (:data:`SUPPRESSED`: ``<5``, ``*``,
    ``[c]`` ...)."""
    marks = on_uniques(
        raw, lambda u: u.astype("str").str.strip().str.match(SUPPRESSED).astype(object)
    )
    return np.asarray(marks, dtype=bool) & raw.notna().to_numpy()


def _pounds(raw: pd.Series) -> pd.Series:
    """``raw`` with amounts in GBP as plain numbers where they have one reading: a pound sign
    dropped (``£153.38``, ``-£12``), and thousands commas dropped after a pound sign or before a
    decimal point (``£1,250``, ``1,250.00``). ``1,250`` alone (1.25 with a decimal comma) and
    anything that is then no plain number are left as written, for the caller to refuse."""
    text = raw.astype("str").str.strip()
    sterling = text.str.match(r"^[+-]?£").to_numpy(dtype=bool)
    bare = text.str.replace(r"^([+-]?)£\s*", r"\1", regex=True)
    grouped = bare.str.match(THOUSANDS) & (
        pd.Series(sterling, index=raw.index) | bare.str.contains(".", regex=False)
    )
    plain = bare.where(~grouped, bare.str.replace(",", "", regex=False))
    read = (sterling | grouped.to_numpy(dtype=bool)) & plain.str.fullmatch(
        r"[+-]?\d+(\.\d+)?"
    ).to_numpy(dtype=bool)
    return raw.mask(read, plain)


def parse_numbers(
    raw: pd.Series, decimals: bool, reasons: Reasons, gap: bool = False, pounds: bool = False
) -> pd.Series:
    """Numbers read one way only.

    A count accepts a comma only as a thousands separator (``1,500``) and must be whole. A
    fraction column (FTE) refuses every comma: ``1,5`` is a decimal comma (1.5 in much of
    Europe, or a slip for 15) and is reported, never guessed. An amount in GBP (``pounds``)
    may have a pound sign, and thousands commas where they cannot be a decimal comma
    (:func:`_pounds`). In a ``gap`` column (a count of an aggregate table) a not-collected
    marker is read as blank: a gap, never a zero.
    """
    if pounds:
        raw = _pounds(raw)
    if gap:
        # Not collected or suppressed: a gap either way (table.not_collected names which).
        marker = not_collected_marker(raw) | suppressed_marker(raw)
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
        if str(raw.name).startswith("fte")
        else " (a percentage: write the figure in the column's own unit, without the % sign)"
        if decimals
        else " (a percentage: write the count itself)"
    )
    # A currency sign still there (any column that does not read pounds, or not one reading).
    currency = signs.str.contains(r"^[-+]?[£$€]|[£$€]$", regex=True).to_numpy(dtype=bool)
    texts[currency] += " (write the amount without the currency sign: 153.38 for £153.38)"
    # Forms whose slip can be named. Digits in threes split by a space of any kind ("75 000",
    # also with a non-breaking or thin space, as locale-formatted exports write them) are
    # refused rather than read: "1 234" may as well be two figures run together. Excel's
    # apostrophe before a number kept as text ('216) and an accountant's negative in brackets
    # ((12)) are refused as well, saying what they are.
    spaced = signs.str.fullmatch(r"[+-]?\d{1,3}(?:\s\d{3})+(?:\.\d+)?").to_numpy(dtype=bool)
    texts[spaced] += (
        " (spaces between its digits, a thousands separator or two figures run together: "
        "write the figure in digits only, with no spaces)"
    )
    quoted = signs.str.fullmatch(r"'[+-]?[\d.,]+").to_numpy(dtype=bool)
    texts[quoted] += (
        " (a leading apostrophe, a spreadsheet's mark for a number kept as text: remove it)"
    )
    bracketed = signs.str.fullmatch(r"\([\d.,]+\)").to_numpy(dtype=bool)
    texts[bracketed] += " (a negative number in brackets, as accounts write it: " + (
        "write it with a minus sign)" if decimals else "a count cannot be negative)"
    )
    named = spaced | quoted | bracketed
    # "32.00 Number", "12 cases": a number with its unit or a word after it, as some returns
    # spreadsheets export a formatted cell.
    unit = signs.str.extract(UNIT_SUFFIX)[0]
    has_unit = (unit.notna() & ~percent & ~currency & ~named).to_numpy(dtype=bool)
    texts[has_unit] += (
        " (numbers only: write "
        + reprs(unit[has_unit]).astype(object)
        + " without the unit or words after it)"
    )
    if gap:
        texts[~has_unit & ~percent & ~currency & ~named] += GAP_ADVICE
    reasons.add(rows, texts)
    if not decimals:
        fraction = parsed.notna() & (parsed != parsed.round())
        rows = np.flatnonzero(fraction.to_numpy())
        reasons.add(rows, f"{raw.name}: " + reprs(raw.iloc[rows]) + " is not a whole number")
        parsed = parsed.where(~fraction)
    return parsed.astype("float64")


def date_order(
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


def parse_columns(
    frame: pd.DataFrame,
    spec: TableSpec,
    reasons: Reasons,
    date_formats: tuple[str, ...] = READ_DATE_FORMATS,
    factorised: dict[str, tuple[np.ndarray, pd.Series]] | None = None,
) -> pd.DataFrame:
    """``frame``'s dates (``datetime64[us]``), months (``Period[M]``), periods (month or quarter
    Periods) and numbers (``float64``) parsed by ``spec``; a value that does not parse is missing
    and its row gets a reason in ``reasons``. ``factorised`` holds date columns already split
    into codes and distinct values (:func:`daanalysis.ingest.clean.distinct`)."""
    factorised = factorised or {}
    out = frame.copy(deep=False)
    shown = "mm/dd/yyyy" if date_formats is MONTH_FIRST_FORMATS else "dd/mm/yyyy"
    for col in spec.dates:
        out[col] = parse_dates(frame[col], date_formats, factorised.get(col))
        problem = f"is not a date; write it as {shown}"
        _flag_unparsed(frame[col], out[col], problem, reasons, "date")
    month_formats = READ_MONTH_FORMATS
    if date_formats is MONTH_FIRST_FORMATS:
        month_formats = tuple(month_first_format(f) for f in READ_MONTH_FORMATS)
    for col in spec.months:
        parsed = parse_dates(frame[col], month_formats, factorised.get(col))
        # A "Total" or "2011/12" row under the months (police figures pasted with their sum) is
        # set aside as a subtotal, as in the tables of months or quarters, not refused.
        raw = _flag_year_totals(frame[col], parsed.dt.to_period(MONTH_FREQ), reasons)
        _flag_unparsed(raw, parsed, "is not a month; write it as yyyy-mm", reasons, "month")
        out[col] = parsed.dt.to_period(MONTH_FREQ)
    for col in spec.periods:
        parsed = parse_periods(frame[col])
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
        raw = frame[col]
        if col == "year":
            # ONS labels its mid-year estimates "Mid-2023": that year, as a number.
            raw = raw.str.replace(_MID_YEAR, "", regex=True)
        out[col] = parse_numbers(
            raw, col in spec.decimals, reasons, col in spec.gaps, col in spec.pounds
        )
    return out


def _flag_year_totals(raw: pd.Series, parsed: pd.Series, reasons: Reasons) -> pd.Series:
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
def start_of(value: object) -> pd.Timestamp | None:
    """First day of a date, month or quarter value (None if blank)."""
    if value is None or (not isinstance(value, pd.Period) and pd.isna(value)):
        return None
    return value.start_time if isinstance(value, pd.Period) else pd.Timestamp(value)


def starts_of(values: pd.Series) -> pd.Series:
    """:func:`start_of` of each value, as ``datetime64[us]``: dates as they are, months by their
    first day, a column of mixed months and quarters once per distinct value."""
    if isinstance(values.dtype, pd.PeriodDtype):
        starts = values.dt.start_time
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        starts = values
    else:
        starts = pd.Series(
            on_uniques(values, lambda u: u.map(start_of, na_action=None).astype(object)),
            index=values.index,
        )
    return starts.astype("datetime64[us]")


def period_text(period: object) -> str:
    """A month as ``2012-04``, a quarter as ``2012/13 Q1``."""
    if isinstance(period, pd.Period) and period.freqstr.startswith("Q"):
        return quarter_label(period, with_months=False)
    return str(period)
