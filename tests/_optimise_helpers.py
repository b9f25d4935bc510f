"""Small optimiser scenario for tests (isolated junction, 900 s), and a child-process runner.

Run as a script (``python tests/_optimise_helpers.py RUN_DIR SCENARIO RNG BUDGET``)
it calls :func:`signalopt.optimiser.optimise` with a journal in ``RUN_DIR``;
the resume test kills it with SIGKILL part-way through.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ISOLATED_NET = ROOT / "networks" / "isolated" / "isolated.net.xml"
QIXIANGTAI_NET = ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml"

#: vehicles per 15 min on each approach: left, through, right
VOLUMES = {"N": (40, 150, 30), "S": (35, 140, 30), "E": (25, 90, 20), "W": (30, 80, 20)}


def existing_score(scenario: Path, seeds: tuple[int, ...] = (1,), objective: str = "queue") -> float:
    """The objective of the existing plans as the optimiser's first start (its encoding makes them safe),
    simulated apart from any optimiser run."""
    from signalopt.encoding import make_encoding
    from signalopt.evaluator import simulate
    from signalopt.network import read_network
    from signalopt.objective import objective_value
    from signalopt.programs import existing_plans
    from signalopt.scenario import read_scenario

    scen = read_scenario(scenario)
    net = read_network(scen.network_path)
    base = existing_plans(net, scen.timing)[0]
    enc = make_encoding(net, base, scen.timing)
    return objective_value(objective, simulate(scenario, enc.decode(enc.encode(base)), seeds=seeds, workers=1))


def write_isolated_scenario(folder: Path, *, name: str = "iso_small", volumes: dict | None = None,
                            seeds: tuple[int, ...] = (1,)) -> Path:
    """A counts-driven scenario on the isolated junction: 0-900 s, warm-up 300 s."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["interval,intersection,approach,movement,vehicles"]
    for approach, (left, through, right) in (volumes or VOLUMES).items():
        for movement, n in (("L", left), ("T", through), ("R", right)):
            rows.append(f"00:00,center,{approach},{movement},{n}")
    counts = folder / "counts.csv"
    counts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    toml = folder / "scenario.toml"
    toml.write_text(
        "schema_version = 1\n"
        f'name = "{name}"\n'
        f'network = "{ISOLATED_NET.as_posix()}"\n'
        "begin_s = 0\nend_s = 900\nwarmup_s = 300\n"
        "[demand]\n"
        'counts = "counts.csv"\n'
        "[optimise]\n"
        f"seeds = [{', '.join(str(s) for s in seeds)}]\n",
        encoding="utf-8")
    return toml


def journal_lines(path: Path) -> list[dict]:
    """Complete lines of a journal (a line cut by a kill has no newline and is not counted)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].decode().splitlines()]


def kill_once_journalled(cmd: list[str], journal: Path, *, cwd: Path | None = None,
                         at_least: int = 3) -> tuple[int, str]:
    """Run ``cmd`` in its own session; SIGKILL its whole process group (it and its simulation
    processes die at once) as soon as ``journal`` holds ``at_least`` complete lines.

    Returns the return code and the tail of stderr.
    """
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and len(journal_lines(journal)) < at_least:
            time.sleep(0.01)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    finally:
        _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode()[-2000:]


def main(argv: list[str]) -> int:
    from signalopt.optimiser import optimise

    run_dir, scenario, rng, budget = argv[0], argv[1], int(argv[2]), int(argv[3])
    res = optimise(scenario, method="differential_evolution", budget=budget, rng=rng, workers=2, run_dir=run_dir,
                   seeds=(1,))
    print(res.fun, res.nfev)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
