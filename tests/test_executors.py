"""Executors (signalopt.executors): one contract every executor passes, and worker deaths.

The contract runs on the serial executor, the process pool and a Dask
executor on a real LocalCluster of 2 workers (one per module, reused).
Worker deaths are real: task functions (tests/_executor_tasks.py) SIGKILL
their own worker process; a marker file per task counts the attempts.
Dask-specific faults (lost Dask workers, uploaded files) are in test_dask.py.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

import _executor_tasks as tasks
from signalopt.errors import SignaloptError
from signalopt.executors.dask import DaskExecutor, local_cluster
from signalopt.executors import Outcome, ProcessExecutor, SerialExecutor, make_executor

EXECUTORS = ["serial", "process", "dask"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALOPT_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def cluster():
    """A real Dask LocalCluster with 2 single-threaded worker processes."""
    c = local_cluster(2)
    yield c
    c.close()


def new_executor(kind: str, request: pytest.FixtureRequest):
    if kind == "serial":
        return SerialExecutor(retries=2)
    if kind == "process":
        return ProcessExecutor(2, retries=2)
    cluster = request.getfixturevalue("cluster")
    return DaskExecutor(cluster.scheduler_address, retries=2, files="shared")


@pytest.fixture(params=EXECUTORS)
def executor(request):
    ex = new_executor(request.param, request)
    yield ex
    ex.close()


@pytest.fixture
def pool():
    ex = ProcessExecutor(2, retries=2)
    yield ex
    ex.close()


def attempts(marker_dir: Path, x: int) -> int:
    path = marker_dir / f"task{x}.attempts"
    return len(path.read_text().splitlines()) if path.exists() else 0


# ------------------------------------------------------------------ contract (every executor)


def test_results_in_task_order(executor) -> None:
    xs = list(range(9))
    seen: list[tuple[int, Outcome]] = []
    out = executor.map(tasks.square, xs, on_result=lambda i, o: seen.append((i, o)))
    assert [o.value for o in out] == [x * x for x in xs]
    assert all(o.ok and o.error is None and o.attempts == 1 for o in out)
    # every result reported once through on_result, with its task index
    assert sorted(i for i, _ in seen) == xs
    assert all(o.value == i * i for i, o in seen)


def test_same_tasks_same_results_on_every_executor(request) -> None:
    xs = [5, 1, 4, 2, 3, 0]
    serial = SerialExecutor().map(tasks.square, xs)
    for kind in ("process", "dask"):
        ex = new_executor(kind, request)
        try:
            parallel = ex.map(tasks.square, xs)
            again = ex.map(tasks.square, xs)  # the pool / cluster is reused
        finally:
            ex.close()
        assert serial == parallel == again, kind


def test_failing_task_is_reported_not_lost(executor) -> None:
    out = executor.map(tasks.fail_on_three, [1, 2, 3, 4])
    assert len(out) == 4
    assert [o.value for o in out] == [1, 4, None, 16]
    bad = out[2]
    assert not bad.ok and bad.error == "ValueError: task 3 is broken"
    assert bad.attempts == 3  # an unexpected error is retried (retries=2), then reported


def test_signalopt_error_is_not_retried(executor) -> None:
    # a deterministic failure (SUMO error on this plan) is reported at once on every executor
    out = executor.map(tasks.simulation_error, [7, 8])
    assert [o.error for o in out] == ["SimulationError: SUMO failed on seed 7",
                                      "SimulationError: SUMO failed on seed 8"]
    assert [o.attempts for o in out] == [1, 1]


def test_empty_task_list(executor) -> None:
    assert executor.map(tasks.square, []) == []


def test_make_executor() -> None:
    assert isinstance(make_executor("serial"), SerialExecutor)
    ex = make_executor("process", workers=3, retries=1)
    assert isinstance(ex, ProcessExecutor) and ex.workers == 3 and ex.retries == 1
    ex.close()
    # the Dask executor starts nothing until it is used
    ex = make_executor("dask", workers=3, retries=1)
    assert isinstance(ex, DaskExecutor) and ex.workers == 3 and ex.retries == 1 and ex.files == "shared"
    assert ex._client is None
    ex.close()
    ex = make_executor("dask", scheduler="tcp://127.0.0.1:1")
    assert ex.scheduler == "tcp://127.0.0.1:1" and ex.files == "upload"  # a remote cluster gets the files sent
    ex.close()
    with pytest.raises(SignaloptError, match=r"unknown executor, choose from serial, process, dask \(spark\)"):
        make_executor("spark")
    with pytest.raises(SignaloptError, match="a scheduler address needs the dask executor"):
        make_executor("process", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(SignaloptError, match=r"workers must be at least 1 \(0\)"):
        ProcessExecutor(0)
    with pytest.raises(SignaloptError, match=r"workers must be at least 1 \(0\)"):
        DaskExecutor(workers=0)


# ------------------------------------------------------------------ worker deaths (process pool)


def test_worker_killed_mid_task_is_retried(pool, tmp_path: Path) -> None:
    out = pool.map(tasks.die_first_time, [(str(tmp_path), 7)])
    assert out == [Outcome(70, None, 2)]
    assert attempts(tmp_path, 7) == 2
    # the pool was replaced and still works
    assert [o.value for o in pool.map(tasks.square, [3, 4])] == [9, 16]


def test_every_task_killed_once_all_succeed(pool, tmp_path: Path) -> None:
    xs = list(range(6))
    seen = []
    out = pool.map(tasks.die_first_time, [(str(tmp_path), x) for x in xs], on_result=lambda i, o: seen.append(i))
    assert [o.value for o in out] == [x * 10 for x in xs]
    assert all(o.ok for o in out)
    assert sorted(seen) == xs
    # at least the killed attempt and the one that succeeded; a death breaks the whole pool, so an
    # attempt in flight beside it may be cut short and run again (uncharged)
    assert all(attempts(tmp_path, x) >= 2 for x in xs)


def test_task_that_always_dies_fails_alone(pool, tmp_path: Path) -> None:
    xs = list(range(6))
    bad = 2
    out = pool.map(tasks.die_always_on, [(str(tmp_path), x, bad) for x in xs])
    assert len(out) == len(xs)
    assert not out[bad].ok and out[bad].error.startswith("worker process died")
    # charged retries + 1 = 3 deaths when run alone; earlier deaths among others are charged to nobody
    assert attempts(tmp_path, bad) >= 3
    assert [o.value for i, o in enumerate(out) if i != bad] == [x * 10 for x in xs if x != bad]
    assert all(o.ok for i, o in enumerate(out) if i != bad)


class _LateTasks(Sequence):
    """Tasks after the first are handed out only once the first one's worker has died.

    Widens, without touching the pool, the window in which the pool is already broken while the
    executor is still submitting the rest of the batch (seen under load as a BrokenProcessPool
    escaping from ``submit``).
    """

    def __init__(self, marker_dir: Path, xs: list[int]) -> None:
        self.marker_dir, self.xs, self.waited = marker_dir, xs, False

    def __len__(self) -> int:
        return len(self.xs)

    def __getitem__(self, i):  # noqa: ANN001, ANN204 - Sequence protocol
        if i == 1 and not self.waited:
            self.waited = True
            deadline = time.monotonic() + 30
            while attempts(self.marker_dir, self.xs[0]) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(1.0)  # the pool's manager thread notices the death
        return (str(self.marker_dir), self.xs[i])


def test_pool_broken_while_submitting(pool, tmp_path: Path) -> None:
    xs = [0, 1, 2, 3]
    out = pool.map(tasks.die_first_time, _LateTasks(tmp_path, xs))
    assert [o.value for o in out] == [x * 10 for x in xs]
    assert attempts(tmp_path, 0) == 2


def test_no_retries_reports_the_death(tmp_path: Path) -> None:
    ex = ProcessExecutor(1, retries=0)
    try:
        out = ex.map(tasks.die_always_on, [(str(tmp_path), 0, 0), (str(tmp_path), 1, 0)])
    finally:
        ex.close()
    assert out[0].error.startswith("worker process died")
    assert out[1].ok and out[1].value == 10


_ORPHAN_SCRIPT = """
import sys, time
import _executor_tasks as tasks
from signalopt.executors import ProcessExecutor
ex = ProcessExecutor(2)
assert all(o.ok for o in ex.map(tasks.worker_pid, list(range(8))))
print(*sorted(ex._pool._processes), flush=True)  # both workers, whichever took the tasks
time.sleep(300)
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may never reap the orphan)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_pool_workers_exit_when_the_main_process_is_killed() -> None:
    """SIGKILL of the main process alone (not its process group), as the OOM killer does: its idle pool
    workers must not wait for ever on their task queue."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    main = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        ready, _, _ = select.select([main.stdout], [], [], 120)  # a hung child must not hang the session
        assert ready, "the main process did not start its pool"
        pids = [int(p) for p in main.stdout.readline().split()]
        assert len(pids) == 2 and all(_running(p) for p in pids)
    finally:
        main.kill()
        main.wait()
    deadline = time.monotonic() + 15
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in pids if _running(p)]
    for p in left:  # don't leak them into the rest of the session
        os.kill(p, signal.SIGKILL)
    assert not left, f"pool workers {left} outlived the main process"
