"""The quarterly run: every notebook through papermill, exported to HTML with code hidden.

``daanalysis report --quarter latest --data data/sample --out outputs`` writes
``outputs/<quarter>/``: ``index.html``, one HTML page per notebook (and area), ``kpis.csv``,
the executed notebooks under ``notebooks/`` and ``run.log``. Everything is written to a
temporary folder and moved into place only when every notebook succeeded; on failure the exit
code is non-zero, the failing executed notebook is kept under ``outputs/failed/`` and last
quarter's outputs are untouched.

The notebooks call :func:`prepare` for their shared set-up and :func:`write_kpis` for their
headline figures, so they stay thin.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import logging
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd

from daanalysis.config import Config
from daanalysis.disclosure import MARKER
from daanalysis.load import DataContractError, Extract, load_extract
from daanalysis.panel import area_panel, build_panel, common_quarters, complete_quarters
from daanalysis.periods import quarter_label, quarter_slug, resolve_quarter

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_NAME = "daanalysis"
AREA_NOTEBOOKS = ("demand_vs_reporting", "staffing_gap")
PARTNERSHIP_NOTEBOOKS = ("action_plan",)
TITLES = {
    "demand_vs_reporting": "Demand versus reporting",
    "staffing_gap": "Staffing gap",
    "action_plan": "Action plan progress",
}
KPI_COLUMNS = ["area", "quarter", "notebook", "kpi", "value", "unit", "rag", "source"]
HIDDEN_TAGS = {"check", "remove"}

log = logging.getLogger("daanalysis.report")


# --- shared notebook set-up ---------------------------------------------------------------------


@dataclass
class Context:
    """What every notebook needs: the extract, one area's panel, the quarter and the config."""

    extract: Extract
    panel: pd.DataFrame
    area: str
    quarter: pd.Period
    config: Config

    @property
    def label(self) -> str:
        return quarter_label(self.quarter)


def prepare(
    data_dir: str | Path,
    quarter: str,
    area: str = "",
    today: str = "",
    partnership: bool = False,
) -> Context:
    """Load ``data_dir``, build the panel, pick the area and resolve the quarter to report.

    With ``partnership=True`` (pages about the whole partnership, such as the action plan) the
    panel keeps every area and the quarter is one that all areas cover.
    """
    extract = load_extract(data_dir)
    panel = build_panel(extract)
    if partnership:
        quarters, name = common_quarters(panel), "All areas"
    else:
        panel = area_panel(panel, area or None)
        quarters, name = complete_quarters(panel), panel["area"].iloc[0]
    chosen = resolve_quarter(quarter, quarters, pd.Timestamp(today) if today else None)
    return Context(extract, panel, name, chosen, extract.config)


COUNT_UNITS = {"referrals", "cases"}


def write_kpis(rows: list[dict], path: str, ctx: Context, notebook: str) -> pd.DataFrame:
    """Headline figures of one notebook as rows of ``kpis.csv`` (written only if ``path``).

    ``kpis.csv`` is published with the pack, so a count of people (unit ``referrals`` or
    ``cases``) below the suppression threshold is replaced by the disclosure marker.
    """
    frame = pd.DataFrame(rows)
    small = frame["unit"].isin(COUNT_UNITS) & pd.to_numeric(
        frame["value"], errors="coerce"
    ).between(0, ctx.config.suppression_threshold, inclusive="neither")
    frame["value"] = frame["value"].astype(object).where(~small, MARKER)
    frame.insert(0, "notebook", notebook)
    frame.insert(0, "quarter", quarter_slug(ctx.quarter))
    frame.insert(0, "area", ctx.area)
    for col in KPI_COLUMNS:
        if col not in frame:
            frame[col] = ""
    frame = frame[KPI_COLUMNS]
    if path:
        frame.to_csv(path, index=False)
    return frame


# --- running notebooks --------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    notebook: str
    area: str
    parameters: dict

    @property
    def stem(self) -> str:
        if not self.area:
            return self.notebook
        return f"{slug(self.area)}_{self.notebook}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def ensure_kernel(name: str = KERNEL_NAME) -> None:
    """Register this environment as the ``daanalysis`` Jupyter kernel if it is not there yet."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=name, display_name="Python (daanalysis)", prefix=sys.prefix)
        log.info("registered Jupyter kernel %r in %s", name, sys.prefix)


def _ipc_kernel_manager():
    """A kernel manager whose kernel talks over local IPC sockets instead of loopback TCP.

    Data about victims then never crosses even the loopback network in plain text (ipykernel
    warns that TCP without CurveZMQ keys is unencrypted).
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            # A private folder per kernel: concurrent kernels must not share socket names, and
            # no other user can open these sockets.
            return str(Path(tempfile.mkdtemp(prefix="daanalysis-kernel-")) / "kernel")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(Path(self.ip).parent, ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

    return IPCKernelManager


def run_notebook(
    source: Path,
    target: Path,
    parameters: dict,
    start_timeout: int = 60,
    execution_timeout: int = 600,
) -> None:
    """Execute one notebook with papermill on the project kernel."""
    import papermill as pm

    # papermill turns numpy and pandas values into strings: pass plain Python types only.
    plain = {
        k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in parameters.items()
    }
    pm.execute_notebook(
        str(source),
        str(target),
        parameters=plain,
        kernel_name=KERNEL_NAME,
        start_timeout=start_timeout,
        execution_timeout=execution_timeout,
        progress_bar=False,
        cwd=str(source.parent),
        kernel_manager_class=_ipc_kernel_manager(),
    )


def export_html(executed: Path, target: Path, title: str, subtitle: str) -> None:
    """HTML with code hidden (nbconvert ``exclude_input``), a header and a table of contents."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    headings = [
        line.lstrip("#").strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    toc = "\n".join(f"- [{h}](#{h.replace(' ', '-')})" for h in headings)
    # After the title cell: the reader sees what, when and from which data before anything else.
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"*{subtitle}*\n\n**Contents**\n\n{toc}"))
    _add_alt_text(nb)
    exporter = HTMLExporter(
        template_name="daanalysis",
        extra_template_basedirs=[str(Path(__file__).resolve().parent / "templates")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=HIDDEN_TAGS, enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    target.write_text(body, encoding="utf-8")


def _add_alt_text(nb: nbformat.NotebookNode) -> None:
    """Give every chart alternative text: the heading of the section it sits in."""
    section = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = [ln for ln in cell.source.splitlines() if ln.startswith("#")]
            section = lines[-1].lstrip("#").strip() if lines else section
            continue
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                meta = output.setdefault("metadata", {}).setdefault("image/png", {})
                meta.setdefault("alt", f"Chart: {section}")


def write_index(
    folder: Path,
    pages: list[tuple[str, str]],
    heading: str,
    subtitle: str,
    kpis: pd.DataFrame | None = None,
) -> None:
    """``index.html``: every page of the pack and the headline figures with their RAG."""
    items = "\n".join(
        f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for href, text in pages
    )
    table = ""
    if kpis is not None and len(kpis):
        shown = kpis[["area", "kpi", "value", "unit", "rag"]].fillna("")
        table = "<h2>Headline figures</h2>\n" + shown.to_html(index=False, border=0, escape=True)
    folder.joinpath("index.html").write_text(
        f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}}
table{{border-collapse:collapse}}
td,th{{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}}
</style>
</head><body><h1>{html.escape(heading)}</h1><p>{html.escape(subtitle)}</p>
<ul>
{items}
</ul>
{table}
<p><a href="kpis.csv">Headline figures as CSV (kpis.csv)</a></p>
</body></html>
""",
        encoding="utf-8",
    )


def plan_jobs(
    data_dir: Path, quarter: str, areas: list[str], today: str
) -> tuple[pd.Period, list[Job], Extract]:
    """Check the data once, resolve the quarter and list the notebooks to run."""
    extract = load_extract(data_dir)
    panel = build_panel(extract)
    available = extract.areas()
    if not areas or areas == ["all"]:
        areas = available
    unknown = [a for a in areas if a not in available]
    if unknown:
        raise DataContractError(
            f"Area {unknown[0]!r} is not in {data_dir}; areas found: {', '.join(available)}."
        )
    chosen = resolve_quarter(
        quarter, common_quarters(panel, areas), pd.Timestamp(today) if today else None
    )
    base = {"data_dir": str(data_dir.resolve()), "quarter": quarter_slug(chosen), "today": today}
    jobs = [Job(nb, a, {**base, "area": a}) for a in areas for nb in AREA_NOTEBOOKS]
    if len(extract["action_plan"]):
        jobs += [Job(nb, "", {**base, "area": ""}) for nb in PARTNERSHIP_NOTEBOOKS]
    return chosen, jobs, extract


class PackFailed(RuntimeError):
    """One or more notebooks of the pack failed."""


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
) -> Path:
    """Run the whole pack and return ``out/<quarter>``; ``RuntimeError`` if a notebook fails."""
    # Absolute paths: the notebooks run with the notebook folder as their working directory.
    data_dir, out = Path(data_dir).resolve(), Path(out).resolve()
    chosen, jobs, extract = plan_jobs(data_dir, quarter, areas or [], today)
    final = out / quarter_slug(chosen)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    work = out / f".tmp-{quarter_slug(chosen)}-{stamp}"
    (work / "notebooks").mkdir(parents=True)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)
    handler = logging.FileHandler(work / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    generated = dt.datetime.now().strftime("%d/%m/%Y %H:%M")
    vintage = extract.vintage or "not stated"
    subtitle = f"{quarter_label(chosen)}. Generated {generated}. Data: {vintage}."
    try:
        ensure_kernel()
        log.info("report for %s from %s: %d notebooks", quarter_label(chosen), data_dir, len(jobs))
        failures = _run_jobs(jobs, work, notebook_dir, workers, start_timeout, execution_timeout)
        if failures:
            raise PackFailed(
                f"{len(failures)} notebook(s) failed: "
                + ", ".join(f"{j.stem} ({err})" for j, err in failures)
            )
        pages = []
        for job in jobs:
            title = TITLES[job.notebook] + (f": {job.area}" if job.area else "")
            export_html(
                work / "notebooks" / f"{job.stem}.ipynb", work / f"{job.stem}.html", title, subtitle
            )
            pages.append((f"{job.stem}.html", title))
        kpi_files = sorted((work / "notebooks").glob("*.kpis.csv"))
        kpis = pd.concat(
            [pd.DataFrame(columns=KPI_COLUMNS), *(pd.read_csv(f) for f in kpi_files)],
            ignore_index=True,
        )
        kpis.to_csv(work / "kpis.csv", index=False)
        for f in kpi_files:
            f.unlink()
        heading = f"Domestic abuse quarterly pack: {quarter_label(chosen)}"
        write_index(work, pages, heading, subtitle, kpis)
        log.info("all notebooks succeeded")
    except Exception as err:
        # Whatever broke (a notebook, the export, a full disk), keep the evidence and leave last
        # quarter's pack alone.
        log.error("run failed: %s", err)
        kept = out / "failed" / f"{quarter_slug(chosen)}-{stamp}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work), str(kept))
        reason = str(err) if isinstance(err, PackFailed) else f"{type(err).__name__}: {err}"
        raise RuntimeError(
            f"{reason}. Executed notebooks and run.log kept in {kept}; {final} was not changed."
        ) from err
    finally:
        log.removeHandler(handler)
        handler.close()
    old = out / f".old-{quarter_slug(chosen)}-{stamp}"
    if final.exists():
        final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def _run_jobs(
    jobs: list[Job],
    work: Path,
    notebook_dir: Path,
    workers: int,
    start_timeout: int,
    execution_timeout: int,
) -> list[tuple[Job, str]]:
    """Run every job, two at a time by default; returns the failures with their last error line."""
    failures = []

    def one(job: Job) -> float:
        log.info("%s: running", job.stem)
        started = time.perf_counter()
        params = {**job.parameters, "kpi_path": str(work / "notebooks" / f"{job.stem}.kpis.csv")}
        run_notebook(
            notebook_dir / f"{job.notebook}.ipynb",
            work / "notebooks" / f"{job.stem}.ipynb",
            params,
            start_timeout,
            execution_timeout,
        )
        return time.perf_counter() - started

    # Each papermill run drives its own kernel process; two at a time is the useful limit on two
    # cores.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(one, job): job for job in jobs}
        for done, future in enumerate(as_completed(futures), start=1):
            job = futures[future]
            try:
                seconds = future.result()
                log.info("[%d/%d] %s: done in %.1fs", done, len(jobs), job.stem, seconds)
            except Exception as err:  # noqa: BLE001 - every failure is reported, none hidden
                summary = (
                    str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
                )
                log.error("[%d/%d] %s: FAILED: %s", done, len(jobs), job.stem, summary)
                log.debug("%s", err)
                failures.append((job, summary))
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="daanalysis", description="Domestic abuse quarterly pack")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="run every notebook and write outputs/<quarter>/")
    rep.add_argument("--quarter", default="latest", help="'latest', '2024/25 Q2' or '2024-25Q2'")
    rep.add_argument("--data", default="data/sample", type=Path, help="folder of the extract")
    rep.add_argument("--out", default="outputs", type=Path, help="folder for the packs")
    rep.add_argument("--area", action="append", default=[], help="area (repeat; default all)")
    rep.add_argument("--workers", type=int, default=2, help="notebooks run at once (default 2)")
    rep.add_argument("--start-timeout", type=int, default=60, help="seconds for a kernel to start")
    rep.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    rep.add_argument("--today", default="", help="date that 'latest' is judged from (yyyy-mm-dd)")
    args = parser.parse_args(argv)
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter("%(message)s"))
    console.setLevel(logging.INFO)
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
        )
    except (DataContractError, ValueError, RuntimeError) as err:
        print(f"daanalysis report: {err}", file=sys.stderr)
        return 1
    print(f"Report written to {final}/index.html")
    return 0


__all__ = ["Context", "main", "prepare", "run_report", "write_kpis"]

if __name__ == "__main__":
    sys.exit(main())


def cli() -> None:
    """Console entry point: exit with :func:`main`'s status."""
    sys.exit(main())
