"""``tunelab delete``: what removing an experiment removes from disk, and what it keeps.

The folder tunelab made for the experiment (``$TUNELAB_HOME/experiments/<id>``) goes
whole. A folder the config chose (``experiment_dir``) may hold the user's own files, so
only what tunelab writes there goes (``trials/``, ``best_params.json``, ``best_model/``),
then the folder itself if nothing else is left; one that another stored experiment also
uses is kept whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tunelab.storage import ExperimentRecord, tunelab_home

#: What tunelab writes in an experiment's folder.
OWN_ENTRIES = ("trials", "best_params.json", "best_model")


@dataclass
class Removal:
    """What :func:`remove_folder` did: the paths it removed and, with a reason, what it kept."""

    removed: list[Path] = field(default_factory=list)
    kept: Path | None = None
    reason: str = ""


def _remove(path: Path, removal: Removal) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    else:
        return
    removal.removed.append(path)


def remove_folder(record: ExperimentRecord, others: Sequence[ExperimentRecord]) -> Removal:
    """Remove ``record``'s folder as the module docstring says; ``others`` are the other stored experiments."""
    removal = Removal()
    if not record.experiment_dir:
        return removal
    folder = Path(record.experiment_dir)
    if not folder.exists():
        return removal
    resolved = folder.resolve()
    if any(o.experiment_dir and Path(o.experiment_dir).resolve() == resolved for o in others if o.id != record.id):
        return Removal(kept=folder, reason="another stored experiment uses it too")
    if resolved == (tunelab_home() / "experiments" / record.id).resolve():
        _remove(folder, removal)
        return removal
    for name in OWN_ENTRIES:
        _remove(folder / name, removal)
    if any(folder.iterdir()):
        removal.kept = folder
        removal.reason = "it holds files tunelab did not write"
    else:
        folder.rmdir()
        removal.removed.append(folder)
    return removal
