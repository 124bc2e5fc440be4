"""The partnership page's published tables: the statistics of
:mod:`daanalysis.metrics.partnership` with small counts suppressed (and the shares, ratios and
statuses worked out from them), quarters in words, columns named for a reader.
"""

from __future__ import annotations

import pandas as pd

from daanalysis.metrics.partnership import perpetrator_referrals_by_source
from daanalysis.periods import quarter_label
from daanalysis.present.disclosure import MARKER, suppress

# Columns of prevention_table that count schools and sessions, not people: Page.table leaves
# them unsuppressed (pupils reached are people, and are suppressed like any count).
PREVENTION_NOT_COUNTS = (
    "schools_engaged",
    "schools_in_area",
    "sessions",
    "sessions_change_on_year",
)


def _quarter_text(quarters: pd.Series) -> list[str]:
    return [quarter_label(q, with_months=False) for q in quarters]


def _hide_complements(
    table: pd.DataFrame,
    published: pd.DataFrame,
    pairs: dict[str, tuple[str, list[str]]],
    threshold: float,
) -> pd.DataFrame:
    """Secondary suppression by difference: where ``whole - part`` is a small count (1 to
    ``threshold - 1``), publishing both would reveal it, so ``part`` and the rates computed from
    it are suppressed. ``pairs`` maps part to (whole, rate columns); ``table`` holds the counts
    before suppression, ``published`` the suppressed copy (same index)."""
    out = published.copy()
    for part, (whole, rates) in pairs.items():
        rest = table[whole] - table[part]
        hide = (rest > 0) & (rest < threshold)
        for col in [part, *rates]:
            if hide.any():
                out[col] = out[col].astype(object).where(~hide, MARKER)
    return out


def prevention_table(by_term: pd.DataFrame, terms: int = 6) -> pd.DataFrame:
    """The last ``terms`` terms of :func:`~daanalysis.metrics.partnership.prevention_by_term`
    for publication. Schools and sessions are not people: publish it with
    ``not_counts=PREVENTION_NOT_COUNTS`` (pupils reached are suppressed like any count)."""
    keep = by_term["term_key"].drop_duplicates().tail(terms)
    rows = by_term[by_term["term_key"].isin(keep)]
    out = pd.DataFrame(
        {
            "term": rows["term_label"],
            **({"phase": rows["phase"]} if "phase" in rows else {}),
            "schools_engaged": rows["schools_engaged"],
            "schools_in_area": rows["schools_in_area"],
            "engaged_pct": rows["engaged_pct"],
            "engaged, change on year (percentage points)": rows["engaged_pct_change"],
            "sessions": rows["sessions"],
            "sessions_change_on_year": rows["sessions_change"],
            "pupils_reached": rows["pupils"],
        }
    )
    return out.reset_index(drop=True)


def perpetrator_table(summary: pd.DataFrame, threshold: float, quarters: int = 8) -> pd.DataFrame:
    """The last ``quarters`` of :func:`~daanalysis.metrics.partnership.perpetrator_summary`,
    small counts suppressed (and the shares and ratios computed from them)."""
    shown = summary.tail(quarters).assign(quarter=lambda d: _quarter_text(d["quarter"]))
    counts = ["perpetrator_referrals", "police_referrals", "starts", "completions"]
    shown[counts] = shown[counts].astype("float64")
    out = suppress(
        shown,
        counts,
        threshold,
        rate_columns={
            "police_share_pct": ["police_referrals", "perpetrator_referrals"],
            "per_100_victim": "perpetrator_referrals",
        },
    )
    out = _hide_complements(
        shown,
        out,
        {"police_referrals": ("perpetrator_referrals", ["police_share_pct"])},
        threshold,
    )
    # The status against the target is worked out from the share: where the share is hidden,
    # a status would give away its range (green: at or above the target), so it is hidden too.
    hidden = out["police_share_pct"].astype(str) == MARKER
    out["rag"] = out["rag"].astype(object).where(~hidden, MARKER)
    return out.rename(columns={"per_100_victim": "per 100 victim referrals"}).drop(
        columns=["victim_referrals", "target_pct"]
    )


def funnel_table(funnel: pd.DataFrame, threshold: float, quarters: int = 8) -> pd.DataFrame:
    """The last ``quarters`` of :func:`~daanalysis.metrics.partnership.police_funnel`, small
    counts suppressed."""
    shown = funnel.tail(quarters).assign(quarter=lambda d: _quarter_text(d["quarter"]))
    out = suppress(
        shown,
        ["incidents", "police_referrals", "high_risk", "marac_cases"],
        threshold,
        rate_columns={
            "referred_pct": "police_referrals",
            "high_risk_pct": ["high_risk", "police_referrals"],
            "marac_per_100_incidents": "marac_cases",
        },
    )
    out = _hide_complements(
        shown, out, {"high_risk": ("police_referrals", ["high_risk_pct"])}, threshold
    )
    return out.rename(
        columns={
            "incidents": "police DA incidents",
            "police_referrals": "police referrals to the service",
            "referred_pct": "referred (% of incidents)",
            "high_risk": "of which high risk",
            "high_risk_pct": "high risk (% of police referrals)",
            "marac_cases": "cases heard at MARAC (all referrers)",
            "marac_per_100_incidents": "MARAC cases per 100 incidents",
        }
    )


def sanctuary_table(
    by_quarter: pd.DataFrame, threshold: float, high: float = 200.0, quarters: int = 8
) -> pd.DataFrame:
    """The last ``quarters`` of :func:`~daanalysis.metrics.partnership.sanctuary_by_quarter` for
    publication: properties, total cost, median and middle half of cost per property (GBP),
    the share above ``high`` (config sanctuary_cost_high) and the share who stayed at home. A
    median or share from fewer than ``threshold`` properties is suppressed with them, and so is
    a share whose complement is a small count."""
    shown = by_quarter.tail(quarters).assign(quarter=lambda d: _quarter_text(d["quarter"]))
    out = suppress(
        shown,
        ["properties", "above_high", "stayed_home"],
        threshold,
        rate_columns={
            "median_cost": "properties",
            "cost_q1": "properties",
            "cost_q3": "properties",
            "total_cost": "properties",
            "above_high_pct": ["above_high", "properties"],
            "stayed_home_pct": ["stayed_home", "properties"],
        },
    )
    out = _hide_complements(
        shown,
        out,
        {
            "stayed_home": ("properties", ["stayed_home_pct"]),
            "above_high": ("properties", ["above_high_pct"]),
        },
        threshold,
    )

    def spread(q1: object, q3: object) -> str:
        if MARKER in (q1, q3):
            return MARKER
        return "" if pd.isna(q1) else f"£{q1:,.0f} to £{q3:,.0f}"

    out["cost_iqr"] = [spread(a, b) for a, b in zip(out["cost_q1"], out["cost_q3"], strict=True)]
    columns = {
        "quarter": "quarter",
        "properties": "properties",
        "total_cost": "total cost (GBP)",
        "median_cost": "median cost per property (GBP)",
        "cost_iqr": "middle half of costs",
        "above_high_pct": f"above £{high:,.0f} (%)",
        "stayed_home_pct": "stayed in their own home (%)",
    }
    return out[list(columns)].rename(columns=columns)


def source_table(
    referrals: pd.DataFrame, quarter: pd.Period, threshold: float, quarters: int = 4
) -> pd.DataFrame:
    """Perpetrator referrals by canonical source (rows) for the last ``quarters`` quarters up to
    ``quarter`` (columns), with a total row; small counts suppressed down each column (the total
    row would reveal a single suppressed cell, so a second one is suppressed too)."""
    table = perpetrator_referrals_by_source(referrals).drop(columns="total")
    table = table[table.index <= quarter].tail(quarters)
    wide = table.T.astype("float64")
    wide.columns = _quarter_text(pd.Series(wide.columns))
    wide.loc["total"] = wide.sum()
    wide = wide.rename_axis("source").reset_index()
    return suppress(wide, list(wide.columns[1:]), threshold, totals="row")


__all__ = [
    "PREVENTION_NOT_COUNTS",
    "funnel_table",
    "perpetrator_table",
    "prevention_table",
    "sanctuary_table",
    "source_table",
]
