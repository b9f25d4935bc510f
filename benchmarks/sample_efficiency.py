"""Best objective against the number of simulations, per optimisation method.

Each method runs with a budget of `--budget` new plan sets on one seed, one simulation each (a candidate that
decodes to plans already simulated is free and not counted; a method whose restarts run out stops short of its
budget); a differential-evolution run with 10x that budget is the reference.  Target: every method's
best objective within 2% of the reference in <= 150 simulations (printed per method).
With `--run-dir DIR` every run is journalled under DIR (one folder per method, budget, seed and optimiser rng) and
an interrupted benchmark picks up where it stopped: the corridor's reference alone is up to 1500 simulations (about
an hour on 2 cores; its Powell polish simulates one candidate at a time).  `--rng` sets the methods' own seed (the
reference keeps rng 0): at 150 simulations the result depends on it, so read the target over several.
The target is measured on the one seed the methods optimise, whose noise they also fit: the best plans of every
run (and the existing plans) are then simulated on the held-out comparison seeds 101-110, means with 95% CIs,
which shows whether a gap on the optimisation seed is a difference in the plans (skipped with `--heldout 0` or
the analytic evaluator; these 60 simulations are not journalled: about 5 minutes on the corridor).
Usage: python benchmarks/sample_efficiency.py [SCENARIO] [--budget 150] [--evaluator sumo|analytic] [--run-dir DIR]
       [--rng 0] [--heldout 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from _common import DEFAULT_SCENARIO, report, run_main

from signalopt.analytic import AnalyticEvaluator
from signalopt.comparison import DEFAULT_COMPARE_SEEDS, compare, paired_pct
from signalopt.errors import InputError
from signalopt.metrics import mean_ci95
from signalopt.optimiser import METHODS, OptimiseResult, optimise
from signalopt.scenario import Scenario, read_scenario


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--budget", type=int, default=150)
    ap.add_argument("--evaluator", choices=("sumo", "analytic"), default="sumo")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rng", type=int, default=0, help="the optimisers' own seed (population, restarts)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--run-dir", type=Path, help="journal every run here and resume what is found")
    ap.add_argument("--heldout", type=int, default=len(DEFAULT_COMPARE_SEEDS),
                    help="held-out seeds to simulate the best plans on (0: none)")
    args = ap.parse_args()
    if args.heldout != 0 and not 2 <= args.heldout <= len(DEFAULT_COMPARE_SEEDS):
        # a CI needs two seeds; there are only so many comparison seeds
        raise InputError("--heldout", f"0 or 2 to {len(DEFAULT_COMPARE_SEEDS)} held-out seeds", args.heldout)
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
    best = {"reference": ref}
    for method in METHODS:
        res = best[method] = run(method, args.budget, args.rng)
        best_at = {m: min((h.best_fun for h in res.history if h.nsim <= m), default=float("nan")) for m in marks}
        curve = "  ".join(f"{m}:{v:.2f}" for m, v in best_at.items())
        print(f"{method:<24} best after n simulations  {curve}")
        gap = 100 * (res.fun - ref.fun) / abs(ref.fun) if ref.fun else 0.0
        report(f"{method}: gap to reference after {res.nsim} sims [%]", gap, "<= 2", gap <= 2)
    if args.heldout > 0 and args.evaluator == "sumo":
        heldout(scen, best, DEFAULT_COMPARE_SEEDS[:args.heldout], args.seed, args.workers)
    return 0


def heldout(scen: Scenario, best: dict[str, OptimiseResult], seeds: tuple[int, ...], seed: int, workers: int) -> None:
    """Simulate the best plans of every run and the existing plans on held-out seeds; print means and CIs."""
    plans = [dataclasses.replace(res.best_plans, name=name) for name, res in best.items()]
    comp = compare(scen, plans, seeds=seeds, optimiser_seeds=[seed], workers=workers)
    print(f"held-out seeds {seeds[0]}-{seeds[-1]} (optimised on seed {seed}), 95% CIs: mean max queue [m], its "
          f"paired difference to the reference's plans [%], mean delay [s]")
    ref_q = comp.row("reference").metrics.values("mean_max_queue_m")
    for row in comp.rows:
        m = row.metrics
        q, q_lo, q_hi = mean_ci95(m.values("mean_max_queue_m"))
        dq, dq_lo, dq_hi = paired_pct(m.values("mean_max_queue_m"), ref_q)
        d, d_lo, d_hi = mean_ci95(m.values("delay_s"))
        fitted = f"seed {seed} {best[row.name].fun:6.2f}" if row.name in best else ""
        print(f"  {row.name:<22} {fitted:<14} queue {q:6.2f} [{q_lo:.2f}, {q_hi:.2f}]  vs reference {dq:+5.1f}% "
              f"[{dq_lo:+.1f}, {dq_hi:+.1f}]  delay {d:6.1f} [{d_lo:.1f}, {d_hi:.1f}]  "
              f"not inserted {m.mean('not_inserted'):.1f}")


if __name__ == "__main__":
    run_main(main)
