"""Which objective should be the default: each one's optimised plans against the true existing timing.

For every corpus network (all carry demand) and the bundled scenarios, optimise with each objective as
`signalopt run` does by default (the kind of controller the signals run today, `--control auto`; its default
budget, sized by the existing timing's simulation time, on the scenario's optimiser seeds, the analytic
pre-search where there are counts), then simulate the existing timing
and every objective's plans on the held-out seeds 101-110 and pair them per seed.  Per objective it prints, for every scenario, the change in mean
delay and in 95th-percentile queue against the existing timing (paired, 95% CI), and counts:
  * worse: the CI of the paired difference lies wholly above zero on delay or on the 95th-percentile queue;
  * better: at least 10% better on one of them (mean) and worse on neither.
It counts twice: the optimised plans themselves, and what `signalopt run` recommends (the optimised plans, or the
existing timing unchanged when they were worse on delay or 95th-percentile queue on the optimiser's seeds:
signalopt.comparison.recommendation), marked "kept".
Target (the issue's): the default objective is worse nowhere and better by >= 10% where the existing timing is
not already near-optimal.
`queue/guarded` (the default's first) is the queue objective held to the existing timing on delay and the
95th-percentile queue on the optimiser's seeds (signalopt.objective.NoWorseThan, its default 2% margin), as
`signalopt run` optimises; `queue/guarded0` sets the margin in percent.
`--clearance-standard 3,0` runs every scenario with a fixed clearance standard ([timing] yellow_s = 3,
all_red_s = 0) instead of ITE's formulas: a diagnostic that shows what the ITE clearances cost against existing
timing that runs shorter ones (netconvert writes 3 s yellows and no all-red); the target is measured without it.
Usage: python benchmarks/objectives.py [--objectives queue/guarded,queue,pi] [--budget 12] [--names grid3_turn,...]
       [--no-bundled] [--workers 2] [--clearance-standard YELLOW_S,ALL_RED_S] [--control auto|fixed|actuated|...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT, add_clearance_standard, build_corpus, report, run_main, scenario_under

from signalopt.comparison import compare, paired_pct, recommendation
from signalopt.evaluator import simulate
from signalopt.metrics import Metrics
from signalopt.errors import SignaloptError
from signalopt.job import AUTO_CONTROL, DEFAULT_PRESEARCH, check_retimable, default_budget, resolve_control
from signalopt.objective import NoWorseThan, parse_objective
from signalopt.optimiser import optimise
from signalopt.plan import PlanSet
from signalopt.scenario import Scenario
from signalopt.session import Session

BUNDLED = ("isolated", "qixiangtai_summer_am", "qixiangtai_school_am", "qixiangtai_summer_offpeak")
COMPARE_SEEDS = tuple(range(101, 111))
BETTER_PCT = -10.0


def objective_of(spec: str, existing: Metrics | None):  # noqa: ANN201 - a name, weights or a NoWorseThan
    """``NAME`` or ``NAME/guarded[MARGIN_PCT]``: the objective, held to ``existing`` when guarded (``existing``
    None only checks the spelling)."""
    base, _, guard = spec.partition("/")
    objective = parse_objective(base)
    margin = guard[len("guarded"):]
    if guard and not (guard.startswith("guarded") and (not margin or margin.replace(".", "", 1).isdigit())):
        raise SystemExit(f"--objectives: {spec}: only NAME or NAME/guarded[MARGIN_PCT] is known")
    if not guard or existing is None:
        return objective
    return NoWorseThan(objective, existing, **({"margin": float(margin) / 100} if margin else {}))


def measure(scenario: Path | Scenario, objectives: list[str], *, budget: int | None, workers: int,
            control: str = AUTO_CONTROL) -> dict[str, tuple] | str:
    """Per objective: (delay %, its CI, p95 queue %, its CI, recommended) against the existing timing, or why
    not run."""
    with Session(scenario, workers=workers) as session:
        control = resolve_control(session, control)[0]  # "auto" as signalopt run resolves it
        try:
            check_retimable(session, control=control)
        except SignaloptError as exc:
            return f"not retimable: {str(exc).splitlines()[0]}"
        plans = []
        existing = simulate(session, seeds=session.scenario.optimise_seeds)
        if budget is None:  # as signalopt run sizes it
            budget = default_budget(float(np.median([r.sim_time_s for r in existing.runs])),
                                    n_opt_seeds=len(existing.runs), workers=workers)
        recommended = {}
        for name in objectives:
            res = optimise(session, objective=objective_of(name, existing), budget=budget, rng=0, control=control,
                           options={"analytic_presearch": DEFAULT_PRESEARCH})
            plans.append(PlanSet(res.best_plans.plans, name=name))
            recommended[name] = recommendation(res.best_metrics, existing)[0]
        table = compare(session, plans, seeds=COMPARE_SEEDS, baselines=())
    ref = table.row("existing").metrics
    out = {}
    for name in objectives:
        m = table.row(name).metrics
        d, dlo, dhi = paired_pct(m.values("delay_s"), ref.values("delay_s"))
        q, qlo, qhi = paired_pct(m.values("p95_max_queue_m"), ref.values("p95_max_queue_m"))
        out[name] = (d, (dlo, dhi), q, (qlo, qhi), recommended[name], budget)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objectives", default="queue/guarded,queue",
                    help="objectives to measure; NAME/guarded is NAME held to the existing timing, as signalopt run "
                         "optimises by default")
    ap.add_argument("--budget", type=int, help="new plan sets per search (default: signalopt run's, sized by "
                                               "the scenario's simulation time)")
    ap.add_argument("--names", help="corpus networks to run (default: all)")
    ap.add_argument("--no-bundled", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    add_clearance_standard(ap)
    ap.add_argument("--control", choices=(AUTO_CONTROL, "fixed", "actuated", "coordinated"), default=AUTO_CONTROL,
                    help="what the optimiser retimes, as signalopt run --control (default auto, run's)")
    args = ap.parse_args()
    objectives = [o.strip() for o in args.objectives.split(",")]
    for o in objectives:
        objective_of(o, None)
    corpus = build_corpus(Path(tempfile.mkdtemp(prefix="signalopt-corpus-")))
    wanted = set(args.names.split(",")) if args.names else None
    scenarios = [e.scenario_path for e in corpus if wanted is None or e.name in wanted]
    if not args.no_bundled:
        scenarios += [ROOT / "scenarios" / f"{name}.toml" for name in BUNDLED]
    counts = {o: {"worse": [], "better": [], "level": []} for o in objectives}
    advised = {o: {"worse": [], "better": [], "level": [], "kept": []} for o in objectives}
    t0 = time.perf_counter()
    for scenario in scenarios:
        got = measure(scenario_under(scenario, args.clearance_standard), objectives, budget=args.budget,
                      workers=args.workers, control=args.control)
        if isinstance(got, str):
            print(f"{scenario.stem:<28} skipped: {got}")
            continue
        for o, (d, dci, q, qci, ok, used) in got.items():
            worse = dci[0] > 0 or qci[0] > 0
            kind = "worse" if worse else "better" if min(d, q) <= BETTER_PCT else "level"
            counts[o][kind].append(scenario.stem)
            advised[o][kind if ok else "kept"].append(scenario.stem)
            print(f"{scenario.stem:<28} {o:<6} budget {used:>3}  delay {d:+6.1f}% [{dci[0]:+6.1f}, {dci[1]:+6.1f}]  "
                  f"p95 queue {q:+6.1f}% [{qci[0]:+6.1f}, {qci[1]:+6.1f}]  {kind.upper() if worse else kind}"
                  f"{'' if ok else '  (kept: existing recommended)'}")
    print(f"({(time.perf_counter() - t0) / 60:.1f} min)")
    for o in objectives:
        c = counts[o]
        n = sum(len(v) for v in c.values())
        print(f"{o}: worse on {len(c['worse'])} of {n} ({', '.join(c['worse']) or '-'}); better by >= 10% on "
              f"{len(c['better'])}; level on {len(c['level'])} ({', '.join(c['level']) or '-'})")
        report(f"{o}: scenarios where it is worse", len(c["worse"]), "0", not c["worse"])
        a = advised[o]
        print(f"{o} as recommended: worse on {len(a['worse'])} ({', '.join(a['worse']) or '-'}); existing kept on "
              f"{len(a['kept'])} ({', '.join(a['kept']) or '-'}); better by >= 10% on {len(a['better'])}; level on "
              f"{len(a['level'])}")
        report(f"{o}: scenarios where the recommendation is worse", len(a["worse"]), "0", not a["worse"])
    return 0


if __name__ == "__main__":
    run_main(main)
