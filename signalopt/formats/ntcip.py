"""NTCIP 1202-shaped timing sheet: phase, split, pattern and sequence tables per signal (CSV or JSON).

Each signal is a separate controller unit with one coordination pattern
(pattern 1, split table 1, sequence 1).  Phases, rings, barriers, dummy
phases and overlaps are those of :func:`signalopt.formats.nema.dual_ring`;
the coordinated phases (``splitCoordPhase``) are group 1's through phases
and ``patternOffsetTime`` is measured to the start of green of the earlier
of them.  The sequence table lists each ring's phases in service order
(leading or lagging lefts as planned); the overlap table (``overlapType`` 2,
normal) lists an overlap's parent phases.

Actuated plans (:mod:`signalopt.actuated`): ``phaseMinimumGreen``,
``phasePassage``, ``phaseMaximum1`` and ``phaseMaximum2`` are the actuated
settings (a NEMA phase over several stages runs each stage's minimum or
maximum in turn, the change intervals between them included; its passage is
its last stage's), and ``splitMode`` carries the recall (3 minimum vehicle,
5 pedestrian where the phase walks, 4/6 maximum); fixed-time plans write
``phasePassage`` 0 and every phase on maximum recall.  A free actuated plan
runs without a cycle: its pattern has ``patternCycleTime`` and
``patternOffsetTime`` 0 (the controllers' convention for a pattern that runs
free with its own sequence, split modes and maxima) and no coordinated phase;
its split times are the plan's fixed-time fallback, which a free pattern
does not time.

Units follow NTCIP 1202: ``phaseYellowChange``, ``phaseRedClear`` and
``phasePassage`` in tenths of a second; ``phaseMinimumGreen``, ``phaseWalk``,
``phasePedestrianClear``, ``phaseMaximum1``, ``phaseMaximum2``, ``splitTime``,
``patternCycleTime`` and ``patternOffsetTime`` in whole seconds; all of
them 0..255.  Splits are whole seconds, so a plan's splits (0.1 s) are
rounded to seconds keeping their sum equal to the cycle and never below a
phase's minimum split; the green absorbs the rounding, yellow and all-red
are kept to the tenth.  The walk is the walk the plan shows (green minus the
pedestrian clearance, rounded down), the pedestrian clearance is rounded up.
Values outside the standard's ranges are refused, nothing is rounded into
range.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import replace
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InputError, PlanError
from .nema import NemaPhase, dual_ring, reference_offset_s
from ..network import Network, Signal
from ..plan import EPS_S, PlanSet, TimingPlan
from ..programs import stage_requirements
from ..options import TimingOptions

#: NTCIP 1202 range of the timing objects written here (seconds or tenths).
NTCIP_MAX = 255

#: Unit of every field written (for the JSON sheet and the CSV header comment).
FIELD_UNITS = {
    "phaseMinimumGreen": "s", "phaseWalk": "s", "phasePedestrianClear": "s", "phaseYellowChange": "0.1 s",
    "phaseRedClear": "0.1 s", "phaseMaximum1": "s", "phaseMaximum2": "s", "phasePassage": "0.1 s",
    "splitTime": "s", "patternCycleTime": "s", "patternOffsetTime": "s",
}
PHASE_FIELDS = ("phaseNumber", "phaseMinimumGreen", "phasePassage", "phaseWalk", "phasePedestrianClear",
                "phaseYellowChange", "phaseRedClear", "phaseMaximum1", "phaseMaximum2", "phaseRing",
                "phaseConcurrency", "description")
SPLIT_FIELDS = ("splitNumber", "splitPhase", "splitTime", "splitMode", "splitCoordPhase")
PATTERN_FIELDS = ("patternNumber", "patternCycleTime", "patternOffsetTime", "patternSplitNumber",
                  "patternSequenceNumber")
SEQUENCE_FIELDS = ("sequenceNumber", "sequenceRingNumber", "sequenceData")
OVERLAP_FIELDS = ("overlapNumber", "overlapType", "overlapIncludedPhases", "overlapModifierPhases",
                  "overlapTrailGreen", "description")
TABLES = {"phaseTable": PHASE_FIELDS, "splitTable": SPLIT_FIELDS, "patternTable": PATTERN_FIELDS,
          "sequenceTable": SEQUENCE_FIELDS, "overlapTable": OVERLAP_FIELDS}
#: NTCIP 1202 overlapType: normal (green while an included phase is green or moving between included phases).
OVERLAP_TYPE_NORMAL = 2
#: Fields that hold a list of phase numbers, and free text (``description`` is signalopt's, not NTCIP's).
LIST_FIELDS = frozenset({"phaseConcurrency", "sequenceData", "overlapIncludedPhases", "overlapModifierPhases"})
TEXT_FIELDS = frozenset({"description", "approach", "lane"})
#: Fields of the responsive sheet's TRPS tables that hold a decimal number.
DECIMAL_FIELDS = frozenset({"entryLevelPct", "exitLevelPct", "smoothingPct", "occupancyWeightPct",
                            "distanceFromStopLine"})
#: NTCIP 1202 splitMode values used: no recall, minimum and maximum vehicle recall, pedestrian recall, and both.
SPLIT_MODE_NONE = 2
SPLIT_MODE_MIN_RECALL = 3
SPLIT_MODE_MAX_RECALL = 4
SPLIT_MODE_PED_RECALL = 5
SPLIT_MODE_MAX_VEHICLE_AND_PED_RECALL = 6


def _check_range(sid: str, field: str, value: int, what: str) -> int:
    if not 0 <= value <= NTCIP_MAX:
        unit = FIELD_UNITS.get(field, "")
        raise PlanError(f"signal {sid}: NTCIP {field} {value} {unit} for {what} is outside the standard's range "
                        f"0..{NTCIP_MAX}".replace("  ", " "))
    return value


def _whole_seconds(sid: str, field: str, value: float, what: str) -> int:
    if abs(value - round(value)) > EPS_S:
        raise PlanError(f"signal {sid}: NTCIP {field} is whole seconds; {what} is {value:g} s")
    return _check_range(sid, field, int(round(value)), what)


def _min_greens(plan: TimingPlan, signal: Signal, timing: TimingOptions) -> list[float]:
    """Per stage the larger of the plan's and the network's minimum green (vehicle and pedestrian) [s]."""
    out = []
    n = len(plan.phases)
    for i, p in enumerate(plan.phases):
        req = stage_requirements(signal, p.state, plan.phases[(i + 1) % n].state, timing)
        # walk and pedestrian clearance are whole seconds in the sheet, the clearance rounded up
        ped = (math.ceil(max(p.walk_s, req.walk_s) - EPS_S) + math.ceil(max(p.ped_clearance_s, req.ped_clearance_s)
                                                                         - EPS_S)) if req.walk_s else 0.0
        out.append(max(p.effective_min_green_s, req.min_green_s, ped))
    return out


def integer_splits(plan: TimingPlan, signal: Signal, timing: TimingOptions) -> list[int]:
    """Whole-second splits summing to the (whole-second) cycle, none below a stage's minimum split.

    The minimum split is the minimum green (plan and network, vehicles and
    pedestrians) plus yellow and all-red.  Largest-remainder rounding, a second going to a stage whose green
    stays within its maximum where one has room;
    raises :class:`PlanError` when no such rounding exists.
    """
    cycle = int(round(plan.cycle_s))
    mins = [math.ceil(g + p.yellow_s + p.all_red_s - EPS_S)
            for g, p in zip(_min_greens(plan, signal, timing), plan.phases)]
    raw = [p.split_s for p in plan.phases]
    out = [max(int(math.floor(s + EPS_S)), m) for s, m in zip(raw, mins)]
    rest = cycle - sum(out)
    while rest < 0:  # minimums pushed some splits up: take the seconds back where they are least missed
        cands = [i for i in range(len(out)) if out[i] > mins[i]]
        if not cands:
            break
        i = max(cands, key=lambda i: out[i] - raw[i])
        out[i] -= 1
        rest += 1
    # a green may not pass its stage's maximum: the seconds go where there is room, largest remainders first
    caps = [math.floor(p.max_green_s + p.yellow_s + p.all_red_s + EPS_S) for p in plan.phases]
    while rest > 0:
        room = [i for i in range(len(out)) if out[i] < caps[i]] or list(range(len(out)))
        i = max(room, key=lambda i: raw[i] - out[i])
        out[i] += 1
        rest -= 1
    if rest != 0 or any(o < m for o, m in zip(out, mins)):
        raise PlanError(f"signal {plan.signal_id}: splits {', '.join(f'{s:g}' for s in raw)} s cannot be rounded "
                        f"to whole seconds summing to the cycle {cycle} s without cutting a minimum split")
    return out


def rounded_plan(plan: TimingPlan, signal: Signal, timing: TimingOptions) -> TimingPlan:
    """``plan`` with whole-second splits (:func:`integer_splits`): the greens absorb the rounding."""
    splits = integer_splits(plan, signal, timing)
    phases = tuple(replace(p, green_s=round(s - p.yellow_s - p.all_red_s, 6), min_green_s=min(
        p.min_green_s, round(s - p.yellow_s - p.all_red_s, 6))) for p, s in zip(plan.phases, splits))
    return replace(plan, phases=phases)


def unit_tables(plan: TimingPlan, signal: Signal, timing: TimingOptions) -> dict[str, list[dict[str, Any]]]:
    """The NTCIP tables of one signal (rows as dicts, field names as in NTCIP 1202)."""
    sid = plan.signal_id
    dual_ring(plan, signal)  # refuse a plan no ring-and-barrier structure runs before rounding it
    free = plan.actuation is not None and plan.actuation.mode == "free"
    if free:  # no pattern cycle, but the split table still sums the fallback's splits to it
        _whole_seconds(sid, "splitTime", plan.cycle_s, "the fixed-time fallback's cycle")
    else:
        _whole_seconds(sid, "patternCycleTime", plan.cycle_s, "the cycle")
    whole = rounded_plan(plan, signal, timing)
    ring = dual_ring(whole, signal)
    offset_int = int(round(reference_offset_s(whole, ring))) % int(round(plan.cycle_s))
    n = len(plan.phases)
    phase_rows, split_rows = [], []
    for p in ring.phases:
        what = f"phase {p.number} ({p.kind} {'+'.join(p.approaches)})".replace(" )", ")")
        split = int(round(p.split_s))
        last = plan.phases[p.stage]
        walk = clear = 0
        if p.crossings:
            req = stage_requirements(signal, last.state, plan.phases[(p.stage + 1) % n].state, timing)
            clear = math.ceil(max(last.ped_clearance_s, req.ped_clearance_s) - EPS_S)
            walk = math.floor(p.green_s - clear + EPS_S)
            need = max(last.walk_s, req.walk_s)
            if walk < need - EPS_S:
                raise PlanError(f"signal {sid}: {what}: walk {walk} s after rounding is below the minimum "
                                f"{need:g} s")
        act = plan.actuation
        if p.kind == "dummy":
            min_green = 0
        elif act is not None:
            # an actuated phase over several stages runs each of them at least to its minimum
            min_green = math.ceil(sum(act.stages[i].min_green_s for i in p.stages)
                                  + sum(plan.phases[i].yellow_s + plan.phases[i].all_red_s for i in p.stages[:-1])
                                  - EPS_S)
        else:
            min_green = math.ceil(max(plan.phases[i].min_green_s for i in p.stages) - EPS_S)
        max1 = math.floor(p.green_s + EPS_S)
        passage = 0
        max2 = max1
        mode = SPLIT_MODE_MAX_VEHICLE_AND_PED_RECALL if walk else SPLIT_MODE_MAX_RECALL
        if act is not None and p.kind != "dummy":
            stages = [act.stages[i] for i in p.stages]
            extra = sum(plan.phases[i].yellow_s + plan.phases[i].all_red_s for i in p.stages[:-1])
            if act.mode == "free":  # coordinated: the maximum is the split (the force-off)
                max1 = math.floor(sum(st.max_green_s for st in stages) + extra + EPS_S)
            max2 = max(max1, math.floor(sum(st.max2_green_s or st.max_green_s for st in stages) + extra + EPS_S))
            passage = _tenths(sid, stages[-1].passage_s, what)
            if p.held or all(st.recall == "max" for st in stages):  # held: ends with the other ring's phase
                mode = SPLIT_MODE_MAX_VEHICLE_AND_PED_RECALL if walk else SPLIT_MODE_MAX_RECALL
            elif all(st.recall == "none" for st in stages):
                mode = SPLIT_MODE_NONE
            else:
                mode = SPLIT_MODE_PED_RECALL if walk else SPLIT_MODE_MIN_RECALL
        if max1 < min_green:
            raise PlanError(f"signal {sid}: {what}: phaseMaximum1 {max1} s (the green after rounding the split to "
                            f"{split} s, or the actuated maximum) is below phaseMinimumGreen {min_green} s")
        phase_rows.append({
            "phaseNumber": p.number,
            "phaseMinimumGreen": _check_range(sid, "phaseMinimumGreen", min_green, what),
            "phasePassage": _check_range(sid, "phasePassage", passage, what),
            "phaseWalk": _check_range(sid, "phaseWalk", walk, what),
            "phasePedestrianClear": _check_range(sid, "phasePedestrianClear", clear, what),
            "phaseYellowChange": _check_range(sid, "phaseYellowChange", _tenths(sid, p.yellow_s, what), what),
            "phaseRedClear": _check_range(sid, "phaseRedClear", _tenths(sid, p.all_red_s, what), what),
            "phaseMaximum1": _check_range(sid, "phaseMaximum1", max1, what),
            "phaseMaximum2": _check_range(sid, "phaseMaximum2", max2, what),
            "phaseRing": p.ring,
            "phaseConcurrency": ring.concurrent(p.number),
            "description": _describe(p, signal),
        })
        split_rows.append({
            "splitNumber": 1, "splitPhase": p.number, "splitTime": _check_range(sid, "splitTime", split, what),
            "splitMode": mode,
            "splitCoordPhase": 1 if p.number in ring.coordinated and not free else 0,
        })
    pattern = [{"patternNumber": 1, "patternCycleTime": 0 if free else int(round(plan.cycle_s)),
                "patternOffsetTime": 0 if free else _check_range(sid, "patternOffsetTime", offset_int, "the offset"),
                "patternSplitNumber": 1, "patternSequenceNumber": 1}]
    sequence = [{"sequenceNumber": 1, "sequenceRingNumber": r, "sequenceData": ring.ring_sequence(r)} for r in (1, 2)]
    overlaps = [{"overlapNumber": j + 1, "overlapType": OVERLAP_TYPE_NORMAL, "overlapIncludedPhases": list(o.parents),
                 "overlapModifierPhases": [], "overlapTrailGreen": 0,
                 "description": f"overlap {o.letter}: links {' '.join(map(str, sorted(o.links)))}"}
                for j, o in enumerate(ring.overlaps)]
    return {"phaseTable": phase_rows, "splitTable": split_rows, "patternTable": pattern, "sequenceTable": sequence,
            "overlapTable": overlaps}


def _describe(p: NemaPhase, signal: Signal) -> str:
    """Readable content of a phase: its kind, approaches (compass legs where known) and crossings."""
    legs = {a.id: a.leg or a.id for a in signal.approaches}
    what = p.kind if not p.approaches else f"{p.kind} {'+'.join(legs.get(a, a) for a in p.approaches)}"
    if p.crossings:
        what += f" (walk on {len(p.crossings)} crossing(s))"
    return what


def _tenths(sid: str, value_s: float, what: str) -> int:
    tenths = value_s * 10
    if abs(tenths - round(tenths)) > 1e-6:
        raise PlanError(f"signal {sid}: {what}: {value_s:g} s is not a whole number of tenths (NTCIP 0.1 s field)")
    return int(round(tenths))


def ntcip_units(plans: PlanSet, network: Network,
                timing: TimingOptions | None = None) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every signal's NTCIP tables, keyed by signal id (raises before anything is written)."""
    timing = timing or TimingOptions()
    return {plan.signal_id: unit_tables(plan, network.signal(plan.signal_id), timing) for plan in plans}


def ntcip_json_text(units: Mapping[str, Any], *, provenance: Mapping[str, Any],
                    field_units: Mapping[str, str] = FIELD_UNITS) -> str:
    doc = {"format": "NTCIP 1202 timing sheet (signalopt)", "provenance": dict(provenance),
           "field_units": dict(field_units), "offset_reference": "start of green of the earlier coordinated phase (splitCoordPhase)",
           "units": units}
    return json.dumps(doc, indent=2) + "\n"


def _cell(v: Any) -> str:
    return " ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


DAY_PLAN_FIELDS = ("dayPlanNumber", "dayPlanEventNumber", "dayPlanHour", "dayPlanMinute", "dayPlanActionNumberOID")
#: NTCIP 1202 ``coordMaximumMode`` values: which maximum a pattern's phases time (``maxInhibit``: none, the
#: split governs, as in a fixed-time or coordinated pattern).
COORD_MAXIMUM_MODES = {"other": 1, "maximum1": 2, "maximum2": 3, "maxInhibit": 4}
#: The action table: pattern ``actionPattern`` runs with ``coordMaximumMode`` ``actionCoordMaximumMode`` (how a
#: day selects Max 2 differs between controllers: by this object, a time-of-day auxiliary function or an input).
ACTION_FIELDS = ("actionNumber", "actionPattern", "actionCoordMaximumMode", "actionName")
#: Tables of a time-of-day sheet: the unit tables plus the day plan and its actions.
DAY_TABLES = {**TABLES, "dayPlanTable": DAY_PLAN_FIELDS, "actionTable": ACTION_FIELDS}
TRPS_PATTERN_FIELDS = ("patternNumber", "entryLevelPct", "exitLevelPct", "description")
TRPS_PARAMETER_FIELDS = ("computationInterval", "smoothingPct", "occupancyWeightPct", "saturationFlow",
                         "description")
SYSTEM_DETECTOR_FIELDS = ("detectorNumber", "approach", "lane", "distanceFromStopLine")
#: Tables of a traffic-responsive sheet: the unit tables over every pattern, then the pattern selection (TRPS)
#: settings and the system detectors.  NTCIP 1202 has no TRPS objects (field masters keep them, NTCIP 1210):
#: these three tables are signalopt's layout of the settings an engineer keys into the master or controller.
RESPONSIVE_TABLES = {**TABLES, "trpsPatternTable": TRPS_PATTERN_FIELDS, "trpsParameterTable": TRPS_PARAMETER_FIELDS,
                     "systemDetectorTable": SYSTEM_DETECTOR_FIELDS}
#: Units of a responsive sheet's fields (TRPS levels in percent of the section index, which is a share of
#: saturation flow and of time).
RESPONSIVE_FIELD_UNITS = {**FIELD_UNITS, "entryLevelPct": "%", "exitLevelPct": "%", "computationInterval": "s",
                          "smoothingPct": "%", "occupancyWeightPct": "%", "saturationFlow": "veh/h/lane",
                          "distanceFromStopLine": "m"}


def ntcip_csv_text(units: Mapping[str, Any], *, header_lines: Sequence[str],
                   tables: Mapping[str, Sequence[str]] = TABLES, field_units: Mapping[str, str] = FIELD_UNITS) -> str:
    """CSV: ``#`` comment lines, then per signal a ``unit,<id>`` line and its tables
    (a ``table,<name>`` line, the field names, the rows; lists space-separated)."""
    buf = io.StringIO()
    for line in header_lines:
        buf.write(f"# {line}\n")
    buf.write("# units: " + "; ".join(f"{k} {v}" for k, v in field_units.items()) + "\n")
    buf.write("# patternOffsetTime: to the start of green of the earlier coordinated phase (splitCoordPhase 1); "
              "patternCycleTime 0: the pattern runs free (actuated, no cycle); "
              "description: signalopt's note on the row, not an NTCIP object\n")
    w = csv.writer(buf, lineterminator="\n")
    for sid, unit in units.items():
        w.writerow(["unit", sid])
        for name, fields in tables.items():
            w.writerow(["table", name])
            w.writerow(fields)
            for row in unit[name]:
                w.writerow([_cell(row[f]) for f in fields])
        w.writerow([])
    return buf.getvalue()


def read_ntcip_csv(text: str, *, source: str = "NTCIP CSV") -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Parse a sheet written by :func:`ntcip_csv_text` back into its tables (integers, lists of integers, the
    text and decimal fields as such)."""
    units: dict[str, dict[str, list[dict[str, Any]]]] = {}
    unit = table = None
    fields: list[str] | None = None
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    for n, row in enumerate(csv.reader(lines), start=1):
        if not row or not any(row):
            continue
        if row[0] == "unit":
            unit, table, fields = row[1], None, None
            units[unit] = {}
        elif row[0] == "table":
            if unit is None:
                raise InputError(source, "table before any unit line", n)
            table, fields = row[1], None
            units[unit][table] = []
        elif fields is None:
            fields = row
        else:
            if unit is None or table is None:
                raise InputError(source, "data row outside a table", n)
            rec: dict[str, Any] = {}
            for f, v in zip(fields, row):
                if f in LIST_FIELDS:
                    rec[f] = [int(x) for x in v.split()]
                elif f in TEXT_FIELDS:
                    rec[f] = v
                elif f in DECIMAL_FIELDS:
                    rec[f] = float(v)
                else:
                    rec[f] = int(v)
            units[unit][table].append(rec)
    return units
