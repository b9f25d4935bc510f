"""Objectives: the score an optimisation minimises, from a plan set's simulated metrics."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from .errors import InputError
from .metrics import Metrics

#: Queue-equivalent of one vehicle that could not enter [m]: a plan must not
#: look good by keeping cars out of the network.
NOT_INSERTED_QUEUE_M = 7.5

Objective = str | Mapping[str, float] | Callable[[Metrics], float]


def objective_value(objective: Objective, metrics: Metrics) -> float:
    """Score of ``metrics`` (lower is better).

    ``"queue"``: mean over approaches of the mean per-cycle max queue [m],
    plus 7.5 m per vehicle not inserted, spread over the approaches;
    ``"delay"``: mean delay per vehicle [s] (insertion waits included);
    a mapping ``{"queue": wq, "delay": wd}``: the weighted sum (1 m of queue
    weighs like 1 s of delay at equal weights); a callable: your own score.
    """
    if callable(objective):
        return float(objective(metrics))
    weights = _weights(objective)
    total = 0.0
    for run in metrics.runs:
        n_app = max(1, len(run.approaches))
        q = run.mean_max_queue_m + NOT_INSERTED_QUEUE_M * run.not_inserted / n_app
        total += weights.get("queue", 0.0) * q + weights.get("delay", 0.0) * run.delay_s
    return total / len(metrics.runs)


def _weights(objective: str | Mapping[str, float]) -> dict[str, float]:
    weights = {objective: 1.0} if isinstance(objective, str) else dict(objective)
    unknown = set(weights) - {"queue", "delay"}
    if unknown:
        raise InputError("--objective", "objective must be queue, delay or a weighting of them",
                         ", ".join(sorted(unknown)))
    bad = {k: w for k, w in weights.items() if not (math.isfinite(w) and w >= 0)}
    if bad or not any(weights.values()):
        # a negative weight rewards longer queues; all zero makes every plan equally good
        raise InputError("--objective", "weights must be finite, non-negative and not all zero",
                         ", ".join(f"{k}={w:g}" for k, w in (bad or weights).items()))
    return weights


def parse_objective(text: str) -> Objective:
    """``queue``, ``delay`` or ``queue=0.5,delay=0.5``."""
    if "=" not in text:
        _weights(text)  # validates the name
        return text
    weights = {}
    for part in text.split(","):
        k, _, v = part.partition("=")
        try:
            weights[k.strip()] = float(v)
        except ValueError:
            raise InputError("--objective", "weights must be numbers", part) from None
    _weights(weights)
    return weights
