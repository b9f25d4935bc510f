"""The knee of a Pareto front against the best single-objective plans, on held-out seeds.

For each scenario (the bundled summer AM corridor and corpus networks with demand), search the front over the
objectives (default delay,queue) with budget B (optuna's NSGA-II, `signalopt optimise --objectives`), and run
single-objective `optimise` (differential evolution) for each traded objective with the same budget B, the same
optimiser seeds and rng.  Then simulate the front's knee and each single-objective best on held-out seeds
(disjoint from the optimiser's) and print, per scenario and objective, the knee's value, the best
single-objective plans' value on that objective, the gap and the target side by side.
Target (the issue's): the knee plan is within 5% of the best single-objective plan on each objective it trades.
Usage: python benchmarks/pareto.py [--objectives delay,queue] [--budget 12] [--seeds 1,2]
       [--compare-seeds 101-105] [--names arterial_allred,t_junctions] [--no-corridor] [--workers 2] [--rng 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_SCENARIO, build_corpus, report, run_main

from signalopt.comparison import check_compare_seeds, compare
from signalopt.evaluator import parse_seeds
from signalopt.optimiser import optimise
from signalopt.pareto import objective_values, optimise_front, parse_objectives
from signalopt.plan import PlanSet
from signalopt.session import Session

TARGET_PCT = 5.0


def measure(scenario: Path, objectives: tuple[str, ...], *, budget: int, seeds: tuple[int, ...],
            compare_seeds: tuple[int, ...], workers: int, rng: int) -> dict[str, tuple[float, float]]:
    """Per objective: (knee's held-out value, the single-objective best's held-out value on it)."""
    with Session(scenario, workers=workers) as session:
        front = optimise_front(session, objectives=objectives, budget=budget, seeds=seeds, rng=rng)
        knee = front.candidates()[0]
        singles = []
        for name in objectives:
            res = optimise(session, objective={name: 1.0}, budget=budget, seeds=seeds, rng=rng)
            singles.append(PlanSet(res.best_plans.plans, name=f"single-{name}"))
        table = compare(session, [knee, *singles], seeds=compare_seeds, baselines=(), optimiser_seeds=seeds)
    print(f"  front: {len(front.members)} members of {front.n_plans} plan sets scored ({front.message})")
    knee_values = objective_values(objectives, table.row("knee").metrics)
    return {name: (knee_values[k], objective_values(objectives, table.row(f"single-{name}").metrics)[k])
            for k, name in enumerate(objectives)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objectives", default="delay,queue")
    ap.add_argument("--budget", type=int, default=12, help="new plan sets, for the front and each single search")
    ap.add_argument("--seeds", default="1,2", help="optimiser seeds")
    ap.add_argument("--compare-seeds", default="101-105", help="held-out seeds")
    ap.add_argument("--names", default="arterial_allred,t_junctions", help="corpus networks ('' for none)")
    ap.add_argument("--no-corridor", action="store_true", help="leave out the bundled summer AM corridor")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rng", type=int, default=0)
    args = ap.parse_args()
    objectives = parse_objectives(args.objectives)
    seeds = parse_seeds(args.seeds)
    compare_seeds = parse_seeds(args.compare_seeds, source="--compare-seeds")
    check_compare_seeds(compare_seeds, seeds, source="--compare-seeds")
    names = [n for n in args.names.split(",") if n]
    scenarios = [] if args.no_corridor else [DEFAULT_SCENARIO]
    if names:
        corpus = build_corpus(Path(tempfile.mkdtemp(prefix="signalopt-corpus-")))
        scenarios += [e.scenario_path for e in corpus if e.name in names]
    print(f"budget {args.budget} new plan sets per search, optimiser seeds {list(seeds)}, held-out seeds "
          f"{list(compare_seeds)}, rng {args.rng}")
    t0 = time.perf_counter()
    met = total = 0
    for scenario in scenarios:
        print(f"{Path(scenario).stem}:")
        got = measure(Path(scenario), objectives, budget=args.budget, seeds=seeds, compare_seeds=compare_seeds,
                      workers=args.workers, rng=args.rng)
        for name, (knee, single) in got.items():
            gap = 100.0 * (knee - single) / single if single else 0.0
            print(f"  {name:<10} knee {knee:8.2f}   best single-objective {single:8.2f}   gap {gap:+6.1f}%")
            report(f"  {Path(scenario).stem} {name}: knee gap to single best", gap, f"<= {TARGET_PCT:g}%",
                   gap <= TARGET_PCT, "%")
            met += gap <= TARGET_PCT
            total += 1
    print(f"({(time.perf_counter() - t0) / 60:.1f} min) knee within {TARGET_PCT:g}% on {met} of {total} "
          f"scenario-objectives")
    return 0


if __name__ == "__main__":
    run_main(main)
