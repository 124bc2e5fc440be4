"""PDF copies of the pack's pages, for a clerk to file: an A4 PDF of every HTML page, printed by
headless Chromium through the DevTools protocol (``playwright``, driving the system's Chromium:
its own browser download is not used), when the run is asked for them (``--pdf``).

Each PDF has the pack's title and "Page n of m" in its footer; a page whose widest table is
wider than A4 portrait is scaled down a little or printed landscape (:func:`layout`), so no
column is cut; forced page breaks that leave half
a page empty are relaxed at print time; and every link that Chromium writes as an absolute
``file://`` address (the run's temporary build folder, a server path) is rewritten relative to
the ``pdf/`` folder: to the page's own PDF beside it, or to ``../downloads/...`` and the other
files of the pack (``pypdf``). Both ``playwright`` and ``pypdf`` are the ``pdf`` extra
(``pip install "daanalysis[pdf]"``).
"""

from __future__ import annotations

import html
import logging
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("daanalysis.pack.report")

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
# The printable width of A4 portrait with the footer's margins, in CSS pixels (96 a inch):
# (210 - 2 * 12) mm: the width the pages are laid out at to measure their tables.
A4_PORTRAIT_WIDTH_PX = round((210 - 2 * 12) / 25.4 * 96)
# Smallest print scale (10.5 pt text stays above 8 pt), and how much wider landscape A4's
# printable area is than portrait's.
MIN_SCALE = 0.8
LANDSCAPE_GAIN = (297 - 24) / (210 - 24)
MARGINS = {"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"}
# Print-time adjustments (the pages' own print CSS stays as it is): keeping each Markdown cell
# with whatever follows it chains whole sections together, and a notebook cell or table kept in
# one piece moves whole to the next page: either leaves the first half empty. Tables split
# between rows instead (rows are still kept whole, and the header repeats). Charts are capped
# so that one always fits on a page with its heading. On the sample this took the action plan
# from 5 to 4 pages and the demand page from 12 to 11, with no page under half full but a
# page's last.
PRINT_CSS = """
@media print {
  .jp-MarkdownCell { break-after: auto !important; page-break-after: auto !important; }
  .jp-Cell, .jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output, .da-table-wrap, table {
    break-inside: auto !important; page-break-inside: auto !important;
  }
  img.da-chart, .jp-RenderedSVG img, .jp-RenderedImage img {
    max-height: 100mm !important; width: auto !important; max-width: 100% !important;
  }
}
"""


def page_css(landscape: bool) -> str:
    """The printed page's size and margins (room for the footer), portrait or landscape."""
    margins = " ".join(MARGINS[side] for side in ("top", "right", "bottom", "left"))
    return f"@page {{ size: A4 {'landscape' if landscape else 'portrait'}; margin: {margins}; }}"


class PdfError(RuntimeError):
    """PDFs were asked for and cannot be printed (no Chromium, no playwright)."""


def find_chromium() -> str | None:
    """Headless Chromium on PATH (``chromium``, ``chromium-browser`` or ``google-chrome``)."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def check_printer(chromium: str | None = None) -> str:
    """The Chromium to print with; :class:`PdfError` saying how to fix it when it or the
    ``pdf`` extra is missing. Called before a ``--pdf`` run starts, so that it stops at once."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise PdfError(
            "--pdf needs headless Chromium, and none was found on PATH (looked for "
            f"{', '.join(CHROMIUM_NAMES)}). Install it (Debian/Ubuntu: apt-get install "
            "chromium) or run without --pdf."
        )
    try:
        import playwright.sync_api  # noqa: F401
        import pypdf  # noqa: F401
    except ImportError as err:
        raise PdfError(
            f'--pdf needs the Python package {err.name}: pip install "daanalysis[pdf]" (it '
            "uses the Chromium installed on this machine; no browser is downloaded)."
        ) from None
    return chromium


def pdfs_if_asked(folder: Path, wanted: bool | None = False) -> list[Path]:
    """An A4 PDF of every page in ``folder/pdf/`` if ``wanted`` (the run's ``--pdf``), logged;
    else []."""
    if not wanted:
        return []
    pdfs = print_pdfs(folder)
    log.info("PDF of each page written to pdf/ in the pack folder (%d files)", len(pdfs))
    return pdfs


def footer_template(title: str) -> str:
    """Chromium's footer: the pack's title on the left, "Page n of m" on the right."""
    return (
        '<div style="font-size:8pt;font-family:Arial,sans-serif;color:#333;width:100%;'
        'margin:0 12mm;display:flex;justify-content:space-between">'
        f"<span>{html.escape(title)}</span>"
        '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span>'
        "</div>"
    )


def _overflow(page) -> float:
    """How many times wider than its column the widest table is, with the print styles
    applied (1.0 when every table fits)."""
    return float(
        page.evaluate(
            "() => Math.max(1, ...Array.from(document.querySelectorAll('table'),"
            " t => t.scrollWidth / Math.max(1, t.parentElement.clientWidth)))"
        )
    )


def layout(overflow: float) -> tuple[bool, float]:
    """``(landscape, scale)`` for a page whose widest table is ``overflow`` times its column:
    a table up to a quarter too wide is printed portrait, scaled down to fit (text stays at
    least 8 pt); a wider one landscape (about 1.45 times the width), scaled if it needs to."""
    if overflow <= 1.0:
        return False, 1.0
    if overflow <= 1 / MIN_SCALE:
        return False, round(1 / overflow - 0.005, 2)
    wider = overflow / LANDSCAPE_GAIN
    return True, 1.0 if wider <= 1 else max(MIN_SCALE, round(1 / wider - 0.005, 2))


def print_pdfs(folder: Path, chromium: str | None = None, title: str = "") -> list[Path]:
    """An A4 PDF of every HTML page of the pack in ``folder/pdf/``, links made relative.

    ``title`` (default: the front page's ``<title>``) goes in every page's footer.
    :class:`PdfError` without Chromium or the ``pdf`` extra.
    """
    from playwright.sync_api import sync_playwright

    chromium = check_printer(chromium)
    target = folder / "pdf"
    target.mkdir(exist_ok=True)
    pages = sorted(folder.glob("*.html"))
    written = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            # The pages forbid scripts (Content-Security-Policy); measuring is the printer's own.
            page = browser.new_page(
                viewport={"width": A4_PORTRAIT_WIDTH_PX, "height": 1000}, bypass_csp=True
            )
            for source in pages:
                page.goto(source.resolve().as_uri(), wait_until="load")
                page.emulate_media(media="print")
                page.add_style_tag(content=PRINT_CSS)
                footer = title or _pack_title(folder) or page.title()
                landscape, scale = layout(_overflow(page))
                # The pages' own "@page {size: A4}" would win over the option: set it here.
                page.add_style_tag(content=page_css(landscape))
                path = target / f"{source.stem}.pdf"
                page.pdf(
                    path=str(path),
                    format="A4",
                    landscape=landscape,
                    scale=scale,
                    margin=MARGINS,
                    print_background=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=footer_template(footer),
                )
                written.append(path)
        finally:
            browser.close()
    for path in written:
        relative_links(path, folder)
    return written


def _pack_title(folder: Path) -> str:
    index = folder / "index.html"
    if not index.exists():
        return ""
    import re

    found = re.search(r"<title>(.*?)</title>", index.read_text(encoding="utf-8"), re.S)
    return html.unescape(found.group(1)).strip() if found else ""


def relative_target(uri: str, folder: Path) -> str | None:
    """Where a link Chromium wrote as ``file://`` into ``folder`` should point from
    ``folder/pdf/``: a page's PDF beside it (``demand.pdf``, its ``#part`` dropped, since the
    PDF has no such anchor), any other file of the pack as ``../<path>``; None for a link
    elsewhere (a web address), which is kept."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    path = Path(unquote(parts.path))
    try:
        inside = path.relative_to(folder.resolve())
    except ValueError:
        # A file outside the pack (it cannot be followed from a filed copy): its name only.
        return path.name
    if inside.suffix == ".html" and len(inside.parts) == 1:
        return f"{inside.stem}.pdf"
    return "../" + inside.as_posix() + (f"#{parts.fragment}" if parts.fragment else "")


def relative_links(pdf: Path, folder: Path) -> int:
    """Rewrite the ``file://`` links of ``pdf`` relative to it (:func:`relative_target`);
    returns how many were rewritten."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(pdf))
    changed = 0
    for page in writer.pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            action = annot.get("/A")
            if action is None or "/URI" not in action:
                continue
            action = action.get_object()
            new = relative_target(str(action["/URI"]), folder)
            if new is not None:
                action[NameObject("/URI")] = TextStringObject(new)
                changed += 1
    with pdf.open("wb") as file:
        writer.write(file)
    return changed


__all__ = [
    "A4_PORTRAIT_WIDTH_PX",
    "PdfError",
    "check_printer",
    "find_chromium",
    "footer_template",
    "layout",
    "page_css",
    "pdfs_if_asked",
    "print_pdfs",
    "relative_links",
    "relative_target",
]
