"""What skipping stages nobody calls does to every measure and every movement, at SUMO's stock settings.

For each named scenario (corpus networks by name, or the bundled corridor with --corridor), two actuated plan sets
of the actuated encoding's starting point (signalopt.actuated_encoding: SUMO's stock maximum, passage and
detector distance over the existing stages made safe): served every cycle (recall min) and skipping the stages
that may skip (recall none: the first stage and the major street's keep minimum recall).  Both are compared with
the existing timing on held-out seeds (signalopt.comparison: delay, queue, stops, pedestrians, paired CIs; a
plan worse on a measure is flagged), and the worst movements' HCM control delay is printed beside each other,
so that a gain bought by starving a movement (a protected left that is never called) shows.

Targets (the issues' rule that a plan worse on one measure is flagged, never recommended quietly): skipping is
flagged worse than the existing timing on no measure, and starves no movement: none whose HCM control delay rises
by more than 10 s/veh over serving every stage every cycle to end at level of service D or worse.  The largest
rise is printed beside it.
Usage: python benchmarks/skipping.py [--names grid3_turn,arterial_allred] [--corridor] [--seeds 101-103]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_SCENARIO, build_corpus, report, run_main

from signalopt.comparison import compare
from signalopt.evaluator import parse_seeds
from signalopt.plan import PlanSet
from signalopt.session import Session
from signalopt.study import Study

#: A movement is starved when its control delay rises by more than this [s/veh] to end at one of these levels.
STARVED_RISE_S = 10.0
STARVED_LOS = frozenset("DEF")


def measure(scenario: Path, seeds: tuple[int, ...]) -> tuple[bool, int, float, str]:
    """Print the comparison and the worst movements; return (skipping flagged worse, starved movements, the
    largest rise of a movement's control delay [s/veh], that movement)."""
    with Session(scenario, workers=2) as session:
        with Study(session, control="actuated") as study:
            enc = study.encoding
        if not enc.skip_dimension:
            print(f"{scenario.stem}: no stage may skip")
            return False, 0, 0.0, "-"
        sets = []
        for name, skip in (("served", 0.0), ("skipping", 1.0)):
            x = enc.encode(session.existing)
            x[-1] = skip
            sets.append(PlanSet(enc.decode(x).plans, name=name))
        table = compare(session, sets, seeds=seeds, baselines=("existing",),
                        optimiser_seeds=session.scenario.optimise_seeds)
    print(table)
    rows = {name: {r["group"]: r for r in table.row(name).metrics.movement_table()} for name in ("served", "skipping")}
    skipping, served = rows["skipping"], rows["served"]
    worst = sorted(skipping, key=lambda g: -skipping[g]["control_delay_s"])[:5]
    print("  worst movements when skipping, control delay [s/veh] (LOS) skipping / served: " + "; ".join(
        f"{g} {skipping[g]['control_delay_s']:.1f} ({skipping[g]['los']}) / {served[g]['control_delay_s']:.1f} "
        f"({served[g]['los']})" for g in worst))
    rise = {g: skipping[g]["control_delay_s"] - served[g]["control_delay_s"] for g in skipping if g in served}
    top = max(rise, key=rise.get)
    starved = [g for g, r in rise.items() if r > STARVED_RISE_S and skipping[g]["los"] in STARVED_LOS]
    print(f"  largest rise: {top} {served[top]['control_delay_s']:.1f} -> {skipping[top]['control_delay_s']:.1f} s/veh"
          + (f"; starved: {', '.join(starved)}" if starved else ""))
    return bool(table.row("skipping").worse), len(starved), rise[top], top


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--names", default="grid3_turn,arterial_allred,grid2_actuated", help="corpus networks")
    ap.add_argument("--corridor", action="store_true", help="the bundled summer AM corridor too")
    ap.add_argument("--seeds", default="101-103", help="held-out seeds")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    names = [n for n in args.names.split(",") if n]
    scenarios = [DEFAULT_SCENARIO] if args.corridor else []
    if names:
        corpus = build_corpus(Path(tempfile.mkdtemp(prefix="signalopt-corpus-")))
        scenarios += [e.scenario_path for e in corpus if e.name in names]
    t0 = time.perf_counter()
    for scenario in scenarios:
        flagged, starved, rise, _ = measure(Path(scenario), seeds)
        stem = Path(scenario).stem
        report(f"{stem}: skipping flagged worse", float(flagged), "0", not flagged)
        report(f"{stem}: starved movements", float(starved), "0", starved == 0)
        print(f"{stem}: largest rise of a movement's control delay {rise:+.1f} s/veh")
    print(f"({(time.perf_counter() - t0) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    run_main(main)
