"""Publication: the pack as a committee reads it, and the downloads behind it.

One place for everything about *presenting* figures, following the Government Analysis Function
guidance on tables, charts and spreadsheets:

- :func:`format_table` / :class:`Table`: the one house formatter. Readable column names, whole
  counts with thousands separators, money with the pound sign, percentages to one decimal,
  ``[c]`` for suppressed cells with a note, a caption above and a source line under every table.
- :class:`Page`: what a notebook publishes. It shows tables and charts (SVG with descriptive alt
  text) and, in a quarterly run, records each table and each chart's data so that the run can
  build one spreadsheet and a CSV per chart (:func:`build_downloads`).
- :func:`main_points`: the front page's plain-English answers, with the change since the last
  quarter's pack; :func:`headline_table`: the headline figures with RAG by word and symbol.
- :data:`GLOSSARY` and :func:`write_glossary`; :func:`stale_warning` for old inputs;
  :func:`print_pdfs` for an A4 PDF of each page through headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import logging
import math
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from daanalysis.config import RESPONSE_KPI_PREFIX
from daanalysis.names import page_stem
from daanalysis.present.disclosure import MARKER
from daanalysis.present.notebook import PARTNERSHIP_AREA

log = logging.getLogger("daanalysis.pack.report")

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
GLOSSARY_PAGE = "glossary.html"
INDEX_PAGE = "index.html"
DOWNLOADS = "downloads"


# --- cells that a spreadsheet would run ----------------------------------------------------------

# OWASP "CSV Injection": a cell starting with one of these is read by Excel, LibreOffice or Google
# Sheets as a formula (tab and carriage return as well, which some of them skip before one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that a spreadsheet reads as a plain number (-4.7, +3, -12%, 1e-3): no formula, kept as is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def inert(value: object) -> object:
    """``value`` safe to put in a spreadsheet or CSV cell: text that would start a formula gets
    a leading single quote, as OWASP's CSV-injection guidance advises, so that
    ``=HYPERLINK(...)`` or ``+cmd`` is shown as the text it is. Numbers, and text that is only a
    number (``-4.7``), are returned unchanged. Applies once: ``'=x`` is left alone."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column label passed through :func:`inert`."""
    out = frame.map(inert) if len(frame.columns) else frame.copy()
    out.columns = [inert(c) for c in frame.columns]
    return out


# gptables reads "[text](url)" in any cell, title or subtitle as a live link and "$$ref$$" as a
# note reference. In data they are text: a word joiner (U+2060, invisible) between the marks
# breaks both patterns and leaves the text as the reader sees it.
_GPTABLES_MARKUP = re.compile(r"(?<=\])(?=\()|(?<=\$)(?=\$)")


def sheet_text(value: object) -> object:
    """``value`` for a cell of the published workbook: :func:`inert`, and gptables' link and
    note markup in text shown as text (see ``_GPTABLES_MARKUP``)."""
    value = inert(value)
    return _GPTABLES_MARKUP.sub("\u2060", value) if isinstance(value, str) else value


def read_csv_back(path: str | Path, **options) -> pd.DataFrame:
    """A CSV this package wrote with :func:`write_csv`, with the quote :func:`inert` added taken
    off again, so that a page shows the text as the data spell it (and last quarter's area
    names match this quarter's). Text that itself began with a quote before a formula
    character (``'=x``) cannot be told from one made inert and loses its quote."""

    def restore(value: object) -> object:
        if isinstance(value, str) and value.startswith("'") and inert(value[1:]) == value:
            return value[1:]
        return value

    frame = pd.read_csv(path, **options)
    frame = frame.map(restore) if len(frame.columns) else frame
    frame.columns = [restore(c) for c in frame.columns]
    return frame


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """``frame`` as a CSV without its index, every text cell made inert (:func:`inert`): the one
    writer of every CSV a reader may open in a spreadsheet (downloads, kpis, alerts, ledger)."""
    inert_frame(frame).to_csv(path, index=False)
    return Path(path)


# --- words ---------------------------------------------------------------------------------------

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
# Quarters, terms and months in a table cell: kept on one line.
_PERIOD_TEXT = re.compile(
    r"\d{4}/\d{2} (Q[1-4]|autumn|spring|summer)|[A-Z][a-z]{2} \d{4}|\d{2}/\d{2}/\d{4}"
)


def column_label(name: object) -> str:
    """A reader's name for a column: ``same_quarter_last_year`` -> ``Same quarter last year``."""
    text = str(name)
    if text in COLUMN_LABELS:
        return COLUMN_LABELS[text]
    if _CODE_NAME.match(text) or text.islower():
        words = text.replace("_pct", " (%)").replace("_", " ").strip()
        words = re.sub(r"\bgbp\b", "£", words, flags=re.IGNORECASE)
        return words[:1].upper() + words[1:]
    return text[:1].upper() + text[1:]


def value_label(value: object) -> object:
    """Code values (``children_services``) as words; everything else unchanged."""
    if isinstance(value, str):
        if value in VALUE_LABELS:
            return VALUE_LABELS[value]
        if _CODE_NAME.match(value) or re.fullmatch(r"[a-z][a-z /-]{0,38}", value):
            words = value.replace("_", " ")
            return words[:1].upper() + words[1:]
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


# --- numbers -------------------------------------------------------------------------------------

KINDS = ("count", "gbp", "pct", "ratio", "decimal", "share", "text", "rag")


def infer_kind(name: str, values: pd.Series) -> str:
    """How a column should be shown, from its name and its values.

    ``count`` (whole numbers with thousands separators), ``gbp`` (pound sign, no pence), ``pct``
    (one decimal, the header says %), ``ratio`` (two decimals), ``decimal`` (one decimal),
    ``rag`` (symbol and word) or ``text``.
    """
    # "95% CI lower" is a confidence level, not a percentage: the bound has the estimate's unit.
    lowered = re.sub(r"\b\d+% (ci|confidence interval)\b", r"\1", str(name).lower())
    if lowered in {"rag", "rag_before", "status"}:
        return "rag"
    if lowered in {"year", "financial year", "calendar year"}:
        return "text"  # 2026, not 2,026
    numbers = pd.to_numeric(values.where(values.astype(str) != MARKER), errors="coerce")
    present = values.notna() & (values.astype(str) != MARKER)
    if present.any() and numbers[present].isna().any():
        return "text"
    if not present.any():
        return "text" if values.dtype == object else "decimal"
    if "gbp" in lowered or "cost" in lowered or "£" in lowered:
        return "gbp"
    if "pct" in lowered or "%" in lowered or "per cent" in lowered:
        return "pct"
    if "ratio" in lowered or lowered in {"ci_low", "ci_high"} or lowered.startswith("ci "):
        return "ratio"
    if "fte" in lowered or "per " in lowered or "rate" in lowered or "mean" in lowered:
        return "decimal"
    finite = numbers[present]
    if (finite == finite.round()).all():
        return "count"
    return "decimal"


def format_value(value: object, kind: str, precision: int | None = None) -> str:
    """One value as published text (``[c]`` and text pass through; missing is ``[x]``)."""
    if isinstance(value, str):
        if kind == "rag":
            return rag_label(value)
        try:
            number = float(value.replace(",", "")) if kind not in {"text"} else None
        except ValueError:
            number = None
        if number is None:
            return words_in_text(str(value_label(value)))
        value = number
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return NOT_AVAILABLE
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, (pd.Timestamp, dt.date)):
        return f"{value:%d/%m/%Y}"
    if kind == "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{int(value)}" if float(value).is_integer() else f"{value:g}"
    if kind == "text" or not isinstance(value, (int, float)):
        return str(value_label(value))
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "gbp":
        return f"£{value:,.0f}"
    if kind == "pct":
        return f"{value:,.{1 if precision is None else precision}f}"
    if kind == "ratio":
        return f"{value:,.{2 if precision is None else precision}f}"
    return f"{value:,.{1 if precision is None else precision}f}"


def _header(name: str, kind: str) -> str:
    label = column_label(name)
    if kind == "pct" and "%" not in label:
        label += " (%)"
    if kind == "gbp":
        label = re.sub(r"\bGBP\b\s*", "£ ", label).replace("£ )", "£)").strip()
        if "£" not in label:
            label += " (£)"
    return label


# --- tables --------------------------------------------------------------------------------------


@dataclass
class Table:
    """A table fit to publish: values as released (``[c]`` kept) plus how to show them."""

    frame: pd.DataFrame
    title: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    precision: int | None = None

    @property
    def headers(self) -> list[str]:
        return [_header(c, self.kinds[c]) for c in self.frame.columns]

    def text(self) -> pd.DataFrame:
        """Every cell as published text, under readable column names."""
        out = pd.DataFrame(
            {
                h: [format_value(v, self.kinds[c], self.precision) for v in self.frame[c]]
                for c, h in zip(self.frame.columns, self.headers, strict=True)
            }
        )
        return out

    def all_notes(self) -> list[str]:
        notes = list(self.notes)
        cells = self.frame.astype(str)
        if (cells == MARKER).to_numpy().any():
            notes.append(SUPPRESSION_NOTE)
        if (self.text() == NOT_AVAILABLE).to_numpy().any():
            notes.append(NOT_AVAILABLE_NOTE)
        return notes

    def html(self) -> str:
        """``<figure>`` with the table, its caption, then source and notes underneath."""
        shown = self.text()
        numeric = [self.kinds[c] not in {"text", "rag"} for c in self.frame.columns]
        head = "".join(
            f'<th scope="col" class="{"num" if n else "txt"}">{html.escape(h)}</th>'
            for h, n in zip(shown.columns, numeric, strict=True)
        )
        rows = []
        for _, row in shown.iterrows():
            cells = []
            for (value, n), kind in zip(
                zip(row, numeric, strict=True),
                [self.kinds[c] for c in self.frame.columns],
                strict=True,
            ):
                css = "num" if n else "txt"
                if not n and len(value) <= 16 and _PERIOD_TEXT.fullmatch(value):
                    css += " nw"  # 2025/26 Q3 on one line, not broken after the year
                if kind == "rag" and value and value != MARKER:
                    css += " rag rag-" + value.split()[-1].lower().replace("/", "-")
                cells.append(f'<td class="{css}">{html.escape(value)}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        foot = []
        if self.source:
            source = re.sub(r"^sources?:\s*", "", self.source.strip(), flags=re.IGNORECASE)
            source = reader_text(source)
            foot.append(f'<p class="da-source">Source: {html.escape(source)}</p>')
        foot += [f'<p class="da-note">{html.escape(n)}</p>' for n in self.all_notes()]
        return (
            '<figure class="da-table"><div class="da-table-wrap"><table class="da">'
            f"{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            f"{''.join(foot)}</figure>"
        )

    def _repr_html_(self) -> str:
        return self.html()


def format_table(
    frame: pd.DataFrame,
    title: str = "",
    source: str = "",
    notes: Iterable[str] = (),
    kinds: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
    precision: int | None = None,
    index: bool = False,
    record: bool = True,
) -> Table:
    """The house formatter: ``frame`` as a :class:`Table` ready to display and to download.

    ``kinds`` overrides :func:`infer_kind` per column (one of :data:`KINDS`); ``columns``
    renames columns (after the kinds are worked out from the original names); ``index=True``
    keeps the index as the first column. Formats are decided per column in one pass, so no
    column's format can reset another's. A table with a ``title`` is also recorded for the
    pack's spreadsheet when the notebook has a :class:`Page` (``record=False`` leaves it out).
    """
    data = frame.reset_index() if index else frame.reset_index(drop=True)
    data.columns = [str(c) for c in data.columns]
    found = {c: infer_kind(c, data[c]) for c in data.columns}
    found.update({k: v for k, v in (kinds or {}).items() if k in found})
    if columns:
        data = data.rename(columns=dict(columns))
        found = {columns.get(c, c): k for c, k in found.items()}
    table = Table(data, title, source, list(notes), found, precision)
    if record and title and Page.current is not None:
        Page.current.record_table(table)  # every published table goes in the spreadsheet
    return table


# Settings that steer loading and checking, not a figure a reader sees: left off the pages'
# Sources sections unless a page asks for them.
TECHNICAL_SETTINGS = frozenset(
    {
        "default_area",
        "max_excluded_share",
        "extract_date",
        "max_fte_per_row",
        "max_fte_per_team",
        "max_count_jump",
        "allow_low_suppression",
        "publish_school_names",
    }
)
# The settings each page's figures rest on, for its Sources section.
PAGE_SETTINGS: dict[str, tuple[str, ...]] = {
    "demand_vs_reporting": (
        "csew_prevalence",
        "marac_per_10k_women",
        "marac_repeat_expected",
        "suppression_threshold",
    ),
    "staffing_gap": (
        "safe_caseload_per_fte",
        "safe_band_lower",
        "safe_band_upper",
        "cost_per_fte",
        "growth_bid",
        "demand_growth_annual",
        "caseload_roles",
        "response_working_days",
        "response_target_share",
        "alert_caseload_months",
        "alert_response_quarters",
        "alert_breach_quarters",
        "alert_vacancy_share",
        "suppression_threshold",
    ),
    "partnership_activity": (
        "perpetrator_police_share_target",
        "sanctuary_cost_high",
        "suppression_threshold",
    ),
}
SETTINGS_SOURCE = (
    "The pack's settings (config.csv in the data folder, or the defaults in the methods), "
    "each with its own source."
)


def reader_text(text: object) -> str:
    """A sentence from a setting's source or a program, as a reader should see it: ``GBP 75k``
    as ``£75k``, setting names (``response_target_share``) as their labels, no doubled stops."""
    out = re.sub(r"\bGBP\s*(?=\d)", "£", str(text))
    for key, label in VALUE_LABELS.items():
        if "_" in key:
            out = re.sub(rf"\b{re.escape(key)}\b", label[:1].lower() + label[1:], out)
    return re.sub(r"\.\s*;", ";", out).replace("..", ".")


def settings_table(config, keys: Iterable[str] | None = None, page: str = "") -> pd.DataFrame:
    """The config's settings for a Sources section: readable names, each value with its unit
    (shares as percentages, money with the pound sign: ``£37,500 a year``) and its source.

    ``keys`` (or ``page``, a key of :data:`PAGE_SETTINGS`) chooses the settings a page's figures
    rest on, in that order; without either, every setting but the technical ones
    (:data:`TECHNICAL_SETTINGS`)."""
    table = config.table()
    if page and keys is None:
        keys = PAGE_SETTINGS.get(page)
    if keys is not None:
        wanted = list(dict.fromkeys(keys))
        table = table.set_index("key").reindex([k for k in wanted if k in set(table["key"])])
        table = table.reset_index()
    else:
        table = table[~table["key"].isin(TECHNICAL_SETTINGS)]
    rows = []
    for _, r in table.iterrows():
        value, unit = r["value"], str(r["unit"])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if unit.startswith("share"):
                shown = f"{100 * value:g}% {unit.removeprefix('share').strip()}"
            elif unit.startswith("GBP"):
                shown = f"£{value:,.0f} {unit[3:].strip() or 'a year'}"
            else:
                number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"
                if value == 1:  # 1 working day, 1 consecutive quarter
                    unit = re.sub(r"\b(day|quarter|month end|month)s\b", r"\1", unit, count=1)
                shown = f"{number} {unit}" if unit not in {"count", "name", ""} else number
        else:
            text = str(value).strip()
            if not text:
                continue  # a blank setting (for example, taken from elsewhere) says nothing
            shown = text.replace(";", ", ")
        rows.append(
            {
                "Setting": value_label(r["key"]),
                "Value": shown.strip(),
                "Source": reader_text(r["source"]),
            }
        )
    return pd.DataFrame(rows, columns=["Setting", "Value", "Source"])


# --- charts --------------------------------------------------------------------------------------


def _figure_svg(fig) -> tuple[str, dict]:
    """IPython display formatter: a figure as SVG, with its alt text as display metadata."""
    return svg_text(fig), {"alt": getattr(fig, "da_alt", "") or "Chart"}


def register_svg_formatter() -> None:
    """Show every matplotlib figure in a notebook as SVG carrying its ``da_alt`` text, so a
    chart a notebook shows itself (not through :meth:`Page.chart`) is accessible too."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipykernel
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    formatters["image/png"].pop(Figure, None)
    formatters["image/svg+xml"].for_type(Figure, _figure_svg)


def svg_text(fig) -> str:
    """The figure as SVG text (text kept as text, so it can be read and searched)."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "daanalysis"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


# --- what a notebook publishes -------------------------------------------------------------------


def _record_dir(kpi_path: str) -> Path | None:
    if not kpi_path:
        return None
    path = Path(kpi_path)
    stem = path.name.removesuffix(".kpis.csv").removesuffix(".csv")
    return path.parent / f"{stem}.publish"


def _safe_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "item"


class Page:
    """What one notebook publishes, shown in the notebook and recorded for the downloads.

    ``Page(ctx, kpi_path)``: in a quarterly run (``kpi_path`` set) each table and each chart's
    data are written beside the kpis file, with a manifest, for :func:`build_downloads`. Opened
    alone in JupyterLab nothing is written.
    """

    current: Page | None = None  # the page a notebook is writing; charts.table records to it

    def __init__(self, ctx, kpi_path: str = "", title: str = "") -> None:
        self.ctx = ctx
        self.title = title
        self.folder = _record_dir(kpi_path)
        self.stem = self.folder.name.removesuffix(".publish") if self.folder else ""
        self.items: list[dict] = []
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
        Page.current = self

    def record_table(self, table: Table) -> None:
        """Record a table built elsewhere (``charts.table``) for the spreadsheet."""
        self._record(
            "table",
            table.title,
            _download_frame(table),
            kinds=dict(
                zip(table.headers, [table.kinds[c] for c in table.frame.columns], strict=True)
            ),
            source=table.source,
            notes=table.all_notes(),
            area=self.ctx.area,
        )

    @property
    def where(self) -> str:
        """Area and period for subtitles: ``Sampleborough, 2026/27 Q2 (Jul-Sep 2026)``."""
        return f"{self.ctx.area}, {self.ctx.label}"

    def _record(self, kind: str, title: str, frame: pd.DataFrame, short: str = "", **extra) -> str:
        number = len(self.items) + 1
        short = _safe_name(short or title)[:24]
        name = f"{self.stem}_{kind}{number}_{short}" if self.stem else ""
        item = {"kind": kind, "title": title, "name": name, "page": self.title, **extra}
        self.items.append(item)
        if self.folder and self.folder.is_dir():
            frame.to_csv(self.folder / f"{name}.csv", index=False)
            (self.folder / "manifest.json").write_text(json.dumps(self.items, indent=1))
        return name

    def table(
        self,
        frame: pd.DataFrame,
        title: str,
        source: str = "",
        notes: Iterable[str] = (),
        **options,
    ) -> None:
        """Show ``frame`` through the house formatter and record it for the spreadsheet."""
        from IPython.display import display

        table = format_table(frame, title, source, notes, record=False, **options)
        self.record_table(table)
        display(table)

    def chart(self, fig, source: str = "", alt: str = "", data: pd.DataFrame | None = None) -> None:
        """Show ``fig`` as SVG with alt text and record its data (``fig.da_data``) as a CSV."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        alt = alt or getattr(fig, "da_alt", "") or "Chart"
        data = data if data is not None else getattr(fig, "da_data", None)
        title = getattr(fig, "da_title", "") or alt
        svg = svg_text(fig)
        plt.close(fig)
        name = ""
        if data is not None:
            name = self._record(
                "chart",
                title,
                data,
                short=getattr(fig, "da_name", ""),
                source=source,
                notes=[f"Data behind the chart. {alt.removeprefix('Chart: ')}"],
                area=self.ctx.area,
            )
        display(
            {"image/svg+xml": svg},
            raw=True,
            metadata={"image/svg+xml": {"alt": alt}},
        )
        if name:
            from IPython.display import Markdown

            display(
                Markdown(f"[Download the data behind this chart (CSV)]({DOWNLOADS}/{name}.csv)")
            )

    def warning(self, text: str | None) -> None:
        """A visible warning (for example, stale input data), when there is one."""
        if text:
            from IPython.display import HTML, display

            display(
                HTML(f'<p class="da-warning"><strong>Warning:</strong> {html.escape(text)}</p>')
            )


def _download_frame(table: Table) -> pd.DataFrame:
    """A table for the spreadsheet: readable headers, numbers kept as numbers, ``[c]`` kept."""
    out = {}
    for col, header in zip(table.frame.columns, table.headers, strict=True):
        kind = table.kinds[col]
        values = table.frame[col]
        if kind == "rag":
            out[header] = [rag_label(v) for v in values]
        elif kind == "text":
            out[header] = [
                NOT_AVAILABLE
                if v is None or (isinstance(v, float) and math.isnan(v))
                else value_label(v)
                if not isinstance(v, (pd.Timestamp, dt.date))
                else f"{v:%d/%m/%Y}"
                for v in values
            ]
        else:
            out[header] = [
                v if isinstance(v, str) else (NOT_AVAILABLE if pd.isna(v) else v) for v in values
            ]
    return pd.DataFrame(out)


# --- sources -------------------------------------------------------------------------------------

# What each input is, in a reader's words, for the source line under a table or chart.
SOURCE_WORDS = {
    "referrals": "commissioned service case records (referrals.csv)",
    "returns": "commissioned service's aggregate monitoring returns (returns.csv)",
    "police": "police-recorded domestic abuse crimes and incidents (police.csv)",
    "marac": "cases heard at MARAC (marac.csv)",
    "population": "ONS mid-year population estimates (population.csv)",
    "staffing": "the service's staffing returns (staffing.csv)",
    "campaigns": "campaign dates (campaigns.csv)",
    "events": "other interruptions such as lockdowns (events.csv)",
    "schools": "school register (schools.csv)",
    "prevention": "prevention provider's session returns (prevention.csv)",
    "sanctuary": "home security (sanctuary) scheme records (sanctuary.csv)",
    "perpetrator_programme": "perpetrator programme starts and completions "
    "(perpetrator_programme.csv)",
    "action_plan": "action plan review meetings of the partnership (action_plan.csv)",
}


def supplied(extract, table: str, area: str = "") -> bool:
    """Whether ``table`` was supplied with rows (for ``area``, where the table has areas).

    ``"referrals"`` stands for the service's own figures in whichever form they came:
    record-level referrals or aggregate returns."""
    if table == "referrals":
        table = "referrals" if extract.basis == "records" else "returns"
    frame = extract.tables.get(table)
    if frame is None or not len(frame):
        return False
    if area and "area" in frame and area != PARTNERSHIP_AREA:
        # A blank area (campaigns, events) applies to every area.
        return bool((frame["area"].isna() | (frame["area"] == area)).any())
    return True


def sources(extract, *tables: str, area: str = "", extra: str = "") -> str:
    """``Source: a; b.`` naming only the tables of ``tables`` that were supplied with rows
    (:func:`supplied`), so a page never credits an input it did not use; ``"referrals"`` is
    worded by the form the service's figures came in (case records or aggregate returns).
    ``extra`` (a sentence such as a benchmark's source) follows the list."""
    names = []
    for table in tables:
        if not supplied(extract, table, area):
            continue
        if table == "referrals" and extract.basis != "records":
            table = "returns"
        names.append(SOURCE_WORDS.get(table, f"{table}.csv"))
    text = "Source: " + ("; ".join(names) if names else "no input table") + "."
    return f"{text} {extra}".strip()


# --- staleness -----------------------------------------------------------------------------------


def stale_warning(
    what: str, latest: object, quarter: pd.Period, months: int = 6, used_for: str = ""
) -> str | None:
    """A warning when ``latest`` (a date, month or year) is more than ``months`` before the end
    of ``quarter``; None when the input is current."""
    end = quarter.end_time.normalize()
    if latest is None or (not isinstance(latest, pd.Period) and pd.isna(latest)):
        return f"{what}: no date found, so how current it is cannot be checked."
    if isinstance(latest, pd.Period):
        when, shown = latest.end_time.normalize(), str(latest)
    elif isinstance(latest, (int, float)) and not isinstance(latest, bool):
        # A population year is a mid-year estimate (30 June).
        when, shown = pd.Timestamp(int(latest), 6, 30), f"mid-{int(latest)}"
    else:
        when = pd.Timestamp(latest)
        shown = f"{when:%d/%m/%Y}"
    age = (end.year - when.year) * 12 + end.month - when.month
    if age <= months:
        return None
    span = f"{age // 12} years and {age % 12} months" if age >= 24 else f"{age} months"
    use = f" {used_for}" if used_for else ""
    return (
        f"{what} is out of date: the latest is {shown}, {span} before the end of "
        f"{quarter_text(quarter)}.{use}"
    )


STALE_AFTER = {  # input: (months allowed before the quarter's end, what it is used for)
    "police": (3, "Police-recorded crimes are the main control in the demand comparison."),
    "population": (24, "Rates per 1,000 adults and the MARAC benchmark use it."),
    "staffing": (3, "Caseload per FTE and the staffing gap use it."),
    "action_plan": (6, "Ratings may no longer reflect progress: ask the leads for a new review."),
}
INPUT_NAMES = {
    "police": "Police data",
    "population": "Population data",
    "staffing": "Staffing data",
    "action_plan": "Action plan review",
}


def input_warnings(extract, area: str, quarter: pd.Period) -> dict[str, str]:
    """Warnings for inputs whose latest date is well before the end of ``quarter``.

    Checks the police and staffing months, the population year and the action plan's latest
    review (limits in :data:`STALE_AFTER`); the rows of ``area`` where a table has areas. Inputs
    that are current, or not in the extract, give no warning.
    """
    columns = {
        "police": "month",
        "population": "year",
        "staffing": "month",
        "action_plan": "review_date",
    }
    out = {}
    for name, column in columns.items():
        frame = extract.tables.get(name) if hasattr(extract, "tables") else None
        if frame is None or column not in frame or frame.empty:
            continue
        if area and "area" in frame and name != "action_plan":
            frame = frame[frame["area"] == area]
        values = frame[column].dropna()
        if values.empty:
            continue
        months, used = STALE_AFTER[name]
        text = stale_warning(INPUT_NAMES[name], values.max(), quarter, months, used)
        if text:
            out[name] = text
    return out


def quarter_text(quarter: pd.Period) -> str:
    from daanalysis.periods import quarter_label

    return quarter_label(quarter)


# --- main points ---------------------------------------------------------------------------------

VERDICTS = {
    "reporting": "The rise in referrals is mainly more people coming forward (reporting), not "
    "more need",
    "need": "The rise in referrals reflects more need, not only more reporting",
    "both": "Both more reporting and more need are behind the change in referrals",
    "neither": "Neither reporting nor need has changed clearly",
    "inconclusive": "The data cannot yet say whether the change in referrals is reporting or need",
}


def _kpi(frame: pd.DataFrame, name: str) -> pd.Series | None:
    rows = frame[frame["kpi"] == name]
    return None if rows.empty else rows.iloc[0]


def _number(value: object) -> float | None:
    try:
        number = float(str(value).replace(",", ""))
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _change(
    now: pd.Series | None,
    before: pd.DataFrame | None,
    fmt: str,
    unit: str = "",
    was_unit: str | None = None,
    what: str = "",
) -> str:
    """`` (up 1.8 from 39.2 last quarter)`` for the kpi of row ``now`` in the previous pack.

    ``unit`` follows the difference and ``was_unit`` (default: ``unit``) last quarter's value,
    so a share reads ``down 1.0 points from 89.0%``; ``what`` names the figure when the
    sentence has several (``red actions unchanged since last quarter``).
    """
    was_unit = unit if was_unit is None else was_unit
    same_text = f" ({what + ' ' if what else ''}unchanged since last quarter)"
    if now is None or before is None or before.empty:
        return ""
    was = _kpi(before, now["kpi"])
    if was is None:
        return ""
    a, b = _number(was["value"]), _number(now["value"])
    if a is None or b is None:
        same = str(was["value"]) == str(now["value"])
        return same_text if same else f" (last quarter: {was['value']})"
    if round(a, 6) == round(b, 6):
        return same_text
    word = "up" if b > a else "down"
    label = f"{what} " if what else ""
    return (
        f" ({label}{word} {fmt.format(abs(b - a))}{unit} from {fmt.format(a)}{was_unit} "
        "last quarter)"
    )


def _demand_point(mine: pd.DataFrame, before: pd.DataFrame | None) -> str:
    verdict = _kpi(mine, "Demand verdict")
    reading = _kpi(mine, "Demand verdict: reading")
    effect = _kpi(mine, "Reporting effect: confidence relative to need")
    volume = _kpi(mine, "Referrals in quarter")
    change = _kpi(mine, "Referrals, change on same quarter last year")
    parts = []
    if verdict is not None and str(verdict["value"]) in VERDICTS:
        word = str(verdict["value"])
        parts.append(VERDICTS[word] + _change(verdict, before, "{}") + ".")
        ratio = _number(effect["value"]) if effect is not None else None
        ci = re.search(r"CI\s*([\d.]+)\s*to\s*([\d.]+)", str(effect["unit"])) if ratio else None
        interval = f", 95% confidence interval {ci.group(1)} to {ci.group(2)}" if ci else ""
        ratio_text = (
            f"rate ratio {ratio:.2f} ({interval.lstrip(', ')})"
            if ratio is not None and interval
            else f"rate ratio {ratio:.2f}"
            if ratio is not None
            else ""
        )
        text = str(reading["value"]).strip() if reading is not None else ""
        # The reading may open with the verdict itself ("Both: ..."): say it once.
        text = re.sub(rf"^{re.escape(word)}\s*[:.-]\s*", "", text, flags=re.IGNORECASE)
        if text:
            text = text[:1].upper() + text[1:].rstrip(".")
            parts.append(text + ".")
            if ratio_text:
                effect = ratio_text.replace("rate ratio ", "rate ratio of ", 1)
                parts.append(f"The reporting effect is a {effect}.")
        elif ratio is not None:
            direction = "higher" if ratio >= 1 else "lower"
            parts.append(
                f"Since the campaigns, confidence-sensitive referrals are {abs(ratio - 1):.0%} "
                f"{direction} relative to need-sensitive ones ({ratio_text})."
            )
    else:
        parts.append("The demand verdict (reporting or need) is not available in this pack.")
    count = _number(volume["value"]) if volume is not None else None
    if count is not None:
        pct = _number(change["value"]) if change is not None else None
        trend = ""
        if pct is not None:
            trend = (
                f", {'up' if pct >= 0 else 'down'} {abs(pct):.1f}% on the same quarter last year"
            )
        parts.append(f"Referrals this quarter: {count:,.0f}{trend}.")
    return " ".join(parts)


def _staffing_points(
    mine: pd.DataFrame, before: pd.DataFrame | None, band: tuple[float, float] | None
) -> list[str]:
    points = []
    safe, gap, cost = (
        _kpi(mine, "Safe staffing"),
        _kpi(mine, "Staffing gap"),
        _kpi(mine, "Cost of the staffing gap"),
    )
    if safe is not None and gap is not None:
        s, g = _number(safe["value"]), _number(gap["value"])
        c = _number(cost["value"]) if cost is not None else None
        if s is not None and g is not None:
            if g > 0:
                money = f", costing £{c:,.0f} a year" if c is not None else ""
                text = (
                    f"Safe staffing is {s:.1f} caseworker FTE: {g:.1f} FTE more than in post"
                    f"{money}{_change(gap, before, '{:.1f}', ' FTE')}."
                )
            else:
                text = f"Safe staffing is {s:.1f} FTE; staff in post cover it ({-g:.1f} FTE spare)."
            points.append(text)
    per_fte = _kpi(mine, "Open cases per caseworker FTE")
    after = _kpi(mine, "Open cases per FTE after the growth bid")
    value = _number(per_fte["value"]) if per_fte is not None else None
    if value is not None:
        where = ""
        if band:
            lo, hi = band
            where = (
                "above" if value > hi else "below" if value < lo else "within"
            ) + f" the safe band of {lo:.0f} to {hi:.0f}"
        rag = rag_label(per_fte.get("rag", ""))
        text = (
            f"Each caseworker FTE holds {value:.1f} open cases"
            f"{', ' + where if where else ''}{' (' + rag + ')' if rag else ''}"
            f"{_change(per_fte, before, '{:.1f}')}."
        )
        after_value = _number(after["value"]) if after is not None else None
        if after_value is not None:
            still = ""
            if band:
                lo, hi = band
                still = (
                    ", still above the band"
                    if after_value > hi
                    else ", within the band"
                    if after_value >= lo
                    else ", below the band"
                )
            text += f" The growth bid would bring this to {after_value:.1f}{still}."
        points.append(text)
    breach = _breach_sentence(_kpi(mine, "Quarter the band is breached at safe staffing"))
    if breach and points:
        points[0] = points[0] + " " + breach
    return points


def _breach_sentence(row: pd.Series | None) -> str:
    """When demand growth takes caseloads above the band even at safe staffing, in words."""
    if row is None or not str(row["value"]).strip():
        return ""
    growth = re.search(r"(\d+(?:\.\d+)?)%", str(row["unit"]))
    rate = f"{growth.group(1)}% a year" if growth else "the assumed rate"
    value = str(row["value"]).strip()
    if value.lower() in {"none", "not within four years"}:
        return (
            f"At safe staffing, demand growing at {rate} would not take caseloads above the band "
            "within the four years projected."
        )
    return (
        f"Even at safe staffing, demand growing at {rate} would take caseloads above the band "
        f"in {value}."
    )


def _response_point(mine: pd.DataFrame, before: pd.DataFrame | None, target: float | None) -> str:
    # The KPI's name says what it measures (config response_working_days): "within two
    # working days" at 2, so the sentence follows the setting.
    named = mine[mine["kpi"].astype(str).str.startswith(RESPONSE_KPI_PREFIX)]
    row = _kpi(mine, named["kpi"].iloc[0]) if len(named) else None
    value = _number(row["value"]) if row is not None else None
    if value is None:
        return ""
    window = str(row["kpi"]).removeprefix("Referrals contacted ")
    versus = ""
    if target is not None:
        versus = f", {'meeting' if value >= target else 'below'} the {target:.0f}% target"
    rag = rag_label(row.get("rag", ""))
    return (
        f"{value:.1f}% of referrals were contacted {window}{versus}"
        f"{' (' + rag + ')' if rag else ''}{_change(row, before, '{:.1f}', ' points', '%')}."
    )


def _action_point(plan: pd.DataFrame, before: pd.DataFrame | None) -> str:
    counts = {}
    for rag in ("red", "amber", "green"):
        row = _kpi(plan, f"Actions {rag}")
        if row is not None and _number(row["value"]) is not None:
            counts[rag] = int(_number(row["value"]))
    if not counts:
        return ""
    listed = ", ".join(f"{n} {rag}" for rag, n in counts.items())
    text = f"Action plan: {listed} actions at the latest review"
    review = _kpi(plan, "Latest review")
    if review is not None and str(review["value"]).strip():
        text += f" ({review['value']})"
    worse = _kpi(plan, "Actions worse since last review")
    if worse is not None and _number(worse["value"]):
        text += f"; {int(_number(worse['value']))} worse than at the review before"
    red = _kpi(plan, "Actions red")
    change = _change(red, before, "{:.0f}", "", what="red actions") if red is not None else ""
    return text + change + "."


def main_points(
    kpis: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    band: tuple[float, float] | None = None,
    response_target: float | None = None,
    warnings_by_area: Mapping[str, list[str]] | None = None,
    limit: int = 6,
) -> dict[str, list[str]]:
    """Plain-English main points per area, most important first, at most ``limit`` each.

    In order: the demand verdict and what it rests on; safe staffing, its gap and cost; caseload
    against the band; the response KPI; the action plan (partnership rows, area ``All areas`` or
    blank); then any data warning. Each carries its change since ``previous`` (last quarter's
    ``kpis.csv``) when that has the same figure. Missing figures are left out, not guessed.
    """
    kpis = kpis.fillna("")
    previous = previous.fillna("") if previous is not None else None
    partnership = kpis[kpis["notebook"] == "action_plan"]
    plan_before = previous[previous["notebook"] == "action_plan"] if previous is not None else None
    action = _action_point(partnership, plan_before)
    out: dict[str, list[str]] = {}
    areas = [a for a in dict.fromkeys(kpis["area"]) if a and a != PARTNERSHIP_AREA]
    for area in areas:
        mine = kpis[kpis["area"] == area]
        before = previous[previous["area"] == area] if previous is not None else None
        points = [_demand_point(mine, before)]
        points += _staffing_points(mine, before, band)
        points.append(_response_point(mine, before, response_target))
        points.append(action)
        points += list((warnings_by_area or {}).get(area, []))
        out[area] = [p for p in points if p][:limit]
    if not areas and action:
        out[PARTNERSHIP_AREA] = [action]
    return out


def headline_table(kpis: pd.DataFrame, previous: pd.DataFrame | None = None) -> Table:
    """The headline figures, values with their units and RAG by symbol and word, in the order
    of ``kpis`` (the runner writes them in notebook order, as the notebooks' metadata say)."""
    rows = []
    kpis = kpis.fillna("")
    areas = {a for a in kpis["area"] if a and a != PARTNERSHIP_AREA}
    for _, r in kpis.iterrows():
        if r["unit"] in {"text", "warning"}:
            continue
        was = ""
        if previous is not None and not previous.empty:
            match = previous[(previous["area"] == r["area"]) & (previous["kpi"] == r["kpi"])]
            if not match.empty:
                was = _figure(match.iloc[0]["value"], match.iloc[0]["unit"])
        row = {
            "Area": r["area"] or PARTNERSHIP_AREA,
            "Measure": r["kpi"],
            "Figure": _headline_figure(r),
            "Status": r["rag"],
        }
        if previous is not None:
            row["Last quarter"] = was or NOT_AVAILABLE
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(areas) <= 1 and len(frame):
        frame = frame.drop(columns="Area")  # one area: it is in the page title
    kinds = {c: "text" for c in frame.columns}
    kinds["Status"] = "rag"
    return Table(
        frame,
        "Headline figures by area, with their status against thresholds",
        "kpis.csv of this pack.",
        [],
        kinds,
    )


VERDICT_FIGURES = {
    "reporting": "Reporting: more people coming forward, not more need",
    "need": "Need: more need, not only more reporting",
    "both": "Both: more reporting and more need",
    "neither": "Neither: no clear change in reporting or need",
    "inconclusive": "Inconclusive: the data cannot yet say",
}


def _page_for(notebook: str, area: str, pages: list[tuple[str, str]]) -> tuple[str, str]:
    """The (href, title) of the page that published ``notebook`` for ``area``; ("", "") if none."""
    wanted = page_stem(area, notebook), notebook
    for href, title in pages:
        if Path(href).stem in wanted:
            return href, title
    return "", ""


def headline_sections(
    kpis: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    pages: list[tuple[str, str]] = (),
    period: str = "",
) -> str:
    """The headline figures as one short table per page of the pack (demand, staffing, action
    plan, partnership activity), each under its own heading with a link to the page, so a
    reader finds the staffing figures without reading the demand ones. In kpis order."""
    kpis = kpis.fillna("")
    parts = []
    groups = list(dict.fromkeys(zip(kpis["notebook"], kpis["area"], strict=True)))
    for notebook, area in groups:
        rows = kpis[(kpis["notebook"] == notebook) & (kpis["area"] == area)]
        if rows.empty or rows["unit"].isin(["text", "warning"]).all():
            continue
        href, title = _page_for(notebook, area, list(pages))
        title = title or column_label(notebook)
        table = headline_table(rows, previous)
        if "Area" in table.frame:
            table.frame = table.frame.drop(columns="Area")
            table.kinds.pop("Area", None)
        when = f", {period}" if period else ""
        table.title = f"{title}{when}: headline figures"
        table.source = "kpis.csv of this pack."
        anchor = _safe_name(f"{notebook}-{area}")
        block = table.html()
        if href:  # the link to the page behind the figures, on the source line
            link = f' <a href="{html.escape(href)}">More on the {html.escape(title)} page</a>.'
            block = block.replace(
                "kpis.csv of this pack.</p>", f"kpis.csv of this pack.{link}</p>", 1
            )
        parts.append(
            f'<section class="da-headline" aria-labelledby="{anchor}">'
            f'<h3 id="{anchor}">{html.escape(title)}</h3>\n{block}</section>'
        )
    return "\n".join(parts)


def _headline_figure(row: pd.Series) -> str:
    """A headline figure as a reader says it: the verdict in words, a change with its direction
    (``up 7.1%``), a share of a few dates as a count (``0 of 14 dates``)."""
    value, unit, kpi = row["value"], str(row["unit"] or "").strip(), str(row["kpi"])
    if str(value).strip() == "":
        # A figure the data cannot give (not collected, no year before): said, never a blank cell.
        return "Not available"
    number = _number(value)
    if unit == "verdict" and str(value).strip().lower() in VERDICT_FIGURES:
        return VERDICT_FIGURES[str(value).strip().lower()]
    of_dates = re.fullmatch(r"% of (\d+) (\w+)", unit)
    if number is not None and of_dates:
        total = int(of_dates.group(1))
        return f"{round(number * total / 100):.0f} of {total} {of_dates.group(2)}"
    if number is not None and "change" in kpi.lower() and unit.startswith("%"):
        word = "up" if number > 0 else "down" if number < 0 else "no change,"
        rest = unit[1:].strip()
        return f"{word} {abs(number):.1f}%{' ' + rest if rest else ''}"
    if kpi.startswith("Quarter the band is breached") and str(value).strip().lower() == "none":
        return f"Not within the four years projected ({unit})" if unit else "Not within four years"
    return _figure(value, unit)


def _figure(value: object, unit: object) -> str:
    """A value with its unit in words: ``449 referrals``, ``£162,500 a year``, ``89.5%``."""
    unit = str(unit or "").strip()
    number = _number(value)
    if str(value) == MARKER:
        return MARKER
    if number is None:
        if unit == "verdict":
            return str(value).capitalize()
        return str(value) if unit in {"date", ""} else f"{value} ({unit})"
    if unit in {"actions", "referrals", "cases"} and number == 1:
        unit = unit.removesuffix("s")
    if unit.startswith("GBP"):
        return f"£{number:,.0f}{unit[3:]}"
    if unit == "%":
        return f"{number:.1f}%"
    if unit.startswith("%"):
        return f"{number:.1f}% {unit[1:].strip()}"
    if unit.startswith("ratio"):
        return f"{number:.2f} {unit[5:].strip()}".strip()
    if unit in {"referrals", "cases", "actions"} or (number == round(number) and "FTE" not in unit):
        return f"{number:,.0f} {unit}".strip()
    return f"{number:,.1f} {unit}".strip()


# --- pages: glossary, navigation ----------------------------------------------------------------

PAGE_CSS = (
    Path(__file__).resolve().parents[1] / "templates" / "daanalysis" / "pack.css"
).read_text(encoding="utf-8")


def _csp_meta() -> str:
    """The pages' Content-Security-Policy (no script, no outside request), as a meta tag."""
    from daanalysis.pack.export import CSP

    return f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">'


def nav_html(spreadsheet: str = "", index: bool = True) -> str:
    """Links every page carries: back to the index, the glossary and the downloads."""
    links = [f'<a href="{INDEX_PAGE}">Back to the pack index</a>'] if index else []
    links.append(f'<a href="{GLOSSARY_PAGE}">Glossary</a>')
    if spreadsheet:
        links.append(f'<a href="{html.escape(spreadsheet)}">All tables (spreadsheet)</a>')
    return '<nav class="da-nav" aria-label="Pack">' + " ".join(links) + "</nav>"


def glossary_html() -> str:
    """The glossary as a definition list with an anchor per term."""
    items = "\n".join(
        f'<dt id="{_safe_name(term)}">{html.escape(term)}</dt><dd>{html.escape(text)}</dd>'
        for term, text in sorted(GLOSSARY.items(), key=lambda kv: kv[0].lower())
    )
    return f'<dl class="da-glossary">\n{items}\n</dl>'


def write_glossary(folder: Path, heading: str, spreadsheet: str = "") -> Path:
    """``glossary.html``: the words used in the pack, linked from every page."""
    title = f"Glossary: {heading}"
    path = folder / GLOSSARY_PAGE
    path.write_text(
        f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{_csp_meta()}
<title>{html.escape(title)}</title><style>{PAGE_CSS}</style></head>
<body>{nav_html(spreadsheet)}<main><h1>Glossary</h1><p>{html.escape(heading)}</p>
{glossary_html()}</main></body></html>
""",
        encoding="utf-8",
    )
    return path


# --- downloads -----------------------------------------------------------------------------------


# A run folder: what may be published at its top; what is for analysts only (the row ledger,
# officer lists, the executed notebooks with their unsuppressed check cells, the run log) below.
ANALYSTS = "analysts"
EXECUTED = f"{ANALYSTS}/notebooks"


def collect(folder: Path) -> list[tuple[dict, pd.DataFrame]]:
    """Every table and chart recorded by the notebooks of a run
    (``analysts/notebooks/*.publish``)."""
    items = []
    for manifest in sorted(folder.glob(f"{EXECUTED}/*.publish/manifest.json")):
        for item in json.loads(manifest.read_text()):
            data = pd.read_csv(manifest.parent / f"{item['name']}.csv", keep_default_na=False)
            items.append((item, data.map(_numeric_or_text)))
    return items


def _numeric_or_text(value: object) -> object:
    if isinstance(value, str):
        number = _number(value)
        if number is not None and value.strip() and not re.search(r"[A-Za-z£%/]", value):
            return int(number) if number == int(number) else number
    return value


def build_downloads(
    folder: Path,
    heading: str,
    kpis: pd.DataFrame | None = None,
    cover_lines: Iterable[str] = (),
) -> Path | None:
    """One spreadsheet of every published table and chart's data, and a CSV per chart.

    Written to ``folder/downloads/``; the recorded files under ``analysts/notebooks/*.publish`` are
    removed afterwards. The spreadsheet follows the Analysis Function guidance through
    ``gptables``: a cover sheet, a contents sheet, a notes sheet, one table per sheet with a title,
    a source and ``[c]`` / ``[x]`` markers explained. Returns the spreadsheet path (None when
    nothing was recorded).
    """
    items = collect(folder)
    out = folder / DOWNLOADS
    out.mkdir(exist_ok=True)
    for item, data in items:
        if item["kind"] == "chart":
            write_csv(data, out / f"{item['name']}.csv")
    if kpis is not None and len(kpis):
        frame = kpis.drop(columns=["notebook"]).fillna("").astype(str).map(_numeric_or_text)
        frame["rag"] = [rag_label(r).split(" ", 1)[-1] if r else "" for r in frame["rag"]]
        frame.columns = [column_label(c) for c in frame.columns]
        items.insert(
            0,
            (
                {
                    "kind": "table",
                    "title": "Headline figures",
                    "source": "kpis.csv of this pack",
                    "notes": [],
                    "page": "Front page",
                    "area": "",
                },
                frame,
            ),
        )
    for recorded in folder.glob(f"{EXECUTED}/*.publish"):
        shutil.rmtree(recorded, ignore_errors=True)
    if not items:
        return None
    path = out / f"{_safe_name(heading)}.xlsx"
    write_spreadsheet(path, heading, items, cover_lines)
    return path


# Excel number formats per column kind: thousands separators, pounds, one decimal place.
NUMBER_FORMATS = {
    "count": "#,##0",
    "gbp": "£#,##0",
    "pct": "0.0",
    "decimal": "#,##0.0",
    "ratio": "0.00",
}


def write_spreadsheet(
    path: Path,
    heading: str,
    items: list[tuple[dict, pd.DataFrame]],
    cover_lines: Iterable[str] = (),
) -> None:
    """An accessible workbook (``gptables``): cover, contents, notes and one sheet per table."""
    import gptables as gpt

    notes: dict[str, str] = {}

    def note_ref(text: str) -> str:
        if text not in notes:
            notes[text] = f"[note {len(notes) + 1}]"
        return notes[text]

    def cell(value: object) -> object:
        # The guidance: no empty cells and no cells of symbols only; [z] = not applicable.
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return NOT_AVAILABLE
        if isinstance(value, str) and not re.search(r"[0-9A-Za-z]", value):
            return NOT_APPLICABLE
        return value

    sheets = {}
    for number, (item, data) in enumerate(items, start=1):
        kinds = {c: item.get("kinds", {}).get(c) or infer_kind(c, data[c]) for c in data.columns}
        formatting = [
            {"column": {"columns": cols, "format": {"num_format": NUMBER_FORMATS[kind]}}}
            for kind in NUMBER_FORMATS
            if (cols := [c for c, k in kinds.items() if k == kind])
        ]
        frame = data.map(cell).map(sheet_text)
        frame.columns = [str(sheet_text(c)).replace("\n", " ") for c in frame.columns]
        kind = "Chart data" if item["kind"] == "chart" else "Table"
        refs = "".join(note_ref(n) for n in item.get("notes", []) if n)
        subtitles = [sheet_text(s) for s in [item.get("page", ""), item.get("area", "")] if s]
        if frame.empty:
            frame = pd.DataFrame({"Note": ["No rows for this quarter."]})
        sheets[f"{'Chart' if item['kind'] == 'chart' else 'Table'} {number}"] = gpt.GPTable(
            table=frame,
            table_name=f"table_{number}",
            title=f"{kind} {number}: {sheet_text(item['title'])} {refs}".strip(),
            subtitles=subtitles,
            instructions="This worksheet contains one table. Some cells refer to notes which "
            "can be found on the notes worksheet.",
            source="Source: "
            + sheet_text(
                re.sub(
                    r"^source:\s*",
                    "",
                    str(item.get("source") or "daanalysis quarterly pack"),
                    flags=re.IGNORECASE,
                )
            ),
            scope="Domestic abuse services",
            additional_formatting=formatting,
        )
    notes.setdefault(SUPPRESSION_NOTE, f"[note {len(notes) + 1}]")
    notes.setdefault(NOT_AVAILABLE_NOTE, f"[note {len(notes) + 1}]")
    notes.setdefault(NOT_APPLICABLE_NOTE, f"[note {len(notes) + 1}]")
    notes_table = pd.DataFrame(
        {"Note number": list(notes.values()), "Note text": list(notes.keys())}
    )
    cover = gpt.Cover(
        cover_label="Cover",
        title=heading,
        intro=[
            "Every table published in this quarter's pack and the data behind every chart, one "
            "table per worksheet. The contents worksheet lists them.",
            *(sheet_text(line) for line in cover_lines),
        ],
        about=[
            f"{MARKER} marks a suppressed figure (small numbers hidden so that no one can be "
            f"identified). {NOT_AVAILABLE} marks a figure that is not available and "
            f"{NOT_APPLICABLE} one that does not apply. Notes are on the "
            "notes worksheet.",
        ],
        contact=["Your council's community safety team"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gptables warns about table names like cell names
        gpt.write_workbook(
            filename=str(path),
            sheets=sheets,
            cover=cover,
            contentsheet_label="Contents",
            contentsheet_options={"title": "Table of contents"},
            notes_table=notes_table,
            notesheet_label="Notes",
            notesheet_options={"title": "Notes"},
            auto_width=True,
            # Text stays text: xlsxwriter would otherwise turn a string starting with "=" into
            # a formula and one looking like a URL into a live link.
            workbook_options={"strings_to_formulas": False, "strings_to_urls": False},
        )


# --- the front page ------------------------------------------------------------------------------


def spreadsheet_href(quarter_slug: str) -> str:
    """Where a pack's spreadsheet lives, relative to its pages."""
    return f"{DOWNLOADS}/domestic-abuse-pack-{quarter_slug or 'tables'}.xlsx"


def previous_kpis(folder: Path, quarter_slug: str) -> pd.DataFrame | None:
    """Last quarter's ``kpis.csv`` beside this pack (``out/<previous quarter>/``), if any."""
    from daanalysis.periods import parse_quarter
    from daanalysis.periods import quarter_slug as slug_of

    try:
        before = slug_of(parse_quarter(quarter_slug) - 1)
    except (ValueError, TypeError):
        return None
    path = folder.parent / before / "kpis.csv"
    return read_csv_back(path, dtype=str, keep_default_na=False) if path.exists() else None


# Words in the main points that link to their glossary entry (the first time they appear).
LINKED_TERMS = {
    "rate ratio": "Rate ratio",
    "confidence interval": "Confidence interval (CI)",
    "safe band": "Safe band",
    "FTE": "FTE (full-time equivalent)",
}


def _link_terms(text: str, done: set[str]) -> str:
    """``text`` (already escaped) with the first use of each glossary term linked."""
    for word, term in LINKED_TERMS.items():
        if word in done:
            continue
        pattern = re.compile(rf"\b{re.escape(word)}\b")
        if pattern.search(text):
            href = f"{GLOSSARY_PAGE}#{_safe_name(term)}"
            text = pattern.sub(rf'<a href="{href}">\g<0></a>', text, count=1)
            done.add(word)
    return text


def main_points_html(points: Mapping[str, list[str]]) -> str:
    """The "Main points" section: one list per area, jargon linked to the glossary."""
    parts = [
        '<section class="da-main-points" aria-labelledby="main-points">',
        '<h2 id="main-points">Main points</h2>',
    ]
    for area, items in points.items():
        if len(points) > 1 or area:
            parts.append(f"<h3>{html.escape(area)}</h3>")
        done: set[str] = set()
        parts.append(
            "<ul>"
            + "".join(f"<li>{_link_terms(html.escape(p), done)}</li>" for p in items)
            + "</ul>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _alerts_html(folder: Path) -> str:
    """The staffing alerts that fired (``alerts.csv`` in the run folder), for the top of the
    front page (:func:`daanalysis.metrics.alerts.front_page_html`)."""
    from daanalysis.metrics.alerts import front_page_html

    path = folder / "alerts.csv"
    return front_page_html(read_csv_back(path, keep_default_na=False)) if path.exists() else ""


def write_front_page(
    folder: Path,
    pages: list[tuple[str, str]],
    heading: str,
    subtitle: str,
    kpis: pd.DataFrame | None = None,
    config=None,
    extract=None,
    left_out: Iterable[str] = (),
) -> dict[str, Path | list[Path] | None]:
    """The pack's front page and what it links to.

    Writes ``downloads/`` (the spreadsheet of every published table and chart's data, a CSV per
    chart), ``glossary.html`` and ``index.html`` (main points first, then the headline figures,
    the pages and the downloads; with links to the PDFs that :func:`pdfs_if_asked` prints
    at the end of the run when ``DAANALYSIS_PDF=1`` is set). ``left_out``: a line for each page
    the run did not produce (its input missing), listed with the pages. Returns the paths
    written.
    """
    kpis = (
        kpis
        if kpis is not None
        else pd.DataFrame(columns=["area", "quarter", "notebook", "kpi", "value", "unit", "rag"])
    )
    slug = str(kpis["quarter"].dropna().iloc[0]) if len(kpis) else ""
    before = previous_kpis(folder, slug) if slug else None
    href = spreadsheet_href(slug)
    cover = [subtitle]
    spreadsheet = build_downloads(folder, heading, kpis, cover)
    if spreadsheet is not None and spreadsheet != folder / href:
        spreadsheet.rename(folder / href)
        spreadsheet = folder / href
    has_sheet = spreadsheet is not None
    write_glossary(folder, heading, href if has_sheet else "")
    warnings_by_area: dict[str, list[str]] = {}
    areas = [a for a in kpis["area"].unique() if a != PARTNERSHIP_AREA] or [PARTNERSHIP_AREA]
    for _, row in kpis[kpis["unit"] == "warning"].iterrows():
        for area in areas if row["area"] == PARTNERSHIP_AREA else [row["area"]]:
            warnings_by_area.setdefault(area, []).append(f"Warning: {row['value']}")
    from daanalysis.periods import parse_quarter

    if extract is not None and slug:
        # Stale inputs, straight from the extract the run used (police, population, staffing,
        # action plan), for each area.
        quarter = parse_quarter(slug)
        for area in areas:
            for text in input_warnings(
                extract, "" if area == PARTNERSHIP_AREA else area, quarter
            ).values():
                line = f"Warning: {text}"
                if line not in warnings_by_area.get(area, []):
                    warnings_by_area.setdefault(area, []).append(line)
    band = (config.safe_band_lower, config.safe_band_upper) if config is not None else None
    target = 100 * config.response_target_share if config is not None else None
    shown = kpis[kpis["unit"] != "warning"]
    named = [a for a in dict.fromkeys(kpis["area"]) if a and a != PARTNERSHIP_AREA]
    if named:  # the page title carries the area(s) as well as the quarter
        heading += ", " + (" and ".join(named) if len(named) <= 3 else f"{len(named)} areas")
    points = main_points(shown, before, band, target, warnings_by_area)
    alert_block = _alerts_html(folder)
    period = quarter_text(parse_quarter(slug)) if slug else ""
    table = headline_sections(shown, before, pages, period) if len(shown) else ""
    page_list = "\n".join(
        [f'<li><a href="{html.escape(h)}">{html.escape(t)}</a></li>' for h, t in pages]
        + [f"<li>{html.escape(line)}</li>" for line in left_out]
    )
    downloads = []
    if has_sheet:
        downloads.append(
            f'<li><a href="{html.escape(href)}">Every table and the data behind every chart '
            "(spreadsheet, Excel)</a></li>"
        )
    downloads.append('<li><a href="kpis.csv">Headline figures (CSV)</a></li>')
    charts = sorted((folder / DOWNLOADS).glob("*_chart*.csv"))
    if charts:
        titles = {Path(h).stem: t for h, t in pages}

        def chart_label(path: Path) -> str:
            stem, _, rest = path.stem.partition("_chart")
            what = rest.split("_", 1)[-1].replace("-", " ")
            return f"{titles.get(stem, stem)}: {what} chart"

        downloads.append(
            "<li>Data behind each chart (CSV), also linked under each chart: "
            + "; ".join(
                f'<a href="{DOWNLOADS}/{html.escape(c.name)}">{html.escape(chart_label(c))}</a>'
                for c in charts
            )
            + "</li>"
        )
    if pdf_wanted():
        downloads.append(
            "<li>PDF of each page (A4): "
            + ", ".join(
                f'<a href="pdf/{html.escape(Path(h).stem)}.pdf">{html.escape(t)}</a>'
                for h, t in [(INDEX_PAGE, "this page"), *pages]
            )
            + "</li>"
        )
    previous_note = (
        "Changes are against last quarter's pack."
        if before is not None
        else "No pack for last quarter was found beside this one, so changes are not shown."
    )
    index = folder / INDEX_PAGE
    index.write_text(
        f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{_csp_meta()}
<title>{html.escape(heading)}</title>
<style>{PAGE_CSS}</style>
</head><body>
{nav_html(href if has_sheet else "", index=False)}
<main>
<h1>{html.escape(heading)}</h1>
<p class="da-subtitle">{html.escape(subtitle)}</p>
{alert_block}
{main_points_html(points)}
<p class="da-note">{html.escape(previous_note)} Words such as rate ratio, FTE, IDVA and MARAC
are explained in the <a href="{GLOSSARY_PAGE}">glossary</a>.</p>
<h2 id="headline-figures">Headline figures</h2>
{table}
<p class="da-note">Status: ✕ Red (outside the safe band or below target), ! Amber, ✓ Green (within
the band or meeting the target); blank where a figure has no threshold.</p>
<h2 id="pages">Pages in this pack</h2>
<ul>
{page_list}
<li><a href="{GLOSSARY_PAGE}">Glossary</a></li>
</ul>
<section class="da-screen-only" aria-labelledby="downloads">
<h2 id="downloads">Downloads</h2>
<ul>
{"".join(downloads)}
</ul>
</section>
</main>
</body></html>
""",
        encoding="utf-8",
    )
    return {"index": index, "spreadsheet": spreadsheet}


def pdf_wanted() -> bool:
    """Whether the run was asked for PDFs (``DAANALYSIS_PDF=1``)."""
    import os

    return os.environ.get("DAANALYSIS_PDF", "").strip().lower() not in {"", "0", "no", "false"}


def pdfs_if_asked(folder: Path, wanted: bool | None = None) -> list[Path]:
    """An A4 PDF of every page in ``folder/pdf/`` if ``wanted`` (``None``: :func:`pdf_wanted`),
    logged; else []."""
    if not (pdf_wanted() if wanted is None else wanted):
        return []
    pdfs = print_pdfs(folder)
    if pdfs:
        log.info("PDF of each page written to pdf/ in the pack folder (%d files)", len(pdfs))
    return pdfs


# --- PDF -----------------------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Headless Chromium on PATH (``chromium``, ``chromium-browser`` or ``google-chrome``)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
]


def print_pdf(page: Path, target: Path, chromium: str, timeout: int = 120) -> Path:
    """One HTML page to an A4 PDF with headless Chromium (the page's print CSS applies)."""
    with tempfile.TemporaryDirectory(prefix="daanalysis-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={target}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    return target


def print_pdfs(folder: Path, chromium: str | None = None) -> list[Path]:
    """An A4 PDF beside every HTML page of the pack in ``folder/pdf/``; [] without Chromium."""
    chromium = chromium or find_chromium()
    if chromium is None:
        log.warning("PDFs not written: headless Chromium was not found on PATH")
        return []
    target = folder / "pdf"
    target.mkdir(exist_ok=True)
    return [print_pdf(p, target / f"{p.stem}.pdf", chromium) for p in sorted(folder.glob("*.html"))]


__all__ = [
    "GLOSSARY",
    "Page",
    "Table",
    "build_downloads",
    "inert",
    "inert_frame",
    "read_csv_back",
    "sheet_text",
    "write_csv",
    "format_table",
    "headline_table",
    "main_points",
    "print_pdfs",
    "sources",
    "stale_warning",
    "supplied",
    "write_glossary",
]
