"""Build a corpus of small generated SUMO networks with demand, for testing signalopt on nets no one tuned.

Run from anywhere::

    python networks/corpus/build.py OUT_DIR          # build (skipping finished entries), one line per network
    python networks/corpus/build.py --list           # the recipe only, nothing is built

Every network comes from SUMO's own ``netgenerate``, or from ``netconvert`` on plain ``.nod.xml`` /
``.edg.xml`` written here where netgenerate cannot make the shape (T-junctions, a five-arm junction,
one-way streets, work zones). Demand is SUMO's ``randomTrips.py`` routed by duarouter, entering at
the fringe. Each entry ``OUT_DIR/NAME/`` holds ``NAME.net.xml``, ``NAME.rou.xml`` (and
``NAME.ped.rou.xml`` for nets with sidewalks), ``NAME.sumocfg`` (0-900 s) and ``NAME.toml`` (a
signalopt scenario, ``warmup_s = 300``).

Determinism: fixed seeds everywhere, the same options for every run, and the ``<!-- generated on ...
-->`` comments SUMO stamps with the time and the command line (no option turns them off) replaced by a
fixed comment; the same SUMO version then gives the same bytes.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

END_S = 900  # simulated period [s]
WARMUP_S = 300  # not measured [s]
SEED = 42  # netgenerate --rand and randomTrips seed
SPEED = "13.89"  # 50 km/h
COMMON = ("--no-turnarounds", "true", "--default.speed", SPEED)  # every netgenerate/netconvert run

PlainNet = tuple[str, str]  # (.nod.xml text, .edg.xml text)


@dataclass(frozen=True)
class Spec:
    """How to build one corpus network.

    Attributes
    ----------
    name : str
        Folder and file stem.
    layout : str
        Short description of the shape and options (no ``--``, it goes into an XML comment).
    options : tuple of str
        ``netgenerate`` options or, when ``plain`` is given, ``netconvert`` options (``COMMON`` is added).
    plain : callable, optional
        Returns the ``.nod.xml`` and ``.edg.xml`` texts for netconvert; ``None`` means netgenerate.
    period_s : float
        randomTrips ``--period``: one vehicle every ``period_s`` seconds.
    ped_period_s : float, optional
        randomTrips ``--pedestrians --period`` for a separate pedestrian route file.
    """

    name: str
    layout: str
    options: tuple[str, ...]
    plain: Callable[[], PlainNet] | None = None
    period_s: float = 3.0
    ped_period_s: float | None = None


@dataclass(frozen=True)
class CorpusEntry:
    """One built network with its demand and scenario.

    Attributes
    ----------
    name, layout : str
        As in the :class:`Spec`.
    net_path, sumocfg_path, scenario_path : Path
        The ``.net.xml``, the ``.sumocfg`` (0-900 s) and the signalopt scenario TOML.
    n_signals : int
        Number of ``tlLogic`` programmes in the net.
    programme_type : str
        Their ``type`` (``static``, ``actuated``, ``NEMA``, ...), ``"mixed"`` when they differ.
    """

    name: str
    layout: str
    net_path: Path
    sumocfg_path: Path
    scenario_path: Path
    n_signals: int
    programme_type: str


# ---- plain-XML shapes (netconvert) --------------------------------------------------------------


def _plain(nodes: Sequence[tuple[str, float, float, str]], edges: Sequence[tuple[str, str, int]],
           *, two_way: bool = True, tl: dict[str, str] | None = None) -> PlainNet:
    """Node and edge XML. ``nodes``: (id, x, y, type); ``edges``: (from, to, lanes), named ``from2to``,
    plus the opposite edge when ``two_way``; ``tl``: node id -> joined traffic-light id."""
    tl = tl or {}
    nod = ["<nodes>"]
    for nid, x, y, kind in nodes:
        joined = f' tl="{tl[nid]}"' if nid in tl else ""
        nod.append(f'    <node id="{nid}" x="{x:.2f}" y="{y:.2f}" type="{kind}"{joined}/>')
    edg = ["<edges>"]
    for a, b, lanes in edges:
        for frm, to in ((a, b), (b, a)) if two_way else ((a, b),):
            edg.append(f'    <edge id="{frm}2{to}" from="{frm}" to="{to}" numLanes="{lanes}" speed="{SPEED}"/>')
    return "\n".join(nod + ["</nodes>"]) + "\n", "\n".join(edg + ["</edges>"]) + "\n"


def _t_junctions() -> PlainNet:
    """An arterial with three signalised T-junctions, side streets alternately north and south."""
    nodes = [("w", 0, 0, "priority"), ("e", 1200, 0, "priority")]
    edges = []
    chain = ["w"]
    for k, side in enumerate((1, -1, 1), start=1):
        nodes += [(f"t{k}", 300 * k, 0, "traffic_light"), (f"s{k}", 300 * k, 200 * side, "priority")]
        edges.append((f"t{k}", f"s{k}", 1))
        chain.append(f"t{k}")
    chain.append("e")
    edges += [(a, b, 2) for a, b in zip(chain, chain[1:])]
    return _plain(nodes, edges)


def _five_arm() -> PlainNet:
    """One signalised junction with five two-lane arms 72 degrees apart."""
    nodes = [("c", 0, 0, "traffic_light")]
    for k in range(5):
        a = math.radians(90 + 72 * k)
        nodes.append((f"a{k}", 250 * math.cos(a), 250 * math.sin(a), "priority"))
    return _plain(nodes, [("c", f"a{k}", 2) for k in range(5)])


def _one_way_grid() -> PlainNet:
    """3 x 2 signalised junctions of one-way two-lane streets, directions alternating street by street."""
    xs, ys, ext = (0, 200, 400), (0, 200), 150
    nodes = [(f"j{i}{j}", x, y, "traffic_light") for i, x in enumerate(xs) for j, y in enumerate(ys)]
    edges = []
    for j, y in enumerate(ys):  # rows: even eastbound, odd westbound
        row = [f"rw{j}"] + [f"j{i}{j}" for i in range(len(xs))] + [f"re{j}"]
        nodes += [(f"rw{j}", xs[0] - ext, y, "priority"), (f"re{j}", xs[-1] + ext, y, "priority")]
        row = row if j % 2 == 0 else row[::-1]
        edges += [(a, b, 2) for a, b in zip(row, row[1:])]
    for i, x in enumerate(xs):  # columns: even northbound, odd southbound
        col = [f"cs{i}"] + [f"j{i}{j}" for j in range(len(ys))] + [f"cn{i}"]
        nodes += [(f"cs{i}", x, ys[0] - ext, "priority"), (f"cn{i}", x, ys[-1] + ext, "priority")]
        col = col if i % 2 == 0 else col[::-1]
        edges += [(a, b, 2) for a, b in zip(col, col[1:])]
    return _plain(nodes, edges, two_way=False)


def _work_zones() -> PlainNet:
    """A one-lane-each-way road with two work zones: each is a 100 m section between two nodes joined
    into one traffic light, used by one direction at a time."""
    xs = {"w": 0, "a1": 250, "b1": 350, "a2": 650, "b2": 750, "e": 1000}
    kinds = {n: "traffic_light" if n[0] in "ab" else "priority" for n in xs}
    nodes = [(n, x, 0, kinds[n]) for n, x in xs.items()]
    names = list(xs)
    edges = [(a, b, 1) for a, b in zip(names, names[1:])]
    return _plain(nodes, edges, tl={"a1": "zone1", "b1": "zone1", "a2": "zone2", "b2": "zone2"})


# ---- the recipe ---------------------------------------------------------------------------------

def _grid(nx: int, ny: int, length: int = 200) -> tuple[str, ...]:
    """netgenerate options of an nx x ny grid of two-lane streets, 150 m legs at the fringe, tls.guess."""
    return ("--grid", "true", "--grid.x-number", str(nx), "--grid.y-number", str(ny), "--grid.length", str(length),
            "--grid.attach-length", "150", "--default.lanenumber", "2", "--tls.guess", "true")


_TURN = ("--turn-lanes", "1", "--turn-lanes.length", "40")

CORPUS: tuple[Spec, ...] = (
    Spec("grid3_turn", "grid 3x3, 2 lanes, tls.guess, turn-lanes 1 (40 m), left-green default 6 s",
         (*_grid(3, 3), *_TURN), period_s=2.0),
    Spec("grid3x2_noleft", "grid 3x2, 2 lanes, tls.guess, turn-lanes 1 (40 m), tls.left-green.time 0",
         (*_grid(3, 2), *_TURN, "--tls.left-green.time", "0"),
         period_s=2.5),
    Spec("grid2_opposites", "grid 2x2, 2 lanes, tls.guess, tls.layout opposites",
         (*_grid(2, 2), "--tls.layout", "opposites")),
    Spec("grid2_incoming", "grid 2x2, 2 lanes, tls.guess, tls.layout incoming",
         (*_grid(2, 2), "--tls.layout", "incoming"), period_s=3.5),
    Spec("oneway_alternate", "3x2 one-way streets (plain XML), tls.layout alternateOneWay",
         ("--tls.layout", "alternateOneWay"), plain=_one_way_grid, period_s=2.5),
    Spec("workzones", "2 work zones on a 1+1 lane road (joined tl, plain XML), tls.layout alternateOneWay",
         ("--tls.layout", "alternateOneWay"), plain=_work_zones, period_s=8.0),
    Spec("spider5", "spider 5 arms x 1 circle (200 m), 2 lanes, tls.guess",
         ("--spider", "true", "--spider.arm-number", "5", "--spider.circle-number", "1",
          "--spider.space-radius", "200", "--spider.attach-length", "150", "--default.lanenumber", "2",
          "--tls.guess", "true"), period_s=3.0),
    Spec("random", f"random net (seed {SEED}, 10 iterations, 150-300 m), 2 lanes, tls.guess",
         ("--rand", "true", "--seed", str(SEED), "--rand.iterations", "10", "--rand.min-distance", "150",
          "--rand.max-distance", "300", "--default.lanenumber", "2", "--tls.guess", "true"), period_s=3.0),
    Spec("split_join", "grid 4x2 with 25 m between the rows, 2 lanes, tls.guess, tls.join (join-dist 40 m, pairs)",
         ("--grid", "true", "--grid.x-number", "4", "--grid.y-number", "2", "--grid.x-length", "200",
          "--grid.y-length", "25", "--grid.attach-length", "150", "--default.lanenumber", "2",
          "--tls.guess", "true", "--tls.join", "true", "--tls.join-dist", "40"), period_s=3.0),
    Spec("t_junctions", "arterial with 3 T-junctions (plain XML), 2+1 lanes",
         (), plain=_t_junctions, period_s=3.0),
    Spec("five_arm", "one five-arm junction (plain XML), 2 lanes",
         (), plain=_five_arm, period_s=3.0),
    Spec("sidewalks", "grid 2x2, 2 lanes, tls.guess, sidewalks.guess, crossings.guess, pedestrians",
         (*_grid(2, 2), "--sidewalks.guess", "true", "--crossings.guess", "true"),
         period_s=3.0, ped_period_s=6.0),
    Spec("arterial_allred", "grid 3x1 (250 m), 2 lanes, tls.guess, turn-lanes 1 (40 m), tls.allred.time 2",
         (*_grid(3, 1, 250), *_TURN,
          "--tls.allred.time", "2"), period_s=3.0),
    Spec("grid2_actuated", "grid 2x2, 2 lanes, tls.guess, turn-lanes 1 (40 m), tls.default-type actuated",
         (*_grid(2, 2), *_TURN, "--tls.default-type", "actuated"), period_s=2.5),
    Spec("grid2_nema", "grid 2x2, 2 lanes, tls.guess, turn-lanes 1 (40 m), tls.default-type NEMA",
         (*_grid(2, 2), *_TURN, "--tls.default-type", "NEMA"), period_s=2.5),
    Spec("t_junctions_nema", "arterial with 3 T-junctions (plain XML), 2+1 lanes, tls.default-type NEMA",
         ("--tls.default-type", "NEMA"), plain=_t_junctions, period_s=3.0),
)


# ---- building -----------------------------------------------------------------------------------

_STAMP = re.compile(r"<!-- generated on .*?-->\n*", re.DOTALL)
_VERSION = re.compile(r"by Eclipse SUMO (\S+) v?(\d\S*)")


def _run(cmd: Sequence[str | Path], cwd: Path) -> None:
    from signalopt._sumo import tool_env

    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=tool_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{Path(str(cmd[0])).name} failed in {cwd}:\n{proc.stdout}{proc.stderr}")


def _unstamp(path: Path, note: str) -> None:
    """Replace SUMO's ``generated on`` comments (time, command line) by one fixed comment."""
    text = path.read_text(encoding="utf-8")
    tools = sorted({f"{m.group(1)} {m.group(2)}" for m in _VERSION.finditer(text[:20000])})
    fixed = f"<!-- networks/corpus/build.py: {note}; {', '.join(tools) or 'SUMO'} -->\n\n"
    body = _STAMP.sub("", text)
    head, sep, rest = body.partition("?>\n")  # keep the XML declaration first
    body = f"{head}{sep}\n{fixed}{rest.lstrip()}" if sep else fixed + body
    path.write_text(body, encoding="utf-8", newline="\n")


def _build_net(spec: Spec, folder: Path) -> Path:
    from signalopt._sumo import binary

    net = folder / f"{spec.name}.net.xml"
    if spec.plain is None:
        cmd = [binary("netgenerate"), *spec.options, *COMMON, "--output-file", net.name]
    else:
        nod, edg = spec.plain()
        (folder / f"{spec.name}.nod.xml").write_text(nod, encoding="utf-8", newline="\n")
        (folder / f"{spec.name}.edg.xml").write_text(edg, encoding="utf-8", newline="\n")
        cmd = [binary("netconvert"), "--node-files", f"{spec.name}.nod.xml", "--edge-files",
               f"{spec.name}.edg.xml", *spec.options, *COMMON, "--output-file", net.name]
    _run(cmd, folder)
    _unstamp(net, f"{spec.name}, {spec.layout}")
    return net


def _random_trips(spec: Spec, folder: Path, out: str, extra: Sequence[str], period_s: float) -> None:
    """Routes from randomTrips.py (via duarouter) into ``folder/out``; the trip files stay in a temp dir."""
    from signalopt._sumo import python, tool

    with tempfile.TemporaryDirectory() as tmp:
        _run([python(), tool("randomTrips.py"), "--net-file", folder / f"{spec.name}.net.xml",
              "--output-trip-file", Path(tmp) / "trips.xml", "--route-file", Path(tmp) / "routes.xml",
              "--seed", str(SEED), "--begin", "0", "--end", str(END_S), "--period", f"{period_s:g}",
              "--fringe-factor", "max", *extra], Path(tmp))
        routes = Path(tmp) / "routes.xml"
        _unstamp(routes, f"{spec.name} demand, randomTrips seed {SEED} period {period_s:g} s")
        (folder / out).write_bytes(routes.read_bytes())


def _signals(net: Path) -> tuple[int, str]:
    types = [tl.get("type", "static") for tl in ET.parse(net).getroot().iter("tlLogic")]
    kinds = sorted(set(types))
    return len(types), kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "none")


def _paths(spec: Spec, out_dir: Path) -> tuple[Path, Path, Path, Path]:
    folder = out_dir / spec.name
    return (folder, folder / f"{spec.name}.net.xml", folder / f"{spec.name}.sumocfg", folder / f"{spec.name}.toml")


def build_entry(spec: Spec, out_dir: Path) -> CorpusEntry:
    """Build one network, its demand, sumocfg and scenario into ``out_dir/spec.name/``.

    Parameters
    ----------
    spec : Spec
        The recipe.
    out_dir : Path
        Corpus folder. An entry whose scenario TOML exists already (it is written last) is not rebuilt.

    Returns
    -------
    CorpusEntry
    """
    folder, net, cfg, toml = _paths(spec, Path(out_dir))
    if not toml.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _build_net(spec, folder)
        routes = [f"{spec.name}.rou.xml"]
        _random_trips(spec, folder, routes[0], ("--vehicle-class", "passenger", "--prefix", "veh"), spec.period_s)
        if spec.ped_period_s is not None:
            routes.append(f"{spec.name}.ped.rou.xml")
            _random_trips(spec, folder, routes[1], ("--pedestrians", "--prefix", "ped"), spec.ped_period_s)
        cfg.write_text(
            "<configuration>\n"
            f'    <input>\n        <net-file value="{net.name}"/>\n'
            f'        <route-files value="{",".join(routes)}"/>\n    </input>\n'
            f'    <time>\n        <begin value="0"/>\n        <end value="{END_S}"/>\n    </time>\n'
            "</configuration>\n", encoding="utf-8", newline="\n")
        tmp = toml.with_suffix(".toml.tmp")
        tmp.write_text(f'schema_version = 1\nname = "{spec.name}"\ndescription = "{spec.layout}"\n'
                       f'sumocfg = "{cfg.name}"\nwarmup_s = {WARMUP_S}\n', encoding="utf-8", newline="\n")
        tmp.replace(toml)
    n_signals, kind = _signals(net)
    return CorpusEntry(spec.name, spec.layout, net, cfg, toml, n_signals, kind)


def build_corpus(out_dir: Path, *, names: Sequence[str] | None = None) -> list[CorpusEntry]:
    """Build the corpus (or the entries in ``names``) into ``out_dir``, skipping finished entries.

    Parameters
    ----------
    out_dir : Path
        Corpus folder; one sub-folder per network.
    names : sequence of str, optional
        Only these entries of :data:`CORPUS` (all by default).

    Returns
    -------
    list of CorpusEntry
        In :data:`CORPUS` order.

    Raises
    ------
    KeyError
        If a name is not in :data:`CORPUS`.
    """
    known = {spec.name: spec for spec in CORPUS}
    unknown = sorted(set(names or ()) - known.keys())
    if unknown:
        raise KeyError(f"not in the corpus: {', '.join(unknown)}")
    wanted = [s for s in CORPUS if names is None or s.name in names]
    return [build_entry(spec, Path(out_dir)) for spec in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build into OUT_DIR and print one line per network, or ``--list`` the recipe."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, nargs="?", help="corpus folder (needed unless --list)")
    parser.add_argument("--list", action="store_true", help="print the recipe without building")
    parser.add_argument("--only", action="append", metavar="NAME", help="build only this entry (repeatable)")
    args = parser.parse_args(argv)
    if args.list:
        for spec in CORPUS:
            print(f"{spec.name:18} {spec.layout}")
        return 0
    if args.out_dir is None:
        parser.error("OUT_DIR is required unless --list")
    for e in build_corpus(args.out_dir, names=args.only):
        print(f"{e.name:18} {e.n_signals:2d} {e.programme_type:8} {e.layout}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # signalopt from a plain checkout
    sys.exit(main())
