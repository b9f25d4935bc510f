"""Compare plan sets and baselines on held-out seeds: means, medians, 95% CIs, paired differences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._sumo_run import Task
from .analytic import lane_groups
from .movements import crossings
from .baselines import Candidate, applicable_baselines, baseline_candidates, check_baselines
from .errors import InputError
from .evaluator import SumoEvaluator
from .executors import Executor
from ._text import format_table, pct_with_ci, with_ci
from .metrics import Metrics, mean_ci95
from .plan import PlanSet
from .scenario import Scenario
from .session import Session, scenario_of

#: Default comparison seeds: disjoint from the optimiser's default seeds (1, 2, 3).
DEFAULT_COMPARE_SEEDS = tuple(range(101, 111))

#: The measures an engineer judges a timing plan by, all lower-is-better, with their names and units: a
#: candidate worse than the existing timing on any of them, beyond the 95% CI of the paired difference, is
#: flagged in every table, note and report.
HEADLINE_MEASURES = {"delay_s": ("delay", "s/veh"), "mean_max_queue_m": ("mean max queue", "m"),
                     "p95_max_queue_m": ("95th-percentile queue", "m"), "stops_per_veh": ("stops", "per veh"),
                     "ped_wait_s": ("pedestrian wait", "s"), "not_inserted": ("vehicles not inserted", "veh")}


#: The measures a retiming must not make worse, on the optimiser's seeds, to be recommended over the existing
#: timing, and the margin [% of the existing timing's mean] within which a change counts as level (three seeds
#: cannot resolve less).
RECOMMEND_MEASURES = ("delay_s", "p95_max_queue_m")
RECOMMEND_MARGIN_PCT = 1.0


def recommendation(retimed: Metrics, existing: Metrics, *, name: str = "optimised") -> tuple[bool, str]:
    """Whether the retimed plans are recommended over the existing timing, decided on the seeds they were
    optimised on (the held-out seeds then only measure the choice), and the sentence that says so.

    They are recommended unless their mean delay or 95th-percentile queue is more than
    :data:`RECOMMEND_MARGIN_PCT` above the existing timing's (as it runs: actuated and NEMA programmes too).
    """
    worse = []
    for key in RECOMMEND_MEASURES:
        ref = existing.mean(key)
        change = 100.0 * (retimed.mean(key) - ref) / ref if ref > 0 else 0.0
        if change > RECOMMEND_MARGIN_PCT:
            worse.append(f"{HEADLINE_MEASURES[key][0]} {change:+.0f}%")
    seeds = ",".join(map(str, retimed.seeds))
    if worse:
        return False, (f"Recommendation: keep the existing timing. On the optimiser's seeds ({seeds}) the {name} "
                       f"plans were worse on {', '.join(worse)}; they are reported, not recommended.")
    return True, (f"Recommendation: the {name} plans, no worse than the existing timing on delay and the "
                  f"95th-percentile queue on the optimiser's seeds ({seeds}).")


@dataclass(frozen=True)
class Worse:
    """A headline measure on which a candidate is worse than the existing timing beyond the CI: the mean
    paired difference candidate - existing and its 95% CI, in the measure's unit."""

    measure: str
    diff: float
    ci95: tuple[float, float]

    def text(self) -> str:
        name, unit = HEADLINE_MEASURES[self.measure]
        return f"{name} {self.diff:+.2f} {unit} [{self.ci95[0]:+.2f}, {self.ci95[1]:+.2f}]"


def approach_changes(metrics: Metrics, reference: Metrics) -> dict[str, tuple[float, float, float]]:
    """Per approach (by label): the paired change of its mean per-cycle max queue against ``reference``
    [% of the reference's mean, with the 95% CI]; approaches without a queue in either are left out."""
    def by_approach(m: Metrics) -> list[dict[str, float]]:
        return [{a.label: a.mean_max_queue_m for a in run.approaches} for run in m.runs]

    runs, refs = by_approach(metrics), by_approach(reference)
    out = {}
    for label in refs[0] if refs else ():
        values = [r.get(label, 0.0) for r in runs]
        base = [r.get(label, 0.0) for r in refs]
        if any(values) or any(base):
            out[label] = paired_pct(values, base)
    return out


def worse_measures(metrics: Metrics, reference: Metrics) -> tuple[Worse, ...]:
    """The headline measures on which ``metrics`` is worse than ``reference`` (the same seeds, in order):
    the 95% CI of the paired difference lies wholly above zero."""
    out = []
    for key in HEADLINE_MEASURES:
        m, lo, hi = mean_ci95([a - b for a, b in zip(metrics.values(key), reference.values(key))])
        if lo > 0:
            out.append(Worse(key, m, (lo, hi)))
    return tuple(out)


def paired_pct(values: Sequence[float], reference: Sequence[float]) -> tuple[float, float, float]:
    """Mean paired difference ``values - reference`` (the same seeds, in the same order) as % of the
    reference's mean, with its 95% CI: (mean, low, high) [%]."""
    ref = float(np.mean(reference))
    if ref == 0:
        return 0.0, 0.0, 0.0
    m, lo, hi = mean_ci95([a - b for a, b in zip(values, reference)])
    return 100 * m / ref, 100 * lo / ref, 100 * hi / ref


@dataclass(frozen=True)
class CompareRow:
    """One candidate's figures over the comparison seeds."""

    name: str
    controller: str
    metrics: Metrics
    delta_vs_existing_pct: float | None = None
    delta_vs_existing_pct_ci95: tuple[float, float] | None = None
    delay_delta_vs_existing_pct: float | None = None
    delay_delta_vs_existing_pct_ci95: tuple[float, float] | None = None
    worse: tuple[Worse, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        m = self.metrics
        d: dict[str, Any] = {"name": self.name, "controller": self.controller, "seeds": list(m.seeds)}
        for key in ("delay_s", "mean_max_queue_m", "p95_max_queue_m", "not_inserted", "throughput_veh",
                    "stops_per_veh", "ped_wait_s"):
            mean, lo, hi = mean_ci95(m.values(key), lower=0.0)
            d[key] = mean
            d[f"{key}_ci95"] = [lo, hi]
            d[f"{key}_median"] = float(np.median(m.values(key)))
        d["delta_vs_existing_pct"] = self.delta_vs_existing_pct
        d["delta_vs_existing_pct_ci95"] = list(self.delta_vs_existing_pct_ci95) if self.delta_vs_existing_pct_ci95 else None
        d["delay_delta_vs_existing_pct"] = self.delay_delta_vs_existing_pct
        d["delay_delta_vs_existing_pct_ci95"] = (list(self.delay_delta_vs_existing_pct_ci95)
                                                 if self.delay_delta_vs_existing_pct_ci95 else None)
        d["worse_than_existing"] = [{"measure": w.measure, "diff": w.diff, "diff_ci95": list(w.ci95)}
                                    for w in self.worse]
        d["approaches"] = m.approach_table()
        d["movements"] = m.movement_table()
        d["intersections"] = m.intersection_table()
        d["crossings"] = m.crossing_table()
        return d


@dataclass(frozen=True, repr=False)
class Comparison:
    """Rows of a comparison, existing first when present; ``print`` shows the table (:meth:`summary`)."""

    scenario: str
    seeds: tuple[int, ...]
    rows: tuple[CompareRow, ...]
    plans: dict[str, PlanSet] = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = ()

    def row(self, name: str) -> CompareRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rows]

    def table(self) -> str:
        """One line per candidate: mean max queue and delay with 95% CIs, their paired change against the
        existing timing, vehicles not inserted."""
        rows = [{"candidate": r["name"], "mean max queue m": with_ci(r, "mean_max_queue_m"),
                 "queue vs existing": pct_with_ci(r, "delta_vs_existing_pct"), "delay s/veh": with_ci(r, "delay_s"),
                 "delay vs existing": pct_with_ci(r, "delay_delta_vs_existing_pct"),
                 "not inserted": with_ci(r, "not_inserted"),
                 "worse than existing": ", ".join(HEADLINE_MEASURES[w["measure"]][0] for w in r["worse_than_existing"])
                 or "-"} for r in self.to_dict()]
        return format_table(rows, list(rows[0])) if rows else "(no candidates)"

    def headline(self, name: str = "optimised") -> str:
        """The result for candidate ``name`` in one sentence: its paired change in mean delay and in the
        95th-percentile queue against the existing timing (95% CIs), and the approaches whose queue gets
        worse beyond its CI, if any."""
        row, ref = self.row(name).metrics, self.row("existing").metrics

        def change(key: str, what: str) -> str:
            m, lo, hi = paired_pct(row.values(key), ref.values(key))
            ci = f"[{lo:+.0f}, {hi:+.0f}]"
            if hi < 0:
                return f"cut {what} by {-m:.0f}% {ci}"
            if lo > 0:
                return f"raised {what} by {m:.0f}% {ci}"
            return f"left {what} level ({m:+.0f}% {ci})"

        worse = [label for label, (_, lo, _) in approach_changes(row, ref).items() if lo > 0]
        approaches = (f"the queue gets longer on {len(worse)} approach{'es' if len(worse) > 1 else ''} "
                      f"({', '.join(worse)})" if worse else "no approach's queue gets longer")
        delay = change("delay_s", "the mean delay")
        queue = change("p95_max_queue_m", "the 95th-percentile queue")
        return (f"The {name} plans {delay} and {queue} against the existing timing (paired over "
                f"{len(self.seeds)} held-out seeds, 95% CI); {approaches}.")

    def summary(self) -> str:
        """The table under a line naming the scenario and the seeds, then the notes."""
        head = f"{self.scenario}: held-out seeds {','.join(map(str, self.seeds))} (means, 95% CI)"
        return "\n".join([head, self.table(), *(f"note: {n}" for n in self.notes)])

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<Comparison of {len(self.rows)} candidates>\n{self.summary()}"

    def to_frame(self):  # noqa: ANN201 - pandas imported lazily
        import pandas as pd

        cols = ["name", "delay_s", "delay_s_ci95", "mean_max_queue_m", "mean_max_queue_m_ci95", "not_inserted",
                "delta_vs_existing_pct", "delay_delta_vs_existing_pct"]
        return pd.DataFrame([{k: r[k] for k in cols} for r in self.to_dict()])


def check_compare_seeds(seeds: Sequence[int], optimiser_seeds: Sequence[int], *, source: str = "--seeds") -> None:
    """Refuse comparison seeds that are not held out, or too few for a confidence interval.

    Callers that optimise before comparing check first, so that bad seeds fail before any work.
    """
    overlap = sorted(set(seeds) & set(optimiser_seeds))
    if overlap:
        raise InputError(source, "comparison seeds overlap the optimiser's seeds; compare on held-out seeds",
                         ",".join(map(str, overlap)))
    if len(seeds) < 2:
        raise InputError(source, "a comparison needs at least 2 seeds for confidence intervals", len(seeds))


def _run_with_progress(ev: SumoEvaluator, tasks: Sequence[Task]) -> list:
    from tqdm import tqdm

    with tqdm(total=len(tasks), desc="comparing", unit="sim", leave=True, dynamic_ncols=True) as bar:
        return ev.run_tasks(tasks, on_result=lambda _k, _outcome: bar.update(1))


def compare(scenario: Scenario | str | Path | Session, plan_sets: Sequence[PlanSet | Candidate] = (), *,
            seeds: Sequence[int] = DEFAULT_COMPARE_SEEDS, baselines: Sequence[str] = ("existing",),
            optimiser_seeds: Sequence[int] | None = None, workers: int = 2,
            executor: Executor | None = None, progress: bool = False) -> Comparison:
    """Simulate candidates and baselines on held-out seeds and compare them.

    Parameters
    ----------
    scenario
        Scenario, its TOML path, or a :class:`~signalopt.session.Session` (nothing rebuilt).
    plan_sets
        Plan sets (run fixed-time) or :class:`Candidate` objects.
    seeds
        Comparison seeds; they must not overlap ``optimiser_seeds``.
    baselines
        Names from :data:`signalopt.baselines.BASELINES`.
    optimiser_seeds
        Seeds the plans were optimised on (default: the scenario's optimiser seeds).
    progress
        Show a progress bar of the simulations, with their rate and the time left as measured so far.

    Returns
    -------
    Comparison
        One row per candidate with means, medians and 95% CIs of delay and
        mean max queue, vehicles not inserted, and the paired difference
        against ``existing`` (always simulated as the reference); per movement and intersection, HCM's
        control delay, LOS and v/c, the 95th-percentile back of queue against storage, and FHWA's arrivals
        on green and split failures (the runs are detailed: :mod:`signalopt.movements`).
    """
    scen = scenario_of(scenario)
    seeds = tuple(int(s) for s in seeds)
    check_compare_seeds(seeds, scen.optimise_seeds if optimiser_seeds is None else optimiser_seeds)
    names, skipped = applicable_baselines(scen, check_baselines(("existing", *baselines)))
    notes = list(skipped)
    with SumoEvaluator(scenario if isinstance(scenario, Session) else scen, executor=executor,
                       workers=workers) as ev:
        existing = ev.existing_plans()
        candidates = baseline_candidates(scen, ev.network, existing, names)
        for ps in plan_sets:
            cand = ps if isinstance(ps, Candidate) else Candidate(ps.name, ps)
            full = existing.replace_plans(cand.plans.plans, name=cand.name)
            candidates.append(Candidate(cand.name, full, cand.controller, cand.responsive))
        taken = [c.name for c in candidates]
        dup = sorted({n for n in taken if taken.count(n) > 1})
        if dup:
            raise InputError("--plans", "two candidates share a name", ", ".join(dup))
        # held-out runs are detailed: every lane group's HCM and ATSPM measures for the tables
        groups = lane_groups(ev.network, ev.prepared.signal_ids)
        walks = crossings(ev.network, ev.prepared.signal_ids)
        tasks = [Task(ev.prepared, s, c.plans, c.controller, groups=groups, crossings=walks, responsive=c.responsive)
                 for c in candidates for s in seeds]
        outcomes = _run_with_progress(ev, tasks) if progress else ev.run_tasks(tasks)
        metrics = []
        for k, c in enumerate(candidates):
            chunk = outcomes[k * len(seeds):(k + 1) * len(seeds)]
            m = ev.collect(c.plans, chunk)
            metrics.append(Metrics(scen.name, c.name, c.controller, m.runs))
    ref = metrics[0]
    rows = []
    for c, m in zip(candidates, metrics):
        if c.name == "existing":
            rows.append(CompareRow(c.name, c.controller, m, 0.0, (0.0, 0.0), 0.0, (0.0, 0.0)))
            continue
        q, qlo, qhi = paired_pct(m.values("mean_max_queue_m"), ref.values("mean_max_queue_m"))
        d, dlo, dhi = paired_pct(m.values("delay_s"), ref.values("delay_s"))
        worse = worse_measures(m, ref)
        rows.append(CompareRow(c.name, c.controller, m, q, (qlo, qhi), d, (dlo, dhi), worse))
        if worse:
            notes.append(f"{c.name} is WORSE than the existing timing on {'; '.join(w.text() for w in worse)} "
                         f"(paired, 95% CI, seeds {seeds[0]}-{seeds[-1]}): not recommended as it is")
    return Comparison(scen.name, seeds, tuple(rows), {c.name: c.plans for c in candidates}, tuple(notes))
