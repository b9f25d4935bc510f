"""Optimise a traffic-responsive section's selection settings (thresholds, hysteresis, occupancy weight,
smoothing) in simulation, its patterns given.

The patterns are what an engineer has already optimised (say with :func:`signalopt.optimiser.optimise` on the
ordinary evening and on an event's peak); what is left to choose is when the controller should switch, which is
where TRPS set-ups go wrong in the field (thresholds copied from another section, switching on noise).  Every
candidate runs on the same seeds (common random numbers) through the section's whole scenario, so a switch that
comes too late, too early or too often costs what it costs in the simulation.

The search: a Latin hypercube over the unit box of the settings with the warm start (:data:`WARM_START`) among
its points, then a second Latin hypercube in a box half as wide around the first round's best.  Four noisy
dimensions and a budget of tens leave no room for a model-based method to learn much; two rounds of space-filling
samples keep every evaluation batch parallel.  Every simulation is journalled when a run directory is given, so
an interrupted search resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._sumo_run import Task, run_task
from .errors import InputError, SimulationError
from .executors import Executor, Outcome
from .journal import Journal, entry_key
from .metrics import Metrics, RunMetrics
from .objective import Objective, objective_value
from .plan import PlanSet
from .responsive import PatternSelection, ResponsivePlans, place_system_detectors
from .scenario import Scenario
from .session import Session, borrow_session
from .study import latin_hypercube

#: Ranges the unit box maps to: entry thresholds [-], hysteresis [-], occupancy weight [-], smoothing [-].
THRESHOLD_RANGE = (0.02, 1.2)
HYSTERESIS_RANGE = (0.0, 0.2)
SMOOTHING_RANGE = (0.2, 1.0)
#: Where the search starts: thresholds evenly spread over the lower half of their range (index levels an
#: ordinary hour reaches), hysteresis 0.05, volume and occupancy weighted equally, smoothing 0.5.
WARM_START = (0.25, 0.25, 0.5, 0.375)
#: Share of the budget spent on the first, whole-box round.
FIRST_ROUND_SHARE = 0.5


def decode_selection(x: Sequence[float], *, n_patterns: int, interval_s: float, detector_m: float
                     ) -> PatternSelection:
    """Selection settings of a point of the unit box (``n_patterns - 1`` threshold coordinates, then
    hysteresis, occupancy weight and smoothing), rounded to 0.001 so that equal settings share a journal key."""
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    n = n_patterns - 1
    if x.shape != (n + 3,):
        raise InputError("x", f"a selection of {n_patterns} patterns has {n + 3} coordinates", x.size)
    lo, hi = THRESHOLD_RANGE
    levels: list[float] = []
    for u in sorted(x[:n]):
        t = round(float(lo + u * (hi - lo)), 3)
        levels.append(max(t, levels[-1] + 0.001) if levels else t)  # equal levels would merge two patterns
    h = round(float(HYSTERESIS_RANGE[0] + x[n] * (HYSTERESIS_RANGE[1] - HYSTERESIS_RANGE[0])), 3)
    w = round(float(x[n + 1]), 3)
    s = round(float(SMOOTHING_RANGE[0] + x[n + 2] * (SMOOTHING_RANGE[1] - SMOOTHING_RANGE[0])), 3)
    return PatternSelection(tuple(levels), hysteresis=h, occupancy_weight=w, smoothing=s, interval_s=interval_s,
                            detector_m=detector_m)


def warm_start(n_patterns: int) -> np.ndarray:
    """The first point of the search (see :data:`WARM_START`)."""
    n = n_patterns - 1
    thresholds = [WARM_START[0] * 2 * (k + 1) / (n + 1) for k in range(n)]
    return np.asarray([*thresholds, *WARM_START[1:]])


@dataclass(frozen=True)
class SelectionTrial:
    """One scored candidate: its point, settings, score (lower is better) and metrics on the search's seeds."""

    x: tuple[float, ...]
    selection: PatternSelection
    value: float
    metrics: Metrics


@dataclass(frozen=True)
class SelectionResult:
    """Result of :func:`optimise_selection`: the best section and every trial, in the order scored."""

    best: ResponsivePlans
    best_value: float
    best_metrics: Metrics
    trials: tuple[SelectionTrial, ...]
    seeds: tuple[int, ...]
    n_simulations: int


def responsive_tasks(session: Session, responsive: ResponsivePlans, seeds: Sequence[int], **task_options
                     ) -> list[Task]:
    """Tasks that simulate ``responsive`` on ``seeds`` (options as for :class:`~signalopt._sumo_run.Task`)."""
    return [Task(session.prepared, int(s), responsive.patterns[0], "responsive", responsive=responsive,
                 **task_options) for s in seeds]


def responsive_section(session: Session, patterns: Sequence[PlanSet], selection: PatternSelection, *,
                       name: str = "responsive") -> ResponsivePlans:
    """A responsive section over the session's signals: each pattern completed with the existing plans of the
    signals it does not name, system detectors placed ``selection.detector_m`` before every stop line."""
    full = tuple(session.existing.replace_plans(p.plans, name=p.name) for p in patterns)
    detectors = place_system_detectors(session.network, full[0].signal_ids, distance_m=selection.detector_m)
    return ResponsivePlans(full, selection, detectors, name)


def optimise_selection(scenario: Scenario | str | Path | Session, patterns: Sequence[PlanSet], *,
                       objective: Objective = "delay", budget: int = 16, seeds: Sequence[int] | None = None,
                       rng: int | None = 0, interval_s: float = 300.0, detector_m: float = 60.0,
                       run_dir: str | Path | None = None, resume: bool = False, workers: int = 2,
                       executor: Executor | None = None, progress: bool = False) -> SelectionResult:
    """Choose the selection settings of a responsive section in simulation.

    Parameters
    ----------
    scenario
        Scenario (path, object or session) whose demand the controller must respond to, e.g. an evening with
        an event; its optimiser seeds are the search's unless ``seeds`` is given.
    patterns
        Plan sets, lightest demand first (signals a pattern leaves out run their existing plans).
    objective
        As for :func:`signalopt.optimiser.optimise`; default ``"delay"``.
    budget
        Candidate settings to simulate (each on every seed), at least 4.
    interval_s, detector_m
        Computation interval [s] and system-detector distance from the stop line [m] (not searched).
    run_dir, resume
        Journal every simulation there; ``resume=True`` replays an interrupted search's simulations.

    Returns
    -------
    SelectionResult
        The best section (patterns, settings, detectors) and every trial.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 4:
        raise InputError("--budget", "a selection search needs a budget of at least 4 candidates", budget)
    if len(patterns) < 2:
        raise InputError("--patterns", "traffic-responsive selection needs at least two patterns", len(patterns))
    session, own = borrow_session(scenario, workers=workers, executor=executor)
    try:
        sc = session.scenario
        seeds = tuple(int(s) for s in (seeds if seeds is not None else sc.optimise_seeds))
        template = responsive_section(session, patterns, decode_selection(
            warm_start(len(patterns)), n_patterns=len(patterns), interval_s=interval_s, detector_m=detector_m))
        meta = {"kind": "responsive", "seeds": list(seeds), "patterns": [p.name for p in template.patterns],
                "interval_s": interval_s, "detector_m": detector_m}
        journal = Journal(run_dir, digest=sc.digest, meta=meta, resume=resume) if run_dir else None
        search = _SelectionSearch(session, template, seeds, objective, journal, progress=progress)
        gen = np.random.default_rng(rng)
        d = len(patterns) + 2
        first = max(2, int(math.ceil(budget * FIRST_ROUND_SHARE)))
        points = [warm_start(len(patterns)), *latin_hypercube(gen, first - 1, d)]
        search.score(points)
        best = np.asarray(min(search.trials, key=lambda t: t.value).x)
        lo, hi = np.clip(best - 0.25, 0.0, 1.0), np.clip(best + 0.25, 0.0, 1.0)
        search.score([lo + u * (hi - lo) for u in latin_hypercube(gen, budget - first, d)])
        if journal is not None:
            journal.close()
        top = min(search.trials, key=lambda t: t.value)
        return SelectionResult(ResponsivePlans(template.patterns, top.selection, template.detectors, template.name),
                               top.value, top.metrics, tuple(search.trials), seeds, search.n_run)
    finally:
        if own:
            session.close()


class _SelectionSearch:
    """Scores batches of points: every (settings, seed) simulated once, journalled, in one executor batch."""

    def __init__(self, session: Session, template: ResponsivePlans, seeds: tuple[int, ...], objective: Objective,
                 journal: Journal | None, *, progress: bool) -> None:
        self.session, self.template, self.seeds = session, template, seeds
        self.objective, self.journal, self.progress = objective, journal, progress
        self.trials: list[SelectionTrial] = []
        self.n_run = 0
        self._t0 = time.perf_counter()

    def _section(self, x: np.ndarray) -> ResponsivePlans:
        t = self.template
        sel = decode_selection(x, n_patterns=len(t.patterns), interval_s=t.selection.interval_s,
                               detector_m=t.selection.detector_m)
        return ResponsivePlans(t.patterns, sel, t.detectors, t.name)

    def score(self, points: Sequence[np.ndarray]) -> None:
        sections = [self._section(np.asarray(x)) for x in points]
        keys = [[entry_key(json.dumps(s.selection.to_dict(), sort_keys=True) + s.name, seed) for seed in self.seeds]
                for s in sections]
        runs: dict[str, RunMetrics] = {}
        todo: list[tuple[str, np.ndarray, Task]] = []
        for x, s, ks in zip(points, sections, keys):
            for seed, k in zip(self.seeds, ks):
                entry = self.journal.get(k) if self.journal is not None else None
                if entry is not None and entry.run is not None:
                    runs[k] = entry.run
                elif k not in runs and all(k != kk for kk, _, _ in todo):
                    todo.append((k, np.asarray(x), responsive_tasks(self.session, s, [seed])[0]))
        def finished(i: int, o: Outcome) -> None:  # journalled as each run ends: an interruption loses none
            k, x, task = todo[i]
            if o.ok and self.journal is not None:
                self.journal.append(k, x, task.seed, o.value)

        outcomes = self.session.executor.map(run_task, [t for _, _, t in todo], on_result=finished)
        for (k, _, task), o in zip(todo, outcomes):
            if not o.ok:
                raise SimulationError(f"responsive run on seed {task.seed} failed: {o.error}")
            runs[k] = o.value
            self.n_run += 1
        for x, s, ks in zip(points, sections, keys):
            metrics = Metrics(self.session.scenario.name, s.name, "responsive", tuple(runs[k] for k in ks))
            self.trials.append(SelectionTrial(tuple(float(v) for v in x), s.selection,
                                              objective_value(self.objective, metrics), metrics))
        if self.progress:
            best = min(t.value for t in self.trials)
            print(f"  responsive selection: {len(self.trials)} candidates scored, best {best:.2f}, "
                  f"{(time.perf_counter() - self._t0) / 60:.1f} min", file=sys.stderr)
