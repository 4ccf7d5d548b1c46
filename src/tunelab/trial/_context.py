"""The trial context: how a running trial learns its parameters and reports back.

A trial (a command's process, or the child process a function trial runs in) finds its
context in ``TUNELAB_*`` environment variables set by the runner. Reports are appended
as JSON lines to ``reports.jsonl`` in the trial's folder, encoded and checked by
:mod:`tunelab.trial._channel`; the runner reads them back for the engine. A file is the
simplest channel that survives either side dying: the engine picks up what a trial wrote
even after a restart. A stop request is a ``STOP`` file the runner creates in the same
folder.

This module imports only the standard library (and tunelab's stdlib-only modules), so
``import tunelab`` in a trial script costs a few milliseconds.
"""

from __future__ import annotations

import json
import math
import operator
import os
import sys
import time

from tunelab.errors import ReportError, escape
from tunelab.trial._channel import MAX_STEP, REPORTS_FILE, Report, ReportKind, encode

TYPE_CHECKING = False  # typing's own flag costs an import of typing (and pathlib one of its own)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

__all__ = ["PARAMS_FILE", "REPORTS_FILE", "STOP_FILE", "TrialContext", "activate", "current"]

PARAMS_FILE = "params.json"
STOP_FILE = "STOP"

ENV_TRIAL_DIR = "TUNELAB_TRIAL_DIR"
ENV_TRIAL_NUMBER = "TUNELAB_TRIAL_NUMBER"
ENV_EXPERIMENT_ID = "TUNELAB_EXPERIMENT_ID"
ENV_TRIAL_SEED = "TUNELAB_TRIAL_SEED"
ENV_TRIAL_BUDGET = "TUNELAB_TRIAL_BUDGET"
ENV_CHECKPOINT_DIR = "TUNELAB_CHECKPOINT_DIR"


class TrialContext:
    """What a trial knows about itself. ``trial_dir`` is None outside an experiment.

    ``budget``: the resource level to train up to when a scheduler gives budgets, else None.
    ``checkpoint_dir``: a folder for checkpoints (a promoted trial finds its predecessor's
    checkpoint there). ``attempt``: which attempt of the trial this is (1 for the first run, 2
    after one retry, ...). The folders are kept as strings and given as :class:`~pathlib.Path`
    (imported when first asked for: a trial that only reports never imports pathlib).
    """

    def __init__(
        self,
        params: dict[str, Any],
        trial_dir: str | os.PathLike[str] | None = None,
        number: int = 0,
        experiment_id: str = "STANDALONE",
        seed: int | None = None,
        result_labels: list[str] | None = None,
        budget: int | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        attempt: int = 1,
    ) -> None:
        self.params = params
        self._trial_dir = None if trial_dir is None else os.fspath(trial_dir)
        self.number = number
        self.experiment_id = experiment_id
        self.seed = seed
        self.result_labels = [] if result_labels is None else result_labels
        self.budget = budget
        self._checkpoint_dir = None if checkpoint_dir is None else os.fspath(checkpoint_dir)
        self.attempt = attempt
        self._last_step = -1

    def __repr__(self) -> str:
        return (
            f"TrialContext(params={self.params!r}, trial_dir={self._trial_dir!r}, number={self.number!r}, "
            f"experiment_id={self.experiment_id!r}, attempt={self.attempt!r})"
        )

    @property
    def trial_dir(self) -> Path | None:
        return None if self._trial_dir is None else _path(self._trial_dir)

    @property
    def checkpoint_dir(self) -> Path | None:
        return None if self._checkpoint_dir is None else _path(self._checkpoint_dir)

    @property
    def in_experiment(self) -> bool:
        return self._trial_dir is not None

    @property
    def trial_id(self) -> str:
        return f"{self.experiment_id}-{self.number}"

    def report(self, value: Any, step: int | None = None, **metrics: Any) -> None:
        value, metrics = _split(value, metrics, self.result_labels)
        step = self._last_step + 1 if step is None else _step(step)
        self._write(Report(ReportKind.INTERMEDIATE, value, step, metrics, time.time(), self.attempt))
        self._last_step = step

    def report_final(self, value: Any, **metrics: Any) -> None:
        value, metrics = _split(value, metrics, self.result_labels)
        self._write(Report(ReportKind.FINAL, value, None, metrics, time.time(), self.attempt))

    def declare(self, declarations: list[dict[str, Any]], drawn: dict[str, Any], used: tuple[str, ...] = ()) -> None:
        """Tell the engine of parameters a define-by-run objective declared, and the values it drew for them;
        ``used``: once the call returned, the names of every parameter it read, in order."""
        if self.trial_dir is None:  # outside an experiment nobody grows a space
            return
        report = Report(ReportKind.SPACE, None, None, {}, time.time(), self.attempt, tuple(declarations), drawn, used)
        self._write(report)

    def should_stop(self) -> bool:
        return self._trial_dir is not None and os.path.exists(os.path.join(self._trial_dir, STOP_FILE))

    def _write(self, report: Report) -> None:
        line = encode(report)  # checks the report here, in the trial, where the mistake is
        if self._trial_dir is None:
            label = "final result" if report.kind is ReportKind.FINAL else f"step {report.step}"
            extra = "".join(f", {k}={v}" for k, v in report.metrics.items())
            print(f"[tunelab] {label}: {report.value}{extra}", file=sys.stderr)
            return
        # One write() per line on an O_APPEND file: a reader never sees half a record.
        fd = os.open(os.path.join(self._trial_dir, REPORTS_FILE), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # something else left a line unfinished: end it, so this report survives
            os.write(fd, line)
        finally:
            os.close(fd)


class _ReportTypeError(ReportError, TypeError):
    """A result of the wrong type: a :class:`ReportError`, and a ``TypeError`` as it always was."""


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return repr(value)


def _step(step: Any) -> int:
    """A step as an integer in ``0..MAX_STEP``; integral floats (``3.0``) and numpy integers are accepted."""
    if isinstance(step, bool):
        raise _ReportTypeError(f"tunelab: step must be an integer, got {step!r}")
    if not isinstance(step, int) and (isinstance(step, float) or hasattr(step, "is_integer")):
        if not (math.isfinite(step) and float(step).is_integer()):
            raise ReportError(f"tunelab: step must be an integer, got {step!r}")
        step = int(step)
    try:
        number = operator.index(step)
    except TypeError:
        raise _ReportTypeError(f"tunelab: step must be an integer, got {escape(repr(step), 60)}") from None
    if not 0 <= number <= MAX_STEP:
        shown = number if abs(number) < 10**30 else f"an integer of {len(str(abs(number)))} digits"
        raise ReportError(f"tunelab: step must be between 0 and 2**63-1, got {shown}")
    return number


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _ReportTypeError(f"tunelab: a result must be a number, got {escape(repr(value), 60)}")
    try:
        return float(value)
    except OverflowError:
        raise ReportError(
            f"tunelab: a result must fit in a float, got an integer of {len(str(value))} digits"
        ) from None


def _split(value: Any, metrics: dict[str, Any], labels: list[str]) -> tuple[float | None, dict[str, Any]]:
    """Accept a number, NNI's ``{"default": v, ...}``, Auptimizer's ``[v, x, y]`` with labels, or a dict of
    several objectives' values (``{"accuracy": 0.93, "latency_ms": 12.1}``: no main value, every key a metric;
    the engine reads the objectives the experiment declares from it, and fails the trial if one is missing)."""
    metrics = dict(metrics)
    if isinstance(value, dict):
        if not value:
            raise _ReportTypeError("tunelab: a dict result needs a 'default' key or the objectives' values, got {}")
        metrics.update({str(k): v for k, v in value.items() if k != "default"})
        value = value.get("default")
    elif isinstance(value, (list, tuple)):
        if not value:
            raise _ReportTypeError("tunelab: a list result needs at least the main value")
        extra = list(value[1:])
        names = labels + [f"result_{i}" for i in range(len(labels) + 1, len(extra) + 1)]
        metrics.update(dict(zip(names, extra, strict=False)))
        value = value[0]
    number = _number(value)
    try:
        # numpy scalars and arrays become numbers and lists; anything else JSON lacks, its repr.
        metrics = json.loads(json.dumps(metrics, allow_nan=True, default=_jsonable))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ReportError(f"tunelab: metrics must be JSON values: {escape(str(exc), 120)}") from None
    return number, metrics


_current: TrialContext | None = None


def current() -> TrialContext:
    """The context of this process, read from the environment on first use."""
    global _current
    if _current is None:
        _current = _from_environment()
    return _current


def peek() -> TrialContext | None:
    """The installed context, without reading one from the environment."""
    return _current


def activate(context: TrialContext | None) -> None:
    """Install a context (function trials do this in their child process); None resets."""
    global _current
    _current = context


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def _from_environment() -> TrialContext:
    trial_dir = os.environ.get(ENV_TRIAL_DIR)
    if not trial_dir:
        return TrialContext(params={})
    with open(os.path.join(trial_dir, PARAMS_FILE), encoding="utf-8") as handle:
        data = json.load(handle)
    seed = os.environ.get(ENV_TRIAL_SEED)
    return TrialContext(
        params=data["params"],
        trial_dir=trial_dir,
        number=int(os.environ.get(ENV_TRIAL_NUMBER, data.get("number", 0))),
        experiment_id=os.environ.get(ENV_EXPERIMENT_ID, data.get("experiment_id", "")),
        seed=int(seed) if seed else None,
        result_labels=list(data.get("result_labels", [])),
        budget=data.get("budget"),
        checkpoint_dir=data.get("checkpoint_dir") or None,
        attempt=int(data.get("attempt") or 1),
    )
