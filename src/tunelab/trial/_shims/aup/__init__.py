"""Auptimizer's trial API on top of tunelab's.

Auptimizer scripts read their parameters from the JSON file named in ``argv[1]``
(``BasicConfig().load(sys.argv[1])``) and report with ``print_result(value)``; every call
is kept as an intermediate result and the last one is the trial's result, reported as its
final result when the script exits (so an assessor judges the intermediate ones while it
runs). A list ``[main, x, y]`` stores ``x`` and ``y`` under the experiment's ``multi_res_labels``.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from tunelab.trial import _context

__all__ = ["BasicConfig", "aup_args", "aup_save_model", "print_result"]


class BasicConfig(dict):
    """A dict whose keys are also attributes, loaded from and saved to JSON."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def load(self, filename: str) -> BasicConfig:
        with open(filename) as handle:
            self.update(json.load(handle))
        return self

    def save(self, filename: str) -> None:
        with open(filename, "w") as handle:
            json.dump(dict(self), handle, indent=2)


_last: list[Any] = []  # the last result printed, reported as the final result at exit


def print_result(result: Any) -> None:
    context = _context.current()
    if not context.in_experiment:
        print(f"#Auptimizer:{result}")
        return
    context.report(result)
    if not _last:
        atexit.register(_report_last)
    _last[:] = [result]


def _report_last() -> None:
    if _last:
        _context.current().report_final(_last[0])


def aup_args(function: Callable[..., Any]) -> Callable[..., Any]:
    """Call ``function`` with the parameters of ``argv[1]`` as keywords and report what it returns."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(sys.argv) > 1:
            config = BasicConfig().load(sys.argv[1])
            kwargs = {**{k: v for k, v in config.items() if k not in ("job_id", "save_model", "folder_name")}, **kwargs}
        result = function(*args, **kwargs)
        if result is not None:
            print_result(result)
        return result

    return wrapper


def aup_save_model(save: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run the user's save function when this job is asked to keep its model.

    As in Auptimizer, the function runs inside the job's model folder (``folder_name``:
    ``<experiment>/best_model/model`` under tunelab), so relative paths land there.
    """
    if len(sys.argv) < 2:
        return
    config = BasicConfig().load(sys.argv[1])
    if not config.get("save_model"):
        return
    folder = config.get("folder_name")
    if not folder:
        save(*args, **kwargs)
        return
    os.makedirs(folder, exist_ok=True)
    previous = os.getcwd()
    os.chdir(folder)
    try:
        save(*args, **kwargs)
    finally:
        os.chdir(previous)
