"""The data contract: what each input table must contain, enforced with pandera.

Each table is described by a :class:`TableSpec`: its required and optional columns, how each column
is parsed (UK dates, months, financial quarters, numbers) and a pandera schema for the row-level
rules. ``docs/data-contract.md`` is the human version of this file, generated from it by
:mod:`daanalysis.ingest.contract` (``python3 tasks.py contract``); a test keeps the two in step. The
descriptions here (``description``, ``notes`` and the column texts) are what that page says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandera.pandas as pa

# Explicit formats only: pandas' inference would read 03/04/2024 as 4 March.
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M")
MONTH_FORMATS = ("%Y-%m", "%b %Y", "%b-%y", "%B %Y", "%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S")
# Accepted as well (after the above, whose order version 1 read them in): a time with seconds,
# ISO 8601 with a "T" and with a UTC offset (read as the UK date and time of that instant, so
# 2024-03-31T23:30:00Z is 1 April), day-first dates with the month in words, and day-first dates
# with dots (01.04.2024, as some case systems export them; a dotted date is day-first wherever it
# is written, so it is never swapped for a month-first file). None of these can be read two ways.
MORE_DATE_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d.%m.%Y",
)
MORE_MONTH_FORMATS = (
    "%b-%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y",
)


# What a count cell may hold to say "not collected" (case and spaces ignored), besides a blank:
# the shorthands councils and the Government Statistical Service write in published returns
# ("[x]", ".." and ":" not available, "n/a" not applicable). Such a
# cell is a gap: never a zero and never a contract break. A dash is not among them: in ONS
# tables "-" means nil (zero), so it is refused as no number rather than read either way.
NOT_COLLECTED = (
    "not collected",
    "not recorded",
    "not available",
    "nc",
    "n/c",
    "n/a",
    "na",
    "..",
    ":",
    "[x]",
)

# What a count cell of a published table may hold for a small count withheld for disclosure
# control: "<5" (any small number), "*", "**", "[c]" (the Government Statistical Service's
# "confidential") and "[low]". Such a cell is a gap in its column, said to be suppressed: never
# 0, never the threshold, and never a reason to drop the row's other counts.
SUPPRESSED = re.compile(r"^(?:<\s*\d{1,2}|\*{1,3}|\[c\]|\[low\])$", re.IGNORECASE)


def _not_before(later: str, earlier: str) -> pa.Check:
    """``later`` on or after ``earlier``, compared by day: a first contact on the day of the
    referral is not before it because the referral's time (10:30) was recorded and its own was
    not."""

    def check(df):
        late, early = df[later].dt.normalize(), df[earlier].dt.normalize()
        return late.isna() | early.isna() | (late >= early)

    return pa.Check(
        check,
        name=f"{later} not before {earlier}",
        error=f"{later} is before {earlier}; correct the dates in the source system",
    )


@dataclass(frozen=True)
class TableSpec:
    """One input table of the data contract.

    ``description`` opens the table's section of ``docs/data-contract.md`` and the column texts
    fill its table; ``notes`` (optional) follow the columns, for what a reader needs beyond them.
    """

    name: str
    description: str
    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    dates: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    checks: tuple[pa.Check, ...] = ()
    column_checks: dict[str, tuple[pa.Check, ...]] = field(default_factory=dict)
    not_null: tuple[str, ...] = ()
    # Number columns that may hold fractions (FTE). Every other number column is a count: a
    # whole number, where a comma is accepted only as a thousands separator (1,500). In a
    # fraction column any comma is refused: "1,5" is a decimal comma, never 15.
    decimals: tuple[str, ...] = ()
    # Amounts in GBP (of ``decimals``): a pound sign is read (£153.38), and so are thousands
    # commas after one or before a decimal point (£1,250, 1,250.00), as finance systems export
    # amounts; each has one reading. Other commas are refused as in any fraction column.
    pounds: tuple[str, ...] = ()
    # Date, month or period columns that must not be later than the extract date.
    not_after_extract: tuple[str, ...] = ()
    # Monthly counts checked against their own series and the population (plausibility).
    series: tuple[str, ...] = ()
    # Counts a year (summed over rows, or a row count for a record-level table under the key
    # "rows") above this share of the area's adults (population.csv) are implausible for the
    # whole file: loading stops naming the file, the figure and the fix (units or scale).
    per_adult_ceiling: dict[str, float] = field(default_factory=dict)
    # Plausibility rules in words, listed under the table in docs/data-contract.md; each is
    # enforced in daanalysis.ingest.checks (the staffing rules, the partnership rules) or by
    # ``checks``.
    plausibility: tuple[str, ...] = ()
    # Rows that add up to one figure per group (staffing: the FTE of an area's month). If one
    # row of a group is excluded the whole group is, so that no partial total is published.
    whole_groups: tuple[str, ...] = ()
    # Tables without which the analysis cannot run; the others only disable their own sections.
    essential: bool = False
    # Tables each of whose rows shapes the model (a campaign, an event): a row that breaks the
    # contract stops the load, naming it, instead of being listed and left out, because the
    # verdict drawn without that campaign or event answers another question without a word.
    every_row: bool = False
    # Count columns of an aggregate table where a blank (or a NOT_COLLECTED marker) means "not
    # collected": the period is a gap for that column, noted in the ledger, never a zero.
    gaps: tuple[str, ...] = ()
    # Of these optional columns, the header must have at least one (returns: a count of some
    # kind); documented with what each enables in ``notes``.
    one_of: tuple[str, ...] = ()
    # Documentation only: prose printed after the columns in docs/data-contract.md.
    notes: str = ""

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}

    def schema(self) -> pa.DataFrameSchema:
        """Row-level rules, applied after parsing."""
        cols = {
            c: pa.Column(
                nullable=c not in self.not_null,
                checks=list(self.column_checks.get(c, ())),
                required=False,
            )
            for c in self.columns
        }
        return pa.DataFrameSchema(cols, checks=list(self.checks), name=self.name)


_non_negative = (pa.Check.ge(0, error="must be zero or more"),)

# Plausibility against the population (issue 20). About 2.8% of adults in England and Wales are
# in a police-recorded domestic abuse incident or crime a year (ONS, Domestic abuse in England and
# Wales overview, November 2024: 1.35 million for about 49 million adults 16+), and 4.8% of
# adults experience domestic abuse (CSEW): a force area above 10% of its adults a year, or one
# service's referrals above 5% (more than every victim in the area), is a units or scale error.
POLICE_PER_ADULT = 0.10
# Sanctuary schemes secure tens to a few hundred properties a year in a borough (the sample:
# about 45 for 150,000 adults); 1% of adults would be thousands. Home security measures cost
# about GBP 50-200 per property (committee minutes): a median above GBP 5,000 is pence.
SANCTUARY_PER_ADULT = 0.01
SANCTUARY_MEDIAN_COST_CEILING = 5_000.0
SANCTUARY_MAX_PER_ROW = 1_000  # properties in one row (a month's or quarter's aggregate)
REFERRALS_PER_ADULT = 0.05
SERIES_RULE = (
    "A month more than `max_count_jump` times the median of its own series (about a year either "
    "side), or above the area's adults, is excluded; a month far below it is a gap (probably not "
    "collected)."
)
POPULATION_RULE = (
    "More {what} a year (the typical month times 12) than {share:.0%} of the area's adults "
    "(population.csv) stops the load: the file's units or scale are wrong."
)
LEVEL_SHIFT_RULE = (
    "A series whose typical month changes more than threefold from one month on, and stays "
    "there, is noted in the ledger and the data-quality notes (a change of counting?); the rows "
    "are used as given."
)

REFERRALS = TableSpec(
    name="referrals",
    description="One row per referral to the commissioned DA service (record-level extract).",
    required={
        "referral_id": "Unique reference of the referral.",
        "client_id": "The service's client reference; pseudonymised on load and never reported.",
        "referral_date": "Date the referral was received (dd/mm/yyyy).",
        "referral_source": "Who referred (self, police, health, ...); mapped to canonical labels.",
        "risk_level": "DASH risk level: standard, medium or high.",
        "first_contact_date": "Date of first contact with the client (blank if not yet).",
        "closed_date": "Date the case closed (blank if still open).",
        "service": "victim, perpetrator or children.",
    },
    optional={
        "area": "Local authority area; defaults to config default_area.",
        "gender": "Client gender as recorded; mapped to canonical labels.",
        "age_band": "Age band as recorded (e.g. 25-34).",
        "ethnicity": "Ethnic group as recorded.",
        "disability": "Disability as recorded (yes / no / not known).",
    },
    dates=("referral_date", "first_contact_date", "closed_date"),
    key=("referral_id",),
    # A referral without a service would fall out of every service's figures unnoticed.
    not_null=("referral_id", "referral_date", "service"),
    not_after_extract=("referral_date", "first_contact_date", "closed_date"),
    essential=True,
    per_adult_ceiling={"rows": REFERRALS_PER_ADULT},
    plausibility=(POPULATION_RULE.format(what="referrals (rows)", share=REFERRALS_PER_ADULT),),
    checks=(
        _not_before("closed_date", "referral_date"),
        _not_before("first_contact_date", "referral_date"),
    ),
)

STAFFING = TableSpec(
    name="staffing",
    description="Staff in post and funded, by month, team and role (FTE).",
    required={
        "month": "Month (yyyy-mm, or any date in the month as dd/mm/yyyy).",
        "team": "Team name.",
        "role": "Role; roles listed in config caseload_roles carry a caseload.",
        "fte_in_post": "Full-time equivalent staff in post in the month.",
        "fte_funded": "Full-time equivalent posts funded in the month.",
    },
    optional={"area": "Local authority area; defaults to config default_area."},
    months=("month",),
    numbers=("fte_in_post", "fte_funded"),
    key=("area", "month", "team", "role"),
    not_null=("month", "role", "fte_in_post"),
    column_checks={"fte_in_post": _non_negative, "fte_funded": _non_negative},
    decimals=("fte_in_post", "fte_funded"),
    not_after_extract=("month",),
    whole_groups=("area", "month"),
    plausibility=(
        "One team and role above `max_fte_per_row` FTE, or a team above `max_fte_per_team`, is "
        "excluded; so is an FTE about a hundred times its series or its row's other FTE (a "
        "percentage: 80 for 0.8).",
        "A team and role's month more than twice, or under half, the median of its steady "
        "neighbouring months (six either side), and at least 1 FTE from it, is excluded as a "
        "keying slip (27.26 for 7.26, 0.73 for 7.3).",
        "A row whose team or role says Total, Subtotal or All, or that equals the sum of the "
        "month's other rows (and is no regular series of its own), is a subtotal: listed in the "
        "ledger, not counted.",
        "When a row of a month is excluded (other than as a subtotal or exact duplicate), the "
        "whole month is, so that no partial total is published.",
    ),
)

POLICE = TableSpec(
    name="police",
    description="Police-recorded domestic abuse for the area, by month.",
    required={
        "month": "Month (yyyy-mm).",
        "da_incidents": "Domestic abuse-related incidents recorded by the police.",
        "da_crimes": "Domestic abuse-related crimes recorded by the police.",
    },
    optional={"area": "Local authority area; defaults to config default_area."},
    months=("month",),
    numbers=("da_incidents", "da_crimes"),
    key=("area", "month"),
    not_null=("month",),
    column_checks={"da_incidents": _non_negative, "da_crimes": _non_negative},
    not_after_extract=("month",),
    series=("da_incidents", "da_crimes"),
    gaps=("da_incidents", "da_crimes"),
    per_adult_ceiling={"da_incidents": POLICE_PER_ADULT, "da_crimes": POLICE_PER_ADULT},
    plausibility=(
        SERIES_RULE,
        POPULATION_RULE.format(what="incidents or crimes", share=POLICE_PER_ADULT),
        LEVEL_SHIFT_RULE,
    ),
)

MARAC = TableSpec(
    name="marac",
    description="MARAC cases discussed and repeat cases, by month or financial quarter.",
    required={
        "period": "Month (yyyy-mm) or financial quarter (2024/25 Q1).",
        "cases_discussed": "Cases discussed at MARAC in the period.",
    },
    optional={
        "area": "Local authority area; defaults to config default_area.",
        "repeat_cases": (
            "Of those, repeats: a further incident within 12 months of the last. Without it the "
            "MARAC repeat rate is not shown."
        ),
    },
    periods=("period",),
    numbers=("cases_discussed", "repeat_cases"),
    key=("area", "period"),
    not_null=("period",),
    column_checks={"cases_discussed": _non_negative, "repeat_cases": _non_negative},
    not_after_extract=("period",),
    series=("cases_discussed",),
    plausibility=(SERIES_RULE, LEVEL_SHIFT_RULE),
    gaps=("cases_discussed", "repeat_cases"),
    checks=(
        pa.Check(
            lambda df: (
                df["repeat_cases"].isna()
                | df["cases_discussed"].isna()
                | (df["repeat_cases"] <= df["cases_discussed"])
            ),
            name="repeat_cases not above cases_discussed",
            error="repeat_cases is larger than cases_discussed",
        ),
    ),
)

POPULATION = TableSpec(
    name="population",
    description="Adults aged 16+ by sex (ONS mid-year estimates), by area and calendar year.",
    required={
        "area": "Local authority area.",
        "year": "Mid-year estimate year (used for the financial year starting that April); "
        "ONS's 'Mid-2023' is read as 2023.",
        "females_16plus": "Women aged 16 and over.",
        "males_16plus": "Men aged 16 and over.",
    },
    numbers=("year", "females_16plus", "males_16plus"),
    key=("area", "year"),
    not_null=("area", "year", "females_16plus", "males_16plus"),
    column_checks={"females_16plus": (pa.Check.gt(0),), "males_16plus": (pa.Check.gt(0),)},
)

CAMPAIGNS = TableSpec(
    name="campaigns",
    description="Awareness campaigns, for the step-change analysis.",
    required={
        "name": "Campaign name.",
        "start_date": "First day of the campaign (dd/mm/yyyy).",
        "end_date": "Last day of the campaign (dd/mm/yyyy).",
    },
    optional={"area": "Area the campaign ran in; blank means every area."},
    notes=(
        "A campaign run in several areas is listed once for each (one row per area, the same "
        "name and dates), or once with a blank area for every area; not both. Several areas "
        "that ran one campaign are also read together (docs/methods.md, pooling across areas)."
    ),
    dates=("start_date", "end_date"),
    key=("name", "area"),
    not_null=("name", "start_date"),
    checks=(_not_before("end_date", "start_date"),),
    every_row=True,
)

EVENTS = TableSpec(
    name="events",
    description=(
        "Other interruptions that the demand model must not credit to campaigns (lockdowns, "
        "recording-practice or law changes)."
    ),
    required={
        "name": "Event name.",
        "start_date": "First day of the event (dd/mm/yyyy).",
        "end_date": "Last day; for a temporary event, when the series had recovered (dd/mm/yyyy).",
        "kind": (
            "level_shift (a permanent change, e.g. a recording-practice change or the Domestic "
            "Abuse Act definition) or temporary (a dip or surge that recovers, e.g. a COVID-19 "
            "lockdown)."
        ),
    },
    optional={"area": "Area the event applies to; blank means every area."},
    notes=(
        "A `level_shift` gets its own permanent step in every stream; a `temporary` event's "
        "months are absorbed month by month (each stream gets its own value for each month from "
        "start to end), so a dip and its recovery inform neither the trend nor a campaign step. "
        "Declare the end as the day the series had recovered. `kind` is read case-insensitively, "
        "with spaces or hyphens read as underscores (`Level shift` is `level_shift`)."
    ),
    dates=("start_date", "end_date"),
    key=("name", "area"),
    not_null=("name", "start_date", "kind"),
    # A column check, so that the reason shows the value ("kind: 'lockdown' is neither ...").
    column_checks={
        "kind": (
            pa.Check.isin(
                ["level_shift", "temporary"], error="is neither level_shift nor temporary"
            ),
        )
    },
    checks=(
        _not_before("end_date", "start_date"),
        pa.Check(
            lambda df: (df["kind"] != "temporary") | df["end_date"].notna(),
            name="temporary event has an end_date",
            error="a temporary event needs an end_date (when the series had recovered)",
        ),
    ),
    every_row=True,
)

ACTION_PLAN = TableSpec(
    name="action_plan",
    description="Action plan progress: one row per action per review.",
    required={
        "priority": "Priority number and title.",
        "action_id": "Action reference, e.g. 1a.",
        "action": "What the action is.",
        "lead": "Lead agency.",
        "review_date": "Date of the progress review (dd/mm/yyyy).",
        "rag": "Red, Amber, Amber/Green or Green (R, A, A/G, G accepted).",
    },
    optional={"progress": "Progress note at the review."},
    dates=("review_date",),
    key=("action_id", "review_date"),
    not_after_extract=("review_date",),
    not_null=("priority", "action_id", "review_date"),
)

RETURN_COUNTS = (
    "referrals",
    "self_referrals",
    "high_risk",
    "standard_medium_risk",
    "first_time",
    "repeat_12m",
    "open_cases_end",
)


def _part_of_referrals(part: str) -> pa.Check:
    """``part`` no more than referrals, checked only where both were collected: a blank
    referrals total is a gap, not a total of zero that every part exceeds."""
    return pa.Check(
        lambda df: df[part].isna() | df["referrals"].isna() | (df[part] <= df["referrals"]),
        name=f"{part} not above referrals",
        error=f"{part} is larger than referrals (it is a part of them)",
    )


RETURNS = TableSpec(
    name="returns",
    description=(
        "Aggregate monitoring returns from the commissioned service, by month or quarter, "
        "for councils without a record-level extract."
    ),
    required={"period": "Month (yyyy-mm) or financial quarter (2024/25 Q1)."},
    optional={
        "area": "Local authority area; defaults to config default_area.",
        "referrals": (
            "Referrals received. Enables referral volumes, rates per 1,000 adults and reach; "
            "without it those say they are not available (it is never derived from the risk "
            "levels: referrals not yet risk-assessed are in neither)."
        ),
        "self_referrals": "Of which self-referrals (a confidence-sensitive stream).",
        "high_risk": (
            "Of which high risk (DASH): a need-sensitive stream, and the demand verdict's "
            "control when police and MARAC figures are missing."
        ),
        "standard_medium_risk": (
            "Of which standard or medium risk: the demand verdict's confidence stream; without "
            "it there is no verdict (it says inconclusive, and why)."
        ),
        "first_time": "Of which clients not referred before.",
        "repeat_12m": "Of which repeat referrals within 12 months.",
        "open_cases_end": "Open cases at the end of the period.",
    },
    notes=(
        "The header needs `period` and at least one of `referrals`, `high_risk` or "
        "`standard_medium_risk`; every count column is optional, and returns that hold only "
        "risk-level counts are accepted. A blank count, or a not-collected marker, is a gap "
        "for that column and period (see *Not collected* above). Monthly returns may keep "
        "their quarterly and annual subtotal rows (see *Subtotal rows* above). "
        "A guide to turning a council's returns into this table, with a worked example: "
        "[docs/your-data.md](your-data.md)."
    ),
    periods=("period",),
    numbers=RETURN_COUNTS,
    key=("area", "period"),
    not_null=("period",),
    column_checks={c: _non_negative for c in RETURN_COUNTS},
    checks=tuple(
        _part_of_referrals(part)
        for part in ("self_referrals", "high_risk", "standard_medium_risk", "first_time")
    )
    + (
        pa.Check(
            lambda df: (
                df["referrals"].isna()
                | (
                    (df["high_risk"].fillna(0) + df["standard_medium_risk"].fillna(0))
                    <= df["referrals"]
                )
            ),
            name="risk levels add up to no more than referrals",
            error="high_risk + standard_medium_risk is larger than referrals",
        ),
    ),
    not_after_extract=("period",),
    series=("referrals", "self_referrals", "high_risk", "standard_medium_risk"),
    per_adult_ceiling={"referrals": REFERRALS_PER_ADULT},
    plausibility=(
        SERIES_RULE,
        POPULATION_RULE.format(what="referrals", share=REFERRALS_PER_ADULT),
        LEVEL_SHIFT_RULE,
    ),
    gaps=RETURN_COUNTS,
    one_of=("referrals", "high_risk", "standard_medium_risk"),
    essential=True,
)

# --- partnership activity (issue 12): optional, each switches off only its own section ----------


def _at_most(part: str, whole: str) -> pa.Check:
    return pa.Check(
        lambda df: df[part].isna() | df[whole].isna() | (df[part] <= df[whole]),
        name=f"{part} not above {whole}",
        error=f"{part} is larger than {whole}",
    )


SCHOOLS = TableSpec(
    name="schools",
    description=(
        "Every school in the area (the register that school engagement is counted out of), "
        "e.g. from the council's education team or Get Information About Schools."
    ),
    required={
        "school": "School name or URN, spelt as in prevention.",
        "phase": "primary, secondary, special, college or other.",
    },
    optional={"area": "Local authority area; defaults to config default_area."},
    notes=(
        "Without it, prevention shows sessions and pupils but not the share of schools engaged, "
        "nor the schools never engaged."
    ),
    key=("area", "school"),
    not_null=("school", "phase"),
)

PREVENTION = TableSpec(
    name="prevention",
    description=(
        "Prevention sessions in schools (e.g. a healthy-relationships programme): one row per "
        "school, programme and month, or, where the provider returns counts only, one row per "
        "phase and month with the school left blank and schools_engaged filled in."
    ),
    required={
        "month": "Month the sessions took place (yyyy-mm, or the session date).",
        "phase": "School phase: primary, secondary, special, college or other.",
        "sessions": "Sessions delivered.",
        "pupils": "Pupils reached (attendances).",
    },
    optional={
        "area": "Local authority area; defaults to config default_area.",
        "school": "School name or URN, as in schools; blank in an aggregate row.",
        "programme": "Programme name.",
        "schools_engaged": "Aggregate rows only: schools that took part in the month.",
    },
    notes=(
        "Without it the prevention section of the partnership page says so and the rest of the "
        "page is unaffected. Terms are read from the month: autumn September to December, spring "
        "January to March, summer April to August (Easter moves, so a session in the Easter weeks "
        "may fall in either of the school's terms). A row with a `school` counts that school as "
        "engaged; an aggregate row (school blank) gives `schools_engaged` for the month, and a "
        "term's figure from aggregate rows is the largest month in it, shown as *at least*. "
        "Phases are matched case-insensitively; anything else is counted as `other`."
    ),
    months=("month",),
    numbers=("sessions", "pupils", "schools_engaged"),
    key=("area", "month", "phase", "school", "programme"),
    not_null=("month", "phase", "sessions"),
    column_checks={c: _non_negative for c in ("sessions", "pupils", "schools_engaged")},
    not_after_extract=("month",),
    gaps=("pupils", "schools_engaged"),
    plausibility=(
        "When `schools` is given, a row naming a school not on the register (case and spacing "
        "aside) is excluded as an unknown school (a misspelling?), not counted as engaged.",
        "When `schools` is given, an aggregate row's schools_engaged above the schools of its "
        "area and phase on the register (engaged share above 100%) is excluded.",
    ),
)

SANCTUARY = TableSpec(
    name="sanctuary",
    description=(
        "Home security (sanctuary) measures that let victim-survivors stay in their own home: one "
        "row per property secured, or an aggregate row per month or quarter."
    ),
    required={
        "period": (
            "Date the work was completed (dd/mm/yyyy), or the month or financial quarter of an "
            "aggregate row."
        ),
        "cost": "Cost in GBP: of the one property, or the total of an aggregate row.",
    },
    optional={
        "area": "Local authority area; defaults to config default_area.",
        "properties": "Properties secured; blank means 1 (one row per property).",
        "stayed_home": (
            "Clients helped to stay in their own home: 1 or 0 for one property, a count for an "
            "aggregate row."
        ),
        "measures": "What was fitted (free text, not published).",
    },
    notes=(
        "The median and spread of cost per property use rows for one property only; aggregate "
        "rows count towards properties, total spend and clients who stayed at home. `measures` "
        "is never published."
    ),
    periods=("period",),
    numbers=("cost", "properties", "stayed_home"),
    decimals=("cost",),
    pounds=("cost",),
    # Every column: a row repeated exactly is the same property counted twice.
    key=("area", "period", "cost", "properties", "stayed_home", "measures"),
    not_null=("period", "cost"),
    column_checks={
        "cost": _non_negative,
        "stayed_home": _non_negative,
        "properties": (
            *_non_negative,
            pa.Check.le(
                SANCTUARY_MAX_PER_ROW,
                error=(
                    f"is above the plausible {SANCTUARY_MAX_PER_ROW:,} properties for one row "
                    "(a borough's scheme secures tens to hundreds a year); check the figure"
                ),
            ),
        ),
    },
    not_after_extract=("period",),
    gaps=("stayed_home",),
    checks=(
        pa.Check(
            lambda df: df["stayed_home"].isna() | (df["stayed_home"] <= df["properties"].fillna(1)),
            name="stayed_home not above properties",
            error=(
                "stayed_home is larger than properties (a blank properties is 1): more clients "
                "stayed at home than properties were secured"
            ),
        ),
    ),
    per_adult_ceiling={"properties": SANCTUARY_PER_ADULT},
    plausibility=(
        "A row repeated exactly (every column the same) is excluded as a duplicate: the same "
        "property would be counted twice.",
        "stayed_home above properties (a blank is 1) excludes the row; so does a row of more "
        f"than {SANCTUARY_MAX_PER_ROW:,} properties.",
        f"A median cost per one-property row above GBP {SANCTUARY_MEDIAN_COST_CEILING:,.0f} "
        "stops the load: home security measures cost about GBP 50 to 200 (committee minutes), "
        "so the costs are probably in pence.",
        f"More properties in a calendar year than {SANCTUARY_PER_ADULT:.0%} of the area's "
        "adults (population.csv) stops the load: a figure is keyed wrong or out of scale.",
    ),
)

PERPETRATOR_PROGRAMME = TableSpec(
    name="perpetrator_programme",
    description=(
        "Behaviour-change programmes for people who cause harm (e.g. the men and masculinities "
        "programme): starts and completions by month or quarter. Perpetrator referrals come from "
        "referrals.csv (service = perpetrator); councils with aggregate returns only give them "
        "here in referrals and police_referrals."
    ),
    required={
        "period": "Month (yyyy-mm) or financial quarter (2024/25 Q1).",
        "starts": "People who started the programme.",
        "completions": "People who completed it.",
    },
    optional={
        "area": "Local authority area; defaults to config default_area.",
        "programme": "Programme name.",
        "referrals": "Perpetrator referrals received, where referrals.csv has none.",
        "police_referrals": "Of which referred by the police.",
    },
    notes=(
        "**Perpetrator referrals** are the `service = perpetrator` rows of `referrals` (by "
        "`referral_source`, mapped like every referral): a separate table would duplicate the "
        "referral and its dates. Councils with aggregate `returns` only give perpetrator "
        "referrals here in `referrals` and `police_referrals`; when `referrals` has perpetrator "
        "rows those two columns are ignored."
    ),
    periods=("period",),
    numbers=("starts", "completions", "referrals", "police_referrals"),
    key=("area", "period", "programme"),
    not_null=("period",),
    column_checks={
        c: _non_negative for c in ("starts", "completions", "referrals", "police_referrals")
    },
    not_after_extract=("period",),
    gaps=("starts", "completions", "referrals", "police_referrals"),
    checks=(_at_most("police_referrals", "referrals"),),
    plausibility=(
        "More completions than starts over the whole table, for one area and programme, stops "
        "the load: the columns are probably swapped or a figure mis-keyed (in one period, "
        "completions above starts are normal: people complete what they started earlier).",
    ),
)

# The optional public benchmarks for the comparison of areas (issue 22): a figure published
# elsewhere (SafeLives' MARAC data, say) drawn beside the areas on the comparison page.
# The comparison page's measures a benchmark can be given for, by the key a row names in its
# ``measure`` column, with the unit its value must be in (daanalysis.metrics.comparison draws
# each measure; a test keeps the two lists in step).
BENCHMARK_MEASURES: dict[str, str] = {
    "referrals_per_1000_adults": "referrals in 12 months per 1,000 adults aged 16 and over",
    "marac_cases_per_10000_women": "MARAC cases in 12 months per 10,000 women aged 16 and over",
    "open_cases_per_fte": "open cases per caseworker FTE at a month end",
}
# A rate beyond this is not a rate of these measures (a count typed in, or the wrong unit): the
# highest plausible is the caseload of 100 open cases a caseworker, and referrals or MARAC cases
# run at 1 to 100 per 1,000 or 10,000 (SafeLives' England and Wales figure is about 40 MARAC
# cases per 10,000 women).
BENCHMARK_MAX_VALUE = 1000

BENCHMARKS = TableSpec(
    name="benchmarks",
    description=(
        "Optional public benchmarks for the comparison of areas (the page made when a run covers "
        "two areas or more): a figure published elsewhere, such as SafeLives' MARAC cases per "
        "10,000 adult women for a police force area or for England and Wales, drawn as a labelled "
        "reference line on the measure's funnel plot and listed under its table and in the "
        "spreadsheet. Download the figures from their publisher and copy them in; without this "
        "file the page shows no benchmark and says so."
    ),
    required={
        "measure": (
            "The comparison measure the figure is for: "
            + "; ".join(f"`{key}` ({unit})" for key, unit in BENCHMARK_MEASURES.items())
            + "."
        ),
        "name": "What the figure is, as the page labels it (e.g. `SafeLives: England and Wales`).",
        "value": "The figure, in the measure's unit (a rate, not a count).",
        "period": "The period it covers, as published (e.g. `12 months to March 2025`).",
        "source": (
            "Who published it and where (e.g. `SafeLives MARAC data, downloaded 01/11/2026`)."
        ),
    },
    notes=(
        "A row with an unknown `measure`, a blank `name`, `period` or `source`, or a `value` that "
        f"is not a number from 0 to {BENCHMARK_MAX_VALUE:,} is excluded and listed in the "
        "ledger with its column, value and fix, and the other rows are used; three bad rows or "
        "more, above the share allowed (config `max_excluded_share`), stop the run naming the "
        "file, the first bad row, its column and the fix. The funnel's centre line stays the "
        "areas' own combined rate: a benchmark is a reference, and the control limits are not "
        "drawn around it. The figures are shown as given; check that they are for the same "
        "period and definition before reading an area against them."
    ),
    numbers=("value",),
    decimals=("value",),
    key=("measure", "name"),
    not_null=("measure", "name", "value", "period", "source"),
    checks=(
        pa.Check(
            lambda df: df["measure"].isin(list(BENCHMARK_MEASURES)),
            name="measure is one of the comparison measures",
            error=(
                "measure must be one of "
                + ", ".join(BENCHMARK_MEASURES)
                + " (the comparison measures: see the data contract)"
            ),
        ),
    ),
    column_checks={
        "value": (
            pa.Check.in_range(
                0,
                BENCHMARK_MAX_VALUE,
                error=(
                    f"is not a rate from 0 to {BENCHMARK_MAX_VALUE:,} (give the published rate in "
                    "the measure's unit, not a count)"
                ),
            ),
        ),
    },
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        REFERRALS,
        STAFFING,
        POLICE,
        MARAC,
        POPULATION,
        CAMPAIGNS,
        EVENTS,
        ACTION_PLAN,
        RETURNS,
        SCHOOLS,
        PREVENTION,
        SANCTUARY,
        PERPETRATOR_PROGRAMME,
        BENCHMARKS,
    )
}
