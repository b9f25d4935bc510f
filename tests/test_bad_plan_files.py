"""Bad plan and schedule files: one-line :class:`InputError` naming the file, the element and the value.

Pure tests: networks are read, plans are checked and files are written, but
nothing is simulated.  Every bad case starts from a valid file (a plan file
written by :func:`signalopt.formats.planfile.write_plans` for the isolated network,
or the bundled school-term schedule) and breaks one thing, so the error can
only come from that one thing.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from signalopt.cli import main
from signalopt.errors import InputError, PlanError
from signalopt.network import Network, read_network
from signalopt.plan import Phase, PlanSet, TimingPlan
from signalopt.formats.planfile import read_plan_file, read_plans, write_plans
from signalopt.prepare import scenario_plans
from signalopt.scenario import read_scenario
from signalopt.schedule import MAX_TIME_S, Schedule, SchedulePeriod, check_covers, read_schedule
from tests.conftest import QIXIANGTAI_NET, ROOT

BUNDLED_SCHEDULE = ROOT / "scenarios" / "data" / "school_term_schedule.json"
SCENARIO_TOML = ('schema_version = 1\nname = "plans"\nnetwork = "net/isolated.net.xml"\nbegin_s = 0\n'
                 'end_s = 900\nwarmup_s = 60\n[demand]\ncounts = "counts.csv"\n')
COUNTS = "interval,intersection,approach,movement,vehicles\n00:00,center,N,T,40\n"
PHASE_NUMBERS = ("green_s", "yellow_s", "all_red_s", "min_green_s", "max_green_s", "min_yellow_s",
                 "min_all_red_s", "walk_s", "ped_clearance_s")

Doc = dict[str, Any]
Mutation = Callable[[Doc], None]


# ---------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory: pytest.TempPathFactory, isolated_net: Path) -> Path:
    """A scenario folder whose ``plans.json`` holds the isolated network's existing plans."""
    folder = tmp_path_factory.mktemp("plans")
    (folder / "net").mkdir()
    shutil.copy(isolated_net, folder / "net" / "isolated.net.xml")
    (folder / "counts.csv").write_text(COUNTS, encoding="utf-8")
    (folder / "scenario.toml").write_text(SCENARIO_TOML, encoding="utf-8")
    existing, _ = scenario_plans(read_scenario(folder / "scenario.toml"))
    write_plans(existing, folder / "plans.json")
    return folder


@pytest.fixture(scope="module")
def isolated(isolated_net: Path) -> Network:
    return read_network(isolated_net)


@pytest.fixture(scope="module")
def qixiangtai() -> Network:
    return read_network(QIXIANGTAI_NET)


@pytest.fixture
def plan_doc(plan_folder: Path) -> Doc:
    return json.loads((plan_folder / "plans.json").read_text(encoding="utf-8"))


@pytest.fixture
def schedule_doc() -> Doc:
    return json.loads(BUNDLED_SCHEDULE.read_text(encoding="utf-8"))


def write_doc(path: Path, doc: Doc) -> Path:
    # json.dumps writes NaN and Infinity as Python's json reads them: the probe's exact input
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def assert_one_line(exc: BaseException, path: Path, *must_name: str) -> str:
    """The message of ``exc`` is one line naming the file and every fragment."""
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text, text
    assert "internal error" not in text, text
    assert path.name in text, f"{path.name!r} not in {text!r}"
    for fragment in must_name:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    return text


def refuse_plans(path: Path, network: Network, *must_name: str) -> str:
    with pytest.raises(InputError) as info:
        read_plans(path, network=network)
    return assert_one_line(info.value, path, *must_name)


def refuse_schedule(path: Path, network: Network | None, *must_name: str) -> str:
    with pytest.raises(InputError) as info:
        read_schedule(path, network=network)
    return assert_one_line(info.value, path, *must_name)


def setter(*keys: Any, value: Any) -> Mutation:
    """A mutation that sets ``doc[k0][k1]...`` to ``value``."""

    def mutate(doc: Doc) -> None:
        node = doc
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mutate


def plan_key(key: str, value: Any) -> Mutation:
    return setter("plans", 0, key, value=value)


def phase_key(key: str, value: Any, phase: int = 0) -> Mutation:
    return setter("plans", 0, "phases", phase, key, value=value)


def _overflowing_greens(doc: Doc) -> None:
    # every value finite and each phase valid, but the splits sum to inf
    for ph in doc["plans"][0]["phases"]:
        ph["green_s"] = ph["max_green_s"] = 1e308
    doc["plans"][0].pop("cycle_s")


# ---------------------------------------------------------------------------------------------
# the valid starting points (and the bundled files) read


def test_valid_plan_file_reads(plan_folder: Path, isolated: Network) -> None:
    plans, provenance = read_plan_file(plan_folder / "plans.json", network=isolated)
    assert plans.signal_ids == ("center",) and provenance == {}
    assert all(math.isfinite(p.cycle_s) for p in plans)


def test_bundled_schedule_reads(qixiangtai: Network) -> None:
    schedule = read_schedule(BUNDLED_SCHEDULE, network=qixiangtai)
    assert len(schedule.periods) == 5
    assert 0 <= schedule.begin_s < schedule.end_s <= 86400.0
    assert all(len(p.plans) == 4 for p in schedule.periods)


def test_bundled_schedule_covers_its_day_scenarios(qixiangtai: Network) -> None:
    for name in ("qixiangtai_school_day.toml", "qixiangtai_summer_day.toml"):
        scenario = read_scenario(ROOT / "scenarios" / name)
        assert scenario.schedule_path is not None and scenario.schedule_path.samefile(BUNDLED_SCHEDULE)
        read_schedule(scenario.schedule_path, network=qixiangtai, window=(scenario.begin_s, scenario.end_s))


def test_schedule_with_clock_strings_reads(tmp_path: Path, schedule_doc: Doc) -> None:
    # HH:MM is part of the format; 24:00 is the end of the day
    schedule_doc["periods"][0]["begin_s"] = "06:00"
    schedule_doc["periods"][-1]["end_s"] = "24:00"
    schedule = read_schedule(write_doc(tmp_path / "s.json", schedule_doc))
    assert (schedule.begin_s, schedule.end_s) == (21600.0, 86400.0)


# ---------------------------------------------------------------------------------------------
# defect 1: non-finite numbers anywhere in a plan


@pytest.mark.parametrize("mutate, names", [
    (plan_key("cycle_s", math.nan), ("center", "cycle_s", "nan")),
    (plan_key("cycle_s", math.inf), ("center", "cycle_s", "inf")),
    (plan_key("cycle_s", -math.inf), ("center", "cycle_s", "-inf")),
    (plan_key("offset_s", math.nan), ("center", "offset_s", "nan")),
    (plan_key("offset_s", math.inf), ("center", "offset_s", "inf")),
    *[(phase_key(k, math.nan), ("center", "stage 1", k, "nan")) for k in PHASE_NUMBERS],
    *[(phase_key(k, math.inf, phase=1), ("center", "stage 2", k, "inf")) for k in PHASE_NUMBERS],
    (_overflowing_greens, ("center", "cycle_s", "inf")),
], ids=["cycle-nan", "cycle-inf", "cycle-minus-inf", "offset-nan", "offset-inf",
        *[f"{k}-nan" for k in PHASE_NUMBERS], *[f"{k}-inf" for k in PHASE_NUMBERS], "greens-overflow"])
def test_non_finite_number_is_refused(mutate: Mutation, names: tuple[str, ...], tmp_path: Path, plan_doc: Doc,
                                      isolated: Network) -> None:
    mutate(plan_doc)
    refuse_plans(write_doc(tmp_path / "plans.json", plan_doc), isolated, *names)


@pytest.mark.parametrize("mutate, names", [
    (plan_key("cycle_s", math.nan), ("cycle_s", "nan")),
    (phase_key("yellow_s", math.inf), ("yellow_s", "inf")),
])
def test_non_finite_plan_is_neither_validated_nor_exported(mutate: Mutation, names: tuple[str, ...],
                                                           tmp_path: Path, plan_doc: Doc, isolated_net: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    mutate(plan_doc)
    path = write_doc(tmp_path / "nan.json", plan_doc)
    for argv in (["validate", str(path), "--network", str(isolated_net)],
                 ["export", str(path), "--network", str(isolated_net), "--format", "sumo",
                  "--out", str(tmp_path / "out.add.xml")]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 2, (argv[0], out, err)
        assert "safe" not in out and len(err.splitlines()) == 1, (out, err)
        assert_one_line(Exception(err.strip()), path, *names)
    assert not (tmp_path / "out.add.xml").exists()


def test_constructed_plans_refuse_non_finite_values() -> None:
    # the dataclasses themselves refuse, whatever builds them
    good = dict(name="a", state="Gr", green_s=10.0, yellow_s=3.0, all_red_s=1.0)
    with pytest.raises(PlanError, match=r"green_s must be a number \(nan\)"):
        Phase(**{**good, "green_s": math.nan})
    huge = Phase(**{**good, "green_s": 1e308, "max_green_s": 1e308})
    with pytest.raises(PlanError, match=r"signal 'x': cycle_s must be finite \(inf\)"):
        TimingPlan("x", (huge, huge))


# ---------------------------------------------------------------------------------------------
# defect 2: numbers must be JSON numbers


@pytest.mark.parametrize("mutate, names", [
    (plan_key("cycle_s", "72"), ("center", "cycle_s", "'72'")),
    (plan_key("cycle_s", "abc"), ("center", "cycle_s", "'abc'")),
    (plan_key("cycle_s", True), ("center", "cycle_s", "True")),
    (plan_key("cycle_s", None), ("center", "cycle_s", "None")),
    (plan_key("offset_s", "0"), ("center", "offset_s", "'0'")),
    (phase_key("green_s", "12"), ("center", "stage 1", "green_s", "'12'")),
    (phase_key("yellow_s", False), ("center", "stage 1", "yellow_s", "False")),
    (phase_key("walk_s", [7]), ("center", "stage 1", "walk_s", "[7]")),
], ids=["cycle-digits", "cycle-abc", "cycle-bool", "cycle-null", "offset-string", "green-string",
        "yellow-bool", "walk-list"])
def test_number_of_another_type_is_refused(mutate: Mutation, names: tuple[str, ...], tmp_path: Path,
                                           plan_doc: Doc, isolated: Network) -> None:
    mutate(plan_doc)
    text = refuse_plans(write_doc(tmp_path / "plans.json", plan_doc), isolated, *names)
    assert "must be a number" in text


def test_long_bad_value_is_cut_short(tmp_path: Path, plan_doc: Doc, isolated: Network) -> None:
    plan_key("cycle_s", "9" * 5000)(plan_doc)
    text = refuse_plans(write_doc(tmp_path / "plans.json", plan_doc), isolated, "cycle_s", "'999")
    assert len(text) < 300


# ---------------------------------------------------------------------------------------------
# defect 3: wrong types in the plan structure


@pytest.mark.parametrize("mutate, names", [
    (setter("plans", value="abc"), ("plans", "'abc'")),
    (setter("plans", value={"a": 1}), ("plans", "{'a': 1}")),
    (setter("plans", value=5), ("plans", "(5)")),
    (setter("plans", value=[5]), ("plan 1", "must be an object", "(5)")),
    (setter("plans", 0, value=[1, 2]), ("plan 1", "must be an object", "[1, 2]")),
    (plan_key("signal_id", 5), ("plan 1", "signal_id", "(5)")),
    (plan_key("program_id", 5), ("center", "program_id", "(5)")),
    (plan_key("phases", 5), ("center", "phases", "(5)")),
    (plan_key("phases", "GGrr"), ("center", "phases", "'GGrr'")),
    (setter("plans", 0, "phases", 0, value=7), ("center", "phase 1", "must be an object", "(7)")),
    (phase_key("state", 123), ("center", "stage 1", "state", "(123)")),
    (phase_key("state", ["G", "r"]), ("center", "stage 1", "state", "['G', 'r']")),
    (phase_key("name", 5), ("center", "phase 1", "name", "(5)")),
    (plan_key("ped_links", "abc"), ("center", "ped_links", "'abc'")),
    (plan_key("ped_links", 5), ("center", "ped_links", "(5)")),
    (plan_key("ped_links", [True]), ("center", "ped_links", "[True]")),
    (plan_key("ped_links", [1.5]), ("center", "ped_links", "[1.5]")),
    (plan_key("ped_links", {"1": 1}), ("center", "ped_links", "{'1': 1}")),
    (setter("name", value=5), ("name", "(5)")),
    (lambda d: d["plans"][0]["phases"][0].pop("min_all_red_s"), ("center", "phase 1", "missing", "min_all_red_s")),
    (lambda d: d["plans"][0].pop("signal_id"), ("plan 1", "missing", "signal_id")),
], ids=["plans-string", "plans-object", "plans-int", "plan-int", "plan-list", "signal-id-int", "program-id-int",
        "phases-int", "phases-string", "phase-int", "state-int", "state-list", "phase-name-int", "ped-links-string",
        "ped-links-int", "ped-links-bool", "ped-links-float", "ped-links-object", "set-name-int",
        "phase-key-missing", "signal-id-missing"])
def test_wrong_structure_is_refused(mutate: Mutation, names: tuple[str, ...], tmp_path: Path, plan_doc: Doc,
                                    isolated: Network) -> None:
    mutate(plan_doc)
    text = refuse_plans(write_doc(tmp_path / "plans.json", plan_doc), isolated, *names)
    # the Python-level symptoms the probe saw must not leak into the message
    for leak in ("not iterable", "not supported between", "dictionary update sequence", "__init__"):
        assert leak not in text, text


# ---------------------------------------------------------------------------------------------
# defect 4: schema_version is an integer, not a boolean


@pytest.mark.parametrize("version, shown", [(True, "True"), (1.0, "1.0"), ("1", "'1'"), (None, "None"), (2, "2")])
def test_schema_version_must_be_the_integer_1(version: Any, shown: str, tmp_path: Path, plan_doc: Doc,
                                              isolated: Network) -> None:
    plan_doc["schema_version"] = version
    refuse_plans(write_doc(tmp_path / "plans.json", plan_doc), isolated, "schema_version", f"({shown})")


@pytest.mark.parametrize("version", [True, 1.0])
def test_schedule_schema_version_must_be_the_integer_1(version: Any, tmp_path: Path, schedule_doc: Doc) -> None:
    schedule_doc["schema_version"] = version
    refuse_schedule(write_doc(tmp_path / "sched.json", schedule_doc), None, "schema_version", f"({version!r})")


# ---------------------------------------------------------------------------------------------
# defect 5: a plan file must plan something, and has a fixed key set


def _rename_plans(doc: Doc) -> None:
    doc["plan"] = doc.pop("plans")


@pytest.mark.parametrize("mutate, names", [
    (setter("plans", value=[]), ("plans", "no signal plans", "[]")),
    (lambda d: d.pop("plans"), ('no "plans"', "schema_version")),
    (_rename_plans, ("unknown top-level keys", "(plan)")),
    (setter("comment", value="x"), ("unknown top-level keys", "(comment)")),
    (setter("provenance", value=5), ("provenance", "(5)")),
    (setter("generator", value=[1]), ("generator", "[1]")),
], ids=["empty-list", "no-plans-key", "typo-plan", "unknown-key", "provenance-int", "generator-list"])
def test_plan_file_without_plans_or_with_unknown_keys_is_refused(mutate: Mutation, names: tuple[str, ...],
                                                                 tmp_path: Path, plan_doc: Doc,
                                                                 isolated: Network) -> None:
    mutate(plan_doc)
    refuse_plans(write_doc(tmp_path / "plans.json", plan_doc), isolated, *names)


def test_empty_plan_file_is_not_validated_as_safe(tmp_path: Path, plan_doc: Doc, isolated_net: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    plan_doc["plans"] = []
    path = write_doc(tmp_path / "empty.json", plan_doc)
    code = main(["validate", str(path), "--network", str(isolated_net)])
    out, err = capsys.readouterr()
    assert code == 2 and "safe" not in out and len(err.splitlines()) == 1, (out, err)
    assert_one_line(Exception(err.strip()), path, "plans", "[]")


# ---------------------------------------------------------------------------------------------
# defects 6-8: schedule times and plans


@pytest.mark.parametrize("mutate, names", [
    (setter("periods", -1, "end_s", value=math.inf), ("evening", "end_s", "(inf)")),
    (setter("periods", -1, "end_s", value=math.nan), ("evening", "end_s", "(nan)")),
    (setter("periods", 0, "begin_s", value=-math.inf), ("early", "begin_s", "(-inf)")),
    (setter("periods", -1, "end_s", value="999:00"), ("evening", "end_s", "'999:00'")),
    (setter("periods", -1, "end_s", value=MAX_TIME_S + 1), ("evening", "end_s", "604801")),
    (setter("periods", -1, "end_s", value=10**400), ("evening", "end_s", "1000")),
    (setter("periods", 0, "begin_s", value=-3600), ("early", "begin_s", "-3600")),
    (setter("periods", 0, "begin_s", value=True), ("early", "begin_s", "True")),
    (setter("periods", 0, "begin_s", value="7 o'clock"), ("early", "begin_s", "7 o'clock")),
], ids=["end-inf", "end-nan", "begin-minus-inf", "end-999h", "end-after-a-week", "end-huge-int", "begin-negative",
        "begin-bool", "begin-words"])
def test_schedule_time_outside_the_day_is_refused(mutate: Mutation, names: tuple[str, ...], tmp_path: Path,
                                                  schedule_doc: Doc) -> None:
    mutate(schedule_doc)
    refuse_schedule(write_doc(tmp_path / "sched.json", schedule_doc), None, *names)


def _all_plans_empty(doc: Doc) -> None:
    for period in doc["periods"]:
        period["plans"] = {}


@pytest.mark.parametrize("mutate, names", [
    (_all_plans_empty, ("period 'early'", "plans")),
    (setter("periods", 1, "plans", value={}), ("period 'am_peak'", "plans")),
    (setter("periods", 1, "plans", value={"name": "x", "plans": []}), ("period 'am_peak'", "no signal plans", "[]")),
    (setter("periods", 2, "plans", value="abc"), ("period 'midday'", "plan set", "'abc'")),
    (setter("periods", 2, "plans", "plans", 0, "cycle_s", value=math.nan), ("period 'midday'", "cycle_s", "nan")),
    (lambda d: d["periods"][0].pop("plans"), ("period 'early'", "missing", "plans")),
    (setter("periods", 0, "plan", value={}), ("period 'early'", "unknown keys", "plan")),
    (setter("periods", value=[]), ("periods", "[]")),
    (setter("periods", value="abc"), ("periods", "'abc'")),
    (setter("periods", 0, value=5), ("period 1", "must be an object", "(5)")),
    (setter("perods", value=[]), ("unknown keys", "perods")),
], ids=["all-empty", "one-empty", "empty-list", "plans-string", "nan-cycle", "plans-missing", "typo-plan",
        "no-periods", "periods-string", "period-int", "typo-periods"])
def test_schedule_period_without_valid_plans_is_refused(mutate: Mutation, names: tuple[str, ...], tmp_path: Path,
                                                        schedule_doc: Doc) -> None:
    mutate(schedule_doc)
    refuse_schedule(write_doc(tmp_path / "sched.json", schedule_doc), None, *names)


def test_schedule_period_dataclass_refuses_empty_plans_and_bad_times(plan_folder: Path,
                                                                    isolated: Network) -> None:
    plans = read_plans(plan_folder / "plans.json", network=isolated)
    with pytest.raises(PlanError, match=r"period 'am': no plans"):
        SchedulePeriod("am", 0.0, 3600.0, PlanSet(()))
    with pytest.raises(PlanError, match=r"period 'am': end_s must be a finite time.*\(inf\)"):
        SchedulePeriod("am", 0.0, math.inf, plans)
    with pytest.raises(PlanError, match=r"period 'am': begin_s must be a finite time.*\(-1\)"):
        SchedulePeriod("am", -1, 3600.0, plans)


# ---------------------------------------------------------------------------------------------
# a schedule is not stretched over a window it does not cover


def test_schedule_not_covering_the_scenario_window_is_refused(qixiangtai: Network) -> None:
    schedule = read_schedule(BUNDLED_SCHEDULE)
    for window in ((18000.0, 79200.0), (21600.0, 82800.0)):
        with pytest.raises(InputError) as info:
            read_schedule(BUNDLED_SCHEDULE, network=qixiangtai, window=window)
        assert_one_line(info.value, BUNDLED_SCHEDULE, "06:00-22:00", "21600-79200 s",
                        f"{window[0]:g}-{window[1]:g} s")
    assert check_covers(schedule, 21600.0, 79200.0) is schedule
    with pytest.raises(PlanError, match=r"covers 06:00-22:00 .*\(82800 s\)"):
        schedule.period_at(82800.0)
    with pytest.raises(PlanError, match=r"covers 06:00-22:00"):
        schedule.period_at(0.0)
    assert schedule.period_at(79199.0).name == "evening"


def test_schedule_round_trip_still_holds(tmp_path: Path, schedule_doc: Doc) -> None:
    schedule = read_schedule(BUNDLED_SCHEDULE)
    again = Schedule.from_dict(json.loads(json.dumps(schedule.to_dict())))
    assert again == schedule
    assert read_schedule(write_doc(tmp_path / "copy.json", copy.deepcopy(schedule_doc))) == schedule
