"""Ask/tell study: encoding, evaluation and journal driven from outside (real SUMO, small scenario)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from signalopt.errors import InputError, PlanError
from signalopt.objective import objective_value
from signalopt.safety import check_plans
from signalopt.study import Study
from tests._optimise_helpers import write_isolated_scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return write_isolated_scenario(tmp_path_factory.mktemp("study"), name="iso_study")


def test_ask_evaluate_tell_keeps_the_best_plan(scenario):
    with Study(scenario, seeds=[1], workers=2, rng=4) as study:
        trials = [study.ask() for _ in range(3)]
        assert len({tuple(t.x) for t in trials}) == 3
        metrics = study.evaluate(trials)
        done = [study.tell(t, m) for t, m in zip(trials, metrics)]
        queues = [objective_value("queue", m) for m in metrics]  # the study's default objective
        assert [d.value for d in done] == pytest.approx(queues)
        assert len(set(queues)) > 1  # distinct plans: which one is best is a real choice
        assert study.best_trial.trial is trials[int(np.argmin(queues))]
        assert study.n_simulations == 3
        for t in trials:
            assert check_plans(t.plans, study.evaluator.network) == []


def test_my_own_plans_and_points_are_encoded_and_never_simulated_twice(scenario, tmp_path):
    run = tmp_path / "run"
    with Study(scenario, seeds=[1], workers=1, run_dir=run) as study:
        mine = study.ask(plans=study.base)
        again = study.ask(x=mine.x)
        m1 = study.evaluate(mine)
        m2 = study.evaluate(again)
        assert m1.runs == m2.runs
        assert study.n_simulations == 1
    with Study(scenario, seeds=[1], workers=1, run_dir=run, resume=True) as study:
        m3 = study.evaluate(study.ask(x=mine.x))
        assert m3.runs == m1.runs
        assert study.n_simulations == 0  # replayed from the journal


def test_a_custom_value_and_a_scipy_minimiser_plug_in(scenario):
    with Study(scenario, seeds=[1], workers=2, objective="delay") as study:
        t = study.ask()
        assert study.tell(t, value=3.5).value == 3.5
        res = study.optimize(lambda f, b: optimize.minimize(f, np.full(len(b), 0.5), method="Powell", bounds=b,
                                                            options={"maxfev": 4}))
        assert res.nfev >= 1
        assert study.best_trial.value == min(tr.value for tr in study.trials)


def test_bad_calls_are_refused(scenario):
    with Study(scenario, seeds=[1], workers=1) as study:
        with pytest.raises(PlanError, match="components"):
            study.ask(x=[0.5])
        with pytest.raises(InputError, match="no trial"):
            _ = study.best_trial
        t = study.ask()
        with pytest.raises(InputError, match="metrics or value"):
            study.tell(t)


def test_kept_actuation_only_with_free_actuated_control_and_recorded_for_resume(scenario, tmp_path):
    with pytest.raises(InputError, match=r"only free actuated settings keep .* \(coordinated\)"):
        Study(scenario, control="coordinated", kept_actuation=(30.0, 2.0))
    run = tmp_path / "run"
    with Study(scenario, seeds=[1], workers=1, run_dir=run, control="actuated", kept_actuation=(30.0, 2.0)) as st:
        assert "detector" not in st.encoding.labels()
        trial = st.ask()
        assert {s.passage_s for p in trial.plans for s in p.actuation.stages} == {2.0}
        st.evaluate(trial)
    # resuming with other kept settings would mix two searches in one journal
    for kept in ((40.0, 2.0), None):
        with pytest.raises(InputError, match=r"other settings \(kept_actuation=\[30.0, 2.0\]\)"):
            Study(scenario, seeds=[1], workers=1, run_dir=run, resume=True, control="actuated", kept_actuation=kept)
    with pytest.raises(InputError, match=r"other settings \(control='actuated'"):
        Study(scenario, seeds=[1], workers=1, run_dir=run, resume=True)
