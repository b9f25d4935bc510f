"""Where SUMO's adaptive controllers beat or lose to the existing fixed-time timing, on every corpus network
and the bundled scenarios.

For each scenario: the existing timing as it runs, and `actuated`, `delay_based` and `max_pressure` driving
the existing stages (their parameters: README "Baselines"), on held-out seeds; mean delay with its 95% CI and
the paired difference against the existing timing. A controller "beats" fixed time when the whole CI of the
paired difference is below 0, "loses" when it is above, "level" otherwise. No target: the figures say
whether a comparison against these baselines is against a strawman (a controller that loses everywhere).
Usage: python benchmarks/adaptive_baselines.py [--seeds 101-105] [--corpus-dir DIR] [--no-bundled]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import ROOT, build_corpus, run_main

from signalopt.comparison import compare
from signalopt.evaluator import parse_seeds

CONTROLLERS = ("actuated", "delay_based", "max_pressure")
BUNDLED = ("isolated.toml", "qixiangtai_summer_am.toml", "qixiangtai_school_am.toml")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="101-105")
    ap.add_argument("--corpus-dir")
    ap.add_argument("--no-bundled", action="store_true", help="corpus only (the corridor takes minutes)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    tmp = None if args.corpus_dir else tempfile.TemporaryDirectory(prefix="signalopt-corpus-")
    entries = build_corpus(Path(args.corpus_dir or tmp.name))
    scenarios = [e.scenario_path for e in entries]
    if not args.no_bundled:
        scenarios += [ROOT / "scenarios" / name for name in BUNDLED]
    tally = {c: {"beats": 0, "level": 0, "loses": 0} for c in CONTROLLERS}
    print(f"{'scenario':<26} {'existing s':>10}  " + "  ".join(f"{c:>24}" for c in CONTROLLERS))
    for path in scenarios:
        table = compare(path, seeds=seeds, baselines=("existing", *CONTROLLERS), workers=args.workers)
        cells = []
        for c in CONTROLLERS:
            row = table.row(c)
            pct, (lo, hi) = row.delay_delta_vs_existing_pct, row.delay_delta_vs_existing_pct_ci95
            verdict = "beats" if hi < 0 else "loses" if lo > 0 else "level"
            tally[c][verdict] += 1
            cells.append(f"{row.metrics.delay_s:6.1f} {pct:+6.1f}% {verdict:>6}")
        print(f"{Path(path).stem:<26} {table.row('existing').metrics.delay_s:10.1f}  " + "  ".join(
            f"{cell:>24}" for cell in cells))
    print(f"delay [s/veh] and paired difference vs the existing timing, seeds {args.seeds}")
    for c, counts in tally.items():
        print(f"{c:<14} beats fixed time on {counts['beats']}, level on {counts['level']}, "
              f"loses on {counts['loses']} of {len(scenarios)} scenarios")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    run_main(main)
