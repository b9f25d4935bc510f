"""Coordinated starting plans (signalopt.coordination): pure arithmetic and the bundled corridor.

No simulation: sumolib reads the nets, the analytic model scores the cycles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from signalopt.analytic import AnalyticEvaluator
from signalopt.coordination import (
    CYCLE_STEP_S,
    LADDER_RUNGS,
    TARGET_X,
    ProgressionLink,
    min_equisaturation_greens_s,
    progression_links,
    progression_offsets_s,
)
from signalopt.encoding import make_encoding
from signalopt.errors import PlanError
from signalopt.optimiser import coordinated_starts, warm_starts
from signalopt.plan import Phase, PlanSet, TimingPlan
from signalopt.prepare import load_network, scenario_plans
from signalopt.safety import check_plans
from signalopt.scenario import read_scenario

ROOT = Path(__file__).resolve().parents[1]
SUMMER_AM = ROOT / "scenarios" / "qixiangtai_summer_am.toml"


# --------------------------------------------------------------------------- equisaturation with minimums


def test_free_stages_share_in_proportion_to_flow_ratios() -> None:
    g = min_equisaturation_greens_s(60.0, [0.2, 0.4, 0.1], [5.0, 5.0, 5.0])
    assert g.sum() == pytest.approx(60.0)
    assert g == pytest.approx(60.0 * np.array([0.2, 0.4, 0.1]) / 0.7)


def test_stages_below_their_minimum_get_exactly_it() -> None:
    g = min_equisaturation_greens_s(60.0, [0.02, 0.3, 0.3], [20.0, 5.0, 5.0])
    assert g[0] == pytest.approx(20.0)
    assert g[1] == pytest.approx(20.0) and g[2] == pytest.approx(20.0)


def test_maximums_cap_and_pass_the_rest_on() -> None:
    g = min_equisaturation_greens_s(60.0, [0.5, 0.1], [5.0, 5.0], [30.0, 60.0])
    assert g == pytest.approx([30.0, 30.0])


def test_all_zero_ratios_split_equally() -> None:
    assert min_equisaturation_greens_s(30.0, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]) == pytest.approx([10.0] * 3)


@pytest.mark.parametrize(("available", "mins", "maxs", "word"), [
    (10.0, [6.0, 6.0], None, "minimum greens need 12.0 s"),
    (50.0, [5.0, 5.0], [20.0, 20.0], "maximum greens give 40.0 s"),
])
def test_infeasible_bounds_are_refused(available: float, mins: list[float], maxs: list[float] | None,
                                       word: str) -> None:
    with pytest.raises(PlanError, match=word):
        min_equisaturation_greens_s(available, [0.3, 0.3], mins, maxs)


# --------------------------------------------------------------------------- green-wave offsets


def _plan(sid: str, greens: list[float]) -> TimingPlan:
    # two stages: link 0 (the corridor's through movement) green in the second
    phases = (Phase("side", "Gr", green_s=greens[0], yellow_s=3.0, all_red_s=2.0),
              Phase("main", "rG", green_s=greens[1], yellow_s=3.0, all_red_s=2.0))
    return TimingPlan(sid, phases)


def _link(up: str, down: str, distance_m: float) -> ProgressionLink:
    return ProgressionLink(up, down, 1, 1, distance_m, 10.0)


def test_downstream_green_starts_when_the_platoon_arrives() -> None:
    plans = {"a": _plan("a", [20, 50]), "b": _plan("b", [30, 40]), "c": _plan("c", [10, 60])}  # cycle 80 s
    links = [_link("a", "b", 300.0), _link("b", "c", 450.0)]
    off = progression_offsets_s(plans, links, accel_m_s2=None)
    assert off["a"] == 0.0
    # a's main green starts at 25 s; the platoon needs 30 s to b, whose main green starts 35 s into its cycle
    assert off["b"] == pytest.approx((0 + 25 + 30 - 35) % 80)
    assert off["c"] == pytest.approx((off["b"] + 35 + 45 - 15) % 80)


def test_earlier_links_win_over_the_opposite_direction() -> None:
    plans = {"a": _plan("a", [20, 50]), "b": _plan("b", [30, 40])}
    forward = progression_offsets_s(plans, [_link("a", "b", 300.0), _link("b", "a", 300.0)], accel_m_s2=None)
    backward = progression_offsets_s(plans, [_link("b", "a", 300.0), _link("a", "b", 300.0)], accel_m_s2=None)
    assert forward["b"] == pytest.approx((25 + 30 - 35) % 80)
    # b's platoon reaches a 30 s after b's main green starts: relative to a (offset 0 by convention)
    assert (backward["b"] - backward["a"]) % 80 == pytest.approx((25 - 30 - 35) % 80)
    assert forward != backward


def test_slower_progression_and_the_start_move_the_offset() -> None:
    plans = {"a": _plan("a", [20, 50]), "b": _plan("b", [30, 40])}
    full = progression_offsets_s(plans, [_link("a", "b", 300.0)], accel_m_s2=None)
    slow = progression_offsets_s(plans, [_link("a", "b", 300.0)], speed_factor=0.5, accel_m_s2=None)
    assert (slow["b"] - full["b"]) % 80 == pytest.approx(30.0)
    # from rest at 2 m/s² up to 10 m/s: 5 s accelerating over 25 m, i.e. 2.5 s later than cruising all along
    start = progression_offsets_s(plans, [_link("a", "b", 300.0)], accel_m_s2=2.0)
    assert (start["b"] - full["b"]) % 80 == pytest.approx(2.5)
    assert _link("a", "b", 300.0).travel_time_s(accel_m_s2=2.0) == pytest.approx(32.5)


def test_unlinked_signals_keep_offset_zero() -> None:
    plans = {"a": _plan("a", [20, 50]), "b": _plan("b", [30, 40]), "z": _plan("z", [35, 35])}
    off = progression_offsets_s(plans, [_link("a", "b", 300.0)])
    assert off["z"] == 0.0


# --------------------------------------------------------------------------- the bundled corridor


@pytest.fixture(scope="module")
def summer() -> tuple:
    scen = read_scenario(SUMMER_AM)
    network = load_network(scen)
    base, _ = scenario_plans(scen, network)
    return scen, network, base


def test_corridor_links_both_directions(summer: tuple) -> None:
    _, network, base = summer
    pairs = {(l.upstream, l.downstream): l for l in progression_links(network, base.signal_ids)}
    chain = ["zijinshan", "pingshan", "pingquan", "weidi"]
    expected = {(a, b) for a, b in zip(chain, chain[1:])} | {(b, a) for a, b in zip(chain, chain[1:])}
    assert set(pairs) == expected
    # spacings of networks/README.md (280, 320, 420 m) stop line to stop line, within the junction widths
    for (a, b), spacing in {("zijinshan", "pingshan"): 280, ("pingshan", "pingquan"): 320,
                            ("pingquan", "weidi"): 420}.items():
        assert pairs[a, b].distance_m == pytest.approx(spacing, abs=25)
        assert pairs[b, a].distance_m == pytest.approx(spacing, abs=25)


def test_shared_lane_counts_only_its_left_turners_in_the_left_stage(summer: tuple) -> None:
    scen, network, base = summer
    y = AnalyticEvaluator(scen, network=network).stage_flow_ratios(base["pingshan"])
    # stage 1 is the protected left; the shared left+through lane's through cars wait for stage 2
    assert y[0] < 0.1 < y[1]


def test_coordinated_starts_share_one_cycle_and_form_a_wave(summer: tuple) -> None:
    scen, network, base = summer
    enc = make_encoding(network, base, scen.timing)
    starts = coordinated_starts(AnalyticEvaluator(scen, network=network), enc, base)
    # both directions at the best cycle, the heavier one at four longer cycles up to the critical junction's
    assert len(starts) == 2 + LADDER_RUNGS
    peak, counter, *ladder = starts
    assert len({p.cycle_s for p in peak}) == 1
    cycles = [plans.plans[0].cycle_s for plans in ladder]
    assert cycles == sorted(set(cycles)) and cycles[0] > peak.plans[0].cycle_s
    # evenly spaced (to the 2 s scan step)
    steps = np.diff([peak.plans[0].cycle_s, *cycles])
    assert steps.max() - steps.min() <= 2 * CYCLE_STEP_S
    for plans in ladder:
        assert len({p.cycle_s for p in plans}) == 1
        assert not check_plans(plans, network, timing=scen.timing)
    # the top rung is the critical junction's cycle: the shortest scanned at which no stage exceeds y C / g = 0.85
    ev = AnalyticEvaluator(scen, network=network)

    def worst_x(plans: PlanSet) -> float:
        return max(float(np.max(ev.stage_flow_ratios(p) * p.cycle_s / np.array([ph.green_s for ph in p.phases])))
                   for p in plans)

    assert worst_x(ladder[-1]) <= TARGET_X < min(worst_x(peak), *(worst_x(plans) for plans in ladder[:-1]))
    assert not check_plans(peak, network, timing=scen.timing) and not check_plans(counter, network, timing=scen.timing)
    links = {(l.upstream, l.downstream): l for l in progression_links(network, base.signal_ids)}
    # northbound is the heavy direction in the summer AM: zijinshan -> pingshan is on the wave
    l = links["zijinshan", "pingshan"]
    z, p = peak["zijinshan"], peak["pingshan"]
    depart = z.offset_s + z.phase_starts_s()[1]
    arrive = p.offset_s + p.phase_starts_s()[1]
    lag = (arrive - depart - l.travel_time_s()) % z.cycle_s
    assert min(lag, z.cycle_s - lag) == pytest.approx(0.0, abs=0.2)
    assert {p.offset_s for p in peak} != {p.offset_s for p in counter}


def test_warm_starts_survive_encoding(summer: tuple) -> None:
    scen, network, base = summer
    enc = make_encoding(network, base, scen.timing)
    starts = warm_starts(scen, enc, base, network)
    coordinated = coordinated_starts(AnalyticEvaluator(scen, network=network), enc, base)
    assert len(starts) == 2 + len(coordinated)  # existing, the coordinated plan sets, Webster
    for x, plans in zip(starts[1:], coordinated):
        _assert_same_timings(enc.decode(x), plans)


def _assert_same_timings(decoded: PlanSet, coordinated: PlanSet) -> None:
    ref_a, ref_b = decoded.plans[0].offset_s, coordinated.plans[0].offset_s
    for a, b in zip(decoded, coordinated):
        assert a.cycle_s == b.cycle_s
        assert [ph.green_s for ph in a.phases] == pytest.approx([ph.green_s for ph in b.phases], abs=0.11)
        # decoded offsets count from the first signal; offsets are encoded to whole seconds
        shift = ((a.offset_s - ref_a) - (b.offset_s - ref_b) + 1) % a.cycle_s
        assert shift == pytest.approx(1.0, abs=1.0)


def test_isolated_signal_gets_one_uncoordinated_start(isolated_net: Path, tmp_path: Path) -> None:
    from _optimise_helpers import write_isolated_scenario

    scen = read_scenario(write_isolated_scenario(tmp_path))
    network = load_network(scen)
    base, _ = scenario_plans(scen, network)
    starts = coordinated_starts(AnalyticEvaluator(scen, network=network), make_encoding(network, base, scen.timing),
                                base)
    assert len(starts) == 1 and isinstance(starts[0], PlanSet)
