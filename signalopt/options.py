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
    "yellow_s": (3.0, 6.0), "all_red_s": (0.0, 6.0),  # MUTCD 4D.26: yellow 3-6 s, red clearance at most 6 s
}
#: Options that may be left unset (None): the fixed clearance standard, ITE's formulas where unset.
OPTIONAL_TIMING = frozenset({"yellow_s", "all_red_s"})



@dataclass(frozen=True)
class TimingOptions:
    """Engineering minimums and bounds used to build and check plans.

    Defaults: minimum green 7 s (5 s for a stage serving only left turns),
    walk 7 s (MUTCD 4E.06), walking speed 1.2 m/s, cycle 40--180 s.

    Clearances: by default every stage's yellow and all-red are at least
    ITE's kinematic values for its approaches (:mod:`signalopt.clearance`,
    from ``vehicle_length_m``, ``deceleration_m_s2`` and
    ``perception_reaction_s``).  An agency that sets them by a fixed
    standard instead (a 3 s yellow and a 1 s all-red on every approach, say)
    gives ``yellow_s`` [s] (3--6, MUTCD 4D.26) and ``all_red_s`` [s] (0--6);
    each replaces its formula for every stage after which vehicles stop.
    Either way a plan never shortens an interval the network's own
    programme runs longer (:func:`~signalopt.programs.safe_phase`).
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
    yellow_s: float | None = None
    all_red_s: float | None = None

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value is None and name in OPTIONAL_TIMING:
                continue
            lo, hi = TIMING_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise PlanError(f"timing.{name} must be a number from {lo:g} to {hi:g} ({value!r})")
        for name in OPTIONAL_TIMING:
            value = getattr(self, name)
            # plans are written in tenths of a second: a standard between two would be rounded up silently
            if value is not None and abs(value * 10 - round(value * 10)) > 1e-9:
                raise PlanError(f"timing.{name} must be a multiple of 0.1 s ({value!r})")
        if self.min_cycle_s >= self.max_cycle_s:
            raise PlanError(f"timing.min_cycle_s must be below max_cycle_s ({self.max_cycle_s:g}) "
                            f"({self.min_cycle_s:g})")
        for name in ("min_green_s", "min_green_left_s", "walk_s"):
            if getattr(self, name) > self.max_green_s:
                raise PlanError(f"timing.{name} must not exceed max_green_s ({self.max_green_s:g}) "
                                f"({getattr(self, name):g})")

    @property
    def yellow_rule(self) -> str:
        """Where the minimum yellow comes from, for messages beside its value: ``"ITE"`` or ``"standard"``."""
        return "ITE" if self.yellow_s is None else "standard"

    @property
    def all_red_rule(self) -> str:
        """Where the minimum all-red comes from, for messages beside its value: ``"ITE"`` or ``"standard"``."""
        return "ITE" if self.all_red_s is None else "standard"

    @property
    def clearance_rule(self) -> str:
        """Both clearance rules in words, with a standard's values, for logs and reports."""
        if self.yellow_s is None and self.all_red_s is None:
            return "ITE clearances"
        yellow = "ITE" if self.yellow_s is None else f"standard {self.yellow_s:g} s"
        all_red = "ITE" if self.all_red_s is None else f"standard {self.all_red_s:g} s"
        return f"yellow {yellow}, all-red {all_red}"
