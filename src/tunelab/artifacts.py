"""The best-parameters artifact, for reuse without tuning again (TFX's best_hyperparameters).

Every experiment writes ``best_params.json`` to its folder when it ends. ``load_best``
reads it back from that file, from the folder, or from storage by experiment id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunelab.errors import StorageError


def load_best(source: str | Path, *, storage: str | None = None) -> dict[str, Any]:
    """The best parameters of an experiment: from a ``best_params.json`` path, its folder, or an experiment id."""
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / "best_params.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise StorageError(f"load_best: {path} is not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
            raise StorageError(f"load_best: {path} has no 'params' mapping")
        return dict(data["params"])
    from tunelab.engine import Experiment

    experiment = Experiment.load(str(source), storage=storage)
    params = experiment.best_params
    if params is None:
        raise StorageError(f"load_best: experiment {source} has no successful trial yet")
    return params
