"""Lights that watch the cars: who clears an evening surge's queues sooner, the fixed plan made for the ordinary
evening or a controller that responds to the traffic?

On `qixiangtai_evening_surge` (the ordinary summer evening 17:15-19:30 with the surge of 18:00-18:45 at the
corridor's south end, docs/scenarios.md), on held-out seeds, each row runs through the surge:

* `fixed`: the fixed-time plans optimised for the ordinary evening (`signalopt optimise
  scenarios/qixiangtai_evening.toml`; `--plans FILE` takes them from a plan file, otherwise they are optimised
  here with `--budget`), the "ordinary fixed plan" of the target;
* `existing`: the network's own (school-term) programmes, as they run;
* `actuated`, `delay_based`, `max_pressure`: signalopt's baselines driving the existing stages (with their
  short school-term yellows and all-reds);
* `actuated, fixed stages`: SUMO's actuated control over the fixed plans' stages (ITE clearances, their greens
  the maxima 50 s or their green if longer): the clearances of the fixed row, so a gain is not the clearances';
* `opt-actuated`: actuated settings optimised for the ordinary evening (`signalopt optimise
  scenarios/qixiangtai_evening.toml --control actuated --objective delay`; `--actuated-plans FILE`, otherwise
  optimised here with `--actuated-budget`), run by SUMO's actuated controller on signalopt's detectors;
* `responsive`: traffic-responsive plan selection (signalopt.responsive) between the fixed plans and an event
  pattern, fixed plans optimised for the surge's peak (the surge scenario's 17:45-18:45, `--event-plans FILE`,
  otherwise optimised here with `--budget`); its thresholds, hysteresis, occupancy weight and smoothing optimised
  on the surge scenario's optimiser seeds (`signalopt responsive ...`; `--responsive FILE`, otherwise searched here
  with `--selection-budget`), as an engineer would tune them on a past event's counts;
* `--candidate NAME=FILE[@CONTROLLER]` (repeatable): further plan files, fixed time or under a controller;
* `fixed, no surge`: the fixed plans on the ordinary evening, the control: the clearance measure should give 0.

Per row, means over the seeds with 95% CIs: the queue-clearance time (signalopt.surge: per approach, from the
surge's end until a whole 5-minute window's 95th-percentile back of queue is back within 10% (at least 7.5 m)
of its level in 17:30-18:00; the worst approach and the mean over the 16), the mean delay of the vehicles
departing before, during and after the surge, and the approaches whose 95th-percentile back of queue from the
surge's start to the end of the period reaches their storage (90% of the length the detectors cover, where a
jam has reached the end of it: signalopt's spillback rule). A run whose queue never clears counts with the
longest time it could show (a lower bound), and the row says so.

Target (issue "Lights watch cars"): responsive control clears the surge's queues >= 30% sooner than the ordinary
fixed plan (the worst approach's clearance, paired over seeds), with no approach's 95th-percentile queue at its
storage. Checked for every responsive row; a row with runs that never cleared cannot meet it.
Usage: python benchmarks/surge.py [--seeds 101-110 | --n-seeds N] [--plans FILE | --budget 40] [--event-plans FILE]
       [--actuated-plans FILE | --actuated-budget 16] [--responsive FILE | --selection-budget 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import ROOT, report, run_main

from signalopt._clock import clock_text, parse_time_s
from signalopt._sumo_run import CONTROLLERS, Task
from signalopt.baselines import existing_candidate
from signalopt.comparison import check_compare_seeds, paired_pct
from signalopt.errors import InputError, SimulationError
from signalopt.evaluator import parse_seeds
from signalopt.formats.planfile import read_plans, read_responsive, write_plans, write_responsive
from signalopt.metrics import RunMetrics, mean_ci95
from signalopt.optimiser import optimise
from signalopt.plan import PlanSet
from signalopt.responsive import ResponsivePlans
from signalopt.responsive_search import optimise_selection
from signalopt.prepare import window_scenario
from signalopt.session import Session
from signalopt.surge import NetworkClearance, SurgeWindow, network_clearance, period_percentile
from signalopt.trace import SERIES_STEP_S, QueueSeries, run_with_queue_series

EVENING = ROOT / "scenarios" / "qixiangtai_evening.toml"
SURGE = ROOT / "scenarios" / "qixiangtai_evening_surge.toml"
#: The surge of qixiangtai_evening_surge (scenarios/make_counts.py SURGE_QUARTERS) [s of the day].
SURGE_BEGIN_S, SURGE_END_S = parse_time_s("18:00"), parse_time_s("18:45")
#: The baselines that respond to the traffic (signalopt/baselines.py), each a row.
RESPONSIVE = ("actuated", "delay_based", "max_pressure")
#: Share of its storage at which an approach's queue has reached the end of it (as _sumo_run's spillback).
FULL_SHARE = 0.9
#: Warm-up of the event pattern's optimisation window, which ends 15 minutes after the surge [s].
EVENT_WARMUP_S = 900.0
#: The clearance-time cut the issue asks of responsive control against the ordinary fixed plan [%].
TARGET_CUT_PCT = 30.0


@dataclass(frozen=True)
class Row:
    """One controller run through the surge (or, for the control, the ordinary evening)."""

    name: str
    plans: PlanSet
    controller: str
    surge: bool = True
    responsive: bool = False
    section: ResponsivePlans | None = None


@dataclass(frozen=True)
class RunFigures:
    """What one run of a row gives."""

    seed: int
    clearance: NetworkClearance
    delay_s: dict[str, float]      # period name -> mean delay of the vehicles departing in it [s/veh]
    p95_queue_m: dict[str, float]  # approach -> 95th-percentile back of queue, surge start to period end [m]
    storage_m: dict[str, float]
    teleports: int
    patterns: tuple[tuple[float, float, int], ...] = ()


def periods(session: Session) -> tuple[tuple[str, float, float], ...]:
    """Reporting periods: before the surge (from the end of warm-up), during it, after it (to the end)."""
    sc = session.scenario
    return (("before", sc.begin_s + sc.warmup_s, SURGE_BEGIN_S), ("surge", SURGE_BEGIN_S, SURGE_END_S),
            ("after", SURGE_END_S, sc.end_s))


def figures(metrics: RunMetrics, series: QueueSeries, surge: SurgeWindow, end_s: float) -> RunFigures:
    clearance = network_clearance(series.queues_m, start_s=series.start_s, step_s=series.step_s, surge=surge)
    p95 = {a: period_percentile(q, start_s=series.start_s, step_s=series.step_s, begin_s=surge.begin_s, end_s=end_s)
           for a, q in series.queues_m.items()}
    return RunFigures(metrics.seed, clearance, {p.name: p.delay_s for p in metrics.periods}, p95, series.storage_m,
                      metrics.teleports, metrics.patterns)


def run_rows(rows: list[Row], seeds: tuple[int, ...], sessions: dict[bool, Session]) -> dict[str, list[RunFigures]]:
    """Every row on every seed, all in one batch on the surge session's executor."""
    tasks, keys = [], []
    for row in rows:
        s = sessions[row.surge]
        for seed in seeds:
            tasks.append((Task(s.prepared, seed, row.plans, row.controller, bins=periods(s), responsive=row.section),
                           SERIES_STEP_S))
            keys.append(row)
    outcomes = sessions[True].executor.map(run_with_queue_series, tasks)
    failed = [o.error for o in outcomes if not o.ok]
    if failed:
        raise SimulationError(f"{len(failed)} of {len(outcomes)} simulations failed: {failed[0]}")
    out: dict[str, list[RunFigures]] = {r.name: [] for r in rows}
    for row, outcome in zip(keys, outcomes):
        sc = sessions[row.surge].scenario
        surge = SurgeWindow(sc.begin_s + sc.warmup_s, SURGE_BEGIN_S, SURGE_END_S)
        out[row.name].append(figures(*outcome.value, surge, sc.end_s))
    return out


def fixed_plans(args: argparse.Namespace, evening: Session, out_dir: Path) -> PlanSet:
    """The ordinary evening's optimised fixed plans: from ``--plans``, or optimised now (and written)."""
    if args.plans:
        plans = read_plans(args.plans, network=evening.network)
        print(f"fixed plans: {args.plans}")
    else:
        t0 = time.perf_counter()
        result = optimise(evening, budget=args.budget, rng=0)
        plans = result.best_plans
        path = write_plans(plans, out_dir / "evening_fixed_plans.json",
                           provenance={"scenario": evening.scenario.name, "digest": evening.scenario.digest,
                                       "budget": args.budget, "rng": 0,
                                       "seeds": list(evening.scenario.optimise_seeds)})
        print(f"fixed plans: optimised on {evening.scenario.name} (budget {args.budget}, seeds "
              f"{','.join(map(str, evening.scenario.optimise_seeds))}) in {(time.perf_counter() - t0) / 60:.1f} min, "
              f"written to {path}")
    return evening.existing.replace_plans(plans.plans, name="fixed")


def actuated_plans(args: argparse.Namespace, evening: Session, out_dir: Path) -> PlanSet:
    """Actuated settings optimised for the ordinary evening: from ``--actuated-plans``, or optimised now."""
    if args.actuated_plans:
        plans = read_plans(args.actuated_plans, network=evening.network)
        print(f"actuated settings: {args.actuated_plans}")
    else:
        t0 = time.perf_counter()
        result = optimise(evening, objective="delay", budget=args.actuated_budget, rng=0, control="actuated")
        plans = result.best_plans
        path = write_plans(plans, out_dir / "evening_actuated_plans.json", provenance=result.provenance)
        print(f"actuated settings: optimised on {evening.scenario.name} (delay, budget {args.actuated_budget}) in "
              f"{(time.perf_counter() - t0) / 60:.1f} min, written to {path}")
    return evening.existing.replace_plans(plans.plans, name="opt-actuated")


def responsive_section_for(args: argparse.Namespace, surge: Session, fixed: PlanSet, out_dir: Path
                           ) -> ResponsivePlans:
    """The responsive section: from ``--responsive``, or the event pattern and the selection optimised now."""
    if args.responsive:
        section, _ = read_responsive(args.responsive, network=surge.network)
        print(f"responsive section: {args.responsive}")
        return section
    if args.event_plans:
        event = read_plans(args.event_plans, network=surge.network)
        print(f"event pattern: {args.event_plans}")
    else:
        t0 = time.perf_counter()
        peak = window_scenario(surge.scenario, begin_s=SURGE_BEGIN_S - EVENT_WARMUP_S, end_s=SURGE_END_S + 900.0,
                               warmup_s=EVENT_WARMUP_S, folder=out_dir / "event_window")
        with Session(peak, executor=surge.executor) as session:
            event = optimise(session, budget=args.budget, rng=0).best_plans
        write_plans(event, out_dir / "event_plans.json", provenance={"scenario": peak.name, "budget": args.budget})
        print(f"event pattern: optimised on {peak.name} (budget {args.budget}) in "
              f"{(time.perf_counter() - t0) / 60:.1f} min, written to {out_dir / 'event_plans.json'}")
    t0 = time.perf_counter()
    result = optimise_selection(surge, [PlanSet(fixed.plans, name="ordinary"), PlanSet(event.plans, name="event")],
                                budget=args.selection_budget, rng=0)
    path = write_responsive(result.best, out_dir / "responsive.json",
                            provenance={"scenario": surge.scenario.name, "seeds": list(result.seeds),
                                        "budget": args.selection_budget})
    sel = result.best.selection
    print(f"responsive selection: {len(result.trials)} settings on seeds {','.join(map(str, result.seeds))} in "
          f"{(time.perf_counter() - t0) / 60:.1f} min: threshold {', '.join(f'{t:g}' for t in sel.thresholds)}, "
          f"hysteresis {sel.hysteresis:g}, occupancy weight {sel.occupancy_weight:g}, smoothing {sel.smoothing:g}; "
          f"written to {path}")
    return result.best


def extra_rows(specs: list[str], session: Session) -> list[Row]:
    """``NAME=FILE[@CONTROLLER]`` -> responsive rows (a plan file run under a controller, static by default)."""
    rows = []
    for spec in specs:
        name, sep, rest = spec.partition("=")
        path, _, controller = rest.partition("@")
        controller = controller or "static"
        if not sep or not name or not path or controller not in CONTROLLERS or controller == "responsive":
            raise InputError("--candidate", f"expected NAME=FILE[@CONTROLLER], CONTROLLER one of "
                                            f"{', '.join(CONTROLLERS)}", spec)
        plans = read_plans(path, network=session.network)
        rows.append(Row(name, session.existing.replace_plans(plans.plans, name=name), controller, responsive=True))
    return rows


def summary(runs: list[RunFigures], reference: list[RunFigures] | None) -> dict:
    """Means with 95% CIs over the seeds, and the paired cut of the worst clearance against ``reference``."""
    worst = [r.clearance.worst_bound_s / 60 for r in runs]
    out = {
        "worst_min": mean_ci95(worst, lower=0.0),
        "mean_min": mean_ci95([r.clearance.mean_bound_s / 60 for r in runs], lower=0.0),
        "censored": sum(1 for r in runs if r.clearance.never_cleared),
        "delay": {k: mean_ci95([r.delay_s[k] for r in runs], lower=0.0) for k in runs[0].delay_s},
        "teleports": float(np.mean([r.teleports for r in runs])),
    }
    labels = list(runs[0].p95_queue_m)
    p95 = {a: float(np.mean([r.p95_queue_m[a] for r in runs])) for a in labels}
    out["at_storage"] = [a for a in labels if p95[a] >= FULL_SHARE * runs[0].storage_m[a]]
    names = [r.clearance.worst_approach for r in runs if r.clearance.worst_bound_s > 0]  # all 0: no worst one
    out["worst_approach"] = max(sorted(set(names)), key=names.count) if names else "-"
    if reference is not None:
        ref = [r.clearance.worst_bound_s / 60 for r in reference]
        pct, lo, hi = paired_pct(worst, ref)
        out["cut_pct"] = (-pct, -hi, -lo)  # a cut is a negative change
    return out


def fmt(ci: tuple[float, float, float], censored: int = 0) -> str:
    m, lo, hi = ci
    return f"{'>=' if censored else ''}{m:.1f} [{lo:.1f}, {hi:.1f}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="101-110", help="held-out seeds (default 101-110)")
    ap.add_argument("--n-seeds", type=int, help="only the first N of --seeds (fewer simulations)")
    ap.add_argument("--plans", help="the ordinary evening's fixed plans (a signalopt plan file); default: optimise")
    ap.add_argument("--budget", type=int, default=40, help="optimiser budget when --plans is not given")
    ap.add_argument("--event-plans", help="the event pattern's fixed plans (default: optimise on the surge's peak)")
    ap.add_argument("--actuated-plans", help="optimised actuated settings (default: optimise with --actuated-budget)")
    ap.add_argument("--actuated-budget", type=int, default=16)
    ap.add_argument("--responsive", help="a responsive plan file (default: search with --selection-budget)")
    ap.add_argument("--selection-budget", type=int, default=16)
    ap.add_argument("--candidate", action="append", default=[], metavar="NAME=FILE[@CONTROLLER]")
    ap.add_argument("--no-control", action="store_true", help="skip the fixed plans on the ordinary evening")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="out-benchmark/surge")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)[:args.n_seeds] if args.n_seeds else parse_seeds(args.seeds)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with Session(SURGE, workers=args.workers) as surge, Session(EVENING, executor=surge.executor) as evening:
        check_compare_seeds(seeds, evening.scenario.optimise_seeds)
        fixed = fixed_plans(args, evening, out_dir)
        rows = [Row("fixed", fixed, "static"), Row(*_existing(surge))]
        rows += [Row(c, PlanSet(surge.existing.plans, name=c), c, responsive=True) for c in RESPONSIVE]
        rows.append(Row("actuated, fixed stages", fixed, "actuated", responsive=True))
        rows.append(Row("opt-actuated", actuated_plans(args, evening, out_dir), "static", responsive=True))
        section = responsive_section_for(args, surge, fixed, out_dir)
        rows.append(Row("responsive", section.patterns[0], "responsive", responsive=True, section=section))
        rows += extra_rows(args.candidate, surge)
        if not args.no_control:
            rows.append(Row("fixed, no surge", fixed, "static", surge=False))
        t_sim = time.perf_counter()
        runs = run_rows(rows, seeds, {True: surge, False: evening})
        sim_min = (time.perf_counter() - t_sim) / 60
    # the cut is against the fixed plans through the same surge, seed by seed (not for the control)
    stats = {r.name: summary(runs[r.name], runs["fixed"] if r.surge and r.name != "fixed" else None) for r in rows}
    (out_dir / "results.json").write_text(json.dumps({
        "seeds": list(seeds), "surge": [SURGE_BEGIN_S, SURGE_END_S],
        "rows": [{"name": r.name, "controller": r.controller, "surge": r.surge, "runs": [
            {"seed": f.seed, "worst_clearance_s": _finite(f.clearance.worst_s),
             "mean_clearance_s": _finite(f.clearance.mean_s), "worst_approach": f.clearance.worst_approach,
             "never_cleared": list(f.clearance.never_cleared), "delay_s": f.delay_s, "p95_queue_m": f.p95_queue_m,
             "teleports": f.teleports} for f in runs[r.name]]} for r in rows]}, indent=1), encoding="utf-8")

    print(f"\n{SURGE.stem}: surge 18:00-18:45, held-out seeds {','.join(map(str, seeds))} "
          f"(means over seeds, 95% CI; >= : some runs never cleared, counted at the longest time they could show)")
    head = (f"{'row':<22} {'controller':<12} {'worst clear. min':>20} {'mean clear. min':>18} {'cut vs fixed %':>22} "
            f"{'delay before':>20} {'delay surge':>20} {'delay after':>20}  worst approach / at storage")
    print(head)
    for r in rows:
        s = stats[r.name]
        cut = f"{s['cut_pct'][0]:+.0f} [{s['cut_pct'][1]:+.0f}, {s['cut_pct'][2]:+.0f}]" if "cut_pct" in s else "-"
        print(f"{r.name:<22} {r.controller:<12} {fmt(s['worst_min'], s['censored']):>20} "
              f"{fmt(s['mean_min'], s['censored']):>18} {cut:>22} "
              + " ".join(f"{fmt(s['delay'][k]):>20}" for k in ("before", "surge", "after"))
              + f"  {s['worst_approach']} / {', '.join(s['at_storage']) or '-'}"
              + (f"  ({s['censored']} of {len(seeds)} runs never cleared)" if s["censored"] else ""))
    print("clearance: minutes after 18:45 [min]; delay: s/veh of the vehicles departing 17:30-18:00, 18:00-18:45, "
          "18:45-19:30; at storage: 95th-percentile back of queue 18:00-19:30 >= 90% of storage")

    met = []
    for r in rows:
        if not r.responsive:
            continue
        s = stats[r.name]
        cut, least = s["cut_pct"][0], s["cut_pct"][1]
        clears = cut >= TARGET_CUT_PCT and not s["censored"]
        report(f"{r.name}: clearance cut [%]", cut, f">= {TARGET_CUT_PCT:g}", clears)
        report(f"{r.name}: least cut, 95% CI [%]", least, f">= {TARGET_CUT_PCT:g}", least >= TARGET_CUT_PCT)
        report(f"{r.name}: approaches at storage (p95)", len(s["at_storage"]), "0", not s["at_storage"])
        if clears and not s["at_storage"]:
            met.append(r.name)
    for r in rows:
        if r.section is not None:
            print(f"{r.name}: {switch_summary(runs[r.name])}")
    control = stats.get("fixed, no surge")
    if control is not None:  # what the measure reads without a surge: 0 unless ordinary queues fluctuate past it
        print(f"control, the fixed plans on the ordinary evening: worst clearance {fmt(control['worst_min'])} min, "
              f"mean {fmt(control['mean_min'])} min")
    print(f"target (responsive control clears >= {TARGET_CUT_PCT:g}% sooner, no approach at storage): "
          f"{'MET by ' + ', '.join(met) if met else 'NOT MET'}")
    print(f"simulations: {len(rows) * len(seeds)} in {sim_min:.1f} min; total {(time.perf_counter() - t0) / 60:.1f} min; "
          f"every run's figures in {out_dir / 'results.json'}")
    return 0


def switch_summary(runs: list[RunFigures]) -> str:
    """When the responsive runs went to a heavier pattern and back: median clock times over the seeds."""
    ups, downs = [], []
    for r in runs:
        up = next((t for t, _, k in r.patterns if k > 0), None)
        if up is not None:
            ups.append(up)
            down = next((t for t, _, k in r.patterns if t > up and k == 0), None)
            if down is not None:
                downs.append(down)
    if not ups:
        return f"never left the ordinary pattern in {len(runs)} runs"
    text = f"went to the event pattern in {len(ups)} of {len(runs)} runs, median {clock_text(float(np.median(ups)))}"
    return text + (f"; back in {len(downs)}, median {clock_text(float(np.median(downs)))}" if downs else "; never back")


def _finite(value: float) -> float | None:
    """A clearance time for JSON: None when the queue never cleared."""
    return value if math.isfinite(value) else None


def _existing(session: Session) -> tuple[str, PlanSet, str]:
    c = existing_candidate(session.scenario, session.existing)
    return c.name, c.plans, c.controller


if __name__ == "__main__":
    run_main(main)
