"""What a result says about where it came from: the signalopt version, the scenario, when, and how."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from . import __version__
from .scenario import Scenario


def utc_timestamp() -> str:
    """Now, in UTC to the second (ISO 8601, e.g. ``2026-12-04T23:13:34+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def run_provenance(scenario: Scenario, **fields: Any) -> dict[str, Any]:
    """Provenance of a result computed from ``scenario``: version, scenario name and digest, creation time,
    then ``fields`` (seeds, method, ...)."""
    return {"signalopt": __version__, "scenario": scenario.name, "scenario_digest": scenario.digest,
            "created": utc_timestamp(), **fields}
