"""How a :class:`~tunelab.engine.Result` shows itself: a short summary for ``print(result)``,
a repr without the records, and the trials as a pandas DataFrame (Optuna's shape)."""

from __future__ import annotations

import datetime as _dt
import importlib
import json
from collections.abc import Sequence
from typing import Any

from tunelab.errors import TunelabError
from tunelab.storage import TrialRecord, TrialState


def counts(trials: Sequence[TrialRecord]) -> dict[str, int]:
    """How many trials are in each state (states no trial is in are left out)."""
    tally = {state.value: sum(t.state == state for t in trials) for state in TrialState}
    return {state: count for state, count in tally.items() if count}


def short_repr(result: Any) -> str:
    """``Result(experiment_id=..., phase=DONE, best_value=0.12, trials=20)``: no records."""
    best = "None" if result.best_value is None else f"{result.best_value:.6g}"
    return (
        f"Result(experiment_id={result.experiment_id!r}, phase={result.phase.value}, best_value={best}, "
        f"trials={len(result.trials)})"
    )


def summary(result: Any) -> str:
    """What ``print(result)`` shows: how it ended, the best value and parameters, counts, where to look next."""
    message = f": {result.message}" if result.message else ""
    lines = [f"experiment {result.experiment_id} ended {result.phase.value}{message}"]
    best = result.best_trial
    if best is None:
        lines.append("  best:   none (no trial succeeded)")
    else:
        params = json.dumps(result.best_params, default=str)
        if len(params) > 300:
            params = params[:299] + "…"
        values = getattr(result, "best_values", None)
        if result.best_value is not None:
            shown = f"{result.best_value:.6g}"
        elif values:
            shown = ", ".join(f"{k} {'-' if v is None else format(v, '.6g')}" for k, v in values.items())
        else:
            shown = "-"
        lines.append(f"  best:   {shown} (trial {best.number}) {params}")
    tally = ", ".join(f"{state.lower()} {count}" for state, count in counts(result.trials).items())
    lines.append(f"  trials: {len(result.trials)}" + (f" ({tally})" if tally else ""))
    lines.append(f"  more:   result.trials_dataframe(), `tunelab trials {result.experiment_id}`")
    return "\n".join(lines)


def trials_dataframe(trials: Sequence[TrialRecord]) -> Any:
    """One row per trial, the columns of Optuna's ``trials_dataframe()``: ``number``, ``value``,
    ``datetime_start``, ``datetime_complete``, ``duration``, ``params_<name>`` (nested ones
    named as in ``tunelab trials``: ``params_opt/beta``, ``params_model=rf/max_depth``),
    ``user_attrs_<metric>`` for the secondary metrics, then ``state`` (tunelab's state names:
    SUCCEEDED where Optuna says COMPLETE), plus ``budget`` when a scheduler gave budgets. With
    several objectives ``value`` becomes ``values_<objective>``, as in Optuna's frame of a study
    with metric names.

    Needs pandas (``pip install pandas``)."""
    try:
        pandas: Any = importlib.import_module("pandas")
    except ImportError:
        raise TunelabError("trials_dataframe() needs pandas: pip install pandas") from None
    from tunelab.server._names import flatten_params

    def when(stamp: float | None) -> Any:
        return pandas.NaT if stamp is None else _dt.datetime.fromtimestamp(stamp)

    objectives = list(dict.fromkeys(str(name) for t in trials for name in (t.values or {})))
    flats = [flatten_params(t.params) for t in trials]
    params = list(dict.fromkeys(name for flat in flats for name in flat))
    metrics = list(dict.fromkeys(str(name) for t in trials for name in t.metrics))
    budgets = any(t.budget is not None for t in trials)
    rows = []
    for t, flat in zip(trials, flats, strict=True):
        scores = {f"values_{n}": (t.values or {}).get(n) for n in objectives} if objectives else {"value": t.value}
        row: dict[str, Any] = {
            "number": t.number,
            **scores,
            "datetime_start": when(t.started_at),
            "datetime_complete": when(t.ended_at),
            "duration": float("nan") if t.duration is None else t.duration,
        }
        row.update({f"params_{name}": flat.get(name) for name in params})
        row.update({f"user_attrs_{name}": t.metrics.get(name) for name in metrics})
        if budgets:
            row["budget"] = t.budget
        row["state"] = t.state.value
        rows.append(row)
    scored = [f"values_{n}" for n in objectives] if objectives else ["value"]
    columns = ["number", *scored, "datetime_start", "datetime_complete", "duration"]
    columns += [f"params_{n}" for n in params] + [f"user_attrs_{n}" for n in metrics]
    columns += ["budget"] if budgets else []
    frame = pandas.DataFrame(rows, columns=[*columns, "state"])
    for column in ("datetime_start", "datetime_complete"):
        frame[column] = pandas.to_datetime(frame[column])
    frame["duration"] = pandas.to_timedelta(frame["duration"].astype(float), unit="s")
    for column in scored:
        frame[column] = frame[column].astype(float)
    return frame
