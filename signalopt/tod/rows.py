"""What a time-of-day run reports: per period and schedule, queue and delay with CIs and paired differences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..comparison import HEADLINE_MEASURES, paired_pct, worse_measures
from ..metrics import Metrics, mean_ci95
from ..schedule import Schedule
from ..segment import Segmentation


@dataclass(frozen=True)
class DayRow:
    """Queue and delay of one schedule over one reporting period (or the whole day)."""

    variant: str
    schedule: str
    period: str
    begin_s: float
    end_s: float
    mean_max_queue_m: float
    mean_max_queue_m_ci95: tuple[float, float]
    delay_s: float
    delay_s_ci95: tuple[float, float]
    delta_vs_existing_pct: float | None = None
    delta_vs_existing_pct_ci95: tuple[float, float] | None = None
    delay_delta_vs_existing_pct: float | None = None
    delay_delta_vs_existing_pct_ci95: tuple[float, float] | None = None
    #: headline measures on which the schedule is worse than the existing one beyond the paired 95% CI (for a
    #: period: its queue and delay; for the day: every measure of :data:`~signalopt.comparison.HEADLINE_MEASURES`)
    worse: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TodResult:
    """What ``signalopt tod`` produced."""

    segmentation: Segmentation
    schedules: dict[str, Schedule]
    rows: tuple[DayRow, ...]
    metrics: dict[tuple[str, str], Metrics]
    out_dir: Path
    wall_s: float


def day_rows(variant: str, metrics: dict[str, Metrics], reference: Metrics) -> list[DayRow]:
    """Per schedule: one row per reporting period and one for the whole day, paired against ``reference``."""
    rows = []
    for name, m in metrics.items():
        bins = [(p.name, p.begin_s, p.end_s) for p in m.runs[0].periods]
        for k, (pname, b, e) in enumerate([*bins, ("day", bins[0][1] if bins else 0.0, bins[-1][2] if bins else 0.0)]):
            if pname == "day":
                q = [r.mean_max_queue_m for r in m.runs]
                d = [r.delay_s for r in m.runs]
                q_ref = [r.mean_max_queue_m for r in reference.runs]
                d_ref = [r.delay_s for r in reference.runs]
            else:
                q = [r.periods[k].mean_max_queue_m for r in m.runs]
                d = [r.periods[k].delay_s for r in m.runs]
                q_ref = [r.periods[k].mean_max_queue_m for r in reference.runs]
                d_ref = [r.periods[k].delay_s for r in reference.runs]
            qm, qlo, qhi = mean_ci95(q, lower=0.0)
            dm, dlo, dhi = mean_ci95(d, lower=0.0)
            dq, dqlo, dqhi = paired_pct(q, q_ref)
            dd, ddlo, ddhi = paired_pct(d, d_ref)
            if pname == "day":
                worse = tuple(HEADLINE_MEASURES[w.measure][0] for w in worse_measures(m, reference))
            else:
                worse = tuple(n for n, lo in (("mean max queue", dqlo), ("delay", ddlo)) if lo > 0)
            rows.append(DayRow(variant, name, pname, b, e, qm, (qlo, qhi), dm, (dlo, dhi), dq, (dqlo, dqhi), dd,
                               (ddlo, ddhi), worse))
    return rows


def lane_use_winners(rows: Sequence[DayRow]) -> list[tuple[str, str, float]]:
    """Per period: the lane-use variant whose retimed schedule has the shortest mean max queue."""
    best: dict[str, tuple[str, float]] = {}
    for r in rows:
        if r.schedule != "retimed":
            continue
        if r.period not in best or r.mean_max_queue_m < best[r.period][1]:
            best[r.period] = (r.variant, r.mean_max_queue_m)
    return [(p, v, q) for p, (v, q) in best.items()]
