"""Actuated plans (signalopt.actuated, detectors, actuated_encoding): settings validated, placed detectors,
SUMO's actuated controller running them, the optimiser tuning them, and their controller exports.

Pure checks run without SUMO; the controller behaviour is measured in real SUMO on the bundled isolated
junction with demand (greens between the minimum and the maximum, gap-outs under light traffic,
max-outs under heavy).
"""

from __future__ import annotations

import functools
import json
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_bad_input import assert_one_line_error
from test_bad_input import run_cli as _run_cli

from signalopt import _sumo
from signalopt.actuated import Actuation, Detector, StageActuation
from signalopt.actuated_encoding import (STOCK_MAX_GREEN_S, STOCK_PASSAGE_S, make_actuated_encoding,
                                         shared_settings_at)
from signalopt.baselines import made_safe
from signalopt.detectors import actuated_plan, lane_lengths_m
from signalopt.errors import InputError, PlanError
from signalopt.export import export_plans
from signalopt.formats.nema import dual_ring
from signalopt.formats.ntcip import read_ntcip_csv
from signalopt.formats.planfile import read_plans, write_plans
from signalopt.formats.sumo import plans_additional
from signalopt.network import Network, read_network
from signalopt.options import TimingOptions
from signalopt.plan import PlanSet, TimingPlan
from signalopt.programs import existing_plans
from signalopt.roundtrip import _runs
from signalopt.safety import check_plans

ROOT = Path(__file__).resolve().parents[1]
ISOLATED = ROOT / "networks" / "isolated" / "isolated.net.xml"
SCENARIO = ROOT / "scenarios" / "isolated.toml"
TIMING = TimingOptions()


@functools.cache
def net() -> Network:
    return read_network(ISOLATED)


@functools.cache
def base() -> PlanSet:
    return made_safe(existing_plans(net(), TIMING)[0], net(), TIMING)[0]


def actuated(max_green_s: float = 40.0, passage_s: float = 2.5, distance_m: float = 30.0) -> TimingPlan:
    plan = base()["center"]
    n = len(plan.phases)
    return actuated_plan(plan, net().signal("center"), max_greens_s=[max_green_s] * n, passages_s=[passage_s] * n,
                         distance_m=distance_m)


# ------------------------------------------------------------------ settings (no SUMO)
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"min_green_s": 0.5, "max_green_s": 30, "passage_s": 3}, r"min_green_s must be in \[1, inf\] \(0.5\)"),
    ({"min_green_s": 10, "max_green_s": 8, "passage_s": 3}, r"max_green_s must be in \[10, inf\] \(8\)"),
    ({"min_green_s": 10, "max_green_s": 30, "passage_s": 20}, r"passage_s must be in \[0.5, 10\] \(20\)"),
    ({"min_green_s": 10, "max_green_s": 30, "passage_s": 3, "recall": "soft"},
     r"recall must be one of none, min, max, ped \(.soft.\)"),
    ({"min_green_s": float("nan"), "max_green_s": 30, "passage_s": 3}, "must be a finite number"),
])
def test_stage_settings_are_validated(kwargs: dict, match: str) -> None:
    with pytest.raises(PlanError, match=match):
        StageActuation(**kwargs)


def test_detectors_lie_on_their_lanes_and_extend_the_stage_that_serves_them() -> None:
    plan = actuated(distance_m=30.0)
    signal = net().signal("center")
    lengths = lane_lengths_m(signal)
    assert {d.lane for d in plan.actuation.detectors} == set(lengths)
    for d in plan.actuation.detectors:
        assert 0 < d.pos_m < lengths[d.lane] and d.pos_m + d.distance_m == pytest.approx(lengths[d.lane])
        assert d.distance_m == 30.0
        served = [k for k, c in enumerate(plan.phases[d.stage].state) if c in "Gg" and d.lane in
                  signal.links[k].from_lanes]
        assert served, d
        # no earlier stage serves the lane
        assert not any(d.lane in signal.links[k].from_lanes for i in range(d.stage)
                       for k, c in enumerate(plan.phases[i].state) if c in "Gg")
    # a detector farther than the lane is long moves to the lane's start, and says where it is
    far = actuated(distance_m=149.0).actuation.detectors
    assert all(d.distance_m <= lengths[d.lane] for d in far)


def test_actuated_plans_round_trip_through_json_and_are_checked_for_safety(tmp_path: Path) -> None:
    plan = actuated()
    plans = base().replace_plans([plan])
    write_plans(plans, tmp_path / "a.json")
    back = read_plans(tmp_path / "a.json", network=net())
    assert back["center"] == plan and back["center"].actuation.stages[0].passage_s == 2.5
    assert check_plans(plans, net()) == []
    # a minimum below the stage's own is unsafe: a gap-out would cut the green there
    low = Actuation((StageActuation(3.0, 40.0, 2.5),) + plan.actuation.stages[1:], plan.actuation.detectors)
    bad = plans.replace_plans([TimingPlan("center", plan.phases, offset_s=plan.offset_s, ped_links=plan.ped_links,
                                          actuation=low)])
    violations = check_plans(bad, net())
    assert [v.rule for v in violations] == ["actuated minimum green below the stage minimum"]
    # a detector on a lane the signal does not control
    alien = Actuation(plan.actuation.stages, plan.actuation.detectors + (Detector("nowhere_0", 20.0, 5.0, 0),))
    bad = plans.replace_plans([TimingPlan("center", plan.phases, ped_links=plan.ped_links, actuation=alien)])
    assert [v.rule for v in check_plans(bad, net())] == ["detector on a lane the signal does not control"]
    # a detector that extends a stage in which its lane has no green
    lane = plan.actuation.detectors[0]
    wrong = next(i for i, ph in enumerate(plan.phases)
                 if not any(c in "Gg" and lane.lane in net().signal("center").links[k].from_lanes
                            for k, c in enumerate(ph.state)))
    moved = Actuation(plan.actuation.stages, (Detector(lane.lane, lane.distance_m, lane.pos_m, wrong),)
                      + plan.actuation.detectors[1:])
    bad = plans.replace_plans([TimingPlan("center", plan.phases, ped_links=plan.ped_links, actuation=moved)])
    assert [v.rule for v in check_plans(bad, net())] == ["detector extends a stage that does not serve its lane"]
    # coordinated: a minimum the split cannot hold
    long_min = Actuation((StageActuation(plan.phases[0].green_s + 5, 60.0, 2.5),) + plan.actuation.stages[1:],
                         plan.actuation.detectors, mode="coordinated")
    bad = plans.replace_plans([TimingPlan("center", plan.phases, ped_links=plan.ped_links, actuation=long_min)])
    assert [v.rule for v in check_plans(bad, net())] == [
        "actuated minimum green longer than the split allows (coordinated)"]
    with pytest.raises(PlanError, match="actuation has 2 stage settings for 4 stages"):
        TimingPlan("center", plan.phases, actuation=Actuation(plan.actuation.stages[:2], ()))


@pytest.mark.parametrize("full", [False, True], ids=["compact", "full"])
def test_encoding_decodes_safe_plans_and_starts_at_sumos_stock_settings(full: bool) -> None:
    enc = make_actuated_encoding(net(), base(), TIMING, full=full)
    n = len(base()["center"].phases)
    # the isolated junction's east-west left turns and minor through may skip (the first stage, the north-south
    # lefts, starts each cycle and is served): one more component chooses it
    assert enc.skippable == ((2, 3),) and enc.labels()[-1] == "skip"
    assert enc.size == (1 + 3 * n if full else 2 + n) + 1 and len(enc.labels()) == enc.size
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.random(enc.size)
        plans = enc.decode(x)
        assert check_plans(plans, net()) == []
        assert np.allclose(enc.encode(plans)[:-1], x[:-1], atol=0.02)  # tenths of a second
        assert enc.encode(plans)[-1] == float(x[-1] >= 0.5)
        act = plans["center"].actuation
        assert [s.recall for s in act.stages] == (["min", "min", "none", "none"] if x[-1] >= 0.5 else ["min"] * n)
        if not full:  # one passage for every stage, minimums at the stages' own
            assert len({s.passage_s for s in act.stages}) == 1
            assert [s.min_green_s for s in act.stages] == [p.effective_min_green_s for p in base()["center"].phases]
    stock = enc.decode(enc.encode(base()))["center"].actuation
    assert all(s.max_green_s == pytest.approx(STOCK_MAX_GREEN_S, abs=0.1) and s.passage_s == STOCK_PASSAGE_S
               for s in stock.stages)
    assert [s.min_green_s for s in stock.stages] == [p.effective_min_green_s for p in base()["center"].phases]


# ------------------------------------------------------------------ SUMO's actuated controller runs them
def _greens(plan: TimingPlan, tmp_path: Path, period_s: float, *, fmt: str = "sumo") -> list[list[float]]:
    """Green durations per stage under Poisson demand from every leg (one vehicle per ``period_s``), run by
    SUMO's stage-based actuated controller (``sumo``) or its NEMA controller (``nema``)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if fmt == "sumo":
        (tmp_path / "p.add.xml").write_text(plans_additional(PlanSet((plan,)), program_id="act", network=net()),
                                            encoding="utf-8")
    else:
        export_plans(base().replace_plans([plan]), "nema", tmp_path / "p.add.xml", network=net())
    legs = [("n2center", "center2s"), ("s2center", "center2n"), ("e2center", "center2w"), ("w2center", "center2e")]
    flows = "".join(f'<flow id="f{k}" from="{a}" to="{b}" begin="0" end="1200" period="exp({1 / period_s:.4f})"/>'
                    for k, (a, b) in enumerate(legs))
    (tmp_path / "r.rou.xml").write_text(f"<routes>{flows}</routes>", encoding="utf-8")
    (tmp_path / "e.add.xml").write_text(f'<additional><timedEvent type="SaveTLSStates" source="center" '
                                        f'dest="{tmp_path / "st.xml"}"/></additional>', encoding="utf-8")
    done = subprocess.run([str(_sumo.binary("sumo")), "-n", str(ISOLATED), "-r", str(tmp_path / "r.rou.xml"),
                           "-a", f"{tmp_path / 'p.add.xml'},{tmp_path / 'e.add.xml'}", "--end", "1200",
                           "--no-step-log", "--no-warnings", "--seed", "7"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    series = [(float(e.get("time")), e.get("state")) for e in ET.parse(tmp_path / "st.xml").getroot()]
    out = []
    for ph in plan.phases:
        k = ph.state.index("G")
        out.append([e - s for s, e in _runs(series, k, "G") if s > 300])
    return out


@pytest.mark.parametrize("fmt", ["sumo", "nema"])
def test_sumo_gaps_out_under_light_traffic_and_maxes_out_under_heavy(fmt: str, tmp_path: Path) -> None:
    plan = actuated(max_green_s=30.0, passage_s=2.0)
    light = _greens(plan, tmp_path / "light", period_s=30.0, fmt=fmt)
    heavy = _greens(plan, tmp_path / "heavy", period_s=2.0, fmt=fmt)
    for i, st in enumerate(plan.actuation.stages):
        for runs in (light[i], heavy[i]):
            assert runs and all(g >= st.min_green_s - 1e-6 for g in runs), (i, runs)
            if fmt == "sumo":  # a NEMA phase that ends first rests in green until its barrier partner ends
                assert all(g <= st.max_green_s + 1e-6 for g in runs), (i, runs)
    # light: most greens end at their minimum; heavy: the through stages reach their maximum
    assert np.mean([g <= st.min_green_s + 2 for runs, st in zip(light, plan.actuation.stages) for g in runs]) > 0.7
    throughs = [i for i, ph in enumerate(plan.phases) if ph.state.count("G") > 2]
    assert any(max(heavy[i]) == pytest.approx(plan.actuation.stages[i].max_green_s) for i in throughs)


@pytest.mark.parametrize("fmt", ["sumo", "nema"])
def test_stages_on_recall_none_are_skipped_without_a_call_and_served_with_one(fmt: str, tmp_path: Path) -> None:
    """The encoding's skip component: the minor stages on recall none, run by SUMO's stage-based actuated
    controller (its switching rules choose among the stages that may follow) and by its NEMA controller
    (exported with --format nema, simulated first).  With straight-ahead traffic on every leg, the east-west
    left-turn stage is never called and never shown; the north-south lefts (the first stage, which starts each
    cycle) are served at their minimum; the minor through stage is called and served, within its minimum and
    maximum."""
    enc = make_actuated_encoding(net(), base(), TIMING)
    x = enc.encode(base())
    x[-1] = 1.0
    plan = enc.decode(x)["center"]
    greens = _greens(plan, tmp_path, period_s=6.0, fmt=fmt)
    lefts = [i for i, ph in enumerate(plan.phases) if ph.state.count("G") == 2]
    assert lefts == [0, 2] and [st.recall for st in plan.actuation.stages] == ["min", "min", "none", "none"]
    for i, (runs, st) in enumerate(zip(greens, plan.actuation.stages)):
        if i == 2:
            assert runs == [], (i, runs)  # nobody turns left: skipped every cycle
        else:
            assert runs and all(g >= st.min_green_s - 1e-6 for g in runs), (i, st.recall, runs)
    assert np.median(greens[0]) <= plan.actuation.stages[0].min_green_s + 1.0  # served, nobody extends it


# ------------------------------------------------------------------ optimiser, CLI and exports
def run_cli(argv: list, capsys) -> tuple[int, str, str]:  # noqa: ANN001
    return _run_cli([str(a) for a in argv], capsys)


def test_cli_optimises_actuated_settings_and_exports_them(tmp_path: Path, capsys) -> None:
    out = tmp_path / "act.json"
    code, stdout, err = run_cli(["optimise", SCENARIO, "--control", "actuated", "--budget", "3", "--seeds", "1",
                                 "--workers", "2", "--objective", "delay", "--out", out, "--quiet",
                                 "--format", "json"], capsys)
    assert code == 0, err
    result = json.loads(stdout)
    assert result["fun"] <= result["x0_fun"] + 1e-9
    assert result["control"] == "actuated"
    plans = read_plans(out, network=net())
    assert plans["center"].actuation is not None and check_plans(plans, net()) == []
    # NTCIP carries the actuated settings; SUMO's actuated and NEMA controllers run them; UTDF says which format does
    sheet = export_plans(plans, "ntcip", tmp_path / "a.csv", network=net())
    rows = read_ntcip_csv(sheet.read_text(encoding="utf-8"))["center"]["phaseTable"]
    act = plans["center"].actuation.stages
    ring = dual_ring(plans["center"], net().signal("center"))
    for r in rows:
        stages = ring.phase(r["phaseNumber"]).stages
        assert r["phasePassage"] == round(act[stages[-1]].passage_s * 10)
        assert r["phaseMaximum1"] == int(sum(act[i].max_green_s for i in stages))
        assert r["phaseMinimumGreen"] == np.ceil(sum(act[i].min_green_s for i in stages))
    unit = read_ntcip_csv(sheet.read_text(encoding="utf-8"))["center"]
    assert {r["splitMode"] for r in unit["splitTable"]} == {3}  # minimum vehicle recall
    # free: a pattern without a cycle, offset or coordinated phase, so a cabinet does not coordinate it
    assert [(r["patternCycleTime"], r["patternOffsetTime"]) for r in unit["patternTable"]] == [(0, 0)]
    assert {r["splitCoordPhase"] for r in unit["splitTable"]} == {0}
    assert export_plans(plans, "sumo", tmp_path / "a.add.xml", network=net()).read_text().count(
        'type="actuated"') == 1
    nema = export_plans(plans, "nema", tmp_path / "n.add.xml", network=net()).read_text()
    assert 'key="coordinate-mode" value="false"' in nema and nema.count("<laneAreaDetector") == len(
        plans["center"].actuation.detectors)
    code, stdout, err = run_cli(["export", out, "--network", ISOLATED, "--format", "utdf", "--out",
                                 tmp_path / "x.csv"], capsys)
    assert_one_line_error(code, stdout, err, "utdf export refused", "actuated")
    # the comparison runs it beside SUMO's stock actuated controller
    code, stdout, err = run_cli(["compare", SCENARIO, "--plans", out, "--baselines", "existing,actuated",
                                 "--seeds", "101,102", "--workers", "2", "--format", "json"], capsys)
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(stdout)}
    assert {"existing", "actuated", "act"} <= set(rows)


def test_coordinated_actuated_plans_run_in_sumos_nema_controller(tmp_path: Path) -> None:
    """Coordinated mode: the maximums are the plan's splits (fixed force-offs) and the coordinated phases
    take the time the others leave; SUMO's stage-based controller has no force-offs, so the sumo format
    refuses it and names the formats that hold it."""
    plan = base()["center"]
    n = len(plan.phases)
    coord = actuated_plan(plan, net().signal("center"), max_greens_s=[40.0] * n, passages_s=[2.0] * n,
                          distance_m=30.0, mode="coordinated")
    plans = base().replace_plans([coord])
    text = export_plans(plans, "nema", tmp_path / "c.add.xml", network=net()).read_text()  # simulated first
    assert 'key="coordinate-mode" value="true"' in text
    ring = dual_ring(coord, net().signal("center"))
    for p in ring.phases:
        assert f'maxDur="{p.green_s:g}"' in text
    with pytest.raises(PlanError, match="needs force-offs.*--format nema"):
        export_plans(plans, "sumo", tmp_path / "s.add.xml", network=net())


def test_recall_none_and_ped_are_checked_against_the_stage_and_the_stages_that_may_follow() -> None:
    """recall none needs a detector on the stage's lanes and no crossing; ped needs a crossing; a stage
    before one that may be skipped must clear every stage that may follow it, with the standard interstage
    (its programmed one fits one next stage): the encoding's plans do (cover_skips), a hand-made one is
    refused."""
    from signalopt.programs import cover_skips

    plan = actuated()
    n = len(plan.phases)

    def with_recalls(p: TimingPlan, recalls: list[str], detectors=None) -> TimingPlan:  # noqa: ANN001
        stages = tuple(replace(st, recall=r) for st, r in zip(p.actuation.stages, recalls))
        return replace(p, actuation=replace(p.actuation, stages=stages,
                                            detectors=p.actuation.detectors if detectors is None else detectors))

    def rules(p: TimingPlan) -> set[str]:
        return {v.rule for v in check_plans(PlanSet((p,)), net(), timing=TIMING)}

    skipping = with_recalls(plan, ["min", "none", "min", "min"])
    assert "programmed interstage before a stage that may be skipped" in rules(skipping)
    covered = cover_skips(skipping, net().signal("center"), TIMING)
    assert rules(covered) == set() and not covered.phases[0].change
    assert [(p.yellow_s, p.all_red_s) for p in covered.phases] >= [(p.yellow_s, p.all_red_s) for p in plan.phases]
    short = replace(covered, phases=(replace(covered.phases[0], all_red_s=1.0, min_all_red_s=1.0),
                                     *covered.phases[1:]))
    assert {"all-red cut", "all-red cut when skipping to stage 3"} <= rules(short)
    lanes_of_stage_2 = {lane for k, c in enumerate(plan.phases[1].state) if c in "Gg"
                        for lane in net().signal("center").links[k].from_lanes}
    blind = tuple(d for d in plan.actuation.detectors if d.lane not in lanes_of_stage_2)
    blind_skipping = cover_skips(with_recalls(plan, ["min", "none", "min", "min"], blind), net().signal("center"),
                                 TIMING)
    assert {"recall none without a detector to call the stage",
            "recall none with no detector to call it after stage 1"} <= rules(blind_skipping)
    assert "pedestrian recall on a stage without a crossing" in rules(with_recalls(plan, ["ped"] + ["min"] * (n - 1)))
    assert "recall none on the first stage" in rules(
        cover_skips(with_recalls(plan, ["none", "min", "min", "min"]), net().signal("center"), TIMING))
    # a first stage that rests must be left on a call to its last successor too
    from signalopt.detectors import call_lanes
    last = call_lanes(net().signal("center"), plan.phases[0].state, plan.phases[-1].state)
    deaf = tuple(d for d in plan.actuation.detectors if d.lane not in last)
    resting = cover_skips(with_recalls(plan, ["min", "none", "none", "none"], deaf), net().signal("center"), TIMING)
    assert any(v.phase == plan.phases[-1].name and v.rule == "recall none with no detector to call it after stage 1"
               for v in check_plans(PlanSet((resting,)), net(), timing=TIMING))


def test_a_skipping_programme_writes_one_interstage_per_stage_that_may_follow() -> None:
    """The sumo programme of a plan that skips stages (no SUMO): each green's ``next`` lists an interstage per
    stage that may follow, in order, each leading into that stage's green and written for it; every candidate
    but the last carries a call (earlyTarget at gap-out, finalTarget at the maximum), the last the gap-out
    alone; one call detector per extension loop; the last interval leads into the first stage.  Without the
    network, or with a detector id SUMO's rules cannot parse, it is refused in one line."""
    from signalopt.formats.sumo import needs_network

    enc = make_actuated_encoding(net(), base(), TIMING)
    x = enc.encode(base())
    x[-1] = 1.0
    plans = enc.decode(x)
    plan = plans["center"]
    assert needs_network(plans) and not needs_network(PlanSet((actuated(),)))
    root = ET.fromstring(plans_additional(plans, program_id="act", network=net()))
    phases = list(root.find("tlLogic").iter("phase"))
    assert len(root.findall("laneAreaDetector")) == len(root.findall("inductionLoop")) == len(
        plan.actuation.detectors)
    stage_at = {k: i for i, k in enumerate(k for k, ph in enumerate(phases) if ph.get("minDur"))}
    assert len(stage_at) == len(plan.phases)
    for k, i in stage_at.items():
        assert phases[k].get("state") == plan.phases[i].intervals(plan.phases[0].state, plan.ped_links)[0][1]
    successors = {0: [1], 1: [2, 3, 0], 2: [3, 0], 3: [0]}  # recalls min, min, none, none
    for g, i in stage_at.items():
        candidates = [int(k) for k in phases[g].get("next").split()]
        reached = []
        for m, c in enumerate(candidates):
            first, k = phases[c], c
            while not phases[k].get("minDur"):  # follow the interstage to the green it leads into
                k = int(phases[k].get("next"))
            reached.append(stage_at[k])
            chain = plan.phases[i].intervals(plan.phases[stage_at[k]].state, plan.ped_links)[1:]
            assert phases[c].get("state") == chain[0][1]  # written for the stage it leads into
            if len(candidates) > 1:
                assert first.get("earlyTarget") and (first.get("finalTarget") is not None) == (m < len(candidates) - 1)
                if m < len(candidates) - 1:
                    assert "a:so_call|center|" in first.get("finalTarget")
        assert reached == successors[i], (i, reached)
    assert phases[-1].get("next") == "0" and stage_at[0] == 0
    with pytest.raises(PlanError, match="needs the network"):
        plans_additional(plans, program_id="act")
    odd = replace(plan, actuation=replace(plan.actuation, detectors=tuple(
        replace(d, lane=f"{d.lane}(x)") for d in plan.actuation.detectors)))
    with pytest.raises(PlanError, match=r"cannot stand in SUMO's switching rules"):
        plans_additional(PlanSet((odd,)), program_id="act", network=net())


def test_a_first_stage_with_every_other_stage_skipping_rests_until_one_is_called() -> None:
    """Only the first stage on recall: its green lists every other stage (each entered on a call) and then
    itself, which SUMO keeps when no rule holds; every other green goes on to the next stage or back."""
    plan = actuated()
    stages = tuple(replace(st, recall="min" if i == 0 else "none") for i, st in enumerate(plan.actuation.stages))
    from signalopt.programs import cover_skips
    plan = cover_skips(replace(plan, actuation=replace(plan.actuation, stages=stages)), net().signal("center"), TIMING)
    assert not check_plans(PlanSet((plan,)), net(), timing=TIMING)
    phases = list(ET.fromstring(plans_additional(PlanSet((plan,)), program_id="act", network=net()))
                  .find("tlLogic").iter("phase"))
    candidates = [int(k) for k in phases[0].get("next").split()]
    assert candidates[-1] == 0 and len(candidates) == len(plan.phases)  # stages 2, 3, 4, then itself
    assert all(phases[c].get("finalTarget", "").startswith("a:so_call|") for c in candidates[:-1])


def test_the_search_starts_at_sumos_stock_settings_served_and_skipping() -> None:
    from signalopt.optimiser import warm_starts
    from signalopt.scenario import read_scenario

    enc = make_actuated_encoding(net(), base(), TIMING)
    starts = warm_starts(read_scenario(SCENARIO), enc, base(), net())
    assert len(starts) == 2 and np.array_equal(starts[0][:-1], starts[1][:-1])
    recalls = [[st.recall for st in enc.decode(x)["center"].actuation.stages] for x in starts]
    assert recalls == [["min"] * 4, ["min", "min", "none", "none"]]


def test_a_resting_first_stage_holds_its_green_past_the_maximum_until_a_call(tmp_path: Path) -> None:
    """Only the first stage on recall, light traffic (one vehicle a minute from each leg): the first stage's
    green sometimes outlasts its maximum, resting until another stage is called, and never ends below its
    minimum; every other green keeps within its minimum and maximum."""
    from signalopt.programs import cover_skips

    plan = actuated(max_green_s=20.0)
    stages = tuple(replace(st, recall="min" if i == 0 else "none") for i, st in enumerate(plan.actuation.stages))
    plan = cover_skips(replace(plan, actuation=replace(plan.actuation, stages=stages)), net().signal("center"), TIMING)
    greens = _greens(plan, tmp_path, period_s=60.0)
    st0 = plan.actuation.stages[0]
    assert greens[0] and min(greens[0]) >= st0.min_green_s - 1e-6 and max(greens[0]) > st0.max_green_s + 1.0
    for runs, st in zip(greens[1:], plan.actuation.stages[1:]):
        assert all(st.min_green_s - 1e-6 <= g <= st.max_green_s + 1e-6 for g in runs), (st, runs)


def test_encoding_keeps_a_given_detector_distance_and_passage() -> None:
    """A time-of-day period keeps the day's detectors and passage: two components fewer, every decoded plan
    at exactly those settings, and a point encodes back to itself; settings outside the search's ranges, or
    kept in a full encoding, are refused in one line."""
    free = make_actuated_encoding(net(), base(), TIMING)
    kept = make_actuated_encoding(net(), base(), TIMING, kept=(42.0, 2.5))
    assert kept.size == free.size - 2 and kept.labels() == free.labels()[2:]
    rng = np.random.default_rng(3)
    for x in rng.random((5, kept.size)):
        plan = kept.decode(x)["center"]
        assert {st.passage_s for st in plan.actuation.stages} == {2.5}
        assert max(d.distance_m for d in plan.actuation.detectors) == 42.0
        assert check_plans(kept.decode(x), net()) == []
        assert kept.decode(kept.encode(kept.decode(x))) == kept.decode(x)
    # the same maxima and skipping as the free encoding at the kept point
    x = rng.random(kept.size)
    at = np.concatenate([[(42.0 - 10.0) / 50.0, (2.5 - 1.0) / 4.0], x])
    assert kept.decode(x) == free.decode(at)
    assert shared_settings_at(at) == (42.0, 2.5)
    with pytest.raises(InputError, match=r"detector distance must be in \[10, 60\] m \(80"):
        make_actuated_encoding(net(), base(), TIMING, kept=(80.0, 2.5))
    with pytest.raises(InputError, match=r"passage must be in \[1, 5\] s \(0.2"):
        make_actuated_encoding(net(), base(), TIMING, kept=(30.0, 0.2))
    with pytest.raises(InputError, match="full actuated encoding"):
        make_actuated_encoding(net(), base(), TIMING, full=True, kept=(30.0, 2.0))


def test_whole_second_cycle_stretches_a_green_with_room_below_its_maximum() -> None:
    from signalopt.actuated_encoding import whole_second_cycle
    from signalopt.plan import Phase

    at_max = Phase("A", "GGGgrrrrGGGgrrrr", 60.0, 3.3, 2.5, max_green_s=60.0)
    room = Phase("B", "rrrrGGGgrrrrGGGg", 20.0, 3.3, 2.2, max_green_s=60.0)
    plan = TimingPlan("center", (at_max, room))  # 91.3 s
    out = whole_second_cycle(plan)
    assert out.cycle_s == pytest.approx(92.0) and [p.green_s for p in out.phases] == [60.0, 20.7]
    full = TimingPlan("center", (at_max, replace(room, max_green_s=20.0)))
    assert whole_second_cycle(full) == full  # no green may grow: left as it is, never past a maximum
