"""Detector counts in: per-detector counts and a detector map become signalopt's 15-minute movement counts.

Detector map CSV (one row per detector channel; the event-log importer reads the same file)::

    SignalID,channel,intersection,approach,movement,lane
    1001,5,center,N,TR,n2center_0

``SignalID`` and ``channel`` name the detector as the controller does; ``intersection``, ``approach``
and ``movement`` are what signalopt's counts CSV names (a SUMO signal id, the leg ``N E S W`` or the
incoming edge id, the movements ``L T R U`` the detector counts: one letter for a lane that serves
one movement, several for a shared lane, ``-`` for a channel that is not a count detector, such as
an advance loop); ``lane`` is the SUMO lane id of the detector (or its index on the approach edge,
0 the rightmost).  An empty ``movement`` is read from the network: the movements the lane serves.

Detector counts CSV (one row per detector and interval)::

    SignalID,channel,interval,count
    1001,5,07:15,38

From lanes to movements: a detector on a lane that serves one movement counts that movement.  A
shared lane (a through-right lane) counts several, and a stop-bar detector cannot tell them apart:
its count is shared evenly among the movements it serves, and the import report lists every such
split as guessed.  Other splits were measured on the bundled isolated junction against SUMO's own
counts (``benchmarks/event_logs.py``) and did worse: routeSampler's match of the exact counts and
the approach totals (its ``--edgedata-files``) spreads the approach's open total evenly over its
routes, so the right turn got half of the through-and-right total (about twice the truth); giving
each movement with lanes of its own as much on the shared lane as on its own lanes (equal lane use)
left the right turn near zero, since through drivers avoid a lane right-turners slow down.  The
counts still reach SUMO through routeSampler, as every scenario's do: the exact movement counts
constrain it as before, and only the split of a shared lane is this guess.

A movement is written only when every lane that serves it has a working detector in that interval
(and every lane it shares): a count from some of its lanes would look like a quiet interval.  The
rows left out are listed in the report, never written as zero; signalopt then leaves the movement
unconstrained in that interval (routeSampler matches the counts it has).

Detector failures found in counts: a run of zero intervals at least :data:`SILENT_MIN_S` long where
the detector's own rate elsewhere would give at least :data:`SILENT_EXPECTED` vehicles and the other
detectors of its approach (else of its signal) counted at least as many (not a lull), and an interval
whose count means more than :data:`CHATTER_VEH_H` on one lane (chattering).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from .._alloc import round_preserving_sum
from .._clock import clock_text, parse_time_s
from .._xml import atomic_write_text
from ..demand import TurnCount
from ..errors import InputError
from ..eventlog_writer import DETECTOR_COLUMNS, lane_movements
from ..network import Network, Signal, lane_edge, read_network

#: Columns of the detector counts CSV.
COUNT_COLUMNS = ("SignalID", "channel", "interval", "count")
#: Movement of a channel that counts nothing (an advance or a presence-only detector).
NOT_COUNTED = "-"
#: Shortest silence that can be a failure [s]: one counting interval.  Shorter outages cost less than a
#: count's own noise, and a stretch this long is already an interval that must not be written as zero.
SILENT_MIN_S = 900.0
#: Vehicles the detector's own rate must promise in a silent stretch for it to be a failure, and the
#: other detectors of the approach must count in it [veh]: the Poisson chance of 0 when 10 are
#: expected is e^-10, about 5e-5.
SILENT_EXPECTED = 10.0
#: Highest believable count rate on one lane [veh/h]: a vehicle every second for a whole interval, far
#: above a lane's ~1900 veh/h saturation flow (HCM).  More is a detector chattering.
CHATTER_VEH_H = 3600.0
#: Counting interval of the movement counts written [s].
INTERVAL_S = 900.0
#: Files the importers write in their output folder.
COUNTS_FILE = "counts.csv"
REPORT_TEXT = "import_report.txt"
REPORT_JSON = "import_report.json"
SCENARIO_FILE = "scenario.toml"


@dataclass(frozen=True)
class Detector:
    """One row of a detector map: a controller's detector channel and the lane and movements it counts.

    ``approach`` is as written in the map (a leg or an edge id), ``edge`` the approach's edge;
    ``movements`` the letters it counts (empty for a channel that is not a count detector).
    """

    signal: str
    channel: int
    intersection: str
    approach: str
    edge: str
    movements: str
    lane: str
    line: int = field(default=0, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        return self.signal, self.channel

    @property
    def label(self) -> str:
        return f"{self.signal} channel {self.channel} ({self.intersection} {self.approach} {self.lane})"


@dataclass(frozen=True)
class DetectorFailure:
    """A stretch in which a detector's data cannot be trusted: ``kind`` is ``silent`` (no actuation while it
    should have counted), ``stuck_on`` (an on without an off) or ``chatter`` (more actuations than a lane
    passes); times in seconds of the day; ``rate_veh_h`` the detector's own count rate elsewhere [veh/h]
    (0 for chatter), which says how much of an interval the stretch must cover to hide a vehicle.
    """

    signal: str
    channel: int
    kind: str
    begin_s: float
    end_s: float
    detail: str
    rate_veh_h: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"SignalID": self.signal, "channel": self.channel, "kind": self.kind, "begin_s": self.begin_s,
                "end_s": self.end_s, "begin": clock_text(round(self.begin_s)), "end": clock_text(round(self.end_s)),
                "detail": self.detail, "rate_veh_h": round(self.rate_veh_h, 1)}

    def spoils(self, begin_s: float, end_s: float) -> bool:
        """Whether the count of ``[begin_s, end_s)`` cannot be trusted: a chattering interval, or a silent or
        stuck stretch covering enough of it that the detector's own rate puts a vehicle in the part covered
        (a stretch begins at the last actuation before it, so the interval that actuation falls in is
        not lost for the seconds after it)."""
        covered = min(end_s, self.end_s) - max(begin_s, self.begin_s)
        if covered <= 0:
            return False
        return self.kind == "chatter" or covered * self.rate_veh_h / 3600.0 >= 1.0

    def text(self) -> str:
        return (f"{self.signal} channel {self.channel}: {self.kind.replace('_', ' ')} "
                f"{clock_text(round(self.begin_s))}-{clock_text(round(self.end_s))} ({self.detail})")


@dataclass(frozen=True)
class ImportReport:
    """What an importer read, guessed and dropped, and the detector failures it found.

    Each entry of ``read``, ``guessed`` and ``dropped`` is one line of plain text.
    """

    importer: str
    inputs: Mapping[str, str]
    read: tuple[str, ...]
    guessed: tuple[str, ...]
    dropped: tuple[str, ...]
    failures: tuple[DetectorFailure, ...]
    outputs: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"generator": f"signalopt {__version__}", "importer": self.importer, "inputs": dict(self.inputs),
                "read": list(self.read), "guessed": list(self.guessed), "dropped": list(self.dropped),
                "detector_failures": [f.to_dict() for f in self.failures], "outputs": dict(self.outputs)}

    def text(self) -> str:
        out = [f"signalopt import {self.importer}"]
        out += [f"  {role}: {path}" for role, path in self.inputs.items()]
        for title, items in (("read", self.read), ("guessed", self.guessed), ("dropped", self.dropped),
                             ("detector failures", [f.text() for f in self.failures])):
            out.append(f"{title} ({len(items)}):" if items else f"{title}: none")
            out += [f"  - {x}" for x in items]
        out.append("wrote:")
        out += [f"  {role}: {path}" for role, path in self.outputs.items()]
        return "\n".join(out) + "\n"


def read_csv_rows(path: Path, columns: Sequence[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a CSV with at least ``columns``; one-line refusals for bad bytes, missing columns,
    ragged rows or no rows."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, f"{what} not found", None) from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"{what} is not UTF-8 text", f"byte {exc.start}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(path, f"line 1: {what} lacks columns", ", ".join(missing))
    rows = []
    for row in reader:
        if None in row or any(v is None for v in row.values()):
            raise InputError(path, f"line {reader.line_num}: not the {len(header)} fields of the header",
                             ",".join(str(v) for v in row.values() if v is not None))
        rows.append((reader.line_num, {k.strip(): v.strip() for k, v in row.items()}))
    if not rows:
        raise InputError(path, f"{what} has no rows", None)
    return rows


def channel_number(path: Path, line: int, column: str, text: str) -> int:
    """A detector channel or phase number: a positive integer, else a one-line refusal."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(path, f"line {line}: {column} is not a positive integer", repr(text))
    return value


def find_approach(network: Network, path: Path, line: int, intersection: str, approach: str) -> tuple[Signal, str]:
    """The signal and the approach edge a map row names (by leg or edge id); a one-line refusal else."""
    if intersection not in network.signal_ids:
        raise InputError(path, f"line {line}: intersection is not a signal of {network.path.name}", intersection)
    signal = network.signal(intersection)
    edge = next((a.id for a in signal.approaches if approach in (a.leg, a.id)), None)
    if edge is None:
        raise InputError(path, f"line {line}: approach not at intersection {intersection} (it has "
                               f"{', '.join(a.leg or a.id for a in signal.approaches)})", approach)
    return signal, edge


def read_detector_map(path: str | Path, network: Network) -> tuple[tuple[Detector, ...], list[str]]:
    """Read a detector map (see the module docstring), checked against the network.

    Returns
    -------
    detectors, guessed
        One :class:`Detector` per row, in file order; a line per movement read from the network.

    Raises
    ------
    InputError
        Naming the file, the line and the field: a channel that is not a positive integer, a channel
        listed twice, a signal id mapped to two intersections, an intersection, approach or lane the
        network lacks, a movement the lane does not serve, two count detectors on one lane.
    """
    path = Path(path)
    out: list[Detector] = []
    guessed: list[str] = []
    seen: dict[tuple[str, int], int] = {}
    intersections: dict[str, str] = {}
    lanes: dict[str, int] = {}
    for line, row in read_csv_rows(path, DETECTOR_COLUMNS, "detector map"):
        sid, channel = row["SignalID"], channel_number(path, line, "channel", row["channel"])
        if not sid:
            raise InputError(path, f"line {line}: SignalID is empty", None)
        if (sid, channel) in seen:
            raise InputError(path, f"line {line}: channel repeats line {seen[(sid, channel)]}", f"{sid} {channel}")
        seen[(sid, channel)] = line
        signal, edge = find_approach(network, path, line, row["intersection"], row["approach"])
        if intersections.setdefault(sid, signal.id) != signal.id:
            raise InputError(path, f"line {line}: SignalID {sid} is mapped to two intersections",
                             f"{intersections[sid]}, {signal.id}")
        approach = next(a for a in signal.approaches if a.id == edge)
        lane = row["lane"]
        if lane.isdigit() and int(lane) < len(approach.lanes):
            lane = f"{edge}_{lane}"
        served = lane_movements(signal)
        if lane_edge(lane) != edge or lane not in served:
            raise InputError(path, f"line {line}: lane is not a signalised lane of approach {row['approach']} "
                                   f"(give a lane id or index of edge {edge})", row["lane"])
        movement = row["movement"].upper()
        if movement == NOT_COUNTED:
            movement = ""
        elif not movement:
            movement = served[lane]
            guessed.append(f"{sid} channel {channel}: movement {movement} read from lane {lane} (map line {line})")
        elif set(movement) - set(served[lane]) or len(set(movement)) != len(movement):
            raise InputError(path, f"line {line}: movement is not what lane {lane} serves ({served[lane]})",
                             row["movement"])
        if movement:
            if lane in lanes:
                raise InputError(path, f"line {line}: a second count detector on lane {lane} (line "
                                       f"{lanes[lane]}); mark one with movement -", f"{sid} {channel}")
            lanes[lane] = line
        out.append(Detector(sid, channel, signal.id, row["approach"], edge, movement, lane, line))
    return tuple(out), guessed


def interval_grid(begin_s: float, end_s: float, interval_s: float) -> list[float]:
    """Interval begins from ``begin_s`` up to ``end_s`` [s]."""
    return [begin_s + k * interval_s for k in range(int(round((end_s - begin_s) / interval_s)))]


def read_detector_counts(path: str | Path, detectors: Sequence[Detector], *,
                         interval_s: float = INTERVAL_S) -> dict[tuple[str, int], dict[float, float]]:
    """Read a detector counts CSV (see the module docstring): per ``(SignalID, channel)``, interval begin -> count.

    Raises
    ------
    InputError
        Naming the file, line and field: a detector not in the map, an interval that is not a time or is
        off the ``interval_s`` grid of the day, a count that is not a non-negative number, a repeated row.
    """
    path = Path(path)
    known = {d.key for d in detectors}
    out: dict[tuple[str, int], dict[float, float]] = defaultdict(dict)
    lines: dict[tuple[str, int, float], int] = {}
    for line, row in read_csv_rows(path, COUNT_COLUMNS, "detector counts file"):
        key = (row["SignalID"], channel_number(path, line, "channel", row["channel"]))
        if key not in known:
            raise InputError(path, f"line {line}: detector not in the detector map", f"{key[0]} channel {key[1]}")
        try:
            begin = parse_time_s(row["interval"])
        except ValueError:
            raise InputError(path, f"line {line}: interval is not a time (HH:MM or seconds)", repr(row["interval"])) from None
        if abs(begin / interval_s - round(begin / interval_s)) * interval_s > 1e-6:
            raise InputError(path, f"line {line}: interval is off the {interval_s:g} s grid of the day", row["interval"])
        try:
            count = float(row["count"])
        except ValueError:
            count = -1.0
        if not math.isfinite(count) or count < 0:
            raise InputError(path, f"line {line}: count is not a non-negative number", repr(row["count"]))
        if (*key, begin) in lines:
            raise InputError(path, f"line {line}: repeats line {lines[(*key, begin)]} (same detector and interval)",
                             row["interval"])
        lines[(*key, begin)] = line
        out[key][begin] = count
    return dict(out)


def neighbours(detectors: Sequence[Detector], d: Detector) -> list[Detector]:
    """The other count detectors of ``d``'s approach, else of its signal: what a silent detector is judged by."""
    counting = [o for o in detectors if o.movements and o.key != d.key]
    return [o for o in counting if o.edge == d.edge] or [o for o in counting if o.intersection == d.intersection]


def silent(d: Detector, detectors: Sequence[Detector], stretch: tuple[float, float], own_rate_veh_s: float,
           others_in: float) -> DetectorFailure | None:
    """A silent stretch of ``d`` as a failure, when its own rate promised :data:`SILENT_EXPECTED` vehicles and
    its neighbours counted as many in it (see the module docstring)."""
    begin, end = stretch
    expected = own_rate_veh_s * (end - begin)
    if end - begin < SILENT_MIN_S or expected < SILENT_EXPECTED or others_in < SILENT_EXPECTED:
        return None
    who = "approach" if any(o.edge == d.edge for o in neighbours(detectors, d)) else "signal"
    return DetectorFailure(d.signal, d.channel, "silent", begin, end,
                           f"no actuation for {(end - begin) / 60:.0f} min where its own rate gives {expected:.0f}; "
                           f"the other detectors of its {who} counted {others_in:.0f}", own_rate_veh_s * 3600.0)


def count_failures(counts: Mapping[tuple[str, int], Mapping[float, float]], detectors: Sequence[Detector],
                   grid: Sequence[float], interval_s: float) -> list[DetectorFailure]:
    """Silent and chattering detectors in per-interval counts (see the module docstring)."""
    out = []
    for d in detectors:
        if not d.movements:
            continue
        mine = counts.get(d.key, {})
        for b in grid:
            if mine.get(b, 0.0) * 3600.0 / interval_s > CHATTER_VEH_H:
                out.append(DetectorFailure(d.signal, d.channel, "chatter", b, b + interval_s,
                                           f"{mine[b]:g} actuations, above {CHATTER_VEH_H:g} veh/h on one lane"))
        zeros: list[list[float]] = []
        for b in grid:
            if b in mine and mine[b] == 0:
                if zeros and abs(zeros[-1][-1] + interval_s - b) < 1e-6:
                    zeros[-1].append(b)
                else:
                    zeros.append([b])
        total = sum(mine.values())
        for run in zeros:
            rest_s = (len([b for b in grid if b in mine]) - len(run)) * interval_s
            others = sum(counts.get(o.key, {}).get(b, 0.0) for o in neighbours(detectors, d) for b in run)
            failure = silent(d, detectors, (run[0], run[-1] + interval_s), total / rest_s if rest_s > 0 else 0.0,
                             others)
            if failure is not None:
                out.append(failure)
    return out


def bad_intervals(failures: Iterable[DetectorFailure], grid: Sequence[float],
                  interval_s: float) -> dict[tuple[str, int], set[float]]:
    """Per detector, the intervals a failure spoils (:meth:`DetectorFailure.spoils`)."""
    out: dict[tuple[str, int], set[float]] = defaultdict(set)
    for f in failures:
        out[(f.signal, f.channel)] |= {b for b in grid if f.spoils(b, b + interval_s)}
    return out


# --------------------------------------------------------------------------- lanes to movements
@dataclass(frozen=True)
class _Group:
    """Movements of one approach joined by shared lanes, and the detectors on their lanes."""

    intersection: str
    approach: str
    edge: str
    movements: str
    detectors: tuple[Detector, ...]
    complete: bool = True

    @property
    def shared(self) -> bool:
        return len(self.movements) > 1


def _groups(network: Network, detectors: Sequence[Detector]) -> tuple[list[_Group], list[str]]:
    """The movement groups of every detected approach, and a line per movement left uncounted (a lane
    that serves it has no count detector)."""
    counting = [d for d in detectors if d.movements]
    out, dropped = [], []
    for edge in dict.fromkeys(d.edge for d in counting):
        mine = [d for d in counting if d.edge == edge]
        signal = network.signal(mine[0].intersection)
        served = {lane: ms for lane, ms in lane_movements(signal).items() if lane_edge(lane) == edge}
        parts: list[set[str]] = []
        for ms in [set(d.movements) for d in mine] + [set(ms) for ms in served.values()]:
            joined = [p for p in parts if p & ms]
            parts = [p for p in parts if not p & ms] + [set().union(ms, *joined)]
        detected = {d.lane for d in mine}
        for part in parts:
            movements = "".join(m for m in "LTRU" if m in part)
            blind = [lane for lane, ms in served.items() if set(ms) & part and lane not in detected]
            dets = tuple(d for d in mine if set(d.movements) & part)
            if blind:
                dropped.append(f"{signal.id} {mine[0].approach} {'+'.join(movements)}: lane(s) "
                               f"{', '.join(blind)} have no count detector; not counted")
            out.append(_Group(signal.id, mine[0].approach, edge, movements, dets, not blind))
    return out, dropped


def _split(g: _Group, counts: Mapping[tuple[str, int], float]) -> dict[str, float]:
    """A shared group's counts per movement in one interval: each lane's count shared evenly among the
    movements it serves, in whole vehicles (see the module docstring)."""
    out: dict[str, float] = defaultdict(float)
    for d in g.detectors:
        c = counts[d.key]
        for m, n in zip(d.movements, round_preserving_sum([c / len(d.movements)] * len(d.movements), c, step=1.0)):
            out[m] += float(n)
    return dict(out)


def movement_counts(network: Network, detectors: Sequence[Detector], counts: Mapping[tuple[str, int], Mapping[float, float]],
                    bad: Mapping[tuple[str, int], set[float]], *, begin_s: float, end_s: float,
                    interval_s: float = INTERVAL_S) -> tuple[list[TurnCount], list[str], list[str]]:
    """Movement counts from detector counts (see the module docstring).

    Parameters
    ----------
    network
        The network the detectors are on.
    detectors
        The detector map (:func:`read_detector_map`).
    counts
        Per ``(SignalID, channel)``: interval begin [s] -> actuations.
    bad
        Per ``(SignalID, channel)``: the interval begins its failures touch (left out, not zero).
    begin_s, end_s
        The counted window [s of the day], on the ``interval_s`` grid.
    interval_s
        Counting interval [s].

    Returns
    -------
    counts, guessed, dropped
        Movement counts (approach as the map names it) sorted by interval, signal, approach and movement;
        a line per shared-lane split; a line per movement and stretch left out.
    """
    groups, dropped = _groups(network, detectors)
    grid = interval_grid(begin_s, end_s, interval_s)
    healthy = {(id(g), b): g.complete and all(b in counts.get(d.key, {}) and b not in bad.get(d.key, set())
                                              for d in g.detectors)
               for g in groups for b in grid}
    out = []
    for g in groups:
        for b in grid:
            if healthy[(id(g), b)]:
                split = _split(g, {d.key: counts[d.key][b] for d in g.detectors})
                out += [TurnCount(b, g.intersection, g.approach, m, n) for m, n in split.items()]
    guessed = [f"{g.intersection} {g.approach}: shared lane counts split evenly among {'+'.join(g.movements)}"
               for g in groups if g.shared]
    for g in groups:
        if not g.complete:
            continue  # said once by _groups
        gone = [b for b in grid if not healthy[(id(g), b)]]
        if gone:
            dropped.append(f"{g.intersection} {g.approach} {'+'.join(g.movements)}: {len(gone)} interval(s) left out "
                           f"({_spans(gone, interval_s)}): a detector failed or has no count there")
    return sorted(out, key=lambda c: (c.begin_s, c.signal_id, c.approach, c.movement)), guessed, dropped


def _spans(begins: Sequence[float], interval_s: float) -> str:
    """``07:00-08:00, 09:15-09:30``: consecutive intervals joined."""
    spans: list[list[float]] = []
    for b in sorted(begins):
        if spans and abs(spans[-1][1] - b) < 1e-6:
            spans[-1][1] = b + interval_s
        else:
            spans.append([b, b + interval_s])
    return ", ".join(f"{clock_text(a)}-{clock_text(e)}" for a, e in spans)


# --------------------------------------------------------------------------- output
def write_counts(counts: Sequence[TurnCount], path: Path) -> Path:
    """Movement counts as signalopt's counts CSV (:mod:`signalopt.demand`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("interval", "intersection", "approach", "movement", "vehicles"))
    w.writerows((clock_text(c.begin_s), c.signal_id, c.approach, c.movement, f"{c.vehicles:g}") for c in counts)
    return atomic_write_text(path, buf.getvalue())


def write_detector_counts(counts: Mapping[tuple[str, int], Mapping[float, float]], path: Path) -> Path:
    """Per-detector counts as the detector counts CSV (see the module docstring), detectors and intervals in order."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COUNT_COLUMNS)
    w.writerows((sid, channel, clock_text(b), f"{n:g}") for (sid, channel), per in sorted(counts.items())
                for b, n in sorted(per.items()))
    return atomic_write_text(path, buf.getvalue())


def write_scenario(out_dir: Path, *, name: str, network_path: Path, counts_path: Path, begin_s: float, end_s: float,
                   timing: Mapping[str, Path] | None = None) -> Path:
    """A scenario TOML over the imported counts (and existing timing), ready for ``signalopt run``.

    ``name`` is made a scenario name (letters, digits, ``_ . -``); paths are written relative to
    ``out_dir``.  The warm-up is a quarter of the window, at most 15 minutes: the network fills
    before measuring.
    """
    def rel(p: Path) -> str:
        # a JSON string is a TOML basic string: quotes and backslashes in a path stay escaped
        return json.dumps(Path(os.path.relpath(p.resolve(), out_dir.resolve())).as_posix())

    lines = ["schema_version = 1", f'name = "{re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]}"',
             f'description = "imported by signalopt {__version__}; see {REPORT_TEXT}"',
             f"network = {rel(network_path)}", f"begin_s = {begin_s:g}", f"end_s = {end_s:g}",
             f"warmup_s = {min(900.0, (end_s - begin_s) / 4):g}"]
    lines += [f"{key} = {rel(p)}" for key, p in (timing or {}).items()]
    lines += ["", "[demand]", f"counts = {rel(counts_path)}"]
    return atomic_write_text(out_dir / SCENARIO_FILE, "\n".join(lines) + "\n")


def write_report(report: ImportReport, out_dir: Path) -> ImportReport:
    """The report as text and JSON in ``out_dir``; returned with both listed among its outputs."""
    done = replace(report, outputs={**report.outputs, "report": str(out_dir / REPORT_TEXT),
                                    "report_json": str(out_dir / REPORT_JSON)})
    atomic_write_text(out_dir / REPORT_TEXT, done.text())
    atomic_write_text(out_dir / REPORT_JSON, json.dumps(done.to_dict(), indent=2) + "\n")
    return done


@dataclass(frozen=True)
class CountsImport:
    """An import's movement counts, the counted window [s of the day] and its report."""

    counts: tuple[TurnCount, ...]
    begin_s: float
    end_s: float
    report: ImportReport


def import_detector_counts(counts_path: str | Path, detectors_path: str | Path, network_path: str | Path,
                           out_dir: str | Path, *, interval_s: float = INTERVAL_S) -> CountsImport:
    """Read detector counts and write movement counts, a scenario over them and the import report.

    Parameters
    ----------
    counts_path
        Detector counts CSV (see the module docstring).
    detectors_path
        Detector map CSV.
    network_path
        The SUMO network the map refers to.
    out_dir
        Folder for ``counts.csv``, ``scenario.toml`` and the report (text and JSON).
    interval_s
        Counting interval of the detector counts and of the movement counts [s].

    Raises
    ------
    InputError
        A bad input, in one line naming the file, line and field.
    """
    out = Path(out_dir)
    network = read_network(network_path)
    detectors, guessed = read_detector_map(detectors_path, network)
    raw = read_detector_counts(counts_path, detectors, interval_s=interval_s)
    begins = [b for per in raw.values() for b in per]
    begin_s, end_s = min(begins), max(begins) + interval_s
    grid = interval_grid(begin_s, end_s, interval_s)
    failures = count_failures(raw, detectors, grid, interval_s)
    counts, split, dropped = movement_counts(network, detectors, raw, bad_intervals(failures, grid, interval_s),
                                             begin_s=begin_s, end_s=end_s, interval_s=interval_s)
    silent_channels = [d.label for d in detectors if d.movements and d.key not in raw]
    dropped = [f"{x}: no counts at all" for x in silent_channels] + dropped
    counts_file = write_counts(counts, out / COUNTS_FILE)
    scenario = write_scenario(out, name=f"{Path(counts_path).stem}-import", network_path=Path(network_path),
                              counts_path=counts_file, begin_s=begin_s, end_s=end_s)
    read = [f"{sum(len(v) for v in raw.values())} detector counts of {len(raw)} detectors, "
            f"{clock_text(begin_s)}-{clock_text(end_s)} in {interval_s:g} s intervals",
            f"{len(detectors)} detector map rows ({sum(1 for d in detectors if d.movements)} count detectors)",
            f"{len(counts)} movement counts written"]
    report = write_report(ImportReport("counts", {"counts": str(counts_path), "detectors": str(detectors_path),
                                                  "network": str(network_path)},
                                       tuple(read), tuple(guessed + split), tuple(dropped), tuple(failures),
                                       {"counts": str(counts_file), "scenario": str(scenario)}), out)
    return CountsImport(tuple(counts), begin_s, end_s, report)
