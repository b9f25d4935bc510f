"""Time-of-day retiming end to end on a small day (isolated junction, real SUMO)."""

from __future__ import annotations

import json
import subprocess

import pytest

from signalopt import _sumo
from signalopt.cli import main
from signalopt.errors import InputError
from signalopt.schedule import read_schedule
from signalopt.network import read_network
from signalopt.session import Session
from signalopt.tod import simulate_day, time_of_day
from tests._optimise_helpers import ISOLATED_NET

#: veh per 15 min (L, T, R) per leg in three regimes: quiet, N-S peak, E-W peak
REGIMES = [
    {"N": (10, 50, 10), "S": (10, 50, 10), "E": (10, 40, 10), "W": (10, 40, 10)},
    {"N": (45, 190, 30), "S": (40, 180, 30), "E": (10, 50, 10), "W": (10, 50, 10)},
    {"N": (10, 60, 10), "S": (10, 60, 10), "E": (40, 170, 30), "W": (40, 170, 30)},
]


def write_day(folder):
    rows = ["interval,intersection,approach,movement,vehicles"]
    for k in range(12):  # 06:00-09:00
        regime = REGIMES[k // 4]
        t = 6 * 3600 + k * 900
        for leg, volumes in regime.items():
            for move, n in zip("LTR", volumes):
                rows.append(f"{t},center,{leg},{move},{n}")
    (folder / "counts.csv").write_text("\n".join(rows) + "\n")
    toml = folder / "day.toml"
    toml.write_text(f'schema_version = 1\nname = "iso_day"\nnetwork = "{ISOLATED_NET.as_posix()}"\n'
                    "begin_s = 21600\nend_s = 32400\nwarmup_s = 600\n"
                    '[demand]\ncounts = "counts.csv"\n[optimise]\nseeds = [1]\n')
    return toml


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tod")
    # a session, as a job hands it on (the command line passes a path: tests/test_bad_input.py)
    with Session(write_day(folder)) as session:
        return time_of_day(session, max_periods=4, min_period_s=1800, budget=4, day_seeds=(101, 102),
                           workers=2, out_dir=folder / "out", log=lambda *_: None)


def test_periods_follow_the_regimes(result):
    assert [p.begin_s for p in result.segmentation.periods] == [21600, 25200, 28800]


def test_rows_per_period_and_day_with_cis(result):
    periods = {r.period for r in result.rows}
    assert len(periods) == 4 and "day" in periods
    for r in result.rows:
        lo, hi = r.mean_max_queue_m_ci95
        assert lo <= r.mean_max_queue_m <= hi
        assert r.mean_max_queue_m > 0
    existing_day = next(r for r in result.rows if r.schedule == "existing" and r.period == "day")
    assert existing_day.delta_vs_existing_pct == 0.0
    # a schedule worse than the existing one beyond the paired CI is flagged, and only then
    for r in result.rows:
        if r.schedule == "existing":
            assert r.worse == ()
        elif r.period != "day":
            assert ("mean max queue" in r.worse) == (r.delta_vs_existing_pct_ci95[0] > 0)
            assert ("delay" in r.worse) == (r.delay_delta_vs_existing_pct_ci95[0] > 0)
    report = (result.out_dir / "report.html").read_text()
    assert ("WORSE: " in report) == any(r.worse for r in result.rows)


def test_retimed_plans_differ_between_periods(result):
    sched = result.schedules["default"]
    greens = [tuple(ph.green_s for ph in p.plans["center"].phases) for p in sched.periods]
    assert len(set(greens)) == 3


def test_outputs_are_written_safe_and_load_in_sumo(result, tmp_path):
    out = result.out_dir
    assert (out / "report.html").read_text().count("data:image/png;base64") == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] and summary["periods"][0] == [21600, 25200]
    net = read_network(ISOLATED_NET)
    sched = read_schedule(out / "schedules" / "default" / "schedule.json", network=net)
    assert sched == result.schedules["default"]
    add = out / "schedules" / "default" / "schedule.add.xml"
    proc = subprocess.run([str(_sumo.binary("sumo")), "-n", str(ISOLATED_NET), "-a", str(add), "--begin", "21600",
                           "--end", "32400", "--no-step-log"], capture_output=True, text=True)
    assert proc.returncode == 0 and "Error" not in proc.stderr


def test_schedule_ntcip_day_plan(result, tmp_path):
    from signalopt.export import export_schedule

    path = export_schedule(result.schedules["default"], "ntcip", tmp_path / "day.json",
                           network=read_network(ISOLATED_NET))
    unit = json.loads(path.read_text())["units"]["center"]
    assert [(e["dayPlanHour"], e["dayPlanMinute"]) for e in unit["dayPlanTable"]] == [(6, 0), (7, 0), (8, 0)]
    assert [p["patternNumber"] for p in unit["patternTable"]] == [1, 2, 3]


def test_cli_tod_refuses_overlapping_seeds(tmp_path, capsys):
    toml = write_day(tmp_path)
    assert main(["tod", str(toml), "--seeds", "101", "--day-seeds", "101,102", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "overlap" in err[0]
    assert not (tmp_path / "o").exists()


def test_period_scenarios_keep_counts_on_a_ten_minute_grid_and_the_timing_options(tmp_path):
    """With 10-minute counts the period's warm-up (15 min) rounds up to whole intervals (20 min), so the
    period scenario tod writes reads back with every count on its grid, and with the day's timing options."""
    from signalopt.demand import TurnCount, read_turn_counts
    from signalopt.prepare import scenario_plans
    from signalopt.scenario import read_scenario
    from signalopt.tod.job import _write_period_scenario

    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "counts.csv").write_text("interval,intersection,approach,movement,vehicles\n" + "".join(
        f"{t},center,N,T,30\n" for t in range(25200, 32400, 600)), encoding="utf-8")
    (folder / "day.toml").write_text(
        f'schema_version = 1\nname = "day"\nnetwork = "{ISOLATED_NET.as_posix()}"\nbegin_s = 25200\n'
        'end_s = 32400\n[demand]\ncounts = "counts.csv"\ninterval_s = 600\n'
        '[timing]\nyellow_s = 3\nperception_reaction_s = 1.5\nmin_green_s = 8\n', encoding="utf-8")
    day = read_scenario(folder / "day.toml")
    hour = [TurnCount(28800.0 + k * 600, "center", "N", "T", 30.0) for k in range(6)]
    toml = _write_period_scenario(tmp_path / "period", day, hour, [], scenario_plans(day)[0], 28800.0)
    period = read_scenario(toml)
    assert period.timing == day.timing  # the clearance standard and ITE's parameters too
    assert (period.begin_s, period.warmup_s) == (28800.0 - 1200, 1200.0)
    counts = read_turn_counts(period.counts_path, begin_s=period.begin_s, end_s=period.end_s,
                              interval_s=period.interval_s)
    assert min(c.begin_s for c in counts) == period.begin_s and len(counts) == 8


def test_the_existing_day_of_an_actuated_street_runs_its_own_programmes(corpus, tmp_path):
    """Where the existing timing is the network's programmes and some of them are actuated, the existing day is
    simulated as the street runs it (SUMO's own actuated controller), not as the programmes' nominal fixed-time
    form; a fixed-time network's day runs its plans as a schedule."""
    from signalopt.prepare import load_network, scenario_plans
    from signalopt.scenario import read_scenario
    from signalopt.schedule import Schedule, SchedulePeriod
    from signalopt.tod.job import NETWORK_PROGRAMS, existing_day_control

    def nominal(scen, network):
        plans = scenario_plans(scen, network)[0]
        return Schedule("existing", (SchedulePeriod("all day", scen.begin_s, scen.end_s, plans),))

    scen = read_scenario(next(e for e in corpus if e.name == "grid2_actuated").scenario_path)
    network = load_network(scen)
    fixed_form = nominal(scen, network)
    day, why = existing_day_control(scen, network, fixed_form)
    assert day == NETWORK_PROGRAMS and why.startswith("the existing day runs the network's own programmes")
    mid = (scen.begin_s + scen.end_s) / 2
    bins = (("first", scen.begin_s, mid), ("second", mid, scen.end_s))
    runs = simulate_day(scen, {"street": NETWORK_PROGRAMS, "nominal": fixed_form}, seeds=(101,), bins=bins,
                        workers=1)
    street, fixed = runs["street"].runs[0], runs["nominal"].runs[0]
    assert [b.name for b in street.periods] == ["first", "second"] and street.queue_profile_m
    # what ran: the network's own actuated programmes (no programme of signalopt's), queues per cycle as the
    # schedule's are (fine windows)
    from signalopt._sumo_run import FINE_WINDOW_S, Task, sumo_command
    from signalopt.prepare import prepare

    task = Task(prepare(scen), 101, None, controller="network", bins=bins)
    command = sumo_command(task, tmp_path)
    assert "plans.add.xml" not in " ".join(command)
    assert f'period="{FINE_WINDOW_S:.3f}"' in (tmp_path / "detectors.add.xml").read_text(encoding="utf-8")
    assert street.delay_s != pytest.approx(fixed.delay_s, rel=0.02)  # actuation is not its nominal fixed form
    iso = read_scenario(write_day(tmp_path))
    iso_net = load_network(iso)
    assert existing_day_control(iso, iso_net, nominal(iso, iso_net)) == (nominal(iso, iso_net), "")
    # --control auto retimes the kind of controller each street runs
    from signalopt.tod.job import _tod_control

    assert _tod_control(scen, network, fixed_form, "auto")[0] == "actuated"
    assert _tod_control(iso, iso_net, nominal(iso, iso_net), "auto")[0] == "fixed"
    with pytest.raises(InputError, match=r"time of day retimes auto, fixed, actuated control \(coordinated\)"):
        _tod_control(iso, iso_net, nominal(iso, iso_net), "coordinated")


def test_maxima_groups_split_at_the_largest_volume_ratio():
    from signalopt.tod.job import maxima_groups

    assert maxima_groups([900.0]) == ((0,),)
    # sorted 500, 600, 1400, 1500: the largest ratio is 600 -> 1400; the heavier group first
    assert maxima_groups([1400.0, 500.0, 1500.0, 600.0]) == ((0, 2), (1, 3))
    assert maxima_groups([800.0, 2000.0]) == ((1,), (0,))
    assert maxima_groups([0.0, 700.0, 650.0]) == ((2, 1), (0,))  # an empty period joins the lighter group
    for bad in ([], [300.0, -1.0], [float("nan")]):
        with pytest.raises(InputError, match="an hourly volume of at least 0"):
            maxima_groups(bad)


def test_actuated_day_is_what_one_controller_holds(tmp_path):
    """``--control actuated``: every period free actuated over the junction's stages, all with one detector
    distance and one passage time, the heavier periods (the two peaks) on one set of maxima and the quiet one
    on the other; the day is simulated and the cabinet's day plan carries the two sets as Max 1 and Max 2."""
    toml = write_day(tmp_path)
    res = time_of_day(toml, max_periods=4, min_period_s=1800, budget=2, day_seeds=(101,), workers=2,
                      out_dir=tmp_path / "out", control="actuated", log=lambda *_: None)
    periods = res.schedules["default"].periods
    acts = [p.plans["center"].actuation for p in periods]
    assert all(a is not None and a.mode == "free" for a in acts)
    assert len({st.passage_s for a in acts for st in a.stages}) == 1
    assert len({tuple(d.distance_m for d in a.detectors) for a in acts}) == 1
    maxima = [tuple(st.max_green_s for st in a.stages) for a in acts]
    assert maxima[1] == maxima[2]  # the two peaks (regimes 2 and 3) share the heavier group's maxima
    assert {r.schedule for r in res.rows} == {"existing", "retimed"} and all(r.delay_s > 0 for r in res.rows)
    folder = res.out_dir / "schedules" / "default"
    assert read_schedule(folder / "schedule.json", network=read_network(ISOLATED_NET)) == res.schedules["default"]
    assert not (folder / "schedule.add.xml").exists()  # SUMO's WAUT switches fixed-time programmes only
    unit = json.loads((folder / "schedule_ntcip.json").read_text())["units"]["center"]
    assert len({r["phasePassage"] for r in unit["phaseTable"]}) == 1
    # the quiet first period runs Max 1 (mode 2), the peaks Max 2 (mode 3), where their whole-second maxima differ
    two_sets = any(r["phaseMaximum1"] != r["phaseMaximum2"] for r in unit["phaseTable"])
    modes = [a["actionCoordMaximumMode"] for a in unit["actionTable"]]
    assert modes == ([2, 3, 3] if two_sets else [2, 2, 2])
    assert json.loads((res.out_dir / "summary.json").read_text())["exports_refused"] == []
    assert "actuated, maxima" in (res.out_dir / "report.html").read_text()
