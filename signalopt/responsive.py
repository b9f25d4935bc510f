"""Traffic-responsive plan selection (TRPS): a controller that switches between pre-optimised plan sets by what
its system detectors measure.

The engineer prepares a small library of *patterns* -- plan sets for the same signals over the same stages, from
light to heavy demand (say the ordinary evening's plans and an event's) -- and the controller picks one every
computation interval, as NTCIP 1210 / TRPS field masters do:

1. every system detector (one induction loop per incoming car lane, ``detector_m`` before the stop line) gives,
   over the last interval, its volume as a share of a lane's saturation flow and its occupancy as a share of
   time; a detector's value is ``(1 - w) * volume + w * occupancy`` (``w`` = :attr:`PatternSelection.occupancy_weight`;
   occupancy rises when queues reach the loop, volume saturates there, so both are needed);
2. an approach's value is the mean over its lanes, and the **section index** the largest over all approaches (the
   critical approach: a surge on two approaches of sixteen must not be averaged away);
3. the index is smoothed exponentially (:attr:`PatternSelection.smoothing`, the weight of the newest interval);
4. the pattern rises to ``k`` when the smoothed index reaches ``thresholds[k - 1]`` and falls back below ``k``
   only when it drops below ``thresholds[k - 1] - hysteresis`` (no flapping between two patterns on noise).

Each signal changes pattern the way a time-of-day schedule does (:mod:`signalopt.schedule`): it finishes its cycle,
runs one transition cycle of the new pattern's stages (greens stretched or shrunk, never below their minimums)
that lands on the new pattern's offset, then runs the new pattern; no yellow or all-red is cut.  A new decision
waits until every signal has taken over the last one.

References: NTCIP 1210 v01 (field master stations, traffic-responsive pattern selection); FHWA Traffic Signal
Timing Manual, 2nd ed. (2015), ch. 9.4 (traffic-responsive operation); Abbas, Chaudhary, Sharma and Engelbrecht,
"Methodology for determination of optimal traffic responsive plan selection control parameters", Texas
Transportation Institute report 0-4420-2 (2004), on optimising the thresholds in simulation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .actuated import checked_number
from .detectors import LANE_MARGIN_M, loop_position_m
from .errors import PlanError
from .network import Network
from .plan import PlanSet, show_value
from .schedule import plan_switch

RESPONSIVE_SCHEMA_VERSION = 1
#: Top-level keys of a responsive plan file.
RESPONSIVE_FILE_KEYS = ("schema_version", "kind", "generator", "provenance", "name", "selection", "detectors",
                        "patterns")
#: Saturation flow that turns a lane's count into a share [veh/h/lane] (HCM 6th ed. base, 1,900, less the usual
#: urban adjustments).
SATURATION_FLOW_VEH_H = 1800.0
#: Ranges a :class:`PatternSelection` accepts.
INTERVAL_RANGE_S = (60.0, 3600.0)
DETECTOR_RANGE_M = (5.0, 150.0)
MAX_HYSTERESIS = 0.5
MAX_THRESHOLD = 2.0
_WHERE = "pattern selection"


@dataclass(frozen=True)
class PatternSelection:
    """When a TRPS controller changes pattern (see the module docstring).

    Parameters
    ----------
    thresholds
        Entry level of patterns 1, 2, ... on the smoothed section index, increasing [-].
    hysteresis
        How far below a pattern's entry level the index must fall to leave it [-].
    occupancy_weight
        Weight of occupancy against volume in a detector's value, 0 to 1 [-].
    smoothing
        Weight of the newest interval in the exponential smoothing of the index, above 0 up to 1 (1: none) [-].
    interval_s
        Computation interval: detectors are read and a pattern chosen this often [s].
    detector_m
        Distance of the system detectors from the stop line [m].
    """

    thresholds: tuple[float, ...]
    hysteresis: float = 0.05
    occupancy_weight: float = 0.5
    smoothing: float = 0.5
    interval_s: float = 300.0
    detector_m: float = 60.0

    def __post_init__(self) -> None:
        if isinstance(self.thresholds, (str, bytes)) or not isinstance(self.thresholds, Sequence) \
                or not self.thresholds:
            raise PlanError(f"pattern selection: thresholds must be a non-empty list ({show_value(self.thresholds)})")
        levels = tuple(checked_number(_WHERE, "threshold", t, high=MAX_THRESHOLD) for t in self.thresholds)
        if any(b <= a for a, b in zip(levels, levels[1:])):
            raise PlanError(f"pattern selection: thresholds must increase ({', '.join(f'{t:g}' for t in levels)})")
        object.__setattr__(self, "thresholds", levels)
        object.__setattr__(self, "hysteresis", checked_number(_WHERE, "hysteresis", self.hysteresis,
                                                               high=MAX_HYSTERESIS))
        object.__setattr__(self, "occupancy_weight", checked_number(_WHERE, "occupancy_weight", self.occupancy_weight,
                                                                     high=1.0))
        s = checked_number(_WHERE, "smoothing", self.smoothing, high=1.0)
        if s <= 0.0:
            raise PlanError("pattern selection: smoothing must be above 0 (0 would never change pattern)")
        object.__setattr__(self, "smoothing", s)
        iv = checked_number(_WHERE, "interval_s", self.interval_s, low=INTERVAL_RANGE_S[0], high=INTERVAL_RANGE_S[1])
        if abs(iv - round(iv)) > 1e-9:
            raise PlanError(f"pattern selection: interval_s must be whole seconds ({iv:g})")
        object.__setattr__(self, "interval_s", float(round(iv)))
        object.__setattr__(self, "detector_m", checked_number(_WHERE, "detector_m", self.detector_m,
                                                               low=DETECTOR_RANGE_M[0], high=DETECTOR_RANGE_M[1]))

    def to_dict(self) -> dict[str, Any]:
        return {"thresholds": list(self.thresholds), "hysteresis": self.hysteresis,
                "occupancy_weight": self.occupancy_weight, "smoothing": self.smoothing,
                "interval_s": self.interval_s, "detector_m": self.detector_m}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatternSelection:
        if not isinstance(data, Mapping):
            raise PlanError(f"pattern selection must be an object ({show_value(data)})")
        unknown = sorted(set(map(str, data)) - set(cls.__dataclass_fields__))
        if unknown:
            raise PlanError(f"pattern selection: unknown keys ({', '.join(unknown)})")
        if "thresholds" not in data:
            raise PlanError("pattern selection: thresholds missing")
        return cls(**{k: (tuple(v) if k == "thresholds" and isinstance(v, list) else v) for k, v in data.items()})


def detector_value(vehicles: float, occupancy: float, *, interval_s: float, occupancy_weight: float) -> float:
    """One system detector's value over an interval: weighted volume share and occupancy share [-].

    Parameters
    ----------
    vehicles
        Vehicles counted in the interval [veh].
    occupancy
        Share of the interval the loop was occupied, 0 to 1 [-].
    interval_s
        Length of the interval [s].
    occupancy_weight
        Weight of occupancy, 0 to 1 [-].
    """
    volume = vehicles * 3600.0 / interval_s / SATURATION_FLOW_VEH_H
    return (1.0 - occupancy_weight) * volume + occupancy_weight * occupancy


def section_index(values: Mapping[str, Sequence[float]]) -> float:
    """The section index: per approach the mean of its detectors' values, the largest of those [-]."""
    means = [sum(v) / len(v) for v in values.values() if len(v)]
    return max(means, default=0.0)


def smoothed(previous: float | None, value: float, smoothing: float) -> float:
    """Exponential smoothing: ``value`` weighted ``smoothing``, ``previous`` the rest (the first value as it is)."""
    return value if previous is None else smoothing * value + (1.0 - smoothing) * previous


def select_pattern(current: int, level: float, thresholds: Sequence[float], hysteresis: float) -> int:
    """The pattern for a smoothed index ``level``, from the pattern ``current`` (0 = the lightest).

    It rises while the level reaches the next pattern's entry threshold and falls while the level is below the
    current pattern's entry threshold less the hysteresis.
    """
    k = current
    while k < len(thresholds) and level >= thresholds[k]:
        k += 1
    while k > 0 and level < thresholds[k - 1] - hysteresis:
        k -= 1
    return k


@dataclass(frozen=True)
class SystemDetector:
    """A system detector: an induction loop on ``lane`` at ``pos_m`` from the lane's start, counted for
    ``approach`` (an approach label, e.g. ``"zijinshan:S"``)."""

    approach: str
    lane: str
    pos_m: float

    def __post_init__(self) -> None:
        if not isinstance(self.lane, str) or not self.lane or not isinstance(self.approach, str) or not self.approach:
            raise PlanError(f"system detector: approach and lane must be names ({self.approach!r}, {self.lane!r})")
        if not isinstance(self.pos_m, numbers.Real) or not math.isfinite(float(self.pos_m)) or self.pos_m < 0:
            raise PlanError(f"system detector on lane {self.lane!r}: pos_m must be a position ({self.pos_m!r})")

    @property
    def id(self) -> str:
        return f"so_sys|{self.lane}"


def place_system_detectors(network: Network, signal_ids: Sequence[str], *, distance_m: float
                           ) -> tuple[SystemDetector, ...]:
    """One loop per incoming car lane of every signal, ``distance_m`` before the stop line (at the lane's start
    when the lane is shorter)."""
    out = []
    for sid in signal_ids:
        for a in network.signal(sid).approaches:
            if a.length_m <= 2 * LANE_MARGIN_M:  # SUMO refuses a loop at a lane's very ends
                continue
            out += [SystemDetector(a.label, lane, round(loop_position_m(a.length_m, distance_m), 3))
                    for lane in a.lanes]
    return tuple(out)


@dataclass(frozen=True)
class ResponsivePlans:
    """A traffic-responsive section: its patterns (lightest first), selection settings and system detectors.

    Raises
    ------
    PlanError
        Fewer than two patterns, patterns for other signals than the first's, a threshold count that is not
        one fewer than the patterns, no detectors, or two patterns a signal cannot switch between safely
        (:func:`signalopt.schedule.plan_switch`).
    """

    patterns: tuple[PlanSet, ...]
    selection: PatternSelection
    detectors: tuple[SystemDetector, ...]
    name: str = "responsive"

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", tuple(self.patterns))
        object.__setattr__(self, "detectors", tuple(self.detectors))
        if len(self.patterns) < 2 or not all(isinstance(p, PlanSet) for p in self.patterns):
            raise PlanError(f"responsive plans {self.name!r}: need at least two patterns (plan sets), "
                            f"got {len(self.patterns)}")
        if len(self.selection.thresholds) != len(self.patterns) - 1:
            raise PlanError(f"responsive plans {self.name!r}: {len(self.patterns)} patterns need "
                            f"{len(self.patterns) - 1} threshold(s), got {len(self.selection.thresholds)}")
        ids = [p.signal_id for p in self.patterns[0]]
        for k, ps in enumerate(self.patterns[1:], start=1):
            if sorted(p.signal_id for p in ps) != sorted(ids):
                raise PlanError(f"responsive plans {self.name!r}: pattern {k} ({ps.name}) plans signals "
                                f"{', '.join(sorted(p.signal_id for p in ps))}, pattern 0 {', '.join(sorted(ids))}")
        if not self.detectors:
            raise PlanError(f"responsive plans {self.name!r}: no system detectors")
        lanes = [d.lane for d in self.detectors]
        if len(set(lanes)) != len(lanes):
            raise PlanError(f"responsive plans {self.name!r}: two system detectors on lane "
                            f"{sorted(l for l in lanes if lanes.count(l) > 1)[0]!r}")
        for a, pa in enumerate(self.patterns):
            for b, pb in enumerate(self.patterns):
                if a == b:
                    continue
                for plan in pa:
                    other = pb[plan.signal_id]
                    if plan.actuation is not None or other.actuation is not None:
                        raise PlanError(f"responsive plans {self.name!r}: signal {plan.signal_id} has an actuated "
                                        f"plan; patterns are fixed-time plan sets")
                    try:
                        plan_switch(plan, other, plan.offset_s)
                    except PlanError as exc:
                        raise PlanError(f"responsive plans {self.name!r}: pattern {a} to {b}: {exc}") from None

    @property
    def signal_ids(self) -> tuple[str, ...]:
        return tuple(p.signal_id for p in self.patterns[0])

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": RESPONSIVE_SCHEMA_VERSION, "kind": "responsive", "name": self.name,
                "selection": self.selection.to_dict(),
                "detectors": [{"approach": d.approach, "lane": d.lane, "pos_m": d.pos_m} for d in self.detectors],
                "patterns": [p.to_dict() for p in self.patterns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResponsivePlans:
        """Responsive plans from their JSON form (the whole file object, as :meth:`to_dict` writes it)."""
        unknown = sorted(set(map(str, data)) - set(RESPONSIVE_FILE_KEYS))
        if unknown:
            raise PlanError(f"responsive plans: unknown keys ({', '.join(unknown)})")
        missing = [k for k in ("selection", "detectors", "patterns") if k not in data]
        if missing:
            raise PlanError(f"responsive plans: missing keys ({', '.join(missing)})")
        name = data.get("name", "responsive")
        if not isinstance(name, str):
            raise PlanError(f"responsive plans: name must be a string ({show_value(name)})")
        raw_d, raw_p = data["detectors"], data["patterns"]
        if not isinstance(raw_d, list) or not all(isinstance(d, Mapping) for d in raw_d):
            raise PlanError(f"responsive plans: detectors must be a list of objects ({show_value(raw_d)})")
        if not isinstance(raw_p, list):
            raise PlanError(f"responsive plans: patterns must be a list of plan sets ({show_value(raw_p)})")
        try:
            detectors = tuple(SystemDetector(**d) for d in raw_d)
        except TypeError as exc:
            raise PlanError(f"responsive plans: detector: {exc}") from None
        patterns = []
        for k, p in enumerate(raw_p):
            if not isinstance(p, Mapping):
                raise PlanError(f"responsive plans: pattern {k} must be an object ({show_value(p)})")
            try:
                patterns.append(PlanSet.from_dict(p))
            except PlanError as exc:
                raise PlanError(f"responsive plans: pattern {k}: {exc}") from None
        return cls(tuple(patterns), PatternSelection.from_dict(data["selection"]), detectors, name)
