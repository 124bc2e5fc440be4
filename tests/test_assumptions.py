"""The assumptions log (docs/assumptions.md) is generated from the settings and kept in step."""

from pathlib import Path

import pytest

from daanalysis import assumptions
from daanalysis.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]


def test_the_log_is_what_the_code_generates():
    assert (ROOT / assumptions.DOC).read_text(encoding="utf-8") == assumptions.markdown(), (
        f"{assumptions.DOC} is out of date: run `{assumptions.REGENERATE}` and commit it"
    )


def test_every_setting_has_an_owner_and_a_kind(monkeypatch):
    assert set(assumptions.OWNERS) == set(DEFAULTS)
    assert {kind for kind, _ in assumptions.OWNERS.values()} <= set(assumptions.KINDS)
    # A new setting without an owner stops the log being written.
    monkeypatch.setitem(DEFAULTS, "new_threshold", (1.0, "count", "somewhere"))
    with pytest.raises(ValueError, match="new_threshold"):
        assumptions.markdown()


def test_every_setting_is_on_the_page_with_its_source():
    text = (ROOT / assumptions.DOC).read_text(encoding="utf-8")
    for key, (_, _, source) in DEFAULTS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{key}` |"))
        assert source.replace("|", "\\|") in row
