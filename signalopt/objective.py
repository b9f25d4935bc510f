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


#: Delay-equivalent of one stop [s] in the Performance Index: TRANSYT's PI is delay + K x stops with the stop
#: weighting K stated by the engineer [Robertson1969]_; 20 s per stop is the value signalopt states by default
#: (pass ``delay=1,stops=K`` for your own).
STOP_PENALTY_S = 20.0
#: Penalty [objective units] for a plan whose queues fill their storage in every cycle on every approach (in
#: proportion for fewer): a spillback is a failure, so its penalty dwarfs the differences in delay that the
#: search trades (about 10 s/veh per 1% of approach-cycles spilled).
SPILLBACK_PENALTY = 1000.0
#: Named objectives and the weights they stand for.
NAMED_OBJECTIVES: dict[str, dict[str, float]] = {
    "queue": {"queue": 1.0},
    "delay": {"delay": 1.0},
    "pi": {"delay": 1.0, "stops": STOP_PENALTY_S, "spillback": SPILLBACK_PENALTY},
}
_TERMS = ("queue", "delay", "stops", "spillback", "ped_delay")


def objective_value(objective: Objective, metrics: Metrics) -> float:
    """Score of ``metrics`` (lower is better), the mean over its runs.

    Terms, per run: ``queue`` -- mean over approaches of the mean per-cycle max queue [m], plus
    :data:`NOT_INSERTED_QUEUE_M` per vehicle not inserted, spread over the approaches; ``delay`` -- mean
    delay per vehicle [s], insertion waits included; ``stops`` -- stops per vehicle [-]; ``spillback`` --
    the share of approach-cycles whose queue filled the approach [-] (a queue-storage constraint as a
    penalty); ``ped_delay`` -- mean pedestrian wait [s] (``RunMetrics.ped_wait_s``; 0 without
    pedestrians).  ``"queue"`` and ``"delay"`` are those terms alone; ``"pi"`` is TRANSYT's Performance Index,
    delay + :data:`STOP_PENALTY_S` x stops, with the storage constraint (:data:`SPILLBACK_PENALTY`); a
    mapping such as ``{"delay": 1, "stops": 20}`` weighs the terms as given (1 m of queue weighs like 1 s of
    delay at equal weights); a callable is your own score.

    References
    ----------
    .. [Robertson1969] D. I. Robertson, "TRANSYT: a traffic network study tool", Road Research
       Laboratory Report LR 253, Crowthorne, 1969.
    """
    if callable(objective):
        return float(objective(metrics))
    weights = _weights(objective)
    total = 0.0
    for run in metrics.runs:
        n_app = max(1, len(run.approaches))
        terms = {"queue": run.mean_max_queue_m + NOT_INSERTED_QUEUE_M * run.not_inserted / n_app,
                 "delay": run.delay_s, "stops": run.stops_per_veh, "spillback": run.spillback_share,
                 "ped_delay": run.ped_wait_s}
        total += sum(w * terms[k] for k, w in weights.items())
    return total / len(metrics.runs)


def _weights(objective: str | Mapping[str, float]) -> dict[str, float]:
    if isinstance(objective, str):
        if objective not in NAMED_OBJECTIVES:
            raise InputError("--objective", f"objective must be {', '.join(NAMED_OBJECTIVES)} or a weighting of "
                                            f"{', '.join(_TERMS)}", objective)
        return dict(NAMED_OBJECTIVES[objective])
    weights = dict(objective)
    unknown = set(weights) - set(_TERMS)
    if unknown:
        raise InputError("--objective", f"objective must be {', '.join(NAMED_OBJECTIVES)} or a weighting of "
                                        f"{', '.join(_TERMS)}", ", ".join(sorted(unknown)))
    bad = {k: w for k, w in weights.items() if not (math.isfinite(w) and w >= 0)}
    if bad or not any(weights.values()):
        # a negative weight rewards longer queues; all zero makes every plan equally good
        raise InputError("--objective", "weights must be finite, non-negative and not all zero",
                         ", ".join(f"{k}={w:g}" for k, w in (bad or weights).items()))
    return weights


def objective_name(objective: Objective) -> str:
    """How an objective reads in notes: its name, its weights (``delay=1,stops=20``) or ``custom``."""
    if isinstance(objective, str):
        return objective
    if callable(objective):
        return "custom"
    return ",".join(f"{k}={w:g}" for k, w in objective.items())


def parse_objective(text: str) -> Objective:
    """``queue``, ``delay``, ``pi`` or weights such as ``delay=1,stops=20,spillback=1000``."""
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
