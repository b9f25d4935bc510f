"""Write the bundled count CSVs in ``scenarios/data/`` from the assumptions below.

Nothing here is surveyed: the numbers are plausible assumptions for the Qixiangtai Rd South
school corridor (see scenarios/README.md), chosen so that the school-term plans fit the school
term and mismatch the summer (calibrated by simulation, figures in the README).

    python scenarios/make_counts.py            # (re)write scenarios/data/*.csv
    python scenarios/make_counts.py --check    # exit 1 if a written CSV would change
    python scenarios/make_counts.py --table    # Markdown tables of the hourly volumes (README)
    python scenarios/make_counts.py --summary  # critical flow ratios Y and existing-plan X
    python scenarios/make_counts.py --day      # the full days hour by hour: flows, Y, existing-plan X
    python scenarios/make_counts.py --evening  # the ordinary and the surge evening quarter by quarter

How a count is made: every regime is a sum of components; a component is a table of hourly
movement volumes [veh/h] and of crossing pedestrians [ped/h] with a 15-minute time profile.
The count of one quarter hour is ``volume * factor / 4``, rounded to a whole vehicle (or
pedestrian) by unbiased random rounding (up with probability equal to the fraction), with a
numpy ``default_rng`` seeded from ``SEED`` and the file name, so reruns give the same bytes.

Through volumes marked ``None`` are derived, not assumed: on an approach fed by the next
corridor signal upstream, through = (what that signal sends this way) - left - right, so every
vehicle counted leaving one junction is counted arriving at the next (routeSampler can then match
the counts exactly).
"""

from __future__ import annotations

import argparse
import io
import sys
import zlib
from pathlib import Path

import numpy as np

SEED = 20230728  # fixed, arbitrary; only used for rounding counts to whole vehicles
DATA = Path(__file__).resolve().parent / "data"

CORRIDOR = ("weidi", "pingquan", "pingshan", "zijinshan")  # north to south on Qixiangtai Rd
LEGS = ("N", "E", "S", "W")  # approach = the leg the traffic comes from
MOVES = ("L", "T", "R")

# What feeds a corridor approach from the signal upstream: (signal, approach, movement).
# Southbound traffic reaches the next signal's N approach; northbound the previous signal's S.
FEEDS = {
    ("pingquan", "N"): [("weidi", "N", "T"), ("weidi", "E", "L"), ("weidi", "W", "R")],
    ("pingshan", "N"): [("pingquan", "N", "T"), ("pingquan", "E", "L"), ("pingquan", "W", "R")],
    ("zijinshan", "N"): [("pingshan", "N", "T"), ("pingshan", "E", "L"), ("pingshan", "W", "R")],
    ("pingshan", "S"): [("zijinshan", "S", "T"), ("zijinshan", "E", "R"), ("zijinshan", "W", "L")],
    ("pingquan", "S"): [("pingshan", "S", "T"), ("pingshan", "E", "R"), ("pingshan", "W", "L")],
    ("weidi", "S"): [("pingquan", "S", "T"), ("pingquan", "E", "R"), ("pingquan", "W", "L")],
}

# ---------------------------------------------------------------------------------------------
# 15-minute profiles: rate of each quarter / the table's hourly volume (6 quarters = 90 min).
# ---------------------------------------------------------------------------------------------
COMMUTER_AM = (0.85, 0.95, 1.05, 1.10, 1.00, 0.90)   # 07:00..08:15, commuter peak ~07:30-08:15
DROP_OFF_AM = (0.30, 1.30, 1.60, 1.30, 0.35, 0.15)   # school drop-off: sharp 07:15-08:00
OFF_PEAK = (1.00, 0.95, 1.05, 1.00, 0.95, 1.05)      # 10:00..11:15, flat
COMMUTER_PM = (0.85, 0.95, 1.00, 1.05, 1.10, 1.05)   # 16:15..17:30, rising to the evening peak
PICK_UP_PM = (0.20, 1.20, 1.60, 1.50, 1.20, 0.30)    # school pick-up: 16:30-17:30

# ---------------------------------------------------------------------------------------------
# Hourly movement volumes [veh/h]: {signal: {approach: (L, T, R)}}; T None = derived (see top).
# ---------------------------------------------------------------------------------------------
# School term, AM, commuters only (the school trips are the DROP_OFF component below).
TERM_AM = {
    "weidi":     {"N": (50, 380, 60),  "E": (100, 760, 80), "S": (70, None, 80), "W": (120, 680, 70)},
    "pingquan":  {"N": (30, None, 40), "E": (30, 80, 50),   "S": (30, None, 40), "W": (30, 70, 40)},
    "pingshan":  {"N": (30, None, 40), "E": (30, 90, 40),   "S": (40, None, 40), "W": (30, 90, 40)},
    "zijinshan": {"N": (30, None, 30), "E": (30, 60, 40),   "S": (40, 520, 40),  "W": (30, 60, 40)},
}
# School drop-off cars (peak-hour rates, DROP_OFF_AM profile): they come along Qixiangtai Rd and
# Weidi Rd, turn into the school streets (Pingshan Rd most, Pingquan and Zijinshan Rds less) and
# leave again along the cross streets or back onto the corridor.
DROP_OFF = {
    "weidi":     {"N": (0, 80, 0),     "E": (30, 0, 0),     "S": (0, None, 0),  "W": (0, 0, 30)},
    "pingquan":  {"N": (15, None, 20), "E": (10, 15, 15),   "S": (15, None, 15), "W": (15, 15, 10)},
    "pingshan":  {"N": (40, None, 60), "E": (30, 25, 30),   "S": (50, None, 40), "W": (40, 25, 30)},
    "zijinshan": {"N": (10, None, 15), "E": (10, 10, 15),   "S": (15, 120, 15), "W": (15, 10, 10)},
}
# Summer, AM: no drop-off; commuters who avoid the corridor in term time come back, so more
# through traffic on Qixiangtai Rd (northbound, towards the city centre, the heavier), fewer
# turns into the school streets; Weidi Rd E-W still heavy.
SUMMER_AM = {
    "weidi":     {"N": (50, 400, 60),  "E": (110, 760, 80), "S": (80, None, 100), "W": (270, 640, 70)},
    "pingquan":  {"N": (30, None, 40), "E": (30, 80, 50),   "S": (40, None, 50), "W": (30, 70, 40)},
    "pingshan":  {"N": (30, None, 40), "E": (30, 90, 40),   "S": (50, None, 50), "W": (30, 90, 40)},
    "zijinshan": {"N": (30, None, 30), "E": (30, 60, 40),   "S": (50, 940, 50),  "W": (30, 60, 40)},
}
# Summer, mid-morning off-peak: about two thirds of the summer AM, through-dominated; the
# lanes the school-term plans were built around (left bays, the variable lane) are under-used.
SUMMER_OFFPEAK = {
    "weidi":     {"N": (40, 330, 50),  "E": (70, 480, 60),  "S": (50, None, 60), "W": (80, 440, 60)},
    "pingquan":  {"N": (25, None, 30), "E": (25, 60, 35),   "S": (25, None, 30), "W": (20, 55, 30)},
    "pingshan":  {"N": (25, None, 30), "E": (25, 70, 30),   "S": (30, None, 30), "W": (25, 70, 30)},
    "zijinshan": {"N": (25, None, 25), "E": (25, 50, 30),   "S": (30, 480, 30),  "W": (25, 50, 30)},
}
# School term, PM, commuters only (southbound, home-bound, the heavier).
TERM_PM = {
    "weidi":     {"N": (60, 520, 70),  "E": (100, 680, 80), "S": (60, None, 70), "W": (110, 700, 80)},
    "pingquan":  {"N": (30, None, 50), "E": (30, 80, 40),   "S": (30, None, 40), "W": (30, 80, 40)},
    "pingshan":  {"N": (30, None, 50), "E": (30, 90, 40),   "S": (30, None, 40), "W": (30, 90, 40)},
    "zijinshan": {"N": (30, None, 40), "E": (30, 60, 40),   "S": (40, 450, 40),  "W": (30, 60, 40)},
}
# School pick-up cars (PICK_UP_PM profile): the drop-off pattern, a little more spread out.
PICK_UP = DROP_OFF

# ---------------------------------------------------------------------------------------------
# Pedestrians crossing [ped/h, both directions]: {signal: {leg crossed: ped/h}}.
# ---------------------------------------------------------------------------------------------
TERM_PEDS = {  # adults, commuters: everywhere, all day
    "weidi": {"N": 60, "E": 50, "S": 60, "W": 50}, "pingquan": {"N": 40, "E": 40, "S": 40, "W": 40},
    "pingshan": {"N": 50, "E": 40, "S": 50, "W": 40}, "zijinshan": {"N": 30, "E": 30, "S": 30, "W": 30},
}
SCHOOL_PEDS = {  # pupils and parents: Pingshan Road Primary (Pingshan Rd), the affiliated primary
    "weidi": {"N": 20, "E": 10, "S": 20, "W": 10},          # (assumed at Pingquan Rd), the middle
    "pingquan": {"N": 160, "E": 120, "S": 220, "W": 140},   # school (assumed near Zijinshan Rd)
    "pingshan": {"N": 300, "E": 220, "S": 320, "W": 380},
    "zijinshan": {"N": 80, "E": 40, "S": 80, "W": 40},
}
SUMMER_PEDS = {
    "weidi": {"N": 50, "E": 40, "S": 50, "W": 40}, "pingquan": {"N": 30, "E": 30, "S": 40, "W": 30},
    "pingshan": {"N": 40, "E": 30, "S": 40, "W": 40}, "zijinshan": {"N": 20, "E": 20, "S": 20, "W": 20},
}
SUMMER_OFFPEAK_PEDS = {
    "weidi": {"N": 40, "E": 30, "S": 40, "W": 30}, "pingquan": {"N": 30, "E": 20, "S": 30, "W": 20},
    "pingshan": {"N": 30, "E": 30, "S": 30, "W": 30}, "zijinshan": {"N": 20, "E": 20, "S": 20, "W": 20},
}

# ---------------------------------------------------------------------------------------------
# networks/isolated: one junction `center`, AM, moderate: critical X about 0.7 under its 90 s plan.
# ---------------------------------------------------------------------------------------------
ISOLATED_AM = {"center": {"N": (160, 560, 140), "E": (140, 480, 130), "S": (140, 540, 130),
                          "W": (150, 470, 120)}}

# Regimes: (file stem, first quarter, [(volumes, pedestrians or None, profile), ...]).
REGIMES = [
    ("school_am", "07:00", [(TERM_AM, TERM_PEDS, COMMUTER_AM), (DROP_OFF, SCHOOL_PEDS, DROP_OFF_AM)]),
    ("summer_am", "07:00", [(SUMMER_AM, SUMMER_PEDS, COMMUTER_AM)]),
    ("summer_offpeak", "10:00", [(SUMMER_OFFPEAK, SUMMER_OFFPEAK_PEDS, OFF_PEAK)]),
    ("school_pm", "16:15", [(TERM_PM, TERM_PEDS, COMMUTER_PM), (PICK_UP, SCHOOL_PEDS, PICK_UP_PM)]),
    ("isolated_am", "07:00", [(ISOLATED_AM, None, COMMUTER_AM)]),
]

# ---------------------------------------------------------------------------------------------
# Full days, 06:00-22:00 (64 quarters): the same components, with day-long profiles.
# ---------------------------------------------------------------------------------------------
DAY_START, DAY_HOURS = "06:00", range(6, 22)


def day_profile(hours: dict[int, tuple[float, float, float, float]]) -> tuple[float, ...]:
    """64 quarter factors from {hour: (4 factors)}; hours not given are 0."""
    for h, quarters in hours.items():
        if h not in DAY_HOURS or len(quarters) != 4:
            raise ValueError(f"day profile: hour {h} needs 4 quarters between 06 and 21")
    return tuple(f for h in DAY_HOURS for f in hours.get(h, (0.0,) * 4))


# Commuters, morning (TERM_AM / SUMMER_AM tables): rising from 06:00, COMMUTER_AM 07:00-08:15, the
# peak lasting to 09:00, fading out by 10:00.
DAY_AM = day_profile({6: (0.30, 0.40, 0.55, 0.70), 7: (0.85, 0.95, 1.05, 1.10), 8: (1.00, 0.90, 0.85, 0.80),
                      9: (0.60, 0.42, 0.25, 0.10)})
# Daytime traffic (TERM_MIDDAY / SUMMER_OFFPEAK tables): fading in from 08:30, flat 10:00-15:00
# (OFF_PEAK 10:00-11:15), handing over to the evening commuters 15:00-16:00.
DAY_MIDDAY = day_profile({8: (0.0, 0.0, 0.15, 0.30), 9: (0.45, 0.60, 0.75, 0.90), 10: (1.00, 0.95, 1.05, 1.00),
                          11: (0.95, 1.05, 1.00, 0.95), 12: (0.95, 0.90, 0.90, 0.95), 13: (0.95, 1.00, 1.00, 1.00),
                          14: (1.00, 1.05, 1.00, 1.00), 15: (0.95, 0.85, 0.65, 0.45), 16: (0.25, 0.0, 0.0, 0.0)})
# Summer daytime: the same, plus leisure trips around midday (up to +12 % from 11:30 to 14:45).
LEISURE = day_profile({11: (1.0, 1.0, 1.04, 1.08), 12: (1.10, 1.12, 1.12, 1.12), 13: (1.12, 1.12, 1.12, 1.10),
                       14: (1.10, 1.08, 1.06, 1.04), **{h: (1.0,) * 4 for h in (*range(6, 11), *range(15, 22))}})
DAY_MIDDAY_SUMMER = tuple(round(a * b, 4) for a, b in zip(DAY_MIDDAY, LEISURE))
# Commuters, evening (TERM_PM / SUMMER_PM tables): from 14:30, COMMUTER_PM 16:15-17:30, the peak
# 17:00-18:45, then the evening decline to 22:00.
DAY_PM = day_profile({14: (0.0, 0.0, 0.05, 0.10), 15: (0.20, 0.30, 0.40, 0.55), 16: (0.70, 0.85, 0.95, 1.00),
                      17: (1.05, 1.10, 1.05, 1.05), 18: (1.05, 1.00, 0.95, 0.85), 19: (0.75, 0.68, 0.62, 0.56),
                      20: (0.50, 0.45, 0.40, 0.36), 21: (0.32, 0.28, 0.24, 0.20)})
# School trips, term time only: drop-off (DROP_OFF_AM 07:00-08:15) and pick-up (PICK_UP_PM 16:15-17:30).
DAY_DROP_OFF = day_profile({6: (0.0, 0.0, 0.05, 0.10), 7: (0.30, 1.30, 1.60, 1.30), 8: (0.35, 0.15, 0.08, 0.04)})
DAY_PICK_UP = day_profile({16: (0.10, 0.20, 1.20, 1.60), 17: (1.50, 1.20, 0.30, 0.15), 18: (0.05, 0.0, 0.0, 0.0)})


def _window(profile: tuple[float, ...], start: str, n: int = 6) -> tuple[float, ...]:
    h, m = map(int, start.split(":"))
    k = (h - 6) * 4 + m // 15
    return profile[k:k + n]


# The days agree with the 90-minute scenarios where they overlap: in each window below only the
# listed components run, with the scenario's own profile (so the expected counts are the same).
assert _window(DAY_AM, "07:00") == COMMUTER_AM and _window(DAY_DROP_OFF, "07:00") == DROP_OFF_AM
assert _window(DAY_PM, "16:15") == COMMUTER_PM and _window(DAY_PICK_UP, "16:15") == PICK_UP_PM
assert _window(DAY_MIDDAY_SUMMER, "10:00") == OFF_PEAK
assert not any(_window(DAY_MIDDAY, "07:00") + _window(DAY_PM, "07:00") + _window(DAY_AM, "10:00")
               + _window(DAY_PM, "10:00") + _window(DAY_MIDDAY, "16:15") + _window(DAY_AM, "16:15"))

# School term, daytime (09:00-16:00): a little lighter than the summer's SUMMER_OFFPEAK (no leisure
# trips, fewer through trips on Qixiangtai Rd); no school trips (pupils stay at school for lunch).
TERM_MIDDAY = {
    "weidi":     {"N": (40, 290, 50),  "E": (70, 460, 60),  "S": (50, None, 60), "W": (80, 420, 60)},
    "pingquan":  {"N": (25, None, 30), "E": (25, 60, 35),   "S": (25, None, 30), "W": (20, 55, 30)},
    "pingshan":  {"N": (25, None, 30), "E": (25, 70, 30),   "S": (30, None, 30), "W": (25, 70, 30)},
    "zijinshan": {"N": (25, None, 25), "E": (25, 50, 30),   "S": (30, 420, 30),  "W": (25, 50, 30)},
}
TERM_MIDDAY_PEDS = {
    "weidi": {"N": 40, "E": 30, "S": 40, "W": 30}, "pingquan": {"N": 25, "E": 20, "S": 25, "W": 20},
    "pingshan": {"N": 30, "E": 25, "S": 30, "W": 25}, "zijinshan": {"N": 20, "E": 15, "S": 20, "W": 15},
}
# Summer, evening commuters: no pick-up; as in the morning, commuters who avoid the corridor in
# term time come back (southbound through on Qixiangtai Rd +170 veh/h at Weidi Rd, +290 south of
# it, over the term's commuters), and more westbound Weidi Rd traffic turns left into Qixiangtai Rd
# southbound (100 -> 220 veh/h), the mirror of the morning's eastbound left (120 -> 270); a little
# lighter than the summer AM, which stays the day's busiest period.
SUMMER_PM = {
    "weidi":     {"N": (60, 690, 80),  "E": (220, 650, 80), "S": (70, None, 80), "W": (110, 640, 80)},
    "pingquan":  {"N": (30, None, 50), "E": (30, 80, 40),   "S": (30, None, 40), "W": (30, 80, 40)},
    "pingshan":  {"N": (30, None, 50), "E": (30, 90, 40),   "S": (40, None, 40), "W": (30, 90, 40)},
    "zijinshan": {"N": (30, None, 40), "E": (30, 60, 40),   "S": (40, 520, 40),  "W": (30, 60, 40)},
}

# Day regimes, same shape as REGIMES (64 quarters from 06:00).
DAY_REGIMES = [
    ("school_day", DAY_START, [(TERM_AM, TERM_PEDS, DAY_AM), (TERM_MIDDAY, TERM_MIDDAY_PEDS, DAY_MIDDAY),
                               (TERM_PM, TERM_PEDS, DAY_PM), (DROP_OFF, SCHOOL_PEDS, DAY_DROP_OFF),
                               (PICK_UP, SCHOOL_PEDS, DAY_PICK_UP)]),
    ("summer_day", DAY_START, [(SUMMER_AM, SUMMER_PEDS, DAY_AM),
                               (SUMMER_OFFPEAK, SUMMER_OFFPEAK_PEDS, DAY_MIDDAY_SUMMER),
                               (SUMMER_PM, SUMMER_PEDS, DAY_PM)]),
]

# ---------------------------------------------------------------------------------------------
# An evening with a surge (qixiangtai_evening*.toml): the summer day's evening commuters 17:15-19:30
# (SUMMER_PM with the DAY_PM profile, so the expected counts are the summer day's in that window), and
# the same evening with the crowd of an event leaving a riverside attraction south-west of the corridor.
# ---------------------------------------------------------------------------------------------
EVENING_START, EVENING_QUARTERS = "17:15", 9
EVENING = [(SUMMER_PM, SUMMER_PEDS, _window(DAY_PM, EVENING_START, EVENING_QUARTERS))]
# For 45 minutes (18:00-18:45) every count on these approaches -- the south end of Qixiangtai Rd and the
# cross streets at the two southern junctions, where the crowd's cars come out -- is twice the ordinary
# evening's, and so is every crossing count at these two junctions (the crowd on foot).
SURGE_QUARTERS = ("18:00", "18:15", "18:30")
SURGE_APPROACHES = (("zijinshan", "S"), ("zijinshan", "E"), ("zijinshan", "W"), ("pingshan", "E"),
                    ("pingshan", "W"))
SURGE_SIGNALS = ("pingshan", "zijinshan")
# a surge approach is fed from outside the corridor, so doubling it changes no other approach's own counts
assert not set(SURGE_APPROACHES) & set(FEEDS)
# every approach the surge reaches has a derived through count, which carries the extra vehicles on
assert all(SUMMER_PM[sig][leg][1] is None for sig, leg in FEEDS)

# ---------------------------------------------------------------------------------------------
# For --summary only: lanes and the existing (school-term) plans, from networks/README.md.
# ---------------------------------------------------------------------------------------------
SAT_THROUGH, SAT_SHARED, SAT_TURN_BAY = 1800, 1700, 1600  # [veh/h/lane]
THROUGH_LANES = {"weidi": {"N": 2, "S": 2, "E": 3, "W": 3}, "pingquan": {"N": 2, "S": 2, "E": 1, "W": 1},
                 "pingshan": {"N": 2, "S": 2, "E": 2, "W": 2}, "zijinshan": {"N": 2, "S": 2, "E": 1, "W": 1},
                 "center": {"N": 2, "S": 2, "E": 2, "W": 2}}
# existing plans: cycle and (green + yellow) of NS left, NS through, EW left, EW through [s]
EXISTING = {"weidi": (140, (18, 39, 24, 51)), "pingquan": (120, (17, 48, 13, 34)),
            "pingshan": (130, (19, 51, 15, 37)), "zijinshan": (120, (17, 47, 13, 35)),
            "center": (90, (15, 28, 14, 25))}
START_LOST_S = 2.0  # effective green = green + yellow - start-up lost time


def hourly(table: dict) -> dict[tuple[str, str, str], float]:
    """{(signal, approach, movement): veh/h} of one table, derived through volumes filled in."""
    out = {(sig, leg, move): float(v)
           for sig, approaches in table.items() for leg, volumes in approaches.items()
           for move, v in zip(MOVES, volumes) if v is not None}
    southbound = [(sig, "N") for sig in CORRIDOR]             # each feeds the next one south
    northbound = [(sig, "S") for sig in reversed(CORRIDOR)]   # each feeds the next one north
    for sig, leg in southbound + northbound:
        if (sig, leg) in FEEDS and sig in table and table[sig][leg][1] is None:
            _derive(out, sig, leg)
    return out


def _derive(out: dict, sig: str, leg: str) -> None:
    inflow = sum(out[f] for f in FEEDS[sig, leg])
    through = inflow - out[sig, leg, "L"] - out[sig, leg, "R"]
    if through < 0:
        raise ValueError(f"{sig} {leg}: turns exceed the inflow ({inflow:g} veh/h)")
    out[sig, leg, "T"] = through


def quarter_label(start: str, k: int) -> str:
    h, m = map(int, start.split(":"))
    t = h * 60 + m + 15 * k
    return f"{t // 60:02d}:{t % 60:02d}"


def round_counts(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unbiased random rounding to whole numbers."""
    low = np.floor(values)
    return (low + (rng.random(values.shape) < values - low)).astype(int)


def expected(components: list, which: str) -> dict[tuple, np.ndarray]:
    """{(signal, approach or leg, movement or ''): per-quarter expected counts} of one regime."""
    total: dict[tuple, np.ndarray] = {}
    for volumes, peds, profile in components:
        factors = np.asarray(profile) / 4.0
        if which == "vehicles":
            rates = hourly(volumes)
        else:
            rates = {(sig, leg, ""): float(n) for sig, legs in (peds or {}).items() for leg, n in legs.items()}
        for key, rate in rates.items():
            total[key] = total.get(key, 0.0) + rate * factors
    return total


def rounded_counts(stem: str, start: str, components: list, which: str
                   ) -> tuple[list[tuple], np.ndarray] | None:
    """Keys (in file order) and whole-number counts per quarter of one regime's CSV (None: no rows)."""
    exp = expected(components, which)
    if not exp:
        return None
    name = f"{stem}_{which}.csv"
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    order = {s: i for i, s in enumerate((*CORRIDOR, "center"))}
    keys = sorted(exp, key=lambda k: (order[k[0]], LEGS.index(k[1]), MOVES.index(k[2]) if k[2] else 0))
    return keys, round_counts(np.array([exp[k] for k in keys]), rng)


def write_csv(keys: list[tuple], counts: np.ndarray, start: str, which: str) -> str:
    """CSV text of whole-number counts (rows: ``keys``, columns: quarters from ``start``)."""
    buf = io.StringIO()
    buf.write("interval,intersection,approach,movement,vehicles\n" if which == "vehicles"
              else "interval,intersection,crossing,pedestrians\n")
    n_quarters = counts.shape[1]
    for q in range(n_quarters):
        for key, row in zip(keys, counts):
            fields = [quarter_label(start, q), key[0], key[1]] + ([key[2]] if which == "vehicles" else [])
            buf.write(",".join(fields) + f",{row[q]}\n")
    return buf.getvalue()


def csv_text(stem: str, start: str, components: list, which: str) -> str | None:
    made = rounded_counts(stem, start, components, which)
    return None if made is None else write_csv(*made, start, which)


def surge_counts(keys: list[tuple], counts: np.ndarray, start: str, which: str) -> np.ndarray:
    """The evening's whole-number counts with the surge added (see ``SURGE_APPROACHES``).

    In the surge's quarters every count on a surge approach (every crossing count at a surge signal) is
    exactly twice the ordinary evening's; the extra vehicles that turn into the corridor go straight on to
    its end, added to the derived through counts they pass, so flows stay conserved to the vehicle.
    """
    quarters = [q for q in range(counts.shape[1]) if quarter_label(start, q) in SURGE_QUARTERS]
    row = {k: i for i, k in enumerate(keys)}
    extra = {k: np.zeros(counts.shape[1], dtype=int) for k in keys}
    for k in keys:
        if (which == "vehicles" and (k[0], k[1]) in SURGE_APPROACHES) or (
                which == "pedestrians" and k[0] in SURGE_SIGNALS):
            extra[k][quarters] = counts[row[k], quarters]
    if which == "vehicles":
        southbound = [(sig, "N") for sig in CORRIDOR]             # as in hourly(): upstream first
        northbound = [(sig, "S") for sig in reversed(CORRIDOR)]
        for sig, leg in southbound + northbound:
            if (sig, leg) in FEEDS:
                extra[sig, leg, "T"] += sum(extra[f] for f in FEEDS[sig, leg])
    return counts + np.array([extra[k] for k in keys])


def files() -> dict[str, str]:
    out = {}
    for stem, start, components in REGIMES + DAY_REGIMES:
        for which in ("vehicles", "pedestrians"):
            text = csv_text(stem, start, components, which)
            if text is not None:
                out[f"{stem}_{which}.csv"] = text
    for which in ("vehicles", "pedestrians"):
        keys, counts = rounded_counts("evening", EVENING_START, EVENING, which)
        out[f"evening_{which}.csv"] = write_csv(keys, counts, EVENING_START, which)
        out[f"evening_surge_{which}.csv"] = write_csv(keys, surge_counts(keys, counts, EVENING_START, which),
                                                      EVENING_START, which)
    return out


def table_markdown() -> str:
    """Hourly volumes of every regime (peak-hour rates of each component, summed; derived T included)."""
    lines = []
    for stem, _, components in REGIMES:
        per = [hourly(v) for v, _, _ in components]
        sigs = list(components[0][0])
        lines += [f"**{stem}**" + (" (commuters + school trips)" if len(per) > 1 else ""), "",
                  "| signal | " + " | ".join(f"{leg} {m}" for leg in LEGS for m in MOVES) + " | all |",
                  "|---|" + "---:|" * 13]
        for sig in sigs:
            cells = []
            for leg in LEGS:
                for m in MOVES:
                    parts = [f"{p[sig, leg, m]:.0f}" for p in per if p.get((sig, leg, m))]
                    cells.append("+".join(parts) or "0")
            entering = sum(p.get((sig, leg, m), 0) for p in per for leg in LEGS for m in MOVES)
            lines.append(f"| {sig} | " + " | ".join(cells) + f" | {entering:.0f} |")
        lines.append("")
    return "\n".join(lines)


def _stage_ratios(rate: dict, sig: str) -> tuple[list[float], list[float]]:
    """Critical flow ratio of the 4 stages of ``sig`` and their X under the existing plan."""
    n = THROUGH_LANES[sig]
    y = {}
    for leg in LEGS:
        y[leg, "L"] = rate[sig, leg, "L"] / SAT_TURN_BAY
        y[leg, "T"] = (rate[sig, leg, "T"] + rate[sig, leg, "R"]) / (SAT_SHARED + SAT_THROUGH * (n[leg] - 1))
    stages = [max(y["N", "L"], y["S", "L"]), max(y["N", "T"], y["S", "T"]),
              max(y["E", "L"], y["W", "L"]), max(y["E", "T"], y["W", "T"])]
    cycle, gy = EXISTING[sig]
    return stages, [s * cycle / (g - START_LOST_S) for s, g in zip(stages, gy)]


def summary() -> str:
    """Busiest-quarter critical flow ratio Y per signal and the X of each stage under the existing plan."""
    lines = []
    for stem, start, components in REGIMES:
        exp = expected(components, "vehicles")
        peak_q = int(np.argmax(sum(exp.values())))
        rate = {k: v[peak_q] * 4 for k, v in exp.items()}
        entering = sum(v for (sig, leg, _), v in exp.items() if (sig, leg) not in FEEDS)
        lines.append(f"{stem}: vehicles entering {entering.sum() * 4 / len(entering):.0f} veh/h on average, "
                     f"{entering.max() * 4:.0f} veh/h in the busiest quarter ({quarter_label(start, peak_q)})")
        for sig in sorted({k[0] for k in rate}, key=lambda s: (*CORRIDOR, "center").index(s)):
            stages, x = _stage_ratios(rate, sig)
            lines.append(f"  {sig:10s} Y={sum(stages):.2f}  y=" + " ".join(f"{s:.2f}" for s in stages)
                         + "  X(existing)=" + " ".join(f"{v:.2f}" for v in x))
    return "\n".join(lines)


def day_summary() -> str:
    """Per hour of each day: vehicles entering and, per signal, the busiest quarter's Y and the largest X."""
    lines = []
    for stem, start, components in DAY_REGIMES:
        exp = expected(components, "vehicles")
        peds = expected(components, "pedestrians")
        entering = sum(v for (sig, leg, _), v in exp.items() if (sig, leg) not in FEEDS)
        n_q = len(entering)
        lines += [f"**{stem}**: {entering.sum():.0f} vehicles entering, {sum(peds.values()).sum():.0f} crossings; "
                  f"busiest quarter {quarter_label(start, int(np.argmax(entering)))} "
                  f"({entering.max() * 4:.0f} veh/h)", "",
                  "| hour | entering [veh/h] | crossings [ped/h] | "
                  + " | ".join(f"{s} Y / X" for s in CORRIDOR) + " |",
                  "|---|---:|---:|" + "---|" * len(CORRIDOR)]
        for q0 in range(0, n_q, 4):
            qs = range(q0, min(q0 + 4, n_q))
            cells = []
            for sig in CORRIDOR:
                ys, xs = [], []
                for q in qs:
                    stages, x = _stage_ratios({k: v[q] * 4 for k, v in exp.items()}, sig)
                    ys.append(sum(stages))
                    xs.append(max(x))
                cells.append(f"{max(ys):.2f} / {max(xs):.2f}")
            ped_h = sum(v[q] for v in peds.values() for q in qs)
            lines.append(f"| {quarter_label(start, q0)} | {sum(entering[q] for q in qs):.0f} | {ped_h:.0f} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def evening_summary() -> str:
    """Per quarter of the two evenings (as written, whole vehicles): vehicles entering the corridor and each
    signal's critical flow ratio Y, ordinary / with the surge (Markdown)."""
    keys, counts = rounded_counts("evening", EVENING_START, EVENING, "vehicles")
    both = (counts, surge_counts(keys, counts, EVENING_START, "vehicles"))
    lines = ["| quarter | entering [veh/h] | " + " | ".join(f"{s} Y" for s in CORRIDOR) + " |",
             "|---|---:|" + "---:|" * len(CORRIDOR)]
    for q in range(counts.shape[1]):
        cells = []
        rates = [{k: 4.0 * c[i, q] for i, k in enumerate(keys)} for c in both]
        entering = [sum(v for k, v in r.items() if (k[0], k[1]) not in FEEDS) for r in rates]
        cells.append(" / ".join(f"{e:.0f}" for e in entering))
        cells += [" / ".join(f"{sum(_stage_ratios(r, sig)[0]):.2f}" for r in rates) for sig in CORRIDOR]
        label = quarter_label(EVENING_START, q)
        lines.append(f"| {label}{' (surge)' if label in SURGE_QUARTERS else ''} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a CSV differs from a fresh build")
    parser.add_argument("--table", action="store_true", help="print the hourly volume tables (Markdown)")
    parser.add_argument("--summary", action="store_true", help="print flow ratios and existing-plan X")
    parser.add_argument("--day", action="store_true", help="print the day regimes hour by hour (Markdown)")
    parser.add_argument("--evening", action="store_true", help="print the two evenings quarter by quarter (Markdown)")
    args = parser.parse_args(argv)
    if args.evening:
        print(evening_summary())
        return 0
    if args.day:
        print(day_summary())
        return 0
    if args.table:
        print(table_markdown())
        return 0
    if args.summary:
        print(summary())
        return 0
    stale = []
    for name, text in files().items():
        path = DATA / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path.relative_to(DATA.parent.parent)}")
    if stale:
        print("differs from a fresh build: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
