"""The optimiser (signalopt.optimiser) on a small real SUMO scenario, and resume after a real kill.

Scenario: the isolated junction, 900 s with 300 s warm-up, one seed; a
simulation takes a fraction of a second, so every budget here is small.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from dataclasses import fields
from pathlib import Path

from dataclasses import replace

import numpy as np
import pytest

from _optimise_helpers import existing_score, journal_lines, kill_once_journalled, write_isolated_scenario
from signalopt.encoding import make_encoding
from signalopt.errors import InputError
from signalopt.evaluator import simulate
from signalopt.metrics import ApproachMetrics, Metrics, RunMetrics
from signalopt.network import read_network
from signalopt.objective import NOT_INSERTED_QUEUE_M, objective_value, parse_objective
from signalopt.optimiser import METHODS, EvalInfo, OptimiseResult, optimise
from signalopt.programs import existing_plans
from signalopt.safety import check_plans
from signalopt.scenario import read_scenario

HELPER = Path(__file__).resolve().parent / "_optimise_helpers.py"
ROOT = Path(__file__).resolve().parents[1]
SEEDS = (1,)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("route-cache")


@pytest.fixture(autouse=True)
def _cache(cache_dir: Path, monkeypatch):
    # one route cache for this module's scenario (routeSampler runs once); workers inherit it
    monkeypatch.setenv("SIGNALOPT_CACHE", str(cache_dir))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    return write_isolated_scenario(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def de_result(scenario: Path, cache_dir: Path) -> OptimiseResult:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNALOPT_CACHE", str(cache_dir))
        return optimise(scenario, budget=12, seeds=SEEDS, workers=2, rng=1)


def decode(scenario: Path, x: np.ndarray):
    scen = read_scenario(scenario)
    net = read_network(scen.network_path)
    base = existing_plans(net, scen.timing)[0]
    return make_encoding(net, base, scen.timing).decode(x, name="optimised"), net


# ------------------------------------------------------------------ result


def test_result_has_scipy_fields(de_result: OptimiseResult, scenario: Path) -> None:
    names = {f.name for f in fields(OptimiseResult)}
    assert {"x", "fun", "nfev", "nit", "success", "message"} <= names
    r = de_result
    assert isinstance(r.x, np.ndarray) and r.x.shape == (len(r.labels),)
    assert np.all((r.x >= 0) & (r.x <= 1))
    assert r.labels == ("cycle", "center:split1", "center:split2", "center:split3")
    assert r.success and math.isfinite(r.fun)
    # the budget counts new plan sets: the existing plans, scored first and again in the population, count once
    assert r.nsim == 12 * len(SEEDS) and r.nfev > 12 and r.message == "evaluation budget of 12 reached"
    assert r.method == "differential_evolution" and r.seeds == SEEDS
    assert r.provenance["scenario_digest"] == read_scenario(scenario).digest
    assert r.provenance["rng"] == 1
    json.dumps(r.to_dict())  # a plain JSON record


def test_best_is_better_than_the_existing_plans(de_result: OptimiseResult, scenario: Path) -> None:
    r = de_result
    assert r.x0_fun == r.history[0].fun  # the existing plans (made safe) are scored first
    assert r.x0_fun == pytest.approx(existing_score(scenario))
    assert r.fun == min(h.fun for h in r.history)
    assert r.fun < r.x0_fun


def test_history_matches_evaluations(de_result: OptimiseResult) -> None:
    r = de_result
    assert len(r.history) == r.nfev
    assert [h.nfev for h in r.history] == list(range(1, r.nfev + 1))
    best = [h.best_fun for h in r.history]
    assert best == list(np.minimum.accumulate([h.fun for h in r.history]))
    assert best[-1] == r.fun
    steps = [b.nsim - a.nsim for a, b in zip(r.history, r.history[1:])]
    assert r.history[0].nsim == len(SEEDS) and set(steps) <= {0, len(SEEDS)}
    assert 0 in steps  # the first population repeats the existing plans, scored first: no new simulation
    assert r.history[-1].nsim == r.nsim == r.nsim_run < r.nfev * len(SEEDS)  # no journal: all run in this call
    assert all(b.elapsed_s >= a.elapsed_s for a, b in zip(r.history, r.history[1:]))


def test_best_plans_are_safe_and_reproduce_fun(de_result: OptimiseResult, scenario: Path) -> None:
    r = de_result
    plans, net = decode(scenario, r.x)
    assert r.best_plans == plans
    assert check_plans(r.best_plans, net) == []
    assert r.best_plans.name == "optimised"
    assert r.best_metrics.seeds == SEEDS
    assert objective_value("queue", r.best_metrics) == pytest.approx(r.fun)
    # simulating the best plans again gives the same score (same seed, deterministic SUMO)
    again = simulate(scenario, r.best_plans, seeds=SEEDS, workers=1)
    assert objective_value("queue", again) == pytest.approx(r.fun)


def test_same_rng_same_result(de_result: OptimiseResult, scenario: Path) -> None:
    again = optimise(scenario, budget=12, seeds=SEEDS, workers=2, rng=1)
    assert np.array_equal(again.x, de_result.x)
    assert again.fun == de_result.fun
    assert [h.fun for h in again.history] == [h.fun for h in de_result.history]
    assert again.best_plans == de_result.best_plans


@pytest.mark.parametrize("method", ["nelder-mead", "powell", "direct"])
def test_other_methods_run_within_budget(method: str, scenario: Path) -> None:
    r = optimise(scenario, method=method, budget=8, seeds=SEEDS, workers=2, rng=0)
    assert r.method == method
    assert 1 <= r.nsim <= 8 * len(SEEDS) and len(r.history) == r.nfev
    plans, net = decode(scenario, r.x)
    assert r.best_plans == plans and check_plans(plans, net) == []


def test_callback_stops_early(scenario: Path) -> None:
    seen: list[EvalInfo] = []

    def stop_at_three(info: EvalInfo) -> bool:
        seen.append(info)
        return info.nfev >= 3

    r = optimise(scenario, method="nelder-mead", budget=10, seeds=SEEDS, workers=2, callback=stop_at_three)
    assert r.nfev == 3 and len(seen) == 3
    assert r.message == "stopped by callback"
    assert [s.nfev for s in seen] == [1, 2, 3]
    assert seen[-1].best_fun == r.fun and np.array_equal(seen[-1].best_x, r.x)
    assert [s.fun for s in seen] == [h.fun for h in r.history]


def test_delay_objective(scenario: Path) -> None:
    r = optimise(scenario, objective="delay", method="nelder-mead", budget=4, seeds=SEEDS, workers=2)
    assert r.fun == pytest.approx(r.best_metrics.runs[0].delay_s)
    assert r.x0_fun == pytest.approx(existing_score(scenario, objective="delay"))


def test_custom_objective(scenario: Path, tmp_path: Path) -> None:
    calls: list[Metrics] = []

    def fewer_stops(m: Metrics) -> float:
        calls.append(m)
        return 100.0 * m.mean("stops_per_veh")

    r = optimise(scenario, objective=fewer_stops, method="nelder-mead", budget=4, seeds=SEEDS, workers=2,
                 run_dir=tmp_path / "run")
    assert len(calls) == r.nfev
    assert r.fun == pytest.approx(100.0 * r.best_metrics.mean("stops_per_veh"))
    assert [h.fun for h in r.history] == pytest.approx([100.0 * m.mean("stops_per_veh") for m in calls])
    assert json.loads((tmp_path / "run" / "meta.json").read_text())["objective"] == "custom"


def test_nsim_counts_simulations_per_seed_also_when_a_callback_stops_mid_batch() -> None:
    """Two seeds: a new plan needs two simulations, a repeat none; a callback stop inside a population still
    counts the members simulated with it but never scored.  Analytic evaluator on the isolated junction."""
    from signalopt.analytic import AnalyticEvaluator

    iso = ROOT / "scenarios" / "isolated.toml"
    r = optimise(iso, budget=30, seeds=[1, 2], evaluator=AnalyticEvaluator(iso), rng=0,
                 callback=lambda info: info.nfev >= 8)
    assert r.message == "stopped by callback" and r.nfev == 8
    steps = [b.nsim - a.nsim for a, b in zip(r.history, r.history[1:])]
    assert r.history[0].nsim == 2 and set(steps) <= {0, 2} and 2 in steps
    assert r.nsim == r.nsim_run > r.history[-1].nsim  # the first population's unscored members ran too


@pytest.mark.parametrize("method", ["nelder-mead", "powell"])
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["delay", "minus-delay"])
def test_local_methods_start_from_the_best_warm_start(scenario: Path, method: str, sign: float) -> None:
    """The warm starts (existing, coordinated, Webster) are scored first; the local search starts from the best.

    With the analytic evaluator (real HCM formulas, no simulation); flipping the
    objective's sign makes a different warm start the best.
    """
    from signalopt.analytic import AnalyticEvaluator

    ev = AnalyticEvaluator(scenario)
    r = optimise(scenario, method=method, budget=5, seeds=SEEDS, evaluator=ev,
                 objective=lambda m: sign * m.delay_s)
    *starts, first_step = (h.fun for h in r.history[:4])
    assert len(set(starts)) == 3  # three distinct warm starts on the isolated junction
    assert first_step == min(starts)  # the method's first point is the best start
    assert r.nsim_run <= r.nfev - 1  # analytic: nothing journalled; the repeated start is cached, not rerun


@pytest.mark.parametrize("method", ["nelder-mead", "direct"])
def test_local_methods_simulate_the_other_warm_starts_in_one_batch(scenario: Path, method: str) -> None:
    """Real SUMO on the isolated junction (3 warm starts): the existing plans alone (x0_fun), then the other two
    starts handed to the executor together, so a pool runs them side by side; then the method, one at a time."""
    from signalopt.evaluator import SumoEvaluator
    from signalopt.executors import SerialExecutor

    class Recording(SerialExecutor):
        def __init__(self) -> None:
            super().__init__()
            self.batches: list[int] = []

        def map(self, fn, tasks, *, on_result=None):  # noqa: ANN001, ANN201
            self.batches.append(len(tasks))
            return super().map(fn, tasks, on_result=on_result)

    ex = Recording()
    ev = SumoEvaluator(scenario, executor=ex)
    r = optimise(scenario, method=method, budget=5, seeds=SEEDS, evaluator=ev)
    assert r.nsim == 5 * len(SEEDS)
    assert ex.batches[:2] == [1, 2]
    assert set(ex.batches[2:]) <= {1}


@pytest.mark.parametrize("method", ["nelder-mead", "powell"])
def test_local_methods_restart_until_the_budget_is_spent(method: str) -> None:
    """A local search that stalls on the piecewise-constant plan landscape starts again from its best point.

    Analytic evaluator on the bundled isolated junction: without restarts Nelder-Mead stops after 77 of 150
    candidates and Powell after 122.
    """
    from signalopt.analytic import AnalyticEvaluator

    iso = ROOT / "scenarios" / "isolated.toml"
    r = optimise(iso, method=method, budget=150, seeds=[1], evaluator=AnalyticEvaluator(iso), rng=0)
    assert r.nsim == 150 and r.message == "evaluation budget of 150 reached"
    assert r.nfev > 175  # repeats of plan sets already scored are free: they need no simulation
    assert r.nit > 1  # counted by callback, though the budget stops the run inside scipy
    assert [h.best_fun for h in r.history] == sorted((h.best_fun for h in r.history), reverse=True)
    again = optimise(iso, method=method, budget=150, seeds=[1], evaluator=AnalyticEvaluator(iso), rng=0)
    assert np.array_equal(again.x, r.x)  # the rotated restart directions come from rng


@pytest.mark.parametrize("method", METHODS)
def test_an_explicit_x0_is_the_only_start(method: str) -> None:
    """Analytic evaluator on the isolated junction: with ``x0`` (clipped into the box) no warm start is
    added; every method scores it first and runs to its budget."""
    from signalopt.analytic import AnalyticEvaluator

    iso = ROOT / "scenarios" / "isolated.toml"
    seen: list[EvalInfo] = []
    r = optimise(iso, method=method, budget=12, seeds=[1], evaluator=AnalyticEvaluator(iso), rng=0,
                 x0=[0.5, 0.5, 1.5, 0.5], callback=seen.append)
    assert np.array_equal(seen[0].x, [0.5, 0.5, 1.0, 0.5]) and r.x0_fun == seen[0].fun
    assert r.nsim == 12 and r.message == "evaluation budget of 12 reached"


def test_direct_stops_restarting_around_a_centre_it_has_searched() -> None:
    """Analytic evaluator on the isolated junction, a time budget only: once a DIRECT run ends without moving
    the best point, another run around it would propose the same points (DIRECT is deterministic), so the
    search ends instead of spending the time on repeats; with a budget left over the message says so."""
    from signalopt.analytic import AnalyticEvaluator

    iso = ROOT / "scenarios" / "isolated.toml"
    r = optimise(iso, method="direct", budget=None, time_budget_s=120, seeds=[1], evaluator=AnalyticEvaluator(iso))
    assert r.message == "finished" and r.history[-1].elapsed_s < 120
    r = optimise(iso, method="direct", budget=2000, seeds=[1], evaluator=AnalyticEvaluator(iso))
    assert r.nsim < 2000 and r.message == f"search converged with budget left ({r.nsim} of 2000 new plan sets)"


def test_progress_bar_counts_what_the_budget_counts(capsys) -> None:
    """Nelder-Mead repeats itself on the isolated junction (analytic evaluator): the bar ends at the budget,
    not at the candidates proposed."""
    from signalopt.analytic import AnalyticEvaluator

    iso = ROOT / "scenarios" / "isolated.toml"
    r = optimise(iso, method="nelder-mead", budget=40, seeds=[1], evaluator=AnalyticEvaluator(iso), rng=0,
                 progress=True)
    assert r.nfev > r.nsim == 40
    err = capsys.readouterr().err
    assert "40/40" in err and f"{r.nfev}/40" not in err


def test_differential_evolution_leaves_the_polish_share_of_its_budget_to_powell() -> None:
    """Analytic evaluator on the isolated junction; a population of 6 and a budget of 60: five generations
    (30 candidates), then Powell from the best member, one coordinate direction at a time."""
    from signalopt.analytic import AnalyticEvaluator
    from signalopt.optimiser import POLISH_SHARE

    iso = ROOT / "scenarios" / "isolated.toml"
    seen: list[EvalInfo] = []
    r = optimise(iso, budget=60, seeds=[1], evaluator=AnalyticEvaluator(iso), rng=0, options={"popsize": 6},
                 callback=seen.append)
    assert r.nsim == 60 and r.message == "evaluation budget of 60 reached"
    n_de = 1 + 60 - int(POLISH_SHARE * 60)  # the existing plans are scored first, alone (x0_fun)
    assert n_de == 31
    polish = seen[n_de:]
    assert np.array_equal(polish[0].x, seen[n_de - 1].best_x)  # Powell's x0: the best member
    moved = [c.x for c in polish if not np.array_equal(c.x, polish[0].x)]
    assert len(moved) > 10
    assert np.count_nonzero(moved[0] != polish[0].x) == 1  # its first line search: one coordinate
    assert r.fun <= seen[n_de - 1].best_fun


def test_direct_searches_a_cube_around_the_best_start_then_powell_polishes() -> None:
    """Analytic evaluator on the isolated junction (3 warm starts); a budget of 40: DIRECT until 20 new plan
    sets (the starts included), then Powell from DIRECT's best point with the rest.  Iterations are counted
    though the budget stops the run inside scipy."""
    from signalopt.analytic import AnalyticEvaluator
    from signalopt.optimiser import DIRECT_RADIUS, POLISH_SHARE

    iso = ROOT / "scenarios" / "isolated.toml"
    seen: list[EvalInfo] = []
    r = optimise(iso, method="direct", budget=40, seeds=[1], evaluator=AnalyticEvaluator(iso), rng=0,
                 callback=seen.append)
    assert r.nsim == 40 and r.message == "evaluation budget of 40 reached"
    assert 1 <= r.nit < 40  # DIRECT iterations (each several candidates), then Powell sweeps
    n_direct = 40 - int(POLISH_SHARE * 40)
    end = next(k for k, h in enumerate(r.history) if h.nsim == n_direct)  # DIRECT's last new plan set
    starts, direct, polish = seen[:3], seen[3:end + 1], seen[end + 1:]
    best_start = min(starts, key=lambda s: s.fun).x
    assert np.array_equal(direct[0].x, best_start)  # DIRECT's first sample is its cube's centre
    assert all(np.abs(c.x - best_start).max() <= DIRECT_RADIUS + 1e-12 for c in direct)
    assert min(c.fun for c in direct) < min(s.fun for s in starts)
    # a step past a face of the box is mirrored back into it, not clipped onto the face (where every such
    # step would decode to the same plans): the best start's split1 (0.10) less DIRECT's first step
    # (2/3 of the radius) lands at 0.07, not 0
    xs = np.array([c.x for c in direct])
    assert best_start[1] < 2 / 3 * DIRECT_RADIUS
    assert not np.any((xs == 0.0) | (xs == 1.0))
    assert np.isclose(xs[:, 1], 2 / 3 * DIRECT_RADIUS - best_start[1]).any()
    # then Powell from DIRECT's best point, one coordinate at a time
    assert np.array_equal(polish[0].x, direct[-1].best_x)
    moved = [c.x for c in polish if not np.array_equal(c.x, polish[0].x)]
    assert len(moved) > 10 and np.count_nonzero(moved[0] != polish[0].x) == 1
    assert r.fun <= direct[-1].best_fun


def test_bad_arguments(scenario: Path) -> None:
    with pytest.raises(InputError, match="method must be one of"):
        optimise(scenario, method="bfgs", budget=4)
    with pytest.raises(InputError, match=r"budget must be at least 1 \(0\)"):
        optimise(scenario, budget=0)
    with pytest.raises(InputError, match="give an evaluation budget or a time budget"):
        optimise(scenario, budget=None)


def test_method_settings_go_in_options_and_are_checked_against_the_method(scenario: Path) -> None:
    with pytest.raises(InputError, match=r"^options: nelder-mead takes analytic_presearch, starts \(popsize\)$"):
        optimise(scenario, method="nelder-mead", budget=4, options={"popsize": 8})
    with pytest.raises(InputError, match=r"popsize must be an integer of at least 5 .*\(3\)"):
        optimise(scenario, budget=4, options={"popsize": 3})
    with pytest.raises(InputError, match=r"mutation must lie in \[0, 2\)"):
        optimise(scenario, budget=4, options={"mutation": (1.0, 0.5)})
    with pytest.raises(InputError, match=r"options\['starts'\]\[0\]: a start needs \d+ components .*\(2\)"):
        optimise(scenario, budget=4, options={"starts": [[0.5, 0.5]]})


def test_a_start_given_in_options_is_scored_and_the_settings_are_journalled(scenario: Path, tmp_path: Path) -> None:
    enc_size = len(optimise(scenario, method="powell", budget=1, seeds=SEEDS, workers=1).x)
    mine = np.full(enc_size, 0.9)
    seen: list[np.ndarray] = []
    optimise(scenario, method="nelder-mead", budget=6, seeds=SEEDS, workers=2, run_dir=tmp_path / "run",
             x0=np.full(enc_size, 0.1), options={"starts": [mine]}, callback=lambda info: seen.append(info.x))
    # the local methods score every start before they search; the first is x0, the second the one given
    assert np.allclose(seen[0], 0.1) and np.allclose(seen[1], 0.9)
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["kind"] == "optimise" and meta["method"] == "nelder-mead" and meta["options"] == {
        "analytic_presearch": 0}


def test_run_dir_is_not_overwritten_without_resume(scenario: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    optimise(scenario, method="nelder-mead", budget=2, seeds=SEEDS, workers=2, run_dir=run_dir)
    before = (run_dir / "journal.jsonl").read_bytes()
    assert before
    with pytest.raises(InputError, match="already holds a journal; pass --resume"):
        optimise(scenario, method="nelder-mead", budget=2, seeds=SEEDS, workers=2, run_dir=run_dir)
    with pytest.raises(InputError, match="cannot resume: the run was started with other settings"):
        optimise(scenario, method="powell", budget=2, seeds=SEEDS, workers=2, run_dir=run_dir, resume=True)
    assert (run_dir / "journal.jsonl").read_bytes() == before


# ------------------------------------------------------------------ objective on handmade metrics


def run_metrics(seed: int = 1, *, queue: float = 20.0, delay: float = 30.0, not_inserted: int = 0,
                n_approaches: int = 4) -> RunMetrics:
    apps = tuple(ApproachMetrics(f"a{k}", f"center:{'NESW'[k]}", "center", queue, queue, queue, 3.0, 3.0, 3.0, 6)
                 for k in range(n_approaches))
    return RunMetrics(seed=seed, delay_s=delay, mean_max_queue_m=queue, p95_max_queue_m=queue, max_queue_m=queue,
                      not_inserted=not_inserted, throughput_veh=400, n_vehicles=400 + not_inserted,
                      stops_per_veh=0.5, ped_wait_s=0.0, n_pedestrians=0, teleports=0, approaches=apps)


def metrics(*runs: RunMetrics) -> Metrics:
    return Metrics("s", "p", "static", tuple(runs))


def test_queue_objective_penalises_vehicles_not_inserted() -> None:
    served = metrics(run_metrics(queue=20.0))
    kept_out = metrics(run_metrics(queue=20.0, not_inserted=8))
    assert objective_value("queue", served) == pytest.approx(20.0)
    # 8 vehicles kept out of the network, spread over 4 approaches at 7.5 m each
    assert objective_value("queue", kept_out) == pytest.approx(20.0 + NOT_INSERTED_QUEUE_M * 8 / 4)
    # a plan cannot look better by keeping cars out: shorter queues but 8 cars waiting outside
    assert objective_value("queue", metrics(run_metrics(queue=10.0, not_inserted=8))) > \
        objective_value("queue", served)
    # no approaches recorded: the penalty still counts (spread over one)
    assert objective_value("queue", metrics(run_metrics(queue=0.0, not_inserted=2, n_approaches=0))) == \
        pytest.approx(2 * NOT_INSERTED_QUEUE_M)


def test_objective_averages_over_seeds_and_weights() -> None:
    m = metrics(run_metrics(1, queue=10.0, delay=40.0), run_metrics(2, queue=30.0, delay=20.0))
    assert objective_value("queue", m) == pytest.approx(20.0)
    assert objective_value("delay", m) == pytest.approx(30.0)
    assert objective_value({"queue": 0.5, "delay": 0.5}, m) == pytest.approx(25.0)
    assert objective_value({"delay": 2.0}, m) == pytest.approx(60.0)
    assert objective_value(lambda mm: mm.mean("throughput_veh"), m) == 400.0
    with pytest.raises(InputError, match=r"objective must be queue, delay, pi or a weighting of .*\(speed\)"):
        objective_value("speed", m)


def test_performance_index_is_delay_plus_k_stops_with_a_storage_penalty() -> None:
    """TRANSYT's PI: delay + K stops; a plan whose queues fill their approaches pays for every spilled
    approach-cycle, so no saving in delay buys a spillback."""
    from signalopt.objective import SPILLBACK_PENALTY, STOP_PENALTY_S

    m = metrics(run_metrics(1, queue=10.0, delay=40.0), run_metrics(2, queue=30.0, delay=20.0))  # 0.5 stops/veh
    assert objective_value("pi", m) == pytest.approx(30.0 + STOP_PENALTY_S * 0.5)
    assert objective_value({"delay": 1.0, "stops": 10.0}, m) == pytest.approx(35.0)
    spilled = replace(m.runs[0], approaches=tuple(replace(a, n_cycles=10, spillback_cycles=k)
                                                   for k, a in enumerate(m.runs[0].approaches)))
    assert spilled.spillback_share == pytest.approx((0 + 1 + 2 + 3) / 40)
    quicker_but_spilling = metrics(replace(spilled, delay_s=20.0))
    assert objective_value("pi", quicker_but_spilling) == pytest.approx(
        20.0 + STOP_PENALTY_S * 0.5 + SPILLBACK_PENALTY * 0.15)
    assert objective_value("pi", quicker_but_spilling) > objective_value("pi", metrics(m.runs[0]))


def test_a_guarded_objective_does_not_buy_a_shorter_queue_with_delay() -> None:
    """The guard (signalopt run's default) scores the objective plus 10 reference scores per unit of relative
    excess over 98% of the reference's delay and 95th-percentile queue: a plan with a 40% shorter queue and 3%
    more delay loses to one with a 20% shorter queue and 2% less delay."""
    from signalopt.objective import GUARD_MARGIN, GUARD_PENALTY, NoWorseThan, objective_name

    assert GUARD_MARGIN == 0.02
    reference = metrics(run_metrics(1, queue=50.0, delay=40.0), run_metrics(2, queue=50.0, delay=40.0))
    guard = NoWorseThan("queue", reference)
    trades = metrics(run_metrics(1, queue=30.0, delay=41.2), run_metrics(2, queue=30.0, delay=41.2))
    level = metrics(run_metrics(1, queue=40.0, delay=39.2), run_metrics(2, queue=40.0, delay=39.2))
    assert objective_value("queue", trades) < objective_value("queue", level)  # unguarded, the trade wins
    assert guard.excess(trades) == pytest.approx({"delay_s": 0.05, "p95_max_queue_m": 0.0})
    assert guard(trades) == pytest.approx(30.0 + GUARD_PENALTY * 50.0 * 0.05)
    assert guard(level) == pytest.approx(40.0)  # 2% better on both: the objective itself
    assert guard(trades) > guard(level)
    # the reference itself pays for the margin; without one, it pays nothing
    assert guard(reference) == pytest.approx(50.0 + GUARD_PENALTY * 50.0 * 0.04)
    assert NoWorseThan("queue", reference, margin=0.0)(reference) == pytest.approx(50.0)
    # the guard holds the mean over the seeds
    mixed = metrics(run_metrics(1, queue=60.0, delay=30.0), run_metrics(2, queue=30.0, delay=48.0))
    assert guard(mixed) == pytest.approx(45.0)
    assert objective_name(guard) == "queue, no worse than p on delay_s, p95_max_queue_m"
    assert objective_value(guard, level) == pytest.approx(40.0)  # a guard is an objective like any other


def test_a_guard_refuses_what_it_cannot_compare() -> None:
    from signalopt.objective import NoWorseThan

    reference = metrics(run_metrics(1), run_metrics(2))
    with pytest.raises(InputError, match=r"on its reference's seeds \[1, 2\] \(\[1, 3\]\)"):
        NoWorseThan("queue", reference)(metrics(run_metrics(1), run_metrics(3)))
    with pytest.raises(InputError, match=r"run measures .* \(speed_kmh\)"):
        NoWorseThan("delay", reference, measures=("speed_kmh",))
    with pytest.raises(InputError, match=r"penalty must be finite and positive \(0\)"):
        NoWorseThan("delay", reference, penalty=0)
    with pytest.raises(InputError, match=r"margin must lie in \[0, 1\) \(1.5\)"):
        NoWorseThan("delay", reference, margin=1.5)
    with pytest.raises(InputError, match="objective must be"):
        NoWorseThan("speed", reference)
    with pytest.raises(InputError, match="named or weighted objective"):
        NoWorseThan(lambda m: 0.0, reference)


def test_parse_objective() -> None:
    assert parse_objective("queue") == "queue"
    assert parse_objective("delay") == "delay"
    assert parse_objective("queue=0.7,delay=0.3") == {"queue": 0.7, "delay": 0.3}
    assert parse_objective("pi") == "pi"
    assert parse_objective("delay=1,stops=20,spillback=1000") == {"delay": 1.0, "stops": 20.0, "spillback": 1000.0}
    with pytest.raises(InputError, match="objective must be"):
        parse_objective("throughput")
    with pytest.raises(InputError, match=r"weights must be numbers \(delay=lots\)"):
        parse_objective("queue=1,delay=lots")


# ------------------------------------------------------------------ resume after a real kill


def test_resume_after_sigkill(scenario: Path, tmp_path: Path) -> None:
    budget, rng = 20, 3  # two generations of 6, then the Powell polish: the resumed run goes through both
    args = dict(budget=budget, rng=rng, seeds=SEEDS, workers=2)
    full = optimise(scenario, run_dir=tmp_path / "full", **args)
    assert full.nsim_run == len(journal_lines(tmp_path / "full" / "journal.jsonl"))

    run_dir = tmp_path / "killed"
    journal = run_dir / "journal.jsonl"
    returncode, err = kill_once_journalled(
        [sys.executable, str(HELPER), str(run_dir), str(scenario), str(rng), str(budget)], journal)
    assert returncode == -signal.SIGKILL, err

    before = journal_lines(journal)
    keys_before = {d["key"] for d in before}
    assert 3 <= len(before) < full.nsim_run, "the kill should land part-way through the run"
    assert len(keys_before) == len(before)

    resumed = optimise(scenario, run_dir=run_dir, resume=True, **args)
    # (a) nothing journalled was simulated again
    assert resumed.nsim_run == full.nsim_run - len(keys_before)
    after = journal_lines(journal)
    assert len(after) == len({d["key"] for d in after}) == full.nsim_run
    assert [d["key"] for d in after[: len(before)]] == [d["key"] for d in before]
    # (b) the same result as the run that was never interrupted
    assert np.array_equal(resumed.x, full.x)
    assert resumed.fun == full.fun
    assert resumed.best_plans == full.best_plans
    assert resumed.nfev == full.nfev and resumed.nsim == full.nsim
    assert [h.fun for h in resumed.history] == [h.fun for h in full.history]
    assert resumed.x0_fun == full.x0_fun

    # resuming a finished run simulates nothing and gives the same answer
    again = optimise(scenario, run_dir=run_dir, resume=True, **args)
    assert again.nsim_run == 0
    assert np.array_equal(again.x, full.x) and again.best_plans == full.best_plans


def test_journal_replay_skips_simulation_in_process(scenario: Path, tmp_path: Path) -> None:
    """Resume of a completed run re-scores from the journal: same history, no simulation."""
    run_dir = tmp_path / "run"
    first = optimise(scenario, method="powell", budget=5, seeds=SEEDS, workers=2, run_dir=run_dir)
    second = optimise(scenario, method="powell", budget=5, seeds=SEEDS, workers=2, run_dir=run_dir, resume=True)
    assert second.nsim_run == 0 and first.nsim_run > 0
    assert [h.fun for h in second.history] == [h.fun for h in first.history]
    assert second.fun == first.fun and np.array_equal(second.x, first.x)


def test_first_population_holds_the_starts_members_near_them_and_a_latin_hypercube_rest() -> None:
    from signalopt.optimiser import LOCAL_SPREAD, _initial_population

    starts = [np.full(6, 0.2), np.full(6, 0.8)]
    pop = _initial_population(np.random.default_rng(3), starts, 14, 6)
    assert pop.shape == (14, 6) and ((pop >= 0) & (pop <= 1)).all()
    assert np.array_equal(pop[:2], np.asarray(starts))
    # 12 members follow the starts: 9 near them, taken in turn, then 3 Latin-hypercube rows
    for j, row in enumerate(pop[2:11]):
        assert np.abs(row - starts[j % 2]).max() < 6 * LOCAL_SPREAD
    near = np.abs(pop[11:, None, :] - np.asarray(starts)[None]).max(axis=2).min(axis=1)
    assert (near > 6 * LOCAL_SPREAD).any()  # the hypercube rows are spread over the box, not at the starts
    again = _initial_population(np.random.default_rng(3), starts, 14, 6)
    assert np.array_equal(pop, again)
    assert _initial_population(np.random.default_rng(3), [], 5, 6).shape == (5, 6)
