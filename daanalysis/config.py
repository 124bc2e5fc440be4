"""Thresholds, costs and benchmarks, each with its source.

Configuration is data: ``config.csv`` beside the extract (columns ``key, value, unit, source``)
overrides the defaults below, so a council can change a cost or a threshold without touching code,
and every figure in a report can cite where it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

# key: (default, unit, source)
DEFAULTS: dict[str, tuple[object, str, str]] = {
    "default_area": (
        "",
        "name",
        "Area name used when an extract has no area column (or a row's area is blank). No "
        "default: without an area column or this setting, loading stops and asks for one.",
    ),
    "safe_caseload_per_fte": (
        30.0,
        "open cases per FTE",
        "SafeLives best-practice level of 30 cases per caseworker, as stated by officers in the "
        "committee minutes (Domestic Abuse Update).",
    ),
    "safe_band_lower": (
        27.0,
        "open cases per FTE",
        "Committee minutes: the level of 30 'included a 20% margin either way (27-33 cases)'.",
    ),
    "safe_band_upper": (
        33.0,
        "open cases per FTE",
        "Committee minutes: the level of 30 'included a 20% margin either way (27-33 cases)'.",
    ),
    "cost_per_fte": (
        37500.0,
        "GBP a year",
        "Assumption: caseworker (IDVA) salary of about GBP 29,000 plus 30% on-costs. Replace with "
        "the commissioned service's contract figure.",
    ),
    "growth_bid": (
        75000.0,
        "GBP a year",
        "Committee minutes: proposal of an additional GBP 75k for case work staff.",
    ),
    "demand_growth_annual": (
        0.07,
        "share a year",
        "Committee minutes: 'referrals were up approximately 7% from last year'.",
    ),
    "csew_prevalence": (
        0.048,
        "share of adults 16+ a year",
        "ONS, Domestic abuse in England and Wales overview, November 2024 (CSEW year ending March "
        "2024): 4.8% of people aged 16+ (about 2.3 million) experienced domestic abuse in the last "
        "year.",
    ),
    "marac_per_10k_women": (
        40.0,
        "MARAC cases a year per 10,000 women 16+",
        "SafeLives, 'Reviewing your Marac data': recommended volume of 40 cases per 10,000 adult "
        "(16+) women a year.",
    ),
    "marac_repeat_expected": (
        0.31,
        "share of MARAC cases",
        "SafeLives national Marac data 2023-24: about 31% of cases were repeats (a further "
        "incident within 12 months of the last referral).",
    ),
    "response_working_days": (
        1.0,
        "working days",
        "Committee minutes: the commissioned service's KPI to respond to referrals within one "
        "working day.",
    ),
    "response_target_share": (
        0.90,
        "share of referrals",
        "Assumption: 90% of referrals contacted within the KPI. "
        "Replace with the contract's target.",
    ),
    "suppression_threshold": (
        5.0,
        "count",
        "Disclosure control: counts below this (1 to 4 by default) are suppressed, following ONS "
        "small-cell practice.",
    ),
    "max_excluded_share": (
        0.05,
        "share of rows",
        "Data quality: above this share of excluded rows in one file (or in one area's rows of "
        "a file), loading stops with an error because the extract is probably in the wrong "
        "format.",
    ),
    "caseload_roles": (
        "IDVA;Outreach worker",
        "roles, ';' separated",
        "Roles that carry a caseload; managers and admin staff are excluded from caseload per FTE.",
    ),
    "extract_date": (
        "",
        "date (dd/mm/yyyy or yyyy-mm-dd)",
        "The day the extract was taken: no referral, contact, closure, month or review may be "
        "later. Blank: the date labelled 'extract_date:' in the VINTAGE file (yyyy-mm-dd or "
        "dd/mm/yyyy), or the one date VINTAGE holds, else the day of the run.",
    ),
    "max_fte_per_row": (
        40.0,
        "FTE",
        "Plausibility: one team and role in one month above this many FTE is taken as a keying "
        "error (e.g. 15 for 1.5) and excluded. A borough's whole DA service is usually 5-30 FTE.",
    ),
    "max_fte_per_team": (
        100.0,
        "FTE",
        "Plausibility: a team's total FTE in one month above this is taken as a keying error; "
        "that team's month is excluded.",
    ),
    "max_count_jump": (
        10.0,
        "times the series median",
        "Plausibility: a monthly count (police, MARAC, returns) more than this many times the "
        "median of its own series is excluded as a probable keying or unit error.",
    ),
    "allow_low_suppression": (
        "no",
        "yes / no",
        "Disclosure control: 'yes' allows a suppression_threshold below 5, the floor for "
        "published counts; every page then says so. Leave 'no' unless the data owner agreed.",
    ),
    # Partnership activity and staffing alerts (issue 12).
    "perpetrator_police_share_target": (
        0.25,
        "share of perpetrator referrals",
        "Assumption: a partnership target of a quarter of perpetrator referrals from the police. "
        "The committee minutes record that most come from Children's Services or self-referral "
        "and that officers are working with the police to raise police referrals; replace with "
        "the partnership's own target.",
    ),
    "sanctuary_cost_high": (
        200.0,
        "GBP per property",
        "Committee minutes: home security measures 'probably average around GBP 50 - GBP 200 "
        "per property'; more extensive measures cost a few hundred pounds. Properties above this "
        "are counted as the costlier tail.",
    ),
    "publish_school_names": (
        "no",
        "yes / no",
        "Whether the committee page names the schools never engaged in prevention. 'no' keeps "
        "the list for officers only (analysts/schools_not_engaged.csv in the run folder, not "
        "linked).",
    ),
    "alert_caseload_months": (
        2.0,
        "consecutive month ends",
        "Committee minutes: 'What alerts were in place if staffing became under pressure?'. "
        "Alert when open cases per caseworker FTE are above the safe band's upper limit at this "
        "many consecutive month ends (from quarterly returns, which give quarter ends only: "
        "the quarter ends spanning them, rounded up).",
    ),
    "alert_response_quarters": (
        1.0,
        "consecutive quarters",
        "Alert when the share of referrals contacted within the KPI is below "
        "response_target_share for this many consecutive quarters (committee minutes: the "
        "one-working-day KPI).",
    ),
    "alert_breach_quarters": (
        2.0,
        "quarters ahead",
        "Committee minutes: officers to monitor the need for a further growth bid. Alert when, "
        "at today's staffing and demand_growth_annual, caseload per FTE breaches the band within "
        "this many quarters.",
    ),
    "alert_vacancy_share": (
        0.10,
        "share of funded caseworker FTE",
        "Assumption: alert when more than 10% of funded caseworker FTE is vacant at the quarter "
        "end; replace with the contract's threshold.",
    ),
    "publisher": (
        "",
        "name",
        "Who publishes the pack (for example the council's community safety team), shown with "
        "contact_email on the spreadsheet's cover as the Analysis Function's guidance asks. "
        "Blank: the cover says it was not set.",
    ),
    "contact_email": (
        "",
        "email address",
        "Where a reader sends questions about the pack, shown on the spreadsheet's cover. "
        "Blank: the cover says it was not set.",
    ),
}

SUPPRESSION_FLOOR = 5.0

# key: (lowest, highest) allowed. Values outside are refused: a typo in config must not publish
# a wrong figure (a cost of 3750 for 37500) or switch a safeguard off (a suppression threshold
# of 0, an excluded-row share of 5 meaning 500%).
RANGES: dict[str, tuple[float, float]] = {
    "safe_caseload_per_fte": (5, 100),
    "safe_band_lower": (5, 100),
    "safe_band_upper": (5, 100),
    "cost_per_fte": (5_000, 200_000),
    "growth_bid": (0, 10_000_000),
    "demand_growth_annual": (-0.5, 1),
    "csew_prevalence": (0.001, 0.5),
    "marac_per_10k_women": (1, 500),
    "marac_repeat_expected": (0, 1),
    "response_working_days": (0.5, 30),
    "response_target_share": (0, 1),
    "suppression_threshold": (1, 100),
    "max_excluded_share": (0, 0.5),
    "max_fte_per_row": (1, 1_000),
    "max_fte_per_team": (1, 5_000),
    "max_count_jump": (2, 1_000),
    "perpetrator_police_share_target": (0, 1),
    "sanctuary_cost_high": (1, 10_000),
    "alert_caseload_months": (1, 24),
    "alert_response_quarters": (1, 8),
    "alert_breach_quarters": (0, 16),
    "alert_vacancy_share": (0, 1),
}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def response_window(working_days: float) -> str:
    """What the response KPI measures, in words, from ``response_working_days``: "within one
    working day" at 1, "within two working days" at 2, "within 1.5 working days" at 1.5.

    Every label, sentence and KPI name of the response figure is built from this, so that a
    changed setting changes what the page says the figure measures, not only the figure.
    """
    days = float(working_days)
    if days.is_integer() and 1 <= days <= len(_NUMBER_WORDS):
        word = _NUMBER_WORDS[int(days) - 1]
    else:
        word = f"{days:g}"
    return f"within {word} working day{'' if days == 1 else 's'}"


def response_kpi_name(config: Config) -> str:
    """The ``kpis.csv`` name of the response figure, e.g. "Referrals contacted within two
    working days"; it starts with :data:`RESPONSE_KPI_PREFIX` whatever the setting."""
    return f"Referrals contacted {response_window(config.response_working_days)}"


RESPONSE_KPI_PREFIX = "Referrals contacted within"


class ConfigError(ValueError):
    """A setting is missing, malformed or out of range; the message says which and the fix."""


def parse_date(text: str) -> pd.Timestamp | None:
    """``dd/mm/yyyy`` or ``yyyy-mm-dd`` (never month-first); None if it is neither."""
    for fmt in DATE_FORMATS:
        stamp = pd.to_datetime(text.strip(), format=fmt, errors="coerce")
        if not pd.isna(stamp):
            return stamp
    return None


def check_value(key: str, value: object, allow_low_suppression: bool = False) -> str | None:
    """Why ``value`` is not acceptable for ``key`` (None if it is)."""
    if key in RANGES:
        low, high = RANGES[key]
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number) or not low <= number <= high:
            said = f"{number:g} is outside the plausible range {low:g} to {high:g} for {key}"
            if high <= 1 and low <= number / 100 <= high:  # a share written as a percentage
                said += f"; it is a share: write {number:g}% as {number / 100:g}"
            return said
    if key == "suppression_threshold":
        number = float(value)  # type: ignore[arg-type]
        if number != int(number):
            return f"{number:g} is not a whole number; suppression counts people"
        if number < SUPPRESSION_FLOOR and not allow_low_suppression:
            return (
                f"{number:g} is below {SUPPRESSION_FLOOR:g}, the floor for published counts "
                "(ONS small-cell practice). If the data owner agreed to publish smaller counts, "
                "add the setting allow_low_suppression = yes; every page will then say so"
            )
    if key in ("allow_low_suppression", "publish_school_names") and str(
        value
    ).strip().lower() not in ("yes", "no"):
        return f"{value!r} must be yes or no"
    if key == "contact_email" and str(value).strip() and "@" not in str(value):
        return f"{value!r} is not an email address"
    if key == "extract_date" and str(value).strip() and parse_date(str(value)) is None:
        return f"{value!r} is not a date; write it as dd/mm/yyyy or yyyy-mm-dd"
    return None


@dataclass(frozen=True)
class Config:
    """Analysis settings; see ``DEFAULTS`` for units and sources.

    Each default is written once, in ``DEFAULTS``; the fields read it from there.
    """

    default_area: str = DEFAULTS["default_area"][0]
    safe_caseload_per_fte: float = DEFAULTS["safe_caseload_per_fte"][0]
    safe_band_lower: float = DEFAULTS["safe_band_lower"][0]
    safe_band_upper: float = DEFAULTS["safe_band_upper"][0]
    cost_per_fte: float = DEFAULTS["cost_per_fte"][0]
    growth_bid: float = DEFAULTS["growth_bid"][0]
    demand_growth_annual: float = DEFAULTS["demand_growth_annual"][0]
    csew_prevalence: float = DEFAULTS["csew_prevalence"][0]
    marac_per_10k_women: float = DEFAULTS["marac_per_10k_women"][0]
    marac_repeat_expected: float = DEFAULTS["marac_repeat_expected"][0]
    response_working_days: float = DEFAULTS["response_working_days"][0]
    response_target_share: float = DEFAULTS["response_target_share"][0]
    suppression_threshold: float = DEFAULTS["suppression_threshold"][0]
    max_excluded_share: float = DEFAULTS["max_excluded_share"][0]
    caseload_roles: str = DEFAULTS["caseload_roles"][0]
    extract_date: str = DEFAULTS["extract_date"][0]
    max_fte_per_row: float = DEFAULTS["max_fte_per_row"][0]
    max_fte_per_team: float = DEFAULTS["max_fte_per_team"][0]
    max_count_jump: float = DEFAULTS["max_count_jump"][0]
    allow_low_suppression: str = DEFAULTS["allow_low_suppression"][0]
    perpetrator_police_share_target: float = DEFAULTS["perpetrator_police_share_target"][0]
    sanctuary_cost_high: float = DEFAULTS["sanctuary_cost_high"][0]
    publish_school_names: str = DEFAULTS["publish_school_names"][0]
    alert_caseload_months: float = DEFAULTS["alert_caseload_months"][0]
    alert_response_quarters: float = DEFAULTS["alert_response_quarters"][0]
    alert_breach_quarters: float = DEFAULTS["alert_breach_quarters"][0]
    alert_vacancy_share: float = DEFAULTS["alert_vacancy_share"][0]
    publisher: str = DEFAULTS["publisher"][0]
    contact_email: str = DEFAULTS["contact_email"][0]
    sources: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Checked here as well as in read_config, so a Config built in code is held to the
        # same ranges as one read from a file.
        for key in DEFAULTS:
            problem = check_value(key, getattr(self, key), self.low_suppression_allowed)
            if problem:
                raise ConfigError(f"config {key}: {problem}.")
        if not self.safe_band_lower <= self.safe_caseload_per_fte <= self.safe_band_upper:
            raise ConfigError(
                f"config: safe_caseload_per_fte ({self.safe_caseload_per_fte}) must lie inside "
                f"the band {self.safe_band_lower}-{self.safe_band_upper}."
            )

    @property
    def roles(self) -> list[str]:
        return [r.strip() for r in self.caseload_roles.split(";") if r.strip()]

    @property
    def low_suppression_allowed(self) -> bool:
        return str(self.allow_low_suppression).strip().lower() == "yes"

    @property
    def extract_timestamp(self) -> pd.Timestamp | None:
        """``extract_date`` as a timestamp (None when blank)."""
        return parse_date(self.extract_date) if self.extract_date.strip() else None

    @property
    def disclosure_warning(self) -> str:
        """A sentence for every page when disclosure control was lowered below the floor."""
        if self.suppression_threshold >= SUPPRESSION_FLOOR:
            return ""
        return (
            f"Warning: small-number suppression lowered to counts below "
            f"{self.suppression_threshold:g} (the floor is {SUPPRESSION_FLOOR:g}) by the "
            "setting allow_low_suppression."
        )

    def source(self, key: str) -> str:
        return dict(self.sources).get(key, DEFAULTS[key][2])

    def table(self) -> pd.DataFrame:
        """Every setting with its value, unit and source, for the report's sources section."""
        rows = [
            {"key": k, "value": getattr(self, k), "unit": DEFAULTS[k][1], "source": self.source(k)}
            for k in DEFAULTS
        ]
        return pd.DataFrame(rows)


def text_encodings(path: Path) -> tuple[str, ...]:
    """The encodings to try for a small CSV file, in order: UTF-16 when it starts with a UTF-16
    byte-order mark (Excel's "Unicode Text"), else UTF-8 (with or without BOM) then
    Windows-1252."""
    with Path(path).open("rb") as file:
        start = file.read(2)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        return ("utf-16",)
    return ("utf-8-sig", "cp1252")


class UnreadableTable(ValueError):
    """A small CSV that cannot be read as a table; ``reason`` is "empty", "parse" or
    "encoding" and ``detail`` is pandas' own message, so each caller can say how to fix it."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


def read_small_csv(path: Path) -> pd.DataFrame:
    """A small analyst-kept CSV (settings, mappings) as text, in the encodings Excel writes,
    with lower-case stripped headers; raises :class:`UnreadableTable` when it cannot be read."""
    for encoding in text_encodings(path):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as err:
            raise UnreadableTable("empty", str(err)) from None
        except pd.errors.ParserError as err:
            raise UnreadableTable("parse", str(err)) from None
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        return frame
    raise UnreadableTable("encoding")


def _read_config_frame(path: Path) -> pd.DataFrame:
    """The config table, tolerating the encodings Excel writes, with clear errors otherwise."""
    try:
        frame = read_small_csv(path)
    except UnreadableTable as err:
        raise ConfigError(
            {
                "empty": f"{path}: the file is empty. Give it a header row 'key,value,unit,source' "
                "and one row per setting to change, or delete it to use the defaults.",
                "parse": f"{path}: cannot be read as a table ({err.detail}). Save it as CSV with "
                "the columns key, value, unit, source (quote values that contain commas).",
                "encoding": f"{path}: cannot be decoded as UTF-8 or Windows-1252; save it as CSV.",
            }[err.reason]
        ) from None
    missing = {"key", "value"} - set(frame.columns)
    if missing:
        raise ConfigError(
            f"{path}, row 1 (header): config needs columns key, value (and ideally unit, "
            f"source); missing {', '.join(sorted(missing))}. Found: {', '.join(frame.columns)}."
        )
    return frame


def read_config(path: str | Path | None) -> Config:
    """Defaults overridden by ``path`` (a ``config.csv``).

    Unknown keys, repeated keys, values that are not numbers where a number is needed, and values
    outside the plausible range of each setting (``RANGES``) are errors naming the row and column.
    """
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    rows: dict[str, int] = {}
    if path is not None and Path(path).exists():
        frame = _read_config_frame(Path(path))
        types = {f.name: f.type for f in fields(Config)}
        for i, row in frame.iterrows():
            line = int(i) + 2  # the row number a spreadsheet shows (header = 1)
            key = row["key"].strip()
            if not key and not row["value"].strip():
                continue  # a blank line
            if key not in DEFAULTS:
                raise ConfigError(
                    f"{path}, row {line}, column key: unknown setting {key!r}. "
                    f"Known settings: {', '.join(DEFAULTS)}."
                )
            if key in rows:
                raise ConfigError(
                    f"{path}, row {line}, column key: {key} is set again (first on row "
                    f"{rows[key]}). Keep one row per setting."
                )
            rows[key] = line
            raw = row["value"].strip()
            if types[key] in ("str", str):
                values[key] = raw
            else:
                try:
                    values[key] = float(raw)
                except ValueError:
                    raise ConfigError(
                        f"{path}, row {line}, column value: {raw!r} is not a number for {key}. "
                        "Write digits with a decimal point and no thousands separators or "
                        "currency signs (e.g. 37500 or 0.07)."
                    ) from None
            if row.get("source", "").strip():
                sources[key] = row["source"].strip()
        allowed = str(values.get("allow_low_suppression", "no")).strip().lower() == "yes"
        for key, value in values.items():
            problem = check_value(key, value, allowed)
            if problem:
                raise ConfigError(f"{path}, row {rows[key]}, column value: {problem}.")
    try:
        return Config(**values, sources=tuple(sources.items()))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
