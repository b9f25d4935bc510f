"""Export formats (signalopt.export, formats_nema/ntcip/utdf, sumo_import) and the validate/export CLI.

* every ``sumo`` and ``nema`` export loads and runs in SUMO on both bundled nets, and the NEMA programme
  shows the same vehicle signals as the static one, step by step (offset reference included);
* round trips: json exactly; sumo additional -> import -> the same cycle, greens, yellows, all-reds, offset;
  UTDF -> read_utdf -> the same cycle, splits and offsets; NTCIP fields in the standard's units and ranges;
* a catalogue of unsafe plans is refused with the rule that is broken, and nothing is written; plans the
  constructors refuse are written as plan *files* and refused on read with one CLI line (exit 2);
* plans that do not fit a format (not a dual ring, values out of the format's range) are refused too.

Safe test plans come from the encoding (decoded plans meet every minimum); the bundled existing plans are
deliberately unsafe (3 s yellows under ITE) and serve as the "lists every violation" case.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import subprocess
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from signalopt import _sumo
from signalopt.cli import build_parser, main
from signalopt.encoding import make_encoding
from signalopt.errors import InputError, PlanError, UnsafePlanError
from signalopt.export import FORMATS, export_paths, export_plans, sumo_additional_text
from signalopt.formats.nema import dual_ring, reference_offset_s
from signalopt.formats.ntcip import NTCIP_MAX, integer_splits, read_ntcip_csv
from signalopt.formats.utdf import read_utdf
from signalopt.network import Network, read_network
from signalopt.plan import Phase, PlanSet, TimingPlan
from signalopt.formats.planfile import read_plan_file, read_plans, write_plans
from signalopt.programs import existing_plans
from signalopt.safety import check_plans
from signalopt.options import TimingOptions
from signalopt.formats.sumo import read_sumo_additional

ROOT = Path(__file__).resolve().parents[1]
ISOLATED = ROOT / "networks" / "isolated" / "isolated.net.xml"
QIXIANGTAI = ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml"
NETS = {"isolated": ISOLATED, "qixiangtai": QIXIANGTAI}
TIMING = TimingOptions()
PROVENANCE = {"signalopt": "0.1.0", "scenario": "test", "scenario_digest": "d1g3st", "seeds": [1, 2]}
ROUTES = {
    "isolated": [("n2center", "center2s"), ("s2center", "center2w"), ("e2center", "center2w"),
                 ("w2center", "center2n")],
    "qixiangtai": [("qx_n2weidi", "zijinshan2qx_s"), ("qx_s2zijinshan", "weidi2qx_n"),
                   ("weidi_w2weidi", "weidi2weidi_e"), ("pingshan_e2pingshan", "pingshan2pingshan_w"),
                   ("zijinshan_w2zijinshan", "zijinshan2pingshan_up")],
}


@functools.cache
def net(name: str) -> Network:
    return read_network(NETS[name])


@functools.cache
def safe(name: str, *, level: float = 0.37, lag: bool = False) -> PlanSet:
    """A plan set the encoding built (safe by construction); ``lag``: lagging lefts."""
    base = existing_plans(net(name), TIMING)[0]
    enc = make_encoding(net(name), base, TIMING, lead_lag=lag)
    x = np.full(enc.size, level)
    if lag:
        x[[i for i, label in enumerate(enc.labels()) if ":lag" in label]] = 0.9
    return enc.decode(x, name=f"{name}-safe")


def forge(obj, **changes):
    """A copy of a frozen plan object with fields set past its constructor's checks."""
    new = copy.copy(obj)
    for k, v in changes.items():
        object.__setattr__(new, k, v)
    return new


def with_plan(plans: PlanSet, plan: TimingPlan) -> PlanSet:
    return forge(plans, plans=tuple(plan if p.signal_id == plan.signal_id else p for p in plans))


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("signalopt: error: "), err
    return lines[0]


# ------------------------------------------------------------------ SUMO runs


def _routes(folder: Path, name: str) -> Path:
    path = folder / f"{name}.rou.xml"
    lines = ["<routes>"]
    for k, (a, b) in enumerate(ROUTES[name]):
        lines.append(f'  <flow id="f{k}" from="{a}" to="{b}" begin="0" end="600" period="exp(0.08)" '
                     f'departLane="best"/>')
    lines.append("</routes>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run_sumo(name: str, additional: list[Path], folder: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [str(_sumo.binary("sumo")), "-n", str(NETS[name]), "-r", str(_routes(folder, name)),
           "-a", ",".join(map(str, additional)), "--no-step-log", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("fmt", ["sumo", "nema"])
@pytest.mark.parametrize("name", ["isolated", "qixiangtai"])
def test_export_loads_and_runs_in_sumo(name: str, fmt: str, tmp_path: Path) -> None:
    out = export_plans(safe(name), fmt, tmp_path / f"plans.{fmt}.add.xml", network=net(name), provenance=PROVENANCE)
    done = _run_sumo(name, [out], tmp_path, "--end", "600")
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stdout + done.stderr


def _tls_states(path: Path) -> dict[str, dict[float, str]]:
    out: dict[str, dict[float, str]] = defaultdict(dict)
    for e in ET.parse(path).getroot():
        out[e.get("id")][round(float(e.get("time")), 1)] = e.get("state")
    return out


@pytest.mark.parametrize(("name", "lag"), [("isolated", False), ("qixiangtai", False), ("qixiangtai", True)],
                         ids=["isolated", "qixiangtai", "qixiangtai-lagging-lefts"])
def test_nema_shows_the_static_plan(name: str, lag: bool, tmp_path: Path) -> None:
    """With 0.1 s steps the NEMA programme gives every vehicle link exactly the static programme's signal:
    same splits, same ring order, same offset (TS2: start of green of phases 2+6), from the first cycle on
    (before it the NEMA controller runs its start-up transition into coordination).  Crossings differ by
    design (SUMO's NEMA controller has no pedestrian clearance)."""
    plans = safe(name, lag=lag)
    states = {}
    for fmt in ("sumo", "nema"):
        out = export_plans(plans, fmt, tmp_path / f"{fmt}.add.xml", network=net(name))
        events = tmp_path / f"{fmt}.events.xml"
        events.write_text("<additional>\n" + "".join(
            f'  <timedEvent type="SaveTLSStates" source="{p.signal_id}" dest="{fmt}.states.xml"/>\n'
            for p in plans) + "</additional>\n", encoding="utf-8")
        done = _run_sumo(name, [out, events], tmp_path, "--end", "300", "--step-length", "0.1", "--no-warnings")
        assert done.returncode == 0, done.stderr
        states[fmt] = _tls_states(tmp_path / f"{fmt}.states.xml")
    for plan in plans:
        ped = net(name).signal(plan.signal_id).ped_links
        static, nema = states["sumo"][plan.signal_id], states["nema"][plan.signal_id]
        assert len(static) > 2000
        for t, s in static.items():
            if t < plan.cycle_s:
                continue
            vehicles = [k for k in range(len(s)) if k not in ped]
            assert [s[k] for k in vehicles] == [nema[t][k] for k in vehicles], (plan.signal_id, t)


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", ["isolated", "qixiangtai"])
def test_json_round_trip_is_exact(name: str, tmp_path: Path) -> None:
    plans = safe(name)
    out = export_plans(plans, "json", tmp_path / "plans.json", network=net(name), provenance=PROVENANCE)
    back, prov = read_plan_file(out, network=net(name))
    assert back == plans
    assert prov["scenario_digest"] == "d1g3st" and prov["signalopt"] and prov["created"]
    assert prov["network"] == NETS[name].name and len(prov["network_sha256"]) == 64


@pytest.mark.parametrize("name", ["isolated", "qixiangtai"])
def test_sumo_additional_round_trip(name: str, tmp_path: Path) -> None:
    plans = safe(name)
    out = export_plans(plans, "sumo", tmp_path / "plans.add.xml", network=net(name), provenance=PROVENANCE)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!-- signalopt=") and "scenario_digest=d1g3st" in text and "created=" in text
    back, warnings = read_sumo_additional(out, net(name))
    assert warnings == []
    assert back.signal_ids == plans.signal_ids
    for a, b in zip(plans, back):
        assert b.cycle_s == pytest.approx(a.cycle_s)
        assert b.offset_s == pytest.approx(a.offset_s)
        for p, q in zip(a.phases, b.phases):
            assert (q.state, q.green_s, q.yellow_s, q.all_red_s) == pytest.approx((p.state, p.green_s, p.yellow_s,
                                                                                   p.all_red_s))
            assert q.ped_clearance_s == pytest.approx(p.ped_clearance_s)
    # the plan-file reader takes a .xml too (export, validate and simulate --plans use it)
    assert read_plans(out, network=net(name)) == back
    assert check_plans(back, net(name)) == []


def test_sumo_import_refusals(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs the network"):
        read_plan_file(export_plans(safe("isolated"), "sumo", tmp_path / "a.xml", network=net("isolated")))
    nema = export_plans(safe("isolated"), "nema", tmp_path / "n.xml", network=net("isolated"))
    with pytest.raises(InputError, match="is NEMA; only static programmes can be read back"):
        read_sumo_additional(nema, net("isolated"))
    other = tmp_path / "other.xml"
    other.write_text('<additional><tlLogic id="nowhere" type="static" programID="x" offset="0">'
                     '<phase duration="30" state="GGrr"/></tlLogic></additional>', encoding="utf-8")
    with pytest.raises(InputError, match=r"signal id not in the network \(nowhere\)"):
        read_sumo_additional(other, net("isolated"))
    short = tmp_path / "short.xml"
    short.write_text('<additional><tlLogic id="center" type="static" programID="x" offset="0">'
                     '<phase duration="30" state="GGrr"/></tlLogic></additional>', encoding="utf-8")
    with pytest.raises(InputError, match="programme x phase 0 has 4 link states, the network 16"):
        read_sumo_additional(short, net("isolated"))


def test_program_id_never_clashes_with_the_network(tmp_path: Path) -> None:
    plans = PlanSet(tuple(replace(p, program_id="school") for p in safe("isolated")))
    out = export_plans(plans, "sumo", tmp_path / "p.add.xml", network=net("isolated"))
    assert 'programID="school-signalopt"' in out.read_text(encoding="utf-8")
    done = _run_sumo("isolated", [out], tmp_path, "--end", "60")
    assert done.returncode == 0, done.stderr


def test_utdf_round_trip(tmp_path: Path) -> None:
    plans = safe("qixiangtai")
    out = export_plans(plans, "utdf", tmp_path / "plans.csv", network=net("qixiangtai"), provenance=PROVENANCE)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# signalopt: ")  # provenance as comment lines, which the reader skips
    assert "# scenario_digest: d1g3st" in text and "# created: " in text
    assert "# INTID 3 = weidi" in text and "UTDFVERSION,8" in text
    utdf = read_utdf(out)
    assert utdf.version == 8
    assert [i.name for i in utdf.intersections] == list(plans.signal_ids)
    assert [i.intid for i in utdf.intersections] == list(range(1, len(plans) + 1))
    for plan in plans:
        rec = utdf[plan.signal_id]
        ring = dual_ring(plan, net("qixiangtai").signal(plan.signal_id))
        assert rec.cycle_s == plan.cycle_s
        assert rec.reference_phases == (2, 6) and rec.referenced_to == 0 and rec.control_type == 0
        assert rec.offset_s == pytest.approx(reference_offset_s(plan, ring))
        # the plan's own offset (start of its first stage) comes back from the phase of that stage
        first = next(p.number for p in ring.phases if p.stage == 0)
        assert rec.phase_offset_s(first) == pytest.approx(plan.offset_s)
        assert set(rec.phases) == set(range(1, 9))
        for p in ring.phases:
            stage, got = plan.phases[p.stage], rec.phases[p.number]
            assert got.split_s == pytest.approx(stage.split_s)
            assert (got.yellow_s, got.all_red_s, got.max_green_s) == pytest.approx(
                (stage.yellow_s, stage.all_red_s, stage.green_s))
            assert (got.end_s - got.start_s) % plan.cycle_s == pytest.approx(stage.split_s)
            assert got.brp == 100 * p.barrier + 10 * p.ring + p.position
            if p.crossings:
                assert (got.walk_s, got.dont_walk_s) == pytest.approx(
                    (stage.green_s - stage.ped_clearance_s, stage.ped_clearance_s))
        assert sum(rec.phases[n].split_s for n in ring.ring_sequence(1)) == pytest.approx(plan.cycle_s)


def test_utdf_reader_refuses_broken_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("# only a comment\n[Phases]\nPhasing Data\nRECORDNAME,INTID,D1\nBRP,1,111\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"section \[Timeplans\] missing"):
        read_utdf(bad)
    bad.write_text("[Timeplans]\nTiming Plan Settings\nRECORDNAME,INTID,DATA\nCycle Length,1,abc\nOffset,1,0\n"
                   "[Phases]\nPhasing Data\nRECORDNAME,INTID,D1\nBRP,1,111\nMaxGreen,1,20\nYellow,1,3\n"
                   "AllRed,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"Cycle Length: not a number \(abc\)"):
        read_utdf(bad)


@pytest.mark.parametrize("name", ["isolated", "qixiangtai"])
def test_ntcip_fields_in_units_and_ranges(name: str, tmp_path: Path) -> None:
    plans = safe(name)
    export_plans(plans, "ntcip", tmp_path / "sheet", network=net(name), provenance=PROVENANCE)
    assert export_paths("ntcip", tmp_path / "sheet") == [tmp_path / "sheet.csv", tmp_path / "sheet.json"]
    doc = json.loads((tmp_path / "sheet.json").read_text(encoding="utf-8"))
    assert doc["provenance"]["scenario_digest"] == "d1g3st" and doc["provenance"]["created"]
    assert doc["field_units"]["phaseYellowChange"] == "0.1 s" and doc["field_units"]["splitTime"] == "s"
    csv_text = (tmp_path / "sheet.csv").read_text(encoding="utf-8")
    assert csv_text.startswith("# signalopt: ")
    assert read_ntcip_csv(csv_text) == doc["units"]  # CSV and JSON carry the same tables
    assert list(doc["units"]) == list(plans.signal_ids)  # one unit per signal
    for plan in plans:
        signal = net(name).signal(plan.signal_id)
        ring = dual_ring(plan, signal)
        unit = doc["units"][plan.signal_id]
        for table in unit.values():
            for row in table:
                for field, v in row.items():
                    if field == "description":  # signalopt's note, not an NTCIP object
                        assert isinstance(v, str) and v
                        continue
                    for x in (v if isinstance(v, list) else [v]):
                        assert isinstance(x, int) and 0 <= x <= NTCIP_MAX, (field, x)
        phases = {r["phaseNumber"]: r for r in unit["phaseTable"]}
        splits = {r["splitPhase"]: r for r in unit["splitTable"]}
        assert set(phases) == set(splits) == set(range(1, 9))
        for p in ring.phases:
            stage = plan.phases[p.stage]
            row = phases[p.number]
            assert row["phaseYellowChange"] == round(stage.yellow_s * 10)  # tenths
            assert row["phaseRedClear"] == round(stage.all_red_s * 10)
            assert row["phaseMinimumGreen"] == np.ceil(max(plan.phases[i].min_green_s for i in p.stages))
            assert row["phaseRing"] == p.ring and row["phaseConcurrency"] == ring.concurrent(p.number)
            split = splits[p.number]["splitTime"]
            assert abs(split - stage.split_s) < 1
            green = split - stage.yellow_s - stage.all_red_s
            assert row["phaseMaximum1"] <= green < row["phaseMaximum1"] + 1
            assert splits[p.number]["splitCoordPhase"] == (1 if p.number in ring.coordinated else 0)
            if p.crossings:
                assert row["phaseWalk"] >= 7 and row["phasePedestrianClear"] >= stage.ped_clearance_s
                assert row["phaseWalk"] + row["phasePedestrianClear"] <= green
                assert splits[p.number]["splitMode"] == 6
            else:
                assert row["phaseWalk"] == row["phasePedestrianClear"] == 0
        pattern = unit["patternTable"][0]
        assert pattern["patternCycleTime"] == plan.cycle_s
        for r in (1, 2):  # each ring's splits fill the cycle
            assert sum(splits[n]["splitTime"] for n in ring.ring_sequence(r)) == plan.cycle_s
        delta = (pattern["patternOffsetTime"] - reference_offset_s(plan, ring)) % plan.cycle_s
        assert min(delta, plan.cycle_s - delta) <= 1.0
        assert [s["sequenceData"] for s in unit["sequenceTable"]] == [ring.ring_sequence(1), ring.ring_sequence(2)]


def test_ntcip_out_suffix_picks_csv_or_json(tmp_path: Path) -> None:
    plans = safe("isolated")
    a = export_plans(plans, "ntcip", tmp_path / "x.csv", network=net("isolated"))
    b = export_plans(plans, "ntcip", tmp_path / "x.json", network=net("isolated"))
    assert a.read_text(encoding="utf-8").startswith("#")
    assert json.loads(b.read_text(encoding="utf-8"))["units"]["center"]["patternTable"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.json"]


def test_integer_splits_keep_the_minimums() -> None:
    plan = safe("qixiangtai")["weidi"]
    splits = integer_splits(plan, net("qixiangtai").signal("weidi"), TIMING)
    assert sum(splits) == plan.cycle_s
    for s, ph in zip(splits, plan.phases):
        assert s >= ph.effective_min_green_s + ph.yellow_s + ph.all_red_s
        assert abs(s - ph.split_s) < 1


def test_csv_timing_sheet(tmp_path: Path) -> None:
    plans = safe("qixiangtai")
    out = export_plans(plans, "csv", tmp_path / "sheet.csv", network=net("qixiangtai"), provenance=PROVENANCE)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# signalopt: ") and "# scenario_digest: d1g3st" in lines
    rows = list(csv.DictReader(ln for ln in lines if not ln.startswith("#")))
    assert len(rows) == sum(len(p.phases) for p in plans)
    for plan in plans:
        mine = [r for r in rows if r["signal_id"] == plan.signal_id]
        assert [r["nema_phases"] for r in mine] == ["1+5", "2+6", "3+7", "4+8"]
        assert sum(float(r["split_pct"]) for r in mine) == pytest.approx(100, abs=0.2)
        for r, ph in zip(mine, plan.phases):
            assert float(r["green_s"]) + float(r["yellow_s"]) + float(r["all_red_s"]) == pytest.approx(
                float(r["split_s"]))
            assert (float(r["split_s"]), float(r["offset_s"]), float(r["cycle_s"])) == pytest.approx(
                (ph.split_s, plan.offset_s, plan.cycle_s))


# ------------------------------------------------------------------ dual ring


def test_dual_ring_numbering_on_qixiangtai() -> None:
    plan = safe("qixiangtai")["pingquan"]
    signal = net("qixiangtai").signal("pingquan")
    ring = dual_ring(plan, signal)
    assert ring.ring_sequence(1) == [1, 2, 3, 4] and ring.ring_sequence(2) == [5, 6, 7, 8]
    assert ring.groups == (((1, 2), (5, 6)), ((3, 4), (7, 8))) and ring.coordinated == (2, 6)
    assert ring.sumo_problem() is None and ring.overlaps == ()
    legs = {a.id: a.leg for a in signal.approaches}
    got = {p.number: (p.kind, *(legs[a] for a in p.approaches)) for p in ring.phases}
    assert got == {1: ("left", "S"), 2: ("through", "N"), 3: ("left", "W"), 4: ("through", "E"),
                   5: ("left", "N"), 6: ("through", "S"), 7: ("left", "E"), 8: ("through", "W")}
    # every crossing is served once, by a through phase, and every pairing across the rings is conflict-free
    crossings = [k for p in ring.phases for k in p.crossings]
    assert sorted(crossings) == sorted(signal.ped_links)
    assert all(p.kind == "through" for p in ring.phases if p.crossings)
    for p in ring.phases:
        for q in ring.concurrent(p.number):
            merged = "".join("G" if "G" in c else "g" if "g" in c else "r"
                             for c in zip(p.state, ring.phase(q).state))
            assert signal.conflicting_greens(merged) == []
    # phases 1+5 show stage 1, 2+6 stage 2, ...; each phase's green is its stage's
    for p in ring.phases:
        assert p.stages == ((p.number - 1) % 4,)
        assert (p.green_s, p.yellow_s, p.all_red_s) == (plan.phases[p.stage].green_s, plan.phases[p.stage].yellow_s,
                                                        plan.phases[p.stage].all_red_s)


def test_dual_ring_follows_lagging_lefts_and_rotation() -> None:
    lag = safe("qixiangtai", lag=True)["weidi"]
    ring = dual_ring(lag, net("qixiangtai").signal("weidi"))
    assert ring.ring_sequence(1) == [2, 1, 4, 3] and ring.groups[-1] == ((4, 3), (8, 7))
    plan = safe("qixiangtai")["weidi"]
    rotated = TimingPlan(plan.signal_id, plan.phases[1:] + plan.phases[:1],
                         offset_s=(plan.offset_s + plan.phases[0].split_s) % plan.cycle_s, ped_links=plan.ped_links)
    a, b = dual_ring(plan, net("qixiangtai").signal("weidi")), dual_ring(rotated, net("qixiangtai").signal("weidi"))
    assert [(p.number, p.state) for p in a.phases] == [(p.number, p.state) for p in b.phases]
    assert reference_offset_s(plan, a) == pytest.approx(reference_offset_s(rotated, b))


def _split_phasing() -> PlanSet:
    """A safe isolated plan that serves one approach at a time (left and through together)."""
    signal = net("isolated").signal("center")
    stages = []
    for leg in ("n2center", "e2center", "s2center", "w2center"):
        state = "".join("G" if link.approach == leg else "r" for link in signal.links)
        stages.append(Phase(leg, state, green_s=20.0, yellow_s=3.5, all_red_s=3.0))
    plans = PlanSet((TimingPlan("center", tuple(stages)),))
    assert check_plans(plans, net("isolated")) == []
    return plans


def _right_turn_chain() -> TimingPlan:
    """An isolated plan whose right turns overlap in a chain (N in stages 1-2, E in 2-3, S in 3-1): every
    stage boundary is inside one of them, so no barrier and no set of parent phases exists.  (It serves
    nothing else, so it is not safe: the mapping is refused before any safety question.)"""
    signal = net("isolated").signal("center")
    rights = {"n2center": (0, 1), "e2center": (1, 2), "s2center": (2, 0)}
    stages = []
    for i in range(3):
        state = "".join("G" if link.direction == "r" and i in rights.get(link.approach, ()) else "r"
                        for link in signal.links)
        stages.append(Phase(f"rights {i + 1}", state, green_s=20.0, yellow_s=3.5, all_red_s=3.0))
    return TimingPlan("center", tuple(stages))


def test_split_phasing_runs_as_sequential_phases_in_one_ring(tmp_path: Path) -> None:
    plans = _split_phasing()
    ring = dual_ring(plans["center"], net("isolated").signal("center"))
    assert ring.groups == (((2, 1), ()), ((4, 3), ()))  # ring 2 idle: one approach at a time
    assert {p.kind for p in ring.phases} == {"approach"}
    assert [ring.phase(n).approaches for n in ring.ring_sequence(1)] == [("n2center",), ("e2center",),
                                                                         ("s2center",), ("w2center",)]
    for fmt in FORMATS:
        assert export_plans(plans, fmt, tmp_path / f"ok.{fmt}", network=net("isolated")).exists()


def test_plans_that_no_ring_structure_runs_are_refused() -> None:
    with pytest.raises(PlanError, match="no ring-and-barrier structure runs these stages .*n2center through in "
                                        "stage.s. 1,2.* no set of phases can carry the ones that run across a "
                                        "barrier as overlaps"):
        dual_ring(_right_turn_chain(), net("isolated").signal("center"))


# ------------------------------------------------------------------ format ranges


def _with_stage(plans: PlanSet, sid: str, i: int, **changes) -> PlanSet:
    plan = plans[sid]
    phases = tuple(replace(p, **changes) if k == i else p for k, p in enumerate(plan.phases))
    return plans.replace_plans([replace(plan, phases=phases)])


def test_values_outside_a_formats_range_are_refused(tmp_path: Path) -> None:
    # a 26.x s yellow is safe, but NTCIP phaseYellowChange is tenths in 0..255
    yellow = safe("isolated")["center"].phases[1].yellow_s
    long_yellow = _with_stage(safe("isolated"), "center", 1, yellow_s=round(yellow + 23, 1))
    assert check_plans(long_yellow, net("isolated")) == []
    tenths = round((yellow + 23) * 10)
    with pytest.raises(PlanError, match=rf"NTCIP phaseYellowChange {tenths} 0\.1 s .* outside the standard's range "
                                        r"0\.\.255"):
        export_plans(long_yellow, "ntcip", tmp_path / "a.json", network=net("isolated"))
    # a cycle of n + 0.5 s: NTCIP and UTDF write whole-second cycles
    green = safe("isolated")["center"].phases[0].green_s
    half = _with_stage(safe("isolated"), "center", 0, green_s=green + 0.5)
    assert check_plans(half, net("isolated")) == []
    with pytest.raises(PlanError, match="NTCIP patternCycleTime is whole seconds"):
        export_plans(half, "ntcip", tmp_path / "b.csv", network=net("isolated"))
    with pytest.raises(PlanError, match="UTDF Cycle Length is whole seconds"):
        export_plans(half, "utdf", tmp_path / "c.csv", network=net("isolated"))
    # durations that are not whole tenths have no place in UTDF's 0.1 s fields
    ph = safe("isolated")["center"].phases[1]
    odd = _with_stage(safe("isolated"), "center", 1, yellow_s=ph.yellow_s + 0.05, all_red_s=ph.all_red_s + 0.95)
    assert check_plans(odd, net("isolated")) == []
    with pytest.raises(PlanError, match=r"UTDF Yellow must be a non-negative multiple of 0\.1 s"):
        export_plans(odd, "utdf", tmp_path / "d.csv", network=net("isolated"))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ unsafe catalogue


def _conflicting(name: str) -> PlanSet:
    plans = safe(name)
    plan = plans.plans[0]
    signal = net(name).signal(plan.signal_id)
    state = plan.phases[1].state
    a = next(k for k, c in enumerate(state) if c == "G" and k not in signal.ped_links)
    b = next(k for k, c in enumerate(state) if c == "r" and signal.are_foes(a, k))
    bad = state[:b] + "G" + state[b + 1:]
    return _with_stage(plans, plan.signal_id, 1, state=bad)


def _short_ped_green() -> PlanSet:
    plans = safe("qixiangtai")
    plan = plans["pingshan"]
    i = next(k for k, p in enumerate(plan.phases) if p.serves_pedestrians)
    return _with_stage(plans, "pingshan", i, green_s=10.0, walk_s=0.0, ped_clearance_s=0.0)


def _two_second_yellow() -> PlanSet:
    plans = safe("isolated")
    plan = plans["center"]
    ph = forge(plan.phases[0], yellow_s=2.0, min_yellow_s=2.0)
    return with_plan(plans, forge(plan, phases=(ph, *plan.phases[1:])))


def _offset_at_cycle() -> PlanSet:
    plans = safe("isolated")
    return with_plan(plans, forge(plans["center"], offset_s=plans["center"].cycle_s))


UNSAFE = {
    "conflicting-greens": ("isolated", lambda: _conflicting("isolated"), "conflicting movements green together"),
    "conflicting-greens-qx": ("qixiangtai", lambda: _conflicting("qixiangtai"),
                              "conflicting movements green together"),
    "green-under-ped-minimum": ("qixiangtai", _short_ped_green, "green below pedestrian minimum"),
    "two-second-yellow": ("isolated", _two_second_yellow, r"center stage 1: yellow cut \(2 s"),
    "offset-at-cycle": ("isolated", _offset_at_cycle, r"offset outside \[0, cycle\)"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(UNSAFE))
def test_unsafe_plans_are_refused_and_nothing_is_written(case: str, fmt: str, tmp_path: Path) -> None:
    name, build, message = UNSAFE[case]
    out = tmp_path / "out" / "plans.x"
    with pytest.raises(UnsafePlanError, match=message):
        export_plans(build(), fmt, out, network=net(name))
    assert not (tmp_path / "out").exists()


def _plan_file(tmp_path: Path, name: str, edit) -> Path:
    """A plan file of safe plans with one value edited in the JSON (past every constructor)."""
    path = tmp_path / "plans.json"
    write_plans(safe(name), path, provenance=PROVENANCE)
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc["plans"][0])
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _yellow_2(p: dict) -> None:
    p["phases"][0]["yellow_s"] = 2.0


def _yellow_2_promised(p: dict) -> None:
    p["phases"][0].update(yellow_s=2.0, min_yellow_s=2.0)


def _cycle_mismatch(p: dict) -> None:
    p["cycle_s"] = p["cycle_s"] + 7


def _offset_eq_cycle(p: dict) -> None:
    p["offset_s"] = p["cycle_s"]


def _ped_green_short(p: dict) -> None:
    ph = next(x for x in p["phases"] if x["walk_s"] > 0)
    ph["green_s"] = 10.0


FILE_CASES = {
    "two-second-yellow": ("isolated", _yellow_2, r"yellow_s 2 s cuts the minimum yellow"),
    "two-second-yellow-promised": ("isolated", _yellow_2_promised, r"min_yellow_s below the 3 s floor"),
    "splits-not-summing-to-cycle": ("isolated", _cycle_mismatch, r"splits sum to .* not the stated cycle"),
    "offset-at-cycle": ("isolated", _offset_eq_cycle, r"offset_s must be below the cycle"),
    "green-under-ped-minimum": ("qixiangtai", _ped_green_short, r"green_s 10 s is below its minimum"),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_unbuildable_plan_files_are_refused_on_read(case: str, tmp_path: Path, capsys) -> None:
    name, edit, message = FILE_CASES[case]
    path = _plan_file(tmp_path, name, edit)
    with pytest.raises(InputError, match=message):
        read_plan_file(path, network=net(name))
    out = tmp_path / "out.xml"
    for fmt in ("sumo", "nema"):
        line = one_line_error(*run_cli(["export", path, "--network", NETS[name], "--format", fmt, "--out", out],
                                       capsys)[::2])
        assert str(path) in line and "invalid plan" in line
        assert not out.exists()
    line = one_line_error(*run_cli(["validate", path, "--network", NETS[name]], capsys)[::2])
    assert "invalid plan" in line


# ------------------------------------------------------------------ CLI


def test_cli_formats_match_the_library() -> None:
    parser = build_parser()
    for fmt in FORMATS:
        assert parser.parse_args(["export", "p.json", "--network", "n", "--format", fmt, "--out", "o"]).format == fmt
    with pytest.raises(InputError, match="invalid choice"):
        parser.parse_args(["export", "p.json", "--network", "n", "--format", "vissim", "--out", "o"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_export_every_format(fmt: str, tmp_path: Path, capsys) -> None:
    plan_file = tmp_path / "input.json"
    write_plans(safe("qixiangtai"), plan_file, provenance=PROVENANCE)
    out = tmp_path / ("plans.add.xml" if fmt in ("sumo", "nema") else f"plans.{fmt}")
    code, stdout, err = run_cli(["export", plan_file, "--network", QIXIANGTAI, "--format", fmt, "--out", out], capsys)
    assert code == 0, err
    paths = export_paths(fmt, out)
    assert stdout.splitlines() == [f"wrote {p}" for p in paths]
    for p in paths:
        text = p.read_text(encoding="utf-8")
        assert "d1g3st" in text and "created" in text  # provenance in every file
    if fmt == "sumo":  # a SUMO additional file is a plan file too
        code, stdout, err = run_cli(["export", out, "--network", QIXIANGTAI, "--format", "ntcip",
                                     "--out", tmp_path / "again.json"], capsys)
        assert code == 0, err


def test_cli_export_refuses_unsafe_plans_in_one_line(tmp_path: Path, capsys) -> None:
    plan_file = tmp_path / "existing.json"
    write_plans(existing_plans(net("qixiangtai"), TIMING)[0], plan_file)
    out = tmp_path / "plans.add.xml"
    line = one_line_error(*run_cli(["export", plan_file, "--network", QIXIANGTAI, "--format", "nema",
                                    "--out", out], capsys)[::2])
    assert "unsafe plan, 21 violation(s)" in line and "weidi stage 1: yellow cut (3 s; limit 3.3 s" in line
    assert not out.exists()
    # a plan that is safe but does not fit the format: one line naming the reason
    half_file = tmp_path / "half.json"
    green = safe("isolated")["center"].phases[0].green_s
    write_plans(_with_stage(safe("isolated"), "center", 0, green_s=green + 0.5), half_file)
    line = one_line_error(*run_cli(["export", half_file, "--network", ISOLATED, "--format", "utdf",
                                    "--out", tmp_path / "u.csv"], capsys)[::2])
    assert "utdf export refused" in line and "UTDF Cycle Length is whole seconds" in line
    assert not (tmp_path / "u.csv").exists()


def test_cli_validate_lists_every_violation(tmp_path: Path, capsys) -> None:
    plan_file = tmp_path / "existing.json"
    existing = existing_plans(net("qixiangtai"), TIMING)[0]
    write_plans(existing, plan_file)
    violations = check_plans(existing, net("qixiangtai"))
    code, out, err = run_cli(["validate", plan_file, "--network", QIXIANGTAI], capsys)
    # the list is the report, on stdout; the error is one line on stderr
    assert code == 2 and err.splitlines() == [
        f"signalopt: error: {plan_file}: unsafe plan, {len(violations)} violation(s)"]
    lines = out.strip().splitlines()
    assert lines[0].split() == ["intersection", "phase", "rule", "value", "limit"]
    body = lines[2:]
    assert len(body) == len(violations) == 21
    for row, v in zip(body, violations):
        for part in (v.signal_id, v.phase, v.rule, v.value, v.limit):
            assert part in row
    code, out, err = run_cli(["validate", plan_file, "--network", QIXIANGTAI, "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 2 and doc["safe"] is False and len(doc["violations"]) == 21
    assert doc["violations"][0] == {"intersection": "pingquan", "phase": "stage 1", "rule": "yellow cut",
                                    "value": "3 s", "limit": "3.3 s (ITE, >= 3 s)"}
    # the SUMO programmes of the network read as a plan file give the same verdict
    add = tmp_path / "existing.add.xml"
    add.write_text(sumo_additional_text(existing, network=net("qixiangtai")), encoding="utf-8")
    code, out, err = run_cli(["validate", add, "--network", QIXIANGTAI], capsys)
    assert code == 2 and err.strip().splitlines()[-1].endswith("unsafe plan, 21 violation(s)")


def test_cli_validate_safe_and_target_format(tmp_path: Path, capsys) -> None:
    plan_file = tmp_path / "plans.json"
    write_plans(safe("isolated"), plan_file)
    code, out, err = run_cli(["validate", plan_file, "--network", ISOLATED, "--target", "nema"], capsys)
    assert (code, err) == (0, "") and out.strip() == f"{plan_file}: safe (1 signals checked; fits nema)"
    half_file = tmp_path / "half.json"
    green = safe("isolated")["center"].phases[0].green_s
    write_plans(_with_stage(safe("isolated"), "center", 0, green_s=green + 0.5), half_file)
    assert run_cli(["validate", half_file, "--network", ISOLATED], capsys)[0] == 0
    line = one_line_error(*run_cli(["validate", half_file, "--network", ISOLATED, "--target", "ntcip"],
                                   capsys)[::2])
    assert "ntcip export refused" in line and "NTCIP patternCycleTime is whole seconds" in line


def test_simulate_accepts_a_sumo_additional_plan_file(tmp_path: Path, capsys, sumocfg_scenario, make_flows) -> None:
    add = export_plans(safe("isolated"), "sumo", tmp_path / "plans.add.xml", network=net("isolated"))
    scenario = sumocfg_scenario(tmp_path / "scen", ISOLATED, make_flows(("n2center", "center2s", 400),
                                                                         ("e2center", "center2w", 200), end_s=300),
                                end_s=300, warmup_s=60)
    code, out, err = run_cli(["simulate", scenario, "--plans", add, "--seeds", "1", "--workers", "1",
                              "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["plans"] == "plans"


def test_schedule_ntcip_gives_each_phase_order_its_sequence(tmp_path: Path) -> None:
    """A day whose midday period lags the lefts: patterns 1 and 3 share sequence 1, pattern 2 has sequence 2;
    the phase table has each phase once, with the longest green of the day."""
    from signalopt.export import export_schedule
    from signalopt.schedule import Schedule, SchedulePeriod

    lead, lag = safe("qixiangtai"), safe("qixiangtai", lag=True)
    day = Schedule("day", (SchedulePeriod("am", 21600, 32400, lead), SchedulePeriod("mid", 32400, 57600, lag),
                           SchedulePeriod("pm", 57600, 72000, lead)))
    path = export_schedule(day, "ntcip", tmp_path / "day.json", network=net("qixiangtai"))
    unit = json.loads(path.read_text(encoding="utf-8"))["units"]["weidi"]
    assert [p["patternSequenceNumber"] for p in unit["patternTable"]] == [1, 2, 1]
    seqs = {(s["sequenceNumber"], s["sequenceRingNumber"]): s["sequenceData"] for s in unit["sequenceTable"]}
    assert seqs[(1, 1)] == dual_ring(lead["weidi"], net("qixiangtai").signal("weidi")).ring_sequence(1)
    assert seqs[(2, 1)] == dual_ring(lag["weidi"], net("qixiangtai").signal("weidi")).ring_sequence(1)
    assert seqs[(1, 1)] != seqs[(2, 1)]
    numbers = [r["phaseNumber"] for r in unit["phaseTable"]]
    assert numbers == sorted(set(numbers))


def test_schedule_ntcip_refuses_periods_whose_phases_mean_other_movements(tmp_path: Path) -> None:
    """Split phasing in one period, protected lefts in another: phase 1 is a left in one and an approach in the
    other; one phase table cannot hold both, so the sheet is refused in one line (each period exports alone)."""
    from signalopt.export import export_schedule
    from signalopt.schedule import Schedule, SchedulePeriod

    lefts, split = safe("isolated"), _split_phasing()
    day = Schedule("day", (SchedulePeriod("am", 21600, 32400, lefts), SchedulePeriod("pm", 32400, 43200, split)))
    with pytest.raises(PlanError, match="period 'pm' gives phase . another .* export the periods one by one"):
        export_schedule(day, "ntcip", tmp_path / "day.json", network=net("isolated"))
    assert list(tmp_path.iterdir()) == []


def test_whole_second_splits_never_push_a_green_past_its_maximum():
    plan = safe("isolated")["center"]
    p0 = plan.phases[0]
    assert round(p0.split_s % 1, 6) == 0.8  # the largest remainder: rounding gives stage 1 the first second
    capped = replace(plan, phases=(replace(p0, max_green_s=p0.green_s), *plan.phases[1:]))
    splits = integer_splits(capped, net("isolated").signal("center"), TIMING)
    assert sum(splits) == round(capped.cycle_s)
    assert splits[0] - p0.yellow_s - p0.all_red_s <= p0.green_s + 1e-9
