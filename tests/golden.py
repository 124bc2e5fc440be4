"""Stored reference results ("golden" outputs) for the loader and the panel, so that a refactor
cannot silently change what they give.

Each reference is a digest of a frame (its shape, column names, dtypes and the SHA-256 of its CSV
text) or a short text (a note, an error message), stored by name in ``tests/golden/*.json``. The
stored values were computed on 07/12/2026 from the code of that day, whose results equalled those
of version 1 (a frozen copy of version 1's loader and panel, ``benchmarks/load_v1.py`` and
``panel_v1.py``, was compared with them in the same tests until then, and deleted once the
references were stored).

A change that is meant to change a result is recorded again, deliberately, with
``DAANALYSIS_RECORD_GOLDEN=1 python -m pytest tests/test_records_path.py tests/test_panel_speed.py``
(the tests then write what they get instead of comparing), and the diff of the JSON file shows
which frames changed; say why in the commit message.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from daanalysis.ingest.extract import Extract

FOLDER = Path(__file__).resolve().parent / "golden"
RECORD = os.environ.get("DAANALYSIS_RECORD_GOLDEN", "") == "1"


def digest(frame: pd.DataFrame) -> dict:
    """A frame's shape, column names, dtypes and the SHA-256 of its CSV text (index included,
    floats at full precision, missing values as ``<NA>``)."""
    text = frame.to_csv(lineterminator="\n", na_rep="<NA>", float_format="%.17g")
    return {
        "shape": list(frame.shape),
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }


def extract_digest(extract: Extract) -> dict:
    """Digests of every table and the ledger of an :class:`~daanalysis.ingest.extract.Extract`,
    with its notes, basis and VINTAGE line as they are."""
    return {
        "tables": {name: digest(frame) for name, frame in extract.tables.items()},
        "ledger": digest(extract.ledger),
        "notes": list(extract.notes),
        "basis": extract.basis,
        "vintage": extract.vintage,
    }


def check(file: str, name: str, value: object) -> None:
    """Assert that ``value`` (JSON-able) equals the reference ``name`` stored in
    ``tests/golden/<file>.json``; when recording, store it instead (a second, different value
    for one name in one recording fails)."""
    path = FOLDER / f"{file}.json"
    stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    value = json.loads(json.dumps(value))  # tuples as lists, as stored
    if RECORD:
        recorded = getattr(check, "recorded", set())
        check.recorded = recorded  # type: ignore[attr-defined]
        if (file, name) in recorded:
            assert stored[name] == value, f"{name}: two different results in one recording"
        recorded.add((file, name))
        stored[name] = value
        FOLDER.mkdir(exist_ok=True)
        path.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert name in stored, f"no reference {name!r} in {path}: record it (see tests/golden.py)"
    assert value == stored[name], f"{name}: {_where(value, stored[name])} differs from the stored"


def _where(got: object, stored: object, path: str = "") -> str:
    """The first place (``tables/referrals/sha256``) where two JSON values differ."""
    if isinstance(got, dict) and isinstance(stored, dict):
        for key in sorted(set(got) | set(stored)):
            if got.get(key) != stored.get(key):
                return _where(got.get(key), stored.get(key), f"{path}/{key}")
    if isinstance(got, list) and isinstance(stored, list) and len(got) == len(stored):
        for i, (a, b) in enumerate(zip(got, stored, strict=True)):
            if a != b:
                return _where(a, b, f"{path}[{i}]")
    return f"{path or 'the value'} ({got!r} against {stored!r})"
