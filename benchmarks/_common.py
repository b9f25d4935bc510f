"""Shared bits of the benchmark scripts: locating bundled scenarios, printing figure vs target."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "qixiangtai_summer_am.toml"


def report(name: str, measured: float, target: str, ok: bool, unit: str = "") -> None:
    """Print one figure beside its target."""
    print(f"{name:<44} measured {measured:8.3f}{unit:<3}  target {target:<10}  {'MET' if ok else 'NOT MET'}")
