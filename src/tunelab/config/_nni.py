"""NNI experiment configs (``config.yml`` for ``nnictl create``, or the Python API's fields).

NNI spells fields in camelCase in YAML and snake_case in ``Experiment.config``; both are
accepted. NNI's v1 format (``authorName``, ``trainingServicePlatform``, ``maxTrialNum``,
``trial: {command, codeDir, gpuNum}``, ``builtinTunerName``...) is told, as NNI 3.0 tells it,
by ``trainingServicePlatform`` and converted the way ``nni/experiment/config/convert.py``
converts it (:func:`v1_to_v2`), so a v1 config and its v2 equivalent give the same experiment;
messages name the v1 fields. NNI's ``Hyperband``, ``BOHB`` and ``PBTTuner`` decide budgets rather than
configurations, so they become tunelab schedulers (configurations then come from random
search, or from BOHB's own model). GPU settings of the local training service map onto
tunelab's GPU scheduling. Whatever cannot be honoured on this machine (remote platforms)
becomes a warning, and the experiment runs locally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
#: v2 fields read only to refuse what tunelab cannot do (``useAnnotation: true``).
_CHECKED = ("useAnnotation",)
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


#: Top-level fields of NNI's v1 format (``nni/tools/nnictl/config_schema.py``) that v2 lacks.
V1_FIELDS = (
    "authorName",
    "description",
    "trainingServicePlatform",
    "maxExecDuration",
    "maxTrialNum",
    "searchSpacePath",
    "useAnnotation",
    "multiPhase",
    "multiThread",
    "logDir",
    "versionCheck",
    "logCollection",
    "localConfig",
)

#: Keys that tell an NNI config from tunelab's own YAML, which shares ``tuner``, ``assessor``,
#: ``debug`` and (in snake_case) ``search_space``.
NNI_MARKERS = frozenset(
    key
    for field in _FIELDS + _IGNORED
    if field not in ("tuner", "assessor", "debug")
    for key in (field, _snake(field))
    if key != "search_space"
) | frozenset(V1_FIELDS).difference({"description"})


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
    args = _substitute(ctx, name, args, name_where, args_where)
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
    ``bohb_advisor.py``), so their trials get it there too. NNI's PBTTuner gives no budget but
    ``save_checkpoint_dir`` and ``load_checkpoint_dir`` (``pbt_tuner.py``): each trial saves in
    its own checkpoint folder and loads from the one it continues (its own member's previous
    generation, or the better member's it exploits), so PBT trials get those.
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
    if section["name"] == "pbt":
        section["checkpoint_params"] = True
        if args.get("all_checkpoint_dir") is not None:
            ctx.warn(
                f"{args_where}.all_checkpoint_dir",
                "ignored: each trial's checkpoints live in its own folder (<experiment>/trials/N/checkpoint), "
                "which its save_checkpoint_dir and load_checkpoint_dir parameters name",
            )
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


#: classArgs of NNI's Metis and DNGO that tunelab's GP honours (under its own name); the rest are dropped.
_SUBSTITUTE_ARGS = {"metis": {"cold_start_num": "n_initial_points"}, "dngo": {}}


def _substitute(ctx: Context, name: str, args: dict[str, Any], name_where: str, args_where: str) -> dict[str, Any]:
    """NNI's Metis and DNGO run tunelab's GP: a warning naming both, and their classArgs in GP's terms."""
    from tunelab.tuners._registry import substitute_note

    note = substitute_note(name)
    if note is None:
        return args
    ctx.warn(name_where, note.removeprefix(f"tuner {name!r}: "))
    key = "metis" if "metis" in name.lower() else "dngo"
    kept = {}
    for arg, value in args.items():
        if arg in _SUBSTITUTE_ARGS[key]:
            kept[_SUBSTITUTE_ARGS[key][arg]] = value
        else:
            ctx.warn(f"{args_where}.{arg}", f"an argument of {name}; tunelab's GP tuner has no counterpart, ignored")
    return kept


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
    """Translate an NNI config (v2; v1 when it has ``trainingServicePlatform``) into ExperimentConfig fields."""
    data = mapping(ctx, raw, "")
    if "trainingServicePlatform" not in data:
        return _load_v2(ctx, data)
    converted, renames = v1_to_v2(ctx, data)
    v1 = _V1Context(ctx.source, ctx.base_dir, ctx.warnings, ctx.space, ctx.fields, {**_V1_NAMES, **renames})
    try:
        return _load_v2(v1, converted)
    finally:
        ctx.space = v1.space
        ctx.fields.update({key: v1.rename(value) for key, value in ctx.fields.items()})


def _load_v2(ctx: Context, raw: Any) -> dict[str, Any]:
    data = _camel_keys(ctx, raw, "")
    for key in data:
        if (key in V1_FIELDS and key != "useAnnotation") or key == "trial":
            raise ctx.error(
                key,
                f"a field of NNI's v1 format{_v2_name(key)}; NNI (and tunelab) read a config as v1 only when it "
                "has trainingServicePlatform",
            )
    reject_unknown(ctx, data, _FIELDS + _IGNORED + _CHECKED)
    for key in _IGNORED:
        if key in data:
            ctx.warn(key, "only meaningful to NNI's manager; ignored")
    if get_bool(ctx, data, "useAnnotation", "useAnnotation", default=False):
        raise ctx.error(
            "useAnnotation",
            "annotations (the search space written as comments in the trial code) are not supported (nor by "
            "NNI 3.0); give searchSpaceFile and call nni.get_next_parameter() in the trial",
        )
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

    tuner_key = "advisor" if data.get("advisor") is not None else "tuner"
    if data.get("advisor") is not None and data.get("tuner") is not None:
        raise ctx.error("advisor", "give either tuner or advisor, not both")
    tuner = _camel_keys(ctx, _get_required(ctx, data, tuner_key), tuner_key)
    reject_unknown(ctx, tuner, _ALGORITHM_FIELDS, tuner_key)
    _no_custom(ctx, tuner, tuner_key)
    name = get_str(ctx, tuner, "name", f"{tuner_key}.name")
    check_tuner_name(ctx, name, f"{tuner_key}.name")  # before the space: a tuner that brings its own space says so
    space = _search_space(ctx, data)
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


def check_tuner_name(ctx: Context, name: str, where: str) -> None:
    """An unknown or unavailable tuner name is the first thing to report."""
    from tunelab.schedulers import nni_tuner_is_scheduler
    from tunelab.tuners import resolve_tuner_name

    if nni_tuner_is_scheduler(name):
        return
    try:
        resolve_tuner_name(name)
    except TunerError as exc:
        raise ctx.error(where, str(exc).removeprefix("tuner: "), type(exc)) from None


def _get_required(ctx: Context, data: dict[str, Any], key: str) -> Any:
    if data.get(key) is None:
        raise ctx.error(key, "this field is required (NNI needs a tuner, e.g. {name: TPE})")
    return data[key]


_EXAMPLE = {"tuner": "TPE", "assessor": "Medianstop", "advisor": "BOHB"}


def _no_custom(ctx: Context, algorithm: dict[str, Any], where: str) -> None:
    for key in ("className", "codeDirectory"):
        if key in algorithm:
            raise ctx.error(
                f"{where}.{key}",
                f"custom NNI algorithm classes are not supported; use a built-in name (name: {_EXAMPLE[where]}...)",
            )


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
    file_key = _name(ctx, "searchSpaceFile")
    if data.get("searchSpace") is not None and data.get("searchSpaceFile") is not None:
        raise ctx.error("searchSpaceFile", "give either searchSpace or searchSpaceFile, not both")
    if data.get("searchSpaceFile") is not None:
        path = ctx.path(get_str(ctx, data, "searchSpaceFile", "searchSpaceFile"))
        return check_nni_space(ctx, read_json(ctx, path, "searchSpaceFile"), file_key)
    if data.get("searchSpace") is None:
        raise ctx.error(
            "searchSpaceFile" if isinstance(ctx, _V1Context) else "searchSpace",
            f"this field is required{'' if isinstance(ctx, _V1Context) else ' (or give searchSpaceFile)'}",
        )
    space = json_field(ctx, data["searchSpace"], "searchSpace", SearchSpaceError)
    return check_nni_space(ctx, space, "searchSpace")


def check_nni_space(ctx: Context, space: Any, where: str) -> Any:
    """The space, checked. An empty one is an error: the trial would get nothing to tune.

    NNI's own examples leave ``searchSpace: {}`` only for tuners that bring their own space
    (NetworkMorphism, custom tuner classes); tunelab runs neither, and their names are
    reported before the space is read.
    """
    if space == {}:
        raise ctx.error(
            "",
            f"{where}: the search space is empty, so the trial would get no parameters to tune; give at least "
            "one parameter (NNI's examples leave it empty only for tuners that bring their own space, such "
            "as NetworkMorphism or a custom tuner, which tunelab does not run)",
            SearchSpaceError,
        )
    return check_space(ctx, space, where, nni=True)


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


# --- NNI's v1 format -------------------------------------------------------------------------

#: Where a v2 field came from in a v1 config (``convert.py``'s ``_move_field`` calls, reversed),
#: so messages name what the user wrote.
_V1_NAMES = {
    "maxExperimentDuration": "maxExecDuration",
    "maxTrialNumber": "maxTrialNum",
    "searchSpaceFile": "searchSpacePath",
    "experimentWorkingDirectory": "logDir",
    "trialCommand": "trial.command",
    "trialCodeDirectory": "trial.codeDir",
    "trialGpuNumber": "trial.gpuNum",
    "tuner.name": "tuner.builtinTunerName",
    "assessor.name": "assessor.builtinAssessorName",
    "advisor.name": "advisor.builtinAdvisorName",
    "trainingService.platform": "trainingServicePlatform",
    "trainingService.maxTrialNumberPerGpu": "localConfig.maxTrialNumPerGpu",
    "trainingService": "localConfig",
}
#: The v1 top-level fields of a local experiment, besides the v1-only ones.
_V1_SHARED = (
    "experimentName",
    "trialConcurrency",
    "maxTrialDuration",
    "nniManagerIp",
    "debug",
    "logLevel",
    "trial",
    "tuner",
    "assessor",
    "advisor",
    "sharedStorage",
)
#: Sections of the v1 format for platforms other than local: warned about, never run.
_V1_PLATFORM_SECTIONS = (
    "remoteConfig",
    "machineList",
    "paiConfig",
    "paiYarnConfig",
    "kubeflowConfig",
    "frameworkcontrollerConfig",
    "amlConfig",
    "dltsConfig",
    "adlConfig",
    "hybridConfig",
)
_V1_DEPRECATED = ("multiThread", "versionCheck", "logCollection")
_V1_TRIAL_LOCAL = ("command", "codeDir", "gpuNum")
_V1_LOCAL = ("gpuIndices", "maxTrialNumPerGpu", "useActiveGpu")


@dataclass
class _V1Context(Context):
    """A :class:`Context` whose messages name v1 fields (``maxTrialNum``, not ``maxTrialNumber``)."""

    renames: dict[str, str] = field(default_factory=lambda: dict(_V1_NAMES))

    def rename(self, where: str) -> str:
        if where in self.renames:
            return self.renames[where]
        for prefix in sorted(self.renames, key=len, reverse=True):
            if where.startswith(prefix + "."):
                return self.renames[prefix] + where[len(prefix) :]
        return where

    def error(self, where: str, message: str, cls: type[ConfigError] = ConfigError) -> ConfigError:
        return super().error(self.rename(where), message, cls)

    def warn(self, where: str, message: str) -> None:
        super().warn(self.rename(where), message)


def _name(ctx: Context, key: str) -> str:
    return ctx.rename(key) if isinstance(ctx, _V1Context) else key


def _v2_name(key: str) -> str:
    renamed = {v1: v2 for v2, v1 in _V1_NAMES.items() if "." not in v1}
    renamed["trial"] = "trialCommand, trialCodeDirectory and trialGpuNumber"
    return f" (v2: {renamed[key]})" if key in renamed else ""


def v1_to_v2(ctx: Context, raw: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """An NNI v1 config as the v2 config NNI 3.0's ``convert.to_v2`` makes of it, checked as it goes.

    Also returns where fields came from when that differs from :data:`_V1_NAMES` (a cluster
    role's command as ``trialCommand``).

    As in NNI: ``authorName`` and ``description`` are dropped; ``multiThread``, ``versionCheck``
    and ``logCollection`` are deprecated (here: a warning); ``multiPhase`` is refused; paths
    (``searchSpacePath``, ``trial.codeDir``) stay relative to the config file. Custom algorithm
    classes (``codeDir``/``classFileName``/``className``) and ``useAnnotation: true`` are errors;
    other platforms' sections are warnings, and the trials run here.
    """
    v1 = mapping(ctx, raw, "")
    platform = get_str(ctx, v1, "trainingServicePlatform", "trainingServicePlatform")
    reject_unknown(ctx, v1, V1_FIELDS + _V1_SHARED + _V1_PLATFORM_SECTIONS)
    local = platform == "local"
    if v1.get("multiPhase"):
        raise ctx.error("multiPhase", "multi-phase experiments are not supported (NNI 3.0 dropped them too)")
    for key in _V1_DEPRECATED:
        if key in v1:
            ctx.warn(key, "deprecated in NNI and only meaningful to its manager; ignored")
    for key in _V1_PLATFORM_SECTIONS:
        if key in v1:
            ctx.warn(key, f"settings of a platform other than this machine ({platform!r}); ignored")
    v2: dict[str, Any] = {}
    renames: dict[str, str] = {}
    for old, new in (
        ("experimentName", "experimentName"),
        ("trialConcurrency", "trialConcurrency"),
        ("maxExecDuration", "maxExperimentDuration"),
        ("maxTrialNum", "maxTrialNumber"),
        ("maxTrialDuration", "maxTrialDuration"),
        ("searchSpacePath", "searchSpaceFile"),
        ("nniManagerIp", "nniManagerIp"),
        ("logDir", "experimentWorkingDirectory"),
        ("debug", "debug"),
        ("logLevel", "logLevel"),
        ("useAnnotation", "useAnnotation"),
        ("sharedStorage", "sharedStorage"),
    ):
        if v1.get(old) is not None:
            v2[new] = v1[old]

    trial = mapping(ctx, v1.get("trial") or {}, "trial")
    for old, new in (("command", "trialCommand"), ("codeDir", "trialCodeDirectory"), ("gpuNum", "trialGpuNumber")):
        if trial.get(old) is not None:
            v2[new] = trial[old]
    if local:
        reject_unknown(ctx, trial, _V1_TRIAL_LOCAL, "trial")
    else:
        # A cluster job's roles: the first role's command runs as one local process per trial
        # (NNI's converter takes the first task role's command for frameworkcontroller, too).
        roles = trial.get("taskRoles")
        candidates = [(key, trial.get(key)) for key in ("master", "worker")]
        if isinstance(roles, list):
            candidates += [(f"taskRoles[{i}]", role) for i, role in enumerate(roles)]
        used = None
        for where, role in candidates:
            if "trialCommand" in v2 or not isinstance(role, dict) or role.get("command") is None:
                continue
            v2["trialCommand"] = role["command"]
            used = where.split("[")[0]
            renames["trialCommand"] = f"trial.{where}.command"
            ctx.warn(
                f"trial.{where}.command",
                "runs as one local process per trial; the role's replicas, image and resources, and the other "
                "roles, are not used",
            )
        for key in trial:
            if key not in _V1_TRIAL_LOCAL and key != used:
                ctx.warn(f"trial.{key}", f"a setting of the {platform!r} platform; ignored when running locally")

    for kind in ("tuner", "assessor", "advisor"):
        if v1.get(kind) is not None:
            v2[kind] = _v1_algorithm(ctx, kind, v1[kind], v2)

    service: dict[str, Any] = {"platform": platform}
    config = mapping(ctx, v1.get("localConfig") or {}, "localConfig")
    if local:
        reject_unknown(ctx, config, _V1_LOCAL, "localConfig")
        for old, new in (
            ("gpuIndices", "gpuIndices"),
            ("maxTrialNumPerGpu", "maxTrialNumberPerGpu"),
            ("useActiveGpu", "useActiveGpu"),
        ):
            if config.get(old) is not None:
                service[new] = config[old]
    elif config:
        ctx.warn("localConfig", f"ignored: trainingServicePlatform is {platform!r}")
    v2["trainingService"] = service
    return v2, renames


def _v1_algorithm(ctx: Context, kind: str, raw: Any, v2: dict[str, Any]) -> dict[str, Any]:
    """A v1 ``tuner``/``assessor``/``advisor`` (``builtinTunerName``...) as its v2 section."""
    algorithm = mapping(ctx, raw, kind)
    builtin = f"builtin{kind.title()}Name"
    custom = [key for key in ("codeDir", "classFileName", "className") if key in algorithm]
    if custom:
        raise ctx.error(
            f"{kind}.{custom[0]}",
            f"custom NNI algorithm classes (codeDir, classFileName, className) are not supported; "
            f"use a built-in one ({builtin}: {_EXAMPLE[kind]}...)",
        )
    reject_unknown(ctx, algorithm, (builtin, "classArgs", "includeIntermediateResults", "gpuIndices", "gpuNum"), kind)
    for key in ("includeIntermediateResults", "gpuNum"):
        if key in algorithm:
            ctx.warn(f"{kind}.{key}", "deprecated in NNI and only meaningful to its manager; ignored")
    if algorithm.get("gpuIndices") is not None:
        ctx.warn(f"{kind}.gpuIndices", "only meaningful to NNI's manager (the GPUs its tuner runs on); ignored")
    if algorithm.get(builtin) is None:
        raise ctx.error(f"{kind}.{builtin}", "this field is required (or a custom class, which is not supported)")
    section = {"name": algorithm[builtin]}
    if algorithm.get("classArgs") is not None:
        section["classArgs"] = algorithm["classArgs"]
    return section
