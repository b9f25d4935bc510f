"""Bad input through the CLI: exit code 2 and exactly one line on stderr,
``signalopt: error: <file>: <what> (<value>)``, naming the file and the bad value; no traceback.

Every case starts from a valid counts-driven scenario folder (a copy of the
isolated network, a counts CSV, a plan file) and breaks one thing.  Most cases
fail before any simulation; the counts cases fail while routes are prepared.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from signalopt.cli import main
from signalopt.encoding import make_encoding
from signalopt.export import export_plans
from signalopt.network import read_network
from signalopt.formats.planfile import write_plans
from signalopt.prepare import scenario_plans
from signalopt.scenario import read_scenario

COUNTS_HEADER = "interval,intersection,approach,movement,vehicles\n"
GOOD_COUNTS = COUNTS_HEADER + "00:00,center,N,T,40\n00:00,center,E,L,10\n"
BASE_TOML = ('schema_version = 1\nname = "bad"\nnetwork = "net/isolated.net.xml"\nbegin_s = 0\nend_s = 900\n'
             'warmup_s = 60\n[demand]\ncounts = "counts.csv"\n')

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<configuration><input><net-file value="&lol9;"/></input></configuration>
"""


@pytest.fixture
def folder(tmp_path: Path, isolated_net: Path) -> Path:
    (tmp_path / "net").mkdir()
    shutil.copy(isolated_net, tmp_path / "net" / "isolated.net.xml")
    (tmp_path / "counts.csv").write_text(GOOD_COUNTS, encoding="utf-8")
    (tmp_path / "scenario.toml").write_text(BASE_TOML, encoding="utf-8")
    (tmp_path / "routes.rou.xml").write_text("<routes/>\n", encoding="utf-8")
    return tmp_path


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, *must_name: str) -> str:
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("signalopt: error: "), line
    for text in must_name:
        assert text in line, f"{text!r} not in {line!r}"
    return line


def _toml(folder: Path, text: str) -> None:
    (folder / "scenario.toml").write_text(text, encoding="utf-8")


def _sumocfg(folder: Path, cfg: str) -> None:
    (folder / "x.sumocfg").write_text(cfg, encoding="utf-8")
    _toml(folder, 'schema_version = 1\nname = "bad"\nsumocfg = "x.sumocfg"\n')


def _counts(folder: Path, text: str) -> None:
    (folder / "counts.csv").write_text(text, encoding="utf-8")


@dataclass
class Case:
    """Break the folder with ``setup``; the error line must name every string in ``names``."""

    setup: Callable[[Path], None]
    names: tuple[str, ...]
    scenario: str = "scenario.toml"
    extra_args: tuple[str, ...] = ()


def _truncated_net(f: Path) -> None:
    net = f / "net" / "isolated.net.xml"
    net.write_bytes(net.read_bytes()[: len(net.read_bytes()) // 2])


CASES: dict[str, Case] = {
    # files
    "missing scenario file": Case(lambda f: None, ("nothere.toml", "not found"), scenario="nothere.toml"),
    "scenario is a folder": Case(lambda f: (f / "dir.toml").mkdir(), ("dir.toml", "not a file"),
                                 scenario="dir.toml"),
    "TOML syntax error": Case(lambda f: _toml(f, 'schema_version = 1\nname = "x\n'), ("scenario.toml", "invalid TOML")),
    "non-UTF-8 scenario": Case(lambda f: (f / "scenario.toml").write_bytes(
        BASE_TOML.replace('"bad"', '"caf\xe9"').encode("latin-1")), ("scenario.toml", "not UTF-8", "byte")),
    "malformed net XML": Case(lambda f: (f / "net" / "isolated.net.xml").write_text(
        "<net><edge id='a'></net>", encoding="utf-8"), ("isolated.net.xml", "malformed XML", "line 1")),
    "truncated net XML": Case(_truncated_net, ("isolated.net.xml", "malformed XML", "line")),
    "malformed sumocfg": Case(lambda f: _sumocfg(f, "<configuration><input></configuration>"),
                              ("x.sumocfg", "malformed XML", "line 1")),
    "truncated sumocfg": Case(lambda f: _sumocfg(f, '<configuration><input><net-file value="net/iso'),
                              ("x.sumocfg", "malformed XML")),
    "billion laughs sumocfg": Case(lambda f: _sumocfg(f, BILLION_LAUGHS), ("x.sumocfg", "refused", "Entities")),
    "sumocfg without net-file": Case(lambda f: _sumocfg(f, '<configuration><input><route-files value="routes.rou.xml"/>'
                                                           '</input></configuration>'),
                                     ("x.sumocfg", "exactly one net-file")),
    "sumocfg route file missing": Case(lambda f: _sumocfg(
        f, '<configuration><input><net-file value="net/isolated.net.xml"/><route-files value="gone.rou.xml"/>'
           '</input></configuration>'), ("x.sumocfg", "route-files", "gone.rou.xml")),
    "sumocfg begin not finite": Case(lambda f: _sumocfg(
        f, '<configuration><input><net-file value="net/isolated.net.xml"/><route-files value="routes.rou.xml"/>'
           '</input><time><end value="nan"/></time></configuration>'), ("x.sumocfg", "end", "nan")),
    "billion laughs net": Case(lambda f: (f / "net" / "isolated.net.xml").write_text(
        BILLION_LAUGHS.replace("configuration", "net"), encoding="utf-8"), ("isolated.net.xml", "refused")),
    "external entity sumocfg": Case(lambda f: _sumocfg(
        f, '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
           '<configuration><input><net-file value="&x;"/></input></configuration>'), ("x.sumocfg", "refused")),
    "sumocfg begin not a number": Case(lambda f: _sumocfg(
        f, '<configuration><input><net-file value="net/isolated.net.xml"/><route-files value="routes.rou.xml"/>'
           '</input><time><begin value="dawn"/></time></configuration>'), ("x.sumocfg", "begin", "dawn")),
    # scenario keys and values
    "unknown key": Case(lambda f: _toml(f, BASE_TOML.replace("warmup_s", 'colour = "red"\nwarmup_s')),
                        ("scenario.toml", "unknown key", "colour")),
    "unknown demand key": Case(lambda f: _toml(f, BASE_TOML + 'trucks = "t.csv"\n'),
                               ("scenario.toml", "[demand]", "trucks")),
    "begin_s wrong type": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s = 0", 'begin_s = "seven"')),
                               ("scenario.toml", "begin_s", "seven")),
    "begin_s boolean": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s = 0", "begin_s = true")),
                            ("scenario.toml", "begin_s", "True")),
    "end_s not finite": Case(lambda f: _toml(f, BASE_TOML.replace("end_s = 900", "end_s = inf")),
                             ("scenario.toml", "end_s", "inf")),
    "warmup_s nan": Case(lambda f: _toml(f, BASE_TOML.replace("warmup_s = 60", "warmup_s = nan")),
                         ("scenario.toml", "warmup_s", "nan")),
    "name missing": Case(lambda f: _toml(f, BASE_TOML.replace('name = "bad"\n', "")), ("scenario.toml", "name")),
    "signal not in network": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s", 'signals = ["nope"]\nbegin_s')),
                                  ("scenario.toml", "signal id not in the network", "nope")),
    "signals not a list": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s", 'signals = "center"\nbegin_s')),
                               ("scenario.toml", "signals", "center")),
    "warm-up longer than run": Case(lambda f: _toml(f, BASE_TOML.replace("warmup_s = 60", "warmup_s = 1000")),
                                    ("scenario.toml", "warmup_s", "1000")),
    "negative warm-up": Case(lambda f: _toml(f, BASE_TOML.replace("warmup_s = 60", "warmup_s = -5")),
                             ("scenario.toml", "warmup_s", "-5")),
    "end before begin": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s = 0", "begin_s = 1000")),
                             ("scenario.toml", "end_s", "900")),
    "unknown schema_version": Case(lambda f: _toml(f, BASE_TOML.replace("schema_version = 1", "schema_version = 2")),
                                   ("scenario.toml", "schema_version", "2")),
    "no schema_version": Case(lambda f: _toml(f, BASE_TOML.replace("schema_version = 1\n", "")),
                              ("scenario.toml", "schema_version", "None")),
    "both sumocfg and network": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s", 'sumocfg = "x.sumocfg"\nbegin_s')),
                                     ("scenario.toml", "sumocfg", "network")),
    "neither sumocfg nor network": Case(lambda f: _toml(f, BASE_TOML.replace('network = "net/isolated.net.xml"\n', "")),
                                        ("scenario.toml", "sumocfg", "network")),
    "path outside the folder": Case(lambda f: _toml(f, BASE_TOML.replace("net/isolated.net.xml",
                                                                         "../../nowhere/x.net.xml")),
                                    ("scenario.toml", "network", "../../nowhere/x.net.xml")),
    "no demand": Case(lambda f: _toml(f, BASE_TOML.split("[demand]")[0]), ("scenario.toml", "no demand")),
    "walk below MUTCD": Case(lambda f: _toml(f, BASE_TOML + "[timing]\nwalk_s = 4\n"), ("scenario.toml", "walk_s", "4")),
    "cycle bounds crossed": Case(lambda f: _toml(f, BASE_TOML + "[timing]\nmin_cycle_s = 200\n"),
                                 ("scenario.toml", "min_cycle_s", "200")),
    "optimise seeds negative": Case(lambda f: _toml(f, BASE_TOML + "[optimise]\nseeds = [1, -2]\n"),
                                    ("scenario.toml", "optimise.seeds", "-2")),
    "network is a folder": Case(lambda f: _toml(f, BASE_TOML.replace("net/isolated.net.xml", "net")),
                                ("scenario.toml", "network", "folder")),
    "schema_version as a float": Case(lambda f: _toml(f, BASE_TOML.replace("schema_version = 1", "schema_version = 1.0")),
                                      ("scenario.toml", "schema_version", "1.0")),
    "route_seed not an integer": Case(lambda f: _toml(f, BASE_TOML + "route_seed = 1.7\n"),
                                      ("scenario.toml", "route_seed", "1.7")),
    "run of a million years": Case(lambda f: _toml(f, BASE_TOML.replace("end_s = 900", "end_s = 1e12")),
                                   ("scenario.toml", "end_s", "1000000000000")),
    "optimise seeds repeat": Case(lambda f: _toml(f, BASE_TOML + "[optimise]\nseeds = [1, 1, 1]\n"),
                                  ("scenario.toml", "optimise.seeds", "[1, 1, 1]")),
    "optimise key never read": Case(lambda f: _toml(f, BASE_TOML + "[optimise]\nbudget = 5\n"),
                                    ("scenario.toml", "[optimise]", "budget")),
    "top-level seeds never read": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s", "seeds = [7]\nbegin_s")),
                                       ("scenario.toml", "unknown key", "seeds")),
    "zero minimum green": Case(lambda f: _toml(f, BASE_TOML + "[timing]\nmin_green_s = 0\n"),
                               ("scenario.toml", "min_green_s", "0")),
    "minimum green above maximum": Case(lambda f: _toml(f, BASE_TOML + "[timing]\nmin_green_s = 50\nmax_green_s = 10\n"),
                                        ("scenario.toml", "min_green_s", "max_green_s", "50")),
    "zero walking speed": Case(lambda f: _toml(f, BASE_TOML + "[timing]\nwalking_speed_m_s = 0\n"),
                               ("scenario.toml", "walking_speed_m_s", "0")),
    "variant that is not a network": Case(lambda f: _toml(f, BASE_TOML + '[variants]\nx = "counts.csv"\n'),
                                          ("scenario.toml", "variants.x", "counts.csv")),
    "traffic light without a programme": Case(lambda f: (f / "net" / "isolated.net.xml").write_text(re.sub(
        r"<tlLogic.*?</tlLogic>\s*", "", (f / "net" / "isolated.net.xml").read_text(encoding="utf-8"), flags=re.S),
        encoding="utf-8"), ("isolated.net.xml", "tlLogic", "center")),
    # counts
    "negative counts": Case(lambda f: _counts(f, COUNTS_HEADER + "00:00,center,N,T,-5\n"),
                            ("counts.csv", "line 2", "non-negative", "-5")),
    "non-numeric counts": Case(lambda f: _counts(f, COUNTS_HEADER + "00:00,center,N,T,40\n00:00,center,N,L,lots\n"),
                               ("counts.csv", "line 3", "not a number", "lots")),
    "U-turn not in network": Case(lambda f: _counts(f, COUNTS_HEADER + "00:00,center,N,U,5\n"),
                                  ("counts.csv", "movement not in the network", "(U)")),
    "approach leg that does not exist": Case(lambda f: _counts(f, COUNTS_HEADER + "00:00,center,NE,T,5\n"),
                                             ("counts.csv", "approach not at intersection center", "NE")),
    "counts for unknown signal": Case(lambda f: _counts(f, COUNTS_HEADER + "00:00,weidi,N,T,5\n"),
                                      ("counts.csv", "signal id not in the network", "weidi")),
    "unknown movement code": Case(lambda f: _counts(f, COUNTS_HEADER + "00:00,center,N,Q,5\n"),
                                  ("counts.csv", "movement", "Q")),
    "interval not a time": Case(lambda f: _counts(f, COUNTS_HEADER + "7h,center,N,T,5\n"),
                                ("counts.csv", "interval", "7h")),
    "count outside the window": Case(lambda f: _counts(f, COUNTS_HEADER + "01:00,center,N,T,5\n"),
                                     ("counts.csv", "outside the scenario window", "3600")),
    "non-UTF-8 counts": Case(lambda f: (f / "counts.csv").write_bytes(
        (COUNTS_HEADER + "00:00,center,N,T,5 # caf\xe9\n").encode("latin-1")), ("counts.csv", "not UTF-8", "byte")),
    "empty counts file": Case(lambda f: _counts(f, ""), ("counts.csv", "empty")),
    "counts header only": Case(lambda f: _counts(f, COUNTS_HEADER), ("counts.csv", "no rows")),
    "counts missing a column": Case(lambda f: _counts(f, "interval,intersection,approach,vehicles\n0,center,N,5\n"),
                                    ("counts.csv", "lacks columns", "movement")),
    "counts with an unquoted thousands separator": Case(lambda f: _counts(f, COUNTS_HEADER + "00:00,center,N,T,1,234\n"),
                                                        ("counts.csv", "line 2", "more fields", "234")),
    "counts column named twice": Case(lambda f: _counts(f, COUNTS_HEADER.strip() + ",vehicles\n00:00,center,N,T,4,5\n"),
                                      ("counts.csv", "line 1", "twice", "vehicles")),
    "a quarter without counts": Case(lambda f: (_toml(f, BASE_TOML.replace("end_s = 900", "end_s = 2700")),
                                                _counts(f, GOOD_COUNTS + "00:30,center,N,T,40\n")),
                                     ("counts.csv", "give zeros", "00:15")),
    "variant name that is a path": Case(lambda f: _toml(f, BASE_TOML + '[variants]\n"../x" = "net/isolated.net.xml"\n'),
                                        ("scenario.toml", "variant names", "../x")),
    "name that is a path": Case(lambda f: _toml(f, BASE_TOML.replace('name = "bad"', 'name = "../escape"')),
                                ("scenario.toml", "name", "../escape")),
    "seed SUMO cannot take": Case(lambda f: _toml(f, BASE_TOML + "[optimise]\nseeds = [2147483648]\n"),
                                  ("scenario.toml", "optimise.seeds", "2147483648")),
    "absurd reaction time": Case(lambda f: _toml(f, BASE_TOML + "[timing]\nperception_reaction_s = 1e308\n"),
                                 ("scenario.toml", "perception_reaction_s", "1e+308")),
    "standard yellow under 3 s": Case(lambda f: _toml(f, BASE_TOML + "[timing]\nyellow_s = 2.5\n"),
                                      ("scenario.toml", "timing.yellow_s", "2.5")),
    "signal named twice": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s", 'signals = ["center", "center"]\nbegin_s')),
                               ("scenario.toml", "signals", "center")),
    "description not text": Case(lambda f: _toml(f, BASE_TOML.replace("begin_s", "description = 5\nbegin_s")),
                                 ("scenario.toml", "description", "5")),
    "network that is not a network": Case(lambda f: (f / "net" / "isolated.net.xml").write_text("<foo/>\n"),
                                          ("isolated.net.xml", "not a SUMO network", "<foo>")),
    # command line
    "bad --seeds text": Case(lambda f: None, ("--seeds", "1,x"), extra_args=("--seeds", "1,x")),
    "reversed --seeds range": Case(lambda f: None, ("--seeds", "5-2"), extra_args=("--seeds", "5-2")),
    "negative --seeds": Case(lambda f: None, ("--seeds", "-3"), extra_args=("--seeds=-3",)),
    "missing plans file": Case(lambda f: None, ("gone.json", "not found"), extra_args=("--plans", "gone.json")),
    "empty --seeds": Case(lambda f: None, ("--seeds",), extra_args=("--seeds", "")),
    "repeated --seeds": Case(lambda f: None, ("--seeds", "1,1"), extra_args=("--seeds", "1,1")),
    "no --workers": Case(lambda f: None, ("--workers", "0"), extra_args=("--workers", "0")),
    "--seeds beyond SUMO": Case(lambda f: None, ("--seeds", "2147483648"), extra_args=("--seeds", "2147483648")),
    "--seeds filling the memory": Case(lambda f: None, ("--seeds", "at most"), extra_args=("--seeds", "0-99999999999")),
}

#: Options of the other commands, refused before any simulation (``afile`` is a file in the folder).
OPTION_CASES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "negative objective weight": (["optimise", "scenario.toml", "--objective", "queue=-1"], ("--objective", "queue=-1")),
    "all-zero objective": (["optimise", "scenario.toml", "--objective", "queue=0,delay=0"], ("--objective", "delay=0")),
    "nan objective weight": (["optimise", "scenario.toml", "--objective", "queue=nan"], ("--objective", "nan")),
    "negative time budget": (["optimise", "scenario.toml", "--time-budget", "-5"], ("--time-budget", "-5")),
    "plans under a file": (["optimise", "scenario.toml", "--out", "afile/x.json"], ("--out", "afile/x.json")),
    "plans onto a folder": (["optimise", "scenario.toml", "--out", "net"], ("--out", "net")),
    "run dir is a file": (["optimise", "scenario.toml", "--run-dir", "afile"], ("--run-dir", "afile")),
    "run output is a file": (["run", "scenario.toml", "--out", "afile"], ("--out", "afile")),
    "comparison on the optimiser's seeds": (["run", "scenario.toml", "--seeds", "1", "--compare-seeds", "1,2"],
                                            ("--compare-seeds", "1")),
    "no baselines": (["run", "scenario.toml", "--baselines", ""], ("--baselines",)),
    "no baselines to compare": (["compare", "scenario.toml", "--baselines", ","], ("--baselines", ",")),
    "a period longer than half the day": (["tod", "scenario.toml", "--min-period", "100000"],
                                          ("--min-period", "100000 min")),
    "more periods than allowed": (["tod", "scenario.toml", "--periods", "3", "--max-periods", "2"], ("--periods", "3")),
    "negative period": (["tod", "scenario.toml", "--min-period", "-5"], ("--min-period", "-5")),
    "export onto a folder": (["export", "plans.json", "--network", "net/isolated.net.xml", "--format", "csv",
                              "--out", "net"], ("--out", "net")),
}


@pytest.mark.parametrize("argv, names", list(OPTION_CASES.values()), ids=list(OPTION_CASES))
def test_bad_options_are_refused_before_any_work(argv: list[str], names: tuple[str, ...], folder: Path, capsys,
                                                 monkeypatch) -> None:
    monkeypatch.chdir(folder)
    (folder / "afile").write_text("", encoding="utf-8")
    scen = read_scenario(folder / "scenario.toml")
    net = read_network(scen.network_path)
    existing, _ = scenario_plans(scen, net)
    enc = make_encoding(net, existing, scen.timing)  # decoded, the existing plans are safe
    export_plans(enc.decode(enc.encode(existing)), "json", folder / "plans.json", network=net)
    before = sorted(p.name for p in folder.iterdir())
    code, out, err = run_cli(argv, capsys)
    assert_one_line_error(code, out, err, *names)
    assert out == "" and sorted(p.name for p in folder.iterdir()) == before  # nothing written


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_one_line_naming_file_and_value(case: Case, folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    case.setup(folder)
    code, out, err = run_cli(["simulate", case.scenario, "--workers", "1", *case.extra_args], capsys)
    assert_one_line_error(code, out, err, *case.names)
    assert out == ""


@pytest.mark.parametrize("command", ["run", "tod"])
def test_a_budget_below_one_fails_before_any_work(command: str, folder: Path, capsys, monkeypatch) -> None:
    """``run`` and ``tod`` simulate (and log) before they optimise: the budget is refused first, with nothing
    on stdout (it was refused by the optimiser, after a simulation of the existing plans and its log lines)."""
    monkeypatch.chdir(folder)
    code, out, err = run_cli([command, "scenario.toml", "--budget", "0", "--out", str(folder / "out")], capsys)
    assert_one_line_error(code, out, err, "--budget", "(0)")
    assert out == "" and not (folder / "out").exists()


def test_billion_laughs_is_refused_quickly(folder: Path, capsys, monkeypatch) -> None:
    import time

    monkeypatch.chdir(folder)
    _sumocfg(folder, BILLION_LAUGHS)
    t0 = time.perf_counter()
    code, out, err = run_cli(["info", "scenario.toml"], capsys)
    assert time.perf_counter() - t0 < 5
    assert_one_line_error(code, out, err, "x.sumocfg")


def test_info_reports_bad_scenario_the_same_way(folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    _toml(folder, BASE_TOML.replace("begin_s = 0", 'begin_s = "seven"'))
    assert_one_line_error(*run_cli(["info", "scenario.toml"], capsys), "scenario.toml", "begin_s", "seven")


# ---------------------------------------------------------------------------------------------
# plan files


@pytest.fixture
def plan_doc(folder: Path) -> dict:
    existing, _ = scenario_plans(read_scenario(folder / "scenario.toml"))
    write_plans(existing, folder / "plans.json")
    return json.loads((folder / "plans.json").read_text(encoding="utf-8"))


def test_fixture_plan_file_is_valid(folder: Path, plan_doc: dict) -> None:
    # the fixture's plan file is valid: the bad cases below differ from it in one thing only
    from signalopt.network import read_network
    from signalopt.formats.planfile import read_plans

    plans = read_plans(folder / "plans.json", network=read_network(folder / "net" / "isolated.net.xml"))
    assert plans.signal_ids == ("center",)


def test_a_byte_order_mark_is_accepted_as_in_the_csv_and_xml_readers(folder: Path, plan_doc: dict) -> None:
    from signalopt.formats.planfile import read_plans

    bom = folder / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + (folder / "plans.json").read_bytes())
    assert read_plans(bom) == read_plans(folder / "plans.json")


def test_compare_refuses_seeds_in_a_plan_file_that_are_not_seeds(folder: Path, plan_doc: dict, capsys,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(folder)
    (folder / "plans.json").write_text(json.dumps({**plan_doc, "provenance": {"seeds": 5}}), encoding="utf-8")
    code, out, err = run_cli(["compare", "scenario.toml", "--plans", "plans.json"], capsys)
    assert_one_line_error(code, out, err, "plans.json", "provenance.seeds", "5")


def _bad_plan_signal(doc: dict) -> str:
    doc["plans"][0]["signal_id"] = "nope"
    return json.dumps(doc)


def _bad_plan_links(doc: dict) -> str:
    for ph in doc["plans"][0]["phases"]:
        ph["state"] = ph["state"][:-2]
        ph["change"] = [[d, st[:-2]] for d, st in ph.get("change", [])]
    return json.dumps(doc)


def _bad_plan_green(doc: dict) -> str:
    doc["plans"][0]["phases"][0]["green_s"] = "long"
    doc["plans"][0].pop("cycle_s")
    return json.dumps(doc)


@pytest.mark.parametrize("make, names", [
    (lambda doc: json.dumps(doc)[:-20], ("plans.json", "malformed JSON", "line")),
    (lambda doc: "{'schema_version': 1}", ("plans.json", "malformed JSON", "line 1")),
    (lambda doc: "[1, 2]", ("plans.json", "JSON object", "list")),
    (lambda doc: json.dumps({**doc, "schema_version": 7}), ("plans.json", "schema_version", "7")),
    (_bad_plan_signal, ("plans.json", "signal id not in the network", "nope")),
    (_bad_plan_links, ("plans.json", "14 links", "16")),
    (_bad_plan_green, ("plans.json", "green_s", "long")),
    (lambda doc: json.dumps(doc).replace('"schema_version": 1', '"schema_version": 1' + "0" * 5000),
     ("plans.json", "malformed JSON", "digits")),
    (lambda doc: "[" * 100000, ("plans.json", "malformed JSON")),
], ids=["truncated", "python-not-json", "not-an-object", "schema-version", "unknown-signal", "link-count",
        "wrong-type", "huge-number", "deep-nesting"])
def test_bad_plan_file(make, names, folder: Path, plan_doc: dict, capsys, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    (folder / "plans.json").write_text(make(plan_doc), encoding="utf-8")
    code, out, err = run_cli(["simulate", "scenario.toml", "--plans", "plans.json", "--workers", "1"], capsys)
    assert_one_line_error(code, out, err, *names)
