"""OpenStreetMap in: ``signalopt import osm`` builds a scenario from an OSM XML extract.

SUMO's own ``netconvert`` builds the network (:func:`netconvert_command` lists its options and why each is
there). This module reads the extract before (what was there: roads, ``highway=traffic_signals`` nodes) and
the network after (what netconvert made of it), names each signal after the streets that meet there, and
writes into the output folder, ``NAME`` being the extract's file name without its suffixes:

``NAME.net.xml``
    the SUMO network;
``NAME.toml``
    a counts-driven scenario naming the network and the counts file;
``NAME_vehicles.csv``
    the counts template: every movement at every signal, one row per 15 minutes of the scenario's window,
    the ``vehicles`` column left blank for the engineer;
``import_report.txt``, ``import_report.json``
    what was read, what was guessed and what was dropped, and signal by signal its name, approaches and
    movements.

A blank ``vehicles`` cell is not a count, so ``signalopt run`` refuses the template (naming the file and the
line) until it is filled in; ``signalopt info`` reads the fresh scenario as it is. The existing plans are
netconvert's default programmes, not the timing on the street.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import __version__, _sumo
from .._clock import clock_text, parse_time_s
from .._xml import atomic_write_bytes, atomic_write_text, check_file, parse_xml
from ..demand import MOVEMENT_DIRS
from ..errors import InputError
from ..network import Network, Signal, read_network
from ..provenance import utc_timestamp
from .utdf import UtdfFiles, UtdfImport, UtdfImportReport, read_utdf_import, write_utdf_import

#: OSM ``highway`` values kept: the roads whose junctions carry signals and whose traffic a signal study counts.
#: Service roads, tracks, footways, cycleways, steps and everything off the road go before the network is built.
ROAD_TYPES = ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
              "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential")
#: netconvert's default distance for joining nearby junctions into one [m] (``--junctions.join-dist``).
JOIN_DIST_M = 10.0
#: netconvert's default distance from a junction within which signals mapped on its approaches become one
#: signal at the junction [m] (``--tls.guess-signals.dist``).
GUESS_SIGNALS_DIST_M = 25.0
#: How far an OSM signal node may lie from a junction of the signal it became [m]: an approach signal moved in
#: by tls.guess-signals, measured to the centre of a cluster of joined junctions.
SIGNAL_MATCH_M = GUESS_SIGNALS_DIST_M + JOIN_DIST_M
#: The counting interval of the template [s], the bundled scenarios' and the counts reader's default.
INTERVAL_S = 900.0
#: The first quarter hour of the window warms the network up and is not measured.
WARMUP_S = 900.0
#: The window written when none is given: the morning peak, as in the bundled scenarios.
DEFAULT_WINDOW = "07:00-08:30"
_MOVEMENT_OF_DIR = {d: m for m, dirs in MOVEMENT_DIRS.items() for d in dirs}
_MOVEMENT_ORDER = "LTRU"
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True)
class BBox:
    """A crop of the extract in WGS84 degrees, west to east and south to north.

    Raises
    ------
    InputError
        A coordinate that is not finite or off the globe, or a box that is empty or inverted (``--bbox``).
    """

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        text = self.option()
        if not all(math.isfinite(v) for v in (self.west, self.south, self.east, self.north)):
            raise InputError("--bbox", "coordinates must be finite numbers", text)
        if not (-180 <= self.west <= 180 and -180 <= self.east <= 180
                and -90 <= self.south <= 90 and -90 <= self.north <= 90):
            raise InputError("--bbox", "longitudes must lie in [-180, 180] and latitudes in [-90, 90]", text)
        if self.west >= self.east or self.south >= self.north:
            raise InputError("--bbox", "is empty or inverted: give west < east and south < north (W,S,E,N)", text)

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north

    def option(self) -> str:
        """``W,S,E,N``, as netconvert's ``--keep-edges.in-geo-boundary`` takes it."""
        return ",".join(f"{v:.7f}".rstrip("0").rstrip(".") for v in (self.west, self.south, self.east, self.north))


def parse_bbox(text: str) -> BBox:
    """``"W,S,E,N"`` in degrees (the order of OSM's own bbox queries) as a :class:`BBox`.

    Raises
    ------
    InputError
        Not four comma-separated numbers, or a box :class:`BBox` refuses (``--bbox``).
    """
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4:
        raise InputError("--bbox", "must be four numbers W,S,E,N (degrees)", text)
    return BBox(*values)


def parse_window(text: str) -> tuple[float, float]:
    """``"HH:MM-HH:MM"``: the counted period as (begin, end) [s of the day].

    Raises
    ------
    InputError
        Not two times, an end not after the begin, a length that is not whole quarter hours, or a window with
        no quarter hour left after the warm-up (``--window``).
    """
    parts = text.split("-")
    try:
        begin_s, end_s = (parse_time_s(p) for p in parts)
    except ValueError:
        raise InputError("--window", "must be two clock times HH:MM-HH:MM", text) from None
    if end_s <= begin_s:
        raise InputError("--window", "must end after it begins", text)
    quarters = (end_s - begin_s) / INTERVAL_S
    if quarters != int(quarters):
        raise InputError("--window", f"must be whole quarter hours long (the counts are per {INTERVAL_S / 60:g} min)",
                         text)
    if end_s - begin_s <= WARMUP_S:
        raise InputError("--window", f"must be longer than the {WARMUP_S / 60:g} min warm-up", text)
    return begin_s, end_s


#: :data:`DEFAULT_WINDOW` as (begin, end) [s of the day].
DEFAULT_WINDOW_S = parse_window(DEFAULT_WINDOW)


@dataclass(frozen=True)
class OsmRoad:
    """A way tagged with a kept ``highway`` type.

    ``turn_lanes`` holds the directions (``forward``: along the way, ``backward``: against it) whose lanes
    carry ``turn:lanes`` arrows, the tags netconvert's ``--osm.turn-lanes`` reads.
    """

    id: str
    highway: str
    lonlats: tuple[tuple[float, float], ...]
    turn_lanes: frozenset[str]
    sidewalk_tagged: bool

    def touches(self, bbox: BBox | None) -> bool:
        return bbox is None or any(bbox.contains(lon, lat) for lon, lat in self.lonlats)


@dataclass(frozen=True)
class OsmSignal:
    """A node tagged ``highway=traffic_signals``."""

    id: str
    lon: float
    lat: float


@dataclass(frozen=True)
class OsmExtract:
    """What an OSM XML extract holds, as far as an import needs it."""

    path: Path
    n_nodes: int
    n_ways: int
    roads: tuple[OsmRoad, ...]
    signals: tuple[OsmSignal, ...]
    #: ways of other ``highway`` types (service, footway, ...), by type: removed before the network is built
    removed_types: tuple[tuple[str, int], ...]


def _turn_directions(tags: dict[str, str]) -> frozenset[str]:
    # netconvert reads turn:lanes and turn:lanes:forward along the way, turn:lanes:backward against it
    found = set()
    if tags.get("turn:lanes") or tags.get("turn:lanes:forward") or tags.get("turn:lanes:both_ways"):
        found.add("forward")
    if tags.get("turn:lanes:backward") or tags.get("turn:lanes:both_ways"):
        found.add("backward")
    return frozenset(found)


def read_osm(path: str | Path) -> OsmExtract:
    """Read an OSM XML extract: its roads, its signal nodes, and the ways an import removes.

    Raises
    ------
    InputError
        A missing file, a file that is not XML, a root other than ``<osm>``, or a node whose ``lat``/``lon``
        is not a number.
    """
    path = check_file(Path(path), "OSM file")
    root = parse_xml(path)
    if root.tag != "osm":
        raise InputError(path, "not OpenStreetMap XML (its root element must be <osm>)", f"<{root.tag}>")
    nodes: dict[str, tuple[float, float]] = {}
    signals = []
    for el in root.iter("node"):
        nid = el.get("id", "")
        try:
            lon, lat = float(el.get("lon", "")), float(el.get("lat", ""))
        except ValueError:
            raise InputError(path, f"node {nid}: lat and lon must be numbers",
                             f"lat={el.get('lat')!r} lon={el.get('lon')!r}") from None
        nodes[nid] = (lon, lat)
        if any(t.get("k") == "highway" and t.get("v") == "traffic_signals" for t in el.iter("tag")):
            signals.append(OsmSignal(nid, lon, lat))
    roads, removed, n_ways = [], Counter(), 0
    for el in root.iter("way"):
        n_ways += 1
        tags = {t.get("k", ""): t.get("v", "") for t in el.iter("tag")}
        highway = tags.get("highway")
        if highway is None:
            continue
        if highway not in ROAD_TYPES:
            removed[highway] += 1
            continue
        lonlats = tuple(nodes[nd.get("ref", "")] for nd in el.iter("nd") if nd.get("ref", "") in nodes)
        if len(lonlats) >= 2:  # netconvert discards a way with fewer nodes it knows
            roads.append(OsmRoad(el.get("id", ""), highway, lonlats, _turn_directions(tags),
                                 "sidewalk" in tags or any(k.startswith("sidewalk:") for k in tags)))
    return OsmExtract(path, len(nodes), n_ways, tuple(roads), tuple(signals), tuple(sorted(removed.items())))


def netconvert_command(osm: Path, net: Path, plain_prefix: Path, *, bbox: BBox | None,
                       signals_from_osm: bool) -> list[str]:
    """The netconvert call of an import, every option a decision for a signal-timing study.

    Parameters
    ----------
    osm, net
        The extract read and the network written.
    plain_prefix
        Where netconvert also writes the network as plain XML with geographic coordinates: the junction
        positions match OSM's signal nodes to the signals they became.
    bbox
        Keep only roads within it.
    signals_from_osm
        Signals only where OSM tags them; otherwise netconvert also guesses signals at busy junctions
        (``--tls.guess``), since OSM's signal tagging is often incomplete.
    """
    typemaps = _sumo.sumo_home() / "data" / "typemap"
    cmd = [
        str(_sumo.binary("netconvert")), "--osm-files", str(osm), "--output-file", str(net),
        # urban speeds (50 km/h) where OSM gives no maxspeed: the default typemap's 100 km/h primaries are
        # rural German roads, and speeds drive the clearance times, the guessed signals and sidewalks
        "--type-files", f"{typemaps / 'osmNetconvert.typ.xml'},{typemaps / 'osmNetconvertUrbanDe.typ.xml'}",
        "--keep-edges.by-type", ",".join(f"highway.{t}" for t in ROAD_TYPES), "--remove-edges.isolated",
        # SUMO's recommended OSM options: simpler geometry, real junctions, and signals mapped on the
        # approaches of a junction made one signal at the junction (the rest discarded, not kept as
        # mid-block signals), nearby signals run by one controller
        "--geometry.remove", "--roundabouts.guess", "--ramps.guess",
        "--junctions.join", "--junctions.join-dist", f"{JOIN_DIST_M:g}",
        "--tls.guess-signals", "--tls.guess-signals.dist", f"{GUESS_SIGNALS_DIST_M:g}", "--tls.discard-simple",
        "--tls.join",
        # fixed time, what signalopt retimes; the programme is netconvert's default, not the street's
        "--tls.default-type", "static",
        # turn lanes from OSM's turn:lanes arrows (a left-turn lane connects to the left only); pedestrians on
        # tagged or guessed sidewalks and guessed crossings, so pedestrian minimum greens apply
        "--osm.turn-lanes", "--osm.sidewalks", "--sidewalks.guess", "--crossings.guess",
        # street names name the signals; origId ties each edge to its OSM way
        "--output.street-names", "--output.original-names",
        "--plain-output-prefix", str(plain_prefix), "--proj.plain-geo",
    ]
    if not signals_from_osm:
        cmd.append("--tls.guess")
    if bbox is not None:
        cmd += ["--keep-edges.in-geo-boundary", bbox.option()]
    return cmd


def _run_netconvert(cmd: Sequence[str], *, source: Path) -> tuple[str, ...]:
    """Run netconvert; its warnings (one line each).

    Raises
    ------
    InputError
        netconvert fails: the extract named with netconvert's error line.
    """
    env = _sumo.tool_env()
    proj = _sumo.sumo_home() / "data" / "proj"
    if proj.is_dir():  # the wheel's projection database, which netconvert does not find on its own
        env["PROJ_LIB"] = env["PROJ_DATA"] = str(proj)
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise InputError(source, "netconvert failed", _sumo.failure_reason(proc))
    return tuple(dict.fromkeys(x.strip() for x in (proc.stderr + proc.stdout).splitlines()
                               if x.startswith("Warning")))


@dataclass(frozen=True)
class ImportedApproach:
    """An approach of an imported signal, as the counts template names it.

    ``label`` is what the template's ``approach`` column holds (the compass leg, or the edge id when the
    geometry gives no unambiguous leg); ``turn_lanes`` says where its lane use came from: ``turn:lanes``
    (OSM's arrows) or ``default`` (netconvert's guess).
    """

    label: str
    edge: str
    street: str
    lanes: int
    turn_lanes: str
    movements: tuple[str, ...]


@dataclass(frozen=True)
class ImportedSignal:
    """A signal of the imported network: SUMO's tlLogic id, a readable name, where it came from."""

    id: str
    name: str
    osm_nodes: tuple[str, ...]
    crossings: int
    approaches: tuple[ImportedApproach, ...]

    @property
    def guessed(self) -> bool:
        """No OSM signal node became this signal: netconvert guessed it."""
        return not self.osm_nodes

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "from_osm_nodes": list(self.osm_nodes), "guessed": self.guessed,
                "crossings": self.crossings,
                "approaches": [{"approach": a.label, "edge": a.edge, "street": a.street, "lanes": a.lanes,
                                "turn_lanes": a.turn_lanes, "movements": list(a.movements)} for a in self.approaches]}


@dataclass(frozen=True)
class _Edge:
    name: str
    priority: int
    ways: tuple[str, ...]
    sidewalk: bool


def _read_edges(net: Path) -> dict[str, _Edge]:
    """The network's road edges: street name, priority, the OSM ways they came from, whether they have a sidewalk."""
    out = {}
    for el in parse_xml(net).iter("edge"):
        if el.get("function"):
            continue
        lanes = el.findall("lane")
        ways = {w for lane in lanes for p in lane.iter("param") if p.get("key") == "origId"
                for w in (p.get("value") or "").split()}
        out[el.get("id", "")] = _Edge(_clean(el.get("name", "")), int(el.get("priority", "0")), tuple(sorted(ways)),
                                      any(lane.get("allow") == "pedestrian" for lane in lanes))
    return out


def _tls_positions(plain_nodes: Path) -> dict[str, list[tuple[float, float]]]:
    """(lon, lat) of every junction a signal controls, by signal id (plain nodes written with --proj.plain-geo)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for el in parse_xml(plain_nodes).iter("node"):
        if el.get("tl"):
            out.setdefault(el.get("tl", ""), []).append((float(el.get("x", "nan")), float(el.get("y", "nan"))))
    return out


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Ground distance of two (lon, lat) points [m]; flat-earth, exact enough over a junction."""
    dx = (a[0] - b[0]) * _M_PER_DEG_LON_EQUATOR * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, (a[1] - b[1]) * _M_PER_DEG_LAT)


def _match_signals(signals: Iterable[OsmSignal], positions: dict[str, list[tuple[float, float]]]
                   ) -> dict[str, list[str]]:
    """OSM signal node ids by the signal they became: the nearest within :data:`SIGNAL_MATCH_M`."""
    out: dict[str, list[str]] = {}
    for s in signals:
        best = min(((_distance_m((s.lon, s.lat), p), tls) for tls, ps in positions.items() for p in ps),
                   default=None)
        if best is not None and best[0] <= SIGNAL_MATCH_M:
            out.setdefault(best[1], []).append(s.id)
    return out


def _clean(text: str) -> str:
    """One line of printable text (a street name may hold anything)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _signal_name(signal: Signal, edges: dict[str, _Edge]) -> str:
    """The streets of a signal's approaches, the major road (highest priority, most lanes) first."""
    ranked = sorted(signal.approaches, key=lambda a: (-edges[a.id].priority, -len(a.lanes), edges[a.id].name))
    names = list(dict.fromkeys(edges[a.id].name for a in ranked if edges[a.id].name))
    return " / ".join(names) if names else f"unnamed junction {signal.id}"


def _imported_signal(signal: Signal, name: str, edges: dict[str, _Edge], roads: dict[str, OsmRoad],
                     osm_nodes: Sequence[str]) -> ImportedSignal:
    approaches = []
    for a in signal.approaches:
        edge = edges[a.id]
        # netconvert names the edge against a way's direction "-<way id>..." (ids of new JOSM ways are negative)
        tagged = any(("backward" if a.id.startswith(f"-{w}") else "forward") in roads[w].turn_lanes
                     for w in edge.ways if w in roads)
        found = {_MOVEMENT_OF_DIR[link.direction] for link in signal.links
                 if link.approach == a.id and link.direction in _MOVEMENT_OF_DIR}
        approaches.append(ImportedApproach(a.leg or a.id, a.id, edge.name, len(a.lanes),
                                           "turn:lanes" if tagged else "default",
                                           tuple(m for m in _MOVEMENT_ORDER if m in found)))
    crossings = len({link.approach for link in signal.links if link.is_crossing})
    return ImportedSignal(signal.id, name, tuple(sorted(osm_nodes)), crossings, tuple(approaches))


def _unique_names(names: Sequence[str]) -> list[str]:
    """Names made unique by a running number (two signals of one pair of streets, e.g. a divided road)."""
    seen: Counter[str] = Counter()
    total = Counter(names)
    out = []
    for n in names:
        seen[n] += 1
        out.append(f"{n} ({seen[n]})" if total[n] > 1 else n)
    return out


@dataclass(frozen=True)
class ImportReport:
    """What ``signalopt import osm`` read, guessed, dropped and wrote; :meth:`text` and :meth:`to_dict`."""

    source: Path
    source_sha256: str
    created: str
    network: Path
    scenario: Path
    counts: Path
    counts_rows: int
    signals: tuple[ImportedSignal, ...]
    bbox: BBox | None
    signals_from_osm: bool
    window_s: tuple[float, float]
    n_nodes: int
    n_ways: int
    roads_by_type: tuple[tuple[str, int], ...]
    n_osm_signals: int
    removed_types: tuple[tuple[str, int], ...]
    roads_outside_bbox: int
    signals_outside_bbox: int
    #: road ways inside the crop that netconvert left out of the network (isolated, duplicates)
    roads_dropped: tuple[str, ...]
    #: OSM signal nodes inside the crop that became no signal (not at a junction netconvert kept)
    signals_discarded: tuple[str, ...]
    road_edges: int
    sidewalk_edges: int
    sidewalk_edges_tagged: int
    netconvert: tuple[str, ...]
    warnings: tuple[str, ...]
    #: with ``--utdf``: the UTDF import that wrote the scenario, the counts and the existing plans
    utdf: UtdfImportReport | None = None

    @property
    def guessed(self) -> tuple[ImportedSignal, ...]:
        """Signals netconvert guessed (no OSM signal node became them)."""
        return tuple(s for s in self.signals if s.guessed)

    @property
    def joined(self) -> tuple[ImportedSignal, ...]:
        """Signals netconvert made of several OSM signal nodes."""
        return tuple(s for s in self.signals if len(s.osm_nodes) > 1)

    @property
    def crossings(self) -> int:
        """Crossings at the signals (all guessed by netconvert)."""
        return sum(s.crossings for s in self.signals)

    @property
    def turn_lanes_tagged(self) -> int:
        """Approaches whose lane use comes from OSM's turn:lanes (the others are netconvert's default)."""
        return sum(a.turn_lanes == "turn:lanes" for s in self.signals for a in s.approaches)

    @property
    def n_approaches(self) -> int:
        return sum(len(s.approaches) for s in self.signals)

    def to_dict(self) -> dict[str, Any]:
        return {
            "signalopt": __version__, "created": self.created, "source": str(self.source),
            "source_sha256": self.source_sha256,
            "files": {"network": str(self.network), "scenario": str(self.scenario), "counts": str(self.counts)},
            "options": {"bbox": self.bbox.option() if self.bbox else None, "signals_from_osm": self.signals_from_osm,
                        "window": f"{clock_text(self.window_s[0])}-{clock_text(self.window_s[1])}"},
            "read": {"nodes": self.n_nodes, "ways": self.n_ways, "roads_by_type": dict(self.roads_by_type),
                     "signal_nodes": self.n_osm_signals},
            "guessed": {"signals": [s.id for s in self.guessed], "road_edges": self.road_edges,
                        "sidewalk_edges": self.sidewalk_edges - self.sidewalk_edges_tagged,
                        "sidewalk_edges_on_tagged_ways": self.sidewalk_edges_tagged, "crossings": self.crossings,
                        "approaches_turn_lanes_from_tags": self.turn_lanes_tagged,
                        "approaches_turn_lanes_default": self.n_approaches - self.turn_lanes_tagged},
            "dropped": {"roads_outside_bbox": self.roads_outside_bbox,
                        "signal_nodes_outside_bbox": self.signals_outside_bbox,
                        "road_types_removed": dict(self.removed_types),
                        "roads_left_out_by_netconvert": list(self.roads_dropped),
                        "signal_nodes_discarded": list(self.signals_discarded),
                        "signal_nodes_joined": {s.id: list(s.osm_nodes) for s in self.joined}},
            "signals": [s.to_dict() for s in self.signals],
            "counts_rows": self.counts_rows,
            "existing_plans": ("the UTDF file's plans" if self.utdf else
                               "netconvert's default programmes, not the timing on the street"),
            "netconvert": list(self.netconvert), "netconvert_warnings": list(self.warnings),
            **({"utdf": self.utdf.to_dict()} if self.utdf else {}),
        }

    def text(self) -> str:
        """The report for a terminal and ``import_report.txt``."""
        def listed(ids: Sequence[str]) -> str:
            return f" ({', '.join(ids)})" if ids else ""

        crop = f"the crop (bbox {self.bbox.option()})" if self.bbox else "the crop (no bbox)"
        joined = [f"OSM signal nodes {', '.join(s.osm_nodes)} joined into signal {s.id}" for s in self.joined]
        lines = [
            f"signalopt import osm: {self.source} -> {self.network}",
            f"read:    {_count(self.n_nodes, 'node')}, {_count(self.n_ways, 'way')}, "
            f"{_count(sum(n for _, n in self.roads_by_type), 'road')} "
            f"({', '.join(f'{k} {v}' for k, v in self.roads_by_type)}), "
            f"{_count(self.n_osm_signals, 'node')} tagged highway=traffic_signals",
            f"guessed: {_count(len(self.guessed), 'signal')} by netconvert{listed([s.id for s in self.guessed])}"
            f"{' (guessing off: --signals-from-osm)' if self.signals_from_osm else ''}; sidewalks on "
            f"{self.sidewalk_edges} of {_count(self.road_edges, 'road edge')} ({self.sidewalk_edges_tagged} on ways "
            f"tagged sidewalk=*, the rest guessed); {_count(self.crossings, 'crossing')} at the signals, all "
            f"guessed; turn lanes of {self.turn_lanes_tagged} of {_count(self.n_approaches, 'approach', 'approaches')} "
            f"from turn:lanes, the rest netconvert's default",
            f"dropped: {_count(self.roads_outside_bbox, 'road')} and {_count(self.signals_outside_bbox, 'signal node')} "
            f"outside {crop}; road types removed: "
            f"{', '.join(f'{k} {v}' for k, v in self.removed_types) or 'none'}; "
            f"{_count(len(self.roads_dropped), 'road')} left out by netconvert{listed(self.roads_dropped)}; "
            f"{_count(len(self.signals_discarded), 'signal node')} not at a junction, discarded"
            f"{listed(self.signals_discarded)}; {'; '.join(joined) or 'no signal nodes joined'}",
            f"signals ({len(self.signals)}):",
        ]
        for s in self.signals:
            origin = ("guessed by netconvert" if s.guessed
                      else f"OSM {'nodes' if len(s.osm_nodes) > 1 else 'node'} {', '.join(s.osm_nodes)}")
            lines.append(f"  {s.id}: {s.name} ({origin}; {_count(s.crossings, 'crossing')})")
            for a in s.approaches:
                lanes = "from turn:lanes" if a.turn_lanes == "turn:lanes" else "by default"
                lines.append(f"    {a.label:<3} {a.street or a.edge}: {_count(a.lanes, 'lane')}, turn lanes {lanes}; "
                             f"movements {' '.join(a.movements) or 'none'}")
        netconvert = f"netconvert: {_count(len(self.warnings), 'warning')} (listed in import_report.json)"
        if self.utdf is not None:  # the UTDF import wrote the scenario, the counts and the plans: its report goes on
            return "\n".join([*lines, netconvert, self.utdf.text()])
        lines += [
            f"existing plans: netconvert's default programmes, not the timing on the street; add the real timing "
            f"as plans = \"FILE.json\" to {self.scenario.name} before comparing with it",
            netconvert,
            f"next: fill in the vehicles column of {self.counts} ({_count(self.counts_rows, 'row')}, 15-minute "
            f"counts), then: signalopt run {self.scenario}",
        ]
        return "\n".join(lines)


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def scenario_name(path: Path) -> str:
    """The extract's file name without its suffixes, in the letters a scenario name may hold."""
    stem = path.name
    for suffix in (".gz", ".xml", ".osm"):
        stem = stem.removesuffix(suffix)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.")[:80] or "osm"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scenario_toml(name: str, source: Path, signals: Sequence[ImportedSignal], net: Path, counts: Path,
                   window_s: tuple[float, float]) -> str:
    begin_s, end_s = window_s
    description = (f"Imported from OpenStreetMap ({source.name}) by signalopt import osm: "
                   + "; ".join(f"{s.id} = {s.name}" for s in signals)
                   + ". The existing plans are netconvert's default programmes, not the timing on the street.")
    lines = [
        f"# Written by signalopt import osm {__version__} from {_clean(str(source))}.",
        "# Signals (SUMO tlLogic id = the streets that meet there):",
        *(f"#   {s.id} = {s.name}{' (guessed by netconvert)' if s.guessed else ''}" for s in signals),
        f"# Fill in the vehicles column of {counts.name} (15-minute counts), then: signalopt run {name}.toml",
        "# The existing timing is netconvert's default programme: add plans = \"FILE.json\" with the real one.",
        "schema_version = 1",
        f"name = {_toml_string(name)}",
        f"description = {_toml_string(_clean(description))}",
        f"network = {_toml_string(net.name)}",
        f"begin_s = {begin_s:g}",
        f"end_s = {end_s:g}",
        f"warmup_s = {WARMUP_S:g}",
        "",
        "[demand]",
        f"counts = {_toml_string(counts.name)}",
        f"interval_s = {INTERVAL_S:g}",
    ]
    return "\n".join(lines) + "\n"


def _counts_template(signals: Sequence[ImportedSignal], window_s: tuple[float, float]) -> list[str]:
    """Rows of the counts CSV (header first): every movement of every signal per interval, vehicles blank."""
    begin_s, end_s = window_s
    rows = ["interval,intersection,approach,movement,vehicles"]
    for k in range(round((end_s - begin_s) / INTERVAL_S)):
        t = clock_text(begin_s + k * INTERVAL_S)
        rows += [f"{t},{s.id},{a.label},{m}," for s in signals for a in s.approaches for m in a.movements]
    return rows


@dataclass(frozen=True)
class _Built:
    """What netconvert made of the extract: the network, its road edges, the OSM signal nodes each signal came
    from, the command and its warnings."""

    network: Network
    edges: dict[str, _Edge]
    matched: dict[str, list[str]]
    net_bytes: bytes
    cmd: tuple[str, ...]
    warnings: tuple[str, ...]


def _build(source: Path, name: str, signals_in: Sequence[OsmSignal], *, bbox: BBox | None,
           signals_from_osm: bool) -> _Built:
    with tempfile.TemporaryDirectory(prefix="signalopt-osm.") as tmp:
        built = Path(tmp) / f"{name}.net.xml"
        cmd = netconvert_command(source, built, Path(tmp) / "plain", bbox=bbox, signals_from_osm=signals_from_osm)
        warnings = _run_netconvert(cmd, source=source)
        matched = _match_signals(signals_in, _tls_positions(Path(tmp) / "plain.nod.xml"))
        return _Built(read_network(built), _read_edges(built), matched, built.read_bytes(), tuple(cmd), warnings)


def import_osm(path: str | Path, out_dir: str | Path, *, bbox: BBox | None = None, signals_from_osm: bool = False,
               window_s: tuple[float, float] = DEFAULT_WINDOW_S, utdf: str | Path | None = None,
               utdf_map: str | Path | None = None, utdf_time_s: float | None = None) -> ImportReport:
    """Build a scenario from an OpenStreetMap XML extract (see the module docstring for what is written).

    Parameters
    ----------
    path
        The OSM XML extract (``.osm``; gzipped too).
    out_dir
        The folder to write into (made if missing); it must not hold an import of the same name already,
        since a filled-in counts file would be lost.
    bbox
        Keep only roads within this box.
    signals_from_osm
        Signals only where OSM tags ``highway=traffic_signals``; otherwise netconvert also guesses signals.
    window_s
        The counted period (begin, end) [s of the day]: the scenario's window and the template's intervals.
    utdf, utdf_map, utdf_time_s
        A Synchro UTDF file to import onto the network built, with its map file and volume set
        (:func:`signalopt.importers.utdf.import_utdf`): its plans become the existing timing and its volumes the
        counts (the template without ``[Volumes]``), and its report follows this one.

    Returns
    -------
    ImportReport
        What was read, guessed, dropped and written (also written as ``import_report.txt`` and ``.json``).

    Raises
    ------
    InputError
        The extract is missing, not OSM XML, has no roads (within the bbox) or no signals in the network
        built; netconvert fails; the UTDF file does not map (:func:`signalopt.importers.utdf.read_utdf_import`);
        or the folder already holds this import. Nothing is written then.
    """
    extract = read_osm(path)
    source = extract.path
    inside = [r for r in extract.roads if r.touches(bbox)]
    if not inside:
        raise InputError(source, f"no roads to import{' inside the bbox' if bbox else ''}: no way tagged "
                                 f"highway={', '.join(ROAD_TYPES[:5])}, ..., {ROAD_TYPES[-1]}",
                         f"{len(extract.roads)} roads in the extract" if bbox else f"{extract.n_ways} ways")
    name = scenario_name(source)
    out = Path(out_dir)
    files = _Files(out / f"{name}.net.xml", out / f"{name}.toml", out / f"{name}_vehicles.csv",
                   out / "import_report.txt", out / "import_report.json")
    utdf_files = UtdfFiles.in_folder(out, name).all() if utdf is not None else ()
    there = [p.name for p in dict.fromkeys((*files.all(), *utdf_files)) if p.exists()]
    if there:
        raise InputError(out, "already holds an import (a filled-in counts file would be lost): give another "
                              "--out or remove them", ", ".join(there))
    signals_in = [s for s in extract.signals if bbox is None or bbox.contains(s.lon, s.lat)]
    built = _build(source, name, signals_in, bbox=bbox, signals_from_osm=signals_from_osm)
    if not built.network.signals:
        raise _no_signals(source, len(signals_in), signals_from_osm=signals_from_osm)
    roads = {r.id: r for r in extract.roads}
    names = _unique_names([_signal_name(s, built.edges) for s in built.network.signals])
    signals = tuple(_imported_signal(s, n, built.edges, roads, built.matched.get(s.id, ()))
                    for s, n in zip(built.network.signals, names))
    rows = _counts_template(signals, window_s)
    in_net = {w for e in built.edges.values() for w in e.ways}
    became = {n for ids in built.matched.values() for n in ids}
    tagged_ways = {r.id for r in extract.roads if r.sidewalk_tagged}
    report = ImportReport(
        source=source, source_sha256=hashlib.sha256(source.read_bytes()).hexdigest(), created=utc_timestamp(),
        network=files.network, scenario=files.scenario, counts=files.counts, counts_rows=len(rows) - 1,
        signals=signals, bbox=bbox, signals_from_osm=signals_from_osm, window_s=window_s,
        n_nodes=extract.n_nodes, n_ways=extract.n_ways,
        roads_by_type=tuple(sorted(Counter(r.highway for r in extract.roads).items())),
        n_osm_signals=len(extract.signals), removed_types=extract.removed_types,
        roads_outside_bbox=len(extract.roads) - len(inside), signals_outside_bbox=len(extract.signals) - len(signals_in),
        roads_dropped=tuple(r.id for r in inside if r.id not in in_net),
        signals_discarded=tuple(s.id for s in signals_in if s.id not in became),
        road_edges=len(built.edges), sidewalk_edges=sum(e.sidewalk for e in built.edges.values()),
        sidewalk_edges_tagged=sum(e.sidewalk and bool(set(e.ways) & tagged_ways) for e in built.edges.values()),
        netconvert=built.cmd, warnings=built.warnings)
    imported = _utdf_onto(built, name, utdf, utdf_map, utdf_time_s, window_s) if utdf is not None else None
    atomic_write_bytes(files.network, built.net_bytes)
    if imported is None:
        atomic_write_text(files.counts, "\n".join(rows) + "\n")
        atomic_write_text(files.scenario,
                          _scenario_toml(name, source, signals, files.network, files.counts, window_s))
    else:
        report = replace(report, counts_rows=len(imported.counts), utdf=write_utdf_import(
            imported, out, name=name, network=files.network, map_path=utdf_map, time_s=utdf_time_s))
    atomic_write_text(files.report_json, json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(files.report_txt, report.text() + "\n")
    return report


def _utdf_onto(built: _Built, name: str, utdf: str | Path, map_path: str | Path | None, time_s: float | None,
               window_s: tuple[float, float]) -> UtdfImport:
    """The UTDF file mapped onto the network built, read from a scratch copy: nothing is written before it maps."""
    with tempfile.TemporaryDirectory(prefix="signalopt-osm.") as tmp:
        net = Path(tmp) / f"{name}.net.xml"
        net.write_bytes(built.net_bytes)
        return read_utdf_import(utdf, net, map_path=map_path, time_s=time_s, template_window_s=window_s)


@dataclass(frozen=True)
class _Files:
    """The files an import writes."""

    network: Path
    scenario: Path
    counts: Path
    report_txt: Path
    report_json: Path

    def all(self) -> tuple[Path, ...]:
        return (self.network, self.scenario, self.counts, self.report_txt, self.report_json)


def _no_signals(source: Path, n_tagged: int, *, signals_from_osm: bool) -> InputError:
    tagged = f"{n_tagged} nodes tagged highway=traffic_signals"
    if n_tagged and signals_from_osm:
        return InputError(source, "no traffic signals in the network: no signal node is at a junction netconvert "
                                  "kept", tagged)
    guessing = "guessing is off (--signals-from-osm)" if signals_from_osm else "netconvert guessed none"
    return InputError(source, f"no traffic signals in the network: {guessing}", tagged)