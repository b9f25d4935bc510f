"""NEMA dual-ring phase numbering of 4-stage plans, and SUMO ``tlLogic type="NEMA"`` programmes.

The mapping (also used by the NTCIP 1202 and Synchro UTDF exports):

* a plan must have exactly four stages: for each of two barrier groups (a
  pair of opposing approaches) one protected-left stage and one through
  stage (through + right, with the parallel crossings).  A stage that serves
  lefts and throughs together, a group that is not two opposing approaches,
  or any other stage count does not fit a dual ring and is refused;
* barrier group 1 is the group of the plan's first stage (the main street
  in the bundled plans: Qixiangtai Rd, N-S); group 2 the other one;
* with ``a`` the first and ``b`` the second approach of a group (in the
  network's approach order N, E, S, W), ring 1 holds ``left of b`` and
  ``through of a``, ring 2 ``left of a`` and ``through of b``.  Group 1
  numbers them 1, 2 (ring 1) and 5, 6 (ring 2), group 2 3, 4 and 7, 8, so the
  odd phases are lefts, the even ones throughs, 1+5 the lefts and 2+6 the
  throughs of group 1, and the diagonal pairs (1+6, 2+5, 3+8, 4+7) are an
  approach's left with its own through;
* a crossing goes to the through phase it can run with in every pairing of
  the two rings (each pairing is checked against SUMO's foes);
* phases 2 and 6 are the coordinated phases; the ring order (leading or
  lagging lefts) follows the plan.

Pedestrians: SUMO's NEMA controller has one state per phase and no walk or
pedestrian-clearance timing, so in the SUMO NEMA programme a crossing shows
its phase's green for the whole green (the plan shows walk, then the
pedestrian clearance with the crossing red).  The walk and clearance are
carried to real controllers by the NTCIP and UTDF sheets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._xml import xml_escape
from ..errors import PlanError
from ..network import Network, Signal
from ..plan import GREEN_CHARS, PlanSet, TimingPlan

#: Coordinated phases (start of their green is the offset reference, NEMA TS2 style).
COORDINATED = (2, 6)
#: Vehicle extension written on every NEMA phase [s] (unused: every phase is on max recall).
VEHICLE_EXTENSION_S = 2.0


@dataclass(frozen=True)
class NemaPhase:
    """One NEMA phase of a dual-ring mapping.

    ``stage`` is the index of the plan stage whose green, yellow and all-red
    the phase runs; ``state`` gives green only to this phase's links.
    """

    number: int
    ring: int
    barrier: int
    position: int
    stage: int
    movement: str  # "left" | "through"
    approach: str
    links: frozenset[int]
    crossings: frozenset[int]
    state: str


@dataclass(frozen=True)
class DualRing:
    """The dual-ring structure of one plan (phases ordered by number)."""

    signal_id: str
    phases: tuple[NemaPhase, ...]

    def phase(self, number: int) -> NemaPhase:
        for p in self.phases:
            if p.number == number:
                return p
        raise KeyError(number)

    def ring_sequence(self, ring: int) -> list[int]:
        """Phase numbers of ``ring`` in service order (barrier group 1 first)."""
        return [p.number for p in sorted(self.phases, key=lambda p: (p.barrier, p.position)) if p.ring == ring]

    @property
    def barrier_phases(self) -> tuple[int, int]:
        """Last phase of barrier group 2 in ring 1 and ring 2 (they end together)."""
        return self.ring_sequence(1)[-1], self.ring_sequence(2)[-1]

    @property
    def coordinated(self) -> tuple[int, int]:
        return COORDINATED

    def concurrent(self, number: int) -> list[int]:
        """Phases of the other ring on the same side of the barrier."""
        me = self.phase(number)
        return [p.number for p in self.phases if p.ring != me.ring and p.barrier == me.barrier]


def _merge(*states: str) -> str:
    out = []
    for chars in zip(*states):
        out.append("G" if "G" in chars else "g" if "g" in chars else "r")
    return "".join(out)


def _only(state: str, links: frozenset[int]) -> str:
    return "".join(c if k in links and c in GREEN_CHARS else "r" for k, c in enumerate(state))


def _classify(signal: Signal, state: str) -> tuple[dict[str, set[int]], dict[str, set[int]], set[int], set[int]]:
    """Green links of ``state``: lefts and throughs by approach, rights, crossings."""
    lefts: dict[str, set[int]] = {}
    throughs: dict[str, set[int]] = {}
    rights: set[int] = set()
    crossings: set[int] = set()
    for k, c in enumerate(state):
        if c not in GREEN_CHARS:
            continue
        link = signal.links[k]
        if link.is_crossing:
            crossings.add(k)
        elif link.is_left:
            lefts.setdefault(link.approach, set()).add(k)
        elif link.direction in "rR":
            rights.add(k)
        else:
            throughs.setdefault(link.approach, set()).add(k)
    return lefts, throughs, rights, crossings


def dual_ring(plan: TimingPlan, signal: Signal) -> DualRing:
    """Map a 4-stage plan onto NEMA phases 1-8 (see the module docstring).

    Raises
    ------
    PlanError
        When the stages do not fit a dual ring, with the reason.
    """
    sid = plan.signal_id
    where = f"signal {sid}"
    tail = "; NEMA, NTCIP and UTDF exports need 4 stages: protected lefts and throughs of two opposing approach pairs"
    if plan.n_links != signal.n_links:
        raise PlanError(f"{where}: plan states have {plan.n_links} links, the network {signal.n_links}")
    n = len(plan.phases)
    if n != 4:
        raise PlanError(f"{where}: {n} stages do not fit a NEMA dual ring{tail}")
    kinds: list[str] = []
    info = []
    for i, ph in enumerate(plan.phases):
        lefts, throughs, rights, crossings = _classify(signal, ph.state)
        if lefts and throughs:
            raise PlanError(f"{where}: stage {ph.name!r} serves left turns and through movements together "
                            f"(links {sorted(set().union(*lefts.values()))} and "
                            f"{sorted(set().union(*throughs.values()))}){tail}")
        if not lefts and not throughs:
            raise PlanError(f"{where}: stage {ph.name!r} serves no left or through movement ({ph.state}){tail}")
        kind = "left" if lefts else "through"
        kinds.append(kind)
        info.append((lefts or throughs, rights, crossings))
    # rotate so that each barrier group's two stages are adjacent, group 1 (stage 0's) first
    approaches = [frozenset(main) for main, _, _ in info]
    start = None
    for k in (0, n - 1):  # stage 0 opens group 1, or closes it (its partner is the last stage)
        order = [(k + j) % n for j in range(n)]
        a, b, c, d = order
        if approaches[a] == approaches[b] and approaches[c] == approaches[d] and {kinds[a], kinds[b]} == \
                {kinds[c], kinds[d]} == {"left", "through"} and not approaches[a] & approaches[c]:
            start = k
            break
    if start is None:
        desc = ", ".join(f"{ph.name!r} {kind} from {'+'.join(sorted(approaches[i]))}"
                         for i, (ph, kind) in enumerate(zip(plan.phases, kinds)))
        raise PlanError(f"{where}: stages do not form two barrier groups ({desc}){tail}")
    order = [(start + j) % n for j in range(n)]
    approach_order = [a.id for a in signal.approaches]
    phases: list[NemaPhase] = []
    for group in (0, 1):
        first, second = order[2 * group], order[2 * group + 1]
        legs = sorted(approaches[first], key=lambda e: approach_order.index(e) if e in approach_order else 99)
        if len(legs) != 2:
            raise PlanError(f"{where}: stage {plan.phases[first].name!r} serves {len(legs)} approach(es) "
                            f"({', '.join(legs)}), a barrier group needs two opposing ones{tail}")
        a, b = legs
        left_stage = first if kinds[first] == "left" else second
        through_stage = second if left_stage == first else first
        left_pos = 1 if left_stage == first else 2
        base = 1 + 2 * group
        # (number, ring, stage, movement, approach)
        spec = [(base, 1, left_stage, "left", b), (base + 1, 1, through_stage, "through", a),
                (base + 4, 2, left_stage, "left", a), (base + 5, 2, through_stage, "through", b)]
        built: dict[int, dict[str, Any]] = {}
        for number, ring, stage, movement, approach in spec:
            main, _, _ = info[stage]
            built[number] = {"ring": ring, "stage": stage, "movement": movement, "approach": approach,
                             "links": set(main[approach]), "crossings": set()}
        # rights go with the phase of their approach in the stage that shows them
        for stage in (left_stage, through_stage):
            _, rights, crossings = info[stage]
            mine = [num for num, d in built.items() if d["stage"] == stage]
            for k in sorted(rights):
                owner = [num for num in mine if built[num]["approach"] == signal.links[k].approach]
                if not owner:
                    raise PlanError(f"{where}: stage {plan.phases[stage].name!r} gives green to link {k} from "
                                    f"{signal.links[k].approach}, outside its approaches{tail}")
                built[owner[0]]["links"].add(k)
        state = {num: _only(plan.phases[d["stage"]].state, frozenset(d["links"])) for num, d in built.items()}
        ring1 = [num for num in built if built[num]["ring"] == 1]
        ring2 = [num for num in built if built[num]["ring"] == 2]

        def conflicts(states: Mapping[int, str]) -> list[tuple[int, int, tuple[int, int]]]:
            bad = []
            for p in ring1:
                for q in ring2:
                    for pair in signal.conflicting_greens(_merge(states[p], states[q])):
                        bad.append((p, q, pair))
            return bad

        bad = conflicts(state)
        if bad:
            p, q, (i, j) = bad[0]
            raise PlanError(f"{where}: NEMA phases {p}+{q} would show conflicting greens (links {i} and {j}); "
                            f"the stages do not fit a dual ring{tail}")
        # crossings: the phase of their stage they can run with in every pairing
        for stage in (left_stage, through_stage):
            _, _, crossings = info[stage]
            mine = [num for num, d in built.items() if d["stage"] == stage]
            for k in sorted(crossings):
                for num in mine:
                    trial = dict(state)
                    trial[num] = _merge(state[num], _only(plan.phases[stage].state, frozenset({k})))
                    if not conflicts(trial):
                        state = trial
                        built[num]["crossings"].add(k)
                        break
                else:
                    raise PlanError(f"{where}: crossing link {k} of stage {plan.phases[stage].name!r} conflicts "
                                    f"with a movement of every NEMA phase it could join; the stages do not fit "
                                    f"a dual ring{tail}")
        for num, d in built.items():
            position = left_pos if d["movement"] == "left" else 3 - left_pos
            phases.append(NemaPhase(num, d["ring"], group + 1, position, d["stage"], d["movement"], d["approach"],
                                    frozenset(d["links"]), frozenset(d["crossings"]), state[num]))
    return DualRing(sid, tuple(sorted(phases, key=lambda p: p.number)))


def coordinated_start_s(plan: TimingPlan, ring: DualRing) -> float:
    """Start of the coordinated phases' green within the plan's cycle, from the first stage [s]."""
    return plan.phase_starts_s()[ring.phase(COORDINATED[0]).stage]


def reference_offset_s(plan: TimingPlan, ring: DualRing) -> float:
    """The plan's offset referenced to the start of green of the coordinated phases 2+6 [s]."""
    return round((plan.offset_s + coordinated_start_s(plan, ring)) % plan.cycle_s, 6)


def _fmt(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def nema_tllogic(plan: TimingPlan, signal: Signal, *, program_id: str) -> list[str]:
    """``<tlLogic type="NEMA">`` lines of one plan: fixed-time (every phase on max recall), coordinated."""
    ring = dual_ring(plan, signal)
    offset = reference_offset_s(plan, ring)
    numbers = ",".join(str(p.number) for p in ring.phases)
    params = [
        ("controllerType", "TS2"),
        ("total-cycle-length", _fmt(plan.cycle_s)),
        ("ring1", ",".join(map(str, ring.ring_sequence(1)))),
        ("ring2", ",".join(map(str, ring.ring_sequence(2)))),
        ("barrierPhases", ",".join(map(str, ring.barrier_phases))),
        ("coordinatePhases", ",".join(map(str, ring.coordinated))),
        ("coordinate-mode", "true"),
        ("minRecall", numbers),
        ("maxRecall", numbers),
        ("fixForceOff", "false"),
    ]
    lines = [f'  <tlLogic id="{xml_escape(plan.signal_id)}" type="NEMA" programID="{xml_escape(program_id)}" '
             f'offset="{_fmt(offset)}">']
    lines += [f'    <param key="{k}" value="{v}"/>' for k, v in params]
    for p in ring.phases:
        stage = plan.phases[p.stage]
        min_dur = min(stage.min_green_s, stage.green_s)
        lines.append(f'    <phase duration="{_fmt(stage.green_s)}" minDur="{_fmt(min_dur)}" '
                     f'maxDur="{_fmt(stage.green_s)}" vehext="{_fmt(VEHICLE_EXTENSION_S)}" '
                     f'yellow="{_fmt(stage.yellow_s)}" red="{_fmt(stage.all_red_s)}" name="{p.number}" '
                     f'state="{p.state}"/>')
    lines.append("  </tlLogic>")
    return lines


def nema_additional_text(plans: PlanSet, network: Network, *, program_ids: Mapping[str, str],
                         header: str = "") -> str:
    """SUMO additional file with one NEMA ``tlLogic`` per plan.

    ``program_ids`` maps signal ids to the programme id to write; ``header``
    (XML comments) goes before the root element.
    """
    body = ["<additional>"]
    for plan in plans:
        body += nema_tllogic(plan, network.signal(plan.signal_id), program_id=program_ids[plan.signal_id])
    body.append("</additional>")
    return header + "\n".join(body) + "\n"
