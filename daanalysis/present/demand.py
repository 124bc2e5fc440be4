"""The demand page's results: what ``notebooks/demand_vs_reporting.ipynb`` shows, worked out in
one call (:func:`results`) from the notebook's context, so the notebook's cells hold only the
page's parameters, charts and sentences.

The figures come from :mod:`daanalysis.metrics.demand` (statistics, typed results); the words
from :mod:`daanalysis.present.verdict`. The page's optional sections (rates, case intensity,
repeats, services, sources, characteristics) are worked out by the functions re-exported
here, so the notebook imports nothing outside ``daanalysis.present``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from daanalysis.config import Config
from daanalysis.metrics import demand
from daanalysis.metrics.demand import (
    DEMOGRAPHICS,
    STREAMS,
    Verdict,
    case_intensity,
    demographics,
    marac_benchmark,
    rates,
    service_volumes,
    source_breakdown,
    supporting_contrasts,
)
from daanalysis.metrics.kpi import KPI
from daanalysis.panel import NeedsRecordLevelData
from daanalysis.periods import quarter_label
from daanalysis.present import quality
from daanalysis.present import verdict as words
from daanalysis.present.notebook import Context, record_verdict


@dataclass
class DemandResults:
    """Everything the demand page's main part shows for one area and quarter."""

    campaigns: pd.DataFrame  # the area's campaigns (campaigns.csv)
    events: pd.DataFrame  # the area's events (events.csv)
    begun: pd.DataFrame  # campaigns begun by the quarter's end: the charts mark only these
    vols: pd.DataFrame  # each stream this quarter, a year earlier and over 12 months
    copy_notes: list[str]  # quarters set aside as probable copies of the year before
    verdict: Verdict
    fits: pd.DataFrame  # each stream modelled on its own (supporting evidence)
    notes: list[str]  # streams left out of those fits, and why
    summary: pd.DataFrame  # the fits in words, one row a stream
    headline: str  # the answer: referrals this quarter, then the verdict
    untested: str  # the line that replaces the verdict's table when nothing could be tested
    verdict_table: pd.DataFrame  # the figures the verdict rests on

    @property
    def verdict_lines(self) -> list[str]:
        """The checks and notes shown under the verdict (an untested verdict's line already
        names the campaigns and why each cannot be tested)."""
        shown = [*self.verdict.checks, *([] if self.untested else self.verdict.notes)]
        return [words.note_text(n) for n in shown]

    def kpis(self) -> list[KPI]:
        """The page's headline figures for ``kpis.csv``."""
        return words.kpis(self.vols, self.verdict)


def results(ctx: Context) -> DemandResults:
    """The demand page's results for ``ctx`` (:func:`daanalysis.present.notebook.prepare`)."""
    q = ctx.quarter
    campaigns = demand.campaigns_for(ctx.extract["campaigns"], ctx.area)
    events = demand.events_for(ctx.extract["events"], ctx.area)
    vols = demand.volumes(ctx.panel, q)
    # A quarter the loader noted as a probable copy of the year before is not compared with it.
    vols, copy_notes = quality.set_aside_copies(
        vols, quality.copied_quarters(ctx.extract, ctx.area), q
    )
    v = demand.verdict(ctx.panel, campaigns, events, q)
    # Kept for the comparison of areas, which shows every area's verdict (a quarterly run only).
    record_verdict(ctx, v)
    fits, notes = demand.fit_streams(ctx.panel, campaigns, events=events, quarter=q)
    return DemandResults(
        campaigns=campaigns,
        events=events,
        begun=campaigns[campaigns["start_date"] <= q.end_time],
        vols=vols,
        copy_notes=copy_notes,
        verdict=v,
        fits=fits,
        notes=sorted({words.note_text(n) for n in notes}),
        summary=words.summary(fits, vols),
        headline=words.headline(vols, v, q),
        untested=words.untested_line(v, campaigns),
        verdict_table=words.table(v),
    )


def repeat_table(panel: pd.DataFrame, quarters: int = 8) -> pd.DataFrame:
    """Repeat referrals within 12 months, the last ``quarters`` quarters, each named by its
    label (``2026/27 Q2``); :class:`NeedsRecordLevelData` for aggregate returns."""
    repeats = demand.repeat_rate(panel).tail(quarters)
    repeats["quarter"] = [quarter_label(p, with_months=False) for p in repeats["quarter"]]
    return repeats


def benchmarks(panel: pd.DataFrame, quarter: pd.Period, config: Config) -> pd.DataFrame:
    """Rates per 1,000 adults and reach (:func:`~daanalysis.metrics.demand.rates`) and the MARAC
    benchmark (:func:`~daanalysis.metrics.demand.marac_benchmark`), 12 months to ``quarter``;
    ``ValueError`` saying what is missing when either cannot be worked out."""
    return pd.concat([rates(panel, quarter, config), marac_benchmark(panel, quarter, config)])


def chart_streams() -> dict:
    """The streams the streams chart draws: every confidence- and need-sensitive one."""
    return {k: s for k, s in STREAMS.items() if s.kind != "context"}


__all__ = [
    "DEMOGRAPHICS",
    "STREAMS",
    "DemandResults",
    "NeedsRecordLevelData",
    "benchmarks",
    "case_intensity",
    "chart_streams",
    "demographics",
    "marac_benchmark",
    "rates",
    "repeat_table",
    "results",
    "service_volumes",
    "source_breakdown",
    "supporting_contrasts",
]
