"""Analytic layer (signalopt.analytic): design flows, saturation flows, Webster plans, HCM evaluator.

No SUMO simulation: the networks are read with sumolib only.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sumolib")

from signalopt.analytic import (  # noqa: E402 - after the sumolib check
    BASE_SAT_FLOW_PC_H_LN,
    HEAVY_VEHICLE_AREA_FACTOR,
    LEFT_TURN_FACTOR,
    RIGHT_TURN_FACTOR,
    AnalyticEvaluator,
    design_flows_veh_h,
    lane_flows_veh_h,
    lane_movement_flows_veh_h,
    lane_sat_flows_veh_h,
    sat_flow_veh_h,
    stage_flow_ratios,
    webster_plans,
)
from signalopt.demand import TurnCount, read_turn_counts  # noqa: E402
from signalopt.errors import InputError, PlanError  # noqa: E402
from signalopt.metrics import Metrics  # noqa: E402
from signalopt.network import read_network  # noqa: E402
from signalopt.plan import EPS_S, PlanSet, TimingPlan  # noqa: E402
from signalopt.programs import existing_plans, stage_requirements  # noqa: E402
from signalopt.safety import check_plans  # noqa: E402
from signalopt.scenario import read_scenario
from signalopt.options import TimingOptions

NETWORKS = Path(__file__).resolve().parent.parent / "networks"
ISOLATED = NETWORKS / "isolated" / "isolated.net.xml"
QX_SHARED = NETWORKS / "qixiangtai" / "qixiangtai_shared.net.xml"
BEGIN_S, END_S = 25200.0, 28800.0  # 07:00-08:00
INTERVALS = ("07:00", "07:15", "07:30", "07:45")
TIMING = TimingOptions()

S_THROUGH = BASE_SAT_FLOW_PC_H_LN * HEAVY_VEHICLE_AREA_FACTOR
S_LEFT = S_THROUGH * LEFT_TURN_FACTOR
S_RIGHT = S_THROUGH * RIGHT_TURN_FACTOR


@pytest.fixture(scope="module")
def network():
    if not ISOLATED.exists():
        pytest.skip(f"{ISOLATED} not built")
    return read_network(ISOLATED)


@pytest.fixture(scope="module")
def base(network) -> PlanSet:
    return existing_plans(network, TIMING)[0]


def per_15min(scale: float = 1.0, *, ns_t: float = 120, ew_t: float = 80, left: float = 30,
              right: float = 25) -> dict[tuple[str, str], float]:
    """Vehicles per 15 min per (approach, movement) at the isolated junction."""
    out = {}
    for a in "NESW":
        out[(a, "T")] = (ns_t if a in "NS" else ew_t) * scale
        out[(a, "L")] = left * scale
        out[(a, "R")] = right * scale
    return out


def write_counts(path: Path, movements: dict[tuple[str, str], float], *, intervals: tuple[str, ...] = INTERVALS,
                 signal: str = "center") -> Path:
    lines = ["interval,intersection,approach,movement,vehicles"]
    for t in intervals:
        for (approach, movement), v in movements.items():
            lines.append(f"{t},{signal},{approach},{movement},{v:g}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(tmp_path: Path, movements: dict[tuple[str, str], float], name: str = "counts.csv") -> list[TurnCount]:
    return read_turn_counts(write_counts(tmp_path / name, movements))


def write_scenario(tmp_path: Path, counts_csv: Path | None, *, name: str = "iso", net: Path = ISOLATED,
                   extra: str = "") -> Path:
    text = (f'schema_version = 1\nname = "{name}"\nnetwork = "{net}"\n'
            f"begin_s = {BEGIN_S:g}\nend_s = {END_S:g}\nwarmup_s = 300\n{extra}")
    if counts_csv is not None:
        text += f'[demand]\ncounts = "{counts_csv}"\n'
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def evaluator(tmp_path: Path, movements: dict[tuple[str, str], float], name: str = "iso") -> AnalyticEvaluator:
    csv = write_counts(tmp_path / f"{name}.csv", movements)
    return AnalyticEvaluator(read_scenario(write_scenario(tmp_path, csv, name=name)))


def webster(network, base, tmp_path, movements, timing: TimingOptions = TIMING) -> PlanSet:
    return webster_plans(network, base, counts(tmp_path, movements), timing, begin_s=BEGIN_S, end_s=END_S,
                         interval_s=900, source="counts.csv")


# --------------------------------------------------------------------------- design flows


def tc(t: str, v: float, signal: str = "a", approach: str = "N", movement: str = "T") -> TurnCount:
    h, m = (int(x) for x in t.split(":"))
    return TurnCount(h * 3600.0 + m * 60.0, signal, approach, movement, v)


def test_design_flow_is_the_peak_hour_of_the_corridor_total() -> None:
    rows = [tc(t, v) for t, v in zip(("07:00", "07:15", "07:30", "07:45", "08:00", "08:15"), (10, 50, 60, 70, 80, 5))]
    # the other signal peaks earlier but the corridor total decides the hour
    rows += [tc(t, v, signal="b") for t, v in zip(("07:00", "07:15", "07:30", "07:45", "08:00", "08:15"),
                                                  (40, 0, 0, 0, 0, 0))]
    flows = design_flows_veh_h(rows, begin_s=BEGIN_S, end_s=BEGIN_S + 6 * 900)
    assert flows[("a", "N", "T")] == pytest.approx(50 + 60 + 70 + 80)
    assert flows[("b", "N", "T")] == 0.0


def test_design_flow_with_less_than_an_hour_is_the_mean_rate() -> None:
    rows = [tc("07:00", 30), tc("07:15", 60), tc("07:00", 12, movement="L")]
    flows = design_flows_veh_h(rows, begin_s=BEGIN_S, end_s=END_S)
    assert flows[("a", "N", "T")] == pytest.approx((30 + 60) / 2 * 4)
    assert flows[("a", "N", "L")] == pytest.approx(12 / 2 * 4)


def test_design_flow_ignores_counts_outside_the_window_and_gaps() -> None:
    rows = [tc(t, 100) for t in ("06:00", "06:15", "06:30", "06:45")]
    rows += [tc(t, 10) for t in ("07:00", "07:15", "07:45", "08:00")]  # 07:30 missing: no full hour
    flows = design_flows_veh_h(rows, begin_s=BEGIN_S, end_s=BEGIN_S + 5 * 900)
    assert flows[("a", "N", "T")] == pytest.approx(40.0)
    with pytest.raises(InputError, match="no count interval inside"):
        design_flows_veh_h(rows, begin_s=0.0, end_s=3600.0, source="x.csv")
    with pytest.raises(InputError, match=r"\(0\)"):
        design_flows_veh_h(rows, begin_s=BEGIN_S, end_s=END_S, interval_s=0)


# --------------------------------------------------------------------------- lanes and saturation flow


def test_lane_flows_spread_movements_over_their_lanes(network) -> None:
    flows = {("center", "N", "T"): 400.0, ("center", "N", "R"): 100.0, ("center", "N", "L"): 150.0,
             ("other", "N", "T"): 999.0}
    lanes = lane_flows_veh_h(network, "center", flows, source="c.csv")
    # n2center_0 carries right and through, _1 through only, _2 left only
    assert lanes == pytest.approx({"n2center_0": 200.0 + 100.0, "n2center_1": 200.0, "n2center_2": 150.0})


def test_movement_the_network_lacks_is_an_input_error(network, base, tmp_path) -> None:
    with pytest.raises(InputError, match=r"movement not in the network.*\(U\)"):
        lane_flows_veh_h(network, "center", {("center", "N", "U"): 10.0}, source="c.csv")
    with pytest.raises(InputError, match=r"approach not at intersection center.*\(X;"):
        lane_flows_veh_h(network, "center", {("center", "X", "T"): 10.0}, source="c.csv")
    with pytest.raises(InputError, match=r"movement not in the network.*\(U\)"):
        webster(network, base, tmp_path, {**per_15min(), ("E", "U"): 5})
    csv = write_counts(tmp_path / "u.csv", {**per_15min(), ("E", "U"): 5})
    with pytest.raises(InputError, match="u.csv"):
        AnalyticEvaluator(read_scenario(write_scenario(tmp_path, csv, name="u")))


def test_sat_flow_factors() -> None:
    assert sat_flow_veh_h({"T": 1.0}) == pytest.approx(1805.0)
    assert sat_flow_veh_h({"L": 3.0}) == pytest.approx(S_LEFT) == pytest.approx(1900 * 0.95 * 0.95)
    assert sat_flow_veh_h({"R": 1.0}) == pytest.approx(1900 * 0.95 * 0.85)
    # a shared lane mixes by headways: HCM 2000's f_LT = 1 / (1 + 0.05 P_LT) for a shared left lane
    p_left = 0.3
    assert sat_flow_veh_h({"T": 70, "L": 30}) == pytest.approx(S_THROUGH / (1 - p_left + p_left / 0.95))
    assert S_RIGHT < sat_flow_veh_h({"T": 1, "R": 1}) < S_THROUGH
    with pytest.raises(PlanError, match="X"):
        sat_flow_veh_h({"X": 1.0})
    with pytest.raises(PlanError, match="-1"):
        sat_flow_veh_h({"T": -1.0})
    with pytest.raises(PlanError, match="sum to 0"):
        sat_flow_veh_h({"T": 0.0})


def test_stage_flow_ratio_hand_checked(network, base) -> None:
    signal = network.signal("center")
    plan = base["center"]
    assert plan.phases[0].state == "rrrGrrrrrrrGrrrr"  # north and south left turns
    lanes = {"n2center_2": 200.0, "s2center_2": 100.0, "n2center_1": 900.0}
    y = stage_flow_ratios(signal, plan, lanes)
    assert y.shape == (4,)
    assert y[0] == pytest.approx(200.0 / (1900 * 0.95 * 0.95))  # 0.1166
    # stage 2 (N/S through and right): lane n2center_1 is through only
    assert plan.phases[1].state == "GGGrrrrrGGGrrrrr"
    assert y[1] == pytest.approx(900.0 / 1805.0)
    assert y[2] == 0.0 and y[3] == 0.0


# --------------------------------------------------------------------------- Webster plans


def _minimum_greens(network, plan) -> list[float]:
    signal = network.signal(plan.signal_id)
    n = len(plan.phases)
    out = []
    for k, p in enumerate(plan.phases):
        r = stage_requirements(signal, p.state, plan.phases[(k + 1) % n].state, TIMING)
        out.append(max(r.min_green_s, r.walk_s + r.ped_clearance_s if r.walk_s else 0.0))
    return out


def test_higher_flows_give_a_longer_webster_cycle(network, base, tmp_path) -> None:
    cycles = [webster(network, base, tmp_path, per_15min(scale))["center"].cycle_s for scale in (0.5, 1.0, 1.4)]
    assert cycles[0] < cycles[1] < cycles[2]
    assert all(TIMING.min_cycle_s <= c <= TIMING.max_cycle_s for c in cycles)


def test_webster_cycle_matches_the_formula(network, base, tmp_path) -> None:
    plan = webster(network, base, tmp_path, per_15min())["center"]
    signal = network.signal("center")
    lost = sum(p.yellow_s + p.all_red_s for p in plan.phases)
    flows = design_flows_veh_h(counts(tmp_path, per_15min()), begin_s=BEGIN_S, end_s=END_S)
    # stages and states are those of the base plan, so the flow ratios can be recomputed on it
    mix = lane_movement_flows_veh_h(network, "center", flows, source=None)
    y = stage_flow_ratios(signal, plan, lane_flows_veh_h(network, "center", flows, source=None),
                          sat_flows_veh_h=lane_sat_flows_veh_h(signal, mix))
    expected = (1.5 * lost + 5) / (1 - y.sum())
    assert plan.cycle_s == pytest.approx(round(expected), abs=1e-9)
    assert [p.state for p in plan.phases] == [p.state for p in base["center"].phases]


def test_webster_greens_share_the_green_above_the_minimums_by_flow_ratio(network, base, tmp_path) -> None:
    plan = webster(network, base, tmp_path, per_15min(1.2, left=45))["center"]
    signal = network.signal("center")
    flows = design_flows_veh_h(counts(tmp_path, per_15min(1.2, left=45)), begin_s=BEGIN_S, end_s=END_S)
    mix = lane_movement_flows_veh_h(network, "center", flows, source=None)
    y = stage_flow_ratios(signal, plan, lane_flows_veh_h(network, "center", flows, source=None),
                          sat_flows_veh_h=lane_sat_flows_veh_h(signal, mix))
    mins = np.asarray(_minimum_greens(network, plan))
    above = np.asarray([p.green_s for p in plan.phases]) - mins
    assert (above > 0).all()
    ratio = above / y
    # equal up to the 0.1 s rounding of each green
    assert np.ptp(ratio) <= 0.1 / y.min() + 1e-9
    assert above.sum() == pytest.approx(plan.cycle_s - sum(p.yellow_s + p.all_red_s for p in plan.phases) - mins.sum())


def test_webster_plans_respect_every_minimum_and_sum_to_the_cycle(network, base, tmp_path) -> None:
    for scale in (0.05, 0.5, 1.0, 2.0):
        plans = webster(network, base, tmp_path, per_15min(scale))
        assert plans.name == "webster"
        plan = plans["center"]
        for p, lo in zip(plan.phases, _minimum_greens(network, plan)):
            assert p.green_s >= lo - EPS_S
            assert p.green_s >= p.effective_min_green_s - EPS_S
            assert p.yellow_s >= p.min_yellow_s - EPS_S and p.all_red_s >= p.min_all_red_s - EPS_S
            assert round(p.green_s * 10) == pytest.approx(p.green_s * 10, abs=1e-6)  # 0.1 s steps
        assert plan.cycle_s == pytest.approx(sum(p.split_s for p in plan.phases), abs=1e-9)
        assert plan.cycle_s == pytest.approx(round(plan.cycle_s), abs=1e-9)
        assert 0 <= plan.offset_s < plan.cycle_s
        assert check_plans(plans, network, timing=TIMING) == []


def test_oversaturated_demand_gets_the_maximum_cycle(network, base, tmp_path) -> None:
    plan = webster(network, base, tmp_path, per_15min(4.0))["center"]
    assert plan.cycle_s == pytest.approx(TIMING.max_cycle_s)
    tight = TimingOptions(max_cycle_s=120.0)
    assert webster(network, base, tmp_path, per_15min(4.0), tight)["center"].cycle_s == pytest.approx(120.0)


def test_light_demand_gets_the_minimum_cycle(network, base, tmp_path) -> None:
    plan = webster(network, base, tmp_path, per_15min(0.01))["center"]
    assert plan.cycle_s == pytest.approx(max(TIMING.min_cycle_s,
                                             math.ceil(sum(_minimum_greens(network, plan))
                                                       + sum(p.yellow_s + p.all_red_s for p in plan.phases))))


def test_max_green_caps_are_water_filled(network, base, tmp_path) -> None:
    timing = TimingOptions(max_green_s=30.0)
    plan = webster(network, base, tmp_path, per_15min(2.0, ns_t=200, left=10), timing)["center"]
    greens = [p.green_s for p in plan.phases]
    assert max(greens) <= 30.0 + EPS_S
    assert plan.cycle_s == pytest.approx(sum(p.split_s for p in plan.phases))
    assert greens[1] == pytest.approx(30.0)  # N/S through capped, the rest went elsewhere


def test_offsets_are_kept_modulo_the_new_cycle(network, base, tmp_path) -> None:
    shifted = base.replace_plans([base["center"].with_timings([p.green_s for p in base["center"].phases],
                                                             offset_s=55.0)])
    plan = webster(network, shifted, tmp_path, per_15min(0.3))["center"]
    assert plan.offset_s == pytest.approx(55.0 % plan.cycle_s)


@pytest.fixture(scope="module")
def qixiangtai():
    if not QX_SHARED.exists():
        pytest.skip(f"{QX_SHARED} not built")
    net = read_network(QX_SHARED)
    if not any(s.ped_links for s in net.signals):
        pytest.skip("read_network finds no pedestrian crossings in the Qixiangtai network")
    return net


def test_qixiangtai_webster_plans_respect_walk_and_pedestrian_clearance(qixiangtai, tmp_path) -> None:
    timing = TimingOptions(walking_speed_m_s=1.0)  # school crossings: slower walkers
    base = existing_plans(qixiangtai, timing)[0]
    rows = ["interval,intersection,approach,movement,vehicles"]
    for signal in qixiangtai.signals:
        for approach in signal.approaches:
            dirs = {l.direction for l in signal.links if l.approach == approach.id and not l.is_crossing}
            for movement, d, v in (("T", "s", 150), ("L", "l", 40), ("R", "r", 30)):
                if d in dirs:
                    for t in INTERVALS:
                        rows.append(f"{t},{signal.id},{approach.leg or approach.id},{movement},{v}")
    csv = tmp_path / "qx.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    plans = webster_plans(qixiangtai, base, read_turn_counts(csv), timing, begin_s=BEGIN_S, end_s=END_S,
                          interval_s=900, source=csv)
    assert set(plans.signal_ids) == set(qixiangtai.signal_ids)
    served = 0
    for plan in plans:
        signal = qixiangtai.signal(plan.signal_id)
        n = len(plan.phases)
        for k, p in enumerate(plan.phases):
            r = stage_requirements(signal, p.state, plan.phases[(k + 1) % n].state, timing)
            if any(p.state[i] in "Gg" for i in signal.ped_links):
                served += 1
                assert p.walk_s == r.walk_s >= 7.0
                assert p.ped_clearance_s == pytest.approx(r.ped_clearance_s) and p.ped_clearance_s > 0
                assert p.green_s >= r.walk_s + r.ped_clearance_s - EPS_S
        assert plan.cycle_s == pytest.approx(sum(p.split_s for p in plan.phases))
    assert served > 0
    assert check_plans(plans, qixiangtai, timing=timing) == []


# --------------------------------------------------------------------------- evaluator


def test_evaluate_returns_one_identical_run_per_seed(tmp_path) -> None:
    ev = evaluator(tmp_path, per_15min())
    plans = ev.webster_plans()
    m = ev.evaluate(plans, [3, 1, 7])
    assert isinstance(m, Metrics)
    assert m.seeds == (3, 1, 7)
    assert m.plans == "webster" and m.scenario == "iso"
    first = m.runs[0].to_dict()
    for r in m.runs[1:]:
        assert {k: v for k, v in r.to_dict().items() if k != "seed"} == {k: v for k, v in first.items() if k != "seed"}
    run = m.runs[0]
    assert run.not_inserted == 0 and run.teleports == 0
    assert math.isfinite(run.delay_s) and run.delay_s > 0
    # 4 x (120 + 30 + 25) + 4 x (80 + 30 + 25) ... per 15 min, over 3300 s measured
    hourly = 4 * (2 * (120 + 30 + 25) + 2 * (80 + 30 + 25))
    assert run.throughput_veh == run.n_vehicles == round(hourly * (END_S - BEGIN_S - 300) / 3600)
    assert {a.label for a in run.approaches} == {"center:N", "center:E", "center:S", "center:W"}
    assert run.max_queue_m == pytest.approx(max(a.max_queue_m for a in run.approaches))
    assert all(a.max_queue_m > 0 and a.n_cycles > 0 for a in run.approaches)
    assert run.ped_wait_s == 0.0  # the isolated junction has no crossings
    assert 0 < run.stops_per_veh <= 1
    assert m.ci95("delay_s") == pytest.approx((run.delay_s, run.delay_s))


def test_analytic_delay_rises_with_demand_and_stays_finite_above_saturation(tmp_path, base) -> None:
    delays, queues = [], []
    for k, scale in enumerate((0.3, 0.8, 1.5, 3.0, 5.0)):
        ev = evaluator(tmp_path, per_15min(scale), name=f"s{k}")
        m = ev.evaluate(base, [1])
        delays.append(m.runs[0].delay_s)
        queues.append(m.runs[0].max_queue_m)
    assert all(math.isfinite(d) for d in delays)
    assert np.all(np.diff(delays) > 0)
    assert np.all(np.diff(queues) > 0)
    assert m.extra["max_degree_of_saturation"]["center"] > 1  # the last one is oversaturated


def test_webster_beats_a_lopsided_plan(tmp_path, base) -> None:
    ev = evaluator(tmp_path, per_15min(1.2))
    web = ev.webster_plans()
    plan = base["center"]
    # starve the N/S through stage, feed the E/W one
    lopsided = plan.with_timings([plan.phases[0].green_s, 8.0, plan.phases[2].green_s, 60.0])
    assert ev.evaluate(web, [1]).delay_s < ev.evaluate(PlanSet((lopsided,), name="lopsided"), [1]).delay_s


def test_signals_without_a_plan_fall_back_to_the_existing_plans(tmp_path) -> None:
    ev = evaluator(tmp_path, per_15min())
    none = ev.evaluate(PlanSet((), name="empty"), [1]).runs[0]
    existing = ev.evaluate(ev.existing_plans(), [1]).runs[0]
    assert none == existing
    assert ev.evaluate(None, [1]).runs[0] == existing


def test_evaluator_errors(tmp_path, base) -> None:
    routes = tmp_path / "empty.rou.xml"
    routes.write_text("<routes/>\n", encoding="utf-8")
    cfg = tmp_path / "x.sumocfg"
    cfg.write_text(f'<configuration><input><net-file value="{ISOLATED}"/>'
                   f'<route-files value="{routes}"/></input></configuration>\n', encoding="utf-8")
    scen = tmp_path / "nocounts.toml"
    scen.write_text(f'schema_version = 1\nname = "nocounts"\nsumocfg = "{cfg}"\nbegin_s = 0\nend_s = 3600\n',
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"nocounts\.toml.*counts"):
        AnalyticEvaluator(read_scenario(scen))
    ev = evaluator(tmp_path, per_15min())
    with pytest.raises(InputError, match="seed"):
        ev.evaluate(base, [])
    other = TimingPlan("nowhere", base["center"].phases)
    with pytest.raises(InputError, match="nowhere"):
        ev.evaluate(PlanSet((other,)), [1])
