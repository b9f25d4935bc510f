"""Scenarios: a TOML file naming a network, its demand, the time window and options.

Two shapes are accepted (``schema_version = 1``)::

    # any SUMO network: every traffic light is a signal, its programme the existing plan
    schema_version = 1
    name = "my_net"
    sumocfg = "path/to/x.sumocfg"       # paths are relative to the scenario file
    begin_s = 0; end_s = 3600; warmup_s = 300

    # counts-driven (the bundled scenarios)
    schema_version = 1
    name = "qixiangtai_summer_am"
    network = "../networks/qixiangtai/qixiangtai_shared.net.xml"
    begin_s = 25200; end_s = 30600; warmup_s = 900
    [demand]
    counts = "data/summer_am_counts.csv"      # 15-min turning-movement counts
    pedestrians = "data/summer_am_peds.csv"   # optional

Optional: ``plans = "file.json"`` (existing plans instead of the network's
programmes), ``schedule = "file.json"`` (an existing time-of-day schedule),
``[variants] name = "other.net.xml"`` (lane-use variants of the network, same
link indices), ``[timing]`` minimums and bounds, ``[optimise] seeds``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._xml import check_file, check_schema_version, parse_xml
from .errors import InputError, PlanError
from ._clock import sumo_time_s
from .options import TimingOptions
from .network import read_network

SCHEMA_VERSION = 1
_TOP_KEYS = {"schema_version", "name", "description", "sumocfg", "network", "plans", "schedule", "variants",
             "begin_s", "end_s", "warmup_s", "demand", "timing", "signals", "optimise"}
_DEMAND_KEYS = {"counts", "pedestrians", "interval_s", "route_seed"}
_TIMING_KEYS = {"min_green_s", "min_green_left_s", "max_green_s", "walk_s", "walking_speed_m_s",
                "min_cycle_s", "max_cycle_s", "vehicle_length_m", "deceleration_m_s2", "perception_reaction_s",
                "yellow_s", "all_red_s"}
_OPTIMISE_KEYS = {"seeds"}
#: Longest run a scenario may ask for [s]: a week of traffic; beyond that a typo (``end_s = 1e12``) would keep
#: route sampling and SUMO busy for ever.
MAX_RUN_S = 7 * 86400.0
#: Largest seed SUMO takes (its --seed is a 32-bit signed integer).
MAX_SEED = 2**31 - 1
#: A scenario's name and its variants' names become parts of cache and output folder names (and of the
#: period scenarios ``tod`` writes, ``<name>-<variant>-<begin_s>``): letters, digits, ``_ . -`` only.
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")
_VARIANT = re.compile(r"[A-Za-z0-9_.-]{1,40}")
#: Longest name a scenario file may carry: a name, a variant and a begin time [s] joined by ``-``.
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,130}")
@dataclass(frozen=True)
class Scenario:
    """A loaded, checked scenario; build it with :func:`read_scenario`."""

    name: str
    path: Path
    network_path: Path
    begin_s: float
    end_s: float
    warmup_s: float
    route_files: tuple[Path, ...] = ()
    additional_files: tuple[Path, ...] = ()
    counts_path: Path | None = None
    pedestrians_path: Path | None = None
    interval_s: float = 900.0
    route_seed: int = 42
    plans_path: Path | None = None
    schedule_path: Path | None = None
    variants: tuple[tuple[str, Path], ...] = ()
    signal_ids: tuple[str, ...] = ()
    timing: TimingOptions = field(default_factory=TimingOptions)
    optimise_seeds: tuple[int, ...] = (1, 2, 3)
    description: str = ""
    digest: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.begin_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": str(self.path), "network": str(self.network_path),
            "begin_s": self.begin_s, "end_s": self.end_s, "warmup_s": self.warmup_s,
            "digest": self.digest,
        }


def _num(source: Path, key: str, value: Any, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(source, f"{key} must be a number", repr(value))
    if isinstance(value, int) and abs(value) > 2**53:  # beyond exact floats; math.isfinite overflows on 10**400
        raise InputError(source, f"{key} must be a finite number", f"{str(value)[:20]}...")
    if not math.isfinite(value):  # TOML has nan and inf
        raise InputError(source, f"{key} must be a finite number", value)
    if minimum is not None and value < minimum:
        raise InputError(source, f"{key} must be >= {minimum:g}", value)
    return float(value)


def _path(source: Path, key: str, value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise InputError(source, f"{key} must be a path string", repr(value))
    p = (source.parent / value).resolve()
    if not p.exists():
        raise InputError(source, f"{key} points to a missing file", value)
    if not p.is_file():
        raise InputError(source, f"{key} points to a folder, not a file", value)
    return p


def _check_keys(source: Path, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(source, f"unknown key in {where}", ", ".join(unknown))


def _digest(paths: list[Path], extra: Mapping[str, Any]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def read_scenario(path: str | Path) -> Scenario:
    """Load and check a scenario TOML file.

    Parameters
    ----------
    path
        The ``.toml`` file; paths inside it are relative to it.

    Raises
    ------
    InputError
        Missing file, TOML syntax error, unknown key, wrong type, missing
        referenced file, inconsistent times -- naming the file and the value.
    """
    source = check_file(Path(path), "scenario file")
    try:
        data = tomllib.loads(source.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(source, "scenario file is not UTF-8 text", f"byte {exc.start}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(source, "invalid TOML", str(exc)) from None
    _check_keys(source, data, _TOP_KEYS, "scenario")
    check_schema_version(source, data, SCHEMA_VERSION)
    name = data.get("name")
    if not isinstance(name, str) or not _FILE_NAME.fullmatch(name) or (
            not _NAME.fullmatch(name) and not re.fullmatch(r".+-\d+", name)):
        # the name is part of folder names: no separators, no line breaks; longer only as a tod period's
        raise InputError(source, "name must be 1-80 letters, digits, '_', '.' or '-'", repr(name))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InputError(source, "description must be a string", repr(description))

    route_files: list[Path] = []
    additional: list[Path] = []
    cfg_times: dict[str, float] = {}
    if ("sumocfg" in data) == ("network" in data):
        raise InputError(source, "give exactly one of sumocfg or network", sorted(k for k in ("sumocfg", "network") if k in data))
    if "sumocfg" in data:
        cfg = _path(source, "sumocfg", data["sumocfg"])
        net, route_files, additional, cfg_times = _read_sumocfg(cfg)
    else:
        net = _path(source, "network", data["network"])

    begin = _num(source, "begin_s", data.get("begin_s", cfg_times.get("begin", 0.0)), minimum=0)
    if begin > MAX_RUN_S:
        raise InputError(source, f"begin_s must be within the first week ({MAX_RUN_S:g} s)", begin)
    end = _num(source, "end_s", data.get("end_s", cfg_times.get("end", begin + 3600.0)))
    warmup = _num(source, "warmup_s", data.get("warmup_s", 0.0), minimum=0)
    if end <= begin:
        raise InputError(source, f"end_s must be after begin_s ({begin:g})", end)
    if end - begin > MAX_RUN_S:
        raise InputError(source, f"end_s makes a run longer than a week ({MAX_RUN_S:g} s) after begin_s", end)
    if warmup >= end - begin:
        raise InputError(source, f"warmup_s must be shorter than the run ({end - begin:g} s)", warmup)

    demand = data.get("demand", {})
    if not isinstance(demand, dict):
        raise InputError(source, "demand must be a table", repr(demand))
    _check_keys(source, demand, _DEMAND_KEYS, "[demand]")
    counts = _path(source, "demand.counts", demand["counts"]) if "counts" in demand else None
    peds = _path(source, "demand.pedestrians", demand["pedestrians"]) if "pedestrians" in demand else None
    if counts is None and not route_files:
        raise InputError(source, "no demand: give [demand] counts or a sumocfg with route-files", name)
    interval = _num(source, "demand.interval_s", demand.get("interval_s", 900), minimum=1)
    route_seed = demand.get("route_seed", 42)
    if type(route_seed) is not int or route_seed < 0:  # noqa: E721 - a bool is an int too
        raise InputError(source, "demand.route_seed must be a non-negative integer", repr(route_seed))

    timing_table = data.get("timing", {})
    if not isinstance(timing_table, dict):
        raise InputError(source, "timing must be a table", repr(timing_table))
    _check_keys(source, timing_table, _TIMING_KEYS, "[timing]")
    try:
        timing = TimingOptions(**{k: _num(source, f"timing.{k}", v) for k, v in timing_table.items()})
    except PlanError as exc:
        raise InputError(source, str(exc), None) from None

    optimise = data.get("optimise", {})
    if not isinstance(optimise, dict):
        raise InputError(source, "optimise must be a table", repr(optimise))
    _check_keys(source, optimise, _OPTIMISE_KEYS, "[optimise]")
    seeds = optimise.get("seeds", [1, 2, 3])
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_SEED for s in seeds):
        raise InputError(source, f"optimise.seeds must be a list of integers from 0 to {MAX_SEED}", repr(seeds))
    if len(set(seeds)) < len(seeds):
        # a repeated seed is the same simulation again: it would narrow a confidence interval for nothing
        raise InputError(source, "optimise.seeds repeats a seed", repr(seeds))

    signals = data.get("signals", [])
    if not isinstance(signals, list) or not all(isinstance(s, str) for s in signals):
        raise InputError(source, "signals must be a list of signal ids", repr(signals))
    if len(set(signals)) < len(signals):
        raise InputError(source, "signals names a signal twice", repr(signals))
    plans = _path(source, "plans", data["plans"]) if "plans" in data else None
    schedule = _path(source, "schedule", data["schedule"]) if "schedule" in data else None
    if plans is not None and schedule is not None:
        raise InputError(source, "give plans or schedule as the existing timing, not both", "plans, schedule")
    variants_table = data.get("variants", {})
    if not isinstance(variants_table, dict):
        raise InputError(source, "variants must be a table of name = network path", repr(variants_table))
    for key in variants_table:
        if not _VARIANT.fullmatch(key) or key == "default":
            raise InputError(source, "variant names must be 1-40 letters, digits, '_', '.' or '-' (not 'default')",
                             repr(key))
    variants = tuple((str(k), _path(source, f"variants.{k}", v)) for k, v in variants_table.items())
    for key, vpath in variants:
        if not vpath.name.endswith(".net.xml") or parse_xml(vpath).tag != "net":
            raise InputError(source, f"variants.{key} must be a SUMO network (.net.xml with a <net> root)",
                             vpath.name)

    files = [p for p in [net, counts, peds, plans, schedule, *route_files, *additional] if p is not None]
    digest = _digest([source, *files], {"begin": begin, "end": end})
    scenario = Scenario(
        name=name, path=source.resolve(), network_path=net, begin_s=begin, end_s=end, warmup_s=warmup,
        route_files=tuple(route_files), additional_files=tuple(additional), counts_path=counts,
        pedestrians_path=peds, interval_s=interval, route_seed=route_seed, plans_path=plans,
        schedule_path=schedule, variants=variants,
        signal_ids=tuple(signals), timing=timing, optimise_seeds=tuple(seeds),
        description=description, digest=digest,
    )
    if signals:
        net_obj = read_network(net)
        for sid in signals:
            net_obj.signal(sid, source=source)
    return scenario


def variant_scenario(scenario: Scenario, name: str) -> Scenario:
    """The scenario on one of its lane-use variant networks (same demand and timing)."""

    if name in ("", "default"):
        return scenario
    for vname, path in scenario.variants:
        if vname == name:
            return replace(scenario, name=f"{scenario.name}-{vname}", network_path=path,
                           digest=_digest([path], {"base": scenario.digest, "variant": vname}))
    raise InputError(scenario.path, "no such lane-use variant", f"{name}; has {', '.join(v for v, _ in scenario.variants)}")


def _read_sumocfg(cfg: Path) -> tuple[Path, list[Path], list[Path], dict[str, float]]:
    root = parse_xml(cfg)

    def values(tag: str) -> list[str]:
        out = []
        for el in root.iter(tag):
            v = el.get("value")
            if v:
                out.extend(x for x in v.replace(",", " ").split() if x)
        return out

    nets = values("net-file")
    if len(nets) != 1:
        raise InputError(cfg, "sumocfg must name exactly one net-file", nets or None)

    def resolve(name: str, what: str) -> Path:
        p = (cfg.parent / name).resolve()
        if not p.exists():
            raise InputError(cfg, f"{what} points to a missing file", name)
        return p

    times = {}
    for key in ("begin", "end"):
        v = values(key)
        if v:
            try:
                times[key] = sumo_time_s(v[0])
            except ValueError:
                raise InputError(cfg, f"{key} is not a SUMO time (seconds, H:MM:SS or D:HH:MM:SS)", v[0]) from None
    return (resolve(nets[0], "net-file"), [resolve(r, "route-files") for r in values("route-files")],
            [resolve(a, "additional-files") for a in values("additional-files")], times)
