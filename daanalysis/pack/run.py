"""The run's folder: one run at a time, a work folder moved into place only when complete.

A run writes into ``out/.tmp-<token>/`` while ``out/.daanalysis.lock`` is held (released by the
operating system even if the run is killed), and the finished pack replaces last quarter's in
one rename with Ctrl-C and SIGTERM held back (whichever thread they reach); a killed run's
leftovers are tidied by the next.
``run.log`` opens with what produced the run (:func:`provenance`).
"""

from __future__ import annotations

import contextlib
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from daanalysis.present.notebook import input_checksums


class RunError(RuntimeError):
    """The run could not start or finish; the message says why and what to do."""


ANALYSTS_README = """For analysts only: not for publication.

This folder holds what the committee pages leave out, because it may identify people or shows
figures before small-number suppression:
- ledger.csv: every input row used or excluded, with the values concerned;
- schools_not_engaged.csv (when supplied): the schools never engaged in prevention;
- notebooks/: the executed notebooks, with the checks behind each page (unsuppressed counts);
- run.log: what ran, on which inputs (paths, checksums), and the details of any failure.

Publish or share only the files above this folder.
"""


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


def prepare_out(out: Path) -> None:
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


def remove_leftovers(out: Path) -> list[str]:
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


STOP_SIGNALS = ("SIGINT", "SIGTERM")


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C and SIGTERM back until the block is done, then act on the first that came.

    Python runs a signal's handler in the main thread whichever thread the operating system
    gave the signal to, and a run has other threads (the kernel pool, the exporter); blocking
    the signals in the main thread alone (``pthread_sigmask``) let one delivered to another
    thread stop the main thread half way. So the handlers themselves are replaced for the block
    by one that notes the signal, and the signal is raised again once the old handlers are
    back. Only the main thread can change handlers; in another thread the block runs as it is
    (a stop then interrupts the main thread, not this one).
    """
    names = [name for name in STOP_SIGNALS if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []

    def defer(signum: int, frame) -> None:
        arrived.append(signum)

    previous = {}
    try:
        for name in names:
            signum = getattr(signal, name)
            previous[signum] = signal.signal(signum, defer)
        yield
    finally:
        for signum, handler in previous.items():
            # None: a handler not set from Python, which cannot be put back; the default.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if arrived:
            # The first stop, now, to the handler it was meant for (the command's, which
            # raises; or the default, which ends the process as it would have).
            signal.raise_signal(arrived[0])


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock for the block, or :class:`RunError` if another run holds it."""
    from filelock import FileLock, Timeout

    lock = FileLock(out / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(
            f"Another daanalysis run is writing to {out} (it holds {out / LOCK_FILE}). Wait for "
            "it to finish, or give this run another --out."
        ) from None
    try:
        yield
    finally:
        lock.release()


def move_into_place(work: Path, final: Path, token: str) -> None:
    """Replace ``final`` (last run's pack, if any) with ``work``, not stopped half way."""
    old = final.parent / f".old~{final.name}~{token}"
    # Not stopped half way: a signal now waits until the new pack is in place.
    try:
        with _signals_held():
            if final.exists():
                final.rename(old)
            work.rename(final)
    except KeyboardInterrupt as err:
        # A stop held back during the move arrives as the move ends: when the new pack is in
        # place the command says so rather than "no pack was written".
        if final.exists() and not work.exists():
            err.pack = final
            shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


__all__ = [
    "ANALYSTS_README",
    "LOCK_FILE",
    "RunError",
    "locked",
    "move_into_place",
    "prepare_out",
    "provenance",
    "remove_leftovers",
]
