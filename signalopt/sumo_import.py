"""Read SUMO additional files with static ``tlLogic`` programmes back into plans.

Every programme is turned into a :class:`~signalopt.plan.TimingPlan` by
:func:`signalopt.programs.plan_from_program` with the network it runs on
(stages, greens, yellows, all-reds, offset; the minimums each stage promises
are recomputed from the network).  When a file holds several programmes for
one signal, the last one is read: it is the one SUMO runs.
"""

from __future__ import annotations

from pathlib import Path

from ._xml import parse_xml
from .errors import InputError, PlanError
from .network import Network
from .plan import PlanSet
from .programs import plan_from_program
from .scenario import TimingOptions


def _float(path: Path, what: str, value: str | None, default: float | None = None) -> float:
    if value is None:
        if default is None:
            raise InputError(path, f"{what} missing", None)
        return default
    try:
        return float(value)
    except ValueError:
        raise InputError(path, f"{what} is not a number", value) from None


def read_sumo_additional(path: str | Path, network: Network, *, timing: TimingOptions | None = None,
                         name: str | None = None) -> tuple[PlanSet, list[str]]:
    """Plans of every static ``tlLogic`` in a SUMO additional file, plus warnings for stages
    that fall short of the network's minimums (the safety check refuses those before export).

    Raises
    ------
    InputError
        Malformed XML, no ``tlLogic``, a signal the network does not have,
        a programme that is not static, or phases that do not match the
        signal's links.
    """
    path = Path(path)
    timing = timing or TimingOptions()
    root = parse_xml(path)
    logics = [e for e in root.iter("tlLogic")]
    if not logics:
        raise InputError(path, "no <tlLogic> in the SUMO additional file", root.tag)
    last: dict[str, object] = {}
    for e in logics:
        sid = e.get("id")
        if not sid:
            raise InputError(path, "<tlLogic> without id", None)
        last[sid] = e
    plans, warnings = [], []
    for sid, e in last.items():
        kind = e.get("type", "static")
        pid = e.get("programID", "0")
        if kind != "static":
            raise InputError(path, f"tlLogic {sid} programme {pid} is {kind}; only static programmes can be read "
                                   f"back (export them with --format sumo)", kind)
        signal = network.signal(sid, source=path)
        phases = []
        for k, ph in enumerate(e.findall("phase")):
            state = ph.get("state")
            if not state:
                raise InputError(path, f"tlLogic {sid} phase {k}: state missing", None)
            phases.append((_float(path, f"tlLogic {sid} phase {k} duration", ph.get("duration")), state))
        offset = _float(path, f"tlLogic {sid} offset", e.get("offset"), 0.0)
        try:
            plan, w = plan_from_program(signal, tuple(phases), offset_s=offset, timing=timing, program_id=pid)
        except InputError as exc:
            raise InputError(path, exc.what, exc.value) from None
        except PlanError as exc:
            raise InputError(path, f"tlLogic {sid} programme {pid} cannot be read as a plan", str(exc)) from None
        plans.append(plan)
        warnings.extend(w)
    return PlanSet(tuple(plans), name=name or path.name.split(".")[0]), warnings
