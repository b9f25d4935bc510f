"""Safety check (signalopt.safety): a catalogue of unsafe plans, each refused with its rule and value.

The check recomputes every requirement from the network, so plans are held
to it whatever minimums they promise.  Some unsafe plans cannot even be
constructed (the plan refuses them first); those are also forged past the
constructor to show the safety check catches them on its own.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from signalopt.encoding import make_encoding
from signalopt.errors import PlanError, UnsafePlanError
from signalopt.network import Network, read_network
from signalopt.plan import Phase, PlanSet, TimingPlan
from signalopt.programs import existing_plans, stage_requirements
from signalopt.safety import MAX_CYCLE_S, Violation, check_plan, check_plans, interval_cuts, validate_plans
from signalopt.options import TimingOptions

ROOT = Path(__file__).resolve().parents[1]
ISOLATED = ROOT / "networks" / "isolated" / "isolated.net.xml"
QIXIANGTAI = ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml"
TIMING = TimingOptions()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALOPT_CACHE", str(tmp_path / "cache"))


@functools.cache
def net(path: Path) -> Network:
    return read_network(path)


@functools.cache
def safe(path: Path) -> PlanSet:
    """A plan set signalopt built (the middle of the encoding box): safe by construction."""
    base = existing_plans(net(path), TIMING)[0]
    enc = make_encoding(net(path), base, TIMING)
    return enc.decode(np.full(enc.size, 0.5))


def forge(obj, **changes):
    """A copy of a frozen plan object with fields set past its constructor's checks."""
    new = copy.copy(obj)
    for k, v in changes.items():
        object.__setattr__(new, k, v)
    return new


def with_phase(plan: TimingPlan, i: int, phase: Phase) -> TimingPlan:
    phases = list(plan.phases)
    phases[i] = phase
    return forge(plan, phases=tuple(phases))


def rules(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(v.phase, v.rule) for v in violations}


def only(violations: list[Violation], rule: str) -> Violation:
    hits = [v for v in violations if v.rule == rule]
    assert len(hits) == 1, [str(v) for v in violations]
    return hits[0]


# ------------------------------------------------------------------ safe plans


@pytest.mark.parametrize("path", [ISOLATED, QIXIANGTAI], ids=["isolated", "qixiangtai"])
def test_plans_signalopt_builds_pass(path: Path) -> None:
    plans = safe(path)
    assert check_plans(plans, net(path)) == []
    assert validate_plans(plans, net(path)) is plans


def test_bundled_existing_plans_cut_ite_clearances() -> None:
    """Known property of the old plans: 3 s yellows under the ITE 3.3 s at 50 km/h, 2 s all-reds under ITE."""
    iso = check_plans(existing_plans(net(ISOLATED), TIMING)[0], net(ISOLATED))
    assert "center stage 1: yellow cut (3 s; limit 3.3 s (ITE, >= 3 s))" in [str(v) for v in iso]
    assert {v.rule for v in iso} == {"yellow cut", "all-red cut"}
    assert len([v for v in iso if v.rule == "yellow cut"]) == 4
    qx = check_plans(existing_plans(net(QIXIANGTAI), TIMING)[0], net(QIXIANGTAI))
    texts = [str(v) for v in qx]
    assert "weidi stage 1: yellow cut (3 s; limit 3.3 s (ITE, >= 3 s))" in texts
    assert "weidi stage 2: all-red cut (2 s; limit 3 s (ITE))" in texts
    # no conflicting greens: the permissive right turns 'g' yield to the crossings they cut
    assert {v.rule for v in qx} == {"yellow cut", "all-red cut"}
    # Weidi's 4 s yellows on the 60 km/h Weidi Rd meet ITE (3.8 s)
    assert not any(v.signal_id == "weidi" and v.phase in ("stage 3", "stage 4") and v.rule == "yellow cut"
                   for v in qx)
    with pytest.raises(UnsafePlanError) as info:
        validate_plans(existing_plans(net(QIXIANGTAI), TIMING)[0], net(QIXIANGTAI), source="existing")
    assert len(info.value.violations) == len(qx) == 21
    assert str(info.value).startswith("existing: unsafe plan, 21 violation(s): ")


# ------------------------------------------------------------------ the catalogue


def foe_pair(signal, stage_state: str) -> tuple[int, int]:
    """A link green in ``stage_state`` and a red link that is its SUMO foe."""
    greens = [k for k, c in enumerate(stage_state) if c == "G" and k not in signal.ped_links]
    reds = [k for k, c in enumerate(stage_state) if c == "r" and k not in signal.ped_links]
    for a in greens:
        for b in reds:
            if signal.are_foes(a, b):
                return a, b
    raise AssertionError("no foe pair")


@pytest.mark.parametrize(("path", "sid"), [(ISOLATED, "center"), (QIXIANGTAI, "weidi"), (QIXIANGTAI, "pingshan")],
                         ids=["center", "weidi", "pingshan"])
def test_conflicting_greens(path: Path, sid: str) -> None:
    signal = net(path).signal(sid)
    plan = safe(path)[sid]
    stage = plan.phases[1]
    a, b = foe_pair(signal, stage.state)
    bad_state = stage.state[:b] + "G" + stage.state[b + 1:]
    # constructible: a plan does not know the network's foes, the check does
    bad = TimingPlan(sid, tuple(replace(p, state=bad_state) if i == 1 else p for i, p in enumerate(plan.phases)),
                     offset_s=plan.offset_s, ped_links=plan.ped_links)
    v = check_plan(bad, net(path), TIMING)
    conflict = [x for x in v if x.rule == "conflicting movements green together"]
    assert conflict, [str(x) for x in v]
    assert any(x.value == f"links {min(a, b)} and {max(a, b)}" for x in conflict)
    assert all(x.phase.startswith("state ") for x in conflict)
    with pytest.raises(UnsafePlanError, match="conflicting movements green together"):
        validate_plans(PlanSet((bad,)), net(path))


def test_permissive_green_that_does_not_yield_is_a_conflict() -> None:
    # making the yielding right turns 'G' (priority) where they cross a walking crossing is refused
    signal = net(QIXIANGTAI).signal("pingshan")
    plan = safe(QIXIANGTAI)["pingshan"]
    stage = plan.phases[1]
    assert "g" in stage.state
    bad = plan.phases[1].state.replace("g", "G")
    bad_plan = TimingPlan("pingshan", tuple(replace(p, state=bad) if i == 1 else p for i, p in enumerate(plan.phases)),
                          offset_s=plan.offset_s, ped_links=plan.ped_links)
    conflicts = [v for v in check_plan(bad_plan, net(QIXIANGTAI), TIMING)
                 if v.rule == "conflicting movements green together"]
    assert conflicts
    for v in conflicts:
        a, b = (int(x) for x in v.value.removeprefix("links ").split(" and "))
        assert signal.are_foes(a, b) and (a in signal.ped_links or b in signal.ped_links)


def test_two_second_yellow() -> None:
    plan = safe(ISOLATED)["center"]
    # the plan itself refuses it ...
    with pytest.raises(PlanError, match=r"yellow_s 2 s cuts the minimum yellow \(3\.3 s\)"):
        replace(plan.phases[0], yellow_s=2.0)
    with pytest.raises(PlanError, match=r"min_yellow_s below the 3 s floor \(2\)"):
        replace(plan.phases[0], yellow_s=2.0, min_yellow_s=2.0)
    # ... and a plan forged past the constructor is still refused by the check
    bad = with_phase(plan, 0, forge(plan.phases[0], yellow_s=2.0, min_yellow_s=2.0))
    v = only(check_plan(bad, net(ISOLATED), TIMING), "yellow cut")
    assert (v.phase, v.value) == ("stage 1", "2 s")
    assert v.limit.startswith("3.3 s")


def test_yellow_under_ite() -> None:
    # 3 s promised and given, above the MUTCD floor, but under ITE's 3.3 s at 50 km/h
    plan = safe(ISOLATED)["center"]
    ph = replace(plan.phases[2], yellow_s=3.0, min_yellow_s=3.0, all_red_s=plan.phases[2].all_red_s + 0.3)
    bad = with_phase(plan, 2, ph)
    v = only(check_plan(bad, net(ISOLATED), TIMING), "yellow cut")
    assert str(v) == "center stage 3: yellow cut (3 s; limit 3.3 s (ITE, >= 3 s))"
    # a faster approach needs a longer yellow: 60 km/h Weidi Rd, 1 + 16.67 / 6.1 = 3.73 -> 3.8 s
    weidi = safe(QIXIANGTAI)["weidi"]
    i = next(k for k, p in enumerate(weidi.phases) if p.min_yellow_s >= 3.8)
    ph = replace(weidi.phases[i], yellow_s=3.5, min_yellow_s=3.0)
    v = only(check_plan(with_phase(weidi, i, ph), net(QIXIANGTAI), TIMING), "yellow cut")
    assert (v.value, v.limit) == ("3.5 s", "3.8 s (ITE, >= 3 s)")


def test_all_red_under_ite() -> None:
    plan = safe(ISOLATED)["center"]
    ph = replace(plan.phases[1], all_red_s=1.0, min_all_red_s=0.0)
    v = only(check_plan(with_phase(plan, 1, ph), net(ISOLATED), TIMING), "all-red cut")
    assert (v.phase, v.value) == ("stage 2", "1 s")
    assert v.limit == f"{plan.phases[1].min_all_red_s:g} s (ITE)"


def test_green_under_the_pedestrian_minimum() -> None:
    plan = safe(QIXIANGTAI)["pingshan"]
    i = next(k for k, p in enumerate(plan.phases) if p.serves_pedestrians)
    ph = plan.phases[i]
    need = ph.walk_s + ph.ped_clearance_s  # 7 + 16 m / 1.2 m/s -> 20.4 s
    assert need == pytest.approx(20.4)
    # the plan refuses a green under its own walk + clearance ...
    with pytest.raises(PlanError, match=r"green_s 15 s is below its minimum \(20\.4 s\)"):
        replace(ph, green_s=15.0)
    # ... and a phase that promises no walk while giving its crossings green is caught by the check
    short = replace(ph, green_s=15.0, walk_s=0.0, ped_clearance_s=0.0)
    violations = check_plan(with_phase(plan, i, short), net(QIXIANGTAI), TIMING)
    v = only(violations, "green below pedestrian minimum (walk + clearance)")
    assert (v.value, v.limit) == ("15 s", "20.4 s")
    v = only(violations, "pedestrian clearance cut")
    assert (v.value, v.limit) == ("0 s", "13.4 s")


def test_green_under_the_vehicle_minimum() -> None:
    plan = safe(ISOLATED)["center"]
    ph = replace(plan.phases[1], min_green_s=3.0, green_s=4.0)  # promises 3 s: constructible
    v = only(check_plan(with_phase(plan, 1, ph), net(ISOLATED), TIMING), "green below vehicle minimum")
    assert (v.value, v.limit) == ("4 s", "7 s")
    left = replace(plan.phases[0], min_green_s=3.0, green_s=4.0)  # left-only stage: 5 s minimum
    v = only(check_plan(with_phase(plan, 0, left), net(ISOLATED), TIMING), "green below vehicle minimum")
    assert v.limit == "5 s"


@pytest.mark.parametrize("offset", [-5.0, "cycle", "cycle+10"])
def test_offset_outside_the_cycle(offset) -> None:
    plan = safe(ISOLATED)["center"]
    value = {"cycle": plan.cycle_s, "cycle+10": plan.cycle_s + 10}.get(offset, offset)
    # construction refuses it ...
    with pytest.raises(PlanError, match="offset_s"):
        replace(plan, offset_s=value)
    # ... and so does the check
    bad = forge(plan, offset_s=value)
    v = only(check_plan(bad, net(ISOLATED), TIMING), "offset outside [0, cycle)")
    assert (v.value, v.limit) == (f"{value:g} s", f"{plan.cycle_s:g} s")


def test_cycle_longer_than_controllers_accept() -> None:
    plan = safe(ISOLATED)["center"]
    ph = replace(plan.phases[1], max_green_s=300.0, green_s=250.0)
    bad = with_phase(plan, 1, ph)
    v = only(check_plan(bad, net(ISOLATED), TIMING), "cycle longer than controllers accept")
    assert v.limit == f"{MAX_CYCLE_S:g} s"


def test_crossings_missing_from_the_plan() -> None:
    plan = safe(QIXIANGTAI)["pingquan"]
    bad = forge(plan, ped_links=frozenset(sorted(plan.ped_links)[:2]))
    v = only(check_plan(bad, net(QIXIANGTAI), TIMING), "crossing links differ from the network")
    assert v.value == str(sorted(plan.ped_links)[:2]) and v.limit == str(sorted(plan.ped_links))


def test_a_stage_left_out_leaves_a_movement_unserved() -> None:
    plan = safe(ISOLATED)["center"]
    kept = plan.phases[:1] + plan.phases[2:]  # nothing conflicts, but the second stage's links never go green
    bad = forge(plan, phases=kept, offset_s=0.0)
    lost = sorted({k for k, c in enumerate(plan.phases[1].state) if c in "Gg"}
                  - {k for ph in kept for k, c in enumerate(ph.state) if c in "Gg"})
    assert lost  # the stage served links no other stage does
    v = only(check_plan(bad, net(ISOLATED), TIMING), "movement never served (no green in any stage)")
    assert v.value == f"links {', '.join(map(str, lost))}"


def test_wrong_signal_or_link_count() -> None:
    plan = safe(ISOLATED)["center"]
    v = check_plan(replace(plan, signal_id="nowhere"), net(ISOLATED), TIMING)
    assert [(x.rule, x.value) for x in v] == [("signal not in the network", "nowhere")]
    short = TimingPlan("center", tuple(replace(p, state=p.state[:8], change=()) for p in plan.phases
                                       if set(p.state[:8]) & {"G", "g"}))
    v = check_plan(short, net(ISOLATED), TIMING)
    assert [(x.rule, x.value, x.limit) for x in v] == [("state length differs from the signal's links", "8", "16")]


def test_every_violation_is_listed() -> None:
    plan = safe(ISOLATED)["center"]
    ph0 = forge(plan.phases[0], yellow_s=2.0, min_yellow_s=2.0)
    ph1 = replace(plan.phases[1], all_red_s=0.5, min_all_red_s=0.0)
    bad = forge(plan, phases=(ph0, ph1, *plan.phases[2:]))
    bad = forge(bad, offset_s=bad.cycle_s + 1)
    found = rules(check_plan(bad, net(ISOLATED), TIMING))
    assert {("stage 1", "yellow cut"), ("stage 2", "all-red cut"), ("-", "offset outside [0, cycle)")} <= found
    with pytest.raises(UnsafePlanError) as info:
        validate_plans(PlanSet((bad, )), net(ISOLATED), source="plans.json")
    assert len(info.value.violations) == len(found)
    assert str(info.value).startswith(f"plans.json: unsafe plan, {len(found)} violation(s)")


def test_staggered_interstage_checked_link_by_link() -> None:
    """A programmed interstage that turns one link straight from green to red is refused for that link."""
    plan = safe(ISOLATED)["center"]
    ph = plan.phases[0]
    assert ph.change, "plans built on the existing programme keep its interstage"
    (y_dur, y_state), *rest = ph.change
    k = y_state.index("y")
    cut = y_state[:k] + "r" + y_state[k + 1:]
    bad = forge(plan, phases=(replace(ph, change=((y_dur, cut), *rest)), *plan.phases[1:]))
    v = only(check_plan(bad, net(ISOLATED), TIMING), "green ends without yellow")
    assert v.phase == f"link {k}"


# ------------------------------------------------------------------ a fixed clearance standard

#: An agency that sets every yellow to 3 s and asks for no all-red by policy (timing.yellow_s, all_red_s).
STANDARD = TimingOptions(yellow_s=3.0, all_red_s=0.0)


def test_fixed_standard_replaces_ite_and_never_shortens_the_programme() -> None:
    """Under a 3 s / 0 s standard the bundled programmes' 3 s yellows are safe; built plans keep every interval
    the programme runs longer (Weidi's 4 s yellows, the 2 s all-reds) and still cannot go under the standard."""
    for path in (ISOLATED, QIXIANGTAI):
        existing, warnings = existing_plans(net(path), STANDARD)
        assert warnings == [] and check_plans(existing, net(path), timing=STANDARD) == []
        enc = make_encoding(net(path), existing, STANDARD)
        built = enc.decode(np.full(enc.size, 0.5))
        assert check_plans(built, net(path), timing=STANDARD) == []
        for old, new in zip(existing, built):
            assert [(p.yellow_s, p.all_red_s) for p in new.phases] == [(p.yellow_s, p.all_red_s)
                                                                         for p in old.phases]
    assert {p.yellow_s for p in existing_plans(net(QIXIANGTAI), STANDARD)[0]["weidi"].phases} == {3.0, 4.0}
    plan = safe(ISOLATED)["center"]
    short = with_phase(plan, 0, forge(plan.phases[0], yellow_s=2.9, min_yellow_s=2.9))
    assert str(only(check_plan(short, net(ISOLATED), STANDARD), "yellow cut")) == \
        "center stage 1: yellow cut (2.9 s; limit 3 s (standard, >= 3 s))"
    # a standard all-red of 1 s holds a plan to it where ITE would ask for more or less
    one = TimingOptions(all_red_s=1.0)
    bare = with_phase(plan, 1, forge(plan.phases[1], all_red_s=0.5, min_all_red_s=0.5))
    assert str(only(check_plan(bare, net(ISOLATED), one), "all-red cut")) == \
        "center stage 2: all-red cut (0.5 s; limit 1 s (standard))"
    assert one.clearance_rule == "yellow ITE, all-red standard 1 s" and TIMING.clearance_rule == "ITE clearances"


def test_a_standard_above_ite_raises_every_yellow_and_holds_plans_to_it() -> None:
    """A 4 s standard yellow is above ITE's 3.3 s at 50 km/h: built plans get it and a 3.5 s yellow is refused;
    a stage after which no vehicle stops (the next stage keeps every green) needs no change interval at all."""
    four = TimingOptions(yellow_s=4.0, all_red_s=1.5)
    existing = existing_plans(net(ISOLATED), four)[0]
    enc = make_encoding(net(ISOLATED), existing, four)
    built = enc.decode(np.full(enc.size, 0.5))["center"]
    assert {(p.yellow_s, p.all_red_s) for p in built.phases} == {(4.0, 2.0)}  # the programme's 2 s all-red stays
    short = with_phase(built, 0, forge(built.phases[0], yellow_s=3.5, min_yellow_s=3.5))
    assert str(only(check_plan(short, net(ISOLATED), four), "yellow cut")) == \
        "center stage 1: yellow cut (3.5 s; limit 4 s (standard, >= 3 s))"
    assert check_plan(short, net(ISOLATED), TimingOptions(all_red_s=1.5)) == []  # ITE's yellow is only 3.3 s
    state = built.phases[0].state
    carried = stage_requirements(net(ISOLATED).signal("center"), state, state, four)
    assert (carried.min_yellow_s, carried.min_all_red_s) == (0.0, 0.0)


@pytest.mark.parametrize(("field", "value"), [("yellow_s", 2.5), ("yellow_s", 6.5), ("all_red_s", -1.0),
                                               ("all_red_s", 7.0), ("yellow_s", True), ("yellow_s", 3.05)])
def test_fixed_standard_out_of_range_is_refused(field: str, value: object) -> None:
    with pytest.raises(PlanError, match=rf"timing\.{field} .*\({re.escape(repr(value))}\)"):
        TimingOptions(**{field: value})


def test_validate_and_export_hold_a_plan_file_to_the_standard_it_was_built_under(tmp_path, capsys) -> None:
    """A plan file records the timing options its plans were built under (run_provenance); validate and export
    check it against them: plans built under a 3 s / 0 s standard pass and export, the same plans without the
    record are held to ITE and refused, and a record out of range is a one-line error naming the file."""
    from signalopt.formats.planfile import write_plans
    from signalopt.provenance import TIMING_KEY, timing_fields
    from test_bad_input import assert_one_line_error, run_cli

    existing = existing_plans(net(ISOLATED), STANDARD)[0]
    enc = make_encoding(net(ISOLATED), existing, STANDARD)
    built = enc.decode(np.full(enc.size, 0.5))
    recorded = write_plans(built, tmp_path / "standard.json", provenance={TIMING_KEY: timing_fields(STANDARD)})
    code, out, err = run_cli(["validate", str(recorded), "--network", str(ISOLATED)], capsys)
    assert code == 0 and "safe" in out, err
    code, _, err = run_cli(["export", str(recorded), "--network", str(ISOLATED), "--format", "ntcip",
                            "--out", str(tmp_path / "sheet.csv")], capsys)
    assert code == 0 and (tmp_path / "sheet.csv").exists(), err
    bare = write_plans(built, tmp_path / "bare.json")
    code, out, err = run_cli(["validate", str(bare), "--network", str(ISOLATED)], capsys)
    assert code == 2 and "yellow cut" in out and "(ITE, >= 3 s)" in out
    bad = write_plans(built, tmp_path / "bad.json", provenance={TIMING_KEY: {"yellow_s": 2.0}})
    assert_one_line_error(*run_cli(["export", str(bad), "--network", str(ISOLATED), "--format", "json",
                                    "--out", str(tmp_path / "x.json")], capsys), "bad.json", "yellow_s", "2")
    assert not (tmp_path / "x.json").exists()


def test_a_retiming_never_shortens_a_change_interval_the_street_runs() -> None:
    """Under a 3 s / 0 s standard Weidi's 4 s yellows and the corridor's 2 s all-reds are above the minimum; a
    retiming that shortens one passes the rules but not the comparison with the existing timing."""
    existing = existing_plans(net(QIXIANGTAI), STANDARD)[0]
    enc = make_encoding(net(QIXIANGTAI), existing, STANDARD)
    built = enc.decode(np.full(enc.size, 0.5))
    assert interval_cuts(built, existing) == []
    weidi = built["weidi"]
    i = next(k for k, p in enumerate(weidi.phases) if p.yellow_s == 4.0)
    ph = weidi.phases[i]
    cut = with_phase(weidi, i, replace(ph, yellow_s=3.0, min_yellow_s=3.0, all_red_s=0.0, min_all_red_s=0.0,
                                       green_s=ph.green_s + 1.0 + ph.all_red_s))
    plans = built.replace_plans((cut,))
    assert check_plans(plans, net(QIXIANGTAI), timing=STANDARD) == []
    found = [str(v) for v in interval_cuts(plans, existing)]
    assert found == [f"weidi {ph.name}: yellow shorter than the existing timing's (3 s; limit 4 s (existing))",
                     f"weidi {ph.name}: all-red shorter than the existing timing's (0 s; limit 2 s (existing))"]
    with pytest.raises(UnsafePlanError, match="2 violation"):
        validate_plans(plans, net(QIXIANGTAI), timing=STANDARD, existing=existing, source="retimed")
    assert validate_plans(plans, net(QIXIANGTAI), timing=STANDARD) is plans
