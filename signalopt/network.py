"""The road network as plain dataclasses: signals, links, approaches, conflicts.

sumolib reads the ``.net.xml`` once (:func:`read_network`); everything above
this module works with the frozen records it returns.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .plan import GREEN_CHARS
from . import _xml

#: Movement codes SUMO writes on connections (``dir``): straight, left, right,
#: turnaround, partially left/right.  Crossings are ``"c"`` here.
LEFT_DIRS = frozenset("lLt")


def lane_edge(lane_id: str) -> str:
    """The edge of a SUMO lane id (``<edge>_<index>``)."""
    return lane_id.rsplit("_", 1)[0]


@dataclass(frozen=True)
class Link:
    """One controlled link index of a signal (several SUMO connections may share it).

    Parameters
    ----------
    index
        Link index in the signal's state string.
    from_lanes, to_lanes
        Lane ids of the connections on this index.
    direction
        SUMO direction code of the first connection (``s l r t L R``), ``c`` for a crossing.
    approach
        Incoming edge id (vehicles) or crossing edge id (pedestrians).
    length_m
        Crossing length for crossings, length of the path across the junction otherwise [m].
    speed_m_s
        Speed limit of the incoming lane [m/s] (walking speed is not stored here).
    """

    index: int
    from_lanes: tuple[str, ...]
    to_lanes: tuple[str, ...]
    direction: str
    approach: str
    length_m: float
    speed_m_s: float
    crosses: tuple[str, ...] = ()

    @property
    def is_crossing(self) -> bool:
        return self.direction == "c"

    @property
    def is_left(self) -> bool:
        return self.direction in LEFT_DIRS


@dataclass(frozen=True)
class Approach:
    """An incoming edge of a signal: one lane group for queue measurement.

    ``leg`` is the compass side the traffic comes from (``N`` = the north leg,
    vehicles heading south), or ``""`` when the geometry gives none.
    """

    id: str
    signal_id: str
    leg: str
    lanes: tuple[str, ...]
    length_m: float
    speed_m_s: float
    upstream_lanes: tuple[str, ...] = ()
    upstream_length_m: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.signal_id}:{self.leg}" if self.leg else f"{self.signal_id}:{self.id}"

    @property
    def edges(self) -> frozenset[str]:
        """The approach's edge and the edge upstream of its turn bays, if split."""
        return frozenset({self.id, *(lane_edge(lane) for lane in self.upstream_lanes)})


@dataclass(frozen=True)
class Program:
    """A SUMO programme as found in the network file.

    ``phase_attrs`` holds each phase's other attributes as written
    (``minDur``, ``maxDur``, ``name``; a NEMA phase's ``yellow``, ``red``),
    ``params`` the programme's ``<param>`` pairs (a NEMA programme's rings
    and barriers): what an actuated or NEMA programme needs beyond its states.
    """

    program_id: str
    type: str
    offset_s: float
    phases: tuple[tuple[float, str], ...]
    phase_attrs: tuple[tuple[tuple[str, str], ...], ...] = ()
    params: tuple[tuple[str, str], ...] = ()

    def param(self, key: str, default: str | None = None) -> str | None:
        return dict(self.params).get(key, default)

    def phase_attr(self, index: int, key: str, default: str | None = None) -> str | None:
        return dict(self.phase_attrs[index]).get(key, default) if index < len(self.phase_attrs) else default


@dataclass(frozen=True)
class Signal:
    """A signalised junction (one SUMO ``tlLogic`` id)."""

    id: str
    links: tuple[Link, ...]
    approaches: tuple[Approach, ...]
    conflicts: frozenset[tuple[int, int]]
    yields: frozenset[tuple[int, int]]
    programs: tuple[Program, ...]
    width_m: float
    position: tuple[float, float] = (0.0, 0.0)

    @property
    def n_links(self) -> int:
        return len(self.links)

    @property
    def ped_links(self) -> frozenset[int]:
        return frozenset(l.index for l in self.links if l.is_crossing)

    @property
    def program(self) -> Program:
        """The programme SUMO runs by default (the last one loaded)."""
        return self.programs[-1]

    def are_foes(self, i: int, j: int) -> bool:
        return (min(i, j), max(i, j)) in self.conflicts

    def yields_to(self, i: int, j: int) -> bool:
        """Whether link ``i`` must give way to link ``j``."""
        return (i, j) in self.yields

    def conflicting_greens(self, state: str) -> list[tuple[int, int]]:
        """Pairs of links green together in ``state`` that SUMO calls foes
        where neither is a permissive ``g`` that yields to the other."""
        green = [k for k, c in enumerate(state) if c in GREEN_CHARS]
        bad = []
        for a_pos, a in enumerate(green):
            for b in green[a_pos + 1:]:
                if not self.are_foes(a, b):
                    continue
                a_ok = state[a] == "g" and self.yields_to(a, b)
                b_ok = state[b] == "g" and self.yields_to(b, a)
                if not (a_ok or b_ok):
                    bad.append((a, b))
        return bad


@dataclass(frozen=True)
class Network:
    """Signals of a SUMO network, in file order."""

    path: Path
    signals: tuple[Signal, ...]
    edges: frozenset[str] = field(default_factory=frozenset)

    def signal(self, signal_id: str, *, source: str | Path | None = None) -> Signal:
        for s in self.signals:
            if s.id == signal_id:
                return s
        raise InputError(source or self.path, "signal id not in the network", signal_id)

    @property
    def signal_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.signals)

    @property
    def approaches(self) -> tuple[Approach, ...]:
        return tuple(a for s in self.signals for a in s.approaches)


def _leg(dx: float, dy: float) -> str:
    """Compass leg a vehicle arrives from, given its heading vector at the stop line."""
    if dx == 0 and dy == 0:
        return ""
    heading = math.degrees(math.atan2(dx, dy)) % 360  # 0 = north, clockwise
    return "SWNE"[int(((heading + 45) % 360) // 90)]  # heading north -> from the south leg


def sumolib_net(path: str | Path):  # noqa: ANN201 - a sumolib net
    """sumolib's reading of a network file (programmes, pedestrian and internal connections), parsed once
    per file version and process: :func:`read_network` and the time-space trace share it."""
    path = Path(path)
    stat = path.stat()
    return _sumolib_net(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _sumolib_net(path: str, mtime_ns: int, size: int):  # noqa: ANN202, ARG001 - the version is the cache key
    import sumolib  # only here: keep `import signalopt` free of SUMO

    return sumolib.net.readNet(path, withPrograms=True, withPedestrianConnections=True, withInternal=True,
                               lxml=False)


def read_network(path: str | Path) -> Network:
    """Read a SUMO ``.net.xml`` into a :class:`Network`.

    Parameters
    ----------
    path
        Network file.

    Raises
    ------
    InputError
        Missing or unreadable file, or malformed XML (message names the file).
    """
    path = Path(path)
    root = _xml.parse_xml(path)
    if root.tag != "net":
        raise InputError(path, "not a SUMO network (its root element must be <net>)", f"<{root.tag}>")
    try:
        net = sumolib_net(path)
    except Exception as exc:  # sumolib raises bare exceptions on odd input
        raise InputError(path, "cannot read SUMO network", f"{type(exc).__name__}: {exc}") from None

    # the attributes sumolib does not keep (NEMA yellow and red, programme params), by signal and programme
    raw = {(e.get("id"), e.get("programID")): e for e in root.iter("tlLogic")}
    signals = []
    for tls in net.getTrafficLights():
        if not tls.getPrograms():
            raise InputError(path, "traffic light without a tlLogic programme", tls.getID())
        signals.append(_read_signal(net, tls, raw))
    return Network(path=path, signals=tuple(signals),
                   edges=frozenset(e.getID() for e in net.getEdges(withInternal=False)))


def _read_signal(net, tls, raw: dict) -> Signal:  # noqa: ANN001 - sumolib objects
    by_index: dict[int, list] = {}
    for in_lane, out_lane, idx in tls.getConnections():
        by_index.setdefault(idx, []).append((in_lane, out_lane))
    n_links = max(by_index) + 1 if by_index else 0
    links = []
    conns_by_index: dict[int, list] = {}
    nodes = set()
    for idx in range(n_links):
        pairs = by_index.get(idx, [])
        if not pairs:
            links.append(Link(idx, (), (), "s", "", 0.0, 0.0))
            continue
        in_lane, out_lane = pairs[0]
        in_edge = in_lane.getEdge()
        conns = [c for a, b in pairs for c in a.getOutgoing() if c.getToLane() is b]
        conns_by_index[idx] = conns
        if in_edge.getFunction() == "crossing" or out_lane.getEdge().getFunction() == "crossing" \
                or in_edge.getFunction() == "walkingarea":
            # walkingarea -> crossing (linkIndex) or crossing -> walkingarea (linkIndex2)
            crossing = out_lane.getEdge() if out_lane.getEdge().getFunction() == "crossing" else in_edge
            links.append(Link(idx, tuple(a.getID() for a, _ in pairs), tuple(b.getID() for _, b in pairs),
                              "c", crossing.getID(), float(crossing.getLanes()[0].getLength()), 0.0,
                              tuple(e.getID() for e in crossing.getCrossingEdges())))
            nodes.add(crossing.getToNode() if crossing.getToNode() else None)
            continue
        direction = conns[0].getDirection() if conns else "s"
        via = conns[0].getViaLaneID() if conns else ""
        length = 0.0
        if via:
            try:
                length = float(net.getLane(via).getLength())
            except Exception:
                length = 0.0
        links.append(Link(idx, tuple(a.getID() for a, _ in pairs), tuple(b.getID() for _, b in pairs),
                          direction, in_edge.getID(), length, float(in_lane.getSpeed())))
        nodes.add(in_edge.getToNode())
    nodes.discard(None)

    conflicts, yields = set(), set()
    items = [(i, c) for i, cs in conns_by_index.items() for c in cs]
    for a_pos, (i, ci) in enumerate(items):
        for j, cj in items[a_pos + 1:]:
            if i == j:
                continue
            node = ci.getJunction() if hasattr(ci, "getJunction") and ci.getJunction() else None
            node = node or _node_of(ci)
            if node is None or node is not (_node_of(cj)):
                continue
            ji, jj = node.getLinkIndex(ci), node.getLinkIndex(cj)
            if ji < 0 or jj < 0 or ji not in node._foes or jj not in node._foes:
                continue
            if node.areFoes(ji, jj) or node.areFoes(jj, ji):
                conflicts.add((min(i, j), max(i, j)))
            if node.forbids(cj, ci):
                yields.add((i, j))
            if node.forbids(ci, cj):
                yields.add((j, i))

    approaches = _approaches(tls, links, net)
    width = _junction_width(nodes)
    pos = (0.0, 0.0)
    if nodes:
        xs, ys = zip(*(n.getCoord()[:2] for n in nodes))
        pos = (float(sum(xs) / len(xs)), float(sum(ys) / len(ys)))
    programs = tuple(program_from_element(raw[(tls.getID(), pid)], source=None) for pid in tls.getPrograms()
                     if (tls.getID(), pid) in raw)
    return Signal(tls.getID(), tuple(links), approaches, frozenset(conflicts), frozenset(yields),
                  programs, width, pos)


def program_from_element(el, *, source: str | Path | None) -> Program:  # noqa: ANN001 - an XML element
    """A ``<tlLogic>`` element as a :class:`Program` (every phase attribute and param kept).

    Raises
    ------
    InputError
        A phase without a state or with a duration that is not a number (naming the signal and phase).
    """
    sid = el.get("id")
    phases, attrs = [], []
    for k, ph in enumerate(el.findall("phase")):
        state = ph.get("state")
        try:
            duration = float(ph.get("duration"))
        except (TypeError, ValueError):
            raise InputError(source, f"tlLogic {sid} phase {k}: duration is not a number",
                             ph.get("duration")) from None
        if not state:
            raise InputError(source, f"tlLogic {sid} phase {k}: state missing", None)
        phases.append((duration, state))
        attrs.append(tuple((a, v) for a, v in ph.attrib.items() if a not in ("duration", "state")))
    try:
        offset = float(el.get("offset", 0.0))
    except ValueError:
        raise InputError(source, f"tlLogic {sid}: offset is not a number", el.get("offset")) from None
    params = tuple((q.get("key"), q.get("value")) for q in el.findall("param"))
    return Program(el.get("programID", "0"), el.get("type", "static"), offset, tuple(phases), tuple(attrs), params)


def with_additional_programmes(network: Network, files: Sequence[str | Path]) -> Network:
    """``network`` with the ``tlLogic`` programmes of SUMO additional files loaded after its own.

    SUMO runs the programme loaded last for each signal, so a scenario's
    additional files can replace what the network file says; the existing
    timing must be read from the same place.
    """
    extra: dict[str, list[Program]] = {}
    for path in files:
        for el in _xml.parse_xml(path).iter("tlLogic"):
            sid = el.get("id")
            if sid not in network.signal_ids:
                raise InputError(path, "tlLogic for a signal the network does not have", sid)
            extra.setdefault(sid, []).append(program_from_element(el, source=path))
    if not extra:
        return network
    signals = tuple(replace(s, programs=s.programs + tuple(extra.get(s.id, ()))) for s in network.signals)
    return replace(network, signals=signals)


def _node_of(conn):  # noqa: ANN001, ANN202
    edge = conn.getFrom()
    if edge.getFunction() == "walkingarea":
        return edge.getToNode() or edge.getFromNode()
    return edge.getToNode()


def _junction_width(nodes) -> float:  # noqa: ANN001
    best = 0.0
    for node in nodes:
        shape = node.getShape()
        if shape:
            xs = [p[0] for p in shape]
            ys = [p[1] for p in shape]
            best = max(best, max(xs) - min(xs), max(ys) - min(ys))
    return float(best) if best > 0 else 15.0


def _approaches(tls, links: list[Link], net) -> tuple[Approach, ...]:  # noqa: ANN001
    edges: dict[str, set[str]] = {}
    for link in links:
        if link.is_crossing or not link.approach:
            continue
        edges.setdefault(link.approach, set()).update(link.from_lanes)
    out = []
    for edge_id in edges:
        edge = net.getEdge(edge_id)
        lanes = tuple(l.getID() for l in edge.getLanes() if l.allows("passenger"))
        shape = edge.getShape()
        (x0, y0), (x1, y1) = shape[-2][:2], shape[-1][:2]
        up_lanes: tuple[str, ...] = ()
        up_len = 0.0
        # A lane added for a turn bay is modelled by splitting the edge: the
        # queue continues on the single upstream piece, so measure it too.
        from_node = edge.getFromNode()
        incoming = [e for e in from_node.getIncoming() if e.getFunction() == ""]
        outgoing = [e for e in from_node.getOutgoing() if e.getFunction() == ""]
        up = incoming[0] if len(incoming) == 1 and len(outgoing) == 1 else None
        # the one edge into a dead end is the approach's own opposite direction, not a piece of it: only an
        # edge that leads on into the approach (and does not come from where the approach goes) continues it
        if (up is not None and from_node.getType() != "traffic_light" and edge in up.getOutgoing()
                and up.getFromNode() is not edge.getToNode()):
            up_lanes = tuple(l.getID() for l in up.getLanes() if l.allows("passenger"))
            up_len = float(up.getLength())
        out.append(Approach(edge_id, tls.getID(), _leg(x1 - x0, y1 - y0), lanes, float(edge.getLength()),
                            float(edge.getSpeed()), up_lanes, up_len))
    legs = [a.leg for a in out]
    if len(set(legs)) != len(legs):  # ambiguous geometry: fall back to edge ids as labels
        out = [Approach(a.id, a.signal_id, "", a.lanes, a.length_m, a.speed_m_s, a.upstream_lanes,
                        a.upstream_length_m) for a in out]
    return tuple(sorted(out, key=lambda a: ("NESW".find(a.leg) if a.leg else 9, a.id)))
