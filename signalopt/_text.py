"""Plain-text tables for terminals and ``print``: numbers to one decimal, figures with their 95% CIs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Columns aligned under their headers; the first left-aligned, the rest right-aligned."""
    cells = [[_fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.rjust(w) if k else v.ljust(w) for k, (v, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(out)


def with_ci(d: Mapping[str, Any], key: str) -> str:
    """``d[key]`` with its interval ``d[key + "_ci95"]``: ``12.3 [10.1, 14.5]``."""
    lo, hi = d[f"{key}_ci95"]
    return f"{d[key]:.1f} [{lo:.1f}, {hi:.1f}]"


def pct_with_ci(d: Mapping[str, Any], key: str) -> str:
    """A signed percentage with its interval, or nothing when ``d[key]`` is None."""
    if d[key] is None:
        return ""
    lo, hi = d[f"{key}_ci95"]
    return f"{d[key]:+.1f}% [{lo:+.1f}, {hi:+.1f}]"
