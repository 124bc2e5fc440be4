"""Many areas in one extract: the verdict command spreads areas over processes and gives the
same verdicts, in the same order, as one process."""

from __future__ import annotations

import pytest

from daanalysis import cli
from daanalysis.synthetic.sample import write_sample

pytestmark = pytest.mark.slow


def test_verdicts_over_processes_equal_one_process(tmp_path, monkeypatch):
    # Three areas through the process path (the threshold lowered to them) test the same
    # splitting and ordering as the eight that reach it in use, with a third of the fits.
    monkeypatch.setattr(cli, "PARALLEL_FROM", 3)
    areas = {f"Area {i:02d}": 0.3 + 0.2 * i for i in range(3)}
    write_sample(tmp_path, areas=areas)
    together = cli.verdicts(tmp_path, [])
    monkeypatch.setattr(cli, "PARALLEL_FROM", 10**6)
    alone = cli.verdicts(tmp_path, [])
    assert [v.area for v in together] == sorted(areas)
    assert cli.as_json(together) == cli.as_json(alone)
