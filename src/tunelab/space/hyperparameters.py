"""Define-by-run declarations: KerasTuner's ``HyperParameters`` and Optuna's ``trial.suggest_*`` in one object.

An objective that takes one argument declares its parameters while it runs::

    def objective(hp):                       # KerasTuner's vocabulary
        units = hp.Int("units", 32, 512, step=32)
        with hp.conditional_scope("model", ["mlp"]):
            ...

    def objective(trial):                    # Optuna's vocabulary, the same object
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        if trial.suggest_categorical("model", ["svm", "rf"]) == "svm":
            c = trial.suggest_float("svm_c", 0.1, 10)

Each declaration is a :class:`HyperParameter` (``Int``, ``Float``, ``Choice``, ``Boolean``,
``Fixed``, with :class:`Parent` conditions) whose ``get_config()`` is exactly KerasTuner's, so
``HyperParameters.get_config()`` / ``from_config()`` read and write KerasTuner's format
(``{"space": [{"class_name": "Int", "config": {...}}, ...], "values": {...}}``). Each
declaration also knows the tunelab :class:`~tunelab.space.Domain` it is
(:meth:`HyperParameter.domain`); :mod:`tunelab.space._discovered` assembles those into a
:class:`~tunelab.space.SearchSpace`, conditional scopes becoming nested choices.

A value is the one in :attr:`HyperParameters.values` when set (a tuner's suggestion), else
one drawn by the object's sampler (in a trial: from the trial's seed), else the default as
KerasTuner gives it (``min_value``, the first choice, ``False``). A declaration whose
conditions do not hold returns None, as in KerasTuner.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from tunelab.errors import SearchSpaceError, did_you_mean
from tunelab.space._domains import Choice as ChoiceDomain
from tunelab.space._domains import Domain, show
from tunelab.space._domains import Fixed as FixedDomain
from tunelab.space._domains import Float as FloatDomain
from tunelab.space._domains import Int as IntDomain
from tunelab.space._domains import ReverseLogFloat as ReverseLogDomain

__all__ = [
    "Boolean",
    "Choice",
    "Fixed",
    "Float",
    "HyperParameter",
    "HyperParameters",
    "Int",
    "Parent",
    "ReverseLogWarning",
    "deserialize",
]

_SAMPLINGS = ("linear", "log", "reverse_log")

#: A stepped log range or a stepped float range that does not start on a multiple of its
#: step is searched as a choice of its values; more values than this are refused.
MAX_LISTED_VALUES = 10_000


class ReverseLogWarning(UserWarning):
    """An integer range with ``sampling="reverse_log"`` and no step: tunelab searches it on the linear scale."""


def _warn_reverse_log(hp: HyperParameter) -> None:
    warnings.warn(
        f"hyperparameter '{hp.name}': an Int with sampling='reverse_log' and no step is searched on the "
        "linear scale (tunelab has no reverse-log integer scale); give a step to search its reverse-log values",
        ReverseLogWarning,
        stacklevel=4,
    )


class Parent:
    """KerasTuner's condition: active when the parameter ``name`` has one of ``values``."""

    def __init__(self, name: str, values: Any) -> None:
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values:
            raise SearchSpaceError(f"conditional scope on '{name}': parent_values is empty")
        if isinstance(values[0], str):
            values = [str(v) for v in values]
        elif isinstance(values[0], int) and not isinstance(values[0], bool):
            values = [int(v) for v in values]
        self.name = str(name)
        self.values = values

    def is_active(self, values: Mapping[str, Any]) -> bool:
        return self.name in values and values[self.name] in self.values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parent) and other.name == self.name and other.values == self.values

    def __hash__(self) -> int:
        return hash((self.name, tuple(map(repr, self.values))))

    def __repr__(self) -> str:
        return f"Parent(name={self.name!r}, values={self.values!r})"

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "values": list(self.values)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Parent:
        return cls(config["name"], config["values"])


class HyperParameter:
    """One declared parameter: a name, a default, the conditions under which it is active.

    Subclasses are KerasTuner's types; their ``get_config()`` is KerasTuner's, and
    :meth:`domain` is the tunelab domain they are searched as. Built with invalid
    arguments they raise a one-line :class:`SearchSpaceError` naming the parameter.
    """

    #: The ``class_name`` in KerasTuner's config.
    class_name: ClassVar[str] = ""

    def __init__(self, name: str, default: Any = None, conditions: Sequence[Parent] | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"a hyperparameter's name must be a non-empty string, got {show(name)}")
        self.name = name
        self._default = default
        self.conditions: list[Parent] = [_condition(c) for c in (conditions or [])]

    @property
    def default(self) -> Any:
        return self._default

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "conditions": [{"class_name": "Parent", "config": c.get_config()} for c in self.conditions],
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameter:
        data = dict(config)
        data["conditions"] = [_condition(c) for c in data.get("conditions") or []]
        try:
            return cls(**data)
        except TypeError as exc:
            raise SearchSpaceError(f"hyperparameter config of class {cls.class_name}: {exc}") from None

    def domain(self) -> Domain:
        """The tunelab domain this parameter is searched as."""
        raise NotImplementedError

    def discrete_values(self) -> list[Any] | None:
        """Every value, when there are finitely many (a conditional scope's parent needs them); else None."""
        return None

    def same_range(self, other: HyperParameter) -> bool:
        """Whether ``other`` declares the same parameter (defaults aside)."""
        mine, theirs = self.get_config(), other.get_config()
        mine.pop("default", None)
        theirs.pop("default", None)
        return type(self) is type(other) and mine == theirs

    def _fail(self, text: str) -> SearchSpaceError:
        return SearchSpaceError(f"hyperparameter '{self.name}': {text}")

    def __repr__(self) -> str:
        return f"{self.class_name}({self.get_config()!r})"


class _Numerical(HyperParameter):
    """KerasTuner's numerical declarations: ``min_value`` to ``max_value`` (inclusive), ``step``, ``sampling``.

    Subclasses say how the bounds, the step and the default are typed (:meth:`_typed`,
    :meth:`_check_default`) and which tunelab domain the range is (:meth:`domain`).
    """

    def __init__(
        self,
        name: str,
        min_value: Any,
        max_value: Any,
        step: Any = None,
        sampling: str | None = "linear",
        default: Any = None,
        conditions: Sequence[Parent] | None = None,
    ) -> None:
        super().__init__(name, default, conditions)
        sampling = "linear" if sampling is None else str(sampling).lower()
        if sampling not in _SAMPLINGS:
            raise self._fail(f"sampling must be one of {', '.join(_SAMPLINGS)}, got {show(sampling)}")
        self.sampling = sampling
        min_value, max_value, step = self._typed(min_value, max_value, step)
        for label, value in (("min_value", min_value), ("max_value", max_value)):
            if not math.isfinite(value):
                raise self._fail(f"{label} must be a finite number, got {show(value)}")
        if min_value > max_value:
            raise self._fail(f"min_value <= max_value must hold, but got min_value={min_value}, max_value={max_value}")
        if sampling != "linear" and min_value <= 0:
            raise self._fail(f"sampling='{sampling}' needs min_value > 0, but got min_value={min_value}")
        if step is not None:
            if not math.isfinite(step) or step <= 0:
                raise self._fail(f"step must be a positive number, got {show(step)}")
            if sampling != "linear" and step <= 1:
                raise self._fail(f"step must be > 1 with sampling='{sampling}' (it multiplies), got step={step}")
        self.min_value: Any = min_value
        self.max_value: Any = max_value
        self.step: Any = step
        values = self._stepped()
        if default is not None:
            self._default = self._check_default(default, values)
        self.domain()  # a range tunelab cannot search is refused now, naming the parameter

    def _typed(self, min_value: Any, max_value: Any, step: Any) -> tuple[Any, Any, Any]:
        """The bounds and the step as this type holds them; a one-line error for a wrong type."""
        raise NotImplementedError

    def _check_default(self, default: Any, values: list[float] | None) -> Any:
        """``default`` as this type holds it, or a one-line error when it is not one of the range's values."""
        raise NotImplementedError

    @property
    def default(self) -> Any:
        return self.min_value if self._default is None else self._default

    def _stepped(self) -> list[float] | None:
        """The values of a stepped range (additive when linear, multiplicative otherwise), checked to end on max."""
        if self.step is None:
            return None
        low, high, step = self.min_value, self.max_value, self.step
        if self.sampling == "linear":
            count = (high - low) / step
        else:
            count = math.log(high / low) / math.log(step)
        nearest = round(count)
        if abs(count - nearest) > 1e-9 * max(1.0, abs(count)):
            rule = "max_value - min_value" if self.sampling == "linear" else "the ratio max_value / min_value"
            raise self._fail(
                f"step={step} does not divide {rule} (min_value={low}, max_value={high}); "
                "choose bounds a whole number of steps apart"
            )
        if nearest + 1 > MAX_LISTED_VALUES:
            raise self._fail(f"{nearest + 1} stepped values are more than {MAX_LISTED_VALUES}; use a larger step")
        if self.sampling == "linear":
            return [low + i * step for i in range(nearest + 1)]
        if self.sampling == "log":
            return [low * step**i for i in range(nearest + 1)]
        return [high + low - low * step**i for i in range(nearest + 1)]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(min_value=self.min_value, max_value=self.max_value, step=self.step, sampling=self.sampling)
        return config


class Int(_Numerical):
    """KerasTuner's ``Int``: ``min_value`` to ``max_value`` inclusive; default ``min_value``.

    Unstepped ``reverse_log`` has no integer scale in tunelab: it is searched on the linear
    scale, with a :class:`ReverseLogWarning` (give a ``step`` to search its reverse-log values).
    """

    class_name = "Int"

    def _typed(self, min_value: Any, max_value: Any, step: Any) -> tuple[Any, Any, Any]:
        for label, value in (("min_value", min_value), ("max_value", max_value), ("step", step)):
            if value is not None and not _integral(value):
                raise self._fail(f"{label} must be an integer, got {show(value)}")
        if step is None and self.sampling == "linear":
            step = 1
        return int(min_value), int(max_value), None if step is None else int(step)

    def _check_default(self, default: Any, values: list[float] | None) -> Any:
        if not _integral(default) or not self.min_value <= default <= self.max_value:
            raise self._fail(f"default {show(default)} is not an integer in [{self.min_value}, {self.max_value}]")
        if values is not None and int(default) not in [round(v) for v in values]:
            raise self._fail(f"default {default} is not one of the stepped values")
        return int(default)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["default"] = self._default  # KerasTuner stores Int's given default (None when unset)
        return config

    def domain(self) -> Domain:
        if self.min_value == self.max_value:
            return FixedDomain(self.min_value)
        if self.sampling == "linear":
            return _domain(self, IntDomain, self.min_value, self.max_value, step=self.step or 1)
        if self.step is None:
            if self.sampling == "reverse_log":
                _warn_reverse_log(self)
            return _domain(self, IntDomain, self.min_value, self.max_value, log=self.sampling == "log", step=1)
        return ChoiceDomain(tuple(sorted({round(v) for v in self._stepped() or []})))

    def discrete_values(self) -> list[Any] | None:
        values = self._stepped()
        if values is not None:
            return sorted({round(v) for v in values})
        count = self.max_value - self.min_value + 1
        return list(range(self.min_value, self.max_value + 1)) if count <= MAX_LISTED_VALUES else None


class Float(_Numerical):
    """KerasTuner's ``Float``: a real in ``[min_value, max_value]``; default ``min_value``.

    ``sampling="reverse_log"`` is :class:`~tunelab.space.ReverseLogFloat`, denser near
    ``max_value`` as in KerasTuner.
    """

    class_name = "Float"

    def _typed(self, min_value: Any, max_value: Any, step: Any) -> tuple[Any, Any, Any]:
        for label, value in (("min_value", min_value), ("max_value", max_value), ("step", step)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise self._fail(f"{label} must be a number, got {show(value)}")
        return float(min_value), float(max_value), None if step is None else float(step)

    def _check_default(self, default: Any, values: list[float] | None) -> Any:
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise self._fail(f"default must be a number, got {show(default)}")
        if not self.min_value <= default <= self.max_value:
            raise self._fail(f"default {default} is not in [{self.min_value}, {self.max_value}]")
        return float(default)

    def domain(self) -> Domain:
        if self.min_value == self.max_value:
            return FixedDomain(self.min_value)
        if self.step is None:
            if self.sampling == "reverse_log":
                return _domain(self, ReverseLogDomain, self.min_value, self.max_value)
            return _domain(self, FloatDomain, self.min_value, self.max_value, log=self.sampling == "log")
        if self.sampling == "linear" and _multiple(self.min_value, self.step):
            return _domain(self, FloatDomain, self.min_value, self.max_value, q=self.step)
        return ChoiceDomain(tuple(self._stepped() or []))

    def discrete_values(self) -> list[Any] | None:
        return self._stepped()


class Choice(HyperParameter):
    """KerasTuner's ``Choice`` (Optuna's ``suggest_categorical``); default the first value."""

    class_name = "Choice"

    def __init__(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        conditions: Sequence[Parent] | None = None,
    ) -> None:
        super().__init__(name, default, conditions)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise self._fail(f"values must be a list, got {show(values)}")
        values = list(values)
        if not values:
            raise self._fail("values is empty; give at least one choice")
        for value in values:
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise self._fail(f"values must be None, bools, numbers or strings, got {show(value)}")
        if default is not None and default not in values:
            raise self._fail(f"default {show(default)} is not one of the values {show(values)}")
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if ordered and not numeric:
            raise self._fail("ordered=True needs numeric values")
        self.values = values
        self.ordered = numeric if ordered is None else bool(ordered)

    @property
    def default(self) -> Any:
        return self.values[0] if self._default is None else self._default

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(values=list(self.values), ordered=self.ordered)
        return config

    def domain(self) -> Domain:
        return ChoiceDomain(tuple(self.values))

    def discrete_values(self) -> list[Any] | None:
        return list(self.values)


class Boolean(HyperParameter):
    """KerasTuner's ``Boolean``: default False."""

    class_name = "Boolean"

    def __init__(self, name: str, default: Any = False, conditions: Sequence[Parent] | None = None) -> None:
        super().__init__(name, default, conditions)
        if default not in (True, False) or not isinstance(default, bool):
            raise self._fail(f"default must be True or False, got {show(default)}")

    def domain(self) -> Domain:
        return ChoiceDomain((True, False))  # KerasTuner's order (Boolean.values)

    def discrete_values(self) -> list[Any] | None:
        return [True, False]


class Fixed(HyperParameter):
    """KerasTuner's ``Fixed``: one value, always."""

    class_name = "Fixed"

    def __init__(self, name: str, value: Any, conditions: Sequence[Parent] | None = None) -> None:
        super().__init__(name, value, conditions)
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise self._fail(f"a Fixed value must be None, a bool, a number or a string, got {show(value)}")
        self.value = value

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("default")
        config["value"] = self.value
        return config

    def domain(self) -> Domain:
        return FixedDomain(self.value)

    def discrete_values(self) -> list[Any] | None:
        return [self.value]


_CLASSES: dict[str, type[HyperParameter]] = {c.class_name: c for c in (Int, Float, Choice, Boolean, Fixed)}


def deserialize(config: Mapping[str, Any]) -> HyperParameter:
    """A declaration from KerasTuner's ``{"class_name": ..., "config": {...}}``."""
    if not isinstance(config, Mapping) or not isinstance(config.get("config"), Mapping):
        raise SearchSpaceError(
            f"a hyperparameter config must be {{'class_name': ..., 'config': {{...}}}}, got {show(config)}"
        )
    name = config.get("class_name")
    cls = _CLASSES.get(str(name))
    if cls is None:
        raise SearchSpaceError(f"unknown hyperparameter class {show(name)}{did_you_mean(name, _CLASSES)}")
    return cls.from_config(config["config"])


def serialize(hyperparameter: HyperParameter) -> dict[str, Any]:
    return {"class_name": hyperparameter.class_name, "config": hyperparameter.get_config()}


#: Draws a value for a declaration the values do not hold yet (None: use the default).
Sampler = Callable[[HyperParameter], Any]


class HyperParameters:
    """The argument of a define-by-run objective: KerasTuner's ``hp`` and Optuna's ``trial`` at once.

    ``values`` holds the active parameters' values; ``space`` the declarations in the
    order they were made. Not thread-safe (one objective call uses it).
    """

    def __init__(self) -> None:
        self._space: list[HyperParameter] = []
        self._hps: dict[str, list[HyperParameter]] = {}
        self._conditions: list[Parent] = []
        self._name_scopes: list[str] = []
        self.values: dict[str, Any] = {}
        #: Draws values for new declarations (set by the trial); None: defaults, as KerasTuner.
        self.sampler: Sampler | None = None
        #: Called with each declaration made for the first time (the trial reports it to the engine).
        self.on_declare: Callable[[HyperParameter, Any], None] | None = None
        #: The trial number in an experiment (Optuna's ``trial.number``).
        self.number = 0
        self._touched: set[int] = set()  # ids of the declarations retrieved in this call
        #: The names of the active parameters this call read, in the order first read (its path).
        self.used: list[str] = []

    # ------------------------------------------------------------------ KerasTuner
    @property
    def space(self) -> list[HyperParameter]:
        return self._space

    def Int(
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        return self._declare(Int, parent_name, parent_values, name, min_value, max_value, step, sampling, default)

    def Float(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        return self._declare(Float, parent_name, parent_values, name, min_value, max_value, step, sampling, default)

    def Choice(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        return self._declare(Choice, parent_name, parent_values, name, values, ordered, default)

    def Boolean(
        self, name: str, default: bool = False, parent_name: str | None = None, parent_values: Any = None
    ) -> Any:
        return self._declare(Boolean, parent_name, parent_values, name, default)

    def Fixed(self, name: str, value: Any, parent_name: str | None = None, parent_values: Any = None) -> Any:
        return self._declare(Fixed, parent_name, parent_values, name, value)

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Declarations inside are active only while ``parent_name``'s value is one of ``parent_values``."""
        parent_name = self._name(parent_name)
        if parent_name not in self._hps:
            known = list(self._hps)
            raise SearchSpaceError(
                f"conditional_scope: parent '{parent_name}' is not declared yet{did_you_mean(parent_name, known)}"
            )
        self._conditions.append(Parent(parent_name, parent_values))
        try:
            yield
        finally:
            self._conditions.pop()

    @contextlib.contextmanager
    def name_scope(self, name: str) -> Iterator[None]:
        self._name_scopes.append(name)
        try:
            yield
        finally:
            self._name_scopes.pop()

    def get(self, name: str) -> Any:
        """An active parameter's value; ValueError when it is inactive, KeyError when never declared."""
        name = self._name(name)
        if name in self.values:
            return self.values[name]
        if name in self._hps:
            raise ValueError(f"hyperparameter '{name}' is currently inactive")
        if not self._hps:
            raise KeyError(
                f"hyperparameter '{name}' does not exist: nothing is declared yet; declare it first "
                f"(hp.Float('{name}', ...), trial.suggest_float('{name}', ...)), or give a search_space"
            )
        raise KeyError(f"hyperparameter '{name}' does not exist{did_you_mean(name, list(self._hps))}")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.values

    def is_active(self, hyperparameter: HyperParameter | str) -> bool:
        if isinstance(hyperparameter, HyperParameter):
            return self._active(hyperparameter.conditions)
        return any(self._active(hp.conditions) for hp in self._hps.get(str(hyperparameter), []))

    def get_config(self) -> dict[str, Any]:
        return {"space": [serialize(hp) for hp in self._space], "values": dict(self.values)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameters:
        if not isinstance(config, Mapping) or not isinstance(config.get("space", []), list):
            raise SearchSpaceError("a HyperParameters config must be {'space': [...], 'values': {...}}")
        hps = cls()
        for item in config.get("space", []):
            hps._add(deserialize(item))
        values = config.get("values", {})
        if not isinstance(values, Mapping):
            raise SearchSpaceError(f"HyperParameters config: values must be a mapping, got {show(values)}")
        hps.values = dict(values)
        return hps

    def copy(self) -> HyperParameters:
        return HyperParameters.from_config(self.get_config())

    def merge(self, hps: HyperParameters | Sequence[HyperParameter], overwrite: bool = True) -> None:
        """Add declarations (KerasTuner's ``merge``): those not known yet, or all with ``overwrite``."""
        items = hps.space if isinstance(hps, HyperParameters) else list(hps)
        for hp in items:
            known = self._find(hp)
            if known is not None and not overwrite:
                continue
            if known is None:
                self._add(hp)
            if self._active(hp.conditions) and (overwrite or hp.name not in self.values):
                self.values[hp.name] = hp.default

    def ensure_active_values(self) -> None:
        """Drop inactive values and give missing active ones their default (KerasTuner's method)."""
        for hp in self._space:
            if self._active(hp.conditions):
                self.values.setdefault(hp.name, hp.default)
            else:
                self.values.pop(hp.name, None)

    # ------------------------------------------------------------------ Optuna
    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> Any:
        if log and step is not None:
            raise SearchSpaceError(f"hyperparameter '{name}': step and log cannot be used together")
        return self.Float(name, low, high, step=step, sampling="log" if log else "linear")

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> Any:
        if log and step != 1:
            raise SearchSpaceError(f"hyperparameter '{name}': step other than 1 and log cannot be used together")
        return self.Int(name, low, high, step=None if log else step, sampling="log" if log else "linear")

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self.Choice(name, list(choices), ordered=False)

    def suggest_uniform(self, name: str, low: float, high: float) -> Any:
        return self.suggest_float(name, low, high)

    def suggest_loguniform(self, name: str, low: float, high: float) -> Any:
        return self.suggest_float(name, low, high, log=True)

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> Any:
        return self.suggest_float(name, low, high, step=q)

    @property
    def params(self) -> dict[str, Any]:
        """Optuna's ``trial.params``: the values of the active parameters."""
        return dict(self.values)

    def report(self, value: float, step: int) -> None:
        """Optuna's ``trial.report``: an intermediate result (:func:`tunelab.report`)."""
        from tunelab.trial import report

        report(value, step=step)

    def should_prune(self) -> bool:
        """Optuna's ``trial.should_prune``: True once the engine asks this trial to stop early."""
        from tunelab.trial import should_stop

        return should_stop()

    # ------------------------------------------------------------------ internals
    def _name(self, name: str) -> str:
        return "/".join([*self._name_scopes, str(name)]) if self._name_scopes else str(name)

    def _declare(
        self, cls: Callable[..., HyperParameter], parent_name: str | None, parent_values: Any, *args: Any
    ) -> Any:
        """Declare (or look up) ``cls(name, *args)`` under the open scopes and ``parent_name``'s, if given."""
        scope = self.conditional_scope(parent_name, parent_values) if parent_name else contextlib.nullcontext()
        with scope:
            name, *rest = args
            return self._retrieve(cls(self._name(name), *rest, conditions=list(self._conditions)))

    def _active(self, conditions: Sequence[Parent]) -> bool:
        return all(condition.is_active(self.values) for condition in conditions)

    def _find(self, hp: HyperParameter) -> HyperParameter | None:
        for known in self._hps.get(hp.name, []):
            if known.conditions == hp.conditions:
                return known
        return None

    def _add(self, hp: HyperParameter) -> None:
        for condition in hp.conditions:
            if condition.name == hp.name:
                raise SearchSpaceError(f"hyperparameter '{hp.name}' cannot be conditional on itself")
        self._hps.setdefault(hp.name, []).append(hp)
        self._space.append(hp)

    def _retrieve(self, hp: HyperParameter) -> Any:
        known = self._find(hp)
        if known is not None:
            if not known.same_range(hp):
                raise SearchSpaceError(
                    f"hyperparameter '{hp.name}' is declared twice with different ranges: "
                    f"{_spelling(known)} and {_spelling(hp)}"
                )
            hp = known
            new = False
        else:
            self._add(hp)
            new = True
        active = self._active(hp.conditions)
        first = id(hp) not in self._touched
        self._touched.add(id(hp))
        # Every active declaration draws once, given a value or not, so that the draws line up
        # with a random tuner's over the same space (the same seed, the same values).
        drawn = self.sampler(hp) if (first and active and self.sampler is not None) else None
        if active and hp.name not in self.values:
            self.values[hp.name] = hp.default if drawn is None else drawn
        if active and first and hp.name not in self.used:
            self.used.append(hp.name)
        if new and self.on_declare is not None:
            self.on_declare(hp, self.values.get(hp.name) if active else None)
        return self.values[hp.name] if active else None

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values!r})"


def _spelling(hp: HyperParameter) -> str:
    config = hp.get_config()
    config.pop("name", None)
    config.pop("conditions", None)
    config.pop("default", None)
    return f"{hp.class_name}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


def _condition(item: Any) -> Parent:
    if isinstance(item, Parent):
        return item
    if isinstance(item, Mapping):
        config = item.get("config", item)
        if item.get("class_name", "Parent") != "Parent" or not isinstance(config, Mapping):
            raise SearchSpaceError(f"a condition must be KerasTuner's Parent, got {show(item)}")
        return Parent.from_config(config)
    raise SearchSpaceError(f"a condition must be KerasTuner's Parent, got {show(item)}")


def _integral(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value == int(value)


def _multiple(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-9 * max(1.0, abs(ratio))


def _domain(hp: HyperParameter, cls: type[Domain], *args: Any, **kwargs: Any) -> Domain:
    try:
        return cls(*args, **kwargs)
    except ValueError as exc:
        raise SearchSpaceError(f"hyperparameter '{hp.name}': {exc}") from None
