"""Evaluations per minute with 1 and 2 worker processes (one simulation per process).

Target: 2 workers >= 1.8x the rate of 1 worker on 2 cores.
Usage: python benchmarks/parallel.py [SCENARIO] [--evals N]
"""

from __future__ import annotations

import argparse
import time

from _common import DEFAULT_SCENARIO, report, run_main

from signalopt.evaluator import SumoEvaluator
from signalopt.executors import ProcessExecutor


def rate(scenario: str, workers: int, n: int) -> float:
    executor = ProcessExecutor(workers)
    try:
        ev = SumoEvaluator(scenario, executor=executor)
        plans = ev.existing_plans()
        ev.evaluate(plans, list(range(100, 100 + workers)))  # start the workers outside the timing
        t0 = time.perf_counter()
        ev.evaluate(plans, list(range(1, n + 1)))
        return n / (time.perf_counter() - t0) * 60
    finally:
        executor.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--evals", type=int, default=6)
    args = ap.parse_args()
    r1 = rate(args.scenario, 1, args.evals)
    r2 = rate(args.scenario, 2, args.evals)
    print(f"1 worker: {r1:.1f} evaluations/min; 2 workers: {r2:.1f} evaluations/min ({args.evals} evaluations each)")
    report("speed-up 2 workers vs 1", r2 / r1, ">= 1.8", r2 / r1 >= 1.8, "x")
    return 0


if __name__ == "__main__":
    run_main(main)
