"""Per-movement measures of detailed runs (signalopt.movements), validated on real SUMO runs.

The isolated junction (networks/isolated) runs its existing 90 s plan; Poisson through traffic on the
north and south legs.  Validation as the issue asks: arrivals on green agree with g/C for random arrivals,
split failures are absent at low degrees of saturation and frequent above capacity.
"""

from __future__ import annotations

import pytest

from signalopt._sumo_run import Task, run_task
from signalopt.evaluator import SumoEvaluator
from signalopt.analytic import lane_groups

THROUGH = ("n2center", "s2center")


def _run(folder, net, make_flows, sumocfg_scenario, veh_h: float, seeds=(1, 2)):  # noqa: ANN001, ANN202
    toml = sumocfg_scenario(folder, net, make_flows(("n2center", "center2s", veh_h), ("s2center", "center2n", veh_h),
                                                    end_s=2100), end_s=2100, warmup_s=300)
    with SumoEvaluator(toml) as ev:
        groups = lane_groups(ev.network, ev.prepared.signal_ids)
        runs = [run_task(Task(ev.prepared, s, ev.existing_plans(), ev.controller, groups=groups)) for s in seeds]
    return groups, runs


@pytest.fixture(scope="module")
def light(tmp_path_factory, isolated_net, make_flows, sumocfg_scenario):  # noqa: ANN001, ANN201
    return _run(tmp_path_factory.mktemp("light"), isolated_net, make_flows, sumocfg_scenario, 450)


@pytest.fixture(scope="module")
def overloaded(tmp_path_factory, isolated_net, make_flows, sumocfg_scenario):  # noqa: ANN001, ANN201
    return _run(tmp_path_factory.mktemp("over"), isolated_net, make_flows, sumocfg_scenario, 1400, seeds=(1,))


def test_lane_groups_follow_the_movements_of_each_lane(isolated_net) -> None:
    from signalopt.network import read_network

    groups = lane_groups(read_network(isolated_net), ["center"])
    north = [g for g in groups if g.approach == "n2center"]
    # lane 0 through+right, lane 1 through, lane 2 the left-turn bay (conftest.isolated_net)
    assert [(g.movement, g.lanes) for g in north] == [("L", ("n2center_2",)), ("TR", ("n2center_0",)),
                                                      ("T", ("n2center_1",))]
    assert all(g.label.startswith("center:N ") for g in north)
    assert north[0].sat_flow_veh_h < north[2].sat_flow_veh_h  # a left turn discharges slower than through
    assert len({g.id for g in groups}) == len(groups) == 12


def test_arrivals_on_green_agree_with_g_over_c_for_random_arrivals(light) -> None:
    groups, runs = light
    through = [m for r in runs for m in r.movements if m.group.split("|")[0] in THROUGH and "T" in m.movement]
    g_c = through[0].green_share
    assert g_c == pytest.approx(25 / 90, abs=0.01)  # the measured green share is the plan's
    pooled = sum(m.arrivals_on_green * m.volume_veh_h for m in through) / sum(m.volume_veh_h for m in through)
    # Poisson arrivals find the signal green with probability g/C; the tolerance covers ~700 arrivals' spread
    assert pooled == pytest.approx(g_c, abs=0.05)


def test_no_split_failures_below_x_07_and_frequent_above_capacity(light, overloaded) -> None:
    _, runs = light
    light_through = [m for r in runs for m in r.movements if m.group.split("|")[0] in THROUGH and "T" in m.movement]
    assert max(m.vc_ratio for m in light_through) < 0.7
    assert sum(m.split_failures for m in light_through) == 0
    assert sum(m.n_cycles for m in light_through) >= 4 * 18
    _, runs = overloaded
    over = [m for r in runs for m in r.movements if m.group.split("|")[0] in THROUGH and "T" in m.movement]
    assert sum(m.split_failures for m in over) >= 0.6 * sum(m.n_cycles for m in over)
    assert min(m.control_delay_s for m in over) > 80  # LOS F


def test_movements_without_traffic_have_no_arrivals_and_the_plain_run_has_no_movements(light) -> None:
    groups, runs = light
    east = [m for m in runs[0].movements if m.group.startswith("e2center|")]
    assert east and all(m.volume_veh_h == 0 and m.arrivals_on_green is None for m in east)
    assert all(m.capacity_veh_h > 0 for m in east)  # green but idle: capacity still offered


def test_control_delay_grows_with_demand(light, overloaded) -> None:
    low = [m.control_delay_s for r in light[1] for m in r.movements if m.group.startswith("n2center|T")]
    high = [m.control_delay_s for r in overloaded[1] for m in r.movements if m.group.startswith("n2center|T")]
    assert 5 < sum(low) / len(low) < 55 < min(high)


def test_crossing_delay_is_hcm_pedestrian_delay_of_the_walk_as_it_ran(corpus) -> None:
    from signalopt.movements import crossings

    entry = next(e for e in corpus if e.name == "sidewalks")
    with SumoEvaluator(entry.scenario_path) as ev:
        walks = crossings(ev.network, ev.prepared.signal_ids)
        plans = ev.existing_plans()
        run = run_task(Task(ev.prepared, 1, plans, ev.controller, crossings=walks))
    assert len(run.crossings) == len(walks) >= 4 and not run.movements
    assert {c.label.split(":")[1] for c in run.crossings} <= {"N crossing", "E crossing", "S crossing", "W crossing"}
    for c in run.crossings:
        cycle_s = plans[c.signal_id].cycle_s
        walk_s = c.walk_share * cycle_s
        assert 0 < walk_s < cycle_s
        # fixed time: the mean wait of random arrivals is HCM's (C - g)^2 / 2C within a part-cycle's edge effects
        assert c.ped_delay_s == pytest.approx((cycle_s - walk_s) ** 2 / (2 * cycle_s), rel=0.05)
    # the simulated pedestrians wait about as long as the crossings' delay says (they cross one or two)
    mean_delay = sum(c.ped_delay_s for c in run.crossings) / len(run.crossings)
    assert 0.5 * mean_delay < run.ped_wait_s < 2.5 * mean_delay


def test_a_lane_group_needs_a_length_per_lane_and_its_links() -> None:
    from signalopt.errors import SimulationError
    from signalopt.movements import LaneGroup

    with pytest.raises(SimulationError, match=r"one length per lane needed \(\('a_0', 'a_1'\), \(100.0,\)\)"):
        LaneGroup("a|T", "J", "a", "J:N T", "T", ("a_0", "a_1"), (1,), (100.0,), 13.9, 3600.0)
    with pytest.raises(SimulationError, match=r"link indices .* \(\(\)\)"):
        LaneGroup("a|T", "J", "a", "J:N T", "T", ("a_0",), (), (100.0,), 13.9, 1800.0)
