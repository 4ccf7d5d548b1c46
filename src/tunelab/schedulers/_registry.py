"""Names users type for assessors and schedulers, and how a name plus arguments becomes one.

One alias table serves NNI (``Medianstop``, ``Curvefitting``, ``Hyperband``, ``BOHB``,
``PBTTuner``), Orca/Ray (``fifo``, ``async_hyperband``/``AsyncHyperBand``, ``hyperband``,
``median_stopping_rule``, ``hb_bohb``, ``pbt``), Auptimizer (``hyperband``, ``bohb`` and
the ``early_stop`` policies ``median``, ``bandit``, ``truncation``, ``curve_fitting``) and
tunelab's own names. Arguments are checked against the constructor, each scheduler also
accepting the other systems' spellings of its arguments (``R``/``max_t`` for
``max_budget``, ``reduction_factor`` for ``eta``...); a misspelled one is a
:class:`ConfigError` with a suggestion.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Mapping
from typing import Any

from tunelab.errors import ConfigError, TunerError
from tunelab.schedulers._asha import ASHAScheduler
from tunelab.schedulers._base import Combined, FIFOScheduler, Scheduler, normalize_mode
from tunelab.schedulers._bohb import BOHBScheduler
from tunelab.schedulers._curvefit import CurveFitting
from tunelab.schedulers._hyperband import HyperbandScheduler
from tunelab.schedulers._moasha import MOASHAScheduler, MOHyperbandScheduler
from tunelab.schedulers._momedian import MOMedianStop
from tunelab.schedulers._pbt import PBTScheduler
from tunelab.schedulers._rules import BanditStop, MedianStop, TruncationStop

SCHEDULERS: dict[str, type[Scheduler]] = {
    "fifo": FIFOScheduler,
    "median": MedianStop,
    "curvefitting": CurveFitting,
    "bandit": BanditStop,
    "truncation": TruncationStop,
    "asha": ASHAScheduler,
    "hyperband": HyperbandScheduler,
    "bohb": BOHBScheduler,
    "pbt": PBTScheduler,
    "moasha": MOASHAScheduler,
    "mohyperband": MOHyperbandScheduler,
    "momedian": MOMedianStop,
}

#: Schedulers that rank trials on several objectives.
MULTI_OBJECTIVE_SCHEDULERS = ("moasha", "mohyperband", "momedian")

#: Rules that only stop trials (NNI's assessors); the others may also assign budgets.
ASSESSORS = ("median", "curvefitting", "bandit", "truncation", "momedian")

#: Normalized spelling (lower case, letters and digits only) -> canonical name.
ALIASES: dict[str, str] = {
    **{name: name for name in SCHEDULERS},
    "fifoscheduler": "fifo",
    "none": "fifo",
    "medianstop": "median",
    "medianstopassessor": "median",
    "medianstopping": "median",
    "medianstoppingrule": "median",
    "curvefittingassessor": "curvefitting",
    "curve": "curvefitting",
    "asynchyperband": "asha",
    "asynchyperbandscheduler": "asha",
    "ashascheduler": "asha",
    "successivehalving": "asha",
    "hyperbandscheduler": "hyperband",
    "hyperbandadvisor": "hyperband",
    "hbbohb": "bohb",
    "hyperbandforbohb": "bohb",
    "bohbadvisor": "bohb",
    "pbttuner": "pbt",
    "populationbasedtraining": "pbt",
    "multiobjectiveasha": "moasha",
    "moashascheduler": "moasha",
    "multiobjectivehyperband": "mohyperband",
    "multiobjectivemedian": "momedian",
    "momedianstop": "momedian",
}

KNOWN_ELSEWHERE: dict[str, str] = {
    "pbtreplay": "Ray's PBT replay",
    "pb2": "Ray's PB2",
}

#: Other systems' spellings of each scheduler's arguments.
ARG_ALIASES: dict[str, dict[str, str]] = {
    "hyperband": {
        "R": "max_budget",
        "max_t": "max_budget",
        "max_iter": "max_budget",
        "reduction_factor": "eta",
        "grace_period": "min_budget",
        "min_t": "min_budget",
    },
    "asha": {
        "max_budget": "max_t",
        "R": "max_t",
        "min_budget": "grace_period",
        "min_t": "grace_period",
        "eta": "reduction_factor",
    },
    "moasha": {
        "max_budget": "max_t",
        "R": "max_t",
        "min_budget": "grace_period",
        "min_t": "grace_period",
        "eta": "reduction_factor",
    },
    "momedian": {"warmup": "start_step", "grace_period": "start_step"},
    "median": {"warmup": "start_step", "grace_period": "start_step", "aup_policy_steps": "interval"},
    "bandit": {"warmup": "start_step", "aup_policy_steps": "interval"},
    "truncation": {"warmup": "start_step", "aup_policy_steps": "interval"},
    "curvefitting": {
        "warmup": "start_step",
        "aup_policy_steps": "gap",
        "curve_fitting_threshold": "threshold",
        "curve_fitting_max_iters": "epoch_num",
    },
    "pbt": {"fraction": "quantile_fraction", "time_budget": "max_t"},
}
ARG_ALIASES["bohb"] = ARG_ALIASES["hyperband"]
ARG_ALIASES["mohyperband"] = ARG_ALIASES["moasha"]

#: NNI's spellings of the median rule, which get NNI's median of an even count (``worse_middle``).
_NNI_MEDIAN_NAMES = {"medianstop", "medianstopassessor"}

#: Arguments other systems pass that mean nothing here: accepted and dropped when harmless.
_DROPPED = {
    "metric",
    "stop_last_trials",
    "hard_stop",
    "min_time_slice",
    "curve_fitting_timeout",
    "all_checkpoint_dir",
    "skip_last",
    "log_config",
    "require_attrs",
    "config_space",
}


def _normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def available_schedulers() -> list[str]:
    return list(SCHEDULERS)


def resolve_scheduler_name(name: str, *, what: str = "scheduler") -> str:
    """The canonical name for anything a user may type; a clear error otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{what}: expected a name, got {name!r}")
    key = _normalize(name)
    if key in ALIASES:
        return ALIASES[key]
    if key in KNOWN_ELSEWHERE:
        raise ConfigError(
            f"{what} {name!r} ({KNOWN_ELSEWHERE[key]}) is not available in tunelab yet; "
            f"available: {', '.join(SCHEDULERS)}"
        )
    close = difflib.get_close_matches(key, list(ALIASES), n=1)
    hint = f"; did you mean {ALIASES[close[0]]!r}?" if close else ""
    raise ConfigError(f"{what}: unknown {what} {name!r}{hint} (available: {', '.join(SCHEDULERS)})")


def scheduler_arguments(name: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments a scheduler accepts besides ``space``, ``mode`` and ``seed``."""
    cls = SCHEDULERS[resolve_scheduler_name(name)]
    parameters = inspect.signature(cls.__init__).parameters
    return {
        k: p
        for k, p in parameters.items()
        if k not in ("self", "space", "mode", "seed", "objectives") and p.kind == p.KEYWORD_ONLY
    }


def create_scheduler(
    name: str,
    /,
    *,
    mode: str | None = None,
    seed: int | None = None,
    space: Any = None,
    what: str = "scheduler",
    objectives: Mapping[str, str] | None = None,
    **args: Any,
) -> Scheduler:
    """An assessor or scheduler by name; NNI ``classArgs`` and Ray/Orca ``scheduler_params`` are accepted as is.

    ``objectives`` (name -> direction) declares several objectives: only schedulers whose class
    sets ``multi_objective`` take more than one; one objective is the same as its ``mode``.
    """
    return _create(name, args, mode=mode, seed=seed, space=space, what=what, objectives=objectives)


def _create(
    name: str,
    args: Mapping[str, Any],
    *,
    mode: str | None,
    seed: int | None,
    space: Any,
    what: str,
    objectives: Mapping[str, str] | None = None,
) -> Scheduler:
    canonical = resolve_scheduler_name(name, what=what)
    label = f"{what} {name!r}"
    args = dict(args)
    for key in ("optimize_mode", "mode"):
        if key in args:
            given = normalize_mode(args.pop(key))
            if mode is not None and normalize_mode(mode) != given:
                raise ConfigError(
                    f"{label}: {key}={given!r} contradicts the experiment's mode {normalize_mode(mode)!r}"
                )
            mode = given
    time_attr = args.pop("time_attr", None)
    if time_attr not in (None, "training_iteration", "step", "epoch"):
        raise ConfigError(
            f"{label}: time_attr must be 'training_iteration' (reports count the resource), got {time_attr!r}"
        )
    if "seed" in args:
        seed = args.pop("seed") if seed is None else seed
        args.pop("seed", None)
    for key in _DROPPED & set(args):
        args.pop(key)
    aliases = ARG_ALIASES.get(canonical, {})
    accepted = scheduler_arguments(canonical)
    resolved: dict[str, Any] = {}
    for key, value in args.items():
        target = aliases.get(key, key)
        if target not in accepted:
            close = difflib.get_close_matches(key, [*accepted, *aliases], n=1)
            hint = f"; did you mean {aliases.get(close[0], close[0])!r}?" if close else ""
            listed = ", ".join(sorted(accepted)) or "none"
            raise ConfigError(f"{label}: unknown argument {key!r}{hint} (accepted: {listed})")
        if target in resolved:
            raise ConfigError(f"{label}: {target!r} is given twice (as {key!r} and another spelling)")
        resolved[target] = value
    if canonical == "median" and _normalize(name) in _NNI_MEDIAN_NAMES:
        resolved.setdefault("worse_middle", True)  # NNI's median of an even count: the worse middle value
    cls = SCHEDULERS[canonical]
    kwargs: dict[str, Any] = {"mode": mode or "min", "seed": seed, **resolved}
    if objectives is not None:
        from tunelab.objectives import normalize_objectives

        declared = normalize_objectives(objectives)
        if cls.multi_objective:
            kwargs["objectives"] = declared
        elif len(declared) > 1:
            raise ConfigError(
                f"{label} ranks one objective; with several use {', '.join(MULTI_OBJECTIVE_SCHEDULERS)} or fifo"
            )
        else:
            kwargs["mode"] = next(iter(declared.values()))
    if "space" in inspect.signature(cls.__init__).parameters:
        if space is None:
            raise ConfigError(f"{label}: needs the search space")
        kwargs["space"] = space
    try:
        return cls(**kwargs)
    except TunerError as exc:
        raise ConfigError(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{label}: {exc}") from None


def build_scheduler(config: Any) -> Scheduler:
    """The scheduler an :class:`~tunelab.config.ExperimentConfig` asks for: ``scheduler`` and ``assessor`` combined."""
    mode, seed = config.mode, config.seed
    objectives = getattr(config, "objectives", None)
    scheduler_cfg = getattr(config, "scheduler", None)
    space = config.space()
    scheduler = None
    if scheduler_cfg is not None:
        scheduler = _create(
            scheduler_cfg.name,
            scheduler_cfg.args,
            mode=mode,
            seed=seed,
            space=space,
            what="scheduler",
            objectives=objectives,
        )
    assessor = None
    if config.assessor is not None:
        assessor = _create(
            config.assessor.name,
            config.assessor.args,
            mode=mode,
            seed=seed,
            space=space,
            what="assessor",
            objectives=objectives,
        )
    if scheduler is None:
        return assessor or FIFOScheduler(mode=mode, seed=seed, objectives=objectives)
    if assessor is None or isinstance(assessor, FIFOScheduler):
        return scheduler
    if isinstance(scheduler, FIFOScheduler):
        return assessor
    return Combined(scheduler, assessor)


def check_scheduler_config(name: str, args: Mapping[str, Any], *, what: str = "scheduler", space: Any = None) -> None:
    """Raise :class:`ConfigError` if ``name`` with ``args`` cannot be built (config validation)."""
    from tunelab.space import parse_search_space

    _create(name, args, mode=None, seed=0, space=parse_search_space(space), what=what)
