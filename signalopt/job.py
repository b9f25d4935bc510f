"""The main job: simulate the existing plans, optimise, compare with baselines on held-out seeds, report, export."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .baselines import (BASELINES, Candidate, applicable_baselines, baseline_candidates, existing_candidate,
                        made_safe)
from ._sumo_run import Task
from .analytic import lane_groups
from .comparison import DEFAULT_COMPARE_SEEDS, Comparison, check_compare_seeds, compare, recommendation
from .actuated import runs_in_nema
from .actuated_encoding import make_coordinated_encoding
from .encoding import make_encoding
from .errors import InputError
from .evaluator import simulate
from .export import export_plans
from .journal import read_meta
from .optimiser import OptimiseResult, check_budget, optimise
from .objective import NoWorseThan, Objective, objective_name
from .pareto import FrontResult, optimise_front, parse_objectives
from .prepare import street_control
from .report import (plot_approach_queues, plot_pcd, plot_queue_over_time, plot_ring_diagrams,
                     plot_split_monitor, plot_time_space, write_report)
from .scenario import Scenario
from .session import Session, borrow_session, scenario_of
from .study import CONTROLS
from .trace import find_corridor, pcd_groups, run_trace

#: Scenario ``signalopt run`` uses when none is named.
DEFAULT_SCENARIO = "qixiangtai_summer_am.toml"
#: The default budget [new plan sets] is what fits in this much simulation wall time [min] at the speed the
#: existing timing's runs were measured at (:func:`default_budget`), at least :data:`DEFAULT_BUDGET` and at
#: most :data:`MAX_DEFAULT_BUDGET`: the bundled corridor gets 12 (about five minutes for the whole job on 2
#: cores); a junction that simulates in a fraction of a second gets 100, which on the corpus and the bundled
#: scenarios took those whose plans came out worse than the existing timing from 8 of 20 to 3
#: (docs/benchmarks.md).
DEFAULT_SEARCH_MIN = 1.5
DEFAULT_BUDGET = 12
MAX_DEFAULT_BUDGET = 100
#: Candidates searched on the analytic model first (milliseconds each) to seed the simulated search.
DEFAULT_PRESEARCH = 400


def find_default_scenario() -> Path:
    """The bundled summer AM scenario, from the working directory or the source checkout."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[1]):
        path = root / "scenarios" / DEFAULT_SCENARIO
        if path.exists():
            return path
    raise InputError(f"scenarios/{DEFAULT_SCENARIO}", "bundled scenario not found; run from the signalopt checkout "
                                                      "or name a scenario", str(Path.cwd()))


def check_retimable(session: Session, *, control: str = "fixed") -> list[str]:
    """What making the existing plans safe changes (one note each), or :class:`InputError` for what stops the
    optimiser (foes neither yields, minimum splits beyond the cycle; for ``control="coordinated"``, stages
    SUMO's NEMA controller cannot run): checked before any simulation."""
    scen, network, existing = session.scenario, session.network, session.existing
    _, notes = made_safe(existing, network, scen.timing)
    make = make_coordinated_encoding if control == "coordinated" else make_encoding
    make(network, existing, scen.timing, source=str(scen.path))
    return notes


#: ``control`` that retimes the kind of controller the signals run today (:func:`resolve_control`).
AUTO_CONTROL = "auto"
_CONTROL_NOTE = {"fixed": "", "actuated": ", actuated settings", "coordinated": ", coordinated-actuated"}


def _checked_control(control: str) -> str:
    if control != AUTO_CONTROL and control not in CONTROLS:
        raise InputError("--control", f"control must be {AUTO_CONTROL} or one of {', '.join(CONTROLS)}", control)
    return control


def resolve_control(session: Session, control: str) -> tuple[str, str]:
    """``control`` as the optimiser takes it, and why: ``"auto"`` is the kind of controller the retimed signals
    run today (:func:`~signalopt.prepare.street_control`); any other value is returned as given."""
    if control != AUTO_CONTROL:
        return _checked_control(control), f"--control {control}"
    return street_control(session.scenario, session.network, session.existing.signal_ids)


def default_budget(sim_s: float, *, n_opt_seeds: int, workers: int) -> int:
    """New plan sets [-] that fit in :data:`DEFAULT_SEARCH_MIN` of simulation, given one simulation's wall time
    ``sim_s`` [s] on ``n_opt_seeds`` seeds and ``workers`` processes, clipped to [:data:`DEFAULT_BUDGET`,
    :data:`MAX_DEFAULT_BUDGET`]."""
    # a generation's plan sets and seeds share the workers
    per_plan_s = max(sim_s, 1e-3) * n_opt_seeds / max(1, workers)
    return int(np.clip(DEFAULT_SEARCH_MIN * 60.0 // per_plan_s, DEFAULT_BUDGET, MAX_DEFAULT_BUDGET))


def _resumed_budget(run_dir: Path) -> int | None:
    """The budget an interrupted job started with (its journal's meta), so that a resumed job does not size
    its default again from a simulation time measured on a differently loaded machine."""
    try:
        budget = read_meta(run_dir).get("budget")
    except (OSError, ValueError, AttributeError):
        return None
    return budget if isinstance(budget, int) and budget > 0 else None


def estimate_minutes(sim_s: float, *, budget: int, n_opt_seeds: int, n_compare: int, workers: int) -> float:
    """Wall-time estimate [min] from one simulation's time: optimiser + comparison + traces."""
    sims = budget * n_opt_seeds + n_compare + 2
    return sims * sim_s / max(1, workers) / 60 * 1.1


@dataclass(frozen=True)
class JobResult:
    """What ``signalopt run`` produced."""

    out_dir: Path
    result: OptimiseResult | None
    comparison: Comparison
    report: Path
    plans_dir: Path
    wall_s: float
    #: with ``objectives``: the Pareto front (``result`` is then None)
    front: FrontResult | None = None
    #: what the job recommends: the retimed plans' name, or ``existing`` when they did not beat the existing
    #: timing on the optimiser's seeds (:func:`~signalopt.comparison.recommendation`), and why
    recommended: str = ""
    advice: str = ""
    #: new plan sets the optimiser was given (the default sized by the simulation time, or ``budget``)
    budget: int = 0
    #: what was retimed (``fixed``, ``actuated``, ``coordinated``: ``auto`` resolved, :func:`resolve_control`)
    control: str = ""

    @property
    def candidates(self) -> tuple[str, ...]:
        """Names of the retimed plan sets in the comparison: ``optimised``, or the front's ``knee`` and
        ``best-<objective>``."""
        return tuple(p.name for p in self.front.candidates()) if self.front is not None else ("optimised",)


def run_job(scenario: Scenario | str | Path | Session | None = None, *, budget: int | None = None,
            out_dir: str | Path = "out", seeds: Sequence[int] | None = None,
            compare_seeds: Sequence[int] = DEFAULT_COMPARE_SEEDS, baselines: Sequence[str] = BASELINES,
            workers: int = 2, rng: int = 0, resume: bool = False, progress: bool = True,
            analytic_presearch: int = DEFAULT_PRESEARCH, objective: Objective = "queue",
            objectives: str | Sequence[str] | None = None, control: str = AUTO_CONTROL, guard: bool = True,
            log=print, executor: Any = None) -> JobResult:  # noqa: ANN001 - any print-like callable
    """Run the main job end to end (see module docstring); returns where everything went.

    ``objective`` is what the optimiser minimises (:func:`signalopt.objective.objective_value`; ``queue``, chosen
    by measurement: docs/cli.md).  With ``guard`` (the default) a named or weighted objective is held to the
    existing timing as it runs (:class:`~signalopt.objective.NoWorseThan`): the optimiser pays heavily for
    plans with more delay or a longer 95th-percentile queue than the existing timing on its seeds, so it does
    not buy a shorter queue with delay.  With ``objectives`` (two or more of :data:`signalopt.pareto.FRONT_OBJECTIVES`)
    the optimiser searches the Pareto front (:func:`~signalopt.pareto.optimise_front`, no analytic pre-search: its first generation holds the
    warm starts), and the front's knee and each objective's best are compared and exported as ``knee``,
    ``best-<objective>``.  ``control`` is what is retimed: ``"fixed"`` fixed-time plans; ``"actuated"``
    actuated settings over the existing stages (:mod:`signalopt.actuated_encoding`); ``"coordinated"``
    fixed-time plans run coordinated-actuated (:class:`~signalopt.actuated_encoding.CoordinatedEncoding`),
    exported for SUMO's NEMA controller (``--format nema``) beside the signalopt JSON; ``"auto"`` (the
    default) the kind of controller the signals run today (:func:`resolve_control`).

    One :class:`~signalopt.session.Session` (network, existing plans, prepared demand, executor) serves
    every stage.  ``executor`` (an :class:`~signalopt.executors.Executor`) runs every simulation; default
    a process pool of ``workers``.  The caller closes it.
    """
    t0 = time.perf_counter()
    if budget is not None:
        check_budget(budget)  # before the first simulation, not after it
    _checked_control(control)
    objectives = parse_objectives(objectives) if objectives is not None else None
    scen = scenario_of(scenario if scenario is not None else find_default_scenario())
    opt_seeds = tuple(seeds) if seeds is not None else scen.optimise_seeds
    # refused now, not after the optimiser has spent its budget
    check_compare_seeds(compare_seeds, opt_seeds, source="--compare-seeds")
    session, own = borrow_session(scenario if isinstance(scenario, Session) else scen, workers=workers,
                                  executor=executor)
    try:
        return _run(session, budget=budget, out=Path(out_dir), opt_seeds=opt_seeds, compare_seeds=compare_seeds,
                    baselines=baselines, workers=workers, rng=rng, resume=resume, progress=progress,
                    analytic_presearch=analytic_presearch, objective=objective, objectives=objectives, log=log,
                    t0=t0, control=control, guard=guard)
    finally:
        if own:
            session.close()


def _run(session: Session, *, budget: int | None, out: Path, opt_seeds: tuple[int, ...], compare_seeds: Sequence[int],
         baselines: Sequence[str], workers: int, rng: int, resume: bool, progress: bool, analytic_presearch: int,
         objective: Objective, objectives: tuple[str, ...] | None, log,  # noqa: ANN001 - any print-like callable
         t0: float, control: str = AUTO_CONTROL, guard: bool = True) -> JobResult:
    scen, network, existing = session.scenario, session.network, session.existing
    prepared = session.prepared  # route generation, once, before any timing
    log(f"scenario {scen.name}: {len(network.signals)} signals, {scen.duration_s / 60:.0f} min simulated, "
        f"optimiser seeds {','.join(map(str, opt_seeds))}, comparison seeds {compare_seeds[0]}..{compare_seeds[-1]}")
    control, why = resolve_control(session, control)
    log(f"control: {control} ({why})")
    # everything that would stop the job after the budget is refused or settled now, before any simulation:
    # plans that cannot be made safe, minimum splits that do not fit, baselines that cannot run
    safety_notes = check_retimable(session, control=control)
    names, skipped = applicable_baselines(scen, baselines)
    for note in (*safety_notes, *skipped):
        log(note)
    others = baseline_candidates(scen, network, existing, tuple(n for n in names if n != "existing"))

    # the existing timing as it runs, on every optimiser seed: the reference the retimed plans must beat to be
    # recommended (and the time one simulation takes)
    existing_metrics = simulate(session, seeds=opt_seeds)
    sim_s = float(np.median([r.sim_time_s for r in existing_metrics.runs]))
    if budget is None:
        budget = _resumed_budget(out / "run") if resume else None
        budget = budget or default_budget(sim_s, n_opt_seeds=len(opt_seeds), workers=workers)
        log(f"budget: {budget} new plan sets (what fits in about {DEFAULT_SEARCH_MIN:g} min of simulation, "
            f"{DEFAULT_BUDGET} to {MAX_DEFAULT_BUDGET}; --budget sets it)")
    # the existing timing, the baselines, the optimised plans (a front's knee and ends)
    n_compare = len(compare_seeds) * (len(others) + 1 + (1 + len(objectives) if objectives else 1))
    minutes = estimate_minutes(sim_s, budget=budget, n_opt_seeds=len(opt_seeds), n_compare=n_compare,
                               workers=workers)
    log(f"existing plans: mean max queue {existing_metrics.mean_max_queue_m:.1f} m, delay "
        f"{existing_metrics.delay_s:.1f} s/veh (seeds {','.join(map(str, opt_seeds))}); one simulation takes "
        f"{sim_s:.1f} s")
    log(f"estimated wall time: about {minutes:.1f} min ({budget} new plan sets x {len(opt_seeds)} seeds, "
        f"then {n_compare} comparison runs, {workers} workers; adaptive baselines and a loaded machine take "
        f"longer: the progress bars show the time left as measured)")

    result = front = None
    if objectives:
        front = optimise_front(session, objectives=objectives, budget=budget, seeds=opt_seeds, rng=rng,
                               run_dir=out / "run", resume=resume, progress=progress, control=control)
        chosen = front.candidates()
        note = (f"Optimiser: {front.provenance['method']} (optuna) over {', '.join(objectives)}, {front.n_plans} "
                f"plan sets on seeds {list(opt_seeds)}; a front of {len(front.members)}; compared: its knee (nearest the ideal point "
                f"on objectives scaled over the front) and each objective's best.")
        log(f"front: {len(front.members)} plan sets ({front.nsim_run} new simulations; {front.message})\n"
            f"{front.table()}")
    else:
        if guard and not callable(objective):
            objective = NoWorseThan(objective, existing_metrics)
        result = optimise(session, objective=objective, budget=budget, seeds=opt_seeds, rng=rng,
                          run_dir=out / "run", resume=resume, progress=progress, control=control,
                          options={"analytic_presearch": analytic_presearch})
        log(f"optimised: objective ({objective_name(objective)}) {result.x0_fun:.1f} at the start (the existing plans as the encoding holds "
            f"them: {scen.timing.clearance_rule}{'' if control == 'actuated' else ', one common cycle'}) "
            f"-> {result.fun:.1f} ({result.nfev} candidates, {result.nsim_run} new simulations; {result.message})")
        chosen = [result.best_plans]
        note = (f"Optimiser: {result.method}{_CONTROL_NOTE[control]}, "
                f"{result.nfev} candidate plans on seeds {list(opt_seeds)}; "
                f"objective ({objective_name(objective)}) {result.x0_fun:.1f} at its start (the existing plans "
                f"within its encoding) -> {result.fun:.1f}.")
    best = chosen[0]  # the optimised plans, or the front's knee
    best_metrics = front.knee().metrics if front is not None else result.best_metrics
    ok, advice = recommendation(best_metrics, existing_metrics, name=best.name)
    recommended = best.name if ok else "existing"
    if not ok and safety_notes:
        advice += (f" The existing timing falls short of a minimum ({scen.timing.clearance_rule}; "
                   f"existing-safe: the same plans made safe).")
    log(advice)

    log(f"comparing against {', '.join(names)} on {len(compare_seeds)} held-out seeds ...")
    comparison = compare(session, [*others, *(Candidate(p.name, p) for p in chosen)], seeds=compare_seeds,
                         baselines=("existing",), optimiser_seeds=opt_seeds, progress=progress)

    plans_dir = out / "plans"
    provenance: dict[str, Any] = {**(front or result).provenance, "compare_seeds": list(compare_seeds)}
    for plans in chosen:
        # a retiming never shortens a change interval the street runs
        export_plans(plans, "json", plans_dir / f"{plans.name}.json", network=network, timing=scen.timing,
                     provenance=provenance, existing=existing)
        # SUMO's stage-based programmes have no force-offs; its NEMA controller has
        nema = any(runs_in_nema(p.actuation) for p in plans)
        export_plans(plans, "nema" if nema else "sumo", plans_dir / f"{plans.name}.add.xml",
                     network=network, timing=scen.timing, provenance=provenance, existing=existing)

    corridor = find_corridor(prepared.network_path, prepared.signal_ids)
    trace_seed = compare_seeds[0]
    runs_as = existing_candidate(scen, existing).controller
    volumes = {r["group"]: r["volume_veh_h"] for r in comparison.row("existing").metrics.movement_table()}
    groups = lane_groups(network, prepared.signal_ids)
    coordinated = pcd_groups(groups, corridor, volumes)
    outcomes = session.executor.map(run_trace, [
        (Task(prepared, trace_seed, existing, runs_as, groups=coordinated), "existing", corridor, groups),
        (Task(prepared, trace_seed, best, groups=coordinated), best.name, corridor, groups)])
    traces = [o.value for o in outcomes if o.ok]
    figs_dir = out / "figures"
    figures = [plot_approach_queues(comparison, figs_dir / "approach_queues.png"),
               plot_ring_diagrams([existing, best], figs_dir / "ring_diagrams.png")]
    if traces:
        figures.insert(0, plot_queue_over_time(traces, figs_dir / "queue_over_time.png"))
        figures.append(plot_time_space(traces, figs_dir / "time_space.png"))
        figures.append(plot_pcd(traces, figs_dir / "coordination_diagrams.png"))
        figures.append(plot_split_monitor(traces, figs_dir / "split_monitor.png"))
    notes = [note,
             *comparison.notes,
             f"Clearances: {scen.timing.clearance_rule}; no plan shortens a yellow or all-red the network's own "
             f"programme runs longer.",
             "Adaptive baselines (actuated, delay_based, max_pressure) drive the existing stages; sumo-webster is "
             "SUMO's tlsCycleAdaptation.py on the same demand; webster is signalopt's pedestrian-safe Webster.",
             f"Traces (queue over time, time-space, coordination diagrams, split monitor) use seed {trace_seed}; the "
             f"coordination diagrams show {'the corridor' if corridor else 'each signal' + chr(39) + 's busiest'} "
             f"through approach{'es' if len(coordinated) > 1 else ''}."]
    notes += [f"trace failed: {o.error}" for o in outcomes if not o.ok]
    report = write_report(out, comparison, figures=figures, title=f"signalopt: {scen.name}",
                          provenance=provenance, notes=notes, recommendation=advice, recommended=recommended)
    return JobResult(out, result, comparison, report, plans_dir, time.perf_counter() - t0, front, recommended,
                     advice, budget, control)
