"""Time-of-day schedules: contiguous control periods, each with its plan set, and safe switching.

Switching rule (what :func:`signalopt.formats.sumo.waut_additional` writes, what
signalopt's switching controller does, and what a controller should do):
at a period boundary ``T`` each signal finishes its current cycle (it switches
at the first start of its old plan's first stage at or after ``T``, right after
the old last stage's yellow and all-red), runs one *transition cycle* of the
new plan's stages -- greens stretched or shrunk in proportion, never below
their minimums -- whose length lands exactly on the new plan's coordinated
start (its offset), and from then on runs the new plan.  Every change of
indication in the transition is one the plans themselves make, so no yellow
or all-red is cut and no minimum green is shortened.  A free actuated plan
has no coordinated start: it takes over in the running programme's last
interval (the all-red, or yellow, before the first stage) where its own last
interval shows the same, and its controller then starts the first stage and
times its minimum from there.  An actuated plan's cycle is not known in
advance, so a schedule with one is switched in the running simulation
(:mod:`signalopt._schedule_run`), which hands over at a point it sees the
running programme reach; coordinated actuated plans, which run in SUMO's
NEMA controller, are refused in simulation, because that controller cannot
be handed over at a known point.

Times are seconds since midnight of the simulated day (simulation time, as
in the scenarios' ``begin_s``/``end_s``), written as numbers or ``"HH:MM"``
strings, from 0 to :data:`MAX_TIME_S`.  A schedule runs
only inside the span its periods cover: :meth:`Schedule.period_at` refuses
times outside it, and :func:`check_covers` refuses a scenario window it does
not cover, rather than stretching the first or last period.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ._xml import check_file, check_schema_version, read_json_object
from ._alloc import round_preserving_sum, water_fill
from ._clock import clock_text, parse_time_s
from .errors import InputError, PlanError
from .plan import GREEN_CHARS, PlanSet, show_value, TimingPlan

SCHEDULE_SCHEMA_VERSION = 1
#: Latest time a schedule may name [s]: a week, as for a scenario's run (one past midnight goes beyond 24:00).
MAX_TIME_S = 7 * 86400.0
#: Top-level keys of a schedule file (what :meth:`Schedule.to_dict` and the JSON export write).
SCHEDULE_FILE_KEYS = ("schema_version", "kind", "name", "periods", "provenance")
#: Keys of one period object.
PERIOD_KEYS = ("name", "begin_s", "end_s", "plans")


def _time_s(value: Any, where: str, key: str) -> float:
    """A period bound from a file: seconds or ``"HH:MM[:SS]"``, finite and within the day.

    Raises
    ------
    PlanError
        Naming ``where``, ``key`` and the value: not a time (booleans
        included), not finite, or outside ``[0, MAX_TIME_S]``.
    """
    t: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            t = float(value)
        except OverflowError:  # an integer of hundreds of digits
            t = math.inf
    elif isinstance(value, str):
        try:
            t = parse_time_s(value)
        except ValueError:
            t = None
    if t is None:
        raise PlanError(f"{where}: {key} is not a time (HH:MM or seconds) ({show_value(value)})")
    if not math.isfinite(t) or not 0.0 <= t <= MAX_TIME_S:
        raise PlanError(f"{where}: {key} must be a time from 0 to {MAX_TIME_S:g} s (a week: scenarios may run "
                        f"past midnight) ({show_value(value)})")
    return t


@dataclass(frozen=True)
class SchedulePeriod:
    """One control period ``[begin_s, end_s)`` and the plans that run in it."""

    name: str
    begin_s: float
    end_s: float
    plans: PlanSet

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise PlanError(f"period name must be a string ({show_value(self.name)})")
        where = f"period {self.name!r}"
        for key in ("begin_s", "end_s"):
            value = getattr(self, key)
            # NaN and infinities would break the switching arithmetic (int(nan) in the WAUT times)
            if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value)
                    or value < 0):
                raise PlanError(f"{where}: {key} must be a finite time >= 0 s ({show_value(value)})")
        if not self.end_s > self.begin_s:
            raise PlanError(f"{where}: end must be after begin ({self.begin_s:g}, {self.end_s:g})")
        if not isinstance(self.plans, PlanSet) or not len(self.plans):
            raise PlanError(f"{where}: no plans (a period needs a plan for every signal) "
                            f"({show_value(self.plans)})")


@dataclass(frozen=True)
class Schedule:
    """Contiguous periods covering ``[periods[0].begin_s, periods[-1].end_s)``."""

    name: str
    periods: tuple[SchedulePeriod, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods", tuple(self.periods))
        if not self.periods:
            raise PlanError(f"schedule {self.name!r}: no periods (0)")
        for a, b in zip(self.periods, self.periods[1:]):
            if abs(a.end_s - b.begin_s) > 1e-6:
                raise PlanError(f"schedule {self.name!r}: period {b.name!r} does not start where {a.name!r} ends "
                                f"({a.end_s:g} != {b.begin_s:g})")
        ids = set(self.periods[0].plans.signal_ids)
        for p in self.periods[1:]:
            if set(p.plans.signal_ids) != ids:
                raise PlanError(f"schedule {self.name!r}: period {p.name!r} plans other signals "
                                f"({sorted(set(p.plans.signal_ids) ^ ids)})")

    @property
    def actuated(self) -> bool:
        """Whether any period runs an actuated plan (switched by signalopt's controller, not by a WAUT)."""
        return any(plan.actuation is not None for p in self.periods for plan in p.plans)

    @property
    def signal_ids(self) -> tuple[str, ...]:
        return self.periods[0].plans.signal_ids

    @property
    def breakpoints_s(self) -> tuple[float, ...]:
        return tuple(p.begin_s for p in self.periods)

    @property
    def begin_s(self) -> float:
        """Start of the covered span [s]."""
        return self.periods[0].begin_s

    @property
    def end_s(self) -> float:
        """End of the covered span [s]."""
        return self.periods[-1].end_s

    def period_at(self, t_s: float) -> SchedulePeriod:
        """The period in force at ``t_s``; :class:`PlanError` outside the covered span.

        A time before the first period or after the last one has no plan in
        this schedule: answering with the nearest period would silently
        stretch it.
        """
        for p in self.periods:
            if p.begin_s <= t_s < p.end_s:
                return p
        raise PlanError(f"schedule {self.name!r} covers {clock_text(self.begin_s)}-{clock_text(self.end_s)} "
                        f"({self.begin_s:g}-{self.end_s:g} s), not this time ({t_s:g} s)")

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEDULE_SCHEMA_VERSION, "kind": "schedule", "name": self.name,
                "periods": [{"name": p.name, "begin_s": p.begin_s, "end_s": p.end_s, "plans": p.plans.to_dict()}
                            for p in self.periods]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """A schedule from its JSON form (the whole file object, as :meth:`to_dict` writes it).

        Raises
        ------
        PlanError
            Unknown keys, a ``periods`` that is not a non-empty list, a
            period that is not an object or lacks ``begin_s``, ``end_s`` or
            ``plans``, a bad time, or an invalid plan set; the message names
            the period and the offending value.
        """
        unknown = set(data) - set(SCHEDULE_FILE_KEYS)
        if unknown:
            raise PlanError(f"schedule: unknown keys ({', '.join(sorted(map(str, unknown)))})")
        name = data.get("name", "schedule")
        if not isinstance(name, str):
            raise PlanError(f"schedule name must be a string ({show_value(name)})")
        raw = data.get("periods")
        if not isinstance(raw, list) or not raw:
            raise PlanError(f"schedule {name!r}: periods must be a non-empty list of period objects "
                            f"({show_value(raw)})")
        periods = []
        for k, p in enumerate(raw, start=1):
            if not isinstance(p, Mapping):
                raise PlanError(f"period {k}: must be an object ({show_value(p)})")
            pname = p.get("name", f"P{k}")
            if not isinstance(pname, str):
                raise PlanError(f"period {k}: name must be a string ({show_value(pname)})")
            where = f"period {pname!r}"
            bad = sorted(set(map(str, p)) - set(PERIOD_KEYS))
            if bad:
                raise PlanError(f"{where}: unknown keys ({', '.join(bad)})")
            missing = [key for key in ("begin_s", "end_s", "plans") if key not in p]
            if missing:
                raise PlanError(f"{where}: missing keys ({', '.join(missing)})")
            begin, end = _time_s(p["begin_s"], where, "begin_s"), _time_s(p["end_s"], where, "end_s")
            try:
                plans = PlanSet.from_dict(p["plans"])
            except PlanError as exc:
                raise PlanError(f"{where}: {exc}") from None
            periods.append(SchedulePeriod(pname, begin, end, plans))
        return cls(name, tuple(periods))


def read_schedule(path: str | Path, *, network: Any = None,
                  window: tuple[float, float] | None = None) -> Schedule:
    """Read a schedule JSON file (signalopt's format); :func:`read_schedule_file` says more."""
    return read_schedule_file(path, network=network, window=window)[0]


def read_schedule_file(path: str | Path, *, network: Any = None,
                       window: tuple[float, float] | None = None) -> tuple[Schedule, dict[str, Any]]:
    """Read a schedule JSON file (signalopt's format) and its provenance (empty when it records none).

    Parameters
    ----------
    path
        The schedule file.
    network
        When given, every period's signals and link counts are checked against it.
    window
        A scenario's ``(begin_s, end_s)``: when given, the schedule must cover
        it (:func:`check_covers`).

    Raises
    ------
    InputError
        One line naming the file, the element and the offending value.
    """
    path = check_file(Path(path), "schedule file")
    doc = read_json_object(path, "schedule file")
    if doc.get("kind") != "schedule":
        raise InputError(path, 'not a schedule file (needs "kind": "schedule")', repr(doc.get("kind")))
    check_schema_version(path, doc, SCHEDULE_SCHEMA_VERSION)
    if "provenance" in doc and not isinstance(doc["provenance"], dict):
        raise InputError(path, "provenance must be a JSON object", show_value(doc["provenance"]))
    try:
        schedule = Schedule.from_dict(doc)
    except PlanError as exc:
        raise InputError(path, "invalid schedule", str(exc)) from None
    if window is not None:
        check_covers(schedule, *window, source=path)
    if network is not None:
        for period in schedule.periods:
            for plan in period.plans:
                signal = network.signal(plan.signal_id, source=path)
                if plan.n_links != signal.n_links:
                    raise InputError(path, f"period {period.name}: signal {plan.signal_id} has {plan.n_links} links, "
                                           f"the network {signal.n_links}", plan.phases[0].state)
    return schedule, dict(doc.get("provenance", {}))


def check_covers(schedule: Schedule, begin_s: float, end_s: float, *, source: str | Path | None = None) -> Schedule:
    """Return ``schedule`` if it covers ``[begin_s, end_s)``, else raise :class:`InputError`.

    Before its first period and after its last a schedule has no plan; a
    simulation would otherwise run the first or the last period's plans there
    (SUMO's WAUT starts with the first programme and keeps the last), a
    stretching nobody asked for.

    Parameters
    ----------
    schedule
        The schedule.
    begin_s, end_s
        The scenario window [s].
    source
        The schedule file, named in the error.
    """
    if schedule.begin_s > begin_s + 1e-6 or schedule.end_s < end_s - 1e-6:
        raise InputError(source or f"schedule {schedule.name}",
                         f"covers {clock_text(schedule.begin_s)}-{clock_text(schedule.end_s)} "
                         f"({schedule.begin_s:g}-{schedule.end_s:g} s), not the scenario window",
                         f"{clock_text(begin_s)}-{clock_text(end_s)}, {begin_s:g}-{end_s:g} s")
    return schedule


# switching -------------------------------------------------------------------------------
def first_cycle_start_s(plan: TimingPlan, at_or_after_s: float) -> float:
    """First start of ``plan``'s first stage at or after a time [s] (whole seconds assumed)."""
    c, o = plan.cycle_s, plan.offset_s
    n = math.ceil((at_or_after_s - o) / c - 1e-9)
    return o + n * c


def transition_plan(new: TimingPlan, length_s: float) -> TimingPlan:
    """The new plan's stages stretched or shrunk to one cycle of ``length_s`` (greens ≥ their minimums)."""
    fixed = sum(p.yellow_s + p.all_red_s for p in new.phases)
    mins = np.array([p.effective_min_green_s for p in new.phases])
    caps = np.array([max(p.max_green_s, p.green_s) for p in new.phases]) - mins
    slack = length_s - fixed - mins.sum()
    if slack < -1e-6:
        raise PlanError(f"signal {new.signal_id}: a transition of {length_s:g} s is shorter than the minimum cycle "
                        f"({fixed + mins.sum():g} s)")
    weights = np.array([p.green_s for p in new.phases]) - mins
    extra = water_fill(max(slack, 0.0), np.maximum(weights, 0.0) + 1e-9, np.maximum(caps, 0.0) + 1e9)
    greens = np.maximum(round_preserving_sum(mins + extra, length_s - fixed), mins)
    phases = tuple(replace(p, green_s=float(round(g, 1)), max_green_s=max(p.max_green_s, float(round(g, 1))))
                   for p, g in zip(new.phases, greens))
    return TimingPlan(new.signal_id, phases, offset_s=0.0, ped_links=new.ped_links, program_id=new.program_id)


@dataclass(frozen=True)
class Switch:
    """When one signal leaves ``old`` for a transition cycle, and when the new plan takes over [s]."""

    signal_id: str
    start_s: float
    transition: TimingPlan
    takeover_s: float


def plan_switch(old: TimingPlan, new: TimingPlan, at_s: float) -> Switch:
    """The switch from ``old`` to ``new`` requested at ``at_s`` (see module docstring)."""
    check_switchable(old, new)
    start = first_cycle_start_s(old, at_s)
    length = transition_length_s(new, start)
    return Switch(new.signal_id, start, transition_plan(new, length), start + length)


def check_switchable(old: TimingPlan, new: TimingPlan) -> None:
    """Raise :class:`PlanError` unless ``new`` may take over at the start of ``old``'s first stage.

    Links the old plan keeps green from its last stage into its own first stage
    see no yellow there; the new first stage must keep them green too.
    """
    kept = {k for k, c in enumerate(old.phases[-1].state)
            if c in GREEN_CHARS and old.phases[0].state[k] in GREEN_CHARS}
    bad = sorted(k for k in kept if new.phases[0].state[k] not in GREEN_CHARS)
    if bad:
        raise PlanError(f"signal {new.signal_id}: the old last stage keeps links {bad} green, the new first stage "
                        f"does not; cannot switch safely")


def transition_length_s(new: TimingPlan, start_s: float) -> float:
    """Length of a transition cycle into ``new`` that starts at ``start_s`` [s]: to the new plan's next
    coordinated start (its offset), a cycle more while that is shorter than the new plan's minimum cycle."""
    min_cycle = sum(p.effective_min_green_s + p.yellow_s + p.all_red_s for p in new.phases)
    length = (new.offset_s - start_s) % new.cycle_s
    while length < min_cycle - 1e-6:
        length += new.cycle_s
    return length


def program_timeline(schedule: Schedule) -> dict[str, list[tuple[float, str, TimingPlan]]]:
    """Per signal: (time, programme id, plan) in force from that time -- periods and transitions."""
    out: dict[str, list[tuple[float, str, TimingPlan]]] = {}
    for sid in schedule.signal_ids:
        line = [(schedule.periods[0].begin_s, "p0", schedule.periods[0].plans[sid])]
        for k in range(1, len(schedule.periods)):
            old, new = schedule.periods[k - 1].plans[sid], schedule.periods[k].plans[sid]
            if old == new:
                continue
            sw = plan_switch(old, new, schedule.periods[k].begin_s)
            line.append((sw.start_s, f"t{k}", sw.transition))
            line.append((sw.takeover_s, f"p{k}", new))
        out[sid] = line
    return out
