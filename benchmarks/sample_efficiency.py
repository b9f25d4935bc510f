"""Best objective against the number of simulations, per optimisation method.

Each method runs with a budget of `--budget` new plan sets on one seed, one simulation each (a candidate that
decodes to plans already simulated is free and not counted; a method whose restarts run out stops short of its
budget); a differential-evolution run with 10x that budget is the reference.  Target: every method's
best objective within 2% of the reference in <= 150 simulations (printed per method).
With `--run-dir DIR` every run is journalled under DIR (one folder per method, budget, seed and optimiser rng) and
an interrupted benchmark picks up where it stopped: the corridor's reference alone is up to 1500 simulations (about
an hour on 2 cores; its Powell polish simulates one candidate at a time).  `--rng` sets the methods' own seed (the
reference keeps rng 0): at 150 simulations the result depends on it, so read the target over several.
Usage: python benchmarks/sample_efficiency.py [SCENARIO] [--budget 150] [--evaluator sumo|analytic] [--run-dir DIR]
       [--rng 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import DEFAULT_SCENARIO, report

from signalopt.analytic import AnalyticEvaluator
from signalopt.optimiser import METHODS, optimise
from signalopt.scenario import read_scenario


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--budget", type=int, default=150)
    ap.add_argument("--evaluator", choices=("sumo", "analytic"), default="sumo")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rng", type=int, default=0, help="the optimisers' own seed (population, restarts)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--run-dir", type=Path, help="journal every run here and resume what is found")
    args = ap.parse_args()
    scen = read_scenario(args.scenario)

    def run(method: str, budget: int, rng: int):  # noqa: ANN202
        ev = AnalyticEvaluator(scen) if args.evaluator == "analytic" else None
        run_dir = None
        if args.run_dir is not None and ev is None:
            rng_tag = f"-r{rng}" if rng else ""  # rng 0 keeps the folder names of earlier runs
            run_dir = args.run_dir / f"{scen.name}-{method}-b{budget}-s{args.seed}{rng_tag}"
        return optimise(scen, method=method, budget=budget, seeds=[args.seed], workers=args.workers, rng=rng,
                        evaluator=ev, progress=False, run_dir=run_dir, resume=True)

    t0 = time.perf_counter()
    ref = run("differential_evolution", 10 * args.budget, 0)  # one reference, whatever --rng
    print(f"reference: differential_evolution, {ref.nsim} simulations, best {ref.fun:.3f} "
          f"({(time.perf_counter() - t0) / 60:.1f} min, evaluator {args.evaluator}); methods with rng {args.rng}")
    marks = [25, 50, 100, args.budget]
    for method in METHODS:
        res = run(method, args.budget, args.rng)
        best_at = {m: min((h.best_fun for h in res.history if h.nsim <= m), default=float("nan")) for m in marks}
        curve = "  ".join(f"{m}:{v:.2f}" for m, v in best_at.items())
        print(f"{method:<24} best after n simulations  {curve}")
        gap = 100 * (res.fun - ref.fun) / abs(ref.fun) if ref.fun else 0.0
        report(f"{method}: gap to reference after {res.nsim} sims [%]", gap, "<= 2", gap <= 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
