"""What one data folder loads to: its tables, the row ledger and the config (:class:`Extract`).

Kept apart from :mod:`daanalysis.ingest.load` (which reads and checks the files, with pandera)
so that a notebook handed the run's prepared data can use them without importing the loading
machinery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from daanalysis.config import Config


CONTRACT_DOC = "docs/data-contract.md"  # where every error message sends the reader


class DataContractError(ValueError):
    """An input file does not meet the data contract; the message says where and how to fix it."""


@dataclass
class Extract:
    """Everything loaded from one data folder: tables, row ledger and config."""

    tables: dict[str, pd.DataFrame]
    ledger: pd.DataFrame
    config: Config
    data_dir: Path
    basis: str  # "records" (referrals.csv) or "aggregates" (returns.csv)
    vintage: str = ""
    notes: list[str] = field(default_factory=list)
    # Months whose record-level referrals are implausibly few against the area's own series
    # (probably an export that lost part of them), by area as ``yyyy-mm`` texts: the panel
    # shows their referral counts as gaps, never as the low figure.
    gap_months: dict[str, list[str]] = field(default_factory=dict)
    # The data folder's files that were not read, or read under another name (also in ``notes``):
    # said in the run's output too, never passed over.
    files: list[str] = field(default_factory=list)
    # For one area's part of a larger extract (the pack's prepared file per area): the areas of
    # the whole extract it was cut from, which the part's own tables no longer show. Empty for a
    # whole extract.
    cut_from: tuple[str, ...] = ()
    # The notes (all also in ``notes``, in its order) that concern one area only, by area: a
    # level shift or a copied quarter in its series, a month exported in part, population
    # estimates that end early. An area's page shows its own and the extract's general ones.
    area_notes: dict[str, list[str]] = field(default_factory=dict)
    # Areas whose own rows of a file broke max_excluded_share, with the error: reporting such an
    # area stops with it (daanalysis.selection.choose_areas), and only that area.
    area_faults: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def areas(self) -> list[str]:
        source = self.tables["referrals" if self.basis == "records" else "returns"]
        return sorted(source["area"].dropna().unique().tolist())

    def notes_for(self, area: str = "") -> list[str]:
        """The notes an ``area``'s page shows: every note but those about other areas only (all
        of them when ``area`` is blank: the whole extract)."""
        if not area:
            return list(self.notes)
        others = {n for a, texts in self.area_notes.items() if a != area for n in texts}
        mine = set(self.area_notes.get(area, ()))
        return [n for n in self.notes if n in mine or n not in others]


def add_note(
    notes: list[str], area_notes: dict[str, list[str]] | None, area: str, text: str
) -> None:
    """Add ``text`` to the extract's ``notes``, and to ``area``'s own notes (see
    :attr:`Extract.area_notes`) when they are kept."""
    notes.append(text)
    if area_notes is not None:
        area_notes.setdefault(area, []).append(text)


_QUOTED = re.compile(r"""(?<![A-Za-z])(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""", re.DOTALL)


def reason_category(reason: str) -> str:
    """A reason without the values and row numbers in it, for counting and for committee pages.

    ``referral_date: '2030-01-01' is after ...`` becomes ``referral_date: [value] is after ...``;
    several reasons for one row become the first one.
    """
    # Values are quoted by repr(), which escapes a quote of the enclosing kind with a backslash
    # (a label with both kinds: 'Jane "JD" O\'Neil'); they are replaced before the split, since
    # a value may hold "; ". An apostrophe inside a word (extract's) opens no value.
    text = _QUOTED.sub("[value]", reason).split("; ")[0]
    # A quote left open (a value not written by repr()): nothing after it is shown.
    text = re.sub(r"(?<![A-Za-z])['\"].*", "[value]", text)
    text = re.sub(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}(-\d{2})?\b", "[date]", text)
    text = re.sub(r"(?<![\w.])[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?(?![\w])", "[n]", text)
    return text.replace("of row [n]", "of an earlier row")


__all__ = ["DataContractError", "Extract", "add_note", "reason_category"]
