"""Shared test fixtures: keep tests away from ~/.cache, and locate the bundled networks."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ISOLATED_NET = ROOT / "networks" / "isolated" / "isolated.net.xml"
QIXIANGTAI_NET = ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml"


@pytest.fixture(scope="session", autouse=True)
def _signalopt_cache(tmp_path_factory: pytest.TempPathFactory):
    """Route caches go to a temporary folder (session-wide, so module fixtures and
    spawned worker processes, which inherit the environment, see it too)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNALOPT_CACHE", str(tmp_path_factory.mktemp("signalopt-cache")))
        yield


@pytest.fixture(scope="session")
def isolated_net() -> Path:
    """networks/isolated/isolated.net.xml: tls ``center``, legs N/E/S/W, lanes 0 through+right,
    1 through, 2 left bay; no pedestrians; existing plan cycle 90 s."""
    return ISOLATED_NET


@pytest.fixture(scope="session")
def qixiangtai_net() -> Path:
    """networks/qixiangtai/qixiangtai_shared.net.xml: tls weidi, pingquan, pingshan, zijinshan, with crossings."""
    return QIXIANGTAI_NET


def _write_sumocfg_scenario(folder: Path, net: Path, routes_xml: str, *, name: str = "test", begin_s: float = 0,
                            end_s: float = 900, warmup_s: float = 0, extra_toml: str = "") -> Path:
    """Write ``routes.rou.xml``, ``run.sumocfg`` (net, routes, begin/end) and ``scenario.toml``
    (the smallest scenario shape: ``sumocfg`` plus ``warmup_s``) into ``folder``; return the TOML path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "routes.rou.xml").write_text(routes_xml, encoding="utf-8")
    (folder / "run.sumocfg").write_text(
        "<configuration>\n"
        f'  <input><net-file value="{net}"/><route-files value="routes.rou.xml"/></input>\n'
        f'  <time><begin value="{begin_s:g}"/><end value="{end_s:g}"/></time>\n'
        "</configuration>\n", encoding="utf-8")
    toml = folder / "scenario.toml"
    toml.write_text(f'schema_version = 1\nname = "{name}"\nsumocfg = "run.sumocfg"\nwarmup_s = {warmup_s:g}\n'
                    + extra_toml, encoding="utf-8")
    return toml


@pytest.fixture(scope="session")
def sumocfg_scenario():
    """Factory: ``sumocfg_scenario(folder, net, routes_xml, name=, begin_s=, end_s=, warmup_s=, extra_toml=)``
    writes a sumocfg-based scenario and returns its TOML path."""
    return _write_sumocfg_scenario


def flows_xml(*flows: tuple[str, str, float], begin_s: float = 0, end_s: float = 900) -> str:
    """Route file text of Poisson flows ``(from_edge, to_edge, veh_h)``."""
    lines = ["<routes>"]
    for k, (frm, to, veh_h) in enumerate(flows):
        lines.append(f'  <flow id="f{k}_{frm}_{to}" from="{frm}" to="{to}" begin="{begin_s:g}" end="{end_s:g}" '
                     f'period="exp({veh_h / 3600:.6f})" departLane="best" departSpeed="max"/>')
    lines.append("</routes>")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def make_flows():
    """Factory for route-file text: ``make_flows(("n2center", "center2s", 600), ..., begin_s=0, end_s=900)``."""
    return flows_xml


@pytest.fixture(scope="session")
def corpus_build():
    """The ``networks/corpus/build.py`` module (``CORPUS``, ``build_corpus``, ...)."""
    from _corpus import load_corpus_build

    return load_corpus_build()


@pytest.fixture(scope="session")
def corpus(corpus_build, tmp_path_factory: pytest.TempPathFactory) -> list:
    """Every corpus entry (``CorpusEntry``: name, layout, net/sumocfg/scenario paths, n_signals,
    programme_type), built once per session under a temporary folder."""
    return corpus_build.build_corpus(tmp_path_factory.mktemp("corpus"))
