"""Actuated settings as a point in the unit box, for the same optimiser that retimes fixed plans.

By default one detector distance and one passage time for all signals and a
maximum green per stage (the settings that matter most, few enough for a
budget of tens); ``full``: per signal the detectors' distance from the stop
line, per stage minimum green, maximum green and passage time.  Where some
signal has stages that may skip (:func:`skippable_stages`: off the major
through phases, with a detector, without a crossing), a last component
chooses between serving every stage every cycle (below 0.5: minimum recall,
SUMO's stage-based actuated controller) and skipping those stages when no
vehicle calls them (recall none, SUMO's stage-based actuated controller with
switching rules; the change interval before such a stage then clears every
stage that may follow it:
:func:`~signalopt.programs.cover_skips`).  Every point decodes
to a safe actuated plan: the stages and their change intervals are the base
plan's made safe (:func:`signalopt.programs.safe_phase`), a minimum green
never falls below the stage's vehicle and pedestrian minimum, a maximum never
below the minimum.  The base plans' own greens stay as they are, the longest
one stretched to a whole-second cycle (the plan still says what a fixed-time
fallback would run, and controller sheets carry it).

Coordinated-actuated control (:class:`CoordinatedEncoding`) searches the fixed-time
plan (:class:`signalopt.encoding.PlanEncoding`: common or per-signal cycle,
splits, offsets) plus the shared detector distance and passage time; each
decoded plan keeps its cycle, offset and splits, and its coordinated
:class:`~signalopt.actuated.Actuation` holds every stage between the stage's
own minimum and its split green (split-based maximum: the force-off), so the
coordinated stage takes the time the others leave.  SUMO runs it in its NEMA
controller (:func:`signalopt.formats.nema.nema_tllogic`).

Ranges (FHWA Traffic Signal Timing Manual, 2nd ed., ch. 5): minimum green
from the stage's minimum to 10 s above it; maximum green from 10 s above the
minimum to :data:`MAX_GREEN_CAP_S`; passage 1-5 s; detector 10-60 m before
the stop line (SUMO's stock ``detector-gap`` of 2 s at 50 km/h is 28 m).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .actuated import Actuation
from .detectors import actuated_plan
from .encoding import PlanEncoding, make_encoding
from .errors import InputError, PlanError
from .formats.nema import dual_ring
from .network import Network, Signal
from .options import TimingOptions
from .plan import GREEN_CHARS, PlanSet, TimingPlan
from .programs import ceil_tenth, cover_skips, safe_phase

MIN_GREEN_SPAN_S = 10.0
MAX_GREEN_ABOVE_MIN_S = 10.0
MAX_GREEN_CAP_S = 90.0
PASSAGE_RANGE_S = (1.0, 5.0)
DETECTOR_RANGE_M = (10.0, 60.0)
#: Where :meth:`ActuatedEncoding.encode` puts plans without actuation: SUMO's stock actuated controller
#: (maxDur 50 s, max-gap 3 s, detectors 2 s of travel upstream: 28 m at 50 km/h) at the stage minimums.
STOCK_MAX_GREEN_S, STOCK_PASSAGE_S, STOCK_DETECTOR_M = 50.0, 3.0, 28.0


def _unit(value: float, lo: float, hi: float) -> float:
    return float(np.clip((value - lo) / (hi - lo), 0.0, 1.0)) if hi > lo else 0.0


@dataclass(frozen=True)
class ActuatedEncoding:
    """Maps ``x`` in the unit box to actuated plans over ``base``'s stages and back.

    ``full=False`` (the default, a search a budget of tens can make progress
    in): one detector distance and one passage time for every signal, and
    per stage the maximum green; minimums stay at the stages' own.  With
    ``kept`` (a detector distance [m] and a passage time [s]) those two are
    not searched but kept, as a time-of-day schedule's periods keep the day's
    (detectors do not move, and a controller holds one passage per phase).
    ``full=True``: per signal the detector distance, per stage the minimum,
    the maximum and the passage.  Both end with the skip component where a
    signal has stages that may skip.  Build with :func:`make_actuated_encoding`.
    """

    signals: tuple[Signal, ...]
    base: PlanSet  # stages made safe
    minimums_s: tuple[tuple[float, ...], ...]
    full: bool = False
    #: per signal, the stages that may skip when not called (:func:`skippable_stages`)
    skippable: tuple[tuple[int, ...], ...] = ()
    #: the clearance rules a skipping stage's predecessor is raised to (:func:`~signalopt.programs.cover_skips`)
    timing: TimingOptions | None = None
    #: the detector distance [m] and passage [s] every plan keeps instead of searching them (not with ``full``)
    kept: tuple[float, float] | None = None

    @property
    def _n_shared(self) -> int:
        return 0 if self.full or self.kept is not None else 2

    @property
    def skip_dimension(self) -> bool:
        """Whether the last component chooses stage skipping (some signal has a stage that may skip)."""
        return any(self.skippable)

    @property
    def size(self) -> int:
        n = (sum(1 + 3 * len(p.phases) for p in self.base) if self.full
             else self._n_shared + sum(len(p.phases) for p in self.base))
        return n + int(self.skip_dimension)

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(0.0, 1.0)] * self.size

    def labels(self) -> list[str]:
        out = ["detector", "passage"] if self._n_shared else []
        for plan in self.base:
            sid = plan.signal_id
            if self.full:
                out.append(f"{sid}:detector")
            for i in range(len(plan.phases)):
                out += ([f"{sid}:min{i + 1}", f"{sid}:max{i + 1}", f"{sid}:passage{i + 1}"] if self.full
                        else [f"{sid}:max{i + 1}"])
        return out + (["skip"] if self.skip_dimension else [])

    def decode(self, x: Sequence[float], *, name: str = "candidate") -> PlanSet:
        """A safe actuated plan set for any ``x`` in the unit box (values outside are clipped)."""
        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        if x.shape != (self.size,):
            raise PlanError(f"decision vector has {x.size} components, the encoding {self.size}")
        pos, plans = self._n_shared, []
        shared_distance, shared_gap = (self.kept if self.kept is not None
                                       else shared_settings_at(x) if self._n_shared else (math.nan, math.nan))
        skip = self.skip_dimension and x[-1] >= 0.5
        for signal, plan, mins, may_skip in zip(self.signals, self.base, self.minimums_s,
                                                self.skippable or [()] * len(self.base)):
            distance = shared_distance
            if self.full:
                distance = _distance_m(x[pos])
                pos += 1
            lows, highs, gaps = [], [], []
            for m in mins:
                lo = ceil_tenth(float(m + x[pos] * MIN_GREEN_SPAN_S)) if self.full else m
                top = max(MAX_GREEN_CAP_S, lo + MAX_GREEN_ABOVE_MIN_S)
                at = x[pos + 1] if self.full else x[pos]
                hi = ceil_tenth(float(lo + MAX_GREEN_ABOVE_MIN_S + at * (top - lo - MAX_GREEN_ABOVE_MIN_S)))
                lows.append(lo)
                highs.append(hi)
                gaps.append(_passage_s(x[pos + 2]) if self.full else shared_gap)
                pos += 3 if self.full else 1
            recalls = ["none" if skip and i in may_skip else "min" for i in range(len(mins))]
            decoded = actuated_plan(plan, signal, min_greens_s=lows, max_greens_s=highs, passages_s=gaps,
                                    distance_m=distance, recalls=recalls)
            # skipping may lengthen change intervals: the fallback's cycle stays whole seconds
            plans.append(whole_second_cycle(cover_skips(decoded, signal, self.timing or TimingOptions())))
        return PlanSet(tuple(plans), name=name)

    def encode(self, plans: PlanSet) -> np.ndarray:
        """The point of ``plans``' actuated settings; a plan without them is placed at SUMO's stock
        actuated settings over its stages (shared settings: their mean over the plans)."""
        by_id = {p.signal_id: p for p in plans}
        acts = []
        for plan, mins in zip(self.base, self.minimums_s):
            act = by_id[plan.signal_id].actuation if plan.signal_id in by_id else None
            acts.append(act if act is not None and len(act.stages) == len(mins) else None)
        xs: list[float] = _shared_units(acts) if self._n_shared else []
        for act, mins in zip(acts, self.minimums_s):
            if self.full:
                xs.append(_unit(_asked_distance_m(act), *DETECTOR_RANGE_M))
            for i, m in enumerate(mins):
                lo = act.stages[i].min_green_s if act is not None and self.full else m
                hi = act.stages[i].max_green_s if act is not None else max(STOCK_MAX_GREEN_S, m +
                                                                           MAX_GREEN_ABOVE_MIN_S)
                top = max(MAX_GREEN_CAP_S, lo + MAX_GREEN_ABOVE_MIN_S)
                if self.full:
                    gap = act.stages[i].passage_s if act is not None else STOCK_PASSAGE_S
                    xs += [_unit(lo, m, m + MIN_GREEN_SPAN_S), _unit(hi, lo + MAX_GREEN_ABOVE_MIN_S, top),
                           _unit(gap, *PASSAGE_RANGE_S)]
                else:
                    xs.append(_unit(hi, lo + MAX_GREEN_ABOVE_MIN_S, top))
        if self.skip_dimension:
            xs.append(1.0 if any(a is not None and a.skips_stages for a in acts) else 0.0)
        return np.asarray(xs)


def whole_second_cycle(plan: TimingPlan) -> TimingPlan:
    """``plan`` with its longest green that has room below its maximum stretched so that the cycle is whole
    seconds: the fixed-time fallback an actuated plan carries, which controller sheets (NTCIP split times)
    write in whole seconds.  Where no green has room, ``plan`` as it is (its sheet is then refused)."""
    total = sum(p.split_s for p in plan.phases)
    short = round(math.ceil(total - 1e-9) - total, 6)
    room = [i for i, p in enumerate(plan.phases) if p.green_s + short <= p.max_green_s + 1e-9]
    if short <= 0 or not room:
        return plan
    longest = max(room, key=lambda i: plan.phases[i].green_s)
    return replace(plan, phases=tuple(replace(p, green_s=round(p.green_s + short, 1)) if i == longest else p
                                      for i, p in enumerate(plan.phases)))


def shared_settings_at(x: Sequence[float]) -> tuple[float, float]:
    """The detector distance [m] and passage [s] at the point ``x`` of a default (not ``full``, nothing
    ``kept``) :class:`ActuatedEncoding`: its first two components."""
    u = np.clip(np.asarray(x[:2], dtype=float), 0.0, 1.0)
    return _distance_m(u[0]), _passage_s(u[1])


def _distance_m(u: float) -> float:
    return round(float(DETECTOR_RANGE_M[0] + u * (DETECTOR_RANGE_M[1] - DETECTOR_RANGE_M[0])), 1)


def _passage_s(u: float) -> float:
    return round(float(PASSAGE_RANGE_S[0] + u * (PASSAGE_RANGE_S[1] - PASSAGE_RANGE_S[0])), 1)


def _shared_units(acts: Sequence[Actuation | None]) -> list[float]:
    """The shared detector distance and passage components of plans with ``acts`` (their means; SUMO's stock
    settings for a plan without actuation)."""
    distances = [_asked_distance_m(a) for a in acts]
    gaps = [st.passage_s for a in acts if a is not None for st in a.stages] or [STOCK_PASSAGE_S]
    return [_unit(sum(distances) / len(distances), *DETECTOR_RANGE_M), _unit(sum(gaps) / len(gaps), *PASSAGE_RANGE_S)]


def _asked_distance_m(act: Actuation | None) -> float:
    """Where ``act``'s detectors were asked to be (the longest placed: short bays move theirs closer)."""
    return max(d.distance_m for d in act.detectors) if act is not None and act.detectors else STOCK_DETECTOR_M


def make_actuated_encoding(network: Network, base: PlanSet, timing: TimingOptions, *, full: bool = False,
                           kept: tuple[float, float] | None = None, source: str | None = None) -> ActuatedEncoding:
    """Encoding of actuated settings over the stages of ``base`` (each stage made safe first; ``full`` and
    ``kept``, the detector distance [m] and passage [s] kept instead of searched: see :class:`ActuatedEncoding`).

    Raises
    ------
    InputError
        ``kept`` with ``full``, or a distance or passage outside the search's ranges.
    """
    if kept is not None:
        kept = _checked_kept(kept, full=full)
    signals, plans, minimums = [], [], []
    for plan in base:
        signal = network.signal(plan.signal_id, source=source)
        n = len(plan.phases)
        phases = tuple(safe_phase(signal, p, plan.phases[(i + 1) % n].state, timing)[0]
                       for i, p in enumerate(plan.phases))
        safe = whole_second_cycle(replace(plan, phases=phases, actuation=None))
        signals.append(signal)
        plans.append(TimingPlan(safe.signal_id, safe.phases, offset_s=0.0, ped_links=safe.ped_links,
                                program_id=safe.program_id))
        minimums.append(tuple(ceil_tenth(p.effective_min_green_s) for p in phases))
    skippable = tuple(skippable_stages(p, s) for p, s in zip(plans, signals))
    return ActuatedEncoding(tuple(signals), PlanSet(tuple(plans), name=base.name), tuple(minimums), full, skippable,
                            timing, kept)


def _checked_kept(kept: tuple[float, float], *, full: bool) -> tuple[float, float]:
    if full:
        raise InputError("kept", "a full actuated encoding searches every signal's detectors and every stage's "
                                 "passage; it cannot keep shared ones", kept)
    try:
        distance_m, passage_s = (float(v) for v in kept)
    except (TypeError, ValueError):
        raise InputError("kept", "must be a detector distance [m] and a passage time [s]", kept) from None
    if not DETECTOR_RANGE_M[0] <= distance_m <= DETECTOR_RANGE_M[1]:
        raise InputError("kept", f"detector distance must be in [{DETECTOR_RANGE_M[0]:g}, "
                                 f"{DETECTOR_RANGE_M[1]:g}] m", distance_m)
    if not PASSAGE_RANGE_S[0] <= passage_s <= PASSAGE_RANGE_S[1]:
        raise InputError("kept", f"passage must be in [{PASSAGE_RANGE_S[0]:g}, {PASSAGE_RANGE_S[1]:g}] s", passage_s)
    return distance_m, passage_s


def skippable_stages(plan: TimingPlan, signal: Signal) -> tuple[int, ...]:
    """The stages of ``plan`` that may run on recall none (skipped when no vehicle calls them), as an engineer
    sets a free controller: every stage but the first (each cycle starts with it: offsets, per-cycle queues and
    time-of-day handovers refer to it), the major street's (:func:`major_stages`, which keep minimum recall and
    take the time the others leave), a stage with a crossing (pedestrians press no button in SUMO) and a stage
    with no detector on its lanes."""
    n = len(plan.phases)
    probe = actuated_plan(plan, signal, max_greens_s=[STOCK_MAX_GREEN_S] * n, passages_s=[STOCK_PASSAGE_S] * n,
                          distance_m=STOCK_DETECTOR_M)
    major = major_stages(probe, signal)
    detected = {d.lane for d in probe.actuation.detectors}
    out = []
    for i, ph in enumerate(plan.phases):
        green = [k for k, c in enumerate(ph.state) if c in GREEN_CHARS]
        lanes = {lane for k in green if k not in signal.ped_links for lane in signal.links[k].from_lanes}
        if i > 0 and i not in major and not any(k in signal.ped_links for k in green) and lanes & detected:
            out.append(i)
    return tuple(out)


def major_stages(plan: TimingPlan, signal: Signal) -> frozenset[int]:
    """The stages of ``plan`` that serve the major street's through movements: those of the dual ring's
    coordinated phases (NEMA 2 and 6) where the stages form one, else the stage that gives the most vehicle
    links a protected green (the first of equals)."""
    try:
        ring = dual_ring(plan, signal)
    except PlanError:
        ring = None
    if ring is not None:
        return frozenset(i for p in ring.phases if p.number in ring.coordinated for i in p.stages)
    vehicle = [k for k in range(signal.n_links) if k not in signal.ped_links]
    protected = [sum(ph.state[k] == "G" for k in vehicle) for ph in plan.phases]
    return frozenset({protected.index(max(protected))})


@dataclass(frozen=True)
class CoordinatedEncoding:
    """Maps ``x`` in the unit box to coordinated-actuated plans and back.

    ``x`` is the fixed-time encoding's point (``fixed``: cycle, splits,
    offsets and, with its option, lead/lag) followed by the shared detector
    distance and passage time.  A decoded plan is ``fixed``'s plan with a
    coordinated :class:`~signalopt.actuated.Actuation`: per stage, minimum the
    stage's vehicle and pedestrian minimum, maximum its split green.  Build
    with :func:`make_coordinated_encoding`.
    """

    fixed: PlanEncoding

    @property
    def size(self) -> int:
        return self.fixed.size + 2

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(0.0, 1.0)] * self.size

    def labels(self) -> list[str]:
        return [*self.fixed.labels(), "detector", "passage"]

    def decode(self, x: Sequence[float], *, name: str = "candidate") -> PlanSet:
        """A safe coordinated-actuated plan set for any ``x`` in the unit box (values outside are clipped)."""
        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        if x.shape != (self.size,):
            raise PlanError(f"decision vector has {x.size} components, the encoding {self.size}")
        distance, gap = _distance_m(x[-2]), _passage_s(x[-1])
        signals = {t.base.signal_id: t.signal for t in self.fixed.templates}
        plans = []
        for plan in self.fixed.decode(x[:-2], name=name):
            n = len(plan.phases)
            # the decoded greens never fall below the minimums rounded up to 0.1 s: min <= split always holds
            plans.append(actuated_plan(plan, signals[plan.signal_id],
                                       min_greens_s=[ceil_tenth(p.effective_min_green_s) for p in plan.phases],
                                       max_greens_s=[p.green_s for p in plan.phases], passages_s=[gap] * n,
                                       distance_m=distance, mode="coordinated"))
        return PlanSet(tuple(plans), name=name)

    def encode(self, plans: PlanSet) -> np.ndarray:
        """The fixed encoding's point of ``plans`` and their shared actuated settings (SUMO's stock detector
        distance and passage for plans without actuation: the existing timing run coordinated-actuated)."""
        acts = [p.actuation if p.actuation is not None and len(p.actuation.stages) == len(p.phases) else None
                for p in plans if p.signal_id in {t.base.signal_id for t in self.fixed.templates}]
        return np.concatenate([self.fixed.encode(plans), _shared_units(acts or [None])])

    def with_stock_settings(self, x_fixed: Sequence[float]) -> np.ndarray:
        """A point of the fixed encoding (e.g. a warm start) run with SUMO's stock detector distance and passage."""
        return np.concatenate([np.asarray(x_fixed, dtype=float), _shared_units([None])])


def make_coordinated_encoding(network: Network, base: PlanSet, timing: TimingOptions, *,
                              per_signal_cycle: bool = False, lead_lag: bool = False,
                              source: str | None = None) -> CoordinatedEncoding:
    """Encoding of coordinated-actuated plans over the stages of ``base`` (see :class:`CoordinatedEncoding`).

    Raises
    ------
    InputError
        A signal whose stages SUMO's NEMA controller, which simulates coordinated-actuated control, cannot
        run (more than two barrier groups, three phases in a ring, no dual ring), in any stage order the
        encoding can decode (``lead_lag``); or minimum splits that do not fit (:func:`make_encoding`).
    """
    fixed = make_encoding(network, base, timing, per_signal_cycle=per_signal_cycle, lead_lag=lead_lag,
                          source=source)
    labels = fixed.labels()
    for t in fixed.templates:
        sid = t.base.signal_id
        lags = [labels.index(f"{sid}:lag{i + 1}") for i in t.pairs] if lead_lag else []
        # every stage order the point can decode to (leading and lagging lefts): each must run
        for flags in itertools.product((0.0, 1.0), repeat=len(lags)):
            x = np.full(fixed.size, 0.5)
            x[lags] = flags
            plan = fixed.decode(x)[sid]
            try:
                problem = dual_ring(plan, t.signal).sumo_problem()
            except PlanError as exc:
                problem = str(exc).removeprefix(f"signal {sid}: ")
            if problem:
                raise InputError(source, f"signal {sid}: coordinated-actuated control runs in SUMO's NEMA "
                                         f"controller, which cannot run its stages: {problem}; --control fixed "
                                         f"or actuated can", "--control coordinated")
    return CoordinatedEncoding(fixed)
