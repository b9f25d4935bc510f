"""The round-trip invariant over the generated corpus (networks/corpus/) and the bundled networks.

For every traffic light: the existing programme read into plans and written back to SUMO shows the
same state at every second of two cycles as the original (0 differing signal-seconds); for every
corpus scenario: `simulate` of the existing timing gives the same delay as bare `sumo` on the same
seed, both as the network's own programme (what "existing" runs) and as the plans written back
(static programmes only; actuated and NEMA ones run as programmed). Also counts the signals whose
existing plans `info` warns about (safety shortfalls) and those made safe before optimising.

Targets: 0 differing signal-seconds; existing-plan delay within 1% of bare sumo on every network.
Usage: python benchmarks/round_trip.py [--corpus-dir DIR] [--seeds 1,2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import ROOT, build_corpus, report, run_main

from signalopt.baselines import made_safe
from signalopt.evaluator import parse_seeds, simulate
from signalopt.network import read_network
from signalopt.plan import PlanSet
from signalopt.prepare import prepare, scenario_plans
from signalopt.programs import STATIC_TYPES
from signalopt.roundtrip import bare_sumo_run, round_trip
from signalopt.scenario import read_scenario


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus-dir", help="where the corpus is built (default: a temporary folder)")
    ap.add_argument("--seeds", default="1,2", help="seeds of the delay comparison (default 1,2)")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    tmp = None if args.corpus_dir else tempfile.TemporaryDirectory(prefix="signalopt-corpus-")
    folder = Path(args.corpus_dir or tmp.name)
    entries = build_corpus(folder)
    bundled = [ROOT / "networks" / "isolated" / "isolated.net.xml",
               ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml",
               ROOT / "networks" / "qixiangtai" / "qixiangtai_through.net.xml"]

    print(f"{'network':<22} {'signals':>7} {'static':>6} {'diff s':>6} {'warned':>6} {'made safe':>9} "
          f"{'bare s':>7} {'existing':>8} {'written':>8}")
    worst_pct, total_diff, n_signals, n_static = 0.0, 0, 0, 0
    for name, net_path, scenario_path in ([(e.name, e.net_path, e.scenario_path) for e in entries]
                                          + [(p.stem, p, None) for p in bundled]):
        network = read_network(net_path)
        static = [s.id for s in network.signals if s.program.type in STATIC_TYPES]
        if scenario_path is not None:
            scenario = read_scenario(scenario_path)
            existing, warnings = scenario_plans(scenario, network)
        else:
            from signalopt.programs import existing_plans
            from signalopt.options import TimingOptions

            scenario = None
            existing, warnings = existing_plans(network, TimingOptions())
        written = PlanSet(tuple(p for p in existing if p.signal_id in static), name="existing")
        diff = round_trip(network, written).total_differing if len(written) else 0
        total_diff += diff
        n_signals += len(network.signals)
        n_static += len(static)
        warned = len({w.split()[0].rstrip(":") for w in warnings})
        safe, _ = made_safe(existing, network, scenario.timing if scenario else TimingOptions())
        changed = sum(a != b for a, b in zip(safe, existing))
        row = f"{name:<22} {len(network.signals):>7} {len(static):>6} {diff:>6} {warned:>6} {changed:>9}"
        if scenario is not None:
            prepared = prepare(scenario, network)
            bare = [bare_sumo_run(prepared, s).delay_s for s in seeds]
            ours = simulate(scenario, seeds=seeds, workers=1).values("delay_s")
            pcts = [100 * abs(a - b) / b for a, b in zip(ours, bare) if b > 0]
            cols = [f"{sum(bare) / len(bare):7.2f}", f"{sum(ours) / len(ours):8.2f}"]
            if len(written) == len(existing):
                back = simulate(scenario, existing, seeds=seeds, workers=1).values("delay_s")
                pcts += [100 * abs(a - b) / b for a, b in zip(back, bare) if b > 0]
                cols.append(f"{sum(back) / len(back):8.2f}")
            else:
                cols.append(f"{'as prog.':>8}")
            worst_pct = max(worst_pct, *pcts)
            row += " " + " ".join(cols)
        print(row)
    print(f"{len(entries)} corpus networks + {len(bundled)} bundled, {n_signals} signals ({n_static} static), "
          f"seeds {','.join(map(str, seeds))}")
    report("differing signal-seconds (read -> write)", total_diff, "0", total_diff == 0)
    report("worst |existing delay - bare sumo| / bare", worst_pct, "<= 1%", worst_pct <= 1.0, "%")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    run_main(main)
