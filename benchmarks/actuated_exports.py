"""Every exported actuated plan passes the safety check and runs safely in SUMO, with traffic.

For the bundled corridor and isolated junction and every corpus network with demand: actuated plans over the
existing stages made safe -- free mode at SUMO's stock settings and at two random points of the actuated encoding
(signalopt.actuated_encoding), coordinated mode (split-based maximums) at the existing timing and at two random
points of the coordinated encoding -- each safety-checked (signalopt.safety) and exported to `sumo` (free plans,
those that skip stages nobody calls included: SUMO's actuated controller), `nema` (SUMO's NEMA controller) and
`ntcip`; every SUMO file written is run for 30
minutes of the scenario's traffic after its warm-up (signalopt.roundtrip.actuated_check): no conflicting greens, no
yellow or all-red shorter than the plan's, no green shorter than its actuated minimum (a gap-out or force-off never
cuts one), with the gap-outs and max-outs that show the actuation was exercised. A refusal must be one line with
its reason.

Targets (issue "lights watch cars"): every exported actuated plan passes the safety check and runs in SUMO with 0
violations; 0 plans neither exported nor refused with a reason.
Usage: python benchmarks/actuated_exports.py [--corpus-dir DIR] [--names a,b] [--minutes 30]
"""

from __future__ import annotations

import argparse
import collections
import re
import tempfile
from pathlib import Path

import numpy as np
from _common import ROOT, build_corpus, report, run_main

from signalopt.actuated import runs_in_nema
from signalopt.actuated_encoding import make_actuated_encoding, make_coordinated_encoding
from signalopt.errors import InputError, PlanError, SignaloptError, SimulationError
from signalopt.export import render
from signalopt.plan import PlanSet
from signalopt.roundtrip import actuated_check
from signalopt.safety import validate_plans
from signalopt.session import Session

BUNDLED = (ROOT / "scenarios" / "qixiangtai_summer_am.toml", ROOT / "scenarios" / "isolated.toml")
FORMATS = ("sumo", "nema", "ntcip")


def plan_sets(session: Session) -> list[tuple[str, PlanSet]]:
    """Free and coordinated actuated plan sets of a scenario (see the module docstring)."""
    rng = np.random.default_rng(7)
    out = []
    free = make_actuated_encoding(session.network, session.existing, session.scenario.timing)
    for k, x in enumerate([free.encode(session.existing), rng.random(free.size), rng.random(free.size)]):
        out.append((f"free-{k}", session.existing.replace_plans(free.decode(x).plans, name=f"free-{k}")))
    try:
        coord = make_coordinated_encoding(session.network, session.existing, session.scenario.timing)
    except InputError as exc:  # stages SUMO's NEMA controller cannot run: refused up front, counted as such
        return out + [("coordinated", exc)]
    for k, x in enumerate([coord.encode(session.existing), rng.random(coord.size), rng.random(coord.size)]):
        out.append((f"coordinated-{k}", session.existing.replace_plans(coord.decode(x).plans,
                                                                       name=f"coordinated-{k}")))
    return out


def reason(message: str) -> str:
    text = re.sub(r"^signal [^:]+: ", "", message.splitlines()[0])
    return re.sub(r"\d+(\.\d+)?", "#", re.sub(r"\(.*?\)", "(...)", text))[:100]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus-dir", help="where the corpus is built (default: a temporary folder)")
    ap.add_argument("--names", help="only these corpus networks (comma list)")
    ap.add_argument("--minutes", type=float, default=30.0, help="simulated minutes after warm-up per file")
    args = ap.parse_args()
    corpus_dir = Path(args.corpus_dir or tempfile.mkdtemp(prefix="signalopt-corpus-"))
    wanted = set(args.names.split(",")) if args.names else None
    scenarios = [*BUNDLED, *(e.scenario_path for e in build_corpus(corpus_dir)
                             if wanted is None or e.name in wanted)]
    refused: collections.Counter[str] = collections.Counter()
    n_plans = unsafe = written = ran = other = 0
    violations: list[str] = []
    gaps = maxes = 0
    print(f"{'scenario':<28} {'plans':>5} {'files run':>9} {'violations':>10} {'gap-outs':>8} {'max-outs':>8}")
    for path in scenarios:
        with Session(path, workers=1) as session:
            row: collections.Counter[str] = collections.Counter()
            sets = plan_sets(session)
            for name, plans in sets:
                if isinstance(plans, InputError):
                    refused[f"coordinated encoding: {reason(str(plans.what))}"] += 1
                    continue
                n_plans += 1
                try:
                    validate_plans(plans, session.network, timing=session.scenario.timing, source=name)
                except SignaloptError as exc:
                    unsafe += 1
                    violations.append(f"{path.stem} {name}: unsafe: {str(exc).splitlines()[0]}")
                    continue
                for fmt in FORMATS:
                    if fmt == "sumo" and any(runs_in_nema(p.actuation) for p in plans):
                        continue  # no force-offs in SUMO's actuated controller: such plans go to nema
                    try:
                        text = next(iter(render(plans, fmt, f"x.{'csv' if fmt == 'ntcip' else 'xml'}",
                                                network=session.network,
                                                timing=session.scenario.timing).values()))
                    except PlanError as exc:
                        refused[f"{fmt}: {reason(str(exc))}"] += 1
                        continue
                    except SignaloptError as exc:
                        other += 1
                        violations.append(f"{path.stem} {name} {fmt}: {str(exc).splitlines()[0]}")
                        continue
                    written += 1
                    if fmt == "ntcip":
                        continue
                    try:
                        check = actuated_check(session.prepared, plans, session.network, text,
                                               duration_s=args.minutes * 60)
                    except SimulationError as exc:
                        violations.append(f"{path.stem} {name} {fmt}: SUMO failed: {exc}")
                        continue
                    ran += 1
                    row["files"] += 1
                    row["violations"] += len(check.violations)
                    row["gap"] += check.count("gap")
                    row["max"] += check.count("max")
                    violations += [f"{path.stem} {name} {fmt}: {v}" for v in check.violations]
            gaps += row["gap"]
            maxes += row["max"]
            n_sets = sum(1 for _, p in sets if isinstance(p, PlanSet))
            print(f"{path.stem:<28} {n_sets:>5} {row['files']:>9} {row['violations']:>10} "
                  f"{row['gap']:>8} {row['max']:>8}")
    print(f"\n{n_plans} actuated plan sets; {written} files written, {ran} simulated; refusals by reason:")
    for text, n in refused.most_common():
        print(f"  {n:>4}  {text}")
    for v in violations[:20]:
        print(f"  violation: {v}")
    report("plan sets failing the safety check", unsafe, "0", unsafe == 0)
    report("exports neither written nor refused in one line", other, "0", other == 0)
    report("violations in SUMO (conflicts, cut clearances/minimums)", len(violations) - unsafe - other, "0",
           len(violations) == unsafe + other == 0)
    report("greens ended by a gap-out or force-off", gaps, "> 0", gaps > 0)
    report("greens ended at their maximum", maxes, "> 0", maxes > 0)
    return 0


if __name__ == "__main__":
    run_main(main)
