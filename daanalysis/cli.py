"""The ``daanalysis`` command line: ``report``, ``verdict`` and ``alerts``.

No traceback reaches the console: a failed run prints one line saying what failed, where, and
what to do, and the traceback goes to the run's ``run.log``.
"""

from __future__ import annotations

import argparse
import logging
import sys
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
    """For ``report``, the warm process of :mod:`daanalysis.kernels`, started at once (None
    where kernels are not forked, or for ``--help``)."""
    if argv[:1] != ["report"] or {"-h", "--help"} & set(argv):
        return None
    from daanalysis import kernels

    return kernels.WarmProcess() if kernels.available() else None


def main(argv: list[str] | None = None) -> int:
    """``daanalysis report ...``: exit 0 with the pack in place, 1 with one clear message.

    No traceback reaches the console: it goes to the run's ``run.log`` (kept under
    ``out/failed/``), and the console gets what failed, where, and what to do.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    warm = _warm_process(argv)
    try:
        return _main(argv, warm)
    finally:
        if warm is not None:
            warm.close()


def _main(argv: list[str], warm) -> int:
    import pandas as pd

    from daanalysis import alerts, verdict_command

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
    from daanalysis.report import CONSOLE, NOTEBOOK_DIR, log, run_report

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
    except KeyboardInterrupt:
        print("daanalysis report: interrupted; the previous pack was not changed.", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - a last resort: one line, never a traceback
        print(f"daanalysis report: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        log.removeHandler(console)
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
