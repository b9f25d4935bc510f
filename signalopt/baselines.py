"""Baselines the optimised plans are compared with.

* ``existing``: the timing the network runs today, as it runs (its own
  programmes, actuated and NEMA ones included, or the scenario's plan file);
* ``existing-safe``: the existing plans with every stage raised to its
  minimums (yellow and all-red by ITE or the fixed standard, vehicle and
  pedestrian minimum green), the cycle kept where the greens above their minimums can pay for it --
  shown beside ``existing`` when it differs, so that what safety costs and
  what retiming gains are seen apart; where the street runs actuated or NEMA
  control, the safe stages run in SUMO's actuated controller (minimum to
  the programme's maximum green), as the existing control made safe;
* ``webster``: pedestrian-safe Webster plans from the counts (analytic);
* ``sumo-webster``: SUMO's own ``tlsCycleAdaptation.py`` run on the
  scenario's demand (as SUMO users would retime), read back as plans;
* ``actuated``, ``delay_based``: SUMO's adaptive programmes over the existing
  stages (minimum to maximum green, SUMO's own detectors);
* ``max_pressure``: max-pressure control over the existing stages, through libsumo.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import _sumo
from ._xml import parse_xml
from .errors import InputError, SimulationError
from .network import Network
from .plan import PlanSet
from .prepare import existing_controller, sampled_routes, scenario_cache, scenario_counts, street_control
from .programs import plan_from_program, safe_phase
from .responsive import ResponsivePlans
from .scenario import Scenario
from .options import TimingOptions
from .schedule import transition_plan
from .analytic import webster_plans

BASELINES = ("existing", "webster", "sumo-webster", "actuated", "delay_based", "max_pressure")


@dataclass(frozen=True)
class Candidate:
    """Something to compare: plans run under a controller, or a traffic-responsive section (``responsive``;
    its first pattern is then ``plans`` and the controller ``"responsive"``)."""

    name: str
    plans: PlanSet
    controller: str = "static"
    responsive: ResponsivePlans | None = None


def responsive_candidate(name: str, section: ResponsivePlans) -> Candidate:
    """A comparison row that runs a traffic-responsive section."""
    return Candidate(name, section.patterns[0], "responsive", section)


def existing_candidate(scenario: Scenario, existing: PlanSet) -> Candidate:
    """The existing timing as it runs: the network's own programmes, or the scenario's plan file."""
    return Candidate("existing", existing, existing_controller(scenario))


def made_safe(existing: PlanSet, network: Network, timing: TimingOptions) -> tuple[PlanSet, list[str]]:
    """The existing plans with every stage raised to its minimums, and a note per change (see module docstring).

    Offsets are kept (modulo a longer cycle where the minimums need one).

    Raises
    ------
    InputError
        A stage whose foes cannot be resolved (see :func:`~signalopt.programs.safe_phase`).
    """
    plans, notes = [], []
    for plan in existing:
        signal = network.signal(plan.signal_id)
        n = len(plan.phases)
        phases = []
        for i, ph in enumerate(plan.phases):
            try:
                safe, why = safe_phase(signal, ph, plan.phases[(i + 1) % n].state, timing)
            except InputError as exc:
                raise InputError(network.path, exc.what, exc.value) from None
            phases.append(safe)
            notes += why
        raised = replace(plan, phases=tuple(phases), offset_s=0.0)
        if raised == replace(plan, offset_s=0.0):
            plans.append(plan)
            continue
        min_cycle = sum(p.effective_min_green_s + p.yellow_s + p.all_red_s for p in phases)
        cycle = math.ceil(max(plan.cycle_s, min_cycle) - 1e-9)
        if cycle > plan.cycle_s + 1e-6:
            notes.append(f"{plan.signal_id}: cycle {plan.cycle_s:g} s raised to {cycle:g} s for the minimums")
        fitted = transition_plan(raised, cycle)
        plans.append(replace(fitted, offset_s=plan.offset_s % fitted.cycle_s, program_id=plan.program_id))
    return PlanSet(tuple(plans), name="existing-safe"), notes


def check_baselines(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` without repeats, each one of :data:`BASELINES`, or :class:`InputError` naming the unknown ones."""
    names = tuple(dict.fromkeys(names))
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise InputError("--baselines", f"unknown baseline, choose from {', '.join(BASELINES)}", ", ".join(unknown))
    return names


def parse_baselines(text: str) -> tuple[str, ...]:
    """``--baselines existing,webster`` -> checked names (at least one)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError("--baselines", "name at least one baseline", repr(text))
    return check_baselines(names)


def webster_baseline(scenario: Scenario, network: Network, existing: PlanSet) -> PlanSet:
    """Pedestrian-safe Webster plans from the scenario's counts."""
    if scenario.counts_path is None:
        raise InputError(scenario.path, "the webster baseline needs turning-movement counts ([demand] counts)",
                         scenario.name)
    plans = webster_plans(network, existing, scenario_counts(scenario), scenario.timing,
                          begin_s=scenario.begin_s, end_s=scenario.end_s, interval_s=scenario.interval_s,
                          source=scenario.counts_path)
    return PlanSet(plans.plans, name="webster")


def _vehicle_routes(scenario: Scenario, network: Network) -> list[Path]:
    """Individual vehicles for tlsCycleAdaptation (it does not read flows)."""
    if scenario.counts_path is None:
        return list(scenario.route_files)
    return [sampled_routes(scenario, network, flows=False)]


def sumo_webster_baseline(scenario: Scenario, network: Network, existing: PlanSet, *,
                          work_dir: Path | None = None) -> PlanSet:
    """Plans from SUMO's ``tlsCycleAdaptation.py`` (Webster on the simulated demand).

    It runs with the scenario's cycle bounds and minimum green, the busiest
    hour from ``begin_s + warmup_s``, and yellow 4 s / all-red 2 s per cycle
    (the tool's own model).  The result keeps the existing offsets.
    """
    folder = work_dir or scenario_cache(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "sumo_webster.add.xml"
    routes = _vehicle_routes(scenario, network)
    cmd = [_sumo.python(), str(_sumo.tool("tlsCycleAdaptation.py")), "-n", str(scenario.network_path),
           "-r", ",".join(str(r) for r in routes), "-o", str(out), "-b", f"{scenario.begin_s + scenario.warmup_s:g}",
           "--min-cycle", f"{scenario.timing.min_cycle_s:g}", "--max-cycle", f"{scenario.timing.max_cycle_s:g}",
           "-g", f"{scenario.timing.min_green_s:g}", "-p", "sumo-webster"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_sumo.tool_env(), timeout=600)
    if proc.returncode != 0 or not out.exists():
        raise SimulationError(f"tlsCycleAdaptation.py failed: {_sumo.failure_reason(proc)}")
    plans = []
    found = {}
    for el in parse_xml(out).iter("tlLogic"):
        found[el.get("id")] = tuple((float(p.get("duration")), p.get("state")) for p in el.iter("phase"))
    if not set(found) & set(existing.signal_ids):
        # a baseline identical to the existing plans would pass for a result
        raise SimulationError(f"tlsCycleAdaptation.py wrote no programme for any of the {len(existing)} signals "
                              f"({out.name}); the sumo-webster baseline cannot run on this scenario")
    for plan in existing:
        phases = found.get(plan.signal_id)
        if not phases:
            plans.append(plan)  # the tool skips signals without flow: they keep their plan
            continue
        new, _ = plan_from_program(network.signal(plan.signal_id), phases, offset_s=0.0, timing=scenario.timing,
                                   program_id="sumo-webster")
        offset = plan.offset_s % new.cycle_s
        plans.append(type(new)(new.signal_id, new.phases, offset_s=offset, ped_links=new.ped_links,
                               program_id="sumo-webster"))
    return PlanSet(tuple(plans), name="sumo-webster")


def applicable_baselines(scenario: Scenario, names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The named baselines that can run on ``scenario``, and a reason for each that cannot.

    Checked before any simulation: ``webster`` needs turning-movement counts,
    ``sumo-webster`` counts or route files with vehicles.
    """
    keep, skipped = [], []
    for name in names:
        if name == "webster" and scenario.counts_path is None:
            skipped.append("webster skipped: it needs turning-movement counts ([demand] counts)")
        elif name == "sumo-webster" and scenario.counts_path is None and not scenario.route_files:
            skipped.append("sumo-webster skipped: it needs counts or route files")
        else:
            keep.append(name)
    return tuple(keep), tuple(skipped)


def baseline_candidates(scenario: Scenario, network: Network, existing: PlanSet,
                        names: tuple[str, ...]) -> list[Candidate]:
    """Candidates for the named baselines (adaptive ones drive the existing stages)."""
    out = []
    names = check_baselines(names)
    for name in names:
        if name == "existing":
            out.append(existing_candidate(scenario, existing))
            safe, _ = made_safe(existing, network, scenario.timing)
            if safe.plans != existing.plans:
                # the same control made safe: an actuated street's stages run actuated, not fixed at their maxima
                actuated = street_control(scenario, network, existing.signal_ids)[0] != "fixed"
                out.append(Candidate("existing-safe", safe, "actuated" if actuated else "static"))
        elif name == "webster":
            out.append(Candidate("webster", webster_baseline(scenario, network, existing)))
        elif name == "sumo-webster":
            out.append(Candidate("sumo-webster", sumo_webster_baseline(scenario, network, existing)))
        elif name in ("actuated", "delay_based", "max_pressure"):
            out.append(Candidate(name, PlanSet(existing.plans, name=name), controller=name))
    return out
