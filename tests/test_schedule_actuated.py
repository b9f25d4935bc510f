"""Time-of-day schedules with actuated plans: switched in the running simulation by signalopt's controller
(signalopt._schedule_run), never by a WAUT, and exported with the second maximum (NTCIP phaseMaximum2).

The switching is measured in real SUMO on the bundled isolated junction: a day of free actuated periods with
different maxima and passage times, a fixed-time period between them, every indication checked.
"""

from __future__ import annotations

import functools
import json
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from test_actuated import actuated, base, net, ISOLATED
from test_bad_input import assert_one_line_error, run_cli

from signalopt._sumo_run import Task, run_task
from signalopt.errors import PlanError
from signalopt.export import export_schedule, schedule_ntcip_units
from signalopt.formats.ntcip import COORD_MAXIMUM_MODES
from signalopt.formats.sumo import schedule_programs_additional, waut_additional
from signalopt.plan import GREEN_CHARS, PlanSet, TimingPlan
from signalopt.prepare import prepare
from signalopt.roundtrip import _merged, _runs, state_violations
from signalopt.scenario import read_scenario
from signalopt.schedule import Schedule, SchedulePeriod

ROOT = Path(__file__).resolve().parents[1]


def day(plans: list[TimingPlan], begin_s: float = 0.0, end_s: float = 3600.0) -> Schedule:
    step = (end_s - begin_s) / len(plans)
    return Schedule("day", tuple(SchedulePeriod(f"P{k + 1}", begin_s + k * step, begin_s + (k + 1) * step,
                                                PlanSet((plan,))) for k, plan in enumerate(plans)))


def coordinated(plan: TimingPlan) -> TimingPlan:
    return replace(plan, actuation=replace(plan.actuation, mode="coordinated"))


# pure -------------------------------------------------------------------------------------------------------
def test_a_schedule_refuses_plans_run_in_nema_naming_period_signal_and_why() -> None:
    with pytest.raises(PlanError, match=r"period 'P2' runs signal center actuated in SUMO's NEMA .*\(coordinated\)"):
        day([actuated(), coordinated(actuated())])
    plan = actuated()
    skipping = replace(plan, actuation=replace(plan.actuation, stages=(
        replace(plan.actuation.stages[0], recall="none"), *plan.actuation.stages[1:])))
    with pytest.raises(PlanError, match=r"period 'P1' .*\(skipping stages \(recall none\)\)"):
        day([skipping, plan])


def test_a_waut_refuses_to_switch_actuated_plans() -> None:
    fixed = base()["center"]
    assert not day([fixed, fixed]).actuated
    sched = day([fixed, actuated()])
    assert sched.actuated
    with pytest.raises(PlanError, match="WAUT cannot switch"):
        waut_additional(sched)


def test_every_period_gets_its_own_programme_and_loops_period_zero_last() -> None:
    sched = day([actuated(40.0), actuated(20.0, passage_s=1.5, distance_m=50.0), base()["center"]])
    root = ET.fromstring(schedule_programs_additional(sched, program_prefix="so-"))
    programs = [el.get("programID") for el in root.iter("tlLogic")]
    assert programs == ["so-p1", "so-p2", "so-p0"]  # SUMO runs the last programme it loads
    loops = [el.get("id") for el in root.iter("inductionLoop")]
    assert len(loops) == len(set(loops)) == 2 * len(actuated().actuation.detectors)
    for logic in root.iter("tlLogic"):
        own = {p.get("value") for p in logic.iter("param") if not p.get("key").startswith("max-gap")}
        if logic.get("type") == "actuated":  # each actuated programme reads only its own loops
            assert own and all(i.endswith("|" + logic.get("programID")) for i in own)
    far = {el.get("id"): float(el.get("pos")) for el in root.iter("inductionLoop") if el.get("id").endswith("p1")}
    near = {el.get("id"): float(el.get("pos")) for el in root.iter("inductionLoop") if el.get("id").endswith("p0")}
    assert min(far.values()) < min(near.values())  # 50 m from the stop line lies upstream of 30 m


def _actions(units: dict) -> list[int]:
    return [row["actionCoordMaximumMode"] for row in units["center"]["actionTable"]]


def _maxima(units: dict) -> list[tuple[int, int]]:
    return [(row["phaseMaximum1"], row["phaseMaximum2"]) for row in units["center"]["phaseTable"]]


def test_ntcip_export_puts_a_second_set_of_maxima_in_phase_maximum_2() -> None:
    long_, short = actuated(40.0), actuated(20.0)
    units = schedule_ntcip_units(day([long_, short, long_, base()["center"]]), net())
    modes = COORD_MAXIMUM_MODES
    assert _actions(units) == [modes["maximum1"], modes["maximum2"], modes["maximum1"], modes["maxInhibit"]]
    alone = schedule_ntcip_units(day([long_]), net())
    short_alone = schedule_ntcip_units(day([short]), net())
    assert _maxima(units) == [(m1, m2) for (m1, _), (m2, _) in zip(_maxima(alone), _maxima(short_alone))]
    assert all(m1 > m2 for m1, m2 in _maxima(units))
    fixed_only = schedule_ntcip_units(day([base()["center"]] * 2), net())
    assert _actions(fixed_only) == [modes["maxInhibit"]] * 2


def test_ntcip_export_refuses_what_one_phase_table_cannot_hold() -> None:
    with pytest.raises(PlanError, match="ask for 3 sets of actuated maxima"):
        schedule_ntcip_units(day([actuated(40.0), actuated(30.0), actuated(20.0)]), net())
    with pytest.raises(PlanError, match="phasePassage 15 .* keeps one of each per phase"):
        schedule_ntcip_units(day([actuated(40.0), actuated(40.0, passage_s=1.5)]), net())
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(PlanError, match="sumo schedule export refused"):
        export_schedule(day([actuated(40.0), actuated(20.0)]), "sumo", Path(tmp) / "day.add.xml", network=net())


def test_the_cli_validates_and_exports_a_schedule_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "day.json"
    path.write_text(json.dumps(day([actuated(40.0), actuated(20.0), base()["center"]]).to_dict()), encoding="utf-8")
    code, out, _ = run_cli(["validate", str(path), "--network", str(ISOLATED), "--target", "ntcip"], capsys)
    assert code == 0 and "1 signals in 3 periods checked; fits ntcip" in out
    assert run_cli(["export", str(path), "--network", str(ISOLATED), "--format", "ntcip",
                    "--out", str(tmp_path / "day.csv")], capsys)[0] == 0
    assert "2,2,3,P2" in (tmp_path / "day.csv").read_text(encoding="utf-8")  # period 2 runs Max 2
    assert_one_line_error(*run_cli(["export", str(path), "--network", str(ISOLATED), "--format", "sumo",
                                    "--out", str(tmp_path / "day.add.xml")], capsys), "WAUT cannot switch")
    assert not (tmp_path / "day.add.xml").exists()
    fixed = base()["center"]
    cut = replace(fixed, phases=(replace(fixed.phases[0], yellow_s=3.0, min_yellow_s=3.0), *fixed.phases[1:]))
    path.write_text(json.dumps(day([actuated(40.0), cut]).to_dict()), encoding="utf-8")
    code, out, err = run_cli(["validate", str(path), "--network", str(ISOLATED)], capsys)
    assert_one_line_error(code, "", err, "unsafe plan")
    assert "yellow cut" in out  # the table names the cut yellow of the second period


# real SUMO --------------------------------------------------------------------------------------------------
@functools.cache
def _switched_day() -> tuple[Schedule, list[tuple[float, str, str]], object]:
    """The isolated junction's morning under four periods, with every change of indication and programme."""
    prepared = prepare(read_scenario(ROOT / "scenarios" / "isolated.toml"))
    plans = [actuated(40.0), actuated(20.0, passage_s=1.5, distance_m=50.0), base()["center"], actuated(40.0)]
    sched = day(plans, prepared.begin_s, prepared.end_s)
    work = Path(tempfile.mkdtemp(prefix="signalopt-test-"))
    events = work / "events.add.xml"
    events.write_text(f'<additional>\n  <timedEvent type="SaveTLSSwitchStates" dest="{work / "switches.xml"}"/>\n'
                      f'</additional>\n', encoding="utf-8")
    task = Task(replace(prepared, additional_files=(*prepared.additional_files, str(events))), 5, None,
                schedule=sched)
    metrics = run_task(task)
    rows = [(float(el.get("time")), el.get("state"), el.get("programID"))
            for el in ET.parse(work / "switches.xml").getroot().iter("tlsState")]
    return sched, rows, metrics


def test_an_actuated_day_runs_every_period_safely_within_its_own_settings() -> None:
    sched, rows, metrics = _switched_day()
    assert metrics.n_vehicles > 1000 and metrics.teleports == 0
    series = [(t, s) for k, (t, s, _) in enumerate(rows) if k == 0 or rows[k - 1][1] != s]
    signal = net().signal("center")
    fixed = sched.periods[2].plans["center"]
    assert state_violations(signal, fixed, series, begin_s=sched.begin_s, end_s=sched.end_s - 120, step_s=1.0,
                            horizon_s=40.0) == []
    vehicle = [k for k in range(signal.n_links) if not signal.links[k].is_crossing]
    for period in sched.periods:
        plan = period.plans["center"]
        settled = period.begin_s + 2 * 120.0  # the old plan's last cycle and a transition lie before
        for i, ph in enumerate(plan.phases):
            own = [k for k in vehicle if ph.state[k] in GREEN_CHARS
                   and all(q.state[k] not in GREEN_CHARS for j, q in enumerate(plan.phases) if j != i)]
            greens = [e - s for s, e in _merged(_runs(series, own[0], "Gg"), 1.0)
                      if s >= settled and e <= period.end_s]
            assert greens, (period.name, i)
            if plan.actuation is None:
                assert all(abs(g - ph.green_s) <= 1.0 for g in greens), (period.name, i, greens)
            else:
                st = plan.actuation.stages[i]
                assert all(st.min_green_s - 1.0 <= g <= st.max_green_s + 1.0 for g in greens), (period.name, greens)
    second = [g for s, e in _merged(_runs(series, vehicle[0], "Gg"), 1.0) for g in [e - s]]
    assert max(second) > 20.0 + 1.0  # the 40 s periods use more than the 20 s period's maximum


def test_each_switch_waits_for_the_first_stage_after_the_boundary() -> None:
    sched, rows, _ = _switched_day()
    changes = [(t, pid) for k, (t, _, pid) in enumerate(rows) if k > 0 and rows[k - 1][2] != pid]
    first_stage = sched.periods[0].plans["center"].phases[0].state
    # period 2 takes over directly, period 3 (fixed time) after one transition cycle, period 4 directly
    assert [pid for _, pid in changes] == ["so-p1", "so-t", "so-p2", "so-p3"]
    for (t, pid), boundary in zip([changes[0], changes[1], changes[3]], sched.breakpoints_s[1:]):
        assert boundary <= t <= boundary + 4 * 45.0  # within the old plan's longest cycle
        state = next(s for tt, s, p in rows if tt == t and p == pid)
        assert [c in GREEN_CHARS for c in state] == [c in GREEN_CHARS for c in first_stage]
    t_in, t_fixed = changes[1][0], changes[2][0]
    fixed = sched.periods[2].plans["center"]
    assert (t_fixed - fixed.offset_s) % fixed.cycle_s == pytest.approx(0.0, abs=1.0)  # lands on its offset
    assert t_fixed > t_in
