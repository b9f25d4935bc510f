"""Simulate plan sets on seeds exactly once each: memory cache, journal, one executor batch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ._sumo_run import Task
from .journal import Journal, entry_key
from .metrics import RunMetrics
from .plan import PlanSet


class PlanRunner:
    """Runs (plan set, seed) pairs through an evaluator, never twice.

    A pair already in memory or in the journal is replayed; the rest go to the
    evaluator's executor in one batch, each journalled as soon as it finishes.
    Evaluators without simulations (e.g. the analytic one) are called directly
    and not journalled.
    """

    def __init__(self, evaluator: Any, seeds: Sequence[int], journal: Journal | None = None) -> None:
        self.evaluator = evaluator
        self.seeds = tuple(int(s) for s in seeds)
        self.journal = journal
        #: every (plan, seed) of a finished ``run``, simulated or replayed from the journal
        self.cache: dict[str, tuple[RunMetrics | None, str | None]] = {}
        self.n_run = 0
        #: per plan set of the last ``run``: its (plan, seed) pairs new to this runner -- simulated now or
        #: replayed from the journal, not repeats of an earlier plan set (those cost no simulation)
        self.last_new: list[int] = []

    def new_counts(self, plan_sets: Sequence[PlanSet]) -> list[int]:
        """Per plan set: the (plan, seed) pairs ``run`` would find new (see ``last_new``), without running."""
        return self._keys(plan_sets)[1]

    def _keys(self, plan_sets: Sequence[PlanSet]) -> tuple[dict[tuple[int, int], str], list[int]]:
        keys: dict[tuple[int, int], str] = {}
        counts = [0] * len(plan_sets)
        new: set[str] = set()
        for i, ps in enumerate(plan_sets):
            payload = json.dumps(ps.to_dict()["plans"], sort_keys=True)
            for j, seed in enumerate(self.seeds):
                key = keys[(i, j)] = entry_key(payload, seed)
                if key not in self.cache and key not in new:
                    new.add(key)
                    counts[i] += 1
        return keys, counts

    def run(self, plan_sets: Sequence[PlanSet], xs: Sequence[Sequence[float]] | None = None
            ) -> list[list[tuple[RunMetrics | None, str | None]]]:
        """Per plan set, per seed: (run metrics or None, error or None)."""
        xs = list(xs) if xs is not None else [[] for _ in plan_sets]
        out: list[list[tuple[RunMetrics | None, str | None]]] = [[(None, None)] * len(self.seeds)
                                                                  for _ in plan_sets]
        keys, last_new = self._keys(plan_sets)
        todo: list[tuple[int, int]] = []
        replayed: dict[str, tuple[RunMetrics | None, str | None]] = {}
        for i in range(len(plan_sets)):
            for j in range(len(self.seeds)):
                key = keys[(i, j)]
                if key in self.cache:
                    out[i][j] = self.cache[key]
                    continue
                hit = self.journal.get(key) if self.journal is not None else None
                if hit is not None:
                    out[i][j] = replayed[key] = (hit.run, hit.error)
                else:
                    todo.append((i, j))
        unique: dict[str, tuple[int, int]] = {}
        for ij in todo:  # one simulation per (plan, seed) even if the batch repeats a plan
            unique.setdefault(keys[ij], ij)
        order = list(unique.values())
        if order:
            done: dict[str, tuple[RunMetrics | None, str | None]] = {}
            if hasattr(self.evaluator, "run_tasks"):
                tasks = [Task(self.evaluator.prepared, self.seeds[j], plan_sets[i], self.evaluator.controller)
                         for i, j in order]

                def record(k: int, outcome: Any) -> None:
                    i, j = order[k]
                    if self.journal is not None:
                        self.journal.append(keys[(i, j)], xs[i], self.seeds[j], outcome.value, outcome.error)

                outcomes = self.evaluator.run_tasks(tasks, on_result=record)
                done = {keys[ij]: (o.value, o.error) for ij, o in zip(order, outcomes)}
            else:
                for i, j in order:
                    m = self.evaluator.evaluate(plan_sets[i], [self.seeds[j]])
                    done[keys[(i, j)]] = (m.runs[0], None)
            self.n_run += len(order)
            self.cache.update(done)
            for i, j in todo:
                out[i][j] = done[keys[(i, j)]]
        # cached only once the batch is done: a batch cut short (interrupt) counts its plans when they run
        self.cache.update(replayed)
        self.last_new = last_new
        return out
