"""Turn a scenario into what a simulation needs: net, route files, approaches.

Route generation (SUMO's routeSampler) runs once per scenario digest and is
cached under ``$SIGNALOPT_CACHE`` (default ``~/.cache/signalopt``); files are
written atomically, so a crash never leaves a half-written cache entry.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import _sumo
from ._xml import atomic_write_text
from .demand import (PedCount, TurnCount, check_counts, read_ped_counts, read_turn_counts, sample_routes,
                     write_candidate_routes, write_pedestrian_flows, write_turn_file)
from .errors import InputError
from .network import Approach, Network, read_network, with_additional_programmes
from .plan import PlanSet
from .programs import existing_plans, running_control
from .scenario import Scenario
from .formats.planfile import read_plans
from .schedule import read_schedule


@dataclass(frozen=True)
class Prepared:
    """Everything a worker needs to simulate a scenario (picklable, no SUMO objects)."""

    scenario: str
    digest: str
    network_path: str
    route_files: tuple[str, ...]
    additional_files: tuple[str, ...]
    approaches: tuple[Approach, ...]
    signal_ids: tuple[str, ...]
    begin_s: float
    end_s: float
    warmup_s: float


def prepared_network(prepared: Prepared) -> Network:
    """The network of ``prepared``, read once per process (file changes read it again).

    A worker process gets a :class:`Prepared` without the network (it would travel with every task); the
    few programmes built from a signal's links and approaches (SUMO's NEMA controller for coordinated
    actuated plans) read it here.
    """
    stat = os.stat(prepared.network_path)
    return _read_network_once(prepared.network_path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_network_once(path: str, _mtime_ns: int, _size: int) -> Network:
    return read_network(path)


def cache_dir() -> Path:
    root = os.environ.get("SIGNALOPT_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "signalopt"


def load_network(scenario: Scenario) -> Network:
    """The scenario's network, with the programmes its additional files load (SUMO runs the last one)."""
    return with_additional_programmes(read_network(scenario.network_path), scenario.additional_files)


def scenario_plans(scenario: Scenario, network: Network | None = None) -> tuple[PlanSet, list[str]]:
    """The scenario's existing plans: its plan file if it names one, else the network's programmes."""
    network = network or load_network(scenario)
    if scenario.plans_path is not None:
        plans = read_plans(scenario.plans_path, network=network)
        return PlanSet(plans.plans, name="existing"), []
    return existing_plans(network, scenario.timing, signal_ids=scenario.signal_ids)


def existing_controller(scenario: Scenario) -> str:
    """How the existing timing runs: ``"network"`` (the network's own programmes, as SUMO runs them,
    actuated and NEMA ones included) or ``"static"`` (the scenario's plan file, fixed time)."""
    return "static" if scenario.plans_path is not None else "network"


def street_control(scenario: Scenario, network: Network, signal_ids: Sequence[str]) -> tuple[str, str]:
    """The kind of control the street runs at ``signal_ids`` (``fixed``, ``actuated``, ``coordinated``), and why:
    the network's programmes' (:func:`~signalopt.programs.running_control`), fixed time where the existing timing
    is the scenario's plan file or schedule."""
    if scenario.plans_path is not None or scenario.schedule_path is not None:
        return "fixed", "the existing timing is a fixed-time plan file: retiming its cycle, splits and offsets"
    return running_control(network, signal_ids)


def scenario_schedule(scenario: Scenario, network: Network | None = None):  # noqa: ANN201 - Schedule | None
    """The scenario's existing time-of-day schedule, or None when it runs one plan set."""
    if scenario.schedule_path is None:
        return None
    return read_schedule(scenario.schedule_path, network=network or load_network(scenario),
                         window=(scenario.begin_s, scenario.end_s))


def _window(scenario: Scenario) -> dict[str, float]:
    return {"begin_s": scenario.begin_s, "end_s": scenario.end_s, "interval_s": scenario.interval_s}


def scenario_counts(scenario: Scenario) -> list[TurnCount]:
    """The scenario's turning-movement counts, every row checked against its window, grid and ceiling.

    Every reader of a scenario's counts goes through here: an absurd count would
    otherwise keep routeSampler busy for ever, or skew Webster's flow ratios.
    """
    if scenario.counts_path is None:
        raise InputError(scenario.path, "the scenario has no turning-movement counts ([demand] counts)",
                         scenario.name)
    return read_turn_counts(scenario.counts_path, **_window(scenario))


def scenario_ped_counts(scenario: Scenario) -> list[PedCount]:
    """The scenario's pedestrian counts (none without a file), checked as :func:`scenario_counts`."""
    if scenario.pedestrians_path is None:
        return []
    return read_ped_counts(scenario.pedestrians_path, **_window(scenario))


def scenario_cache(scenario: Scenario) -> Path:
    """The cache folder of one scenario version (keyed by its digest)."""
    folder = cache_dir() / f"{scenario.name}-{scenario.digest}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sampled_routes(scenario: Scenario, network: Network, counts: list | None = None, *, flows: bool = True) -> Path:
    """The scenario's counts as routeSampler routes, built once and cached.

    ``flows=True``: Poisson flows (what simulations run); ``flows=False``:
    individual vehicles (what SUMO's tlsCycleAdaptation.py reads).
    """
    folder = scenario_cache(scenario)
    out = folder / ("vehicles.rou.xml" if flows else "vehicles_individual.rou.xml")
    if not out.exists():
        counts = counts if counts is not None else scenario_counts(scenario)
        turns = write_turn_file(network, counts, folder / "turns.xml", source=scenario.counts_path,
                                interval_s=scenario.interval_s)
        cands = write_candidate_routes(scenario.network_path, folder / "candidates.rou.xml")
        tmp = folder / f".{out.stem}.{os.getpid()}.rou.xml"
        sample_routes(scenario.network_path, turns, cands, tmp, seed=scenario.route_seed,
                      begin_s=scenario.begin_s, end_s=scenario.end_s, flows=flows)
        os.replace(tmp, out)
    return out


def check_additional_files(scenario: Scenario) -> None:
    """Load the scenario's additional files into SUMO once, without simulating, before any run.

    A detector on a lane the network does not have would otherwise fail every
    simulation, with SUMO's reason lost among worker processes.

    Raises
    ------
    InputError
        SUMO refuses them (its first error line, naming the element).
    """
    cmd = [str(_sumo.binary("sumo")), "-n", str(scenario.network_path),
           "-a", ",".join(str(a) for a in scenario.additional_files), "--begin", f"{scenario.begin_s:g}",
           "--end", f"{scenario.begin_s:g}", "--no-step-log", "--xml-validation", "never"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise InputError(scenario.path, "SUMO refuses the additional files", _sumo.failure_reason(proc))


def prepare(scenario: Scenario, network: Network | None = None) -> Prepared:
    """Build (or reuse from the cache) the route files of ``scenario``."""
    network = network or load_network(scenario)
    routes: list[Path] = list(scenario.route_files)
    if scenario.counts_path is not None:
        counts = read_turn_counts(scenario.counts_path)  # check_counts checks the window too, with the network
        check_counts(network, counts, source=scenario.counts_path, **_window(scenario))
        peds = scenario_ped_counts(scenario)
        folder = scenario_cache(scenario)
        vehicles = sampled_routes(scenario, network, counts)
        routes.append(vehicles)
        if peds:
            routes.append(write_pedestrian_flows(network, peds, folder / "pedestrians.rou.xml",
                                                 source=scenario.pedestrians_path, interval_s=scenario.interval_s))
    if scenario.additional_files:
        check_additional_files(scenario)
    signal_ids = scenario.signal_ids or network.signal_ids
    approaches = tuple(a for a in network.approaches if a.signal_id in signal_ids)
    return Prepared(scenario.name, scenario.digest, str(scenario.network_path), tuple(str(r) for r in routes),
                    tuple(str(a) for a in scenario.additional_files), approaches, tuple(signal_ids),
                    scenario.begin_s, scenario.end_s, scenario.warmup_s)


def window_scenario(scenario: Scenario, *, begin_s: float, end_s: float, folder: str | Path,
                    warmup_s: float | None = None) -> Scenario:
    """The scenario over a shorter window of its day (e.g. an event's peak, to optimise a pattern for it).

    The count rows inside the window are copied, as written, into ``folder`` (``counts.csv``,
    ``pedestrians.csv``), since a scenario's counts must lie inside its window.

    Raises
    ------
    InputError
        A window outside the scenario's or no longer than its warm-up, or a scenario without counts.
    """
    warm = scenario.warmup_s if warmup_s is None else float(warmup_s)
    if not (scenario.begin_s - 1e-6 <= begin_s and end_s <= scenario.end_s + 1e-6 and end_s - begin_s > warm >= 0):
        raise InputError(scenario.path, "a window must lie inside the scenario and outlast its warm-up",
                         f"{begin_s:g}-{end_s:g} s with {warm:g} s warm-up in "
                         f"{scenario.begin_s:g}-{scenario.end_s:g} s")
    if scenario.counts_path is None:
        raise InputError(scenario.path, "a window of a scenario needs its counts ([demand] counts)", None)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, path, rows in (("counts_path", scenario.counts_path, read_turn_counts(scenario.counts_path)),
                            ("pedestrians_path", scenario.pedestrians_path,
                             read_ped_counts(scenario.pedestrians_path) if scenario.pedestrians_path else [])):
        if path is None:
            continue
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        keep = {r.line for r in rows if begin_s - 1e-6 <= r.begin_s < end_s - 1e-6}
        text = "\n".join([lines[0], *(lines[n - 1] for n in sorted(keep))]) + "\n"
        paths[key] = atomic_write_text(folder / Path(path).name, text)
    return replace(scenario, name=f"{scenario.name}-{int(begin_s)}-{int(end_s)}", begin_s=float(begin_s),
                   end_s=float(end_s), warmup_s=warm, **paths,
                   digest=f"{scenario.digest}-{int(begin_s)}-{int(end_s)}-{int(warm)}")
