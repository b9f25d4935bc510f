"""Picklable task functions that fail for real (imported by worker and simulation processes).

Attempts are counted in marker files (one line per attempt, fsync'ed), so a
test sees how often a task ran even when its process was killed.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path

from _executor_tasks import _attempt


def kill_dask_worker_first_time(task: tuple[str, int]) -> int:
    """First attempt: SIGKILL the Dask worker process running this task (the parent of the
    simulation process); the worker is lost mid-task.  Later attempts succeed."""
    marker_dir, x = task
    if _attempt(marker_dir, f"task{x}") == 1:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(30)  # the simulation process notices its worker is gone and exits
    return x * 10


def kill_dask_worker_always_on(task: tuple[str, int, int]) -> int:
    """Task ``bad`` kills its Dask worker on every attempt; the others succeed."""
    marker_dir, x, bad = task
    _attempt(marker_dir, f"task{x}")
    if x == bad:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(30)
    time.sleep(0.05)
    return x * 10


def abort_always_on(task: tuple[str, int, int]) -> int:
    """Task ``bad`` aborts its process (SIGABRT, as a failing assertion in SUMO's C++ does)."""
    marker_dir, x, bad = task
    _attempt(marker_dir, f"task{x}")
    if x == bad:
        os.abort()
    return x * 10


def worker_pid(_: object) -> tuple[int, int]:
    """(simulation process, its parent: the Dask worker or pool process)."""
    return os.getpid(), os.getppid()


def network_seen(task) -> tuple[str, bool]:  # noqa: ANN001 - a signalopt Task
    """The network path a task carries where it runs, and whether the file is there."""
    return task.prepared.network_path, Path(task.prepared.network_path).is_file()


#: fault modes of :func:`faulty_run_task`
MODES = ("ok", "kill-once", "kill-always", "corrupt-routes", "lose-worker-once")

CORRUPT_ROUTES = ('<routes>\n  <vehicle id="a" depart="0">\n    <route edges="n2center center2s"/>\n'
                  '  <vehicle id="b"')  # cut short, as a crash mid-write leaves a file


def faulty_run_task(args: tuple[str, str, str, object]):  # noqa: ANN201 - RunMetrics
    """A real SUMO evaluation (``signalopt._sumo_run.run_task``) with a fault injected by ``mode``.

    ``kill-once``/``kill-always``: SIGKILL of the simulation process on the first/every attempt;
    ``corrupt-routes``: the task's route file is replaced by a truncated one, so SUMO itself fails;
    ``lose-worker-once``: the Dask worker running it is killed on the first attempt.
    """
    from signalopt._sumo_run import run_task

    marker_dir, name, mode, task = args
    attempt = _attempt(marker_dir, name)
    if mode == "kill-always" or (mode == "kill-once" and attempt == 1):
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "lose-worker-once" and attempt == 1:
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(30)
    if mode == "corrupt-routes":
        bad = Path(marker_dir) / "corrupt.rou.xml"
        bad.write_text(CORRUPT_ROUTES, encoding="utf-8")
        task = replace(task, prepared=replace(task.prepared, route_files=(str(bad),)))
    return run_task(task)
