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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .encoding import make_encoding, PlanEncoding
from .errors import InputError, PlanError, SimulationError
from .evaluator import SumoEvaluator
from .journal import Journal
from .metrics import Metrics
from .optimiser import latin_hypercube, Objective, objective_value
from .plan import PlanSet
from .runner import PlanRunner
from .scenario import Scenario
from .session import borrow_session, Session


@dataclass(frozen=True)
class Trial:
    """One proposed candidate: its number, decision vector and decoded plans."""

    number: int
    x: np.ndarray
    plans: PlanSet


@dataclass(frozen=True)
class FinishedTrial:
    """A told trial: its score (lower is better) and metrics when known."""

    trial: Trial
    value: float
    metrics: Metrics | None

    @property
    def plans(self) -> PlanSet:
        return self.trial.plans


class Study:
    """Encoding + evaluation + journal, driven from outside.

    Parameters
    ----------
    scenario
        Scenario or path of its TOML file.
    seeds
        Seeds every trial is simulated on (common random numbers).
    objective
        As for :func:`signalopt.optimiser.optimise`, including a callable on :class:`Metrics`.
    evaluator
        Default: a :class:`SumoEvaluator` with ``workers`` processes.
    run_dir, resume
        Journal every simulation there; ``resume=True`` replays a previous study's simulations.
    rng
        Seed of ``ask``'s own proposals.
    """

    def __init__(self, scenario: Scenario | str | Path | Session, *, seeds: Sequence[int] | None = None,
                 objective: Objective = "queue", evaluator: Any = None, workers: int = 2,
                 run_dir: str | Path | None = None, resume: bool = False, rng: int | None = 0,
                 per_signal_cycle: bool = False, lead_lag: bool = False) -> None:
        self.session, self._own = borrow_session(scenario, workers=workers)
        self.scenario = self.session.scenario
        self.seeds = tuple(int(s) for s in (seeds if seeds is not None else self.scenario.optimise_seeds))
        self.objective = objective
        self.evaluator = evaluator or SumoEvaluator(self.session)
        self.base = self.session.existing
        self.encoding: PlanEncoding = make_encoding(self.session.network, self.base, self.scenario.timing,
                                                    per_signal_cycle=per_signal_cycle, lead_lag=lead_lag,
                                                    source=str(self.scenario.path))
        meta = {"kind": "study", "seeds": list(self.seeds), "per_signal_cycle": per_signal_cycle,
                "lead_lag": lead_lag}
        self.journal = Journal(run_dir, digest=self.scenario.digest, meta=meta, resume=resume) if run_dir else None
        self._runner = PlanRunner(self.evaluator, self.seeds, self.journal)
        self._rng = np.random.default_rng(rng)
        self._pending: list[np.ndarray] = []
        self.trials: list[FinishedTrial] = []
        self._asked = 0

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return self.encoding.bounds

    def ask(self, x: Sequence[float] | None = None, *, plans: PlanSet | None = None) -> Trial:
        """A new trial: your point ``x``, your ``plans`` (encoded, made feasible), or the study's proposal."""
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
        decoded = self.encoding.decode(point, name=f"trial{self._asked}")
        return Trial(self._asked, np.clip(point, 0, 1), self.base.replace_plans(decoded.plans, name=decoded.name))

    def evaluate(self, trial: Trial | Sequence[Trial]) -> Metrics | list[Metrics]:
        """Simulate one trial (or several, in one parallel batch) on the study's seeds."""
        many = not isinstance(trial, Trial)
        trials = list(trial) if many else [trial]
        results = self._runner.run([t.plans for t in trials], [t.x for t in trials])
        out = []
        for t, res in zip(trials, results):
            failed = [e for r, e in res if r is None]
            if failed:
                raise SimulationError(f"trial {t.number}: {failed[0]}")
            out.append(Metrics(self.scenario.name, t.plans.name, "static", tuple(r for r, _ in res)))
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
        return done

    def optimize(self, fun: Callable[[Callable[[np.ndarray], float], list[tuple[float, float]]], Any]) -> Any:
        """Hand a scipy-style ``fun(objective, bounds)`` minimiser the study's objective."""

        def objective(x: np.ndarray) -> float:
            trial = self.ask(x)
            return self.tell(trial, self.evaluate(trial)).value

        return fun(objective, self.bounds)

    @property
    def best_trial(self) -> FinishedTrial:
        if not self.trials:
            raise InputError("study", "no trial has been told yet", 0)
        return min(self.trials, key=lambda t: t.value)

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
