"""``tunelab logs``: print a trial's log file, and with ``--follow`` keep printing what it
appends until the trial ends (as ``tail -f`` would, stopping by itself).

The file's name comes from the runners (:func:`tunelab.runners._files.trial_log_path`).
When the trial starts a new attempt its runner sets the old file aside and begins a new
one; following notices (the file is another one, or shorter) and goes on from the start
of the new file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: How long ``--follow`` waits between looks at the file.
POLL_SECONDS = 0.5
_CHUNK = 64 * 1024


def copy_from(path: Path, offset: int, out: BinaryIO) -> int:
    """Write what ``path`` holds past ``offset`` to ``out``; returns the new offset."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        while chunk := handle.read(_CHUNK):
            out.write(chunk)
            offset += len(chunk)
    out.flush()
    return offset


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size


def follow(
    path: Path,
    out: BinaryIO,
    ended: Callable[[], bool],
    *,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = POLL_SECONDS,
    note: Callable[[str], None] = lambda text: None,
) -> None:
    """Print ``path`` and then what is appended to it, until ``ended()`` says the trial is over
    (then whatever it wrote last is printed too). ``sleep`` is how it waits between looks;
    a test passes one that writes to the file or ends the trial."""
    offset = 0
    seen: tuple[int, int] | None = None
    while True:
        finished = ended()  # asked first: what the trial wrote before it ended is still printed
        identity = _identity(path)
        if identity is not None:
            if seen is not None and (identity[:2] != seen or identity[2] < offset):
                note(f"--- {path.name} was started again (a new attempt) ---")
                offset = 0
            seen = identity[:2]
            if identity[2] > offset:
                offset = copy_from(path, offset, out)
        if finished:
            return
        sleep(interval)
