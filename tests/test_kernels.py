"""Kernels forked from the warm process (daanalysis.pack.kernels): fresh, isolated, and gone
after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from daanalysis.pack import kernels, report

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
forking = pytest.mark.skipif(not kernels.available(), reason="kernels are forked on Linux only")


def test_the_warm_process_imports_start_no_thread():
    # A fork keeps only the thread that forks: a preloaded module that started a thread would
    # leave each kernel with a lock held by a thread that is not there.
    code = (
        "import importlib, os, threading\n"
        "from daanalysis.pack import kernels\n"
        "os.environ.update(kernels.PRELOAD_ENV)\n"
        "for name in kernels.PRELOAD:\n"
        "    importlib.import_module(name)\n"
        "print(threading.active_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_forking_can_be_switched_off_and_needs_this_python(monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    assert not kernels.available()
    monkeypatch.delenv(kernels.ENV_SWITCH)
    argv = ["-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert not kernels.available(["/usr/bin/false", *argv])  # another Python: start it as usual
    if sys.platform.startswith("linux"):
        assert kernels.available([sys.executable, *argv])
        assert not kernels.available([sys.executable, "-m", "some_other_kernel"])


def _run(km, code: str) -> str:
    from jupyter_core.utils import run_sync

    client = km.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=60)
        seen: list[str] = []

        def output(msg):
            if msg["msg_type"] == "stream":
                seen.append(msg["content"]["text"])

        reply = run_sync(client.execute_interactive)(code, output_hook=output, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(seen)
    finally:
        client.stop_channels()


@forking
def test_a_forked_kernel_is_a_fresh_process_with_the_runners_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("DAANALYSIS_TEST_SETTING", "from the runner")
    probe = (
        "import json, os, sys\n"
        "import numpy as np\n"
        "print(json.dumps({'cwd': os.getcwd(), 'pid': os.getpid(), 'ppid': os.getppid(),\n"
        "    'env': os.environ.get('DAANALYSIS_TEST_SETTING'), 'seen': 'secret' in globals(),\n"
        "    'imported': 'statsmodels.genmod.generalized_linear_model' in sys.modules,\n"
        "    'random': float(np.random.random())}))\n"
        "secret = 42\n"
    )
    kernel_dir = tmp_path / "k"
    kernel_dir.mkdir()
    with kernels.WarmProcess() as warm:
        first = report.start_kernel(kernel_dir, tmp_path, warm=warm)
        second = report.start_kernel(kernel_dir, ROOT, warm=warm)
        try:
            a = json.loads(_run(first, probe))
            b = json.loads(_run(second, probe))
        finally:
            processes = [first.provisioner.process, second.provisioner.process]
            report.stop_kernel(first)
            report.stop_kernel(second)
        assert all(p.wait(10) is not None for p in processes)  # stopped, really
    assert a["cwd"] == str(tmp_path) and b["cwd"] == str(ROOT)
    assert a["env"] == b["env"] == "from the runner"
    assert a["ppid"] == b["ppid"] == warm.process.pid  # forked, not started anew
    assert a["pid"] != b["pid"] and a["imported"] and b["imported"]
    assert not a["seen"] and not b["seen"]  # no kernel sees another's variables
    assert a["random"] != b["random"]  # each kernel draws its own random state


def _tiny_notebooks(folder: Path) -> Path:
    folder.mkdir()
    for name, order in (("one", 1), ("two", 2), ("three", 3)):
        params = nbformat.v4.new_code_cell('quarter = "latest"\ndata_dir = ""\narea = ""')
        params.metadata["tags"] = ["parameters"]
        nb = nbformat.v4.new_notebook(
            cells=[params, nbformat.v4.new_code_cell("print(6 * 7)")],
            metadata={"daanalysis": {"title": name.title(), "scope": "area", "order": order}},
        )
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def _children_of(pid: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return found


@forking
def test_a_run_leaves_no_process_behind_and_the_directory_as_it_was(tmp_path):
    before = os.getcwd()
    report.run_report(SAMPLE, tmp_path / "out", notebook_dir=_tiny_notebooks(tmp_path / "nb"))
    assert os.getcwd() == before  # papermill's chdir, in two threads at once, once moved it
    assert not [c for c in _children_of(os.getpid()) if "daanalysis" in c or "ipykernel" in c]


@pytest.mark.slow
def test_kernels_started_the_usual_way_give_the_same_pack(sample_report, tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    usual = report.run_report(SAMPLE, tmp_path / "out")
    assert "started the usual way" in (usual / "analysts" / "run.log").read_text()
    if kernels.available():
        assert "forked from a warm process" in (sample_report / "analysts" / "run.log").read_text()

    def read(pack: Path) -> pd.DataFrame:
        return pd.read_csv(pack / "kpis.csv", dtype=str, keep_default_na=False)

    pd.testing.assert_frame_equal(read(usual), read(sample_report))
    assert sorted(p.name for p in usual.glob("*.html")) == sorted(
        p.name for p in sample_report.glob("*.html")
    )


@forking
def test_the_command_line_hands_its_warm_process_to_the_run(tmp_path, monkeypatch):
    # `daanalysis report` starts the warm process before its own imports, so the two overlap;
    # the run must use that one (not start a second) and the command must close it.
    from daanalysis import cli

    started = []

    class Recording(kernels.WarmProcess):
        def __init__(self) -> None:
            super().__init__()
            started.append(self)

    monkeypatch.setattr(kernels, "WarmProcess", Recording)
    notebooks = _tiny_notebooks(tmp_path / "nb")
    argv = ["report", "--data", str(SAMPLE), "--out", str(tmp_path / "out")]
    assert cli.main([*argv, "--notebooks", str(notebooks)]) == 0
    assert len(started) == 1 and started[0].process.poll() is not None


@forking
def test_a_kernel_starts_the_usual_way_if_the_warm_process_is_gone(tmp_path):
    kernel_dir = tmp_path / "k"
    kernel_dir.mkdir()
    warm = kernels.WarmProcess()
    warm.close()
    km = report.start_kernel(kernel_dir, tmp_path, warm=warm)
    try:
        assert not isinstance(km.provisioner, kernels.ForkProvisioner)
        assert json.loads(_run(km, "import json, os; print(json.dumps(os.getcwd()))")) == str(
            tmp_path
        )
    finally:
        report.stop_kernel(km)
