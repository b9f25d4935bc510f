"""Coordinated starting plans: a common cycle, equisaturation greens, green-wave offsets.

Per-signal Webster plans are a poor start for a corridor: each junction gets
its own cycle, the common cycle of the encoding then takes the longest one,
and no offset lets a platoon through.  The traffic engineer's first draft is
different (TRANSYT, Synchro and the classic time-space method all begin
there): one cycle for the whole corridor, picked for the corridor's delay and
queue or set by its critical junction; at each junction greens that share the cycle in proportion to the
critical flow ratios without going below any minimum; offsets that start
each downstream through green when the platoon from upstream arrives, in the
heavier direction first.

Layers: :func:`min_equisaturation_greens_s` and :func:`progression_offsets_s`
are pure; :func:`progression_links` reads the network records;
:func:`coordinated_plans` picks the cycles with a score it is given (the
optimiser passes the analytic evaluator's, :func:`signalopt.optimiser.coordinated_starts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .errors import PlanError
from .network import Approach, Network, Signal, lane_edge
from .plan import GREEN_CHARS, PlanSet, TimingPlan
from .programs import ceil_tenth
from ._alloc import round_preserving_sum

#: Step of the common-cycle scan [s].
CYCLE_STEP_S = 2
#: Degree of saturation the critical junction may reach at the longest common cycle offered [-]
#: (the lower end of HCM's practical range 0.85-0.95).
TARGET_X = 0.85
#: Longer common cycles offered between the best-scored one and the critical junction's [-].
LADDER_RUNGS = 4
#: Acceleration of the platoon leader from the upstream stop line [m/s²] (SUMO's default for passenger cars).
ACCEL_M_S2 = 2.6


@dataclass(frozen=True)
class ProgressionLink:
    """A through movement from one signal straight onto an approach of the next.

    Parameters
    ----------
    upstream, downstream
        Signal ids.
    upstream_link, downstream_link
        Link index of the through movement at each: the platoon leaves on the
        first and is served by the second.
    distance_m
        Stop line to stop line [m].
    speed_m_s
        Speed limit of the downstream approach [m/s].
    """

    upstream: str
    downstream: str
    upstream_link: int
    downstream_link: int
    distance_m: float
    speed_m_s: float

    def travel_time_s(self, *, speed_factor: float = 1.0, accel_m_s2: float | None = ACCEL_M_S2) -> float:
        """Stop line to stop line for a platoon leader that starts from rest [s].

        Cruising at ``speed_factor`` times the speed limit *v*, after
        accelerating at *a*: ``d / v + v / (2 a)`` (the second term is the
        time lost to the start; none with ``accel_m_s2=None``).
        """
        v = speed_factor * self.speed_m_s
        lost = v / (2.0 * accel_m_s2) if accel_m_s2 else 0.0
        return self.distance_m / v + lost


def min_equisaturation_greens_s(available_s: float, flow_ratios: npt.ArrayLike, min_green_s: npt.ArrayLike,
                                max_green_s: npt.ArrayLike | None = None) -> npt.NDArray[np.float64]:
    """Greens proportional to the flow ratios, none below its minimum nor above its maximum.

    ``g_i = clip(λ y_i, min_i, max_i)`` with λ such that ``Σ g_i`` equals
    ``available_s``: the stages held at a minimum get exactly it, the others
    share the rest at one degree of saturation (Webster's equisaturation
    among the stages that are free to move).

    Parameters
    ----------
    available_s
        Cycle minus yellow and all-red [s]; at least the sum of the minimums.
    flow_ratios
        Critical flow ratio *y* per stage [-].
    min_green_s, max_green_s
        Bounds per stage [s] (no maximum by default).

    Returns
    -------
    ndarray
        Green per stage [s].

    Raises
    ------
    PlanError
        When the minimums exceed ``available_s`` or the maximums fall short of it.

    References
    ----------
    [Webster1958]_.
    """
    y = np.asarray(flow_ratios, dtype=float)
    lo = np.asarray(min_green_s, dtype=float)
    hi = np.full_like(lo, np.inf) if max_green_s is None else np.asarray(max_green_s, dtype=float)
    if lo.sum() > available_s + 1e-9:
        raise PlanError(f"minimum greens need {lo.sum():.1f} s, more than the {available_s:.1f} s available")
    if hi.sum() < available_s - 1e-9:
        raise PlanError(f"maximum greens give {hi.sum():.1f} s, less than the {available_s:.1f} s available")
    if y.sum() <= 0:
        y = np.ones_like(lo)
    y = np.maximum(y, 1e-9)

    def total(lam: float) -> float:
        return float(np.clip(lam * y, lo, hi).sum())

    a, b = 0.0, 1.0
    while total(b) < available_s:
        b *= 2.0
    for _ in range(100):  # bisection: total() is monotone in λ
        mid = 0.5 * (a + b)
        a, b = (mid, b) if total(mid) < available_s else (a, mid)
    g = np.clip(b * y, lo, hi)
    # put the bisection's residue on the stages that are free to move
    free = (g > lo + 1e-9) & (g < hi - 1e-9)
    if free.any():
        g[free] += (available_s - g.sum()) * g[free] / g[free].sum()
    return g


def _first_green_start_s(plan: TimingPlan, link: int) -> float | None:
    """Start of the green of ``link`` within the cycle (from the first stage's green), None if never green."""
    starts = plan.phase_starts_s()
    green = [p.state[link] in GREEN_CHARS for p in plan.phases]
    if not any(green):
        return None
    n = len(green)
    for k in range(n):
        if green[k] and not green[k - 1]:
            return starts[k]
    return starts[0]  # green all cycle


def progression_offsets_s(plans: Mapping[str, TimingPlan], links: Sequence[ProgressionLink], *,
                          speed_factor: float = 1.0, accel_m_s2: float | None = ACCEL_M_S2) -> dict[str, float]:
    """Offsets for a green wave along ``links``, taken in the order given.

    A link whose upstream signal already has an offset fixes its downstream
    signal's: the downstream through green starts when the platoon that
    left at the start of the upstream through green arrives,
    ``offset_B = offset_A + start_A + t_AB − start_B (mod C)`` with the
    travel time ``t_AB`` of :meth:`ProgressionLink.travel_time_s`.  Signals
    reached by no link keep offset 0 relative to the first; a link whose
    both ends are already fixed is skipped, so earlier links (the heavier
    direction) win.  Assumes one common cycle.

    Parameters
    ----------
    plans
        ``signal id -> plan`` (the cycle and stage starts are read from it).
    links
        Progression links in priority order.
    speed_factor, accel_m_s2
        Progression speed as a share of the speed limit [-] and the start's
        acceleration [m/s²] (see :meth:`ProgressionLink.travel_time_s`).

    Returns
    -------
    dict
        ``signal id -> offset`` [s] in ``[0, cycle)``.
    """
    offsets: dict[str, float] = {}
    remaining = [l for l in links if l.upstream in plans and l.downstream in plans]
    while remaining:
        # the first link (in priority order) that extends the signals already timed
        link = next((l for l in remaining if (l.upstream in offsets) != (l.downstream in offsets)), None)
        if link is None:
            remaining = [l for l in remaining if not (l.upstream in offsets and l.downstream in offsets)]
            if not remaining:
                break
            link = remaining[0]  # a group of signals no timed one reaches: start it afresh
            offsets[link.upstream] = 0.0
        remaining.remove(link)
        up, down = link.upstream, link.downstream
        start_up = _first_green_start_s(plans[up], link.upstream_link)
        start_down = _first_green_start_s(plans[down], link.downstream_link)
        if start_up is None or start_down is None:
            continue
        travel = link.travel_time_s(speed_factor=speed_factor, accel_m_s2=accel_m_s2)
        if up in offsets:
            offsets[down] = (offsets[up] + start_up + travel - start_down) % plans[down].cycle_s
        else:
            offsets[up] = (offsets[down] + start_down - travel - start_up) % plans[up].cycle_s
    return {sid: round(offsets.get(sid, 0.0), 1) % plans[sid].cycle_s for sid in plans}


def progression_links(network: Network, signal_ids: Sequence[str] | None = None) -> tuple[ProgressionLink, ...]:
    """Through movements that run from one signal straight onto an approach of another.

    An approach counts as fed by a link when the link's outgoing lane is on
    the approach's edge or on the edge upstream of its turn bays; signals
    with an unsignalised junction between them are not linked.
    """
    ids = set(signal_ids) if signal_ids is not None else {s.id for s in network.signals}
    signals = [s for s in network.signals if s.id in ids]
    feeds: dict[str, tuple[Signal, Approach]] = {edge: (s, a) for s in signals for a in s.approaches
                                                 for edge in a.edges}
    out = []
    for s in signals:
        for link in s.links:
            if link.direction != "s" or link.is_crossing:
                continue
            edges = {lane_edge(lane) for lane in link.to_lanes}
            hit = next((feeds[e] for e in sorted(edges) if e in feeds and feeds[e][0].id != s.id), None)
            if hit is None:
                continue
            down, approach = hit
            through = [l for l in down.links if l.approach == approach.id and l.direction == "s"]
            if not through:
                continue
            distance = link.length_m + approach.length_m + approach.upstream_length_m
            out.append(ProgressionLink(s.id, down.id, link.index, through[0].index, distance, approach.speed_m_s))
    # one link per (upstream, downstream) pair: the through lanes of an approach move together
    unique: dict[tuple[str, str], ProgressionLink] = {}
    for l in out:
        unique.setdefault((l.upstream, l.downstream), l)
    return tuple(unique.values())


def coordinated_plans(base: PlanSet, *, cycle_range_s: tuple[float, float], flow_ratios: Callable[[TimingPlan],
                      npt.NDArray[np.float64]], decode_at: Callable[[float], PlanSet],
                      score: Callable[[PlanSet], float], links: Sequence[ProgressionLink],
                      link_weights: Mapping[tuple[str, str], float], speed_factor: float = 1.0,
                      accel_m_s2: float | None = ACCEL_M_S2,
                      target_x: float = TARGET_X, rungs: int = LADDER_RUNGS) -> list[PlanSet]:
    """Coordinated plan sets: both waves at the common cycle ``score`` likes best, one wave at longer cycles.

    Parameters
    ----------
    base
        The stages to keep (the existing plans).
    cycle_range_s
        Lowest and highest common cycle to scan [s].
    flow_ratios
        Critical flow ratio per stage of a plan [-].
    decode_at
        A feasible plan set at a given common cycle (the encoding's
        clearances, minimums and stage order); its greens are re-shared.
    score
        Lower is better (e.g. the analytic evaluator's queue).
    links, link_weights
        Progression links and their flows [veh/h]: the heaviest set the
        first wave, the lightest the second.
    speed_factor, accel_m_s2
        Progression speed as a share of the speed limit [-], acceleration
        of the start [m/s²] (:meth:`ProgressionLink.travel_time_s`).
    target_x, rungs
        The critical junction's cycle is the shortest scanned one at which
        every stage of every junction has ``y C / g <= target_x`` [-] (the
        classic rule that the critical junction sets a coordinated
        system's cycle; HCM's practical range 0.85–0.95), or the longest
        scanned if none does.  ``rungs`` cycles [-], evenly spaced above
        the best one up to and including that one, get a heavier-direction
        wave too.  The analytic model's best cycle is usually too short: it
        weighs all approaches alike and knows nothing of how random
        arrivals pile up at the one junction with no spare green.  Where
        between the two a corridor does best depends on how the waves meet
        the cross traffic, which no analytic score here sees; the
        simulations choose.

    Returns
    -------
    list of PlanSet
        ``[heavier-direction wave, other-direction wave]`` at the best
        cycle, then the heavier-direction wave at each longer rung; only
        the first without links.

    References
    ----------
    [HCM6]_ ch. 19 (critical v/c); [Webster1958]_.
    """
    y = {p.signal_id: flow_ratios(p) for p in base}
    lo, hi = int(np.ceil(cycle_range_s[0])), int(np.floor(cycle_range_s[1]))
    best: tuple[float, int, PlanSet] | None = None
    scanned: dict[int, PlanSet] = {}
    critical: int | None = None
    for cycle in range(lo, hi + 1, CYCLE_STEP_S):
        plans = _equisaturation(decode_at(float(cycle)), y)
        if plans is None:
            continue
        scanned[cycle] = plans
        value = score(plans)
        if best is None or value < best[0]:
            best = (value, cycle, plans)
        if critical is None and _max_stage_x(plans, y) <= target_x:
            critical = cycle
    if best is None:
        return []
    _, cycle, plans = best
    if not links:
        return [plans]
    peak = sorted(links, key=lambda l: -link_weights.get((l.upstream, l.downstream), 0.0))
    out = [_wave(plans, peak, speed_factor, accel_m_s2),
           _wave(plans, sorted(links, key=lambda l: link_weights.get((l.upstream, l.downstream), 0.0)),
                 speed_factor, accel_m_s2)]
    top = critical if critical is not None else max(scanned)
    ladder = sorted({min((c for c in scanned if c >= cycle + (top - cycle) * k / rungs), default=top)
                     for k in range(1, rungs + 1)}) if top > cycle else []
    out += [_wave(scanned[c], peak, speed_factor, accel_m_s2) for c in ladder]
    return out


def _max_stage_x(plans: PlanSet, y: Mapping[str, npt.NDArray[np.float64]]) -> float:
    """Largest ``y C / g`` over the stages of all plans (displayed green, conservative)."""
    worst = 0.0
    for p in plans:
        g = np.asarray([ph.green_s for ph in p.phases])
        worst = max(worst, float(np.max(y[p.signal_id] * p.cycle_s / np.maximum(g, 1e-9))))
    return worst


def _wave(plans: PlanSet, links: Sequence[ProgressionLink], speed_factor: float,
          accel_m_s2: float | None) -> PlanSet:
    offsets = progression_offsets_s({p.signal_id: p for p in plans}, links, speed_factor=speed_factor,
                                    accel_m_s2=accel_m_s2)
    return plans.replace_plans([p.with_timings([ph.green_s for ph in p.phases], offset_s=offsets[p.signal_id])
                                for p in plans], name="coordinated")


def _equisaturation(plans: PlanSet, y: Mapping[str, npt.NDArray[np.float64]]) -> PlanSet | None:
    """``plans`` with their greens re-shared by :func:`min_equisaturation_greens_s` (None if they cannot be)."""
    out = []
    for p in plans:
        # minimums rounded up to 0.1 s, as the encoding rounds them: rounding never cuts one
        mins = np.asarray([ceil_tenth(ph.effective_min_green_s) for ph in p.phases])
        maxs = np.asarray([max(ph.max_green_s, lo) for ph, lo in zip(p.phases, mins)])
        available = round(p.cycle_s - p.lost_time_s, 6)
        try:
            g = min_equisaturation_greens_s(available, y[p.signal_id], mins, maxs)
        except PlanError:
            return None
        greens = np.maximum(round_preserving_sum(g, available), mins)
        if greens.sum() > available + 1e-6:
            return None
        out.append(p.with_timings([float(round(v, 1)) for v in greens]))
    return plans.replace_plans(out, name="coordinated")
