"""Kernels for the quarterly run, forked from a process that has already imported the libraries.

Each notebook of the pack runs in a kernel of its own, so no notebook sees another's state. A
kernel started the usual way is a new Python process that imports IPython, pandas, matplotlib
and (for the demand page) statsmodels before it does any work: about a second of processor time
per notebook, most of a small pack's running time. Here one *warm process* imports them once
(:data:`PRELOAD`), while the runner loads the data, and each kernel is a fork of it: a new
process with nothing of any notebook in it, whose imports are already done.

jupyter_client manages the kernel as usual, through a kernel provisioner (its extension point
for launching kernels: :class:`ForkProvisioner`), so papermill and nbclient see an ordinary
kernel. Only the runner uses it; JupyterLab and nbval start kernels the usual way, and so does
the runner where forking is not available (not Linux, a kernelspec that runs another Python) or
``DAANALYSIS_FORK_KERNELS=0`` is set. The pages are the same either way (``tests/test_kernels.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

# Imported once by the warm process: what every kernel would otherwise import for itself. Only
# modules that start no thread when imported, since a fork keeps the forking thread alone
# (tests/test_kernels.py checks).
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",  # debugpy: every kernel imports it as it starts
    "IPython.display",
    "pandas",
    "matplotlib.pyplot",
    "statsmodels.genmod.generalized_linear_model",
    *(f"daanalysis.metrics.{name}" for name in ("actionplan", "demand", "partnership", "staffing")),
    *(
        f"daanalysis.present.{name}"
        for name in ("charts", "disclosure", "notebook", "publish", "quality")
    ),
)
# Set in the warm process before the imports, as a kernel has them when a notebook imports.
PRELOAD_ENV = {
    # ipykernel sets it before any notebook code runs; matplotlib reads it when imported.
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    # The kernelspec starts Python with -Xfrozen_modules=off, the warm process does not:
    # debugpy would warn about that on the console.
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
ENV_SWITCH = "DAANALYSIS_FORK_KERNELS"


def available(kernel_argv: list[str] | None = None) -> bool:
    """Whether the runner's kernels can be forked here.

    Linux only (the kernel is watched through a pidfd), not switched off with
    ``DAANALYSIS_FORK_KERNELS=0``, and only for a kernelspec that runs ipykernel on this very
    Python: a fork is of the runner's interpreter and environment.
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


# --- the warm process ------------------------------------------------------------------------


def _kernel_main(request: dict, server_pid: int) -> None:
    """In the forked child: become the kernel ``request`` describes, as ``python -m
    ipykernel_launcher`` would."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the warm process ignores it; a kernel must not
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


def serve() -> None:
    """The warm process: import :data:`PRELOAD`, then fork a kernel for each request.

    A request is one line of JSON on stdin (``argv``, ``cwd``, ``env``); the answer is one line
    on stdout (``pid``). It exits when stdin closes, that is when the runner is done or dies.
    """
    import importlib

    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    for key, value in PRELOAD_ENV.items():
        os.environ.setdefault(key, value)
    for name in PRELOAD:
        # One that fails is imported (and its error reported) by the notebook that needs it.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    # Finished kernels are reaped by the system: no zombies, and no thread needed to wait.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    server_pid = os.getpid()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(requests.fileno())
                os.close(answers.fileno())
                _kernel_main(request, server_pid)
            finally:
                os._exit(0)
        answers.write(json.dumps({"pid": pid}).encode() + b"\n")
        answers.flush()


class WarmProcessError(RuntimeError):
    """The warm process cannot fork a kernel (it has exited); start one the usual way."""


class WarmProcess:
    """The runner's warm process: started at once, it imports in the background.

    Use it as a context manager; :meth:`fork` may be called from any thread.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.perf_counter()
        self.ready_after: float | None = None  # seconds until its first fork: the imports
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from daanalysis.pack.kernels import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parents[2]),
            start_new_session=True,  # a Ctrl-C at the console is the runner's to handle
        )

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """Fork a kernel with ipykernel's ``argv``; returns its process id."""
        line = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode() + b"\n"
        with self.lock:
            if self.process.poll() is not None:
                raise WarmProcessError(f"the warm process exited ({self.process.returncode})")
            try:
                self.process.stdin.write(line)
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError) as err:  # closed, or died just now
                raise WarmProcessError(f"the warm process is gone ({err})") from None
            answer = self.process.stdout.readline()
            if self.ready_after is None:
                self.ready_after = time.perf_counter() - self.started
        if not answer:
            raise WarmProcessError("the warm process exited before forking a kernel")
        return int(json.loads(answer)["pid"])

    def close(self) -> None:
        """Stop the warm process (kernels forked from it exit with it, if still running).

        It holds nothing to save, so it is terminated rather than left to unwind its imports
        (half a second)."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()
        # A request written as it died is still buffered: closing would flush it into the
        # broken pipe and raise, for a process that is gone anyway.
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()

    def __enter__(self) -> WarmProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- the kernel, as jupyter_client sees it ----------------------------------------------------


class ForkedKernel:
    """What jupyter_client's local provisioner uses of a ``Popen`` (``pid``, ``poll``, ``wait``,
    ``kill``, ``terminate``, ``send_signal``) for a kernel forked by the warm process.

    The kernel is not the runner's child, so it is followed through a pidfd: it cannot be
    confused with another process that later gets the same number. Its exit status belongs to
    the warm process, so a finished kernel reports 0.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.pidfd: int | None = os.pidfd_open(pid)

    def _exited(self, timeout: float | None) -> bool:
        if self.pidfd is None:
            return True
        ready, _, _ = select.select([self.pidfd], [], [], timeout)
        if ready:
            os.close(self.pidfd)
            self.pidfd = None
        return bool(ready)

    def poll(self) -> int | None:
        return 0 if self._exited(0) else None

    def wait(self, timeout: float | None = None) -> int | None:
        return 0 if self._exited(timeout) else None

    def send_signal(self, signum: int) -> None:
        if self.pidfd is not None:
            signal.pidfd_send_signal(self.pidfd, signum)

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
        self.process = ForkedKernel(self.warm.fork(argv, cwd, env))
        self.pid = self.process.pid
        self.pgid = None  # signals go to the kernel itself, never to the runner's group
        self.cwd = cwd
        return self.connection_info


def use_warm_process(km, warm: WarmProcess) -> None:
    """Have ``km`` (a jupyter_client kernel manager, not yet started) fork its kernel from
    ``warm``."""
    import uuid

    km.kernel_id = km.kernel_id or str(uuid.uuid4())
    provisioner = ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
    provisioner.warm = warm
    km.provisioner = provisioner


__all__ = [
    "ENV_SWITCH",
    "PRELOAD",
    "PRELOAD_ENV",
    "ForkProvisioner",
    "ForkedKernel",
    "WarmProcess",
    "WarmProcessError",
    "available",
    "serve",
    "use_warm_process",
]
