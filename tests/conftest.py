from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from daanalysis.config import Config
from daanalysis.ingest.load import load_extract
from daanalysis.panel import build_panel

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

# The code has no default area (a real extract names its own): small test extracts without an
# area column name one through config, as a council's config.csv would.
WITH_AREA = Config(default_area="Sampleborough")

REFERRAL_HEADER = (
    "referral_id,client_id,referral_date,referral_source,risk_level,"
    "first_contact_date,closed_date,service"
)


@pytest.fixture(scope="session")
def sample_extract():
    return load_extract(SAMPLE, salt=b"test-salt")


@pytest.fixture(scope="session")
def sample_panel(sample_extract) -> pd.DataFrame:
    return build_panel(sample_extract)


def write_referrals(folder: Path, rows: list[str], name: str = "referrals.csv") -> Path:
    """A small referrals extract: ``rows`` are CSV lines under the standard header."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([REFERRAL_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> Path:
    """The quarterly pack from the bundled sample, produced once through the real runner."""
    from daanalysis.pack.report import run_report

    out = tmp_path_factory.mktemp("outputs")
    return run_report(SAMPLE, out, quarter="latest")
