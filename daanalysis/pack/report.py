"""The quarterly run: every notebook of the pack through papermill, exported to HTML.

``daanalysis report --quarter latest --data data/sample --out outputs`` writes
``outputs/<quarter>/``: ``index.html``, one HTML page per notebook (and area), ``kpis.csv``,
and, in ``analysts/`` (not for publication), the executed notebooks, ``ledger.csv`` and
``run.log``. Everything is written to a
temporary folder and moved into place only when every notebook succeeded; on failure the exit
code is non-zero, the failing executed notebook is kept under ``outputs/failed/`` and last
quarter's outputs are untouched.

The run loads, validates and cleans the extract and builds the panel once, and hands each
notebook the prepared file (see :mod:`daanalysis.present.notebook`); the notebooks to run, their
titles
and scope come from the notebooks' own metadata (:func:`daanalysis.present.notebook.discover`). The
command line is :mod:`daanalysis.cli`; the HTML export is :mod:`daanalysis.pack.export`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import platform
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from daanalysis.ingest.extract import DataContractError, Extract
from daanalysis.metrics import alerts, partnership
from daanalysis.names import page_stem, slug
from daanalysis.pack import kernels
from daanalysis.pack.export import add_csp, export_html, page_exporter
from daanalysis.panel import common_quarters, complete_quarters
from daanalysis.periods import parse_today, quarter_label, quarter_slug, resolve_quarter
from daanalysis.present import publish
from daanalysis.present.notebook import (
    KPI_COLUMNS,
    NotebookError,
    NotebookSpec,
    choose_areas,
    discover,
    input_checksums,
    load_prepared,
    save_prepared,
)
from daanalysis.present.publish import ANALYSTS, EXECUTED, write_front_page

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL_NAME = "daanalysis"
# A log record with ``extra={CONSOLE: False}`` goes to run.log only (the console says it once).
CONSOLE = "console"

log = logging.getLogger("daanalysis.pack.report")


# --- running notebooks --------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One notebook to run, for one area (``area`` blank: a partnership page)."""

    spec: NotebookSpec
    area: str
    parameters: dict

    @property
    def notebook(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title + (f": {self.area}" if self.area else "")

    @property
    def stem(self) -> str:
        return page_stem(self.area, self.notebook)


def ensure_kernel(name: str = KERNEL_NAME) -> None:
    """Register this environment as the ``daanalysis`` Jupyter kernel if it is not there yet."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=name, display_name="Python (daanalysis)", prefix=sys.prefix)
        log.info("registered Jupyter kernel %r in %s", name, sys.prefix)


KERNEL_DIR_PREFIX = "daanalysis-kernel-"
OWNER_FILE = "owner.pid"


def make_kernel_dir() -> Path:
    """A private folder (mode 0700) for kernel connection files and IPC sockets.

    It records the owning process id, so that a later run can remove the folder if this process
    is killed before it cleans up (:func:`remove_stale_kernel_dirs`).
    """
    folder = Path(tempfile.mkdtemp(prefix=KERNEL_DIR_PREFIX))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    return folder


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # no cheap liveness probe without extra packages: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_kernel_dirs(temp_dir: Path | None = None) -> list[Path]:
    """Remove kernel folders left in the temp dir by runs that were killed; return them."""
    removed = []
    for folder in Path(temp_dir or tempfile.gettempdir()).glob(f"{KERNEL_DIR_PREFIX}*"):
        try:
            pid = int((folder / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # not ours to judge (an older layout, or another user's folder)
        if pid != os.getpid() and not _process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def kernel_config(kernel_dir: Path, name: str):
    """jupyter_client settings that keep one kernel's files inside ``kernel_dir``.

    These are the supported ``KernelManager`` traits, not an override of its private methods:
    with ``transport = "ipc"`` the sockets are named after the connection file (``<name>-ipc-*``)
    and jupyter_client removes both when the kernel shuts down; the caller removes the folder.
    IPC sockets mean data about victims never crosses even the loopback network in plain text
    (ipykernel warns that TCP without CurveZMQ keys is unencrypted). Windows has no IPC
    transport, so it keeps TCP on localhost.
    """
    from traitlets.config import Config as TraitletsConfig

    settings = {"connection_file": str(kernel_dir / f"{name}.json")}
    if os.name != "nt":
        settings["transport"] = "ipc"
    return TraitletsConfig({"KernelManager": settings})


ENGINE = "daanalysis-started-kernel"
# ipykernel's history database is of no use to a batch run and is a file per kernel otherwise.
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]


def start_kernel(kernel_dir: Path, cwd: Path, timeout: int = 60, warm=None):
    """Start a project kernel now, for a notebook to be run on later (:func:`run_notebook`).

    An ``AsyncKernelManager``, as papermill would make itself (a synchronous one silently
    disables papermill's cell timeout); its connection file and IPC sockets go in ``kernel_dir``.
    Call it from the thread that will run the notebook: the manager's sockets belong to that
    thread's event loop. ``warm``: a :class:`daanalysis.pack.kernels.WarmProcess` to fork the kernel
    from (its imports done), instead of starting a new Python.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    def manager():
        return AsyncKernelManager(
            kernel_name=KERNEL_NAME, config=kernel_config(kernel_dir, f"k{uuid.uuid4().hex[:8]}")
        )

    km = manager()
    if warm is not None:
        kernels.use_warm_process(km, warm)
    try:
        run_sync(km.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd))
    except kernels.WarmProcessError as err:
        # The pack does not depend on the shortcut: a kernel started the usual way does the same.
        log.warning("kernels: %s; starting this one the usual way", err)
        km = manager()
        run_sync(km.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd))
    # Wait until it answers, so that its start-up is over (and timed) before a notebook needs it.
    client = km.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=timeout)
    except Exception:
        stop_kernel(km)
        raise
    finally:
        client.stop_channels()
    return km


def stop_kernel(km) -> None:
    """Shut a kernel from :func:`start_kernel` down at once if it still runs; tidy its files."""
    from jupyter_core.utils import run_sync

    if km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)
    run_sync(km.cleanup_resources)()


@functools.cache
def _register_engine() -> None:
    """papermill's nbclient engine, run on a kernel the runner started while the data loaded."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb
    from papermill.log import logger

    class StartedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs.pop("input_path", None)
            # papermill is asked to write the notebook once, at the end, rather than after every
            # cell (a full JSON write each time); if the run breaks off (a cell timeout, a dead
            # kernel) it writes nothing, so the notebook as far as it got is written here.
            keep_at = kwargs.pop("keep_at", None)
            client = PapermillNotebookClient(
                nb_man,
                km=kwargs.pop("km"),
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            try:
                # The client did not start the kernel, so by default it would leave it running.
                return client.execute(cleanup_kc=True)
            except BaseException:
                if keep_at:
                    write_ipynb(nb_man.nb, keep_at)
                raise

    papermill_engines.register(ENGINE, StartedKernelEngine)


def run_notebook(
    source: Path,
    target: Path,
    parameters: dict,
    start_timeout: int = 60,
    execution_timeout: int = 600,
    kernel_dir: Path | None = None,
    km=None,
) -> None:
    """Execute one notebook with papermill on the project kernel.

    ``km``: a kernel from :func:`start_kernel` to run on (shut down afterwards, whatever
    happens); without it papermill starts one, whose connection file and sockets live in
    ``kernel_dir`` (a private folder created, and removed afterwards, when none is given).
    Socket paths are limited to about 100 characters, so the files get a short unique name
    rather than the notebook's.
    """
    import papermill as pm

    # papermill turns numpy and pandas values into strings: pass plain Python types only.
    plain = {
        k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in parameters.items()
    }
    # A started kernel has its files already; otherwise papermill's kernel gets them here.
    own_dir = km is None and kernel_dir is None
    folder = make_kernel_dir() if own_dir else kernel_dir
    if km is not None:
        _register_engine()
        kernel = {"engine_name": ENGINE, "km": km, "keep_at": str(target)}
    else:
        kernel = {"config": kernel_config(folder, f"k{uuid.uuid4().hex[:8]}")}
    try:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters=plain,
            kernel_name=KERNEL_NAME,
            language="python",  # an analyst's notebook may not record its language
            start_timeout=start_timeout,
            execution_timeout=execution_timeout,
            progress_bar=False,
            # papermill changes the whole process's directory for the run (os.chdir), which two
            # notebooks running at once leave wrong: a started kernel has its directory already.
            cwd=None if km is not None else str(source.parent),
            # A finished notebook has nothing to save: no need to wait for a graceful exit.
            shutdown_kernel="immediate",
            request_save_on_cell_execute=False,
            **kernel,
        )
    finally:
        if km is not None:
            stop_kernel(km)
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)


def check_page_names(areas: list[str]) -> None:
    """Each area must give a distinct, non-empty page name, or one page would overwrite another."""
    seen: dict[str, str] = {}
    for area in areas:
        name = slug(area)
        if not name:
            raise DataContractError(
                f"Area {area!r} has no letters or digits to name its pages by. Rename it in the "
                "data (every table that has an area column)."
            )
        if name in seen:
            raise DataContractError(
                f"Areas {seen[name]!r} and {area!r} would both be written to pages named "
                f"{name!r}, so one would overwrite the other. If they are the same area, spell it "
                "the same way in every file; if not, rename one."
            )
        seen[name] = area


@dataclass
class Plan:
    """What a run will do: the quarter, the notebooks to run, and the data loaded once."""

    quarter: pd.Period
    jobs: list[Job]
    extract: Extract
    panel: pd.DataFrame
    skipped: list[str] = field(default_factory=list)
    # The same, for the front page: the page left out, what is missing and what would enable it.
    left_out: list[str] = field(default_factory=list)


def _has_rows(extract: Extract, table: str, area: str) -> bool:
    frame = extract[table]
    if area and "area" in frame:
        return bool((frame["area"] == area).any())
    return len(frame) > 0


def plan_jobs(
    data_dir: Path,
    quarter: str,
    areas: list[str],
    today: str,
    notebooks: list[NotebookSpec] | None = None,
    prepared: tuple[Extract, pd.DataFrame] | None = None,
) -> Plan:
    """Check the data once, resolve the quarter and list the notebooks to run.

    ``notebooks`` defaults to those in the pack's ``notebooks/`` folder; ``prepared`` is the
    loaded extract and panel, when the caller has them already.
    """
    when = parse_today(today)
    specs = discover(NOTEBOOK_DIR) if notebooks is None else notebooks
    extract, panel = prepared if prepared is not None else load_prepared(data_dir)
    for spec in specs:
        unknown_tables = [t for t in spec.requires if t not in extract.tables]
        if unknown_tables:
            raise NotebookError(
                f"{spec.path}: metadata daanalysis.requires names {unknown_tables[0]!r}, which "
                f"is not a table of the data contract ({', '.join(sorted(extract.tables))})."
            )
    areas = choose_areas(extract, areas, data_dir)
    check_page_names(areas)
    # An area covering no complete quarter (often a misspelling carried by a handful of rows)
    # would leave no quarter common to all areas: name it rather than blame the whole extract.
    for area in areas:
        if not complete_quarters(panel[panel["area"] == area]):
            table = "referrals" if extract.basis == "records" else "returns"
            rows = int((extract[table]["area"] == area).sum())
            raise DataContractError(
                f"Area {area!r} ({rows} row(s) of {table}) covers no complete financial quarter. "
                "If it is a misspelling, correct the area in the data; to report other areas "
                "only, name them with --area."
            )
    chosen = resolve_quarter(quarter, common_quarters(panel, areas), when)
    base = {
        "data_dir": str(Path(data_dir).resolve()),
        "quarter": quarter_slug(chosen),
        "today": today,
    }
    jobs, skipped, left_out = [], [], []
    # Each area's pages in notebook order, then the partnership's pages.
    runs = [(spec, area) for area in areas for spec in specs if spec.scope == "area"]
    runs += [(spec, "") for spec in specs if spec.scope == "partnership"]
    for spec, area in runs:
        # An optional table switches off only the pages that need it: an area without staffing
        # rows gets no staffing page instead of failing the whole pack.
        missing = [t for t in spec.requires if not _has_rows(extract, t, area)]
        if missing:
            where = f"{area}: no" if area else "No"
            skipped.append(
                f"{where} rows in {missing[0]} ({data_dir}), so the page {spec.title!r} is left out"
            )
            whose = f" for {area}" if area else ""
            left_out.append(
                f"{spec.title}{whose}: not produced, as {missing[0]}.csv has no rows{whose}. "
                f"Add {missing[0]}.csv (see the data contract) to produce it."
            )
            continue
        jobs.append(Job(spec, area, {**base, "area": area}))
    for note in skipped:
        log.warning("%s", note)
    return Plan(chosen, jobs, extract, panel, skipped, left_out)


def _warm_process(given=None):
    """The process the run's kernels are forked from (:mod:`daanalysis.pack.kernels`): ``given``, or
    one started now; None where kernels are started the usual way."""
    from jupyter_client.kernelspec import KernelSpecManager

    argv = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
    if not kernels.available(argv):
        log.debug("kernels: started the usual way (forking is not available here)")
        return None
    log.debug("kernels: forked from a warm process")
    return given if given is not None else kernels.WarmProcess()


ANALYSTS_README = """For analysts only: not for publication.

This folder holds what the committee pages leave out, because it may identify people or shows
figures before small-number suppression:
- ledger.csv: every input row used or excluded, with the values concerned;
- schools_not_engaged.csv (when supplied): the schools never engaged in prevention;
- notebooks/: the executed notebooks, with the checks behind each page (unsuppressed counts);
- run.log: what ran, on which inputs (paths, checksums), and the details of any failure.

Publish or share only the files above this folder.
"""


class PackFailed(RuntimeError):
    """One or more notebooks of the pack failed."""


class RunError(RuntimeError):
    """The run could not start or finish; the message says why and what to do."""


LOCK_FILE = ".daanalysis.lock"
PROVENANCE_PACKAGES = (
    "pandas",
    "numpy",
    "pandera",
    "statsmodels",
    "matplotlib",
    "papermill",
    "nbconvert",
    "nbclient",
    "jupyter_client",
    "ipykernel",
    "bleach",
)


def _prepare_out(out: Path) -> None:
    """Create ``out`` or explain why it cannot be used."""
    if out.exists() and not out.is_dir():
        raise RunError(
            f"--out {out} is a file, not a folder. Point --out at a folder (it is created if "
            "missing)."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkstemp(prefix=".write-test-", dir=out)[1])
        probe.unlink()
    except OSError as err:
        raise RunError(
            f"--out {out} cannot be written to ({err.strerror or err}). Choose a folder this "
            "user can write to, or ask for write access."
        ) from err


def _remove_leftovers(out: Path) -> list[str]:
    """Tidy what a killed run left in ``out``; returns one line per folder dealt with.

    Called with the lock held, so no other run is using these folders. A ``.tmp-*`` folder is a
    run that never finished: removed (it may hold executed notebooks, which are not for
    publication). A ``.old~<quarter>~*`` folder is a previous pack set aside while a new one
    was moved in: put back if the new one never arrived, otherwise removed.
    """
    notes = []
    for folder in sorted(out.glob(".tmp-*")):
        shutil.rmtree(folder, ignore_errors=True)
        notes.append(f"removed {folder.name}, left by an interrupted run")
    for folder in sorted(out.glob(".old~*")):
        final = out / folder.name.split("~")[1]
        if final.exists():
            shutil.rmtree(folder, ignore_errors=True)
            notes.append(f"removed {folder.name}, left by an interrupted run")
        else:
            folder.rename(final)
            notes.append(f"restored {final.name} from {folder.name}, left by an interrupted run")
    return notes


def _git_commit() -> str:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return "not a git checkout"
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (git not available)"
    return head + (" with uncommitted changes" if dirty else "")


def provenance(data_dir: Path) -> list[str]:
    """What produced this run: versions, commit, command line and a checksum of every input."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    lines = [
        f"daanalysis {ver('daanalysis')}",
        f"git commit: {_git_commit()}",
        f"Python {platform.python_version()} ({sys.executable}) on {platform.platform()}",
        "libraries: " + ", ".join(f"{p} {ver(p)}" for p in PROVENANCE_PACKAGES),
        f"command line: {shlex.join(sys.argv)}",
        f"data folder: {data_dir}",
    ]
    for name, digest in input_checksums(data_dir).items():
        size = (data_dir / name).stat().st_size
        lines.append(f"input {name}: sha256 {digest}, {size} bytes")
    return lines


@dataclass(frozen=True)
class RunOptions:
    """How to run the pack, beyond the data, the output folder and the quarter."""

    areas: tuple[str, ...] = ()
    workers: int = 2
    start_timeout: int = 60
    execution_timeout: int = 600
    today: str = ""
    notebook_dir: Path = NOTEBOOK_DIR
    pdf: bool | None = None  # None: as DAANALYSIS_PDF says
    warm: object | None = None  # a kernels.WarmProcess the caller started (and will close)


def run_report(
    data_dir: str | Path,
    out: str | Path,
    quarter: str = "latest",
    areas: list[str] | None = None,
    workers: int = 2,
    start_timeout: int = 60,
    execution_timeout: int = 600,
    today: str = "",
    notebook_dir: Path = NOTEBOOK_DIR,
    pdf: bool | None = None,
    warm=None,
) -> Path:
    """Run the whole pack and return ``out/<quarter>``; ``RuntimeError`` if anything fails.

    ``notebook_dir`` is the folder of notebooks to run (every ``*.ipynb`` in it, described by
    its metadata: see :mod:`daanalysis.present.notebook`). ``warm``: a
    :class:`daanalysis.pack.kernels.WarmProcess` the caller started early and closes afterwards
    (by default the run starts its own, where kernels can be forked).

    One run at a time per ``out``: a lock file (``out/.daanalysis.lock``, released by the
    operating system even if the run is killed) makes a second run stop with a clear message
    instead of mixing its files with the first.
    """
    from filelock import FileLock, Timeout

    # Absolute paths: the notebooks run with the notebook folder as their working directory.
    data_dir, out = Path(data_dir).resolve(), Path(out).resolve()
    parse_today(today)  # a bad date is reported before anything is written
    options = RunOptions(
        tuple(areas or ()),
        workers,
        start_timeout,
        execution_timeout,
        today,
        Path(notebook_dir).resolve(),
        pdf,
        warm,
    )
    _prepare_out(out)
    lock = FileLock(out / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(
            f"Another daanalysis run is writing to {out} (it holds {out / LOCK_FILE}). Wait for "
            "it to finish, or give this run another --out."
        ) from None
    try:
        return _run_locked(data_dir, out, quarter, options)
    finally:
        lock.release()


class _Timer:
    """Seconds spent in each stage of a run, written to run.log for the benchmarks."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        log.debug("timing: %s %.3f s", stage, now - self.started)
        self.started = now


def _run_locked(data_dir: Path, out: Path, quarter: str, options: RunOptions) -> Path:
    """:func:`run_report` once the lock on ``out`` is held."""
    leftovers = _remove_leftovers(out)
    stale_kernels = remove_stale_kernel_dirs()
    # A unique name: two runs in the same second (or a run and a killed one's leftovers) never
    # share a folder.
    token = uuid.uuid4().hex[:12]
    work = out / f".tmp-{token}"
    work.mkdir()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    private = work / ANALYSTS
    (work / EXECUTED).mkdir(parents=True)
    (private / "README.txt").write_text(ANALYSTS_README, encoding="utf-8")
    if log.level == logging.NOTSET:
        log.setLevel(logging.DEBUG)
    handler = logging.FileHandler(private / "run.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    # papermill (and nbclient through it) log a notebook's failure themselves; without a handler
    # Python prints that on the console ("Kernel died while waiting for execute reply." when a
    # run is stopped). The runner reports every failure itself: theirs go to run.log only.
    papermill_log = logging.getLogger("papermill")
    papermill_log.addHandler(handler)
    papermill_propagate, papermill_log.propagate = papermill_log.propagate, False
    # Private to this run (0700): kernel connection files, sockets and the prepared data.
    kernel_dir = make_kernel_dir()
    chosen: pd.Period | None = None
    timer = _Timer()
    stack = contextlib.ExitStack()  # the kernel pool, closed whatever happens
    pool: KernelPool | None = None
    try:
        # First, the process the kernels are forked from: it imports while the run gets going.
        ensure_kernel()
        warm = _warm_process(options.warm)
        if warm is not None and warm is not options.warm:
            stack.callback(warm.close)
        for note in leftovers:
            log.warning("%s: %s", out, note)
        for folder in stale_kernels:
            log.warning("removed kernel folder %s, left by an interrupted run", folder)
        for line in provenance(data_dir):
            log.debug("provenance: %s", line)
        specs = discover(options.notebook_dir)
        timer.lap("find notebooks")
        # The first kernels start while the data load.
        pool = KernelPool(options, kernel_dir, warm)
        stack.callback(pool.close)
        plan = plan_jobs(data_dir, quarter, list(options.areas), options.today, specs)
        chosen, jobs, extract = plan.quarter, plan.jobs, plan.extract
        # Every file of the data folder is accounted for: what was not read is said here (and
        # in run.log) as well as in the data-quality section.
        for line in extract.files:
            log.warning("%s: %s", data_dir, line)
        prepared = save_prepared(extract, plan.panel, kernel_dir)
        timer.lap("load, check and prepare the data once")
        slug_q = quarter_slug(chosen)
        # Row-level data-quality detail is for analysts: in the analysts' folder, never on a
        # committee page.
        publish.write_csv(extract.ledger, private / "ledger.csv")
        # Staffing alerts, every run (issue 12); officer-only lists beside the ledger.
        run_areas = [a for a in dict.fromkeys(j.area for j in jobs) if a]
        alert_table = alerts.evaluate_extract(extract, chosen, run_areas, plan.panel)
        alerts.write(alert_table, work)
        partnership.write_officer_lists(extract.tables, private)
        timer.lap("alerts and officer lists")
        generated = dt.datetime.now().strftime("%d/%m/%Y %H:%M")
        vintage = extract.vintage or "not stated"
        subtitle = f"{quarter_label(chosen)}. Generated {generated}. Data: {vintage}."
        warning = getattr(extract.config, "disclosure_warning", "")
        if warning:
            subtitle += f" {warning}"
        log.info("report for %s from %s: %d notebooks", quarter_label(chosen), data_dir, len(jobs))
        # Each page is exported as soon as its notebook is done, while the others still run.
        exporter = page_exporter()
        export_lock = threading.Lock()  # one exporter, one page at a time

        def export(job: Job) -> None:
            with export_lock:
                started = time.perf_counter()
                export_html(
                    work / EXECUTED / f"{job.stem}.ipynb",
                    work / f"{job.stem}.html",
                    job.title,
                    subtitle,
                    exporter=exporter,
                )
                log.debug("timing: export page %.3f s", time.perf_counter() - started)

        failures = _run_jobs(jobs, work, pool, prepared, export)
        timer.lap("notebooks, each page exported when done")
        if warm is not None and warm.ready_after is not None:
            log.debug("timing: warm process imports %.3f s", warm.ready_after)
        if failures:
            raise PackFailed(
                f"{len(failures)} notebook(s) failed: "
                + ", ".join(f"{j.stem} ({err})" for j, err in failures)
            )
        pages = [(f"{job.stem}.html", job.title) for job in jobs]
        kpis = _collect_kpis(jobs, work / EXECUTED)
        publish.write_csv(kpis, work / "kpis.csv")  # text a spreadsheet would run made inert
        heading = f"Domestic abuse quarterly pack: {quarter_label(chosen)}"
        write_front_page(
            work, pages, heading, subtitle, kpis, extract.config, extract, plan.left_out
        )
        add_csp(work)
        timer.lap("front page, glossary and downloads")
        publish.pdfs_if_asked(work, options.pdf)  # last: the PDFs show the pages as finally written
        log.info("all notebooks succeeded")
    except Exception as err:
        # Whatever broke (the data, a notebook, the export, a full disk), keep the evidence,
        # put the traceback in run.log only, and leave last quarter's pack alone.
        stack.close()
        log.error("run failed: %s", err, extra={CONSOLE: False})
        log.debug("traceback of the failure", exc_info=True)
        name = quarter_slug(chosen) if chosen is not None else "run"
        kept = out / "failed" / f"{name}-{stamp}-{token}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        handler.close()
        shutil.move(str(work), str(kept))
        known = (PackFailed, DataContractError, ValueError, RunError)
        reason = str(err) if isinstance(err, known) else f"{type(err).__name__}: {err}"
        unchanged = (
            f"{out / quarter_slug(chosen)} was not changed"
            if chosen is not None
            else "no pack was written or changed"
        )
        raise RuntimeError(
            f"{reason.rstrip('.')}. Details kept in {kept / ANALYSTS}: run.log and any executed "
            f"notebooks; {unchanged}."
        ) from err
    except BaseException:
        # Stopped (Ctrl-C, or SIGTERM from a scheduler: see daanalysis.cli): no queued notebook
        # starts, the running ones' kernels are killed, and nothing row-level is left behind
        # (the executed notebooks here, the prepared data in the kernel folder, below). Last
        # quarter's pack was never touched.
        log.warning("run stopped: removing its files", extra={CONSOLE: False})
        if pool is not None:
            pool.cancel()
        stack.close()
        handler.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        stack.close()
        log.removeHandler(handler)
        papermill_log.removeHandler(handler)
        papermill_log.propagate = papermill_propagate
        handler.close()
        shutil.rmtree(kernel_dir, ignore_errors=True)
    final = out / slug_q
    old = out / f".old~{slug_q}~{token}"
    # Not stopped half way: a signal now waits until the new pack is in place.
    with _signals_held():
        if final.exists():
            final.rename(old)
        work.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


STOP_SIGNALS = ("SIGINT", "SIGTERM")


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C and SIGTERM back (in the main thread, on POSIX) until the block is done."""
    held = {getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)}
    can = (
        hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    )
    if can:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _collect_kpis(jobs: list[Job], folder: Path) -> pd.DataFrame:
    """Every notebook's headline figures, in notebook order then area order (the front page
    keeps this order), each row named by the notebook that wrote it; the per-job files are
    removed."""
    frames = [pd.DataFrame(columns=KPI_COLUMNS)]
    for job in sorted(jobs, key=lambda j: (j.spec.order, j.spec.name)):  # stable: areas in order
        path = folder / f"{job.stem}.kpis.csv"
        if path.exists():
            frames.append(pd.read_csv(path).assign(notebook=job.notebook))
            path.unlink()
    return pd.concat(frames, ignore_index=True)[KPI_COLUMNS]


def _failure_line(err: BaseException) -> str:
    """The line of a notebook's failure that says what went wrong.

    papermill ends a cell's error with the exception (``RuntimeError: ...``): its last line.
    nbclient's timeout and dead-kernel messages open with it, then preview the cell between
    lines of dashes."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    lines = [line for line in str(err).splitlines() if any(ch.isalnum() for ch in line)]
    if not lines:
        return type(err).__name__
    return lines[0] if isinstance(err, (CellTimeoutError, DeadKernelError)) else lines[-1]


def _kernel_died(err: BaseException) -> bool:
    """Whether a notebook failed because its kernel process died (not an error in a cell)."""
    from nbclient.exceptions import DeadKernelError

    return isinstance(err, DeadKernelError) or "kernel died" in str(err).lower()


class KernelPool:
    """Worker threads that each start a kernel at once, then run the jobs they are handed.

    Opened before the data are loaded, so the first kernels start while the runner loads,
    checks and prepares the extract; each job gets a fresh kernel (a notebook never sees another
    notebook's state). At most ``workers`` notebooks run at once, but there is one thread more:
    its kernel starts while the others run, so a notebook that finishes is followed at once by
    the next on a kernel that is ready, and its page is exported while the next one runs.
    """

    def __init__(self, options: RunOptions, kernel_dir: Path, warm=None) -> None:
        self.options, self.kernel_dir, self.warm = options, kernel_dir, warm
        self.size = max(1, options.workers)
        self.tasks: queue.Queue = queue.Queue()
        self.failures: list[tuple[Job, str]] = []
        self.after = None  # called with each job whose notebook succeeded (the page's export)
        self.after_error: BaseException | None = None  # the first error it raised
        self.done = 0
        self.total = 0
        self.queued = False  # the jobs are known (run was called)
        self.pending = 0  # jobs not yet claimed by a worker's kernel; negative: kernels ahead
        self.lock = threading.Lock()
        self.running = threading.Semaphore(self.size)
        self.cancelled = False  # the run was stopped: start and run nothing more
        self.kernels: set = set()  # kernels started and not yet stopped, to stop them at once
        self.warm_gone = False  # the warm process exited: said once, kernels started as usual
        threads = self.size + 1
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kernel")
        self.workers = [self.pool.submit(self._work) for _ in range(threads)]

    def _work(self) -> None:
        while True:
            with self.lock:
                # Once the jobs are known, start no kernel that no job is left to use.
                if self.cancelled or (self.queued and self.pending <= 0):
                    return
                self.pending -= 1
            km, error = self._start()
            with self.running:
                task = self.tasks.get()
                if task is None or self.cancelled:
                    if km is not None:
                        self._stop(km)
                    return
                job, params, target = task
                log.info("%s: running", job.stem)
                started = time.perf_counter()
                if km is not None and self._warm() is None and not self._alive(km):
                    # Started from the warm process, which has exited since, taking its kernels
                    # with it: the notebook gets a kernel started the usual way instead.
                    self._stop(km)
                    km, error = self._start()
                try:
                    try:
                        self._run(job, params, target, km, error)
                    except Exception as err:
                        if km is None or self.cancelled or not _kernel_died(err):
                            raise
                        if self._warm() is not None:
                            raise
                        # The warm process died while the notebook ran (its kernel exits with
                        # it): once more, on a kernel started the usual way.
                        log.warning(
                            "%s: its kernel died with the warm process (%s); running "
                            "it again on a kernel started the usual way",
                            job.stem,
                            _failure_line(err),
                        )
                        km, error = self._start()
                        self._run(job, params, target, km, error)
                except Exception as err:  # noqa: BLE001 - every failure is reported, none hidden
                    self._finished(job, time.perf_counter() - started, err)
                    continue
                self._finished(job, time.perf_counter() - started, None)
            # Outside the limit on running notebooks: the next one starts while this page is made.
            if self.after is not None:
                try:
                    self.after(job)
                except Exception as err:  # noqa: BLE001 - raised again by run()
                    with self.lock:
                        self.after_error = self.after_error or err

    def _warm(self):
        """The warm process to fork kernels from, or None once it has exited (said once)."""
        if self.warm is None or self.warm.process.poll() is None:
            return self.warm
        with self.lock:
            if not self.warm_gone and not self.cancelled:
                log.warning(
                    "kernels: the warm process exited (status %s); the remaining notebooks run "
                    "on kernels started the usual way",
                    self.warm.process.returncode,
                )
            self.warm_gone = True
        return None

    def _start(self):
        """A kernel for the next job, and "" ; or None and why it did not start."""
        started = time.perf_counter()
        warm = self._warm()
        try:
            km = start_kernel(
                self.kernel_dir, self.options.notebook_dir, self.options.start_timeout, warm
            )
        except Exception as err:  # noqa: BLE001 - reported against the job it was for
            if warm is None or self._warm() is not None:
                return None, f"the kernel did not start: {err}"
            # Forked, then the warm process died before the kernel answered, taking it along.
            try:
                km = start_kernel(
                    self.kernel_dir, self.options.notebook_dir, self.options.start_timeout
                )
            except Exception as again:  # noqa: BLE001 - as above
                return None, f"the kernel did not start: {again}"
        finally:
            log.debug("timing: kernel start %.3f s", time.perf_counter() - started)
        with self.lock:
            self.kernels.add(km)
            cancelled = self.cancelled
        if cancelled:  # stopped while this one started: cancel() could not see it
            self._stop(km)
            return None, "the run was stopped"
        return km, ""

    def _stop(self, km) -> None:
        with self.lock:
            self.kernels.discard(km)
        stop_kernel(km)

    @staticmethod
    def _alive(km) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(run_sync(km.is_alive)())
        except Exception:  # noqa: BLE001 - a kernel that cannot say is taken as dead
            return False

    def _run(self, job: Job, params: dict, target: Path, km, error: str) -> None:
        if km is None:
            raise RunError(error)
        with self.lock:
            if self.cancelled:
                raise RunError("the run was stopped")
        try:
            run_notebook(
                job.spec.path,
                target,
                params,
                self.options.start_timeout,
                self.options.execution_timeout,
                km=km,
            )
        finally:
            with self.lock:
                self.kernels.discard(km)  # run_notebook has stopped it

    def cancel(self) -> None:
        """Stop at once (the run was interrupted): no queued notebook starts, and the kernels
        of those running are killed, so their workers finish within a second or so."""
        with self.lock:
            self.cancelled = True
            running = list(self.kernels)
        while True:
            try:
                self.tasks.get_nowait()
            except queue.Empty:
                break
        for _ in self.workers:
            self.tasks.put(None)
        for km in running:
            process = getattr(km.provisioner, "process", None) if km.provisioner else None
            with contextlib.suppress(Exception):  # exited already
                if process is not None:
                    process.kill()

    def _finished(self, job: Job, seconds: float, err: Exception | None) -> None:
        with self.lock:
            self.done += 1
            where = f"[{self.done}/{self.total}] {job.stem}"
            if err is None:
                log.info("%s: done in %.1fs", where, seconds)
                return
            summary = _failure_line(err)
            log.error("%s: FAILED: %s", where, summary)
            log.debug("%s", err)
            self.failures.append((job, summary))

    def run(self, tasks: list[tuple[Job, dict, Path]], after=None) -> list[tuple[Job, str]]:
        """Run every ``(job, parameters, executed notebook)``; the failures, with their last
        error line. ``after(job)`` is called in the worker for each notebook that succeeded; the
        first error it raises is raised here once every job is done."""
        self.after = after
        with self.lock:
            self.total = len(tasks)
            self.queued = True
            self.pending += len(tasks)
        for task in tasks:
            self.tasks.put(task)
        self.close()
        if self.after_error is not None:
            raise self.after_error
        return self.failures

    def close(self) -> None:
        """Let every worker finish (stopping its unused kernel) and wait for them."""
        for _ in self.workers:
            self.tasks.put(None)
        self.pool.shutdown(wait=True)
        self.workers = []

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc) -> None:
        if self.workers:
            self.close()


def _run_jobs(
    jobs: list[Job],
    work: Path,
    pool: KernelPool,
    prepared: Path | None = None,
    after=None,
) -> list[tuple[Job, str]]:
    """Run every job on the pool; returns the failures with their last error line.
    ``after(job)`` is called as each notebook succeeds (see :meth:`KernelPool.run`)."""
    tasks = []
    for job in jobs:
        offered = {
            **job.parameters,
            "kpi_path": str(work / EXECUTED / f"{job.stem}.kpis.csv"),
            "prepared": str(prepared) if prepared else "",
        }
        # Only the parameters the notebook declares: an analyst's notebook need not take them all.
        params = {k: v for k, v in offered.items() if k in job.spec.parameters}
        tasks.append((job, params, work / EXECUTED / f"{job.stem}.ipynb"))
    return pool.run(tasks, after)


__all__ = [
    "CONSOLE",
    "KERNEL_NAME",
    "NOTEBOOK_DIR",
    "Job",
    "KernelPool",
    "PackFailed",
    "Plan",
    "RunError",
    "RunOptions",
    "check_page_names",
    "ensure_kernel",
    "kernel_config",
    "make_kernel_dir",
    "plan_jobs",
    "provenance",
    "remove_stale_kernel_dirs",
    "run_notebook",
    "run_report",
    "slug",
    "start_kernel",
    "stop_kernel",
]
