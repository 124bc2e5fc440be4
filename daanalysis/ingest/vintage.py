"""The VINTAGE file (the one line describing the extract, shown on every page) and the extract
date, from config or VINTAGE.
"""

from __future__ import annotations

import re
import stat
from datetime import date
from pathlib import Path

import pandas as pd

from daanalysis.config import Config
from daanalysis.ingest.extract import DataContractError

_VINTAGE_DATES = (
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    (r"\d{1,2}/\d{1,2}/\d{4}", "%d/%m/%Y"),
)
# A label saying that the date after it is the extract's: "extract_date: 2021-02-20",
# "Extract date 20/02/2021", "extract taken 20/02/2021", "extracted on 2021-02-20".
_EXTRACT_LABEL = r"\bextract(?:_date|\s+date|\s+taken(?:\s+on)?|ed(?:\s+on)?)\s*[:=]?\s*"


def _vintage_dates(text: str) -> list[pd.Timestamp]:
    """Every date written in ``text``, in order."""
    found = []
    for pattern, fmt in _VINTAGE_DATES:
        for match in re.finditer(rf"(?<![\d/-])({pattern})(?![\d/-])", text):
            stamp = pd.to_datetime(match.group(1), format=fmt, errors="coerce")
            if not pd.isna(stamp):
                found.append((match.start(), stamp))
    return [stamp for _, stamp in sorted(found, key=lambda f: f[0])]


def extract_date(config: Config, vintage: str) -> tuple[pd.Timestamp, str]:
    """The day the extract was taken, and where that came from.

    ``extract_date`` in config; else a date labelled as the extract's in VINTAGE
    (``extract_date: 2021-02-20``, ``extract date 20/02/2021``, ``extracted on ...``,
    ``extract taken ...``); else the one date in VINTAGE when it holds only one; else today,
    since nothing can have happened after the run. A VINTAGE naming several dates without
    saying which is the extract's (the data's first day, a download date) is not guessed.
    """
    if config.extract_timestamp is not None:
        return config.extract_timestamp, "config extract_date"
    for pattern, fmt in _VINTAGE_DATES:
        found = re.search(_EXTRACT_LABEL + rf"({pattern})(?![\d/-])", vintage, re.IGNORECASE)
        if found:
            stamp = pd.to_datetime(found.group(1), format=fmt, errors="coerce")
            if not pd.isna(stamp):
                return stamp, "the data's vintage line"
    dates = _vintage_dates(vintage)
    if len(set(dates)) == 1:
        return dates[0], "the data's vintage line"
    why = (
        f"VINTAGE names {len(set(dates))} dates without saying which is the extract's; write "
        "'extract_date: yyyy-mm-dd' there to set it"
        if dates
        else "there is no extract_date in config or date in VINTAGE"
    )
    return pd.Timestamp(date.today()), f"today, as {why}"


VINTAGE_LIMIT = 200  # characters of the VINTAGE line shown on the pages


def read_vintage(data_dir: Path) -> tuple[str, list[str], str]:
    """The VINTAGE line (UTF-8, or Windows-1252 as Notepad may save it), notes about it, and the
    file's text, in which :func:`extract_date` looks for the extract date.

    It is printed on every page and the spreadsheet's cover, so it is read only from a regular
    file inside the data folder (a symlink leading out of it, a folder or a device is refused:
    the pack would publish whatever file it points at), must be text (no control characters),
    and is one line: the first non-blank line is used and a note says so when there are more
    (a description with an afterthought, or ``extract_date: ...`` on a line of its own, is no
    reason to stop a run; only the one line is shown), cut to ``VINTAGE_LIMIT`` characters with a
    note when longer. The extract date may be on any line.
    """
    path = data_dir / "VINTAGE"
    if not path.is_symlink() and not path.exists():
        return "", [], ""
    fix = "Make VINTAGE a plain text file in the data folder holding one line that describes "
    target = path.resolve()
    if not target.is_relative_to(data_dir.resolve()):
        raise DataContractError(
            f"{path}: VINTAGE is a link to {target}, outside the data folder, so it was not read "
            f"(the pack would print that file on every page). {fix}the extract."
        )
    if not target.exists() or not stat.S_ISREG(target.stat().st_mode):
        what = "a broken link" if not target.exists() else "a folder or device"
        raise DataContractError(
            f"{path}: VINTAGE is not a regular file ({what}). {fix}the extract."
        )
    with target.open("rb") as handle:
        data = handle.read(64 * 1024)  # enough for any one line; a huge file is not read whole
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "", [], ""
    bad = re.search(r"[\x00-\x08\x0b-\x1f\x7f]", lines[0])
    if bad:
        raise DataContractError(
            f"{path}, line 1: VINTAGE holds the control character {bad.group(0)!r}, so it is not "
            f"plain text. {fix}the extract, e.g. 'extract taken 05/10/2026'."
        )
    line, notes = lines[0].replace("\t", " "), []
    if len(lines) > 1:
        notes.append(
            f"VINTAGE has {len(lines)} lines; only the first is shown. Keep it to one line."
        )
    if len(line) > VINTAGE_LIMIT:
        line = line[: VINTAGE_LIMIT - 1].rstrip() + "\u2026"
        notes.append(
            f"VINTAGE is longer than {VINTAGE_LIMIT} characters; it is shown cut short. "
            "Keep it to a short description of the extract."
        )
    return line, notes, "\n".join(lines)
