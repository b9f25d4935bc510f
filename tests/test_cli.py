"""The ``signalopt`` command line: simulate (json and table), info, seeds; run in-process with
``signalopt.cli.main`` (serial executor: libsumo in this process) and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from signalopt.cli import main
from signalopt.errors import InputError
from signalopt.evaluator import parse_seeds
from signalopt.plan import PlanSet
from signalopt.formats.planfile import write_plans
from signalopt.prepare import scenario_plans
from signalopt.scenario import read_scenario

JSON_KEYS = {"scenario", "seeds", "delay_s", "mean_max_queue_m", "p95_max_queue_m", "not_inserted", "approaches",
             "throughput_veh"}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, isolated_net, sumocfg_scenario, make_flows) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    routes = make_flows(("n2center", "center2s", 500), ("n2center", "center2e", 80), ("e2center", "center2w", 150),
                        ("w2center", "center2e", 150))
    return sumocfg_scenario(folder, isolated_net, routes, name="cli", end_s=720, warmup_s=90,
                            extra_toml="[optimise]\nseeds = [4, 5]\n")


def _json(argv: list[str], capsys) -> dict:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def _without_wall_time(d: dict) -> dict:
    d = dict(d)
    d["runs"] = [{k: v for k, v in r.items() if k != "sim_time_s"} for r in d["runs"]]
    return d


@pytest.fixture(scope="module")
def simulate_json(scenario: Path) -> dict:
    # module scope: capture by hand (capsys is per test)
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["simulate", str(scenario), "--seeds", "1,2", "--workers", "1", "--format", "json"])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_simulate_json_has_the_documented_keys(simulate_json: dict) -> None:
    d = simulate_json
    assert JSON_KEYS <= set(d)
    assert d["scenario"] == "cli" and d["seeds"] == [1, 2] and d["plans"] == "existing"
    assert d["delay_s"] > 0 and d["throughput_veh"] > 0 and d["not_inserted"] == 0
    assert d["mean_max_queue_m"] > 0 and d["p95_max_queue_m"] >= d["mean_max_queue_m"]
    labels = [a["label"] for a in d["approaches"]]
    assert labels == ["center:N", "center:E", "center:S", "center:W"]
    by = {a["label"]: a for a in d["approaches"]}
    assert by["center:N"]["mean_max_queue_m"] > by["center:E"]["mean_max_queue_m"]
    assert by["center:S"]["max_queue_m"] == 0.0


def test_simulate_json_aggregates_its_runs(simulate_json: dict) -> None:
    d = simulate_json
    runs = d["runs"]
    assert [r["seed"] for r in runs] == [1, 2]
    for key in ("delay_s", "mean_max_queue_m", "throughput_veh", "not_inserted"):
        assert d[key] == pytest.approx(sum(r[key] for r in runs) / 2)
        lo, hi = d[f"{key}_ci95"]
        assert lo <= d[key] <= hi
    assert runs[0]["delay_s"] != runs[1]["delay_s"]


def test_simulate_json_same_with_two_worker_processes(scenario: Path, simulate_json: dict, capsys) -> None:
    pooled = _json(["simulate", str(scenario), "--seeds", "1-2", "--workers", "2", "--format", "json"], capsys)
    assert _without_wall_time(pooled) == _without_wall_time(simulate_json)


def test_simulate_default_seeds_come_from_the_scenario(scenario: Path, capsys) -> None:
    d = _json(["simulate", str(scenario), "--workers", "1", "--format", "json"], capsys)
    assert d["seeds"] == [4, 5]


def test_simulate_table(scenario: Path, capsys) -> None:
    assert main(["simulate", str(scenario), "--seeds", "3", "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("scenario cli  plans existing  seeds 3")
    assert "mean delay" in out and "not inserted" in out
    for label in ("center:N", "center:E", "center:S", "center:W"):
        assert label in out


def test_simulate_with_a_plan_file(scenario: Path, tmp_path: Path, simulate_json: dict, capsys) -> None:
    existing, _ = scenario_plans(read_scenario(scenario))
    plan = existing["center"]
    greens = [p.green_s for p in plan.phases]
    # NS through from 25 s down to 8 s, the time given to EW through
    starved = plan.with_timings([greens[0], 8.0, greens[2], greens[3] + greens[1] - 8.0])
    write_plans(PlanSet((starved,), name="starved"), tmp_path / "starved.json")
    d = _json(["simulate", str(scenario), "--plans", str(tmp_path / "starved.json"), "--seeds", "1,2",
               "--workers", "1", "--format", "json"], capsys)
    assert d["plans"] == "starved"
    n_new = next(a for a in d["approaches"] if a["label"] == "center:N")["mean_max_queue_m"]
    n_old = next(a for a in simulate_json["approaches"] if a["label"] == "center:N")["mean_max_queue_m"]
    assert n_new > 1.5 * n_old
    assert d["delay_s"] > simulate_json["delay_s"]


def test_info_json_and_table(scenario: Path, capsys) -> None:
    d = _json(["info", str(scenario), "--format", "json"], capsys)
    assert d["scenario"] == "cli" and (d["begin_s"], d["end_s"], d["warmup_s"]) == (0, 720, 90)
    (sig,) = d["signals"]
    assert sig["id"] == "center" and sig["links"] == 16 and sig["crossings"] == 0
    assert sig["approaches"] == ["center:N", "center:E", "center:S", "center:W"]
    (plan,) = d["existing_plans"]
    assert plan["cycle_s"] == 90 and len(plan["phases"]) == 4
    assert d["clearances"] == "ITE clearances" and d["run_control"]["control"] == "fixed"
    assert main(["info", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "signal center (static): 16 links" in out and "cycle 90 s" in out
    assert "clearances: ITE clearances; signalopt run retimes: fixed (every signal runs fixed time" in out


def test_info_lists_the_time_of_day_schedule(capsys) -> None:
    day = Path(__file__).resolve().parents[1] / "scenarios" / "qixiangtai_school_day.toml"
    d = _json(["info", str(day), "--format", "json"], capsys)
    periods = d["schedule"]
    assert [p["period"] for p in periods] == ["early", "am_peak", "midday", "pm_peak", "evening"]
    assert periods[0]["begin_s"] == 21600 and periods[-1]["end_s"] == 79200
    assert periods[1]["cycles_s"]["weidi"] == 140
    assert main(["info", str(day)]) == 0
    out = capsys.readouterr().out
    assert "5 periods" in out and "am_peak: 07:00-09:00, cycles pingquan 120 s" in out


def test_info_without_a_schedule_says_so_in_json(scenario: Path, capsys) -> None:
    assert _json(["info", str(scenario), "--format", "json"], capsys)["schedule"] is None


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("signalopt ")


def test_unknown_subcommand_and_option_are_one_line(capsys) -> None:
    for argv in (["frobnicate"], ["simulate"], ["simulate", "x.toml", "--format", "yaml"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("signalopt: error: "), err


def test_console_process_exit_code_and_single_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "signalopt.cli", "simulate", str(tmp_path / "missing.toml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"signalopt: error: {tmp_path / 'missing.toml'}: scenario file not found"]


# ---------------------------------------------------------------------------------------------
# seeds (pure)


@pytest.mark.parametrize("text, seeds", [("1", (1,)), ("1,2,3", (1, 2, 3)), ("1-4", (1, 2, 3, 4)),
                                         ("5, 1-2", (5, 1, 2)), ("0", (0,))])
def test_parse_seeds(text: str, seeds: tuple[int, ...]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "a", "1,", "1-", "3-1", "-1", "1.5", "1;2", "2,2", "2,1-2"])
def test_parse_seeds_rejects(text: str) -> None:
    with pytest.raises(InputError, match="--seeds"):
        parse_seeds(text)


def test_info_shows_each_signal_its_own_plan_whatever_the_plan_files_order(tmp_path, capsys) -> None:
    """A plan file may list the signals in another order than the network; info pairs them by id."""
    from signalopt.formats.planfile import write_plans
    from signalopt.network import read_network
    from signalopt.options import TimingOptions
    from signalopt.programs import existing_plans

    root = Path(__file__).resolve().parents[1]
    net = root / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml"
    plans = existing_plans(read_network(net), TimingOptions())[0]
    shifted = [p.with_timings([ph.green_s + 1 + k for ph in p.phases]) for k, p in enumerate(plans)]
    write_plans(PlanSet(tuple(reversed(shifted)), name="reversed"), tmp_path / "plans.json")
    counts = root / "scenarios" / "data" / "summer_am_vehicles.csv"
    (tmp_path / "s.toml").write_text(f'schema_version = 1\nname = "rev"\nnetwork = "{net}"\nplans = "plans.json"\n'
                                     f'begin_s = 25200\nend_s = 27000\nwarmup_s = 300\n[demand]\ncounts = "{counts}"\n',
                                     encoding="utf-8")
    assert main(["info", str(tmp_path / "s.toml")]) == 0
    out = capsys.readouterr().out
    for p in shifted:
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(f"signal {p.signal_id} "))
        assert f"cycle {p.cycle_s:g} s" in line, line


def test_optimise_guard_holds_the_objective_to_the_existing_timing(scenario: Path, tmp_path: Path, capsys) -> None:
    """`optimise --guard` scores the plans as `run` does (NoWorseThan the existing timing on the seeds): the
    summary names the guarded objective and the existing timing's own score carries its 2% margin's penalty;
    a front is not guarded, and says so in one line."""
    from signalopt.evaluator import simulate
    from signalopt.objective import NoWorseThan, objective_value
    from test_bad_input import assert_one_line_error, run_cli

    d = _json(["optimise", str(scenario), "--guard", "--budget", "2", "--quiet", "--format", "json",
               "--out", str(tmp_path / "guarded.json")], capsys)
    assert d["objective"] == "queue, no worse than existing on delay_s, p95_max_queue_m"
    existing = simulate(scenario, seeds=(4, 5), workers=1)
    assert d["existing_fun"] == pytest.approx(objective_value(NoWorseThan("queue", existing), existing))
    assert d["existing_fun"] > existing.mean_max_queue_m  # the margin: level with the reference is penalised
    plain = _json(["optimise", str(scenario), "--budget", "2", "--quiet", "--format", "json",
                   "--out", str(tmp_path / "plain.json")], capsys)
    assert plain["objective"] == "queue" and plain["existing_fun"] == pytest.approx(existing.mean_max_queue_m)
    assert_one_line_error(*run_cli(["optimise", str(scenario), "--guard", "--objectives", "delay,queue",
                                    "--out", str(tmp_path / "f.json")], capsys), "--guard")
