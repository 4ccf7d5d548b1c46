"""One call of a trial function, wherever it runs: a forked child, a reused worker, or the engine itself.

Every function runner sets a call up the same way (the trial's environment variables,
its context, its seeds, its working folder) and turns how the call ended into an exit
status the same way: a return value is the final result (unless the trial reported one),
an exception or :class:`~tunelab.errors.TrialFailed` is status 1 with its reason on the
trial's stderr, ``sys.exit(n)`` is status ``n``.
"""

from __future__ import annotations

import importlib
import os
import random
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tunelab.errors import ReportError, TrialFailed, escape
from tunelab.runners._base import TrialJob
from tunelab.runners._files import REPORTS_FILE, STDERR_FILE, STDOUT_FILE, trial_environment
from tunelab.trial import _context

__all__ = [
    "GeneratorStates",
    "borrowed_process",
    "call_function",
    "exit_status",
    "redirect_output",
    "run_trial",
    "seed_generators",
    "trial_context",
    "trial_variables",
]


def trial_variables(job: TrialJob) -> dict[str, str]:
    """The environment variables a function trial adds to its process: ``TUNELAB_*``, ``NNI_*`` and the job's."""
    env = trial_environment(job, base={})  # the variables it adds, without copying this process's environment
    return {k: v for k, v in env.items() if k.startswith(("TUNELAB_", "NNI_")) or k in job.env}


def trial_context(job: TrialJob) -> _context.TrialContext:
    """The context ``tunelab.report`` and friends write through during the call."""
    return _context.TrialContext(
        params=job.trial_params(),
        trial_dir=job.trial_dir,
        number=job.number,
        experiment_id=job.experiment_id,
        seed=job.seed,
        result_labels=list(job.result_labels),
        budget=job.budget,
        checkpoint_dir=job.checkpoint_dir,
        attempt=job.attempt,
    )


def seed_generators(seed: int | None, import_numpy: bool) -> None:
    """Seed :mod:`random` and numpy's global generator with the trial's seed (numpy only if it is imported)."""
    if seed is None:
        return
    random.seed(seed)
    if import_numpy:
        import numpy  # noqa: F401
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed % 2**32)


def exit_status(exc: BaseException) -> int:
    """The exit status of a call that raised ``exc``; its reason is printed to ``sys.stderr``."""
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code if 0 <= code < 256 else 1
        print(code, file=sys.stderr)
        return 1
    if isinstance(exc, TrialFailed):
        print(exc, file=sys.stderr)
    else:
        traceback.print_exception(exc)
    return 1


@contextmanager
def active_context(context: _context.TrialContext) -> Iterator[None]:
    """Install ``context`` for the block and put back the one before (a worker runs many trials)."""
    previous = _context.peek()
    _context.activate(context)
    try:
        yield
    finally:
        _context.activate(previous)


def call_function(job: TrialJob, context: _context.TrialContext, reported: Callable[[], bool] | None = None) -> int:
    """Call the job's function under ``context``; its exit status (0: it returned). Never raises.

    ``reported`` says whether the call reported anything (default: its reports file is not empty).
    """
    if job.function is None:
        print("the trial has no function to call (trial.function)", file=sys.stderr)
        return 1
    try:
        with active_context(context):
            result = job.function(job.trial_params())
            if result is not None:
                _report_returned(context, result)
            elif not (reported() if reported is not None else _reported(job)):
                raise TrialFailed(
                    "the objective function returned None and reported nothing: return the value to optimize "
                    "(a number), or report it with tunelab.report(value, step=...) as it runs"
                )
    except BaseException as exc:  # noqa: BLE001 - a trial's crash is its failure, never the runner's
        return exit_status(exc)
    return 0


def _report_returned(context: _context.TrialContext, result: Any) -> None:
    """The function's return value as its final result; one that is no result fails the trial, saying so."""
    try:
        context.report_final(result)
    except ReportError as exc:
        reason = str(exc).removeprefix("tunelab: ")
        raise TrialFailed(
            f"the objective function returned {escape(repr(result), 80)} ({type(result).__name__}), which is no "
            f"result ({reason}): return a number, or a dict of numbers with the main value under the metric's key"
        ) from None


def _reported(job: TrialJob) -> bool:
    """Whether the call reported anything (an intermediate or final result) through the trial API."""
    try:
        return (job.trial_dir / REPORTS_FILE).stat().st_size > 0
    except OSError:
        return False


@contextmanager
def borrowed_process(job: TrialJob, *, signals: bool) -> Iterator[None]:
    """Run one trial in a process that runs others too (a worker, the engine's own), and put back afterwards
    what the trial may have changed in it: the environment (with the trial's variables for the block), the
    working folder (``job.code_dir`` for the block), ``sys.path`` and, with ``signals``, every signal's
    handler, a pending alarm and the interval timers. :mod:`random`'s and numpy's global generators are
    seeded with the trial's seed for the block and left as the trial left them: every trial seeds them
    afresh, so only the process's owner needs them back, once (:class:`GeneratorStates`; getting and
    setting numpy's state costs about 0.2 ms, more than a cheap trial).

    What cannot be put back (imported modules, threads the trial left running, memory it holds) stays.
    """
    saved_env = _environment()
    saved_path = list(sys.path)
    handlers = {sig: _getsignal(sig) for sig in _RESETTABLE} if signals else {}
    cwd = os.getcwd()
    try:
        os.environ.update(trial_variables(job))
        seed_generators(job.seed, import_numpy=False)
        if str(job.code_dir) != cwd:
            os.chdir(job.code_dir)
        yield
    finally:
        os.chdir(cwd)
        _restore_environment(saved_env)
        sys.path[:] = saved_path
        if signals:
            signal.alarm(0)
            for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
                signal.setitimer(timer, 0)
            for sig, handler in handlers.items():
                if _getsignal(sig) is not handler and handler is not None:
                    signal.signal(sig, handler)


class GeneratorStates:
    """The states of :mod:`random`'s and numpy's global generators when made, put back by :meth:`restore`.

    For a process whose trials seed the generators (:func:`borrowed_process`) while its owner's code
    may use them between runs: the engine's own process, with ``trial.isolation: inline``.
    """

    def __init__(self) -> None:
        self._random = random.getstate()
        numpy: Any = sys.modules.get("numpy")
        self._numpy = None if numpy is None else numpy.random.get_state()

    def restore(self) -> None:
        random.setstate(self._random)
        if self._numpy is not None:
            sys.modules["numpy"].random.set_state(self._numpy)


def _environment() -> dict[Any, Any]:
    """A snapshot of the environment: the undecoded mapping ``os.environ`` keeps (a fast copy), else a decoded one."""
    data = getattr(os.environ, "_data", None)
    return dict(data) if isinstance(data, dict) else dict(os.environ)


def _restore_environment(saved: dict[Any, Any]) -> None:
    """Put the environment back as :func:`_environment` saw it, changing only what differs."""
    now = _environment()
    if now == saved:
        return
    decode = os.fsdecode if isinstance(getattr(os.environ, "_data", None), dict) else str
    for key in now.keys() - saved.keys():
        del os.environ[decode(key)]
    for key, value in saved.items():
        if now.get(key) != value:
            os.environ[decode(key)] = decode(value)


#: The signals a trial may set a handler for (SIGKILL and SIGSTOP take none), as numbers.
_RESETTABLE = tuple(int(sig) for sig in sorted(set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}))
#: A signal's handler as the interpreter keeps it: :func:`signal.getsignal` without its conversion of
#: ``SIG_DFL``/``SIG_IGN`` to an enum member (for all 60 signals, twice per trial: 0.1 ms against 13 us).
_getsignal: Callable[[int], Any] = importlib.import_module("_signal").getsignal


def run_trial(job: TrialJob, *, redirect: bool = True) -> int:
    """Run one function trial in this process (a forked child, a worker): its logs, its state, the call.

    Returns its exit status; never raises. What the trial changed in the process is put back
    (:func:`borrowed_process`), so a worker can run the next one. ``redirect=False``: stdout
    and stderr stay where they point (a worker's own log files, copied to the trial's).
    """
    status = 1
    try:
        if redirect:
            redirect_output(job.trial_dir)
        with borrowed_process(job, signals=True):
            if str(job.code_dir) not in sys.path:  # what the function imports when called, from its own folder
                sys.path.insert(0, str(job.code_dir))
            status = call_function(job, trial_context(job))
    except BaseException:  # noqa: BLE001 - setting the trial up failed: its failure, never the runner's
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return status


def redirect_output(trial_dir: Path, names: tuple[str, str] = (STDOUT_FILE, STDERR_FILE)) -> None:
    """Point this process's stdout and stderr (descriptors 1 and 2, and ``sys.stdout``/``sys.stderr``) at the
    trial's log files (or the files ``names`` in ``trial_dir``: a worker's own)."""
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, name in zip((1, 2), names, strict=True):
        log = os.open(trial_dir / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, fd)
        os.close(log)
    # The engine's sys.stdout may be a wrapper (pytest, notebooks); the trial writes to its own files.
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # it lives as long as the process
    sys.stderr = open(2, "w", buffering=1, closefd=False)
