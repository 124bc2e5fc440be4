"""Seeded synthetic sample data with effects planted on purpose.

Run ``python -m daanalysis.synthetic.sample --out data/sample`` to rewrite ``data/sample/`` (the
committed
copy is checked against this generator by the tests). The data describe an invented borough of
about 180,000 people; no row relates to a real person.

What is planted (the tests check that the analysis recovers it), all in :data:`PLANTED`:

* Reporting uplift: after each campaign start, referrals of *new clients at standard or medium
  risk* (the confidence-sensitive segment, which holds every self-referral) step up by the
  campaign's rate ratio and stay up.
* A slower real rise in need: every stream, and police crimes and MARAC volume, grows by
  ``need_growth_annual`` a year; need streams (high risk, repeats, police, MARAC) have no step.
* Seasonality: more referrals around Christmas and New Year and in mid-summer.
* An event (``events.csv``): a COVID-19 lockdown in early 2021 in which referrals to the service
  (not police-recorded crimes) fall to ``lockdown_dip`` of normal and recover by April.
* Staffing: caseworker FTE set so that, after the GBP 75k growth bid buys ``growth_bid /
  cost_per_fte`` FTE, the latest open caseload is about 35 per FTE, as in the committee minutes.
* Response: about 90% of referrals first contacted within one working day.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

from daanalysis.config import DEFAULTS, Config

SEED = 20261124
AREA = "Sampleborough"
FIRST_MONTH = pd.Period("2020-04", "M")
LAST_MONTH = pd.Period("2026-09", "M")
EXTRACT_DATE = pd.Timestamp("2026-10-05")

PLANTED: dict[str, object] = {
    "need_growth_annual": 0.05,
    "campaign_uplift": {"Know the signs": 1.30, "Open doors": 1.20},
    "seasonality": {1: 1.15, 7: 1.10, 8: 1.12, 12: 1.12},
    "caseload_per_fte_after_bid": 35.0,
    "response_within_one_working_day": 0.90,
    "mean_case_days": 106.0,
    "repeat_share_marac": 0.28,
    "lockdown_dip": 0.8,
}

CAMPAIGNS = pd.DataFrame(
    {
        "name": ["Know the signs", "Open doors"],
        "start_date": [pd.Timestamp("2022-11-01"), pd.Timestamp("2024-06-01")],
        "end_date": [pd.Timestamp("2022-12-10"), pd.Timestamp("2024-07-15")],
    }
)

EVENTS = pd.DataFrame(
    {
        "name": ["COVID-19 lockdown (third national)"],
        "start_date": [pd.Timestamp("2021-01-06")],
        "end_date": [pd.Timestamp("2021-03-31")],
        "kind": ["temporary"],
    }
)

# Mean monthly referrals at the start, before trend, seasonality and campaigns.
BASE_NEW_STANDARD_MEDIUM = 50.0  # confidence-sensitive segment
BASE_NEW_HIGH = 11.0
BASE_REPEAT = 9.0
BASE_OTHER_SERVICES = {"perpetrator": 3.0, "children": 4.0}
# Who refers to the other services. Perpetrator referrals come mostly from Children's Services
# and self-referral, few from the police (the minutes), so the police share is below target.
SOURCES_OTHER_SERVICES = {
    "perpetrator": {"Children's Services": 0.5, "Self referral": 0.38, "Police": 0.12},
    "children": {"Children's Services": 0.6, "Self referral": 0.4},
}
BASE_POLICE_INCIDENTS = 330.0
BASE_POLICE_CRIMES = 210.0
BASE_MARAC = 24.0

# Raw labels as a case system might export them; cleaning maps them to canonical ones.
SOURCES_CONFIDENCE = {
    "Self referral": 0.25,
    "Self-referral": 0.15,
    "Police": 0.15,
    "TVP": 0.10,
    "GP": 0.10,
    "Children's Services": 0.10,
    "Housing": 0.05,
    "Other": 0.10,
}
SOURCES_HIGH = {
    "Police": 0.45,
    "TVP": 0.10,
    "MARAC": 0.10,
    "Hospital": 0.15,
    "Children's Services": 0.10,
    "Other": 0.10,
}


def _months() -> pd.PeriodIndex:
    return pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")


def expected_rates(months: pd.PeriodIndex) -> pd.DataFrame:
    """Planted mean monthly counts per segment (before Poisson noise)."""
    years = (np.arange(len(months))) / 12.0
    trend = (1 + PLANTED["need_growth_annual"]) ** years
    season = np.array([PLANTED["seasonality"].get(m, 1.0) for m in months.month])
    uplift = np.ones(len(months))
    for _, c in CAMPAIGNS.iterrows():
        after = months >= c["start_date"].to_period("M")
        uplift = np.where(after, uplift * PLANTED["campaign_uplift"][c["name"]], uplift)
    need = trend * season
    # Referrals to the service dip in lockdown; police-recorded crimes and MARAC do not.
    dip = np.ones(len(months))
    for _, e in EVENTS.iterrows():
        during = (months >= e["start_date"].to_period("M")) & (
            months <= e["end_date"].to_period("M")
        )
        dip = np.where(during, PLANTED["lockdown_dip"], dip)
    return pd.DataFrame(
        {
            "new_standard_medium": BASE_NEW_STANDARD_MEDIUM * need * uplift * dip,
            "new_high": BASE_NEW_HIGH * need * dip,
            "repeat": BASE_REPEAT * need * dip,
            "police_incidents": BASE_POLICE_INCIDENTS * need,
            "police_crimes": BASE_POLICE_CRIMES * need,
            "marac": BASE_MARAC * need,
        },
        index=months,
    )


def _dates_in_month(rng: np.random.Generator, month: pd.Period, n: int) -> np.ndarray:
    days = rng.integers(0, month.days_in_month, size=n)
    return (month.start_time + pd.to_timedelta(days, unit="D")).values.astype("datetime64[D]")


def _first_contact(rng: np.random.Generator, referral: np.ndarray, hols: np.ndarray) -> np.ndarray:
    # 45% same working day, 45% next, 10% two to four working days later.
    offset = rng.choice([0, 1, 2, 3, 4], p=[0.45, 0.45, 0.05, 0.03, 0.02], size=len(referral))
    return np.busday_offset(referral, offset, roll="forward", holidays=hols)


def _choice(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    return rng.choice(list(options), p=list(options.values()), size=n)


def _referrals(
    rng: np.random.Generator,
    month: pd.Period,
    clients: np.ndarray,
    risk: dict[str, float],
    sources: dict[str, float],
    service: str = "Victim",
    dates: np.ndarray | None = None,
) -> pd.DataFrame:
    """Referrals of ``clients`` in ``month``: dates (random unless given), risk and source."""
    n = len(clients)
    return pd.DataFrame(
        {
            "client": clients,
            "date": _dates_in_month(rng, month, n) if dates is None else dates,
            "risk": _choice(rng, risk, n),
            "source": _choice(rng, sources, n),
            "service": service,
        }
    )


def generate_referrals(
    rng: np.random.Generator, rates: pd.DataFrame, area: str, id_offset: int = 0
) -> pd.DataFrame:
    """One row per referral, with raw labels, UK dates and realistic gaps.

    Referral and client numbers start after ``id_offset`` so areas never share an identifier.
    """
    hols = np.array(
        list(holidays.country_holidays("GB", subdiv="ENG", years=range(2020, 2028))),
        dtype="datetime64[D]",
    )
    rows: list[pd.DataFrame] = []
    history: list[np.ndarray] = []  # victim-service client ids referred, per month
    next_client = 1
    for month, rate in rates.iterrows():
        parts = []
        for segment, risk_p, sources in (
            ("new_standard_medium", {"Standard": 0.45, "Medium": 0.55}, SOURCES_CONFIDENCE),
            ("new_high", {"High": 1.0}, SOURCES_HIGH),
        ):
            n = rng.poisson(rate[segment])
            ids = np.arange(next_client, next_client + n)
            next_client += n
            parts.append(_referrals(rng, month, ids, risk_p, sources))
        # Repeats: a client referred in the previous 11 months comes back.
        n = rng.poisson(rate["repeat"])
        pool_ids = np.concatenate(history[-11:] or [parts[0]["client"].to_numpy()])
        if len(pool_ids) and n:
            clients = rng.choice(pool_ids, size=n)
            dates = _dates_in_month(rng, month, n)
            if not history:
                # The very first month has no earlier referrals: come back a few days later.
                first = pd.concat(parts).groupby("client")["date"].min()
                dates = np.minimum(
                    first.reindex(clients).to_numpy().astype("datetime64[D]")
                    + rng.integers(1, 6, size=n),
                    np.datetime64(month.end_time.date(), "D"),
                )
            parts.append(
                _referrals(
                    rng,
                    month,
                    clients,
                    {"High": 0.55, "Medium": 0.45},
                    {"Police": 0.6, "MARAC": 0.15, "Other": 0.25},
                    dates=dates,
                )
            )
        for service, base in BASE_OTHER_SERVICES.items():
            n = rng.poisson(base)
            ids = np.arange(next_client, next_client + n)
            next_client += n
            parts.append(
                _referrals(
                    rng,
                    month,
                    ids,
                    {"Standard": 0.5, "Medium": 0.5},
                    SOURCES_OTHER_SERVICES[service],
                    service=service.title(),
                )
            )
        month_rows = pd.concat(parts, ignore_index=True)
        history.append(month_rows.loc[month_rows["service"] == "Victim", "client"].to_numpy())
        rows.append(month_rows)
    ref = pd.concat(rows, ignore_index=True)
    # A client referred twice on one day would look like a double entry: keep one.
    ref = ref.drop_duplicates(["client", "date", "service"])
    ref = ref.sort_values(["date", "client"], ignore_index=True)
    n = len(ref)
    ref_dates = ref["date"].to_numpy().astype("datetime64[D]")
    contact = _first_contact(rng, ref_dates, hols)
    duration = np.maximum(1, rng.gamma(2.0, PLANTED["mean_case_days"] / 2.0, size=n)).astype(int)
    closed = ref_dates + duration.astype("timedelta64[D]")
    extract = np.datetime64(EXTRACT_DATE.date(), "D")
    contact_s = pd.Series(pd.to_datetime(contact)).where(contact <= extract)
    closed_s = pd.Series(pd.to_datetime(closed)).where(closed <= extract)
    uk = "%d/%m/%Y"
    return pd.DataFrame(
        {
            "referral_id": [f"R{id_offset + i:06d}" for i in range(1, n + 1)],
            "client_id": [f"C{id_offset + c:06d}" for c in ref["client"]],
            "area": area,
            "referral_date": pd.to_datetime(ref["date"]).dt.strftime(uk),
            "referral_source": ref["source"].to_numpy(),
            "risk_level": ref["risk"].to_numpy(),
            "first_contact_date": contact_s.dt.strftime(uk).fillna(""),
            "closed_date": closed_s.dt.strftime(uk).fillna(""),
            "service": ref["service"].to_numpy(),
            "gender": _choice(rng, {"Female": 0.85, "Male": 0.14, "Not known": 0.01}, n),
            "age_band": _choice(
                rng,
                {
                    "16-24": 0.18,
                    "25-34": 0.30,
                    "35-44": 0.26,
                    "45-54": 0.14,
                    "55-64": 0.07,
                    "65+": 0.05,
                },
                n,
            ),
            "ethnicity": _choice(
                rng,
                {
                    "White British": 0.78,
                    "White – other": 0.06,
                    "Asian or Asian British": 0.08,
                    "Black or Black British": 0.03,
                    "Mixed – White and Asian": 0.02,
                    "Other ethnic group": 0.02,
                    "Not stated": 0.01,
                },
                n,
            ),
            "disability": _choice(rng, {"No": 0.78, "Yes": 0.17, "Not known": 0.05}, n),
        }
    )


def plant_data_quality_problems(referrals: pd.DataFrame, id_offset: int = 0) -> pd.DataFrame:
    """A handful of rows a real extract would have, so the ledger has something to show."""
    ref = referrals.copy()
    n = len(ref)  # a small area (scale 0.3) has fewer rows: the same rows, counted round
    extra = [
        ref.iloc[[100 % n]],  # an exact re-export of a referral (same referral_id)
        ref.iloc[[2000 % n]].assign(
            referral_id=f"R{id_offset + 190001:06d}"
        ),  # double entry under a new id
        ref.iloc[[3000 % n]].assign(
            referral_id=f"R{id_offset + 190002:06d}", referral_date="31/02/2024"
        ),
        ref.iloc[[3100 % n]].assign(
            referral_id=f"R{id_offset + 190003:06d}",
            referral_date="15/06/2024",
            closed_date="01/06/2024",
        ),
    ]
    ref.loc[[500 % n, 1500 % n], "referral_source"] = "Neighbour"  # not in the mapping table
    ref.loc[[800 % n], "client_id"] = ""
    return pd.concat([ref, *extra], ignore_index=True)


def generate_staffing(caseload_now: float, config: Config, area: str) -> pd.DataFrame:
    """Caseworker FTE set so that caseload per FTE after the growth bid is about 35."""
    bid_fte = config.growth_bid / config.cost_per_fte
    target_now = round(caseload_now / PLANTED["caseload_per_fte_after_bid"] - bid_fte, 1)
    months = _months()
    # Staffing grew slowly in steps; the last year is at today's level.
    steps = np.interp(
        np.arange(len(months)),
        [0, len(months) - 13, len(months) - 1],
        [target_now - 1.5, target_now, target_now],
    )
    caseworkers = np.round(steps * 2) / 2
    caseworkers[-12:] = target_now
    rows = []
    for month, fte in zip(months, caseworkers, strict=True):
        rows += [
            (area, str(month), "IDVA team", "IDVA", round(fte * 0.6, 2), round(fte * 0.6, 2)),
            (
                area,
                str(month),
                "Outreach team",
                "Outreach worker",
                round(fte * 0.4, 2),
                round(fte * 0.4 + (0.5 if month.month in (1, 2) else 0.0), 2),
            ),
            (area, str(month), "Management", "Service manager", 1.0, 1.0),
        ]
    return pd.DataFrame(
        rows, columns=["area", "month", "team", "role", "fte_in_post", "fte_funded"]
    )


def open_caseload_at(referrals: pd.DataFrame, when: pd.Timestamp) -> int:
    """Victim-service cases open at the end of day ``when`` (used to calibrate staffing)."""
    ref = pd.to_datetime(referrals["referral_date"], format="%d/%m/%Y")
    closed = pd.to_datetime(referrals["closed_date"].replace("", None), format="%d/%m/%Y")
    victim = referrals["service"] == "Victim"
    return int((victim & (ref <= when) & (closed.isna() | (closed > when))).sum())


def generate(
    seed: int = SEED, area: str = AREA, scale: float = 1.0, id_offset: int = 0
) -> dict[str, pd.DataFrame]:
    """All sample tables for one area. ``scale`` multiplies volumes (for a second, smaller area)."""
    rng = np.random.default_rng(seed)
    config = Config()
    rates = expected_rates(_months()) * scale
    referrals = generate_referrals(rng, rates, area, id_offset)
    caseload = open_caseload_at(referrals, LAST_MONTH.end_time.normalize())
    months = [str(m) for m in rates.index]
    police = pd.DataFrame(
        {
            "area": area,
            "month": months,
            "da_incidents": rng.poisson(rates["police_incidents"]),
            "da_crimes": rng.poisson(rates["police_crimes"]),
        }
    )
    marac_cases = rng.poisson(rates["marac"])
    marac = pd.DataFrame(
        {
            "area": area,
            "period": months,
            "cases_discussed": marac_cases,
            "repeat_cases": rng.binomial(marac_cases, PLANTED["repeat_share_marac"]),
        }
    )
    years = range(2020, 2027)
    population = pd.DataFrame(
        {
            "area": area,
            "year": list(years),
            "females_16plus": [round(75000 * scale * 1.005 ** (y - 2020)) for y in years],
            "males_16plus": [round(71000 * scale * 1.005 ** (y - 2020)) for y in years],
        }
    )
    campaigns = CAMPAIGNS.assign(
        start_date=CAMPAIGNS["start_date"].dt.strftime("%d/%m/%Y"),
        end_date=CAMPAIGNS["end_date"].dt.strftime("%d/%m/%Y"),
        area="",
    )
    events = EVENTS.assign(
        start_date=EVENTS["start_date"].dt.strftime("%d/%m/%Y"),
        end_date=EVENTS["end_date"].dt.strftime("%d/%m/%Y"),
        area="",
    )
    return {
        "referrals": plant_data_quality_problems(referrals, id_offset),
        "staffing": generate_staffing(caseload, config, area),
        "police": police,
        "marac": marac,
        "population": population,
        "campaigns": campaigns,
        "events": events,
        **generate_partnership(seed, area, scale),
    }


# --- partnership activity (issue 12) ------------------------------------------------------------
# Drawn from their own random stream, so adding them changed none of the tables above.

PARTNERSHIP_PLANTED: dict[str, object] = {
    # Prevention in schools: a school's chance of taking part in a term, before and after the
    # programme's relaunch; some schools never take part (the minutes: getting schools to engage).
    "prevention_launch": pd.Period("2024-09", "M"),
    "engagement_before": 0.15,
    "engagement_after": 0.40,
    "never_engaged": 10,
    "schools": {"primary": 52, "secondary": 11, "special": 4, "college": 2},
    # Sanctuary: most properties cost GBP 50-200 (the minutes), a tail of extensive measures.
    "sanctuary_per_month": 4.0,
    "sanctuary_basic_cost": (50.0, 200.0),
    "sanctuary_tail_share": 0.12,
    "sanctuary_tail_cost": (250.0, 700.0),
    "sanctuary_stayed_home": 0.85,
    # Perpetrator programme: launched in 2025/26 Q1; a few starts a quarter, most complete.
    "programme_launch": pd.Period("2025-04", "M").asfreq("Q-MAR"),
    "programme_starts_per_quarter": 2.5,
    "programme_completion": 0.6,
    # Perpetrator referrals in referrals.csv: 12% from the police (SOURCES_OTHER_SERVICES),
    # below the 25% target in config.
    "perpetrator_police_share": 0.12,
}
TERM_MONTHS = {"autumn": (9, 10, 11, 12), "spring": (1, 2, 3), "summer": (4, 5, 6, 7)}


def generate_schools(area: str, scale: float = 1.0) -> pd.DataFrame:
    """The area's school register: ``PARTNERSHIP_PLANTED['schools']`` schools by phase."""
    rows = []
    for phase, n in PARTNERSHIP_PLANTED["schools"].items():
        for i in range(1, max(1, round(n * scale)) + 1):
            name = f"{area} {phase.title()} School {i:02d}"
            rows.append({"area": area, "school": name, "phase": phase.title()})
    return pd.DataFrame(rows, columns=["area", "school", "phase"])


def generate_prevention(rng: np.random.Generator, schools: pd.DataFrame) -> pd.DataFrame:
    """Sessions per school and month, term by term from autumn 2022 to summer 2026.

    Each school takes part in a term with probability ``engagement_before`` until the relaunch
    and ``engagement_after`` from it; ``never_engaged`` schools never do.
    """
    planted = PARTNERSHIP_PLANTED
    never = set(rng.choice(schools["school"], size=planted["never_engaged"], replace=False))
    rows = []
    for year in range(2022, 2026):
        for term, months in TERM_MONTHS.items():
            cal_year = year if term == "autumn" else year + 1
            after = pd.Period(f"{cal_year}-{months[0]:02d}", "M") >= planted["prevention_launch"]
            p = planted["engagement_after"] if after else planted["engagement_before"]
            for _, school in schools.iterrows():
                if school["school"] in never or rng.random() >= p:
                    continue
                month = int(rng.choice(months))
                sessions = 1 + int(rng.poisson(1.5))
                pupils = int(rng.integers(20, 31, size=sessions).sum())
                rows.append(
                    {
                        "area": school["area"],
                        "month": f"{cal_year}-{month:02d}",
                        "school": school["school"],
                        "phase": school["phase"],
                        "programme": "Healthy relationships",
                        "sessions": sessions,
                        "pupils": pupils,
                    }
                )
    frame = pd.DataFrame(rows)
    return frame.sort_values(["month", "school"], ignore_index=True)


def generate_sanctuary(rng: np.random.Generator, area: str, scale: float = 1.0) -> pd.DataFrame:
    """One row per property secured from April 2022, costs from the minutes with a tail."""
    planted = PARTNERSHIP_PLANTED
    rows = []
    for month in pd.period_range("2022-04", LAST_MONTH, freq="M"):
        n = int(rng.poisson(planted["sanctuary_per_month"] * scale))
        tail = rng.random(n) < planted["sanctuary_tail_share"]
        low, high = planted["sanctuary_basic_cost"]
        cost = np.where(
            tail,
            rng.uniform(*planted["sanctuary_tail_cost"], size=n),
            rng.uniform(low, high, size=n),
        )
        stayed = rng.random(n) < planted["sanctuary_stayed_home"]
        for day, c, t, st in zip(_dates_in_month(rng, month, n), cost, tail, stayed, strict=True):
            rows.append(
                {
                    "area": area,
                    "period": pd.Timestamp(day).strftime("%d/%m/%Y"),
                    "cost": round(float(c), 2),
                    "stayed_home": int(st),
                    "measures": "Internal doors; fencing"
                    if t
                    else ("Video doorbell" if c > 120 else "Lock change; door chain"),
                }
            )
    return pd.DataFrame(rows, columns=["area", "period", "cost", "stayed_home", "measures"])


def generate_perpetrator_programme(
    rng: np.random.Generator, area: str, scale: float = 1.0
) -> pd.DataFrame:
    """Starts and completions per quarter of a programme launched in 2025/26 Q1."""
    from daanalysis.periods import quarter_label

    planted = PARTNERSHIP_PLANTED
    quarters = pd.period_range(
        planted["programme_launch"], LAST_MONTH.asfreq("Q-MAR"), freq="Q-MAR"
    )
    starts = rng.poisson(planted["programme_starts_per_quarter"] * scale, size=len(quarters))
    previous = np.concatenate([[0], starts[:-1]])
    completions = rng.binomial(previous, planted["programme_completion"])
    return pd.DataFrame(
        {
            "area": area,
            "period": [quarter_label(q, with_months=False) for q in quarters],
            "programme": "Men and masculinities",
            "starts": starts,
            "completions": completions,
        }
    )


def generate_partnership(seed: int, area: str, scale: float = 1.0) -> dict[str, pd.DataFrame]:
    """The partnership-activity tables for one area, from their own random stream."""
    rng = np.random.default_rng([seed, 12])
    schools = generate_schools(area, scale)
    return {
        "schools": schools,
        "prevention": generate_prevention(rng, schools),
        "sanctuary": generate_sanctuary(rng, area, scale),
        "perpetrator_programme": generate_perpetrator_programme(rng, area, scale),
    }


def config_table() -> pd.DataFrame:
    """``config.csv``: every setting with its unit and source, and the sample's area as
    ``default_area`` (the code has no default area: a real extract names its own), and a
    made-up publisher and contact (``.example`` addresses are reserved and reach no one)."""
    values = {k: v for k, (v, _, _) in DEFAULTS.items()} | {
        "default_area": AREA,
        "publisher": f"{AREA} Council community safety team (synthetic sample)",
        "contact_email": "community.safety@sampleborough.example",
    }
    return pd.DataFrame(
        [
            {"key": k, "value": values[k], "unit": u, "source": s}
            for k, (_, u, s) in DEFAULTS.items()
        ]
    )


def benchmark_table() -> pd.DataFrame:
    """An example ``benchmarks.csv`` (public benchmarks for the comparison of areas) with
    made-up figures, each labelled synthetic: the format, never a real benchmark. The values
    sit near the sample areas' own rates so that the reference lines show on their charts."""
    source = "Synthetic example written by daanalysis.synthetic.sample: not a published figure"
    return pd.DataFrame(
        [
            ("referrals_per_1000_adults", "Synthetic regional figure", 10.0),
            ("marac_cases_per_10000_women", "Synthetic national figure", 45.0),
            ("marac_cases_per_10000_women", "Synthetic force-area figure", 55.0),
        ],
        columns=["measure", "name", "value"],
    ).assign(period="12 months to September 2026 (synthetic)", source=source)


def write_sample(
    out: Path, seed: int = SEED, areas: dict[str, float] | None = None, benchmarks: bool = False
) -> None:
    """Write every sample table to ``out``; ``areas`` maps area name to volume scale;
    ``benchmarks``: also write the synthetic example ``benchmarks.csv``
    (:func:`benchmark_table`)."""
    out.mkdir(parents=True, exist_ok=True)
    areas = areas or {AREA: 1.0}
    tables: dict[str, list[pd.DataFrame]] = {}
    for i, (area, scale) in enumerate(areas.items()):
        for name, frame in generate(seed + i, area, scale, id_offset=200_000 * i).items():
            tables.setdefault(name, []).append(frame)
    for name, frames in tables.items():
        frame = pd.concat(frames, ignore_index=True)
        if name in ("campaigns", "events"):
            frame = frame.drop_duplicates("name")
        # The referrals extract is written as Windows-1252, as case systems on Windows do.
        encoding = "cp1252" if name == "referrals" else "utf-8"
        frame.to_csv(out / f"{name}.csv", index=False, encoding=encoding, lineterminator="\n")
    if benchmarks:
        benchmark_table().to_csv(out / "benchmarks.csv", index=False, lineterminator="\n")
    config_table().to_csv(out / "config.csv", index=False, lineterminator="\n")
    (out / "VINTAGE").write_text(f"Synthetic sample data, extract taken {EXTRACT_DATE:%d/%m/%Y}\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    write_sample(args.out, args.seed)
    print(f"Wrote synthetic sample data to {args.out}")


if __name__ == "__main__":
    main()
