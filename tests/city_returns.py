"""A city council's monthly domestic abuse KPI returns, 2008-2017, as a council publishes them.

Synthetic (seeded), written in the shape of real published returns the project was not built
on: incidents by risk level, MARAC cases and police-recorded incidents by month, with what real
returns hold besides the months: a quarter subtotal row after each quarter's months and a
financial-year total after each year; months marked "not collected" (and one left blank); months
keyed as 0 next to a series of about 140; a quarter pasted forward from the year before; no area
column (config names the area); and a VINTAGE with a labelled extract date.

What the files hold is returned as :class:`Truth`, so tests check the loader against what was
planted rather than against its own output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.periods import fy_label, quarter_label

AREA = "Northminster"
FIRST, LAST = pd.Period("2008-04", "M"), pd.Period("2017-03", "M")
# Returns not collected: written "not collected", "NC" or ".." by different officers, or blank.
NOT_COLLECTED = {
    pd.Period("2009-07", "M"): "not collected",
    pd.Period("2009-08", "M"): "NC",
    pd.Period("2011-01", "M"): "..",
    pd.Period("2012-10", "M"): "",
}
# Months keyed as 0 in every returns column: a spreadsheet template filled with zeros.
ZEROS = [pd.Period(f"2014-{m:02d}", "M") for m in range(4, 12)]
# The police months keyed as 0, and one not collected.
POLICE_ZERO = [pd.Period("2010-06", "M")]
POLICE_NC = [pd.Period("2013-02", "M")]
MARAC_NC = [pd.Period("2015-01", "M")]
# A quarter's three months pasted over the same quarter a year later (2011/12 Q2 into 2012/13 Q2).
COPIED_FROM, COPIED_TO = pd.Period("2012Q2", "Q-MAR"), pd.Period("2013Q2", "Q-MAR")


@dataclass
class Truth:
    """What was planted in the files."""

    months: list[pd.Period] = field(default_factory=list)
    not_collected: list[pd.Period] = field(default_factory=list)
    zeros: list[pd.Period] = field(default_factory=list)
    quarter_rows: int = 0
    year_rows: int = 0
    copied: tuple[str, str] = ("", "")
    police_zero: list[pd.Period] = field(default_factory=list)
    police_nc: list[pd.Period] = field(default_factory=list)
    marac_nc: list[pd.Period] = field(default_factory=list)


def _cell(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.0f}"


def write_city_returns(folder: Path, seed: int = 17) -> Truth:
    """Write the city's returns, police and MARAC tables, config, campaigns and VINTAGE."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    months = list(pd.period_range(FIRST, LAST, freq="M"))
    t = np.arange(len(months))
    season = 1 + 0.08 * np.cos(2 * np.pi * (np.array([m.month for m in months]) - 7) / 12)
    high = rng.poisson(38 * season * (1 + 0.002 * t))
    standard = rng.poisson(95 * season * (1 + 0.003 * t))
    unassessed = rng.poisson(6, len(months))
    referrals = high + standard + unassessed
    police = rng.poisson(420 * season)
    marac = rng.poisson(26 * season)
    values = pd.DataFrame(
        {"referrals": referrals, "high_risk": high, "standard_medium_risk": standard},
        index=pd.PeriodIndex(months),
    ).astype(object)
    copied = [m for m in months if m.asfreq("Q-MAR") == COPIED_FROM]
    for m in copied:
        values.loc[m + 12] = values.loc[m].to_numpy()
    for m, marker in NOT_COLLECTED.items():
        values.loc[m] = marker
    for m in ZEROS:
        values.loc[m] = 0
    lines = ["Period,Referrals,High risk,Standard medium risk"]
    truth = Truth(
        months=months,
        not_collected=list(NOT_COLLECTED),
        zeros=ZEROS,
        copied=(quarter_label(COPIED_TO, False), quarter_label(COPIED_FROM, False)),
        police_zero=POLICE_ZERO,
        police_nc=POLICE_NC,
        marac_nc=MARAC_NC,
    )
    for i, month in enumerate(months):
        row = values.loc[month]
        lines.append(f"{month.strftime('%b %Y')}," + ",".join(_cell(v) for v in row))
        quarter = month.asfreq("Q-MAR")
        if month == quarter.asfreq("M", how="end"):
            # The spreadsheet's SUM: months not collected add nothing.
            block = values.loc[[m for m in months if m.asfreq("Q-MAR") == quarter]]
            sums = [sum(v for v in block[c] if not isinstance(v, str)) for c in values.columns]
            lines.append(f"{quarter_label(quarter, False)}," + ",".join(_cell(v) for v in sums))
            truth.quarter_rows += 1
        if month.month == 3:
            block = values.loc[months[i - 11 : i + 1]]
            sums = [sum(v for v in block[c] if not isinstance(v, str)) for c in values.columns]
            label = fy_label(month.year - 1)
            lines.append(f"{label} total," + ",".join(_cell(v) for v in sums))
            truth.year_rows += 1
    (folder / "returns.csv").write_text("\n".join(lines) + "\n")
    police_rows = ["month,da_incidents,da_crimes"]
    for month, incidents in zip(months, police, strict=True):
        crimes = int(incidents * 0.55)
        if month in POLICE_ZERO:
            incidents = crimes = 0
        text = (
            "not collected,not collected" if month in POLICE_NC else f"{incidents:.0f},{crimes:.0f}"
        )
        police_rows.append(f"{month},{text}")
    (folder / "police.csv").write_text("\n".join(police_rows) + "\n")
    marac_rows = ["period,cases_discussed,repeat_cases"]
    for month, cases in zip(months, marac, strict=True):
        text = "NC,NC" if month in MARAC_NC else f"{cases:.0f},{int(cases * 0.3):.0f}"
        marac_rows.append(f"{month},{text}")
    (folder / "marac.csv").write_text("\n".join(marac_rows) + "\n")
    (folder / "config.csv").write_text(
        f"key,value,unit,source\ndefault_area,{AREA},name,The council's own returns\n"
    )
    (folder / "campaigns.csv").write_text(
        "name,start_date,end_date\nWhite Ribbon week,25/11/2013,10/12/2013\n"
    )
    (folder / "VINTAGE").write_text(
        "Northminster DA KPIs, monthly from 01/04/2008, published 20/02/2018\n"
        "extract_date: 2017-05-02\n"
    )
    return truth
