"""tunelab's own experiment config: the YAML schema and the keyword arguments of ``Experiment``.

Every other format (NNI, T9k AutoTuneExperiment, Auptimizer) is translated into an
:class:`ExperimentConfig`, so the engine knows one shape only. Validation errors become
one :class:`ConfigError` line naming the field, e.g.
``config error: trial.timeout: expected a duration such as 90s, 30m or 2h, got 'soon'``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from tunelab.errors import ConfigError, SearchSpaceError, did_you_mean, escape

if TYPE_CHECKING:  # imported lazily at run time, to keep config light
    from tunelab.space import SearchSpace

_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$"
)


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"2h30m"`` or ``"1d"`` (NNI's spelling)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 90s, 30m or 2h, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match or not str(value).strip() or not any(match.groups()):
            raise ValueError(f"expected a duration such as 90s, 30m or 2h, got {value!r}")
        days, hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = days * 86400 + hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    return seconds


Duration = Annotated[float | None, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ReplicaConfig(_Strict):
    """``count`` processes of one role of a distributed trial (``trial.distributed.replicas[i]``)."""

    role: str
    count: int = Field(default=1, ge=1)
    #: None runs ``trial.command``.
    command: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    #: GPUs of each of these processes on the Ray runner (its placement-group bundle); locally, the trial's are shared.
    gpus: float = Field(default=0.0, ge=0)


class DistributedConfig(_Strict):
    """A trial run as several processes with its framework's environment (PyTorch, TensorFlow, XGBoost)."""

    framework: Literal["pytorch", "tensorflow", "xgboost"]
    replicas: list[ReplicaConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _roles(self) -> DistributedConfig:
        from tunelab.runners._base import REPLICA_ROLES, SINGLE_ROLES

        known = REPLICA_ROLES[self.framework]
        seen: set[str] = set()
        for position, replica in enumerate(self.replicas):
            if replica.role not in known:
                hint = did_you_mean(replica.role, list(known))
                raise ValueError(
                    f"replicas[{position}].role: {self.framework} replicas are {', '.join(known)}, "
                    f"got {escape(repr(replica.role))}{hint}"
                )
            if replica.role in seen:
                raise ValueError(f"replicas[{position}].role: {replica.role!r} is given twice")
            seen.add(replica.role)
            if replica.role in SINGLE_ROLES and replica.count != 1:
                raise ValueError(f"replicas[{position}].count: a {replica.role} has 1 replica, got {replica.count}")
            if replica.command is not None and not replica.command.strip():
                raise ValueError(f"replicas[{position}].command is empty")
        return self


class TrialConfig(_Strict):
    """How one trial runs: a shell command, or a Python function (``module:function``)."""

    command: str | None = None
    function: str | None = Field(default=None, description="'module:function' taking the params dict")
    code_dir: Path = Path(".")
    timeout: Duration = None
    env: dict[str, str] = Field(default_factory=dict)
    #: Compatibility modules put on the trial's path: ``nni`` (NNI's trial API), ``aup`` (Auptimizer's).
    compat: list[Literal["nni", "aup"]] = Field(default_factory=list)
    #: Auptimizer convention: the parameters' JSON file path is passed as argv[1].
    params_as_argv: bool = False
    #: Names of the extra values when a trial reports a list ``[main, x, y]`` (Auptimizer's ``multi_res_labels``).
    result_labels: list[str] = Field(default_factory=list)
    #: Seconds between SIGTERM and SIGKILL when a trial is stopped (early stop, cancel, timeout).
    stop_grace: Duration = 5.0
    #: Several processes per trial, each with its framework's environment (command trials only).
    distributed: DistributedConfig | None = None
    #: How a function trial runs: ``worker`` (the default: in one of a few reused worker processes),
    #: ``process`` (a fresh forked process per trial) or ``inline`` (in the engine's own process:
    #: the cheapest, but a crash takes the experiment down and a running trial cannot be stopped).
    #: Command trials always run as processes (``process``, the default for them).
    isolation: Literal["process", "worker", "inline"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TrialConfig:
        if self.distributed is not None and self.function is not None:
            raise ValueError("distributed trials run a command, not a function")
        if self.distributed is not None and self.command is None:
            for position, replica in enumerate(self.distributed.replicas):
                if replica.command is None:
                    raise ValueError(
                        f"distributed.replicas[{position}].command: needed when trial.command is not given"
                    )
        if self.command is not None and self.function is not None:
            raise ValueError("give either command or function, not both")
        if self.isolation in ("worker", "inline") and (self.command is not None or self.distributed is not None):
            raise ValueError(f"isolation: {self.isolation!r} runs function trials; a command trial runs as a process")
        if self.command is not None and not self.command.strip():
            raise ValueError("command is empty")
        if self.function is not None and not re.fullmatch(r"[\w.]+:[\w.]+", self.function):
            raise ValueError(f"function must look like 'module:function', got {self.function!r}")
        return self


class AlgorithmConfig(_Strict):
    """A tuner or assessor: a name and its arguments (NNI's ``classArgs``)."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class SchedulerConfig(AlgorithmConfig):
    """A scheduler (ASHA, Hyperband, BOHB, PBT...): a name, its arguments, and how budgets reach trials."""

    #: The parameter a trial's budget is added under in its params; null (the default) adds none,
    #: and the trial reads its budget from ``tunelab.get_budget()`` / ``TUNELAB_TRIAL_BUDGET``.
    #: The NNI loader sets ``TRIAL_BUDGET`` for NNI's Hyperband and BOHB (whose trials read it from
    #: their params), the Auptimizer loader ``n_iterations``.
    budget_param: str | None = None
    #: Add NNI PBTTuner's ``save_checkpoint_dir`` and ``load_checkpoint_dir`` to each trial's params
    #: (the trial's checkpoint folder, and the one it continues from); the NNI loader sets it for PBTTuner.
    checkpoint_params: bool = False


class RayConfig(_Strict):
    """Where a ``runner: ray`` experiment runs its trials (needs ``pip install tunelab[ray]``)."""

    #: ``auto`` (the cluster this machine belongs to), ``ray://host:port``, ``host:port``; null starts a local cluster.
    address: str | None = None
    #: Resources each trial asks Ray for (Orca's name): ``cpu``, ``gpu`` (fractions allowed) and custom ones.
    resources_per_trial: dict[str, float] = Field(default_factory=lambda: {"cpu": 1.0})
    #: Passed to Ray as the trials' runtime environment (``working_dir``, ``pip``, ``env_vars``...).
    runtime_env: dict[str, Any] | None = None

    @field_validator("resources_per_trial")
    @classmethod
    def _resources(cls, value: dict[str, float]) -> dict[str, float]:
        for name, amount in value.items():
            if amount < 0:
                raise ValueError(f"resource {name!r} must be >= 0, got {amount!r}")
        return value


def _algorithm(value: Any) -> Any:
    """Accept the shorthand ``tuner: tpe`` for ``tuner: {name: tpe}``."""
    return {"name": value} if isinstance(value, str) else value


def _trial(value: Any) -> Any:
    """Accept the shorthand ``trial: python3 train.py`` for ``trial: {command: ...}``."""
    return {"command": value} if isinstance(value, str) else value


class FailureConfig(_Strict):
    """Auptimizer's ``job_failure``: retries per trial, and whether failures end the experiment."""

    retries: int = Field(default=0, ge=0)
    ignore: bool = False


class ExperimentConfig(_Strict):
    """Everything that defines an experiment; YAML keys and ``Experiment(...)`` keywords alike."""

    name: str | None = None
    search_space: Any = Field(description="NNI JSON, an Auptimizer list, hp helpers, or a JSON file path")
    trial: Annotated[TrialConfig, BeforeValidator(_trial)] = Field(default_factory=TrialConfig)
    tuner: Annotated[AlgorithmConfig, BeforeValidator(_algorithm)] = AlgorithmConfig(name="auto")
    assessor: Annotated[AlgorithmConfig | None, BeforeValidator(_algorithm)] = None
    scheduler: Annotated[SchedulerConfig | None, BeforeValidator(_algorithm)] = None
    mode: Literal["min", "max"] = "min"
    metric: str = Field(default="default", description="which reported key is the main metric")
    #: Several objectives, in order: ``{accuracy: max, latency_ms: min}``; the trial reports a dict of them.
    #: ``mode`` (with ``metric``) is the one-objective form; one entry here means just that.
    objectives: dict[str, Literal["min", "max"]] | None = None
    #: Bounds a feasible trial's reported metrics meet, ``{model_mb: "<= 50"}`` (with ``objectives``).
    constraints: dict[str, str] = Field(default_factory=dict)
    max_trials: int | None = Field(default=None, ge=1)
    max_duration: Duration = None
    concurrency: int = Field(default=1, ge=1)
    failure: FailureConfig = Field(default_factory=FailureConfig)
    seed: int | None = Field(default=None, ge=0)
    storage: str | None = None
    enqueue: list[dict[str, Any]] = Field(default_factory=list, description="configurations to run first")
    #: Where trial folders go; default ``$TUNELAB_HOME/experiments/<id>``.
    experiment_dir: Path | None = None
    #: At the end, run the best configuration once more and keep what it saves in its
    #: checkpoint folder as ``<experiment_dir>/best_model/model`` (Auptimizer's ``save_model``).
    save_best_model: bool = False
    #: Where trials run: processes on this machine, or tasks on a Ray cluster (see ``ray``).
    runner: Literal["local", "ray"] = "local"
    ray: RayConfig = Field(default_factory=RayConfig)
    #: GPUs each trial gets through its own ``CUDA_VISIBLE_DEVICES`` (fractions share a GPU); 0: none.
    gpus_per_trial: float = Field(default=0.0, ge=0)
    #: The GPU indices trials may use; default: all that ``nvidia-smi`` lists.
    gpu_indices: list[int] | None = None
    #: At most this many trials on one GPU (NNI's ``maxTrialNumberPerGpu``).
    max_trials_per_gpu: int | None = Field(default=None, ge=1)
    #: Let ``tunelab worker`` processes (on other machines, over PostgreSQL storage) run trials too.
    shared: bool = False

    #: The parsed search space, with the value it was parsed from: the config is immutable once
    #: validated, so the space is parsed once (``space()`` reparses only if ``search_space`` was replaced).
    _space_cache: tuple[Any, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _explicit_mode(cls, data: Any) -> Any:
        """``mode`` or a tuner/assessor/scheduler argument ``mode``/``optimize_mode``: a stated mode wins.

        Without ``mode`` the one stated among the arguments is the experiment's; two stated modes
        that disagree are an error naming both fields.
        """
        if not isinstance(data, dict):
            return data
        stated = [("mode", data["mode"])] if data.get("mode") is not None else []
        for section in ("tuner", "assessor", "scheduler"):
            value = data.get(section)
            args = value.get("args") if isinstance(value, dict) else getattr(value, "args", None)
            if isinstance(args, dict):
                stated += [(f"{section}.args.{key}", args[key]) for key in ("mode", "optimize_mode") if key in args]
        known = [(where, _MODES.get(raw.lower())) for where, raw in stated if isinstance(raw, str)]
        known = [(where, mode) for where, mode in known if mode is not None]
        for where, mode in known[1:]:
            if mode != known[0][1]:
                raise ValueError(
                    f"{where}: {mode!r} contradicts {known[0][0]}: {known[0][1]!r}; state the direction once"
                )
        if data.get("objectives") is not None:
            return _several_objectives(data, stated)
        if data.get("constraints"):
            raise ValueError("constraints: only for several objectives (declare them in objectives)")
        if known and data.get("mode") is None:
            data = {**data, "mode": known[0][1]}
        return data

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        """With several objectives the dump has no ``mode`` (each objective has its direction), so a
        stored or overridden config builds again without stating both."""
        data = handler(self)
        if self.objectives and isinstance(data, dict):
            data.pop("mode", None)
        return data

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        return _MODES.get(value.lower(), value.lower()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _parse_space(self, info: ValidationInfo) -> ExperimentConfig:
        """Parse the search space once (a loader that parsed it already passes it in the context)."""
        given = (info.context or {}).get("space")
        if given is None:
            from tunelab.space import parse_search_space

            try:
                given = parse_search_space(self.search_space)
            except SearchSpaceError as exc:
                raise ValueError(str(exc)) from None
        self._space_cache = (self.search_space, given)
        return self

    def space(self) -> SearchSpace:
        """The parsed search space (parsed once, when the config was validated)."""
        cached = self._space_cache
        if cached is not None and cached[0] is self.search_space:
            return cached[1]
        from tunelab.space import parse_search_space

        parsed = parse_search_space(self.search_space)
        self._space_cache = (self.search_space, parsed)
        return parsed


_MODES = {"min": "min", "max": "max", "minimize": "min", "maximize": "max"}


def _several_objectives(data: dict[str, Any], stated: list[tuple[str, Any]]) -> dict[str, Any]:
    """Check ``objectives`` against ``mode`` and ``metric``, and the constraints; one objective is metric + mode."""
    from tunelab.config._constraints import parse_constraint
    from tunelab.errors import ConfigError
    from tunelab.objectives import normalize_objectives

    if stated:
        raise ValueError(f"{stated[0][0]}: give either mode (one objective) or objectives (several), not both")
    if data.get("metric", "default") != "default":
        raise ValueError("metric: give either metric (one objective) or objectives (several), not both")
    try:
        objectives = normalize_objectives(data["objectives"])
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    constraints = data.get("constraints") or {}
    if not isinstance(constraints, dict):
        raise ValueError(f'constraints: expected a mapping like {{model_mb: "<= 50"}}, got {constraints!r:.80}')
    if len(objectives) == 1:
        if constraints:
            raise ValueError("constraints: only for several objectives (declare them in objectives)")
        [(name, mode)] = objectives.items()
        return {**data, "objectives": None, "metric": name, "mode": mode}
    for metric, bound in constraints.items():
        parse_constraint(str(metric), bound)
    return {**data, "objectives": objectives}


def format_validation_error(exc: ValidationError, *, source: str = "config") -> str:
    """One line for the first problem pydantic found: ``source: field.path: message``."""
    first = exc.errors()[0]
    path = ".".join(escape(p) for p in first["loc"] if not str(p).startswith("function-"))
    message = first["msg"].removeprefix("Value error, ")
    kind = first["type"]
    if kind == "extra_forbidden":
        message = "unknown field" + _did_you_mean(first["loc"])
    elif kind == "missing":
        message = "this field is required"
    elif "input" in first and kind not in ("value_error",) and not isinstance(first["input"], (dict, list)):
        message = f"{message} (got {escape(repr(first['input']))})"
    message = escape(message, limit=400)
    return f"{source}: {path}: {message}" if path else f"{source}: {message}"


def _did_you_mean(loc: tuple[Any, ...]) -> str:
    """``; did you mean 'max_trials'?`` for a misspelled field, found by walking the models."""
    model: Any = ExperimentConfig
    for step in loc[:-1]:
        if isinstance(step, int) or model is None:
            continue
        field = model.model_fields.get(str(step))
        model = _model_in(field.annotation) if field is not None else None
    if model is None:
        return ""
    if model is ExperimentConfig:  # Optuna's and Ray Tune's names for tunelab's top-level keys
        from tunelab.config._familiar import SUGGEST

        return escape(did_you_mean(loc[-1], [*model.model_fields, *SUGGEST], rename=SUGGEST))
    return escape(did_you_mean(loc[-1], model.model_fields))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def format_duration(seconds: float) -> str:
    """The shortest ``1d2h30m15s`` spelling of a duration; :func:`parse_duration` reads it back."""
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {seconds!r}")
    whole = int(seconds)
    rest = seconds - whole
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    if whole or rest or not parts:
        secs = whole + rest
        text = str(whole) if rest == 0 else f"{secs:.6f}".rstrip("0").rstrip(".")
        parts.append(f"{text}s")
    return "".join(parts)


def build_config(data: Any, *, source: str = "config", space: Any = None) -> ExperimentConfig:
    """Validate a mapping into an :class:`ExperimentConfig`, or raise a one-line :class:`ConfigError`.

    Besides the fields, the tuner, assessor and scheduler are checked as the engine will use them
    (:func:`~tunelab.config._check.check_algorithms`). ``space``: the search space, already parsed
    from ``data["search_space"]`` by a loader, so it is not parsed again.
    """
    if isinstance(data, ExperimentConfig):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
    try:
        config = ExperimentConfig.model_validate(data, context={"space": space} if space is not None else None)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source=source)) from None
    from tunelab.config._check import check_algorithms

    check_algorithms(config, source)
    return config


ObjectiveFunction = Callable[[dict[str, Any]], Any]
