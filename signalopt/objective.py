"""Objectives: the score an optimisation minimises, from a plan set's simulated metrics."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


#: Measures a guarded objective holds at the reference's level (:class:`NoWorseThan`): mean delay [s/veh] and
#: the 95th-percentile of the per-cycle max queue [m] -- the measures ``signalopt run`` recommends by.
GUARD_MEASURES = ("delay_s", "p95_max_queue_m")
#: Penalty of a guarded objective per unit of relative excess over the reference on a guarded measure, in units
#: of the reference's own score: 1% more delay than the reference costs as much as 10% of its objective, so
#: no plausible gain on the objective buys a worse delay or 95th-percentile queue.
GUARD_PENALTY = 10.0
#: Share by which a guarded plan must beat the reference on each guarded measure to pay nothing [-]: the
#: search picks its plans on the optimiser's seeds, and a plan exactly level there tends to come out a little
#: worse on seeds it never saw (on the corpus's arterial_allred the margin turned -0.8% delay / -2.0% queue on
#: held-out seeds into -3.5% / -9.8%).
GUARD_MARGIN = 0.02


@dataclass(frozen=True)
class NoWorseThan:
    """An objective that must not be bought with a worse delay or 95th-percentile queue than a reference.

    Scores ``objective`` plus, for each of ``measures`` on which a plan set's mean over the seeds exceeds
    ``(1 - margin)`` x the reference's, ``penalty`` x the reference's score x that relative excess.
    ``signalopt run`` guards its objective with the existing timing as it runs on the optimiser's seeds: a
    queue objective alone shortens cycles until the per-cycle queues look small while every driver waits longer
    (on the corpus's ``five_arm``: 15.7% less queue for 4.7% more delay on held-out seeds; level, guarded);
    guarded, the search may only spend what the reference leaves free.  Where
    nothing in the search space is as good as the reference on a measure (its clearances are shorter than
    the rule's, or it is actuated), the least excess wins and the recommendation keeps the existing timing.

    Parameters
    ----------
    objective
        The objective guarded: a name or a weighting (:func:`objective_value`).
    reference
        The reference's metrics, on the seeds every scored plan set runs on.
    measures
        :class:`~signalopt.metrics.Metrics` means held at the reference's level (:data:`GUARD_MEASURES`).
    penalty
        Cost of a unit of relative excess [reference scores] (:data:`GUARD_PENALTY`).
    margin
        Share by which a plan set must beat the reference to pay nothing [-] (:data:`GUARD_MARGIN`).
    """

    objective: str | Mapping[str, float]
    reference: Metrics
    measures: tuple[str, ...] = GUARD_MEASURES
    penalty: float = GUARD_PENALTY
    margin: float = GUARD_MARGIN

    def __post_init__(self) -> None:
        if callable(self.objective) or isinstance(self.objective, NoWorseThan):
            raise InputError("objective", "a guard holds a named or weighted objective", self.objective)
        _weights(self.objective)
        if not (math.isfinite(self.penalty) and self.penalty > 0):
            raise InputError("objective", "a guard's penalty must be finite and positive", self.penalty)
        if not 0 <= self.margin < 1:
            raise InputError("objective", "a guard's margin must lie in [0, 1)", self.margin)
        if not self.reference.runs:
            raise InputError("objective", "a guard's reference needs at least one run", self.reference.plans)
        unknown = [k for k in self.measures if not hasattr(self.reference.runs[0], k)]
        if unknown or not self.measures:  # fails here, not mid-search
            raise InputError("objective", "a guard holds run measures such as delay_s, p95_max_queue_m",
                             ", ".join(unknown) or "none")

    @property
    def reference_score(self) -> float:
        """The guarded objective's value for the reference."""
        return objective_value(self.objective, self.reference)

    def excess(self, metrics: Metrics) -> dict[str, float]:
        """Per guarded measure, ``metrics``' relative excess over ``(1 - margin)`` x the reference's [-], as a
        share of the reference's (0 where it is that much better)."""
        if sorted(metrics.seeds) != sorted(self.reference.seeds):
            raise InputError("objective", f"a guard compares plans on its reference's seeds "
                                          f"{list(self.reference.seeds)}", list(metrics.seeds))
        out = {}
        for key in self.measures:
            ref = self.reference.mean(key)
            out[key] = max(0.0, metrics.mean(key) / ref - 1.0 + self.margin) if ref > 0 else 0.0
        return out

    def __call__(self, metrics: Metrics) -> float:
        reference = self.reference_score
        scale = reference if reference > 0 else 1.0
        return objective_value(self.objective, metrics) + self.penalty * scale * sum(self.excess(metrics).values())


def base_objective(objective: Objective) -> Objective:
    """The objective a guard holds (``objective`` itself when unguarded): what a model that cannot reproduce the
    guard's reference (the analytic pre-search) minimises."""
    return objective.objective if isinstance(objective, NoWorseThan) else objective


def objective_name(objective: Objective) -> str:
    """How an objective reads in notes: its name, its weights (``delay=1,stops=20``), ``custom``, or a guarded
    one as ``queue, no worse than existing on delay_s, p95_max_queue_m``."""
    if isinstance(objective, NoWorseThan):
        return (f"{objective_name(objective.objective)}, no worse than {objective.reference.plans} on "
                f"{', '.join(objective.measures)}")
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
