"""``TuneSearchCV``: scikit-learn's hyperparameter search, driven by a tunelab tuner.

It is a :class:`sklearn.model_selection.BaseSearchCV`, so everything scikit-learn users
rely on behaves as in ``RandomizedSearchCV``: ``fit``/``predict``/``score``,
``best_params_``, ``best_score_``, ``best_estimator_``, ``cv_results_``, ``refit``
(including multi-metric scoring), ``n_jobs``, ``error_score`` and use inside a
``Pipeline``. The difference is what is tried: the tuner proposes each batch of
candidates from the scores of the previous ones (ask/tell), and the cross-validation of
a batch runs through scikit-learn's own parallel machinery. Non-adaptive tuners
(``random``, ``grid``, ``batch``) propose every candidate at once, exactly like
``RandomizedSearchCV``.

>>> from tunelab import hp
>>> search = TuneSearchCV(SVC(), {"C": hp.loguniform(1e-2, 1e2), "kernel": ["rbf", "poly"]}, n_trials=30)
>>> search.fit(X, y).best_params_
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from tunelab.errors import SearchSpaceExhausted
from tunelab.integrations._space import sklearn_space
from tunelab.tuners import create_tuner, resolve_tuner_name, tuner_arguments

__all__ = ["TuneSearchCV"]

#: Tuners that do not learn from results: all their candidates go out in one batch.
_NON_ADAPTIVE = frozenset({"random", "grid", "batch"})


class TuneSearchCV(BaseSearchCV):
    """Search ``param_distributions`` with a tunelab tuner, scoring each candidate by cross-validation.

    Parameters
    ----------
    estimator : estimator object
        The estimator (or pipeline) to tune; it is cloned for every fit.
    param_distributions : dict
        Parameter name to a list of values, a ``tunelab.hp`` domain, an NNI
        ``{"_type", "_value"}`` entry or a scipy.stats ``uniform``/``loguniform``/``randint``.
    n_trials : int, default=10
        How many candidates to evaluate (fewer if a finite space runs out first).
    tuner : str, default="auto"
        Any tunelab tuner name or alias (``"tpe"``, ``"gp"``, ``"random"``, ``"bayesopt"``...).
    tuner_args : dict, default=None
        Keyword arguments of the tuner; misspelled ones are errors.
    batch_size : int, default=None
        Candidates proposed before the tuner sees scores again. Default: every candidate
        for non-adaptive tuners, else ``max(2, effective n_jobs)``.
    random_state : int, RandomState instance or None, default=None
        Seeds the tuner: the same seed proposes the same candidates.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`sklearn.model_selection.RandomizedSearchCV`. The tuner maximizes the
        mean test score of the refit metric (scikit-learn scores are "greater is better").

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, scorer_,
    n_splits_, refit_time_, multimetric_ : as in ``RandomizedSearchCV``.
    tuner_name_ : str
        The algorithm that proposed the candidates (what ``"auto"`` chose, if it was given).
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict],
        "n_trials": [Interval(numbers.Integral, 1, None, closed="left")],
        "tuner": [str],
        "tuner_args": [dict, None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        param_distributions: dict[str, Any],
        *,
        n_trials: int = 10,
        tuner: str = "auto",
        tuner_args: dict[str, Any] | None = None,
        batch_size: int | None = None,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        random_state: Any = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
    ) -> None:
        # scikit-learn's convention: store the arguments as given; fit() validates them.
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.tuner = tuner
        self.tuner_args = tuner_args
        self.batch_size = batch_size
        self.random_state = random_state
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )

    def _make_tuner(self) -> Any:
        space = sklearn_space(self.param_distributions)
        name = resolve_tuner_name(self.tuner)
        args = dict(self.tuner_args or {})
        accepted = tuner_arguments(name)
        if "max_trials" in accepted:
            args.setdefault("max_trials", self.n_trials)
        if "concurrency" in accepted:
            args.setdefault("concurrency", self._batch_size(name))
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        return create_tuner(name, space, mode="max", seed=seed, **args)

    def _batch_size(self, name: str) -> int:
        if self.batch_size is not None:
            return int(self.batch_size)
        if name in _NON_ADAPTIVE:
            return int(self.n_trials)
        return max(2, effective_n_jobs(self.n_jobs))

    def _score_key(self) -> str:
        if callable(self.refit) or self.refit is True or self.refit is False:
            # Single metric, or multi-metric without a named refit metric: "score" or the first scorer.
            scorers = self.scoring if isinstance(self.scoring, dict) else None
            if isinstance(self.scoring, (list, tuple)) and self.scoring:
                return f"mean_test_{self.scoring[0]}"
            if scorers:
                return f"mean_test_{next(iter(scorers))}"
            return "mean_test_score"
        return f"mean_test_{self.refit}"

    def _run_search(self, evaluate_candidates: Any) -> None:
        tuner = self._make_tuner()
        self.tuner_name_ = str(getattr(tuner, "chosen", None) or resolve_tuner_name(self.tuner))
        batch = self._batch_size(resolve_tuner_name(self.tuner))
        key = self._score_key()
        remaining = int(self.n_trials)
        while remaining > 0:
            ids: list[int] = []
            candidates: list[dict[str, Any]] = []
            try:
                for _ in range(min(batch, remaining)):
                    trial_id, params = tuner.suggest()
                    ids.append(trial_id)
                    candidates.append(dict(params))
            except SearchSpaceExhausted:
                remaining = len(candidates)
            if not candidates:
                break
            remaining -= len(candidates)
            results = evaluate_candidates(candidates)
            scores = results[key][-len(candidates) :]
            for trial_id, score in zip(ids, scores, strict=True):
                value = float(score)
                tuner.observe(trial_id, value if math.isfinite(value) else None)
