"""The front page's words from the typed headline figures of ``kpis.csv``: the main points
(:func:`main_points`, plain English with the change since last quarter), the headline figures
by page (:func:`headline_sections`, :func:`headline_table`) and the main points as HTML with
jargon linked to the glossary (:func:`main_points_html`).

Every figure is found by its ``key`` (:class:`daanalysis.metrics.kpi.KPI`), and an interval is
read from its ``low`` and ``high`` columns: nothing is parsed out of text or found by its
display label.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from daanalysis.metrics.kpi import as_number as _number
from daanalysis.names import page_stem
from daanalysis.present.disclosure import MARKER
from daanalysis.present.notebook import PARTNERSHIP_AREA
from daanalysis.present.page import GLOSSARY_PAGE
from daanalysis.present.tables import Table
from daanalysis.present.words import (
    NOT_AVAILABLE,
    VERDICT_FIGURES,
    VERDICTS,
    column_label,
    rag_label,
    safe_name,
)

# The action plan's figures (the partnership's, one set for every area).
ACTION_KEYS = ("actions_red", "actions_amber", "actions_green", "actions_worse", "latest_review")


def _kpi(frame: pd.DataFrame, key: str) -> pd.Series | None:
    """The first row of ``frame`` (kpis.csv rows) with ``key``; None when there is none."""
    rows = frame[frame["key"] == key]
    return None if rows.empty else rows.iloc[0]


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
    was = _kpi(before, now["key"])
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
    verdict = _kpi(mine, "demand_verdict")
    reading = _kpi(mine, "demand_reading")
    effect = _kpi(mine, "reporting_effect")
    volume = _kpi(mine, "referrals_quarter")
    change = _kpi(mine, "referrals_change_year")
    parts = []
    if verdict is not None and str(verdict["value"]) in VERDICTS:
        word = str(verdict["value"])
        parts.append(VERDICTS[word] + _change(verdict, before, "{}") + ".")
        ratio = _number(effect["value"]) if effect is not None else None
        low, high = (_number(effect["low"]), _number(effect["high"])) if ratio else (None, None)
        interval = (
            f", 95% confidence interval {low:.2f} to {high:.2f}"
            if low is not None and high is not None
            else ""
        )
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
    mine: pd.DataFrame,
    before: pd.DataFrame | None,
    band: tuple[float, float] | None,
    growth: float | None = None,
) -> list[str]:
    points = []
    safe, gap, cost = (
        _kpi(mine, "safe_staffing_fte"),
        _kpi(mine, "staffing_gap_fte"),
        _kpi(mine, "staffing_gap_cost"),
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
    per_fte = _kpi(mine, "caseload_per_fte")
    after = _kpi(mine, "caseload_per_fte_after_bid")
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
    breach = _breach_sentence(_kpi(mine, "band_breach_quarter"), growth)
    if breach and points:
        points[0] = points[0] + " " + breach
    return points


def _breach_sentence(row: pd.Series | None, growth: float | None = None) -> str:
    """When demand growth (``growth``, a share a year: config demand_growth_annual) takes
    caseloads above the band even at safe staffing, in words."""
    if row is None or not str(row["value"]).strip():
        return ""
    rate = f"{100 * growth:.0f}% a year" if growth is not None else "the assumed rate"
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


def _response_point(
    mine: pd.DataFrame,
    before: pd.DataFrame | None,
    target: float | None,
    window: str | None = None,
) -> str:
    """The response KPI in a sentence. ``window`` says what it measures (``within two working
    days``: :func:`daanalysis.config.response_window` of config response_working_days), so the
    sentence follows the setting; without it, the words of the KPI's label."""
    row = _kpi(mine, "response_within_window")
    value = _number(row["value"]) if row is not None else None
    if value is None:
        return ""
    window = window or str(row["kpi"]).removeprefix("Referrals contacted ")
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
        row = _kpi(plan, f"actions_{rag}")
        if row is not None and _number(row["value"]) is not None:
            counts[rag] = int(_number(row["value"]))
    if not counts:
        return ""
    listed = ", ".join(f"{n} {rag}" for rag, n in counts.items())
    text = f"Action plan: {listed} actions at the latest review"
    review = _kpi(plan, "latest_review")
    if review is not None and str(review["value"]).strip():
        text += f" ({review['value']})"
    worse = _kpi(plan, "actions_worse")
    if worse is not None and _number(worse["value"]):
        text += f"; {int(_number(worse['value']))} worse than at the review before"
    red = _kpi(plan, "actions_red")
    change = _change(red, before, "{:.0f}", "", what="red actions") if red is not None else ""
    return text + change + "."


def main_points(
    kpis: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    band: tuple[float, float] | None = None,
    response_target: float | None = None,
    warnings_by_area: Mapping[str, list[str]] | None = None,
    limit: int = 6,
    growth: float | None = None,
    window: str | None = None,
) -> dict[str, list[str]]:
    """Plain-English main points per area, most important first, at most ``limit`` each.

    In order: the demand verdict and what it rests on; safe staffing, its gap and cost; caseload
    against the band; the response KPI; the action plan (partnership rows, area ``All areas`` or
    blank); then any data warning. Each carries its change since ``previous`` (last quarter's
    ``kpis.csv``) when that has the same figure. Missing figures are left out, not guessed.
    Figures are found by their ``key``; ``growth`` (config demand_growth_annual) and ``window``
    (the response KPI's window in words) word the staffing and response sentences.
    """
    kpis = kpis.fillna("")
    previous = previous.fillna("") if previous is not None else None
    # The action plan is the partnership's: its figures carry no area of their own.
    partnership = kpis[kpis["key"].isin(ACTION_KEYS)]
    plan_before = previous[previous["key"].isin(ACTION_KEYS)] if previous is not None else None
    action = _action_point(partnership, plan_before)
    out: dict[str, list[str]] = {}
    areas = [a for a in dict.fromkeys(kpis["area"]) if a and a != PARTNERSHIP_AREA]
    for area in areas:
        mine = kpis[kpis["area"] == area]
        before = previous[previous["area"] == area] if previous is not None else None
        points = [_demand_point(mine, before)]
        points += _staffing_points(mine, before, band, growth)
        points.append(_response_point(mine, before, response_target, window))
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
            match = previous[(previous["area"] == r["area"]) & (previous["key"] == r["key"])]
            if not match.empty:
                was = _figure(match.iloc[0])
        # The period the figure covers when it is not the pack's quarter (a term, four
        # quarters), so two figures of one measure over different periods never read as a
        # contradiction.
        measure, period = str(r["kpi"]), str(r.get("period", "") or "").strip()
        if period and period.lower() not in measure.lower():
            measure += f" ({period})"
        row = {
            "Area": r["area"] or PARTNERSHIP_AREA,
            "Measure": measure,
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
        anchor = safe_name(f"{notebook}-{area}")
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


def _is_change(key: str) -> bool:
    """Whether the figure keyed ``key`` is a change (``referrals_change_year``, ``need_trend``):
    said with its direction, ``up 7.1%``."""
    return "change" in key or key.endswith("_trend")


def _interval(row: pd.Series, digits: int) -> str:
    """`` (95% CI 1.29 to 1.83)`` from the row's ``low`` and ``high``; "" without them."""
    low, high = _number(row.get("low", "")), _number(row.get("high", ""))
    if low is None or high is None:
        return ""
    return f" (95% CI {low:.{digits}f} to {high:.{digits}f})"


def _headline_figure(row: pd.Series) -> str:
    """A headline figure as a reader says it: the verdict in words, a change with its direction
    (``up 7.1%``), an interval from its own columns (``1.54 (95% CI 1.29 to 1.83)``)."""
    value, unit, key = row["value"], str(row["unit"] or "").strip(), str(row["key"])
    if str(value).strip() == "":
        # A figure the data cannot give (not collected, no year before): said, never a blank cell.
        return "Not available"
    number = _number(value)
    if unit == "verdict" and str(value).strip().lower() in VERDICT_FIGURES:
        return VERDICT_FIGURES[str(value).strip().lower()]
    if number is not None and _is_change(key) and unit == "%":
        word = "up" if number > 0 else "down" if number < 0 else "no change,"
        return f"{word} {abs(number):.1f}%{_interval(row, 1)}"
    if key == "band_breach_quarter" and str(value).strip().lower() == "none":
        return f"Not within the four years projected ({unit})" if unit else "Not within four years"
    return _figure(row)


def _figure(row: pd.Series) -> str:
    """A kpis.csv row's value with its unit in words, and its interval when it has one:
    ``449 referrals``, ``£162,500 a year``, ``89.5%``, ``1.54 (95% CI 1.29 to 1.83)``."""
    value = row["value"]
    unit = str(row.get("unit", "") or "").strip()
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
        return f"{number:.1f}%{_interval(row, 1)}"
    if unit.startswith("%"):
        return f"{number:.1f}% {unit[1:].strip()}"
    if unit == "ratio":
        return f"{number:.2f}{_interval(row, 2)}"
    if unit in {"referrals", "cases", "actions"} or (number == round(number) and "FTE" not in unit):
        return f"{number:,.0f} {unit}".strip()
    return f"{number:,.1f} {unit}".strip()


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
            href = f"{GLOSSARY_PAGE}#{safe_name(term)}"
            text = pattern.sub(rf'<a href="{href}">\g<0></a>', text, count=1)
            done.add(word)
    return text


# The two answers a committee reads first: the demand verdict and the staffing gap.
ANSWER_OPENINGS = (*VERDICTS.values(), "The demand verdict", "Safe staffing is")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z£]|$)")


def _answer_first(text: str) -> str:
    """``text`` (a main point, already HTML) with its first sentence marked as the answer
    (``<strong class="da-answer">``) when the point is the demand verdict or the staffing gap, so
    that it stands out at the top of the page and a browser test can find it."""
    if not text.startswith(ANSWER_OPENINGS):
        return text
    end = _SENTENCE_END.search(text)
    cut = end.end() if end else len(text)
    if text[:cut].count("<a ") != text[:cut].count("</a>"):  # never split a link
        return text
    return f'<strong class="da-answer">{text[:cut]}</strong>{text[cut:]}'


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
            + "".join(f"<li>{_answer_first(_link_terms(html.escape(p), done))}</li>" for p in items)
            + "</ul>"
        )
    parts.append("</section>")
    return "\n".join(parts)


__all__ = [
    "ACTION_KEYS",
    "LINKED_TERMS",
    "headline_sections",
    "headline_table",
    "main_points",
    "main_points_html",
]
