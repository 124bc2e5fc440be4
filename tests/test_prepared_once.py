"""The run's inputs checked once (issue 22's per-area cost): each notebook compares the input
files' sizes and times with those the runner recorded; the runner compares their SHA-256 once,
after the notebooks, instead of every notebook reading every input file again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from daanalysis.present import notebook

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_a_change_of_content_alone_is_caught_once_by_the_runner(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    extract, panel = notebook.load_prepared(data)
    saved = notebook.save_prepared(extract, panel, tmp_path)
    notebook.check_inputs(saved, data)  # unchanged: accepted
    # The same size and modification time, another content: what only a checksum sees.
    target = data / "staffing.csv"
    before = target.stat()
    text = target.read_text()
    changed = text.replace("1", "2", 1)
    assert changed != text and len(changed) == len(text)
    target.write_text(changed)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    notebook.prepare(data, "latest", prepared=str(saved))  # a notebook's cheap check passes
    with pytest.raises(ValueError, match="changed while the run was using them"):
        notebook.check_inputs(saved, data)


def test_a_file_added_or_grown_is_refused_by_each_notebook(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    extract, panel = notebook.load_prepared(data)
    saved = notebook.save_prepared(extract, panel, tmp_path)
    (data / "notes.txt").write_text("a file copied in while the run went on\n")
    with pytest.raises(ValueError, match="changed while the run was using them"):
        notebook.prepare(data, "latest", prepared=str(saved))
    with pytest.raises(ValueError, match="changed while the run was using them"):
        notebook.check_inputs(saved, data)
