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

from signalopt._schedule_run import check_schedule_runs
from signalopt._sumo_run import Task, run_task
from signalopt.errors import PlanError
from signalopt.export import export_schedule, schedule_ntcip_units
from signalopt.formats.ntcip import COORD_MAXIMUM_MODES
from signalopt.formats.sumo import schedule_programs_additional, waut_additional
from signalopt.options import TimingOptions
from signalopt.plan import GREEN_CHARS, PlanSet, TimingPlan
from signalopt.prepare import prepare
from signalopt.programs import cover_skips
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
def skipping(plan: TimingPlan) -> TimingPlan:
    """``plan`` with its east-west stages on recall none, clearances raised to cover it."""
    recalls = ["min", "min", "none", "none"]
    stages = tuple(replace(st, recall=r) for st, r in zip(plan.actuation.stages, recalls))
    return cover_skips(replace(plan, actuation=replace(plan.actuation, stages=stages)), net().signal("center"),
                       TimingOptions())


def test_coordinated_plans_are_refused_in_simulation_naming_period_signal_and_why() -> None:
    """A schedule with a coordinated-actuated period is a valid file (its NTCIP day plan exports) but is not
    simulated: SUMO's NEMA controller cannot be handed over at a known point.  Skipping stages is simulated."""
    with pytest.raises(PlanError, match=r"period 'P2' runs signal center coordinated actuated, in SUMO's NEMA"):
        check_schedule_runs(day([actuated(), coordinated(actuated())]))
    with pytest.raises(PlanError, match=r"period 'P1' runs signal center coordinated actuated"):
        Task(None, 1, schedule=day([coordinated(actuated()), actuated()]))  # refused before any simulation
    check_schedule_runs(day([skipping(actuated()), actuated()]))
    units = schedule_ntcip_units(day([coordinated(actuated()), base()["center"]]), net())
    assert _actions(units) == [COORD_MAXIMUM_MODES["maxInhibit"]] * 2  # the splits govern


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
    a, b = actuated(40.0), actuated(40.0)
    a = replace(a, actuation=replace(a.actuation, stages=tuple(replace(st, max2_green_s=50.0) for st in a.actuation.stages)))
    b = replace(b, actuation=replace(b.actuation, stages=tuple(replace(st, max2_green_s=60.0) for st in b.actuation.stages)))
    with pytest.raises(PlanError, match=r"second maximums \[50, 60\] s in different periods"):
        schedule_ntcip_units(day([a, b]), net())
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
def _switched_day() -> tuple[Schedule, list[tuple[float, str, str, int]], object]:
    """The isolated junction's morning under four periods (the first skips stages nobody calls), with every
    change of indication and programme."""
    prepared = prepare(read_scenario(ROOT / "scenarios" / "isolated.toml"))
    plans = [skipping(actuated(40.0)), actuated(20.0, passage_s=1.5, distance_m=50.0), base()["center"],
             actuated(40.0)]
    sched = day(plans, prepared.begin_s, prepared.end_s)
    work = Path(tempfile.mkdtemp(prefix="signalopt-test-"))
    events = work / "events.add.xml"
    events.write_text(f'<additional>\n  <timedEvent type="SaveTLSSwitchStates" dest="{work / "switches.xml"}"/>\n'
                      f'</additional>\n', encoding="utf-8")
    task = Task(replace(prepared, additional_files=(*prepared.additional_files, str(events))), 5, None,
                schedule=sched)
    metrics = run_task(task)
    rows = [(float(el.get("time")), el.get("state"), el.get("programID"), int(el.get("phase")))
            for el in ET.parse(work / "switches.xml").getroot().iter("tlsState")]
    return sched, rows, metrics


def _period_of(pid: str, rows: list[tuple[float, str, str, int]], t: float) -> int:
    """The period whose plan a programme runs (a transition runs the next period's stages)."""
    if pid.startswith("so-p"):
        return int(pid[4:])
    after = next(p for tt, _, p, _ in rows if tt > t and p.startswith("so-p"))
    return int(after[4:])


def test_an_actuated_day_runs_every_period_safely_within_its_own_settings() -> None:
    """Every green, the first after each takeover included, between the minimum and the maximum of the plan
    whose programme showed it (a transition's greens at least the next plan's minimums), and nothing cut."""
    sched, rows, metrics = _switched_day()
    assert metrics.n_vehicles > 1000 and metrics.teleports == 0
    series = [(t, s) for k, (t, s, _, _) in enumerate(rows) if k == 0 or rows[k - 1][1] != s]
    program_at = {t: pid for t, _, pid, _ in rows}
    signal = net().signal("center")
    fixed = sched.periods[2].plans["center"]
    assert state_violations(signal, fixed, series, begin_s=sched.begin_s, end_s=sched.end_s - 120, step_s=1.0,
                            horizon_s=40.0) == []
    vehicle = [k for k in range(signal.n_links) if not signal.links[k].is_crossing]
    seen = {k: 0 for k in range(len(sched.periods))}
    for i, ph in enumerate(fixed.phases):  # every plan has the same stages
        own = next(k for k in vehicle if ph.state[k] in GREEN_CHARS
                   and all(q.state[k] not in GREEN_CHARS for j, q in enumerate(fixed.phases) if j != i))
        for start, end in _merged(_runs(series, own, "Gg"), 1.0):
            if end > sched.end_s - 120:
                continue
            pid = program_at[start]
            plan = sched.periods[_period_of(pid, rows, start)].plans["center"]
            green = end - start
            low = plan.phases[i].effective_min_green_s
            if pid == "so-t" or plan.actuation is None:  # a transition stretches greens, never below minimum
                assert green >= low - 1.0, (pid, i, start, green)
                if pid != "so-t":
                    assert abs(green - plan.phases[i].green_s) <= 1.0, (pid, i, start, green)
            else:
                st = plan.actuation.stages[i]
                assert st.min_green_s - 1.0 <= green <= st.max_green_s + 1.0, (pid, i, start, green)
            seen[_period_of(pid, rows, start)] += 1
    assert all(seen.values())  # greens measured in every period
    second = [e - s for s, e in _merged(_runs(series, vehicle[0], "Gg"), 1.0)]
    assert max(second) > 20.0 + 1.0  # the 40 s periods use more than the 20 s period's maximum


def test_each_switch_waits_for_the_first_point_after_the_boundary() -> None:
    """An actuated plan takes over in the running programme's last interval (the all-red before the first
    stage), a fixed-time one after a transition cycle that lands on its offset; each at the first such point
    after its boundary (SUMO logs a programme change one step after the controller makes it)."""
    sched, rows, _ = _switched_day()
    changes = [(t, pid) for k, (t, _, pid, _) in enumerate(rows) if k > 0 and rows[k - 1][2] != pid]
    assert [pid for _, pid in changes] == ["so-p1", "so-t", "so-p2", "so-p3"]
    # the intervals that lead into the first stage: the last, and in the skipping programme (period 0) the last
    # of every interstage into the first stage
    logics = ET.fromstring(schedule_programs_additional(sched, program_prefix="so-", network=net())).iter("tlLogic")
    into_first = {lg.get("programID"): {k for k, ph in enumerate(lg.iter("phase")) if ph.get("next") == "0"}
                  | {len(lg.findall("phase")) - 1} for lg in logics}
    assert len(into_first["so-p0"]) > 1  # the last stage may skip: an interstage into the first from the one before
    for (t, pid), boundary, old in zip([changes[0], changes[1], changes[3]], sched.breakpoints_s[1:], ("so-p0",
                                                                                                    "so-p1",
                                                                                                    "so-p2")):
        # last interval for an actuated plan, first stage for a transition
        targets = into_first[old] if pid != "so-t" else {0}
        entries = [tt for k, (tt, _, p, ph) in enumerate(rows)
                   if tt >= boundary and p == old and ph in targets and rows[k - 1][3] != ph]
        assert entries and 0 <= t - entries[0] <= 1.0, (pid, boundary, t, entries[:2])
    t_in, t_fixed = changes[1][0], changes[2][0]
    fixed = sched.periods[2].plans["center"]
    r = (t_fixed - fixed.offset_s) % fixed.cycle_s
    assert t_fixed > t_in and min(r, fixed.cycle_s - r) <= 1.0  # lands on its offset
