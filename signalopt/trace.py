"""Traces for reports: queue over time per approach, vehicle trajectories along a corridor, and the
arrivals against the green of the coordinated approaches (Purdue coordination diagrams).

A trace is one extra simulation of a plan set (one seed), stepped through
libsumo in a worker process, recording what the summary metrics average away.
:func:`run_with_queue_series` is a run's metrics and its queues over time in one simulation (what the
queue-clearance time of :mod:`signalopt.surge` is read from).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import atspm
from ._sumo_run import (Task, _detectors_additional, approach_windows, control_step, controller_lanes,
                        max_pressure_controllers, run_task, sumo_command)
from .errors import SimulationError
from .metrics import RunMetrics
from .movements import EVENTS_FILE, SWITCHES_FILE, LaneGroup, group_arrivals_s, read_events, read_switches
from .network import sumolib_net
from .prepare import Prepared
from .demand import fringe_edges

#: Queue sampling period of a trace [s].
TRACE_PERIOD_S = 60.0
#: Length of the trajectory window after warm-up [s].
TRAJECTORY_WINDOW_S = 600.0
#: Queue sampling step of :func:`run_with_queue_series` [s]: a 5-minute window then holds 30 samples, so its
#: 95th percentile leaves out the highest one or two instead of being their maximum.
SERIES_STEP_S = 10.0
#: Output file of the series' queue detectors, in the run's work folder.
_SERIES_FILE = "series.xml"


@dataclass(frozen=True)
class Corridor:
    """A route through several signals: edges in order and where each signal's stop line is."""

    edges: tuple[str, ...]
    edge_start_m: tuple[float, ...]
    stop_lines: tuple[tuple[str, float, int], ...]  # (signal id, distance [m], link index of the through movement)


@dataclass(frozen=True)
class Trace:
    """Queue series per approach and trajectories along the corridor."""

    label: str
    times_s: tuple[float, ...]
    queues_m: dict[str, tuple[float, ...]]
    corridor: Corridor | None
    trajectories: dict[str, tuple[tuple[float, float], ...]]  # vehicle -> ((t, x), ...)
    signal_states: dict[str, tuple[tuple[float, str], ...]]  # signal -> ((t, 'G'|'y'|'r'), ...)
    pcd: dict[str, tuple[atspm.PcdCycle, ...]] = field(default_factory=dict)  # lane group label -> cycles
    #: split monitor: signal -> phase (the lane groups one green serves) -> ((green start, green) [s], ...)
    splits: dict[str, dict[str, tuple[tuple[float, float], ...]]] = field(default_factory=dict)


def pcd_groups(groups: Sequence[LaneGroup], corridor: Corridor | None,
               volumes_veh_h: Mapping[str, float]) -> tuple[LaneGroup, ...]:
    """The lane groups a Purdue coordination diagram is drawn for: the coordinated approaches, i.e. the
    through movement at each of the corridor's stop lines; without a corridor of two signals, each signal's
    busiest lane group with a through movement (by ``volumes_veh_h``, group id -> volume)."""
    if corridor is not None:
        return tuple(g for sid, _, link in corridor.stop_lines for g in groups
                     if g.signal_id == sid and link in g.links)
    out = []
    for sid in dict.fromkeys(g.signal_id for g in groups):
        through = [g for g in groups if g.signal_id == sid and "T" in g.movement]
        if through:
            out.append(max(through, key=lambda g: (volumes_veh_h.get(g.id, 0.0), g.id)))
    return tuple(out)


def read_pcd(task: Task, work: Path, switches: dict[str, list[tuple[float, str]]]
             ) -> dict[str, tuple[atspm.PcdCycle, ...]]:
    """PCD cycles after warm-up of the task's lane groups from a detailed run's events and signal switches
    (by group label)."""
    p = task.prepared
    events = read_events(work / EVENTS_FILE)
    start = p.begin_s + p.warmup_s
    out = {}
    for g in task.groups:
        arrivals = group_arrivals_s(g, events)
        intervals = atspm.indication_intervals(switches.get(g.signal_id, []), g.links, end_s=p.end_s)
        out[g.label] = tuple(atspm.pcd_cycles([t for t in arrivals if t >= start],
                                              atspm.clip(intervals, start, p.end_s)))
    return out


def find_corridor(network_path: str, signal_ids: tuple[str, ...]) -> Corridor | None:
    """The fringe-to-fringe route through the most signals, going straight (None if < 2 signals)."""
    net = sumolib_net(network_path)
    best: list = []
    for start in fringe_edges(net)[0]:
        route = [start]
        seen = {start.getID()}
        while True:
            nxt = None
            conns = [c for lane in route[-1].getLanes() for c in lane.getOutgoing() if c.getDirection() == "s"]
            for c in conns:
                e = c.getTo()
                if e.allows("passenger") and e.getID() not in seen:
                    nxt = e
                    break
            if nxt is None:
                break
            route.append(nxt)
            seen.add(nxt.getID())
        n_sig = sum(1 for e in route if e.getToNode().getType() == "traffic_light"
                    and e.getTLS() is not None and e.getTLS().getID() in signal_ids)
        best_n = sum(1 for e in best if e.getToNode().getType() == "traffic_light" and e.getTLS() is not None
                     and e.getTLS().getID() in signal_ids)
        if n_sig > best_n or (n_sig == best_n and best and route[0].getID() < best[0].getID()):
            best = route
    if not best:
        return None
    starts, stops, x = [], [], 0.0
    for i, e in enumerate(best):
        starts.append(x)
        x += e.getLength()
        tls = e.getTLS() if e.getToNode().getType() == "traffic_light" else None
        if tls is not None and tls.getID() in signal_ids and i + 1 < len(best):
            link = next((idx for a, b, idx in tls.getConnections()
                         if a.getEdge() is e and b.getEdge() is best[i + 1]), None)
            if link is not None:
                stops.append((tls.getID(), x, int(link)))
    if len(stops) < 2:
        return None
    return Corridor(tuple(e.getID() for e in best), tuple(starts), tuple(stops))


def read_splits(task: Task, switches: dict[str, list[tuple[float, str]]],
                groups: Sequence[LaneGroup]) -> dict[str, dict[str, tuple]]:
    """Every whole green after warm-up of each signal's phases, from a detailed run's switches: lane groups
    whose greens are the same are one phase, named by their movements (``N T, S T``)."""
    p = task.prepared
    start = p.begin_s + p.warmup_s
    out: dict[str, dict[str, tuple]] = {}
    for sid in dict.fromkeys(g.signal_id for g in groups):
        phases: dict[tuple, list[str]] = {}
        for g in groups:
            if g.signal_id == sid:
                # whole greens only: one cut by the end of warm-up or of the run is not a split
                series = tuple((t, d) for t, d in atspm.greens(atspm.indication_intervals(
                    switches.get(sid, []), g.links, end_s=p.end_s)) if t >= start and t + d < p.end_s - 1e-6)
                if series:
                    phases.setdefault(series, []).append(g.label.split(":", 1)[-1])
        out[sid] = {", ".join(names): series for series, names in phases.items()}
    return out


@dataclass(frozen=True)
class QueueSeries:
    """Back of queue of every approach after warm-up, one value per sampling step.

    ``queues_m`` maps an approach's label to the longest jam on its lanes in each step, from ``start_s`` (the
    end of warm-up) every ``step_s`` [m], continuing onto the piece upstream of a turn bay once the stop-line
    lanes are full, as the run metrics measure it; ``storage_m`` maps it to the length its detectors cover [m].
    """

    start_s: float
    step_s: float
    queues_m: dict[str, tuple[float, ...]]
    storage_m: dict[str, float]

    def __post_init__(self) -> None:
        if self.step_s <= 0 or set(self.queues_m) != set(self.storage_m):
            raise SimulationError(f"queue series: a positive step and a storage per approach are needed "
                                  f"(step {self.step_s:g} s, {len(self.queues_m)} series, {len(self.storage_m)} storages)")
        if len({len(v) for v in self.queues_m.values()}) > 1:
            raise SimulationError("queue series: every approach needs the same number of samples")


def _series_additional(prepared: Prepared, step_s: float) -> str:
    """Queue detectors of every approach sampling every ``step_s``, beside (and not instead of) the run's own:
    the same detectors with ids ending in ``|series``, so that both sets load and :func:`approach_windows`
    reads them alike."""
    text = _detectors_additional(prepared, {sid: step_s for sid in prepared.signal_ids}, _SERIES_FILE)
    return re.sub(r'<laneAreaDetector id="([^"]*)"', r'<laneAreaDetector id="\1|series"', text)


def run_with_queue_series(args: tuple[Task, float]) -> tuple[RunMetrics, QueueSeries]:
    """Simulate ``task`` as :func:`~signalopt._sumo_run.run_task` does (the same figures: detectors draw no
    random numbers) and also sample every approach's queue every ``step_s`` (worker function).

    ``args``: (task, step_s [s]).  The run's own queue detectors keep their per-cycle windows, so its metrics
    mean what they mean everywhere else; a second set samples the series.
    """
    task, step_s = args
    p: Prepared = task.prepared
    work = Path(task.keep_dir) if task.keep_dir else Path(tempfile.mkdtemp(prefix="signalopt-series-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        extra = work / "series.add.xml"
        extra.write_text(_series_additional(p, step_s), encoding="utf-8")
        run = replace(task, keep_dir=str(work), prepared=replace(p, additional_files=(*p.additional_files, str(extra))))
        metrics = run_task(run)
        times, queues = _queue_series(work / _SERIES_FILE, p)
        start = p.begin_s + p.warmup_s
        if times and abs(times[0] - start) > 1e-6:
            raise SimulationError(f"queue series starts at {times[0]:g} s, not at the end of warm-up ({start:g} s)")
        storage = {a.label: a.length_m + a.upstream_length_m for a in p.approaches}
        return metrics, QueueSeries(start, step_s, queues, storage)
    finally:
        if not task.keep_dir:
            shutil.rmtree(work, ignore_errors=True)


def run_trace(args: tuple) -> Trace:
    """Simulate ``task`` stepping through libsumo; returns a :class:`Trace` (worker function).

    ``args``: (task, label, corridor) and optionally the lane groups whose greens the split monitor shows.
    """
    task, label, corridor = args[:3]
    split_groups: Sequence[LaneGroup] = args[3] if len(args) > 3 else ()
    import libsumo

    p: Prepared = task.prepared
    work = Path(tempfile.mkdtemp(prefix="signalopt-trace-"))
    try:
        task = replace(task, keep_dir=str(work))
        cmd = sumo_command(task, work)
        _rewrite_periods(work / "detectors.add.xml")
        traj: dict[str, list[tuple[float, float]]] = {}
        states: dict[str, list[tuple[float, str]]] = {s: [] for s, _, _ in (corridor.stop_lines if corridor else ())}
        t_from = p.begin_s + p.warmup_s
        t_to = t_from + TRAJECTORY_WINDOW_S
        try:
            libsumo.start(cmd)
            controllers = max_pressure_controllers(task) if task.controller == "max_pressure" else {}
            lanes = controller_lanes(controllers)
            t = libsumo.simulation.getTime()
            while t < p.end_s:
                if controllers:
                    control_step(libsumo, controllers, lanes)
                elif t >= t_to:
                    libsumo.simulationStep(p.end_s)
                    break
                libsumo.simulationStep()
                t = libsumo.simulation.getTime()
                if corridor is not None and t_from <= t < t_to:
                    for e, x0 in zip(corridor.edges, corridor.edge_start_m):
                        for v in libsumo.edge.getLastStepVehicleIDs(e):
                            traj.setdefault(v, []).append((t, x0 + libsumo.vehicle.getLanePosition(v)))
                    for sid, _, link in corridor.stop_lines:
                        states[sid].append((t, libsumo.trafficlight.getRedYellowGreenState(sid)[link]))
        except Exception as exc:  # libsumo's own exception types
            raise SimulationError(f"trace of {label} failed: {exc}") from None
        finally:
            try:
                libsumo.close()
            except Exception:
                pass
        times, queues = _queue_series(work / "queues.xml", p)
        switches = read_switches(work / SWITCHES_FILE) if task.groups or task.crossings else {}
        return Trace(label, times, queues, corridor, {k: tuple(v) for k, v in traj.items()},
                     {k: tuple(v) for k, v in states.items()}, read_pcd(task, work, switches) if task.groups else {},
                     read_splits(task, switches, split_groups) if switches else {})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _rewrite_periods(path: Path) -> None:
    """Sample queues every TRACE_PERIOD_S instead of once per cycle."""
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'period="[0-9.]+"', f'period="{TRACE_PERIOD_S:.3f}"', text), encoding="utf-8")


def _queue_series(path: Path, p: Prepared) -> tuple[tuple[float, ...], dict[str, tuple[float, ...]]]:
    """Per approach, its queue [m] per sampling window after warm-up, measured as the run metrics measure it:
    a queue that fills the stop-line lanes continues onto the piece upstream of a turn bay."""
    series = {a: {b: m for b, m, _ in rows} for a, rows in approach_windows(p, path).items()}
    times = sorted({b for d in series.values() for b in d})
    labels = {a.id: a.label for a in p.approaches}
    return tuple(times), {labels.get(a, a): tuple(d.get(t, 0.0) for t in times) for a, d in series.items()}
