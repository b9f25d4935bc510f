"""Picklable task functions for the executor contract tests (imported by spawned workers)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from signalopt.errors import SimulationError


def square(x: int) -> int:
    # a little work so tasks overlap in a pool and finish out of order
    time.sleep(0.02 * (x % 3))
    return x * x


def worker_pid(x: int) -> int:
    return os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"task {x} is broken")
    return x * x


def simulation_error(x: int) -> int:
    raise SimulationError(f"SUMO failed on seed {x}")


def _attempt(marker_dir: str, name: str) -> int:
    """Count this attempt in a marker file; returns the attempt number (1-based)."""
    path = Path(marker_dir) / f"{name}.attempts"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        os.fsync(fh.fileno())
    return len(path.read_text(encoding="utf-8").splitlines())


def die_first_time(task: tuple[str, int]) -> int:
    """SIGKILL the worker on the first attempt of task ``x``; succeed afterwards."""
    marker_dir, x = task
    if _attempt(marker_dir, f"task{x}") == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 10


def die_always_on(task: tuple[str, int, int]) -> int:
    """Task ``bad`` kills its worker on every attempt; the others succeed."""
    marker_dir, x, bad = task
    _attempt(marker_dir, f"task{x}")
    if x == bad:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return x * 10


def environment(name: str) -> str | None:
    """The value of an environment variable where the task runs."""
    return os.environ.get(name)
