"""Controller event logs written from a simulation: a plan run in SUMO, logged as a hi-res controller logs it.

Traffic signal controllers that feed ATSPM systems log every change of phase, pedestrian and detector
state as an *event* (a time to 0.1 s, an event code, a parameter), in the enumeration of [1]_.  The
common CSV export has the columns ``SignalID,Timestamp,EventCode,EventParam``.  This module writes
such a log from a SUMO run of a plan set, from SUMO's own outputs:

* the signal states at every switch (``SaveTLSSwitchStates``), read per NEMA phase of the plan's
  ring-and-barrier structure (:func:`~signalopt.formats.nema.dual_ring`; dummy phases have no
  indication and log nothing).  A phase is green while every link it gives a protected green shows
  one (a permissive ``g`` of the same left in another phase is not its green): code 1 when that
  starts, 7 when it ends, 8 and 9 around the yellow that follows, and 10 and 11 around the red
  clearance, from the end of the yellow until a link of the signal next gains right of way (logged
  only when there is one, as [1]_ says).  A state already running when the run begins is not
  logged: a controller logs a change when it sees it.  A phase that serves crossings logs 21 when its
  crossings show walk, 22 when they turn to pedestrian clearance while the phase is still green, and
  23 (solid don't walk) when the phase's green ends;
* an ``instantInductionLoop`` on the stop line of every lane of every approach (each
  vehicle's enter and leave, to the millisecond): 82 (detector on) when the loop becomes occupied,
  81 (off) when it is free again.  Each loop is one detector channel, numbered per signal in the
  network's approach and lane order.  The loop lies on the line itself (the lane's end), so it
  counts a vehicle when it crosses the line, as SUMO's own counts do: a loop even 0.1 m upstream is
  occupied by a vehicle waiting at the line from its arrival on, and counts it in the interval it
  arrived (it then shows stop-bar presence, which a counting loop does not need).

Beside the log it writes the detector map and the phase map :mod:`signalopt.importers.eventlog`
reads, and the movement counts SUMO itself had in the run (from each vehicle's exit time off its
approach edge, in signalopt's counts CSV), so an import of the log can be checked against them.

References
----------
.. [1] Sturdevant, J. R., Overman, T., Raamot, E., Deer, R., Miller, D., Bullock, D. M., Day, C. M.,
   Brennan, T. M., Li, H., Hainen, A. and Remias, S. M. (2012). *Indiana Traffic Signal Hi Resolution
   Data Logger Enumerations.* Indiana Department of Transportation and Purdue University,
   doi:10.4231/K4RN35SH.
"""

from __future__ import annotations

import csv
import io
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date as Date, datetime, timedelta
from pathlib import Path

from . import _sumo
from ._clock import clock_text
from ._xml import atomic_write_text, xml_escape
from .demand import MOVEMENT_DIRS
from .errors import SimulationError
from .formats.nema import dual_ring
from .formats.sumo import RUN_PROGRAM_ID, plans_additional
from .movements import MOVEMENT_ORDER, read_events, read_switches
from .network import Network, Signal, lane_edge
from .plan import GREEN_CHARS, PlanSet
from .prepare import Prepared

#: Event codes of [1]_ that signalopt writes and reads.
PHASE_BEGIN_GREEN = 1
PHASE_GREEN_TERMINATION = 7
PHASE_BEGIN_YELLOW = 8
PHASE_END_YELLOW = 9
PHASE_BEGIN_RED_CLEARANCE = 10
PHASE_END_RED_CLEARANCE = 11
PED_BEGIN_WALK = 21
PED_BEGIN_CLEARANCE = 22
PED_BEGIN_DONT_WALK = 23
DETECTOR_OFF = 81
DETECTOR_ON = 82
#: Columns of the event log CSV, of the detector map and of the phase map.
LOG_COLUMNS = ("SignalID", "Timestamp", "EventCode", "EventParam")
DETECTOR_COLUMNS = ("SignalID", "channel", "intersection", "approach", "movement", "lane")
PHASE_COLUMNS = ("SignalID", "phase", "intersection", "approach", "movement")
#: The phase map's optional column: the lane a row's links leave from.
PHASE_LANE = "lane"
#: Movement letter of a crossing in the phase map (its approach is the leg it crosses).
CROSSING = "P"
#: Files :func:`write_event_log` writes into its folder.
LOG_FILE = "events.csv"
DETECTORS_FILE = "detectors.csv"
PHASES_FILE = "phases.csv"
SUMO_COUNTS_FILE = "sumo_counts.csv"
#: Order of events logged at the same tenth of a second: a phase ends before the next begins, a
#: detector turns off before it turns on again (so an on right after an off is not lost).
_ORDER = {PHASE_GREEN_TERMINATION: 0, PHASE_BEGIN_YELLOW: 1, PHASE_END_YELLOW: 2, PHASE_BEGIN_RED_CLEARANCE: 3,
          PHASE_END_RED_CLEARANCE: 4, PED_BEGIN_DONT_WALK: 5, PHASE_BEGIN_GREEN: 6, PED_BEGIN_WALK: 7,
          PED_BEGIN_CLEARANCE: 8, DETECTOR_OFF: 9, DETECTOR_ON: 10}


def leg_label(signal: Signal, edge: str) -> str:
    """How an approach is named in counts and maps: its compass leg, else its edge id."""
    a = next(a for a in signal.approaches if a.id == edge)
    return a.leg or a.id


def movement_letter(direction: str) -> str:
    """The counts file's movement letter (``L T R U``) of a SUMO link direction."""
    return next(m for m, dirs in MOVEMENT_DIRS.items() if direction in dirs)


def lane_movements(signal: Signal) -> dict[str, str]:
    """Per approach lane of ``signal``: the movements it serves, in HCM order (``L``, ``TR``, ...)."""
    out: dict[str, set[str]] = defaultdict(set)
    for link in signal.links:
        if not link.is_crossing:
            for lane in link.from_lanes:
                out[lane].add(movement_letter(link.direction))
    return {lane: "".join(m for m in MOVEMENT_ORDER if m in ms) for lane, ms in out.items()}


@dataclass(frozen=True)
class Channel:
    """One detector channel the writer places: a stop-bar loop on one lane."""

    signal_id: str
    channel: int
    approach: str
    movement: str
    lane: str
    length_m: float

    @property
    def loop_id(self) -> str:
        return f"{self.signal_id}|{self.channel}"


def stop_bar_channels(network: Network, signal_ids: Sequence[str]) -> tuple[Channel, ...]:
    """A channel per lane of every approach of the signals, numbered from 1 per signal (approach, lane order)."""
    import sumolib  # only here: lane lengths come from the network file

    net = sumolib.net.readNet(str(network.path))
    out = []
    for sid in signal_ids:
        signal = network.signal(sid)
        served = lane_movements(signal)
        k = 0
        for a in signal.approaches:
            for lane in a.lanes:
                if lane not in served:
                    continue  # a lane of the approach edge that no signalised link leaves from
                k += 1
                out.append(Channel(sid, k, a.leg or a.id, served[lane], lane, float(net.getLane(lane).getLength())))
    return tuple(out)


@dataclass(frozen=True)
class EventLogRun:
    """What :func:`write_event_log` wrote: the log, its detector and phase maps, SUMO's own counts.

    ``unlogged`` names the NEMA phases no indication could be read for (no link of their own), one
    line each.
    """

    log_path: Path
    detectors_path: Path
    phases_path: Path
    sumo_counts_path: Path
    date: Date
    n_events: int
    unlogged: tuple[str, ...]


def _timestamp(day: Date, t_s: float) -> str:
    stamp = datetime.combine(day, datetime.min.time()) + timedelta(seconds=round(t_s, 1))
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + str(stamp.microsecond // 100_000)


def _runs(switches: Sequence[tuple[float, str]], on) -> list[tuple[float, float]]:  # noqa: ANN001 - state -> bool
    """``(begin, end)`` of each stretch of ``switches`` in which ``on(state)`` holds [s]; a stretch already
    running at the first switch is left out, as a controller logs a change only when it sees it."""
    out, start = [], None
    was = on(switches[0][1]) if switches else False
    for t, state in switches[1:]:
        now = on(state)
        if now and not was:
            start = t
        elif was and not now and start is not None:
            out.append((start, t))
            start = None
        was = now
    return out


def phase_events(network: Network, plans: PlanSet,
                 switches: dict[str, list[tuple[float, str]]]) -> tuple[list[tuple[str, float, int, int]], list[str]]:
    """Phase and pedestrian events ``(signal id, time [s], code, phase)`` from the signal states, and the
    phases that could not be logged (see the module docstring)."""
    events: list[tuple[str, float, int, int]] = []
    unlogged: list[str] = []
    for plan in plans:
        signal = network.signal(plan.signal_id)
        series = switches.get(plan.signal_id, [])
        # a link gains right of way from red or yellow to green, or from a permissive g to a protected G
        gains = [t for (_, a), (t, b) in zip(series, series[1:])
                 if any((c == "G" and p != "G") or (c == "g" and p not in GREEN_CHARS) for p, c in zip(a, b))]
        for p in dual_ring(plan, signal).phases:
            if p.kind == "dummy":
                continue
            vehicle = [k for k in p.links if not signal.links[k].is_crossing]
            links = [k for k in vehicle if p.state[k] == "G"] or vehicle or sorted(p.crossings)
            # a protected green is G: the same left shown permissive (g) in another phase is not this phase
            shows = {k: "G" if p.state[k] == "G" else GREEN_CHARS for k in links}
            if not links:
                unlogged.append(f"{plan.signal_id} phase {p.number}: no link of its own")
                continue

            def log(t: float, code: int, number: int = p.number) -> None:
                events.append((plan.signal_id, t, code, number))

            greens = _runs(series, lambda st: all(st[k] in shows[k] for k in links))
            yellows = dict(_runs(series, lambda st: any(st[k] == "y" for k in links)))
            walks = _runs(series, lambda st: any(st[k] in GREEN_CHARS for k in p.crossings)) if p.crossings else []
            for begin, end in greens:
                log(begin, PHASE_BEGIN_GREEN)
                log(end, PHASE_GREEN_TERMINATION)
                red_from = end
                if end in yellows:
                    log(end, PHASE_BEGIN_YELLOW)
                    log(yellows[end], PHASE_END_YELLOW)
                    red_from = yellows[end]
                red_to = next((t for t in gains if t >= red_from), None)
                if red_to is not None and red_to > red_from:
                    log(red_from, PHASE_BEGIN_RED_CLEARANCE)
                    log(red_to, PHASE_END_RED_CLEARANCE)
                for w_begin, w_end in walks:
                    if begin <= w_begin < end:
                        log(w_begin, PED_BEGIN_WALK)
                        if w_end < end:
                            log(w_end, PED_BEGIN_CLEARANCE)
                        log(end, PED_BEGIN_DONT_WALK)
    return events, unlogged


def detector_events(channels: Sequence[Channel], loops: dict) -> list[tuple[str, float, int, int]]:
    """Detector on and off events ``(signal id, time [s], code, channel)`` of the stop-bar loops: on when a
    loop becomes occupied, off when no vehicle is on it any more."""
    events = []
    for ch in channels:
        enters, leaves = loops.get(ch.loop_id, ({}, {}))
        edges = sorted([(t, 1) for t in enters.values()] + [(t, -1) for v, t in leaves.items() if v in enters])
        on = 0
        for t, step in edges:
            if on == 0 and step > 0:
                events.append((ch.signal_id, t, DETECTOR_ON, ch.channel))
            on = max(on + step, 0)
            if on == 0 and step < 0:
                events.append((ch.signal_id, t, DETECTOR_OFF, ch.channel))
    return events


def sumo_movement_counts(network: Network, signal_ids: Sequence[str], vehroutes: Path, *, begin_s: float,
                    end_s: float, interval_s: float) -> dict[tuple[float, str, str, str], int]:
    """SUMO's own counts ``(interval begin [s], signal, approach, movement) -> vehicles`` of a run: every
    vehicle that left a signal's approach edge, in the interval of the time it left it."""
    turns: dict[tuple[str, str], tuple[str, str, str]] = {}
    for sid in signal_ids:
        signal = network.signal(sid)
        for link in signal.links:
            if not link.is_crossing and link.to_lanes:
                turns[(link.approach, lane_edge(link.to_lanes[0]))] = (
                    sid, leg_label(signal, link.approach), movement_letter(link.direction))
    out: dict[tuple[float, str, str, str], int] = defaultdict(int)
    for _, el in ET.iterparse(vehroutes):
        if el.tag == "vehicle":
            route = el.findall("route")
            if route:
                edges = route[-1].get("edges", "").split()
                exits = [float(x) for x in route[-1].get("exitTimes", "").split()]
                for (a, b), t in zip(zip(edges, edges[1:]), exits):
                    if (a, b) in turns and begin_s <= t < end_s:
                        begin = begin_s + ((t - begin_s) // interval_s) * interval_s
                        out[(begin, *turns[(a, b)])] += 1
            el.clear()
    return dict(out)


def _csv(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_event_log(prepared: Prepared, network: Network, plans: PlanSet, out_dir: str | Path, *, seed: int = 1,
                    day: Date = Date(2024, 1, 1), controller_ids: Mapping[str, str] | None = None,
                    interval_s: float = 900.0, step_s: float = 0.1) -> EventLogRun:
    """Simulate ``plans`` on a prepared scenario and write its controller event log (see the module docstring).

    Parameters
    ----------
    prepared
        The scenario's network, routes and window (:func:`~signalopt.prepare.prepare`).
    network
        The network read (its signals' links and approaches).
    plans
        Plans to run, fixed-time or actuated (free in SUMO's ``actuated`` controller, coordinated in its
        ``NEMA`` controller, as the evaluator runs them); every one is logged.
    out_dir
        Folder for the log, the detector map, the phase map and SUMO's own counts.
    seed
        SUMO's random seed.
    day
        The date the log's timestamps carry (simulation time is the time of day).
    controller_ids
        The ``SignalID`` the log gives each signal (by tlLogic id); a signal not named is logged by its
        tlLogic id.  The maps tie the two together, as they do for a real controller's number.
    interval_s
        Counting interval of SUMO's own counts [s].
    step_s
        Simulation step [s]; the log's 0.1 s resolution needs 0.1 s steps for the signal states.

    Raises
    ------
    PlanError
        A plan with no ring-and-barrier structure (:func:`~signalopt.formats.nema.dual_ring`).
    SimulationError
        SUMO fails (its first error line).
    """
    out = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="signalopt-log-") as tmp:
        return _write(prepared, network, plans, out, Path(tmp), seed=seed, day=day,
                      controller=lambda sid: (controller_ids or {}).get(sid, sid), interval_s=interval_s,
                      step_s=step_s)


def phase_map_rows(network: Network, plans: PlanSet) -> list[tuple[str, int, str, str, str]]:
    """``(signal id, phase, approach, movement, lane)`` of every movement of every dual-ring phase, a crossing
    as movement ``P`` on the leg it crosses."""
    out = []
    for plan in plans:
        signal = network.signal(plan.signal_id)
        legs = {e: a.leg or a.id for a in signal.approaches for e in a.edges}
        for p in dual_ring(plan, signal).phases:
            served = {(leg_label(signal, signal.links[k].approach), movement_letter(signal.links[k].direction), lane)
                      for k in p.links if not signal.links[k].is_crossing for lane in signal.links[k].from_lanes}
            served |= {(next((legs[e] for e in signal.links[k].crosses if e in legs), signal.links[k].approach),
                        CROSSING, "") for k in p.crossings}
            out += [(plan.signal_id, p.number, *row) for row in sorted(served)]
    return out


def _write(prepared: Prepared, network: Network, plans: PlanSet, out: Path, work: Path, *, seed: int, day: Date,
           controller: Callable[[str], str], interval_s: float, step_s: float) -> EventLogRun:
    ids = list(plans.signal_ids)
    for plan in plans:
        dual_ring(plan, network.signal(plan.signal_id))  # refuse a plan with no NEMA reading before simulating
    channels = stop_bar_channels(network, ids)
    lines = ["<additional>"]
    for ch in channels:
        lines.append(f'  <instantInductionLoop id="{xml_escape(ch.loop_id)}" lane="{xml_escape(ch.lane)}" '
                     f'pos="{ch.length_m:.2f}" file="loops.xml"/>')
    lines.append('  <timedEvent type="SaveTLSSwitchStates" dest="switches.xml"/>')
    lines.append("</additional>")
    (work / "loops.add.xml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a coordinated actuated plan runs in SUMO's NEMA controller, whose rings come from the network; a skipping
    # one is called from the lanes each stage gives green
    (work / "plans.add.xml").write_text(plans_additional(plans, program_id=RUN_PROGRAM_ID, network=network,
                                                         step_s=step_s), encoding="utf-8")
    cmd = [str(_sumo.binary("sumo")), "-n", prepared.network_path, "-r", ",".join(prepared.route_files),
           "-a", ",".join([*prepared.additional_files, str(work / "plans.add.xml"), str(work / "loops.add.xml")]),
           "--begin", f"{prepared.begin_s:g}", "--end", f"{prepared.end_s:g}", "--seed", str(seed),
           "--step-length", f"{step_s:g}", "--no-step-log", "--no-warnings", "--duration-log.disable",
           "--xml-validation", "never", "--vehroute-output", str(work / "vehroutes.xml"),
           "--vehroute-output.exit-times", "--vehroute-output.last-route", "--vehroute-output.write-unfinished"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SimulationError(f"sumo failed on {prepared.network_path}: {_sumo.failure_reason(proc)}")
    switches = read_switches(work / "switches.xml")
    events, unlogged = phase_events(network, plans, switches)
    events += detector_events(channels, read_events(work / "loops.xml"))
    events.sort(key=lambda e: (controller(e[0]), round(e[1], 1), _ORDER[e[2]], e[3]))
    rows = [(controller(sid), _timestamp(day, t), code, param) for sid, t, code, param in events]
    log_path = atomic_write_text(out / LOG_FILE, _csv(rows, LOG_COLUMNS))
    detectors_path = atomic_write_text(out / DETECTORS_FILE, _csv(
        [(controller(ch.signal_id), ch.channel, ch.signal_id, ch.approach, ch.movement, ch.lane) for ch in channels],
        DETECTOR_COLUMNS))
    phases_path = atomic_write_text(out / PHASES_FILE, _csv(
        [(controller(sid), number, sid, *row) for sid, number, *row in phase_map_rows(network, plans)],
        (*PHASE_COLUMNS, PHASE_LANE)))
    counts = sumo_movement_counts(network, ids, work / "vehroutes.xml", begin_s=prepared.begin_s,
                                  end_s=prepared.end_s, interval_s=interval_s)
    counts_path = atomic_write_text(out / SUMO_COUNTS_FILE, _csv(
        [(clock_text(b), sid, a, m, n) for (b, sid, a, m), n in sorted(counts.items())],
        ("interval", "intersection", "approach", "movement", "vehicles")))
    return EventLogRun(log_path, detectors_path, phases_path, counts_path, day, len(rows), tuple(unlogged))
