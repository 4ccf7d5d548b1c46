"""Search spaces as other frameworks spell them, turned into tunelab domains."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tunelab.errors import SearchSpaceError
from tunelab.space import Choice, Domain, Float, Int, SearchSpace, parse_search_space

#: scipy.stats distributions with an exact tunelab counterpart, by scipy's name.
_SCIPY_FLOAT = {"uniform": False, "loguniform": True, "reciprocal": True}
_SCIPY_INT = {"randint": False}


def sklearn_space(distributions: Any, *, where: str = "param_distributions") -> SearchSpace:
    """A space from a ``param_distributions`` mapping in scikit-learn's or tunelab's spelling.

    Values may be tunelab domains (``tunelab.hp``), NNI ``{"_type", "_value"}`` entries,
    lists (sampled uniformly, as ``RandomizedSearchCV`` does) or the scipy.stats
    distributions ``uniform``, ``loguniform``/``reciprocal`` and ``randint``.
    """
    if isinstance(distributions, SearchSpace):
        return distributions
    if not isinstance(distributions, Mapping):
        raise SearchSpaceError(
            f"{where}: expected a mapping of parameter names to distributions, got {type(distributions).__name__}"
        )
    converted: dict[str, Any] = {}
    for name, entry in distributions.items():
        converted[name] = _entry(entry, f"{where}[{name!r}]")
    return parse_search_space(converted, where=where)


def _entry(entry: Any, label: str) -> Any:
    if isinstance(entry, (Domain, Mapping)):
        return entry
    if isinstance(entry, (list, tuple)):
        if not entry:
            raise SearchSpaceError(f"{label}: needs at least one value, got an empty list")
        return Choice(tuple(entry))
    frozen = getattr(entry, "dist", None)
    if frozen is not None and hasattr(entry, "support") and hasattr(entry, "rvs"):
        return _scipy(entry, frozen.name, label)
    if hasattr(entry, "rvs"):
        raise SearchSpaceError(f"{label}: {entry!r} has an rvs() but tunelab cannot model it; use tunelab.hp")
    raise SearchSpaceError(
        f"{label}: expected a list of values, a tunelab.hp domain or a scipy.stats distribution, got {entry!r}"
    )


def _scipy(entry: Any, name: str, label: str) -> Domain:
    low, high = (float(x) for x in entry.support())
    try:
        if name in _SCIPY_FLOAT:
            return Float(low, high, log=_SCIPY_FLOAT[name])
        if name in _SCIPY_INT:
            return Int(int(low), int(high))
    except ValueError as exc:
        raise SearchSpaceError(f"{label}: {exc}") from None
    known = ", ".join(sorted({*_SCIPY_FLOAT, *_SCIPY_INT}))
    raise SearchSpaceError(
        f"{label}: scipy.stats.{name} has no tunelab counterpart (supported: {known}); use tunelab.hp"
    )
