"""Executors on this machine: one after another in this process, or a pool of worker processes."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from ..errors import SignaloptError
from .base import Outcome, describe_error, exit_with_parent


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


def _without_main(get_preparation_data):  # noqa: ANN001, ANN202 - multiprocessing.spawn's function
    def prepare(name: str) -> dict:
        data = get_preparation_data(name)
        data.pop("init_main_from_name", None)
        data.pop("init_main_from_path", None)
        return data

    return prepare


class _SpawnProcess(mp.context.SpawnProcess):
    """A spawned worker that does not import the parent's ``__main__``.

    A spawned process normally re-runs the script that started the parent; a script that calls
    ``signalopt.optimise`` without an ``if __name__ == "__main__":`` guard would then start pools from
    every worker and die with a broken pool. The workers run signalopt's own functions only, so they start
    as they do under Jupyter, without the script. (A function defined in the script itself cannot be given
    to :meth:`ProcessExecutor.map`; put it in a module.)
    """

    @staticmethod
    def _Popen(process_obj):  # noqa: ANN001, ANN205, N802 - multiprocessing's hook
        from multiprocessing import spawn

        original = spawn.get_preparation_data
        spawn.get_preparation_data = _without_main(original)
        try:
            return mp.context.SpawnProcess._Popen(process_obj)
        finally:
            spawn.get_preparation_data = original


class _SpawnContext(mp.context.SpawnContext):
    Process = _SpawnProcess


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
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_SpawnContext(),
                                             initializer=exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    def _reset(self, *, terminate: bool = False) -> None:
        if self._pool is not None:
            if terminate:
                # a worker in the middle of a simulation would finish it first (Ctrl-C waited for it)
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    proc.terminate()
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
        self._reset(terminate=True)
