"""The package's layers, checked from the import statements themselves (function-local ones too).

A module may import from its own layer or any layer below it, never above, and the modules form
no cycle. The order, lowest first, is the flow of a quarterly run: settings and periods; ``ingest``
(files to a checked extract); ``panel`` (the monthly table); ``metrics`` (pure statistics);
``present`` (words, tables, charts: what notebooks import); ``pack`` (the run); the command line.
``synthetic`` (the sample and the simulator, which fits the verdict's models as an oracle) sits
beside ``pack``: only the command line, the tests and the validation study use it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "daanalysis"

LAYERS = {
    "daanalysis": 0,
    "daanalysis.config": 0,
    "daanalysis.periods": 0,
    "daanalysis.names": 0,
    "daanalysis.assumptions": 0,
    "daanalysis.safe_csv": 0,
    "daanalysis.generated_doc": 0,
    "daanalysis.stopping": 0,
    "daanalysis.selection": 2,
    "daanalysis.ingest": 1,
    "daanalysis.panel": 2,
    "daanalysis.metrics": 3,
    "daanalysis.present": 4,
    "daanalysis.pack": 5,
    "daanalysis.synthetic": 5,
    "daanalysis.cli": 6,
    "daanalysis.airflow": 6,
    "daanalysis.__main__": 6,
}
# Work in progress: each pair here is a known upward import still to be removed. The list only
# shrinks; test_known_exceptions_still_exist fails when an entry is no longer needed.
KNOWN: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best = ""
    for prefix in LAYERS:
        inside = module == prefix or (prefix != "daanalysis" and module.startswith(prefix + "."))
        if inside and len(prefix) > len(best):
            best = prefix
    if not best:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")
    return LAYERS[best]


def imports() -> dict[str, set[str]]:
    """Every daanalysis module and the daanalysis modules it imports (at any depth of the file)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        me = module_name(path)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("daanalysis")}
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.level:
                    raise AssertionError(f"{me}: use absolute imports (from daanalysis...)")
                if node.module.startswith("daanalysis"):
                    for alias in node.names:
                        sub = f"{node.module}.{alias.name}"
                        is_module = (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                        targets.add(sub if is_module else node.module)
        found[me] = targets - {me}
    return found


def upward() -> set[tuple[str, str]]:
    return {
        (me, target)
        for me, targets in imports().items()
        for target in targets
        if target != "daanalysis" and layer_of(target) > layer_of(me)
    }


def test_no_module_imports_from_a_higher_layer():
    wrong = sorted(upward() - KNOWN)
    assert not wrong, "imports from a higher layer:\n" + "\n".join(f"{a} -> {b}" for a, b in wrong)


def test_known_exceptions_still_exist():
    assert not (KNOWN - upward()), f"remove from KNOWN: {sorted(KNOWN - upward())}"


def test_no_import_cycles():
    graph = {me: targets - {b for a, b in KNOWN if a == me} for me, targets in imports().items()}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    """The walk finds a function-local upward import (so the test above can fail)."""
    fake = tmp_path / "daanalysis"
    (fake / "metrics").mkdir(parents=True)
    (fake / "present").mkdir()
    (fake / "present" / "page.py").write_text("X = 1\n")
    (fake / "metrics" / "bad.py").write_text("def f():\n    from daanalysis.present import page\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake, raising=False)
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    assert ("daanalysis.metrics.bad", "daanalysis.present.page") in upward()
