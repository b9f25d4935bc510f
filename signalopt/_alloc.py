"""Sharing time out: shares from unit-box coordinates, water filling under caps, rounding that keeps a sum."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .errors import PlanError


def stick_breaking(v: np.ndarray) -> np.ndarray:
    """``n - 1`` values in [0, 1] -> ``n`` shares summing to 1."""
    shares, rest = [], 1.0
    for vi in v:
        shares.append(rest * float(vi))
        rest -= shares[-1]
    shares.append(rest)
    return np.maximum(np.asarray(shares), 0.0)


def inverse_stick_breaking(shares: np.ndarray) -> np.ndarray:
    """Inverse of :func:`stick_breaking` (0.5 where the remaining stick is empty)."""
    out, rest = [], 1.0
    for s in shares[:-1]:
        out.append(float(np.clip(s / rest, 0.0, 1.0)) if rest > 1e-12 else 0.5)
        rest -= s
    return np.asarray(out)


def water_fill(total: float, shares: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Split ``total`` by ``shares`` without exceeding ``caps``; excess goes to the uncapped."""
    alloc = np.zeros_like(caps, dtype=float)
    free = np.ones_like(caps, dtype=bool)
    remaining = total
    for _ in range(len(caps) + 1):
        if remaining <= 1e-12 or not free.any():
            break
        w = np.where(free, shares, 0.0)
        w = w / w.sum() if w.sum() > 1e-12 else free / free.sum()
        add = w * remaining
        over = free & (alloc + add > caps)
        if not over.any():
            alloc += add
            remaining = 0.0
            break
        remaining -= float((caps[over] - alloc[over]).sum())
        alloc[over] = caps[over]
        free &= ~over
    return alloc


def round_preserving_sum(values: npt.ArrayLike, total: float, step: float = 0.1,
                         caps: npt.ArrayLike | None = None) -> np.ndarray:
    """Round to multiples of ``step`` keeping the sum ``total`` (largest remainder), none above ``caps``.

    Each value becomes its floor or a step more; the steps left over go to the largest remainders
    first (ties to the earlier value), skipping values at their cap.

    Raises
    ------
    PlanError
        When the caps leave no room for the steps left over.
    """
    units = np.asarray(values, dtype=float) / step
    floor = np.floor(units + 1e-9)
    top = np.full(len(floor), np.inf) if caps is None else np.floor(np.asarray(caps, dtype=float) / step + 1e-9)
    left = int(round(total / step - floor.sum()))
    order = np.argsort(-(units - floor), kind="stable")
    while left > 0:
        room = [k for k in order if floor[k] < top[k]][:left]
        if not room:
            raise PlanError(f"cannot share {total:g} within the caps ({list(np.asarray(caps, dtype=float))})")
        floor[room] += 1
        left -= len(room)
    return floor * step
