"""docs/data-contract.md is generated from schema.py, and the two stay in step."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pandera.pandas as pa
import pytest

from daanalysis.ingest import clean, contract, schema
from daanalysis.ingest.folder import find_file
from daanalysis.ingest.schema import TABLES
from daanalysis.metrics import partnership
from tests.conftest import ROOT

DOC = ROOT / contract.DOC


def _section(text: str, name: str) -> str:
    """The part of the page from ``## `name``` to the next heading."""
    start = text.index(f"## `{name}`\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_committed_page_is_the_generated_page():
    committed = DOC.read_text(encoding="utf-8")
    assert committed == contract.markdown(), (
        f"{contract.DOC} is not what schema.py generates; regenerate it with "
        f"`{contract.REGENERATE}` (or `python -m daanalysis.ingest.contract --out {contract.DOC}`) "
        "and commit the result"
    )


def test_page_says_how_to_regenerate_it():
    text = " ".join(contract.markdown().split())  # the page wraps its lines
    assert contract.REGENERATE in text
    assert f"python -m daanalysis.ingest.contract --out {contract.DOC}" in text


def test_every_table_and_column_is_on_the_page():
    text = DOC.read_text(encoding="utf-8")
    for name, spec in TABLES.items():
        section = _section(text, name)
        assert spec.description in section, name
        if spec.notes:
            assert spec.notes in section, name
        for column, meaning in spec.columns.items():
            row = re.search(rf"^\| `{re.escape(column)}` \|.*\|$", section, re.MULTILINE)
            assert row, f"{name}.{column}"
            assert meaning in row.group(0), f"{name}.{column}"
            required = row.group(0).split(" | ")[2]
            if column in spec.optional:
                assert required.startswith("no"), f"{name}.{column}"
                if column in spec.gaps:
                    assert required == "no; blank: not collected", f"{name}.{column}"
            elif column in spec.gaps:
                assert required == "yes; blank: not collected", f"{name}.{column}"
            else:
                never = column in spec.not_null
                assert required == ("yes, never blank" if never else "yes, may be blank"), column
        for check in spec.checks:
            assert contract._mark_columns(str(check.name), spec) in section, check.name


def test_the_generator_reads_schema_py(monkeypatch):
    """Changes to a TableSpec reach the page: the step test above can fail."""
    before = contract.markdown()
    spec = TABLES["police"]
    changed = dataclasses.replace(
        spec,
        description="Police-recorded domestic abuse, as changed by a test.",
        required={**spec.required, "da_arrests": "Arrests for domestic abuse, added by a test."},
        numbers=(*spec.numbers, "da_arrests"),
        not_null=(*spec.not_null, "da_arrests"),
        column_checks={**spec.column_checks, "da_arrests": (pa.Check.le(500),)},
        checks=(
            pa.Check(lambda df: df["da_arrests"] <= df["da_crimes"], name="da_arrests not above "
                     "da_crimes"),
        ),
        notes="A note added by a test.",
    )  # fmt: skip
    monkeypatch.setitem(schema.TABLES, "police", changed)
    after = contract.markdown()
    assert after != before
    section = _section(after, "police")
    assert "Police-recorded domestic abuse, as changed by a test." in section
    assert (
        "| `da_arrests` | whole number | yes, never blank | 500 or less | Arrests for domestic "
        "abuse, added by a test. |" in section
    )
    assert "- `da_arrests` not above `da_crimes`." in section
    assert "- `police`: `da_arrests` not above `da_crimes`." in after
    assert section.rstrip().endswith("A note added by a test.")
    assert DOC.read_text(encoding="utf-8") != after


def test_a_new_table_gets_its_own_section(monkeypatch):
    spec = schema.TableSpec(
        name="refuges",
        description="Refuge bed-nights, added by a test.",
        required={"month": "Month.", "bed_nights": "Bed-nights used."},
        months=("month",),
        numbers=("bed_nights",),
        key=("month",),
    )
    monkeypatch.setitem(schema.TABLES, "refuges", spec)
    text = contract.markdown()
    section = _section(text, "refuges")
    assert "`refuges.csv` or `refuges.xlsx`" in section
    assert "| `bed_nights` | whole number | yes, may be blank |" in section
    assert "[`refuges`](#refuges)" in text


def test_file_names_are_what_find_file_accepts(tmp_path):
    for suffix in (*contract.SUFFIXES, ".xls", ".tsv", ".txt", ".ods"):
        folder = tmp_path / suffix.strip(".")
        folder.mkdir()
        (folder / f"police{suffix}").write_text("month\n")
        found = find_file(folder, "police")
        assert (found is not None) == (suffix in contract.SUFFIXES), suffix


def test_bases_and_partnership_tables_match_the_code():
    assert set(contract.BASIS) == {n for n, s in TABLES.items() if s.essential}
    assert set(contract.PARTNERSHIP) == set(partnership.OWN_TABLES)


def test_documented_values_are_the_ones_the_schema_accepts():
    events = TABLES["events"]
    allowed = contract.VALUES["events", "kind"]
    frame = pd.DataFrame(
        {
            "name": [f"e{i}" for i in range(len(allowed))],
            "start_date": pd.Timestamp("2024-01-01"),
            "end_date": pd.Timestamp("2024-02-01"),
            "kind": list(allowed),
            "area": pd.NA,
        }
    )
    events.schema().validate(frame)
    with pytest.raises(pa.errors.SchemaError):
        events.schema().validate(frame.assign(kind="permanent"))
    assert contract.VALUES["prevention", "phase"] == clean.SCHOOL_PHASES
    phases = clean.normalise_phase(pd.Series([*clean.SCHOOL_PHASES, "Nursery"]))
    assert phases.tolist() == [*clean.SCHOOL_PHASES, "other"]


def test_every_column_check_is_put_in_words():
    for spec in TABLES.values():
        for column, checks in spec.column_checks.items():
            for check in checks:
                if (spec.name, column) in contract.VALUES and str(check.name) == "isin":
                    continue  # put in words by the values listed ("one of `a`, `b`")
                text = contract._check_text(check)
                assert "_" not in text and "(" not in text, f"{spec.name}.{column}: {text}"
