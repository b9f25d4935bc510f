"""What a result says about where it came from: the signalopt version, the scenario, when, and how."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from . import __version__
from .errors import InputError, PlanError
from .options import TimingOptions
from .scenario import Scenario

#: Key of the timing options (minimums, bounds, the clearance rule) a result was built under.
TIMING_KEY = "timing"


def utc_timestamp() -> str:
    """Now, in UTC to the second (ISO 8601, e.g. ``2026-12-04T23:13:34+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def run_provenance(scenario: Scenario, **fields: Any) -> dict[str, Any]:
    """Provenance of a result computed from ``scenario``: version, scenario name and digest, creation time, the
    timing options its plans were built under (:func:`timing_fields`), then ``fields`` (seeds, method, ...)."""
    return {"signalopt": __version__, "scenario": scenario.name, "scenario_digest": scenario.digest,
            "created": utc_timestamp(), TIMING_KEY: timing_fields(scenario.timing), **fields}


def timing_fields(timing: TimingOptions) -> dict[str, float]:
    """Every set timing option (a clearance standard left to ITE is omitted), for a plan file's provenance."""
    return {k: v for k, v in vars(timing).items() if v is not None}


def timing_from_provenance(provenance: Mapping[str, Any], *, source: str) -> TimingOptions:
    """The timing options a plan file says its plans were built under, so they are checked against the same
    minimums and clearance rule (the defaults where it says nothing: a hand-written file, an import).

    Raises
    ------
    InputError
        A ``timing`` entry that is not an object of known options within their ranges (naming ``source``).
    """
    fields = provenance.get(TIMING_KEY, {})
    if not isinstance(fields, Mapping):
        raise InputError(source, f"provenance {TIMING_KEY} must be an object", repr(fields))
    unknown = sorted(set(map(str, fields)) - set(TimingOptions.__dataclass_fields__))
    if unknown:
        raise InputError(source, f"provenance {TIMING_KEY}: unknown options", ", ".join(unknown))
    try:
        return TimingOptions(**fields)
    except PlanError as exc:
        raise InputError(source, f"provenance {TIMING_KEY}", str(exc)) from None
