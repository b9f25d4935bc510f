"""Extension detectors placed by signalopt, and actuated plans built over a network's lanes.

SUMO places an actuated controller's detectors itself (``detector-gap``
seconds of travel upstream on every lane); a controller engineer places them
at a distance from the stop line and sets a passage time per phase.  Here the
detectors are signalopt's: one induction loop per incoming vehicle lane at
``distance_m`` before its stop line (moved to the lane's start, and the
distance recorded as placed, where the lane is shorter: a short turn bay),
each extending the first stage in which the lane's links get green.
"""

from __future__ import annotations

from collections.abc import Sequence

from .actuated import Actuation, Detector, StageActuation
from .errors import PlanError
from .network import Signal
from .plan import GREEN_CHARS, GREEN_RANK, TimingPlan

#: A detector stays this far inside its lane [m] (SUMO refuses a loop at the lane's very end or start).
LANE_MARGIN_M = 0.5


def detector_id(signal_id: str, lane: str) -> str:
    """Id of signalopt's extension detector on ``lane`` (the same in every SUMO programme that uses it)."""
    return f"so_ext|{signal_id}|{lane}"


def call_lanes(signal: Signal, ending_state: str, next_state: str) -> frozenset[str]:
    """The vehicle lanes whose vehicles call a stage showing ``next_state`` when one showing ``ending_state``
    ends: those with a link the next stage gives a stronger green (none to permissive or protected, permissive
    to protected; a lagging protected left is called by the left turners still waiting at the end of the
    permissive green)."""
    return frozenset(lane for k, link in enumerate(signal.links) if not link.is_crossing
                     and GREEN_RANK.get(next_state[k], 0) > GREEN_RANK.get(ending_state[k], 0)
                     for lane in link.from_lanes)


def call_detector_id(signal_id: str, lane: str) -> str:
    """Id of signalopt's call detector on ``lane``: a lane-area detector from the stop line back to the
    extension detector, whose vehicles call a stage that is skipped without a call."""
    return f"so_call|{signal_id}|{lane}"


def lane_lengths_m(signal: Signal) -> dict[str, float]:
    """Length of each incoming lane of ``signal`` that cars use [m] (its approach edge's length).

    The approaches list the lanes that allow passenger cars: bicycle and bus lanes get no extension detector.
    """
    return {lane: a.length_m for a in signal.approaches for lane in a.lanes}


def loop_position_m(length_m: float, distance_m: float) -> float:
    """Position [m from the lane's start] of a loop ``distance_m`` before the stop line of a lane ``length_m``
    long, kept :data:`LANE_MARGIN_M` inside the lane (at its start when the lane is shorter)."""
    return min(max(LANE_MARGIN_M, length_m - distance_m), length_m - LANE_MARGIN_M)


def place_detectors(plan: TimingPlan, signal: Signal, *, distance_m: float) -> tuple[Detector, ...]:
    """One extension detector per incoming vehicle lane, ``distance_m`` before the stop line.

    A lane whose links never get green in ``plan`` has nothing to extend and gets no detector.
    """
    lengths = lane_lengths_m(signal)
    first_green: dict[str, int] = {}
    for i, ph in enumerate(plan.phases):
        for k, c in enumerate(ph.state):
            link = signal.links[k]
            if c in GREEN_CHARS and not link.is_crossing:
                for lane in link.from_lanes:
                    first_green.setdefault(lane, i)
    out = []
    for lane in sorted(lengths):
        if lane not in first_green:
            continue  # a lane the plan never serves (right on red, a closed lane) has no green to extend
        length = lengths[lane]
        pos = loop_position_m(length, distance_m)
        out.append(Detector(lane, round(length - pos, 3), round(pos, 3), first_green[lane]))
    return tuple(out)


def actuated_plan(plan: TimingPlan, signal: Signal, *, min_greens_s: Sequence[float] | None = None,
                  max_greens_s: Sequence[float], passages_s: Sequence[float], distance_m: float,
                  recalls: Sequence[str] | None = None, mode: str = "free") -> TimingPlan:
    """``plan`` with actuated settings per stage and detectors on ``signal``'s lanes.

    ``min_greens_s`` defaults to each stage's minimum (vehicle and pedestrian),
    ``recalls`` to ``min``.
    """
    n = len(plan.phases)
    mins = list(min_greens_s) if min_greens_s is not None else [p.effective_min_green_s for p in plan.phases]
    recalls = list(recalls) if recalls is not None else ["min"] * n
    if not len(mins) == len(max_greens_s) == len(passages_s) == len(recalls) == n:
        raise PlanError(f"signal {plan.signal_id}: actuated settings for {len(max_greens_s)} stages, the plan has {n}")
    stages = tuple(StageActuation(lo, hi, gap, rec) for lo, hi, gap, rec in zip(mins, max_greens_s, passages_s,
                                                                             recalls))
    return TimingPlan(plan.signal_id, plan.phases, offset_s=plan.offset_s, ped_links=plan.ped_links,
                      program_id=plan.program_id,
                      actuation=Actuation(stages, place_detectors(plan, signal, distance_m=distance_m), mode))
