"""Names users type for tuners, and how a name plus arguments becomes a tuner.

One alias table serves every config format: NNI (``TPE``, ``Random``, ``GridSearch``,
``BatchTuner``...), Auptimizer (``random``, ``sequence``, ``passive``, ``spearmint``...),
Orca/Ray (``random``, ``grid``, ``bayesopt``, ``skopt``...) and tunelab's own names.
Arguments are checked against the tuner's constructor, so a misspelled argument is an
error with a suggestion rather than silently ignored.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tunelab.errors import NotImplementedTunerError, TunerError
from tunelab.space import SearchSpace, parse_search_space
from tunelab.tuners._base import Tuner, normalize_mode

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class TunerEntry:
    """Where a tuner lives and which optimization direction NNI gives it by default.

    ``nni_default_mode`` is the ``optimize_mode`` default of NNI 3.0's tuner of that kind
    (``nni/algorithms/hpo``); None where NNI's tuner has no direction (Random, GridSearch,
    BatchTuner ignore ``optimize_mode``).
    """

    module: str
    cls: str
    nni_default_mode: str | None = "max"
    summary: str = ""


TUNERS: dict[str, TunerEntry] = {
    "random": TunerEntry("tunelab.tuners._random", "RandomTuner", nni_default_mode=None, summary="random search"),
    "grid": TunerEntry("tunelab.tuners._grid", "GridTuner", nni_default_mode=None, summary="grid search"),
    "batch": TunerEntry(
        "tunelab.tuners._batch", "BatchTuner", nni_default_mode=None, summary="an explicit list of configurations"
    ),
    "tpe": TunerEntry(
        "tunelab.tuners._tpe", "TPETuner", nni_default_mode="min", summary="tree-structured Parzen estimator"
    ),
    "gp": TunerEntry("tunelab.tuners._gp", "GPTuner", summary="Gaussian-process Bayesian optimization"),
    "evolution": TunerEntry("tunelab.tuners._evolution", "EvolutionTuner", summary="regularized evolution"),
    "anneal": TunerEntry(
        "tunelab.tuners._anneal", "AnnealTuner", nni_default_mode="min", summary="simulated annealing"
    ),
    "cmaes": TunerEntry("tunelab.tuners._cmaes", "CMAESTuner", summary="CMA-ES"),
    "auto": TunerEntry("tunelab.tuners._auto", "AutoTuner", summary="picks an algorithm per experiment"),
    "nsga2": TunerEntry(
        "tunelab.tuners._nsga", "NSGATuner", nni_default_mode="min", summary="NSGA-II (several objectives)"
    ),
    "nsga3": TunerEntry(
        "tunelab.tuners._nsga", "NSGA3Tuner", nni_default_mode="min", summary="NSGA-III (4 or more objectives)"
    ),
    "mogp": TunerEntry("tunelab.tuners._mogp", "MOGPTuner", summary="ParEGO GP (several objectives)"),
    "motpe": TunerEntry(
        "tunelab.tuners._motpe",
        "MOTPETuner",
        nni_default_mode="min",
        summary="multi-objective TPE (several objectives)",
    ),
    "optuna": TunerEntry("tunelab.tuners._optuna", "OptunaTuner", summary="any Optuna sampler (extra)"),
    "hyperopt": TunerEntry(
        "tunelab.tuners._hyperopt", "HyperoptTuner", nni_default_mode="min", summary="Hyperopt TPE (extra)"
    ),
    "scikitoptimize": TunerEntry(
        "tunelab.tuners._skopt", "SkoptTuner", summary="scikit-optimize's Bayesian optimization (Orca's skopt; extra)"
    ),
    "smac": TunerEntry(
        "tunelab.tuners._smac", "SMACTuner", summary="random-forest SMAC, as SMAC3's HPO facade (sklearn extra)"
    ),
}

#: Normalized spelling (lower case, letters and digits only) -> canonical name.
ALIASES: dict[str, str] = {
    **{name: name for name in TUNERS},
    "randomsearch": "random",
    "basicvariant": "random",
    "variantgenerator": "random",
    "gridsearch": "grid",
    "sequence": "grid",
    "batchtuner": "batch",
    "passive": "batch",
    "tpetuner": "tpe",
    "gptuner": "gp",
    "spearmint": "gp",
    "bayesopt": "gp",
    "bayesian": "gp",
    "bayesianoptimization": "gp",
    "skopt": "gp",
    "regularizedevolution": "evolution",
    "evolutiontuner": "evolution",
    "annealtuner": "anneal",
    "cma": "cmaes",
    "cmaestuner": "cmaes",
    "hyperopttuner": "hyperopt",
    "nsgaii": "nsga2",
    "nsga": "nsga2",
    "nsgaiii": "nsga3",
    "multiobjectivetpe": "motpe",
    "parego": "mogp",
    # NNI 3.0's built-in tuners (nni/runtime/default_config/builtin_algorithms.yml: each
    # builtinName and alias) and their "...Tuner" spellings. NNI matches them ignoring case.
    "randomtuner": "random",
    "gridsearchtuner": "grid",
    "tpelegacy": "tpe",  # NNI's TPE_legacy: hyperopt's TPE
    "regularizedevolutiontuner": "evolution",
    "smac": "smac",
    "smactuner": "smac",
    **{key: "gp" for key in ("metis", "metistuner", "dngo", "dngotuner")},
}

#: Algorithms of other systems that tunelab runs with a tuner of its own, and the warning that says so.
SUBSTITUTES: dict[str, str] = {
    key: f"{algorithm} is not in tunelab; it runs tunelab's GP tuner (Gaussian-process Bayesian "
    f"optimization, Matern-5/2 with expected improvement), the nearest algorithm, instead"
    for keys, algorithm in (
        (("metis", "metistuner"), "NNI's Metis (a Gaussian-process tuner)"),
        (("dngo", "dngotuner"), "NNI's DNGO (a Bayesian neural-network surrogate)"),
    )
    for key in keys
}

#: Algorithms users know from other systems that tunelab does not provide: what they are and
#: tunelab's nearest tuner.
KNOWN_ELSEWHERE: dict[str, tuple[str, str]] = {
    "ppo": ("NNI's PPO tuner (reinforcement learning for architecture search)", "evolution"),
    "ppotuner": ("NNI's PPO tuner (reinforcement learning for architecture search)", "evolution"),
    "networkmorphism": ("NNI's network morphism (architecture search over Keras/PyTorch graphs)", "evolution"),
    "networkmorphismtuner": ("NNI's network morphism (architecture search over Keras/PyTorch graphs)", "evolution"),
    "eas": ("Auptimizer's EAS (efficient architecture search)", "evolution"),
    "ax": ("Ray's Ax search (Gaussian-process Bayesian optimization)", "gp"),
    "nevergrad": ("Ray's Nevergrad search (evolution strategies)", "cmaes"),
    "zoopt": ("Ray's ZOOpt search (derivative-free, classification-based)", "evolution"),
    "sigopt": ("Ray's SigOpt search (a hosted Bayesian optimization service)", "gp"),
    "dragonfly": ("Ray's Dragonfly search (Gaussian-process Bayesian optimization)", "gp"),
    "hebo": ("Ray's HEBO search (Gaussian-process Bayesian optimization)", "gp"),
    "blendsearch": ("FLAML's BlendSearch (global TPE plus local search)", "tpe"),
    "cfo": ("FLAML's CFO (randomized local search)", "anneal"),
}

#: Names that are schedulers in tunelab (they decide budgets, not configurations).
SCHEDULER_NAMES: dict[str, str] = {
    "hyperband": "hyperband",
    "bohb": "bohb",
    "hbbohb": "bohb",
    "pbt": "pbt",
    "pbttuner": "pbt",
}


def _normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve_tuner_name(name: str) -> str:
    """The canonical name for anything a user may type; a clear error otherwise.

    An algorithm tunelab runs with a substitute (NNI's Metis, DNGO) resolves to it; say so with
    :func:`substitute_note`. An algorithm of another system that tunelab lacks is an error naming
    the nearest tuner, never a spelling suggestion.
    """
    if not isinstance(name, str) or not name.strip():
        raise TunerError(f"tuner: expected a tuner name, got {name!r}")
    key = _normalize(name)
    if key in ALIASES:
        canonical = ALIASES[key]
        if canonical not in TUNERS:
            what = "NNI's SMAC" if canonical == "smac" else canonical
            raise NotImplementedTunerError(f"tuner {name!r} ({what}) is not part of this tunelab build yet")
        return canonical
    if key in KNOWN_ELSEWHERE:
        what, nearest = KNOWN_ELSEWHERE[key]
        raise NotImplementedTunerError(
            f"tuner {name!r} ({what}) is not available in tunelab; the nearest is {nearest!r} (tuner: {nearest})"
        )
    if key in SCHEDULER_NAMES:
        scheduler = SCHEDULER_NAMES[key]
        raise NotImplementedTunerError(
            f"tuner {name!r} is a scheduler in tunelab (it decides budgets, not configurations): "
            f"write scheduler: {{name: {scheduler}}} with a tuner such as random"
        )
    close = difflib.get_close_matches(key, list(ALIASES), n=1)
    hint = f"; did you mean {ALIASES[close[0]]!r}?" if close else ""
    raise TunerError(f"tuner: unknown tuner {name!r}{hint} (available: {', '.join(available_tuners())})")


def substitute_note(name: str) -> str | None:
    """The warning for a name tunelab runs with another algorithm (NNI's Metis and DNGO run the GP); else None."""
    note = SUBSTITUTES.get(_normalize(name)) if isinstance(name, str) else None
    return None if note is None else f"tuner {name!r}: {note}"


def available_tuners() -> list[str]:
    """Canonical names whose implementation is importable now."""
    names = []
    for name, entry in TUNERS.items():
        try:
            _load(entry)
        except NotImplementedTunerError:
            continue
        names.append(name)
    return names


def _load(entry: TunerEntry) -> type[Tuner]:
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith("tunelab."):
            raise NotImplementedTunerError(f"tuner {entry.cls} is not part of this tunelab build") from None
        raise NotImplementedTunerError(
            f"tuner {entry.cls} needs the package {exc.name!r}: pip install {exc.name}"
        ) from None
    return getattr(module, entry.cls)


def tuner_arguments(name: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments a tuner accepts besides ``space``, ``mode`` and ``seed``."""
    cls = _load(TUNERS[resolve_tuner_name(name)])
    parameters = inspect.signature(cls.__init__).parameters
    return {
        k: p
        for k, p in parameters.items()
        if k not in ("self", "space", "mode", "seed", "objectives") and p.kind == p.KEYWORD_ONLY
    }


#: Tuners that optimise several objectives (named in the error a one-objective tuner gives).
MULTI_OBJECTIVE_TUNERS = ("motpe", "nsga2", "mogp", "random", "auto")


def nni_default_mode(name: str) -> str | None:
    """The direction NNI's tuner of this name optimizes when ``optimize_mode`` is not given (None: it has none)."""
    return TUNERS[resolve_tuner_name(name)].nni_default_mode


def create_tuner(
    name: str,
    search_space: SearchSpace | Mapping[str, Any] | list[Any],
    mode: str | None = None,
    seed: int | None = None,
    objectives: Mapping[str, str] | None = None,
    **args: Any,
) -> Tuner:
    """Build a tuner by name; NNI ``classArgs`` (``optimize_mode``, ``tpe_args``...) are accepted as they are.

    ``objectives`` (``{"accuracy": "max", "latency_ms": "min"}``) declares several objectives;
    a tuner that optimises one refuses more than one, and one objective is its ``mode``.
    """
    note = substitute_note(name)
    if note is not None:
        _LOG.warning("%s", note)
    space = parse_search_space(search_space)
    cls, kwargs = check_tuner_arguments(name, space, mode=mode, seed=seed, objectives=objectives, **args)
    try:
        return cls(space, **kwargs)
    except TunerError:
        raise
    except (TypeError, ValueError) as exc:
        raise TunerError(f"tuner {name!r}: {exc}") from None


def check_tuner_arguments(
    name: str,
    search_space: SearchSpace | Mapping[str, Any] | list[Any],
    mode: str | None = None,
    seed: int | None = None,
    objectives: Mapping[str, str] | None = None,
    **args: Any,
) -> tuple[type[Tuner], dict[str, Any]]:
    """Check a tuner name and its arguments against the constructor's signature, without building it.

    Takes what :func:`create_tuner` takes (NNI ``classArgs`` included) and returns the class and
    the keyword arguments :func:`create_tuner` would pass it (``mode``, ``seed`` and the rest;
    the space is not among them). Raises :class:`TunerError` for an unknown name, a misspelled
    or missing argument, a ``mode`` that contradicts ``optimize_mode``, and
    :class:`NotImplementedTunerError` when the tuner's module or its optional package is missing.
    Value checks that need the constructor's logic are the caller's.
    """
    from tunelab.errors import did_you_mean

    canonical = resolve_tuner_name(name)
    space = parse_search_space(search_space)
    args = dict(args)
    if "optimize_mode" in args:
        nni_mode = normalize_mode(args.pop("optimize_mode"))
        if mode is not None and normalize_mode(mode) != nni_mode:
            raise TunerError(f"tuner {name!r}: mode={mode!r} contradicts optimize_mode={nni_mode!r}")
        mode = nni_mode
    if "seed" in args:
        seed_arg = args.pop("seed")
        seed = seed_arg if seed is None else seed
    args.pop("parallel_optimize", None)
    nested = args.pop("tpe_args", None)
    if nested is not None:
        if not isinstance(nested, Mapping):
            raise TunerError(f"tuner {name!r}: tpe_args must be a mapping, got {nested!r}")
        args.update(nested)
    cls = _load(TUNERS[canonical])
    accepted = tuner_arguments(canonical)
    for key in args:
        if key not in accepted:
            listed = ", ".join(sorted(accepted)) or "none"
            raise TunerError(
                f"tuner {name!r}: unknown argument {key!r}{did_you_mean(key, accepted)} (accepted: {listed})"
            )
    kwargs = {"mode": normalize_mode(mode or "min"), "seed": seed, **args}
    if objectives is not None:
        kwargs.update(_objective_arguments(canonical, cls, mode, objectives))
    try:
        inspect.signature(cls.__init__).bind(None, space, **kwargs)
    except TypeError as exc:
        raise TunerError(f"tuner {name!r}: {exc}") from None
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise TunerError(f"seed: expected a non-negative integer, got {seed!r}")
    return cls, kwargs


def _objective_arguments(canonical: str, cls: type[Tuner], mode: str | None, objectives: Any) -> dict[str, Any]:
    """What ``objectives`` adds to a tuner's arguments: themselves, or for one objective its ``mode``."""
    from tunelab.objectives import normalize_objectives

    declared = normalize_objectives(objectives)
    if mode is not None and (len(declared) > 1 or normalize_mode(mode) != next(iter(declared.values()))):
        raise TunerError(f"tuner {canonical!r}: give either mode={mode!r} or objectives, not both")
    if cls.multi_objective:
        return {"objectives": declared}
    if len(declared) > 1:
        raise TunerError(f"{canonical} optimises one objective; use {', '.join(MULTI_OBJECTIVE_TUNERS[:-1])} or auto")
    return {"mode": next(iter(declared.values()))}
