"""Synchro UTDF combined CSV (``[Network]``, ``[Nodes]``, ``[Lanes]``, ``[Timeplans]``, ``[Phases]``) and its reader.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._xml import check_file
from ..errors import InputError, PlanError
from .nema import VEHICLE_EXTENSION_S, DualRing, dual_ring, reference_offset_s
from ..network import Network, Signal
from ..plan import EPS_S, PlanSet, TimingPlan
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
PERMISSIVE_RECORDS = ("PermPhase1", "PermPhase2")


@dataclass(frozen=True)
class UtdfPhase:
    """One phase column of ``[Phases]`` (times [s])."""

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
    parents included), ``permissive`` from ``PermPhase1..2`` (phases that
    let it go while it yields).
    """

    protected: tuple[int, ...] = ()
    permissive: tuple[int, ...] = ()

    @property
    def phases(self) -> frozenset[int]:
        return frozenset(self.protected + self.permissive)


@dataclass(frozen=True)
class UtdfIntersection:
    """One intersection of a UTDF file: its timing plan, phases and lane groups."""

    intid: int
    name: str
    control_type: int
    cycle_s: float
    offset_s: float
    referenced_to: int
    reference_phases: tuple[int, ...]
    phases: Mapping[int, UtdfPhase]
    lanes: Mapping[str, UtdfLaneGroup] = field(default_factory=dict)

    def phase_offset_s(self, number: int) -> float:
        """Start of phase ``number``'s green in the shared clock, modulo the cycle [s]."""
        return _mod(self.offset_s + self.phases[number].start_s, self.cycle_s)


@dataclass(frozen=True)
class UtdfFile:
    version: int | None
    intersections: tuple[UtdfIntersection, ...]

    def __getitem__(self, name: str) -> UtdfIntersection:
        for i in self.intersections:
            if i.name == name or str(i.intid) == str(name):
                return i
        raise KeyError(name)


def _sections(path: Path, text: str) -> dict[str, list[list[str]]]:
    """Rows of each ``[Section]`` after its title line (``#`` comment lines and blank lines skipped)."""
    out: dict[str, list[list[str]]] = {}
    current: str | None = None
    skip_title = False
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    for row in csv.reader(lines):
        cells = [c.strip() for c in row]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            continue
        if cells[0].startswith("[") and cells[0].endswith("]"):
            current = cells[0][1:-1]
            out[current] = []
            skip_title = True
            continue
        if current is None:
            raise InputError(path, "UTDF data before the first [section]", ",".join(cells))
        if skip_title:
            skip_title = False
            continue
        out[current].append(cells)
    return out


def _table(path: Path, section: str, rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    if not rows:
        raise InputError(path, f"UTDF [{section}] has no header row", None)
    return rows[0], rows[1:]


def _num(path: Path, where: str, value: str) -> float:
    if value == "":
        return 0.0
    try:
        return float(value)
    except ValueError:
        raise InputError(path, f"UTDF {where}: not a number", value) from None


def _lane_groups(path: Path, rows: list[list[str]]) -> dict[int, dict[str, UtdfLaneGroup]]:
    """``[Lanes]`` phase records per INTID and column (records other than the phase ones are skipped)."""
    head, body = _table(path, "Lanes", rows)
    if head[:2] != ["RECORDNAME", "INTID"]:
        raise InputError(path, "UTDF [Lanes] header must start RECORDNAME,INTID", ",".join(head))
    found: dict[int, dict[str, tuple[list[int], list[int]]]] = {}
    for row in body:
        if len(row) < 2 or row[0] not in PROTECTED_RECORDS + PERMISSIVE_RECORDS:
            continue
        intid = int(_num(path, "[Lanes] INTID", row[1]))
        for column, cell in zip(head[2:], row[2:]):
            if cell == "":
                continue
            where = f"[Lanes] INTID {intid} {row[0]} {column}"
            number = _num(path, where, cell)
            if number != int(number) or number < 1:
                raise InputError(path, f"UTDF {where}: not a phase number", cell)
            pair = found.setdefault(intid, {}).setdefault(column, ([], []))
            pair[0 if row[0] in PROTECTED_RECORDS else 1].append(int(number))
    return {intid: {col: UtdfLaneGroup(tuple(p), tuple(q)) for col, (p, q) in cols.items()}
            for intid, cols in found.items()}


def read_utdf(path: str | Path) -> UtdfFile:
    """Read a UTDF combined CSV as signalopt writes it (``[Timeplans]``, ``[Phases]``, ``[Lanes]``, ``[Nodes]``).

    Raises
    ------
    InputError
        Missing file, sections or records, or values that are not numbers.
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
    version = None
    for row in sections.get("Network", [])[1:]:
        if row and row[0].upper() == "UTDFVERSION" and len(row) > 1:
            version = int(_num(path, "UTDFVERSION", row[1]))
    names: dict[int, str] = {}
    if "Nodes" in sections:
        head, body = _table(path, "Nodes", sections["Nodes"])
        if "INTID" in head and "DESCRIPTION" in head:
            i, d = head.index("INTID"), head.index("DESCRIPTION")
            for row in body:
                if len(row) > max(i, d):
                    names[int(_num(path, "[Nodes] INTID", row[i]))] = row[d]
    lanes = _lane_groups(path, sections["Lanes"]) if "Lanes" in sections else {}
    head, body = _table(path, "Timeplans", sections["Timeplans"])
    if head[:3] != ["RECORDNAME", "INTID", "DATA"]:
        raise InputError(path, "UTDF [Timeplans] header must be RECORDNAME,INTID,DATA", ",".join(head))
    plans: dict[int, dict[str, str]] = {}
    for row in body:
        if len(row) >= 2:
            plans.setdefault(int(_num(path, "[Timeplans] INTID", row[1])), {})[row[0]] = row[2] if len(row) > 2 else ""
    head, body = _table(path, "Phases", sections["Phases"])
    if head[:2] != ["RECORDNAME", "INTID"]:
        raise InputError(path, "UTDF [Phases] header must start RECORDNAME,INTID", ",".join(head))
    columns = head[2:]
    records: dict[int, dict[str, list[str]]] = {}
    for row in body:
        if len(row) >= 2:
            records.setdefault(int(_num(path, "[Phases] INTID", row[1])), {})[row[0]] = row[2:]
    out = []
    for intid in sorted(plans):
        tp = plans[intid]
        for need in ("Cycle Length", "Offset"):
            if need not in tp:
                raise InputError(path, f"UTDF [Timeplans] of INTID {intid}: record {need!r} missing", None)
        rec = records.get(intid, {})
        for need in ("BRP", "MaxGreen", "Yellow", "AllRed"):
            if need not in rec:
                raise InputError(path, f"UTDF [Phases] of INTID {intid}: record {need!r} missing", None)
        phases = {}
        for k, col in enumerate(columns):
            def cell(name: str) -> str:
                vals = rec.get(name, [])
                return vals[k] if k < len(vals) else ""
            if cell("BRP") == "":
                continue
            number = int(col.lstrip("D")) if col.lstrip("D").isdigit() else k + 1
            where = f"INTID {intid} phase {number}"
            phases[number] = UtdfPhase(
                number, int(_num(path, f"{where} BRP", cell("BRP"))), _num(path, f"{where} MinGreen", cell("MinGreen")),
                _num(path, f"{where} MaxGreen", cell("MaxGreen")), _num(path, f"{where} Yellow", cell("Yellow")),
                _num(path, f"{where} AllRed", cell("AllRed")), _num(path, f"{where} Walk", cell("Walk")),
                _num(path, f"{where} DontWalk", cell("DontWalk")), _num(path, f"{where} Start", cell("Start")),
                _num(path, f"{where} End", cell("End")), _num(path, f"{where} MinSplit", cell("MinSplit")))
        ref = tp.get("Reference Phase", "")
        ref_num = int(_num(path, f"INTID {intid} Reference Phase", ref)) if ref else 0
        ref_phases = tuple(p for p in ((ref_num // 100, ref_num % 100) if ref_num > 99 else (ref_num,)) if p)
        out.append(UtdfIntersection(
            intid, names.get(intid, str(intid)), int(_num(path, "Control Type", tp.get("Control Type", ""))),
            _num(path, f"INTID {intid} Cycle Length", tp["Cycle Length"]),
            _num(path, f"INTID {intid} Offset", tp["Offset"]),
            int(_num(path, "Referenced To", tp.get("Referenced To", ""))), ref_phases, phases,
            lanes.get(intid, {})))
    return UtdfFile(version, tuple(out))

