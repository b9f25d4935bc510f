"""Plan encodings: every point of the optimiser's unit box is a feasible plan set.

Decision vector (all components in ``[0, 1]``):

* cycle: one component for the corridor (common cycle, so offsets coordinate)
  or one per signal (``per_signal_cycle=True``), mapped linearly onto the
  feasible cycle range (cycle bounds intersected with [sum of minimum splits,
  sum of maximum splits]);
* splits: per signal with ``n`` stages, ``n - 1`` stick-breaking components
  that share the green time above the minimums; shares that would exceed a
  maximum green are capped and the excess goes to the others (water-filling);
* offsets: one per signal but the first, as a fraction of its cycle, counted
  from the first signal's start (decoded with offset 0);
* lead/lag (``lead_lag=True``): one per left-turn stage followed by the
  through stage of the same approaches; ``>= 0.5`` serves the left turn after
  the through (lagging left), which changes the time difference between them.

Minimums come from :func:`signalopt.programs.safe_phase` for the
actual stage order, so yellow, all-red, vehicle and pedestrian minimums hold
for every decoded plan.  Durations are rounded to 0.1 s, cycles to 1 s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ._alloc import inverse_stick_breaking, round_preserving_sum, stick_breaking, water_fill
from .errors import InputError, PlanError
from .network import Network, Signal
from .plan import GREEN_CHARS, Phase, PlanSet, TimingPlan
from .programs import ceil_tenth, safe_phase
from .options import TimingOptions


@dataclass(frozen=True)
class _SignalTemplate:
    signal: Signal
    base: TimingPlan
    pairs: tuple[int, ...]  # stage indices i such that (i, i+1) may swap


def _vehicle_greens(signal: Signal, state: str) -> list:
    return [signal.links[k] for k, c in enumerate(state) if c in GREEN_CHARS and not signal.links[k].is_crossing]


def _is_left_stage(signal: Signal, phase: Phase) -> bool:
    links = [l for l in _vehicle_greens(signal, phase.state) if l.direction not in "rR"]
    return bool(links) and all(l.is_left for l in links)


def _swappable(signal: Signal, a: Phase, b: Phase) -> bool:
    """A left-only stage followed by a through stage on the same approaches."""
    if not _is_left_stage(signal, a) or _is_left_stage(signal, b):
        return False
    left_apps = {l.approach for l in _vehicle_greens(signal, a.state) if l.is_left}
    through_apps = {l.approach for l in _vehicle_greens(signal, b.state) if l.direction == "s"}
    return bool(left_apps) and left_apps <= through_apps


@dataclass(frozen=True)
class PlanEncoding:
    """Maps ``x`` in the unit box to a feasible :class:`PlanSet` and back.

    Build with :func:`make_encoding`.
    """

    templates: tuple[_SignalTemplate, ...]
    timing: TimingOptions
    per_signal_cycle: bool
    lead_lag: bool
    cycle_ranges: tuple[tuple[float, float], ...]  # one per cycle variable

    # layout -----------------------------------------------------------------
    @property
    def n_cycle(self) -> int:
        return len(self.templates) if self.per_signal_cycle else 1

    def _sizes(self) -> list[tuple[int, int, int]]:
        """(split vars, offset vars, lead/lag vars) per signal."""
        out = []
        for k, t in enumerate(self.templates):
            out.append((len(t.base.phases) - 1, 1 if k > 0 else 0, len(t.pairs) if self.lead_lag else 0))
        return out

    @property
    def size(self) -> int:
        return self.n_cycle + sum(a + b + c for a, b, c in self._sizes())

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(0.0, 1.0)] * self.size

    def labels(self) -> list[str]:
        out = ["cycle"] if not self.per_signal_cycle else [f"{t.base.signal_id}:cycle" for t in self.templates]
        for t, (ns, no, nl) in zip(self.templates, self._sizes()):
            sid = t.base.signal_id
            out += [f"{sid}:split{i + 1}" for i in range(ns)]
            out += [f"{sid}:offset"] * no
            out += [f"{sid}:lag{t.pairs[i] + 1}" for i in range(nl)]
        return out

    # decode -------------------------------------------------------------------
    def _order(self, t: _SignalTemplate, lag: Sequence[float]) -> list[int]:
        order = list(range(len(t.base.phases)))
        for flag, i in zip(lag, t.pairs):
            if flag >= 0.5:
                order[i], order[i + 1] = order[i + 1], order[i]
        return order

    def _phases_for(self, t: _SignalTemplate, order: list[int]) -> list[Phase]:
        """Stages in ``order`` with minimums recomputed for their new successors; greens at their minimum."""
        phases = [t.base.phases[i] for i in order]
        n = len(phases)
        out = []
        for k, p in enumerate(phases):
            nxt = phases[(k + 1) % n]
            if p.change and order[(k + 1) % n] != (order[k] + 1) % n:
                # the programmed interstage leads to the stage that followed in the base plan, not to this one
                p = replace(p, change=())
            safe, _ = safe_phase(t.signal, p, nxt.state, self.timing)
            out.append(replace(safe, green_s=ceil_tenth(safe.effective_min_green_s),
                               max_green_s=max(self.timing.max_green_s, ceil_tenth(safe.effective_min_green_s))))
        return out

    def decode(self, x: Sequence[float], *, name: str = "candidate") -> PlanSet:
        """A feasible plan set for any ``x`` in the unit box (values outside are clipped)."""
        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        if x.shape != (self.size,):
            raise PlanError(f"decision vector has {x.size} components, the encoding {self.size}")
        pos = self.n_cycle
        cycles = []
        for (lo, hi), c in zip(self.cycle_ranges, x[:self.n_cycle]):
            cycles.append(float(np.clip(round(lo + c * (hi - lo)), math.ceil(lo - 1e-9), math.floor(hi + 1e-9))))
        plans = []
        for k, (t, (ns, no, nl)) in enumerate(zip(self.templates, self._sizes())):
            split_x = x[pos:pos + ns]
            pos += ns
            off_x = x[pos:pos + no]
            pos += no
            lag_x = x[pos:pos + nl]
            pos += nl
            order = self._order(t, lag_x)
            phases = self._phases_for(t, order)
            cycle = cycles[k if self.per_signal_cycle else 0]
            mins = np.array([p.green_s for p in phases])  # effective minimum greens
            fixed = sum(p.yellow_s + p.all_red_s for p in phases)
            caps = np.array([p.max_green_s for p in phases]) - mins
            slack = cycle - fixed - mins.sum()
            shares = stick_breaking(split_x)
            # the split shares are defined on the template order; follow the stages when swapped
            shares = shares[order]
            extra = water_fill(max(slack, 0.0), shares, caps)
            greens = round_preserving_sum(mins + extra, cycle - fixed)
            greens = np.maximum(greens, mins)  # rounding never cuts a minimum
            new = [replace(p, green_s=float(round(g, 1))) for p, g in zip(phases, greens)]
            total = round(sum(p.split_s for p in new), 6)
            offset = 0.0 if k == 0 else float(round(off_x[0] * total))
            offset = 0.0 if offset >= total else offset
            plans.append(TimingPlan(t.base.signal_id, tuple(new), offset_s=offset, ped_links=t.base.ped_links,
                                    program_id="signalopt"))
        return PlanSet(tuple(plans), name=name)

    # encode -------------------------------------------------------------------
    def encode(self, plans: PlanSet) -> np.ndarray:
        """A decision vector whose decode is ``plans`` made feasible (clipped into the box)."""
        xs: list[float] = []
        by_id = {p.signal_id: p for p in plans}
        cycles = []
        for t in self.templates:
            plan = by_id.get(t.base.signal_id, t.base)
            cycles.append(plan.cycle_s)
        ranges = self.cycle_ranges
        if self.per_signal_cycle:
            for (lo, hi), c in zip(ranges, cycles):
                xs.append(float(np.clip((c - lo) / (hi - lo), 0, 1)) if hi > lo else 0.5)
        else:
            # the longest cycle: the one the most loaded signal asked for
            lo, hi = ranges[0]
            c = max(cycles)
            xs.append(float(np.clip((c - lo) / (hi - lo), 0, 1)) if hi > lo else 0.5)
        for k, t in enumerate(self.templates):
            plan = by_id.get(t.base.signal_id, t.base)
            states = [p.state for p in t.base.phases]
            order = [states.index(p.state) if p.state in states else i for i, p in enumerate(plan.phases)]
            if sorted(order) != list(range(len(states))):
                order = list(range(len(states)))
            lag = []
            for i in t.pairs:
                lag.append(1.0 if order.index(i) > order.index(i + 1) else 0.0)
            phases = self._phases_for(t, order)
            mins = np.array([p.green_s for p in phases])
            greens = np.array([p.green_s for p in plan.phases]) if len(plan.phases) == len(phases) else mins
            extra = np.maximum(greens - mins, 0.0)
            # back to template order
            template_extra = np.zeros_like(extra)
            for pos_i, tmpl_i in enumerate(order):
                template_extra[tmpl_i] = extra[pos_i]
            shares = template_extra / template_extra.sum() if template_extra.sum() > 1e-9 else \
                np.full(len(extra), 1.0 / len(extra))
            xs += list(inverse_stick_breaking(shares))
            if k > 0:
                # decoded offsets count from the first signal's start (its offset is 0): keep the
                # offsets relative to it, so coordination survives encoding
                ref = by_id.get(self.templates[0].base.signal_id, self.templates[0].base).offset_s
                xs.append(float(((plan.offset_s - ref) % plan.cycle_s) / plan.cycle_s))
            if self.lead_lag:
                xs += lag
        return np.clip(np.asarray(xs), 0.0, 1.0)


def make_encoding(network: Network, base: PlanSet, timing: TimingOptions, *, per_signal_cycle: bool = False,
                  lead_lag: bool = False, source: str | None = None) -> PlanEncoding:
    """Encoding of the stage structure of ``base`` on ``network``.

    Raises
    ------
    InputError
        When the minimum splits do not fit in the maximum cycle (or the
        signals' feasible cycle ranges do not overlap for a common cycle).
    """
    templates = []
    for plan in base:
        signal = network.signal(plan.signal_id, source=source)
        pairs = tuple(i for i in range(len(plan.phases) - 1) if _swappable(signal, plan.phases[i], plan.phases[i + 1]))
        templates.append(_SignalTemplate(signal, plan, pairs))
    enc = PlanEncoding(tuple(templates), timing, per_signal_cycle, lead_lag, ())
    ranges = []
    for t in templates:
        los, his = [], []
        orders = [list(range(len(t.base.phases)))]
        if lead_lag and t.pairs:
            orders.append(enc._order(t, [1.0] * len(t.pairs)))
        for order in orders:
            phases = enc._phases_for(t, order)
            los.append(sum(p.green_s + p.yellow_s + p.all_red_s for p in phases))
            his.append(sum(p.max_green_s + p.yellow_s + p.all_red_s for p in phases))
        lo = max(timing.min_cycle_s, math.ceil(max(los) - 1e-9))
        hi = min(timing.max_cycle_s, min(his))
        if lo > hi and math.ceil(max(los) - 1e-9) > hi:
            raise InputError(source, f"signal {t.base.signal_id}: minimum splits need {max(los):.1f} s (whole "
                                     f"seconds: {math.ceil(max(los) - 1e-9):g} s), more than the maximum cycle or "
                                     f"the maximum greens allow", f"{hi:g} s")
        if lo > hi:
            raise InputError(source, f"signal {t.base.signal_id}: the minimum cycle ({timing.min_cycle_s:g} s) is "
                                     f"longer than the maximum greens allow", f"{min(his):g} s")
        ranges.append((float(lo), float(hi)))
    if not per_signal_cycle:
        lo = max(r[0] for r in ranges)
        hi = min(r[1] for r in ranges)
        if lo > hi:
            raise InputError(source, "no common cycle fits every signal's minimum and maximum splits",
                             f"{lo:g} > {hi:g} s")
        ranges = [(lo, hi)]
    return replace(enc, cycle_ranges=tuple(ranges))
