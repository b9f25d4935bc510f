"""NEMA ring-and-barrier structure of any stage plan, and SUMO ``tlLogic type="NEMA"`` programmes.

The mapping (also used by the NTCIP 1202 and Synchro UTDF exports) works
from the plan's stages, not from a fixed layout:

1. **Movements.**  A signal's vehicle links are grouped by approach and by
   the stages in which they have right of way (``G``; a link that is only
   ever ``g``, such as a permissive-only left or a right turn yielding to
   pedestrians, by the stages where it is ``g``).  Links of one approach
   with the same stages form one movement: a through with its right turn
   and permissive left, a protected left, or a whole approach running alone
   (split phasing, a T-junction's stem).  A stage in which no vehicle moves
   but crossings do is an exclusive pedestrian movement.
2. **Barriers and rings.**  Every choice of barriers (stage boundaries that
   no movement runs across) and every assignment of each barrier group's
   movements to two rings is tried.  A valid structure has, per ring and
   group, movements one after another (movements with the same stages in one
   ring become one phase), and every phase of ring 1 compatible with every
   phase of ring 2 of its group (no conflicting greens in any pairing, as a
   controller's concurrency table promises).  A ring that is idle for part of
   a group gets a *dummy* phase (no movement) for that time; a ring idle for a
   whole group simply has no phase there (single-ring operation, e.g. split
   phasing as sequential phases in ring 1, or a T-junction's stem).
   Preferred, in order: a structure SUMO's NEMA controller can run (two
   barrier groups, at most two phases per ring and group), fewer dummy
   phases, two groups, fewer groups.
3. **Overlaps.**  When no structure exists, right-turn movements that run
   across a barrier (a right-turn arrow with a compatible left) are taken
   out and served as NTCIP overlaps of the phases they run with (parents).
4. **Numbering.**  Barrier group 1 holds the plan's first stage.  Group 1
   uses phases 1, 2 (ring 1) and 5, 6 (ring 2), group 2 3, 4 and 7, 8, and
   groups 3+ (an exclusive pedestrian phase) 9-16.  Within a ring and group a
   left-turn-only phase takes the odd number, a through the even one; the
   ring order (leading or lagging lefts) follows the plan.  In each group
   ring 1 is the ring holding the through of the first approach (network
   order N, E, S, W).  The coordinated phases are group 1's through phases
   (2 and 6 where they exist).
5. **Crossings** go to a phase that runs throughout their walk and can run
   with every phase of the other ring; a **permissive** left's ``g`` is shown
   by the phases that run while it may go.

Timing: a phase runs from the start of its first stage's green to the end of
its last stage's green (the interstages between them included), then that
stage's yellow and all-red; its split is the sum of its stages' splits.

SUMO's NEMA controller has two barrier groups of at most two phases per
ring, single-digit phase numbers, no overlaps and no pedestrian timing.  The
SUMO export therefore repeats ring 1's phases in ring 2 where ring 2 is
idle, writes an overlap's links into each parent phase (between two parents
they show the parent's yellow and red, where a cabinet's overlap stays
green), shows a crossing green for its phase's whole green (the plan shows
walk, then pedestrian clearance with the crossing red; the NTCIP and UTDF
sheets carry walk and clearance), and refuses a structure with more groups
or phases, saying which formats hold it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .._xml import xml_escape
from ..detectors import detector_id
from ..errors import PlanError
from ..network import Network, Signal
from ..plan import GREEN_CHARS, PlanSet, TimingPlan

#: Vehicle extension written on every NEMA phase [s] (unused: every phase is on max recall).
VEHICLE_EXTENSION_S = 2.0
#: Most barrier groups and phases per ring and group SUMO's NEMA controller runs.
SUMO_GROUPS = 2
SUMO_PHASES_PER_RING = 2
#: Phase kinds.
KINDS = ("left", "through", "approach", "pedestrian", "dummy")
_TAIL = "; the json, sumo and csv formats hold every plan"


@dataclass(frozen=True)
class NemaPhase:
    """One phase of a ring-and-barrier structure.

    ``stages`` are the plan stages during its green (consecutive, cyclic);
    ``kind`` is ``left`` (protected lefts only), ``through`` (throughs and
    rights, with permissive lefts), ``approach`` (an approach's lefts and
    throughs together: split phasing, a T-junction's stem), ``pedestrian``
    (an exclusive pedestrian phase) or ``dummy`` (a ring's idle time).
    ``state`` is the SUMO state during its green: ``G``/``g`` on its links,
    ``g`` on permissive links it shows, ``G`` on its crossings.  Times [s]:
    ``start_s`` from the start of the plan's first stage green.
    """

    number: int
    ring: int
    barrier: int
    position: int
    stages: tuple[int, ...]
    kind: str
    approaches: tuple[str, ...]
    links: frozenset[int]
    crossings: frozenset[int]
    state: str
    start_s: float
    green_s: float
    yellow_s: float
    all_red_s: float
    #: an actuated plan's phase that times its whole green (max recall), whatever its stages' recall
    held: bool = False

    @property
    def split_s(self) -> float:
        return round(self.green_s + self.yellow_s + self.all_red_s, 6)

    @property
    def stage(self) -> int:
        """The stage whose interstage ends the phase (its last stage)."""
        return self.stages[-1]


@dataclass(frozen=True)
class Overlap:
    """An NTCIP overlap: links green whenever one of its parent phases is."""

    letter: str
    parents: tuple[int, ...]
    links: frozenset[int]
    stages: tuple[int, ...]
    state: str  # the overlap's links as they show: G, or g where they yield


@dataclass(frozen=True)
class DualRing:
    """The ring-and-barrier structure of one plan.

    ``groups`` holds, per barrier group in service order, ring 1's and ring
    2's phase numbers in service order (ring 2 empty when idle for the group).
    """

    signal_id: str
    cycle_s: float
    phases: tuple[NemaPhase, ...]
    groups: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    overlaps: tuple[Overlap, ...] = ()

    def phase(self, number: int) -> NemaPhase:
        for p in self.phases:
            if p.number == number:
                return p
        raise KeyError(number)

    def ring_sequence(self, ring: int) -> list[int]:
        """Phase numbers of ``ring`` in service order (barrier group 1 first)."""
        return [n for group in self.groups for n in group[ring - 1]]

    def concurrent(self, number: int) -> list[int]:
        """Phases of the other ring on the same side of the barrier."""
        me = self.phase(number)
        return sorted(p.number for p in self.phases if p.ring != me.ring and p.barrier == me.barrier)

    @property
    def coordinated(self) -> tuple[int, int]:
        """Coordinated phase of ring 1 and ring 2 in group 1 (ring 1's when ring 2 is idle).

        The two must end together (SUMO's NEMA controller holds a coordinated
        phase until the other ring's one ends): group 1's through phases where
        they do, else phases ending together, throughs preferred.
        """
        r1, r2 = self.groups[0]
        if not r2:
            main = self._main(r1)
            return main, main

        def end(n: int) -> float:
            p = self.phase(n)
            return round((p.start_s + p.green_s) % self.cycle_s, 6)

        def rank(n: int) -> int:
            p = self.phase(n)
            return 0 if p.kind in ("through", "approach") else 1 if p.kind != "dummy" else 2

        pairs = [(a, b) for a in r1 for b in r2 if end(a) == end(b)] or [(r1[-1], r2[-1])]
        return min(pairs, key=lambda ab: (rank(ab[0]) + rank(ab[1]), ab[0] % 2, ab[1] % 2))

    def _main(self, numbers: Sequence[int]) -> int:
        even = [n for n in numbers if n % 2 == 0 and self.phase(n).kind != "dummy"]
        real = [n for n in numbers if self.phase(n).kind != "dummy"]
        return (even or real or list(numbers))[0]

    def sumo_problem(self) -> str | None:
        """Why SUMO's NEMA controller cannot run this structure, or ``None``."""
        if len(self.groups) != SUMO_GROUPS:
            what = "an exclusive pedestrian phase in its own barrier group" if any(
                p.kind == "pedestrian" for p in self.phases) else f"{len(self.groups)} barrier group(s)"
            return (f"{what} ({self.describe()}); SUMO's NEMA controller runs exactly two barrier groups; "
                    f"the ntcip and utdf formats hold it")
        for g, (r1, r2) in enumerate(self.groups, start=1):
            if max(len(r1), len(r2)) > SUMO_PHASES_PER_RING:
                return (f"barrier group {g} runs {max(len(r1), len(r2))} phases in one ring ({self.describe()}); "
                        f"SUMO's NEMA controller runs at most two per ring and group; the ntcip and utdf formats "
                        f"hold it")
        return None

    @property
    def single_ring_groups(self) -> tuple[int, ...]:
        """Barrier groups (1-based) in which ring 2 is idle: ring 1's sequence runs there alone."""
        return tuple(g for g, (_, r2) in enumerate(self.groups, start=1) if not r2)

    def describe(self) -> str:
        """``ring 1: 2,1 | 4; ring 2: 6,5 | 4`` style summary."""
        rings = []
        for r in (0, 1):
            rings.append(f"ring {r + 1}: " + " | ".join(",".join(map(str, g[r])) or "-" for g in self.groups))
        return "; ".join(rings)


# --------------------------------------------------------------------------- building blocks
def _merge(*states: str) -> str:
    out = []
    for chars in zip(*states):
        out.append("G" if "G" in chars else "g" if "g" in chars else "r")
    return "".join(out)


def _cyclic_run(stages: Iterable[int], n: int) -> tuple[int, ...] | None:
    """``stages`` in cyclic order when they are consecutive (cyclically), else ``None``."""
    s = set(stages)
    if not s:
        return None
    if len(s) == n:
        return tuple(range(n))
    first = next(i for i in range(n) if i in s and (i - 1) % n not in s)
    run = tuple((first + j) % n for j in range(len(s)))
    return run if set(run) == s else None


@dataclass(frozen=True)
class _Unit:
    """Links of one approach (or an exclusive pedestrian stage) with right of way in the same stages."""

    approaches: tuple[str, ...]
    stages: tuple[int, ...]
    links: frozenset[int]
    crossings: frozenset[int]
    kind: str
    chars: tuple[tuple[int, str], ...]  # (link, G/g) as shown during the unit's green


def _units(plan: TimingPlan, signal: Signal) -> tuple[list[_Unit], dict[int, set[int]], dict[int, tuple[int, ...]]]:
    """Movements, permissive displays (link -> stages where its ``g`` must show) and crossings' stages."""
    n = len(plan.phases)
    states = [ph.state for ph in plan.phases]
    groups: dict[tuple[str, frozenset[int]], dict[int, str]] = {}
    permissive: dict[int, set[int]] = {}
    crossings: dict[int, tuple[int, ...]] = {}
    where = f"signal {plan.signal_id}"
    for k, link in enumerate(signal.links):
        protected = {i for i in range(n) if states[i][k] == "G"}
        yielding = {i for i in range(n) if states[i][k] == "g"}
        if link.is_crossing:
            if protected | yielding:
                run = _cyclic_run(protected | yielding, n)
                if run is None:
                    raise PlanError(f"{where}: crossing link {k} walks in stages {sorted(protected | yielding)} that "
                                    f"are not consecutive; no NEMA phase holds it{_TAIL}")
                crossings[k] = run
            continue
        active = protected or yielding
        if not active:
            continue
        if protected and yielding:
            permissive[k] = yielding
        groups.setdefault((link.approach, frozenset(active)), {})[k] = "G" if protected else "g"
    units = []
    for (approach, active), links in groups.items():
        run = _cyclic_run(active, n)
        lefts = [k for k in links if signal.links[k].is_left and links[k] == "G"]
        others = [k for k in links if k not in lefts and signal.links[k].direction not in "rR"]
        kind = "approach" if lefts and others else "left" if lefts else "through"
        units.append(_Unit((approach,), run if run is not None else tuple(sorted(active)), frozenset(links),
                           frozenset(), kind, tuple(sorted(links.items()))))
    # a stage in which only pedestrians move is an exclusive pedestrian phase
    for i in range(n):
        if not any(i in u.stages for u in units):
            walking = frozenset(k for k, run in crossings.items() if run == (i,))
            if walking:
                units.append(_Unit((), (i,), frozenset(), walking, "pedestrian",
                                   tuple((k, "G") for k in sorted(walking))))
                for k in walking:
                    del crossings[k]
    return units, permissive, crossings


def _unit_state(unit: _Unit, n_links: int) -> str:
    chars = ["r"] * n_links
    for k, c in unit.chars:
        chars[k] = c
    return "".join(chars)


@dataclass(frozen=True)
class _Candidate:
    """One barrier choice with ring assignments: per group (stages, ring 1 phases, ring 2 phases).

    ``merges`` counts movements sharing a phase beyond one per phase, ``overlaps`` the movements served
    as overlaps.
    """

    groups: tuple[tuple[tuple[int, ...], tuple[tuple[_Unit, ...], ...], tuple[tuple[_Unit, ...], ...]], ...]
    dummies: int
    merges: int
    overlaps: tuple[_Unit, ...] = ()

    def score(self) -> tuple[int, int, int, int, int, int]:
        sumo = len(self.groups) == SUMO_GROUPS and all(
            len(_with_gaps(stages, ring)) <= SUMO_PHASES_PER_RING
            for stages, r1, r2 in self.groups for ring in (r1, r2) if ring)
        return (0 if sumo else 1, self.dummies, len(self.overlaps), self.merges, abs(len(self.groups) - 2),
                len(self.groups))


def _with_gaps(stages: tuple[int, ...], ring: tuple[tuple[_Unit, ...], ...]) -> list[tuple[int, ...] | None]:
    """The ring's phases over the group's stages in order; ``None`` for each idle stretch (a dummy)."""
    owner: dict[int, int] = {}
    for j, phase in enumerate(ring):
        for s in phase[0].stages:
            owner[s] = j
    out: list[tuple[int, ...] | None] = []
    last: object = object()
    for s in stages:
        j = owner.get(s)
        if j != last:
            out.append(None if j is None else (j,))
            last = j
    return out


def _ring_phases(units: Sequence[_Unit]) -> tuple[tuple[_Unit, ...], ...]:
    """Units of one ring grouped into phases: movements with the same stages share one."""
    by_stages: dict[tuple[int, ...], list[_Unit]] = {}
    for u in units:
        by_stages.setdefault(u.stages, []).append(u)
    return tuple(tuple(v) for v in by_stages.values())


class _Foes:
    """Which movements cannot show green together (no conflicting greens), computed once per pair."""

    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        self._memo: dict[tuple[_Unit, _Unit], bool] = {}

    def __call__(self, a: _Unit, b: _Unit) -> bool:
        key = (a, b)
        if key not in self._memo:
            n = self.signal.n_links
            self._memo[key] = self._memo[(b, a)] = bool(self.signal.conflicting_greens(
                _merge(_unit_state(a, n), _unit_state(b, n))))
        return self._memo[key]


def _ring_splits(foes: _Foes, units: Sequence[_Unit]) -> Iterable[tuple[list[_Unit], list[_Unit]]]:
    """Every split of ``units`` into two rings that a controller can run (depth-first, pruned).

    In a ring, two movements either share their stages (one phase, so they must not be foes) or do not
    overlap in time; across the rings no two movements may be foes.  Ring labels are symmetric: the first
    movement goes to ring 1.
    """
    rings: tuple[list[_Unit], list[_Unit]] = ([], [])

    def fits(u: _Unit, mine: list[_Unit], other: list[_Unit]) -> bool:
        for v in mine:
            if v.stages == u.stages:
                if foes(u, v):
                    return False
            elif set(v.stages) & set(u.stages):
                return False
        return not any(foes(u, v) for v in other)

    def place(i: int) -> Iterable[tuple[list[_Unit], list[_Unit]]]:
        if i == len(units):
            yield list(rings[0]), list(rings[1])
            return
        u = units[i]
        for r in ((0,) if i == 0 else (0, 1)):
            if fits(u, rings[r], rings[1 - r]):
                rings[r].append(u)
                yield from place(i + 1)
                rings[r].pop()

    yield from place(0)


def _group_assignments(foes: _Foes, stages: tuple[int, ...], units: Sequence[_Unit]) -> list[_Candidate]:
    out = []
    for ring1, ring2 in _ring_splits(foes, units):
        r1, r2 = _ring_phases(ring1), _ring_phases(ring2)
        dummies = sum(1 for x in _with_gaps(stages, r1) if x is None)
        if r2:
            dummies += sum(1 for x in _with_gaps(stages, r2) if x is None)
        merges = sum(len(ph) - 1 for ph in r1 + r2)
        out.append(_Candidate(((stages, r1, r2),), dummies, merges))
    return out


def _structures(foes: _Foes, n: int, units: Sequence[_Unit]) -> _Candidate | None:
    """The preferred barrier choice and ring assignment (see the module docstring), or ``None``."""
    spans = set()
    for u in units:
        for a, b in zip(u.stages, u.stages[1:]):
            spans.add(b)  # boundary b is between stage b-1 and stage b
    free = [b for b in range(n) if b not in spans]
    best: _Candidate | None = None
    memo: dict[tuple[tuple[int, ...], tuple[_Unit, ...]], _Candidate | None] = {}
    for size in range(1, len(free) + 1):
        for barriers in itertools.combinations(free, size):
            groups = []
            for j, b in enumerate(barriers):
                end = barriers[(j + 1) % len(barriers)]
                length = (end - b) % n or n
                groups.append(tuple((b + i) % n for i in range(length)))
            chosen = []
            dummies = merges = 0
            for stages in groups:
                mine = [u for u in units if set(u.stages) <= set(stages)]
                key = (stages, tuple(mine))
                if key not in memo:
                    options = _group_assignments(foes, stages, mine)
                    memo[key] = min(options, key=lambda c: (c.dummies, c.merges)) if options else None
                pick = memo[key]
                if pick is None:
                    break
                chosen.append(pick.groups[0])
                dummies += pick.dummies
                merges += pick.merges
            else:
                cand = _Candidate(tuple(chosen), dummies, merges)
                if best is None or cand.score() < best.score():
                    best = cand
    return best


def _overlaps_fit(foes: _Foes, cand: _Candidate) -> bool:
    """Whether each overlap's stages are exactly covered by phases that run within them, are not its foes, and
    whose group's other ring has no phase that is its foe (a controller may run any of them beside the parent)."""
    for u in cand.overlaps:
        cover: set[int] = set()
        for _, r1, r2 in cand.groups:
            for ring, other in ((r1, r2), (r2, r1)):
                for ph in ring:
                    if not set(ph[0].stages) <= set(u.stages):
                        continue
                    if any(foes(u, v) for v in ph) or any(foes(u, v) for q in other for v in q):
                        continue
                    cover |= set(ph[0].stages)
        if cover != set(u.stages):
            return False
    return True


#: Most movements tried as overlaps at once.
MAX_OVERLAPS = 2


def _best_structure(signal: Signal, n: int, units: Sequence[_Unit]) -> _Candidate | None:
    """The preferred structure over all choices of overlaps (right turns, movements running over several stages)."""
    movable = [u for u in units if u.kind == "through" and (
        len(u.stages) > 1 or all(signal.links[k].direction in "rR" for k in u.links))]
    best: _Candidate | None = None
    foes = _Foes(signal)
    for size in range(0, min(MAX_OVERLAPS, len(movable)) + 1):
        for out in itertools.combinations(movable, size):
            rest = [u for u in units if u not in out]
            if any(_cyclic_run(u.stages, n) is None for u in rest) or not rest:
                continue
            cand = _structures(foes, n, rest)
            if cand is None:
                continue
            cand = _Candidate(cand.groups, cand.dummies, cand.merges, tuple(out))
            if not _overlaps_fit(foes, cand):
                continue
            if best is None or cand.score() < best.score():
                best = cand
        if best is not None and best.score()[:2] == (0, 0):
            break
    return best


# --------------------------------------------------------------------------- the mapping
@functools.lru_cache(maxsize=512)
def dual_ring(plan: TimingPlan, signal: Signal) -> DualRing:
    """The NEMA ring-and-barrier structure of ``plan`` (see the module docstring).

    Plans and signals are frozen, so the search (up to about a second for a five-arm junction) runs once
    per plan: every export format asks for it.

    Raises
    ------
    PlanError
        When the stages cannot be run by any dual ring, with the reason.
    """
    sid = plan.signal_id
    where = f"signal {sid}"
    if plan.n_links != signal.n_links:
        raise PlanError(f"{where}: plan states have {plan.n_links} links, the network {signal.n_links}")
    n = len(plan.phases)
    units, permissive, crossings = _units(plan, signal)
    best = _best_structure(signal, n, units)
    if best is None:
        desc = "; ".join(f"{'+'.join(u.approaches) or 'pedestrians'} {u.kind} in stage(s) "
                         f"{','.join(str(s + 1) for s in u.stages)}" for u in units)
        raise PlanError(f"{where}: no ring-and-barrier structure runs these stages ({desc}): two movements of a "
                        f"barrier group in different rings conflict, or three run at once, and no set of phases "
                        f"can carry the ones that run across a barrier as overlaps{_TAIL}")
    return _number(plan, signal, best, permissive, crossings)


def _ring_order(signal: Signal, r1: tuple[tuple[_Unit, ...], ...], r2: tuple[tuple[_Unit, ...], ...]) -> bool:
    """Whether the two rings of a group should swap (ring 1 holds the first approach's through)."""
    if not r2:
        return False
    order = {a.id: j for j, a in enumerate(signal.approaches)}

    def first(ring: Sequence[Sequence[_Unit]]) -> tuple[int, int]:
        keys = [(0 if u.kind in ("through", "approach") else 1, order.get(a, 99))
                for ph in ring for u in ph for a in u.approaches]
        return min(keys, default=(2, 99))

    return first(r2) < first(r1)


def _number(plan: TimingPlan, signal: Signal, cand: _Candidate, permissive: Mapping[int, set[int]],
            crossings: Mapping[int, tuple[int, ...]]) -> DualRing:
    n = len(plan.phases)
    n_links = signal.n_links
    starts = plan.phase_starts_s()
    where = f"signal {plan.signal_id}"
    # group 1 is the group of the plan's first stage
    groups = list(cand.groups)
    g0 = next(j for j, (stages, _, _) in enumerate(groups) if 0 in stages)
    groups = groups[g0:] + groups[:g0]
    built: list[dict] = []
    numbering: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    for g, (stages, r1, r2) in enumerate(groups):
        if _ring_order(signal, r1, r2):
            r1, r2 = r2, r1
        rings_out: list[tuple[int, ...]] = []
        for r, ring in ((1, r1), (2, r2)):
            if not ring:
                rings_out.append(())
                continue
            slots: list[tuple[tuple[int, ...], tuple[_Unit, ...]]] = []
            owner = {s: ph for ph in ring for s in ph[0].stages}
            run: list[int] = []
            for s in stages + (None,):
                cur = owner.get(s) if s is not None else None
                if run and (s is None or cur is not owner.get(run[-1])):
                    slots.append((tuple(run), owner.get(run[-1]) or ()))
                    run = []
                if s is not None:
                    run.append(s)
            odd, even = (1, 2) if g == 0 else (3, 4) if g == 1 else (9 + 4 * (g - 2), 10 + 4 * (g - 2))
            if r == 2:
                odd, even = (odd + 4, even + 4) if g < 2 else (odd + 2, even + 2)
            pool = [odd, even]
            kinds = ["dummy" if not us else us[0].kind if len({u.kind for u in us}) == 1 else "through"
                     for _, us in slots]
            numbers: list[int | None] = [None] * len(slots)
            for j, kind in enumerate(kinds):
                if kind == "left" and odd in pool:
                    numbers[j] = odd
                    pool.remove(odd)
            for j, kind in enumerate(kinds):
                if numbers[j] is None and kind not in ("left", "dummy") and even in pool:
                    numbers[j] = even
                    pool.remove(even)
            for j in range(len(slots)):
                if numbers[j] is None:
                    if pool:
                        numbers[j] = pool.pop(0)
                    else:  # a third phase in a ring and group: the first number no group's pair can take
                        taken = {b["number"] for b in built} | {n for n in numbers if n is not None}
                        numbers[j] = next(n for n in itertools.count(9 + 4 * max(len(groups) - 2, 0))
                                          if n not in taken)
            for j, ((run_stages, us), number) in enumerate(zip(slots, numbers)):
                built.append({"number": number, "ring": r, "barrier": g + 1, "position": j + 1,
                              "stages": run_stages, "kind": kinds[j],
                              "approaches": tuple(a for u in us for a in u.approaches),
                              "links": frozenset().union(*(u.links for u in us)) if us else frozenset(),
                              "crossings": set().union(*(u.crossings for u in us)) if us else set(),
                              "state": _merge(*(_unit_state(u, n_links) for u in us)) if us else "r" * n_links})
            rings_out.append(tuple(int(x) for x in numbers))
        numbering.append((rings_out[0], rings_out[1]))

    def add(state: str, k: int, c: str) -> str:
        return state[:k] + c + state[k + 1:]

    def others(b: dict) -> list[dict]:
        return [o for o in built if o["barrier"] == b["barrier"] and o["ring"] != b["ring"]]

    def fits(b: dict, state: str) -> bool:
        return not signal.conflicting_greens(state) and all(
            not signal.conflicting_greens(_merge(state, o["state"])) for o in others(b))

    # permissive greens: shown by the phases that run only while the link may go (or has its own green)
    for k, stages in sorted(permissive.items()):
        allowed = stages | {i for i in range(n) if plan.phases[i].state[k] == "G"}
        shown: set[int] = set()
        approach = signal.links[k].approach
        for b in sorted(built, key=lambda b: (approach not in b["approaches"], b["ring"])):
            if b["kind"] == "dummy" or not set(b["stages"]) & stages or not set(b["stages"]) <= allowed:
                continue
            if set(b["stages"]) & stages <= shown:
                continue
            trial = add(b["state"], k, "g") if b["state"][k] != "G" else b["state"]
            if fits(b, trial):
                b["state"] = trial
                shown |= set(b["stages"]) & stages
        if shown != stages:
            raise PlanError(f"{where}: the permissive green of link {k} in stage(s) "
                            f"{','.join(str(s + 1) for s in sorted(stages - shown))} runs across phases that do not "
                            f"all allow it; no NEMA phase can show it{_TAIL}")
    # crossings: the tightest phase that runs throughout their walk and fits its group
    for k, run in sorted(crossings.items()):
        cands = [b for b in built if b["kind"] != "dummy" and set(run) <= set(b["stages"])]
        cands.sort(key=lambda b: (len(b["stages"]), b["ring"]))
        for b in cands:
            trial = add(b["state"], k, "G")
            if fits(b, trial):
                b["state"] = trial
                b["crossings"].add(k)
                break
        else:
            raise PlanError(f"{where}: crossing link {k} (stage(s) {','.join(str(s + 1) for s in run)}) conflicts "
                            f"with every NEMA phase it could run with{_TAIL}")
    # overlaps: the phases that cover the overlap's stages and do not conflict with it
    overlaps = []
    for j, u in enumerate(cand.overlaps):
        cover: set[int] = set()
        parents = []
        state = _unit_state(u, n_links)
        for b in sorted(built, key=lambda b: (b["barrier"], b["ring"], b["position"])):
            if b["kind"] == "dummy" or not set(b["stages"]) <= set(u.stages) or set(b["stages"]) <= cover:
                continue
            # the overlap shows with its parent and with whatever the other ring runs beside it
            if any(signal.conflicting_greens(_merge(state, o["state"])) for o in [b, *others(b)]):
                continue
            parents.append(b["number"])
            cover |= set(b["stages"])
        if cover != set(u.stages):
            raise PlanError(f"{where}: right turn(s) {sorted(u.links)} run across a barrier in stage(s) "
                            f"{','.join(str(s + 1) for s in u.stages)} where no set of phases can carry them as "
                            f"an overlap{_TAIL}")
        overlaps.append(Overlap(chr(ord("A") + j), tuple(parents), u.links, u.stages, state))
    timed = []
    stops = _link_clearances_s(plan, signal) if plan.actuation is not None else {}
    for b in built:
        first, last = b["stages"][0], b["stages"][-1]
        stage = plan.phases[last]
        green = round((starts[last] - starts[first]) % plan.cycle_s + stage.green_s, 6)
        yellow, red, hold = stage.yellow_s, stage.all_red_s, False
        if b["kind"] == "dummy":
            green, yellow, red = round(green + yellow + red, 6), 0.0, 0.0
        elif plan.actuation is not None:
            green, yellow, red, hold = _actuated_clearances(plan, b, built, stops, green, yellow, red)
        timed.append((b, green, yellow, red, hold))
    # a held phase ends at its force-off: so must the other ring's phases beside it, for its links to carry on
    held_stages = {(b["barrier"], b["stages"][-1]) for b, *_, hold in timed if hold}
    phases = [NemaPhase(b["number"], b["ring"], b["barrier"], b["position"], b["stages"], b["kind"], b["approaches"],
                        b["links"], frozenset(b["crossings"]), b["state"], starts[b["stages"][0]], green, yellow,
                        red, (b["barrier"], b["stages"][-1]) in held_stages)
              for b, green, yellow, red, _ in timed]
    return DualRing(plan.signal_id, plan.cycle_s, tuple(sorted(phases, key=lambda p: p.number)),
                    tuple(numbering), tuple(overlaps))


def _link_clearances_s(plan: TimingPlan, signal: Signal) -> dict[int, tuple[float, float]]:
    """Per vehicle link, the longest yellow and all-red the plan shows where its green ends [s]."""
    n = len(plan.phases)
    out: dict[int, tuple[float, float]] = {}
    for i, ph in enumerate(plan.phases):
        nxt = plan.phases[(i + 1) % n].state
        for k, c in enumerate(ph.state):
            if c in GREEN_CHARS and nxt[k] not in GREEN_CHARS and not signal.links[k].is_crossing:
                y, r = out.get(k, (0.0, 0.0))
                out[k] = (max(y, ph.yellow_s), max(r, ph.all_red_s))
    return out


def _actuated_clearances(plan: TimingPlan, b: dict, built: list[dict], stops: dict[int, tuple[float, float]],
                         green: float, yellow: float, red: float) -> tuple[float, float, float, bool]:
    """A phase's green, yellow and all-red in an actuated plan, and whether it must time its whole green.

    Under actuation each ring leaves a phase when it gaps out, whatever the other ring runs: a protected left
    that carries on as a permissive green in the *other* ring's next phase (a stage plan's leading left, with no
    change interval of its own) stops when its ring moves on first.  Such a phase shows the yellow and all-red
    the plan gives its links where they stop (the yellow arrow before a permissive turn).  In coordinated mode
    they come out of its green, so the split holds; where the green cannot give them up without going below
    its minimum, the phase and the other ring's phases beside it are held to their splits instead (max
    recall: they end together at the same force-off, as the stage plan does, and the links carry on).
    """
    nxt = [o for o in built if o["ring"] == b["ring"] and o["barrier"] == b["barrier"]
           and o["position"] == b["position"] + 1]
    if not nxt:
        return green, yellow, red, False  # at a barrier both rings cross together: the plan's interstage holds
    losing = [k for k, c in enumerate(b["state"]) if c in GREEN_CHARS and nxt[0]["state"][k] not in GREEN_CHARS
              and k in stops]
    new_y = max(yellow, max((stops[k][0] for k in losing), default=0.0))
    new_r = max(red, max((stops[k][1] for k in losing), default=0.0))
    added = round(new_y + new_r - yellow - red, 6)
    if added <= 0:
        return green, yellow, red, False
    act = plan.actuation
    if act.mode == "coordinated":
        if green - added < sum(act.stages[i].min_green_s for i in b["stages"]) - 1e-6:
            return green, yellow, red, True
        green = round(green - added, 6)
    return green, new_y, new_r, False


def reference_offset_s(plan: TimingPlan, ring: DualRing) -> float:
    """The plan's offset referenced to the start of green of the earlier coordinated phase [s] (NEMA TS2)."""
    first_stage = ring.phase(ring.groups[0][0][0]).stages[0]
    base = plan.phase_starts_s()[first_stage]
    rel = min((ring.phase(p).start_s - base) % plan.cycle_s for p in ring.coordinated)
    return round((plan.offset_s + base + rel) % plan.cycle_s, 6)


# --------------------------------------------------------------------------- SUMO NEMA programme
def _fmt(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def sumo_rings(ring: DualRing) -> tuple[list[int], list[int]]:
    """``ring1`` and ``ring2`` parameters: two positions per group (0 = none), ring 1 repeated where 2 is idle."""
    out: tuple[list[int], list[int]] = ([], [])
    for r1, r2 in ring.groups:
        for r, seq in ((0, r1), (1, r2 or r1)):
            out[r].extend(([0] * (SUMO_PHASES_PER_RING - len(seq))) + list(seq))
    return out


def actuated_phase_times_s(plan: TimingPlan, phase: NemaPhase) -> tuple[float, float, float]:
    """``(minimum, maximum, passage)`` [s] of a NEMA phase of an actuated plan.

    A phase over several stages runs each stage's minimum (maximum) in turn,
    the change intervals between them included; its passage is its last
    stage's.  In coordinated mode the maximum is the plan's split (fixed
    force-off); a dummy phase always times its whole interval.
    """
    act = plan.actuation
    if act is None or phase.kind == "dummy":
        return phase.green_s, phase.green_s, VEHICLE_EXTENSION_S
    stages = [act.stages[i] for i in phase.stages]
    between = sum(plan.phases[i].yellow_s + plan.phases[i].all_red_s for i in phase.stages[:-1])
    low = sum(st.min_green_s for st in stages) + between
    high = phase.green_s if act.mode == "coordinated" else sum(st.max_green_s for st in stages) + between
    return round(min(low, high), 3), round(high, 3), stages[-1].passage_s


def nema_tllogic(plan: TimingPlan, signal: Signal, *, program_id: str, step_s: float | None = None) -> list[str]:
    """``<tlLogic type="NEMA">`` lines of one plan.

    A fixed-time plan runs coordinated with every phase on max recall; an
    actuated plan (:mod:`signalopt.actuated`) runs its minimums, maximums and
    passage times (``vehext``) on signalopt's detectors (a lane-area detector
    from each lane's extension detector to the stop line), free or
    coordinated (``coordinate-mode``; maximums at the plan's splits), stages
    on max recall held to their maximum; a phase whose stages all have recall
    ``none`` is left off ``minRecall``, so the controller skips it when no
    vehicle calls it.

    ``step_s``: the simulation step [s] the programme runs at, for a simulation rather than an export.  In
    coordinated mode SUMO's NEMA controller enters a phase only if the clearance before it and its minimum fit
    before its force-off (a fixed point of the cycle), judged on the step on which the phases before it, in
    both rings, are ready to end: up to two steps after the plan's time.  A phase whose split leaves less than
    that above its minimum is then skipped in most cycles (measured at 1 s steps on the corridor: 5 s left
    turns with a 5 s minimum never shown, their time given to the coordinated phases, their queues spilling
    back; with one step of margin, still at one junction).  With ``step_s``, such a phase's minimum is lowered
    to its split less :data:`STEP_LAG` steps: it is served and forced off at its force-off point, as a
    controller timing in tenths of a second serves it; the price is a green up to that much shorter than its
    minimum in simulation.

    Raises
    ------
    PlanError
        When the structure needs more than SUMO's NEMA controller runs (see the module docstring).
    """
    ring = dual_ring(plan, signal)
    problem = ring.sumo_problem()
    if problem:
        raise PlanError(f"signal {plan.signal_id}: {problem}")
    act = plan.actuation
    coordinated = act is None or act.mode == "coordinated"
    if act is not None and act.skips_stages and not coordinated and ring.single_ring_groups:
        # measured: on netconvert's incoming layout (one phase per approach) the free controller never showed
        # one of the phases, with or without a recall on it
        raise PlanError(f"signal {plan.signal_id}: recall none on a sequence with a single ring in barrier group(s) "
                        f"{', '.join(map(str, ring.single_ring_groups))} ({ring.describe()}); SUMO's NEMA controller "
                        f"in free mode does not serve every phase of such a ring: use recall min")
    ring1, ring2 = sumo_rings(ring)
    offset = reference_offset_s(plan, ring) if coordinated else 0.0
    numbers = ",".join(str(p.number) for p in ring.phases)
    # a phase is recalled unless every stage it times skips when not called (recall none)
    recalled = numbers if act is None else ",".join(
        str(p.number) for p in ring.phases
        if p.kind == "dummy" or any(act.stages[i].recall != "none" for i in p.stages))
    held = numbers if act is None else ",".join(
        str(p.number) for p in ring.phases
        if p.kind == "dummy" or p.held or all(act.stages[i].recall == "max" for i in p.stages))
    barrier = [ring.groups[-1][0][-1], (ring.groups[-1][1] or ring.groups[-1][0])[-1]]
    params = [
        ("controllerType", "TS2"),
        ("total-cycle-length", _fmt(plan.cycle_s)),
        ("ring1", ",".join(map(str, ring1))),
        ("ring2", ",".join(map(str, ring2))),
        ("barrierPhases", ",".join(map(str, barrier))),
        ("coordinatePhases", ",".join(map(str, ring.coordinated))),
        ("coordinate-mode", "true" if coordinated else "false"),
        ("minRecall", recalled),
        ("maxRecall", held),
        ("fixForceOff", "false"),
    ]
    sid = xml_escape(plan.signal_id)
    lines = []
    if act is not None:
        for d in act.detectors:
            lines.append(f'  <laneAreaDetector id="{xml_escape(detector_id(plan.signal_id, d.lane))}" '
                         f'lane="{xml_escape(d.lane)}" pos="{d.pos_m:.3f}" '
                         f'endPos="{d.pos_m + d.distance_m - DETECTOR_END_MARGIN_M:.3f}" period="86400" '
                         f'file="NUL"/>')
        params += [(d.lane, detector_id(plan.signal_id, d.lane)) for d in act.detectors]
    lines.append(f'  <tlLogic id="{sid}" type="NEMA" programID="{xml_escape(program_id)}" offset="{_fmt(offset)}">')
    lines += [f'    <param key="{xml_escape(k)}" value="{xml_escape(v)}"/>' for k, v in params]
    for p in ring.phases:
        state = p.state
        parents = [o for o in ring.overlaps if p.number in o.parents]
        for o in parents:
            state = "".join(o.state[k] if k in o.links else c for k, c in enumerate(state))
        if act is None:
            first = plan.phases[p.stages[0]]
            low, high, ext = min(first.min_green_s, p.green_s), p.green_s, VEHICLE_EXTENSION_S
        else:
            low, high, ext = actuated_phase_times_s(plan, p)
            if step_s is not None and coordinated and p.number not in ring.coordinated:
                low = max(step_s, min(low, high - STEP_LAG * step_s))  # the step lag (see above)
        lines.append(f'    <phase duration="{_fmt(high)}" minDur="{_fmt(low)}" maxDur="{_fmt(high)}" '
                     f'vehext="{_fmt(ext)}" yellow="{_fmt(p.yellow_s)}" red="{_fmt(p.all_red_s)}" '
                     f'name="{p.number}" state="{state}"/>')
    lines.append("  </tlLogic>")
    return lines


#: Steps by which SUMO's NEMA controller may judge a phase's entry after the plan's time (see :func:`nema_tllogic`).
STEP_LAG = 2
#: A lane-area detector ends this far before the stop line [m] (SUMO refuses one past the lane's end).
DETECTOR_END_MARGIN_M = 0.1


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
