"""Faults: real kills and real SUMO errors during an optimisation, SIGKILL of ``signalopt run`` and
``--resume``, files written atomically, and the bad-input cases test_bad_input.py does not cover
(bounds that cannot hold the minimum greens, no partial output, user files never unpickled or run).

Fault cases and how each is made real and deterministic:

* simulation process killed mid-evaluation: the task SIGKILLs its own process on its first attempt
  (retried, succeeds) or on every attempt (reported failed after the retries);
* SUMO error: the task's route file is a truncated XML file, as a crash mid-write leaves one; libsumo
  raises while loading it.  The same input fails the same way, so it is reported at once, not retried;
* SUMO abort: SIGABRT of the simulation process (test_dask.py), handled like a kill;
* Dask worker lost: the task SIGKILLs the Dask worker process running it (first attempt only).

A "teleport storm" is not a SUMO error (SUMO teleports and goes on; the metrics count teleports), so
it is not a fault case here.
"""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import _fault_tasks as faults
from _optimise_helpers import journal_lines, kill_once_journalled, write_isolated_scenario
from signalopt.executors.dask import DaskExecutor, local_cluster
from signalopt.cli import main
from signalopt.evaluator import SumoEvaluator
from signalopt.executors import ProcessExecutor
from signalopt.journal import Journal
from signalopt.optimiser import FAILED_SCORE, optimise

ROOT = Path(__file__).resolve().parents[1]
BUDGET, RNG = 8, 0


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    # the same scenario as test_dask.py's: the session's route cache serves both
    return write_isolated_scenario(tmp_path_factory.mktemp("scenario"), seeds=(1,))


@pytest.fixture(scope="module")
def cluster():
    c = local_cluster(2)
    yield c
    c.close()


def attempts(marker_dir: Path, name: str) -> int:
    path = marker_dir / f"{name}.attempts"
    return len(path.read_text().splitlines()) if path.exists() else 0


# ------------------------------------------------------------------ faults during an optimisation


class FaultyEvaluator(SumoEvaluator):
    """The SUMO evaluator with faults injected into chosen simulations: the k-th simulation
    submitted (counting from 1) runs with mode ``faults[k]`` (see tests/_fault_tasks.py)."""

    def __init__(self, scenario: Path, *, executor, marker_dir: Path, faults: dict[int, str]) -> None:  # noqa: ANN001
        super().__init__(scenario, executor=executor)
        self.marker_dir = marker_dir
        self.faults = faults
        self.count = 0
        self.charged: dict[str, int] = {}  # submissions the executor reports per simulation

    def run_tasks(self, tasks, *, on_result=None):  # noqa: ANN001, ANN201
        wrapped = []
        for task in tasks:
            self.count += 1
            wrapped.append((str(self.marker_dir), f"t{self.count}", self.faults.get(self.count, "ok"), task))
        outcomes = self.executor.map(faults.faulty_run_task, wrapped, on_result=on_result)
        self.charged.update({w[1]: o.attempts for w, o in zip(wrapped, outcomes)})
        return outcomes


@pytest.fixture(scope="module")
def clean_run(scenario: Path):
    return optimise(scenario, budget=BUDGET, seeds=(1,), rng=RNG, workers=2)


@pytest.mark.parametrize("kind", ["process", "dask"])
def test_optimisation_completes_through_kills_and_sumo_errors(kind: str, scenario: Path, clean_run, request,
                                                              tmp_path: Path) -> None:
    plan = {2: "kill-once", 3: "kill-always", 4: "corrupt-routes"}
    if kind == "dask":
        plan[5] = "lose-worker-once"  # the Dask worker itself is killed mid-evaluation
        ex = DaskExecutor(request.getfixturevalue("cluster").scheduler_address, retries=2, files="shared")
        ex.client.wait_for_workers(2, timeout=60)
    else:
        ex = ProcessExecutor(2, retries=2)
    markers = tmp_path / "markers"
    markers.mkdir()
    try:
        ev = FaultyEvaluator(scenario, executor=ex, marker_dir=markers, faults=plan)
        r = optimise(scenario, budget=BUDGET, seeds=(1,), rng=RNG, evaluator=ev, run_dir=tmp_path / "run")
    finally:
        ex.close()

    # the optimisation completes, with the failed candidates scored as failures
    assert r.nsim == BUDGET and r.message == f"evaluation budget of {BUDGET} reached"
    assert r.success and r.fun < FAILED_SCORE
    funs = [h.fun for h in r.history]
    assert funs.count(FAILED_SCORE) == 2
    # the initial population is the same as in a run without faults; only the failed members differ
    n_init = min(BUDGET, 7)
    for a, b in zip(funs[:n_init], [h.fun for h in clean_run.history[:n_init]]):
        assert a == FAILED_SCORE or a == b

    # each fault is journalled with its reason (or its successful retry)
    lines = journal_lines(tmp_path / "run" / "journal.jsonl")
    errors = [d["error"] for d in lines if d["error"]]
    assert len(errors) == 2 and len(lines) == ev.count
    assert any(e.startswith("worker process died") for e in errors)
    assert any(e.startswith("SimulationError: SUMO failed on seed 1") for e in errors)
    if kind == "dask":  # each fault is charged only to its own task
        assert ev.charged["t2"] == 2  # killed once, retried
        assert ev.charged["t3"] == 3  # killed every time: retries=2, then failed
        assert ev.charged["t4"] == 1  # SUMO error on this input: deterministic, not retried
        assert ev.charged["t5"] == 2  # its Dask worker lost, retried on a live worker
        assert all(n == 1 for t, n in ev.charged.items() if t not in ("t2", "t3", "t4", "t5"))
        # Dask itself runs a task again, uncharged, when the lost worker held its finished result
        # before the client fetched it (seen once in CI: t2's retry finished on the worker t5 killed)
        assert all(attempts(markers, t) >= n for t, n in ev.charged.items())
    else:  # a dying pool process breaks the whole pool: tasks in flight beside it run again, uncharged
        assert attempts(markers, "t2") >= 2 and attempts(markers, "t3") >= 3
    assert all(attempts(markers, f"t{k}") >= 1 for k in range(1, ev.count + 1))


# ------------------------------------------------------------------ SIGKILL of `signalopt run`, then --resume


def run_args(scenario: Path, out: Path) -> list[str]:
    return ["run", str(scenario), "--out", str(out), "--budget", str(BUDGET), "--seeds", "1",
            "--compare-seeds", "101,102", "--baselines", "existing", "--rng", "3", "--workers", "2", "--quiet",
            "--executor", "process"]  # one pool for the whole job


def without_times(obj):  # noqa: ANN001, ANN201
    """A JSON document without its wall-clock fields (creation time, simulation times)."""
    if isinstance(obj, dict):
        return {k: without_times(v) for k, v in obj.items() if k not in ("created", "sim_time_s", "wall_s")}
    if isinstance(obj, list):
        return [without_times(v) for v in obj]
    return obj


def test_run_killed_then_resumed_equals_an_uninterrupted_run(scenario: Path, tmp_path: Path, capsys) -> None:
    full = tmp_path / "full"
    assert main(run_args(scenario, full)) == 0
    capsys.readouterr()
    full_lines = journal_lines(full / "run" / "journal.jsonl")

    out = tmp_path / "killed"
    journal = out / "run" / "journal.jsonl"
    returncode, err = kill_once_journalled([sys.executable, "-m", "signalopt.cli", *run_args(scenario, out)],
                                           journal, cwd=tmp_path)
    assert returncode == -signal.SIGKILL, err
    before = journal_lines(journal)
    assert 3 <= len(before) < len(full_lines), "the kill should land part-way through the optimisation"
    assert not (out / "report.html").exists()

    assert main([*run_args(scenario, out), "--resume"]) == 0
    capsys.readouterr()
    after = journal_lines(journal)
    # no journalled evaluation was simulated again: each simulation appends one line, keys stay unique
    assert [d["key"] for d in after[: len(before)]] == [d["key"] for d in before]
    assert len(after) == len({d["key"] for d in after}) == len(full_lines)
    assert {d["key"] for d in after} == {d["key"] for d in full_lines}
    # the same result as the run that was never interrupted
    for name in ("plans/optimised.json", "summary.json"):
        a = json.loads((full / name).read_text())
        b = json.loads((out / name).read_text())
        assert without_times(a) == without_times(b), name
    assert (out / "plans" / "optimised.add.xml").read_text().split("-->", 1)[1] == \
        (full / "plans" / "optimised.add.xml").read_text().split("-->", 1)[1]
    assert (out / "report.html").is_file()
    # every output was renamed into place: no temporary file is left behind
    assert not [p for p in out.rglob("*.tmp")]


# ------------------------------------------------------------------ atomic writes under a real kill

WRITER = """
import json, sys
from signalopt._xml import atomic_write_text
path = sys.argv[1]
docs = [json.dumps({"n": n, "pad": "x" * 2_000_000}) for n in range(2)]
print("ready", flush=True)
k = 0
while True:
    atomic_write_text(path, docs[k % 2])
    k += 1
"""


def test_output_killed_mid_write_is_old_or_new_never_partial(tmp_path: Path) -> None:
    target = tmp_path / "out" / "summary.json"
    for delay in (0.05, 0.13, 0.29):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.kill()
        proc.wait()
        doc = json.loads(target.read_text())  # complete, whichever version it is
        assert doc["n"] in (0, 1) and len(doc["pad"]) == 2_000_000
    # a temporary file the kill left behind is never read as the output
    assert all(p.name.startswith(".summary.json.") for p in target.parent.iterdir() if p != target)


def test_journal_killed_mid_append_is_read_back_without_the_cut_line(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    journal = Journal(run_dir, digest="d", meta={"rng": 0})
    journal.append("k1", [0.5], 1, None, "SimulationError: SUMO failed")
    journal.close()
    with open(run_dir / "journal.jsonl", "a", encoding="utf-8") as fh:  # what a kill mid-write leaves
        fh.write('{"key": "k2", "scenario": "d", "x": [0.25], "seed": 1, "metr')
    with pytest.warns(UserWarning, match=r"1 damaged line\(s\) ignored"):
        again = Journal(run_dir, digest="d", meta={"rng": 0}, resume=True)
    assert list(again.entries) == ["k1"]
    again.append("k3", [0.75], 1, None, "x")
    again.close()
    assert [d["key"] for d in journal_lines(run_dir / "journal.jsonl")] == ["k1", "k3"]


# ------------------------------------------------------------------ bad input


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_isolated_scenario(tmp_path, name="bad_bounds")
    return tmp_path


def one_line_error(code: int, capsys, *must_name: str) -> str:  # noqa: ANN001
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    line = err.splitlines()[0]
    assert line.startswith("signalopt: error: ")
    for text in must_name:
        assert text in line, (text, line)
    return line


@pytest.mark.parametrize("timing, names", [
    ("max_cycle_s = 30\n", ("scenario.toml", "max_cycle_s", "(30)")),
    ("min_cycle_s = 20\nmax_cycle_s = 30\n", ("scenario.toml", "minimum splits need", "more than the maximum cycle",
                                             "(30 s)")),
], ids=["max-below-default-min", "min-greens-do-not-fit"])
def test_minimum_greens_that_do_not_fit_the_maximum_cycle(timing: str, names, folder: Path, capsys,
                                                          monkeypatch) -> None:
    monkeypatch.chdir(folder)
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text() + "[timing]\n" + timing, encoding="utf-8")
    code = main(["optimise", "scenario.toml", "--budget", "2", "--quiet", "--run-dir", "run", "--out", "p.json"])
    one_line_error(code, capsys, *names)
    # leaves no partial output behind
    assert not (folder / "p.json").exists() and not (folder / "run").exists()


def test_failing_run_leaves_no_output_behind(folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text() + "[timing]\nmin_cycle_s = 20\nmax_cycle_s = 30\n", encoding="utf-8")
    code = main(["run", "scenario.toml", "--out", "out", "--budget", "2", "--compare-seeds", "101,102",
                 "--baselines", "existing", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2 and err.splitlines()[-1].startswith("signalopt: error: ") and "more than the maximum cycle" in err
    assert not (folder / "out").exists()


def test_failing_export_leaves_no_output_behind(folder: Path, capsys, monkeypatch) -> None:
    # the isolated network's own plans use 3 s yellows, below the ITE value: the safety check refuses them
    from signalopt.formats.planfile import write_plans
    from signalopt.prepare import scenario_plans
    from signalopt.scenario import read_scenario

    monkeypatch.chdir(folder)
    scen = read_scenario(folder / "scenario.toml")
    write_plans(scenario_plans(scen)[0], folder / "plans.json")
    for fmt, out in (("sumo", "out.add.xml"), ("json", "sub/out.json")):
        code = main(["export", "plans.json", "--network", str(scen.network_path), "--format", fmt, "--out", out])
        _, err = capsys.readouterr()
        assert code == 2 and "unsafe" in err.splitlines()[-1], err
        assert not (folder / out).exists()
    assert not (folder / "sub").exists()


class Touch:
    """Unpickling this calls ``Path.touch(marker)``: a payload that acts if it is ever unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = Path(marker)

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


def test_the_pickle_payload_is_live(tmp_path: Path) -> None:
    # the payload used below really acts when unpickled, so its silence there means it was never unpickled
    marker = tmp_path / "proof"
    pickle.loads(pickle.dumps(Touch(marker)))  # noqa: S301 - the point of the test
    assert marker.exists()


def _payloads(marker: Path) -> dict[str, bytes]:
    code = f'__import__("pathlib").Path({str(marker)!r}).touch()'
    return {"pickle": pickle.dumps(Touch(marker), protocol=pickle.HIGHEST_PROTOCOL),
            "pickle-ascii": pickle.dumps(Touch(marker), protocol=0),
            "python": f'{{"schema_version": 1, "plans": [{code}]}}\n'.encode(),
            "python-statement": f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n".encode()}


@pytest.mark.parametrize("kind", ["pickle", "pickle-ascii", "python", "python-statement"])
@pytest.mark.parametrize("where", ["plan file (simulate)", "plan file (compare)", "plan file (export)",
                                   "scenario", "counts"])
def test_user_files_are_never_unpickled_or_run(where: str, kind: str, folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    marker = folder / "MARKER"
    payload = _payloads(marker)[kind]
    net = str(ROOT / "networks" / "isolated" / "isolated.net.xml")
    if where.startswith("plan file"):
        (folder / "plans.json").write_bytes(payload)
        argv = {"plan file (simulate)": ["simulate", "scenario.toml", "--plans", "plans.json", "--workers", "1"],
                "plan file (compare)": ["compare", "scenario.toml", "--plans", "plans.json", "--seeds", "101,102"],
                "plan file (export)": ["export", "plans.json", "--network", net, "--format", "sumo",
                                       "--out", "out.add.xml"]}[where]
        names = ("plans.json",)
    elif where == "scenario":
        (folder / "scenario.toml").write_bytes(payload)
        argv, names = ["optimise", "scenario.toml", "--budget", "2", "--quiet", "--out", "out.json"], ("scenario.toml",)
    else:
        (folder / "counts.csv").write_bytes(payload)
        argv, names = ["simulate", "scenario.toml", "--workers", "1"], ("counts.csv",)
    code = main(argv)
    one_line_error(code, capsys, *names)
    assert not marker.exists(), "a user file was executed"
    assert not (folder / "out.add.xml").exists() and not (folder / "out.json").exists()


def test_journal_line_with_a_pickle_payload_is_ignored(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    Journal(run_dir, digest="d").close()
    marker = tmp_path / "MARKER"
    with open(run_dir / "journal.jsonl", "ab") as fh:
        fh.write(pickle.dumps(Touch(marker), protocol=0).replace(b"\n", b" ") + b"\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        journal = Journal(run_dir, digest="d", resume=True)
    journal.close()
    assert len(journal) == 0 and not marker.exists()
    assert any("damaged line" in str(w.message) for w in caught)


def test_scheduler_without_dask_executor_is_refused(folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(folder)
    code = main(["optimise", "scenario.toml", "--executor", "serial", "--scheduler", "tcp://127.0.0.1:1",
                 "--out", "out.json"])
    one_line_error(code, capsys, "--scheduler", "needs --executor dask", "(serial)")
    assert not (folder / "out.json").exists()


def test_written_files_get_the_mode_open_gives_them_not_a_private_one(tmp_path: Path) -> None:
    """A report or export written through a temporary file is readable by others as any new file is
    (the temporary file is created 0600)."""
    import os

    from signalopt._xml import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.html", "<html></html>")
        (tmp_path / "plain.html").write_text("<html></html>")
        os.umask(0o077)
        atomic_write_text(tmp_path / "private.html", "<html></html>")
    finally:
        os.umask(old)
    mode = lambda name: (tmp_path / name).stat().st_mode & 0o777  # noqa: E731
    assert mode("report.html") == mode("plain.html") == 0o644
    assert mode("private.html") == 0o600
