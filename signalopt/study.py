"""Ask/tell: plug your own optimiser or controller into signalopt's encoding, evaluation and journal.

::

    study = Study("scenarios/qixiangtai_summer_am.toml", seeds=[1, 2, 3], run_dir="runs/mine")
    for _ in range(20):
        trial = study.ask()                 # or study.ask(x=my_point), study.ask(plans=my_plans)
        metrics = study.evaluate(trial)     # SUMO on the study's seeds (journalled, never twice)
        study.tell(trial, metrics)          # or study.tell(trial, value=my_score)
    best = study.best_trial.plans

``ask`` proposes points of the unit box (Latin hypercube batches from the
study's ``rng``) unless you pass your own; every point decodes to a safe plan set.
:func:`signalopt.optimiser.optimise` is this loop driven by a SciPy method.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .actuated_encoding import (ActuatedEncoding, CoordinatedEncoding, make_actuated_encoding,
                                make_coordinated_encoding)
from .encoding import make_encoding, PlanEncoding
from .errors import InputError, PlanError, SimulationError
from .evaluator import SumoEvaluator
from .executors import Executor
from .journal import Journal
from .metrics import Metrics
from .objective import Objective, objective_value
from .plan import PlanSet
from .runner import PlanRunner
from .scenario import Scenario
from .session import borrow_session, Session


#: What a study tunes: fixed-time plans, actuated settings over the existing stages (free), or fixed-time
#: plans run coordinated-actuated (cycle, splits, offsets, detector distance and passage; SUMO's NEMA controller).
CONTROLS = ("fixed", "actuated", "coordinated")

@dataclass(frozen=True)
class Trial:
    """One proposed candidate: its number, decision vector (in the unit box) and decoded plans."""

    number: int
    x: np.ndarray
    plans: PlanSet


@dataclass(frozen=True)
class Evaluation:
    """A trial simulated on the study's seeds.

    ``metrics`` is None when a simulation failed (``error`` says why); ``n_simulations`` counts the
    (plan, seed) runs new to the study -- simulated now or replayed from its journal -- so 0 for a
    plan set already evaluated.
    """

    metrics: Metrics | None
    error: str | None
    n_simulations: int


@dataclass(frozen=True)
class FinishedTrial:
    """A told trial: its score (lower is better) and metrics when known."""

    trial: Trial
    value: float
    metrics: Metrics | None

    @property
    def plans(self) -> PlanSet:
        return self.trial.plans


def latin_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Latin hypercube sample of ``n`` points in the unit cube."""
    cut = (np.arange(n)[:, None] + rng.random((n, d))) / n
    for k in range(d):
        cut[:, k] = cut[rng.permutation(n), k]
    return cut


class Study:
    """Encoding + evaluation + journal, driven from outside.

    Parameters
    ----------
    scenario
        Scenario, path of its TOML file, or a :class:`~signalopt.session.Session` (nothing rebuilt).
    seeds
        Seeds every trial is simulated on (common random numbers); default the scenario's optimiser seeds.
    objective
        As for :func:`signalopt.optimiser.optimise`, including a callable on :class:`Metrics`.
    evaluator
        Default: a :class:`SumoEvaluator` on the session.
    workers, executor
        Where simulations run when ``scenario`` is not a session (a pool of ``workers`` processes by default).
    run_dir, resume
        Journal every simulation there; ``resume=True`` replays a previous study's simulations.
    settings
        Recorded in the journal with the seeds and encoding options; resuming a journal started with other
        values is refused.
    rng
        Seed of ``ask``'s own proposals.
    per_signal_cycle, lead_lag
        Encoding options (see :mod:`signalopt.encoding`).
    control
        ``"fixed"``: retime cycle, splits and offsets (:mod:`signalopt.encoding`); ``"actuated"``: tune
        actuated settings over the existing stages (:mod:`signalopt.actuated_encoding`);
        ``"coordinated"``: cycle, splits and offsets run coordinated-actuated, with the shared detector
        distance and passage time (:class:`~signalopt.actuated_encoding.CoordinatedEncoding`; the encoding
        options apply).
    kept_actuation
        With ``control="actuated"``: the detector distance [m] and passage time [s] every signal keeps instead
        of searching them (a time-of-day schedule's periods keep the day's).
    """

    def __init__(self, scenario: Scenario | str | Path | Session, *, seeds: Sequence[int] | None = None,
                 objective: Objective = "queue", evaluator: Any = None, workers: int = 2,
                 executor: Executor | None = None, run_dir: str | Path | None = None, resume: bool = False,
                 settings: Mapping[str, Any] | None = None, rng: int | None = 0,
                 per_signal_cycle: bool = False, lead_lag: bool = False, control: str = "fixed",
                 kept_actuation: tuple[float, float] | None = None) -> None:
        if control not in CONTROLS:
            raise InputError("--control", f"control must be one of {', '.join(CONTROLS)}", control)
        if kept_actuation is not None and control != "actuated":
            raise InputError("kept_actuation", "only free actuated settings keep a detector distance and passage "
                                               "(control actuated)", control)
        self.session, self._own = borrow_session(scenario, workers=workers, executor=executor)
        self.scenario = self.session.scenario
        self.seeds = tuple(int(s) for s in (seeds if seeds is not None else self.scenario.optimise_seeds))
        self.objective = objective
        self.evaluator = evaluator or SumoEvaluator(self.session)
        self.base = self.session.existing
        self.control = control
        network, timing, source = self.session.network, self.scenario.timing, str(self.scenario.path)
        self.encoding: PlanEncoding | ActuatedEncoding | CoordinatedEncoding
        if control == "actuated":
            self.encoding = make_actuated_encoding(network, self.base, timing, kept=kept_actuation, source=source)
        else:
            make = make_coordinated_encoding if control == "coordinated" else make_encoding
            self.encoding = make(network, self.base, timing, per_signal_cycle=per_signal_cycle, lead_lag=lead_lag,
                                 source=source)
        meta = {"kind": "study", "seeds": list(self.seeds), "per_signal_cycle": per_signal_cycle,
                "lead_lag": lead_lag, "control": control,
                **({"kept_actuation": list(self.encoding.kept) if kept_actuation is not None else None}
                   if control == "actuated" else {}),
                **(settings or {})}
        self.journal = Journal(run_dir, digest=self.scenario.digest, meta=meta, resume=resume) if run_dir else None
        self._runner = PlanRunner(self.evaluator, self.seeds, self.journal)
        self._rng = np.random.default_rng(rng)
        self._pending: list[np.ndarray] = []
        self.trials: list[FinishedTrial] = []
        self._best: FinishedTrial | None = None
        self._asked = 0

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return self.encoding.bounds

    def ask(self, x: Sequence[float] | None = None, *, plans: PlanSet | None = None) -> Trial:
        """A new trial: your point ``x`` (clipped to the unit box), your ``plans`` (encoded, made feasible),
        or the study's proposal."""
        if x is not None and plans is not None:
            raise InputError("ask", "give x or plans, not both", None)
        if plans is not None:
            point = self.encoding.encode(plans)
        elif x is not None:
            point = np.asarray(x, dtype=float)
            if point.shape != (self.encoding.size,):
                raise PlanError(f"x has {point.size} components, the encoding {self.encoding.size}")
        else:
            if not self._pending:
                self._pending = list(latin_hypercube(self._rng, max(4, self.encoding.size), self.encoding.size))
            point = self._pending.pop(0)
        self._asked += 1
        point = np.clip(point, 0.0, 1.0)
        decoded = self.encoding.decode(point, name=f"trial{self._asked}")
        return Trial(self._asked, point, self.base.replace_plans(decoded.plans, name=decoded.name))

    def simulations_needed(self, trials: Sequence[Trial]) -> list[int]:
        """Per trial, the ``n_simulations`` that :meth:`run` would report, without running anything."""
        return self._runner.new_counts([t.plans for t in trials])

    def run(self, trials: Sequence[Trial]) -> list[Evaluation]:
        """Simulate trials in one parallel batch on the study's seeds; a failed simulation is reported, not
        raised (never simulated twice: memory, then the journal)."""
        trials = list(trials)
        results = self._runner.run([t.plans for t in trials], [t.x for t in trials])
        out = []
        for t, res, new in zip(trials, results, self._runner.last_new):
            failed = [e for r, e in res if r is None]
            metrics = None if failed else Metrics(self.scenario.name, t.plans.name, "static",
                                                  tuple(r for r, _ in res))
            out.append(Evaluation(metrics, failed[0] if failed else None, new))
        return out

    def evaluate(self, trial: Trial | Sequence[Trial]) -> Metrics | list[Metrics]:
        """Simulate one trial (or several, in one parallel batch) on the study's seeds.

        Raises
        ------
        SimulationError
            A simulation failed after its retries.
        """
        many = not isinstance(trial, Trial)
        trials = list(trial) if many else [trial]
        out = []
        for t, ev in zip(trials, self.run(trials)):
            if ev.metrics is None:
                raise SimulationError(f"trial {t.number}: {ev.error}")
            out.append(ev.metrics)
        return out if many else out[0]

    def tell(self, trial: Trial, metrics: Metrics | None = None, *, value: float | None = None) -> FinishedTrial:
        """Record a trial's outcome: its metrics (scored with the study's objective) or your own ``value``."""
        if (metrics is None) == (value is None):
            raise InputError("tell", "give metrics or value", None)
        score = float(value) if value is not None else objective_value(self.objective, metrics)
        if math.isnan(score):
            raise InputError("tell", "value is NaN", trial.number)
        done = FinishedTrial(trial, score, metrics)
        self.trials.append(done)
        if self._best is None or score < self._best.value:
            self._best = done
        return done

    def optimize(self, fun: Callable[[Callable[[np.ndarray], float], list[tuple[float, float]]], Any]) -> Any:
        """Hand a scipy-style ``fun(objective, bounds)`` minimiser the study's objective."""

        def objective(x: np.ndarray) -> float:
            trial = self.ask(x)
            return self.tell(trial, self.evaluate(trial)).value

        return fun(objective, self.bounds)

    @property
    def best_trial(self) -> FinishedTrial:
        """The told trial of lowest value (the first told of equals)."""
        if self._best is None:
            raise InputError("study", "no trial has been told yet", 0)
        return self._best

    @property
    def n_simulations(self) -> int:
        """Simulations run by this study object (journalled ones replayed are not counted)."""
        return self._runner.n_run

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
        if self._own:
            self.session.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
