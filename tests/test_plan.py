"""Timing plans (signalopt.plan): construction refuses every broken rule; the SUMO phase form.

Pure tests: no SUMO, no files.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalopt.errors import PlanError
from signalopt.plan import Phase, PlanSet, TimingPlan

PROPERTY = settings(derandomize=True, deadline=None, max_examples=150)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALOPT_CACHE", str(tmp_path / "cache"))


# A 6-link toy signal: 0 N through, 1 S through, 2 E through, 3 W through,
# 4 crossing over the E and W legs (walks with N-S), 5 a right turn green in
# both stages (keeps its green through the change).
NS = "GGrrGG"
EW = "rrGGrG"
PED = frozenset({4})


def ns(**kw) -> Phase:
    args = dict(name="NS", state=NS, green_s=30.0, yellow_s=3.5, all_red_s=2.0, min_green_s=7.0,
                min_yellow_s=3.5, min_all_red_s=1.5, walk_s=7.0, ped_clearance_s=10.0)
    args.update(kw)
    return Phase(**args)


def ew(**kw) -> Phase:
    args = dict(name="EW", state=EW, green_s=20.0, yellow_s=4.0, all_red_s=1.0, min_green_s=7.0,
                min_yellow_s=4.0)
    args.update(kw)
    return Phase(**args)


def plan(**kw) -> TimingPlan:
    args = dict(signal_id="toy", phases=(ns(), ew()), offset_s=10.0, ped_links=PED)
    args.update(kw)
    return TimingPlan(**args)


def refused(*fragments: str):
    """PlanError whose message contains every fragment (the offending value among them)."""
    return pytest.raises(PlanError, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# ------------------------------------------------------------------ Phase


def test_valid_phase_and_its_figures() -> None:
    p = ns()
    assert p.split_s == pytest.approx(35.5)
    assert p.green_links == frozenset({0, 1, 4, 5})
    assert p.serves_pedestrians
    assert p.effective_min_green_s == pytest.approx(17.0)  # walk 7 + clearance 10 > vehicle minimum 7
    assert not ew().serves_pedestrians
    assert ew().effective_min_green_s == pytest.approx(7.0)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"green_s": 6.0, "walk_s": 0.0, "ped_clearance_s": 0.0}, ("green_s 6 s", "below its minimum (7 s)")),
        ({"green_s": 16.9}, ("green_s 16.9 s", "below its minimum (17 s)")),  # under walk + ped clearance
        ({"yellow_s": 2.0, "min_yellow_s": 3.0}, ("yellow_s 2 s", "minimum yellow (3 s)")),
        ({"yellow_s": 3.4}, ("yellow_s 3.4 s", "minimum yellow (3.5 s)")),  # below its own min_yellow_s
        ({"min_yellow_s": 2.5, "yellow_s": 2.5}, ("min_yellow_s", "3 s floor", "(2.5)")),
        ({"all_red_s": 1.0}, ("all_red_s 1 s", "minimum all-red (1.5 s)")),
        ({"green_s": 130.0}, ("green_s 130 s exceeds max_green_s (120 s)",)),
        ({"max_green_s": 6.0}, ("max_green_s 6 s is below min_green_s (7 s)",)),
        ({"green_s": -5.0}, ("green_s must be finite and >= 0", "(-5.0)")),
        ({"all_red_s": math.inf}, ("all_red_s must be finite", "(inf)")),
        ({"yellow_s": math.nan}, ("yellow_s must be a number", "(nan)")),
        ({"green_s": "30"}, ("green_s must be a number", "('30')")),
        ({"green_s": True}, ("green_s must be a number", "(True)")),
        ({"state": "GGxrGG"}, ("state must use the characters", "('GGxrGG')")),
        ({"state": ""}, ("state must use the characters", "('')")),
        ({"state": "rrryrr"}, ("gives no green", "('rrryrr')")),
    ],
)
def test_phase_refuses_broken_rules(kwargs: dict, fragments: tuple[str, ...]) -> None:
    with refused(*fragments):
        ns(**kwargs)


def test_phase_limits_are_inclusive() -> None:
    # exactly at every minimum is allowed (0.1 s plans compare with a tolerance)
    p = ns(green_s=17.0, yellow_s=3.5, all_red_s=1.5, walk_s=7.0)
    assert p.green_s == 17.0
    assert Phase("x", "G", green_s=5.0, yellow_s=3.0, all_red_s=0.0).split_s == 8.0
    # 0.1 + 0.2 style float noise does not refuse a plan at its minimum
    assert ns(green_s=16.9 + 0.1).green_s == pytest.approx(17.0)


def test_phase_from_dict_refuses_unknown_keys() -> None:
    d = ns().to_dict()
    assert Phase.from_dict(d) == ns()
    d["greenTime"] = 3
    with refused("unknown keys", "greenTime"):
        Phase.from_dict(d)


# ------------------------------------------------------------------ TimingPlan


def test_plan_figures() -> None:
    p = plan()
    assert p.cycle_s == pytest.approx(35.5 + 25.0)
    assert p.n_links == 6
    assert p.lost_time_s == pytest.approx(3.5 + 2.0 + 4.0 + 1.0)
    assert p.phase_starts_s() == [0.0, 35.5]
    assert p.ped_links == PED


def test_plan_refuses_states_of_different_lengths() -> None:
    with refused("phase states differ in length", "[5, 6]"):
        plan(phases=(ns(), ew(state="rrGGr")))


def test_plan_refuses_ped_link_out_of_range() -> None:
    with refused("ped_links outside the 6 link indices", "[6]"):
        plan(ped_links=frozenset({4, 6}))
    with refused("ped_links outside", "[-1]"):
        plan(ped_links=frozenset({-1}))


@pytest.mark.parametrize("offset", [60.5, 61.0, 1000.0])
def test_plan_refuses_offset_at_or_above_cycle(offset: float) -> None:
    with refused("offset_s must be below the cycle 60.5 s", f"({offset:g})"):
        plan(offset_s=offset)


def test_plan_refuses_negative_offset() -> None:
    with refused("offset_s must be finite and >= 0", "(-1.0)"):
        plan(offset_s=-1.0)


def test_plan_refuses_walk_without_a_green_crossing() -> None:
    with refused("has a walk but gives green to no crossing", NS):
        plan(ped_links=frozenset({3}))  # link 3 is red in NS: its walk serves nobody


def test_plan_refuses_no_phases() -> None:
    with refused("at least one phase"):
        TimingPlan("toy", ())


def test_with_timings_is_validated() -> None:
    p = plan().with_timings([40.0, 10.0], offset_s=5.0)
    assert [ph.green_s for ph in p.phases] == [40.0, 10.0]
    assert p.offset_s == 5.0 and p.cycle_s == pytest.approx(60.5)
    with refused("green_s 5 s", "below its minimum (7 s)"):
        plan().with_timings([30.0, 5.0])
    with refused("3 greens for 2 phases"):
        plan().with_timings([30.0, 20.0, 10.0])
    with refused("offset_s must be below the cycle"):
        plan().with_timings([30.0, 20.0], offset_s=60.5)


def test_plan_dict_round_trip() -> None:
    p = plan()
    d = p.to_dict()
    assert d["cycle_s"] == pytest.approx(60.5)
    assert TimingPlan.from_dict(d) == p


def test_from_dict_refuses_splits_not_summing_to_the_cycle() -> None:
    d = plan().to_dict()
    d["cycle_s"] = 90
    with refused("splits sum to 60.5 s", "not the stated cycle", "(90)"):
        TimingPlan.from_dict(d)


def test_from_dict_refuses_unknown_keys() -> None:
    d = plan().to_dict()
    d["cycle"] = 60.5
    with refused("unknown keys", "cycle"):
        TimingPlan.from_dict(d)


def test_from_dict_runs_phase_checks() -> None:
    d = plan().to_dict()
    d["phases"][1]["yellow_s"] = 2.0
    with refused("yellow_s 2 s cuts the minimum yellow (4 s)"):
        TimingPlan.from_dict(d)


# ------------------------------------------------------------------ PlanSet


def test_planset_refuses_a_signal_twice() -> None:
    with refused("signal listed twice", "toy"):
        PlanSet((plan(), plan(offset_s=0.0)))


def test_planset_lookup_replace_and_round_trip() -> None:
    a, b = plan(), plan(signal_id="other", offset_s=0.0)
    ps = PlanSet((a, b), name="x")
    assert ps.signal_ids == ("toy", "other") and len(ps) == 2 and ps["other"] is b
    with pytest.raises(KeyError):
        ps["missing"]
    new = ps.replace_plans([plan(offset_s=20.0)], name="y")
    assert new.signal_ids == ("toy", "other") and new["toy"].offset_s == 20.0 and new["other"] is b
    assert new.name == "y"
    assert PlanSet.from_dict(ps.to_dict()) == ps


# ------------------------------------------------------------------ SUMO form


def test_sumo_phases_walk_clearance_yellow_all_red() -> None:
    out = plan().sumo_phases()
    assert out == [
        (20.0, "GGrrGG"),  # walk: green - ped clearance
        (10.0, "GGrrrG"),  # pedestrian clearance: crossing red, vehicles keep green
        (3.5, "yyrrrG"),  # yellow: losing links y, link 5 keeps its green
        (2.0, "rrrrrG"),  # all-red
        (20.0, "rrGGrG"),
        (4.0, "rryyrG"),
        (1.0, "rrrrrG"),
    ]


def test_sumo_phases_sum_to_the_cycle_and_keep_state_length() -> None:
    p = plan()
    out = p.sumo_phases()
    assert sum(d for d, _ in out) == pytest.approx(p.cycle_s)
    assert {len(s) for _, s in out} == {p.n_links}


def test_link_green_in_both_stages_keeps_green_through_the_change() -> None:
    out = plan().sumo_phases()
    assert all(s[5] == "G" for _, s in out)
    # a link losing the right of way shows yellow then red, never green into a foe's green
    ns_green = {0, 1}
    change = [s for _, s in out[2:4]]
    assert [s[0] for s in change] == ["y", "r"] and [s[1] for s in change] == ["y", "r"]
    assert all(s[k] not in "Gg" for s in change for k in ns_green)


def test_crossing_is_red_during_change_even_if_the_next_stage_walks() -> None:
    # the same crossing walks in both stages: it still clears before the yellow
    a = ns()
    b = ew(state="rrGGGG", walk_s=7.0, ped_clearance_s=10.0, green_s=20.0)
    out = TimingPlan("toy", (a, b), ped_links=PED).sumo_phases()
    assert [s for _, s in out] == ["GGrrGG", "GGrrrG", "yyrrrG", "rrrrrG", "rrGGGG", "rrGGrG", "rryyrG", "rrrrrG"]
    assert [d for d, _ in out] == [20.0, 10.0, 3.5, 2.0, 10.0, 10.0, 4.0, 1.0]


def test_phase_without_walk_shows_its_crossings_red() -> None:
    # a crossing link G in the state but no walk promised: pedestrians never get a walk
    p = TimingPlan("toy", (ns(walk_s=0.0, ped_clearance_s=0.0), ew()), ped_links=PED)
    out = p.sumo_phases()
    assert out[0] == (30.0, "GGrrrG")
    assert all(s[4] == "r" for _, s in out)


def test_special_link_states_survive_the_change() -> None:
    # 'O' (off, uncontrolled) and 's' (stop) links are not turned red in the change interval
    p = TimingPlan("x", (Phase("a", "GrO", 10.0, 3.0, 1.0), Phase("b", "rGO", 10.0, 3.0, 1.0)))
    assert p.sumo_phases() == [(10.0, "GrO"), (3.0, "yrO"), (1.0, "rrO"), (10.0, "rGO"), (3.0, "ryO"),
                               (1.0, "rrO")]


def test_zero_all_red_is_left_out() -> None:
    p = TimingPlan("x", (Phase("a", "Gr", 10.0, 3.0, 0.0), Phase("b", "rG", 12.0, 3.0, 0.0)))
    assert p.sumo_phases() == [(10.0, "Gr"), (3.0, "yr"), (12.0, "rG"), (3.0, "ry")]


@st.composite
def toy_plans(draw) -> TimingPlan:
    """Valid plans on the toy signal with random timings (0.1 s precision)."""
    tenth = st.integers(min_value=0, max_value=600).map(lambda k: k / 10)
    clearance = draw(st.integers(0, 200)) / 10
    a = ns(green_s=7.0 + clearance + draw(tenth), yellow_s=3.5 + draw(tenth) / 10,
           all_red_s=1.5 + draw(tenth) / 20, ped_clearance_s=clearance)
    b = ew(green_s=7.0 + draw(tenth), yellow_s=4.0 + draw(tenth) / 10, all_red_s=draw(tenth) / 20)
    phases = (a, b) if draw(st.booleans()) else (b, a)
    cycle = sum(p.split_s for p in phases)
    offset = draw(st.floats(min_value=0.0, max_value=cycle - 0.01))
    return TimingPlan("toy", phases, offset_s=offset, ped_links=PED)


@PROPERTY
@given(toy_plans())
def test_sumo_phases_properties(p: TimingPlan) -> None:
    out = p.sumo_phases()
    assert sum(d for d, _ in out) == pytest.approx(p.cycle_s, abs=1e-3)
    assert all(d > 0 for d, _ in out)
    # per stage: walk, then clearance, then yellow, then all-red
    kinds = []
    for _, s in out:
        kinds.append("Y" if "y" in s else ("W" if s[4] == "G" else ("R" if s[:4] == "rrrr" else "G")))
    text = "".join(kinds)
    assert re.fullmatch(r"(W?G?YR?)+", text), text
    # the walk lasts at least walk_s and the clearance exactly ped_clearance_s
    walk = sum(d for d, s in out if s[4] == "G")
    assert walk >= 7.0 - 1e-6
    a = next(ph for ph in p.phases if ph.name == "NS")
    assert walk == pytest.approx(a.green_s - a.ped_clearance_s, abs=1e-3)
    # a link is never green in a state right after it showed yellow (y -> r -> next green)
    for (_, s1), (_, s2) in zip(out, out[1:] + out[:1]):
        for k in range(p.n_links):
            if s1[k] == "y":
                assert s2[k] == "r"
    # TimingPlan survives its own dict form
    assert TimingPlan.from_dict(p.to_dict()) == p
