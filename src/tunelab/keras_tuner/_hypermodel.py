"""KerasTuner's ``HyperModel``: ``build(hp)`` makes a model, ``fit(hp, model, ...)`` trains it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tunelab.errors import ConfigError

__all__ = ["HyperModel", "get_hypermodel"]


class HyperModel:
    """A model family to tune. Override ``build``; override ``fit`` to tune how it trains too.

    ``fit`` returns what KerasTuner accepts: a Keras ``History``, a dict of metrics, or a number
    (then minimized, unless the objective says otherwise).
    """

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name = name
        self.tunable = tunable

    def build(self, hp: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.build(hp) must be overridden")

    def declare_hyperparameters(self, hp: Any) -> None:
        """Declare hyperparameters before ``build`` is called (optional)."""

    def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        return model.fit(*args, **kwargs)


class _FunctionHyperModel(HyperModel):
    """A plain ``build_model(hp)`` function as a HyperModel."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        super().__init__(name=getattr(build, "__name__", None))
        self._build = build

    def build(self, hp: Any) -> Any:
        return self._build(hp)


def get_hypermodel(hypermodel: Any) -> HyperModel | None:
    """``hypermodel`` as a :class:`HyperModel`: one already (ours or a real KerasTuner one), a function, or None."""
    if hypermodel is None or isinstance(hypermodel, HyperModel):
        return hypermodel
    if hasattr(hypermodel, "build") and hasattr(hypermodel, "fit"):  # keras_tuner.HyperModel
        return hypermodel
    if callable(hypermodel):
        return _FunctionHyperModel(hypermodel)
    raise ConfigError(f"hypermodel: expected a HyperModel or a function build_model(hp), got {hypermodel!r}")
