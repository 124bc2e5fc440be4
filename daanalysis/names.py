"""File names made from data: the one rule that turns an area into the stem of its pages.

The runner names each page with it and the front page finds each page's link with it, so the two
can never disagree (they did: ``-`` in one place and ``_`` in the other lost the links of areas
such as "North East" or "St. Helens").
"""

from __future__ import annotations

import re


def slug(text: str) -> str:
    """``text`` in lower case with every run of other characters as one ``-``: ``st-helens``."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def page_stem(area: str, notebook: str) -> str:
    """The file stem of ``notebook``'s page for ``area`` (``north-east_staffing_gap``); the
    notebook's own name for a partnership page, which has no area."""
    return f"{slug(area)}_{notebook}" if area else notebook
