"""Actuated settings as a point in the unit box, for the same optimiser that retimes fixed plans.

By default one detector distance and one passage time for all signals and a
maximum green per stage (the settings that matter most, few enough for a
budget of tens); ``full``: per signal the detectors' distance from the stop
line, per stage minimum green, maximum green and passage time.  Every point decodes
to a safe actuated plan: the stages and their change intervals are the base
plan's made safe (:func:`signalopt.programs.safe_phase`), a minimum green
never falls below the stage's vehicle and pedestrian minimum, a maximum never
below the minimum.  The base plans' own greens stay as they are, the longest
one stretched to a whole-second cycle (the plan still says what a fixed-time
fallback would run, and controller sheets carry it).

Ranges (FHWA Traffic Signal Timing Manual, 2nd ed., ch. 5): minimum green
from the stage's minimum to 10 s above it; maximum green from 10 s above the
minimum to :data:`MAX_GREEN_CAP_S`; passage 1-5 s; detector 10-60 m before
the stop line (SUMO's stock ``detector-gap`` of 2 s at 50 km/h is 28 m).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .actuated import Actuation
from .detectors import actuated_plan
from .errors import PlanError
from .network import Network, Signal
from .options import TimingOptions
from .plan import PlanSet, TimingPlan
from .programs import ceil_tenth, safe_phase

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
    per stage the maximum green; minimums stay at the stages' own.
    ``full=True``: per signal the detector distance, per stage the minimum,
    the maximum and the passage.  Build with :func:`make_actuated_encoding`.
    """

    signals: tuple[Signal, ...]
    base: PlanSet  # stages made safe
    minimums_s: tuple[tuple[float, ...], ...]
    full: bool = False

    @property
    def size(self) -> int:
        if self.full:
            return sum(1 + 3 * len(p.phases) for p in self.base)
        return 2 + sum(len(p.phases) for p in self.base)

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(0.0, 1.0)] * self.size

    def labels(self) -> list[str]:
        out = [] if self.full else ["detector", "passage"]
        for plan in self.base:
            sid = plan.signal_id
            if self.full:
                out.append(f"{sid}:detector")
            for i in range(len(plan.phases)):
                out += ([f"{sid}:min{i + 1}", f"{sid}:max{i + 1}", f"{sid}:passage{i + 1}"] if self.full
                        else [f"{sid}:max{i + 1}"])
        return out

    def decode(self, x: Sequence[float], *, name: str = "candidate") -> PlanSet:
        """A safe actuated plan set for any ``x`` in the unit box (values outside are clipped)."""
        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        if x.shape != (self.size,):
            raise PlanError(f"decision vector has {x.size} components, the encoding {self.size}")
        pos, plans = (0, []) if self.full else (2, [])
        shared_distance, shared_gap = _distance_m(x[0]), _passage_s(x[1])
        for signal, plan, mins in zip(self.signals, self.base, self.minimums_s):
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
            plans.append(actuated_plan(plan, signal, min_greens_s=lows, max_greens_s=highs, passages_s=gaps,
                                       distance_m=distance))
        return PlanSet(tuple(plans), name=name)

    def encode(self, plans: PlanSet) -> np.ndarray:
        """The point of ``plans``' actuated settings; a plan without them is placed at SUMO's stock
        actuated settings over its stages (shared settings: their mean over the plans)."""
        by_id = {p.signal_id: p for p in plans}
        acts = []
        for plan, mins in zip(self.base, self.minimums_s):
            act = by_id[plan.signal_id].actuation if plan.signal_id in by_id else None
            acts.append(act if act is not None and len(act.stages) == len(mins) else None)
        xs: list[float] = []
        if not self.full:
            distances = [_asked_distance_m(a) for a in acts]
            gaps = [st.passage_s for a in acts if a is not None for st in a.stages] or [STOCK_PASSAGE_S]
            xs += [_unit(sum(distances) / len(distances), *DETECTOR_RANGE_M),
                   _unit(sum(gaps) / len(gaps), *PASSAGE_RANGE_S)]
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
        return np.asarray(xs)


def _distance_m(u: float) -> float:
    return round(float(DETECTOR_RANGE_M[0] + u * (DETECTOR_RANGE_M[1] - DETECTOR_RANGE_M[0])), 1)


def _passage_s(u: float) -> float:
    return round(float(PASSAGE_RANGE_S[0] + u * (PASSAGE_RANGE_S[1] - PASSAGE_RANGE_S[0])), 1)


def _asked_distance_m(act: Actuation | None) -> float:
    """Where ``act``'s detectors were asked to be (the longest placed: short bays move theirs closer)."""
    return max(d.distance_m for d in act.detectors) if act is not None and act.detectors else STOCK_DETECTOR_M


def make_actuated_encoding(network: Network, base: PlanSet, timing: TimingOptions, *, full: bool = False,
                           source: str | None = None) -> ActuatedEncoding:
    """Encoding of actuated settings over the stages of ``base`` (each stage made safe first; ``full``: see
    :class:`ActuatedEncoding`)."""
    signals, plans, minimums = [], [], []
    for plan in base:
        signal = network.signal(plan.signal_id, source=source)
        n = len(plan.phases)
        phases = tuple(safe_phase(signal, p, plan.phases[(i + 1) % n].state, timing)[0]
                       for i, p in enumerate(plan.phases))
        # whole-second cycle for the fixed-time fallback that controller sheets also carry
        short = math.ceil(sum(p.split_s for p in phases) - 1e-9) - sum(p.split_s for p in phases)
        longest = max(range(n), key=lambda i: phases[i].green_s)
        phases = tuple(replace(p, green_s=round(p.green_s + short, 1)) if i == longest else p
                       for i, p in enumerate(phases))
        safe = replace(plan, phases=phases, actuation=None)
        signals.append(signal)
        plans.append(TimingPlan(safe.signal_id, safe.phases, offset_s=0.0, ped_links=safe.ped_links,
                                program_id=safe.program_id))
        minimums.append(tuple(ceil_tenth(p.effective_min_green_s) for p in phases))
    return ActuatedEncoding(tuple(signals), PlanSet(tuple(plans), name=base.name), tuple(minimums), full)
