"""One SUMO simulation in the calling process (libsumo), and the parsing of its outputs.

Called inside worker processes: libsumo holds one simulation per process,
so nothing here keeps state between calls.
"""

from __future__ import annotations

import math
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
from .metrics import ApproachMetrics, RunMetrics
from .plan import PlanSet
from .prepare import Prepared

#: Aggregation window for queues when no plan gives a cycle (adaptive control) [s].
DEFAULT_WINDOW_S = 90.0
#: A lane counts as full when its jam reaches this share of its length; only
#: then is the queue on the upstream piece of a split approach added.
_FULL_SHARE = 0.9


@dataclass(frozen=True)
class Task:
    """One evaluation: a plan set (or a controller) on a prepared scenario with one seed."""

    prepared: Prepared
    seed: int
    plans: PlanSet | None = None
    controller: str = "static"
    keep_dir: str | None = None


#: programID of the programmes a run loads; distinct from any id in the network,
#: and loaded last, so SUMO runs it.
RUN_PROGRAM_ID = "signalopt-eval"


def plans_additional(plans: PlanSet, *, program_id: str | None = None) -> str:
    """SUMO additional XML with one static ``tlLogic`` per plan (``program_id`` overrides the plans' ids)."""
    lines = ["<additional>"]
    for plan in plans:
        lines.append(f'  <tlLogic id="{xml_escape(plan.signal_id)}" type="static" '
                     f'programID="{xml_escape(program_id or plan.program_id)}" offset="{plan.offset_s:.3f}">')
        for dur, state in plan.sumo_phases():
            lines.append(f'    <phase duration="{dur:.3f}" state="{state}"/>')
        lines.append("  </tlLogic>")
    lines.append("</additional>")
    return "\n".join(lines) + "\n"


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


def sumo_command(task: Task, work: Path, *, sumo: str | None = None) -> list[str]:
    """The SUMO command line of a task (also used by the bare-run benchmark)."""
    p = task.prepared
    windows = {pl.signal_id: pl.cycle_s for pl in task.plans} if task.plans is not None else {}
    additional = list(p.additional_files)
    if task.plans is not None:
        (work / "plans.add.xml").write_text(plans_additional(task.plans, program_id=RUN_PROGRAM_ID), encoding="utf-8")
        additional.append(str(work / "plans.add.xml"))
    (work / "detectors.add.xml").write_text(_detectors_additional(p, windows, "queues.xml"), encoding="utf-8")
    additional.append(str(work / "detectors.add.xml"))
    return [
        sumo or str(_sumo.binary("sumo")), "-n", p.network_path, "-r", ",".join(p.route_files),
        "-a", ",".join(additional), "--begin", f"{p.begin_s:g}", "--end", f"{p.end_s:g}",
        "--seed", str(task.seed), "--no-step-log", "--no-warnings", "--duration-log.disable",
        "--tripinfo-output", str(work / "tripinfo.xml"), "--tripinfo-output.write-unfinished",
        "--statistic-output", str(work / "statistics.xml"), "--xml-validation", "never",
    ]


def run_task(task: Task) -> RunMetrics:
    """Simulate one task with libsumo and return its figures."""
    if task.controller != "static":
        raise SimulationError(f"controller {task.controller!r} is not available in this version")
    import libsumo

    work = Path(task.keep_dir) if task.keep_dir else Path(tempfile.mkdtemp(prefix="signalopt-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        cmd = sumo_command(task, work)
        try:
            libsumo.start(cmd)
            libsumo.simulationStep(task.prepared.end_s)
        except Exception as exc:  # libsumo raises its own exception types
            raise SimulationError(f"SUMO failed on seed {task.seed}: {exc}") from None
        finally:
            try:
                libsumo.close()
            except Exception:
                pass
        metrics = read_outputs(task, work)
        return replace(metrics, sim_time_s=time.perf_counter() - t0)
    finally:
        if not task.keep_dir:
            shutil.rmtree(work, ignore_errors=True)


def _queues(prepared: Prepared, path: Path) -> tuple[ApproachMetrics, ...]:
    start = prepared.begin_s + prepared.warmup_s
    jam: dict[tuple[str, str, float], tuple[float, float]] = {}
    for _, el in ET.iterparse(path):
        if el.tag != "interval":
            continue
        begin = float(el.get("begin"))
        if begin >= start - 1e-6:
            kind, approach, _lane = el.get("id").split("|", 2)
            key = (kind, approach, begin)
            m, v = float(el.get("maxJamLengthInMeters")), float(el.get("maxJamLengthInVehicles"))
            old = jam.get(key, (0.0, 0.0))
            jam[key] = (max(old[0], m), max(old[1], v))
        el.clear()
    out = []
    for a in prepared.approaches:
        windows = sorted({b for (k, ap, b) in jam if k == "q" and ap == a.id})
        q_m, q_v = [], []
        for b in windows:
            m, v = jam[("q", a.id, b)]
            if a.upstream_lanes and m >= _FULL_SHARE * a.length_m:
                um, uv = jam.get(("u", a.id, b), (0.0, 0.0))
                m, v = m + um, v + uv
            q_m.append(m)
            q_v.append(v)
        arr_m = np.asarray(q_m or [0.0])
        arr_v = np.asarray(q_v or [0.0])
        out.append(ApproachMetrics(a.id, a.label, a.signal_id, float(arr_m.mean()), float(np.percentile(arr_m, 95)),
                                   float(arr_m.max()), float(arr_v.mean()), float(np.percentile(arr_v, 95)),
                                   float(arr_v.max()), len(q_m)))
    return tuple(out)


def read_outputs(task: Task, work: Path) -> RunMetrics:
    """Figures of one finished run from its output files."""
    p = task.prepared
    start = p.begin_s + p.warmup_s
    total_loss, n_veh, stops, arrived = 0.0, 0, 0, 0
    ped_wait, n_ped = 0.0, 0
    for _, el in ET.iterparse(work / "tripinfo.xml"):
        if el.tag == "tripinfo":
            depart = float(el.get("depart"))
            delay = float(el.get("departDelay", 0.0))
            if depart - delay >= start - 1e-6:
                total_loss += float(el.get("timeLoss")) + delay
                n_veh += 1
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
    approaches = _queues(p, work / "queues.xml") if (work / "queues.xml").exists() else ()
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
    )
