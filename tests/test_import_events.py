"""Controller event logs and detector counts in (signalopt.importers.eventlog, .detcounts), and the event
log signalopt writes from a run (signalopt.eventlog_writer), on real SUMO runs of the isolated junction.

One run of a retimed plan (not the network's own programme, so the import cannot echo the network) is
logged; the log read back gives the plan's stage greens, yellows, all-reds, cycle and offset, and
SUMO's own counts; a log with a dead, a stuck and a chattering detector has them reported and their
intervals left out; every bad input is refused in one line naming the file, the line and the field.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from signalopt.cli import main
from signalopt.demand import check_counts, read_turn_counts
from signalopt.errors import InputError
from signalopt.eventlog_writer import write_event_log
from signalopt.formats.planfile import read_plans
from signalopt.importers.detcounts import import_detector_counts, read_detector_map, write_detector_counts
from signalopt.importers.eventlog import channel_counts, import_event_log, read_event_log
from signalopt.network import read_network
from signalopt.plan import PlanSet
from signalopt.prepare import load_network, prepare, scenario_plans
from signalopt.scenario import read_scenario

ROOT = Path(__file__).resolve().parents[1]
#: Greens of the logged plan: the network's 12/25/11/22 s moved, so an echo of the network would fail.
GREENS = (15.0, 21.0, 13.0, 26.0)
OFFSET_S = 13.0
#: The SignalID the log gives the junction: a controller's number, not the network's tlLogic id.
CONTROLLER = "1001"


@pytest.fixture(scope="module")
def logged(tmp_path_factory):  # noqa: ANN201 - (EventLogRun, plans, network path)
    scenario = read_scenario(ROOT / "scenarios" / "isolated.toml")
    network = load_network(scenario)
    existing, _ = scenario_plans(scenario, network)
    plans = PlanSet(tuple(p.with_timings(GREENS, offset_s=OFFSET_S) for p in existing), name="logged")
    run = write_event_log(prepare(scenario, network), network, plans, tmp_path_factory.mktemp("log"),
                          controller_ids={"center": CONTROLLER})
    return run, plans, scenario.network_path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _counts(path: Path) -> dict[tuple[str, str, str], float]:
    return {(r["interval"], r["approach"], r["movement"]): float(r["vehicles"]) for r in _rows(path)}


def _check_plan(plans: PlanSet, expected: PlanSet) -> None:
    got, want = plans["center"], expected["center"]
    assert got.cycle_s == pytest.approx(want.cycle_s, abs=1.0)
    assert got.offset_s == pytest.approx(want.offset_s, abs=1.0)
    for a, b in zip(got.phases, want.phases, strict=True):
        assert a.state == b.state
        assert a.green_s == pytest.approx(b.green_s, abs=1.0)
        assert (a.yellow_s, a.all_red_s) == pytest.approx((b.yellow_s, b.all_red_s), abs=0.1)


def test_a_logged_run_reads_back_into_its_plan_and_sumos_counts(logged, tmp_path) -> None:
    run, plans, net = logged
    done = import_event_log(run.log_path, run.detectors_path, net, tmp_path)
    _check_plan(done.plans, plans)
    assert done.schedule is None and not done.report.failures
    assert all(p.cycle_s == pytest.approx(plans["center"].cycle_s, abs=0.1) for p in done.timing)
    truth, got = _counts(run.sumo_counts_path), _counts(tmp_path / "counts.csv")
    assert set(got) == set(truth)
    for (interval, approach, movement), n in truth.items():
        if movement == "L":  # the left-turn bay is the one lane of its movement: counted exactly
            assert got[(interval, approach, movement)] == pytest.approx(n, rel=0.02, abs=1)
    totals_truth, totals_got = defaultdict(float), defaultdict(float)
    for (interval, approach, _), n in truth.items():
        totals_truth[(interval, approach)] += n
        totals_got[(interval, approach)] += got[(interval, approach, _)]
    assert all(totals_got[k] == pytest.approx(v, rel=0.02, abs=1) for k, v in totals_truth.items())
    # a through-right lane's split is a guess, and said to be one
    assert sum("split evenly among T+R" in g for g in done.report.guessed) == 4
    assert (tmp_path / "import_report.json").exists() and (tmp_path / "timing.csv").exists()


def test_a_phase_map_gives_the_same_plan(logged, tmp_path) -> None:
    run, plans, net = logged
    done = import_event_log(run.log_path, run.detectors_path, net, tmp_path, phases_path=run.phases_path)
    _check_plan(done.plans, plans)
    assert not any("phase numbers as signalopt" in g for g in done.report.guessed)


def test_a_change_of_timing_during_the_day_becomes_a_schedule(tmp_path) -> None:
    scenario = read_scenario(ROOT / "scenarios" / "isolated.toml")
    network = load_network(scenario)
    existing, _ = scenario_plans(scenario, network)
    prepared = prepare(scenario, network)
    am = PlanSet(tuple(p.with_timings(GREENS, offset_s=OFFSET_S) for p in existing), name="am")
    late = PlanSet(tuple(p.with_timings((10.0, 30.0, 10.0, 30.0), offset_s=40.0) for p in existing), name="late")
    switch = 7.5 * 3600
    rows = []
    for plans, window in ((am, (prepared.begin_s, switch)), (late, (switch, 8 * 3600))):
        run = write_event_log(replace(prepared, begin_s=window[0], end_s=window[1]), network, plans,
                              tmp_path / plans.name)
        rows += _rows(run.log_path)
    with (tmp_path / "day.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["SignalID", "Timestamp", "EventCode", "EventParam"])
        w.writeheader()
        w.writerows(rows)
    done = import_event_log(tmp_path / "day.csv", run.detectors_path, scenario.network_path, tmp_path / "out")
    assert done.schedule is not None
    assert [(p.begin_s, p.end_s) for p in done.schedule.periods] == [(7 * 3600, switch), (switch, 8 * 3600)]
    _check_plan(done.schedule.periods[0].plans, am)
    _check_plan(done.schedule.periods[1].plans, late)
    assert read_scenario(tmp_path / "out" / "scenario.toml").schedule_path == tmp_path / "out" / "schedule.json"


def _knock_out(log: Path, out: Path) -> Path:
    """The log with channel 2 (north through lane) dead 07:05-08:05, channel 6 (east left bay) stuck on
    07:20-07:50, and channel 9 (south left bay) chattering 08:00-08:15 (a pulse every 0.2 s)."""
    rows = _rows(log)

    def at(r: dict[str, str]) -> str:
        return r["Timestamp"][11:]

    # the dead detector goes quiet after an off: an on left without its off would read as stuck on
    last_on = max((r["Timestamp"] for r in rows if r["EventParam"] == "2" and r["EventCode"] in ("81", "82")
                   and at(r) < "07:05"), key=lambda t: t)
    dead_from = last_on[11:] if any(r["Timestamp"] == last_on and r["EventCode"] == "82" and r["EventParam"] == "2"
                                    for r in rows) else "07:05"
    kept = [r for r in rows if not (r["EventCode"] in ("81", "82") and (
        (r["EventParam"] == "2" and dead_from <= at(r) < "08:05")
        or (r["EventParam"] == "6" and "07:20" <= at(r) < "07:50")))]
    kept.append({"SignalID": CONTROLLER, "Timestamp": "2024-01-01 07:20:00.0", "EventCode": "82", "EventParam": "6"})
    for k in range(1500):
        t = 8 * 3600 + k * 0.4
        for code, dt in (("82", 0.0), ("81", 0.2)):
            s = t + dt
            kept.append({"SignalID": CONTROLLER, "EventCode": code, "EventParam": "9",
                         "Timestamp": f"2024-01-01 {int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:04.1f}"})
    kept.sort(key=lambda r: r["Timestamp"])
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["SignalID", "Timestamp", "EventCode", "EventParam"])
        w.writeheader()
        w.writerows(kept)
    return out


def test_failed_detectors_are_reported_and_their_intervals_left_out_not_zero(logged, tmp_path) -> None:
    run, plans, net = logged
    done = import_event_log(_knock_out(run.log_path, tmp_path / "broken.csv"), run.detectors_path, net,
                            tmp_path / "out")
    found = {(f.channel, f.kind): f for f in done.report.failures}
    assert set(found) == {(2, "silent"), (6, "stuck_on"), (9, "chatter")}
    assert found[(2, "silent")].begin_s <= 7 * 3600 + 300 and found[(2, "silent")].end_s >= 8 * 3600 + 300
    assert (found[(6, "stuck_on")].begin_s, found[(9, "chatter")].begin_s) == (7 * 3600 + 1200, 8 * 3600)
    got = _counts(tmp_path / "out" / "counts.csv")
    # north through+right (channels 1 and 2 share the through) are missing while 2 is dead, not zero
    assert not [k for k in got if k[1] == "N" and k[2] in "TR" and k[0] <= "08:00"]
    assert ("08:15", "N", "T") in got and ("07:00", "N", "L") in got
    assert not [k for k in got if k[1:] == ("E", "L") and "07:15" <= k[0] < "08:00"]
    assert not [k for k in got if k[1:] == ("S", "L") and k[0] == "08:00"]
    assert all(n > 0 for n in got.values())
    # the plan is still read: detector trouble does not touch the phase events
    _check_plan(done.plans, plans)
    text = (tmp_path / "out" / "import_report.txt").read_text()
    assert "silent" in text and "stuck on" in text and "chatter" in text


def test_detector_counts_give_the_counts_of_the_log(logged, tmp_path, capsys) -> None:
    run, _, net = logged
    from_log = import_event_log(run.log_path, run.detectors_path, net, tmp_path / "log")
    detectors, _ = read_detector_map(run.detectors_path, read_network(net))
    det = write_detector_counts(channel_counts(read_event_log(run.log_path), detectors, begin_s=from_log.begin_s,
                                               end_s=from_log.end_s, interval_s=900.0), tmp_path / "detector_counts.csv")
    assert main(["import", "counts", str(det), "--detectors", str(run.detectors_path), "--network", str(net),
                 "--out", str(tmp_path / "counts"), "--format", "json"]) == 0
    assert '"importer": "counts"' in capsys.readouterr().out
    assert _counts(tmp_path / "counts" / "counts.csv") == _counts(tmp_path / "log" / "counts.csv")
    done = import_detector_counts(det, run.detectors_path, net, tmp_path / "again")
    assert [c.vehicles for c in done.counts] == [c.vehicles for c in from_log.counts]


def test_the_command_writes_a_scenario_signalopt_reads(logged, tmp_path, capsys) -> None:
    run, plans, net = logged
    out = tmp_path / "imported"
    assert main(["import", "events", str(run.log_path), "--detectors", str(run.detectors_path), "--phases",
                 str(run.phases_path), "--network", str(net), "--out", str(out)]) == 0
    assert "signalopt import events" in capsys.readouterr().out
    scenario = read_scenario(out / "scenario.toml")
    network = read_network(scenario.network_path)
    counts = read_turn_counts(scenario.counts_path)
    check_counts(network, counts, source=scenario.counts_path, begin_s=scenario.begin_s, end_s=scenario.end_s,
                 interval_s=scenario.interval_s)
    _check_plan(read_plans(scenario.plans_path, network=network), plans)


LOG_HEAD = "SignalID,Timestamp,EventCode,EventParam\n"
GOOD = "center,2024-01-01 07:00:00.0,1,2\n"
MAP_HEAD = "SignalID,channel,intersection,approach,movement,lane\n"
GOOD_MAP = "center,1,center,N,TR,n2center_0\n"


@pytest.mark.parametrize("log, detectors, expect", [
    (GOOD + "center,2024-01-01 7h00,82,1\n", GOOD_MAP, "events.csv: line 3: Timestamp"),
    (GOOD + "center,2024-01-01 07:00:01.0,300,1\n", GOOD_MAP, "events.csv: line 3: EventCode"),
    (GOOD + "center,2024-01-01 07:00:01.0,82,7\n", GOOD_MAP, "events.csv: line 3: detector channel not in the "
                                                             "detector map (SignalID center channel 7)"),
    (GOOD + "center,2024-01-01 06:59:50.0,82,1\n", GOOD_MAP, "events.csv: line 3: Timestamp goes back 10.0 s"),
    (GOOD + "center,2024-01-01 07:00:01.0,82,x\n", GOOD_MAP, "events.csv: line 3: EventParam"),
    (GOOD + "1001,2024-01-01 07:00:01.0,82,1\n", GOOD_MAP, "events.csv: line 3: SignalID not in the detector map"),
    (GOOD, "center,1,center,N,TR,n2center_7\n", "detectors.csv: line 2: lane"),
    (GOOD, "center,1,center,N,L,n2center_0\n", "detectors.csv: line 2: movement"),
    (GOOD, "center,1,center,Q,T,n2center_0\n", "detectors.csv: line 2: approach"),
    (GOOD, GOOD_MAP + "center,1,center,N,T,n2center_1\n", "detectors.csv: line 3: channel repeats line 2"),
])
def test_bad_input_is_refused_in_one_line_naming_file_line_and_field(tmp_path, capsys, isolated_net, log, detectors,
                                                                     expect) -> None:
    (tmp_path / "events.csv").write_text(LOG_HEAD + log)
    (tmp_path / "detectors.csv").write_text(MAP_HEAD + detectors)
    code = main(["import", "events", str(tmp_path / "events.csv"), "--detectors", str(tmp_path / "detectors.csv"),
                 "--network", str(isolated_net), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert expect in err


def test_a_phase_map_whose_phase_runs_in_stages_apart_is_refused(tmp_path, capsys, isolated_net, logged) -> None:
    run, _, _ = logged
    # north through (stage 2) and west left (stage 3) and north left (stage 1): not one run of stages
    (tmp_path / "phases.csv").write_text("SignalID,phase,intersection,approach,movement\n"
                                         "center,2,center,N,T\ncenter,2,center,N,L\n")
    code = main(["import", "events", str(run.log_path), "--detectors", str(run.detectors_path), "--phases",
                 str(tmp_path / "phases.csv"), "--network", str(isolated_net), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "phases.csv: line 2: phase 2's movements share no stage" in err


def test_us_timestamps_are_read_other_codes_counted_and_several_days_refused(tmp_path) -> None:
    log = tmp_path / "events.csv"
    log.write_text(LOG_HEAD + "1001,4/2/2024 7:00:00.1 AM,1,2\n1001,4/2/2024 7:00:03.0 AM,43,2\n"
                   "1001,4/2/2024 12:30:00.0 PM,82,5\n")
    got = read_event_log(log)
    assert got.day.isoformat() == "2024-04-02" and list(got.signals["1001"].times) == [25200.1, 45000.0]
    assert got.ignored == {43: 1}
    log.write_text(LOG_HEAD + "1001,2024-04-02 23:59:59.9,82,5\n1001,2024-04-03 00:00:00.4,81,5\n")
    with pytest.raises(InputError, match="several days; import one at a time .*2024-04-02 .1 events., 2024-04-03"):
        read_event_log(log)
    assert read_event_log(log, day=date(2024, 4, 3)).other_days == 1


def test_a_detector_counting_nothing_while_its_neighbours_count_is_left_out(logged, tmp_path) -> None:
    run, _, net = logged
    detectors, _ = read_detector_map(run.detectors_path, read_network(net))
    counts = channel_counts(read_event_log(run.log_path), detectors, begin_s=7 * 3600, end_s=8.5 * 3600,
                            interval_s=900.0)
    dead = {b: (0.0 if 7.25 * 3600 <= b < 8 * 3600 else n) for b, n in counts[(CONTROLLER, 5)].items()}
    path = write_detector_counts({**counts, (CONTROLLER, 5): dead}, tmp_path / "detector_counts.csv")
    done = import_detector_counts(path, run.detectors_path, net, tmp_path / "out")
    assert [(f.channel, f.kind, f.begin_s, f.end_s) for f in done.report.failures] == [
        (5, "silent", 7.25 * 3600, 8 * 3600)]
    east = sorted({c.begin_s for c in done.counts if (c.approach, c.movement) == ("E", "T")})
    assert east == [7 * 3600, 8 * 3600, 8.25 * 3600]


@pytest.mark.parametrize("row, expect", [
    ("1001,99,07:00,3", "detector_counts.csv: line 2: detector not in the detector map (1001 channel 99)"),
    ("1001,1,07:05,3", "detector_counts.csv: line 2: interval is off the 900 s grid"),
    ("1001,1,07:00,-3", "detector_counts.csv: line 2: count is not a non-negative number"),
])
def test_bad_detector_counts_are_refused_in_one_line(tmp_path, capsys, isolated_net, row, expect) -> None:
    (tmp_path / "detector_counts.csv").write_text("SignalID,channel,interval,count\n" + row + "\n")
    (tmp_path / "detectors.csv").write_text(MAP_HEAD + "1001,1,center,N,TR,0\n")
    code = main(["import", "counts", str(tmp_path / "detector_counts.csv"), "--detectors",
                 str(tmp_path / "detectors.csv"), "--network", str(isolated_net), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and expect in err
