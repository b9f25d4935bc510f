"""The main job on the bundled default scenario with the default budget: table, wall time, targets.

Targets: optimised plans beat existing, webster and sumo-webster on both mean max queue and delay with
non-overlapping 95% CIs, and are no worse than actuated and delay_based.
Usage: python benchmarks/main_job.py [--out DIR] [--budget N]
"""

from __future__ import annotations

import argparse

from _common import report, run_main

from signalopt.job import run_job


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="out-benchmark")
    ap.add_argument("--budget", type=int, help="default: signalopt run's, sized by the simulation time")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    job = run_job(None, budget=args.budget, out_dir=args.out, workers=args.workers, progress=False)
    rows = {r["name"]: r for r in job.comparison.to_dict()}
    print(job.comparison.table())
    print(f"wall time {job.wall_s / 60:.1f} min (budget {job.budget})")
    opt = rows["optimised"]
    for name in ("existing", "webster", "sumo-webster"):
        if name not in rows:
            continue
        for key in ("mean_max_queue_m", "delay_s"):
            separated = opt[f"{key}_ci95"][1] < rows[name][f"{key}_ci95"][0]
            report(f"{key}: optimised CI below {name} CI", opt[key] / rows[name][key], "< 1, CIs apart", separated,
                   "x")
    for name in ("actuated", "delay_based"):
        if name not in rows:
            continue
        for key in ("mean_max_queue_m", "delay_s"):
            report(f"{key}: optimised vs {name}", opt[key] / rows[name][key], "<= 1", opt[key] <= rows[name][key],
                   "x")
    return 0


if __name__ == "__main__":
    run_main(main)
