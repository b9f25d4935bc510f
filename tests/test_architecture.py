"""The package's layers (docs/architecture.md): imports point down only, and there are no import circles.

Every ``from ... import`` in every module counts, at the top or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "signalopt"

#: Layer of every module (dotted name below ``signalopt``; a subpackage's modules share its layer).
LAYERS = {
    0: {"errors", "options", "_clock", "_alloc", "_xml", "_sumo", "_text"},
    1: {"plan", "actuated", "clearance", "webster", "atspm", "surge"},
    2: {"network", "programs", "scenario", "demand", "segment", "prepare", "encoding", "schedule", "coordination",
        "detectors", "actuated_encoding", "responsive",
        "safety", "formats", "provenance"},
    3: {"metrics", "objective", "executors", "_sumo_run", "evaluator", "analytic", "journal", "runner", "roundtrip",
        "trace", "session", "movements", "eventlog_writer", "_responsive_run",
        "_schedule_run"},
    4: {"optimiser", "study", "pareto", "responsive_search"},
    5: {"baselines", "comparison", "report", "export", "job", "tod", "cli", "importers", "__init__"},
}
LAYER_OF = {name: k for k, names in LAYERS.items() for name in names}


def modules() -> dict[str, Path]:
    """Dotted module name (below ``signalopt``) -> file."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1]) if parts[-1] == "__init__" and len(parts) > 1 else ".".join(parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``name`` imports (any depth, any place in the file)."""
    package = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module.split(".") if node.module else []
        if node.level:  # relative: from the package, one level up per extra dot
            target = [*package[:len(package) - node.level + 1], *module]
        elif module[:1] == ["signalopt"]:
            target = module[1:]
        else:
            continue
        found |= _resolve(".".join(target), [a.name for a in node.names], known)
    found.discard(name)
    return found


def _resolve(target: str, names: list[str], known: set[str]) -> set[str]:
    out = set()
    for n in names:  # "from .formats import nema" imports the module formats.nema
        sub = f"{target}.{n}" if target else n
        if sub in known:
            out.add(sub)
    if target in known:
        out.add(target)
    return out


def layer(name: str) -> int:
    return LAYER_OF[name.split(".")[0]] if name.split(".")[0] in LAYER_OF else LAYER_OF[name]


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def test_every_module_has_a_layer() -> None:
    missing = sorted(n for n in modules() if n.split(".")[0] not in LAYER_OF)
    assert not missing, f"add these to LAYERS (and docs/architecture.md): {missing}"


def test_imports_point_down() -> None:
    wrong = sorted(f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
                   for a, deps in graph().items() for b in deps
                   if layer(b) > layer(a) and not (a == "__init__" or a.split(".")[0] == b.split(".")[0]))
    assert not wrong, "\n".join(wrong)


def test_no_import_circles() -> None:
    g = graph()
    circles = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for d in sorted(g[n]):
            if state.get(d) == 1:
                circles.append(" -> ".join([*path[path.index(d):], d]))
            elif d not in state:
                visit(d, [*path, d])
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n, [n])
    assert not circles, "\n".join(circles)


def test_the_check_sees_function_level_and_subpackage_imports() -> None:
    g = graph()
    assert "formats.sumo" in g["_sumo_run"]  # a module in a subpackage
    assert "executors.dask" in g["executors"]  # imported inside make_executor
