"""The generated documents (the data contract, the assumptions log) share one command:
``--out`` writes the document, ``--check`` exits 1 on a stale copy and names the command that
regenerates it."""

import pytest

from daanalysis import assumptions
from daanalysis.ingest import contract


@pytest.mark.parametrize("module", [contract, assumptions], ids=["contract", "assumptions"])
def test_check_option_names_the_command(module, tmp_path, capsys):
    doc = tmp_path / "doc.md"
    assert module.main(["--out", str(doc)]) == 0
    assert doc.read_text(encoding="utf-8") == module.markdown()
    assert module.main(["--check", str(doc)]) == 0
    doc.write_text("# Edited by hand.\n", encoding="utf-8")
    assert module.main(["--check", str(doc)]) == 1
    assert module.REGENERATE in capsys.readouterr().err
