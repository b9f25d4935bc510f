"""The executor contract: :class:`Outcome`, :class:`Executor`, and what every implementation shares."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


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
