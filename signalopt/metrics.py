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


def vc_ratio(volume_veh_h: float, capacity_veh_h: float) -> float:
    """Volume/capacity ratio X [-]: infinite for a lane group that has traffic and is never green."""
    if capacity_veh_h > 0:
        return volume_veh_h / capacity_veh_h
    return math.inf if volume_veh_h > 0 else 0.0


def _weighted_share(pairs: Sequence[tuple[float | None, float]]) -> float | None:
    """Mean of shares weighted by volumes, over the ``(share, volume)`` pairs that have a share (None if none)."""
    known = [(share, w) for share, w in pairs if share is not None]
    total = sum(w for _, w in known)
    return sum(share * w for share, w in known) / total if total > 0 else None


@dataclass(frozen=True)
class MovementMetrics:
    """Measures of one lane group (movement) in one detailed run (:mod:`signalopt.movements`).

    ``control_delay_s`` is the time lost per vehicle on the group's lanes [s/veh]; ``volume_veh_h`` the
    vehicles that crossed its stop bar per hour; ``capacity_veh_h`` its saturation flow times its measured
    green share g/C (HCM's effective green, which with its default lost times equals the displayed green);
    ``arrivals_on_green`` the share of arrivals, projected from the advance detector to the stop bar, that
    found the group green (None without arrivals); ``split_failures`` the greens, of ``n_cycles``, with FHWA's
    green and first-5-s red occupancy ratios both at least 0.8 (:mod:`signalopt.atspm`); ``p95_queue_m`` the
    95th percentile of the per-cycle back of queue on the group's lanes, against their ``storage_m``.
    """

    group: str
    label: str
    signal_id: str
    movement: str
    volume_veh_h: float
    capacity_veh_h: float
    control_delay_s: float
    arrivals_on_green: float | None
    green_share: float
    n_cycles: int
    split_failures: int
    p95_queue_m: float = 0.0
    storage_m: float = 0.0

    @property
    def vc_ratio(self) -> float:
        """Volume/capacity ratio X [-] (:func:`vc_ratio`)."""
        return vc_ratio(self.volume_veh_h, self.capacity_veh_h)


@dataclass(frozen=True)
class CrossingMetrics:
    """A signalised crossing in one detailed run: the share of time its walk signal showed, and the mean wait
    of pedestrians arriving at random for the walk signal as the signal ran (HCM's pedestrian delay,
    :func:`signalopt.atspm.random_arrival_wait_s`) [s/ped]."""

    crossing: str
    label: str
    signal_id: str
    walk_share: float
    ped_delay_s: float


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
    movements: tuple[MovementMetrics, ...] = ()
    crossings: tuple[CrossingMetrics, ...] = ()
    #: traffic-responsive runs: (time [s], smoothed section index [-], pattern) at each computation instant
    patterns: tuple[tuple[float, float, int], ...] = ()

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
        data["movements"] = tuple(MovementMetrics(**m) for m in data.get("movements", ()))
        data["crossings"] = tuple(CrossingMetrics(**c) for c in data.get("crossings", ()))
        data["queue_profile_m"] = tuple(data.get("queue_profile_m", ()))
        data["patterns"] = tuple((float(t), float(x), int(k)) for t, x, k in data.get("patterns", ()))
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

    def movement_table(self) -> list[dict[str, Any]]:
        """Per lane group (movement), its measures over the seeds of detailed runs (empty without them).

        Means over seeds, with the 95% CI of the control delay; arrivals on green weighted by the arrivals
        (None without any), split failures as a share of all the seeds' cycles; v/c None for a group with
        traffic that is never green; ``los`` is HCM's level of service of the mean
        control delay and v/c (:func:`signalopt.atspm.level_of_service`).
        """
        from .atspm import level_of_service

        rows: dict[str, list[MovementMetrics]] = {}
        for r in self.runs:
            for m in r.movements:
                rows.setdefault(m.group, []).append(m)
        out = []
        for gid, items in rows.items():
            d, lo, hi = mean_ci95([m.control_delay_s for m in items], lower=0.0)
            volume = float(np.mean([m.volume_veh_h for m in items]))
            capacity = float(np.mean([m.capacity_veh_h for m in items]))
            x = vc_ratio(volume, capacity)
            cycles = sum(m.n_cycles for m in items)
            out.append({
                "group": gid, "label": items[0].label, "signal_id": items[0].signal_id,
                "movement": items[0].movement, "volume_veh_h": volume, "capacity_veh_h": capacity,
                "vc_ratio": None if math.isinf(x) else x,  # None in JSON: traffic that is never green
                "control_delay_s": d, "control_delay_s_ci95": [lo, hi], "los": level_of_service(d, x),
                "arrivals_on_green": _weighted_share([(m.arrivals_on_green, m.volume_veh_h) for m in items]),
                "green_share": float(np.mean([m.green_share for m in items])),
                "split_failure_share": sum(m.split_failures for m in items) / cycles if cycles else 0.0,
                "p95_queue_m": float(np.mean([m.p95_queue_m for m in items])),
                "storage_m": items[0].storage_m,
            })
        return out

    def crossing_table(self) -> list[dict[str, Any]]:
        """Per signalised crossing: walk share and pedestrian delay, means over the seeds, with HCM's
        pedestrian level of service (empty without detailed runs)."""
        from .atspm import pedestrian_level_of_service

        rows: dict[str, list[CrossingMetrics]] = {}
        for r in self.runs:
            for c in r.crossings:
                rows.setdefault(c.crossing, []).append(c)
        out = []
        for cid, items in rows.items():
            d = float(np.mean([c.ped_delay_s for c in items]))
            out.append({"crossing": cid, "label": items[0].label, "signal_id": items[0].signal_id,
                        "walk_share": float(np.mean([c.walk_share for c in items])), "ped_delay_s": d,
                        "los": pedestrian_level_of_service(d)})
        return out

    def intersection_table(self) -> list[dict[str, Any]]:
        """Per signal: control delay weighted by the movements' volumes, its LOS (HCM: the intersection's
        delay), the highest v/c, arrivals on green and split failures over all its movements."""
        from .atspm import level_of_service

        by_signal: dict[str, list[dict[str, Any]]] = {}
        for row in self.movement_table():
            by_signal.setdefault(row["signal_id"], []).append(row)
        out = []
        for sid, rows in by_signal.items():
            volume = sum(r["volume_veh_h"] for r in rows)
            delay = sum(r["control_delay_s"] * r["volume_veh_h"] for r in rows) / volume if volume else 0.0
            out.append({
                "signal_id": sid, "volume_veh_h": volume, "control_delay_s": delay,
                "los": level_of_service(delay),
                "max_vc_ratio": (None if any(r["vc_ratio"] is None for r in rows)
                                 else max(r["vc_ratio"] for r in rows)),
                "arrivals_on_green": _weighted_share([(r["arrivals_on_green"], r["volume_veh_h"]) for r in rows]),
                "split_failure_share": float(np.mean([r["split_failure_share"] for r in rows
                                                      if r["volume_veh_h"] > 0] or [0.0])),
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
        if any(r.movements for r in self.runs):
            out["movements"] = self.movement_table()
            out["intersections"] = self.intersection_table()
        if any(r.crossings for r in self.runs):
            out["crossings"] = self.crossing_table()
        out["runs"] = [r.to_dict() for r in self.runs]
        out.update(self.extra)
        return out

    def to_frame(self):  # noqa: ANN201 - pandas is imported lazily
        """One row per run (seed) with the scalar figures."""
        import pandas as pd

        return pd.DataFrame([{"seed": r.seed, **{k: getattr(r, k) for k in _SCALARS}} for r in self.runs])
