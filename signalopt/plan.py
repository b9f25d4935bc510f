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
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .actuated import Actuation
from .errors import PlanError

#: Link-state characters signalopt understands (SUMO's tlLogic alphabet).
GREEN_CHARS = frozenset("Gg")
#: How much right of way a link state gives: protected green over permissive green over anything else (0).
GREEN_RANK = {"G": 2, "g": 1}
STATE_CHARS = frozenset("GgrsyuoO")
#: Absolute floor on yellow change intervals (MUTCD 4D.26: 3 s minimum).
ABSOLUTE_MIN_YELLOW_S = 3.0
#: Durations are compared with this tolerance: plans are written with 0.1 s precision.
EPS_S = 1e-6


#: Keys of a phase and of a signal plan in signalopt's JSON form (what ``to_dict`` writes).
_PHASE_KEYS = ("name", "state", "green_s", "yellow_s", "all_red_s", "min_green_s", "max_green_s",
               "min_yellow_s", "min_all_red_s", "walk_s", "ped_clearance_s", "change")
#: Keys a phase object may leave out: no ``change`` means the standard interstage.
_OPTIONAL_PHASE_KEYS = frozenset({"change"})
_PLAN_KEYS = ("signal_id", "program_id", "cycle_s", "offset_s", "ped_links", "phases", "actuation")
#: A plan set in JSON: what :meth:`PlanSet.to_dict` writes.
_PLANSET_KEYS = ("name", "plans")


def show_value(value: object, limit: int = 60) -> str:
    """``repr`` of an offending value, cut to ``limit`` characters.

    Error messages quote the bad value; a file can hold a value of any size,
    and the message must stay one readable line.

    Parameters
    ----------
    value
        The value to show.
    limit
        Longest text returned.

    Returns
    -------
    str
        The ``repr``, ending in ``...`` when cut.
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_number(name: str, value: Any, where: str, *, minimum: float = 0.0) -> float:
    """``value`` as a float, or :class:`PlanError` naming ``where``, ``name`` and the value.

    Only real numbers pass: JSON strings (``"72"``) and booleans (``true`` is
    1 in Python) are refused rather than converted, and NaN and infinities --
    which Python's ``json`` reads -- are refused because every comparison with
    NaN is false, so a NaN duration would pass every minimum check.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise PlanError(f"{where}: {name} must be a number ({show_value(value)})")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if math.isnan(number):
        raise PlanError(f"{where}: {name} must be a number ({show_value(value)})")
    if not math.isfinite(number) or number < minimum - EPS_S:
        raise PlanError(f"{where}: {name} must be finite and >= {minimum:g} ({show_value(value)})")
    return number


def _missing_keys(data: Mapping[str, Any], required: Iterable[str]) -> list[str]:
    return [k for k in required if k not in data]


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
        (ITE values for the approaches it serves, or a fixed standard; see
        :mod:`signalopt.clearance` and :class:`~signalopt.options.TimingOptions`).
    walk_s, ped_clearance_s
        Minimum walk and the pedestrian clearance (flashing don't walk) [s];
        both 0 when the phase serves no crossing.
    change
        The interstage as programmed: the ``(duration_s, state)`` intervals
        between this stage's green and the next stage's, in order, kept
        verbatim from a SUMO programme (links that stay green through it,
        staggered yellows, a left arrow that stays ``g`` while the throughs
        turn yellow).  Intervals showing ``y`` form the yellow, the others the
        all-red; ``yellow_s`` and ``all_red_s`` are their sums and a plan that
        changes them stretches each group in proportion.  Empty: the standard
        interstage, derived from the next stage (see :func:`transition_states`).
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
    change: tuple[tuple[float, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise PlanError(f"phase name must be a string ({show_value(self.name)})")
        where = f"phase {self.name!r}"
        if not isinstance(self.state, str):
            # checked before set(state): set(123) is a TypeError, set("...") of a list a wrong message
            raise PlanError(f"{where}: state must be a string of link states ({show_value(self.state)})")
        if not self.state or set(self.state) - STATE_CHARS:
            raise PlanError(f"{where}: state must use the characters {''.join(sorted(STATE_CHARS))} ({self.state!r})")
        if not GREEN_CHARS & set(self.state):
            raise PlanError(f"{where}: state gives no green to any link ({self.state!r})")
        for name in ("green_s", "yellow_s", "all_red_s", "min_green_s", "max_green_s",
                     "min_yellow_s", "min_all_red_s", "walk_s", "ped_clearance_s"):
            object.__setattr__(self, name, _check_number(name, getattr(self, name), where))
        if 0 < self.min_yellow_s < ABSOLUTE_MIN_YELLOW_S - EPS_S:
            # 0 is a stage after which no vehicle loses the right of way (a pedestrian-only stage)
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
        object.__setattr__(self, "change", _check_change(self.change, len(self.state), where))
        if self.change:
            yellow, red = change_sums(self.change)
            if self.yellow_s > EPS_S and yellow <= 0:
                raise PlanError(f"{where}: yellow_s {self.yellow_s:g} s but no interval of the change shows yellow")
            if self.yellow_s <= EPS_S < yellow:
                raise PlanError(f"{where}: the change shows yellow for {yellow:g} s but yellow_s is 0")

    def intervals(self, next_state: str, ped_links: frozenset[int]) -> list[tuple[float, str]]:
        """The stage as SUMO ``(duration_s, state)`` intervals, zero-length ones left out.

        Green with walk, green with crossings red (pedestrian clearance), then
        the interstage to ``next_state``: the programmed one (:attr:`change`,
        each group stretched to ``yellow_s`` and ``all_red_s``) or, when none
        is stored, the standard one (links green in both stages keep their
        green, links that lose the right of way show ``y`` then ``r``).
        """
        out: list[tuple[float, str]] = []
        no_walk = without_walk(self.state, ped_links)
        if self.serves_pedestrians and no_walk != self.state:
            out.append((self.green_s - self.ped_clearance_s, self.state))
            out.append((self.ped_clearance_s, no_walk))
        else:
            out.append((self.green_s, no_walk if not self.serves_pedestrians else self.state))
        out.extend(self.change_intervals(next_state, ped_links))
        return [(d, s) for d, s in out if d > EPS_S]

    def change_intervals(self, next_state: str, ped_links: frozenset[int], *,
                         programmed: bool = True) -> list[tuple[float, str]]:
        """The interstage to a stage whose green is ``next_state`` [s, state].

        ``programmed=False`` derives the standard interstage even when one is
        stored: the stored one was designed for the stage that follows in the
        plan, and a controller that skips to another stage (max-pressure)
        must not carry its continuing greens there.
        """
        if not (programmed and self.change):
            yellow, red = transition_states(without_walk(self.state, ped_links), next_state, ped_links)
            return [(self.yellow_s, yellow), (self.all_red_s, red)]
        return _stretch_change(self.change, self.yellow_s, self.all_red_s)

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
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "change"}
        if self.change:
            out["change"] = [[d, s] for d, s in self.change]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, index: int | None = None) -> Phase:
        """A phase from its JSON form; every key :meth:`to_dict` writes is required.

        Parameters
        ----------
        data
            The phase object.
        index
            Its 1-based position in the plan, named in errors found before
            the phase has a name.

        Raises
        ------
        PlanError
            Not an object, unknown or missing keys, or any broken rule.
        """
        where = "phase" if index is None else f"phase {index}"
        if not isinstance(data, Mapping):
            raise PlanError(f"{where}: must be an object ({show_value(data)})")
        unknown = set(data) - set(_PHASE_KEYS)
        if unknown:
            raise PlanError(f"{where}: unknown keys ({', '.join(sorted(map(str, unknown)))})")
        # the minimums are promises the safety check relies on: a file that leaves one out
        # must not get the dataclass default silently
        missing = _missing_keys(data, [k for k in _PHASE_KEYS if k not in _OPTIONAL_PHASE_KEYS])
        if missing:
            raise PlanError(f"{where}: missing keys ({', '.join(missing)})")
        if not isinstance(data["name"], str):
            # checked here too, so the message can name the phase by its position
            raise PlanError(f"{where}: name must be a string ({show_value(data['name'])})")
        data = dict(data)
        change = data.pop("change", ())
        if not isinstance(change, (list, tuple)):
            raise PlanError(f"phase {data['name']!r}: change must be a list of [duration_s, state] "
                            f"({show_value(change)})")
        return cls(**data, change=tuple(tuple(c) if isinstance(c, (list, tuple)) else c for c in change))


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
    actuation
        Actuated control settings (:mod:`signalopt.actuated`), one per stage;
        ``None`` for fixed time.
    """

    signal_id: str
    phases: tuple[Phase, ...]
    offset_s: float = 0.0
    ped_links: frozenset[int] = field(default_factory=frozenset)
    program_id: str = "signalopt"
    actuation: Actuation | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.signal_id, str) or not self.signal_id:
            raise PlanError(f"signal_id must be a non-empty string ({show_value(self.signal_id)})")
        where = f"signal {self.signal_id!r}"
        if not isinstance(self.program_id, str) or not self.program_id:
            raise PlanError(f"{where}: program_id must be a non-empty string ({show_value(self.program_id)})")
        if not isinstance(self.phases, Iterable) or isinstance(self.phases, (str, Mapping)):
            raise PlanError(f"{where}: phases must be a sequence of phases ({show_value(self.phases)})")
        object.__setattr__(self, "phases", tuple(self.phases))
        for k, p in enumerate(self.phases, start=1):
            if not isinstance(p, Phase):
                raise PlanError(f"{where}: phase {k} is not a Phase ({show_value(p)})")
        object.__setattr__(self, "ped_links", _link_indices(self.ped_links, where))
        if not self.phases:
            raise PlanError(f"{where}: a plan needs at least one phase (0)")
        if not math.isfinite(self.cycle_s):
            # finite splits can still overflow to an infinite sum (1e308 + 1e308)
            raise PlanError(f"{where}: cycle_s must be finite ({self.cycle_s!r})")
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
        if self.actuation is not None:
            if not isinstance(self.actuation, Actuation):
                raise PlanError(f"{where}: actuation must be an Actuation ({show_value(self.actuation)})")
            if len(self.actuation.stages) != len(self.phases):
                raise PlanError(f"{where}: actuation has {len(self.actuation.stages)} stage settings for "
                                f"{len(self.phases)} stages")

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
        """The plan as SUMO ``(duration_s, state)`` phases: every stage's
        :meth:`Phase.intervals` in order, durations rounded to 1 ms."""
        n = len(self.phases)
        return [(round(d, 3), s) for i, p in enumerate(self.phases)
                for d, s in p.intervals(self.phases[(i + 1) % n].state, self.ped_links)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal_id": self.signal_id,
            "program_id": self.program_id,
            "cycle_s": self.cycle_s,
            "offset_s": self.offset_s,
            "ped_links": sorted(self.ped_links),
            "phases": [p.to_dict() for p in self.phases],
            **({"actuation": self.actuation.to_dict()} if self.actuation is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, index: int | None = None) -> TimingPlan:
        """A signal plan from its JSON form.

        ``signal_id`` and ``phases`` are required; ``program_id``,
        ``offset_s`` and ``ped_links`` take the dataclass defaults when left
        out; ``cycle_s``, when given, must be a finite number equal to the
        sum of the splits.

        Parameters
        ----------
        data
            The plan object.
        index
            Its 1-based position in the plan set, named in errors found
            before the signal id is known.

        Raises
        ------
        PlanError
            Wrong types, unknown or missing keys, or any broken rule; the
            message names the signal (and phase) and the offending value.
        """
        label = "plan" if index is None else f"plan {index}"
        if not isinstance(data, Mapping):
            raise PlanError(f"{label}: must be an object ({show_value(data)})")
        data = dict(data)
        unknown = set(data) - set(_PLAN_KEYS)
        if unknown:
            raise PlanError(f"{label}: unknown keys ({', '.join(sorted(map(str, unknown)))})")
        missing = _missing_keys(data, ("signal_id", "phases"))
        if missing:
            raise PlanError(f"{label}: missing keys ({', '.join(missing)})")
        sid = data["signal_id"]
        if not isinstance(sid, str) or not sid:
            raise PlanError(f"{label}: signal_id must be a non-empty string ({show_value(sid)})")
        where = f"signal {sid!r}"
        has_cycle = "cycle_s" in data
        # an explicit null is refused too: only a missing key means "not stated"
        cycle = _check_number("cycle_s", data.pop("cycle_s"), where) if has_cycle else None
        raw_phases = data.pop("phases")
        if not isinstance(raw_phases, (list, tuple)):
            raise PlanError(f"{where}: phases must be a list of phase objects ({show_value(raw_phases)})")
        phases = []
        for k, p in enumerate(raw_phases, start=1):
            try:
                phases.append(Phase.from_dict(p, index=k))
            except PlanError as exc:
                raise PlanError(f"{where}, {exc}") from None
        if "ped_links" in data and not isinstance(data["ped_links"], (list, tuple)):
            # a string would otherwise be read as a set of characters
            raise PlanError(f"{where}: ped_links must be a list of link indices ({show_value(data['ped_links'])})")
        if "actuation" in data:
            data["actuation"] = Actuation.from_dict(data["actuation"], where=where)
        plan = cls(phases=tuple(phases), **data)
        if cycle is not None and abs(cycle - plan.cycle_s) > 1e-3:
            raise PlanError(f"{where}: splits sum to {plan.cycle_s:g} s, not the stated cycle ({cycle:g})")
        return plan


@dataclass(frozen=True)
class PlanSet:
    """Plans for several signals, keyed by signal id (order kept)."""

    plans: tuple[TimingPlan, ...]
    name: str = "plans"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise PlanError(f"plan set name must be a string ({show_value(self.name)})")
        object.__setattr__(self, "plans", tuple(self.plans))
        for k, p in enumerate(self.plans, start=1):
            if not isinstance(p, TimingPlan):
                raise PlanError(f"plan set {self.name!r}: plan {k} is not a TimingPlan ({show_value(p)})")
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
        """A plan set from its JSON form: ``plans``, a non-empty list of signal plans, and an optional ``name``.

        Raises
        ------
        PlanError
            Not an object, unknown keys, no ``plans`` or an empty list (a
            file that plans nothing would validate as "safe" and let a
            simulation fall back to the network's own programmes), or any
            invalid signal plan.
        """
        if not isinstance(data, Mapping):
            raise PlanError(f"plan set must be an object ({show_value(data)})")
        unknown = set(data) - set(_PLANSET_KEYS)
        if unknown:
            raise PlanError(f"plan set: unknown keys ({', '.join(sorted(map(str, unknown)))})")
        if "plans" not in data:
            raise PlanError(f'plan set: no "plans" list (keys: {", ".join(sorted(map(str, data))) or "none"})')
        raw = data["plans"]
        if not isinstance(raw, (list, tuple)):
            raise PlanError(f"plans must be a list of signal plans ({show_value(raw)})")
        if not raw:
            raise PlanError(f"plans: the list holds no signal plans ({show_value(raw)})")
        name = data.get("name", "plans")
        if not isinstance(name, str):
            raise PlanError(f"plan set name must be a string ({show_value(name)})")
        return cls(tuple(TimingPlan.from_dict(p, index=k) for k, p in enumerate(raw, start=1)), name=name)


def _link_indices(value: Any, where: str) -> frozenset[int]:
    """``value`` as a set of link indices, or :class:`PlanError` naming ``where`` and the value.

    Strings, booleans and floats are refused: ``frozenset("abc")`` would be
    a set of characters, and ``True`` would silently mean link 1.
    """
    bad = PlanError(f"{where}: ped_links must be link indices (integers) ({show_value(value)})")
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise bad
    items = list(value)
    if any(not isinstance(i, numbers.Integral) or isinstance(i, bool) for i in items):
        raise bad
    return frozenset(int(i) for i in items)


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


def _check_change(change: Any, n_links: int, where: str) -> tuple[tuple[float, str], ...]:
    """``change`` as a tuple of ``(duration_s, state)``, or :class:`PlanError` naming the bad interval."""
    if isinstance(change, (str, bytes, Mapping)) or not isinstance(change, Iterable):
        raise PlanError(f"{where}: change must be a sequence of (duration_s, state) ({show_value(change)})")
    out = []
    for k, item in enumerate(change, start=1):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise PlanError(f"{where}: change interval {k} must be (duration_s, state) ({show_value(item)})")
        duration = _check_number(f"change interval {k} duration", item[0], where)
        state = item[1]
        if not isinstance(state, str) or len(state) != n_links or set(state) - STATE_CHARS:
            raise PlanError(f"{where}: change interval {k} state must be {n_links} link states "
                            f"({show_value(state)})")
        out.append((duration, state))
    return tuple(out)


def _is_yellow(state: str) -> bool:
    return "y" in state


def change_sums(change: Sequence[tuple[float, str]]) -> tuple[float, float]:
    """Yellow and all-red time of a programmed interstage [s]."""
    return (float(sum(d for d, st in change if _is_yellow(st))),
            float(sum(d for d, st in change if not _is_yellow(st))))


def _stretch_change(change: Sequence[tuple[float, str]], yellow_s: float,
                    all_red_s: float) -> list[tuple[float, str]]:
    """A programmed interstage with its yellow and all-red groups stretched to ``yellow_s`` and ``all_red_s``.

    Each group is scaled in proportion, so its shape (which link shows what,
    in which order) is kept; an all-red asked of an interstage programmed
    without one is appended after it: the last interval with its yellows red.
    """
    yellow, red = change_sums(change)
    scale_y = 1.0 if abs(yellow - yellow_s) < EPS_S else (yellow_s / yellow if yellow > 0 else 0.0)
    scale_r = 1.0 if abs(red - all_red_s) < EPS_S else (all_red_s / red if red > 0 else 0.0)
    out = [(d * (scale_y if _is_yellow(st) else scale_r), st) for d, st in change]
    if red <= 0 < all_red_s - EPS_S:
        out.append((all_red_s, change[-1][1].replace("y", "r")))
    return out


# Reading SUMO programmes ------------------------------------------------------
def _greens(state: str) -> frozenset[int]:
    return frozenset(i for i, c in enumerate(state) if c in GREEN_CHARS)


def _gains(before: str, after: str) -> bool:
    """Whether a link gains right of way from ``before`` to ``after`` (red or yellow to green, ``g`` to ``G``)."""
    return any((c == "G" and b != "G") or (c == "g" and b not in GREEN_CHARS) for b, c in zip(before, after))


@dataclass(frozen=True)
class ProgrammeStage:
    """One stage of a SUMO programme as read: its green and the interstage after it.

    ``green`` is the stage's main interval ``(duration_s, state)``;
    ``clearance_s`` the pedestrian clearance after it (the same state with
    its crossings red), 0 when there is none; ``change`` the intervals up to
    the next stage's green, verbatim; ``first_phase`` the index of the SUMO
    phase the stage starts at.
    """

    first_phase: int
    green: tuple[float, str]
    clearance_s: float
    change: tuple[tuple[float, str], ...]

    @property
    def duration_s(self) -> float:
        return self.green[0] + self.clearance_s + sum(d for d, _ in self.change)


def read_stages(phases: Sequence[tuple[float, str]],
                ped_links: frozenset[int] = frozenset()) -> list[ProgrammeStage]:
    """Split a SUMO programme into stages, keeping every interval.

    A stage starts where a link gains right of way (red or yellow to green,
    or a permissive ``g`` becoming a protected ``G``: netconvert's protected
    left after the permissive one); where the greens change in any other way
    without a yellow (a link dropped, ``G`` to ``g``); and at a green that
    runs on after a yellow until a yellow of its own (a through that keeps
    going after a leading left's yellow).  A green may be followed by its
    pedestrian clearance (the same state with the crossings red).  Every
    other interval -- yellows, all-reds, links kept green through the change
    -- is the interstage that ends the stage, kept verbatim.  Consecutive
    identical greens are one green.

    Returns the stages in order from the programme's first stage start; an
    empty list for a programme that never shows a green.
    """
    n = len(phases)
    states = [st for _, st in phases]
    if not any(_greens(st) for st in states):
        return []

    def next_different(i: int) -> str:
        for k in range(1, n):
            if states[(i + k) % n] != states[i]:
                return states[(i + k) % n]
        return states[i]

    starts = [i for i in range(n) if not _is_yellow(states[i]) and _gains(states[i - 1], states[i])]
    first = starts[0] if starts else next(i for i in range(n) if _greens(states[i]) and not _is_yellow(states[i]))
    stages: list[ProgrammeStage] = []
    first_phase, green_s, green_state = first, phases[first][0], states[first]
    clearance_s, change = 0.0, []
    for k in range(1, n):
        i = (first + k) % n
        dur, st = phases[i]
        if _is_yellow(st):
            change.append((dur, st))
            continue
        if change:  # after a yellow or an all-red: a new green, or more of the interstage
            new = _gains(states[i - 1], st) or (bool(_greens(st) - ped_links) and _is_yellow(next_different(i)))
        elif st == green_state and not clearance_s:
            green_s += dur
            continue
        elif ped_links and st != green_state and st == without_walk(green_state, ped_links):
            clearance_s += dur
            continue
        else:
            new = bool(_greens(st))
        if new:
            stages.append(ProgrammeStage(first_phase, (green_s, green_state), clearance_s, tuple(change)))
            first_phase, green_s, green_state, clearance_s, change = i, dur, st, 0.0, []
        else:
            change.append((dur, st))
    stages.append(ProgrammeStage(first_phase, (green_s, green_state), clearance_s, tuple(change)))
    return stages
