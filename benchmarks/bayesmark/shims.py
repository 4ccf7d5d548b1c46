"""Shims that let bayesmark 0.0.8 (2020) run on Python 3.11 and current scikit-learn.

Import this module before any ``bayesmark`` module; :func:`apply` is idempotent. Each shim
changes only what broke, and is listed in ``benchmarks/bayesmark/README.md``:

1. ``sklearn.datasets.load_boston`` is gone (removed in scikit-learn 1.2): bayesmark's data
   table names it at import, so a stub stands in that refuses to load; the ``boston``
   problems are not run (nothing may be downloaded to replace them).
2. ``str()`` of an ``IntEnum`` member is its number from Python 3.11 on, which breaks
   ``bayesmark.cmd_parse.arg_to_str`` (it splits ``"CmdArgs.name"``): the old ``str`` is restored.
3. ``LogisticRegression(multi_class=...)`` is gone (scikit-learn 1.7): the ``lasso`` and
   ``linear`` models become ``OneVsRestClassifier(LogisticRegression(...))``, which is what
   ``multi_class="ovr"`` meant.
4. Scorers return Python floats, on which bayesmark calls ``.item()``: they are wrapped to
   return numpy floats.
"""

from __future__ import annotations

import enum
from typing import Any

_applied = False


def _no_boston(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("load_boston was removed from scikit-learn; the boston problems are not run")


class _OneVsRestLogistic:
    """``LogisticRegression(multi_class="ovr", ...)`` as scikit-learn spells it now."""

    def __new__(cls, **params: Any) -> Any:
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        params.pop("multi_class", None)
        return OneVsRestClassifier(LogisticRegression(**params))


def apply() -> None:
    global _applied
    if _applied:
        return
    import numpy as np
    import sklearn.datasets
    import sklearn.metrics

    if "load_boston" not in vars(sklearn.datasets):
        sklearn.datasets.load_boston = _no_boston  # type: ignore[attr-defined]

    from bayesmark import cmd_parse

    cmd_parse.CmdArgs.__str__ = enum.Enum.__str__  # type: ignore[method-assign]

    from bayesmark import sklearn_funcs

    original = sklearn.metrics.get_scorer

    def get_scorer(name: str) -> Any:
        scorer = original(name)

        def score(*args: Any, **kwargs: Any) -> Any:
            return np.float64(scorer(*args, **kwargs))

        return score

    sklearn_funcs.get_scorer = get_scorer
    for name in ("lasso", "linear"):
        if name in sklearn_funcs.MODELS_CLF:
            _, fixed, space = sklearn_funcs.MODELS_CLF[name]
            sklearn_funcs.MODELS_CLF[name] = (_OneVsRestLogistic, fixed, space)
    _applied = True
