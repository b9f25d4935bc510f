"""Controller exports over the generated corpus (networks/corpus/) and the bundled networks.

For every signal: its existing plan made safe and three retimed plans (the encoding decoded at fixed
points, leading and lagging lefts), each exported alone to every format. A format either writes the
plan or refuses it in one line that says why; the refusals are counted by reason. Every plan SUMO's
NEMA controller can run is simulated (0.1 s steps): each phase's green is measured from the signal
states and compared with the plan, and the states are checked for conflicting greens and cut
yellows and all-reds.

Targets: every plan exported or refused with a reason (0 other failures); SUMO runs every NEMA
export; measured green per phase within 0.1 s of the plan; 0 safety violations in the simulated states.
Usage: python benchmarks/exports.py [--corpus-dir DIR]
"""

from __future__ import annotations

import argparse
import collections
import re
import tempfile
from pathlib import Path

import numpy as np
from _common import ROOT, build_corpus, report, run_main

from signalopt.baselines import made_safe
from signalopt.encoding import make_encoding
from signalopt.errors import PlanError
from signalopt.export import FORMATS, render
from signalopt.formats.nema import dual_ring
from signalopt.network import Network, read_network
from signalopt.options import TimingOptions
from signalopt.plan import PlanSet
from signalopt.programs import existing_plans
from signalopt.roundtrip import nema_check

TIMING = TimingOptions()
#: Encoding points of the retimed plans (the same value in every coordinate) and lead/lag choice.
RETIMED = ((0.2, False), (0.5, True), (0.8, True))


def plan_sets(network: Network) -> list[PlanSet]:
    existing, _ = made_safe(existing_plans(network, TIMING)[0], network, TIMING)
    out = [existing]
    for level, lag in RETIMED:
        enc = make_encoding(network, existing, TIMING, lead_lag=lag)
        x = np.full(enc.size, level)
        if lag:
            x[[i for i, label in enumerate(enc.labels()) if ":lag" in label]] = 0.9
        out.append(enc.decode(x, name=f"retimed-{level:g}"))
    return out


def reason(message: str) -> str:
    """The refusal's reason without the signal id and the numbers (for counting)."""
    text = re.sub(r"^signal [^:]+: ", "", message)
    text = re.sub(r"\(.*?\)", "(...)", text)
    return re.sub(r"\d+(\.\d+)?", "#", text)[:110]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus-dir", help="where the corpus is built (default: a temporary folder)")
    args = ap.parse_args()
    tmp = None if args.corpus_dir else tempfile.TemporaryDirectory(prefix="signalopt-corpus-")
    folder = Path(args.corpus_dir or tmp.name)
    nets = [(e.name, e.net_path) for e in build_corpus(folder)]
    nets += [("isolated", ROOT / "networks" / "isolated" / "isolated.net.xml"),
             ("qixiangtai", ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml")]
    exported = collections.Counter()
    refused: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures = []
    worst_err, n_phases, n_plans_sim, violations, sumo_failed = 0.0, 0, 0, 0, 0
    print(f"{'network':<18} {'plans':>5} " + " ".join(f"{f:>7}" for f in FORMATS) + f" {'NEMA sim':>8} "
          f"{'max err s':>9}")
    for name, net_path in nets:
        network = read_network(net_path)
        per_format = collections.Counter()
        runnable = []
        n_plans = 0
        for plans in plan_sets(network):
            for plan in plans:
                n_plans += 1
                one = PlanSet((plan,), name=plans.name)
                for fmt in FORMATS:
                    try:
                        render(one, fmt, folder / "out" / f"x.{fmt}", network=network, timing=TIMING)
                    except PlanError as exc:
                        if "\n" in str(exc) or not str(exc):
                            failures.append(f"{name} {plan.signal_id} {fmt}: refusal is not one line")
                        refused[fmt][reason(str(exc))] += 1
                    except Exception as exc:  # noqa: BLE001 - anything else is a failure to count and show
                        failures.append(f"{name} {plan.signal_id} {fmt}: {type(exc).__name__}: {exc}")
                    else:
                        exported[fmt] += 1
                        per_format[fmt] += 1
                try:
                    if dual_ring(plan, network.signal(plan.signal_id)).sumo_problem() is None:
                        runnable.append(one)
                except PlanError:
                    pass
        err = 0.0
        for one in runnable:
            try:
                check = nema_check(network, one)
            except Exception as exc:  # noqa: BLE001
                sumo_failed += 1
                failures.append(f"{name} {one.plans[0].signal_id} SUMO NEMA: {exc}")
                continue
            n_plans_sim += 1
            violations += len(check.violations)
            for planned, measured in check.greens.values():
                n_phases += 1
                if not measured:
                    failures.append(f"{name} {one.plans[0].signal_id}: a phase never showed green")
                err = max([err] + [abs(m - planned) for m in measured])
        worst_err = max(worst_err, err)
        print(f"{name:<18} {n_plans:>5} " + " ".join(f"{per_format[f]:>7}" for f in FORMATS)
              + f" {len(runnable):>8} {err:>9.2f}")
    total = sum(exported.values()) + sum(sum(c.values()) for c in refused.values())
    print(f"\nexported / refused per format (of {total // len(FORMATS)} plans):")
    for fmt in FORMATS:
        print(f"  {fmt:<6} exported {exported[fmt]:>4}, refused {sum(refused[fmt].values()):>4}")
        for why, count in refused[fmt].most_common():
            print(f"         {count:>4} x {why}")
    for line in failures[:20]:
        print("FAILURE:", line)
    print()
    report("plans neither exported nor refused with a one-line reason", len(failures), "0", not failures)
    report("NEMA exports SUMO failed to run", sumo_failed, f"0 (of {n_plans_sim + sumo_failed})", sumo_failed == 0)
    report("largest |measured - planned| green per phase", worst_err, f"<= 0.1 s ({n_phases} phases)",
           worst_err <= 0.1 + 1e-6, "s")
    report("safety violations in the simulated NEMA states", violations, "0", violations == 0)
    return 0 if not failures and worst_err <= 0.1 + 1e-6 and violations == 0 else 1


if __name__ == "__main__":
    run_main(main)
