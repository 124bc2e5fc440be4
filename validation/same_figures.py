"""Record every figure of the demand verdicts and the pooled readings on a fixed set of inputs,
exactly (floats as their ``repr``), so a refactor of ``daanalysis.metrics.demand`` can be
checked to change nothing statistical: record on the old code, record on the new, compare.

    PYTHONPATH=<old tree> python validation/same_figures.py record old.json
    python validation/same_figures.py record new.json
    python validation/same_figures.py compare old.json new.json

The inputs: the sample (``daanalysis verdict``'s own path, ``cli.verdicts_and_pooled``), every
region kind of :data:`daanalysis.synthetic.simulate.REGIONS` on ``--region-seeds`` seeds (each
council's verdict, and the pooled readings fitted afresh and with the verdicts given), and
every study scenario of :data:`~daanalysis.synthetic.simulate.SCENARIOS` on ``--council-seeds``
seeds. Session 10 (issue 18/22, fit18): the verdict and pooling sharing one preparation.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def exact(value: object) -> object:
    """``value`` as JSON, every float as its ``repr`` (bit for bit), tables as columns."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: exact(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, pd.DataFrame):
        return {str(c): exact(value[c].tolist()) for c in value.columns}
    if isinstance(value, pd.Series):
        return {str(k): exact(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): exact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [exact(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return "nan" if math.isnan(value) else repr(float(value))
    if isinstance(value, (pd.Period, pd.Timestamp)):
        return str(value)
    return value if value is None or isinstance(value, str) else repr(value)


def record(region_seeds: list[int], council_seeds: list[int]) -> dict:
    from daanalysis import cli
    from daanalysis.metrics import demand
    from daanalysis.synthetic import simulate

    out: dict = {}
    results, pooled, _ = cli.verdicts_and_pooled(ROOT / "data" / "sample", [])
    out["sample"] = {"verdicts": exact(results), "pooled": exact(pooled)}
    for name, planted in simulate.REGIONS.items():
        for seed in region_seeds:
            panel, campaigns, events = simulate.region(np.random.default_rng(seed), planted)
            quarter = panel["quarter"].iloc[-1]
            verdicts = {}
            for area in panel["area"].unique():
                own = panel[panel["area"] == area].reset_index(drop=True)
                verdicts[area] = demand.verdict(
                    own, demand.campaigns_for(campaigns, area), demand.events_for(events, area),
                    quarter=quarter,
                )  # fmt: skip
            fresh = demand.pooled_contrasts(panel, campaigns, events, quarter)
            given = demand.pooled_contrasts(panel, campaigns, events, quarter, verdicts=verdicts)
            out[f"{name}/{seed}"] = {
                "verdicts": exact(list(verdicts.values())),
                "pooled": exact(fresh),
                "pooled_given": exact(given),
            }
    for name, planted in simulate.SCENARIOS.items():
        for seed in council_seeds:
            panel, campaigns, events = simulate.council(np.random.default_rng(seed), planted)
            v = demand.verdict(panel, campaigns, events, quarter=panel["quarter"].iloc[-1])
            out[f"{name}/{seed}"] = {"verdicts": exact([v])}
    return out


def differences(old: object, new: object, where: str = "") -> list[str]:
    """Where ``old`` and ``new`` differ (paths), empty when they are the same."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{where}/{k}: only in one" for k in set(old) ^ set(new)]
        for k in old.keys() & new.keys():
            out += differences(old[k], new[k], f"{where}/{k}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        pairs = enumerate(zip(old, new, strict=True))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{where}[{i}]")]
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def count(value: object) -> int:
    """How many leaf values ``value`` holds."""
    if isinstance(value, dict):
        return sum(count(v) for v in value.values())
    if isinstance(value, list):
        return sum(count(v) for v in value)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "compare"))
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--region-seeds", type=int, nargs="+", default=[311, 312, 313])
    parser.add_argument("--council-seeds", type=int, nargs="+", default=[901, 902])
    args = parser.parse_args()
    if args.action == "record":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args.files[0].write_text(json.dumps(record(args.region_seeds, args.council_seeds)))
        return 0
    old, new = (json.loads(f.read_text()) for f in args.files[:2])
    found = differences(old, new)
    verdicts = sum(len(v["verdicts"]) for v in old.values())
    pooled = sum(len(v.get("pooled", [])) + len(v.get("pooled_given", [])) for v in old.values())
    print(f"{len(old)} inputs, {verdicts} verdicts, {pooled} pooled readings, {count(old)} values")
    print(f"{len(found)} differences")
    for line in found[:40]:
        print(" ", line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
