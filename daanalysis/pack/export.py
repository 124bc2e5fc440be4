"""HTML export: an executed notebook as a committee page, with code hidden and outputs made safe.

Every page carries a Content-Security-Policy that lets it run no script and fetch nothing; data
reach a page only through outputs, which are sanitised with the house allow-list. The front
page (``index.html``) is written by :func:`daanalysis.pack.site.write_front_page`.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from daanalysis.periods import quarter_label, quarter_slug

# Cells a reader never sees: the nbval reference checks and any cell an author marks "remove".
HIDDEN_TAGS = {"check", "remove"}


class ExportError(RuntimeError):
    """A page could not be written; the message says which and why."""


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


TABLE_ROLES = {
    "table": "table",
    "thead": "rowgroup",
    "tbody": "rowgroup",
    "tr": "row",
    "th": "columnheader",
    "td": "cell",
}


def _safe_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "id", "title", "scope", "colspan", "rowspan", "style", "lang"):
        return True
    # A scrolling table's box: reachable by keyboard and named for screen readers.
    # A table's own roles, written out so that a table a phone stacks into blocks still reads
    # as a table (see daanalysis.present.tables), and each cell's column heading (data-label)
    # that the stacked layout shows beside its value.
    if name == "role" and tag in TABLE_ROLES:
        return value == TABLE_ROLES[tag]
    if name == "data-label":
        return tag == "td"
    if name in ("tabindex", "role", "aria-label"):
        return tag == "div" and {"tabindex": "0", "role": "region"}.get(name, value) == value
    if tag == "style":
        return name == "type"
    if tag == "img":
        return name == "alt" or (name == "src" and value.startswith("data:image/"))
    if tag == "a" and name == "href":
        # Only links within the pack (a page, a download, an anchor): a page fetches nothing
        # and sends the reader nowhere outside, so a scheme (http:, javascript:, mailto:) or a
        # protocol-relative "//" in data-built output leaves the text without a link.
        return not _OUTSIDE.match(value)
    return False


_OUTSIDE = re.compile(r"\s*([a-z][a-z0-9+.-]*:|[/\\]{2})", re.IGNORECASE)
# An image that is not inlined as data: (Markdown "![x](http://...)" in an area name): the
# page shows its alternative text, never an image element pointing outside.
_OUTSIDE_IMG = re.compile(r"<img\b(?![^>]*\bsrc=\"data:image/)[^>]*>", re.IGNORECASE)


def markdown_text(text: str) -> str:
    """``text`` for a Markdown cell: HTML escaped and Markdown punctuation backslash-escaped, so
    that a data-derived string (an area name, the VINTAGE line) is shown, never interpreted."""
    import html

    from daanalysis.present.words import markdown_literal

    escaped = markdown_literal(html.escape(text, quote=False))
    # A bare URL would still be linked by the renderer; "&#58;" shows as ":" but is no URL.
    return escaped.replace("://", "&#58;//")


def _image_text(match: re.Match) -> str:
    alt = re.search(r'\balt="([^"]*)"', match.group(0))
    return f"[image: {alt.group(1)}]" if alt and alt.group(1) else ""


def output_sanitizer():
    """An nbconvert preprocessor escaping unsafe HTML in code-cell outputs (tables, Markdown).

    nbconvert's own ``SanitizeHTML`` with the house allow-list; SVG charts are kept, since the
    template shows them as ``<img>`` data URIs in which a script never runs. Markdown *outputs*
    (a sentence with an area name, a message quoting the data) carry no HTML of ours, so any
    HTML in them is data and is escaped whole: an area called ``<img src=x>`` is shown as that
    text, not as an empty image. They are rendered to HTML here, so that the allow-list
    applies to what their Markdown makes too: a link only within the pack (``[x](http://...)``
    or a bare URL in the data gives the text, no link) and an image only as a data: URI (an
    outside ``![x](...)`` gives its alternative text). Markdown cells are written by us and
    reviewed in git, so they are left as they are.
    """
    import html

    import bleach
    from bleach.css_sanitizer import CSSSanitizer
    from nbconvert.filters.markdown import markdown2html
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    class OutputSanitizer(SanitizeHTML):
        area = ""  # the page's area (papermill parameter): shown as written in any sentence

        def preprocess(self, nb, resources):
            params = nb.metadata.get("papermill", {}).get("parameters", {})
            self.area = str(params.get("area") or "")
            return super().preprocess(nb, resources)

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code":
                return cell, resources
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "text/markdown" in data:
                    source = html.escape(data.pop("text/markdown"), quote=False)
                    if self.area:  # the area's name as text, whatever Markdown it holds
                        escaped = html.escape(self.area, quote=False)
                        source = source.replace(escaped, markdown_text(self.area))
                    data.setdefault("text/html", markdown2html(source))
            return super().preprocess_cell(cell, resources, index)

        def sanitize_html_tags(self, html_str: str) -> str:
            clean = bleach.clean(
                html_str,
                tags=SAFE_TAGS,
                attributes=_safe_attribute,
                protocols={"http", "https", "mailto", "data"},
                strip=False,
                strip_comments=True,
                css_sanitizer=CSSSanitizer(),
            )
            return _OUTSIDE_IMG.sub(_image_text, clean)

    keys = {"metadata", "text/plain", "image/png", "image/jpeg", "image/svg+xml"}
    return OutputSanitizer(safe_output_keys=keys, enabled=True)


def page_exporter():
    """The nbconvert exporter of the pack's pages: code hidden (``exclude_input``), the house
    template, hidden cells removed and outputs sanitised. Build it once and pass it to
    :func:`export_html` for every page: each new exporter compiles its templates again."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="daanalysis",
        extra_template_basedirs=[str(Path(__file__).resolve().parents[1] / "templates")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # The notebook is checked against its schema once, after the last preprocessor, not
        # after each of the exporter's 15: about a fifth of a page's export (164 against 134
        # ms of processor time a page, 9 pages of a 3-area pack, 3 rounds each, issue 22). An
        # invalid notebook still stops the export; the page is the same.
        optimistic_validation=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=HIDDEN_TAGS, enabled=True), enabled=True
    )
    # Data reach the page through outputs (tables, Markdown): escape them (see OutputSanitizer).
    exporter.register_preprocessor(output_sanitizer(), enabled=True)
    exporter.register_preprocessor(narrow_charts, enabled=True)
    return exporter


def narrow_charts(nb: nbformat.NotebookNode, resources: dict) -> tuple:
    """An nbconvert preprocessor: a chart drawn at a laptop's and a phone's width (see
    :func:`daanalysis.present.charts.svg_text`) is split into the two, the laptop's as the
    output's SVG and the phone's in its metadata (``da_narrow``, base64), which the template
    offers to narrow screens through ``<picture>``."""
    from daanalysis.present.charts import split_narrow

    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if "image/svg+xml" not in data:
                continue
            wide, small = split_narrow(data["image/svg+xml"])
            if small:
                data["image/svg+xml"] = wide
                meta = output.setdefault("metadata", {}).setdefault("image/svg+xml", {})
                meta["da_narrow"] = small
    return nb, resources


def export_html(executed: Path, target: Path, title: str, subtitle: str, exporter=None) -> None:
    """HTML with code hidden (nbconvert ``exclude_input``), a header and a table of contents.

    ``exporter``: one from :func:`page_exporter`, reused across pages (a new one otherwise).
    """
    nb = nbformat.read(executed, as_version=4)
    title, nav = _page_frame(nb, title)
    _name_the_page(nb, title)
    _drop_repeated_title(nb, title)
    headings = [
        line.lstrip("#").strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    toc = "\n".join(f"- [{h}](#{h.replace(' ', '-')})" for h in headings)
    # After the title cell: the reader sees what, when and from which data before anything else.
    # The contents folded (a <details> the reader opens), so the page's answer is on the
    # first screen of a laptop or a phone.
    contents = (
        '<details class="da-contents"><summary>Contents of this page</summary>\n\n'
        f"{toc}\n\n</details>"
    )
    nb.cells.insert(
        1,
        nbformat.v4.new_markdown_cell(
            # One line, escaped: inside an HTML block no Markdown applies, and no blank line
            # in data-derived text (the data's vintage) can end the block early.
            f'<p class="da-subtitle">{html.escape(" ".join(subtitle.split()))}</p>\n\n{contents}',
            id="da-page-subtitle",
        ),
    )
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(nav, id="da-page-nav"))
    _steady_cell_ids(nb)
    _add_alt_text(nb)
    exporter = exporter or page_exporter()
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}, "csp": CSP})
    target.write_text(body, encoding="utf-8")


def _steady_cell_ids(nb: nbformat.NotebookNode) -> None:
    """A fixed id for papermill's parameters cell, as for the page's frame (above): nbformat
    gives a new cell a random id, which the HTML carries, so two runs on the same data gave
    pages that differed in those ids alone."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.id = "injected-parameters"


def _name_the_page(nb: nbformat.NotebookNode, title: str) -> None:
    """The notebook's own heading (``# Staffing gap``) becomes the page's full title, with the
    area and the quarter: a page printed or forwarded on its own still says whose and when."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    lines[i] = f"# {markdown_text(title)}"
                    cell.source = "\n".join(lines)
                    return
            return  # the first Markdown cell has no title: leave the notebook's layout alone


def _drop_repeated_title(nb: nbformat.NotebookNode, title: str) -> None:
    """Leave out an output line that only repeats the page's title (a notebook's bold
    ``**Sampleborough, 2026/27 Q2 (Jul-Sep 2026)**`` under a heading that already says it): on a
    phone it costs the first screen a line and tells the reader nothing new. A line that adds
    anything (the action plan's review dates) is kept."""
    said = " ".join(title.split())
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if isinstance(text, list):
                text = "".join(text)
            line = " ".join(str(text).strip().strip("*_").split()) if text else ""
            whole = line and "\n" not in str(text).strip()
            if whole and (said == line or said.endswith((": " + line, ", " + line))):
                continue
            kept.append(output)
        cell["outputs"] = kept


def _page_frame(nb: nbformat.NotebookNode, title: str) -> tuple[str, str]:
    """The page title with area and quarter, and the links every page carries (index, glossary,
    spreadsheet), from the parameters papermill recorded."""
    from daanalysis.periods import parse_quarter
    from daanalysis.present.page import nav_html, spreadsheet_href

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
            raise ExportError(f"{page}: no <head> to put the Content-Security-Policy in.")
        page.write_text(text[: head.end()] + CSP_META + text[head.end() :], encoding="utf-8")
        changed.append(page)
    return changed


__all__ = [
    "CSP",
    "CSP_META",
    "HIDDEN_TAGS",
    "SAFE_TAGS",
    "ExportError",
    "add_csp",
    "export_html",
    "markdown_text",
    "narrow_charts",
    "output_sanitizer",
    "page_exporter",
]
