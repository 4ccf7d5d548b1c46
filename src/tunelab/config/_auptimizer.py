"""Auptimizer ``experiment.json`` files.

Defaults follow what Auptimizer itself does rather than only its docs: ``target`` max,
``n_parallel`` 1, ``job_retries`` 3 once a ``job_failure`` block is given, and the
``sequence`` proposer runs its whole grid whatever ``n_samples`` says. Trials keep
Auptimizer's calling convention: the parameters' JSON file is the script's ``argv[1]``.

The ``hyperband`` and ``bohb`` proposers become tunelab's Hyperband and BOHB schedulers;
as in Auptimizer, a trial's budget arrives as its ``n_iterations`` parameter and the
experiment runs as many jobs as the proposer would. ``resource_args.early_stop`` becomes
an assessor.
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Any

from tunelab.config._common import (
    Context,
    check_space,
    check_tuner,
    get_bool,
    get_int,
    get_str,
    mapping,
    reject_unknown,
)

_FIELDS = (
    "name",
    "proposer",
    "n_samples",
    "n_parallel",
    "random_seed",
    "script",
    "parameter_config",
    "resource",
    "resource_args",
    "job_failure",
    "target",
    "workingdir",
    "cwd",
    "runtime_args",
)
#: Proposer settings tunelab's tuners have no use for; accepted with a warning.
_PROPOSER_ONLY = ("engine", "engine_config", "grid_size", "spearmint_dir")
_RESOURCE_ARGS_USED = ("multi_res_labels", "track_intermediate_results", "save_model", "early_stop")
#: Settings of the Hyperband-style proposers, read at the top level as Auptimizer does.
_BANDIT_FIELDS = {
    "hyperband": ("max_iter", "eta", "skip_last", "engine"),
    "bohb": (
        "n_iterations",
        "min_budget",
        "max_budget",
        "eta",
        "min_points_in_model",
        "top_n_percent",
        "num_samples",
        "random_fraction",
        "bandwidth_factor",
        "min_bandwidth",
    ),
}

#: Keys that tell an Auptimizer config apart (tunelab's YAML has none of them).
AUPTIMIZER_MARKERS = frozenset({"proposer", "parameter_config", "script", "n_samples", "n_parallel", "job_failure"})


def load_auptimizer(ctx: Context, raw: Any) -> dict[str, Any]:
    """Translate an Auptimizer experiment.json into the fields of :class:`ExperimentConfig`."""
    data = mapping(ctx, raw, "")
    ctx.fields.update({"trial.command": "script", "trial.code_dir": "workingdir"})
    proposer = get_str(ctx, data, "proposer", "proposer", default="random")
    bandit = _BANDIT_FIELDS.get(proposer.lower())
    tuner = "random" if bandit else _tuner_name(ctx, proposer, data)
    reject_unknown(ctx, data, _FIELDS + _PROPOSER_ONLY + (bandit or ()))
    for key in _PROPOSER_ONLY:
        if key in data and not (key == "engine" and (proposer == "hyperopt" or bandit)):
            ctx.warn(key, f"a setting of Auptimizer's {proposer} proposer; ignored")
    for key in ("cwd", "runtime_args"):
        if key in data:
            ctx.warn(key, "ignored: trials run in workingdir with the default runtime")

    target = get_str(ctx, data, "target", "target", default="max")
    if target not in ("min", "max"):
        raise ctx.error("target", f"expected 'min' or 'max', got {target!r}")
    seed = get_int(ctx, data, "random_seed", "random_seed", default=None, minimum=0)

    entries = data.get("parameter_config")
    if not isinstance(entries, list):
        raise ctx.error(
            "parameter_config",
            f"expected a list of {{name, range, type}}, got {entries!r}"
            if entries is not None
            else "this field is required",
        )
    entries, args = _grid_settings(ctx, entries) if tuner == "grid" else (_plain(entries), {})
    space = check_space(ctx, entries, "parameter_config")
    check_tuner(ctx, tuner, args, space=space, mode=target, seed=seed, where="proposer", name_where="proposer")

    max_trials = get_int(ctx, data, "n_samples", "n_samples", default=None)
    scheduler = None
    if bandit:
        scheduler, jobs = _bandit_scheduler(ctx, proposer.lower(), data, entries)
        if max_trials is not None:
            ctx.warn("n_samples", f"the {proposer} proposer decides how many jobs run ({jobs}); n_samples is ignored")
        max_trials = jobs
    elif tuner == "grid" and max_trials is not None:
        ctx.warn("n_samples", "the sequence proposer runs its whole grid; n_samples is ignored")
        max_trials = None
    elif max_trials is None and tuner != "grid":
        max_trials = 10  # Auptimizer's documented default

    return {
        "name": get_str(ctx, data, "name", "name", default=None),
        "search_space": space,
        "trial": _trial(ctx, data),
        "tuner": {"name": tuner, "args": args},
        "mode": target,
        "seed": seed,
        "max_trials": max_trials,
        "concurrency": get_int(ctx, data, "n_parallel", "n_parallel", default=1),
        "failure": _failure(ctx, data.get("job_failure")),
        "save_best_model": _save_model(ctx, data),
        **({"scheduler": scheduler} if scheduler else {}),
        **({"assessor": _early_stop(ctx, data)} if _has_early_stop(data) else {}),
    }


def _bandit_scheduler(
    ctx: Context, proposer: str, data: dict[str, Any], entries: list[Any]
) -> tuple[dict[str, Any], int]:
    """The Hyperband/BOHB scheduler section for the proposer, and the number of jobs Auptimizer would run."""
    from tunelab.errors import ConfigError
    from tunelab.schedulers import bracket_plan, from_auptimizer_proposer, max_bracket

    if any(isinstance(e, dict) and e.get("name") in ("tid", "n_iterations") for e in entries):
        raise ctx.error("parameter_config", f"'tid' and 'n_iterations' are reserved for the {proposer} proposer")
    settings = {key: data[key] for key in _BANDIT_FIELDS[proposer] if key in data}
    # Auptimizer's own examples write "min_points_in_model": "" for "the default" (its BOHB
    # proposer turns any falsy value into None); an empty value elsewhere means the same here.
    for key in [k for k, v in settings.items() if v is None or v == ""]:
        del settings[key]
        if key != "min_points_in_model":
            ctx.warn(key, f"empty; the {proposer} proposer's default is used")
    if settings.get("min_points_in_model") == 0:
        del settings["min_points_in_model"]
    engine = settings.pop("engine", "random")
    if engine != "random":
        raise ctx.error("engine", f"the hyperband proposer draws configurations at random here, got {engine!r}")
    if settings.pop("skip_last", 0):
        ctx.warn("skip_last", "every rung of a bracket runs; skip_last is ignored")
    eta = settings.setdefault("eta", 3)
    if proposer == "hyperband":
        max_budget = settings.setdefault("max_iter", 81)
        min_budget = 1
    else:
        iterations = get_int(ctx, settings, "n_iterations", "n_iterations", default=4)
        settings.pop("n_iterations", None)
        max_budget, min_budget = settings.get("max_budget", 1), settings.get("min_budget", 0.01)
        for key, value in (("min_budget", min_budget), ("max_budget", max_budget)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1 or value != int(value):
                raise ctx.error(
                    key,
                    f"budgets are whole units (epochs, rounds) here, got {value!r}; "
                    "give e.g. min_budget 1, max_budget 27",
                )
        settings.update(min_budget=min_budget, max_budget=max_budget)
    for key, value in (("eta", eta), ("max_iter" if proposer == "hyperband" else "max_budget", max_budget)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 1:
            raise ctx.error(key, f"expected a number above 1, got {value!r}")
    try:
        _, scheduler = from_auptimizer_proposer(proposer, settings)
    except ConfigError as exc:
        raise ctx.error("proposer", str(exc)) from None
    scheduler["budget_param"] = "n_iterations"
    s_max = max_bracket(max_budget, min_budget, eta)
    brackets = range(s_max, -1, -1) if proposer == "hyperband" else [s_max - i % (s_max + 1) for i in range(iterations)]
    jobs = sum(n for s in brackets for n, _ in bracket_plan(s, s_max, max_budget, eta))
    return scheduler, jobs


def _has_early_stop(data: dict[str, Any]) -> bool:
    args = data.get("resource_args")
    return isinstance(args, dict) and args.get("early_stop") is not None


def _early_stop(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """``resource_args.early_stop`` (``aup_policy``...) as tunelab's matching assessor."""
    from tunelab.errors import ConfigError
    from tunelab.schedulers import from_auptimizer

    try:
        return from_auptimizer(mapping(ctx, data["resource_args"]["early_stop"], "resource_args.early_stop"))
    except ConfigError as exc:
        raise ctx.error("", str(exc)) from None


def _tuner_name(ctx: Context, proposer: str, data: dict[str, Any]) -> str:
    """Auptimizer's ``hyperopt`` proposer is TPE (or random search with ``engine: random``)."""
    if proposer.lower() == "passive" and not _batch_shaped(data.get("parameter_config")):
        raise ctx.error(
            "proposer",
            'Auptimizer has no \'passive\' proposer (its passive mode is "resource": "passive", jobs started by '
            "hand, with a proposer such as \"random\"); tunelab's 'passive' is the batch tuner, which needs one "
            "choice parameter named combine_params listing the configurations",
        )
    if proposer.lower() == "hyperopt":
        engine = data.get("engine", "tpe")
        if engine not in ("tpe", "random"):
            raise ctx.error("engine", f"expected 'tpe' or 'random' for the hyperopt proposer, got {engine!r}")
        return engine
    from tunelab.errors import TunerError
    from tunelab.tuners import resolve_tuner_name

    try:
        return resolve_tuner_name(proposer)
    except TunerError as exc:
        raise ctx.error("proposer", str(exc).removeprefix("tuner: "), type(exc)) from None


def _batch_shaped(entries: Any) -> bool:
    return (
        isinstance(entries, list)
        and len(entries) == 1
        and isinstance(entries[0], dict)
        and entries[0].get("name") == "combine_params"
        and entries[0].get("type") == "choice"
    )


def _plain(entries: list[Any]) -> list[Any]:
    """Drop keys other proposers carry (Spearmint's ``size``, sequence's ``n``/``interval``)."""
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            entry = {k: v for k, v in entry.items() if k not in ("size", "n", "interval")}
        out.append(entry)
    return out


def _grid_settings(ctx: Context, entries: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Auptimizer's sequence grid: ``n`` points per float, or every ``interval`` (default 1).

    ``n`` maps onto the grid tuner's ``n_points``; an explicit ``interval`` (and any int
    parameter stepped by more than 1) becomes the exact list of values Auptimizer visits.
    """
    n_points: dict[str, int] = {}
    out: list[Any] = []
    for position, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or entry.get("type") not in ("float", "int")
            or not _is_range(entry.get("range"))
        ):
            out.append(_plain([entry])[0])
            continue
        where = f"parameter_config[{position}]"
        entry = {k: v for k, v in entry.items() if k != "size"}
        low, high = entry["range"]
        if "interval" in entry:
            step = entry.pop("interval")
            entry.pop("n", None)
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not step > 0:
                raise ctx.error(f"{where}.interval", f"expected a positive number, got {step!r}")
        elif "n" in entry:
            n = get_int(ctx, entry, "n", f"{where}.n", minimum=2)
            entry.pop("n")
            if entry["type"] == "float":
                n_points[entry["name"]] = n
                out.append(entry)
                continue
            step = max(1, math.floor((high - low) / (n - 1)))
        else:
            step = 1
            if entry["type"] == "float":
                ctx.warn(where, "no n or interval given; Auptimizer's default interval of 1 is used")
        if entry["type"] == "int" and step == 1:
            out.append(entry)
            continue
        count = math.floor((high - low) / step + 1e-9) + 1
        values = [low + i * step for i in range(max(count, 0))]
        out.append({"name": entry["name"], "type": "choice", "range": values or [low]})
    return out, ({"n_points": n_points} if n_points else {})


def _is_range(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        and value[0] < value[1]
    )


def _trial(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    script = get_str(ctx, data, "script", "script")
    workdir = ctx.path(get_str(ctx, data, "workingdir", "workingdir", default="."))
    path = Path(script).expanduser()
    located = path if path.is_absolute() else workdir / path
    if not located.is_file():
        raise ctx.error("script", f"{script!r} not found in workingdir {str(workdir)!r}")
    if path.suffix == ".py":
        command = f"python3 {shlex.quote(script)}"
    else:
        # Auptimizer runs scripts as ./script: executable files with a shebang.
        command = shlex.quote(script if path.is_absolute() or "/" in script else f"./{script}")
    return {
        "command": command,
        "code_dir": workdir,
        "compat": ["aup"],
        "params_as_argv": True,
        "result_labels": _resource(ctx, data),
    }


def _resource(ctx: Context, data: dict[str, Any]) -> list[str]:
    """Check ``resource`` and ``resource_args``; returns ``multi_res_labels``."""
    resource = get_str(ctx, data, "resource", "resource", default="cpu")
    if resource not in ("cpu", "gpu", "aws", "node", "passive"):
        raise ctx.error("resource", f"expected one of cpu, gpu, aws, node, passive, got {resource!r}")
    if resource == "passive":
        ctx.warn(
            "resource",
            "'passive' (Auptimizer's mode where you start each job by hand and type in its result) is not "
            "interactive here: tunelab runs each job itself as a local process, with the same job file as argv[1]; "
            "to try a configuration of your own, add a trial (dashboard or REST API)",
        )
    elif resource != "cpu":
        ctx.warn("resource", f"{resource!r} resources are not supported in this build; trials run as local processes")
    args = mapping(ctx, data.get("resource_args") or {}, "resource_args")
    for key in args:
        if key not in _RESOURCE_ARGS_USED:
            ctx.warn(f"resource_args.{key}", "this setting is not supported yet; ignored")
    if "track_intermediate_results" in args:
        get_bool(ctx, args, "track_intermediate_results", "resource_args.track_intermediate_results")
    labels = args.get("multi_res_labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        raise ctx.error("resource_args.multi_res_labels", f"expected a list of names, got {labels!r}")
    return labels


def _save_model(ctx: Context, data: dict[str, Any]) -> bool:
    """``resource_args.save_model``: re-run the best configuration with ``save_model`` and ``folder_name`` set."""
    args = data.get("resource_args") or {}
    return get_bool(ctx, args, "save_model", "resource_args.save_model", default=False)


def _failure(ctx: Context, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {"retries": 0, "ignore": False}
    failure = mapping(ctx, raw, "job_failure")
    reject_unknown(ctx, failure, ("job_retries", "ignore_fail"), "job_failure")
    return {
        "retries": get_int(ctx, failure, "job_retries", "job_failure.job_retries", default=3, minimum=0),
        "ignore": get_bool(ctx, failure, "ignore_fail", "job_failure.ignore_fail", default=False),
    }
