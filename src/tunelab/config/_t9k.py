"""T9k ``AutoTuneExperiment`` resources, run on this machine.

The first container of each task becomes a local command; tasks with several replicas between
them run each trial as that many processes (``trial.distributed``): local ones, or on the Ray
runner one Ray task per replica in a placement group, with each task's GPUs. What only a Kubernetes
cluster can honour (images, security contexts, resources, AIStore) is reported as a warning
rather than dropped in silence. T9k's tuners and trials are NNI's, so ``classArgs``
and the trial API follow NNI.
"""

from __future__ import annotations

import shlex
from typing import Any

from tunelab.config._common import (
    Context,
    get_duration,
    get_int,
    get_str,
    json_field,
    mapping,
    reject_unknown,
)
from tunelab.config._nni import (
    check_nni_space,
    check_tuner_name,
    nni_algorithm,
    nni_algorithm_sections,
    resolve_mode,
)
from tunelab.errors import SearchSpaceError, did_you_mean

API_GROUP = "tensorstack.dev/"
KIND = "AutoTuneExperiment"

_TOP = ("apiVersion", "kind", "metadata", "spec", "status")
_SPEC = (
    "maxExecSeconds",
    "maxTrialNum",
    "trialConcurrency",
    "searchSpace",
    "trainingConfig",
    "tuner",
    "assessor",
    "aistore",
    "scheduler",
)
#: ``trainingConfig.type`` values whose replicas run as local processes (``trial.distributed.framework``).
_FRAMEWORKS = ("pytorch", "tensorflow", "xgboost")
#: Container fields with a local meaning; the rest (image, resources, ports...) are warned about.
_CONTAINER_USED = ("command", "args", "workingDir", "env", "name")


def is_t9k(data: dict[str, Any]) -> bool:
    """A T9k resource: ``apiVersion: tensorstack.dev/...`` or ``kind: AutoTuneExperiment``."""
    return str(data.get("apiVersion", "")).startswith(API_GROUP) or data.get("kind") == KIND


def load_t9k(ctx: Context, raw: Any) -> dict[str, Any]:
    """Translate an AutoTuneExperiment into the fields of :class:`ExperimentConfig`."""
    data = mapping(ctx, raw, "")
    reject_unknown(ctx, data, _TOP)
    if data.get("kind") != KIND:
        raise ctx.error("kind", f"expected {KIND!r}, got {data.get('kind')!r}")
    if not str(data.get("apiVersion", "")).startswith(API_GROUP):
        ctx.warn("apiVersion", f"expected {API_GROUP}v1beta1, got {data.get('apiVersion')!r}")
    metadata = mapping(ctx, data.get("metadata") or {}, "metadata")
    spec = mapping(ctx, data.get("spec"), "spec") if data.get("spec") is not None else None
    if spec is None:
        raise ctx.error("spec", "this field is required")
    reject_unknown(ctx, spec, _SPEC, "spec")
    for key, why in (
        ("aistore", "results are kept in tunelab's storage, not uploaded to AIStore"),
        ("scheduler", "there is no cluster scheduler locally"),
    ):
        if key in spec:
            ctx.warn(f"spec.{key}", f"ignored: {why}")

    if spec.get("searchSpace") is None:
        raise ctx.error("spec.searchSpace", "this field is required")
    trial, gpus = _trial(ctx, spec.get("trainingConfig"))

    if spec.get("tuner") is None:
        raise ctx.error("spec.tuner", "this field is required (e.g. builtinTunerName: TPE)")
    tuner = mapping(ctx, spec["tuner"], "spec.tuner")
    reject_unknown(ctx, tuner, ("builtinTunerName", "classArgs"), "spec.tuner")
    name = get_str(ctx, tuner, "builtinTunerName", "spec.tuner.builtinTunerName")
    check_tuner_name(ctx, name, "spec.tuner.builtinTunerName")  # before the space, as for NNI configs
    space = json_field(ctx, spec["searchSpace"], "spec.searchSpace", SearchSpaceError)
    check_nni_space(ctx, space, "spec.searchSpace")
    algorithm, stated, default = nni_algorithm_sections(
        ctx, name, tuner.get("classArgs"), space, "spec.tuner.classArgs", "spec.tuner.builtinTunerName"
    )

    stated_by_assessor: tuple[str, str] | None = None
    result: dict[str, Any] = {
        "name": get_str(ctx, metadata, "name", "metadata.name", default=None),
        "search_space": space,
        "trial": trial,
        **algorithm,
        **({"gpus_per_trial": gpus} if gpus else {}),
        "max_trials": get_int(ctx, spec, "maxTrialNum", "spec.maxTrialNum", default=None),
        "max_duration": get_duration(ctx, spec, "maxExecSeconds", "spec.maxExecSeconds"),
        "concurrency": get_int(ctx, spec, "trialConcurrency", "spec.trialConcurrency", default=1),
    }
    if spec.get("assessor") is not None:
        assessor = mapping(ctx, spec["assessor"], "spec.assessor")
        reject_unknown(ctx, assessor, ("builtinAssessorName", "classArgs"), "spec.assessor")
        assessor_name = get_str(ctx, assessor, "builtinAssessorName", "spec.assessor.builtinAssessorName")
        where = "spec.assessor.classArgs"
        assessor_args, assessor_mode, _ = nni_algorithm(ctx, assessor_name, assessor.get("classArgs"), where)
        result["assessor"] = {"name": assessor_name, "args": assessor_args}
        if assessor_mode is not None:
            stated_by_assessor = (f"{where}.optimize_mode", assessor_mode)
    result["mode"] = resolve_mode(ctx, [stated, stated_by_assessor], default)
    return result


def _trial(ctx: Context, raw: Any) -> tuple[dict[str, Any], float]:
    """The trial of ``trainingConfig``: the command of the first task's container, and the GPUs it asks for.

    Tasks with several replicas between them (a PyTorch ``master`` and ``worker`` tasks, a
    TensorFlow job with ``worker`` replicas > 1, an XGBoost job) become ``trial.distributed``:
    each trial runs that many processes with its framework's environment, each replica with its
    task's GPUs (``replicas[].gpus``: its own of the trial's on the local runner, its
    placement-group bundle on the Ray runner).
    """
    where = "spec.trainingConfig"
    if raw is None:
        raise ctx.error(where, "this field is required")
    training = mapping(ctx, raw, where)
    tasks = training.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise ctx.error(f"{where}.tasks", f"expected a non-empty list of tasks, got {tasks!r}")
    framework = training.get("type")
    parsed = [_task(ctx, task, f"{where}.tasks[{position}]") for position, task in enumerate(tasks)]
    command, code_dir, env, gpus, _, _ = parsed[0]
    total = sum(count for *_, count, _role in parsed)
    distributed: dict[str, Any] | None = None
    if total > 1 or len(parsed) > 1:
        if framework not in _FRAMEWORKS:
            hint = did_you_mean(framework, _FRAMEWORKS)
            raise ctx.error(
                f"{where}.type",
                f"expected one of {', '.join(_FRAMEWORKS)} for tasks with several replicas, got {framework!r}{hint}",
            )
        replicas = []
        for position, (task_command, task_dir, task_env, task_gpus, count, role) in enumerate(parsed):
            if task_dir != code_dir:
                ctx.warn(
                    f"{where}.tasks[{position}].workingDir",
                    f"every replica runs in the first task's folder {str(code_dir)!r}",
                )
            replica = {"role": role, "count": count, "command": task_command, "env": task_env}
            replicas.append({**replica, "gpus": task_gpus} if task_gpus else replica)
        distributed = {"framework": framework, "replicas": replicas}
        # The trial holds the GPUs of all its replicas; each replica gets its own of them, on the local
        # runner (out of the trial's CUDA_VISIBLE_DEVICES) as on the Ray runner (its placement-group bundle).
        gpus = sum(task_gpus * count for _, _, _, task_gpus, count, _ in parsed)
    elif framework is not None and framework not in _FRAMEWORKS:
        ctx.warn(f"{where}.type", f"{framework!r} training jobs become one local process per trial")
    trial: dict[str, Any] = {"command": command, "code_dir": code_dir, "env": env, "compat": ["nni"]}
    if distributed is not None:
        trial["distributed"] = distributed
    return trial, gpus


def _task(ctx: Context, raw: Any, where: str) -> tuple[str, Any, dict[str, str], float, int, str]:
    """One task: its command, working folder, env, GPUs per replica, replica count and role (``type``)."""
    task = mapping(ctx, raw, where)
    replicas = task.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise ctx.error(f"{where}.replicas", f"expected a whole number >= 1, got {replicas!r}")
    role = task.get("type", "worker")
    if not isinstance(role, str):
        raise ctx.error(f"{where}.type", f"expected a task type such as worker or master, got {role!r}")
    template = mapping(ctx, task.get("template"), f"{where}.template")
    pod = mapping(ctx, template.get("spec"), f"{where}.template.spec")
    where = f"{where}.template.spec"
    for key in pod:
        if key != "containers":
            ctx.warn(f"{where}.{key}", "a Kubernetes pod setting; ignored when running locally")
    containers = pod.get("containers")
    if not isinstance(containers, list) or not containers:
        raise ctx.error(f"{where}.containers", f"expected a non-empty list of containers, got {containers!r}")
    if len(containers) > 1:
        ctx.warn(f"{where}.containers", f"only the first of {len(containers)} containers runs")
    where = f"{where}.containers[0]"
    container = mapping(ctx, containers[0], where)
    for key in container:
        if key == "resources":
            ctx.warn(f"{where}.resources", "only nvidia.com/gpu is used locally; cpu and memory are not enforced")
        elif key not in _CONTAINER_USED:
            ctx.warn(f"{where}.{key}", "a container setting; ignored when running locally")
    gpus = _gpus(ctx, container.get("resources"), f"{where}.resources")

    command = _argv(ctx, container.get("command"), f"{where}.command")
    if not command:
        raise ctx.error(
            f"{where}.command", "this field is required to run the trial locally (there is no image entrypoint)"
        )
    args = _argv(ctx, container.get("args"), f"{where}.args")
    workdir = get_str(ctx, container, "workingDir", f"{where}.workingDir", default=".")
    code_dir = ctx.path(workdir)
    # A workingDir inside the image does not exist here: the trials could not start, so it is an error.
    if "trial.command" not in ctx.fields:
        ctx.fields.update({"trial.command": f"{where}.command", "trial.code_dir": f"{where}.workingDir"})
    env = _env(ctx, container.get("env"), f"{where}.env")
    return shlex.join(command + args), code_dir, env, gpus, replicas, role


def _gpus(ctx: Context, resources: Any, where: str) -> float:
    """``resources.limits["nvidia.com/gpu"]`` (or ``requests``): the GPUs each trial gets here too."""
    if not isinstance(resources, dict):
        return 0.0
    for section in ("limits", "requests"):
        block = resources.get(section)
        if isinstance(block, dict) and block.get("nvidia.com/gpu") is not None:
            value = block["nvidia.com/gpu"]
            try:
                count = float(value)
            except (TypeError, ValueError):
                raise ctx.error(f"{where}.{section}.nvidia.com/gpu", f"expected a number, got {value!r}") from None
            if count < 0:
                raise ctx.error(f"{where}.{section}.nvidia.com/gpu", f"expected a number >= 0, got {value!r}")
            return count
    return 0.0


def _argv(ctx: Context, value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ctx.error(where, f"cannot split {value!r} into arguments: {exc}") from None
    if not isinstance(value, list) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
    ):
        raise ctx.error(where, f"expected a list of strings, got {value!r}")
    return [str(v) for v in value]


def _env(ctx: Context, value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise ctx.error(where, f"expected a list of {{name, value}}, got {value!r}")
    env: dict[str, str] = {}
    for position, item in enumerate(value):
        entry = mapping(ctx, item, f"{where}[{position}]")
        name = get_str(ctx, entry, "name", f"{where}[{position}].name")
        if "value" not in entry:
            ctx.warn(f"{where}[{position}]", f"{name}: only literal values are supported; ignored")
            continue
        env[name] = "" if entry["value"] is None else str(entry["value"])
    return env
