"""Partnership activity: prevention in schools, perpetrator referrals and programmes, the
police-to-service funnel and home security (sanctuary) measures.

These answer the committee's other questions (minutes, Domestic Abuse Update): statistics of
prevention programmes in schools; whether perpetrator referrals, and police referrals among them,
are rising; how many of the police's domestic abuse calls reach the service and MARAC; and what
home security costs per property. Every function takes and returns DataFrames and never reads a
file; each input is optional in the data contract, and :func:`availability` says which sections
can be shown.

Periods are UK financial quarters (``Q-MAR``) except prevention, which is counted by school term:
autumn (September to December), spring (January to March) and summer (April to August, so the
Easter weeks fall in summer and a session in August, rare, counts with the summer term).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.periods import QUARTER_FREQ

TERM_OF_MONTH = {
    **dict.fromkeys((9, 10, 11, 12), "autumn"),
    **dict.fromkeys((1, 2, 3), "spring"),
    **dict.fromkeys((4, 5, 6, 7, 8), "summer"),
}
TERM_ORDER = {"autumn": 0, "spring": 1, "summer": 2}
TERM_LAST_MONTH = {"autumn": 12, "spring": 3, "summer": 8}

# What each section needs; a missing input switches off only its own section.
SECTIONS = {
    "prevention": ("prevention",),
    "perpetrators": ("referrals|perpetrator_programme",),
    "funnel": ("police",),
    "sanctuary": ("sanctuary",),
}
MISSING_NOTES = {
    "prevention": "No prevention.csv: prevention in schools is not shown.",
    "perpetrators": (
        "No perpetrator referrals (referrals.csv rows with service = perpetrator) and no "
        "perpetrator_programme.csv: perpetrator referrals are not shown."
    ),
    "funnel": "No police.csv: the funnel from police incidents to the service is not shown.",
    "sanctuary": "No sanctuary.csv: home security (sanctuary) measures are not shown.",
}


# What a section says when its input is supplied but holds nothing up to the quarter reported.
NOT_YET_NOTES = {
    "prevention": "prevention.csv has no complete school term by the end of {quarter}: prevention "
    "in schools is not shown for this quarter (choose a later quarter to see it).",
    "perpetrators": "No perpetrator referrals or programme figures by the end of {quarter}: "
    "perpetrator referrals are not shown for this quarter (choose a later quarter to see them).",
    "funnel": "police.csv has no figures by the end of {quarter}: the funnel from police "
    "incidents to the service is not shown for this quarter.",
    "sanctuary": "sanctuary.csv has no measures by the end of {quarter}: home security "
    "(sanctuary) measures are not shown for this quarter (choose a later quarter to see them).",
}


def _months_of(name: str, frame: pd.DataFrame) -> pd.Series:
    """The last month (``Period[M]``) each row of an input covers; for prevention, the last month
    of the row's school term (a section shows complete terms only)."""
    if name == "referrals":
        return frame["referral_date"].dt.to_period("M")
    if name == "prevention":
        return school_term(frame["month"])["term_end"]
    column = "month" if "month" in frame else "period"
    return frame[column].map(lambda p: p.asfreq("M", how="end") if pd.notna(p) else p)


def availability(
    tables: dict[str, pd.DataFrame], area: str | None = None, quarter: pd.Period | None = None
) -> dict[str, str]:
    """Which sections can be shown: section name to ``""`` (available) or a one-line note saying
    what is missing and what would enable it.

    ``tables`` maps table name to its loaded frame (``Extract.tables``); ``area`` limits the check
    to one area's rows, and ``quarter`` to rows dated by its end (a section whose input starts
    later says so). For perpetrators either source will do: ``service = perpetrator``
    referrals or ``perpetrator_programme``.
    """
    end = quarter.asfreq("M", how="end") if quarter is not None else None

    def rows(name: str, dated: bool) -> pd.DataFrame:
        frame = tables.get(name, pd.DataFrame())
        if name == "referrals" and len(frame):
            frame = frame[frame["service"] == "perpetrator"]
        if area and len(frame) and "area" in frame:
            frame = frame[frame["area"] == area]
        if dated and end is not None and len(frame):
            frame = frame[(_months_of(name, frame) <= end).fillna(False).to_numpy(bool)]
        return frame

    out = {}
    for section, needs in SECTIONS.items():
        supplied = all(any(len(rows(n, False)) for n in need.split("|")) for need in needs)
        by_quarter = all(any(len(rows(n, True)) for n in need.split("|")) for need in needs)
        if not supplied:
            out[section] = MISSING_NOTES[section]
        elif not by_quarter:
            from daanalysis.periods import quarter_label

            out[section] = NOT_YET_NOTES[section].format(quarter=quarter_label(quarter))
        else:
            out[section] = ""
    return out


# --- prevention in schools -----------------------------------------------------------------------


def normalise_phase(phase: pd.Series) -> pd.Series:
    """School phases in lower case; any phase outside the data contract's
    (:data:`daanalysis.ingest.schema.SCHOOL_PHASES`) becomes ``other``."""
    from daanalysis.ingest.schema import SCHOOL_PHASES  # the data contract's list (imports pandera)

    lower = phase.astype("str").str.strip().str.lower()
    return lower.where(lower.isin(SCHOOL_PHASES), "other")


def school_term(months: pd.Series) -> pd.DataFrame:
    """Academic year and term of each month (a ``Period[M]`` series).

    Columns: academic_year (``2024/25``), term (autumn / spring / summer), term_label
    (``2024/25 autumn``), term_key (sortable: year x 3 + term order) and term_end (the term's
    last month, a ``Period[M]``).
    """
    month = months.dt.month
    year = months.dt.year
    start = year.where(month >= 9, year - 1)
    term = month.map(TERM_OF_MONTH)
    end_year = start.where(term == "autumn", start + 1)
    end_month = term.map(TERM_LAST_MONTH)
    label_year = start.astype("str") + "/" + ((start + 1) % 100).astype("str").str.zfill(2)
    return pd.DataFrame(
        {
            "academic_year": label_year,
            "term": term,
            "term_label": label_year + " " + term,
            "term_key": start * 3 + term.map(TERM_ORDER),
            "term_end": pd.PeriodIndex.from_fields(
                year=end_year.to_numpy(), month=end_month.to_numpy(), freq="M"
            ),
        },
        index=months.index,
    )


def prevention_by_term(
    prevention: pd.DataFrame, schools: pd.DataFrame | None = None, by_phase: bool = True
) -> pd.DataFrame:
    """Schools engaged, sessions and pupils reached per school term (and phase), with the change
    on the same term a year before.

    A school is engaged in a term when it has a row with at least one session. Aggregate rows
    (school blank) give ``schools_engaged`` per month; a term's figure from them is the largest
    month (the same school may appear in several months), so ``at_least`` is True there.
    ``schools_in_area`` comes from the ``schools`` register (NaN without it) and ``engaged_pct`` =
    100 x schools_engaged / schools_in_area (per cent). ``sessions_change`` and
    ``engaged_pct_change`` (percentage points) compare with the same term of the previous
    academic year (NaN when that term has no data).
    """
    frame = prevention.assign(phase=normalise_phase(prevention["phase"]))
    frame = pd.concat([frame, school_term(frame["month"])], axis=1)
    keys = ["term_key", "term_label", "term_end"] + (["phase"] if by_phase else [])
    named = frame[frame["school"].notna() & (frame["sessions"] > 0)]
    engaged_named = named.groupby(keys)["school"].nunique()
    agg = frame[frame["school"].isna()]
    engaged_agg = (
        agg.groupby([*keys, "month"])["schools_engaged"].sum(min_count=1).groupby(keys).max()
    )
    out = frame.groupby(keys)[["sessions", "pupils"]].sum(min_count=1)
    out["schools_engaged"] = engaged_named.reindex(out.index).fillna(0) + engaged_agg.reindex(
        out.index
    ).fillna(0)
    out["at_least"] = engaged_agg.reindex(out.index).notna()
    out = out.reset_index()
    if schools is not None and len(schools):
        register = schools.assign(phase=normalise_phase(schools["phase"]))
        if by_phase:
            counts = register.groupby("phase")["school"].nunique()
            out["schools_in_area"] = out["phase"].map(counts).astype("float64")
        else:
            out["schools_in_area"] = float(register["school"].nunique())
    else:
        out["schools_in_area"] = np.nan
    out["engaged_pct"] = 100 * out["schools_engaged"] / out["schools_in_area"]
    # The same term a year before: term_key - 3.
    before = out.assign(term_key=out["term_key"] + 3)
    match = ["term_key"] + (["phase"] if by_phase else [])
    prior = out[match].merge(
        before[[*match, "sessions", "engaged_pct"]], on=match, how="left", validate="one_to_one"
    )
    out["sessions_change"] = out["sessions"] - prior["sessions"].to_numpy()
    out["engaged_pct_change"] = out["engaged_pct"] - prior["engaged_pct"].to_numpy()
    return out.sort_values(keys[:1] + (["phase"] if by_phase else []), ignore_index=True)


def complete_terms(table: pd.DataFrame, quarter: pd.Period) -> pd.DataFrame:
    """Rows of a term table whose term ended by the end of ``quarter`` (a partial term would
    understate engagement)."""
    last = quarter.asfreq("M", how="end")
    return table[table["term_end"] <= last].reset_index(drop=True)


def schools_never_engaged(prevention: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Schools in the register with no session in any row of ``prevention`` (area, school,
    phase), for officers: whether to publish the names is the config choice
    ``publish_school_names``."""
    engaged = set(prevention.loc[prevention["sessions"] > 0, "school"].dropna())
    out = schools[~schools["school"].isin(engaged)][["area", "school", "phase"]]
    return out.assign(phase=normalise_phase(out["phase"])).sort_values(
        ["area", "phase", "school"], ignore_index=True
    )


# --- perpetrators --------------------------------------------------------------------------------


def to_quarter(periods: pd.Series) -> pd.Series:
    """Financial quarter of each month or quarter ``Period`` (objects, as the loader gives)."""
    return periods.map(lambda p: p.asfreq(QUARTER_FREQ))


def perpetrator_referrals_by_source(referrals: pd.DataFrame) -> pd.DataFrame:
    """Perpetrator referrals (``service = perpetrator``) per financial quarter and canonical
    referral source: a quarter x source table of counts, with a ``total`` column."""
    perp = referrals[referrals["service"] == "perpetrator"]
    table = pd.crosstab(
        perp["referral_date"].dt.to_period(QUARTER_FREQ), perp["referral_source"]
    ).rename_axis(index="quarter", columns=None)
    table["total"] = table.sum(axis=1)
    return table


def perpetrator_summary(
    referrals: pd.DataFrame | None,
    programme: pd.DataFrame | None,
    victim_referrals: pd.Series,
    config: Config,
) -> pd.DataFrame:
    """Perpetrator referrals per quarter: total, from the police, the police share against the
    target, the ratio to victim referrals, and programme starts and completions.

    ``referrals`` are record-level referrals (``service`` and ``referral_source`` canonical); when
    None or without a perpetrator referral, the ``referrals`` and ``police_referrals`` columns of
    ``programme`` are used (the aggregate path). ``victim_referrals`` is indexed by quarter
    (victim-service referrals, as in the panel). Columns: quarter, perpetrator_referrals,
    police_referrals, police_share_pct (per cent of perpetrator referrals), target_pct (config
    perpetrator_police_share_target),
    rag (green at or above target, red below), victim_referrals, per_100_victim (perpetrator
    referrals per 100 victim referrals), starts, completions (people, from the programme table).
    """
    programme = programme if programme is not None else pd.DataFrame()
    prog = (
        programme.assign(quarter=to_quarter(programme["period"]))
        .groupby("quarter")[["starts", "completions", "referrals", "police_referrals"]]
        .sum(min_count=1)
        if len(programme)
        else pd.DataFrame(columns=["starts", "completions", "referrals", "police_referrals"])
    )
    if referrals is not None and (referrals["service"] == "perpetrator").any():
        by_source = perpetrator_referrals_by_source(referrals)
        counts = pd.DataFrame(
            {
                "perpetrator_referrals": by_source["total"],
                "police_referrals": by_source.get("police", pd.Series(0, index=by_source.index)),
            }
        ).astype("float64")
    else:
        counts = prog[["referrals", "police_referrals"]].rename(
            columns={"referrals": "perpetrator_referrals"}
        )
    quarters = counts.index.union(prog.index)
    out = counts.reindex(quarters).join(prog[["starts", "completions"]].reindex(quarters))
    out = out.rename_axis("quarter").reset_index()
    out["police_share_pct"] = 100 * out["police_referrals"] / out["perpetrator_referrals"]
    out["target_pct"] = 100 * config.perpetrator_police_share_target
    out["rag"] = np.where(
        out["police_share_pct"].isna(),
        "grey",
        np.where(out["police_share_pct"] >= out["target_pct"], "green", "red"),
    )
    out["victim_referrals"] = out["quarter"].map(victim_referrals).astype("float64")
    out["per_100_victim"] = 100 * out["perpetrator_referrals"] / out["victim_referrals"]
    columns = [
        "quarter",
        "perpetrator_referrals",
        "police_referrals",
        "police_share_pct",
        "target_pct",
        "rag",
        "victim_referrals",
        "per_100_victim",
        "starts",
        "completions",
    ]
    return out[columns].astype({c: "float64" for c in ("starts", "completions")})


# --- police calls to the service -----------------------------------------------------------------


def police_funnel(panel: pd.DataFrame, referrals: pd.DataFrame | None = None) -> pd.DataFrame:
    """From police-recorded DA incidents to police referrals into the service to MARAC, per
    complete quarter of one area's panel.

    Steps and conversions: incidents (police.csv); police_referrals, victim-service referrals whose
    canonical source is the police (record-level referrals only, else NaN), and referred_pct =
    100 x police_referrals / incidents; high_risk, the high-risk ones among them, and
    high_risk_pct = 100 x high_risk / police_referrals; marac_cases, cases heard at MARAC from
    every referrer, and marac_per_100_incidents. MARAC takes cases from other agencies too, so
    its figure is put against incidents, not read as a share of the step before.
    """
    quarters = panel.groupby("quarter").agg(
        months=("month", "size"),
        complete=("complete", "all") if "complete" in panel else ("month", "size"),
        # All three months or no figure: a month not collected (or set aside as implausible)
        # would otherwise publish two months' incidents as the quarter's.
        incidents=("police_incidents", lambda s: s.sum(min_count=3)),
        marac_cases=("marac_cases", lambda s: s.sum(min_count=3)),
    )
    quarters = quarters[(quarters["months"] == 3) & quarters["complete"].astype(bool)]
    out = quarters[["incidents", "marac_cases"]].astype("float64")
    if referrals is not None and len(referrals):
        police = referrals[
            (referrals["service"] == "victim") & (referrals["referral_source"] == "police")
        ]
        q = police["referral_date"].dt.to_period(QUARTER_FREQ)
        out["police_referrals"] = q.value_counts().reindex(out.index).fillna(0)
        high = q[police["risk_level"] == "high"].value_counts()
        out["high_risk"] = high.reindex(out.index).fillna(0)
    else:
        out["police_referrals"] = np.nan
        out["high_risk"] = np.nan
    out["referred_pct"] = 100 * out["police_referrals"] / out["incidents"]
    out["high_risk_pct"] = 100 * out["high_risk"] / out["police_referrals"]
    out["marac_per_100_incidents"] = 100 * out["marac_cases"] / out["incidents"]
    columns = [
        "incidents",
        "police_referrals",
        "referred_pct",
        "high_risk",
        "high_risk_pct",
        "marac_cases",
        "marac_per_100_incidents",
    ]
    return out[columns].rename_axis("quarter").reset_index()


def trend(table: pd.DataFrame, column: str, quarters: int = 8) -> dict[str, float]:
    """The trend of ``column`` over the last ``quarters`` rows of a quarterly table.

    ``per_year``: least-squares slope in the column's units a year (x 4 quarters), with
    ``low`` and ``high``, its 95% confidence interval (t distribution, n - 2 degrees of freedom;
    NaN with fewer than three quarters); ``latest``; ``year_before`` (the same quarter a year
    earlier, NaN if absent) and ``change_on_year``.
    """
    from scipy import stats

    rows = table.dropna(subset=[column]).tail(quarters)
    slope = low = high = np.nan
    if len(rows) >= 2:
        x = np.array([(q - rows["quarter"].iloc[0]).n for q in rows["quarter"]], dtype=float)
        fit = stats.linregress(x, rows[column].to_numpy(dtype=float))
        slope = float(fit.slope) * 4
        if len(rows) >= 3:
            half = float(stats.t.ppf(0.975, len(rows) - 2) * fit.stderr) * 4
            low, high = slope - half, slope + half
    latest = table.dropna(subset=[column]).tail(1)
    if latest.empty:
        return {
            "per_year": slope,
            "low": low,
            "high": high,
            "latest": np.nan,
            "year_before": np.nan,
            "change_on_year": np.nan,
        }
    q = latest["quarter"].iloc[0]
    prior = table.loc[table["quarter"] == q - 4, column]
    before = float(prior.iloc[0]) if len(prior) else np.nan
    now = float(latest[column].iloc[0])
    return {
        "per_year": slope,
        "low": low,
        "high": high,
        "latest": now,
        "year_before": before,
        "change_on_year": now - before,
    }


# --- home security (sanctuary) -------------------------------------------------------------------


def sanctuary_by_quarter(sanctuary: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Properties secured, what they cost and who stayed at home, per financial quarter.

    Columns: quarter; properties (a blank ``properties`` is one property); total_cost (GBP);
    median_cost, cost_q1, cost_q3 (GBP per property: median and interquartile range over rows
    for one property); above_high (properties costing more than config sanctuary_cost_high,
    GBP 200 from the committee minutes) and above_high_pct (per cent of one-property rows);
    stayed_home and stayed_home_pct (clients helped to stay in their own home, per cent of
    properties).
    """
    frame = sanctuary.assign(
        quarter=to_quarter(sanctuary["period"]),
        properties=sanctuary["properties"].fillna(1),
    )
    single = frame[frame["properties"] == 1]
    out = frame.groupby("quarter").agg(
        properties=("properties", "sum"),
        total_cost=("cost", "sum"),
        stayed_home=("stayed_home", lambda s: s.sum(min_count=1)),
    )
    costs = single.groupby("quarter")["cost"]
    out["median_cost"] = costs.median()
    out["cost_q1"] = costs.quantile(0.25)
    out["cost_q3"] = costs.quantile(0.75)
    out["above_high"] = (
        single.assign(high=single["cost"] > config.sanctuary_cost_high)
        .groupby("quarter")["high"]
        .sum()
        .reindex(out.index)
        .astype("float64")
    )
    out["above_high_pct"] = 100 * out["above_high"] / costs.size().reindex(out.index)
    out["stayed_home_pct"] = 100 * out["stayed_home"] / out["properties"]
    return out.astype("float64").rename_axis("quarter").reset_index()


def cost_summary(sanctuary: pd.DataFrame, config: Config) -> dict[str, float]:
    """Cost per property over all one-property rows given (GBP): count, median, quartiles,
    mean and the share above config sanctuary_cost_high (per cent)."""
    properties = sanctuary["properties"].fillna(1)
    cost = sanctuary.loc[properties == 1, "cost"]
    return {
        "properties": float(len(cost)),
        "median": float(cost.median()),
        "q1": float(cost.quantile(0.25)),
        "q3": float(cost.quantile(0.75)),
        "mean": float(cost.mean()),
        "above_high_pct": float(100 * (cost > config.sanctuary_cost_high).mean()),
    }


def in_area(frame: pd.DataFrame, area: str) -> pd.DataFrame:
    """The rows of ``frame`` for ``area`` (all rows when it has no area column)."""
    if "area" not in frame or not len(frame):
        return frame
    return frame[frame["area"] == area].reset_index(drop=True)


def up_to(frame: pd.DataFrame, quarter: pd.Period, column: str = "quarter") -> pd.DataFrame:
    """Rows of a quarterly table up to and including ``quarter``."""
    return frame[frame[column] <= quarter].reset_index(drop=True)


# --- what the partnership page publishes ---------------------------------------------------------


def _quarter_text(quarters: pd.Series) -> list[str]:
    from daanalysis.periods import quarter_label

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
    from daanalysis.present.disclosure import MARKER

    out = published.copy()
    for part, (whole, rates) in pairs.items():
        rest = table[whole] - table[part]
        hide = (rest > 0) & (rest < threshold)
        for col in [part, *rates]:
            if hide.any():
                out[col] = out[col].astype(object).where(~hide, MARKER)
    return out


def prevention_table(by_term: pd.DataFrame, terms: int = 6) -> pd.DataFrame:
    """The last ``terms`` terms of :func:`prevention_by_term` for publication (schools and
    sessions, not people: no small-number suppression is needed)."""
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
    """The last ``quarters`` of :func:`perpetrator_summary`, small counts suppressed (and the
    shares and ratios computed from them)."""
    from daanalysis.present.disclosure import suppress

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
    from daanalysis.present.disclosure import MARKER

    hidden = out["police_share_pct"].astype(str) == MARKER
    out["rag"] = out["rag"].astype(object).where(~hidden, MARKER)
    return out.rename(columns={"per_100_victim": "per 100 victim referrals"}).drop(
        columns=["victim_referrals", "target_pct"]
    )


def funnel_table(funnel: pd.DataFrame, threshold: float, quarters: int = 8) -> pd.DataFrame:
    """The last ``quarters`` of :func:`police_funnel`, small counts suppressed."""
    from daanalysis.present.disclosure import suppress

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
    """The last ``quarters`` of :func:`sanctuary_by_quarter` for publication: properties, total
    cost, median and middle half of cost per property (GBP), the share above ``high`` (config
    sanctuary_cost_high) and the share who stayed at home. A median or share from fewer than
    ``threshold`` properties is suppressed with them, and so is a share whose complement is a
    small count."""
    from daanalysis.present.disclosure import suppress

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
    from daanalysis.present.disclosure import MARKER

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


def kpis(
    prevention: pd.DataFrame | None,
    perpetrators: pd.DataFrame | None,
    funnel: pd.DataFrame | None,
    sanctuary: pd.DataFrame | None,
    config: Config,
) -> list[dict]:
    """Headline figures for ``kpis.csv`` from the latest row of each section's table (None for
    a section switched off). Counts of people below the suppression threshold are published as
    the disclosure marker."""
    from daanalysis.present.disclosure import MARKER

    def count(value: float) -> object:
        if pd.isna(value):
            return ""
        return MARKER if 0 < value < config.suppression_threshold else round(float(value))

    def derived(value: float, base: float, digits: int | None = None) -> object:
        """A figure worked out from the count ``base``: suppressed with it; ``""`` (left out)
        when there is no figure, which is not the same as a hidden one."""
        if pd.isna(value):
            return ""
        small = 0 < base < config.suppression_threshold
        return MARKER if small else round(float(value), digits)

    rows: list[dict] = []
    if prevention is not None and len(prevention):
        last = prevention.iloc[-1]
        rows.append(
            {
                "kpi": f"Schools engaged in prevention ({last['term_label']} term)",
                "value": round(float(last["engaged_pct"]), 1)
                if pd.notna(last["engaged_pct"])
                else round(float(last["schools_engaged"])),
                "unit": "% of schools" if pd.notna(last["engaged_pct"]) else "schools",
            }
        )
    if perpetrators is not None and len(perpetrators):
        last = perpetrators.iloc[-1]
        share = derived(last["police_share_pct"], last["perpetrator_referrals"], 1)
        police, whole = last["police_referrals"], last["perpetrator_referrals"]
        small = config.suppression_threshold
        # The share gives away the police count, and its complement, when either is small.
        if (0 < police < small) or (0 < whole - police < small):
            share = MARKER
        rows += [
            {
                "kpi": "Perpetrator referrals",
                "value": count(last["perpetrator_referrals"]),
                "unit": "referrals",
            },
            {
                "kpi": "Perpetrator referrals from the police",
                "value": share,
                "unit": "%",
                # A status would give away a hidden share's range: hidden with it.
                "rag": "" if share == MARKER else last["rag"],
                "source": config.source("perpetrator_police_share_target"),
            },
        ]
    if funnel is not None and len(funnel) and pd.notna(funnel["referred_pct"].iloc[-1]):
        rows.append(
            {
                "kpi": "Police DA incidents referred to the service",
                "value": round(float(funnel["referred_pct"].iloc[-1]), 1),
                "unit": "%",
            }
        )
    elif funnel is not None and len(funnel):
        # Without record-level referrals the section shows incidents and MARAC: so does kpis.csv.
        last = funnel.iloc[-1]
        if pd.notna(last["marac_per_100_incidents"]):
            rows.append(
                {
                    "kpi": "MARAC cases per 100 police DA incidents",
                    "value": derived(last["marac_per_100_incidents"], last["marac_cases"], 1),
                    "unit": "per 100 incidents",
                }
            )
        elif pd.notna(last["incidents"]):
            rows.append(
                {
                    "kpi": "Police-recorded DA incidents",
                    "value": round(float(last["incidents"])),
                    "unit": "incidents",
                }
            )
    if sanctuary is not None and len(sanctuary):
        last = sanctuary.iloc[-1]
        rows += [
            {
                "kpi": "Properties secured (sanctuary)",
                "value": count(last["properties"]),
                "unit": "properties",
            },
            {
                "kpi": "Median cost per property secured",
                "value": derived(last["median_cost"], last["properties"]),
                "unit": "GBP",
                "source": config.source("sanctuary_cost_high"),
            },
        ]
    # A figure the inputs do not give (aggregate returns without perpetrator referrals, say) is
    # left out, not published as a blank or as a hidden count.
    return [r for r in rows if str(r["value"]) != ""]


SECTION_NAMES = {
    "prevention": "prevention in schools",
    "perpetrators": "perpetrator referrals",
    "funnel": "police incidents and MARAC",
    "sanctuary": "home security (sanctuary) measures",
}


def inputs_note(missing: dict[str, str]) -> str:
    """What the page shows, in words, from :func:`availability` (the same facts the page's
    sections are switched by): ``none supplied`` when every section is off."""
    shown = [SECTION_NAMES[s] for s, note in missing.items() if not note]
    return f"shown: {', '.join(shown)}" if shown else "none supplied"


# --- charts (house style from daanalysis.present.charts) ------------------------------------------


def engagement_chart(by_term: pd.DataFrame, area: str = "", source: str = ""):
    """Share of schools engaged each term (bars), with the latest term in the title."""
    import matplotlib.pyplot as plt

    from daanalysis.present import charts

    data = by_term[["term_label", "schools_engaged", "schools_in_area", "engaged_pct"]]
    fig, ax = plt.subplots(figsize=charts.FIGSIZE)
    labels = [t.replace(" ", "\n", 1) for t in data["term_label"]]
    ax.bar(range(len(data)), data["engaged_pct"], color=charts.OKABE_ITO[0])
    for i, v in enumerate(data["engaged_pct"]):
        ax.text(i, v + 1, f"{v:.0f}%", ha="center", va="bottom", fontsize=7.5)
    ax.set_xticks(range(len(labels)), labels, fontsize=7.5)
    ax.set_ylim(0, max(100.0, float(data["engaged_pct"].max()) + 8))
    charts._ylabel(ax, "% of the area's schools with at least one session")
    charts.plain_numbers(ax, suffix="%")
    last = data.iloc[-1]
    title = (
        f"{last['engaged_pct']:.0f}% of schools ({last['schools_engaged']:.0f} of "
        f"{last['schools_in_area']:.0f}) took part in prevention sessions in the "
        f"{last['term_label']} term"
    )
    period = f"{data['term_label'].iloc[0]} to {last['term_label']}"
    alt = (
        f"Chart: Bar chart of the share of schools engaged in prevention each term, {period}. "
        f"{title}. Shares range from {data['engaged_pct'].min():.0f}% to "
        f"{data['engaged_pct'].max():.0f}%."
    )
    return charts._finish(
        fig,
        title,
        charts._subtitle(area, "schools engaged by term", period),
        source,
        alt,
        data.round(1),
    )


def funnel_chart(
    funnel: pd.DataFrame,
    area: str = "",
    source: str = "",
    quarters: int = 12,
    threshold: float = 0,
):
    """Police DA incidents referred to the service (% of incidents) by quarter; a quarter with
    fewer than ``threshold`` police referrals is left out (small-number suppression)."""
    import matplotlib.pyplot as plt

    from daanalysis.present import charts

    small = funnel["police_referrals"].between(0, threshold, inclusive="neither")
    data = funnel[~small].dropna(subset=["referred_pct"]).tail(quarters)
    labels = [t.replace(" ", "\n", 1) for t in _quarter_text(data["quarter"])]
    fig, ax = plt.subplots(figsize=charts.FIGSIZE)
    ax.plot(range(len(data)), data["referred_pct"], marker="o", color=charts.OKABE_ITO[0])
    ax.set_xticks(range(len(labels)), labels, fontsize=7.5)
    ax.set_ylim(0, float(data["referred_pct"].max()) * 1.25)
    charts._ylabel(ax, "police referrals to the service, % of police DA incidents")
    charts.plain_numbers(ax, decimals=0, suffix="%")
    direction = trend(data, "referred_pct", quarters=8)
    change, low, high = direction["per_year"], direction["low"], direction["high"]
    # A direction is stated only when the slope's 95% interval excludes no change.
    if low > 0 or high < 0:
        moved = f"{'rising' if change > 0 else 'falling'} ({change:+.1f} points a year)"
    elif pd.notna(low):
        moved = f"no clear trend ({change:+.1f} points a year, 95% CI {low:+.1f} to {high:+.1f})"
    else:
        moved = "too few quarters for a trend"
    last = data.iloc[-1]
    title = (
        f"{last['referred_pct']:.1f}% of police DA incidents led to a police referral to the "
        f"service in {_quarter_text(data['quarter'].tail(1))[0]}, {moved}"
    )
    texts = _quarter_text(data["quarter"])
    period = f"{texts[0]} to {texts[-1]}"
    alt = (
        f"Chart: Line chart of police referrals to the service as a share of police-recorded DA "
        f"incidents, by quarter, {period}. {title}. Values range from "
        f"{data['referred_pct'].min():.1f}% to {data['referred_pct'].max():.1f}%."
    )
    out = pd.DataFrame(
        {"quarter": _quarter_text(data["quarter"]), "referred_pct": data["referred_pct"].round(1)}
    )
    return charts._finish(
        fig,
        title,
        charts._subtitle(area, "police-to-service conversion", period),
        source,
        alt,
        out,
    )


def write_officer_lists(tables: dict[str, pd.DataFrame], folder) -> list:
    """Officer-only files in the run's analysts folder (not linked from any page, like
    ``ledger.csv``): ``schools_not_engaged.csv``, the schools never engaged in prevention, when
    both the school register and prevention rows exist. Returns the paths written."""
    from pathlib import Path

    schools, prevention = tables.get("schools"), tables.get("prevention")
    if schools is None or prevention is None or not len(schools) or not len(prevention):
        return []
    path = Path(folder) / "schools_not_engaged.csv"
    from daanalysis.present.publish import (
        write_csv,  # a school name a spreadsheet would run made inert
    )

    write_csv(schools_never_engaged(prevention, schools), path)
    return [path]


OWN_TABLES = ("schools", "prevention", "sanctuary", "perpetrator_programme")


def source_table(
    referrals: pd.DataFrame, quarter: pd.Period, threshold: float, quarters: int = 4
) -> pd.DataFrame:
    """Perpetrator referrals by canonical source (rows) for the last ``quarters`` quarters up to
    ``quarter`` (columns), with a total row; small counts suppressed down each column (the total
    row would reveal a single suppressed cell, so a second one is suppressed too)."""
    from daanalysis.present.disclosure import suppress

    table = perpetrator_referrals_by_source(referrals).drop(columns="total")
    table = table[table.index <= quarter].tail(quarters)
    wide = table.T.astype("float64")
    wide.columns = _quarter_text(pd.Series(wide.columns))
    wide.loc["total"] = wide.sum()
    wide = wide.rename_axis("source").reset_index()
    return suppress(wide, list(wide.columns[1:]), threshold, totals="row")


def safe_share(part: float, whole: float, threshold: float) -> float | None:
    """100 x part / whole (per cent), or None when the part or the rest of the whole is a small
    count (1 to ``threshold - 1``) that the share would reveal, or nothing to divide by."""
    rest = whole - part
    if not whole or pd.isna(part) or any(0 < v < threshold for v in (part, rest)):
        return None
    return 100 * part / whole


def last_two_years(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Sums of ``columns`` over the last four quarters of a quarterly table (row ``latest``) and
    the four before (row ``before``; NaN when fewer than eight quarters have the figure), for
    year-on-year sentences. Columns keep their units (counts)."""
    rows = table.dropna(subset=columns)
    # No quarter with the figures gives NaN, not a sum of nothing read as zero.
    latest = rows.tail(4)[columns].sum(min_count=1)
    before = rows.iloc[-8:-4][columns].sum(min_count=1) if len(rows) >= 8 else latest * np.nan
    return pd.DataFrame({"latest": latest, "before": before}).T


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


# Months an input may lag the end of the quarter reported before its section warns (school
# holidays leave gaps of up to two months in prevention; the others are monthly or quarterly).
STALE_AFTER = {
    "prevention": ("month", 6, "Prevention data"),
    "sanctuary": ("period", 6, "Home security (sanctuary) data"),
    "perpetrator_programme": ("period", 6, "Perpetrator programme data"),
}


def stale_inputs(tables: dict[str, pd.DataFrame], quarter: pd.Period) -> dict[str, str]:
    """A warning per partnership input whose latest month or period ends well before the end of
    ``quarter`` (limits in :data:`STALE_AFTER`; wording from
    :func:`daanalysis.present.publish.stale_warning`). Missing or empty inputs give none."""
    from daanalysis.present.publish import stale_warning

    out = {}
    for name, (column, months, what) in STALE_AFTER.items():
        frame = tables.get(name)
        if frame is None or not len(frame):
            continue
        latest = frame[column].dropna().map(lambda p: p.asfreq("M", how="end")).max()
        text = stale_warning(what, latest, quarter, months)
        if text:
            out[name] = text
    return out


# --- one-sentence answers for the page -----------------------------------------------------------


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
