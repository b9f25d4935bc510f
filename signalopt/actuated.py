"""Actuated control settings of a plan: what an engineer sets in a controller besides the fixed timing.

A :class:`~signalopt.plan.TimingPlan` with an :class:`Actuation` is an
actuated plan: its stages, their order and their change intervals are the
plan's; each stage's green runs from its minimum to its maximum and is held
while vehicles keep arriving at the extension detectors within the passage
time (gap-out), ended at the maximum (max-out).  In ``coordinated`` mode the
plan's cycle, offset and splits also hold: a stage's green cannot outlast
its split (split-based maximum, fixed force-off), and the coordinated stage
takes the time the others leave unused.

The clearances (yellow, all-red) and the pedestrian timing are the plan's
and are never cut by a gap-out or a force-off; :func:`signalopt.safety.check_plan`
checks that the minimums are not below the stage's vehicle and pedestrian
minimums.

Passage time is NTCIP 1202's ``phasePassage`` (SUMO's ``max-gap``: the
largest time gap between vehicles at the detector that still extends the
green).  Recall: ``min`` serves the stage every cycle for at least its
minimum (SUMO's actuated controller always does), ``max`` holds it to its
maximum (fixed time for that stage), ``ped`` serves it every cycle with its
walk and pedestrian clearance (the stage must have a crossing; its minimum
already covers both, so it runs as ``min`` does), ``none`` serves it only
when a vehicle calls it (is detected on a lane it serves) and skips it
otherwise.  A free plan, skipping or not, runs in SUMO's stage-based
actuated controller: a stage that may be followed by several (the next ones
may skip) chooses among them by switching rules on call detectors
(:func:`signalopt.formats.sumo.plans_additional`); a coordinated plan runs in
SUMO's NEMA controller (:func:`runs_in_nema`).

References: FHWA Traffic Signal Timing Manual, 2nd ed. (2015), ch. 5
(actuated timing parameters); NTCIP 1202 v03 (phase table objects).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PlanError

#: Recall modes: NTCIP's none (skipped without a call), minimum vehicle, maximum vehicle and pedestrian recall.
RECALLS = ("none", "min", "max", "ped")
#: Operating modes.
MODES = ("free", "coordinated")
#: Passage times signalopt sets [s] (NTCIP allows 0-25.5 s; FHWA's manual recommends 1-4 s for most detectors).
MIN_PASSAGE_S, MAX_PASSAGE_S = 0.5, 10.0
#: Extension detectors lie this far from the stop line at most [m].
MAX_DETECTOR_M = 150.0


def checked_number(where: str, name: str, value: Any, *, low: float = 0.0, high: float = math.inf) -> float:
    """``value`` as a float, or a :class:`PlanError` naming ``where``, ``name`` and the value: not a finite
    number (booleans included), or outside ``[low, high]``."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(float(value)):
        raise PlanError(f"{where}: {name} must be a finite number ({value!r})")
    v = float(value)
    if not low <= v <= high:
        raise PlanError(f"{where}: {name} must be in [{low:g}, {high:g}] ({v:g})")
    return v


@dataclass(frozen=True)
class StageActuation:
    """Actuated settings of one stage's green.

    Parameters
    ----------
    min_green_s
        Shortest green [s] (NTCIP ``phaseMinimumGreen``).
    max_green_s
        Longest green (maximum 1) [s].
    passage_s
        Passage time: the green ends when no vehicle reaches a detector within it [s].
    recall
        ``none``, ``min``, ``max`` or ``ped`` (see the module docstring).
    max2_green_s
        Second maximum for a time-of-day plan (NTCIP ``phaseMaximum2``) [s]; written to the controller
        sheet, not simulated.
    """

    min_green_s: float
    max_green_s: float
    passage_s: float
    recall: str = "min"
    max2_green_s: float | None = None

    def __post_init__(self) -> None:
        where = "stage actuation"
        lo = checked_number(where, "min_green_s", self.min_green_s, low=1.0)
        hi = checked_number(where, "max_green_s", self.max_green_s, low=lo)
        checked_number(where, "passage_s", self.passage_s, low=MIN_PASSAGE_S, high=MAX_PASSAGE_S)
        if self.recall not in RECALLS:
            raise PlanError(f"{where}: recall must be one of {', '.join(RECALLS)} ({self.recall!r})")
        if self.max2_green_s is not None:
            checked_number(where, "max2_green_s", self.max2_green_s, low=lo)
        object.__setattr__(self, "min_green_s", lo)
        object.__setattr__(self, "max_green_s", hi)

    def to_dict(self) -> dict[str, Any]:
        out = {"min_green_s": self.min_green_s, "max_green_s": self.max_green_s, "passage_s": self.passage_s,
               "recall": self.recall}
        if self.max2_green_s is not None:
            out["max2_green_s"] = self.max2_green_s
        return out


@dataclass(frozen=True)
class Detector:
    """An extension detector: an induction loop ``distance_m`` before the stop line of ``lane``.

    ``stage`` is the plan stage whose green it extends (the stage in which the
    lane's links first get green); ``pos_m`` its position from the lane's start [m].
    """

    lane: str
    distance_m: float
    pos_m: float
    stage: int

    def __post_init__(self) -> None:
        where = f"detector on lane {self.lane!r}"
        if not isinstance(self.lane, str) or not self.lane:
            raise PlanError(f"detector: lane must be a lane id ({self.lane!r})")
        checked_number(where, "distance_m", self.distance_m, low=0.0, high=MAX_DETECTOR_M)
        checked_number(where, "pos_m", self.pos_m)
        if not isinstance(self.stage, int) or isinstance(self.stage, bool) or self.stage < 0:
            raise PlanError(f"{where}: stage must be a stage index ({self.stage!r})")

    def to_dict(self) -> dict[str, Any]:
        return {"lane": self.lane, "distance_m": self.distance_m, "pos_m": self.pos_m, "stage": self.stage}


@dataclass(frozen=True)
class Actuation:
    """The actuated settings of one plan: per stage, the detectors and the mode."""

    stages: tuple[StageActuation, ...]
    detectors: tuple[Detector, ...]
    mode: str = "free"

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "detectors", tuple(self.detectors))
        if not self.stages or not all(isinstance(s, StageActuation) for s in self.stages):
            raise PlanError(f"actuation: stages must be stage actuations ({self.stages!r})")
        if not all(isinstance(d, Detector) for d in self.detectors):
            raise PlanError(f"actuation: detectors must be detectors ({self.detectors!r})")
        if self.mode not in MODES:
            raise PlanError(f"actuation: mode must be one of {', '.join(MODES)} ({self.mode!r})")
        bad = [d.stage for d in self.detectors if d.stage >= len(self.stages)]
        if bad:
            raise PlanError(f"actuation: detector stage beyond the {len(self.stages)} stages ({bad[0]})")
        lanes = [d.lane for d in self.detectors]
        if len(set(lanes)) != len(lanes):
            raise PlanError(f"actuation: two detectors on one lane ({sorted(l for l in lanes if lanes.count(l) > 1)[0]})")

    @property
    def skips_stages(self) -> bool:
        """Whether a stage is skipped when nobody calls it (``none`` recall)."""
        return any(s.recall == "none" for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "stages": [s.to_dict() for s in self.stages],
                "detectors": [d.to_dict() for d in self.detectors]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str) -> Actuation:
        """The actuation of a plan file (``where`` names the plan in errors)."""
        if not isinstance(data, Mapping):
            raise PlanError(f"{where}: actuation must be an object ({data!r})")
        unknown = set(data) - {"mode", "stages", "detectors"}
        if unknown:
            raise PlanError(f"{where}: actuation: unknown keys ({', '.join(sorted(map(str, unknown)))})")
        try:
            stages = tuple(StageActuation(**s) for s in data.get("stages", ()))
            detectors = tuple(Detector(**d) for d in data.get("detectors", ()))
        except TypeError as exc:
            raise PlanError(f"{where}: actuation: {exc}") from None
        except PlanError as exc:
            raise PlanError(f"{where}: {exc}") from None
        return cls(stages, detectors, data.get("mode", "free"))


def runs_in_nema(actuation: Actuation | None) -> bool:
    """Whether a plan with ``actuation`` runs in SUMO's NEMA controller: coordinated (force-offs, which SUMO's
    stage-based actuated controller does not have)."""
    return actuation is not None and actuation.mode == "coordinated"


def stage_successors(recalls: Sequence[str]) -> tuple[tuple[int, ...], ...]:
    """Per stage, the stages that may follow it: the next one, and while that one is on recall ``none`` (skipped
    without a call) the one after it too, up to the first stage that is always served.  A change interval must
    clear every one of them."""
    n = len(recalls)
    out = []
    for i in range(n):
        nxt, j = [], (i + 1) % n
        while j != i:
            nxt.append(j)
            if recalls[j] != "none":
                break
            j = (j + 1) % n
        out.append(tuple(nxt))
    return tuple(out)
