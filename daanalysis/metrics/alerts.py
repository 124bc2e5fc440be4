"""Staffing alerts: rules in config, evaluated on every run and written to ``alerts.csv``.

The committee asked "What alerts were in place if staffing became under pressure?" and resolved
that officers monitor the need for a further growth bid (minutes, Domestic Abuse Update). Four
rules, each with its threshold in config (``daanalysis.config``, with its source):

* ``caseload``: open cases per caseworker FTE above the safe band's upper limit (33, SafeLives
  best practice as stated in the minutes) at ``alert_caseload_months`` consecutive month ends
  (from quarterly returns, which give quarter ends only: the quarter ends spanning them);
* ``response``: the share of referrals contacted within the KPI (one working day) below
  ``response_target_share`` for ``alert_response_quarters`` consecutive quarters;
* ``projection``: at today's staffing and ``demand_growth_annual`` growth, caseload per FTE above
  the band within ``alert_breach_quarters`` quarters;
* ``vacancies``: vacant caseworker FTE above ``alert_vacancy_share`` of funded FTE at the quarter
  end.

A rule whose inputs are missing (no staffing, aggregate returns only) is ``not evaluated``, with
the reason, never silently clear. ``daanalysis report --fail-on-alert`` exits 3 when any rule
fired, so that a scheduler can send the e-mail (docs/scheduling.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.metrics import staffing
from daanalysis.panel import NeedsRecordLevelData
from daanalysis.periods import quarter_label

ALERT_COLUMNS = [
    "area",
    "quarter",
    "rule",
    "status",
    "value",
    "threshold",
    "unit",
    "message",
    "source",
]
FIRED, CLEAR, NOT_EVALUATED = "fired", "clear", "not evaluated"
FAIL_EXIT_CODE = 3


def counted(number: float, noun: str) -> str:
    """``2 quarters``, ``1 working day``: a count with its noun in the right number."""
    return f"{number:g} {noun}{'' if number == 1 else 's'}"


def _row(
    rule: str, status: str, value: float, threshold: float, unit: str, message: str, source: str
) -> dict:
    return {
        "rule": rule,
        "status": status,
        "value": value,
        "threshold": threshold,
        "unit": unit,
        "message": message,
        "source": source,
    }


def trailing_run(flags: pd.Series) -> int:
    """How many of the last values of a boolean series are True in a row."""
    values = flags.to_numpy(dtype=bool)[::-1]
    return int(np.argmin(values)) if not values.all() else len(values)


def caseload_alert(caseload: pd.DataFrame, quarter: pd.Period, config: Config) -> dict:
    """Caseload per FTE above the band at ``alert_caseload_months`` consecutive month ends.

    ``caseload`` is :func:`daanalysis.metrics.staffing.caseload_per_fte`; months after the end of
    ``quarter`` are ignored. ``value`` is the number of consecutive month ends above the band
    (month ends); the message gives the latest caseload per FTE.
    """
    source = config.source("safe_band_upper")
    end = quarter.asfreq("M", how="end")
    rows = caseload[(caseload["month"] <= end) & caseload["per_fte"].notna()]
    needed = int(config.alert_caseload_months)
    if rows.empty:
        return _row(
            "caseload",
            NOT_EVALUATED,
            np.nan,
            needed,
            "month ends",
            "Not evaluated: no month end with both open caseload and caseworker FTE.",
            source,
        )
    run = trailing_run(rows["per_fte"] > config.safe_band_upper)
    latest = rows.iloc[-1]
    rule = f" (the alert is raised after {counted(needed, 'month end')} in a row above it)."
    unit = "month end"
    if _quarter_ends(rows["month"]):
        # Quarterly returns give the caseload at quarter ends only: the run is of quarter ends,
        # and the rule's months are read as the quarter ends that span them.
        unit = "quarter end"
        needed_months, needed = needed, max(1, int(np.ceil(needed / 3)))
        rule = (
            f" (the alert is raised after {counted(needed_months, 'month end')} in a row above "
            f"it; the figures give quarter ends only, so after {counted(needed, 'quarter end')})."
        )
    status = FIRED if run >= needed else CLEAR
    message = (
        f"{latest['per_fte']:.1f} open cases per caseworker FTE at the end of "
        f"{latest['month'].strftime('%B %Y')}, "
        + (
            f"above the safe band's upper limit of {config.safe_band_upper:g} at the last "
            f"{counted(run, unit)}"
            if run
            else f"within the safe band's upper limit of {config.safe_band_upper:g}"
        )
        + rule
    )
    return _row("caseload", status, float(run), needed, f"{unit}s", message, source)


def _quarter_ends(months: pd.Series) -> bool:
    """Whether caseloads are known at quarter ends only (quarterly returns): every reading the
    last month of a financial quarter and most of them three months apart."""
    index = pd.PeriodIndex(months, freq="M")
    if len(index) < 2 or (index.month % 3 != 0).any():
        return False
    ordinal = index.year * 12 + index.month
    return bool(np.median(np.diff(ordinal)) >= 3)


def response_alert(kpi: pd.DataFrame, quarter: pd.Period, config: Config) -> dict:
    """Response KPI below target for ``alert_response_quarters`` consecutive quarters.

    ``kpi`` is :func:`daanalysis.metrics.staffing.response_kpi`; ``value`` is the latest quarter's
    share
    contacted within the KPI (per cent).
    """
    source = config.source("response_working_days")
    target = 100 * config.response_target_share
    rows = kpi[(kpi["quarter"] <= quarter) & kpi["within_kpi_pct"].notna()]
    if rows.empty:
        return _row(
            "response",
            NOT_EVALUATED,
            np.nan,
            target,
            "%",
            "Not evaluated: no quarter with first-contact dates.",
            source,
        )
    needed = int(config.alert_response_quarters)
    run = trailing_run(rows["within_kpi_pct"] < target)
    latest = rows.iloc[-1]
    status = FIRED if run >= needed else CLEAR
    message = (
        f"{latest['within_kpi_pct']:.1f}% of referrals were contacted within "
        f"{counted(config.response_working_days, 'working day')} in "
        f"{quarter_label(latest['quarter'], with_months=False)}, against a {target:g}% target"
        + (f": below it for the last {counted(run, 'quarter')}" if run else ": on target")
        + f" (the alert is raised after {counted(needed, 'quarter')} in a row below it)."
    )
    return _row("response", status, float(latest["within_kpi_pct"]), target, "%", message, source)


def projection_alert(open_cases: float, fte: float, quarter: pd.Period, config: Config) -> dict:
    """Caseload per FTE above the band within ``alert_breach_quarters`` quarters at today's
    staffing (``fte``) and ``demand_growth_annual`` growth (see :func:`staffing.project`).

    ``value`` is the number of quarters until the breach (0: already above the band; NaN: not
    within the horizon).
    """
    source = config.source("demand_growth_annual")
    horizon = int(config.alert_breach_quarters)
    if not fte or np.isnan(fte) or np.isnan(open_cases):
        return _row(
            "projection",
            NOT_EVALUATED,
            np.nan,
            horizon,
            "quarters",
            "Not evaluated: no open caseload or caseworker FTE at the quarter end.",
            source,
        )
    projection = staffing.project(
        open_cases, fte, quarter, config.demand_growth_annual, config, quarters=max(horizon, 1)
    )
    projection = projection.iloc[: horizon + 1]
    breach = staffing.breach_quarter(projection)
    growth = f"demand growing {100 * config.demand_growth_annual:g}% a year"
    if breach is None:
        message = (
            f"At today's {fte:.1f} caseworker FTE and {growth}, caseload per FTE stays within "
            f"the band for the next {counted(horizon, 'quarter')}."
        )
        return _row("projection", CLEAR, np.nan, horizon, "quarters", message, source)
    ahead = (breach - quarter.asfreq(breach.freqstr)).n
    when = (
        "is already above the band"
        if ahead == 0
        else f"goes above the band in {counted(ahead, 'quarter')}"
    )
    message = (
        f"At today's {fte:.1f} caseworker FTE and {growth}, caseload per FTE {when} "
        f"({quarter_label(breach, with_months=False)}; the alert is raised when that is "
        f"{counted(horizon, 'quarter')} away or less)."
    )
    return _row("projection", FIRED, float(ahead), horizon, "quarters", message, source)


def vacancy_alert(fte_in_post: float, fte_funded: float, config: Config) -> dict:
    """Vacant caseworker FTE above ``alert_vacancy_share`` of funded FTE (``value`` in per cent
    of funded FTE)."""
    source = config.source("alert_vacancy_share")
    threshold = 100 * config.alert_vacancy_share
    if not fte_funded or np.isnan(fte_funded) or np.isnan(fte_in_post):
        return _row(
            "vacancies",
            NOT_EVALUATED,
            np.nan,
            threshold,
            "% of funded FTE",
            "Not evaluated: no funded caseworker FTE at the quarter end.",
            source,
        )
    vacant = max(0.0, fte_funded - fte_in_post)
    share = 100 * vacant / fte_funded
    status = FIRED if share > threshold else CLEAR
    message = (
        f"{vacant:.1f} of {fte_funded:.1f} funded caseworker FTE are vacant ({share:.0f}%; the "
        f"alert is raised above {threshold:g}%)."
    )
    return _row("vacancies", status, share, threshold, "% of funded FTE", message, source)


def evaluate(
    panel: pd.DataFrame,
    referrals: pd.DataFrame | None,
    quarter: pd.Period,
    config: Config,
) -> pd.DataFrame:
    """Every rule for one area's panel at the end of ``quarter`` (columns :data:`ALERT_COLUMNS`).

    ``referrals`` are the area's record-level referrals (None with aggregate returns: the
    response rule is then not evaluated).
    """
    area = str(panel["area"].iloc[0]) if len(panel) else ""
    rows = []
    try:
        caseload = staffing.caseload_per_fte(panel, config)
    except NeedsRecordLevelData as err:
        caseload = None
        reason = f"Not evaluated: {err}"
    if caseload is not None:
        rows.append(caseload_alert(caseload, quarter, config))
        # The quarter's last month end with figures (the quarter end itself in a full quarter).
        end = caseload[
            (caseload["month"] <= quarter.asfreq("M", how="end")) & caseload["per_fte"].notna()
        ]
        now = end.iloc[-1] if len(end) else None
        open_cases = float(now["open_caseload"]) if now is not None else np.nan
        fte = float(now["caseworker_fte"]) if now is not None else np.nan
        funded = float(now["caseworker_fte_funded"]) if now is not None else np.nan
        rows.append(projection_alert(open_cases, fte, quarter, config))
        rows.append(vacancy_alert(fte, funded, config))
    else:
        for rule, unit in (("caseload", "month ends"), ("projection", "quarters")):
            rows.append(_row(rule, NOT_EVALUATED, np.nan, np.nan, unit, reason, ""))
        funded = panel.loc[
            panel["month"] == quarter.asfreq("M", how="end"), "caseworker_fte_funded"
        ]
        in_post = panel.loc[panel["month"] == quarter.asfreq("M", how="end"), "caseworker_fte"]
        rows.append(
            vacancy_alert(
                float(in_post.iloc[0]) if len(in_post) else np.nan,
                float(funded.iloc[0]) if len(funded) else np.nan,
                config,
            )
        )
    if referrals is not None and len(referrals):
        rows.append(response_alert(staffing.response_kpi(referrals, config), quarter, config))
    else:
        rows.append(
            _row(
                "response",
                NOT_EVALUATED,
                np.nan,
                100 * config.response_target_share,
                "%",
                "Not evaluated: response times need record-level referrals with first-contact "
                "dates.",
                config.source("response_working_days"),
            )
        )
    out = pd.DataFrame(rows)
    out.insert(0, "quarter", quarter_label(quarter, with_months=False))
    out.insert(0, "area", area)
    return out[ALERT_COLUMNS]


def evaluate_extract(
    extract, quarter: pd.Period, areas: list[str] | None = None, panel: pd.DataFrame | None = None
) -> pd.DataFrame:
    """:func:`evaluate` for each area of a loaded extract (default: every area); ``panel`` is the
    extract's panel when the caller has built it already."""
    from daanalysis.panel import area_panel, build_panel

    panel = build_panel(extract) if panel is None else panel
    frames = [pd.DataFrame(columns=ALERT_COLUMNS)]
    for area in areas or extract.areas():
        mine = area_panel(panel, area)
        referrals = None
        if extract.basis == "records":
            referrals = extract["referrals"][extract["referrals"]["area"] == area]
        frames.append(evaluate(mine, referrals, quarter, extract.config))
    return pd.concat(frames, ignore_index=True)


def fired(alerts: pd.DataFrame) -> pd.DataFrame:
    """The rules that fired."""
    return alerts[alerts["status"] == FIRED].reset_index(drop=True)


def lines(alerts: pd.DataFrame) -> list[str]:
    """One plain-English line per fired rule: ``Area: message``."""
    return [f"{r['area']}: {r['message']}" for _, r in fired(alerts).iterrows()]


def write(alerts: pd.DataFrame, folder: Path) -> Path:
    """``alerts.csv`` in ``folder`` (every rule, fired or not, so a clear run is on record)."""
    from daanalysis.safe_csv import write_csv  # text that a spreadsheet would run made inert

    return write_csv(alerts, Path(folder) / "alerts.csv")
