"""Export timing plans for controllers and other tools; every write is preceded by the safety check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import __version__
from ._sumo_run import plans_additional
from ._xml import atomic_write_text, xml_escape
from .network import Network
from .plan import PlanSet
from .planfile import plans_to_json
from .safety import validate_plans
from .scenario import TimingOptions

FORMATS = ("json", "sumo")


def _comment(provenance: dict[str, Any]) -> str:
    items = {"signalopt": __version__, **provenance}
    text = "; ".join(f"{k}={v}" for k, v in items.items())
    return "<!-- " + xml_escape(text).replace("--", "- -") + " -->"


def sumo_additional_text(plans: PlanSet, *, provenance: dict[str, Any] | None = None) -> str:
    """SUMO additional file with one static ``tlLogic`` per plan (programme ids as in the plans)."""
    body = plans_additional(plans)
    return body.replace("<additional>", _comment(provenance or {}) + "\n<additional>", 1)


def export_plans(plans: PlanSet, fmt: str, out: str | Path, *, network: Network, timing: TimingOptions | None = None,
                 provenance: dict[str, Any] | None = None) -> Path:
    """Validate ``plans`` on ``network`` and write them as ``fmt`` to ``out``.

    Raises
    ------
    UnsafePlanError
        Listing every violation; nothing is written.
    """
    from .errors import InputError

    validate_plans(plans, network, timing=timing, source=str(out))
    if fmt == "json":
        return atomic_write_text(out, plans_to_json(plans, provenance=provenance))
    if fmt == "sumo":
        return atomic_write_text(out, sumo_additional_text(plans, provenance=provenance))
    raise InputError("--format", f"unknown export format, choose from {', '.join(FORMATS)}", fmt)
