"""Scenarios: the TOML shapes, relative paths, defaults, digest; and "any SUMO network works".

The any-network test builds its own two-junction network with netconvert
(both junctions ``type="traffic_light"``, netconvert's default programmes),
writes flows and a sumocfg, and simulates it through the smallest scenario file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from signalopt import _sumo
from signalopt.evaluator import simulate
from signalopt.executors import SerialExecutor
from signalopt.prepare import prepare, scenario_plans
from signalopt.scenario import SCHEMA_VERSION, read_scenario
from signalopt.options import TimingOptions

# two signalised 4-leg junctions 250 m apart on an east-west arterial
NODES = {"W": (-300, 0), "J1": (0, 0), "J2": (250, 0), "E": (550, 0),
         "N1": (0, 300), "S1": (0, -300), "N2": (250, 300), "S2": (250, -300)}
LINKS = [("W", "J1"), ("J1", "J2"), ("J2", "E"), ("N1", "J1"), ("S1", "J1"), ("N2", "J2"), ("S2", "J2")]


def build_two_junction_net(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nodes = ["<nodes>"] + [
        f'  <node id="{n}" x="{x}" y="{y}" type="{"traffic_light" if n.startswith("J") else "priority"}"/>'
        for n, (x, y) in NODES.items()] + ["</nodes>"]
    edges = ["<edges>"]
    for a, b in LINKS:
        for frm, to in ((a, b), (b, a)):
            edges.append(f'  <edge id="{frm}2{to}" from="{frm}" to="{to}" numLanes="2" speed="13.89"/>')
    edges.append("</edges>")
    (folder / "two.nod.xml").write_text("\n".join(nodes) + "\n", encoding="utf-8")
    (folder / "two.edg.xml").write_text("\n".join(edges) + "\n", encoding="utf-8")
    proc = subprocess.run([str(_sumo.binary("netconvert")), "-n", "two.nod.xml", "-e", "two.edg.xml",
                           "-o", "two.net.xml", "--no-turnarounds", "--no-warnings"],
                          cwd=folder, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return folder / "two.net.xml"


@pytest.fixture(scope="module")
def any_net_scenario(tmp_path_factory) -> Path:
    """Smallest scenario file over a foreign network: sumocfg with net and flows in a subfolder."""
    root = tmp_path_factory.mktemp("anynet")
    net = build_two_junction_net(root / "sumo")
    flows = [("W2J1", "J22E", 500), ("E2J2", "J12W", 150), ("N12J1", "J12S1", 250), ("N22J2", "J22S2", 100)]
    # nothing enters from S1 or S2
    (root / "sumo" / "flows.rou.xml").write_text(
        "<routes>\n" + "\n".join(
            f'  <flow id="f{k}" from="{a}" to="{b}" begin="0" end="900" vehsPerHour="{v}" departLane="best"/>'
            for k, (a, b, v) in enumerate(flows)) + "\n</routes>\n", encoding="utf-8")
    (root / "sumo" / "two.sumocfg").write_text(
        f'<configuration>\n  <input>\n    <net-file value="{net.name}"/>\n'
        '    <route-files value="flows.rou.xml"/>\n  </input>\n'
        '  <time>\n    <begin value="0"/>\n    <end value="900"/>\n  </time>\n</configuration>\n', encoding="utf-8")
    toml = root / "scenarios" / "two.toml"
    toml.parent.mkdir()
    toml.write_text('schema_version = 1\nname = "two"\nsumocfg = "../sumo/two.sumocfg"\nwarmup_s = 120\n',
                    encoding="utf-8")
    return toml


def test_smallest_scenario_reads_everything_from_the_sumocfg(any_net_scenario: Path) -> None:
    s = read_scenario(any_net_scenario)
    sumo_dir = any_net_scenario.parent.parent / "sumo"
    assert s.name == "two"
    assert s.network_path == (sumo_dir / "two.net.xml").resolve()
    assert s.route_files == ((sumo_dir / "flows.rou.xml").resolve(),)
    assert (s.begin_s, s.end_s, s.warmup_s) == (0.0, 900.0, 120.0)
    assert s.counts_path is None and s.signal_ids == () and s.plans_path is None
    assert s.timing == TimingOptions() and s.optimise_seeds == (1, 2, 3)
    assert len(s.digest) == 16 and int(s.digest, 16) >= 0


def test_every_traffic_light_is_a_signal_with_its_programme(any_net_scenario: Path) -> None:
    s = read_scenario(any_net_scenario)
    plans, _warnings = scenario_plans(s)
    assert set(plans.signal_ids) == {"J1", "J2"}
    prepared = prepare(s)
    assert set(prepared.signal_ids) == {"J1", "J2"}
    assert {a.id for a in prepared.approaches} == {"W2J1", "J22J1", "N12J1", "S12J1",
                                                   "J12J2", "E2J2", "N22J2", "S22J2"}
    import sumolib

    net = sumolib.net.readNet(str(s.network_path), withPrograms=True)
    for tls in net.getTrafficLights():
        (program,) = tls.getPrograms().values()
        assert plans[tls.getID()].cycle_s == pytest.approx(sum(p.duration for p in program.getPhases()))


def test_any_network_simulates_with_sane_metrics(any_net_scenario: Path) -> None:
    m = simulate(any_net_scenario, seeds=(1,), executor=SerialExecutor())
    run = m.runs[0]
    # 1000 veh/h for 900 s; those due after the 120 s warm-up are counted
    assert 150 < run.n_vehicles < 300
    assert 100 < run.throughput_veh <= run.n_vehicles + 60
    assert run.not_inserted == 0 and run.teleports == 0
    assert 0 < run.delay_s < 120
    q = {a.approach: a for a in run.approaches}
    assert len(q) == 8
    assert q["W2J1"].mean_max_queue_m > 0 and q["N12J1"].mean_max_queue_m > 0
    assert q["W2J1"].mean_max_queue_m > q["N22J2"].mean_max_queue_m
    assert q["S12J1"].max_queue_m == 0.0 and q["S22J2"].max_queue_m == 0.0
    assert all(a.n_cycles > 0 for a in run.approaches)


def test_signals_subset_limits_plans_and_approaches(any_net_scenario: Path) -> None:
    toml = any_net_scenario.with_name("j2.toml")
    toml.write_text(any_net_scenario.read_text(encoding="utf-8") + 'signals = ["J2"]\n', encoding="utf-8")
    s = read_scenario(toml)
    assert s.signal_ids == ("J2",)
    plans, _ = scenario_plans(s)
    assert plans.signal_ids == ("J2",)
    assert {a.signal_id for a in prepare(s).approaches} == {"J2"}


# ---------------------------------------------------------------------------------------------
# reading scenario files (no simulation)


def _cfg(folder: Path, body: str) -> Path:
    (folder / "r.rou.xml").write_text("<routes/>\n", encoding="utf-8")
    (folder / "a.add.xml").write_text("<additional/>\n", encoding="utf-8")
    (folder / "x.sumocfg").write_text(f"<configuration>{body}</configuration>\n", encoding="utf-8")
    return folder / "x.sumocfg"


def test_scenario_times_override_the_sumocfg(tmp_path: Path, isolated_net: Path) -> None:
    _cfg(tmp_path, f'<input><net-file value="{isolated_net}"/><route-files value="r.rou.xml, r.rou.xml"/>'
                   '<additional-files value="a.add.xml"/></input><time><begin value="100"/><end value="700"/></time>')
    toml = tmp_path / "s.toml"
    toml.write_text('schema_version = 1\nname = "x"\nsumocfg = "x.sumocfg"\n', encoding="utf-8")
    s = read_scenario(toml)
    assert (s.begin_s, s.end_s, s.warmup_s) == (100.0, 700.0, 0.0)
    assert len(s.route_files) == 2 and s.additional_files == ((tmp_path / "a.add.xml").resolve(),)
    toml.write_text('schema_version = 1\nname = "x"\nsumocfg = "x.sumocfg"\nbegin_s = 200\nend_s = 500.5\n'
                    'warmup_s = 60\n', encoding="utf-8")
    s = read_scenario(toml)
    assert (s.begin_s, s.end_s, s.warmup_s) == (200.0, 500.5, 60.0)
    assert s.duration_s == pytest.approx(300.5)


def test_sumocfg_without_times_runs_an_hour(tmp_path: Path, isolated_net: Path) -> None:
    _cfg(tmp_path, f'<input><net-file value="{isolated_net}"/><route-files value="r.rou.xml"/></input>')
    toml = tmp_path / "s.toml"
    toml.write_text('schema_version = 1\nname = "x"\nsumocfg = "x.sumocfg"\nbegin_s = 600\n', encoding="utf-8")
    s = read_scenario(toml)
    assert (s.begin_s, s.end_s) == (600.0, 4200.0)


def test_counts_scenario_paths_are_relative_to_the_scenario_file(tmp_path: Path, isolated_net: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "scen").mkdir()
    (tmp_path / "data" / "c.csv").write_text("interval,intersection,approach,movement,vehicles\n"
                                             "0,center,N,T,10\n", encoding="utf-8")
    toml = tmp_path / "scen" / "s.toml"
    toml.write_text(f'schema_version = {SCHEMA_VERSION}\nname = "c"\ndescription = "test"\n'
                    f'network = "{isolated_net}"\nbegin_s = 0\nend_s = 900\n'
                    '[demand]\ncounts = "../data/c.csv"\ninterval_s = 450\nroute_seed = 9\n'
                    '[timing]\nmin_green_s = 8\nmax_cycle_s = 150\nyellow_s = 3\n'
                    '[optimise]\nseeds = [4, 5]\n', encoding="utf-8")
    s = read_scenario(toml)
    assert s.counts_path == (tmp_path / "data" / "c.csv").resolve()
    assert s.network_path == isolated_net.resolve() and s.route_files == ()
    assert (s.interval_s, s.route_seed, s.description) == (450.0, 9, "test")
    assert s.timing.min_green_s == 8.0 and s.timing.max_cycle_s == 150.0
    assert s.timing.walk_s == TimingOptions().walk_s
    # a fixed standard yellow; the all-red left to ITE's formula
    assert (s.timing.yellow_s, s.timing.all_red_s) == (3.0, None)
    assert s.optimise_seeds == (4, 5)
    assert s.to_dict()["network"] == str(isolated_net.resolve())


def test_digest_follows_the_inputs(tmp_path: Path, isolated_net: Path) -> None:
    counts = tmp_path / "c.csv"
    counts.write_text("interval,intersection,approach,movement,vehicles\n0,center,N,T,10\n", encoding="utf-8")
    toml = tmp_path / "s.toml"
    body = f'schema_version = 1\nname = "c"\nnetwork = "{isolated_net}"\nend_s = 900\n[demand]\ncounts = "c.csv"\n'
    toml.write_text(body, encoding="utf-8")
    first = read_scenario(toml).digest
    assert read_scenario(toml).digest == first
    counts.write_text("interval,intersection,approach,movement,vehicles\n0,center,N,T,11\n", encoding="utf-8")
    second = read_scenario(toml).digest
    assert second != first
    toml.write_text(body.replace("end_s = 900", "end_s = 1800"), encoding="utf-8")
    assert read_scenario(toml).digest not in (first, second)


# ---------------------------------------------------------------------------------------------
# bundled scenarios (optional: skipped while scenarios/ is absent)

BUNDLED = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", BUNDLED or [pytest.param(None, marks=pytest.mark.skip("no bundled scenarios"))],
                         ids=[p.stem for p in BUNDLED] or ["none"])
def test_bundled_scenario_reads_and_its_counts_fit_the_network(path: Path, tmp_path: Path) -> None:
    from signalopt.demand import check_counts, read_ped_counts, read_turn_counts, write_pedestrian_flows
    from signalopt.prepare import load_network

    s = read_scenario(path)
    network = load_network(s)
    plans, _ = scenario_plans(s, network)
    assert len(plans) == len(s.signal_ids or network.signal_ids)
    if s.counts_path is not None:
        counts = read_turn_counts(s.counts_path)
        assert counts
        check_counts(network, counts, source=s.counts_path, begin_s=s.begin_s, end_s=s.end_s,
                     interval_s=s.interval_s)
    if s.pedestrians_path is not None:
        write_pedestrian_flows(network, read_ped_counts(s.pedestrians_path), tmp_path / "p.rou.xml",
                               source=s.pedestrians_path, interval_s=s.interval_s)


def test_a_window_of_a_scenario_keeps_the_counts_inside_it(tmp_path):
    from signalopt.demand import read_ped_counts, read_turn_counts
    from signalopt.errors import InputError
    from signalopt.prepare import window_scenario

    root = Path(__file__).resolve().parent.parent
    day = read_scenario(root / "scenarios" / "qixiangtai_evening_surge.toml")
    peak = window_scenario(day, begin_s=63900, end_s=67500, warmup_s=900, folder=tmp_path)
    assert (peak.begin_s, peak.end_s, peak.warmup_s) == (63900, 67500, 900) and peak.digest != day.digest
    counts = read_turn_counts(peak.counts_path, begin_s=peak.begin_s, end_s=peak.end_s, interval_s=peak.interval_s)
    inside = [c for c in read_turn_counts(day.counts_path) if 63900 <= c.begin_s < 67500]
    assert counts == inside and len({c.begin_s for c in counts}) == 4
    assert read_ped_counts(peak.pedestrians_path) == [p for p in read_ped_counts(day.pedestrians_path)
                                                      if 63900 <= p.begin_s < 67500]
    with pytest.raises(InputError, match="inside the scenario"):
        window_scenario(day, begin_s=60000, end_s=67500, folder=tmp_path)
