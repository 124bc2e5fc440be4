"""The move of a finished pack into place is not broken off by a stop, whichever thread of the
run the operating system hands the signal to (issue 22: a run has the kernel pool's and the
exporter's threads besides the main one)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from daanalysis import cli
from daanalysis.pack.run import move_into_place


def _packs(tmp_path: Path) -> tuple[Path, Path]:
    work, final = tmp_path / ".tmp-x", tmp_path / "2026-27Q2"
    work.mkdir()
    (work / "index.html").write_text("new pack")
    final.mkdir()
    (final / "index.html").write_text("last pack")
    return work, final


@pytest.fixture
def stop_handlers():
    """The command's stop handlers installed, as ``daanalysis report`` has them while it moves
    a pack into place (``cli._stop_on_signals``); the handlers they replaced, put back after."""
    previous = cli._stop_on_signals()
    yield previous
    for number, handler in previous.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_given_to_another_thread_waits_for_the_move(
    tmp_path, monkeypatch, signum, stop_handlers
):
    """The signal goes to a thread other than the main one, between the two renames. Python
    runs its handler in the main thread all the same: before the fix (the signals blocked in
    the main thread only) it raised there at once, leaving last quarter's pack set aside and
    the new one not in place."""
    work, final = _packs(tmp_path)
    other_ready, finish = threading.Event(), threading.Event()

    def idle() -> None:
        other_ready.set()
        finish.wait(30)

    other = threading.Thread(target=idle, daemon=True)
    other.start()
    other_ready.wait(5)
    real_rename = Path.rename
    renames = []

    def rename_with_a_stop(self, target):
        renames.append(self.name)
        if len(renames) == 1:
            signal.pthread_kill(other.ident, signum)
            # Time for the other thread to take it and for the main thread's handler to run
            # (at the next bytecode after the sleep returns).
            time.sleep(0.3)
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename_with_a_stop)
    try:
        with pytest.raises(KeyboardInterrupt) as stopped:
            move_into_place(work, final, "x")
    finally:
        finish.set()
        other.join(5)
    assert renames == ["2026-27Q2", ".tmp-x"]  # both renames ran
    assert stopped.value.signum == signum  # the stop still arrives, after the move
    assert stopped.value.pack == final
    assert (final / "index.html").read_text() == "new pack"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-27Q2"]


def test_a_stop_to_the_main_thread_during_the_move_says_the_pack_was_written(
    tmp_path, monkeypatch, stop_handlers
):
    """SIGTERM arriving while the new pack is renamed into place waits for the rename, then
    stops the command, which names the pack now in place instead of saying none was written."""
    work, final = _packs(tmp_path)
    real_rename = Path.rename

    def rename_with_a_stop(self, target):
        # To this thread, which holds it back until the move is done (a signal to the process
        # could go to another thread of the test session).
        signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename_with_a_stop)
    with pytest.raises(KeyboardInterrupt) as stopped:
        move_into_place(work, final, "x")
    assert stopped.value.pack == final
    assert (final / "index.html").read_text() == "new pack"
    assert not work.exists() and [p.name for p in tmp_path.iterdir()] == ["2026-27Q2"]


def test_the_handlers_are_put_back_after_the_move(tmp_path, stop_handlers):
    """No signal: the move leaves the command's handlers as they were."""
    work, final = _packs(tmp_path)
    mine = {n: signal.getsignal(n) for n in stop_handlers}
    move_into_place(work, final, "x")
    assert {n: signal.getsignal(n) for n in stop_handlers} == mine
    assert (final / "index.html").read_text() == "new pack"
