"""Running the pack's notebooks: one notebook through papermill, and the pool that runs many.

A notebook runs on a kernel the pool started while the previous one ran (and, for the first ones,
while the data loaded): :mod:`daanalysis.pack.kernels` says where kernels come from. papermill
runs it through its own nbclient engine, registered here under another name only because the
kernel is started by the runner rather than by papermill (:func:`run_notebook`).
"""

from __future__ import annotations

import functools
import logging
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from daanalysis.pack import kernels
from daanalysis.pack.plan import Job
from daanalysis.pack.run import RunError
from daanalysis.present.page import EXECUTED

log = logging.getLogger("daanalysis.pack.report")  # the run's one log (console and run.log)


ENGINE = "daanalysis-started-kernel"


@functools.cache
def _register_engine() -> None:
    """papermill's nbclient engine, run on a kernel the runner started while the data loaded."""
    from jupyter_core.utils import run_sync
    from nbclient.util import run_hook
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb
    from papermill.log import logger

    class StartedKernelClient(PapermillNotebookClient):
        """papermill's client, on the kernel's client that the runner saw ready
        (:func:`daanalysis.pack.kernels.ready_client`) when there is one, instead of a new one
        that would wait for the kernel to be ready again (0.2 s of each notebook; issue 22)."""

        ready = None

        async def async_start_new_kernel_client(self):
            if self.ready is None:
                return await super().async_start_new_kernel_client()
            self.kc, self.ready = self.ready, None
            self.kc.allow_stdin = False  # as nbclient sets it on a client of its own
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

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
            km = kwargs.pop("km")
            client = StartedKernelClient(
                nb_man,
                km=km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            client.ready = kernels.ready_client(km)
            try:
                # The client did not start the kernel, so by default it would leave it running.
                return client.execute(cleanup_kc=True)
            except BaseException:
                if keep_at:
                    write_ipynb(nb_man.nb, keep_at)
                raise
            finally:
                if client.ready is not None:  # not taken (the run broke off before)
                    client.ready.stop_channels()

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
    folder = kernels.make_kernel_dir() if own_dir else kernel_dir
    if km is not None:
        _register_engine()
        kernel = {"engine_name": ENGINE, "km": km, "keep_at": str(target)}
    else:
        kernel = {"config": kernels.kernel_config(folder, f"k{uuid.uuid4().hex[:8]}")}
    try:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters=plain,
            kernel_name=kernels.KERNEL_NAME,
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
            kernels.stop_kernel(km)
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)


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


# Kernels started ahead of the notebooks that will run on them (at most one for each worker).
# One was not enough: a worker exports its page and starts its next kernel (together about 0.8 s
# on the 2-core machine) before it has a kernel ready again, so when two notebooks ended within
# that time of each other the second slot waited for a kernel: 15-20 times in a 20-area run,
# 4.4 s of a slot's time in session 10's quiet run, 9-12 s on a loaded machine (run.log, the
# time from a notebook's end to the next one's start; issue 22).
SPARE_KERNELS = 2


class KernelPool:
    """Worker threads that each start a kernel at once, then run the jobs they are handed.

    Opened before the data are loaded, so the first kernels start while the runner loads,
    checks and prepares the extract; each job gets a fresh kernel (a notebook never sees another
    notebook's state). At most ``workers`` notebooks run at once, but there are threads more
    (:data:`SPARE_KERNELS`): their kernels start while the others run, so a notebook that
    finishes is followed at once by the next on a kernel that is ready, and its page is exported
    while the next one runs.
    """

    def __init__(
        self,
        launcher: kernels.Launcher,
        workers: int = 2,
        start_timeout: int = 60,
        execution_timeout: int = 600,
    ) -> None:
        self.launcher = launcher
        self.start_timeout, self.execution_timeout = start_timeout, execution_timeout
        self.size = max(1, workers)
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
        threads = self.size + min(self.size, SPARE_KERNELS)
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
                if km is not None and self.launcher.orphaned(km):
                    # Its kernel has gone with the process it was started from: another one
                    # (the launcher says so in the log).
                    self._stop(km)
                    km, error = self._start()
                try:
                    try:
                        self._run(job, params, target, km, error)
                    except Exception as err:
                        if km is None or self.cancelled or not self.launcher.lost(err):
                            raise
                        # The kernel died with the process it was started from, not because of
                        # the notebook: once more, on another kernel.
                        log.warning(
                            "%s: its kernel was lost (%s); running it again on another kernel",
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
            # Not once the run is stopped: its folder is about to be removed, and a page written
            # into it then would be left behind.
            if self.after is not None and not self.cancelled:
                try:
                    self.after(job)
                except Exception as err:  # noqa: BLE001 - raised again by run()
                    with self.lock:
                        self.after_error = self.after_error or err

    def _start(self):
        """A kernel for the next job, and "" ; or None and why it did not start."""
        try:
            km = self.launcher.start()
        except Exception as err:  # noqa: BLE001 - reported against the job it was for
            return None, f"the kernel did not start: {err}"
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
        kernels.stop_kernel(km)

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
                self.start_timeout,
                self.execution_timeout,
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
        self.launcher.cancel()
        while True:
            try:
                self.tasks.get_nowait()
            except queue.Empty:
                break
        for _ in self.workers:
            self.tasks.put(None)
        for km in running:
            kernels.kill_kernel(km)

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
            self.total = self.done + len(tasks)  # a second pool counts on from the first
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
        # Wait on the workers' futures first: a thread join that a stop (KeyboardInterrupt)
        # broke into can let a later shutdown(wait=True) return while a worker is still
        # writing, and the stopped run's folder is removed straight after this.
        futures.wait(self.workers)
        self.pool.shutdown(wait=True)
        self.workers = []

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc) -> None:
        if self.workers:
            self.close()


def run_jobs(
    jobs: list[Job],
    work: Path,
    pool: KernelPool,
    prepared: Path | None = None,
    after=None,
    next_pool: Callable[[], KernelPool] | None = None,
) -> list[tuple[Job, str]]:
    """Run every job on the pool; returns the failures with their last error line.
    ``after(job)`` is called as each notebook succeeds (see :meth:`KernelPool.run`).

    A page that covers several areas (``min_areas`` above 1: the comparison of areas) runs
    after every area's page, on a second pool from ``next_pool``: it reads the demand verdict
    each area's page recorded instead of working it out again (see
    :func:`daanalysis.present.notebook.record_verdict`). Without ``next_pool`` every job runs
    on ``pool`` and such a page works the verdicts out itself. The pages keep their order in
    the pack whatever order they ran in.
    """

    def task(job: Job) -> tuple[Job, dict, Path]:
        offered = {
            **job.parameters,
            "kpi_path": str(work / EXECUTED / f"{job.stem}.kpis.csv"),
            "record_dir": str(work / EXECUTED / f"{job.stem}.publish"),  # tables for downloads
            "prepared": str(prepared) if prepared else "",
        }
        # Only the parameters the notebook declares: an analyst's notebook need not take them all.
        params = {k: v for k, v in offered.items() if k in job.spec.parameters}
        return job, params, work / EXECUTED / f"{job.stem}.ipynb"

    later = [j for j in jobs if j.spec.min_areas > 1] if next_pool is not None else []
    first = [j for j in jobs if j not in later]
    failures = list(pool.run([task(j) for j in first], after))
    if later:
        second = next_pool()
        second.done = pool.done  # the log counts on: [21/61], not [1/1]
        failures += second.run([task(j) for j in later], after)
    return failures


__all__ = ["ENGINE", "KernelPool", "run_jobs", "run_notebook"]
