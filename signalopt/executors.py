"""Executors: run evaluation tasks serially, in worker processes or on a Dask cluster, in order.

Every executor returns one :class:`Outcome` per task, in task order; a task
that fails (crashed worker process, lost Dask worker, unexpected error) is
retried up to ``retries`` times and then reported with its reason, never
lost.  A :class:`~signalopt.errors.SignaloptError` (a SUMO error on this
input, a bad plan) is deterministic -- the same task fails the same way -- so
it is reported at once without a retry.

Three implementations pass the same contract tests (tests/test_executors.py):
:class:`SerialExecutor`, :class:`ProcessExecutor` (default) and
:class:`~signalopt._dask.DaskExecutor` (``make_executor("dask")``, needs the
``dask`` extra).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import SignaloptError


@dataclass(frozen=True)
class Outcome:
    """Result of one task: ``value`` when it succeeded, else ``error``."""

    value: Any = None
    error: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(Protocol):
    """Maps a picklable function over tasks; results in task order."""

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any], *,
            on_result: Callable[[int, Outcome], None] | None = None) -> list[Outcome]: ...

    def close(self) -> None: ...


def describe_error(exc: BaseException) -> str:
    """``"TypeName: first line of the message"`` -- the reason an :class:`Outcome` records."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


#: How often a pool worker checks that the process that started it is still alive [s].
PARENT_POLL_S = 1.0


def exit_with_parent(parent_pid: int, *, poll_s: float = PARENT_POLL_S) -> None:
    """Pool worker initializer: end this worker once ``parent_pid`` is gone.

    A worker blocks on its task queue, whose write end it holds itself, so when the main process is
    killed (SIGKILL, the OOM killer) without its process group, the worker would wait for ever beside a
    simulator's memory.  Re-parented workers notice within ``poll_s`` [s] (or when their current
    simulation ends) and exit.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="signalopt-parent-watch", daemon=True).start()


class SerialExecutor:
    """Runs tasks one after another in this process (debugging, tiny runs)."""

    def __init__(self, *, retries: int = 1) -> None:
        self.retries = retries

    def map(self, fn, tasks, *, on_result=None):  # noqa: ANN001, ANN201 - see Executor
        out = []
        for i, task in enumerate(tasks):
            outcome = None
            for attempt in range(1, self.retries + 2):
                try:
                    outcome = Outcome(fn(task), None, attempt)
                    break
                except SignaloptError as exc:  # a deterministic failure (bad plan, SUMO error): no retry
                    outcome = Outcome(None, describe_error(exc), attempt)
                    break
                except Exception as exc:  # noqa: BLE001 - reported, not lost
                    outcome = Outcome(None, describe_error(exc), attempt)
            out.append(outcome)
            if on_result:
                on_result(i, outcome)
        return out

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A pool of worker processes, one simulation per process at a time.

    A worker that dies (killed, SUMO abort) breaks the pool: the pool is
    replaced and every unfinished task is resubmitted.  A death while several
    tasks are in flight cannot be pinned on one of them, so it is charged to
    none; after a second death in the same ``map`` the remaining tasks run one
    at a time, so each death is charged to the task that caused it.  A task
    charged ``retries + 1`` times is reported failed; the others still run.
    ``Outcome.attempts`` counts every submission of the task.
    """

    def __init__(self, workers: int = 2, *, retries: int = 2) -> None:
        if workers < 1:
            raise SignaloptError(f"workers must be at least 1 ({workers})")
        self.workers = workers
        self.retries = retries
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: workers never inherit a half-initialised simulator or locks, and each worker's parent is
            # this process, which exit_with_parent relies on (under forkserver it would be the server)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    def _reset(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def map(self, fn, tasks, *, on_result=None):  # noqa: ANN001, ANN201 - see Executor
        results: list[Outcome | None] = [None] * len(tasks)
        attempts = [0] * len(tasks)  # submissions
        charged = [0] * len(tasks)  # failures attributed to the task
        pending = list(range(len(tasks)))
        deaths = 0
        while pending:
            # after a second worker death, run one task at a time to find the culprit
            batches = [[i] for i in pending] if deaths >= 2 else [pending]
            retry: list[int] = []
            for batch in batches:
                pool = self._get_pool()
                futures: dict[int, Future] = {}
                broken = False
                for n, i in enumerate(batch):
                    try:
                        futures[i] = pool.submit(fn, tasks[i])
                    except BrokenProcessPool:
                        # a task submitted a moment ago already killed its worker: the rest of the
                        # batch waits for a fresh pool, uncharged
                        broken = True
                        retry.extend(batch[n:])
                        break
                    attempts[i] += 1
                index = {fut: i for i, fut in futures.items()}
                # as_completed: a finished evaluation is reported (and journalled)
                # at once, not held back behind a slower one
                for fut in as_completed(futures.values()):
                    i = index[fut]
                    try:
                        value = fut.result()
                        outcome = Outcome(value, None, attempts[i])
                    except BrokenProcessPool as exc:
                        broken = True
                        if len(batch) == 1:  # it ran alone: the death is its own
                            charged[i] += 1
                        if charged[i] <= self.retries:
                            retry.append(i)
                            continue
                        outcome = Outcome(None, f"worker process died: {describe_error(exc)}", attempts[i])
                    except Exception as exc:  # noqa: BLE001 - reported, not lost
                        charged[i] += 1
                        if charged[i] <= self.retries and not isinstance(exc, SignaloptError):
                            retry.append(i)
                            continue
                        outcome = Outcome(None, describe_error(exc), attempts[i])
                    results[i] = outcome
                    if on_result:
                        on_result(i, outcome)
                if broken:
                    deaths += 1
                    self._reset()
            pending = sorted(retry)
        return [r for r in results if r is not None]

    def close(self) -> None:
        self._reset()


EXECUTORS = ("serial", "process", "dask")


def make_executor(kind: str = "process", *, workers: int = 2, retries: int = 2,
                  scheduler: str | None = None) -> Executor:
    """``"serial"``, ``"process"`` (default, ``workers`` processes) or ``"dask"``.

    ``"dask"`` connects to ``scheduler`` (``tcp://host:8786``) or, without
    one, starts a LocalCluster of ``workers`` single-threaded worker
    processes at the first ``map`` (see :mod:`signalopt._dask`).
    """
    if scheduler is not None and kind != "dask":
        raise SignaloptError(f"a scheduler address needs the dask executor ({kind})")
    if kind == "serial":
        return SerialExecutor(retries=retries)
    if kind == "process":
        return ProcessExecutor(workers, retries=retries)
    if kind == "dask":
        from ._dask import DaskExecutor

        return DaskExecutor(scheduler, workers=workers, retries=retries)
    raise SignaloptError(f"unknown executor, choose from {', '.join(EXECUTORS)} ({kind})")
