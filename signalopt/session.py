"""The job-scoped session: one scenario and everything built from it once, handed to every stage of a job.

A :class:`Session` reads the network once, reads the existing plans (and their shortfalls) once, prepares
the demand once (route sampling, cached on disk) and owns or borrows the executor the simulations run on.
:func:`~signalopt.evaluator.simulate`, :func:`~signalopt.optimiser.optimise`,
:func:`~signalopt.comparison.compare`, :func:`~signalopt.job.run_job` and the time-of-day job take a scenario,
its path or a session; given a session they build nothing again::

    with Session("scenarios/qixiangtai_summer_am.toml", workers=2) as s:
        before = simulate(s, seeds=[1, 2])
        result = optimise(s, budget=40)
        table = compare(s, [result.best_plans])
"""

from __future__ import annotations

from pathlib import Path

from .executors import Executor, make_executor
from .network import Network
from .plan import PlanSet
from .prepare import Prepared, load_network, prepare, scenario_plans
from .scenario import Scenario, read_scenario


class Session:
    """A scenario with its network, existing plans, prepared demand and executor, each built once.

    Parameters
    ----------
    scenario
        A :class:`~signalopt.scenario.Scenario` or the path of its TOML file.
    workers
        Worker processes of the executor the session makes when ``executor`` is not given.
    executor
        Run simulations here instead (the caller keeps it and closes it).

    Attributes
    ----------
    scenario, network
        The scenario and its network (with the programmes its additional files load).
    existing, existing_warnings
        The existing plans (plan file or network programmes) and every shortfall found reading them.
    """

    def __init__(self, scenario: Scenario | str | Path, *, workers: int = 2,
                 executor: Executor | None = None) -> None:
        self.scenario = scenario_of(scenario)
        self.network: Network = load_network(self.scenario)
        plans, warnings = scenario_plans(self.scenario, self.network)
        self.existing: PlanSet = plans
        self.existing_warnings: tuple[str, ...] = tuple(warnings)
        self.workers = workers
        self._executor = executor
        self._own_executor = executor is None
        self._prepared: Prepared | None = None

    @property
    def executor(self) -> Executor:
        """Where simulations run (made on first use: a process pool of ``workers``, or serial for one)."""
        if self._executor is None:
            self._executor = make_executor("process" if self.workers > 1 else "serial", workers=self.workers)
        return self._executor

    @property
    def prepared(self) -> Prepared:
        """What a simulation needs (route files, approaches), built on first use (route sampling is cached)."""
        if self._prepared is None:
            self._prepared = prepare(self.scenario, self.network)
        return self._prepared

    def close(self) -> None:
        """Close the executor if the session made it."""
        if self._own_executor and self._executor is not None:
            self._executor.close()
            self._executor = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scenario_of(scenario: Scenario | str | Path | Session) -> Scenario:
    """The scenario of a session, a scenario, or a scenario file (read and checked)."""
    if isinstance(scenario, Session):
        return scenario.scenario
    return scenario if isinstance(scenario, Scenario) else read_scenario(scenario)


def borrow_session(scenario: Scenario | str | Path | Session, *, workers: int = 2,
                   executor: Executor | None = None) -> tuple[Session, bool]:
    """``scenario`` as a session, and whether the caller made it (and must close it).

    A session given is used as it is (its executor too); a scenario or a path gets a new session with
    ``workers`` and ``executor``.
    """
    if isinstance(scenario, Session):
        return scenario, False
    return Session(scenario_of(scenario), workers=workers, executor=executor), True
