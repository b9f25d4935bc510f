"""Export timing plans for controllers and other tools; every write is preceded by the safety check.

Formats (:data:`FORMATS`):

``json``   signalopt's own versioned plan file (read back with :func:`signalopt.formats.planfile.read_plans`).
``sumo``   SUMO additional file, one static ``tlLogic`` per signal.
``nema``   SUMO additional file, one ``tlLogic type="NEMA"`` per signal (dual ring, coordinated, fixed time;
           see :mod:`signalopt.formats_nema`).
``ntcip``  NTCIP 1202-shaped timing sheet: ``.csv`` or ``.json`` by the suffix of ``out``; any other
           suffix writes both (``out.csv`` and ``out.json``).  See :mod:`signalopt.formats_ntcip`.
``utdf``   Synchro UTDF combined CSV (:mod:`signalopt.formats_utdf`, read back with ``read_utdf``).
``csv``    human timing sheet: one row per signal and stage.

Order of work: the format name is checked, then the safety check
(:func:`signalopt.safety.validate_plans`), then the whole text of every
output is built (a format's own range checks raise here), and only then is
anything written, each file atomically.  A refused plan leaves no file.

Every file carries provenance (signalopt version, scenario digest, creation
time, the network and its SHA-256, plus the plan file's own provenance): an
XML comment, ``#`` comment lines in CSV, a ``provenance`` field in JSON.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import __version__
from .actuated import runs_in_nema
from .provenance import utc_timestamp
from .formats.sumo import coordinated_refusal, plans_additional, waut_additional
from ._xml import atomic_write_text, xml_escape
from .errors import InputError, PlanError, UnsafePlanError
from .formats.nema import actuated_phase_times_s, dual_ring, nema_additional_text
from .formats.ntcip import DAY_TABLES as _DAY_TABLES
from .formats.ntcip import COORD_MAXIMUM_MODES, RESPONSIVE_FIELD_UNITS, RESPONSIVE_TABLES
from .formats.ntcip import ntcip_csv_text, ntcip_json_text, ntcip_units, unit_tables
from .formats.utdf import utdf_text
from .network import Network
from .plan import PlanSet, TimingPlan
from .responsive import SATURATION_FLOW_VEH_H, ResponsivePlans
from .formats.planfile import plans_to_json, responsive_to_json
from .roundtrip import nema_check
from .safety import validate_plans, validate_schedule
from .schedule import Schedule
from .options import TimingOptions

FORMATS = ("json", "sumo", "nema", "ntcip", "utdf", "csv")
CSV_COLUMNS = ("intersection", "signal_id", "stage", "name", "nema_phases", "start_s", "green_s", "yellow_s",
               "all_red_s", "split_s", "split_pct", "walk_s", "ped_clearance_s", "offset_s", "cycle_s")


# Provenance ------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unknown"


def provenance_stamp(provenance: Mapping[str, Any] | None, network: Network, *, fmt: str,
                     created: str | None = None) -> dict[str, Any]:
    """What every exported file says about itself (plan file provenance first, then this export's)."""
    prov = dict(provenance or {})
    plans_version = prov.pop("signalopt", None)
    stamp: dict[str, Any] = {
        "signalopt": __version__,
        "format": fmt,
        "created": created or utc_timestamp(),
        "scenario_digest": prov.pop("scenario_digest", None) or "unknown",
        "network": network.path.name,
        "network_sha256": _sha256(network.path),
    }
    if plans_version and plans_version != __version__:
        stamp["plans_signalopt"] = plans_version
    stamp.update(prov)
    return stamp


def _stamp_lines(stamp: Mapping[str, Any]) -> list[str]:
    return [f"{k}: {v}" for k, v in stamp.items()]


def _xml_comment(stamp: Mapping[str, Any]) -> str:
    text = "; ".join(f"{k}={v}" for k, v in stamp.items())
    return "<!-- " + xml_escape(text).replace("--", "- -") + " -->"


# SUMO --------------------------------------------------------------------------------
def _program_ids(plans: PlanSet, network: Network | None, suffix: str = "") -> dict[str, str]:
    """Programme ids to write: the plan's (plus ``suffix``), renamed when the network already has that id
    for the signal (SUMO refuses a second programme with the same id)."""
    out = {}
    for plan in plans:
        pid = plan.program_id + suffix
        taken: set[str] = set()
        if network is not None and plan.signal_id in network.signal_ids:
            taken = {p.program_id for p in network.signal(plan.signal_id).programs}
        while pid in taken:
            pid += "-signalopt"
        out[plan.signal_id] = pid
    return out


def sumo_additional_text(plans: PlanSet, *, provenance: Mapping[str, Any] | None = None,
                         network: Network | None = None) -> str:
    """SUMO additional file with one ``tlLogic`` per plan, static or actuated (programme ids as in the plans,
    renamed where ``network`` already has the id; a plan that skips stages needs the ``network`` for its
    calls); time-of-day schedules: :func:`export_schedule`."""
    coordinated = [p.signal_id for p in plans if runs_in_nema(p.actuation)]
    if coordinated:
        raise coordinated_refusal(coordinated[0])
    ids = _program_ids(plans, network)
    renamed = PlanSet(tuple(replace(p, program_id=ids[p.signal_id]) for p in plans), name=plans.name)
    body = plans_additional(renamed, network=network)
    stamp = dict(provenance) if provenance is not None else {"signalopt": __version__}
    return _xml_comment(stamp) + "\n" + body


def nema_text(plans: PlanSet, network: Network, *, provenance: Mapping[str, Any]) -> str:
    """SUMO additional file with one NEMA ``tlLogic`` per plan (see :mod:`signalopt.formats_nema`)."""
    modes = {p.actuation.mode if p.actuation is not None else "fixed" for p in plans}
    skip = "; phases on recall none skipped without a call" if any(
        p.actuation is not None and p.actuation.skips_stages for p in plans) else ""
    control = {"fixed": "coordinated fixed time (every phase on max recall)",
               "coordinated": f"coordinated actuated (phases gap out, forced off at their splits{skip})",
               "free": f"free actuated (phases gap out or max out{skip})"}
    note = (f"<!-- SUMO NEMA dual-ring controllers, {'; '.join(control[m] for m in sorted(modes))}; phases 2+6 "
            "coordinated, offset to the start of their green (TS2). SUMO's NEMA controller has no walk or "
            "pedestrian clearance timing: a crossing shows its phase's green for the whole green. -->\n")
    return nema_additional_text(plans, network, program_ids=_program_ids(plans, network, "-nema"),
                                header=_xml_comment(provenance) + "\n" + note)


# Human timing sheet ------------------------------------------------------------
def timing_sheet_text(plans: PlanSet, network: Network | None, *, provenance: Mapping[str, Any]) -> str:
    """CSV: one row per signal and stage (times [s], split share [%]; NEMA phases where the plan is a dual ring)."""
    buf = io.StringIO()
    for line in _stamp_lines(provenance):
        buf.write(f"# {line}\n")
    buf.write("# times in seconds; offset_s: start of stage 1's green in the shared clock; start_s: start of the "
              "stage's green in the cycle\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for intid, plan in enumerate(plans, start=1):
        nema: dict[int, str] = {}
        if network is not None and plan.signal_id in network.signal_ids:
            try:
                ring = dual_ring(plan, network.signal(plan.signal_id))
                for p in ring.phases:
                    for k in p.stages:
                        nema[k] = f"{nema[k]}+{p.number}" if k in nema else str(p.number)
            except PlanError:
                pass
        for k, (ph, start) in enumerate(zip(plan.phases, plan.phase_starts_s())):
            walk = ph.green_s - ph.ped_clearance_s if ph.serves_pedestrians else 0.0
            w.writerow([intid, plan.signal_id, k + 1, ph.name, nema.get(k, ""), _g(start), _g(ph.green_s),
                        _g(ph.yellow_s), _g(ph.all_red_s), _g(ph.split_s), f"{100 * ph.split_s / plan.cycle_s:.1f}",
                        _g(walk), _g(ph.ped_clearance_s if ph.serves_pedestrians else 0.0), _g(plan.offset_s),
                        _g(plan.cycle_s)])
    return buf.getvalue()


def _g(x: float) -> str:
    return f"{round(x, 3):g}"


# Orchestration -------------------------------------------------------------------
def export_paths(fmt: str, out: str | Path) -> list[Path]:
    """The files ``export_plans(plans, fmt, out, ...)`` writes."""
    out = Path(out)
    if fmt == "ntcip" and out.suffix.lower() not in (".csv", ".json"):
        return [Path(f"{out}.csv"), Path(f"{out}.json")]
    return [out]


def render(plans: PlanSet, fmt: str, out: str | Path, *, network: Network, timing: TimingOptions | None = None,
           provenance: Mapping[str, Any] | None = None) -> dict[Path, str]:
    """Text of every file of an export, without the safety check and without writing.

    Raises
    ------
    InputError
        Unknown format.
    PlanError
        Plans that do not fit the format (dual ring, ranges, units), with the reason.
    """
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown export format, choose from {', '.join(FORMATS)}", fmt)
    stamp = provenance_stamp(provenance, network, fmt=fmt)
    paths = export_paths(fmt, out)
    if fmt == "json":
        return {paths[0]: plans_to_json(plans, provenance=stamp)}
    if fmt == "sumo":
        return {paths[0]: sumo_additional_text(plans, provenance=stamp, network=network)}
    if fmt == "nema":
        return {paths[0]: nema_text(plans, network, provenance=stamp)}
    if fmt == "utdf":
        return {paths[0]: utdf_text(plans, network, header_lines=_stamp_lines(stamp), timing=timing)}
    if fmt == "csv":
        return {paths[0]: timing_sheet_text(plans, network, provenance=stamp)}
    units = ntcip_units(plans, network, timing)
    texts = {}
    for path in paths:
        if path.suffix.lower() == ".json":
            texts[path] = ntcip_json_text(units, provenance=stamp)
        else:
            texts[path] = ntcip_csv_text(units, header_lines=_stamp_lines(stamp))
    return texts


def check_format(plans: PlanSet, fmt: str, *, network: Network, timing: TimingOptions | None = None) -> None:
    """Raise if ``plans`` cannot be written as ``fmt`` (safety aside; a ``nema`` export is simulated);
    writes nothing."""
    render(plans, fmt, Path(f"check.{fmt}"), network=network, timing=timing)
    if fmt == "nema":
        check_nema_in_sumo(plans, network, source=f"check.{fmt}")


def export_plans(plans: PlanSet, fmt: str, out: str | Path, *, network: Network, timing: TimingOptions | None = None,
                 provenance: dict[str, Any] | None = None, existing: PlanSet | None = None) -> Path:
    """Validate ``plans`` on ``network`` and write them as ``fmt`` to ``out``.

    With ``existing`` (the timing the street runs, when ``plans`` retime it) no yellow or all-red may be shorter
    than it runs (:func:`~signalopt.safety.interval_cuts`).

    Returns the (first) file written; :func:`export_paths` lists all of them.

    Raises
    ------
    InputError
        Unknown format (checked first).
    UnsafePlanError
        Listing every violation; nothing is written.
    PlanError
        Plans the format cannot hold (not a dual ring, values outside the
        format's ranges); nothing is written.
    """
    if fmt not in FORMATS:
        raise InputError("--format", f"unknown export format, choose from {', '.join(FORMATS)}", fmt)
    validate_plans(plans, network, timing=timing, source=str(out), existing=existing)
    try:
        texts = render(plans, fmt, out, network=network, timing=timing, provenance=provenance)
    except PlanError as exc:
        raise PlanError(f"{out}: {fmt} export refused: {exc}") from None
    if fmt == "nema":
        check_nema_in_sumo(plans, network, source=str(out))
    written = [atomic_write_text(path, text) for path, text in texts.items()]
    return written[0]


def check_nema_in_sumo(plans: PlanSet, network: Network, *, source: str) -> None:
    """Run the NEMA programmes in SUMO and refuse them unless SUMO's controller times them as planned.

    SUMO's NEMA controller interprets rings, barriers and coordination itself, so the safety check on the
    plans does not cover what it shows: the simulated states must be safe too (no conflicting greens, no
    cut yellow or all-red) and every phase's green must be the plan's (within one 0.1 s step; for an
    actuated plan, between its minimum and its maximum).

    The check runs without traffic, so a phase on recall none would never be called: it runs with every phase
    recalled (the same phases, timings and clearances); the clearances of the transitions that skipping adds
    are checked on the plans (:func:`~signalopt.safety.check_plan`).

    Raises
    ------
    UnsafePlanError
        Listing what the simulation showed; nothing is written.
    """
    check = nema_check(network, plans.replace_plans([_every_stage_called(p) for p in plans]))
    problems = list(check.violations)
    bounds: dict[tuple[str, int], tuple[float, float]] = {}
    for plan in plans:
        ring = dual_ring(plan, network.signal(plan.signal_id))
        for p in ring.phases:
            low, high, _ = actuated_phase_times_s(plan, p)
            if plan.actuation is not None and plan.actuation.mode == "coordinated" and p.number in ring.coordinated:
                high = plan.cycle_s - p.yellow_s - p.all_red_s  # it takes what the others leave unused
            bounds[plan.signal_id, p.number] = (low, high)
    for (sid, number), (planned, measured) in check.greens.items():
        # a fixed-time phase shows its planned green; an actuated one a green between its minimum and maximum
        low, high = bounds[sid, number]
        bad = [m for m in measured if not low - check.step_s - 1e-6 <= m <= high + check.step_s + 1e-6]
        if bad or not measured:
            want = f"a planned {planned:g} s" if low == high else f"planned {low:g}-{high:g} s"
            problems.append(f"{sid} phase {number}: SUMO's NEMA controller showed green "
                            f"{', '.join(f'{m:g}' for m in bad) or 'never'} s for {want}")
    if problems:
        raise UnsafePlanError(problems, source=f"{source}: nema export simulated in SUMO")


def _every_stage_called(plan: TimingPlan) -> TimingPlan:
    """``plan`` with its stages on recall none recalled to their minimum instead."""
    act = plan.actuation
    if act is None or not act.skips_stages:
        return plan
    stages = tuple(replace(st, recall="min") if st.recall == "none" else st for st in act.stages)
    return replace(plan, actuation=replace(act, stages=stages))


SCHEDULE_FORMATS = ("json", "sumo", "ntcip")


def _pattern_units(patterns: Sequence[tuple[str, PlanSet]], signal_ids: Sequence[str], network: Network,
                   timing: TimingOptions, *, kind: str, hint: str
                   ) -> tuple[dict[str, dict[str, list[dict[str, Any]]]], dict[str, list[int]]]:
    """NTCIP tables per signal for a library of named plan sets (each a ``kind``: period, pattern; ``hint`` ends
    a refusal with what the user can do), and per signal the ``coordMaximumMode`` each pattern runs under.

    Pattern and split table ``k`` (1-based) run ``patterns[k - 1]``; one phase table serves them all; patterns
    that order their phases otherwise (leading or lagging lefts) get their own sequence.  Its minimums and
    clearances cover every pattern's.  The maxima: a fixed-time or coordinated pattern's split governs (mode
    ``maxInhibit``), and ``phaseMaximum1`` is the longest green of any pattern, unless free actuated patterns
    set maxima: then the first set they use is ``phaseMaximum1`` (mode ``maximum1``) and a second set, if any,
    ``phaseMaximum2`` (mode ``maximum2``).  A controller holds two sets and one passage time and minimum per
    actuated phase: patterns that need more are refused.
    """
    units: dict[str, dict[str, list[dict[str, Any]]]] = {}
    modes: dict[str, list[int]] = {}
    for sid in signal_ids:
        signal = network.signal(sid)
        tables: dict[str, list[dict[str, Any]]] = {"phaseTable": [], "splitTable": [], "patternTable": [],
                                                   "sequenceTable": [], "overlapTable": []}
        phases: dict[int, dict[str, Any]] = {}
        sequences: list[list[dict[str, Any]]] = []
        free: list[tuple[str, dict[int, tuple[int, int, int, int]]]] = []  # per free actuated pattern
        modes[sid] = []
        for k, (name, plans) in enumerate(patterns, start=1):
            plan = plans[sid]
            t = unit_tables(plan, signal, timing)
            is_free = plan.actuation is not None and plan.actuation.mode == "free"
            if is_free:  # a dummy phase times a ring's idle interval, no actuated maximum
                dummies = {p.number for p in dual_ring(plan, signal).phases if p.kind == "dummy"}
                free.append((name, {r["phaseNumber"]: (r["phaseMaximum1"], r["phaseMaximum2"], r["phasePassage"],
                                                       r["phaseMinimumGreen"]) for r in t["phaseTable"]
                                    if r["phaseNumber"] not in dummies}))
            for row in t["phaseTable"]:
                if row["phaseNumber"] not in phases:
                    phases[row["phaseNumber"]] = dict(row)
                    continue
                kept = phases[row["phaseNumber"]]
                # one phase table serves every pattern: the phase must mean the same movements, and its
                # clearances and minimums must cover every pattern's
                for what in ("phaseRing", "phaseConcurrency", "description"):
                    if kept[what] != row[what]:
                        raise PlanError(f"signal {sid}: {kind} {name!r} gives phase {row['phaseNumber']} another "
                                        f"{what} ({row[what]} against {kept[what]}); one NTCIP phase table cannot "
                                        f"hold both: {hint}")
                for what in ("phaseMinimumGreen", "phaseYellowChange", "phaseRedClear", "phaseWalk",
                             "phasePedestrianClear", "phaseMaximum1", "phaseMaximum2", "phasePassage"):
                    kept[what] = max(kept[what], row[what])
            modes[sid].append(0 if is_free else COORD_MAXIMUM_MODES["maxInhibit"])
            if k == 1:
                tables["overlapTable"] = t["overlapTable"]
            elif [(o["overlapIncludedPhases"], o["description"]) for o in t["overlapTable"]] != [
                    (o["overlapIncludedPhases"], o["description"]) for o in tables["overlapTable"]]:
                raise PlanError(f"signal {sid}: {kind} {name!r} has other overlaps than the first; one NTCIP overlap "
                                f"table cannot hold both: {hint}")
            seq = [r["sequenceData"] for r in t["sequenceTable"]]
            if seq not in [[r["sequenceData"] for r in known] for known in sequences]:
                sequences.append([{**r, "sequenceNumber": len(sequences) + 1} for r in t["sequenceTable"]])
            seq_number = [[r["sequenceData"] for r in known] for known in sequences].index(seq) + 1
            tables["splitTable"] += [{**r, "splitNumber": k} for r in t["splitTable"]]
            tables["patternTable"] += [{**r, "patternNumber": k, "patternSplitNumber": k,
                                        "patternSequenceNumber": seq_number} for r in t["patternTable"]]
        if free:
            chosen = _free_maxima(sid, free, kind=kind, hint=hint)
            for number, (max1, max2, passage, minimum) in chosen["phases"].items():
                row = phases[number]
                row.update(phaseMaximum1=max1, phaseMaximum2=max2, phasePassage=passage,
                           phaseMinimumGreen=max(row["phaseMinimumGreen"], minimum))
                if min(max1, max2) < row["phaseMinimumGreen"]:  # another pattern's minimum is longer
                    raise PlanError(f"signal {sid}: phase {number}'s maximum {min(max1, max2)} s is below the "
                                    f"minimum another {kind} needs ({row['phaseMinimumGreen']} s): {hint}")
            it = iter(chosen["modes"])
            modes[sid] = [m or next(it) for m in modes[sid]]
        tables["phaseTable"] = [phases[n] for n in sorted(phases)]
        tables["sequenceTable"] = [row for seq in sequences for row in seq]
        units[sid] = tables
    return units, modes


def _free_maxima(sid: str, free: Sequence[tuple[str, dict[int, tuple[int, int, int, int]]]], *, kind: str,
                 hint: str) -> dict[str, Any]:
    """Phase maxima, passage and minimum of one unit's free actuated patterns, and each pattern's maximum mode.

    ``free``: (name, {phase: (Max 1, Max 2, passage, minimum)}) per free actuated pattern, in pattern order.
    """
    numbers = sorted({n for _, rows in free for n in rows})
    seen: dict[int, tuple[str, int, int]] = {}  # phase -> (pattern, passage, minimum) where first seen
    for name, rows in free:
        for number, (_, _, passage, minimum) in rows.items():
            first = seen.setdefault(number, (name, passage, minimum))
            if (passage, minimum) != first[1:]:
                raise PlanError(f"signal {sid}: {kind} {name!r} gives phase {number} phasePassage {passage} (0.1 s) "
                                f"and phaseMinimumGreen {minimum} s, {kind} {first[0]!r} {first[1]} and {first[2]}; "
                                f"a controller keeps one of each per phase: {hint}")
    sets: list[tuple[str, dict[int, int]]] = []
    modes = []
    for name, rows in free:
        maxima = {n: r[0] for n, r in rows.items()}
        if maxima not in [m for _, m in sets]:
            sets.append((name, maxima))
        modes.append(COORD_MAXIMUM_MODES["maximum1"] if maxima == sets[0][1] else COORD_MAXIMUM_MODES["maximum2"])
    if len(sets) > 2:
        raise PlanError(f"signal {sid}: {kind}s {', '.join(repr(n) for n, _ in sets)} ask for {len(sets)} sets of "
                        f"actuated maxima; a controller holds two (phaseMaximum1, phaseMaximum2): {hint}")
    out = {}
    for number in numbers:
        own = {(name, r[number][1]) for name, r in free if number in r and r[number][1] != r[number][0]}
        max1 = sets[0][1].get(number, max(r[number][0] for _, r in free if number in r))
        if len(sets) == 2:
            max2 = sets[1][1].get(number, max1)
            others = sorted(v for _, v in own if v != max2)
            if others:
                raise PlanError(f"signal {sid}: phase {number} has a second maximum of its own ({others[0]} s, "
                                f"{kind} {next(n for n, v in own if v == others[0])!r}) and {kind} "
                                f"{sets[1][0]!r} needs phaseMaximum2 for its maximum {max2} s: {hint}")
        else:
            asked = sorted({v for _, v in own})
            if len(asked) > 1:
                raise PlanError(f"signal {sid}: phase {number} has second maximums {asked} s in different {kind}s; "
                                f"a controller holds one phaseMaximum2: {hint}")
            max2 = asked[0] if asked else max1
        _, passage, minimum = seen[number]
        out[number] = (max1, max2, passage, minimum)
    return {"phases": out, "modes": modes}


def schedule_ntcip_units(schedule: Schedule, network: Network,
                         timing: TimingOptions | None = None) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """NTCIP tables per signal for a day: one pattern and split table per period, and the day plan.

    Pattern ``k`` runs period ``k`` (1-based); the day plan (``dayPlanNumber`` 1)
    has one event per period start, whose action ``k`` selects pattern ``k``
    and names the ``coordMaximumMode`` it runs under (``actionCoordMaximumMode``).
    The phase table is the unit's own: free actuated periods' maxima are its
    ``phaseMaximum1`` and ``phaseMaximum2`` (:func:`_pattern_units`);
    without them ``phaseMaximum1`` is the longest green of any period.
    Periods that order their phases otherwise (leading or lagging lefts) get
    their own sequence, named by their pattern.
    """
    units, modes = _pattern_units([(p.name, p.plans) for p in schedule.periods], schedule.signal_ids, network,
                                  timing or TimingOptions(), kind="period", hint="export the periods one by one")
    for sid, tables in units.items():
        tables["dayPlanTable"], tables["actionTable"] = [], []
        for k, period in enumerate(schedule.periods, start=1):
            hour, minute = int(period.begin_s // 3600) % 24, int(period.begin_s % 3600 // 60)
            tables["dayPlanTable"].append({"dayPlanNumber": 1, "dayPlanEventNumber": k, "dayPlanHour": hour,
                                           "dayPlanMinute": minute, "dayPlanActionNumberOID": k})
            tables["actionTable"].append({"actionNumber": k, "actionPattern": k,
                                          "actionCoordMaximumMode": modes[sid][k - 1], "actionName": period.name})
    return units


def check_schedule_format(schedule: Schedule, fmt: str, *, network: Network,
                          timing: TimingOptions | None = None) -> None:
    """Raise if ``schedule`` cannot be written as ``fmt`` (safety aside); writes nothing."""
    if fmt not in SCHEDULE_FORMATS:
        raise PlanError(f"schedules export as {', '.join(SCHEDULE_FORMATS)}, not {fmt}")
    _schedule_texts(schedule, fmt, [Path(f"check.{fmt}")], network=network, timing=timing, stamp={})


def _schedule_texts(schedule: Schedule, fmt: str, paths: Sequence[Path], *, network: Network,
                    timing: TimingOptions | None, stamp: Mapping[str, Any]) -> dict[Path, str]:
    if fmt == "json":
        return {paths[0]: json.dumps({**schedule.to_dict(), "provenance": dict(stamp)}, indent=2) + "\n"}
    if fmt == "sumo":
        return {paths[0]: _xml_comment(stamp) + "\n" + waut_additional(schedule, program_prefix="signalopt-")}
    units = schedule_ntcip_units(schedule, network, timing)
    return {path: ntcip_json_text(units, provenance=stamp) if path.suffix.lower() == ".json"
            else ntcip_csv_text(units, header_lines=_stamp_lines(stamp), tables=_DAY_TABLES) for path in paths}


def export_schedule(schedule: Schedule, fmt: str, out: str | Path, *, network: Network,
                    timing: TimingOptions | None = None, provenance: Mapping[str, Any] | None = None) -> Path:
    """Validate a time-of-day schedule (every period's plans and every transition) and write it.

    ``json``: signalopt's schedule file; ``sumo``: every period's and
    transition's programme with one WAUT per signal; ``ntcip``: patterns per
    period plus the day plan (CSV and/or JSON by the file name, as for plans).
    """
    if fmt not in SCHEDULE_FORMATS:
        raise InputError("--format", f"schedules export as {', '.join(SCHEDULE_FORMATS)}", fmt)
    validate_schedule(schedule, network, timing=timing, source=str(out))
    stamp = provenance_stamp(provenance, network, fmt=fmt)
    paths = export_paths(fmt, out)
    try:
        texts = _schedule_texts(schedule, fmt, paths, network=network, timing=timing, stamp=stamp)
    except PlanError as exc:
        raise PlanError(f"{out}: {fmt} schedule export refused: {exc}") from None
    written = [atomic_write_text(path, text) for path, text in texts.items()]
    return written[0]


RESPONSIVE_FORMATS = ("json", "ntcip")
#: How the section index is formed, for the sheet (see :mod:`signalopt.responsive`).
_INDEX_RULE = ("section index = largest over approaches of the lane mean of (1 - w) x volume / saturation flow + "
               "w x occupancy, smoothed exponentially; a pattern is entered at its entry level and left below its exit "
               "level")


def responsive_ntcip_units(responsive: ResponsivePlans, network: Network,
                           timing: TimingOptions | None = None) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """NTCIP tables per signal for traffic-responsive plan selection: pattern ``k`` (1-based) runs
    ``responsive.patterns[k - 1]`` (lightest first), then the TRPS settings (:data:`RESPONSIVE_TABLES`).

    A pattern's entry level is the smoothed section index [%] at which the controller moves up to it (0 for
    the first), its exit level the index below which it moves down again (the entry level less the
    hysteresis).  Each signal's system detectors are listed with their distance from the stop line [m].
    """
    sel = responsive.selection
    units, _ = _pattern_units([(p.name, p) for p in responsive.patterns], responsive.signal_ids, network,
                              timing or TimingOptions(), kind="pattern",
                           hint="a controller switching between them needs patterns over the same phases (give "
                                "every pattern the same stages in the same order)")
    levels = [0.0, *sel.thresholds]
    trps = [{"patternNumber": k, "entryLevelPct": round(100 * level, 1),
             "exitLevelPct": round(100 * max(level - sel.hysteresis, 0.0), 1) if k > 1 else 0.0,
             "description": plans.name} for k, (level, plans) in enumerate(zip(levels, responsive.patterns), 1)]
    parameters = [{"computationInterval": int(sel.interval_s), "smoothingPct": round(100 * sel.smoothing, 1),
                   "occupancyWeightPct": round(100 * sel.occupancy_weight, 1),
                   "saturationFlow": int(SATURATION_FLOW_VEH_H), "description": _INDEX_RULE}]
    for sid, tables in units.items():
        tables["trpsPatternTable"] = [dict(r) for r in trps]
        tables["trpsParameterTable"] = [dict(r) for r in parameters]
        lengths = {a.label: a.length_m for a in network.signal(sid).approaches}
        own = [d for d in responsive.detectors if d.approach in lengths]
        tables["systemDetectorTable"] = [
            {"detectorNumber": k, "approach": d.approach, "lane": d.lane,
             "distanceFromStopLine": round(lengths[d.approach] - d.pos_m, 1)} for k, d in enumerate(own, start=1)]
    return units


def export_responsive(responsive: ResponsivePlans, fmt: str, out: str | Path, *, network: Network,
                      timing: TimingOptions | None = None, provenance: Mapping[str, Any] | None = None) -> Path:
    """Validate traffic-responsive plans (every pattern) and write them.

    ``json``: signalopt's responsive plan file; ``ntcip``: every pattern as an NTCIP 1202 pattern and split
    table sharing one phase table, plus the pattern selection settings and system detectors
    (:func:`responsive_ntcip_units`; CSV and/or JSON by the file name, as for plans).
    """
    if fmt not in RESPONSIVE_FORMATS:
        raise InputError("--format", f"responsive plans export as {', '.join(RESPONSIVE_FORMATS)}", fmt)
    for plans in responsive.patterns:
        validate_plans(plans, network, timing=timing, source=f"{out} (pattern {plans.name})")
    stamp = provenance_stamp(provenance, network, fmt=fmt)
    paths = export_paths(fmt, out)
    try:
        if fmt == "json":
            texts = {paths[0]: responsive_to_json(responsive, provenance=stamp)}
        else:
            units = responsive_ntcip_units(responsive, network, timing)
            texts = {path: ntcip_json_text(units, provenance=stamp, field_units=RESPONSIVE_FIELD_UNITS)
                     if path.suffix.lower() == ".json"
                     else ntcip_csv_text(units, header_lines=_stamp_lines(stamp), tables=RESPONSIVE_TABLES,
                                         field_units=RESPONSIVE_FIELD_UNITS)
                     for path in paths}
    except PlanError as exc:
        raise PlanError(f"{out}: {fmt} responsive export refused: {exc}") from None
    written = [atomic_write_text(path, text) for path, text in texts.items()]
    return written[0]
