"""Whether the engine of a RUNNING experiment is still there: the one rule that ``tunelab
show``/``list`` and the dashboard share.

While it runs, an engine writes ``heartbeat_at`` about every 2 s, with its ``engine_pid`` and
``engine_host``. A RUNNING experiment whose last heartbeat is older than
:data:`ENGINE_SILENT_AFTER`, or whose engine process on this host is gone, has lost its
engine (killed, crashed, the machine rebooted): it stays RUNNING in storage until
``tunelab resume ID`` continues it. Pure apart from the defaults of ``now``, ``host`` and
``pid_alive``, which tests inject. No FastAPI here: the CLI imports this module.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from tunelab.storage import ExperimentRecord, Phase

#: Seconds without a heartbeat after which a running engine counts as not responding.
ENGINE_SILENT_AFTER = 30.0


@dataclass(frozen=True)
class EngineLiveness:
    """``responding`` is False only for a RUNNING experiment whose engine is silent or gone;
    ``since`` is then its last sign of life (the last heartbeat, else the start), if known."""

    responding: bool
    since: float | None = None
    reason: str = ""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return False
    return True


def _span(seconds: float) -> str:
    for unit, size, limit in (("s", 1, 120), ("min", 60, 7200), ("h", 3600, 172800)):
        if seconds < limit:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds / 86400:.0f} days"


def engine_liveness(
    record: ExperimentRecord,
    *,
    now: float | None = None,
    host: str | None = None,
    is_alive: Callable[[int], bool] = pid_alive,
    silent_after: float = ENGINE_SILENT_AFTER,
) -> EngineLiveness:
    """The rule: see the module docstring. ``host`` is this machine's name (default: ours)."""
    if record.phase != Phase.RUNNING:
        return EngineLiveness(True)
    now = time.time() if now is None else now
    last = record.heartbeat_at if record.heartbeat_at is not None else record.started_at
    here = socket.gethostname() if host is None else host
    pid = record.engine_pid
    if pid is not None and pid > 0 and record.engine_host == here and not is_alive(pid):
        return EngineLiveness(False, last, f"engine process {pid} on {here} is not running")
    if last is None:
        return EngineLiveness(False, None, "no engine has written a heartbeat")
    silent = now - last
    if silent > silent_after:
        return EngineLiveness(False, last, f"no heartbeat for {_span(silent)}")
    return EngineLiveness(True)


def phase_label(record: ExperimentRecord, liveness: EngineLiveness, time_text: Callable[[float], str]) -> str:
    """``RUNNING``, or ``RUNNING (engine not responding since <time>; `tunelab resume ID` continues it)``."""
    if liveness.responding:
        return record.phase.value
    since = "" if liveness.since is None else f" since {time_text(liveness.since)}"
    return f"{record.phase.value} (engine not responding{since}; `tunelab resume {record.id}` continues it)"


__all__ = ["ENGINE_SILENT_AFTER", "EngineLiveness", "engine_liveness", "phase_label", "pid_alive"]
