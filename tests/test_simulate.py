"""Simulation figures: queues per approach, delay with insertion waits, determinism, aggregation.

Real SUMO runs on networks/isolated (tls ``center``, cycle 90 s, approaches
``n2center e2center s2center w2center``); every run is 900 s or less.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from signalopt._sumo_run import Task, run_task
from signalopt.formats.sumo import RUN_PROGRAM_ID, plans_additional
from signalopt.evaluator import SumoEvaluator, simulate
from signalopt.executors import ProcessExecutor, SerialExecutor
from signalopt.metrics import ApproachMetrics, Metrics, RunMetrics, mean_ci95
from signalopt.plan import PlanSet
from signalopt.prepare import prepare, scenario_plans
from signalopt.scenario import read_scenario

# N heavy, E and W light, nothing from the south
LOADED = (("n2center", "center2s", 700), ("e2center", "center2w", 120), ("w2center", "center2e", 120))


def _by_label(metrics: Metrics | RunMetrics) -> dict[str, ApproachMetrics]:
    run = metrics.runs[0] if isinstance(metrics, Metrics) else metrics
    return {a.label: a for a in run.approaches}


def _comparable(m: Metrics) -> list[dict]:
    """Runs without their wall-clock time."""
    return [{k: v for k, v in r.to_dict().items() if k != "sim_time_s"} for r in m.runs]


def _ns_through_starved(plans: PlanSet) -> PlanSet:
    """The isolated plan (NS left, NS through, EW left, EW through) with NS through cut to 7 s."""
    plan = plans["center"]
    greens = [p.green_s for p in plan.phases]
    assert len(greens) == 4
    cut = greens[1] - 7.0
    new = plan.with_timings([greens[0], 7.0, greens[2], greens[3] + cut])
    assert new.cycle_s == pytest.approx(plan.cycle_s)
    return PlanSet((new,), name="ns-starved")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, isolated_net, sumocfg_scenario, make_flows):
    folder = tmp_path_factory.mktemp("loaded")
    return sumocfg_scenario(folder, isolated_net, make_flows(*LOADED), name="loaded", end_s=900, warmup_s=180)


@pytest.fixture(scope="module")
def loaded_serial(loaded):
    return simulate(loaded, seeds=(1, 2), executor=SerialExecutor())


# ---------------------------------------------------------------------------------------------
# queues per approach


def test_heavy_approach_queues_longer_than_light_and_empty_approach_has_none(loaded_serial) -> None:
    for run in loaded_serial.runs:
        q = _by_label(run)
        assert set(q) == {"center:N", "center:E", "center:S", "center:W"}
        assert q["center:N"].mean_max_queue_m > 2 * q["center:E"].mean_max_queue_m > 0
        assert q["center:N"].mean_max_queue_m > 2 * q["center:W"].mean_max_queue_m > 0
        assert q["center:N"].p95_max_queue_m > q["center:E"].p95_max_queue_m
        # a queue of 700 veh/h on two through lanes with 25 s of 90 s green: several cars per lane
        assert q["center:N"].mean_max_queue_veh >= 4
        assert q["center:S"].max_queue_m == 0.0 and q["center:S"].mean_max_queue_veh == 0.0


def test_queue_statistics_are_over_cycles_after_warmup(loaded_serial) -> None:
    scenario_cycles = (900 - 180) // 90  # the existing plan's cycle is 90 s
    for run in loaded_serial.runs:
        for a in run.approaches:
            assert a.n_cycles == scenario_cycles
            assert 0 <= a.mean_max_queue_m <= a.p95_max_queue_m + 1e-9 <= a.max_queue_m + 1e-9
            assert a.mean_max_queue_veh <= a.max_queue_veh
        n = _by_label(run)["center:N"]
        # metres and vehicles describe the same jam: 5 m cars with 2.5 m gaps
        assert 5.0 <= n.mean_max_queue_m / n.mean_max_queue_veh <= 9.0
        assert run.max_queue_m == max(a.max_queue_m for a in run.approaches)


def test_queues_count_only_after_warmup(tmp_path, isolated_net, sumocfg_scenario, make_flows) -> None:
    # heavy demand only during the first 300 s; the warm-up (400 s) covers it and its clearing
    routes = make_flows(("n2center", "center2s", 900), ("w2center", "center2e", 600), end_s=300)
    with_warmup = sumocfg_scenario(tmp_path / "a", isolated_net, routes, end_s=900, warmup_s=400)
    without = sumocfg_scenario(tmp_path / "b", isolated_net, routes, end_s=900, warmup_s=0)
    a = simulate(with_warmup, seeds=(3,), executor=SerialExecutor()).runs[0]
    b = simulate(without, seeds=(3,), executor=SerialExecutor()).runs[0]
    assert b.mean_max_queue_m > 0 and _by_label(b)["center:N"].max_queue_m > 20
    assert b.n_vehicles > 100 and b.delay_s > 0
    assert a.max_queue_m == 0.0 and a.mean_max_queue_m == 0.0
    assert a.n_vehicles == 0 and a.delay_s == 0.0
    assert all(x.n_cycles == (900 - 400) // 90 for x in a.approaches)


# ---------------------------------------------------------------------------------------------
# delay and insertion


@pytest.fixture(scope="module")
def starved(tmp_path_factory, isolated_net, sumocfg_scenario, make_flows):
    """The same red-heavy plan (NS through 7 s of 90 s) under an overload and under light demand."""
    out = {}
    for label, veh_h in (("over", 1500), ("light", 100)):
        folder = tmp_path_factory.mktemp(f"starved-{label}")
        toml = sumocfg_scenario(folder, isolated_net,
                                make_flows(("n2center", "center2s", veh_h), ("w2center", "center2e", 150)),
                                name=label, end_s=900, warmup_s=120)
        scenario = read_scenario(toml)
        existing, _ = scenario_plans(scenario)
        keep = folder / "run"
        metrics = run_task(Task(prepare(scenario), 1, _ns_through_starved(existing), keep_dir=str(keep)))
        out[label] = (metrics, keep)
    return out


def test_overload_leaves_vehicles_outside_and_raises_delay(starved) -> None:
    over, _ = starved["over"]
    light, _ = starved["light"]
    assert over.not_inserted > 50
    assert light.not_inserted == 0
    assert over.delay_s > 3 * light.delay_s > 0
    assert _by_label(over)["center:N"].mean_max_queue_m > 5 * _by_label(light)["center:N"].mean_max_queue_m
    # vehicles outside are part of the demand
    assert over.n_vehicles > over.not_inserted
    # the starved north approach fills to its end (vehicles wait outside): its cycles count as spilled back;
    # under the light demand no approach fills
    north = _by_label(over)["center:N"]
    assert north.storage_m > 0 and 0 < north.spillback_cycles <= north.n_cycles
    assert over.spillback_share > 0 and light.spillback_share == 0


def test_delay_includes_insertion_waits(starved) -> None:
    """delay_s = (time loss + wait to enter of vehicles due after warm-up, plus the wait so far of
    vehicles never inserted) / all of them -- checked against SUMO's raw outputs."""
    over, keep = starved["over"]
    warmup_end = 120.0
    trips = [t for t in ET.parse(keep / "tripinfo.xml").getroot().iter("tripinfo")
             if float(t.get("depart")) - float(t.get("departDelay")) >= warmup_end]
    stats_root = ET.parse(keep / "statistics.xml").getroot()
    waiting = int(stats_root.find("vehicles").get("waiting"))
    waited_each = float(stats_root.find("vehicleTripStatistics").get("departDelayWaiting"))
    assert waiting == over.not_inserted > 0
    n_all = len(trips) + waiting
    assert over.n_vehicles == n_all
    driving = sum(float(t.get("timeLoss")) for t in trips) / n_all
    entering = (sum(float(t.get("departDelay")) for t in trips) + waiting * waited_each) / n_all
    assert entering > 0.2 * over.delay_s  # the queue reached the network entry: a large share
    assert over.delay_s == pytest.approx(driving + entering, rel=1e-9)


def test_given_plans_are_the_ones_simulated(loaded) -> None:
    """A plan that starves the heavy approach gives it a longer queue than the existing plan."""
    scenario = read_scenario(loaded)
    existing, _ = scenario_plans(scenario)
    base = simulate(scenario, seeds=(1,), executor=SerialExecutor())
    cut = simulate(scenario, _ns_through_starved(existing), seeds=(1,), executor=SerialExecutor())
    assert cut.plans == "ns-starved" and base.plans == "existing"
    assert _by_label(cut)["center:N"].mean_max_queue_m > 2 * _by_label(base)["center:N"].mean_max_queue_m
    assert cut.delay_s > base.delay_s


def test_plans_additional_writes_one_static_programme_per_plan(loaded) -> None:
    existing, _ = scenario_plans(read_scenario(loaded))
    root = ET.fromstring(plans_additional(existing, program_id=RUN_PROGRAM_ID))
    (tl,) = root.findall("tlLogic")
    assert tl.get("id") == "center" and tl.get("programID") == RUN_PROGRAM_ID and tl.get("type") == "static"
    durations = [float(p.get("duration")) for p in tl.findall("phase")]
    assert sum(durations) == pytest.approx(existing["center"].cycle_s)
    assert all(len(p.get("state")) == 16 for p in tl.findall("phase"))


# ---------------------------------------------------------------------------------------------
# determinism


def test_same_seeds_same_metrics_serial_and_process_pool(loaded, loaded_serial) -> None:
    again = simulate(loaded, seeds=(1, 2), executor=SerialExecutor())
    assert _comparable(again) == _comparable(loaded_serial)
    pool = ProcessExecutor(2)
    try:
        pooled = simulate(loaded, seeds=(1, 2), executor=pool)
    finally:
        pool.close()
    assert _comparable(pooled) == _comparable(loaded_serial)
    assert pooled.to_dict()["delay_s_ci95"] == loaded_serial.to_dict()["delay_s_ci95"]


def test_different_seeds_give_different_metrics(loaded_serial) -> None:
    a, b = loaded_serial.runs
    assert (a.seed, b.seed) == (1, 2)
    assert a.delay_s != b.delay_s
    assert a.n_vehicles != b.n_vehicles or a.mean_max_queue_m != b.mean_max_queue_m


def test_evaluator_keeps_seed_order_and_names(loaded) -> None:
    with SumoEvaluator(loaded, executor=SerialExecutor()) as ev:
        m = ev.evaluate(ev.existing_plans(), [2, 1])
    assert m.seeds == (2, 1)
    assert m.scenario == "loaded" and m.controller == "static"


# ---------------------------------------------------------------------------------------------
# aggregation (pure)


@pytest.mark.parametrize("values", [[1.0, 2.0, 3.0, 4.0, 10.0], [12.5, 13.1], [0.0, 0.0, 0.0],
                                    [101.3, 98.7, 103.2, 99.9, 100.4, 97.8, 102.6]])
def test_mean_ci95_matches_scipy_t_interval(values) -> None:
    m, lo, hi = mean_ci95(values)
    arr = np.asarray(values)
    assert m == pytest.approx(arr.mean())
    if arr.std() == 0:
        assert lo == hi == m
        return
    want = stats.t.interval(0.95, len(arr) - 1, loc=arr.mean(), scale=stats.sem(arr))
    assert (lo, hi) == pytest.approx(want, rel=1e-12)
    # wider than the normal-approximation interval (few seeds)
    z = stats.norm.ppf(0.975) * stats.sem(arr)
    assert hi - lo > 2 * z


def test_mean_ci95_edge_cases() -> None:
    assert mean_ci95([7.5]) == (7.5, 7.5, 7.5)
    assert all(math.isnan(x) for x in mean_ci95([]))
    assert mean_ci95([1.0, None, 3.0])[0] == pytest.approx(2.0)


def test_a_measure_that_cannot_be_negative_gets_no_negative_bound() -> None:
    """Vehicles left outside on 5 seeds: 0, 0, 0, 0, 6 -- the t-interval reaches below zero, the reported one
    stops at zero; its upper bound is unchanged, and a difference (no lower bound) keeps its negative side."""
    free = mean_ci95([0, 0, 0, 0, 6])
    cut = mean_ci95([0, 0, 0, 0, 6], lower=0.0)
    assert free[1] < 0 and cut == (free[0], 0.0, free[2])
    runs = tuple(_run(seed, 10.0, 5.0, 5.0) for seed in (0, 0, 0, 0, 6))  # not_inserted = seed
    assert Metrics("s", "p", "static", runs).ci95("not_inserted") == (0.0, pytest.approx(free[2]))


def _run(seed: int, delay: float, queue_n: float, queue_s: float) -> RunMetrics:
    approaches = tuple(ApproachMetrics(aid, f"x:{aid}", "x", q, q * 1.5, q * 2, q / 7.5, q / 5, q / 3.75, 10)
                       for aid, q in (("N", queue_n), ("S", queue_s)))
    return RunMetrics(seed=seed, delay_s=delay, mean_max_queue_m=(queue_n + queue_s) / 2,
                      p95_max_queue_m=0.0, max_queue_m=2 * max(queue_n, queue_s), not_inserted=seed,
                      throughput_veh=100 + seed, n_vehicles=120, stops_per_veh=0.5, ped_wait_s=0.0,
                      n_pedestrians=0, teleports=0, approaches=approaches)


def test_metrics_aggregate_runs_with_t_intervals() -> None:
    runs = (_run(1, 20.0, 30.0, 5.0), _run(2, 24.0, 40.0, 7.0), _run(3, 31.0, 44.0, 6.0))
    m = Metrics("s", "p", "static", runs)
    d = m.to_dict()
    assert d["seeds"] == [1, 2, 3]
    assert d["delay_s"] == pytest.approx(25.0) == m.delay_s
    lo, hi = stats.t.interval(0.95, 2, loc=25.0, scale=stats.sem([20.0, 24.0, 31.0]))
    assert d["delay_s_ci95"] == pytest.approx([lo, hi])
    assert m.ci95("delay_s") == pytest.approx((lo, hi))
    assert d["not_inserted"] == pytest.approx(2.0)
    rows = {r["approach"]: r for r in d["approaches"]}
    assert rows["N"]["mean_max_queue_m"] == pytest.approx(38.0)
    assert rows["N"]["max_queue_m"] == pytest.approx(88.0)
    assert rows["S"]["mean_max_queue_m_ci95"][0] < 6.0 < rows["S"]["mean_max_queue_m_ci95"][1]
    assert len(d["runs"]) == 3


def test_run_metrics_round_trip_through_dict() -> None:
    r = _run(4, 12.0, 10.0, 2.0)
    again = RunMetrics.from_dict(r.to_dict())
    assert again == r
    assert replace(again, delay_s=13.0) != r


def test_queue_spilling_out_of_a_turn_bay_is_measured_upstream(tmp_path, qixiangtai_net, sumocfg_scenario,
                                                              make_flows) -> None:
    """The corridor's approaches are split where the left bay starts; a queue longer than the bay
    continues on the upstream piece and is measured there too."""
    routes = make_flows(("qx_n2weidi_up", "weidi2pingquan_up", 1400), ("weidi_w2weidi_up", "weidi2weidi_e", 300),
                        end_s=600)
    toml = sumocfg_scenario(tmp_path, qixiangtai_net, routes, end_s=600, warmup_s=60)
    m = simulate(toml, seeds=(1,), executor=SerialExecutor())
    north = _by_label(m)["weidi:N"]
    approach = next(a for a in prepare(read_scenario(toml)).approaches if a.id == north.approach)
    assert approach.upstream_lanes and approach.upstream_length_m > 100
    assert north.max_queue_m > 2 * approach.length_m
    assert north.max_queue_m <= approach.length_m + approach.upstream_length_m + 1.0
    assert _by_label(m)["weidi:S"].max_queue_m == 0.0
    # the report's queue over time measures the same way: it shows the queue past the bay (it read the stop-line
    # lanes alone, and drew 56 m where the approach chart said 250 m)
    from signalopt.trace import run_trace

    scenario = read_scenario(toml)
    trace = run_trace((Task(prepare(scenario), 1, scenario_plans(scenario)[0]), "existing", None))
    assert max(trace.queues_m["weidi:N"]) > 2 * approach.length_m


def test_e2_intervals_read_the_same_by_the_fast_reader_and_by_the_parser(tmp_path) -> None:
    """The queue reader takes SUMO's attribute order with a regular expression; any other layout (attributes in
    another order, single quotes) goes through the XML parser, with the same figures and escaped ids."""
    from signalopt._sumo_run import _jam_rows

    sumo_layout = ('<detector>\n    <interval begin="300.00" end="390.00" id="q|a&amp;b|a_0" sampledSeconds="1.00" '
                   'maxJamLengthInVehicles="3" maxJamLengthInMeters="21.50" jamLengthInVehiclesSum="4"/>\n'
                   '    <interval begin="390.00" end="480.00" id="u|a&amp;b|u_0" sampledSeconds="0.00" '
                   'maxJamLengthInVehicles="0" maxJamLengthInMeters="0.00" jamLengthInVehiclesSum="0"/>\n</detector>\n')
    other_layout = ("<detector>\n    <interval id='q|a&amp;b|a_0' maxJamLengthInMeters='21.50' begin='300.00' "
                    "maxJamLengthInVehicles='3' end='390.00'/>\n    <interval id='u|a&amp;b|u_0' "
                    "maxJamLengthInMeters='0.00' begin='390.00' maxJamLengthInVehicles='0' end='480.00'/>\n"
                    "</detector>\n")
    expected = [(300.0, "q|a&b|a_0", 3.0, 21.5), (390.0, "u|a&b|u_0", 0.0, 0.0)]
    for k, text in enumerate((sumo_layout, other_layout)):
        path = tmp_path / f"q{k}.xml"
        path.write_text(text, encoding="utf-8")
        assert _jam_rows(path) == expected


def test_queues_under_actuated_control_are_per_cycle_as_it_ran(corpus, tmp_path) -> None:
    """grid2_actuated's own actuated programmes have no fixed cycle (nominally 90 s, about 35 s as they run
    here): its queues are maxima per cycle as SUMO ran it, one window per start of the first phase, not per
    nominal cycle."""
    from signalopt.prepare import load_network

    scenario = read_scenario(next(e for e in corpus if e.name == "grid2_actuated").scenario_path)
    prepared = prepare(scenario)
    plans = scenario_plans(scenario, load_network(scenario))[0]
    events = tmp_path / "events.add.xml"
    events.write_text(f'<additional><timedEvent type="SaveTLSSwitchStates" dest="{tmp_path / "sw.xml"}"/>'
                      f'</additional>', encoding="utf-8")
    run = run_task(Task(replace(prepared, additional_files=(*prepared.additional_files, str(events))), 101, plans,
                        "network"))
    rows = [(float(e.get("time")), e.get("id"), int(e.get("phase")))
            for e in ET.parse(tmp_path / "sw.xml").getroot().iter("tlsState")]
    start = prepared.begin_s + prepared.warmup_s
    for a in run.approaches:
        series = [(t, ph) for t, sid, ph in rows if sid == a.signal_id]
        starts = sum(1 for k, (t, ph) in enumerate(series) if k and ph == 0 and series[k - 1][1] != 0 and t >= start)
        nominal = (prepared.end_s - start) / plans[a.signal_id].cycle_s
        assert starts > 1.5 * nominal and abs(a.n_cycles - starts) <= 1, (a.label, a.n_cycles, starts, nominal)
