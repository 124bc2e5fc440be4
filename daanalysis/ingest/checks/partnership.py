"""Plausibility of the partnership tables across rows and tables: schools against the register,
sanctuary costs in pence, more programme completions than starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.ingest.checks.areas import fold_area
from daanalysis.ingest.clean import normalise_phase
from daanalysis.ingest.extract import DataContractError
from daanalysis.ingest.ledger import exclude_rows
from daanalysis.ingest.schema import SANCTUARY_MEDIAN_COST_CEILING


def check_partnership(
    tables: dict[str, pd.DataFrame], ledger: pd.DataFrame, paths: dict[str, Path]
) -> pd.DataFrame:
    """The partnership tables' plausibility across rows and tables (issue 20).

    Prevention rows naming a school not on the register are excluded (a misspelt school would
    otherwise count as engaged), and so are aggregate rows engaging more schools than the
    register has for their area and phase. Sanctuary costs whose median per property is above
    :data:`SANCTUARY_MEDIAN_COST_CEILING` (pence), and a programme with more completions than
    starts in all, stop the load naming the file and the fix.
    """
    prevention, schools = tables["prevention"], tables["schools"]
    if len(prevention) and len(schools):
        register = {
            (a, fold_area(s)): s for a, s in zip(schools["area"], schools["school"], strict=True)
        }
        named = prevention["school"].notna()
        # Each distinct (area, school) of the prevention rows looked up once.
        pairs, distinct = pd.factorize(
            pd.MultiIndex.from_arrays([prevention["area"], prevention["school"]])
        )
        spelt = [
            register.get((a, fold_area(s))) if isinstance(s, str) else None for a, s in distinct
        ]
        on_register = np.array([name is not None for name in spelt] + [False])[pairs]
        known = pd.Series(~named.to_numpy() | on_register, index=prevention.index)
        # The register's spelling, so that one school is one school in every count.
        spelling = np.array([*spelt, None], dtype=object)[pairs]
        prevention.loc[named & known, "school"] = spelling[(named & known).to_numpy()]
        reasons = {
            i: (
                f"school {prevention.at[i, 'school']!r} is not on the schools register "
                f"({paths.get('schools', 'schools.csv')}) for {prevention.at[i, 'area']}: an "
                "unknown school (a misspelling?), not counted as engaged. Correct the name to "
                "the register's spelling, or add the school to the register"
            )
            for i in prevention.index[~known]
        }
        on_register = schools.groupby([schools["area"], normalise_phase(schools["phase"])]).size()
        phases = normalise_phase(prevention["phase"])
        for i in prevention.index[~named & prevention["schools_engaged"].notna()]:
            n = on_register.get((prevention.at[i, "area"], phases[i]), 0)
            if prevention.at[i, "schools_engaged"] > n:
                reasons.setdefault(
                    i,
                    f"schools_engaged: {prevention.at[i, 'schools_engaged']:,.0f} "
                    f"{phases[i]} schools is more than the {n} on the register "
                    f"({paths.get('schools', 'schools.csv')}) for {prevention.at[i, 'area']} "
                    "(an engaged share above 100%); check the figure and the register",
                )
        ledger = exclude_rows(tables, ledger, "prevention", pd.Series(reasons, dtype=object))
    sanctuary = tables["sanctuary"]
    if len(sanctuary):
        single = sanctuary.loc[sanctuary["properties"].fillna(1) == 1, "cost"]
        median = single.median()
        if len(single) and median > SANCTUARY_MEDIAN_COST_CEILING:
            raise DataContractError(
                f"{paths['sanctuary']}, column cost: the median cost per property is "
                f"GBP {median:,.0f}, above the plausible GBP "
                f"{SANCTUARY_MEDIAN_COST_CEILING:,.0f} (home security measures cost about "
                "GBP 50 to 200, committee minutes). Are the costs in pence? Write them in "
                "pounds (153.38, not 15338), then run again."
            )
    programmes = tables["perpetrator_programme"]
    if len(programmes):
        keys = [programmes["area"], programmes["programme"].fillna("")]
        totals = programmes.groupby(keys)[["starts", "completions"]].sum()
        bad = totals[totals["completions"] > totals["starts"]]
        if len(bad):
            (area, programme), row = next(iter(bad.iterrows()))
            raise DataContractError(
                f"{paths['perpetrator_programme']}: {area}"
                f"{', ' + programme if programme else ''} has {row['completions']:,.0f} "
                f"completions against {row['starts']:,.0f} starts in all: more people cannot "
                "complete a programme than started it. Check that the starts and completions "
                "columns are not swapped and the figures are keyed right, then run again."
            )
    return ledger
