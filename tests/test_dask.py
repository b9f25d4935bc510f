"""The Dask executor (signalopt.executors.dask) on a real LocalCluster of 2 workers.

Real SUMO runs on the isolated junction (900 s, a fraction of a second each)
and real faults: a simulation process SIGKILLed or aborted (SIGABRT, as SUMO
does on a failed assertion), a Dask worker process SIGKILLed mid-task.  The
executor contract itself (order, failures reported, no retry of
deterministic errors) is in test_executors.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import _executor_tasks as tasks
import _fault_tasks as faults
from _optimise_helpers import write_isolated_scenario
from signalopt.executors.dask import DaskExecutor, local_cluster
from signalopt.cli import main
from signalopt.comparison import compare
from signalopt.errors import InputError
from signalopt.evaluator import SumoEvaluator, simulate
from signalopt.executors import ProcessExecutor, SerialExecutor
from signalopt.optimiser import optimise

SEEDS = (1, 2)


@pytest.fixture(scope="module")
def cluster():
    c = local_cluster(2)
    yield c
    c.close()


@pytest.fixture
def dask_ex(cluster):
    ex = DaskExecutor(cluster.scheduler_address, retries=2, files="shared")
    ex.client.wait_for_workers(2, timeout=60)  # a test before may have had a worker restarted
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    return write_isolated_scenario(tmp_path_factory.mktemp("scenario"), seeds=(1,))


def runs(metrics) -> list:  # noqa: ANN001
    return [replace(r, sim_time_s=0.0) for r in metrics.runs]


def attempts(marker_dir: Path, x: int) -> int:
    path = marker_dir / f"task{x}.attempts"
    return len(path.read_text().splitlines()) if path.exists() else 0


# ------------------------------------------------------------------ same figures everywhere, files reach workers


def test_same_plans_and_seeds_give_identical_metrics_on_every_executor(scenario: Path, cluster) -> None:
    results = {}
    for name, ex in [("serial", SerialExecutor()), ("process", ProcessExecutor(2)),
                     ("dask-shared", DaskExecutor(cluster.scheduler_address, files="shared")),
                     ("dask-upload", DaskExecutor(cluster.scheduler_address, files="upload"))]:
        try:
            results[name] = runs(simulate(scenario, seeds=SEEDS, executor=ex))
        finally:
            ex.close()
    assert [r.seed for r in results["serial"]] == list(SEEDS)  # order kept
    assert len({r.delay_s for r in results["serial"]}) == 2  # the seeds differ, so order matters
    assert results["serial"] == results["process"] == results["dask-shared"] == results["dask-upload"]


def test_upload_sends_file_contents_not_paths(scenario: Path, cluster) -> None:
    ev = SumoEvaluator(scenario, executor=SerialExecutor())
    task_list = ev.tasks(ev.existing_plans(), [1, 2])
    here = task_list[0].prepared.network_path
    for files, same in (("shared", True), ("upload", False)):
        ex = DaskExecutor(cluster.scheduler_address, files=files)
        try:
            out = ex.map(faults.network_seen, task_list)
        finally:
            ex.close()
        assert all(o.ok for o in out)
        paths = {o.value[0] for o in out}
        assert all(o.value[1] for o in out)  # the file is there on the worker
        assert (paths == {here}) is same, (files, paths)
        if not same:  # a copy in the worker's own directory, same bytes
            for p in paths:
                assert Path(p).read_bytes() == Path(here).read_bytes()
                assert "signalopt-files" in p


# ------------------------------------------------------------------ faults


def test_simulation_process_death_leaves_the_dask_worker_up(dask_ex: DaskExecutor, tmp_path: Path) -> None:
    workers = set(dask_ex.client.run(os.getpid).values())  # the Dask worker processes
    parents = {o.value[1] for o in dask_ex.map(faults.worker_pid, range(4))}
    assert parents <= workers  # simulations run in children of the Dask workers, not in them
    out = dask_ex.map(tasks.die_first_time, [(str(tmp_path), x) for x in range(3)])
    assert [o.value for o in out] == [0, 10, 20]
    assert [o.attempts for o in out] == [2, 2, 2]
    assert all(attempts(tmp_path, x) == 2 for x in range(3))
    # the same Dask workers: a simulation process died, not them
    assert set(dask_ex.client.run(os.getpid).values()) == workers


def test_simulations_run_without_the_workers_malloc_trim_setting(dask_ex: DaskExecutor) -> None:
    # Dask's nanny gives its workers MALLOC_TRIM_THRESHOLD_=65536, which slows SUMO down markedly
    on_workers = set(dask_ex.client.run(tasks.environment, "MALLOC_TRIM_THRESHOLD_").values())
    assert on_workers == {"65536"}
    out = dask_ex.map(tasks.environment, ["MALLOC_TRIM_THRESHOLD_", "PYTHONPATH"])
    assert out[0].ok and out[0].value is None
    assert out[1].value  # the rest of the environment reaches the simulation process


def test_local_cluster_keeps_housekeeping_low(dask_ex: DaskExecutor) -> None:
    # CPU the scheduler and workers spend on housekeeping is taken from the simulations beside them: no
    # statistical profiler (100 samples/s), event-loop checks and monitors at most once a second.  Read from
    # the live periodic callbacks, not from the configuration they are meant to follow.
    for settings in dask_ex.client.run(_housekeeping).values():
        assert settings == {"profiler": False, "tick_s": 1.0, "monitor_s": 5.0, "memory_monitor_s": 1.0}
    assert dask_ex.client.run_on_scheduler(_scheduler_housekeeping) == {"tick_s": 1.0, "monitor_s": 5.0}


def _housekeeping(dask_worker) -> dict:  # noqa: ANN001 - distributed.Worker
    import dask

    return {"profiler": bool(dask.config.get("distributed.worker.profile.enabled")),
            "tick_s": dask_worker._tick_interval,
            "monitor_s": dask_worker.periodic_callbacks["monitor"].callback_time / 1000,
            "memory_monitor_s": dask_worker.memory_manager.memory_monitor_interval}


def _scheduler_housekeeping(dask_scheduler) -> dict:  # noqa: ANN001 - distributed.Scheduler
    return {"tick_s": dask_scheduler._tick_interval,
            "monitor_s": dask_scheduler.periodic_callbacks["monitor"].callback_time / 1000}


def test_sumo_abort_is_retried_then_reported(dask_ex: DaskExecutor, tmp_path: Path) -> None:
    out = dask_ex.map(faults.abort_always_on, [(str(tmp_path), x, 1) for x in range(4)])
    assert [o.value for o in out] == [0, None, 20, 30]
    assert out[1].error == "worker process died: simulation process killed by SIGABRT"
    assert out[1].attempts == 3 and attempts(tmp_path, 1) == 3  # retries=2
    assert all(o.ok and o.attempts == 1 for i, o in enumerate(out) if i != 1)


def test_lost_dask_worker_is_retried(dask_ex: DaskExecutor, tmp_path: Path) -> None:
    seen = []
    out = dask_ex.map(faults.kill_dask_worker_first_time, [(str(tmp_path), x) for x in range(2)],
                      on_result=lambda i, o: seen.append(i))
    assert [o.value for o in out] == [0, 10]
    assert [o.attempts for o in out] == [2, 2]
    assert sorted(seen) == [0, 1]
    # the cluster heals (the nanny restarts the worker) and keeps working
    dask_ex.client.wait_for_workers(2, timeout=60)
    assert [o.value for o in dask_ex.map(tasks.square, [3, 4])] == [9, 16]


def test_task_that_always_loses_its_worker_fails_alone(dask_ex: DaskExecutor, tmp_path: Path) -> None:
    out = dask_ex.map(faults.kill_dask_worker_always_on, [(str(tmp_path), x, 2) for x in range(5)])
    assert len(out) == 5
    assert not out[2].ok and out[2].error.startswith("Dask worker lost while running the task")
    assert out[2].attempts == 3 and attempts(tmp_path, 2) == 3
    assert [o.value for i, o in enumerate(out) if i != 2] == [0, 10, 30, 40]
    assert all(o.ok and o.attempts == 1 for i, o in enumerate(out) if i != 2)


def test_unreachable_scheduler_is_one_clear_error() -> None:
    ex = DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=1)
    with pytest.raises(InputError, match=r"--scheduler: cannot reach the Dask scheduler.*\(tcp://127.0.0.1:9\)"):
        ex.map(tasks.square, [1])
    ex.close()


# ------------------------------------------------------------------ optimiser, compare and CLI on Dask


def test_optimise_and_compare_on_dask_match_the_process_pool(scenario: Path, dask_ex: DaskExecutor) -> None:
    args = dict(budget=4, seeds=(1,), rng=2)
    pool = ProcessExecutor(2)
    try:
        local = optimise(scenario, executor=pool, **args)
        local_cmp = compare(scenario, [local.best_plans], seeds=(101, 102), executor=pool)
    finally:
        pool.close()
    distributed = optimise(scenario, executor=dask_ex, **args)
    assert np.array_equal(distributed.x, local.x) and distributed.fun == local.fun
    assert [h.fun for h in distributed.history] == [h.fun for h in local.history]
    assert distributed.best_plans == local.best_plans
    dist_cmp = compare(scenario, [distributed.best_plans], seeds=(101, 102), executor=dask_ex)
    assert dist_cmp.to_dict() == local_cmp.to_dict()


def test_cli_simulate_with_scheduler_address(scenario: Path, cluster, capsys) -> None:
    def run(*extra: str) -> dict:
        assert main(["simulate", str(scenario), "--seeds", "1,2", "--format", "json", *extra]) == 0
        d = json.loads(capsys.readouterr().out)
        for r in d["runs"]:
            r.pop("sim_time_s")
        return d

    assert run("--scheduler", cluster.scheduler_address) == run("--executor", "serial")
    assert main(["simulate", str(scenario), "--executor", "process", "--scheduler", cluster.scheduler_address]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"signalopt: error: --scheduler: a scheduler address needs --executor dask (process)"]
