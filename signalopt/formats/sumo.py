"""SUMO ``tlLogic`` programmes: plans written as SUMO additional files (static or actuated programmes, a
WAUT per signal for a time-of-day schedule) and static programmes read back into plans.

Reading: every programme is turned into a :class:`~signalopt.plan.TimingPlan` by
:func:`signalopt.programs.plan_from_program` with the network it runs on
(stages, greens, yellows, all-reds, offset; the minimums each stage promises
are recomputed from the network).  When a file holds several programmes for
one signal, the last one is read: it is the one SUMO runs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .._xml import parse_xml, xml_escape
from ..actuated import Actuation, StageActuation, runs_in_nema, stage_successors
from ..detectors import call_detector_id, call_lanes, detector_id
from ..errors import InputError, PlanError
from ..network import Network, Signal
from ..plan import GREEN_CHARS, PlanSet, TimingPlan, without_walk
from .nema import nema_tllogic
from ..programs import plan_from_program
from ..schedule import Schedule, program_timeline
from ..options import TimingOptions


def _float(path: Path, what: str, value: str | None, default: float | None = None) -> float:
    if value is None:
        if default is None:
            raise InputError(path, f"{what} missing", None)
        return default
    try:
        return float(value)
    except ValueError:
        raise InputError(path, f"{what} is not a number", value) from None


def read_sumo_additional(path: str | Path, network: Network, *, timing: TimingOptions | None = None,
                         name: str | None = None) -> tuple[PlanSet, list[str]]:
    """Plans of every static ``tlLogic`` in a SUMO additional file, plus warnings for stages
    that fall short of the network's minimums (the safety check refuses those before export).

    Raises
    ------
    InputError
        Malformed XML, no ``tlLogic``, a signal the network does not have,
        a programme that is not static, or phases that do not match the
        signal's links.
    """
    path = Path(path)
    timing = timing or TimingOptions()
    root = parse_xml(path)
    logics = [e for e in root.iter("tlLogic")]
    if not logics:
        raise InputError(path, "no <tlLogic> in the SUMO additional file", root.tag)
    last: dict[str, object] = {}
    for e in logics:
        sid = e.get("id")
        if not sid:
            raise InputError(path, "<tlLogic> without id", None)
        last[sid] = e
    plans, warnings = [], []
    for sid, e in last.items():
        kind = e.get("type", "static")
        pid = e.get("programID", "0")
        if kind != "static":
            raise InputError(path, f"tlLogic {sid} programme {pid} is {kind}; only static programmes can be read "
                                   f"back (export them with --format sumo)", kind)
        signal = network.signal(sid, source=path)
        phases = []
        for k, ph in enumerate(e.findall("phase")):
            state = ph.get("state")
            if not state:
                raise InputError(path, f"tlLogic {sid} phase {k}: state missing", None)
            phases.append((_float(path, f"tlLogic {sid} phase {k} duration", ph.get("duration")), state))
        offset = _float(path, f"tlLogic {sid} offset", e.get("offset"), 0.0)
        try:
            plan, w = plan_from_program(signal, tuple(phases), offset_s=offset, timing=timing, program_id=pid)
        except InputError as exc:
            raise InputError(path, exc.what, exc.value) from None
        except PlanError as exc:
            raise InputError(path, f"tlLogic {sid} programme {pid} cannot be read as a plan", str(exc)) from None
        plans.append(plan)
        warnings.extend(w)
    return PlanSet(tuple(plans), name=name or path.name.split(".")[0]), warnings


#: Step of signalopt's simulations [s] (SUMO's default; the runs do not set ``--step-length``).
SIMULATION_STEP_S = 1.0
#: programID of the programmes a run loads; distinct from any id in the network,
#: and loaded last, so SUMO runs it.
RUN_PROGRAM_ID = "signalopt-eval"


def plans_additional(plans: PlanSet, *, program_id: str | None = None, controller: str = "static",
                     network: Network | None = None, step_s: float = SIMULATION_STEP_S) -> str:
    """SUMO additional XML with one ``tlLogic`` per plan.

    ``controller="static"`` writes the plans as they are: fixed time;
    SUMO's ``actuated`` controller with signalopt's detectors and settings for
    a plan with a free :class:`~signalopt.actuated.Actuation` (:func:`_actuated_lines`; one that skips
    stages on recall none needs the plans' ``network`` for its calls);
    SUMO's ``NEMA`` controller for a coordinated one (its force-offs hold the
    plan's cycle, offset and splits: :func:`~signalopt.formats.nema.nema_tllogic`, with its detectors;
    :func:`~signalopt.actuated.runs_in_nema`), which needs the plans' ``network`` and the ``step_s`` [s]
    SUMO will run it at.
    ``"actuated"`` and ``"delay_based"`` write SUMO's stock adaptive
    programmes over the same stages: each green may run from its minimum
    (vehicle minimum, or walk plus pedestrian clearance) to its maximum
    green, yellow and all-red fixed; SUMO places the detectors itself
    (induction loops ``detector-gap`` upstream for actuated, the lane area up
    to 100 m for delay_based).

    Raises
    ------
    PlanError
        An actuated plan that needs ``network`` without it, or a coordinated one whose stages SUMO's NEMA
        controller cannot run (more than two barrier groups, ...), naming the signal.
    """
    kind = "static" if controller in ("static", "max_pressure") else controller
    lines = ["<additional>"]
    for plan in plans:
        pid = xml_escape(program_id or plan.program_id)
        if kind == "static" and plan.actuation is not None:
            lines += (_nema_lines(plan, network, program_id or plan.program_id, step_s=step_s)
                      if runs_in_nema(plan.actuation)
                      else _actuated_lines(plan, plan.actuation, pid, signal=_signal(plan, network)))
            continue
        lines.append(f'  <tlLogic id="{xml_escape(plan.signal_id)}" type="{kind}" '
                     f'programID="{pid}" offset="{plan.offset_s:.3f}">')
        if kind == "static":
            for dur, state in plan.sumo_phases():
                lines.append(f'    <phase duration="{dur:.3f}" state="{state}"/>')
        else:
            for dur, state, lo, hi in _adaptive_phases(plan):
                extra = f' minDur="{lo:.3f}" maxDur="{hi:.3f}"' if lo is not None else ""
                lines.append(f'    <phase duration="{dur:.3f}" state="{state}"{extra}/>')
        lines.append("  </tlLogic>")
    lines.append("</additional>")
    return "\n".join(lines) + "\n"


def needs_network(plans: PlanSet) -> bool:
    """Whether :func:`plans_additional` needs the network to write ``plans``: an actuated plan that is
    coordinated (SUMO's NEMA controller builds its rings from the signal) or skips stages (its calls come from
    the lanes each stage gives green)."""
    return any(p.actuation is not None and (runs_in_nema(p.actuation) or p.actuation.skips_stages)
               for p in plans)


def _signal(plan: TimingPlan, network: Network | None) -> Signal | None:
    """The signal of ``plan`` where a skipping plan needs it (``None`` without a network)."""
    if network is None or plan.actuation is None or not plan.actuation.skips_stages:
        return None
    return network.signal(plan.signal_id)


def check_programmes(plans: PlanSet, network: Network) -> None:
    """Raise the :class:`PlanError` that :func:`plans_additional` would raise for ``plans`` on ``network``.

    Called before the first simulation: a worker would otherwise fail on it once per seed.
    """
    for plan in plans:
        if runs_in_nema(plan.actuation):
            _nema_lines(plan, network, RUN_PROGRAM_ID)
        elif plan.actuation is not None and plan.actuation.skips_stages:
            _actuated_lines(plan, plan.actuation, RUN_PROGRAM_ID, signal=network.signal(plan.signal_id))


def coordinated_refusal(signal_id: str) -> PlanError:
    """The error for a coordinated actuated plan asked of SUMO's stage-based programmes (no force-offs)."""
    return PlanError(f"signal {signal_id}: a coordinated actuated plan needs force-offs, so it runs in SUMO's NEMA "
                     f"controller, not its stage-based actuated one; export it with --format nema or ntcip")


def _nema_lines(plan: TimingPlan, network: Network | None, program_id: str, *,
                step_s: float = SIMULATION_STEP_S) -> list[str]:
    """Lane-area detectors and a ``NEMA`` tlLogic running a coordinated actuated ``plan``.

    SUMO's stage-based actuated controller has no force-offs; its NEMA controller has, and needs the signal's
    links and approaches to build the rings and barriers.  Written for a run at
    ``step_s`` [s] (a phase with a tight split keeps being served: see ``nema_tllogic``'s ``step_s``).
    """
    if network is None:
        raise coordinated_refusal(plan.signal_id)
    return nema_tllogic(plan, network.signal(plan.signal_id), program_id=program_id, step_s=step_s)


def _actuated_lines(plan: TimingPlan, act: Actuation, program_id: str, *, signal: Signal | None = None,
                    detector_tag: str = "") -> list[str]:
    """Induction loops and an ``actuated`` tlLogic running ``plan`` with its :class:`Actuation`.

    Each lane's loop is its custom detector (SUMO's ``<lane id>`` parameter)
    with the passage time of the stage it extends as ``max-gap:<lane id>``;
    ``detector_tag`` tells apart the loops of several programmes of one signal.
    A stage's stretchable interval (its green, or the walk part of it) runs
    from the stage's minimum to its maximum (both at the maximum on max
    recall); pedestrian clearance and the interstage are fixed.  A plan that
    skips stages (recall ``none``) needs its ``signal``: :func:`_skipping_phases`.
    """
    sid = xml_escape(plan.signal_id)
    loops = {d.lane: detector_id(plan.signal_id, d.lane) + detector_tag for d in act.detectors}
    lines = [f'  <inductionLoop id="{xml_escape(loops[d.lane])}" lane="{xml_escape(d.lane)}" pos="{d.pos_m:.3f}" '
             f'period="86400" file="NUL"/>' for d in act.detectors]
    if act.skips_stages:
        if signal is None:
            raise PlanError(f"signal {plan.signal_id}: an actuated plan that skips stages (recall none) needs the "
                            f"network to write its calls; pass it")
        calls = {d.lane: call_detector_id(plan.signal_id, d.lane) + detector_tag for d in act.detectors}
        lines += [f'  <laneAreaDetector id="{xml_escape(calls[d.lane])}" lane="{xml_escape(d.lane)}" '
                  f'pos="{d.pos_m:.3f}" endPos="{d.pos_m + d.distance_m:.3f}" friendlyPos="true" period="86400" '
                  f'file="NUL"/>'
                  for d in act.detectors]
        phases = _skipping_phases(plan, act, signal, loops, calls)
    else:
        phases = _serving_phases(plan, act)
    lines.append(f'  <tlLogic id="{sid}" type="actuated" programID="{program_id}" offset="{plan.offset_s:.3f}">')
    lines.append(f'    <param key="max-gap" value="{max(s.passage_s for s in act.stages):.3f}"/>')
    for d in act.detectors:
        lines.append(f'    <param key="{xml_escape(d.lane)}" value="{xml_escape(loops[d.lane])}"/>')
        lines.append(f'    <param key="max-gap:{xml_escape(d.lane)}" value="{act.stages[d.stage].passage_s:.3f}"/>')
    lines += phases
    lines.append("  </tlLogic>")
    return lines


def _stretchable(plan: TimingPlan, i: int, st: StageActuation) -> tuple[float, float]:
    """(minDur, maxDur) [s] of stage ``i``'s first interval (its green, or the walk part of it)."""
    p = plan.phases[i]
    walks = p.serves_pedestrians and without_walk(p.state, plan.ped_links) != p.state
    clearance = p.ped_clearance_s if walks else 0.0
    hi = max(st.max_green_s - clearance, 0.1)
    lo = hi if st.recall == "max" else min(max(st.min_green_s - clearance, p.walk_s if walks else 0.1), hi)
    return lo, hi


def _serving_phases(plan: TimingPlan, act: Actuation) -> list[str]:
    """The phases of a programme that serves every stage in order."""
    lines = []
    n = len(plan.phases)
    for i, (p, st) in enumerate(zip(plan.phases, act.stages)):
        (green_s, state), *rest = p.intervals(plan.phases[(i + 1) % n].state, plan.ped_links)
        lo, hi = _stretchable(plan, i, st)
        lines.append(f'    <phase duration="{min(max(green_s, lo), hi):.3f}" minDur="{lo:.3f}" maxDur="{hi:.3f}" '
                     f'state="{state}"/>')
        lines += [f'    <phase duration="{d:.3f}" state="{st_}"/>' for d, st_ in rest]
    return lines


#: Characters SUMO's switching-rule expressions split or group on.
_NOT_IN_RULES = frozenset(" \t\n()")


def _skipping_phases(plan: TimingPlan, act: Actuation, signal: Signal, loops: dict[str, str],
                     calls: dict[str, str]) -> list[str]:
    """The phases of a programme whose stages on recall ``none`` are skipped when nobody calls them.

    SUMO's actuated controller chooses among several ``next`` phases by the custom switching rules of each
    candidate's first phase (``earlyTarget`` while the green may still run, ``finalTarget`` at its maximum;
    the first candidate whose rule holds wins, the last one at the maximum otherwise).  Each stage's green is
    followed by one interstage per stage that may follow it (:func:`~signalopt.actuated.stage_successors`),
    written for that stage (its yellow and all-red are the plan's, raised to cover every successor by
    :func:`~signalopt.programs.cover_skips`).  A stage is called when a vehicle stands or moves on a lane with
    a link it gives a stronger green than the ending stage does (none to permissive or protected, permissive to
    protected), seen by a lane-area detector from the stop line back to the lane's extension loop: a presence
    call, as a controller's stop-bar detectors place one.  Where every stage that may follow skips without a call
    (the first stage, the only one always served, with the others on recall none), the green rests until one
    is called, as a controller rests in a phase with no conflicting call (the green itself is the last ``next``
    candidate, which SUMO keeps when no rule holds); its maximum counts from the start of the green, not from
    the call as in NTCIP, so a call that comes after it ends the green at once.  The green gaps out when every
    loop on a lane all of whose links it gives green has seen no vehicle for its passage time
    (``max-gap:<lane>``, as in a programme that serves every stage; SUMO's own gap-out also leaves out some
    loops on lanes with permissive links).  The last phase written is the last stage's interstage into the
    first stage, as in a programme that serves every stage (a schedule takes over there).
    """
    unusable = [i for i in (*loops.values(), *calls.values()) if set(i) & _NOT_IN_RULES]
    if unusable:
        raise PlanError(f"signal {plan.signal_id}: detector {unusable[0]!r}: its id (signal and lane ids) cannot "
                        f"stand in SUMO's switching rules (spaces or parentheses); recall min instead of none")
    n = len(plan.phases)
    if n < 2:
        raise PlanError(f"signal {plan.signal_id}: a single stage cannot be skipped; recall min instead of none")
    successors = stage_successors([st.recall for st in act.stages])
    programmed = [i for i, p in enumerate(plan.phases) if p.change and len(successors[i]) > 1]
    if programmed:
        raise PlanError(f"signal {plan.signal_id}: stage {programmed[0] + 1} has a programmed interstage but may be "
                        f"followed by several stages (recall none); use the standard interstage (cover_skips)")
    chains: dict[tuple[int, int], list[tuple[float, str]]] = {}
    greens = []
    for i, (p, st) in enumerate(zip(plan.phases, act.stages)):
        for j in successors[i]:
            rest = p.intervals(plan.phases[j].state, plan.ped_links)[1:]
            # a stage whose green holds every green of this one needs no interstage: its green a second early
            chains[(i, j)] = rest or [(1.0, plan.phases[j].state)]
        green_s, state = p.intervals(plan.phases[(i + 1) % n].state, plan.ped_links)[0]
        lo, hi = _stretchable(plan, i, st)
        greens.append((min(max(green_s, lo), hi), state, lo, hi))
    start: dict[tuple[int, ...], int] = {}
    k = 0
    for i in range(n):
        start[(i,)] = k
        k += 1
        for j in sorted(successors[i], key=lambda j: (i == n - 1 and j == 0, successors[i].index(j))):
            start[(i, j)] = k
            k += len(chains[(i, j)])

    def gap_out(i: int) -> str:
        # as SUMO's gap-out: the loops on lanes all of whose links have green, each with its own passage
        state = plan.phases[i].state
        red = {lane for c, link in zip(state, signal.links) if c not in GREEN_CHARS and not link.is_crossing
               for lane in link.from_lanes}
        own = {lane for c, link in zip(state, signal.links) if c in GREEN_CHARS and not link.is_crossing
               for lane in link.from_lanes} - red
        terms = [f"z:{loops[d.lane]} >= {act.stages[d.stage].passage_s:.3f}" for d in act.detectors
                 if d.lane in own]
        return " and ".join(terms) or "1"

    def called(i: int, j: int) -> str:
        new = call_lanes(signal, plan.phases[i].state, plan.phases[j].state)
        return " or ".join(f"a:{calls[d.lane]} > 0" for d in act.detectors if d.lane in new) or "0"

    lines = [""] * k
    for i in range(n):
        duration, state, lo, hi = greens[i]
        # every stage that may follow skips without a call: the green rests until one comes (listed last, it
        # is what SUMO keeps when no rule holds)
        rests = act.stages[successors[i][-1]].recall == "none"
        nxt = " ".join([str(start[(i, j)]) for j in successors[i]] + ([str(start[(i,)])] if rests else []))
        lines[start[(i,)]] = (f'    <phase duration="{duration:.3f}" minDur="{lo:.3f}" maxDur="{hi:.3f}" '
                              f'state="{state}" next="{nxt}"/>')
        gapped = gap_out(i) if len(successors[i]) > 1 or rests else None
        for j in successors[i]:
            rule = ""
            if gapped is not None:
                early = gapped
                if j != successors[i][-1] or rests:
                    call = called(i, j)
                    early = f"({early}) and ({call})"
                    rule = f' finalTarget="{xml_escape(call)}"'
                rule = f' earlyTarget="{xml_escape(early)}"' + rule
            chain = chains[(i, j)]
            for m, (d, st_) in enumerate(chain):
                to = start[(j,)] if m == len(chain) - 1 else start[(i, j)] + m + 1
                lines[start[(i, j)] + m] = (f'    <phase duration="{d:.3f}" state="{st_}" next="{to}"'
                                            f'{rule if m == 0 else ""}/>')
    return lines


#: Longest green SUMO's adaptive baselines may extend a stage to, unless the plan's own green is longer [s]:
#: netconvert's default ``--tls.max-dur`` for actuated programmes.  A plan's ``max_green_s`` is a safety bound
#: for retiming (120 s by default), not a controller setting; with it, delay_based held a side street at 120 s
#: whenever a link green in every stage had a vehicle losing time.
ADAPTIVE_MAX_GREEN_S = 50.0


def _adaptive_phases(plan: TimingPlan) -> list[tuple[float, str, float | None, float | None]]:
    """(duration, state, minDur, maxDur) of an actuated programme over ``plan``'s stages and interstages."""
    out: list[tuple[float, str, float | None, float | None]] = []
    n = len(plan.phases)
    for i, p in enumerate(plan.phases):
        # the stage's first interval (its green, or the walk part of it) is the one SUMO may stretch
        (green_s, state), *rest = p.intervals(plan.phases[(i + 1) % n].state, plan.ped_links)
        walks = p.serves_pedestrians and without_walk(p.state, plan.ped_links) != p.state
        clearance = p.ped_clearance_s if walks else 0.0
        max_green = min(max(p.max_green_s, p.green_s), max(ADAPTIVE_MAX_GREEN_S, p.green_s))
        lo = max(p.min_green_s - clearance, p.walk_s) if walks else p.min_green_s
        out.append((green_s, state, lo, max(lo, max_green - clearance)))
        out.extend((d, st, None, None) for d, st in rest)
    return out


def period_program(k: int, prefix: str) -> str:
    """Programme id of a schedule's period ``k`` in :func:`schedule_programs_additional`."""
    return f"{prefix}p{k}"


def schedule_programs_additional(schedule: Schedule, *, program_prefix: str = "", first: int = 0,
                                 network: Network | None = None) -> str:
    """SUMO additional XML: every period's programme of every signal (``<prefix>p<k>``, each actuated one with
    its own loops; period ``first`` written last, so it runs from the start), for a controller that switches
    them as it goes (:mod:`signalopt._schedule_run`; a WAUT cannot switch an actuated programme safely).
    A plan that skips stages needs the ``network``."""
    lines = ["<additional>"]
    order = [k for k in range(len(schedule.periods)) if k != first] + [first]
    for sid in schedule.signal_ids:
        for k in order:
            plan = schedule.periods[k].plans[sid]
            pid = period_program(k, program_prefix)
            if plan.actuation is not None:
                lines += _actuated_lines(plan, plan.actuation, xml_escape(pid), signal=_signal(plan, network),
                                         detector_tag=f"|{pid}")
            else:
                lines += plans_additional(PlanSet((plan,)), program_id=pid).splitlines()[1:-1]
    lines.append("</additional>")
    return "\n".join(lines) + "\n"


def waut_additional(schedule: Schedule, *, program_prefix: str = "") -> str:
    """SUMO additional XML: every period's and transition's programme plus a WAUT per signal.

    Raises
    ------
    PlanError
        The schedule runs an actuated plan, whose state at a switching time a WAUT cannot know.
    """
    if schedule.actuated:
        period, plan = next((p, q) for p in schedule.periods for q in p.plans if q.actuation is not None)
        raise PlanError(f"schedule {schedule.name!r} runs actuated plans (period {period.name!r}, signal "
                        f"{plan.signal_id}), which SUMO's WAUT cannot switch without risking a cut yellow; export it "
                        f"as json or ntcip")
    lines = ["<additional>"]
    timeline = program_timeline(schedule)
    for sid, items in timeline.items():
        for t, pid, plan in items:
            if pid.startswith("t"):
                plan = replace(plan, offset_s=t % plan.cycle_s)  # its one cycle starts exactly at t
            body = plans_additional(PlanSet((plan,)), program_id=f"{program_prefix}{pid}")
            lines += body.splitlines()[1:-1]
        wid = f"waut_{sid}"
        lines.append(f'  <WAUT id="{xml_escape(wid)}" refTime="0" startProg="{program_prefix}p0">')
        for t, pid, _ in items[1:]:
            lines.append(f'    <wautSwitch time="{t:.0f}" to="{xml_escape(program_prefix + pid)}"/>')
        lines.append("  </WAUT>")
        lines.append(f'  <wautJunction wautID="{xml_escape(wid)}" junctionID="{xml_escape(sid)}"/>')
    lines.append("</additional>")
    return "\n".join(lines) + "\n"
