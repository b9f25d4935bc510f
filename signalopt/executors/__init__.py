"""Executors: run evaluation tasks serially, in worker processes or on a Dask cluster, in order.

Every executor returns one :class:`Outcome` per task, in task order; a task
that fails (crashed worker process, lost Dask worker, unexpected error) is
retried up to ``retries`` times and then reported with its reason, never
lost.  A :class:`~signalopt.errors.SignaloptError` (a SUMO error on this
input, a bad plan) is deterministic -- the same task fails the same way -- so
it is reported at once without a retry.

Three implementations pass the same contract tests (tests/test_executors.py):
:class:`SerialExecutor`, :class:`ProcessExecutor` (default) and
:class:`~signalopt.executors.dask.DaskExecutor` (``make_executor("dask")``, needs the
``dask`` extra).
"""

from __future__ import annotations

from ..errors import SignaloptError
from .base import Executor, Outcome, describe_error, exit_with_parent
from .local import ProcessExecutor, SerialExecutor

__all__ = ["EXECUTORS", "Executor", "Outcome", "ProcessExecutor", "SerialExecutor", "describe_error",
           "exit_with_parent", "make_executor"]


EXECUTORS = ("serial", "process", "dask")


def make_executor(kind: str = "process", *, workers: int = 2, retries: int = 2,
                  scheduler: str | None = None) -> Executor:
    """``"serial"``, ``"process"`` (default, ``workers`` processes) or ``"dask"``.

    ``"dask"`` connects to ``scheduler`` (``tcp://host:8786``) or, without
    one, starts a LocalCluster of ``workers`` single-threaded worker
    processes at the first ``map`` (see :mod:`signalopt.executors.dask`).
    """
    if scheduler is not None and kind != "dask":
        raise SignaloptError(f"a scheduler address needs the dask executor ({kind})")
    if kind == "serial":
        return SerialExecutor(retries=retries)
    if kind == "process":
        return ProcessExecutor(workers, retries=retries)
    if kind == "dask":
        from .dask import DaskExecutor

        return DaskExecutor(scheduler, workers=workers, retries=retries)
    raise SignaloptError(f"unknown executor, choose from {', '.join(EXECUTORS)} ({kind})")
