"""One SUMO simulation in the calling process (libsumo), and the parsing of its outputs.

Called inside worker processes: libsumo holds one simulation per process,
so nothing here keeps state between calls.
"""

from __future__ import annotations

import bisect
import html
import math
import re
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import _sumo
from ._xml import xml_escape
from .errors import SimulationError
from .metrics import ApproachMetrics, MovementMetrics, PeriodMetrics, RunMetrics
from .movements import (EVENTS_FILE, LANES_FILE, SWITCHES_FILE, Crossing, LaneGroup, crossing_measures,
                        detail_additional, group_measures, read_events, read_lane_losses, read_switches)
from .formats.sumo import (RUN_PROGRAM_ID, needs_network, plans_additional, schedule_programs_additional,
                           waut_additional)
from .plan import GREEN_CHARS, PlanSet, TimingPlan, without_walk
from .prepare import Prepared, prepared_network
from .programs import adaptive_signal_ids
from ._responsive_run import responsive_additional, run_responsive
from ._schedule_run import check_schedule_runs, first_period, run_schedule, watch_cycles
from .responsive import ResponsivePlans
from .schedule import program_timeline, Schedule

#: ``network`` runs the network's own programmes as they are (the existing timing as it runs on the street,
#: actuated and NEMA included); the plans then only set the queue windows.  ``responsive`` runs a task's
#: :class:`~signalopt.responsive.ResponsivePlans` (traffic-responsive plan selection).
CONTROLLERS = ("static", "network", "actuated", "delay_based", "max_pressure", "responsive")
#: Queue sampling window of time-of-day runs, regrouped per cycle afterwards [s].
FINE_WINDOW_S = 30.0
#: Programme-id prefix of a schedule's periods and transitions.
SCHEDULE_PREFIX = "so-"
#: Step of the day's queue profile [s].
PROFILE_STEP_S = 900.0
#: Aggregation window for queues when no plan gives a cycle (adaptive control) [s].
DEFAULT_WINDOW_S = 90.0
#: A lane counts as full when its jam reaches this share of its length; only
#: then is the queue on the upstream piece of a split approach added.
_FULL_SHARE = 0.9


@dataclass(frozen=True)
class Task:
    """One evaluation: a plan set (or a controller, or a time-of-day schedule) on a prepared scenario with one seed.

    ``bins`` are reporting periods ``(name, begin_s, end_s)`` for which queue
    and delay are also given separately (e.g. the control periods of a day).  With ``groups`` the run is
    detailed: it also measures those lane groups (HCM and ATSPM measures, :mod:`signalopt.movements`),
    which an optimiser's runs leave out for speed; with ``crossings``, also those crossings' pedestrian delay.
    ``responsive`` (with ``controller="responsive"``) switches between its patterns by detector data.
    """

    prepared: Prepared
    seed: int
    plans: PlanSet | None = None
    controller: str = "static"
    keep_dir: str | None = None
    schedule: Schedule | None = None
    bins: tuple[tuple[str, float, float], ...] = ()
    groups: tuple[LaneGroup, ...] = ()
    crossings: tuple[Crossing, ...] = ()
    responsive: ResponsivePlans | None = None

    def __post_init__(self) -> None:
        if self.schedule is not None:  # refused here, before any simulation, rather than once per seed
            check_schedule_runs(self.schedule)


def _detectors_additional(prepared: Prepared, windows: dict[str, float], out_file: str) -> str:
    lines = ["<additional>"]
    for a in prepared.approaches:
        period = windows.get(a.signal_id, DEFAULT_WINDOW_S)
        for prefix, lanes in (("q", a.lanes), ("u", a.upstream_lanes)):
            for lane in lanes:
                lines.append(f'  <laneAreaDetector id="{prefix}|{xml_escape(a.id)}|{xml_escape(lane)}" '
                             f'lane="{xml_escape(lane)}" pos="0" endPos="-0.01" period="{period:.3f}" '
                             f'file="{out_file}"/>')
    lines.append("</additional>")
    return "\n".join(lines) + "\n"


def observed_cycle_signals(task: Task) -> tuple[str, ...]:
    """Signals of ``task`` whose cycles are not known in advance, so the run records when each began: those
    under SUMO's stock actuated and delay_based controllers, under the network's own adaptive programmes (all of
    them for a day with reporting periods), and those running a free actuated plan.  A schedule's and a
    responsive run's are recorded by their own controllers; max-pressure has no cycle."""
    p = task.prepared
    if task.schedule is not None or task.responsive is not None or task.controller == "max_pressure":
        return ()
    if task.controller in ("actuated", "delay_based") or (task.controller == "network" and task.bins):
        return p.signal_ids
    if task.controller == "network":
        return adaptive_signal_ids(prepared_network(p), p.signal_ids)
    return tuple(pl.signal_id for pl in task.plans or () if pl.actuation is not None and pl.actuation.mode == "free")


def sumo_command(task: Task, work: Path, *, sumo: str | None = None) -> list[str]:
    """The SUMO command line of a task (also used by the bare-run benchmark)."""
    p = task.prepared
    additional = list(p.additional_files)
    if task.schedule is not None or task.responsive is not None:
        # queues sampled finely, then regrouped per cycle of whichever plan runs
        windows = {sid: FINE_WINDOW_S for sid in p.signal_ids}
        if task.responsive is not None:
            body = responsive_additional(task.responsive, begin_s=p.begin_s)
        elif task.schedule.actuated:  # switched as the run goes (signalopt._schedule_run)
            skipping = any(needs_network(period.plans) for period in task.schedule.periods)
            body = schedule_programs_additional(task.schedule, program_prefix=SCHEDULE_PREFIX,
                                                first=first_period(task.schedule, p.begin_s),
                                                network=prepared_network(p) if skipping else None)
        else:
            body = waut_additional(task.schedule, program_prefix=SCHEDULE_PREFIX)
        (work / "plans.add.xml").write_text(body, encoding="utf-8")
        additional.append(str(work / "plans.add.xml"))
    else:
        windows = {pl.signal_id: pl.cycle_s for pl in task.plans} if task.plans is not None else {}
        # adaptive control has no fixed cycle: queues sampled finely, regrouped per cycle as it ran
        windows.update({sid: FINE_WINDOW_S for sid in observed_cycle_signals(task)})
        if task.plans is not None and task.controller != "network":
            # coordinated actuated plans run in SUMO's NEMA controller, whose rings come from the signals;
            # skipping ones are called from the lanes each stage gives green
            network = prepared_network(p) if needs_network(task.plans) else None
            (work / "plans.add.xml").write_text(plans_additional(task.plans, program_id=RUN_PROGRAM_ID,
                                                                 controller=task.controller, network=network),
                                                encoding="utf-8")
            additional.append(str(work / "plans.add.xml"))
    (work / "detectors.add.xml").write_text(_detectors_additional(p, windows, "queues.xml"), encoding="utf-8")
    additional.append(str(work / "detectors.add.xml"))
    if task.groups or task.crossings:
        (work / "detail.add.xml").write_text(
            detail_additional(task.groups, begin_s=p.begin_s + p.warmup_s, end_s=p.end_s), encoding="utf-8")
        additional.append(str(work / "detail.add.xml"))
    return [
        sumo or str(_sumo.binary("sumo")), "-n", p.network_path, "-r", ",".join(p.route_files),
        "-a", ",".join(additional), "--begin", f"{p.begin_s:g}", "--end", f"{p.end_s:g}",
        "--seed", str(task.seed), "--no-step-log", "--no-warnings", "--duration-log.disable",
        "--tripinfo-output", str(work / "tripinfo.xml"), "--tripinfo-output.write-unfinished",
        "--statistic-output", str(work / "statistics.xml"), "--xml-validation", "never",
    ]


def run_task(task: Task) -> RunMetrics:
    """Simulate one task with libsumo and return its figures."""
    if task.controller not in CONTROLLERS:
        raise SimulationError(f"unknown controller {task.controller!r}")
    if (task.controller == "responsive") != (task.responsive is not None):
        raise SimulationError("controller 'responsive' runs a task's responsive plans, and only it does")
    if task.controller not in ("static", "network", "responsive") and task.plans is None:
        raise SimulationError(f"controller {task.controller!r} needs the plans whose stages it drives")
    import libsumo

    work = Path(task.keep_dir) if task.keep_dir else Path(tempfile.mkdtemp(prefix="signalopt-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        cmd = sumo_command(task, work)
        observed = observed_cycle_signals(task)
        try:
            libsumo.start(cmd)
            log = None
            if task.controller == "max_pressure":
                _run_max_pressure(libsumo, task)
            elif task.responsive is not None:
                log = run_responsive(libsumo, task.responsive, begin_s=task.prepared.begin_s,
                                     end_s=task.prepared.end_s)
            elif task.schedule is not None and task.schedule.actuated:
                log = run_schedule(libsumo, task.schedule, begin_s=task.prepared.begin_s,
                                   end_s=task.prepared.end_s, program_prefix=SCHEDULE_PREFIX)
            elif observed:
                log = watch_cycles(libsumo, observed, begin_s=task.prepared.begin_s,
                                   end_s=task.prepared.end_s, fallback_s=DEFAULT_WINDOW_S)
            else:
                libsumo.simulationStep(task.prepared.end_s)
        except Exception as exc:  # libsumo raises its own exception types
            raise SimulationError(f"SUMO failed on seed {task.seed}: {exc}") from None
        finally:
            try:
                libsumo.close()
            except Exception:
                pass
        metrics = read_outputs(task, work, cycle_starts=log.cycle_starts if log is not None else None)
        if task.responsive is not None:
            metrics = replace(metrics, patterns=tuple(log.decisions))
        return replace(metrics, sim_time_s=time.perf_counter() - t0)
    finally:
        if not task.keep_dir:
            shutil.rmtree(work, ignore_errors=True)


#: Fixed minimum phase time of the max-pressure baseline [s], as the reference implementations of
#: Varaiya's controller in PressLight/LibSignal run it (``t_min = 20``).  With only the 5-7 s vehicle
#: minimum, the stage just served loses its pressure to the vehicles it sent downstream within seconds:
#: on the isolated junction the controller switched after every minimum green and lost 40% of the cycle
#: to interstages.
MAX_PRESSURE_MIN_PHASE_S = 20.0


class _MaxPressure:
    """Max-pressure control of one signal over its plan's stages (Varaiya 2013).

    Once the current stage has run its minimum phase time (the longer of
    :data:`MAX_PRESSURE_MIN_PHASE_S` and its own minimum green; not beyond
    its maximum), at each second the stage with the largest pressure --
    vehicles on the incoming lanes of its green links minus vehicles on their
    outgoing lanes -- is chosen; switching runs the full yellow and all-red
    of the stage that ends.  A stage also ends at its maximum green.
    """

    def __init__(self, plan: TimingPlan, lanes: dict[int, tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
        self.plan = plan
        self.links = [[k for k, c in enumerate(ph.state) if c in GREEN_CHARS and k in lanes]
                      for ph in plan.phases]
        self.lanes = lanes
        self.stage = 0
        self.elapsed = 0.0
        self.queue: list[tuple[float, str]] = []  # pending (duration, state) of a change

    def _pressure(self, counts: dict[str, int], stage: int) -> float:
        total = 0.0
        for k in self.links[stage]:
            ins, outs = self.lanes[k]
            total += sum(counts[l] for l in ins) - sum(counts[l] for l in outs) / max(1, len(outs))
        return total

    def step(self, counts: dict[str, int]) -> str:
        ph = self.plan.phases[self.stage]
        if self.queue:
            dur, state = self.queue[0]
            self.queue[0] = (dur - 1.0, state)
            if self.queue[0][0] <= 0:
                self.queue.pop(0)
            return state
        min_green = min(max(ph.effective_min_green_s, MAX_PRESSURE_MIN_PHASE_S),
                        max(ph.max_green_s, ph.effective_min_green_s))
        if self.elapsed >= min_green:
            pressures = [self._pressure(counts, i) for i in range(len(self.plan.phases))]
            best = max(range(len(pressures)), key=lambda i: (pressures[i], -((i - self.stage) % len(pressures))))
            if self.elapsed >= max(ph.max_green_s, min_green) and best == self.stage:
                others = [i for i in range(len(pressures)) if i != self.stage]
                best = max(others, key=lambda i: pressures[i]) if others else best
            if best != self.stage:
                # the programmed interstage leads to the next stage in the plan only
                sequential = best == (self.stage + 1) % len(self.plan.phases)
                nxt = self.plan.phases[best]
                self.queue = [(d, s) for d, s in ph.change_intervals(nxt.state, self.plan.ped_links,
                                                                    programmed=sequential) if d > 0]
                self.stage, self.elapsed = best, 0.0
                return self.step(counts)
        self.elapsed += 1.0
        walking = ph.serves_pedestrians and self.elapsed <= ph.walk_s
        return ph.state if walking else without_walk(ph.state, self.plan.ped_links)


def max_pressure_controllers(task: Task) -> dict[str, _MaxPressure]:
    """One max-pressure controller per plan, with the lanes of each vehicle link."""
    import sumolib

    net = sumolib.net.readNet(task.prepared.network_path, withPrograms=False)
    controllers = {}
    for plan in task.plans or ():
        lanes: dict[int, tuple[list[str], list[str]]] = {}
        for in_lane, out_lane, idx in net.getTLS(plan.signal_id).getConnections():
            if in_lane.getEdge().getFunction() or not in_lane.allows("passenger"):
                continue
            ins, outs = lanes.setdefault(idx, ([], []))
            ins.append(in_lane.getID())
            outs.append(out_lane.getID())
        controllers[plan.signal_id] = _MaxPressure(plan, {k: (tuple(a), tuple(b)) for k, (a, b) in lanes.items()})
    return controllers


def control_step(libsumo, controllers: dict[str, _MaxPressure], lanes: list[str]) -> None:  # noqa: ANN001
    """Set every max-pressure signal's state for the next simulation step."""
    counts = {l: libsumo.lane.getLastStepVehicleNumber(l) for l in lanes}
    for sid, c in controllers.items():
        libsumo.trafficlight.setRedYellowGreenState(sid, c.step(counts))


def controller_lanes(controllers: dict[str, _MaxPressure]) -> list[str]:
    return sorted({l for c in controllers.values() for ins, outs in c.lanes.values() for l in (*ins, *outs)})


def _run_max_pressure(libsumo, task: Task) -> None:  # noqa: ANN001 - the libsumo module
    controllers = max_pressure_controllers(task)
    lanes = controller_lanes(controllers)
    t = libsumo.simulation.getTime()
    while t < task.prepared.end_s:
        control_step(libsumo, controllers, lanes)
        libsumo.simulationStep()
        t = libsumo.simulation.getTime()


def approach_windows(prepared: Prepared, path: Path, *, rows: list[tuple[float, str, float, float]] | None = None
                     ) -> dict[str, list[tuple[float, float, float]]]:
    """Per approach: (window begin, max jam [m], max jam [veh]) for every detector window after warm-up.

    The upstream piece of a split approach counts only when the lanes at the
    stop line are full, i.e. when the queue has spilled back onto it.  ``rows``: the file's rows
    (:func:`_jam_rows`) when already read.
    """
    start = prepared.begin_s + prepared.warmup_s
    jam: dict[tuple[str, str, float], tuple[float, float]] = {}
    for begin, det_id, veh, metres in rows if rows is not None else _jam_rows(path):
        if begin >= start - 1e-6:
            kind, approach, _lane = det_id.split("|", 2)
            key = (kind, approach, begin)
            old = jam.get(key, (0.0, 0.0))
            jam[key] = (max(old[0], metres), max(old[1], veh))
    out: dict[str, list[tuple[float, float, float]]] = {}
    for a in prepared.approaches:
        rows = []
        for b in sorted({b for (k, ap, b) in jam if k == "q" and ap == a.id}):
            m, v = jam[("q", a.id, b)]
            if a.upstream_lanes and m >= _FULL_SHARE * a.length_m:
                um, uv = jam.get(("u", a.id, b), (0.0, 0.0))
                m, v = m + um, v + uv
            rows.append((b, m, v))
        out[a.id] = rows
    return out


# SUMO writes an e2 interval's attributes in one fixed order, double-quoted (OutputDevice); a regular expression
# reads the four needed twice as fast as a parser, which matters beside a simulation of a fraction of a second
_JAM_RE = re.compile(rb'<interval begin="([^"]*)" end="[^"]*" id="([^"]*)"[^>]*? maxJamLengthInVehicles="([^"]*)" '
                     rb'maxJamLengthInMeters="([^"]*)"')


def _jam_rows(path: Path) -> list[tuple[float, str, float, float]]:
    """(begin [s], detector id, max jam [veh], max jam [m]) of every interval of an e2 detector file.

    Read with :data:`_JAM_RE`; when it does not find every interval (another SUMO's layout), with a parser.
    """
    data = path.read_bytes()
    rows = [(float(b), html.unescape(i.decode()), float(v), float(m)) for b, i, v, m in _JAM_RE.findall(data)]
    if len(rows) == data.count(b"<interval "):
        return rows
    rows = []
    for _, el in ET.iterparse(path):
        if el.tag == "interval":
            rows.append((float(el.get("begin")), el.get("id"), float(el.get("maxJamLengthInVehicles")),
                         float(el.get("maxJamLengthInMeters"))))
        el.clear()
    return rows


def _regroup(rows: list[tuple[float, float, float]], windows: list[float]) -> list[tuple[float, float, float]]:
    """Maxima of fine windows regrouped into coarser ones starting at ``windows`` (sorted starts)."""
    grouped: dict[float, tuple[float, float]] = {}
    for b, m, v in rows:
        k = bisect.bisect_right(windows, b + 1e-6) - 1
        if k < 0:
            continue
        old = grouped.get(windows[k], (0.0, 0.0))
        grouped[windows[k]] = (max(old[0], m), max(old[1], v))
    return [(w, m, v) for w, (m, v) in sorted(grouped.items())]


def _cycle_starts(task: Task) -> dict[str, list[float]]:
    """Per signal, the start of every cycle of the programmes a schedule runs."""
    p = task.prepared
    out = {}
    for sid, items in program_timeline(task.schedule).items():
        starts = []
        ends = [t for t, _, _ in items[1:]] + [p.end_s]
        for (t, _, plan), end in zip(items, ends):
            w = max(t, p.begin_s)
            while w < end - 1e-6:
                starts.append(w)
                w += plan.cycle_s
        out[sid] = starts
    return out


def _approach_metrics(a, rows: list[tuple[float, float, float]]) -> ApproachMetrics:  # noqa: ANN001
    arr_m = np.asarray([m for _, m, _ in rows] or [0.0])
    arr_v = np.asarray([v for _, _, v in rows] or [0.0])
    storage_m = a.length_m + a.upstream_length_m
    # a jam covering nearly the whole storage (as _FULL_SHARE decides a turn bay is full) has reached its end
    spilled = int(np.count_nonzero(arr_m >= _FULL_SHARE * storage_m)) if rows and storage_m > 0 else 0
    return ApproachMetrics(a.id, a.label, a.signal_id, float(arr_m.mean()), float(np.percentile(arr_m, 95)),
                           float(arr_m.max()), float(arr_v.mean()), float(np.percentile(arr_v, 95)),
                           float(arr_v.max()), len(rows), storage_m, spilled)


def read_outputs(task: Task, work: Path, *, cycle_starts: dict[str, list[float]] | None = None) -> RunMetrics:
    """Figures of one finished run from its output files (``cycle_starts``: per signal, when its cycles began,
    for a run whose plans change as it goes; a schedule's are known in advance)."""
    p = task.prepared
    start = p.begin_s + p.warmup_s
    total_loss, n_veh, stops, arrived = 0.0, 0, 0, 0
    ped_wait, n_ped = 0.0, 0
    trips: list[tuple[float, float]] = []  # (intended departure, time loss incl. insertion wait)
    for _, el in ET.iterparse(work / "tripinfo.xml"):
        if el.tag == "tripinfo":
            depart = float(el.get("depart"))
            delay = float(el.get("departDelay", 0.0))
            if depart - delay >= start - 1e-6:
                loss = float(el.get("timeLoss")) + delay
                total_loss += loss
                n_veh += 1
                if task.bins:
                    trips.append((depart - delay, loss))
                stops += int(el.get("waitingCount", 0))
            arrival = float(el.get("arrival", -1))
            if arrival >= start:
                arrived += 1
            el.clear()
        elif el.tag == "personinfo":
            if float(el.get("depart")) >= start - 1e-6:
                ped_wait += float(el.get("waitingTime", 0.0))
                n_ped += 1
            el.clear()
    stats = ET.parse(work / "statistics.xml").getroot()
    vehicles = stats.find("vehicles")
    waiting = int(vehicles.get("waiting", 0)) if vehicles is not None else 0
    trip = stats.find("vehicleTripStatistics")
    wait_delay = float(trip.get("departDelayWaiting", 0.0)) if trip is not None else 0.0
    if wait_delay < 0 or math.isnan(wait_delay):
        wait_delay = 0.0
    teleports_el = stats.find("teleports")
    teleports = int(teleports_el.get("total", 0)) if teleports_el is not None else 0
    # vehicles never inserted count with the time they have waited: a plan
    # cannot look good by keeping cars out of the network
    total_loss += waiting * wait_delay
    n_all = n_veh + waiting
    jam_rows = _jam_rows(work / "queues.xml") if (work / "queues.xml").exists() else None
    fine = approach_windows(p, work / "queues.xml", rows=jam_rows) if jam_rows is not None else {}
    starts = cycle_starts if cycle_starts is not None else _cycle_starts(task) if task.schedule is not None else {}
    cycles = {a.id: _regroup(fine.get(a.id, []), starts[a.signal_id]) if a.signal_id in starts
              else fine.get(a.id, []) for a in p.approaches}
    approaches = tuple(_approach_metrics(a, cycles[a.id]) for a in p.approaches) if fine else ()
    periods = tuple(_bin_metrics(task, cycles, trips, waiting, wait_delay))
    profile = _queue_profile(p, fine) if task.schedule is not None or task.bins else ()  # a day's, for its report
    switches = read_switches(work / SWITCHES_FILE) if task.groups or task.crossings else {}
    movements = read_movements(task, work, switches, jam_rows or []) if task.groups else ()
    crossing_rows = tuple(crossing_measures(c, switches=switches.get(c.signal_id, []), begin_s=p.begin_s + p.warmup_s,
                                            end_s=p.end_s) for c in task.crossings)
    per_approach_mean = [a.mean_max_queue_m for a in approaches] or [0.0]
    per_approach_p95 = [a.p95_max_queue_m for a in approaches] or [0.0]
    return RunMetrics(
        seed=task.seed,
        delay_s=total_loss / n_all if n_all else 0.0,
        mean_max_queue_m=float(np.mean(per_approach_mean)),
        p95_max_queue_m=float(np.mean(per_approach_p95)),
        max_queue_m=float(max((a.max_queue_m for a in approaches), default=0.0)),
        not_inserted=waiting,
        throughput_veh=arrived,
        n_vehicles=n_all,
        stops_per_veh=stops / n_veh if n_veh else 0.0,
        ped_wait_s=ped_wait / n_ped if n_ped else 0.0,
        n_pedestrians=n_ped,
        teleports=teleports,
        approaches=approaches,
        periods=periods,
        queue_profile_m=profile,
        profile_step_s=PROFILE_STEP_S if profile else 0.0,
        profile_start_s=p.begin_s + p.warmup_s if profile else 0.0,
        movements=movements,
        crossings=crossing_rows,
    )


def read_movements(task: Task, work: Path, switches: dict[str, list[tuple[float, str]]],
                   jam_rows: list[tuple[float, str, float, float]]) -> tuple[MovementMetrics, ...]:
    """Measures of the task's lane groups from a detailed run's output files, its signal switches
    (:func:`~signalopt.movements.read_switches`) and its queue detectors' rows (:func:`_jam_rows`)."""
    p = task.prepared
    events = read_events(work / EVENTS_FILE)
    losses = read_lane_losses(work / LANES_FILE)
    start = p.begin_s + p.warmup_s
    jam: dict[str, dict[float, float]] = {}  # lane -> window begin -> max jam [m]
    for begin, det_id, _veh, metres in jam_rows:
        kind, _approach, lane = det_id.split("|", 2)
        if kind == "q" and begin >= start - 1e-6:
            jam.setdefault(lane, {})[begin] = metres
    out = []
    for g in task.groups:
        windows = sorted({b for lane in g.lanes for b in jam.get(lane, {})})
        backs = [max(jam.get(lane, {}).get(b, 0.0) for lane in g.lanes) for b in windows]
        m = group_measures(g, events=events, switches=switches.get(g.signal_id, []), losses=losses,
                           begin_s=start, end_s=p.end_s)
        out.append(replace(m, p95_queue_m=float(np.percentile(backs, 95)) if backs else 0.0,
                           storage_m=max(g.lane_lengths_m)))
    return tuple(out)


def _bin_metrics(task: Task, cycles: dict[str, list[tuple[float, float, float]]], trips: list[tuple[float, float]],
                 waiting: int, wait_delay: float) -> list[PeriodMetrics]:
    """Queue and delay per reporting bin (cycles by start time, vehicles by intended departure)."""
    out = []
    p = task.prepared
    for k, (name, b, e) in enumerate(task.bins):
        per_app = []
        for a in p.approaches:
            rows = [r for r in cycles.get(a.id, []) if b - 1e-6 <= r[0] < e - 1e-6]
            if rows:
                per_app.append(float(np.mean([m for _, m, _ in rows])))
        losses = [loss for t, loss in trips if b - 1e-6 <= t < e - 1e-6]
        total, n = float(sum(losses)), len(losses)
        if k == len(task.bins) - 1:  # vehicles still waiting at the end wanted to leave in the last period
            total += waiting * wait_delay
            n += waiting
        out.append(PeriodMetrics(name, b, e, float(np.mean(per_app)) if per_app else 0.0,
                                 total / n if n else 0.0, n))
    return out


def _queue_profile(p: Prepared, fine: dict[str, list[tuple[float, float, float]]]) -> tuple[float, ...]:
    """Mean over approaches of the maximum queue in each PROFILE_STEP_S, from the end of warm-up [m]."""
    start = p.begin_s + p.warmup_s
    n = int(math.ceil((p.end_s - start) / PROFILE_STEP_S))
    steps = [start + k * PROFILE_STEP_S for k in range(n)]
    per_app = [[m for _, m, _ in _regroup(rows, steps)] for rows in fine.values() if rows]
    if not per_app:
        return ()
    width = min(len(r) for r in per_app)
    return tuple(float(np.mean([r[k] for r in per_app])) for k in range(width))
