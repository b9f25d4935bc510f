"""Overhead of one `simulate` against a bare `sumo` run of the same configuration.

Both run the summer AM scenario with the same plans, detectors and outputs;
`simulate` adds reading the scenario and network, libsumo, and parsing the
outputs.  Route generation is cached beforehand (it runs once per scenario).
Target: simulate / bare <= 1.10.  Usage: python benchmarks/eval_overhead.py [SCENARIO] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_SCENARIO, report, run_main

from signalopt import _sumo
from signalopt._sumo_run import Task, sumo_command
from signalopt.evaluator import SumoEvaluator, simulate
from signalopt.executors import SerialExecutor


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    ev = SumoEvaluator(args.scenario, executor=SerialExecutor())
    plans = ev.existing_plans()
    task = Task(ev.prepared, 1, plans)  # builds the route cache outside the timing
    bare, ours = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = sumo_command(task, Path(tmp), sumo=str(_sumo.binary("sumo")))
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        simulate(args.scenario, seeds=[1], workers=1)
        ours.append(time.perf_counter() - t0)
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"scenario {Path(args.scenario).name}: bare sumo {b:.2f} s, simulate {o:.2f} s (medians of {args.repeat})")
    report("simulate / bare sumo wall time", o / b, "<= 1.10", o / b <= 1.10, "x")
    return 0


if __name__ == "__main__":
    run_main(main)
