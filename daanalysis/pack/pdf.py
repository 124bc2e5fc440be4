"""PDF copies of the pack's pages: an A4 PDF of every HTML page through headless Chromium
(the pages' print CSS applies), when the run is asked for them (``DAANALYSIS_PDF=1`` or
``--pdf``)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger("daanalysis.pack.report")


def pdf_wanted() -> bool:
    """Whether the run was asked for PDFs (``DAANALYSIS_PDF=1``)."""
    return os.environ.get("DAANALYSIS_PDF", "").strip().lower() not in {"", "0", "no", "false"}


def pdfs_if_asked(folder: Path, wanted: bool | None = None) -> list[Path]:
    """An A4 PDF of every page in ``folder/pdf/`` if ``wanted`` (``None``: :func:`pdf_wanted`),
    logged; else []."""
    if not (pdf_wanted() if wanted is None else wanted):
        return []
    pdfs = print_pdfs(folder)
    if pdfs:
        log.info("PDF of each page written to pdf/ in the pack folder (%d files)", len(pdfs))
    return pdfs


def find_chromium() -> str | None:
    """Headless Chromium on PATH (``chromium``, ``chromium-browser`` or ``google-chrome``)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
]


def print_pdf(page: Path, target: Path, chromium: str, timeout: int = 120) -> Path:
    """One HTML page to an A4 PDF with headless Chromium (the page's print CSS applies)."""
    with tempfile.TemporaryDirectory(prefix="daanalysis-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={target}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    return target


def print_pdfs(folder: Path, chromium: str | None = None) -> list[Path]:
    """An A4 PDF beside every HTML page of the pack in ``folder/pdf/``; [] without Chromium."""
    chromium = chromium or find_chromium()
    if chromium is None:
        log.warning("PDFs not written: headless Chromium was not found on PATH")
        return []
    target = folder / "pdf"
    target.mkdir(exist_ok=True)
    return [print_pdf(p, target / f"{p.stem}.pdf", chromium) for p in sorted(folder.glob("*.html"))]


__all__ = [
    "CHROMIUM_FLAGS",
    "find_chromium",
    "pdf_wanted",
    "pdfs_if_asked",
    "print_pdf",
    "print_pdfs",
]
