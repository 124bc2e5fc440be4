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


class SharedWarmProcess:
    """The session's warm process (:mod:`daanalysis.pack.kernels`), handed to every whole pack a
    test runs, so each run forks its kernels at once instead of importing everything again; a
    run does not close it (the session does)."""

    def __init__(self, warm) -> None:
        self._warm = warm

    def __getattr__(self, name: str):
        return getattr(self._warm, name)

    def close(self) -> None:
        """Left running for the next pack."""


@pytest.fixture(scope="session")
def warm_process():
    """One warm process for the session's packs (None where kernels are not forked)."""
    from daanalysis.pack import kernels

    if not kernels.available():
        yield None
        return
    with kernels.WarmProcess() as warm:
        yield SharedWarmProcess(warm)


@pytest.fixture
def cli_shares_warm_process(monkeypatch, warm_process):
    """``daanalysis report`` in this test forks its kernels from the session's warm process."""
    from daanalysis import cli

    monkeypatch.setattr(cli, "_warm_process", lambda argv: warm_process)


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory, warm_process) -> Path:
    """The quarterly pack from the bundled sample, produced once through the real runner."""
    from daanalysis.pack.report import run_report

    out = tmp_path_factory.mktemp("outputs")
    return run_report(SAMPLE, out, quarter="latest", warm=warm_process)
