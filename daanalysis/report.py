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
import hashlib
import logging
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd

from daanalysis import alerts, partnership, publish, verdict_command
from daanalysis.config import Config
from daanalysis.disclosure import MARKER
from daanalysis.load import DataContractError, Extract, load_extract
from daanalysis.panel import area_panel, build_panel, common_quarters, complete_quarters
from daanalysis.periods import quarter_label, quarter_slug, resolve_quarter

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_NAME = "daanalysis"
AREA_NOTEBOOKS = ("demand_vs_reporting", "staffing_gap", "partnership_activity")
PARTNERSHIP_NOTEBOOKS = ("action_plan",)
TITLES = {
    "demand_vs_reporting": "Demand versus reporting",
    "staffing_gap": "Staffing gap",
    "action_plan": "Action plan progress",
    "partnership_activity": "Partnership activity",
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


def run_notebook(
    source: Path,
    target: Path,
    parameters: dict,
    start_timeout: int = 60,
    execution_timeout: int = 600,
    kernel_dir: Path | None = None,
) -> None:
    """Execute one notebook with papermill on the project kernel.

    The kernel's connection file and sockets live in ``kernel_dir`` (a private folder created,
    and removed afterwards, when none is given). Socket paths are limited to about 100
    characters, so the files get a short unique name rather than the notebook's.
    """
    import papermill as pm

    # papermill turns numpy and pandas values into strings: pass plain Python types only.
    plain = {
        k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in parameters.items()
    }
    own_dir = kernel_dir is None
    folder = make_kernel_dir() if kernel_dir is None else kernel_dir
    try:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters=plain,
            kernel_name=KERNEL_NAME,
            start_timeout=start_timeout,
            execution_timeout=execution_timeout,
            progress_bar=False,
            cwd=str(source.parent),
            config=kernel_config(folder, f"k{uuid.uuid4().hex[:8]}"),
        )
    finally:
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)


# Pages run no script and fetch nothing: images and fonts only as data: URIs, inline styles.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
# What a notebook output may contain as HTML: tables, text structure, and images inlined as
# data: URIs. Anything else (script, iframe, event handlers such as onerror, javascript: links)
# is escaped, so it shows as the text it is and never runs.
SAFE_TAGS = frozenset(
    {
        *("a", "abbr", "b", "br", "caption", "code", "col", "colgroup", "div", "em"),
        *("figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li"),
        *("ol", "p", "pre", "small", "span", "strong", "style", "sub", "sup", "table", "tbody"),
        *("td", "tfoot", "th", "thead", "tr", "ul"),
    }
)


def _safe_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "id", "title", "scope", "colspan", "rowspan", "style", "lang"):
        return True
    if tag == "style":
        return name == "type"
    if tag == "img":
        return name == "alt" or (name == "src" and value.startswith("data:image/"))
    if tag == "a" and name == "href":
        return not value.strip().lower().startswith(("javascript:", "data:", "vbscript:"))
    return False


def markdown_text(text: str) -> str:
    """``text`` for a Markdown cell: HTML escaped and Markdown punctuation backslash-escaped, so
    that a data-derived string (an area name, the VINTAGE line) is shown, never interpreted."""
    import html

    return re.sub(r"([\\`*_\[\](){}#+!|~])", r"\\\1", html.escape(text, quote=False))


def output_sanitizer():
    """An nbconvert preprocessor escaping unsafe HTML in code-cell outputs (tables, Markdown).

    nbconvert's own ``SanitizeHTML`` with the house allow-list; SVG charts are kept, since the
    template shows them as ``<img>`` data URIs in which a script never runs. Markdown cells are
    written by us and reviewed in git, so they are left as they are.
    """
    import bleach
    from bleach.css_sanitizer import CSSSanitizer
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    class OutputSanitizer(SanitizeHTML):
        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code":
                return cell, resources
            return super().preprocess_cell(cell, resources, index)

        def sanitize_html_tags(self, html_str: str) -> str:
            return bleach.clean(
                html_str,
                tags=SAFE_TAGS,
                attributes=_safe_attribute,
                protocols={"http", "https", "mailto", "data"},
                strip=False,
                strip_comments=True,
                css_sanitizer=CSSSanitizer(),
            )

    keys = {"metadata", "text/plain", "image/png", "image/jpeg", "image/svg+xml"}
    return OutputSanitizer(safe_output_keys=keys, enabled=True)


def export_html(executed: Path, target: Path, title: str, subtitle: str) -> None:
    """HTML with code hidden (nbconvert ``exclude_input``), a header and a table of contents."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    title, nav = _page_frame(nb, title)
    headings = [
        line.lstrip("#").strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    toc = "\n".join(f"- [{h}](#{h.replace(' ', '-')})" for h in headings)
    # After the title cell: the reader sees what, when and from which data before anything else.
    nb.cells.insert(
        1, nbformat.v4.new_markdown_cell(f"*{markdown_text(subtitle)}*\n\n**Contents**\n\n{toc}")
    )
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(nav))
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
    # Data reach the page through outputs (tables, Markdown): escape them (see OutputSanitizer).
    exporter.register_preprocessor(output_sanitizer(), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}, "csp": CSP})
    target.write_text(body, encoding="utf-8")


def _page_frame(nb: nbformat.NotebookNode, title: str) -> tuple[str, str]:
    """The page title with area and quarter, and the links every page carries (index, glossary,
    spreadsheet), from the parameters papermill recorded."""
    from daanalysis.periods import parse_quarter
    from daanalysis.publish import nav_html, spreadsheet_href

    params = nb.metadata.get("papermill", {}).get("parameters", {})
    try:
        quarter = parse_quarter(str(params.get("quarter", "")))
    except (ValueError, TypeError):
        return title, nav_html()
    return f"{title}, {quarter_label(quarter)}", nav_html(spreadsheet_href(quarter_slug(quarter)))


def _add_alt_text(nb: nbformat.NotebookNode) -> None:
    """Give every chart alternative text: the heading of the section it sits in."""
    section = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = [ln for ln in cell.source.splitlines() if ln.startswith("#")]
            section = lines[-1].lstrip("#").strip() if lines else section
            continue
        for output in cell.get("outputs", []):
            for mime in ("image/png", "image/svg+xml"):
                if mime in output.get("data", {}):
                    meta = output.setdefault("metadata", {}).setdefault(mime, {})
                    meta.setdefault("alt", f"Chart: {section}")


def write_index(
    folder: Path,
    pages: list[tuple[str, str]],
    heading: str,
    subtitle: str,
    kpis: pd.DataFrame | None = None,
    config: Config | None = None,
    extract: Extract | None = None,
) -> None:
    """``index.html`` (main points first, then the headline figures with RAG by symbol and
    word), ``glossary.html``, the spreadsheet and chart CSVs in ``downloads/`` and, with
    ``DAANALYSIS_PDF=1``, a PDF of each page: see :func:`daanalysis.publish.write_front_page`."""
    from daanalysis.publish import write_front_page

    write_front_page(folder, pages, heading, subtitle, kpis, config, extract)


def parse_today(today: str) -> pd.Timestamp | None:
    """``today`` (yyyy-mm-dd, or blank for the real today) as a timestamp, with a clear error."""
    if not today:
        return None
    try:
        return pd.Timestamp(dt.date.fromisoformat(today))
    except ValueError:
        raise ValueError(
            f"--today {today!r} is not a date: write it as yyyy-mm-dd (for example "
            f"{dt.date.today():%Y-%m-%d}), or leave it out to judge 'latest' from today."
        ) from None


def check_page_names(areas: list[str]) -> None:
    """Each area must give a distinct, non-empty page name, or one page would overwrite another."""
    seen: dict[str, str] = {}
    for area in areas:
        name = slug(area)
        if not name:
            raise DataContractError(
                f"Area {area!r} has no letters or digits to name its pages by. Rename it in the "
                "data (every table that has an area column)."
            )
        if name in seen:
            raise DataContractError(
                f"Areas {seen[name]!r} and {area!r} would both be written to pages named "
                f"{name!r}, so one would overwrite the other. If they are the same area, spell it "
                "the same way in every file; if not, rename one."
            )
        seen[name] = area


def plan_jobs(
    data_dir: Path, quarter: str, areas: list[str], today: str
) -> tuple[pd.Period, list[Job], Extract]:
    """Check the data once, resolve the quarter and list the notebooks to run."""
    when = parse_today(today)
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
    check_page_names(areas)
    # An area covering no complete quarter (often a misspelling carried by a handful of rows)
    # would leave no quarter common to all areas: name it rather than blame the whole extract.
    for area in areas:
        if not complete_quarters(panel[panel["area"] == area]):
            table = "referrals" if extract.basis == "records" else "returns"
            rows = int((extract[table]["area"] == area).sum())
            raise DataContractError(
                f"Area {area!r} ({rows} row(s) of {table}) covers no complete financial quarter. "
                "If it is a misspelling, correct the area in the data; to report other areas "
                "only, name them with --area."
            )
    chosen = resolve_quarter(quarter, common_quarters(panel, areas), when)
    base = {"data_dir": str(data_dir.resolve()), "quarter": quarter_slug(chosen), "today": today}
    # An optional table switches off only what needs it: an area without staffing rows gets no
    # staffing page (caseload per FTE needs them) instead of failing the whole pack.
    staffed = set(extract["staffing"]["area"].dropna())
    for area in sorted(set(areas) - staffed):
        log.warning(
            "%s: no staffing rows in %s, so its staffing page is left out (caseload per FTE needs "
            "staffing.csv)",
            area,
            data_dir,
        )
    jobs = [
        Job(nb, a, {**base, "area": a})
        for a in areas
        for nb in AREA_NOTEBOOKS
        if nb != "staffing_gap" or a in staffed
    ]
    if len(extract["action_plan"]):
        jobs += [Job(nb, "", {**base, "area": ""}) for nb in PARTNERSHIP_NOTEBOOKS]
    return chosen, jobs, extract


class PackFailed(RuntimeError):
    """One or more notebooks of the pack failed."""


class RunError(RuntimeError):
    """The run could not start or finish; the message says why and what to do."""


LOCK_FILE = ".daanalysis.lock"
PROVENANCE_PACKAGES = (
    "pandas",
    "numpy",
    "pandera",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "nbclient",
    "jupyter_client",
    "ipykernel",
    "bleach",
)


def _prepare_out(out: Path) -> None:
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


def _remove_leftovers(out: Path) -> list[str]:
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
    root = Path(__file__).resolve().parent.parent
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
    if data_dir.is_dir():
        files = sorted(
            p for p in [*data_dir.iterdir(), *data_dir.glob("mappings/*")] if p.is_file()
        )
        for path in files:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
            lines.append(
                f"input {path.relative_to(data_dir)}: sha256 {digest}, {path.stat().st_size} bytes"
            )
    return lines


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
    """Run the whole pack and return ``out/<quarter>``; ``RuntimeError`` if anything fails.

    One run at a time per ``out``: a lock file (``out/.daanalysis.lock``, released by the
    operating system even if the run is killed) makes a second run stop with a clear message
    instead of mixing its files with the first.
    """
    from filelock import FileLock, Timeout

    # Absolute paths: the notebooks run with the notebook folder as their working directory.
    data_dir, out = Path(data_dir).resolve(), Path(out).resolve()
    parse_today(today)  # a bad date is reported before anything is written
    _prepare_out(out)
    lock = FileLock(out / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(
            f"Another daanalysis run is writing to {out} (it holds {out / LOCK_FILE}). Wait for "
            "it to finish, or give this run another --out."
        ) from None
    try:
        return _run_locked(
            data_dir,
            out,
            quarter,
            areas or [],
            workers,
            start_timeout,
            execution_timeout,
            today,
            notebook_dir,
        )
    finally:
        lock.release()


def _run_locked(
    data_dir: Path,
    out: Path,
    quarter: str,
    areas: list[str],
    workers: int,
    start_timeout: int,
    execution_timeout: int,
    today: str,
    notebook_dir: Path,
) -> Path:
    """:func:`run_report` once the lock on ``out`` is held."""
    leftovers = _remove_leftovers(out)
    stale_kernels = remove_stale_kernel_dirs()
    # A unique name: two runs in the same second (or a run and a killed one's leftovers) never
    # share a folder.
    token = uuid.uuid4().hex[:12]
    work = out / f".tmp-{token}"
    work.mkdir()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (work / "notebooks").mkdir()
    if log.level == logging.NOTSET:
        log.setLevel(logging.DEBUG)
    handler = logging.FileHandler(work / "run.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    kernel_dir = make_kernel_dir()
    chosen: pd.Period | None = None
    try:
        for note in leftovers:
            log.warning("%s: %s", out, note)
        for folder in stale_kernels:
            log.warning("removed kernel folder %s, left by an interrupted run", folder)
        for line in provenance(data_dir):
            log.debug("provenance: %s", line)
        chosen, jobs, extract = plan_jobs(data_dir, quarter, areas, today)
        slug_q = quarter_slug(chosen)
        # Row-level data-quality detail is for analysts: a file in the run folder that the index
        # does not link, never a committee page.
        extract.ledger.to_csv(work / "ledger.csv", index=False)
        # Staffing alerts, every run (issue 12); officer-only lists beside the ledger.
        run_areas = [a for a in dict.fromkeys(j.area for j in jobs) if a]
        alert_table = alerts.evaluate_extract(extract, chosen, run_areas)
        alerts.write(alert_table, work)
        partnership.write_officer_lists(extract.tables, work)
        generated = dt.datetime.now().strftime("%d/%m/%Y %H:%M")
        vintage = extract.vintage or "not stated"
        subtitle = f"{quarter_label(chosen)}. Generated {generated}. Data: {vintage}."
        warning = getattr(extract.config, "disclosure_warning", "")
        if warning:
            subtitle += f" {warning}"
        ensure_kernel()
        log.info("report for %s from %s: %d notebooks", quarter_label(chosen), data_dir, len(jobs))
        failures = _run_jobs(
            jobs, work, notebook_dir, workers, start_timeout, execution_timeout, kernel_dir
        )
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
        write_index(work, pages, heading, subtitle, kpis, config=extract.config, extract=extract)
        add_csp(work)
        publish.pdfs_if_asked(work)  # last: the PDFs show the pages as finally written
        log.info("all notebooks succeeded")
    except Exception as err:
        # Whatever broke (the data, a notebook, the export, a full disk), keep the evidence,
        # put the traceback in run.log only, and leave last quarter's pack alone.
        log.error("run failed: %s", err)
        log.debug("traceback of the failure", exc_info=True)
        name = quarter_slug(chosen) if chosen is not None else "run"
        kept = out / "failed" / f"{name}-{stamp}-{token}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        handler.close()
        shutil.move(str(work), str(kept))
        known = (PackFailed, DataContractError, ValueError, RunError)
        reason = str(err) if isinstance(err, known) else f"{type(err).__name__}: {err}"
        unchanged = (
            f"{out / quarter_slug(chosen)} was not changed"
            if chosen is not None
            else "no pack was written or changed"
        )
        raise RuntimeError(
            f"{reason.rstrip('.')}. Details (and any executed notebooks) kept in {kept}, with "
            f"run.log; {unchanged}."
        ) from err
    finally:
        log.removeHandler(handler)
        handler.close()
        shutil.rmtree(kernel_dir, ignore_errors=True)
    final = out / slug_q
    old = out / f".old~{slug_q}~{token}"
    if final.exists():
        final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'


def add_csp(folder: Path) -> list[Path]:
    """Give every page in ``folder`` the Content-Security-Policy, whoever wrote the page.

    Notebook pages carry it from the template; the index, glossary and any later page get it
    here, straight after ``<head>``, so that no page of the pack can run a script or fetch
    anything. Returns the pages changed.
    """
    changed = []
    for page in sorted(folder.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        if "Content-Security-Policy" in text:
            continue
        head = re.search(r"<head[^>]*>", text, flags=re.IGNORECASE)
        if head is None:
            raise RunError(f"{page}: no <head> to put the Content-Security-Policy in.")
        page.write_text(text[: head.end()] + CSP_META + text[head.end() :], encoding="utf-8")
        changed.append(page)
    return changed


def _run_jobs(
    jobs: list[Job],
    work: Path,
    notebook_dir: Path,
    workers: int,
    start_timeout: int,
    execution_timeout: int,
    kernel_dir: Path | None = None,
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
            kernel_dir,
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


def _date_argument(text: str) -> str:
    """argparse type for --today: the same check as :func:`parse_today`, as a usage error."""
    try:
        parse_today(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def main(argv: list[str] | None = None) -> int:
    """``daanalysis report ...``: exit 0 with the pack in place, 1 with one clear message.

    No traceback reaches the console: it goes to the run's ``run.log`` (kept under
    ``out/failed/``), and the console gets what failed, where, and what to do.
    """
    parser = argparse.ArgumentParser(prog="daanalysis", description="Domestic abuse quarterly pack")
    version = sys.modules["daanalysis"].__version__  # the package, imported before this module
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    sub = parser.add_subparsers(dest="command", required=True)
    verdict_command.add_parser(sub)
    rep = sub.add_parser("report", help="run every notebook and write outputs/<quarter>/")
    rep.add_argument("--quarter", default="latest", help="'latest', '2024/25 Q2' or '2024-25Q2'")
    rep.add_argument("--data", default="data/sample", type=Path, help="folder of the extract")
    rep.add_argument("--out", default="outputs", type=Path, help="folder for the packs")
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
    alerts.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "alerts":
        return alerts.run(args)
    if args.command == "verdict":
        return verdict_command.run(args)
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


__all__ = [
    "Context",
    "Job",
    "PackFailed",
    "RunError",
    "add_csp",
    "check_page_names",
    "cli",
    "ensure_kernel",
    "export_html",
    "kernel_config",
    "main",
    "make_kernel_dir",
    "markdown_text",
    "output_sanitizer",
    "parse_today",
    "plan_jobs",
    "prepare",
    "provenance",
    "remove_stale_kernel_dirs",
    "run_notebook",
    "run_report",
    "slug",
    "write_index",
    "write_kpis",
]

if __name__ == "__main__":
    sys.exit(main())
