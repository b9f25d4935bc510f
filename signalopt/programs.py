"""Existing plans from a network's SUMO programmes, and each stage's engineering minimums.

The minimums (vehicle and pedestrian minimum green, ITE yellow and all-red or a
fixed standard's) come from the network geometry and
:class:`~signalopt.options.TimingOptions`.
A plan signalopt builds always meets them.  An existing programme that falls
short of one (netconvert writes no all-red by default, for instance) is still
read so it can be simulated as it runs on the street; its phase promises
only what it actually does, and every shortfall is returned as a warning
(and refused by the safety check before any export).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .actuated import stage_successors
from .clearance import ite_all_red_s, ite_yellow_s, ped_clearance_s
from .errors import InputError, PlanError
from .network import Network, Program, Signal
from .plan import ABSOLUTE_MIN_YELLOW_S, GREEN_CHARS, GREEN_RANK, Phase, PlanSet, TimingPlan, change_sums, read_stages, transition_states
from .options import TimingOptions


def ceil_tenth(x: float) -> float:
    """Round a duration up to 0.1 s, the precision plans are written with [s]."""
    return math.ceil(x * 10 - 1e-9) / 10


@dataclass(frozen=True)
class StageRequirements:
    """Minimums for one stage [s]."""

    min_green_s: float
    min_yellow_s: float
    min_all_red_s: float
    walk_s: float
    ped_clearance_s: float

    @property
    def min_split_s(self) -> float:
        ped = self.walk_s + self.ped_clearance_s if self.walk_s else 0.0
        return max(self.min_green_s, ped) + self.min_yellow_s + self.min_all_red_s


def stage_requirements(signal: Signal, state: str, next_state: str, timing: TimingOptions) -> StageRequirements:
    """Minimums for a stage with green ``state`` followed by ``next_state``.

    Yellow: ITE formula at the fastest approach speed among the links that
    lose the right of way; all-red: ITE ``(W + L) / v`` with ``W`` the length
    of each stopping through movement's path across the junction, the
    longest result.  A fixed standard (``timing.yellow_s``,
    ``timing.all_red_s``) replaces either formula.  Pedestrians: walk plus the longest served crossing at the
    walking speed.  Minimum green: ``min_green_left_s`` when every vehicle
    link served is a left or U-turn, else ``min_green_s``.
    """
    losing = [signal.links[k] for k, c in enumerate(state)
              if c in GREEN_CHARS and next_state[k] not in GREEN_CHARS and k < signal.n_links
              and not signal.links[k].is_crossing and signal.links[k].speed_m_s > 0]
    # a stage after which no vehicle loses the right of way (pedestrians only, or every link carries on)
    # needs no change interval
    if timing.yellow_s is not None:
        yellow = timing.yellow_s if losing else 0.0
    else:
        yellow = max((ite_yellow_s(l.speed_m_s, perception_reaction_s=timing.perception_reaction_s,
                                   deceleration_m_s2=timing.deceleration_m_s2) for l in losing), default=0.0)
    # ITE all-red: the path across the junction (W) of the through movements
    # losing the right of way, at their approach speed; turning paths only
    # when no through movement stops
    through = [l for l in losing if l.direction == "s"] or losing
    if timing.all_red_s is not None:
        all_red = timing.all_red_s if losing else 0.0
    else:
        all_red = max((ite_all_red_s(l.speed_m_s, intersection_width_m=l.length_m or signal.width_m,
                                     vehicle_length_m=timing.vehicle_length_m) for l in through),
                      default=0.0)
    crossings = [signal.links[k] for k, c in enumerate(state)
                 if c in GREEN_CHARS and k < signal.n_links and signal.links[k].is_crossing]
    walk = timing.walk_s if crossings else 0.0
    clearance = max((ped_clearance_s(l.length_m, walking_speed_m_s=timing.walking_speed_m_s) for l in crossings),
                    default=0.0)
    vehicle = [signal.links[k] for k, c in enumerate(state)
               if c in GREEN_CHARS and k < signal.n_links and not signal.links[k].is_crossing]
    left_only = bool(vehicle) and all(l.is_left for l in vehicle if l.direction not in "rR")
    min_green = timing.min_green_left_s if left_only else timing.min_green_s
    return StageRequirements(min_green, ceil_tenth(yellow), ceil_tenth(all_red), walk, ceil_tenth(clearance))


def plan_from_program(signal: Signal, phases: tuple[tuple[float, str], ...], *, offset_s: float,
                      timing: TimingOptions, program_id: str = "existing",
                      max_durations_s: Sequence[float | None] = ()) -> tuple[TimingPlan, list[str]]:
    """A SUMO programme as a :class:`TimingPlan` that runs exactly as it, plus a warning per shortfall.

    Stages come from :func:`~signalopt.plan.read_stages`; each keeps its
    interstage verbatim, so the plan written back gives the same state at
    every moment.  Each stage promises the minimums it meets and no more
    (where it falls short of a vehicle, pedestrian, yellow or all-red
    minimum, its own value), so the programme can be simulated as it runs on
    the street; every shortfall is a warning, and the safety check refuses
    such a plan before any export.

    ``max_durations_s`` (an actuated programme's ``maxDur`` per SUMO phase,
    None where a phase has none) becomes the maximum green of the stage that
    starts at that phase; otherwise a stage's maximum is the larger of
    ``timing.max_green_s`` and its green.

    Raises
    ------
    InputError
        No phases, a state of the wrong length, or a programme that never
        shows a green (naming the signal and the state).
    """
    if not phases:
        raise InputError(None, f"signal {signal.id}: programme has no phases", program_id)
    n = signal.n_links
    for k, (dur, state) in enumerate(phases):
        if len(state) != n:
            raise InputError(None, f"signal {signal.id}: programme {program_id} phase {k} has {len(state)} "
                                   f"link states, the network {n}", state)
    stages = read_stages(phases, signal.ped_links)
    if not stages:
        raise InputError(None, f"signal {signal.id}: programme {program_id} never shows a green", phases[0][1])
    skipped = sum(d for d, _ in phases[:stages[0].first_phase])
    cycle = sum(d for d, _ in phases)
    warnings: list[str] = []
    out: list[Phase] = []
    for i, stage in enumerate(stages):
        main_s, state = stage.green
        green = main_s + stage.clearance_s
        yellow, all_red = change_sums(stage.change)
        next_state = stages[(i + 1) % len(stages)].green[1]
        req = stage_requirements(signal, state, next_state, timing)
        where = f"{signal.id} stage {i + 1} (phase {stage.first_phase})"
        walk = ped = 0.0
        if any(c in GREEN_CHARS for k, c in enumerate(state) if k in signal.ped_links):
            # the walk and clearance this programme shows, so the plan runs as it does
            walk, ped = min(req.walk_s, main_s), stage.clearance_s
            if ped < req.ped_clearance_s - 1e-6:
                warnings.append(f"{where}: pedestrian clearance {ped:g} s below {req.ped_clearance_s:g} s")
            if green < req.walk_s + req.ped_clearance_s - 1e-6:
                warnings.append(f"{where}: green {green:g} s below walk + pedestrian clearance "
                                f"{req.walk_s + req.ped_clearance_s:g} s")
        if green < req.min_green_s - 1e-6:
            warnings.append(f"{where}: green {green:g} s below minimum {req.min_green_s:g} s")
        if yellow < req.min_yellow_s - 1e-6:
            warnings.append(f"{where}: yellow {yellow:g} s below {timing.yellow_rule} {req.min_yellow_s:g} s")
        if all_red < req.min_all_red_s - 1e-6:
            warnings.append(f"{where}: all-red {all_red:g} s below {timing.all_red_rule} {req.min_all_red_s:g} s")
        programmed_max = (max_durations_s[stage.first_phase] if stage.first_phase < len(max_durations_s)
                          else None)
        min_yellow = min(req.min_yellow_s, yellow)
        if 0 < min_yellow < ABSOLUTE_MIN_YELLOW_S:
            min_yellow = 0.0  # promises nothing it cannot keep; the safety check still asks for 3 s
        try:
            out.append(Phase(name=f"stage {i + 1}", state=state, green_s=green, yellow_s=yellow, all_red_s=all_red,
                             min_green_s=min(req.min_green_s, green),
                             max_green_s=max(programmed_max if programmed_max is not None else timing.max_green_s,
                                             green),
                             min_yellow_s=min_yellow, min_all_red_s=min(req.min_all_red_s, all_red),
                             walk_s=walk, ped_clearance_s=ped, change=stage.change))
        except PlanError as exc:
            raise InputError(None, f"signal {signal.id}: programme {program_id} phase {stage.first_phase} "
                                   f"cannot be read", str(exc)) from None
    offset = (offset_s + skipped) % cycle if cycle > 0 else 0.0
    plan = TimingPlan(signal.id, tuple(out), offset_s=offset, ped_links=signal.ped_links, program_id=program_id)
    return plan, warnings


def _downgrade(state: str, links: set[int]) -> str:
    return "".join("g" if k in links and c == "G" else c for k, c in enumerate(state))


def safe_phase(signal: Signal, phase: Phase, next_state: str, timing: TimingOptions) -> tuple[Phase, list[str]]:
    """``phase`` with every minimum of :func:`stage_requirements` kept, and a note per change made.

    Yellow and all-red are raised to the minimums (ITE's, or the fixed
    standard of ``timing``; a longer programmed interval is the engineer's
    choice and stays), the green to the vehicle
    minimum and, where the stage serves a crossing, to walk + pedestrian
    clearance.  Two foes both given a protected ``G`` (which SUMO runs, and
    no safe plan may) are resolved where SUMO makes one yield to the other:
    that one becomes a permissive ``g``, in the green and in the interstage.

    Raises
    ------
    InputError
        Foes green together where neither yields (names the signal, the
        stage, the links and the state).
    """
    notes: list[str] = []
    where = f"{signal.id} {phase.name}"
    yielding: set[int] = set()
    for a, b in signal.conflicting_greens(phase.state):
        if signal.yields_to(a, b) or signal.yields_to(b, a):
            yielding.add(a if signal.yields_to(a, b) else b)
        else:
            raise InputError(None, f"signal {signal.id} {phase.name}: links {a} and {b} are foes that neither "
                                   f"yields, green together", phase.state)
    state, change = phase.state, phase.change
    if yielding:
        state = _downgrade(state, yielding)
        change = tuple((d, _downgrade(st, yielding)) for d, st in change)
        notes.append(f"{where}: foes green together; links {', '.join(map(str, sorted(yielding)))} made "
                     f"permissive (g), as SUMO makes them yield")
    req = stage_requirements(signal, state, next_state, timing)
    serves = req.walk_s > 0
    min_green = ceil_tenth(max(req.min_green_s, req.walk_s + req.ped_clearance_s if serves else 0.0))
    yellow = max(req.min_yellow_s, ceil_tenth(phase.yellow_s))
    all_red = max(req.min_all_red_s, ceil_tenth(phase.all_red_s))
    for what, old, new in (("yellow", phase.yellow_s, yellow), ("all-red", phase.all_red_s, all_red),
                           ("green", phase.green_s, max(phase.green_s, min_green))):
        if new > old + 1e-6:
            notes.append(f"{where}: {what} {old:g} s raised to {new:g} s")
    out = replace(phase, state=state, change=change, green_s=max(phase.green_s, min_green),
                  min_green_s=req.min_green_s, max_green_s=max(timing.max_green_s, min_green, phase.green_s),
                  min_yellow_s=req.min_yellow_s, min_all_red_s=req.min_all_red_s, yellow_s=yellow,
                  all_red_s=all_red, walk_s=req.walk_s, ped_clearance_s=req.ped_clearance_s if serves else 0.0)
    return out, notes


def cover_skips(plan: TimingPlan, signal: Signal, timing: TimingOptions) -> TimingPlan:
    """``plan`` with each stage's yellow and all-red raised to clear every stage that may follow it.

    A stage followed by one on recall ``none`` may be followed by the stage after that one instead
    (:func:`~signalopt.actuated.stage_successors`); other links may stop there, other foes start.  Each such
    stage's change interval is raised to the longest minimum over its successors (ITE, or the fixed
    standard of ``timing``), never lowered, and its programmed interstage (``change``, which fits one next
    stage) gives way to the standard one of the same yellow and all-red, written for whichever stage follows
    (a controller writes one interstage per successor; SUMO's NEMA controller times each phase's yellow and
    red itself).  A plan without skipping stages is returned as it is.
    """
    if plan.actuation is None or not plan.actuation.skips_stages:
        return plan
    successors = stage_successors([st.recall for st in plan.actuation.stages])
    phases = []
    for ph, following in zip(plan.phases, successors):
        if len(following) < 2:
            phases.append(ph)
            continue
        reqs = [stage_requirements(signal, ph.state, plan.phases[j].state, timing) for j in following]
        yellow = max(r.min_yellow_s for r in reqs)
        yellow = max(ABSOLUTE_MIN_YELLOW_S, yellow) if yellow > 0 else 0.0
        red = max(r.min_all_red_s for r in reqs)
        phases.append(replace(ph, change=(), yellow_s=max(ph.yellow_s, yellow), all_red_s=max(ph.all_red_s, red),
                              min_yellow_s=max(ph.min_yellow_s, yellow), min_all_red_s=max(ph.min_all_red_s, red)))
    return replace(plan, phases=tuple(phases))


#: SUMO programme types whose phases run as written.
STATIC_TYPES = frozenset({"static"})
#: SUMO programme types signalopt reads and simulates as programmed ("existing" runs them as they are).
ADAPTIVE_TYPES = frozenset({"actuated", "delay_based", "NEMA"})


def adaptive_signal_ids(network: Network, signal_ids: Sequence[str]) -> tuple[str, ...]:
    """Those of ``signal_ids`` whose own programme is adaptive (:data:`ADAPTIVE_TYPES`): no fixed cycle."""
    return tuple(sid for sid in signal_ids if network.signal(sid).program.type in ADAPTIVE_TYPES)


def _merge_states(a: str, b: str) -> str:
    """Two ring phases shown together: each link takes the stronger of its two states (G > g > r)."""
    return "".join(x if GREEN_RANK.get(x, 0) >= GREEN_RANK.get(y, 0) else y for x, y in zip(a, b))


def nema_fixed_time(signal: Signal, program: Program) -> tuple[tuple[float, str], ...]:
    """A NEMA dual-ring programme as the fixed-time programme it runs with every phase at its maximum.

    Ring 1 and ring 2 phases at the same position of their ring sequences
    (SUMO's ``ring1``/``ring2`` params; 0 marks an omitted phase) run
    together as one stage for ``maxDur``, then the links that stop show
    yellow and red for the longer of the two phases' ``yellow`` and ``red``.

    Raises
    ------
    InputError
        Rings missing or naming a phase the programme does not have, or two
        phases run together that SUMO calls foes.
    """
    by_name = {program.phase_attr(k, "name"): k for k in range(len(program.phases))}
    rings = []
    for key in ("ring1", "ring2"):
        text = program.param(key)
        if not text:
            raise InputError(None, f"signal {signal.id}: NEMA programme {program.program_id} has no {key}", None)
        names = [n.strip() for n in text.split(",")]
        unknown = [n for n in names if n != "0" and n not in by_name]
        if unknown:
            raise InputError(None, f"signal {signal.id}: NEMA programme {program.program_id} {key} names a phase "
                                   f"it does not have", ",".join(unknown))
        rings.append(names)
    stages = []
    for a, b in zip(*rings):
        ks = [by_name[n] for n in dict.fromkeys((a, b)) if n != "0"]
        if not ks:
            continue
        state = program.phases[ks[0]][1]
        if len(ks) == 2:
            state = _merge_states(state, program.phases[ks[1]][1])
        bad = signal.conflicting_greens(state)
        if bad:
            raise InputError(None, f"signal {signal.id}: NEMA programme {program.program_id} runs foes together "
                                   f"(links {bad[0][0]} and {bad[0][1]}) in phases {a}+{b}", state)

        def attr(k: int, key: str, default: float) -> float:
            value = program.phase_attr(k, key)
            return float(value) if value is not None else default

        stages.append((state, max(attr(k, "maxDur", program.phases[k][0]) for k in ks),
                       max(attr(k, "yellow", 0.0) for k in ks), max(attr(k, "red", 0.0) for k in ks)))
    out: list[tuple[float, str]] = []
    for i, (state, green, yellow, red) in enumerate(stages):
        nxt = stages[(i + 1) % len(stages)][0]
        y_state, r_state = transition_states(state, nxt, frozenset())
        out += [(green, state), (yellow, y_state), (red, r_state)]
    return tuple((d, st) for d, st in out if d > 0)


def fixed_time_phases(signal: Signal, program: Program) -> tuple[tuple[tuple[float, str], ...], str | None]:
    """The phases of ``program`` as a fixed-time programme, and a note when it is not static.

    Static programmes are returned as they are; actuated and delay-based
    ones at their programmed durations; NEMA ones by :func:`nema_fixed_time`.
    The note says so: such a programme is simulated as programmed when it is
    the existing timing, and its fixed-time reading only gives the optimiser
    its stages.
    """
    if program.type in STATIC_TYPES:
        return program.phases, None
    if program.type not in ADAPTIVE_TYPES:
        raise InputError(None, f"signal {signal.id}: programme {program.program_id} has a type signalopt does not "
                               f"read (static, actuated, delay_based, NEMA)", program.type)
    if program.type == "NEMA":
        phases = nema_fixed_time(signal, program)
        how = "with every phase at its maximum green"
    else:
        phases = program.phases
        how = "at its programmed durations"
    return phases, (f"{signal.id}: programme {program.program_id} is {program.type}: simulated as programmed; "
                    f"its stages read as fixed time {how} for retiming")


def _max_durations_s(signal: Signal, program: Program) -> list[float | None]:
    """An actuated programme's ``maxDur`` per phase (None where a phase has none) [s]."""
    out = []
    for k in range(len(program.phases)):
        text = program.phase_attr(k, "maxDur")
        try:
            out.append(float(text) if text is not None else None)
        except ValueError:
            raise InputError(None, f"signal {signal.id}: programme {program.program_id} phase {k}: maxDur is not "
                                   f"a number", text) from None
    return out


def existing_plans(network: Network, timing: TimingOptions, *,
                   signal_ids: tuple[str, ...] = ()) -> tuple[PlanSet, list[str]]:
    """The plans the network runs by default (its last-loaded programme per signal)."""
    if not network.signals:
        raise InputError(network.path, "the network has no traffic lights to retime", None)
    plans, warnings = [], []
    for signal in network.signals:
        if signal_ids and signal.id not in signal_ids:
            continue
        prog = signal.program
        try:
            phases, note = fixed_time_phases(signal, prog)
            if note:
                warnings.append(note)
            maxima = _max_durations_s(signal, prog) if prog.type in ("actuated", "delay_based") else []
            plan, w = plan_from_program(signal, phases, offset_s=prog.offset_s, timing=timing,
                                        program_id=prog.program_id, max_durations_s=maxima)
        except InputError as exc:
            raise InputError(network.path, exc.what, exc.value) from None
        plans.append(plan)
        warnings.extend(w)
    return PlanSet(tuple(plans), name="existing"), warnings


def running_control(network: Network, signal_ids: Sequence[str]) -> tuple[str, str]:
    """The control that retimes ``signal_ids`` as the kind of controller they run today, and why (a sentence).

    ``"actuated"`` where every one runs an adaptive programme (``actuated``, ``delay_based``, or a NEMA
    programme that is not coordinated), ``"coordinated"`` where every one runs a coordinated NEMA programme,
    ``"fixed"`` otherwise: where any of them runs fixed time, the set is retimed as fixed time so the
    corridor's cycle and offsets hold.  An engineer retunes the controller the street has; replacing actuated
    control by fixed time gives back what the actuation gains whenever demand varies.
    """
    kinds = {}
    for sid in signal_ids:
        program = network.signal(sid).program
        if program.type not in ADAPTIVE_TYPES:
            kinds[sid] = "fixed"
        elif program.type == "NEMA" and program.param("coordinate-mode", "false").lower() == "true":
            kinds[sid] = "coordinated"
        else:
            kinds[sid] = "actuated"
    found = set(kinds.values())
    if found == {"coordinated"}:
        return "coordinated", "every signal runs coordinated NEMA control: retiming its cycle, splits and offsets"
    if "fixed" not in found:
        return "actuated", (f"every signal runs {'adaptive' if len(found) > 1 else 'actuated'} control: tuning its "
                            f"actuated settings")
    if found == {"fixed"}:
        return "fixed", "every signal runs fixed time: retiming its cycle, splits and offsets"
    adaptive = sorted(sid for sid, kind in kinds.items() if kind != "fixed")
    return "fixed", (f"{len(adaptive)} of {len(kinds)} signals run actuated control ({', '.join(adaptive[:3])}"
                     f"{', ...' if len(adaptive) > 3 else ''}), the others fixed time: retiming all as fixed time")
