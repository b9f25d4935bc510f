"""The round-trip invariant: a network's programmes read into plans and written back run exactly as before.

"Existing" must be what runs on the street.  :func:`round_trip` lets SUMO
itself show the state of every signal at every step, once running the
network's own programmes and once running the plans signalopt read from them
(written as a SUMO additional file), and counts the steps where the two
differ.  It runs the ``sumo`` binary without vehicles, in a subprocess, so
it costs a fraction of a second per network and keeps no simulator state.
"""

from __future__ import annotations

import bisect

import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import _sumo
from ._sumo_run import Task, read_outputs
from .actuated import stage_successors
from .formats.nema import dual_ring, nema_additional_text
from .formats.sumo import RUN_PROGRAM_ID, plans_additional
from ._xml import xml_escape
from .errors import SimulationError
from .metrics import RunMetrics
from .movements import read_switches
from .network import Network, Signal
from .plan import ABSOLUTE_MIN_YELLOW_S, GREEN_CHARS, PlanSet, TimingPlan
from .prepare import Prepared


@dataclass(frozen=True)
class RoundTrip:
    """Steps where the written plans showed another state than the network's own programmes.

    ``differing`` maps each signal compared to its count of differing steps;
    ``steps`` is the number of steps compared per signal; ``first`` the first
    differing ``(time_s, original state, written state)`` per signal that has one.
    """

    network: str
    steps: int
    step_s: float
    differing: dict[str, int]
    first: dict[str, tuple[float, str, str]]

    @property
    def total_differing(self) -> int:
        return sum(self.differing.values())


def signal_states(network_path: str | Path, signal_ids: Sequence[str], *, begin_s: float, end_s: float,
                  additional: str | None = None, step_s: float = 1.0) -> dict[str, list[tuple[float, str]]]:
    """SUMO's state of every signal in ``signal_ids`` at every step of ``[begin_s, end_s)`` [s, state].

    Parameters
    ----------
    network_path
        The ``.net.xml`` (or ``.net.xml.gz``).
    signal_ids
        Traffic light ids to record.
    begin_s, end_s
        Simulated window [s].
    additional
        Text of a SUMO additional file loaded with the network (e.g. programmes to run instead).
    step_s
        Simulation step [s].

    Raises
    ------
    SimulationError
        SUMO exits with an error (its last line is quoted).
    """
    with tempfile.TemporaryDirectory(prefix="signalopt-rt-") as tmp:
        work = Path(tmp)
        files = []
        if additional is not None:
            (work / "plans.add.xml").write_text(additional, encoding="utf-8")
            files.append(str(work / "plans.add.xml"))
        events = "".join(f'  <timedEvent type="SaveTLSStates" source="{xml_escape(sid)}" dest="states.xml"/>\n'
                         for sid in signal_ids)
        (work / "events.add.xml").write_text(f"<additional>\n{events}</additional>\n", encoding="utf-8")
        files.append(str(work / "events.add.xml"))
        cmd = [str(_sumo.binary("sumo")), "-n", str(network_path), "-a", ",".join(files), "--begin", f"{begin_s:g}",
               "--end", f"{end_s:g}", "--step-length", f"{step_s:g}", "--no-step-log", "--no-warnings",
               "--xml-validation", "never"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise SimulationError(f"sumo failed on {network_path}: {_sumo.failure_reason(proc)}")
        out: dict[str, list[tuple[float, str]]] = {sid: [] for sid in signal_ids}
        for _, el in ET.iterparse(work / "states.xml"):
            if el.tag == "tlsState":
                out[el.get("id")].append((float(el.get("time")), el.get("state")))
            el.clear()
    return out


def round_trip(network: Network, plans: PlanSet, *, begin_s: float = 0.0, cycles: float = 2.0,
               step_s: float = 1.0) -> RoundTrip:
    """Compare, step by step, ``plans`` written to SUMO with the programmes the network runs.

    Parameters
    ----------
    network
        The network whose default programmes are the reference.
    plans
        Plans for (some of) its signals, e.g. :func:`~signalopt.programs.existing_plans`.
    begin_s
        Start of the compared window [s] (offsets count from simulation time 0).
    cycles
        Length of the window in cycles of the longest plan.
    step_s
        Simulation step [s].
    """
    ids = list(plans.signal_ids)
    end = begin_s + cycles * max(p.cycle_s for p in plans)
    before = signal_states(network.path, ids, begin_s=begin_s, end_s=end, step_s=step_s)
    after = signal_states(network.path, ids, begin_s=begin_s, end_s=end, step_s=step_s,
                          additional=plans_additional(plans, program_id=RUN_PROGRAM_ID))
    differing, first = {}, {}
    for sid in ids:
        pairs = list(zip(before[sid], after[sid]))
        bad = [(t, a, b) for (t, a), (_, b) in pairs if a != b]
        differing[sid] = len(bad) + abs(len(before[sid]) - len(after[sid]))
        if bad:
            first[sid] = bad[0]
    return RoundTrip(str(network.path), len(before[ids[0]]) if ids else 0, step_s, differing, first)


def bare_sumo_run(prepared: Prepared, seed: int) -> RunMetrics:
    """One run of plain ``sumo`` on the scenario's own files (the network's programmes, no signalopt
    additions) with ``seed``, its figures read as signalopt reads its own runs.

    The reference for "existing is what runs": :func:`~signalopt.evaluator.simulate` of the existing
    timing must give the same delay on the same seed.
    """
    with tempfile.TemporaryDirectory(prefix="signalopt-bare-") as tmp:
        work = Path(tmp)
        cmd = [str(_sumo.binary("sumo")), "-n", prepared.network_path, "-r", ",".join(prepared.route_files),
               "--begin", f"{prepared.begin_s:g}", "--end", f"{prepared.end_s:g}", "--seed", str(seed),
               "--no-step-log", "--no-warnings", "--duration-log.disable", "--xml-validation", "never",
               "--tripinfo-output", str(work / "tripinfo.xml"), "--tripinfo-output.write-unfinished",
               "--statistic-output", str(work / "statistics.xml")]
        if prepared.additional_files:
            cmd[3:3] = ["-a", ",".join(prepared.additional_files)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            raise SimulationError(f"sumo failed on {prepared.network_path}: {_sumo.failure_reason(proc)}")
        return read_outputs(Task(prepared, seed), work)


@dataclass(frozen=True)
class NemaCheck:
    """SUMO's NEMA controller running signalopt's NEMA export of one plan set.

    ``greens`` maps ``(signal id, phase number)`` to the planned green and
    the greens SUMO showed on the phase's own links in the measured cycles
    [s]; ``unmeasured`` lists the phases without a link of their own (dummy
    phases, phases whose links other phases also show); ``violations`` the
    safety failures seen in the simulated states (conflicting greens, cut
    yellows or all-reds), one line each.
    """

    network: str
    step_s: float
    greens: dict[tuple[str, int], tuple[float, tuple[float, ...]]]
    unmeasured: tuple[tuple[str, int], ...]
    violations: tuple[str, ...]

    @property
    def max_error_s(self) -> float:
        """Largest difference between a measured and a planned green [s] (inf when none was measured)."""
        errs = [abs(m - plan) for plan, measured in self.greens.values() for m in measured]
        return max(errs) if errs else float("inf")


def _runs(series: Sequence[tuple[float, str]], k: int, chars: str) -> list[tuple[float, float]]:
    """``(start, end)`` of each run of ``series`` in which link ``k`` shows one of ``chars`` [s]."""
    out, start = [], None
    for t, state in series:
        on = state[k] in chars
        if on and start is None:
            start = t
        elif not on and start is not None:
            out.append((start, t))
            start = None
    return out


def _shows(series: Sequence[tuple[float, str]], k: int, t: float) -> str:
    """What link ``k`` shows from time ``t`` on (``series``: (time, state) at every change)."""
    i = bisect.bisect_right([x for x, _ in series], t + 1e-6) - 1
    return series[i][1][k] if i >= 0 else "r"


def _stopping_stages(plan: TimingPlan, vehicle: Sequence[int]) -> dict[int, frozenset[int]]:
    """Per vehicle link, the stages whose end may stop it (green in the stage, not in a stage that may follow)."""
    n = len(plan.phases)
    act = plan.actuation
    following = (stage_successors([st.recall for st in act.stages]) if act is not None
                 else tuple(((i + 1) % n,) for i in range(n)))
    return {k: frozenset(i for i, ph in enumerate(plan.phases) if ph.state[k] in GREEN_CHARS
                         and any(plan.phases[j].state[k] not in GREEN_CHARS for j in following[i]))
            for k in vehicle}


def _ending_stage(stage_greens: Sequence[frozenset[int]], vehicle: Sequence[int],
                  series: Sequence[tuple[float, str]], times: Sequence[float], t: float,
                  may_stop: frozenset[int]) -> int | None:
    """The stage whose end stops a link at ``t``: the one among ``may_stop`` (the stages whose end may stop that
    link) whose vehicle greens (``stage_greens``, per stage) are those shown just before ``t`` (``times``: the
    series' times); None where not exactly one is (a ring-based NEMA run shows two rings' phases together, one
    ring may end its phase while the other runs on)."""
    i = bisect.bisect_left(times, t - 1e-6) - 1
    if i < 0:
        return None
    shown = frozenset(k for k in vehicle if series[i][1][k] in GREEN_CHARS)
    found = [j for j, greens in enumerate(stage_greens) if greens == shown]
    return found[0] if len(found) == 1 and found[0] in may_stop else None


def _merged(runs: list[tuple[float, float]], step_s: float) -> list[tuple[float, float]]:
    """``runs`` with those one step apart joined: SUMO's NEMA controller shows a link that goes from one
    phase's protected green to another's permissive green red for a single step."""
    out: list[tuple[float, float]] = []
    for s, e in runs:
        if out and s - out[-1][1] <= step_s + 1e-6:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _clearances_s(plan: TimingPlan, vehicle: Sequence[int], stops: Mapping[int, frozenset[int]] | None = None
                  ) -> tuple[dict[int, float], dict[int, float]]:
    """Per vehicle link, the yellow and the all-red it must show when its green ends [s].

    A stage's minimums cover every link its end stops, so the smallest minimum over the stages that stop a
    link still covers the link's own need (never a yellow under MUTCD's 3 s).  A stage may be followed by the
    stage after the next one where that one skips (recall none): every such change counts.  This is the
    bound where a run does not show which stage ended (:func:`state_violations` holds a link to the ending
    stage's own minimums where it does).  ``stops``: :func:`_stopping_stages`, where the caller has them.
    """
    stops = stops if stops is not None else _stopping_stages(plan, vehicle)
    yellow = {k: min((plan.phases[i].min_yellow_s for i in stops[k]), default=0.0) for k in vehicle}
    red = {k: min((plan.phases[i].min_all_red_s for i in stops[k]), default=0.0) for k in vehicle}
    return {k: max(ABSOLUTE_MIN_YELLOW_S, yellow[k]) for k in vehicle}, red


def nema_check(network: Network, plans: PlanSet, *, warmup_cycles: float = 2.0, cycles: float = 3.0,
               step_s: float = 0.1) -> NemaCheck:
    """Run the NEMA export of ``plans`` in SUMO and measure each phase's green and the clearances it shows.

    Greens that start after ``warmup_cycles`` (the controller's transition
    into coordination) and end within the window are measured on links that
    only that phase shows green.  Safety: no two foes green together unless
    one yields; every vehicle green that ends shows the yellow of the stage
    whose end stops it (its minimum, at least 3 s) and a foe turns green, or
    permissive green, no sooner than that stage's minimum all-red after the
    yellow ends (one step of tolerance each).  Crossings are checked for
    conflicts only: SUMO's NEMA controller has no pedestrian timing (a
    crossing is green for its phase's whole green).  The run has no traffic,
    so an actuated plan runs its minimums: extensions are not exercised here.

    Raises
    ------
    PlanError
        A plan that SUMO's NEMA controller cannot run (see :mod:`signalopt.formats.nema`).
    SimulationError
        SUMO fails.
    """
    ids = list(plans.signal_ids)
    text = nema_additional_text(plans, network, program_ids={sid: RUN_PROGRAM_ID for sid in ids})
    longest = max(p.cycle_s for p in plans)
    begin = warmup_cycles * longest
    stop = begin + cycles * longest  # greens ending after it are not judged; the run goes on to close them
    states = signal_states(network.path, ids, begin_s=0.0, end_s=stop + longest / 2, additional=text,
                           step_s=step_s)
    greens: dict[tuple[str, int], tuple[float, tuple[float, ...]]] = {}
    unmeasured, violations = [], []
    for plan in plans:
        signal = network.signal(plan.signal_id)
        ring = dual_ring(plan, signal)
        series = states[plan.signal_id]
        controls: dict[int, int] = {}
        shows: dict[int, int] = {}
        for p in ring.phases:
            for k, c in enumerate(p.state):
                controls[k] = controls.get(k, 0) + (c == "G")
                shows[k] = shows.get(k, 0) + (c in "Gg")
        for o in ring.overlaps:
            for k in o.links:
                controls[k] = controls.get(k, 0) + 2
        for p in ring.phases:
            # a link only this phase controls; its protected green where another phase shows it permissive
            own = [k for k, c in enumerate(p.state) if c == "G" and controls.get(k) == 1]
            if not own:
                unmeasured.append((plan.signal_id, p.number))
                continue
            own.sort(key=lambda k: shows[k])
            chars = "Gg" if shows[own[0]] == 1 else "G"
            runs = [e - s for s, e in _runs(series, own[0], chars) if s >= begin - 1e-6 and e <= stop + 1e-6]
            greens[(plan.signal_id, p.number)] = (p.green_s, tuple(round(r, 3) for r in runs))
        violations += state_violations(signal, plan, series, begin_s=begin, end_s=stop, step_s=step_s,
                                       horizon_s=longest / 2)
    return NemaCheck(str(network.path), step_s, greens, tuple(unmeasured), tuple(dict.fromkeys(violations)))


def state_violations(signal: Signal, plan: TimingPlan, series: Sequence[tuple[float, str]], *, begin_s: float,
                     end_s: float, step_s: float, horizon_s: float) -> list[str]:
    """Unsafe indications of one signal as it ran (``series``: (time [s], state) at every change).

    No two foes green together unless one yields; every vehicle green that ends between ``begin_s`` and
    ``end_s`` shows the yellow of the stage whose end stops it in ``plan`` (the stage whose vehicle greens
    were shown just before, where exactly one is and its end may stop the link: its minimum, at least 3 s;
    otherwise the least of the stages that may stop the link, :func:`_clearances_s`; a yellow
    that turns green again, as SUMO's NEMA controller shows a permissive left between its permissive and its
    lagging protected phase, stops nothing and is not held to it); a foe
    turns green, or permissive green, no sooner than that stage's minimum all-red after the yellow ends
    (looking ``horizon_s`` back; one step of tolerance each).
    """
    violations: list[str] = []
    tol = step_s + 1e-6
    vehicle = [k for k in range(signal.n_links) if not signal.links[k].is_crossing]
    may_stop = _stopping_stages(plan, vehicle)
    need_yellow, need_red = _clearances_s(plan, vehicle, may_stop)
    stage_greens = [frozenset(k for k in vehicle if ph.state[k] in GREEN_CHARS) for ph in plan.phases]
    times = [x for x, _ in series]
    for t, state in series:
        bad = signal.conflicting_greens(state)
        if bad:
            violations.append(f"{plan.signal_id} t={t:g} s: links {bad[0][0]} and {bad[0][1]} green together")
            break
    ends: dict[int, list[tuple[float, float]]] = {}  # per link: (end of its yellow, the all-red it needs)
    for k in vehicle:
        yellows = _runs(series, k, "y")
        for s, e in _merged(_runs(series, k, "Gg"), step_s):
            if s < begin_s - 1e-6 or e > end_s + 1e-6:
                continue
            yellow = [(ys, ye) for ys, ye in yellows if abs(ys - e) < 1e-6]
            length = yellow[0][1] - yellow[0][0] if yellow else 0.0
            if yellow and _shows(series, k, yellow[0][1]) in GREEN_CHARS:
                continue  # green again after the yellow (a permissive turn whose protected phase follows): no stop
            stage = _ending_stage(stage_greens, vehicle, series, times, e, may_stop[k])
            if stage is None:
                want_yellow, want_red = need_yellow[k], need_red[k]
            else:
                ending = plan.phases[stage]
                want_yellow = max(ABSOLUTE_MIN_YELLOW_S, ending.min_yellow_s)
                want_red = ending.min_all_red_s
            if length < want_yellow - tol:
                violations.append(f"{plan.signal_id} link {k} t={e:g} s: yellow {length:g} s < {want_yellow:g} s")
            ends.setdefault(k, []).append((yellow[0][1] if yellow else e, want_red))
    starts = {j: [gs for gs, _ in _runs(series, j, "Gg")] for j in vehicle}  # a permissive start counts
    for k, stops in ends.items():
        for j in vehicle:
            if not signal.are_foes(k, j):
                continue
            for gs in starts[j]:
                gaps = [(gs - x, want) for x, want in stops if 0 <= gs - x < horizon_s]
                if not gaps:
                    continue
                gap, want = min(gaps)  # the latest stop before this start
                if gap < want - tol:
                    violations.append(f"{plan.signal_id} links {k}->{j} t={gs:g} s: all-red {gap:g} s "
                                      f"< {want:g} s")
    return violations


@dataclass(frozen=True)
class ActuatedCheck:
    """An exported actuated programme file run in SUMO with the scenario's traffic.

    ``greens`` maps ``(signal id, stage index)`` to the stage's actuated minimum and maximum green and the greens
    SUMO showed on a link only that stage serves [s]; ``violations`` lists unsafe indications
    (:func:`state_violations`) and greens cut below their minimum.
    """

    greens: dict[tuple[str, int], tuple[float, float, tuple[float, ...]]]
    violations: tuple[str, ...]

    def count(self, kind: str) -> int:
        """Greens that ended before their maximum (``"gap"``: a gap-out or a coordinated force-off) or at it
        (``"max"``), one second of tolerance."""
        out = 0
        for low, high, runs in self.greens.values():
            out += sum(1 for r in runs if (r < high - 1.0 if kind == "gap" else r >= high - 1.0))
        return out


def actuated_check(prepared: Prepared, plans: PlanSet, network: Network, text: str, *, seed: int = 1,
                   duration_s: float = 1800.0) -> ActuatedCheck:
    """Run ``text`` (an exported SUMO ``actuated`` or ``NEMA`` file of ``plans``) with the scenario's routes for
    ``duration_s`` after its warm-up and check what SUMO showed against the plans: safe indications, and no
    green shorter than its stage's actuated minimum (a gap-out or force-off never cuts a minimum; the clearances
    are checked by :func:`state_violations`).  Greens are measured from the end of warm-up, on each stage's own
    links (green in that stage only), for plans with an :class:`~signalopt.actuated.Actuation`.

    Raises
    ------
    SimulationError
        SUMO refuses the file or fails.
    """
    begin = prepared.begin_s + prepared.warmup_s
    end = min(prepared.end_s, begin + duration_s)
    with tempfile.TemporaryDirectory(prefix="signalopt-act-") as tmp:
        work = Path(tmp)
        (work / "export.add.xml").write_text(text, encoding="utf-8")
        (work / "events.add.xml").write_text('<additional>\n  <timedEvent type="SaveTLSSwitchStates" '
                                             'dest="switches.xml"/>\n</additional>\n', encoding="utf-8")
        files = [*prepared.additional_files, str(work / "export.add.xml"), str(work / "events.add.xml")]
        cmd = [str(_sumo.binary("sumo")), "-n", prepared.network_path, "-r", ",".join(prepared.route_files),
               "-a", ",".join(files), "--begin", f"{prepared.begin_s:g}", "--end", f"{end:g}", "--seed", str(seed),
               "--no-step-log", "--no-warnings", "--duration-log.disable", "--xml-validation", "never"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            raise SimulationError(f"sumo failed on the export: {_sumo.failure_reason(proc)}")
        # a programme change repeats the state: one entry per change of indication
        switches = {sid: [x for i, x in enumerate(rows) if i == 0 or rows[i - 1][1] != x[1]]
                    for sid, rows in read_switches(work / "switches.xml").items()}
    greens: dict[tuple[str, int], tuple[float, float, tuple[float, ...]]] = {}
    violations: list[str] = []
    for plan in plans:
        signal = network.signal(plan.signal_id)
        series = switches.get(plan.signal_id, [])
        judged_to = end - plan.cycle_s  # greens still running at the end are not judged
        violations += state_violations(signal, plan, series, begin_s=begin, end_s=judged_to, step_s=1.0,
                                       horizon_s=plan.cycle_s / 2)
        act = plan.actuation
        if act is None:
            continue
        vehicle = [k for k in range(signal.n_links) if not signal.links[k].is_crossing]
        for i, (ph, st) in enumerate(zip(plan.phases, act.stages)):
            own = [k for k in vehicle if ph.state[k] in GREEN_CHARS
                   and all(q.state[k] not in GREEN_CHARS for j, q in enumerate(plan.phases) if j != i)]
            if not own:
                continue
            runs = tuple(round(e - s, 3) for s, e in _merged(_runs(series, own[0], "Gg"), 1.0)
                         if s >= begin - 1e-6 and e <= judged_to + 1e-6)
            greens[(plan.signal_id, i)] = (st.min_green_s, st.max_green_s, runs)
            short = [r for r in runs if r < st.min_green_s - 1.0 - 1e-6]
            if short:
                violations.append(f"{plan.signal_id} stage {i + 1}: green {min(short):g} s < its minimum "
                                  f"{st.min_green_s:g} s")
    return ActuatedCheck(greens, tuple(dict.fromkeys(violations)))
