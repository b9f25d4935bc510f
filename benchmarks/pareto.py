"""The knee of a Pareto front against the best single-objective plans, on held-out seeds.

For each scenario (the bundled summer AM corridor and corpus networks with demand), search the front over the
objectives (default delay,queue) with budget B with each sampler (optuna's NSGA-II and multi-objective TPE,
`signalopt optimise --objectives ... --sampler`), and run
single-objective `optimise` (differential evolution) for each traded objective with the same budget B, the same
optimiser seeds and rng.  Then simulate the front's knee and each single-objective best on held-out seeds
(disjoint from the optimiser's) and print, per scenario and objective, the knee's value, the best
single-objective plans' value on that objective, the gap and the target side by side.
Target (the issue's): the knee plan is within 5% of the best single-objective plan on each objective it trades.
Usage: python benchmarks/pareto.py [--objectives delay,queue] [--samplers nsga2,tpe] [--budget 12] [--seeds 1,2]
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


def measure(scenario: Path, objectives: tuple[str, ...], samplers: list[str], *, budget: int,
            seeds: tuple[int, ...], compare_seeds: tuple[int, ...], workers: int,
            rng: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Per sampler, per objective: (knee's held-out value, the single-objective best's held-out value on it)."""
    with Session(scenario, workers=workers) as session:
        knees = []
        for sampler in samplers:
            front = optimise_front(session, objectives=objectives, budget=budget, seeds=seeds, rng=rng,
                                   sampler=sampler)
            knees.append(PlanSet(front.candidates()[0].plans, name=f"knee-{sampler}"))
            print(f"  {sampler} front: {len(front.members)} members of {front.n_plans} plan sets scored "
                  f"({front.message})")
        singles = []
        for name in objectives:
            res = optimise(session, objective={name: 1.0}, budget=budget, seeds=seeds, rng=rng)
            singles.append(PlanSet(res.best_plans.plans, name=f"single-{name}"))
        table = compare(session, [*knees, *singles], seeds=compare_seeds, baselines=(), optimiser_seeds=seeds)
    single = {name: objective_values(objectives, table.row(f"single-{name}").metrics)[k]
              for k, name in enumerate(objectives)}
    out = {}
    for sampler in samplers:
        knee = objective_values(objectives, table.row(f"knee-{sampler}").metrics)
        out[sampler] = {name: (knee[k], single[name]) for k, name in enumerate(objectives)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objectives", default="delay,queue")
    ap.add_argument("--samplers", default="nsga2,tpe", help="front samplers to measure")
    ap.add_argument("--budget", type=int, default=12, help="new plan sets, for the front and each single search")
    ap.add_argument("--seeds", default="1,2", help="optimiser seeds")
    ap.add_argument("--compare-seeds", default="101-105", help="held-out seeds")
    ap.add_argument("--names", default="arterial_allred,t_junctions", help="corpus networks ('' for none)")
    ap.add_argument("--no-corridor", action="store_true", help="leave out the bundled summer AM corridor")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rng", type=int, default=0)
    args = ap.parse_args()
    objectives = parse_objectives(args.objectives)
    samplers = [s.strip() for s in args.samplers.split(",")]
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
    met: dict[str, int] = {}
    total: dict[str, int] = {}
    for scenario in scenarios:
        print(f"{Path(scenario).stem}:")
        got = measure(Path(scenario), objectives, samplers, budget=args.budget, seeds=seeds,
                      compare_seeds=compare_seeds, workers=args.workers, rng=args.rng)
        for sampler, rows in got.items():
            for name, (knee, single) in rows.items():
                gap = 100.0 * (knee - single) / single if single else 0.0
                print(f"  {sampler:<5} {name:<10} knee {knee:8.2f}   best single-objective {single:8.2f}   "
                      f"gap {gap:+6.1f}%")
                report(f"  {Path(scenario).stem} {sampler} {name}: knee gap", gap, f"<= {TARGET_PCT:g}%",
                       gap <= TARGET_PCT, "%")
                met[sampler] = met.get(sampler, 0) + (gap <= TARGET_PCT)
                total[sampler] = total.get(sampler, 0) + 1
    print(f"({(time.perf_counter() - t0) / 60:.1f} min) knee within {TARGET_PCT:g}%: "
          + "; ".join(f"{s} on {met[s]} of {total[s]} scenario-objectives" for s in samplers))
    return 0


if __name__ == "__main__":
    run_main(main)
