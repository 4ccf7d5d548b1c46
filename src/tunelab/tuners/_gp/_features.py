"""GP inputs from unit rows: numeric leaves as they are, choices one-hot, inactive leaves at a fixed spot."""

from __future__ import annotations

import numpy as np

from tunelab.tuners._unit import CATEGORICAL, NUMERIC, UnitSpace, choice_index


class Features:
    """Maps unit rows ``(n, dim)`` to GP inputs ``(n, width)``.

    An inactive numeric leaf sits at 0.5 and an inactive choice has all its one-hot
    inputs at zero, so configurations that differ only in inactive leaves coincide.
    """

    def __init__(self, unit: UnitSpace) -> None:
        self.numeric = np.flatnonzero(unit.kinds == NUMERIC)
        self.categorical = np.flatnonzero(unit.kinds == CATEGORICAL)
        self.n_options = unit.n_options
        self.width = len(self.numeric) + int(sum(unit.n_options[j] for j in self.categorical))

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(rows)
        numeric = np.nan_to_num(rows[:, self.numeric], nan=0.5)
        blocks = [numeric]
        for j in self.categorical:
            n = int(self.n_options[j])
            idx = choice_index(rows[:, j], n)
            onehot = (idx[:, None] == np.arange(n)[None, :]).astype(float)
            blocks.append(onehot)
        return np.hstack(blocks)
