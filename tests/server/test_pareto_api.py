"""The REST API of an experiment with several objectives: the Pareto view, the knee as best, one objective refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pareto_trials import two_objectives

import tunelab
from tunelab import hp
from tunelab.storage import KNEE_RULE, SQLiteStorage, knee_trial, pareto_front

OBJECTIVES = {"accuracy": "max", "size": "min"}


@pytest.fixture(scope="module")
def mo_experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("pareto")
    result = tunelab.optimize(
        two_objectives,
        {"x": hp.uniform(0, 1), "w": hp.uniform(0, 2)},
        tuner="random",
        max_trials=16,
        concurrency=2,
        seed=5,
        objectives=OBJECTIVES,
        constraints={"model_mb": "<= 60"},
        storage=str(root / "db.sqlite"),
        experiment_dir=str(root / "exp"),
        failure={"ignore": True},
        verbose=False,
    )
    return root / "db.sqlite", result.experiment_id


def test_the_pareto_view_matches_the_one_rule(mo_experiment: tuple[Path, str], make_client: Callable[..., Any]):
    path, eid = mo_experiment
    client = make_client(path)
    view = client.get(f"/api/experiments/{eid}/pareto").json()
    store = SQLiteStorage(path)
    trials = store.get_trials(eid)
    store.close()
    front = pareto_front(trials, OBJECTIVES)
    knee = knee_trial(trials, OBJECTIVES)
    assert knee is not None
    assert view["objectives"] == OBJECTIVES and view["constraints"] == {"model_mb": "<= 60"}
    assert view["front"] == [t.number for t in front] and view["knee"] == knee.number
    assert view["rule"] == KNEE_RULE
    points = {p["number"]: p for p in view["points"]}
    failed = [t.number for t in trials if t.state.value == "FAILED"]
    assert failed and not set(failed) & set(points)  # a NaN objective failed the trial: not a point
    infeasible = [n for n, p in points.items() if not p["feasible"]]
    assert infeasible, "the seed gives trials over the constraint"
    assert all(not points[n]["on_front"] and points[n]["rank"] is None for n in infeasible)
    assert all(points[n]["violation"] > 0 for n in infeasible)
    assert {n for n, p in points.items() if p["on_front"]} == set(view["front"])
    hv = view["hypervolume"]
    assert hv["values"] == sorted(hv["values"]) and hv["values"][-1] > 0  # never falls
    assert hv["finished"][-1] == sum(p["rank"] is not None for p in points.values())
    assert len(hv["reference"]) == 2
    overview = client.get(f"/api/experiments/{eid}").json()
    assert overview["objectives"] == OBJECTIVES
    assert overview["best"]["number"] == knee.number and overview["best"]["value"] is None
    assert overview["best"]["values"] == pytest.approx(dict(knee.values or {}))
    detail = client.get(f"/api/experiments/{eid}/trials/{knee.number}").json()
    assert detail["values"] == pytest.approx(dict(knee.values or {})) and detail["violation"] == 0
    listed = {e["id"]: e for e in client.get("/api/experiments").json()}
    assert listed[eid]["best_value"] is None  # no single value to show for several objectives


def test_one_objective_has_no_pareto_view(finished: Any, client: Any):
    response = client.get(f"/api/experiments/{finished.experiment_id}/pareto")
    assert response.status_code == 404 and "one objective" in response.json()["detail"]
    assert client.get(f"/api/experiments/{finished.experiment_id}").json()["objectives"] is None


@pytest.mark.parametrize("m", [2, 3])
def test_every_competing_trial_has_its_rank_however_many(m: int) -> None:
    """No cap on the trials ranked (there was one at 200): each competing trial has the sort's rank, 0 on the front."""
    import numpy as np

    from tunelab.pareto import nondominated_ranks
    from tunelab.server._pareto import pareto_view
    from tunelab.storage import TrialRecord, TrialState

    rng = np.random.default_rng(m)
    objectives = {f"f{k}": "min" if k % 2 else "max" for k in range(m)}
    grid = rng.integers(0, 12, size=(450, m)).astype(float)  # ties and duplicates among 450 trials
    trials = [
        TrialRecord(
            "e",
            number,
            TrialState.SUCCEEDED if number % 9 else TrialState.FAILED,
            {"x": float(number)},
            value=float(row[0]),
            values=dict(zip(objectives, map(float, row), strict=True)),
            ended_at=float(number),
        )
        for number, row in enumerate(grid)
    ]
    view = pareto_view(trials, {"objectives": objectives}, origin=0.0)
    assert view is not None
    competing = [t for t in trials if t.state is TrialState.SUCCEEDED]
    losses = [[-v if objectives[k] == "max" else v for k, v in (t.values or {}).items()] for t in competing]
    expected = dict(zip((t.number for t in competing), nondominated_ranks(losses).tolist(), strict=True))
    ranks = {p.number: p.rank for p in view.points}
    assert ranks == expected  # the failed trials have no values to show
    assert {n for n, p in ((p.number, p) for p in view.points) if p.on_front} == {n for n, r in ranks.items() if r == 0}
    assert max(r for r in ranks.values() if r is not None) > 0


@pytest.mark.parametrize("m", [2, 3])
def test_the_hypervolume_curve_is_that_of_the_trials_ended_by_each_mark(m: int) -> None:
    """Marks spread over 450 competing trials in end order (ties in end time by number; failed and
    infeasible ones left out): each value is the hypervolume of the trials ended by then."""
    import numpy as np

    from tunelab.pareto import hypervolume
    from tunelab.server._pareto import MAX_HYPERVOLUME_POINTS, pareto_view
    from tunelab.storage import TrialRecord, TrialState, trial_losses

    rng = np.random.default_rng(10 + m)
    objectives = {f"f{k}": "min" if k % 2 else "max" for k in range(m)}
    grid = np.round(rng.random((500, m)) * 8) / 8  # ties and duplicates
    ends = rng.integers(0, 300, size=500).astype(float)  # not in number order, some equal
    trials = [
        TrialRecord(
            "e",
            number,
            TrialState.FAILED if number % 25 == 3 else TrialState.SUCCEEDED,
            {"x": float(number)},
            values=dict(zip(objectives, map(float, row), strict=True)),
            violation=1.0 if number % 25 == 7 else None,
            ended_at=float(end),
        )
        for number, (row, end) in enumerate(zip(grid, ends, strict=True))
    ]
    view = pareto_view(trials, {"objectives": objectives}, origin=0.0)
    assert view is not None
    curve = view.hypervolume
    by_end = sorted((t for t in trials if trial_losses(t, objectives)), key=lambda t: (t.ended_at, t.number))
    assert len(by_end) == 460 and curve.finished[-1] == 460 and len(curve.finished) <= MAX_HYPERVOLUME_POINTS
    losses = np.asarray([trial_losses(t, objectives) for t in by_end])
    expected = [hypervolume(losses[:k], curve.reference) for k in curve.finished]
    assert curve.values == pytest.approx(expected, rel=1e-12)
    assert curve.numbers == [by_end[k - 1].number for k in curve.finished]
    assert curve.times == [by_end[k - 1].ended_at for k in curve.finished]
