"""The study's yardstick and its table: the two oracles of ``simulate.oracle`` (the true model,
and the true model with the confidence stream's own trend, the verdict's freedom) and the
summary ``validation/run.py`` writes (coverage against what the interval estimates)."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pandas as pd
import pytest

from daanalysis.synthetic import simulate
from tests.conftest import ROOT


def _run_module():
    spec = importlib.util.spec_from_file_location("validation_run", ROOT / "validation" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _noise_free(name: str, **changes) -> simulate.Scenario:
    # No extra-Poisson noise, councils 200 times the sample borough: Poisson noise about 0.2%
    # a month, so each oracle's estimate is its model's value for the expected counts.
    return dataclasses.replace(
        simulate.SCENARIOS[name], noise_sd=0.0, size=(200.0, 200.0), **changes
    )


def _oracles(planted: simulate.Scenario, seed: int = 11) -> dict[str, float]:
    panel, campaigns, _ = simulate.council(np.random.default_rng(seed), planted)
    return simulate.oracle(panel, campaigns, planted)


def test_both_oracles_read_the_step_the_confidence_stream_takes():
    planted = _noise_free("reporting")
    out = _oracles(planted)
    for key in simulate.ORACLES.values():
        assert out[f"{key}_rate_ratio"] == pytest.approx(planted.stream_step, abs=0.01)
        assert out[f"{key}_claims"] is True
    # The confidence stream's own trend is a term the shared-trend oracle does not fit, so the
    # step is read with less information: a larger detectable effect (on the log scale, 1.44
    # times the shared-trend oracle's here).
    assert np.log(out["oracle_trend_mde_ratio"]) > 1.3 * np.log(out["oracle_mde_ratio"])


def test_the_own_trend_oracle_is_right_where_the_streams_trends_differ():
    # A confidence stream with a trend of its own, a random -5%..+5% a year against need: the
    # shared-trend oracle, which assumes one trend, misreads the step (1.11 on this council);
    # the own-trend oracle, which has the verdict's freedom, does not.
    planted = _noise_free("reporting", confidence_trend=0.05)
    out = _oracles(planted)
    assert out["oracle_trend_rate_ratio"] == pytest.approx(planted.stream_step, abs=0.01)
    assert abs(out["oracle_rate_ratio"] - planted.stream_step) > 0.03


def test_the_oracles_see_quarterly_returns_as_quarters():
    # A campaign inside a quarter steps it by its share of days, as the verdict's
    # PARTIAL_FIRST_PERIOD: the estimate is still the stream's step.
    planted = _noise_free("reporting_quarterly")
    out = _oracles(planted, seed=12)
    assert out["oracle_rate_ratio"] == pytest.approx(planted.stream_step, abs=0.01)
    # 26 quarters carry less information than 78 months of the same council.
    monthly = _oracles(dataclasses.replace(planted, quarterly=False), seed=12)
    assert out["oracle_mde_ratio"] > monthly["oracle_mde_ratio"]


def test_the_oracles_read_the_ramp_where_it_is_held():
    planted = _noise_free("reporting_ramp")
    out = _oracles(planted)
    for key in simulate.ORACLES.values():
        assert out[f"{key}_rate_ratio"] == pytest.approx(planted.stream_step, abs=0.01)


def test_no_oracle_for_a_lockdown_council():
    out = _oracles(simulate.SCENARIOS["lockdown"])
    assert all(np.isnan(out[f"{key}_mde_ratio"]) for key in simulate.ORACLES.values())
    assert not any(out[f"{key}_claims"] for key in simulate.ORACLES.values())


def _councils(scenario: str, covered: list[bool], stream: list[bool]) -> pd.DataFrame:
    n = len(covered)
    return pd.DataFrame(
        {
            "scenario": scenario,
            "seed": range(n),
            "verdict": ["reporting"] * (n - 1) + ["inconclusive"],
            "claims_reporting": [True] * (n - 1) + [False],
            "claims_need": False,
            # The primary contrast alone passes where its interval is above 1 and its estimate
            # at least 1.05: the first and last councils (the second is up only 4%).
            "ci_low": [1.1, 1.01, 0.9, 1.2],
            "rate_ratio": [1.3, 1.04, 1.2, 1.4],
            "covered": covered,
            "covered_stream": stream,
            "mde_ratio": 1.2,
            "oracle_mde_ratio": 1.1,
            "oracle_claims": [True] * n,
            "oracle_trend_mde_ratio": 1.3,
            "oracle_trend_claims": [True, False, False, False],
        }
    )


def test_the_table_covers_the_stream_step_except_for_a_ramp():
    step = _councils("reporting", [True, False, False, False], [True, True, True, False])
    ramp = _councils("reporting_ramp", [True, False, False, False], [True, True, True, False])
    table = simulate.summarise(pd.concat([step, ramp])).set_index("scenario")
    assert table.loc["reporting", "interval coverage"] == 0.75  # against stream_step
    assert table.loc["reporting", "planted coverage"] == 0.25  # against 1.3, kept
    assert table.loc["reporting_ramp", "interval coverage"] == 0.25  # the level reached
    assert table.loc["reporting", "own trend oracle claimed"] == 0.25
    assert table.loc["reporting", "shared oracle claimed"] == 1.0
    assert table.loc["reporting", "shared oracle mc_se"] == 0.0
    assert table.loc["reporting", "own trend oracle mc_se"] == pytest.approx(
        np.sqrt(0.25 * 0.75 / 4)
    )
    text = _run_module().summary_markdown(table.reset_index())
    rows = [line for line in text.splitlines() if line.startswith("| reporting |")]
    assert len(rows) == 2  # the verdict's table and the oracles'
    assert "| 75.0% (±21.7) |" in rows[0]
    assert rows[0].endswith("| 1.20 | 1.30 | 1.10 |")
    assert table.loc["reporting", "primary passes"] == 0.5
    assert rows[1] == (
        "| reporting | power | 75.0% (±21.7) | 50.0% (±25.0) | 25.0% (±21.7) | 100.0% (±0.0) |"
    )


def test_check_compares_the_fresh_table_with_the_one_committed_before_writing(tmp_path, capsys):
    # Until session 11, --check wrote summary.md first and then compared it with itself, so it
    # could never say the committed table was stale.
    run = _run_module()
    run.ROOT = tmp_path
    results = tmp_path / "validation" / "results"
    results.mkdir(parents=True)
    (results / "summary.md").write_text("a table from older code\n")
    councils = tmp_path / "councils.csv"
    _councils("reporting", [True] * 4, [True] * 4).to_csv(councils, index=False)
    argv = ["--from-councils", str(councils), "--check", "--out", str(results)]
    with pytest.raises(SystemExit) as stopped:
        run.main(argv)
    assert stopped.value.code == 0
    assert "the fresh table differs" in capsys.readouterr().out
    assert (results / "summary.md").read_text().startswith("| scenario |")  # then written
    with pytest.raises(SystemExit):
        run.main(argv)  # the same councils again: the committed table is now the fresh one
    assert "the fresh table differs" not in capsys.readouterr().out
