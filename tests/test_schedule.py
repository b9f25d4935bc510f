"""Time-of-day schedules: file round trip, switching rule, and a real SUMO run through the switches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from signalopt.encoding import make_encoding
from signalopt.errors import InputError, PlanError
from signalopt.export import export_schedule
from signalopt.network import read_network
from signalopt.plan import GREEN_CHARS
from signalopt.programs import existing_plans
from signalopt.options import TimingOptions
from signalopt.schedule import Schedule, SchedulePeriod, plan_switch, program_timeline, read_schedule
from signalopt.formats.sumo import waut_additional
from tests._optimise_helpers import ISOLATED_NET, QIXIANGTAI_NET, write_isolated_scenario


def _two_plans(net_path, x_seed=3):
    net = read_network(net_path)
    base, _ = existing_plans(net, TimingOptions())
    enc = make_encoding(net, base, TimingOptions())
    rng = np.random.default_rng(x_seed)
    return net, enc.decode(rng.random(enc.size), name="a"), enc.decode(rng.random(enc.size), name="b")


def test_switch_lands_on_the_new_plans_coordinated_start():
    net, a, b = _two_plans(QIXIANGTAI_NET)
    for sid in a.signal_ids:
        old, new = a[sid], b[sid]
        sw = plan_switch(old, new, 1000.0)
        assert sw.start_s >= 1000.0 and (sw.start_s - old.offset_s) % old.cycle_s == 0
        assert (sw.takeover_s - new.offset_s) % new.cycle_s == pytest.approx(0.0)
        assert sw.transition.cycle_s == pytest.approx(sw.takeover_s - sw.start_s)
        for p, q in zip(sw.transition.phases, new.phases):
            assert p.green_s >= q.effective_min_green_s - 1e-9
            assert (p.yellow_s, p.all_red_s, p.state) == (q.yellow_s, q.all_red_s, q.state)


def test_schedule_file_round_trip_and_errors(tmp_path):
    net, a, b = _two_plans(QIXIANGTAI_NET)
    sched = Schedule("day", (SchedulePeriod("AM", 25200, 30600, a), SchedulePeriod("mid", 30600, 57600, b)))
    path = export_schedule(sched, "json", tmp_path / "s.json", network=net)
    assert read_schedule(path, network=net) == sched
    doc = json.loads(path.read_text())
    doc["periods"][1]["begin_s"] = 31000
    (tmp_path / "gap.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="does not start where"):
        read_schedule(tmp_path / "gap.json")
    (tmp_path / "plan.json").write_text(json.dumps({"schema_version": 1, "plans": []}))
    with pytest.raises(InputError, match="not a schedule"):
        read_schedule(tmp_path / "plan.json")
    with pytest.raises(PlanError, match="end must be after begin"):
        SchedulePeriod("x", 10, 10, a)


def test_sumo_runs_the_waut_without_conflicts_or_cut_intervals(tmp_path):
    """Step SUMO through two switches and check every second's indications."""
    import libsumo

    net, a, b = _two_plans(ISOLATED_NET, x_seed=5)
    sched = Schedule("s", (SchedulePeriod("P1", 0, 400, a), SchedulePeriod("P2", 400, 800, b),
                           SchedulePeriod("P3", 800, 1500, a)))
    add = tmp_path / "waut.add.xml"
    add.write_text(waut_additional(sched), encoding="utf-8")
    signal = net.signal("center")
    libsumo.start(["sumo", "-n", str(ISOLATED_NET), "-a", str(add), "--no-step-log", "--begin", "0",
                   "--end", "1500"])
    states = []
    try:
        while libsumo.simulation.getTime() < 1500:
            states.append((libsumo.simulation.getTime(), libsumo.trafficlight.getRedYellowGreenState("center"),
                           libsumo.trafficlight.getProgram("center"), libsumo.trafficlight.getPhase("center")))
            libsumo.simulationStep()
    finally:
        libsumo.close()
    programs = [p for _, _, p, _ in states]
    assert {"p0", "t1", "p1", "t2", "p2"} <= set(programs)
    for _, s, _, _ in states:
        assert signal.conflicting_greens(s) == []
    # a link leaving green shows yellow for at least the plan's yellow before red
    min_yellow = min(p.yellow_s for ps in (a, b) for plan in ps for p in plan.phases)
    for k in range(signal.n_links):
        run, prev = 0, None
        for _, s, _, _ in states:
            c = s[k]
            if c == "y":
                run += 1
            else:
                if prev == "y":
                    assert run >= int(min_yellow) , (k, run)
                if prev in GREEN_CHARS and c == "r":
                    raise AssertionError(f"link {k} went from green to red without yellow")
                run = 0
            prev = c
    # the new plan takes over at its coordinated start, in its first phase; SUMO shows every
    # change (phase or programme) from the step after its time, so both appear at takeover + 1
    line = program_timeline(sched)["center"]
    for pid in ("p1", "p2"):
        takeover = next(t for t, q, _ in line if q == pid)
        first = next((t, phase) for t, _, q, phase in states if q == pid)
        assert first == (takeover + 1, 0)


def test_simulate_a_schedule_gives_period_metrics(tmp_path, monkeypatch):
    from signalopt._sumo_run import Task, run_task
    from signalopt.prepare import prepare
    from signalopt.scenario import read_scenario

    monkeypatch.setenv("SIGNALOPT_CACHE", str(tmp_path / "cache"))
    scen = read_scenario(write_isolated_scenario(tmp_path / "s"))
    net, a, b = _two_plans(ISOLATED_NET, x_seed=5)
    sched = Schedule("s", (SchedulePeriod("P1", 0, 450, a), SchedulePeriod("P2", 450, 900, b)))
    bins = (("early", 0.0, 600.0), ("late", 600.0, 900.0))
    run = run_task(Task(prepare(scen), 1, None, schedule=sched, bins=bins))
    assert [p.name for p in run.periods] == ["early", "late"]
    assert sum(p.n_vehicles for p in run.periods) == run.n_vehicles
    assert all(p.mean_max_queue_m > 0 for p in run.periods)
    assert len(run.queue_profile_m) == 1  # 600 s measured after warm-up: one 15-min step
    weights = [p.n_vehicles for p in run.periods]
    assert np.average([p.delay_s for p in run.periods], weights=weights) == pytest.approx(run.delay_s)
