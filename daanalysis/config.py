"""Thresholds, costs and benchmarks, each with its source.

Configuration is data: ``config.csv`` beside the extract (columns ``key, value, unit, source``)
overrides the defaults below, so a council can change a cost or a threshold without touching code,
and every figure in a report can cite where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

# key: (default, unit, source)
DEFAULTS: dict[str, tuple[object, str, str]] = {
    "default_area": (
        "Sampleborough",
        "name",
        "Area name used when an extract has no area column.",
    ),
    "safe_caseload_per_fte": (
        30.0,
        "open cases per FTE",
        "SafeLives best-practice level of 30 cases per caseworker, as stated by officers in the "
        "committee minutes (Domestic Abuse Update).",
    ),
    "safe_band_lower": (
        27.0,
        "open cases per FTE",
        "Committee minutes: the level of 30 'included a 20% margin either way (27-33 cases)'.",
    ),
    "safe_band_upper": (
        33.0,
        "open cases per FTE",
        "Committee minutes: the level of 30 'included a 20% margin either way (27-33 cases)'.",
    ),
    "cost_per_fte": (
        37500.0,
        "GBP a year",
        "Assumption: caseworker (IDVA) salary of about GBP 29,000 plus 30% on-costs. Replace with "
        "the commissioned service's contract figure.",
    ),
    "growth_bid": (
        75000.0,
        "GBP a year",
        "Committee minutes: proposal of an additional GBP 75k for case work staff.",
    ),
    "demand_growth_annual": (
        0.07,
        "share a year",
        "Committee minutes: 'referrals were up approximately 7% from last year'.",
    ),
    "csew_prevalence": (
        0.048,
        "share of adults 16+ a year",
        "ONS, Domestic abuse in England and Wales overview, November 2024 (CSEW year ending March "
        "2024): 4.8% of people aged 16+ (about 2.3 million) experienced domestic abuse in the last "
        "year.",
    ),
    "marac_per_10k_women": (
        40.0,
        "MARAC cases a year per 10,000 women 16+",
        "SafeLives, 'Reviewing your Marac data': recommended volume of 40 cases per 10,000 adult "
        "(16+) women a year.",
    ),
    "marac_repeat_expected": (
        0.31,
        "share of MARAC cases",
        "SafeLives national Marac data 2023-24: about 31% of cases were repeats (a further "
        "incident within 12 months of the last referral).",
    ),
    "response_working_days": (
        1.0,
        "working days",
        "Committee minutes: the commissioned service's KPI to respond to referrals within one "
        "working day.",
    ),
    "response_target_share": (
        0.90,
        "share of referrals",
        "Assumption: 90% of referrals contacted within the KPI. "
        "Replace with the contract's target.",
    ),
    "suppression_threshold": (
        5.0,
        "count",
        "Disclosure control: counts below this (1 to 4 by default) are suppressed, following ONS "
        "small-cell practice.",
    ),
    "max_excluded_share": (
        0.05,
        "share of rows",
        "Data quality: above this share of excluded rows in one file, loading stops with an error "
        "because the extract is probably in the wrong format.",
    ),
    "caseload_roles": (
        "IDVA;Outreach worker",
        "roles, ';' separated",
        "Roles that carry a caseload; managers and admin staff are excluded from caseload per FTE.",
    ),
}


@dataclass(frozen=True)
class Config:
    """Analysis settings; see ``DEFAULTS`` for units and sources."""

    default_area: str = "Sampleborough"
    safe_caseload_per_fte: float = 30.0
    safe_band_lower: float = 27.0
    safe_band_upper: float = 33.0
    cost_per_fte: float = 37500.0
    growth_bid: float = 75000.0
    demand_growth_annual: float = 0.07
    csew_prevalence: float = 0.048
    marac_per_10k_women: float = 40.0
    marac_repeat_expected: float = 0.31
    response_working_days: float = 1.0
    response_target_share: float = 0.90
    suppression_threshold: float = 5.0
    max_excluded_share: float = 0.05
    caseload_roles: str = "IDVA;Outreach worker"
    sources: tuple[tuple[str, str], ...] = ()

    @property
    def roles(self) -> list[str]:
        return [r.strip() for r in self.caseload_roles.split(";") if r.strip()]

    def source(self, key: str) -> str:
        return dict(self.sources).get(key, DEFAULTS[key][2])

    def table(self) -> pd.DataFrame:
        """Every setting with its value, unit and source, for the report's sources section."""
        rows = [
            {"key": k, "value": getattr(self, k), "unit": DEFAULTS[k][1], "source": self.source(k)}
            for k in DEFAULTS
        ]
        return pd.DataFrame(rows)


def read_config(path: str | Path | None) -> Config:
    """Defaults overridden by ``path`` (a ``config.csv``); unknown keys are an error."""
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    if path is not None and Path(path).exists():
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        missing = {"key", "value"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"{path}: config needs columns key, value (and ideally unit, source); "
                f"missing {sorted(missing)}."
            )
        types = {f.name: f.type for f in fields(Config)}
        for i, row in frame.iterrows():
            key = row["key"].strip()
            if key not in DEFAULTS:
                raise ValueError(
                    f"{path}, row {i + 2}, column key: unknown setting {key!r}. "
                    f"Known settings: {', '.join(DEFAULTS)}."
                )
            raw = row["value"].strip()
            try:
                values[key] = raw if types[key] in ("str", str) else float(raw)
            except ValueError:
                raise ValueError(
                    f"{path}, row {i + 2}, column value: {raw!r} is not a number for {key}."
                ) from None
            if row.get("source", "").strip():
                sources[key] = row["source"].strip()
    config = Config(**values, sources=tuple(sources.items()))
    if not config.safe_band_lower <= config.safe_caseload_per_fte <= config.safe_band_upper:
        raise ValueError(
            f"{path}: safe_caseload_per_fte ({config.safe_caseload_per_fte}) must lie inside the "
            f"band {config.safe_band_lower}-{config.safe_band_upper}."
        )
    return config
