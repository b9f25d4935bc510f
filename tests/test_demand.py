"""Demand: counts CSV parsing, movements on the network, routeSampler routes, pedestrian flows.

Pure parsing without SUMO; movement look-ups read the bundled nets with
sumolib; the volume checks run routeSampler and SUMO on short windows.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from signalopt._sumo_run import Task, run_task
from signalopt.demand import PedCount, TurnCount, check_counts, movement_edges, read_ped_counts, read_turn_counts, write_candidate_routes, write_pedestrian_flows, write_turn_file
from signalopt._clock import parse_time_s
from signalopt.errors import InputError
from signalopt.evaluator import simulate
from signalopt.executors import SerialExecutor
from signalopt.network import read_network
from signalopt.prepare import prepare, scenario_plans
from signalopt.scenario import read_scenario

HEADER = "interval,intersection,approach,movement,vehicles\n"


# ---------------------------------------------------------------------------------------------
# parsing (pure)


@pytest.mark.parametrize("text, seconds", [("07:15", 26100.0), ("07:15:30", 26130.0), ("00:00", 0.0),
                                           ("3600", 3600.0), (" 900.5 ", 900.5), ("24:00", 86400.0)])
def test_parse_time_s(text: str, seconds: float) -> None:
    assert parse_time_s(text) == seconds


@pytest.mark.parametrize("text", ["7:60", "07:15:60", "seven", "-5", "nan", "inf", "1:2:3:4", "07:", ":30", ""])
def test_parse_time_s_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time_s(text)


def test_read_turn_counts_accepts_bom_spaces_and_lowercase(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(("\ufeff interval , intersection,approach, movement ,vehicles\n"
                      "07:00,center,N,t,112\n07:15, center ,E,L, 7.5 \n").encode("utf-8"))
    counts = read_turn_counts(path)
    assert counts == [TurnCount(25200.0, "center", "N", "T", 112.0), TurnCount(26100.0, "center", "E", "L", 7.5)]


def test_read_turn_counts_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "07:00,center,N,T,10\n07:00,center,N,L,-3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.csv: line 3: vehicles must be a non-negative count \(-3\)"):
        read_turn_counts(path)
    path.write_text(HEADER + "07:00,center,N,X,10\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: movement must be one of L T R U \('X'\)"):
        read_turn_counts(path)
    path.write_text("interval,intersection,approach,vehicles\n07:00,center,N,10\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"lacks columns \(movement\)"):
        read_turn_counts(path)


def test_read_ped_counts(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("interval,intersection,crossing,pedestrians\n07:00,pingshan,N,85\n25200,pingshan,S,0\n",
                    encoding="utf-8")
    assert read_ped_counts(path) == [PedCount(25200.0, "pingshan", "N", 85.0), PedCount(25200.0, "pingshan", "S", 0.0)]


# ---------------------------------------------------------------------------------------------
# movements on the network (sumolib only)


@pytest.fixture(scope="module")
def iso(isolated_net):
    return read_network(isolated_net)


@pytest.fixture(scope="module")
def qx(qixiangtai_net):
    return read_network(qixiangtai_net)


@pytest.mark.parametrize("approach, movement, edges", [
    ("N", "T", ("n2center", "center2s")), ("N", "L", ("n2center", "center2e")), ("N", "R", ("n2center", "center2w")),
    ("E", "T", ("e2center", "center2w")), ("S", "L", ("s2center", "center2w")), ("W", "R", ("w2center", "center2s")),
    ("n2center", "T", ("n2center", "center2s")),  # the incoming edge id works as the approach too
])
def test_movement_edges_on_isolated(iso, approach: str, movement: str, edges: tuple[str, str]) -> None:
    count = TurnCount(0.0, "center", approach, movement, 10.0)
    assert movement_edges(iso, count, source=Path("c.csv")) == edges


def test_movement_edges_refuses_what_the_network_lacks(iso) -> None:
    with pytest.raises(InputError, match=r"c\.csv: movement not in the network at center approach N \(U\)"):
        movement_edges(iso, TurnCount(0.0, "center", "N", "U", 1.0), source=Path("c.csv"))
    with pytest.raises(InputError, match=r"approach not at intersection center \(NE; has N, E, S, W\)"):
        movement_edges(iso, TurnCount(0.0, "center", "NE", "T", 1.0), source=Path("c.csv"))
    with pytest.raises(InputError, match=r"signal id not in the network \(weidi\)"):
        movement_edges(iso, TurnCount(0.0, "weidi", "N", "T", 1.0), source=Path("c.csv"))


def test_movement_edges_on_the_corridor_use_the_bay_edge(qx) -> None:
    # the north approach of pingshan is split where its left bay starts: counts go on the bay edge
    frm, to = movement_edges(qx, TurnCount(0.0, "pingshan", "N", "L", 1.0), source=Path("c.csv"))
    assert frm == "pingquan2pingshan"
    assert to in qx.edges and to.startswith("pingshan2pingshan_e")


def test_check_counts_refuses_intervals_outside_the_window(iso) -> None:
    counts = [TurnCount(0.0, "center", "N", "T", 10.0), TurnCount(900.0, "center", "N", "T", 10.0)]
    check_counts(iso, counts, source=Path("c.csv"), begin_s=0, end_s=1800, interval_s=900)
    with pytest.raises(InputError, match=r"outside the scenario window \[0, 1200\) s at center \(900(\.0)?\)"):
        check_counts(iso, counts, source=Path("c.csv"), begin_s=0, end_s=1200, interval_s=900)


def test_turn_file_sums_rows_per_movement_and_interval(iso, tmp_path: Path) -> None:
    counts = [TurnCount(0.0, "center", "N", "T", 10.0), TurnCount(0.0, "center", "n2center", "T", 5.0),
              TurnCount(0.0, "center", "E", "L", 3.0), TurnCount(900.0, "center", "N", "T", 7.0)]
    root = ET.parse(write_turn_file(iso, counts, tmp_path / "t.xml", source=Path("c.csv"), interval_s=900)).getroot()
    got = {(i.get("begin"), i.get("end"), r.get("from"), r.get("to")): float(r.get("count"))
           for i in root.iter("interval") for r in i.iter("edgeRelation")}
    assert got == {("0", "900", "n2center", "center2s"): 15.0, ("0", "900", "e2center", "center2s"): 3.0,
                   ("900", "1800", "n2center", "center2s"): 7.0}


def _routes(path: Path) -> list[list[str]]:
    return [r.get("edges").split() for r in ET.parse(path).getroot().iter("route")]


def test_candidate_routes_isolated_every_movement_no_uturn(isolated_net, tmp_path: Path) -> None:
    routes = _routes(write_candidate_routes(isolated_net, tmp_path / "c.rou.xml"))
    pairs = {(r[0], r[-1]) for r in routes}
    legs = "nesw"
    assert pairs == {(f"{a}2center", f"center2{b}") for a in legs for b in legs if a != b}
    assert len(routes) == 12


def test_candidate_routes_on_the_corridor_span_fringe_to_fringe(qixiangtai_net, qx, tmp_path: Path) -> None:
    routes = _routes(write_candidate_routes(qixiangtai_net, tmp_path / "c.rou.xml"))
    assert routes, "no candidate routes"
    starts = {r[0] for r in routes}
    ends = {r[-1] for r in routes}
    # the corridor ends and every side street of every junction feed and drain the network
    assert {"qx_n2weidi_up", "qx_s2zijinshan_up"} <= starts
    assert len(starts) == len(ends) == 10
    # end to end along Qixiangtai Rd, through all four signals
    through = [r for r in routes if r[0] == "qx_n2weidi_up" and r[-1] == "zijinshan2qx_s"]
    assert len(through) == 1 and len(through[0]) > 8
    # no route leaves by the leg it came in on
    for r in routes:
        assert r[0].split("2")[0] != r[-1].split("2")[-1]
    # every counted movement at every signal has a route through it
    for s in qx.signals:
        for link in s.links:
            if link.is_crossing or link.direction == "t":
                continue
            out_edge = link.to_lanes[0].rsplit("_", 1)[0]
            assert any(link.approach in r and out_edge in r for r in routes), (s.id, link.approach, out_edge)


def test_pedestrian_flows_cross_the_counted_leg(qx, tmp_path: Path) -> None:
    peds = [PedCount(25200.0, "pingshan", "N", 120.0), PedCount(25200.0, "pingshan", "E", 0.0)]
    root = ET.parse(write_pedestrian_flows(qx, peds, tmp_path / "p.rou.xml", source=Path("p.csv"),
                                           interval_s=900)).getroot()
    flows = root.findall("personFlow")
    assert len(flows) == 2  # the zero count writes nothing; two directions for the other
    crossing = next(l for l in qx.signal("pingshan").links if l.is_crossing and "pingquan2pingshan" in l.crosses)
    for f in flows:
        (walk,) = f.findall("walk")
        assert {walk.get("from"), walk.get("to")} == set(crossing.crosses)
        rate = float(re.fullmatch(r"exp\(([0-9.]+)\)", f.get("period")).group(1))
        assert rate * 900 == pytest.approx(60.0, rel=1e-4)
        assert (f.get("begin"), f.get("end")) == ("25200", "26100")


def test_pedestrian_flows_need_a_crossing(iso, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"p\.csv: no signalised crossing at center on leg \(N\)"):
        write_pedestrian_flows(iso, [PedCount(0.0, "center", "N", 10.0)], tmp_path / "p.rou.xml",
                               source=Path("p.csv"), interval_s=900)


# ---------------------------------------------------------------------------------------------
# routeSampler + SUMO: the simulated volumes follow the counts

# two 15-min intervals, big and small movements, one leg (S) without traffic
COUNTS = {("N", "T"): (150, 170), ("N", "L"): (40, 30), ("N", "R"): (25, 35), ("E", "T"): (90, 80),
          ("E", "R"): (10, 12), ("W", "T"): (60, 75), ("W", "L"): (20, 15)}
MOVE_EDGES = {("N", "T"): ("n2center", "center2s"), ("N", "L"): ("n2center", "center2e"),
              ("N", "R"): ("n2center", "center2w"), ("E", "T"): ("e2center", "center2w"),
              ("E", "R"): ("e2center", "center2n"), ("W", "T"): ("w2center", "center2e"),
              ("W", "L"): ("w2center", "center2n")}


@pytest.fixture(scope="module")
def counts_scenario(tmp_path_factory, isolated_net) -> Path:
    folder = tmp_path_factory.mktemp("counts")
    rows = [f"{t},center,{leg},{mv},{n[k]}" for k, t in enumerate(("00:00", "00:15"))
            for (leg, mv), n in COUNTS.items()]
    (folder / "counts.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    (folder / "scenario.toml").write_text(
        f'schema_version = 1\nname = "counts"\nnetwork = "{isolated_net}"\nbegin_s = 0\nend_s = 1800\n'
        'warmup_s = 300\n[demand]\ncounts = "counts.csv"\n', encoding="utf-8")
    return folder / "scenario.toml"


def _flows(route_file: Path) -> dict[str, tuple[float, float, float, tuple[str, str]]]:
    out = {}
    for f in ET.parse(route_file).getroot().iter("flow"):
        edges = f.find("route").get("edges").split()
        rate = float(re.fullmatch(r"exp\(([0-9.]+)\)", f.get("period")).group(1))
        out[f.get("id")] = (float(f.get("begin")), float(f.get("end")), rate, (edges[0], edges[-1]))
    return out


def test_route_sampler_flows_match_the_counts(counts_scenario: Path) -> None:
    prepared = prepare(read_scenario(counts_scenario))
    (vehicles,) = [Path(r) for r in prepared.route_files]
    assert vehicles.name == "vehicles.rou.xml"
    assert vehicles.is_relative_to(Path(os.environ["SIGNALOPT_CACHE"]))  # never ~/.cache in tests
    expected = Counter()
    for f_begin, f_end, rate, pair in _flows(vehicles).values():
        expected[(f_begin, pair)] += rate * (f_end - f_begin)
    for (leg, mv), n in COUNTS.items():
        for k, begin in enumerate((0.0, 900.0)):
            assert expected[(begin, MOVE_EDGES[(leg, mv)])] == pytest.approx(n[k], rel=0.02, abs=0.5), (leg, mv)
    assert not [key for key in expected if key[1][0] == "s2center"]  # no counts, no traffic
    # cached: a second prepare reuses the same file
    assert prepare(read_scenario(counts_scenario)).route_files == prepared.route_files


def test_simulated_turning_volumes_follow_the_counts(counts_scenario: Path, tmp_path: Path) -> None:
    scenario = read_scenario(counts_scenario)
    prepared = prepare(scenario)
    flows = _flows(Path(prepared.route_files[0]))
    plans, _ = scenario_plans(scenario)
    metrics = run_task(Task(prepared, 7, plans, keep_dir=str(tmp_path)))
    assert metrics.not_inserted == 0 and metrics.teleports == 0
    simulated = Counter()
    for t in ET.parse(tmp_path / "tripinfo.xml").getroot().iter("tripinfo"):
        simulated[flows[t.get("id").rsplit(".", 1)[0]][3]] += 1
    for move, n in COUNTS.items():
        want = sum(n)
        got = simulated[MOVE_EDGES[move]]
        if want >= 100:
            assert got == pytest.approx(want, rel=0.15), move
        else:
            assert got == pytest.approx(want, abs=4 * want ** 0.5), move
    assert sum(simulated.values()) == pytest.approx(sum(sum(n) for n in COUNTS.values()), rel=0.08)


def test_pedestrians_cross_on_the_corridor(tmp_path: Path, qixiangtai_net) -> None:
    (tmp_path / "counts.csv").write_text(HEADER + "07:00,pingshan,N,T,60\n07:00,pingshan,E,L,20\n"
                                         "07:00,weidi,E,T,80\n", encoding="utf-8")
    (tmp_path / "peds.csv").write_text("interval,intersection,crossing,pedestrians\n07:00,pingshan,N,160\n"
                                       "07:00,pingshan,E,40\n", encoding="utf-8")
    toml = tmp_path / "s.toml"
    base = (f'schema_version = 1\nname = "peds"\nnetwork = "{qixiangtai_net}"\nbegin_s = 25200\nend_s = 26100\n'
            'warmup_s = 120\n[demand]\ncounts = "counts.csv"\n')
    toml.write_text(base + 'pedestrians = "peds.csv"\n', encoding="utf-8")
    with_peds = simulate(toml, seeds=(1,), executor=SerialExecutor()).runs[0]
    # 200 pedestrians in 900 s; those starting after the 120 s warm-up are counted
    assert 0.6 * 200 * 780 / 900 < with_peds.n_pedestrians < 1.3 * 200 * 780 / 900
    assert with_peds.ped_wait_s > 0
    toml.write_text(base, encoding="utf-8")
    without = simulate(toml, seeds=(1,), executor=SerialExecutor()).runs[0]
    assert without.n_pedestrians == 0 and without.ped_wait_s == 0.0
    assert without.n_vehicles > 0
