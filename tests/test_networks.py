"""The bundled SUMO networks (networks/): reproducible build, variants, signal programmes."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

sumolib = pytest.importorskip("sumolib")

NETWORKS_DIR = Path(__file__).resolve().parent.parent / "networks"
QX_SHARED = NETWORKS_DIR / "qixiangtai" / "qixiangtai_shared.net.xml"
QX_THROUGH = NETWORKS_DIR / "qixiangtai" / "qixiangtai_through.net.xml"
ISOLATED = NETWORKS_DIR / "isolated" / "isolated.net.xml"
ALL_NETS = [QX_SHARED, QX_THROUGH, ISOLATED]

QX_TLS = ["weidi", "pingquan", "pingshan", "zijinshan"]
VARIABLE_EDGE, VARIABLE_LANE = "zijinshan2pingshan", 2
PROGRAM_ID = "school"
WALKING_SPEED_M_S = 1.2  # for the pedestrian clearance of the existing plans
MIN_WALK_S = 7


def _load_build_module():
    spec = importlib.util.spec_from_file_location("networks_build", NETWORKS_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_NETS: dict[Path, object] = {}


def read(path: Path):
    """sumolib net with programmes and pedestrian connections (cached: the nets are read-only)."""
    if path not in _NETS:
        _NETS[path] = sumolib.net.readNet(str(path), withPrograms=True, withPedestrianConnections=True)
    return _NETS[path]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("networks")
    build = _load_build_module()
    paths = build.build(out)
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(s.output for s in build.NETWORKS)
    return out


# ---------------------------------------------------------------------------------------------
# reproducible build


@pytest.mark.parametrize("net", ALL_NETS, ids=lambda p: p.name)
def test_rebuild_reproduces_committed_net_byte_for_byte(rebuilt: Path, net: Path) -> None:
    rel = net.relative_to(NETWORKS_DIR)
    assert (rebuilt / rel).read_bytes() == net.read_bytes(), f"networks/{rel} is stale: run python networks/build.py"


def test_committed_nets_carry_no_machine_specific_header() -> None:
    for net in ALL_NETS:
        head = net.read_text(encoding="utf-8")[:2000]
        assert "generated on" not in head
        assert "Built by networks/build.py" in head
        assert "/tmp" not in head and "/home" not in head and ":\\" not in head


# ---------------------------------------------------------------------------------------------
# helpers over sumolib objects


def links_by_index(net, tls_id: str) -> dict[int, list]:
    """tls link index -> sumolib connections (vehicle connections and walkingarea->crossing)."""
    out: dict[int, list] = {}
    node = net.getNode(tls_id)
    for edge in node.getIncoming():
        if edge.getFunction() not in ("", "normal", "walkingarea"):
            continue
        for lane in edge.getLanes():
            for conn in lane.getOutgoing():
                if conn.getTLSID() == tls_id and conn.getJunctionIndex() >= 0:
                    out.setdefault(conn.getTLLinkIndex(), []).append(conn)
    return out


def is_crossing(conn) -> bool:
    return conn.getTo().getFunction() == "crossing"


def axis(edge) -> str:
    """'NS' for an edge running along y, 'EW' along x (from its end nodes)."""
    (x0, y0), (x1, y1) = edge.getFromNode().getCoord(), edge.getToNode().getCoord()
    return "NS" if abs(y1 - y0) > abs(x1 - x0) else "EW"


def school_program(net, tls_id: str):
    programs = net.getTLS(tls_id).getPrograms()
    assert list(programs) == [PROGRAM_ID], f"{tls_id}: programs {list(programs)}"
    return programs[PROGRAM_ID]


def split_stages(phases) -> list[list]:
    """Split a phase list into stages, each ending with its all-red phase (after a yellow)."""
    stages, current = [], []
    for phase in phases:
        current.append(phase)
        if set(phase.state) == {"r"}:
            stages.append(current)
            current = []
    assert not current, "the programme must end with an all-red phase"
    return stages


# ---------------------------------------------------------------------------------------------
# variants


def test_variants_have_identical_signal_structure() -> None:
    shared, through = read(QX_SHARED), read(QX_THROUGH)
    ids = sorted(t.getID() for t in shared.getTrafficLights())
    assert ids == sorted(QX_TLS)
    assert ids == sorted(t.getID() for t in through.getTrafficLights())
    for tls_id in ids:
        a = shared.getTLS(tls_id).getPrograms()
        b = through.getTLS(tls_id).getPrograms()
        assert list(a) == list(b) == [PROGRAM_ID]
        pa, pb = a[PROGRAM_ID], b[PROGRAM_ID]
        assert pa._offset == pb._offset
        assert [(p.duration, p.state) for p in pa.getPhases()] == [(p.duration, p.state) for p in pb.getPhases()]
        # the same link indices, serving the same movements (edge level)
        la, lb = links_by_index(shared, tls_id), links_by_index(through, tls_id)
        assert sorted(la) == sorted(lb) == list(range(len(pa.getPhases()[0].state)))
        for idx in la:
            assert {(c.getFrom().getID(), c.getTo().getID()) for c in la[idx]} == {
                (c.getFrom().getID(), c.getTo().getID()) for c in lb[idx]
            }


def _variable_lane_connections(net):
    lane = net.getEdge(VARIABLE_EDGE).getLane(VARIABLE_LANE)
    return {c.getDirection(): c for c in lane.getOutgoing()}


def test_variable_lane_is_shared_left_through_only_in_shared_variant() -> None:
    shared = _variable_lane_connections(read(QX_SHARED))
    through = _variable_lane_connections(read(QX_THROUGH))
    assert set(shared) == {"s", "l"}
    assert set(through) == {"s"}
    # the shared left turn rides on the signal index of the bay's left turn
    bay = read(QX_SHARED).getEdge(VARIABLE_EDGE).getLanes()[-1]
    (bay_left,) = [c for c in bay.getOutgoing() if c.getDirection() == "l"]
    assert shared["l"].getTLLinkIndex() == bay_left.getTLLinkIndex()
    assert shared["l"].getTo() == bay_left.getTo()
    assert shared["s"].getTLLinkIndex() == through["s"].getTLLinkIndex()


def test_sidewalks_on_every_qixiangtai_edge() -> None:
    net = read(QX_SHARED)
    for edge in net.getEdges(withInternal=False):
        lanes = edge.getLanes()
        assert lanes[0].allows("pedestrian") and not lanes[0].allows("passenger"), edge.getID()
        assert all(not ln.allows("pedestrian") for ln in lanes[1:]), edge.getID()


# ---------------------------------------------------------------------------------------------
# the existing plans: 4 stages in the documented pattern


def _check_program(net, tls_id: str, with_peds: bool) -> None:
    prog = school_program(net, tls_id)
    phases = prog.getPhases()
    links = links_by_index(net, tls_id)
    n = len(phases[0].state)
    assert all(len(p.state) == n for p in phases)
    assert sorted(links) == list(range(n)), f"{tls_id}: every signal index must control something"
    assert sum("y" in p.state for p in phases) == 4

    crossing_idx = {i for i, cs in links.items() if is_crossing(cs[0])}
    assert bool(crossing_idx) == with_peds
    crossing_axis = {i: axis(links[i][0].getTo().getCrossingEdges()[0]) for i in crossing_idx}
    crossing_len = {i: links[i][0].getTo().getLanes()[0].getLength() for i in crossing_idx}
    veh = {i: (axis(cs[0].getFrom()), cs[0].getDirection()) for i, cs in links.items() if i not in crossing_idx}

    stages = split_stages(phases)
    assert len(stages) == 4
    expected = [("NS", "l"), ("NS", "s"), ("EW", "l"), ("EW", "s")]
    for (stage_axis, kind), stage in zip(expected, stages):
        *greens, yellow, all_red = stage
        assert "y" in yellow.state and "y" not in "".join(p.state for p in greens)
        assert 3 <= yellow.duration <= 4 and all_red.duration == 2
        # vehicle greens: the same in every green phase of the stage
        veh_green = {i for i in veh if greens[0].state[i] in "Gg"}
        for g in greens:
            assert {i for i in veh if g.state[i] in "Gg"} == veh_green
            assert all(g.state[i] == greens[0].state[i] for i in veh)
        want = {i for i, (ax, d) in veh.items() if ax == stage_axis and (d == "l" if kind == "l" else d in "sr")}
        assert veh_green == want, f"{tls_id}: stage {stage_axis}-{kind}"
        # yellow: exactly the links that lose right of way; all-red: everything red
        assert {i for i, c in enumerate(yellow.state) if c == "y"} == veh_green
        assert all(yellow.state[i] == "r" for i in crossing_idx)
        # crossings: walk + clearance only in through stages, over the legs across the other axis
        walking = {i for i in crossing_idx if crossing_axis[i] != stage_axis}
        if with_peds and kind == "s":
            assert len(greens) == 2
            walk, clear = greens
            assert {i for i in crossing_idx if walk.state[i] == "G"} == walking and len(walking) == 2
            assert walk.duration >= MIN_WALK_S
            assert all(clear.state[i] == "r" for i in crossing_idx)
            need = max(math.ceil(round(crossing_len[i] / WALKING_SPEED_M_S, 6)) for i in walking)
            assert clear.duration >= need, f"{tls_id}: pedestrian clearance {clear.duration} < {need}"
            # right turns cross a walking crossing: permissive
            assert all(walk.state[i] == "g" for i in veh_green if veh[i][1] == "r")
        else:
            assert len(greens) == 1
            assert all(greens[0].state[i] == "r" for i in crossing_idx)
            assert all(greens[0].state[i] == "G" for i in veh_green)


def _check_no_conflicting_greens(net, tls_id: str) -> None:
    """No phase lets two foes go unless one of them is a permissive 'g' that yields to the other."""
    node = net.getNode(tls_id)
    links = links_by_index(net, tls_id)
    junction = {i: [c.getJunctionIndex() for c in cs] for i, cs in links.items()}

    def yields(a: int, b: int) -> bool:  # junction link a must let b go first
        response = node._prohibits[a]
        return response[len(response) - b - 1] == "1"

    for phase in school_program(net, tls_id).getPhases():
        green = [i for i, c in enumerate(phase.state) if c in "Gg"]
        for pos, i in enumerate(green):
            for j in green[pos + 1:]:
                for a in junction[i]:
                    for b in junction[j]:
                        if node.areFoes(a, b):
                            ok = (phase.state[i] == "g" and yields(a, b)) or (phase.state[j] == "g" and yields(b, a))
                            assert ok, f"{tls_id}: links {i} and {j} conflict in phase {phase.state}"


@pytest.mark.parametrize("net_path", [QX_SHARED, QX_THROUGH], ids=["shared", "through"])
@pytest.mark.parametrize("tls_id", QX_TLS)
def test_qixiangtai_existing_plan_structure(net_path: Path, tls_id: str) -> None:
    net = read(net_path)
    _check_program(net, tls_id, with_peds=True)
    _check_no_conflicting_greens(net, tls_id)
    cycle = sum(p.duration for p in school_program(net, tls_id).getPhases())
    assert 120 <= cycle <= 140


def test_isolated_plan_structure() -> None:
    net = read(ISOLATED)
    assert [t.getID() for t in net.getTrafficLights()] == ["center"]
    _check_program(net, "center", with_peds=False)
    _check_no_conflicting_greens(net, "center")
    assert sum(p.duration for p in school_program(net, "center").getPhases()) == 90
    assert not [e for e in net.getEdges(withInternal=True) if e.getFunction() in ("crossing", "walkingarea")]


def test_conflict_check_is_not_vacuous() -> None:
    """Sanity of the helper above: crossing streams are foes in the junction logic."""
    net = read(QX_SHARED)
    node = net.getNode("weidi")
    links = links_by_index(net, "weidi")
    by_move = {(axis(cs[0].getFrom()), cs[0].getFrom().getID(), cs[0].getDirection()): i
               for i, cs in links.items() if not is_crossing(cs[0])}
    sb_through = by_move[("NS", "qx_n2weidi", "s")]
    wb_through = by_move[("EW", "weidi_e2weidi", "s")]
    assert node.areFoes(links[sb_through][0].getJunctionIndex(), links[wb_through][0].getJunctionIndex())
