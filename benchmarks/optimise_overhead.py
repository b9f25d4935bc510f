"""Per-simulation overhead inside an optimisation: wall time per candidate-seed over bare `sumo`.

The optimiser runs serially (one process, so nothing overlaps) on one seed from a session whose demand is
prepared beforehand; its wall time divided by the simulations it ran is compared with the median wall time
of bare `sumo` running the same command line (the same plans, detectors and outputs) on the same seed.
Everything signalopt adds is counted: decoding, writing the plans, libsumo start-up, reading the outputs,
journalling, the optimiser itself. Default scenarios: the 9-signal corpus grid and the bundled corridor.

Target: <= 1.10x on each. Usage: python benchmarks/optimise_overhead.py [SCENARIO ...] [--budget N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_SCENARIO, build_corpus, report, run_main

from signalopt import _sumo
from signalopt._sumo_run import Task, sumo_command
from signalopt.executors import SerialExecutor
from signalopt.optimiser import optimise
from signalopt.session import Session


def measure(scenario: Path, *, budget: int, repeat: int) -> tuple[float, float, int]:
    """(wall time per simulation inside the optimisation, median bare sumo time, simulations run) [s, s, -]."""
    with Session(scenario, executor=SerialExecutor()) as session, tempfile.TemporaryDirectory() as run_dir:
        session.prepared  # noqa: B018 - route generation outside the timing
        t0 = time.perf_counter()
        result = optimise(session, budget=budget, seeds=(1,), run_dir=run_dir, progress=False,
                          analytic_presearch=0)
        per_sim = (time.perf_counter() - t0) / result.nsim_run
        bare = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                cmd = sumo_command(Task(session.prepared, 1, result.best_plans), Path(tmp),
                                   sumo=str(_sumo.binary("sumo")))
                t1 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                bare.append(time.perf_counter() - t1)
    return per_sim, statistics.median(bare), result.nsim_run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--budget", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if args.scenarios:
        scenarios = [Path(s) for s in args.scenarios]
    else:
        tmp = tempfile.mkdtemp(prefix="signalopt-corpus-")
        grid = next(e for e in build_corpus(Path(tmp)) if e.name == "grid3_turn")
        scenarios = [grid.scenario_path, DEFAULT_SCENARIO]
    for scenario in scenarios:
        per_sim, bare, n = measure(scenario, budget=args.budget, repeat=args.repeat)
        print(f"{scenario.stem}: {n} simulations in the optimisation, {per_sim:.2f} s each; bare sumo "
              f"{bare:.2f} s (median of {args.repeat})")
        report(f"{scenario.stem}: optimise / bare sumo", per_sim / bare, "<= 1.10x", per_sim / bare <= 1.10, "x")
    return 0


if __name__ == "__main__":
    run_main(main)
