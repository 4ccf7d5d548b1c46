"""Where the compatibility modules (``nni``, ``aup``, ``bigdl.orca.automl``, ``zoo.orca.automl``) come from.

The rule, for every process tunelab starts (``tunelab python`` and trials on every runner): a
compatibility module is importable only where the real package does not provide it, so an
installed NNI, Auptimizer or BigDL is never shadowed. One exception, for trials: the trial API
a job asks for (``trial.compat``: ``nni``, ``aup``) is always the compatibility module, since
it is how the trial talks to tunelab's engine; the real one talks to its own manager, which is
not there (NNI 3.0's ``get_next_parameter()`` waits forever for NNI's manager to answer).

A ``PYTHONPATH`` entry comes before site-packages, so putting the whole shims folder there
would hide the real packages; instead the entry is the shims folder itself when every shim is
wanted (the common case: none of the real packages is installed), or a folder holding links
to only the wanted ones.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from importlib.machinery import PathFinder
from pathlib import Path

__all__ = ["SHIMS_DIR", "missing_real_packages", "shim_packages", "shims_path", "with_shims"]

#: The folder holding the compatibility packages (one top-level package each).
SHIMS_DIR = Path(__file__).resolve().parent / "_shims"

#: The module a real installation must provide for its shim to stand aside (BigDL and Analytics
#: Zoo ship other parts without Orca; only Orca's automl is shimmed).
_PROVIDES = {"bigdl": "bigdl.orca.automl", "zoo": "zoo.orca.automl"}


def shim_packages() -> list[str]:
    """The top-level packages in the shims folder, sorted."""
    return sorted(p.name for p in SHIMS_DIR.iterdir() if p.is_dir() and (p / "__init__.py").is_file())


def _search_path(pythonpath: str | None) -> list[str]:
    """Where the process to start will look: its ``PYTHONPATH``, then this interpreter's own folders."""
    entries = [p for p in (pythonpath or "").split(os.pathsep) if p]
    own = [p for p in sys.path[1:] if p]  # sys.path[0] is this program's folder, not the child's
    out: list[str] = []
    for entry in entries + own:
        if _is_shims_entry(entry) or entry in out:
            continue
        out.append(entry)
    return out


def _provided(module: str, path: list[str]) -> bool:
    """Whether ``module`` (dotted) is found on ``path`` without importing anything."""
    search: list[str] | None = path
    for part in module.split("."):
        if search is None:
            return False
        try:
            spec = PathFinder.find_spec(part, search)
        except (ImportError, ValueError):
            return False
        if spec is None:
            return False
        locations = spec.submodule_search_locations
        search = list(locations) if locations is not None else None
    return True


def missing_real_packages(pythonpath: str | None = None) -> list[str]:
    """The shims whose real package is not installed (so the shim is used)."""
    path = _search_path(pythonpath)
    return [name for name in shim_packages() if not _provided(_PROVIDES.get(name, name), path)]


def _overlay_root() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(os.path.realpath(tempfile.gettempdir()), f"tunelab-shims-{uid}")


def shims_path(pythonpath: str | None = None, force: Iterable[str] = ()) -> str | None:
    """The ``PYTHONPATH`` entry that makes the missing compatibility packages (and those in ``force``) importable.

    ``pythonpath`` is the ``PYTHONPATH`` the new process will have (its other entries count
    as installed packages). Returns None when every real package is installed and none is forced.
    """
    known = shim_packages()
    wanted = set(missing_real_packages(pythonpath)) | {name for name in force if name in known}
    names = [name for name in known if name in wanted]
    if not names:
        return None
    if names == known:
        return str(SHIMS_DIR)
    key = hashlib.sha256("\0".join([str(SHIMS_DIR), *names]).encode()).hexdigest()[:12]
    folder = Path(_overlay_root()) / f"{'-'.join(names)}-{key}"
    if not folder.is_dir():
        _make_overlay(folder, names)
    return str(folder)


def _make_overlay(folder: Path, names: Iterable[str]) -> None:
    """A folder of links to some of the shims, made under a temporary name and renamed into place."""
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder.parent))
    for name in names:
        (staging / name).symlink_to(SHIMS_DIR / name, target_is_directory=True)
    try:
        staging.rename(folder)
    except OSError:  # made meanwhile by another process: theirs is the same
        for child in staging.iterdir():
            child.unlink()
        staging.rmdir()


def with_shims(env: Mapping[str, str], force: Iterable[str] = ()) -> dict[str, str]:
    """``env`` with the compatibility packages first on ``PYTHONPATH`` where their real package is missing.

    ``force`` names packages whose compatibility module is wanted even so (a trial's ``compat``).
    """
    out = dict(env)
    current: list[str] = []
    for entry in out.get("PYTHONPATH", "").split(os.pathsep):
        if entry and not _is_shims_entry(entry) and entry not in current:
            current.append(entry)
    shims = shims_path(os.pathsep.join(current), force)
    paths = ([shims] if shims else []) + current
    if paths:
        out["PYTHONPATH"] = os.pathsep.join(paths)
    else:
        out.pop("PYTHONPATH", None)
    return out


def _is_shims_entry(entry: str) -> bool:
    """The shims folder or one of its overlays (an earlier choice, which this one replaces)."""
    real = os.path.realpath(entry)
    return real == os.path.realpath(SHIMS_DIR) or real.startswith(_overlay_root() + os.sep)
