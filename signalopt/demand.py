"""Demand: 15-minute turning-movement and pedestrian counts, and SUMO routes from them.

Counts CSV (what engineers have)::

    interval,intersection,approach,movement,vehicles
    07:00,weidi,N,T,112

``interval`` is the start of the counting interval (``HH:MM`` or seconds of
the day), ``intersection`` a signal id, ``approach`` the leg the traffic
comes from (``N E S W``) or the incoming edge id, ``movement`` ``L T R U``.

Pedestrian CSV::

    interval,intersection,crossing,pedestrians
    07:00,pingshan,N,85

``crossing`` is the leg the crossing spans.  Vehicle routes come from SUMO's
``routeSampler`` (turn counts matched over candidate routes, written as
Poisson flows, so each simulation seed draws its own arrivals); pedestrians
are Poisson person flows across each crossing, half in each direction.
"""

from __future__ import annotations

import csv
import io
import math
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import _sumo
from ._xml import atomic_write_text, xml_escape
from .errors import InputError, SimulationError
from .network import Network, lane_edge

MOVEMENT_DIRS = {"T": frozenset("s"), "L": frozenset("lL"), "R": frozenset("rR"), "U": frozenset("t")}
_VEH_COLUMNS = ("interval", "intersection", "approach", "movement", "vehicles")
_PED_COLUMNS = ("interval", "intersection", "crossing", "pedestrians")


@dataclass(frozen=True)
class TurnCount:
    """Vehicles counted in one interval on one movement."""

    begin_s: float
    signal_id: str
    approach: str
    movement: str
    vehicles: float


@dataclass(frozen=True)
class PedCount:
    """Pedestrians counted in one interval on one crossing (both directions)."""

    begin_s: float
    signal_id: str
    crossing: str
    pedestrians: float


def parse_time_s(text: str) -> float:
    """``"07:15"``, ``"07:15:30"`` or seconds -> seconds of the day."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise ValueError(text)
        h, m, *s = (int(p) for p in parts)
        if m >= 60 or (s and s[0] >= 60):
            raise ValueError(text)
        return float(h * 3600 + m * 60 + (s[0] if s else 0))
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, "counts file is not UTF-8 text", f"byte {exc.start}") from None
    if not text.strip():
        raise InputError(path, "counts file is empty", f"{len(text)} bytes")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(path, "counts file lacks columns", ", ".join(missing))
    rows = [(n, {k.strip(): (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, start=2)]
    if not rows:
        raise InputError(path, "counts file has no rows", None)
    return rows


def _count(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, f"line {line}: {column} is not a number", repr(text)) from None
    if not math.isfinite(value) or value < 0:
        raise InputError(path, f"line {line}: {column} must be a non-negative count", text)
    return value


def _time(path: Path, line: int, text: str) -> float:
    try:
        return parse_time_s(text)
    except ValueError:
        raise InputError(path, f"line {line}: interval is not a time (HH:MM or seconds)", repr(text)) from None


def read_turn_counts(path: str | Path) -> list[TurnCount]:
    """Read a turning-movement counts CSV (see module docstring)."""
    path = Path(path)
    out = []
    for line, row in _read_rows(path, _VEH_COLUMNS):
        movement = row["movement"].upper()
        if movement not in MOVEMENT_DIRS:
            raise InputError(path, f"line {line}: movement must be one of L T R U", repr(row["movement"]))
        out.append(TurnCount(_time(path, line, row["interval"]), row["intersection"], row["approach"], movement,
                             _count(path, line, "vehicles", row["vehicles"])))
    return out


def read_ped_counts(path: str | Path) -> list[PedCount]:
    """Read a pedestrian counts CSV (see module docstring)."""
    path = Path(path)
    return [PedCount(_time(path, line, row["interval"]), row["intersection"], row["crossing"],
                     _count(path, line, "pedestrians", row["pedestrians"]))
            for line, row in _read_rows(path, _PED_COLUMNS)]


def movement_edges(network: Network, count: TurnCount, *, source: Path) -> tuple[str, str]:
    """(from edge, to edge) of a counted movement; an error when the network lacks it."""
    signal = network.signal(count.signal_id, source=source)
    approach = next((a for a in signal.approaches if count.approach in (a.leg, a.id)), None)
    if approach is None:
        raise InputError(source, f"approach not at intersection {count.signal_id}",
                         f"{count.approach}; has {', '.join(a.leg or a.id for a in signal.approaches)}")
    dirs = MOVEMENT_DIRS[count.movement]
    to_edges = sorted({lane_edge(lane) for link in signal.links
                       if link.approach == approach.id and link.direction in dirs for lane in link.to_lanes})
    if not to_edges:
        raise InputError(source, f"movement not in the network at {count.signal_id} approach {count.approach}",
                         count.movement)
    return approach.id, to_edges[0]


def check_counts(network: Network, counts: list[TurnCount], *, source: Path, begin_s: float, end_s: float,
                 interval_s: float) -> None:
    """Every count names a real movement and an interval inside the run."""
    for c in counts:
        movement_edges(network, c, source=source)
        if c.begin_s < begin_s - 1e-6 or c.begin_s + interval_s > end_s + 1e-6:
            raise InputError(source, f"count interval outside the scenario window "
                                     f"[{begin_s:g}, {end_s:g}) s at {c.signal_id}", c.begin_s)


def write_turn_file(network: Network, counts: list[TurnCount], path: Path, *, source: Path, interval_s: float) -> Path:
    """Write counts as SUMO ``edgeRelation`` data (routeSampler's ``--turn-files``)."""
    by_interval: dict[float, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    for c in counts:
        by_interval[c.begin_s][movement_edges(network, c, source=source)] += c.vehicles
    lines = ["<data>"]
    for begin in sorted(by_interval):
        lines.append(f'  <interval id="i{int(begin)}" begin="{begin:g}" end="{begin + interval_s:g}">')
        for (frm, to), n in sorted(by_interval[begin].items()):
            lines.append(f'    <edgeRelation from="{xml_escape(frm)}" to="{xml_escape(to)}" count="{n:g}"/>')
        lines.append("  </interval>")
    lines.append("</data>")
    return atomic_write_text(path, "\n".join(lines) + "\n")


def fringe_edges(net) -> tuple[list, list]:  # noqa: ANN001 - a sumolib net
    """Edges where car traffic enters and leaves a sumolib network.

    Found by connections, not by node neighbours: an approach split where a
    turn bay starts has a neighbour edge at its fringe node that is not its
    reverse, so it would not look like a fringe edge.
    """
    edges = [e for e in net.getEdges() if e.allows("passenger")]

    def none(conns_by_edge: dict) -> bool:  # no car connection other than a turnaround
        return not any(c.getDirection() != "t" for conns in conns_by_edge.values() for c in conns)

    return ([e for e in edges if none(e.getAllowedIncoming("passenger"))],
            [e for e in edges if none(e.getAllowedOutgoing("passenger"))])


def write_candidate_routes(network_path: Path, path: Path) -> Path:
    """All fringe-to-fringe shortest routes of the network (routeSampler's ``--route-files``)."""
    import sumolib

    net = sumolib.net.readNet(str(network_path))
    sources, sinks = fringe_edges(net)
    lines = ["<routes>"]
    n = 0
    for s in sources:
        for t in sinks:
            if t.getToNode() is s.getFromNode():
                continue  # no U-turn routes back out of the same leg
            route, _ = net.getShortestPath(s, t, vClass="passenger")
            if route:
                lines.append(f'  <route id="r{n}" edges="{" ".join(e.getID() for e in route)}"/>')
                n += 1
    if n == 0:
        raise InputError(network_path, "no route connects the network's entries to its exits", len(sources))
    lines.append("</routes>")
    return atomic_write_text(path, "\n".join(lines) + "\n")


def sample_routes(network_path: Path, turn_file: Path, candidates: Path, out: Path, *, seed: int,
                  begin_s: float, end_s: float, flows: bool = True) -> Path:
    """Run SUMO's ``routeSampler.py`` to match the turn counts.

    ``flows=True`` writes Poisson flows (each simulation seed draws its own
    arrivals); ``flows=False`` writes individual vehicles, which is what
    SUMO's ``tlsCycleAdaptation.py`` reads.
    """
    cmd = [_sumo.python(), str(_sumo.tool("routeSampler.py")), "-r", str(candidates), "-t", str(turn_file),
           "-o", str(out), "--seed", str(seed), "--prefix", "v",
           "-b", f"{begin_s:g}", "-e", f"{end_s:g}",
           "--attributes", 'departLane="best" departSpeed="max"']
    if flows:
        cmd += ["--write-flows", "poisson"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_sumo.tool_env(), timeout=600)
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SimulationError(f"routeSampler failed for {turn_file}: {tail[0]}")
    return out


def write_pedestrian_flows(network: Network, peds: list[PedCount], path: Path, *, source: Path,
                           interval_s: float) -> Path:
    """Poisson person flows across each counted crossing, half in each direction."""
    lines = ["<routes>"]
    for k, p in enumerate(sorted(peds, key=lambda p: (p.begin_s, p.signal_id, p.crossing))):
        signal = network.signal(p.signal_id, source=source)
        approach = next((a for a in signal.approaches if p.crossing in (a.leg, a.id)), None)
        crossing = None
        if approach is not None:
            crossing = next((l for l in signal.links if l.is_crossing and approach.id in l.crosses), None)
        if crossing is None:
            raise InputError(source, f"no signalised crossing at {p.signal_id} on leg", p.crossing)
        if p.pedestrians <= 0:
            continue
        in_edge = approach.id
        out_edge = next((e for e in crossing.crosses if e != in_edge), None)
        if out_edge is None:
            raise InputError(source, f"crossing at {p.signal_id} leg {p.crossing} spans one edge only", crossing.approach)
        rate = p.pedestrians / 2 / interval_s
        length = approach.length_m
        for d, (frm, to, dpos, apos) in enumerate(((in_edge, out_edge, max(length - 2, 0), 2.0),
                                                   (out_edge, in_edge, 2.0, max(length - 2, 0)))):
            lines.append(
                f'  <personFlow id="p{k}_{d}" begin="{p.begin_s:g}" end="{p.begin_s + interval_s:g}" '
                f'period="exp({rate:.6f})" departPos="{dpos:.1f}">\n'
                f'    <walk from="{xml_escape(frm)}" to="{xml_escape(to)}" arrivalPos="{apos:.1f}"/>\n'
                f'  </personFlow>')
    lines.append("</routes>")
    return atomic_write_text(path, "\n".join(lines) + "\n")
