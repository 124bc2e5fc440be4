from __future__ import annotations

import os
import tempfile
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


def shared_once(tmp_path_factory, name: str, build):
    """``build(folder)`` run once for the whole test session, its result a folder every test
    reads: a second call with the same ``name`` returns the first call's result, in one
    process and across all of pytest-xdist's workers (the first worker to ask builds under a
    file lock, the others wait and read the same folder), so a whole pack is never run twice
    for the same inputs."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    # This session's xdist workers share the parent of their base folders (under pytest's own
    # per-user base, e.g. /tmp/pytest-of-root/pytest-N), and no other session does.
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        base = base.parent
    root = base / f"shared-{name}"
    done = root / "built.txt"
    with FileLock(str(root) + ".lock"):
        if done.exists():
            return Path(done.read_text(encoding="utf-8"))
        root.mkdir(exist_ok=True)
        # A folder of its own for each attempt: after a failed build (whose test reports it),
        # the next caller starts afresh instead of tripping over the half-built files.
        result = build(Path(tempfile.mkdtemp(prefix="try-", dir=root)))
        done.write_text(str(result), encoding="utf-8")
        return result


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory, warm_process) -> Path:
    """The quarterly pack from the bundled sample, produced once through the real runner.

    Every test that checks the sample pack reads this one folder: it must never write into
    it (copy it first, as ``tests/test_pdf.py`` does)."""
    from daanalysis.pack.report import run_report

    return shared_once(
        tmp_path_factory,
        "sample-pack",
        lambda folder: run_report(SAMPLE, folder / "outputs", quarter="latest", warm=warm_process),
    )


def run_command(folder: Path, argv: list[str], warm_process, cwd: Path | None = None) -> None:
    """``daanalysis`` with ``argv`` (its kernels forked from the session's warm process, from
    ``cwd`` if given), what it returned and printed kept in ``folder/run.json``
    (:func:`command_said`): for a pack built once under :func:`shared_once` and read by tests on
    any worker."""
    import json
    from contextlib import redirect_stderr, redirect_stdout
    from io import StringIO

    from daanalysis import cli

    stdout, stderr = StringIO(), StringIO()
    with pytest.MonkeyPatch.context() as patch:
        if cwd is not None:
            patch.chdir(cwd)
        patch.setattr(cli, "_warm_process", lambda argv: warm_process)
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = cli.main(argv)
    said = {"code": code, "out": stdout.getvalue(), "err": stderr.getvalue()}
    (folder / "run.json").write_text(json.dumps(said), encoding="utf-8")


def command_said(folder: Path) -> dict:
    """What :func:`run_command` kept: the exit ``code`` and the ``out`` and ``err`` printed."""
    import json

    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def region_pack(tmp_path_factory, warm_process) -> Path:
    """A pack of two areas ("Northfield" and "St. Easton", the second with a full stop and a
    space in its name) with the optional public benchmarks, run once for the session as the
    README runs it: from the data's parent folder with relative ``--data`` and ``--out``, both
    areas named, an earlier quarter (2025/26 Q4) and one notebook at a time. It is the pack that
    has the page comparing areas, which the one-area sample pack leaves out.

    Returns the folder holding ``data/``, ``outputs/`` and ``run.json`` (:func:`command_said`).
    Tests must not write into it."""
    import shutil

    from daanalysis.synthetic.sample import write_sample

    def build(folder: Path) -> Path:
        data = folder / "data"
        write_sample(data, areas={"Northfield": 1.0, "St. Easton": 0.4}, benchmarks=True)
        shutil.copy(SAMPLE / "action_plan.csv", data / "action_plan.csv")
        # St. Easton's population estimates end a year early: a note about it alone, which
        # only its pages show.
        population = pd.read_csv(data / "population.csv")
        late = (population["area"] == "St. Easton") & (
            population["year"] == population["year"].max()
        )
        population[~late].to_csv(data / "population.csv", index=False)
        argv = ["report", "--data", "data", "--out", "outputs", "--quarter", "2025/26 Q4"]
        argv += ["--area", "Northfield", "--area", "St. Easton", "--workers", "1"]
        run_command(folder, argv, warm_process, cwd=folder)
        return folder

    return shared_once(tmp_path_factory, "region-pack", build)


@pytest.fixture(scope="module")
def chromium_browser():
    """The system's headless Chromium driven by Playwright, launched once per test module (each
    test opens its own context: pages, cookies and settings are not shared). Not once per
    session: ``daanalysis.pack.pdf`` starts Playwright itself, and a second synchronous
    Playwright cannot start in a process where one is still open (tests/test_pdf.py would fail
    on whichever worker had run a browser test first). Fails in CI when Chromium is missing
    (``.ci/run`` installs it); skips elsewhere."""
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium); CI runs this test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # Playwright's own browser build is never downloaded: it drives the system's Chromium.
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


def notebook_with_outputs(*outputs: dict):
    """A notebook of one code cell whose outputs carry ``outputs`` (each mime type to its
    content): what the pack's sanitiser and exporter are handed for a page."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data) for data in outputs]
    nb.cells.append(cell)
    return nb
