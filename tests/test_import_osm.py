"""``signalopt import osm``: hand-written OpenStreetMap extracts (networks/examples/osm/) through SUMO's netconvert.

Each import runs the real netconvert on a small extract: a four-arm junction with turn lanes, a corridor of three
signals (one tagged on its node, one tagged on its four approaches, one only netconvert guesses) and a T-junction.
The scenarios they make are read by signalopt's own readers; refusals are one line through the CLI.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from signalopt.demand import check_counts, read_turn_counts
from signalopt.importers.osm import ImportReport, import_osm, parse_bbox
from signalopt.network import Signal, read_network
from signalopt.scenario import read_scenario
from test_bad_input import assert_one_line_error, run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "networks" / "examples" / "osm"
FOUR_ARM, CORRIDOR, T_JUNCTION = (EXAMPLES / f"{n}.osm" for n in ("four_arm", "corridor", "t_junction"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    """Factory: the import of an extract with the given options, made once per module."""
    done: dict[tuple, ImportReport] = {}

    def make(osm: Path, **options) -> ImportReport:
        key = (osm, tuple(sorted(options.items())))
        if key not in done:
            done[key] = import_osm(osm, tmp_path_factory.mktemp(osm.stem), **options)
        return done[key]

    return make


def _signal(report: ImportReport, name: str):  # noqa: ANN202 - (ImportedSignal, network Signal)
    imported = next(s for s in report.signals if s.name == name)
    return imported, read_network(report.network).signal(imported.id)


def _lane_directions(signal: Signal, edge: str) -> dict[str, set[str]]:
    """SUMO direction codes of the links leaving each lane of an approach edge."""
    out: dict[str, set[str]] = {}
    for link in signal.links:
        if link.approach == edge and not link.is_crossing:
            for lane in link.from_lanes:
                out.setdefault(lane, set()).add(link.direction)
    return out


def test_turn_lanes_from_osm_make_a_left_only_lane(imported) -> None:
    report = imported(FOUR_ARM)
    assert [s.name for s in report.signals] == ["Weidi Rd / Qixiangtai Rd"]
    junction, signal = _signal(report, "Weidi Rd / Qixiangtai Rd")
    by_leg = {a.label: a for a in junction.approaches}
    assert sorted(by_leg) == ["E", "N", "S", "W"]
    for leg in "EW":  # Weidi Rd: turn:lanes:forward=left|through|through;right
        lanes = _lane_directions(signal, by_leg[leg].edge)
        assert by_leg[leg].turn_lanes == "turn:lanes" and by_leg[leg].lanes == 3
        assert [lane for lane, dirs in lanes.items() if dirs <= {"l", "L"}] == [max(lanes)], lanes
    for leg in "NS":  # Qixiangtai Rd has no arrows: netconvert shares its left lane with the through traffic
        lanes = _lane_directions(signal, by_leg[leg].edge)
        assert by_leg[leg].turn_lanes == "default"
        assert not [lane for lane, dirs in lanes.items() if dirs <= {"l", "L"}], lanes
    assert dict(report.removed_types) == {"footway": 1, "service": 1}
    assert junction.crossings == 4 and junction.osm_nodes == ("1",)


def test_t_junction_movements_follow_the_arrows(imported) -> None:
    report = imported(T_JUNCTION)
    (junction,) = report.signals
    assert junction.name == "Qixiangtai Rd / Pingshan Rd"
    assert {a.label: a.movements for a in junction.approaches} == {"N": ("L", "T"), "E": ("L", "R"), "S": ("T", "R")}
    assert report.turn_lanes_tagged == 3


def test_corridor_signals_tagged_joined_and_guessed(imported) -> None:
    report = imported(CORRIDOR)
    by_name = {s.name: s for s in report.signals}
    assert sorted(by_name) == ["Qixiangtai Rd / Pingquan Rd", "Qixiangtai Rd / Pingshan Rd",
                               "Weidi Rd / Qixiangtai Rd"]
    assert by_name["Weidi Rd / Qixiangtai Rd"].osm_nodes == ("11",)
    # four approach signals 15 m before the junction became one signal at it
    assert by_name["Qixiangtai Rd / Pingquan Rd"].osm_nodes == ("12", "14", "31", "32")
    assert report.joined == (by_name["Qixiangtai Rd / Pingquan Rd"],)
    # nothing tagged at Pingshan Rd: netconvert's guess, and said so
    assert by_name["Qixiangtai Rd / Pingshan Rd"].guessed
    assert report.to_dict()["guessed"]["signals"] == [by_name["Qixiangtai Rd / Pingshan Rd"].id]
    assert report.signals_discarded == () and report.roads_dropped == ()
    # the quiet residential T-junction (Huayuan Rd) stays unsignalised
    assert len(read_network(report.network).signals) == 3


def test_signals_from_osm_keeps_only_the_tagged_signals(imported) -> None:
    report = imported(CORRIDOR, signals_from_osm=True)
    assert sorted(s.name for s in report.signals) == ["Qixiangtai Rd / Pingquan Rd", "Weidi Rd / Qixiangtai Rd"]
    assert not report.guessed
    assert read_network(report.network).signal_ids == tuple(s.id for s in report.signals)


def test_bbox_crops_the_extract(imported) -> None:
    # south of Pingshan Rd: Weidi and Pingquan stay, the northern roads go
    report = imported(CORRIDOR, bbox=parse_bbox("117.1960,39.0760,117.2040,39.0840"))
    assert sorted(s.name for s in report.signals) == ["Qixiangtai Rd / Pingquan Rd", "Weidi Rd / Qixiangtai Rd"]
    # Qixiangtai Rd north of Pingshan Rd, Pingshan Rd, Huayuan Rd; the way from Pingquan to Pingshan reaches in
    assert report.roads_outside_bbox == 3 and report.roads_dropped == ()
    assert "3 roads and 0 signal nodes outside the crop (bbox 117.196,39.076,117.204,39.084)" in report.text()


def test_counts_template_lists_every_movement_in_the_counts_layout(imported, tmp_path: Path) -> None:
    report = imported(CORRIDOR)
    network = read_network(report.network)
    text = report.counts.read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert text.splitlines()[0] == "interval,intersection,approach,movement,vehicles"
    assert {r["vehicles"] for r in rows} == {""}  # empty: the engineer fills it in
    assert sorted({r["interval"] for r in rows}) == ["07:00", "07:15", "07:30", "07:45", "08:00", "08:15"]
    listed = {(r["intersection"], r["approach"], r["movement"]) for r in rows}
    expected = {(s.id, a.label, m) for s in report.signals for a in s.approaches for m in a.movements}
    assert listed == expected and len(rows) == 6 * len(expected)
    assert {sid for sid, _, _ in listed} == set(network.signal_ids)
    # filled in, the counts reader and the network check take every row: the layout and the movements are theirs
    filled = tmp_path / "filled.csv"
    filled.write_text(text.replace(",\n", ",12\n"), encoding="utf-8")
    scenario = read_scenario(report.scenario)
    counts = read_turn_counts(filled, begin_s=scenario.begin_s, end_s=scenario.end_s, interval_s=scenario.interval_s)
    check_counts(network, counts, source=filled, begin_s=scenario.begin_s, end_s=scenario.end_s,
                 interval_s=scenario.interval_s)
    assert scenario.counts_path == report.counts.resolve() and scenario.network_path == report.network.resolve()


def test_cli_import_then_info_then_run_refuses_the_empty_template(tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(["import", "osm", str(FOUR_ARM), "--out", str(tmp_path / "imp")], capsys)
    assert code == 0, err
    folder = tmp_path / "imp"
    assert sorted(p.name for p in folder.iterdir()) == ["four_arm.net.xml", "four_arm.toml", "four_arm_vehicles.csv",
                                                        "import_report.json", "import_report.txt"]
    assert out == (folder / "import_report.txt").read_text(encoding="utf-8")
    for word in ("read:", "guessed:", "dropped:", "Weidi Rd / Qixiangtai Rd", "footway 1, service 1",
                 "turn lanes from turn:lanes"):
        assert word in out, word
    doc = json.loads((folder / "import_report.json").read_text(encoding="utf-8"))
    assert doc["read"]["signal_nodes"] == 1 and doc["signals"][0]["name"] == "Weidi Rd / Qixiangtai Rd"
    assert {a["approach"]: a["movements"] for a in doc["signals"][0]["approaches"]}["E"] == ["L", "T", "R"]
    assert doc["dropped"]["road_types_removed"] == {"footway": 1, "service": 1}

    code, out, err = run_cli(["info", str(folder / "four_arm.toml")], capsys)
    assert code == 0, err
    assert "Weidi Rd / Qixiangtai Rd" in out and "signal 1 (static)" in out

    code, out, err = run_cli(["run", str(folder / "four_arm.toml"), "--out", str(tmp_path / "run")], capsys)
    assert_one_line_error(code, out, err, "four_arm_vehicles.csv", "vehicles is not a number")

    code, out, err = run_cli(["import", "osm", str(FOUR_ARM), "--out", str(folder)], capsys)
    assert_one_line_error(code, out, err, str(folder), "already holds an import", "four_arm_vehicles.csv")


def test_filled_template_simulates(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(["import", "osm", str(T_JUNCTION), "--out", str(tmp_path), "--window", "07:00-07:30"],
                           capsys)
    assert code == 0, err
    counts = tmp_path / "t_junction_vehicles.csv"
    counts.write_text(counts.read_text(encoding="utf-8").replace(",\n", ",30\n"), encoding="utf-8")
    code, out, err = run_cli(["simulate", str(tmp_path / "t_junction.toml"), "--seeds", "1", "--workers", "1",
                              "--executor", "serial", "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["throughput_veh"] > 50


def _osm(folder: Path, body: str, name: str = "x.osm") -> Path:
    path = folder / name
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}\n</osm>\n', encoding="utf-8")
    return path


CROSS = """<node id="1" lat="39.0" lon="117.0">{signal}</node><node id="2" lat="39.002" lon="117.0"/>
<node id="3" lat="38.998" lon="117.0"/><node id="4" lat="39.0" lon="117.003"/><node id="5" lat="39.0" lon="116.997"/>
<way id="1"><nd ref="2"/><nd ref="1"/><nd ref="3"/><tag k="highway" v="{highway}"/></way>
<way id="2"><nd ref="4"/><nd ref="1"/><nd ref="5"/><tag k="highway" v="{highway}"/></way>"""
SIGNAL = '<tag k="highway" v="traffic_signals"/>'


def _net_file(folder: Path) -> Path:
    path = folder / "isolated.net.xml"
    path.write_text('<net version="1.20"/>\n', encoding="utf-8")
    return path


#: case -> (arguments after ``import osm``, texts the one error line names), given the test's tmp folder
REFUSALS = {
    "missing": lambda d: ([str(d / "nowhere.osm")], [str(d / "nowhere.osm"), "OSM file not found"]),
    "not_osm": lambda d: ([str(_net_file(d))], [str(d / "isolated.net.xml"), "not OpenStreetMap XML", "<net>"]),
    "malformed": lambda d: ([str(_osm(d, '<node id="1" lat="39" lon="117">'))], [str(d / "x.osm"), "malformed XML"]),
    "bbox_three": lambda d: ([str(FOUR_ARM), "--bbox", "117.19,39.07,117.21"],
                             ["--bbox", "four numbers", "117.19,39.07,117.21"]),
    "bbox_words": lambda d: ([str(FOUR_ARM), "--bbox", "west,south,east,north"],
                             ["--bbox", "four numbers", "west,south,east,north"]),
    "bbox_empty": lambda d: ([str(FOUR_ARM), "--bbox", "117.2,39.07,117.2,39.09"],
                             ["--bbox", "empty or inverted", "117.2,39.07,117.2,39.09"]),
    "bbox_inverted": lambda d: ([str(FOUR_ARM), "--bbox", "117.21,39.09,117.19,39.07"],
                                ["--bbox", "empty or inverted", "117.21,39.09,117.19,39.07"]),
    "bbox_off_globe": lambda d: ([str(FOUR_ARM), "--bbox", "117.19,39.07,117.21,95"],
                                 ["--bbox", "latitudes in [-90, 90]", "117.19,39.07,117.21,95"]),
    "bbox_elsewhere": lambda d: ([str(FOUR_ARM), "--bbox", "2.29,48.85,2.30,48.86"],
                                 [str(FOUR_ARM), "no roads to import inside the bbox", "4 roads in the extract"]),
    "no_roads": lambda d: ([str(_osm(d, CROSS.format(signal=SIGNAL, highway="footway")))],
                           [str(d / "x.osm"), "no roads to import", "2 ways"]),
    "no_signals": lambda d: ([str(_osm(d, CROSS.format(signal="", highway="residential")))],
                             [str(d / "x.osm"), "no traffic signals", "netconvert guessed none",
                              "0 nodes tagged highway=traffic_signals"]),
    "no_signals_tagged": lambda d: ([str(_osm(d, CROSS.format(signal="", highway="primary"))), "--signals-from-osm"],
                                    [str(d / "x.osm"), "no traffic signals", "guessing is off (--signals-from-osm)"]),
    # a latitude netconvert cannot project: its error line, quoted
    "netconvert_fails": lambda d: ([str(_osm(d, CROSS.format(signal=SIGNAL, highway="primary")
                                             .replace('lat="39.0"', 'lat="95"')))],
                                   [str(d / "x.osm"), "netconvert failed", "(Error: Unable to project coordinates"]),
    "window": lambda d: ([str(FOUR_ARM), "--window", "08:30-07:00"], ["--window", "end after it begins", "08:30-07:00"]),
    "window_short": lambda d: ([str(FOUR_ARM), "--window", "07:00-07:15"], ["--window", "15 min warm-up"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_are_one_line(case: str, tmp_path: Path, capsys) -> None:
    args, names = REFUSALS[case](tmp_path)
    code, out, err = run_cli(["import", "osm", *args, "--out", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, out, err, *names)
    assert not (tmp_path / "out").exists()  # nothing half-written
