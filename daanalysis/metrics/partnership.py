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

The page's published (suppressed) tables are in :mod:`daanalysis.present.partnership_tables`, its
charts in :mod:`daanalysis.present.charts`, the staleness warnings in
:func:`daanalysis.present.sources.partnership_warnings` and the officers' list of schools in
:func:`daanalysis.pack.downloads.write_officer_lists`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from daanalysis.config import Config
from daanalysis.ingest.clean import normalise_phase
from daanalysis.metrics.kpi import KPI
from daanalysis.metrics.small_counts import is_small
from daanalysis.periods import QUARTER_FREQ, quarter_label

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


def kpis(
    prevention: pd.DataFrame | None,
    perpetrators: pd.DataFrame | None,
    funnel: pd.DataFrame | None,
    sanctuary: pd.DataFrame | None,
    config: Config,
) -> list[KPI]:
    """Headline figures for ``kpis.csv`` from the latest row of each section's table (None for
    a section switched off). A count of people below the suppression threshold, and a figure
    worked out from one, is marked ``hidden`` (published as the disclosure marker). A figure the
    inputs do not give (aggregate returns without perpetrator referrals, say) is left out, not
    published as a blank or as a hidden count."""
    small = config.suppression_threshold

    def count(key: str, label: str, value: float, unit: str, **extra) -> KPI | None:
        if pd.isna(value):
            return None
        return KPI(key, label, round(float(value)), unit, hidden=is_small(value, small), **extra)

    def derived(
        key: str, label: str, value: float, base: float, unit: str, digits=None, **extra
    ) -> KPI | None:
        """A figure worked out from the count ``base``: hidden with it."""
        if pd.isna(value):
            return None
        shown = round(float(value), digits)
        return KPI(key, label, shown, unit, hidden=is_small(base, small), **extra)

    rows: list[KPI | None] = []
    if prevention is not None and len(prevention):
        last = prevention.iloc[-1]
        share = pd.notna(last["engaged_pct"])
        rows.append(
            KPI(
                "schools_engaged",
                f"Schools engaged in prevention ({last['term_label']} term)",
                round(float(last["engaged_pct"]), 1)
                if share
                else round(float(last["schools_engaged"])),
                "% of schools" if share else "schools",
                period=f"{last['term_label']} term",
            )
        )
    if perpetrators is not None and len(perpetrators):
        last = perpetrators.iloc[-1]
        police, whole = last["police_referrals"], last["perpetrator_referrals"]
        share = derived(
            "perpetrator_police_share",
            "Perpetrator referrals from the police",
            last["police_share_pct"],
            whole,
            "%",
            1,
            rag=last["rag"],
            source=config.source("perpetrator_police_share_target"),
            # One quarter's share: its page also gives the share over four quarters.
            period=f"{quarter_label(last['quarter'], with_months=False)} only",
        )
        # The share gives away the police count, and its complement, when either is small
        # (a hidden share's status would give away its range: write_kpis hides it too).
        if share is not None and (is_small(police, small) or is_small(whole - police, small)):
            share = replace(share, hidden=True)
        rows += [
            count("perpetrator_referrals", "Perpetrator referrals", whole, "referrals"),
            share,
        ]
    if funnel is not None and len(funnel) and pd.notna(funnel["referred_pct"].iloc[-1]):
        rows.append(
            KPI(
                "incidents_referred",
                "Police DA incidents referred to the service",
                round(float(funnel["referred_pct"].iloc[-1]), 1),
                "%",
            )
        )
    elif funnel is not None and len(funnel):
        # Without record-level referrals the section shows incidents and MARAC: so does kpis.csv.
        last = funnel.iloc[-1]
        if pd.notna(last["marac_per_100_incidents"]):
            rows.append(
                derived(
                    "marac_per_100_incidents",
                    "MARAC cases per 100 police DA incidents",
                    last["marac_per_100_incidents"],
                    last["marac_cases"],
                    "per 100 incidents",
                    1,
                )
            )
        elif pd.notna(last["incidents"]):
            rows.append(
                KPI(
                    "police_incidents",
                    "Police-recorded DA incidents",
                    round(float(last["incidents"])),
                    "incidents",
                )
            )
    if sanctuary is not None and len(sanctuary):
        last = sanctuary.iloc[-1]
        rows += [
            count(
                "sanctuary_properties",
                "Properties secured (sanctuary)",
                last["properties"],
                "properties",
            ),
            derived(
                "sanctuary_median_cost",
                "Median cost per property secured",
                last["median_cost"],
                last["properties"],
                "GBP",
                source=config.source("sanctuary_cost_high"),
            ),
        ]
    return [r for r in rows if r is not None]


SECTION_NAMES = {
    "prevention": "prevention in schools",
    "perpetrators": "perpetrator referrals",
    "funnel": "police incidents and MARAC",
    "sanctuary": "home security (sanctuary) measures",
}


OWN_TABLES = ("schools", "prevention", "sanctuary", "perpetrator_programme")


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


# Months an input may lag the end of the quarter reported before its section warns (school
# holidays leave gaps of up to two months in prevention; the others are monthly or quarterly).
STALE_AFTER = {
    "prevention": ("month", 6, "Prevention data"),
    "sanctuary": ("period", 6, "Home security (sanctuary) data"),
    "perpetrator_programme": ("period", 6, "Perpetrator programme data"),
}
