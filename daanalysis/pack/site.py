"""The pack's own pages: the front page (``index.html``: main points, headline figures by page,
the pages and the downloads) and the glossary (``glossary.html``), rendered from the Jinja2
templates in ``daanalysis/templates/site/`` (the engine nbconvert renders the notebook pages
with), every value escaped by the template engine.

The words come from :mod:`daanalysis.present` (:func:`~daanalysis.present.main_points.main_points`,
:func:`~daanalysis.present.main_points.headline_sections`, the glossary); this module only puts
them on the page and writes the downloads it links to (:mod:`daanalysis.pack.downloads`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from daanalysis.config import response_window
from daanalysis.metrics.kpi import KPI_COLUMNS
from daanalysis.pack.downloads import PreparedPage, build_downloads, sheet_cover
from daanalysis.pack.export import CSP
from daanalysis.periods import parse_quarter
from daanalysis.periods import quarter_slug as slug_of
from daanalysis.present.main_points import headline_sections, main_points, main_points_html
from daanalysis.present.notebook import PARTNERSHIP_AREA
from daanalysis.present.page import (
    ABOUT_PAGE,
    DOWNLOADS,
    EXECUTED,
    GLOSSARY_PAGE,
    INDEX_PAGE,
    nav_html,
    spreadsheet_href,
)
from daanalysis.present.sources import input_warnings
from daanalysis.present.words import GLOSSARY, quarter_text, safe_name
from daanalysis.safe_csv import read_csv_back

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PAGE_CSS = (TEMPLATES / "daanalysis" / "pack.css").read_text(encoding="utf-8")


@cache
def environment() -> jinja2.Environment:
    """The templates of the pack's own pages; every value is escaped unless marked safe."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "site"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _csp_meta() -> Markup:
    """The pages' Content-Security-Policy (no script, no outside request), as a meta tag."""
    return Markup(f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">')


def render(template: str, **values) -> str:
    """``template`` (a file in ``templates/site/``) filled with ``values`` and the frame every
    page shares (the house CSS, the Content-Security-Policy)."""
    page = environment().get_template(template)
    return page.render(csp_meta=_csp_meta(), css=Markup(PAGE_CSS), **values)


def write_glossary(folder: Path, heading: str, spreadsheet: str = "") -> Path:
    """``glossary.html``: the words used in the pack, linked from every page."""
    terms = [
        {"anchor": safe_name(term), "term": term, "text": text}
        for term, text in sorted(GLOSSARY.items(), key=lambda kv: kv[0].lower())
    ]
    path = folder / GLOSSARY_PAGE
    path.write_text(
        render(
            "glossary.html.j2",
            title=f"Glossary: {heading}",
            heading=heading,
            nav=Markup(nav_html(spreadsheet)),
            terms=terms,
        ),
        encoding="utf-8",
    )
    return path


def write_about(folder: Path, heading: str, config=None, spreadsheet: str = "") -> Path:
    """``about.html``: how the figures are worked out, in plain English, with this pack's
    settings (``config``; the defaults when None), linked from every page."""
    from daanalysis.config import Config

    config = config if config is not None else Config()
    path = folder / ABOUT_PAGE
    path.write_text(
        render(
            "about.html.j2",
            title=f"How these figures are worked out: {heading}",
            heading=heading,
            nav=Markup(nav_html(spreadsheet)),
            glossary=GLOSSARY_PAGE,
            safe=f"{config.safe_caseload_per_fte:g}",
            band=f"{config.safe_band_lower:g} to {config.safe_band_upper:g}",
            cost=f"£{config.cost_per_fte:,.0f}",
            bid=f"£{config.growth_bid:,.0f}",
            growth=f"{100 * config.demand_growth_annual:g}%",
            window=response_window(config.response_working_days),
            target=f"{100 * config.response_target_share:g}%",
            threshold=f"{config.suppression_threshold:g}",
        ),
        encoding="utf-8",
    )
    return path


def upgrade_kpis(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Last quarter's ``kpis.csv`` in this version's columns. A file written before kpis had a
    ``key`` gets the key of the same measure this quarter (matched on area and label, once, on
    reading an old file) and blank intervals: its figures still compare, its intervals (in its
    ``unit`` text) are not read."""
    previous = previous.copy()
    if "key" not in previous:
        labels = zip(current["area"], current["kpi"], strict=True)
        keys = dict(zip(labels, current["key"], strict=True))
        previous["key"] = [
            keys.get((a, k), "") for a, k in zip(previous["area"], previous["kpi"], strict=True)
        ]
    for col in KPI_COLUMNS:
        if col not in previous:
            previous[col] = ""
    return previous[KPI_COLUMNS]


def previous_kpis(folder: Path, quarter_slug: str) -> pd.DataFrame | None:
    """Last quarter's ``kpis.csv`` beside this pack (``out/<previous quarter>/``), if any."""
    try:
        before = slug_of(parse_quarter(quarter_slug) - 1)
    except (ValueError, TypeError):
        return None
    path = folder.parent / before / "kpis.csv"
    return read_csv_back(path, dtype=str, keep_default_na=False) if path.exists() else None


def fired_alerts(folder: Path) -> list[str]:
    """The staffing alerts that fired (``alerts.csv`` in the run folder), one line each
    (``Area: message``), for the top of the front page."""
    path = folder / "alerts.csv"
    if not path.exists():
        return []
    alerts = read_csv_back(path, keep_default_na=False)
    from daanalysis.metrics.alerts import lines

    return lines(alerts)


def _chart_titles(folder: Path) -> dict[str, str]:
    """Each chart's title as its page shows it, by the name of its CSV (from the pages'
    manifests, which :func:`~daanalysis.pack.downloads.build_downloads` removes: read first)."""
    charts: dict[str, str] = {}
    for manifest in sorted(folder.glob(f"{EXECUTED}/*.publish/manifest.json")):
        for item in json.loads(manifest.read_text(encoding="utf-8")):
            if item.get("kind") == "chart" and item.get("name") and item.get("title"):
                charts[item["name"]] = str(item["title"])
    return charts


def _chart_downloads(
    folder: Path, pages: list[tuple[str, str]], charts: dict[str, str]
) -> list[tuple[str, str]]:
    """(href, label) of each chart's CSV in ``downloads/``, labelled by page and the chart's
    title (``charts``: :func:`_chart_titles`), not by its file name."""
    titles = {Path(h).stem: t for h, t in pages}

    def chart_label(path: Path) -> str:
        stem, _, rest = path.stem.partition("_chart")
        what = charts.get(path.stem) or rest.split("_", 1)[-1].replace("-", " ") + " chart"
        return f"{titles.get(stem, stem)}: {what}"

    return [
        (f"{DOWNLOADS}/{c.name}", chart_label(c))
        for c in sorted((folder / DOWNLOADS).glob("*_chart*.csv"))
    ]


def write_front_page(
    folder: Path,
    pages: list[tuple[str, str]],
    heading: str,
    subtitle: str,
    kpis: pd.DataFrame | None = None,
    config=None,
    extract=None,
    left_out: Iterable[str] = (),
    pdf: bool = False,
    prepared: Mapping[str, PreparedPage] | None = None,
) -> dict[str, Path | list[Path] | None]:
    """The pack's front page and what it links to.

    Writes ``downloads/`` (the spreadsheet of every published table and chart's data, a CSV per
    chart), ``glossary.html`` and ``index.html`` (main points first, then the headline figures,
    the pages and the downloads; with links to the PDFs that
    :func:`daanalysis.pack.pdf.pdfs_if_asked` prints at the end of the run when ``pdf``, the
    run's ``--pdf``, is set). ``left_out``: a line for each page the run did not produce
    (its input missing), listed with the pages. ``prepared``: the pages' worksheets already
    made ready, as the run exported them (:func:`daanalysis.pack.downloads.prepare_page`).
    Returns the paths written.
    """
    kpis = kpis if kpis is not None else pd.DataFrame(columns=KPI_COLUMNS)
    for col in KPI_COLUMNS:  # a hand-made or older frame: the columns it lacks, blank
        if col not in kpis:
            kpis = kpis.assign(**{col: ""})
    slug = str(kpis["quarter"].dropna().iloc[0]) if len(kpis) else ""
    before = previous_kpis(folder, slug) if slug else None
    if before is not None:
        before = upgrade_kpis(before, kpis.fillna(""))
    href = spreadsheet_href(slug)
    chart_titles = _chart_titles(folder)
    cover = sheet_cover(config, parse_quarter(slug) if slug else None, dt.date.today())
    spreadsheet = build_downloads(folder, heading, kpis, [subtitle], cover, prepared)
    if spreadsheet is not None and spreadsheet != folder / href:
        spreadsheet.rename(folder / href)
        spreadsheet = folder / href
    has_sheet = spreadsheet is not None
    write_glossary(folder, heading, href if has_sheet else "")
    write_about(folder, heading, config, href if has_sheet else "")
    warnings_by_area: dict[str, list[str]] = {}
    areas = [a for a in kpis["area"].unique() if a != PARTNERSHIP_AREA] or [PARTNERSHIP_AREA]
    for _, row in kpis[kpis["unit"] == "warning"].iterrows():
        for area in areas if row["area"] == PARTNERSHIP_AREA else [row["area"]]:
            warnings_by_area.setdefault(area, []).append(f"Warning: {row['value']}")
    if extract is not None and slug:
        # Stale inputs, straight from the extract the run used (police, population, staffing,
        # action plan), for each area.
        quarter = parse_quarter(slug)
        for area in areas:
            for text in input_warnings(
                extract, "" if area == PARTNERSHIP_AREA else area, quarter
            ).values():
                line = f"Warning: {text}"
                if line not in warnings_by_area.get(area, []):
                    warnings_by_area.setdefault(area, []).append(line)
    shown = kpis[kpis["unit"] != "warning"]
    named = [a for a in dict.fromkeys(kpis["area"]) if a and a != PARTNERSHIP_AREA]
    if named:  # the page title carries the area(s) as well as the quarter
        heading += ", " + (" and ".join(named) if len(named) <= 3 else f"{len(named)} areas")
    points = main_points(
        shown,
        before,
        band=(config.safe_band_lower, config.safe_band_upper) if config is not None else None,
        response_target=100 * config.response_target_share if config is not None else None,
        warnings_by_area=warnings_by_area,
        growth=config.demand_growth_annual if config is not None else None,
        window=response_window(config.response_working_days) if config is not None else None,
    )
    period = quarter_text(parse_quarter(slug)) if slug else ""
    pdfs = []
    if pdf:
        pdfs = [(f"pdf/{Path(h).stem}.pdf", t) for h, t in [(INDEX_PAGE, "this page"), *pages]]
    previous_note = (
        "Changes are against last quarter's pack."
        if before is not None
        else "No pack for last quarter was found beside this one, so changes are not shown."
    )
    index = folder / INDEX_PAGE
    index.write_text(
        render(
            "index.html.j2",
            heading=heading,
            subtitle=subtitle,
            nav=Markup(nav_html(href if has_sheet else "", index=False)),
            alerts=fired_alerts(folder),
            main_points=Markup(main_points_html(points)),
            previous_note=previous_note,
            glossary=GLOSSARY_PAGE,
            about=ABOUT_PAGE,
            headline=Markup(headline_sections(shown, before, pages, period) if len(shown) else ""),
            pages=list(pages),
            left_out=list(left_out),
            spreadsheet=href if has_sheet else "",
            charts=_chart_downloads(folder, pages, chart_titles),
            pdfs=pdfs,
        ),
        encoding="utf-8",
    )
    return {"index": index, "spreadsheet": spreadsheet}


__all__ = [
    "PAGE_CSS",
    "environment",
    "fired_alerts",
    "previous_kpis",
    "render",
    "upgrade_kpis",
    "write_about",
    "write_front_page",
    "write_glossary",
]
