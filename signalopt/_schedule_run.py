"""Signalopt's switching controller for time-of-day schedules with actuated plans (libsumo), for
:mod:`signalopt._sumo_run`.

A WAUT switches at a fixed time, which is safe only when the programme's state at that time is known: a
fixed-time plan's is, an actuated plan's is not (its greens gap out).  Here every period's programme is loaded
(:func:`signalopt.formats.sumo.schedule_programs_additional`) and SUMO runs them; this loop watches each signal
and, once a period boundary has passed, acts at the next start of the running programme's first phase -- right
after its last stage's yellow and all-red -- by the rule in :mod:`signalopt.schedule`: a free actuated plan takes
over there, its first green starting afresh; a fixed-time plan takes over after one transition cycle that lands
on its offset.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .formats.sumo import period_program
from .plan import TimingPlan
from .schedule import check_switchable, Schedule, transition_length_s, transition_plan

#: Programme id of the transition cycle into a fixed-time plan.
TRANSITION_PROGRAM = "so-t"


@dataclass
class ScheduleLog:
    """What the controller did in one run.

    ``cycle_starts``: per signal, every start of its first phase (any programme) [s];
    ``takeovers``: per signal, (time [s], period index) whenever a period's plan started running.
    """

    cycle_starts: dict[str, list[float]] = field(default_factory=dict)
    takeovers: dict[str, list[tuple[float, int]]] = field(default_factory=dict)


def check_schedule_switches(schedule: Schedule) -> None:
    """Raise the :class:`~signalopt.errors.PlanError` of the first period change that cannot be made safely."""
    for sid in schedule.signal_ids:
        for a, b in zip(schedule.periods, schedule.periods[1:]):
            if a.plans[sid] != b.plans[sid]:
                check_switchable(a.plans[sid], b.plans[sid])


def load_transition(libsumo, sid: str, plan: TimingPlan) -> None:  # noqa: ANN001 - the libsumo module
    """Load ``plan`` as signal ``sid``'s transition programme and run it from its first phase now."""
    phases = [libsumo.TraCIPhase(dur, state) for dur, state in plan.sumo_phases()]
    libsumo.trafficlight.setProgramLogic(sid, libsumo.TraCILogic(TRANSITION_PROGRAM, 0, 0, phases))
    libsumo.trafficlight.setProgram(sid, TRANSITION_PROGRAM)
    libsumo.trafficlight.setPhase(sid, 0)


def run_schedule(libsumo, schedule: Schedule, *, begin_s: float, end_s: float,  # noqa: ANN001
                 program_prefix: str = "so-") -> ScheduleLog:
    """Step the simulation to ``end_s`` under ``schedule``, switching each signal's programme safely."""
    check_schedule_switches(schedule)
    tls = libsumo.trafficlight
    sids = schedule.signal_ids
    log = ScheduleLog(cycle_starts={sid: [begin_s] for sid in sids}, takeovers={sid: [(begin_s, 0)] for sid in sids})
    requests = {sid: deque((p.begin_s, k) for k, p in enumerate(schedule.periods) if k > 0) for sid in sids}
    running = {sid: 0 for sid in sids}  # the period whose plan runs, or which a transition leads to
    in_transition: set[str] = set()
    previous = {sid: tls.getPhase(sid) for sid in sids}
    t = libsumo.simulation.getTime()
    while t < end_s - 1e-9:
        libsumo.simulationStep()
        t = libsumo.simulation.getTime()
        for sid in sids:
            phase = tls.getPhase(sid)
            if phase == 0 and previous[sid] != 0:
                log.cycle_starts[sid].append(t)
                if sid in in_transition:
                    in_transition.discard(sid)
                    _take_over(tls, sid, running[sid], program_prefix, log, t)
                else:
                    due = None
                    while requests[sid] and requests[sid][0][0] <= t + 1e-9:
                        due = requests[sid].popleft()[1]
                    if due is not None:
                        old, new = schedule.periods[running[sid]].plans[sid], schedule.periods[due].plans[sid]
                        running[sid] = due
                        if new == old:
                            pass
                        elif new.actuation is not None:
                            _take_over(tls, sid, due, program_prefix, log, t)
                        else:
                            load_transition(libsumo, sid, transition_plan(new, transition_length_s(new, t)))
                            in_transition.add(sid)
            previous[sid] = tls.getPhase(sid)  # a switch above starts the new programme at its phase 0 too
    return log


def _take_over(tls, sid: str, k: int, prefix: str, log: ScheduleLog, t: float) -> None:  # noqa: ANN001
    tls.setProgram(sid, period_program(k, prefix))
    tls.setPhase(sid, 0)
    log.takeovers[sid].append((t, k))
