"""The quarterly run: every notebook of the pack through papermill, exported to HTML.

``daanalysis report --quarter latest --data data/sample --out outputs`` writes
``outputs/<quarter>/``: ``index.html``, one HTML page per notebook (and area), ``kpis.csv``,
and, in ``analysts/`` (not for publication), the executed notebooks, ``ledger.csv`` and
``run.log``. Everything is written to a
temporary folder and moved into place only when every notebook succeeded; on failure the exit
code is non-zero, the failing executed notebook is kept under ``outputs/failed/`` and last
quarter's outputs are untouched.

The run loads, validates and cleans the extract and builds the panel once, and hands each
notebook the prepared file (see :mod:`daanalysis.present.notebook`). The steps, one module each:
:mod:`~daanalysis.pack.notebooks` (the notebooks and their metadata), :mod:`~daanalysis.pack.plan`
(the quarter and a job per notebook and area), :mod:`~daanalysis.pack.kernels` (where kernels
come from), :mod:`~daanalysis.pack.execute` (running notebooks), :mod:`~daanalysis.pack.export`
(the HTML pages) and :mod:`~daanalysis.pack.run` (the run's folder, lock and provenance). The
command line is :mod:`daanalysis.cli`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from daanalysis.ingest.extract import DataContractError
from daanalysis.metrics import alerts
from daanalysis.pack import downloads, kernels
from daanalysis.pack.execute import KernelPool, run_jobs
from daanalysis.pack.export import add_csp, export_html, page_exporter
from daanalysis.pack.notebooks import NOTEBOOK_DIR, discover
from daanalysis.pack.pdf import check_printer, pdfs_if_asked
from daanalysis.pack.plan import Job, plan_jobs
from daanalysis.pack.run import (
    ANALYSTS_README,
    RunError,
    locked,
    move_into_place,
    prepare_out,
    provenance,
    remove_leftovers,
)
from daanalysis.pack.site import write_front_page
from daanalysis.periods import parse_today, quarter_label, quarter_slug
from daanalysis.present.notebook import KPI_COLUMNS, check_inputs, save_prepared
from daanalysis.present.page import ANALYSTS, EXECUTED
from daanalysis.safe_csv import write_csv
from daanalysis.stopping import StopFlag

# A log record with ``extra={CONSOLE: False}`` goes to run.log only (the console says it once).
CONSOLE = "console"

log = logging.getLogger("daanalysis.pack.report")


class PackFailed(RuntimeError):
    """One or more notebooks of the pack failed."""


@dataclass(frozen=True)
class RunOptions:
    """How to run the pack, beyond the data, the output folder and the quarter."""

    areas: tuple[str, ...] = ()
    workers: int = 2
    start_timeout: int = 60
    execution_timeout: int = 600
    today: str = ""
    notebook_dir: Path = NOTEBOOK_DIR
    pdf: bool = False  # --pdf: print every page to PDF at the end
    warm: object | None = None  # a kernels.WarmProcess the caller started (and will close)
    stop: StopFlag = field(default_factory=StopFlag)  # the command's stop, checked each stage


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
    pdf: bool = False,
    warm=None,
    stop: StopFlag | None = None,
) -> Path:
    """Run the whole pack and return ``out/<quarter>``; ``RuntimeError`` if anything fails.

    ``notebook_dir`` is the folder of notebooks to run (every ``*.ipynb`` in it, described by
    its metadata: see :mod:`daanalysis.pack.notebooks`). ``warm``: a
    :class:`daanalysis.pack.kernels.WarmProcess` the caller started early and closes afterwards
    (by default the run starts its own, where kernels can be forked).

    One run at a time per ``out``: a lock file (``out/.daanalysis.lock``, released by the
    operating system even if the run is killed) makes a second run stop with a clear message
    instead of mixing its files with the first.
    """
    # Absolute paths: the notebooks run with the notebook folder as their working directory.
    data_dir, out = Path(data_dir).resolve(), Path(out).resolve()
    parse_today(today)  # a bad date is reported before anything is written
    if pdf:
        check_printer()  # no Chromium: stop now with how to fix it, not after the notebooks
    options = RunOptions(
        tuple(areas or ()),
        workers,
        start_timeout,
        execution_timeout,
        today,
        Path(notebook_dir).resolve(),
        bool(pdf),
        warm,
        stop or StopFlag(),
    )
    prepare_out(out)
    with locked(out), _quick_thread_switches():
        return _run_locked(data_dir, out, quarter, options)


# How long (seconds) a thread of the run may hold Python's interpreter lock before another that
# waits for it gets it: Python's default is 5 ms. Each notebook's messages are handled by a
# thread of this process, while another thread exports the pages that are done (pure Python
# for the most part), and each wait for the lock was a wait of the kernel for its next cell:
# at 1 ms, 41 small cells ran in 0.37-0.54 s against 0.54-1.29 s beside such a thread
# (alternating, 5 rounds each, a loaded 2-core machine; issue 22).
THREAD_SWITCH_S = 0.001


@contextlib.contextmanager
def _quick_thread_switches():
    """Python's thread switch interval at :data:`THREAD_SWITCH_S` (at most) while it lasts."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, THREAD_SWITCH_S))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class _Stages:
    """The end of each stage of a run: its seconds written to run.log (for the benchmarks), and
    the command's stop checked (:class:`~daanalysis.stopping.StopFlag`)."""

    def __init__(self, stop: StopFlag) -> None:
        self.stop = stop
        self.started = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        log.debug("timing: %s %.3f s", stage, now - self.started)
        self.started = now
        self.stop.check()


def _run_locked(data_dir: Path, out: Path, quarter: str, options: RunOptions) -> Path:
    """:func:`run_report` once the lock on ``out`` is held."""
    leftovers = remove_leftovers(out)
    stale_kernels = kernels.remove_stale_kernel_dirs()
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
    kernel_dir = kernels.make_kernel_dir()
    chosen: pd.Period | None = None
    stages = _Stages(options.stop)
    stack = contextlib.ExitStack()  # the kernels and their pool, closed whatever happens
    pool: KernelPool | None = None
    try:
        # First, the kernels' source: it may need a while (see daanalysis.pack.kernels).
        kernels.ensure_kernel()
        launcher = kernels.Launcher(
            kernel_dir, options.notebook_dir, options.start_timeout, options.warm
        )
        stack.callback(launcher.close)
        for note in leftovers:
            log.warning("%s: %s", out, note)
        for folder in stale_kernels:
            log.warning("removed kernel folder %s, left by an interrupted run", folder)
        for line in provenance(data_dir):
            log.debug("provenance: %s", line)
        specs = discover(options.notebook_dir)
        stages.done("find notebooks")
        # The first kernels start while the data load.
        pool = KernelPool(
            launcher, options.workers, options.start_timeout, options.execution_timeout
        )
        stack.callback(pool.close)
        plan = plan_jobs(data_dir, quarter, list(options.areas), options.today, specs)
        chosen, jobs, extract = plan.quarter, plan.jobs, plan.extract
        # Every file of the data folder is accounted for: what was not read is said here (and
        # in run.log) as well as in the data-quality section.
        for line in extract.files:
            log.warning("%s: %s", data_dir, line)
        run_areas = [a for a in dict.fromkeys(j.area for j in jobs) if a]
        # The whole extract for the partnership's pages, and each area's rows for its own.
        prepared = save_prepared(extract, plan.panel, kernel_dir, run_areas)
        stages.done("load, check and prepare the data once")
        slug_q = quarter_slug(chosen)
        # Row-level data-quality detail is for analysts: in the analysts' folder, never on a
        # committee page.
        write_csv(extract.ledger, private / "ledger.csv")
        # Staffing alerts, every run (issue 12); officer-only lists beside the ledger.
        alert_table = alerts.evaluate_extract(extract, chosen, run_areas, plan.panel)
        alerts.write(alert_table, work)
        downloads.write_officer_lists(extract.tables, private)
        stages.done("alerts and officer lists")
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
        # Each page's worksheets, made ready as the page is exported (while other notebooks
        # run) rather than all at the end, when nothing else runs: the spreadsheet's tables
        # then only need numbering and writing (issue 22).
        sheets: dict[str, downloads.PreparedPage] = {}

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
                record = work / EXECUTED / f"{job.stem}.publish"
                if (record / "manifest.json").is_file():
                    started = time.perf_counter()
                    sheets[record.name] = downloads.prepare_page(record)
                    log.debug("timing: prepare sheets %.3f s", time.perf_counter() - started)

        def next_pool() -> KernelPool:
            # The comparison of areas, after the area pages (it reads their verdicts): one
            # notebook, so one worker.
            nonlocal pool
            pool = KernelPool(launcher, 1, options.start_timeout, options.execution_timeout)
            stack.callback(pool.close)
            return pool

        failures = run_jobs(jobs, work, pool, prepared, export, next_pool)
        # The notebooks checked each input file's size and time; its content once, here.
        check_inputs(prepared, data_dir)
        stages.done("notebooks, each page exported when done")
        if launcher.ready_after is not None:
            log.debug("timing: warm process imports %.3f s", launcher.ready_after)
        if failures:
            raise PackFailed(
                f"{len(failures)} notebook(s) failed: "
                + ", ".join(f"{j.stem} ({err})" for j, err in failures)
            )
        pages = [(f"{job.stem}.html", job.title) for job in jobs]
        kpis = _collect_kpis(jobs, work / EXECUTED)
        write_csv(kpis, work / "kpis.csv")  # text a spreadsheet would run made inert
        heading = f"Domestic abuse quarterly pack: {quarter_label(chosen)}"
        write_front_page(
            work,
            pages,
            heading,
            subtitle,
            kpis,
            extract.config,
            extract,
            plan.left_out,
            pdf=bool(options.pdf),
            prepared=sheets,
        )
        add_csp(work)
        stages.done("front page, glossary and downloads")
        pdfs_if_asked(work, options.pdf)  # last: the PDFs show the pages as finally written
        options.stop.check()
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
    move_into_place(work, final, token)
    return final


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


__all__ = ["CONSOLE", "NOTEBOOK_DIR", "PackFailed", "RunError", "RunOptions", "run_report"]
