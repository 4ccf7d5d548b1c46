"""Process-group helpers shared by runners and by ``resume`` (which must stop orphans).

A trial runs in its own session, so its pid is also its process group's id: signals go
to the whole group (the trial and whatever it started).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

logger = logging.getLogger("tunelab")

#: How often :func:`stop_orphan` looks whether the orphan has ended (seconds).
_ORPHAN_POLL = 0.05


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None without one."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/PID/stat), to tell a reused pid apart."""
    fields = _stat_fields(pid)
    return None if fields is None else fields[19]


def is_same_process_alive(pid: int | None, start_time: str | None) -> bool:
    """Whether ``pid`` still runs and is the process that started at ``start_time`` (None: any).

    A zombie (it exited and its parent has not reaped it yet) is not alive: it will run no
    more code, and what it wrote is all it will ever write.
    """
    if not pid or pid <= 0:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return start_time is None
    if fields[0] in ("Z", "X"):  # zombie, or dead and about to vanish
        return False
    return start_time is None or fields[19] == start_time


def signal_group(pid: int, sig: signal.Signals) -> bool:
    """Signal the process group led by ``pid`` (trials run in their own session); False if none was signalled.

    A pid of 0 or less (a remote trial has none here) is ignored: ``killpg(0)`` would
    signal the caller's own group. A group this user may not signal is logged.
    """
    if not pid or pid <= 0:
        return False
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        logger.warning("cannot send %s to the trial's process group %d: permission denied", sig.name, pid)
        return False
    return True


def stop_orphan(pid: int, start_time: str | None, grace: float) -> bool:
    """Stop a trial process this engine did not start: SIGTERM to its group, SIGKILL after ``grace`` s.

    Returns whether it was alive. Blocks for at most ``grace`` seconds plus a moment (it
    polls /proc); used on resume, before the loop starts. This process itself (an inline
    trial's pid, when the engine is resumed in the process it ran in) is never signalled.
    """
    if pid == os.getpid():
        return False
    if not is_same_process_alive(pid, start_time):
        if start_time is not None and process_start_time(pid) == start_time:  # our trial, a zombie
            signal_group(pid, signal.SIGKILL)  # what it started may still run
            _reap(pid, start_time)
        return False
    signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + max(0.0, grace)
    while is_same_process_alive(pid, start_time) and time.monotonic() < deadline:
        _reap(pid, start_time)
        time.sleep(_ORPHAN_POLL)
    # Whatever is left of the group (the trial's own children too) goes now.
    signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while is_same_process_alive(pid, start_time) and time.monotonic() < deadline:
        time.sleep(_ORPHAN_POLL)
    _reap(pid, start_time)
    return True


def _reap(pid: int, start_time: str | None) -> None:
    """Collect the exit status of the trial ``pid`` if it is a child of this process that has ended.

    Only when its start time matches: another child of this process that reuses the pid
    keeps its exit status for its own owner.
    """
    if start_time is None or process_start_time(pid) != start_time:
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except OSError:  # not our child: its parent (or init) reaps it
        pass
