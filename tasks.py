#!/usr/bin/env python3
"""Set-up and the project's tasks with nothing but Python 3.11+ and pip (Windows too).

    python3 tasks.py report --data data/sample [options]  # the pack (daanalysis report)
    python3 tasks.py test [pytest options]                # ruff, unit tests, nbval (< 5 minutes)
    python3 tasks.py test -m full                         # the further whole packs CI adds
    python3 tasks.py sample                               # rewrite data/sample from its generator
    python3 tasks.py bench [--big]                        # benchmarks, as ratios (--big: 5M rows)
    python3 tasks.py validate [--councils N]              # the verdict's simulation studies
    python3 tasks.py contract                             # rewrite docs/data-contract.md

``test`` checks the code's lint and format, then runs pytest on two workers (pytest-xdist; each
test file stays on one worker and the sample pack is built once for both: ``tests/conftest.py``).
It leaves out the tests marked ``study`` (a small simulation study of the demand verdict, minutes
on its own), which ``validate`` runs after the full study, and those marked ``full`` (further
whole packs on real-shaped extracts, about 10 s of processor time each), which
``test -m full`` runs. CI (``.ci/run``) runs all three, so every test runs there.
``test -n 0`` runs the tests in one process.

The first call creates ``.venv``, installs the project with its dev tools and registers the
``daanalysis`` Jupyter kernel; later calls reinstall only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
SCRIPTS = VENV / ("Scripts" if os.name == "nt" else "bin")


def tool(name: str) -> str:
    return str(SCRIPTS / (f"{name}.exe" if os.name == "nt" else name))


def run(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, cwd=ROOT, check=True)


def ensure_environment() -> None:
    """Create ``.venv`` and install the project into it when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be started by an older Python
        sys.exit(f"daanalysis needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not Path(tool("python")).exists():
        venv.create(VENV, with_pip=True)
        run(tool("python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    stamp = VENV / ".installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        run(tool("python"), "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        run(
            tool("python"),
            "-m",
            "ipykernel",
            "install",
            "--sys-prefix",
            "--name",
            "daanalysis",
            "--display-name",
            "Python (daanalysis)",
        )
        stamp.write_text(wanted)


STUDY = "study"
FULL = "full"


# Two workers, as the machines this project is tested on have two cores. A file's tests stay
# together on one worker: a module's fixtures (a faulty extract's pack) are built once, and a
# notebook's nbval cells run in order in one kernel (they fail when split, as by --dist load).
WORKERS = ["-n", "2", "--dist", "loadfile"]


def pytest_selection(pytest_args: list[str]) -> list[str]:
    """``-m "not study and not full"`` unless the caller chose markers: the study tests run in
    ``validate``, the full ones in ``test -m full``; two workers unless the caller chose how many
    (``-n``)."""
    chose = any(a == "-m" or a.startswith("-m") and len(a) > 2 for a in pytest_args)
    workers = any(
        a in {"-n", "--numprocesses"} or a.startswith(("-n", "--numprocesses="))
        for a in pytest_args
    )
    return [
        *([] if workers else WORKERS),
        *([] if chose else ["-m", f"not {STUDY} and not {FULL}"]),
    ]


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"report", "test", "sample", "bench", "validate", "contract"}:
        sys.exit(__doc__)
    task, rest = argv[0], argv[1:]
    ensure_environment()
    try:
        if task == "report":
            # No default --data here either: the README passes data/sample explicitly, so a
            # scheduled job that forgets --data stops instead of publishing the sample's figures.
            run(tool("daanalysis"), "report", *rest)
        elif task == "test":
            run(tool("ruff"), "check", ".")
            run(tool("ruff"), "format", "--check", ".")
            run(tool("python"), "-m", "pytest", *pytest_selection(rest), *rest)
        elif task == "sample":
            run(tool("python"), "-m", "daanalysis.synthetic.sample", "--out", "data/sample")
        elif task == "contract":
            run(
                tool("python"), "-m", "daanalysis.ingest.contract", "--out", "docs/data-contract.md"
            )
        elif task == "validate":
            run(tool("python"), "validation/run.py", *rest)
            run(tool("python"), "-m", "pytest", "-q", "-m", STUDY, "tests")
        elif task == "bench":
            run(tool("python"), "benchmarks/bench_caseload.py")
            run(tool("python"), "benchmarks/bench_report.py")
            run(tool("python"), "benchmarks/bench_verdict.py")
            run(tool("python"), "benchmarks/bench_areas.py")
            run(tool("python"), "benchmarks/bench_records.py", *rest)
    except subprocess.CalledProcessError as err:
        sys.exit(err.returncode)


if __name__ == "__main__":
    main(sys.argv[1:])
