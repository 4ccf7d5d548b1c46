"""The progress display of ``tunelab run`` and of the Python API (``optimize``, ``Experiment.run``):
a rich panel redrawn in place on a terminal, otherwise one plain line per finished trial (and
one every 10 s), written to stdout in Jupyter so that it shows as the cell's text."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.markup import escape as _markup
from rich.table import Table

from tunelab.engine._progress import Progress
from tunelab.errors import escape
from tunelab.storage import Phase


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _best_line(p: Progress) -> str:
    """``best 0.93 (trial 4)``; with several objectives ``front of 5, knee trial 4``."""
    if p.front_size is not None:
        return f"front of {p.front_size}" + (f", knee trial {p.best_number}" if p.best_number is not None else "")
    return f"best {_value(p.best_value)}" + (f" (trial {p.best_number})" if p.best_number is not None else "")


def summary_line(experiment_id: str, p: Progress) -> str:
    total = p.max_trials if p.max_trials is not None else "∞"
    remaining = "-" if p.max_duration is None else _duration(p.max_duration - p.elapsed)
    parts = [
        f"[{experiment_id}] {p.phase.value}",
        f"trials {p.finished}/{total} "
        f"(succeeded {p.succeeded}, failed {p.failed}, stopped {p.early_stopped + p.canceled})",
        f"running {p.running}",
        _best_line(p),
        f"elapsed {_duration(p.elapsed)}",
        f"remaining {remaining}",
    ]
    if p.waiting_reason and p.phase == Phase.RUNNING:
        parts.append(f"waiting: {escape(p.waiting_reason)}")
    return " | ".join(parts)


class PlainProgress:
    """For logs and pipes: one line whenever a trial finishes or the best value changes (at most one
    every ``min_gap`` seconds, so thousands of cheap trials do not wait on printing; the last
    change is printed with the next line), whenever the phase changes, and otherwise one every
    ``interval`` seconds while the experiment runs (a trial starting prints nothing by itself).
    ``clock`` gives monotonic seconds."""

    def __init__(
        self,
        experiment_id: str,
        stream: TextIO | None = None,
        *,
        interval: float = 10.0,
        min_gap: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.experiment_id = experiment_id
        self.stream = stream or sys.stderr
        self.interval = interval
        self.min_gap = min_gap
        self.clock = clock
        self._last: tuple[Any, ...] | None = None
        self._printed_at: float | None = None

    def on_progress(self, progress: Progress) -> None:
        key = (progress.phase, progress.finished, progress.best_value)
        now = self.clock()
        since = None if self._printed_at is None else now - self._printed_at
        phase_changed = self._last is None or progress.phase != self._last[0]
        changed = key != self._last and (since is None or since >= self.min_gap)
        if phase_changed or changed or (since is not None and since >= self.interval):
            self._last = key
            self._printed_at = now
            print(summary_line(self.experiment_id, progress), file=self.stream, flush=True)

    def close(self) -> None:
        pass


class LiveProgress:
    """A panel redrawn in place: counts against the limits, best so far, time left."""

    def __init__(self, experiment_id: str, console: Console) -> None:
        self.experiment_id = experiment_id
        self._live = Live(console=console, refresh_per_second=4, transient=False)
        self._live.start()
        self._last_draw = 0.0

    def on_progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last_draw < 0.2 and progress.phase == Phase.RUNNING:
            return
        self._last_draw = now
        self._live.update(self._render(progress))

    def _render(self, p: Progress) -> Table:
        table = Table(title=f"tunelab experiment {self.experiment_id}: {p.phase.value}", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        total = p.max_trials if p.max_trials is not None else "no limit"
        table.add_row("trials", f"{p.finished} of {total} done, {p.running} running, {p.waiting} waiting")
        table.add_row(
            "outcomes",
            f"{p.succeeded} succeeded, {p.failed} failed, {p.early_stopped} early-stopped, {p.canceled} canceled",
        )
        best = _value(p.best_value) if p.front_size is None else f"front of {p.front_size}, knee"
        if p.best_number is not None:
            best += f"  (trial {p.best_number}: {_markup(escape(p.best_params, 500))})"
        table.add_row("best", best)
        remaining = "no time limit" if p.max_duration is None else f"{_duration(p.max_duration - p.elapsed)} remaining"
        table.add_row("time", f"{_duration(p.elapsed)} elapsed, {remaining}")
        if p.waiting_reason and p.phase == Phase.RUNNING:
            table.add_row("waiting", _markup(escape(p.waiting_reason)))
        return table

    def close(self) -> None:
        self._live.stop()


def make_progress(experiment_id: str, *, quiet: bool = False) -> PlainProgress | LiveProgress | None:
    """The display for where this process writes: rich on a terminal, text in Jupyter, plain lines otherwise."""
    if quiet:
        return None
    console = Console(stderr=True)
    if console.is_jupyter:
        return PlainProgress(experiment_id, sys.stdout)
    if console.is_terminal:
        return LiveProgress(experiment_id, console)
    return PlainProgress(experiment_id)
