"""Traffic-responsive plan selection: the selection rules (pure), the controller in SUMO (switches when the
traffic rises and falls, safely, and runs exactly its first pattern when it never switches), the threshold
search (journalled, resumable), the plan file and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from signalopt._sumo_run import Task, run_task
from signalopt.baselines import made_safe
from signalopt.errors import InputError, PlanError
from signalopt.formats.planfile import read_responsive, write_plans, write_responsive
from signalopt.analytic import lane_groups
from signalopt.movements import SWITCHES_FILE, read_switches
from signalopt.plan import GREEN_CHARS, PlanSet
from signalopt.responsive import (PatternSelection, ResponsivePlans, detector_value, section_index,
                                  select_pattern, smoothed)
from signalopt.responsive_search import decode_selection, optimise_selection, responsive_section, responsive_tasks
from signalopt.roundtrip import state_violations
from signalopt.schedule import transition_plan
from signalopt.session import Session

from conftest import flows_xml


# the selection rules ---------------------------------------------------------------------------------------------
def test_a_pattern_rises_at_its_threshold_and_falls_only_below_it_less_the_hysteresis():
    t, h = (0.3, 0.6), 0.05
    assert select_pattern(0, 0.29, t, h) == 0
    assert select_pattern(0, 0.30, t, h) == 1
    assert select_pattern(0, 0.65, t, h) == 2  # a jump over a pattern
    assert select_pattern(1, 0.26, t, h) == 1  # inside the hysteresis band: stays
    assert select_pattern(1, 0.24, t, h) == 0
    assert select_pattern(2, 0.56, t, h) == 2
    assert select_pattern(2, 0.10, t, h) == 0  # a fall over a pattern


def test_detector_values_weigh_volume_share_and_occupancy():
    # 150 vehicles in 300 s = 1,800 veh/h = one lane's saturation flow
    assert detector_value(150, 0.2, interval_s=300, occupancy_weight=0.0) == pytest.approx(1.0)
    assert detector_value(150, 0.2, interval_s=300, occupancy_weight=1.0) == pytest.approx(0.2)
    assert detector_value(75, 0.2, interval_s=300, occupancy_weight=0.5) == pytest.approx(0.35)
    # the critical approach sets the index: a surge on one approach is not averaged away
    assert section_index({"a:N": [0.1, 0.3], "a:S": [0.8], "a:E": []}) == pytest.approx(0.8)
    assert smoothed(None, 0.4, 0.25) == 0.4
    assert smoothed(0.4, 0.8, 0.25) == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs, match", [
    ({"thresholds": ()}, "non-empty"),
    ({"thresholds": "0.3"}, "non-empty"),
    ({"thresholds": (0.5, 0.4)}, "must increase"),
    ({"thresholds": (-0.1,)}, r"threshold must be in \[0, 2\] \(-0.1\)"),
    ({"thresholds": (0.3,), "smoothing": 0.0}, "above 0"),
    ({"thresholds": (0.3,), "interval_s": 90.5}, r"whole seconds \(90.5\)"),
    ({"thresholds": (0.3,), "occupancy_weight": True}, "finite number"),
    ({"thresholds": (0.3,), "detector_m": 500}, r"detector_m must be in \[5, 150\] \(500\)"),
])
def test_bad_selection_settings_are_refused_with_their_value(kwargs, match):
    with pytest.raises(PlanError, match=match):
        PatternSelection(**kwargs)


def test_every_point_of_the_box_decodes_to_valid_settings():
    rng = np.random.default_rng(3)
    for x in [np.zeros(5), np.ones(5), *rng.random((50, 5))]:
        sel = decode_selection(x, n_patterns=3, interval_s=300, detector_m=60)
        assert len(sel.thresholds) == 2 and sel.thresholds[0] < sel.thresholds[1]
        assert 0 <= sel.hysteresis <= 0.2 and 0 <= sel.occupancy_weight <= 1 and 0.2 <= sel.smoothing <= 1


# a junction whose north-south traffic rises for 20 minutes ------------------------------------------------------
LIGHT = [("n2center", "center2s", 250), ("s2center", "center2n", 250), ("e2center", "center2w", 250),
         ("w2center", "center2e", 250)]
HEAVY_NS = [("n2center", "center2s", 650), ("s2center", "center2n", 650)]


@pytest.fixture(scope="module")
def rising(tmp_path_factory, sumocfg_scenario, isolated_net):
    """Light traffic 0-3,300 s; north-south 900 veh/h more from 1,200 to 2,400 s; a session and two patterns:
    the existing plan made safe (90 s) and the same stages on a 120 s cycle."""
    folder = tmp_path_factory.mktemp("rising")
    routes = flows_xml(*LIGHT, begin_s=0, end_s=3300)
    routes = routes.replace("</routes>", flows_xml(*HEAVY_NS, begin_s=1200, end_s=2400)
                            .replace("<routes>\n", "").replace('id="f', 'id="h'))
    toml = sumocfg_scenario(folder, isolated_net, routes, name="rising", begin_s=0, end_s=3300, warmup_s=300)
    with Session(toml, workers=2) as session:
        safe, _ = made_safe(session.existing, session.network, session.scenario.timing)
        p0 = PlanSet(safe.plans, name="ordinary")
        p1 = PlanSet(tuple(replace(transition_plan(p, 120.0), offset_s=0.0) for p in safe), name="heavy")
        yield session, p0, p1, folder


def _section(session, p0, p1, threshold: float) -> ResponsivePlans:
    return responsive_section(session, [p0, p1], PatternSelection((threshold,), hysteresis=0.02, smoothing=1.0,
                                                                  interval_s=120.0, detector_m=40.0))


def test_never_switching_runs_exactly_the_first_pattern(rising):
    session, p0, p1, _ = rising
    fixed = run_task(Task(session.prepared, 5, p0))
    never = run_task(responsive_tasks(session, _section(session, p0, p1, 2.0), [5])[0])
    assert never.delay_s == fixed.delay_s and never.n_vehicles == fixed.n_vehicles
    assert never.patterns and all(k == 0 for _, _, k in never.patterns)


def test_the_controller_switches_up_in_the_rise_and_back_after_it_safely(rising, tmp_path):
    session, p0, p1, _ = rising
    probe = run_task(responsive_tasks(session, _section(session, p0, p1, 2.0), [5])[0])
    light = [x for t, x, _ in probe.patterns if t < 1200]
    heavy = [x for t, x, _ in probe.patterns if 1500 <= t <= 2400]
    assert max(light) < min(heavy)  # the index tells the rise from the ordinary traffic
    threshold = (max(light) + min(heavy)) / 2
    section = _section(session, p0, p1, threshold)
    groups = lane_groups(session.network, session.prepared.signal_ids)
    run = run_task(responsive_tasks(session, section, [5], groups=groups, keep_dir=str(tmp_path))[0])
    up = next(t for t, _, k in run.patterns if k == 1)
    down = next(t for t, _, k in run.patterns if t > up and k == 0)
    assert 1200 < up <= 1200 + 3 * 120 and 2400 < down <= 2400 + 4 * 120
    # SUMO's own record of every switch: safe throughout, and the heavy pattern's cycle once it has taken over
    raw = read_switches(tmp_path / SWITCHES_FILE)["center"]
    series = raw[:1] + [b for a, b in zip(raw, raw[1:]) if a[1] != b[1]]  # a programme change repeats the state
    signal = session.network.signal("center")
    assert state_violations(signal, p0["center"], series, begin_s=0, end_s=3200, step_s=1.0, horizon_s=60) == []
    first = p0["center"].phases[0].state
    starts = [t for (t, s), (_, prev) in zip(series[1:], series) if s == first and prev != first]
    cycles = [(b - a, a) for a, b in zip(starts, starts[1:])]
    assert {round(c) for c, a in cycles if a < up} == {90}
    assert {round(c) for c, a in cycles if up + 240 <= a and a + c <= down} == {120}
    # no green shorter than its stage's minimum, transitions included
    k = next(i for i, c in enumerate(first) if c in GREEN_CHARS)
    greens, since = [], None
    for t, s in series:
        if s[k] in GREEN_CHARS and since is None:
            since = t
        elif s[k] not in GREEN_CHARS and since is not None:
            greens.append(t - since)
            since = None
    assert min(greens) >= p0["center"].phases[0].effective_min_green_s - 1.0


def test_the_search_is_journalled_and_resumes_without_simulating_again(rising, tmp_path):
    session, p0, p1, _ = rising
    result = optimise_selection(session, [p0, p1], budget=4, seeds=[1, 2], interval_s=120, run_dir=tmp_path)
    assert len(result.trials) == 4 and result.n_simulations == 8
    assert result.best_value == min(t.value for t in result.trials)
    again = optimise_selection(session, [p0, p1], budget=4, seeds=[1, 2], interval_s=120, run_dir=tmp_path,
                               resume=True)
    assert again.n_simulations == 0 and again.best.selection == result.best.selection
    with pytest.raises(InputError, match="other settings"):
        optimise_selection(session, [p0, p1], budget=4, seeds=[1, 3], interval_s=120, run_dir=tmp_path, resume=True)


# the section, its file and the command line -------------------------------------------------------------------
def test_a_section_is_refused_when_its_patterns_cannot_run_as_one(rising):
    session, p0, p1, _ = rising
    sel = PatternSelection((0.3,))
    good = _section(session, p0, p1, 0.3)
    with pytest.raises(PlanError, match="at least two patterns"):
        ResponsivePlans((p0,), sel, good.detectors)
    with pytest.raises(PlanError, match="need 1 threshold"):
        ResponsivePlans((p0, p1), PatternSelection((0.3, 0.5)), good.detectors)
    with pytest.raises(PlanError, match="no system detectors"):
        ResponsivePlans((p0, p1), sel, ())
    other = PlanSet((replace(p1["center"], signal_id="elsewhere"),), name="other")
    with pytest.raises(PlanError, match="plans signals elsewhere"):
        ResponsivePlans((p0, other), sel, good.detectors)


def test_the_file_round_trips_and_a_broken_one_is_one_line(rising, tmp_path):
    session, p0, p1, _ = rising
    section = _section(session, p0, p1, 0.3)
    path = write_responsive(section, tmp_path / "trps.json", provenance={"seeds": [1, 2]})
    back, provenance = read_responsive(path, network=session.network)
    assert back == section and provenance == {"seeds": [1, 2]}
    bad = tmp_path / "bad.json"
    bad.write_text(path.read_text().replace('"hysteresis": 0.02', '"hysteresis": 0.9'))
    with pytest.raises(InputError, match=r"bad.json.*hysteresis must be in \[0, 0.5\] \(0.9\)"):
        read_responsive(bad, network=session.network)
    plans_only = write_plans(p0, tmp_path / "plans.json")
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "compare", str(session.scenario.path),
                           "--responsive", str(plans_only), "--seeds", "101,102", "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "plans.json" in proc.stderr


def test_the_command_writes_a_section_that_compare_runs(rising, tmp_path):
    session, p0, p1, _ = rising
    a, b = write_plans(p0, tmp_path / "ordinary.json"), write_plans(p1, tmp_path / "heavy.json")
    out = tmp_path / "trps.json"
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "responsive", str(session.scenario.path),
                           "--patterns", str(a), str(b), "--budget", "4", "--interval", "120", "--seeds", "1,2",
                           "--out", str(out), "--quiet", "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    section, provenance = read_responsive(out, network=session.network)
    assert [p.name for p in section.patterns] == ["ordinary", "heavy"] and provenance["seeds"] == [1, 2]
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "compare", str(session.scenario.path),
                           "--responsive", str(out), "--baselines", "existing", "--seeds", "1,2", "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "overlap" in proc.stderr  # the search's seeds are not held out
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "compare", str(session.scenario.path),
                           "--responsive", str(out), "--baselines", "existing", "--seeds", "101,102", "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("trps ") for line in proc.stdout.splitlines())


def test_the_section_exports_as_an_ntcip_pattern_library_with_its_selection_settings(rising, tmp_path):
    """`signalopt export` of a responsive file: ntcip writes both patterns over one phase table, the entry and
    exit levels, the selection settings and each system detector's distance from the stop line; json writes the
    file back; an unsafe pattern is refused in one line and nothing is written."""
    from signalopt.formats.ntcip import read_ntcip_csv

    session, p0, p1, _ = rising
    section = _section(session, p0, p1, 0.3)
    path = write_responsive(section, tmp_path / "trps.json")
    net = str(session.scenario.network_path)
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "export", str(path), "--network", net,
                           "--format", "ntcip", "--out", str(tmp_path / "sheet")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    unit = read_ntcip_csv((tmp_path / "sheet.csv").read_text())["center"]
    assert [r["patternCycleTime"] for r in unit["patternTable"]] == [90, 120]
    assert sorted({r["splitNumber"] for r in unit["splitTable"]}) == [1, 2]
    assert [(r["entryLevelPct"], r["exitLevelPct"], r["description"]) for r in unit["trpsPatternTable"]] == [
        (0.0, 0.0, "ordinary"), (30.0, 28.0, "heavy")]
    (params,) = unit["trpsParameterTable"]
    assert (params["computationInterval"], params["smoothingPct"], params["saturationFlow"]) == (120, 100.0, 1800)
    detectors = unit["systemDetectorTable"]
    assert [d["lane"] for d in detectors] == [d.lane for d in section.detectors]
    assert all(d["distanceFromStopLine"] == 40.0 for d in detectors)  # every approach is longer than 40 m
    assert json.loads((tmp_path / "sheet.json").read_text())["units"]["center"]["trpsPatternTable"][1][
        "entryLevelPct"] == 30.0
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "export", str(path), "--network", net,
                           "--format", "json", "--out", str(tmp_path / "copy.json")], capture_output=True, text=True)
    assert proc.returncode == 0 and read_responsive(tmp_path / "copy.json", network=session.network)[0] == section
    # a pattern whose yellow is cut: refused before anything is written
    cut = json.loads(path.read_text())
    cut["patterns"][1]["plans"][0]["phases"][0]["yellow_s"] = 3.0  # ITE asks 3.3 s
    cut["patterns"][1]["plans"][0]["phases"][0]["min_yellow_s"] = 3.0
    cut["patterns"][1]["plans"][0]["phases"][0]["all_red_s"] += 0.3  # the same cycle
    (tmp_path / "cut_in.json").write_text(json.dumps(cut))
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "export", str(tmp_path / "cut_in.json"),
                           "--network", net, "--format", "ntcip", "--out", str(tmp_path / "cut")],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "yellow cut" in proc.stderr and "pattern heavy" in proc.stderr
    assert not (tmp_path / "cut.csv").exists() and not (tmp_path / "cut.json").exists()
    # and an export onto its own input is refused before anything is written
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "export", str(path), "--network", net,
                           "--format", "json", "--out", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "would overwrite the plan file it exports" in proc.stderr
