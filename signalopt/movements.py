"""Lane groups (movements) of the signals, the detectors that measure them, and their measures per run.

HCM reports signal performance per lane group: the lanes of an approach that serve the same movements
(an exclusive left-turn lane, the through lanes, a shared through-right lane).  For every lane group a
detailed run places FHWA-style detection ([1]_ of :mod:`signalopt.atspm`): an advance detector
:data:`ADVANCE_M` upstream of the stop bar and a stop-bar presence zone :data:`ZONE_M` long, both from
SUMO's instantaneous induction loops, and records the signal states at every switch.  The control delay
comes from SUMO's lane measures (time lost on the group's lanes).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import atspm
from ._xml import xml_escape
from .errors import SimulationError
from .metrics import CrossingMetrics, MovementMetrics
from .network import Network

#: Distance of the advance detector upstream of the stop bar (400 ft, FHWA's usual placement) [m].
ADVANCE_M = 122.0
#: Length of the stop-bar presence zone (40 ft) [m].
ZONE_M = 12.2
#: HCM movement letters in the order a lane group's name lists them.
MOVEMENT_ORDER = "ULTR"
#: Output files of a detailed run, in the run's work folder.
EVENTS_FILE = "events.xml"
SWITCHES_FILE = "switches.xml"
LANES_FILE = "lanes.xml"


@dataclass(frozen=True)
class LaneGroup:
    """The lanes of one approach that serve the same movements.

    ``movement`` is HCM's notation (``L``, ``T``, ``R``, ``U``, or a shared lane's ``LT``, ``TR``, ...);
    ``links`` are the group's link indices in the signal state; ``sat_flow_veh_h`` the group's saturation
    flow, the sum over its lanes [veh/h of green].
    """

    id: str
    signal_id: str
    approach: str
    label: str
    movement: str
    lanes: tuple[str, ...]
    links: tuple[int, ...]
    lane_lengths_m: tuple[float, ...]
    speed_m_s: float
    sat_flow_veh_h: float

    def __post_init__(self) -> None:
        if not self.lanes or len(self.lane_lengths_m) != len(self.lanes):
            raise SimulationError(f"lane group {self.id}: one length per lane needed "
                                  f"({self.lanes!r}, {self.lane_lengths_m!r})")
        if not self.links or any(i < 0 for i in self.links):
            raise SimulationError(f"lane group {self.id}: link indices must be given and not negative "
                                  f"({self.links!r})")

    def advance_pos_m(self, k: int) -> float:
        """Position of lane ``k``'s advance detector from the lane's start [m]."""
        return max(0.5, self.lane_lengths_m[k] - ADVANCE_M)


@dataclass(frozen=True)
class Crossing:
    """A signalised pedestrian crossing: its crossing edge, signal, label (the leg it crosses) and link indices."""

    id: str
    signal_id: str
    label: str
    links: tuple[int, ...]
    length_m: float


def crossings(network: Network, signal_ids: Sequence[str]) -> tuple[Crossing, ...]:
    """Every signalised crossing of the given signals, labelled by the leg it crosses."""
    out = []
    for sid in signal_ids:
        signal = network.signal(sid)
        legs = {e: a.leg or a.id for a in signal.approaches for e in a.edges}
        by_edge: dict[str, list] = {}
        for link in signal.links:
            if link.is_crossing:
                by_edge.setdefault(link.approach, []).append(link)
        for edge, links in by_edge.items():
            leg = next((legs[e] for e in links[0].crosses if e in legs), edge)
            out.append(Crossing(edge, sid, f"{sid}:{leg} crossing", tuple(sorted(l.index for l in links)),
                                max(l.length_m for l in links)))
    return tuple(out)


def crossing_measures(c: Crossing, *, switches: list[tuple[float, str]], begin_s: float,
                      end_s: float) -> CrossingMetrics:
    """A crossing's walk share and its pedestrians' mean wait for the walk signal, from the signal as it ran."""
    intervals = atspm.clip(atspm.indication_intervals(switches, c.links, end_s=end_s), begin_s, end_s)
    return CrossingMetrics(c.id, c.label, c.signal_id, atspm.green_share(intervals),
                           atspm.random_arrival_wait_s(intervals))


def detail_additional(groups: Sequence[LaneGroup], *, begin_s: float, end_s: float) -> str:
    """SUMO additional file of a detailed run: per lane, an advance detector (``a``) and the two ends of the
    stop-bar presence zone (``z`` where it starts, ``s`` at the stop bar); the lanes' measures from
    ``begin_s``; the signal states at every switch."""
    lines = ["<additional>"]
    for g in groups:
        for k, lane in enumerate(g.lanes):
            length = g.lane_lengths_m[k]
            for kind, pos in (("a", g.advance_pos_m(k)), ("z", max(0.2, length - ZONE_M)),
                              ("s", max(0.3, length - 0.1))):
                lines.append(f'  <instantInductionLoop id="{kind}|{xml_escape(g.id)}|{xml_escape(lane)}" '
                             f'lane="{xml_escape(lane)}" pos="{pos:.2f}" file="{EVENTS_FILE}"/>')
    edges = sorted({g.approach for g in groups})
    if edges:
        lines.append(f'  <laneData id="movements" file="{LANES_FILE}" begin="{begin_s:g}" end="{end_s:g}" '
                     f'edges="{xml_escape(" ".join(edges))}"/>')
    lines.append(f'  <timedEvent type="SaveTLSSwitchStates" dest="{SWITCHES_FILE}"/>')
    lines.append("</additional>")
    return "\n".join(lines) + "\n"


_EVENT_RE = re.compile(rb'<instantOut id="([^"]*)" time="([^"]*)" state="(enter|leave)" vehID="([^"]*)"')


def read_events(path: Path) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """Per detector id: (vehicle -> first enter time, vehicle -> last leave time) [s]."""
    data = path.read_bytes()
    out: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for det, t, state, veh in _EVENT_RE.findall(data):
        enters, leaves = out.setdefault(html.unescape(det.decode()), ({}, {}))
        v = html.unescape(veh.decode())
        if state == b"enter":
            enters.setdefault(v, float(t))
        else:
            leaves[v] = float(t)
    return out


def read_switches(path: Path) -> dict[str, list[tuple[float, str]]]:
    """Per signal: (time [s], state) at every switch of the programme that runs."""
    out: dict[str, list[tuple[float, str]]] = {}
    for _, el in ET.iterparse(path):
        if el.tag == "tlsState":
            out.setdefault(el.get("id"), []).append((float(el.get("time")), el.get("state")))
        el.clear()
    return out


def read_lane_losses(path: Path) -> dict[str, tuple[float, int]]:
    """Per lane: (time lost on it [veh·s], vehicles that left it) over the measured interval."""
    out: dict[str, tuple[float, int]] = {}
    for _, el in ET.iterparse(path):
        if el.tag == "lane":
            # laneData's timeLoss is the sum over the vehicles on the lane; left counts those that drove off
            # its end (lane changes are counted apart)
            loss = float(el.get("timeLoss", 0.0))
            left = int(float(el.get("left", 0)))
            old = out.get(el.get("id"), (0.0, 0))
            out[el.get("id")] = (old[0] + loss, old[1] + left)
        el.clear()
    return out


def group_arrivals_s(g: LaneGroup, events: dict) -> list[float]:
    """Arrivals at the stop bar of a lane group: each vehicle passing an advance detector, projected at the
    speed limit to the stop bar (as the ATSPM software projects them) [s]."""
    out = []
    for k, lane in enumerate(g.lanes):
        travel = (g.lane_lengths_m[k] - g.advance_pos_m(k)) / g.speed_m_s if g.speed_m_s > 0 else 0.0
        out += [t + travel for t in events.get(f"a|{g.id}|{lane}", ({}, {}))[0].values()]
    return out


def group_measures(g: LaneGroup, *, events: dict, switches: list[tuple[float, str]], losses: dict,
                   begin_s: float, end_s: float) -> MovementMetrics:
    """Measures of one lane group in one run, after warm-up (``begin_s``) until ``end_s``."""
    intervals = atspm.clip(atspm.indication_intervals(switches, g.links, end_s=end_s), begin_s, end_s)
    hours = (end_s - begin_s) / 3600.0
    arrivals = [t for t in group_arrivals_s(g, events) if begin_s <= t < end_s]
    spans = []
    passed = 0
    for lane in g.lanes:
        enter_z, leave_z = events.get(f"z|{g.id}|{lane}", ({}, {}))
        leave_s = events.get(f"s|{g.id}|{lane}", ({}, {}))[1]
        spans.append(atspm.presence_spans(enter_z, leave_s, end_s=end_s, fallback_leave_s=leave_z))
        passed += sum(1 for t in leave_s.values() if begin_s <= t < end_s)
    on_green, n_arr = atspm.arrivals_on_green(arrivals, intervals)
    cycles = atspm.cycle_occupancies(intervals, spans)
    g_c = atspm.green_share(intervals)
    loss = sum(losses.get(lane, (0.0, 0))[0] for lane in g.lanes)
    left = sum(losses.get(lane, (0.0, 0))[1] for lane in g.lanes)
    volume = passed / hours if hours > 0 else 0.0
    capacity = g.sat_flow_veh_h * g_c
    return MovementMetrics(
        group=g.id, label=g.label, signal_id=g.signal_id, movement=g.movement,
        volume_veh_h=volume, capacity_veh_h=capacity,
        control_delay_s=loss / left if left else 0.0,
        arrivals_on_green=on_green / n_arr if n_arr else None,
        green_share=g_c, n_cycles=len(cycles),
        split_failures=sum(c.split_failure for c in cycles))
