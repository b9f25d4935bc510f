"""Metrics records: one per simulation run, and their aggregate over seeds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


def mean_ci95(values: Sequence[float], *, lower: float | None = None) -> tuple[float, float, float]:
    """Mean and the two-sided 95% Student-t confidence interval of the mean.

    With one value the interval is that value (no spread can be estimated).  ``lower``: the least value the
    quantity can take (0 for a delay, a queue or a count); the interval is cut there, since a symmetric
    t-interval of a skewed non-negative measure can reach below it.
    """
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan, math.nan
    m = float(arr.mean())
    if arr.size < 2:
        return m, m, m
    from scipy import stats

    half = float(stats.t.ppf(0.975, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size))
    return m, m - half if lower is None else max(lower, m - half), m + half


@dataclass(frozen=True)
class ApproachMetrics:
    """Queue figures of one approach (lane group) in one run.

    ``*_max_queue_*`` statistics are over the per-cycle maximum queue of the
    approach in the cycles after warm-up.  ``storage_m`` is the length its detectors cover (the approach and
    the piece upstream of a turn bay); ``spillback_cycles`` counts the cycles whose queue filled it (the
    queue reached back past the approach: onto the junction upstream, or out of the network).
    """

    approach: str
    label: str
    signal_id: str
    mean_max_queue_m: float
    p95_max_queue_m: float
    max_queue_m: float
    mean_max_queue_veh: float
    p95_max_queue_veh: float
    max_queue_veh: float
    n_cycles: int
    storage_m: float = 0.0
    spillback_cycles: int = 0


@dataclass(frozen=True)
class PeriodMetrics:
    """Queue and delay of one reporting period within a run (e.g. a control period of the day)."""

    name: str
    begin_s: float
    end_s: float
    mean_max_queue_m: float
    delay_s: float
    n_vehicles: int


@dataclass(frozen=True)
class RunMetrics:
    """Figures of one simulation run (one plan set, one seed).

    ``delay_s`` is the mean time loss per vehicle including the time waited
    for insertion; vehicles still waiting at the end count with the time they
    have waited so far (``not_inserted`` of them).
    """

    seed: int
    delay_s: float
    mean_max_queue_m: float
    p95_max_queue_m: float
    max_queue_m: float
    not_inserted: int
    throughput_veh: int
    n_vehicles: int
    stops_per_veh: float
    ped_wait_s: float
    n_pedestrians: int
    teleports: int
    approaches: tuple[ApproachMetrics, ...]
    sim_time_s: float = 0.0
    status: str = "ok"
    periods: tuple[PeriodMetrics, ...] = ()
    queue_profile_m: tuple[float, ...] = ()
    profile_step_s: float = 0.0
    profile_start_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def spillback_share(self) -> float:
        """Share of approach-cycles after warm-up whose queue filled the approach's storage [-]."""
        cycles = sum(a.n_cycles for a in self.approaches)
        return sum(a.spillback_cycles for a in self.approaches) / cycles if cycles else 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunMetrics:
        data = dict(data)
        data["approaches"] = tuple(ApproachMetrics(**a) for a in data.get("approaches", ()))
        data["periods"] = tuple(PeriodMetrics(**p) for p in data.get("periods", ()))
        data["queue_profile_m"] = tuple(data.get("queue_profile_m", ()))
        return cls(**data)


_SCALARS = ("delay_s", "mean_max_queue_m", "p95_max_queue_m", "max_queue_m", "not_inserted", "throughput_veh",
            "stops_per_veh", "ped_wait_s")


@dataclass(frozen=True)
class Metrics:
    """Runs of one plan set on several seeds, with means and 95% CIs."""

    scenario: str
    plans: str
    controller: str
    runs: tuple[RunMetrics, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(r.seed for r in self.runs)

    def values(self, name: str) -> list[float]:
        return [float(getattr(r, name)) for r in self.runs]

    def mean(self, name: str) -> float:
        return mean_ci95(self.values(name))[0]

    def ci95(self, name: str) -> tuple[float, float]:
        _, lo, hi = mean_ci95(self.values(name), lower=0.0)
        return lo, hi

    @property
    def delay_s(self) -> float:
        return self.mean("delay_s")

    @property
    def mean_max_queue_m(self) -> float:
        return self.mean("mean_max_queue_m")

    @property
    def not_inserted(self) -> float:
        return self.mean("not_inserted")

    def approach_table(self) -> list[dict[str, Any]]:
        """Per-approach figures averaged over seeds, with 95% CIs of the mean per-cycle max queue."""
        rows: dict[str, list[ApproachMetrics]] = {}
        for r in self.runs:
            for a in r.approaches:
                rows.setdefault(a.approach, []).append(a)
        out = []
        for aid, items in rows.items():
            m, lo, hi = mean_ci95([a.mean_max_queue_m for a in items], lower=0.0)
            out.append({
                "approach": aid, "label": items[0].label, "signal_id": items[0].signal_id,
                "mean_max_queue_m": m, "mean_max_queue_m_ci95": [lo, hi],
                "p95_max_queue_m": float(np.mean([a.p95_max_queue_m for a in items])),
                "max_queue_m": float(np.max([a.max_queue_m for a in items])),
                "mean_max_queue_veh": float(np.mean([a.mean_max_queue_veh for a in items])),
            })
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scenario": self.scenario, "plans": self.plans, "controller": self.controller,
                               "seeds": list(self.seeds)}
        for name in _SCALARS:
            m, lo, hi = mean_ci95(self.values(name), lower=0.0)
            out[name] = m
            out[f"{name}_ci95"] = [lo, hi]
        out["approaches"] = self.approach_table()
        out["runs"] = [r.to_dict() for r in self.runs]
        out.update(self.extra)
        return out

    def to_frame(self):  # noqa: ANN201 - pandas is imported lazily
        """One row per run (seed) with the scalar figures."""
        import pandas as pd

        return pd.DataFrame([{"seed": r.seed, **{k: getattr(r, k) for k in _SCALARS}} for r in self.runs])
