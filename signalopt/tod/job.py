"""The time-of-day job: segment, retime each period, simulate whole days, write the outputs.

``time_of_day`` segments the day's movement counts into periods
(:func:`signalopt.segment.segment_day`), optimises one plan set per period on
that period's representative hour (warm-started from the previous period's
best; actuated control: settings one controller holds all day, two sets of
maxima for two groups of periods, :func:`maxima_groups`), simulates the
whole day under the existing schedule and the new one on held-out seeds
(plans switching safely at the breakpoints, see :mod:`signalopt.schedule`),
and reports queue and delay per period and for the day with 95% CIs.  With lane-use variants it does all of this per
variant and says which lane use wins in which period.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._sumo_run import Task
from ..actuated_encoding import shared_settings_at
from .._xml import atomic_write_text
from ..demand import PedCount, TurnCount
from ..errors import InputError, PlanError, SimulationError
from ..evaluator import SumoEvaluator
from ..executors import Executor
from ..metrics import Metrics
from ..network import Network
from ..optimiser import check_budget, optimise
from ..plan import PlanSet
from ..formats.planfile import write_plans
from ..provenance import run_provenance, timing_fields
from ..prepare import (existing_controller, load_network, scenario_counts, scenario_ped_counts, scenario_plans,
                       scenario_schedule, street_control)
from ..programs import adaptive_signal_ids
from ..scenario import Scenario, variant_scenario
from ..session import Session, scenario_of
from .._clock import clock_text
from ..schedule import Schedule, SchedulePeriod
from ..segment import Segmentation, representative_counts, segment_day
from .rows import DayRow, TodResult, day_rows, lane_use_winners
from .report import write_tod_report
from ..export import export_schedule

#: Held-out seeds for the day comparison (disjoint from the optimiser's 1, 2, 3).
DEFAULT_DAY_SEEDS = (101, 102, 103, 104, 105)
#: Warm-up of each period's representative-hour scenario [s].
PERIOD_WARMUP_S = 900.0  # at least; rounded up to whole count intervals


def _period_name(k: int, b: float, e: float) -> str:
    return f"P{k + 1} {clock_text(b)}-{clock_text(e)}"


def _representative_peds(peds: Sequence[PedCount], begin_s: float, end_s: float, rep_begin_s: float,
                         interval_s: float) -> list[PedCount]:
    """Mean pedestrian count per interval of a period, tiled over its representative hour."""
    inside = [p for p in peds if begin_s - 1e-6 <= p.begin_s < end_s - 1e-6]
    if not inside:
        return []
    n_int = max(1, int(round((end_s - begin_s) / interval_s)))
    sums: dict[tuple[str, str], float] = {}
    for p in inside:
        sums[(p.signal_id, p.crossing)] = sums.get((p.signal_id, p.crossing), 0.0) + p.pedestrians
    steps = int(round(3600 / interval_s))
    return [PedCount(rep_begin_s + k * interval_s, sid, cr, round(total / n_int, 2))
            for k in range(steps) for (sid, cr), total in sorted(sums.items())]


def _write_period_scenario(folder: Path, scenario: Scenario, counts: list[TurnCount], peds: list[PedCount],
                           existing: PlanSet, begin_s: float) -> Path:
    """A one-hour scenario of a period's representative demand, the existing period plan as its plans."""
    folder.mkdir(parents=True, exist_ok=True)
    # whole count intervals of warm-up, so the period's own counts stay on the grid from its begin
    warmup_s = math.ceil(PERIOD_WARMUP_S / scenario.interval_s - 1e-9) * scenario.interval_s
    warm = [TurnCount(c.begin_s - warmup_s, c.signal_id, c.approach, c.movement, c.vehicles)
            for c in counts if c.begin_s < begin_s + warmup_s - 1e-6]
    rows = ["interval,intersection,approach,movement,vehicles"]
    rows += [f"{c.begin_s:g},{c.signal_id},{c.approach},{c.movement},{c.vehicles:g}" for c in [*warm, *counts]]
    atomic_write_text(folder / "counts.csv", "\n".join(rows) + "\n")
    toml = [
        "schema_version = 1", f'name = "{scenario.name}-{int(begin_s)}"',
        f'network = "{scenario.network_path.as_posix()}"', 'plans = "existing.json"',
        f"begin_s = {begin_s - warmup_s:g}", f"end_s = {begin_s + 3600:g}", f"warmup_s = {warmup_s:g}",
        "[demand]", 'counts = "counts.csv"', f"interval_s = {scenario.interval_s:g}",
    ]
    if peds:
        warm_p = [PedCount(p.begin_s - warmup_s, p.signal_id, p.crossing, p.pedestrians)
                  for p in peds if p.begin_s < begin_s + warmup_s - 1e-6]
        prow = ["interval,intersection,crossing,pedestrians"]
        prow += [f"{p.begin_s:g},{p.signal_id},{p.crossing},{p.pedestrians:g}" for p in [*warm_p, *peds]]
        atomic_write_text(folder / "pedestrians.csv", "\n".join(prow) + "\n")
        toml.append('pedestrians = "pedestrians.csv"')
    # every timing option the day scenario sets, the clearance standard and ITE's parameters included
    toml += ["[timing]", *(f"{k} = {v!r}" for k, v in timing_fields(scenario.timing).items()),
             "[optimise]", f"seeds = [{', '.join(map(str, scenario.optimise_seeds))}]"]
    write_plans(existing, folder / "existing.json")
    return atomic_write_text(folder / "scenario.toml", "\n".join(toml) + "\n")


@dataclass(frozen=True)
class _PeriodScenario:
    """A period's one-hour scenario of its representative demand."""

    name: str
    begin_s: float
    end_s: float
    toml: Path
    existing: PlanSet
    volume_veh_h: float  # the representative hour's vehicles


def _period_scenarios(scenario: Scenario, segmentation: Segmentation, existing: Schedule | PlanSet,
                      run_dir: Path) -> list[_PeriodScenario]:
    if scenario.counts_path is None:
        raise InputError(scenario.path, "time-of-day retiming needs turning-movement counts", scenario.name)
    counts = scenario_counts(scenario)
    peds = scenario_ped_counts(scenario)
    out = []
    for k, period in enumerate(segmentation.periods):
        statistic = "peak" if period.end_s - period.begin_s >= 3600 else "mean"
        rep = representative_counts(counts, period, statistic=statistic, interval_s=scenario.interval_s)
        rep_begin = min(c.begin_s for c in rep)
        rep_peds = _representative_peds(peds, period.begin_s, period.end_s, rep_begin, scenario.interval_s)
        old = existing.period_at(period.begin_s).plans if isinstance(existing, Schedule) else existing
        toml = _write_period_scenario(run_dir / f"period{k + 1}", scenario, rep, rep_peds, old, rep_begin)
        out.append(_PeriodScenario(_period_name(k, period.begin_s, period.end_s), period.begin_s, period.end_s,
                                   toml, old, sum(c.vehicles for c in rep)))
    return out


def retime_periods(scenario: Scenario, segmentation: Segmentation, existing: Schedule | PlanSet, *, budget: int,
                   seeds: Sequence[int], workers: int, rng: int, run_dir: Path, resume: bool,
                   executor: Executor | None = None, log: Callable[[str], None] = print,
                   control: str = "fixed") -> Schedule:
    """One optimised plan set per period, each warm-started from the period before; ``control="actuated"``:
    free actuated settings per group of periods (:func:`maxima_groups`)."""
    periods = _period_scenarios(scenario, segmentation, existing, run_dir)
    if control == "actuated":
        return _retime_actuated(periods, budget=budget, seeds=seeds, workers=workers, rng=rng, resume=resume,
                                executor=executor, log=log)
    out = []
    prev_x = None
    for k, period in enumerate(periods):
        t0 = time.perf_counter()
        res = optimise(period.toml, budget=budget, seeds=seeds, workers=workers, rng=rng + k,
                       run_dir=period.toml.parent / "run", resume=resume,
                       options={"starts": [prev_x] if prev_x is not None else []}, executor=executor)
        prev_x = res.x
        log(f"  {period.name}: objective {res.x0_fun:.1f} (existing) -> {res.fun:.1f}, cycle "
            f"{res.best_plans.plans[0].cycle_s:g} s ({res.nsim_run} new simulations, {time.perf_counter() - t0:.0f} s)")
        out.append(SchedulePeriod(period.name, period.begin_s, period.end_s,
                                  PlanSet(res.best_plans.plans, name=period.name)))
    return Schedule("retimed", tuple(out))


def maxima_groups(volumes_veh_h: Sequence[float]) -> tuple[tuple[int, ...], ...]:
    """The periods (indices) that share one set of actuated maxima: the heavier group first.

    A controller holds two sets of maxima (NTCIP 1202 ``phaseMaximum1`` and ``phaseMaximum2``), one passage
    time and one minimum per phase, and its detectors do not move.  The periods are split at the largest
    ratio between consecutive hourly volumes (sorted): the heavier group and the lighter one; one period is
    one group.

    Raises
    ------
    InputError
        No volume, or a volume that is negative or not a number.
    """
    vols = [float(v) for v in volumes_veh_h]
    if not vols or any(not v >= 0 or not math.isfinite(v) for v in vols):
        raise InputError("counts", "every period needs an hourly volume of at least 0", vols)
    if len(vols) == 1:
        return ((0,),)
    order = sorted(range(len(vols)), key=lambda i: vols[i])
    # an empty period (1 veh/h floor) joins the lighter group
    split = max(range(1, len(order)), key=lambda j: vols[order[j]] / max(vols[order[j - 1]], 1.0))
    return tuple(order[split:]), tuple(order[:split])


def _stages(plans: PlanSet) -> list[tuple[str, ...]]:
    return [tuple(ph.state for ph in p.phases) for p in plans]


def _retime_actuated(periods: Sequence[_PeriodScenario], *, budget: int, seeds: Sequence[int], workers: int,
                     rng: int, resume: bool, executor: Executor | None, log: Callable[[str], None]) -> Schedule:
    """Free actuated settings a controller can hold all day: the heavier group of periods' maxima, detector
    distance and passage tuned on its busiest period, then the lighter group's maxima on its busiest period
    with the same detectors and passage (:func:`maxima_groups`).  Every period of a group runs the plans
    tuned on its busiest period, over that period's existing stages."""
    chosen: dict[int, PlanSet] = {}
    kept: tuple[float, float] | None = None
    start: tuple[list[tuple[str, ...]], np.ndarray] | None = None
    for g, group in enumerate(maxima_groups([p.volume_veh_h for p in periods])):
        rep = periods[max(group, key=lambda i: periods[i].volume_veh_h)]
        starts = []
        if start is not None and start[0] == _stages(rep.existing):
            starts = [start[1]]  # the same stages: the heavier group's maxima and skipping
        t0 = time.perf_counter()
        res = optimise(rep.toml, budget=budget, seeds=seeds, workers=workers, rng=rng + g, control="actuated",
                       kept_actuation=kept, run_dir=rep.toml.parent / "run", resume=resume,
                       options={"starts": starts}, executor=executor)
        if kept is None:
            kept = shared_settings_at(res.x)
            start = (_stages(rep.existing), np.asarray(res.x[2:]))
        names = ", ".join(periods[i].name for i in sorted(group))
        log(f"  {names}: actuated, tuned on {rep.name}: objective {res.x0_fun:.1f} at the start -> "
            f"{res.fun:.1f}, detectors {kept[0]:g} m, passage {kept[1]:g} s ({res.nsim_run} new simulations, "
            f"{time.perf_counter() - t0:.0f} s)")
        for i in group:
            chosen[i] = PlanSet(res.best_plans.plans, name=periods[i].name)
    return Schedule("retimed", tuple(SchedulePeriod(p.name, p.begin_s, p.end_s, chosen[k])
                                     for k, p in enumerate(periods)))


#: In :func:`simulate_day`, the network's own programmes as SUMO runs them (actuated and NEMA ones included).
NETWORK_PROGRAMS = "network"


def simulate_day(scenario: Scenario, schedules: Mapping[str, Schedule | str], *, seeds: Sequence[int],
                 bins: tuple[tuple[str, float, float], ...], workers: int,
                 executor: Executor | None = None) -> dict[str, Metrics]:
    """Simulate whole days under each schedule (or :data:`NETWORK_PROGRAMS`) on ``seeds`` (one batch through the
    executor)."""
    with SumoEvaluator(scenario, executor=executor, workers=workers) as ev:
        names = list(schedules)
        tasks = [Task(ev.prepared, int(s), None, controller="network", bins=bins)
                 if schedules[n] == NETWORK_PROGRAMS else Task(ev.prepared, int(s), None, schedule=schedules[n],
                                                               bins=bins)
                 for n in names for s in seeds]
        outcomes = ev.run_tasks(tasks)
        failed = [o.error for o in outcomes if not o.ok]
        if failed:
            raise SimulationError(f"{len(failed)} day simulations failed: {failed[0]}")
        out = {}
        for k, n in enumerate(names):
            runs = tuple(o.value for o in outcomes[k * len(seeds):(k + 1) * len(seeds)])
            out[n] = Metrics(scenario.name, n, "schedule", runs)
    return out


def time_of_day(scenario: Scenario | str | Path | Session, *, max_periods: int = 6, min_period_s: float = 3600.0,
                n_periods: int | None = None, budget: int = 20, seeds: Sequence[int] | None = None,
                day_seeds: Sequence[int] = DEFAULT_DAY_SEEDS, variants: bool = False, workers: int = 2,
                rng: int = 0, out_dir: str | Path = "out-tod", resume: bool = False,
                executor: Executor | None = None, log: Callable[[str], None] = print,
                control: str = "auto") -> TodResult:
    """Re-divide the day, retime each period, and compare whole days with the existing schedule.

    Parameters
    ----------
    scenario
        A day scenario with 15-minute counts (and usually an existing ``schedule``), its path, or a
        :class:`~signalopt.session.Session` (its network and existing plans are used).
    max_periods, min_period_s, n_periods
        Segmentation options (see :func:`signalopt.segment.segment_day`).
    budget
        New candidate plan sets per period (see :func:`signalopt.optimiser.optimise`).
    seeds
        Optimiser seeds (default: the scenario's); ``day_seeds`` are the held-out comparison seeds.
    variants
        Also retime and compare every lane-use variant of the scenario.
    control
        ``"fixed"``: a fixed-time plan set per period; ``"actuated"``: free actuated settings as a controller
        holds them all day: one detector distance and passage time, and the periods split into a heavier and a
        lighter group (:func:`maxima_groups`), each with its own maxima (NTCIP Max 1 for the group that runs
        first in the day, Max 2 for the other) and whether its stages skip when nobody calls them, over the
        stages of the group's busiest period; ``"auto"`` (default): actuated where the existing schedule runs
        actuated plans or, without one, where every signal's programme is actuated
        (:func:`signalopt.prepare.street_control`; coordinated actuated control, which a schedule cannot run,
        is refused), fixed otherwise.
    """
    t0 = time.perf_counter()
    check_budget(budget)  # before the first simulation, not after it
    scen = scenario_of(scenario)
    if scen.counts_path is None:
        raise InputError(scen.path, "time-of-day retiming needs turning-movement counts ([demand] counts)", scen.name)
    opt_seeds = tuple(seeds) if seeds is not None else scen.optimise_seeds
    overlap = sorted(set(opt_seeds) & set(day_seeds))
    if overlap:
        raise InputError("--day-seeds", "day comparison seeds overlap the optimiser's seeds", overlap)
    if not 0 < min_period_s <= scen.duration_s / 2:
        # longer than half the day, every segmentation is the whole day as one period: nothing to re-divide
        raise InputError("--min-period", f"must be positive and at most half the scenario "
                                         f"({scen.duration_s / 120:g} min)", f"{min_period_s / 60:g} min")
    if n_periods is not None and n_periods * min_period_s > scen.duration_s:
        raise InputError("--periods", f"{n_periods} periods of at least {min_period_s / 60:g} min do not fit in "
                                      f"the scenario's {scen.duration_s / 60:g} min", n_periods)
    out = Path(out_dir)
    counts = scenario_counts(scen)
    seg = segment_day(counts, max_periods=max_periods, min_period_s=min_period_s, n_periods=n_periods,
                      interval_s=scen.interval_s, source=scen.counts_path)
    log(f"{scen.name}: {seg.n_periods} periods ({seg.method}): "
        + ", ".join(f"{clock_text(p.begin_s)}-{clock_text(p.end_s)}" for p in seg.periods))
    network = scenario.network if isinstance(scenario, Session) else load_network(scen)
    existing_sched = scenario_schedule(scen, network)
    existing: Schedule
    if existing_sched is None:
        base = scenario.existing if isinstance(scenario, Session) else scenario_plans(scen, network)[0]
        existing = Schedule("existing", (SchedulePeriod("all day", scen.begin_s, scen.end_s, base),))
    else:
        existing = existing_sched
    existing = _cover(existing, scen.begin_s, scen.end_s)
    control, why_control = _tod_control(scen, network, existing, control)
    log(f"control: {control} ({why_control})")
    bins = tuple((_period_name(k, p.begin_s, p.end_s), p.begin_s, p.end_s) for k, p in enumerate(seg.periods))
    names = ["default", *(v for v, _ in scen.variants)] if variants else ["default"]
    schedules: dict[str, Schedule] = {}
    metrics: dict[tuple[str, str], Metrics] = {}
    rows: list[DayRow] = []
    for variant in names:
        vs = variant_scenario(scen, variant)
        label = "shared (as built)" if variant == "default" else variant
        each = "per group of periods" if control == "actuated" else "each"
        log(f"retiming {seg.n_periods} periods on {label} ({budget} new plan sets {each}, seeds {list(opt_seeds)}) ...")
        new = retime_periods(vs, seg, existing, budget=budget, seeds=opt_seeds, workers=workers, rng=rng,
                             run_dir=out / "periods" / variant, resume=resume, executor=executor, log=log,
                             control=control)
        schedules[variant] = new
        # a lane-use variant runs its own network's programmes
        existing_day, why = existing_day_control(vs, network if variant == "default" else load_network(vs), existing)
        if why:
            log(why)
        log(f"simulating the day under the existing and the retimed schedule on seeds {list(day_seeds)} ...")
        day = simulate_day(vs, {"existing": existing_day, "retimed": new}, seeds=day_seeds, bins=bins, workers=workers,
                           executor=executor)
        for k, m in day.items():
            metrics[(variant, k)] = m
        rows += day_rows(variant, day, day["existing"])
    result = TodResult(seg, schedules, tuple(rows), metrics, out, time.perf_counter() - t0)
    _write_outputs(result, scen, network, existing, counts, opt_seeds, day_seeds, log=log)
    return result


#: What ``time_of_day`` retimes (``auto``: the kind of controller the signals run today).
TOD_CONTROLS = ("auto", "fixed", "actuated")


def _tod_control(scenario: Scenario, network: Network, existing: Schedule, control: str) -> tuple[str, str]:
    """``control`` resolved: ``auto`` is actuated where the existing schedule (or plan file) runs actuated
    plans, or where it comes from the network's programmes and every signal runs actuated control."""
    if control not in TOD_CONTROLS:
        raise InputError("--control", f"time of day retimes {', '.join(TOD_CONTROLS)} control", control)
    if control != "auto":
        return control, f"--control {control}"
    if scenario.schedule_path is not None or scenario.plans_path is not None:
        if existing.actuated:
            return "actuated", "the existing schedule runs free actuated plans: tuning their actuated settings"
        return "fixed", "the existing schedule runs fixed-time plans: retiming cycles, splits and offsets"
    resolved, why = street_control(scenario, network, existing.signal_ids)
    if resolved == "coordinated":
        raise InputError("--control", "the signals run coordinated actuated control, which a time-of-day "
                                      "schedule cannot run yet; give --control fixed or actuated", resolved)
    return resolved, why


def existing_day_control(scenario: Scenario, network: Network, existing: Schedule) -> tuple[Schedule | str, str]:
    """What the existing day runs in simulation: ``existing``, or :data:`NETWORK_PROGRAMS` where it comes from
    the network's programmes and any of them is actuated (a sentence then says so).

    The plans read from an actuated programme are its nominal fixed-time form, not what the street runs; a
    scenario's schedule or plan file is fixed time as written.
    """
    if scenario.schedule_path is not None or existing_controller(scenario) != "network":
        return existing, ""
    adaptive = sorted(adaptive_signal_ids(network, existing.signal_ids))
    if not adaptive:
        return existing, ""
    return NETWORK_PROGRAMS, (f"the existing day runs the network's own programmes, as the street does "
                              f"({len(adaptive)} of {len(existing.signal_ids)} signals actuated: "
                              f"{', '.join(adaptive[:3])}{', ...' if len(adaptive) > 3 else ''})")


def _cover(schedule: Schedule, begin_s: float, end_s: float) -> Schedule:
    """Stretch the first and last periods so the schedule covers the simulated day."""
    periods = list(schedule.periods)
    first, last = periods[0], periods[-1]
    periods[0] = SchedulePeriod(first.name, min(first.begin_s, begin_s), first.end_s, first.plans)
    periods[-1] = SchedulePeriod(last.name, periods[-1].begin_s, max(last.end_s, end_s), last.plans)
    return Schedule(schedule.name, tuple(periods))


def _write_outputs(result: TodResult, scen: Scenario, network: Network, existing: Schedule, counts: list[TurnCount],
                   opt_seeds: Sequence[int], day_seeds: Sequence[int], *, log: Callable[[str], None]) -> None:
    out = result.out_dir
    provenance = run_provenance(scen, seeds=list(opt_seeds), day_seeds=list(day_seeds))
    refused: list[str] = []
    for variant, sched in result.schedules.items():
        folder = out / "schedules" / variant
        vnet = network if variant == "default" else load_network(variant_scenario(scen, variant))
        export_schedule(sched, "json", folder / "schedule.json", network=vnet, timing=scen.timing,
                        provenance=provenance)
        # SUMO switches fixed-time programmes by WAUT; a controller cabinet takes actuated periods as patterns
        # and a day plan (two sets of maxima)
        fmt, name = ("ntcip", "schedule_ntcip") if sched.actuated else ("sumo", "schedule.add.xml")
        if fmt == "sumo":
            export_schedule(sched, fmt, folder / name, network=vnet, timing=scen.timing, provenance=provenance)
            continue
        try:
            export_schedule(sched, fmt, folder / name, network=vnet, timing=scen.timing, provenance=provenance)
        except PlanError as exc:  # e.g. groups whose stages one phase table cannot hold: said, not hidden
            refused.append(str(exc))
            log(f"not exported: {exc}")
    summary = {"scenario": scen.name, "periods": [[p.begin_s, p.end_s] for p in result.segmentation.periods],
               "rows": [r.to_dict() for r in result.rows], "lane_use_winners": lane_use_winners(result.rows),
               "exports_refused": refused,
               "provenance": provenance}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=list) + "\n")
    write_tod_report(out, result, existing, counts, provenance)
