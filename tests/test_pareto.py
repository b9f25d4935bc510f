"""The Pareto front (signalopt.pareto): pure helpers without SUMO, then real SUMO on one corpus network.

Network: the corpus's ``arterial_allred`` (three signals on a 250 m arterial, 900 s with 300 s warm-up); a
front of 10 new plan sets on 2 seeds takes a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from signalopt.cli import main
from signalopt.errors import InputError
from signalopt.optimiser import optimise
from signalopt.pareto import (FRONT_OBJECTIVES, FrontResult, knee_index, non_dominated, objective_values,
                              optimise_front, parse_objectives)

SEEDS = (1, 2)
BUDGET = 10


# ------------------------------------------------------------------ pure: no SUMO


def test_non_dominated_keeps_exactly_the_rows_no_other_row_beats() -> None:
    v = [[1, 5], [2, 3], [3, 3], [4, 1], [2, 3], [5, 5]]
    assert non_dominated(v).tolist() == [True, True, False, True, True, False]  # equal rows both kept
    assert non_dominated([[1, 1, 1]]).tolist() == [True]
    rng = np.random.default_rng(0)
    pts = rng.random((60, 3))
    mask = non_dominated(pts)
    for a in pts[mask]:  # nothing on the front is dominated by any point
        assert not ((pts <= a).all(axis=1) & (pts < a).any(axis=1)).any()
    for b in pts[~mask]:  # everything off it is
        assert ((pts <= b).all(axis=1) & (pts < b).any(axis=1)).any()
    with pytest.raises(InputError):
        non_dominated([1.0, 2.0])


def test_knee_is_nearest_the_ideal_point_on_normalised_objectives() -> None:
    # scaled: (0, 1), (0.1, 0.2), (0.6, 0.1), (1, 0): the second is nearest (0, 0)
    assert knee_index([[10, 100], [11, 60], [16, 55], [20, 50]]) == 1
    # scaling matters: in raw units the first objective's spread would decide
    assert knee_index([[0, 1000], [0.5, 10], [1, 0]]) == 1
    assert knee_index([[3, 3], [3, 3]]) == 0  # no spread: the first of equals
    assert knee_index([[5, 1]]) == 0
    with pytest.raises(InputError):
        knee_index(np.zeros((0, 2)))


def test_parse_objectives_names_the_bad_value() -> None:
    assert parse_objectives("delay,queue") == ("delay", "queue")
    assert parse_objectives(["queue", "stops", "ped_delay"]) == ("queue", "stops", "ped_delay")
    assert set(FRONT_OBJECTIVES) == {"delay", "queue", "stops", "spillback", "ped_delay"}
    with pytest.raises(InputError, match=r"objectives must be two or more of .* \(speed\)"):
        parse_objectives("delay,speed")
    with pytest.raises(InputError, match=r"named twice \(delay\)"):
        parse_objectives("delay,delay")
    with pytest.raises(InputError, match=r"a front needs two or more .*\(queue\)"):
        parse_objectives("queue")


def test_front_on_the_analytic_model_spends_its_budget_and_is_reproducible() -> None:
    """Analytic (Webster/HCM) evaluator on the bundled isolated junction: no simulation, milliseconds."""
    from signalopt.analytic import AnalyticEvaluator

    iso = Path(__file__).resolve().parents[1] / "scenarios" / "isolated.toml"
    run = lambda: optimise_front(iso, objectives="delay,queue", budget=30, seeds=[1],  # noqa: E731
                                 evaluator=AnalyticEvaluator(iso), rng=0)
    f = run()
    assert f.message == "evaluation budget of 30 reached (15 in the knee's polish)"
    assert f.n_plans == 30 and f.nfev >= 30
    assert f.population_size == 10  # a third of the budget
    assert non_dominated(f.values).all()
    again = run()
    assert [m.values for m in again.members] == [m.values for m in f.members]
    assert [m.plans for m in again.members] == [m.plans for m in f.members]
    with pytest.raises(InputError, match="population"):
        optimise_front(iso, budget=4, population=1, evaluator=AnalyticEvaluator(iso))
    with pytest.raises(InputError, match=r"sampler must be one of nsga2, tpe \(cmaes\)"):
        optimise_front(iso, budget=4, sampler="cmaes", evaluator=AnalyticEvaluator(iso))
    tpe = [optimise_front(iso, objectives="delay,queue", budget=30, seeds=[1], evaluator=AnalyticEvaluator(iso),
                          rng=0, sampler="tpe") for _ in range(2)]
    assert tpe[0].n_plans == 30 and tpe[0].provenance["method"] == "tpe"
    assert [m.values for m in tpe[0].members] == [m.values for m in tpe[1].members]


def test_the_knee_polish_brings_the_knee_near_both_single_objective_optima() -> None:
    """On the analytic model of the bundled corridor (delay and queue barely conflict there), budget 30: the
    sampler's knee alone is 3.6% behind the queue-only optimum of the same budget; after the Powell polish on the
    achievement scalarising function it is within 2% of both (1.2% better on delay, 1.8% behind on queue)."""
    from signalopt.analytic import AnalyticEvaluator

    corridor = Path(__file__).resolve().parents[1] / "scenarios" / "qixiangtai_summer_am.toml"
    model = AnalyticEvaluator(corridor)
    args = dict(objectives="delay,queue", budget=30, seeds=[1], evaluator=model, rng=0)
    single = [optimise(corridor, objective=o, budget=30, seeds=[1], evaluator=model, rng=0).fun
              for o in ("delay", "queue")]
    gaps = {polish: [k / s - 1 for k, s in zip(optimise_front(corridor, polish=polish, **args).knee().values,
                                                 single)]
            for polish in (False, True)}
    assert max(gaps[False]) > 0.03
    assert max(gaps[True]) < 0.02


# ------------------------------------------------------------------ real SUMO on a corpus network


@pytest.fixture(scope="module")
def scenario(corpus_build, tmp_path_factory) -> Path:
    entry, = corpus_build.build_corpus(tmp_path_factory.mktemp("corpus"), names=["arterial_allred"])
    return entry.scenario_path


@pytest.fixture(scope="module")
def front(scenario: Path, tmp_path_factory) -> tuple[FrontResult, Path]:
    run_dir = tmp_path_factory.mktemp("front") / "run"
    return optimise_front(scenario, objectives=("delay", "queue"), budget=BUDGET, seeds=SEEDS, rng=0,
                          run_dir=run_dir), run_dir


def test_front_is_non_dominated_on_the_values_it_reports(front) -> None:
    f, _ = front
    assert f.objectives == ("delay", "queue") and f.seeds == SEEDS
    # the sampler's half, then the knee's Powell polish (replayed by the resume test below without a simulation)
    assert f.message == f"evaluation budget of {BUDGET} reached ({BUDGET // 2} in the knee's polish)"
    assert f.n_plans == BUDGET
    assert f.nsim == f.nsim_run == BUDGET * len(SEEDS)
    assert f.provenance["method"] == "tpe"  # the default sampler
    assert non_dominated(f.values).all()
    for m in f.members:  # the values are the members' own metrics on the optimiser's seeds
        assert m.metrics.seeds == SEEDS
        assert m.values == pytest.approx(objective_values(f.objectives, m.metrics))
    assert [m.values for m in f.members] == sorted(m.values for m in f.members)
    json.dumps(f.to_dict())


def test_nsga2_front_trades_delay_against_queue(scenario: Path, tmp_path: Path) -> None:
    """With NSGA-II's points this network's front holds several plan sets: shorter delays cost longer queues
    (TPE, the default, found one plan set best on both here)."""
    f = optimise_front(scenario, objectives=("delay", "queue"), budget=BUDGET, seeds=SEEDS, rng=0,
                       sampler="nsga2", run_dir=tmp_path / "run")
    assert f.provenance["method"] == "nsga2" and f.n_plans == BUDGET
    assert len(f.members) >= 2 and non_dominated(f.values).all()
    delays, queues = zip(*f.values)
    assert list(delays) == sorted(delays) and list(queues) == sorted(queues, reverse=True)


def test_knee_and_extremes_are_members(front) -> None:
    f, _ = front
    names = [m.name for m in f.members]
    knee, ends = f.knee(), f.extremes()
    assert knee.name in names and set(ends) == {"delay", "queue"}
    for k, name in enumerate(f.objectives):
        assert ends[name].name in names
        assert ends[name].values[k] == min(m.values[k] for m in f.members)
    assert f.members.index(knee) == knee_index(f.values)
    assert [p.name for p in f.candidates()] == ["knee", "best-delay", "best-queue"]
    assert f.candidates()[0].plans == knee.plans.plans


def test_resume_after_a_journal_replays_without_simulating(front, scenario: Path) -> None:
    f, run_dir = front
    again = optimise_front(scenario, objectives=("delay", "queue"), budget=BUDGET, seeds=SEEDS, rng=0,
                           run_dir=run_dir, resume=True)
    assert again.nsim_run == 0 and again.nsim == f.nsim
    assert [m.values for m in again.members] == [m.values for m in f.members]
    assert [m.plans for m in again.members] == [m.plans for m in f.members]
    with pytest.raises(InputError, match="other settings"):  # another front cannot resume this journal
        optimise_front(scenario, objectives=("delay", "stops"), budget=BUDGET, seeds=SEEDS, rng=0,
                       run_dir=run_dir, resume=True)


def test_cli_writes_the_front_and_the_knee_and_compare_takes_it(scenario: Path, front, tmp_path: Path, capsys) -> None:
    f, run_dir = front
    out = tmp_path / "out"
    # the front's journal: the command replays it and simulates only the existing timing
    code = main(["optimise", str(scenario), "--objectives", "delay,queue", "--budget", str(BUDGET), "--seeds",
                 "1,2", "--run-dir", str(run_dir), "--resume", "--out", str(out / "knee.json"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "front.json").read_text())
    assert record["objectives"] == ["delay", "queue"] and record["knee"] == f.knee().name
    assert [m["values"] for m in record["members"]] == [dict(zip(f.objectives, m.values)) for m in f.members]
    assert set(record["files"]) == {"knee", "best-delay", "best-queue"}
    knee = json.loads((out / "knee.json").read_text())
    assert knee["plans"] == json.loads(Path(record["files"]["knee"]).read_text())["plans"]
    assert knee["provenance"]["seeds"] == list(SEEDS)  # compare refuses these seeds as held out
    assert all(Path(m["file"]).exists() for m in record["members"])
    assert "knee plans written to" in capsys.readouterr().out
    # compare --front: the knee and the ends on held-out seeds, by name
    code = main(["compare", str(scenario), "--front", str(out / "front.json"), "--baselines", "existing",
                 "--seeds", "101,102", "--format", "json", "--quiet"])
    assert code == 0, capsys.readouterr().err
    names = [r["name"] for r in json.loads(capsys.readouterr().out)]
    assert names[0] == "existing" and names[-3:] == ["knee", "best-delay", "best-queue"]
    assert main(["compare", str(scenario), "--front", str(out / "knee.json")]) == 2
    assert "not a front.json" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["delay,speed", "delay", "delay,delay"])
def test_cli_bad_objectives_is_one_line_and_exit_2(scenario: Path, value: str, capsys) -> None:
    code = main(["optimise", str(scenario), "--objectives", value, "--budget", "4"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("signalopt: error: --objectives:")


def test_the_first_generation_starts_from_the_warm_starts(front, scenario: Path) -> None:
    """The warm starts of optimise are enqueued: they are among the sampler's first generation (on this network
    without counts, the existing plans alone)."""
    from _optimise_helpers import journal_lines
    from signalopt.optimiser import warm_starts
    from signalopt.session import Session
    from signalopt.study import Study

    f, run_dir = front
    with Session(scenario, workers=1) as session, Study(session, seeds=SEEDS) as study:
        starts = warm_starts(session.scenario, study.encoding, study.base, session.network)
    # a generation's simulations are journalled as they finish, so in any order within it
    first = [d["x"] for d in journal_lines(run_dir / "journal.jsonl")[:f.population_size * len(SEEDS)]]
    for x in starts:
        assert any(np.allclose(x, y) for y in first)


def test_a_spillback_limit_keeps_the_front_within_it(scenario: Path) -> None:
    """``max_spillback_share``: NSGA-II ranks by constrained domination; the front holds feasible plan sets
    (or says that none was)."""
    f = optimise_front(scenario, objectives="delay,queue", budget=6, seeds=(1,), rng=0, max_spillback_share=0.0)
    shares = [np.mean([r.spillback_share for r in m.metrics.runs]) for m in f.members]
    assert f.max_spillback_share == 0.0
    assert all(s <= 0.0 for s in shares) or "ignores the limit" in f.message


def test_a_killed_front_search_resumes_without_simulating_again(front, scenario: Path, tmp_path: Path) -> None:
    """SIGKILL part-way (the process group: the search and its simulations), then resume: nothing journalled is
    simulated again, and the front is the one of the run never interrupted."""
    import signal
    import sys

    from _optimise_helpers import journal_lines, kill_once_journalled

    f, _ = front
    run_dir = tmp_path / "killed"
    code = ("import sys; from signalopt.pareto import optimise_front; "
            f"optimise_front(sys.argv[1], objectives=('delay', 'queue'), budget={BUDGET}, seeds={SEEDS!r}, rng=0, "
            "run_dir=sys.argv[2])")
    returncode, err = kill_once_journalled([sys.executable, "-c", code, str(scenario), str(run_dir)],
                                           run_dir / "journal.jsonl")
    assert returncode == -signal.SIGKILL, err
    before = {d["key"] for d in journal_lines(run_dir / "journal.jsonl")}
    assert 3 <= len(before) < f.nsim
    resumed = optimise_front(scenario, objectives=("delay", "queue"), budget=BUDGET, seeds=SEEDS, rng=0,
                             run_dir=run_dir, resume=True)
    assert resumed.nsim_run == f.nsim - len(before)
    assert [m.values for m in resumed.members] == [m.values for m in f.members]


def test_run_compares_the_knee_and_the_ends_on_held_out_seeds(front, scenario: Path, tmp_path: Path,
                                                               capsys) -> None:
    """``signalopt run --objectives``: the front (replayed from the fixture's journal), then the knee and each
    objective's best beside the existing timing on held-out seeds, exported and reported."""
    import shutil

    f, run_dir = front
    out = tmp_path / "out"
    shutil.copytree(run_dir, out / "run")
    code = main(["run", str(scenario), "--objectives", "delay,queue", "--budget", str(BUDGET), "--seeds", "1,2",
                 "--compare-seeds", "101,102", "--baselines", "existing", "--out", str(out), "--resume", "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "The knee plans" in printed.out and "The best-queue plans" in printed.out
    names = [r["name"] for r in json.loads((out / "summary.json").read_text())["rows"]]
    assert names[0] == "existing" and names[-3:] == ["knee", "best-delay", "best-queue"]
    for name in ("knee", "best-delay", "best-queue"):
        assert json.loads((out / "plans" / f"{name}.json").read_text())["plans"]
    knee = json.loads((out / "plans" / "knee.json").read_text())
    assert knee["plans"] == f.knee().plans.to_dict()["plans"]
    report = (out / "report.html").read_text()
    # the report is about the knee: its headline and the ends', its timing sheets and movement tables
    assert report.count('class="headline"') == 3 and "The knee plans" in report
    assert "knee: cycle" in report and 'class="movements"' in report


def test_run_refuses_an_objective_beside_a_front(capsys) -> None:
    code = main(["run", "no-such.toml", "--objective", "pi", "--objectives", "delay,queue"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["signalopt: error: --objectives: a front trades the objectives it names; drop "
                                 "--objective (delay,queue)"]
