"""Timing options: the engineering minimums and bounds every plan is built and checked with."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PlanError

#: Plausible ranges of the timing options (both ends allowed); beyond them a value is a typo, and the
#: clearance formulas would overflow or divide by next to nothing.
TIMING_RANGES = {
    "min_green_s": (1.0, 120.0), "min_green_left_s": (1.0, 120.0), "max_green_s": (1.0, 600.0),
    "walk_s": (7.0, 120.0),  # MUTCD 4E.06: at least 7 s
    "walking_speed_m_s": (0.3, 3.0), "min_cycle_s": (10.0, 600.0), "max_cycle_s": (10.0, 600.0),
    "vehicle_length_m": (2.0, 30.0), "deceleration_m_s2": (1.0, 10.0), "perception_reaction_s": (0.3, 5.0),
}



@dataclass(frozen=True)
class TimingOptions:
    """Engineering minimums and bounds used to build and check plans.

    Defaults: minimum green 7 s (5 s for a stage serving only left turns),
    walk 7 s (MUTCD 4E.06), walking speed 1.2 m/s, cycle 40--180 s.
    """

    min_green_s: float = 7.0
    min_green_left_s: float = 5.0
    max_green_s: float = 120.0
    walk_s: float = 7.0
    walking_speed_m_s: float = 1.2
    min_cycle_s: float = 40.0
    max_cycle_s: float = 180.0
    vehicle_length_m: float = 6.1
    deceleration_m_s2: float = 3.05
    perception_reaction_s: float = 1.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            lo, hi = TIMING_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise PlanError(f"timing.{name} must be a number from {lo:g} to {hi:g} ({value!r})")
        if self.min_cycle_s >= self.max_cycle_s:
            raise PlanError(f"timing.min_cycle_s must be below max_cycle_s ({self.max_cycle_s:g}) "
                            f"({self.min_cycle_s:g})")
        for name in ("min_green_s", "min_green_left_s", "walk_s"):
            if getattr(self, name) > self.max_green_s:
                raise PlanError(f"timing.{name} must not exceed max_green_s ({self.max_green_s:g}) "
                                f"({getattr(self, name):g})")
