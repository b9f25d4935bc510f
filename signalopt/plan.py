"""Timing plans: frozen, validated on construction, and their SUMO phase form.

A :class:`TimingPlan` is a fixed-time programme for one signal: an ordered
list of :class:`Phase` (stages), a cycle and an offset.  Each phase holds the
link states during its green (SUMO's one-character-per-link-index form), its
green, yellow and all-red durations, and the minimums it promises to respect.

Offsets are measured from the start of the first phase's green, in the
reference clock shared by all signals of a scenario (simulation time 0):
the first phase of a plan with offset ``o`` starts at ``t = o, o + C, ...``.

``split`` of a phase = green + yellow + all-red; the splits sum to the cycle.

Pedestrians: a phase that serves crossings lists them in its state with
``G``.  The walk indication lasts ``green_s - ped_clearance_s`` (rest in walk,
never less than ``walk_s``); the crossing then shows red while vehicles keep
their green, so the pedestrian clearance always finishes before the yellow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import PlanError

#: Link-state characters signalopt understands (SUMO's tlLogic alphabet).
GREEN_CHARS = frozenset("Gg")
STATE_CHARS = frozenset("GgrsyuoO")
#: Absolute floor on yellow change intervals (MUTCD 4D.26: 3 s minimum).
ABSOLUTE_MIN_YELLOW_S = 3.0
#: Durations are compared with this tolerance: plans are written with 0.1 s precision.
EPS_S = 1e-6


def _check_number(name: str, value: float, where: str, *, minimum: float = 0.0) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
        raise PlanError(f"{where}: {name} must be a number ({value!r})")
    if not math.isfinite(value) or value < minimum - EPS_S:
        raise PlanError(f"{where}: {name} must be finite and >= {minimum:g} ({value!r})")
    return float(value)


@dataclass(frozen=True)
class Phase:
    """One stage of a fixed-time plan.

    Parameters
    ----------
    name
        Label shown in reports (e.g. ``"NS left"``).
    state
        Link states during the green, one character per link index of the
        signal (SUMO ``tlLogic`` alphabet; ``G`` priority green, ``g``
        permissive green that yields).  Crossing links are ``G`` when the
        phase serves them.
    green_s, yellow_s, all_red_s
        Durations [s].
    min_green_s, max_green_s
        Bounds on the green [s] (vehicle minimum; the pedestrian minimum is
        added through ``walk_s + ped_clearance_s``).
    min_yellow_s, min_all_red_s
        Change and clearance intervals this phase must not cut [s]
        (ITE values for the approaches it serves; see :mod:`signalopt.clearance`).
    walk_s, ped_clearance_s
        Minimum walk and the pedestrian clearance (flashing don't walk) [s];
        both 0 when the phase serves no crossing.
    """

    name: str
    state: str
    green_s: float
    yellow_s: float
    all_red_s: float
    min_green_s: float = 5.0
    max_green_s: float = 120.0
    min_yellow_s: float = ABSOLUTE_MIN_YELLOW_S
    min_all_red_s: float = 0.0
    walk_s: float = 0.0
    ped_clearance_s: float = 0.0

    def __post_init__(self) -> None:
        where = f"phase {self.name!r}"
        if not self.state or set(self.state) - STATE_CHARS:
            raise PlanError(f"{where}: state must use the characters {''.join(sorted(STATE_CHARS))} ({self.state!r})")
        if not GREEN_CHARS & set(self.state):
            raise PlanError(f"{where}: state gives no green to any link ({self.state!r})")
        for name in ("green_s", "yellow_s", "all_red_s", "min_green_s", "max_green_s",
                     "min_yellow_s", "min_all_red_s", "walk_s", "ped_clearance_s"):
            object.__setattr__(self, name, _check_number(name, getattr(self, name), where))
        if self.min_yellow_s < ABSOLUTE_MIN_YELLOW_S - EPS_S:
            raise PlanError(f"{where}: min_yellow_s below the {ABSOLUTE_MIN_YELLOW_S:g} s floor ({self.min_yellow_s:g})")
        if self.yellow_s < self.min_yellow_s - EPS_S:
            raise PlanError(f"{where}: yellow_s {self.yellow_s:g} s cuts the minimum yellow ({self.min_yellow_s:g} s)")
        if self.all_red_s < self.min_all_red_s - EPS_S:
            raise PlanError(f"{where}: all_red_s {self.all_red_s:g} s cuts the minimum all-red ({self.min_all_red_s:g} s)")
        if self.max_green_s < self.min_green_s - EPS_S:
            raise PlanError(f"{where}: max_green_s {self.max_green_s:g} s is below min_green_s ({self.min_green_s:g} s)")
        if self.green_s < self.effective_min_green_s - EPS_S:
            raise PlanError(
                f"{where}: green_s {self.green_s:g} s is below its minimum ({self.effective_min_green_s:g} s)"
            )
        if self.green_s > self.max_green_s + EPS_S:
            raise PlanError(f"{where}: green_s {self.green_s:g} s exceeds max_green_s ({self.max_green_s:g} s)")
        if self.walk_s > 0 and self.walk_s < 7.0 - EPS_S:
            raise PlanError(f"{where}: walk_s must be at least 7 s (MUTCD 4E.06) ({self.walk_s:g})")

    @property
    def serves_pedestrians(self) -> bool:
        return self.walk_s > 0

    @property
    def effective_min_green_s(self) -> float:
        """Larger of the vehicle minimum and walk + pedestrian clearance [s]."""
        ped = self.walk_s + self.ped_clearance_s if self.serves_pedestrians else 0.0
        return max(self.min_green_s, ped)

    @property
    def split_s(self) -> float:
        """Green + yellow + all-red [s]."""
        return self.green_s + self.yellow_s + self.all_red_s

    @property
    def green_links(self) -> frozenset[int]:
        return frozenset(i for i, c in enumerate(self.state) if c in GREEN_CHARS)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Phase:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise PlanError(f"phase: unknown keys ({', '.join(sorted(unknown))})")
        return cls(**data)


@dataclass(frozen=True)
class TimingPlan:
    """A fixed-time programme for one signal.

    Parameters
    ----------
    signal_id
        SUMO ``tlLogic`` id.
    phases
        Stages in service order.
    offset_s
        Start of the first phase's green in the shared reference clock, in
        ``[0, cycle_s)`` [s].
    ped_links
        Link indices that are pedestrian crossings (shown red after the walk).
    program_id
        SUMO ``programID`` written on export.
    """

    signal_id: str
    phases: tuple[Phase, ...]
    offset_s: float = 0.0
    ped_links: frozenset[int] = field(default_factory=frozenset)
    program_id: str = "signalopt"

    def __post_init__(self) -> None:
        where = f"signal {self.signal_id!r}"
        object.__setattr__(self, "phases", tuple(self.phases))
        object.__setattr__(self, "ped_links", frozenset(self.ped_links))
        if not self.phases:
            raise PlanError(f"{where}: a plan needs at least one phase (0)")
        sizes = {len(p.state) for p in self.phases}
        if len(sizes) != 1:
            raise PlanError(f"{where}: phase states differ in length ({sorted(sizes)})")
        n_links = sizes.pop()
        bad = [i for i in self.ped_links if not 0 <= i < n_links]
        if bad:
            raise PlanError(f"{where}: ped_links outside the {n_links} link indices ({bad})")
        offset = _check_number("offset_s", self.offset_s, where)
        if offset >= self.cycle_s - EPS_S:
            raise PlanError(f"{where}: offset_s must be below the cycle {self.cycle_s:g} s ({offset:g})")
        object.__setattr__(self, "offset_s", offset)
        for p in self.phases:
            if p.serves_pedestrians and not (p.green_links & self.ped_links):
                raise PlanError(f"{where}: phase {p.name!r} has a walk but gives green to no crossing ({p.state})")

    @property
    def cycle_s(self) -> float:
        """Sum of the splits [s] (rounded to 1 µs so sums of tenths compare exactly)."""
        return round(float(sum(p.split_s for p in self.phases)), 6)

    @property
    def n_links(self) -> int:
        return len(self.phases[0].state)

    @property
    def lost_time_s(self) -> float:
        """Yellow + all-red over the cycle [s] (change and clearance intervals)."""
        return float(sum(p.yellow_s + p.all_red_s for p in self.phases))

    def phase_starts_s(self) -> list[float]:
        """Start of each phase's green within the cycle, from the first phase [s]."""
        starts, t = [], 0.0
        for p in self.phases:
            starts.append(t)
            t += p.split_s
        return starts

    def with_timings(self, greens_s: Sequence[float], *, offset_s: float | None = None) -> TimingPlan:
        """A copy with new greens (and offset); validated like any plan."""
        if len(greens_s) != len(self.phases):
            raise PlanError(f"signal {self.signal_id!r}: {len(greens_s)} greens for {len(self.phases)} phases")
        phases = tuple(replace(p, green_s=float(g)) for p, g in zip(self.phases, greens_s))
        return replace(self, phases=phases, offset_s=self.offset_s if offset_s is None else float(offset_s))

    # SUMO form -----------------------------------------------------------
    def sumo_phases(self) -> list[tuple[float, str]]:
        """The plan as SUMO ``(duration_s, state)`` phases.

        Per stage: green with walk, green with crossings red (pedestrian
        clearance), yellow, all-red.  Links green in this stage and the next
        keep their green through the change interval; links that lose the
        right of way show ``y`` then ``r``.
        """
        out: list[tuple[float, str]] = []
        n = len(self.phases)
        for i, p in enumerate(self.phases):
            nxt = self.phases[(i + 1) % n]
            state = p.state
            no_walk = without_walk(state, self.ped_links)
            if p.serves_pedestrians and no_walk != state:
                walk = p.green_s - p.ped_clearance_s
                out.append((walk, state))
                out.append((p.ped_clearance_s, no_walk))
            else:
                out.append((p.green_s, no_walk if not p.serves_pedestrians else state))
            yellow, red = transition_states(no_walk, nxt.state, self.ped_links)
            if p.yellow_s > 0:
                out.append((p.yellow_s, yellow))
            if p.all_red_s > 0:
                out.append((p.all_red_s, red))
        return [(round(d, 3), s) for d, s in out if d > EPS_S]

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal_id": self.signal_id,
            "program_id": self.program_id,
            "cycle_s": self.cycle_s,
            "offset_s": self.offset_s,
            "ped_links": sorted(self.ped_links),
            "phases": [p.to_dict() for p in self.phases],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimingPlan:
        data = dict(data)
        cycle = data.pop("cycle_s", None)
        phases = tuple(Phase.from_dict(p) for p in data.pop("phases", ()))
        unknown = set(data) - {"signal_id", "program_id", "offset_s", "ped_links"}
        if unknown:
            raise PlanError(f"plan: unknown keys ({', '.join(sorted(unknown))})")
        plan = cls(phases=phases, ped_links=frozenset(data.pop("ped_links", ())), **data)
        if cycle is not None and abs(float(cycle) - plan.cycle_s) > 1e-3:
            raise PlanError(f"signal {plan.signal_id!r}: splits sum to {plan.cycle_s:g} s, not the stated cycle ({cycle})")
        return plan


@dataclass(frozen=True)
class PlanSet:
    """Plans for several signals, keyed by signal id (order kept)."""

    plans: tuple[TimingPlan, ...]
    name: str = "plans"

    def __post_init__(self) -> None:
        object.__setattr__(self, "plans", tuple(self.plans))
        ids = [p.signal_id for p in self.plans]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise PlanError(f"plan set {self.name!r}: signal listed twice ({', '.join(dup)})")

    def __iter__(self) -> Iterator[TimingPlan]:
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)

    def __getitem__(self, signal_id: str) -> TimingPlan:
        for p in self.plans:
            if p.signal_id == signal_id:
                return p
        raise KeyError(signal_id)

    @property
    def signal_ids(self) -> tuple[str, ...]:
        return tuple(p.signal_id for p in self.plans)

    def replace_plans(self, plans: Iterable[TimingPlan], *, name: str | None = None) -> PlanSet:
        new = {p.signal_id: p for p in plans}
        return PlanSet(tuple(new.pop(p.signal_id, p) for p in self.plans) + tuple(new.values()),
                       name=name or self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "plans": [p.to_dict() for p in self.plans]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanSet:
        return cls(tuple(TimingPlan.from_dict(p) for p in data.get("plans", ())), name=data.get("name", "plans"))


def transition_states(state: str, next_state: str, ped_links: frozenset[int]) -> tuple[str, str]:
    """Yellow and all-red states between a green ``state`` and the next stage's green.

    Links green in both stages keep their green through the change; links
    that lose the right of way show ``y`` then ``r``; crossings show red.
    """
    yellow, red = [], []
    for k, c in enumerate(state):
        if c in GREEN_CHARS and next_state[k] in GREEN_CHARS and k not in ped_links:
            yellow.append(c)
            red.append(c)
        elif c in GREEN_CHARS and k not in ped_links:
            yellow.append("y")
            red.append("r")
        else:
            keep = c if c in "sOo" else "r"
            yellow.append(keep)
            red.append(keep)
    return "".join(yellow), "".join(red)


def without_walk(state: str, ped_links: frozenset[int]) -> str:
    """``state`` with its crossings red (the pedestrian clearance part of a green)."""
    return "".join("r" if k in ped_links and c in GREEN_CHARS else c for k, c in enumerate(state))


# Reading SUMO programmes ------------------------------------------------------
def _greens(state: str) -> frozenset[int]:
    return frozenset(i for i, c in enumerate(state) if c in GREEN_CHARS)


def stages_from_sumo(phases: Sequence[tuple[float, str]]) -> tuple[int, list[list[tuple[float, str]]]]:
    """Group SUMO phases into stages.

    A stage starts at a phase without yellow that gives green to a link that
    was not green in the phase before it; yellow, all-red and walk/clearance
    changes belong to the stage they end.  Returns the index of the SUMO phase
    that starts the first stage and the grouped phases (rotated to start there).
    """
    n = len(phases)
    starts = [
        i for i, (_, s) in enumerate(phases)
        if "y" not in s and _greens(s) - _greens(phases[i - 1][1])
    ]
    if not starts:
        # a programme that never changes its greens is one stage
        starts = [0]
    first = starts[0]
    stages: list[list[tuple[float, str]]] = []
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else first + n
        stages.append([phases[j % n] for j in range(s, end)])
    return first, stages
