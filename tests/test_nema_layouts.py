"""Controller exports for every layout a city has (signalopt.formats.nema and the NTCIP/UTDF sheets), with real SUMO.

Layouts built on the bundled isolated junction (legs N/E/S/W, a left bay on each) and on the corpus
sidewalks grid (crossings): two stages with permissive lefts, three stages with one protected left pair,
split phasing, leading/lagging and lead-lag lefts, a right-turn overlap, an exclusive pedestrian stage;
then every corpus network's own and retimed plans.  Each plan that SUMO's NEMA controller can run is
simulated: every phase's green is measured from the signal states (within 0.1 s of the plan, the
issue's target) and the simulated states pass the safety check (no conflicting greens, no cut yellow or
all-red).  Whatever a format refuses is refused in one line that says why.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from _corpus import load_corpus_build

from signalopt.baselines import made_safe
from signalopt.encoding import make_encoding
from signalopt.errors import PlanError
from signalopt.export import FORMATS, export_plans
from signalopt.formats.nema import dual_ring
from signalopt.formats.ntcip import read_ntcip_csv
from signalopt.network import Network, Signal, read_network
from signalopt.options import TimingOptions
from signalopt.plan import Phase, PlanSet, TimingPlan
from signalopt.programs import existing_plans
from signalopt.roundtrip import nema_check
from signalopt.safety import check_plans

ROOT = Path(__file__).resolve().parents[1]
ISOLATED = ROOT / "networks" / "isolated" / "isolated.net.xml"
TIMING = TimingOptions()
#: A measured green may differ from the plan's by this much [s] (the issue's target; 0.1 s steps).
GREEN_TOLERANCE_S = 0.1 + 1e-6
NAMES = [spec.name for spec in load_corpus_build().CORPUS]


@functools.cache
def isolated() -> Network:
    return read_network(ISOLATED)


def _state(signal: Signal, movements: set[tuple[str, str]]) -> str:
    """``G`` on the links of ``movements`` ((leg, ``L``/``T``/``R``/``X`` crossing)), ``r`` elsewhere."""
    legs = {a.id: a.leg for a in signal.approaches}
    out = []
    for link in signal.links:
        kind = "X" if link.is_crossing else "L" if link.is_left else "R" if link.direction in "rR" else "T"
        leg = legs.get(link.approach, "")
        out.append("G" if (leg, kind) in movements or (kind == "X" and ("*", "X") in movements) else "r")
    return "".join(out)


def layout(network: Network, sid: str, stages: list[str], *, cycle_green_s: float = 20.0) -> PlanSet:
    """A plan made safe from stages written as movement lists, e.g. ``"NL SL"`` or ``"NT NR NL ST"``
    (``NL`` the left from the north leg; ``*X`` every crossing)."""
    signal = network.signal(sid)
    phases = []
    for j, text in enumerate(stages):
        moves = {(tok[:-1], tok[-1]) for tok in text.split()}
        phases.append(Phase(text, _state(signal, moves), green_s=cycle_green_s, yellow_s=4.0, all_red_s=2.0))
    raw = PlanSet((TimingPlan(sid, tuple(phases), ped_links=signal.ped_links),), name="layout")
    plans, _ = made_safe(raw, network, TIMING)
    assert check_plans(plans, network) == []
    return plans


def assert_runs_in_sumo(network: Network, plans: PlanSet) -> None:
    """SUMO's NEMA controller runs the export: measured greens = planned ones, safe states."""
    check = nema_check(network, plans)
    assert check.violations == ()
    assert check.greens, "no phase measured"
    for key, (planned, measured) in check.greens.items():
        assert len(measured) >= 2, (key, planned, measured)
        assert all(abs(m - planned) <= GREEN_TOLERANCE_S for m in measured), (key, planned, measured)


def assert_exports(network: Network, plans: PlanSet, tmp_path: Path) -> dict[str, str]:
    """Every format exports, or refuses in one line; returns the refusals by format."""
    refused = {}
    for fmt in FORMATS:
        out = tmp_path / (f"plans.{fmt}.csv" if fmt in ("ntcip", "utdf") else f"plans.{fmt}")
        try:
            out = export_plans(plans, fmt, out, network=network)
        except PlanError as exc:
            assert fmt in ("nema", "ntcip", "utdf"), (fmt, exc)
            assert "\n" not in str(exc) and str(exc)
            refused[fmt] = str(exc)
        else:
            assert out.stat().st_size > 0
    return refused


# ------------------------------------------------------------------ layouts on the isolated junction
LAYOUTS = {
    # name: (stages, ring 1 and ring 2 per barrier group, phase kinds)
    "two-stage permissive lefts": (["NT NR NL ST SR SL", "ET ER EL WT WR WL"],
                                   (((2,), (6,)), ((4,), (8,)))),
    "three-stage, one protected left pair": (["NL SL", "NT NR ST SR", "ET ER EL WT WR WL"],
                                             (((1, 2), (5, 6)), ((4,), (8,)))),
    "leading lefts": (["NL SL", "NT NR ST SR", "EL WL", "ET ER WT WR"],
                      (((1, 2), (5, 6)), ((3, 4), (7, 8)))),
    "lagging lefts": (["NT NR ST SR", "NL SL", "ET ER WT WR", "EL WL"],
                      (((2, 1), (6, 5)), ((4, 3), (8, 7)))),
    "lead-lag lefts": (["NL NT NR", "NT NR ST SR", "ST SR SL", "ET ER EL WT WR WL"],
                       (((2,), (5, 6)), ((4,), (8,)))),
    "split phasing": (["NL NT NR", "SL ST SR", "EL ET ER", "WL WT WR"],
                      (((2, 1), ()), ((4, 3), ()))),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layout_maps_exports_and_runs(name: str, tmp_path: Path) -> None:
    stages, groups = LAYOUTS[name]
    plans = layout(isolated(), "center", stages)
    ring = dual_ring(plans["center"], isolated().signal("center"))
    assert ring.groups[: len(groups)] == groups or name == "lead-lag lefts", ring.describe()
    assert ring.sumo_problem() is None
    assert assert_exports(isolated(), plans, tmp_path) == {}
    assert_runs_in_sumo(isolated(), plans)


def test_lead_lag_puts_each_left_with_its_own_through() -> None:
    plans = layout(isolated(), "center", LAYOUTS["lead-lag lefts"][0])
    signal = isolated().signal("center")
    ring = dual_ring(plans["center"], signal)
    legs = {a.id: a.leg for a in signal.approaches}
    (r1, r2), _ = ring.groups
    # one ring runs the north through over stages 1-2; the other the north left (leading), then the south
    # through, which the south left follows in stage 3 as a lagging left of the first ring
    spans = {ring.phase(n).stages: (ring.phase(n).kind, legs[ring.phase(n).approaches[0]]) for n in r1 + r2}
    assert spans[(0,)] == ("left", "N") and spans[(0, 1)] == ("through", "N")
    assert spans[(1, 2)] == ("through", "S") and spans[(2,)] == ("left", "S")


def test_split_phasing_uses_one_ring() -> None:
    plans = layout(isolated(), "center", LAYOUTS["split phasing"][0])
    ring = dual_ring(plans["center"], isolated().signal("center"))
    assert all(p.ring == 1 and p.kind == "approach" for p in ring.phases)
    assert [len(g[0]) for g in ring.groups] == [2, 2]


def _right_turn_overlap_stages() -> tuple[list[str], str]:
    """Protected lefts N+S with the east right turn (SUMO says they are not foes), then the others."""
    signal = isolated().signal("center")
    lefts = _state(signal, {("N", "L"), ("S", "L")})
    for leg in ("E", "W"):
        right = _state(signal, {(leg, "R")})
        merged = "".join("G" if "G" in (a, b) else "r" for a, b in zip(lefts, right))
        if not signal.conflicting_greens(merged):
            return [f"NL SL {leg}R", f"NT NR ST SR", f"ET ER WT WR", "EL WL"], leg
    raise AssertionError("no right turn compatible with the north and south lefts on the isolated junction")


def test_right_turn_overlap(tmp_path: Path) -> None:
    stages, leg = _right_turn_overlap_stages()
    plans = layout(isolated(), "center", stages)
    signal = isolated().signal("center")
    ring = dual_ring(plans["center"], signal)
    assert len(ring.overlaps) == 1
    overlap = ring.overlaps[0]
    legs = {a.id: a.leg for a in signal.approaches}
    assert {legs[signal.links[k].approach] for k in overlap.links} == {leg}
    # every parent, and every phase the other ring may run beside a parent, can show the overlap's green
    for number in overlap.parents:
        for other in [number, *ring.concurrent(number)]:
            merged = "".join("G" if k in overlap.links else c for k, c in enumerate(ring.phase(other).state))
            assert signal.conflicting_greens(merged) == [], (number, other)
    assert len(ring.groups) == 2
    refused = assert_exports(isolated(), plans, tmp_path)
    assert refused == {}
    sheet = read_ntcip_csv((tmp_path / "plans.ntcip.csv").read_text(encoding="utf-8"))
    rows = sheet["center"]["overlapTable"]
    assert [r["overlapIncludedPhases"] for r in rows] == [list(overlap.parents)]
    assert_runs_in_sumo(isolated(), plans)


# ------------------------------------------------------------------ pedestrians (corpus sidewalks grid)
def test_exclusive_pedestrian_stage(corpus, tmp_path: Path) -> None:
    entry = next(e for e in corpus if e.name == "sidewalks")
    network = read_network(entry.net_path)
    sid = network.signals[0].id
    plans = layout(network, sid, ["NT NR NL ST SR SL", "ET ER EL WT WR WL", "*X"])
    ring = dual_ring(plans[sid], network.signal(sid))
    ped = [p for p in ring.phases if p.kind == "pedestrian"]
    assert len(ped) == 1 and ped[0].crossings == network.signal(sid).ped_links and ped[0].stages == (2,)
    # the pedestrian phase follows the east-west phase in ring 1 (ring 2 idle in that barrier group), which
    # keeps two barrier groups: SUMO's NEMA controller runs it
    assert ring.sumo_problem() is None and ring.phase(ring.groups[-1][0][-1]).kind == "pedestrian"
    assert assert_exports(network, plans, tmp_path) == {}
    assert_runs_in_sumo(network, plans)


def test_crossings_walk_with_their_phase_in_sumo(corpus) -> None:
    entry = next(e for e in corpus if e.name == "sidewalks")
    network = read_network(entry.net_path)
    plans, _ = made_safe(existing_plans(network, TIMING)[0], network, TIMING)
    for plan in plans:
        ring = dual_ring(plan, network.signal(plan.signal_id))
        assert sorted(k for p in ring.phases for k in p.crossings) == sorted(network.signal(plan.signal_id).ped_links)
    assert_runs_in_sumo(network, plans)


# ------------------------------------------------------------------ every corpus network
def _retimed(network: Network, plans: PlanSet) -> PlanSet:
    """Plans the optimiser could return: the encoding decoded at a fixed point, lefts lagging where it can."""
    enc = make_encoding(network, plans, TIMING, lead_lag=True)
    x = np.full(enc.size, 0.3)
    x[[i for i, label in enumerate(enc.labels()) if ":lag" in label]] = 0.9
    return enc.decode(x, name="retimed")


@pytest.mark.parametrize("name", NAMES)
def test_every_corpus_plan_exports_or_is_refused_and_runs(corpus, name: str, tmp_path: Path) -> None:
    entry = next(e for e in corpus if e.name == name)
    network = read_network(entry.net_path)
    existing, _ = made_safe(existing_plans(network, TIMING)[0], network, TIMING)
    for label, plans in (("existing", existing), ("retimed", _retimed(network, existing))):
        sumo_ok = []
        for plan in plans:
            signal = network.signal(plan.signal_id)
            one = PlanSet((plan,), name=label)
            refused = assert_exports(network, one, tmp_path / label / plan.signal_id)
            try:
                ring = dual_ring(plan, signal)
            except PlanError:
                assert set(refused) == {"nema", "ntcip", "utdf"}
                continue
            if ring.sumo_problem() is None:
                assert "nema" not in refused, refused
                sumo_ok.append(plan)
            else:
                assert "SUMO's NEMA controller" in refused["nema"]
        if sumo_ok:
            assert_runs_in_sumo(network, PlanSet(tuple(sumo_ok), name=label))
