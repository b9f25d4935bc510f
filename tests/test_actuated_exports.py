"""Exported actuated programmes run in SUMO with traffic: gap-outs and max-outs happen, and no gap-out or
force-off cuts a minimum green, a yellow or an all-red (signalopt.roundtrip.actuated_check), while a file with a
cut clearance or minimum is caught."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from signalopt.actuated_encoding import make_actuated_encoding
from signalopt.export import render
from signalopt.roundtrip import actuated_check, state_violations
from signalopt.safety import check_plans, validate_plans
from signalopt.session import Session

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def isolated():
    with Session(ROOT / "scenarios" / "isolated.toml", workers=1) as s:
        enc = make_actuated_encoding(s.network, s.existing, s.scenario.timing)
        x = np.random.default_rng(1).random(enc.size)
        assert enc.labels()[-1] == "skip"
        x[-1] = 0.0  # every stage every cycle: SUMO's stage-based controller runs it (the sumo format)
        plans = s.existing.replace_plans(enc.decode(x).plans)
        validate_plans(plans, s.network, timing=s.scenario.timing, source="test")
        yield s, plans


def _text(session, plans, fmt: str) -> str:
    return next(iter(render(plans, fmt, "x.xml", network=session.network, timing=session.scenario.timing).values()))


@pytest.mark.parametrize("fmt", ["sumo", "nema"])
def test_an_exported_actuated_plan_gaps_out_and_maxes_out_without_cutting_anything(isolated, fmt):
    session, plans = isolated
    check = actuated_check(session.prepared, plans, session.network, _text(session, plans, fmt))
    assert check.violations == ()
    assert check.count("gap") >= 10 and check.count("max") >= 1
    for (sid, i), (low, high, runs) in check.greens.items():
        assert runs and min(runs) >= low - 1.0 and max(runs) <= high + 1.0


@pytest.mark.parametrize("fmt", ["sumo", "nema"])
def test_a_plan_that_skips_stages_exports_and_runs_without_cutting_anything(isolated, fmt, tmp_path):
    """The encoding's skip component on the isolated junction, exported for SUMO's stage-based actuated
    controller (switching rules choose the next stage: one interstage per stage that may follow) and for its
    NEMA controller; with the scenario's traffic no gap-out or skip cuts a minimum, a yellow or an all-red; the
    evaluator simulates the same programme."""
    from signalopt._sumo_run import Task, run_task
    from signalopt.export import export_plans

    session, served_every_cycle = isolated
    enc = make_actuated_encoding(session.network, session.existing, session.scenario.timing)
    x = enc.encode(served_every_cycle)
    x[-1] = 1.0
    plans = session.existing.replace_plans(enc.decode(x).plans)
    validate_plans(plans, session.network, timing=session.scenario.timing, source="test")
    out = export_plans(plans, fmt, tmp_path / f"skip.{fmt}.add.xml", network=session.network,
                       timing=session.scenario.timing)
    text = out.read_text(encoding="utf-8")
    assert ("earlyTarget=" in text and "laneAreaDetector" in text) if fmt == "sumo" else (
        "phases on recall none skipped without a call" in text)
    check = actuated_check(session.prepared, plans, session.network, text)
    assert check.violations == ()
    for low, high, runs in check.greens.values():
        assert runs and min(runs) >= low - 1.0 and max(runs) <= high + 1.0
    if fmt == "sumo":
        metrics = run_task(Task(session.prepared, 101, plans))
        assert metrics.n_vehicles > 1000 and metrics.not_inserted == 0


def test_skipping_runs_where_sumos_nema_controller_would_leave_a_phase_unserved(corpus):
    """grid2_actuated's lagging protected lefts (ring 1: 2,1 | 4,3), which SUMO's NEMA controller in free mode
    never shows: the optimiser offers skipping there, and its plans run in SUMO's stage-based actuated
    controller with the scenario's traffic, every stage served when called (the left turns too), no minimum,
    yellow or all-red cut."""
    from signalopt.study import Study

    entry = next(e for e in corpus if e.name == "grid2_actuated")
    with Session(entry.scenario_path, workers=1) as session:
        with Study(session, control="actuated") as study:
            enc = study.encoding
            assert enc.skip_dimension and enc.labels()[-1] == "skip"
        x = enc.encode(session.existing)
        x[-1] = 1.0
        plans = session.existing.replace_plans(enc.decode(x).plans)
        validate_plans(plans, session.network, timing=session.scenario.timing, source="test")
        skipping = {(p.signal_id, i) for p in plans for i, st in enumerate(p.actuation.stages) if st.recall == "none"}
        assert skipping
        check = actuated_check(session.prepared, plans, session.network, _text(session, plans, "sumo"))
        assert check.violations == ()
        served = {key for key, (_, _, runs) in check.greens.items() if runs}
        assert skipping & set(check.greens) <= served  # called, so served


def test_a_file_with_a_cut_yellow_or_minimum_is_caught(isolated):
    session, plans = isolated
    text = _text(session, plans, "sumo")
    yellow = plans["center"].phases[0].yellow_s
    cut_yellow = re.sub(rf'<phase duration="{yellow:.3f}" state="([^"]*y[^"]*)"/>',
                        r'<phase duration="1.000" state="\1"/>', text)
    assert cut_yellow != text
    check = actuated_check(session.prepared, plans, session.network, cut_yellow, duration_s=900)
    assert any("yellow" in v for v in check.violations)
    cut_min = re.sub(r'minDur="[0-9.]+"', 'minDur="1.000"', text)
    check = actuated_check(session.prepared, plans, session.network, cut_min, duration_s=900)
    assert any("< its minimum" in v for v in check.violations)


def test_a_leading_left_that_carries_on_permissive_gets_its_own_clearance_under_actuation(corpus):
    """grid2_nema's stages run protected lefts that carry on as permissive greens in the next stage: in NEMA
    the two lefts are phases of different rings that gap out apart, so each shows its yellow and all-red when
    its ring moves on first (before the fix, 1 s of yellow and no all-red before the opposing through)."""
    entry = next(e for e in corpus if e.name == "grid2_nema")
    with Session(entry.scenario_path, workers=1) as s:
        enc = make_actuated_encoding(s.network, s.existing, s.scenario.timing)
        plans = s.existing.replace_plans(enc.decode(enc.encode(s.existing)).plans)
        assert any(ph.yellow_s == 0 for p in plans for ph in p.phases)  # stages that carry their links on
        check = actuated_check(s.prepared, plans, s.network, _text(s, plans, "nema"), duration_s=900)
        assert check.violations == () and check.count("gap") > 20


def test_a_yellow_that_turns_green_again_stops_nothing_but_a_short_one_before_red_is_cut(isolated):
    from signalopt.plan import GREEN_CHARS

    session, plans = isolated
    plan, signal = plans["center"], session.network.signal("center")
    (_, g1), (_, y1), (_, r1), *_ = plan.phases[0].intervals(plan.phases[1].state, plan.ped_links)
    k = next(i for i, c in enumerate(g1) if c in GREEN_CHARS)
    need = plan.phases[0].yellow_s
    again = [(0.0, g1), (20.0, y1), (22.0, g1), (40.0, y1), (40.0 + need, r1), (50.0, plan.phases[1].state)]
    assert [v for v in state_violations(signal, plan, again, begin_s=0, end_s=45, step_s=1.0, horizon_s=30)
            if f"link {k} " in v] == []
    cut = [(0.0, g1), (20.0, y1), (22.0, r1), (30.0, plan.phases[1].state)]
    assert any(f"link {k} t=20 s: yellow 2 s" in v
               for v in state_violations(signal, plan, cut, begin_s=0, end_s=25, step_s=1.0, horizon_s=30))


def test_coordinated_lefts_too_short_for_their_own_clearance_end_together_at_their_force_off(corpus):
    """With every split at its minimum, grid2_nema's leading lefts cannot give up a yellow and all-red of their
    own: the pair is held to its split (max recall), ends at one force-off, and the lefts carry on safely."""
    from signalopt.actuated_encoding import make_coordinated_encoding
    from signalopt.formats.nema import dual_ring

    entry = next(e for e in corpus if e.name == "grid2_nema")
    with Session(entry.scenario_path, workers=1) as s:
        enc = make_coordinated_encoding(s.network, s.existing, s.scenario.timing)
        plans = s.existing.replace_plans(enc.decode(np.zeros(enc.size)).plans)
        validate_plans(plans, s.network, timing=s.scenario.timing, source="test")
        held = {(p.signal_id, ph.number) for p in plans for ph in dual_ring(p, s.network.signal(p.signal_id)).phases
                if ph.held}
        assert ("A0", 1) in held and ("A0", 5) in held  # the leading pair, one in each ring
        text = _text(s, plans, "nema")
        assert 'key="maxRecall" value="1,' in text or ',1,' in text.split('key="maxRecall"')[1].split("/>")[0]
        check = actuated_check(s.prepared, plans, s.network, text, duration_s=900)
        assert check.violations == ()


def test_the_run_check_holds_a_skipped_to_stage_to_the_clearance_of_the_stage_that_stopped_it(corpus):
    """grid2_nema's east-west lefts keep a permissive green into the east-west through stage; when that stage
    skips they stop at the end of their own stage, whose all-red is written for the skip: the run check
    (roundtrip._clearances_s) accepts every change the programme may make, not only the next stage's."""
    from signalopt.actuated import stage_successors
    from signalopt.plan import GREEN_CHARS
    from signalopt.roundtrip import _clearances_s

    entry = next(e for e in corpus if e.name == "grid2_nema")
    with Session(entry.scenario_path, workers=1) as session:
        enc = make_actuated_encoding(session.network, session.existing, session.scenario.timing)
        x = enc.encode(session.existing)
        x[-1] = 1.0
        plan = enc.decode(x)["A0"]
    signal = session.network.signal("A0")
    vehicle = [k for k in range(signal.n_links) if not signal.links[k].is_crossing]
    _, red = _clearances_s(plan, vehicle)
    following = stage_successors([st.recall for st in plan.actuation.stages])
    skipped_to = 0
    for i, ph in enumerate(plan.phases):
        for j in following[i]:
            for k in vehicle:
                if ph.state[k] in GREEN_CHARS and plan.phases[j].state[k] not in GREEN_CHARS:
                    assert red[k] <= ph.min_all_red_s + 1e-9, (i, j, k)
                    skipped_to += j != (i + 1) % len(plan.phases)
    assert skipped_to
    # where the run shows which stage ended, the link is held to that stage's own all-red: an all-red cut
    # between the least of the stages that may stop it and the ending stage's is caught
    cases = [(i, j, k, f) for i, ph in enumerate(plan.phases) for j in following[i] for k in vehicle
             for f in vehicle
             if ph.state[k] in GREEN_CHARS and plan.phases[j].state[k] not in GREEN_CHARS
             and ph.min_all_red_s > red[k] + 0.5 and signal.are_foes(k, f)
             and plan.phases[j].state[f] in GREEN_CHARS and ph.state[f] not in GREEN_CHARS]
    assert cases
    i, j, k, f = cases[0]
    ph, nxt = plan.phases[i], plan.phases[j].state
    stop = [m for m in vehicle if ph.state[m] in GREEN_CHARS and nxt[m] not in GREEN_CHARS]
    yellow = "".join("y" if m in stop else c for m, c in enumerate(ph.state))
    all_red = "".join("r" if m in stop else c for m, c in enumerate(ph.state))
    cut = round((red[k] + ph.min_all_red_s) / 2, 1)
    t_red = 100.0 + ph.yellow_s
    dark = "r" * signal.n_links  # the next green ends too: a run is a green that ends
    series = [(0.0, ph.state), (100.0, yellow), (t_red, all_red), (t_red + cut, nxt), (150.0, dark)]
    found = state_violations(signal, plan, series, begin_s=0.0, end_s=140.0, step_s=0.1, horizon_s=60.0)
    assert f"{plan.signal_id} links {k}->{f} t={t_red + cut:g} s: all-red {cut:g} s < {ph.min_all_red_s:g} s" in found
    full = [(0.0, ph.state), (100.0, yellow), (t_red, all_red), (t_red + ph.min_all_red_s, nxt), (150.0, dark)]
    assert state_violations(signal, plan, full, begin_s=0.0, end_s=140.0, step_s=0.1, horizon_s=60.0) == []


def test_skipping_keeps_the_fallback_cycle_whole_seconds_for_the_ntcip_sheet(corpus):
    """Covering the stages a skip may bring lengthens change intervals by tenths; the longest green gives them
    back, so every decoded plan's fixed-time fallback runs a whole-second cycle and its NTCIP sheet is written
    (grid2_nema's lefts: a 225.2 s cycle was refused before)."""
    entry = next(e for e in corpus if e.name == "grid2_nema")
    with Session(entry.scenario_path, workers=1) as session:
        enc = make_actuated_encoding(session.network, session.existing, session.scenario.timing)
        rng = np.random.default_rng(7)
        for _ in range(12):
            x = rng.random(enc.size)
            x[-1] = 1.0
            plans = enc.decode(x)
            assert all(abs(p.cycle_s - round(p.cycle_s)) < 1e-6 for p in plans), [p.cycle_s for p in plans]
            assert check_plans(plans, session.network) == []
            render(plans, "ntcip", "x.csv", network=session.network, timing=session.scenario.timing)


def test_the_run_check_holds_a_link_to_a_stage_that_can_stop_it():
    """Only a stage whose end may stop a link sets that link's clearances: in a ring-based run one left turn may
    end while the opposing one runs on, showing the greens of a stage that carries it on (S1, 3.0 s / 1.0 s);
    the link is then held to the stages that do stop it (S2, 4.0 s / 2.5 s), so a cut yellow and all-red are
    caught."""
    from signalopt.network import read_network
    from signalopt.plan import Phase, TimingPlan
    from tests._optimise_helpers import ISOLATED_NET

    signal = read_network(ISOLATED_NET).signal("center")
    plan = TimingPlan("center", (
        Phase("S1", "rrrGrrrrrrrGrrrr", 10.0, 3.0, 1.0, min_yellow_s=3.0, min_all_red_s=1.0),
        Phase("S2", "GGGGrrrrrrrrrrrr", 20.0, 4.0, 2.5, min_yellow_s=4.0, min_all_red_s=2.5),
        Phase("S3", "rrrrrrrrGGGrrrrr", 20.0, 4.0, 2.5, min_yellow_s=4.0, min_all_red_s=2.5),
    ))
    series = [(0.0, "rrrGrrrrrrrGrrrr"), (100.0, "rrryrrrrrrrGrrrr"), (103.0, "rrrrrrrrrrrGrrrr"),
              (104.5, "rrrrrrrrrGrGrrrr"), (150.0, "r" * 16)]
    found = state_violations(signal, plan, series, begin_s=0.0, end_s=140.0, step_s=0.1, horizon_s=60.0)
    assert "center link 3 t=100 s: yellow 3 s < 4 s" in found
    assert "center links 3->9 t=104.5 s: all-red 1.5 s < 2.5 s" in found
