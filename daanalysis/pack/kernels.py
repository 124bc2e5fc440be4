"""The run's Jupyter kernels: where they come from, and how they are started and stopped.

Each notebook of the pack runs in a kernel of its own, so no notebook sees another's state. A
kernel started the usual way is a new Python process that imports IPython, pandas, matplotlib
and (for the demand page) statsmodels before it does any work: about a second of processor time
per notebook. Here one *warm process* imports them once (:data:`PRELOAD`), while the runner
loads the data, and each kernel is a fork of it: a new process with nothing of any notebook in
it, whose imports are already done. Measured on the 2-core machine the pack is built on, the
sample pack takes 20 s this way against 33 s with kernels started the usual way, and a five-area
pack 66 s against 103 s (figures and method: ``docs/running-the-pack.md``).

jupyter_client manages the kernel as usual, through a kernel provisioner (its extension point
for launching kernels: :class:`ForkProvisioner`), so papermill and nbclient see an ordinary
kernel. Forking is only as safe as the process forked, so the warm process checks, from the
operating system's list of its threads (``/proc/self/task``), that its imports left it with one
thread (the maths and Arrow libraries start their own unless told not to: :data:`PRELOAD_ENV`),
and forks nothing otherwise. It waits for each kernel it forked and passes the real exit status
on. On any failure (forking not available, a thread too many, a dead warm process, a kernel that
does not answer) the kernel is started the usual way instead: :class:`Launcher` is the only
thing the runner uses, and it does not need to know which way a kernel was started. JupyterLab
and nbval start kernels the usual way, and so does the runner where forking is not available
(not Linux, a kernelspec that runs another Python) or ``DAANALYSIS_FORK_KERNELS=0`` is set. The
pages are the same either way (``tests/test_kernels.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

log = logging.getLogger("daanalysis.pack.report")  # the run's one log (console and run.log)

KERNEL_NAME = "daanalysis"
# ipykernel's history database is of no use to a batch run and is a file per kernel otherwise.
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]

# Imported once by the warm process: what every kernel would otherwise import for itself.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",  # debugpy: every kernel imports it as it starts
    "IPython.display",
    "pandas",
    "matplotlib.pyplot",
    "statsmodels.genmod.generalized_linear_model",
    # Imported by every kernel as it starts (IPython's history) or by the staffing page's working
    # days (the UK's bank holidays, which ``holidays`` loads with its list of countries): about
    # 1.5% of a many-area run's processor time when each kernel imported them (py-spy, issue 22).
    # Not matplotlib_inline's backend: importing it in a kernel is what ties it to IPython.
    "sqlite3",
    "holidays.countries.united_kingdom",
    # Imported by every kernel as it starts (IPython's debugger, inspector and stored-variable
    # magic) or by every chart (matplotlib's SVG and Agg renderers): about 1% of the kernels'
    # processor time of a 20-area run when each kernel imported them (py-spy, issue 22).
    "pdb",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_svg",
    *(
        f"daanalysis.metrics.{name}"
        for name in ("actionplan", "comparison", "demand", "kpi", "partnership", "staffing")
    ),
    *(
        f"daanalysis.present.{name}"
        for name in ("charts", "comparison", "demand", "disclosure", "notebook", "page", "quality")
    ),
)
# Set in the warm process before the imports (a kernel forked from it keeps what they did).
PRELOAD_ENV = {
    # ipykernel sets it before any notebook code runs; matplotlib reads it when imported.
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    # The kernelspec starts Python with -Xfrozen_modules=off, the warm process does not:
    # debugpy would warn about that on the console.
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    # A fork copies only the thread that forks. Left alone, numpy's OpenBLAS starts a pool of
    # threads when imported and pyarrow's jemalloc a background thread: a kernel would inherit
    # their locks and state without the threads. One BLAS thread costs the pages nothing (their
    # matrices are far below OpenBLAS's threshold for using more) and Arrow's pool works the same
    # without the background purge.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}
ENV_SWITCH = "DAANALYSIS_FORK_KERNELS"
# A kernel whose exit the warm process could not report (it died first): taken as a failure.
UNKNOWN_STATUS = 255


def available(kernel_argv: list[str] | None = None) -> bool:
    """Whether the runner's kernels can be forked here.

    Linux only (the kernel is watched through a pidfd, the threads counted in ``/proc``), not
    switched off with ``DAANALYSIS_FORK_KERNELS=0``, and only for a kernelspec that runs
    ipykernel on this very Python: a fork is of the runner's interpreter and environment.
    """
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in {"0", "no", "false", "off"}:
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"):
        return False
    if kernel_argv is None:
        return True
    try:
        same = os.path.samefile(kernel_argv[0], sys.executable)
    except (OSError, IndexError):
        return False
    return same and "ipykernel_launcher" in kernel_argv


def os_threads() -> int:
    """Threads of this process as the operating system counts them (Python's own count misses
    those started by compiled libraries); 0 where ``/proc`` is not there to ask."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


# --- the kernelspec and the kernels' private folder --------------------------------------------


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


# --- the warm process ------------------------------------------------------------------------


def _kernel_main(request: dict, server_pid: int) -> None:
    """In the forked child: become the kernel ``request`` describes, as ``python -m
    ipykernel_launcher`` would."""
    os.setsid()  # its own process group, so a signal to the kernel reaches nothing else
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # the warm process's stdout is its pipe to the runner
    os.close(null)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    if "numpy" in sys.modules:  # a fork shares the warm process's random state: draw anew
        sys.modules["numpy"].random.seed()
    # ipykernel exits when its parent does: the warm process, which exits with the runner.
    argv = [*request["argv"], f"--IPKernelApp.parent_handle={server_pid}"]
    sys.argv = ["ipykernel_launcher", *argv]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=argv)


def _exit_code(err: SystemExit) -> int:
    """The status ``sys.exit(code)`` gives a process, as Python itself works it out."""
    if err.code is None:
        return 0
    return err.code if isinstance(err.code, int) else 1


def _run_kernel(request: dict, server_pid: int, fds: list[int]) -> None:
    """The forked child's whole life: never returns, exits with the kernel's own status."""
    status = 1
    try:
        for fd in fds:
            os.close(fd)
        _kernel_main(request, server_pid)
        status = 0
    except SystemExit as err:
        status = _exit_code(err)
    except BaseException:  # noqa: BLE001 - said on stderr (the runner's), then a failed status
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)


def _lines(fd: int, buffer: bytearray) -> list[bytes] | None:
    """Complete lines read from ``fd`` (kept in ``buffer`` until complete); None at its end."""
    chunk = os.read(fd, 65536)
    if not chunk:
        return None
    buffer += chunk
    *lines, rest = bytes(buffer).split(b"\n")
    buffer[:] = rest
    return lines


def serve() -> None:
    """The warm process: import :data:`PRELOAD`, check it has one thread, then fork kernels.

    A request is one line of JSON on stdin (``argv``, ``cwd``, ``env``). The messages on stdout
    are lines of JSON: ``{"pid": ...}`` for each kernel forked, ``{"exited": pid, "status":
    code}`` when one exits (as :meth:`subprocess.Popen.poll` would say: negative for a signal),
    and ``{"error": ...}`` before it exits without forking. Single-threaded throughout (a select
    loop over stdin and a pidfd per kernel), so each fork is of a process with one thread. It
    exits when stdin closes, that is when the runner is done or dies.
    """
    import importlib

    requests, answers = sys.stdin.fileno(), sys.stdout.fileno()

    def say(message: dict) -> None:
        os.write(answers, json.dumps(message).encode() + b"\n")

    for key, value in PRELOAD_ENV.items():
        os.environ.setdefault(key, value)
    for name in PRELOAD:
        # One that fails is imported (and its error reported) by the notebook that needs it.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    threads = os_threads()
    if threads != 1:
        say({"error": f"its imports left it with {threads} threads, not 1, so it cannot fork"})
        return
    server_pid = os.getpid()
    kernels: dict[int, int] = {}  # pidfd: process id, of each kernel still running
    buffer = bytearray()
    while True:
        ready, _, _ = select.select([requests, *kernels], [], [])
        for fd in ready:
            if fd != requests:
                pid = kernels.pop(fd)
                os.close(fd)
                _, status = os.waitpid(pid, 0)
                say({"exited": pid, "status": os.waitstatus_to_exitcode(status)})
                continue
            lines = _lines(requests, buffer)
            if lines is None:
                return
            for line in lines:
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _run_kernel(request, server_pid, [requests, answers, *kernels])
                kernels[os.pidfd_open(pid)] = pid
                say({"pid": pid})


def prestart() -> WarmProcess | None:
    """Start now what the run's kernels need that takes a while (where kernels are forked: the
    warm process and its imports), so that it overlaps the caller's own start-up; hand it to the
    run (``run_report(warm=...)``) and close it afterwards. None where nothing needs starting."""
    return WarmProcess() if available() else None


class WarmProcessError(RuntimeError):
    """The warm process cannot fork a kernel (it has exited, or refused); start one the usual
    way."""


class WarmProcess:
    """The runner's warm process: started at once, it imports in the background.

    Use it as a context manager; :meth:`fork` and :meth:`status` may be called from any thread.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.perf_counter()
        self.ready_after: float | None = None  # seconds until its first fork: the imports
        self.statuses: dict[int, int] = {}  # kernel pid: exit status, as reported
        self.refused = ""  # why it forks nothing, if it said so
        self._buffer = bytearray()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from daanalysis.pack.kernels import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            cwd=str(Path(__file__).resolve().parents[2]),
            env={**os.environ, **PRELOAD_ENV},
            start_new_session=True,  # a Ctrl-C at the console is the runner's to handle
        )

    def _message(self, timeout: float | None) -> dict | None:
        """The next message (lock held), or None at its end or after ``timeout`` seconds."""
        fd = self.process.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer[:] = rest
        message = json.loads(line)
        if "exited" in message:
            self.statuses[int(message["exited"])] = int(message["status"])
        if "error" in message:
            self.refused = str(message["error"])
        return message

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """Fork a kernel with ipykernel's ``argv``; returns its process id."""
        line = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode() + b"\n"
        with self.lock:
            if self.refused:
                raise WarmProcessError(f"the warm process refused: {self.refused}")
            if self.process.poll() is not None:
                raise WarmProcessError(f"the warm process exited ({self.process.returncode})")
            try:
                self.process.stdin.write(line)
            except (BrokenPipeError, ValueError) as err:  # closed, or died just now
                raise WarmProcessError(f"the warm process is gone ({err})") from None
            while True:
                answer = self._message(None)
                if answer is None or "pid" in answer or "error" in answer:
                    break
            if self.ready_after is None:
                self.ready_after = time.perf_counter() - self.started
        if answer is None:
            raise WarmProcessError("the warm process exited before forking a kernel")
        if "error" in answer:
            raise WarmProcessError(f"the warm process refused: {answer['error']}")
        return int(answer["pid"])

    def status(self, pid: int, timeout: float = 5.0) -> int:
        """The exit status of kernel ``pid``, which has exited: as the warm process reports it,
        or :data:`UNKNOWN_STATUS` if it cannot (it has died too)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while pid not in self.statuses:
                left = deadline - time.monotonic()
                if left <= 0 or self._message(left) is None:
                    return UNKNOWN_STATUS
            return self.statuses[pid]

    def alive(self) -> bool:
        """Whether it is running and willing to fork."""
        return self.process.poll() is None and not self.refused

    def close(self) -> None:
        """Stop the warm process (kernels forked from it exit with it, if still running).

        It holds nothing to save, so it is terminated rather than left to unwind its imports
        (half a second)."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()

    def __enter__(self) -> WarmProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- the kernel, as jupyter_client sees it ----------------------------------------------------


# Seconds :meth:`ForkedKernel.kill` waits for the kernel to be gone.
KILL_WAIT = 0.5


class ForkedKernel:
    """What jupyter_client's local provisioner uses of a ``Popen`` (``pid``, ``poll``, ``wait``,
    ``kill``, ``terminate``, ``send_signal``) for a kernel forked by the warm process.

    The kernel is not the runner's child, so it is followed through a pidfd (it cannot be
    confused with another process that later gets the same number) and its exit status is the
    one the warm process, its parent, reports.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, warm: WarmProcess) -> None:
        self.pid = pid
        self.warm = warm
        self.pidfd: int | None = os.pidfd_open(pid)
        self.returncode: int | None = None

    def _exited(self, timeout: float | None) -> bool:
        if self.pidfd is not None:
            ready, _, _ = select.select([self.pidfd], [], [], timeout)
            if not ready:
                return False
            os.close(self.pidfd)
            self.pidfd = None
        if self.returncode is None:
            self.returncode = self.warm.status(self.pid)
        return True

    def poll(self) -> int | None:
        return self.returncode if self._exited(0) else None

    def wait(self, timeout: float | None = None) -> int | None:
        return self.returncode if self._exited(timeout) else None

    def send_signal(self, signum: int) -> None:
        if self.pidfd is not None:
            with contextlib.suppress(ProcessLookupError):  # exited just now
                signal.pidfd_send_signal(self.pidfd, signum)
        if signum == signal.SIGKILL:
            # Dead within milliseconds; waited for here (at most KILL_WAIT), so that
            # jupyter_client, which looks again only after 0.1 s, finds it gone at once: 0.1 s
            # of every notebook's time otherwise, between its last cell and the next
            # notebook's start (issue 22). Only waited on, not closed: another thread may be
            # polling it (a stopped run).
            fd = self.pidfd
            if fd is not None:
                with contextlib.suppress(OSError, ValueError):
                    select.select([fd], [], [], KILL_WAIT)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching the kernel as a fork of the warm process.

    The command line jupyter_client built (``python ... -m ipykernel_launcher -f <connection
    file> ...``) is kept: the arguments after the module go to ipykernel unchanged.
    """

    warm: WarmProcess | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        argv = cmd[cmd.index("ipykernel_launcher") + 1 :]
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        cwd = str(kwargs.get("cwd") or os.getcwd())
        self.process = ForkedKernel(self.warm.fork(argv, cwd, env), self.warm)
        self.pid = self.process.pid
        self.pgid = None  # signals go to the kernel itself, never to the runner's group
        self.cwd = cwd
        return self.connection_info


def forked(km) -> bool:
    """Whether kernel manager ``km``'s kernel was forked from a warm process."""
    return isinstance(getattr(km, "provisioner", None) and km.provisioner.process, ForkedKernel)


def _use_warm_process(km, warm: WarmProcess) -> None:
    """Have ``km`` (a jupyter_client kernel manager, not yet started) fork its kernel from
    ``warm``."""
    km.kernel_id = km.kernel_id or str(uuid.uuid4())
    provisioner = ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
    provisioner.warm = warm
    km.provisioner = provisioner


# --- starting and stopping a kernel ------------------------------------------------------------


def start_kernel(kernel_dir: Path, cwd: Path, timeout: int = 60, warm: WarmProcess | None = None):
    """Start a project kernel now, for a notebook to be run on later.

    An ``AsyncKernelManager``, as papermill would make itself (a synchronous one silently
    disables papermill's cell timeout); its connection file and IPC sockets go in ``kernel_dir``.
    Call it from the thread that will run the notebook: the manager's sockets belong to that
    thread's event loop. ``warm``: a :class:`WarmProcess` to fork the kernel from (its imports
    done), instead of starting a new Python; if it cannot fork, the kernel is started the usual
    way.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    def manager():
        return AsyncKernelManager(
            kernel_name=KERNEL_NAME, config=kernel_config(kernel_dir, f"k{uuid.uuid4().hex[:8]}")
        )

    km = manager()
    if warm is not None:
        _use_warm_process(km, warm)
    try:
        run_sync(km.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd))
    except WarmProcessError as err:
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
        client.stop_channels()
        stop_kernel(km)
        raise
    # The client that saw it ready is kept for the notebook run on it (:func:`ready_client`): a
    # client of its own would wait for it to be ready again, and jupyter_client's wait ends
    # with 0.2 s of listening for stray messages, 0.2 s of every notebook's time in which its
    # kernel does nothing (issue 22).
    _READY_CLIENTS[km] = client
    return km


# A kernel's client from :func:`start_kernel`, until a notebook takes it (:func:`ready_client`)
# or the kernel is stopped. Weak: a kernel manager dropped takes its entry along.
_READY_CLIENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def ready_client(km):
    """The client :func:`start_kernel` saw kernel ``km`` answer on, its channels open, for the
    notebook to run on it (once: None afterwards, and for a kernel started otherwise). Use it in
    the thread that started the kernel: its sockets belong to that thread's event loop."""
    return _READY_CLIENTS.pop(km, None)


def stop_kernel(km) -> None:
    """Shut a kernel from :func:`start_kernel` down at once if it still runs; tidy its files
    (and the channels of its client, if no notebook took it)."""
    from jupyter_core.utils import run_sync

    client = _READY_CLIENTS.pop(km, None)
    if client is not None:
        client.stop_channels()
    if km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)
    run_sync(km.cleanup_resources)()


def kill_kernel(km) -> None:
    """Kill a running kernel's process at once (the run was stopped); no clean-up."""
    process = getattr(km.provisioner, "process", None) if km.provisioner else None
    with contextlib.suppress(Exception):  # exited already
        if process is not None:
            process.kill()


def kernel_alive(km) -> bool:
    """Whether the kernel's process still runs (one that cannot say is taken as dead)."""
    from jupyter_core.utils import run_sync

    try:
        return bool(run_sync(km.is_alive)())
    except Exception:  # noqa: BLE001 - see above
        return False


class Launcher:
    """The run's kernels, one per notebook: forked from a warm process where that works, and
    otherwise (forking not available here, or the warm process refused or died) started the
    usual way. The runner asks it for kernels and need not know which way each was started.

    ``warm``: a :class:`WarmProcess` the caller started early (the command line does, so its
    imports overlap the command's own) and closes itself; by default the launcher starts one.
    """

    def __init__(self, kernel_dir: Path, cwd: Path, timeout: int = 60, warm=None) -> None:
        from jupyter_client.kernelspec import KernelSpecManager

        self.kernel_dir, self.cwd, self.timeout = kernel_dir, cwd, timeout
        self.lock = threading.Lock()
        self.said = False  # that the warm process is gone: said once
        self.quiet = False  # the run was stopped: the warm process's end is not news
        self.own = False
        argv = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
        if not available(argv):
            log.debug("kernels: started the usual way (forking is not available here)")
            self.warm = None
        else:
            log.debug("kernels: forked from a warm process")
            self.own = warm is None
            self.warm = WarmProcess() if warm is None else warm

    def _warm(self) -> WarmProcess | None:
        """The warm process to fork kernels from, or None once it has gone (said once)."""
        if self.warm is None or self.warm.alive():
            return self.warm
        with self.lock:
            if not self.said and not self.quiet:
                why = (
                    f"refused to fork ({self.warm.refused})"
                    if self.warm.refused
                    else f"exited (status {self.warm.process.returncode})"
                )
                log.warning(
                    "kernels: the warm process %s; the remaining notebooks run on kernels "
                    "started the usual way",
                    why,
                )
            self.said = True
        return None

    def start(self):
        """A kernel, answering; raises if none could be started."""
        started = time.perf_counter()
        warm = self._warm()
        try:
            return start_kernel(self.kernel_dir, self.cwd, self.timeout, warm)
        except Exception:
            if warm is None or self._warm() is not None:
                raise
            # Forked, then the warm process died before the kernel answered, taking it along.
            return start_kernel(self.kernel_dir, self.cwd, self.timeout)
        finally:
            log.debug("timing: kernel start %.3f s", time.perf_counter() - started)

    def orphaned(self, km) -> bool:
        """Whether ``km`` was forked from the warm process, which has exited since, taking its
        kernels with it (the notebook should have another kernel)."""
        return forked(km) and self._warm() is None and not kernel_alive(km)

    def lost(self, err: BaseException) -> bool:
        """Whether a notebook failed because its kernel died with the warm process (so it may
        run again on a kernel started the usual way), not because of anything in the notebook."""
        from nbclient.exceptions import DeadKernelError

        died = isinstance(err, DeadKernelError) or "kernel died" in str(err).lower()
        return died and self.warm is not None and self._warm() is None

    def cancel(self) -> None:
        """The run was stopped: what happens to the warm process now is not worth saying."""
        self.quiet = True

    @property
    def ready_after(self) -> float | None:
        """Seconds the warm process took to import, if kernels were forked."""
        return None if self.warm is None else self.warm.ready_after

    def close(self) -> None:
        """Stop the warm process, if the launcher started it."""
        if self.own and self.warm is not None:
            self.warm.close()

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = [
    "ENV_SWITCH",
    "KERNEL_ARGUMENTS",
    "KERNEL_DIR_PREFIX",
    "KERNEL_NAME",
    "OWNER_FILE",
    "PRELOAD",
    "PRELOAD_ENV",
    "UNKNOWN_STATUS",
    "ForkProvisioner",
    "ForkedKernel",
    "Launcher",
    "WarmProcess",
    "WarmProcessError",
    "available",
    "ensure_kernel",
    "forked",
    "kernel_alive",
    "kernel_config",
    "kill_kernel",
    "make_kernel_dir",
    "os_threads",
    "prestart",
    "ready_client",
    "remove_stale_kernel_dirs",
    "serve",
    "start_kernel",
    "stop_kernel",
]
