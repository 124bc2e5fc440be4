"""The ``daanalysis`` command line: ``report``, ``verdict`` and ``alerts``.

No traceback reaches the console: a failed run prints one line saying what failed, where, and
what to do, and the traceback goes to the run's ``run.log``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from daanalysis import __version__

# The rest is imported in main(), once the process that the report's kernels are forked from
# has been started: its imports then overlap this command's own (a second, on 2 cores).


def _date_argument(text: str) -> str:
    """argparse type for --today: the same check as :func:`parse_today`, as a usage error."""
    from daanalysis.periods import parse_today

    try:
        parse_today(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _warm_process(argv: list[str]):
    """For ``report``, the warm process of :mod:`daanalysis.pack.kernels`, started at once (None
    where kernels are not forked, or for ``--help``)."""
    if argv[:1] != ["report"] or {"-h", "--help"} & set(argv):
        return None
    from daanalysis.pack import kernels

    return kernels.WarmProcess() if kernels.available() else None


class Stopped(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM (what schedulers and ``kill`` send) arrived."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on_signals() -> dict:
    """Make SIGINT and SIGTERM raise :class:`Stopped` in the main thread, once: a second signal
    while the run cleans up is ignored, so the clean-up is not broken off half way. Returns the
    handlers replaced."""
    stopping = []

    def stop(signum: int, frame) -> None:
        if not stopping:
            stopping.append(signum)
            raise Stopped(signum)

    if threading.current_thread() is not threading.main_thread():
        return {}  # signals reach the main thread only, which handles them
    names = [n for n in ("SIGINT", "SIGTERM") if hasattr(signal, n)]
    return {getattr(signal, n): signal.signal(getattr(signal, n), stop) for n in names}


def _stopped_status(err: KeyboardInterrupt) -> int:
    """128 + the signal's number, as a shell reports a process stopped by it (130 for Ctrl-C,
    143 for SIGTERM)."""
    return 128 + getattr(err, "signum", signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    """``daanalysis report ...``: exit 0 with the pack in place, 1 with one clear message.

    No traceback reaches the console: it goes to the run's ``run.log`` (kept under
    ``out/failed/``), and the console gets what failed, where, and what to do. Ctrl-C or SIGTERM
    at any point, the start-up imports included, stops the run at once (queued notebooks never
    start, running ones are stopped, the run's row-level files are removed, the previous pack is
    left as it was) with one line and status 130 (Ctrl-C) or 143 (SIGTERM).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    previous = _stop_on_signals()
    warm = None
    written: list[Path] = []  # the pack, once in place
    try:
        warm = _warm_process(argv)
        return _main(argv, warm, written)
    except KeyboardInterrupt as err:
        name = signal.Signals(_stopped_status(err) - 128).name
        if argv[:1] != ["report"]:
            said = ""
        elif written:
            said = f"; the pack had been written to {written[0]}"
        else:
            said = "; no pack was written, the previous one (if any) is as it was"
        command = f"daanalysis {argv[0]}" if argv else "daanalysis"
        print(f"{command}: stopped ({name}){said}.", file=sys.stderr)
        return _stopped_status(err)
    finally:
        if warm is not None:
            warm.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _main(argv: list[str], warm, written: list[Path]) -> int:
    import pandas as pd

    from daanalysis import verdict_command
    from daanalysis.metrics import alerts

    parser = argparse.ArgumentParser(prog="daanalysis", description="Domestic abuse quarterly pack")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    verdict_command.add_parser(sub)
    rep = sub.add_parser("report", help="run every notebook and write outputs/<quarter>/")
    rep.add_argument("--quarter", default="latest", help="'latest', '2024/25 Q2' or '2024-25Q2'")
    rep.add_argument(
        "--data",
        required=True,
        type=Path,
        help="folder of the extract (the sample: data/sample; no default, so a job that "
        "forgets it cannot publish the sample's figures)",
    )
    rep.add_argument("--out", default="outputs", type=Path, help="folder for the packs")
    rep.add_argument(
        "--notebooks",
        default=None,
        type=Path,
        help="folder of notebooks to run (default: the pack's own; see docs/adding-a-notebook.md)",
    )
    rep.add_argument("--area", action="append", default=[], help="area (repeat; default all)")
    rep.add_argument("--workers", type=int, default=2, help="notebooks run at once (default 2)")
    rep.add_argument("--start-timeout", type=int, default=60, help="seconds for a kernel to start")
    rep.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    rep.add_argument(
        "--today",
        default="",
        type=_date_argument,
        help="date that 'latest' is judged from (yyyy-mm-dd)",
    )
    rep.add_argument(
        "--fail-on-alert",
        action="store_true",
        help=f"exit {alerts.FAIL_EXIT_CODE} if a staffing alert fires (the pack is still written)",
    )
    rep.add_argument(
        "--pdf",
        action="store_true",
        help="also print every page to PDF with headless Chromium (or set DAANALYSIS_PDF=1)",
    )
    alerts.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "alerts":
        return alerts.run(args)
    if args.command == "verdict":
        return verdict_command.run(args)
    # Imported here, so that ``verdict`` and ``alerts`` start without the notebook machinery.
    from daanalysis.pack.report import CONSOLE, NOTEBOOK_DIR, log, run_report

    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter("%(message)s"))
    console.setLevel(logging.INFO)
    # The failure itself is printed once, below; the log line with it is for run.log only.
    console.addFilter(lambda record: getattr(record, CONSOLE, True))
    log.addHandler(console)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        final = run_report(
            args.data,
            args.out,
            args.quarter,
            args.area,
            args.workers,
            args.start_timeout,
            args.timeout,
            args.today,
            args.notebooks or NOTEBOOK_DIR,
            pdf=args.pdf or None,
            warm=warm,
        )
    except (ValueError, RuntimeError, OSError) as err:
        print(f"daanalysis report: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - a last resort: one line, never a traceback
        print(f"daanalysis report: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        log.removeHandler(console)
    written.append(final)
    print(f"Report written to {final}/index.html")
    fired = alerts.lines(pd.read_csv(final / "alerts.csv", keep_default_na=False))
    for line in fired:
        print(f"ALERT {line}", file=sys.stderr if args.fail_on_alert else sys.stdout)
    return alerts.FAIL_EXIT_CODE if fired and args.fail_on_alert else 0


def cli() -> None:
    """Console entry point: exit with :func:`main`'s status."""
    sys.exit(main())


__all__ = ["cli", "main"]

if __name__ == "__main__":
    sys.exit(main())
