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
from .plan import GREEN_CHARS, Phase, PlanSet, TimingPlan, stages_from_sumo
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
    speeds = [l.speed_m_s for l in losing] or [13.89]
    yellow = ite_yellow_s(max(speeds), perception_reaction_s=timing.perception_reaction_s,
                          deceleration_m_s2=timing.deceleration_m_s2)
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
    """Turn a SUMO programme into a :class:`TimingPlan` plus warnings for every shortfall."""
    if not phases:
        raise InputError(None, f"signal {signal.id}: programme has no phases", program_id)
    n = signal.n_links
    for dur, state in phases:
        if len(state) != n:
            raise InputError(None, f"signal {signal.id}: phase state has {len(state)} links, the network {n}", state)
    first, stages = stages_from_sumo(phases)
    skipped = sum(d for d, _ in phases[:first])
    cycle = sum(d for d, _ in phases)
    warnings: list[str] = []
    out: list[Phase] = []
    for i, stage in enumerate(stages):
        green_part, yellow_part, red_part = [], [], []
        for dur, state in stage:
            if "y" in state:
                yellow_part.append(dur)
            elif yellow_part:
                red_part.append(dur)
            else:
                green_part.append((dur, state))
        state = green_part[0][1] if green_part else stage[0][1]
        green = sum(d for d, _ in green_part)
        yellow, all_red = sum(yellow_part), sum(red_part)
        next_state = stages[(i + 1) % len(stages)][0][1]
        req = stage_requirements(signal, state, next_state, timing)
        name = f"stage {i + 1}"
        # promise what the programme actually does where it falls short
        walk, ped = req.walk_s, req.ped_clearance_s
        walk_part = sum(d for d, s in green_part
                        if any(c in GREEN_CHARS and signal.links[k].is_crossing for k, c in enumerate(s)))
        if walk and walk_part > 0:
            # the programme's own clearance (crossings red, vehicles green), so the plan runs as it does
            shown = round(green - walk_part, 6)
            if shown < ped - 1e-6:
                warnings.append(f"{signal.id} stage {i + 1}: pedestrian clearance {shown:g} s below {ped:g} s")
            ped = shown
        min_green = min(req.min_green_s, green)
        if walk and green < walk + ped:
            warnings.append(f"{signal.id} stage {i + 1}: green {green:g} s below walk + pedestrian clearance "
                            f"{walk + ped:g} s")
            walk, ped = 0.0, 0.0
            state = "".join("r" if signal.links[k].is_crossing and c in GREEN_CHARS else c
                            for k, c in enumerate(state))
            if not set(state) & GREEN_CHARS:
                state = green_part[0][1]
        if green < req.min_green_s:
            warnings.append(f"{signal.id} stage {i + 1}: green {green:g} s below minimum {req.min_green_s:g} s")
        min_yellow = max(3.0, min(req.min_yellow_s, yellow))
        if yellow < req.min_yellow_s:
            warnings.append(f"{signal.id} stage {i + 1}: yellow {yellow:g} s below ITE {req.min_yellow_s:g} s")
        min_all_red = min(req.min_all_red_s, all_red)
        if all_red < req.min_all_red_s:
            warnings.append(f"{signal.id} stage {i + 1}: all-red {all_red:g} s below ITE {req.min_all_red_s:g} s")
        try:
            out.append(Phase(name=name, state=state, green_s=green, yellow_s=yellow, all_red_s=all_red,
                             min_green_s=min_green, max_green_s=max(timing.max_green_s, green),
                             min_yellow_s=min_yellow, min_all_red_s=min_all_red, walk_s=walk, ped_clearance_s=ped))
        except PlanError as exc:
            raise InputError(None, f"signal {signal.id}: programme {program_id} cannot be read", str(exc)) from None
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
