"""``daanalysis verdict``: the demand verdict for each area, without running the notebooks.

The same library calls as the demand notebook (:func:`daanalysis.metrics.demand.verdict`), so the
command, the page, the headline and ``kpis.csv`` always agree. A few seconds on the sample.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from daanalysis.ingest.load import DataContractError, load_extract
from daanalysis.metrics import demand
from daanalysis.panel import area_panel, build_panel, complete_quarters
from daanalysis.periods import parse_today, resolve_quarter
from daanalysis.present.notebook import choose_areas


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``verdict`` on the ``daanalysis`` command line."""
    cmd = sub.add_parser("verdict", help="the demand verdict per area, without the notebooks")
    cmd.add_argument(
        "--data",
        required=True,
        type=Path,
        help="folder of the extract (the sample: data/sample; no default, so a job that "
        "forgets it cannot publish the sample's figures)",
    )
    cmd.add_argument("--area", action="append", default=[], help="area (repeat; default all)")
    cmd.add_argument("--quarter", default="latest", help="'latest', '2024/25 Q2' or '2024-25Q2'")
    cmd.add_argument("--today", default="", help="date that 'latest' is judged from (yyyy-mm-dd)")
    cmd.add_argument("--format", choices=("table", "json"), default="table")


def verdicts(
    data_dir: Path, areas: list[str], quarter: str = "latest", today: str = ""
) -> list[demand.Verdict]:
    """One :class:`~daanalysis.metrics.demand.Verdict` per area of the extract in ``data_dir``."""
    extract = load_extract(data_dir)
    panel = build_panel(extract)
    chosen = choose_areas(extract, areas, data_dir)
    when = parse_today(today)
    out = []
    for area in chosen:
        one = area_panel(panel, area)
        q = resolve_quarter(quarter, complete_quarters(one), when)
        out.append(
            demand.verdict(
                one,
                demand.campaigns_for(extract["campaigns"], area),
                demand.events_for(extract["events"], area),
                q,
            )
        )
    return out


def as_json(results: list[demand.Verdict]) -> str:
    """A list with one object per area: area, quarter, verdict, sentence, the primary contrast
    (rate ratio, low, high), the placebo share and everything else the verdict rests on."""
    rows = []
    for v in results:
        d = v.as_dict()
        d["placebo_share"] = d["placebo"].get("share") if d["placebo"] else None
        rows.append(d)
    return json.dumps(rows, indent=2)


def as_table(results: list[demand.Verdict]) -> str:
    lines = []
    for v in results:
        lines.append(f"{v.area}, {v.quarter}: {v.verdict.upper()}")
        lines.append(f"  {v.sentence}")
        for reason in v.reasons if v.verdict != "inconclusive" or v.primary else []:
            lines.append(f"  - {reason}")
        for check in [*v.checks, *v.notes]:
            lines.append(f"  ! {check}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the verdicts; exit 1 with one clear line (no traceback) if the data are unusable."""
    try:
        results = verdicts(args.data, args.area, args.quarter, args.today)
    except (DataContractError, ValueError, OSError) as err:
        print(f"daanalysis verdict: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - a last resort: one line, never a traceback
        print(f"daanalysis verdict: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    try:
        print(as_json(results) if args.format == "json" else as_table(results), flush=True)
    except BrokenPipeError:
        # The reader (e.g. ``| head``) stopped early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


__all__ = ["add_parser", "as_json", "run", "verdicts"]
