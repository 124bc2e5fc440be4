"""The committed sample is what the seeded generator writes, and it is synthetic."""

import filecmp

import pandas as pd

from daanalysis.synthetic.sample import AREA, write_sample
from tests.conftest import SAMPLE


def test_committed_sample_matches_generator(tmp_path):
    write_sample(tmp_path)
    generated = sorted(p.name for p in tmp_path.iterdir())
    for name in generated:
        assert filecmp.cmp(tmp_path / name, SAMPLE / name, shallow=False), name


def test_sample_is_a_borough_of_about_180000():
    pop = pd.read_csv(SAMPLE / "population.csv")
    adults = (pop["females_16plus"] + pop["males_16plus"]).iloc[-1]
    # About 81% of a population is aged 16+: 180,000 people is about 146,000 adults.
    assert 140_000 < adults < 155_000
    assert pop["area"].unique().tolist() == [AREA]


def test_sample_covers_three_full_financial_years_monthly():
    police = pd.read_csv(SAMPLE / "police.csv")
    months = pd.PeriodIndex(police["month"], freq="M")
    assert months.is_monotonic_increasing
    assert len(months) >= 36
    assert months.min().month == 4  # starts with a financial year
