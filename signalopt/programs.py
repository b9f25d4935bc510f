"""Existing plans from a network's SUMO programmes, and each stage's engineering minimums.

The minimums (vehicle and pedestrian minimum green, ITE yellow and all-red)
come from the network geometry and :class:`~signalopt.scenario.TimingOptions`.
A plan signalopt builds always meets them.  An existing programme that falls
short of one (netconvert writes no all-red by default, for instance) is still
read so it can be simulated as it runs on the street; its phase promises
only what it actually does, and every shortfall is returned as a warning
(and refused by the safety check before any export).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .clearance import ite_all_red_s, ite_yellow_s, ped_clearance_s
from .errors import InputError, PlanError
from .network import Network, Signal
from .plan import ABSOLUTE_MIN_YELLOW_S, GREEN_CHARS, Phase, PlanSet, TimingPlan, change_sums, read_stages
from .scenario import TimingOptions


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
    longest result.  Pedestrians: walk plus the longest served crossing at the
    walking speed.  Minimum green: ``min_green_left_s`` when every vehicle
    link served is a left or U-turn, else ``min_green_s``.
    """
    losing = [signal.links[k] for k, c in enumerate(state)
              if c in GREEN_CHARS and next_state[k] not in GREEN_CHARS and k < signal.n_links
              and not signal.links[k].is_crossing and signal.links[k].speed_m_s > 0]
    # a stage after which no vehicle loses the right of way (pedestrians only, or every link carries on)
    # needs no change interval
    yellow = max((ite_yellow_s(l.speed_m_s, perception_reaction_s=timing.perception_reaction_s,
                               deceleration_m_s2=timing.deceleration_m_s2) for l in losing), default=0.0)
    # ITE all-red: the path across the junction (W) of the through movements
    # losing the right of way, at their approach speed; turning paths only
    # when no through movement stops
    through = [l for l in losing if l.direction == "s"] or losing
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
                      timing: TimingOptions, program_id: str = "existing") -> tuple[TimingPlan, list[str]]:
    """A SUMO programme as a :class:`TimingPlan` that runs exactly as it, plus a warning per shortfall.

    Stages come from :func:`~signalopt.plan.read_stages`; each keeps its
    interstage verbatim, so the plan written back gives the same state at
    every moment.  Each stage promises the minimums it meets and no more
    (where it falls short of a vehicle, pedestrian, yellow or all-red
    minimum, its own value), so the programme can be simulated as it runs on
    the street; every shortfall is a warning, and the safety check refuses
    such a plan before any export.

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
            warnings.append(f"{where}: yellow {yellow:g} s below ITE {req.min_yellow_s:g} s")
        if all_red < req.min_all_red_s - 1e-6:
            warnings.append(f"{where}: all-red {all_red:g} s below ITE {req.min_all_red_s:g} s")
        min_yellow = min(req.min_yellow_s, yellow)
        if 0 < min_yellow < ABSOLUTE_MIN_YELLOW_S:
            min_yellow = 0.0  # promises nothing it cannot keep; the safety check still asks for 3 s
        try:
            out.append(Phase(name=f"stage {i + 1}", state=state, green_s=green, yellow_s=yellow, all_red_s=all_red,
                             min_green_s=min(req.min_green_s, green), max_green_s=max(timing.max_green_s, green),
                             min_yellow_s=min_yellow, min_all_red_s=min(req.min_all_red_s, all_red),
                             walk_s=walk, ped_clearance_s=ped, change=stage.change))
        except PlanError as exc:
            raise InputError(None, f"signal {signal.id}: programme {program_id} phase {stage.first_phase} "
                                   f"cannot be read", str(exc)) from None
    offset = (offset_s + skipped) % cycle if cycle > 0 else 0.0
    plan = TimingPlan(signal.id, tuple(out), offset_s=offset, ped_links=signal.ped_links, program_id=program_id)
    return plan, warnings


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
        if prog.type != "static":
            warnings.append(f"{signal.id}: programme {prog.program_id} is {prog.type}; read as fixed-time")
        try:
            plan, w = plan_from_program(signal, prog.phases, offset_s=prog.offset_s, timing=timing,
                                        program_id=prog.program_id)
        except InputError as exc:
            raise InputError(network.path, exc.what, exc.value) from None
        plans.append(plan)
        warnings.extend(w)
    return PlanSet(tuple(plans), name="existing"), warnings
