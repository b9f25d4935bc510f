"""Quality of optimised plans on seeds the optimiser never saw.

Optimise `qixiangtai_summer_am` on its optimiser seeds, then compare the existing plans, Webster and the optimised
plans on held-out seeds.  Targets: the optimised plans cut the mean max queue and the mean delay by >= 30% against
the existing plans, and beat Webster on both.
Usage: python benchmarks/quality.py [SCENARIO] [--budget N] [--compare-seeds 101-110] [--workers W]
"""

from __future__ import annotations

import argparse
import time

from _common import DEFAULT_SCENARIO, report, run_main

from signalopt.baselines import Candidate
from signalopt.comparison import compare
from signalopt.evaluator import parse_seeds
from signalopt.optimiser import optimise
from signalopt.scenario import read_scenario


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--budget", type=int, default=60)
    ap.add_argument("--compare-seeds", default="101-110")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rng", type=int, default=0)
    ap.add_argument("--presearch", type=int, default=400, help="analytic pre-search candidates (0: none)")
    args = ap.parse_args()
    scen = read_scenario(args.scenario)
    t0 = time.perf_counter()
    res = optimise(scen, budget=args.budget, workers=args.workers, rng=args.rng, progress=False,
                   options={"analytic_presearch": args.presearch})
    t_opt = time.perf_counter() - t0
    seeds = parse_seeds(args.compare_seeds)
    cmp = compare(scen, [Candidate("optimised", res.best_plans)], seeds=seeds, baselines=("existing", "webster"),
                  workers=args.workers)
    print(f"optimised on seeds {list(res.seeds)} with budget {args.budget}, analytic pre-search {args.presearch} "
          f"({res.nsim_run} simulations, "
          f"{t_opt / 60:.1f} min); compared on seeds {list(seeds)}")
    for r in cmp.to_dict():
        q, (qlo, qhi) = r["mean_max_queue_m"], r["mean_max_queue_m_ci95"]
        d, (dlo, dhi) = r["delay_s"], r["delay_s_ci95"]
        print(f"  {r['name']:<10} mean max queue {q:6.1f} m [{qlo:6.1f}, {qhi:6.1f}]   delay {d:6.1f} s/veh "
              f"[{dlo:6.1f}, {dhi:6.1f}]   not inserted {r['not_inserted']:.1f}   queue vs existing "
              f"{r['delta_vs_existing_pct']:+.1f}%   delay vs existing {r['delay_delta_vs_existing_pct']:+.1f}%")
    opt, web = cmp.row("optimised").to_dict(), cmp.row("webster").to_dict()
    report("queue cut vs existing [%]", -opt["delta_vs_existing_pct"], ">= 30", -opt["delta_vs_existing_pct"] >= 30)
    report("delay cut vs existing [%]", -opt["delay_delta_vs_existing_pct"], ">= 30",
           -opt["delay_delta_vs_existing_pct"] >= 30)
    report("queue: optimised / webster", opt["mean_max_queue_m"] / web["mean_max_queue_m"], "< 1",
           opt["mean_max_queue_m"] < web["mean_max_queue_m"])
    report("delay: optimised / webster", opt["delay_s"] / web["delay_s"], "< 1", opt["delay_s"] < web["delay_s"])
    return 0


if __name__ == "__main__":
    run_main(main)
