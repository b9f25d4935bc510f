"""Time of day on the summer day: new periods + retimed plans vs the school-term schedule.

Targets: the day's mean max queue cut by >= 25% against the school-term schedule (with its 95% CI), and one
full-day simulation of the corridor under 2 minutes per seed on one core.
Usage: python benchmarks/tod.py [SCENARIO] [--budget N] [--day-seeds 101-105] [--control auto|fixed|actuated] [--out DIR]

``--control actuated`` retimes actuated settings one controller holds all day (docs/time-of-day.md) against the
same school-term schedule.
"""

from __future__ import annotations

import argparse
import time

from _common import ROOT, report, run_main

from signalopt.evaluator import parse_seeds, simulate
from signalopt.tod import time_of_day


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "qixiangtai_summer_day.toml"))
    ap.add_argument("--budget", type=int, default=16)
    ap.add_argument("--max-periods", type=int, default=6)
    ap.add_argument("--day-seeds", default="101-105")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--variants", action="store_true")
    ap.add_argument("--control", default="auto", choices=("auto", "fixed", "actuated"))
    ap.add_argument("--out", default="out-benchmark/tod")
    args = ap.parse_args()

    t0 = time.perf_counter()
    day = simulate(args.scenario, seeds=[1], workers=1)
    one_day_s = time.perf_counter() - t0
    print(f"one full-day simulation of the existing schedule on one core: {one_day_s:.1f} s "
          f"(SUMO part {day.runs[0].sim_time_s:.1f} s)")

    res = time_of_day(args.scenario, max_periods=args.max_periods, budget=args.budget,
                      day_seeds=parse_seeds(args.day_seeds), variants=args.variants, workers=args.workers,
                      out_dir=args.out, control=args.control)
    for r in res.rows:
        delta = "" if r.schedule == "existing" else (
            f"  vs existing {r.delta_vs_existing_pct:+.1f}% [{r.delta_vs_existing_pct_ci95[0]:+.1f}, "
            f"{r.delta_vs_existing_pct_ci95[1]:+.1f}]")
        print(f"  {r.variant:<8} {r.schedule:<9} {r.period:<18} queue {r.mean_max_queue_m:6.1f} m "
              f"[{r.mean_max_queue_m_ci95[0]:6.1f}, {r.mean_max_queue_m_ci95[1]:6.1f}]  delay {r.delay_s:6.1f} s{delta}")
    day_row = next(r for r in res.rows if r.variant == "default" and r.schedule == "retimed" and r.period == "day")
    cut = -day_row.delta_vs_existing_pct
    report("day mean max queue cut vs school schedule [%]", cut, ">= 25", cut >= 25)
    report("upper CI of the cut [%] (least cut)", -day_row.delta_vs_existing_pct_ci95[1], ">= 25",
           -day_row.delta_vs_existing_pct_ci95[1] >= 25)
    report("full-day simulation, one core [s]", one_day_s, "< 120", one_day_s < 120, "s")
    print(f"total wall time {res.wall_s / 60:.1f} min; report {res.out_dir / 'report.html'}")
    return 0


if __name__ == "__main__":
    run_main(main)
