"""A restored trial whose params are not in the tuner's space (NNI's update_search_space) informs nothing."""

from __future__ import annotations

import pytest

from tunelab import create_tuner

NEW = {
    "x": {"_type": "uniform", "_value": [0, 0.5]},
    "y": {"_type": "choice", "_value": ["a", "c"]},
    "z": {"_type": "randint", "_value": [0, 3]},
}


@pytest.mark.parametrize("name", ["tpe", "gp", "smac", "anneal", "cmaes", "evolution", "random"])
def test_trials_of_an_earlier_space_count_but_never_reach_the_model(name):
    tuner = create_tuner(name, NEW, mode="max", seed=0)
    for number in range(10):  # the old space: no z, y in (a, b), x up to 1
        tuner.restore(number, {"x": 0.1 * number, "y": "ab"[number % 2]}, float(number))
    tuner.restore(10, {"x": 0.9, "y": "b"}, pending=True)  # interrupted: it runs again, as it was
    tuner.restore(11, {"x": 0.2, "y": "c", "z": 1}, 3.0)
    assert [o.trial_id for o in tuner.history] == [11] and tuner.pending == {}
    suggested = [tuner.suggest() for _ in range(3)]
    assert [number for number, _ in suggested] == [12, 13, 14]
    tuner.observe(10, 5.0)  # its result arrives: accepted, and ignored
    for number, params in suggested:
        assert tuner.space.contains(params)
        tuner.observe(number, 1.0)
    assert [o.trial_id for o in tuner.history] == [11, 12, 13, 14]
    tuner.restore(15, {"x": 0.9, "y": "b"}, pending=True)
    tuner.forget(15)  # canceled before it ran again
    with pytest.raises(Exception, match="not pending"):
        tuner.observe(15, 1.0)
