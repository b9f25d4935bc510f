"""Valid SUMO inputs that real networks use are accepted; inputs that would make every figure zero, or that
SUMO itself refuses, are refused in one line before any simulation."""

from __future__ import annotations

import gzip
import shutil


import pytest
from test_bad_input import assert_one_line_error, run_cli

from signalopt.evaluator import simulate
from signalopt.executors import SerialExecutor
from signalopt.network import read_network
from signalopt.scenario import read_scenario
from signalopt._clock import sumo_time_s

ROUTES = [("n2center", "center2s", 600), ("w2center", "center2e", 400)]


def test_gzipped_network_reads_and_simulates(tmp_path, isolated_net, sumocfg_scenario, make_flows) -> None:
    gz = tmp_path / "isolated.net.xml.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(isolated_net.read_bytes())
    assert read_network(gz).signal_ids == read_network(isolated_net).signal_ids
    plain = simulate(sumocfg_scenario(tmp_path / "a", isolated_net, make_flows(*ROUTES)), seeds=(1,),
                     executor=SerialExecutor()).runs[0]
    zipped = simulate(sumocfg_scenario(tmp_path / "b", gz, make_flows(*ROUTES)), seeds=(1,),
                      executor=SerialExecutor()).runs[0]
    assert zipped.delay_s == plain.delay_s and zipped.n_vehicles == plain.n_vehicles > 0


def test_broken_gzip_is_one_line(tmp_path) -> None:
    bad = tmp_path / "x.net.xml.gz"
    bad.write_bytes(b"not gzip at all")
    from signalopt.errors import InputError

    with pytest.raises(InputError, match="not a readable gzip file"):
        read_network(bad)


@pytest.mark.parametrize("text, seconds", [("25200", 25200.0), ("07:00:00", 25200.0), ("1:07:00:00", 111600.0),
                                           ("07:00:30.5", 25230.5)])
def test_sumo_clock_times(text: str, seconds: float) -> None:
    assert sumo_time_s(text) == seconds


@pytest.mark.parametrize("text", ["7:00", "07:60:00", "-5", "nan", "inf", "tomorrow"])
def test_bad_sumo_times(text: str) -> None:
    with pytest.raises(ValueError):
        sumo_time_s(text)


def test_sumocfg_with_clock_time_begin(tmp_path, isolated_net, sumocfg_scenario, make_flows) -> None:
    toml = sumocfg_scenario(tmp_path / "s", isolated_net, make_flows(*ROUTES, begin_s=25200, end_s=26100),
                            begin_s=0, end_s=0)
    cfg = tmp_path / "s" / "run.sumocfg"
    cfg.write_text(cfg.read_text().replace('<begin value="0"/>', '<begin value="07:00:00"/>')
                   .replace('<end value="0"/>', '<end value="07:15:00"/>'))
    scenario = read_scenario(toml)
    assert (scenario.begin_s, scenario.end_s) == (25200.0, 26100.0)


def test_window_without_traffic_is_refused(tmp_path, isolated_net, sumocfg_scenario, make_flows, capsys) -> None:
    # the vehicles come an hour after the simulated window ends
    toml = sumocfg_scenario(tmp_path / "s", isolated_net, make_flows(*ROUTES, begin_s=3600, end_s=4500))
    code, out, err = run_cli(["simulate", str(toml), "--seeds", "1", "--workers", "1"], capsys)
    assert_one_line_error(code, out, err, "scenario.toml", "every measure would be zero", "0-900 s")


def test_additional_file_sumo_refuses_is_one_line_before_any_run(tmp_path, isolated_net, sumocfg_scenario,
                                                                 make_flows, capsys) -> None:
    toml = sumocfg_scenario(tmp_path / "s", isolated_net, make_flows(*ROUTES))
    (tmp_path / "s" / "det.add.xml").write_text(
        '<additional><inductionLoop id="d1" lane="nowhere_0" pos="5" period="60" file="NUL"/></additional>')
    cfg = tmp_path / "s" / "run.sumocfg"
    cfg.write_text(cfg.read_text().replace('<route-files value="routes.rou.xml"/>',
                                           '<route-files value="routes.rou.xml"/>'
                                           '<additional-files value="det.add.xml"/>'))
    code, out, err = run_cli(["simulate", str(toml), "--seeds", "1", "--workers", "1"], capsys)
    assert_one_line_error(code, out, err, "scenario.toml", "SUMO refuses the additional files", "nowhere_0")


def test_additional_file_with_a_real_detector_runs(tmp_path, isolated_net, sumocfg_scenario, make_flows) -> None:
    toml = sumocfg_scenario(tmp_path / "s", isolated_net, make_flows(*ROUTES))
    (tmp_path / "s" / "det.add.xml").write_text(
        '<additional><inductionLoop id="d1" lane="n2center_0" pos="5" period="60" file="det.out.xml"/>'
        '</additional>')
    cfg = tmp_path / "s" / "run.sumocfg"
    cfg.write_text(cfg.read_text().replace('<route-files value="routes.rou.xml"/>',
                                           '<route-files value="routes.rou.xml"/>'
                                           '<additional-files value="det.add.xml"/>'))
    assert simulate(toml, seeds=(1,), executor=SerialExecutor()).runs[0].n_vehicles > 0
    shutil.rmtree(tmp_path / "s")


def test_programme_in_an_additional_file_is_the_existing_timing(tmp_path, isolated_net, sumocfg_scenario,
                                                                 make_flows) -> None:
    """SUMO runs the programme loaded last: one in the scenario's additional files replaces the network's,
    for the plans signalopt reads as for what "existing" simulates."""
    from signalopt.prepare import load_network, prepare, scenario_plans
    from signalopt.roundtrip import bare_sumo_run

    toml = sumocfg_scenario(tmp_path / "s", isolated_net, make_flows(*ROUTES))
    own = read_network(isolated_net).signal("center").program
    # the same stages with a 20 s longer first green and another offset
    phases = "".join(f'<phase duration="{d + (20 if k == 0 else 0):g}" state="{st}"/>'
                     for k, (d, st) in enumerate(own.phases))
    (tmp_path / "s" / "tl.add.xml").write_text(
        f'<additional><tlLogic id="center" type="static" programID="field" offset="7">{phases}</tlLogic>'
        "</additional>")
    cfg = tmp_path / "s" / "run.sumocfg"
    cfg.write_text(cfg.read_text().replace('<route-files value="routes.rou.xml"/>',
                                           '<route-files value="routes.rou.xml"/>'
                                           '<additional-files value="tl.add.xml"/>'))
    scenario = read_scenario(toml)
    plans, _ = scenario_plans(scenario, load_network(scenario))
    plan = plans["center"]
    assert plan.program_id == "field" and plan.cycle_s == sum(d for d, _ in own.phases) + 20
    assert plan.offset_s == 7
    bare = bare_sumo_run(prepare(scenario), 1)
    ours = simulate(scenario, seeds=(1,), executor=SerialExecutor()).runs[0]
    back = simulate(scenario, plans, seeds=(1,), executor=SerialExecutor()).runs[0]
    assert ours.delay_s == bare.delay_s == back.delay_s
