"""How a person names a stored experiment: its id, a unique prefix of it, its name (the newest
experiment with that name) or ``latest`` (the newest). The CLI and ``Experiment.load`` share it."""

from __future__ import annotations

from tunelab.errors import ExperimentNotFound, TunelabError, did_you_mean, escape
from tunelab.storage._base import Storage
from tunelab.storage._records import ExperimentRecord

__all__ = ["find_experiment"]


def find_experiment(store: Storage, ref: str, *, hint: str = "") -> ExperimentRecord:
    """The stored experiment ``ref`` names. An ambiguous prefix lists the candidates; an unknown
    one names the closest stored id or name, followed by ``hint`` (how to list them)."""
    try:
        return store.get_experiment(ref)
    except ExperimentNotFound as exc:
        missing = exc
    records = store.list_experiments()  # newest first
    if ref == "latest" and records:
        return records[0]
    named = [r for r in records if r.name == ref]
    if named:
        return named[0]
    matches = [r for r in records if r.id.startswith(ref)] if ref else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(f"{escape(r.id)} ({escape(r.name, 40)}, {r.phase.value})" for r in matches[:8])
        more = f" and {len(matches) - 8} more" if len(matches) > 8 else ""
        raise TunelabError(f"ambiguous: {escape(ref)!r} matches {shown}{more}; give more characters")
    known = [r.id for r in records] + [r.name for r in records]
    raise ExperimentNotFound(f"{missing}{did_you_mean(ref, known)}{'; ' + hint if hint else ''}") from None
