"""Synchro UTDF combined CSV (``[Network]``, ``[Nodes]``, ``[Lanes]``, ``[Timeplans]``, ``[Phases]``) and its reader.

Writing: :func:`utdf_text`; reading: :func:`read_utdf` (signalopt's files
and Synchro's, with their ``[Links]`` names and ``[Volumes]``), then
:func:`rebuild_plans` for timing plans (equal to the written ones in all
UTDF carries, :func:`compare_as_utdf`); :func:`intersection_plan` rebuilds
one intersection onto given lane-group columns (what an importer of
Synchro's files needs).

Intersections are numbered 1..n in plan order (``INTID``); the SUMO
``tlLogic`` ids are in ``[Nodes]`` ``DESCRIPTION`` and in the leading ``#``
comment lines.  Phases are those of :func:`signalopt.formats.nema.dual_ring`
(columns ``D1``..``D16``; ``BRP`` = barrier, ring, position, so the
position order carries leading and lagging lefts and split phasing's
sequence in one ring; dummy phases have no yellow).  Each plan is written as
pretimed (``Control Type`` 0, every phase on max recall, ``MaxGreen`` = the
green), so a phase's split is ``MaxGreen + Yellow + AllRed``, also
``End - Start``.  The offset is referenced to the begin of green
(``Referenced To`` 0) of the earlier coordinated phase (``Reference Phase``
206 for phases 2 and 6); ``Start``, ``End`` and ``Yield`` are seconds in the
cycle from that reference point.  Times are written to 0.1 s; the cycle in
whole seconds.  ``Walk`` is the walk the plan shows (green minus the
pedestrian clearance), ``DontWalk`` the pedestrian clearance.  ``[Lanes]``
gives each lane group (``NBL`` ...) of a four-leg layout its protected
phases (``Phase1``..``Phase4``, overlap parents included) and permissive
phases (``PermPhase1``, ``PermPhase2``); a plan in which links of one lane
group run in different phases is refused (the file would give each of them
the phases of all).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._xml import check_file
from ..errors import InputError, PlanError
from .nema import VEHICLE_EXTENSION_S, DualRing, dual_ring, reference_offset_s
from ..network import Network, Signal
from ..plan import ABSOLUTE_MIN_YELLOW_S, EPS_S, GREEN_CHARS, Phase, PlanSet, TimingPlan
from ..programs import stage_requirements
from ..options import TimingOptions

UTDF_VERSION = 8
PHASE_COLUMNS = tuple(f"D{k}" for k in range(1, 17))
#: [Phases] records written, in order.
PHASE_RECORDS = ("BRP", "MinGreen", "MaxGreen", "VehExt", "TimeBeforeReduce", "TimeToReduce", "MinGap", "Yellow",
                 "AllRed", "Recall", "Walk", "DontWalk", "PedCalls", "MinSplit", "DualEntry", "InhibitMax", "Start",
                 "End", "Yield")
TIMEPLAN_RECORDS = ("Control Type", "Cycle Length", "Lock Timings", "Referenced To", "Reference Phase", "Offset",
                    "Master", "Yield", "Node 0", "Node 1")
LANE_COLUMNS = ("NBL", "NBT", "NBR", "SBL", "SBT", "SBR", "EBL", "EBT", "EBR", "WBL", "WBT", "WBR")
#: Synchro codes: pretimed control, offset referenced to the begin of green, maximum recall.
CONTROL_PRETIMED = 0
REFERENCED_TO_BEGIN_OF_GREEN = 0
RECALL_MAX = 3
#: Travel direction of the traffic arriving from each compass leg.
_BOUND = {"N": "SB", "S": "NB", "E": "WB", "W": "EB"}


def _t(sid: str, what: str, value: float) -> str:
    """A time to 0.1 s (refused when it is not a whole number of tenths or negative)."""
    tenths = value * 10
    if value < -EPS_S or abs(tenths - round(tenths)) > 1e-6:
        raise PlanError(f"signal {sid}: UTDF {what} must be a non-negative multiple of 0.1 s ({value:g})")
    v = round(tenths) / 10
    return str(int(v)) if v == int(v) else f"{v:.1f}"


def _mod(x: float, c: float) -> float:
    return round(x % c, 6) % c


@dataclass(frozen=True)
class _Rows:
    nodes: list[list[str]] = field(default_factory=list)
    lanes: list[list[str]] = field(default_factory=list)
    timeplans: list[list[str]] = field(default_factory=list)
    phases: list[list[str]] = field(default_factory=list)


def _intersection_rows(intid: int, plan: TimingPlan, signal: Signal, timing: TimingOptions, rows: _Rows) -> None:
    sid = plan.signal_id
    if plan.actuation is not None:
        raise PlanError(f"signal {sid}: the plan is actuated ({plan.actuation.mode}); the utdf export writes pretimed "
                        f"plans; the ntcip and sumo formats carry actuated settings")
    ring = dual_ring(plan, signal)
    if abs(plan.cycle_s - round(plan.cycle_s)) > EPS_S:
        raise PlanError(f"signal {sid}: UTDF Cycle Length is whole seconds ({plan.cycle_s:g} s)")
    if max(p.number for p in ring.phases) > len(PHASE_COLUMNS):
        raise PlanError(f"signal {sid}: phase {max(p.number for p in ring.phases)} is beyond UTDF's "
                        f"{len(PHASE_COLUMNS)} phase columns ({ring.describe()}); the ntcip format holds it")
    cycle = plan.cycle_s
    offset = reference_offset_s(plan, ring)
    ref = (offset - plan.offset_s) % cycle  # the reference point in the plan's own cycle
    rows.nodes.append([str(intid), "0", f"{signal.position[0]:.1f}", f"{signal.position[1]:.1f}", "0", sid])
    c1, c2 = ring.coordinated
    plan_rows = {"Control Type": str(CONTROL_PRETIMED), "Cycle Length": str(int(round(cycle))), "Lock Timings": "0",
                 "Referenced To": str(REFERENCED_TO_BEGIN_OF_GREEN),
                 "Reference Phase": f"{c1}{c2:02d}" if c1 != c2 else str(c1),
                 "Offset": _t(sid, "Offset", offset), "Master": "0", "Yield": "0", "Node 0": str(intid), "Node 1": "0"}
    rows.timeplans.extend([name, str(intid), plan_rows[name]] for name in TIMEPLAN_RECORDS)
    n = len(plan.phases)
    values: dict[str, dict[int, str]] = {r: {} for r in PHASE_RECORDS}
    for p in ring.phases:
        last = plan.phases[p.stage]
        req = stage_requirements(signal, last.state, plan.phases[(p.stage + 1) % n].state, timing)
        start = _mod(p.start_s - ref, cycle)
        walk = dont_walk = ""
        ped_min = 0.0
        if p.crossings:
            clear = max(last.ped_clearance_s, req.ped_clearance_s)
            walk = _t(sid, f"Walk of phase {p.number}", round(p.green_s - clear, 6))
            dont_walk = _t(sid, f"DontWalk of phase {p.number}", clear)
            ped_min = max(last.walk_s, req.walk_s) + clear
        vehicle_min = 0.0 if p.kind == "dummy" else max(plan.phases[i].min_green_s for i in p.stages)
        min_green = min(vehicle_min, p.green_s) if p.kind != "dummy" else p.green_s
        min_split = max(vehicle_min, ped_min) + p.yellow_s + p.all_red_s if p.kind != "dummy" else p.split_s
        v = {"BRP": f"{p.barrier}{p.ring}{p.position}", "MinGreen": _t(sid, "MinGreen", min_green),
             "MaxGreen": _t(sid, "MaxGreen", p.green_s), "VehExt": _t(sid, "VehExt", VEHICLE_EXTENSION_S),
             "TimeBeforeReduce": "0", "TimeToReduce": "0", "MinGap": _t(sid, "MinGap", VEHICLE_EXTENSION_S),
             "Yellow": _t(sid, "Yellow", p.yellow_s), "AllRed": _t(sid, "AllRed", p.all_red_s),
             "Recall": str(RECALL_MAX), "Walk": walk, "DontWalk": dont_walk,
             "PedCalls": "0" if walk else "",
             "MinSplit": _t(sid, "MinSplit", math.ceil(min_split * 10 - 1e-6) / 10),
             "DualEntry": "1" if p.kind in ("through", "approach") else "0", "InhibitMax": "1",
             "Start": _t(sid, "Start", start), "End": _t(sid, "End", _mod(start + p.split_s, cycle)),
             "Yield": _t(sid, "Yield", _mod(start + p.green_s, cycle))}
        for r in PHASE_RECORDS:
            values[r][p.number] = v[r]
    for r in PHASE_RECORDS:
        rows.phases.append([r, str(intid)] + [values[r].get(k + 1, "") for k in range(len(PHASE_COLUMNS))])
    _lane_rows(intid, ring, signal, rows)


def movement_column(signal: Signal, k: int) -> str:
    """The UTDF lane-group column of vehicle link ``k`` (``NBL``...), or ``""`` without a compass leg."""
    link = signal.links[k]
    legs = {a.id: a.leg for a in signal.approaches}
    bound = _BOUND.get(legs.get(link.approach, ""), "")
    if not bound or link.is_crossing:
        return ""
    return bound + ("L" if link.is_left else "R" if link.direction in "rR" else "T")


def _lane_rows(intid: int, ring: DualRing, signal: Signal, rows: _Rows) -> None:
    """``Phase1..4`` (protected phases, overlap parents included) and ``PermPhase1..2`` of each lane group.

    Raises
    ------
    PlanError
        When links of one lane group run in different phases: a lane group has one set of phases, and a
        reader would give every link of it the phases of all.
    """
    columns = {k: movement_column(signal, k) for k in range(signal.n_links)}
    if not any(columns.values()):
        return
    served: dict[int, tuple[set[int], set[int]]] = {k: (set(), set()) for k, col in columns.items() if col}
    for p in ring.phases:
        for k, c in enumerate(p.state):
            if columns[k] and c == "G":
                served[k][0].add(p.number)
            elif columns[k] and c == "g":
                served[k][0 if k in p.links else 1].add(p.number)
    for o in ring.overlaps:
        for k in o.links:
            if columns[k]:
                served[k][0].update(o.parents)
    protected: dict[str, set[int]] = {}
    permitted: dict[str, set[int]] = {}
    first: dict[str, int] = {}
    for k, (prot, perm) in served.items():
        col = columns[k]
        j = first.setdefault(col, k)
        if (prot, perm - prot) != (served[j][0], served[j][1] - served[j][0]):
            raise PlanError(f"signal {signal.id}: UTDF lane group {col} holds links that run in different stages "
                            f"(link {j}: phases {sorted(served[j][0] | served[j][1])}, link {k}: phases "
                            f"{sorted(prot | perm)}); a lane group has one set of phases; the json, sumo and csv "
                            f"formats hold every plan")
        protected[col], permitted[col] = prot, perm
    for name, table, count in (("Phase", protected, 4), ("PermPhase", permitted, 2)):
        for j in range(count):
            cells = []
            for col in LANE_COLUMNS:
                nums = sorted(table.get(col, set()) - (protected.get(col, set()) if name == "PermPhase" else set()))
                cells.append(str(nums[j]) if j < len(nums) else "")
            if any(cells):
                rows.lanes.append([f"{name}{j + 1}", str(intid), *cells])


def utdf_text(plans: PlanSet, network: Network, *, header_lines: Sequence[str] = (),
              timing: TimingOptions | None = None) -> str:
    """The UTDF combined file for ``plans`` (raises :class:`PlanError` before returning anything partial)."""
    timing = timing or TimingOptions()
    rows = _Rows()
    for intid, plan in enumerate(plans, start=1):
        _intersection_rows(intid, plan, network.signal(plan.signal_id), timing, rows)
    buf = io.StringIO()
    for line in header_lines:
        buf.write(f"# {line}\n")
    for intid, plan in enumerate(plans, start=1):
        buf.write(f"# INTID {intid} = {plan.signal_id}\n")
    buf.write("# phases: NEMA numbering (odd: protected lefts, even: throughs; 9-16: a third barrier group), BRP = "
              "barrier ring position (position order = lead/lag); split = MaxGreen + Yellow + AllRed = End - Start; "
              "Offset, Start, End, Yield from the begin of green of the earlier Reference Phase; Lanes PhaseN: "
              "protected phases (overlap parents included), PermPhaseN: permissive phases\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerows([["[Network]"], ["Network Settings"], ["RECORDNAME", "DATA"], ["UTDFVERSION", str(UTDF_VERSION)],
                 ["Metric", "1"], []])
    w.writerows([["[Nodes]"], ["Node Data"], ["INTID", "TYPE", "X", "Y", "Z", "DESCRIPTION"], *rows.nodes, []])
    if rows.lanes:
        w.writerows([["[Lanes]"], ["Lane Group Data"], ["RECORDNAME", "INTID", *LANE_COLUMNS], *rows.lanes, []])
    w.writerows([["[Timeplans]"], ["Timing Plan Settings"], ["RECORDNAME", "INTID", "DATA"], *rows.timeplans, []])
    w.writerows([["[Phases]"], ["Phasing Data"], ["RECORDNAME", "INTID", *PHASE_COLUMNS], *rows.phases, []])
    return buf.getvalue()


# Reading -----------------------------------------------------------------------
#: ``[Lanes]`` records naming a lane group's protected phases (overlap parents included) and permissive phases.
PROTECTED_RECORDS = ("Phase1", "Phase2", "Phase3", "Phase4")
PERMISSIVE_RECORDS = ("PermPhase1", "PermPhase2", "PermPhase3", "PermPhase4")
#: A ``[Lanes]`` phase cell marking an uncontrolled movement (Synchro: a free right turn).
UNCONTROLLED = -1
#: File times are tenths of a second; sums of them agree far closer than this [s].
_TOL_S = 1e-3
#: Movements that yield to a crossing's pedestrians while both are green (netconvert's programmes: lefts, rights).
_TURNS = frozenset("lLrR")


@dataclass(frozen=True)
class UtdfPhase:
    """One phase column of ``[Phases]`` (times [s]).

    ``start_s`` and ``end_s`` are as the file gives them: from the reference
    point in signalopt's own files, on the system clock in Synchro's (which
    also write ``LocalStart``, kept as ``local_start_s``).  ``ped_calls`` is
    ``None`` where the cell is blank (Synchro: no pedestrian phase).
    """

    number: int
    brp: int
    min_green_s: float
    max_green_s: float
    yellow_s: float
    all_red_s: float
    walk_s: float
    dont_walk_s: float
    start_s: float
    end_s: float
    min_split_s: float = 0.0
    ped_calls: float | None = None
    local_start_s: float | None = None

    @property
    def split_s(self) -> float:
        """``MaxGreen + Yellow + AllRed`` (a pretimed phase's split) [s]."""
        return round(self.max_green_s + self.yellow_s + self.all_red_s, 6)

    @property
    def ring(self) -> int:
        return self.brp // 10 % 10

    @property
    def barrier(self) -> int:
        return self.brp // 100

    @property
    def position(self) -> int:
        return self.brp % 10


@dataclass(frozen=True)
class UtdfLaneGroup:
    """The phase numbers one ``[Lanes]`` column (``NBL``...) of an intersection names.

    ``protected`` from ``Phase1..4`` (phases serving the lane group, overlap
    parents included), ``permissive`` from ``PermPhase1..4`` (phases that
    let it go while it yields); ``uncontrolled`` where a cell holds ``-1``.
    """

    protected: tuple[int, ...] = ()
    permissive: tuple[int, ...] = ()
    uncontrolled: bool = False

    @property
    def phases(self) -> frozenset[int]:
        return frozenset(self.protected + self.permissive)


@dataclass(frozen=True)
class UtdfIntersection:
    """One intersection of a UTDF file: its timing plan, phases and lane groups.

    ``records`` names the ``[Phases]`` records the file gives it;
    ``shared_nodes`` the other INTIDs its controller runs (``Node 1``...).
    """

    intid: int
    name: str
    control_type: int
    cycle_s: float
    offset_s: float
    referenced_to: int
    reference_phases: tuple[int, ...]
    phases: Mapping[int, UtdfPhase]
    lanes: Mapping[str, UtdfLaneGroup] = field(default_factory=dict)
    records: frozenset[str] = frozenset()
    shared_nodes: tuple[int, ...] = ()

    def phase_offset_s(self, number: int) -> float:
        """Start of phase ``number``'s green in the shared clock, modulo the cycle [s]."""
        return _mod(self.offset_s + self.phases[number].start_s, self.cycle_s)


@dataclass(frozen=True)
class UtdfNode:
    """A ``[Nodes]`` row: coordinates in the file's units (feet unless ``Metric`` is 1)."""

    intid: int
    type: int
    x: float
    y: float
    description: str


@dataclass(frozen=True)
class UtdfVolumeRow:
    """One ``[Volumes]`` row: the vehicles of one time at one node, by column (``NBL``...).

    Blank cells and ``*`` (Synchro: no such movement) are left out.
    """

    line: int
    date: str
    time_s: float
    intid: int
    vehicles: Mapping[str, float]


@dataclass(frozen=True)
class UtdfVolumes:
    """The ``[Volumes]`` section: its title (``15 Minute Counts``, ``60 Minute Counts``...) and rows."""

    title: str
    line: int
    rows: tuple[UtdfVolumeRow, ...]

    @property
    def minutes(self) -> int | None:
        """The counting interval the title states [min], or ``None``."""
        found = re.search(r"(\d+)\s*min", self.title, flags=re.I)
        return int(found.group(1)) if found else None


@dataclass(frozen=True)
class UtdfFile:
    """A UTDF combined file as :func:`read_utdf` reads it.

    ``metric`` is ``[Network]`` ``Metric`` (``None`` when absent); ``links``
    the street name of each approach of a node by direction (``NB``...),
    ``""`` for an unnamed one.
    """

    version: int | None
    intersections: tuple[UtdfIntersection, ...]
    metric: bool | None = None
    nodes: tuple[UtdfNode, ...] = ()
    links: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    volumes: UtdfVolumes | None = None
    sections: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> UtdfIntersection:
        for i in self.intersections:
            if i.name == name or str(i.intid) == str(name):
                return i
        raise KeyError(name)


@dataclass(frozen=True)
class _Section:
    """One ``[Section]``: its title lines (``Phasing Data``), then its rows (header first) with their line numbers."""

    title: str
    line: int
    rows: tuple[tuple[int, list[str]], ...]


def _sections(path: Path, text: str) -> dict[str, _Section]:
    """Each ``[Section]`` (``#`` comment lines and blank lines skipped).

    The one-cell rows right after the tag are its title (Synchro writes one,
    a counts export may write two); the header and data rows follow.
    """
    found: dict[str, tuple[int, list[str], list[tuple[int, list[str]]]]] = {}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in next(csv.reader([line]), [])]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            continue
        if cells[0].startswith("[") and cells[0].endswith("]"):
            current = cells[0][1:-1]
            found[current] = (number, [], [])
            continue
        if current is None:
            raise InputError(path, f"line {number}: UTDF data before the first [section]", ",".join(cells))
        _, title, rows = found[current]
        if not rows and len(cells) == 1 and cells[0].upper() not in ("RECORDNAME", "INTID"):
            title.append(cells[0])
        else:
            rows.append((number, cells))
    return {name: _Section(" ".join(title), line, tuple(rows)) for name, (line, title, rows) in found.items()}


def _table(path: Path, name: str, section: _Section) -> tuple[list[str], tuple[tuple[int, list[str]], ...]]:
    if not section.rows:
        raise InputError(path, f"UTDF [{name}] has no header row", f"line {section.line}")
    return section.rows[0][1], section.rows[1:]


def _num(path: Path, where: str, value: str) -> float:
    if value == "":
        return 0.0
    try:
        number = float(value.lstrip("*"))  # Synchro marks a value it was told to keep with "*"
    except ValueError:
        raise InputError(path, f"UTDF {where}: not a number", value) from None
    if not math.isfinite(number):
        raise InputError(path, f"UTDF {where}: not a finite number", value)
    return number


def _intid(path: Path, where: str, value: str) -> int:
    number = _num(path, where, value)
    if number != int(number):
        raise InputError(path, f"UTDF {where}: not a whole number", value)
    return int(number)


def _lane_groups(path: Path, section: _Section) -> dict[int, dict[str, UtdfLaneGroup]]:
    """``[Lanes]`` phase records per INTID and column (records other than the phase ones are skipped)."""
    head, body = _table(path, "Lanes", section)
    if head[:2] != ["RECORDNAME", "INTID"]:
        raise InputError(path, "UTDF [Lanes] header must start RECORDNAME,INTID", ",".join(head))
    found: dict[int, dict[str, tuple[list[int], list[int], list[bool]]]] = {}
    for line, row in body:
        if len(row) < 2 or row[0] not in PROTECTED_RECORDS + PERMISSIVE_RECORDS:
            continue
        intid = _intid(path, f"line {line} [Lanes] INTID", row[1])
        for column, cell in zip(head[2:], row[2:]):
            if cell == "":
                continue
            where = f"line {line} [Lanes] INTID {intid} {row[0]} {column}"
            number = _num(path, where, cell)
            if number != int(number) or (number < 1 and number != UNCONTROLLED):
                raise InputError(path, f"UTDF {where}: not a phase number", cell)
            protected, permissive, free = found.setdefault(intid, {}).setdefault(column, ([], [], []))
            if number == UNCONTROLLED:
                free.append(True)
            else:
                (protected if row[0] in PROTECTED_RECORDS else permissive).append(int(number))
    return {intid: {col: UtdfLaneGroup(tuple(p), tuple(q), bool(f)) for col, (p, q, f) in cols.items()}
            for intid, cols in found.items()}


def _nodes(path: Path, section: _Section) -> tuple[UtdfNode, ...]:
    head, body = _table(path, "Nodes", section)
    if "INTID" not in head:
        raise InputError(path, "UTDF [Nodes] header has no INTID column", ",".join(head))

    def cell(row: list[str], name: str) -> str:
        return row[head.index(name)] if name in head and head.index(name) < len(row) else ""

    return tuple(UtdfNode(_intid(path, f"line {line} [Nodes] INTID", cell(row, "INTID")),
                          _intid(path, f"line {line} [Nodes] TYPE", cell(row, "TYPE")),
                          _num(path, f"line {line} [Nodes] X", cell(row, "X")),
                          _num(path, f"line {line} [Nodes] Y", cell(row, "Y")), cell(row, "DESCRIPTION"))
                 for line, row in body)


def _links(path: Path, section: _Section) -> dict[int, dict[str, str]]:
    """Street name of each approach (a direction with an ``Up ID``) of each node."""
    head, body = _table(path, "Links", section)
    if head[:2] != ["RECORDNAME", "INTID"]:
        raise InputError(path, "UTDF [Links] header must start RECORDNAME,INTID", ",".join(head))
    ups: dict[int, set[str]] = {}
    names: dict[int, dict[str, str]] = {}
    for line, row in body:
        if len(row) < 2 or row[0] not in ("Up ID", "Name"):
            continue
        intid = _intid(path, f"line {line} [Links] INTID", row[1])
        for direction, cell in zip(head[2:], row[2:]):
            if cell and row[0] == "Up ID":
                ups.setdefault(intid, set()).add(direction)
            elif cell:
                names.setdefault(intid, {})[direction] = cell
    return {intid: {d: names.get(intid, {}).get(d, "") for d in sorted(dirs)} for intid, dirs in ups.items()}


def _clock_s(path: Path, line: int, text: str) -> float:
    """``TIME`` as counts files write it: ``0700``, ``700``, ``07:00``, ``="0700"``, ``7:00 AM`` [s of the day]."""
    raw = text.strip().removeprefix("=").strip('"').strip()
    found = re.fullmatch(r"(\d{1,2}):?(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?", raw)
    hours, minutes = (int(found.group(1)), int(found.group(2))) if found else (99, 99)
    if found and found.group(4):
        hours = hours % 12 + (12 if found.group(4).lower() == "pm" else 0)
    if hours > 23 or minutes > 59:
        raise InputError(path, f"line {line}: [Volumes] TIME is not a time of day (HHMM or HH:MM)", text)
    return hours * 3600.0 + minutes * 60.0 + (int(found.group(3)) if found.group(3) else 0)


def _volumes(path: Path, section: _Section) -> UtdfVolumes:
    head, body = _table(path, "Volumes", section)
    if head[:3] != ["DATE", "TIME", "INTID"]:
        raise InputError(path, f"line {section.rows[0][0]}: UTDF [Volumes] header must start DATE,TIME,INTID",
                         ",".join(head))
    rows = []
    for line, row in body:
        vehicles = {}
        for column, cell in zip(head[3:], row[3:]):
            if cell in ("", "*"):
                continue
            value = _num(path, f"line {line} [Volumes] {column}", cell)
            if value < 0:
                raise InputError(path, f"UTDF line {line} [Volumes] {column}: a count must not be negative", cell)
            vehicles[column] = value
        rows.append(UtdfVolumeRow(line, row[0], _clock_s(path, line, row[1] if len(row) > 1 else ""),
                                  _intid(path, f"line {line} [Volumes] INTID", row[2] if len(row) > 2 else ""),
                                  vehicles))
    return UtdfVolumes(section.title, section.line, tuple(rows))


def read_utdf(path: str | Path) -> UtdfFile:
    """Read a UTDF combined CSV: signalopt's own files and Synchro's.

    ``[Timeplans]`` and ``[Phases]`` are required; ``[Network]``
    (``UTDFVERSION``, ``Metric``), ``[Nodes]``, ``[Links]`` (street names),
    ``[Lanes]`` (the phase records) and ``[Volumes]`` are read when present.
    Records signalopt does not use (Synchro's detectors, saturation flows,
    ``Yield170``...) are skipped, as are phase columns without ``MaxGreen``
    (Synchro lists a ``BRP`` for every column).

    Raises
    ------
    InputError
        Missing file, sections or records, or values that are not numbers
        (naming the line).
    """
    path = check_file(Path(path), "UTDF file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, "UTDF file is not UTF-8 text", f"byte {exc.start}") from None
    sections = _sections(path, text)
    for need in ("Timeplans", "Phases"):
        if need not in sections:
            raise InputError(path, f"UTDF section [{need}] missing", None)
    settings = {row[0].upper(): (line, row[1]) for line, row in sections["Network"].rows[1:]
                if len(row) > 1} if "Network" in sections else {}
    version = metric = None
    if "UTDFVERSION" in settings:
        version = _intid(path, f"line {settings['UTDFVERSION'][0]} UTDFVERSION", settings["UTDFVERSION"][1])
    if "METRIC" in settings:
        metric = _num(path, f"line {settings['METRIC'][0]} Metric", settings["METRIC"][1]) == 1
    nodes = _nodes(path, sections["Nodes"]) if "Nodes" in sections else ()
    names = {n.intid: n.description for n in nodes}
    lanes = _lane_groups(path, sections["Lanes"]) if "Lanes" in sections else {}
    head, body = _table(path, "Timeplans", sections["Timeplans"])
    if head[:3] != ["RECORDNAME", "INTID", "DATA"]:
        raise InputError(path, "UTDF [Timeplans] header must be RECORDNAME,INTID,DATA", ",".join(head))
    plans: dict[int, dict[str, tuple[int, str]]] = {}
    for line, row in body:
        if len(row) >= 2:
            intid = _intid(path, f"line {line} [Timeplans] INTID", row[1])
            plans.setdefault(intid, {})[row[0]] = (line, row[2] if len(row) > 2 else "")
    head, body = _table(path, "Phases", sections["Phases"])
    if head[:2] != ["RECORDNAME", "INTID"]:
        raise InputError(path, "UTDF [Phases] header must start RECORDNAME,INTID", ",".join(head))
    records: dict[int, dict[str, tuple[int, list[str]]]] = {}
    for line, row in body:
        if len(row) >= 2:
            records.setdefault(_intid(path, f"line {line} [Phases] INTID", row[1]), {})[row[0]] = (line, row[2:])
    out = [_intersection(path, intid, plans[intid], records.get(intid, {}), head[2:], names, lanes)
           for intid in sorted(plans)]
    return UtdfFile(version, tuple(out), metric, nodes, _links(path, sections["Links"]) if "Links" in sections else {},
                    _volumes(path, sections["Volumes"]) if "Volumes" in sections else None, tuple(sections))


def _intersection(path: Path, intid: int, tp: Mapping[str, tuple[int, str]], rec: Mapping[str, tuple[int, list[str]]],
                  columns: Sequence[str], names: Mapping[int, str],
                  lanes: Mapping[int, Mapping[str, UtdfLaneGroup]]) -> UtdfIntersection:
    """One ``[Timeplans]`` record set and its ``[Phases]`` columns."""
    for need in ("Cycle Length", "Offset"):
        if need not in tp:
            raise InputError(path, f"UTDF [Timeplans] of INTID {intid}: record {need!r} missing", None)
    for need in ("BRP", "MaxGreen", "Yellow", "AllRed"):
        if need not in rec:
            raise InputError(path, f"UTDF [Phases] of INTID {intid}: record {need!r} missing", None)

    def number(name: str, where: str) -> float:
        line, value = tp.get(name, (0, ""))
        return _num(path, f"{f'line {line} ' if line else ''}INTID {intid} {where}", value)

    phases = {}
    for k, col in enumerate(columns):
        def cell(name: str) -> str:
            vals = rec.get(name, (0, []))[1]
            return vals[k] if k < len(vals) else ""

        def value(name: str) -> float:
            return _num(path, f"line {rec.get(name, (0,))[0]} INTID {intid} phase {col} {name}", cell(name))

        if cell("BRP") == "" or cell("MaxGreen") == "":
            continue  # Synchro lists a BRP for every column; a phase in use has a MaxGreen
        num = int(col.lstrip("D")) if col.lstrip("D").isdigit() else k + 1
        phases[num] = UtdfPhase(
            num, int(value("BRP")), value("MinGreen"), value("MaxGreen"), value("Yellow"), value("AllRed"),
            value("Walk"), value("DontWalk"), value("Start"), value("End"), value("MinSplit"),
            None if cell("PedCalls") == "" else value("PedCalls"),
            None if cell("LocalStart") == "" else value("LocalStart"))
    ref_num = int(number("Reference Phase", "Reference Phase"))
    ref_phases = tuple(p for p in ((ref_num // 100, ref_num % 100) if ref_num > 99 else (ref_num,)) if p)
    shared = tuple(int(v) for k in range(1, 8)
                   if (v := number(f"Node {k}", f"Node {k}")) and int(v) != intid)
    return UtdfIntersection(
        intid, names.get(intid, str(intid)), int(number("Control Type", "Control Type")),
        number("Cycle Length", "Cycle Length"), number("Offset", "Offset"),
        int(number("Referenced To", "Referenced To")), ref_phases, phases, lanes.get(intid, {}),
        frozenset(rec), shared)


# Plans from a UTDF file ------------------------------------------------------------
@dataclass(frozen=True)
class _Stage:
    """One stage of a rebuilt timeline: its times [s] and the phases (serving something) green in it."""

    green_s: float
    yellow_s: float
    all_red_s: float
    green: tuple[int, ...]


def _close(a: float, b: float) -> bool:
    return abs(a - b) < _TOL_S


def _check_rings(rec: UtdfIntersection, where: str, source: str | Path) -> None:
    """Refuse rings whose phases (in BRP order) do not run back to back over the cycle.

    Ring 1 runs round the cycle (ring 2 in a barrier group where ring 1 has
    no phase, as Synchro writes a T-junction's stem); every other ring fills
    the barrier groups it runs in.
    """
    cycle = rec.cycle_s
    seen: set[int] = set()
    for p in rec.phases.values():
        if p.ring not in (1, 2) or p.barrier < 1 or p.position < 1 or p.brp in seen:
            raise InputError(source, f"{where} phase {p.number}: BRP must be a barrier, ring 1 or 2 and a position "
                                     f"no other phase holds", p.brp)
        seen.add(p.brp)
    rings = [sorted((p for p in rec.phases.values() if p.ring == r), key=lambda p: p.brp) for r in (1, 2)]
    lead = [p for b in sorted({p.barrier for p in rec.phases.values()})
            for p in ([q for q in rings[0] if q.barrier == b] or [q for q in rings[1] if q.barrier == b])]
    total = round(sum(p.split_s for p in lead), 6)
    if not _close(total, cycle):
        who = "ring 1's splits" if lead == rings[0] else "the splits of ring 1 (ring 2 where ring 1 has no phase)"
        raise InputError(source, f"{where}: {who} sum to {total:g} s, not the Cycle Length", f"{cycle:g}")
    for p in rec.phases.values():
        if not _close(_mod(p.start_s + p.split_s, cycle), _mod(p.end_s, cycle)):
            raise InputError(source, f"{where} phase {p.number}: End is not Start + MaxGreen + Yellow + AllRed",
                             f"End {p.end_s:g}, Start {p.start_s:g}, split {p.split_s:g}")
    groups: dict[int, tuple[UtdfPhase, float]] = {}
    for p in lead:
        first, length = groups.get(p.barrier, (p, 0.0))
        groups[p.barrier] = (first, length + p.split_s)
    # the lead ring runs round the cycle; each ring runs back to back within each of its barrier groups
    pairs = [*zip(lead, lead[1:] + lead[:1]), *(pair for ring in rings for pair in zip(ring, ring[1:])
                                                if pair[0].barrier == pair[1].barrier)]
    for a, b in pairs:
        if not _close(_mod(a.end_s, cycle), _mod(b.start_s, cycle)):
            raise InputError(source, f"{where} ring {a.ring}: phase {b.number} does not start where phase "
                                     f"{a.number} ends", f"Start {b.start_s:g}, End {a.end_s:g}")
    for ring in rings:
        for barrier in sorted({p.barrier for p in ring}):
            mine = [p for p in ring if p.barrier == barrier]
            first, length = groups[barrier]
            span = round(sum(p.split_s for p in mine), 6)
            if not _close(_mod(mine[0].start_s, cycle), _mod(first.start_s, cycle)) or not _close(span, length):
                raise InputError(source, f"{where} barrier group {barrier}: ring {mine[0].ring}'s phases run "
                                         f"{span:g} s from Start {mine[0].start_s:g}, ring {first.ring}'s "
                                         f"{length:g} s from {first.start_s:g}", ",".join(str(p.number) for p in mine))


def _timeline(rec: UtdfIntersection, real: Sequence[int], where: str, source: str | Path) -> list[_Stage]:
    """The stages of a checked ring timeline, from the start of barrier group 1 (see :func:`rebuild_plans`)."""
    cycle = rec.cycle_s
    base = min(rec.phases.values(), key=lambda p: p.brp).start_s
    rel = {n: _mod(p.start_s - base, cycle) for n, p in rec.phases.items()}
    starts = sorted(set(rel.values()))
    stages = []
    for i, t in enumerate(starts):
        length = round((starts[i + 1] if i + 1 < len(starts) else cycle) - t, 6)
        left = {n: round(rec.phases[n].max_green_s - _mod(t - rel[n], cycle), 6) for n in real}
        green = sorted(n for n in real if left[n] > _TOL_S)
        if not green:
            raise InputError(source, f"{where}: no phase serving a movement or crossing is green at Start "
                                     f"{_mod(base + t, cycle):g}", ",".join(map(str, sorted(rec.phases))))
        green_s = min(left[n] for n in green)
        ending = [n for n in green if _close(left[n], green_s)]
        if green_s > length + _TOL_S:  # every green runs on: a stage after which no movement stops
            green_s, ending = length, []
        for n in ending:
            p, q = rec.phases[n], rec.phases[ending[0]]
            if not (_close(p.yellow_s, q.yellow_s) and _close(p.all_red_s, q.all_red_s)):
                raise InputError(source, f"{where}: phases {q.number} and {n} end their green together with "
                                         f"different change intervals", f"Yellow {q.yellow_s:g}/{p.yellow_s:g}, "
                                         f"AllRed {q.all_red_s:g}/{p.all_red_s:g}")
        yellow, all_red = (rec.phases[ending[0]].yellow_s, rec.phases[ending[0]].all_red_s) if ending else (0.0, 0.0)
        late = [n for n in green if n not in ending and left[n] <= length + _TOL_S]
        if late or not _close(green_s + yellow + all_red, length):
            n = (late or ending)[0]
            raise InputError(source, f"{where} phase {n}: its green or change ends inside another phase's change, "
                                     f"which no stage sequence shows", f"Start {rec.phases[n].start_s:g}")
        stages.append(_Stage(green_s, yellow, all_red, tuple(green)))
    return stages


def _attach_crossings(signal: Signal, rec: UtdfIntersection, served: Mapping[int, frozenset[int]],
                      stages: Sequence[_Stage], spans: Mapping[int, int], *,
                      lenient: bool = False) -> dict[int, set[int]]:
    """Crossings per phase with a walk, by ``dual_ring``'s rule (see :func:`rebuild_plans`).

    ``lenient`` (a file from elsewhere, which need not follow ``dual_ring``): a phase that walks no crossing yet
    goes first, as Synchro gives each through phase its own walk, and a crossing may walk with a phase where every
    foe green in that phase's own stages is a turn that yields to it (and so shows ``g`` there); a protected left
    in another stage of the barrier group no longer keeps the walk from the through phase.
    """
    walking = [rec.phases[n] for n in served if rec.phases[n].walk_s > 0]
    walking.sort(key=lambda p: (spans[p.number], p.ring, p.barrier, p.position))
    crossings: dict[int, set[int]] = {p.number: set() for p in walking}
    vehicles = [set().union(*(served[n] for n in s.green)) for s in stages]

    def runs_with(k: int, p: UtdfPhase) -> bool:
        others = [q.number for q in rec.phases.values() if q.barrier == p.barrier and q.ring != p.ring]
        greens = set(served[p.number]).union(*(served.get(n, ()) for n in others))
        trial = {n: ks | {k} if n == p.number else ks for n, ks in crossings.items()}

        def yields_always(j: int) -> bool:
            """``j`` shows ``g`` wherever it is green (given the crossings placed so far and ``k``)."""
            return all(any(signal.are_foes(j, x) and signal.yields_to(j, x)
                           for x in vehicles[i].union(*(trial.get(n, ()) for n in s.green)))
                       for i, s in enumerate(stages) if j in vehicles[i])

        # a foe may run with the walk only as a turn that yields to it and shows g (a through never does)
        return all(not signal.are_foes(k, j) or (signal.links[j].direction in _TURNS and signal.yields_to(j, k)
                                                 and yields_always(j)) for j in greens)

    def runs_in_its_stages(k: int, p: UtdfPhase) -> bool:
        return all(not signal.are_foes(k, j) or (signal.links[j].direction in _TURNS and signal.yields_to(j, k))
                   for i, s in enumerate(stages) if p.number in s.green for j in vehicles[i])

    for k in sorted(signal.ped_links):
        for p in sorted(walking, key=lambda p: bool(crossings[p.number])) if lenient else walking:
            if (runs_in_its_stages if lenient else runs_with)(k, p):
                crossings[p.number].add(k)
                break
    return crossings


def _state(signal: Signal, greens: set[int]) -> str:
    """``G`` on each green link, ``g`` where it yields to a foe green with it (netconvert's rule), ``r`` elsewhere."""
    def char(k: int) -> str:
        if k not in greens:
            return "r"
        return "g" if any(signal.yields_to(k, j) and signal.are_foes(k, j) for j in greens) else "G"

    return "".join(char(k) for k in range(signal.n_links))


def _check_header(rec: UtdfIntersection, where: str, source: str | Path) -> None:
    """Refuse a plan that is not pretimed, has no cycle or phases, or whose Reference Phase is not at Start 0."""
    if rec.control_type != CONTROL_PRETIMED or rec.referenced_to != REFERENCED_TO_BEGIN_OF_GREEN:
        raise InputError(source, f"{where}: only pretimed plans (Control Type {CONTROL_PRETIMED}) with offsets to the "
                                 f"begin of green (Referenced To {REFERENCED_TO_BEGIN_OF_GREEN}) are read",
                         f"Control Type {rec.control_type}, Referenced To {rec.referenced_to}")
    if rec.cycle_s <= 0 or not rec.phases:
        raise InputError(source, f"{where}: no cycle or no phases", f"Cycle Length {rec.cycle_s:g}")
    refs = [n for n in rec.reference_phases if n in rec.phases]
    if (not refs or len(refs) != len(rec.reference_phases)
            or not _close(min(_mod(rec.phases[n].start_s, rec.cycle_s) for n in refs), 0.0)):
        raise InputError(source, f"{where}: Reference Phase must name phases of [Phases], the earlier one at Start 0",
                         ", ".join(f"phase {n} Start {rec.phases[n].start_s:g}" if n in rec.phases else f"phase {n}"
                                   for n in rec.reference_phases) or "none")


def _phases_of_links(rec: UtdfIntersection, signal: Signal, columns: Mapping[int, str] | None, where: str,
                     source: str | Path) -> dict[int, frozenset[int]]:
    """The phases each vehicle link runs in: those its lane-group column names in ``[Lanes]``."""
    vehicle = [k for k in range(signal.n_links) if k not in signal.ped_links and signal.links[k].approach]
    if vehicle and not rec.lanes:
        raise InputError(source, f"{where}: no [Lanes] phase rows, so no phase maps to the signal's vehicle links",
                         f"{len(vehicle)} links")
    found = {k: movement_column(signal, k) if columns is None else columns.get(k, "") for k in vehicle}
    for k, col in found.items():
        if not col:
            reason = "its approach has no compass leg" if columns is None else "no UTDF direction maps to its approach"
            raise InputError(source, f"{where}: link {k} (from {signal.links[k].approach}) has no lane-group column: "
                                     f"{reason}", signal.links[k].approach)
    for col, group in rec.lanes.items():
        missing = sorted(group.phases - set(rec.phases))
        if missing:
            raise InputError(source, f"{where} [Lanes] {col}: names a phase that is not in [Phases]", missing[0])
        if group.phases and col not in found.values():
            raise InputError(source, f"{where} [Lanes] {col}: the signal has no link in this lane group",
                             ",".join(map(str, sorted(group.phases))))
    empty = UtdfLaneGroup()
    return {k: rec.lanes.get(col, empty).phases for k, col in found.items()}


def _walks(rec: UtdfIntersection, signal: Signal, served: Mapping[int, frozenset[int]], stages: Sequence[_Stage],
           where: str, source: str | Path, *, lenient: bool) -> tuple[dict[int, set[int]], list[str]]:
    """Crossings per walking phase, checked; with ``lenient``, a Walk no crossing is left for is dropped (noted)."""
    spans = {n: sum(n in s.green for s in stages) for n in served}
    crossings = _attach_crossings(signal, rec, served, stages, spans, lenient=lenient)
    notes = []
    for n, ks in crossings.items():
        p = rec.phases[n]
        if not ks and lenient:
            notes.append(f"phase {n}: Walk {p.walk_s:g} s dropped: no crossing of the signal is left to walk with it")
            continue
        if not ks:
            raise InputError(source, f"{where} phase {n}: has a Walk but no crossing of the signal can run with it",
                             f"Walk {p.walk_s:g}")
        if spans[n] > 1:
            raise InputError(source, f"{where} phase {n}: walks across {spans[n]} stages; a stage times its own walk "
                                     f"and clearance", f"Walk {p.walk_s:g}")
        if not _close(p.walk_s + p.dont_walk_s, p.max_green_s):
            raise InputError(source, f"{where} phase {n}: Walk + DontWalk is not MaxGreen (the walk rests until the "
                                     f"clearance ends the green)", f"Walk {p.walk_s:g}, DontWalk {p.dont_walk_s:g}, "
                                     f"MaxGreen {p.max_green_s:g}")
    return crossings, notes


def _stage(rec: UtdfIntersection, signal: Signal, s: _Stage, greens: set[int], peds: Sequence[UtdfPhase],
           timing: TimingOptions, where: str, source: str | Path, *, number: int,
           lenient: bool) -> tuple[Phase, list[str]]:
    """One stage of the rebuilt plan: its state, times and pedestrian timing (see :func:`rebuild_plans`)."""
    notes = []
    clearance = max((p.dont_walk_s for p in peds), default=0.0)
    if len({p.dont_walk_s for p in peds}) > 1:
        together = "+".join(str(p.number) for p in peds)
        if not lenient:
            raise InputError(source, f"{where}: phases {together} walk together with different DontWalk",
                             ",".join(f"{c:g}" for c in sorted({p.dont_walk_s for p in peds})))
        # a stage times one clearance: the longest keeps every crossing's pedestrians safe
        notes.append(f"phases {together} walk together with DontWalk "
                     f"{', '.join(f'{p.dont_walk_s:g}' for p in peds)} s: all clear for {clearance:g} s")
    # MinSplit holds the pedestrian minimum where it is the larger one (to 0.1 s, rounded up)
    walk = max((round(p.min_split_s - p.yellow_s - p.all_red_s - clearance, 6) for p in peds), default=0.0)
    if peds and walk <= 0:
        raise InputError(source, f"{where} phase {peds[0].number}: MinSplit leaves no minimum walk after "
                                 f"Yellow, AllRed and DontWalk", f"MinSplit {peds[0].min_split_s:g}")
    min_green = min(rec.phases[n].min_green_s for n in s.green)
    try:
        return Phase(
            name="phases " + "+".join(map(str, s.green)), state=_state(signal, greens), green_s=s.green_s,
            yellow_s=s.yellow_s, all_red_s=s.all_red_s, min_green_s=min(min_green, s.green_s),
            max_green_s=max(timing.max_green_s, s.green_s),
            min_yellow_s=s.yellow_s if s.yellow_s >= ABSOLUTE_MIN_YELLOW_S - EPS_S else 0.0,
            min_all_red_s=s.all_red_s, walk_s=walk, ped_clearance_s=clearance), notes
    except PlanError as exc:
        raise InputError(source, f"{where} stage {number} (phases {'+'.join(map(str, s.green))}): not a valid "
                                 f"stage", str(exc)) from None


def intersection_plan(rec: UtdfIntersection, signal: Signal, *, source: str | Path,
                      timing: TimingOptions | None = None, columns: Mapping[int, str] | None = None,
                      lenient: bool = False) -> tuple[TimingPlan, tuple[str, ...]]:
    """The timing plan of one UTDF intersection on ``signal`` (see :func:`rebuild_plans` for the rules).

    Parameters
    ----------
    rec
        The intersection as read (pretimed, offset to the begin of green of its Reference Phase at Start 0).
    signal
        The network's signal it times.
    source
        The file, named in errors.
    timing
        Bounds for the stages' maximum greens (default :class:`TimingOptions`).
    columns
        Each vehicle link's lane-group column (``NBL``...); default :func:`movement_column` (by compass leg).
    lenient
        Where a file from elsewhere differs from what :func:`utdf_text` writes in ways a plan can still hold,
        note it instead of refusing: crossings go to the walking phases by the stages they run in (a walking
        phase with none yet first, see ``_attach_crossings``), a Walk no crossing is left to walk with is dropped,
        and phases walking in one stage with different DontWalk all clear for the longest.

    Returns
    -------
    tuple
        The plan and the notes of what ``lenient`` changed (one line each).

    Raises
    ------
    InputError
        One line naming ``source``, the INTID and the value, as :func:`rebuild_plans` lists.
    """
    timing = timing or TimingOptions()
    where = f"UTDF INTID {rec.intid} ({signal.id})"
    _check_header(rec, where, source)
    phases_of = _phases_of_links(rec, signal, columns, where, source)
    served = {n: frozenset(k for k, ps in phases_of.items() if n in ps) for n in rec.phases}
    walking = {n for n, p in rec.phases.items() if p.walk_s > 0}
    for n, p in rec.phases.items():
        if not served[n] and n not in walking and (p.yellow_s > 0 or p.all_red_s > 0):
            raise InputError(source, f"{where} phase {n}: serves no lane group and no crossing, so it is an idle "
                                     f"ring's phase, which has no change interval", f"Yellow {p.yellow_s:g}, "
                                     f"AllRed {p.all_red_s:g}")
    real = sorted(n for n in rec.phases if served[n] or n in walking)
    _check_rings(rec, where, source)
    stages = _timeline(rec, real, where, source)
    crossings, notes = _walks(rec, signal, {n: served[n] for n in real}, stages, where, source, lenient=lenient)
    out = []
    for i, s in enumerate(stages):
        greens = {k for k, ps in phases_of.items() if ps & set(s.green)}
        greens |= set().union(*(crossings.get(n, set()) for n in s.green))
        phase, more = _stage(rec, signal, s, greens, [rec.phases[n] for n in s.green if crossings.get(n)], timing,
                             where, source, number=i + 1, lenient=lenient)
        out.append(phase)
        notes += more
    base = min(rec.phases.values(), key=lambda p: p.brp).start_s
    try:
        plan = TimingPlan(signal.id, tuple(out), offset_s=_mod(rec.offset_s + base, rec.cycle_s),
                          ped_links=signal.ped_links, program_id="utdf")
    except PlanError as exc:
        raise InputError(source, f"{where}: not a valid plan", str(exc)) from None
    return plan, tuple(notes)


def rebuild_plans(utdf: UtdfFile, network: Network, *, source: str | Path,
                  timing: TimingOptions | None = None) -> PlanSet:
    """Timing plans rebuilt from a UTDF file as :func:`utdf_text` writes it (read by :func:`read_utdf`).

    Per intersection (``[Nodes]`` ``DESCRIPTION`` = the network's signal id):

    * **Links.**  Each vehicle link's lane-group column is
      :func:`movement_column`; the link is green whenever one of the phases
      its column names in ``[Lanes]`` (``Phase1..4``: phases serving it,
      overlap parents included; ``PermPhase1..4``: phases letting it go
      permissively) is green.
    * **Stages.**  The rings are checked to run back to back (ring 1 over
      the cycle, ring 2 where ring 1 has no phase; each ring over each
      barrier group it runs in).  A stage begins
      wherever a phase begins; its green lasts until the first phase green
      at its start ends its green (``Start + MaxGreen``), then come that
      phase's ``Yellow`` and ``AllRed`` up to the next stage.  Phases that
      serve nothing (an idle ring's dummy phase) only fill time.  Stages are
      in cycle order from the start of barrier group 1 (the group holding
      the exported plan's first stage, see
      :func:`~signalopt.formats.nema.dual_ring`), so writing the plans
      again gives the same file.
    * **States.**  ``G`` on each green link, ``g`` where it must yield
      (``Signal.yields_to``) to a foe green in the same stage, as
      netconvert writes states.
    * **Crossings.**  UTDF names no crossing, so each crossing of the
      signal, in link order, goes to a phase with a ``Walk`` by
      ``dual_ring``'s rule: the first -- fewest stages, then ring 1, then
      barrier and ring position -- that can run with it, together with
      every phase of the other ring of its barrier group, without
      conflicting greens.  A foe green in those phases must be a turn
      (left or right) that yields to the crossing and shows ``g`` wherever
      it is green (given the crossings placed so far); a through never
      runs across a walk, as in netconvert's programmes.  ``dual_ring``
      chooses among the phases that run throughout the crossing's own
      stages, which UTDF does not record; the rule finds the same phase
      wherever no other phase with a walk could take the crossing first.
      A phase's crossings walk for ``Walk`` (= ``MaxGreen - DontWalk``),
      then clear for ``DontWalk``.
    * **Offset.**  ``Offset`` is to the begin of green of the reference
      phase (``Start`` 0); the plan's offset is that plus the ``Start`` of
      its first stage.

    UTDF does not carry the rest, so each stage gets: ``min_green_s`` the
    smallest ``MinGreen`` of its phases, at most its green (never below the
    exported stage's, and writing the plan again gives the same
    ``MinGreen``); ``walk_s`` ``MinSplit - Yellow - AllRed - DontWalk`` of
    its walking phase (the minimum walk where the pedestrian minimum sets
    ``MinSplit``, to 0.1 s rounded up; more where the vehicle minimum
    does); ``min_yellow_s`` its yellow (0 below the 3 s floor, which the
    safety check asks for), ``min_all_red_s`` its all-red, ``max_green_s``
    the larger of ``timing.max_green_s`` and its green; the standard
    interstage (no ``change``); ``program_id`` ``"utdf"``.  See
    :func:`compare_as_utdf` for what equal plans mean.

    Parameters
    ----------
    utdf
        The file as read.
    network
        The network whose signals the intersections name.
    source
        The file, named in errors.
    timing
        Bounds for the stages' maximum greens (default :class:`TimingOptions`).

    Raises
    ------
    InputError
        One line naming ``source``, the INTID (phase, record) and the value,
        for anything that does not map: an intersection whose
        ``DESCRIPTION`` is not a signal of ``network`` (or named twice), a
        plan that is not pretimed or not referenced to the begin of green,
        a missing ``[Lanes]`` for a signal with vehicle links, a lane group
        naming a phase not in ``[Phases]`` or with no link of the signal, a
        link without a compass leg, rings that do not add up to the cycle or
        run back to back, greens or changes that end inside another phase's
        change, a phase with a walk no crossing can run with, a walk across
        several stages, and stages or plans the constructors refuse.
    """
    timing = timing or TimingOptions()
    plans = []
    seen: set[str] = set()
    for rec in utdf.intersections:
        if rec.name not in network.signal_ids or rec.name in seen:
            what = "is not a signal of the network" if rec.name not in seen else "names a signal named before"
            raise InputError(source, f"UTDF INTID {rec.intid}: [Nodes] DESCRIPTION {what} {network.path.name}",
                             rec.name)
        seen.add(rec.name)
        plans.append(intersection_plan(rec, network.signal(rec.name), source=source, timing=timing)[0])
    return PlanSet(tuple(plans), name=Path(source).stem)


def compare_as_utdf(plan: TimingPlan, rebuilt: TimingPlan, *, tol_s: float = 0.05) -> list[str]:
    """How ``rebuilt`` differs from ``plan`` in what UTDF carries; empty when they are equal.

    Compared: the signal, the cycle, the stages in cyclic order with the
    offset (``rebuilt``'s first stage must start, in the shared clock, where
    one of ``plan``'s stages does, and the stages then agree one by one),
    and per stage the state (exactly), green, yellow and all-red, whether it
    serves pedestrians and then the walk it shows (``green_s -
    ped_clearance_s``) and the pedestrian clearance; times within
    ``tol_s`` [s].

    Ignored, as UTDF does not carry them: which stage the plan lists first
    (only the cyclic order and the offset), how a stage after which every
    green runs on splits its time into green, yellow and all-red (no phase
    ends there, so UTDF times no change interval; its split is compared),
    the stored interstage (``Phase.change``; the standard one is rebuilt),
    stage names, the programme id, and the promises ``min_green_s``, ``max_green_s``,
    ``min_yellow_s``, ``min_all_red_s`` and ``walk_s`` (UTDF's ``MinGreen``
    and ``MinSplit`` are per phase, across stages).
    """
    if plan.signal_id != rebuilt.signal_id:
        return [f"signal {rebuilt.signal_id!r}, not {plan.signal_id!r}"]
    cycle, n = plan.cycle_s, len(plan.phases)
    if abs(rebuilt.cycle_s - cycle) > tol_s or len(rebuilt.phases) != n:
        return [f"{plan.signal_id}: cycle {rebuilt.cycle_s:g} s with {len(rebuilt.phases)} stages, not {cycle:g} s "
                f"with {n}"]
    out = []
    if rebuilt.ped_links != plan.ped_links:
        out.append(f"{plan.signal_id}: crossings {sorted(rebuilt.ped_links)}, not {sorted(plan.ped_links)}")
    starts = plan.phase_starts_s()

    def gap(i: int) -> float:
        d = (plan.offset_s + starts[i] - rebuilt.offset_s) % cycle
        return min(d, cycle - d)

    first = min(range(n), key=gap)
    if gap(first) > tol_s:
        return out + [f"{plan.signal_id}: offset {rebuilt.offset_s:g} s starts no stage of the plan (offset "
                      f"{plan.offset_s:g} s, stages at {', '.join(f'{s:g}' for s in starts)} s)"]
    for j, got in enumerate(rebuilt.phases):
        i = (first + j) % n
        want, after = plan.phases[i], plan.phases[(i + 1) % n]
        where = f"{plan.signal_id} stage {i + 1} (rebuilt {j + 1})"
        if got.state != want.state:
            out.append(f"{where}: state {got.state}, not {want.state}")
        # after a stage whose every green runs on (only an idle ring's dummy phase ends) UTDF times no change
        # interval: its yellow and all-red show the same greens, and come back as green
        runs_on = got.yellow_s + got.all_red_s <= tol_s and not want.serves_pedestrians and all(
            after.state[k] in GREEN_CHARS for k, c in enumerate(want.state)
            if c in GREEN_CHARS and k not in plan.ped_links)
        pairs = ([("green + yellow + all-red", got.split_s, want.split_s)] if runs_on else
                 [("green", got.green_s, want.green_s), ("yellow", got.yellow_s, want.yellow_s),
                  ("all-red", got.all_red_s, want.all_red_s)])
        if got.serves_pedestrians != want.serves_pedestrians:
            out.append(f"{where}: serves pedestrians {got.serves_pedestrians}, not {want.serves_pedestrians}")
        elif want.serves_pedestrians:
            pairs += [("walk shown", got.green_s - got.ped_clearance_s, want.green_s - want.ped_clearance_s),
                      ("pedestrian clearance", got.ped_clearance_s, want.ped_clearance_s)]
        out += [f"{where}: {what} {a:g} s, not {b:g} s" for what, a, b in pairs if abs(a - b) > tol_s]
    return out
