"""Extracts a council might really hold, built from ``data/sample``: referrals alone (every
optional table left out), each optional table left out in turn, no campaign that can be tested,
quarterly returns only, a short history.

Each variant is a folder the whole pack must run on (``tests/test_pack_variants.py``). A
variant is ``(name, build, quarter, missing)``: ``build(folder)`` writes the extract,
``quarter`` is the ``--quarter`` to run, and ``missing`` is text the pages must show, naming
what the variant lacks.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.conftest import SAMPLE

# Optional tables of the data contract the sample ships (config is optional too, but the
# sample's config names the area; leaving it out is the ingest half of issue 17).
OPTIONAL_TABLES = (
    "staffing",
    "police",
    "marac",
    "population",
    "campaigns",
    "events",
    "action_plan",
    "schools",
    "prevention",
    "sanctuary",
    "perpetrator_programme",
)


# What a page says when the table is left out, where it is not "No <table>.csv".
SAYS_MISSING = {
    "campaigns": "campaigns.csv lists no awareness campaign",
    "action_plan": "action_plan.csv has no rows",
}


@dataclass(frozen=True)
class Variant:
    name: str
    build: Callable[[Path], None]
    quarter: str = "latest"
    # Text that must appear on the pages (any of them) and says what this variant lacks.
    missing: tuple[str, ...] = ()
    # Run by the README's test command too; the other variants run in CI's full run (.ci/run),
    # as ``full``-marked tests: each is a whole pack of about 10 s of processor time.
    quick: bool = False


def copy_sample(folder: Path, without: tuple[str, ...] = ()) -> None:
    """The sample extract in ``folder``, less the tables named in ``without``."""
    shutil.copytree(SAMPLE, folder)
    for name in without:
        (folder / f"{name}.csv").unlink()


def _without(table: str) -> Callable[[Path], None]:
    return lambda folder: copy_sample(folder, (table,))


def _campaigns(rows: list[str]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        copy_sample(folder)
        (folder / "campaigns.csv").write_text(
            "\n".join(["name,start_date,end_date,area", *rows]) + "\n", encoding="utf-8"
        )

    return build


def returns_table(panel: pd.DataFrame) -> pd.DataFrame:
    """A records panel as the quarterly aggregate returns a commissioned service would send,
    indexed by ``period`` (``2024/25 Q1``), ready for ``returns.csv``."""
    from daanalysis.periods import quarter_label

    q = panel.groupby("quarter").agg(
        referrals=("referrals", "sum"),
        self_referrals=("self_referrals", "sum"),
        high_risk=("high_risk", "sum"),
        standard_medium_risk=("standard_medium_risk", "sum"),
        open_cases_end=("open_caseload", "last"),
    )
    q.index = [quarter_label(p, with_months=False) for p in q.index]
    return q.rename_axis("period").astype(int)


def quarterly_returns(folder: Path) -> None:
    """The sample as quarterly aggregate returns (``returns.csv``) instead of referrals."""
    from daanalysis.ingest.load import load_extract
    from daanalysis.panel import build_panel

    copy_sample(folder)
    panel = build_panel(load_extract(SAMPLE, salt=b"test-salt"))
    (folder / "referrals.csv").unlink()
    returns_table(panel).to_csv(folder / "returns.csv")


def last_24_months(folder: Path) -> None:
    """The sample cut to its last 24 complete months (Oct 2024 to Sep 2026)."""
    copy_sample(folder)
    first = pd.Timestamp("2024-10-01")
    ref = pd.read_csv(folder / "referrals.csv", dtype=str, encoding="cp1252")
    # The sample's deliberately bad dates stay in, for the ledger to list.
    dates = pd.to_datetime(ref["referral_date"], format="%d/%m/%Y", errors="coerce")
    ref[(dates >= first) | dates.isna()].to_csv(
        folder / "referrals.csv", index=False, encoding="cp1252"
    )
    for name in ("police", "marac", "staffing"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str)
        column = "month" if "month" in frame else "period"
        months = pd.PeriodIndex(frame[column], freq="M")
        frame[months >= first.to_period("M")].to_csv(folder / f"{name}.csv", index=False)


VARIANTS: tuple[Variant, ...] = (
    Variant(
        "referrals_only",
        lambda folder: copy_sample(folder, OPTIONAL_TABLES),
        missing=(
            *(
                f"No {t}.csv"
                for t in OPTIONAL_TABLES
                if t not in {"population", "campaigns", "action_plan", "schools"}
            ),
            "Rates need 12 months of referrals and the population table",
            "no awareness campaign is listed for this area",
            SAYS_MISSING["action_plan"],
            # The schools register serves prevention.csv's sessions, which are missing too.
        ),
        quick=True,
    ),
    *(
        Variant(f"no_{t}", _without(t), missing=(SAYS_MISSING.get(t, f"No {t}.csv"),))
        for t in OPTIONAL_TABLES
    ),
    Variant("campaigns_empty", _campaigns([]), missing=(SAYS_MISSING["campaigns"],)),
    Variant(
        "campaign_too_late",
        _campaigns(["Late push,01/08/2026,30/09/2026,"]),
        missing=("No campaign can be tested", "Late push: too recent"),
        quick=True,
    ),
    Variant(
        "quarterly_returns",
        quarterly_returns,
        missing=("need record-level referrals", "No perpetrator referral counts"),
        quick=True,
    ),
    Variant(
        "before_first_campaign",
        copy_sample,
        quarter="2021/22 Q2",
        missing=("No reporting effect can be tested", "No action plan review by the end of"),
    ),
    Variant("last_24_months", last_24_months, missing=("No campaign can be tested",), quick=True),
)


def staffing_starts_late(folder: Path) -> None:
    """Staffing, police and MARAC returns that start in April 2023, for a quarter before."""
    copy_sample(folder)
    for name in ("staffing", "police", "marac"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str)
        column = "month" if "month" in frame else "period"
        months = pd.PeriodIndex(frame[column], freq="M")
        frame[months >= pd.Period("2023-04", "M")].to_csv(folder / f"{name}.csv", index=False)


VARIANTS = (
    *VARIANTS,
    Variant(
        "inputs_start_after_the_quarter",
        staffing_starts_late,
        quarter="2022/23 Q2",
        missing=("staffing.csv has no caseworker FTE in post for September 2022",),
    ),
)
