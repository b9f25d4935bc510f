"""Existing plans read from SUMO programmes (signalopt.programs, plan.read_stages).

Pure tests on the bundled networks' programmes, plus one short libsumo run
that pins down SUMO's offset convention (phase 0 starts at ``t = offset``
modulo the cycle, in absolute simulation time) on which the rotation tests rely.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from signalopt.errors import InputError
from signalopt.network import Network, read_network
from signalopt.plan import GREEN_CHARS, PlanSet, read_stages
from signalopt.programs import existing_plans, plan_from_program, stage_requirements
from signalopt.safety import check_plans
from signalopt.options import TimingOptions

ROOT = Path(__file__).resolve().parents[1]
ISOLATED = ROOT / "networks" / "isolated" / "isolated.net.xml"
QIXIANGTAI = ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml"
QIXIANGTAI_THROUGH = ROOT / "networks" / "qixiangtai" / "qixiangtai_through.net.xml"
TIMING = TimingOptions()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALOPT_CACHE", str(tmp_path / "cache"))


@functools.cache
def net(path: Path) -> Network:
    return read_network(path)


def all_signals():
    return [(p, sid) for p in (ISOLATED, QIXIANGTAI, QIXIANGTAI_THROUGH) for sid in net(p).signal_ids]


SIGNALS = all_signals()
SIGNAL_IDS = [f"{p.stem}:{sid}" for p, sid in SIGNALS]


def state_at(phases, offset_s: float, t: float) -> str:
    """SUMO's state at simulation time ``t``: phase 0 starts at ``offset_s`` (mod the cycle)."""
    cycle = sum(d for d, _ in phases)
    pos = (t - offset_s) % cycle
    for d, s in phases:
        if pos < d - 1e-9:
            return s
        pos -= d
    return phases[-1][1]


def rotate(phases, k: int, offset_s: float):
    """The same programme written to start at its phase ``k``: same states at the same times."""
    phases = tuple(phases)
    cycle = sum(d for d, _ in phases)
    return phases[k:] + phases[:k], (offset_s + sum(d for d, _ in phases[:k])) % cycle


# ------------------------------------------------------------------ read_stages


def flatten(stage, ped_links) -> list:
    """The SUMO phases of a stage as read: green, pedestrian clearance, interstage."""
    from signalopt.plan import without_walk

    d, st = stage.green
    out = [(d, st)] + ([(stage.clearance_s, without_walk(st, ped_links))] if stage.clearance_s else [])
    return out + list(stage.change)


@pytest.mark.parametrize(("path", "sid"), SIGNALS, ids=SIGNAL_IDS)
def test_bundled_programmes_have_four_stages(path: Path, sid: str) -> None:
    signal = net(path).signal(sid)
    phases = signal.program.phases
    stages = read_stages(phases, signal.ped_links)
    assert stages[0].first_phase == 0
    assert len(stages) == 4
    assert [p for st in stages for p in flatten(st, signal.ped_links)] == list(phases)
    for st in stages:
        # each stage: its green, one yellow, one all-red
        assert len(st.change) == 2
        assert "y" in st.change[0][1] and set(st.change[1][1]) == {"r"}
    if signal.ped_links:
        # walk then pedestrian clearance in the two through stages
        assert [bool(st.clearance_s) for st in stages] == [False, True, False, True]
        for st in (stages[1], stages[3]):
            assert any(st.green[1][k] == "G" for k in signal.ped_links)
    else:
        assert not any(st.clearance_s for st in stages)


@pytest.mark.parametrize("k", range(1, 14))
def test_stages_of_a_rotated_programme(k: int) -> None:
    signal = net(QIXIANGTAI).signal("weidi")
    phases = signal.program.phases  # 14 phases
    rotated, _ = rotate(phases, k, 0.0)
    stages = read_stages(rotated, signal.ped_links)
    starts = {0, 3, 7, 10}  # stage starts in the original programme
    # the first stage starts at the first original stage start at or after phase k
    expected = min(((s - k) % 14 for s in starts))
    assert stages[0].first_phase == expected
    assert len(stages) == 4
    assert sorted(st.green for st in stages) == sorted(phases[s] for s in starts)


def test_programme_that_never_changes_is_one_stage() -> None:
    stages = read_stages([(30.0, "GGrr"), (10.0, "GGrr")])
    assert len(stages) == 1
    assert stages[0].first_phase == 0 and stages[0].green == (40.0, "GGrr") and stages[0].change == ()


# ------------------------------------------------------------------ plan_from_program


@pytest.mark.parametrize(("path", "sid"), SIGNALS, ids=SIGNAL_IDS)
def test_existing_plan_runs_exactly_as_the_programme(path: Path, sid: str) -> None:
    signal = net(path).signal(sid)
    prog = signal.program
    plan, _ = plan_from_program(signal, prog.phases, offset_s=prog.offset_s, timing=TIMING)
    assert plan.cycle_s == pytest.approx(sum(d for d, _ in prog.phases))
    assert plan.offset_s == pytest.approx(prog.offset_s)
    assert plan.ped_links == signal.ped_links
    assert tuple(plan.sumo_phases()) == tuple(prog.phases)


def test_existing_plans_of_the_corridor() -> None:
    plans, warnings = existing_plans(net(QIXIANGTAI), TIMING)
    got = {p.signal_id: (p.cycle_s, p.offset_s, len(p.phases)) for p in plans}
    assert got == {"weidi": (140.0, 0.0, 4), "pingquan": (120.0, 25.0, 4), "pingshan": (130.0, 50.0, 4),
                   "zijinshan": (120.0, 70.0, 4)}
    assert plans.name == "existing"
    # walk and clearance as the programme shows them (walk 17 s + clearance 19 s at Weidi stage 2)
    weidi = plans["weidi"].phases[1]
    assert (weidi.green_s, weidi.walk_s, weidi.ped_clearance_s) == (36.0, 7.0, 19.0)
    only, _ = existing_plans(net(QIXIANGTAI), TIMING, signal_ids=("pingshan",))
    assert only.signal_ids == ("pingshan",)


@pytest.mark.parametrize("k", range(1, 14))
@pytest.mark.parametrize("sid", ["weidi", "pingshan"])
def test_rotated_programme_keeps_absolute_timing(sid: str, k: int) -> None:
    """A programme written to start mid-stage: the plan starts at a stage and its offset shifts to match."""
    signal = net(QIXIANGTAI).signal(sid)
    prog = signal.program
    rotated, offset = rotate(prog.phases, k, prog.offset_s)
    plan, _ = plan_from_program(signal, rotated, offset_s=offset, timing=TIMING)
    cycle = sum(d for d, _ in prog.phases)
    assert plan.cycle_s == pytest.approx(cycle)
    first = read_stages(rotated, signal.ped_links)[0].first_phase
    # SUMO: rotated phase 0 starts at `offset`; the plan's first stage starts `skipped` later
    skipped = sum(d for d, _ in rotated[:first])
    assert plan.offset_s == pytest.approx((offset + skipped) % cycle)
    assert 0 <= plan.offset_s < cycle
    # same state at every moment (sampled between switches) as the original programme
    out = plan.sumo_phases()
    for j in range(int(2 * cycle)):
        t = 1000.0 + j + 0.5
        assert state_at(out, plan.offset_s, t) == state_at(prog.phases, prog.offset_s, t), t


def test_rotation_by_one_stage_shifts_the_offset_by_its_split() -> None:
    signal = net(ISOLATED).signal("center")
    prog = signal.program  # NS left 12/3/2, NS through 25/3/2, ...
    rotated, offset = rotate(prog.phases, 1, 0.0)  # starts with NS-left yellow, phase 0 at t = 12
    assert offset == 12.0
    plan, _ = plan_from_program(signal, rotated, offset_s=offset, timing=TIMING)
    assert plan.phases[0].state == prog.phases[3][1]  # first stage: NS through
    assert plan.offset_s == 17.0  # NS through green starts at 12 + 3 + 2
    assert [p.green_s for p in plan.phases] == [25.0, 11.0, 22.0, 12.0]


def _sumo_states(tmp_path: Path, network: Path, additional: str, begin: float, times: list[int]) -> dict:
    import libsumo

    from signalopt import _sumo

    add = tmp_path / "tls.add.xml"
    add.write_text(additional, encoding="utf-8")
    libsumo.start([str(_sumo.binary("sumo")), "-n", str(network), "-a", str(add), "--begin", f"{begin:g}",
                   "--no-step-log", "--no-warnings"])
    try:
        out = {}
        for t in times:
            libsumo.simulationStep(t)
            out[t] = libsumo.trafficlight.getRedYellowGreenState("center")
        return out
    finally:
        libsumo.close()


def test_sumo_offset_convention(tmp_path: Path) -> None:
    """Real SUMO: a rotated programme with the shifted offset, and the plan read from it,
    show the original programme's states at the same simulation times."""
    from signalopt.formats.sumo import plans_additional

    signal = net(ISOLATED).signal("center")
    prog = signal.program
    base_offset = 33.0
    rotated, offset = rotate(prog.phases, 4, base_offset)  # starts in the NS-through stage's yellow
    begin = 1000.0
    times = list(range(1001, 1001 + 2 * 90))
    # the state SUMO reports after stepping to t is the one of the step that ended at t
    expected = {t: state_at(prog.phases, base_offset, t - 0.5) for t in times}

    xml = (f'<additional><tlLogic id="center" type="static" programID="rot" offset="{offset:g}">'
           + "".join(f'<phase duration="{d:g}" state="{s}"/>' for d, s in rotated) + "</tlLogic></additional>")
    assert _sumo_states(tmp_path, ISOLATED, xml, begin, times) == expected

    plan, _ = plan_from_program(signal, rotated, offset_s=offset, timing=TIMING)
    assert plan.offset_s != offset  # the plan starts at a stage, not at the rotated phase 0
    got = _sumo_states(tmp_path, ISOLATED, plans_additional(PlanSet((plan,))), begin, times)
    assert got == expected


# ------------------------------------------------------------------ warnings and requirements


def test_isolated_programme_warns_yellow_and_all_red_below_ite() -> None:
    plans, warnings = existing_plans(net(ISOLATED), TIMING)
    # 50 km/h: ITE yellow 1 + 13.89 / 6.1 = 3.28 -> 3.3 s; the programme gives 3 s
    for stage in range(1, 5):
        assert any(w.startswith(f"center stage {stage} (phase ") and w.endswith("yellow 3 s below ITE 3.3 s")
                   for w in warnings)
    assert "center stage 1 (phase 0): all-red 2 s below ITE 2.3 s" in warnings
    assert "center stage 2 (phase 3): all-red 2 s below ITE 2.5 s" in warnings
    assert len(warnings) == 8
    # the plan promises only what the programme does, so it can still be built and simulated
    assert all(p.min_yellow_s == 3.0 and p.min_all_red_s == 2.0 for p in plans["center"].phases)


def test_programme_meeting_ite_gives_no_warning() -> None:
    signal = net(ISOLATED).signal("center")
    phases = tuple((4.0 if "y" in s else (3.0 if not set(s) & GREEN_CHARS else d), s)
                   for d, s in signal.program.phases)
    plan, warnings = plan_from_program(signal, phases, offset_s=0.0, timing=TIMING)
    assert warnings == []
    assert [p.min_yellow_s for p in plan.phases] == [3.3] * 4
    assert [p.min_all_red_s for p in plan.phases] == [2.3, 2.5, 2.3, 2.5]
    assert check_plans(PlanSet((plan,)), net(ISOLATED)) == []


def test_short_green_warns() -> None:
    signal = net(ISOLATED).signal("center")
    phases = list(signal.program.phases)
    phases[0] = (3.0, phases[0][1])  # NS left: 3 s of green, minimum 5 s for a left-only stage
    plan, warnings = plan_from_program(signal, tuple(phases), offset_s=0.0, timing=TIMING)
    assert "center stage 1 (phase 0): green 3 s below minimum 5 s" in warnings
    assert plan.phases[0].green_s == 3.0


def test_short_pedestrian_clearance_warns_and_runs_as_written() -> None:
    signal = net(QIXIANGTAI).signal("pingshan")
    phases = list(signal.program.phases)
    assert phases[3][0] == 34.0 and phases[4][0] == 14.0  # walk + clearance over the 16 m crossings
    phases[3], phases[4] = (40.0, phases[3][1]), (8.0, phases[4][1])
    plan, warnings = plan_from_program(signal, tuple(phases), offset_s=0.0, timing=TIMING)
    assert "pingshan stage 2 (phase 3): pedestrian clearance 8 s below 13.4 s" in warnings
    assert plan.phases[1].ped_clearance_s == 8.0
    assert tuple(plan.sumo_phases()) == tuple(phases)
    rules = [v.rule for v in check_plans(PlanSet((plan,)), net(QIXIANGTAI)) if v.phase == "stage 2"]
    assert "pedestrian clearance cut" in rules


def test_green_below_walk_plus_clearance_runs_as_programmed() -> None:
    """A walk shorter than the minimum is read as it runs (never a silent rewrite); the safety check refuses it."""
    signal = net(QIXIANGTAI).signal("pingshan")
    phases = list(signal.program.phases)
    phases[3] = (5.0, phases[3][1])  # 5 s walk + 14 s clearance < 7 + 14
    plan, warnings = plan_from_program(signal, tuple(phases), offset_s=0.0, timing=TIMING)
    assert "pingshan stage 2 (phase 3): green 19 s below walk + pedestrian clearance 20.4 s" in warnings
    stage = plan.phases[1]
    assert (stage.walk_s, stage.ped_clearance_s) == (5.0, 14.0) and stage.serves_pedestrians
    assert any(stage.state[k] == "G" for k in signal.ped_links)
    assert tuple(plan.sumo_phases()) == tuple(phases)
    rules = {v.rule for v in check_plans(PlanSet((plan,)), net(QIXIANGTAI), timing=TIMING)}
    assert "green below pedestrian minimum (walk + clearance)" in rules


def test_programme_errors() -> None:
    signal = net(ISOLATED).signal("center")
    with pytest.raises(InputError, match="programme has no phases"):
        plan_from_program(signal, (), offset_s=0.0, timing=TIMING)
    with pytest.raises(InputError, match=r"programme existing phase 0 has 4 link states, the network 16 \(GGrr\)"):
        plan_from_program(signal, ((30.0, "GGrr"),), offset_s=0.0, timing=TIMING)


def test_stage_requirements_values() -> None:
    center = net(ISOLATED).signal("center")
    prog = [s for _, s in center.program.phases if "y" not in s and set(s) & GREEN_CHARS]
    left = stage_requirements(center, prog[0], prog[1], TIMING)
    assert (left.min_green_s, left.min_yellow_s, left.walk_s, left.ped_clearance_s) == (5.0, 3.3, 0.0, 0.0)
    through = stage_requirements(center, prog[1], prog[2], TIMING)
    assert through.min_green_s == 7.0 and through.min_yellow_s == 3.3
    assert through.min_split_s == pytest.approx(7.0 + 3.3 + through.min_all_red_s)
    weidi = net(QIXIANGTAI).signal("weidi")
    stages = [weidi.program.phases[i][1] for i in (0, 3, 7, 10)]  # stage 2: N-S through with walk
    ns_through = stage_requirements(weidi, stages[1], stages[2], TIMING)
    # walk 7 s; clearance over 22.4 m Weidi Rd at 1.2 m/s = 18.67 -> 18.7 s
    assert (ns_through.walk_s, ns_through.ped_clearance_s) == (7.0, 18.7)
    assert ns_through.min_split_s == pytest.approx(25.7 + ns_through.min_yellow_s + ns_through.min_all_red_s)
    # a slower walker needs longer: 22.4 / 1.0 = 22.4 s
    slow = stage_requirements(weidi, stages[1], stages[2], TimingOptions(walking_speed_m_s=1.0))
    assert slow.ped_clearance_s == 22.4


# ------------------------------------------------------------------ netconvert's programmes, read whole

#: netconvert's T-junction with a left-turn lane and crossings (netgenerate --grid --turn-lanes 1
#: --crossings.guess): throughs with permissive lefts, pedestrian clearance, throughs yellow while the
#: lefts stay green, the protected left (g -> G), its yellow; then the stem.
T_JUNCTION = ((33.0, "GGggrrrrgGGgrGr"), (5.0, "GGggrrrrgGGgrrr"), (3.0, "GGggrrrryyyyrrr"),
              (6.0, "GGGGrrrrrrrrrrr"), (3.0, "yyyyrrrrrrrrrrr"), (32.0, "rrrrgggGrrrrGrG"),
              (5.0, "rrrrgggGrrrrrrr"), (3.0, "rrrryyyyrrrrrrr"))
T_CROSSINGS = frozenset({12, 13, 14})


def test_protected_left_after_the_permissive_one_is_a_stage() -> None:
    stages = read_stages(T_JUNCTION, T_CROSSINGS)
    assert [st.green for st in stages] == [T_JUNCTION[0], T_JUNCTION[3], T_JUNCTION[5]]
    assert [st.clearance_s for st in stages] == [5.0, 0.0, 5.0]
    # the interstage keeps the lefts green while the throughs turn yellow
    assert stages[0].change == (T_JUNCTION[2],)
    assert [p for st in stages for p in flatten(st, T_CROSSINGS)] == list(T_JUNCTION)


@pytest.mark.parametrize("phases, greens", [
    # leading left: the through runs on after the left's yellow, then has its own yellow
    (((10.0, "GGrr"), (3.0, "yGrr"), (20.0, "rGrr"), (3.0, "ryrr"), (30.0, "rrGG"), (3.0, "rryy")), [0, 2, 4]),
    # an all-red in which a left carries on green belongs to the interstage
    (((30.0, "GGgr"), (3.0, "yygr"), (2.0, "rrgr"), (6.0, "rrGr"), (3.0, "rryr"), (2.0, "rrrr"), (20.0, "rrrG"),
      (3.0, "rrry")), [0, 3, 6]),
    # a green cut to permissive without a yellow, and a programme that starts with its change interval
    (((3.0, "yyrr"), (20.0, "rrGG"), (10.0, "rrGg"), (3.0, "rryy"), (25.0, "GGrr")), [1, 2, 4]),
    # red-yellow before green ('u') is part of the interstage
    (((30.0, "GGrr"), (3.0, "yyrr"), (2.0, "rruu"), (30.0, "rrGG"), (3.0, "rryy"), (2.0, "uurr")), [0, 3]),
])
def test_stage_starts_and_every_interval_kept(phases, greens) -> None:
    stages = read_stages(phases)
    assert [st.first_phase for st in stages] == greens
    first = greens[0]
    rotated = list(phases[first:] + phases[:first])
    assert [p for st in stages for p in flatten(st, frozenset())] == rotated


def test_a_programme_without_green_has_no_stage() -> None:
    assert read_stages([(30.0, "rrrr"), (3.0, "yyrr")]) == []


# ------------------------------------------------------------------ what run retimes by default


def test_running_control_follows_the_programmes_the_signals_run(corpus) -> None:
    """Actuated and free NEMA programmes are retimed as actuated control, fixed-time ones as fixed time; a set
    with both is retimed as fixed time (so its offsets hold), a set of coordinated NEMA programmes as
    coordinated-actuated control."""
    from dataclasses import replace

    from signalopt.programs import running_control

    nets = {e.name: read_network(e.net_path) for e in corpus if e.name in ("grid2_actuated", "grid2_nema",
                                                                            "grid3_turn", "t_junctions_nema")}
    for name, want in (("grid2_actuated", "actuated"), ("grid2_nema", "actuated"), ("t_junctions_nema", "actuated"),
                       ("grid3_turn", "fixed")):
        control, why = running_control(nets[name], nets[name].signal_ids)
        assert control == want, (name, why)
    fixed, actuated = nets["grid3_turn"].signals[0], nets["grid2_actuated"].signals[0]
    mixed = Network(nets["grid3_turn"].path, (fixed, replace(actuated, id="act")))
    control, why = running_control(mixed, ["act", fixed.id])
    assert control == "fixed" and why.startswith("1 of 2 signals run actuated control (act)")
    nema = nets["t_junctions_nema"]
    coordinated = tuple(replace(s, programs=(replace(s.program, params=(*s.program.params,
                                                                         ("coordinate-mode", "true"))),))
                        for s in nema.signals)
    assert running_control(Network(nema.path, coordinated), nema.signal_ids)[0] == "coordinated"
