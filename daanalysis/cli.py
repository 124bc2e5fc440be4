"""The ``daanalysis`` command line, every command of it: ``report``, ``verdict`` and ``alerts``.

Each command loads the extract, picks the areas and resolves the quarter the same way
(:func:`daanalysis.selection.select`), and takes ``--data`` and ``--area`` as defined once here.
No traceback reaches the console: a failed command prints one line saying what failed, where,
and what to do (for ``report``, the traceback goes to the run's ``run.log``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from daanalysis import __version__
from daanalysis.stopping import StopFlag, Stopped

if TYPE_CHECKING:
    from daanalysis.metrics.demand import PooledContrast, Verdict
    from daanalysis.selection import Selection

# The rest is imported in main(), once what the report's kernels need has been started
# (kernels.prestart): its imports then overlap this command's own (a second, on 2 cores).


def _date_argument(text: str) -> str:
    """argparse type for --today: the same check as :func:`parse_today`, as a usage error."""
    from daanalysis.periods import parse_today

    try:
        parse_today(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _extract_arguments() -> argparse.ArgumentParser:
    """``--data`` and ``--area``, the same for every command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data",
        required=True,
        type=Path,
        help="folder of the extract (the sample: data/sample; no default, so a job that "
        "forgets it cannot publish the sample's figures)",
    )
    common.add_argument("--area", action="append", default=[], help="area (repeat; default all)")
    return common


QUARTER_HELP = "'latest', '2024/25 Q2' or '2024-25Q2'"
TODAY_HELP = "date that 'latest' is judged from (yyyy-mm-dd)"


def _one_line(command: str, err: Exception) -> int:
    """Print the one line a failed command gives (no traceback); its exit status, 1."""
    from daanalysis.ingest.extract import DataContractError

    if isinstance(err, (DataContractError, ValueError, OSError)):
        print(f"daanalysis {command}: {err}", file=sys.stderr)
    else:  # a last resort: one line, never a traceback
        print(f"daanalysis {command}: unexpected {type(err).__name__}: {err}", file=sys.stderr)
    return 1


# --- daanalysis verdict ---------------------------------------------------------------------


def verdicts(
    data_dir: Path, areas: list[str], quarter: str = "latest", today: str = ""
) -> list[Verdict]:
    """One :class:`~daanalysis.metrics.demand.Verdict` per area of the extract in ``data_dir``:
    the same library calls as the demand notebook, so the command, the page, the headline and
    ``kpis.csv`` always agree."""
    from daanalysis.selection import select

    return _area_verdicts(select(data_dir, areas, today), quarter)


def verdicts_and_pooled(
    data_dir: Path, areas: list[str], quarter: str = "latest", today: str = ""
) -> tuple[list[Verdict], list[PooledContrast], str]:
    """:func:`verdicts`, each campaign that several of the areas ran read across them
    (:func:`daanalysis.metrics.demand.pooled_contrasts`, at the quarter every area has; the
    areas' verdicts for that quarter are reused, not fitted again), and that quarter's label
    ("" for one area)."""
    from daanalysis.metrics import demand
    from daanalysis.periods import quarter_label
    from daanalysis.selection import select

    scope = select(data_dir, areas, today)
    results = _area_verdicts(scope, quarter)
    if len(scope.areas) < 2:
        return results, [], ""
    common = scope.quarter(quarter)
    label = quarter_label(common)
    known = {v.area: v for v in results if v.quarter == label}
    panel = scope.panel[scope.panel["area"].isin(scope.areas)]
    pooled = demand.pooled_contrasts(
        panel, scope.extract["campaigns"], scope.extract["events"], common, verdicts=known
    )
    return results, pooled, label


def _area_verdicts(scope: Selection, quarter: str) -> list[Verdict]:
    from daanalysis.metrics import demand
    from daanalysis.panel import area_panel

    inputs = [
        (
            area_panel(scope.panel, area),
            demand.campaigns_for(scope.extract["campaigns"], area),
            demand.events_for(scope.extract["events"], area),
            scope.quarter(quarter, area=area),
        )
        for area in scope.areas
    ]
    workers = min(os.cpu_count() or 1, len(inputs))
    if workers < 2 or len(inputs) < PARALLEL_FROM:
        return [demand.verdict(*one) for one in inputs]
    # Areas are independent: one process per core (a region's 300 areas in about half the time
    # on 2 cores, benchmarks/bench_verdict.py --areas). Results come back in the areas' order.
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_one_verdict, inputs, chunksize=max(1, len(inputs) // (4 * workers))))


PARALLEL_FROM = 8  # fewer areas than this: starting worker processes costs more than it saves


def _one_verdict(inputs: tuple) -> Verdict:
    from daanalysis.metrics import demand

    return demand.verdict(*inputs)


def as_json(results: list[Verdict], pooled: list[PooledContrast] = (), at: str = "") -> str:
    """A list with one object per area: area, quarter, verdict, sentence, the primary contrast
    (rate ratio, low, high), the placebo share and everything else the verdict rests on; and
    ``pooled``, each campaign the area ran with other areas of the extract, read across them
    (:func:`daanalysis.present.pooling.as_record`, with ``quarter`` ``at``, the quarter every
    area has; empty for a one-area extract)."""
    from daanalysis.present.pooling import as_record
    from daanalysis.present.verdict import record

    rows = []
    for v in results:
        d = record(v)
        d["placebo_share"] = d["placebo"].get("share") if d["placebo"] else None
        d["pooled"] = [{"quarter": at, **as_record(p, v.area)} for p in pooled if v.area in p.areas]
        rows.append(d)
    return json.dumps(rows, indent=2)


def as_table(results: list[Verdict], pooled: list[PooledContrast] = (), at: str = "") -> str:
    """Each area's verdict and sentence, its reasons (-) and its checks and notes (!); then each
    campaign run in several areas, read across them."""
    from daanalysis.present.pooling import pooled_lines
    from daanalysis.present.verdict import note_text, reasons, sentence

    lines = []
    for v in results:
        lines.append(f"{v.area}, {v.quarter}: {v.verdict.upper()}")
        lines.append(f"  {sentence(v)}")
        for reason in reasons(v) if v.verdict != "inconclusive" or v.primary else []:
            lines.append(f"  - {reason}")
        for check in [*v.checks, *v.notes]:
            lines.append(f"  ! {note_text(check)}")
    for p in pooled:
        first, *rest = pooled_lines(p)
        lines.append(f"Read together, {at}: {first}" if at else f"Read together: {first}")
        lines += [f"  - {line}" for line in rest]
    return "\n".join(lines)


def _verdict(args: argparse.Namespace) -> int:
    """Print the verdicts; exit 1 with one clear line (no traceback) if the data are unusable."""
    try:
        results, pooled, at = verdicts_and_pooled(args.data, args.area, args.quarter, args.today)
    except Exception as err:  # noqa: BLE001 - every failure is one line
        return _one_line("verdict", err)
    try:
        shown = (
            as_json(results, pooled, at) if args.format == "json" else as_table(results, pooled, at)
        )
        print(shown, flush=True)
    except BrokenPipeError:
        # The reader (e.g. ``| head``) stopped early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


# --- daanalysis alerts ----------------------------------------------------------------------


def _alerts(args: argparse.Namespace) -> int:
    """Print every rule's result; exit 1 on unusable data, 3 with ``--fail-on-alert`` if any
    rule fired, else 0."""
    from daanalysis.metrics import alerts
    from daanalysis.selection import select

    try:
        scope = select(args.data, args.area, args.today)
        now = args.quarter == "now"  # the quarter still running: alerts only
        quarter = scope.current_quarter() if now else scope.quarter(args.quarter)
        table = alerts.evaluate_extract(scope.extract, quarter, scope.areas, scope.panel)
    except Exception as err:  # noqa: BLE001 - every failure is one line
        return _one_line("alerts", err)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        alerts.write(table, args.out)
    for _, row in table.iterrows():
        print(f"{row['status'].upper():>13}  {row['area']}, {row['rule']}: {row['message']}")
    fired_any = bool(len(alerts.fired(table)))
    return alerts.FAIL_EXIT_CODE if fired_any and args.fail_on_alert else 0


# --- daanalysis report ----------------------------------------------------------------------


def _warm_process(argv: list[str]):
    """For ``report``, what its kernels need that takes a while, started at once so that it
    overlaps this command's own imports (:func:`daanalysis.pack.kernels.prestart`); None for
    other commands or ``--help``."""
    if argv[:1] != ["report"] or {"-h", "--help"} & set(argv):
        return None
    from daanalysis.pack import kernels

    return kernels.prestart()


def _stop_on_signals(flag: StopFlag | None = None) -> dict:
    """Make SIGINT and SIGTERM raise :class:`Stopped` in the main thread, once, and note the stop
    in ``flag`` (which the run checks at each stage, in case the exception was swallowed): a
    second signal while the run cleans up is ignored, so the clean-up is not broken off half
    way. Returns the handlers replaced."""
    flag = flag or StopFlag()

    def stop(signum: int, frame) -> None:
        if flag.signum is None:
            flag.note(signum)
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
    flag = StopFlag()
    previous = _stop_on_signals(flag)
    warm = None
    written: list[Path] = []  # the pack, once in place
    try:
        warm = _warm_process(argv)
        status = _main(argv, warm, written, flag)
        flag.check()  # a stop the command swallowed is still a stop (the pack, if any, is named)
        return status
    except KeyboardInterrupt as err:
        name = signal.Signals(_stopped_status(err) - 128).name
        if argv[:1] != ["report"]:
            said = ""
        elif written or getattr(err, "pack", None):
            said = f"; the pack had been written to {written[0] if written else err.pack}"
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


def parser() -> argparse.ArgumentParser:
    """The command line: every command, with ``--data`` and ``--area`` defined once."""
    from daanalysis.metrics.alerts import FAIL_EXIT_CODE

    top = argparse.ArgumentParser(prog="daanalysis", description="Domestic abuse quarterly pack")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    extract = [_extract_arguments()]

    cmd = sub.add_parser(
        "verdict", parents=extract, help="the demand verdict per area, without the notebooks"
    )
    cmd.add_argument("--quarter", default="latest", help=QUARTER_HELP)
    cmd.add_argument("--today", default="", help=TODAY_HELP)
    cmd.add_argument("--format", choices=("table", "json"), default="table")

    rep = sub.add_parser(
        "report", parents=extract, help="run every notebook and write outputs/<quarter>/"
    )
    rep.add_argument("--quarter", default="latest", help=QUARTER_HELP)
    rep.add_argument("--out", default="outputs", type=Path, help="folder for the packs")
    rep.add_argument(
        "--notebooks",
        default=None,
        type=Path,
        help="folder of notebooks to run (default: the pack's own; see docs/adding-a-notebook.md)",
    )
    rep.add_argument("--workers", type=int, default=2, help="notebooks run at once (default 2)")
    rep.add_argument("--start-timeout", type=int, default=60, help="seconds for a kernel to start")
    rep.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    rep.add_argument("--today", default="", type=_date_argument, help=TODAY_HELP)
    rep.add_argument(
        "--fail-on-alert",
        action="store_true",
        help=f"exit {FAIL_EXIT_CODE} if a staffing alert fires (the pack is still written)",
    )
    rep.add_argument(
        "--pdf",
        action="store_true",
        help="also print every page to an A4 PDF with headless Chromium (pdf/ in the pack)",
    )

    cmd = sub.add_parser(
        "alerts", parents=extract, help="evaluate the staffing alert rules, without the notebooks"
    )
    cmd.add_argument(
        "--quarter",
        default="latest",
        help="'latest' (last complete quarter), 'now' (the latest month end in the data), "
        "'2024/25 Q2' or '2024-25Q2'",
    )
    cmd.add_argument("--today", default="", help=TODAY_HELP)
    cmd.add_argument("--out", type=Path, help="also write alerts.csv into this folder")
    cmd.add_argument(
        "--fail-on-alert", action="store_true", help=f"exit {FAIL_EXIT_CODE} if a rule fires"
    )
    return top


def _main(argv: list[str], warm, written: list[Path], flag: StopFlag) -> int:
    args = parser().parse_args(argv)
    if args.command == "alerts":
        return _alerts(args)
    if args.command == "verdict":
        return _verdict(args)
    return _report(args, warm, written, flag)


def _report(args: argparse.Namespace, warm, written: list[Path], flag: StopFlag) -> int:
    """Run the pack; exit 0 with it in place, 1 with one clear line, 3 (``--fail-on-alert``)
    when a staffing alert fired."""
    import pandas as pd

    from daanalysis.metrics import alerts

    # Imported here, so that ``verdict`` and ``alerts`` start without the notebook machinery.
    from daanalysis.pack.report import CONSOLE, NOTEBOOK_DIR, log, run_report

    flag.check()  # the imports above are where a stop is most often swallowed
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
            pdf=args.pdf,
            warm=warm,
            stop=flag,
        )
    except (ValueError, RuntimeError, OSError) as err:
        flag.check()  # a failure that a stop caused is reported as the stop
        print(f"daanalysis report: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - a last resort: one line, never a traceback
        flag.check()
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


__all__ = ["as_json", "as_table", "cli", "main", "parser", "verdicts"]

if __name__ == "__main__":
    sys.exit(main())
