"""The evaluator contract (docs/architecture.md), held by every evaluator: SUMO and analytic.

``evaluate(plans, seeds) -> Metrics``: one run per seed in the order of ``seeds``; the same plans and seeds
give the same figures; a plan set covering some signals leaves the others on their existing plans; ``None``
is the existing timing; no seeds is refused; ``scenario``, ``network`` and ``existing_plans()`` describe what
is evaluated. A new evaluator (mesoscopic, actuated) joins ``EVALUATORS`` and passes the same tests.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from _optimise_helpers import write_isolated_scenario

from signalopt.analytic import AnalyticEvaluator
from signalopt.encoding import make_encoding
from signalopt.errors import InputError
from signalopt.evaluator import SumoEvaluator
from signalopt.executors import SerialExecutor
from signalopt.plan import PlanSet
from signalopt.session import Session

EVALUATORS = ["sumo", "analytic"]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_isolated_scenario(tmp_path_factory.mktemp("contract"), name="contract")


@pytest.fixture(params=EVALUATORS)
def evaluator(request, scenario: Path):  # noqa: ANN001, ANN201
    session = Session(scenario, executor=SerialExecutor())
    ev = SumoEvaluator(session) if request.param == "sumo" else AnalyticEvaluator(session)
    yield ev
    session.close()


def retimed(ev) -> PlanSet:  # noqa: ANN001
    """A plan set other than the existing one (the encoding's centre: safe, another cycle and splits)."""
    enc = make_encoding(ev.network, ev.existing_plans(), ev.scenario.timing)
    return enc.decode(np.full(enc.size, 0.3), name="retimed")


def figures(metrics) -> list[tuple]:  # noqa: ANN001
    return [(r.seed, r.delay_s, r.mean_max_queue_m, r.n_vehicles, r.stops_per_veh) for r in metrics.runs]


def test_one_run_per_seed_in_order(evaluator) -> None:  # noqa: ANN001
    m = evaluator.evaluate(retimed(evaluator), [3, 1])
    assert [r.seed for r in m.runs] == [3, 1]
    assert all(r.delay_s > 0 and r.n_vehicles > 0 for r in m.runs)


def test_same_plans_and_seeds_give_the_same_figures(evaluator) -> None:  # noqa: ANN001
    plans = retimed(evaluator)
    assert figures(evaluator.evaluate(plans, [2])) == figures(evaluator.evaluate(plans, [2]))


def test_plans_differ_in_their_figures(evaluator) -> None:  # noqa: ANN001
    """The contract is about the plans given: another plan set gives other figures."""
    assert figures(evaluator.evaluate(retimed(evaluator), [2])) != figures(evaluator.evaluate(None, [2]))


def test_missing_signals_keep_their_existing_plans(evaluator) -> None:  # noqa: ANN001
    existing = evaluator.existing_plans()
    plan = retimed(evaluator).plans[0]
    partial = PlanSet((plan,), name="partial")
    full = existing.replace_plans((plan,), name="partial")
    assert figures(evaluator.evaluate(partial, [1])) == figures(evaluator.evaluate(full, [1]))


def test_none_is_the_existing_timing(evaluator) -> None:  # noqa: ANN001
    existing = evaluator.existing_plans()
    assert figures(evaluator.evaluate(None, [1])) == figures(evaluator.evaluate(replace(existing), [1]))


def test_no_seeds_is_refused(evaluator) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match="at least one seed"):
        evaluator.evaluate(None, [])


def test_describes_what_it_evaluates(evaluator, scenario: Path) -> None:  # noqa: ANN001
    assert evaluator.scenario.path == scenario.resolve()
    assert evaluator.network.signal_ids == evaluator.existing_plans().signal_ids
