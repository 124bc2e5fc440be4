"""What ``notebooks/partnership_activity.ipynb`` works out, offered to the notebook through
``daanalysis.present`` (the only package notebooks import): the partnership's activity figures
from :mod:`daanalysis.metrics.partnership` (its tables' layout is
:mod:`daanalysis.present.partnership_tables`).

The words are made here: what the page shows (:func:`inputs_note`) and each section's
headline (:func:`perpetrator_headline`, :func:`funnel_headline`, :func:`sanctuary_headline`),
from the figures the metrics module works out.
"""

from __future__ import annotations

import pandas as pd

from daanalysis.config import Config
from daanalysis.metrics.partnership import (
    OWN_TABLES,
    SECTION_NAMES,
    availability,
    complete_terms,
    cost_summary,
    in_area,
    kpis,
    last_two_years,
    perpetrator_summary,
    police_funnel,
    prevention_by_term,
    safe_share,
    sanctuary_by_quarter,
    schools_never_engaged,
    to_quarter,
    up_to,
)


def inputs_note(missing: dict[str, str]) -> str:
    """What the page shows, in words, from :func:`availability` (the same facts the page's
    sections are switched by): ``none supplied`` when every section is off."""
    shown = [SECTION_NAMES[s] for s, note in missing.items() if not note]
    return f"shown: {', '.join(shown)}" if shown else "none supplied"


def year_sentence(
    what: str, latest: float, before: float, threshold: float, unit: str = ""
) -> str | None:
    """``what: N in the last four quarters, up x% on the four before`` with small counts
    (below ``threshold``) suppressed: None when the latest count is small."""
    if pd.isna(latest) or 0 < latest < threshold:
        return None
    text = f"{what}: {latest:,.0f}{unit} in the last four quarters"
    if pd.notna(before) and before >= threshold:
        change = 100 * (latest - before) / before
        word = "up" if change > 0 else "down"
        text += f", {word} {abs(change):.0f}% on the four quarters before ({before:,.0f})"
    return text + "."


def perpetrator_headline(perpetrators: pd.DataFrame, config: Config) -> str | None:
    """Perpetrator referrals over the last four quarters against the four before, and the
    police share against the target (Markdown); None when the count is small."""
    year = last_two_years(perpetrators, ["perpetrator_referrals", "police_referrals"])
    now, before = year.loc["latest"], year.loc["before"]
    threshold = config.suppression_threshold
    said = year_sentence(
        "Perpetrator referrals",
        now["perpetrator_referrals"],
        before["perpetrator_referrals"],
        threshold,
    )
    police = safe_share(now["police_referrals"], now["perpetrator_referrals"], threshold)
    if said and police is not None:
        said += (
            f" {police:.0f}% came from the police, against a "
            f"{100 * config.perpetrator_police_share_target:.0f}% target."
        )
    return said


def funnel_headline(funnel: pd.DataFrame, area: str, threshold: float) -> str | None:
    """How many police DA incidents of the last four quarters led to a police referral to the
    service (Markdown); None without record-level referrals or when the count is small."""
    if funnel["police_referrals"].isna().all():
        return None
    year = last_two_years(funnel, ["incidents", "police_referrals"]).loc["latest"]
    referred = safe_share(year["police_referrals"], year["incidents"], threshold)
    if referred is None:
        return None
    return (
        f"In the last four quarters the police recorded {year['incidents']:,.0f} domestic abuse "
        f"incidents in {area}; {year['police_referrals']:,.0f} (**{referred:.1f}%**) led to a "
        "police referral to the service."
    )


def sanctuary_headline(sanctuary: pd.DataFrame, quarter: pd.Period, config: Config) -> list[str]:
    """Cost per property over the four quarters to ``quarter`` (median, middle half, share above
    config sanctuary_cost_high) and the share who stayed at home, as Markdown sentences; a
    figure that would reveal a small count is left out."""
    threshold = config.suppression_threshold
    quarters = to_quarter(sanctuary["period"])
    rows = sanctuary[(quarters > quarter - 4) & (quarters <= quarter)]
    out = []
    summary = cost_summary(rows, config)
    if summary["properties"] >= threshold:
        text = (
            f"Over the last four quarters: median cost per property **£{summary['median']:,.0f}** "
            f"(half between £{summary['q1']:,.0f} and £{summary['q3']:,.0f})"
        )
        above = round(summary["above_high_pct"] * summary["properties"] / 100)
        share = safe_share(above, summary["properties"], threshold)
        if share is not None:
            text += f"; {share:.0f}% cost more than £{config.sanctuary_cost_high:,.0f}"
        out.append(text + " (officers told the committee: about £50 to £200 per property).")
    properties = rows["properties"].fillna(1).sum()
    stayed = safe_share(rows["stayed_home"].sum(min_count=1), properties, threshold)
    if stayed is not None:
        out.append(f"{stayed:.0f}% of those helped stayed in their own home.")
    return out


__all__ = [
    "OWN_TABLES",
    "availability",
    "complete_terms",
    "funnel_headline",
    "in_area",
    "inputs_note",
    "kpis",
    "perpetrator_headline",
    "perpetrator_summary",
    "police_funnel",
    "prevention_by_term",
    "sanctuary_by_quarter",
    "sanctuary_headline",
    "schools_never_engaged",
    "up_to",
    "year_sentence",
]
