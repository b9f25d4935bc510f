"""Per-simulation overhead inside an optimisation: wall time per candidate-seed over bare `sumo`.

The optimiser runs serially (one process, so nothing overlaps) on one seed from a session whose demand is
prepared beforehand; its whole wall time is compared with the time bare `sumo` takes to run every simulation it
ran, each with the same command line (the same plans, detectors and outputs) and seed. A simulation's cost
depends on its plans (congested plans run longer), so only the same simulations compare.
Everything signalopt adds is counted: decoding, writing the plans, libsumo start-up, reading the outputs,
journalling, the optimiser itself. Default scenarios: the 9-signal corpus grid and the bundled corridor.

Target: <= 1.10x on each. Usage: python benchmarks/optimise_overhead.py [SCENARIO ...] [--budget N]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_SCENARIO, build_corpus, report, run_main

from signalopt import _sumo
from signalopt._sumo_run import sumo_command
from signalopt.executors import SerialExecutor
from signalopt.optimiser import optimise
from signalopt.session import Session


class RecordingExecutor(SerialExecutor):
    """The serial executor, keeping every task it ran (to run each again as bare sumo)."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list = []

    def map(self, fn, tasks, *, on_result=None):  # noqa: ANN001, ANN201 - see Executor
        self.tasks.extend(tasks)
        return super().map(fn, tasks, on_result=on_result)


def measure(scenario: Path, *, budget: int) -> tuple[float, float, int]:
    """(optimisation wall time, bare sumo time of the same simulations, simulations) [s, s, -]."""
    executor = RecordingExecutor()
    with Session(scenario, executor=executor) as session, tempfile.TemporaryDirectory() as run_dir:
        session.prepared  # noqa: B018 - route generation outside the timing
        t0 = time.perf_counter()
        result = optimise(session, budget=budget, seeds=(1,), run_dir=run_dir, progress=False,
                          analytic_presearch=0)
        wall = time.perf_counter() - t0
        bare = 0.0
        for task in executor.tasks:
            with tempfile.TemporaryDirectory() as tmp:
                cmd = sumo_command(task, Path(tmp), sumo=str(_sumo.binary("sumo")))
                t1 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                bare += time.perf_counter() - t1
    return wall, bare, result.nsim_run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--budget", type=int, default=6)
    args = ap.parse_args()
    if args.scenarios:
        scenarios = [Path(s) for s in args.scenarios]
    else:
        tmp = tempfile.mkdtemp(prefix="signalopt-corpus-")
        grid = next(e for e in build_corpus(Path(tmp)) if e.name == "grid3_turn")
        scenarios = [grid.scenario_path, DEFAULT_SCENARIO]
    for scenario in scenarios:
        wall, bare, n = measure(scenario, budget=args.budget)
        print(f"{scenario.stem}: optimisation {wall:.1f} s for {n} simulations; the same simulations as bare sumo "
              f"{bare:.1f} s")
        report(f"{scenario.stem}: optimise / bare sumo", wall / bare, "<= 1.10x", wall / bare <= 1.10, "x")
    return 0


if __name__ == "__main__":
    run_main(main)
