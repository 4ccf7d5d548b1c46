"""NNI v2 experiment configs (``config.yml`` for ``nnictl create``, or the Python API's fields).

NNI spells fields in camelCase in YAML and snake_case in ``Experiment.config``; both are
accepted. NNI's ``Hyperband``, ``BOHB`` and ``PBTTuner`` decide budgets rather than
configurations, so they become tunelab schedulers (configurations then come from random
search, or from BOHB's own model). GPU settings of the local training service map onto
tunelab's GPU scheduling. Whatever cannot be honoured on this machine (remote platforms)
becomes a warning, and the experiment runs locally.
"""

from __future__ import annotations

import re
from typing import Any

from tunelab.config._common import (
    Context,
    check_space,
    check_tuner,
    get_bool,
    get_duration,
    get_int,
    get_str,
    json_field,
    mapping,
    read_json,
    reject_unknown,
)
from tunelab.errors import ConfigError, SearchSpaceError, TunerError

#: Top-level NNI v2 fields tunelab reads.
_FIELDS = (
    "experimentName",
    "searchSpace",
    "searchSpaceFile",
    "trialCommand",
    "trialCodeDirectory",
    "trialConcurrency",
    "trialGpuNumber",
    "maxTrialNumber",
    "maxExperimentDuration",
    "maxTrialDuration",
    "tuner",
    "assessor",
    "advisor",
    "trainingService",
)
#: Fields that only matter to NNI's own manager: accepted, with a warning that they are ignored.
_IGNORED = (
    "nniManagerIp",
    "debug",
    "logLevel",
    "experimentWorkingDirectory",
    "tunerGpuIndices",
    "sharedStorage",
    "experimentType",
)
_ALGORITHM_FIELDS = ("name", "classArgs", "className", "codeDirectory")
_LOCAL_FIELDS = (
    "platform",
    "useActiveGpu",
    "maxTrialNumberPerGpu",
    "gpuIndices",
    "reuseMode",
    "trialCommand",
    "trialCodeDirectory",
    "trialGpuNumber",
    "nniManagerIp",
    "debug",
)


def _snake(key: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", key).lower()


#: Keys that tell an NNI config from tunelab's own YAML, which shares ``tuner``, ``assessor``,
#: ``debug`` and (in snake_case) ``search_space``.
NNI_MARKERS = frozenset(
    key
    for field in _FIELDS + _IGNORED
    if field not in ("tuner", "assessor", "debug")
    for key in (field, _snake(field))
    if key != "search_space"
)


def camel(key: str) -> str:
    """``trial_command`` -> ``trialCommand``; camelCase keys pass unchanged."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_keys(ctx: Context, value: Any, where: str) -> dict[str, Any]:
    data = mapping(ctx, value, where)
    out: dict[str, Any] = {}
    for key, item in data.items():
        name = camel(key)
        if name in out:
            raise ctx.error(f"{where}.{key}" if where else key, f"given twice (as {name!r} too)")
        out[name] = item
    return out


def nni_algorithm(
    ctx: Context, name: str, class_args: Any, where: str
) -> tuple[dict[str, Any], str | None, int | None]:
    """Split NNI ``classArgs`` into (tuner args, optimize direction, seed).

    ``optimize_mode`` and ``seed`` become the experiment's ``mode`` and ``seed``; everything
    else stays a tuner argument and is checked against the tuner later.
    """
    args = dict(mapping(ctx, json_field(ctx, class_args, where), where)) if class_args is not None else {}
    mode = None
    if "optimize_mode" in args:
        raw = args.pop("optimize_mode")
        mode = {"minimize": "min", "min": "min", "maximize": "max", "max": "max"}.get(str(raw).lower())
        if mode is None:
            raise ctx.error(f"{where}.optimize_mode", f"expected 'minimize' or 'maximize', got {raw!r}")
    seed = args.pop("seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ctx.error(f"{where}.seed", f"expected a non-negative integer, got {seed!r}")
    return args, mode, seed


def nni_tuner(
    ctx: Context, name: str, class_args: Any, space: Any, args_where: str, name_where: str
) -> tuple[dict[str, Any], str | None, str | None, int | None]:
    """An NNI (or T9k) tuner's args, stated mode, NNI's default mode and seed, checked against tunelab's tuner.

    NNI 3.0's defaults: TPE and Anneal minimize, GP, Evolution and most others maximize, and
    Random, GridSearch and BatchTuner have no direction (None).
    """
    from tunelab.tuners import nni_default_mode

    args, mode, seed = nni_algorithm(ctx, name, class_args, args_where)
    try:
        default = nni_default_mode(name)
    except TunerError as exc:
        raise ctx.error(name_where, str(exc).removeprefix("tuner: "), type(exc)) from None
    check_tuner(
        ctx, name, args, space=space, mode=mode or default or "max", seed=seed, where=args_where, name_where=name_where
    )
    return args, mode, default, seed


def nni_scheduler_tuner(
    ctx: Context, name: str, class_args: Any, space: Any, args_where: str
) -> tuple[dict[str, Any], str | None, int | None]:
    """NNI's ``Hyperband``/``BOHB``/``PBTTuner`` as a scheduler section, with the stated mode and seed.

    NNI's default mode for these is maximize. NNI's Hyperband and BOHB advisors add the budget
    to a trial's parameters as ``TRIAL_BUDGET`` (``nni/algorithms/hpo/hyperband_advisor.py``,
    ``bohb_advisor.py``), so their trials get it there too; PBT gives no budget parameter.
    """
    from tunelab.schedulers import check_scheduler_config, from_nni

    args, mode, seed = nni_algorithm(ctx, name, class_args, args_where)
    try:
        section = from_nni(name, args, where=args_where.removesuffix(".classArgs"))
        check_scheduler_config(section["name"], section["args"], what=args_where, space=ctx.space or space)
    except ConfigError as exc:
        raise ctx.error("", str(exc), type(exc)) from None
    if section["name"] in ("hyperband", "bohb"):
        section["budget_param"] = "TRIAL_BUDGET"
    return section, mode, seed


def nni_algorithm_sections(
    ctx: Context, name: str, class_args: Any, space: Any, args_where: str, name_where: str
) -> tuple[dict[str, Any], tuple[str, str] | None, str]:
    """The ``tuner`` (and, for scheduler-like tuners, ``scheduler``) and ``seed`` an NNI tuner means.

    Also returns the mode the tuner's ``classArgs`` state, as ``(field, mode)`` or None, and the
    mode to use when nothing states one (NNI's default for that tuner; max where it has none).
    """
    from tunelab.schedulers import nni_tuner_is_scheduler

    mode_where = f"{args_where}.optimize_mode"
    if nni_tuner_is_scheduler(name):
        scheduler, mode, seed = nni_scheduler_tuner(ctx, name, class_args, space, args_where)
        tuner = {"name": "random", "args": {}}
        stated = (mode_where, mode) if mode is not None else None
        return {"tuner": tuner, "scheduler": scheduler, "seed": seed}, stated, "max"
    args, mode, default, seed = nni_tuner(ctx, name, class_args, space, args_where, name_where)
    stated = (mode_where, mode) if mode is not None else None
    return {"tuner": {"name": name, "args": args}, "seed": seed}, stated, default or "max"


def resolve_mode(ctx: Context, stated: list[tuple[str, str] | None], default: str) -> str:
    """The experiment's mode: a stated one wins over any default; two stated ones that disagree are an error."""
    given = [item for item in stated if item is not None]
    for where, mode in given[1:]:
        first_where, first = given[0]
        if mode != first:
            raise ctx.error(
                where,
                f"{_mode_word(mode)!r} contradicts {first_where}: {_mode_word(first)!r}; "
                "state the direction once (or the same in both)",
            )
    return given[0][1] if given else default


def _mode_word(mode: str) -> str:
    return {"min": "minimize", "max": "maximize"}.get(mode, mode)


def load_nni(ctx: Context, raw: Any) -> dict[str, Any]:
    """Translate an NNI v2 config into the fields of :class:`ExperimentConfig`."""
    data = _camel_keys(ctx, raw, "")
    reject_unknown(ctx, data, _FIELDS + _IGNORED)
    for key in _IGNORED:
        if key in data:
            ctx.warn(key, "only meaningful to NNI's manager; ignored")
    service = _training_service(ctx, data.get("trainingService"))
    for key in ("trialCommand", "trialCodeDirectory", "trialGpuNumber"):
        if key in service:
            data.setdefault(key, service[key])
    if service.get("platform", "local") == "local":
        gpus = _gpus(ctx, {**service, **{k: v for k, v in data.items() if k == "trialGpuNumber"}})
    else:
        gpus = {}
        if data.get("trialGpuNumber"):
            ctx.warn("trialGpuNumber", "meant for the remote platform; trials here run without GPU scheduling")

    command = get_str(ctx, data, "trialCommand", "trialCommand")
    code_dir = ctx.path(get_str(ctx, data, "trialCodeDirectory", "trialCodeDirectory", default="."))
    ctx.fields.update({"trial.command": "trialCommand", "trial.code_dir": "trialCodeDirectory"})
    space = _search_space(ctx, data)

    tuner_key = "advisor" if data.get("advisor") is not None else "tuner"
    if data.get("advisor") is not None and data.get("tuner") is not None:
        raise ctx.error("advisor", "give either tuner or advisor, not both")
    tuner = _camel_keys(ctx, _get_required(ctx, data, tuner_key), tuner_key)
    reject_unknown(ctx, tuner, _ALGORITHM_FIELDS, tuner_key)
    _no_custom(ctx, tuner, tuner_key)
    name = get_str(ctx, tuner, "name", f"{tuner_key}.name")
    algorithm, stated, default = nni_algorithm_sections(
        ctx, name, tuner.get("classArgs"), space, f"{tuner_key}.classArgs", f"{tuner_key}.name"
    )

    result: dict[str, Any] = {
        "name": get_str(ctx, data, "experimentName", "experimentName", default=None),
        "search_space": space,
        "trial": {
            "command": command,
            "code_dir": code_dir,
            "timeout": get_duration(ctx, data, "maxTrialDuration", "maxTrialDuration"),
            "compat": ["nni"],
        },
        **algorithm,
        **gpus,
        "max_trials": get_int(ctx, data, "maxTrialNumber", "maxTrialNumber", default=None),
        "max_duration": get_duration(ctx, data, "maxExperimentDuration", "maxExperimentDuration"),
        "concurrency": get_int(ctx, data, "trialConcurrency", "trialConcurrency", default=1),
    }
    assessor_mode = None
    if data.get("assessor") is not None:
        result["assessor"], assessor_mode = _assessor(ctx, data["assessor"])
    result["mode"] = resolve_mode(ctx, [stated, assessor_mode], default)
    return result


def _get_required(ctx: Context, data: dict[str, Any], key: str) -> Any:
    if data.get(key) is None:
        raise ctx.error(key, "this field is required (NNI needs a tuner, e.g. {name: TPE})")
    return data[key]


def _no_custom(ctx: Context, algorithm: dict[str, Any], where: str) -> None:
    for key in ("className", "codeDirectory"):
        if key in algorithm:
            raise ctx.error(f"{where}.{key}", "custom NNI algorithm classes are not supported; use a built-in name")


def _assessor(ctx: Context, raw: Any) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """The assessor section, and the mode its ``classArgs`` state (``(field, mode)`` or None)."""
    assessor = _camel_keys(ctx, raw, "assessor")
    reject_unknown(ctx, assessor, _ALGORITHM_FIELDS, "assessor")
    _no_custom(ctx, assessor, "assessor")
    name = get_str(ctx, assessor, "name", "assessor.name")
    args, assessor_mode, _ = nni_algorithm(ctx, name, assessor.get("classArgs"), "assessor.classArgs")
    stated = ("assessor.classArgs.optimize_mode", assessor_mode) if assessor_mode is not None else None
    return {"name": name, "args": args}, stated


def _search_space(ctx: Context, data: dict[str, Any]) -> Any:
    if data.get("searchSpace") is not None and data.get("searchSpaceFile") is not None:
        raise ctx.error("searchSpaceFile", "give either searchSpace or searchSpaceFile, not both")
    if data.get("searchSpaceFile") is not None:
        path = ctx.path(get_str(ctx, data, "searchSpaceFile", "searchSpaceFile"))
        return check_space(ctx, read_json(ctx, path, "searchSpaceFile"), "searchSpaceFile", nni=True)
    if data.get("searchSpace") is None:
        raise ctx.error("searchSpace", "this field is required (or give searchSpaceFile)")
    space = json_field(ctx, data["searchSpace"], "searchSpace", SearchSpaceError)
    return check_space(ctx, space, "searchSpace", nni=True)


def _training_service(ctx: Context, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, list):
        ctx.warn("trainingService", "hybrid training services are not supported; trials run locally")
        raw = raw[0] if raw else {}
    service = _camel_keys(ctx, raw, "trainingService")
    platform = service.get("platform", "local")
    if platform != "local":
        ctx.warn("trainingService.platform", f"{platform!r} is not supported; trials run on this machine")
        return {k: v for k, v in service.items() if k in ("platform", "trialCommand", "trialCodeDirectory")}
    reject_unknown(ctx, service, _LOCAL_FIELDS, "trainingService")
    if "reuseMode" in service:
        ctx.warn("trainingService.reuseMode", "ignored: every trial starts a fresh process")
    for key in ("nniManagerIp", "debug"):
        if key in service:
            ctx.warn(f"trainingService.{key}", "only meaningful to NNI's manager; ignored")
    if "useActiveGpu" in service:
        get_bool(ctx, service, "useActiveGpu", "trainingService.useActiveGpu")
    return service


def _gpus(ctx: Context, service: dict[str, Any]) -> dict[str, Any]:
    """``trialGpuNumber``, ``gpuIndices`` and ``maxTrialNumberPerGpu`` as tunelab's GPU fields."""
    out: dict[str, Any] = {}
    if service.get("trialGpuNumber") is not None:
        out["gpus_per_trial"] = get_int(ctx, service, "trialGpuNumber", "trialGpuNumber", minimum=0)
    if service.get("maxTrialNumberPerGpu") is not None:
        out["max_trials_per_gpu"] = get_int(
            ctx, service, "maxTrialNumberPerGpu", "trainingService.maxTrialNumberPerGpu"
        )
    indices = service.get("gpuIndices")
    if indices is not None:
        where = "trainingService.gpuIndices"
        if isinstance(indices, int) and not isinstance(indices, bool):
            indices = [indices]
        elif isinstance(indices, str):
            try:
                indices = [int(part) for part in indices.split(",") if part.strip()]
            except ValueError:
                raise ctx.error(where, f"expected GPU indices such as '0,1' or [0, 1], got {indices!r}") from None
        if not isinstance(indices, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in indices
        ):
            raise ctx.error(where, f"expected a list of GPU indices, got {indices!r}")
        out["gpu_indices"] = indices
    if service.get("useActiveGpu") is False and out.get("gpus_per_trial"):
        ctx.warn(
            "trainingService.useActiveGpu",
            "tunelab does not watch other programs' use of a GPU; it only keeps its own trials apart",
        )
    return out
