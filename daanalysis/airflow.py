"""The quarterly pack of many areas as an Apache Airflow 3 DAG: one task per area, then a roll-up.

In a file in Airflow's DAG folder (daanalysis installed in Airflow's environment)::

    from daanalysis.airflow import pack_dag

    dag = pack_dag("/secure/da-extract/current", "/secure/da-reports",
                   schedule="0 6 10 1,4,7,10 *", pool="daanalysis")

The DAG has three tasks (see ``docs/scheduling.md``):

``plan``
    Checks a one-extract region once, with the run's own checks (:func:`daanalysis.pack.report.
    plan_jobs`), lists its areas (or the ones given) and resolves the one quarter every area will
    report. A bad extract fails here, once, with the run's message.
``pack``
    Mapped over the areas (dynamic task mapping: one task instance per area, named by the area).
    Each runs the same command as a single run, ``daanalysis report --data D --area A --quarter Q
    --out OUT/<area slug>``, so it keeps the data checks, the lock, the pack moved into place only
    when every page succeeded, the alerts and ``run.log``. Exit 1 fails the task (retried);
    exit 3, an alert with ``fail_on_alert``, fails it without a retry (the pack was written).
``roll_up``
    Runs when every area has finished, failed or not, and writes ``OUT/_all-areas/<quarter>/``:
    ``summary.csv`` (each area's outcome, pack folder and fired alerts), every written pack's
    ``kpis.csv`` and ``alerts.csv`` stacked, and, for a region in one extract, ``comparison/``:
    the cross-area comparison page (funnel plots, every area's verdict) with its front page and
    spreadsheet, made by the same command from the extract (:func:`compare_areas`);
    ``comparison.txt`` says what was made or why not. It then fails if an area has no new pack,
    the comparison failed (or, with ``fail_on_alert``, an alert fired), so the DAG run is marked
    failed too.

Airflow is not a dependency of ``daanalysis``: it is imported only when :func:`pack_dag` is called,
and this module's import stays light (no pandas) because Airflow parses DAG files often.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

# Under OUT, beside the areas' folders; a slug has no "_", so no area can be named this.
ROLL_UP_DIR = "_all-areas"
SUMMARY_COLUMNS = [
    "area",
    "quarter",
    "status",
    "exit_code",
    "pack",
    "alerts_fired",
    "alerts",
    "data",
]
WRITTEN, ALERT, FAILED, STOPPED, NOT_RUN = (
    "pack written",
    "pack written, alert fired",
    "failed",
    "stopped",
    "no outcome (not run, or killed before it reported)",
)

log = logging.getLogger("daanalysis.airflow")


def _airflow_sdk():
    """``airflow.sdk``, with a clear message when Airflow 3 is not installed."""
    try:
        import airflow.sdk as sdk  # Airflow 3's authoring interface
    except ImportError as err:
        raise ImportError(
            "daanalysis.airflow needs Apache Airflow 3 in this environment (airflow.sdk could not "
            f"be imported: {err}). Install Airflow with its constraints file, then daanalysis "
            "into the same environment (docs/scheduling.md, 'Airflow'), or run `daanalysis "
            "report` from cron instead."
        ) from err
    return sdk


def default_command() -> list[str]:
    """``daanalysis`` as run by the Python this DAG was parsed with: ``python -m daanalysis``."""
    return [sys.executable, "-m", "daanalysis"]


def plan_areas(
    data: str | Path | Mapping[str, str | Path],
    out: str | Path,
    areas: Sequence[str] | None = None,
    quarter: str = "latest",
    today: str = "",
) -> list[dict[str, Any]]:
    """One job per area: ``area``, ``data``, ``select`` (pass ``--area``), ``quarter``, ``out``.

    ``data`` is one extract folder (a region: every area in it, or ``areas``), checked once as
    a run checks it, with the quarter resolved as a multi-area run resolves it (one that every
    area covers); or a mapping of area name to that council's own extract folder (one extract per
    council, each run without ``--area``), which is not read here, so that one council's bad
    extract fails its own task only: ``latest`` is then the last complete quarter before
    ``today`` for every council, and an extract that does not cover it fails its task.
    ``today`` is yyyy-mm-dd (blank: today). Each area's packs go to ``out/<slug(area)>``.
    """
    from daanalysis.names import slug
    from daanalysis.periods import parse_quarter, parse_today, quarter_slug

    out = Path(out).resolve()
    when = parse_today(today)
    if isinstance(data, Mapping):
        if not data:
            raise ValueError("pack_dag: the mapping of areas to extract folders is empty.")
        if areas:
            raise ValueError(
                "pack_dag: give either areas or a mapping of area to extract folder, not both."
            )
        from daanalysis.pack.plan import check_page_names

        check_page_names(list(data))
        chosen = quarter_slug(parse_quarter(quarter, when))
        return [
            {
                "area": str(area),
                "data": str(Path(folder).resolve()),
                "select": False,
                "quarter": chosen,
                "out": str(out / slug(area)),
            }
            for area, folder in data.items()
        ]
    from daanalysis.pack.plan import plan_jobs

    data = Path(data).resolve()
    # An area whose own rows broke max_excluded_share is planned: its task fails with the error,
    # and the others run.
    plan = plan_jobs(data, quarter, list(areas or []), today, faults=False)
    chosen = quarter_slug(plan.quarter)
    found = list(dict.fromkeys(job.area for job in plan.jobs if job.area))
    named = list(areas) if areas else found
    return [
        {
            "area": area,
            "data": str(data),
            "select": True,
            "quarter": chosen,
            "out": str(out / slug(area)),
        }
        for area in named
    ]


def area_command(
    job: Mapping[str, Any],
    command: Sequence[str] | None = None,
    fail_on_alert: bool = False,
    today: str = "",
    report_args: Sequence[str] = (),
) -> list[str]:
    """The ``daanalysis report`` command line for one job of :func:`plan_areas`."""
    args = [*(command or default_command()), "report", "--data", job["data"]]
    if job["select"]:
        args += ["--area", job["area"]]
    args += ["--quarter", job["quarter"], "--out", job["out"]]
    if today:
        args += ["--today", today]
    if fail_on_alert:
        args.append("--fail-on-alert")
    return [*args, *report_args]


def run_area(args: Sequence[str], echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run one area's command, passing each line it prints to ``echo``; return its exit code,
    the pack folder it wrote (``""`` if none) and its ``ALERT`` lines.

    If this process is stopped (Airflow stopping the task), the command gets SIGTERM, on which it
    removes its files and leaves the previous pack as it was, and is waited for.
    """
    pack, fired = "", []
    # Unbuffered, so that each notebook's line reaches the task log as it happens.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        list(args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            echo(line)
            # The command's own last lines (daanalysis.cli): where the pack is, and each alert.
            if line.startswith("Report written to ") and line.endswith("/index.html"):
                pack = line.removeprefix("Report written to ").removesuffix("/index.html")
            elif line.startswith("ALERT "):
                fired.append(line.removeprefix("ALERT "))
        code = proc.wait()
    except BaseException:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = proc.communicate(timeout=120)  # its last line says what it did
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
        for line in (rest or "").splitlines():
            echo(line)
        raise
    return {"exit_code": code, "pack": pack, "alerts": fired}


def outcome(job: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the roll-up's summary for a job and what its run returned."""
    from daanalysis.metrics.alerts import FAIL_EXIT_CODE

    code = int(result["exit_code"])
    if code == 0:
        status = ALERT if result["alerts"] else WRITTEN
    elif code == FAIL_EXIT_CODE:
        status = ALERT
    elif code in (130, 143) or code < 0:  # Ctrl-C, SIGTERM (or killed by a signal)
        status = STOPPED
    else:
        status = FAILED
    return {
        "area": job["area"],
        "quarter": job["quarter"],
        "status": status,
        "exit_code": code,
        # A failed run leaves the previous pack in place: only a pack written now is listed.
        "pack": result["pack"] if status in (WRITTEN, ALERT) else "",
        "alerts_fired": len(result["alerts"]),
        "alerts": " | ".join(result["alerts"]),
        "data": job["data"],
    }


COMPARISON_DIR = "comparison"  # the comparison pack, inside the roll-up's folder
COMPARISON_NOTE = "comparison.txt"  # what was made, or why not, in one line
COMPARISON_NOTEBOOK = "area_comparison.ipynb"
COMPARED, COMPARISON_FAILED = "comparison page written", "comparison page failed"


def compare_areas(
    jobs: Sequence[Mapping[str, Any]],
    folder: str | Path,
    command: Sequence[str] | None = None,
    today: str = "",
    report_args: Sequence[str] = (),
    echo: Callable[[str], None] = print,
) -> str:
    """Make the cross-area comparison page in ``folder/comparison/`` and return one line saying
    what was made or why not (it starts with :data:`COMPARED`, :data:`COMPARISON_FAILED` or
    ``not made``).

    The page is the pack's own ``area_comparison`` notebook, run by the same command as an area
    (``daanalysis report --notebooks`` a folder holding only that notebook) on the region's one
    extract for every area of the plan, at the quarter the areas report: so its figures are
    those a multi-area run would show, with the same checks and disclosure control, and its
    ``comparison/`` folder holds ``index.html``, ``area_comparison.html``, the spreadsheet in
    ``downloads/`` and ``analysts/run.log``. Not made for one extract per council (no one
    extract holds every area) or for fewer than two areas.
    """
    import shutil

    from daanalysis.pack.notebooks import NOTEBOOK_DIR

    folder = Path(folder)
    if len(jobs) < 2:
        return "not made: a comparison needs two areas or more"
    if not all(job["select"] for job in jobs) or len({job["data"] for job in jobs}) != 1:
        return (
            "not made: each council has its own extract, and the comparison is made from one "
            "extract holding every area (run `daanalysis report` on a regional extract for it)"
        )
    notebooks, scratch = folder / ".notebooks", folder / ".comparison-out"
    notebooks.mkdir(parents=True, exist_ok=True)
    shutil.copy2(NOTEBOOK_DIR / COMPARISON_NOTEBOOK, notebooks / COMPARISON_NOTEBOOK)
    args = [*(command or default_command()), "report", "--data", jobs[0]["data"]]
    for job in jobs:
        args += ["--area", job["area"]]
    args += ["--quarter", jobs[0]["quarter"], "--out", str(scratch), "--notebooks", str(notebooks)]
    if today:
        args += ["--today", today]
    args += list(report_args)
    try:
        result = run_area(args, echo)
        # Exit 3 is an alert fired (the page was written); the areas' own tasks report alerts.
        pack = Path(result["pack"]) if result["pack"] else None
        if result["exit_code"] not in (0, 3) or pack is None or not pack.is_dir():
            return (
                f"{COMPARISON_FAILED}: daanalysis report exited {result['exit_code']}; its last "
                "lines in the roll-up's log say why"
            )
        pack.rename(folder / COMPARISON_DIR)
    finally:
        shutil.rmtree(notebooks, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return f"{COMPARED}: {COMPARISON_DIR}/index.html, {len(jobs)} areas, {jobs[0]['quarter']}"


def summarise(
    out: str | Path,
    jobs: Sequence[Mapping[str, Any]],
    results: Mapping[str, Mapping[str, Any]],
    compare: Callable[[Path], str] | None = None,
) -> Path:
    """Write ``out/_all-areas/<quarter>/``: ``summary.csv``, one row per job (``results`` maps
    an area to what :func:`run_area` returned for it; an area without one has ``no outcome``), and
    the ``kpis.csv`` and ``alerts.csv`` of every pack written, stacked; with ``compare`` (called
    with the folder being written, e.g. :func:`compare_areas`), the comparison of areas and
    ``comparison.txt``, the line it returned. Returns the folder.

    The stacked rows are those each area's run already put through disclosure control; nothing is
    added up, so no suppressed count can be recovered by difference. Written to a temporary folder
    and moved into place, so a reader never sees half a roll-up.
    """
    import shutil
    import uuid

    import pandas as pd

    from daanalysis.safe_csv import write_csv

    quarters = sorted({job["quarter"] for job in jobs})
    name = quarters[0] if len(quarters) == 1 else "mixed-quarters"
    rows = []
    for job in jobs:
        result = results.get(job["area"])
        if result is None:
            row = {**dict.fromkeys(SUMMARY_COLUMNS, ""), "status": NOT_RUN, "alerts_fired": 0}
            row.update(area=job["area"], quarter=job["quarter"], data=job["data"])
            rows.append(row)
        else:
            rows.append(outcome(job, result))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    stacked: dict[str, list[pd.DataFrame]] = {"kpis.csv": [], "alerts.csv": []}
    for pack in summary["pack"]:
        for file, frames in stacked.items():
            if pack and (Path(pack) / file).exists():
                frames.append(pd.read_csv(Path(pack) / file, keep_default_na=False, dtype=str))
    root = Path(out) / ROLL_UP_DIR
    root.mkdir(parents=True, exist_ok=True)
    work = root / f".tmp-{uuid.uuid4().hex[:12]}"
    work.mkdir()
    write_csv(summary, work / "summary.csv")
    for file, frames in stacked.items():
        if frames:
            write_csv(pd.concat(frames, ignore_index=True), work / file)
    if compare is not None:
        try:
            said = compare(work)
        except Exception as err:  # noqa: BLE001 - reported in the roll-up, which then fails
            said = f"{COMPARISON_FAILED}: {type(err).__name__}: {err}"
        (work / COMPARISON_NOTE).write_text(said + "\n", encoding="utf-8")
    final = root / name
    old = root / f".old-{work.name}"
    if final.exists():
        final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def roll_up_problems(summary: Path, fail_on_alert: bool = False) -> list[str]:
    """What should fail the roll-up task: each area without a new pack (and, with
    ``fail_on_alert``, each area whose alert fired), as one line each."""
    import pandas as pd

    table = pd.read_csv(summary / "summary.csv", keep_default_na=False, dtype=str)
    problems = [
        f"{r.area}: {r.status}" + (f" (exit {r.exit_code})" if r.exit_code else "")
        for r in table.itertuples()
        if r.status not in (WRITTEN, ALERT)
    ]
    if fail_on_alert:
        problems += [
            f"{r.area}: {r.alerts_fired} alert(s) fired"
            for r in table.itertuples()
            if r.status == ALERT
        ]
    if len(set(table["quarter"])) > 1:
        problems.append(f"areas report different quarters: {sorted(set(table['quarter']))}")
    note = summary / COMPARISON_NOTE
    if note.exists() and note.read_text(encoding="utf-8").startswith(COMPARISON_FAILED):
        problems.append(note.read_text(encoding="utf-8").strip())
    return problems


def pack_dag(
    data: str | Path | Mapping[str, str | Path],
    out: str | Path,
    areas: Sequence[str] | None = None,
    dag_id: str = "daanalysis_packs",
    schedule: Any = None,
    start_date: dt.datetime | None = None,
    quarter: str = "latest",
    today: str = "",
    fail_on_alert: bool = False,
    command: Sequence[str] | str | None = None,
    report_args: Sequence[str] = (),
    pool: str | None = None,
    pool_slots: int = 2,
    retries: int = 1,
    retry_delay: dt.timedelta = dt.timedelta(minutes=10),
    on_failure_callback: Any = None,
    **dag_kwargs: Any,
):
    """An Airflow 3 DAG: ``plan``, then ``pack`` mapped over the areas, then ``roll_up``.

    ``data``: one extract folder (every area in it, or ``areas``), or a mapping of area to its
    council's own extract folder. ``out``: each area's packs go to ``out/<area slug>/<quarter>``
    (one ``--out`` per area: the lock is per folder), the roll-up to ``out/_all-areas/<quarter>``.
    ``quarter`` and ``today`` (yyyy-mm-dd; blank: the run's date, the same for every area) are
    also DAG params, so a manual run can report another quarter. ``fail_on_alert``: an alert
    fails its area's task (exit 3, not retried; the pack is still written) and the roll-up.
    ``command``: the ``daanalysis`` to run (default: ``python -m daanalysis`` with the Python
    that parses the DAG), e.g. ``"/opt/daanalysis/.venv/bin/daanalysis"``; ``report_args``: more
    ``daanalysis report`` options (``["--pdf"]``). ``pool``/``pool_slots``: each area runs two
    notebooks at once, so a pool of as many slots as the workers have cores and 2 slots an area
    keep to the machine. ``retries``/``retry_delay`` apply to a failed area (exit 1), never to
    an alert. ``on_failure_callback`` (e.g. an ``SmtpNotifier``) is called for a failed area
    task (an alert, with ``fail_on_alert``) and a failed roll-up. Other keywords go to ``DAG``.
    """
    sdk = _airflow_sdk()
    from airflow.sdk.exceptions import AirflowFailException

    if isinstance(command, str):
        command = shlex.split(command)
    command = list(command or default_command())
    out = str(Path(out).resolve())
    if isinstance(data, Mapping):
        data = {str(k): str(Path(v).resolve()) for k, v in data.items()}
    else:
        data = str(Path(data).resolve())
    areas = list(areas) if areas else None
    default_args = {
        "retries": retries,
        "retry_delay": retry_delay,
        **({"on_failure_callback": on_failure_callback} if on_failure_callback else {}),
        **dag_kwargs.pop("default_args", {}),
    }

    def run_date(context) -> str:
        """The DAG run's date, yyyy-mm-dd: ``today`` for every area unless the params say."""
        chosen = context["params"].get("today") or today
        if chosen:
            return chosen
        when = context.get("data_interval_end") or context["dag_run"].run_after
        return when.date().isoformat()

    with sdk.DAG(
        dag_id,
        schedule=schedule,
        start_date=start_date or dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        catchup=False,
        default_args=default_args,
        params={"quarter": quarter, "today": today, **dag_kwargs.pop("params", {})},
        doc_md=__doc__,
        **dag_kwargs,
    ) as dag:

        @sdk.task
        def plan() -> list[dict[str, Any]]:
            """Check the extract once and list the areas, all reporting one quarter."""
            context = sdk.get_current_context()
            jobs = plan_areas(data, out, areas, context["params"]["quarter"], run_date(context))
            for job in jobs:
                job["today"] = run_date(context)
            log.info("%d area(s), quarter %s", len(jobs), jobs[0]["quarter"] if jobs else "-")
            return jobs

        @sdk.task(
            map_index_template="{{ area }}",
            **({"pool": pool} if pool else {}),
            pool_slots=pool_slots,
        )
        def pack(job: dict[str, Any]) -> dict[str, Any]:
            """``daanalysis report`` for one area; the outcome is the task's XCom."""
            context = sdk.get_current_context()
            context["area"] = job["area"]  # names this mapped instance in the UI
            args = area_command(job, command, fail_on_alert, job.get("today", ""), report_args)
            log.info("running: %s", shlex.join(args))
            try:
                result = run_area(args, echo=log.info)
            except BaseException:
                # Stopped by Airflow (a timeout, or marked failed by hand): the command got
                # SIGTERM and has cleaned up; say so to the roll-up, if Airflow still listens.
                with contextlib.suppress(Exception):
                    stopped = {"exit_code": 128 + signal.SIGTERM, "pack": "", "alerts": []}
                    context["ti"].xcom_push(key="outcome", value={"area": job["area"], **stopped})
                raise
            # Kept even when the task fails below, so that the roll-up can report it.
            context["ti"].xcom_push(key="outcome", value={"area": job["area"], **result})
            row = outcome(job, result)
            if result["exit_code"] == 0:
                return row
            if row["status"] == ALERT:
                raise AirflowFailException(
                    f"{job['area']}: staffing alert(s) fired; the pack was written to "
                    f"{result['pack']}. " + " | ".join(result["alerts"])
                )
            raise RuntimeError(
                f"{job['area']}: daanalysis report exited {result['exit_code']} ({row['status']});"
                " the previous pack, if any, is unchanged. The command's last line above says "
                "what failed and where its run.log was kept."
            )

        @sdk.task(trigger_rule=sdk.TriggerRule.ALL_DONE, retries=0)
        def roll_up(jobs: list[dict[str, Any]]) -> str:
            """The run summary across areas, written next to the packs."""
            context = sdk.get_current_context()
            pulled = context["ti"].xcom_pull(
                task_ids="pack", key="outcome", map_indexes=list(range(len(jobs)))
            )
            if not isinstance(pulled, list):  # one area: the value itself (or None)
                pulled = [pulled]
            # Matched by the area each outcome names: an area that never ran pushed nothing.
            results = {got["area"]: got for got in pulled if got}

            def compare(work: Path) -> str:
                when = jobs[0].get("today", "") if jobs else ""
                return compare_areas(jobs, work, command, when, report_args, echo=log.info)

            folder = summarise(out, jobs, results, compare)
            log.info("run summary: %s", folder / "summary.csv")
            log.info("comparison of areas: %s", (folder / COMPARISON_NOTE).read_text().strip())
            problems = roll_up_problems(folder, fail_on_alert)
            if problems:
                raise AirflowFailException(
                    f"{len(problems)} problem(s), summary in {folder}: " + "; ".join(problems)
                )
            return str(folder)

        jobs = plan()
        pack.expand(job=jobs) >> roll_up(jobs)
    return dag


__all__ = [
    "COMPARISON_DIR",
    "area_command",
    "compare_areas",
    "pack_dag",
    "plan_areas",
    "roll_up_problems",
    "run_area",
    "summarise",
]
