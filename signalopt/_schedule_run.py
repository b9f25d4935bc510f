"""Signalopt's switching controller for time-of-day schedules with actuated plans (libsumo), for
:mod:`signalopt._sumo_run`.

A WAUT switches at a fixed time, which is safe only when the programme's state at that time is known: a
fixed-time plan's is, an actuated plan's is not (its greens gap out).  Here every period's programme is loaded
(:func:`signalopt.formats.sumo.schedule_programs_additional`) and SUMO runs them; this loop watches each signal
and, once a period boundary has passed, switches by the rule in :mod:`signalopt.schedule`, one period at a time:

* into a fixed-time plan: at the next start of the running programme's first stage, one transition cycle of the
  new stages that lands on the new plan's offset, then the plan;
* into a free actuated plan: during the running programme's last interval before its first stage (the last
  stage's all-red, or its yellow; in a programme that skips stages, that of whichever stage ran last), when the
  new programme's last interval shows the same state: the new
  programme takes over for what is left of that interval, and SUMO's own controller then starts its first stage,
  timing its minimum green from there.  Where the two last intervals differ, a transition cycle of the new
  stages runs first, whose last interval is the new programme's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .actuated import runs_in_nema
from .errors import PlanError
from .formats.sumo import period_program
from .plan import TimingPlan
from .schedule import check_switchable, Schedule, transition_length_s, transition_plan

#: Programme id of a transition cycle.
TRANSITION_PROGRAM = "so-t"


@dataclass
class ScheduleLog:
    """What the controller saw in one run: ``cycle_starts``, per signal, every start of its first phase (any
    programme) [s]."""

    cycle_starts: dict[str, list[float]] = field(default_factory=dict)


def check_schedule_runs(schedule: Schedule) -> None:
    """Raise :class:`~signalopt.errors.PlanError` for a schedule that cannot be simulated: a period change that
    cannot be made safely, or a coordinated actuated plan (SUMO's NEMA controller runs it, which keeps its own
    ring state and cycle clock, so there is no point at which signalopt knows it may hand over without cutting
    an interval)."""
    for p in schedule.periods:
        for plan in p.plans:
            if runs_in_nema(plan.actuation):
                raise PlanError(f"schedule {schedule.name!r}: period {p.name!r} runs signal {plan.signal_id} "
                                f"coordinated actuated, in SUMO's NEMA controller; a schedule is simulated with "
                                f"fixed-time and free actuated plans only")
    for sid in schedule.signal_ids:
        for a, b in zip(schedule.periods, schedule.periods[1:]):
            if a.plans[sid] != b.plans[sid]:
                check_switchable(a.plans[sid], b.plans[sid])


def first_period(schedule: Schedule, begin_s: float) -> int:
    """Index of the period in force when a run starts at ``begin_s``."""
    return schedule.periods.index(schedule.period_at(begin_s))


def load_transition(libsumo, sid: str, plan: TimingPlan) -> None:  # noqa: ANN001 - the libsumo module
    """Load ``plan`` as signal ``sid``'s transition programme and run it from its first phase now."""
    phases = [libsumo.TraCIPhase(dur, state) for dur, state in plan.sumo_phases()]
    libsumo.trafficlight.setProgramLogic(sid, libsumo.TraCILogic(TRANSITION_PROGRAM, 0, 0, phases))
    libsumo.trafficlight.setProgram(sid, TRANSITION_PROGRAM)
    libsumo.trafficlight.setPhase(sid, 0)


def run_schedule(libsumo, schedule: Schedule, *, begin_s: float, end_s: float,  # noqa: ANN001
                 program_prefix: str = "so-") -> ScheduleLog:
    """Step the simulation to ``end_s`` under ``schedule``, switching each signal's programme safely."""
    check_schedule_runs(schedule)
    sids = schedule.signal_ids
    k0 = first_period(schedule, begin_s)
    log = ScheduleLog(cycle_starts={sid: [begin_s] for sid in sids})
    switcher = {sid: _Switcher(libsumo, schedule, sid, k0, program_prefix) for sid in sids}
    _step(libsumo, sids, end_s, log, lambda sid, phase, t: switcher[sid].entered(phase, t))
    return log


def _step(libsumo, sids: Sequence[str], end_s: float, log: ScheduleLog,  # noqa: ANN001
          entered: Callable[[str, int, float], None] | None = None) -> None:
    """Step to ``end_s``, recording each start of a signal's first phase and telling ``entered`` of every
    phase a signal enters."""
    tls = libsumo.trafficlight
    previous = {sid: tls.getPhase(sid) for sid in sids}
    t = libsumo.simulation.getTime()
    while t < end_s - 1e-9:
        libsumo.simulationStep()
        t = libsumo.simulation.getTime()
        for sid in sids:
            phase = tls.getPhase(sid)
            if phase != previous[sid]:
                if phase == 0:
                    log.cycle_starts[sid].append(t)
                if entered is not None:
                    entered(sid, phase, t)
            previous[sid] = tls.getPhase(sid)  # after a switch: the phase the new programme runs


class _Switcher:
    """One signal's switching: the period running, the requests still to serve, a transition under way."""

    def __init__(self, libsumo, schedule: Schedule, sid: str, k0: int, prefix: str) -> None:  # noqa: ANN001
        self.libsumo, self.tls, self.schedule, self.sid, self.prefix = (
            libsumo, libsumo.trafficlight, schedule, sid, prefix)
        self.running = k0
        self.requests = deque(range(k0 + 1, len(schedule.periods)))
        self.pending: tuple[str, int] | None = None  # ("fixed" | "actuated", period) after a transition
        logics = {lg.programID: lg for lg in self.tls.getAllProgramLogics(sid)}
        self.last_state = {k: logics[period_program(k, prefix)].phases[-1].state
                           for k in range(len(schedule.periods))}
        # phases per programme, read once: the check runs at every phase change
        self.n_phases = {pid: len(lg.phases) for pid, lg in logics.items()}
        self.into_first = {pid: _into_first(lg.phases) for pid, lg in logics.items()}

    def _plan(self, k: int) -> TimingPlan:
        return self.schedule.periods[k].plans[self.sid]

    def _in_last_interval(self, phase: int) -> bool:
        return phase in self.into_first[self.tls.getProgram(self.sid)]

    def _shows_last_of(self, k: int) -> bool:
        return self.tls.getRedYellowGreenState(self.sid) == self.last_state[k]

    def entered(self, phase: int, t: float) -> None:
        """The running programme entered ``phase`` at ``t``: switch if this is the point to."""
        if self.pending is not None:
            kind, k = self.pending
            if kind == "fixed" and phase == 0:
                self.pending = None
                _take_over_at_start(self.tls, self.sid, k, self.prefix)
            elif kind == "actuated" and self._in_last_interval(phase) and self._shows_last_of(k):
                self.pending = None
                self._take_over_in_last_interval(k, t)
            return
        if not self.requests or self.schedule.periods[self.requests[0]].begin_s > t + 1e-9:
            return
        k = self.requests[0]
        old, new = self._plan(self.running), self._plan(k)
        if new == old:
            self.requests.popleft()
            self.running = k
        elif new.actuation is None:
            if phase == 0:  # one transition cycle landing on the new plan's offset
                self._start_transition(k, transition_plan(new, transition_length_s(new, t)), "fixed")
        elif self.last_state[self.running] == self.last_state[k]:
            if self._in_last_interval(phase) and self._shows_last_of(k):
                self.requests.popleft()
                self.running = k
                self._take_over_in_last_interval(k, t)
        elif phase == 0:  # the last intervals differ: one cycle of the new stages, whose last is the new one's
            self._start_transition(k, transition_plan(new, new.cycle_s), "actuated")

    def _start_transition(self, k: int, transition: TimingPlan, kind: str) -> None:
        self.requests.popleft()
        self.running = k
        load_transition(self.libsumo, self.sid, transition)
        self.n_phases[TRANSITION_PROGRAM] = n = len(transition.sumo_phases())
        self.into_first[TRANSITION_PROGRAM] = frozenset({n - 1})
        self.pending = (kind, k)

    def _take_over_in_last_interval(self, k: int, t: float) -> None:
        """An actuated programme takes over in its last interval for what is left of the running one's.

        SUMO's actuated controller times a phase's minimum from the moment its own logic enters it; a programme
        set to its first phase from outside keeps the timing it had in the background.  Entering at the last
        interval and letting SUMO move on to the first phase keeps every minimum.
        """
        left = max(self.tls.getNextSwitch(self.sid) - t, 0.1)
        program = period_program(k, self.prefix)
        self.tls.setProgram(self.sid, program)
        self.tls.setPhase(self.sid, self.n_phases[program] - 1)
        self.tls.setPhaseDuration(self.sid, left)


def _into_first(phases: Sequence) -> frozenset[int]:  # noqa: ANN001 - libsumo phases
    """Indices of a programme's intervals that lead into its first stage: the last one, and in a programme that
    skips stages the last interval of every interstage into the first stage (``next`` 0)."""
    return frozenset({len(phases) - 1} | {k for k, ph in enumerate(phases) if tuple(ph.next) == (0,)})


def _take_over_at_start(tls, sid: str, k: int, prefix: str) -> None:  # noqa: ANN001
    """A fixed-time programme takes over at the start of its first phase (SUMO times a static phase afresh)."""
    tls.setProgram(sid, period_program(k, prefix))
    tls.setPhase(sid, 0)


def watch_cycles(libsumo, signal_ids: tuple[str, ...], *, begin_s: float, end_s: float,  # noqa: ANN001
                 fallback_s: float) -> ScheduleLog:
    """Step the simulation to ``end_s`` recording every start of each signal's first phase: the cycles of
    programmes that run as they are (the network's own, actuated ones included), so that their queues are
    regrouped per cycle as a schedule's are.  A signal whose first phase starts less than three times (a
    programme that rests elsewhere) gets a regular grid of ``fallback_s`` [s] instead."""
    log = ScheduleLog(cycle_starts={sid: [begin_s] for sid in signal_ids})
    _step(libsumo, signal_ids, end_s, log)
    for sid, starts in log.cycle_starts.items():
        if len(starts) < 3:
            n = int((end_s - begin_s) // fallback_s) + 1
            log.cycle_starts[sid] = [begin_s + k * fallback_s for k in range(n)]
    return log
