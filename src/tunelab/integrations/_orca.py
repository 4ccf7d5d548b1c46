"""BigDL Orca's names, translated for :class:`~tunelab.integrations.estimator.AutoEstimator`.

- ``search_alg``: every searcher Orca documents (Ray Tune's ``create_searcher`` names).
  ``optuna`` and ``hyperopt`` run those libraries through tunelab's adapters; the others run
  tunelab's nearest tuner, with a warning naming both (:func:`orca_search_alg`).
- ``scheduler``: Ray's ``pb2`` runs tunelab's PBT with a warning; ``pbt_replay`` and
  ``resource_changing`` are refused with what to do instead (:func:`orca_scheduler`).
- ``init_orca_context`` / ``stop_orca_context``: nothing to do on one machine; when a cluster
  is asked for, start or join Ray, and AutoEstimator then runs its trials there (:func:`ray_context`).
- ``hp.sample_from`` / ``hp.choice_n``: values computed in the trial from a function (:class:`SampleFrom`).

Process-wide state: Orca's context is one per process by Orca's own design, so it lives here.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tunelab.errors import ConfigError, did_you_mean, escape

logger = logging.getLogger("tunelab.integrations")


@dataclass(frozen=True)
class SearchAlg:
    """An Orca ``search_alg``: the library behind it, tunelab's adapter (if any) and the nearest tuner."""

    title: str
    package: str | None  # the module that tells whether the library is installed
    adapter: str | None  # tunelab's tuner that runs the library itself
    nearest: str  # tunelab's own tuner closest to it
    why: str  # what the nearest tuner shares with it
    pip: str | None = None  # the distribution to install, when its name is not the module's


#: Ray Tune's ``create_searcher`` names, as Orca documents them for ``search_alg``.
SEARCH_ALGS: dict[str, SearchAlg] = {
    "variant_generator": SearchAlg("Ray's random/grid variant generator", None, "random", "random", ""),
    "random": SearchAlg("random search", None, "random", "random", ""),
    "optuna": SearchAlg("Optuna (TPE)", "optuna", "optuna", "tpe", "both are TPE"),
    "hyperopt": SearchAlg("Hyperopt (TPE)", "hyperopt", "hyperopt", "tpe", "both are TPE"),
    "skopt": SearchAlg(
        "scikit-optimize's Bayesian optimization",
        "skopt",
        "scikitoptimize",
        "gp",
        "both are Gaussian-process BO",
        pip="scikit-optimize",
    ),
    "bayesopt": SearchAlg("BayesianOptimization (bayes_opt)", "bayes_opt", None, "gp", "both are Gaussian-process BO"),
    "ax": SearchAlg("Ax (BoTorch)", "ax", None, "gp", "both are Gaussian-process BO"),
    "dragonfly": SearchAlg("Dragonfly", "dragonfly", None, "gp", "both are Gaussian-process BO"),
    "hebo": SearchAlg("HEBO", "hebo", None, "gp", "both are Gaussian-process BO"),
    "sigopt": SearchAlg("SigOpt (a hosted service)", "sigopt", None, "gp", "both are Bayesian optimization"),
    "nevergrad": SearchAlg(
        "Nevergrad", "nevergrad", None, "evolution", "both are evolutionary, derivative-free searches"
    ),
    "zoopt": SearchAlg(
        "ZOOpt (SRacos)", "zoopt", None, "evolution", "both sample around the best configurations so far"
    ),
    "bohb": SearchAlg(
        "Ray's TuneBOHB (hpbandster)",
        "hpbandster",
        None,
        "tpe",
        "both model good and bad configurations with kernel densities; scheduler='hb_bohb' gives BOHB's budgets",
    ),
    "blendsearch": SearchAlg(
        "FLAML's BlendSearch", "flaml", None, "tpe", "BlendSearch's global search is TPE (Optuna's)"
    ),
    "cfo": SearchAlg("FLAML's CFO", "flaml", None, "anneal", "both search locally around the best configuration"),
}

#: ``search_alg_params`` every searcher takes, with tunelab's meaning.
_SEED_KEYS = ("seed", "random_state", "random_state_seed", "random_seed")
#: ``search_alg_params`` that only repeat what ``fit`` already says.
_DROPPED_KEYS = ("metric", "mode", "space", "max_concurrent")


@dataclass(frozen=True)
class SearchPlan:
    """What an Orca ``search_alg`` becomes: a tunelab tuner, its arguments, configurations to run first."""

    tuner: str
    args: dict[str, Any]
    enqueue: list[dict[str, Any]]
    warnings: tuple[str, ...]


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def orca_search_alg(name: str | None, params: Mapping[str, Any] | None) -> SearchPlan:
    """The tuner for Orca's ``search_alg`` and ``search_alg_params``; never a silent substitute.

    A name Orca does not document is passed on as a tunelab tuner name (``tpe``, ``gp``, ``cmaes``...).
    """
    params = dict(params or {})
    notes: list[str] = []
    enqueue = list(params.pop("points_to_evaluate", None) or [])
    for key in _DROPPED_KEYS:
        params.pop(key, None)
    seed = next((params.pop(k) for k in _SEED_KEYS if k in params), None)
    key = "random" if name is None else str(name).strip().lower().replace("-", "_")
    entry = SEARCH_ALGS.get(key)
    if entry is None:  # a tunelab tuner name; the registry checks it and its arguments
        args = dict(params)
        if seed is not None:
            args["seed"] = seed
        return SearchPlan(str(name), args, enqueue, ())
    if entry.adapter is not None and (entry.package is None or _installed(entry.package)):
        tuner, kept = entry.adapter, _adapter_args(entry.adapter, params, notes)
    else:
        tuner, kept = entry.nearest, {}
        reason = (
            f"it needs {entry.pip or entry.package}, which is not installed (pip install {entry.pip or entry.package})"
            if entry.adapter is not None
            else "tunelab has no adapter for this library"
        )
        notes.append(
            f"search_alg {key!r} ({entry.title}): {reason}; running tunelab's {entry.nearest!r} instead ({entry.why})"
        )
        if params:
            notes.append(
                f"search_alg_params for {key!r} not used by tunelab's {entry.nearest!r}: {', '.join(sorted(params))}"
            )
    if seed is not None:
        kept["seed"] = seed
    return SearchPlan(tuner, kept, enqueue, tuple(notes))


def _adapter_args(adapter: str, params: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Ray's searcher arguments for Optuna / Hyperopt, in the spelling of tunelab's adapters."""
    args: dict[str, Any] = {}
    if adapter == "optuna" and "sampler" in params:
        sampler = params.pop("sampler")
        if isinstance(sampler, str):
            args["sampler"] = sampler
        else:  # an Optuna sampler instance, as Ray's OptunaSearch takes it
            args["sampler"] = type(sampler).__name__
            notes.append(
                f"search_alg_params: sampler {type(sampler).__name__} runs with its default arguments "
                "(tunelab builds the sampler anew per suggestion; give sampler_args to set them)"
            )
    if adapter == "optuna" and "sampler_args" in params:
        args["sampler_args"] = dict(params.pop("sampler_args"))
    if adapter == "hyperopt" and "n_initial_points" in params:
        args["n_startup_jobs"] = params.pop("n_initial_points")
    if adapter == "hyperopt" and "n_startup_jobs" in params:
        args["n_startup_jobs"] = params.pop("n_startup_jobs")
    if adapter == "scikitoptimize":
        for key in ("n_initial_points", "base_estimator", "acq_func"):
            if key in params:
                args[key] = params.pop(key)
    if params:
        takes = {
            "optuna": "sampler, sampler_args",
            "hyperopt": "n_initial_points",
            "scikitoptimize": "n_initial_points, base_estimator, acq_func",
        }[adapter]
        raise ConfigError(
            f"search_alg_params: {escape(sorted(params)[0])!r} is not an argument tunelab's {adapter} adapter takes"
            f" (it takes {takes}, seed, points_to_evaluate)"
        )
    return args


#: Ray schedulers without a tunelab counterpart, and what to use instead.
_REFUSED_SCHEDULERS = {
    "pbt_replay": (
        "scheduler 'pbt_replay' (Ray's PopulationBasedTrainingReplay) replays the hyperparameter schedule "
        "that an earlier Ray PBT run wrote to its policy file; tunelab cannot read Ray's policy files. "
        "Run scheduler='pbt', or train the best configuration of an earlier run with get_best_config()"
    ),
    "resource_changing": (
        "scheduler 'resource_changing' (Ray's ResourceChangingScheduler) changes the CPUs and GPUs of "
        "running trials; a tunelab trial keeps resources_per_trial for its whole run. "
        "Give its base scheduler directly (e.g. scheduler='async_hyperband')"
    ),
}


def orca_scheduler(
    name: str | None, params: Mapping[str, Any] | None
) -> tuple[str | None, dict[str, Any], tuple[str, ...]]:
    """tunelab's scheduler for Orca's ``scheduler`` and ``scheduler_params`` (names Ray's registry knows)."""
    args = dict(params or {})
    if name is None:
        return None, args, ()
    key = str(name).strip().lower().replace("-", "_")
    key = {"pbtreplay": "pbt_replay", "resourcechanging": "resource_changing"}.get(key.replace("_", ""), key)
    if key in _REFUSED_SCHEDULERS:
        raise ConfigError(_REFUSED_SCHEDULERS[key])
    if key == "pb2":
        bounds = args.pop("hyperparam_bounds", None)
        args.pop("synch", None)
        if bounds is not None:
            if not isinstance(bounds, Mapping):
                raise ConfigError(f"scheduler_params: hyperparam_bounds must map names to [low, high], got {bounds!r}")
            args.setdefault("hyperparam_mutations", list(bounds))
        return (
            "pbt",
            args,
            (
                "scheduler 'pb2' (Ray's PB2: PBT whose explore step is a Gaussian-process bandit) is not available; "
                "running tunelab's 'pbt' instead (same exploit step, explore by random perturbation within "
                "the search space)",
            ),
        )
    return str(name), args, ()


# ---------------------------------------------------------------------------------- search spaces
class SampleFrom:
    """Orca's ``hp.sample_from(func)``: a value computed in the trial, as Ray computes it.

    ``func(spec)`` gets Ray's ``spec``, whose ``spec.config`` (attribute or item access) holds
    the configuration sampled so far. The value is drawn in the trial process, with numpy's
    global generator seeded from the trial's seed; tuners do not search it (nor does Ray's).
    """

    def __init__(self, func: Callable[[Any], Any]) -> None:
        if not callable(func):
            raise ConfigError(f"hp.sample_from: expected a function of the spec, got {func!r}")
        self.func = func

    def __repr__(self) -> str:
        return f"sample_from({getattr(self.func, '__name__', 'function')})"


def split_space(space: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, SampleFrom]]:
    """The part tuners search, and the values computed in the trial (``hp.sample_from``, ``hp.choice_n``)."""
    searched = {k: v for k, v in space.items() if not isinstance(v, SampleFrom)}
    computed = {k: v for k, v in space.items() if isinstance(v, SampleFrom)}
    return searched, computed


class _Config(dict[str, Any]):
    """A config dict with attribute access, as Ray's ``spec.config`` has."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Spec(dict[str, Any]):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config=_Config(config))

    @property
    def config(self) -> _Config:
        config: _Config = self["config"]
        return config


def resolve_computed(config: dict[str, Any], computed: Mapping[str, SampleFrom], seed: int | None) -> dict[str, Any]:
    """``config`` plus the values of ``computed``; one may use another (resolved in as many passes as needed)."""
    if not computed:
        return config
    import numpy as np

    if seed is not None:
        np.random.seed(seed % 2**32)
    resolved = dict(config)
    pending = dict(computed)
    while pending:
        progressed = False
        for name, sampler in list(pending.items()):
            try:
                value = sampler.func(_Spec(resolved))
            except (KeyError, AttributeError):
                continue
            resolved[name] = _plain(value)
            del pending[name]
            progressed = True
        if not progressed:  # run the first again, so its own error is the one shown
            name, sampler = next(iter(pending.items()))
            resolved[name] = _plain(sampler.func(_Spec(resolved)))
            del pending[name]
    return resolved


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values, so the configuration can be stored as JSON."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------- data frames
def frame_to_arrays(data: Any, feature_cols: Any, label_cols: Any, *, where: str) -> Any:
    """``(x, y)`` from a pandas DataFrame's ``feature_cols`` and ``label_cols``; other data as it is.

    One integer label column gives 1-D class labels (what ``CrossEntropyLoss`` expects), any
    other label columns a 2-D array (one column per label).
    """
    if type(data).__module__.startswith("pyspark"):
        raise ConfigError(f"{where}: a Spark DataFrame needs Spark, which tunelab does not run; pass data.toPandas()")
    if not (hasattr(data, "columns") and hasattr(data, "to_numpy")):
        return data
    features, labels = _columns(feature_cols, "feature_cols"), _columns(label_cols, "label_cols")
    for cols in (features, labels):
        missing = [c for c in cols if c not in data.columns]
        if missing:
            known = [str(c) for c in data.columns]
            raise ConfigError(
                f"{where}: no column {escape(str(missing[0]))!r}{did_you_mean(str(missing[0]), known)}"
                f" (columns: {escape(', '.join(known))})"
            )
    import numpy as np

    # Copies: pandas' copy-on-write hands out read-only views, which torch refuses to wrap.
    x = np.array(data[features].to_numpy(), copy=True)
    y = np.array(data[labels].to_numpy(), copy=True)
    if len(labels) == 1 and y.dtype.kind in "iu":
        y = y.reshape(len(y))
    return x, y


def _columns(cols: Any, label: str) -> list[Any]:
    if cols is None or (not isinstance(cols, str) and not cols):
        raise ConfigError(f"fit: {label} is required when data is a DataFrame (the column names to use)")
    if isinstance(cols, str):
        return [cols]
    if not isinstance(cols, (list, tuple)):
        raise ConfigError(f"fit: {label} must be a column name or a list of names, got {cols!r}")
    return list(cols)


# ---------------------------------------------------------------------------------- the context
@dataclass
class OrcaContext:
    """What ``init_orca_context`` set up: trials run here (``ray`` False) or on a Ray cluster."""

    ray: bool = False
    address: str | None = None  # the cluster joined; None when tunelab started it (or no Ray)
    started: bool = False  # tunelab started this Ray cluster, so stop_orca_context shuts it down
    cores: int | None = None


_context: OrcaContext | None = None

#: init_orca_context arguments that configure Spark or a cluster manager, meaningless without Spark.
_SPARK_ONLY = (
    "memory",
    "conf",
    "master",
    "container_image",
    "hadoop_conf",
    "driver_cores",
    "driver_memory",
    "extra_executor_memory_for_ray",
    "extra_python_lib",
    "penv_archive",
    "additional_archive",
    "hadoop_user_name",
    "spark_yarn_archive",
    "jars",
    "python_location",
    "spark_log_level",
    "redirect_spark_log",
    "init_executor_gateway",
    "enable_numa_binding",
)

_CLUSTER_MODES = (
    "local",
    "yarn-client",
    "yarn-cluster",
    "yarn",
    "k8s-client",
    "k8s-cluster",
    "k8s",
    "standalone",
    "spark-submit",
    "bigdl-submit",
)


def init_orca_context(
    cluster_mode: str | None = None,
    runtime: str = "spark",
    cores: int | str | None = None,
    memory: str = "2g",
    num_nodes: int = 1,
    init_ray_on_spark: bool = False,
    **kwargs: Any,
) -> OrcaContext:
    """Orca's ``init_orca_context``: nothing to start for local trials; Ray when a cluster is asked for.

    ``cluster_mode="local"`` (or none) without ``init_ray_on_spark``: trials run as processes on
    this machine. ``init_ray_on_spark=True`` in local mode starts a Ray cluster on this machine
    (``cores`` CPUs, on 127.0.0.1). ``runtime="ray"``, an ``address`` (or ``RAY_ADDRESS``), and the
    cluster modes (``yarn-client``, ``k8s-client``, ``standalone``, ``spark-submit``...) join a
    running Ray cluster (``address``, else ``RAY_ADDRESS``, else ``auto``): tunelab runs its trials
    on Ray, not Spark, so start Ray on the cluster first (``ray start --head``).
    """
    global _context
    mode = (cluster_mode or "local").strip().lower()
    if mode not in _CLUSTER_MODES:
        raise ConfigError(
            f"init_orca_context: cluster_mode {escape(str(cluster_mode))!r} is not one of Orca's"
            f"{did_you_mean(mode, _CLUSTER_MODES)} ({', '.join(_CLUSTER_MODES)})"
        )
    if runtime not in ("spark", "ray"):
        raise ConfigError(f"init_orca_context: runtime must be 'spark' or 'ray', got {runtime!r}")
    address = kwargs.pop("address", None) or kwargs.pop("redis_address", None)
    ignored = sorted(k for k in kwargs if k in _SPARK_ONLY)
    if memory != "2g":
        ignored.insert(0, "memory")
    unknown = sorted(k for k in kwargs if k not in _SPARK_ONLY)
    if unknown:
        logger.info("init_orca_context: ignoring %s (Spark and Ray settings tunelab does not use)", ", ".join(unknown))
    count = None if cores is None or cores == "*" else int(cores)
    wants_ray = runtime == "ray" or init_ray_on_spark or mode != "local" or address is not None
    if not wants_ray:
        _context = OrcaContext(cores=count)
        return _context
    if ignored:
        warnings.warn(
            f"init_orca_context: {', '.join(ignored)} configure Spark, which tunelab does not run; ignored",
            stacklevel=2,
        )
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"init_orca_context: cluster_mode={mode!r}"
            f"{', init_ray_on_spark=True' if init_ray_on_spark else ''} runs trials on Ray, which is not "
            "installed: pip install 'tunelab[ray]' (or use cluster_mode='local' without init_ray_on_spark)"
        ) from None
    joins = address is not None or runtime == "ray" or mode != "local" or bool(os.environ.get("RAY_ADDRESS"))
    if ray.is_initialized():
        _context = OrcaContext(ray=True, address=None, started=False, cores=count)
        return _context
    if joins:
        target = address or os.environ.get("RAY_ADDRESS") or "auto"
        options: dict[str, Any] = {"address": target, "log_to_driver": False}
        if target.split("://")[-1].rsplit(":", 1)[0] in ("127.0.0.1", "localhost"):
            options["_node_ip_address"] = "127.0.0.1"
        from tunelab.runners._ray import check_reachable

        check_reachable(target, f"init_orca_context: cluster_mode={mode!r} runs trials on Ray")
        try:
            ray.init(**options)
        except ConnectionError as exc:
            raise ConfigError(
                f"init_orca_context: cluster_mode={mode!r} asks for a cluster; tunelab runs trials on Ray, and "
                f"no Ray cluster answers at {target!r} ({exc}). Start one (ray start --head) or pass address=..."
            ) from None
        _context = OrcaContext(ray=True, address=target, started=False, cores=count)
    else:
        from tunelab.runners._ray import _single_node_on_loopback

        options = {"include_dashboard": False, "_node_ip_address": "127.0.0.1", "log_to_driver": False}
        if count is not None:
            options["num_cpus"] = count * max(1, int(num_nodes))
        with _single_node_on_loopback(True):
            ray.init(**options)
        _context = OrcaContext(ray=True, address=None, started=True, cores=count)
    logger.info("init_orca_context: trials run on Ray (%s)", _context.address or "a local cluster")
    return _context


def stop_orca_context() -> None:
    """Orca's ``stop_orca_context``: leave (or shut down, if tunelab started it) the Ray cluster; else nothing."""
    global _context
    context, _context = _context, None
    if context is None or not context.ray:
        return
    import ray

    if ray.is_initialized():
        ray.shutdown()


def ray_context() -> OrcaContext | None:
    """The Ray cluster ``init_orca_context`` started or joined, if it did and it is still up."""
    if _context is None or not _context.ray:
        return None
    import ray

    return _context if ray.is_initialized() else None
