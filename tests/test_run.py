"""The main job end to end on a small scenario, and its report in a real headless browser."""

from __future__ import annotations

import json
import os

import pytest

from signalopt.baselines import baseline_candidates
from signalopt.evaluator import simulate
from signalopt.job import resolve_control, run_job
from signalopt.network import read_network
from signalopt.objective import NoWorseThan
from signalopt.formats.planfile import read_plans
from signalopt.safety import check_plans
from signalopt.session import Session
from tests._browser import chromium_path, page
from tests._optimise_helpers import ISOLATED_NET, existing_score, write_isolated_scenario

ISOLATED_SCENARIO = ISOLATED_NET.parents[2] / "scenarios" / "isolated.toml"


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    scenario = write_isolated_scenario(folder / "scenario", name="iso_run")
    return run_job(scenario, budget=4, out_dir=folder / "out", seeds=[1], compare_seeds=(101, 102),
                   baselines=("existing", "webster", "actuated"), workers=2, progress=False, log=lambda *_: None)


def test_outputs(job):
    out = job.out_dir
    summary = json.loads((out / "summary.json").read_text())
    names = [r["name"] for r in summary["rows"]]
    # the existing programme as it runs, then made safe (its 3 s yellows are below ITE), then the baselines
    assert names == ["existing", "existing-safe", "webster", "actuated", "optimised"]
    assert job.budget == 4 and job.control == "fixed"  # "auto": the junction runs a fixed-time programme
    for row in summary["rows"]:
        for key in ("delay_s", "delay_s_ci95", "mean_max_queue_m", "mean_max_queue_m_ci95", "not_inserted",
                    "delta_vs_existing_pct"):
            assert key in row
        assert row["seeds"] == [101, 102]
        # every movement of the junction (4 legs: left, through, through-right) with HCM's and FHWA's measures
        assert len(row["movements"]) == 12 and [i["signal_id"] for i in row["intersections"]] == ["center"]
        for m in row["movements"]:
            assert m["los"] in "ABCDEF" and m["volume_veh_h"] > 0 and 0 < m["green_share"] < 1
            assert 0 <= m["arrivals_on_green"] <= 1 and 0 <= m["split_failure_share"] <= 1
    # recommended on the optimiser's seeds, against the existing timing as it runs there
    assert summary["recommended"] == job.recommended in ("optimised", "existing")
    assert (job.recommended == "optimised") == (job.advice.startswith("Recommendation: the optimised plans"))
    for fig in ("queue_over_time", "approach_queues", "ring_diagrams", "time_space", "coordination_diagrams",
                "split_monitor"):
        assert (out / "figures" / f"{fig}.png").stat().st_size > 5000
    plans = read_plans(out / "plans" / "optimised.json")
    assert check_plans(plans, read_network(ISOLATED_NET)) == []
    assert "<tlLogic" in (out / "plans" / "optimised.add.xml").read_text()


def test_the_job_optimises_the_queue_held_to_the_existing_timing(job):
    """By default the job minimises the queue with a penalty for any delay or 95th-percentile queue above the
    existing timing's as it runs on the optimiser's seeds (NoWorseThan): simulated apart from the job, the
    optimised plans score what the job says, and no worse than the optimiser's start."""
    scenario = job.out_dir.parent / "scenario" / "scenario.toml"
    seeds = job.result.seeds
    guard = NoWorseThan("queue", simulate(scenario, seeds=seeds, workers=1))
    assert job.result.fun == pytest.approx(guard(simulate(scenario, job.result.best_plans, seeds=seeds, workers=1)))
    assert job.result.fun <= job.result.x0_fun
    # the start is the existing plans made safe, scored with the guard
    assert existing_score(scenario, seeds) <= job.result.x0_fun
    meta = json.loads((job.out_dir / "run" / "meta.json").read_text())
    assert meta["objective"] == "queue, no worse than existing on delay_s, p95_max_queue_m"


def test_report_renders_in_headless_chromium(job):
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium missing: the README's test command installs it")
        pytest.skip("Chromium is installed by the README's test command")
    p = page(job.report)
    try:
        n_images = p.evaluate("document.images.length")
        rendered = p.evaluate("Array.from(document.images).filter(i => i.complete && i.naturalWidth > 100).length")
        rows = p.evaluate("document.querySelectorAll('table.comparison tbody tr').length")
        sheets = p.evaluate("Array.from(document.querySelectorAll('table.sheet caption')).map(c => c.textContent)")
        title = p.evaluate("document.title")
        los = p.evaluate("Array.from(document.querySelectorAll('table.movements td.los')).map(c => "
                         "[c.textContent, getComputedStyle(c).backgroundColor])")
        intersections = p.evaluate("document.querySelectorAll('table.intersections tbody tr').length")
        captions = p.evaluate("Array.from(document.querySelectorAll('figcaption')).map(c => c.textContent)")
        first = p.evaluate("document.querySelector('h1 + p').textContent")
    finally:
        p.close()
    assert n_images == 6 and rendered == 6
    assert "coordination diagrams" in captions and "split monitor" in captions
    assert len(los) == 24 and intersections == 1  # 12 movements, existing and optimised
    colours = {letter: colour for letter, colour in los}
    assert all(letter in "ABCDEF" for letter in colours) and len(set(colours.values())) == len(colours)
    assert rows == 5  # existing, existing-safe, webster, actuated, optimised
    assert sheets == list(job.result.best_plans.signal_ids)  # a timing sheet per intersection
    assert "iso_run" in title
    # the result in words first, as the comparison says it
    assert first == job.comparison.headline() and first.startswith("The optimised plans ")
    assert p.errors == []


def test_a_figure_that_fails_to_render_leaves_no_file(tmp_path):
    from signalopt.report import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    path = tmp_path / "figures" / "broken.png"

    def half_then_crash(buf, **kwargs):
        buf.write(b"\x89PNG half")
        raise RuntimeError("renderer crashed")

    fig.savefig = half_then_crash
    with pytest.raises(RuntimeError, match="renderer crashed"):
        save_figure(fig, path)
    assert not path.exists()
    assert not path.parent.exists() or not any(path.parent.iterdir())  # no partial or temporary file
    fig2, ax2 = plt.subplots()
    ax2.plot([0, 1], [1, 0])
    assert save_figure(fig2, path).read_bytes().startswith(b"\x89PNG\r\n")
    assert [p.name for p in path.parent.iterdir()] == ["broken.png"]


def test_the_network_is_read_once_per_run(tmp_path: Path, monkeypatch) -> None:
    """One session serves every stage of the job: the network file is read (and parsed by sumolib) once."""
    import signalopt.prepare
    from signalopt.network import _sumolib_net, read_network

    scenario = write_isolated_scenario(tmp_path / "scenario", name="once")
    calls = []

    def counting(path):  # noqa: ANN001, ANN202
        calls.append(path)
        return read_network(path)

    monkeypatch.setattr(signalopt.prepare, "read_network", counting)
    _sumolib_net.cache_clear()
    run_job(scenario, budget=1, out_dir=tmp_path / "out", seeds=(1,), compare_seeds=(101, 102),
            baselines=("existing", "actuated"), workers=2, progress=False, analytic_presearch=0,
            log=lambda *_: None)
    assert len(calls) == 1
    assert _sumolib_net.cache_info().misses == 1


def test_the_job_keeps_an_actuated_programme_that_fixed_time_does_not_beat(corpus, tmp_path) -> None:
    """On a corpus grid whose existing control is actuated, the fixed-time retiming (asked for: by default the
    job would tune actuated control) does not beat it on the optimiser's seeds: the job recommends keeping it,
    says so first, and the held-out seeds agree."""
    entry = next(e for e in corpus if e.name == "grid2_actuated")
    with Session(entry.scenario_path, workers=1) as session:
        assert resolve_control(session, "auto")[0] == "actuated"
        # its existing control made safe runs actuated too, not its stages fixed at their maxima
        safe = next(c for c in baseline_candidates(session.scenario, session.network, session.existing,
                                                   ("existing",)) if c.name == "existing-safe")
        assert safe.controller == "actuated"
    with Session(ISOLATED_SCENARIO, workers=1) as session:  # a fixed-time junction's runs fixed time
        assert [c.controller for c in baseline_candidates(session.scenario, session.network, session.existing,
                                                          ("existing",)) if c.name == "existing-safe"] == ["static"]
    job = run_job(entry.scenario_path, budget=4, out_dir=tmp_path / "out", seeds=[1, 2], compare_seeds=(101, 102),
                  baselines=("existing",), workers=2, progress=False, log=lambda *_: None, control="fixed")
    assert job.recommended == "existing" and job.advice.startswith("Recommendation: keep the existing timing.")
    summary = json.loads((job.out_dir / "summary.json").read_text())
    assert summary["recommended"] == "existing"
    assert "Recommendation: keep the existing timing." in job.report.read_text()
    assert job.comparison.row("optimised").worse  # and flagged on the held-out seeds


def test_a_clearance_standard_the_programme_meets_leaves_the_existing_timing_safe(tmp_path) -> None:
    """Under the isolated junction's own standard (3 s yellow, 2 s all-red: [timing] yellow_s, all_red_s) its
    programme is safe as it runs, so no existing-safe row; the optimised plans keep exactly those clearances and
    the report names the standard (under ITE the programme is not safe: test_outputs' existing-safe row)."""
    scenario = write_isolated_scenario(tmp_path / "scenario", name="iso_standard")
    scenario.write_text(scenario.read_text() + "[timing]\nyellow_s = 3\nall_red_s = 2\n", encoding="utf-8")
    job = run_job(scenario, budget=2, out_dir=tmp_path / "out", seeds=[1], compare_seeds=(101, 102),
                  baselines=("existing",), workers=2, progress=False, log=lambda *_: None)
    summary = json.loads((job.out_dir / "summary.json").read_text())
    assert [r["name"] for r in summary["rows"]] == ["existing", "optimised"]
    plans = read_plans(job.out_dir / "plans" / "optimised.json")
    assert {(ph.yellow_s, ph.all_red_s) for ph in plans["center"].phases} == {(3.0, 2.0)}
    assert "Clearances: yellow standard 3 s, all-red standard 2 s;" in job.report.read_text()


def test_run_optimises_the_objective_asked_for(tmp_path, capsys) -> None:
    from signalopt.cli import main

    scenario = write_isolated_scenario(tmp_path / "scenario", name="iso_pi")
    code = main(["run", str(scenario), "--objective", "pi", "--budget", "2", "--seeds", "1", "--compare-seeds",
                 "101,102", "--baselines", "existing", "--out", str(tmp_path / "out"), "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["provenance"]["objective"] == "pi, no worse than existing on delay_s, p95_max_queue_m"
    assert "objective (pi, no worse than existing on delay_s, p95_max_queue_m)" in \
        (tmp_path / "out" / "report.html").read_text()
    lines = printed.out.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("The optimised plans "))
    assert lines[k + 1].startswith("Recommendation: ")  # after the headline, before the table


def test_run_can_tune_actuated_control(tmp_path, capsys) -> None:
    """run --control actuated: the optimised plans are actuated, compared beside SUMO's stock actuated
    controller, and exported (plan file and SUMO actuated programme)."""
    from signalopt.cli import main
    from signalopt.formats.planfile import read_plans
    from signalopt.network import read_network

    scenario = write_isolated_scenario(tmp_path / "scenario", name="iso_act")
    code = main(["run", str(scenario), "--control", "actuated", "--objective", "delay", "--no-guard", "--budget",
                 "2", "--seeds", "1", "--compare-seeds", "101,102", "--baselines", "existing,actuated", "--out",
                 str(tmp_path / "out"), "--quiet"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert {"optimised", "actuated", "existing"} <= {r["name"] for r in summary["rows"]}
    plans = read_plans(tmp_path / "out" / "plans" / "optimised.json",
                       network=read_network(ISOLATED_NET))
    assert all(p.actuation is not None for p in plans)
    assert 'type="actuated"' in (tmp_path / "out" / "plans" / "optimised.add.xml").read_text()
    assert "actuated settings" in (tmp_path / "out" / "report.html").read_text()
    assert summary["provenance"]["objective"] == "delay"  # --no-guard: the objective alone


def test_the_default_budget_is_what_fits_in_the_search_time(tmp_path) -> None:
    """Sized from one simulation's measured time: the bundled corridor (5.5 s, 3 seeds, 2 workers) keeps the
    floor of 12; a junction that simulates in 0.25 s gets the ceiling of 100; a resumed job keeps the budget
    its journal started with."""
    from signalopt.job import DEFAULT_BUDGET, DEFAULT_SEARCH_MIN, MAX_DEFAULT_BUDGET, _resumed_budget, default_budget

    assert default_budget(5.5, n_opt_seeds=3, workers=2) == DEFAULT_BUDGET
    assert default_budget(0.25, n_opt_seeds=3, workers=2) == MAX_DEFAULT_BUDGET
    # in between: DEFAULT_SEARCH_MIN of simulation, 3 seeds run 2 at a time
    assert default_budget(1.2, n_opt_seeds=3, workers=2) == int(DEFAULT_SEARCH_MIN * 60 // (1.2 * 3 / 2)) == 50
    assert default_budget(1.2, n_opt_seeds=3, workers=1) == 25
    assert default_budget(1.2, n_opt_seeds=1, workers=2) == MAX_DEFAULT_BUDGET  # 150 plan sets fit
    assert _resumed_budget(tmp_path) is None
    (tmp_path / "meta.json").write_text(json.dumps({"budget": 37}))
    assert _resumed_budget(tmp_path) == 37
    (tmp_path / "meta.json").write_text("{not json")
    assert _resumed_budget(tmp_path) is None
