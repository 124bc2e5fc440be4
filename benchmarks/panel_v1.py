"""A frozen copy of version 1's record-level panel (mark_repeats, panel_from_records).

Kept as the reference that the current :mod:`daanalysis.panel` must match exactly (see
``tests/test_panel_speed.py``) and as the baseline that ``bench_records.py`` times in the same run.
Do not edit: it is what the project computed before the record-level path was made linear.
"""

from __future__ import annotations

import pandas as pd

from daanalysis.panel import open_caseload
from daanalysis.periods import MONTH_FREQ


def mark_repeats_v1(referrals: pd.DataFrame, window_days: int = 365) -> pd.DataFrame:
    """Add ``first_time`` and ``repeat_12m`` flags per referral.

    A repeat is a referral of a client whose previous referral was within ``window_days``
    (SafeLives' definition: a further incident within 12 months of the last referral). First-time
    means no earlier referral in the extract, so the first year of an extract overstates it.
    Referrals with no client key are neither.
    """
    ref = referrals.sort_values(["referral_date", "source_row"]).copy()
    linked = ref["client_key"].notna()
    previous = ref.loc[linked].groupby("client_key")["referral_date"].shift()
    gap = ref.loc[linked, "referral_date"] - previous
    ref["first_time"] = False
    ref["repeat_12m"] = False
    ref.loc[linked, "first_time"] = previous.isna()
    ref.loc[linked, "repeat_12m"] = gap.le(pd.Timedelta(days=window_days)).fillna(False)
    return ref.sort_index()


def panel_from_records_v1(
    referrals: pd.DataFrame, services: tuple[str, ...] = ("victim",)
) -> pd.DataFrame:
    """Monthly referral streams per area from record-level referrals of ``services``."""
    # The extract runs to its last referral of any service, so cases stay counted open after
    # the last referral of the services analysed.
    last_month = referrals.groupby("area")["referral_date"].max().dt.to_period(MONTH_FREQ)
    # The last month is complete only if the extract holds a date (referral, contact or closure)
    # on or after its last day; an extract taken mid-month has a partial last month.
    last_seen = (
        referrals[["referral_date", "first_contact_date", "closed_date"]]
        .max(axis=1)
        .groupby(referrals["area"])
        .max()
    )
    ref = mark_repeats_v1(referrals[referrals["service"].isin(services)])
    ref["month"] = ref["referral_date"].dt.to_period(MONTH_FREQ)
    ref["days_open"] = (ref["closed_date"] - ref["referral_date"]).dt.days
    frames = []
    for area, rows in ref.groupby("area"):
        months = pd.period_range(rows["month"].min(), last_month[area], freq=MONTH_FREQ)
        by_month = rows.groupby("month")
        streams = pd.DataFrame(
            {
                "referrals": by_month.size(),
                "self_referrals": by_month["referral_source"].agg(lambda s: (s == "self").sum()),
                "first_time": by_month["first_time"].sum(),
                "standard_medium_risk": by_month["risk_level"].agg(
                    lambda s: s.isin(["standard", "medium"]).sum()
                ),
                "high_risk": by_month["risk_level"].agg(lambda s: (s == "high").sum()),
                "repeat_12m": by_month["repeat_12m"].sum(),
            }
        ).reindex(months, fill_value=0)
        closed_month = rows["closed_date"].dt.to_period(MONTH_FREQ)
        streams["cases_closed"] = closed_month.value_counts().reindex(months, fill_value=0)
        streams["open_caseload"] = open_caseload(rows["referral_date"], rows["closed_date"], months)
        streams["mean_days_open"] = (
            rows.assign(closed_month=closed_month).groupby("closed_month")["days_open"].mean()
        ).reindex(months)
        streams = streams.astype("float64")
        streams["complete"] = (months < last_month[area]) | (
            last_seen[area] >= last_month[area].end_time.normalize()
        )
        frames.append(streams.rename_axis("month").reset_index().assign(area=area))
    panel = pd.concat(frames, ignore_index=True)
    panel["basis"] = "records"
    return panel
