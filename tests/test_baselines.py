"""Baselines read back as plans: SUMO's own tlsCycleAdaptation.py run for real on sampled vehicles."""

from __future__ import annotations

import pytest

from signalopt.baselines import baseline_candidates, parse_baselines, sumo_webster_baseline
from signalopt.errors import InputError
from signalopt.prepare import load_network, prepare, scenario_cache, scenario_plans
from signalopt.scenario import read_scenario
from tests._optimise_helpers import write_isolated_scenario


@pytest.fixture()
def scenario(tmp_path):
    return read_scenario(write_isolated_scenario(tmp_path / "s", name="iso_baselines"))


def test_sumo_webster_keeps_the_stages_and_retimes_them(scenario):
    network = load_network(scenario)
    existing, _ = scenario_plans(scenario, network)
    plans = sumo_webster_baseline(scenario, network, existing)
    old, new = existing["center"], plans["center"]
    assert plans.name == "sumo-webster"
    assert [p.state for p in new.phases] == [p.state for p in old.phases]
    assert scenario.timing.min_cycle_s <= new.cycle_s <= scenario.timing.max_cycle_s
    assert [p.green_s for p in new.phases] != [p.green_s for p in old.phases]
    # the tool read individual vehicles, cached beside the flows the simulations use
    folder = scenario_cache(scenario)
    assert (folder / "vehicles_individual.rou.xml").read_text().count("<vehicle ") > 100
    prepare(scenario, network)
    assert "<flow " in (folder / "vehicles.rou.xml").read_text()


def test_adaptive_baselines_drive_the_existing_stages(scenario):
    network = load_network(scenario)
    existing, _ = scenario_plans(scenario, network)
    cands = baseline_candidates(scenario, network, existing, ("existing", "actuated", "max_pressure"))
    # existing runs the network's own programme; its 3 s yellows are below ITE, so the made-safe plans differ
    assert [(c.name, c.controller) for c in cands] == [("existing", "network"), ("existing-safe", "static"),
                                                       ("actuated", "actuated"), ("max_pressure", "max_pressure")]
    assert all(c.plans.plans == existing.plans for c in cands if c.name != "existing-safe")
    safe = cands[1].plans["center"]
    assert all(ph.yellow_s >= 3.3 for ph in safe.phases)
    assert safe.offset_s == existing["center"].offset_s


def test_unknown_baseline_is_refused():
    with pytest.raises(InputError, match="unknown baseline"):
        parse_baselines("existing,nonsense")
