"""The generated network corpus (networks/corpus/): size, variety, determinism, and that signalopt reads it."""

from __future__ import annotations

import pytest

from signalopt.network import read_network
from signalopt.scenario import read_scenario


def test_corpus_size_and_variety(corpus) -> None:
    assert sum(e.n_signals for e in corpus) >= 40
    assert all(1 <= e.n_signals <= 9 for e in corpus)
    assert len({e.layout for e in corpus}) >= 8
    types = {e.programme_type for e in corpus}
    assert {"static", "actuated", "NEMA"} <= types


def test_corpus_files(corpus) -> None:
    for e in corpus:
        for path in (e.net_path, e.sumocfg_path, e.scenario_path):
            assert path.is_file(), path
        scenario = read_scenario(e.scenario_path)
        assert scenario.name == e.name
        assert scenario.warmup_s == 300


def test_every_net_loads(corpus) -> None:
    failures = {}
    for e in corpus:
        try:
            network = read_network(e.net_path)
        except Exception as exc:  # noqa: BLE001 - collect them all, then report
            failures[e.name] = f"{type(exc).__name__}: {exc}"
            continue
        assert len(network.signals) == e.n_signals, e.name
    assert not failures, failures


def test_an_approach_continues_only_onto_an_edge_that_feeds_it(corpus) -> None:
    """The upstream piece of an approach (measured when the queue spills past a turn bay) is an edge that leads
    into the approach; the one edge into a dead end is the approach's opposite direction, never a piece of it
    (the reader took it on 65 approaches of the corpus and added the other direction's jam to the queue)."""
    import sumolib

    checked = 0
    for e in corpus:
        network = read_network(e.net_path)
        net = sumolib.net.readNet(str(e.net_path))
        for a in network.approaches:
            if not a.upstream_lanes:
                continue
            up = net.getLane(a.upstream_lanes[0]).getEdge()
            edge = net.getEdge(a.id)
            assert edge in up.getOutgoing(), (e.name, a.id, up.getID())
            assert up.getFromNode() is not edge.getToNode(), (e.name, a.id, up.getID())
            checked += 1
    assert checked > 50  # the turn-bay networks have them


@pytest.mark.parametrize("name", ["random", "sidewalks", "t_junctions_nema"])
def test_build_is_deterministic(corpus, corpus_build, tmp_path, name) -> None:
    first = next(e for e in corpus if e.name == name)
    [again] = corpus_build.build_corpus(tmp_path, names=[name])
    assert again.net_path.read_bytes() == first.net_path.read_bytes()
    for a, b in ((first.sumocfg_path, again.sumocfg_path), (first.scenario_path, again.scenario_path)):
        assert a.read_bytes() == b.read_bytes()
    for route in sorted(first.net_path.parent.glob("*.rou.xml")):
        assert (again.net_path.parent / route.name).read_bytes() == route.read_bytes()


def test_existing_entries_are_not_rebuilt(corpus, corpus_build) -> None:
    first = corpus[0]
    stamp = first.net_path.stat().st_mtime_ns
    [again] = corpus_build.build_corpus(first.net_path.parent.parent, names=[first.name])
    assert again == first
    assert first.net_path.stat().st_mtime_ns == stamp


def test_unknown_name_is_refused(corpus_build, tmp_path) -> None:
    with pytest.raises(KeyError, match="nope"):
        corpus_build.build_corpus(tmp_path, names=["nope"])
