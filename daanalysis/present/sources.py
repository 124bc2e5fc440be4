"""Sources and staleness: the line under every table and chart naming the inputs it used
(:func:`sources`), and the warnings for inputs whose latest date is well before the quarter's
end (:func:`stale_warning`, :func:`input_warnings`, :func:`partnership_warnings`).
"""

from __future__ import annotations

import pandas as pd

from daanalysis.present.notebook import PARTNERSHIP_AREA
from daanalysis.present.words import quarter_text

# --- sources -------------------------------------------------------------------------------------

# What each input is, in a reader's words, for the source line under a table or chart.
SOURCE_WORDS = {
    "referrals": "commissioned service case records (referrals.csv)",
    "returns": "commissioned service's aggregate monitoring returns (returns.csv)",
    "police": "police-recorded domestic abuse crimes and incidents (police.csv)",
    "marac": "cases heard at MARAC (marac.csv)",
    "population": "ONS mid-year population estimates (population.csv)",
    "staffing": "the service's staffing returns (staffing.csv)",
    "campaigns": "campaign dates (campaigns.csv)",
    "events": "other interruptions such as lockdowns (events.csv)",
    "schools": "school register (schools.csv)",
    "prevention": "prevention provider's session returns (prevention.csv)",
    "sanctuary": "home security (sanctuary) scheme records (sanctuary.csv)",
    "perpetrator_programme": "perpetrator programme starts and completions "
    "(perpetrator_programme.csv)",
    "action_plan": "action plan review meetings of the partnership (action_plan.csv)",
}


def supplied(extract, table: str, area: str = "") -> bool:
    """Whether ``table`` was supplied with rows (for ``area``, where the table has areas).

    ``"referrals"`` stands for the service's own figures in whichever form they came:
    record-level referrals or aggregate returns."""
    if table == "referrals":
        table = "referrals" if extract.basis == "records" else "returns"
    frame = extract.tables.get(table)
    if frame is None or not len(frame):
        return False
    if area and "area" in frame and area != PARTNERSHIP_AREA:
        # A blank area (campaigns, events) applies to every area.
        return bool((frame["area"].isna() | (frame["area"] == area)).any())
    return True


def sources(extract, *tables: str, area: str = "", extra: str = "") -> str:
    """``Source: a; b.`` naming only the tables of ``tables`` that were supplied with rows
    (:func:`supplied`), so a page never credits an input it did not use; ``"referrals"`` is
    worded by the form the service's figures came in (case records or aggregate returns).
    ``extra`` (a sentence such as a benchmark's source) follows the list."""
    names = []
    for table in tables:
        if not supplied(extract, table, area):
            continue
        if table == "referrals" and extract.basis != "records":
            table = "returns"
        names.append(SOURCE_WORDS.get(table, f"{table}.csv"))
    text = "Source: " + ("; ".join(names) if names else "no input table") + "."
    return f"{text} {extra}".strip()


# --- staleness -----------------------------------------------------------------------------------


def stale_warning(
    what: str, latest: object, quarter: pd.Period, months: int = 6, used_for: str = ""
) -> str | None:
    """A warning when ``latest`` (a date, month or year) is more than ``months`` before the end
    of ``quarter``; None when the input is current."""
    end = quarter.end_time.normalize()
    if latest is None or (not isinstance(latest, pd.Period) and pd.isna(latest)):
        return f"{what}: no date found, so how current it is cannot be checked."
    if isinstance(latest, pd.Period):
        when, shown = latest.end_time.normalize(), str(latest)
    elif isinstance(latest, (int, float)) and not isinstance(latest, bool):
        # A population year is a mid-year estimate (30 June).
        when, shown = pd.Timestamp(int(latest), 6, 30), f"mid-{int(latest)}"
    else:
        when = pd.Timestamp(latest)
        shown = f"{when:%d/%m/%Y}"
    age = (end.year - when.year) * 12 + end.month - when.month
    if age <= months:
        return None
    span = f"{age // 12} years and {age % 12} months" if age >= 24 else f"{age} months"
    use = f" {used_for}" if used_for else ""
    return (
        f"{what} is out of date: the latest is {shown}, {span} before the end of "
        f"{quarter_text(quarter)}.{use}"
    )


STALE_AFTER = {  # input: (months allowed before the quarter's end, what it is used for)
    "police": (3, "Police-recorded crimes are the main control in the demand comparison."),
    "population": (24, "Rates per 1,000 adults and the MARAC benchmark use it."),
    "staffing": (3, "Caseload per FTE and the staffing gap use it."),
    "action_plan": (6, "Ratings may no longer reflect progress: ask the leads for a new review."),
}
INPUT_NAMES = {
    "police": "Police data",
    "population": "Population data",
    "staffing": "Staffing data",
    "action_plan": "Action plan review",
}


def input_warnings(extract, area: str, quarter: pd.Period) -> dict[str, str]:
    """Warnings for inputs whose latest date is well before the end of ``quarter``.

    Checks the police and staffing months, the population year and the action plan's latest
    review (limits in :data:`STALE_AFTER`); the rows of ``area`` where a table has areas. Inputs
    that are current, or not in the extract, give no warning.
    """
    columns = {
        "police": "month",
        "population": "year",
        "staffing": "month",
        "action_plan": "review_date",
    }
    out = {}
    for name, column in columns.items():
        frame = extract.tables.get(name) if hasattr(extract, "tables") else None
        if frame is None or column not in frame or frame.empty:
            continue
        if area and "area" in frame and name != "action_plan":
            frame = frame[frame["area"] == area]
        values = frame[column].dropna()
        if values.empty:
            continue
        months, used = STALE_AFTER[name]
        text = stale_warning(INPUT_NAMES[name], values.max(), quarter, months, used)
        if text:
            out[name] = text
    return out


def partnership_warnings(tables: dict[str, pd.DataFrame], quarter: pd.Period) -> dict[str, str]:
    """A warning per partnership input whose latest month or period ends well before the end of
    ``quarter`` (limits in :data:`daanalysis.metrics.partnership.STALE_AFTER`, wording from
    :func:`stale_warning`). Missing or empty inputs give none."""
    from daanalysis.metrics.partnership import STALE_AFTER as PARTNERSHIP_STALE_AFTER

    out = {}
    for name, (column, months, what) in PARTNERSHIP_STALE_AFTER.items():
        frame = tables.get(name)
        if frame is None or not len(frame):
            continue
        latest = frame[column].dropna().map(lambda p: p.asfreq("M", how="end")).max()
        text = stale_warning(what, latest, quarter, months)
        if text:
            out[name] = text
    return out


__all__ = [
    "INPUT_NAMES",
    "SOURCE_WORDS",
    "STALE_AFTER",
    "input_warnings",
    "partnership_warnings",
    "sources",
    "stale_warning",
    "supplied",
]
