"""The analytic layer: Webster plans and an HCM / Akçelik evaluator, no simulation.

From 15-minute turning-movement counts this module derives design flows per
movement and per lane, lane saturation flows, and each stage's critical flow
ratio; on those it builds Webster plans (:func:`webster_plans`) and evaluates
any plan set in milliseconds (:class:`AnalyticEvaluator`, the same
``evaluate(plans, seeds) -> Metrics`` interface as the SUMO evaluator).  It is
a warm start and a sanity check for the simulation, not a replacement: it
sees one design hour and isolated junctions (no platoons, no spill-back).
Webster plans spread a movement evenly over the lanes it may use; the
evaluator lets drivers balance those lanes
(:func:`balanced_lane_movement_flows_veh_h`).

Conventions
-----------
* A *stage* is one :class:`~signalopt.plan.Phase` of a plan.  A vehicle lane
  is *green* in a stage when any of its links shows ``G`` or ``g`` there.
* Webster plans: lost time per stage is :func:`signalopt.webster.lost_time_s`
  with the HCM defaults (start-up loss 2 s, extension 2 s), i.e. yellow +
  all-red, as in Webster's cycle formula.
* Evaluator: lost time per stage with :data:`START_UP_LOST_S` and
  :data:`EXTENSION_S` (measured in SUMO), so a stage's effective green is its
  displayed green minus 1 s.
* Flows are hourly rates [veh/h] of the design period (:func:`design_flows_veh_h`).

References
----------
.. [HCM2000] Transportation Research Board, *Highway Capacity Manual 2000*,
   ch. 16: base saturation flow 1900 pc/h/ln (eq. 16-4) and the adjustment
   factors of Exhibit 16-7 (f_HV, f_a, f_LT = 0.95 and f_RT = 0.85 for
   exclusive lanes; f_LT = 1/(1 + 0.05 P_LT) for shared lanes).
.. [HCM6] Transportation Research Board, *Highway Capacity Manual, 6th ed.*,
   2016, ch. 19 (eq. 19-8, saturation flow; control delay; analysis period).
.. [Webster1958] F. V. Webster, *Traffic Signal Settings*, Road Research
   Technical Paper No. 39, HMSO, London, 1958.
.. [Akcelik1981] R. Akçelik, *Traffic Signals: Capacity and Timing Analysis*,
   ARR No. 123, Australian Road Research Board, 1981.
.. [SUMOcal] ``benchmarks/analytic_vs_sumo.py --discharge``: queue discharge
   on ``networks/isolated`` with SUMO's default car (Krauss, step 1 s), 6
   greens from 7 to 40 s, yellow 3 s; and lane use of the sweep's runs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .demand import MOVEMENT_DIRS, TurnCount
from ._alloc import round_preserving_sum, water_fill
from .errors import InputError, PlanError
from .metrics import ApproachMetrics, Metrics, RunMetrics
from .movements import MOVEMENT_ORDER, LaneGroup
from .network import Approach, Link, Network, Signal, lane_edge
from .plan import EPS_S, GREEN_CHARS, Phase, PlanSet, TimingPlan
from .programs import stage_requirements
from .scenario import Scenario
from .session import Session, scenario_of
from .options import TimingOptions
from .webster import (akcelik_back_of_queue_veh, hcm_incremental_delay_s, hcm_uniform_delay_s, lost_time_s,
                      webster_cycle_s, webster_delay_s)
from .prepare import load_network, scenario_counts, scenario_ped_counts, scenario_plans

__all__ = [
    "ANALYSIS_PERIOD_H",
    "BASE_SAT_FLOW_PC_H_LN",
    "EXTENSION_S",
    "HEAVY_VEHICLE_AREA_FACTOR",
    "JAM_SPACING_M",
    "LEFT_TURN_FACTOR",
    "MOVEMENT_FACTORS",
    "RIGHT_TURN_FACTOR",
    "START_UP_LOST_S",
    "AnalyticEvaluator",
    "balanced_lane_movement_flows_veh_h",
    "design_flows_veh_h",
    "lane_flows_veh_h",
    "lane_movement_flows_veh_h",
    "lane_sat_flows_veh_h",
    "sat_flow_veh_h",
    "lane_groups",
    "stage_flow_ratios",
    "webster_plans",
]

FlowKey = tuple[str, str, str]  # (signal_id, approach, movement)

#: Base saturation flow [pc/h/ln] ([HCM2000]_ eq. 16-4, [HCM6]_ eq. 19-8).
BASE_SAT_FLOW_PC_H_LN: float = 1900.0
#: Heavy vehicles and area type together [-]: f_HV ≈ 0.95 for ~5 % heavy
#: vehicles at E_T = 2 with f_a = 1 ([HCM2000]_ Exhibit 16-7); ≈ 1800 veh/h/ln.
HEAVY_VEHICLE_AREA_FACTOR: float = 0.95
#: Left-turn factor f_LT of an exclusive lane, protected phasing [-] ([HCM2000]_ Exhibit 16-7).
LEFT_TURN_FACTOR: float = 0.95
#: Right-turn factor f_RT of an exclusive lane [-] ([HCM2000]_ Exhibit 16-7).
RIGHT_TURN_FACTOR: float = 0.85
#: Turn factor per movement code; the HCM has none for U-turns, which are
#: treated as left turns (they are at least as slow).
MOVEMENT_FACTORS: Mapping[str, float] = {"T": 1.0, "L": LEFT_TURN_FACTOR, "R": RIGHT_TURN_FACTOR,
                                         "U": LEFT_TURN_FACTOR}
#: Analysis period of the HCM delay and the Akçelik overflow queue [h] ([HCM6]_: 15 min).
ANALYSIS_PERIOD_H: float = 0.25
#: Space one queued vehicle takes [m] (car length plus gap), to turn queues in veh into metres.
JAM_SPACING_M: float = 7.5
#: Start-up lost time l₁ of the evaluator [s]: the HCM default ([HCM6]_), which
#: SUMO reproduces (≈ 1.8 s: the first queued car crosses the stop line 2.7 s
#: into the green, the 5th and later ones 1.9 s apart) [SUMOcal]_.
START_UP_LOST_S: float = 2.0
#: Extension *e* of the effective green into the yellow in the evaluator [s].
#: SUMO's drivers stop on yellow whenever they can brake at their normal
#: deceleration, so about one car per lane uses the yellow: with the HCM
#: saturation flows, ``l₁ − e = 1 s`` reproduces SUMO's saturated discharge
#: per cycle within 4 % for greens of 7–40 s (through and left lanes; right
#: turns from 10 s on), where HCM's e = 2 s overestimates it by up to 17 %
#: (7-s green) [SUMOcal]_.  SUMO's own fit is s ≈ 1880 (through), 1730
#: (left), 1485 (right) veh/h with 1.3, 0.8, 0.1 s of green lost.
EXTENSION_S: float = 1.0

_DIR_MOVEMENT = {d: m for m, dirs in MOVEMENT_DIRS.items() for d in dirs}


# --------------------------------------------------------------------------- demand


def design_flows_veh_h(counts: Sequence[TurnCount], *, begin_s: float, end_s: float, interval_s: float = 900.0,
                       source: str | Path | None = None) -> dict[FlowKey, float]:
    """Hourly design flow of every counted movement.

    The design period is the peak hour: of the counting intervals that lie
    wholly inside ``[begin_s, end_s)``, the ``3600 / interval_s`` (4 for
    15-minute counts) consecutive ones with the highest total over the whole
    corridor (all signals together, so that every junction is timed for the
    same hour, as a coordinated corridor must be).  A movement's flow is its
    count summed over that hour.  With fewer intervals than an hour (or gaps
    that leave no complete hour) the mean hourly rate over all intervals is
    used instead.

    Parameters
    ----------
    counts
        Turning-movement counts (:func:`signalopt.demand.read_turn_counts`).
    begin_s, end_s
        Window the design period is chosen from [s of the day].
    interval_s
        Length of one counting interval [s].
    source
        Counts file, named in error messages.

    Returns
    -------
    dict
        ``(signal_id, approach, movement) -> flow`` [veh/h]; movements not
        counted in the design hour have flow 0.

    Raises
    ------
    InputError
        A non-positive ``interval_s``, or no count inside the window.

    Notes
    -----
    The hourly volume is used, not the HCM peak 15-minute flow rate (v / PHF):
    Webster's cycle and the steady-state delay formulas assume a demand that
    lasts, and the school peaks of the corridor last about an hour.  The
    15-minute surge is left to the simulation.

    References
    ----------
    [HCM6]_ ch. 19 (analysis period, peak hour).
    """
    if not (isinstance(interval_s, (int, float)) and math.isfinite(interval_s) and interval_s > 0):
        raise InputError(source, "interval_s must be a positive number of seconds", interval_s)
    inside = [c for c in counts if c.begin_s >= begin_s - EPS_S and c.begin_s + interval_s <= end_s + EPS_S]
    if not inside:
        raise InputError(source, f"no count interval inside the window [{begin_s:g}, {end_s:g}) s",
                         f"{len(counts)} rows")
    totals: dict[float, float] = defaultdict(float)
    for c in inside:
        totals[c.begin_s] += c.vehicles
    starts = sorted(totals)
    per_hour = max(1, round(3600.0 / interval_s))
    best: tuple[float, float] | None = None  # (corridor total, first start)
    for i in range(len(starts) - per_hour + 1):
        window = starts[i:i + per_hour]
        if abs(window[-1] - window[0] - (per_hour - 1) * interval_s) > 1e-6:
            continue  # a gap in the counts: not an hour of consecutive intervals
        total = sum(totals[t] for t in window)
        if best is None or total > best[0] + 1e-9:
            best = (total, window[0])
    if best is None:
        chosen, n_intervals = set(starts), len(starts)
    else:
        chosen = {t for t in starts if best[1] - EPS_S <= t < best[1] + per_hour * interval_s - EPS_S}
        n_intervals = per_hour
    scale = 3600.0 / (n_intervals * interval_s)
    flows: dict[FlowKey, float] = {}
    for c in inside:
        key = (c.signal_id, c.approach, c.movement)
        flows[key] = flows.get(key, 0.0) + (c.vehicles * scale if c.begin_s in chosen else 0.0)
    return flows


def _approach_of(signal: Signal, name: str, source: str | Path | None) -> Approach:
    approach = next((a for a in signal.approaches if name in (a.leg, a.id)), None)
    if approach is None:
        raise InputError(source, f"approach not at intersection {signal.id}",
                         f"{name}; has {', '.join(a.leg or a.id for a in signal.approaches)}")
    return approach


def _vehicle_links(signal: Signal) -> Iterator[Link]:
    return (link for link in signal.links if not link.is_crossing and link.from_lanes)


def lane_movement_flows_veh_h(network: Network, signal_id: str, flows: Mapping[FlowKey, float], *,
                              source: str | Path | None) -> dict[str, dict[str, float]]:
    """Flow of each movement on each lane of one signal.

    A movement's flow is spread evenly over the approach lanes that carry it:
    the ``from_lanes`` of the links of its approach whose SUMO direction is
    one of :data:`signalopt.demand.MOVEMENT_DIRS` ``[movement]``.

    Parameters
    ----------
    network
        The network.
    signal_id
        Signal whose flows are spread; keys of ``flows`` for other signals are ignored.
    flows
        ``(signal_id, approach, movement) -> flow`` [veh/h] (:func:`design_flows_veh_h`);
        ``approach`` is a compass leg or an incoming edge id.
    source
        Counts file, named in error messages.

    Returns
    -------
    dict
        ``lane_id -> {movement: flow}`` [veh/h], only lanes that carry a counted movement.

    Raises
    ------
    InputError
        An unknown signal or approach, or a movement the approach does not have.
    """
    signal = network.signal(signal_id, source=source)
    out: dict[str, dict[str, float]] = {}
    for (sid, approach_name, movement), flow in flows.items():
        if sid != signal_id:
            continue
        approach = _approach_of(signal, approach_name, source)
        dirs = MOVEMENT_DIRS.get(movement)
        if dirs is None:
            raise InputError(source, "movement must be one of L T R U", movement)
        lanes = sorted({lane for link in _vehicle_links(signal)
                        if link.approach == approach.id and link.direction in dirs for lane in link.from_lanes})
        if not lanes:
            raise InputError(source, f"movement not in the network at {signal_id} approach {approach_name}",
                             movement)
        for lane in lanes:
            per_lane = out.setdefault(lane, {})
            per_lane[movement] = per_lane.get(movement, 0.0) + flow / len(lanes)
    return out


def lane_flows_veh_h(network: Network, signal_id: str, flows: Mapping[FlowKey, float], *,
                     source: str | Path | None) -> dict[str, float]:
    """Flow per approach lane of one signal [veh/h]: the sum over the movements it carries.

    See :func:`lane_movement_flows_veh_h` for how a movement is spread over its lanes.
    """
    return {lane: float(sum(m.values()))
            for lane, m in lane_movement_flows_veh_h(network, signal_id, flows, source=source).items()}


# --------------------------------------------------------------------------- saturation flow


def sat_flow_veh_h(movement_shares: Mapping[str, float]) -> float:
    """Saturation flow of one lane from the mix of movements it carries.

    .. math:: s = \\frac{s_0\\, f_{HVa}}{\\sum_i p_i / f_i}

    with *s₀* = :data:`BASE_SAT_FLOW_PC_H_LN`, *f_HVa* =
    :data:`HEAVY_VEHICLE_AREA_FACTOR`, *pᵢ* the share of movement *i* and
    *fᵢ* its turn factor (:data:`MOVEMENT_FACTORS`).

    Parameters
    ----------
    movement_shares
        ``movement -> share`` (``T L R U``); shares or flows, normalised here.

    Returns
    -------
    float
        Saturation flow [veh/h of green per lane]: 1805 for an exclusive
        through lane, 1715 for an exclusive left, 1534 for an exclusive right.

    Raises
    ------
    PlanError
        An unknown movement, a negative or non-finite share, or shares summing to 0.

    Notes
    -----
    A shared lane mixes the movements by their discharge headways (a harmonic
    mean of the saturation flows): every vehicle takes the headway of its own
    movement.  For a shared left turn this is exactly the HCM 2000 factor
    f_LT = 1 / (1 + 0.05 P_LT); for a shared right turn it is within 1 % of
    HCM's linear f_RT = 1 − 0.15 P_RT.

    References
    ----------
    [HCM2000]_ eq. 16-4 and Exhibit 16-7; [HCM6]_ eq. 19-8.
    """
    unknown = sorted(set(movement_shares) - set(MOVEMENT_FACTORS))
    if unknown:
        raise PlanError(f"movement_shares: movement must be one of {' '.join(MOVEMENT_FACTORS)} ({unknown})")
    for m, p in movement_shares.items():
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not math.isfinite(p) or p < 0:
            raise PlanError(f"movement_shares: share of {m} must be a finite non-negative number ({p!r})")
    total = float(sum(movement_shares.values()))
    if total <= 0:
        raise PlanError(f"movement_shares: shares sum to 0 ({dict(movement_shares)})")
    headway = sum(p / total / MOVEMENT_FACTORS[m] for m, p in movement_shares.items())
    return BASE_SAT_FLOW_PC_H_LN * HEAVY_VEHICLE_AREA_FACTOR / headway


def lane_sat_flows_veh_h(signal: Signal,
                         lane_movement_flows: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, float]:
    """Saturation flow of every vehicle lane of a signal [veh/h].

    Parameters
    ----------
    signal
        The signal.
    lane_movement_flows
        ``lane -> {movement: flow}`` (:func:`lane_movement_flows_veh_h`).  A
        lane with flow is mixed by its flows; a lane without (or without this
        argument) by equal shares of the movements its links serve.

    Returns
    -------
    dict
        ``lane_id -> saturation flow`` [veh/h] (:func:`sat_flow_veh_h`).
    """
    served: dict[str, set[str]] = defaultdict(set)
    for link in _vehicle_links(signal):
        for lane in link.from_lanes:
            served[lane].add(_DIR_MOVEMENT.get(link.direction, "T"))
    out = {}
    for lane, movements in served.items():
        mix = dict((lane_movement_flows or {}).get(lane, {}))
        if sum(mix.values()) <= 0:
            mix = dict.fromkeys(movements, 1.0)
        out[lane] = sat_flow_veh_h(mix)
    return out


# --------------------------------------------------------------------------- lane choice


def _level_fill(amount: float, base: npt.NDArray[np.float64],
                weight: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``u >= 0`` with ``sum(u) = amount`` that makes ``(base + u) / weight`` equal where ``u > 0``.

    The lanes with the lowest ``base / weight`` are filled first, up to a common level.
    """
    ratio = base / weight
    order = np.argsort(ratio, kind="stable")
    u = np.zeros_like(base)
    acc_base, acc_weight, level = 0.0, 0.0, 0.0
    for k, i in enumerate(order):
        acc_base += base[i]
        acc_weight += weight[i]
        level = (amount + acc_base) / acc_weight
        if k + 1 == len(order) or level <= ratio[order[k + 1]]:
            break
    active = order[:k + 1]
    u[active] = np.maximum(level * weight[active] - base[active], 0.0)
    return u


def balanced_lane_movement_flows_veh_h(signal: Signal, lane_movement_flows: Mapping[str, Mapping[str, float]], *,
                                       effective_green_s: Mapping[str, float] | None = None,
                                       max_iter: int = 100) -> dict[str, dict[str, float]]:
    """Flow of each movement on each lane when drivers balance the lanes.

    A movement that may use several lanes of its approach is split among them
    so that the lanes it uses have equal degrees of saturation (none of its
    drivers can find a less saturated lane): the lane-group view of [HCM2000]_
    ch. 16, where a shared lane and the through lanes beside it are analysed
    as one group with one *X*.  In through-car equivalents (a vehicle of
    movement *m* counts 1/fₘ, :data:`MOVEMENT_FACTORS`) a lane's *X* is
    proportional to its load divided by its effective green, so the split
    minimises Σ load² / g, one movement at a time until nothing moves.

    Parameters
    ----------
    signal
        The signal.
    lane_movement_flows
        ``lane -> {movement: flow}`` [veh/h] (:func:`lane_movement_flows_veh_h`):
        the lanes listed with a movement are the lanes it may use; the
        movement's total on an approach is what is redistributed.
    effective_green_s
        ``lane -> effective green`` [s] of a plan; default equal greens.
        Lanes without green get no share of a movement that has green
        lanes; a movement with no green lane keeps its even spread.
    max_iter
        Sweeps over the movements (one suffices when no two shared
        movements share a lane).

    Returns
    -------
    dict
        ``lane -> {movement: flow}`` [veh/h], the same lanes and totals.

    Notes
    -----
    Measured in SUMO on ``networks/isolated`` (lane 0 through + right, lane 1
    through): the share of the through flow on the shared lane falls from
    0.47 at X ≈ 0.5 to 0.38–0.40 at X ≈ 0.95, where the equal-X split is
    0.38 and the even spread 0.5 [SUMOcal]_.  At low X drivers balance less,
    but there the delay hardly depends on the split.

    References
    ----------
    [HCM2000]_ ch. 16 (lane groups); [SUMOcal]_.
    """
    approach_of = {lane: link.approach for link in _vehicle_links(signal) for lane in link.from_lanes}
    out = {lane: {m: float(q) for m, q in mix.items()} for lane, mix in lane_movement_flows.items()}
    blocks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for lane in sorted(out):
        for m in out[lane]:
            blocks[(approach_of.get(lane, lane), m)].append(lane)
    shared = []
    for (_, m), lanes in sorted(blocks.items()):
        if len(lanes) < 2 or m not in MOVEMENT_FACTORS:
            continue
        green = np.asarray([(effective_green_s or {}).get(lane, 1.0) for lane in lanes], dtype=float)
        use = green > 0
        if not use.any() or sum(out[lane][m] for lane in lanes) <= 0:
            continue
        active = [lane for lane, ok in zip(lanes, use) if ok]
        for lane, ok in zip(lanes, use):  # a lane never green hands its share to one that is
            if not ok:
                out[active[0]][m] += out[lane][m]
                out[lane][m] = 0.0
        if len(active) > 1:
            shared.append((m, active, green[use]))
    if not shared:
        return out

    def load(lane: str) -> float:
        return sum(q / MOVEMENT_FACTORS.get(m, 1.0) for m, q in out[lane].items())

    total = sum(sum(mix.values()) for mix in out.values())
    for _ in range(max_iter):
        moved = 0.0
        for m, lanes, green in shared:
            f = MOVEMENT_FACTORS[m]
            own = np.asarray([out[lane][m] for lane in lanes])
            amount = float(own.sum())
            base = np.asarray([load(lane) for lane in lanes]) - own / f
            new = f * _level_fill(amount / f, np.maximum(base, 0.0), green)
            new *= amount / new.sum() if new.sum() > 0 else 0.0
            moved = max(moved, float(np.max(np.abs(new - own))))
            for lane, q in zip(lanes, new):
                out[lane][m] = float(q)
        if moved <= 1e-9 * max(total, 1.0):
            break
    return out


def _lane_groups(signal: Signal, lanes: Sequence[str],
                 lane_movement_flows: Mapping[str, Mapping[str, float]]) -> npt.NDArray[np.int64]:
    """Group index per lane: lanes joined (transitively) by a movement they share on one approach."""
    approach_of = {lane: link.approach for link in _vehicle_links(signal) for lane in link.from_lanes}
    index = {lane: i for i, lane in enumerate(lanes)}
    parent = list(range(len(lanes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for lane in lanes:
        for m in lane_movement_flows.get(lane, {}):
            key = (approach_of.get(lane, lane), m)
            if key in first:
                parent[find(index[lane])] = find(first[key])
            else:
                first[key] = index[lane]
    return np.asarray([find(i) for i in range(len(lanes))], dtype=np.int64)


def _green_lanes(signal: Signal, state: str) -> set[str]:
    return {lane for link in _vehicle_links(signal)
            if link.index < len(state) and state[link.index] in GREEN_CHARS for lane in link.from_lanes}


def stage_flow_ratios(signal: Signal, plan: TimingPlan, lane_flows: Mapping[str, float], *,
                      sat_flows_veh_h: Mapping[str, float] | None = None,
                      movement_flows: Mapping[str, Mapping[str, float]] | None = None) -> npt.NDArray[np.float64]:
    """Critical flow ratio of every stage of a plan.

    .. math:: y_k = \\max_{\\text{lanes green in stage } k} \\frac{q}{s}

    Parameters
    ----------
    signal
        The signal the plan runs.
    plan
        Its plan; stage *k* is ``plan.phases[k]``.
    lane_flows
        ``lane_id -> flow`` [veh/h] (:func:`lane_flows_veh_h`); missing lanes have no flow.
    sat_flows_veh_h
        ``lane_id -> saturation flow`` [veh/h]; default
        :func:`lane_sat_flows_veh_h` by the movements each lane serves.
    movement_flows
        ``lane_id -> {movement: flow}`` [veh/h] (:func:`lane_movement_flows_veh_h`):
        when given, a lane counts in a stage only with the flow of the
        movements green from it in that stage, so a shared left+through
        lane's through cars do not load a protected left-turn stage.

    Returns
    -------
    ndarray
        *y* per stage [-], in plan order; 0 for a stage that serves no flow.

    Notes
    -----
    A lane green in several stages counts (its served movements) fully in each, so *Y* = Σ yₖ
    over-estimates the critical sum for overlapping movements: conservative,
    the cycle comes out longer rather than shorter.  Permissive greens (``g``)
    count like protected ones; the opposing flow's effect on them is ignored.

    References
    ----------
    [Webster1958]_; [HCM6]_ ch. 19 (critical flow ratio).
    """
    if plan.n_links != signal.n_links:
        raise PlanError(f"signal {signal.id!r}: plan states have {plan.n_links} links, the network "
                        f"{signal.n_links} ({plan.phases[0].state})")
    sat = dict(sat_flows_veh_h) if sat_flows_veh_h is not None else lane_sat_flows_veh_h(signal)
    out = np.zeros(len(plan.phases))
    for k, phase in enumerate(plan.phases):
        ratios = []
        for lane in _green_lanes(signal, phase.state):
            q = lane_flows.get(lane, 0.0)
            if movement_flows is not None:
                dirs = {l.direction for l in _vehicle_links(signal)
                        if lane in l.from_lanes and phase.state[l.index] in GREEN_CHARS}
                q = sum(f for m, f in movement_flows.get(lane, {}).items() if dirs & set(MOVEMENT_DIRS[m]))
            ratios.append(q / sat[lane])
        out[k] = max(ratios, default=0.0)
    return out


# --------------------------------------------------------------------------- Webster plans


def _up_ds(x: float) -> int:
    """Seconds -> deciseconds, rounded up (a minimum must never be cut)."""
    return math.ceil(x * 10 - 1e-6)


def _down_ds(x: float) -> int:
    return math.floor(x * 10 + 1e-6)


def _webster_plan(signal: Signal, base: TimingPlan, y: npt.NDArray[np.float64],
                  timing: TimingOptions) -> TimingPlan:
    n = len(base.phases)
    reqs = [stage_requirements(signal, p.state, base.phases[(k + 1) % n].state, timing)
            for k, p in enumerate(base.phases)]
    yellow = [_up_ds(max(p.yellow_s, r.min_yellow_s)) for p, r in zip(base.phases, reqs)]
    all_red = [_up_ds(max(p.all_red_s, r.min_all_red_s)) for p, r in zip(base.phases, reqs)]
    min_green = [_up_ds(max(r.min_green_s, r.walk_s + r.ped_clearance_s if r.walk_s else 0.0)) for r in reqs]
    max_green = [max(_down_ds(min(p.max_green_s, timing.max_green_s)), lo) for p, lo in zip(base.phases, min_green)]
    change = [a + b for a, b in zip(yellow, all_red)]
    lost = float(np.sum(lost_time_s(yellow_s=np.asarray(yellow) / 10, all_red_s=np.asarray(all_red) / 10)))
    y_sum = float(y.sum())
    # Y >= 1: no cycle serves the demand, so run the longest one allowed
    cycle = (timing.max_cycle_s if y_sum >= 1.0 else
             webster_cycle_s(lost, y_sum, min_cycle_s=timing.min_cycle_s, max_cycle_s=timing.max_cycle_s))
    # whole seconds, as controllers and the plan encoding use; safety first: the
    # minimum splits win over max_cycle_s, and the maximum greens cap the cycle
    cycle_ds = 10 * round(cycle)
    cycle_ds = max(cycle_ds, 10 * math.ceil((sum(min_green) + sum(change)) / 10))
    cycle_ds = min(cycle_ds, sum(max_green) + sum(change))
    pool = cycle_ds - sum(change) - sum(min_green)
    room = np.asarray(max_green, dtype=float) - np.asarray(min_green, dtype=float)
    extra = water_fill(float(pool), np.asarray(y, dtype=float), room) if pool > 0 else np.zeros(n)
    greens = round_preserving_sum(np.asarray(min_green, dtype=float) + extra, cycle_ds - sum(change), step=1,
                                  caps=max_green).astype(int).tolist()
    phases = tuple(
        Phase(name=p.name, state=p.state, green_s=g / 10, yellow_s=yl / 10, all_red_s=ar / 10,
              min_green_s=r.min_green_s, max_green_s=hi / 10, min_yellow_s=r.min_yellow_s,
              min_all_red_s=r.min_all_red_s, walk_s=r.walk_s, ped_clearance_s=r.ped_clearance_s,
              change=p.change)
        for p, r, g, yl, ar, hi in zip(base.phases, reqs, greens, yellow, all_red, max_green)
    )
    cycle_s = cycle_ds / 10
    offset = round(base.offset_s % cycle_s, 1)
    if offset >= cycle_s - EPS_S:
        offset = 0.0
    return TimingPlan(signal.id, phases, offset_s=offset, ped_links=signal.ped_links, program_id="webster")


def webster_plans(network: Network, base: PlanSet, counts: Sequence[TurnCount], timing: TimingOptions, *,
                  begin_s: float, end_s: float, interval_s: float = 900.0,
                  source: str | Path | None = None) -> PlanSet:
    """Webster plans for every signal of ``base``: its stages, new cycle, splits and clearances.

    Per signal:

    1. stages, their order and link states are kept from ``base``;
    2. yellow and all-red are the larger of the base value and the minimum
       (ITE's, or the fixed standard) for the change to the actual next stage
       (:func:`signalopt.programs.stage_requirements`), rounded up to 0.1 s;
    3. lost time per stage by :func:`signalopt.webster.lost_time_s`, *y* per
       stage by :func:`stage_flow_ratios` on the peak-hour design flows
       (:func:`design_flows_veh_h`) with flow-mixed lane saturation flows,
       each lane counting only the movements the stage serves from it;
    4. cycle :func:`signalopt.webster.webster_cycle_s` clamped to
       ``[timing.min_cycle_s, timing.max_cycle_s]``, ``max_cycle_s`` when
       *Y* ≥ 1 (no cycle serves the demand, the longest gives the most
       capacity), rounded to whole seconds; then raised to the sum of the
       minimum splits (effective minimum green including walk + pedestrian
       clearance, rounded up to 0.1 s, + yellow + all-red; the cycle rounded
       up to a second) even above ``max_cycle_s`` (safety over the bound),
       and lowered to the sum of the maximum splits;
    5. greens: every stage gets its effective minimum, the rest of the green
       time is shared in proportion to *y* (equally when all *y* are 0),
       water-filling past stages whose ``max_green_s`` caps bind; rounded to
       0.1 s by largest remainder so the splits sum exactly to the cycle;
    6. offset: the base offset modulo the new cycle.

    Every phase carries the requirement minimums (``min_green_s``,
    ``min_yellow_s``, ``min_all_red_s``, ``walk_s``, ``ped_clearance_s``),
    so the plan is validated on construction.

    Parameters
    ----------
    network
        The network the plans run on.
    base
        Plans whose stages are kept (e.g. the existing plans).
    counts
        Turning-movement counts.
    timing
        Minimums and bounds.
    begin_s, end_s, interval_s
        Window for the design hour and counting interval [s].
    source
        Counts file, named in error messages.

    Returns
    -------
    PlanSet
        Named ``"webster"``, signals in ``base`` order.

    Raises
    ------
    InputError
        A signal, approach or movement the network lacks, or no counts in the window.

    Notes
    -----
    Sharing only the green above the minimums in proportion to *y* gives the
    stages held at a (pedestrian) minimum a little more than pure
    equisaturation would; it keeps every stage's share monotone in its *y*.

    References
    ----------
    [Webster1958]_; [HCM6]_ ch. 19.
    """
    flows = design_flows_veh_h(counts, begin_s=begin_s, end_s=end_s, interval_s=interval_s, source=source)
    for sid, _, _ in flows:
        network.signal(sid, source=source)
    plans = []
    for base_plan in base:
        signal = network.signal(base_plan.signal_id, source=source)
        if base_plan.n_links != signal.n_links:
            raise InputError(source, f"signal {signal.id}: plan states have {base_plan.n_links} links, the network "
                                     f"{signal.n_links}", base_plan.phases[0].state)
        movement_flows = lane_movement_flows_veh_h(network, signal.id, flows, source=source)
        lane_flows = {lane: sum(m.values()) for lane, m in movement_flows.items()}
        y = stage_flow_ratios(signal, base_plan, lane_flows,
                              sat_flows_veh_h=lane_sat_flows_veh_h(signal, movement_flows),
                              movement_flows=movement_flows)
        plans.append(_webster_plan(signal, base_plan, y, timing))
    return PlanSet(tuple(plans), name="webster")


# --------------------------------------------------------------------------- evaluator


@dataclass(frozen=True, eq=False)
class _SignalData:
    """Per-signal inputs of the evaluator that do not depend on the plan."""

    signal: Signal
    lanes: tuple[str, ...]
    flow_veh_h: npt.NDArray[np.float64]
    sat_flow_veh_h: npt.NDArray[np.float64]
    lane_links: tuple[frozenset[int], ...]
    movement_flows: Mapping[str, Mapping[str, float]]  # lane -> {movement: flow}, even spread
    groups: npt.NDArray[np.int64]  # lane group index per lane (lanes sharing a movement)


class AnalyticEvaluator:
    """Evaluate plan sets with Webster / HCM delay and Akçelik queues on the design-hour flows.

    The same interface as :class:`signalopt.evaluator.SumoEvaluator`
    (``evaluate(plans, seeds) -> Metrics``), in milliseconds.

    Parameters
    ----------
    scenario
        A scenario with turning-movement counts (``[demand] counts``), its TOML path, or a
        :class:`~signalopt.session.Session` (its network and existing plans are used).
    network
        The scenario's network if already read.

    Raises
    ------
    InputError
        A scenario without counts (naming the scenario file), or counts the
        network cannot carry.

    Notes
    -----
    Per approach lane, with its effective green *g* (green + yellow + all-red
    − lost time with :data:`START_UP_LOST_S` and :data:`EXTENSION_S`, i.e.
    green − 1 s, summed over the stages in which the lane is green), its
    design flow *q* (:func:`design_flows_veh_h`, split over the lanes a
    movement may use so that they reach equal *X*:
    :func:`balanced_lane_movement_flows_veh_h`) and its saturation flow *s*
    (:func:`sat_flow_veh_h` of the lane's movement mix):

    * ``delay_s``: per lane the smaller of Webster's steady-state delay
      (:func:`signalopt.webster.webster_delay_s`, random arrivals, with his
      empirical third term; infinite from X = 1 on) and the HCM control delay
      d1 + d2 (:func:`~signalopt.webster.hcm_uniform_delay_s`,
      :func:`~signalopt.webster.hcm_incremental_delay_s`; T =
      :data:`ANALYSIS_PERIOD_H`, k = 0.5, I = 1), which a demand lasting *T*
      cannot exceed and which stays finite above capacity.  Webster holds up
      to X ≈ 0.9, HCM beyond.  The random-arrival terms use the flow and
      capacity of the lane's lane group (the lanes joined by a movement they
      share), as HCM does.  Flow-weighted over all lanes of all signals: a
      delay per vehicle *per junction passed*, where SUMO gives one per trip.
      It is control delay: SUMO's time loss also holds what a car loses with
      no signal at all (≈ 4.5–5.5 s per trip on the isolated net).
      ``benchmarks/analytic_vs_sumo.py`` compares the two (figures in
      docs/benchmarks.md);
    * queues: Akçelik back of queue per lane (veh, × :data:`JAM_SPACING_M`
      for metres), the approach's the largest of its lanes; mean, 95th
      percentile and maximum per-cycle queue are all this one value;
    * ``stops_per_veh``: proportion of vehicles stopped with uniform arrivals,
      (1 − g/C) / (1 − q/s), 1 at or above saturation ([Akcelik1981]_ without
      the 0.9 partial-stop factor), flow-weighted;
    * ``ped_wait_s``: (C − w)² / (2C) per crossing, the mean wait of
      pedestrians arriving uniformly over a cycle whose walk lasts *w*
      (green − pedestrian clearance, summed over the stages with a walk for
      it), averaged over the crossings of the evaluated signals (0 without
      crossings);
    * ``throughput_veh`` and ``n_vehicles``: the design flow entering the
      network (movements counted on approaches no other counted signal
      feeds, so that a vehicle crossing several junctions counts once) over
      the measured part of the run (after warm-up);
    * ``n_pedestrians``: pedestrians counted in the measured part of the run,
      if the scenario has pedestrian counts; ``not_inserted = teleports = 0``.

    A lane with demand that is green in no stage has infinite delay and a
    queue of all its arrivals in the analysis period.  The model is
    deterministic: every seed gets the same :class:`~signalopt.metrics.RunMetrics`.
    """

    controller = "static"

    def __init__(self, scenario: Scenario | str | Path | Session, *, network: Network | None = None) -> None:
        self._existing: PlanSet | None = None
        if isinstance(scenario, Session):
            network, self._existing = scenario.network, scenario.existing
        scenario = scenario_of(scenario)
        self.scenario = scenario
        if scenario.counts_path is None:
            raise InputError(scenario.path, "the analytic evaluator needs turning-movement counts "
                                            "([demand] counts)", scenario.name)
        self.network = network or load_network(scenario)
        source = scenario.counts_path
        self.flows_veh_h = design_flows_veh_h(scenario_counts(scenario), begin_s=scenario.begin_s,
                                              end_s=scenario.end_s, interval_s=scenario.interval_s, source=source)
        for sid, _, _ in self.flows_veh_h:
            self.network.signal(sid, source=source)
        self._data: dict[str, _SignalData] = {}
        self._movement_flows: dict[str, dict[str, dict[str, float]]] = {}
        for signal in self.network.signals:
            movement_flows = lane_movement_flows_veh_h(self.network, signal.id, self.flows_veh_h, source=source)
            self._movement_flows[signal.id] = movement_flows
            sat = lane_sat_flows_veh_h(signal, movement_flows)
            lanes = tuple(sorted(sat))
            links = tuple(frozenset(l.index for l in _vehicle_links(signal) if lane in l.from_lanes) for lane in lanes)
            q = np.asarray([sum(movement_flows.get(lane, {}).values()) for lane in lanes], dtype=float)
            self._data[signal.id] = _SignalData(signal, lanes, q, np.asarray([sat[l] for l in lanes]), links,
                                                movement_flows, _lane_groups(signal, lanes, movement_flows))
        self.entering_flow_veh_h = self._entering_flow()
        self._peds = 0
        if scenario.pedestrians_path is not None:
            start = scenario.begin_s + scenario.warmup_s
            self._peds = int(round(sum(p.pedestrians for p in scenario_ped_counts(scenario)
                                       if start - EPS_S <= p.begin_s < scenario.end_s)))

    def _entering_flow(self) -> float:
        counted = {sid for sid, _, _ in self.flows_veh_h}
        fed: dict[str, set[str]] = defaultdict(set)  # edge -> signals whose links lead onto it
        for signal in self.network.signals:
            if signal.id in counted:
                for link in _vehicle_links(signal):
                    for lane in link.to_lanes:
                        fed[lane_edge(lane)].add(signal.id)
        total = 0.0
        for (sid, approach_name, _), flow in self.flows_veh_h.items():
            approach = _approach_of(self.network.signal(sid), approach_name, self.scenario.counts_path)
            if not any(fed[e] - {sid} for e in approach.edges):
                total += flow
        return total

    def existing_plans(self) -> PlanSet:
        """The scenario's existing plans (plan file, else the network's programmes)."""
        if self._existing is None:
            self._existing = scenario_plans(self.scenario, self.network)[0]
        return self._existing

    def webster_plans(self, base: PlanSet | None = None) -> PlanSet:
        """:func:`webster_plans` on this scenario's counts, from ``base`` (default the existing plans)."""
        return webster_plans(self.network, base if base is not None else self.existing_plans(),
                             scenario_counts(self.scenario), self.scenario.timing,
                             begin_s=self.scenario.begin_s, end_s=self.scenario.end_s,
                             interval_s=self.scenario.interval_s, source=self.scenario.counts_path)

    def stage_flow_ratios(self, plan: TimingPlan) -> npt.NDArray[np.float64]:
        """Critical flow ratio *y* of each stage of ``plan`` on the design flows, by served movement [-]."""
        signal = self.network.signal(plan.signal_id, source=self.scenario.path)
        movement_flows = self._movement_flows[signal.id]
        return stage_flow_ratios(signal, plan, {lane: sum(m.values()) for lane, m in movement_flows.items()},
                                 sat_flows_veh_h=lane_sat_flows_veh_h(signal, movement_flows),
                                 movement_flows=movement_flows)

    def through_flow_veh_h(self, signal_id: str, approach_id: str) -> float:
        """Design flow of the through movement of one approach [veh/h] (0 where not counted)."""
        signal = self.network.signal(signal_id, source=self.scenario.path)
        lanes = next((a.lanes for a in signal.approaches if a.id == approach_id), ())
        return float(sum(self._movement_flows[signal_id].get(lane, {}).get("T", 0.0) for lane in lanes))

    def evaluate(self, plans: PlanSet | None, seeds: Sequence[int]) -> Metrics:
        """Evaluate ``plans`` (signals it lacks keep their existing plan; ``None``: all existing).

        Parameters
        ----------
        plans
            Plans to evaluate.
        seeds
            Seeds; each gets one (identical) run so the result lines up with SUMO's.

        Returns
        -------
        Metrics
            One :class:`~signalopt.metrics.RunMetrics` per seed.

        Raises
        ------
        InputError
            No seeds, or a plan for a signal the network lacks or of the wrong size.
        """
        if not seeds:
            raise InputError("--seeds", "at least one seed is needed", list(seeds))
        existing = self.existing_plans()
        full = existing if plans is None else existing.replace_plans(plans.plans, name=plans.name)
        run, max_x = self._run(full)
        runs = tuple(replace(run, seed=int(s)) for s in seeds)
        return Metrics(self.scenario.name, full.name if plans is not None else "network", self.controller, runs,
                       extra={"evaluator": "analytic", "design_flow_veh_h": self.entering_flow_veh_h,
                              "max_degree_of_saturation": max_x})

    def _run(self, plans: PlanSet) -> tuple[RunMetrics, dict[str, float]]:
        source = self.scenario.path
        window_s = self.scenario.end_s - self.scenario.begin_s - self.scenario.warmup_s
        q_all, d_all, h_all, approaches, ped_waits = [], [], [], [], []
        max_x: dict[str, float] = {}
        for plan in plans:
            signal = self.network.signal(plan.signal_id, source=source)
            if plan.n_links != signal.n_links:
                raise InputError(source, f"signal {signal.id}: plan states have {plan.n_links} links, the network "
                                         f"{signal.n_links}", plan.phases[0].state)
            data = self._data[signal.id]
            lane_q, lane_m, delay, stops, x = _lane_figures(data, plan)
            q_all.append(lane_q)
            d_all.append(delay)
            h_all.append(stops)
            max_x[signal.id] = float(np.max(x, initial=0.0))
            by_lane = dict(zip(data.lanes, lane_m.tolist()))
            n_cycles = int(window_s // plan.cycle_s)
            for a in signal.approaches:
                q_m = max((by_lane.get(lane, 0.0) for lane in a.lanes), default=0.0)
                q_v = q_m / JAM_SPACING_M
                approaches.append(ApproachMetrics(a.id, a.label, signal.id, q_m, q_m, q_m, q_v, q_v, q_v, n_cycles))
            ped_waits.extend(_ped_waits_s(signal, plan))
        q = np.concatenate(q_all) if q_all else np.zeros(0)
        d = np.concatenate(d_all) if d_all else np.zeros(0)
        h = np.concatenate(h_all) if h_all else np.zeros(0)
        total_q = float(q.sum())
        served = q > 0  # lanes without flow carry no weight (and may have inf delay only with flow)
        mean_delay = float(np.sum(q[served] * d[served]) / total_q) if total_q > 0 else 0.0
        mean_stops = float(np.sum(q[served] * h[served]) / total_q) if total_q > 0 else 0.0
        n_veh = int(round(self.entering_flow_veh_h * window_s / 3600.0))
        return RunMetrics(
            seed=0,
            delay_s=mean_delay,
            mean_max_queue_m=float(np.mean([a.mean_max_queue_m for a in approaches])) if approaches else 0.0,
            p95_max_queue_m=float(np.mean([a.p95_max_queue_m for a in approaches])) if approaches else 0.0,
            max_queue_m=float(max((a.max_queue_m for a in approaches), default=0.0)),
            not_inserted=0,
            throughput_veh=n_veh,
            n_vehicles=n_veh,
            stops_per_veh=mean_stops,
            ped_wait_s=float(np.mean(ped_waits)) if ped_waits else 0.0,
            n_pedestrians=self._peds,
            teleports=0,
            approaches=tuple(approaches),
        ), max_x

    def close(self) -> None:
        """Nothing to release; present for parity with the SUMO evaluator."""

    def __enter__(self) -> AnalyticEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lane_figures(data: _SignalData, plan: TimingPlan) -> tuple[npt.NDArray[np.float64], ...]:
    """Per lane: flow [veh/h], back of queue [m], control delay [s/veh], stops [-/veh], degree of saturation [-]."""
    cycle = plan.cycle_s
    lost = lost_time_s(yellow_s=np.asarray([p.yellow_s for p in plan.phases]),
                       all_red_s=np.asarray([p.all_red_s for p in plan.phases]),
                       start_up_lost_s=START_UP_LOST_S, extension_s=EXTENSION_S)
    effective = np.maximum(np.asarray([p.split_s for p in plan.phases]) - lost, 0.0)
    greens = [p.green_links for p in plan.phases]
    g = np.asarray([sum(e for e, green in zip(effective, greens) if links & green) for links in data.lane_links])
    g = np.minimum(g, cycle)
    mix = balanced_lane_movement_flows_veh_h(data.signal, data.movement_flows,
                                             effective_green_s=dict(zip(data.lanes, g.tolist())))
    q = np.asarray([sum(mix.get(lane, {}).values()) for lane in data.lanes], dtype=float)
    s = np.asarray([sat_flow_veh_h(mix[lane]) if qi > 0 else si
                    for lane, qi, si in zip(data.lanes, q, data.sat_flow_veh_h)], dtype=float)
    n = len(data.lanes)
    queue_veh, delay, stops, x = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    ok = g > 0
    if ok.any():
        kw = {"effective_green_s": g[ok], "cycle_s": cycle}
        x[ok] = q[ok] * cycle / (s[ok] * g[ok])
        # random-arrival terms at the capacity of the lane group: drivers who balance their
        # lanes pool the randomness of the arrivals, as HCM's lane-group capacity assumes
        cap = np.bincount(data.groups[ok], weights=s[ok] * g[ok] / cycle, minlength=n)[data.groups[ok]]
        d1 = hcm_uniform_delay_s(cycle_s=cycle, effective_green_s=g[ok], degree_of_saturation=x[ok])
        d2 = hcm_incremental_delay_s(degree_of_saturation=x[ok], capacity_veh_h=cap,
                                     analysis_period_h=ANALYSIS_PERIOD_H)
        # Webster's steady state at the lane's X with the group's flow (inf from X = 1 on)
        steady = webster_delay_s(x[ok] * cap, cap * cycle / g[ok], **kw)
        delay[ok] = np.minimum(steady, np.asarray(d1) + np.asarray(d2))
        queue_veh[ok] = akcelik_back_of_queue_veh(q[ok], s[ok], analysis_period_h=ANALYSIS_PERIOD_H, **kw)
        u, y = g[ok] / cycle, q[ok] / s[ok]
        with np.errstate(divide="ignore", invalid="ignore"):
            stops[ok] = np.where(y < u, np.minimum(1.0, (1.0 - u) / (1.0 - y)), 1.0)
    never = ~ok & (q > 0)
    # a lane never green cannot discharge: every arrival of the period queues, none is served
    delay[never] = math.inf
    queue_veh[never] = q[never] * ANALYSIS_PERIOD_H
    stops[never] = 1.0
    x[never] = math.inf
    return q, queue_veh * JAM_SPACING_M, delay, stops, x


def _ped_waits_s(signal: Signal, plan: TimingPlan) -> list[float]:
    """Mean wait per crossing [s]: uniform arrivals, (C − walk)² / (2C)."""
    cycle = plan.cycle_s
    out = []
    for k in sorted(signal.ped_links):
        walk = sum(p.green_s - p.ped_clearance_s for p in plan.phases
                   if p.serves_pedestrians and p.state[k] in GREEN_CHARS)
        red = min(max(cycle - walk, 0.0), cycle)
        out.append(red * red / (2.0 * cycle))
    return out


# --------------------------------------------------------------------------- lane groups


def lane_groups(network: Network, signal_ids: Sequence[str]) -> tuple[LaneGroup, ...]:
    """Every lane group (HCM: the lanes of an approach serving the same movements) of the given signals,
    in signal and approach order, with its saturation flow (:func:`lane_sat_flows_veh_h`)."""
    out = []
    for sid in signal_ids:
        signal = network.signal(sid)
        sat = lane_sat_flows_veh_h(signal)
        for a in signal.approaches:
            served: dict[str, set[str]] = {}
            links: dict[str, set[int]] = {}
            for link in signal.links:
                if link.is_crossing or link.approach != a.id:
                    continue
                for lane in link.from_lanes:
                    if lane in a.lanes:
                        served.setdefault(lane, set()).add(_DIR_MOVEMENT.get(link.direction, "T"))
                        links.setdefault(lane, set()).add(link.index)
            groups: dict[str, list[str]] = {}
            for lane in a.lanes:
                if lane in served:
                    groups.setdefault("".join(sorted(served[lane], key=MOVEMENT_ORDER.index)), []).append(lane)
            for movement, lanes in sorted(groups.items(), key=lambda kv: MOVEMENT_ORDER.index(kv[0][0])):
                out.append(LaneGroup(
                    f"{a.id}|{movement}", sid, a.id, f"{a.label} {movement}", movement, tuple(lanes),
                    tuple(sorted({i for lane in lanes for i in links[lane]})),
                    (a.length_m,) * len(lanes), a.speed_m_s,
                    float(sum(sat.get(lane, 0.0) for lane in lanes))))
    return tuple(out)
