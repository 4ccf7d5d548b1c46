"""Translations of other systems' early-stopping settings into tunelab's ``assessor``/``scheduler`` sections.

The config loaders call these; each returns ``{"name": ..., "args": ...}`` ready for
:class:`~tunelab.config.ExperimentConfig` (which validates it), or raises
:class:`ConfigError` naming the field.

* NNI: ``assessor: {name: Medianstop|Curvefitting, classArgs}`` -> :func:`from_nni`; the
  tuners ``Hyperband``, ``BOHB`` and ``PBTTuner`` (advisors in NNI v1) are schedulers
  here: :func:`nni_tuner_is_scheduler` tells them, :func:`from_nni` translates them, and
  the tuner becomes ``random``.
* Orca ``AutoEstimator.fit(scheduler=..., scheduler_params=...)`` -> :func:`from_orca`.
* Auptimizer ``resource_args.early_stop`` -> :func:`from_auptimizer`; the proposers
  ``hyperband`` and ``bohb`` -> :func:`from_auptimizer_proposer`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from tunelab.errors import ConfigError
from tunelab.schedulers._registry import resolve_scheduler_name

_NNI_SCHEDULER_TUNERS = {
    "hyperband": "hyperband",
    "hyperbandadvisor": "hyperband",
    "bohb": "bohb",
    "bohbadvisor": "bohb",
    "pbttuner": "pbt",
    "pbt": "pbt",
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of arguments, got {value!r}")
    return dict(value)


def nni_tuner_is_scheduler(name: str) -> bool:
    """True for NNI tuner/advisor names that are schedulers in tunelab (Hyperband, BOHB, PBTTuner)."""
    return _key(name) in _NNI_SCHEDULER_TUNERS


def from_nni(name: str, class_args: Mapping[str, Any] | None = None, *, where: str = "assessor") -> dict[str, Any]:
    """An NNI assessor (``Medianstop``, ``Curvefitting``) or scheduler-like tuner with its ``classArgs``."""
    args = _mapping(class_args, f"{where}.classArgs")
    key = _key(name)
    canonical = _NNI_SCHEDULER_TUNERS.get(key) or resolve_scheduler_name(name, what=where)
    if canonical == "pbt":
        factor = args.pop("factor", None)
        if factor is not None:
            if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
                raise ConfigError(f"{where}.classArgs.factor: expected a number in (0, 1), got {factor!r}")
            args["perturbation_factors"] = [1 + factor, 1 - factor]
        args.setdefault("perturbation_interval", 1)
        args.setdefault("max_t", 10**6)  # NNI's PBT runs until maxTrialNumber
    return {"name": canonical, "args": args}


def from_orca(scheduler: str | None, scheduler_params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """Orca's ``scheduler`` name plus ``scheduler_params`` (Ray Tune's argument names); None for no scheduler."""
    if scheduler is None:
        if scheduler_params:
            raise ConfigError("scheduler_params: given without a scheduler")
        return None
    args = _mapping(scheduler_params, "scheduler_params")
    canonical = resolve_scheduler_name(scheduler)
    if canonical == "median":
        # Ray's MedianStoppingRule compares with every trial, running ones included, once 3 have data.
        args.setdefault("include_running", True)
        args.setdefault("min_samples_required", 3)
    if canonical == "pbt" and isinstance(args.get("hyperparam_mutations"), Mapping):
        args["hyperparam_mutations"] = list(args["hyperparam_mutations"])
    return {"name": canonical, "args": args}


_AUP_POLICIES = {"median": "median", "bandit": "bandit", "truncation": "truncation", "curvefitting": "curvefitting"}
_AUP_KEYS = {
    "median": ("aup_policy_steps", "warmup"),
    "bandit": ("aup_policy_steps", "warmup", "bandit_factor"),
    "truncation": ("aup_policy_steps", "warmup", "truncation_percentage"),
    "curvefitting": (
        "aup_policy_steps",
        "warmup",
        "curve_fitting_threshold",
        "curve_fitting_max_iters",
        "curve_fitting_timeout",
    ),
}


def from_auptimizer(early_stop: Mapping[str, Any]) -> dict[str, Any]:
    """Auptimizer's ``resource_args.early_stop`` (``aup_policy``, ``aup_policy_steps``...) as an assessor."""
    where = "resource_args.early_stop"
    data = _mapping(early_stop, where)
    policy = data.pop("aup_policy", None)
    if policy is None:
        raise ConfigError(f"{where}.aup_policy: this field is required (bandit, median, truncation or curve_fitting)")
    name = _AUP_POLICIES.get(_key(policy))
    if name is None:
        close = difflib.get_close_matches(str(policy), ["bandit", "median", "truncation", "curve_fitting"], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{where}.aup_policy: unknown policy {policy!r}{hint} (bandit, median, truncation, curve_fitting)"
        )
    if "aup_policy_steps" not in data:
        raise ConfigError(f"{where}.aup_policy_steps: this field is required (check every N epochs)")
    allowed = _AUP_KEYS[name]
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where}.{key}: unknown field for the {policy} policy{hint}")
    args = dict(data)
    if name == "median":
        args["include_running"] = True  # Auptimizer compares with all jobs at the same epoch
    if name == "curvefitting":
        args.pop("curve_fitting_timeout", None)
        warmup = args.get("warmup") or 0
        args["warmup"] = max(warmup, 3) if isinstance(warmup, int) else warmup  # a curve needs 3 points to fit
        if "curve_fitting_max_iters" not in args:
            raise ConfigError(
                f"{where}.curve_fitting_max_iters: required here (the epoch the curve is extrapolated to)"
            )
    return {"name": name, "args": args}


def from_auptimizer_proposer(
    proposer: str, args: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Auptimizer's ``hyperband``/``bohb`` proposers: ``(tuner section, scheduler section)``.

    Their settings (``max_iter``/``max_budget``, ``min_budget``, ``eta``...) go to the scheduler;
    configurations come from random search, as in Auptimizer.
    """
    canonical = resolve_scheduler_name(proposer)
    if canonical not in ("hyperband", "bohb"):
        raise ConfigError(f"proposer {proposer!r} is not a Hyperband-style proposer")
    scheduler_args = _mapping(args, "proposer arguments")
    scheduler_args.pop("n_iterations", None)
    return {"name": "random"}, {"name": canonical, "args": scheduler_args}
