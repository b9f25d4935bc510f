"""``signalopt`` command line: thin subcommands, each calling one public function.

Every :class:`~signalopt.errors.SignaloptError` becomes one line on stderr,
``signalopt: error: <file>: <what> (<value>)``, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._text import format_table, with_ci
from .errors import InputError, SignaloptError

EXIT_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise InputError(None, f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer ({text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer ({text})")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number ({text!r})") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number ({text})")
    return value


def _output_file(path: Path, option: str, *, shown: Path | None = None) -> Path:
    """Refuse an output file that could not be written, before hours of work go into it."""
    shown = shown or path
    if path.is_dir():
        raise InputError(option, "is a folder, give a file name", str(shown))
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(option, f"cannot create a file under {parent}: not a folder", str(shown))
    try:  # a real file, not os.access: root passes os.access on read-only or virtual folders such as /proc
        fd, probe = tempfile.mkstemp(prefix=".signalopt-probe.", dir=parent)
    except OSError as exc:
        raise InputError(option, f"cannot write in folder {parent} ({exc.strerror})", str(shown)) from None
    os.close(fd)
    os.unlink(probe)
    return path


def _output_folder(path: Path, option: str) -> Path:
    if path.exists() and not path.is_dir():
        raise InputError(option, "is a file, give a folder", str(path))
    _output_file(path / "x", option, shown=path)
    return path


def _print_metrics(d: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(d, indent=2))
        return
    print(f"scenario {d['scenario']}  plans {d['plans']}  seeds {','.join(map(str, d['seeds']))}")
    print(f"  mean delay        {with_ci(d, 'delay_s')} s/veh (95% CI)")
    print(f"  mean max queue    {with_ci(d, 'mean_max_queue_m')} m")
    print(f"  p95 max queue     {with_ci(d, 'p95_max_queue_m')} m")
    print(f"  throughput        {with_ci(d, 'throughput_veh')} veh")
    print(f"  not inserted      {with_ci(d, 'not_inserted')} veh")
    print(f"  stops per vehicle {with_ci(d, 'stops_per_veh')}")
    print(f"  pedestrian wait   {with_ci(d, 'ped_wait_s')} s")
    rows = [{"approach": a["label"], "edge": a["approach"], "mean_max_queue_m": a["mean_max_queue_m"],
             "p95_max_queue_m": a["p95_max_queue_m"], "max_queue_m": a["max_queue_m"],
             "mean_max_queue_veh": a["mean_max_queue_veh"]} for a in d["approaches"]]
    print(format_table(rows, ["approach", "edge", "mean_max_queue_m", "p95_max_queue_m", "max_queue_m",
                              "mean_max_queue_veh"]))


def _add_executor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=("serial", "process", "dask"),
                   help="where simulations run: serial, process (a pool of --workers processes; the default) or "
                        "dask (a LocalCluster of --workers workers, or the cluster at --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask; workers need the "
                        "same signalopt and SUMO; scenario files are uploaded)")


def _executor(args: argparse.Namespace):  # noqa: ANN202 - Executor | None
    """The executor named by --executor/--scheduler, or None for the command's default."""
    kind = args.executor or ("dask" if args.scheduler else None)
    if kind is None:
        return None
    if args.scheduler and kind != "dask":
        raise InputError("--scheduler", "a scheduler address needs --executor dask", args.executor)
    from .executors import make_executor

    return make_executor(kind, workers=args.workers, scheduler=args.scheduler)


def cmd_simulate(args: argparse.Namespace) -> int:
    from .evaluator import parse_seeds, simulate
    from .formats.planfile import read_plans
    from .prepare import load_network
    from .scenario import read_scenario

    scenario = read_scenario(args.scenario)
    plans = read_plans(args.plans, network=load_network(scenario)) if args.plans else None
    seeds = parse_seeds(args.seeds) if args.seeds is not None else scenario.optimise_seeds
    executor = _executor(args)
    try:
        metrics = simulate(scenario, plans, seeds=seeds, workers=args.workers, executor=executor)
    finally:
        if executor is not None:
            executor.close()
    d = metrics.to_dict()
    d.pop("runs") if args.format == "table" else None
    _print_metrics(d, args.format)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ._clock import clock_text
    from .job import AUTO_CONTROL, check_retimable, resolve_control
    from .prepare import scenario_schedule
    from .session import Session

    session = Session(args.scenario)  # makes no worker process: info simulates nothing
    scenario, network, plans = session.scenario, session.network, session.existing
    warnings = list(session.existing_warnings)
    schedule = scenario_schedule(scenario, network)
    control, why = resolve_control(session, AUTO_CONTROL)
    # what optimising would change or refuse, found now rather than after a budget
    try:
        made_safe_notes, refusal = check_retimable(session), None
    except InputError as exc:
        made_safe_notes, refusal = [], str(exc)
    info = {
        "scenario": scenario.name, "description": scenario.description, "network": str(scenario.network_path),
        "begin_s": scenario.begin_s, "end_s": scenario.end_s, "warmup_s": scenario.warmup_s,
        "digest": scenario.digest,
        "signals": [{"id": s.id, "links": s.n_links, "crossings": len(s.ped_links), "programme": s.program.type,
                     "approaches": [a.label for a in s.approaches]} for s in network.signals
                    if s.id in plans.signal_ids],
        "existing_plans": [{"signal": p.signal_id, "cycle_s": p.cycle_s, "offset_s": p.offset_s,
                            "phases": [{"name": ph.name, "green_s": ph.green_s, "yellow_s": ph.yellow_s,
                                        "all_red_s": ph.all_red_s} for ph in p.phases]} for p in plans],
        "schedule": None if schedule is None else [
            {"period": per.name, "begin_s": per.begin_s, "end_s": per.end_s,
             "cycles_s": {p.signal_id: p.cycle_s for p in per.plans}} for per in schedule.periods],
        "warnings": warnings,
        "clearances": scenario.timing.clearance_rule,
        "run_control": {"control": control, "why": why},
        "made_safe_before_optimising": made_safe_notes,
        "cannot_optimise": refusal,
    }
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return 0
    print(f"scenario {info['scenario']}: {scenario.description}".rstrip(": "))
    print(f"  network {info['network']}")
    print(f"  window {scenario.begin_s:g}-{scenario.end_s:g} s, warm-up {scenario.warmup_s:g} s")
    for s in info["signals"]:
        p = plans[s["id"]]  # a plan file may list the signals in another order than the network
        splits = " | ".join(f"{ph.green_s:g}+{ph.yellow_s:g}+{ph.all_red_s:g}" for ph in p.phases)
        print(f"  signal {s['id']} ({s['programme']}): {s['links']} links, {s['crossings']} crossings, approaches "
              f"{', '.join(s['approaches'])}; cycle {p.cycle_s:g} s, offset {p.offset_s:g} s, splits {splits}")
    if schedule is not None:
        print(f"  time-of-day schedule {scenario.schedule_path}: {len(schedule.periods)} periods, each with its "
              f"own plans (the plans above are the scenario's base plans)")
        for per in schedule.periods:
            cycles = ", ".join(f"{p.signal_id} {p.cycle_s:g} s" for p in per.plans)
            print(f"    {per.name}: {clock_text(per.begin_s)}-{clock_text(per.end_s)}, cycles {cycles}")
    print(f"  clearances: {info['clearances']}; signalopt run retimes: {control} ({why})")
    for w in warnings:
        print(f"  warning: {w}")
    for note in made_safe_notes:
        print(f"  made safe before optimising: {note}")
    if refusal:
        print(f"  cannot optimise: {refusal}")
    return 0


def _optimise_io(args: argparse.Namespace):  # noqa: ANN202 - (Scenario, seeds, run folder or None, plan file)
    """``optimise``'s scenario, seeds, run folder and plan file, refused before any work if they cannot serve."""
    from .evaluator import parse_seeds
    from .scenario import read_scenario

    scenario = read_scenario(args.scenario)
    seeds = parse_seeds(args.seeds) if args.seeds is not None else scenario.optimise_seeds
    run_dir = _output_folder(Path(args.run_dir), "--run-dir") if args.run_dir else None
    if args.resume and run_dir is None:
        raise InputError("--resume", "needs --run-dir (the run to continue)", None)
    out = _output_file(Path(args.out) if args.out else (run_dir / "plans.json" if run_dir else Path("plans.json")),
                       "--out")
    return scenario, seeds, run_dir, out


def cmd_optimise(args: argparse.Namespace) -> int:
    if args.objectives is not None:
        return cmd_optimise_front(args)
    from .evaluator import simulate
    from .objective import NoWorseThan, objective_name, objective_value, parse_objective
    from .optimiser import optimise
    from .formats.planfile import write_plans

    scenario, seeds, run_dir, out = _optimise_io(args)
    executor = _executor(args)
    objective = parse_objective(args.objective)
    try:
        # the optimiser starts from the existing plans made safe; what runs on the street is scored apart (and,
        # with --guard, is what the plans are held to)
        existing = simulate(scenario, seeds=seeds, workers=args.workers, executor=executor)
        if args.guard:
            objective = NoWorseThan(objective, existing)
        result = optimise(scenario, objective=objective, method=args.method,
                          budget=args.budget, time_budget_s=args.time_budget, seeds=seeds, workers=args.workers,
                          rng=args.rng, run_dir=run_dir, resume=args.resume, per_signal_cycle=args.per_signal_cycle,
                          lead_lag=args.lead_lag, progress=not args.quiet, executor=executor, control=args.control)
        existing_fun = objective_value(objective, existing)
    finally:
        if executor is not None:
            executor.close()
    from .safety import validate_plans
    from .prepare import load_network, scenario_plans

    network = load_network(scenario)
    validate_plans(result.best_plans, network, timing=scenario.timing, source=str(out),
                   existing=scenario_plans(scenario, network)[0])
    write_plans(result.best_plans, out, provenance=result.provenance)
    summary = {"scenario": scenario.name, "objective": objective_name(objective), "fun": result.fun,
               "x0_fun": result.x0_fun, "existing_fun": existing_fun, "nfev": result.nfev,
               "nsim": result.nsim, "nsim_run": result.nsim_run, "message": result.message, "plans": str(out),
               "control": args.control, "cycles_s": {p.signal_id: p.cycle_s for p in result.best_plans}}
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        print(f"{scenario.name}: objective {existing_fun:.2f} for the existing timing as it runs; "
              f"{result.x0_fun:.2f} at the optimiser's start (the existing plans within its encoding: "
              f"{scenario.timing.clearance_rule}, "
              f"{'a cycle per signal' if args.per_signal_cycle else 'one common cycle'}) -> "
              f"{result.fun:.2f} optimised after "
              f"{result.nfev} candidates ({result.nsim_run} new simulations); {result.message}")
        if result.fun > existing_fun:
            print("  warning: the optimised plans score worse than the existing timing as it runs "
                  "(on the optimiser's seeds); compare them on held-out seeds before using them")
        for p in result.best_plans:
            splits = " | ".join(f"{ph.green_s:g}+{ph.yellow_s:g}+{ph.all_red_s:g}" for ph in p.phases)
            print(f"  {p.signal_id}: cycle {p.cycle_s:g} s, offset {p.offset_s:g} s, splits {splits}")
        print(f"plans written to {out}")
    return 0


def cmd_optimise_front(args: argparse.Namespace) -> int:
    """``optimise --objectives``: the Pareto front; the knee's plans go where single-objective plans would."""
    from ._xml import atomic_write_text
    from .evaluator import simulate
    from .formats.planfile import write_plans
    from .pareto import objective_values, optimise_front, parse_objectives
    from .prepare import load_network
    from .safety import validate_plans

    objectives = parse_objectives(args.objectives)
    if args.objective != "queue" or args.method != "differential_evolution" or args.time_budget is not None:
        raise InputError("--objectives", "a front is searched by optuna's sampler on an evaluation budget; drop "
                                         "--objective, --method and --time-budget", args.objectives)
    if args.guard:
        raise InputError("--guard", "a front shows the trade between its objectives, it is not held to the existing "
                                    "timing; drop --guard", args.objectives)
    scenario, seeds, run_dir, out = _optimise_io(args)
    front_dir = _output_folder(out.parent / "front", "--out")
    executor = _executor(args)
    try:
        front = optimise_front(scenario, objectives=objectives, budget=args.budget, seeds=seeds,
                               workers=args.workers, rng=args.rng, run_dir=run_dir, resume=args.resume,
                               sampler=args.sampler, max_spillback_share=args.max_spillback,
                               per_signal_cycle=args.per_signal_cycle,
                               lead_lag=args.lead_lag, progress=not args.quiet, executor=executor,
                               control=args.control)
        existing = objective_values(objectives, simulate(scenario, seeds=seeds, workers=args.workers,
                                                         executor=executor))
    finally:
        if executor is not None:
            executor.close()
    network = load_network(scenario)
    files = {}
    for plans in [*(m.plans for m in front.members), *front.candidates()]:
        validate_plans(plans, network, timing=scenario.timing, source=str(front_dir / f"{plans.name}.json"))
        files[plans.name] = write_plans(plans, front_dir / f"{plans.name}.json", provenance=front.provenance)
    write_plans(front.candidates()[0], out, provenance=front.provenance)
    record = front.to_dict()
    for m in record["members"]:
        m["file"] = str(files[m["name"]])
    record["existing"] = dict(zip(objectives, existing))
    record["files"] = {name: str(path) for name, path in files.items() if not name.startswith("front")}
    atomic_write_text(out.parent / "front.json", json.dumps(record, indent=2) + "\n")
    if args.format == "json":
        print(json.dumps({"scenario": scenario.name, "front": str(out.parent / "front.json"), "plans": str(out),
                          **{k: record[k] for k in ("objectives", "knee", "extremes", "existing", "nfev", "nsim",
                                                    "nsim_run", "message")},
                          "members": [{"name": m["name"], "values": m["values"]} for m in record["members"]]},
                         indent=2))
        return 0
    print(f"{scenario.name}: front of {len(front.members)} plan sets over {', '.join(objectives)} "
          f"({front.n_plans} plan sets scored, {front.nsim_run} new simulations; {front.message}); existing "
          f"timing as it runs: {', '.join(f'{k} {v:.2f}' for k, v in zip(objectives, existing))}")
    print(front.table())
    worse = [k for k, m in front.extremes().items() if front.value(m, k) > existing[objectives.index(k)]]
    if worse:
        print(f"  warning: no plan set on the front beats the existing timing as it runs on {', '.join(worse)} (on "
              f"the optimiser's seeds); compare them on held-out seeds before using them")
    print(f"knee plans written to {out}; the front in {out.parent / 'front.json'} and {front_dir}/")
    print(f"compare on held-out seeds: signalopt compare {args.scenario} "
          + " ".join(f"--plans {files[p.name]}" for p in front.candidates()))
    return 0


def _front_files(front_json: str | None) -> list[str]:
    """The plan files of a front's knee and ends, as ``optimise --objectives`` recorded them in front.json."""
    if front_json is None:
        return []
    try:
        files = json.loads(Path(front_json).read_text(encoding="utf-8"))["files"]
        return [str(files[name]) for name in files]
    except (ValueError, KeyError, TypeError):
        raise InputError(front_json, "not a front.json written by optimise --objectives (no 'files')", None) from None


def cmd_responsive(args: argparse.Namespace) -> int:
    from .evaluator import parse_seeds, simulate
    from .formats.planfile import read_plans, write_responsive
    from .objective import objective_value, parse_objective
    from .prepare import load_network, scenario_plans
    from .provenance import TIMING_KEY, timing_fields
    from .responsive_search import optimise_selection
    from .safety import validate_plans
    from .scenario import read_scenario

    scenario = read_scenario(args.scenario)
    network = load_network(scenario)
    existing = scenario_plans(scenario, network)[0]
    patterns = []
    for path in args.patterns:
        plans = read_plans(path, network=network)
        # as the section runs it: signals the file leaves out keep their existing plans
        validate_plans(existing.replace_plans(plans.plans), network, timing=scenario.timing, source=str(path))
        patterns.append(type(plans)(plans.plans, name=Path(path).stem))
    out = Path(args.out)
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    objective = parse_objective(args.objective)
    executor = _executor(args)
    try:
        result = optimise_selection(scenario, patterns, objective=objective, budget=args.budget, seeds=seeds,
                                    rng=args.rng, interval_s=args.interval, detector_m=args.detector_distance,
                                    run_dir=args.run_dir, resume=args.resume, workers=args.workers,
                                    executor=executor, progress=not args.quiet)
        # the lightest pattern alone, on the same seeds: what switching gains
        alone = objective_value(objective, simulate(scenario, result.best.patterns[0], seeds=result.seeds,
                                                    workers=args.workers, executor=executor))
    finally:
        if executor is not None:
            executor.close()
    write_responsive(result.best, out, provenance={
        "scenario": scenario.name, "digest": scenario.digest, "seeds": list(result.seeds), "budget": args.budget,
        "objective": args.objective, "rng": args.rng, "patterns": [str(p) for p in args.patterns],
        TIMING_KEY: timing_fields(scenario.timing)})
    sel = result.best.selection
    summary = {"scenario": scenario.name, "fun": result.best_value, "pattern0_fun": alone,
               "selection": sel.to_dict(), "nsim_run": result.n_simulations, "out": str(out)}
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        print(f"{scenario.name}: objective {alone:.2f} with {patterns[0].name} alone -> {result.best_value:.2f} "
              f"responsive after {len(result.trials)} candidate settings ({result.n_simulations} new simulations)")
        print(f"  thresholds {', '.join(f'{t:g}' for t in sel.thresholds)}, hysteresis {sel.hysteresis:g}, "
              f"occupancy weight {sel.occupancy_weight:g}, smoothing {sel.smoothing:g}, every {sel.interval_s:g} s, "
              f"{len(result.best.detectors)} system detectors {sel.detector_m:g} m upstream")
        if result.best_value > alone:
            print(f"  warning: switching scores worse than {patterns[0].name} alone on the search's seeds")
        print(f"responsive plans written to {out}; compare them with: signalopt compare {args.scenario} "
              f"--responsive {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .baselines import parse_baselines, responsive_candidate
    from .comparison import DEFAULT_COMPARE_SEEDS, compare
    from .evaluator import parse_seeds
    from .formats.planfile import read_plan_file, read_responsive
    from .prepare import load_network
    from .scenario import read_scenario

    scenario = read_scenario(args.scenario)
    network = load_network(scenario)
    plan_sets, opt_seeds = [], set(scenario.optimise_seeds)
    for path in [*(args.plans or []), *_front_files(args.front)]:
        plans, provenance = read_plan_file(path, network=network)
        name = Path(path).stem
        plan_sets.append(type(plans)(plans.plans, name=name))
        recorded = provenance.get("seeds", [])
        if not isinstance(recorded, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in recorded):
            raise InputError(path, "provenance.seeds must be a list of integer seeds", repr(recorded)[:60])
        opt_seeds.update(recorded)
    for path in args.responsive or []:
        section, provenance = read_responsive(path, network=network)
        plan_sets.append(responsive_candidate(Path(path).stem, section))
        opt_seeds.update(s for s in provenance.get("seeds", []) if isinstance(s, int) and not isinstance(s, bool))
    seeds = parse_seeds(args.seeds) if args.seeds is not None else DEFAULT_COMPARE_SEEDS
    baselines = parse_baselines(args.baselines)
    executor = _executor(args)
    try:
        comparison = compare(scenario, plan_sets, seeds=seeds, baselines=baselines,
                             optimiser_seeds=sorted(opt_seeds), workers=args.workers, executor=executor,
                             progress=not args.quiet)
    finally:
        if executor is not None:
            executor.close()
    rows = comparison.to_dict()
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        for note in comparison.notes:  # stdout holds the JSON alone
            print(f"note: {note}", file=sys.stderr)
    else:
        print(comparison.summary())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .baselines import parse_baselines
    from .evaluator import parse_seeds
    from .job import run_job
    from .objective import parse_objective

    if args.objectives is not None and args.objective != "queue":
        raise InputError("--objectives", "a front trades the objectives it names; drop --objective", args.objectives)
    _output_folder(Path(args.out), "--out")
    executor = _executor(args)
    try:
        job = run_job(args.scenario, budget=args.budget, out_dir=args.out, workers=args.workers, rng=args.rng,
                      seeds=parse_seeds(args.seeds) if args.seeds is not None else None, resume=args.resume,
                      baselines=parse_baselines(args.baselines), progress=not args.quiet, executor=executor,
                      objectives=args.objectives, objective=parse_objective(args.objective),
                      control=args.control, guard=not args.no_guard,
                      **({"compare_seeds": parse_seeds(args.compare_seeds, source="--compare-seeds")}
                         if args.compare_seeds is not None else {}))
    finally:
        if executor is not None:
            executor.close()
    for name in job.candidates:
        print(job.comparison.headline(name))
    print(job.advice)
    print(job.comparison.table())
    print(f"report: {job.report}")
    print(f"plans:  {job.plans_dir}  (signalopt JSON and SUMO additional)")
    print(f"wall time {job.wall_s / 60:.1f} min")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .network import read_network
    from .formats.planfile import plan_file_kind, read_plan_file
    from .provenance import timing_from_provenance
    from .safety import check_plans, check_schedule
    from .schedule import read_schedule_file

    network = read_network(args.network) if args.network else None
    if network is None:
        raise InputError("--network", "validate needs the network the plans are for", None)
    kind = plan_file_kind(args.planfile)
    if kind == "responsive":
        raise InputError(args.planfile, "validate checks plan and schedule files; a responsive file is checked "
                                        "pattern by pattern when it is exported (signalopt export)", kind)
    read = read_schedule_file if kind == "schedule" else read_plan_file
    plans, provenance = read(args.planfile, network=network)
    # held to the minimums and clearance rule the plans were built under (the defaults for a hand-written file)
    timing = timing_from_provenance(provenance, source=str(args.planfile))
    # a schedule: every period's plans and every transition between them
    violations = (check_schedule if kind == "schedule" else check_plans)(plans, network, timing=timing)
    rows = [{"intersection": v.signal_id, "phase": v.phase, "rule": v.rule, "value": v.value, "limit": v.limit}
            for v in violations]
    target_error = None
    if not violations and args.target:
        from .errors import PlanError
        from .export import check_format, check_schedule_format

        try:
            if kind == "schedule":
                check_schedule_format(plans, args.target, network=network, timing=timing)
            else:
                check_format(plans, args.target, network=network, timing=timing)
        except PlanError as exc:
            target_error = f"{args.planfile}: {args.target} export refused: {exc}"
    n_signals = len(plans.signal_ids) if kind == "schedule" else len(plans)
    if args.format == "json":
        print(json.dumps({"planfile": str(args.planfile), "signals": n_signals, "safe": not violations,
                          "violations": rows, **({"target": args.target, "target_error": target_error}
                                                 if args.target else {})}, indent=2))
    elif violations:  # the report on stdout; the error is the one line on stderr
        print(format_table(rows, ["intersection", "phase", "rule", "value", "limit"]))
    if violations:
        print(f"signalopt: error: {args.planfile}: unsafe plan, {len(violations)} violation(s)", file=sys.stderr)
        return EXIT_INPUT
    if target_error:
        print(f"signalopt: error: {target_error}".splitlines()[0], file=sys.stderr)
        return EXIT_INPUT
    if args.format != "json":
        extra = f"; fits {args.target}" if args.target else ""
        what = f"{n_signals} signals in {len(plans.periods)} periods" if kind == "schedule" else f"{n_signals} signals"
        print(f"{args.planfile}: safe ({what} checked{extra})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_paths, export_plans, export_responsive, export_schedule
    from .network import read_network
    from .formats.planfile import plan_file_kind, read_plan_file, read_responsive
    from .provenance import timing_from_provenance
    from .schedule import read_schedule_file

    network = read_network(args.network)
    # a responsive plan file is a pattern library with its selection settings; a schedule, plans by time of day
    read, export = {"plans": (read_plan_file, export_plans), "responsive": (read_responsive, export_responsive),
                    "schedule": (read_schedule_file, export_schedule)}[plan_file_kind(args.planfile)]
    content, provenance = read(args.planfile, network=network)
    for path in export_paths(args.format, args.out):
        _output_file(path, "--out")
        if path.resolve() == Path(args.planfile).resolve():
            raise InputError("--out", "would overwrite the plan file it exports", str(path))
    export(content, args.format, args.out, network=network, provenance=provenance,
           timing=timing_from_provenance(provenance, source=str(args.planfile)))
    for path in export_paths(args.format, args.out):
        print(f"wrote {path}")
    return 0


def cmd_tod(args: argparse.Namespace) -> int:
    from .evaluator import parse_seeds
    from .tod import DEFAULT_DAY_SEEDS, lane_use_winners, time_of_day

    if args.periods is not None and args.periods > args.max_periods:
        raise InputError("--periods", f"more periods than --max-periods ({args.max_periods})", args.periods)
    _output_folder(Path(args.out), "--out")
    result = time_of_day(args.scenario, max_periods=args.max_periods, min_period_s=args.min_period * 60,
                         n_periods=args.periods, budget=args.budget,
                         seeds=parse_seeds(args.seeds) if args.seeds is not None else None,
                         day_seeds=parse_seeds(args.day_seeds, source="--day-seeds") if args.day_seeds is not None
                         else DEFAULT_DAY_SEEDS, variants=args.variants, workers=args.workers, rng=args.rng,
                         out_dir=args.out, resume=args.resume, control=args.control)
    rows = [{"lane use": r.variant, "schedule": r.schedule, "period": r.period,
             "mean max queue m": f"{r.mean_max_queue_m:.1f} [{r.mean_max_queue_m_ci95[0]:.1f}, "
                                 f"{r.mean_max_queue_m_ci95[1]:.1f}]",
             "vs existing": "" if r.schedule == "existing" else f"{r.delta_vs_existing_pct:+.1f}%",
             "delay s/veh": f"{r.delay_s:.1f} [{r.delay_s_ci95[0]:.1f}, {r.delay_s_ci95[1]:.1f}]"}
            for r in result.rows]
    print(format_table(rows, list(rows[0])))
    if args.variants:
        for period, variant, q in lane_use_winners(result.rows):
            print(f"  {period}: {variant} lane use wins ({q:.1f} m)")
    print(f"report: {result.out_dir / 'report.html'}  schedules: {result.out_dir / 'schedules'}  "
          f"({result.wall_s / 60:.1f} min)")
    return 0


def cmd_import_osm(args: argparse.Namespace) -> int:
    from .importers.osm import import_osm, parse_bbox, parse_window
    from .importers.utdf import parse_time

    if args.utdf is None and (args.map is not None or args.time is not None):
        raise InputError("--map" if args.map is not None else "--time", "goes with --utdf FILE.csv", None)
    report = import_osm(args.osm, _output_folder(Path(args.out), "--out"),
                        bbox=parse_bbox(args.bbox) if args.bbox is not None else None,
                        signals_from_osm=args.signals_from_osm, window_s=parse_window(args.window),
                        utdf=args.utdf, utdf_map=args.map,
                        utdf_time_s=parse_time(args.time) if args.time is not None else None)
    print(report.text())
    return 0


def _import_done(report, fmt: str) -> int:  # noqa: ANN001 - an ImportReport
    print(json.dumps(report.to_dict(), indent=2) if fmt == "json" else report.text(), end="" if fmt != "json" else "\n")
    return 0


def cmd_import_events(args: argparse.Namespace) -> int:
    from datetime import date

    from .importers.eventlog import import_event_log

    try:
        day = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        raise InputError("--date", "must be a day as YYYY-MM-DD", args.date) from None
    _output_folder(Path(args.out), "--out")
    done = import_event_log(args.log, args.detectors, args.network, args.out, phases_path=args.phases, day=day,
                            interval_s=args.interval * 60)
    return _import_done(done.report, args.format)


def cmd_import_counts(args: argparse.Namespace) -> int:
    from .importers.detcounts import import_detector_counts

    _output_folder(Path(args.out), "--out")
    done = import_detector_counts(args.counts, args.detectors, args.network, args.out, interval_s=args.interval * 60)
    return _import_done(done.report, args.format)


def _add_import_parsers(imports: argparse._SubParsersAction) -> None:
    """``import events`` and ``import counts``: controller event logs and detector counts in."""
    q = imports.add_parser("events", help="controller event log (ATSPM hi-res CSV) -> counts, existing plan, report")
    q.add_argument("log", help="event log CSV: SignalID,Timestamp,EventCode,EventParam")
    q.add_argument("--detectors", required=True, help="detector map CSV: SignalID,channel,intersection,approach,"
                                                      "movement,lane")
    q.add_argument("--phases", help="phase map CSV: SignalID,phase,intersection,approach,movement[,lane] (default: "
                                    "signalopt's numbering of the network plan's dual ring)")
    q.add_argument("--network", required=True, help="SUMO .net.xml the maps refer to")
    q.add_argument("--out", required=True, help="folder for counts.csv, plans.json, timing.csv, scenario.toml, "
                                                "the report")
    q.add_argument("--date", help="the day to import from a log of several days (YYYY-MM-DD)")
    q.add_argument("--interval", type=_positive_float, default=15.0, help="counting interval [min] (default 15)")
    q.add_argument("--format", choices=("table", "json"), default="table", help="the report as text or JSON")
    q.set_defaults(func=cmd_import_events)
    q = imports.add_parser("counts", help="detector counts CSV -> movement counts, report")
    q.add_argument("counts", help="detector counts CSV: SignalID,channel,interval,count")
    q.add_argument("--detectors", required=True, help="detector map CSV (as for import events)")
    q.add_argument("--network", required=True, help="SUMO .net.xml the map refers to")
    q.add_argument("--out", required=True, help="folder for counts.csv, scenario.toml, the report")
    q.add_argument("--interval", type=_positive_float, default=15.0, help="counting interval [min] (default 15)")
    q.add_argument("--format", choices=("table", "json"), default="table", help="the report as text or JSON")
    q.set_defaults(func=cmd_import_counts)


def cmd_import_utdf(args: argparse.Namespace) -> int:
    from .importers.utdf import import_utdf, parse_time

    report = import_utdf(args.utdf, args.network, _output_folder(Path(args.out), "--out"), map_path=args.map,
                         time_s=parse_time(args.time) if args.time is not None else None)
    print(report.text())
    return 0


def _add_utdf_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--map", metavar="MAP.csv", help="which UTDF node is which signal: rows INTID,signal (default: "
                                                   "matched by DESCRIPTION, street names, then coordinates)")
    p.add_argument("--time", metavar="HH:MM", help="the hourly volume set to import when [Volumes] holds several "
                                                   "(15-minute counts are imported as one series)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="signalopt", description="Signal-timing optimisation in SUMO.")
    parser.add_argument("--version", action="version", version=f"signalopt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("simulate", help="simulate a scenario and measure queues and delay")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--plans", help="signalopt JSON plan file (default: the existing plans)")
    p.add_argument("--seeds", help="seeds, e.g. 1,2,3 or 1-5 (default: the scenario's)")
    p.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1), help="worker processes")
    _add_executor_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("optimise", help="retime cycle, splits and offsets by simulation")
    p.add_argument("scenario")
    p.add_argument("--budget", type=int, default=60, help="new candidate plan sets to simulate; repeats are free (default 60)")
    p.add_argument("--time-budget", type=_positive_float, help="stop after this many seconds")
    p.add_argument("--seeds", help="seeds every candidate is scored on (default: the scenario's)")
    p.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1))
    _add_executor_args(p)
    p.add_argument("--objective", default="queue",
                   help="queue, delay, pi (delay + 20 s per stop, spillback penalised), or weights over queue, "
                        "delay, stops, spillback like delay=1,stops=20")
    p.add_argument("--method", default="differential_evolution",
                   choices=("differential_evolution", "nelder-mead", "powell", "direct"))
    p.add_argument("--guard", action="store_true",
                   help="hold the objective to the existing timing as signalopt run does: plans with more delay or a "
                        "longer 95th-percentile queue than the existing timing on the seeds are penalised")
    p.add_argument("--objectives", metavar="A,B[,...]",
                   help="search the Pareto front over two or more of delay, queue, stops, spillback, ped_delay "
                        "(optuna); writes the knee's plans to --out and the front beside them")
    p.add_argument("--sampler", choices=("nsga2", "tpe"), default="tpe",
                   help="with --objectives: optuna's multi-objective TPE (default) or NSGA-II")
    p.add_argument("--max-spillback", type=float, metavar="SHARE",
                   help="with --objectives: plan sets whose share of approach-cycles with a spillback exceeds "
                        "SHARE are infeasible")
    p.add_argument("--rng", type=int, default=0, help="optimiser seed (same seed, same result)")
    p.add_argument("--run-dir", help="journal every simulation here (needed for --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    p.add_argument("--per-signal-cycle", action="store_true", help="a cycle per signal instead of a common one")
    p.add_argument("--lead-lag", action="store_true", help="also choose leading or lagging left turns")
    p.add_argument("--control", choices=("fixed", "actuated", "coordinated"), default="fixed",
                   help="fixed: cycle, splits, offsets (default); actuated: minimum and maximum greens, passage "
                        "times and detector distances over the existing stages, run by SUMO's actuated controller; "
                        "coordinated: cycle, splits, offsets, detector distance and passage, run coordinated-"
                        "actuated by SUMO's NEMA controller (greens up to their splits, the coordinated phases "
                        "take the unused time)")
    p.add_argument("--out", help="plan file to write (default RUN_DIR/plans.json or plans.json)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_optimise)

    p = sub.add_parser("compare", help="compare plan files and baselines on held-out seeds")
    p.add_argument("scenario")
    p.add_argument("--plans", action="append", help="signalopt JSON plan file (repeatable)")
    p.add_argument("--front", metavar="FRONT_JSON", help="also compare the knee and each objective's best of a "
                                                      "front written by optimise --objectives")
    p.add_argument("--responsive", action="append", metavar="FILE",
                   help="a traffic-responsive plan file written by signalopt responsive (repeatable)")
    p.add_argument("--baselines", default="existing,webster", help="comma list of " + ",".join(
        ("existing", "webster", "sumo-webster", "actuated", "delay_based", "max_pressure")))
    p.add_argument("--seeds", help="held-out seeds (default 101-110)")
    p.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1))
    _add_executor_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("responsive", help="traffic-responsive plan selection: optimise when to switch between "
                                          "pattern plan files by detector volume and occupancy")
    p.add_argument("scenario", help="scenario whose traffic the controller responds to (e.g. an evening with a surge)")
    p.add_argument("--patterns", nargs="+", required=True, metavar="PLANS_JSON",
                   help="two or more plan files, lightest demand first")
    p.add_argument("--budget", type=_positive_int, default=16, help="candidate settings to simulate (default 16)")
    p.add_argument("--objective", default="delay", help="as for optimise (default delay)")
    p.add_argument("--interval", type=_positive_float, default=300.0,
                   help="computation interval: detectors read and a pattern chosen this often [s] (default 300)")
    p.add_argument("--detector-distance", type=_positive_float, default=60.0,
                   help="system detectors' distance from the stop line [m] (default 60)")
    p.add_argument("--seeds", help="seeds every candidate is scored on (default: the scenario's)")
    p.add_argument("--rng", type=int, default=0, help="search seed (same seed, same result)")
    p.add_argument("--run-dir", help="journal every simulation here (needed for --resume)")
    p.add_argument("--resume", action="store_true", help="continue the search in --run-dir")
    p.add_argument("--out", default="responsive.json", help="responsive plan file to write (default responsive.json)")
    p.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1))
    _add_executor_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_responsive)

    p = sub.add_parser("run", help="the main job: optimise, compare with baselines, report, export")
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: the bundled qixiangtai_summer_am)")
    p.add_argument("--budget", type=int, help="new candidate plan sets to simulate (default: what fits in about 1.5 min of "
                                                "simulation, 12 to 100)")
    p.add_argument("--out", default="out", help="output directory (default ./out)")
    p.add_argument("--seeds", help="optimiser seeds (default: the scenario's)")
    p.add_argument("--compare-seeds", help="held-out comparison seeds (default 101-110)")
    p.add_argument("--baselines", default="existing,webster,sumo-webster,actuated,delay_based,max_pressure")
    p.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1))
    _add_executor_args(p)
    p.add_argument("--rng", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--objective", default="queue",
                   help="what the optimiser minimises: queue (default), delay, pi (delay + 20 s per stop, spillback "
                        "penalised), or weights like delay=1,stops=20")
    p.add_argument("--no-guard", action="store_true",
                   help="let the optimiser trade delay or the 95th-percentile queue against its objective (by "
                        "default plans worse than the existing timing on either are penalised)")
    p.add_argument("--objectives", metavar="A,B[,...]",
                   help="optimise the Pareto front over two or more of delay, queue, stops, spillback, ped_delay and "
                        "compare its knee and each objective's best (knee, best-<objective>)")
    p.add_argument("--control", choices=("auto", "fixed", "actuated", "coordinated"), default="auto",
                   help="auto (default): the kind of controller the signals run today (actuated where every one "
                        "runs actuated or NEMA control, else fixed time); fixed: retime cycle, splits, offsets; "
                        "actuated: tune actuated settings over the existing stages; coordinated: retime cycle, "
                        "splits, offsets run coordinated-actuated (SUMO's NEMA controller; plans exported as nema)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_run)

    export_formats = ("json", "sumo", "nema", "ntcip", "utdf", "csv")  # signalopt.export.FORMATS (not imported here)
    p = sub.add_parser("validate", help="safety-check a plan file against its network")
    p.add_argument("planfile", help="signalopt JSON plan file, a time-of-day schedule file (every period and "
                                    "transition), or a SUMO additional file (.xml) with static tlLogic")
    p.add_argument("--network", help="SUMO .net.xml the plans are for")
    p.add_argument("--target", choices=export_formats, help="also check the plans fit this export format")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", help="export a plan file (validated first)")
    p.add_argument("planfile", help="signalopt JSON plan file, a responsive plan file (written as json, or as ntcip "
                                    "with its patterns and pattern selection settings), a time-of-day schedule "
                                    "file (json, sumo WAUT for fixed-time plans, ntcip day plan), or a SUMO "
                                    "additional file (.xml) with static tlLogic")
    p.add_argument("--network", required=True, help="SUMO .net.xml the plans are for")
    p.add_argument("--format", default="sumo", choices=export_formats,
                   help="json, sumo (static tlLogic), nema (SUMO NEMA dual ring), ntcip (NTCIP 1202 sheet: "
                        ".csv/.json by --out suffix, both otherwise), utdf (Synchro UTDF CSV), csv (timing sheet)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("tod", help="re-divide the day into control periods, retime each, compare whole days")
    p.add_argument("scenario", help="a day scenario with 15-minute counts (and an existing schedule)")
    p.add_argument("--max-periods", type=_positive_int, default=6)
    p.add_argument("--periods", type=_positive_int, help="force this many periods (default: elbow rule)")
    p.add_argument("--min-period", type=_positive_float, default=60.0, help="shortest period [min] (default 60)")
    p.add_argument("--budget", type=int, default=20,
                   help="new candidate plan sets per period (--control actuated: per group of periods)")
    p.add_argument("--seeds", help="optimiser seeds (default: the scenario's)")
    p.add_argument("--day-seeds", help="held-out seeds for the whole-day comparison (default 101-105)")
    p.add_argument("--variants", action="store_true", help="also retime every lane-use variant and compare")
    p.add_argument("--workers", type=_positive_int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--rng", type=int, default=0)
    p.add_argument("--out", default="out-tod")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--control", choices=("auto", "fixed", "actuated"), default="auto",
                   help="auto (default): the kind of controller the signals run today; fixed: a fixed-time plan "
                        "per period; actuated: free actuated settings a controller holds all day (one detector "
                        "distance and passage, a set of maxima (Max 1 or 2) for the heavier periods and one for the lighter)")
    p.set_defaults(func=cmd_tod)

    p = sub.add_parser("import", help="build a scenario from an outside format")
    formats = p.add_subparsers(dest="importer", metavar="FORMAT", required=True, parser_class=_Parser)
    q = formats.add_parser("osm", help="an OpenStreetMap XML extract: SUMO network (netconvert), scenario, empty "
                                       "counts template, import report")
    q.add_argument("osm", help="OpenStreetMap XML file (.osm)")
    q.add_argument("--out", required=True, help="folder for NAME.net.xml, NAME.toml, NAME_vehicles.csv and the "
                                                "import report (NAME: the extract's file name)")
    q.add_argument("--bbox", metavar="W,S,E,N", help="keep only roads within this box [degrees]; a negative "
                                                     "longitude needs --bbox=-0.2,51.4,0.1,51.6")
    q.add_argument("--signals-from-osm", action="store_true",
                   help="signals only where OSM tags highway=traffic_signals (default: netconvert also guesses "
                        "signals at busy junctions; the report names them)")
    q.add_argument("--window", default="07:00-08:30", metavar="HH:MM-HH:MM",
                   help="the counted period: the scenario's window and the template's 15-minute rows "
                        "(default 07:00-08:30; the first 15 minutes warm up)")
    q.add_argument("--utdf", metavar="FILE.csv", help="also import a Synchro UTDF file onto the network: its timing "
                                                      "as the existing plans, its volumes as the counts")
    _add_utdf_args(q)
    q.set_defaults(func=cmd_import_osm)
    q = formats.add_parser("utdf", help="a Synchro UTDF combined CSV onto a SUMO network: its timing as the existing "
                                        "plans, its volumes as counts, a scenario, an import report")
    q.add_argument("utdf", help="UTDF combined CSV (Synchro's or signalopt's)")
    q.add_argument("--network", required=True, help="SUMO .net.xml whose signals the file times")
    _add_utdf_args(q)
    q.add_argument("--out", required=True, help="folder for NAME.toml, NAME_vehicles.csv, NAME_plans.json and the "
                                                "import report (NAME: the UTDF file's name)")
    q.set_defaults(func=cmd_import_utdf)
    _add_import_parsers(formats)

    p = sub.add_parser("info", help="describe a scenario, its signals and existing plans")
    p.add_argument("scenario")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``signalopt`` console script."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except SignaloptError as exc:
        print(f"signalopt: error: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:  # a file that cannot be read or written: the file and the reason, one line
        where = exc.filename or "signalopt"
        print(f"signalopt: error: {where}: {exc.strerror or exc}".splitlines()[0], file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("signalopt: interrupted; journalled work is kept (resume with --resume)", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        if os.environ.get("SIGNALOPT_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"signalopt: internal error: {type(exc).__name__}: {first} (set SIGNALOPT_DEBUG=1 for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
