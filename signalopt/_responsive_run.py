"""The traffic-responsive controller in a running simulation (libsumo), for :mod:`signalopt._sumo_run`.

Every pattern is loaded as a static SUMO programme (``so-p<k>``; pattern 0 last, so it runs from the start), and
every incoming car lane gets a system induction loop whose aggregation period is the computation interval.  SUMO
runs the programmes itself, so intervals are timed as in any fixed-time run; this loop only reads the loops at
each computation instant and changes programme at a cycle start (a signal's phase 0 beginning): first to a
transition programme built for that moment (:func:`signalopt.schedule.transition_plan`), then, when the
transition's one cycle is over, to the new pattern's programme from its first phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._schedule_run import load_transition
from ._xml import xml_escape
from .formats.sumo import plans_additional
from .responsive import ResponsivePlans, detector_value, section_index, select_pattern, smoothed
from .schedule import transition_length_s, transition_plan

#: Programme id of pattern ``k`` (transitions are :data:`~signalopt._schedule_run.TRANSITION_PROGRAM`).
PATTERN_PROGRAM = "so-p{}"


def responsive_additional(responsive: ResponsivePlans, *, begin_s: float) -> str:
    """SUMO additional XML: every pattern's programmes (pattern 0 last, so it runs) and the system loops."""
    lines = ["<additional>"]
    order = list(range(1, len(responsive.patterns))) + [0]
    for k in order:
        lines += plans_additional(responsive.patterns[k], program_id=PATTERN_PROGRAM.format(k)).splitlines()[1:-1]
    period = responsive.selection.interval_s
    for d in responsive.detectors:
        lines.append(f'  <inductionLoop id="{xml_escape(d.id)}" lane="{xml_escape(d.lane)}" pos="{d.pos_m:.3f}" '
                     f'period="{period:g}" begin="{begin_s:g}" file="NUL"/>')
    lines.append("</additional>")
    return "\n".join(lines) + "\n"


@dataclass
class ResponsiveLog:
    """What the controller did in one run.

    ``cycle_starts``: per signal, every start of its first phase (any programme) [s];
    ``decisions``: (time [s], smoothed section index [-], pattern chosen) at each computation instant.
    """

    cycle_starts: dict[str, list[float]] = field(default_factory=dict)
    decisions: list[tuple[float, float, int]] = field(default_factory=list)


def run_responsive(libsumo, responsive: ResponsivePlans, *, begin_s: float, end_s: float  # noqa: ANN001
                   ) -> ResponsiveLog:
    """Step the simulation to ``end_s`` under traffic-responsive plan selection."""
    sel = responsive.selection
    tls = libsumo.trafficlight
    loops = libsumo.inductionloop
    log = ResponsiveLog(cycle_starts={sid: [begin_s] for sid in responsive.signal_ids})
    previous = {sid: tls.getPhase(sid) for sid in responsive.signal_ids}
    pending: dict[str, str] = {}  # signal -> "wait" (for its cycle start) or "transition" (for its end)
    pattern, target, level = 0, 0, None
    next_decision = begin_s + sel.interval_s
    t = libsumo.simulation.getTime()
    while t < end_s - 1e-9:
        libsumo.simulationStep()
        t = libsumo.simulation.getTime()
        for sid in responsive.signal_ids:
            phase = tls.getPhase(sid)
            if phase == 0 and previous[sid] != 0:
                log.cycle_starts[sid].append(t)
                step = pending.get(sid)
                if step == "wait":
                    new = responsive.patterns[target][sid]
                    load_transition(libsumo, sid, transition_plan(new, transition_length_s(new, t)))
                    pending[sid] = "transition"
                elif step == "transition":
                    tls.setProgram(sid, PATTERN_PROGRAM.format(target))
                    tls.setPhase(sid, 0)
                    del pending[sid]
                    if not pending:
                        pattern = target
            previous[sid] = phase  # a switch above starts the new programme at its phase 0 too
        if t >= next_decision - 1e-9:
            values: dict[str, list[float]] = {}
            for d in responsive.detectors:
                v = detector_value(loops.getLastIntervalVehicleNumber(d.id),
                                   loops.getLastIntervalOccupancy(d.id) / 100.0,
                                   interval_s=sel.interval_s, occupancy_weight=sel.occupancy_weight)
                values.setdefault(d.approach, []).append(v)
            level = smoothed(level, section_index(values), sel.smoothing)
            chosen = select_pattern(pattern, level, sel.thresholds, sel.hysteresis)
            if chosen != pattern and not pending:
                target = chosen
                pending = {sid: "wait" for sid in responsive.signal_ids}
            log.decisions.append((t, level, target))
            next_decision += sel.interval_s
    return log
