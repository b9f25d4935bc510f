"""The round-trip invariant on the generated corpus: "existing" is what runs on the street.

Real SUMO, no vehicles for the state comparison (a fraction of a second per network), and one short
run per scenario for the delay comparison against bare ``sumo``.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from signalopt.baselines import made_safe
from signalopt.evaluator import simulate
from signalopt.network import read_network
from signalopt.plan import GREEN_CHARS, PlanSet
from signalopt.prepare import prepare, scenario_plans
from signalopt.programs import STATIC_TYPES, existing_plans
from signalopt.roundtrip import bare_sumo_run, round_trip
from signalopt.safety import check_plans
from signalopt.scenario import read_scenario
from signalopt.options import TimingOptions

TIMING = TimingOptions()


def entry(corpus, name: str):  # noqa: ANN001, ANN201
    return next(e for e in corpus if e.name == name)


def test_every_static_programme_round_trips_second_by_second(corpus) -> None:
    checked = 0
    for e in corpus:
        network = read_network(e.net_path)
        plans, _ = existing_plans(network, TIMING)
        static = PlanSet(tuple(p for p in plans if network.signal(p.signal_id).program.type in STATIC_TYPES))
        if not len(static):
            continue
        rt = round_trip(network, static)
        assert rt.total_differing == 0, (e.name, rt.first)
        assert rt.steps >= 2 * max(p.cycle_s for p in static)
        checked += len(static)
    assert checked >= 40


def test_round_trip_sees_a_misread_programme(corpus) -> None:
    """The check can fail: the lefts turned yellow with the throughs (the old writer's reading of netconvert's
    interstage, where they stay green into their protected stage) differ for exactly those seconds."""
    network = read_network(entry(corpus, "grid3_turn").net_path)
    plans, _ = existing_plans(network, TIMING)
    plan = plans["B1"]  # a four-arm junction: throughs with permissive lefts, then protected lefts
    first = plan.phases[0]
    (dur, state), *rest = first.change
    assert "y" in state and "g" in state  # the lefts stay green while the throughs turn yellow
    wrong = replace(plan, phases=(replace(first, change=((dur, state.replace("g", "y")), *rest)), *plan.phases[1:]))
    rt = round_trip(network, PlanSet((wrong,)))
    assert rt.total_differing == pytest.approx(rt.steps / plan.cycle_s * dur, abs=dur)


@pytest.mark.parametrize("name", ["grid3_turn", "sidewalks", "grid2_actuated", "grid2_nema"])
def test_existing_delay_is_bare_sumo_delay(corpus, name: str) -> None:
    scenario = read_scenario(entry(corpus, name).scenario_path)
    bare = bare_sumo_run(prepare(scenario), 1)
    ours = simulate(scenario, seeds=[1], workers=1).runs[0]
    assert bare.n_vehicles > 50
    assert ours.delay_s == pytest.approx(bare.delay_s, rel=1e-9)
    assert ours.n_vehicles == bare.n_vehicles
    network = read_network(scenario.network_path)
    if all(s.program.type in STATIC_TYPES for s in network.signals):
        # the plans signalopt read, written back as its own programmes, run the same
        existing, _ = scenario_plans(scenario, network)
        back = simulate(scenario, existing, seeds=[1], workers=1).runs[0]
        assert back.delay_s == pytest.approx(bare.delay_s, rel=1e-9)


def test_nema_programme_gives_dual_ring_stages(corpus) -> None:
    network = read_network(entry(corpus, "grid2_nema").net_path)
    plans, warnings = existing_plans(network, TIMING)
    assert any("is NEMA: simulated as programmed" in w for w in warnings)
    for plan in plans:
        signal = network.signal(plan.signal_id)
        # ring 1 and ring 2 phases at the same position run together: four stages, no foes green together
        assert len(plan.phases) == 4
        for ph in plan.phases:
            assert not signal.conflicting_greens(ph.state)
        served = {k for ph in plan.phases for k, c in enumerate(ph.state) if c in GREEN_CHARS}
        programmed = {k for _, st in signal.program.phases for k, c in enumerate(st) if c in GREEN_CHARS}
        assert served == programmed


def test_made_safe_plans_pass_the_safety_check_on_every_network(corpus) -> None:
    for e in corpus:
        network = read_network(e.net_path)
        plans, _ = existing_plans(network, TIMING)
        safe, notes = made_safe(plans, network, TIMING)
        assert notes, e.name  # netconvert's 3 s yellows without all-red fall short of ITE at 50 km/h
        assert check_plans(safe, network, timing=TIMING) == [], e.name
        for a, b in zip(safe, plans):
            assert a.offset_s == pytest.approx(b.offset_s % a.cycle_s)
            assert [p.state for p in a.phases] == [p.state for p in b.phases]


def test_actuated_programme_gives_its_maximum_greens(corpus) -> None:
    network = read_network(entry(corpus, "grid2_actuated").net_path)
    plans, _ = existing_plans(network, TIMING)
    for plan in plans:
        prog = network.signal(plan.signal_id).program
        programmed = {float(prog.phase_attr(k, "maxDur")) for k in range(len(prog.phases))
                      if prog.phase_attr(k, "maxDur") is not None}
        assert {ph.max_green_s for ph in plan.phases} <= programmed
