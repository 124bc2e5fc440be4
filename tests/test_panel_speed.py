"""The linear record-level panel keeps its results: the stored references (``tests/golden.py``)
equal what version 1's ``mark_repeats`` and ``panel_from_records`` gave (which sorted and grouped
Python strings and ran a lambda per month), on the sample, a shuffled two-area extract and
awkward random rows (drawn by numpy's seeded ``default_rng``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from daanalysis.panel import mark_repeats, panel_from_records
from tests import golden


def _two_areas(referrals: pd.DataFrame) -> pd.DataFrame:
    """The sample plus a second area (dates a year on, some keys shared), rows shuffled."""
    other = referrals.assign(
        area="Otherton",
        referral_date=referrals["referral_date"] + pd.DateOffset(years=1),
        source_row=referrals["source_row"] + 100_000,
    )
    both = pd.concat([referrals, other.iloc[::2]], ignore_index=True)
    return both.sample(frac=1, random_state=3)


def test_sample_panel_keeps_its_results(sample_extract):
    referrals = sample_extract["referrals"]
    for services in (("victim",), ("victim", "perpetrator", "children")):
        panel = panel_from_records(referrals, services)
        golden.check("panel", f"sample records panel {'+'.join(services)}", golden.digest(panel))


def test_two_area_shuffled_panel_keeps_its_results(sample_extract):
    referrals = _two_areas(sample_extract["referrals"])
    new = panel_from_records(referrals)
    assert new["area"].unique().tolist() == ["Otherton", "Sampleborough"]
    golden.check("panel", "two-area shuffled records panel", golden.digest(new))


@pytest.mark.parametrize("seed", range(5))
def test_repeats_keep_their_results_on_awkward_rows(seed):
    """Few clients (many repeats), missing keys, missing dates, same-day ties, a shuffled index."""
    rng = np.random.default_rng(seed)
    n = 400
    dates = pd.Series(pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"))
    dates[rng.random(n) < 0.05] = pd.NaT
    keys = pd.Series(rng.choice([f"k{i}" for i in range(40)], n), dtype=object)
    keys[rng.random(n) < 0.1] = None
    ref = pd.DataFrame(
        {"client_key": keys, "referral_date": dates, "source_row": rng.integers(2, 50, n)},
        index=rng.permutation(n) * 3,
    )
    new = mark_repeats(ref)
    golden.check("panel", f"repeats on awkward rows, seed {seed}", golden.digest(new))
    assert new["repeat_12m"].any() and new["first_time"].any()
    # Sorted input keeps its order (no copy through sort_index needed), with the same marks.
    in_order = ref.sort_index()
    pd.testing.assert_frame_equal(mark_repeats(in_order), new.loc[in_order.index])


def test_repeat_window_edge():
    # a: 365 days apart (a repeat); b: 366 days apart (not); c: the window set to 30 days.
    ref = pd.DataFrame(
        {
            "client_key": ["a", "a", "b", "b", "c", "c"],
            "referral_date": pd.to_datetime(
                ["2023-01-01", "2024-01-01", "2023-01-01", "2024-01-02", "2024-03-01", "2024-03-31"]
            ),
            "source_row": [2, 3, 4, 5, 6, 7],
        }
    )
    assert mark_repeats(ref)["repeat_12m"].tolist() == [False, True, False, False, False, True]
    assert mark_repeats(ref, 29)["repeat_12m"].tolist() == [False] * 6
    assert mark_repeats(ref, 30)["repeat_12m"].tolist() == [False] * 5 + [True]


def test_keys_sharing_a_hash_fall_back_to_exact_factorising(sample_extract, monkeypatch):
    """Clients are sorted together by a 64-bit hash of their key; if two keys ever share one
    (here forced: every key hashes to 0 or 1), the result is still exact."""
    referrals = _two_areas(sample_extract["referrals"])
    expected, panel = mark_repeats(referrals), panel_from_records(referrals)
    golden.check("panel", "two-area shuffled repeats", golden.digest(expected))
    monkeypatch.setattr(
        pd.util, "hash_array", lambda values, **_: np.arange(len(values), dtype="uint64") % 2
    )
    pd.testing.assert_frame_equal(mark_repeats(referrals), expected)
    pd.testing.assert_frame_equal(panel_from_records(referrals), panel)
