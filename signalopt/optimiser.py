"""Retiming with SciPy: cycle, splits and offsets over a feasible-by-construction encoding.

``optimise`` follows scipy.optimize's shape (``x0``, ``rng``, ``callback``, method settings in
``options``; a result with ``x, fun, nfev, nit, success, message``) and is built on the ask/tell
:class:`~signalopt.study.Study`: every candidate is asked as a trial (decoded into a safe plan set),
simulated on the same seeds (common random numbers), journalled before it is used and told, so
``resume=True`` replays a killed run without simulating anything twice and reaches the same result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize

from . import __version__
from .actuated_encoding import ActuatedEncoding, CoordinatedEncoding
from .encoding import PlanEncoding
from .errors import InputError, SignaloptError
from .executors import Executor
from .metrics import Metrics
from .plan import PlanSet
from .objective import Objective, base_objective, objective_name, objective_value
from .provenance import run_provenance
from .scenario import Scenario
from .session import Session, borrow_session
from .study import FinishedTrial, Study, latin_hypercube
from .analytic import AnalyticEvaluator
from .coordination import coordinated_plans, progression_links

METHODS = ("differential_evolution", "nelder-mead", "powell", "direct")
#: Score of a candidate whose simulation failed after its retries.
FAILED_SCORE = 1e6
#: Local searches (Nelder-Mead, Powell) that converge with budget left restart from their best point, at most
#: this many times, with these initial steps [unit box] in turn.  Powell's first run takes the first;
#: Nelder-Mead's first run keeps scipy's own simplex (5% of each coordinate).
MAX_RESTARTS = 20
RESTART_STEPS = (0.1, 0.2, 0.3)
#: DIRECT searches a cube of this half-width [unit box] centred on the best warm start (a restart: on the
#: best point so far).
DIRECT_RADIUS = 0.25
#: Spread [unit box] of the differential-evolution members drawn around the warm starts.
LOCAL_SPREAD = 0.05
#: Share of an evaluation budget that differential evolution and DIRECT leave to their polish: a Powell
#: search from the best point (for differential evolution at least this share: repeats in its generations are
#: free) (scipy's ``differential_evolution`` polishes with L-BFGS-B, which needs gradients
#: a simulation does not have).  Why half: docs/cli.md, "Optimisation methods".
POLISH_SHARE = 0.5
#: scipy's own evaluation counters count repeats, which the budget does not (they need no simulation):
#: they get this many times the budget, so that the budget is what stops a search.
REPEAT_ALLOWANCE = 10

class _Stop(Exception):
    """Budget or callback says stop."""


class _PhaseEnd(Exception):
    """The share of the budget given to one phase of a method is spent (see :func:`_phase`)."""


@dataclass(frozen=True)
class HistoryItem:
    """One scored candidate; ``nfev`` and ``nsim`` count up to and including it."""

    nfev: int
    fun: float
    best_fun: float
    nsim: int
    elapsed_s: float


@dataclass(frozen=True)
class OptimiseResult:
    """Result of :func:`optimise`, with scipy's field names.

    ``nfev`` counts candidate plan sets scored, repeats included; ``nsim`` the simulations they
    needed (journalled ones included; a candidate that decodes to a plan set
    already scored needs none), ``nsim_run`` those run in this call.
    """

    x: np.ndarray
    fun: float
    nfev: int
    nit: int
    success: bool
    message: str
    best_plans: PlanSet
    best_metrics: Metrics
    history: tuple[HistoryItem, ...]
    method: str
    seeds: tuple[int, ...]
    nsim: int
    nsim_run: int
    x0_fun: float
    labels: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"x": [float(v) for v in self.x], "fun": self.fun, "nfev": self.nfev, "nit": self.nit,
                "success": self.success, "message": self.message, "method": self.method,
                "seeds": list(self.seeds), "nsim": self.nsim, "nsim_run": self.nsim_run, "x0_fun": self.x0_fun,
                "history": [h.__dict__ for h in self.history], "labels": list(self.labels),
                "best_plans": self.best_plans.to_dict(), "provenance": self.provenance}


@dataclass(frozen=True)
class EvalInfo:
    """What a callback sees after each scored candidate; return True to stop."""

    nfev: int
    x: np.ndarray
    fun: float
    best_fun: float
    best_x: np.ndarray


class _Search:
    """The optimisation loop on a :class:`~signalopt.study.Study`: ask a trial per point a SciPy method
    proposes, run the batch, tell each result, and stop on the budget, the clock or the callback.

    As optuna builds ``optimize`` on ``ask``/``tell``, everything a search scores goes through the study
    (its encoding, runner and journal); this class only counts and stops.
    """

    def __init__(self, study: Study, *, budget: int | None, time_budget_s: float | None,
                 callback: Callable[[EvalInfo], bool | None] | None, progress: bool) -> None:
        self.study = study
        self.budget = budget
        self.time_budget_s = time_budget_s
        self.callback = callback
        self.t0 = time.perf_counter()
        self.nfev = 0
        self.nplan = 0  # candidates the budget counts: new plan sets, not repeats of one already scored
        self.nsim = 0
        self.nit = 0  # iterations of the method, counted by its callback: a budget stop loses scipy's result
        self.history: list[HistoryItem] = []
        self.stop_reason = ""
        self.phase_end: int | None = None  # nplan at which the running phase of a method ends
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=budget, desc="optimising", unit="plan", leave=True, dynamic_ncols=True)

    @property
    def best(self) -> FinishedTrial | None:
        return self.study.best_trial if self.study.trials else None

    @property
    def best_x(self) -> np.ndarray | None:
        return self.best.trial.x if self.study.trials else None

    def _check_budget(self) -> None:
        if self.budget is not None and self.nplan >= self.budget:
            self.stop_reason = f"evaluation budget of {self.budget} reached"
            raise _Stop
        if self.time_budget_s is not None and time.perf_counter() - self.t0 >= self.time_budget_s:
            self.stop_reason = f"time budget of {self.time_budget_s:g} s reached"
            raise _Stop
        if self.phase_end is not None and self.nplan >= self.phase_end:
            raise _PhaseEnd

    def score_many(self, xs: Sequence[np.ndarray]) -> list[float]:
        """Score points; their simulations run together through the study's executor."""
        if len(xs) == 0:
            return []
        self._check_budget()
        trials = [self.study.ask(x) for x in xs]
        cut = False
        limits = [n for n in (self.budget, self.phase_end) if n is not None]
        room = min(limits) - self.nplan if limits else len(trials)
        if len(trials) > room:
            # score what the budget allows, then stop (scipy expects a full batch); repeats are free
            fresh = np.cumsum([n > 0 for n in self.study.simulations_needed(trials)])
            if fresh[-1] > room:
                trials, cut = trials[:int(np.searchsorted(fresh, room + 1))], True
        evaluations = self.study.run(trials)
        scores = []
        for i, (trial, ev) in enumerate(zip(trials, evaluations)):
            done = (self.study.tell(trial, ev.metrics) if ev.metrics is not None
                    else self.study.tell(trial, value=FAILED_SCORE))
            self.nfev += 1
            self.nplan += ev.n_simulations > 0
            self.nsim += ev.n_simulations
            best = self.study.best_trial
            self.history.append(HistoryItem(self.nfev, done.value, best.value, self.nsim,
                                            time.perf_counter() - self.t0))
            if self._bar is not None:
                self._bar.update(int(ev.n_simulations > 0))  # the bar counts what the budget counts
                self._bar.set_postfix(best=f"{best.value:.2f}", refresh=False)
            scores.append(done.value)
            if self.callback is not None and self.callback(
                    EvalInfo(self.nfev, trial.x, done.value, best.value, best.trial.x)):
                self.stop_reason = "stopped by callback"
                # the rest of the batch was simulated too, though never told
                self.nsim += sum(e.n_simulations for e in evaluations[i + 1:])
                raise _Stop
        if cut:
            self._check_budget()
        return scores

    def score(self, x: np.ndarray) -> float:
        return self.score_many([x])[0]

    def count_iteration(self, *_: Any, **__: Any) -> None:
        """scipy callback after each iteration (generation, simplex step, line-search sweep)."""
        self.nit += 1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _initial_population(gen: np.random.Generator, starts: Sequence[np.ndarray], size: int,
                        dim: int) -> np.ndarray:
    """First differential-evolution population: the starts, members drawn around them, and a Latin hypercube.

    Three quarters (rounded up) of the members beyond the starts are the starts (in turn) moved by a
    normal step of :data:`LOCAL_SPREAD` per coordinate; the rest keep their rows of a Latin hypercube
    drawn over the whole population, for diversity (none when fewer than four members follow the
    starts).  Members scattered uniformly over a 16-dimensional box score far worse than a coordinated
    start, and the differences between them throw trial vectors just as far: with a budget of a few
    generations the search then never improves on its start (measured on the summer AM corridor).
    """
    init = latin_hypercube(gen, size, dim)
    n = min(len(starts), size)
    if n == 0:
        return init
    init[:n] = np.asarray(starts[:n], dtype=float)
    n_local = (size - n) - (size - n) // 4
    for j in range(n_local):
        init[n + j] = np.clip(starts[j % n] + gen.normal(0.0, LOCAL_SPREAD, dim), 0.0, 1.0)
    return init


def warm_starts(scenario: Scenario, encoding: PlanEncoding, base: PlanSet, network: Any) -> list[np.ndarray]:
    """Decision vectors to start from: the existing plans, then (with counts) coordinated and Webster plans.

    Free actuated settings start at the existing plans (SUMO's stock settings), served every cycle and, where
    stages may skip, skipping those nobody calls; coordinated-actuated control starts from the fixed-time
    starts with SUMO's stock detector distance and passage.

    The coordinated plans (:func:`coordinated_starts`) share a common cycle:
    the one the analytic model scores best, with a green wave in each
    direction, and a ladder of longer ones up to the critical junction's,
    with a wave in the heavier direction; the simulations choose among them.
    """
    if isinstance(encoding, CoordinatedEncoding):
        # the fixed part's starts, run coordinated-actuated at SUMO's stock detector distance and passage
        fixed = warm_starts(scenario, encoding.fixed, base, network)
        return [encoding.encode(base), *(encoding.with_stock_settings(x) for x in fixed[1:])]
    starts = [encoding.encode(base)]
    if isinstance(encoding, ActuatedEncoding) and encoding.skip_dimension:
        # and once more skipping the stages nobody calls: the two ways to set a free controller at first, far
        # apart in the unit box (at a budget of 16 on arterial_allred no other start reached skipping)
        skipping = starts[0].copy()
        skipping[-1] = 1.0
        starts.append(skipping)
    if scenario.counts_path is None or not isinstance(encoding, PlanEncoding):
        return starts  # actuated settings start at SUMO's stock ones
    try:
        analytic = AnalyticEvaluator(scenario, network=network)
    except SignaloptError:
        return starts  # counts the analytic model cannot use; the existing plans still warm-start
    starts += [encoding.encode(p) for p in coordinated_starts(analytic, encoding, base)]
    try:
        starts.append(encoding.encode(analytic.webster_plans(base)))
    except SignaloptError:
        pass  # Webster needs feasible flow ratios
    return starts


def coordinated_starts(analytic: Any, encoding: PlanEncoding, base: PlanSet) -> list[PlanSet]:
    """Coordinated plan sets for ``encoding`` (see :func:`signalopt.coordination.coordinated_plans`).

    The common cycles are the one the analytic model scores best on queue + delay [m + s], and a ladder
    of longer ones up to the critical junction's.
    """
    ranges = encoding.cycle_ranges
    lo, hi = max(r[0] for r in ranges), min(r[1] for r in ranges)

    def decode_at(cycle_s: float) -> PlanSet:
        x = np.zeros(encoding.size)
        for k, (a, b) in enumerate(ranges):
            x[k] = (cycle_s - a) / (b - a) if b > a else 0.0
        return base.replace_plans(encoding.decode(x).plans, name="coordinated")

    # The cycle scan weighs queue and delay equally whatever the objective: the analytic queue alone
    # favours cycles too short to absorb the randomness of real arrivals (vehicles were left outside at
    # the queue-best cycle); the simulations then move the cycle.  A custom objective is the caller's and
    # is only ever called on simulations.
    scan = {"queue": 1.0, "delay": 1.0}
    links = progression_links(analytic.network, base.signal_ids)
    weights = {}
    for l in links:
        signal = analytic.network.signal(l.downstream)
        weights[l.upstream, l.downstream] = analytic.through_flow_veh_h(l.downstream,
                                                                        signal.links[l.downstream_link].approach)
    try:
        return coordinated_plans(base, cycle_range_s=(lo, hi), flow_ratios=analytic.stage_flow_ratios,
                                 decode_at=decode_at,
                                 score=lambda plans: objective_value(scan, analytic.evaluate(plans, (0,))),
                                 links=links, link_weights=weights)
    except SignaloptError:
        return []


def optimise(scenario: Scenario | str | Path | Session, *, objective: Objective = "queue",
             method: str = "differential_evolution", budget: int | None = 60, time_budget_s: float | None = None,
             seeds: Sequence[int] | None = None, x0: Sequence[float] | None = None, rng: int | None = 0,
             callback: Callable[[EvalInfo], bool | None] | None = None, run_dir: str | Path | None = None,
             resume: bool = False, per_signal_cycle: bool = False, lead_lag: bool = False,
             options: Mapping[str, Any] | None = None, workers: int = 2, executor: Executor | None = None,
             evaluator: Any = None, progress: bool = False, control: str = "fixed",
             kept_actuation: tuple[float, float] | None = None) -> OptimiseResult:
    """Optimise cycle, splits and offsets of a scenario's signals (or, ``control="actuated"``, their
    actuated settings; ``control="coordinated"``, both, run coordinated-actuated).

    The search is an ask/tell loop on a :class:`~signalopt.study.Study`: every point the method proposes is
    asked as a trial (decoded into a safe plan set), simulated on the same seeds (common random numbers),
    journalled and told.

    Parameters
    ----------
    scenario
        Scenario, path of its TOML file, or a :class:`~signalopt.session.Session` (nothing rebuilt).
    objective
        ``"queue"`` (default), ``"delay"``, ``{"queue": wq, "delay": wd}`` or a
        callable on :class:`Metrics` (see :func:`~signalopt.objective.objective_value`).
    method
        ``"differential_evolution"`` (population simulated in parallel; the
        first population holds the warm starts, members drawn close around
        them and a Latin hypercube; with an evaluation budget, the last
        :data:`POLISH_SHARE` of it polishes the best member with Powell),
        ``"nelder-mead"`` or ``"powell"`` (from
        the best warm start; a search that converges with budget left
        restarts from its best point along rotated directions) or
        ``"direct"`` (DIRECT over a cube around the best warm start, steps
        past the box's faces mirrored back; with an evaluation budget, the
        last :data:`POLISH_SHARE` of it polishes the best point with Powell).
    budget, time_budget_s
        Stop after this many new candidate plan sets [-] and/or this wall time [s].  A candidate that
        decodes to a plan set already scored needs no simulation and does not count (the piecewise-constant
        plan landscape makes repeats common).
    seeds
        Simulation seeds every candidate is scored on (default: the scenario's).
    x0
        A decision vector to start from; default :func:`warm_starts` (existing, coordinated and Webster plans).
    rng
        Seed of the optimiser's own randomness (population, mutation).
    callback
        Called with :class:`EvalInfo` after every candidate; True stops.
    run_dir, resume
        Journal directory; ``resume=True`` continues a run found there.
    per_signal_cycle, lead_lag
        Encoding options (see :mod:`signalopt.encoding`).
    options
        Method settings, as scipy's ``minimize(options=...)``; a setting the method does not take is refused.
        Every method: ``starts`` (more decision vectors seeded into the start, e.g. a neighbouring
        period's best) and ``analytic_presearch`` (before simulating, search this many candidates with
        the analytic Webster/HCM model -- milliseconds each -- and seed its best into the start; needs
        counts, ignored with an ``evaluator``).  Differential evolution: ``popsize`` (members [-]),
        ``mutation`` (a number or a dithering ``(lo, hi)``), ``recombination`` and ``polish`` (bool).
        DIRECT: ``polish``.
    workers, executor
        Where simulations run when ``scenario`` is not a session: a process pool of ``workers``, or an
        :class:`~signalopt.executors.Executor` (e.g. ``make_executor("dask")``) that the caller closes.
    evaluator
        Use this evaluator instead of simulating with SUMO (e.g. an
        :class:`~signalopt.analytic.AnalyticEvaluator`).
    progress
        Show a progress bar of new plan sets.
    control
        ``"fixed"`` (default); ``"actuated"``: minimum and maximum greens, passage times and detector
        distances over the existing stages (:mod:`signalopt.actuated_encoding`), warm-started from SUMO's
        stock actuated settings; ``"coordinated"``: cycle, splits and offsets (the encoding options apply)
        run coordinated-actuated in SUMO's NEMA controller -- each stage from its minimum to its split
        green, the coordinated stage taking the time the others leave -- with the shared detector
        distance and passage time (:class:`~signalopt.actuated_encoding.CoordinatedEncoding`), warm-started
        from the fixed-time starts at SUMO's stock detector distance and passage.
    kept_actuation
        With ``control="actuated"``: keep every signal's detectors at this distance [m] and every passage
        time at this value [s] instead of searching them (:func:`signalopt.tod.time_of_day` keeps the
        day's across its periods).
    """
    if method not in METHODS:
        raise InputError("--method", f"method must be one of {', '.join(METHODS)}", method)
    check_budget(budget, time_budget_s)
    opts = method_options(method, options)
    settings = {"kind": "optimise", "method": method, "rng": rng, "budget": budget, "signalopt": __version__,
                **({"control": control} if control != "fixed" else {}),
                "objective": objective if not callable(objective) else objective_name(objective),
                "options": {k: v for k, v in opts.items() if k != "starts"}}
    session, own = borrow_session(scenario, workers=workers, executor=executor)
    try:
        study = Study(session, seeds=seeds, objective=objective, evaluator=evaluator, run_dir=run_dir,
                      resume=resume, settings=settings, per_signal_cycle=per_signal_cycle, lead_lag=lead_lag,
                      control=control, kept_actuation=kept_actuation)
    except BaseException:
        if own:
            session.close()
        raise
    scen, encoding = session.scenario, study.encoding
    extra = [_start(encoding, x, f"options['starts'][{k}]") for k, x in enumerate(opts["starts"])]
    if evaluator is None:
        session.prepared  # noqa: B018 - route generation before the clock starts
    search = _Search(study, budget=budget, time_budget_s=time_budget_s, callback=callback, progress=progress)
    message = ""
    try:
        starts = ([_start(encoding, x0, "x0")] if x0 is not None
                  else warm_starts(scen, encoding, study.base, session.network))
        starts += extra
        if (opts["analytic_presearch"] > 0 and evaluator is None and scen.counts_path is not None
                and control in ("fixed", "coordinated")):
            starts.append(_analytic_presearch(session, study, starts, rng, opts["analytic_presearch"]))
        x0_fun = search.score(starts[0])
        _run_method(method, search, encoding, starts, rng, budget, opts)
        message = "finished" if budget is None else (
            f"search converged with budget left ({search.nplan} of {budget} new plan sets)")
    except _Stop:
        message = search.stop_reason
        x0_fun = search.history[0].fun if search.history else math.nan
    finally:
        search.close()
        study.close()
        if own:
            session.close()
    best = search.best
    if best is None or best.metrics is None:
        raise SignaloptError(f"no candidate could be evaluated: {message or 'every simulation failed'}")
    plans = study.base.replace_plans(best.plans.plans, name="optimised")
    metrics = Metrics(scen.name, "optimised", "static", best.metrics.runs)
    return OptimiseResult(best.trial.x, best.value, search.nfev, search.nit, best.value < FAILED_SCORE, message,
                          plans, metrics, tuple(search.history), method, study.seeds, search.nsim,
                          study.n_simulations, x0_fun, tuple(encoding.labels()),
                          run_provenance(scen, seeds=list(study.seeds), method=method, rng=rng,
                                         objective=objective_name(objective)))


#: Settings ``optimise(options=...)`` takes, per method, with their defaults.
METHOD_OPTIONS: dict[str, dict[str, Any]] = {
    "differential_evolution": {"popsize": None, "mutation": (0.5, 1.0), "recombination": 0.7, "polish": True},
    "nelder-mead": {},
    "powell": {},
    "direct": {"polish": True},
}
_COMMON_OPTIONS: dict[str, Any] = {"starts": (), "analytic_presearch": 0}


def method_options(method: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``options`` checked against what ``method`` takes, with the defaults filled in.

    Raises
    ------
    InputError
        A setting the method does not take, or a value out of range.
    """
    allowed = {**_COMMON_OPTIONS, **METHOD_OPTIONS[method]}
    given = dict(options or {})
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise InputError("options", f"{method} takes {', '.join(sorted(allowed))}", ", ".join(unknown))
    out = {**allowed, **given}
    popsize = out.get("popsize")
    if popsize is not None and (not isinstance(popsize, int) or popsize < 5):
        raise InputError("options", "popsize must be an integer of at least 5 (scipy's differential evolution)",
                         popsize)
    mutation = out.get("mutation", 0.5)
    lo, hi = (mutation, mutation) if isinstance(mutation, (int, float)) else tuple(mutation)
    if not 0 <= lo <= hi < 2:
        raise InputError("options", "mutation must lie in [0, 2): a number or (lo, hi)", mutation)
    if not 0 <= out.get("recombination", 0.5) <= 1:
        raise InputError("options", "recombination must lie in [0, 1]", out["recombination"])
    if not isinstance(out["analytic_presearch"], int) or out["analytic_presearch"] < 0:
        raise InputError("options", "analytic_presearch must be a non-negative integer", out["analytic_presearch"])
    return out


def _start(encoding: PlanEncoding, x: Sequence[float], what: str) -> np.ndarray:
    point = np.asarray(x, dtype=float)
    if point.shape != (encoding.size,):
        raise InputError(what, f"a start needs {encoding.size} components (the encoding's)", point.size)
    return np.clip(point, 0.0, 1.0)


def check_budget(budget: int | None, time_budget_s: float | None = None) -> None:
    """Refuse a budget that :func:`optimise` cannot run with; callers that simulate before optimising check
    first, so that bad input fails before any work.

    Raises
    ------
    InputError
        Neither an evaluation budget nor a time budget, or an evaluation budget below 1.
    """
    if budget is None and time_budget_s is None:
        raise InputError("--budget", "give an evaluation budget or a time budget", None)
    if budget is not None and budget < 1:
        raise InputError("--budget", "budget must be at least 1", budget)


def _analytic_presearch(session: Session, study: Study, starts: list[np.ndarray], rng: int | None,
                        budget: int) -> np.ndarray:
    """Best point of a differential-evolution search on the analytic model (no simulation).

    The model times fixed plans: for coordinated-actuated control it searches the fixed part (cycle, splits,
    offsets) and the point it returns runs at SUMO's stock detector distance and passage.
    """
    coordinated = isinstance(study.encoding, CoordinatedEncoding)
    fixed = study.encoding.fixed if coordinated else study.encoding
    # a guard's reference ran in SUMO, which the model does not reproduce: the model minimises what it guards
    with Study(session, seeds=(0,), objective=base_objective(study.objective), evaluator=AnalyticEvaluator(session.scenario,
               network=session.network), per_signal_cycle=fixed.per_signal_cycle,
               lead_lag=fixed.lead_lag) as pre_study:
        pre = _Search(pre_study, budget=budget, time_budget_s=None, callback=None, progress=False)
        fixed_starts = [x[:fixed.size] for x in starts]
        try:
            # Unpolished: a Powell polish drives the point into the analytic model's own optimum, whose short
            # cycles random arrivals do not forgive (the main job's plans were worse with a polished pre-search)
            _run_method("differential_evolution", pre, fixed, fixed_starts, rng, budget,
                        {**METHOD_OPTIONS["differential_evolution"], "polish": False})
        except _Stop:
            pass
        best = pre.best_x if pre.best_x is not None else fixed_starts[0]
        return study.encoding.with_stock_settings(best) if coordinated else best


def _run_method(method: str, problem: _Search, encoding: PlanEncoding, starts: list[np.ndarray],
                rng: int | None, budget: int | None, opts: Mapping[str, Any]) -> None:
    bounds = encoding.bounds
    dim = encoding.size
    # without an evaluation budget there is no share to leave
    polish = opts.get("polish", False) and budget is not None
    # new plan sets for the global search (differential evolution, DIRECT) before a polish takes the rest
    search = budget - int(POLISH_SHARE * budget) if polish else budget
    if method == "differential_evolution":
        gen = np.random.default_rng(rng)
        size = opts["popsize"] or max(int(np.clip((budget or 60) // 6, 6, max(6, 2 * dim))), len(starts) + 1)
        init = _initial_population(gen, starts, size, dim)
        # the population is sized on the whole budget; the generations stop where the polish's share begins
        maxiter = max(0, (search if search is not None else 10**6) // size - 1)

        def map_many(_fun: Callable, xs: Any) -> list[float]:
            return problem.score_many([np.asarray(x) for x in xs])

        optimize.differential_evolution(
            lambda x: problem.score(x), bounds, init=init, maxiter=max(maxiter, 1), rng=gen,
            workers=map_many, updating="deferred", polish=False, tol=0.0, atol=0.0, mutation=opts["mutation"],
            recombination=opts["recombination"], callback=problem.count_iteration)
        if polish:
            _local_search("powell", problem, starts[0], rng, budget, encoding)
        return
    # the local searches and DIRECT start from the best warm start; starts[0] was scored first (x0_fun);
    # the others are simulated together, as the workers allow
    scores = [problem.history[0].fun] + problem.score_many(starts[1:])
    best = starts[int(np.argmin(scores))]
    if method in ("nelder-mead", "powell"):
        _local_search(method, problem, best, rng, budget, encoding)
    elif polish:
        # DIRECT, then Powell from the best point; the warm starts count in DIRECT's share
        _phase(problem, search - problem.nplan, lambda: _direct(problem, best, budget, encoding))
        _local_search("powell", problem, best, rng, budget, encoding)
    else:
        _direct(problem, best, budget, encoding)


def _phase(problem: _Search, n: int, search: Callable[[], None]) -> None:
    """Run ``search`` until it ends or ``n`` more new plan sets are scored (the budget stops it regardless)."""
    problem.phase_end = problem.nplan + max(n, 0)
    try:
        search()
    except _PhaseEnd:
        pass
    finally:
        problem.phase_end = None


def _scipy_maxfev(budget: int | None) -> int:
    return REPEAT_ALLOWANCE * budget if budget is not None else 10**6


def _direct(problem: _Search, best: np.ndarray, budget: int | None, encoding: PlanEncoding) -> None:
    """DIRECT (locally biased) over a cube of :data:`DIRECT_RADIUS` around ``best``; a search that ends with
    budget left (scipy's counter counts repeats) starts again around the best point so far."""

    previous: np.ndarray | None = None
    for _ in range(MAX_RESTARTS + 1):
        centre = problem.best_x if problem.best_x is not None else best
        if previous is not None and np.array_equal(centre, previous):
            return  # DIRECT is deterministic: around the same centre it would propose the same points again
        previous = centre

        # DIRECT samples the centre of its box first and never sees a start: it searches u in [-1, 1]^n
        # around the centre, x = reflect(centre + DIRECT_RADIUS u), so that centre is the start.  Reflected,
        # not clipped, at the box's faces: clipped, every point past a face decodes to the same plans.
        def around(u: np.ndarray, centre: np.ndarray = centre) -> float:
            return problem.score(_reflect(centre + DIRECT_RADIUS * np.asarray(u)))

        optimize.direct(around, [(-1.0, 1.0)] * encoding.size, maxfun=_scipy_maxfev(budget), locally_biased=True,
                        callback=problem.count_iteration)


def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold points up to one box width outside the unit box back into it, mirrored at its faces."""
    return np.clip(np.where(x < 0.0, -x, np.where(x > 1.0, 2.0 - x, x)), 0.0, 1.0)


def _local_search(method: str, problem: _Search, start: np.ndarray, rng: int | None, budget: int | None,
                  encoding: PlanEncoding) -> None:
    """Nelder-Mead or Powell from the best point so far (else ``start``), restarted until the budget is spent."""

    bounds = encoding.bounds
    dim = encoding.size
    gen = np.random.default_rng(rng)
    for restart in range(MAX_RESTARTS + 1):
        step = RESTART_STEPS[restart % len(RESTART_STEPS)]
        # A converged local search with budget left starts again from the best point along new,
        # randomly rotated directions: decoded plans are piecewise constant (0.1 s greens, 1 s
        # cycles), so a search often stalls on a flat piece long before its budget is spent.
        basis = np.eye(dim) if restart == 0 else np.linalg.qr(gen.normal(size=(dim, dim)))[0]
        x0 = problem.best_x if problem.best_x is not None else start
        if method == "nelder-mead":
            # vertices step away along each direction, turned back where that leaves the box
            ahead = x0 + step * basis
            vertices = np.where((ahead < 0.0) | (ahead > 1.0), x0 - step * basis, ahead)
            simplex = np.vstack([x0, np.clip(vertices, 0.0, 1.0)]) if restart else None
            options = {"maxfev": _scipy_maxfev(budget), "xatol": 1e-3, "fatol": 1e-3, "initial_simplex": simplex}
            optimize.minimize(problem.score, x0, method="Nelder-Mead", bounds=bounds, options=options,
                              callback=problem.count_iteration)
        else:
            # No bounds on purpose: with bounds, scipy's Powell golden-sections each line over the whole
            # box (one minimum per line assumed) and lands away from x0 on this many-minima landscape.
            # Unbounded, Brent brackets from x0 one step out; points past the box score as their
            # projection onto it (the decoded plans are the same).
            options = {"maxfev": _scipy_maxfev(budget), "xtol": 0.05, "direc": step * basis}
            optimize.minimize(lambda x: problem.score(np.clip(x, 0.0, 1.0)), x0, method="Powell",
                              options=options, callback=problem.count_iteration)
