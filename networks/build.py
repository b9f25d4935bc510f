"""Rebuild the bundled SUMO networks from their plain-XML sources.

Run from anywhere (the repository root is typical)::

    python networks/build.py              # rewrite the committed .net.xml files
    python networks/build.py --check      # rebuild into a temp dir, fail if anything differs

Every ``.net.xml`` under ``networks/`` is produced here by SUMO's ``netconvert``, located through
:func:`signalopt._sumo.binary` (the ``eclipse-sumo`` wheel), never through PATH or a SUMO_HOME
found in the environment; SUMO_HOME is set to the wheel's folder for the netconvert process only,
so that it validates the sources against its own XSDs.

Reproducibility: netconvert is run with the ``networks/`` folder as working directory and
relative input paths, and the header comment it writes (which carries the build time and the
output path) is replaced by a fixed comment listing the sources, the options and the netconvert
version. The rest of netconvert's output is deterministic, so rebuilding with the same SUMO
version reproduces the committed files byte for byte (``tests/test_networks.py`` checks this).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

NETWORKS_DIR = Path(__file__).resolve().parent

# Options shared by every build (besides the input and output files and NetSpec.options).
NETCONVERT_OPTIONS: tuple[str, ...] = (
    "--no-turnarounds", "true",  # no U-turn links: they would add signal indices nobody controls
    "--offset.disable-normalization", "true",  # keep the source coordinates (corridor on x = 0)
    "--tls.guess", "false",
    "--crossings.guess", "false",  # crossings are declared explicitly, with their signal index
    "--xml-validation", "auto",  # sources declare their schema: validate against SUMO's local XSDs
)


@dataclass(frozen=True)
class NetSpec:
    """One network: its output file and plain-XML sources (paths relative to ``networks/``)."""

    output: str
    nodes: tuple[str, ...]
    edges: tuple[str, ...]
    connections: tuple[str, ...]
    tllogics: tuple[str, ...]
    options: tuple[str, ...] = ()  # extra netconvert options for this network


def _qixiangtai(variant: str) -> NetSpec:
    # The per-variant file holds <connection .. tl=".." linkIndex=".."/> elements: read as a
    # connection file it creates the variable lane's connections, read as a tllogic file it gives
    # them their signal index (one file per variant, nothing else differs).
    variant_file = f"qixiangtai/variable_lane_{variant}.xml"
    return NetSpec(
        output=f"qixiangtai/qixiangtai_{variant}.net.xml",
        nodes=("qixiangtai/qixiangtai.nod.xml",),
        edges=("qixiangtai/qixiangtai.edg.xml",),
        connections=("qixiangtai/qixiangtai.con.xml", variant_file),
        tllogics=("qixiangtai/qixiangtai.tll.xml", variant_file),
        # walking areas at every node, also bay and fringe nodes: continuous sidewalks
        options=("--walkingareas", "true"),
    )


NETWORKS: tuple[NetSpec, ...] = (
    _qixiangtai("shared"),
    _qixiangtai("through"),
    NetSpec(
        output="isolated/isolated.net.xml",
        nodes=("isolated/isolated.nod.xml",),
        edges=("isolated/isolated.edg.xml",),
        connections=("isolated/isolated.con.xml",),
        tllogics=("isolated/isolated.tll.xml",),
    ),
)

_GENERATED_HEADER = re.compile(r"<!-- generated on .*?-->", re.DOTALL)
_VERSION = re.compile(r"by Eclipse SUMO netconvert (\S+)")


def _netconvert_command(spec: NetSpec, output: Path) -> list[str]:
    from signalopt._sumo import binary  # lazy: importing this module must not need SUMO

    return [
        str(binary("netconvert")),
        "--node-files", ",".join(spec.nodes),
        "--edge-files", ",".join(spec.edges),
        "--connection-files", ",".join(spec.connections),
        "--tllogic-files", ",".join(spec.tllogics),
        *NETCONVERT_OPTIONS,
        *spec.options,
        "--output-file", str(output),
    ]


def _options_for_comment(spec: NetSpec) -> str:
    # "--" may not appear inside an XML comment: write "name=value" pairs instead
    options = NETCONVERT_OPTIONS + spec.options
    pairs = zip(options[::2], options[1::2])
    return " ".join(f"{name.lstrip('-')}={value}" for name, value in pairs)


def _fixed_header(spec: NetSpec, version: str) -> str:
    lines = [
        f"<!-- Built by networks/build.py with Eclipse SUMO netconvert {version}; do not edit, rebuild.",
        f"    nodes: {' '.join(spec.nodes)}",
        f"    edges: {' '.join(spec.edges)}",
        f"    connections: {' '.join(spec.connections)}",
        f"    tllogics: {' '.join(spec.tllogics)}",
        f"    options: {_options_for_comment(spec)}",
        "-->",
    ]
    return "\n".join(lines)


def _make_reproducible(text: str, spec: NetSpec) -> str:
    match = _GENERATED_HEADER.search(text)
    if match is None:
        raise RuntimeError(f"{spec.output}: netconvert header comment not found; update networks/build.py")
    version = _VERSION.search(match.group(0))
    header = _fixed_header(spec, version.group(1) if version else "unknown")
    return text[: match.start()] + header + text[match.end():]


def build_one(spec: NetSpec, out_dir: Path) -> Path:
    """Build one network into ``out_dir`` (keeping its sub-folder) and return its path."""
    from signalopt._sumo import sumo_home

    target = Path(out_dir) / spec.output
    target.parent.mkdir(parents=True, exist_ok=True)
    # SUMO_HOME of the wheel, so that netconvert validates against its own XSDs (no web lookups)
    env = dict(os.environ, SUMO_HOME=str(sumo_home()))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "net.xml"
        proc = subprocess.run(
            _netconvert_command(spec, raw),
            cwd=NETWORKS_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"netconvert failed for {spec.output}:\n{proc.stdout}{proc.stderr}")
        messages = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        if messages:  # a clean build prints nothing to stderr; warnings are treated as errors
            raise RuntimeError(f"netconvert reported problems for {spec.output}:\n" + "\n".join(messages))
        text = raw.read_text(encoding="utf-8")
    target.write_text(_make_reproducible(text, spec), encoding="utf-8", newline="\n")
    return target


def build(out_dir: Path) -> list[Path]:
    """Build every network into ``out_dir`` (same layout as ``networks/``); return the paths."""
    return [build_one(spec, Path(out_dir)) for spec in NETWORKS]


def check() -> list[str]:
    """Rebuild into a temporary folder; return the committed nets that differ (empty = up to date)."""
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        return [
            spec.output
            for spec in NETWORKS
            if not (NETWORKS_DIR / spec.output).exists()
            or not filecmp.cmp(Path(tmp) / spec.output, NETWORKS_DIR / spec.output, shallow=False)
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=NETWORKS_DIR, help="where to write (default: networks/)")
    parser.add_argument("--check", action="store_true", help="only verify that the committed nets are up to date")
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        for name in stale:
            print(f"out of date: networks/{name}")
        return 1 if stale else 0
    for path in build(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    # allow `python networks/build.py` from a checkout without installing signalopt
    sys.path.insert(0, str(NETWORKS_DIR.parent))
    sys.exit(main())
