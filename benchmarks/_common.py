"""Shared bits of the benchmark scripts: locating bundled scenarios, printing figure vs target, bad input."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from signalopt.errors import SignaloptError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "qixiangtai_summer_am.toml"


def build_corpus(out_dir: Path) -> list:
    """The generated corpus (networks/corpus/build.py, a script) built into ``out_dir``; its entries."""
    import runpy

    return runpy.run_path(str(ROOT / "networks" / "corpus" / "build.py"))["build_corpus"](out_dir)


def report(name: str, measured: float, target: str, ok: bool, unit: str = "") -> None:
    """Print one figure beside its target."""
    print(f"{name:<44} measured {measured:8.3f}{unit:<3}  target {target:<10}  {'MET' if ok else 'NOT MET'}")


def run_main(main: Callable[[], int]) -> None:
    """Run a benchmark's ``main`` and exit with its code; bad input is one line on stderr and exit 2, as in
    the ``signalopt`` command line."""
    try:
        code = main()
    except SignaloptError as exc:
        print(f"{Path(sys.argv[0]).name}: error: {exc}".splitlines()[0], file=sys.stderr)
        code = 2
    sys.exit(code)
