"""Synchro UTDF in: ``signalopt import utdf`` puts a UTDF file's timing and volumes onto a SUMO network.

Engineers keep the timing on the street and their counts in Synchro; its UTDF combined CSV
(:func:`signalopt.formats.utdf.read_utdf`) carries both. This module maps the file onto a network's signals and
writes what signalopt reads, ``NAME`` being the UTDF file's name without ``.csv``:

``NAME_plans.json``
    the existing plans (a signalopt plan file, one plan per UTDF node whose timing maps);
``NAME_vehicles.csv``
    the counts (``interval,intersection,approach,movement,vehicles``), or, without ``[Volumes]``, an empty
    template of every movement for the engineer to fill in;
``NAME.toml``
    a scenario naming the network, the counts and the plan file as the existing timing;
``utdf_import_report.txt``, ``utdf_import_report.json``
    what was read, matched, guessed and dropped, one line per item.

Decisions, each said in the report where it applies:

**Nodes to signals.**  A ``--map`` file (``INTID,signal``) decides alone. Without one, each signalised node
(``[Nodes]`` ``TYPE`` 0, or with a ``[Timeplans]`` record) is matched, in this order, by its ``DESCRIPTION``
being a signal id; by its street names (``[Links]`` ``Name`` of its approaches, and a ``DESCRIPTION`` such as
``Weidi Rd & Qixiangtai Rd``), two or more of which must all be among the names of one signal's streets (SUMO
edge ``name``; ``signalopt import osm`` keeps them), compared without case, punctuation and the usual
abbreviations (``Road``/``Rd``...); else by coordinates. Synchro's coordinates are its own (feet unless
``Metric`` is 1) and only a shift is assumed between them and the network's (both have north up): the median
shift of the nodes matched so far, or, with none, the shift that puts most nodes within
:data:`MATCH_RADIUS_M` of a signal each (at least two). A node then matches the one signal within
:data:`MATCH_RADIUS_M`; with none it is not in the network (dropped); two signals within reach, two nodes on one
signal, or no way to align the coordinates are refused in one line that asks for ``--map``.

**Directions.**  UTDF names movements by travel direction (``NBL``: northbound left, traffic arriving from the
south leg). Each direction of a node (``NB SB EB WB NE NW SE SW``) goes to the signal's approach whose stop-line
heading is nearest, one to one, within :data:`MAX_TURN_DEG`; SUMO's links then give the movement: ``l L`` left,
``s`` through, ``r R`` right, ``t`` (a U-turn) the left lane group unless the file has a ``U`` column.

**Timing.**  Lane groups without phases of their own run with the lane group they share (Synchro's rule: a
right or left with no lanes goes with the through, a through with none with the left); a ``-1`` (uncontrolled)
movement is green in every stage. Actuated plans (``Control Type`` 1-3) run as pretimed, every phase for its
``MaxGreen``. Synchro's ``Start`` is on the system clock (it writes ``LocalStart`` beside it), so the plan's
offset is the ``Start`` of its first phase; signalopt's own files (no ``LocalStart``) keep ``Offset`` to the
Reference Phase. A phase is a pedestrian phase when it has a ``Walk`` and a ``DontWalk`` and, where the file
has ``PedCalls``, a value there; its walk rests until ``DontWalk`` ends the green (rest in walk). Stages follow
:func:`signalopt.formats.utdf.rebuild_plans`, crossings its lenient rule (each walks with a phase in whose stages
every conflicting green is a turn that yields to it; a walk no crossing is left for is dropped; phases walking
together clear for the longest ``DontWalk``). A node whose timing does not map (no
``[Lanes]`` phases, an approach no direction reaches, staggered phase ends, a walk over two stages...) keeps the
network's programme, and the report says why.

**Volumes.**  ``[Volumes]`` (``DATE,TIME,INTID,NBL,...``) titled ``15 Minute Counts`` is one series: every
time is a quarter hour of the counts file (consecutive, one date; ``--time`` is refused). Otherwise the rows are
hourly volumes (Synchro's unit; a title other than ``60 Minute Counts`` is said to be read so): ``--time
HH:MM`` picks the set (needed when there are several), and its hour becomes four quarter hours of a quarter of
the volume each (whole vehicles, the remainder in the first quarters; the peak hour factor is not applied). The
scenario's window is the counted time, its first quarter hour the warm-up, as in the bundled scenarios. Volumes
of unsignalised or unmatched nodes, and of movements the signal lacks, are dropped one line each; the
``[Lanes]`` ``Volume`` records (hourly, without a time) are not read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .. import __version__
from .._clock import clock_text, parse_time_s
from .._xml import atomic_write_text, check_file
from ..demand import MOVEMENT_DIRS, TurnCount
from ..errors import InputError
from ..formats.planfile import write_plans
from ..formats.utdf import UtdfFile, UtdfIntersection, UtdfLaneGroup, UtdfPhase, UtdfVolumeRow, intersection_plan, \
    read_utdf
from ..network import Network, Signal, read_network, sumolib_net
from ..options import TimingOptions
from ..plan import PlanSet, TimingPlan
from ..provenance import utc_timestamp

#: A foot [m]: Synchro's unit unless ``[Network]`` ``Metric`` is 1.
FOOT_M = 0.3048
#: How far a node may lie from its signal once the two coordinate systems are aligned [m]: a junction's size,
#: and how well a Synchro drawing usually follows the map.
MATCH_RADIUS_M = 30.0
#: How far an approach's heading may be from the UTDF direction it takes [deg]: Synchro names a leg by the
#: nearest of eight directions, so a leg 60 degrees off is another leg.
MAX_TURN_DEG = 60.0
#: The counts file's interval and the scenario's warm-up [s]: a quarter hour, as in every bundled scenario.
INTERVAL_S = 900.0
WARMUP_S = 900.0
#: The hour a counts template covers when the file has no volumes and no ``--time`` is given [s of the day].
TEMPLATE_BEGIN_S = 7 * 3600.0
#: Travel direction of each UTDF direction [deg, 0 = north, clockwise].
BOUND_HEADING_DEG = {"NB": 0.0, "NE": 45.0, "EB": 90.0, "SE": 135.0, "SB": 180.0, "SW": 225.0, "WB": 270.0,
                     "NW": 315.0}
#: Synchro's ``Control Type`` codes.
CONTROL_TYPES = {0: "pretimed", 1: "actuated-uncoordinated", 2: "semi-actuated-uncoordinated",
                 3: "actuated-coordinated"}
#: Synchro's ``[Nodes]`` ``TYPE`` codes other than 0 (a signal).
NODE_TYPES = {1: "external", 2: "bend", 3: "unsignalised", 4: "roundabout"}
#: UTDF movement letter of a SUMO link direction; a U-turn uses the left lane group unless the file has ``U``.
_LETTER = {"l": "L", "L": "L", "t": "U", "s": "T", "r": "R", "R": "R"}
#: Lane groups a movement with no phases of its own shares (Synchro: no lanes of its own, in the neighbour's).
_SHARED = {"L": ("T", "R"), "T": ("L", "R"), "R": ("T", "L"), "U": ("L", "T")}
_COLUMN = re.compile(r"(NB|SB|EB|WB|NE|NW|SE|SW)(L|T|R|U|L2|R2)")
_ABBREVIATIONS = {"road": "rd", "street": "st", "avenue": "ave", "boulevard": "blvd", "drive": "dr", "lane": "ln",
                  "highway": "hwy", "place": "pl", "court": "ct", "parkway": "pkwy", "north": "n", "south": "s",
                  "east": "e", "west": "w"}
_NAME_SEPARATORS = re.compile(r"\s*(?:&|/|@|,|\band\b|\bat\b)\s*", flags=re.I)
_TOL_S = 1e-3


def parse_time(text: str) -> float:
    """``--time HH:MM`` [s of the day].

    Raises
    ------
    InputError
        Not a clock time of the day.
    """
    try:
        if ":" not in text:
            raise ValueError(text)
        value = parse_time_s(text)
    except ValueError:
        raise InputError("--time", "must be a clock time HH:MM", text) from None
    if value >= 86400:
        raise InputError("--time", "must be a time of the day (before 24:00)", text)
    return value


@dataclass(frozen=True)
class NodeMatch:
    """A UTDF node and the signal it stands for: ``how`` says what matched them, ``directions`` gives each UTDF
    direction (``NB``...) the signal's approach edge it takes."""

    intid: int
    signal_id: str
    how: str
    directions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Approach:
    """A signal's approach as the importer sees it: counts label, stop-line heading [deg], movements."""

    edge: str
    label: str
    heading_deg: float
    movements: frozenset[str]


@dataclass(frozen=True)
class UtdfImport:
    """What a UTDF file gives a network (nothing written yet): plans, counts and the report's lines.

    ``counted`` is ``False`` when the file has no volumes: ``counts`` is then a template whose vehicles are
    ``nan`` (written blank).
    """

    source: Path
    source_sha256: str
    network: Network
    matches: tuple[NodeMatch, ...]
    plans: PlanSet
    counts: tuple[TurnCount, ...]
    counted: bool
    window_s: tuple[float, float]
    read: tuple[str, ...]
    guessed: tuple[str, ...]
    dropped: tuple[str, ...]


@dataclass
class _Log:
    """The report's lines, collected while importing."""

    read: list[str] = field(default_factory=list)
    guessed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


# Nodes to signals ------------------------------------------------------------------
def street_key(name: str) -> str:
    """A street name compared without case, punctuation and the usual abbreviations (``Weidi Road`` = ``weidi rd``)."""
    return " ".join(_ABBREVIATIONS.get(w, w) for w in re.findall(r"[0-9a-z]+", name.casefold()))


def _node_streets(utdf: UtdfFile, intid: int) -> list[str]:
    """The street names a node gives: its approaches' ``[Links]`` names, and a ``DESCRIPTION`` that joins names."""
    names = [n for n in utdf.links.get(intid, {}).values() if n]
    description = next((n.description for n in utdf.nodes if n.intid == intid), "")
    if _NAME_SEPARATORS.search(description):
        names += [part for part in _NAME_SEPARATORS.split(description) if part]
    return list(dict.fromkeys(names))


def _signal_streets(signal: Signal, net) -> frozenset[str]:  # noqa: ANN001 - a sumolib net
    """The keys of the street names of a signal's incoming and outgoing edges."""
    edges = {link.approach for link in signal.links if not link.is_crossing and link.approach}
    edges |= {lane.rsplit("_", 1)[0] for link in signal.links if not link.is_crossing for lane in link.to_lanes}
    return frozenset(k for e in edges if net.hasEdge(e) and (k := street_key(net.getEdge(e).getName() or "")))


def read_map(path: str | Path, network: Network, intids: Iterable[int]) -> dict[int, str]:
    """A map file: ``INTID,signal`` rows (a header row and ``#`` lines are skipped).

    Parameters
    ----------
    path
        The map file.
    network
        The network whose signals it names.
    intids
        The UTDF file's node numbers.

    Raises
    ------
    InputError
        A row that is not two cells, an INTID that is not a whole number or not in ``intids``, a signal the
        network does not have, or an INTID or signal named twice (naming the line).
    """
    known = set(intids)
    path = check_file(Path(path), "map file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, "map file is not UTF-8 text", f"byte {exc.start}") from None
    out: dict[int, str] = {}
    lines: dict[object, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        cells = [c.strip() for c in next(csv.reader([line]), [])]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not out and not lines and not cells[0].lstrip("-").isdigit():
            lines["header"] = number
            continue
        if len(cells) != 2 or not cells[0].isdigit():
            raise InputError(path, f"line {number}: a map row is INTID,signal (a UTDF node number and a SUMO "
                                   f"tlLogic id)", line)
        intid, sid = int(cells[0]), cells[1]
        if intid not in known:
            raise InputError(path, f"line {number}: INTID is not a node of the UTDF file", intid)
        if sid not in network.signal_ids:
            raise InputError(path, f"line {number}: signal not in {network.path.name}", sid)
        for key in (intid, sid):
            if key in lines:
                raise InputError(path, f"line {number}: repeats line {lines[key]}", line)
            lines[key] = number
        out[intid] = sid
    return out


def _signalised(utdf: UtdfFile) -> list[int]:
    """Nodes that need a signal: Synchro's TYPE 0, or any node with a timing plan."""
    return sorted({i.intid for i in utdf.intersections} | {n.intid for n in utdf.nodes if n.type == 0})


def _positions_m(utdf: UtdfFile, log: _Log) -> dict[int, np.ndarray]:
    """Node coordinates in metres."""
    if utdf.metric is None and utdf.nodes:
        log.guessed.append("[Network] has no Metric record: node coordinates read in feet (Synchro's default)")
    scale = 1.0 if utdf.metric else FOOT_M
    return {n.intid: np.array([n.x, n.y]) * scale for n in utdf.nodes}


def _best_shift(nodes: Mapping[int, np.ndarray], signals: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The shift (network minus UTDF) that puts most nodes within reach of one signal each (at least two, and no
    other shift as good elsewhere), refined to the median of its pairs; ``None`` without one."""
    if len(nodes) < 2 or len(signals) < 2:
        return None
    u = np.array(list(nodes.values()))
    s = np.array(list(signals.values()))
    best: list[tuple[int, np.ndarray]] = []
    for shift in (s[:, None, :] - u[None, :, :]).reshape(-1, 2):
        near = np.linalg.norm(u[:, None, :] + shift - s[None, :, :], axis=2) <= MATCH_RADIUS_M
        count = int(np.sum(near.sum(axis=1) == 1))
        if best and count < best[0][0]:
            continue
        best = ([] if best and count > best[0][0] else best) + [(count, shift)]
    count, shift = best[0]
    if count < 2 or any(np.linalg.norm(other - shift) > MATCH_RADIUS_M for _, other in best):
        return None
    pairs = np.linalg.norm(u[:, None, :] + shift - s[None, :, :], axis=2).argmin(axis=1)
    return np.median(s[pairs] - u, axis=0)


def _shift(anchors: Sequence[tuple[np.ndarray, np.ndarray]], pending: Mapping[int, np.ndarray],
           signals: Mapping[str, np.ndarray], log: _Log) -> tuple[np.ndarray | None, str]:
    """How UTDF coordinates map to the network's, and how that was found (or why not)."""
    if anchors:
        shifts = np.array([s - u for u, s in anchors])
        shift = np.median(shifts, axis=0)
        spread = float(np.max(np.linalg.norm(shifts - shift, axis=1)))
        if spread > MATCH_RADIUS_M:
            return None, (f"the nodes matched by name need shifts {spread:.0f} m apart: the drawings differ by more "
                          f"than a shift")
        how = f"aligned on {len(anchors)} node{'s' if len(anchors) > 1 else ''} matched by name"
    else:
        shift = _best_shift(pending, signals)
        if shift is None:
            return None, "no node matched by name, and no shift puts two nodes on two signals"
        how = "aligned by the shift that puts most nodes on signals"
    log.read.append(f"coordinates: UTDF + ({shift[0]:.1f}, {shift[1]:.1f}) m = network ({how})")
    return shift, how


def match_nodes(utdf: UtdfFile, network: Network, *, source: Path, mapping: Mapping[int, str] | None,
                log: _Log) -> list[NodeMatch]:
    """Each signalised UTDF node's signal (see the module docstring); the unmatched ones are logged as dropped.

    Raises
    ------
    InputError
        A node two signals could be, two nodes on one signal, or a node neither names nor coordinates place:
        one line asking for ``--map``.
    """
    wanted = _signalised(utdf)
    if mapping is not None:
        log.dropped += [f"INTID {n}: not in the map file: its timing and volumes are not imported"
                        for n in wanted if n not in mapping]
        return [NodeMatch(n, sid, "map file") for n, sid in sorted(mapping.items())]
    net = sumolib_net(network.path)
    streets = {s.id: _signal_streets(s, net) for s in network.signals}
    found: dict[int, NodeMatch] = {}
    pending: dict[int, list[str]] = {}
    for intid in wanted:
        description = next((n.description for n in utdf.nodes if n.intid == intid), "")
        names = _node_streets(utdf, intid)
        keys = {street_key(n) for n in names}
        candidates = [s for s in network.signal_ids if len(keys) >= 2 and keys <= streets[s]]
        if description in network.signal_ids:
            found[intid] = NodeMatch(intid, description, f"DESCRIPTION {description!r} is its id")
        elif len(candidates) == 1:
            found[intid] = NodeMatch(intid, candidates[0], f"street names {' / '.join(names)}")
        else:
            pending[intid] = candidates
    _claimed_once(found.values(), source)  # before a wrong match misaligns the coordinates
    if pending:
        _match_by_coordinates(utdf, network, pending, found, source, log)
    return [found[n] for n in sorted(found)]


def _claimed_once(matches: Iterable[NodeMatch], source: Path) -> None:
    """Refuse two nodes matched to one signal."""
    claimed: dict[str, NodeMatch] = {}
    for m in matches:
        if m.signal_id in claimed:
            raise InputError(source, f"INTID {claimed[m.signal_id].intid} and INTID {m.intid} both match signal "
                                     f"{m.signal_id} ({claimed[m.signal_id].how}; {m.how}): pass --map MAP.csv "
                                     f"(INTID,signal)", m.signal_id)
        claimed[m.signal_id] = m


def _match_by_coordinates(utdf: UtdfFile, network: Network, pending: Mapping[int, list[str]],
                          found: dict[int, NodeMatch], source: Path, log: _Log) -> None:
    positions = _positions_m(utdf, log)
    signals = {s.id: np.array(s.position) for s in network.signals}
    anchors = [(positions[m.intid], signals[m.signal_id]) for m in found.values() if m.intid in positions]
    free = {sid: p for sid, p in signals.items() if sid not in {m.signal_id for m in found.values()}}
    shift, how = _shift(anchors, {n: positions[n] for n in pending if n in positions}, free, log)
    for intid, candidates in pending.items():
        label = f"INTID {intid}" + (f" ({' / '.join(_node_streets(utdf, intid))})" if _node_streets(utdf, intid)
                                    else "")
        if len(candidates) > 1 and shift is None:
            raise InputError(source, f"{label} matches signals {', '.join(candidates)} by street names, and "
                                     f"coordinates cannot tell them apart ({how}): pass --map MAP.csv (INTID,signal)",
                             intid)
        if shift is None or intid not in positions:
            why = how if intid in positions else "it has no [Nodes] coordinates"
            raise InputError(source, f"{label}: no DESCRIPTION or street names match a signal, and coordinates "
                                     f"cannot place it ({why}): pass --map MAP.csv (INTID,signal)", intid)
        at = positions[intid] + shift
        pool = {sid: p for sid, p in free.items() if not candidates or sid in candidates}
        near = sorted((float(np.linalg.norm(p - at)), sid) for sid, p in pool.items())
        within = [(d, sid) for d, sid in near if d <= MATCH_RADIUS_M]
        d, sid = min((float(np.linalg.norm(p - at)), sid) for sid, p in signals.items())
        if len(within) > 1:
            raise InputError(source, f"{label}: signals {within[0][1]} and {within[1][1]} are both within "
                                     f"{MATCH_RADIUS_M:g} m of its position: pass --map MAP.csv (INTID,signal)",
                             f"{within[0][0]:.0f} m, {within[1][0]:.0f} m")
        if not within:
            log.dropped.append(f"{label}: no unmatched signal within {MATCH_RADIUS_M:g} m of its position (nearest "
                               f"signal: {sid} at {d:.0f} m): not in the network; its timing and volumes are not "
                               f"imported")
            continue
        d, sid = within[0]
        found[intid] = NodeMatch(intid, sid, f"coordinates, {d:.0f} m from the signal ({how})")
        free.pop(sid)


# Directions and lane groups ----------------------------------------------------------
def _approaches(signal: Signal, net) -> dict[str, _Approach]:  # noqa: ANN001 - a sumolib net
    """The signal's vehicle approaches by edge, with their stop-line headings and movements."""
    out = {}
    for a in signal.approaches:
        (x0, y0), (x1, y1) = (p[:2] for p in net.getEdge(a.id).getShape()[-2:])
        moves = frozenset(m for link in signal.links if link.approach == a.id and not link.is_crossing
                          for m, dirs in MOVEMENT_DIRS.items() if link.direction in dirs)
        out[a.id] = _Approach(a.id, a.leg or a.id, math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360, moves)
    return out


def _turn(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def _directions(bounds: Iterable[str], approaches: Mapping[str, _Approach]) -> dict[str, str]:
    """UTDF direction -> approach edge: one to one, nearest headings, within :data:`MAX_TURN_DEG`."""
    bounds, edges = sorted(bounds), list(approaches)
    if not bounds or not edges:
        return {}
    cost = np.array([[_turn(BOUND_HEADING_DEG[b], approaches[e].heading_deg) for e in edges] for b in bounds])
    rows, cols = linear_sum_assignment(cost)
    return {bounds[i]: edges[j] for i, j in zip(rows, cols) if cost[i, j] <= MAX_TURN_DEG}


def _bounds(utdf: UtdfFile, rec: UtdfIntersection | None, intid: int) -> set[str]:
    """The directions a node has: its ``[Links]`` approaches, lane groups with phases, counted movements."""
    found = set(utdf.links.get(intid, {}))
    if rec is not None:
        found |= {col[:2] for col, g in rec.lanes.items() if g.phases or g.uncontrolled}
    if utdf.volumes is not None:
        found |= {col[:2] for row in utdf.volumes.rows if row.intid == intid for col, v in row.vehicles.items() if v}
    return found & set(BOUND_HEADING_DEG)


def _lane_columns(rec: UtdfIntersection, signal: Signal, approaches: Mapping[str, _Approach],
                  directions: Mapping[str, str], source: Path,
                  log: _Log) -> tuple[dict[int, str], dict[str, UtdfLaneGroup], list[str]]:
    """Each vehicle link's lane-group column, the lane groups used (``-1`` made every phase), and notes.

    Raises
    ------
    InputError
        No lane group has phases, an approach no UTDF direction reaches, or a direction with no phases at all.
    """
    groups = {col: g for col, g in rec.lanes.items() if (g.phases or g.uncontrolled) and _COLUMN.fullmatch(col)}
    if not groups:
        raise InputError(source, "no [Lanes] phase rows (Phase1..4, PermPhase1..4): no phase maps to the signal's "
                                 "movements", f"{sum(not link.is_crossing for link in signal.links)} vehicle links")
    bound_of = {edge: b for b, edge in directions.items()}
    columns: dict[int, str] = {}
    shared: dict[str, str] = {}
    for k, link in enumerate(signal.links):
        if link.is_crossing or not link.approach:
            continue
        a = approaches[link.approach]
        b = bound_of.get(a.edge)
        if b is None:
            raise InputError(source, f"approach {a.label} (edge {a.edge}, heading {a.heading_deg:.0f} deg) has no "
                                     f"UTDF direction within {MAX_TURN_DEG:g} deg",
                             f"directions mapped: {', '.join(sorted(directions)) or 'none'}")
        want = _LETTER.get(link.direction, "T")
        got = next((s for s in (want, *_SHARED[want]) if b + s in groups), None)
        if got is None:
            raise InputError(source, f"[Lanes] gives {b} (approach {a.label}, edge {a.edge}) no phase: its links "
                                     f"would never be green", f"{b}L, {b}T, {b}R")
        if got != want and want != "U":  # a U-turn runs with the left lane group, as Synchro times it
            shared[b + want] = b + got
        columns[k] = b + got
    used = set(columns.values())
    log.dropped += [f"INTID {rec.intid} [Lanes] {col} (phases {', '.join(map(str, sorted(g.phases))) or '-1'}): "
                    f"signal {signal.id} has no such movement" for col, g in groups.items() if col not in used]
    notes = [f"lane groups without phases of their own run with the group they share: "
             f"{', '.join(f'{a} with {b}' for a, b in sorted(shared.items()))}"] if shared else []
    lanes = {}
    for col in sorted(used):
        lanes[col] = UtdfLaneGroup(tuple(sorted(rec.phases))) if groups[col].uncontrolled else groups[col]
        if groups[col].uncontrolled:
            notes.append(f"{col} is uncontrolled (-1): green in every stage")
    return columns, lanes, notes


# Timing -----------------------------------------------------------------------------
def _pedestrian(p: UtdfPhase, rec: UtdfIntersection, crossings: bool, where: str, source: Path) -> UtdfPhase:
    """A phase's pedestrian timing as a fixed-time plan shows it: the walk rests until ``DontWalk`` ends the green.

    Raises
    ------
    InputError
        ``Walk + DontWalk`` longer than ``MaxGreen``.
    """
    calls = "PedCalls" not in rec.records or p.ped_calls is not None
    if p.walk_s <= 0 or p.dont_walk_s <= 0 or not calls or not crossings:
        return replace(p, walk_s=0.0, dont_walk_s=0.0)
    if p.walk_s + p.dont_walk_s > p.max_green_s + _TOL_S:
        raise InputError(source, f"{where} phase {p.number}: Walk + DontWalk exceed MaxGreen, and a fixed-time "
                                 f"green holds the whole pedestrian timing",
                         f"Walk {p.walk_s:g}, DontWalk {p.dont_walk_s:g}, MaxGreen {p.max_green_s:g}")
    # Synchro's Walk is the walk interval, the pedestrians' minimum: MinSplit keeps it as the stage's minimum walk
    return replace(p, walk_s=round(p.max_green_s - p.dont_walk_s, 6),
                   min_split_s=max(p.min_split_s, round(p.walk_s + p.dont_walk_s + p.yellow_s + p.all_red_s, 6)))


def _as_pretimed(rec: UtdfIntersection, signal: Signal, source: Path) -> tuple[UtdfIntersection, list[str]]:
    """The intersection as the pretimed plan signalopt reads (see the module docstring), and what that assumed."""
    where = f"UTDF INTID {rec.intid} ({signal.id})"
    notes = []
    if rec.control_type != 0:
        kind = CONTROL_TYPES.get(rec.control_type, "Control Type")
        notes.append(f"{kind} control (Control Type {rec.control_type}) run as pretimed: every phase for its MaxGreen")
    cycle = rec.cycle_s
    phases = dict(rec.phases)
    offset, refs = rec.offset_s, rec.reference_phases
    if phases and any(p.local_start_s is not None for p in phases.values()):
        # Synchro's Start and End are on the system clock (the offset in them): the first phase's Start is the offset
        first = min(phases.values(), key=lambda p: p.brp)
        offset, refs = first.start_s, (first.number,)
        phases = {n: replace(p, start_s=round(p.start_s - offset, 6) % cycle, end_s=round(p.end_s - offset, 6) % cycle)
                  for n, p in phases.items()}
    phases = {n: _pedestrian(p, rec, bool(signal.ped_links), where, source) for n, p in phases.items()}
    resting = [p for n, p in phases.items() if p.walk_s > rec.phases[n].walk_s + _TOL_S]
    if resting:
        notes.append(f"phases {', '.join(str(p.number) for p in resting)}: the walk rests until DontWalk ends the "
                     f"green (rest in walk): Walk {', '.join(f'{rec.phases[p.number].walk_s:g}' for p in resting)} s, "
                     f"shown {', '.join(f'{p.walk_s:g}' for p in resting)} s")
    dropped = [n for n, p in rec.phases.items() if p.walk_s > 0 and phases[n].walk_s == 0]
    if dropped and not signal.ped_links:
        notes.append(f"phases {', '.join(map(str, dropped))}: Walk and DontWalk dropped: signal {signal.id} has no "
                     f"crossing")
    return replace(rec, control_type=0, referenced_to=0, offset_s=offset, reference_phases=refs,
                   phases=phases), notes


def _node_plan(rec: UtdfIntersection, signal: Signal, approaches: Mapping[str, _Approach],
               directions: Mapping[str, str], *, source: Path, timing: TimingOptions, log: _Log) -> TimingPlan | None:
    """The plan of one matched node (``None`` and a dropped line when its timing does not map)."""
    head = f"INTID {rec.intid} -> signal {signal.id}"
    try:
        if rec.shared_nodes:
            raise InputError(source, "one controller runs several nodes (Node 1...), which one signal plan cannot "
                                     "map", ", ".join(f"INTID {n}" for n in rec.shared_nodes))
        columns, lanes, notes = _lane_columns(rec, signal, approaches, directions, source, log)
        pretimed, more = _as_pretimed(replace(rec, lanes=lanes), signal, source)
        plan, lenient = intersection_plan(pretimed, signal, source=source, timing=timing, columns=columns,
                                          lenient=True)
    except InputError as exc:
        value = f" ({exc.value})" if exc.value is not None else ""
        log.dropped.append(f"{head}: timing not imported, the network's programme stays: {exc.what}{value}")
        return None
    log.guessed += [f"{head}: {note}" for note in (*notes, *more, *lenient)]
    return plan


# Volumes ----------------------------------------------------------------------------
def _quarters(vehicles: float) -> list[float]:
    """An hourly volume as four quarter hours: whole vehicles, the remainder in the first quarters."""
    if vehicles != int(vehicles):
        return [vehicles / 4] * 4
    q, r = divmod(int(vehicles), 4)
    return [float(q + (k < r)) for k in range(4)]


def _volume_rows(utdf: UtdfFile, time_s: float | None, source: Path,
                 log: _Log) -> tuple[list[tuple[float, UtdfVolumeRow, int | None]], tuple[float, float]]:
    """``(interval begin, row, quarter of its hour)`` of the volumes imported (the quarter ``None`` for
    15-minute counts), and the window they cover.

    Raises
    ------
    InputError
        A row repeating an earlier one; 15-minute counts on several dates, with gaps, of one quarter hour only or
        with ``--time``; several hourly sets without ``--time``, or a ``--time`` no set has; other intervals.
    """
    volumes = utdf.volumes
    assert volumes is not None
    seen: dict[tuple[str, float, int], int] = {}
    for row in volumes.rows:
        key = (row.date, row.time_s, row.intid)
        if key in seen:
            raise InputError(source, f"line {row.line}: [Volumes] repeats line {seen[key]} (same DATE, TIME and "
                                     f"INTID)", f"{row.date} {clock_text(row.time_s)} INTID {row.intid}")
        seen[key] = row.line
    times = sorted({r.time_s for r in volumes.rows})
    dates = sorted({r.date for r in volumes.rows})
    minutes = volumes.minutes
    title = f"[Volumes] {volumes.title!r}" if volumes.title else "[Volumes] (untitled)"
    if minutes == 15:
        if time_s is not None:
            raise InputError("--time", f"chooses one of several hourly volume sets; {source.name} holds 15-minute "
                                       f"counts, imported as one series ({clock_text(times[0])}-"
                                       f"{clock_text(times[-1] + INTERVAL_S)})", clock_text(time_s))
        if len(dates) > 1:
            raise InputError(source, f"{title}: 15-minute counts on several dates; keep one day's rows",
                             ", ".join(dates))
        gaps = [clock_text(t) for a, b in zip(times, times[1:]) for t in np.arange(a + INTERVAL_S, b, INTERVAL_S)]
        if gaps or any((b - a) % INTERVAL_S for a, b in zip(times, times[1:])):
            raise InputError(source, f"{title}: 15-minute counts must follow one another (a missing quarter hour "
                                     f"would run empty)", ", ".join(gaps) or ", ".join(map(clock_text, times)))
        if len(times) < 2:
            raise InputError(source, f"{title}: one quarter hour of counts; a scenario needs two (the first warms "
                                     f"up)", clock_text(times[0]))
        log.read.append(f"{title}: 15-minute counts {clock_text(times[0])}-{clock_text(times[-1] + INTERVAL_S)}, "
                        f"{len(times)} quarter hours, one series")
        return [(r.time_s, r, None) for r in volumes.rows], (times[0], times[-1] + INTERVAL_S)
    if minutes not in (None, 60):
        raise InputError(source, f"{title}: {minutes}-minute counts; signalopt reads 15-minute counts or hourly "
                                 f"volumes", volumes.title)
    if minutes is None:
        log.guessed.append(f"{title} does not say 15 Minute Counts: the rows read as hourly volumes (Synchro's unit)")
    listed = ", ".join(map(clock_text, times))
    if time_s is None and len(times) > 1:
        raise InputError(source, f"{title}: {len(times)} hourly volume sets; choose one with --time HH:MM", listed)
    chosen = times[0] if time_s is None else time_s
    if chosen not in times:
        raise InputError("--time", f"no hourly volume set of {source.name} starts then (it has {listed})",
                         clock_text(chosen))
    rows = [r for r in volumes.rows if r.time_s == chosen]
    if len({r.date for r in rows}) > 1:
        raise InputError(source, f"{title}: the {clock_text(chosen)} set is on several dates; keep one day's rows",
                         ", ".join(sorted({r.date for r in rows})))
    log.read.append(f"{title}: hourly volume sets at {listed}; {clock_text(chosen)} imported")
    log.guessed.append(f"the {clock_text(chosen)} hourly volumes spread evenly over four quarter hours (whole "
                       f"vehicles; the peak hour factor is not applied)")
    return ([(chosen + k * INTERVAL_S, r, k) for r in rows for k in range(4)],
            (chosen, chosen + 4 * INTERVAL_S))


def _counts(utdf: UtdfFile, network: Network, matches: Sequence[NodeMatch],
            approaches: Mapping[str, Mapping[str, _Approach]], time_s: float | None, source: Path,
            log: _Log) -> tuple[list[TurnCount], tuple[float, float]]:
    """The counts of the matched signals' movements, the window they cover; the rest logged as dropped."""
    picked, window = _volume_rows(utdf, time_s, source, log)
    by_node = {m.intid: m for m in matches}
    wanted = set(_signalised(utdf))
    types = {n.intid: n.type for n in utdf.nodes}
    out: dict[tuple[float, str, str, str], float] = {}
    lost: dict[tuple[int, str], tuple[float, str]] = {}
    for begin, row, quarter in picked:
        m = by_node.get(row.intid)
        for col, vehicles in row.vehicles.items():
            share = vehicles if quarter is None else _quarters(vehicles)[quarter]
            if m is None:
                why = ("the node is not matched to a signal" if row.intid in wanted else
                       f"{NODE_TYPES.get(types.get(row.intid, -1), 'unknown')} node, not a signal")
                lost[(row.intid, "")] = (lost.get((row.intid, ""), (0.0, why))[0] + share, why)
                continue
            found = _COLUMN.fullmatch(col)
            edge = m.directions.get(found.group(1)) if found else None
            a = approaches[m.signal_id].get(edge) if edge else None
            letter = found.group(2) if found else ""
            if a is None or letter not in a.movements:
                why = (f"signal {m.signal_id} has no approach for {found.group(1)}" if found and a is None else
                       f"signal {m.signal_id}'s approach {a.label} has no {letter} movement" if a is not None else
                       "pedestrians: signalopt's pedestrian counts CSV takes them, by crossing" if col == "PED" else
                       "not a movement column signalopt counts")
                lost[(row.intid, col)] = (lost.get((row.intid, col), (0.0, why))[0] + share, why)
                continue
            key = (begin, m.signal_id, a.label, letter)
            out[key] = out.get(key, 0.0) + share
    for m in matches:
        free = [f"{a.label} {mv}" for a in approaches[m.signal_id].values() for mv in "LTRU"
                if mv in a.movements and not any(k[1:] == (m.signal_id, a.label, mv) for k in out)]
        if free:
            log.read.append(f"signal {m.signal_id}: movements without counts, left free for routeSampler: "
                            f"{', '.join(free)}")
    for (intid, col), (total, why) in sorted(lost.items()):
        if total > 0:
            log.dropped.append(f"INTID {intid}{' ' + col if col else ''}: {total:g} counted, not imported: {why}")
    order = {sid: k for k, sid in enumerate(network.signal_ids)}
    rank = {(s.id, a.leg or a.id): k for s in network.signals for k, a in enumerate(s.approaches)}
    counts = [TurnCount(b, sid, lab, mv, v) for (b, sid, lab, mv), v in sorted(
        out.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], rank[kv[0][1], kv[0][2]], "LTRU".index(kv[0][3])))]
    return counts, window


def _template(network: Network, approaches: Mapping[str, Mapping[str, _Approach]],
              window_s: tuple[float, float]) -> list[TurnCount]:
    """Every movement of every signal per quarter hour of ``window_s``, vehicles ``nan`` (written blank)."""
    begin_s, end_s = window_s
    return [TurnCount(begin_s + k * INTERVAL_S, s.id, a.label, m, math.nan)
            for k in range(round((end_s - begin_s) / INTERVAL_S)) for s in network.signals
            for a in approaches[s.id].values() for m in "LTRU" if m in a.movements]


# The import -------------------------------------------------------------------------
def read_utdf_import(path: str | Path, network_path: str | Path, *, map_path: str | Path | None = None,
                     time_s: float | None = None, template_window_s: tuple[float, float] | None = None,
                     timing: TimingOptions | None = None) -> UtdfImport:
    """Map a UTDF file onto a network: plans, counts and the report's lines (nothing is written).

    Parameters
    ----------
    path
        The UTDF combined CSV (Synchro's or signalopt's).
    network_path
        The SUMO network whose signals it times.
    map_path
        A map file (``INTID,signal``) that decides which node is which signal.
    time_s
        Which hourly volume set to import [s of the day]; without volumes, the hour the counts template covers.
    template_window_s
        Without volumes and ``time_s``, the counts template's window [s of the day] (default 07:00-08:00).
    timing
        Bounds for the plans' maximum greens (default :class:`TimingOptions`).

    Raises
    ------
    InputError
        An unreadable UTDF, map or network file, a node that cannot be matched without ``--map``, volumes that
        cannot be placed in time (see the module docstring), or no node matching any signal.
    """
    utdf = read_utdf(path)
    source = Path(path)
    network = read_network(network_path)
    log = _Log()
    units = {True: "metric (metres, km/h)", False: "imperial (feet, mph)", None: "units not stated"}[utdf.metric]
    log.read.append(f"UTDF {utdf.version or '?'}, {units}; sections {', '.join(f'[{s}]' for s in utdf.sections)}; "
                    f"{len(utdf.nodes)} nodes, {len(_signalised(utdf))} signalised, timing plans for "
                    f"{len(utdf.intersections)}")
    intids = {n.intid for n in utdf.nodes} | {i.intid for i in utdf.intersections}
    mapping = read_map(map_path, network, intids) if map_path is not None else None
    matches = match_nodes(utdf, network, source=source, mapping=mapping, log=log)
    if not matches:
        raise InputError(source, f"no UTDF node matches a signal of {network.path.name}: pass --map MAP.csv "
                                 f"(INTID,signal)", ", ".join(f"INTID {n}" for n in _signalised(utdf))
                         or "the file has no signalised node")
    net = sumolib_net(network.path)
    approaches = {s.id: _approaches(s, net) for s in network.signals}
    records = {rec.intid: rec for rec in utdf.intersections}
    matches = [replace(m, directions=_directions(_bounds(utdf, records.get(m.intid), m.intid),
                                                 approaches[m.signal_id])) for m in matches]
    plans = []
    for m in matches:
        if m.intid not in records:
            log.dropped.append(f"INTID {m.intid} -> signal {m.signal_id}: no [Timeplans] record: the network's "
                               f"programme stays")
            continue
        plan = _node_plan(records[m.intid], network.signal(m.signal_id), approaches[m.signal_id], m.directions,
                          source=source, timing=timing or TimingOptions(), log=log)
        plans += [plan] if plan is not None else []
    matched = {m.signal_id for m in matches}
    log.dropped += [f"signal {s.id}: no UTDF node matched it: the network's programme stays, no counts"
                    for s in network.signals if s.id not in matched]
    if utdf.volumes is not None and utdf.volumes.rows:
        counts, window = _counts(utdf, network, matches, approaches, time_s, source, log)
        counted = True
    else:
        window = (time_s, time_s + 4 * INTERVAL_S) if time_s is not None else (
            template_window_s or (TEMPLATE_BEGIN_S, TEMPLATE_BEGIN_S + 4 * INTERVAL_S))
        counts, counted = _template(network, approaches, window), False
        log.read.append("no [Volumes] rows: no counts; the counts file is a template with the vehicles column empty "
                        f"({clock_text(window[0])}-{clock_text(window[1])})")
    plans.sort(key=lambda p: network.signal_ids.index(p.signal_id))  # network order, as every reader lists signals
    return UtdfImport(source, hashlib.sha256(source.read_bytes()).hexdigest(), network, tuple(matches),
                      PlanSet(tuple(plans), name="existing"), tuple(counts), counted, window, tuple(log.read),
                      tuple(log.guessed), tuple(log.dropped))


# Writing ----------------------------------------------------------------------------
def import_name(path: Path) -> str:
    """A file's name without its suffix, in the letters a scenario name may hold."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem).strip("_.")[:80] or "utdf"


@dataclass(frozen=True)
class UtdfFiles:
    """The files a UTDF import writes into one folder."""

    scenario: Path
    counts: Path
    plans: Path
    report_txt: Path
    report_json: Path

    @classmethod
    def in_folder(cls, folder: str | Path, name: str) -> UtdfFiles:
        folder = Path(folder)
        return cls(folder / f"{name}.toml", folder / f"{name}_vehicles.csv", folder / f"{name}_plans.json",
                   folder / "utdf_import_report.txt", folder / "utdf_import_report.json")

    def all(self) -> tuple[Path, ...]:
        return (self.scenario, self.counts, self.plans, self.report_txt, self.report_json)


@dataclass(frozen=True)
class UtdfImportReport:
    """What ``signalopt import utdf`` read, matched, guessed, dropped and wrote; :meth:`text` and :meth:`to_dict`."""

    imported: UtdfImport
    network: Path
    files: UtdfFiles
    created: str
    options: Mapping[str, Any]

    def _plan_lines(self) -> list[str]:
        return [f"  {p.signal_id}: cycle {p.cycle_s:g} s, offset {p.offset_s:g} s, stages "
                f"{' | '.join(f'{ph.green_s:g}+{ph.yellow_s:g}+{ph.all_red_s:g}' for ph in p.phases)}"
                for p in self.imported.plans]

    def text(self) -> str:
        """The report for a terminal and ``utdf_import_report.txt``."""
        imp = self.imported
        begin, end = (clock_text(t) for t in imp.window_s)

        def block(title: str, lines: Sequence[str]) -> list[str]:
            return [f"{title}: {'none' if not lines else ''}".rstrip()] + [f"  {line}" for line in lines]

        approaches = {a.id: a.leg or a.id for s in imp.network.signals for a in s.approaches}
        matched = [f"INTID {m.intid} -> signal {m.signal_id} by {m.how}; directions "
                   f"{', '.join(f'{b} {approaches[e]} ({e})' for b, e in sorted(m.directions.items())) or 'none'}"
                   for m in imp.matches]
        plans = self.files.plans.name if imp.plans.plans else "none (no node's timing maps)"
        counts = (f"{len(imp.counts)} rows, {begin}-{end} in quarter hours" if imp.counted else
                  f"a template of {len(imp.counts)} rows ({begin}-{end}): fill in the vehicles column")
        lines = [f"signalopt import utdf: {imp.source} -> {self.network}", *block("read", imp.read),
                 *block("matched", matched), *block("guessed", imp.guessed), *block("dropped", imp.dropped),
                 f"plans: {plans}", *self._plan_lines(), f"counts: {counts} ({self.files.counts.name})",
                 f"next: {'' if imp.counted else f'fill in {self.files.counts}, then '}signalopt run "
                 f"{self.files.scenario}"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        imp = self.imported
        return {
            "signalopt": __version__, "created": self.created, "source": str(imp.source),
            "source_sha256": imp.source_sha256, "network": str(self.network), "options": dict(self.options),
            "files": {k: str(v) for k, v in vars(self.files).items()},
            "read": list(imp.read),
            "matched": [{"intid": m.intid, "signal": m.signal_id, "how": m.how, "directions": dict(m.directions)}
                        for m in imp.matches],
            "guessed": list(imp.guessed), "dropped": list(imp.dropped),
            "plans": [{"signal": p.signal_id, "cycle_s": p.cycle_s, "offset_s": p.offset_s,
                       "stages": [{"state": ph.state, "green_s": ph.green_s, "yellow_s": ph.yellow_s,
                                   "all_red_s": ph.all_red_s} for ph in p.phases]} for p in imp.plans],
            "counts": {"counted": imp.counted, "rows": len(imp.counts),
                       "window": f"{clock_text(imp.window_s[0])}-{clock_text(imp.window_s[1])}"},
        }


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def _scenario_toml(imp: UtdfImport, name: str, network: Path, files: UtdfFiles) -> str:
    try:
        net = Path(os.path.relpath(network, files.scenario.parent)).as_posix()
    except ValueError:  # another drive (Windows): the absolute path
        net = network.resolve().as_posix()
    begin_s, end_s = imp.window_s
    description = (f"Imported from Synchro UTDF ({imp.source.name}) by signalopt import utdf: "
                   + ", ".join(f"{m.signal_id} = INTID {m.intid}" for m in imp.matches)
                   + ". The existing timing is the UTDF plans run as pretimed.")
    lines = [
        f"# Written by signalopt import utdf {__version__} from {imp.source.name}: timing and "
        f"{'counts' if imp.counted else 'an empty counts template'} of the UTDF nodes matched to signals.",
        *(f"# {line}" for line in ("Signals (SUMO tlLogic id = UTDF node):", *(
            f"  {m.signal_id} = INTID {m.intid} ({m.how})" for m in imp.matches))),
        "# See utdf_import_report.txt for what was guessed and dropped.",
        "schema_version = 1",
        f"name = {_toml_string(name)}",
        f"description = {_toml_string(description)}",
        f"network = {_toml_string(net)}",
        *([f"plans = {_toml_string(files.plans.name)}"] if imp.plans.plans else []),
        f"begin_s = {begin_s:g}",
        f"end_s = {end_s:g}",
        f"warmup_s = {WARMUP_S:g}",
        "",
        "[demand]",
        f"counts = {_toml_string(files.counts.name)}",
        f"interval_s = {INTERVAL_S:g}",
    ]
    return "\n".join(lines) + "\n"


def write_utdf_import(imp: UtdfImport, out_dir: str | Path, *, name: str, network: str | Path,
                      map_path: str | Path | None = None, time_s: float | None = None) -> UtdfImportReport:
    """Write an import (see the module docstring) into ``out_dir``.

    ``network`` is the path the scenario names; ``map_path`` and ``time_s``, the options the import was made
    with, go into the report.
    """
    files = UtdfFiles.in_folder(out_dir, name)
    options = {"map": str(map_path) if map_path is not None else None,
               "time": clock_text(time_s) if time_s is not None else None}
    report = UtdfImportReport(imp, Path(network), files, utc_timestamp(), options)
    rows = ["interval,intersection,approach,movement,vehicles"]
    rows += [f"{clock_text(c.begin_s)},{c.signal_id},{c.approach},{c.movement},"
             f"{'' if math.isnan(c.vehicles) else f'{c.vehicles:g}'}" for c in imp.counts]
    atomic_write_text(files.counts, "\n".join(rows) + "\n")
    if imp.plans.plans:
        write_plans(imp.plans, files.plans, provenance={"imported_from": imp.source.name,
                                                        "source_sha256": imp.source_sha256,
                                                        "created": report.created})
    atomic_write_text(files.scenario, _scenario_toml(imp, name, Path(network), files))
    atomic_write_text(files.report_json, json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(files.report_txt, report.text() + "\n")
    return report


def import_utdf(path: str | Path, network_path: str | Path, out_dir: str | Path, *,
                map_path: str | Path | None = None, time_s: float | None = None) -> UtdfImportReport:
    """Import a UTDF file's timing and volumes onto a network (see the module docstring for what is written).

    Parameters
    ----------
    path
        The UTDF combined CSV.
    network_path
        The SUMO network (``signalopt import osm`` makes one with street names).
    out_dir
        The folder to write into (made if missing); it must not hold an import of the same name.
    map_path
        A map file (``INTID,signal``) deciding which node is which signal.
    time_s
        Which hourly volume set to import [s of the day] (or the hour of the template without volumes).

    Returns
    -------
    UtdfImportReport
        What was read, matched, guessed, dropped and written (also ``utdf_import_report.txt`` and ``.json``).

    Raises
    ------
    InputError
        See :func:`read_utdf_import`; or the folder already holds this import. Nothing is written then.
    """
    source = Path(path)
    name = import_name(source)
    files = UtdfFiles.in_folder(out_dir, name)
    there = [p.name for p in files.all() if p.exists()]
    if there:
        raise InputError(out_dir, "already holds an import (a filled-in counts file would be lost): give another "
                                  "--out or remove them", ", ".join(there))
    imp = read_utdf_import(source, network_path, map_path=map_path, time_s=time_s)
    return write_utdf_import(imp, out_dir, name=name, network=network_path, map_path=map_path, time_s=time_s)
