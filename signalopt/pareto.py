"""Multi-objective retiming: the Pareto front of plan sets over two or more objectives (optuna's TPE or NSGA-II),
then its knee polished toward the ideal point.

``optimise_front`` asks an optuna sampler (:class:`~optuna.samplers.TPESampler` or
:class:`~optuna.samplers.NSGAIISampler`) for points of the unit box through optuna's ask/tell interface (an
in-memory optuna study), and hands every point to a signalopt
:class:`~signalopt.study.Study`, which decodes it into a safe plan set, simulates it on the optimiser's seeds
(common random numbers), journals every simulation and answers repeats from memory.  So ``resume=True``
replays a killed run from its journal without simulating anything twice: the sampler is seeded and is told
the same values in the same order, so it proposes the same points again.  The second half of the budget
polishes the knee with Powell on an achievement scalarising function (:func:`optimise_front`), deterministic
in the same way.

Why optuna's NSGA-II and not pymoo (or a hand-written NSGA-II):

* optuna's ask/tell over a study of trials is the shape of signalopt's own :class:`~signalopt.study.Study`
  (the design borrows it), so optuna only proposes points and ranks them, while the simulation, the journal
  and resume stay signalopt's; pymoo also has an ask/tell interface, but around its own ``Problem`` and
  ``Population`` objects, which we would have to wrap in turn;
* a queue-storage limit is a constraint, not a penalty: optuna's NSGA-II ranks trials by constrained
  domination (Deb et al. 2002, a feasible plan beats an infeasible one) from the value set with
  ``Trial.set_constraint`` (optuna 5; ``constraints_func`` is deprecated there); pymoo handles constraints
  as well, so this is not a point against it;
* optuna is widely used and actively maintained, and adds SQLAlchemy, Alembic, colorlog and PyYAML to what we
  already install (numpy, tqdm, packaging; in-memory storage needs no database); pymoo (0.6.x) requires its own
  numerics stack -- autograd, cma, moocore, alive-progress, Deprecated -- of which we would use one algorithm.

pymoo has more algorithms (NSGA-III, MOEA/D, ...) and its own knee finders.  Within optuna, ``sampler="tpe"``
swaps NSGA-II for multi-objective TPE behind the same loop: at budgets of tens of simulations NSGA-II runs only
a few generations, and TPE came much nearer the single-objective optima (``benchmarks/pareto.py``).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import InputError, SignaloptError
from .executors import Executor
from .metrics import Metrics
from .objective import objective_value
from .optimiser import (FAILED_SCORE, POLISH_SHARE, REPEAT_ALLOWANCE, _initial_population, _local_search, _Stop,
                        check_budget, warm_starts)
from .plan import PlanSet
from .provenance import run_provenance
from .scenario import Scenario
from .session import Session, borrow_session
from .study import Study, Trial

#: Objectives a front can trade (each lower-is-better, a mean over the optimiser's seeds): the terms of
#: :func:`signalopt.objective.objective_value` -- ``delay`` [s/veh], ``queue`` [m, vehicles kept out of the
#: network included], ``stops`` [per veh], ``spillback`` [share of approach-cycles], ``ped_delay`` [s].
FRONT_OBJECTIVES = ("delay", "queue", "stops", "spillback", "ped_delay")
#: Members of each NSGA-II generation when none is given: a third of the budget (about three generations),
#: at least 4 and at most 20, and never fewer than the warm starts.
MIN_POPULATION, MAX_POPULATION = 4, 20
#: optuna samplers a front can be searched with: ``nsga2`` (:class:`optuna.samplers.NSGAIISampler`) and ``tpe``
#: (:class:`optuna.samplers.TPESampler`, multi-objective TPE, multivariate, with the constant liar for the
#: generation asked before any of it is told).  See :func:`optimise_front` for how they compare.
SAMPLERS = ("nsga2", "tpe")
#: Weight of the sum in the knee polish's achievement scalarising function (Wierzbicki 1980): small, so that the
#: worst scaled objective rules and the sum only breaks ties (no weakly dominated point wins).
ASF_RHO = 1e-3


def parse_objectives(objectives: str | Sequence[str], *, source: str = "--objectives") -> tuple[str, ...]:
    """Objective names from ``"delay,queue"`` or a sequence, checked.

    Raises
    ------
    InputError
        A name not in :data:`FRONT_OBJECTIVES`, a name given twice, or fewer than two names.
    """
    names = [n.strip() for n in objectives.split(",")] if isinstance(objectives, str) else list(objectives)
    wanted = f"two or more of {', '.join(FRONT_OBJECTIVES)}, comma-separated"
    bad = [n for n in names if n not in FRONT_OBJECTIVES]
    if bad:
        raise InputError(source, f"objectives must be {wanted}", ", ".join(map(str, bad)))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(source, "an objective is named twice", ", ".join(twice))
    if len(names) < 2:
        raise InputError(source, f"a front needs {wanted} (for one, use --objective)", ",".join(names))
    return tuple(names)


def objective_values(objectives: Sequence[str], metrics: Metrics) -> tuple[float, ...]:
    """Each objective's mean over ``metrics``' runs, in the order of ``objectives`` (see
    :data:`FRONT_OBJECTIVES`)."""
    return tuple(objective_value({name: 1.0}, metrics) for name in objectives)


def non_dominated(values: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Mask of the rows of ``values`` (one row per candidate, one column per objective, all minimised) that no
    other row dominates.  Row *a* dominates *b* when it is no worse on every objective and better on one;
    equal rows do not dominate each other (both are kept)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise InputError("values", "need one row per candidate and one column per objective", v.shape)
    no_worse = (v[:, None, :] <= v[None, :, :]).all(axis=2)
    better = (v[:, None, :] < v[None, :, :]).any(axis=2)
    dominated = (no_worse & better).any(axis=0)  # column b is dominated by some row a
    return ~dominated


def knee_index(values: np.ndarray | Sequence[Sequence[float]]) -> int:
    """Index of the knee of a front: the member nearest the ideal point once each objective is scaled to [0, 1].

    Each objective is normalised over the front, ``(f - min f) / (max f - min f)`` (an objective on which every
    member scores the same is 0 for all); the knee is the member whose normalised vector lies nearest, in the
    Euclidean norm, to the ideal point (0, ..., 0), the first of equals.  This is the compromise solution of
    compromise programming with p = 2 (Yu 1973; Zeleny 1973), not Das's (1999) knee, which is the member
    farthest from the hyperplane through the single-objective optima (for two objectives, the nearest to the
    ideal point in the L1 norm), nor the knee regions of Branke et al. (2004); it needs no assumption about the
    front's shape and picks a member that gives up roughly the same share of each objective's range.

    References
    ----------
    .. [Yu1973] P. L. Yu, "A class of solutions for group decision problems", Management Science 19(8),
       936-946, 1973.
    .. [Zeleny1973] M. Zeleny, "Compromise programming", in J. L. Cochrane and M. Zeleny (eds.), Multiple
       Criteria Decision Making, University of South Carolina Press, 262-301, 1973.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] == 0:
        raise InputError("values", "a knee needs a front of at least one member", v.shape)
    lo, span = v.min(axis=0), np.ptp(v, axis=0)
    scaled = np.divide(v - lo, span, out=np.zeros_like(v), where=span > 0)
    return int(np.argmin(np.sqrt((scaled ** 2).sum(axis=1))))


@dataclass(frozen=True)
class FrontMember:
    """One plan set of a front: its name, decision vector, plans, and metrics on the optimiser's seeds.

    ``values`` holds each objective's mean over those seeds, in the order of the front's ``objectives``.
    """

    name: str
    x: np.ndarray
    plans: PlanSet
    metrics: Metrics
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in self.values):
            raise InputError("front", f"member {self.name}: objective values must be finite", self.values)


@dataclass(frozen=True)
class FrontResult:
    """Result of :func:`optimise_front`: the non-dominated plan sets, ordered by the first objective.

    ``nfev`` counts candidates told to the sampler, repeats included; ``nsim`` the simulations they needed
    (journalled ones included), ``nsim_run`` those run in this call; ``n_plans`` the distinct plan sets
    evaluated, of which ``members`` are the non-dominated ones (among those within the spillback limit, when one
    was set and any met it).
    """

    objectives: tuple[str, ...]
    members: tuple[FrontMember, ...]
    seeds: tuple[int, ...]
    nfev: int
    nsim: int
    nsim_run: int
    n_plans: int
    population_size: int
    message: str
    max_spillback_share: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.members:
            raise InputError("front", "a front needs at least one member", 0)
        if any(len(m.values) != len(self.objectives) for m in self.members):
            raise InputError("front", "every member needs one value per objective", self.objectives)

    @property
    def values(self) -> np.ndarray:
        """Objective values, one row per member, one column per objective."""
        return np.array([m.values for m in self.members], dtype=float)

    def value(self, member: FrontMember, objective: str) -> float:
        """``member``'s mean value of ``objective`` on the optimiser's seeds."""
        return member.values[self.objectives.index(objective)]

    def knee(self) -> FrontMember:
        """The knee: the member nearest the ideal point on objectives scaled over the front (:func:`knee_index`)."""
        return self.members[knee_index(self.values)]

    def extremes(self) -> dict[str, FrontMember]:
        """Per objective, the member best on it (the knee-nearest of equals): the front's ends."""
        v, knee = self.values, knee_index(self.values)
        out = {}
        for k, name in enumerate(self.objectives):
            best = np.flatnonzero(v[:, k] == v[:, k].min())
            out[name] = self.members[knee if knee in best else int(best[0])]
        return out

    def candidates(self) -> list[PlanSet]:
        """The knee and each objective's best, as plan sets named ``knee``, ``best-<objective>``: what
        ``compare`` and ``run`` evaluate on held-out seeds."""
        chosen = [("knee", self.knee()), *((f"best-{k}", m) for k, m in self.extremes().items())]
        return [PlanSet(m.plans.plans, name=name) for name, m in chosen]

    def to_dict(self) -> dict[str, Any]:
        extremes = {k: m.name for k, m in self.extremes().items()}
        return {"objectives": list(self.objectives), "seeds": list(self.seeds), "knee": self.knee().name,
                "extremes": extremes, "nfev": self.nfev, "nsim": self.nsim, "nsim_run": self.nsim_run,
                "n_plans": self.n_plans, "population_size": self.population_size, "message": self.message,
                "max_spillback_share": self.max_spillback_share,
                "members": [{"name": m.name, "values": dict(zip(self.objectives, m.values)),
                             "x": [float(v) for v in m.x], "plans": m.plans.to_dict()} for m in self.members],
                "provenance": self.provenance}

    def table(self) -> str:
        """One line per member: its objective values, marked where it is the knee or an objective's best."""
        from ._text import format_table

        knee, ends = self.knee().name, self.extremes()
        rows = []
        for m in self.members:
            roles = (["knee"] if m.name == knee else []) + [f"best-{k}" for k, e in ends.items() if e.name == m.name]
            rows.append({"member": m.name, **{k: f"{v:.2f}" for k, v in zip(self.objectives, m.values)},
                         "role": ", ".join(roles) or "-"})
        return format_table(rows, ["member", *self.objectives, "role"])


@dataclass
class _Told:
    trial: Trial
    metrics: Metrics | None
    values: tuple[float, ...]

    @property
    def spillback_share(self) -> float:
        """Mean share of approach-cycles with a spillback over the seeds (1 for a failed trial)."""
        return float(np.mean([r.spillback_share for r in self.metrics.runs])) if self.metrics is not None else 1.0


class _Scalarised:
    """The knee polish's target for :func:`~signalopt.optimiser._local_search`: scores a point by the achievement
    scalarising function of its objective values, keeps the best point so far, and stops at the budget."""

    def __init__(self, search: _FrontSearch, ideal: np.ndarray, span: np.ndarray, start: _Told) -> None:
        self.search, self.ideal, self.span = search, ideal, span
        self.best_x, self.best = start.trial.x, self.value(start)

    def value(self, told: _Told) -> float:
        scaled = (np.asarray(told.values) - self.ideal) / self.span
        value = float(scaled.max() + ASF_RHO * scaled.sum())
        limit = self.search.limit
        if limit is not None and told.spillback_share > limit:
            value += 1.0 + told.spillback_share - limit  # infeasible: behind every feasible point of the front
        return value

    def score(self, x: np.ndarray) -> float:
        if self.search.nplan >= self.search.budget:
            raise _Stop
        told = self.search._record([self.search.study.ask(x)])[0]
        value = self.value(told)
        if value < self.best:
            self.best_x, self.best = told.trial.x, value
        return value

    def count_iteration(self, *_: Any, **__: Any) -> None:
        """scipy's per-iteration callback; the polish counts plan sets, not iterations."""


def population_size(budget: int, n_starts: int) -> int:
    """Default members per generation (:data:`MIN_POPULATION`, :data:`MAX_POPULATION`)."""
    return max(n_starts, int(np.clip(budget // 3, MIN_POPULATION, MAX_POPULATION)))


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[Any]:
    """optuna, imported here (``import signalopt`` stays light), without its per-trial log lines."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield optuna
    finally:
        optuna.logging.set_verbosity(level)


def optimise_front(scenario: Scenario | str | Path | Session, *, objectives: str | Sequence[str] = ("delay", "queue"),
                   budget: int = 60, seeds: Sequence[int] | None = None, rng: int | None = 0,
                   population: int | None = None, sampler: str = "tpe",
                   max_spillback_share: float | None = None,
                   starts: Sequence[Sequence[float]] = (), run_dir: str | Path | None = None, resume: bool = False,
                   per_signal_cycle: bool = False, lead_lag: bool = False, workers: int = 2,
                   executor: Executor | None = None, evaluator: Any = None, progress: bool = False,
                   control: str = "fixed", polish: bool = True) -> FrontResult:
    """Search the Pareto front of plan sets over several objectives with an optuna sampler, then polish its knee.

    Every point the sampler proposes is asked as a :class:`~signalopt.study.Study` trial (decoded into a safe
    plan set), simulated on the same seeds, journalled and told to the sampler with its objective values; a
    generation's members are simulated together.  The first generation is differential evolution's first
    population in :func:`~signalopt.optimiser.optimise`: its warm starts (existing plans; with counts, coordinated
    and Webster plans), members drawn close around them and a Latin-hypercube quarter, enqueued as optuna trials
    over parameters ``x0 .. x{n-1}`` in [0, 1] (the encoding's unit box).

    Parameters
    ----------
    scenario
        Scenario, path of its TOML file, or a :class:`~signalopt.session.Session` (nothing rebuilt).
    objectives
        Two or more of :data:`FRONT_OBJECTIVES`, e.g. ``("delay", "queue")`` or ``"delay,queue"``.
    budget
        New candidate plan sets to simulate [-]; a candidate that decodes to a plan set already scored needs no
        simulation and does not count (as in :func:`~signalopt.optimiser.optimise`).
    seeds
        Simulation seeds every candidate is scored on (default: the scenario's optimiser seeds).
    rng
        Seed of the sampler (same seed, same front).
    population
        Members per generation [-]; default :func:`population_size`.
    sampler
        ``"tpe"`` (optuna's multi-objective TPE, the default) or ``"nsga2"`` (optuna's NSGA-II); TPE's first
        generation is its start-up sample, then each generation of ``population`` points is asked before any is
        told, with the constant liar).  On the corpus's ``arterial_allred`` and ``t_junctions`` networks with
        budgets of 12 and 30, TPE's fronts came nearer the single-objective optima than NSGA-II's in every gap
        where the two differed, since NSGA-II runs only a few generations at such budgets
        (``benchmarks/pareto.py``, docs/benchmarks.md): hence the default.
    max_spillback_share
        Optional queue-storage constraint: a plan set whose share of approach-cycles with a spillback (mean
        over the seeds) exceeds it is infeasible; NSGA-II ranks feasible plan sets first and the front keeps
        feasible ones only (all, if none is feasible: the message says so).
    starts
        More decision vectors for the first generation.
    run_dir, resume
        Journal directory; ``resume=True`` continues a run found there without simulating anything twice.
    per_signal_cycle, lead_lag
        Encoding options (see :mod:`signalopt.encoding`).
    workers, executor, evaluator, control
        As for :func:`~signalopt.optimiser.optimise`.
    progress
        Show a progress bar of new plan sets.
    polish
        Spend the last :data:`~signalopt.optimiser.POLISH_SHARE` of the budget (what the first generation
        leaves of it) on a Powell search from the knee that minimises the achievement scalarising function
        ``max_k s_k + rho sum_k s_k``, ``s_k`` objective ``k`` scaled from the front's ideal (0) to its nadir (1)
        as they stood when the polish began (Wierzbicki 1980): it pushes the knee toward the ideal point, as
        differential evolution's polish pushes its best plans, and every point it scores joins the front.  A
        sampler spreads its budget along the front: the knee came within 5% of the single-objective plans of
        the same budget on 8 of 24 scenario-objectives without the polish, on 14 of 24 with it
        (``benchmarks/pareto.py``).

    Returns
    -------
    FrontResult
        The non-dominated plan sets with their objective values and metrics; ``knee()`` and ``extremes()``
        pick the trade-off and the ends.

    References
    ----------
    .. [Wierzbicki1980] A. P. Wierzbicki, "The use of reference objectives in multiobjective optimization", in
       G. Fandel and T. Gal (eds.), Multiple Criteria Decision Making Theory and Application, Springer,
       468-486, 1980.
    """
    names = parse_objectives(objectives, source="objectives")
    check_budget(budget)
    if sampler not in SAMPLERS:
        raise InputError("sampler", f"sampler must be one of {', '.join(SAMPLERS)}", sampler)
    if population is not None and population < 2:
        raise InputError("population", "NSGA-II needs at least 2 members per generation", population)
    if max_spillback_share is not None and not 0 <= max_spillback_share < 1:
        raise InputError("max_spillback_share", "must lie in [0, 1)", max_spillback_share)
    session, own = borrow_session(scenario, workers=workers, executor=executor)
    try:
        # the settings go into the journal's meta before the population is known: it depends on the warm starts,
        # which depend on the scenario (and so on the digest checked at resume)
        settings = {"kind": "front", "objectives": list(names), "budget": budget, "rng": rng,
                    "population": population, "max_spillback_share": max_spillback_share,
                    "sampler": sampler, "polish": polish, "signalopt": __version__}
        study = Study(session, seeds=seeds, objective=names[0], evaluator=evaluator, run_dir=run_dir,
                      resume=resume, settings=settings, per_signal_cycle=per_signal_cycle, lead_lag=lead_lag,
                      control=control)
    except BaseException:
        if own:
            session.close()
        raise
    try:
        if evaluator is None:
            session.prepared  # noqa: B018 - route generation before any timing
        first = warm_starts(session.scenario, study.encoding, study.base, session.network)
        first += [np.clip(np.asarray(x, dtype=float), 0.0, 1.0) for x in starts]
        size = population or population_size(budget, len(first))
        search = _FrontSearch(study, names, budget=budget, max_spillback_share=max_spillback_share,
                              progress=progress)
        # the sampler's share: what the first generation needs at least, and what the polish leaves
        sampled = min(budget, max(size, budget - int(POLISH_SHARE * budget))) if polish else budget
        try:
            with _quiet_optuna() as optuna:
                message = search.run(optuna, _make_sampler(optuna, sampler, size, rng), first, size, rng,
                                     limit=sampled)
            if polish and search.nplan < budget:
                message = search.polish(rng)
        finally:
            search.close()
    finally:
        study.close()
        if own:
            session.close()
    return search.result(size, message, run_provenance(session.scenario, seeds=list(study.seeds),
                                                       method=sampler, objectives=list(names), rng=rng,
                                                       population=size))


def _make_sampler(optuna: Any, name: str, size: int, rng: int | None) -> Any:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=rng, n_startup_trials=size, multivariate=True, constant_liar=True)
    return optuna.samplers.NSGAIISampler(population_size=size, seed=rng)


class _FrontSearch:
    """The ask/tell loop between an optuna sampler and a signalopt study; counts and stops."""

    def __init__(self, study: Study, objectives: tuple[str, ...], *, budget: int,
                 max_spillback_share: float | None, progress: bool) -> None:
        self.study = study
        self.objectives = objectives
        self.budget = budget
        self.limit = max_spillback_share
        self.told: list[_Told] = []
        self.nplan = self.nsim = 0
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=budget, desc="front", unit="plan", leave=True, dynamic_ncols=True)

    def run(self, optuna: Any, sampler: Any, starts: Sequence[np.ndarray], size: int, rng: int | None, *,
            limit: int) -> str:
        """The sampler's part: generations until ``limit`` new plan sets are scored."""
        dim = self.study.encoding.size
        space = {f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(dim)}
        sampler_study = optuna.create_study(directions=["minimize"] * len(self.objectives), sampler=sampler)
        # the first generation as differential evolution's first population: the warm starts, members drawn close
        # around them and a Latin-hypercube quarter; NSGA-II's own uniform draws over the box score far worse
        # than the starts, and with a budget of a few generations the front then never leaves them
        for x in _initial_population(np.random.default_rng(rng), starts, size, dim):
            sampler_study.enqueue_trial({f"x{i}": float(v) for i, v in enumerate(x)})
        asks, max_asks = 0, REPEAT_ALLOWANCE * self.budget  # a sampler that proposes only repeats still ends
        while self.nplan < limit and asks < max_asks:
            batch: list[tuple[Any, Trial]] = []
            while len(batch) < size and asks < max_asks:
                proposal = sampler_study.ask(space)
                asks += 1
                batch.append((proposal, self.study.ask([proposal.params[f"x{i}"] for i in range(dim)])))
                # a generation is simulated together; it stops early where the budget ends
                new = self.study.simulations_needed([t for _, t in batch])
                if self.nplan + sum(n > 0 for n in new) >= limit:
                    break
            for (proposal, _), told in zip(batch, self._record([t for _, t in batch])):
                if self.limit is not None:
                    proposal.set_constraint("spillback", told.spillback_share - self.limit)
                sampler_study.tell(proposal, list(told.values))
        if self.nplan >= self.budget:
            return f"evaluation budget of {self.budget} reached"
        if self.nplan >= limit:
            return f"sampler's share of {limit} reached"
        return f"the sampler proposed only plan sets already scored ({self.nplan} of {self.budget} new)"

    def _record(self, trials: Sequence[Trial]) -> list[_Told]:
        """Simulate ``trials`` together and keep each one's objective values (the worst on every objective for a
        trial that failed after its retries or gave no figure)."""
        out = []
        for trial, ev in zip(trials, self.study.run(trials)):
            metrics = ev.metrics
            values = objective_values(self.objectives, metrics) if metrics is not None else ()
            if not all(math.isfinite(v) for v in values):
                metrics, values = None, (FAILED_SCORE,) * len(self.objectives)
            out.append(_Told(trial, metrics, values))
            self.nplan += ev.n_simulations > 0
            self.nsim += ev.n_simulations
            if self._bar is not None:
                self._bar.update(int(ev.n_simulations > 0))
        self.told.extend(out)
        return out

    def polish(self, rng: int | None) -> str:
        """Powell from the knee on the achievement scalarising function (see :func:`optimise_front`) until the
        budget is spent."""
        pool = self._pool(self._distinct())
        if not pool:
            return "no candidate could be evaluated, so there was no knee to polish"
        values = np.array([t.values for t in pool])
        on_front = np.flatnonzero(non_dominated(values))
        front = values[on_front]
        ideal = front.min(axis=0)
        span = front.max(axis=0) - ideal
        # an objective the front does not spread is scaled by its own size (any positive scale keeps its order)
        span = np.where(span > 0, span, np.maximum(np.abs(ideal), 1.0))
        knee = pool[int(on_front[knee_index(front)])]
        target = _Scalarised(self, ideal, span, knee)
        before = self.nplan
        try:
            _local_search("powell", target, knee.trial.x, rng, self.budget, self.study.encoding)
        except _Stop:
            pass
        polished = self.nplan - before
        if self.nplan >= self.budget:
            return f"evaluation budget of {self.budget} reached ({polished} in the knee's polish)"
        return f"the knee's polish converged ({self.nplan} of {self.budget} new, {polished} in the polish)"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _distinct(self) -> list[_Told]:
        """The distinct plan sets scored (the first trial of each), failed ones left out."""
        distinct: dict[str, _Told] = {}
        for t in self.told:
            if t.metrics is not None:
                distinct.setdefault(json.dumps(t.trial.plans.to_dict()["plans"], sort_keys=True), t)
        return list(distinct.values())

    def _pool(self, distinct: list[_Told]) -> list[_Told]:
        """Of the ``distinct`` plan sets, those within the spillback limit where any is (else all of them)."""
        if self.limit is not None:
            return [t for t in distinct if t.spillback_share <= self.limit] or distinct
        return distinct

    def result(self, size: int, message: str, provenance: dict[str, Any]) -> FrontResult:
        distinct = self._distinct()
        pool = self._pool(distinct)
        if not pool:
            raise SignaloptError(f"no candidate could be evaluated: {message}")
        if self.limit is not None and all(t.spillback_share > self.limit for t in pool):
            message += f"; no plan set kept spillback within {self.limit:g}: the front ignores the limit"
        mask = non_dominated([t.values for t in pool])
        front = sorted((t for t, keep in zip(pool, mask) if keep), key=lambda t: t.values)
        members = []
        for k, t in enumerate(front, start=1):
            name = f"front{k:02d}"
            plans = self.study.base.replace_plans(t.trial.plans.plans, name=name)
            members.append(FrontMember(name, t.trial.x, plans, Metrics(t.metrics.scenario, name, "static",
                                                                         t.metrics.runs), t.values))
        return FrontResult(self.objectives, tuple(members), self.study.seeds, len(self.told), self.nsim,
                           self.study.n_simulations, len(distinct), size, message, self.limit, provenance)

