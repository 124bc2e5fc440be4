"""Pooling across areas (issue 18): the pooled contrast's arithmetic against hand-worked values,
its contract with the single-area verdict, and a small region simulation in which it must not
credit a council that ran the campaign without an effect."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from daanalysis.metrics import demand
from daanalysis.synthetic import simulate


def test_pool_estimates_matches_the_two_estimate_formula_worked_by_hand():
    """Two correlated estimates: the efficient combination is
    (b1 (s2^2 - c) + b2 (s1^2 - c)) / (s1^2 + s2^2 - 2c), its variance
    (s1^2 s2^2 - c^2) / (s1^2 + s2^2 - 2c), c = r s1 s2. With b = (0.10, 0.20), s = (0.10,
    0.20), r = 0.25: c = 0.005, weights 0.035 / 0.04 and 0.005 / 0.04, so the pooled value is
    0.0875 + 0.025 = 0.1125 and its variance (0.0004 - 0.000025) / 0.04 = 0.009375."""
    out = demand.pool_estimates(
        np.array([0.10, 0.20]), np.array([0.10, 0.20]), np.array([[1, 0.25], [0.25, 1]]), df=40
    )
    assert np.log(out["rate_ratio"]) == pytest.approx(0.1125, abs=1e-12)
    assert out["se_log"] == pytest.approx(np.sqrt(0.009375), abs=1e-12)
    t = stats.t.ppf(0.975, 40)
    assert out["ci_low"] == pytest.approx(np.exp(0.1125 - t * np.sqrt(0.009375)), rel=1e-12)
    assert out["df"] == 40 and out["level"] == 0.95


def test_pool_estimates_difference_of_two_groups_worked_by_hand():
    """Uncorrelated estimates 0.3 and 0.1 (se 0.1 each) in the treated group and 0.0 (se 0.2)
    in the other: the treated common value is 0.2 (variance 0.005), the other 0.0 (0.04), so
    their difference is 0.2 with variance 0.045."""
    out = demand.pool_estimates(
        np.array([0.3, 0.1, 0.0]),
        np.array([0.1, 0.1, 0.2]),
        np.eye(3),
        df=30,
        treated=np.array([True, True, False]),
    )
    assert np.log(out["rate_ratio"]) == pytest.approx(0.2, abs=1e-12)
    assert out["se_log"] == pytest.approx(np.sqrt(0.045), abs=1e-12)


def _region(planted: simulate.Region, seed: int):
    panel, campaigns, events = simulate.region(np.random.default_rng(seed), planted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = demand.pooled_contrasts(
            panel, campaigns, events, quarter=panel["quarter"].iloc[-1]
        )
    return panel, campaigns, events, pooled


def test_pooled_contrast_keeps_each_area_s_own_verdict_and_contrast():
    """Nothing in pooling changes a single area's verdict: the verdict it holds for each
    campaign council is the one ``daanalysis verdict`` gives from that council's rows, and its
    own contrast is the verdict's primary one (read at 90%)."""
    panel, campaigns, events, pooled = _region(simulate.REGIONS["region_reporting"], 311)
    assert len(pooled) == 1
    group = pooled[0]
    assert group.areas == ["Council 1", "Council 2"]
    assert group.others_areas == ["Council 3", "Council 4", "Council 5"]
    quarter = panel["quarter"].iloc[-1]
    for area in group.areas:
        own = panel[panel["area"] == area].reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alone = demand.verdict(
                own,
                demand.campaigns_for(campaigns, area),
                demand.events_for(events, area),
                quarter=quarter,
            )
        assert group.verdicts[area].as_dict() == alone.as_dict()
        if area in group.own:
            assert group.own[area]["rate_ratio"] == pytest.approx(alone.primary["rate_ratio"])
            assert group.own[area]["ci_low"] > alone.primary["ci_low"]  # 90% is narrower
        # A council is credited by its own verdict or by the gate, never against its verdict,
        # unless the councils without the campaign rose as much at its date.
        if alone.verdict in ("reporting", "both"):
            assert group.gated[area]
        assert group.credited[area] == (group.gated[area] and not group.others_up)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = demand.pooled_contrasts(panel, campaigns, events, quarter, verdicts=group.verdicts)
    assert again[0].primary == group.primary and again[0].credited == group.credited
    # ... and uses the verdicts it is given, not fitting them again.
    assert all(again[0].verdicts[a] is group.verdicts[a] for a in group.areas)
    # Plain types for the command's JSON.
    plain = group.as_dict()
    assert json.loads(json.dumps(plain)) == plain
    assert plain["start_date"] == str(campaigns["start_date"].iloc[0].date())
    assert "verdicts" not in plain


def test_no_pooled_contrast_without_a_campaign_in_several_areas():
    panel, campaigns, events = simulate.region(
        np.random.default_rng(312), simulate.REGIONS["region_null"]
    )
    one = campaigns[campaigns["area"] == "Council 1"]
    everywhere = campaigns.iloc[:1].assign(area=pd.NA)
    assert demand.pooled_contrasts(panel, one, events) == []
    assert demand.pooled_contrasts(panel, everywhere, events) == []
    assert demand.pooled_contrasts(panel, campaigns.iloc[:0], events) == []


# A campaign that doubled reporting in council 1 and did nothing in council 2: the pooled
# contrast passes in nearly every region, so a rule that credited the councils on it would
# credit council 2 in nearly every region. Seeds apart from the tuning (4,001-4,030) and
# reporting (200,001-200,060) seeds.
STRONG_IN_ONE = simulate.Region("strong_in_one", "2x in council 1 only", 2.0, effect_areas=1)
SEEDS = range(321, 329)


def test_pooling_never_credits_a_council_on_the_other_council_s_effect():
    passed, credited_without, credited_with, relaxed_without = 0, 0, 0, 0
    for seed in SEEDS:
        *_, pooled = _region(STRONG_IN_ONE, seed)
        group = pooled[0]
        passed += group.passes
        credited_with += group.gated["Council 1"]
        credited_without += group.gated["Council 2"]
        relaxed_without += group.credited_relaxed["Council 2"]
    # The premise: the pooled contrast passes on council 1's effect ...
    assert passed >= len(SEEDS) - 1
    assert credited_with == len(SEEDS)
    # ... and council 2, with no effect, is credited only on its own evidence: at most one of
    # 8 by chance (its own one-sided 5% test), never on the pooled figure.
    assert credited_without <= 1
    assert relaxed_without <= 1


@pytest.mark.study
def test_small_region_study_pooled_gate_false_claims():
    """Six regions of each kind (seeds 331-336): the pooled gate makes no more false claims
    than its own one-sided 5% bound allows in the null regions, and credits no council without
    the effect when only the other has it."""
    names = ("region_null", "region_reporting_one")
    results = simulate.region_study(6, names=names, seed=331)
    summary = simulate.summarise_regions(results)
    null = summary[(summary["scenario"] == "region_null")].iloc[0]
    assert null["pooled gate"] <= 1 / 12  # at most one of 12 campaign councils
    no_effect = summary[
        (summary["scenario"] == "region_reporting_one") & ~summary["councils_with_effect"]
    ].iloc[0]
    assert no_effect["pooled gate"] <= 1 / 6
    # The pooled gate only adds claims to the verdict's: never fewer.
    assert (results["claims_pooled"] >= results["claims_reporting"]).all()
    assert (results["claims_relaxed"] >= results["claims_pooled"]).all()


def test_a_rise_in_the_councils_without_the_campaign_blocks_the_credit():
    """Every council's confidence streams step up 1.4x at the campaign date and the campaign
    adds nothing: the councils that ran it see the rise (their own verdicts may claim it), but
    the councils without it rose as much, so the adopted reading credits no council."""
    shock = simulate.Region("shock", "1.4x everywhere", regional_confidence=1.4)
    for seed in (341, 342, 343):
        *_, pooled = _region(shock, seed)
        group = pooled[0]
        assert group.others_up
        assert group.others["rate_ratio"] > 1.2
        assert not any(group.credited.values())
        # The difference in differences across councils is about 1 (the campaign added nothing).
        assert group.difference["ci_low"] < 1 < group.difference["ci_high"]


def test_areas_that_cannot_be_read_are_left_out_and_named_not_fitted():
    """A campaign council whose verdict cannot be read (no need-sensitive figures) stays out of
    the pooled contrast and keeps its own (inconclusive) verdict; a council without the campaign
    and without need figures is left out of the placebo; nothing is read as 0."""
    panel, campaigns, events = simulate.region(
        np.random.default_rng(313), simulate.REGIONS["region_reporting"]
    )
    panel = panel.copy()
    need = ["police_crimes", "marac_cases", "high_risk"]
    panel.loc[panel["area"].isin(["Council 2", "Council 4"]), need] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (group,) = demand.pooled_contrasts(panel, campaigns, events, panel["quarter"].iloc[-1])
    assert group.areas == ["Council 1", "Council 2"]
    assert group.pooled_areas == ["Council 1"]  # one council: nothing pooled, no gate
    assert group.primary == {} and not group.passes
    assert group.verdicts["Council 2"].cause == demand.Cause.NO_CONTROL
    assert not group.credited["Council 2"]
    assert group.others_areas == ["Council 3", "Council 5"]


POOLED_FIGURES = ("primary", "corroboration", "correlation", "passes", "own", "gated")
POOLED_FIGURES += ("credited", "credited_relaxed", "others_areas", "others", "difference")


def test_pooling_reads_the_verdict_s_own_fit_and_a_refit_gives_the_same_figures(monkeypatch):
    """Pooling reads each campaign council's step fit and corroboration from its verdict
    instead of fitting them again; given verdicts without that fit (refitted by the verdict's
    own preparation, demand._area_fit), every pooled figure is the same, bit for bit. Only the
    councils without the campaign are fitted in pooling when the verdicts carry their fits."""
    panel, campaigns, events, (group,) = _region(STRONG_IN_ONE, 321)
    assert group.passes and group.own  # the premise: the gate's own contrasts are read too
    assert group.pooled_areas == ["Council 1", "Council 2"]
    quarter = panel["quarter"].iloc[-1]
    fitted_for: list[str] = []
    refit = demand._area_fit

    def counted(own, *args, **kwargs):
        fitted_for.append(str(own["area"].iloc[0]))
        return refit(own, *args, **kwargs)

    monkeypatch.setattr(demand, "_area_fit", counted)
    bare = {}
    for area, v in group.verdicts.items():
        assert v.area_fit is not None
        bare[area] = copy.copy(v)
        bare[area].area_fit = None  # as a verdict made elsewhere, without its fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reused = demand.pooled_contrasts(panel, campaigns, events, quarter, group.verdicts)
        assert fitted_for == group.others_areas
        fitted_for.clear()
        (again,) = demand.pooled_contrasts(panel, campaigns, events, quarter, bare)
        assert fitted_for == [*group.pooled_areas, *group.others_areas]
    for name in POOLED_FIGURES:
        assert getattr(again, name) == getattr(group, name) == getattr(reused[0], name), name
    # The verdict's fit and the refit: the same estimates and (widened) covariance.
    for area in group.pooled_areas:
        mine = group.verdicts[area].area_fit
        other = refit(
            panel[panel["area"] == area].reset_index(drop=True),
            demand.campaigns_for(campaigns, area),
            demand.events_for(events, area),
            quarter,
            widen=group.verdicts[area].widen,
        )
        assert mine.fit.params.equals(other.fit.params) and mine.fit.cov.equals(other.fit.cov)
        assert mine.residual.equals(other.residual)
        assert mine.corroboration.params.equals(other.corroboration.params)
