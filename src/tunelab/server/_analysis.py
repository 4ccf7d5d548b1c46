"""Pure functions behind the dashboard's charts: best-so-far, concurrency
slots and a variance-based parameter importance. Arrays in, arrays out; no storage.
Parameter names (``model=rf/max_depth``) come from :mod:`tunelab.server._names`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunelab.server._names import MISSING, SEPARATOR, flatten_params
from tunelab.storage import TrialState, competes, is_better

__all__ = ["MISSING", "SEPARATOR", "assign_slots", "best_so_far", "flatten_params", "importance", "is_number"]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def best_so_far(
    values: Sequence[float | None], mode: str, states: Sequence[TrialState] | None = None
) -> list[float | None]:
    """The best value so far after each of ``values`` (in the order the trials ended), under the
    one rule of :mod:`tunelab.storage._best`: only a SUCCEEDED trial with a finite value sets it,
    so an early-stopped or failed trial never does. ``None`` until the first one that competes;
    ``states=None`` counts every value as a SUCCEEDED trial's."""
    best: tuple[float, int] | None = None
    running: list[float | None] = []
    for i, value in enumerate(values):
        state = TrialState.SUCCEEDED if states is None else states[i]
        if value is not None and competes(state, value) and is_better(value, i, best, mode):
            best = (value, i)
        running.append(None if best is None else best[0])
    return running


def assign_slots(starts: Sequence[float], ends: Sequence[float]) -> list[int]:
    """Give each interval the lowest slot free at its start (interval partitioning).

    Storage does not record which concurrency slot ran a trial; for a timeline this
    greedy assignment uses as few rows as the overlap requires.
    """
    order = sorted(range(len(starts)), key=lambda i: (starts[i], ends[i]))
    slot_ends: list[float] = []
    slots = [0] * len(starts)
    for i in order:
        for slot, end in enumerate(slot_ends):
            if end <= starts[i] + 1e-6:
                slot_ends[slot] = ends[i]
                slots[i] = slot
                break
        else:
            slots[i] = len(slot_ends)
            slot_ends.append(ends[i])
    return slots


def _groups(column: Sequence[Any], bins: int) -> np.ndarray:
    """Integer group labels: quantile bins for numbers, one group per category otherwise."""
    numbers = [is_number(v) for v in column]
    codes = np.zeros(len(column), dtype=int)
    if sum(numbers) >= len(column) * 0.5 and len({v for v, ok in zip(column, numbers, strict=True) if ok}) > bins:
        values = np.array([float(v) if ok else np.nan for v, ok in zip(column, numbers, strict=True)])
        finite = values[~np.isnan(values)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
        codes = np.searchsorted(edges, np.nan_to_num(values, nan=-np.inf), side="right")
        codes[np.isnan(values)] = len(edges) + 1  # absent: a group of its own
        return codes
    labels: dict[str, int] = {}
    for i, value in enumerate(column):
        codes[i] = labels.setdefault(repr(value), len(labels))
    return codes


def importance(columns: Mapping[str, Sequence[Any]], values: Sequence[float], *, bins: int = 10) -> dict[str, float]:
    """How much of the variation of the (ranked) objective each parameter explains on its own.

    For each parameter the trials are grouped (numbers into quantile bins, categories by
    value, absent conditional values in a group of their own) and the share of the
    variance of the objective's ranks that lies between the group means is measured
    (the correlation ratio, fANOVA's first-order effect on a grid). The small-sample
    bias of that share, ``(groups - 1) / (n - 1)``, is removed, and the shares are
    scaled to sum to 1. Fewer than 8 scored trials give no estimate (an empty dict).
    """
    y = np.asarray(values, dtype=float)
    keep = np.isfinite(y)
    n = int(keep.sum())
    if n < 8 or not columns:
        return {}
    ranks = np.argsort(np.argsort(y[keep])).astype(float)
    total = float(((ranks - ranks.mean()) ** 2).sum())
    if total == 0:
        return {name: 0.0 for name in columns}
    raw: dict[str, float] = {}
    for name, column in columns.items():
        kept = [v for v, ok in zip(column, keep, strict=True) if ok]
        codes = _groups(kept, max(2, min(bins, n // 5)))
        counts = np.bincount(codes)
        sums = np.bincount(codes, weights=ranks)
        present = counts > 0
        means = sums[present] / counts[present]
        between = float((counts[present] * (means - ranks.mean()) ** 2).sum())
        groups = int(present.sum())
        share = between / total
        bias = (groups - 1) / (n - 1)
        raw[name] = max(0.0, (share - bias) / (1 - bias)) if bias < 1 else 0.0
    scale = sum(raw.values())
    return {name: (score / scale if scale > 0 else 0.0) for name, score in raw.items()}
