"""Evaluators: plans + seeds -> :class:`~signalopt.metrics.Metrics`.

:class:`SumoEvaluator` keeps SUMO behind a process boundary: each evaluation
is a task run by an executor in a worker process with libsumo.  ``simulate``
is the one-call front door.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from ._sumo_run import CONTROLLERS, Task, run_task
from .errors import InputError, SimulationError
from .executors import Executor, Outcome
from .formats.sumo import check_programmes
from .metrics import Metrics, RunMetrics
from .network import Network
from .plan import PlanSet
from .prepare import Prepared, existing_controller, scenario_schedule
from .scenario import MAX_SEED, Scenario
from .session import Session, borrow_session



@runtime_checkable
class Evaluator(Protocol):
    """Anything that turns a plan set and seeds into metrics."""

    def evaluate(self, plans: PlanSet, seeds: Sequence[int]) -> Metrics: ...


#: Most seeds one command may name: a thousand simulations per candidate is already beyond any budget.
MAX_SEEDS = 1000


def parse_seeds(text: str, *, source: str = "--seeds") -> tuple[int, ...]:
    """``"1,2,3"`` or ``"1-5"`` -> seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            lo, hi = (int(p) for p in part.split("-", 1)) if "-" in part[1:] else (int(part), int(part))
        except ValueError:
            raise InputError(source, "seeds must be integers like 1,2,3 or 1-5", text) from None
        if hi < lo:
            raise InputError(source, "seeds must be integers like 1,2,3 or 1-5 (a range counts up)", text)
        if len(seeds) + hi - lo + 1 > MAX_SEEDS:  # before building the range: 0-99999999999 would fill the memory
            raise InputError(source, f"at most {MAX_SEEDS} seeds", text)
        seeds.extend(range(lo, hi + 1))
    if not seeds or any(s < 0 or s > MAX_SEED for s in seeds):
        raise InputError(source, f"seeds must be integers from 0 to {MAX_SEED} (SUMO's --seed)", text)
    if len(set(seeds)) < len(seeds):
        # the same seed twice is the same simulation twice: it would narrow a confidence interval for nothing
        raise InputError(source, "seeds must not repeat", text)
    return tuple(seeds)


class SumoEvaluator:
    """Evaluate plan sets by simulating them in SUMO.

    Parameters
    ----------
    scenario
        A :class:`~signalopt.session.Session` (its network, prepared demand and executor are used as they
        are), a :class:`Scenario` or the path of its TOML file.
    executor
        Where simulations run when a scenario is given; default a process pool of ``workers``.
    workers
        Worker processes of the default executor.
    controller
        ``"static"`` (the plans as fixed-time programmes), ``"network"`` (the network's own programmes),
        ``"actuated"``, ``"delay_based"`` (SUMO's adaptive programmes over the plans' stages) or
        ``"max_pressure"`` (driven through libsumo).
    """

    def __init__(self, scenario: Scenario | str | Path | Session, *, executor: Executor | None = None,
                 workers: int = 2, controller: str = "static") -> None:
        if controller not in CONTROLLERS:
            raise InputError("--controller", f"unknown controller, choose from {', '.join(CONTROLLERS)}", controller)
        if controller == "responsive":
            raise InputError("--controller", "responsive control runs a responsive plan file (compare --responsive "
                                             "FILE), not a plan set", controller)
        self.session, self._own_session = borrow_session(scenario, workers=workers, executor=executor)
        self.controller = controller

    @property
    def scenario(self) -> Scenario:
        return self.session.scenario

    @property
    def network(self) -> Network:
        return self.session.network

    @property
    def prepared(self) -> Prepared:
        return self.session.prepared

    @property
    def executor(self) -> Executor:
        return self.session.executor

    def existing_plans(self) -> PlanSet:
        return self.session.existing

    def run_tasks(self, tasks: Sequence[Task], *,
                  on_result: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
        """Run ``tasks`` on the executor.

        Raises
        ------
        PlanError
            Before any simulation, for plans whose programme SUMO cannot run (a coordinated actuated plan whose
            stages SUMO's NEMA controller cannot run, ...).
        """
        static = {id(t.plans): t.plans for t in tasks if t.plans is not None and t.controller == "static"}
        for plans in static.values():
            check_programmes(plans, self.network)
        return self.executor.map(run_task, list(tasks), on_result=on_result)

    def tasks(self, plans: PlanSet | None, seeds: Sequence[int]) -> list[Task]:
        return [Task(self.prepared, int(s), plans, self.controller) for s in seeds]

    def evaluate(self, plans: PlanSet | None, seeds: Sequence[int]) -> Metrics:
        """Simulate ``plans`` (``None``: the network's own programmes) on each seed."""
        if not seeds:
            raise InputError("--seeds", "at least one seed is needed", list(seeds))
        outcomes = self.run_tasks(self.tasks(plans, seeds))
        return self.collect(plans, outcomes)

    def collect(self, plans: PlanSet | None, outcomes: Sequence[Outcome]) -> Metrics:
        failed = [o.error for o in outcomes if not o.ok]
        if failed:
            raise SimulationError(f"{len(failed)} of {len(outcomes)} simulations failed: {failed[0]}")
        runs: tuple[RunMetrics, ...] = tuple(o.value for o in outcomes)
        if runs and not any(r.n_vehicles or r.throughput_veh or r.max_queue_m > 0 for r in runs):
            sc = self.scenario
            raise InputError(sc.path, "no vehicle departs, arrives or queues in the measured window (begin_s + "
                                      "warmup_s to end_s): every measure would be zero",
                             f"{sc.begin_s + sc.warmup_s:g}-{sc.end_s:g} s")
        return Metrics(self.scenario.name, plans.name if plans is not None else "network", self.controller, runs)

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> SumoEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def simulate(scenario: Scenario | str | Path | Session, plans: PlanSet | None = None, *, seeds: Sequence[int] = (1,),
             controller: str = "static", workers: int = 2, executor: Executor | None = None) -> Metrics:
    """Simulate a scenario under ``plans`` (default: its existing plans) on ``seeds``.

    Parameters
    ----------
    scenario
        Scenario, path of its TOML file, or a :class:`~signalopt.session.Session` (nothing rebuilt).
    plans
        Plans to run; signals not in it keep their existing plan.
    seeds
        SUMO random seeds; each gives one run, the metrics aggregate them.
    controller
        ``"static"``.
    workers
        Worker processes (one simulation each at a time).

    Returns
    -------
    Metrics
        Per-seed runs with queue, delay and insertion figures; means and 95% CIs.
    """
    with SumoEvaluator(scenario, executor=executor, workers=min(workers, max(1, len(seeds))),
                       controller=controller) as ev:
        schedule = scenario_schedule(ev.scenario, ev.network) if plans is None else None
        if schedule is not None:
            # a day scenario runs its existing time-of-day schedule, reported per control period
            bins = tuple((p.name, p.begin_s, p.end_s) for p in schedule.periods)
            tasks = [Task(ev.prepared, int(s), None, controller, schedule=schedule, bins=bins) for s in seeds]
            return ev.collect(PlanSet(schedule.periods[0].plans.plans, name=schedule.name), ev.run_tasks(tasks))
        existing = ev.existing_plans()
        if plans is None and controller == "static":
            # the existing timing as it runs on the street: the network's own programmes (actuated and NEMA too)
            runs = existing_controller(ev.scenario)
            tasks = [Task(ev.prepared, int(s), existing, runs) for s in seeds]
            return ev.collect(existing, ev.run_tasks(tasks))
        full = existing if plans is None else existing.replace_plans(plans.plans, name=plans.name)
        return ev.evaluate(full, seeds)
