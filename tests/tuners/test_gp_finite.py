"""The GP on finite spaces: tried configurations are ruled out inside the acquisition search, never retried."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tunelab.errors import SearchSpaceExhausted
from tunelab.space import parse_search_space
from tunelab.tuners import GPTuner

SPACE: dict[str, Any] = {
    "depth": {"_type": "randint", "_value": [1, 5]},
    "width": {"_type": "quniform", "_value": [0.0, 1.0, 0.5]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}  # 4 * 3 * 2 = 24 configurations


def _loss(p: dict[str, Any]) -> float:
    return (p["depth"] - 3) ** 2 + (p["width"] - 0.5) ** 2 + (p["act"] == "tanh")


class CountingGP(GPTuner):
    """Counts the proposals the base class asks for (a repeat would be asked again)."""

    proposals = 0

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        self.proposals += 1
        return super()._propose(rng)


@pytest.mark.parametrize("batch", [1, 4])
def test_filling_a_finite_space_asks_one_proposal_per_suggestion(batch: int) -> None:
    tuner = CountingGP(parse_search_space(SPACE), seed=0, n_initial_points=5, n_candidates=200, n_restarts=2)
    seen = set()
    while True:
        got = tuner.suggest_batch(batch)
        for trial_id, params in got.trials:
            seen.add((params["depth"], params["width"], params["act"]))
            tuner.observe(trial_id, _loss(params))
        if got.exhausted:
            break
    assert len(seen) == tuner.n_suggested == 24
    # The first suggestion is a prior draw (Tuner.first_from_prior); no proposal was a tried one, to the very last.
    assert tuner.proposals == 23
    with pytest.raises(SearchSpaceExhausted, match="all 24 configurations"):
        tuner.suggest()


def test_the_last_untried_configuration_is_found_when_random_candidates_miss_it() -> None:
    tuner = CountingGP(parse_search_space(SPACE), seed=1, n_initial_points=5, n_candidates=20, n_restarts=0)
    for params in list(parse_search_space(SPACE).grid())[:-1]:
        tuner.restore(tuner.n_suggested, params, _loss(params))
    trial_id, params = tuner.suggest()
    assert (params["depth"], params["width"], params["act"]) == (4, 1.0, "tanh")
    assert tuner.proposals == 1
