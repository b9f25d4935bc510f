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

Checks (one-line :class:`~signalopt.errors.InputError` naming file, line and
value): a count must be finite and non-negative, and a row must not repeat
an earlier row's key (interval, intersection, approach and movement; for
pedestrians interval, intersection and crossing) -- repeated rows used to be
summed silently.  Given the scenario's window and ``interval_s`` (the
readers' keyword arguments, :func:`check_counts`, :func:`check_ped_counts`),
every interval must also lie wholly inside ``[begin_s, end_s)``, start a
whole number of ``interval_s`` after ``begin_s`` (the grid routeSampler's
``-b``/``-e`` and the written ``<interval>`` elements tile), and stand for an
hourly flow ``count * 3600 / interval_s`` no higher than
:data:`MAX_VEH_H_PER_MOVEMENT` or :data:`MAX_PED_H_PER_CROSSING`.
"""

from __future__ import annotations

import csv
import io
import math
import subprocess
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import _sumo
from ._xml import atomic_write_text, xml_escape
from ._clock import _TIME_TOL_S, clock_text, parse_time_s
from .errors import InputError, SimulationError
from .network import Approach, Link, Network, lane_edge

MOVEMENT_DIRS = {"T": frozenset("s"), "L": frozenset("lL"), "R": frozenset("rR"), "U": frozenset("t")}
_VEH_COLUMNS = ("interval", "intersection", "approach", "movement", "vehicles")
_PED_COLUMNS = ("interval", "intersection", "crossing", "pedestrians")

#: Highest believable hourly flow of one counted vehicle movement [veh/h]: about
#: five lanes at a saturation flow of ~2000 veh/h/lane (HCM base 1900 pc/h/ln),
#: more than any single turn or through movement can carry. A higher count is a
#: typo or a unit slip (e.g. vehicles per day), and routeSampler never finishes
#: trying to match it.
MAX_VEH_H_PER_MOVEMENT = 10_000.0
#: Highest believable hourly flow over one crosswalk, both directions [ped/h]:
#: walkway capacity is about 75 ped/min per metre of width (HCM), so 20000 ped/h
#: is a ~4.5 m crosswalk at capacity for the whole hour, green or not.
MAX_PED_H_PER_CROSSING = 20_000.0


@dataclass(frozen=True)
class TurnCount:
    """Vehicles counted in one interval on one movement."""

    begin_s: float
    signal_id: str
    approach: str
    movement: str
    vehicles: float
    #: CSV line the count came from (0: not read from a file); for error messages only,
    #: so it takes no part in equality.
    line: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class PedCount:
    """Pedestrians counted in one interval on one crossing (both directions)."""

    begin_s: float
    signal_id: str
    crossing: str
    pedestrians: float
    #: CSV line the count came from (0: not read from a file); for error messages only.
    line: int = field(default=0, compare=False, repr=False)


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
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:  # DictReader would keep the last of them silently
        raise InputError(path, "line 1: a column name appears twice", ", ".join(repeated))
    rows = []
    for row in reader:
        line = reader.line_num
        if None in row:  # more fields than columns: "1,234" unquoted would read as 1
            raise InputError(path, f"line {line}: more fields than the {len(header)} columns",
                             ",".join(str(v) for v in row[None]))
        if any(v is None for v in row.values()):
            raise InputError(path, f"line {line}: fewer fields than the {len(header)} columns",
                             ",".join(v for v in row.values() if v is not None))
        rows.append((line, {k.strip(): v.strip() for k, v in row.items()}))
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


def _at(line: int) -> str:
    """Message prefix naming the CSV line; counts built in code (line 0) have none."""
    return f"line {line}: " if line > 0 else ""


def _refuse_repeats(source: Path, rows: Sequence[tuple[int, tuple, str]], what: str) -> None:
    """Refuse a row whose key an earlier row already had: summing them would hide a copy-paste slip."""
    first: dict[tuple, int] = {}
    for line, key, value in rows:
        if key in first:
            earlier = f"line {first[key]}" if first[key] > 0 else "an earlier count"
            raise InputError(source, f"{_at(line)}repeats {earlier} (same {what}); counts are not summed", value)
        first[key] = line


def _window(begin_s: float | None, end_s: float | None, interval_s: float | None) -> tuple[float, float, float] | None:
    """The scenario window if given: all three or none, since a partial window is a caller's bug."""
    if begin_s is None and end_s is None and interval_s is None:
        return None
    if begin_s is None or end_s is None or interval_s is None:
        raise TypeError("begin_s, end_s and interval_s go together")
    return float(begin_s), float(end_s), float(interval_s)


def _check_window(source: Path, rows: Sequence[tuple[int, float, str, str, float]], *, kind: str, unit: str,
                  per: str, ceiling: float, begin_s: float, end_s: float, interval_s: float) -> None:
    """Window, grid and ceiling checks of ``(line, begin_s, signal id, movement or crossing, count)`` rows.

    The ceiling goes last, over all rows: with an ``interval_s`` that does not
    fit the counts (7 s against 15-minute counts) the grid error says what is
    wrong, where an absurd hourly flow on the first row would only puzzle.
    """
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise InputError(source, "interval_s must be a positive number of seconds", interval_s)
    for line, t, sid, _, _ in rows:
        if t < begin_s - _TIME_TOL_S or t + interval_s > end_s + _TIME_TOL_S:
            raise InputError(source, f"{_at(line)}count interval {clock_text(t)} outside the scenario window "
                                     f"[{begin_s:g}, {end_s:g}) s at {sid}", f"{t:g}")
        steps = (t - begin_s) / interval_s
        if abs(steps - round(steps)) * interval_s > _TIME_TOL_S:
            raise InputError(source, f"{_at(line)}interval {clock_text(t)} is not on the interval_s = {interval_s:g} s "
                                     f"grid from the scenario begin {clock_text(begin_s)}", f"{t:g} s")
    for line, _, sid, what, n in rows:
        flow = n * 3600.0 / interval_s
        if flow > ceiling:
            raise InputError(source, f"{_at(line)}{kind} at {sid} {what} is {flow:.4g} {unit} counted in a "
                                     f"{interval_s:g} s interval, above the ceiling of {ceiling:g} {unit} "
                                     f"for one {per}", f"{n:g}")
    if kind != "vehicles":
        return  # a quarter without pedestrian rows simulates as zeros written out: nothing is lost or invented
    counted = {round((t - begin_s) / interval_s) for _, t, _, _, _ in rows}
    gaps = [begin_s + k * interval_s for k in range(int((end_s - begin_s + _TIME_TOL_S) // interval_s))
            if k not in counted]
    if gaps:
        # a whole interval without a row would be simulated as an interval without any traffic
        raise InputError(source, f"no {kind} counted in an interval of the scenario window (give zeros "
                                 f"explicitly, or set [demand] interval_s to the counts' interval, now "
                                 f"{interval_s:g} s)", ", ".join(clock_text(t) for t in gaps[:4]) + (" ..." if gaps[4:] else ""))


def read_turn_counts(path: str | Path, *, begin_s: float | None = None, end_s: float | None = None,
                     interval_s: float | None = None) -> list[TurnCount]:
    """Read a turning-movement counts CSV (see module docstring).

    Parameters
    ----------
    path
        The counts CSV.
    begin_s, end_s, interval_s
        The scenario's window [s of the day] and counting interval [s]; all
        three or none. Given, every row must fit the window and its grid, and
        stay under :data:`MAX_VEH_H_PER_MOVEMENT` (as :func:`check_counts`).

    Returns
    -------
    list of TurnCount
        One per row, in file order, each with its CSV line.

    Raises
    ------
    InputError
        A bad row (time, movement code, count), a row repeating an earlier
        one, or, given the window, a row outside it, off its grid or above the
        ceiling.
    """
    path = Path(path)
    out = []
    for line, row in _read_rows(path, _VEH_COLUMNS):
        movement = row["movement"].upper()
        if movement not in MOVEMENT_DIRS:
            raise InputError(path, f"line {line}: movement must be one of L T R U", repr(row["movement"]))
        out.append(TurnCount(_time(path, line, row["interval"]), row["intersection"], row["approach"], movement,
                             _count(path, line, "vehicles", row["vehicles"]), line))
    _refuse_repeats(path, [(c.line, (c.begin_s, c.signal_id, c.approach, c.movement),
                            f"{clock_text(c.begin_s)} {c.signal_id} {c.approach} {c.movement}: {c.vehicles:g} vehicles")
                           for c in out], "interval, intersection, approach and movement")
    window = _window(begin_s, end_s, interval_s)
    if window is not None:
        _check_vehicle_window(path, out, *window)
    return out


def read_ped_counts(path: str | Path, *, begin_s: float | None = None, end_s: float | None = None,
                    interval_s: float | None = None) -> list[PedCount]:
    """Read a pedestrian counts CSV (see module docstring).

    Parameters
    ----------
    path
        The pedestrian counts CSV.
    begin_s, end_s, interval_s
        The scenario's window [s of the day] and counting interval [s]; all
        three or none. Given, every row must fit the window and its grid, and
        stay under :data:`MAX_PED_H_PER_CROSSING` (as :func:`check_ped_counts`).

    Returns
    -------
    list of PedCount
        One per row, in file order, each with its CSV line.

    Raises
    ------
    InputError
        A bad row (time, count), a row repeating an earlier one, or, given the
        window, a row outside it, off its grid or above the ceiling.
    """
    path = Path(path)
    out = [PedCount(_time(path, line, row["interval"]), row["intersection"], row["crossing"],
                    _count(path, line, "pedestrians", row["pedestrians"]), line)
           for line, row in _read_rows(path, _PED_COLUMNS)]
    _refuse_repeats(path, [(p.line, (p.begin_s, p.signal_id, p.crossing),
                            f"{clock_text(p.begin_s)} {p.signal_id} {p.crossing}: {p.pedestrians:g} pedestrians")
                           for p in out], "interval, intersection and crossing")
    window = _window(begin_s, end_s, interval_s)
    if window is not None:
        check_ped_counts(out, source=path, begin_s=window[0], end_s=window[1], interval_s=window[2])
    return out


def _check_vehicle_window(source: Path, counts: Sequence[TurnCount], begin_s: float, end_s: float,
                          interval_s: float) -> None:
    """Window, grid and ceiling checks of turning-movement counts (see :func:`check_counts`)."""
    _check_window(source, [(c.line, c.begin_s, c.signal_id, f"{c.approach} {c.movement}", c.vehicles)
                           for c in counts], kind="vehicles", unit="veh/h", per="movement",
                  ceiling=MAX_VEH_H_PER_MOVEMENT, begin_s=begin_s, end_s=end_s, interval_s=interval_s)


def check_ped_counts(peds: Sequence[PedCount], *, source: Path, begin_s: float, end_s: float,
                     interval_s: float) -> None:
    """Every pedestrian count inside the run's window, on its interval grid, and believable.

    Parameters
    ----------
    peds
        Pedestrian counts (:func:`read_ped_counts`).
    source
        The CSV they came from, for error messages.
    begin_s, end_s
        The scenario's window [s of the day].
    interval_s
        The scenario's counting interval [s].

    Raises
    ------
    InputError
        A count interval not wholly inside ``[begin_s, end_s)``, not a whole
        number of ``interval_s`` after ``begin_s``, or an hourly flow above
        :data:`MAX_PED_H_PER_CROSSING`.
    """
    _check_window(Path(source), [(p.line, p.begin_s, p.signal_id, f"crossing {p.crossing}", p.pedestrians)
                                 for p in peds], kind="pedestrians", unit="ped/h", per="crossing",
                  ceiling=MAX_PED_H_PER_CROSSING, begin_s=begin_s, end_s=end_s, interval_s=interval_s)


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
    """Every count names a real movement, once, in an interval on the run's grid, at a believable flow.

    Parameters
    ----------
    network
        The scenario's network.
    counts
        Turning-movement counts (:func:`read_turn_counts`).
    source
        The CSV they came from, for error messages.
    begin_s, end_s
        The scenario's window [s of the day].
    interval_s
        The scenario's counting interval [s].

    Raises
    ------
    InputError
        A movement the network lacks; two rows for one movement and interval
        (also when one names the approach by leg and the other by edge id:
        routeSampler would get their sum); an interval not wholly inside
        ``[begin_s, end_s)`` or off the ``interval_s`` grid from ``begin_s``;
        an hourly flow above :data:`MAX_VEH_H_PER_MOVEMENT`.
    """
    source = Path(source)
    keyed = []
    for c in counts:
        frm, _ = movement_edges(network, c, source=source)
        keyed.append((c.line, (c.begin_s, c.signal_id, frm, c.movement),
                      f"{clock_text(c.begin_s)} {c.signal_id} {c.approach} {c.movement}: {c.vehicles:g} vehicles"))
    _refuse_repeats(source, keyed, "interval, intersection, approach and movement")
    _check_vehicle_window(source, counts, begin_s, end_s, interval_s)


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
    edges = [e for e in net.getEdges(withInternal=False) if e.allows("passenger")]

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
        raise SimulationError(f"routeSampler failed for {turn_file}: {_sumo.failure_reason(proc)}")
    return out


def _ped_crossing(network: Network, p: PedCount, source: Path) -> tuple[Approach, Link]:
    """(approach, crossing link) a pedestrian count names, by leg or edge id; an error when there is none."""
    signal = network.signal(p.signal_id, source=source)
    approach = next((a for a in signal.approaches if p.crossing in (a.leg, a.id)), None)
    crossing = None
    if approach is not None:
        crossing = next((l for l in signal.links if l.is_crossing and approach.id in l.crosses), None)
    if approach is None or crossing is None:
        raise InputError(source, f"no signalised crossing at {p.signal_id} on leg", p.crossing)
    return approach, crossing


def write_pedestrian_flows(network: Network, peds: list[PedCount], path: Path, *, source: Path,
                           interval_s: float) -> Path:
    """Poisson person flows across each counted crossing, half in each direction.

    Raises
    ------
    InputError
        A crossing the network lacks, or two counts for one crossing and
        interval (also when one names it by leg and the other by edge id:
        both flows would run, summing them).
    """
    # in file order, before sorting, so the message names the earlier line as the one repeated
    _refuse_repeats(Path(source), [(p.line, (p.begin_s, p.signal_id, _ped_crossing(network, p, source)[0].id),
                                    f"{clock_text(p.begin_s)} {p.signal_id} {p.crossing}: {p.pedestrians:g} pedestrians")
                                   for p in peds], "interval, intersection and crossing")
    lines = ["<routes>"]
    for k, p in enumerate(sorted(peds, key=lambda p: (p.begin_s, p.signal_id, p.crossing))):
        approach, crossing = _ped_crossing(network, p, source)
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
