"""Controller event logs in: hi-res events become 15-minute movement counts and the timing that ran.

The log is the common CSV export of ATSPM systems, ``SignalID,Timestamp,EventCode,EventParam``, with
the event codes of the Indiana enumeration [1]_: 1 phase begin green, 7 phase green termination,
8 begin yellow, 9 end yellow, 10 begin red clearance, 11 end red clearance (the parameter is the
phase), 21, 22 and 23 pedestrian begin walk, begin clearance and begin solid don't walk (the
phase), 81 detector off and 82 detector on (the detector channel).  Every other code of the
enumeration (0-255) is counted in the report and left aside.  Timestamps are ``YYYY-MM-DD
HH:MM:SS[.f]`` (or with a ``T``) or ``M/D/YYYY H:MM:SS[.f] [AM|PM]``; a log of several days is
imported one day at a time.

Two maps go with it.  The detector map (:mod:`signalopt.importers.detcounts`) says which lane and
movements each channel counts.  The phase map says which movements each NEMA phase serves::

    SignalID,phase,intersection,approach,movement,lane
    1001,2,center,N,T,

(``movement`` ``L T R U``, or ``P`` for the crossing of that leg; ``lane``, optional, a SUMO lane id
or index on the approach edge, narrows a row to that lane's links where a junction has two turns of
one letter on an approach, such as the two right turns of a five-arm junction).  Without it the phases are
numbered as signalopt numbers the network plan's ring-and-barrier structure
(:func:`~signalopt.formats.nema.dual_ring`), which is right for a log signalopt wrote
(:mod:`signalopt.eventlog_writer`) and a guess for any other.

Counts: every detector-on event (82) of a count channel is a vehicle, counted per interval and
turned into movement counts as detector counts are (:func:`~signalopt.importers.detcounts.movement_counts`).
Detector failures are found and their intervals left out, never written as zero: a channel
silent for at least :data:`~signalopt.importers.detcounts.SILENT_MIN_S` where its own rate promised
vehicles and its neighbours counted; an on without an off for longer than :data:`STUCK_ON_S`
(longer than any red a queue could stand on a stop-bar loop); more actuations in an interval than
a lane passes (chattering).

Timing: each phase's green (1 to 7), yellow (8 to 9) and red clearance (10 to 11, 0 when the
phase's next green comes without one), each cycle's length from the reference phase's green
starts (the coordinated phase: dual ring's, or phase 2, or the lowest phase of the map), averaged
per time-of-day interval as medians, so the transition cycle of a plan change does not drag them.
Consecutive intervals whose cycle and greens stay within :data:`PERIOD_TOL_S` form a period (a
time-of-day plan); when there are several, they are written as a schedule.  Each period's medians
are fitted to the network plan's
stages by least squares: a phase's green is the sum of the splits of its stages before the last
plus the last stage's green; its yellow and red clearance are its last stage's; the splits sum to
the cycle; each phase starts as many seconds after the reference phase as the splits between
them say.  A stage no phase ends keeps the network plan's yellow and all-red, and a stage green the
log does not determine the network plan's green (both reported as guessed).  The result is the
plan as it ran (:func:`~signalopt.programs.plan_from_program`: minimums it misses are warnings).

Refusals name the file, the line and the field: a bad timestamp, an event code outside the
enumeration, a channel or signal not in the detector map, time going back more than
:data:`BACKWARDS_TOL_S` within a signal.

References
----------
.. [1] Sturdevant, J. R. et al. (2012). *Indiana Traffic Signal Hi Resolution Data Logger Enumerations.*
   INDOT and Purdue University, doi:10.4231/K4RN35SH (the full author list in :mod:`signalopt.eventlog_writer`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date as Date
from pathlib import Path
from typing import Any

import numpy as np

from .._clock import clock_text
from .._xml import atomic_write_text
from ..demand import MOVEMENT_DIRS, TurnCount
from ..errors import InputError, PlanError
from ..eventlog_writer import (CROSSING, DETECTOR_OFF, DETECTOR_ON, LOG_COLUMNS, PED_BEGIN_CLEARANCE,
                               PED_BEGIN_DONT_WALK, PED_BEGIN_WALK, PHASE_BEGIN_GREEN, PHASE_BEGIN_RED_CLEARANCE,
                               PHASE_BEGIN_YELLOW, PHASE_COLUMNS, PHASE_END_RED_CLEARANCE, PHASE_END_YELLOW,
                               PHASE_GREEN_TERMINATION)
from ..formats.nema import dual_ring
from ..formats.planfile import write_plans
from ..network import Network, Signal, read_network
from ..options import TimingOptions
from ..plan import GREEN_CHARS, PlanSet, TimingPlan
from ..programs import existing_plans, plan_from_program
from ..schedule import Schedule, SchedulePeriod
from .detcounts import (COUNTS_FILE, INTERVAL_S, Detector, DetectorFailure, ImportReport, bad_intervals,
                        channel_number, find_approach, interval_grid, movement_counts, neighbours, read_csv_rows,
                        read_detector_map, silent, write_counts, write_report, write_scenario, CHATTER_VEH_H)

#: Event codes read; the rest of the enumeration's 0-255 is counted and left aside.
USED_CODES = frozenset({PHASE_BEGIN_GREEN, PHASE_GREEN_TERMINATION, PHASE_BEGIN_YELLOW, PHASE_END_YELLOW,
                        PHASE_BEGIN_RED_CLEARANCE, PHASE_END_RED_CLEARANCE, PED_BEGIN_WALK, PED_BEGIN_CLEARANCE,
                        PED_BEGIN_DONT_WALK, DETECTOR_OFF, DETECTOR_ON})
#: Highest event code of the enumeration (one byte).
MAX_CODE = 255
#: How far time may go back within one signal's events before the log is refused [s]: loggers write
#: events buffered per second or so, slightly out of order; more is a clock jump or two logs mixed.
BACKWARDS_TOL_S = 1.0
#: An on without an off for longer than this is a stuck detector [s]: longer than any red (a queue
#: standing on a stop-bar loop) at a cycle of up to 180 s.
STUCK_ON_S = 300.0
#: Cycle and green differences within which consecutive intervals run the same timing [s].
PERIOD_TOL_S = 2.0
#: Largest misfit of the phase timing to the network plan's stages before the report warns [s].
FIT_TOL_S = 1.0
#: Files written besides the counts, the scenario and the report.
PLANS_FILE = "plans.json"
SCHEDULE_FILE = "schedule.json"
TIMING_FILE = "timing.csv"


# --------------------------------------------------------------------------- reading the log
@dataclass(frozen=True)
class SignalLog:
    """One signal's events in time order: times [s of the day], codes, parameters and CSV lines."""

    signal: str
    times: np.ndarray
    codes: np.ndarray
    params: np.ndarray
    lines: np.ndarray

    def of(self, code: int, param: int | None = None) -> np.ndarray:
        """Times of the events with ``code`` (and ``param``) [s]."""
        mask = self.codes == code
        if param is not None:
            mask &= self.params == param
        return self.times[mask]


@dataclass(frozen=True)
class EventLog:
    """A controller event log as read: per SignalID its events, the day, and what was left aside.

    ``ignored`` counts the events of codes signalopt does not read; ``other_days`` the events of days
    other than ``day``.
    """

    path: Path
    day: Date
    signals: Mapping[str, SignalLog]
    ignored: Mapping[int, int]
    other_days: int

    @property
    def n_events(self) -> int:
        return sum(len(s.times) for s in self.signals.values())


def _seconds(text: str) -> float:
    """``H:MM:SS[.f]`` -> seconds; ValueError else."""
    h, m, s = text.split(":")
    if not (h.isdigit() and m.isdigit() and len(m) == 2):
        raise ValueError(text)
    sec = float(s)
    if int(h) > 23 or int(m) > 59 or not 0 <= sec < 60 or not s[:1].isdigit():
        raise ValueError(text)
    return int(h) * 3600 + int(m) * 60 + sec


def parse_timestamp(text: str, days: dict[str, Date]) -> tuple[Date, float]:
    """A log timestamp as (day, seconds of the day); ``days`` caches the dates read.

    Raises
    ------
    ValueError
        Not one of the formats of the module docstring.
    """
    parts = text.replace("T", " ", 1).split()
    if len(parts) == 3 and parts[2].upper() in ("AM", "PM"):
        hour, rest = parts[1].split(":", 1)
        h = int(hour)
        if not 1 <= h <= 12:
            raise ValueError(text)
        parts = [parts[0], f"{h % 12 + (12 if parts[2].upper() == 'PM' else 0)}:{rest}"]
    if len(parts) != 2:
        raise ValueError(text)
    day = days.get(parts[0])
    if day is None:
        if "/" in parts[0]:
            month, dom, year = (int(x) for x in parts[0].split("/"))
        else:
            year, month, dom = (int(x) for x in parts[0].split("-"))
        day = days.setdefault(parts[0], Date(year, month, dom))
    return day, _seconds(parts[1])


def read_event_log(path: str | Path, *, day: Date | None = None) -> EventLog:
    """Read a hi-res controller event log CSV (see the module docstring).

    Parameters
    ----------
    path
        The CSV, with columns ``SignalID,Timestamp,EventCode,EventParam``.
    day
        The day to read from a log of several days (required then).

    Raises
    ------
    InputError
        Naming the file, the line and the field: a bad timestamp, an event code outside 0-255, a
        parameter that is not a non-negative integer, time going back beyond :data:`BACKWARDS_TOL_S`
        within a signal, several days without ``day``, no events of ``day``.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "event log not found", None) from None
    except UnicodeDecodeError as exc:
        raise InputError(path, "event log is not UTF-8 text", f"byte {exc.start}") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in LOG_COLUMNS if c not in header]
    if missing:
        raise InputError(path, "line 1: event log lacks columns", ", ".join(missing))
    col = [header.index(c) for c in LOG_COLUMNS]
    days: dict[str, Date] = {}
    rows: dict[str, list[tuple[float, int, int, int]]] = defaultdict(list)
    last: dict[str, tuple[float, int]] = {}
    ignored: Counter = Counter()
    per_day: Counter = Counter()
    for row in reader:
        line = reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            raise InputError(path, f"line {line}: {len(row)} fields, not the {len(header)} of the header", ",".join(row))
        sid, stamp, code_text, param_text = (row[k].strip() for k in col)
        try:
            when, t = parse_timestamp(stamp, days)
        except ValueError:
            raise InputError(path, f"line {line}: Timestamp is not YYYY-MM-DD HH:MM:SS.f or M/D/YYYY H:MM:SS.f",
                             repr(stamp)) from None
        try:
            code = int(code_text)
        except ValueError:
            code = -1
        if not 0 <= code <= MAX_CODE:
            raise InputError(path, f"line {line}: EventCode is not an event code of the Indiana enumeration "
                                   f"(0-{MAX_CODE})", repr(code_text))
        if not param_text.isdigit():
            raise InputError(path, f"line {line}: EventParam is not a non-negative integer", repr(param_text))
        per_day[when] += 1
        if day is not None and when != day:
            continue
        if sid in last and t < last[sid][0] - BACKWARDS_TOL_S and (day is not None or len(per_day) == 1):
            raise InputError(path, f"line {line}: Timestamp goes back {last[sid][0] - t:.1f} s from line "
                                   f"{last[sid][1]} of SignalID {sid} (more than {BACKWARDS_TOL_S:g} s)", stamp)
        if sid not in last or t >= last[sid][0]:
            last[sid] = (t, line)
        if code not in USED_CODES:
            ignored[code] += 1
            continue
        rows[sid].append((t, code, int(param_text), line))
    if day is None and len(per_day) > 1:
        listed = ", ".join(f"{d.isoformat()} ({n} events)" for d, n in sorted(per_day.items()))
        raise InputError(path, "the log holds several days; import one at a time (--date)", listed)
    chosen = day if day is not None else next(iter(per_day), None)
    if chosen is None or not rows:
        raise InputError(path, "no events signalopt reads" + (f" on {day.isoformat()}" if day else ""),
                         f"{sum(per_day.values())} rows")
    signals = {}
    for sid, events in rows.items():
        arr = np.array(events, dtype=float)
        order = np.argsort(arr[:, 0], kind="stable")
        arr = arr[order]
        signals[sid] = SignalLog(sid, arr[:, 0], arr[:, 1].astype(int), arr[:, 2].astype(int), arr[:, 3].astype(int))
    other = sum(n for d, n in per_day.items() if d != chosen)
    return EventLog(path, chosen, signals, dict(ignored), other)


def check_channels(log: EventLog, detectors: Sequence[Detector], source: Path) -> None:
    """Refuse a detector event of a channel, or a SignalID, the detector map lacks (naming the log line)."""
    known = {d.key for d in detectors}
    for sid, s in log.signals.items():
        det = (s.codes == DETECTOR_ON) | (s.codes == DETECTOR_OFF)
        if not any(d.signal == sid for d in detectors):
            raise InputError(source, f"line {int(s.lines[0])}: SignalID not in the detector map", sid)
        for k in np.flatnonzero(det):
            if (sid, int(s.params[k])) not in known:
                raise InputError(source, f"line {int(s.lines[k])}: detector channel not in the detector map",
                                 f"SignalID {sid} channel {int(s.params[k])}")


# --------------------------------------------------------------------------- detectors
def channel_events(log: EventLog, d: Detector) -> tuple[np.ndarray, np.ndarray]:
    """On (82) and off (81) times of one channel [s]."""
    s = log.signals.get(d.signal)
    if s is None:
        return np.array([]), np.array([])
    return s.of(DETECTOR_ON, d.channel), s.of(DETECTOR_OFF, d.channel)


def stuck_spans(ons: np.ndarray, offs: np.ndarray, end_s: float) -> list[tuple[float, float]]:
    """``(on, off)`` of every on that lasted more than :data:`STUCK_ON_S` without an off [s]."""
    out = []
    edges = sorted([(t, 1) for t in ons] + [(t, 0) for t in offs])
    since = None
    for t, on in edges:
        if on and since is None:
            since = t
        elif not on and since is not None:
            if t - since > STUCK_ON_S:
                out.append((since, t))
            since = None
    if since is not None and end_s - since > STUCK_ON_S:
        out.append((since, end_s))
    return out


def log_failures(log: EventLog, detectors: Sequence[Detector], *, begin_s: float, end_s: float,
                 interval_s: float) -> list[DetectorFailure]:
    """Stuck, silent and chattering count detectors over ``[begin_s, end_s)`` (see the module docstring)."""
    counting = [d for d in detectors if d.movements]
    ons = {d.key: channel_events(log, d)[0] for d in counting}
    out: list[DetectorFailure] = []
    for d in counting:
        on, off = channel_events(log, d)
        on_w = on[(on >= begin_s) & (on < end_s)]
        stuck = stuck_spans(on, off, end_s)
        stuck_s = sum(b - a for a, b in stuck)
        rate = len(on_w) * 3600.0 / (end_s - begin_s - stuck_s) if end_s - begin_s > stuck_s else 0.0
        out += [DetectorFailure(d.signal, d.channel, "stuck_on", a, b, f"on for {(b - a) / 60:.0f} min without an off",
                                rate) for a, b in stuck]
        stamps = np.concatenate(([begin_s], on_w, [end_s]))
        for a, b in zip(stamps, stamps[1:]):
            if any(x < b and y > a for x, y in stuck):
                continue  # a stuck detector is silent too; it is reported once
            rest = (end_s - begin_s) - (b - a)
            others = sum(int(((ons[o.key] > a) & (ons[o.key] < b)).sum()) for o in neighbours(detectors, d))
            failure = silent(d, detectors, (float(a), float(b)), len(on_w) / rest if rest > 0 else 0.0, others)
            if failure is not None:
                out.append(failure)
        for b in interval_grid(begin_s, end_s, interval_s):
            n = int(((on_w >= b) & (on_w < b + interval_s)).sum())
            if n * 3600.0 / interval_s > CHATTER_VEH_H:
                out.append(DetectorFailure(d.signal, d.channel, "chatter", b, b + interval_s,
                                           f"{n} actuations, above {CHATTER_VEH_H:g} veh/h on one lane"))
    return sorted(out, key=lambda f: (f.signal, f.channel, f.begin_s))


def channel_counts(log: EventLog, detectors: Sequence[Detector], *, begin_s: float, end_s: float,
                   interval_s: float) -> dict[tuple[str, int], dict[float, float]]:
    """Detector-on events per count channel and interval (every interval of the window, zeros included)."""
    grid = np.array(interval_grid(begin_s, end_s, interval_s))
    out = {}
    for d in detectors:
        if d.movements:
            on = channel_events(log, d)[0]
            n, _ = np.histogram(on, bins=np.append(grid, end_s))
            out[d.key] = {float(b): float(k) for b, k in zip(grid, n)}
    return out


# --------------------------------------------------------------------------- phases
@dataclass(frozen=True)
class PhaseMap:
    """Per SignalID: the intersection, each NEMA phase's stages in the network plan, the reference phase."""

    intersection: str
    stages: Mapping[int, tuple[int, ...]]
    reference: int


def _cyclic_run(stages: Sequence[int], n: int) -> tuple[int, ...] | None:
    """``stages`` as one run of consecutive stages (cyclic), in service order; None when they are not."""
    have = set(stages)
    if len(have) == n:
        return tuple(range(n))
    start = next((s for s in have if (s - 1) % n not in have), None)
    run = []
    s = start
    while s is not None and s in have:
        run.append(s)
        s = (s + 1) % n
    return tuple(run) if len(run) == len(have) else None


def ring_phase_map(plan: TimingPlan, signal: Signal) -> PhaseMap:
    """The phases signalopt numbers in the plan's ring-and-barrier structure (dummy phases left out)."""
    ring = dual_ring(plan, signal)
    return PhaseMap(signal.id, {p.number: p.stages for p in ring.phases if p.kind != "dummy"}, ring.coordinated[0])


def _link_stages(plan: TimingPlan, k: int) -> set[int]:
    """The stages in which link ``k`` has a protected green, or a permissive one when it never has."""
    return ({i for i, p in enumerate(plan.phases) if p.state[k] == "G"}
            or {i for i, p in enumerate(plan.phases) if p.state[k] in GREEN_CHARS})


def read_phase_map(path: str | Path, network: Network, plans: PlanSet) -> tuple[dict[str, PhaseMap], list[str]]:
    """Read a phase map (see the module docstring) and a line per link two phases claim.

    A link runs in the stages where the network plan gives it a protected green (a permissive one
    when it never has one); a row in those of any of its links; a phase in the stages all its rows
    share, so a letter that also names another phase's links (a right turn that also runs as an
    overlap) does not widen it.  A letter that names two turns of one lane running in different
    phases (a five-arm junction's right and sharp right) cannot be told apart: the report lists every
    link two phases claim.

    Raises
    ------
    InputError
        Naming the file, line and field: a phase that is not a positive integer, an intersection,
        approach or movement the network lacks, a SignalID mapped to two intersections, a phase whose
        movements share no stage or run in stages that are not one after another.
    """
    path = Path(path)
    rows: dict[tuple[str, int], list[tuple[int, set[int]]]] = defaultdict(list)
    intersection: dict[str, str] = {}
    for line, row in read_csv_rows(path, PHASE_COLUMNS, "phase map"):
        sid, phase = row["SignalID"], channel_number(path, line, "phase", row["phase"])
        signal, edge = find_approach(network, path, line, row["intersection"], row["approach"])
        if intersection.setdefault(sid, signal.id) != signal.id:
            raise InputError(path, f"line {line}: SignalID {sid} is mapped to two intersections",
                             f"{intersection[sid]}, {signal.id}")
        movement = row["movement"].upper()
        if movement == CROSSING:
            edges = next(a for a in signal.approaches if a.id == edge).edges
            found = {l.index for l in signal.links if l.is_crossing and set(l.crosses) & edges}
        elif movement in MOVEMENT_DIRS:
            lane = row.get("lane", "")
            lane = f"{edge}_{lane}" if lane.isdigit() else lane
            found = {l.index for l in signal.links if l.approach == edge and l.direction in MOVEMENT_DIRS[movement]
                     and (not lane or lane in l.from_lanes)}
        else:
            raise InputError(path, f"line {line}: movement must be one of L T R U {CROSSING}", row["movement"])
        if not found:
            raise InputError(path, f"line {line}: intersection {signal.id} has no such movement on approach "
                                   f"{row['approach']}" + (f" lane {row['lane']}" if row.get("lane") else ""),
                             row["movement"])
        rows[(sid, phase)].append((line, found))
    out: dict[str, dict[int, tuple[int, ...]]] = defaultdict(dict)
    claimed: dict[tuple[str, int], list[int]] = defaultdict(list)
    for (sid, phase), items in rows.items():
        plan = plans[intersection[sid]]
        common = set(range(len(plan.phases)))
        for _, links in items:
            common &= set().union(*(_link_stages(plan, k) for k in links))
            for k in links:
                claimed[(sid, k)].append(phase)
        run = _cyclic_run(sorted(common), len(plan.phases)) if common else None
        if run is None:
            raise InputError(path, f"line {items[0][0]}: phase {phase}'s movements share "
                                   f"{'no stage' if not common else 'stages that are not one after another'} in the "
                                   f"network plan", f"{sid} phase {phase}: stages "
                                                    f"{', '.join(str(s + 1) for s in sorted(common)) or 'none'}")
        out[sid][phase] = run
    shared = [f"SignalID {sid}: link {k} is in the movements of phases {', '.join(map(str, sorted(set(ps))))}; their "
              f"stages are where all their movements run" for (sid, k), ps in claimed.items() if len(set(ps)) > 1]
    return ({sid: PhaseMap(intersection[sid], phases, 2 if 2 in phases else min(phases)) for sid, phases in out.items()},
            shared)


@dataclass(frozen=True)
class PhaseCycle:
    """One service of a phase as logged: green start [s of the day] and its intervals [s]; pedestrian walk
    and clearance when it served them (else None)."""

    phase: int
    green_start_s: float
    green_s: float
    yellow_s: float
    all_red_s: float
    walk_s: float | None = None
    ped_clearance_s: float | None = None


def phase_cycles(s: SignalLog) -> dict[int, list[PhaseCycle]]:
    """Every complete service of every phase in a signal's events: from a begin green (1) through its green
    termination (7), yellow (8, 9) and red clearance (10, 11) to the phase's next begin green."""
    out: dict[int, list[PhaseCycle]] = defaultdict(list)
    open_: dict[int, dict[int, float]] = {}
    codes = (PHASE_BEGIN_GREEN, PHASE_GREEN_TERMINATION, PHASE_BEGIN_YELLOW, PHASE_END_YELLOW,
             PHASE_BEGIN_RED_CLEARANCE, PHASE_END_RED_CLEARANCE, PED_BEGIN_WALK, PED_BEGIN_CLEARANCE,
             PED_BEGIN_DONT_WALK)

    def close(phase: int) -> None:
        e = open_.pop(phase, None)
        if e is None or PHASE_GREEN_TERMINATION not in e and PHASE_BEGIN_YELLOW not in e:
            return
        green_end = e.get(PHASE_GREEN_TERMINATION, e.get(PHASE_BEGIN_YELLOW))
        yellow = e[PHASE_END_YELLOW] - e[PHASE_BEGIN_YELLOW] if {PHASE_BEGIN_YELLOW, PHASE_END_YELLOW} <= e.keys() else 0.0
        red = (e[PHASE_END_RED_CLEARANCE] - e[PHASE_BEGIN_RED_CLEARANCE]
               if {PHASE_BEGIN_RED_CLEARANCE, PHASE_END_RED_CLEARANCE} <= e.keys() else 0.0)
        walk = clearance = None
        if {PED_BEGIN_WALK, PED_BEGIN_CLEARANCE, PED_BEGIN_DONT_WALK} <= e.keys():
            walk = e[PED_BEGIN_CLEARANCE] - e[PED_BEGIN_WALK]
            clearance = e[PED_BEGIN_DONT_WALK] - e[PED_BEGIN_CLEARANCE]
        out[phase].append(PhaseCycle(phase, e[PHASE_BEGIN_GREEN], green_end - e[PHASE_BEGIN_GREEN], yellow, red,
                                     walk, clearance))

    for t, code, phase in zip(s.times, s.codes, s.params):
        if code not in codes:
            continue
        if code == PHASE_BEGIN_GREEN:
            close(int(phase))
            open_[int(phase)] = {PHASE_BEGIN_GREEN: float(t)}
        elif int(phase) in open_:
            open_[int(phase)].setdefault(int(code), float(t))
    # a service the log ends in is incomplete: its red clearance may still be running
    return dict(out)


@dataclass(frozen=True)
class PhaseTiming:
    """A phase's median timing over some cycles [s]; walk and pedestrian clearance None when never served."""

    phase: int
    n_cycles: int
    green_s: float
    yellow_s: float
    all_red_s: float
    walk_s: float | None
    ped_clearance_s: float | None


@dataclass(frozen=True)
class IntervalTiming:
    """The timing that ran at one intersection in one time-of-day interval ``[begin_s, end_s)``.

    ``cycle_s`` is the median time between the reference phase's green starts (None without two of
    them); ``phases`` the phases whose green started in the interval.
    """

    intersection: str
    begin_s: float
    end_s: float
    reference_phase: int
    n_cycles: int
    cycle_s: float | None
    phases: tuple[PhaseTiming, ...]

    def phase(self, number: int) -> PhaseTiming | None:
        return next((p for p in self.phases if p.phase == number), None)


def _typical(values: Sequence[float | None]) -> float | None:
    """The median of the values given: a plan change's transition cycle does not drag it."""
    got = [v for v in values if v is not None]
    return float(np.median(got)) if got else None


def typical_timing(cycles: Mapping[int, Sequence[PhaseCycle]], reference: int, intersection: str, begin_s: float,
                   end_s: float) -> IntervalTiming:
    """The median timing of the services that started in ``[begin_s, end_s)``, and the median cycle."""
    phases = []
    for number in sorted(cycles):
        mine = [c for c in cycles[number] if begin_s <= c.green_start_s < end_s]
        if mine:
            phases.append(PhaseTiming(number, len(mine), _typical([c.green_s for c in mine]),
                                      _typical([c.yellow_s for c in mine]), _typical([c.all_red_s for c in mine]),
                                      _typical([c.walk_s for c in mine]), _typical([c.ped_clearance_s for c in mine])))
    starts = [c.green_start_s for c in cycles.get(reference, [])]
    lengths = [b - a for a, b in zip(starts, starts[1:]) if begin_s <= a < end_s]
    return IntervalTiming(intersection, begin_s, end_s, reference, len(lengths), _typical(lengths), tuple(phases))


def _same_timing(a: IntervalTiming, b: IntervalTiming) -> bool:
    if a.cycle_s is None or b.cycle_s is None or abs(a.cycle_s - b.cycle_s) > PERIOD_TOL_S:
        return False
    return all(abs(p.green_s - q.green_s) <= PERIOD_TOL_S for p in a.phases for q in b.phases if p.phase == q.phase)


def periods(intervals: Sequence[IntervalTiming]) -> list[tuple[float, float]]:
    """Consecutive intervals that run the same timing, joined ``(begin, end)`` [s]; intervals without a
    cycle join the period before them (the first one the period after it)."""
    out: list[list[Any]] = []  # [begin, end, the interval whose timing the period runs]
    for it in intervals:
        timed = it if it.cycle_s is not None else None
        if out and (timed is None or out[-1][2] is None or _same_timing(out[-1][2], it)):
            out[-1][1] = it.end_s
            out[-1][2] = out[-1][2] or timed
        else:
            out.append([it.begin_s, it.end_s, timed])
    return [(a, b) for a, b, _ in out]


# --------------------------------------------------------------------------- timing -> plan
def _between(a: int, b: int, n: int) -> list[int]:
    """Stages from ``a`` up to (not including) ``b``, cyclic."""
    out, s = [], a
    while s != b:
        out.append(s)
        s = (s + 1) % n
    return out


def _clearances(plan: TimingPlan, pmap: PhaseMap, seen: Mapping[int, PhaseTiming], where: str,
                notes: Mapping[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Each stage's yellow and all-red [s]: those of the logged phases that end with it, else the plan's."""
    y = np.array([p.yellow_s for p in plan.phases])
    r = np.array([p.all_red_s for p in plan.phases])
    for s in range(len(plan.phases)):
        ending = [seen[k] for k, st in pmap.stages.items() if st[-1] == s and k in seen]
        if ending:
            y[s] = np.mean([p.yellow_s for p in ending])
            r[s] = np.mean([p.all_red_s for p in ending])
        else:
            notes["guessed"].append(f"{where}: stage {s + 1}'s yellow and all-red from the network plan (no logged "
                                    f"phase ends there)")
    return y, r


def _start_gaps(pmap: PhaseMap, phase: int, cycles: Mapping[int, Sequence[PhaseCycle]],
                timing: IntervalTiming) -> list[float]:
    """How long after the reference phase's last green start each green of ``phase`` started [s]."""
    ref = np.array([c.green_start_s for c in cycles.get(pmap.reference, [])])
    out = []
    for c in cycles[phase]:
        before = ref[ref <= c.green_start_s]
        if timing.begin_s <= c.green_start_s < timing.end_s and len(before) and (
                c.green_start_s - before[-1] < timing.cycle_s + PERIOD_TOL_S):  # a skipped reference green
            out.append(c.green_start_s - before[-1])
    return out


def fit_greens(plan: TimingPlan, pmap: PhaseMap, timing: IntervalTiming, cycles: Mapping[int, Sequence[PhaseCycle]],
               *, notes: Mapping[str, list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stage greens, yellows and all-reds [s] fitted to the logged phase timing (see the module docstring).

    Lines for the report go to ``notes["guessed"]`` and ``notes["dropped"]``.

    Raises
    ------
    InputError
        A stage green the fit makes shorter than 1 s: the phase map does not fit the log.
    """
    n = len(plan.phases)
    where = f"{plan.signal_id} {clock_text(timing.begin_s)}-{clock_text(timing.end_s)}"
    seen = {p.phase: p for p in timing.phases if p.phase in pmap.stages}
    missing = sorted(set(pmap.stages) - set(seen))
    if missing:
        notes["dropped"].append(f"{where}: phase(s) {', '.join(map(str, missing))} never show a green in the log")
    y, r = _clearances(plan, pmap, seen, where, notes)
    rows, rhs = [np.ones(n)], [timing.cycle_s - float(y.sum() + r.sum())]
    for k, p in seen.items():
        st = pmap.stages[k]
        rows.append(np.isin(np.arange(n), st).astype(float))
        rhs.append(p.green_s - sum(y[s] + r[s] for s in st[:-1]))
        gaps = _start_gaps(pmap, k, cycles, timing)
        if st[0] != pmap.stages[pmap.reference][0] and gaps:
            span = _between(pmap.stages[pmap.reference][0], st[0], n)
            rows.append(np.isin(np.arange(n), span).astype(float))
            rhs.append(float(np.median(gaps)) - sum(y[s] + r[s] for s in span))
    a, b = np.array(rows), np.array(rhs)
    if np.linalg.matrix_rank(a) < n:
        notes["guessed"].append(f"{where}: the log does not fix every stage green; the network plan's greens fill "
                                f"the gap")
    # a faint pull towards the network plan's greens settles only what the log leaves open
    weak = 1e-3
    g = np.linalg.lstsq(np.vstack([a, weak * np.eye(n)]),
                        np.concatenate([b, weak * np.array([p.green_s for p in plan.phases])]), rcond=None)[0]
    misfit = float(np.max(np.abs(a @ g - b)))
    if misfit > FIT_TOL_S:
        notes["guessed"].append(f"{where}: the phase map fits the log's timing only within {misfit:.1f} s; check "
                                f"the map")
    if np.min(g) < 1.0:
        raise InputError(None, f"{where}: the logged phase timing gives stage {int(np.argmin(g)) + 1} a green of "
                               f"{float(np.min(g)):.1f} s; the phase map does not fit the network's stages",
                         f"misfit {misfit:.1f} s")
    return np.round(g, 1), np.round(y, 1), np.round(r, 1)


def fit_plan(plan: TimingPlan, signal: Signal, pmap: PhaseMap, timing: IntervalTiming,
             cycles: Mapping[int, Sequence[PhaseCycle]], *, timing_options: TimingOptions,
             notes: Mapping[str, list[str]]) -> TimingPlan:
    """The network plan's stages with the logged timing of ``timing``'s span (see the module docstring).

    ``cycles`` gives the phases' green starts, for the stage greens (:func:`fit_greens`) and the
    plan's offset; a stage serving a crossing takes the logged pedestrian clearance.  Lines for the
    report go to ``notes["read"]``, ``["guessed"]`` and ``["dropped"]``.

    Raises
    ------
    InputError
        A timing that does not fit the network plan's stages.
    """
    where = f"{plan.signal_id} {clock_text(timing.begin_s)}-{clock_text(timing.end_s)}"
    g, y, r = fit_greens(plan, pmap, timing, cycles, notes=notes)
    phases = []
    try:
        for s, ph in enumerate(plan.phases):
            walk, clearance = ph.walk_s, ph.ped_clearance_s
            logged = [p.ped_clearance_s for p in timing.phases
                      if s in pmap.stages.get(p.phase, ()) and p.ped_clearance_s is not None]
            if ph.serves_pedestrians:
                clearance = min(round(float(np.mean(logged)), 1) if logged else clearance, float(g[s]) - 0.1)
                walk = min(walk, float(g[s]) - clearance)
            # a carrier of the programme's intervals only: plan_from_program below reads the stages afresh
            # and gives each the minimums it keeps
            phases.append(replace(ph, green_s=float(g[s]), yellow_s=float(y[s]), all_red_s=float(r[s]),
                                  min_green_s=0.0, max_green_s=max(ph.max_green_s, float(g[s])), min_yellow_s=0.0,
                                  min_all_red_s=0.0, walk_s=walk, ped_clearance_s=clearance))
        carrier = replace(plan, phases=tuple(phases), offset_s=0.0)
    except PlanError as exc:
        raise InputError(None, f"{where}: the logged timing does not fit the network plan's stages", str(exc)) from None
    # the plan's offset: the mean start of its first stage, on the circle of one cycle
    before_ref = sum(p.split_s for p in carrier.phases[:pmap.stages[pmap.reference][0]])
    starts = np.array([c.green_start_s for c in cycles.get(pmap.reference, [])
                       if timing.begin_s <= c.green_start_s < timing.end_s]) - before_ref
    angle = float(np.angle(np.mean(np.exp(2j * np.pi * starts / carrier.cycle_s)))) if len(starts) else 0.0
    offset = round(angle / (2 * np.pi) * carrier.cycle_s % carrier.cycle_s, 1) % carrier.cycle_s
    built, warnings = plan_from_program(signal, tuple(carrier.sumo_phases()), offset_s=offset, timing=timing_options,
                                        program_id="from-log")
    notes["read"].extend(f"{where}: as run, {w}" for w in warnings)
    return built


# --------------------------------------------------------------------------- the import
@dataclass(frozen=True)
class EventLogImport:
    """What :func:`import_event_log` found and wrote: the movement counts, the timing per interval, the
    plans as run (of the longest period; ``schedule`` holds every period when there are several), the
    counted window [s of the day] and the report."""

    counts: tuple[TurnCount, ...]
    timing: tuple[IntervalTiming, ...]
    plans: PlanSet
    schedule: Schedule | None
    begin_s: float
    end_s: float
    report: ImportReport


def _window(log: EventLog, interval_s: float, begin_s: float | None, end_s: float | None) -> tuple[float, float]:
    first = min(float(s.times[0]) for s in log.signals.values())
    last = max(float(s.times[-1]) for s in log.signals.values())
    begin = begin_s if begin_s is not None else math.floor(first / interval_s) * interval_s
    end = end_s if end_s is not None else math.ceil((last + 1e-6) / interval_s) * interval_s
    if end <= begin or abs((end - begin) / interval_s - round((end - begin) / interval_s)) > 1e-6:
        raise InputError(log.path, f"the import window must be whole {interval_s:g} s intervals",
                         f"{clock_text(begin)}-{clock_text(end)}")
    return begin, end


def write_timing(timing: Sequence[IntervalTiming], path: Path) -> Path:
    """The timing per interval as CSV: a row per intersection, interval and phase."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("interval", "intersection", "cycle_s", "phase", "n_cycles", "green_s", "yellow_s", "all_red_s",
                "walk_s", "ped_clearance_s"))

    def fmt(x: float | None) -> str:
        return "" if x is None else f"{x:.1f}"

    for it in timing:
        for p in it.phases:
            w.writerow((clock_text(it.begin_s), it.intersection, fmt(it.cycle_s), p.phase, p.n_cycles, fmt(p.green_s),
                        fmt(p.yellow_s), fmt(p.all_red_s), fmt(p.walk_s), fmt(p.ped_clearance_s)))
    return atomic_write_text(path, buf.getvalue())


def timing_as_run(log: EventLog, maps: Mapping[str, PhaseMap], network: Network, network_plans: PlanSet, *,
                  grid: Sequence[float], interval_s: float, notes: Mapping[str, list[str]]
                  ) -> tuple[list[IntervalTiming], dict[str, list[tuple[float, float, TimingPlan]]]]:
    """The timing per interval of every mapped signal, and per SignalID its periods ``(begin, end, plan)``.

    Lines for the report go to ``notes["read"]``, ``["guessed"]`` and ``["dropped"]``.

    Raises
    ------
    InputError
        A period's timing that does not fit the network plan's stages; no signal with a timing at all.
    """
    timing: list[IntervalTiming] = []
    fitted: dict[str, list[tuple[float, float, TimingPlan]]] = {}
    for sid, pmap in maps.items():
        if sid not in log.signals:
            notes["dropped"].append(f"SignalID {sid}: in the phase map, no events in the log")
            continue
        cycles = phase_cycles(log.signals[sid])
        strangers = sorted(set(cycles) - set(pmap.stages))
        if strangers:
            notes["dropped"].append(f"SignalID {sid}: events of phase(s) {', '.join(map(str, strangers))} left "
                                    f"aside (not in the phase map)")
        mine = [typical_timing(cycles, pmap.reference, pmap.intersection, b, b + interval_s) for b in grid]
        timing += mine
        fitted[sid] = []
        for a, b in periods(mine):
            whole = typical_timing(cycles, pmap.reference, pmap.intersection, a, b)
            if whole.cycle_s is None:
                notes["dropped"].append(f"{pmap.intersection} {clock_text(a)}-{clock_text(b)}: fewer than two greens "
                                        f"of reference phase {pmap.reference}; no timing")
                continue
            try:
                plan = fit_plan(network_plans[pmap.intersection], network.signal(pmap.intersection), pmap, whole,
                                cycles, timing_options=TimingOptions(), notes=notes)
            except InputError as exc:
                raise InputError(log.path, exc.what, exc.value) from None
            fitted[sid].append((a, b, plan))
    if not any(fitted.values()):
        raise InputError(log.path, "no signal's timing could be read (no complete cycle of a reference phase)",
                         ", ".join(sorted(log.signals)))
    return timing, fitted


def tile_periods(fitted: Mapping[str, Sequence[tuple[float, float, TimingPlan]]], begin_s: float,
                 end_s: float) -> list[tuple[tuple[float, float], PlanSet]]:
    """Periods covering ``[begin_s, end_s)``, cut wherever a signal's timing changes, each with every signal's
    plan: the one in force there, or the nearest where its log has no cycles."""
    cuts = sorted({begin_s, end_s} | {a for items in fitted.values() for a, _, _ in items[1:]})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        plans = [min(items, key=lambda it: 0 if it[0] <= a < it[1] else min(abs(it[0] - a), abs(it[1] - b)))[2]
                 for items in fitted.values() if items]
        out.append(((a, b), PlanSet(tuple(plans), name="existing")))
    return out


def import_event_log(log_path: str | Path, detectors_path: str | Path, network_path: str | Path,
                     out_dir: str | Path, *, phases_path: str | Path | None = None, day: Date | None = None,
                     interval_s: float = INTERVAL_S, begin_s: float | None = None,
                     end_s: float | None = None) -> EventLogImport:
    """Read a controller event log and write movement counts, the timing as run, a scenario and the report.

    Parameters
    ----------
    log_path
        The event log CSV (see the module docstring).
    detectors_path
        The detector map CSV (:mod:`signalopt.importers.detcounts`).
    network_path
        The SUMO network the maps refer to; its programmes give the stages the timing is fitted to.
    out_dir
        Folder for ``counts.csv``, ``plans.json`` (and ``schedule.json`` when the timing changes during
        the day), ``timing.csv``, ``scenario.toml`` and the report (text and JSON).
    phases_path
        The phase map CSV; without it, signalopt's own numbering of the network plan's dual ring.
    day
        The day to import from a log of several days.
    interval_s
        Counting and timing interval [s].
    begin_s, end_s
        The window to import [s of the day]; by default the log's first to last event, out to whole
        intervals.

    Raises
    ------
    InputError
        A bad input, in one line naming the file, line and field.
    """
    out = Path(out_dir)
    log_path, detectors_path, network_path = Path(log_path), Path(detectors_path), Path(network_path)
    network = read_network(network_path)
    detectors, guessed = read_detector_map(detectors_path, network)
    log = read_event_log(log_path, day=day)
    check_channels(log, detectors, log_path)
    begin, end = _window(log, interval_s, begin_s, end_s)
    grid = interval_grid(begin, end, interval_s)
    failures = log_failures(log, detectors, begin_s=begin, end_s=end, interval_s=interval_s)
    raw = channel_counts(log, detectors, begin_s=begin, end_s=end, interval_s=interval_s)
    counts, split, dropped = movement_counts(network, detectors, raw, bad_intervals(failures, grid, interval_s),
                                             begin_s=begin, end_s=end, interval_s=interval_s)
    network_plans, _ = existing_plans(network, TimingOptions())
    if phases_path is not None:
        maps, overlapping = read_phase_map(phases_path, network, network_plans)
        guessed += overlapping
    else:
        by_signal = {d.signal: d.intersection for d in detectors}
        maps = {sid: ring_phase_map(network_plans[by_signal[sid]], network.signal(by_signal[sid]))
                for sid in log.signals if sid in by_signal}
        guessed.append("phase numbers as signalopt numbers the network plan's dual ring (no phase map given)")
    notes: dict[str, list[str]] = defaultdict(list)
    timing, fitted = timing_as_run(log, maps, network, network_plans, grid=grid, interval_s=interval_s, notes=notes)
    periods_run = tile_periods(fitted, begin, end)
    schedule = None
    if len(periods_run) > 1:
        schedule = Schedule("from-log", tuple(SchedulePeriod(f"{clock_text(a)}-{clock_text(b)}", a, b, plans)
                                              for (a, b), plans in periods_run))
    longest, plans = max(periods_run, key=lambda item: item[0][1] - item[0][0])
    provenance = {"imported_from": log_path.name, "day": log.day.isoformat(),
                  "period": f"{clock_text(longest[0])}-{clock_text(longest[1])}"}
    plans_file = write_plans(plans, out / PLANS_FILE, provenance=provenance)
    outputs = {"plans": str(plans_file)}
    timing_key: dict[str, Path] = {"plans": plans_file}
    if schedule is not None:
        doc = {**schedule.to_dict(), "provenance": provenance}
        outputs["schedule"] = str(atomic_write_text(out / SCHEDULE_FILE, json.dumps(doc, indent=2) + "\n"))
        timing_key = {"schedule": out / SCHEDULE_FILE}
    outputs["timing"] = str(write_timing(timing, out / TIMING_FILE))
    counts_file = write_counts(counts, out / COUNTS_FILE)
    outputs["counts"] = str(counts_file)
    outputs["scenario"] = str(write_scenario(out, name=f"{log_path.stem}-import", network_path=network_path,
                                             counts_path=counts_file, begin_s=begin, end_s=end, timing=timing_key))
    read = [f"{log.n_events} events of day {log.day.isoformat()} from {len(log.signals)} signal(s), counted "
            f"{clock_text(begin)}-{clock_text(end)} in {interval_s:g} s intervals",
            *(f"{clock_text(a)}-{clock_text(b)}: " + "; ".join(
                f"{p.signal_id} cycle {p.cycle_s:g} s, greens " + "/".join(f"{ph.green_s:g}" for ph in p.phases)
                for p in period_plans) for (a, b), period_plans in periods_run),
            *(f"SignalID {sid}: intersection {m.intersection}, phases {', '.join(map(str, sorted(m.stages)))}, "
              f"reference phase {m.reference}" for sid, m in maps.items()),
            f"{len(counts)} movement counts written"]
    if log.ignored:
        read.append("left aside, codes not read: " + ", ".join(f"{c} ({n})" for c, n in sorted(log.ignored.items())))
    if log.other_days:
        dropped.append(f"{log.other_days} events of other days than {log.day.isoformat()}")
    report = write_report(ImportReport(
        "events", {"log": str(log_path), "detectors": str(detectors_path), "network": str(network_path),
                   **({"phases": str(phases_path)} if phases_path is not None else {})},
        tuple(read + notes["read"]), tuple(guessed + split + notes["guessed"]), tuple(dropped + notes["dropped"]),
        tuple(failures), outputs), out)
    return EventLogImport(tuple(counts), tuple(timing), plans, schedule, begin, end, report)
