"""The page a notebook publishes (:class:`Page`): tables, charts, warnings and headline
figures, shown in the notebook and, in a quarterly run, recorded as files for the run's
downloads (one spreadsheet of every table, a CSV per chart) and its front page (``kpis.csv``).

Every table a page publishes goes through small-number suppression
(:func:`daanalysis.present.disclosure.protect`, threshold from the config) unless a column is
declared a non-count or a rate: a new notebook is safe with no extra code. The page is passed
explicitly; nothing is kept in a global.

Also here: where the pack's pages and files are (:data:`INDEX_PAGE`, :data:`GLOSSARY_PAGE`,
:data:`DOWNLOADS`, :data:`EXECUTED`) and the links every page carries (:func:`nav_html`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from daanalysis.metrics.kpi import KPI
from daanalysis.present.disclosure import protect
from daanalysis.present.tables import Table, format_table, infer_kind
from daanalysis.present.words import (
    NOT_AVAILABLE,
    markdown_literal,
    rag_label,
    safe_name,
    value_label,
)

GLOSSARY_PAGE = "glossary.html"
# How the figures are worked out, in plain English (the pack's methods page).
ABOUT_PAGE = "about.html"
INDEX_PAGE = "index.html"
DOWNLOADS = "downloads"
# A run folder: what may be published at its top; what is for analysts only (the row ledger,
# officer lists, the executed notebooks with their unsuppressed check cells, the run log) below.
ANALYSTS = "analysts"
EXECUTED = f"{ANALYSTS}/notebooks"


def spreadsheet_href(quarter_slug: str) -> str:
    """Where a pack's spreadsheet lives, relative to its pages."""
    return f"{DOWNLOADS}/domestic-abuse-pack-{quarter_slug or 'tables'}.xlsx"


def nav_html(spreadsheet: str = "", index: bool = True) -> str:
    """Links every page carries: back to the index, the glossary, how the figures are worked
    out and the downloads."""
    links = [f'<a href="{INDEX_PAGE}">Back to the pack index</a>'] if index else []
    links.append(f'<a href="{GLOSSARY_PAGE}">Glossary</a>')
    links.append(f'<a href="{ABOUT_PAGE}">Methods</a>')
    if spreadsheet:
        links.append(f'<a href="{html.escape(spreadsheet)}">All tables (spreadsheet)</a>')
    return '<nav class="da-nav" aria-label="Pack">' + " ".join(links) + "</nav>"


def count_columns(
    frame: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    not_counts: Iterable[str] | bool = (),
    rates: Mapping[str, object] | None = None,
) -> list[str]:
    """The columns of ``frame`` that :meth:`Page.table` suppresses: every column shown as a
    whole count (:func:`daanalysis.present.tables.infer_kind`, or ``kinds``), except those
    declared non-counts (``not_counts``; ``True``: the table counts no people, such as actions
    or schools) and the rates of ``rates``. Counts the notebook already suppressed stay counts
    (``[c]`` is read as hidden, not as text)."""
    if not_counts is True:
        return []
    skip = set(not_counts or ()) | set(rates or {})
    kinds = dict(kinds or {})
    out = []
    for col in frame.columns:
        if col in skip:
            continue
        kind = kinds.get(col) or infer_kind(str(col), frame[col])
        if kind == "count":
            out.append(col)
    return out


class Page:
    """What one notebook publishes, shown in the notebook and recorded for the downloads.

    ``Page(ctx, kpi_path, title, record_dir=record_dir)``, both paths the notebook's papermill
    parameters: in a quarterly run the runner sets them, and the page writes its headline
    figures to ``kpi_path`` and each table and each chart's data, with a manifest, into the
    folder ``record_dir`` for the run's spreadsheet (:mod:`daanalysis.pack.downloads`). Opened
    alone in JupyterLab both are blank and nothing is written.
    """

    def __init__(self, ctx, kpi_path: str = "", title: str = "", record_dir: str = "") -> None:
        self.ctx = ctx
        self.title = title
        self.kpi_path = kpi_path
        self.folder = Path(record_dir) if record_dir else None
        # Recorded files are named after the folder (``<stem>.publish``): the notebook's stem.
        self.stem = self.folder.name.removesuffix(".publish") if self.folder else ""
        self.items: list[dict] = []
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def threshold(self) -> float:
        """The suppression threshold of the run's config (counts below it are hidden)."""
        return float(self.ctx.config.suppression_threshold)

    def record_table(self, table: Table) -> None:
        """Record a table for the spreadsheet (already suppressed: :meth:`table` does both)."""
        self._record(
            "table",
            table.title,
            _download_frame(table),
            kinds=dict(
                zip(table.headers, [table.kinds[c] for c in table.frame.columns], strict=True)
            ),
            source=table.source,
            notes=table.all_notes(),
            area=self.ctx.area,
        )

    @property
    def where(self) -> str:
        """Area and period for subtitles: ``Sampleborough, 2026/27 Q2 (Jul-Sep 2026)``."""
        return f"{self.ctx.area}, {self.ctx.label}"

    def _record(self, kind: str, title: str, frame: pd.DataFrame, short: str = "", **extra) -> str:
        number = len(self.items) + 1
        short = safe_name(short or title)[:24]
        name = f"{self.stem}_{kind}{number}_{short}" if self.stem else ""
        item = {"kind": kind, "title": title, "name": name, "page": self.title, **extra}
        self.items.append(item)
        if self.folder and self.folder.is_dir():
            frame.to_csv(self.folder / f"{name}.csv", index=False)
            (self.folder / "manifest.json").write_text(json.dumps(self.items, indent=1))
        return name

    def publishable(
        self,
        frame: pd.DataFrame,
        not_counts: Iterable[str] | bool = (),
        rates: Mapping[str, str | list[str]] | None = None,
        totals: bool | str | None = None,
        kinds: Mapping[str, str] | None = None,
        index: bool = False,
    ) -> pd.DataFrame:
        """``frame`` as :meth:`table` publishes it: counts below the threshold hidden, with
        secondary suppression where the table has totals (``totals``: ``None`` reads them from
        a ``Total`` row and column; ``True``, ``"row"`` or ``False`` as
        :func:`daanalysis.present.disclosure.suppress`), and each rate of ``rates`` (column ->
        the count or counts it comes from) hidden with its count."""
        data = frame.reset_index() if index else frame.reset_index(drop=True)
        data.columns = [str(c) for c in data.columns]
        counts = count_columns(data, kinds, not_counts, rates)
        return protect(data, counts, self.threshold, rates, totals)

    def table(
        self,
        frame: pd.DataFrame,
        title: str,
        source: str = "",
        notes: Iterable[str] = (),
        *,
        not_counts: Iterable[str] | bool = (),
        rates: Mapping[str, str | list[str]] | None = None,
        totals: bool | str | None = None,
        index: bool = False,
        **options,
    ) -> None:
        """Publish ``frame``: suppress its small counts (:meth:`publishable`), show it through
        the house formatter and record it for the spreadsheet. ``options`` (``kinds``,
        ``columns``, ``precision``) go to :func:`daanalysis.present.tables.format_table`.
        Returns nothing, so a table in a cell's last line is not shown twice."""
        from IPython.display import display

        published = self.publishable(
            frame, not_counts, rates, totals, options.get("kinds"), index=index
        )
        table = format_table(published, title, source, notes, **options)
        self.record_table(table)
        display(table)

    def kpis(self, rows: Iterable[KPI | dict], notebook: str = "") -> pd.DataFrame:
        """The page's headline figures as ``kpis.csv`` rows, written for the run (counts of
        people below the threshold hidden): :func:`daanalysis.present.notebook.write_kpis`."""
        from daanalysis.present.notebook import write_kpis

        return write_kpis(list(rows), self.kpi_path, self.ctx, notebook)

    def chart(self, fig, source: str = "", alt: str = "", data: pd.DataFrame | None = None) -> None:
        """Show ``fig`` as SVG with alt text and record its data (``fig.da_data``) as a CSV."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        from daanalysis.present.charts import svg_text

        alt = alt or getattr(fig, "da_alt", "") or "Chart"
        data = data if data is not None else getattr(fig, "da_data", None)
        title = getattr(fig, "da_title", "") or alt
        svg = svg_text(fig)
        plt.close(fig)
        name = ""
        if data is not None:
            name = self._record(
                "chart",
                title,
                data,
                short=getattr(fig, "da_name", ""),
                source=source,
                notes=[f"Data behind the chart. {alt.removeprefix('Chart: ')}"],
                area=self.ctx.area,
            )
        display(
            {"image/svg+xml": svg},
            raw=True,
            metadata={"image/svg+xml": {"alt": alt}},
        )
        if name:
            from IPython.display import Markdown

            # Named by the chart's title, so that a list of links read aloud says which chart.
            label = markdown_literal(title)
            display(
                Markdown(
                    f"[Download the data for this chart (CSV): {label}]({DOWNLOADS}/{name}.csv)"
                )
            )

    def warning(self, text: str | None) -> None:
        """A visible warning (for example, stale input data), when there is one."""
        if text:
            from IPython.display import HTML, display

            display(
                HTML(f'<p class="da-warning"><strong>Warning:</strong> {html.escape(text)}</p>')
            )


def _download_frame(table: Table) -> pd.DataFrame:
    """A table for the spreadsheet: readable headers, numbers kept as numbers, ``[c]`` kept."""
    out = {}
    for col, header in zip(table.frame.columns, table.headers, strict=True):
        kind = table.kinds[col]
        values = table.frame[col]
        if kind == "rag":
            out[header] = [rag_label(v) for v in values]
        elif kind == "text":
            out[header] = [
                NOT_AVAILABLE
                if v is None or (isinstance(v, float) and math.isnan(v))
                else value_label(v)
                if not isinstance(v, (pd.Timestamp, dt.date))
                else f"{v:%d/%m/%Y}"
                for v in values
            ]
        else:
            out[header] = [
                v if isinstance(v, str) else (NOT_AVAILABLE if pd.isna(v) else v) for v in values
            ]
    return pd.DataFrame(out)


__all__ = [
    "ABOUT_PAGE",
    "ANALYSTS",
    "DOWNLOADS",
    "EXECUTED",
    "GLOSSARY_PAGE",
    "INDEX_PAGE",
    "Page",
    "count_columns",
    "nav_html",
    "spreadsheet_href",
]
