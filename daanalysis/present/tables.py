"""Tables: the one house formatter (:func:`format_table`, :class:`Table`) and the settings
table of a page's Sources section (:func:`settings_table`).

Readable column names, whole counts with thousands separators, money with the pound sign,
percentages to one decimal, ``[c]`` for suppressed cells with a note, a caption above and a
source line under every table (Government Analysis Function guidance on tables).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from daanalysis.present.disclosure import MARKER
from daanalysis.present.words import (
    NOT_AVAILABLE,
    NOT_AVAILABLE_NOTE,
    SUPPRESSION_NOTE,
    column_label,
    rag_label,
    reader_text,
    value_label,
    words_in_text,
)

# Quarters, terms and months in a table cell: kept on one line.
_PERIOD_TEXT = re.compile(
    r"\d{4}/\d{2} (Q[1-4]|autumn|spring|summer)|[A-Z][a-z]{2} \d{4}|\d{2}/\d{2}/\d{4}"
)

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
    # A marker is text, not a missing number.
    if not pd.api.types.is_numeric_dtype(values.dtype):
        # Words in a cell (not the marker) make the column text, as the test below finds
        # (what float cannot read, pd.to_numeric cannot either): the first such cell decides,
        # without making the whole column text and then numbers (most of this function's time
        # on a column of words).
        for value in values:
            if isinstance(value, str) and value != MARKER:
                try:
                    float(value)
                except ValueError:
                    return "text"
    if pd.api.types.is_numeric_dtype(values.dtype):
        # Numbers only: no cell can be the marker, and they are numbers already (making each
        # text to look for the marker took most of this function's time on such a column).
        numbers, present = values, values.notna()
    else:
        # The values made text once, not twice: about a fifth of this path's time (1.2-1.3 ms
        # a column against 0.9-1.1 ms, measured alternately on the loaded 2-core machine).
        unmarked = values.astype(str) != MARKER
        numbers = pd.to_numeric(values.where(unmarked), errors="coerce")
        present = values.notna() & unmarked
    if present.any() and numbers[present].isna().any():
        return "text"
    if not present.any():
        return "text" if values.dtype == object else "decimal"
    # A share of costs ("above £200 (%)") is a percentage, not money: the header's unit decides.
    if "(%)" in lowered or lowered.endswith(("_pct", "%")):
        return "pct"
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
        """Every cell as published text, under readable column names.

        Worked out once for the table as it is (a page's table needs it three times: its
        notes for the spreadsheet, the HTML and the HTML's notes); again if its frame, kinds
        or precision are changed."""
        state = (tuple(self.kinds.items()), self.precision)
        kept = self.__dict__.get("_shown")
        if kept is not None and kept[0] is self.frame and kept[1] == state:
            return kept[2].copy()
        out = pd.DataFrame(
            {
                h: [format_value(v, self.kinds[c], self.precision) for v in self.frame[c]]
                for c, h in zip(self.frame.columns, self.headers, strict=True)
            }
        )
        self.__dict__["_shown"] = (self.frame, state, out)
        return out.copy()

    def all_notes(self) -> list[str]:
        notes = list(self.notes)
        # A cell shows the marker (whatever its column's type) or "not available" as text.
        if any(str(v) == MARKER for _, values in self.frame.items() for v in values):
            notes.append(SUPPRESSION_NOTE)
        if any(v == NOT_AVAILABLE for _, values in self.text().items() for v in values):
            notes.append(NOT_AVAILABLE_NOTE)
        return notes

    def html(self) -> str:
        """``<figure>`` with the table, its caption, then source and notes underneath."""
        shown = self.text()
        numeric = [self.kinds[c] not in {"text", "rag"} for c in self.frame.columns]
        # Explicit table roles: on a phone the rows are laid out as blocks (pack.css), and a
        # browser may drop a table's semantics from an element whose display is changed; the
        # roles keep it a table, with column headers, for a screen reader.
        head = "".join(
            f'<th scope="col" role="columnheader" class="{"num" if n else "txt"}">'
            f"{html.escape(h)}</th>"
            for h, n in zip(shown.columns, numeric, strict=True)
        )
        rows = []
        for _, row in shown.iterrows():
            cells = []
            for (value, n), kind, label in zip(
                zip(row, numeric, strict=True),
                [self.kinds[c] for c in self.frame.columns],
                shown.columns,
                strict=True,
            ):
                css = "num" if n else "txt"
                if not n and len(value) <= 16 and _PERIOD_TEXT.fullmatch(value):
                    css += " nw"  # 2025/26 Q3 on one line, not broken after the year
                if kind == "rag" and value and value != MARKER:
                    css += " rag rag-" + value.split()[-1].lower().replace("/", "-")
                # data-label: the column's heading, shown beside the value when a phone
                # stacks the row into a block (pack.css), so no value loses its meaning.
                cells.append(
                    f'<td role="cell" class="{css}" data-label="{html.escape(label, quote=True)}">'
                    f"{html.escape(value)}</td>"
                )
            rows.append('<tr role="row">' + "".join(cells) + "</tr>")
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        foot = []
        if self.source:
            source = re.sub(r"^sources?:\s*", "", self.source.strip(), flags=re.IGNORECASE)
            source = reader_text(source)
            foot.append(f'<p class="da-source">Source: {html.escape(source)}</p>')
        foot += [f'<p class="da-note">{html.escape(n)}</p>' for n in self.all_notes()]
        return (
            # On a phone each row is stacked into a block (pack.css); a table still wider than
            # its screen (a tablet, a zoomed page) scrolls inside this box: the keyboard reaches
            # it (tabindex) and a screen reader names it (role, label), as WCAG 2.1.1 asks.
            '<figure class="da-table"><div class="da-table-wrap" tabindex="0" role="region" '
            f'aria-label="{html.escape(self.title or "Table", quote=True)}">'
            f'<table class="da" role="table">{caption}<thead role="rowgroup">'
            f'<tr role="row">{head}</tr></thead><tbody role="rowgroup">{"".join(rows)}</tbody>'
            f"</table></div>{''.join(foot)}</figure>"
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
) -> Table:
    """The house formatter: ``frame`` as a :class:`Table` ready to display and to download.

    ``kinds`` overrides :func:`infer_kind` per column (one of :data:`KINDS`); ``columns``
    renames columns (after the kinds are worked out from the original names); ``index=True``
    keeps the index as the first column. Formats are decided per column in one pass, so no
    column's format can reset another's. Formatting only: a page publishes a table (suppressed
    and recorded for the spreadsheet) with :meth:`daanalysis.present.page.Page.table`.
    """
    data = frame.reset_index() if index else frame.reset_index(drop=True)
    data.columns = [str(c) for c in data.columns]
    found = {c: infer_kind(c, data[c]) for c in data.columns}
    found.update({k: v for k, v in (kinds or {}).items() if k in found})
    if columns:
        data = data.rename(columns=dict(columns))
        found = {columns.get(c, c): k for c, k in found.items()}
    return Table(data, title, source, list(notes), found, precision)


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
    "The pack's settings (config.csv in the data folder, or the pack's defaults), "
    "each with its own source."
)


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


__all__ = [
    "KINDS",
    "PAGE_SETTINGS",
    "SETTINGS_SOURCE",
    "TECHNICAL_SETTINGS",
    "Table",
    "format_table",
    "format_value",
    "infer_kind",
    "settings_table",
]
