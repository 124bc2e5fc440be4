"""The assumptions log: every figure the pack assumes, with its value, source and owner.

The settings come from :data:`daanalysis.config.DEFAULTS` (a council overrides them in
``config.csv``); the method assumptions are those fixed in code and described in docs/methods.md.
An owner is the role that signs a figure off, following the assumptions log of HM Treasury's
*The Aqua Book: guidance on producing quality analysis for government*. Writes
``docs/assumptions.md``; a test fails when the page and the code differ::

    python -m daanalysis.assumptions --out docs/assumptions.md
"""

from __future__ import annotations

import sys

from daanalysis import generated_doc
from daanalysis.config import DEFAULTS

DOC = "docs/assumptions.md"
REGENERATE = f"python -m daanalysis.assumptions --out {DOC}"

COORDINATOR = "DA coordinator"
COMMISSIONER = "Commissioning manager"
ANALYST = "Lead analyst"
DATA_OWNER = "Data owner (information governance)"
PARTNERSHIP = "DA partnership board"

# key: (kind, owner). Kinds: benchmark (published outside the council), committee (stated in the
# committee minutes), local (a council's own choice, to replace with its own figure), rule (how
# the pack treats data), disclosure.
OWNERS: dict[str, tuple[str, str]] = {
    "default_area": ("rule", ANALYST),
    "safe_caseload_per_fte": ("benchmark", COORDINATOR),
    "safe_band_lower": ("committee", COORDINATOR),
    "safe_band_upper": ("committee", COORDINATOR),
    "cost_per_fte": ("local", COMMISSIONER),
    "growth_bid": ("committee", COMMISSIONER),
    "demand_growth_annual": ("committee", ANALYST),
    "csew_prevalence": ("benchmark", ANALYST),
    "marac_per_10k_women": ("benchmark", COORDINATOR),
    "marac_repeat_expected": ("benchmark", COORDINATOR),
    "response_working_days": ("committee", COMMISSIONER),
    "response_target_share": ("local", COMMISSIONER),
    "suppression_threshold": ("disclosure", DATA_OWNER),
    "max_excluded_share": ("rule", ANALYST),
    "caseload_roles": ("local", COORDINATOR),
    "extract_date": ("rule", ANALYST),
    "max_fte_per_row": ("rule", ANALYST),
    "max_fte_per_team": ("rule", ANALYST),
    "max_count_jump": ("rule", ANALYST),
    "allow_low_suppression": ("disclosure", DATA_OWNER),
    "perpetrator_police_share_target": ("local", PARTNERSHIP),
    "sanctuary_cost_high": ("committee", COMMISSIONER),
    "publish_school_names": ("disclosure", DATA_OWNER),
    "alert_caseload_months": ("local", COORDINATOR),
    "alert_response_quarters": ("local", COORDINATOR),
    "alert_breach_quarters": ("local", COORDINATOR),
    "alert_vacancy_share": ("local", COORDINATOR),
    "publisher": ("local", COORDINATOR),
    "contact_email": ("local", COORDINATOR),
}

# Fixed in code, not settings: (assumption, source, owner).
METHOD_ASSUMPTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "Standard and medium risk referrals depend on victims' confidence to come forward; "
        "police-recorded DA crimes follow need and not the service's campaigns.",
        "docs/methods.md, the verdict's design; Lopez Bernal et al. 2018, Int J Epidemiol 47:2082.",
        ANALYST,
    ),
    (
        "A reporting claim needs the primary contrast's 95% interval above 1 (against the need "
        "streams combined, estimate at least 1.05) and the contrast against high risk and MARAC "
        "alone above 1 at 90%; the 99% interval when no placebo check can run. Power statements "
        "are at 80%.",
        "docs/methods.md, the verdict; validation/results/ (false-claim rates and power).",
        ANALYST,
    ),
    (
        "Months not collected are gaps, never zero; a quarter needs all three months.",
        "docs/data-contract.md; docs/methods.md, the monthly panel.",
        ANALYST,
    ),
    (
        "Open cases per caseworker FTE counts cases open at each month end over the FTE in post "
        "in caseload-carrying roles that month.",
        "docs/methods.md, staffing gap.",
        ANALYST,
    ),
    (
        "Working days exclude weekends and the bank holidays of England (the `holidays` package).",
        "docs/methods.md, staffing gap; UK government bank holiday list.",
        ANALYST,
    ),
    (
        "Demand growth for the breach projection is compound at the annual rate set above.",
        "docs/methods.md, staffing gap.",
        ANALYST,
    ),
    (
        "Counts below the suppression threshold are hidden, with secondary suppression so they "
        "cannot be worked out from totals.",
        "docs/methods.md, disclosure control; ONS statistical disclosure control practice.",
        DATA_OWNER,
    ),
)

KINDS = {
    "benchmark": "published outside the council",
    "committee": "stated in the committee minutes",
    "local": "a local choice: replace with the council's own figure",
    "rule": "how the pack treats data",
    "disclosure": "disclosure control",
}


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ") or "(blank)"


def markdown() -> str:
    """The assumptions log as Markdown."""
    missing = sorted(set(DEFAULTS) - set(OWNERS))
    if missing:
        raise ValueError(f"settings with no owner in daanalysis/assumptions.py: {missing}")
    lines = [
        "# Assumptions log",
        "",
        f"<!-- Generated by `{REGENERATE}`; do not edit by hand. -->",
        "",
        "Every figure the pack assumes rather than measures, with its source and the role that",
        "signs it off (the Aqua Book's assumptions log). A council changes a setting in",
        "`config.csv` beside its extract (docs/data-contract.md); each page lists the settings it",
        "used and where they came from. Review this log when the service, the contract or the",
        "benchmarks change, and at least once a year.",
        "",
        "Kinds: " + "; ".join(f"**{k}**: {v}" for k, v in KINDS.items()) + ".",
        "",
        "## Settings",
        "",
        "| Setting | Default | Unit | Kind | Owner | Source |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, (default, unit, source) in DEFAULTS.items():
        kind, owner = OWNERS[key]
        lines.append(
            f"| `{key}` | {_cell(default)} | {_cell(unit)} | {kind} | {owner} | {_cell(source)} |"
        )
    lines += [
        "",
        "## Method assumptions",
        "",
        "Fixed in code; changing one is a change to the method, with a new validation run.",
        "",
        "| Assumption | Source | Owner |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {_cell(a)} | {_cell(s)} | {o} |" for a, s, o in METHOD_ASSUMPTIONS]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the document, write it (``--out``) or check a written one (``--check``)."""
    return generated_doc.command(
        argv,
        prog="python -m daanalysis.assumptions",
        doc=DOC,
        markdown=markdown,
        regenerate=REGENERATE,
    )


if __name__ == "__main__":
    sys.exit(main())
