"""Words: what a reader sees instead of program names, and the pack's fixed text.

Column and value labels (:func:`column_label`, :func:`value_label`), RAG by symbol and word
(:func:`rag_label`), the glossary (:data:`GLOSSARY`), the markers for suppressed, missing and
not-applicable figures and their notes, the verdict in words (:data:`VERDICTS`,
:data:`VERDICT_FIGURES`), and :func:`reader_text` for a setting's source sentence.
"""

from __future__ import annotations

import re

import pandas as pd

from daanalysis.names import slug
from daanalysis.periods import quarter_label
from daanalysis.present.disclosure import MARKER

NOT_AVAILABLE = "[x]"
SUPPRESSION_NOTE = (
    f"{MARKER} = confidential: a count below the suppression threshold, or a figure from which "
    "one could be worked out, is not shown so that no one can be identified."
)
NOT_AVAILABLE_NOTE = f"{NOT_AVAILABLE} = not available."
NOT_APPLICABLE = "[z]"
NOT_APPLICABLE_NOTE = (
    f"{NOT_APPLICABLE} = not applicable (for example, no threshold to rate against)."
)


GLOSSARY: dict[str, str] = {
    "Caseload": "The number of cases a service or a caseworker has open at a point in time (here "
    "at each month end). Caseload per FTE is open cases divided by caseworker FTE in post.",
    "Confidence interval (CI)": "The range of values consistent with the data. A 95% confidence "
    "interval from 1.10 to 1.45 means the true figure is very likely between those values; an "
    "interval that includes 1 (for a ratio) or 0 (for a change) means no change is also "
    "consistent with the data.",
    "Confidence-sensitive streams": "Referrals that rise when people feel more able to come "
    "forward: self-referrals, first-time clients and standard or medium risk cases.",
    "DASH risk levels": "The Domestic Abuse, Stalking and Harassment and Honour-based violence "
    "risk checklist grades a victim's risk as standard, medium or high. High-risk cases are "
    "referred to MARAC.",
    "FTE (full-time equivalent)": "Staff time counted in full-time posts: two half-time "
    "caseworkers are 1.0 FTE.",
    "IDVA": "Independent Domestic Violence Adviser: a trained specialist caseworker who supports "
    "victims at high risk of harm.",
    "Little's law": "A check from queueing theory: the number of open cases should be about the "
    "number of new cases a month times the average number of months a case stays open. A large "
    "difference suggests cases are being held open, or not closed on the system.",
    "MARAC": "Multi-Agency Risk Assessment Conference: a regular local meeting where police, "
    "health, housing, children's services, IDVAs and others share information on high-risk "
    "domestic abuse cases and agree a safety plan.",
    "Need-sensitive streams": "Measures that rise with the amount of serious abuse rather than "
    "willingness to report: high-risk cases, MARAC cases, repeat referrals and police-recorded "
    "domestic abuse crimes.",
    "RAG": "Red, Amber, Green rating against a threshold or target. In this pack it is always "
    "given in words and with a symbol (✕ red, ! amber, ✓ green), not by colour alone.",
    "Over-dispersion": "When monthly counts vary more than a simple count model expects. The "
    "models allow for it by widening their confidence intervals, so results are not overstated.",
    "Placebo check": "The demand model is run again at dates when no campaign happened. If many "
    "of those dates also show a 'step', a step at a real campaign proves little.",
    "Controlled comparison": "Confidence-sensitive referrals are compared with police-recorded "
    "crimes in one model, so that a real rise in need, or a shock that hits every stream, "
    "cancels out; only a rise relative to need counts as more reporting.",
    "Index (first year = 100)": "A series divided by its average over the first 12 months and "
    "multiplied by 100, so streams of different sizes can be compared: 150 means 50% higher "
    "than in the first year.",
    "Rate ratio": "How many times higher a rate is than a comparison. 1.26 means 26% higher, 1.00 "
    "means no difference and 0.80 means 20% lower.",
    "Repeat referral": "A referral of someone who was already referred in the previous 12 months.",
    "Safe band": "The safe caseload level of 30 open cases per caseworker FTE, with a margin of 27 "
    "to 33, given by officers to the committee as SafeLives best practice.",
    "Statistical power": "The chance that a study would detect an effect of a given size if it "
    "were there. '80% power' for a step of +24% means a step that large would show up 8 times "
    "in 10; a smaller step could be missed, so 'no clear step' is not proof of no change.",
    "Interrupted time series": "A model of a monthly series that allows for its trend and its "
    "seasons, and asks whether the series stepped up or down after a date (here, each awareness "
    "campaign) by more than those would explain.",
    "Month-to-month correlation": "How far one month's figure, once the model has explained what "
    "it can, still tends to follow the month before. The model's confidence intervals are widened "
    "for it, so they are not too narrow.",
    "CSEW": "The Crime Survey for England and Wales, run by the Office for National Statistics "
    "(ONS): a survey of households that asks people about abuse whether or not they reported it "
    "to anyone, so it measures prevalence rather than reporting.",
    "Reach": "Referrals in 12 months as a percentage of the adults the CSEW prevalence rate says "
    "experience domestic abuse in the area in a year.",
    "SafeLives": "A national domestic abuse charity that sets practice standards for IDVA "
    "caseloads and MARAC, and publishes national MARAC data.",
    "Sanctuary scheme": "Home security measures (new locks, door chains, a video doorbell and "
    "so on) that let a victim-survivor stay safely in their own home.",
    "Percentage points": "The difference between two percentages: a change from 30% to 33% is "
    "3 percentage points (and a 10% rise).",
    "Median": "The middle value when the values are put in order: half are below it and half "
    "above. The middle half is the range of the central 50% of values.",
    "DA": "Domestic abuse.",
    "Suppression": "Small numbers are hidden (shown as [c]) so that no one can be identified. "
    "Where a total would let a hidden number be worked out, a second number is hidden too "
    "(secondary suppression); rates and percentages from a hidden number are hidden with it.",
}

# Program names that reach tables, and what a reader calls them.
COLUMN_LABELS: dict[str, str] = {
    "count": "This quarter",
    "same_quarter_last_year": "Same quarter last year",
    "change_pct": "Change on last year (%)",
    "rolling_12m": "12 months to quarter end",
    "rolling_change_pct": "12-month change (%)",
    "within_kpi": "Contacted within one working day",
    "within_kpi_pct": "Contacted within one working day (%)",
    "no_contact_recorded": "No contact recorded",
    "median_working_days": "Median working days to contact",
    "target_pct": "Target (%)",
    "repeat_12m": "Repeat referrals (12 months)",
    "repeat_rate_pct": "Repeat rate (%)",
    "rate_ratio": "Rate ratio",
    "ci_low": "95% CI lower",
    "ci_high": "95% CI upper",
    "per_fte": "Open cases per FTE",
    "open_caseload": "Open cases",
    "open_cases": "Open cases",
    "caseworker_fte": "Caseworker FTE in post",
    "caseworker_fte_funded": "Caseworker FTE funded",
    "vacant_fte": "Vacant FTE",
    "fte": "FTE",
    "rag": "Status",
    "rag_before": "Status at previous review",
    "action_id": "Action",
    "action": "Description",
    "lead": "Lead",
    "progress": "Progress",
    "priority": "Priority",
    "change": "Change",
    "key": "Setting",
    "value": "Value",
    "unit": "Unit",
    "source": "Source",
    "kpi": "Measure",
    "area": "Area",
    "quarter": "Quarter",
    "month": "Month",
    "indicator": "Indicator",
    "referrals": "Referrals",
    "contacted": "Contacted",
    "total": "Total",
}

# Setting keys and code values that should read as words.
VALUE_LABELS: dict[str, str] = {
    "default_area": "Area name when the extract has none",
    "safe_caseload_per_fte": "Safe caseload per caseworker FTE",
    "safe_band_lower": "Safe band, lower limit",
    "safe_band_upper": "Safe band, upper limit",
    "cost_per_fte": "Cost per caseworker FTE",
    "growth_bid": "Growth bid",
    "demand_growth_annual": "Demand growth a year",
    "csew_prevalence": "Prevalence of domestic abuse (CSEW)",
    "marac_per_10k_women": "MARAC benchmark per 10,000 women",
    "marac_repeat_expected": "Expected MARAC repeat rate",
    "response_working_days": "Response KPI (working days)",
    "response_target_share": "Response KPI target",
    "suppression_threshold": "Suppression threshold",
    "max_excluded_share": "Largest share of rows that may be excluded",
    "caseload_roles": "Roles that carry a caseload",
    "perpetrator_police_share_target": "Target share of perpetrator referrals from the police",
    "sanctuary_cost_high": "Home security cost above which a property counts as costly",
    "alert_caseload_months": "Caseload alert: month ends above the band before it fires",
    "alert_response_quarters": "Response alert: quarters below target before it fires",
    "alert_breach_quarters": "Growth alert: how far ahead a breach of the band is flagged",
    "alert_vacancy_share": "Vacancy alert: share of funded caseworker FTE vacant",
    "publish_school_names": "Name the schools never engaged on the page",
    "allow_low_suppression": "Allow a suppression threshold below 5",
    "extract_date": "Date the extract was taken",
    "max_fte_per_row": "Most FTE accepted for one team and role in a month",
    "max_fte_per_team": "Most FTE accepted for one team in a month",
    "max_count_jump": "Largest jump accepted in a monthly count",
    "publisher": "Publisher of the pack",
    "contact_email": "Contact email for questions about the pack",
    "children_services": "Children's services",
    "self_referral": "Self-referral",
    "self_referrals": "Self-referrals",
    "first_time": "First-time clients",
    "standard_medium_risk": "Standard and medium risk",
    "high_risk": "High risk",
    "police_crimes": "Police-recorded DA crimes",
    "police_incidents": "Police-recorded DA incidents",
    "marac_cases": "MARAC cases",
    "amber/green": "Amber/green",
    "rated": "Rated for the first time",
    "new": "New action",
}

RAG_SYMBOLS: dict[str, str] = {
    "red": "✕",
    "amber": "!",
    "amber/green": "!",
    "green": "✓",
    "grey": "–",
    "not rated": "–",
}

_CODE_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def column_label(name: object) -> str:
    """A reader's name for a column: ``same_quarter_last_year`` -> ``Same quarter last year``."""
    text = str(name)
    if text in COLUMN_LABELS:
        return COLUMN_LABELS[text]
    if _CODE_NAME.match(text) or text.islower():
        words = text.replace("_pct", " (%)").replace("_", " ").strip()
        words = re.sub(r"\bgbp\b", "£", words, flags=re.IGNORECASE)
        return capitalised(words)
    return capitalised(text)


def value_label(value: object) -> object:
    """Code values (``children_services``) as words; everything else unchanged."""
    if isinstance(value, str):
        if value in VALUE_LABELS:
            return VALUE_LABELS[value]
        if _CODE_NAME.match(value) or re.fullmatch(r"[a-z][a-z /-]{0,38}", value):
            return capitalised(value.replace("_", " "))
    return value


_CODE_WORD = re.compile(r"(?<![/\w.])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b(?!\.\w)")


def words_in_text(text: str) -> str:
    """Program names inside a sentence as words (``closed_date is before referral_date`` ->
    ``closed date is before referral date``); file names (``mappings/referral_source.csv``)
    are left as they are, since an officer has to find them."""
    return _CODE_WORD.sub(lambda m: m.group(1).replace("_", " "), text)


def rag_label(rag: object) -> str:
    """RAG by symbol and word (``✕ Red``), never by colour alone; blank when not rated."""
    if not isinstance(rag, str) or not rag.strip():
        return ""
    key = rag.strip().lower()
    word = {"grey": "No data"}.get(key, key.capitalize())
    return f"{RAG_SYMBOLS.get(key, '')} {word}".strip()


def reader_text(text: object) -> str:
    """A sentence from a setting's source or a program, as a reader should see it: ``GBP 75k``
    as ``£75k``, setting names (``response_target_share``) as their labels, no doubled stops."""
    out = re.sub(r"\bGBP\s*(?=\d)", "£", str(text))
    for key, label in VALUE_LABELS.items():
        if "_" in key:
            out = re.sub(rf"\b{re.escape(key)}\b", label[:1].lower() + label[1:], out)
    return re.sub(r"\.\s*;", ";", out).replace("..", ".")


def markdown_literal(text: object) -> str:
    """``text`` for a Markdown output, every Markdown mark in it backslash-escaped, so that a
    sentence quoting the data (a file, sheet or column name with ``*`` or ``_``, a cell
    written ``*``) is shown as written and not read as emphasis or a link. ``<`` and ``&`` are
    left to the pack's sanitiser, which escapes HTML before the Markdown is read
    (``daanalysis.pack.export.output_sanitizer``)."""
    return re.sub(r"([\\`*_\[\](){}#+!|~])", r"\\\1", str(text))


def capitalised(text: str) -> str:
    """Text opening a sentence or a heading: its first letter in capitals, the rest as it is."""
    return text[:1].upper() + text[1:]


def in_sentence(label: str) -> str:
    """A label inside a sentence: lower-case first letter unless it is an acronym (``MARAC``)."""
    return label if label[:2].isupper() else label[0].lower() + label[1:]


def quarter_text(quarter: pd.Period) -> str:
    """A quarter as a reader names it: ``2026/27 Q2 (Jul-Sep 2026)``."""
    return quarter_label(quarter)


def quarter_short(quarter: pd.Period) -> str:
    """A quarter in a table's row or a chart's axis, without its months: ``2026/27 Q2``."""
    return quarter_label(quarter, with_months=False)


def safe_name(text: str) -> str:
    """``text`` as an anchor or file-name part: lower case, words joined by ``-``, at most 40."""
    return slug(text)[:40] or "item"


# --- the verdict in words ------------------------------------------------------------------------

VERDICTS = {
    "reporting": "The rise in referrals is mainly more people coming forward (reporting), not "
    "more need",
    "need": "The rise in referrals reflects more need, not only more reporting",
    "both": "Both more reporting and more need are behind the change in referrals",
    "neither": "Neither reporting nor need has changed clearly",
    "inconclusive": "The data cannot yet say whether the change in referrals is reporting or need",
}


VERDICT_FIGURES = {
    "reporting": "Reporting: more people coming forward, not more need",
    "need": "Need: more need, not only more reporting",
    "both": "Both: more reporting and more need",
    "neither": "Neither: no clear change in reporting or need",
    "inconclusive": "Inconclusive: the data cannot yet say",
}
