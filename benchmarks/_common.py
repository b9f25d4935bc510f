"""Shared bits of the benchmark scripts: locating bundled scenarios, printing figure vs target, bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from signalopt.errors import SignaloptError
from signalopt.options import TimingOptions
from signalopt.scenario import Scenario, read_scenario

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


def add_clearance_standard(ap: argparse.ArgumentParser) -> None:
    """``--clearance-standard YELLOW_S,ALL_RED_S``: every scenario under a fixed clearance standard ([timing]
    yellow_s, all_red_s) instead of ITE's formulas, a diagnostic of what ITE's clearances cost."""
    ap.add_argument("--clearance-standard", metavar="YELLOW_S,ALL_RED_S", type=_standard,
                    help="a fixed clearance standard for every scenario instead of ITE's (a diagnostic)")


def _standard(text: str) -> tuple[float, float]:
    try:
        yellow, all_red = (float(v) for v in text.split(","))
        TimingOptions(yellow_s=yellow, all_red_s=all_red)
    except (ValueError, SignaloptError) as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: give YELLOW_S,ALL_RED_S ({exc})") from None
    return yellow, all_red


def scenario_under(path: Path, standard: tuple[float, float] | None) -> Scenario:
    """The scenario at ``path``, under the clearance ``standard`` (yellow, all-red [s]) where one is given."""
    scenario = read_scenario(path)
    if standard is None:
        return scenario
    return replace(scenario, timing=replace(scenario.timing, yellow_s=standard[0], all_red_s=standard[1]))
