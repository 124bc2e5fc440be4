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


def test_the_warm_process_imports_leave_one_os_thread():
    # A fork keeps only the thread that forks: a preloaded library that started a thread (OpenBLAS
    # and Arrow's jemalloc do, unless told not to) would leave each kernel with its locks and
    # state but not the thread. Counted by the operating system, not by Python's threading module,
    # which sees none of those.
    code = (
        "import importlib, os\n"
        "from daanalysis.pack import kernels\n"
        "for name in kernels.PRELOAD:\n"
        "    importlib.import_module(name)\n"
        "print(kernels.os_threads())\n"
    )
    env = {**os.environ, **kernels.PRELOAD_ENV}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("1" if sys.platform.startswith("linux") else "0")


def test_the_os_thread_count_sees_threads_python_does_not_start(tmp_path):
    # The check is only worth having if it can fail: numpy's OpenBLAS, left to itself on a
    # machine of 2 cores or more, starts threads that threading.active_count() never sees.
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        pytest.skip("counts threads through /proc, with a BLAS pool of more than one thread")
    code = (
        "import threading\nimport numpy\nfrom daanalysis.pack import kernels\n"
        "print(threading.active_count(), kernels.os_threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    python_count, os_count = map(int, done.stdout.split())
    assert python_count == 1 and os_count > 1, done.stdout


@forking
def test_a_warm_process_with_a_thread_too_many_forks_nothing(tmp_path, monkeypatch):
    # A thread started before the imports (here by a sitecustomize module): the warm process
    # refuses to fork, and the kernel is started the usual way instead.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(site))
    kernel_dir = tmp_path / "k"
    kernel_dir.mkdir()
    with kernels.WarmProcess() as warm:
        km = kernels.start_kernel(kernel_dir, tmp_path, warm=warm)
        try:
            assert not kernels.forked(km)
            assert "threads, not 1" in warm.refused
            assert not warm.alive()
        finally:
            kernels.stop_kernel(km)


@forking
def test_a_forked_kernel_reports_its_real_exit_status(tmp_path):
    from jupyter_core.utils import run_sync

    kernel_dir = tmp_path / "k"
    kernel_dir.mkdir()
    with kernels.WarmProcess() as warm:
        km = kernels.start_kernel(kernel_dir, tmp_path, warm=warm)
        assert kernels.forked(km)
        process = km.provisioner.process
        client = km.client()
        client.start_channels()
        try:
            client.execute("import os; os._exit(3)")
            assert process.wait(30) == 3
        finally:
            client.stop_channels()
            kernels.stop_kernel(km)
        killed = kernels.start_kernel(kernel_dir, tmp_path, warm=warm)
        process = killed.provisioner.process
        run_sync(killed.shutdown_kernel)(now=True)  # killed: SIGKILL, as Popen reports it
        assert process.wait(30) == -9
        kernels.stop_kernel(killed)


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
        first = kernels.start_kernel(kernel_dir, tmp_path, warm=warm)
        second = kernels.start_kernel(kernel_dir, ROOT, warm=warm)
        try:
            a = json.loads(_run(first, probe))
            b = json.loads(_run(second, probe))
        finally:
            processes = [first.provisioner.process, second.provisioner.process]
            kernels.stop_kernel(first)
            kernels.stop_kernel(second)
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


def _children_of(pid: int, but: set[int] = frozenset()) -> list[str]:
    """Command lines of ``pid``'s child processes, except those numbered in ``but``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and int(stat.parent.name) not in but:
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return found


@forking
def test_a_run_leaves_no_process_behind_and_the_directory_as_it_was(tmp_path, warm_process):
    before = os.getcwd()
    report.run_report(SAMPLE, tmp_path / "out", notebook_dir=_tiny_notebooks(tmp_path / "nb"))
    assert os.getcwd() == before  # papermill's chdir, in two threads at once, once moved it
    # The session's warm process (tests/conftest.py) is not the run's: the session closes it.
    left = _children_of(os.getpid(), {warm_process.process.pid})
    assert not [c for c in left if "daanalysis" in c or "ipykernel" in c]


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
    km = kernels.start_kernel(kernel_dir, tmp_path, warm=warm)
    try:
        assert not isinstance(km.provisioner, kernels.ForkProvisioner)
        assert json.loads(_run(km, "import json, os; print(json.dumps(os.getcwd()))")) == str(
            tmp_path
        )
    finally:
        kernels.stop_kernel(km)


def test_every_package_the_run_imports_is_declared():
    # The runner and the kernels import jupyter_client, nbclient and others directly: each must
    # be a dependency of its own in pyproject.toml, not something papermill happens to bring.
    import ast
    import re
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {
            re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower().replace("_", "-")
            for d in requirements
        }

    declared = names(project["dependencies"])
    # An optional feature's module may import what its extra declares: pdf.py, the pdf extra.
    extras = {f"{name}.py": names(reqs) for name, reqs in project["optional-dependencies"].items()}
    owners = packages_distributions()
    files = [*(ROOT / "daanalysis" / "pack").glob("*.py"), ROOT / "daanalysis" / "cli.py"]
    missing = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "daanalysis" or top in sys.stdlib_module_names:
                    continue
                dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
                if not dists & (declared | extras.get(path.name, set())):
                    missing.add(f"{path.name}: {top}")
    assert not missing, sorted(missing)


@forking
def test_a_notebook_runs_on_the_client_that_saw_its_kernel_ready(tmp_path, monkeypatch):
    # jupyter_client's wait for a kernel to be ready ends with 0.2 s of listening for stray
    # messages: once when the kernel starts (ahead of its notebook), not again when the
    # notebook runs on it (issue 22). The notebook's outputs are all there.
    from jupyter_client.asynchronous.client import AsyncKernelClient

    from daanalysis.pack import execute

    waits = []
    wait_for_ready = AsyncKernelClient.wait_for_ready

    async def counted(self, *args, **kwargs):
        waits.append(self)
        return await wait_for_ready(self, *args, **kwargs)

    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", counted)
    folder = _tiny_notebooks(tmp_path / "nb")
    kernel_dir = kernels.make_kernel_dir()
    try:
        with kernels.WarmProcess() as warm:
            km = kernels.start_kernel(kernel_dir, folder, warm=warm)
            assert len(waits) == 1
            client = waits[0]
            target = tmp_path / "one.ipynb"
            execute.run_notebook(folder / "one.ipynb", target, {}, kernel_dir=kernel_dir, km=km)
    finally:
        import shutil

        shutil.rmtree(kernel_dir, ignore_errors=True)
    assert len(waits) == 1  # no second wait
    assert not client.channels_running  # and the notebook's end closed its channels
    assert kernels.ready_client(km) is None
    outputs = nbformat.read(target, 4).cells[-1].outputs
    assert [o.get("text") for o in outputs] == ["42\n"]


@forking
def test_a_kernel_stopped_before_its_notebook_closes_its_ready_client(tmp_path):
    kernel_dir = tmp_path / "k"
    kernel_dir.mkdir()
    with kernels.WarmProcess() as warm:
        km = kernels.start_kernel(kernel_dir, tmp_path, warm=warm)
        client = kernels._READY_CLIENTS[km]
        assert client.channels_running
        kernels.stop_kernel(km)
    assert not client.channels_running
    assert kernels.ready_client(km) is None


@forking
def test_a_killed_forked_kernel_is_gone_when_kill_returns(tmp_path):
    # jupyter_client looks for a killed kernel's end again only after 0.1 s: the kill waits
    # for it (the kernel dies within milliseconds), so that nothing waits that long.
    kernel_dir = tmp_path / "k"
    kernel_dir.mkdir()
    with kernels.WarmProcess() as warm:
        for _ in range(3):
            km = kernels.start_kernel(kernel_dir, tmp_path, warm=warm)
            process = km.provisioner.process
            try:
                process.kill()
                assert process.poll() == -9
            finally:
                kernels.stop_kernel(km)


def test_a_pool_of_two_workers_keeps_two_kernels_ready_ahead(monkeypatch):
    # Two notebooks that end within a kernel's start of each other each find one ready: a
    # worker exports its page and starts its next kernel before it has one again (issue 22).
    import threading
    import time

    from daanalysis.pack import execute

    started, stopped = [], []
    lock = threading.Lock()

    class Launcher:
        def start(self):
            with lock:
                started.append(object())
                return started[-1]

    monkeypatch.setattr(execute.kernels, "stop_kernel", stopped.append)
    for workers, ahead in ((2, 2), (1, 1), (3, 2)):
        started.clear()
        stopped.clear()
        pool = execute.KernelPool(Launcher(), workers=workers)
        deadline = time.monotonic() + 10
        while len(started) < workers + ahead and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # no more than that
        pool.close()
        assert len(started) == workers + ahead
        assert sorted(map(id, stopped)) == sorted(map(id, started))  # unused: stopped
