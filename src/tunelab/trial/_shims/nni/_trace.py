"""``nni.trace``: remember how an object was made (its class or function and arguments).

NNI uses the record to serialize objects (``nni.dump``) and to mutate their arguments; trial
scripts mostly wrap optimizers and datasets with it and never look. Here a traced class
makes ordinary instances of a subclass that carry ``trace_symbol``, ``trace_args`` and
``trace_kwargs``; a traced function returns its value unchanged, with the same attributes
when the value can carry them. ``NNI_TRACE_FLAG=disable`` turns tracing off, as in NNI.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["trace"]


def _bind(
    symbol: Any, args: tuple[Any, ...], kwargs: dict[str, Any], kw_only: bool
) -> tuple[list[Any], dict[str, Any]]:
    """With ``kw_only``, positional arguments that have a name become keyword arguments, as NNI records them."""
    if not kw_only:
        return list(args), dict(kwargs)
    try:
        signature = inspect.signature(symbol)
        bound = signature.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return list(args), dict(kwargs)
    positional: list[Any] = []
    named: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            positional.extend(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            named.update(value)
        else:
            named[name] = value
    return positional, named


def _record(obj: Any, symbol: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        object.__setattr__(obj, "trace_symbol", symbol)
        object.__setattr__(obj, "trace_args", args)
        object.__setattr__(obj, "trace_kwargs", kwargs)
    except (AttributeError, TypeError):  # built-in values and __slots__ classes carry nothing
        pass


def _trace_class(cls: type, kw_only: bool) -> type:
    original = getattr(cls, "__init__")  # noqa: B009 - the class's own, looked up once

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _record(self, cls, *_bind(cls, args, kwargs, kw_only))

    traced = type(cls)(
        cls.__name__, (cls,), {"__init__": __init__, "__module__": cls.__module__, "__doc__": cls.__doc__}
    )
    traced.__qualname__ = cls.__qualname__
    return traced


def _trace_function(func: Callable[..., Any], kw_only: bool) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        _record(result, func, *_bind(func, args, kwargs, kw_only))
        return result

    return wrapper


def trace(cls_or_func: Any = None, *, kw_only: bool = True, inheritable: bool = False) -> Any:
    """``@nni.trace`` on a class or function, or ``nni.trace(torch.optim.Adam)(params, lr=0.1)``."""

    def wrap(symbol: Any) -> Any:
        if os.environ.get("NNI_TRACE_FLAG", "").lower() == "disable":
            return symbol
        if isinstance(symbol, type):
            return _trace_class(symbol, kw_only)
        if callable(symbol):
            return _trace_function(symbol, kw_only)
        raise TypeError(f"nni.trace: expected a class or a function, got {type(symbol).__name__}")

    return wrap if cls_or_func is None else wrap(cls_or_func)
