"""The best-parameters artifact, for reuse without tuning again (TFX's best_hyperparameters).

Every experiment writes ``best_params.json`` to its folder when it ends; ``tunelab tfx-tune``
(TFX's Tuner) writes ``best_hyperparameters.txt``, the JSON of KerasTuner's
``HyperParameters.get_config()``. ``load_best`` reads either back, from the file, from the
folder holding it (or a TFX working folder's ``best_hyperparameters/``), or from storage by
experiment id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunelab.errors import StorageError

#: The files ``load_best`` looks for in a folder, in this order.
_FILES = ("best_params.json", "best_hyperparameters.txt", "best_hyperparameters/best_hyperparameters.txt")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise StorageError(f"load_best: {path} is not valid JSON ({exc.msg})") from None
    if isinstance(data, dict) and isinstance(data.get("params"), dict):
        return dict(data["params"])
    if isinstance(data, dict) and isinstance(data.get("space"), list) and isinstance(data.get("values"), dict):
        return dict(data["values"])  # KerasTuner's HyperParameters.get_config()
    raise StorageError(f"load_best: {path} has neither a 'params' mapping nor KerasTuner's 'space' and 'values'")


def load_best(source: str | Path, *, storage: str | None = None) -> dict[str, Any]:
    """The best parameters of an experiment: from a ``best_params.json`` or ``best_hyperparameters.txt``
    path, the folder holding one, or an experiment id."""
    path = Path(source).expanduser()
    if path.is_dir():
        path = next((path / name for name in _FILES if (path / name).is_file()), path / _FILES[0])
    if path.is_file():
        return _read(path)
    from tunelab.engine import Experiment

    experiment = Experiment.load(str(source), storage=storage)
    params = experiment.best_params
    if params is None:
        raise StorageError(f"load_best: experiment {source} has no successful trial yet")
    return params
