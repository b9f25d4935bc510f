"""signalopt: traffic signal-timing optimisation in SUMO.

The public API is listed in ``__all__``; names load on first use, so
``import signalopt`` neither starts SUMO nor needs it installed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "read_scenario": "scenario", "Scenario": "scenario", "TimingOptions": "options",
    "read_network": "network", "Network": "network",
    "simulate": "evaluator", "SumoEvaluator": "evaluator", "Evaluator": "evaluator",
    "AnalyticEvaluator": "analytic", "webster_plans": "analytic",
    "optimise": "optimiser", "OptimiseResult": "optimiser", "objective_value": "objective",
    "optimise_front": "pareto", "FrontResult": "pareto",
    "compare": "comparison", "Comparison": "comparison", "Candidate": "baselines",
    "run_job": "job", "Session": "session",
    "Study": "study", "Trial": "study",
    "segment_day": "segment",
    "validate_plans": "safety", "check_plans": "safety",
    "export_plans": "export",
    "read_plans": "formats.planfile", "write_plans": "formats.planfile",
    "Phase": "plan", "TimingPlan": "plan", "PlanSet": "plan",
    "Metrics": "metrics", "RunMetrics": "metrics", "ApproachMetrics": "metrics",
    "SignaloptError": "errors", "InputError": "errors", "PlanError": "errors", "UnsafePlanError": "errors",
    "SimulationError": "errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'signalopt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
