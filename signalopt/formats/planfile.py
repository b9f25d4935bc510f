"""signalopt's own versioned JSON plan file (every export format starts from it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from .._xml import atomic_write_text, check_file, check_schema_version, read_json_object
from ..errors import InputError, PlanError
from ..network import Network
from ..plan import PlanSet, show_value
from ..responsive import RESPONSIVE_SCHEMA_VERSION, ResponsivePlans
from .sumo import read_sumo_additional

PLAN_SCHEMA_VERSION = 1
#: The top-level keys :func:`plans_to_json` writes; any other key is a typo (``"plan"``) to refuse,
#: not to ignore, since ignoring it would leave a file that plans nothing.
PLAN_FILE_KEYS = ("schema_version", "generator", "provenance", "name", "plans")


def plans_to_json(plans: PlanSet, *, provenance: dict[str, Any] | None = None) -> str:
    doc = {"schema_version": PLAN_SCHEMA_VERSION, "generator": f"signalopt {__version__}",
           "provenance": provenance or {}, **plans.to_dict()}
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def write_plans(plans: PlanSet, path: str | Path, *, provenance: dict[str, Any] | None = None) -> Path:
    """Write a plan set as signalopt JSON (atomically), without a safety check.

    For working copies, such as the existing plans as found on the street
    (which may fall short of the ITE clearance minimums, and must still be
    simulated as they are).  Plans meant for a controller go through
    :func:`signalopt.export.export_plans` (format ``"json"`` writes this same
    file), which validates them first.
    """
    return atomic_write_text(path, plans_to_json(plans, provenance=provenance))


def read_plans(path: str | Path, *, network: Network | None = None) -> PlanSet:
    """Read a signalopt JSON plan file; with ``network``, check its signals and link counts."""
    return read_plan_file(path, network=network)[0]


#: What a plan file may hold (a JSON file's ``kind``; a plan set has none).
PLAN_FILE_KINDS = ("plans", "responsive", "schedule")


def plan_file_kind(path: str | Path) -> str:
    """What ``path`` holds: ``plans`` (a plan set, or a SUMO ``.xml`` file), ``responsive`` (a pattern library
    with its selection settings) or ``schedule`` (a time-of-day schedule); another ``kind`` is refused."""
    path = check_file(Path(path), "plan file")
    if path.suffix.lower() == ".xml":
        return "plans"
    kind = read_json_object(path, "plan file").get("kind", "plans")
    if kind not in PLAN_FILE_KINDS:
        raise InputError(path, f"kind must be one of {', '.join(PLAN_FILE_KINDS)}", show_value(kind))
    return kind


def read_plan_file(path: str | Path, *, network: Network | None = None) -> tuple[PlanSet, dict[str, Any]]:
    """Plans and provenance (signalopt version, scenario digest, optimiser seeds, ...) of a plan file.

    A ``.xml`` file is read as a SUMO additional file with static ``tlLogic``
    programmes (:func:`signalopt.formats.sumo.read_sumo_additional`); that needs ``network``.
    """
    path = check_file(Path(path), "plan file")
    if path.suffix.lower() == ".xml":
        if network is None:
            raise InputError(path, "reading plans from a SUMO additional file needs the network (--network)", None)
        return read_sumo_additional(path, network)[0], {"imported_from": path.name}
    doc = read_json_object(path, "plan file")
    check_schema_version(path, doc, PLAN_SCHEMA_VERSION)
    unknown = sorted(set(doc) - set(PLAN_FILE_KEYS))
    if unknown:
        raise InputError(path, f"unknown top-level keys (expected {', '.join(PLAN_FILE_KEYS)})", ", ".join(unknown))
    if "plans" not in doc:
        raise InputError(path, 'plan file has no "plans" list', "keys: " + ", ".join(sorted(doc)))
    for key, kind in (("generator", str), ("provenance", dict)):
        if key in doc and not isinstance(doc[key], kind):
            raise InputError(path, f"{key} must be a JSON {'string' if kind is str else 'object'}",
                             show_value(doc[key]))
    try:
        plans = PlanSet.from_dict({k: v for k, v in doc.items() if k in ("name", "plans")})
    except PlanError as exc:
        raise InputError(path, "invalid plan", str(exc)) from None
    if network is not None:
        _check_links(path, plans, network)
    return plans, doc.get("provenance", {})


def _check_links(path: Path, plans: PlanSet, network: Network) -> None:
    for plan in plans:
        signal = network.signal(plan.signal_id, source=path)
        if plan.n_links != signal.n_links:
            raise InputError(path, f"signal {plan.signal_id}: plan states have {plan.n_links} links, "
                                   f"the network {signal.n_links}", plan.phases[0].state)


def responsive_to_json(section: ResponsivePlans, *, provenance: Mapping[str, Any] | None = None) -> str:
    """A traffic-responsive section (patterns, selection settings, system detectors) as signalopt JSON text."""
    doc = section.to_dict()
    doc = {"schema_version": doc.pop("schema_version"), "kind": doc.pop("kind"),
           "generator": f"signalopt {__version__}", "provenance": dict(provenance or {}), **doc}
    return json.dumps(doc, indent=2) + "\n"


def write_responsive(section: ResponsivePlans, path: str | Path, *, provenance: dict[str, Any] | None = None
                     ) -> Path:
    """Write a traffic-responsive section (patterns, selection settings, system detectors) as signalopt JSON."""
    return atomic_write_text(path, responsive_to_json(section, provenance=provenance))


def read_responsive(path: str | Path, *, network: Network | None = None) -> tuple[ResponsivePlans, dict[str, Any]]:
    """A traffic-responsive section and its provenance from a file :func:`write_responsive` wrote; with
    ``network``, every pattern's signals and link counts are checked against it."""
    path = check_file(Path(path), "responsive plan file")
    doc = read_json_object(path, "responsive plan file")
    check_schema_version(path, doc, RESPONSIVE_SCHEMA_VERSION)
    if doc.get("kind") != "responsive":
        raise InputError(path, 'not a responsive plan file (kind must be "responsive")', show_value(doc.get("kind")))
    provenance = doc.get("provenance", {})
    if not isinstance(provenance, dict):
        raise InputError(path, "provenance must be a JSON object", show_value(provenance))
    try:
        section = ResponsivePlans.from_dict({k: v for k, v in doc.items() if k not in ("generator", "provenance")})
    except PlanError as exc:
        raise InputError(path, "invalid responsive plans", str(exc)) from None
    if network is not None:
        for plans in section.patterns:
            _check_links(path, plans, network)
        lanes = {lane for sid in section.signal_ids for a in network.signal(sid).approaches for lane in a.lanes}
        bad = [d.lane for d in section.detectors if d.lane not in lanes]
        if bad:
            raise InputError(path, "system detector on a lane that is no incoming car lane of the section's signals",
                             bad[0])
    return section, provenance
