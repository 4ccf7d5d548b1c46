"""Auptimizer 2.0's client-side helpers (``aup/aup.py`` upstream), on top of tunelab's trial API.

The semantics are Auptimizer's, checked against the real package by
``tests/compat/test_auptimizer_differential.py``:

- ``print_result(value)`` prints ``\\n#Auptimizer:<value>`` to stderr (a list as
  ``a,b,c``), as Auptimizer does. Inside a tunelab experiment every call is also an
  intermediate result and the last one becomes the trial's final result when the script
  exits, so an assessor can judge a job while it runs; ``[main, x, y]`` keeps ``x`` and
  ``y`` under the experiment's ``multi_res_labels``.
- ``@aup_args`` wraps ``f(x, y, a=1)``: the wrapper takes the job's config file path
  (``f(sys.argv[1])``, optional keywords overriding the file), calls every function of the
  caller's module whose name contains ``init`` (sorted by name) with the whole config,
  passes ``f`` only the config keys that are its own parameters (a missing one without a
  default is a ``ValueError``), reports what ``f`` returns and, for the best job of an
  experiment with ``save_model``, runs the function given to ``aup_save_model`` inside the
  model folder.
- ``@aup_flags(FLAGS)`` does the same for absl / ``tf.app.flags`` mains.

Where tunelab does more than Auptimizer (each is a case where Auptimizer fails or
silently does nothing): ``f()`` without the path reads ``sys.argv[1]``; a ``**kwargs``
parameter receives the config keys no other parameter takes (Auptimizer refuses such a
function as "`kwargs` is required"); ``aup_flags`` assigns the config's values to the
flags (Auptimizer's ``flags.__dict__.update()`` has no argument and leaves them at their
defaults); a missing attribute of a :class:`BasicConfig` is both a ``KeyError`` (as in
Auptimizer) and an ``AttributeError`` (so ``hasattr`` and ``copy`` work); a function that
returns ``None`` after printing results keeps the last printed one.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import sys
from collections.abc import Callable

from tunelab.trial import _context

TYPE_CHECKING = False  # a trial's `from aup import ...` stays light: no typing, inspect, pickle, logging
if TYPE_CHECKING:
    from typing import Any

__all__ = ["BasicConfig", "aup_args", "aup_flags", "aup_save_model", "print_result"]


def _logger() -> Any:
    """Auptimizer's ``aup`` logger (logging is imported when something is logged)."""
    import logging

    return logging.getLogger("aup")


_SUPPORT_FORMAT = ("pkl", "json")


class _MissingKey(KeyError, AttributeError):
    """A missing config key read as an attribute: Auptimizer raises KeyError; hasattr needs AttributeError."""


class BasicConfig(dict):
    """A dict whose keys are also attributes, loaded from and saved to ``.json`` or ``.pkl`` files."""

    def load(self, filename: str) -> BasicConfig:
        """Add the dict in ``filename`` (``.json`` or ``.pkl``) to this config; returns the config."""
        fmt = BasicConfig._get_format(filename)
        if fmt == "json":
            with open(filename) as handle:
                data = json.load(handle)
        else:
            with open(filename, "rb") as handle:
                import pickle

                data = pickle.load(handle)
        if type(data) is not dict:
            raise TypeError("Config must be dict")
        self.update(data)
        return self

    def save(self, filename: str) -> None:
        """Write the config to ``filename`` as Auptimizer does (compact JSON, or a pickled dict)."""
        if BasicConfig._get_format(filename) == "json":
            with open(filename, "w") as handle:
                json.dump(self, handle)
        else:
            with open(filename, "wb") as handle:
                import pickle

                pickle.dump(dict(self), handle)

    @staticmethod
    def _get_format(filename: str) -> str:
        name = filename.split(".")[-1].lower()
        if name not in _SUPPORT_FORMAT:
            raise ValueError(f"Un-support file format, choose from {','.join(_SUPPORT_FORMAT)}.")
        return name

    @staticmethod
    def save_flags(filename: str) -> None:
        """Write absl's flags to ``filename`` (as Auptimizer's, needs ``absl``)."""
        from absl import flags

        with open(filename, "w") as handle:
            handle.write(flags.FLAGS.flags_into_string())

    def to_flags(self, flags: Any) -> None:
        """Set every flag of ``flags`` (absl / ``tf.app.flags.FLAGS``) that this config has a value for."""
        for name in flags:
            if name in self:
                setattr(flags, name, self[name])

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise _MissingKey(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise _MissingKey(key) from None


# ----------------------------------------------------------------------------- results

_last: list[Any] = []  # the last result printed in an experiment, reported as the final result at exit


def _format(result: Any) -> str:
    if type(result) is list:
        return ",".join(str(r) for r in result)
    return str(result).lstrip()


def _as_number(value: Any) -> Any:
    """A string that Auptimizer would parse as a number becomes that number; anything else is left alone."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def print_result(result: Any) -> None:
    """Print ``result`` as Auptimizer does and, inside an experiment, report it (see the module's docstring)."""
    print(f"\n#Auptimizer:{_format(result)}", file=sys.stderr, flush=True)
    context = _context.current()
    if not context.in_experiment or result is None:
        return  # Auptimizer cannot parse "None" either; an earlier result stays the job's result
    value = [_as_number(v) for v in result] if isinstance(result, (list, tuple)) else _as_number(result)
    context.report(value)
    if not _last:
        atexit.register(_report_last)
    _last[:] = [value]


def _report_last() -> None:
    if _last:
        _context.current().report_final(_last[0])


# ----------------------------------------------------------------------------- save_model

_save_callback: list[Any] = []  # [function, args, kwargs] given to aup_save_model
_in_aup_args = 0  # how many @aup_args calls are running (aup_save_model defers its callback inside one)


def aup_save_model(callback_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Register the function that saves the model; it runs for the job asked to keep its model.

    Inside an ``@aup_args`` function (Auptimizer's use) it runs after the function returns,
    in ``aup_models/<folder_name>`` (tunelab's ``folder_name`` is absolute:
    ``<experiment>/best_model/model``). Called anywhere else it runs at once, in that folder,
    when the job's config file (``argv[1]``) has ``save_model: true``.
    """
    _save_callback[:] = [callback_fn, args, kwargs]
    if _in_aup_args or len(sys.argv) < 2:
        return
    try:
        config = BasicConfig().load(sys.argv[1])
    except (OSError, ValueError, TypeError):
        return
    _run_save_callback(config)


def _run_save_callback(config: dict[str, Any]) -> None:
    if config.get("save_model", False) is not True or not _save_callback:
        return
    callback, args, kwargs = _save_callback
    folder = os.path.join("aup_models", str(config.get("folder_name") or "model"))
    os.makedirs(folder, exist_ok=True)
    previous = os.getcwd()
    os.chdir(folder)
    try:
        callback(*args, **kwargs)
    finally:
        os.chdir(previous)


# ----------------------------------------------------------------------------- decorators


def _init_functions(module_name: str | None) -> list[tuple[str, Callable[..., Any]]]:
    """The functions of the caller's module whose name contains ``init``, sorted by name (Auptimizer's rule)."""
    import inspect

    module = sys.modules.get(module_name or "")
    if module is None:
        return []
    return sorted(
        ((name, member) for name, member in inspect.getmembers(module, inspect.isfunction) if "init" in name),
        key=lambda item: item[0],
    )


def _bind(func: Callable[..., Any], config: dict[str, Any], filename: str) -> dict[str, Any]:
    """The keywords ``func`` gets: the config keys that are its own parameters (``**kwargs`` takes the rest)."""
    import inspect

    parameters = inspect.signature(func).parameters
    named = {
        name: p
        for name, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    takes_rest = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    for name, p in named.items():
        if name not in config and p.default is inspect.Parameter.empty:
            raise ValueError(
                f"`{name}` is required in `{func.__name__}()` but is not assigned in config file {filename}"
            )
    bound = {}
    for key, value in config.items():
        if key in named or takes_rest:
            bound[key] = value
        else:
            _logger().debug("%s is not used in optimization", key)
    return bound


def aup_args(func: Callable[..., Any]) -> Callable[..., None]:
    """Decorate a function of hyperparameters; call the result with the job's config file path."""

    @functools.wraps(func)
    def wrapper(filename: str | None = None, **kwargs: Any) -> None:
        global _in_aup_args
        if filename is None:
            if len(sys.argv) < 2:
                raise TypeError(f"{func.__name__}() needs the job's config file: call {func.__name__}(sys.argv[1])")
            filename = sys.argv[1]
        caller = sys._getframe(1).f_globals.get("__name__")
        inits = _init_functions(caller)
        config = BasicConfig().load(filename)
        if kwargs:
            _logger().warning("Overwritting config values from script, be cautious!")
            config.update(kwargs)
        for _, init in inits:
            init(**config)
        run_config = _bind(func, config, filename)
        _in_aup_args += 1
        try:
            value = func(**run_config)
        finally:
            _in_aup_args -= 1
        print_result(value)
        _run_save_callback(config)
        # None, as Auptimizer's wrapper returns: sys.exit(main(path)) and absl's app.run exit 0.

    return wrapper


def aup_flags(flags: Any) -> Callable[[Callable[..., Any]], Callable[[list[str]], None]]:
    """Decorate an absl / ``tf.app.run`` main: the flags get the values of the config file in ``argv[1]``."""

    def decorator_wrapper(func: Callable[..., Any]) -> Callable[[list[str]], None]:
        @functools.wraps(func)
        def wrapper(args: list[str]) -> None:
            config = BasicConfig().load(args[1])
            _set_flags(flags, config)
            import inspect

            parameters = inspect.signature(func).parameters
            if parameters:
                value = func({p: None for p in parameters})  # as Auptimizer calls it
            else:
                value = func()
            print_result(value)
            # None: absl's app.run(main) exits with what main returns.

        return wrapper

    return decorator_wrapper


def _set_flags(flags: Any, config: dict[str, Any]) -> None:
    for name, value in config.items():
        try:
            known = name in flags
        except TypeError:
            known = hasattr(flags, name)
        if known:
            setattr(flags, name, value)
