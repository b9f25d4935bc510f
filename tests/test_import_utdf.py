"""``signalopt import utdf`` and ``import osm --utdf``: UTDF combined files onto SUMO networks, through the CLI.

Real files throughout: signalopt's own UTDF export of a bundled scenario, its counts added as ``[Volumes]``, comes
back as equal plans (``compare_as_utdf``) and the same counts; the Synchro-style examples (networks/examples/utdf/:
a four-arm junction with lagging protected lefts and 15-minute counts, a corridor with hourly volumes at two
times) go onto the networks ``import osm`` builds from the matching OSM extracts, and one of them simulates. Every
refusal is one line naming the file or option and the value, with nothing written; every node whose timing does
not map says why in the report, and the rest of the import goes on.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from signalopt.baselines import made_safe
from signalopt.demand import read_turn_counts
from signalopt.encoding import make_encoding
from signalopt.export import export_plans
from signalopt.formats.planfile import read_plans
from signalopt.formats.utdf import compare_as_utdf, read_utdf
from signalopt.importers.osm import import_osm
from signalopt.network import Network, read_network
from signalopt.options import TimingOptions
from signalopt.plan import GREEN_CHARS, PlanSet
from signalopt.programs import existing_plans
from signalopt.scenario import read_scenario
from test_bad_input import assert_one_line_error, run_cli
from test_utdf_plans import _set

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "networks" / "examples"
FOUR_ARM_OSM, CORRIDOR_OSM = EXAMPLES / "osm" / "four_arm.osm", EXAMPLES / "osm" / "corridor.osm"
FOUR_ARM, CORRIDOR, CORRIDOR_MAP = (EXAMPLES / "utdf" / n for n in ("four_arm.csv", "corridor.csv",
                                                                    "corridor_map.csv"))
SUMMER_AM = ROOT / "scenarios" / "qixiangtai_summer_am.toml"
TIMING = TimingOptions()
#: Travel direction of the traffic arriving from each compass leg.
BOUND = {"N": "SB", "S": "NB", "E": "WB", "W": "EB"}


@pytest.fixture(scope="module")
def osm_nets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The networks ``import osm`` builds from the four-arm and corridor extracts (signals 1; 11, GS_13, 15)."""
    return {osm.stem: import_osm(osm, tmp_path_factory.mktemp(osm.stem)).network for osm in (FOUR_ARM_OSM,
                                                                                             CORRIDOR_OSM)}


def _report(folder: Path) -> dict:
    return json.loads((folder / "utdf_import_report.json").read_text(encoding="utf-8"))


def _counts(path: Path) -> list[tuple]:
    return sorted((c.begin_s, c.signal_id, c.approach, c.movement, c.vehicles) for c in read_turn_counts(path))


# ------------------------------------------------------------------ signalopt's own export, read back
def _with_volumes(text: str, counts_path: Path, intids: dict[str, int]) -> str:
    """A UTDF file with the counts as Synchro writes 15-minute counts: ``[Volumes]``, one row per time and node."""
    rows: dict[tuple[float, int], dict[str, float]] = {}
    for c in read_turn_counts(counts_path):
        rows.setdefault((c.begin_s, intids[c.signal_id]), {})[BOUND[c.approach] + c.movement] = c.vehicles
    columns = [b + m for b in ("NB", "SB", "EB", "WB") for m in "LTR"]
    lines = ["[Volumes]", "15 Minute Counts", "DATE,TIME,INTID," + ",".join(columns)]
    for (t, intid), v in sorted(rows.items()):
        hhmm = f"{int(t // 3600):02d}{int(t % 3600 // 60):02d}"
        lines.append(f"06/02/2025,{hhmm},{intid}," + ",".join(f"{v[c]:g}" if c in v else "" for c in columns))
    return text + "\n".join(lines) + "\n"


def _lagging(network: Network) -> PlanSet:
    base = existing_plans(network, TIMING)[0]
    enc = make_encoding(network, base, TIMING, lead_lag=True)
    x = np.full(enc.size, 0.5)
    x[[i for i, label in enumerate(enc.labels()) if ":lag" in label]] = 0.9
    return enc.decode(x)


@pytest.mark.parametrize("plans", ["existing-made-safe", "lagging-lefts"])
def test_signalopts_own_export_comes_back_as_equal_plans_and_counts(plans: str, tmp_path: Path, capsys) -> None:
    scenario = read_scenario(SUMMER_AM)
    network = read_network(scenario.network_path)
    exported = (made_safe(existing_plans(network, TIMING)[0], network, TIMING)[0] if plans == "existing-made-safe"
                else _lagging(network))
    path = export_plans(exported, "utdf", tmp_path / "summer_am.csv", network=network)
    intids = {i.name: i.intid for i in read_utdf(path).intersections}
    path.write_text(_with_volumes(path.read_text(encoding="utf-8"), scenario.counts_path, intids), encoding="utf-8")

    code, out, err = run_cli(["import", "utdf", str(path), "--network", str(scenario.network_path),
                              "--out", str(tmp_path / "imp")], capsys)
    assert code == 0, err
    folder = tmp_path / "imp"
    assert "guessed: none" in out and "dropped: none" in out, out
    back = read_plans(folder / "summer_am_plans.json", network=network)
    assert back.signal_ids == network.signal_ids
    for plan in exported:
        assert compare_as_utdf(plan, back[plan.signal_id]) == [], plan.signal_id
    assert _counts(folder / "summer_am_vehicles.csv") == _counts(scenario.counts_path)
    imported = read_scenario(folder / "summer_am.toml")
    assert (imported.begin_s, imported.end_s, imported.interval_s) == (scenario.begin_s, scenario.end_s, 900)
    assert imported.network_path == scenario.network_path
    assert imported.plans_path == (folder / "summer_am_plans.json").resolve()
    assert {m["how"] for m in _report(folder)["matched"]} == {f"DESCRIPTION {s!r} is its id"
                                                              for s in network.signal_ids}


# ------------------------------------------------------------------ Synchro's files on OSM networks
def test_four_arm_from_osm_and_utdf_in_one_command_then_simulates(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "four_arm"
    code, out, err = run_cli(["import", "osm", str(FOUR_ARM_OSM), "--utdf", str(FOUR_ARM), "--out", str(folder)],
                             capsys)
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == [
        "four_arm.net.xml", "four_arm.toml", "four_arm_plans.json", "four_arm_vehicles.csv", "import_report.json",
        "import_report.txt", "utdf_import_report.json", "utdf_import_report.txt"]
    assert out == (folder / "import_report.txt").read_text(encoding="utf-8")
    for text in ("signalopt import osm:", "signalopt import utdf:", "by street names Weidi Rd / Qixiangtai Rd",
                 "actuated-coordinated control (Control Type 3) run as pretimed",
                 "the walk rests until DontWalk ends the green (rest in walk)",
                 "EBR with EBT, NBL with NBT", "INTID 1 PED: 51 counted, not imported: pedestrians",
                 "movements without counts, left free for routeSampler: N U, S U"):
        assert text in out, text
    assert json.loads((folder / "import_report.json").read_text(encoding="utf-8"))["utdf"]["counts"] == {
        "counted": True, "rows": 48, "window": "07:00-08:00"}

    network = read_network(folder / "four_arm.net.xml")
    signal = network.signal("1")
    plan = read_plans(folder / "four_arm_plans.json", network=network)["1"]
    assert (plan.cycle_s, plan.offset_s) == (100, 12)
    assert [(p.green_s, p.yellow_s, p.all_red_s) for p in plan.phases] == [(40, 4, 2), (10, 3.5, 1.5), (33, 4, 2)]
    legs = {a.id: a.leg for a in signal.approaches}

    def green(stage: int, leg: str, directions: str) -> set[str]:
        return {plan.phases[stage].state[k] for k, link in enumerate(signal.links)
                if legs.get(link.approach) == leg and link.direction in directions}

    # Weidi Rd's throughs, then its lagging protected lefts alone, then Qixiangtai Rd with its permissive lefts
    assert green(0, "E", "s") == green(0, "W", "s") == {"G"} and green(0, "E", "l") == {"r"}
    assert green(1, "E", "l") == green(1, "W", "l") == {"G"} and green(1, "E", "s") == {"r"}
    assert green(2, "N", "s") == {"G"} and green(2, "N", "l") == {"g"} and green(2, "E", "sl") == {"r"}
    assert all(p.serves_pedestrians for p in (plan.phases[0], plan.phases[2]))
    assert plan.phases[0].ped_clearance_s == 14 and plan.phases[2].ped_clearance_s == 18

    counts = read_turn_counts(folder / "four_arm_vehicles.csv")
    by_quarter = {t: sum(c.vehicles for c in counts if c.begin_s == t) for t in {c.begin_s for c in counts}}
    volumes = read_utdf(FOUR_ARM).volumes
    assert by_quarter == {r.time_s: sum(v for col, v in r.vehicles.items() if col != "PED") for r in volumes.rows}

    # a short window: the first two quarter hours
    scenario = folder / "four_arm.toml"
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("end_s = 28800", "end_s = 27000"),
                        encoding="utf-8")
    rows = (folder / "four_arm_vehicles.csv").read_text(encoding="utf-8").splitlines()
    (folder / "four_arm_vehicles.csv").write_text(
        "\n".join(r for r in rows if not r.startswith(("07:30", "07:45"))) + "\n", encoding="utf-8")
    code, out, err = run_cli(["simulate", str(scenario), "--seeds", "1", "--workers", "1", "--executor", "serial",
                              "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["throughput_veh"] > 300


def test_corridor_onto_the_osm_network_matches_by_names_and_coordinates(osm_nets, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "imp"
    code, out, err = run_cli(["import", "utdf", str(CORRIDOR), "--network", str(osm_nets["corridor"]), "--time",
                              "17:00", "--out", str(folder)], capsys)
    assert code == 0, err
    report = _report(folder)
    assert {(m["intid"], m["signal"], m["how"].split(",")[0]) for m in report["matched"]} == {
        (1, "11", "street names Weidi Rd / Qixiangtai Rd"), (2, "GS_13", "street names Pingquan Rd / Qixiangtai Rd"),
        (3, "15", "coordinates")}
    assert report["matched"][0]["directions"] == {"NB": "201", "SB": "-202#1", "EB": "211#0", "WB": "-211#1"}
    dropped = "\n".join(report["dropped"])
    assert re.search(r"INTID 5 \(Zijinshan Rd / Qixiangtai Rd\): no unmatched signal within 30 m .* not in the "
                     r"network", dropped), dropped
    assert "INTID 4: 1075 counted, not imported: unsignalised node, not a signal" in dropped
    assert any("phases 2+6 walk together with DontWalk 14, 13 s: all clear for 14 s" in g for g in report["guessed"])
    network = read_network(osm_nets["corridor"])
    plans = read_plans(folder / "corridor_plans.json", network=network)
    # Synchro's Start is on the system clock: Pingquan Rd's offset, referenced to its yield point (35 s), puts the
    # begin of its main-street green at 79 s
    assert {p.signal_id: p.offset_s for p in plans} == {"11": 0, "15": 50, "GS_13": 79}

    # the 17:00 set's hourly volumes as four quarter hours of whole vehicles
    counts = read_turn_counts(folder / "corridor_vehicles.csv")
    assert sorted({c.begin_s for c in counts}) == [61200, 62100, 63000, 63900]
    hourly = {(r.intid, col): v for r in read_utdf(CORRIDOR).volumes.rows if r.time_s == 61200
              for col, v in r.vehicles.items()}
    intid = {"11": 1, "GS_13": 2, "15": 3}
    summed: dict[tuple[int, str], float] = {}
    for c in counts:
        key = (intid[c.signal_id], BOUND[c.approach] + c.movement)
        summed[key] = summed.get(key, 0) + c.vehicles
        assert c.vehicles == int(c.vehicles)
    assert summed == {k: v for k, v in hourly.items() if k[0] in (1, 2, 3)}
    scenario = read_scenario(folder / "corridor.toml")
    assert (scenario.begin_s, scenario.end_s, scenario.warmup_s) == (61200, 64800, 900)


def test_without_names_the_coordinates_alone_align_the_nodes(osm_nets, tmp_path: Path, capsys) -> None:
    """No name anywhere: the shift that puts most nodes on signals (three here) places them; the fourth, beyond the
    extract, is not in the network."""
    text = CORRIDOR.read_text(encoding="utf-8")
    for street in ("Weidi Rd", "Pingquan Rd", "Qixiangtai Rd", "Zijinshan Rd", "Huayuan Rd", "&"):
        text = text.replace(street, "")
    path = tmp_path / "corridor.csv"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli(["import", "utdf", str(path), "--network", str(osm_nets["corridor"]), "--time",
                              "07:00", "--out", str(tmp_path / "imp")], capsys)
    assert code == 0, err
    report = _report(tmp_path / "imp")
    assert [(m["intid"], m["signal"]) for m in report["matched"]] == [(1, "11"), (2, "GS_13"), (3, "15")]
    assert all("aligned by the shift that puts most nodes on signals" in m["how"] for m in report["matched"])
    assert any(d.startswith("INTID 5: no unmatched signal within 30 m") for d in report["dropped"])


def test_a_map_file_decides_which_node_is_which_signal(osm_nets, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "imp"
    code, out, err = run_cli(["import", "utdf", str(CORRIDOR), "--network", str(osm_nets["corridor"]), "--map",
                              str(CORRIDOR_MAP), "--time", "07:00", "--out", str(folder)], capsys)
    assert code == 0, err
    report = _report(folder)
    assert [(m["intid"], m["signal"], m["how"]) for m in report["matched"]] == [
        (1, "11", "map file"), (2, "GS_13", "map file"), (3, "15", "map file")]
    assert "INTID 5: not in the map file: its timing and volumes are not imported" in report["dropped"]
    assert "coordinates" not in " ".join(report["read"])


def test_without_volumes_the_counts_are_a_template_to_fill_in(osm_nets, tmp_path: Path, capsys) -> None:
    path = tmp_path / "four_arm.csv"
    path.write_text(FOUR_ARM.read_text(encoding="utf-8").split("[Volumes]")[0], encoding="utf-8")
    folder = tmp_path / "imp"
    code, out, err = run_cli(["import", "utdf", str(path), "--network", str(osm_nets["four_arm"]), "--time", "16:30",
                              "--out", str(folder)], capsys)
    assert code == 0, err
    assert "no [Volumes] rows: no counts; the counts file is a template with the vehicles column empty" in out
    assert "next: fill in" in out
    rows = list(csv.DictReader((folder / "four_arm_vehicles.csv").read_text(encoding="utf-8").splitlines()))
    assert {r["vehicles"] for r in rows} == {""} and {r["interval"] for r in rows} == {"16:30", "16:45", "17:00",
                                                                                     "17:15"}
    assert len(rows) == 4 * 14  # four quarter hours of L T R on four legs and U on two
    code, out, err = run_cli(["info", str(folder / "four_arm.toml")], capsys)
    assert code == 0, err


def test_an_uncontrolled_movement_is_green_in_every_stage(osm_nets, tmp_path: Path, capsys) -> None:
    path = tmp_path / "four_arm.csv"
    path.write_text(_set(FOUR_ARM.read_text(encoding="utf-8"), "Lanes", "Phase1,1", "WBR", -1), encoding="utf-8")
    code, out, err = run_cli(["import", "utdf", str(path), "--network", str(osm_nets["four_arm"]), "--out",
                              str(tmp_path / "imp")], capsys)
    assert code == 0, err
    assert "WBR is uncontrolled (-1): green in every stage" in out
    network = read_network(osm_nets["four_arm"])
    signal = network.signal("1")
    east = next(a.id for a in signal.approaches if a.leg == "E")
    right = next(k for k, link in enumerate(signal.links) if link.approach == east and link.direction == "r")
    plan = read_plans(tmp_path / "imp" / "four_arm_plans.json", network=network)["1"]
    assert all(p.state[right] in GREEN_CHARS for p in plan.phases)


# ------------------------------------------------------------------ edits of the example files
def _without(text: str, section: str) -> str:
    return re.sub(rf"\[{section}\]\n.*?\n\n", "", text, flags=re.S)


def _without_timeplans(text: str) -> str:
    """The section kept, its rows gone: no node has a timing plan."""
    return re.sub(r"(\[Timeplans\]\n[^\n]*\n[^\n]*\n).*?\n\n", r"\1\n", text, flags=re.S)


def _drop_rows(text: str, *starts: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(starts)) + "\n"


Edit = Callable[[str], str]
#: case -> (example, edit of its text, options, texts the one refusal line names besides the file)
REFUSALS: dict[str, tuple[Path, Edit, list[str], list[str]]] = {
    "no-timeplans": (FOUR_ARM, lambda t: _without(t, "Timeplans"), [], ["UTDF section [Timeplans] missing"]),
    "not-a-number": (FOUR_ARM, lambda t: _set(t, "Phases", "MaxGreen,1", "D2", "forty"), [],
                     ["INTID 1 phase D2 MaxGreen: not a number (forty)", "line "]),
    "volume-time": (FOUR_ARM, lambda t: t.replace("05/14/2024,0715,", "05/14/2024,7h15,"), [],
                    ["[Volumes] TIME is not a time of day (HHMM or HH:MM) (7h15)"]),
    "negative-count": (FOUR_ARM, lambda t: _set(t, "Volumes", "05/14/2024,0700", "NBT", -3), [],
                       ["[Volumes] NBT: a count must not be negative (-3)"]),
    "volume-header": (FOUR_ARM, lambda t: t.replace("DATE,TIME,INTID", "TIME,DATE,INTID"), [],
                      ["[Volumes] header must start DATE,TIME,INTID"]),
    "repeated-volume-row": (FOUR_ARM, lambda t: t + t.splitlines()[-1] + "\n", [],
                            ["[Volumes] repeats line", "(05/14/2024 07:45 INTID 1)"]),
    "quarter-hour-missing": (FOUR_ARM, lambda t: _drop_rows(t, "05/14/2024,0715"), [],
                             ["15-minute counts must follow one another", "(07:15)"]),
    "one-quarter-hour": (FOUR_ARM, lambda t: _drop_rows(t, "05/14/2024,0715", "05/14/2024,0730", "05/14/2024,0745"),
                         [], ["one quarter hour of counts; a scenario needs two", "(07:00)"]),
    "several-dates": (FOUR_ARM, lambda t: t.replace("05/14/2024,0745", "05/15/2024,0745"), [],
                      ["15-minute counts on several dates", "(05/14/2024, 05/15/2024)"]),
    "other-interval": (FOUR_ARM, lambda t: t.replace("15 Minute Counts", "5 Minute Counts"), [],
                       ["5-minute counts; signalopt reads 15-minute counts or hourly volumes"]),
    "time-with-15-minute-counts": (FOUR_ARM, lambda t: t, ["--time", "07:00"],
                                   ["--time: chooses one of several hourly volume sets", "(07:00)"]),
    "sets-without-time": (CORRIDOR, lambda t: t, [], ["2 hourly volume sets; choose one with --time HH:MM",
                                                      "(07:00, 17:00)"]),
    "time-of-no-set": (CORRIDOR, lambda t: t, ["--time", "12:00"],
                       ["--time: no hourly volume set of", "(it has 07:00, 17:00) (12:00)"]),
    "time-not-a-clock": (CORRIDOR, lambda t: t, ["--time", "7"], ["--time: must be a clock time HH:MM (7)"]),
    "two-nodes-one-signal": (CORRIDOR, lambda t: _set(_set(t, "Links", "Name,3", "EB", "Weidi Rd"), "Links",
                                                      "Name,3", "NB", "Qixiangtai Rd"), ["--time", "07:00"],
                             ["INTID 1 and INTID 3 both match signal 11", "pass --map MAP.csv"]),
    "coordinates-cannot-place": (FOUR_ARM, lambda t: t.replace("Weidi Rd", "").replace("Qixiangtai Rd", ""), [],
                                 ["INTID 1: no DESCRIPTION or street names match a signal, and coordinates cannot "
                                  "place it", "pass --map MAP.csv"]),
    "no-signalised-node": (FOUR_ARM, lambda t: _without_timeplans(t).replace("\n1,0,1500", "\n1,1,1500"), [],
                           ["no UTDF node matches a signal of four_arm.net.xml", "(the file has no signalised node)"]),
}
MAP_REFUSALS = {
    "bad-row": ("INTID,signal\n1;11\n", ["line 2: a map row is INTID,signal", "(1;11)"]),
    "unknown-signal": ("1,11\n2,nowhere\n", ["line 2: signal not in corridor.net.xml (nowhere)"]),
    "unknown-intid": ("9,11\n", ["line 1: INTID is not a node of the UTDF file (9)"]),
    "repeated": ("INTID,signal\n1,11\n2,11\n", ["line 3: repeats line 2 (2,11)"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_are_one_line_and_write_nothing(case: str, osm_nets, tmp_path: Path, capsys) -> None:
    example, edit, options, names = REFUSALS[case]
    path = tmp_path / example.name
    path.write_text(edit(example.read_text(encoding="utf-8")), encoding="utf-8")
    network = osm_nets[example.stem]
    code, out, err = run_cli(["import", "utdf", str(path), "--network", str(network), *options, "--out",
                              str(tmp_path / "out")], capsys)
    line = assert_one_line_error(code, out, err, *names)
    assert str(path) in line or line.startswith("signalopt: error: --time"), line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", sorted(MAP_REFUSALS))
def test_map_file_refusals(case: str, osm_nets, tmp_path: Path, capsys) -> None:
    text, names = MAP_REFUSALS[case]
    (tmp_path / "map.csv").write_text(text, encoding="utf-8")
    code, out, err = run_cli(["import", "utdf", str(CORRIDOR), "--network", str(osm_nets["corridor"]), "--map",
                              str(tmp_path / "map.csv"), "--time", "07:00", "--out", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, out, err, str(tmp_path / "map.csv"), *names)
    assert not (tmp_path / "out").exists()


def test_command_line_refusals(osm_nets, tmp_path: Path, capsys) -> None:
    args = ["--network", str(osm_nets["four_arm"]), "--out", str(tmp_path / "out")]
    code, out, err = run_cli(["import", "utdf", str(tmp_path / "nowhere.csv"), *args], capsys)
    assert_one_line_error(code, out, err, str(tmp_path / "nowhere.csv"), "UTDF file not found")
    code, out, err = run_cli(["import", "utdf", str(FOUR_ARM), "--network", str(tmp_path / "no.net.xml"), "--out",
                              str(tmp_path / "out")], capsys)
    assert_one_line_error(code, out, err, str(tmp_path / "no.net.xml"), "not found")
    code, out, err = run_cli(["import", "osm", str(FOUR_ARM_OSM), "--map", str(CORRIDOR_MAP), "--out",
                              str(tmp_path / "out")], capsys)
    assert_one_line_error(code, out, err, "--map: goes with --utdf FILE.csv")
    assert not (tmp_path / "out").exists()
    assert run_cli(["import", "utdf", str(FOUR_ARM), *args], capsys)[0] == 0
    code, out, err = run_cli(["import", "utdf", str(FOUR_ARM), *args], capsys)
    assert_one_line_error(code, out, err, str(tmp_path / "out"), "already holds an import", "four_arm.toml")
    # import osm --utdf: a UTDF file that does not map leaves the folder empty, the network included
    code, out, err = run_cli(["import", "osm", str(CORRIDOR_OSM), "--utdf", str(CORRIDOR), "--out",
                              str(tmp_path / "osm")], capsys)
    assert_one_line_error(code, out, err, str(CORRIDOR), "choose one with --time HH:MM")
    assert not (tmp_path / "osm").exists()


#: case -> (edit of four_arm.csv, what the dropped line says after "timing not imported, ...: ")
NOT_MAPPED: dict[str, tuple[Edit, str]] = {
    "no-lanes": (lambda t: _without(t, "Lanes"), r"no \[Lanes\] phase rows .* \(18 vehicle links\)"),
    "approach-without-direction": (lambda t: t.replace("NB,SB,EB,WB", "NB,SB,EB,NE").replace("WBL,WBT,WBR",
                                                                                            "NEL,NET,NER"),
                                   r"approach E \(edge 103#0, heading 270 deg\) has no UTDF direction within 60 deg "
                                   r"\(directions mapped: EB, NB, SB\)"),
    "direction-without-phases": (lambda t: _set(_set(t, "Lanes", "Phase1,1", "WBL", ""), "Lanes", "Phase1,1", "WBT",
                                                ""),
                                 r"\[Lanes\] gives WB \(approach E, edge 103#0\) no phase: its links would never be "
                                 r"green \(WBL, WBT, WBR\)"),
    "pedestrian-timing-longer-than-the-green": (lambda t: _set(t, "Phases", "DontWalk,1", "D4", 30),
                                                r"phase 4: Walk \+ DontWalk exceed MaxGreen, .* \(Walk 7, DontWalk 30, "
                                                r"MaxGreen 33\)"),
    "one-controller-several-nodes": (lambda t: _set(t, "Timeplans", "Node 1,1", "DATA", 9),
                                     r"one controller runs several nodes .* \(INTID 9\)"),
    "staggered-ends": (lambda t: _set(_set(t, "Phases", "Yellow,1", "D6", 3), "Phases", "AllRed,1", "D6", 3),
                       r"phases 2 and 6 end their green together with different change intervals"),
    "no-timing-plan": (_without_timeplans, r"no \[Timeplans\] record: the network's programme stays"),
}


@pytest.mark.parametrize("case", sorted(NOT_MAPPED))
def test_a_node_whose_timing_does_not_map_keeps_its_programme_and_says_why(case: str, osm_nets, tmp_path: Path,
                                                                           capsys) -> None:
    edit, reason = NOT_MAPPED[case]
    path = tmp_path / "four_arm.csv"
    path.write_text(edit(FOUR_ARM.read_text(encoding="utf-8")), encoding="utf-8")
    folder = tmp_path / "imp"
    code, out, err = run_cli(["import", "utdf", str(path), "--network", str(osm_nets["four_arm"]), "--out",
                              str(folder)], capsys)
    assert code == 0, err
    dropped = [d for d in _report(folder)["dropped"] if d.startswith("INTID 1 -> signal 1: ")]
    assert len(dropped) == 1, _report(folder)["dropped"]
    assert re.search(reason, dropped[0]), dropped[0]
    assert not (folder / "four_arm_plans.json").exists() and "plans =" not in (folder / "four_arm.toml").read_text()
    # the counts still come in (but for the east leg's, counted as NE: no approach takes them either)
    east_as_ne = case == "approach-without-direction"
    assert len(read_turn_counts(folder / "four_arm_vehicles.csv")) == (36 if east_as_ne else 48)
    if east_as_ne:
        assert any(d.startswith("INTID 1 NET: ") and "signal 1 has no approach for NE" in d
                   for d in _report(folder)["dropped"])
