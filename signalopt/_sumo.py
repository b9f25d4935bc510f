"""Where SUMO lives: binaries and tools from the ``eclipse-sumo`` wheel.

Nothing here runs at ``import signalopt``; callers ask when they need SUMO.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

from .errors import SumoNotFoundError


@functools.cache
def sumo_home() -> Path:
    """Root of the SUMO installation shipped by the ``eclipse-sumo`` wheel."""
    try:
        import sumo  # the wheel's package; it also sets SUMO_HOME for its tools
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SumoNotFoundError(
            "SUMO is not installed: run `pip install .` in the signalopt checkout (eclipse-sumo wheel)"
        ) from exc
    return Path(sumo.SUMO_HOME)


def binary(name: str) -> Path:
    """Path of a SUMO executable (``sumo``, ``netconvert``, ...)."""
    path = sumo_home() / "bin" / name
    if not path.exists():
        raise SumoNotFoundError(f"SUMO binary {name!r} not found in {path.parent}")
    return path


def tool(relpath: str) -> Path:
    """Path of a script under SUMO's ``tools/`` folder (e.g. ``routeSampler.py``)."""
    path = sumo_home() / "tools" / relpath
    if not path.exists():
        raise SumoNotFoundError(f"SUMO tool {relpath!r} not found in {path.parent}")
    return path


def tool_env() -> dict[str, str]:
    """Environment for running SUMO tools as subprocesses (SUMO_HOME set, tools importable)."""
    env = dict(os.environ)
    home = str(sumo_home())
    env["SUMO_HOME"] = home
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(Path(home) / "tools"), env.get("PYTHONPATH", "")] if p
    )
    return env


def python() -> str:
    """The interpreter to run SUMO's Python tools with (the one running signalopt)."""
    return sys.executable


def failure_reason(proc: subprocess.CompletedProcess) -> str:
    """Why a SUMO program or tool failed, in one line: its first ``Error`` line, else its last line."""
    lines = [x.strip() for x in (proc.stderr or proc.stdout or "").splitlines() if x.strip()]
    return next((x for x in lines if x.startswith("Error")), lines[-1] if lines else "no output")
