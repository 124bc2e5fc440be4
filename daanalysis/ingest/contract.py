"""``docs/data-contract.md``, written from :mod:`daanalysis.ingest.schema`.

The page is generated, never edited by hand: the tables, their columns, types, allowed values and
rules come from the :class:`~daanalysis.ingest.schema.TableSpec` objects (and the label mappings and
config defaults they rely on); the general text around them is :data:`INTRO` below, with its
figures filled in from the same sources. A test fails when the committed page and this output
differ. Regenerate with::

    python3 tasks.py contract
    python -m daanalysis.ingest.contract --out docs/data-contract.md
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Mapping

import pandas as pd
import pandera.pandas as pa

from daanalysis import generated_doc
from daanalysis.config import DEFAULTS, SUPPRESSION_FLOOR
from daanalysis.ingest import clean, load
from daanalysis.ingest.checks.series import COPY_MIN_TOTAL
from daanalysis.ingest.clean import SCHOOL_PHASES
from daanalysis.ingest.parse import PERIOD_TOTALS, READ_DATE_FORMATS, READ_MONTH_FORMATS
from daanalysis.ingest.schema import BENCHMARK_MEASURES, NOT_COLLECTED, TABLES, TableSpec
from daanalysis.ingest.table import EARLIEST
from daanalysis.ingest.vintage import VINTAGE_LIMIT

DOC = "docs/data-contract.md"
REGENERATE = "python3 tasks.py contract"
# What folder.find_file accepts, in its order (a test holds the two together).
SUFFIXES = (".csv", ".xlsx")
# The two bases of an extract: one of these tables must have rows (TableSpec.essential).
BASIS = {"referrals": "record-level", "returns": "aggregate"}
# Label columns mapped through daanalysis/mappings/<field>.csv (clean.MAPPED_FIELDS and the RAG).
LABELS = {("referrals", f): f for f in clean.MAPPED_FIELDS} | {("action_plan", "rag"): "rag"}
UNMAPPED = {
    "service": "unrecognised: the referral is excluded (it would belong to no service)",
    "rag": "blank: `not rated`; unrecognised: `unknown`, noted in the ledger",
}
# Columns whose values are a fixed list (the events check and the partnership's phases).
VALUES = {
    ("events", "kind"): ("level_shift", "temporary"),
    ("schools", "phase"): SCHOOL_PHASES,
    ("prevention", "phase"): SCHOOL_PHASES,
    ("benchmarks", "measure"): tuple(BENCHMARK_MEASURES),
}
# The partnership inputs (partnership.OWN_TABLES): each switches off only its own section.
PARTNERSHIP = ("schools", "prevention", "sanctuary", "perpetrator_programme")
QUARTER_EXAMPLE = "2024/25 Q1"
EXAMPLE_DAY = pd.Timestamp("2024-04-03 14:30:00")

_STRFTIME = {
    "%d": "dd",
    "%m": "mm",
    "%Y": "yyyy",
    "%y": "yy",
    "%b": "Mon",
    "%B": "Month",
    "%H": "hh",
    "%M": "mm",
    "%S": "ss",
    "%f": "fff",
    "%z": "+hh:mm",
}
_CHECKS = {
    "greater_than_or_equal_to": "{min_value} or more",
    "greater_than": "more than {min_value}",
    "less_than_or_equal_to": "{max_value} or less",
    "less_than": "less than {max_value}",
    "in_range": "from {min_value} to {max_value}",
    "isin": "one of {allowed_values}",
    "equal_to": "equal to {value}",
}

INTRO = """\
# Data contract

<!-- Generated from daanalysis/ingest/schema.py by `{regenerate}`; do not edit by hand. -->

What daanalysis reads from a data folder (`--data`, or the notebooks' `data_dir`). Each table is a
CSV (UTF-8, UTF-8 with BOM, or Windows-1252) or an XLSX file with one header row, named
{file_names}. Header names are case-insensitive; spaces and hyphens become underscores.
This page is generated from `daanalysis/ingest/schema.py` (the code version of the contract) by
`{regenerate}` (or `python -m daanalysis.ingest.contract --out {doc}`); a test fails when the two
differ. To change the contract, change `schema.py` and regenerate this page.

How to turn a council's own monthly returns or a case-management export into these tables, with a
worked example of monthly returns with quarterly and annual rows and months not collected:
[your-data.md](your-data.md).

- **Files.** A CSV may also be UTF-16 (Excel's "Unicode Text"), but it must be separated by
  commas and its header must be on row 1. Characters in a header that do not print are ignored.
  A column the table does not have is not read, and the data-quality notes name it (with the
  table's column it is probably meant to be, when one is close: `Repeats` for `repeat_cases`).
  A header below title rows or a merged heading, or a file separated by `;` or tabs, stops
  loading with an error that says so and names the header's row. A workbook is read from its
  sheet whose header has the table's columns; beside it, visible sheets too narrow to hold the
  table (notes, a cover) are passed over with a note. Several sheets with one header (a sheet per
  area of a region) are read one under the other, when each sheet has an area column or is
  named after its area (each row's area is then its sheet's name; sheets named like `Sheet1` or
  a year are not taken for areas); the ledger names each row's sheet, and the rows are numbered
  as if stacked under one header (the note gives each sheet's rows). Any other second (or
  hidden) sheet of data stops loading, naming the sheets (rows on a hidden sheet, the visible
  ones empty, are read, with a note). A workbook's formulas must have their values saved (Excel
  does, on saving): a formula never calculated (a workbook written by a script) stops loading,
  naming the sheet and cells, rather than being read as blank.
- **Every file in the folder is accounted for.** A file name is read in any case
  (`Staffing.CSV` is the staffing table, with a note). Besides the tables, `config.csv`,
  `VINTAGE` and a `mappings` folder are read; hidden files and readme files are passed over. A
  file named like a table that would not be read (`referrals_part2.csv` beside `referrals.csv`,
  or `staffing.xls`) stops loading, naming the file and the fix (combine the rows into the one
  file, or save it under the table's name), since its rows would otherwise be left out. Any
  other file or folder is not read, and is listed in the run's output and the data-quality
  notes.
- **Dates** are UK day-first: `dd/mm/yyyy` (ISO `yyyy-mm-dd` is accepted too; every accepted form
  is under [Formats](#formats)). `03/04/2024` is 3 April. The order is judged across the whole
  file: a file whose dates that can only be read one way (`13/04/2024`, `04/13/2024`) are all
  month-first is read month-first, with a note; a file with both kinds is refused, naming rows,
  because its `03/04/2024` cannot be read safely either way. **Months** are `yyyy-mm` (or
  `Apr 2024`, or any date in the month). **Periods** are a month or a financial quarter
  (`{quarter}`). A timestamp with a UTC offset (`2024-03-31T23:30:00Z`) is read as the UK date
  and time of that instant (1 April). Dates are compared by day, so a first contact on the day
  of a referral timed 10:30 is not before it. An Excel date serial number (`45366`) or a
  two-digit year (`14/03/24`) is refused, saying so.
- **Numbers** are read one way only. Counts are whole numbers; a comma is accepted only as a
  thousands separator (`1,500`). Columns that may hold fractions ({decimal_columns}) refuse any
  comma: `1,5` is a decimal comma, an error on that row, never 15. Write `1.5`. A `%` sign
  makes a value no number, and its reason says how to write it. Amounts in pounds
  ({pound_columns}) may be written as finance systems export them, `£1,250.00`: a `£` sign is
  read, and so are thousands commas after a `£` or before a decimal point (`1,250.00`), which
  cannot be a decimal comma; `1,250` alone could be, and is refused.
- **Not collected** is a value, not an error. In a count column of {gap_tables}, a blank
  cell, or one of the markers {markers} (any case), means the figure was not collected: that
  period is a gap for that column. It is never read as 0, never refuses the row, is left out
  of models, totals and comparisons (a quarter with a month not collected has no total for that
  column, and no change on a year can be worked out from it), and is named in the data-quality
  notes with how many periods and which. A dash (`-`) is not a marker: in ONS tables it means
  nil, so it is refused as no number rather than read either way. A count that is no number
  says how to write it: numbers only (`32.00 Number` is refused naming `32.00`), blank if not
  collected. A **suppressed** small count in such a column (`<5`, or any `<` and a small
  number, `*`, `**`, `[c]`, `[low]`, as published tables withhold them) is a gap in that column
  too, named in the data-quality notes as suppressed: never read as 0 nor as the threshold, and
  the row's other counts are used.
- **Subtotal rows.** Monthly returns may keep the quarterly and annual subtotal rows of a
  spreadsheet: a quarter row (in {subtotal_tables}) whose three months are all given and which
  equals their sum in every count (a month not collected adding nothing) is set aside as a
  subtotal, and a financial-year row (`2011/12`, `FY 2011/12`, `2011/12 total`) whose months or
  quarters are given is set aside too, as is a total that names no period (`Q1 total`, `Total`,
  `YTD`) among month rows (unchecked, as its months cannot be told); all are ledgered and do not
  count against `max_excluded_share`. The tables of months only (police figures, staffing,
  prevention) set aside a financial-year row and a total that names no period in the same way.
  A quarter that differs from its months stops the run (below).
- **Area.** Every row needs an area: the `area` column, or config `default_area` for a file
  without one. There is no default in the code: without either, loading stops and asks for one.
  Without `default_area`, a row whose area is blank in a file that gives other rows theirs (a
  region's) is excluded and ledgered, asking for its area: no default would be right for it.
- **Either** `referrals` (record-level, one row per referral) **or** `returns` (aggregate
  monitoring returns) is required. With returns only, metrics that need records (repeat rate,
  open caseload, response times) say so instead of showing a number.
- **What happens to bad input.** No `referrals` or `returns` with rows, a missing required column,
  an unreadable file, both `<table>.csv` and `<table>.xlsx` present, or a malformed mapping or
  config file stops loading with an error naming the file, row, column and the fix. A bad value
  in a row (an impossible date, text in a number column, a blank in a column marked *never
  blank*, a value outside its rule below, a closed date before the referral date, a duplicate
  key) excludes that row and lists it in the ledger with its file, row and reason. A row of
  empty cells, or the header repeated (exports pasted one under another), is listed as no data
  and does not count against the limit below. If more than
  `max_excluded_share` (config, default {max_excluded_share}) of a file's rows are excluded,
  loading stops: the export is probably in the wrong format. In an extract of several areas the
  same limit holds for each area's rows of a file (the areas of the referrals or returns and of
  `population.csv`), so one council's broken export in a regional file stops any run that
  reports that council, naming the file and the area (in a scheduler's region of tasks, that
  council's task fails and the others run). The limit is checked again after every later step
  (the plausibility checks below, duplicate removal), so no step can push a file past it
  unnoticed.
- **Plausibility rules.** An implausible value is an error or a ledgered exclusion, never a
  headline:
  - *Nothing after the extract date.* The extract date is `extract_date` in config, else the
    date labelled as the extract's in `VINTAGE` (`extract_date: 2021-02-20`, `extract date
    20/02/2021`, `extracted on ...`, `extract taken ...`), else the one date in `VINTAGE` when
    it holds only one, else the day of the run (a `VINTAGE` naming several dates without saying
    which is the extract's is not guessed, and the note says so). A referral,
    contact, closure, month, period or review after it, or before {earliest} (1924 for 2024),
    excludes the row (a year typo would otherwise stretch every series to that year). The
    columns checked are marked in each table below.
  - *FTE.* One team and role above `max_fte_per_row` (default {max_fte_per_row}) FTE, or one
    team's month above `max_fte_per_team` (default {max_fte_per_team}), is excluded as a keying
    error. So is an FTE that looks like a percentage (`30` for 0.3): about a hundred times the
    median of its own team and role's series, or fte_in_post and fte_funded of one row about a
    hundredfold apart. Roles are matched to config `caseload_roles` as labels are (`idva` is
    `IDVA`).
  - *Counts against their series.* A count in {series_columns} more than `max_count_jump`
    (default {max_count_jump}) times the median of its own series (about a year either side; a
    quarter counts as three months), or more than the area's adults in `population`, is excluded.
    So is one implausibly low against it: 0, or under a fifth of that median and so far under it
    that chance would give it less than once in 10,000 periods (Poisson; small series are not
    flagged): it was probably not collected or partial, and the period is a ledgered gap (it
    does not count against `max_excluded_share`). If it was not collected, leave it blank.
  - *Against the population and over time.* A table's counts a year far above what the area's
    adults make plausible (the ceilings are listed with each table) stop the load naming the
    file: a whole file multiplied passes every check against its own series. A series whose
    typical month changes more than threefold from one month on and stays there is noted as a
    level shift (a change of counting?) and used as given. Each table's own rules are listed
    under it, as *Plausibility*.
  - *Probable copies.* A quarter of {copy_tables} identical in every count to the same quarter
    a year before (counts adding up to at least {copy_min}, as small ones repeat by chance) is
    noted in the ledger and the data-quality notes as a probable copy; it is used as given, to
    be checked against the source.
  - *Each month counted once.* A financial quarter given as well as one of its months for the
    same area (in `marac` or `returns`) stops the run naming both rows: the panel would count
    those months twice.
  - *No missing months.* An area with no referrals at all in a month between its first and
    last, while its typical month has at least `max_count_jump` of them, stops the run: the
    extract is missing those months. A closure declared in `events` as a `temporary` event
    allows them.
  - *Parts within totals, dates in order.* A row that breaks a rule across its columns is
    excluded; the rules are listed under [Rules across columns](#rules-across-columns) and with
    each table. In `returns`, self-referrals, first-time, high-risk and standard/medium-risk
    referrals may not exceed referrals (nor the two risk groups together).
  - *No partial totals.* Staffing rows add up to a month's FTE: if one row of an area's month is
    excluded, the rest of that month is excluded too, so the month shows no figure rather than a
    partial one.
  - *Areas.* Rows of {area_tables} for an area that has no referrals (or returns) are excluded as
    not used. A file that also covers the extract's own areas (a police force's or a region's
    figures for every council in it, an ONS population file for all of England) has its other
    areas' rows excluded as out of scope, with a note naming them; they do not count against
    `max_excluded_share`. A file with no row for any of the extract's areas, or rows for one of
    them spelt another way, is a fault and counts. Areas with `returns` but no `referrals`, when
    `referrals` is supplied, stop the run naming them: an extract is read from one kind of data
    (record-level when supplied), so run those areas from a data folder of their own. When
    `population` is given, a referral whose area is not in it is excluded (usually
    a misspelling); but a main area of the referrals or returns (more than a twentieth of an
    average area's rows: in a region, every council) missing from `population` stops the run
    naming `population.csv` and its spelling there. Area names are tidied (invisible
    characters and repeated spaces removed), and one area spelt two ways in the referrals or
    returns (`North East`, `north-east`) stops the run, naming both spellings; a row elsewhere
    whose area is spelt otherwise names the referrals' spelling. `population` ending before
    the data is noted: later years use its last estimate.
  - *Service.* A blank or unrecognised `service` excludes the referral (it would belong to no
    service's figures); placeholder client references ({placeholders}) are treated as blank, so
    they are not taken for one client.
- **Optional tables** ({optional_tables}) switch off only the sections that use them when
  missing, empty or header-only, with a note in the data-quality section; an area without
  staffing rows gets no staffing page. With both `referrals` and `returns`, the returns are
  ledgered as not used. The partnership inputs ({partnership_tables}) each switch off only their
  own section of the partnership-activity page, with a one-line note there.
- **The ledger.** Committee pages show rows read and excluded per table and the reasons, counted,
  without values or row numbers, and with counts below the suppression threshold shown as `[c]`.
  The full ledger (table, file, row, area, status, reason with the values) is
  `analysts/ledger.csv` in the run folder, for analysts: it is not linked from the index and is
  not for publication. `area` is the row's area as its file gives it (or config's
  `default_area`), blank for a row with none (a campaign or event for every area). In an extract
  of several areas, each area's pages count that area's rows, and the rows that could not be
  assigned to an area (no area, or an area not among the extract's), saying so; those are
  counted on every area's page. The page for all areas counts every row.
- **Labels** ({label_columns}) are mapped to canonical values through
  `daanalysis/mappings/<field>.csv`; the canonical values are listed with each column below. Add
  a `mappings/<field>.csv` (columns `raw, canonical`) to the data folder to extend or override
  them. Labels match whatever their case, spacing, hyphens or underscores, curly or straight
  apostrophes and invisible characters (`Self-Referral`, `SELF_REFERRAL` and `self referral`
  are one label). An unrecognised label is counted as `unknown` and noted in the ledger (an
  unrecognised `service` excludes the referral, above).
- **Client identifiers** (`client_id`) are replaced on load by a keyed hash (`client_key`) used only
  to link repeat referrals; neither reaches a report.
- **Probable duplicates**: a second referral for the same client, service and date under a new
  `referral_id` is excluded as a double entry (the first is kept).
- `config.csv` (columns `key, value, unit, source`) overrides the default thresholds and costs;
  see `daanalysis/config.py` for every key, its source and its plausible range. Unknown or
  repeated keys and values out of range are errors naming the row. `suppression_threshold`
  below {suppression_floor} is refused unless `allow_low_suppression` is `yes`, and then every page
  says so.
- `VINTAGE` (optional, one line of plain text) describes the extract; it is printed on every
  page and on the spreadsheet's cover, as text (a URL or Markdown in it is not made a link). It
  must be a regular file in the data folder: a link to a file outside the folder, a folder, or
  text with control characters is refused with an error. Only its first non-blank line is shown
  (a note says so when there are more; an `extract_date:` label may be on any line) and at most
  {vintage_limit} characters of it (a longer line is cut short, with a note).

In the tables below, *required* says whether the header must be present and whether a cell may be
blank: **yes, never blank** (a blank excludes the row), **yes, may be blank**, or **no** (the
column may be left out); **blank: not collected** marks a count where a blank (or a marker) is a
gap, never a zero.
"""


def _human(fmt: str) -> str:
    """``%d/%m/%Y`` as ``dd/mm/yyyy (03/04/2024)``."""
    text = re.sub(r"%[a-zA-Z]", lambda m: _STRFTIME[m.group(0)], fmt)
    example = EXAMPLE_DAY.tz_localize("Europe/London") if "%z" in fmt else EXAMPLE_DAY
    shown = example.strftime(fmt.replace("%f", "000").replace("%z", "+01:00"))
    return f"`{text}` ({shown})"


def _code(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _or_list(names: list[str], word: str = "or") -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


def _reflow(text: str, width: int = 100) -> str:
    """Paragraphs and list items of ``text`` wrapped at ``width`` (headings and comments kept)."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            first = block[0]
            indent = re.match(r"\s*(- )?", first).group(0)
            words = " ".join(line.strip() for line in block)
            words = words[len(indent.strip()) :].strip() if indent.strip() else words
            out.append(
                textwrap.fill(
                    words,
                    width,
                    initial_indent=indent,
                    subsequent_indent=" " * len(indent),
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
            block.clear()

    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", "<!--")):
            flush()
            out.append(line)
        elif re.match(r"\s*- ", line):
            flush()
            block.append(line)
        else:
            block.append(line)
    flush()
    return "\n".join(out) + "\n"


def _number(value: object) -> str:
    if isinstance(value, float) and value < 1:
        return f"{value:.0%}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default(key: str) -> str:
    return _number(DEFAULTS[key][0])


def _canonical(field: str) -> list[str]:
    """The canonical labels of a mapping, in the order they first appear."""
    return list(dict.fromkeys(clean.read_mapping(field).values()))


def _check_text(check: pa.Check) -> str:
    """A pandera column check in words (its ``error`` when its kind is not known here)."""
    template = _CHECKS.get(str(check.name))
    stats = {k: _number(v) if isinstance(v, float) else v for k, v in check.statistics.items()}
    if template is not None:
        try:
            return template.format(**stats)
        except (KeyError, IndexError):
            pass
    return str(check.error or check.name)


def _mark_columns(text: str, spec: TableSpec) -> str:
    """Column names of ``spec`` in ``text`` as code."""
    names = sorted(spec.columns, key=len, reverse=True)
    pattern = r"(?<![`\w])(" + "|".join(map(re.escape, names)) + r")(?![`\w])"
    return re.sub(pattern, r"`\1`", text)


def frame_rules(spec: TableSpec) -> list[str]:
    """The rules across columns of one table, in words: its pandera frame checks and its groups."""
    rules = [_mark_columns(str(c.name), spec) for c in spec.checks]
    if spec.whole_groups:
        rules.append(
            f"rows of one {_or_list([f'`{c}`' for c in spec.whole_groups], 'and')} add up to one "
            "total: if one is excluded, so are the rest"
        )
    return rules


def _type(spec: TableSpec, col: str) -> str:
    if col in spec.dates:
        return "date"
    if col in spec.months:
        return "month"
    if col in spec.periods:
        return "month or quarter"
    if col in spec.numbers:
        if col in spec.pounds:
            return "amount in pounds"
        return "decimal" if col in spec.decimals else "whole number"
    if (spec.name, col) in LABELS:
        return "label"
    if (spec.name, col) in VALUES:
        return "code"
    return "text"


def _required(spec: TableSpec, col: str) -> str:
    if col in spec.gaps:
        return "yes; blank: not collected" if col in spec.required else "no; blank: not collected"
    if col in spec.required:
        return "yes, never blank" if col in spec.not_null else "yes, may be blank"
    return "no, never blank" if col in spec.not_null else "no"


def _rules(spec: TableSpec, col: str) -> str:
    out: list[str] = []
    if (spec.name, col) in LABELS:
        field = LABELS[spec.name, col]
        unmapped = UNMAPPED.get(field, "unrecognised: `unknown`, noted in the ledger")
        out.append(
            f"{_code(_canonical(field))} (raw labels mapped by `mappings/{field}.csv`; {unmapped})"
        )
    if (spec.name, col) in VALUES:
        out.append(f"one of {_code(VALUES[spec.name, col])}")
    checks = spec.column_checks.get(col, ())
    if (spec.name, col) in VALUES:  # its values are listed above: an isin check says no more
        checks = tuple(c for c in checks if str(c.name) != "isin")
    out += [_check_text(c) for c in checks]
    if col in spec.key:
        out.append("part of the key" if len(spec.key) > 1 else "the key: unique")
    if col in spec.not_after_extract:
        out.append(f"not after the extract date, nor before {EARLIEST:%Y}")
    if col in spec.series:
        out.append("checked against its own series and the population")
    return "; ".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _needed(spec: TableSpec) -> str:
    if spec.essential:
        others = [f"`{n}`" for n in BASIS if n != spec.name]
        text = (
            f"yes, unless {_or_list(others)} has rows: the {BASIS.get(spec.name, '')} basis "
            "of the analysis."
        )
        if spec.name == "returns":
            text += " With record-level `referrals` as well, its rows are ledgered as not used."
        return text
    if spec.name in load.OPTIONAL_USES:
        return f"no; without it, {load.OPTIONAL_USES[spec.name]} are not available."
    if spec.name in PARTNERSHIP:
        return "no; without it, only its own section of the partnership-activity page is off."
    return "no; without it, only the sections that use it are switched off."


def table_section(spec: TableSpec) -> str:
    """One table's section of the page."""
    files = " or ".join(f"`{spec.name}{s}`" for s in SUFFIXES)
    lines = [f"## `{spec.name}`", "", spec.description, ""]
    lines.append(f"- **File:** {files}.")
    lines.append(f"- **Needed:** {_needed(spec)}")
    if spec.key:
        lines.append(
            f"- **One row per** {', '.join(f'`{k}`' for k in spec.key)}: a repeated key excludes "
            "the later row, as a duplicate when the rows are the same, else naming the columns "
            "in which it differs from the first, which is used."
        )
    else:
        lines.append("- **Key:** none; repeated rows are all used.")
    lines += ["", "| column | type | required | values and rules | meaning |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for col, meaning in spec.columns.items():
        cells = [f"`{col}`", _type(spec, col), _required(spec, col), _rules(spec, col), meaning]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    rules = frame_rules(spec)
    if spec.every_row:
        one = spec.name[:-1] if spec.name.endswith("s") else spec.name
        lines += [
            "",
            "Every row is needed: a row that breaks the contract (a blank required value, a "
            "repeated key, a rule below) stops the load, naming the row and the fix, rather than "
            f"being excluded (the verdict drawn without one {one} would answer another question).",
        ]
    if rules:
        fate = "stops the load" if spec.every_row else "is excluded"
        lines += ["", f"Rules across columns (a row that breaks one {fate}):", ""]
        lines += [f"- {rule}." for rule in rules]
    if spec.plausibility:
        lines += ["", "Plausibility (with the general rules above):", ""]
        lines += [f"- {rule}" for rule in spec.plausibility]
    if spec.notes:
        lines += ["", spec.notes]
    return "\n".join(lines) + "\n"


def _formats() -> str:
    months = [_human(f) for f in READ_MONTH_FORMATS]
    rows = [
        ("date", ", ".join(_human(f) for f in READ_DATE_FORMATS) + "; day and month swapped "
         "when the file is read month-first (a date with dots is always day-first)"),
        ("month", ", ".join(months) + "; a date is read as its month"),
        ("month or quarter", f"a financial quarter (`{QUARTER_EXAMPLE}`, `2024-25Q1`, "
         f"`2024/2025 Q1`, `Q1 2024/25`, or its months: `Apr-Jun 2024`, `Jan-Mar 2025`; April "
         "to March) or a month as above"),
        ("whole number", "digits; a comma only as a thousands separator (`1,500`)"),
        ("decimal", "digits with a decimal point (`1.5`); no comma at all"),
        ("amount in pounds", "a decimal (`1250.5`), also with a `£` sign and thousands commas "
         "(`£1,250.50`); `1,250` without a `£` or a decimal point is refused"),
        ("label", "free text mapped to the canonical values listed (case, spacing and "
         "hyphens do not matter)"),
        ("code", "one of the values listed"),
        ("text", "free text, trimmed"),
    ]  # fmt: skip
    lines = ["## Formats", "", "| type | accepted |", "| --- | --- |"]
    lines += [f"| {kind} | {_cell(text)} |" for kind, text in rows]
    return "\n".join(lines) + "\n"


def _overview(tables: Mapping[str, TableSpec]) -> str:
    lines = ["## Tables", "", "| table | needed | rows |", "| --- | --- | --- |"]
    for spec in tables.values():
        needed = (
            f"yes ({BASIS.get(spec.name, 'essential')} basis), unless "
            + _or_list([f"`{n}`" for n in BASIS if n != spec.name])
            if spec.essential
            else "optional"
        )
        rows = f"one per {', '.join(spec.key)}" if spec.key else "no key"
        lines.append(f"| [`{spec.name}`](#{spec.name}) | {needed} | {rows} |")
    return "\n".join(lines) + "\n"


def _all_rules(tables: Mapping[str, TableSpec]) -> str:
    lines = [
        "## Rules across columns",
        "",
        "Checked on every row after parsing; a row that breaks one is excluded and ledgered.",
        "",
    ]
    for spec in tables.values():
        rules = frame_rules(spec)
        if rules:
            lines.append(f"- `{spec.name}`: {'; '.join(rules)}.")
    return "\n".join(lines) + "\n"


def markdown(tables: Mapping[str, TableSpec] | None = None) -> str:
    """The whole data-contract page, from ``tables`` (default: every table in schema.py)."""
    tables = TABLES if tables is None else tables
    specs = list(tables.values())
    series = [f"`{s.name}.{c}`" for s in specs for c in s.series]
    intro = INTRO.format(
        regenerate=REGENERATE,
        doc=DOC,
        file_names=" or ".join(f"`<table>{s}`" for s in SUFFIXES),
        quarter=QUARTER_EXAMPLE,
        decimal_columns=", ".join(f"`{s.name}.{c}`" for s in specs for c in s.decimals),
        pound_columns=", ".join(f"`{s.name}.{c}`" for s in specs for c in s.pounds),
        max_excluded_share=_default("max_excluded_share"),
        earliest=f"{EARLIEST:%Y}",
        max_fte_per_row=_default("max_fte_per_row"),
        max_fte_per_team=_default("max_fte_per_team"),
        max_count_jump=_default("max_count_jump"),
        series_columns=_or_list(series) if series else "no table",
        area_tables=_or_list(
            [f"`{s.name}`" for s in specs if "area" in s.columns and s.name not in BASIS]
        ),
        placeholders=", ".join(f"`{p}`" for p in sorted(clean.NO_ID)),
        optional_tables=_code(
            s.name for s in specs if not s.essential and s.name not in PARTNERSHIP
        ),
        partnership_tables=_code(s.name for s in specs if s.name in PARTNERSHIP),
        label_columns=_code(dict.fromkeys(col for _, col in LABELS)),
        suppression_floor=f"{SUPPRESSION_FLOOR:g}",
        gap_tables=_code(s.name for s in specs if s.gaps),
        markers=_code(NOT_COLLECTED),
        subtotal_tables=_code(PERIOD_TOTALS),
        copy_tables=_code(("returns", "police", "marac")),
        copy_min=COPY_MIN_TOTAL,
        vintage_limit=VINTAGE_LIMIT,
    )
    parts = [_reflow(intro), _formats(), _overview(tables), _all_rules(tables)]
    parts += [table_section(spec) for spec in specs]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Print the document, write it (``--out``) or check a written one (``--check``)."""
    return generated_doc.command(
        argv,
        prog="python -m daanalysis.ingest.contract",
        doc=DOC,
        markdown=markdown,
        regenerate=REGENERATE,
    )


__all__ = ["DOC", "INTRO", "REGENERATE", "frame_rules", "main", "markdown", "table_section"]

if __name__ == "__main__":
    sys.exit(main())
