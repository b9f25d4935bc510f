"""Times of day: reading them (``07:15``, SUMO's ``D:HH:MM:SS``) and writing them as engineers do."""

from __future__ import annotations

import math

_TIME_TOL_S = 1e-6  # interval times are whole or decimal seconds; this only absorbs float rounding


def parse_time_s(text: str) -> float:
    """``"07:15"``, ``"07:15:30"`` or seconds -> seconds of the day."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise ValueError(text)
        h, m, *s = (int(p) for p in parts)
        if m >= 60 or (s and s[0] >= 60):
            raise ValueError(text)
        return float(h * 3600 + m * 60 + (s[0] if s else 0))
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def clock_text(t: float) -> str:
    """Seconds of the day as ``HH:MM`` (``HH:MM:SS`` off the minute), as engineers write intervals;
    a time off the whole second stays in seconds."""
    whole = int(round(t))
    if abs(t - whole) > _TIME_TOL_S:
        return f"{t:g} s"
    h, rest = divmod(whole, 3600)
    m, sec = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


def sumo_time_s(text: str) -> float:
    """A time as SUMO reads it: seconds (``25200``), ``HH:MM:SS`` or ``D:HH:MM:SS`` -> seconds.

    Raises
    ------
    ValueError
        Anything else (or a negative or non-finite value).
    """
    parts = text.strip().split(":")
    if len(parts) not in (1, 3, 4):
        raise ValueError(text)
    values = [float(p) for p in parts]
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError(text)
    if len(values) > 1 and any(v >= 60 for v in values[-2:]):  # minutes and seconds
        raise ValueError(text)
    scale = {1: (1.0,), 3: (3600.0, 60.0, 1.0), 4: (86400.0, 3600.0, 60.0, 1.0)}[len(values)]
    return sum(v * k for v, k in zip(values, scale))
