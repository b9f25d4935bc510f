"""Safety check run before any plan is written: conflicts, clearances, minimums.

The check is independent of the minimums a plan carries: it recomputes every
requirement from the network (SUMO foes, ITE's or the fixed standard's yellow
and all-red, walk and pedestrian clearance) so a plan edited by hand, or read
from a file, is held to the same rules as one signalopt built.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PlanError, UnsafePlanError
from .network import Network, Signal
from .actuated import StageActuation, stage_successors
from .detectors import call_lanes
from .plan import ABSOLUTE_MIN_YELLOW_S, EPS_S, GREEN_CHARS, PlanSet, TimingPlan
from .programs import StageRequirements, stage_requirements
from .options import TimingOptions
from .schedule import program_timeline

#: Longest cycle any supported controller format accepts [s] (NTCIP 1202 patternCycleTime 0..255).
MAX_CYCLE_S = 255.0


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, which rule, the value and the limit."""

    signal_id: str
    phase: str
    rule: str
    value: str
    limit: str

    def __str__(self) -> str:
        return f"{self.signal_id} {self.phase}: {self.rule} ({self.value}; limit {self.limit})"


def check_plan(plan: TimingPlan, network: Network, timing: TimingOptions) -> list[Violation]:
    """Every rule ``plan`` breaks on ``network`` (empty when safe)."""
    out: list[Violation] = []
    sid = plan.signal_id
    if sid not in network.signal_ids:
        return [Violation(sid, "-", "signal not in the network", sid, ", ".join(network.signal_ids))]
    signal = network.signal(sid)
    if plan.n_links != signal.n_links:
        return [Violation(sid, "-", "state length differs from the signal's links", str(plan.n_links),
                          str(signal.n_links))]
    if not 0 <= plan.offset_s < plan.cycle_s:
        out.append(Violation(sid, "-", "offset outside [0, cycle)", f"{plan.offset_s:g} s", f"{plan.cycle_s:g} s"))
    if plan.cycle_s > MAX_CYCLE_S:
        out.append(Violation(sid, "-", "cycle longer than controllers accept", f"{plan.cycle_s:g} s",
                             f"{MAX_CYCLE_S:g} s"))
    if set(plan.ped_links) != set(signal.ped_links):
        out.append(Violation(sid, "-", "crossing links differ from the network", str(sorted(plan.ped_links)),
                             str(sorted(signal.ped_links))))
    # a vehicle movement the street's own programmes serve must keep a green: a plan that drops it (a stage
    # left out, an edited state) would queue that movement for ever, though nothing conflicts.  Crossings are
    # left out on purpose: reading a programme drops a crossing from a stage too short for walk + clearance
    # (with a warning), and the plans built from it keep that choice.
    served = {k for prog in signal.programs for _, state in prog.phases for k, c in enumerate(state)
              if c in GREEN_CHARS and k not in signal.ped_links}
    unserved = sorted(served - {k for ph in plan.phases for k, c in enumerate(ph.state) if c in GREEN_CHARS})
    if unserved:
        out.append(Violation(sid, "-", "movement never served (no green in any stage)",
                             f"links {', '.join(map(str, unserved))}",
                             "every vehicle link the network's programmes serve"))
    for dur, state in plan.sumo_phases():
        for a, b in signal.conflicting_greens(state):
            out.append(Violation(sid, f"state {state}", "conflicting movements green together",
                                 f"links {a} and {b}", "SUMO foes; only a yielding 'g' may share"))
    out += _link_change_violations(plan, signal)
    n = len(plan.phases)
    for i, ph in enumerate(plan.phases):
        nxt = plan.phases[(i + 1) % n]
        req = stage_requirements(signal, ph.state, nxt.state, timing)
        name = ph.name
        if req.min_yellow_s > 0 and ph.yellow_s < max(ABSOLUTE_MIN_YELLOW_S, req.min_yellow_s) - EPS_S:
            out.append(Violation(sid, name, "yellow cut", f"{ph.yellow_s:g} s",
                                 f"{max(ABSOLUTE_MIN_YELLOW_S, req.min_yellow_s):g} s ({timing.yellow_rule}, >= 3 s)"))
        if ph.all_red_s < req.min_all_red_s - EPS_S:
            out.append(Violation(sid, name, "all-red cut", f"{ph.all_red_s:g} s",
                                 f"{req.min_all_red_s:g} s ({timing.all_red_rule})"))
        if ph.green_s < req.min_green_s - EPS_S:
            out.append(Violation(sid, name, "green below vehicle minimum", f"{ph.green_s:g} s",
                                 f"{req.min_green_s:g} s"))
        serves_ped = any(k in signal.ped_links for k, c in enumerate(ph.state) if c in GREEN_CHARS)
        if serves_ped:
            need = req.walk_s + req.ped_clearance_s
            if ph.green_s < need - EPS_S:
                out.append(Violation(sid, name, "green below pedestrian minimum (walk + clearance)",
                                     f"{ph.green_s:g} s", f"{need:g} s"))
            if ph.ped_clearance_s < req.ped_clearance_s - EPS_S:
                out.append(Violation(sid, name, "pedestrian clearance cut", f"{ph.ped_clearance_s:g} s",
                                     f"{req.ped_clearance_s:g} s"))
        if plan.actuation is not None:
            lanes = {lane for k, c in enumerate(ph.state) if c in GREEN_CHARS and k not in signal.ped_links
                     for lane in signal.links[k].from_lanes}
            called = any(d.lane in lanes for d in plan.actuation.detectors)
            out += _actuation_violations(sid, name, plan.actuation.stages[i], req, serves_ped, called)
            if i == 0 and plan.actuation.stages[0].recall == "none":
                # a cycle starts with the first stage: offsets, per-cycle queues and time-of-day handovers
                # refer to it, so it is served every cycle
                out.append(Violation(sid, name, "recall none on the first stage", "recall none",
                                     "recall min (each cycle starts with the first stage)"))
            out += _skip_violations(plan, signal, i, timing)
            if plan.actuation.mode == "coordinated" and plan.actuation.stages[i].min_green_s > ph.green_s + EPS_S:
                out.append(Violation(sid, name, "actuated minimum green longer than the split allows (coordinated)",
                                     f"{plan.actuation.stages[i].min_green_s:g} s", f"{ph.green_s:g} s"))
    if plan.actuation is not None:
        for d in plan.actuation.detectors:
            served = {lane for k, c in enumerate(plan.phases[d.stage].state) if c in GREEN_CHARS
                      for lane in signal.links[k].from_lanes}
            if d.lane not in {lane for link in signal.links for lane in link.from_lanes}:
                out.append(Violation(sid, "-", "detector on a lane the signal does not control", d.lane,
                                     "an incoming lane of the signal"))
            elif d.lane not in served:
                out.append(Violation(sid, "-", "detector extends a stage that does not serve its lane",
                                     f"{d.lane}, stage {d.stage + 1}", "a stage in which the lane has green"))
    return out


def _actuation_violations(sid: str, name: str, st: StageActuation, req: StageRequirements,
                          serves_ped: bool, called: bool) -> list[Violation]:
    """A gap-out may end a green at its actuated minimum: that minimum must keep the stage's own.  A stage
    skipped without a call must have a detector to call it (``called``) and no crossing: SUMO's pedestrians
    press no button, so they would wait until a vehicle happened to call it."""
    out = []
    need = max(req.min_green_s, req.walk_s + req.ped_clearance_s if serves_ped else 0.0)
    if st.min_green_s < need - EPS_S:
        out.append(Violation(sid, name, "actuated minimum green below the stage minimum", f"{st.min_green_s:g} s",
                             f"{need:g} s (vehicle, walk + clearance)"))
    if st.recall == "none" and not called:
        out.append(Violation(sid, name, "recall none without a detector to call the stage", "no detector on its lanes",
                             "a detector on a lane the stage serves, or recall min"))
    if st.recall == "none" and serves_ped:
        out.append(Violation(sid, name, "recall none on a stage with a crossing", "pedestrians have no call",
                             "recall ped (or min)"))
    if st.recall == "ped" and not serves_ped:
        out.append(Violation(sid, name, "pedestrian recall on a stage without a crossing", "recall ped",
                             "a stage whose green serves a crossing"))
    return out


def _skip_violations(plan: TimingPlan, signal: Signal, i: int, timing: TimingOptions) -> list[Violation]:
    """Stage ``i``'s change interval against every stage that may follow it when the next ones skip (recall
    none): other links may stop there and other foes start, so each needs its own minimums; and each stage that
    may skip must be callable from stage ``i`` (:func:`~signalopt.detectors.call_lanes`), or it never runs."""
    recalls = [st.recall for st in plan.actuation.stages]
    following = stage_successors(recalls)[i]
    ph = plan.phases[i]
    # a stage that may skip is entered from this one only on a call from a lane it gives a stronger green (the
    # last one too where every stage that may follow skips: the green then rests until a call)
    skippable = following if following and recalls[following[-1]] == "none" else following[:-1]
    detected = {d.lane for d in plan.actuation.detectors}
    uncalled = [j for j in skippable if not call_lanes(signal, ph.state, plan.phases[j].state) & detected]
    if uncalled:
        return [Violation(plan.signal_id, plan.phases[j].name, f"recall none with no detector to call it after stage "
                          f"{i + 1}", "no detected lane it gives a stronger green",
                          "a detector on such a lane, or recall min") for j in uncalled]
    successors = following[1:]
    if not successors:
        return []
    if ph.change:
        return [Violation(plan.signal_id, ph.name, "programmed interstage before a stage that may be skipped",
                          f"skips to stage {successors[0] + 1}", "the standard interstage (no programmed change)")]
    out = []
    for j in successors:
        req = stage_requirements(signal, ph.state, plan.phases[j].state, timing)
        need_yellow = max(ABSOLUTE_MIN_YELLOW_S, req.min_yellow_s) if req.min_yellow_s > 0 else 0.0
        if ph.yellow_s < need_yellow - EPS_S:
            out.append(Violation(plan.signal_id, ph.name, f"yellow cut when skipping to stage {j + 1}",
                                 f"{ph.yellow_s:g} s", f"{need_yellow:g} s ({timing.yellow_rule}, >= 3 s)"))
        if ph.all_red_s < req.min_all_red_s - EPS_S:
            out.append(Violation(plan.signal_id, ph.name, f"all-red cut when skipping to stage {j + 1}",
                                 f"{ph.all_red_s:g} s", f"{req.min_all_red_s:g} s ({timing.all_red_rule})"))
    return out


def _link_change_violations(plan: TimingPlan, signal: Signal) -> list[Violation]:
    """Every vehicle link's own change interval over the cycle: a green must end in a yellow of >= 3 s.

    The per-stage rules check each interstage's total; a programmed
    interstage can stagger its yellows, so each link is followed through the
    states it is actually shown.
    """
    phases = plan.sumo_phases()
    out = []
    for k in range(plan.n_links):
        if k in signal.ped_links:
            continue
        shown = [(d, st[k]) for d, st in phases]
        start = next((i for i, (_, c) in enumerate(shown) if c != "y"), None)
        if start is None:
            continue
        shown = shown[start:] + shown[:start]
        yellow, prev = 0.0, shown[-1][1]
        for d, c in shown + shown[:1]:
            if c == "y":
                yellow += d
            else:
                if prev == "y" and yellow < ABSOLUTE_MIN_YELLOW_S - EPS_S:
                    out.append(Violation(plan.signal_id, f"link {k}", "link yellow shorter than 3 s", f"{yellow:g} s",
                                         f"{ABSOLUTE_MIN_YELLOW_S:g} s"))
                if prev in GREEN_CHARS and c not in GREEN_CHARS:
                    out.append(Violation(plan.signal_id, f"link {k}", "green ends without yellow",
                                         f"{prev} -> {c}", "a yellow between green and red"))
                yellow = 0.0
            prev = c
    return out


def check_plans(plans: PlanSet, network: Network, *, timing: TimingOptions | None = None) -> list[Violation]:
    """Every violation of every plan in ``plans``."""
    timing = timing or TimingOptions()
    return [v for plan in plans for v in check_plan(plan, network, timing)]


def _greens(state: str) -> str:
    """A state as which links may go (G and g alike): a plan made safe may turn a G permissive."""
    return "".join("G" if c in GREEN_CHARS else "r" for c in state)


def interval_cuts(plans: PlanSet, existing: PlanSet) -> list[Violation]:
    """Every yellow or all-red of ``plans`` shorter than the existing timing runs between the same two stages.

    A retiming may lengthen a change interval but never shortens the one the street runs, even where the
    minimum (ITE's or a standard) would allow less: that interval is the agency's decision.  Stages are matched
    by the links they let go; signals or stage pairs the existing timing does not have are not compared.
    """
    out = []
    for plan in plans:
        if plan.signal_id not in existing.signal_ids:
            continue
        old = existing[plan.signal_id]
        ran = {(_greens(a.state), _greens(old.phases[(i + 1) % len(old.phases)].state)): a
               for i, a in enumerate(old.phases)}
        for i, ph in enumerate(plan.phases):
            before = ran.get((_greens(ph.state), _greens(plan.phases[(i + 1) % len(plan.phases)].state)))
            if before is None:
                continue
            for what, new_s, old_s in (("yellow", ph.yellow_s, before.yellow_s),
                                       ("all-red", ph.all_red_s, before.all_red_s)):
                if new_s < old_s - EPS_S:
                    out.append(Violation(plan.signal_id, ph.name, f"{what} shorter than the existing timing's",
                                         f"{new_s:g} s", f"{old_s:g} s (existing)"))
    return out


def validate_plans(plans: PlanSet, network: Network, *, timing: TimingOptions | None = None,
                   source: str | None = None, existing: PlanSet | None = None) -> PlanSet:
    """Return ``plans`` if safe, else raise :class:`UnsafePlanError` listing every violation; with
    ``existing`` (the timing the street runs, for a retiming of it), also every :func:`interval_cuts`."""
    violations = check_plans(plans, network, timing=timing)
    if existing is not None:
        violations += interval_cuts(plans, existing)
    if violations:
        raise UnsafePlanError([str(v) for v in violations], source=source)
    return plans


def check_schedule(schedule, network: Network, *, timing: TimingOptions | None = None) -> list[Violation]:  # noqa: ANN001
    """Every violation of a time-of-day schedule: each period's plans and each transition cycle."""
    timing = timing or TimingOptions()
    out = [v for p in schedule.periods for plan in p.plans for v in check_plan(plan, network, timing)]
    try:
        timeline = program_timeline(schedule)
    except PlanError as exc:
        return [*out, Violation("-", "-", "unsafe switch between periods", str(exc), "a transition cycle")]
    for sid, items in timeline.items():
        for t, pid, plan in items:
            if pid.startswith("t"):
                out += [Violation(sid, f"transition at {t:g} s: {v.phase}", v.rule, v.value, v.limit)
                        for v in check_plan(plan, network, timing)]
    return out


def validate_schedule(schedule, network: Network, *, timing: TimingOptions | None = None,  # noqa: ANN001
                      source: str | None = None):  # noqa: ANN201
    """Return ``schedule`` if every period and transition is safe, else raise :class:`UnsafePlanError`."""
    violations = check_schedule(schedule, network, timing=timing)
    if violations:
        raise UnsafePlanError([str(v) for v in violations], source=source)
    return schedule
