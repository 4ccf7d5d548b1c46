"""One error tree for tunelab.

Every error a user can cause derives from :class:`TunelabError` and carries a
one-line message that names the offending field and says what is wrong, so the
CLI can print it without a traceback. A failed *trial* is not an error of the
experiment: it is recorded, retried or ignored under the failure policy; only
:class:`ExperimentFailed` says the experiment itself ended in ERROR.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class TunelabError(Exception):
    """Base class of all errors tunelab raises on purpose."""

    exit_code = 1


class ConfigError(TunelabError, ValueError):
    """An experiment config (file or keyword arguments) is invalid."""

    exit_code = 2


class SearchSpaceError(ConfigError):
    """A search space is invalid; the message names the parameter."""


class TunerError(ConfigError):
    """A tuner name or tuner argument is invalid."""


class NotImplementedTunerError(TunerError):
    """A known algorithm name whose tuner tunelab does not provide yet."""


class SearchSpaceExhausted(TunelabError):
    """Every configuration of a finite search space has been proposed."""


class StorageError(TunelabError):
    """The storage cannot be opened, is of an unknown schema, or lacks a record."""


class ExperimentNotFound(StorageError):
    """No experiment with the given id is stored."""


class ExperimentFailed(TunelabError):
    """The experiment ended in ERROR (for instance a trial failed and failures are not ignored)."""


class TrialFailed(TunelabError):
    """Raised inside a function trial to mark it failed with a message."""


class SchedulerError(ConfigError):
    """A scheduler or assessor name or argument is invalid."""


class RunnerError(TunelabError):
    """A runner cannot do what the engine asked of it."""


class TrialStartError(RunnerError):
    """A trial could not be started at all (its program is missing, its folder cannot be written).

    Unlike a trial that starts and fails, this is the same for every trial of the experiment,
    so the engine ends the experiment in ERROR at once instead of failing trial after trial.
    """


class ReportError(TunelabError, ValueError):
    """A trial called the report API with something that cannot be reported (a step out of range, ...)."""


def did_you_mean(name: object, known: Iterable[str], *, rename: Mapping[str, str] | None = None) -> str:
    """``"; did you mean 'x'?"`` for the known name closest to ``name``, or ``""``: the one did-you-mean helper.

    ``rename`` maps a matched alias to the name to suggest (an alias's canonical name).
    """
    import difflib

    close = difflib.get_close_matches(str(name), list(known), n=1)
    if not close:
        return ""
    suggestion = (rename or {}).get(close[0], close[0])
    return f"; did you mean {suggestion!r}?"


def escape(text: object, limit: int = 200) -> str:
    """``text`` for a one-line message: control characters escaped, cut to ``limit`` characters."""
    out = str(text)
    if not out.isprintable():  # the common case, a printable text, costs one scan in C
        out = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in out)
    return out if len(out) <= limit else out[: limit - 3] + "..."
