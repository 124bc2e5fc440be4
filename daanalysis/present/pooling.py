"""A campaign run in several areas, read together, in words (issue 18's pooling).

:func:`daanalysis.metrics.demand.pooled_contrasts` returns the reading as data
(:class:`~daanalysis.metrics.demand.PooledContrast`); this module says it for the page comparing
areas and for ``daanalysis verdict``. It stands beside each area's own verdict and never changes
it: an area is credited with a reporting effect on its own evidence (its verdict, or its own 90%
interval when the areas' evidence together passes), and not while the areas without the
campaign rose as much at its date. Only ratios are shown, never counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from daanalysis.metrics.demand import PooledContrast, Verdict, pooled_contrasts
from daanalysis.present.verdict import ratio_text

if TYPE_CHECKING:
    from daanalysis.present.notebook import Context
    from daanalysis.present.page import Page

POOLED_SOURCE = (
    "Source: each area's referrals, need-sensitive figures (police-recorded crimes, MARAC "
    "cases, high-risk and repeat referrals) and campaigns (campaigns.csv, one row for each area "
    "a campaign ran in). Method: each area's contrast as its verdict reads it, combined by "
    "generalised least squares allowing for how the areas' figures move together."
)
NOTHING_POOLED = (
    "No campaign is listed for two or more areas by name and start date (campaigns.csv, one "
    "row for each area it ran in), so no campaign is read across areas: each area's verdict "
    "above stands on its own figures."
)


def _listed(names: list[str]) -> str:
    if len(names) < 3:
        return " and ".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def pooled_lines(p: PooledContrast) -> list[str]:
    """The reading of one campaign run in several areas: what the areas show together, which of
    them are credited with a reporting effect and why, and what the areas without it showed at
    its date."""
    started = f"{p.campaign} (started {p.start_date:%d/%m/%Y})"
    if not p.primary:
        return [
            f"{started} ran in {_listed(p.areas)}. Fewer than two of them have a tested "
            "reporting contrast, so they cannot be read together; each area's own verdict "
            "stands."
        ]
    together = (
        f"{started} ran in {_listed(p.areas)}. Read together ({_listed(p.pooled_areas)}), "
        "their reporting effects (each area's rise in standard and medium risk referrals "
        "relative to need since its first campaign, as its own verdict reads it) come to "
        f"{ratio_text(p.primary)}"
    )
    if p.corroboration:
        together += (
            f", and to {ratio_text(p.corroboration)} relative to the service's own need "
            "streams (high risk and MARAC)"
        )
    together += (
        ": the areas' evidence together passes the test a reporting claim needs."
        if p.passes
        else ": together, this is not the clear rise a reporting claim needs."
    )
    lines = [together]
    for area in p.areas:
        v = p.verdicts.get(area)
        own = v is not None and v.verdict in ("reporting", "both")
        if p.credited.get(area):
            if own:
                lines.append(f"{area}: a reporting effect, on its own verdict.")
            else:
                lines.append(
                    f"{area}: a reporting effect, on its own interval "
                    f"{ratio_text(p.own[area])} with the areas' evidence together (its own "
                    "verdict, from its figures alone, could not tell)."
                )
        elif own and p.others_up:
            lines.append(
                f"{area}: its own verdict reads a reporting effect, but it is not credited to "
                "the campaign here, as the areas without the campaign rose at its date too."
            )
        else:
            lines.append(f"{area}: no reporting effect credited.")
    if p.others:
        others = _listed(p.others_areas)
        if p.others_up:
            lines.append(
                f"The areas without the campaign ({others}) rose {ratio_text(p.others)} at its "
                "date too: the rise may be regional (a shared event, a change in recording), so "
                "it is not credited to the campaign."
            )
        else:
            lines.append(
                f"The areas without the campaign ({others}) showed no clear rise at its date: "
                f"{ratio_text(p.others)}."
            )
    return lines


def pooled_table(found: list[PooledContrast]) -> pd.DataFrame:
    """One row per campaign read across areas: the areas, the pooled reporting effect with its
    95% interval, whether it passes, the areas credited, and the areas without the campaign at
    its date (ratios only, no counts)."""
    rows = []
    for p in found:
        rows.append(
            {
                "campaign": f"{p.campaign} ({p.start_date:%d/%m/%Y})",
                "areas": ", ".join(p.areas),
                "read together (ratio)": p.primary.get("rate_ratio"),
                "95% CI lower": p.primary.get("ci_low"),
                "95% CI upper": p.primary.get("ci_high"),
                "passes": "yes" if p.passes else "no",
                "credited with a reporting effect": ", ".join(
                    a for a in p.areas if p.credited.get(a)
                )
                or "none",
                "areas without it, at its date (ratio)": p.others.get("rate_ratio"),
            }
        )
    return pd.DataFrame(rows)


def show_pooled(page: Page, ctx: Context, verdicts: list[Verdict]) -> list[PooledContrast]:
    """The page comparing areas: each campaign several areas ran, read across them
    (:func:`daanalysis.metrics.demand.pooled_contrasts` on the whole panel, reusing the areas'
    ``verdicts``), in words and one table; or one line saying there is none."""
    from IPython.display import Markdown, display

    found = pooled_contrasts(
        ctx.panel,
        ctx.extract["campaigns"],
        ctx.extract["events"],
        ctx.quarter,
        verdicts={v.area: v for v in verdicts},
    )
    if not found:
        display(Markdown(NOTHING_POOLED))
        return found
    for p in found:
        first, *rest = pooled_lines(p)
        display(Markdown("\n".join([first, "", *(f"- {line}" for line in rest)])))
    page.table(
        pooled_table(found),
        f"Campaigns run in several areas, read together, {ctx.label}",
        POOLED_SOURCE,
        not_counts=True,  # ratios and names, no counts of people
    )
    return found


def as_record(p: PooledContrast, area: str) -> dict:
    """The reading for one area's entry of ``daanalysis verdict --format json``: the pooled
    figures (:meth:`PooledContrast.as_dict`), this area's credit, and the reading in words."""
    record = p.as_dict()
    record["credited_here"] = bool(p.credited.get(area, False))
    record["sentences"] = pooled_lines(p)
    return record


__all__ = ["as_record", "pooled_lines", "pooled_table", "show_pooled"]
